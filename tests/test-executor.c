/* test-executor.c: AmorExecutor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every test checks what the executor promises — each index processed
 * exactly once, errors and cancellation accounted for item by item,
 * notifications on the caller's thread — never how fast it went. Plans are
 * made deterministic with a custom AmorSystem or built by hand.
 */

#include <math.h>
#include <string.h>

#include <amorsize/amorsize.h>

#include "test-util.h"

#include "amorsize/amor-clock-private.h"
#include "amorsize/amor-pool-private.h"
#include "amorsize/amor-result-private.h"

#define NO_INDEX G_MAXUINT64

/* A map whose calls are counted index by index. */
typedef struct
{
  guint64       n_items;
  gint         *calls;          /* calls per index (atomic) */
  gint         *done;           /* successful calls per index (atomic) */
  guint64      *out;            /* out[i] = value (i) */
  guint64       fail_at;        /* this index fails */
  guint64       cancel_at;      /* this index cancels, then succeeds */
  GCancellable *cancellable;
  gint          stopped;        /* set once the failure or cancel happened */
  gint          started_after;  /* calls that started after it */
  gint64        spin_ns;        /* busy time per item */
  GThread      *caller;
  gint          off_caller;     /* calls on another thread than @caller */
  gboolean      wait_for_helper; /* the caller's team items wait for another thread */
} Work;

static guint64
value (guint64 index)
{
  return index * index + 1;
}

static Work *
work_new (guint64 n_items)
{
  Work *work = g_new0 (Work, 1);

  work->n_items = n_items;
  work->calls = g_new0 (gint, n_items);
  work->done = g_new0 (gint, n_items);
  work->out = g_new0 (guint64, n_items);
  work->fail_at = NO_INDEX;
  work->cancel_at = NO_INDEX;
  work->caller = g_thread_self ();

  return work;
}

static void
work_free (Work *work)
{
  g_free (work->calls);
  g_free (work->done);
  g_free (work->out);
  g_clear_object (&work->cancellable);
  g_free (work);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Work, work_free)

static void
spin (gint64 ns)
{
  gint64 start = amor_clock_now_ns ();

  while (amor_clock_now_ns () - start < ns)
    ;
}

static gboolean
work_item (guint64   index,
           gpointer  user_data,
           GError  **error)
{
  Work *work = user_data;

  g_assert_cmpuint (index, <, work->n_items);

  if (g_atomic_int_get (&work->stopped))
    g_atomic_int_inc (&work->started_after);
  g_atomic_int_inc (&work->calls[index]);
  if (g_thread_self () != work->caller)
    g_atomic_int_set (&work->off_caller, 1);
  else if (work->wait_for_helper && amor_pool_in_team ())
    {
      /* A team whose worker 0 could finish everything before a pool thread
       * is scheduled (valgrind, a loaded machine) proves nothing about the
       * others: the calling thread waits for one of them (10 s at most). */
      for (guint i = 0; i < 100000 && !g_atomic_int_get (&work->off_caller); i++)
        g_usleep (100);
    }

  if (index == work->fail_at)
    {
      g_atomic_int_set (&work->stopped, 1);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "no such item %" G_GUINT64_FORMAT, index);
      return FALSE;
    }

  if (work->spin_ns > 0)
    spin (work->spin_ns);

  work->out[index] = value (index);
  g_atomic_int_inc (&work->done[index]);

  if (index == work->cancel_at)
    {
      g_cancellable_cancel (work->cancellable);
      g_atomic_int_set (&work->stopped, 1);
    }

  return TRUE;
}

/* Each index ran at most once; returns how many completed. */
static guint64
work_check_at_most_once (Work *work)
{
  guint64 n_done = 0;

  for (guint64 i = 0; i < work->n_items; i++)
    {
      if (work->calls[i] > 1)
        g_error ("item %" G_GUINT64_FORMAT " ran %d times", i, work->calls[i]);
      g_assert_cmpint (work->done[i], <=, work->calls[i]);
      if (work->done[i])
        {
          g_assert_cmpuint (work->out[i], ==, value (i));
          n_done++;
        }
    }

  return n_done;
}

/* Every index ran exactly once, and its result is where it belongs. */
static void
work_check_exactly_once (Work *work)
{
  for (guint64 i = 0; i < work->n_items; i++)
    {
      if (work->calls[i] != 1 || work->done[i] != 1)
        g_error ("item %" G_GUINT64_FORMAT " ran %d times", i, work->calls[i]);
      g_assert_cmpuint (work->out[i], ==, value (i));
    }
}

/* A machine with two CPUs and threads that cost nothing: any map of items
 * that take measurable time is worth splitting in two. */
static AmorOptimizer *
parallel_optimizer (AmorSchedule schedule)
{
  g_autoptr(AmorSystem) system = amor_system_new_custom (2, 2, G_GUINT64_CONSTANT (8) << 30, 0.0, 0.0);

  return g_object_new (AMOR_TYPE_OPTIMIZER,
                       "system", system,
                       "schedule", schedule,
                       NULL);
}

