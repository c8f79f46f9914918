/* amor-demo-work.c: the workloads of `amorsize demo`
 *
 * Three maps whose items differ in size, as real CPU work:
 *
 * - documents of 100–5000 words: tokenise the text of the document
 *   (split on non-letters, lower-case) and hash every word;
 * - images of 1–20 megapixels, scaled down 1:PIXEL_SCALE so the demo takes
 *   seconds: a luminance histogram over the image's pixels, then the Otsu
 *   threshold of that histogram;
 * - mixed complexity 10–1000: count the inversions among n pseudo-random
 *   keys with the O(n²) pairwise loop, so the cost grows with the square of
 *   the size.
 *
 * Sizes are drawn from a fixed seed, so every run sees the same items, and
 * the inputs (text, pixels, keys) are generated, so nothing is read from
 * disk.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "amor-demo-work.h"

#include <string.h>

/* Item counts of the full demo, chosen for ~0.3–1 s of serial work per
 * scenario on a current 2-core machine; --quick divides them by 10. */
#define DOCUMENTS_N_ITEMS   6000
#define IMAGES_N_ITEMS      4000
#define MIXED_N_ITEMS       6000

#define CORPUS_N_WORDS     16384   /* > the largest document */
#define PIXEL_SCALE          128   /* 1 megapixel -> 2^20 / 128 pixels */
#define PIXELS_PER_MP   ((1u << 20) / PIXEL_SCALE)

