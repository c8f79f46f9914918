/* test-stress.c: AmorExecutor under load
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Large maps, maps that fail over and over, a thousand cancelled runs, and
 * executors shared between threads. Every run checks, item by item, that
 * each item ran exactly once or is accounted for as not run (never twice,
 * never half-counted in AmorExecutor:completed), and each test ends by
 * checking that the thread count, the open file descriptors and the
 * resident memory came back to where they were after a warm-up.
 *
 * Nothing here asserts on time: the outcome of a run that races with a
 * cancellation may go either way, and both ways are checked.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include <amorsize/amorsize.h>

#include "test-util.h"

#include "amorsize/amor-result-private.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AMOR_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AMOR_UNDER_SANITIZER 1
#endif
#endif

#define TEN_MILLION   G_GUINT64_CONSTANT (10000000)
#define ONE_MILLION   G_GUINT64_CONSTANT (1000000)
#define FAIL_EVERY    1000

/* Resident memory may grow this much over the warm-up level (allocator
 * caches, per-thread arenas); a leak per item or per run is far larger. */
#define RSS_TOLERANCE (G_GUINT64_CONSTANT (48) << 20)

enum {
  NOT_RUN = 0,
  DONE    = 1,
  FAILED  = 2,
};

/* Per-item bookkeeping for the largest map, allocated once before the
 * baseline is taken so that the resources checked are the library's. */
static gint   *item_calls;
static guint8 *item_outcome;

static void
items_reset (guint64 n)
{
  memset (item_calls, 0, n * sizeof *item_calls);
  memset (item_outcome, 0, n * sizeof *item_outcome);
}

/* Resources */

typedef struct
{
  guint   threads;
  guint   fds;
  guint64 rss;
} Resources;

static Resources baseline;

static guint
count_entries (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static guint64
read_rss (void)
{
  g_autofree char *statm = NULL;
  guint64 size, resident;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &size, &resident), ==, 2);
  return resident * (guint64) sysconf (_SC_PAGESIZE);
}

/* The names of the threads, for the log. */
static char *
thread_names (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  GString *names = g_string_new (NULL);
  const char *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
      g_autofree char *comm = NULL;

      if (g_file_get_contents (path, &comm, NULL, NULL))
        g_string_append_printf (names, "%s%s", names->len > 0 ? ", " : "", g_strstrip (comm));
    }

  return g_string_free (names, FALSE);
}

static void
resources_read (Resources *r)
{
  r->threads = count_entries ("/proc/self/task");
  r->fds = count_entries ("/proc/self/fd");
  r->rss = read_rss ();
}

/* Whether resident memory says anything: the sanitizers keep freed memory
 * in quarantine and valgrind runs its own allocator; there the leak
 * checkers do this job. */
static gboolean
rss_is_meaningful (void)
{
#ifdef AMOR_UNDER_SANITIZER
  return FALSE;
#else
#ifdef HAVE_VALGRIND_H
  if (RUNNING_ON_VALGRIND)
    return FALSE;
#endif
  return TRUE;
#endif
}

/* GLib's shared thread pool (GTask's threads run there) keeps idle threads
 * for a while before it retires them; amorsize's own pool keeps its
 * threads for good. This asks GLib to retire its idle threads and waits
 * until there are at most @limit threads (0: until the count settles), for
 * 10 s at most. */
static guint
settle_threads (guint limit)
{
  guint n = count_entries ("/proc/self/task");
  guint stable = 0;

  for (guint i = 0; i < 500; i++)
    {
      guint now;

      if (limit > 0 && n <= limit)
        break;
      if (limit == 0 && stable >= 25)
        break;

      g_thread_pool_stop_unused_threads ();
      g_usleep (20000);
      now = count_entries ("/proc/self/task");
      stable = now == n ? stable + 1 : 0;
      n = now;
    }

  return n;
}

static void
resources_check_back (const char *after)
{
  g_autofree char *names = NULL;
  Resources now;

  settle_threads (baseline.threads);
  names = thread_names ();
  resources_read (&now);
  g_test_message ("threads: %s", names);
  g_test_message ("after %s: %u threads (warm-up %u), %u fds (%u), RSS %" G_GUINT64_FORMAT
                  " KiB (%" G_GUINT64_FORMAT " KiB)", after,
                  now.threads, baseline.threads, now.fds, baseline.fds,
                  now.rss >> 10, baseline.rss >> 10);

  g_assert_cmpuint (now.threads, <=, baseline.threads);
  g_assert_cmpuint (now.fds, <=, baseline.fds);
  if (rss_is_meaningful ())
    g_assert_cmpuint (now.rss, <=, baseline.rss + RSS_TOLERANCE);
}

/* Plans */

static AmorResult *
hand_plan (guint        n_workers,
           guint64      chunk_size,
           AmorSchedule schedule)
{
  return amor_test_hand_plan (n_workers, chunk_size, schedule, 1000, 1e-6);
}

/* Two CPUs whose threads cost nothing: every map of measurable items is
 * planned in parallel. */