/* Threads so expensive that no map is worth splitting. */
static AmorOptimizer *
serial_optimizer (void)
{
  g_autoptr(AmorSystem) system = amor_system_new_custom (2, 2, G_GUINT64_CONSTANT (8) << 30, 1.0, 1e-3);

  return g_object_new (AMOR_TYPE_OPTIMIZER, "system", system, NULL);
}

/* A plan made by hand. */
static AmorResult *
hand_plan (guint        n_workers,
           guint64      chunk_size,
           AmorSchedule schedule,
           guint64      n_items)
{
  return amor_test_hand_plan (n_workers, chunk_size, schedule, n_items, 1e-6);
}

/* A parallel plan from the optimizer, with added durations. */
static AmorResult *
planned (AmorSchedule schedule,
         guint64      n_items)
{
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (schedule);
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  AmorResult *plan;

  /* Powers of two: the chunk is exactly 4. */
  amor_optimizer_set_target_chunk_duration (optimizer, ldexp (1.0, -18));
  for (guint i = 0; i < 5; i++)
    amor_sampler_add_duration (sampler, ldexp (1.0, -20));
  plan = amor_optimizer_plan (optimizer, sampler, n_items);

  g_assert_true (amor_result_is_parallel (plan));
  g_assert_cmpuint (amor_result_get_n_workers (plan), ==, 2);
  g_assert_cmpuint (amor_result_get_chunk_size (plan), ==, 4);
  g_assert_cmpint (amor_result_get_schedule (plan), ==, schedule);

  return plan;
}

static guint
count_threads (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

/* Exactly once */

static void
check_sampled_run (AmorSchedule schedule)
{
  const guint64 n_items = 20000;
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (schedule);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GError) error = NULL;
  AmorResult *result;

  /* 2 µs per item, 40 ms in all: parallel on a machine whose threads cost
   * nothing, whatever the sampled durations. */
  work->spin_ns = 2000;
  work->wait_for_helper = TRUE;

  g_assert_true (amor_executor_run (executor, n_items, work_item, work, NULL, &error));
  g_assert_no_error (error);

  work_check_exactly_once (work);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_items);
  g_assert_cmpuint (amor_executor_get_n_items (executor), ==, n_items);

  result = amor_executor_get_result (executor);
  g_assert_nonnull (result);
  g_assert_true (amor_result_is_parallel (result));
  g_assert_cmpint (amor_result_get_schedule (result), ==, schedule);
  g_assert_cmpuint (amor_result_get_n_items (result), ==, n_items);
  g_assert_cmpuint (amor_result_get_n_samples (result), >=, 2);
  g_assert_cmpfloat (amor_executor_get_elapsed (executor), >, 0.0);
  g_assert_cmpfloat (amor_executor_get_measured_speedup (executor), >, 0.0);
  g_assert_true (work->off_caller);
}

static void
test_exactly_once_fixed (void)
{
  check_sampled_run (AMOR_SCHEDULE_FIXED);
}

static void
test_exactly_once_guided (void)
{
  check_sampled_run (AMOR_SCHEDULE_GUIDED);
}

/* Fewer items than samples: the sampler processes all of them. */
static void
test_exactly_once_all_sampled (void)
{
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(GError) error = NULL;

  for (guint64 n_items = 1; n_items <= 12; n_items++)
    {
      g_autoptr(Work) work = work_new (n_items);

      g_assert_true (amor_executor_run (executor, n_items, work_item, work, NULL, &error));
      g_assert_no_error (error);
      work_check_exactly_once (work);
      g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_items);
    }
}

static gboolean
never_called (guint64   index,
              gpointer  user_data,
              GError  **error)
{
  g_assert_not_reached ();
}

static void
test_no_items (void)
{
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorResult) plan = hand_plan (2, 4, AMOR_SCHEDULE_FIXED, 100);
  g_autoptr(GError) error = NULL;

  g_assert_true (amor_executor_run (executor, 0, never_called, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 0);
  g_assert_nonnull (amor_executor_get_result (executor));
  g_assert_false (amor_result_is_parallel (amor_executor_get_result (executor)));

  g_assert_true (amor_executor_run_with_plan (executor, plan, 0, never_called, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 0);
}

/* Every plan shape, by hand, over the same map. */
static void
test_hand_plans (void)
{
  static const struct {
    guint        n_workers;
    guint64      chunk_size;
    AmorSchedule schedule;
  } plans[] = {
    { 1, 1, AMOR_SCHEDULE_SERIAL },
    { 2, 1, AMOR_SCHEDULE_FIXED },
    { 2, 7, AMOR_SCHEDULE_FIXED },
    { 2, 1000000, AMOR_SCHEDULE_FIXED },
    { 3, 13, AMOR_SCHEDULE_FIXED },
    { 64, 5, AMOR_SCHEDULE_FIXED },
    { 2, 1, AMOR_SCHEDULE_GUIDED },
    { 3, 16, AMOR_SCHEDULE_GUIDED },
    { 2, 0, AMOR_SCHEDULE_GUIDED },
    { 4, 3, AMOR_SCHEDULE_SERIAL },
  };
  const guint64 sizes[] = { 1, 2, 3, 17, 1000, 12345 };
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);

  for (guint p = 0; p < G_N_ELEMENTS (plans); p++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        g_autoptr(AmorResult) plan = hand_plan (plans[p].n_workers, plans[p].chunk_size,
                                                plans[p].schedule, 1000);
        g_autoptr(Work) work = work_new (sizes[s]);
        g_autoptr(GError) error = NULL;

        g_assert_true (amor_executor_run_with_plan (executor, plan, sizes[s],
                                                    work_item, work, NULL, &error));
        g_assert_no_error (error);
        work_check_exactly_once (work);
        g_assert_cmpuint (amor_executor_get_completed (executor), ==, sizes[s]);
        g_assert_true (amor_executor_get_result (executor) == plan);
      }
}

