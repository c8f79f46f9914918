/* amor-process-worker.c: a worker process of an AmorProcessPool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/socket.h>

#include <glib-unix.h>

#include "amor-error.h"
#include "amor-optimizer.h"
#include "amor-clock-private.h"
#include "amor-wire-private.h"
#include "amor-process-pool-private.h"

/* What starts the workers, for messages: the program's name, or "spawn
 * function". */
static char *
pool_describe_program (AmorProcessPool *self)
{
  if (self->argv != NULL && self->argv[0] != NULL)
    return g_path_get_basename (self->argv[0]);
  return g_strdup ("spawn function");
}

static void worker_died (Worker *worker, const char *why);

Worker *
worker_ref (Worker *worker)
{
  worker->ref_count++;
  return worker;
}

void
chunk_free (Chunk *chunk)
{
  g_clear_pointer (&chunk->message, g_variant_unref);
  g_free (chunk->indices);
  g_free (chunk);
}

void
worker_unref (Worker *worker)
{
  if (--worker->ref_count > 0)
    return;

  g_assert (worker->hello_timeout == NULL);
  g_assert (worker->read_source == NULL);
  g_queue_clear_full (&worker->inflight, (GDestroyNotify) chunk_free);
  amor_wire_reader_free (worker->reader);
  if (worker->stream != NULL)
    g_io_stream_close (worker->stream, NULL, NULL);
  g_clear_object (&worker->stream);
  g_clear_object (&worker->socket);
  g_clear_pointer (&worker->child, amor_child_free);
  g_free (worker->kill_reason);
  g_free (worker->lost);
  g_free (worker);
}

/* "chunk 5 (items 20–23)" */
static char *
chunk_describe (const Chunk *chunk)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "chunk %u ", chunk->id);
  if (chunk->n == 1)
    g_string_append_printf (s, "(item %" G_GUINT64_FORMAT ")", chunk->indices[0]);
  else if (chunk->indices[chunk->n - 1] - chunk->indices[0] == chunk->n - 1)
    g_string_append_printf (s, "(items %" G_GUINT64_FORMAT "–%" G_GUINT64_FORMAT ")",
                            chunk->indices[0], chunk->indices[chunk->n - 1]);
  else
    {
      g_string_append (s, "(items ");
      for (gsize i = 0; i < chunk->n && i < 4; i++)
        g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i > 0 ? ", " : "",
                                chunk->indices[i]);
      g_string_append (s, chunk->n > 4 ? ", …)" : ")");
    }

  return g_string_free (s, FALSE);
}

/* Worker operations
 *
 * A worker has at most one write and one read pending. Chunks are written in
 * order and answered in order: worker->inflight holds the chunks sent (or
 * being sent) and not answered yet, the oldest first; while a map runs, a
 * worker may get a second chunk before the first is answered, so that it
 * never waits for the pool between chunks. Every pending operation holds a
 * reference on its worker and counts in run->pending; a callback that finds
 * its worker dead only lets go. */

static void worker_pump (Worker *worker);
static void worker_hello (Worker  *worker,
                          guint8   type,
                          GBytes  *body,
                          GError  *error);

static gboolean
worker_has_pending (Worker *worker)
{
  return worker->reading || worker->writing;
}

/* Terminates @worker: its pending operations fail, which reaps it. */
void
worker_kill (Worker     *worker,
             const char *reason)
{
  if (worker->state == WORKER_DEAD)
    return;

  if (worker->kill_reason == NULL)
    worker->kill_reason = g_strdup (reason);

  if (!worker_has_pending (worker))
    {
      worker_died (worker, reason);
      return;
    }

  /* GLib sends the signal from its worker thread, a moment later; ending
   * the socket makes the pending read or write return at once, also when
   * a grandchild holds the other end. */
  amor_child_force_exit (worker->child);
  g_socket_shutdown (worker->socket, TRUE, TRUE, NULL);
}

/* @worker died (its output ended, a write failed) while another of its
 * operations is still pending: that one is made to fail at once, and the
 * worker is reaped when it has. */
