/* amor-optimizer.c: decide how to parallelise a map
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "amor-debug-private.h"
#include "amor-enums.h"
#include "amor-format-private.h"
#include "amor-optimizer.h"
#include "amor-optimizer-private.h"
#include "amor-result-private.h"

/**
 * AmorOptimizer:
 *
 * Decides whether a map is worth running in parallel, on how many workers
 * and in chunks of what size.
 *
 * [method@Amor.Optimizer.plan] is a pure function of a sampler's statistics,
 * the number of items, the [class@Amor.System] and the optimizer's
 * properties: no timing, no threads, and the same inputs give the same
 * [class@Amor.Result]. [method@Amor.Optimizer.optimize] samples the work
 * first, then plans.
 *
 * The model (see the "Cost model" page for the reasoning) tries every worker
 * count from 1 to a cap and keeps the fastest modelled time:
 *
 * ```
 * T(1) = N·mean
 * T(n) = N·mean / n                           compute
 *      + F · (n − 1) / max (1, P − 1)          fork-join
 *      + D · ceil (N / k) / n                  dispatch
 *      + I(n)                                  imbalance
 * ```
 *
 * The imbalance blends, by u = min (1, CV), the idle time of a part-filled
 * last round of equal chunks, `(ceil (C / n) − C / n) · k·mean` for C
 * chunks, and the random tail of chunks of varying cost,
 * `(n − 1) / (2n) · k·mean · (1 + CV / √k)`.
 *
 * where P is the number of usable CPUs, F and D the system's fork-join and
 * dispatch costs, and k the chunk size: `target-chunk-duration / mean`
 * (at least 1), times `max (0.25, 1 − 0.5·CV)` when the CV is above 0.5.
 * The cap is the smallest of the usable CPUs,
 * [property@Amor.Optimizer:max-workers], the number of chunks and, when
 * [property@Amor.Optimizer:item-memory] is set, what the available memory
 * allows. A plan that promises less than
 * [property@Amor.Optimizer:min-speedup] is serial.
 *
 * ```c
 * g_autoptr(AmorOptimizer) optimizer = amor_optimizer_new ();
 * g_autoptr(AmorResult) plan = NULL;
 * g_autofree char *report = NULL;
 *
 * plan = amor_optimizer_optimize (optimizer, n_items, work, data, &error);
 * report = amor_result_explain (plan);
 * ```
 *
 * Since: 0.1
 */

#define DEFAULT_SAMPLE_SIZE 5
#define HETEROGENEOUS_CV    0.5
#define AMOR_MAX_MODELLED_WORKERS 65536

struct _AmorOptimizer
{
  GObject       parent_instance;

  AmorSystem   *system;
  guint         sample_size;
  double        min_speedup;
  guint         max_workers;
  double        target_chunk_duration;
  guint64       item_memory;
  AmorSchedule  schedule;
  double        parallel_item_cost;   /* amor-optimizer-private.h */
  gboolean      tapered_tail;         /* amor-optimizer-private.h */
};

