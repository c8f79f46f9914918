/* amor-format-private.h: durations for people
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @seconds with three significant digits in the unit that keeps it between
 * 1 and 999: "400 ns", "12.3 µs", "1 ms" (never "1e+03 µs"). */
char *amor_format_duration (double seconds);

G_END_DECLS
