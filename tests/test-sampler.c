/* test-sampler.c: AmorSampler statistics and sampling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include <amorsize/amorsize.h>

static void
test_sampler_statistics (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();

  amor_sampler_add_duration (sampler, 1.0);
  amor_sampler_add_duration (sampler, 2.0);
  amor_sampler_add_duration (sampler, 3.0);

  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, 3);
  g_assert_cmpfloat_with_epsilon (amor_sampler_get_mean (sampler), 2.0, 1e-12);
  /* population variance: ((1-2)² + 0 + (3-2)²) / 3 = 2/3 */
  g_assert_cmpfloat_with_epsilon (amor_sampler_get_variance (sampler), 2.0 / 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (amor_sampler_get_stddev (sampler), 0.816496580927726, 1e-12);
  g_assert_cmpfloat_with_epsilon (amor_sampler_get_cv (sampler), 0.408248290463863, 1e-12);
  g_assert_cmpfloat (amor_sampler_get_min (sampler), ==, 1.0);
  g_assert_cmpfloat (amor_sampler_get_max (sampler), ==, 3.0);
  g_assert_cmpfloat_with_epsilon (amor_sampler_get_total (sampler), 6.0, 1e-12);
  g_assert_false (amor_sampler_get_is_heterogeneous (sampler));
}

static void
test_sampler_properties (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  guint n, size;
  double mean, cv;
  gboolean het;

  amor_sampler_add_duration (sampler, 0.001);
  amor_sampler_add_duration (sampler, 0.003);
  g_object_get (sampler, "n-samples", &n, "mean", &mean, "cv", &cv,
                "is-heterogeneous", &het, "sample-size", &size, NULL);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpfloat_with_epsilon (mean, 0.002, 1e-15);
  g_assert_cmpfloat_with_epsilon (cv, 0.5, 1e-12);
  g_assert_false (het);   /* CV 0.5 is not above 0.5 */
  g_assert_cmpuint (size, ==, 5);

  amor_sampler_add_duration (sampler, 0.0);
  g_assert_true (amor_sampler_get_is_heterogeneous (sampler));
}

static void
test_sampler_degenerate (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();

  /* no samples: everything 0, never NaN */
  g_assert_cmpfloat (amor_sampler_get_mean (sampler), ==, 0.0);
  g_assert_cmpfloat (amor_sampler_get_cv (sampler), ==, 0.0);
  g_assert_cmpfloat (amor_sampler_get_variance (sampler), ==, 0.0);

  /* one sample: CV 0 */
  amor_sampler_add_duration (sampler, 0.5);
  g_assert_cmpfloat (amor_sampler_get_cv (sampler), ==, 0.0);
  g_assert_cmpfloat (amor_sampler_get_variance (sampler), ==, 0.0);

  /* mean 0: CV 0 */
  amor_sampler_reset (sampler);
  amor_sampler_add_duration (sampler, 0.0);
  amor_sampler_add_duration (sampler, 0.0);
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, 2);
  g_assert_cmpfloat (amor_sampler_get_cv (sampler), ==, 0.0);
  g_assert_false (isnan (amor_sampler_get_stddev (sampler)));
}

static void
test_sampler_bad_durations (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*seconds >= 0.0*");
  amor_sampler_add_duration (sampler, -1.0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*isfinite*");
  amor_sampler_add_duration (sampler, NAN);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*isfinite*");
  amor_sampler_add_duration (sampler, INFINITY);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, 0);

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*sample_size >= 1*");
  amor_sampler_set_sample_size (sampler, 0);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (amor_sampler_get_sample_size (sampler), ==, 5);
}

typedef struct
{
  guint64  n_items;
  guint   *calls;        /* per index */
  guint64  fail_at;      /* G_MAXUINT64: never */
  gboolean fail_silently;
  guint    total_calls;
} Work;

static gboolean
counting_work (guint64   index,
               gpointer  user_data,
               GError  **error)
{
  Work *w = user_data;

  g_assert_cmpuint (index, <, w->n_items);
  w->calls[index]++;
  w->total_calls++;
  if (index == w->fail_at)
    {
      if (w->fail_silently)
        return FALSE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad item");
      return FALSE;
    }
  return TRUE;
}

static void
work_init (Work *w, guint64 n_items)
{
  w->n_items = n_items;
  w->calls = g_new0 (guint, MAX (1, n_items));
  w->fail_at = G_MAXUINT64;
  w->fail_silently = FALSE;
  w->total_calls = 0;
}

static void
test_sampler_run_spread (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  g_autoptr(GError) error = NULL;
  const guint64 *indices;
  gsize n_indices;
  Work w;

  /* A million items: 2 % of their estimated time is far more than the
   * base sample takes, however slowly it runs (valgrind). */
  work_init (&w, 1000000);
  g_assert_true (amor_sampler_run (sampler, 1000000, counting_work, &w, &error));
  g_assert_no_error (error);

  indices = amor_sampler_get_sampled_indices (sampler, &n_indices);
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, n_indices);
  g_assert_cmpuint (n_indices, >=, 5);
  g_assert_cmpuint (w.total_calls, ==, n_indices);

  /* sorted, unique, each run exactly once, spread over the range */
  for (gsize i = 0; i < n_indices; i++)
    {
      g_assert_cmpuint (w.calls[indices[i]], ==, 1);
      if (i > 0)
        g_assert_cmpuint (indices[i - 1], <, indices[i]);
      g_assert_true (amor_sampler_was_sampled (sampler, indices[i]));
    }
  g_assert_cmpuint (indices[0], <, 250000);
  g_assert_cmpuint (indices[n_indices - 1], >=, 750000);
  g_assert_false (amor_sampler_was_sampled (sampler, 1));

  g_free (w.calls);
}