G_DEFINE_FINAL_TYPE (AmorOptimizer, amor_optimizer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SYSTEM,
  PROP_SAMPLE_SIZE,
  PROP_MIN_SPEEDUP,
  PROP_MAX_WORKERS,
  PROP_TARGET_CHUNK_DURATION,
  PROP_ITEM_MEMORY,
  PROP_SCHEDULE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
amor_optimizer_dispose (GObject *object)
{
  AmorOptimizer *self = AMOR_OPTIMIZER (object);

  g_clear_object (&self->system);

  G_OBJECT_CLASS (amor_optimizer_parent_class)->dispose (object);
}

static void
amor_optimizer_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  AmorOptimizer *self = AMOR_OPTIMIZER (object);

  switch (prop_id)
    {
    case PROP_SYSTEM:
      g_value_set_object (value, amor_optimizer_get_system (self));
      break;
    case PROP_SAMPLE_SIZE:
      g_value_set_uint (value, self->sample_size);
      break;
    case PROP_MIN_SPEEDUP:
      g_value_set_double (value, self->min_speedup);
      break;
    case PROP_MAX_WORKERS:
      g_value_set_uint (value, self->max_workers);
      break;
    case PROP_TARGET_CHUNK_DURATION:
      g_value_set_double (value, self->target_chunk_duration);
      break;
    case PROP_ITEM_MEMORY:
      g_value_set_uint64 (value, self->item_memory);
      break;
    case PROP_SCHEDULE:
      g_value_set_enum (value, self->schedule);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_optimizer_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  AmorOptimizer *self = AMOR_OPTIMIZER (object);

  switch (prop_id)
    {
    case PROP_SYSTEM:
      amor_optimizer_set_system (self, g_value_get_object (value));
      break;
    case PROP_SAMPLE_SIZE:
      amor_optimizer_set_sample_size (self, g_value_get_uint (value));
      break;
    case PROP_MIN_SPEEDUP:
      amor_optimizer_set_min_speedup (self, g_value_get_double (value));
      break;
    case PROP_MAX_WORKERS:
      amor_optimizer_set_max_workers (self, g_value_get_uint (value));
      break;
    case PROP_TARGET_CHUNK_DURATION:
      amor_optimizer_set_target_chunk_duration (self, g_value_get_double (value));
      break;
    case PROP_ITEM_MEMORY:
      amor_optimizer_set_item_memory (self, g_value_get_uint64 (value));
      break;
    case PROP_SCHEDULE:
      amor_optimizer_set_schedule (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_optimizer_class_init (AmorOptimizerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = amor_optimizer_dispose;
  object_class->get_property = amor_optimizer_get_property;
  object_class->set_property = amor_optimizer_set_property;

  /**
   * AmorOptimizer:system:
   *
   * The machine to plan for. Defaults to [func@Amor.System.get_default];
   * a custom [class@Amor.System] makes plans exact and repeatable.
   *
   * Since: 0.1
   */
  properties[PROP_SYSTEM] =
    g_param_spec_object ("system", NULL, NULL, AMOR_TYPE_SYSTEM, rw);

  /**
   * AmorOptimizer:sample-size:
   *
   * How many items [method@Amor.Optimizer.optimize] times at least; at least
   * 1, default 5.
   *
   * Since: 0.1
   */
  properties[PROP_SAMPLE_SIZE] =
    g_param_spec_uint ("sample-size", NULL, NULL, 1, G_MAXUINT, DEFAULT_SAMPLE_SIZE, rw);

  /**
   * AmorOptimizer:min-speedup:
   *
   * The least modelled speedup for which a plan is parallel; at least 1,
   * default 1.2.
   *
   * Since: 0.1
   */
  properties[PROP_MIN_SPEEDUP] =
    g_param_spec_double ("min-speedup", NULL, NULL, 1.0, G_MAXDOUBLE,
                         AMOR_DEFAULT_MIN_SPEEDUP, rw);

  /**
   * AmorOptimizer:max-workers:
   *
   * The most workers a plan may use; 0 (the default) means as many as are
   * useful.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_WORKERS] =
    g_param_spec_uint ("max-workers", NULL, NULL, 0, G_MAXUINT, 0, rw);

  /**
   * AmorOptimizer:target-chunk-duration:
   *
   * How long one chunk of homogeneous items should take, in seconds: the
   * base chunk size is this divided by the mean item duration. Long enough
   * that handing out a chunk costs little next to it, short enough that the
   * workers finish together. Default 0.001 (1 ms).
   *
   * Since: 0.1
   */
  properties[PROP_TARGET_CHUNK_DURATION] =
    g_param_spec_double ("target-chunk-duration", NULL, NULL,
                         1e-9, G_MAXDOUBLE, AMOR_DEFAULT_TARGET_CHUNK_DURATION, rw);

  /**
   * AmorOptimizer:item-memory:
   *
   * The memory one item needs while it is processed, in bytes; 0 (the
   * default) means unknown. When set, no more workers are planned than the
   * available memory can hold items in flight.
   *
   * Since: 0.1
   */
  properties[PROP_ITEM_MEMORY] =
    g_param_spec_uint64 ("item-memory", NULL, NULL, 0, G_MAXUINT64, 0, rw);

  /**
   * AmorOptimizer:schedule:
   *
   * The schedule of parallel plans: %AMOR_SCHEDULE_FIXED or
   * %AMOR_SCHEDULE_GUIDED. Serial plans are always %AMOR_SCHEDULE_SERIAL.
   *
   * Since: 0.1
   */
  properties[PROP_SCHEDULE] =
    g_param_spec_enum ("schedule", NULL, NULL, AMOR_TYPE_SCHEDULE,
                       AMOR_SCHEDULE_FIXED, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
amor_optimizer_init (AmorOptimizer *self)
{
  self->sample_size = DEFAULT_SAMPLE_SIZE;
  self->min_speedup = AMOR_DEFAULT_MIN_SPEEDUP;
  self->target_chunk_duration = AMOR_DEFAULT_TARGET_CHUNK_DURATION;
  self->schedule = AMOR_SCHEDULE_FIXED;
}

/**
 * amor_optimizer_new:
 *
 * Creates an optimizer with the default options, planning for this machine.
 *
 * Returns: (transfer full): a new #AmorOptimizer
 *
 * Since: 0.1
 */
AmorOptimizer *
amor_optimizer_new (void)
{
  return g_object_new (AMOR_TYPE_OPTIMIZER, NULL);
}

/* g_strv_builder_take() needs GLib 2.80. */
static void
builder_take (GStrvBuilder *builder,
              char         *line)
{
  g_strv_builder_add (builder, line);
  g_free (line);
}

static guint64
ceil_div (guint64 a,
          guint64 b)
{
  return a / b + (a % b != 0);
}

typedef struct
{
  double total;
  double fork_join;
  double dispatch;
  double imbalance;
  guint64 chunk;
} ModelTime;

/* What the model of a plan depends on, besides the worker count. */
typedef struct
{
  double   mean;
  double   cv;
  double   parallel_item_cost;
  gboolean tapered_tail;
  guint    n_cpus;
  double   fork_join_cost;
  double   dispatch_cost;
} ModelInput;

static void
model_time (const ModelInput *in,
            guint64           n_items,
            guint64           chunk,
            guint             n,
            ModelTime        *t)
{
  double mean = in->mean, cv = in->cv;
  double dispatch_cost = in->dispatch_cost;
  double serial = (double) n_items * mean;
  guint64 k = MIN (chunk, ceil_div (n_items, n));
  double n_chunks = (double) ceil_div (n_items, k);

  t->chunk = k;
  if (n <= 1)
    {
      t->fork_join = t->dispatch = t->imbalance = 0.0;
      t->total = serial;
      return;
    }

  t->fork_join = in->fork_join_cost * (double) (n - 1) / (double) MAX (1, in->n_cpus - 1);
  /* Handing out chunks, and (for worker processes) the items in them. */
  t->dispatch = (dispatch_cost * n_chunks + (double) n_items * in->parallel_item_cost) / (double) n;
  {
    /* Equal chunks leave the last round part-filled: with C chunks the
     * slowest worker runs ceil (C / n) of them while the average is C / n.
     * Chunks of varying cost finish at random instead: about half a chunk
     * of idle time per worker, widened by the chunk's own spread
     * (CV / √k). The CV blends the two (capped at 1). */
    double chunk_time = (double) k * mean;
    double rounds = ceil (n_chunks / n);
    double quantised = (rounds - n_chunks / n) * chunk_time;
    double random = (double) (n - 1) / (2.0 * n) * chunk_time *
                    (1.0 + cv / sqrt ((double) k));
    double u = MIN (1.0, cv);

    t->imbalance = (1.0 - u) * quantised + u * random;

    /* An executor whose last chunks shrink (halving down to one item)
     * leaves about one item's spread of idle time, for a round trip per
     * halving. */
    if (in->tapered_tail)
      t->imbalance = MIN (t->imbalance,
                          (double) (n - 1) / (2.0 * n) * mean * (1.0 + cv) +
                          dispatch_cost * log2 ((double) MAX (k, 1)));
  }
  t->total = serial / n + t->fork_join + t->dispatch + t->imbalance;
}

/**
 * amor_optimizer_plan:
 * @self: an #AmorOptimizer
 * @sampler: the statistics of the work
 * @n_items: the number of items of the map
 *
 * Makes the plan for @n_items items whose durations @sampler describes.
 *
 * This is a pure function of its inputs: it measures nothing and starts no
 * thread, so the same inputs always give the same result. The reason, the
 * constraints and the warnings of the result explain the decision in
 * sentences with numbers; with `G_MESSAGES_DEBUG=Amor` every modelled worker
 * count is logged too.
 *
 * Returns: (transfer full): the plan
 *
 * Since: 0.1
 */
AmorResult *
amor_optimizer_plan (AmorOptimizer *self,
                     AmorSampler   *sampler,
                     guint64        n_items)
{
  AmorSystem *system;
  AmorPlan p = { 0 };
  g_autoptr(GStrvBuilder) warnings = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) constraints = g_strv_builder_new ();
  g_autofree char *mean_text = NULL;
  g_autofree char *work_text = NULL;
  double serial;
  guint64 k0, k, done, rest;
  double sampled_time, serial_rest;
  guint cap, cpu_cap, best_n;
  guint64 memory_cap = G_MAXUINT64;
  ModelTime best = { 0 };
  ModelInput model;
  gboolean serial_plan = FALSE;

  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), NULL);
  g_return_val_if_fail (AMOR_IS_SAMPLER (sampler), NULL);

  system = amor_optimizer_get_system (self);

  p.n_items = n_items;
  p.n_samples = amor_sampler_get_n_samples (sampler);
  p.mean = amor_sampler_get_mean (sampler);
  p.cv = amor_sampler_get_cv (sampler);
  p.is_heterogeneous = p.cv > HETEROGENEOUS_CV;
  p.n_cpus = MAX (1, amor_system_get_n_cpus (system));
  p.n_physical_cores = amor_system_get_n_physical_cores (system);
  p.available_memory = amor_system_get_available_memory (system);
  p.min_speedup = self->min_speedup;
  p.n_workers = 1;
  p.chunk_factor = 1.0;
  p.schedule = AMOR_SCHEDULE_SERIAL;
  p.estimated_speedup = 1.0;

  serial = (double) n_items * p.mean;
  p.estimated_serial_time = serial;
  p.estimated_parallel_time = serial;
  p.chunk_size = n_items;

  /* The items the sampler ran are done (an executor does not run them
   * again): the plan is for the rest, and the estimate counts the time
   * sampling took, on one thread. Durations added by hand are of no item
   * of this map. */
  {
    gsize n_run = 0;

    amor_sampler_get_sampled_indices (sampler, &n_run);
    done = MIN ((guint64) n_run, n_items);
    sampled_time = done > 0 ? amor_sampler_get_total (sampler) : 0.0;
    rest = n_items - done;
    serial_rest = (double) rest * p.mean;
  }

  mean_text = amor_format_duration (p.mean);
  work_text = amor_format_duration (serial);

  /* Cases with nothing to model. */
  if (n_items == 0)
    {
      p.reason = g_strdup ("no items");
      goto out;
    }
  if (n_items == 1)
    {
      p.reason = g_strdup ("1 item: there is nothing to split");
      goto out;
    }
  if (p.n_samples == 0)
    {
      p.reason = g_strdup ("no item was timed, so the work cannot be estimated: "
                           "running serially");
      g_strv_builder_add (warnings, "No durations were sampled: time some items "
                                    "(or add their durations) to get a parallel plan.");
      goto out;
    }
  if (p.mean <= 0.0)
    {
      p.reason = g_strdup_printf ("the %u sampled items took no measurable time: "
                                  "%" G_GUINT64_FORMAT " items are too little work to split",
                                  p.n_samples, n_items);
      goto out;
    }

  if (rest < 2)
    {
      p.reason = g_strdup_printf ("%" G_GUINT64_FORMAT " of the %" G_GUINT64_FORMAT
                                  " items were run while sampling: there is nothing "
                                  "left to split", done, n_items);
      goto out;
    }

  /* Only now are the measured costs needed (measuring them is lazy). */
  p.fork_join_cost = amor_system_get_fork_join_cost (system);
  p.dispatch_cost = amor_system_get_dispatch_cost (system);

  /* The chunk: the seed's rule. */
  {
    /* Rounded down; the tiny relative slack keeps 1 ms / 1 µs at 1000
     * when the mean carries a rounding error in its last bit. */
    double base = floor (self->target_chunk_duration / p.mean * (1.0 + 1e-9));
    double reduced;

    k0 = base >= (double) rest ? rest : MAX (1, (guint64) base);
    if (p.is_heterogeneous)
      p.chunk_factor = MAX (0.25, 1.0 - 0.5 * p.cv);
    reduced = floor ((double) k0 * p.chunk_factor * (1.0 + 1e-9));
    k = MAX (1, (guint64) reduced);
  }
  p.base_chunk_size = k0;

  if (p.is_heterogeneous && k < k0)
    builder_take (constraints,
      g_strdup_printf ("Chunk reduced from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                       " items (×%.2f) because the CV %.2f is above 0.5: items of very "
                       "different cost are handed out in smaller chunks so the workers "
                       "finish together.", k0, k, p.chunk_factor, p.cv));
  else if (p.is_heterogeneous)
    builder_take (constraints,
      g_strdup_printf ("The CV %.2f is above 0.5, but chunks of %" G_GUINT64_FORMAT
                       " item%s cannot be made smaller (×%.2f).", p.cv, k,
                       k == 1 ? "" : "s", p.chunk_factor));
  else if (p.cv >= 0.3)
    builder_take (constraints,
      g_strdup_printf ("The CV %.2f is only slightly variable (0.3–0.5): the chunk "
                       "is not reduced.", p.cv));

  /* The worker cap. The chunk shrinks to ceil (N / n) for n workers, so
   * n never exceeds the number of chunks, and the item count caps n. */
  cpu_cap = p.n_cpus;
  cap = cpu_cap;
  if (self->max_workers > 0)
    cap = MIN (cap, self->max_workers);
  if (rest < cap)
    cap = (guint) rest;
  if (self->item_memory > 0)
    {
      memory_cap = MAX (1, p.available_memory / self->item_memory);
      if (memory_cap < cap)
        cap = (guint) memory_cap;
    }
  /* The model is cheap, but not free: no machine needs more workers. */
  cap = CLAMP (cap, 1, AMOR_MAX_MODELLED_WORKERS);

  if (cap == cpu_cap)
    builder_take (constraints,
      g_strdup_printf ("At most %u %s: the number of usable CPUs.", cpu_cap,
                       cpu_cap == 1 ? "worker" : "workers"));
  if (self->max_workers > 0 && cap == self->max_workers && self->max_workers < cpu_cap)
    builder_take (constraints,
      g_strdup_printf ("At most %u %s: the max-workers option.", self->max_workers,
                       self->max_workers == 1 ? "worker" : "workers"));
  if (cap == rest && rest < cpu_cap)
    builder_take (constraints,
      g_strdup_printf ("At most %" G_GUINT64_FORMAT " workers: there are only %"
                       G_GUINT64_FORMAT " items%s.", rest, rest,
                       done > 0 ? " left after sampling" : ""));
  if (self->item_memory > 0 && cap == memory_cap && memory_cap < cpu_cap)
    builder_take (constraints,
      g_strdup_printf ("At most %" G_GUINT64_FORMAT " workers: the available memory "
                       "(%.1f MiB) holds only that many items of %.1f MiB at once.",
                       memory_cap, (double) p.available_memory / 1048576.0,
                       (double) self->item_memory / 1048576.0));

  if (self->parallel_item_cost > 0.0)
    {
      g_autofree char *cost = amor_format_duration (self->parallel_item_cost);

      builder_take (constraints,
        g_strdup_printf ("Handing an item to a worker process costs %s more (its "
                         "serialisation and its result's): counted in every "
                         "parallel estimate, not in the serial one.", cost));
    }

  /* Try every worker count. */
  model.mean = p.mean;
  model.cv = p.cv;
  model.parallel_item_cost = self->parallel_item_cost;
  model.tapered_tail = self->tapered_tail;
  model.n_cpus = p.n_cpus;
  model.fork_join_cost = p.fork_join_cost;
  model.dispatch_cost = p.dispatch_cost;
  best_n = 1;
  model_time (&model, rest, k, 1, &best);
  for (guint n = 2; n <= cap; n++)
    {
      ModelTime t;

      model_time (&model, rest, k, n, &t);
      AMOR_DEBUG ("optimizer: %u workers, chunk %" G_GUINT64_FORMAT ": %.9f s "
               "(fork-join %.9f, dispatch %.9f, imbalance %.9f) → %.3f×",
               n, t.chunk, t.total, t.fork_join, t.dispatch, t.imbalance,
               serial_rest / t.total);
      if (t.total < best.total)
        {
          best = t;
          best_n = n;
        }
    }

  if (best_n == 1)
    {
      /* No parallel count beats the loop (or only one worker is allowed). */
      if (cap == 1 && cpu_cap == 1)
        p.reason = g_strdup ("1 usable CPU: there is nothing to run in parallel on");
      else if (cap == 1)
        p.reason = g_strdup ("only 1 worker is allowed: running serially");
      else
        {
          /* Say by how much the best parallel count fell short. */
          ModelTime two;

          model_time (&model, rest, k, 2, &two);
          p.reason = g_strdup_printf ("estimated %.2f× < %.2f×: %" G_GUINT64_FORMAT
                                      " items of %s are too little work to split",
                                      serial_rest / two.total, self->min_speedup,
                                      n_items, mean_text);
        }
      serial_plan = TRUE;
    }
  else if (serial_rest / best.total < self->min_speedup)
    {
      p.reason = g_strdup_printf ("estimated %.2f× < %.2f×: %" G_GUINT64_FORMAT
                                  " items of %s are too little work to split",
                                  serial_rest / best.total, self->min_speedup,
                                  n_items, mean_text);
      serial_plan = TRUE;
    }

  if (serial_plan)
    {
      p.chunk_size = n_items;
      goto out;
    }

  p.n_workers = best_n;
  p.chunk_size = best.chunk;
  p.schedule = self->schedule;
  p.estimated_parallel_time = sampled_time + best.total;
  p.estimated_speedup = serial / p.estimated_parallel_time;
  p.fork_join_overhead = best.fork_join;
  p.dispatch_overhead = best.dispatch;
  p.imbalance_overhead = best.imbalance;
  p.reason = g_strdup_printf ("estimated %.2f× on %u workers: %" G_GUINT64_FORMAT
                              " items of %s (%s of work) in chunks of %" G_GUINT64_FORMAT,
                              p.estimated_speedup, p.n_workers, n_items, mean_text,
                              work_text, p.chunk_size);
  if (best.chunk < k)
    builder_take (constraints,
      g_strdup_printf ("Chunk capped at %" G_GUINT64_FORMAT " items so each of the %u "
                       "workers gets work.", best.chunk, best_n));
  if (p.n_physical_cores > 0 && p.n_workers > p.n_physical_cores)
    builder_take (warnings,
      g_strdup_printf ("%u workers share %u physical cores: hyper-threads rarely "
                       "give the full speedup the model assumes.",
                       p.n_workers, p.n_physical_cores));

out:
  if (p.n_samples == 1 && n_items > 1)
    g_strv_builder_add (warnings, "Only 1 item was timed: the CV is unknown (taken as "
                                  "0), so varying item costs were not accounted for.");
  else if (p.is_heterogeneous && p.n_samples < 10)
    builder_take (warnings,
      g_strdup_printf ("The CV %.2f comes from only %u samples: it may be noise.",
                       p.cv, p.n_samples));

  p.warnings = g_strv_builder_end (warnings);
  p.constraints = g_strv_builder_end (constraints);

  AMOR_DEBUG ("optimizer: %" G_GUINT64_FORMAT " items, mean %.9f s, cv %.3f → "
           "%u workers, chunk %" G_GUINT64_FORMAT ", %.3f× (%s)",
           n_items, p.mean, p.cv, p.n_workers, p.chunk_size,
           p.estimated_speedup, p.reason);

  return amor_result_new_take_plan (&p);
}

void
amor_optimizer_set_parallel_item_cost (AmorOptimizer *self,
                                       double         seconds)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));
  g_return_if_fail (seconds >= 0.0);

  self->parallel_item_cost = seconds;
}

