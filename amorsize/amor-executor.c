/* amor-executor.c: run a map with a plan on worker threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>

#include "amor-debug-private.h"
#include "amor-system-private.h"
#include "amor-executor.h"
#include "amor-error.h"
#include "amor-optimizer.h"
#include "amor-sampler.h"
#include "amor-system.h"
#include "amor-clock-private.h"
#include "amor-pool-private.h"
#include "amor-result-private.h"
#include "amor-work-private.h"

/**
 * AmorExecutor:
 *
 * Runs a map over `n_items` independent items: processes every index in
 * `[0, n_items)` exactly once with a [callback@Amor.WorkFunc], in parallel
 * when that pays.
 *
 * [method@Amor.Executor.run] first times a few items with a
 * [class@Amor.Sampler] created by its [property@Amor.Executor:optimizer],
 * asks the optimizer for a plan ([class@Amor.Result]), then runs the items
 * that were not sampled with that plan. A sampled item is never run again:
 * every item is processed exactly once across sampling and execution.
 * [method@Amor.Executor.run_with_plan] skips the sampling and runs every
 * item with a plan the caller gives (one loaded from JSON, or tuned by
 * hand).
 *
 * A serial plan runs every item in order on the calling thread and starts
 * no thread. A parallel plan runs as a team of workers: the calling thread
 * is worker 0, the others are long-lived threads of one process-wide
 * thread pool, reused by every run of every executor. The workers take
 * chunks of items from one shared counter — never one hand-out per item —
 * in the chunk size and [enum@Amor.Schedule] of the plan.
 *
 * The first error returned by the callback stops the run: it is reported
 * with the index of its item (`Item 42: …`), and every worker stops before
 * its next item. Cancelling the [class@Gio.Cancellable] stops the run the
 * same way with %G_IO_ERROR_CANCELLED; a run cancelled before it starts
 * runs nothing. Either way [property@Amor.Executor:completed] counts exactly
 * the items that were processed.
 *
 * Progress is reported through the [property@Amor.Executor:completed]
 * property. Its `notify` signal, like every signal of the executor, is
 * emitted only on the thread-default [struct@GLib.MainContext] of the
 * thread that started the run — at most about 30 times a second while the
 * run goes on, and once at the end — never on a worker thread. A blocking
 * [method@Amor.Executor.run] called from the thread that iterates that
 * context blocks the context too, so it notifies once, when it returns;
 * [method@Amor.Executor.run_async] keeps the context running and reports
 * progress as it goes.
 *
 * A work callback may itself run a map (with another executor): the inner
 * map then runs inline, serially, on the worker thread that called it, with
 * no sampling and no threads of its own, so nested maps neither
 * oversubscribe the processors nor deadlock.
 *
 * One executor runs one map at a time: a second run started on an executor
 * while a run is in progress fails with %G_IO_ERROR_PENDING. Use one
 * executor per concurrent or nested map; they all share the same worker
 * threads.
 *
 * ```c
 * static gboolean
 * square_item (guint64   index,
 *              gpointer  user_data,
 *              GError  **error)
 * {
 *   double *squares = user_data;
 *
 *   squares[index] = (double) index * (double) index;
 *   return TRUE;
 * }
 *
 * static void
 * squares (guint64 n)
 * {
 *   g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
 *   g_autoptr(GError) error = NULL;
 *   g_autofree double *squares = g_new (double, n);
 *
 *   if (!amor_executor_run (executor, n, square_item, squares, NULL, &error))
 *     {
 *       g_printerr ("%s\n", error->message);
 *       return;
 *     }
 *
 *   g_print ("%u workers, %.2f× faster than a loop\n",
 *            amor_result_get_n_workers (amor_executor_get_result (executor)),
 *            amor_executor_get_measured_speedup (executor));
 * }
 * ```
 *
 * Since: 0.1
 */

/* Notifications of the caller's context: at most this often while running. */
#define AMOR_PROGRESS_INTERVAL_MS 33

#define AMOR_CACHE_LINE 64

struct _AmorExecutor
{
  GObject        parent_instance;

  AmorOptimizer *optimizer;
  AmorResult    *result;
  double         elapsed;
  double         measured_speedup;

  guint64        completed;           /* atomic: the workers add to it */
  guint64        n_items;             /* atomic */
  gint           running;             /* atomic: a run is in progress */

  /* The last value notified; touched on the caller's context only. */
  guint64        notified_completed;
};

