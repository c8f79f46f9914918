/* amor-worker.c: the worker side of a process pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "amor-error.h"
#include "amor-worker.h"
#include "amor-clock-private.h"
#include "amor-wire-private.h"
#include "amor-worker-private.h"

/* const gint64 *: the deadline of the chunk callback running on this
 * thread (amor_clock_now_ns()), or NULL */
static GPrivate chunk_deadline;

/**
 * amor_worker_get_time_left:
 *
 * In a chunk callback ([callback@Amor.WorkerChunkFunc]) that an
 * [class@Amor.ProcessPool] runs in the calling process (its local
 * function, see [method@Amor.ProcessPool.set_local_func]): the seconds
 * left before the pool would like the chunk back, to give a worker its
 * next chunk before that worker runs out of work.
 *
 * Past that time, the callback may stop before an item, once it has run
 * one at least, and return the results of the items it ran paired with
 * durations for every item of the chunk: a pair `(results, durations)`
 * whose durations outnumber its results, the durations of the items not
 * run being any value. The pool runs those items later. This is what the
 * Python override's value pools do
 * ([func@Amor.ProcessPool.new_forked_values]), so that an item far dearer
 * than the samples said does not leave the worker waiting. A callback
 * that ignores the deadline is right too: the worker may then wait.
 *
 * Returns: the seconds left (zero or less once the time is past), or
 *   %G_MAXDOUBLE when there is no deadline: outside such a callback, in
 *   a worker process, or in the last chunk of a map
 *
 * Since: 0.1
 */
double
amor_worker_get_time_left (void)
{
  const gint64 *deadline = g_private_get (&chunk_deadline);

  if (deadline == NULL)
    return G_MAXDOUBLE;
  return (double) (*deadline - amor_clock_now_ns ()) / 1e9;
}

void
amor_worker_set_deadline (const gint64 *deadline_ns)
{
  g_private_set (&chunk_deadline, (gpointer) deadline_ns);
}

/* The descriptors of the protocol, moved away from 0 and 1 so that the
 * callback's own output cannot corrupt it. */
typedef struct
{
  int in_fd;
  int out_fd;
  int saved_stdin;
  int saved_stdout;
  gint64 answered_ns;   /* when the last answer began to be written, or 0 */
} WorkerFds;

static gboolean
worker_fds_open (WorkerFds  *fds,
                 GError    **error)
{
  int devnull;

  fds->in_fd = fds->out_fd = fds->saved_stdin = fds->saved_stdout = -1;
  fds->answered_ns = 0;

  fds->in_fd = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  fds->out_fd = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fds->in_fd < 0 || fds->out_fd < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "The worker has no standard input or output: %s",
                   g_strerror (errsv));
      return FALSE;
    }

  /* What the callback prints goes to standard error; what it reads from
   * standard input is empty. The originals come back at the end. */
  fds->saved_stdin = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  fds->saved_stdout = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull >= 0)
    {
      dup2 (devnull, STDIN_FILENO);
      close (devnull);
    }
  dup2 (STDERR_FILENO, STDOUT_FILENO);

  return TRUE;
}

static void
worker_fds_close (WorkerFds *fds)
{
  if (fds->saved_stdin >= 0)
    {
      dup2 (fds->saved_stdin, STDIN_FILENO);
      close (fds->saved_stdin);
    }
  if (fds->saved_stdout >= 0)
    {
      dup2 (fds->saved_stdout, STDOUT_FILENO);
      close (fds->saved_stdout);
    }
  if (fds->in_fd >= 0)
    close (fds->in_fd);
  if (fds->out_fd >= 0)
    close (fds->out_fd);
}

/* Answers a chunk whose item @index failed with @local_error (NULL: the
 * callback gave no error). Returns FALSE only when the answer cannot be
 * written. */