static void
worker_lost (Worker     *worker,
             const char *why)
{
  if (!worker_has_pending (worker))
    {
      worker_died (worker, worker->lost != NULL ? worker->lost : why);
      return;
    }

  if (worker->lost == NULL)
    {
      worker->lost = g_strdup (why);
      amor_child_force_exit (worker->child);
      g_socket_shutdown (worker->socket, TRUE, TRUE, NULL);
    }
}

/* Reaping */

/* Queues @chunk to run again, at the front. */
static void
run_requeue (Run   *run,
             Chunk *chunk)
{
  g_clear_pointer (&chunk->message, g_variant_unref);
  chunk->written = FALSE;
  chunk->sent = 0;
  g_queue_push_head (&run->retry, chunk);
}

static void
worker_reaped_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Worker *worker = user_data;
  Run *run = worker->run;
  g_autofree char *status = NULL;
  g_autofree char *who = NULL;
  Chunk *head;

  run->pending--;
  run->reaping--;
  amor_child_wait_finish (worker->child, result);
  status = amor_child_describe_exit (worker->child);

  who = g_strdup_printf ("worker %u (pid %s)", worker->id, worker->pid);
  g_debug ("process pool: %s %s%s%s", who, status,
           worker->kill_reason != NULL ? ": " : "",
           worker->kill_reason != NULL ? worker->kill_reason : "");

  head = g_queue_pop_head (&worker->inflight);

  if (worker->kill_reason != NULL || run->phase == PHASE_STOPPING)
    {
      /* Terminated by the pool (the reason is recorded already), or the
       * map is stopping anyway. */
      if (worker->timed_out)
        {
          g_autofree char *argv0 = pool_describe_program (run->self);

          run_fail (run, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      "Worker %u (%s) sent no hello within %.3g s, "
                                      "so it was terminated",
                                      worker->id, argv0, run->self->hello_timeout));
        }
      g_clear_pointer (&head, chunk_free);
    }
  else if (!worker->said_hello)
    {
      g_autofree char *argv0 = pool_describe_program (run->self);

      run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_FAILED,
                                  "Worker %u (%s) %s before its hello: is it a "
                                  "program that calls amor_worker_serve()?",
                                  worker->id, argv0, status));
    }
  else
    {
      Chunk *later;

      /* The chunks behind the first never started: they run again as they
       * are, first. */
      while ((later = g_queue_pop_tail (&worker->inflight)) != NULL)
        run_requeue (run, later);

      if (head == NULL)
        ;
      else if (!head->written)
        run_requeue (run, g_steal_pointer (&head));
      else if (head->attempt == 0)
        {
          g_autofree char *what = chunk_describe (head);

          /* The worker died running it: its items run again, one per
           * chunk, so that a second death names the item that caused it. */
          g_debug ("process pool: %s %s while running %s: retrying its items",
                   who, status, what);
          for (gsize i = head->n; i > 0; i--)
            {
              Chunk *retry = g_new0 (Chunk, 1);

              retry->indices = g_new (guint64, 1);
              retry->indices[0] = head->indices[i - 1];
              retry->n = 1;
              retry->attempt = 1;
              retry->sample = head->sample;
              g_queue_push_head (&run->retry, retry);
            }
        }
      else
        {
          run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_FAILED,
                                      "Item %" G_GUINT64_FORMAT ": %s %s while processing "
                                      "it, and so did the worker that ran it before",
                                      head->indices[0], who, status));
        }
      g_clear_pointer (&head, chunk_free);
    }

  g_queue_clear_full (&worker->inflight, (GDestroyNotify) chunk_free);
  worker_unref (worker);
  run_schedule (run);
}

/* @worker is gone (or going): reap it. What it was running is retried, or
 * fails the map, once it is reaped. */
static void
worker_died (Worker     *worker,
             const char *why)
{
  Run *run = worker->run;

  g_assert (worker->state != WORKER_DEAD);
  g_debug ("process pool: worker %u (pid %s) lost: %s", worker->id, worker->pid, why);

  if (worker->hello_timeout != NULL)
    {
      g_source_destroy (worker->hello_timeout);
      g_clear_pointer (&worker->hello_timeout, g_source_unref);
    }

  worker->state = WORKER_DEAD;
  /* The wait holds a reference of its own. */
  worker_ref (worker);
  g_ptr_array_remove (run->workers, worker);

  amor_child_force_exit (worker->child);
  if (worker_has_pending (worker))
    g_socket_shutdown (worker->socket, TRUE, TRUE, NULL);
  run->pending++;
  run->reaping++;
  amor_child_wait_async (worker->child, worker_reaped_cb, worker);
}