G_DEFINE_FINAL_TYPE (AmorExecutor, amor_executor, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_OPTIMIZER,
  PROP_RESULT,
  PROP_COMPLETED,
  PROP_N_ITEMS,
  PROP_ELAPSED,
  PROP_MEASURED_SPEEDUP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Why the workers stop. */
enum {
  AMOR_RUN_GOING,
  AMOR_RUN_FAILED,
  AMOR_RUN_CANCELLED,
};

/* One run of a map. The counter and the stop flag, written while the others
 * read, sit on cache lines of their own. */
typedef struct
{
  /* The next index to hand out (atomic). */
  guint64        next __attribute__ ((aligned (AMOR_CACHE_LINE)));

  /* AMOR_RUN_*: set once, by the first error or the cancellation (atomic). */
  gint           stop __attribute__ ((aligned (AMOR_CACHE_LINE)));

  /* Read-only while the workers run. */
  AmorExecutor  *self __attribute__ ((aligned (AMOR_CACHE_LINE)));
  AmorWorkFunc   func;
  gpointer       user_data;
  GDestroyNotify user_data_destroy;
  guint64        n_items;
  guint64        chunk_size;
  guint          n_workers;

  /* Fork-join observation (amor_run_with_plan): the latest time a team
   * worker started and ended (atomic maxima, CLOCK_MONOTONIC ns). */
  gint64         last_worker_start;
  gint64         last_worker_end;
  AmorSchedule   schedule;
  gboolean       fetch_add;           /* fixed chunks, claimed by atomic add */
  gboolean       nested;

  /* Indices the sampler already processed: sorted, unique, < n_items. */
  const guint64 *skip;
  gsize          n_skip;
  guint64       *skip_copy;
  AmorSampler   *sampler;

  AmorResult    *plan;
  GError        *error;               /* the first error (see stop) */
  GCancellable  *cancellable;
  gulong         cancelled_id;
  gint64         start_ns;
  double         elapsed;

  /* Where and how notifications go. */
  GMainContext  *context;
  gboolean       direct;              /* emit on the calling thread itself */
  GSource       *progress_source;
} AmorRun;

static AmorRun *
amor_run_new (AmorExecutor   *self,
              AmorResult     *plan,
              guint64         n_items,
              AmorWorkFunc    func,
              gpointer        user_data,
              GDestroyNotify  user_data_destroy,
              GCancellable   *cancellable)
{
  AmorRun *run = g_aligned_alloc0 (1, sizeof (AmorRun), AMOR_CACHE_LINE);

  run->self = g_object_ref (self);
  run->plan = plan != NULL ? g_object_ref (plan) : NULL;
  run->n_items = n_items;
  run->func = func;
  run->user_data = user_data;
  run->user_data_destroy = user_data_destroy;
  run->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  run->nested = amor_pool_in_team ();

  return run;
}

static void
amor_run_free (AmorRun *run)
{
  if (run->user_data_destroy != NULL)
    run->user_data_destroy (run->user_data);

  g_assert (run->progress_source == NULL);
  g_clear_pointer (&run->context, g_main_context_unref);
  g_clear_error (&run->error);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->plan);
  g_clear_object (&run->sampler);
  g_free (run->skip_copy);
  g_object_unref (run->self);
  g_aligned_free (run);
}