static AmorOptimizer *
parallel_optimizer (void)
{
  g_autoptr(AmorSystem) system = amor_system_new_custom (2, 2, G_GUINT64_CONSTANT (8) << 30, 0.0, 0.0);

  return g_object_new (AMOR_TYPE_OPTIMIZER, "system", system, NULL);
}

/* Work */

/* Burns a few hundred nanoseconds without a clock, so that workers
 * overlap without the test measuring anything. */
static guint64
busy (guint64 index)
{
  guint64 x = index | 1;

  for (guint i = 0; i < 64; i++)
    x = x * G_GUINT64_CONSTANT (6364136223846793005) + 1442695040888963407;
  return x;
}

static gboolean
count_item (guint64   index,
            gpointer  user_data,
            GError  **error)
{
  __atomic_fetch_add (&item_calls[index], 1, __ATOMIC_RELAXED);
  item_outcome[index] = DONE;
  return TRUE;
}

/* Checks items [0, n): each ran at most once, and exactly once when
 * @all_done; returns how many are DONE. */
static guint64
items_check (guint64  n,
             gboolean all_done)
{
  guint64 n_done = 0;

  for (guint64 i = 0; i < n; i++)
    {
      gint calls = item_calls[i];

      if (calls > 1)
        g_error ("item %" G_GUINT64_FORMAT " ran %d times", i, calls);
      if (all_done && (calls != 1 || item_outcome[i] != DONE))
        g_error ("item %" G_GUINT64_FORMAT " did not run", i);
      if ((calls == 1) != (item_outcome[i] != NOT_RUN))
        g_error ("item %" G_GUINT64_FORMAT ": %d calls but outcome %d", i, calls, item_outcome[i]);
      if (item_outcome[i] == DONE)
        n_done++;
    }

  return n_done;
}

/* Warm-up: every kind of run once, so that the thread pools, the types,
 * the measured thread costs and the allocator caches exist before the
 * baseline is taken. */

static gpointer warm_thread (gpointer data);
static void run_async_and_wait (AmorExecutor *executor, guint64 n, AmorWorkFunc func,
                                gpointer user_data, GCancellable *cancellable, GError **error);

static void
ensure_warm (void)
{
  static gboolean warm;
  g_autoptr(AmorExecutor) auto_executor = NULL;
  g_autoptr(AmorExecutor) executor = NULL;
  g_autoptr(AmorOptimizer) optimizer = NULL;
  g_autoptr(AmorResult) fixed = NULL;
  g_autoptr(AmorResult) guided = NULL;
  g_autoptr(GError) error = NULL;
  GThread *threads[2];

  if (warm)
    return;
  warm = TRUE;

  item_calls = g_new0 (gint, TEN_MILLION);
  item_outcome = g_new0 (guint8, TEN_MILLION);
  items_reset (TEN_MILLION);

  auto_executor = amor_executor_new (NULL);
  optimizer = parallel_optimizer ();
  executor = amor_executor_new (optimizer);
  fixed = hand_plan (2, 64, AMOR_SCHEDULE_FIXED);
  guided = hand_plan (3, 16, AMOR_SCHEDULE_GUIDED);

  for (guint round = 0; round < 2; round++)
    {
      items_reset (100000);
      g_assert_true (amor_executor_run (auto_executor, 100000, count_item, NULL, NULL, &error));
      g_assert_no_error (error);
      items_reset (100000);
      g_assert_true (amor_executor_run (executor, 100000, count_item, NULL, NULL, &error));
      g_assert_no_error (error);
      items_reset (100000);
      g_assert_true (amor_executor_run_with_plan (executor, fixed, 100000, count_item, NULL, NULL, &error));
      g_assert_no_error (error);
      items_reset (100000);
      g_assert_true (amor_executor_run_with_plan (executor, guided, 100000, count_item, NULL, NULL, &error));
      g_assert_no_error (error);
      items_reset (100000);
      run_async_and_wait (executor, 100000, count_item, NULL, NULL, &error);
      g_assert_no_error (error);

      for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
        threads[i] = g_thread_new ("warm-up", warm_thread, GUINT_TO_POINTER (i));
      for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
        g_thread_join (threads[i]);
    }

  items_reset (TEN_MILLION);
  settle_threads (0);
  resources_read (&baseline);
  {
    g_autofree char *names = thread_names ();

    g_test_message ("threads: %s", names);
  }
  g_test_message ("warm-up: %u threads, %u fds, RSS %" G_GUINT64_FORMAT " KiB",
                  baseline.threads, baseline.fds, baseline.rss >> 10);
}

/* Runs @executor asynchronously and iterates the thread-default main
 * context until it is over. */

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
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
run_async_and_wait (AmorExecutor  *executor,
                    guint64        n,
                    AmorWorkFunc   func,
                    gpointer       user_data,
                    GCancellable  *cancellable,
                    GError       **error)
{
  GMainContext *context = g_main_context_ref_thread_default ();
  AsyncWait wait = { 0 };

  amor_executor_run_async (executor, n, func, user_data, NULL, cancellable,
                           async_done_cb, &wait);
  while (!wait.done)
    g_main_context_iteration (context, TRUE);
  g_main_context_unref (context);

  if (!wait.ok)
    g_propagate_error (error, wait.error);
}

