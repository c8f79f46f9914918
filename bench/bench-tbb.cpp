/* bench-tbb.cpp: the oneTBB peer of the benchmark
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tbb::parallel_for over a blocked_range with the auto_partitioner (the
 * default a TBB user gets), run inside a task arena limited to the same
 * number of threads as every other contender.
 */

#include "bench.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

static tbb::task_arena *arena;

void
bench_tbb_init (guint n_threads)
{
  if (arena == nullptr)
    {
      arena = new tbb::task_arena ((int) n_threads);
      arena->initialize ();
    }
}

void
bench_tbb_run (guint64       n_items,
               BenchItemFunc func,
               gpointer      user_data)
{
  arena->execute ([&] {
    tbb::parallel_for (tbb::blocked_range<guint64> (0, n_items),
                       [&] (const tbb::blocked_range<guint64> &range) {
                         for (guint64 i = range.begin (); i != range.end (); i++)
                           func (i, user_data, nullptr);
                       },
                       tbb::auto_partitioner ());
  });
}

void
bench_tbb_shutdown (void)
{
  delete arena;
  arena = nullptr;
}
