/* test-profile.c: AmorProfile, what items cost along the input
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include <glib.h>

#include "amorsize/amor-profile-private.h"

#define N 1000
#define MS 1e-3

/* 2 ms at the front, falling to 0 at the back. */
static double
linear_down (guint64 i)
{
  return 2 * MS * (double) (N - 1 - i) / (N - 1);
}

/* The mean of linear_down() over [first, end). */
static double
linear_down_mean (guint64 first,
                  guint64 end)
{
  double sum = 0.0;

  for (guint64 i = first; i < end; i++)
    sum += linear_down (i);
  return sum / (double) (end - first);
}

static void
test_profile_empty (void)
{
  g_autoptr(AmorProfile) profile = amor_profile_new (N);

  g_assert_cmpfloat (amor_profile_get_mean (profile), ==, 0.0);
  g_assert_cmpfloat (amor_profile_get_trend (profile), ==, 0.0);
  g_assert_false (amor_profile_knows_trend (profile));
  g_assert_cmpfloat (amor_profile_estimate (profile, 0, N), ==, 0.0);
  g_assert_cmpuint (amor_profile_get_timed_end (profile), ==, 0);

  /* A negative or NaN duration counts as none. */
  amor_profile_add (profile, 3, -1.0);
  amor_profile_add (profile, 4, NAN);
  amor_profile_add (profile, 5, 3.0);
  g_assert_cmpfloat_with_epsilon (amor_profile_get_mean (profile), 1.0, 1e-12);
}

/* A map half done from the front, as a pool hands items out, with
 * samples spread behind: the cost falls along the input, and the items
 * left cost far less than the mean of those timed. */
static void
test_profile_falling (void)
{
  g_autoptr(AmorProfile) profile = amor_profile_new (N);
  double left, held;

  for (guint64 i = 0; i < 800; i++)
    amor_profile_add (profile, i, linear_down (i));
  for (guint64 i = 825; i < N; i += 50)
    amor_profile_add (profile, i, linear_down (i));

  g_assert_cmpfloat (amor_profile_get_trend (profile), >, 0.95);

  left = amor_profile_estimate (profile, 800, N);
  g_assert_cmpfloat (fabs (left - linear_down_mean (800, N)), <, 0.1 * linear_down_mean (800, N));
  g_assert_cmpfloat (left, <, amor_profile_get_mean (profile) / 3);

  /* A range with no item timed in it: its neighbours tell. */
  held = amor_profile_estimate (profile, 801, 808);
  g_assert_cmpfloat (fabs (held - linear_down_mean (801, 808)), <, 0.05 * linear_down_mean (801, 808));
}

/* The front of a map done, the rest timed only where the samples fell,
 * every 64th item, none among the last 71: the range ahead is estimated
 * along the cost, between the samples and past the last of them, not at
 * their mean, which lies towards its front (16 % too dear). Alongside, a
 * step: past the last item timed, the cost stays where it was. */
static void
test_profile_sparse_ahead (void)
{
  g_autoptr(AmorProfile) falling = amor_profile_new (N);
  g_autoptr(AmorProfile) step = amor_profile_new (N);
  double ahead, tail;

  for (guint64 i = 0; i < 400; i++)
    amor_profile_add (falling, i, linear_down (i));
  for (guint64 i = 416; i <= 928; i += 64)
    amor_profile_add (falling, i, linear_down (i));
  for (guint64 i = 0; i < 900; i += 3)
    amor_profile_add (step, i, i < N / 2 ? 0.2 * MS : 2 * MS);

  g_assert_cmpfloat (amor_profile_get_trend (falling), >, 0.95);
  /* What is known ends with the bucket of the last sample (of 4 items). */
  g_assert_cmpuint (amor_profile_get_timed_end (falling), >, 928);
  g_assert_cmpuint (amor_profile_get_timed_end (falling), <=, 932);
  ahead = amor_profile_estimate (falling, 600, N);
  g_test_message ("600 to 1000: %.4f ms, against %.4f ms", ahead / MS,
                  linear_down_mean (600, N) / MS);
  g_assert_cmpfloat (fabs (ahead - linear_down_mean (600, N)), <, 0.01 * linear_down_mean (600, N));
  tail = amor_profile_estimate (falling, 940, N);
  g_assert_cmpfloat (fabs (tail - linear_down_mean (940, N)), <, 0.05 * linear_down_mean (940, N));

  g_assert_cmpfloat (amor_profile_get_trend (step), >, 0.95);
  g_assert_cmpfloat_with_epsilon (amor_profile_estimate (step, 900, N), 2 * MS, 1e-12);
}