static inline guint32
mix32 (guint32 x)
{
  /* A well-mixing integer hash (lowbias32). */
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

static inline guint64
nonzero (guint64 checksum)
{
  return checksum != 0 ? checksum : 1;
}

static void
record (AmorDemoWorkload *workload,
        guint64           index,
        guint64           checksum)
{
  workload->results[index] = nonzero (checksum);
  g_atomic_int_inc ((gint *) &workload->visits[index]);
}

/* Documents --------------------------------------------------------------- */

static void
build_corpus (AmorDemoWorkload *workload)
{
  static const char punctuation[] = { ' ', ' ', ' ', ' ', ' ', ' ', ',', '.' };
  GString *text = g_string_sized_new (CORPUS_N_WORDS * 8);
  guint32 state = 0x9e3779b9U;

  workload->word_starts = g_new (guint32, CORPUS_N_WORDS + 1);
  for (guint w = 0; w < CORPUS_N_WORDS; w++)
    {
      guint len;

      state = mix32 (state + w);
      len = 2 + state % 9;
      workload->word_starts[w] = (guint32) text->len;
      for (guint c = 0; c < len; c++)
        {
          guint32 r = mix32 (state ^ (c * 0x27d4eb2dU));
          char letter = (char) ('a' + r % 26);

          if (c == 0 && r % 7 == 0)
            letter = g_ascii_toupper (letter);
          g_string_append_c (text, letter);
        }
      g_string_append_c (text, punctuation[(state >> 8) % G_N_ELEMENTS (punctuation)]);
      if ((state >> 8) % G_N_ELEMENTS (punctuation) >= 6)
        g_string_append_c (text, ' ');
    }
  workload->word_starts[CORPUS_N_WORDS] = (guint32) text->len;
  workload->text = g_string_free (text, FALSE);
}

static gboolean
document_work (guint64    index,
               gpointer   user_data,
               GError   **error)
{
  AmorDemoWorkload *workload = user_data;
  guint n_words = workload->sizes[index];
  guint first = mix32 ((guint32) index) % (CORPUS_N_WORDS - workload->max_size);
  const char *p = workload->text + workload->word_starts[first];
  const char *end = workload->text + workload->word_starts[first + n_words];
  guint64 digest = 0xcbf29ce484222325ULL;
  guint64 n_tokens = 0;

  while (p < end)
    {
      guint32 hash = 2166136261U;

      while (p < end && !g_ascii_isalpha (*p))
        p++;
      if (p == end)
        break;
      while (p < end && g_ascii_isalpha (*p))
        {
          hash = (hash ^ (guint8) g_ascii_tolower (*p)) * 16777619U;
          p++;
        }
      digest = (digest ^ hash) * 0x100000001b3ULL;
      n_tokens++;
    }

  record (workload, index, digest ^ n_tokens);
  return TRUE;
}

/* Images ------------------------------------------------------------------ */

static void
build_pixels (AmorDemoWorkload *workload)
{
  gsize n = (gsize) workload->max_size * PIXELS_PER_MP;
  guint32 state = 0x12345678U;

  workload->pixels = g_new (guint32, n);
  for (gsize i = 0; i < n; i++)
    {
      /* xorshift32 */
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      workload->pixels[i] = state;
    }
}

static guint
otsu_threshold (const guint32 histogram[256],
                guint64       total)
{
  double sum = 0, sum_background = 0, best = -1;
  guint64 weight_background = 0;
  guint threshold = 0;

  for (guint i = 0; i < 256; i++)
    sum += (double) i * histogram[i];

  for (guint t = 0; t < 256; t++)
    {
      guint64 weight_foreground;
      double mean_background, mean_foreground, between;

      weight_background += histogram[t];
      if (weight_background == 0)
        continue;
      weight_foreground = total - weight_background;
      if (weight_foreground == 0)
        break;
      sum_background += (double) t * histogram[t];
      mean_background = sum_background / weight_background;
      mean_foreground = (sum - sum_background) / weight_foreground;
      between = (double) weight_background * weight_foreground *
                (mean_background - mean_foreground) * (mean_background - mean_foreground);
      if (between > best)
        {
          best = between;
          threshold = t;
        }
    }

  return threshold;
}

static gboolean
image_work (guint64    index,
            gpointer   user_data,
            GError   **error)
{
  AmorDemoWorkload *workload = user_data;
  guint64 n_pixels = (guint64) workload->sizes[index] * PIXELS_PER_MP;
  guint32 histogram[256] = { 0 };
  guint64 luminance_sum = 0;

  for (guint64 i = 0; i < n_pixels; i++)
    {
      guint32 px = workload->pixels[i];
      guint r = px & 0xff, g = (px >> 8) & 0xff, b = (px >> 16) & 0xff;
      guint y = (77 * r + 150 * g + 29 * b) >> 8;

      histogram[y]++;
      luminance_sum += y;
    }

  record (workload, index,
          (luminance_sum << 8) ^ otsu_threshold (histogram, n_pixels));
  return TRUE;
}

/* Mixed complexity -------------------------------------------------------- */

static gboolean
mixed_work (guint64    index,
            gpointer   user_data,
            GError   **error)
{
  AmorDemoWorkload *workload = user_data;
  guint n = workload->sizes[index];
  guint32 *keys = g_newa (guint32, n);
  guint64 inversions = 0;

  for (guint i = 0; i < n; i++)
    keys[i] = mix32 ((guint32) (index * 1000 + i));

  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      inversions += keys[i] > keys[j];

  record (workload, index, (inversions << 10) ^ n);
  return TRUE;
}

/* Workloads --------------------------------------------------------------- */

AmorDemoWorkload *
amor_demo_workload_new (AmorDemoWorkloadKind kind,
                        guint                scale)
{
  AmorDemoWorkload *workload;
  GRand *rand;

  g_return_val_if_fail (kind < AMOR_DEMO_N_WORKLOADS, NULL);
  g_return_val_if_fail (scale > 0, NULL);

  workload = g_new0 (AmorDemoWorkload, 1);
  switch (kind)
    {
    case AMOR_DEMO_DOCUMENTS:
      workload->name = "documents";
      workload->title = "Documents";
      workload->description = "tokenise and hash every word of a document";
      workload->items = "documents of 100–5000 words";
      workload->min_size = 100;
      workload->max_size = 5000;
      workload->n_items = DOCUMENTS_N_ITEMS / scale;
      workload->func = document_work;
      build_corpus (workload);
      break;

    case AMOR_DEMO_IMAGES:
      workload->name = "images";
      workload->title = "Images";
      workload->description = "luminance histogram and Otsu threshold of an image (pixels scaled 1:"
                              G_STRINGIFY (PIXEL_SCALE) ")";
      workload->items = "images of 1–20 megapixels";
      workload->min_size = 1;
      workload->max_size = 20;
      workload->n_items = IMAGES_N_ITEMS / scale;
      workload->func = image_work;
      build_pixels (workload);
      break;

    case AMOR_DEMO_MIXED:
      workload->name = "mixed";
      workload->title = "Mixed complexity";
      workload->description = "count the inversions among n keys, pair by pair (O(n²))";
      workload->items = "tasks of complexity 10–1000 (n keys)";
      workload->min_size = 10;
      workload->max_size = 1000;
      workload->n_items = MIXED_N_ITEMS / scale;
      workload->func = mixed_work;
      break;

    case AMOR_DEMO_N_WORKLOADS:
    default:
      g_assert_not_reached ();
    }

  workload->sizes = g_new (guint32, workload->n_items);
  workload->results = g_new0 (guint64, workload->n_items);
  workload->visits = g_new0 (guint, workload->n_items);

  /* Scenario-specific seed, the same for the full and the quick demo. */
  rand = g_rand_new_with_seed (20240611 + kind);
  for (guint64 i = 0; i < workload->n_items; i++)
    workload->sizes[i] = (guint32) g_rand_int_range (rand,
                                                     (gint32) workload->min_size,
                                                     (gint32) workload->max_size + 1);
  g_rand_free (rand);

  return workload;
}

void
amor_demo_workload_free (AmorDemoWorkload *workload)
{
  if (workload == NULL)
    return;

  g_free (workload->sizes);
  g_free (workload->results);
  g_free (workload->visits);
  g_free (workload->text);
  g_free (workload->word_starts);
  g_free (workload->pixels);
  g_free (workload);
}

void
amor_demo_workload_reset (AmorDemoWorkload *workload)
{
  memset (workload->results, 0, workload->n_items * sizeof (guint64));
  memset (workload->visits, 0, workload->n_items * sizeof (guint));
}

guint64 *
amor_demo_workload_dup_results (AmorDemoWorkload *workload)
{
  return g_memdup2 (workload->results, workload->n_items * sizeof (guint64));
}

gboolean
amor_demo_workload_check (AmorDemoWorkload  *workload,
                          const guint64     *expected,
                          GError           **error)
{
  for (guint64 i = 0; i < workload->n_items; i++)
    {
      if (workload->visits[i] != 1)
        {
          g_set_error (error, AMOR_ERROR, AMOR_ERROR_FAILED,
                       "%s: item %" G_GUINT64_FORMAT " was processed %u times instead of once",
                       workload->name, i, workload->visits[i]);
          return FALSE;
        }
      if (workload->results[i] != expected[i])
        {
          g_set_error (error, AMOR_ERROR, AMOR_ERROR_FAILED,
                       "%s: item %" G_GUINT64_FORMAT " has a different result than in the serial loop",
                       workload->name, i);
          return FALSE;
        }
    }

  return TRUE;
}
