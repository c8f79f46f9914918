/* amor-wire.c: the messages between a process pool and its workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "amor-error.h"
#include "amor-wire-private.h"
#include "amor-wire-reader-private.h"

const GVariantType *
amor_wire_body_type (guint8 type)
{
  switch (type)
    {
    case AMOR_WIRE_HELLO:
      return G_VARIANT_TYPE ("(su)");
    case AMOR_WIRE_CHUNK:
      return G_VARIANT_TYPE ("(uv)");
    case AMOR_WIRE_RESULTS:
      return G_VARIANT_TYPE ("(uvaxx)");
    case AMOR_WIRE_ERROR:
      return G_VARIANT_TYPE ("(uusis)");
    default:
      return NULL;
    }
}

void
amor_wire_header_encode (guint8  *header,
                         guint8   type,
                         guint32  length)
{
  header[0] = (guint8) (length >> 24);
  header[1] = (guint8) (length >> 16);
  header[2] = (guint8) (length >> 8);
  header[3] = (guint8) length;
  header[4] = type;
  header[5] = header[6] = header[7] = 0;
}

gboolean
amor_wire_header_decode (const guint8  *header,
                         gsize          max_frame,
                         guint8        *type,
                         guint32       *length,
                         GError       **error)
{
  *length = ((guint32) header[0] << 24) | ((guint32) header[1] << 16) |
            ((guint32) header[2] << 8) | (guint32) header[3];
  *type = header[4];

  if (amor_wire_body_type (header[4]) == NULL ||
      header[5] != 0 || header[6] != 0 || header[7] != 0)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "malformed frame header %02x %02x %02x %02x %02x %02x %02x %02x "
                   "(not a message of the worker protocol)",
                   header[0], header[1], header[2], header[3],
                   header[4], header[5], header[6], header[7]);
      return FALSE;
    }

  if (*length > max_frame)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "a frame of %" G_GUINT32_FORMAT " bytes, above the maximum "
                   "frame size of %" G_GSIZE_FORMAT " bytes",
                   *length, max_frame);
      return FALSE;
    }

  return TRUE;
}

GVariant *
amor_wire_body_decode (guint8   type,
                       GBytes  *body,
                       GError **error)
{
  const GVariantType *body_type = amor_wire_body_type (type);
  GVariant *value;

  g_return_val_if_fail (body_type != NULL, NULL);

  value = g_variant_ref_sink (g_variant_new_from_bytes (body_type, body, FALSE));
  if (!g_variant_is_normal_form (value))
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "a '%c' message of %" G_GSIZE_FORMAT " bytes that is not a "
                   "valid %s value",
                   type, g_bytes_get_size (body), (const char *) body_type);
      g_variant_unref (value);
      return NULL;
    }

  return value;
}

GVariant *
amor_wire_hello_new (void)
{
  return g_variant_ref_sink (g_variant_new ("(su)", AMOR_WIRE_MAGIC, AMOR_WIRE_VERSION));
}

gboolean
amor_wire_hello_check (GVariant  *hello,
                       GError   **error)
{
  const char *magic;
  guint32 version;

  g_variant_get (hello, "(&su)", &magic, &version);
  if (strcmp (magic, AMOR_WIRE_MAGIC) != 0)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "a hello that is not from an amorsize worker (\"%s\")", magic);
      return FALSE;
    }
  if (version != AMOR_WIRE_VERSION)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_UNSUPPORTED_VERSION,
                   "a worker speaking protocol version %u, not %u",
                   version, AMOR_WIRE_VERSION);
      return FALSE;
    }

  return TRUE;
}

/* Async writing */

typedef struct
{
  guint8         header[AMOR_WIRE_HEADER_SIZE];
  GVariant      *body;
  GOutputVector  vectors[2];
} WriteFrame;

static void
write_frame_free (gpointer data)
{
  WriteFrame *wf = data;

  g_variant_unref (wf->body);
  g_free (wf);
}

