/* amor-profile.c: what items cost along the input
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "amor-profile-private.h"

/* At most this many buckets: a profile costs the same for any map. */
#define PROFILE_MAX_BUCKETS 256

/* Neighbouring buckets must correlate at least this much for the
 * neighbours of a range to be trusted over the mean of all items. */
#define PROFILE_MIN_TREND 0.5

/* ... over at least this many pairs of neighbouring buckets timed (two
 * timed buckets are neighbours when none between them is). */
#define PROFILE_MIN_PAIRS 8

struct _AmorProfile
{
  guint64  n_items;
  guint    n_buckets;
  double  *sum;      /* seconds, by bucket */
  double  *max;      /* the longest item's seconds, by bucket */
  guint64 *count;    /* items timed, by bucket */
  double   total;
  guint64  n_known;
  double   trend;    /* amor_profile_get_trend(), while trend_valid */
  guint    pairs;    /* the neighbouring timed buckets it was taken over */
  gboolean trend_valid;
};

/* A profile of a map of @n_items items, none timed yet. */
AmorProfile *
amor_profile_new (guint64 n_items)
{
  AmorProfile *profile = g_new0 (AmorProfile, 1);

  profile->n_items = MAX (n_items, 1);
  profile->n_buckets = (guint) MIN (profile->n_items, PROFILE_MAX_BUCKETS);
  profile->sum = g_new0 (double, profile->n_buckets);
  profile->max = g_new0 (double, profile->n_buckets);
  profile->count = g_new0 (guint64, profile->n_buckets);
  return profile;
}

void
amor_profile_free (AmorProfile *profile)
{
  if (profile == NULL)
    return;
  g_free (profile->sum);
  g_free (profile->max);
  g_free (profile->count);
  g_free (profile);
}

static guint
profile_bucket (AmorProfile *profile,
                guint64      index)
{
  index = MIN (index, profile->n_items - 1);
  /* n_buckets <= 256: no overflow below 2^56 items. */
  return (guint) (index * profile->n_buckets / profile->n_items);
}

/* The next timed bucket from @b on, stepping by @step (+1 or -1), or
 * n_buckets for none. */
static guint
profile_next_timed (AmorProfile *profile,
                    guint        b,
                    int          step)
{
  for (gint64 k = b; k >= 0 && k < profile->n_buckets; k += step)
    if (profile->count[k] > 0)
      return (guint) k;
  return profile->n_buckets;
}

/* Item @index took @seconds. */
void
amor_profile_add (AmorProfile *profile,
                  guint64      index,
                  double       seconds)
{
  guint bucket;

  g_return_if_fail (profile != NULL);
  g_return_if_fail (index < profile->n_items);

  if (!(seconds >= 0.0))
    seconds = 0.0;
  bucket = profile_bucket (profile, index);
  profile->sum[bucket] += seconds;
  profile->max[bucket] = MAX (profile->max[bucket], seconds);
  profile->count[bucket]++;
  profile->total += seconds;
  profile->n_known++;
  profile->trend_valid = FALSE;
}

/* The mean duration of the items timed, or 0 before any. */
double
amor_profile_get_mean (AmorProfile *profile)
{
  g_return_val_if_fail (profile != NULL, 0.0);

  return profile->n_known > 0 ? profile->total / (double) profile->n_known : 0.0;
}

static int
profile_compare_means (gconstpointer a,
                       gconstpointer b,
                       gpointer      user_data)
{
  const double *means = user_data;
  double x = means[*(const guint *) a], y = means[*(const guint *) b];

  return x < y ? -1 : x > y;
}

/* The correlation of @v[k] and @v[k + 1] over the @n values, or 0 when
 * either side does not vary. */
static double
lag_correlation (const double *v,
                 guint         n)
{
  double sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0;
  double cov, vx, vy;
  guint pairs = n - 1;

  for (guint k = 0; k < pairs; k++)
    {
      double x = v[k], y = v[k + 1];

      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
    }
  cov = sxy - sx * sy / pairs;
  vx = sxx - sx * sx / pairs;
  vy = syy - sy * sy / pairs;
  if (vx <= 0.0 || vy <= 0.0)
    return 0.0;
  return cov / sqrt (vx * vy);
}

