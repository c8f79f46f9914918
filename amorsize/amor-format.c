/* amor-format.c: durations for people
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "amor-format-private.h"

char *
amor_format_duration (double seconds)
{
  static const struct { double scale; const char *unit; } units[] = {
    { 1e9, "ns" }, { 1e6, "µs" }, { 1e3, "ms" }, { 1.0, "s" },
  };
  double a = fabs (seconds);

  if (a == 0.0 || !isfinite (seconds))
    return g_strdup_printf ("%g s", seconds);

  for (guint i = 0; i < G_N_ELEMENTS (units) - 1; i++)
    {
      /* Rounded to three digits first: 999.9999 µs is "1 ms". */
      char rounded[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (rounded, sizeof rounded, "%.3g", a * units[i].scale);
      if (g_ascii_strtod (rounded, NULL) < 1e3)
        return g_strdup_printf ("%.3g %s", seconds * units[i].scale, units[i].unit);
    }
  return g_strdup_printf ("%.3g s", seconds);
}