/* Records why the run stops; only the first reason counts. Takes @error. */
static void
amor_run_stop (AmorRun *run,
               gint     reason,
               GError  *error)
{
  gint going = AMOR_RUN_GOING;

  if (__atomic_compare_exchange_n (&run->stop, &going, reason, FALSE,
                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    run->error = error;
  else if (error != NULL)
    g_error_free (error);
}

static inline gboolean
amor_run_stopped (AmorRun *run)
{
  return __atomic_load_n (&run->stop, __ATOMIC_RELAXED) != AMOR_RUN_GOING;
}

static void
amor_run_cancelled_cb (GCancellable *cancellable,
                       gpointer      data)
{
  amor_run_stop (data, AMOR_RUN_CANCELLED, NULL);
}

/* Runs the items of [lo, hi) (none of them sampled), adding one to @done
 * per item processed. In a serial run @done is the executor's count and is
 * published after every item (one writer: a plain store suffices); a team
 * worker publishes its count once per chunk instead. Returns FALSE when the
 * run stops. */
static inline gboolean
amor_run_segment (AmorRun  *run,
                  guint64   lo,
                  guint64   hi,
                  guint64  *done,
                  gboolean  serial)
{
  for (guint64 i = lo; i < hi; i++)
    {
      GError *local_error = NULL;

      if (G_UNLIKELY (amor_run_stopped (run)))
        return FALSE;

      if (G_UNLIKELY (!amor_work_call (run->func, run->user_data, i, &local_error)))
        {
          amor_run_stop (run, AMOR_RUN_FAILED, local_error);
          return FALSE;
        }

      *done += 1;
      if (serial)
        __atomic_store_n (&run->self->completed, *done, __ATOMIC_RELAXED);
    }

  return TRUE;
}

/* The position of the first sampled index >= @index. */
static gsize
amor_run_skip_lower_bound (AmorRun *run,
                           guint64  index)
{
  gsize lo = 0, hi = run->n_skip;

  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;

      if (run->skip[mid] < index)
        lo = mid + 1;
      else
        hi = mid;
    }

  return lo;
}

/* Runs [lo, hi) but for the sampled indices. */
static gboolean
amor_run_range (AmorRun  *run,
                guint64   lo,
                guint64   hi,
                guint64  *done,
                gboolean  serial)
{
  gsize k;

  if (run->n_skip == 0)
    return amor_run_segment (run, lo, hi, done, serial);

  k = amor_run_skip_lower_bound (run, lo);
  while (k < run->n_skip && run->skip[k] < hi)
    {
      if (!amor_run_segment (run, lo, run->skip[k], done, serial))
        return FALSE;
      lo = run->skip[k] + 1;
      k++;
    }

  return amor_run_segment (run, lo, hi, done, serial);
}

/* Hands the calling worker its next chunk [*lo, *hi). */
static inline gboolean
amor_run_claim (AmorRun  *run,
                guint64  *lo,
                guint64  *hi)
{
  guint64 n = run->n_items;
  guint64 start, size;

  if (G_UNLIKELY (amor_run_stopped (run)))
    return FALSE;

  if (run->fetch_add)
    {
      /* One atomic add per chunk; each worker adds at most one chunk past
       * the end (see amor_run_with_plan() for why it cannot overflow). */
      start = __atomic_fetch_add (&run->next, run->chunk_size, __ATOMIC_RELAXED);
      if (start >= n)
        return FALSE;
      *lo = start;
      *hi = start + MIN (run->chunk_size, n - start);
      return TRUE;
    }

  start = __atomic_load_n (&run->next, __ATOMIC_RELAXED);
  do
    {
      guint64 remaining;

      if (start >= n)
        return FALSE;

      remaining = n - start;
      size = run->chunk_size;
      if (run->schedule == AMOR_SCHEDULE_GUIDED)
        {
          guint64 share = remaining / (2 * (guint64) run->n_workers);

          if (share * 2 * run->n_workers < remaining)
            share++;
          size = MAX (size, share);
        }
      size = MIN (size, remaining);
    }
  while (!__atomic_compare_exchange_n (&run->next, &start, start + size, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED));

  *lo = start;
  *hi = start + size;
  return TRUE;
}

static inline void
amor_atomic_max (gint64 *target,
                 gint64  value)
{
  gint64 seen = __atomic_load_n (target, __ATOMIC_RELAXED);

  while (seen < value &&
         !__atomic_compare_exchange_n (target, &seen, value, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
}

static void
amor_run_team_worker (guint    worker,
                      gpointer data)
{
  AmorRun *run = data;
  guint64 lo, hi;

  amor_atomic_max (&run->last_worker_start, amor_clock_now_ns ());

  while (amor_run_claim (run, &lo, &hi))
    {
      guint64 done = 0;
      gboolean going = amor_run_range (run, lo, hi, &done, FALSE);

      if (done > 0)
        __atomic_add_fetch (&run->self->completed, done, __ATOMIC_RELAXED);
      if (!going)
        break;
    }

  amor_atomic_max (&run->last_worker_end, amor_clock_now_ns ());
}

static void
amor_run_serial (AmorRun *run)
{
  /* The sampled items are already counted. */
  guint64 done = __atomic_load_n (&run->self->completed, __ATOMIC_RELAXED);

  amor_run_range (run, 0, run->n_items, &done, TRUE);
}

/* The work callback as the sampler calls it: counts the item, and stops
 * sampling once the run stops. The error that stops the run is kept in
 * @run; the one returned to the sampler only makes it return. */
static gboolean
amor_run_sample_item (guint64   index,
                      gpointer  user_data,
                      GError  **error)
{
  AmorRun *run = user_data;
  GError *local_error = NULL;

  if (amor_run_stopped (run))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "The run was stopped");
      return FALSE;
    }

  if (!amor_work_call (run->func, run->user_data, index, &local_error))
    {
      amor_run_stop (run, AMOR_RUN_FAILED, local_error);
      g_set_error_literal (error, AMOR_ERROR, AMOR_ERROR_FAILED,
                           "The run was stopped");
      return FALSE;
    }

  __atomic_add_fetch (&run->self->completed, 1, __ATOMIC_RELAXED);
  return TRUE;
}

static int
amor_compare_guint64 (const void *a,
                      const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return (x > y) - (x < y);
}

/* Takes the sampled indices; the exactly-once promise rests on them being
 * sorted, unique and in range, so anything else is repaired in a copy. */
static void
amor_run_set_skip (AmorRun       *run,
                   const guint64 *indices,
                   gsize          n_indices)
{
  gboolean valid = TRUE;
  gsize n = 0;

  for (gsize i = 0; i < n_indices && valid; i++)
    valid = indices[i] < run->n_items && (i == 0 || indices[i - 1] < indices[i]);

  if (valid)
    {
      run->skip = indices;
      run->n_skip = n_indices;
      return;
    }

  run->skip_copy = g_memdup2 (indices, n_indices * sizeof (guint64));
  qsort (run->skip_copy, n_indices, sizeof (guint64), amor_compare_guint64);
  for (gsize i = 0; i < n_indices; i++)
    if (run->skip_copy[i] < run->n_items && (n == 0 || run->skip_copy[n - 1] != run->skip_copy[i]))
      run->skip_copy[n++] = run->skip_copy[i];

  run->skip = run->skip_copy;
  run->n_skip = n;
}

static void
amor_run_sample_and_plan (AmorRun *run)
{
  AmorOptimizer *optimizer = run->self->optimizer;
  AmorSampler *sampler = amor_optimizer_create_sampler (optimizer);
  const guint64 *indices;
  gsize n_indices = 0;

  if (run->n_items > 0)
    {
      GError *local_error = NULL;

      if (!amor_sampler_run (sampler, run->n_items, amor_run_sample_item, run, &local_error))
        {
          /* The reason the sampler stopped is in run->error already,
           * unless the sampler failed on its own. */
          amor_run_stop (run, AMOR_RUN_FAILED, local_error);
          g_object_unref (sampler);
          return;
        }
    }

  run->plan = amor_optimizer_plan (optimizer, sampler, run->n_items);
  run->sampler = sampler;

  indices = amor_sampler_get_sampled_indices (sampler, &n_indices);
  amor_run_set_skip (run, indices, n_indices);
}

/* The plan of a map started from inside a team worker. */
static AmorResult *
amor_run_nested_plan (AmorRun *run)
{
  AmorPlan plan = { 0 };

  plan.n_items = run->n_items;
  plan.n_cpus = 1;
  plan.n_physical_cores = 1;
  plan.min_speedup = amor_optimizer_get_min_speedup (run->self->optimizer);
  plan.n_workers = 1;
  plan.chunk_size = MAX (run->n_items, 1);
  plan.base_chunk_size = plan.chunk_size;
  plan.chunk_factor = 1.0;
  plan.schedule = AMOR_SCHEDULE_SERIAL;
  plan.estimated_speedup = 1.0;
  plan.reason = g_strdup ("ran inline on the calling thread: nested inside a "
                          "worker of another map, whose team already "
                          "occupies the processors, so it neither sampled "
                          "nor started threads");
  plan.warnings = g_new0 (char *, 1);
  plan.constraints = g_new0 (char *, 1);

  return amor_result_new_take_plan (&plan);
}

/* Runs the items with run->plan. */
static void
amor_run_with_plan (AmorRun *run)
{
  AmorResult *plan = run->plan;
  guint64 n = run->n_items;
  guint64 n_chunks;
  guint n_workers;

  run->schedule = amor_result_get_schedule (plan);
  run->chunk_size = CLAMP (amor_result_get_chunk_size (plan), 1, MAX (n, 1));
  n_workers = amor_result_get_n_workers (plan);

  /* More workers than chunks would idle. */
  n_chunks = n / run->chunk_size + (n % run->chunk_size != 0);
  if (n_chunks < n_workers)
    n_workers = (guint) n_chunks;

  if (run->schedule == AMOR_SCHEDULE_SERIAL || n_workers < 2 || n - run->n_skip < 2)
    {
      amor_run_serial (run);
      return;
    }

  /* More workers than threads would queue behind each other. */
  run->n_workers = MIN (n_workers, amor_pool_get_max_threads () + 1);
  if (run->schedule != AMOR_SCHEDULE_GUIDED)
    run->schedule = AMOR_SCHEDULE_FIXED;

  /* The counter ends at most one chunk (<= n) per worker past n. Beyond
   * that range (never in practice), chunks are claimed by compare and
   * exchange, which never passes n. */
  run->fetch_add = run->schedule == AMOR_SCHEDULE_FIXED &&
                   n <= G_MAXUINT64 / ((guint64) run->n_workers + 2);

  AMOR_DEBUG ("running %" G_GUINT64_FORMAT " items (%" G_GSIZE_FORMAT " sampled) "
           "on %u workers, %s chunks of %" G_GUINT64_FORMAT,
           n, run->n_skip, run->n_workers,
           run->schedule == AMOR_SCHEDULE_GUIDED ? "guided" : "fixed",
           run->chunk_size);

  {
    gint64 team_start = amor_clock_now_ns ();
    guint n_ran = amor_pool_run_team_elastic (run->n_workers, amor_run_team_worker, run);
    gint64 team_end = amor_clock_now_ns ();
    gint64 wake, join;

    /* What the team cost beyond the work: waking the last worker, and
     * joining after the last one ended. A worker that never woke up before
     * the work ran out cost at least the whole team's time. */
    wake = n_ran < run->n_workers ? team_end - team_start
                                  : run->last_worker_start - team_start;
    join = team_end - run->last_worker_end;
    if (!run->nested && wake >= 0 && join >= 0 && !amor_run_stopped (run))
      amor_system_observe_fork_join (amor_optimizer_get_system (run->self->optimizer),
                                     run->n_workers, (double) (wake + join) / 1e9);
  }
}

/* Everything between the start and the end of a run, on the thread that is
 * worker 0 (the caller's, or the task thread of run_async). */
static gboolean
amor_run_execute (AmorRun  *run,
                  GError  **error)
{
  gint stop;

  run->start_ns = amor_clock_now_ns ();

  if (g_cancellable_set_error_if_cancelled (run->cancellable, error))
    {
      if (run->nested)
        g_clear_object (&run->plan);
      run->elapsed = amor_clock_seconds_since (run->start_ns);
      return FALSE;
    }

  if (run->cancellable != NULL)
    run->cancelled_id = g_cancellable_connect (run->cancellable,
                                               G_CALLBACK (amor_run_cancelled_cb),
                                               run, NULL);

  if (run->nested)
    {
      g_clear_object (&run->plan);
      run->plan = amor_run_nested_plan (run);
      amor_run_serial (run);
    }
  else
    {
      if (run->plan == NULL)
        amor_run_sample_and_plan (run);
      if (run->plan != NULL && !amor_run_stopped (run))
        amor_run_with_plan (run);
    }

  if (run->cancelled_id != 0)
    g_cancellable_disconnect (run->cancellable, run->cancelled_id);
  run->cancelled_id = 0;

  run->elapsed = amor_clock_seconds_since (run->start_ns);

  stop = __atomic_load_n (&run->stop, __ATOMIC_ACQUIRE);
  if (stop == AMOR_RUN_FAILED)
    {
      g_propagate_error (error, g_steal_pointer (&run->error));
      return FALSE;
    }

  if (stop == AMOR_RUN_CANCELLED)
    {
      guint64 completed = amor_executor_get_completed (run->self);

      /* A cancellation that came when every item was done changes nothing. */
      if (completed < run->n_items)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                       "The map was cancelled after %" G_GUINT64_FORMAT
                       " of %" G_GUINT64_FORMAT " items",
                       completed, run->n_items);
          return FALSE;
        }
    }

  return TRUE;
}

