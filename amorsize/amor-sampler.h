/* amor-sampler.h: time the work on a few items
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

G_BEGIN_DECLS

#define AMOR_TYPE_SAMPLER (amor_sampler_get_type ())

AMOR_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AmorSampler, amor_sampler, AMOR, SAMPLER, GObject)

AMOR_AVAILABLE_IN_ALL
AmorSampler   *amor_sampler_new                 (void);
AMOR_AVAILABLE_IN_ALL
void           amor_sampler_add_duration        (AmorSampler   *self,
                                                 double         seconds);
AMOR_AVAILABLE_IN_ALL
gboolean       amor_sampler_run                 (AmorSampler   *self,
                                                 guint64        n_items,
                                                 AmorWorkFunc   func,
                                                 gpointer       user_data,
                                                 GError       **error);
AMOR_AVAILABLE_IN_ALL
void           amor_sampler_reset               (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
guint          amor_sampler_get_sample_size     (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
void           amor_sampler_set_sample_size     (AmorSampler   *self,
                                                 guint          sample_size);
AMOR_AVAILABLE_IN_ALL
guint          amor_sampler_get_max_sample_size (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
void           amor_sampler_set_max_sample_size (AmorSampler   *self,
                                                 guint          max_sample_size);
AMOR_AVAILABLE_IN_ALL
double         amor_sampler_get_time_budget     (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
void           amor_sampler_set_time_budget     (AmorSampler   *self,
                                                 double         seconds);
AMOR_AVAILABLE_IN_ALL
guint          amor_sampler_get_n_samples       (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
double         amor_sampler_get_mean            (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
double         amor_sampler_get_variance        (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
double         amor_sampler_get_stddev          (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
double         amor_sampler_get_cv              (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
double         amor_sampler_get_min             (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
double         amor_sampler_get_max             (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
double         amor_sampler_get_total           (AmorSampler   *self);
AMOR_AVAILABLE_IN_ALL
gboolean       amor_sampler_get_is_heterogeneous (AmorSampler  *self);
AMOR_AVAILABLE_IN_ALL
const guint64 *amor_sampler_get_sampled_indices (AmorSampler   *self,
                                                 gsize         *n_indices);
AMOR_AVAILABLE_IN_ALL
gboolean       amor_sampler_was_sampled         (AmorSampler   *self,
                                                 guint64        index);

G_END_DECLS
