/* amor-wire-private.h: the messages between a process pool and its workers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A frame is an 8-byte header followed by a body:
 *
 *   bytes 0-3  the length of the body, big-endian
 *   byte  4    the message type (AmorWireType)
 *   bytes 5-7  zero
 *
 * The body is a GVariant in its serialised form (host byte order: both
 * ends run on the same machine), of the type the message type fixes:
 *
 *   HELLO    'H'  (su)      "amorsize-worker", protocol version
 *   CHUNK    'C'  (uv)      chunk id, the items        (pool -> worker)
 *   RESULTS  'R'  (uvaxx)   chunk id, one result per item, nanoseconds
 *                           spent in the callback per item, nanoseconds the
 *                           chunk took the worker besides its items: from
 *                           when it was free for the chunk (its last
 *                           answer, if the chunk was waiting then; else
 *                           the chunk's arrival) up to this answer
 *   ERROR    'E'  (uusis)   chunk id, position of the failed item in the
 *                           chunk, error domain, code and message
 *
 * The items and the results are an array in the variant: of their own type
 * when they all have one ("ad" for doubles: no variant around each, and a
 * slice of the map's items is a copy of their bytes), an "av" otherwise.
 *
 * The worker speaks first (HELLO), then answers every CHUNK with RESULTS or
 * ERROR, and exits when its input ends. GVariant's own serialisation was
 * chosen over json-glib because it was faster on every item type measured
 * (bench/process/bench-wire.c, a chunk serialised and read back: 1.3-1.5×
 * for strings, about 2× for doubles and tuples, 30× for arrays of doubles)
 * and keeps the types of the items, which JSON loses (a "(sid)" comes back
 * as "av").
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define AMOR_WIRE_HEADER_SIZE 8
#define AMOR_WIRE_MAGIC       "amorsize-worker"
#define AMOR_WIRE_VERSION     2

/* The largest frame a worker accepts from its pool. */
#define AMOR_WIRE_WORKER_MAX_FRAME ((gsize) 1 << 31)

typedef enum {
  AMOR_WIRE_HELLO   = 'H',
  AMOR_WIRE_CHUNK   = 'C',
  AMOR_WIRE_RESULTS = 'R',
  AMOR_WIRE_ERROR   = 'E',
} AmorWireType;

/* The GVariant type of the body of @type, or NULL for an unknown type. */
const GVariantType *amor_wire_body_type     (guint8         type);

/* Fills @header for a body of @length bytes. */
void                amor_wire_header_encode (guint8        *header,
                                             guint8         type,
                                             guint32        length);

/* Checks @header: a known type, zero padding and a length of at most
 * @max_frame bytes. On an oversized frame *length is set before failing. */
gboolean            amor_wire_header_decode (const guint8  *header,
                                             gsize          max_frame,
                                             guint8        *type,
                                             guint32       *length,
                                             GError       **error);

/* The body of a frame of @type as a GVariant; fails unless @body is in
 * normal form (garbage does not pass silently as default values). */
GVariant           *amor_wire_body_decode   (guint8         type,
                                             GBytes        *body,
                                             GError       **error);

/* The size of a value of @type in its serialised form when that is a
 * fixed-size number ("y", "b", "n", "q", "i", "u", "h", "x", "t", "d"),
 * else 0: an array of them is their bytes side by side. */
gsize               amor_wire_fixed_size    (const GVariantType *type);
/* @values (n of them, not consumed) as an array of their type when they
 * all have the same one, else boxed in an "av": how a chunk function sees
 * the items of a chunk. Returns a new, non-floating GVariant. */
GVariant           *amor_wire_items_array   (GVariant     **values,
                                             gsize          n);

/* The items of a chunk as a chunk function sees them: an "av" of items
 * that all have one type becomes an array of that type; any other array
 * stays as it is. A floating @items is sunk. Returns a new, non-floating
 * reference. */
GVariant           *amor_wire_items_unbox   (GVariant      *items);

/* Item @index of an array of items or results: unboxed when the array is
 * an "av". Returns a new reference. */
GVariant           *amor_wire_array_get     (GVariant      *array,
                                             gsize          index);

/* What an AmorWorkerChunkFunc answered for @n items (@answer, floating,
 * owned or NULL; taken here), checked: returns its results, and sets
 * @durations to the "ax" of its items' durations when it timed them itself
 * (else NULL). On a wrong answer — not an array, more or fewer results than
 * items — returns NULL with @failed set to the position of the item to
 * blame and @func_error to the callback's own error, or one saying what is
 * wrong when the callback set none. A callback error beside good results
 * is warned about and cleared. When @may_stop (the callback had a deadline:
 * amor_worker_get_time_left()), fewer results than items, at least one,
 * with @n durations and no error, are those of the items it ran before it
 * stopped: they are returned, with the @n durations. */
GVariant           *amor_wire_chunk_answer  (GVariant      *answer,
                                             gsize          n,
                                             gboolean       may_stop,
                                             GVariant     **durations,
                                             gsize         *failed,
                                             GError       **func_error);

/* Messages. Every constructor returns a new, non-floating GVariant. */
GVariant           *amor_wire_hello_new     (void);
gboolean            amor_wire_hello_check   (GVariant      *hello,
                                             GError       **error);

/* Writing frames on the pool's side (the worker's answers are read with
 * amor-wire-reader-private.h).
 *
 * Sends, without blocking, as much of the frame of @type and @body as
 * @fd (a socket) takes, from byte @offset of the frame: *@sent says how
 * much (0 when the socket is full). FALSE with @error when the socket
 * fails (the worker died). */
gboolean            amor_wire_send_frame         (int                  fd,
                                                  guint8               type,
                                                  GVariant            *body,
                                                  gsize                offset,
                                                  gsize               *sent,
                                                  GError             **error);
/* Writes the frame of @type and @body from byte @offset on, however long
 * the socket takes to take it. */
void                amor_wire_write_frame_async  (GOutputStream       *stream,
                                                  guint8               type,
                                                  GVariant            *body,
                                                  gsize                offset,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean            amor_wire_write_frame_finish (GOutputStream       *stream,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* Blocking frame I/O on file descriptors (the worker's side). Reading
 * returns FALSE without an error at a clean end of input (no byte of a new
 * frame); an end inside a frame is an error. */
gboolean            amor_wire_read_frame_fd  (int            fd,
                                              gsize          max_frame,
                                              guint8        *type,
                                              GVariant     **body,
                                              GError       **error);
gboolean            amor_wire_write_frame_fd (int            fd,
                                              guint8         type,
                                              GVariant      *body,
                                              GError       **error);

G_END_DECLS
