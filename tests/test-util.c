/* test-util.c: helpers shared by the C test suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "test-util.h"

#include "amorsize/amor-result-private.h"

AmorResult *
amor_test_hand_plan (guint        n_workers,
                     guint64      chunk_size,
                     AmorSchedule schedule,
                     guint64      n_items,
                     double       mean)
{
  AmorPlan plan = { 0 };

  plan.n_items = n_items;
  plan.n_cpus = n_workers;
  plan.n_physical_cores = n_workers;
  plan.mean = mean;
  plan.min_speedup = 1.0;
  plan.n_workers = n_workers;
  plan.chunk_size = chunk_size;
  plan.base_chunk_size = chunk_size;
  plan.chunk_factor = 1.0;
  plan.schedule = schedule;
  plan.estimated_speedup = n_workers;
  plan.estimated_serial_time = mean * (double) n_items;
  plan.estimated_parallel_time = mean * (double) n_items / n_workers;
  plan.reason = g_strdup ("made by hand");

  return amor_result_new_take_plan (&plan);
}
