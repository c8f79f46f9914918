/* test-process-pool.c: AmorProcessPool and its wire protocol
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workers are tests/workers/test-worker.c, which logs every item it
 * processes ("PID VALUE" lines) and misbehaves on request. Every test checks
 * what the pool promises — results in input order, each item processed
 * exactly once, failures named and survived, no zombie and no leaked file
 * descriptor — never how fast it went. Where the plan matters it is fixed by
 * hand (the pool's "plan" property).
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <amorsize/amorsize.h>

#include "test-util.h"

#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "amorsize/amor-child-private.h"
#include "amorsize/amor-result-private.h"
#include "amorsize/amor-wire-private.h"

#define TEST_WORKER_DOMAIN "amor-test-worker-error-quark"

typedef struct
{
  char *dir;
  char *log;
  char *marker;
  char *chunks;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("amor-process-pool-XXXXXX", &error);
  g_assert_no_error (error);
  f->log = g_build_filename (f->dir, "log", NULL);
  f->marker = g_build_filename (f->dir, "marker", NULL);
  f->chunks = g_build_filename (f->dir, "chunks", NULL);
  g_file_set_contents (f->log, "", 0, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_unlink (f->log);
  g_unlink (f->marker);
  g_unlink (f->chunks);
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->log);
  g_free (f->marker);
  g_free (f->chunks);
  g_free (f->dir);
}

/* A pool of test workers, with the extra worker options given (NULL
 * terminated). */
static AmorProcessPool *
make_pool (guint       n_workers,
           const char *first_option,
           ...)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autofree char *worker = g_test_build_filename (G_TEST_BUILT, "workers", "amor-test-worker", NULL);
  va_list args;

  g_strv_builder_add (builder, worker);
  va_start (args, first_option);
  for (const char *option = first_option; option != NULL; option = va_arg (args, const char *))
    g_strv_builder_add (builder, option);
  va_end (args);

  argv = g_strv_builder_end (builder);
  return amor_process_pool_new ((const char * const *) argv, n_workers);
}

/* "at" of 0 .. n - 1 */
static GVariant *
items_range (guint64 n)
{
  g_autofree guint64 *values = g_new (guint64, MAX (n, 1));

  for (guint64 i = 0; i < n; i++)
    values[i] = i;
  return g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, values, n, sizeof (guint64));
}

static guint64
value_of (guint64 v)
{
  return v * v + 1;
}

/* The results of items_range (n): in order, each v·v + 1. */
static void
assert_results (GVariant *results,
                guint64   n)
{
  g_assert_nonnull (results);
  g_assert_cmpstr (g_variant_get_type_string (results), ==, "av");
  g_assert_cmpuint (g_variant_n_children (results), ==, n);

  for (guint64 i = 0; i < n; i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (results, i);
      g_autoptr(GVariant) result = g_variant_get_variant (boxed);

      g_assert_cmpstr (g_variant_get_type_string (result), ==, "t");
      g_assert_cmpuint (g_variant_get_uint64 (result), ==, value_of (i));
    }
}

/* The same, in an array of the result type "t". */
static void
assert_typed_results (GVariant *results,
                      guint64   n)
{
  const guint64 *values;
  gsize n_values = 0;

  g_assert_nonnull (results);
  g_assert_cmpstr (g_variant_get_type_string (results), ==, "at");
  values = g_variant_get_fixed_array (results, &n_values, sizeof (guint64));
  g_assert_cmpuint (n_values, ==, n);
  for (gsize i = 0; i < n_values; i++)
    g_assert_cmpuint (values[i], ==, value_of (i));
}

/* How many times each value 0 .. n - 1 is in the log; the pids seen go
 * to @pids (if not NULL), and the pid that logged each value to @pid_of
 * (if not NULL; n of them). */
static guint *
read_log_full (const char *path,
               guint64     n,
               GHashTable *pids,
               int        *pid_of)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint *counts = g_new0 (guint, MAX (n, 1));

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return counts;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      int pid;
      gint64 value;

      if (lines[i][0] == '\0')
        continue;
      g_assert_cmpint (sscanf (lines[i], "%d %" G_GINT64_FORMAT, &pid, &value), ==, 2);
      g_assert_cmpint (value, >=, 0);
      g_assert_cmpint (value, <, (gint64) n);
      counts[value]++;
      if (pids != NULL)
        g_hash_table_add (pids, GINT_TO_POINTER (pid));
      if (pid_of != NULL)
        pid_of[value] = pid;
    }

  return counts;
}

/* The lines of @path (a log of "PID VALUE" lines) written by other
 * processes than this one. */
static guint
count_others_lines (const char *path)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    n += lines[i][0] != '\0' && atoi (lines[i]) != (int) getpid ();
  return n;
}

static guint *
read_log (const char *path,
          guint64     n,
          GHashTable *pids)
{
  return read_log_full (path, n, pids, NULL);
}

static void
assert_log_exactly_once (const char *path,
                         guint64     n)
{
  g_autofree guint *counts = read_log (path, n, NULL);

  for (guint64 i = 0; i < n; i++)
    if (counts[i] != 1)
      g_error ("item %" G_GUINT64_FORMAT " was processed %u times", i, counts[i]);
}

/* A plan made by hand. */
static AmorResult *
hand_plan (guint        n_workers,
           guint64      chunk_size,
           AmorSchedule schedule)
{
  return amor_test_hand_plan (n_workers, chunk_size, schedule, 100, 1e-3);
}

static void
set_hand_plan (AmorProcessPool *pool,
               guint            n_workers,
               guint64          chunk_size,
               AmorSchedule     schedule)
{
  g_autoptr(AmorResult) plan = hand_plan (n_workers, chunk_size, schedule);

  amor_process_pool_set_plan (pool, plan);
}

/* The open descriptors; @pidfds counts those that are pidfds. */
static guint
count_fds_full (guint *pidfds)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  *pidfds = 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL && strstr (target, "pidfd") != NULL)
        (*pidfds)++;
      n++;
    }
  return n;
}

/* The number of open descriptors once GLib's worker thread has released
 * what it holds for children that exited: it closes their pidfd and drops
 * its reference of a waiting task's main context (an eventfd) just after
 * the wait completed. The count must hold still and no pidfd remain.
 * Bounded; never a speed assertion. */
static guint
settled_fds (void)
{
  guint pidfds, again, n = count_fds_full (&pidfds);

  for (guint i = 0; i < 250; i++)
    {
      g_usleep (20 * 1000);
      if (count_fds_full (&again) == n && pidfds == 0)
        break;
      n = count_fds_full (&pidfds);
    }
  return n;
}

/* Calls @func on each child of this process; returns how many there are,
 * and how many of them are zombies. */
static guint
for_each_child (void      (*func) (gpointer data, int pid),
                gpointer    data,
                guint      *zombies)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint n = 0;
  int self = getpid ();

  *zombies = 0;
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *stat = NULL;
      const char *end;
      char state;
      int ppid;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      /* "pid (comm) S ppid ..."; comm may hold spaces and parentheses. */
      end = strrchr (stat, ')');
      if (end == NULL || sscanf (end + 1, " %c %d", &state, &ppid) != 2)
        continue;
      if (ppid != self)
        continue;
      n++;
      if (state == 'Z')
        (*zombies)++;
      if (func != NULL)
        func (data, atoi (name));
    }

  return n;
}

static guint
count_children (guint *zombies)
{
  return for_each_child (NULL, NULL, zombies);
}

static void
assert_no_zombie (void)
{
  guint zombies;

  count_children (&zombies);
  g_assert_cmpuint (zombies, ==, 0);
}

/* Blocking map; the result or the error. */
static GVariant *
map_sync (AmorProcessPool  *pool,
          GVariant         *items,
          GError          **error)
{
  return amor_process_pool_map (pool, items, NULL, error);
}

/* @message names a chunk, "chunk N (items A–B)" or "chunk N (item A)",
 * that holds @item. */
static void
assert_names_chunk_of (const char *message,
                       guint64     item)
{
  const char *chunk = strstr (message, "chunk ");
  const char *items;
  guint64 first, last;

  g_assert_nonnull (chunk);
  items = strstr (chunk, " (item");
  g_assert_nonnull (items);
  if (g_str_has_prefix (items, " (items "))
    g_assert_cmpint (sscanf (items, " (items %" G_GUINT64_FORMAT "–%" G_GUINT64_FORMAT ")",
                             &first, &last), ==, 2);
  else
    {
      g_assert_cmpint (sscanf (items, " (item %" G_GUINT64_FORMAT ")", &first), ==, 1);
      last = first;
    }
  g_assert_cmpuint (first, <=, item);
  g_assert_cmpuint (item, <=, last);
}

/* The wire protocol */

static void
test_wire_header (void)
{
  guint8 header[AMOR_WIRE_HEADER_SIZE];
  g_autoptr(GError) error = NULL;
  guint8 type = 0;
  guint32 length = 0;

  amor_wire_header_encode (header, AMOR_WIRE_RESULTS, 0x01020304);
  g_assert_cmpuint (header[0], ==, 1);
  g_assert_cmpuint (header[3], ==, 4);
  g_assert_true (amor_wire_header_decode (header, G_MAXUINT32, &type, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (type, ==, AMOR_WIRE_RESULTS);
  g_assert_cmpuint (length, ==, 0x01020304);

  /* Above the maximum: an error that says how large. */
  g_assert_false (amor_wire_header_decode (header, 1000, &type, &length, &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "16909060 bytes"));
  g_clear_error (&error);

  /* An unknown type, and padding that is not zero. */
  amor_wire_header_encode (header, 'Z', 10);
  g_assert_false (amor_wire_header_decode (header, 1000, &type, &length, &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_clear_error (&error);

  amor_wire_header_encode (header, AMOR_WIRE_CHUNK, 10);
  header[6] = 1;
  g_assert_false (amor_wire_header_decode (header, 1000, &type, &length, &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
}

static void
test_wire_body (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) hello = amor_wire_hello_new ();
  g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (hello);
  g_autoptr(GVariant) decoded = NULL;
  g_autoptr(GVariant) wrong = NULL;
  g_autoptr(GBytes) garbage = NULL;
  static const guint8 junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

  decoded = amor_wire_body_decode (AMOR_WIRE_HELLO, bytes, &error);
  g_assert_no_error (error);
  g_assert_true (amor_wire_hello_check (decoded, &error));
  g_assert_no_error (error);

  /* Bytes that are no "(uv)" in normal form are refused, not read as
   * default values. */
  garbage = g_bytes_new_static (junk, sizeof junk);
  g_assert_null (amor_wire_body_decode (AMOR_WIRE_CHUNK, garbage, &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* A hello of another protocol version. */
  wrong = g_variant_ref_sink (g_variant_new ("(su)", AMOR_WIRE_MAGIC, AMOR_WIRE_VERSION + 1));
  g_assert_false (amor_wire_hello_check (wrong, &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_UNSUPPORTED_VERSION);
}

/* Maps */

/* The tests given data run twice: with workers that serve an item at a
 * time (data NULL) and a chunk at a time ("--chunks"). */
static void
test_map_sampled (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--log", f->log, data, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  AmorResult *plan;

  results = map_sync (pool, items_range (60), &error);
  g_assert_no_error (error);
  assert_results (results, 60);
  /* The sampled items count among the items processed: once each. */
  assert_log_exactly_once (f->log, 60);

  plan = amor_process_pool_get_result (pool);
  g_assert_nonnull (plan);
  g_assert_cmpuint (amor_result_get_n_items (plan), ==, 60);
  g_assert_cmpuint (amor_result_get_n_samples (plan), >=, 2);
  g_assert_cmpfloat (amor_process_pool_get_spawn_cost (pool), >, 0.0);
  g_assert_cmpfloat (amor_process_pool_get_elapsed (pool), >, 0.0);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), >=, 1);
}

static void
test_map_fixed_plan (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--log", f->log, NULL);
  g_autoptr(GHashTable) pids = g_hash_table_new (NULL, NULL);
  g_autofree guint *counts = NULL;
  AmorSchedule schedules[] = { AMOR_SCHEDULE_FIXED, AMOR_SCHEDULE_GUIDED };

  for (guint s = 0; s < G_N_ELEMENTS (schedules); s++)
    {
      g_autoptr(GVariant) results = NULL;
      g_autoptr(GError) error = NULL;

      set_hand_plan (pool, 2, 3, schedules[s]);
      /* Emptied in place: the workers keep it open. */
      g_assert_cmpint (truncate (f->log, 0), ==, 0);
      results = map_sync (pool, items_range (50), &error);
      g_assert_no_error (error);
      assert_results (results, 50);
      assert_log_exactly_once (f->log, 50);
      /* Two workers, kept for the next map. */
      g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 2);
      g_assert_true (amor_process_pool_get_result (pool) == amor_process_pool_get_plan (pool));
    }

  /* The second map ran on the processes of the first. */
  counts = read_log (f->log, 50, pids);
  g_assert_cmpuint (g_hash_table_size (pids), <=, 2);
}

static void
add_child_pid (gpointer pids, int pid)
{
  g_hash_table_add (pids, GINT_TO_POINTER (pid));
}

static void
test_map_reuses_workers (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--log", f->log, NULL);
  g_autoptr(GHashTable) kept = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) logged = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) after = g_hash_table_new (NULL, NULL);
  g_autofree guint *counts = NULL;
  GHashTableIter iter;
  gpointer pid;
  guint zombies;

  set_hand_plan (pool, 2, 2, AMOR_SCHEDULE_FIXED);
  for (guint run = 0; run < 2; run++)
    {
      g_autoptr(GVariant) results = NULL;
      g_autoptr(GError) error = NULL;

      results = map_sync (pool, items_range (40), &error);
      g_assert_no_error (error);
      assert_results (results, 40);
      g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 2);
      if (run == 0)
        {
          /* The two processes kept for the next map. */
          g_assert_cmpuint (for_each_child (add_child_pid, kept, &zombies), ==, 2);
          g_assert_cmpuint (g_hash_table_size (kept), ==, 2);
        }
    }

  /* The second map ran on them: no other process logged an item. */
  counts = read_log (f->log, 40, logged);
  for (guint64 i = 0; i < 40; i++)
    g_assert_cmpuint (counts[i], ==, 2);
  g_hash_table_iter_init (&iter, logged);
  while (g_hash_table_iter_next (&iter, &pid, NULL))
    g_assert_true (g_hash_table_contains (kept, pid));
  for_each_child (add_child_pid, after, &zombies);
  g_assert_cmpuint (g_hash_table_size (after), ==, 2);
  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &pid, NULL))
    g_assert_true (g_hash_table_contains (kept, pid));

  amor_process_pool_shutdown (pool);
  g_assert_cmpuint (for_each_child (NULL, NULL, &zombies), ==, 0);
}

