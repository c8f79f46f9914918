/* fuzz-wire.c: libFuzzer target for the process workers' messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The first byte chooses the side; the rest is a byte stream as it would
 * arrive on a pipe:
 *
 *  even: a worker's standard input, served by amor_worker_serve() with a
 *        callback that echoes each item (and fails on a few kinds of item,
 *        so the error answer is written too);
 *  odd:  a worker's output as the pool reads it: frames read with
 *        amor_wire_reader_read(), bodies decoded with
 *        amor_wire_body_decode() and unpacked as the pool unpacks them.
 *
 * Neither side may crash, leak, hang or pass garbage on as data: every
 * stream ends in a clean end or an error that says what was wrong.
 */

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <amorsize/amorsize.h>

#include "amorsize/amor-wire-private.h"
#include "amorsize/amor-wire-reader-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* The worker side */

static GVariant *
echo_item (GVariant  *item,
           gpointer   user_data,
           GError   **error)
{
  guint *n_items = user_data;

  (*n_items)++;

  if (g_variant_is_of_type (item, G_VARIANT_TYPE_STRING) &&
      g_str_equal (g_variant_get_string (item, NULL), "fail"))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "asked to fail");
      return NULL;
    }
  if (g_variant_is_of_type (item, G_VARIANT_TYPE_BOOLEAN) && !g_variant_get_boolean (item))
    return NULL;   /* FALSE without an error, as a Python exception looks */

  return g_variant_ref (item);
}

static void
fuzz_worker (const uint8_t *data,
             size_t         size)
{
  static int saved_stdin = -1, saved_stdout = -1;
  g_autoptr(GError) error = NULL;
  guint n_items = 0;
  gboolean ok;
  int input, output;

  if (saved_stdin < 0)
    {
      saved_stdin = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
      saved_stdout = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
      g_assert_cmpint (saved_stdin, >=, 0);
      g_assert_cmpint (saved_stdout, >=, 0);
    }

  /* Standard input: the bytes, from a memory file (a pipe would fill up). */
  input = memfd_create ("fuzz-wire-input", MFD_CLOEXEC);
  g_assert_cmpint (input, >=, 0);
  g_assert_cmpint (write (input, data, size), ==, (ssize_t) size);
  g_assert_cmpint (lseek (input, 0, SEEK_SET), ==, 0);
  output = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  g_assert_cmpint (output, >=, 0);
  g_assert_cmpint (dup2 (input, STDIN_FILENO), ==, STDIN_FILENO);
  g_assert_cmpint (dup2 (output, STDOUT_FILENO), ==, STDOUT_FILENO);
  close (input);
  close (output);

  ok = amor_worker_serve (echo_item, &n_items, &error);
  if (ok)
    g_assert_no_error (error);
  else
    {
      g_assert_nonnull (error);
      g_assert_cmpuint (strlen (error->message), >, 0);
    }

  g_assert_cmpint (dup2 (saved_stdin, STDIN_FILENO), ==, STDIN_FILENO);
  g_assert_cmpint (dup2 (saved_stdout, STDOUT_FILENO), ==, STDOUT_FILENO);
}

/* The pool side */

static void
unpack_message (guint8    type,
                GVariant *message)
{
  switch (type)
    {
    case AMOR_WIRE_HELLO:
      {
        g_autoptr(GError) error = NULL;

        if (!amor_wire_hello_check (message, &error))
          g_assert_true (error->domain == AMOR_ERROR);
      }
      break;

    case AMOR_WIRE_CHUNK:
      {
        g_autoptr(GVariant) items = NULL;
        guint32 id;

        g_variant_get (message, "(uv)", &id, &items);
        if (g_variant_is_of_type (items, G_VARIANT_TYPE_ARRAY))
          for (gsize i = 0; i < g_variant_n_children (items); i++)
            {
              g_autoptr(GVariant) item = amor_wire_array_get (items, i);

              g_assert_nonnull (item);
            }
      }
      break;

    case AMOR_WIRE_RESULTS:
      {
        g_autoptr(GVariant) results = NULL;
        g_autoptr(GVariant) durations = NULL;
        const gint64 *ns;
        gsize n_ns = 0;
        gint64 overhead;
        guint32 id;

        g_variant_get (message, "(uv@axx)", &id, &results, &durations, &overhead);
        ns = g_variant_get_fixed_array (durations, &n_ns, sizeof (gint64));
        g_assert_true (n_ns == 0 || ns != NULL);
        if (g_variant_is_of_type (results, G_VARIANT_TYPE_ARRAY))
          for (gsize i = 0; i < g_variant_n_children (results); i++)
            {
              g_autoptr(GVariant) value = amor_wire_array_get (results, i);

              g_assert_nonnull (value);
            }
      }
      break;

    case AMOR_WIRE_ERROR:
      {
        const char *domain, *text;
        guint32 id, position;
        gint32 code;

        g_variant_get (message, "(uu&si&s)", &id, &position, &domain, &code, &text);
        g_assert_true (g_utf8_validate (text, -1, NULL));
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
fuzz_pool (const uint8_t *data,
           size_t         size)
{
  g_autoptr(AmorWireReader) reader = amor_wire_reader_new ();
  gsize consumed = 0;
  int input;

  /* The bytes, from a memory file (a pipe would fill up). */
  input = memfd_create ("fuzz-wire-output", MFD_CLOEXEC);
  g_assert_cmpint (input, >=, 0);
  g_assert_cmpint (write (input, data, size), ==, (ssize_t) size);
  g_assert_cmpint (lseek (input, 0, SEEK_SET), ==, 0);

  for (;;)
    {
      g_autoptr(GVariant) message = NULL;
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GError) error = NULL;
      AmorWireReadStatus status;
      gsize frame_size = 0;
      guint8 type = 0;

      status = amor_wire_reader_read (reader, input, 1 << 20, &type, &body, &frame_size, &error);
      /* A file has all its bytes at once. */
      g_assert_cmpint (status, !=, AMOR_WIRE_READ_AGAIN);

      if (status == AMOR_WIRE_READ_FAILED)
        {
          g_assert_null (body);
          g_assert_nonnull (error);
          g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
                         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
                         g_error_matches (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA));
          /* A clean end only where a frame would start. */
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
            g_assert_cmpuint (consumed, ==, size);
          break;
        }

      g_assert_no_error (error);
      g_assert_cmpuint (frame_size, ==, AMOR_WIRE_HEADER_SIZE + g_bytes_get_size (body));
      consumed += frame_size;
      g_assert_cmpuint (consumed, <=, size);

      message = amor_wire_body_decode (type, body, &error);
      if (message == NULL)
        {
          g_assert_true (g_error_matches (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA));
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (g_variant_is_of_type (message, amor_wire_body_type (type)));
      unpack_message (type, message);
    }

  close (input);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size < 1)
    return 0;

  if (data[0] % 2 == 0)
    fuzz_worker (data + 1, size - 1);
  else
    fuzz_pool (data + 1, size - 1);

  return 0;
}