static gboolean
worker_send_error (WorkerFds  *fds,
                   guint32     chunk_id,
                   gsize       index,
                   GError     *local_error,
                   const char *no_error_message,
                   GError    **error)
{
  g_autoptr(GVariant) answer = NULL;
  const char *domain = g_quark_to_string (AMOR_ERROR);
  gint code = AMOR_ERROR_WORK_FAILED;
  const char *message = no_error_message;

  if (local_error != NULL)
    {
      message = local_error->message;
      /* A JavaScript exception (GJS's own domain, which GJS turns back into
       * a JavaScript Error rather than a GLib.Error in a GJS caller) fails
       * the work like any other exception. */
      if (g_strcmp0 (g_quark_to_string (local_error->domain), "gjs-js-error-quark") != 0)
        {
          domain = g_quark_to_string (local_error->domain);
          code = local_error->code;
        }
    }

  answer = g_variant_ref_sink (g_variant_new ("(uusis)", chunk_id, (guint32) index,
                                              domain, code, message));
  return amor_wire_write_frame_fd (fds->out_fd, AMOR_WIRE_ERROR, answer, error);
}

/* Answers a chunk with @results (an array of the results, floating or a
 * reference that this takes) and the durations of its items. */
static gboolean
worker_send_results (WorkerFds     *fds,
                     guint32        chunk_id,
                     GVariant      *results,
                     const gint64  *durations,
                     gsize          n,
                     gint64         received_ns,
                     gint64         compute_ns,
                     GError       **error)
{
  g_autoptr(GVariant) results_array = g_variant_take_ref (results);
  g_autoptr(GVariant) answer = NULL;
  GVariant *durations_array;
  gint64 overhead_ns;

  durations_array = g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, durations, n,
                                               sizeof (gint64));
  /* Serialise the results now: that is most of the encoding cost. */
  g_variant_get_data (results_array);
  fds->answered_ns = amor_clock_now_ns ();
  overhead_ns = fds->answered_ns - received_ns - compute_ns;

  answer = g_variant_ref_sink (g_variant_new ("(uv@axx)", chunk_id, results_array,
                                              durations_array, MAX (overhead_ns, 0)));
  return amor_wire_write_frame_fd (fds->out_fd, AMOR_WIRE_RESULTS, answer, error);
}

/* The work of one chunk: answers it (results or an error). Returns FALSE
 * only when the answer cannot be written. */
typedef gboolean (*ChunkRunner) (WorkerFds  *fds,
                                 guint32     chunk_id,
                                 GVariant   *items,
                                 gint64      received_ns,
                                 gpointer    func,
                                 gpointer    user_data,
                                 GError    **error);

/* Runs an AmorWorkerFunc on every item of a chunk. */
static gboolean
worker_run_items (WorkerFds  *fds,
                  guint32     chunk_id,
                  GVariant   *items,
                  gint64      received_ns,
                  gpointer    func_pointer,
                  gpointer    user_data,
                  GError    **error)
{
  AmorWorkerFunc func = (AmorWorkerFunc) func_pointer;
  gsize n = g_variant_n_children (items);
  g_autofree GVariant **results = g_new0 (GVariant *, MAX (n, 1));
  g_autofree gint64 *durations = g_new0 (gint64, MAX (n, 1));
  gint64 compute_ns = 0;
  gboolean ok;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) item = amor_wire_array_get (items, i);
      GError *local_error = NULL;
      GVariant *result;
      gint64 t0, t1;

      t0 = amor_clock_now_ns ();
      result = func (item, user_data, &local_error);
      t1 = amor_clock_now_ns ();

      if (result == NULL)
        {
          ok = worker_send_error (fds, chunk_id, i, local_error,
                                  "the worker callback returned NULL without setting an "
                                  "error (a Python exception, or a JavaScript function "
                                  "returning null, looks like this: see the worker's "
                                  "standard error)", error);
          g_clear_error (&local_error);
          for (gsize j = 0; j < i; j++)
            g_variant_unref (results[j]);
          return ok;
        }

      if (local_error != NULL)
        {
          g_warning ("The worker callback returned a result but set an error "
                     "(%s); the error is ignored", local_error->message);
          g_clear_error (&local_error);
        }

      results[i] = g_variant_take_ref (result);
      durations[i] = t1 - t0;
      compute_ns += t1 - t0;
    }

  /* Of one type when they all have one: no variant around each. */
  ok = worker_send_results (fds, chunk_id, amor_wire_items_array (results, n),
                            durations, n, received_ns, compute_ns, error);
  for (gsize i = 0; i < n; i++)
    g_variant_unref (results[i]);
  return ok;
}

