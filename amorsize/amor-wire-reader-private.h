/* amor-wire-reader-private.h: frames read from a descriptor as they come
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads the frames of amor-wire-private.h from a descriptor. On a
 * non-blocking one (the pool's end of a worker's socket) it reads as much
 * of a frame as is there each time it is called, from a plain descriptor
 * source when the socket is readable: a frame costs two read() calls and
 * one wakeup of the main loop, where GIO's asynchronous streams took a
 * dozen system calls and several main-loop iterations, paid by the calling
 * thread between its own chunks of work. On a blocking one (a worker's
 * standard input) it waits for the whole frame. */
typedef struct _AmorWireReader AmorWireReader;

typedef enum {
  AMOR_WIRE_READ_FRAME,   /* a whole frame: its type and body are set */
  AMOR_WIRE_READ_AGAIN,   /* none yet: call again when readable */
  AMOR_WIRE_READ_FAILED,  /* the error is set; the reader is done */
} AmorWireReadStatus;

AmorWireReader     *amor_wire_reader_new  (void);
void                amor_wire_reader_free (AmorWireReader *reader);
/* Reads from @fd, without blocking, what it has of the next frame.
 * A frame larger than @max_frame fails with AMOR_ERROR_INVALID_DATA (so
 * does a malformed header); an end of input before a frame begins fails
 * with G_IO_ERROR_CONNECTION_CLOSED, inside one with
 * G_IO_ERROR_PARTIAL_INPUT; a read error with its G_IO_ERROR code. On
 * AMOR_WIRE_READ_FRAME, *@type and *@body (a new reference) are set, and
 * *@frame_size when not NULL; the reader starts on the next frame. */
AmorWireReadStatus  amor_wire_reader_read (AmorWireReader *reader,
                                           int             fd,
                                           gsize           max_frame,
                                           guint8         *type,
                                           GBytes        **body,
                                           gsize          *frame_size,
                                           GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AmorWireReader, amor_wire_reader_free)

G_END_DECLS