/* A serial plan runs on one worker, also when the pool keeps more. */
static void
test_serial_plan_one_worker (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--log", f->log, "--sleep-ms", "1", NULL);
  g_autoptr(GHashTable) pids = g_hash_table_new (NULL, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GVariant) serial = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *counts = NULL;

  set_hand_plan (pool, 2, 2, AMOR_SCHEDULE_FIXED);
  results = map_sync (pool, items_range (20), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 2);

  g_assert_cmpint (truncate (f->log, 0), ==, 0);
  set_hand_plan (pool, 1, 2, AMOR_SCHEDULE_SERIAL);
  serial = map_sync (pool, items_range (20), &error);
  g_assert_no_error (error);
  assert_results (serial, 20);
  counts = read_log (f->log, 20, pids);
  g_assert_cmpuint (g_hash_table_size (pids), ==, 1);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 2);
}

static void
test_map_types (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GVariant) empty = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r0 = NULL, r1 = NULL, r2 = NULL;
  GVariantBuilder builder;

  /* An "av" of several types; each result keeps its own type. */
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&builder, "v", g_variant_new_int32 (3));
  g_variant_builder_add (&builder, "v", g_variant_new_string ("straße"));
  g_variant_builder_add (&builder, "v", g_variant_new_uint32 (10));
  results = map_sync (pool, g_variant_builder_end (&builder), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (results), ==, 3);
  g_variant_get_child (results, 0, "v", &r0);
  g_variant_get_child (results, 1, "v", &r1);
  g_variant_get_child (results, 2, "v", &r2);
  g_assert_cmpuint (g_variant_get_uint64 (r0), ==, 10);
  g_assert_cmpstr (g_variant_get_string (r1, NULL), ==, "STRASSE");
  g_assert_cmpuint (g_variant_get_uint64 (r2), ==, 101);

  /* No items: no worker starts. */
  empty = map_sync (pool, g_variant_new_array (G_VARIANT_TYPE_STRING, NULL, 0), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (empty), ==, "av");
  g_assert_cmpuint (g_variant_n_children (empty), ==, 0);
}

static void
test_map_no_items_starts_nothing (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  results = map_sync (pool, items_range (0), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (results), ==, 0);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
  g_assert_cmpfloat (amor_process_pool_get_spawn_cost (pool), ==, 0.0);
  g_assert_false (amor_result_is_parallel (amor_process_pool_get_result (pool)));
}

/* Tiny items: the plan is serial (one worker) and made with the pool's
 * own measured costs, not the thread costs. */
static void
test_tiny_items_serial (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--log", f->log, NULL);
  g_autoptr(AmorSystem) system = amor_system_new_custom (2, 2, G_GUINT64_CONSTANT (8) << 30, 0.0, 0.0);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  const AmorPlan *plan;

  amor_process_pool_set_system (pool, system);
  results = map_sync (pool, items_range (20), &error);
  g_assert_no_error (error);
  assert_results (results, 20);
  assert_log_exactly_once (f->log, 20);

  plan = amor_result_peek_plan (amor_process_pool_get_result (pool));
  g_assert_cmpuint (plan->n_workers, ==, 1);
  g_assert_cmpint (plan->schedule, ==, AMOR_SCHEDULE_SERIAL);
  /* Both CPUs got a worker at once, before the plan; it still counts the
   * start of the second as a cost. */
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), <=, 2);
  /* Planned for two CPUs with the spawn time as the fork-join cost and
   * the measured round trip as the dispatch cost. */
  g_assert_cmpuint (plan->n_cpus, ==, 2);
  /* (The system's own costs are 0: these are the workers' start, as
   * measured when the plan was made — the second worker may say hello
   * after it.) */
  g_assert_cmpfloat (plan->fork_join_cost, >, 0.0);
  g_assert_cmpfloat (plan->dispatch_cost, ==, amor_process_pool_get_dispatch_cost (pool));
  g_assert_cmpfloat (plan->mean, >=, amor_process_pool_get_serialization_cost (pool));
}

typedef struct
{
  GAsyncResult *result;
  GAsyncResult *second;
} AsyncData;

static void
async_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  AsyncData *data = user_data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  data->result = g_object_ref (result);
}

static void
async_second_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AsyncData *data = user_data;

  data->second = g_object_ref (result);
}

static void
test_map_async (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--log", f->log, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GVariant) items = g_variant_ref_sink (items_range (30));
  g_autoptr(GError) error = NULL;
  AsyncData async = { NULL, NULL };

  set_hand_plan (pool, 2, 4, AMOR_SCHEDULE_FIXED);
  amor_process_pool_map_async (pool, items, NULL, async_cb, &async);
  /* One map at a time. */
  amor_process_pool_map_async (pool, items, NULL, async_second_cb, &async);

  while (async.result == NULL || async.second == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_null (amor_process_pool_map_finish (pool, async.second, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);

  results = amor_process_pool_map_finish (pool, async.result, &error);
  g_assert_no_error (error);
  assert_results (results, 30);
  assert_log_exactly_once (f->log, 30);

  g_object_unref (async.result);
  g_object_unref (async.second);
}

/* Failures */

static void
test_error_in_callback (gconstpointer data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--fail-at", "13", "--null-at", "17",
                                               data, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  set_hand_plan (pool, 2, 3, AMOR_SCHEDULE_FIXED);
  /* Items 0 .. 16: only item 13 fails. (With item 17 too, two workers
   * race to report first.) */
  g_assert_null (map_sync (pool, items_range (17), &error));
  g_assert_nonnull (error);
  g_assert_cmpstr (g_quark_to_string (error->domain), ==, TEST_WORKER_DOMAIN);
  g_assert_cmpint (error->code, ==, 7);
  g_assert_cmpstr (error->message, ==, "Item 13: refusing item value 13");
  g_clear_error (&error);

  /* A NULL result without an error: WORK_FAILED, naming the item. The
   * items of the fixed plan are indices 10 .. 19 here. */
  {
    GVariant *tail;   /* floating: the map sinks it */
    guint64 values[] = { 10, 11, 12, 14, 15, 16, 17, 18 };

    tail = g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, values, G_N_ELEMENTS (values),
                                      sizeof (guint64));
    g_assert_null (map_sync (pool, tail, &error));
    g_assert_error (error, AMOR_ERROR, AMOR_ERROR_WORK_FAILED);
    g_assert_true (g_str_has_prefix (error->message, "Item 6: "));
    g_clear_error (&error);
  }

  /* The workers are fine: the next map works. */
  results = map_sync (pool, items_range (12), &error);
  g_assert_no_error (error);
  assert_results (results, 12);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 2);
}

static void
test_error_in_sampling (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--fail-at", "0", NULL);
  g_autoptr(GError) error = NULL;

  /* Item 0 is not among the first sampled; the error comes whenever it
   * runs, with its index. */
  g_assert_null (map_sync (pool, items_range (40), &error));
  g_assert_nonnull (error);
  g_assert_cmpint (error->code, ==, 7);
  g_assert_true (g_str_has_prefix (error->message, "Item 0: "));
}

static void
test_crash_retried (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--log", f->log, "--crash-at", "9",
                                               "--marker", f->marker, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *counts = NULL;

  set_hand_plan (pool, 2, 4, AMOR_SCHEDULE_FIXED);
  results = map_sync (pool, items_range (24), &error);
  g_assert_no_error (error);
  assert_results (results, 24);
  g_assert_true (g_file_test (f->marker, G_FILE_TEST_EXISTS));

  /* Item 9 died once (before logging) and ran once more; only the items
   * of its chunk (8 .. 11) may have run twice. */
  counts = read_log (f->log, 24, NULL);
  for (guint64 i = 0; i < 24; i++)
    {
      if (i >= 8 && i <= 11)
        g_assert_cmpuint (counts[i], >=, 1);
      else
        g_assert_cmpuint (counts[i], ==, 1);
    }
  g_assert_cmpuint (counts[9], ==, 1);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 2);
  assert_no_zombie ();
}

/* One worker holds a chunk and the next one queued behind it; it dies on
 * the first: the first's items run again, one at a time, and the queued
 * chunk, never started, runs once. */
static void
test_crash_with_queued_chunk (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--log", f->log, "--crash-at", "9",
                                               "--marker", f->marker, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *counts = NULL;

  set_hand_plan (pool, 1, 4, AMOR_SCHEDULE_FIXED);
  results = map_sync (pool, items_range (24), &error);
  g_assert_no_error (error);
  assert_results (results, 24);
  g_assert_true (g_file_test (f->marker, G_FILE_TEST_EXISTS));

  counts = read_log (f->log, 24, NULL);
  for (guint64 i = 0; i < 24; i++)
    {
      if (i == 8)
        g_assert_cmpuint (counts[i], ==, 2);   /* ran before the death, and after */
      else
        g_assert_cmpuint (counts[i], ==, 1);
    }
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 1);
  assert_no_zombie ();
}