/* Runs an AmorWorkerChunkFunc on a whole chunk. */
static gboolean
worker_run_chunk_func (WorkerFds  *fds,
                       guint32     chunk_id,
                       GVariant   *items,
                       gint64      received_ns,
                       gpointer    func_pointer,
                       gpointer    user_data,
                       GError    **error)
{
  AmorWorkerChunkFunc func = (AmorWorkerChunkFunc) func_pointer;
  g_autoptr(GVariant) values = amor_wire_items_unbox (items);
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GVariant) timed = NULL;
  g_autofree gint64 *durations = NULL;
  gsize n = g_variant_n_children (items);
  gsize failed = 0;
  GError *local_error = NULL;
  GVariant *answer;
  gint64 t0, t1;
  gboolean ok;

  t0 = amor_clock_now_ns ();
  answer = func (values, user_data, &local_error);
  t1 = amor_clock_now_ns ();

  results = amor_wire_chunk_answer (answer, n, FALSE, &timed, &failed, &local_error);
  if (results == NULL)
    {
      ok = worker_send_error (fds, chunk_id, failed, local_error, NULL, error);
      g_clear_error (&local_error);
      return ok;
    }

  durations = g_new (gint64, MAX (n, 1));
  if (timed != NULL)
    {
      gsize n_ns = 0;   /* n: amor_wire_chunk_answer() checked it */
      const gint64 *ns = g_variant_get_fixed_array (timed, &n_ns, sizeof (gint64));
      gint64 compute_ns = 0;

      for (gsize i = 0; i < n; i++)
        {
          durations[i] = MAX (ns[i], 0);
          compute_ns += durations[i];
        }
      /* What the callback did besides its items is overhead. */
      return worker_send_results (fds, chunk_id, g_steal_pointer (&results), durations, n,
                                  received_ns, MIN (compute_ns, t1 - t0), error);
    }

  /* The chunk is timed as a whole: its items share its duration. */
  for (gsize i = 0; i < n; i++)
    durations[i] = (t1 - t0) / (gint64) MAX (n, 1);

  return worker_send_results (fds, chunk_id, g_steal_pointer (&results), durations, n,
                              received_ns, t1 - t0, error);
}

static gboolean
worker_serve (ChunkRunner   runner,
              gpointer      func,
              gpointer      user_data,
              GError      **error)
{
  WorkerFds fds;
  g_autoptr(GVariant) hello = NULL;
  gboolean ok = FALSE;

  if (!worker_fds_open (&fds, error))
    goto out;

  hello = amor_wire_hello_new ();
  if (!amor_wire_write_frame_fd (fds.out_fd, AMOR_WIRE_HELLO, hello, error))
    goto out;

  for (;;)
    {
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GVariant) items = NULL;
      GError *local_error = NULL;
      guint8 type = 0;
      guint32 chunk_id;
      gint64 received_ns;
      gboolean queued = FALSE;

      /* A chunk that was there when the last answer was written waited
       * for this worker, not the other way round: the writing of that
       * answer and the reading of this chunk are this chunk's overhead,
       * so that the pool, adding up what the worker reports, knows when
       * it began each chunk it holds. */
      if (fds.answered_ns > 0)
        {
          struct pollfd ready = { .fd = fds.in_fd, .events = POLLIN };

          queued = poll (&ready, 1, 0) > 0;
        }
      if (!amor_wire_read_frame_fd (fds.in_fd, AMOR_WIRE_WORKER_MAX_FRAME,
                                    &type, &body, &local_error))
        {
          if (local_error == NULL)
            {
              ok = TRUE;       /* the end of the input */
              break;
            }
          g_propagate_prefixed_error (error, local_error,
                                      "The worker could not read its input: ");
          break;
        }
      received_ns = queued ? fds.answered_ns : amor_clock_now_ns ();
      fds.answered_ns = 0;

      if (type != AMOR_WIRE_CHUNK)
        {
          g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                       "The worker received a '%c' message where a chunk of "
                       "items was expected", type);
          break;
        }

      g_variant_get (body, "(uv)", &chunk_id, &items);
      if (!g_variant_is_of_type (items, G_VARIANT_TYPE_ARRAY))
        {
          g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                       "The worker received a chunk whose items are a '%s', "
                       "not an array", g_variant_get_type_string (items));
          break;
        }
      if (!runner (&fds, chunk_id, items, received_ns, func, user_data, error))
        break;
    }