/* A map of its own per thread, for executors used at once from several
 * threads. */

typedef struct
{
  guint64 n;
  gint   *calls;
} OwnMap;

static gboolean
own_item (guint64   index,
          gpointer  user_data,
          GError  **error)
{
  OwnMap *map = user_data;

  g_assert_cmpuint (index, <, map->n);
  __atomic_fetch_add (&map->calls[index], 1, __ATOMIC_RELAXED);
  busy (index);
  return TRUE;
}

static void
own_map_check (OwnMap *map)
{
  for (guint64 i = 0; i < map->n; i++)
    if (map->calls[i] != 1)
      g_error ("item %" G_GUINT64_FORMAT " ran %d times", i, map->calls[i]);
}

/* One thread's share of the concurrent runs: @rounds runs of every kind on
 * an executor of its own. */
static void
own_runs (guint rounds,
          guint seed)
{
  g_autoptr(AmorOptimizer) optimizer = parallel_optimizer ();
  g_autoptr(AmorExecutor) executor = amor_executor_new (optimizer);
  g_autoptr(AmorResult) fixed = hand_plan (2, 7, AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorResult) guided = hand_plan (3, 3, AMOR_SCHEDULE_GUIDED);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  OwnMap map;

  for (guint r = 0; r < rounds; r++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok = FALSE;

      map.n = g_rand_int_range (rand, 1, 4000);
      map.calls = g_new0 (gint, map.n);

      switch (r % 4)
        {
        case 0:
          ok = amor_executor_run (executor, map.n, own_item, &map, NULL, &error);
          break;
        case 1:
          ok = amor_executor_run_with_plan (executor, fixed, map.n, own_item, &map, NULL, &error);
          break;
        case 2:
          ok = amor_executor_run_with_plan (executor, guided, map.n, own_item, &map, NULL, &error);
          break;
        default:
          run_async_and_wait (executor, map.n, own_item, &map, NULL, &error);
          ok = error == NULL;
          break;
        }

      g_assert_no_error (error);
      g_assert_true (ok);
      own_map_check (&map);
      g_assert_cmpuint (amor_executor_get_completed (executor), ==, map.n);
      g_free (map.calls);
    }
}

static gpointer
warm_thread (gpointer data)
{
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  own_runs (4, GPOINTER_TO_UINT (data));
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return NULL;
}

/* 10 million items of trivial work */

static void
test_ten_million (void)
{
  g_autoptr(AmorExecutor) auto_executor = NULL;
  g_autoptr(AmorExecutor) executor = NULL;
  g_autoptr(AmorResult) fixed = hand_plan (2, 1024, AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorResult) guided = hand_plan (2, 256, AMOR_SCHEDULE_GUIDED);
  g_autoptr(AmorResult) single = hand_plan (3, 1, AMOR_SCHEDULE_FIXED);

  ensure_warm ();

  auto_executor = amor_executor_new (NULL);
  executor = amor_executor_new (NULL);

  for (guint kind = 0; kind < 4; kind++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok;

      items_reset (TEN_MILLION);
      switch (kind)
        {
        case 0:
          /* Planned for this machine, whatever it decides. */
          ok = amor_executor_run (auto_executor, TEN_MILLION, count_item, NULL, NULL, &error);
          g_test_message ("this machine's plan: %u workers, chunks of %" G_GUINT64_FORMAT,
                          amor_result_get_n_workers (amor_executor_get_result (auto_executor)),
                          amor_result_get_chunk_size (amor_executor_get_result (auto_executor)));
          break;
        case 1:
          ok = amor_executor_run_with_plan (executor, fixed, TEN_MILLION, count_item, NULL, NULL, &error);
          break;
        case 2:
          ok = amor_executor_run_with_plan (executor, guided, TEN_MILLION, count_item, NULL, NULL, &error);
          break;
        default:
          /* One item per hand-out: the most contended counter. */
          ok = amor_executor_run_with_plan (executor, single, TEN_MILLION, count_item, NULL, NULL, &error);
          break;
        }

      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpuint (items_check (TEN_MILLION, TRUE), ==, TEN_MILLION);
      g_assert_cmpuint (amor_executor_get_completed (kind == 0 ? auto_executor : executor), ==, TEN_MILLION);
      g_assert_cmpuint (amor_executor_get_n_items (kind == 0 ? auto_executor : executor), ==, TEN_MILLION);
    }

  items_reset (TEN_MILLION);
  resources_check_back ("10 million items");
}

/* 1 million items, every 1000th of which fails
 *
 * The first error stops a run; the caller then runs again the items that
 * were neither done nor failed, until none is left. Each run maps its
 * indices onto the items still pending: first the "holes" the last run
 * left behind, then every item from @next on. */

