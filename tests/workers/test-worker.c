/* test-worker.c: a worker program for the AmorProcessPool tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Serves items that are integers (any integer type, or a variant holding
 * one) or strings. An integer v maps to v·v + 1 (a "t"), a string to its
 * upper-case copy. Options make it misbehave on a chosen item value:
 *
 *   --log FILE            append "PID VALUE" per item processed
 *   --sleep-ms N          sleep N ms per item
 *   --fail-at V           fail with a GError (test domain, code 7)
 *   --null-at V           return NULL without an error
 *   --crash-at V          die (SIGKILL) on V, once: only if --marker FILE does
 *                         not exist yet (it is created first)
 *   --marker FILE
 *   --crash-always-at V   die on V every time
 *   --big-at V            answer V with a string of --big-size bytes
 *   --big-size N
 *   --garbage-at V        write garbage into the output before answering V
 *   --exit-before-hello   exit with status 3 at once
 *   --no-hello            never say hello
 *   --bad-hello           write a frame that is not a hello
 *   --chunks              serve with amor_worker_serve_chunks(): the same
 *                         work, a chunk at a time, answering an array of
 *                         the results' type ("at") when it can
 *   --chunk-log FILE      with --chunks, append "N" per chunk of N items
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amorsize/amorsize.h>

#define NO_VALUE G_MAXINT64

static char    *log_path;
static int      log_fd = -1;
static gint64   sleep_ms;
static gint64   fail_at = NO_VALUE;
static gint64   null_at = NO_VALUE;
static gint64   crash_at = NO_VALUE;
static char    *marker_path;
static gint64   crash_always_at = NO_VALUE;
static gint64   big_at = NO_VALUE;
static gint64   big_size = 4096;
static gint64   garbage_at = NO_VALUE;
static gboolean exit_before_hello;
static gboolean no_hello;
static gboolean bad_hello;
static gboolean chunks;
static char    *chunk_log_path;
static int      chunk_log_fd = -1;
static int      protocol_fd = -1;

static GQuark
test_worker_error_quark (void)
{
  return g_quark_from_static_string ("amor-test-worker-error-quark");
}

static gboolean
item_integer (GVariant *item,
              gint64   *value)
{
  if (g_variant_is_of_type (item, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (item);

      return item_integer (inner, value);
    }
  if (g_variant_is_of_type (item, G_VARIANT_TYPE_INT64))
    *value = g_variant_get_int64 (item);
  else if (g_variant_is_of_type (item, G_VARIANT_TYPE_UINT64))
    *value = (gint64) g_variant_get_uint64 (item);
  else if (g_variant_is_of_type (item, G_VARIANT_TYPE_INT32))
    *value = g_variant_get_int32 (item);
  else if (g_variant_is_of_type (item, G_VARIANT_TYPE_UINT32))
    *value = g_variant_get_uint32 (item);
  else
    return FALSE;
  return TRUE;
}

static void
log_item (gint64 value)
{
  char line[64];
  int n;

  if (log_fd < 0)
    return;
  n = g_snprintf (line, sizeof line, "%d %" G_GINT64_FORMAT "\n", (int) getpid (), value);
  /* One write per line on an O_APPEND file: lines of several workers never
   * mix. */
  if (write (log_fd, line, (size_t) n) != n)
    g_error ("cannot write the log: %s", g_strerror (errno));
}

static GVariant *
work (GVariant  *item,
      gpointer   user_data,
      GError   **error)
{
  gint64 value;

  if (!item_integer (item, &value))
    {
      if (g_variant_is_of_type (item, G_VARIANT_TYPE_STRING))
        {
          g_autofree char *upper = g_utf8_strup (g_variant_get_string (item, NULL), -1);

          return g_variant_new_string (upper);
        }
      g_set_error (error, test_worker_error_quark (), 9, "cannot handle a '%s' item",
                   g_variant_get_type_string (item));
      return NULL;
    }

  if (value == crash_always_at)
    kill (getpid (), SIGKILL);
  if (value == crash_at && marker_path != NULL &&
      !g_file_test (marker_path, G_FILE_TEST_EXISTS))
    {
      g_file_set_contents (marker_path, "crashed\n", -1, NULL);
      kill (getpid (), SIGKILL);
    }

  log_item (value);

  if (sleep_ms > 0)
    g_usleep ((gulong) sleep_ms * 1000);

  if (value == fail_at)
    {
      g_set_error (error, test_worker_error_quark (), 7,
                   "refusing item value %" G_GINT64_FORMAT, value);
      return NULL;
    }
  if (value == null_at)
    return NULL;
  if (value == big_at)
    {
      g_autofree char *big = g_malloc ((gsize) big_size + 1);

      memset (big, 'x', (gsize) big_size);
      big[big_size] = '\0';
      return g_variant_new_string (big);
    }
  if (value == garbage_at)
    {
      static const char garbage[] = "this is not a frame of the worker protocol";

      if (write (protocol_fd, garbage, sizeof garbage) < 0)
        g_error ("cannot write garbage: %s", g_strerror (errno));
    }

  return g_variant_new_uint64 ((guint64) (value * value + 1));
}

