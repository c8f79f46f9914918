/* test-bad-input.c: every way a caller can misuse the API, and what happens
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The table of docs/reliability.md, row by row: a programmer error (a NULL
 * object, a NULL callback, an out-of-range property) is a critical and a
 * harmless return value; a caller-caused failure at run time is a GError
 * whose code and message are checked here; input that is merely unusual
 * (no items, G_MAXUINT64 items, a plan made on another machine) works.
 * Nothing crashes, hangs, or runs an item twice.
 */

#include <math.h>
#include <string.h>

#include <amorsize/amorsize.h>

#include "amorsize/amor-pool-private.h"

/* A critical from a g_return_if_fail() of amorsize. */
#define EXPECT_CRITICAL(function, expression) \
  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, \
                         function ": assertion '" expression "' failed")

/* Work callbacks */

typedef struct
{
  gint     calls;          /* atomic */
  guint64  fail_on_call;   /* the call (1-based) that fails; 0: none */
  guint64  cancel_on_call; /* the call that cancels; 0: none */
  GCancellable *cancellable;
  GMutex   mutex;
  GHashTable *indices;     /* every index called, when set */
  GHashTable *threads;     /* every thread that called, when set */
} Calls;

static gboolean
counted_item (guint64   index,
              gpointer  user_data,
              GError  **error)
{
  Calls *calls = user_data;
  guint64 call = (guint64) g_atomic_int_add (&calls->calls, 1) + 1;

  if (calls->indices != NULL || calls->threads != NULL)
    {
      g_mutex_lock (&calls->mutex);
      if (calls->indices != NULL)
        {
          guint64 *key = g_new (guint64, 1);

          *key = index;
          if (!g_hash_table_add (calls->indices, key))
            g_error ("item %" G_GUINT64_FORMAT " ran twice", index);
        }
      if (calls->threads != NULL)
        g_hash_table_add (calls->threads, g_thread_self ());
      g_mutex_unlock (&calls->mutex);
    }

  if (call == calls->fail_on_call)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "call %" G_GUINT64_FORMAT " fails", call);
      return FALSE;
    }
  if (call == calls->cancel_on_call)
    g_cancellable_cancel (calls->cancellable);

  return TRUE;
}

static gboolean
false_without_error (guint64   index,
                     gpointer  user_data,
                     GError  **error)
{
  Calls *calls = user_data;

  return (guint64) g_atomic_int_add (&calls->calls, 1) + 1 != calls->fail_on_call;
}

static gboolean
true_with_error (guint64   index,
                 gpointer  user_data,
                 GError  **error)
{
  Calls *calls = user_data;

  g_atomic_int_inc (&calls->calls);
  if (index == 3)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "stray error");
  return TRUE;
}

/* Helpers */

static AmorSystem *
custom_system (guint n_cpus)
{
  return amor_system_new_custom (n_cpus, n_cpus, G_GUINT64_CONSTANT (8) << 30, 20e-6, 100e-9);
}

static AmorOptimizer *
optimizer_for (AmorSystem *system)
{
  return g_object_new (AMOR_TYPE_OPTIMIZER, "system", system, NULL);
}

/* Two CPUs whose threads cost nothing: maps of measurable items are
 * planned in parallel. */
static AmorOptimizer *
parallel_optimizer (void)
{
  g_autoptr(AmorSystem) system = amor_system_new_custom (2, 2, G_GUINT64_CONSTANT (8) << 30, 0.0, 0.0);

  return optimizer_for (system);
}

static AmorSampler *
sampler_with (double seconds,
              guint  n)
{
  AmorSampler *sampler = amor_sampler_new ();

  for (guint i = 0; i < n; i++)
    amor_sampler_add_duration (sampler, seconds);
  return sampler;
}

/* A parallel plan for @n_cpus CPUs, as JSON. */
static char *
plan_json (guint   n_cpus,
           guint64 n_items)
{
  g_autoptr(AmorSystem) system = custom_system (n_cpus);
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (system);
  g_autoptr(AmorSampler) sampler = sampler_with (1e-3, 5);
  g_autoptr(AmorResult) plan = amor_optimizer_plan (optimizer, sampler, n_items);

  g_assert_true (amor_result_is_parallel (plan));
  return amor_result_to_json (plan);
}

static char *
replace (const char *text,
         const char *from,
         const char *to)
{
  g_auto(GStrv) parts = g_strsplit (text, from, -1);

  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  return g_strjoinv (to, parts);
}

/* NULL objects and callbacks: criticals */