void
amor_optimizer_set_tapered_tail (AmorOptimizer *self,
                                 gboolean       tapered)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));

  self->tapered_tail = tapered;
}

/**
 * amor_optimizer_create_sampler:
 * @self: an #AmorOptimizer
 *
 * Creates a sampler configured with this optimizer's sample size.
 *
 * Returns: (transfer full): a new #AmorSampler
 *
 * Since: 0.1
 */
AmorSampler *
amor_optimizer_create_sampler (AmorOptimizer *self)
{
  AmorSampler *sampler;

  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), NULL);

  sampler = amor_sampler_new ();
  amor_sampler_set_sample_size (sampler, self->sample_size);
  if (amor_sampler_get_max_sample_size (sampler) < self->sample_size)
    amor_sampler_set_max_sample_size (sampler, self->sample_size);
  return sampler;
}

/**
 * amor_optimizer_optimize:
 * @self: an #AmorOptimizer
 * @n_items: the number of items of the map
 * @func: (scope call) (closure user_data): the work of one item
 * @user_data: data for @func
 * @error: return location for a #GError
 *
 * Samples @func on a few items (on the calling thread, see
 * [method@Amor.Sampler.run]) and plans the map.
 *
 * The sampled items are really processed; [class@Amor.Executor] runs the
 * rest without running them again. Used on its own, this function is for
 * deciding: the caller then runs every item itself.
 *
 * Returns: (transfer full): the plan, or %NULL with @error set if @func
 *   failed
 *
 * Since: 0.1
 */