/* The start and the end of every operation. */
static void
worker_op_begin (Worker *worker)
{
  worker_ref (worker);
  worker->run->pending++;
}

/* TRUE if the operation's outcome still matters (its worker is alive). */
static gboolean
worker_op_end (Worker *worker)
{
  worker->run->pending--;
  if (worker->state != WORKER_DEAD)
    return TRUE;

  run_schedule (worker->run);
  worker_unref (worker);
  return FALSE;
}

/* Chunks */

static void
worker_written_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Worker *worker = user_data;
  Run *run = worker->run;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = amor_wire_write_frame_finish (G_OUTPUT_STREAM (source), result, &error);
  worker->writing = FALSE;
  if (!worker_op_end (worker))
    return;

  if (worker->kill_reason != NULL)
    worker_kill (worker, worker->kill_reason);
  else if (!ok || worker->lost != NULL)
    worker_lost (worker, error != NULL ? error->message : worker->lost);
  else
    {
      for (GList *l = worker->inflight.head; l != NULL; l = l->next)
        {
          Chunk *chunk = l->data;

          if (!chunk->written)
            {
              chunk->written = TRUE;
              g_clear_pointer (&chunk->message, g_variant_unref);
              break;
            }
        }
      worker_pump (worker);
    }

  run_schedule (run);
  worker_unref (worker);
}

/* Handles a RESULTS message; FALSE with @error if it does not fit. */
static gboolean
run_take_results (Run       *run,
                  Chunk     *chunk,
                  GVariant  *message,
                  gint64     decode_start_ns,
                  GError   **error)
{
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GVariant) durations = NULL;
  const gint64 *ns;
  gsize n_ns = 0;
  guint32 chunk_id;
  gint64 overhead_ns;
  gint64 compute_ns = 0;
  GError *type_error = NULL;
  gsize kept;

  g_variant_get (message, "(uv@axx)", &chunk_id, &results, &durations, &overhead_ns);
  ns = g_variant_get_fixed_array (durations, &n_ns, sizeof (gint64));
  if (!g_variant_is_of_type (results, G_VARIANT_TYPE_ARRAY))
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "results that are a '%s', not an array",
                   g_variant_get_type_string (results));
      return FALSE;
    }
  if (chunk_id != chunk->id)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "the results of chunk %u instead", chunk_id);
      return FALSE;
    }
  if (g_variant_n_children (results) != chunk->n || n_ns != chunk->n)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "%" G_GSIZE_FORMAT " results for %" G_GSIZE_FORMAT " items",
                   g_variant_n_children (results), chunk->n);
      return FALSE;
    }

  /* A result of the wrong type is the work's failure, not the worker's:
   * the map fails, the worker goes on. */
  kept = amor_map_results_keep (run->results, chunk->indices, results, chunk->n, &type_error);
  if (kept < chunk->n)
    {
      g_prefix_error (&type_error, "Item %" G_GUINT64_FORMAT ": ", chunk->indices[kept]);
      run_fail (run, type_error);
    }
  for (gsize i = 0; i < chunk->n; i++)
    {
      compute_ns += MAX (ns[i], 0);
      amor_profile_add (run->profile, chunk->indices[i], (double) MAX (ns[i], 0) / 1e9);
    }
  run->n_done += chunk->n;
  chunk->busy_ns = compute_ns + MAX (overhead_ns, 0);
  if (!chunk->sample)
    {
      run->worker_overhead_sum += (double) MAX (overhead_ns, 0) / 1e9;
      run->worker_overhead_n++;
    }
  run_check_estimate (run, chunk, (double) compute_ns / 1e9);

  /* What a message costs whatever its size weighs too much in small
   * chunks: their figure is not kept. */
  if (run->local && chunk->n >= LOCAL_SERIALIZATION_ITEMS)
    {
      double decode = (double) (amor_clock_now_ns () - decode_start_ns) / 1e9;

      /* As run_local_serialization() counts it: each side of the socket
       * pays about what this one does. The worker's own overhead is not
       * counted: it is mostly that of the work function, paid here too,
       * and in a fresh fork, the copying of the pages it writes to. */
      run->chunk_serialization_sum += 2.0 * ((double) chunk->encode_ns / 1e9 + decode);
      run->chunk_serialization_n += chunk->n;
    }

  if (chunk->sample)
    {
      /* Sampling chunks travel alone: their round trip is theirs. What is
       * neither work nor (de)serialisation is the dispatch cost. */
      gint64 now = amor_clock_now_ns ();
      double decode = (double) (now - decode_start_ns) / 1e9;
      double serialization = (double) chunk->encode_ns / 1e9 + decode +
                             (double) MAX (overhead_ns, 0) / 1e9;
      double round_trip = (double) (now - chunk->start_ns) / 1e9;
      double per_item = serialization / (double) chunk->n;
      double dispatch = MAX (0.0, round_trip - (double) compute_ns / 1e9 - serialization);

      /* Sampled with the calling thread, the serialisation is counted in
       * the parallel estimates only (run_plan_here()). */
      if (run->local)
        per_item = 0.0;
      for (gsize i = 0; i < chunk->n; i++)
        amor_sampler_add_duration (run->sampler, (double) MAX (ns[i], 0) / 1e9 + per_item);
      run->serialization_sum += serialization;
      run->serialization_n += chunk->n;
      g_array_append_val (run->dispatch, dispatch);
    }

  return TRUE;
}