/* First half 0.2 ms, second half 2 ms. */
static void
test_profile_step (void)
{
  g_autoptr(AmorProfile) profile = amor_profile_new (N);

  for (guint64 i = 0; i < N; i += 3)
    amor_profile_add (profile, i, i < N / 2 ? 0.2 * MS : 2 * MS);

  g_assert_cmpfloat (amor_profile_get_trend (profile), >, 0.95);
  g_assert_cmpfloat_with_epsilon (amor_profile_estimate (profile, 0, 400), 0.2 * MS, 1e-12);
  g_assert_cmpfloat_with_epsilon (amor_profile_estimate (profile, 600, N), 2 * MS, 1e-12);
}

/* Items unlike at random: their neighbours say nothing of a range, and
 * every range is estimated at the mean. */
static void
test_profile_random (void)
{
  g_autoptr(AmorProfile) profile = amor_profile_new (N);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  double mean;

  for (guint64 i = 0; i < 800; i++)
    amor_profile_add (profile, i, -MS * log (1.0 - g_rand_double (rand)));
  for (guint64 i = 810; i < N; i += 50)
    amor_profile_add (profile, i, -MS * log (1.0 - g_rand_double (rand)));

  mean = amor_profile_get_mean (profile);
  g_assert_cmpfloat (fabs (amor_profile_get_trend (profile)), <, 0.3);
  g_assert_cmpfloat (amor_profile_estimate (profile, 800, N), ==, mean);
  g_assert_cmpfloat (amor_profile_estimate (profile, 0, 10), ==, mean);
}

/* Only the samples of a map, spread over it as a pool takes them (every
 * 64th item, 16 in all), before any chunk is back: the untimed buckets
 * between them do not hide that the cost falls, and the front is
 * estimated from the samples there. Random costs sampled the same way
 * show no trend. Eight samples are too few to tell. */
static void
test_profile_samples (void)
{
  g_autoptr(AmorProfile) falling = amor_profile_new (N);
  g_autoptr(AmorProfile) random = amor_profile_new (N);
  g_autoptr(AmorProfile) few = amor_profile_new (N);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  double front;

  for (guint64 i = 32; i < N; i += 64)
    {
      amor_profile_add (falling, i, linear_down (i));
      amor_profile_add (random, i, -MS * log (1.0 - g_rand_double (rand)));
    }
  for (guint64 i = 32; i < N; i += 125)
    amor_profile_add (few, i, linear_down (i));

  g_assert_false (amor_profile_knows_trend (few));
  g_assert_cmpfloat (amor_profile_get_trend (few), ==, 0.0);
  g_assert_true (amor_profile_knows_trend (falling));
  g_assert_cmpfloat (amor_profile_get_trend (falling), >, 0.95);
  front = amor_profile_estimate (falling, 0, 250);
  g_assert_cmpfloat (fabs (front - linear_down_mean (0, 250)), <, 0.1 * linear_down_mean (0, 250));
  g_assert_cmpfloat (front, >, 1.5 * amor_profile_get_mean (falling));

  g_assert_true (amor_profile_knows_trend (random));
  g_assert_cmpfloat (amor_profile_get_trend (random), <, 0.5);
  g_assert_cmpfloat (amor_profile_estimate (random, 0, 250), ==, amor_profile_get_mean (random));
}

/* Among a few samples, one that took far longer than its neighbours (the
 * machine was busy a moment) does not hide a trend. */
static void
test_profile_outlier (void)
{
  g_autoptr(AmorProfile) profile = amor_profile_new (N);

  for (guint64 i = 32; i < N; i += 64)
    amor_profile_add (profile, i, i == 416 ? 5 * MS : linear_down (i));

  g_assert_cmpfloat (amor_profile_get_trend (profile), >, 0.8);
  g_assert_cmpfloat (amor_profile_estimate (profile, 0, 250), >, amor_profile_get_mean (profile));
}