typedef struct
{
  guint64 *holes_buffer;  /* owns the holes */
  guint64 *holes;         /* the pending items left behind, in holes_buffer */
  guint64  n_holes;
  guint64  next;          /* the items >= next have not been touched */
  guint64  n_total;
  gint64   successes;     /* in the current run (atomic) */
  guint64  max_index;     /* the highest run index called (atomic) */
  gint     failures;      /* in the current run (atomic) */
} Resume;

static guint64
resume_item (Resume  *resume,
             guint64  index)
{
  return index < resume->n_holes ? resume->holes[index] : resume->next + (index - resume->n_holes);
}

static guint64
resume_n_pending (Resume *resume)
{
  return resume->n_holes + (resume->n_total - resume->next);
}

static gboolean
resume_work (guint64   index,
             gpointer  user_data,
             GError  **error)
{
  Resume *resume = user_data;
  guint64 item, seen;

  g_assert_cmpuint (index, <, resume_n_pending (resume));
  item = resume_item (resume, index);

  seen = __atomic_load_n (&resume->max_index, __ATOMIC_RELAXED);
  while (index > seen &&
         !__atomic_compare_exchange_n (&resume->max_index, &seen, index, TRUE,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;

  __atomic_fetch_add (&item_calls[item], 1, __ATOMIC_RELAXED);

  if (item % FAIL_EVERY == FAIL_EVERY - 1)
    {
      item_outcome[item] = FAILED;
      __atomic_fetch_add (&resume->failures, 1, __ATOMIC_RELAXED);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "item %" G_GUINT64_FORMAT " fails by design", item);
      return FALSE;
    }

  busy (item);
  item_outcome[item] = DONE;
  __atomic_fetch_add (&resume->successes, 1, __ATOMIC_RELAXED);
  return TRUE;
}

/* After a run: the pending items that were not touched become the next
 * run's holes. Only the run's window (its indices up to the highest one
 * called) is looked at, so a run costs what it ran, not what is left. */
static void
resume_advance (Resume *resume)
{
  guint64 n_pending = resume_n_pending (resume);
  guint64 window = MIN (resume->max_index + 1, n_pending);
  GArray *untouched = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 last = resume->next;

  for (guint64 index = 0; index < window; index++)
    {
      guint64 item = resume_item (resume, index);

      if (item_calls[item] == 0)
        g_array_append_val (untouched, item);
      if (index >= resume->n_holes)
        last = item + 1;
    }

  if (window <= resume->n_holes)
    {
      /* Only holes were touched: the untouched ones go back in front of
       * the holes that follow the window. */
      guint64 *start = resume->holes + window - untouched->len;

      if (untouched->len > 0)
        memcpy (start, untouched->data, untouched->len * sizeof (guint64));
      resume->n_holes -= window - untouched->len;
      resume->holes = start;
      g_array_free (untouched, TRUE);
    }
  else
    {
      g_free (resume->holes_buffer);
      resume->n_holes = untouched->len;
      resume->holes = resume->holes_buffer = (guint64 *) g_array_free (untouched, FALSE);
      resume->next = last;
    }
}

static void
test_failures (void)
{
  g_autoptr(AmorOptimizer) optimizer = NULL;
  g_autoptr(AmorExecutor) executor = NULL;
  g_autoptr(AmorResult) fixed = hand_plan (2, 64, AMOR_SCHEDULE_FIXED);
  g_autoptr(AmorResult) guided = hand_plan (3, 16, AMOR_SCHEDULE_GUIDED);
  g_autoptr(AmorResult) serial = hand_plan (1, 1, AMOR_SCHEDULE_SERIAL);
  Resume resume = { 0 };
  guint n_runs = 0, n_failed_runs = 0;
  guint64 n_failed = 0, n_done = 0;

  ensure_warm ();

  optimizer = parallel_optimizer ();
  executor = amor_executor_new (optimizer);
  resume.n_total = ONE_MILLION;
  items_reset (ONE_MILLION);

  while (resume_n_pending (&resume) > 0)
    {
      g_autoptr(GError) error = NULL;
      guint64 n = resume_n_pending (&resume);
      gboolean ok;

      resume.successes = 0;
      resume.failures = 0;
      resume.max_index = 0;

      /* The first run and every 100th samples (its samples spread over
       * every pending item); the others run with hand plans. */
      if (n_runs % 100 == 0)
        ok = amor_executor_run (executor, n, resume_work, &resume, NULL, &error);
      else
        ok = amor_executor_run_with_plan (executor,
                                          n_runs % 3 == 0 ? fixed : n_runs % 3 == 1 ? guided : serial,
                                          n, resume_work, &resume, NULL, &error);
      n_runs++;

      g_assert_cmpuint (amor_executor_get_completed (executor), ==, (guint64) resume.successes);
      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpint (resume.failures, ==, 0);
          g_assert_cmpuint ((guint64) resume.successes, ==, n);
        }
      else
        {
          guint64 index, item;
          char *end;

          /* "Item <run index>: item <item> fails by design" */
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
          g_assert_true (g_str_has_prefix (error->message, "Item "));
          index = g_ascii_strtoull (error->message + 5, &end, 10);
          g_assert_true (g_str_has_prefix (end, ": item "));
          g_assert_cmpuint (index, <, n);
          item = resume_item (&resume, index);
          g_assert_cmpuint (g_ascii_strtoull (end + 7, NULL, 10), ==, item);
          g_assert_cmpint (item_outcome[item], ==, FAILED);
          g_assert_cmpint (resume.failures, >=, 1);
          /* One failure per worker at most: each stops before its next
           * item once the first error is in. */
          g_assert_cmpint (resume.failures, <=, 3);
          g_assert_cmpuint ((guint64) resume.successes, <, n);
          n_failed_runs++;
        }

      resume_advance (&resume);
    }

  for (guint64 i = 0; i < ONE_MILLION; i++)
    {
      if (item_calls[i] != 1)
        g_error ("item %" G_GUINT64_FORMAT " ran %d times", i, item_calls[i]);
      if (item_outcome[i] == FAILED)
        {
          g_assert_cmpuint (i % FAIL_EVERY, ==, FAIL_EVERY - 1);
          n_failed++;
        }
      else
        {
          g_assert_cmpint (item_outcome[i], ==, DONE);
          n_done++;
        }
    }

  g_assert_cmpuint (n_failed, ==, ONE_MILLION / FAIL_EVERY);
  g_assert_cmpuint (n_done, ==, ONE_MILLION - ONE_MILLION / FAIL_EVERY);
  g_assert_cmpuint (n_failed_runs, >=, ONE_MILLION / FAIL_EVERY / 3);
  g_assert_cmpuint (n_failed_runs, <=, ONE_MILLION / FAIL_EVERY);
  g_test_message ("%u runs, %u of them stopped by an error", n_runs, n_failed_runs);

  g_free (resume.holes_buffer);
  items_reset (ONE_MILLION);
  resources_check_back ("1 million items with failures");
}