/* Notifications */

enum {
  AMOR_NOTIFY_N_ITEMS          = 1 << 0,
  AMOR_NOTIFY_COMPLETED        = 1 << 1,
  AMOR_NOTIFY_RESULT           = 1 << 2,
  AMOR_NOTIFY_ELAPSED          = 1 << 3,
  AMOR_NOTIFY_MEASURED_SPEEDUP = 1 << 4,
};

/* On the caller's context. */
static void
amor_executor_emit (AmorExecutor *self,
                    guint         what)
{
  g_object_freeze_notify (G_OBJECT (self));

  if (what & AMOR_NOTIFY_N_ITEMS)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
  if (what & AMOR_NOTIFY_RESULT)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT]);
  if (what & AMOR_NOTIFY_ELAPSED)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ELAPSED]);
  if (what & AMOR_NOTIFY_MEASURED_SPEEDUP)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEASURED_SPEEDUP]);
  if (what & AMOR_NOTIFY_COMPLETED)
    {
      self->notified_completed = amor_executor_get_completed (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPLETED]);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

typedef struct
{
  AmorExecutor *self;
  guint         what;
} AmorNotifyIdle;

static gboolean
amor_notify_idle_cb (gpointer data)
{
  AmorNotifyIdle *idle = data;

  amor_executor_emit (idle->self, idle->what);
  return G_SOURCE_REMOVE;
}