AmorResult *
amor_optimizer_optimize (AmorOptimizer  *self,
                         guint64         n_items,
                         AmorWorkFunc    func,
                         gpointer        user_data,
                         GError        **error)
{
  g_autoptr(AmorSampler) sampler = NULL;

  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  sampler = amor_optimizer_create_sampler (self);
  if (!amor_sampler_run (sampler, n_items, func, user_data, error))
    return NULL;

  return amor_optimizer_plan (self, sampler, n_items);
}

/**
 * amor_optimizer_get_system:
 * @self: an #AmorOptimizer
 *
 * Gets [property@Amor.Optimizer:system].
 *
 * Returns: (transfer none): the system planned for
 *
 * Since: 0.1
 */
AmorSystem *
amor_optimizer_get_system (AmorOptimizer *self)
{
  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), NULL);
  return self->system != NULL ? self->system : amor_system_get_default ();
}

/**
 * amor_optimizer_set_system:
 * @self: an #AmorOptimizer
 * @system: (nullable): the system to plan for, or %NULL for the default
 *
 * Sets [property@Amor.Optimizer:system].
 *
 * Since: 0.1
 */
void
amor_optimizer_set_system (AmorOptimizer *self,
                           AmorSystem    *system)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));
  g_return_if_fail (system == NULL || AMOR_IS_SYSTEM (system));

  if (g_set_object (&self->system, system))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYSTEM]);
}