/* 1000 consecutive runs, cancelled at a random point */

enum {
  CANCEL_IN_CALLBACK,    /* the item at cancel_at cancels, then completes */
  CANCEL_FROM_THREAD,    /* another thread cancels once cancel_at items are done */
  CANCEL_ASYNC,          /* a run_async, cancelled by its item at cancel_at */
  CANCEL_BEFORE,         /* cancelled before the run starts */
  N_CANCEL_MODES
};

typedef struct
{
  guint64       n;
  guint64       cancel_at;
  gint          mode;
  GCancellable *cancellable;
  gint64        successes;    /* atomic */

  /* CANCEL_FROM_THREAD */
  GMutex        mutex;
  GCond         cond;
  gboolean      reached;
  gboolean      finished;

  gint          destroyed;
} CancelRun;

static gboolean
cancel_work (guint64   index,
             gpointer  user_data,
             GError  **error)
{
  CancelRun *cr = user_data;
  gint64 done;

  g_assert_cmpuint (index, <, cr->n);
  g_assert_cmpint (cr->mode, !=, CANCEL_BEFORE);
  __atomic_fetch_add (&item_calls[index], 1, __ATOMIC_RELAXED);
  busy (index);
  item_outcome[index] = DONE;
  done = __atomic_add_fetch (&cr->successes, 1, __ATOMIC_RELAXED);

  if ((cr->mode == CANCEL_IN_CALLBACK || cr->mode == CANCEL_ASYNC) && index == cr->cancel_at)
    g_cancellable_cancel (cr->cancellable);

  if (cr->mode == CANCEL_FROM_THREAD && (guint64) done == cr->cancel_at + 1)
    {
      g_mutex_lock (&cr->mutex);
      cr->reached = TRUE;
      g_cond_signal (&cr->cond);
      g_mutex_unlock (&cr->mutex);
    }

  return TRUE;
}

static gpointer
canceller_thread (gpointer data)
{
  CancelRun *cr = data;

  g_mutex_lock (&cr->mutex);
  while (!cr->reached && !cr->finished)
    g_cond_wait (&cr->cond, &cr->mutex);
  g_mutex_unlock (&cr->mutex);

  g_cancellable_cancel (cr->cancellable);
  return NULL;
}

static void
cancel_run_destroy (gpointer data)
{
  CancelRun *cr = data;

  g_atomic_int_inc (&cr->destroyed);
}

