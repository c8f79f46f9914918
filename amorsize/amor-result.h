/* amor-result.h: an immutable parallelisation plan
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AMORSIZE_INSIDE) && !defined(AMORSIZE_COMPILATION)
#error "Only <amorsize/amorsize.h> can be included directly."
#endif

#include <glib-object.h>
#include <amorsize/amor-version-macros.h>

G_BEGIN_DECLS

/**
 * AmorSchedule:
 * @AMOR_SCHEDULE_SERIAL: run every item in order on the calling thread
 * @AMOR_SCHEDULE_FIXED: workers take chunks of exactly
 *   [property@Amor.Result:chunk-size] items from a shared counter (the chunk
 *   size to pass to a pool of your own)
 * @AMOR_SCHEDULE_GUIDED: workers take chunks that start large (a share of
 *   the remaining items) and shrink to [property@Amor.Result:chunk-size], so
 *   few chunks are handed out and the end stays balanced
 *
 * How the items of a parallel plan are handed to the workers.
 *
 * Since: 0.1
 */
typedef enum {
  AMOR_SCHEDULE_SERIAL,
  AMOR_SCHEDULE_FIXED,
  AMOR_SCHEDULE_GUIDED,
} AmorSchedule;

#define AMOR_TYPE_RESULT (amor_result_get_type ())

AMOR_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AmorResult, amor_result, AMOR, RESULT, GObject)

AMOR_AVAILABLE_IN_ALL
AmorResult          *amor_result_new_from_json               (const char  *json,
                                                              GError     **error);
AMOR_AVAILABLE_IN_ALL
char                *amor_result_to_json                     (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
char                *amor_result_explain                     (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
gboolean             amor_result_is_parallel                 (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
guint                amor_result_get_n_workers               (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
guint64              amor_result_get_chunk_size              (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
guint64              amor_result_get_base_chunk_size         (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_chunk_factor            (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
AmorSchedule         amor_result_get_schedule                (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_estimated_speedup       (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_estimated_serial_time   (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_estimated_parallel_time (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_fork_join_overhead      (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_dispatch_overhead       (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_imbalance_overhead      (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_mean                    (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
double               amor_result_get_cv                      (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
gboolean             amor_result_get_is_heterogeneous        (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
guint64              amor_result_get_n_items                 (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
guint                amor_result_get_n_samples               (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
guint                amor_result_get_n_cpus                  (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
const char          *amor_result_get_reason                  (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
const char * const  *amor_result_get_warnings                (AmorResult  *self);
AMOR_AVAILABLE_IN_ALL
const char * const  *amor_result_get_constraints             (AmorResult  *self);

G_END_DECLS
