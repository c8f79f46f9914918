/* amor-optimizer.h: decide how to parallelise a map
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AMORSIZE_INSIDE) && !defined(AMORSIZE_COMPILATION)
#error "Only <amorsize/amorsize.h> can be included directly."
#endif

#include <glib-object.h>
#include <amorsize/amor-version-macros.h>
#include <amorsize/amor-types.h>
#include <amorsize/amor-system.h>
#include <amorsize/amor-sampler.h>
#include <amorsize/amor-result.h>

G_BEGIN_DECLS

/**
 * AMOR_DEFAULT_MIN_SPEEDUP:
 *
 * The default of [property@Amor.Optimizer:min-speedup]: a plan must promise
 * at least this speedup to be parallel.
 *
 * Since: 0.1
 */
#define AMOR_DEFAULT_MIN_SPEEDUP 1.2

/**
 * AMOR_DEFAULT_TARGET_CHUNK_DURATION:
 *
 * The default of [property@Amor.Optimizer:target-chunk-duration], in seconds.
 *
 * Since: 0.1
 */
#define AMOR_DEFAULT_TARGET_CHUNK_DURATION 0.001

#define AMOR_TYPE_OPTIMIZER (amor_optimizer_get_type ())

AMOR_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AmorOptimizer, amor_optimizer, AMOR, OPTIMIZER, GObject)

AMOR_AVAILABLE_IN_ALL
AmorOptimizer *amor_optimizer_new                       (void);
AMOR_AVAILABLE_IN_ALL
AmorResult    *amor_optimizer_plan                      (AmorOptimizer  *self,
                                                         AmorSampler    *sampler,
                                                         guint64         n_items);
AMOR_AVAILABLE_IN_ALL
AmorResult    *amor_optimizer_optimize                  (AmorOptimizer  *self,
                                                         guint64         n_items,
                                                         AmorWorkFunc    func,
                                                         gpointer        user_data,
                                                         GError        **error);
AMOR_AVAILABLE_IN_ALL
AmorSampler   *amor_optimizer_create_sampler            (AmorOptimizer  *self);
AMOR_AVAILABLE_IN_ALL
AmorSystem    *amor_optimizer_get_system                (AmorOptimizer  *self);
AMOR_AVAILABLE_IN_ALL
void           amor_optimizer_set_system                (AmorOptimizer  *self,
                                                         AmorSystem     *system);
AMOR_AVAILABLE_IN_ALL
guint          amor_optimizer_get_sample_size           (AmorOptimizer  *self);
AMOR_AVAILABLE_IN_ALL
void           amor_optimizer_set_sample_size           (AmorOptimizer  *self,
                                                         guint           sample_size);
AMOR_AVAILABLE_IN_ALL
double         amor_optimizer_get_min_speedup           (AmorOptimizer  *self);
AMOR_AVAILABLE_IN_ALL
void           amor_optimizer_set_min_speedup           (AmorOptimizer  *self,
                                                         double          min_speedup);
AMOR_AVAILABLE_IN_ALL
guint          amor_optimizer_get_max_workers           (AmorOptimizer  *self);
AMOR_AVAILABLE_IN_ALL
void           amor_optimizer_set_max_workers           (AmorOptimizer  *self,
                                                         guint           max_workers);
AMOR_AVAILABLE_IN_ALL
double         amor_optimizer_get_target_chunk_duration (AmorOptimizer  *self);
AMOR_AVAILABLE_IN_ALL
void           amor_optimizer_set_target_chunk_duration (AmorOptimizer  *self,
                                                         double          seconds);
AMOR_AVAILABLE_IN_ALL
guint64        amor_optimizer_get_item_memory           (AmorOptimizer  *self);
AMOR_AVAILABLE_IN_ALL
void           amor_optimizer_set_item_memory           (AmorOptimizer  *self,
                                                         guint64         bytes);
AMOR_AVAILABLE_IN_ALL
AmorSchedule   amor_optimizer_get_schedule              (AmorOptimizer  *self);
AMOR_AVAILABLE_IN_ALL
void           amor_optimizer_set_schedule              (AmorOptimizer  *self,
                                                         AmorSchedule    schedule);

G_END_DECLS
