/* amor-system.h: what this machine offers
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

#define AMOR_TYPE_SYSTEM (amor_system_get_type ())

AMOR_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AmorSystem, amor_system, AMOR, SYSTEM, GObject)

AMOR_AVAILABLE_IN_ALL
AmorSystem *amor_system_get_default        (void);
AMOR_AVAILABLE_IN_ALL
AmorSystem *amor_system_new                (void);
AMOR_AVAILABLE_IN_ALL
AmorSystem *amor_system_new_custom         (guint       n_cpus,
                                            guint       n_physical_cores,
                                            guint64     available_memory,
                                            double      fork_join_cost,
                                            double      dispatch_cost);
AMOR_AVAILABLE_IN_ALL
guint       amor_system_get_n_cpus           (AmorSystem *self);
AMOR_AVAILABLE_IN_ALL
guint       amor_system_get_n_physical_cores (AmorSystem *self);
AMOR_AVAILABLE_IN_ALL
guint64     amor_system_get_available_memory (AmorSystem *self);
AMOR_AVAILABLE_IN_ALL
double      amor_system_get_fork_join_cost   (AmorSystem *self);
AMOR_AVAILABLE_IN_ALL
double      amor_system_get_dispatch_cost    (AmorSystem *self);

G_END_DECLS