static void
write_frame_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (g_output_stream_writev_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

/* Points @vectors (2) at the frame of @header and @body, past its first
 * @offset bytes; returns how many vectors are left. */
static guint
frame_vectors_from (GOutputVector *vectors,
                    const guint8  *header,
                    GVariant      *body,
                    gsize          offset)
{
  vectors[0].buffer = header;
  vectors[0].size = AMOR_WIRE_HEADER_SIZE;
  vectors[1].buffer = g_variant_get_data (body);
  vectors[1].size = g_variant_get_size (body);

  if (offset >= AMOR_WIRE_HEADER_SIZE)
    {
      offset -= AMOR_WIRE_HEADER_SIZE;
      g_assert (offset <= vectors[1].size);
      vectors[0].buffer = (const guint8 *) vectors[1].buffer + offset;
      vectors[0].size = vectors[1].size - offset;
      return 1;
    }
  vectors[0].buffer = header + offset;
  vectors[0].size = AMOR_WIRE_HEADER_SIZE - offset;
  return 2;
}

/* @iov (2) for the frame of @header and @body past its first @offset
 * bytes (frame_vectors_from()); returns how many. */
static int
frame_iov_from (struct iovec  *iov,
                const guint8  *header,
                GVariant      *body,
                gsize          offset)
{
  GOutputVector vectors[2];
  guint n_vectors = frame_vectors_from (vectors, header, body, offset);

  for (guint i = 0; i < n_vectors; i++)
    {
      iov[i].iov_base = (gpointer) vectors[i].buffer;
      iov[i].iov_len = vectors[i].size;
    }
  return (int) n_vectors;
}

void
amor_wire_write_frame_async (GOutputStream       *stream,
                             guint8               type,
                             GVariant            *body,
                             gsize                offset,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task = g_task_new (stream, NULL, callback, user_data);
  WriteFrame *wf = g_new0 (WriteFrame, 1);
  guint n_vectors;

  g_task_set_source_tag (task, amor_wire_write_frame_async);
  g_task_set_name (task, "[amorsize] write frame");
  g_task_set_task_data (task, wf, write_frame_free);

  wf->body = g_variant_ref (body);
  amor_wire_header_encode (wf->header, type, (guint32) g_variant_get_size (body));
  n_vectors = frame_vectors_from (wf->vectors, wf->header, body, offset);

  g_output_stream_writev_all_async (stream, wf->vectors, n_vectors, G_PRIORITY_DEFAULT,
                                    NULL, write_frame_cb, task);
}

gboolean
amor_wire_send_frame (int        fd,
                      guint8     type,
                      GVariant  *body,
                      gsize      offset,
                      gsize     *sent,
                      GError   **error)
{
  guint8 header[AMOR_WIRE_HEADER_SIZE];
  struct iovec iov[2];
  struct msghdr msg = { 0 };
  gssize n;

  *sent = 0;
  amor_wire_header_encode (header, type, (guint32) g_variant_get_size (body));
  msg.msg_iov = iov;
  msg.msg_iovlen = (size_t) frame_iov_from (iov, header, body, offset);

  do
    /* MSG_NOSIGNAL: a worker that died is an error here, not a SIGPIPE. */
    n = sendmsg (fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  if (n >= 0)
    {
      *sent = (gsize) n;
      return TRUE;
    }
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    return TRUE;
  {
    int errsv = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                 "Could not write to the worker: %s", g_strerror (errsv));
  }
  return FALSE;
}

gboolean
amor_wire_write_frame_finish (GOutputStream  *stream,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, stream), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Blocking I/O on file descriptors */

gboolean
amor_wire_read_frame_fd (int        fd,
                         gsize      max_frame,
                         guint8    *type,
                         GVariant **body,
                         GError   **error)
{
  g_autoptr(AmorWireReader) reader = amor_wire_reader_new ();
  g_autoptr(GBytes) bytes = NULL;
  GError *local_error = NULL;

  *body = NULL;
  /* A blocking descriptor: the reader waits for the whole frame. */
  switch (amor_wire_reader_read (reader, fd, max_frame, type, &bytes, NULL, &local_error))
    {
    case AMOR_WIRE_READ_FRAME:
      *body = amor_wire_body_decode (*type, bytes, error);
      return *body != NULL;

    case AMOR_WIRE_READ_AGAIN:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           "The input is non-blocking");
      return FALSE;

    case AMOR_WIRE_READ_FAILED:
    default:
      /* The end of the input, where a frame would begin: no error. */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        g_clear_error (&local_error);
      else
        g_propagate_error (error, local_error);
      return FALSE;
    }
}

gboolean
amor_wire_write_frame_fd (int        fd,
                          guint8     type,
                          GVariant  *body,
                          GError   **error)
{
  guint8 header[AMOR_WIRE_HEADER_SIZE];
  gsize size = g_variant_get_size (body);
  gsize done = 0;

  if (size > G_MAXUINT32)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "A message of %" G_GSIZE_FORMAT " bytes is too large for a frame",
                   size);
      return FALSE;
    }

  amor_wire_header_encode (header, type, (guint32) size);

  /* One system call for the whole frame, unless the pipe is full. */
  while (done < AMOR_WIRE_HEADER_SIZE + size)
    {
      struct iovec iov[2];
      int n_iov = frame_iov_from (iov, header, body, done);
      gssize n = writev (fd, iov, n_iov);

      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       "Could not write the output: %s", g_strerror (errsv));
          return FALSE;
        }
      done += (gsize) n;
    }

  return TRUE;
}

