/* progress.c: a progress line for a map run with amor_executor_run_async()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Hashes N blocks of pseudo-random data (SHA-256, 64 KiB each) while the
 * main loop draws a progress line from AmorExecutor:completed. The work
 * runs on worker threads; the notifications, the final callback and the
 * freeing of the work data happen on this thread's main context, so the
 * progress handler needs no locking.
 *
 *   progress [N_ITEMS]
 */

#include <stdio.h>
#include <stdlib.h>

#include <amorsize/amorsize.h>

#define BLOCK_SIZE (64 * 1024)
#define BAR_WIDTH  40

/* Reference counted (GRcBox): the run holds one reference until it is
 * over, main() another. */
typedef struct
{
  guint64    n_items;
  char     **digests;   /* digests[i]: SHA-256 of block i */
} HashMap;

static void
hash_map_clear (gpointer data)
{
  HashMap *map = data;

  for (guint64 i = 0; i < map->n_items; i++)
    g_free (map->digests[i]);
  g_free (map->digests);
}

static void
hash_map_release (gpointer data)
{
  g_rc_box_release_full (data, hash_map_clear);
}

/* The work of one item; runs on several threads at once, for different
 * indices, so it writes only to its own slot. */
static gboolean
hash_block (guint64   index,
            gpointer  user_data,
            GError  **error)
{
  HashMap *map = user_data;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint32 *block = g_new (guint32, BLOCK_SIZE / sizeof (guint32));
  guint32 state = (guint32) index * 2654435761u + 1;

  /* xorshift32, seeded by the index: the same block on every run. */
  for (gsize i = 0; i < BLOCK_SIZE / sizeof (guint32); i++)
    {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      block[i] = state;
    }

  g_checksum_update (checksum, (const guchar *) block, BLOCK_SIZE);
  map->digests[index] = g_strdup (g_checksum_get_string (checksum));
  return TRUE;
}

/* On the main context, at most about 30 times a second. */
static void
on_completed (AmorExecutor *executor,
              GParamSpec   *pspec,
              gpointer      user_data)
{
  guint64 completed = amor_executor_get_completed (executor);
  guint64 n_items = amor_executor_get_n_items (executor);
  double fraction = n_items > 0 ? (double) completed / (double) n_items : 1.0;
  int filled = (int) (fraction * BAR_WIDTH);

  g_print ("\r[%.*s%*s] %3d%%  %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
           filled, "########################################",
           BAR_WIDTH - filled, "", (int) (fraction * 100), completed, n_items);
  fflush (stdout);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AmorExecutor *executor = AMOR_EXECUTOR (source);
  GMainLoop *loop = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *explanation = NULL;

  g_print ("\n");

  if (!amor_executor_run_finish (executor, result, &error))
    {
      g_printerr ("progress: %s\n", error->message);
      g_main_loop_quit (loop);
      return;
    }

  explanation = amor_result_explain (amor_executor_get_result (executor));
  g_print ("%s\n", explanation);
  g_print ("done in %.3f s: %.2f× faster than a loop\n",
           amor_executor_get_elapsed (executor),
           amor_executor_get_measured_speedup (executor));

  g_main_loop_quit (loop);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(AmorExecutor) executor = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  guint64 n_items = 2000;
  HashMap *map;
  int status = EXIT_SUCCESS;

  if (argc > 1)
    {
      g_autoptr(GError) error = NULL;

      if (!g_ascii_string_to_unsigned (argv[1], 10, 1, G_MAXUINT32, &n_items, &error))
        {
          g_printerr ("usage: progress [N_ITEMS]\n%s\n", error->message);
          return EXIT_FAILURE;
        }
    }

  loop = g_main_loop_new (NULL, FALSE);

  map = g_rc_box_new0 (HashMap);
  map->n_items = n_items;
  map->digests = g_new0 (char *, n_items);

  executor = amor_executor_new (NULL);
  g_signal_connect (executor, "notify::completed", G_CALLBACK (on_completed), NULL);

  /* The run's reference is released on this thread once the run is over,
   * before on_done() is called. */
  amor_executor_run_async (executor, n_items, hash_block, g_rc_box_acquire (map),
                           hash_map_release, NULL, on_done, loop);
  g_main_loop_run (loop);

  if (amor_executor_get_completed (executor) == n_items)
    g_print ("block 0: %s\nblock %" G_GUINT64_FORMAT ": %s\n",
             map->digests[0], n_items - 1, map->digests[n_items - 1]);
  else
    status = EXIT_FAILURE;

  hash_map_release (map);
  return status;
}
