/* amor-sampler.c: time the work on a few items
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "amor-debug-private.h"
#include "amor-clock-private.h"
#include "amor-error.h"
#include "amor-sampler.h"
#include "amor-sampler-private.h"
#include "amor-work-private.h"

/**
 * AmorSampler:
 *
 * Times the work on a few items and keeps their statistics.
 *
 * [method@Amor.Sampler.run] calls the work on a handful of items, one at a
 * time on the calling thread (so it works from JavaScript too), and times
 * each call with the monotonic clock. Nothing is instrumented while a call
 * is timed. The items are spread over the index range, not taken from its
 * start, so a sorted input does not bias the sample. When the durations vary
 * a lot (CV above 0.5), it samples more, up to
 * [property@Amor.Sampler:max-sample-size] items and within
 * [property@Amor.Sampler:time-budget] seconds, because a CV computed from
 * five samples is mostly noise.
 *
 * The sampler remembers which items it ran; [class@Amor.Executor] does not
 * run them again, so every item is processed exactly once.
 *
 * Durations measured elsewhere can be added with
 * [method@Amor.Sampler.add_duration]: the pure planning path, which needs no
 * callback and gives exact, repeatable plans.
 *
 * The statistics are Welford's running mean and sum of squares: the
 * variance is the population variance `Σ(t − mean)² / n`, and the
 * coefficient of variation is `stddev / mean`. With fewer than two samples,
 * or a mean of 0, the variance and CV are 0.
 *
 * Since: 0.1
 */

#define DEFAULT_SAMPLE_SIZE      5
#define DEFAULT_MAX_SAMPLE_SIZE  30
#define DEFAULT_TIME_BUDGET      0.2
#define HETEROGENEOUS_CV         0.5
/* Longer durations (31 years) are a mistake, and their squares would
 * overflow the statistics. */
#define AMOR_SAMPLER_MAX_DURATION 1e9
/* Sampling runs on one thread while the others wait: it stops once it has
 * taken this share of the estimated serial time of the whole map... */
#define SAMPLING_SHARE           0.02
/* ...unless it has taken less than this many seconds, less than waking a
 * single thread costs: then more samples are as good as free. */
#define SAMPLING_FLOOR           20e-6

struct _AmorSampler
{
  GObject  parent_instance;

  guint    sample_size;
  guint    max_sample_size;
  double   time_budget;

  /* Welford */
  guint    n;
  double   mean;
  double   m2;
  double   min;
  double   max;
  double   total;

  GArray  *indices;   /* guint64, sorted, unique */
};