/* Errors */

static void
check_error (AmorExecutor *executor,
             AmorResult   *plan,
             guint64       n_items,
             guint64       fail_at)
{
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = g_strdup_printf ("Item %" G_GUINT64_FORMAT ": ", fail_at);
  guint64 n_done;
  gboolean ok;

  work->fail_at = fail_at;
  if (plan != NULL)
    ok = amor_executor_run_with_plan (executor, plan, n_items, work_item, work, NULL, &error);
  else
    ok = amor_executor_run (executor, n_items, work_item, work, NULL, &error);

  g_assert_false (ok);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_nonnull (strstr (error->message, "no such item"));

  n_done = work_check_at_most_once (work);
  g_assert_cmpint (work->calls[fail_at], ==, 1);
  g_assert_cmpint (work->done[fail_at], ==, 0);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_done);
  g_assert_cmpuint (n_done, <, n_items);
}

static void
test_error_parallel (void)
{
  const guint64 n_items = 10000;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) fixed = hand_plan (2, 7, AMOR_SCHEDULE_FIXED, n_items);
  g_autoptr(AmorResult) guided = hand_plan (2, 7, AMOR_SCHEDULE_GUIDED, n_items);
  g_autoptr(AmorResult) single = hand_plan (2, 1, AMOR_SCHEDULE_FIXED, n_items);

  check_error (executor, fixed, n_items, 4321);
  check_error (executor, fixed, n_items, 0);
  check_error (executor, fixed, n_items, n_items - 1);
  check_error (executor, guided, n_items, 4321);
  check_error (executor, guided, n_items, 0);
  check_error (executor, single, n_items, 17);
}

static void
test_error_sampled (void)
{
  const guint64 n_items = 20000;
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorSampler) sampler = amor_optimizer_create_sampler (optimizer);
  g_autoptr(Work) probe = work_new (n_items);
  const guint64 *sampled;
  gsize n_sampled;

  /* An index the sampler picks, and ones it does not. */
  g_assert_true (amor_sampler_run (sampler, n_items, work_item, probe, NULL));
  sampled = amor_sampler_get_sampled_indices (sampler, &n_sampled);
  g_assert_cmpuint (n_sampled, >=, 1);

  check_error (executor, NULL, n_items, sampled[0]);
  check_error (executor, NULL, n_items, n_items / 2 + 1);
  check_error (executor, NULL, n_items, 3);
}

/* A serial run stops exactly at the failing item. */
static void
test_error_serial (void)
{
  const guint64 n_items = 1000;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) plan = hand_plan (1, n_items, AMOR_SCHEDULE_SERIAL, n_items);
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GError) error = NULL;

  work->fail_at = 50;
  g_assert_false (amor_executor_run_with_plan (executor, plan, n_items, work_item, work, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_true (g_str_has_prefix (error->message, "Item 50: "));

  for (guint64 i = 0; i < n_items; i++)
    {
      g_assert_cmpint (work->calls[i], ==, i <= 50 ? 1 : 0);
      g_assert_cmpint (work->done[i], ==, i < 50 ? 1 : 0);
    }
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 50);
}

static gboolean
fail_without_error (guint64   index,
                    gpointer  user_data,
                    GError  **error)
{
  return index != 5;
}

/* FALSE without an error is a failure too. */
static void
test_error_without_error (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) plan = hand_plan (2, 3, AMOR_SCHEDULE_FIXED, 100);
  g_autoptr(GError) error = NULL;

  g_assert_false (amor_executor_run_with_plan (executor, plan, 100, fail_without_error,
                                               NULL, NULL, &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_WORK_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Item 5: "));
}

/* Cancellation */

static void
check_cancel (AmorExecutor *executor,
              AmorResult   *plan,
              guint64       n_items,
              guint64       cancel_at)
{
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GError) error = NULL;
  guint64 n_done;
  gboolean ok;

  work->cancel_at = cancel_at;
  work->cancellable = g_cancellable_new ();
  if (plan != NULL)
    ok = amor_executor_run_with_plan (executor, plan, n_items, work_item, work,
                                      work->cancellable, &error);
  else
    ok = amor_executor_run (executor, n_items, work_item, work, work->cancellable, &error);

  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  n_done = work_check_at_most_once (work);
  g_assert_cmpint (work->done[cancel_at], ==, 1);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_done);
  g_assert_cmpuint (n_done, <, n_items);

  /* The cancellation happened inside an item, before it returned: the
   * other workers may start the item they were about to, nothing more. */
  g_assert_cmpint (work->started_after, <=,
                   plan != NULL ? (gint) amor_result_get_n_workers (plan) - 1 : 1);
}

