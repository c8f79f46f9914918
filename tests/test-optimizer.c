/* test-optimizer.c: AmorOptimizer decisions on the pure planning path
 *
 * Every plan here is made from added durations and a custom AmorSystem, so
 * nothing depends on this machine or its load.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include <amorsize/amorsize.h>

#include "amorsize/amor-optimizer-private.h"

#define GiB (G_GUINT64_CONSTANT (1) << 30)

static AmorOptimizer *
optimizer_for (guint  n_cpus,
               double fork_join_cost,
               double dispatch_cost)
{
  AmorOptimizer *optimizer = amor_optimizer_new ();
  g_autoptr(AmorSystem) system =
    amor_system_new_custom (n_cpus, n_cpus, 16 * GiB, fork_join_cost, dispatch_cost);

  amor_optimizer_set_system (optimizer, system);
  return optimizer;
}

static AmorSampler *
sampler_with (const double *durations,
              guint         n)
{
  AmorSampler *sampler = amor_sampler_new ();

  for (guint i = 0; i < n; i++)
    amor_sampler_add_duration (sampler, durations[i]);
  return sampler;
}

/* Durations with mean @mean and population CV exactly @cv. For cv <= 1:
 * equal counts of mean·(1 − cv) and mean·(1 + cv). Above: a fraction p of
 * items at mean/p and the rest at 0, with cv² = (1 − p)/p. */
static AmorSampler *
sampler_with_cv (double mean,
                 double cv)
{
  AmorSampler *sampler = amor_sampler_new ();

  if (cv <= 1.0)
    {
      for (guint i = 0; i < 10; i++)
        {
          amor_sampler_add_duration (sampler, mean * (1.0 - cv));
          amor_sampler_add_duration (sampler, mean * (1.0 + cv));
        }
    }
  else
    {
      /* p = 1 / (1 + cv²): cv 1.5 → 4 in 13, cv 3 → 1 in 10 */
      guint total = cv == 1.5 ? 13 : 10;
      guint busy = cv == 1.5 ? 4 : 1;
      g_assert_true (cv == 1.5 || cv == 3.0);
      for (guint i = 0; i < total; i++)
        amor_sampler_add_duration (sampler, i < busy ? mean * total / busy : 0.0);
    }

  g_assert_cmpfloat_with_epsilon (amor_sampler_get_cv (sampler), cv, 1e-9);
  g_assert_cmpfloat_with_epsilon (amor_sampler_get_mean (sampler), mean, mean * 1e-9);
  return sampler;
}

/* The seed's table: CV → chunk multiplier. Base chunk 1000 (1 s target, items
 * of 1 ms), a million items, free threads: the chunk is the rule alone. */
