/* amor-result-private.h: building an AmorResult
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "amor-result.h"

G_BEGIN_DECLS

/* Everything a plan holds; AmorResult is an immutable wrapper of it. */
typedef struct
{
  guint64       n_items;
  guint         n_samples;
  double        mean;                    /* seconds per item */
  double        cv;
  gboolean      is_heterogeneous;
  guint         n_cpus;                  /* usable CPUs of the system planned for */
  guint         n_physical_cores;
  guint64       available_memory;
  double        fork_join_cost;          /* the system's measured costs */
  double        dispatch_cost;
  double        min_speedup;

  guint         n_workers;
  guint64       chunk_size;
  guint64       base_chunk_size;
  double        chunk_factor;
  AmorSchedule  schedule;
  double        estimated_speedup;
  double        estimated_serial_time;
  double        estimated_parallel_time;
  double        fork_join_overhead;      /* in the chosen plan, seconds */
  double        dispatch_overhead;
  double        imbalance_overhead;

  char         *reason;
  GStrv         warnings;
  GStrv         constraints;
} AmorPlan;

void         amor_plan_clear          (AmorPlan       *plan);

/* Takes the strings of @plan (leaving it cleared). */
AmorResult  *amor_result_new_take_plan (AmorPlan      *plan);

const AmorPlan *amor_result_peek_plan (AmorResult     *self);

/* json <-> plan (amor-result-json.c) */
char        *amor_plan_to_json        (const AmorPlan *plan);
gboolean     amor_plan_from_json      (const char     *json,
                                       AmorPlan       *plan,
                                       GError        **error);

G_END_DECLS