static void
test_cancel_parallel (void)
{
  const guint64 n_items = 10000;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) fixed = hand_plan (2, 7, AMOR_SCHEDULE_FIXED, n_items);
  g_autoptr(AmorResult) guided = hand_plan (2, 7, AMOR_SCHEDULE_GUIDED, n_items);

  check_cancel (executor, fixed, n_items, 4321);
  check_cancel (executor, fixed, n_items, 0);
  check_cancel (executor, guided, n_items, 4321);
  check_cancel (executor, guided, n_items, 1);
}

static void
test_cancel_sampled (void)
{
  const guint64 n_items = 20000;
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorSampler) sampler = amor_optimizer_create_sampler (optimizer);
  g_autoptr(Work) probe = work_new (n_items);
  const guint64 *sampled;
  gsize n_sampled;

  g_assert_true (amor_sampler_run (sampler, n_items, work_item, probe, NULL));
  sampled = amor_sampler_get_sampled_indices (sampler, &n_sampled);
  g_assert_cmpuint (n_sampled, >=, 1);

  /* While sampling: nothing but the cancelling item, and the ones sampled
   * before it, is done. */
  for (gsize i = 0; i < n_sampled; i++)
    check_cancel (executor, NULL, n_items, sampled[i]);

  check_cancel (executor, NULL, n_items, n_items / 2 + 1);
}

/* A serial run stops right after the cancelling item. */
static void
test_cancel_serial (void)
{
  const guint64 n_items = 1000;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) plan = hand_plan (1, n_items, AMOR_SCHEDULE_SERIAL, n_items);
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GError) error = NULL;

  work->cancel_at = 100;
  work->cancellable = g_cancellable_new ();
  g_assert_false (amor_executor_run_with_plan (executor, plan, n_items, work_item, work,
                                               work->cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  for (guint64 i = 0; i < n_items; i++)
    g_assert_cmpint (work->calls[i], ==, i <= 100 ? 1 : 0);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 101);
}

static void
test_cancel_before (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) plan = hand_plan (2, 4, AMOR_SCHEDULE_FIXED, 1000);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);

  g_assert_false (amor_executor_run (executor, 1000, never_called, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 0);
  g_clear_error (&error);

  g_assert_false (amor_executor_run_with_plan (executor, plan, 1000, never_called, NULL,
                                               cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 0);
}

/* run_with_plan */

static void
test_run_with_plan (void)
{
  const guint64 n_items = 5000;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) fixed = planned (AMOR_SCHEDULE_FIXED, n_items);
  g_autoptr(AmorResult) guided = planned (AMOR_SCHEDULE_GUIDED, n_items);
  g_autofree char *json = amor_result_to_json (fixed);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmorResult) loaded = amor_result_new_from_json (json, &error);
  AmorResult *plans[] = { fixed, guided, loaded };

  g_assert_no_error (error);

  for (guint p = 0; p < G_N_ELEMENTS (plans); p++)
    {
      g_autoptr(Work) work = work_new (n_items);

      g_assert_true (amor_executor_run_with_plan (executor, plans[p], n_items,
                                                  work_item, work, NULL, &error));
      g_assert_no_error (error);
      /* Nothing was sampled: every item ran in the run proper. */
      work_check_exactly_once (work);
      g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_items);
      g_assert_true (amor_executor_get_result (executor) == plans[p]);
    }

  /* A plan made for another number of items. */
  {
    g_autoptr(Work) work = work_new (3 * n_items + 1);

    g_assert_true (amor_executor_run_with_plan (executor, fixed, 3 * n_items + 1,
                                                work_item, work, NULL, &error));
    g_assert_no_error (error);
    work_check_exactly_once (work);
  }
}

/* Serial plans */

static void
test_serial_on_calling_thread (void)
{
  const guint64 n_items = 2000;
  g_autoptr(AmorOptimizer) optimizer = serial_optimizer ();
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorResult) plan = hand_plan (1, n_items, AMOR_SCHEDULE_SERIAL, n_items);
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(Work) work = work_new (n_items);

    g_assert_true (amor_executor_run (executor, n_items, work_item, work, NULL, &error));
    g_assert_no_error (error);
    work_check_exactly_once (work);
    g_assert_false (amor_result_is_parallel (amor_executor_get_result (executor)));
    g_assert_false (work->off_caller);
  }

  {
    g_autoptr(Work) work = work_new (n_items);

    g_assert_true (amor_executor_run_with_plan (executor, plan, n_items, work_item, work,
                                                NULL, &error));
    g_assert_no_error (error);
    work_check_exactly_once (work);
    g_assert_false (work->off_caller);
  }
}