/* The worker answered the chunk at the front of its queue, on which it
 * spent @busy_ns: the next one began then, or once written if later. The
 * answer is read only when the calling thread is free (run_help_cb()),
 * maybe long after: the worker's time tells when it really began. */
static void
worker_front_done (Worker *worker,
                   gint64  busy_ns)
{
  Chunk *next;

  if (worker->inflight.length < 2)
    return;
  next = g_queue_peek_nth (&worker->inflight, 1);
  worker->front_start_ns = MAX (worker->front_start_ns + busy_ns, next->start_ns);
}

/* The answer read for the chunk at the front of @worker's queue: @body of
 * @type, or @error (taken). */
static void
worker_answer (Worker  *worker,
               guint8   type,
               GBytes  *body,
               GError  *error)
{
  Run *run = worker->run;
  g_autoptr(GError) local_error = error;
  g_autoptr(GVariant) message = NULL;
  gint64 decode_start_ns;
  Chunk *chunk;

  decode_start_ns = amor_clock_now_ns ();
  worker->reading = FALSE;
  if (!worker_op_end (worker))
    return;

  /* The pool terminated the worker: an answer already on its way does not
   * count. */
  if (worker->kill_reason != NULL)
    {
      worker_kill (worker, worker->kill_reason);
      goto out;
    }

  /* The worker died with its chunks. */
  if ((body == NULL && !g_error_matches (local_error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA)) ||
      worker->lost != NULL)
    {
      worker_lost (worker, local_error != NULL ? local_error->message : worker->lost);
      goto out;
    }

  chunk = g_queue_peek_head (&worker->inflight);

  if (body != NULL)
    {
      if (type == AMOR_WIRE_RESULTS || type == AMOR_WIRE_ERROR)
        message = amor_wire_body_decode (type, body, &local_error);
      else
        g_set_error (&local_error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                     "a '%c' message where results were expected", type);
    }

  if (message != NULL && type == AMOR_WIRE_RESULTS &&
      run_take_results (run, chunk, message, decode_start_ns, &local_error))
    {
      g_debug ("process pool: worker %u answered chunk %u (%" G_GSIZE_FORMAT " items from %"
               G_GUINT64_FORMAT ")", worker->id, chunk->id, chunk->n, chunk->indices[0]);
      worker_front_done (worker, chunk->busy_ns);
      chunk_free (g_queue_pop_head (&worker->inflight));
      goto next;
    }

  if (message != NULL && type == AMOR_WIRE_ERROR)
    {
      guint32 chunk_id, position;
      const char *domain, *text;
      gint32 code;

      g_variant_get (message, "(uu&si&s)", &chunk_id, &position, &domain, &code, &text);
      if (chunk_id == chunk->id && position < chunk->n && domain[0] != '\0')
        {
          /* The work failed; the worker is fine. */
          run_fail (run, g_error_new (g_quark_from_string (domain), code,
                                      "Item %" G_GUINT64_FORMAT ": %s",
                                      chunk->indices[position], text));
          chunk_free (g_queue_pop_head (&worker->inflight));
          goto next;
        }
      g_clear_error (&local_error);
      g_set_error (&local_error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "an error message for chunk %u, item %u of %" G_GSIZE_FORMAT,
                   chunk_id, position, chunk->n);
    }

  /* Malformed or oversized: the stream cannot be trusted any more. */
  {
    g_autofree char *who = g_strdup_printf ("worker %u (pid %s)", worker->id, worker->pid);
    g_autofree char *what = chunk_describe (chunk);

    run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                                "The output of %s for %s was refused: %s",
                                who, what, local_error->message));
    worker_kill (worker, "malformed output");
    goto out;
  }