/* amor_profile_get_trend(), computed afresh; @pairs_out: how many pairs
 * of neighbouring timed buckets it is taken over. It is the larger of two
 * correlations, each blind where the other sees:
 * - of the buckets' ranks (ties share theirs): one item that took far
 *   longer than its neighbours (the machine was busy, a page was faulted
 *   in) weighs as one rank, where among a few samples its duration alone
 *   would hide the trend;
 * - of their means: the many buckets of a cheap stretch, alike but for a
 *   microsecond here and there, take ranks at random, and would hide a
 *   step beside them. */
static double
profile_compute_trend (AmorProfile *profile,
                       guint       *pairs_out)
{
  g_autofree double *means = g_new (double, profile->n_buckets);
  g_autofree double *ranks = g_new (double, profile->n_buckets);
  g_autofree guint *order = g_new (guint, profile->n_buckets);
  guint n = 0;

  for (guint b = 0; b < profile->n_buckets; b++)
    if (profile->count[b] > 0)
      {
        order[n] = n;
        means[n++] = profile->sum[b] / (double) profile->count[b];
      }
  *pairs_out = n > 0 ? n - 1 : 0;
  if (*pairs_out < PROFILE_MIN_PAIRS)
    return 0.0;

  g_qsort_with_data (order, (gint) n, sizeof (guint), profile_compare_means, means);
  for (guint i = 0, j; i < n; i = j + 1)
    {
      for (j = i; j + 1 < n && means[order[j + 1]] == means[order[i]]; j++)
        ;
      for (guint k = i; k <= j; k++)
        ranks[order[k]] = (double) (i + j) / 2.0;
    }

  return MAX (lag_correlation (ranks, n), lag_correlation (means, n));
}

/* How much the cost follows the place in the input: the correlation of
 * the mean durations of neighbouring timed buckets, those between them
 * untimed, or of their ranks (0 with too few of them, or none to speak
 * of). Near 1 for a cost that grows, falls or steps along the input; near
 * 0 for items alike, or unlike at random. Skipping the untimed buckets,
 * the samples of a map, spread over it, tell before its first chunks are
 * back. */
double
amor_profile_get_trend (AmorProfile *profile)
{
  g_return_val_if_fail (profile != NULL, 0.0);

  if (!profile->trend_valid)
    {
      profile->trend = profile_compute_trend (profile, &profile->pairs);
      profile->trend_valid = TRUE;
    }
  return profile->trend;
}

/* Whether enough neighbouring buckets are timed for
 * amor_profile_get_trend() to tell: before, it reads 0 whatever the cost
 * does along the input, and amor_profile_estimate() gives the mean. */
gboolean
amor_profile_knows_trend (AmorProfile *profile)
{
  g_return_val_if_fail (profile != NULL, FALSE);

  amor_profile_get_trend (profile);
  return profile->pairs >= PROFILE_MIN_PAIRS;
}

/* Whether the cost follows the place in the input enough for
 * amor_profile_estimate() to go by it, rather than by the mean of all. */
gboolean
amor_profile_follows_place (AmorProfile *profile)
{
  g_return_val_if_fail (profile != NULL, FALSE);

  return amor_profile_get_trend (profile) >= PROFILE_MIN_TREND;
}

/* The first item of bucket @bucket (n_items for the one past the last). */
static guint64
profile_bucket_start (AmorProfile *profile,
                      guint        bucket)
{
  return (bucket * profile->n_items + profile->n_buckets - 1) / profile->n_buckets;
}

/* The end of the last bucket with an item timed: the items from there on
 * are estimated past all that is known of the cost (0 before any item is
 * timed). */
guint64
amor_profile_get_timed_end (AmorProfile *profile)
{
  guint last;

  g_return_val_if_fail (profile != NULL, 0);

  last = profile_next_timed (profile, profile->n_buckets - 1, -1);
  return last < profile->n_buckets ? profile_bucket_start (profile, last + 1) : 0;
}

/* The longest an item timed in the buckets that [@first, @end) touches
 * took, in seconds, or 0 when none is timed there. (Items just outside
 * the range, in the same buckets, count too.) */
double
amor_profile_get_max (AmorProfile *profile,
                      guint64      first,
                      guint64      end)
{
  double longest = 0.0;
  guint hi;

  g_return_val_if_fail (profile != NULL, 0.0);

  end = MIN (end, profile->n_items);
  if (end <= first)
    return 0.0;
  hi = profile_bucket (profile, end - 1);
  for (guint b = profile_bucket (profile, first); b <= hi; b++)
    longest = MAX (longest, profile->max[b]);
  return longest;
}