out:
  worker_fds_close (&fds);
  return ok;
}

/**
 * amor_worker_serve:
 * @func: (scope call) (closure user_data): the work of one item
 * @user_data: data for @func
 * @error: return location for a #GError
 *
 * Serves an [class@Amor.ProcessPool] from a worker process: reads chunks of
 * items from standard input, calls @func on each item, and writes the
 * results to standard output, until standard input ends.
 *
 * Call it from the main thread of a program that the pool starts (its
 * `argv`), once everything @func needs is set up. @func runs on the calling
 * thread, one item at a time, so a JavaScript (GJS) or Python callback is
 * fine. While it serves, standard output belongs to the pool: what the
 * program prints goes to standard error instead, and standard input reads
 * as empty. Nothing may be written to standard output before this call.
 *
 * An error of @func (or a %NULL result, see [callback@Amor.WorkerFunc]) is
 * sent to the pool, which fails the map with it; the worker goes on serving.
 *
 * A worker in Python:
 *
 * ```python
 * import gi
 * gi.require_version('Amor', '1')
 * from gi.repository import Amor, GLib
 *
 * def work(item):
 *     return GLib.Variant('d', item.unpack() ** 0.5)
 *
 * Amor.worker_serve(work)
 * ```
 *
 * and in JavaScript (`gjs -m worker.js`):
 *
 * ```js
 * import GLib from 'gi://GLib';
 * import Amor from 'gi://Amor?version=1';
 *
 * Amor.worker_serve(item => new GLib.Variant('d', Math.sqrt(item.unpack())));
 * ```
 *
 * Returns: %TRUE when standard input ended cleanly, %FALSE with @error set
 *   if the pool's messages could not be read or the answers written
 *
 * Since: 0.1
 */
gboolean
amor_worker_serve (AmorWorkerFunc   func,
                   gpointer         user_data,
                   GError         **error)
{
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return worker_serve (worker_run_items, (gpointer) func, user_data, error);
}

/**
 * amor_worker_serve_chunks:
 * @func: (scope call) (closure user_data): the work of a chunk of items
 * @user_data: data for @func
 * @error: return location for a #GError
 *
 * Serves an [class@Amor.ProcessPool] like [func@Amor.worker_serve], but
 * calls @func once per chunk, with all its items, rather than once per
 * item.
 *
 * A call from C into an interpreter and back costs microseconds, and more
 * after the work has pushed the interpreter's own code out of the caches:
 * for a Python callback it was measured at 10 to 25 µs per item between
 * items of 1 ms. A chunk callback pays it once per chunk and loops over
 * the items in its own language. The items come as an array of their
 * type when they all have the same (`ad` for doubles; in Python their
 * bytes give a list in one call), as an `av` otherwise; see
 * [callback@Amor.WorkerChunkFunc] for the results. The pool times a chunk
 * as a whole and counts each of its items as an equal share.
 *
 * Returns: %TRUE when standard input ended cleanly, %FALSE with @error set
 *   if the pool's messages could not be read or the answers written
 *
 * Since: 0.1
 */
gboolean
amor_worker_serve_chunks (AmorWorkerChunkFunc   func,
                          gpointer              user_data,
                          GError              **error)
{
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return worker_serve (worker_run_chunk_func, (gpointer) func, user_data, error);
}