/**
 * amor_optimizer_get_sample_size:
 * @self: an #AmorOptimizer
 *
 * Gets [property@Amor.Optimizer:sample-size].
 *
 * Returns: the base number of items to sample
 *
 * Since: 0.1
 */
guint
amor_optimizer_get_sample_size (AmorOptimizer *self)
{
  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), 0);
  return self->sample_size;
}

/**
 * amor_optimizer_set_sample_size:
 * @self: an #AmorOptimizer
 * @sample_size: the base number of items to sample, at least 1
 *
 * Sets [property@Amor.Optimizer:sample-size].
 *
 * Since: 0.1
 */
void
amor_optimizer_set_sample_size (AmorOptimizer *self,
                                guint          sample_size)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));
  g_return_if_fail (sample_size >= 1);

  if (self->sample_size != sample_size)
    {
      self->sample_size = sample_size;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAMPLE_SIZE]);
    }
}

/**
 * amor_optimizer_get_min_speedup:
 * @self: an #AmorOptimizer
 *
 * Gets [property@Amor.Optimizer:min-speedup].
 *
 * Returns: the least speedup worth running in parallel
 *
 * Since: 0.1
 */
double
amor_optimizer_get_min_speedup (AmorOptimizer *self)
{
  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), 0.0);
  return self->min_speedup;
}