static void
test_crash_twice (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--crash-always-at", "9", NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  set_hand_plan (pool, 2, 4, AMOR_SCHEDULE_FIXED);
  g_assert_null (map_sync (pool, items_range (24), &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Item 9: "));
  g_assert_nonnull (strstr (error->message, "killed by signal 9"));
  g_clear_error (&error);
  assert_no_zombie ();

  /* The next map, without item 9, works. */
  results = map_sync (pool, items_range (9), &error);
  g_assert_no_error (error);
  assert_results (results, 9);
}

static void
test_crash_while_sampling (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *counts = NULL;
  guint total = 0;

  /* 20 items: the first sampled index is 10, in a chunk of 5. */
  pool = make_pool (0, "--log", f->log, "--crash-at", "10", "--marker", f->marker, NULL);
  results = map_sync (pool, items_range (20), &error);
  g_assert_no_error (error);
  assert_results (results, 20);
  g_assert_true (g_file_test (f->marker, G_FILE_TEST_EXISTS));

  /* Item 10 died before it was logged and ran once more; the items of its
   * sample chunk that ran before it may have run twice, no other. */
  counts = read_log (f->log, 20, NULL);
  g_assert_cmpuint (counts[10], ==, 1);
  for (guint64 i = 0; i < 20; i++)
    {
      g_assert_cmpuint (counts[i], >=, 1);
      g_assert_cmpuint (counts[i], <=, 2);
      total += counts[i];
    }
  g_assert_cmpuint (total, <=, 20 + 4);
}

static void
test_oversized_output (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--big-at", "5", "--big-size", "5000", NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  amor_process_pool_set_max_frame_size (pool, 1024);
  set_hand_plan (pool, 2, 2, AMOR_SCHEDULE_FIXED);
  g_assert_null (map_sync (pool, items_range (12), &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "worker "));
  g_assert_nonnull (strstr (error->message, "(items 4–5)"));
  g_assert_nonnull (strstr (error->message, "above the maximum frame size of 1024 bytes"));
  g_clear_error (&error);
  assert_no_zombie ();

  /* The pool is usable: the worker is replaced. */
  results = map_sync (pool, items_range (5), &error);
  g_assert_no_error (error);
  assert_results (results, 5);
}

static void
test_malformed_output (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--garbage-at", "7", NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  set_hand_plan (pool, 2, 3, AMOR_SCHEDULE_FIXED);
  g_assert_null (map_sync (pool, items_range (12), &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_assert_true (g_str_has_prefix (error->message, "The output of worker "));
  assert_names_chunk_of (error->message, 7);
  g_assert_nonnull (strstr (error->message, "malformed frame header"));
  g_clear_error (&error);
  assert_no_zombie ();

  results = map_sync (pool, items_range (7), &error);
  g_assert_no_error (error);
  assert_results (results, 7);
}

static void
child_waited_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* A worker that another process traces when it is killed (a debugger, or
 * a sanitizer's leak checker inside the worker, which traces it as it
 * exits) can be reaped only once the tracer lets go. Its wait ends then,
 * with the real status, and no zombie is left: the asynchronous wait of a
 * map (@data NULL), and amor_child_kill_sync() of a pool's disposal
 * (@data "sync"). */
static void
test_child_traced (gconstpointer data)
{
  const char *argv[] = { "sleep", "100", NULL };
  gboolean sync = data != NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AmorChild) child = NULL;
  g_autofree char *status = NULL;
  GSubprocess *process;
  int ready[2];
  pid_t worker, tracer;
  char byte = 0;
  guint zombies;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  child = amor_child_new_for_subprocess (process);
  worker = (pid_t) atoi (amor_child_get_identifier (child));

  /* The tracer: attaches, says so, and lets go 200 ms later, by exiting. */
  g_assert_cmpint (pipe (ready), ==, 0);
  tracer = fork ();
  g_assert_cmpint (tracer, >=, 0);
  if (tracer == 0)
    {
      char ok = ptrace (PTRACE_SEIZE, worker, NULL, NULL) == 0 ? 'y' : 'n';

      if (write (ready[1], &ok, 1) != 1)
        _exit (1);
      g_usleep (200000);
      _exit (0);
    }
  close (ready[1]);
  g_assert_cmpint (read (ready[0], &byte, 1), ==, 1);
  close (ready[0]);
  if (byte != 'y')
    {
      amor_child_kill_sync (child);
      g_assert_cmpint (waitpid (tracer, NULL, 0), ==, tracer);
      g_test_skip ("this process may not trace its children");
      return;
    }

  if (sync)
    amor_child_kill_sync (child);
  else
    {
      g_autoptr(GAsyncResult) result = NULL;

      amor_child_force_exit (child);
      amor_child_wait_async (child, child_waited_cb, &result);
      while (result == NULL)
        g_main_context_iteration (NULL, TRUE);
      amor_child_wait_finish (child, result);
    }

  status = amor_child_describe_exit (child);
  g_assert_cmpstr (status, ==, "killed by signal 9 (Killed)");
  g_assert_cmpint (waitpid (tracer, NULL, 0), ==, tracer);
  count_children (&zombies);
  g_assert_cmpuint (zombies, ==, 0);
  g_assert_cmpint (kill (worker, 0), <, 0);
}

static void
test_too_large_items (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_strnfill (2000, 'a');
  GVariant *children[2];

  children[0] = g_variant_new_string ("small");
  children[1] = g_variant_new_string (big);
  amor_process_pool_set_max_frame_size (pool, 1024);
  set_hand_plan (pool, 1, 1, AMOR_SCHEDULE_FIXED);
  g_assert_null (map_sync (pool, g_variant_new_array (NULL, children, 2), &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "chunk 2 (item 1)"));
}

/* An item larger than a socket holds, even widened (the pool asks for
 * 4 MiB): what does not fit is written as the worker reads, and the
 * worker's answer, as large, as the pool reads. */
static void
test_larger_than_socket (void)
{
  const gsize size = 9u << 20;
  g_autoptr(AmorProcessPool) pool = make_pool (2, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_malloc (size + 1);
  GVariant *children[3];

  memset (big, 'a', size);
  big[size] = '\0';
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      big[0] = (char) ('a' + i);
      children[i] = g_variant_new_string (big);
    }
  set_hand_plan (pool, 2, 1, AMOR_SCHEDULE_FIXED);
  results = map_sync (pool, g_variant_new_array (NULL, children, G_N_ELEMENTS (children)), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (results), ==, G_N_ELEMENTS (children));
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (results, i);
      g_autoptr(GVariant) result = g_variant_get_variant (boxed);
      gsize length;
      const char *text = g_variant_get_string (result, &length);

      g_assert_cmpuint (length, ==, size);
      g_assert_cmpint (text[0], ==, 'A' + (int) i);
      g_assert_cmpint (text[size - 1], ==, 'A');
    }
}

/* How many bytes of data a socket of a pool's worker holds: its send
 * buffer, widened as the pool widens it, about half of it data. */
static gsize
widened_socket_room (void)
{
  int sv[2], size = 4 << 20;
  socklen_t length = sizeof size;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
  g_assert_cmpint (setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size), ==, 0);
  g_assert_cmpint (getsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &size, &length), ==, 0);
  close (sv[0]);
  close (sv[1]);
  return (gsize) size / 2;
}

/* A plan's chunk for a worker fits, with its answer, in half of what the
 * worker's socket holds: the next chunk, sent ahead, fits behind it, and
 * neither the pool nor the worker waits for the other to read. Here the
 * plan asks for one chunk of all the items, strings of 1000 bytes (their
 * results as large, with 8 bytes of duration each). */
static void
test_chunk_fits_socket (Fixture       *f,
                        gconstpointer  data)
{
  const gsize room = widened_socket_room ();
  const guint64 n = 3 * (room / 2 / 1012) + 10;
  g_autoptr(AmorProcessPool) pool = make_pool (1, "--chunks", "--chunk-log", f->chunks, NULL);
  g_autofree GVariant **children = g_new (GVariant *, n);
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) sizes = NULL;
  char word[1001];
  gsize largest = 0, cap;

  for (guint64 i = 0; i < n; i++)
    {
      memset (word, 'a' + (int) (i % 26), 1000);
      word[1000] = '\0';
      children[i] = g_variant_new_string (word);
    }
  items = g_variant_ref_sink (g_variant_new_array (NULL, children, n));
  /* As the pool counts: the mean size of an item, and of its result with
   * its duration. */
  cap = (gsize) ((double) room / 2.0 / ((double) g_variant_get_size (items) / (double) n + 8.0));
  g_assert_cmpuint (n, >, 2 * cap);

  set_hand_plan (pool, 1, n, AMOR_SCHEDULE_FIXED);
  results = map_sync (pool, items, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (results), ==, n);
  for (guint64 i = 0; i < n; i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (results, i);
      g_autoptr(GVariant) result = g_variant_get_variant (boxed);
      const char *upper = g_variant_get_string (result, NULL);

      g_assert_cmpuint (strlen (upper), ==, 1000);
      g_assert_cmpint (upper[999], ==, 'A' + (int) (i % 26));
    }

  g_assert_true (g_file_get_contents (f->chunks, &text, NULL, NULL));
  sizes = g_strsplit (text, "\n", -1);
  for (guint i = 0; sizes[i] != NULL && sizes[i][0] != '\0'; i++)
    largest = MAX (largest, (gsize) g_ascii_strtoull (sizes[i], NULL, 10));
  g_test_message ("%" G_GUINT64_FORMAT " items in chunks of up to %" G_GSIZE_FORMAT
                  ", %" G_GSIZE_FORMAT " allowed", n, largest, cap);
  g_assert_cmpuint (largest, <=, cap);
  g_assert_cmpuint (largest, >=, cap / 2);
}

static void
test_bad_argv (void)
{
  const char *missing[] = { "/nonexistent/amor-test-worker", NULL };
  g_autoptr(AmorProcessPool) pool = amor_process_pool_new (missing, 0);
  g_autoptr(GError) error = NULL;

  g_assert_null (map_sync (pool, items_range (10), &error));
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, "Could not start a worker"));
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
  assert_no_zombie ();
}

static void
test_exit_before_hello (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--exit-before-hello", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (map_sync (pool, items_range (10), &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "exited with status 3 before its hello"));
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
  assert_no_zombie ();

  /* An argv that is no worker at all (it writes nothing and exits). */
  {
    const char *not_a_worker[] = { "true", NULL };
    g_autoptr(AmorProcessPool) other = amor_process_pool_new (not_a_worker, 0);

    g_clear_error (&error);
    g_assert_null (map_sync (other, items_range (10), &error));
    g_assert_error (error, AMOR_ERROR, AMOR_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "before its hello"));
  }
}

static void
test_no_hello (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--no-hello", NULL);
  g_autoptr(GError) error = NULL;

  amor_process_pool_set_hello_timeout (pool, 0.2);
  g_assert_null (map_sync (pool, items_range (10), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "sent no hello within 0.2 s"));
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
  assert_no_zombie ();
}

static void
test_bad_hello (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--bad-hello", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (map_sync (pool, items_range (10), &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "hello"));
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
  assert_no_zombie ();
}

/* Cancellation */

static void
async_any_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncData *data = user_data;

  data->result = g_object_ref (result);
}


static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) results = NULL;
  AsyncData async = { NULL, NULL };
  AmorProcessPool *pool;
  GSource *timeout;
  guint fds_before, children, zombies;
  g_autofree guint *counts = NULL;

  /* Warm up what GLib opens once per process (its worker thread, the
   * SIGCHLD machinery) before counting descriptors. */
  pool = make_pool (0, NULL);
  results = map_sync (pool, items_range (3), &error);
  g_assert_no_error (error);
  g_clear_pointer (&results, g_variant_unref);
  g_object_unref (pool);

  fds_before = settled_fds ();
  g_assert_cmpuint (count_children (&zombies), ==, 0);

  pool = make_pool (0, "--log", f->log, "--sleep-ms", "20", NULL);
  set_hand_plan (pool, 2, 1, AMOR_SCHEDULE_FIXED);

  g_main_context_push_thread_default (context);
  timeout = g_timeout_source_new (300);
  g_source_set_callback (timeout, cancel_cb, cancellable, NULL);
  g_source_attach (timeout, context);
  g_source_unref (timeout);

  amor_process_pool_map_async (pool, items_range (200), cancellable, async_any_cb, &async);
  while (async.result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  results = amor_process_pool_map_finish (pool, async.result, &error);
  g_assert_null (results);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&async.result);

  /* The workers were terminated and reaped at once. */
  children = count_children (&zombies);
  g_assert_cmpuint (zombies, ==, 0);
  g_assert_cmpuint (children, ==, amor_process_pool_get_n_running (pool));
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
  counts = read_log (f->log, 200, NULL);
  for (guint i = 0; i < 200; i++)
    g_assert_cmpuint (counts[i], <=, 1);
  g_assert_cmpuint (counts[199], ==, 0);

  /* The pool starts new workers for the next map. */
  g_clear_error (&error);
  amor_process_pool_set_plan (pool, NULL);
  results = map_sync (pool, items_range (4), &error);
  g_assert_no_error (error);
  assert_results (results, 4);

  g_object_unref (pool);
  g_assert_cmpuint (count_children (&zombies), ==, 0);
  g_assert_cmpuint (settled_fds (), ==, fds_before);
}

