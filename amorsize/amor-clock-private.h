/* amor-clock-private.h: the monotonic nanosecond clock
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Nanoseconds on CLOCK_MONOTONIC; only differences mean anything. */
gint64 amor_clock_now_ns (void);

/* Seconds between two amor_clock_now_ns() readings. */
static inline double
amor_clock_seconds_since (gint64 start_ns)
{
  return (double) (amor_clock_now_ns () - start_ns) / 1e9;
}

G_END_DECLS