/**
 * amor_optimizer_set_min_speedup:
 * @self: an #AmorOptimizer
 * @min_speedup: the least speedup worth running in parallel, at least 1
 *
 * Sets [property@Amor.Optimizer:min-speedup].
 *
 * Since: 0.1
 */
void
amor_optimizer_set_min_speedup (AmorOptimizer *self,
                                double         min_speedup)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));
  g_return_if_fail (isfinite (min_speedup) && min_speedup >= 1.0);

  if (self->min_speedup != min_speedup)
    {
      self->min_speedup = min_speedup;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_SPEEDUP]);
    }
}

/**
 * amor_optimizer_get_max_workers:
 * @self: an #AmorOptimizer
 *
 * Gets [property@Amor.Optimizer:max-workers].
 *
 * Returns: the most workers allowed, 0 for no limit
 *
 * Since: 0.1
 */
guint
amor_optimizer_get_max_workers (AmorOptimizer *self)
{
  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), 0);
  return self->max_workers;
}

/**
 * amor_optimizer_set_max_workers:
 * @self: an #AmorOptimizer
 * @max_workers: the most workers allowed, 0 for no limit
 *
 * Sets [property@Amor.Optimizer:max-workers]. A value above the number of
 * usable CPUs is allowed and has no effect: the CPUs cap the plan anyway.
 *
 * Since: 0.1
 */
