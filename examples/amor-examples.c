/* amor-examples.c: a work function in C for the JavaScript examples and tests
 *
 * GJS runs a JavaScript function only on its own thread, so a JavaScript
 * work callback cannot run on the executor's worker threads, and a
 * JavaScript program cannot pass a C function pointer. This small library
 * (namespace AmorExamples) lets JavaScript start a parallel map whose work
 * is in C: item i hashes (SHA-256) a block of pseudo-random bytes seeded
 * by i, and the run's result is the SHA-256 of every item's digest in index
 * order. JavaScript awaits it and watches AmorExecutor:completed meanwhile.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "amor-examples.h"

#define BLOCK_SIZE   (16 * 1024)
#define DIGEST_SIZE  32

/* One run: a digest and a call count per item. Reference counted (GRcBox):
 * the executor holds one reference until the run is over, the task one. */
typedef struct
{
  guint64  n_items;
  guint8  *digests;   /* n_items × DIGEST_SIZE */
  gint    *visits;    /* calls per item, atomic */
} Checksums;

static void
checksums_clear (gpointer data)
{
  Checksums *self = data;

  g_free (self->digests);
  g_free (self->visits);
}

static Checksums *
checksums_new (guint64 n_items)
{
  Checksums *self = g_rc_box_new0 (Checksums);

  self->n_items = n_items;
  self->digests = g_malloc0_n (MAX (n_items, 1), DIGEST_SIZE);
  self->visits = g_new0 (gint, MAX (n_items, 1));
  return self;
}

static void
checksums_release (gpointer data)
{
  g_rc_box_release_full (data, checksums_clear);
}

/* The digest of item @index: SHA-256 of BLOCK_SIZE bytes of xorshift32
 * output seeded by the index. */
static void
digest_item (guint64 index,
             guint8  digest[DIGEST_SIZE])
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint32 block[BLOCK_SIZE / sizeof (guint32)];
  guint32 state = (guint32) index * 2654435761u + 1;
  gsize len = DIGEST_SIZE;

  for (gsize i = 0; i < G_N_ELEMENTS (block); i++)
    {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      block[i] = state;
    }

  g_checksum_update (checksum, (const guchar *) block, sizeof block);
  g_checksum_get_digest (checksum, digest, &len);
}

/* An AmorWorkFunc: runs on several threads at once, for different indices,
 * and writes only to its own item. */
static gboolean
checksum_work (guint64   index,
               gpointer  user_data,
               GError  **error)
{
  Checksums *self = user_data;

  digest_item (index, self->digests + index * DIGEST_SIZE);
  g_atomic_int_inc (&self->visits[index]);
  return TRUE;
}

static char *
combine (const guint8 *digests,
         guint64       n_items)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, digests, n_items * DIGEST_SIZE);
}

static void
on_run_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Checksums *self = g_task_get_task_data (task);
  GError *error = NULL;

  if (!amor_executor_run_finish (AMOR_EXECUTOR (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  for (guint64 i = 0; i < self->n_items; i++)
    {
      if (g_atomic_int_get (&self->visits[i]) != 1)
        {
          g_task_return_new_error (task, AMOR_ERROR, AMOR_ERROR_FAILED,
                                   "Item %" G_GUINT64_FORMAT " was processed %d times",
                                   i, g_atomic_int_get (&self->visits[i]));
          return;
        }
    }

  g_task_return_pointer (task, combine (self->digests, self->n_items), g_free);
}

/**
 * amor_examples_run_checksum_async:
 * @executor: the executor to run the map with
 * @n_items: the number of items
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async) (nullable) (closure user_data): called when the
 *   run is over
 * @user_data: data for @callback
 *
 * Runs a map of @n_items items whose work is in C with
 * amor_executor_run_async(): item i hashes a block of pseudo-random bytes
 * seeded by i. The run samples, plans and runs on worker threads; @executor
 * notifies [property@Amor.Executor:completed] on the caller's main context
 * as it goes. Call amor_examples_run_checksum_finish() from @callback.
 */
void
amor_examples_run_checksum_async (AmorExecutor        *executor,
                                  guint64              n_items,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GTask *task;
  Checksums *checksums;

  g_return_if_fail (AMOR_IS_EXECUTOR (executor));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  checksums = checksums_new (n_items);
  task = g_task_new (executor, cancellable, callback, user_data);
  g_task_set_source_tag (task, amor_examples_run_checksum_async);
  g_task_set_task_data (task, g_rc_box_acquire (checksums), checksums_release);

  amor_executor_run_async (executor, n_items, checksum_work, checksums, checksums_release,
                           cancellable, on_run_done, task);
}

/**
 * amor_examples_run_checksum_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes amor_examples_run_checksum_async(). It fails with the error of
 * the run, or when an item was not processed exactly once.
 *
 * Returns: (transfer full): the SHA-256, in hexadecimal, of the digests of
 *   every item in index order; equal to amor_examples_checksum_expected()
 */
char *
amor_examples_run_checksum_finish (GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        amor_examples_run_checksum_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * amor_examples_checksum_expected:
 * @n_items: the number of items
 *
 * Computes, with a plain loop on the calling thread, what
 * amor_examples_run_checksum_finish() returns for @n_items items.
 *
 * Returns: (transfer full): the SHA-256, in hexadecimal, of the digests of
 *   every item in index order
 */
char *
amor_examples_checksum_expected (guint64 n_items)
{
  g_autofree guint8 *digests = g_malloc0_n (MAX (n_items, 1), DIGEST_SIZE);

  for (guint64 i = 0; i < n_items; i++)
    digest_item (i, digests + i * DIGEST_SIZE);

  return combine (digests, n_items);
}

/**
 * amor_examples_get_block_size:
 *
 * The number of bytes each item hashes.
 *
 * Returns: the block size, in bytes
 */
gsize
amor_examples_get_block_size (void)
{
  return BLOCK_SIZE;
}
