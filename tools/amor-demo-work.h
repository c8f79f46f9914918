/* amor-demo-work.h: the workloads of `amorsize demo`
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <amorsize/amorsize.h>

G_BEGIN_DECLS

/* One demo scenario: n_items items whose sizes are drawn, from a fixed seed,
 * uniformly in [min_size, max_size], and a work callback whose cost is
 * proportional to the item's size (or, for the mixed workload, to its
 * square). Every call stores a non-zero checksum of the item in results[]
 * and counts the call in visits[], so a run can be checked: every item done
 * exactly once, with the same result as the serial loop. */
typedef struct
{
  const char   *name;         /* "documents" */
  const char   *title;        /* "Documents" */
  const char   *description;  /* what one item does */
  const char   *items;        /* "documents of 100–5000 words" */
  guint         min_size;
  guint         max_size;
  guint64       n_items;
  guint32      *sizes;        /* n_items sizes */
  guint64      *results;      /* n_items checksums, 0 = not done */
  guint        *visits;       /* n_items call counts */
  AmorWorkFunc  func;         /* user_data: the workload */

  /* Read-only inputs of the work, built with the workload. */
  char         *text;         /* documents: the corpus they are slices of */
  guint32      *word_starts;  /* documents: offsets of the corpus words */
  guint32      *pixels;       /* images: RGBA, every image is a prefix */
} AmorDemoWorkload;

typedef enum
{
  AMOR_DEMO_DOCUMENTS,
  AMOR_DEMO_IMAGES,
  AMOR_DEMO_MIXED,
  AMOR_DEMO_N_WORKLOADS
} AmorDemoWorkloadKind;

/* @scale divides the item counts (1 = full demo, 10 = --quick). */
AmorDemoWorkload *amor_demo_workload_new   (AmorDemoWorkloadKind  kind,
                                            guint                 scale);
void              amor_demo_workload_free  (AmorDemoWorkload     *workload);

/* Zeroes results[] and visits[] before a run. */
void              amor_demo_workload_reset (AmorDemoWorkload     *workload);

/* Copies results[] into a new array, to compare later runs with. */
guint64          *amor_demo_workload_dup_results (AmorDemoWorkload *workload);

/* TRUE when every item was called exactly once and its checksum equals
 * @expected (the serial loop's); otherwise FALSE with a message naming the
 * first wrong item. */
gboolean          amor_demo_workload_check (AmorDemoWorkload     *workload,
                                            const guint64        *expected,
                                            GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AmorDemoWorkload, amor_demo_workload_free)

G_END_DECLS