/* In a process that never ran a parallel map, a serial one starts no
 * thread at all. */
static void
test_serial_starts_no_thread (void)
{
  if (g_test_subprocess ())
    {
      const guint64 n_items = 2000;
      g_autoptr(AmorOptimizer) optimizer = serial_optimizer ();
      g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
      g_autoptr(AmorResult) plan = hand_plan (1, n_items, AMOR_SCHEDULE_SERIAL, n_items);
      g_autoptr(Work) sampled = work_new (n_items);
      g_autoptr(Work) planned_work = work_new (n_items);
      g_autoptr(GError) error = NULL;
      guint before = count_threads ();

      g_assert_true (amor_executor_run (executor, n_items, work_item, sampled, NULL, &error));
      g_assert_no_error (error);
      g_assert_false (amor_result_is_parallel (amor_executor_get_result (executor)));
      work_check_exactly_once (sampled);

      g_assert_true (amor_executor_run_with_plan (executor, plan, n_items, work_item,
                                                  planned_work, NULL, &error));
      g_assert_no_error (error);
      work_check_exactly_once (planned_work);

      g_assert_cmpuint (count_threads (), ==, before);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Nesting */

typedef struct
{
  guint64  n_inner;
  gint    *calls;        /* n_outer * n_inner (atomic) */
  GThread *thread;
} Inner;

static gboolean
inner_item (guint64   index,
            gpointer  user_data,
            GError  **error)
{
  Inner *inner = user_data;

  /* Inline, on the thread of the outer item. */
  g_assert_true (g_thread_self () == inner->thread);
  g_atomic_int_inc (&inner->calls[index]);
  return TRUE;
}

typedef struct
{
  guint64  n_inner;
  gint    *calls;
} Outer;

static gboolean
outer_item (guint64   index,
            gpointer  user_data,
            GError  **error)
{
  Outer *outer = user_data;
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  Inner inner = {
    .n_inner = outer->n_inner,
    .calls = outer->calls + index * outer->n_inner,
    .thread = g_thread_self (),
  };
  AmorResult *result;

  g_assert_true (amor_pool_in_team ());

  if (!amor_executor_run (executor, outer->n_inner, inner_item, &inner, NULL, error))
    return FALSE;

  g_assert_cmpuint (amor_executor_get_completed (executor), ==, outer->n_inner);
  result = amor_executor_get_result (executor);
  g_assert_nonnull (result);
  g_assert_cmpint (amor_result_get_schedule (result), ==, AMOR_SCHEDULE_SERIAL);
  g_assert_cmpuint (amor_result_get_n_workers (result), ==, 1);
  g_assert_cmpuint (amor_result_get_n_samples (result), ==, 0);
  g_assert_nonnull (strstr (amor_result_get_reason (result), "nested"));

  return TRUE;
}

static void
test_nested (void)
{
  const guint64 n_outer = 16, n_inner = 500;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) plan = hand_plan (2, 1, AMOR_SCHEDULE_FIXED, n_outer);
  g_autoptr(GError) error = NULL;
  Outer outer = { .n_inner = n_inner, .calls = g_new0 (gint, n_outer * n_inner) };

  g_assert_true (amor_executor_run_with_plan (executor, plan, n_outer, outer_item, &outer,
                                              NULL, &error));
  g_assert_no_error (error);

  for (guint64 i = 0; i < n_outer * n_inner; i++)
    g_assert_cmpint (outer.calls[i], ==, 1);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_outer);

  g_free (outer.calls);
}

/* One map at a time per executor */

static gboolean
run_again_item (guint64   index,
                gpointer  user_data,
                GError  **error)
{
  AmorExecutor *executor = user_data;
  g_autoptr(GError) local_error = NULL;

  if (index == 3)
    {
      g_assert_false (amor_executor_run (executor, 10, never_called, NULL, NULL, &local_error));
      g_assert_error (local_error, G_IO_ERROR, G_IO_ERROR_PENDING);
    }

  return TRUE;
}

static void
test_pending (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) serial = hand_plan (1, 10, AMOR_SCHEDULE_SERIAL, 10);
  g_autoptr(AmorResult) parallel = hand_plan (2, 1, AMOR_SCHEDULE_FIXED, 10);
  g_autoptr(GError) error = NULL;

  g_assert_true (amor_executor_run_with_plan (executor, serial, 10, run_again_item, executor,
                                              NULL, &error));
  g_assert_no_error (error);
  g_assert_true (amor_executor_run_with_plan (executor, parallel, 10, run_again_item, executor,
                                              NULL, &error));
  g_assert_no_error (error);

  /* And the executor is free again afterwards. */
  g_assert_true (amor_executor_run_with_plan (executor, serial, 10, run_again_item, executor,
                                              NULL, &error));
  g_assert_no_error (error);
}

/* Properties */

