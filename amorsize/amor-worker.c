/* amor-worker.c: the worker side of a process pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "amor-error.h"
#include "amor-worker.h"
#include "amor-clock-private.h"
#include "amor-wire-private.h"

/* The descriptors of the protocol, moved away from 0 and 1 so that the
 * callback's own output cannot corrupt it. */
typedef struct
{
  int in_fd;
  int out_fd;
  int saved_stdin;
  int saved_stdout;
} WorkerFds;

static gboolean
worker_fds_open (WorkerFds  *fds,
                 GError    **error)
{
  int devnull;

  fds->in_fd = fds->out_fd = fds->saved_stdin = fds->saved_stdout = -1;

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

/* Runs @func on every item of a chunk and writes the answer. Returns FALSE
 * only when the answer cannot be written. */
static gboolean
worker_run_chunk (WorkerFds       *fds,
                  GVariant        *chunk,
                  gint64           received_ns,
                  AmorWorkerFunc   func,
                  gpointer         user_data,
                  GError         **error)
{
  g_autoptr(GVariant) items = NULL;
  g_autoptr(GVariant) answer = NULL;
  g_autofree GVariant **results = NULL;
  g_autofree gint64 *durations = NULL;
  GVariant *results_array, *durations_array;
  guint32 chunk_id;
  gsize n, i;
  gint64 compute_ns = 0, overhead_ns;
  gboolean ok;

  g_variant_get (chunk, "(u@av)", &chunk_id, &items);
  n = g_variant_n_children (items);
  results = g_new0 (GVariant *, MAX (n, 1));
  durations = g_new0 (gint64, MAX (n, 1));

  for (i = 0; i < n; i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (items, i);
      g_autoptr(GVariant) item = g_variant_get_variant (boxed);
      GError *local_error = NULL;
      GVariant *result;
      gint64 t0, t1;

      t0 = amor_clock_now_ns ();
      result = func (item, user_data, &local_error);
      t1 = amor_clock_now_ns ();

      if (result == NULL)
        {
          const char *domain = g_quark_to_string (AMOR_ERROR);
          gint code = AMOR_ERROR_WORK_FAILED;
          const char *message =
            "the worker callback returned NULL without setting an error (a "
            "Python exception, or a JavaScript function returning null, looks "
            "like this: see the worker's standard error)";

          if (local_error != NULL)
            {
              message = local_error->message;
              /* A JavaScript exception (GJS's own domain, which GJS turns
               * back into a JavaScript Error rather than a GLib.Error in a
               * GJS caller) fails the work like any other exception. */
              if (g_strcmp0 (g_quark_to_string (local_error->domain), "gjs-js-error-quark") != 0)
                {
                  domain = g_quark_to_string (local_error->domain);
                  code = local_error->code;
                }
            }

          answer = g_variant_ref_sink (g_variant_new ("(uusis)", chunk_id, (guint32) i,
                                                      domain, code, message));
          g_clear_error (&local_error);
          for (gsize j = 0; j < i; j++)
            g_variant_unref (results[j]);
          return amor_wire_write_frame_fd (fds->out_fd, AMOR_WIRE_ERROR, answer, error);
        }

      if (local_error != NULL)
        {
          g_warning ("The worker callback returned a result but set an error "
                     "(%s); the error is ignored", local_error->message);
          g_clear_error (&local_error);
        }

      results[i] = g_variant_ref_sink (g_variant_new_variant (g_variant_take_ref (result)));
      g_variant_unref (result);
      durations[i] = t1 - t0;
      compute_ns += t1 - t0;
    }

  results_array = g_variant_new_array (G_VARIANT_TYPE_VARIANT, results, n);
  durations_array = g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, durations, n,
                                               sizeof (gint64));
  g_variant_ref_sink (results_array);
  /* Serialise the results now: that is most of the encoding cost. */
  g_variant_get_data (results_array);
  overhead_ns = amor_clock_now_ns () - received_ns - compute_ns;

  answer = g_variant_ref_sink (g_variant_new ("(u@av@axx)", chunk_id, results_array,
                                              durations_array, MAX (overhead_ns, 0)));
  g_variant_unref (results_array);
  for (i = 0; i < n; i++)
    g_variant_unref (results[i]);

  ok = amor_wire_write_frame_fd (fds->out_fd, AMOR_WIRE_RESULTS, answer, error);
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
  WorkerFds fds;
  g_autoptr(GVariant) hello = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!worker_fds_open (&fds, error))
    goto out;

  hello = amor_wire_hello_new ();
  if (!amor_wire_write_frame_fd (fds.out_fd, AMOR_WIRE_HELLO, hello, error))
    goto out;

  for (;;)
    {
      g_autoptr(GVariant) body = NULL;
      GError *local_error = NULL;
      guint8 type = 0;
      gint64 received_ns;

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
      received_ns = amor_clock_now_ns ();

      if (type != AMOR_WIRE_CHUNK)
        {
          g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                       "The worker received a '%c' message where a chunk of "
                       "items was expected", type);
          break;
        }

      if (!worker_run_chunk (&fds, body, received_ns, func, user_data, error))
        break;
    }

out:
  worker_fds_close (&fds);
  return ok;
}
