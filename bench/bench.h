/* bench.h: what the C benchmark and its C++ (oneTBB) peer share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The work of one item; the same signature as AmorWorkFunc, so every
 * contender calls exactly the same machine code through the same kind of
 * pointer. */
typedef gboolean (*BenchItemFunc) (guint64   index,
                                   gpointer  user_data,
                                   GError  **error);

/* oneTBB peer (bench-tbb.cpp): a task arena of @n_threads threads, and a
 * tbb::parallel_for over [0, @n_items) with the auto_partitioner. */
void bench_tbb_init     (guint          n_threads);
void bench_tbb_run      (guint64        n_items,
                         BenchItemFunc  func,
                         gpointer       user_data);
void bench_tbb_shutdown (void);

G_END_DECLS
