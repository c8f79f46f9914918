/* amor-debug-private.h: verbose output that costs nothing when off
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* g_debug() formats its message even when G_MESSAGES_DEBUG drops it; the
 * sampler and the optimizer log on every call, so formatting their floats
 * would cost more than a small map's work. AMOR_DEBUG formats only what is
 * shown. */
#define AMOR_DEBUG(...)                                                      \
  G_STMT_START {                                                             \
    if (G_UNLIKELY (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG,     \
                                                      G_LOG_DOMAIN)))        \
      g_debug (__VA_ARGS__);                                                 \
  } G_STMT_END

G_END_DECLS