static void
test_cancel_before (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_null (amor_process_pool_map (pool, items_range (10), cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
}

/* A cancellation while the workers start (before their hello) ends the map
 * at once, not at the hello timeout. */
static void
test_cancel_while_starting (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, "--no-hello", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  AsyncData async = { NULL, NULL };
  GSource *timeout;
  guint zombies;

  amor_process_pool_set_hello_timeout (pool, 3600);
  set_hand_plan (pool, 2, 1, AMOR_SCHEDULE_FIXED);

  g_main_context_push_thread_default (context);
  timeout = g_timeout_source_new (100);
  g_source_set_callback (timeout, cancel_cb, cancellable, NULL);
  g_source_attach (timeout, context);
  g_source_unref (timeout);
  amor_process_pool_map_async (pool, items_range (10), cancellable, async_any_cb, &async);
  while (async.result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  g_assert_null (amor_process_pool_map_finish (pool, async.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_object (&async.result);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
  g_assert_cmpuint (count_children (&zombies), ==, 0);
}

/* No descriptor nor process is left behind by maps that fail in every way,
 * once the pool is gone. */
static void
test_no_leaks (Fixture       *f,
               gconstpointer  data)
{
  guint fds_before, zombies;
  const char *options[][6] = {
    { "--crash-always-at", "3", NULL },
    { "--garbage-at", "3", NULL },
    { "--big-at", "3", "--big-size", "5000", NULL },
    { "--fail-at", "3", NULL },
    { "--exit-before-hello", NULL },
    { NULL },
  };

  /* Warm up, as in test_cancel(). */
  {
    g_autoptr(AmorProcessPool) pool = make_pool (0, NULL);
    g_autoptr(GVariant) results = map_sync (pool, items_range (3), NULL);

    g_assert_nonnull (results);
  }

  fds_before = settled_fds ();

  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    {
      g_autoptr(AmorProcessPool) pool =
        make_pool (0, options[i][0], options[i][1], options[i][2], options[i][3], NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) results = NULL;

      amor_process_pool_set_max_frame_size (pool, 1024);
      set_hand_plan (pool, 2, 2, AMOR_SCHEDULE_FIXED);
      results = map_sync (pool, items_range (8), &error);
      g_assert_true ((results == NULL) == (options[i][0] != NULL));
      assert_no_zombie ();

      amor_process_pool_shutdown (pool);
      g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 0);
      g_assert_cmpuint (count_children (&zombies), ==, 0);
      g_assert_cmpuint (settled_fds (), ==, fds_before);
    }
}

static void
test_properties (void)
{
  const char *argv[] = { "amor-test-worker", "--x", NULL };
  g_autoptr(AmorProcessPool) pool = amor_process_pool_new (argv, 3);
  g_auto(GStrv) got = NULL;

  g_object_get (pool, "argv", &got, NULL);
  g_assert_cmpstrv (got, argv);
  g_assert_cmpstrv (amor_process_pool_get_argv (pool), argv);
  g_assert_cmpuint (amor_process_pool_get_n_workers (pool), ==, 3);
  g_assert_cmpfloat (amor_process_pool_get_target_chunk_duration (pool), ==,
                     AMOR_DEFAULT_PROCESS_CHUNK_DURATION);
  g_assert_cmpuint (amor_process_pool_get_max_frame_size (pool), ==, AMOR_DEFAULT_MAX_FRAME_SIZE);
  g_assert_cmpuint (amor_process_pool_get_sample_size (pool), ==, 5);
  g_assert_cmpfloat (amor_process_pool_get_min_speedup (pool), ==, AMOR_DEFAULT_MIN_SPEEDUP);
  g_assert_cmpfloat (amor_process_pool_get_hello_timeout (pool), ==, 30.0);
  g_assert_null (amor_process_pool_get_plan (pool));
  g_assert_null (amor_process_pool_get_result (pool));
  g_assert_true (amor_process_pool_get_system (pool) == amor_system_get_default ());

  amor_process_pool_set_target_chunk_duration (pool, 0.05);
  amor_process_pool_set_sample_size (pool, 7);
  amor_process_pool_set_min_speedup (pool, 1.5);
  g_assert_cmpfloat (amor_process_pool_get_target_chunk_duration (pool), ==, 0.05);
  g_assert_cmpuint (amor_process_pool_get_sample_size (pool), ==, 7);
  g_assert_cmpfloat (amor_process_pool_get_min_speedup (pool), ==, 1.5);
}

/* Spawn functions: workers forked from the test process */

typedef struct
{
  guint    calls;
  guint    close_fds[8];      /* n_close_fds of each call */
  gboolean fail;
  gboolean timed;             /* workers run fork_timed_chunk() */
  gulong   item_us;           /* its sleep per item, 2 ms if 0 */
  gint64   reported_ns;       /* the duration it reports, if not 0 */
  guint64  dear_from;         /* items from this one on (if not 0) take */
  gulong   dear_us;           /* ... this long each, and report it */
  GArray  *local_calls;       /* Call: fork_timed_chunk() in this process */
  pid_t    parent;
  int      log_fd;            /* "PID VALUE" lines, or -1 */
  const char *log_path;       /* its file */
  double (*cost) (guint64 index); /* if set: what each item reports, in s */
  double   later_s;           /* else if set: what items from 1000 on (a */
                              /* second map's) report, in s; those before */
                              /* report 2 ms */
  gulong   worker_chunk_us;   /* a worker sleeps this long after the items */
                              /* of each chunk of neighbouring ones */
  int      chunk_fd;          /* if > 0: "PID MIN MAX N" lines, a chunk each */
  const char *release;        /* if set: a worker's chunk with item */
  guint64  stall_at;          /* stall_at waits for this file (at most 10 s, */
                              /* else it creates release.late), which this */
  guint64  release_at;        /* process creates once it has run this item */
  gboolean release_on_chunk;  /* ... or a worker once it starts a chunk of */
                              /* the plan (neighbouring items) */
  guint    here_waits_for;    /* if set: this process's next chunk waits */
                              /* (at most 10 s) for the workers to have */
                              /* logged that many items, then clears it */
  guint    here_saw;          /* ... the items they had logged by then */
  gboolean here_stops;        /* this process's chunks that have a deadline */
                              /* (amor_worker_get_time_left()) stop after */
                              /* their first item */
  guint    here_stopped;      /* ... how many did */
  gboolean here_on_time;      /* this process's chunks stop before an item */
                              /* once their deadline is past */
  guint64  watch;             /* ... and stopped_before_watch is set if */
  gboolean stopped_before_watch; /* one stops before item watch - 1 */
  gint64   here_first_ns;     /* if set: what the first item of each chunk */
                              /* this process runs reports, in ns (cold) */
  double   here_factor;       /* if set: items run here cost that many */
                              /* times more (by cost or later_s) */
  gboolean sleep_cost;        /* items sleep what they cost (instead of */
                              /* item_us) */
} ForkSpawn;

typedef struct
{
  guint64 min, max;           /* the lowest and highest index */
  gsize   n;
  gint64  end_us;             /* when it was done (monotonic) */
} Call;

static GVariant *fork_timed_chunk (GVariant  *items,
                                   gpointer   user_data,
                                   GError   **error);

/* The work of a forked worker, and of the local function: v -> v·v + 1. */
static GVariant *
fork_square (GVariant  *item,
             gpointer   user_data,
             GError   **error)
{
  ForkSpawn *spawn = user_data;
  guint64 v = g_variant_get_uint64 (item);

  if (spawn->log_fd >= 0)
    {
      char line[64];
      int len = g_snprintf (line, sizeof line, "%d %" G_GUINT64_FORMAT "\n", (int) getpid (), v);

      g_assert_cmpint (write (spawn->log_fd, line, (size_t) len), ==, len);
    }
  return g_variant_new_uint64 (value_of (v));
}

/* The same work on the first @n items of a chunk, their results as an
 * "at". */
static GVariant *
fork_square_first (GVariant  *items,
                   gsize      n,
                   gpointer   user_data,
                   GError   **error)
{
  g_autofree guint64 *values = g_new (guint64, MAX (n, 1));

  g_assert_cmpstr (g_variant_get_type_string (items), ==, "at");
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) item = g_variant_get_child_value (items, i);
      g_autoptr(GVariant) result = fork_square (item, user_data, error);

      values[i] = g_variant_get_uint64 (result);
    }
  return g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, values, n, sizeof (guint64));
}

/* The same work, a chunk at a time: the local function. */
static GVariant *
fork_square_chunk (GVariant  *items,
                   gpointer   user_data,
                   GError   **error)
{
  return fork_square_first (items, g_variant_n_children (items), user_data, error);
}

static GPid
fork_spawn (int          fd,
            const int   *close_fds,
            guint        n_close_fds,
            gpointer     user_data,
            GError     **error)
{
  ForkSpawn *spawn = user_data;
  pid_t pid;

  if (spawn->calls < G_N_ELEMENTS (spawn->close_fds))
    spawn->close_fds[spawn->calls] = n_close_fds;
  spawn->calls++;

  if (spawn->fail)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no fork today");
      return 0;
    }

  pid = fork ();
  if (pid < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "fork failed");
      return 0;
    }
  if (pid == 0)
    {
      gboolean ok;

      for (guint i = 0; i < n_close_fds; i++)
        close (close_fds[i]);
      if (dup2 (fd, STDIN_FILENO) < 0 || dup2 (fd, STDOUT_FILENO) < 0)
        _exit (71);
      close (fd);
      ok = spawn->timed ? amor_worker_serve_chunks (fork_timed_chunk, spawn, NULL)
                        : amor_worker_serve (fork_square, spawn, NULL);
      _exit (ok ? 0 : 70);
    }
  return pid;
}

static AmorProcessPool *
make_fork_pool (ForkSpawn *spawn)
{
  return amor_process_pool_new_with_spawn_func (0, fork_spawn, spawn, NULL);
}

static void
test_spawn_func (Fixture       *f,
                 gconstpointer  data)
{
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  guint zombies;

  spawn.log_fd = open (f->log, O_WRONLY | O_APPEND);
  g_assert_cmpint (spawn.log_fd, >=, 0);
  pool = make_fork_pool (&spawn);
  g_assert_null (amor_process_pool_get_argv (pool));
  set_hand_plan (pool, 2, 3, AMOR_SCHEDULE_FIXED);

  results = map_sync (pool, items_range (40), &error);
  g_assert_no_error (error);
  assert_results (results, 40);
  assert_log_exactly_once (f->log, 40);

  /* Two forks, the second told to close the first's socket and the
   * pool's end of its own. */
  g_assert_cmpuint (spawn.calls, ==, 2);
  g_assert_cmpuint (spawn.close_fds[0], ==, 1);
  g_assert_cmpuint (spawn.close_fds[1], ==, 2);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 2);
  g_assert_cmpuint (count_children (&zombies), ==, 2);
  g_assert_cmpfloat (amor_process_pool_get_spawn_cost (pool), >, 0.0);

  /* Kept for the next map. */
  g_clear_pointer (&results, g_variant_unref);
  results = map_sync (pool, items_range (40), &error);
  g_assert_no_error (error);
  assert_results (results, 40);
  g_assert_cmpuint (spawn.calls, ==, 2);

  amor_process_pool_shutdown (pool);
  g_assert_cmpuint (count_children (&zombies), ==, 0);
  close (spawn.log_fd);
}

static void
test_spawn_func_fails (void)
{
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  spawn.fail = TRUE;
  spawn.log_fd = -1;
  pool = make_fork_pool (&spawn);
  set_hand_plan (pool, 2, 3, AMOR_SCHEDULE_FIXED);

  results = map_sync (pool, items_range (10), &error);
  g_assert_null (results);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "Could not start a worker (spawn function): no fork today"));
  g_assert_cmpuint (spawn.calls, ==, 1);
  assert_no_zombie ();
}

/* With a local function, a map whose plan is serial runs in the calling
 * process: sampled and finished here, no worker started. (A minimum
 * speedup above the 2 CPUs makes the plan serial whatever the items
 * took.) */
static void
test_local_func_serial (Fixture       *f,
                        gconstpointer  data)
{
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(AmorSystem) system = amor_system_new_custom (2, 2, 8u << 30, 0.0, 0.0);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) pids = g_hash_table_new (NULL, NULL);
  AmorResult *plan;
  guint zombies;

  spawn.log_fd = open (f->log, O_WRONLY | O_APPEND);
  g_assert_cmpint (spawn.log_fd, >=, 0);
  pool = make_fork_pool (&spawn);
  amor_process_pool_set_system (pool, system);
  amor_process_pool_set_min_speedup (pool, 2.5);
  amor_process_pool_set_local_func (pool, fork_square_chunk, &spawn, NULL);

  results = map_sync (pool, items_range (100), &error);
  g_assert_no_error (error);
  assert_results (results, 100);
  assert_log_exactly_once (f->log, 100);
  g_free (read_log (f->log, 100, pids));
  g_assert_cmpuint (g_hash_table_size (pids), ==, 1);
  g_assert_true (g_hash_table_contains (pids, GINT_TO_POINTER (getpid ())));
  g_assert_cmpuint (spawn.calls, ==, 0);
  g_assert_cmpuint (count_children (&zombies), ==, 0);

  plan = amor_process_pool_get_result (pool);
  g_assert_cmpint (amor_result_get_schedule (plan), ==, AMOR_SCHEDULE_SERIAL);
  g_assert_cmpuint (amor_result_get_n_samples (plan), >, 0);
  close (spawn.log_fd);
}

/* Items that take 2 ms (ForkSpawn.item_us), a chunk at a time, timed (or
 * reported as taking ForkSpawn.reported_ns): the work of the local
 * function, and of the workers when ForkSpawn.timed is set. */