/* A map whose first 150 items are back from a worker (0.2 ms each, give
 * or take a microsecond), with samples spread over the rest: the cost
 * steps up tenfold at the middle. The cheap buckets, alike but for their
 * noise, take ranks at random; the step still shows. */
static void
test_profile_cheap_stretch (void)
{
  g_autoptr(AmorProfile) profile = amor_profile_new (N);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);

  for (guint64 i = 0; i < 150; i++)
    amor_profile_add (profile, i, 0.2 * MS + g_rand_double_range (rand, -1e-6, 1e-6));
  for (guint64 i = 180; i < N; i += 80)
    amor_profile_add (profile, i, i < N / 2 ? 0.2 * MS : 2 * MS);

  g_assert_cmpfloat (amor_profile_get_trend (profile), >, 0.5);
  g_assert_cmpfloat (amor_profile_estimate (profile, 600, 700), >, 1.5 * MS);
}

/* The longest item of the buckets a range touches: the dear samples far
 * ahead of a cheap stretch that has run show there, and only there. */
static void
test_profile_max (void)
{
  g_autoptr(AmorProfile) profile = amor_profile_new (N);

  g_assert_cmpfloat (amor_profile_get_max (profile, 0, N), ==, 0.0);
  for (guint64 i = 0; i < 850; i++)
    amor_profile_add (profile, i, 0.5 * MS);
  amor_profile_add (profile, 950, 5 * MS);
  amor_profile_add (profile, 990, 4 * MS);

  g_assert_cmpfloat (amor_profile_get_max (profile, 0, 850), ==, 0.5 * MS);
  g_assert_cmpfloat (amor_profile_get_max (profile, 850, N), ==, 5 * MS);
  g_assert_cmpfloat (amor_profile_get_max (profile, 960, N), ==, 4 * MS);
  g_assert_cmpfloat (amor_profile_get_max (profile, 900, 940), ==, 0.0);
  g_assert_cmpfloat (amor_profile_get_max (profile, 500, 500), ==, 0.0);
}

/* All alike: nothing varies, no trend. */
static void
test_profile_constant (void)
{
  g_autoptr(AmorProfile) profile = amor_profile_new (N);

  for (guint64 i = 0; i < N; i++)
    amor_profile_add (profile, i, MS);

  g_assert_cmpfloat (amor_profile_get_trend (profile), ==, 0.0);
  g_assert_cmpfloat_with_epsilon (amor_profile_estimate (profile, 10, 20), MS, 1e-15);
}

/* Fewer items than buckets, and a map of one. */
static void
test_profile_small (void)
{
  g_autoptr(AmorProfile) one = amor_profile_new (1);
  g_autoptr(AmorProfile) few = amor_profile_new (20);

  amor_profile_add (one, 0, 2.0);
  g_assert_cmpfloat (amor_profile_estimate (one, 0, 1), ==, 2.0);

  for (guint64 i = 0; i < 20; i++)
    amor_profile_add (few, i, (double) i);
  g_assert_cmpfloat (amor_profile_get_trend (few), >, 0.99);
  g_assert_cmpfloat_with_epsilon (amor_profile_estimate (few, 18, 20), 18.5, 1e-12);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/profile/empty", test_profile_empty);
  g_test_add_func ("/profile/falling", test_profile_falling);
  g_test_add_func ("/profile/sparse-ahead", test_profile_sparse_ahead);
  g_test_add_func ("/profile/step", test_profile_step);
  g_test_add_func ("/profile/random", test_profile_random);
  g_test_add_func ("/profile/samples", test_profile_samples);
  g_test_add_func ("/profile/outlier", test_profile_outlier);
  g_test_add_func ("/profile/cheap-stretch", test_profile_cheap_stretch);
  g_test_add_func ("/profile/max", test_profile_max);
  g_test_add_func ("/profile/constant", test_profile_constant);
  g_test_add_func ("/profile/small", test_profile_small);

  return g_test_run ();
}