G_DEFINE_FINAL_TYPE (AmorSampler, amor_sampler, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SAMPLE_SIZE,
  PROP_MAX_SAMPLE_SIZE,
  PROP_TIME_BUDGET,
  PROP_N_SAMPLES,
  PROP_MEAN,
  PROP_VARIANCE,
  PROP_STDDEV,
  PROP_CV,
  PROP_MIN,
  PROP_MAX,
  PROP_TOTAL,
  PROP_IS_HETEROGENEOUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
amor_sampler_finalize (GObject *object)
{
  AmorSampler *self = AMOR_SAMPLER (object);

  g_clear_pointer (&self->indices, g_array_unref);

  G_OBJECT_CLASS (amor_sampler_parent_class)->finalize (object);
}

static void
amor_sampler_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  AmorSampler *self = AMOR_SAMPLER (object);

  switch (prop_id)
    {
    case PROP_SAMPLE_SIZE:
      g_value_set_uint (value, self->sample_size);
      break;
    case PROP_MAX_SAMPLE_SIZE:
      g_value_set_uint (value, self->max_sample_size);
      break;
    case PROP_TIME_BUDGET:
      g_value_set_double (value, self->time_budget);
      break;
    case PROP_N_SAMPLES:
      g_value_set_uint (value, self->n);
      break;
    case PROP_MEAN:
      g_value_set_double (value, amor_sampler_get_mean (self));
      break;
    case PROP_VARIANCE:
      g_value_set_double (value, amor_sampler_get_variance (self));
      break;
    case PROP_STDDEV:
      g_value_set_double (value, amor_sampler_get_stddev (self));
      break;
    case PROP_CV:
      g_value_set_double (value, amor_sampler_get_cv (self));
      break;
    case PROP_MIN:
      g_value_set_double (value, amor_sampler_get_min (self));
      break;
    case PROP_MAX:
      g_value_set_double (value, amor_sampler_get_max (self));
      break;
    case PROP_TOTAL:
      g_value_set_double (value, self->total);
      break;
    case PROP_IS_HETEROGENEOUS:
      g_value_set_boolean (value, amor_sampler_get_is_heterogeneous (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_sampler_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  AmorSampler *self = AMOR_SAMPLER (object);

  switch (prop_id)
    {
    case PROP_SAMPLE_SIZE:
      amor_sampler_set_sample_size (self, g_value_get_uint (value));
      break;
    case PROP_MAX_SAMPLE_SIZE:
      amor_sampler_set_max_sample_size (self, g_value_get_uint (value));
      break;
    case PROP_TIME_BUDGET:
      amor_sampler_set_time_budget (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_sampler_class_init (AmorSamplerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = amor_sampler_finalize;
  object_class->get_property = amor_sampler_get_property;
  object_class->set_property = amor_sampler_set_property;

  /**
   * AmorSampler:sample-size:
   *
   * How many items [method@Amor.Sampler.run] times at least (when there are
   * that many). Must be at least 1; the default is 5.
   *
   * Since: 0.1
   */
  properties[PROP_SAMPLE_SIZE] =
    g_param_spec_uint ("sample-size", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_SAMPLE_SIZE, rw);

  /**
   * AmorSampler:max-sample-size:
   *
   * How many items [method@Amor.Sampler.run] may time when the durations
   * vary a lot (CV above 0.5). Never below
   * [property@Amor.Sampler:sample-size]; the default is 30.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_SAMPLE_SIZE] =
    g_param_spec_uint ("max-sample-size", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_MAX_SAMPLE_SIZE, rw);

  /**
   * AmorSampler:time-budget:
   *
   * Seconds of sampling after which [method@Amor.Sampler.run] takes no more
   * samples: it stops growing the sample, and stops the base sample early
   * once it has two durations. The default is 0.2 s.
   *
   * Since: 0.1
   */
  properties[PROP_TIME_BUDGET] =
    g_param_spec_double ("time-budget", NULL, NULL,
                         0.0, G_MAXDOUBLE, DEFAULT_TIME_BUDGET, rw);

  /**
   * AmorSampler:n-samples:
   *
   * The number of durations recorded.
   *
   * Since: 0.1
   */
  properties[PROP_N_SAMPLES] =
    g_param_spec_uint ("n-samples", NULL, NULL, 0, G_MAXUINT, 0, ro);

  /**
   * AmorSampler:mean:
   *
   * The mean duration in seconds (0 without samples).
   *
   * Since: 0.1
   */
  properties[PROP_MEAN] =
    g_param_spec_double ("mean", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorSampler:variance:
   *
   * The population variance of the durations, in seconds squared (0 with
   * fewer than two samples).
   *
   * Since: 0.1
   */
  properties[PROP_VARIANCE] =
    g_param_spec_double ("variance", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorSampler:stddev:
   *
   * The population standard deviation of the durations, in seconds.
   *
   * Since: 0.1
   */
  properties[PROP_STDDEV] =
    g_param_spec_double ("stddev", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorSampler:cv:
   *
   * The coefficient of variation, stddev / mean: 0 with fewer than two
   * samples or a mean of 0.
   *
   * Since: 0.1
   */
  properties[PROP_CV] =
    g_param_spec_double ("cv", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorSampler:min:
   *
   * The shortest duration in seconds (0 without samples).
   *
   * Since: 0.1
   */
  properties[PROP_MIN] =
    g_param_spec_double ("min", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorSampler:max:
   *
   * The longest duration in seconds (0 without samples).
   *
   * Since: 0.1
   */
  properties[PROP_MAX] =
    g_param_spec_double ("max", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorSampler:total:
   *
   * The sum of the durations in seconds.
   *
   * Since: 0.1
   */
  properties[PROP_TOTAL] =
    g_param_spec_double ("total", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorSampler:is-heterogeneous:
   *
   * Whether the durations vary enough for chunks to be made smaller: the CV
   * is above 0.5.
   *
   * Since: 0.1
   */
  properties[PROP_IS_HETEROGENEOUS] =
    g_param_spec_boolean ("is-heterogeneous", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
amor_sampler_init (AmorSampler *self)
{
  self->sample_size = DEFAULT_SAMPLE_SIZE;
  self->max_sample_size = DEFAULT_MAX_SAMPLE_SIZE;
  self->time_budget = DEFAULT_TIME_BUDGET;
  self->indices = g_array_new (FALSE, FALSE, sizeof (guint64));
}

/**
 * amor_sampler_new:
 *
 * Creates a sampler with no durations.
 *
 * Returns: (transfer full): a new #AmorSampler
 *
 * Since: 0.1
 */
AmorSampler *
amor_sampler_new (void)
{
  return g_object_new (AMOR_TYPE_SAMPLER, NULL);
}

static void
amor_sampler_notify_stats (AmorSampler *self)
{
  for (guint i = PROP_N_SAMPLES; i <= PROP_IS_HETEROGENEOUS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[i]);
}

static void
amor_sampler_record (AmorSampler *self,
                     double       seconds)
{
  double delta;

  self->n++;
  delta = seconds - self->mean;
  self->mean += delta / self->n;
  self->m2 += delta * (seconds - self->mean);
  if (self->m2 < 0.0)
    self->m2 = 0.0;
  self->total += seconds;
  if (self->n == 1 || seconds < self->min)
    self->min = seconds;
  if (self->n == 1 || seconds > self->max)
    self->max = seconds;
}

/**
 * amor_sampler_add_duration:
 * @self: an #AmorSampler
 * @seconds: the duration of one item, in seconds (not negative, at most
 *   10⁹ — about 31 years)
 *
 * Adds the duration of one item measured elsewhere.
 *
 * This is the pure path: a plan made from added durations involves no
 * timing at all, so it is the same on every machine and every run.
 *
 * Since: 0.1
 */
void
amor_sampler_add_duration (AmorSampler *self,
                           double       seconds)
{
  g_return_if_fail (AMOR_IS_SAMPLER (self));
  g_return_if_fail (isfinite (seconds));
  g_return_if_fail (seconds >= 0.0);
  g_return_if_fail (seconds <= AMOR_SAMPLER_MAX_DURATION);

  amor_sampler_record (self, seconds);
  AMOR_DEBUG ("sampler: added duration %.9f s (n=%u, mean=%.9f s, cv=%.4f)",
           seconds, self->n, self->mean, amor_sampler_get_cv (self));
  amor_sampler_notify_stats (self);
}

/**
 * amor_sampler_reset:
 * @self: an #AmorSampler
 *
 * Forgets every duration and every sampled index.
 *
 * Since: 0.1
 */
void
amor_sampler_reset (AmorSampler *self)
{
  g_return_if_fail (AMOR_IS_SAMPLER (self));

  self->n = 0;
  self->mean = self->m2 = self->min = self->max = self->total = 0.0;
  g_array_set_size (self->indices, 0);
  amor_sampler_notify_stats (self);
}

/* The j-th point (j >= 0) of a golden-ratio (Weyl) sequence in [0, 1):
 * 0.5, 0.118, 0.736, 0.354, 0.972, … — every prefix is spread evenly over
 * the range, so the sample grows without clustering, and, unlike a dyadic
 * sequence, its points do not all fall on even indices of a round N. */
static double
spread_point (guint64 j)
{
  double x = 0.5 + (double) j * 0.61803398874989484820;

  return x - floor (x);
}

static gboolean
sorted_find (GArray  *array,
             guint64  value,
             guint   *position)
{
  guint lo = 0, hi = array->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      guint64 v = g_array_index (array, guint64, mid);

      if (v < value)
        lo = mid + 1;
      else
        hi = mid;
    }
  *position = lo;
  return lo < array->len && g_array_index (array, guint64, lo) == value;
}

guint64
amor_sampler_take_next_index (GArray  *sampled,
                              guint64  n_items,
                              guint64 *cursor)
{
  for (;;)
    {
      guint64 index;
      guint position;

      /* When nearly every item is sampled, the sequence may take long to
       * hit the last free indices: a linear scan finds them. */
      if (*cursor > 4 * n_items + 64)
        {
          for (index = 0; index < n_items; index++)
            if (!sorted_find (sampled, index, &position))
              break;
          g_assert (index < n_items);
        }
      else
        {
          index = (guint64) (spread_point ((*cursor)++) * (double) n_items);
          index = MIN (index, n_items - 1);
        }

      if (!sorted_find (sampled, index, &position))
        {
          g_array_insert_val (sampled, position, index);
          return index;
        }
    }
}

/* What one timing adds to a duration: two clock reads with nothing
 * between them, the least of a few tries (measured once). Subtracted, so a
 * 100 ns item is not read as 150 ns. */
static double
amor_sampler_clock_overhead (void)
{
  static double overhead;
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      gint64 best = G_MAXINT64;

      for (guint i = 0; i < 32; i++)
        {
          gint64 t0 = amor_clock_now_ns ();
          gint64 t1 = amor_clock_now_ns ();

          best = MIN (best, t1 - t0);
        }
      overhead = (double) MAX (best, 0) / 1e9;
      g_once_init_leave (&initialized, 1);
    }

  return overhead;
}

/**
 * amor_sampler_run:
 * @self: an #AmorSampler
 * @n_items: the number of items of the map
 * @func: (scope call) (closure user_data): the work of one item
 * @user_data: data for @func
 * @error: return location for a #GError
 *
 * Runs @func on a few of the @n_items items, one at a time on the calling
 * thread, and records how long each call took.
 *
 * At least [property@Amor.Sampler:sample-size] items are run (all of them
 * when there are fewer). While the CV of the durations is above 0.5, more
 * items are run, up to [property@Amor.Sampler:max-sample-size].
 *
 * Sampling runs on one thread, so it also stops, once it has two samples,
 * when it has taken [property@Amor.Sampler:time-budget] or 2 % of the
 * estimated serial time of the whole map (`n_items × mean`), whichever is
 * less — but never before 20 µs, less than waking one thread costs. The
 * cost of reading the clock is subtracted from each duration.
 * The indices are spread over `[0, n_items)` and remembered (see
 * [method@Amor.Sampler.get_sampled_indices]); an item is never sampled
 * twice.
 *
 * The durations are added to those already recorded; call
 * [method@Amor.Sampler.reset] first to start afresh.
 *
 * An error from @func stops the sampling and is returned, its message
 * prefixed with the item index. The item is still remembered as run.
 *
 * Returns: %TRUE on success, %FALSE with @error set if @func failed
 *
 * Since: 0.1
 */
gboolean
amor_sampler_run (AmorSampler   *self,
                  guint64        n_items,
                  AmorWorkFunc   func,
                  gpointer       user_data,
                  GError       **error)
{
  guint64 cursor = 0;
  guint64 remaining;
  guint taken = 0;
  guint max_size;
  gint64 started;
  double clock_overhead;
  gboolean ok = TRUE;

  g_return_val_if_fail (AMOR_IS_SAMPLER (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Indices remembered from an earlier run are of another map. */
  g_array_set_size (self->indices, 0);

  max_size = MAX (self->sample_size, self->max_sample_size);
  clock_overhead = amor_sampler_clock_overhead ();
  remaining = n_items;
  started = amor_clock_now_ns ();

  while (remaining > 0)
    {
      double elapsed = amor_clock_seconds_since (started);
      gboolean base = taken < self->sample_size;
      double budget = self->time_budget;

      if (taken > 0)
        budget = MIN (budget, MAX (SAMPLING_FLOOR,
                                   SAMPLING_SHARE * (double) n_items * self->mean));
      guint64 index;
      gint64 t0;
      double seconds;

      if (base)
        {
          if (taken >= 2 && elapsed >= budget)
            {
              AMOR_DEBUG ("sampler: time budget of %.6f s spent after %u samples",
                          budget, taken);
              break;
            }
        }
      else
        {
          if (taken >= max_size)
            break;
          if (amor_sampler_get_cv (self) <= HETEROGENEOUS_CV)
            break;
          if (elapsed >= budget)
            {
              AMOR_DEBUG ("sampler: time budget of %.6f s spent after %u samples "
                          "(cv %.3f)", budget, taken, amor_sampler_get_cv (self));
              break;
            }
        }

      index = amor_sampler_take_next_index (self->indices, n_items, &cursor);

      t0 = amor_clock_now_ns ();
      ok = amor_work_call (func, user_data, index, error);
      seconds = MAX (0.0, amor_clock_seconds_since (t0) - clock_overhead);

      if (!ok)
        break;

      amor_sampler_record (self, seconds);
      taken++;
      remaining--;
      AMOR_DEBUG ("sampler: item %" G_GUINT64_FORMAT " took %.9f s "
               "(n=%u, mean=%.9f s, cv=%.4f)%s",
               index, seconds, self->n, self->mean,
               amor_sampler_get_cv (self), base ? "" : " [grown: cv > 0.5]");
    }

  amor_sampler_notify_stats (self);
  return ok;
}

/**
 * amor_sampler_get_sample_size:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:sample-size].
 *
 * Returns: the base number of items to sample
 *
 * Since: 0.1
 */
guint
amor_sampler_get_sample_size (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0);
  return self->sample_size;
}

/**
 * amor_sampler_set_sample_size:
 * @self: an #AmorSampler
 * @sample_size: the base number of items to sample, at least 1
 *
 * Sets [property@Amor.Sampler:sample-size].
 *
 * Since: 0.1
 */
void
amor_sampler_set_sample_size (AmorSampler *self,
                              guint        sample_size)
{
  g_return_if_fail (AMOR_IS_SAMPLER (self));
  g_return_if_fail (sample_size >= 1);

  if (self->sample_size != sample_size)
    {
      self->sample_size = sample_size;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAMPLE_SIZE]);
    }
}

/**
 * amor_sampler_get_max_sample_size:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:max-sample-size].
 *
 * Returns: the most items to sample when durations vary a lot
 *
 * Since: 0.1
 */
guint
amor_sampler_get_max_sample_size (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0);
  return self->max_sample_size;
}

/**
 * amor_sampler_set_max_sample_size:
 * @self: an #AmorSampler
 * @max_sample_size: the most items to sample, at least 1
 *
 * Sets [property@Amor.Sampler:max-sample-size].
 *
 * Since: 0.1
 */
void
amor_sampler_set_max_sample_size (AmorSampler *self,
                                  guint        max_sample_size)
{
  g_return_if_fail (AMOR_IS_SAMPLER (self));
  g_return_if_fail (max_sample_size >= 1);

  if (self->max_sample_size != max_sample_size)
    {
      self->max_sample_size = max_sample_size;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_SAMPLE_SIZE]);
    }
}

/**
 * amor_sampler_get_time_budget:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:time-budget].
 *
 * Returns: the sampling time budget in seconds
 *
 * Since: 0.1
 */
double
amor_sampler_get_time_budget (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0.0);
  return self->time_budget;
}

/**
 * amor_sampler_set_time_budget:
 * @self: an #AmorSampler
 * @seconds: the sampling time budget in seconds (finite, not negative)
 *
 * Sets [property@Amor.Sampler:time-budget].
 *
 * Since: 0.1
 */
void
amor_sampler_set_time_budget (AmorSampler *self,
                              double       seconds)
{
  g_return_if_fail (AMOR_IS_SAMPLER (self));
  g_return_if_fail (isfinite (seconds) && seconds >= 0.0);

  if (self->time_budget != seconds)
    {
      self->time_budget = seconds;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME_BUDGET]);
    }
}

/**
 * amor_sampler_get_n_samples:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:n-samples].
 *
 * Returns: the number of durations recorded
 *
 * Since: 0.1
 */
guint
amor_sampler_get_n_samples (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0);
  return self->n;
}

/**
 * amor_sampler_get_mean:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:mean].
 *
 * Returns: the mean duration in seconds
 *
 * Since: 0.1
 */
double
amor_sampler_get_mean (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0.0);
  return self->n > 0 ? self->mean : 0.0;
}

/**
 * amor_sampler_get_variance:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:variance].
 *
 * Returns: the population variance in seconds squared
 *
 * Since: 0.1
 */
double
amor_sampler_get_variance (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0.0);
  return self->n >= 2 ? self->m2 / self->n : 0.0;
}

/**
 * amor_sampler_get_stddev:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:stddev].
 *
 * Returns: the population standard deviation in seconds
 *
 * Since: 0.1
 */
double
amor_sampler_get_stddev (AmorSampler *self)
{
  return sqrt (amor_sampler_get_variance (self));
}

/**
 * amor_sampler_get_cv:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:cv].
 *
 * Returns: the coefficient of variation, never NaN
 *
 * Since: 0.1
 */
double
amor_sampler_get_cv (AmorSampler *self)
{
  double mean;

  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0.0);

  mean = amor_sampler_get_mean (self);
  if (self->n < 2 || mean <= 0.0)
    return 0.0;
  return amor_sampler_get_stddev (self) / mean;
}

/**
 * amor_sampler_get_min:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:min].
 *
 * Returns: the shortest duration in seconds
 *
 * Since: 0.1
 */
double
amor_sampler_get_min (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0.0);
  return self->n > 0 ? self->min : 0.0;
}

/**
 * amor_sampler_get_max:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:max].
 *
 * Returns: the longest duration in seconds
 *
 * Since: 0.1
 */
double
amor_sampler_get_max (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0.0);
  return self->n > 0 ? self->max : 0.0;
}