static GVariant *
fork_timed_chunk (GVariant  *items,
                  gpointer   user_data,
                  GError   **error)
{
  gsize n = g_variant_n_children (items);
  g_autofree gint64 *ns = g_new (gint64, MAX (n, 1));
  g_autoptr(GVariant) results = NULL;

  ForkSpawn *spawn = user_data;
  Call call = { G_MAXUINT64, 0, n, 0 };
  gboolean here = getpid () == spawn->parent;
  gsize n_run = n;

  if (here && spawn->here_stops && n > 1 && amor_worker_get_time_left () < G_MAXDOUBLE)
    {
      n_run = 1;
      call.n = 1;
      spawn->here_stopped++;
    }

  if (here && spawn->here_waits_for > 0)
    {
      for (guint i = 0; i < 10000 && spawn->here_saw < spawn->here_waits_for; i++)
        {
          g_usleep (1000);
          spawn->here_saw = count_others_lines (spawn->log_path);
        }
      spawn->here_waits_for = 0;
    }

  if (spawn->release != NULL && !here && n > 0)
    {
      guint64 first, last;
      gboolean stall = FALSE;

      g_variant_get_child (items, 0, "t", &first);
      g_variant_get_child (items, n - 1, "t", &last);
      if (spawn->release_on_chunk && n >= 4 && last - first < 2 * n)
        g_assert_true (g_file_set_contents (spawn->release, "", 0, NULL));
      for (gsize i = 0; i < n && !stall; i++)
        {
          guint64 index;

          g_variant_get_child (items, i, "t", &index);
          stall = index == spawn->stall_at;
        }
      /* Stalled until another process lets go (at most 10 s). */
      if (stall)
        {
          for (guint i = 0; i < 10000 && !g_file_test (spawn->release, G_FILE_TEST_EXISTS); i++)
            g_usleep (1000);
          if (!g_file_test (spawn->release, G_FILE_TEST_EXISTS))
            {
              g_autofree char *late = g_strconcat (spawn->release, ".late", NULL);

              g_assert_true (g_file_set_contents (late, "", 0, NULL));
            }
        }
    }

  for (gsize i = n_run; i < n; i++)
    ns[i] = 0;
  for (gsize i = 0; i < n_run; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      guint64 index;

      if (here && spawn->here_on_time && i > 0 && amor_worker_get_time_left () <= 0.0)
        {
          for (gsize j = i; j < n; j++)
            {
              guint64 left;

              g_variant_get_child (items, j, "t", &left);
              spawn->stopped_before_watch |= spawn->watch > 0 && left == spawn->watch - 1;
              ns[j] = 0;
            }
          n_run = i;
          call.n = i;
          spawn->here_stopped++;
          break;
        }

      g_variant_get_child (items, i, "t", &index);
      call.min = MIN (call.min, index);
      call.max = MAX (call.max, index);
      if (spawn->release != NULL && here && index == spawn->release_at)
        g_assert_true (g_file_set_contents (spawn->release, "", 0, NULL));
      if (spawn->cost != NULL || spawn->later_s > 0.0)
        {
          double cost = spawn->cost != NULL ? spawn->cost (index)
                      : index < 1000 ? 2e-3 : spawn->later_s;

          if (here && spawn->here_factor > 0.0)
            cost *= spawn->here_factor;
          g_usleep (spawn->sleep_cost ? (gulong) (cost * 1e6) : spawn->item_us);
          ns[i] = here && i == 0 && spawn->here_first_ns > 0 ? spawn->here_first_ns
                                                            : (gint64) (cost * 1e9);
          continue;
        }
      if (spawn->dear_from > 0 && index >= spawn->dear_from)
        {
          g_usleep (spawn->dear_us);
          ns[i] = (gint64) spawn->dear_us * 1000;
          continue;
        }
      g_usleep (spawn->item_us > 0 ? spawn->item_us : 2000);
      ns[i] = spawn->reported_ns > 0 ? spawn->reported_ns
                                     : (g_get_monotonic_time () - t0) * 1000;
    }
  /* What is not an item's comes after the items, as most of a chunk's
   * overhead does (its answer). */
  if (spawn->worker_chunk_us > 0 && !here && n >= 4 && call.max - call.min < 2 * n)
    g_usleep (spawn->worker_chunk_us);
  call.end_us = g_get_monotonic_time ();
  if (spawn->local_calls != NULL && here)
    g_array_append_val (spawn->local_calls, call);
  if (spawn->chunk_fd > 0 && n > 0)
    {
      g_autofree char *line = g_strdup_printf ("%d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                                               " %" G_GSIZE_FORMAT " %" G_GINT64_FORMAT "\n",
                                               (int) getpid (), call.min, call.max, n,
                                               call.end_us);

      g_assert_cmpint (write (spawn->chunk_fd, line, strlen (line)), ==, (gssize) strlen (line));
    }
  /* Stopped, the results of the items run (a duration for each). */
  results = g_variant_ref_sink (fork_square_first (items, n_run, user_data, error));
  return g_variant_new ("(@at@ax)", results,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ns, n, sizeof (gint64)));
}

/* A pool of 2 CPUs whose workers run fork_timed_chunk(), logging to
 * @log. */
static AmorProcessPool *
make_timed_pool (ForkSpawn  *spawn,
                 const char *log)
{
  g_autoptr(AmorSystem) system = amor_system_new_custom (2, 2, 8u << 30, 0.0, 0.0);
  AmorProcessPool *pool;

  spawn->timed = TRUE;
  spawn->log_fd = open (log, O_WRONLY | O_APPEND);
  spawn->log_path = log;
  g_assert_cmpint (spawn->log_fd, >=, 0);
  pool = make_fork_pool (spawn);
  amor_process_pool_set_system (pool, system);
  amor_process_pool_set_result_type (pool, G_VARIANT_TYPE_UINT64);
  return pool;
}

/* Maps the items 0 … @n - 1 with @pool, whose work logs to @log: each
 * result is right and every item ran exactly once. */
static void
map_each_once (AmorProcessPool *pool,
               guint64          n,
               const char      *log)
{
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  results = map_sync (pool, items_range (n), &error);
  g_assert_no_error (error);
  assert_typed_results (results, n);
  assert_log_exactly_once (log, n);
}

/* The same, with fork_timed_chunk() as its local function too. */
static AmorProcessPool *
make_timed_local_pool (ForkSpawn  *spawn,
                       const char *log)
{
  AmorProcessPool *pool = make_timed_pool (spawn, log);

  amor_process_pool_set_local_func (pool, fork_timed_chunk, spawn, NULL);
  return pool;
}

/* With a local function, a parallel plan runs in the calling process too:
 * it is one of the plan's workers, so one worker fewer starts, and every
 * item still runs once. The next map shares its sampling with the worker
 * kept: the first item sampled (the middle one) goes to it. */
static void
test_local_func_parallel (Fixture       *f,
                          gconstpointer  data)
{
  const guint64 n = 200;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree int *pid_of = g_new0 (int, n);
  g_autofree guint *counts = NULL;
  AmorResult *plan;
  guint here = 0, zombies;

  pool = make_timed_local_pool (&spawn, f->log);

  /* 200 items of 2 ms or more on 2 CPUs: worth a worker. */
  results = map_sync (pool, items_range (n), &error);
  g_assert_no_error (error);
  assert_typed_results (results, n);
  plan = amor_process_pool_get_result (pool);
  g_assert_cmpuint (amor_result_get_n_workers (plan), ==, 2);
  g_assert_cmpuint (spawn.calls, ==, 1);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 1);

  counts = read_log_full (f->log, n, NULL, pid_of);
  for (guint64 i = 0; i < n; i++)
    {
      g_assert_cmpuint (counts[i], ==, 1);
      here += pid_of[i] == getpid ();
    }
  /* Both ran items, the calling process more than its samples. */
  g_assert_cmpuint (here, >, amor_result_get_n_samples (plan));
  g_assert_cmpuint (here, <, n);

  /* The second map: the worker kept takes the first sample, item n / 2. */
  g_assert_cmpint (ftruncate (spawn.log_fd, 0), ==, 0);
  g_clear_pointer (&results, g_variant_unref);
  results = map_sync (pool, items_range (n), &error);
  g_assert_no_error (error);
  assert_typed_results (results, n);
  g_clear_pointer (&counts, g_free);
  counts = read_log_full (f->log, n, NULL, pid_of);
  for (guint64 i = 0; i < n; i++)
    g_assert_cmpuint (counts[i], ==, 1);
  g_assert_cmpint (pid_of[n / 2], !=, getpid ());
  g_assert_cmpuint (spawn.calls, ==, 1);

  amor_process_pool_shutdown (pool);
  g_assert_cmpuint (count_children (&zombies), ==, 0);
  close (spawn.log_fd);
}

/* Items that cost next to nothing are sampled to the sample size even
 * once the time budget (its floor, 100 µs) is spent: here the first round
 * of two takes 400 µs, its items reported as 1 µs each. The map is then
 * too small for a worker, and runs here. */
static void
test_local_func_tiny (Fixture       *f,
                      gconstpointer  data)
{
  const guint64 n = 300;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  AmorResult *plan;

  spawn.item_us = 200;
  spawn.reported_ns = 1000;
  pool = make_timed_local_pool (&spawn, f->log);
  map_each_once (pool, n, f->log);

  plan = amor_process_pool_get_result (pool);
  g_assert_cmpuint (amor_result_get_n_samples (plan), ==,
                    amor_process_pool_get_sample_size (pool));
  g_assert_cmpint (amor_result_get_schedule (plan), ==, AMOR_SCHEDULE_SERIAL);
  g_assert_cmpuint (spawn.calls, ==, 0);
  close (spawn.log_fd);
}

/* Maps the @n items of values 1000 on with @pool, whose work logs to
 * @spawn's log (emptied first): each result is right, the plan is serial
 * and every item ran once, here but for a few samples that the worker
 * kept from an earlier map ran, no chunk of a plan. (The worker tells
 * these items from the first map's by their values.) */
static void
map_second_serial (AmorProcessPool *pool,
                   ForkSpawn       *spawn,
                   const char      *log,
                   guint64          n)
{
  const guint64 first = 1000;
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint64 *values = g_new (guint64, n);
  g_autofree int *pid_of = g_new0 (int, first + n);
  g_autofree guint *counts = NULL;
  const guint64 *out;
  gsize n_out = 0;
  AmorResult *plan;
  guint elsewhere = 0;

  g_assert_cmpint (ftruncate (spawn->log_fd, 0), ==, 0);
  for (guint64 i = 0; i < n; i++)
    values[i] = first + i;
  results = map_sync (pool, g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, values, n,
                                                       sizeof (guint64)), &error);
  g_assert_no_error (error);
  out = g_variant_get_fixed_array (results, &n_out, sizeof (guint64));
  g_assert_cmpuint (n_out, ==, n);
  for (guint64 i = 0; i < n; i++)
    g_assert_cmpuint (out[i], ==, value_of (first + i));

  plan = amor_process_pool_get_result (pool);
  g_test_message ("%s", amor_result_get_reason (plan));
  g_assert_cmpint (amor_result_get_schedule (plan), ==, AMOR_SCHEDULE_SERIAL);
  counts = read_log_full (log, first + n, NULL, pid_of);
  for (guint64 i = first; i < first + n; i++)
    {
      g_assert_cmpuint (counts[i], ==, 1);
      elsewhere += pid_of[i] != getpid ();
    }
  g_assert_cmpuint (elsewhere, <, 4 * amor_process_pool_get_sample_size (pool));
}

/* A pool as make_timed_local_pool()'s whose items sleep 20 µs and report
 * 2 ms, but those from 1000 on, which report @later_s seconds; after a
 * first map of @n items of 0 .. @n - 1, which leaves it one worker
 * running. */
static AmorProcessPool *
make_local_pool_kept (Fixture    *f,
                      ForkSpawn  *spawn,
                      double      later_s,
                      guint64     n)
{
  AmorProcessPool *pool;

  spawn->parent = getpid ();
  spawn->item_us = 20;
  spawn->later_s = later_s;
  pool = make_timed_local_pool (spawn, f->log);
  map_each_once (pool, n, f->log);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 1);
  return pool;
}

/* With a worker kept from an earlier map, a parallel plan starts nothing,
 * but it still waits for the last answer: a round trip that a map of 1000
 * items of 1.25 µs cannot pay for. With no fork-join cost at all, its
 * estimate came to 1.2x or more wherever serialising an item costs less
 * than 0.4 µs (0.375 µs here): parallel, and slower than running it here;
 * with the round trip, it stays below 1.2x down to 0.03 µs. (The worker,
 * forked during the first map, tells the second map's items from their
 * values: they report the same cost wherever they run.) */
static void
test_local_func_tiny_warm (Fixture       *f,
                           gconstpointer  data)
{
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = make_local_pool_kept (f, &spawn, 1.25e-6, 200);

  map_second_serial (pool, &spawn, f->log, 1000);
  close (spawn.log_fd);
}