static void
test_heterogeneity_table (void)
{
  static const struct { double cv; double factor; gboolean heterogeneous; } table[] = {
    { 0.0, 1.00, FALSE },
    { 0.3, 1.00, FALSE },
    { 0.5, 1.00, FALSE },
    { 0.6, 0.70, TRUE },
    { 1.0, 0.50, TRUE },
    { 1.5, 0.25, TRUE },
    { 3.0, 0.25, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autoptr(AmorOptimizer) optimizer = optimizer_for (8, 0.0, 0.0);
      g_autoptr(AmorSampler) sampler = sampler_with_cv (0.001, table[i].cv);
      g_autoptr(AmorResult) result = NULL;
      guint64 expected = (guint64) (1000 * table[i].factor + 0.5);

      amor_optimizer_set_target_chunk_duration (optimizer, 1.0);
      result = amor_optimizer_plan (optimizer, sampler, 1000000);

      g_test_message ("cv %.1f: chunk %" G_GUINT64_FORMAT " factor %.3f",
                      table[i].cv, amor_result_get_chunk_size (result),
                      amor_result_get_chunk_factor (result));
      g_assert_true (amor_result_is_parallel (result));
      g_assert_cmpuint (amor_result_get_base_chunk_size (result), ==, 1000);
      g_assert_cmpfloat_with_epsilon (amor_result_get_chunk_factor (result),
                                      table[i].factor, 1e-9);
      g_assert_cmpuint (amor_result_get_chunk_size (result), ==, expected);
      g_assert_cmpint (amor_result_get_is_heterogeneous (result), ==, table[i].heterogeneous);
      g_assert_cmpfloat_with_epsilon (amor_result_get_cv (result), table[i].cv, 1e-9);

      if (table[i].heterogeneous)
        {
          const char * const *constraints = amor_result_get_constraints (result);
          g_autofree char *joined = g_strjoinv ("\n", (char **) constraints);
          g_autofree char *report = amor_result_explain (result);

          g_assert_nonnull (strstr (joined, "Chunk reduced from 1000"));
          g_assert_nonnull (strstr (joined, "above 0.5"));
          g_assert_nonnull (strstr (report, "heterogeneous"));
        }
    }
}

static void
test_speedup_is_serial_over_parallel (void)
{
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (4, 50e-6, 0.2e-6);
  double d[] = { 0.0001, 0.0001, 0.0001, 0.0001, 0.0001 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorResult) result = amor_optimizer_plan (optimizer, sampler, 10000);

  g_assert_cmpuint (amor_result_get_n_workers (result), ==, 4);
  g_assert_cmpint (amor_result_get_schedule (result), ==, AMOR_SCHEDULE_FIXED);
  g_assert_cmpfloat_with_epsilon (amor_result_get_estimated_serial_time (result), 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (amor_result_get_estimated_speedup (result),
                                  amor_result_get_estimated_serial_time (result) /
                                  amor_result_get_estimated_parallel_time (result), 1e-9);
  /* the breakdown adds up */
  g_assert_cmpfloat_with_epsilon (amor_result_get_estimated_parallel_time (result),
                                  1.0 / 4 +
                                  amor_result_get_fork_join_overhead (result) +
                                  amor_result_get_dispatch_overhead (result) +
                                  amor_result_get_imbalance_overhead (result), 1e-12);
  g_assert_cmpfloat_with_epsilon (amor_result_get_fork_join_overhead (result), 50e-6, 1e-12);
  /* 10 items of 0.1 ms per 1 ms chunk → 1000 chunks over 4 workers */
  g_assert_cmpuint (amor_result_get_chunk_size (result), ==, 10);
  g_assert_cmpfloat_with_epsilon (amor_result_get_dispatch_overhead (result),
                                  0.2e-6 * 1000 / 4, 1e-12);
  g_assert_cmpfloat (amor_result_get_estimated_speedup (result), >, 3.9);
  g_assert_cmpfloat (amor_result_get_estimated_speedup (result), <, 4.0);
  g_assert_true (g_str_has_prefix (amor_result_get_reason (result), "estimated "));
  g_assert_nonnull (strstr (amor_result_get_reason (result), "on 4 workers"));
}

static void
test_caps_by_items (void)
{
  double d[] = { 1.0, 1.0, 1.0 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (8, 20e-6, 0.1e-6);
  g_autoptr(AmorResult) one = NULL;
  g_autoptr(AmorResult) three = NULL;

  /* 1 item: serial, whatever the machine */
  one = amor_optimizer_plan (optimizer, sampler, 1);
  g_assert_cmpuint (amor_result_get_n_workers (one), ==, 1);
  g_assert_cmpint (amor_result_get_schedule (one), ==, AMOR_SCHEDULE_SERIAL);
  g_assert_false (amor_result_is_parallel (one));
  g_assert_cmpfloat (amor_result_get_estimated_speedup (one), ==, 1.0);
  g_assert_cmpstr (amor_result_get_reason (one), ==, "1 item: there is nothing to split");

  /* 3 items of 1 s on 8 CPUs: 3 workers, one item each */
  three = amor_optimizer_plan (optimizer, sampler, 3);
  g_assert_cmpuint (amor_result_get_n_workers (three), ==, 3);
  g_assert_cmpuint (amor_result_get_chunk_size (three), ==, 1);
  g_assert_cmpfloat (amor_result_get_estimated_speedup (three), >, 2.9);
  g_assert_cmpfloat (amor_result_get_estimated_speedup (three), <=, 3.0);
  {
    g_autofree char *joined =
      g_strjoinv ("\n", (char **) amor_result_get_constraints (three));
    g_assert_nonnull (strstr (joined, "At most 3 workers: there are only 3 items."));
  }
}

static void
test_caps_by_memory_and_option (void)
{
  double d[] = { 0.5, 0.5, 0.5, 0.5, 0.5 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorOptimizer) optimizer = amor_optimizer_new ();
  g_autoptr(AmorSystem) system = amor_system_new_custom (8, 8, 3 * GiB, 20e-6, 0.1e-6);
  g_autoptr(AmorResult) by_memory = NULL;
  g_autoptr(AmorResult) by_option = NULL;
  g_autoptr(AmorResult) big_option = NULL;

  amor_optimizer_set_system (optimizer, system);
  amor_optimizer_set_item_memory (optimizer, GiB);
  by_memory = amor_optimizer_plan (optimizer, sampler, 100);
  g_assert_cmpuint (amor_result_get_n_workers (by_memory), ==, 3);
  {
    g_autofree char *joined =
      g_strjoinv ("\n", (char **) amor_result_get_constraints (by_memory));
    g_assert_nonnull (strstr (joined, "available memory"));
  }

  amor_optimizer_set_item_memory (optimizer, 0);
  amor_optimizer_set_max_workers (optimizer, 2);
  by_option = amor_optimizer_plan (optimizer, sampler, 100);
  g_assert_cmpuint (amor_result_get_n_workers (by_option), ==, 2);

  /* more than the machine has: the CPUs still cap it */
  amor_optimizer_set_max_workers (optimizer, 64);
  big_option = amor_optimizer_plan (optimizer, sampler, 100);
  g_assert_cmpuint (amor_result_get_n_workers (big_option), ==, 8);
}

/* A worker count below the CPU count wins when waking threads is costly:
 * 64 items of 50 µs on 8 CPUs with a 1 ms fork-join of the whole team. */
static void
test_every_worker_count_tried (void)
{
  double d[] = { 50e-6, 50e-6, 50e-6, 50e-6, 50e-6 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (8, 1e-3, 0.0);
  g_autoptr(AmorResult) best = NULL;
  double best_time = G_MAXDOUBLE;
  guint best_n = 0;

  amor_optimizer_set_min_speedup (optimizer, 1.0);
  amor_optimizer_set_target_chunk_duration (optimizer, 50e-6);
  best = amor_optimizer_plan (optimizer, sampler, 64);
  g_assert_cmpuint (amor_result_get_n_workers (best), >, 1);
  g_assert_cmpuint (amor_result_get_n_workers (best), <, 8);

  /* restricting the count can only make the modelled time worse */
  for (guint m = 1; m <= 8; m++)
    {
      g_autoptr(AmorResult) r = NULL;

      amor_optimizer_set_max_workers (optimizer, m);
      r = amor_optimizer_plan (optimizer, sampler, 64);
      g_assert_cmpfloat (r ? amor_result_get_estimated_parallel_time (r) : 0, >=,
                         amor_result_get_estimated_parallel_time (best) - 1e-15);
      if (amor_result_get_estimated_parallel_time (r) < best_time - 1e-15)
        {
          best_time = amor_result_get_estimated_parallel_time (r);
          best_n = amor_result_get_n_workers (r);
        }
    }
  g_assert_cmpuint (best_n, ==, amor_result_get_n_workers (best));
}

static void
test_serial_reasons (void)
{
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (2, 50e-6, 0.1e-6);
  double tiny[] = { 0.4e-6, 0.4e-6, 0.4e-6, 0.4e-6, 0.4e-6 };
  g_autoptr(AmorSampler) sampler = sampler_with (tiny, G_N_ELEMENTS (tiny));
  g_autoptr(AmorSampler) empty = amor_sampler_new ();
  g_autoptr(AmorResult) none = NULL;
  g_autoptr(AmorResult) small = NULL;
  g_autoptr(AmorResult) unsampled = NULL;
  g_autoptr(AmorResult) one_cpu = NULL;
  g_autoptr(AmorOptimizer) uni = optimizer_for (1, 0.0, 0.0);

  none = amor_optimizer_plan (optimizer, sampler, 0);
  g_assert_cmpstr (amor_result_get_reason (none), ==, "no items");
  g_assert_cmpint (amor_result_get_schedule (none), ==, AMOR_SCHEDULE_SERIAL);
  g_assert_cmpuint (amor_result_get_n_workers (none), ==, 1);

  /* 200 items of 0.4 µs are 80 µs of work: waking a thread costs 50 µs */
  small = amor_optimizer_plan (optimizer, sampler, 200);
  g_test_message ("%s", amor_result_get_reason (small));
  g_assert_cmpint (amor_result_get_schedule (small), ==, AMOR_SCHEDULE_SERIAL);
  g_assert_cmpuint (amor_result_get_n_workers (small), ==, 1);
  g_assert_cmpuint (amor_result_get_chunk_size (small), ==, 200);
  g_assert_true (g_str_has_prefix (amor_result_get_reason (small), "estimated "));
  g_assert_nonnull (strstr (amor_result_get_reason (small), "× < 1.20×: 200 items of 400 ns "
                                                            "are too little work to split"));

  unsampled = amor_optimizer_plan (optimizer, empty, 200);
  g_assert_cmpint (amor_result_get_schedule (unsampled), ==, AMOR_SCHEDULE_SERIAL);
  g_assert_nonnull (amor_result_get_warnings (unsampled)[0]);

  one_cpu = amor_optimizer_plan (uni, sampler, 1000000);
  g_assert_cmpstr (amor_result_get_reason (one_cpu), ==,
                   "1 usable CPU: there is nothing to run in parallel on");
}

static void
test_min_speedup (void)
{
  double d[] = { 1e-4, 1e-4, 1e-4, 1e-4, 1e-4 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (2, 0.0, 0.0);
  g_autoptr(AmorResult) parallel = NULL;
  g_autoptr(AmorResult) serial = NULL;

  parallel = amor_optimizer_plan (optimizer, sampler, 100000);
  g_assert_true (amor_result_is_parallel (parallel));

  /* a bar no plan on 2 CPUs can reach */
  amor_optimizer_set_min_speedup (optimizer, 2.5);
  serial = amor_optimizer_plan (optimizer, sampler, 100000);
  g_assert_false (amor_result_is_parallel (serial));
  g_assert_nonnull (strstr (amor_result_get_reason (serial), "< 2.50×"));

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*min_speedup >= 1.0*");
  amor_optimizer_set_min_speedup (optimizer, 0.5);
  g_test_assert_expected_messages ();
  g_assert_cmpfloat (amor_optimizer_get_min_speedup (optimizer), ==, 2.5);

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*isfinite*");
  amor_optimizer_set_min_speedup (optimizer, NAN);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*sample_size >= 1*");
  amor_optimizer_set_sample_size (optimizer, 0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*seconds > 0.0*");
  amor_optimizer_set_target_chunk_duration (optimizer, -1.0);
  g_test_assert_expected_messages ();
}

static void
test_plan_is_pure (void)
{
  double d[] = { 1e-5, 3e-5, 2e-5, 8e-5, 1e-5, 4e-5 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (4, 30e-6, 0.1e-6);
  g_autoptr(AmorResult) a = amor_optimizer_plan (optimizer, sampler, 123457);
  g_autoptr(AmorResult) b = amor_optimizer_plan (optimizer, sampler, 123457);
  g_autofree char *ja = amor_result_to_json (a);
  g_autofree char *jb = amor_result_to_json (b);

  g_assert_cmpstr (ja, ==, jb);
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, G_N_ELEMENTS (d));
}

static void
test_workers_never_exceed_items (void)
{
  double d[] = { 0.2, 0.2, 0.2, 0.2, 0.2 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (64, 1e-6, 1e-7);

  for (guint64 n = 0; n <= 80; n++)
    {
      g_autoptr(AmorResult) r = amor_optimizer_plan (optimizer, sampler, n);
      guint64 chunks;

      g_assert_cmpuint (amor_result_get_n_workers (r), >=, 1);
      g_assert_cmpuint (amor_result_get_n_workers (r), <=, MAX (n, 1));
      if (amor_result_is_parallel (r))
        {
          chunks = (n + amor_result_get_chunk_size (r) - 1) / amor_result_get_chunk_size (r);
          g_assert_cmpuint (amor_result_get_n_workers (r), <=, chunks);
        }
    }
}

static gboolean
noop_work (guint64   index,
           gpointer  user_data,
           GError  **error)
{
  guint *calls = user_data;
  (*calls)++;
  return TRUE;
}

static gboolean
failing_work (guint64   index,
              gpointer  user_data,
              GError  **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot process");
  return FALSE;
}

static void
test_optimize (void)
{
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (2, 20e-6, 0.1e-6);
  g_autoptr(AmorResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const guint64 n_items = G_GUINT64_CONSTANT (1000000000);
  guint calls = 0;

  /* A billion items: 2 % of their estimated time is far more than the
   * base sample takes, however slowly it runs (valgrind). */
  amor_optimizer_set_sample_size (optimizer, 7);
  result = amor_optimizer_optimize (optimizer, n_items, noop_work, &calls, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  /* at least the sample size; more only if the timings of these no-ops
   * happened to vary (CV > 0.5), never more than the sampler's maximum */
  g_assert_cmpuint (calls, >=, 7);
  g_assert_cmpuint (calls, <=, 30);
  g_assert_cmpuint (amor_result_get_n_samples (result), ==, calls);
  g_assert_cmpuint (amor_result_get_n_items (result), ==, n_items);

  g_assert_null (amor_optimizer_optimize (optimizer, 100, failing_work, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Item "));
  g_assert_true (g_str_has_suffix (error->message, ": cannot process"));
}

/* A cost per item that only a parallel plan pays (a process pool that can
 * run the work in the calling process): counted in the dispatch overhead,
 * and enough to keep items of 5 µs serial. */
static void
test_parallel_item_cost (void)
{
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (2, 10e-3, 200e-6);
  double d[] = { 1e-3, 1e-3, 1e-3, 1e-3, 1e-3 };
  double tiny[] = { 5e-6, 5e-6, 5e-6, 5e-6, 5e-6 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorSampler) tiny_sampler = sampler_with (tiny, G_N_ELEMENTS (tiny));
  g_autoptr(AmorResult) without = NULL;
  g_autoptr(AmorResult) with = NULL;
  g_autoptr(AmorResult) tiny_without = NULL;
  g_autoptr(AmorResult) tiny_with = NULL;
  g_autofree char *constraints = NULL;
  guint64 chunks;

  without = amor_optimizer_plan (optimizer, sampler, 1000);
  tiny_without = amor_optimizer_plan (optimizer, tiny_sampler, 100000);
  amor_optimizer_set_parallel_item_cost (optimizer, 10e-6);
  with = amor_optimizer_plan (optimizer, sampler, 1000);
  tiny_with = amor_optimizer_plan (optimizer, tiny_sampler, 100000);

  /* 1 ms items: still 2 workers, 10 µs × 1000 / 2 more dispatch. */
  g_assert_cmpuint (amor_result_get_n_workers (with), ==, 2);
  g_assert_cmpuint (amor_result_get_chunk_size (with), ==, amor_result_get_chunk_size (without));
  chunks = (1000 + amor_result_get_chunk_size (with) - 1) / amor_result_get_chunk_size (with);
  g_assert_cmpfloat_with_epsilon (amor_result_get_dispatch_overhead (with),
                                  (200e-6 * (double) chunks + 1000 * 10e-6) / 2, 1e-12);
  g_assert_cmpfloat_with_epsilon (amor_result_get_dispatch_overhead (with) -
                                  amor_result_get_dispatch_overhead (without),
                                  1000 * 10e-6 / 2, 1e-12);
  g_assert_cmpfloat_with_epsilon (amor_result_get_estimated_serial_time (with), 1.0, 1e-9);
  g_assert_cmpfloat (amor_result_get_estimated_speedup (with), <,
                     amor_result_get_estimated_speedup (without));

  /* 5 µs items: 0.5 s of work split on 2 processes pays 10 µs each more
   * than the work itself — serial; without that cost, parallel. */
  g_assert_cmpuint (amor_result_get_n_workers (tiny_without), ==, 2);
  g_assert_cmpint (amor_result_get_schedule (tiny_with), ==, AMOR_SCHEDULE_SERIAL);
  g_assert_true (g_str_has_prefix (amor_result_get_reason (tiny_with), "estimated "));
  constraints = g_strjoinv (" ", (GStrv) amor_result_get_constraints (tiny_with));
  g_assert_nonnull (strstr (constraints, "serialisation"));
}

/* An executor whose last chunks shrink: a map of a few big chunks is not
 * charged a part-filled last round, only about an item's spread and a round
 * trip per halving. */
static void
test_tapered_tail (void)
{
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (2, 0.0, 200e-6);
  double d[] = { 10e-6, 10e-6, 10e-6, 10e-6, 10e-6 };
  g_autoptr(AmorSampler) sampler = sampler_with (d, G_N_ELEMENTS (d));
  g_autoptr(AmorResult) whole = NULL;
  g_autoptr(AmorResult) tapered = NULL;
  guint64 k;

  /* Items of 10 µs in chunks of 50 ms. */
  amor_optimizer_set_target_chunk_duration (optimizer, 0.05);
  whole = amor_optimizer_plan (optimizer, sampler, 30000);
  amor_optimizer_set_tapered_tail (optimizer, TRUE);
  tapered = amor_optimizer_plan (optimizer, sampler, 30000);

  /* 30000 items → chunks of 5000: 6 chunks, 3 rounds of 50 ms. Whole
   * chunks: 3 full rounds, no idle round; the tapered tail costs an item's
   * spread and log2 (5000) round trips. */
  k = amor_result_get_chunk_size (tapered);
  g_assert_cmpuint (k, ==, 5000);
  g_assert_cmpfloat_with_epsilon (amor_result_get_imbalance_overhead (whole), 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (amor_result_get_imbalance_overhead (tapered), 0.0, 1e-12);

  /* 35000 items: 7 chunks, the last round half empty (25 ms idle) with
   * whole chunks; tapered, 1/4 × 10 µs + 200 µs × log2 (5000). */
  g_clear_object (&whole);
  g_clear_object (&tapered);
  amor_optimizer_set_tapered_tail (optimizer, FALSE);
  whole = amor_optimizer_plan (optimizer, sampler, 35000);
  amor_optimizer_set_tapered_tail (optimizer, TRUE);
  tapered = amor_optimizer_plan (optimizer, sampler, 35000);
  g_assert_cmpfloat_with_epsilon (amor_result_get_imbalance_overhead (whole),
                                  0.5 * 5000 * 10e-6, 1e-9);
  g_assert_cmpfloat_with_epsilon (amor_result_get_imbalance_overhead (tapered),
                                  0.25 * 10e-6 + 200e-6 * log2 (5000.0), 1e-9);
  g_assert_cmpfloat (amor_result_get_estimated_speedup (tapered), >,
                     amor_result_get_estimated_speedup (whole));
}

static void
test_null_arguments (void)
{
  g_autoptr(AmorOptimizer) optimizer = amor_optimizer_new ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*AMOR_IS_SAMPLER*");
  g_assert_null (amor_optimizer_plan (optimizer, NULL, 10));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*AMOR_IS_OPTIMIZER*");
  g_assert_null (amor_optimizer_optimize (NULL, 10, noop_work, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (amor_optimizer_optimize (optimizer, 10, NULL, NULL, NULL));
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/optimizer/heterogeneity-table", test_heterogeneity_table);
  g_test_add_func ("/optimizer/speedup", test_speedup_is_serial_over_parallel);
  g_test_add_func ("/optimizer/caps/items", test_caps_by_items);
  g_test_add_func ("/optimizer/caps/memory-and-option", test_caps_by_memory_and_option);
  g_test_add_func ("/optimizer/caps/never-more-than-items", test_workers_never_exceed_items);
  g_test_add_func ("/optimizer/every-worker-count", test_every_worker_count_tried);
  g_test_add_func ("/optimizer/serial-reasons", test_serial_reasons);
  g_test_add_func ("/optimizer/min-speedup", test_min_speedup);
  g_test_add_func ("/optimizer/pure", test_plan_is_pure);
  g_test_add_func ("/optimizer/optimize", test_optimize);
  g_test_add_func ("/optimizer/parallel-item-cost", test_parallel_item_cost);
  g_test_add_func ("/optimizer/tapered-tail", test_tapered_tail);
  g_test_add_func ("/optimizer/null", test_null_arguments);

  return g_test_run ();
}
