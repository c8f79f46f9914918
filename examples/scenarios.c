/* scenarios.c: the three workloads of amorsize in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three maps whose items differ in size, as real CPU work:
 *
 *  - documents of 100–5000 words: split the text into words and hash each;
 *  - images of 1–20 megapixels (pixels scaled 1:64): a luminance histogram
 *    and the mean brightness;
 *  - mixed-complexity computation, complexity 10–1000: count the
 *    inversions among that many keys, pair by pair (O(n²)).
 *
 * For each, the program times a plain loop (which also gives the expected
 * results), then runs the map with amor_executor_run(), checks that every
 * item was processed exactly once with the loop's result, and prints the
 * plan — the sampled CV, whether the work is heterogeneous, the chunk
 * reduction, the workers, the chunk size — and the measured speedup.
 *
 *   scenarios [--quick]
 */

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <amorsize/amorsize.h>

#define CORPUS_WORDS   8192      /* > the longest document */
#define PIXEL_SCALE    64        /* 1 megapixel -> 2^20 / 64 pixels */
#define PIXELS_PER_MP  ((1u << 20) / PIXEL_SCALE)

typedef struct _Scenario Scenario;

struct _Scenario
{
  const char   *title;
  const char   *items;          /* what the items are */
  guint         min_size, max_size;
  guint64       n_items;
  guint32      *sizes;          /* words, megapixels or complexity */
  guint64      *results;        /* one per item, 0 = not done */
  gint         *visits;         /* calls per item, atomic */
  AmorWorkFunc  work;

  /* Shared read-only inputs. */
  char         *text;           /* documents: the corpus */
  guint32      *word_starts;    /* documents: where each word starts */
  guint32      *pixels;         /* images: RGBA; an image is a prefix */
};

static guint32
mix32 (guint32 x)
{
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

static gboolean
done (Scenario *s,
      guint64   index,
      guint64   result)
{
  s->results[index] = result != 0 ? result : 1;
  g_atomic_int_inc (&s->visits[index]);
  return TRUE;
}

/* The work of one item. Each runs on several threads at once, for
 * different indices: it reads shared inputs and writes its own slot. */

static gboolean
document_work (guint64 index, gpointer user_data, GError **error)
{
  Scenario *s = user_data;
  guint first = mix32 ((guint32) index) % (CORPUS_WORDS - s->max_size);
  const char *p = s->text + s->word_starts[first];
  const char *end = s->text + s->word_starts[first + s->sizes[index]];
  guint64 digest = 0xcbf29ce484222325ULL;

  while (p < end)
    {
      guint32 hash = 2166136261U;

      while (p < end && !g_ascii_isalpha (*p))
        p++;
      while (p < end && g_ascii_isalpha (*p))
        hash = (hash ^ (guint8) g_ascii_tolower (*p++)) * 16777619U;
      digest = (digest ^ hash) * 0x100000001b3ULL;
    }

  return done (s, index, digest);
}

static gboolean
image_work (guint64 index, gpointer user_data, GError **error)
{
  Scenario *s = user_data;
  guint64 n_pixels = (guint64) s->sizes[index] * PIXELS_PER_MP;
  guint32 histogram[256] = { 0 };
  guint64 sum = 0, checksum = 0;

  for (guint64 i = 0; i < n_pixels; i++)
    {
      guint32 px = s->pixels[i];
      guint y = (77 * (px & 0xff) + 150 * ((px >> 8) & 0xff) + 29 * ((px >> 16) & 0xff)) >> 8;

      histogram[y]++;
      sum += y;
    }
  for (guint i = 0; i < 256; i++)
    checksum = checksum * 31 + histogram[i];

  return done (s, index, checksum ^ (sum / n_pixels));
}

static gboolean
mixed_work (guint64 index, gpointer user_data, GError **error)
{
  Scenario *s = user_data;
  guint n = s->sizes[index];
  g_autofree guint32 *keys = g_new (guint32, n);
  guint64 inversions = 0;

  for (guint i = 0; i < n; i++)
    keys[i] = mix32 ((guint32) (index * 1000 + i));
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      inversions += keys[i] > keys[j];

  return done (s, index, (inversions << 10) | n);
}

/* Building the scenarios -------------------------------------------------- */

static void
build_corpus (Scenario *s)
{
  GString *text = g_string_new (NULL);

  s->word_starts = g_new (guint32, CORPUS_WORDS + 1);
  for (guint w = 0; w < CORPUS_WORDS; w++)
    {
      guint32 r = mix32 (w + 1);

      s->word_starts[w] = (guint32) text->len;
      for (guint c = 0; c < 2 + r % 9; c++)
        g_string_append_c (text, (char) ('a' + mix32 (r + c) % 26));
      g_string_append (text, r % 8 == 0 ? ". " : " ");
    }
  s->word_starts[CORPUS_WORDS] = (guint32) text->len;
  s->text = g_string_free (text, FALSE);
}

static void
build_pixels (Scenario *s)
{
  gsize n = (gsize) s->max_size * PIXELS_PER_MP;

  s->pixels = g_new (guint32, n);
  for (gsize i = 0; i < n; i++)
    s->pixels[i] = mix32 ((guint32) i);
}

static Scenario *
scenario_new (guint    kind,
              gboolean quick)
{
  Scenario *s = g_new0 (Scenario, 1);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611 + kind);

  switch (kind)
    {
    case 0:
      s->title = "Documents";
      s->items = "documents of 100–5000 words";
      s->min_size = 100;
      s->max_size = 5000;
      s->n_items = quick ? 400 : 6000;
      s->work = document_work;
      build_corpus (s);
      break;
    case 1:
      s->title = "Images";
      s->items = "images of 1–20 megapixels (pixels scaled 1:64)";
      s->min_size = 1;
      s->max_size = 20;
      s->n_items = quick ? 200 : 2000;
      s->work = image_work;
      build_pixels (s);
      break;
    default:
      s->title = "Mixed complexity";
      s->items = "computations of complexity 10–1000 (O(n²) each)";
      s->min_size = 10;
      s->max_size = 1000;
      s->n_items = quick ? 400 : 6000;
      s->work = mixed_work;
      break;
    }

  s->sizes = g_new (guint32, s->n_items);
  s->results = g_new0 (guint64, s->n_items);
  s->visits = g_new0 (gint, s->n_items);
  for (guint64 i = 0; i < s->n_items; i++)
    s->sizes[i] = (guint32) g_rand_int_range (rand, (gint32) s->min_size,
                                              (gint32) s->max_size + 1);
  return s;
}

