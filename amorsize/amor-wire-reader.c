/* amor-wire-reader.c: frames read from a descriptor as they come
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <unistd.h>

#include <gio/gio.h>

#include "amor-error.h"
#include "amor-wire-private.h"
#include "amor-wire-reader-private.h"

struct _AmorWireReader
{
  guint8   header[AMOR_WIRE_HEADER_SIZE];
  gsize    have_header;
  guint8   type;
  guint32  length;
  guint8  *body;          /* once the header is in */
  gsize    have_body;
  gboolean failed;
};

AmorWireReader *
amor_wire_reader_new (void)
{
  return g_new0 (AmorWireReader, 1);
}

void
amor_wire_reader_free (AmorWireReader *reader)
{
  if (reader == NULL)
    return;
  g_free (reader->body);
  g_free (reader);
}

/* Reads into @buffer up to @size bytes, adding to *@have. Returns the
 * bytes read (0 at the end of the input), or -1: with @error set, or
 * without when nothing is there yet. */
static gssize
reader_read_some (int      fd,
                  guint8  *buffer,
                  gsize    size,
                  gsize   *have,
                  GError **error)
{
  for (;;)
    {
      gssize n = read (fd, buffer + *have, size - *have);

      if (n >= 0)
        {
          *have += (gsize) n;
          return n;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return -1;
      {
        int errsv = errno;

        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                     "Could not read: %s", g_strerror (errsv));
      }
      return -1;
    }
}

AmorWireReadStatus
amor_wire_reader_read (AmorWireReader  *reader,
                       int              fd,
                       gsize            max_frame,
                       guint8          *type,
                       GBytes         **body,
                       gsize           *frame_size,
                       GError         **error)
{
  GError *local_error = NULL;
  gssize n;

  g_return_val_if_fail (reader != NULL, AMOR_WIRE_READ_FAILED);
  g_return_val_if_fail (!reader->failed, AMOR_WIRE_READ_FAILED);
  g_return_val_if_fail (body != NULL && *body == NULL, AMOR_WIRE_READ_FAILED);

  while (reader->have_header < AMOR_WIRE_HEADER_SIZE)
    {
      n = reader_read_some (fd, reader->header, AMOR_WIRE_HEADER_SIZE,
                            &reader->have_header, &local_error);
      if (n < 0 && local_error == NULL)
        return AMOR_WIRE_READ_AGAIN;
      if (n == 0)
        {
          if (reader->have_header == 0)
            g_set_error_literal (&local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                 "the stream ended");
          else
            g_set_error_literal (&local_error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                                 "the stream ended inside a frame header");
        }
      if (local_error != NULL)
        goto failed;
      if (reader->have_header == AMOR_WIRE_HEADER_SIZE)
        {
          if (!amor_wire_header_decode (reader->header, max_frame, &reader->type,
                                        &reader->length, &local_error))
            goto failed;
          /* g_malloc() memory is aligned for any GVariant. */
          reader->body = g_malloc (MAX (reader->length, 1));
          reader->have_body = 0;
        }
    }

  while (reader->have_body < reader->length)
    {
      n = reader_read_some (fd, reader->body, reader->length, &reader->have_body, &local_error);
      if (n < 0 && local_error == NULL)
        return AMOR_WIRE_READ_AGAIN;
      if (n == 0)
        g_set_error (&local_error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                     "the stream ended after %" G_GSIZE_FORMAT " of the %"
                     G_GUINT32_FORMAT " bytes of a frame",
                     reader->have_body, reader->length);
      if (local_error != NULL)
        goto failed;
    }

  *type = reader->type;
  *body = g_bytes_new_take (g_steal_pointer (&reader->body), reader->length);
  if (frame_size != NULL)
    *frame_size = AMOR_WIRE_HEADER_SIZE + (gsize) reader->length;
  reader->have_header = 0;
  reader->have_body = 0;
  reader->length = 0;
  return AMOR_WIRE_READ_FRAME;

failed:
  reader->failed = TRUE;
  g_clear_pointer (&reader->body, g_free);
  g_propagate_error (error, local_error);
  return AMOR_WIRE_READ_FAILED;
}
