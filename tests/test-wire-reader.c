/* test-wire-reader.c: AmorWireReader, and the pool's non-blocking sends
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Frames go through a socket pair, both ends non-blocking as the pool's
 * end is: a reader returns a frame only once all of it is in, says "again"
 * meanwhile, and tells a clean end from a cut one and from garbage.
 */

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "amorsize/amor-error.h"
#include "amorsize/amor-wire-private.h"
#include "amorsize/amor-wire-reader-private.h"

typedef struct
{
  int ends[2];   /* [0]: the pool's, [1]: the worker's */
} Pair;

static void
pair_open (Pair *pair)
{
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                               pair->ends), ==, 0);
}

static void
pair_close (Pair *pair)
{
  for (guint i = 0; i < 2; i++)
    if (pair->ends[i] >= 0)
      close (pair->ends[i]);
}

/* The bytes of a RESULTS frame for chunk @id. */
static GBytes *
results_frame (guint32 id)
{
  const gint64 values[] = { 7, 8, 9 };
  const gint64 ns[] = { 100, 200, 300 };
  g_autoptr(GVariant) body = NULL;
  guint8 header[AMOR_WIRE_HEADER_SIZE];
  GByteArray *frame = g_byte_array_new ();

  body = g_variant_ref_sink (g_variant_new ("(uv@axx)", id,
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, values, 3, sizeof (gint64)),
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ns, 3, sizeof (gint64)),
                                            (gint64) 5));
  amor_wire_header_encode (header, AMOR_WIRE_RESULTS, (guint32) g_variant_get_size (body));
  g_byte_array_append (frame, header, sizeof header);
  g_byte_array_append (frame, g_variant_get_data (body), (guint) g_variant_get_size (body));
  return g_byte_array_free_to_bytes (frame);
}

static void
put (int           fd,
     const guint8 *data,
     gsize         size)
{
  g_assert_cmpint (write (fd, data, size), ==, (gssize) size);
}

/* Reads one frame that must be chunk @id's results. */
static void
assert_results_frame (AmorWireReader *reader,
                      int             fd,
                      guint32         id)
{
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GVariant) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GVariant) durations = NULL;
  gsize frame_size = 0;
  guint8 type = 0;
  guint32 got_id;
  gint64 overhead;

  g_assert_cmpint (amor_wire_reader_read (reader, fd, 1 << 20, &type, &body, &frame_size, &error),
                   ==, AMOR_WIRE_READ_FRAME);
  g_assert_no_error (error);
  g_assert_cmpint (type, ==, AMOR_WIRE_RESULTS);
  g_assert_cmpuint (frame_size, ==, AMOR_WIRE_HEADER_SIZE + g_bytes_get_size (body));
  message = amor_wire_body_decode (type, body, &error);
  g_assert_no_error (error);
  g_variant_get (message, "(uv@axx)", &got_id, &results, &durations, &overhead);
  g_assert_cmpuint (got_id, ==, id);
  g_assert_cmpuint (g_variant_n_children (results), ==, 3);
  g_assert_cmpint (overhead, ==, 5);
}

static AmorWireReadStatus
try_read (AmorWireReader  *reader,
          int              fd,
          gsize            max_frame,
          GError         **error)
{
  g_autoptr(GBytes) body = NULL;
  guint8 type = 0;
  AmorWireReadStatus status = amor_wire_reader_read (reader, fd, max_frame, &type, &body,
                                                     NULL, error);

  g_assert_true ((status == AMOR_WIRE_READ_FRAME) == (body != NULL));
  return status;
}

/* A frame that comes a few bytes at a time is returned once whole. */
static void
test_reader_in_pieces (void)
{
  g_autoptr(AmorWireReader) reader = amor_wire_reader_new ();
  g_autoptr(GBytes) frame = results_frame (4);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (frame, &size);
  Pair pair;

  pair_open (&pair);
  g_assert_cmpint (try_read (reader, pair.ends[0], 1 << 20, NULL), ==, AMOR_WIRE_READ_AGAIN);
  /* Half the header, the rest of it and a byte of the body, the rest. */
  put (pair.ends[1], data, 4);
  g_assert_cmpint (try_read (reader, pair.ends[0], 1 << 20, NULL), ==, AMOR_WIRE_READ_AGAIN);
  put (pair.ends[1], data + 4, AMOR_WIRE_HEADER_SIZE - 4 + 1);
  g_assert_cmpint (try_read (reader, pair.ends[0], 1 << 20, NULL), ==, AMOR_WIRE_READ_AGAIN);
  put (pair.ends[1], data + AMOR_WIRE_HEADER_SIZE + 1, size - AMOR_WIRE_HEADER_SIZE - 1);
  assert_results_frame (reader, pair.ends[0], 4);
  /* And nothing after it. */
  g_assert_cmpint (try_read (reader, pair.ends[0], 1 << 20, NULL), ==, AMOR_WIRE_READ_AGAIN);
  pair_close (&pair);
}

/* Two frames written at once are read one at a time, in order. */
static void
test_reader_back_to_back (void)
{
  g_autoptr(AmorWireReader) reader = amor_wire_reader_new ();
  g_autoptr(GBytes) first = results_frame (1);
  g_autoptr(GBytes) second = results_frame (2);
  g_autoptr(GByteArray) both = g_byte_array_new ();
  Pair pair;

  g_byte_array_append (both, g_bytes_get_data (first, NULL), (guint) g_bytes_get_size (first));
  g_byte_array_append (both, g_bytes_get_data (second, NULL), (guint) g_bytes_get_size (second));
  pair_open (&pair);
  put (pair.ends[1], both->data, both->len);
  assert_results_frame (reader, pair.ends[0], 1);
  assert_results_frame (reader, pair.ends[0], 2);
  pair_close (&pair);
}

