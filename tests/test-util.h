/* test-util.h: helpers shared by the C test suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <amorsize/amorsize.h>

G_BEGIN_DECLS

/* A plan made by hand, as a caller tuning one would: @n_workers workers,
 * chunks of @chunk_size, for @n_items items of @mean seconds each. */
AmorResult *amor_test_hand_plan (guint        n_workers,
                                 guint64      chunk_size,
                                 AmorSchedule schedule,
                                 guint64      n_items,
                                 double       mean);

G_END_DECLS
