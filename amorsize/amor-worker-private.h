/* amor-worker-private.h: what the pool tells a chunk callback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sets the deadline of the chunk callback about to run on this thread
 * (amor_clock_now_ns()) that amor_worker_get_time_left() reads, or clears
 * it (NULL). @deadline_ns must outlive the call. */
void amor_worker_set_deadline (const gint64 *deadline_ns);

G_END_DECLS