/* Where the cost steps up along the input (0.5 ms, then 2 ms from the
 * middle on), the calling process's chunks are counted in time: in the
 * cheap half, they hold half the plan's chunk at least; in the dear half,
 * none holds more than the larger of a 2n-th of the work left where it
 * starts (n workers) and the plan's chunk shrunk to last what the plan
 * meant — but the last, which ends the map with the worker's. */
static void
test_local_func_dear_end (Fixture       *f,
                          gconstpointer  data)
{
  const guint64 n = 600;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));
  AmorResult *plan;
  guint64 chunk;
  guint64 dear_chunk;
  gsize cheap_max = 0, n_dear = 0;
  double dear = 2e-3, worst = 0.0;

  spawn.item_us = 500;
  spawn.reported_ns = 500000;
  spawn.dear_from = n / 2;
  spawn.dear_us = 2000;
  spawn.local_calls = calls;
  spawn.parent = getpid ();
  pool = make_timed_local_pool (&spawn, f->log);
  amor_process_pool_set_target_chunk_duration (pool, 0.02);

  map_each_once (pool, n, f->log);

  plan = amor_process_pool_get_result (pool);
  g_assert_cmpuint (amor_result_get_n_workers (plan), ==, 2);
  chunk = amor_result_get_chunk_size (plan);
  g_assert_cmpuint (chunk, >=, 8);
  /* What the plan's chunk of items of the samples' mean holds of 2 ms
   * items. */
  dear_chunk = MAX ((guint64) ((double) chunk * amor_result_get_mean (plan) / dear + 0.5), 1);

  for (guint i = 0; i + 1 < calls->len; i++)
    {
      Call *call = &g_array_index (calls, Call, i);

      /* A chunk of the plan: neighbouring items, but for those sampled. */
      if (call->max - call->min >= 2 * call->n)
        continue;
      if (call->max < n / 2)
        cheap_max = MAX (cheap_max, call->n);
      else if (call->min >= n / 2)
        {
          /* Against what it may hold (see below). */
          worst = MAX (worst, (double) call->n /
                              (double) (MAX (dear_chunk, (n - call->min) / 4) + 1));
          n_dear++;
        }
    }
  g_test_message ("plan chunk %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " dear items): here, "
                  "chunks of up to %" G_GSIZE_FORMAT " cheap items; %" G_GSIZE_FORMAT " chunks "
                  "of dear ones, the largest %.2f of what it may hold",
                  chunk, dear_chunk, cheap_max, n_dear, worst);
  /* A slow build (valgrind) may read the worker's answers back to back
   * while it takes the whole cheap half, ahead: then this process ran
   * none of it. */
  if (cheap_max > 0)
    g_assert_cmpuint (cheap_max, >=, chunk / 2);
  else
    g_test_message ("the calling process ran none of the cheap half");
  g_assert_cmpuint (n_dear, >, 0);
  /* Rounded up to a whole item. The last chunk is that of the last split
   * (test_local_func_last_split()), which holds what it takes to end with
   * the worker. */
  for (guint i = 0; i + 1 < calls->len; i++)
    {
      Call *call = &g_array_index (calls, Call, i);

      if (call->min >= n / 2 && call->max - call->min < 2 * call->n)
        g_assert_cmpuint (call->n, <=, MAX (dear_chunk, (n - call->min) / 4) + 1);
    }
  close (spawn.log_fd);
}

#define OPENING_N 600

/* 200 ms at the front, falling to 0 at the back: long enough that
 * sampling never runs out of time, however slow the build. */
static double
falling_cost (guint64 index)
{
  return 0.2 * (double) (OPENING_N - index) / OPENING_N;
}

/* 5 ms, then 200 ms from the middle on (long, as falling_cost()). */
static double
step_cost (guint64 index)
{
  return index < OPENING_N / 2 ? 5e-3 : 0.2;
}

static double
cost_sum (double  (*cost) (guint64),
          guint64   first,
          guint64   last)
{
  double sum = 0.0;

  for (guint64 i = first; i <= last; i++)
    sum += cost (i);
  return sum;
}

/* Whether the last map of @pool sampled enough items to tell whether the
 * cost follows the place in the input; else the test is skipped. Sampling
 * ends after 0.2 s, however few items it timed: a slow build (valgrind)
 * may plan from three, and then its first chunks are the plan's, sized at
 * the samples' mean. */
static gboolean
sampled_enough (AmorProcessPool *pool)
{
  guint n = amor_result_get_n_samples (amor_process_pool_get_result (pool));

  if (n >= 12)
    return TRUE;
  g_test_skip_printf ("%u items sampled in this build's time: too few to tell the trend", n);
  return FALSE;
}

/* Has the chunks of @spawn logged to a new file, whose path it returns. */
static char *
log_chunks (Fixture   *f,
            ForkSpawn *spawn)
{
  char *path = g_strdup (f->chunks);

  spawn->chunk_fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  g_assert_cmpint (spawn->chunk_fd, >, 0);
  return path;
}

/* The chunks the workers ran, from ForkSpawn.chunk_fd's file: all of
 * them, or (@neighbours_only) their chunks of neighbouring items (not
 * those of samples, spread apart). */
static GArray *
read_chunks_of_workers (const char *path,
                        gboolean    neighbours_only)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GArray *chunks = g_array_new (FALSE, FALSE, sizeof (Call));

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      int pid;
      Call call;

      g_assert_cmpint (sscanf (lines[i], "%d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                               " %" G_GSIZE_FORMAT " %" G_GINT64_FORMAT, &pid, &call.min,
                               &call.max, &call.n, &call.end_us), ==, 5);
      if (pid != getpid () && (neighbours_only ? call.n >= 8 && call.max - call.min < 2 * call.n
                                               : call.n > 0))
        g_array_append_val (chunks, call);
    }
  return chunks;
}

static GArray *
read_worker_chunks (const char *path)
{
  return read_chunks_of_workers (path, TRUE);
}

/* What an item of the second map of test_local_func_last_split()
 * reports: 8 ms for one in five, picked by a hash of its index, else
 * 0.5 ms (a mean of 2 ms, and a coefficient of variation of 1.5). */
static double
uneven_cost (guint64 index)
{
  return (index * 2654435761u) % 1000 < 200 ? 8e-3 : 0.5e-3;
}

/* A pool as make_timed_local_pool()'s whose items sleep 2 ms and report
 * just that, the chunks this process runs logged to @calls. */
static AmorProcessPool *
make_even_local_pool (Fixture   *f,
                      ForkSpawn *spawn,
                      GArray    *calls)
{
  spawn->item_us = 2000;
  spawn->reported_ns = 2000000;
  spawn->local_calls = calls;
  spawn->parent = getpid ();
  return make_timed_local_pool (spawn, f->log);
}

/* The last chunk this process ran (@calls) in a map of @n items is that
 * of a last split: many items, the last of the input. */
static void
assert_last_split_here (GArray  *calls,
                        guint64  n)
{
  Call *last;

  g_assert_cmpuint (calls->len, >, 0);
  last = &g_array_index (calls, Call, calls->len - 1);
  g_test_message ("the last chunk here holds %" G_GSIZE_FORMAT " items, %"
                  G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, last->n, last->min, last->max);
  /* Without it, one. */
  g_assert_cmpuint (last->n, >=, 8);
  g_assert_cmpuint (last->max, ==, n - 1);
  g_assert_cmpuint (last->max - last->min, <, 2 * last->n);
}

/* Items whose costs are as estimated end in one last chunk for each
 * process (the last split), rather than in chunks that halve down to
 * single items: the calling process's last chunk holds many, and ends the
 * input (the worker's last is the items before it). Where the estimates
 * of the chunks err (items of uneven cost, at random along the input),
 * the end still comes in small chunks. */
static void
test_local_func_last_split (Fixture       *f,
                            gconstpointer  data)
{
  const guint64 n = 300;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));
  Call *last;

  pool = make_even_local_pool (f, &spawn, calls);
  map_each_once (pool, n, f->log);
  g_assert_true (amor_result_is_parallel (amor_process_pool_get_result (pool)));
  assert_last_split_here (calls, n);

  /* The same items, reported at uneven costs. */
  g_assert_cmpint (ftruncate (spawn.log_fd, 0), ==, 0);
  g_array_set_size (calls, 0);
  spawn.cost = uneven_cost;
  map_each_once (pool, n, f->log);
  g_assert_true (amor_result_is_parallel (amor_process_pool_get_result (pool)));
  g_assert_cmpuint (calls->len, >, 0);
  last = &g_array_index (calls, Call, calls->len - 1);
  g_test_message ("uneven costs: the last chunk here holds %" G_GSIZE_FORMAT " items",
                  last->n);
  g_assert_cmpuint (last->n, <=, 3);
  close (spawn.log_fd);
}

/* The same with three workers (a system of 4 CPUs; the items sleep): the
 * items left are shared by all of them and the calling process, so that
 * all are likely done together, and this process's part, the last items,
 * is again one chunk of many. */
static void
test_local_func_last_split_workers (Fixture       *f,
                                    gconstpointer  data)
{
  const guint64 n = 600;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(AmorSystem) system = amor_system_new_custom (4, 4, 8u << 30, 0.0, 0.0);
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));

  pool = make_even_local_pool (f, &spawn, calls);
  amor_process_pool_set_system (pool, system);
  map_each_once (pool, n, f->log);
  g_assert_cmpuint (amor_result_get_n_workers (amor_process_pool_get_result (pool)), ==, 4);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 3);
  assert_last_split_here (calls, n);
  close (spawn.log_fd);
}

/* The last split counts what a chunk costs a worker besides its items, as
 * the workers report it, for each chunk the worker has yet to finish: here
 * a worker sleeps 20 ms after the items of each chunk of the plan (2 ms
 * each, as reported), and is not late for the calling process's end
 * (counted at the 200 µs of a round trip, it ended 65 ms after). */
static void
test_local_func_last_split_overhead (Fixture       *f,
                                     gconstpointer  data)
{
  const guint64 n = 300;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));
  g_autoptr(GArray) chunks = NULL;
  g_autofree char *chunk_log = NULL;
  gint64 here_end, worker_end = 0;

  pool = make_even_local_pool (f, &spawn, calls);
  chunk_log = log_chunks (f, &spawn);
  spawn.worker_chunk_us = 20000;
  map_each_once (pool, n, f->log);
  assert_last_split_here (calls, n);

  here_end = g_array_index (calls, Call, calls->len - 1).end_us;
  chunks = read_chunks_of_workers (chunk_log, FALSE);
  for (guint i = 0; i < chunks->len; i++)
    worker_end = MAX (worker_end, g_array_index (chunks, Call, i).end_us);
  g_test_message ("the worker was done %.1f ms after this process",
                  (double) (worker_end - here_end) / 1e3);
#ifdef HAVE_VALGRIND_H
  /* There what the C code costs is many times what it is otherwise, and
   * more so where a chunk has more items. */
  if (RUNNING_ON_VALGRIND)
    {
      g_test_skip ("valgrind: the ends are not compared");
      goto out;
    }
#endif
  /* The worker is not late (it was by 65 ms). This process may be: by
   * the cost of a chunk to the worker, items and all, when giving it one
   * more would make it late, and by more when other processes' work
   * slowed the worker's chunks before (the split counts their mean; in
   * a run of the whole suite, 57 ms once). */
  g_assert_cmpint (worker_end - here_end, <, 15000);
  g_assert_cmpint (here_end - worker_end, <, 100000);

#ifdef HAVE_VALGRIND_H
out:
#endif
  close (spawn.chunk_fd);
  close (spawn.log_fd);
}

/* What an item of test_local_func_split_again() costs: falling along
 * the input, from 2.1 to 0.1 ms, each 10 % above or below that, by a hash
 * of its index. The estimates of a chunk, made of its neighbours, then err
 * by a per cent or two whatever the order of events. */
static double
falling_ms_cost (guint64 index)
{
  double ramp = 0.1e-3 + 2e-3 * (1.0 - (double) index / 1000.0);

  return ramp * (((index * 2654435761u) >> 7) % 2 ? 1.1 : 0.9);
}

/* Where the cost follows the place in the input, and the estimates err a
 * little, the last split comes early, and the calling process's part of
 * it keeps a deadline: the worker is to be done first, and what this
 * process has left at its deadline is split again, the worker's share
 * from the end of it. Here the items sleep what they cost and report just
 * that (in the calling process, 2 % more), and this process's chunks stop
 * before an item once their deadline is past. When one of them stops
 * before the input's last item (which the calling process's part of a
 * last split ends with), that item goes to the worker: without the split
 * again, this process runs it. Every item still runs once, with the right
 * result. Where the last split is not open (the estimates held, or too few
 * items were timed ahead, as in a slow build on a busy machine), there is
 * nothing to check. */