gsize
amor_wire_fixed_size (const GVariantType *type)
{
  switch (g_variant_type_peek_string (type)[0])
    {
    case 'y': case 'b': return 1;
    case 'n': case 'q': return 2;
    case 'i': case 'u': case 'h': return 4;
    case 'x': case 't': case 'd': return 8;
    default: return 0;
    }
}

GVariant *
amor_wire_items_array (GVariant **values,
                       gsize      n)
{
  const GVariantType *type = n > 0 ? g_variant_get_type (values[0]) : G_VARIANT_TYPE_VARIANT;
  g_autofree GVariant **boxed = NULL;
  GVariant *array;

  for (gsize i = 1; i < n && type != NULL; i++)
    if (!g_variant_type_equal (type, g_variant_get_type (values[i])))
      type = NULL;

  if (type != NULL && n > 0)
    return g_variant_ref_sink (g_variant_new_array (type, values, n));

  boxed = g_new (GVariant *, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    boxed[i] = g_variant_new_variant (values[i]);
  array = g_variant_new_array (G_VARIANT_TYPE_VARIANT, boxed, n);
  return g_variant_ref_sink (array);
}

GVariant *
amor_wire_array_get (GVariant *array,
                     gsize     index)
{
  GVariant *child = g_variant_get_child_value (array, index);

  if (g_variant_is_of_type (child, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *inner = g_variant_get_variant (child);

      g_variant_unref (child);
      return inner;
    }
  return child;
}

GVariant *
amor_wire_chunk_answer (GVariant  *answer,
                        gsize      n,
                        gboolean   may_stop,
                        GVariant **durations,
                        gsize     *failed,
                        GError   **func_error)
{
  g_autoptr(GVariant) results = answer != NULL ? g_variant_take_ref (answer) : NULL;
  g_autoptr(GVariant) timed = NULL;
  gsize n_results;

  *durations = NULL;
  *failed = 0;

  /* (results, durations): the callback timed its items itself. */
  if (results != NULL && g_variant_is_of_type (results, G_VARIANT_TYPE ("(*ax)")))
    {
      g_autoptr(GVariant) pair = g_steal_pointer (&results);

      results = g_variant_get_child_value (pair, 0);
      timed = g_variant_get_child_value (pair, 1);
    }

  if (results != NULL && !g_variant_is_of_type (results, G_VARIANT_TYPE_ARRAY))
    {
      g_clear_error (func_error);
      g_set_error (func_error, AMOR_ERROR, AMOR_ERROR_WORK_FAILED,
                   "the chunk callback returned a '%s' instead of an array of results",
                   g_variant_get_type_string (results));
      return NULL;
    }

  n_results = results != NULL ? g_variant_n_children (results) : 0;
  if (n_results > n)
    {
      g_clear_error (func_error);
      g_set_error (func_error, AMOR_ERROR, AMOR_ERROR_WORK_FAILED,
                   "the chunk callback returned %" G_GSIZE_FORMAT " results for %"
                   G_GSIZE_FORMAT " items", n_results, n);
      return NULL;
    }
  if (may_stop && n_results > 0 && n_results < n && *func_error == NULL &&
      timed != NULL && g_variant_n_children (timed) == n)
    {
      /* It stopped at its deadline. */
      *durations = g_steal_pointer (&timed);
      return g_steal_pointer (&results);
    }
  if (n_results < n)
    {
      /* It stopped at item n_results (0 when it returned nothing). */
      *failed = n_results;
      if (*func_error == NULL)
        g_set_error_literal (func_error, AMOR_ERROR, AMOR_ERROR_WORK_FAILED,
                             "the chunk callback stopped at this item without setting "
                             "an error (a Python exception looks like this: see the "
                             "standard error of the process that ran it)");
      return NULL;
    }

  if (*func_error != NULL)
    {
      g_warning ("The chunk callback returned results but set an error "
                 "(%s); the error is ignored", (*func_error)->message);
      g_clear_error (func_error);
    }
  if (timed != NULL && g_variant_n_children (timed) == n)
    *durations = g_steal_pointer (&timed);
  return g_steal_pointer (&results);
}

GVariant *
amor_wire_items_unbox (GVariant *items)
{
  g_autofree GVariant **values = NULL;
  GVariant *array;
  gsize n;

  g_variant_ref_sink (items);
  if (!g_variant_is_of_type (items, G_VARIANT_TYPE ("av")))
    return items;

  n = g_variant_n_children (items);
  values = g_new (GVariant *, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    values[i] = amor_wire_array_get (items, i);
  array = amor_wire_items_array (values, n);
  for (gsize i = 0; i < n; i++)
    g_variant_unref (values[i]);
  g_variant_unref (items);
  return array;
}