static void
test_properties (void)
{
  const guint64 n_items = 1000;
  g_autoptr(AmorOptimizer) optimizer = serial_optimizer ();
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorExecutor) plain = amor_executor_new (NULL);
  g_autoptr(AmorOptimizer) got = NULL;
  g_autoptr(AmorResult) result = NULL;
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GError) error = NULL;
  guint64 completed = 1, items = 1;
  double elapsed = 1, speedup = 1;

  g_assert_true (amor_executor_get_optimizer (executor) == optimizer);
  g_assert_true (AMOR_IS_OPTIMIZER (amor_executor_get_optimizer (plain)));

  g_object_get (executor,
                "optimizer", &got,
                "result", &result,
                "completed", &completed,
                "n-items", &items,
                "elapsed", &elapsed,
                "measured-speedup", &speedup,
                NULL);
  g_assert_true (got == optimizer);
  g_assert_null (result);
  g_assert_cmpuint (completed, ==, 0);
  g_assert_cmpuint (items, ==, 0);
  g_assert_cmpfloat (elapsed, ==, 0.0);
  g_assert_cmpfloat (speedup, ==, 0.0);

  work->spin_ns = 1000;
  g_assert_true (amor_executor_run (executor, n_items, work_item, work, NULL, &error));
  g_assert_no_error (error);

  g_object_get (executor,
                "result", &result,
                "completed", &completed,
                "n-items", &items,
                "elapsed", &elapsed,
                "measured-speedup", &speedup,
                NULL);
  g_assert_true (result == amor_executor_get_result (executor));
  g_assert_cmpuint (completed, ==, n_items);
  g_assert_cmpuint (items, ==, n_items);
  g_assert_cmpfloat (elapsed, ==, amor_executor_get_elapsed (executor));
  g_assert_cmpfloat (elapsed, >, 0.0);
  /* Serial time estimated from the samples over the measured time. */
  g_assert_cmpfloat (speedup, >, 0.0);
  g_assert_cmpfloat_with_epsilon (speedup,
                                  amor_result_get_estimated_serial_time (result) / elapsed,
                                  1e-9 * speedup);
}

/* Notifications */

typedef struct
{
  GThread *thread;      /* where they must arrive */
  guint    n_notify;
  guint    n_elsewhere;
  guint64  last;
  gboolean decreased;
} Notes;

static void
on_completed (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  Notes *notes = user_data;
  guint64 completed = amor_executor_get_completed (AMOR_EXECUTOR (object));

  notes->n_notify++;
  if (g_thread_self () != notes->thread)
    notes->n_elsewhere++;
  if (completed < notes->last)
    notes->decreased = TRUE;
  notes->last = completed;
}

/* A blocking run from the thread of the context notifies once, at its end,
 * on that thread. */
static void
test_notify_blocking (void)
{
  const guint64 n_items = 20000;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) plan = hand_plan (2, 16, AMOR_SCHEDULE_FIXED, n_items);
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GError) error = NULL;
  Notes notes = { .thread = g_thread_self () };

  work->spin_ns = 2000;
  g_signal_connect (executor, "notify::completed", G_CALLBACK (on_completed), &notes);

  g_assert_true (amor_executor_run_with_plan (executor, plan, n_items, work_item, work,
                                              NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (notes.n_notify, ==, 1);
  g_assert_cmpuint (notes.n_elsewhere, ==, 0);
  g_assert_cmpuint (notes.last, ==, n_items);

  /* Nothing was left queued on the context. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (notes.n_notify, ==, 1);
}

typedef struct
{
  AmorExecutor *executor;
  AmorResult   *plan;
  Work         *work;
  gboolean      ok;
  gint          finished;
} ThreadRun;

static gpointer
thread_run_func (gpointer data)
{
  ThreadRun *tr = data;

  tr->ok = amor_executor_run_with_plan (tr->executor, tr->plan, tr->work->n_items,
                                        work_item, tr->work, NULL, NULL);
  g_atomic_int_set (&tr->finished, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* A blocking run on another thread, while this thread runs the context:
 * the notifications arrive here. */
static void
test_notify_from_other_thread (void)
{
  const guint64 n_items = 20000;
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) plan = hand_plan (2, 16, AMOR_SCHEDULE_FIXED, n_items);
  g_autoptr(Work) work = work_new (n_items);
  Notes notes = { .thread = g_thread_self () };
  ThreadRun tr = { executor, plan, work, FALSE, 0 };
  GThread *thread;

  work->spin_ns = 5000;
  work->caller = NULL;
  g_signal_connect (executor, "notify::completed", G_CALLBACK (on_completed), &notes);

  /* Own the context the whole time, as a running main loop does. */
  g_assert_true (g_main_context_acquire (NULL));
  thread = g_thread_new ("blocking-run", thread_run_func, &tr);
  while (!g_atomic_int_get (&tr.finished))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  /* The final notification is on its way. */
  while (notes.last != n_items)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_main_context_release (NULL);

  g_assert_true (tr.ok);
  work_check_exactly_once (work);
  g_assert_cmpuint (notes.n_notify, >=, 1);
  g_assert_cmpuint (notes.n_elsewhere, ==, 0);
  g_assert_false (notes.decreased);
}

/* run_async */

typedef struct
{
  GMainLoop *loop;
  GThread   *main_thread;
  Work      *work;
  gboolean   finished;
  gboolean   ok;
  GError    *error;
  gint       n_destroyed;
  gboolean   destroyed_on_main;
  gboolean   destroyed_before_callback;
} AsyncRun;

static void
async_destroy (gpointer data)
{
  AsyncRun *ar = data;

  ar->n_destroyed++;
  ar->destroyed_on_main = g_thread_self () == ar->main_thread;
}

static gboolean
async_item (guint64   index,
            gpointer  user_data,
            GError  **error)
{
  AsyncRun *ar = user_data;

  /* Never on the caller's thread. */
  g_assert_true (g_thread_self () != ar->main_thread);
  return work_item (index, ar->work, error);
}

static void
async_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncRun *ar = user_data;

  g_assert_true (g_thread_self () == ar->main_thread);
  ar->destroyed_before_callback = ar->n_destroyed == 1;
  ar->ok = amor_executor_run_finish (AMOR_EXECUTOR (source), result, &ar->error);
  ar->finished = TRUE;
  g_main_loop_quit (ar->loop);
}