static void
test_local_func_split_again (Fixture       *f,
                             gconstpointer  data)
{
  const guint64 n = 1000;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));
  g_autofree int *pid_of = g_new0 (int, n);
  g_autofree guint *counts = NULL;

  pool = make_even_local_pool (f, &spawn, calls);
  spawn.cost = falling_ms_cost;
  spawn.sleep_cost = TRUE;
  spawn.here_factor = 1.02;
  spawn.here_on_time = TRUE;
  /* A worker kept from a first map samples from the start. */
  map_each_once (pool, 200, f->log);
  g_assert_cmpint (ftruncate (spawn.log_fd, 0), ==, 0);

  spawn.watch = n;
  map_each_once (pool, n, f->log);
  g_assert_true (amor_result_is_parallel (amor_process_pool_get_result (pool)));
  g_test_message ("the calling process stopped %u chunks at their deadline", spawn.here_stopped);
  if (!spawn.stopped_before_watch)
    {
      g_test_skip ("the calling process never stopped before the last item: no open split");
      close (spawn.log_fd);
      return;
    }

  counts = read_log_full (f->log, n, NULL, pid_of);
  g_assert_cmpuint (counts[n - 1], ==, 1);
  g_assert_cmpint (pid_of[n - 1], !=, getpid ());
  close (spawn.log_fd);
}

/* A local function that stops before an item once its deadline is past
 * (amor_worker_get_time_left()) returns the results of the items it ran
 * and a duration for every item: the pool runs the others later. Here the
 * calling process's chunks stop after their first item whenever they
 * have a deadline: every item still runs once, with the right result, and
 * the map ends in a last split, whose chunk has none. Outside a chunk,
 * there is no deadline. */
static void
test_local_func_deadline (Fixture       *f,
                          gconstpointer  data)
{
  const guint64 n = 300;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));

  g_assert_cmpfloat (amor_worker_get_time_left (), ==, G_MAXDOUBLE);
  pool = make_even_local_pool (f, &spawn, calls);
  spawn.here_stops = TRUE;
  map_each_once (pool, n, f->log);
  g_test_message ("the calling process stopped %u chunks at their deadline", spawn.here_stopped);
  g_assert_cmpuint (spawn.here_stopped, >, 0);
  assert_last_split_here (calls, n);
  g_assert_cmpfloat (amor_worker_get_time_left (), ==, G_MAXDOUBLE);
  close (spawn.log_fd);
}

/* Samples of items that take a microsecond or less mostly say what the
 * first item of a chunk costs, cold. Here those report 4 µs, the others
 * 0.5 µs: from the samples alone, a map of 4000 was planned parallel with
 * the worker kept (1.36x to 1.40x estimated). Once the samples' mean is
 * under 10 µs, 64 more items are timed here in one chunk, and the map is
 * planned again: serial. (In a slow build — ASan, ThreadSanitizer,
 * valgrind — the serialisation measured makes it serial from the samples
 * alone.) */
static void
test_local_func_probe (Fixture       *f,
                       gconstpointer  data)
{
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = make_local_pool_kept (f, &spawn, 0.5e-6, 200);

  spawn.here_first_ns = 4000;
  map_second_serial (pool, &spawn, f->log, 4000);
  g_test_message ("%u items sampled", amor_result_get_n_samples (amor_process_pool_get_result (pool)));
  close (spawn.log_fd);
}

/* With a local function, what a chunk of the plan cost the workers
 * besides its items, as they reported it, is the pool's dispatch cost
 * afterwards, and the next map plans with it. Here the worker sleeps
 * 20 ms after the items of each chunk of 4 items or more (the plan's
 * last chunks may hold fewer, so the mean is lower): a map of 1000 items
 * of 20 µs, which a round trip of 200 µs (the figure before any is
 * measured) lets split, is then too small for the worker kept, and runs
 * here. */
static void
test_local_func_measured_dispatch (Fixture       *f,
                                   gconstpointer  data)
{
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  AmorResult *plan;

  spawn.parent = getpid ();
  spawn.item_us = 2000;
  spawn.later_s = 20e-6;
  spawn.worker_chunk_us = 20000;
  pool = make_timed_local_pool (&spawn, f->log);
  g_assert_cmpfloat (amor_process_pool_get_dispatch_cost (pool), ==, 0.0);

  /* The first map starts the worker: 100 items of 2 ms. */
  map_each_once (pool, 100, f->log);
  plan = amor_process_pool_get_result (pool);
  g_assert_true (amor_result_is_parallel (plan));
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 1);
  g_test_message ("dispatch cost measured: %.1f ms", amor_process_pool_get_dispatch_cost (pool) * 1e3);
  g_assert_cmpfloat (amor_process_pool_get_dispatch_cost (pool), >=, 0.005);

  /* The second runs here (the worker, forked with 2 ms sleeps, goes on
   * with them for the few samples it runs). */
  spawn.item_us = 20;
  map_second_serial (pool, &spawn, f->log, 1000);
  /* A serial map measures no chunk of a worker: the figure stays. */
  g_assert_cmpfloat (amor_process_pool_get_dispatch_cost (pool), >=, 0.005);
  close (spawn.log_fd);
}

/* What an item of test_local_func_filler() reports: 2 ms in the first
 * half of the input, 20 ms in the second (it sleeps 20 µs: the sampling
 * budget, a share of the map's estimated time, still holds enough
 * samples in a slow build). */
static double
cheap_then_dear_cost (guint64 index)
{
  return index < OPENING_N / 2 ? 2e-3 : 20e-3;
}

/* Whether @call, the last chunk of a process in test_local_func_filler(),
 * is one the filler ends: it holds items of the cheap half, and ends the
 * input too (a last split that gave it the filler beside other items) or
 * holds cheap items only (the filler handed out after all the others). */
static gboolean
ends_with_filler (const Call *call,
                  guint64     n)
{
  g_test_message ("a last chunk holds %" G_GSIZE_FORMAT " items, %" G_GUINT64_FORMAT " to %"
                  G_GUINT64_FORMAT, call->n, call->min, call->max);
  return call->min < n / 2 && (call->max == n - 1 || call->max < n / 2);
}

/* Where the cost steps up along the input, a few of the cheap items are
 * kept for the end, so that the last split can end the calling process's
 * part and the worker's nearer together than a dear item. The last chunk
 * of one of the processes is one the filler ends (ends_with_filler()):
 * mostly the calling process's, whose last chunk ends the input; in a
 * slow build, where the worker may hold too much for the split until
 * every other item is handed out (the items report 10 000 times what they
 * sleep), whichever process asks first after that. Every item still runs
 * once. */
static void
test_local_func_filler (Fixture       *f,
                        gconstpointer  data)
{
  const guint64 n = OPENING_N;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));
  g_autoptr(GArray) chunks = NULL;
  g_autofree char *chunk_log = NULL;
  gboolean here, there;

  spawn.item_us = 20;
  spawn.cost = cheap_then_dear_cost;
  spawn.local_calls = calls;
  spawn.parent = getpid ();
  chunk_log = log_chunks (f, &spawn);
  pool = make_timed_local_pool (&spawn, f->log);
  /* Enough samples of both halves to tell that the cost steps up (the
   * first five, four of them dear, vary too little to sample more). */
  amor_process_pool_set_sample_size (pool, 16);

  map_each_once (pool, n, f->log);
  g_assert_cmpuint (amor_result_get_n_workers (amor_process_pool_get_result (pool)), ==, 2);
  if (!sampled_enough (pool))
    goto out;

  chunks = read_chunks_of_workers (chunk_log, FALSE);
  g_assert_cmpuint (calls->len, >, 0);
  g_assert_cmpuint (chunks->len, >, 0);
  here = ends_with_filler (&g_array_index (calls, Call, calls->len - 1), n);
  there = ends_with_filler (&g_array_index (chunks, Call, chunks->len - 1), n);
  g_assert_true (here || there);

out:
  close (spawn.chunk_fd);
  close (spawn.log_fd);
}

/* The first chunks of a map are larger than the plan's, a 2n-th of the
 * work left (n workers), counted in time: where the cost falls along the
 * input, the first chunk, from the dear front, holds fewer items than a
 * 2n-th of them, and lasts about a 2n-th of the whole. */
static void
test_local_func_opening (Fixture       *f,
                         gconstpointer  data)
{
  const guint64 n = OPENING_N;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GArray) chunks = NULL;
  g_autofree char *chunk_log = NULL;
  Call *first = NULL;
  double total = cost_sum (falling_cost, 0, n - 1), front;
  guint64 chunk;

  spawn.item_us = 20;
  spawn.cost = falling_cost;
  chunk_log = log_chunks (f, &spawn);
  pool = make_timed_local_pool (&spawn, f->log);
  amor_process_pool_set_target_chunk_duration (pool, 5.0);

  map_each_once (pool, n, f->log);
  chunk = amor_result_get_chunk_size (amor_process_pool_get_result (pool));
  g_assert_cmpuint (amor_result_get_n_workers (amor_process_pool_get_result (pool)), ==, 2);
  if (!sampled_enough (pool))
    goto out;

  chunks = read_worker_chunks (chunk_log);
  for (guint i = 0; i < chunks->len; i++)
    if (first == NULL || g_array_index (chunks, Call, i).min < first->min)
      first = &g_array_index (chunks, Call, i);
  g_assert_nonnull (first);
  front = cost_sum (falling_cost, first->min, first->max);
  g_test_message ("plan chunk %" G_GUINT64_FORMAT " (%u sampled): the first chunk holds %"
                  G_GSIZE_FORMAT " items from %" G_GUINT64_FORMAT ", %.1f s of %.1f", chunk,
                  amor_result_get_n_samples (amor_process_pool_get_result (pool)), first->n,
                  first->min, front, total);
  g_assert_cmpuint (first->min, <, 10);
  g_assert_cmpuint (first->n, >, chunk);
  g_assert_cmpuint (first->n, <, n / 4 - 20);
  g_assert_cmpfloat (front, <, 1.3 * total / 4);

out:
  close (spawn.chunk_fd);
  close (spawn.log_fd);
}

/* The calling process's chunks never outlast half of what a worker holds:
 * it reads the workers' answers only between them. Here the worker holds
 * the cheap front of a map (5 ms an item) and stalls; the calling process
 * runs the rest, the dear half (200 ms an item), in chunks of no more than
 * half those items' worth. */
static void
test_local_func_held (Fixture       *f,
                      gconstpointer  data)
{
  const guint64 n = OPENING_N;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GArray) chunks = NULL;
  g_autoptr(GArray) calls = g_array_new (FALSE, FALSE, sizeof (Call));
  g_autofree char *chunk_log = NULL;
  double held = 0.0;
  gsize dear_max = 0, n_dear = 0;

  spawn.item_us = 20;
  spawn.cost = step_cost;
  spawn.release = f->marker;
  spawn.release_at = n - 1;
  spawn.local_calls = calls;
  spawn.parent = getpid ();
  chunk_log = log_chunks (f, &spawn);
  pool = make_timed_local_pool (&spawn, f->log);
  /* Enough samples of both halves to tell that the cost steps up (the
   * first five, four of them dear, vary too little to sample more). */
  amor_process_pool_set_sample_size (pool, 16);

  map_each_once (pool, n, f->log);
  if (!sampled_enough (pool))
    goto out;

  /* What the worker held, all of it cheap. */
  chunks = read_worker_chunks (chunk_log);
  g_assert_cmpuint (chunks->len, >, 0);
  for (guint i = 0; i < chunks->len; i++)
    {
      Call *call = &g_array_index (chunks, Call, i);

      g_assert_cmpuint (call->max, <, n / 2);
      held += cost_sum (step_cost, call->min, call->max);
    }

  for (guint i = 0; i < calls->len; i++)
    {
      Call *call = &g_array_index (calls, Call, i);

      if (call->min >= n / 2 && call->max - call->min < 2 * call->n)
        {
          dear_max = MAX (dear_max, call->n);
          n_dear++;
        }
    }
  g_test_message ("the worker held %.2f s; the calling process ran the dear items in %"
                  G_GSIZE_FORMAT " chunks of up to %" G_GSIZE_FORMAT, held, n_dear, dear_max);
  g_assert_cmpuint (n_dear, >, 0);
  g_assert_cmpuint (dear_max, <=, (gsize) (0.5 * held / step_cost (n - 1)) + 1);

out:
  close (spawn.chunk_fd);
  close (spawn.log_fd);
}

static double
five_ms_cost (guint64 index)
{
  return 5e-3;
}

/* Sampling on workers holds none of them back: while one still times its
 * share of a round, the others take the next, and the plan starts once
 * the sample size is timed. Here the first item sampled (the middle one)
 * stalls its worker until another starts a chunk of the plan. */