void
amor_optimizer_set_max_workers (AmorOptimizer *self,
                                guint          max_workers)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));

  if (self->max_workers != max_workers)
    {
      self->max_workers = max_workers;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_WORKERS]);
    }
}

/**
 * amor_optimizer_get_target_chunk_duration:
 * @self: an #AmorOptimizer
 *
 * Gets [property@Amor.Optimizer:target-chunk-duration].
 *
 * Returns: the target duration of one chunk, in seconds
 *
 * Since: 0.1
 */
double
amor_optimizer_get_target_chunk_duration (AmorOptimizer *self)
{
  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), 0.0);
  return self->target_chunk_duration;
}

/**
 * amor_optimizer_set_target_chunk_duration:
 * @self: an #AmorOptimizer
 * @seconds: the target duration of one chunk (finite, above 0)
 *
 * Sets [property@Amor.Optimizer:target-chunk-duration].
 *
 * Since: 0.1
 */
void
amor_optimizer_set_target_chunk_duration (AmorOptimizer *self,
                                          double         seconds)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));
  g_return_if_fail (isfinite (seconds) && seconds > 0.0);

  if (self->target_chunk_duration != seconds)
    {
      self->target_chunk_duration = seconds;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET_CHUNK_DURATION]);
    }
}

/**
 * amor_optimizer_get_item_memory:
 * @self: an #AmorOptimizer
 *
 * Gets [property@Amor.Optimizer:item-memory].
 *
 * Returns: the memory one item needs, in bytes, 0 if unknown
 *
 * Since: 0.1
 */
