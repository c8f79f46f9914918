/* amor-profile-private.h: what items cost along the input
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The durations of a map's items timed so far, summed in buckets of
 * neighbouring items. Where the cost follows the place in the input (a
 * problem that grows along it, a sorted input, a dear region), the items
 * around a range tell what it will take better than the mean of all; where
 * it does not, they only add noise, and the mean is used. */
typedef struct _AmorProfile AmorProfile;

AmorProfile *amor_profile_new         (guint64      n_items);
void         amor_profile_free        (AmorProfile *profile);
void         amor_profile_add         (AmorProfile *profile,
                                       guint64      index,
                                       double       seconds);
double       amor_profile_get_mean    (AmorProfile *profile);
double       amor_profile_get_trend   (AmorProfile *profile);
gboolean     amor_profile_knows_trend (AmorProfile *profile);
gboolean     amor_profile_follows_place (AmorProfile *profile);
double       amor_profile_estimate    (AmorProfile *profile,
                                       guint64      first,
                                       guint64      end);
guint64      amor_profile_get_timed_end (AmorProfile *profile);
double       amor_profile_get_max     (AmorProfile *profile,
                                       guint64      first,
                                       guint64      end);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AmorProfile, amor_profile_free)

G_END_DECLS