static void
scenario_free (Scenario *s)
{
  g_free (s->sizes);
  g_free (s->results);
  g_free (s->visits);
  g_free (s->text);
  g_free (s->word_starts);
  g_free (s->pixels);
  g_free (s);
}

static void
scenario_reset (Scenario *s)
{
  memset (s->results, 0, s->n_items * sizeof *s->results);
  memset (s->visits, 0, s->n_items * sizeof *s->visits);
}

/* Running one scenario ---------------------------------------------------- */

static void
print_plan (AmorResult *plan)
{
  double cv = amor_result_get_cv (plan);
  guint64 chunk = amor_result_get_chunk_size (plan);
  const char *items = chunk == 1 ? "item" : "items";

  g_print ("  sampled:    %u items, mean %.1f µs, CV %.2f (%s)\n",
           amor_result_get_n_samples (plan), amor_result_get_mean (plan) * 1e6, cv,
           amor_result_get_is_heterogeneous (plan) ? "heterogeneous" : "not heterogeneous");
  if (amor_result_get_chunk_factor (plan) < 1.0)
    g_print ("  chunk:      %" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT " %s (×%.2f: the CV is above 0.5)\n",
             amor_result_get_base_chunk_size (plan), chunk, items,
             amor_result_get_chunk_factor (plan));
  else
    g_print ("  chunk:      %" G_GUINT64_FORMAT " %s (not reduced: the CV is 0.5 or less)\n",
             chunk, items);
  g_print ("  workers:    %u\n", amor_result_get_n_workers (plan));
  g_print ("  reason:     %s\n", amor_result_get_reason (plan));
  g_print ("  estimated:  %.2f×\n", amor_result_get_estimated_speedup (plan));
}

static gboolean
run_scenario (Scenario  *s,
              GError   **error)
{
  g_autoptr(AmorExecutor) executor = amor_executor_new (NULL);
  g_autofree guint64 *expected = NULL;
  gint64 start;
  double serial;

  g_print ("%s: %" G_GUINT64_FORMAT " %s\n", s->title, s->n_items, s->items);

  /* The plain loop: the reference results and the time to beat. */
  start = g_get_monotonic_time ();
  for (guint64 i = 0; i < s->n_items; i++)
    s->work (i, s, NULL);
  serial = (g_get_monotonic_time () - start) / 1e6;
  expected = g_memdup2 (s->results, s->n_items * sizeof *s->results);
  scenario_reset (s);

  /* Sample, plan, and run every item exactly once. */
  if (!amor_executor_run (executor, s->n_items, s->work, s, NULL, error))
    return FALSE;

  for (guint64 i = 0; i < s->n_items; i++)
    {
      if (s->visits[i] != 1 || s->results[i] != expected[i])
        {
          g_set_error (error, AMOR_ERROR, AMOR_ERROR_FAILED,
                       "%s: item %" G_GUINT64_FORMAT " was processed %d times, %s result",
                       s->title, i, s->visits[i],
                       s->results[i] == expected[i] ? "with the right" : "with a wrong");
          return FALSE;
        }
    }

  print_plan (amor_executor_get_result (executor));
  g_print ("  measured:   %.2f× (loop %.3f s, amorsize %.3f s, sampling included)\n\n",
           serial / amor_executor_get_elapsed (executor), serial,
           amor_executor_get_elapsed (executor));
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  gboolean quick = argc > 1 && g_str_equal (argv[1], "--quick");

  setlocale (LC_ALL, "");

  if (argc > 2 || (argc == 2 && !quick))
    {
      g_printerr ("usage: scenarios [--quick]\n");
      return EXIT_FAILURE;
    }

  for (guint kind = 0; kind < 3; kind++)
    {
      Scenario *s = scenario_new (kind, quick);
      g_autoptr(GError) error = NULL;
      gboolean ok = run_scenario (s, &error);

      scenario_free (s);
      if (!ok)
        {
          g_printerr ("scenarios: %s\n", error->message);
          return EXIT_FAILURE;
        }
    }

  g_print ("Every item was processed exactly once, with the results of the loop.\n");
  return EXIT_SUCCESS;
}