static void
test_async (void)
{
  const guint64 n_items = 5000;
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_GUIDED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  Notes notes = { .thread = g_thread_self () };
  AsyncRun ar = { .loop = loop, .main_thread = g_thread_self (), .work = work };

  /* 20 µs per item, 100 ms of work: a few progress ticks. */
  work->spin_ns = 20000;
  g_signal_connect (executor, "notify::completed", G_CALLBACK (on_completed), &notes);

  amor_executor_run_async (executor, n_items, async_item, &ar, async_destroy, NULL,
                           async_done, &ar);

  /* A second run while this one goes on is refused. */
  g_assert_false (amor_executor_run (executor, 10, never_called, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);

  g_main_loop_run (loop);

  g_assert_true (ar.finished);
  g_assert_no_error (ar.error);
  g_assert_true (ar.ok);
  g_assert_cmpint (ar.n_destroyed, ==, 1);
  g_assert_true (ar.destroyed_on_main);
  g_assert_true (ar.destroyed_before_callback);

  work_check_exactly_once (work);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_items);
  g_assert_true (amor_result_is_parallel (amor_executor_get_result (executor)));

  g_assert_cmpuint (notes.n_notify, >=, 1);
  g_assert_cmpuint (notes.n_elsewhere, ==, 0);
  g_assert_cmpuint (notes.last, ==, n_items);
  g_assert_false (notes.decreased);
}

static void
test_async_error (void)
{
  const guint64 n_items = 5000;
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(Work) work = work_new (n_items);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Notes notes = { .thread = g_thread_self () };
  AsyncRun ar = { .loop = loop, .main_thread = g_thread_self (), .work = work };
  guint64 n_done;

  work->spin_ns = 2000;
  work->fail_at = 3001;
  g_signal_connect (executor, "notify::completed", G_CALLBACK (on_completed), &notes);

  amor_executor_run_async (executor, n_items, async_item, &ar, async_destroy, NULL,
                           async_done, &ar);
  g_main_loop_run (loop);

  g_assert_false (ar.ok);
  g_assert_error (ar.error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_true (g_str_has_prefix (ar.error->message, "Item 3001: "));
  g_clear_error (&ar.error);
  g_assert_cmpint (ar.n_destroyed, ==, 1);
  g_assert_true (ar.destroyed_on_main);

  n_done = work_check_at_most_once (work);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_done);
  g_assert_cmpuint (notes.last, ==, n_done);
  g_assert_cmpuint (notes.n_elsewhere, ==, 0);
}

static void
test_async_cancel (void)
{
  const guint64 n_items = 5000;
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  /* Cancelled at an item, then before the start. */
  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(Work) work = work_new (n_items);
      AsyncRun ar = { .loop = loop, .main_thread = g_thread_self (), .work = work };
      guint64 n_done;

      work->spin_ns = 2000;
      work->cancellable = g_cancellable_new ();
      if (round == 0)
        work->cancel_at = 2500;
      else
        g_cancellable_cancel (work->cancellable);

      amor_executor_run_async (executor, n_items, async_item, &ar, async_destroy,
                               work->cancellable, async_done, &ar);
      g_main_loop_run (loop);

      g_assert_false (ar.ok);
      g_assert_error (ar.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&ar.error);
      g_assert_cmpint (ar.n_destroyed, ==, 1);

      n_done = work_check_at_most_once (work);
      g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_done);
      if (round == 0)
        g_assert_cmpint (work->done[2500], ==, 1);
      else
        g_assert_cmpuint (n_done, ==, 0);
    }
}

/* Threads */

static gboolean
tiny_item (guint64   index,
           gpointer  user_data,
           GError  **error)
{
  guint64 *out = user_data;

  out[index] = value (index);
  return TRUE;
}