static void
test_sampler_run_small (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  g_autoptr(GError) error = NULL;
  gsize n_indices;
  Work w;

  /* fewer items than the sample size: at most every item, each once (the
   * sampling budget may stop at two when the machine runs them slowly) */
  work_init (&w, 3);
  g_assert_true (amor_sampler_run (sampler, 3, counting_work, &w, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), >=, 2);
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), <=, 3);
  g_assert_cmpuint (w.total_calls, ==, amor_sampler_get_n_samples (sampler));
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (w.calls[i], <=, 1);
  g_free (w.calls);

  /* no items: nothing runs */
  amor_sampler_reset (sampler);
  work_init (&w, 0);
  g_assert_true (amor_sampler_run (sampler, 0, counting_work, &w, &error));
  g_assert_cmpuint (w.total_calls, ==, 0);
  g_assert_null (amor_sampler_get_sampled_indices (sampler, &n_indices));
  g_assert_cmpuint (n_indices, ==, 0);
  g_free (w.calls);
}

static void
test_sampler_run_error (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  g_autoptr(GError) error = NULL;
  Work w;

  /* the first sampled index is the middle one */
  work_init (&w, 1000);
  w.fail_at = 500;
  g_assert_false (amor_sampler_run (sampler, 1000, counting_work, &w, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, "Item 500: bad item");
  g_assert_cmpuint (w.total_calls, ==, 1);
  g_assert_true (amor_sampler_was_sampled (sampler, 500));
  g_clear_error (&error);
  g_free (w.calls);

  /* FALSE without an error is an error too */
  amor_sampler_reset (sampler);
  work_init (&w, 1000);
  w.fail_at = 500;
  w.fail_silently = TRUE;
  g_assert_false (amor_sampler_run (sampler, 1000, counting_work, &w, &error));
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_WORK_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Item 500: "));
  g_assert_nonnull (strstr (error->message, "without setting an error"));
  g_free (w.calls);
}

/* Items of very different cost: about half the items (chosen by a hash of
 * the index) return at once, the others sleep 2 ms. The CV of such a sample is near 1 however loaded the machine
 * is, so the sampler must grow the sample. */
static gboolean
bimodal_work (guint64   index,
              gpointer  user_data,
              GError  **error)
{
  guint *calls = user_data;

  (*calls)++;
  if (((index * G_GUINT64_CONSTANT (2654435761)) >> 7) & 1)
    g_usleep (2000);
  return TRUE;
}

static void
test_sampler_grows_when_heterogeneous (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  g_autoptr(GError) error = NULL;
  guint calls = 0;

  amor_sampler_set_max_sample_size (sampler, 12);
  amor_sampler_set_time_budget (sampler, 60.0);
  g_assert_true (amor_sampler_run (sampler, 10000, bimodal_work, &calls, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (amor_sampler_get_cv (sampler), >, 0.5);
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, 12);
  g_assert_cmpuint (calls, ==, 12);
}

static void
test_sampler_time_budget (void)
{
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();
  g_autoptr(GError) error = NULL;
  guint calls = 0;

  /* a budget of 0 is spent at once: two samples and no more */
  amor_sampler_set_time_budget (sampler, 0.0);
  g_assert_true (amor_sampler_run (sampler, 10000, bimodal_work, &calls, &error));
  g_assert_cmpuint (amor_sampler_get_n_samples (sampler), ==, 2);
  g_assert_cmpuint (calls, ==, 2);
}

static void
test_sampler_null (void)
{
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*AMOR_IS_SAMPLER*");
  g_assert_false (amor_sampler_run (NULL, 10, bimodal_work, NULL, &error));
  g_test_assert_expected_messages ();

  {
    g_autoptr(AmorSampler) sampler = amor_sampler_new ();
    g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
    g_assert_false (amor_sampler_run (sampler, 10, NULL, NULL, &error));
    g_test_assert_expected_messages ();
  }
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sampler/statistics", test_sampler_statistics);
  g_test_add_func ("/sampler/properties", test_sampler_properties);
  g_test_add_func ("/sampler/degenerate", test_sampler_degenerate);
  g_test_add_func ("/sampler/bad-durations", test_sampler_bad_durations);
  g_test_add_func ("/sampler/run/spread", test_sampler_run_spread);
  g_test_add_func ("/sampler/run/small", test_sampler_run_small);
  g_test_add_func ("/sampler/run/error", test_sampler_run_error);
  g_test_add_func ("/sampler/run/grows", test_sampler_grows_when_heterogeneous);
  g_test_add_func ("/sampler/run/time-budget", test_sampler_time_budget);
  g_test_add_func ("/sampler/null", test_sampler_null);

  return g_test_run ();
}