guint64
amor_optimizer_get_item_memory (AmorOptimizer *self)
{
  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), 0);
  return self->item_memory;
}

/**
 * amor_optimizer_set_item_memory:
 * @self: an #AmorOptimizer
 * @bytes: the memory one item needs, 0 if unknown
 *
 * Sets [property@Amor.Optimizer:item-memory].
 *
 * Since: 0.1
 */
void
amor_optimizer_set_item_memory (AmorOptimizer *self,
                                guint64        bytes)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));

  if (self->item_memory != bytes)
    {
      self->item_memory = bytes;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM_MEMORY]);
    }
}

/**
 * amor_optimizer_get_schedule:
 * @self: an #AmorOptimizer
 *
 * Gets [property@Amor.Optimizer:schedule].
 *
 * Returns: the schedule of parallel plans
 *
 * Since: 0.1
 */
AmorSchedule
amor_optimizer_get_schedule (AmorOptimizer *self)
{
  g_return_val_if_fail (AMOR_IS_OPTIMIZER (self), AMOR_SCHEDULE_FIXED);
  return self->schedule;
}

/**
 * amor_optimizer_set_schedule:
 * @self: an #AmorOptimizer
 * @schedule: %AMOR_SCHEDULE_FIXED or %AMOR_SCHEDULE_GUIDED
 *
 * Sets [property@Amor.Optimizer:schedule].
 *
 * Since: 0.1
 */
void
amor_optimizer_set_schedule (AmorOptimizer *self,
                             AmorSchedule   schedule)
{
  g_return_if_fail (AMOR_IS_OPTIMIZER (self));
  g_return_if_fail (schedule == AMOR_SCHEDULE_FIXED || schedule == AMOR_SCHEDULE_GUIDED);

  if (self->schedule != schedule)
    {
      self->schedule = schedule;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCHEDULE]);
    }
}