/**
 * amor_sampler_get_total:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:total].
 *
 * Returns: the sum of the durations in seconds
 *
 * Since: 0.1
 */
double
amor_sampler_get_total (AmorSampler *self)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), 0.0);
  return self->total;
}

/**
 * amor_sampler_get_is_heterogeneous:
 * @self: an #AmorSampler
 *
 * Gets [property@Amor.Sampler:is-heterogeneous].
 *
 * Returns: %TRUE if the CV is above 0.5
 *
 * Since: 0.1
 */
gboolean
amor_sampler_get_is_heterogeneous (AmorSampler *self)
{
  return amor_sampler_get_cv (self) > HETEROGENEOUS_CV;
}

/**
 * amor_sampler_get_sampled_indices:
 * @self: an #AmorSampler
 * @n_indices: (out): return location for the number of indices
 *
 * Gets the indices of the items the last [method@Amor.Sampler.run] ran,
 * in ascending order. An executor skips them.
 *
 * Returns: (array length=n_indices) (transfer none) (nullable): the sampled
 *   indices, owned by @self and valid until it samples again
 *
 * Since: 0.1
 */
const guint64 *
amor_sampler_get_sampled_indices (AmorSampler *self,
                                  gsize       *n_indices)
{
  g_return_val_if_fail (AMOR_IS_SAMPLER (self), NULL);
  g_return_val_if_fail (n_indices != NULL, NULL);

  *n_indices = self->indices->len;
  return self->indices->len > 0 ? (const guint64 *) self->indices->data : NULL;
}

/**
 * amor_sampler_was_sampled:
 * @self: an #AmorSampler
 * @index: an item index
 *
 * Whether the last [method@Amor.Sampler.run] ran the item at @index.
 *
 * Returns: %TRUE if the item was run while sampling
 *
 * Since: 0.1
 */
gboolean
amor_sampler_was_sampled (AmorSampler *self,
                          guint64      index)
{
  guint position;

  g_return_val_if_fail (AMOR_IS_SAMPLER (self), FALSE);
  return sorted_find (self->indices, index, &position);
}
