/* amor-clock.c: the monotonic nanosecond clock
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <time.h>

#include "amor-clock-private.h"

gint64
amor_clock_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}