next:
  if (g_queue_is_empty (&worker->inflight))
    worker->state = WORKER_IDLE;
  worker_pump (worker);

out:
  run_schedule (run);
  worker_unref (worker);
}

static gboolean
worker_readable_cb (int          fd,
                    GIOCondition condition,
                    gpointer     user_data)
{
  Worker *worker = user_data;
  g_autoptr(GBytes) body = NULL;
  GSource *source = worker->read_source;
  GError *error = NULL;
  guint8 type = 0;
  gboolean again;

  if (amor_wire_reader_read (worker->reader, fd, worker->run->self->max_frame_size,
                             &type, &body, NULL, &error) == AMOR_WIRE_READ_AGAIN)
    return G_SOURCE_CONTINUE;

  /* A frame, or the end: the read is over. The source stays for the next
   * one if the worker is sent another chunk meanwhile (worker_read()). */
  worker_ref (worker);
  if (worker->said_hello)
    worker_answer (worker, type, body, error);
  else
    worker_hello (worker, type, body, error);

  again = worker->reading && worker->read_source == source;
  if (!again && worker->read_source == source)
    worker->read_source = NULL;
  if (!again)
    g_source_unref (source);
  worker_unref (worker);
  return again ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Reads the next frame of @worker when it comes (worker_readable_cb()),
 * on the source of the last one if it is still there. */
static void
worker_read (Worker *worker)
{
  worker->reading = TRUE;
  worker_op_begin (worker);
  if (worker->reader == NULL)
    worker->reader = amor_wire_reader_new ();
  if (worker->read_source != NULL)
    return;
  worker->read_source = g_unix_fd_source_new (g_socket_get_fd (worker->socket),
                                              G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (worker->read_source, G_SOURCE_FUNC (worker_readable_cb), worker, NULL);
  g_source_set_static_name (worker->read_source, "[amorsize] worker output");
  /* Its callback never runs the main context: GLib need not take its
   * descriptor out of the poll set around it (two wakeups). */
  g_source_set_can_recurse (worker->read_source, TRUE);
  g_source_attach (worker->read_source, worker->run->context);
}

/* Sends @worker the chunks it has not got yet, and starts the read of the
 * next answer, if they are not under way. A chunk goes into the socket at
 * once when it fits there, as nearly all do; the rest of one that does
 * not, or that fails (the write reports it), is written asynchronously. */
static void
worker_pump (Worker *worker)
{
  if (worker->state == WORKER_DEAD || worker->kill_reason != NULL || worker->lost != NULL)
    return;

  if (!worker->writing)
    for (GList *l = worker->inflight.head; l != NULL; l = l->next)
      {
        Chunk *chunk = l->data;
        gsize sent = 0;

        if (chunk->written)
          continue;
        if (amor_wire_send_frame (g_socket_get_fd (worker->socket), AMOR_WIRE_CHUNK,
                                  chunk->message, chunk->sent, &sent, NULL))
          {
            chunk->sent += sent;
            if (chunk->sent == AMOR_WIRE_HEADER_SIZE + g_variant_get_size (chunk->message))
              {
                chunk->written = TRUE;
                g_clear_pointer (&chunk->message, g_variant_unref);
                continue;
              }
          }
        g_debug ("process pool: chunk %u to worker %u: %" G_GSIZE_FORMAT " bytes sent, "
                 "the rest as the worker reads", chunk->id, worker->id, chunk->sent);
        worker->writing = TRUE;
        worker_op_begin (worker);
        amor_wire_write_frame_async (g_io_stream_get_output_stream (worker->stream),
                                     AMOR_WIRE_CHUNK, chunk->message, chunk->sent,
                                     worker_written_cb, worker);
        break;
      }

  if (!worker->reading && !g_queue_is_empty (&worker->inflight) &&
      ((Chunk *) g_queue_peek_head (&worker->inflight))->written)
    worker_read (worker);
}

/* The @n items @indices as an array of the map's item type (a copy of
 * their bytes when that is a fixed-size number). Returns a floating
 * reference. */
GVariant *
run_items_slice (Run           *run,
                 const guint64 *indices,
                 gsize          n)
{
  const GVariantType *type = g_variant_type_element (g_variant_get_type (run->items));
  gsize size = amor_wire_fixed_size (type);
  g_autofree GVariant **children = NULL;
  GVariant *array;

  if (size > 0)
    {
      gsize n_all = 0;
      const guint8 *all = g_variant_get_fixed_array (run->items, &n_all, size);
      g_autofree guint8 *slice = g_malloc (MAX (n, 1) * size);

      for (gsize i = 0; i < n; i++)
        memcpy (slice + i * size, all + indices[i] * size, size);
      return g_variant_new_fixed_array (type, slice, n, size);
    }

  children = g_new (GVariant *, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    children[i] = g_variant_get_child_value (run->items, indices[i]);
  array = g_variant_new_array (type, children, n);
  for (gsize i = 0; i < n; i++)
    g_variant_unref (children[i]);
  return array;
}

/* The message of a chunk of the @n items @indices: "(uv)". */
GVariant *
run_chunk_message (Run           *run,
                   guint32        id,
                   const guint64 *indices,
                   gsize          n)
{
  return g_variant_ref_sink (g_variant_new ("(uv)", id, run_items_slice (run, indices, n)));
}

/* Hands @chunk to @worker (idle, or running one chunk). FALSE when the
 * chunk is too large (the map fails). */
gboolean
run_send (Run    *run,
          Worker *worker,
          Chunk  *chunk)
{
  gsize size;

  chunk->id = ++run->next_chunk_id;
  chunk->start_ns = amor_clock_now_ns ();
  chunk->message = run_chunk_message (run, chunk->id, chunk->indices, chunk->n);
  size = g_variant_get_size (chunk->message);   /* serialises it */
  chunk->encode_ns = amor_clock_now_ns () - chunk->start_ns;

  if (size > run->self->max_frame_size)
    {
      g_autofree char *what = chunk_describe (chunk);

      run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_INVALID_ARGUMENT,
                                  "The items of %s take %" G_GSIZE_FORMAT " bytes, above "
                                  "the maximum frame size of %u bytes",
                                  what, size, run->self->max_frame_size));
      chunk_free (chunk);
      return FALSE;
    }

  g_debug ("process pool: chunk %u (%" G_GSIZE_FORMAT " items from %" G_GUINT64_FORMAT
           "%s) to worker %u", chunk->id, chunk->n, chunk->indices[0],
           chunk->sample ? ", sampled" : "", worker->id);
  worker->state = WORKER_BUSY;
  if (g_queue_is_empty (&worker->inflight))
    worker->front_start_ns = chunk->start_ns;
  g_queue_push_tail (&worker->inflight, chunk);
  worker_pump (worker);
  return TRUE;
}

/* Spawning */

/* The first frame read from @worker: @body of @type, or @error (taken). */
static void
worker_hello (Worker  *worker,
              guint8   type,
              GBytes  *body,
              GError  *error)
{
  Run *run = worker->run;
  AmorProcessPool *self = run->self;
  g_autoptr(GVariant) hello = NULL;

  worker->reading = FALSE;
  if (!worker_op_end (worker))
    {
      g_clear_error (&error);
      return;
    }

  if (worker->hello_timeout != NULL)
    {
      g_source_destroy (worker->hello_timeout);
      g_clear_pointer (&worker->hello_timeout, g_source_unref);
    }

  if ((body == NULL && !g_error_matches (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA)) ||
      worker->kill_reason != NULL)
    {
      worker_died (worker, error != NULL ? error->message : worker->kill_reason);
      goto out;
    }

  if (body != NULL)
    {
      if (type == AMOR_WIRE_HELLO)
        hello = amor_wire_body_decode (type, body, &error);
      else
        g_set_error (&error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                     "a '%c' message where a hello was expected", type);
    }

  if (hello == NULL || !amor_wire_hello_check (hello, &error))
    {
      g_autofree char *argv0 = pool_describe_program (self);
      int code = error->domain == AMOR_ERROR ? error->code : AMOR_ERROR_INVALID_DATA;

      run_fail (run, g_error_new (AMOR_ERROR, code,
                                  "The hello of worker %u (%s, pid %s) is malformed: %s",
                                  worker->id, argv0, worker->pid, error->message));
      worker_kill (worker, "malformed hello");
      goto out;
    }

  worker->said_hello = TRUE;
  self->spawn_cost = amor_clock_seconds_since (worker->spawned_ns);
  g_debug ("process pool: worker %u (pid %s) ready after %.6f s",
           worker->id, worker->pid, self->spawn_cost);
  g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_SPAWN_COST]);
  worker->state = WORKER_IDLE;