static void
test_cancel_runs (void)
{
  g_autoptr(AmorOptimizer) optimizer = NULL;
  g_autoptr(AmorExecutor) executor = NULL;
  guint n_cancelled = 0, n_completed = 0;

  ensure_warm ();

  optimizer = parallel_optimizer ();
  executor = amor_executor_new (optimizer);

  for (guint r = 0; r < 1000; r++)
    {
      g_autoptr(AmorResult) plan = NULL;
      g_autoptr(AmorExecutor) fresh = NULL;
      g_autoptr(GError) error = NULL;
      AmorExecutor *ex = executor;
      CancelRun cr = { 0 };
      GThread *canceller = NULL;
      guint64 n_done;
      gboolean ok;
      gint kind;

      cr.n = (guint64) g_test_rand_int_range (1, 20001);
      cr.cancel_at = (guint64) g_test_rand_int_range (0, (gint32) cr.n);
      cr.mode = r % 50 == 49 ? CANCEL_BEFORE : g_test_rand_int_range (0, CANCEL_BEFORE);
      cr.cancellable = g_cancellable_new ();
      g_mutex_init (&cr.mutex);
      g_cond_init (&cr.cond);
      items_reset (cr.n);

      /* A new executor now and then: creation and disposal under load. */
      if (r % 7 == 0)
        ex = fresh = amor_executor_new (optimizer);

      kind = g_test_rand_int_range (0, 4);
      switch (kind)
        {
        case 1:
          plan = hand_plan (2, (guint64) g_test_rand_int_range (1, 65), AMOR_SCHEDULE_FIXED);
          break;
        case 2:
          plan = hand_plan (3, (guint64) g_test_rand_int_range (1, 33), AMOR_SCHEDULE_GUIDED);
          break;
        case 3:
          plan = hand_plan (1, 1, AMOR_SCHEDULE_SERIAL);
          break;
        default:
          break;   /* sampled and planned */
        }

      if (cr.mode == CANCEL_BEFORE)
        g_cancellable_cancel (cr.cancellable);
      if (cr.mode == CANCEL_FROM_THREAD)
        canceller = g_thread_new ("canceller", canceller_thread, &cr);

      if (cr.mode == CANCEL_ASYNC)
        {
          AsyncWait wait = { 0 };

          amor_executor_run_async (ex, cr.n, cancel_work, &cr, cancel_run_destroy,
                                   cr.cancellable, async_done_cb, &wait);
          while (!wait.done)
            g_main_context_iteration (NULL, TRUE);
          ok = wait.ok;
          error = wait.error;
          g_assert_cmpint (cr.destroyed, ==, 1);
        }
      else if (plan != NULL)
        ok = amor_executor_run_with_plan (ex, plan, cr.n, cancel_work, &cr, cr.cancellable, &error);
      else
        ok = amor_executor_run (ex, cr.n, cancel_work, &cr, cr.cancellable, &error);

      if (canceller != NULL)
        {
          g_mutex_lock (&cr.mutex);
          cr.finished = TRUE;
          g_cond_signal (&cr.cond);
          g_mutex_unlock (&cr.mutex);
          g_thread_join (canceller);
        }

      n_done = items_check (cr.n, FALSE);
      g_assert_cmpuint (n_done, ==, (guint64) cr.successes);
      g_assert_cmpuint (amor_executor_get_completed (ex), ==, n_done);
      g_assert_cmpuint (amor_executor_get_n_items (ex), ==, cr.n);

      if (cr.mode == CANCEL_IN_CALLBACK || cr.mode == CANCEL_ASYNC)
        g_assert_cmpint (item_outcome[cr.cancel_at], ==, DONE);

      if (ok)
        {
          /* The cancellation came when every item was done (or, from
           * another thread, after the run). */
          g_assert_no_error (error);
          g_assert_cmpint (cr.mode, !=, CANCEL_BEFORE);
          g_assert_cmpuint (n_done, ==, cr.n);
          n_completed++;
        }
      else if (cr.mode == CANCEL_BEFORE)
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_assert_cmpuint (n_done, ==, 0);
          n_cancelled++;
        }
      else
        {
          g_autofree char *expected = g_strdup_printf ("The map was cancelled after %" G_GUINT64_FORMAT
                                                       " of %" G_GUINT64_FORMAT " items",
                                                       n_done, cr.n);

          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_assert_cmpstr (error->message, ==, expected);
          g_assert_cmpuint (n_done, <, cr.n);
          n_cancelled++;
        }

      g_mutex_clear (&cr.mutex);
      g_cond_clear (&cr.cond);
      g_object_unref (cr.cancellable);
    }

  g_test_message ("%u runs cancelled, %u completed before the cancellation took effect",
                  n_cancelled, n_completed);
  g_assert_cmpuint (n_cancelled + n_completed, ==, 1000);
  g_assert_cmpuint (n_cancelled, >=, 1000 / 50);

  while (g_main_context_iteration (NULL, FALSE))
    ;
  items_reset (20000);
  resources_check_back ("1000 cancelled runs");
}

/* Two executors at once, from two threads */

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  guint    waiting;
  guint    seed;
} Start;

static void
start_together (Start *start)
{
  g_mutex_lock (&start->mutex);
  if (++start->waiting == 2)
    g_cond_broadcast (&start->cond);
  while (start->waiting < 2)
    g_cond_wait (&start->cond, &start->mutex);
  g_mutex_unlock (&start->mutex);
}