static void
test_sampling_no_wait (Fixture       *f,
                       gconstpointer  data)
{
  const guint64 n = 400;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autofree char *late = g_strconcat (f->marker, ".late", NULL);
  AmorResult *plan;

  spawn.item_us = 20;
  spawn.cost = five_ms_cost;
  spawn.release = f->marker;
  spawn.stall_at = n / 2;
  spawn.release_on_chunk = TRUE;
  pool = make_timed_pool (&spawn, f->log);

  map_each_once (pool, n, f->log);

  plan = amor_process_pool_get_result (pool);
  g_assert_cmpuint (amor_result_get_n_workers (plan), ==, 2);
  g_assert_cmpuint (amor_result_get_n_samples (plan), >=, 5);
  /* Let go by a chunk of the plan, not by the stall's end. */
  g_assert_true (g_file_test (f->marker, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (late, G_FILE_TEST_EXISTS));
  g_unlink (late);
  close (spawn.log_fd);
}

/* The workers kept from an earlier map share the sampling rounds, and a
 * worker that would be done with its share before the calling process is
 * gets more than its share: it does not wait for the calling process
 * between two rounds. Here the calling process's first share (one item)
 * waits until the worker has run two items of the map; with a share of
 * one item the worker would have none left, and the wait would run to
 * its 10 s limit. */
static void
test_sampling_worker_not_idle (Fixture       *f,
                               gconstpointer  data)
{
  const guint64 n = 200;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;

  spawn.item_us = 1000;
  spawn.parent = getpid ();
  pool = make_timed_local_pool (&spawn, f->log);
  /* The first map starts the worker. */
  map_each_once (pool, n, f->log);
  g_assert_cmpuint (amor_process_pool_get_n_running (pool), ==, 1);

  g_assert_cmpint (ftruncate (spawn.log_fd, 0), ==, 0);
  spawn.here_waits_for = 2;
  map_each_once (pool, n, f->log);
  g_test_message ("the worker had run %u items when the calling process's first share began",
                  spawn.here_saw);
  g_assert_cmpuint (spawn.here_saw, >=, 2);
  g_assert_cmpuint (amor_result_get_n_workers (amor_process_pool_get_result (pool)), ==, 2);
  close (spawn.log_fd);
}

static gpointer
cancel_soon_thread (gpointer data)
{
  g_usleep (50000);
  g_cancellable_cancel (data);
  return NULL;
}

/* A blocking map whose calling thread runs chunks is cancelled (here from
 * another thread) between two of them: no item runs twice, the map ends
 * long before its last item, and no zombie is left. */
static void
test_local_func_cancel (Fixture       *f,
                        gconstpointer  data)
{
  const guint64 n = 400;
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint *counts = NULL;
  GThread *thread;
  guint zombies;

  pool = make_timed_local_pool (&spawn, f->log);

  /* 400 items of 2 ms or more: 0.4 s on two CPUs, cancelled after 50 ms. */
  thread = g_thread_new ("cancel", cancel_soon_thread, cancellable);
  results = amor_process_pool_map (pool, items_range (n), cancellable, &error);
  g_thread_join (thread);
  g_assert_null (results);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  counts = read_log (f->log, n, NULL);
  for (guint64 i = 0; i < n; i++)
    g_assert_cmpuint (counts[i], <=, 1);
  g_assert_cmpuint (counts[n - 1], ==, 0);
  assert_no_zombie ();

  amor_process_pool_shutdown (pool);
  g_assert_cmpuint (count_children (&zombies), ==, 0);
  close (spawn.log_fd);
}

/* With a result type, the results come as an array of it; a result of
 * another type fails the map, naming the item, and the pool goes on. */
static void
test_result_type (void)
{
  g_autoptr(AmorProcessPool) pool = make_pool (0, NULL);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  set_hand_plan (pool, 2, 3, AMOR_SCHEDULE_FIXED);
  amor_process_pool_set_result_type (pool, G_VARIANT_TYPE_UINT64);
  g_assert_true (g_variant_type_equal (amor_process_pool_get_result_type (pool),
                                       G_VARIANT_TYPE_UINT64));

  results = map_sync (pool, items_range (20), &error);
  g_assert_no_error (error);
  assert_typed_results (results, 20);
  g_clear_pointer (&results, g_variant_unref);

  /* The workers answer "t": a map expecting "s" fails at its first item
   * answered, and the pool still works. */
  amor_process_pool_set_result_type (pool, G_VARIANT_TYPE_STRING);
  results = map_sync (pool, items_range (20), &error);
  g_assert_null (results);
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_assert_true (g_str_has_prefix (error->message, "Item "));
  g_assert_nonnull (strstr (error->message, "the result is of type 't', not the pool's "
                                            "result type 's'"));
  g_clear_error (&error);

  amor_process_pool_set_result_type (pool, NULL);
  results = map_sync (pool, items_range (20), &error);
  g_assert_no_error (error);
  assert_results (results, 20);
  amor_process_pool_shutdown (pool);
}

/* The same, for results made by the local function. */
static void
test_result_type_local (void)
{
  ForkSpawn spawn = { 0 };
  g_autoptr(AmorProcessPool) pool = NULL;
  g_autoptr(AmorSystem) system = amor_system_new_custom (2, 2, 8u << 30, 0.0, 0.0);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GError) error = NULL;

  spawn.log_fd = -1;
  pool = make_fork_pool (&spawn);
  amor_process_pool_set_system (pool, system);
  amor_process_pool_set_min_speedup (pool, 2.5);
  amor_process_pool_set_local_func (pool, fork_square_chunk, &spawn, NULL);

  amor_process_pool_set_result_type (pool, G_VARIANT_TYPE_UINT64);
  results = map_sync (pool, items_range (10), &error);
  g_assert_no_error (error);
  assert_typed_results (results, 10);
  g_clear_pointer (&results, g_variant_unref);

  amor_process_pool_set_result_type (pool, G_VARIANT_TYPE_DOUBLE);
  results = map_sync (pool, items_range (10), &error);
  g_assert_null (results);
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_assert_true (g_str_has_prefix (error->message, "Item "));
  g_assert_nonnull (strstr (error->message, "not the pool's result type 'd'"));
  g_assert_cmpuint (spawn.calls, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/process-pool/wire/header", test_wire_header);
  g_test_add_func ("/process-pool/wire/body", test_wire_body);
  g_test_add_func ("/process-pool/properties", test_properties);
  g_test_add ("/process-pool/map/sampled", Fixture, NULL, fixture_setup, test_map_sampled, fixture_teardown);
  g_test_add ("/process-pool/map/sampled-chunks", Fixture, "--chunks", fixture_setup, test_map_sampled, fixture_teardown);
  g_test_add ("/process-pool/map/fixed-plan", Fixture, NULL, fixture_setup, test_map_fixed_plan, fixture_teardown);
  g_test_add ("/process-pool/map/reuses-workers", Fixture, NULL, fixture_setup, test_map_reuses_workers, fixture_teardown);
  g_test_add ("/process-pool/map/serial-plan", Fixture, NULL, fixture_setup, test_serial_plan_one_worker, fixture_teardown);
  g_test_add_func ("/process-pool/map/types", test_map_types);
  g_test_add_func ("/process-pool/map/no-items", test_map_no_items_starts_nothing);
  g_test_add ("/process-pool/map/tiny-serial", Fixture, NULL, fixture_setup, test_tiny_items_serial, fixture_teardown);
  g_test_add ("/process-pool/map/async", Fixture, NULL, fixture_setup, test_map_async, fixture_teardown);
  g_test_add_data_func ("/process-pool/error/callback", NULL, test_error_in_callback);
  g_test_add_data_func ("/process-pool/error/callback-chunks", "--chunks", test_error_in_callback);
  g_test_add_func ("/process-pool/error/sampling", test_error_in_sampling);
  g_test_add ("/process-pool/crash/retried", Fixture, NULL, fixture_setup, test_crash_retried, fixture_teardown);
  g_test_add ("/process-pool/crash/queued-chunk", Fixture, NULL, fixture_setup, test_crash_with_queued_chunk, fixture_teardown);
  g_test_add_func ("/process-pool/crash/twice", test_crash_twice);
  g_test_add ("/process-pool/crash/sampling", Fixture, NULL, fixture_setup, test_crash_while_sampling, fixture_teardown);
  g_test_add_func ("/process-pool/output/oversized", test_oversized_output);
  g_test_add_func ("/process-pool/output/malformed", test_malformed_output);
  g_test_add_data_func ("/process-pool/child/traced", NULL, test_child_traced);
  g_test_add_data_func ("/process-pool/child/traced-sync", "sync", test_child_traced);
  g_test_add_func ("/process-pool/input/too-large", test_too_large_items);
  g_test_add_func ("/process-pool/input/larger-than-socket", test_larger_than_socket);
  g_test_add ("/process-pool/input/chunk-fits-socket", Fixture, NULL, fixture_setup, test_chunk_fits_socket, fixture_teardown);
  g_test_add_func ("/process-pool/argv/missing", test_bad_argv);
  g_test_add_func ("/process-pool/argv/exit-before-hello", test_exit_before_hello);
  g_test_add_func ("/process-pool/argv/no-hello", test_no_hello);
  g_test_add_func ("/process-pool/argv/bad-hello", test_bad_hello);
  g_test_add ("/process-pool/cancel/running", Fixture, NULL, fixture_setup, test_cancel, fixture_teardown);
  g_test_add_func ("/process-pool/cancel/before", test_cancel_before);
  g_test_add_func ("/process-pool/cancel/while-starting", test_cancel_while_starting);
  g_test_add ("/process-pool/no-leaks", Fixture, NULL, fixture_setup, test_no_leaks, fixture_teardown);
  g_test_add ("/process-pool/spawn-func/map", Fixture, NULL, fixture_setup, test_spawn_func, fixture_teardown);
  g_test_add_func ("/process-pool/spawn-func/fails", test_spawn_func_fails);
  g_test_add_func ("/process-pool/result-type/workers", test_result_type);
  g_test_add_func ("/process-pool/result-type/local", test_result_type_local);
  g_test_add ("/process-pool/local-func/serial", Fixture, NULL, fixture_setup, test_local_func_serial, fixture_teardown);
  g_test_add ("/process-pool/local-func/parallel", Fixture, NULL, fixture_setup, test_local_func_parallel, fixture_teardown);
  g_test_add ("/process-pool/local-func/cancel", Fixture, NULL, fixture_setup, test_local_func_cancel, fixture_teardown);
  g_test_add ("/process-pool/local-func/tiny", Fixture, NULL, fixture_setup, test_local_func_tiny, fixture_teardown);
  g_test_add ("/process-pool/local-func/tiny-warm", Fixture, NULL, fixture_setup, test_local_func_tiny_warm, fixture_teardown);
  g_test_add ("/process-pool/local-func/dear-end", Fixture, NULL, fixture_setup, test_local_func_dear_end, fixture_teardown);
  g_test_add ("/process-pool/local-func/last-split", Fixture, NULL, fixture_setup, test_local_func_last_split, fixture_teardown);
  g_test_add ("/process-pool/local-func/last-split-workers", Fixture, NULL, fixture_setup, test_local_func_last_split_workers, fixture_teardown);
  g_test_add ("/process-pool/local-func/last-split-overhead", Fixture, NULL, fixture_setup, test_local_func_last_split_overhead, fixture_teardown);
  g_test_add ("/process-pool/local-func/deadline", Fixture, NULL, fixture_setup, test_local_func_deadline, fixture_teardown);
  g_test_add ("/process-pool/local-func/split-again", Fixture, NULL, fixture_setup, test_local_func_split_again, fixture_teardown);
  g_test_add ("/process-pool/local-func/probe", Fixture, NULL, fixture_setup, test_local_func_probe, fixture_teardown);
  g_test_add ("/process-pool/local-func/measured-dispatch", Fixture, NULL, fixture_setup, test_local_func_measured_dispatch, fixture_teardown);
  g_test_add ("/process-pool/local-func/filler", Fixture, NULL, fixture_setup, test_local_func_filler, fixture_teardown);
  g_test_add ("/process-pool/local-func/opening", Fixture, NULL, fixture_setup, test_local_func_opening, fixture_teardown);
  g_test_add ("/process-pool/local-func/held", Fixture, NULL, fixture_setup, test_local_func_held, fixture_teardown);
  g_test_add ("/process-pool/sampling/no-wait", Fixture, NULL, fixture_setup, test_sampling_no_wait, fixture_teardown);
  g_test_add ("/process-pool/sampling/worker-not-idle", Fixture, NULL, fixture_setup, test_sampling_worker_not_idle, fixture_teardown);

  return g_test_run ();
}