/* The same work, a chunk at a time: "at" results when every item gave a
 * "t", an "av" otherwise; on a failure, the results of the items before. */
static GVariant *
work_chunk (GVariant  *items,
            gpointer   user_data,
            GError   **error)
{
  gsize n = g_variant_n_children (items);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  gboolean all_uint64 = TRUE;

  if (chunk_log_fd >= 0)
    {
      g_autofree char *line = g_strdup_printf ("%" G_GSIZE_FORMAT "\n", n);

      if (write (chunk_log_fd, line, strlen (line)) != (gssize) strlen (line))
        g_error ("cannot write the chunk log: %s", g_strerror (errno));
    }

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) item = g_variant_get_child_value (items, i);
      GVariant *result = work (item, user_data, error);

      if (result == NULL)
        break;
      g_ptr_array_add (results, g_variant_ref_sink (result));
      all_uint64 = all_uint64 && g_variant_is_of_type (result, G_VARIANT_TYPE_UINT64);
    }

  if (all_uint64)
    {
      g_autofree guint64 *values = g_new (guint64, MAX (results->len, 1));

      for (guint i = 0; i < results->len; i++)
        values[i] = g_variant_get_uint64 (results->pdata[i]);
      return g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, values, results->len,
                                        sizeof (guint64));
    }
  {
    g_autofree GVariant **boxed = g_new (GVariant *, MAX (results->len, 1));

    for (guint i = 0; i < results->len; i++)
      boxed[i] = g_variant_new_variant (results->pdata[i]);
    return g_variant_new_array (G_VARIANT_TYPE_VARIANT, boxed, results->len);
  }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "log", 0, 0, G_OPTION_ARG_FILENAME, &log_path, "Log items here", "FILE" },
    { "sleep-ms", 0, 0, G_OPTION_ARG_INT64, &sleep_ms, "Sleep per item", "MS" },
    { "fail-at", 0, 0, G_OPTION_ARG_INT64, &fail_at, "Fail on this value", "V" },
    { "null-at", 0, 0, G_OPTION_ARG_INT64, &null_at, "Return NULL on this value", "V" },
    { "crash-at", 0, 0, G_OPTION_ARG_INT64, &crash_at, "Die once on this value", "V" },
    { "marker", 0, 0, G_OPTION_ARG_FILENAME, &marker_path, "Marker of --crash-at", "FILE" },
    { "crash-always-at", 0, 0, G_OPTION_ARG_INT64, &crash_always_at, "Die on this value", "V" },
    { "big-at", 0, 0, G_OPTION_ARG_INT64, &big_at, "Answer a big string", "V" },
    { "big-size", 0, 0, G_OPTION_ARG_INT64, &big_size, "Size of the big string", "N" },
    { "garbage-at", 0, 0, G_OPTION_ARG_INT64, &garbage_at, "Write garbage", "V" },
    { "exit-before-hello", 0, 0, G_OPTION_ARG_NONE, &exit_before_hello, "Exit at once", NULL },
    { "no-hello", 0, 0, G_OPTION_ARG_NONE, &no_hello, "Never say hello", NULL },
    { "bad-hello", 0, 0, G_OPTION_ARG_NONE, &bad_hello, "Say hello wrongly", NULL },
    { "chunks", 0, 0, G_OPTION_ARG_NONE, &chunks, "Serve a chunk at a time", NULL },
    { "chunk-log", 0, 0, G_OPTION_ARG_FILENAME, &chunk_log_path, "Log chunk sizes here", "FILE" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("- a worker for the AmorProcessPool tests");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (exit_before_hello)
    return 3;
  if (no_hello)
    {
      for (;;)
        pause ();
    }
  if (bad_hello)
    {
      static const guint8 frame[] = { 0, 0, 0, 4, 'R', 0, 0, 0, 1, 2, 3, 4 };

      if (write (STDOUT_FILENO, frame, sizeof frame) < 0)
        return 4;
      /* Wait for the pool to give up on this worker. */
      for (;;)
        pause ();
    }

  if (log_path != NULL)
    {
      log_fd = open (log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (log_fd < 0)
        {
          g_printerr ("cannot open %s: %s\n", log_path, g_strerror (errno));
          return 2;
        }
    }
  if (chunk_log_path != NULL)
    {
      chunk_log_fd = open (chunk_log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (chunk_log_fd < 0)
        {
          g_printerr ("cannot open %s: %s\n", chunk_log_path, g_strerror (errno));
          return 2;
        }
    }

  /* The protocol's output, reachable from the callback for --garbage-at. */
  protocol_fd = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);

  if (!(chunks ? amor_worker_serve_chunks (work_chunk, NULL, &error)
               : amor_worker_serve (work, NULL, &error)))
    {
      g_printerr ("test-worker: %s\n", error->message);
      return 1;
    }

  return 0;
}