static gpointer
concurrent_thread (gpointer data)
{
  Start *start = data;
  GMainContext *context = g_main_context_new ();
  guint seed;

  g_main_context_push_thread_default (context);
  g_mutex_lock (&start->mutex);
  seed = start->seed++;
  g_mutex_unlock (&start->mutex);

  start_together (start);
  own_runs (200, seed);

  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_two_threads (void)
{
  Start start = { .seed = g_test_rand_int () };
  GThread *threads[2];

  ensure_warm ();

  g_mutex_init (&start.mutex);
  g_cond_init (&start.cond);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("concurrent", concurrent_thread, &start);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_mutex_clear (&start.mutex);
  g_cond_clear (&start.cond);

  resources_check_back ("two executors from two threads");
}

/* Two executors at once from one thread, asynchronously: the
 * notifications of both arrive on that thread. */

typedef struct
{
  GThread *expected;
  gint     wrong_thread;
  guint    notified;
} NotifyCheck;

static void
notify_completed_cb (GObject    *object,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  NotifyCheck *check = user_data;

  if (g_thread_self () != check->expected)
    g_atomic_int_set (&check->wrong_thread, 1);
  check->notified++;
}

static void
test_two_async (void)
{
  g_autoptr(AmorOptimizer) optimizer = NULL;
  g_autoptr(AmorExecutor) first = NULL;
  g_autoptr(AmorExecutor) second = NULL;

  ensure_warm ();

  optimizer = parallel_optimizer ();
  first = amor_executor_new (optimizer);
  second = amor_executor_new (optimizer);

  for (guint r = 0; r < 50; r++)
    {
      OwnMap maps[2];
      AsyncWait waits[2] = { { 0 } };
      NotifyCheck checks[2] = { { g_thread_self () }, { g_thread_self () } };
      AmorExecutor *executors[2] = { first, second };
      gulong ids[2];

      for (guint i = 0; i < 2; i++)
        {
          maps[i].n = (guint64) g_test_rand_int_range (1, 20000);
          maps[i].calls = g_new0 (gint, maps[i].n);
          ids[i] = g_signal_connect (executors[i], "notify::completed",
                                     G_CALLBACK (notify_completed_cb), &checks[i]);
          amor_executor_run_async (executors[i], maps[i].n, own_item, &maps[i], NULL, NULL,
                                   async_done_cb, &waits[i]);
        }

      while (!waits[0].done || !waits[1].done)
        g_main_context_iteration (NULL, TRUE);

      for (guint i = 0; i < 2; i++)
        {
          g_assert_no_error (waits[i].error);
          g_assert_true (waits[i].ok);
          own_map_check (&maps[i]);
          g_assert_cmpuint (amor_executor_get_completed (executors[i]), ==, maps[i].n);
          g_assert_false (checks[i].wrong_thread);
          g_assert_cmpuint (checks[i].notified, >=, 1);
          g_signal_handler_disconnect (executors[i], ids[i]);
          g_free (maps[i].calls);
        }
    }

  while (g_main_context_iteration (NULL, FALSE))
    ;
  resources_check_back ("two asynchronous executors");
}

/* One executor reused from threads that did not create it */

typedef struct
{
  AmorExecutor *executor;
  gboolean      async;
  guint         runs;
  NotifyCheck   check;
} ReuseJob;

static gpointer
reuse_thread (gpointer data)
{
  ReuseJob *job = data;
  GMainContext *context = g_main_context_new ();
  gulong id;

  /* Notifications go to the thread-default context of the thread that
   * starts the run: this one. */
  g_main_context_push_thread_default (context);
  job->check.expected = g_thread_self ();
  id = g_signal_connect (job->executor, "notify::completed",
                         G_CALLBACK (notify_completed_cb), &job->check);

  for (guint r = 0; r < job->runs; r++)
    {
      g_autoptr(GError) error = NULL;
      OwnMap map;

      map.n = 5000 + r;
      map.calls = g_new0 (gint, map.n);
      if (job->async)
        run_async_and_wait (job->executor, map.n, own_item, &map, NULL, &error);
      else
        g_assert_true (amor_executor_run (job->executor, map.n, own_item, &map, NULL, &error));
      g_assert_no_error (error);
      own_map_check (&map);
      g_assert_cmpuint (amor_executor_get_completed (job->executor), ==, map.n);
      g_free (map.calls);
    }

  g_signal_handler_disconnect (job->executor, id);
  g_main_context_pop_thread_default (context);

  /* Nothing may be left for this context once the runs are over. */
  g_assert_false (g_main_context_pending (context));
  g_main_context_unref (context);
  return NULL;
}

/* A map that holds its first item until told, to keep a run in progress. */
typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean holding;
  gboolean release;
} Gate;

static gboolean
gated_item (guint64   index,
            gpointer  user_data,
            GError  **error)
{
  Gate *gate = user_data;

  if (index == 0)
    {
      g_mutex_lock (&gate->mutex);
      gate->holding = TRUE;
      g_cond_broadcast (&gate->cond);
      while (!gate->release)
        g_cond_wait (&gate->cond, &gate->mutex);
      g_mutex_unlock (&gate->mutex);
    }
  return TRUE;
}