out:
  g_clear_error (&error);
  run_schedule (run);
  worker_unref (worker);
}

static gboolean
worker_hello_timeout_cb (gpointer user_data)
{
  Worker *worker = user_data;

  g_clear_pointer (&worker->hello_timeout, g_source_unref);
  worker->timed_out = TRUE;
  worker_kill (worker, "no hello in time");
  return G_SOURCE_REMOVE;
}

/* A worker's socket holds what one side writes until the other reads it:
 * a chunk sent ahead while the worker runs the one before, an answer
 * while the calling thread runs a chunk of its own. The kernel's default
 * holds about 208 kB of data, less than a chunk of 30000 numbers: its
 * writer then waits for the reader (the pool for the worker to finish a
 * chunk, the worker for the calling thread to finish one). Asked for more,
 * the kernel gives up to net.core.wmem_max. */
#define WORKER_SOCKET_BUFFER (4 << 20)

/* Widens the send buffer of @fd; returns about how many bytes of data it
 * holds. */
static gsize
socket_widen (int fd)
{
  int size = WORKER_SOCKET_BUFFER;
  socklen_t length = sizeof size;

  /* At worst, the kernel's default stays. */
  (void) setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  /* Unknown: about half of the usual default. */
  if (getsockopt (fd, SOL_SOCKET, SO_SNDBUF, &size, &length) != 0 || size <= 0)
    return 100 * 1024;
  /* The kernel counts its bookkeeping in it, as much as the data. */
  return (gsize) size / 2;
}