/* The mean of the items timed in bucket @b (some are). */
static double
profile_bucket_mean (AmorProfile *profile,
                     guint        b)
{
  return profile->sum[b] / (double) profile->count[b];
}

/* Two slopes agree when they differ by no more than this share of the
 * steeper. */
#define PROFILE_LINE_SLACK 0.5

/* What an item of bucket @b, beyond the timed bucket @edge at one end of
 * those timed, is likely to take: the mean of @edge, or, where the cost
 * follows a straight line there (the slopes between @edge and the next
 * two timed buckets inward agree), that line carried on, down to 0 at
 * least. (At the mean of the last, the items after the last sample of a
 * falling cost seemed twice as dear as they are.) */
static double
profile_beyond (AmorProfile *profile,
                guint        b,
                guint        edge)
{
  int inward = b > edge ? -1 : 1;
  guint p1, p2;
  double m0, m1, m2, s1, s2;

  m0 = profile_bucket_mean (profile, edge);
  if ((edge == 0 && inward < 0) ||
      (p1 = profile_next_timed (profile, edge + inward, inward)) == profile->n_buckets ||
      (p1 == 0 && inward < 0) ||
      (p2 = profile_next_timed (profile, p1 + inward, inward)) == profile->n_buckets)
    return m0;
  m1 = profile_bucket_mean (profile, p1);
  m2 = profile_bucket_mean (profile, p2);
  s1 = (m0 - m1) / ((double) edge - (double) p1);
  s2 = (m1 - m2) / ((double) p1 - (double) p2);
  if (s1 * s2 <= 0.0 || fabs (s1 - s2) > PROFILE_LINE_SLACK * MAX (fabs (s1), fabs (s2)))
    return m0;
  return MAX (m0 + s1 * ((double) b - (double) edge), 0.0);
}

/* What an item of bucket @b, none of which is timed, is likely to take:
 * on the line between the timed buckets nearest to it, @before and
 * @after (n_buckets for none), or beyond the one there is. */
static double
profile_between (AmorProfile *profile,
                 guint        b,
                 guint        before,
                 guint        after)
{
  double from, to;

  if (before == profile->n_buckets)
    return profile_beyond (profile, b, after);
  if (after == profile->n_buckets)
    return profile_beyond (profile, b, before);
  from = profile_bucket_mean (profile, before);
  to = profile_bucket_mean (profile, after);
  return from + (to - from) * (double) (b - before) / (double) (after - before);
}

/* What an item of [@first, @end) is likely to take, in seconds, when the
 * cost follows the place in the input: the mean over the range of what
 * its buckets' items take, each bucket at the mean of its items timed,
 * or, with none timed, on the line between the timed buckets nearest to
 * it on either side (beyond the last, at the last one's, or on the line
 * the last ones follow). Else the mean of all. 0 before any item is
 * timed.
 *
 * Along a cost that grows or falls, the items of a range far ahead are
 * timed only where the samples fell: where those lie towards one end of
 * it, the mean of them alone errs by as much as the cost changes across
 * the range (on a falling cost, the last 400 items of 1000, with no
 * sample among the last 80, were estimated 14 % too dear). */
double
amor_profile_estimate (AmorProfile *profile,
                       guint64      first,
                       guint64      end)
{
  guint lo, hi, before, after;
  double sum = 0.0;

  g_return_val_if_fail (profile != NULL, 0.0);

  end = MIN (end, profile->n_items);
  if (end <= first || profile->n_known == 0 || !amor_profile_follows_place (profile))
    return amor_profile_get_mean (profile);

  lo = profile_bucket (profile, first);
  hi = profile_bucket (profile, end - 1);
  /* The nearest timed buckets at or before @lo, and after it. */
  before = profile_next_timed (profile, lo, -1);
  after = lo;
  for (guint b = lo; b <= hi; b++)
    {
      guint64 from = MAX (first, profile_bucket_start (profile, b));
      guint64 to = MIN (end, profile_bucket_start (profile, b + 1));
      double each;

      if (profile->count[b] > 0)
        {
          before = b;
          each = profile_bucket_mean (profile, b);
        }
      else
        {
          if (after <= b)
            after = profile_next_timed (profile, b + 1, 1);
          each = profile_between (profile, b, before, after);
        }
      sum += (double) (to - from) * each;
    }
  return sum / (double) (end - first);
}