/* The end of the output: clean between frames, cut inside one. */
static void
test_reader_ends (void)
{
  g_autoptr(GBytes) frame = results_frame (3);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (frame, &size);
  const gsize cuts[] = { 0, 5, AMOR_WIRE_HEADER_SIZE, size - 1 };

  for (guint c = 0; c < G_N_ELEMENTS (cuts); c++)
    {
      g_autoptr(AmorWireReader) reader = amor_wire_reader_new ();
      g_autoptr(GError) error = NULL;
      Pair pair;

      pair_open (&pair);
      put (pair.ends[1], data, size);
      if (cuts[c] > 0)
        put (pair.ends[1], data, cuts[c]);
      close (pair.ends[1]);
      pair.ends[1] = -1;

      assert_results_frame (reader, pair.ends[0], 3);
      g_assert_cmpint (try_read (reader, pair.ends[0], 1 << 20, &error), ==, AMOR_WIRE_READ_FAILED);
      if (cuts[c] == 0)
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
      else
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
      pair_close (&pair);
    }
}

/* A frame above the maximum, or a header of no message, fails at once. */
static void
test_reader_refuses (void)
{
  g_autoptr(GBytes) frame = results_frame (9);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (frame, &size);
  guint8 garbage[AMOR_WIRE_HEADER_SIZE] = { 0, 0, 0, 1, 'Z', 0, 0, 0 };

  for (guint c = 0; c < 2; c++)
    {
      g_autoptr(AmorWireReader) reader = amor_wire_reader_new ();
      g_autoptr(GError) error = NULL;
      Pair pair;

      pair_open (&pair);
      if (c == 0)
        put (pair.ends[1], data, size);
      else
        put (pair.ends[1], garbage, sizeof garbage);
      g_assert_cmpint (try_read (reader, pair.ends[0], c == 0 ? size - AMOR_WIRE_HEADER_SIZE - 1 : 1000,
                                 &error), ==, AMOR_WIRE_READ_FAILED);
      g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
      pair_close (&pair);
    }
}

/* A frame larger than the socket takes at once goes in parts, each from
 * where the last stopped, and arrives whole. */
static void
test_send_in_parts (void)
{
  g_autoptr(AmorWireReader) reader = amor_wire_reader_new ();
  g_autofree double *values = g_new (double, 1 << 20);
  g_autoptr(GVariant) message = NULL;
  g_autoptr(GBytes) body = NULL;
  gsize total, offset = 0;
  guint n_sends = 0, n_again = 0;
  guint8 type = 0;
  Pair pair;

  for (guint i = 0; i < 1 << 20; i++)
    values[i] = i * 0.5;
  message = g_variant_ref_sink (g_variant_new ("(uv)", 12,
                                               g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values,
                                                                          1 << 20, sizeof (double))));
  total = AMOR_WIRE_HEADER_SIZE + g_variant_get_size (message);
  pair_open (&pair);

  while (body == NULL)
    {
      g_autoptr(GError) error = NULL;
      AmorWireReadStatus status;
      gsize sent = 0;

      if (offset < total)
        {
          g_assert_true (amor_wire_send_frame (pair.ends[1], AMOR_WIRE_CHUNK, message, offset,
                                               &sent, &error));
          g_assert_no_error (error);
          offset += sent;
          n_sends++;
        }
      status = amor_wire_reader_read (reader, pair.ends[0], G_MAXUINT32, &type, &body, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (status, !=, AMOR_WIRE_READ_FAILED);
      if (status == AMOR_WIRE_READ_AGAIN)
        n_again++;
    }

  /* 8 MiB do not fit in one go. */
  g_assert_cmpuint (n_sends, >, 1);
  g_assert_cmpuint (n_again, >, 0);
  g_assert_cmpuint (offset, ==, total);
  g_assert_cmpint (type, ==, AMOR_WIRE_CHUNK);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   g_variant_get_data (message), g_variant_get_size (message));
  pair_close (&pair);
}

/* A send to a worker that is gone fails (and raises no SIGPIPE). */
static void
test_send_to_closed (void)
{
  g_autoptr(GVariant) message = g_variant_ref_sink (g_variant_new ("(uv)", 1, g_variant_new_int32 (3)));
  g_autoptr(GError) error = NULL;
  gsize sent = 1;
  Pair pair;

  pair_open (&pair);
  close (pair.ends[0]);
  pair.ends[0] = -1;
  g_assert_false (amor_wire_send_frame (pair.ends[1], AMOR_WIRE_CHUNK, message, 0, &sent, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_assert_cmpuint (sent, ==, 0);
  pair_close (&pair);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/wire-reader/in-pieces", test_reader_in_pieces);
  g_test_add_func ("/wire-reader/back-to-back", test_reader_back_to_back);
  g_test_add_func ("/wire-reader/ends", test_reader_ends);
  g_test_add_func ("/wire-reader/refuses", test_reader_refuses);
  g_test_add_func ("/wire-reader/send-in-parts", test_send_in_parts);
  g_test_add_func ("/wire-reader/send-to-closed", test_send_to_closed);

  return g_test_run ();
}