static void
amor_notify_idle_free (gpointer data)
{
  AmorNotifyIdle *idle = data;

  g_object_unref (idle->self);
  g_free (idle);
}

static void
amor_executor_emit_for_run (AmorExecutor *self,
                            AmorRun      *run,
                            gboolean      direct,
                            guint         what)
{
  AmorNotifyIdle *idle;
  GSource *source;

  if (direct)
    {
      amor_executor_emit (self, what);
      return;
    }

  idle = g_new (AmorNotifyIdle, 1);
  idle->self = g_object_ref (self);
  idle->what = what;

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, amor_notify_idle_cb, idle, amor_notify_idle_free);
  g_source_set_static_name (source, "[amorsize] AmorExecutor notify");
  g_source_attach (source, run->context);
  g_source_unref (source);
}

static gboolean
amor_executor_progress_cb (gpointer data)
{
  AmorExecutor *self = data;

  if (amor_executor_get_completed (self) != self->notified_completed)
    amor_executor_emit (self, AMOR_NOTIFY_COMPLETED);

  return G_SOURCE_CONTINUE;
}

/* Fails when a run is in progress. */
static gboolean
amor_executor_begin (AmorExecutor  *self,
                     GError       **error)
{
  if (!g_atomic_int_compare_and_exchange (&self->running, FALSE, TRUE))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           "This AmorExecutor is already running a map; use "
                           "one executor per concurrent or nested map");
      return FALSE;
    }

  return TRUE;
}

/* On the thread that starts the run: resets the progress and, when the
 * caller's context runs elsewhere (or @always_tick), starts the ticking
 * notifications there. */
static void
amor_executor_start (AmorExecutor *self,
                     AmorRun      *run,
                     gboolean      always_tick)
{
  run->context = g_main_context_ref_thread_default ();

  if (run->nested)
    {
      /* The calling thread is a worker of another map; its own caller's
       * context has nothing to do with this inner map. */
      run->direct = TRUE;
      always_tick = FALSE;
    }
  else
    {
      /* Nobody else iterates the context: the calling thread is the one
       * to deliver the notifications. */
      run->direct = g_main_context_acquire (run->context);
      if (run->direct)
        g_main_context_release (run->context);
    }

  __atomic_store_n (&self->completed, 0, __ATOMIC_RELAXED);
  if (__atomic_exchange_n (&self->n_items, run->n_items, __ATOMIC_RELAXED) != run->n_items)
    amor_executor_emit_for_run (self, run, run->direct, AMOR_NOTIFY_N_ITEMS);

  if (always_tick || !run->direct)
    {
      GSource *source = g_timeout_source_new (AMOR_PROGRESS_INTERVAL_MS);

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, amor_executor_progress_cb,
                             g_object_ref (self), g_object_unref);
      g_source_set_static_name (source, "[amorsize] AmorExecutor progress");
      g_source_attach (source, run->context);
      run->progress_source = source;
    }
}