static void
test_null_executor (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorSampler) not_an_optimizer = amor_sampler_new ();
  Calls calls = { 0 };

  EXPECT_CRITICAL ("amor_executor_new", "optimizer == NULL || AMOR_IS_OPTIMIZER (optimizer)");
  g_assert_null (amor_executor_new ((AmorOptimizer *) not_an_optimizer));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_executor_run", "AMOR_IS_EXECUTOR (self)");
  g_assert_false (amor_executor_run (NULL, 10, counted_item, &calls, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_executor_run", "func != NULL");
  g_assert_false (amor_executor_run (executor, 10, NULL, &calls, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_executor_run", "cancellable == NULL || G_IS_CANCELLABLE (cancellable)");
  g_assert_false (amor_executor_run (executor, 10, counted_item, &calls,
                                     (GCancellable *) not_an_optimizer, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_executor_run_with_plan", "AMOR_IS_RESULT (plan)");
  g_assert_false (amor_executor_run_with_plan (executor, NULL, 10, counted_item, &calls, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_executor_get_completed", "AMOR_IS_EXECUTOR (self)");
  g_assert_cmpuint (amor_executor_get_completed (NULL), ==, 0);
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_executor_get_result", "AMOR_IS_EXECUTOR (self)");
  g_assert_null (amor_executor_get_result (NULL));
  g_test_assert_expected_messages ();

  /* Nothing ran, and the executor is still usable. */
  g_assert_cmpint (calls.calls, ==, 0);
  g_assert_true (amor_executor_run (executor, 10, counted_item, &calls, NULL, NULL));
  g_assert_cmpint (calls.calls, ==, 10);
}

static void
destroy_count (gpointer data)
{
  g_atomic_int_inc ((gint *) data);
}

static void
never_called_ready (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_assert_not_reached ();
}

static void
test_null_executor_async (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(GTask) foreign = g_task_new (NULL, NULL, NULL, NULL);
  gint destroyed = 0;

  /* A programmer error: user_data_destroy is not called, the callback is
   * never called. */
  EXPECT_CRITICAL ("amor_executor_run_async", "AMOR_IS_EXECUTOR (self)");
  amor_executor_run_async (NULL, 10, counted_item, &destroyed, destroy_count, NULL,
                           never_called_ready, NULL);
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_executor_run_async", "func != NULL");
  amor_executor_run_async (executor, 10, NULL, &destroyed, destroy_count, NULL,
                           never_called_ready, NULL);
  g_test_assert_expected_messages ();

  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (destroyed, ==, 0);

  g_task_return_boolean (foreign, TRUE);
  EXPECT_CRITICAL ("amor_executor_run_finish", "g_task_is_valid (result, self)");
  g_assert_false (amor_executor_run_finish (executor, G_ASYNC_RESULT (foreign), NULL));
  g_test_assert_expected_messages ();
}

static void
test_null_optimizer (void)
{
  g_autoptr(AmorOptimizer) optimizer = amor_optimizer_new ();
  g_autoptr(AmorSampler) sampler = sampler_with (1e-3, 5);
  Calls calls = { 0 };

  EXPECT_CRITICAL ("amor_optimizer_plan", "AMOR_IS_OPTIMIZER (self)");
  g_assert_null (amor_optimizer_plan (NULL, sampler, 100));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_optimizer_plan", "AMOR_IS_SAMPLER (sampler)");
  g_assert_null (amor_optimizer_plan (optimizer, NULL, 100));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_optimizer_optimize", "func != NULL");
  g_assert_null (amor_optimizer_optimize (optimizer, 100, NULL, &calls, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_optimizer_set_system", "system == NULL || AMOR_IS_SYSTEM (system)");
  amor_optimizer_set_system (optimizer, (AmorSystem *) sampler);
  g_test_assert_expected_messages ();
  g_assert_true (amor_optimizer_get_system (optimizer) == amor_system_get_default ());

  g_assert_cmpint (calls.calls, ==, 0);
}

static void
test_null_sampler (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  gsize n = 0;

  EXPECT_CRITICAL ("amor_sampler_run", "AMOR_IS_SAMPLER (self)");
  g_assert_false (amor_sampler_run (NULL, 10, counted_item, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_sampler_run", "func != NULL");
  g_assert_false (amor_sampler_run (sampler, 10, NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_sampler_add_duration", "AMOR_IS_SAMPLER (self)");
  amor_sampler_add_duration (NULL, 1.0);
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_sampler_get_sampled_indices", "n_indices != NULL");
  g_assert_null (amor_sampler_get_sampled_indices (sampler, NULL));
  g_test_assert_expected_messages ();

  g_assert_null (amor_sampler_get_sampled_indices (sampler, &n));
  g_assert_cmpuint (n, ==, 0);
}

static void
test_null_result (void)
{
  g_autoptr(GError) error = NULL;

  EXPECT_CRITICAL ("amor_result_new_from_json", "json != NULL");
  g_assert_null (amor_result_new_from_json (NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  EXPECT_CRITICAL ("amor_result_to_json", "AMOR_IS_RESULT (self)");
  g_assert_null (amor_result_to_json (NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_result_explain", "AMOR_IS_RESULT (self)");
  g_assert_null (amor_result_explain (NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_result_get_n_workers", "AMOR_IS_RESULT (self)");
  g_assert_cmpuint (amor_result_get_n_workers (NULL), ==, 1);
  g_test_assert_expected_messages ();
}

static void
test_null_system (void)
{
  EXPECT_CRITICAL ("amor_system_get_n_cpus", "AMOR_IS_SYSTEM (self)");
  g_assert_cmpuint (amor_system_get_n_cpus (NULL), ==, 1);
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_system_get_fork_join_cost", "AMOR_IS_SYSTEM (self)");
  g_assert_cmpfloat (amor_system_get_fork_join_cost (NULL), ==, 0.0);
  g_test_assert_expected_messages ();
}

/* An error pointer that already holds an error: a critical, nothing runs. */
static void
test_error_already_set (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "earlier");
  Calls calls = { 0 };

  EXPECT_CRITICAL ("amor_executor_run", "error == NULL || *error == NULL");
  g_assert_false (amor_executor_run (executor, 10, counted_item, &calls, NULL, &error));
  g_test_assert_expected_messages ();

  g_assert_cmpint (calls.calls, ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "earlier");
}

/* n_items */

static void
test_no_items (void)
{
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer ();
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  g_autoptr(AmorResult) optimized = NULL;
  g_autofree char *json = plan_json (4, 1000);
  g_autoptr(AmorResult) plan = amor_result_new_from_json (json, NULL);
  g_autoptr(GError) error = NULL;
  Calls calls = { 0 };
  AmorResult *result;

  g_assert_true (amor_executor_run (executor, 0, counted_item, &calls, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 0);
  g_assert_cmpuint (amor_executor_get_n_items (executor), ==, 0);
  result = amor_executor_get_result (executor);
  g_assert_nonnull (result);
  g_assert_false (amor_result_is_parallel (result));
  g_assert_cmpstr (amor_result_get_reason (result), ==, "no items");

  g_assert_true (amor_executor_run_with_plan (executor, plan, 0, counted_item, &calls, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 0);

  optimized = amor_optimizer_optimize (optimizer, 0, counted_item, &calls, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (amor_result_get_n_samples (optimized), ==, 0);
  g_assert_cmpstr (amor_result_get_reason (optimized), ==, "no items");

  g_assert_true (amor_sampler_run (sampler, 0, counted_item, &calls, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, 0);

  g_assert_cmpint (calls.calls, ==, 0);
}

static void
test_max_items_plan (void)
{
  g_autoptr(AmorSystem) system = custom_system (4);
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (system);
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  g_autoptr(AmorResult) plan = NULL;
  g_autoptr(AmorResult) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;

  for (guint i = 1; i <= 5; i++)
    amor_sampler_add_duration (sampler, i * 1e-6);
  plan = amor_optimizer_plan (optimizer, sampler, G_MAXUINT64);

  g_assert_true (amor_result_is_parallel (plan));
  g_assert_cmpuint (amor_result_get_n_workers (plan), ==, 4);
  g_assert_cmpuint (amor_result_get_n_items (plan), ==, G_MAXUINT64);
  g_assert_cmpuint (amor_result_get_chunk_size (plan), >=, 1);
  g_assert_cmpuint (amor_result_get_chunk_size (plan), <, G_MAXUINT64 / 4);
  g_assert_true (isfinite (amor_result_get_estimated_serial_time (plan)));
  g_assert_true (isfinite (amor_result_get_estimated_parallel_time (plan)));
  g_assert_cmpfloat (amor_result_get_estimated_speedup (plan), >, 1.0);
  g_assert_cmpfloat (amor_result_get_estimated_speedup (plan), <=, 4.0);

  /* Above G_MAXINT64 the count travels as a string. */
  json = amor_result_to_json (plan);
  g_assert_nonnull (strstr (json, "\"18446744073709551615\""));
  back = amor_result_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (amor_result_get_n_items (back), ==, G_MAXUINT64);
}

/* A map of G_MAXUINT64 items stops at its first error or at the
 * cancellation, with every item that ran accounted for. */
static void
check_max_items_run (AmorExecutor *executor,
                     AmorResult   *plan,
                     gboolean      cancel)
{
  g_autoptr(GError) error = NULL;
  Calls calls = { 0 };
  guint64 n_done;
  gboolean ok;

  g_mutex_init (&calls.mutex);
  calls.indices = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  calls.cancellable = g_cancellable_new ();
  if (cancel)
    calls.cancel_on_call = 1000;
  else
    calls.fail_on_call = 1000;

  if (plan != NULL)
    ok = amor_executor_run_with_plan (executor, plan, G_MAXUINT64, counted_item, &calls,
                                      calls.cancellable, &error);
  else
    ok = amor_executor_run (executor, G_MAXUINT64, counted_item, &calls, calls.cancellable, &error);

  g_assert_false (ok);
  n_done = (guint64) calls.calls - (cancel ? 0 : 1);
  g_assert_cmpuint (g_hash_table_size (calls.indices), ==, (guint) calls.calls);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_done);
  g_assert_cmpuint (amor_executor_get_n_items (executor), ==, G_MAXUINT64);
  /* The run stopped: each worker stops before its next item once the stop
   * is published (how many items the others start meanwhile depends on the
   * machine, hence the loose bound). */
  g_assert_cmpuint ((guint64) calls.calls, <, 10000000);

  if (cancel)
    {
      g_autofree char *expected = g_strdup_printf ("The map was cancelled after %" G_GUINT64_FORMAT
                                                   " of 18446744073709551615 items", n_done);

      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, expected);
    }
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_assert_true (g_str_has_prefix (error->message, "Item "));
      g_assert_true (g_str_has_suffix (error->message, ": call 1000 fails"));
    }

  g_hash_table_unref (calls.indices);
  g_object_unref (calls.cancellable);
  g_mutex_clear (&calls.mutex);
}

static void
test_max_items_run (void)
{
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer ();
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autofree char *json = plan_json (2, 1000);
  g_autofree char *guided_json = replace (json, "\"fixed\"", "\"guided\"");
  g_autoptr(AmorResult) fixed = amor_result_new_from_json (json, NULL);
  g_autoptr(AmorResult) guided = amor_result_new_from_json (guided_json, NULL);

  g_assert_nonnull (fixed);
  g_assert_nonnull (guided);

  for (guint cancel = 0; cancel < 2; cancel++)
    {
      check_max_items_run (executor, NULL, cancel);
      check_max_items_run (executor, fixed, cancel);
      check_max_items_run (executor, guided, cancel);
    }
}

/* Callbacks that break the contract */

static void
test_false_without_error (void)
{
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer ();
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  const char *why = ": the work callback returned FALSE without setting an error (a "
                    "Python exception, or a JavaScript callback that GJS refused to run "
                    "on a worker thread, looks like this)";

  /* In the executor, sampled or not, and in the sampler alone. */
  for (guint where = 0; where < 3; where++)
    {
      g_autoptr(GError) error = NULL;
      Calls calls = { 0 };
      gboolean ok;

      calls.fail_on_call = where == 1 ? 100 : where == 2 ? 3 : 1;
      if (where == 2)
        /* Many items: the sampling budget (2 % of the estimated map)
         * must not end the sample before the third call, however slowly a
         * sanitizer runs it. */
        ok = amor_sampler_run (sampler, G_GUINT64_CONSTANT (1000000000),
                               false_without_error, &calls, &error);
      else
        ok = amor_executor_run (executor, 10000, false_without_error, &calls, NULL, &error);

      g_assert_false (ok);
      g_assert_error (error, AMOR_ERROR, AMOR_ERROR_WORK_FAILED);
      g_assert_true (g_str_has_prefix (error->message, "Item "));
      g_assert_true (g_str_has_suffix (error->message, why));
      if (where == 1)
        g_assert_cmpuint (amor_executor_get_completed (executor), ==, (guint64) calls.calls - 1);
    }
}

static void
test_true_with_error (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autofree char *json = plan_json (2, 100);
  g_autoptr(AmorResult) plan = amor_result_new_from_json (json, NULL);
  g_autoptr(GError) error = NULL;
  Calls calls = { 0 };

  /* A warning; the item counts as done and the run goes on. */
  g_test_expect_message ("Amor", G_LOG_LEVEL_WARNING,
                         "Item 3: the work callback returned TRUE but set an error "
                         "(stray error); the error is ignored");
  g_assert_true (amor_executor_run_with_plan (executor, plan, 100, true_with_error, &calls,
                                              NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpint (calls.calls, ==, 100);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 100);
}

/* Absurd properties */

static void
test_absurd_durations (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  const double bad[] = { -1.0, -1e-300, NAN, INFINITY, -INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      if (isfinite (bad[i]))
        EXPECT_CRITICAL ("amor_sampler_add_duration", "seconds >= 0.0");
      else
        EXPECT_CRITICAL ("amor_sampler_add_duration", "isfinite (seconds)");
      amor_sampler_add_duration (sampler, bad[i]);
      g_test_assert_expected_messages ();
    }
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, 0);

  EXPECT_CRITICAL ("amor_sampler_set_time_budget", "isfinite (seconds) && seconds >= 0.0");
  amor_sampler_set_time_budget (sampler, NAN);
  g_test_assert_expected_messages ();
  EXPECT_CRITICAL ("amor_sampler_set_time_budget", "isfinite (seconds) && seconds >= 0.0");
  amor_sampler_set_time_budget (sampler, -1.0);
  g_test_assert_expected_messages ();
  g_assert_cmpfloat (amor_sampler_get_time_budget (sampler), ==, 0.2);
}

/* Durations of zero: too little work to split, said in words. */
static void
test_zero_durations (void)
{
  g_autoptr(AmorSystem) system = custom_system (4);
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (system);
  g_autoptr(AmorSampler) sampler = sampler_with (0.0, 5);
  g_autoptr(AmorResult) plan = amor_optimizer_plan (optimizer, sampler, 100);

  g_assert_false (amor_result_is_parallel (plan));
  g_assert_cmpstr (amor_result_get_reason (plan), ==,
                   "the 5 sampled items took no measurable time: 100 items are too "
                   "little work to split");
}

/* Durations that are finite but absurd (1e300 s and more) must still give a
 * plan with finite estimates, a reason without NaN, and JSON that reads
 * back. */
static void
test_huge_durations (void)
{
  g_autoptr(AmorSystem) system = custom_system (4);
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (system);
  const double absurd[] = { 1e300, 1e308, G_MAXDOUBLE, 1e9 * 1.000001 };
  const double largest[][5] = {
    { 1e9, 1e9, 1e9, 1e9, 1e9 },
    { 1e9, 0.0, 1e9, 0.0, 1e9 },
  };
  const guint64 counts[] = { 10, G_MAXUINT64 };

  /* Durations above 10⁹ s (31 years) are refused: their squares would
   * overflow the statistics. */
  for (guint d = 0; d < G_N_ELEMENTS (absurd); d++)
    {
      g_autoptr(AmorSampler) sampler = amor_sampler_new ();

      g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*AMOR_SAMPLER_MAX_DURATION*");
      amor_sampler_add_duration (sampler, absurd[d]);
      g_test_assert_expected_messages ();
      g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, 0);
    }

  /* The largest accepted ones still make a finite plan that reads back. */
  for (guint d = 0; d < G_N_ELEMENTS (largest); d++)
    for (guint c = 0; c < G_N_ELEMENTS (counts); c++)
      {
        g_autoptr(AmorSampler) sampler = amor_sampler_new ();
        g_autoptr(AmorResult) plan = NULL;
        g_autoptr(AmorResult) back = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *json = NULL;
        g_autofree char *explain = NULL;
        const char *reason;

        for (guint i = 0; i < 5; i++)
          amor_sampler_add_duration (sampler, largest[d][i]);
        g_assert_true (isfinite (amor_sampler_get_cv (sampler)));

        plan = amor_optimizer_plan (optimizer, sampler, counts[c]);
        reason = amor_result_get_reason (plan);
        g_test_message ("durations %u, %" G_GUINT64_FORMAT " items: %s", d, counts[c], reason);

        g_assert_true (isfinite (amor_result_get_estimated_speedup (plan)));
        g_assert_true (isfinite (amor_result_get_estimated_parallel_time (plan)));
        g_assert_true (isfinite (amor_result_get_cv (plan)));
        g_assert_null (strstr (reason, "nan"));
        g_assert_null (strstr (reason, "inf"));
        explain = amor_result_explain (plan);
        g_assert_null (strstr (explain, "nan"));

        json = amor_result_to_json (plan);
        back = amor_result_new_from_json (json, &error);
        g_assert_no_error (error);
        g_assert_nonnull (back);
      }
}

/* A plan made with costs whose shortest decimal form has an exponent and
 * no point (2e-08) must read back (json-glib 1.6 writes such a double as
 * "2e-08.0", which is not JSON). Found by fuzz-result-json. */
static void
test_json_exponent_doubles (void)
{
  const double costs[] = { 2e-08, 1e-07, 5e-09, 1e+17 };

  for (guint i = 0; i < G_N_ELEMENTS (costs); i++)
    {
      g_autoptr(AmorSystem) system = amor_system_new_custom (4, 4, G_GUINT64_CONSTANT (8) << 30,
                                                             20e-6, costs[i]);
      g_autoptr(AmorOptimizer) optimizer = optimizer_for (system);
      g_autoptr(AmorSampler) sampler = sampler_with (1e-3, 5);
      g_autoptr(AmorResult) plan = amor_optimizer_plan (optimizer, sampler, 1000);
      g_autoptr(AmorResult) back = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *json = amor_result_to_json (plan);

      back = amor_result_new_from_json (json, &error);
      g_test_message ("dispatch cost %g: %s", costs[i], error != NULL ? error->message : "reads back");
      g_assert_no_error (error);
      g_assert_cmpfloat (amor_system_get_dispatch_cost (system), ==, costs[i]);
    }
}

static void
test_absurd_sample_size (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  g_autoptr(AmorOptimizer) optimizer = amor_optimizer_new ();

  EXPECT_CRITICAL ("amor_sampler_set_sample_size", "sample_size >= 1");
  amor_sampler_set_sample_size (sampler, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (amor_sampler_get_sample_size (sampler), ==, 5);

  EXPECT_CRITICAL ("amor_sampler_set_max_sample_size", "max_sample_size >= 1");
  amor_sampler_set_max_sample_size (sampler, 0);
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("amor_optimizer_set_sample_size", "sample_size >= 1");
  amor_optimizer_set_sample_size (optimizer, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (amor_optimizer_get_sample_size (optimizer), ==, 5);

  /* Through g_object_set(), GObject refuses the value itself. */
  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING,
                         "*invalid or out of range for property 'sample-size'*");
  g_object_set (sampler, "sample-size", 0u, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (amor_sampler_get_sample_size (sampler), ==, 5);
}

static void
test_absurd_min_speedup (void)
{
  g_autoptr(AmorOptimizer) optimizer = amor_optimizer_new ();
  const double bad[] = { 0.99, 0.0, -2.0, NAN, INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      EXPECT_CRITICAL ("amor_optimizer_set_min_speedup", "isfinite (min_speedup) && min_speedup >= 1.0");
      amor_optimizer_set_min_speedup (optimizer, bad[i]);
      g_test_assert_expected_messages ();
      g_assert_cmpfloat (amor_optimizer_get_min_speedup (optimizer), ==, AMOR_DEFAULT_MIN_SPEEDUP);
    }

  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING,
                         "*invalid or out of range for property 'min-speedup'*");
  g_object_set (optimizer, "min-speedup", 0.5, NULL);
  g_test_assert_expected_messages ();

  /* 1.0 is allowed: parallel whenever it is not slower. */
  amor_optimizer_set_min_speedup (optimizer, 1.0);
  g_assert_cmpfloat (amor_optimizer_get_min_speedup (optimizer), ==, 1.0);
}

static void
test_absurd_chunk_duration (void)
{
  g_autoptr(AmorOptimizer) optimizer = amor_optimizer_new ();
  const double bad[] = { 0.0, -1e-3, NAN, INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      EXPECT_CRITICAL ("amor_optimizer_set_target_chunk_duration", "isfinite (seconds) && seconds > 0.0");
      amor_optimizer_set_target_chunk_duration (optimizer, bad[i]);
      g_test_assert_expected_messages ();
    }
  g_assert_cmpfloat (amor_optimizer_get_target_chunk_duration (optimizer), ==,
                     AMOR_DEFAULT_TARGET_CHUNK_DURATION);

  EXPECT_CRITICAL ("amor_optimizer_set_schedule",
                   "schedule == AMOR_SCHEDULE_FIXED || schedule == AMOR_SCHEDULE_GUIDED");
  amor_optimizer_set_schedule (optimizer, AMOR_SCHEDULE_SERIAL);
  g_test_assert_expected_messages ();
  g_assert_cmpint (amor_optimizer_get_schedule (optimizer), ==, AMOR_SCHEDULE_FIXED);
}

static void
test_absurd_costs (void)
{
  const double bad[] = { -5.0, -0.5, NAN, INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      EXPECT_CRITICAL ("amor_system_new_custom", "AMOR_COST_IS_VALID (fork_join_cost)");
      g_assert_null (amor_system_new_custom (4, 4, 1 << 30, bad[i], 1e-7));
      g_test_assert_expected_messages ();
    }

  /* As a property: below the property's range GObject refuses it; between
   * -1 and 0 amorsize does, and measures the cost instead. */
  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING,
                         "*invalid or out of range for property 'fork-join-cost'*");
  g_object_unref (g_object_new (AMOR_TYPE_SYSTEM, "n-cpus", 2, "fork-join-cost", -5.0,
                                "dispatch-cost", 0.0, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL,
                         "AmorSystem:fork-join-cost must be -1 (measure) or >= 0, not -0.5; "
                         "it will be measured");
  g_object_unref (g_object_new (AMOR_TYPE_SYSTEM, "n-cpus", 2, "fork-join-cost", -0.5,
                                "dispatch-cost", 0.0, NULL));
  g_test_assert_expected_messages ();
}

/* max-workers above the machine: the CPUs cap the plan. */
static void
test_max_workers_above_machine (void)
{
  g_autoptr(AmorSystem) system = custom_system (4);
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (system);
  g_autoptr(AmorSampler) sampler = sampler_with (1e-3, 5);
  g_autoptr(AmorResult) plan = NULL;
  g_autoptr(AmorOptimizer) here = amor_optimizer_new ();
  g_autoptr(AmorExecutor) executor = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *constraints;
  gboolean said = FALSE;
  Calls calls = { 0 };

  amor_optimizer_set_max_workers (optimizer, 1000);
  g_assert_cmpuint (amor_optimizer_get_max_workers (optimizer), ==, 1000);
  plan = amor_optimizer_plan (optimizer, sampler, 100000);
  g_assert_cmpuint (amor_result_get_n_workers (plan), ==, 4);
  constraints = amor_result_get_constraints (plan);
  for (guint i = 0; constraints[i] != NULL; i++)
    said |= g_str_equal (constraints[i], "At most 4 workers: the number of usable CPUs.");
  g_assert_true (said);

  /* On this machine, whatever it has. */
  amor_optimizer_set_max_workers (here, G_MAXUINT);
  executor = amor_executor_new (here);
  g_assert_true (amor_executor_run (executor, 100000, counted_item, &calls, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (calls.calls, ==, 100000);
  g_assert_cmpuint (amor_result_get_n_workers (amor_executor_get_result (executor)), <=,
                    amor_system_get_n_cpus (amor_system_get_default ()));
}

/* item-memory above the available memory: one worker, and the reason. */
static void
test_item_memory_above_machine (void)
{
  g_autoptr(AmorSystem) system = custom_system (4);
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (system);
  g_autoptr(AmorSampler) sampler = sampler_with (1e-3, 5);
  g_autoptr(AmorResult) plan = NULL;

  amor_optimizer_set_item_memory (optimizer, G_MAXUINT64);
  plan = amor_optimizer_plan (optimizer, sampler, 100000);
  g_assert_false (amor_result_is_parallel (plan));
  g_assert_cmpstr (amor_result_get_reason (plan), ==, "only 1 worker is allowed: running serially");
}

/* A custom system with the most CPUs a property allows: the plan comes
 * back (in a child process: the optimizer must not loop forever). */
static void
test_absurd_cpu_count (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(AmorSystem) system = custom_system (G_MAXUINT);
      g_autoptr(AmorOptimizer) optimizer = optimizer_for (system);
      g_autoptr(AmorSampler) sampler = sampler_with (1e-3, 5);
      g_autoptr(AmorResult) plan = amor_optimizer_plan (optimizer, sampler, G_MAXUINT64);

      g_assert_cmpuint (amor_result_get_n_workers (plan), >=, 1);
      g_assert_true (isfinite (amor_result_get_estimated_speedup (plan)));
      return;
    }

  g_test_trap_subprocess (NULL, 10 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Plans from elsewhere */

/* A plan made for a 64-CPU machine runs here with no more workers than
 * this machine's pool has threads, and every item once. */
static void
test_plan_from_other_machine (void)
{
  g_autofree char *json = plan_json (64, 1000000);
  g_autoptr(AmorResult) plan = NULL;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(GError) error = NULL;
  Calls calls = { 0 };

  plan = amor_result_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (amor_result_get_n_workers (plan), ==, 64);
  g_assert_cmpuint (amor_result_get_n_cpus (plan), ==, 64);

  g_mutex_init (&calls.mutex);
  calls.indices = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  calls.threads = g_hash_table_new (NULL, NULL);

  g_assert_true (amor_executor_run_with_plan (executor, plan, 20000, counted_item, &calls,
                                              NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (calls.calls, ==, 20000);
  g_assert_cmpuint (g_hash_table_size (calls.indices), ==, 20000);
  g_assert_cmpuint (g_hash_table_size (calls.threads), <=, amor_pool_get_max_threads () + 1);
  g_assert_true (amor_executor_get_result (executor) == plan);

  g_hash_table_unref (calls.indices);
  g_hash_table_unref (calls.threads);
  g_mutex_clear (&calls.mutex);
}

/* Extreme values a plan's JSON may carry: still runnable. */
static void
test_plan_extreme_values (void)
{
  g_autofree char *json = plan_json (4, 1000);
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  const struct {
    const char *from;
    const char *to;
  } edits[] = {
    { "\"n_workers\" : 4", "\"n_workers\" : 4294967295" },
    { "\"chunk_size\" : ", "\"chunk_size\" : \"18446744073709551615\", \"x\" : " },
    { "\"n_items\" : 1000", "\"n_items\" : \"18446744073709551615\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autofree char *edited = replace (json, edits[i].from, edits[i].to);
      g_autoptr(AmorResult) plan = NULL;
      g_autoptr(GError) error = NULL;
      Calls calls = { 0 };

      plan = amor_result_new_from_json (edited, &error);
      g_assert_no_error (error);
      g_assert_true (amor_executor_run_with_plan (executor, plan, 5000, counted_item, &calls,
                                                  NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (calls.calls, ==, 5000);
    }
}

/* JSON that is not a usable plan: the error names the problem. The full
 * table of reader errors is in test-result.c; these are the rows of the
 * reliability table. */
static void
test_plan_bad_json (void)
{
  g_autofree char *json = plan_json (4, 1000);
  const struct {
    const char *from;
    const char *to;
    gint        code;
    const char *message;
  } edits[] = {
    { "\"version\" : 1", "\"version\" : 2", AMOR_ERROR_UNSUPPORTED_VERSION,
      "The result JSON has format version 2; this amorsize reads version 1 and older" },
    { "\"n_workers\" : 4", "\"n_workers\" : 0", AMOR_ERROR_INVALID_DATA,
      "The result JSON member “plan.n_workers” must be at least 1" },
    { "\"n_workers\" : 4", "\"n_workers\" : 4294967296", AMOR_ERROR_INVALID_DATA,
      "The result JSON member “plan.n_workers” is out of range (0 to 4294967295)" },
    { "\"mean\" : 0.001", "\"mean\" : 1e999", AMOR_ERROR_INVALID_DATA,
      "The result JSON member “workload.mean” must be a finite number, not negative" },
    { "\"mean\" : 0.001", "\"mean\" : -0.001", AMOR_ERROR_INVALID_DATA,
      "The result JSON member “workload.mean” must be a finite number, not negative" },
    { "\"fixed\"", "\"parallel\"", AMOR_ERROR_INVALID_DATA,
      "The result JSON member “plan.schedule” is “parallel”; expected “serial”, “fixed” or “guided”" },
    { "\"format\" : \"amorsize-result\"", "\"format\" : \"other\"", AMOR_ERROR_INVALID_DATA,
      "The JSON is not an amorsize result (format “other”, expected “amorsize-result”)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autofree char *edited = replace (json, edits[i].from, edits[i].to);
      g_autoptr(GError) error = NULL;

      g_assert_null (amor_result_new_from_json (edited, &error));
      g_assert_error (error, AMOR_ERROR, edits[i].code);
      g_assert_cmpstr (error->message, ==, edits[i].message);
    }

  {
    g_autoptr(GError) error = NULL;

    g_assert_null (amor_result_new_from_json ("{\"format\": ", &error));
    g_assert_error (error, AMOR_ERROR, AMOR_ERROR_PARSE);
    g_assert_true (g_str_has_prefix (error->message, "The result JSON cannot be parsed: "));
  }
}

/* Cancelled before it starts */

static void
test_cancelled_before (void)
{
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer ();
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *json = plan_json (2, 1000);
  g_autoptr(AmorResult) plan = amor_result_new_from_json (json, NULL);
  Calls calls = { 0 };

  g_cancellable_cancel (cancellable);

  for (guint with_plan = 0; with_plan < 2; with_plan++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok;

      if (with_plan)
        ok = amor_executor_run_with_plan (executor, plan, 1000, counted_item, &calls,
                                          cancellable, &error);
      else
        ok = amor_executor_run (executor, 1000, counted_item, &calls, cancellable, &error);

      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpstr (error->message, ==, "Operation was cancelled");
      g_assert_cmpuint (amor_executor_get_completed (executor), ==, 0);
      g_assert_cmpuint (amor_executor_get_n_items (executor), ==, 1000);
      /* The plan it would have used: none before sampling; the given one. */
      if (with_plan)
        g_assert_true (amor_executor_get_result (executor) == plan);
      else
        g_assert_null (amor_executor_get_result (executor));
    }

  g_assert_cmpint (calls.calls, ==, 0);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  GError  *error;
} AsyncWait;

static void
async_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncWait *wait = user_data;

  wait->ok = amor_executor_run_finish (AMOR_EXECUTOR (source), result, &wait->error);
  wait->done = TRUE;
}

static void
test_cancelled_before_async (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  AsyncWait wait = { 0 };
  gint destroyed = 0;

  g_cancellable_cancel (cancellable);
  amor_executor_run_async (executor, 1000, counted_item, &destroyed, destroy_count,
                           cancellable, async_done_cb, &wait);
  while (!wait.done)
    g_main_context_iteration (NULL, TRUE);

  g_assert_false (wait.ok);
  g_assert_error (wait.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (destroyed, ==, 1);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 0);
  g_clear_error (&wait.error);
}

/* One executor, one map at a time */

typedef struct
{
  AmorExecutor *executor;
  GError       *inner_error;
  gint          calls;
} Reentrant;

static gboolean
reentrant_item (guint64   index,
                gpointer  user_data,
                GError  **error)
{
  Reentrant *r = user_data;

  g_atomic_int_inc (&r->calls);
  if (index == 0)
    {
      Calls calls = { 0 };

      g_assert_false (amor_executor_run (r->executor, 10, counted_item, &calls, NULL, &r->inner_error));
      g_assert_cmpint (calls.calls, ==, 0);
    }
  return TRUE;
}

static void
test_run_while_running (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorSystem) one_cpu = custom_system (1);
  g_autoptr(AmorOptimizer) optimizer = optimizer_for (one_cpu);
  g_autoptr(AmorSampler) sampler = sampler_with (1e-3, 5);
  g_autoptr(AmorResult) serial = amor_optimizer_plan (optimizer, sampler, 100);
  g_autoptr(GError) error = NULL;
  Reentrant r = { executor };

  /* The same executor from inside its own map. */
  g_assert_false (amor_result_is_parallel (serial));
  g_assert_true (amor_executor_run_with_plan (executor, serial, 100, reentrant_item, &r, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.calls, ==, 100);
  g_assert_error (r.inner_error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_assert_cmpstr (r.inner_error->message, ==,
                   "This AmorExecutor is already running a map; use one executor per "
                   "concurrent or nested map");
  g_clear_error (&r.inner_error);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 100);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* The rows are independent: a failed one is reported and the others
   * still run. */
  g_test_set_nonfatal_assertions ();

  g_test_add_func ("/bad-input/null/executor", test_null_executor);
  g_test_add_func ("/bad-input/null/executor-async", test_null_executor_async);
  g_test_add_func ("/bad-input/null/optimizer", test_null_optimizer);
  g_test_add_func ("/bad-input/null/sampler", test_null_sampler);
  g_test_add_func ("/bad-input/null/result", test_null_result);
  g_test_add_func ("/bad-input/null/system", test_null_system);
  g_test_add_func ("/bad-input/null/error-already-set", test_error_already_set);
  g_test_add_func ("/bad-input/n-items/zero", test_no_items);
  g_test_add_func ("/bad-input/n-items/max-plan", test_max_items_plan);
  g_test_add_func ("/bad-input/n-items/max-run", test_max_items_run);
  g_test_add_func ("/bad-input/callback/false-without-error", test_false_without_error);
  g_test_add_func ("/bad-input/callback/true-with-error", test_true_with_error);
  g_test_add_func ("/bad-input/properties/durations", test_absurd_durations);
  g_test_add_func ("/bad-input/properties/zero-durations", test_zero_durations);
  g_test_add_func ("/bad-input/properties/huge-durations", test_huge_durations);
  g_test_add_func ("/bad-input/properties/sample-size", test_absurd_sample_size);
  g_test_add_func ("/bad-input/properties/min-speedup", test_absurd_min_speedup);
  g_test_add_func ("/bad-input/properties/chunk-duration", test_absurd_chunk_duration);
  g_test_add_func ("/bad-input/properties/costs", test_absurd_costs);
  g_test_add_func ("/bad-input/properties/max-workers", test_max_workers_above_machine);
  g_test_add_func ("/bad-input/properties/item-memory", test_item_memory_above_machine);
  g_test_add_func ("/bad-input/properties/cpu-count", test_absurd_cpu_count);
  g_test_add_func ("/bad-input/plan/other-machine", test_plan_from_other_machine);
  g_test_add_func ("/bad-input/plan/extreme-values", test_plan_extreme_values);
  g_test_add_func ("/bad-input/plan/bad-json", test_plan_bad_json);
  g_test_add_func ("/bad-input/plan/exponent-doubles", test_json_exponent_doubles);
  g_test_add_func ("/bad-input/cancel/before", test_cancelled_before);
  g_test_add_func ("/bad-input/cancel/before-async", test_cancelled_before_async);
  g_test_add_func ("/bad-input/run-while-running", test_run_while_running);

  return g_test_run ();
}