static void
test_threads_reused (void)
{
  const guint64 n_items = 64;
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer (AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorResult) fixed = hand_plan (2, 4, AMOR_SCHEDULE_FIXED, n_items);
  g_autoptr(AmorResult) guided = hand_plan (3, 2, AMOR_SCHEDULE_GUIDED, n_items);
  g_autoptr(GError) error = NULL;
  guint64 out[64];
  guint before;

  /* The first parallel run starts the pool's threads. */
  g_assert_true (amor_executor_run_with_plan (executor, fixed, n_items, tiny_item, out,
                                              NULL, &error));
  g_assert_no_error (error);
  before = count_threads ();

  for (guint i = 0; i < 1000; i++)
    {
      memset (out, 0, sizeof out);
      switch (i % 3)
        {
        case 0:
          g_assert_true (amor_executor_run_with_plan (executor, fixed, n_items, tiny_item,
                                                      out, NULL, &error));
          break;
        case 1:
          g_assert_true (amor_executor_run_with_plan (executor, guided, n_items, tiny_item,
                                                      out, NULL, &error));
          break;
        default:
          g_assert_true (amor_executor_run (executor, n_items, tiny_item, out, NULL, &error));
          break;
        }
      g_assert_no_error (error);
      for (guint64 j = 0; j < n_items; j++)
        g_assert_cmpuint (out[j], ==, value (j));
    }

  g_assert_cmpuint (count_threads (), ==, before);
}

/* The pool */

typedef struct
{
  gint     ran[8];
  gint     in_team;
  GThread *caller;
  gint     worker0_on_caller;
} TeamRun;

static void
team_func (guint    worker,
           gpointer data)
{
  TeamRun *tr = data;

  g_atomic_int_inc (&tr->ran[worker]);
  if (amor_pool_in_team ())
    g_atomic_int_inc (&tr->in_team);
  if (worker == 0 && g_thread_self () == tr->caller)
    tr->worker0_on_caller = 1;
}

static void
test_pool_team (void)
{
  for (guint n = 1; n <= 4; n++)
    {
      TeamRun full = { .caller = g_thread_self () };
      TeamRun elastic = { .caller = g_thread_self () };
      guint n_ran;

      amor_pool_run_team (n, team_func, &full);
      for (guint i = 0; i < n; i++)
        g_assert_cmpint (full.ran[i], ==, 1);
      g_assert_cmpint (full.in_team, ==, n);
      g_assert_true (full.worker0_on_caller);

      n_ran = amor_pool_run_team_elastic (n, team_func, &elastic);
      g_assert_cmpuint (n_ran, >=, 1);
      g_assert_cmpuint (n_ran, <=, n);
      g_assert_cmpint (elastic.ran[0], ==, 1);
      g_assert_true (elastic.worker0_on_caller);
      for (guint i = 0, total = 0; i < n; i++)
        {
          g_assert_cmpint (elastic.ran[i], <=, 1);
          total += elastic.ran[i];
          if (i == n - 1)
            g_assert_cmpuint (total, ==, n_ran);
        }
      g_assert_false (amor_pool_in_team ());
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/executor/serial/starts-no-thread", test_serial_starts_no_thread);
  g_test_add_func ("/executor/serial/calling-thread", test_serial_on_calling_thread);
  g_test_add_func ("/executor/exactly-once/fixed", test_exactly_once_fixed);
  g_test_add_func ("/executor/exactly-once/guided", test_exactly_once_guided);
  g_test_add_func ("/executor/exactly-once/all-sampled", test_exactly_once_all_sampled);
  g_test_add_func ("/executor/exactly-once/no-items", test_no_items);
  g_test_add_func ("/executor/exactly-once/hand-plans", test_hand_plans);
  g_test_add_func ("/executor/error/parallel", test_error_parallel);
  g_test_add_func ("/executor/error/sampled", test_error_sampled);
  g_test_add_func ("/executor/error/serial", test_error_serial);
  g_test_add_func ("/executor/error/without-error", test_error_without_error);
  g_test_add_func ("/executor/cancel/parallel", test_cancel_parallel);
  g_test_add_func ("/executor/cancel/sampled", test_cancel_sampled);
  g_test_add_func ("/executor/cancel/serial", test_cancel_serial);
  g_test_add_func ("/executor/cancel/before", test_cancel_before);
  g_test_add_func ("/executor/run-with-plan", test_run_with_plan);
  g_test_add_func ("/executor/nested", test_nested);
  g_test_add_func ("/executor/pending", test_pending);
  g_test_add_func ("/executor/properties", test_properties);
  g_test_add_func ("/executor/notify/blocking", test_notify_blocking);
  g_test_add_func ("/executor/notify/other-thread", test_notify_from_other_thread);
  g_test_add_func ("/executor/threads/reused", test_threads_reused);
  g_test_add_func ("/executor/async/run", test_async);
  g_test_add_func ("/executor/async/error", test_async_error);
  g_test_add_func ("/executor/async/cancel", test_async_cancel);
  g_test_add_func ("/executor/pool/team", test_pool_team);

  return g_test_run ();
}