static double
amor_run_estimated_serial_time (AmorRun *run)
{
  if (run->plan == NULL)
    return 0;
  if (amor_result_get_n_items (run->plan) == run->n_items)
    return amor_result_get_estimated_serial_time (run->plan);
  return amor_result_get_mean (run->plan) * (double) run->n_items;
}

/* After the run: publishes the outcome and the final notifications, then
 * lets the next run begin. @direct: the calling thread may emit. */
static void
amor_executor_end (AmorExecutor *self,
                   AmorRun      *run,
                   gboolean      direct)
{
  double serial_time;

  if (run->progress_source != NULL)
    {
      g_source_destroy (run->progress_source);
      g_clear_pointer (&run->progress_source, g_source_unref);
    }

  g_set_object (&self->result, run->plan);
  self->elapsed = run->elapsed;
  serial_time = amor_run_estimated_serial_time (run);
  self->measured_speedup = run->elapsed > 0 && serial_time > 0 ? serial_time / run->elapsed : 0;

  amor_executor_emit_for_run (self, run, direct,
                              AMOR_NOTIFY_COMPLETED | AMOR_NOTIFY_RESULT |
                              AMOR_NOTIFY_ELAPSED | AMOR_NOTIFY_MEASURED_SPEEDUP);

  g_atomic_int_set (&self->running, FALSE);
}

static gboolean
amor_executor_run_sync (AmorExecutor  *self,
                        AmorResult    *plan,
                        guint64        n_items,
                        AmorWorkFunc   func,
                        gpointer       user_data,
                        GCancellable  *cancellable,
                        GError       **error)
{
  AmorRun *run;
  gboolean ok;

  if (!amor_executor_begin (self, error))
    return FALSE;

  run = amor_run_new (self, plan, n_items, func, user_data, NULL, cancellable);
  amor_executor_start (self, run, FALSE);
  ok = amor_run_execute (run, error);
  amor_executor_end (self, run, run->direct);
  amor_run_free (run);

  return ok;
}

/* GObject */

static void
amor_executor_constructed (GObject *object)
{
  AmorExecutor *self = AMOR_EXECUTOR (object);

  G_OBJECT_CLASS (amor_executor_parent_class)->constructed (object);

  if (self->optimizer == NULL)
    self->optimizer = amor_optimizer_new ();
}

static void
amor_executor_dispose (GObject *object)
{
  AmorExecutor *self = AMOR_EXECUTOR (object);

  g_clear_object (&self->optimizer);
  g_clear_object (&self->result);

  G_OBJECT_CLASS (amor_executor_parent_class)->dispose (object);
}