typedef struct
{
  AmorExecutor *executor;
  Gate         *gate;
  gboolean      ok;
} GatedRun;

static gpointer
gated_run_thread (gpointer data)
{
  GatedRun *run = data;
  g_autoptr(AmorResult) serial = hand_plan (1, 1, AMOR_SCHEDULE_SERIAL);
  g_autoptr(GError) error = NULL;

  run->ok = amor_executor_run_with_plan (run->executor, serial, 10, gated_item, run->gate,
                                         NULL, &error);
  g_assert_no_error (error);
  return NULL;
}

static gpointer
unref_thread (gpointer data)
{
  g_object_unref (data);
  return NULL;
}

static void
test_reuse_other_thread (void)
{
  g_autoptr(AmorOptimizer) optimizer = NULL;
  AmorExecutor *executor;
  GThread *thread;
  ReuseJob blocking = { 0 }, async = { 0 };
  Gate gate = { 0 };
  GatedRun gated = { 0 };
  g_autoptr(GError) error = NULL;
  OwnMap map;

  ensure_warm ();

  optimizer = parallel_optimizer ();
  executor = amor_executor_new (optimizer);

  /* Blocking runs from another thread, then asynchronous ones from a third
   * with its own main context, then the creator's thread again. */
  blocking.executor = executor;
  blocking.runs = 20;
  thread = g_thread_new ("reuse-blocking", reuse_thread, &blocking);
  g_thread_join (thread);
  g_assert_false (blocking.check.wrong_thread);
  g_assert_cmpuint (blocking.check.notified, >=, blocking.runs);

  async.executor = executor;
  async.async = TRUE;
  async.runs = 20;
  thread = g_thread_new ("reuse-async", reuse_thread, &async);
  g_thread_join (thread);
  g_assert_false (async.check.wrong_thread);
  g_assert_cmpuint (async.check.notified, >=, async.runs);

  map.n = 7777;
  map.calls = g_new0 (gint, map.n);
  g_assert_true (amor_executor_run (executor, map.n, own_item, &map, NULL, &error));
  g_assert_no_error (error);
  own_map_check (&map);
  g_free (map.calls);

  /* One run at a time: while another thread's run is in progress, a
   * second run on the same executor fails at once and runs nothing. */
  g_mutex_init (&gate.mutex);
  g_cond_init (&gate.cond);
  gated.executor = executor;
  gated.gate = &gate;
  thread = g_thread_new ("reuse-gated", gated_run_thread, &gated);

  g_mutex_lock (&gate.mutex);
  while (!gate.holding)
    g_cond_wait (&gate.cond, &gate.mutex);
  g_mutex_unlock (&gate.mutex);

  map.n = 100;
  map.calls = g_new0 (gint, map.n);
  g_assert_false (amor_executor_run (executor, map.n, own_item, &map, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_assert_cmpstr (error->message, ==,
                   "This AmorExecutor is already running a map; use one executor "
                   "per concurrent or nested map");
  g_clear_error (&error);
  for (guint64 i = 0; i < map.n; i++)
    g_assert_cmpint (map.calls[i], ==, 0);
  g_free (map.calls);

  g_mutex_lock (&gate.mutex);
  gate.release = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.mutex);
  g_thread_join (thread);
  g_assert_true (gated.ok);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, 10);
  g_mutex_clear (&gate.mutex);
  g_cond_clear (&gate.cond);

  /* The last reference may go on any thread. */
  thread = g_thread_new ("reuse-unref", unref_thread, executor);
  g_thread_join (thread);

  while (g_main_context_iteration (NULL, FALSE))
    ;
  resources_check_back ("an executor reused from other threads");
}

/* Proof that the ThreadSanitizer build sees races between workers: a
 * callback that increments a plain counter from every worker. Registered
 * only when AMOR_TSAN_CANARY is set; that test is expected to fail. */

static guint64 canary_counter;

static gboolean
racy_item (guint64   index,
           gpointer  user_data,
           GError  **error)
{
  canary_counter++;
  busy (index);
  return TRUE;
}

static void
test_tsan_canary (void)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autoptr(AmorResult) plan = hand_plan (2, 1, AMOR_SCHEDULE_FIXED);

  g_assert_true (amor_executor_run_with_plan (executor, plan, 100000, racy_item, NULL, NULL, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("AMOR_TSAN_CANARY") != NULL)
    {
      g_test_add_func ("/stress/tsan-canary", test_tsan_canary);
      return g_test_run ();
    }

  g_test_add_func ("/stress/ten-million", test_ten_million);
  g_test_add_func ("/stress/failures", test_failures);
  g_test_add_func ("/stress/cancel", test_cancel_runs);
  g_test_add_func ("/stress/threads/two-executors", test_two_threads);
  g_test_add_func ("/stress/threads/two-async", test_two_async);
  g_test_add_func ("/stress/threads/reuse", test_reuse_other_thread);

  return g_test_run ();
}