/* Starts a worker for @run; FALSE (the map fails) if it cannot start. */
gboolean
run_spawn (Run *run)
{
  AmorProcessPool *self = run->self;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  AmorChild *child;
  Worker *worker;
  int sv[2];
  int child_out;
  gsize room;
  gint64 start_ns = amor_clock_now_ns ();

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    {
      int errsv = errno;

      run_fail (run, g_error_new (G_IO_ERROR, g_io_error_from_errno (errsv),
                                  "Could not create the pipes of a worker: %s",
                                  g_strerror (errsv)));
      return FALSE;
    }

  room = MIN (socket_widen (sv[0]), socket_widen (sv[1]));
  child_out = fcntl (sv[1], F_DUPFD_CLOEXEC, 3);
  if (child_out < 0)
    {
      int errsv = errno;

      close (sv[0]);
      close (sv[1]);
      run_fail (run, g_error_new (G_IO_ERROR, g_io_error_from_errno (errsv),
                                  "Could not create the pipes of a worker: %s",
                                  g_strerror (errsv)));
      return FALSE;
    }

  if (self->spawn_func != NULL)
    {
      g_autofree int *close_fds = NULL;
      guint n_close = 0;
      GPid pid;

      /* A forked worker must not keep the pool's ends of the other
       * workers' sockets (nor its own): they would hide the end of those
       * workers' input. */
      close_fds = g_new (int, run->workers->len + 1);
      for (guint i = 0; i < run->workers->len; i++)
        close_fds[n_close++] = g_socket_get_fd (((Worker *) g_ptr_array_index (run->workers, i))->socket);
      close_fds[n_close++] = sv[0];

      pid = self->spawn_func (sv[1], close_fds, n_close, self->spawn_data, &error);
      close (sv[1]);
      close (child_out);
      if (pid <= 0)
        {
          close (sv[0]);
          if (error == NULL)
            g_set_error_literal (&error, AMOR_ERROR, AMOR_ERROR_FAILED,
                                 "the spawn function returned no process id");
          run_fail (run, g_error_new (error->domain, error->code,
                                      "Could not start a worker (spawn function): %s",
                                      error->message));
          return FALSE;
        }
      child = amor_child_new_for_pid (pid);
    }
  else
    {
      GSubprocess *process;

      /* The launcher owns (and, once freed, closes) the child's ends. */
      launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
      g_subprocess_launcher_take_stdin_fd (launcher, sv[1]);
      g_subprocess_launcher_take_stdout_fd (launcher, child_out);
      process = g_subprocess_launcher_spawnv (launcher, (const char * const *) self->argv, &error);
      g_clear_object (&launcher);

      if (process == NULL)
        {
          close (sv[0]);
          run_fail (run, g_error_new (error->domain, error->code,
                                      "Could not start a worker (%s): %s",
                                      self->argv[0], error->message));
          return FALSE;
        }
      child = amor_child_new_for_subprocess (process);
    }

  socket = g_socket_new_from_fd (sv[0], &error);
  if (socket == NULL)
    {
      close (sv[0]);
      amor_child_kill_sync (child);
      amor_child_free (child);
      run_fail (run, g_error_new (error->domain, error->code,
                                  "Could not talk to a worker: %s", error->message));
      return FALSE;
    }

  worker = g_new0 (Worker, 1);
  worker->ref_count = 1;
  worker->id = ++self->next_worker_id;
  worker->child = child;
  worker->pid = amor_child_get_identifier (child);
  worker->socket = g_steal_pointer (&socket);
  worker->stream = G_IO_STREAM (g_socket_connection_factory_create_connection (worker->socket));
  worker->state = WORKER_SPAWNING;
  worker->spawned_ns = start_ns;
  worker->room = room;
  worker->run = run;
  g_queue_init (&worker->inflight);
  g_ptr_array_add (run->workers, worker);

  g_debug ("process pool: started worker %u (pid %s)", worker->id, worker->pid);

  worker->hello_timeout = g_timeout_source_new ((guint) MIN (self->hello_timeout * 1000.0,
                                                             (double) G_MAXUINT));
  g_source_set_callback (worker->hello_timeout, worker_hello_timeout_cb, worker, NULL);
  g_source_set_static_name (worker->hello_timeout, "[amorsize] worker hello timeout");
  g_source_attach (worker->hello_timeout, run->context);

  worker_read (worker);
  return TRUE;
}

/* Whether @worker takes chunks: started, and not being stopped. */
gboolean
worker_is_ready (Worker *worker)
{
  return (worker->state == WORKER_IDLE || worker->state == WORKER_BUSY) &&
         worker->kill_reason == NULL && worker->lost == NULL;
}

/* The chunks of the plan (not of samples) that @worker has: how many, and
 * the last one. */
guint
worker_n_work_chunks (Worker *worker)
{
  guint n = 0;

  for (GList *l = worker->inflight.head; l != NULL; l = l->next)
    n += !((Chunk *) l->data)->sample;
  return n;
}

/* The items of every chunk @worker has not answered yet. */
guint64
worker_n_items_held (Worker *worker)
{
  guint64 n = 0;

  for (GList *l = worker->inflight.head; l != NULL; l = l->next)
    n += ((Chunk *) l->data)->n;
  return n;
}

Chunk *
worker_work_chunk (Worker *worker)
{
  for (GList *l = worker->inflight.tail; l != NULL; l = l->prev)
    if (!((Chunk *) l->data)->sample)
      return l->data;
  return NULL;
}