static void
amor_executor_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  AmorExecutor *self = AMOR_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_OPTIMIZER:
      g_value_set_object (value, self->optimizer);
      break;

    case PROP_RESULT:
      g_value_set_object (value, self->result);
      break;

    case PROP_COMPLETED:
      g_value_set_uint64 (value, amor_executor_get_completed (self));
      break;

    case PROP_N_ITEMS:
      g_value_set_uint64 (value, amor_executor_get_n_items (self));
      break;

    case PROP_ELAPSED:
      g_value_set_double (value, self->elapsed);
      break;

    case PROP_MEASURED_SPEEDUP:
      g_value_set_double (value, self->measured_speedup);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_executor_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  AmorExecutor *self = AMOR_EXECUTOR (object);

  switch (prop_id)
    {
    case PROP_OPTIMIZER:
      g_set_object (&self->optimizer, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_executor_class_init (AmorExecutorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = amor_executor_constructed;
  object_class->dispose = amor_executor_dispose;
  object_class->get_property = amor_executor_get_property;
  object_class->set_property = amor_executor_set_property;

  /**
   * AmorExecutor:optimizer:
   *
   * The optimizer that samples and plans the maps of
   * [method@Amor.Executor.run]. A new default [class@Amor.Optimizer] when
   * none is given at construction.
   *
   * Since: 0.1
   */
  properties[PROP_OPTIMIZER] =
    g_param_spec_object ("optimizer", NULL, NULL,
                         AMOR_TYPE_OPTIMIZER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AmorExecutor:result:
   *
   * The plan the last run used: the one the optimizer made, the one given
   * to [method@Amor.Executor.run_with_plan], or, for a map run from inside
   * another map's worker, a serial plan saying so. %NULL before the first
   * run, and after a run that stopped before it had a plan. Set when the
   * run is over.
   *
   * Since: 0.1
   */
  properties[PROP_RESULT] =
    g_param_spec_object ("result", NULL, NULL,
                         AMOR_TYPE_RESULT,
                         G_PARAM_READABLE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AmorExecutor:completed:
   *
   * The number of items of the current (or last) run processed so far,
   * the sampled ones included. After the run it is exactly the number of
   * items processed, also when an error or a cancellation stopped it.
   *
   * It is notified only on the thread-default main context of the thread
   * that started the run, at most about 30 times a second while the run
   * goes on and once at its end.
   *
   * Since: 0.1
   */
  properties[PROP_COMPLETED] =
    g_param_spec_uint64 ("completed", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AmorExecutor:n-items:
   *
   * The number of items of the current (or last) run.
   *
   * Since: 0.1
   */
  properties[PROP_N_ITEMS] =
    g_param_spec_uint64 ("n-items", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AmorExecutor:elapsed:
   *
   * The wall-clock duration of the last run in seconds, sampling and
   * planning included. Set when the run is over.
   *
   * Since: 0.1
   */
  properties[PROP_ELAPSED] =
    g_param_spec_double ("elapsed", NULL, NULL,
                         0, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AmorExecutor:measured-speedup:
   *
   * The estimated serial time of the last run's plan divided by
   * [property@Amor.Executor:elapsed]: how much faster than a plain loop the
   * run was, the sampling counted against it. Compare it with
   * [property@Amor.Result:estimated-speedup]. 0 before the first run, and
   * when the plan has no estimate (a map nested in another map's worker).
   *
   * Since: 0.1
   */
  properties[PROP_MEASURED_SPEEDUP] =
    g_param_spec_double ("measured-speedup", NULL, NULL,
                         0, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE |
                         G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
amor_executor_init (AmorExecutor *self)
{
}

/**
 * amor_executor_new:
 * @optimizer: (nullable): the optimizer that samples and plans, or %NULL
 *   for a new default one
 *
 * Creates an executor.
 *
 * Returns: (transfer full): a new #AmorExecutor
 *
 * Since: 0.1
 */
AmorExecutor *
amor_executor_new (AmorOptimizer *optimizer)
{
  g_return_val_if_fail (optimizer == NULL || AMOR_IS_OPTIMIZER (optimizer), NULL);

  return g_object_new (AMOR_TYPE_EXECUTOR,
                       "optimizer", optimizer,
                       NULL);
}

/**
 * amor_executor_run:
 * @self: an #AmorExecutor
 * @n_items: the number of items
 * @func: (scope call) (closure user_data): the work of one item
 * @user_data: data for @func
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError
 *
 * Processes every item of `[0, n_items)` exactly once with @func.
 *
 * Samples a few items on the calling thread through the
 * [property@Amor.Executor:optimizer], plans, and runs the other items with
 * that plan: inline on the calling thread if it is serial, on the calling
 * thread and worker threads at once if it is parallel. @func must then be
 * safe to call concurrently for different indices.
 *
 * Returns when every item is done, at the first error, or at the
 * cancellation of @cancellable. The first error stops the run and is
 * returned with its item's index in the message; a cancellation returns
 * %G_IO_ERROR_CANCELLED. Either way no item is processed twice and
 * [property@Amor.Executor:completed] counts exactly the items that were.
 *
 * Called from inside the work callback of another map, the map runs
 * inline: every item in order on the calling thread, without sampling.
 * Called while this executor runs another map, it fails with
 * %G_IO_ERROR_PENDING.
 *
 * Returns: %TRUE if every item was processed, %FALSE with @error set
 *   otherwise
 *
 * Since: 0.1
 */
gboolean
amor_executor_run (AmorExecutor  *self,
                   guint64        n_items,
                   AmorWorkFunc   func,
                   gpointer       user_data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return amor_executor_run_sync (self, NULL, n_items, func, user_data, cancellable, error);
}

/**
 * amor_executor_run_with_plan:
 * @self: an #AmorExecutor
 * @plan: the plan to run with
 * @n_items: the number of items
 * @func: (scope call) (closure user_data): the work of one item
 * @user_data: data for @func
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError
 *
 * Processes every item of `[0, n_items)` exactly once with @func, with the
 * workers, chunk size and schedule of @plan, without sampling.
 *
 * @plan may come from [ctor@Amor.Result.new_from_json] or from an earlier
 * run; it need not have been made for @n_items items. A parallel plan runs
 * with no more workers than it has chunks of items, nor than the worker
 * threads can run at once.
 *
 * Errors, cancellation and nesting work as for [method@Amor.Executor.run].
 *
 * Returns: %TRUE if every item was processed, %FALSE with @error set
 *   otherwise
 *
 * Since: 0.1
 */
gboolean
amor_executor_run_with_plan (AmorExecutor  *self,
                             AmorResult    *plan,
                             guint64        n_items,
                             AmorWorkFunc   func,
                             gpointer       user_data,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), FALSE);
  g_return_val_if_fail (AMOR_IS_RESULT (plan), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return amor_executor_run_sync (self, plan, n_items, func, user_data, cancellable, error);
}

static void
amor_executor_run_thread (GTask        *task,
                          gpointer      source_object,
                          gpointer      task_data,
                          GCancellable *cancellable)
{
  GError *error = NULL;

  if (amor_run_execute (task_data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* On the caller's context, once the task thread is done. */
static void
amor_executor_run_thread_done (GObject      *source_object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  AmorExecutor *self = AMOR_EXECUTOR (source_object);
  GTask *task = user_data;
  AmorRun *run = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  gboolean ok;

  ok = g_task_propagate_boolean (G_TASK (result), &error);

  amor_executor_end (self, run, TRUE);
  amor_run_free (run);

  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

/**
 * amor_executor_run_async:
 * @self: an #AmorExecutor
 * @n_items: the number of items
 * @func: (scope notified) (closure user_data) (destroy user_data_destroy): the
 *   work of one item
 * @user_data: data for @func
 * @user_data_destroy: (nullable): frees @user_data once the run is over
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async) (nullable) (closure callback_data): called when
 *   the run is over
 * @callback_data: data for @callback
 *
 * Starts [method@Amor.Executor.run] on another thread and returns at once.
 *
 * The sampling and the serial part of a plan run on a thread of the
 * [class@Gio.Task] thread pool, which is also worker 0 of a parallel plan;
 * @func is never called on the calling thread. The thread-default main
 * context of the calling thread keeps running: it receives the
 * notifications of [property@Amor.Executor:completed] as the run goes on
 * (about 30 a second at most), then, once the run is over, the final
 * notifications, the call of @user_data_destroy and @callback. Call
 * [method@Amor.Executor.run_finish] from @callback for the outcome.
 *
 * Fails with %G_IO_ERROR_PENDING while this executor runs another map.
 *
 * Since: 0.1
 */
void
amor_executor_run_async (AmorExecutor        *self,
                         guint64              n_items,
                         AmorWorkFunc         func,
                         gpointer             user_data,
                         GDestroyNotify       user_data_destroy,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             callback_data)
{
  GTask *task, *thread_task;
  GError *error = NULL;
  AmorRun *run;

  g_return_if_fail (AMOR_IS_EXECUTOR (self));
  g_return_if_fail (func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, callback_data);
  g_task_set_source_tag (task, amor_executor_run_async);
  g_task_set_name (task, "[amorsize] amor_executor_run_async");
  /* The run reports a cancellation itself, and not one that came after
   * every item was done. */
  g_task_set_check_cancellable (task, FALSE);

  if (!amor_executor_begin (self, &error))
    {
      if (user_data_destroy != NULL)
        user_data_destroy (user_data);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  run = amor_run_new (self, NULL, n_items, func, user_data, user_data_destroy, cancellable);
  amor_executor_start (self, run, TRUE);

  /* The thread's task reports to the caller's context, where the run is
   * wrapped up before @task completes. */
  thread_task = g_task_new (self, NULL, amor_executor_run_thread_done, task);
  g_task_set_source_tag (thread_task, amor_executor_run_thread);
  g_task_set_name (thread_task, "[amorsize] AmorExecutor run");
  g_task_set_task_data (thread_task, run, NULL);
  g_task_run_in_thread (thread_task, amor_executor_run_thread);
  g_object_unref (thread_task);
}

/**
 * amor_executor_run_finish:
 * @self: an #AmorExecutor
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes a run started with [method@Amor.Executor.run_async].
 *
 * Returns: %TRUE if every item was processed, %FALSE with @error set
 *   otherwise
 *
 * Since: 0.1
 */
gboolean
amor_executor_run_finish (AmorExecutor  *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == amor_executor_run_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * amor_executor_get_optimizer:
 * @self: an #AmorExecutor
 *
 * Gets the optimizer that samples and plans for [method@Amor.Executor.run].
 *
 * Returns: (transfer none): the optimizer
 *
 * Since: 0.1
 */
AmorOptimizer *
amor_executor_get_optimizer (AmorExecutor *self)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), NULL);

  return self->optimizer;
}

/**
 * amor_executor_get_result:
 * @self: an #AmorExecutor
 *
 * Gets the plan the last run used.
 *
 * Returns: (transfer none) (nullable): the plan, or %NULL before the first
 *   run
 *
 * Since: 0.1
 */
AmorResult *
amor_executor_get_result (AmorExecutor *self)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), NULL);

  return self->result;
}

/**
 * amor_executor_get_completed:
 * @self: an #AmorExecutor
 *
 * Gets the number of items of the current or last run processed so far.
 * Safe to call from any thread.
 *
 * Returns: the number of items processed
 *
 * Since: 0.1
 */
guint64
amor_executor_get_completed (AmorExecutor *self)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), 0);

  return __atomic_load_n (&self->completed, __ATOMIC_RELAXED);
}

/**
 * amor_executor_get_n_items:
 * @self: an #AmorExecutor
 *
 * Gets the number of items of the current or last run.
 *
 * Returns: the number of items
 *
 * Since: 0.1
 */
guint64
amor_executor_get_n_items (AmorExecutor *self)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), 0);

  return __atomic_load_n (&self->n_items, __ATOMIC_RELAXED);
}

/**
 * amor_executor_get_elapsed:
 * @self: an #AmorExecutor
 *
 * Gets the duration of the last run, sampling included.
 *
 * Returns: the duration in seconds, 0 before the first run
 *
 * Since: 0.1
 */
double
amor_executor_get_elapsed (AmorExecutor *self)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), 0);

  return self->elapsed;
}

/**
 * amor_executor_get_measured_speedup:
 * @self: an #AmorExecutor
 *
 * Gets the speedup the last run obtained: the estimated serial time of its
 * plan over its [property@Amor.Executor:elapsed] time.
 *
 * Returns: the measured speedup, 0 before the first run
 *
 * Since: 0.1
 */
double
amor_executor_get_measured_speedup (AmorExecutor *self)
{
  g_return_val_if_fail (AMOR_IS_EXECUTOR (self), 0);

  return self->measured_speedup;
}
