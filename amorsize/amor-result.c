/* amor-result.c: an immutable parallelisation plan
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "amor-enums.h"
#include "amor-error.h"
#include "amor-format-private.h"
#include "amor-result-private.h"

/**
 * AmorResult:
 *
 * A plan for a map: how many workers, what chunk size, which schedule, and
 * why — with the figures it was made from.
 *
 * A result is immutable. [method@Amor.Optimizer.plan] and
 * [method@Amor.Optimizer.optimize] make one; [method@Amor.Result.explain]
 * prints it for a person, and [method@Amor.Result.to_json] /
 * [ctor@Amor.Result.new_from_json] carry it to a file and back, so a plan
 * can be made once and reused with [method@Amor.Executor.run_with_plan].
 *
 * [property@Amor.Result:chunk-size] is the chunk size to give a pool of your
 * own: it follows the heterogeneity rule (see the "Heterogeneous workloads"
 * page), and [property@Amor.Result:chunk-factor] says how much it was
 * reduced.
 *
 * Since: 0.1
 */

struct _AmorResult
{
  GObject  parent_instance;
  AmorPlan plan;
};

G_DEFINE_FINAL_TYPE (AmorResult, amor_result, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_N_WORKERS,
  PROP_CHUNK_SIZE,
  PROP_BASE_CHUNK_SIZE,
  PROP_CHUNK_FACTOR,
  PROP_SCHEDULE,
  PROP_ESTIMATED_SPEEDUP,
  PROP_ESTIMATED_SERIAL_TIME,
  PROP_ESTIMATED_PARALLEL_TIME,
  PROP_FORK_JOIN_OVERHEAD,
  PROP_DISPATCH_OVERHEAD,
  PROP_IMBALANCE_OVERHEAD,
  PROP_MEAN,
  PROP_CV,
  PROP_IS_HETEROGENEOUS,
  PROP_N_ITEMS,
  PROP_N_SAMPLES,
  PROP_N_CPUS,
  PROP_REASON,
  PROP_WARNINGS,
  PROP_CONSTRAINTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
amor_plan_clear (AmorPlan *plan)
{
  g_clear_pointer (&plan->reason, g_free);
  g_clear_pointer (&plan->warnings, g_strfreev);
  g_clear_pointer (&plan->constraints, g_strfreev);
}

static void
amor_result_finalize (GObject *object)
{
  AmorResult *self = AMOR_RESULT (object);

  amor_plan_clear (&self->plan);

  G_OBJECT_CLASS (amor_result_parent_class)->finalize (object);
}

static void
amor_result_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  AmorResult *self = AMOR_RESULT (object);
  const AmorPlan *p = &self->plan;

  switch (prop_id)
    {
    case PROP_N_WORKERS:
      g_value_set_uint (value, p->n_workers);
      break;
    case PROP_CHUNK_SIZE:
      g_value_set_uint64 (value, p->chunk_size);
      break;
    case PROP_BASE_CHUNK_SIZE:
      g_value_set_uint64 (value, p->base_chunk_size);
      break;
    case PROP_CHUNK_FACTOR:
      g_value_set_double (value, p->chunk_factor);
      break;
    case PROP_SCHEDULE:
      g_value_set_enum (value, p->schedule);
      break;
    case PROP_ESTIMATED_SPEEDUP:
      g_value_set_double (value, p->estimated_speedup);
      break;
    case PROP_ESTIMATED_SERIAL_TIME:
      g_value_set_double (value, p->estimated_serial_time);
      break;
    case PROP_ESTIMATED_PARALLEL_TIME:
      g_value_set_double (value, p->estimated_parallel_time);
      break;
    case PROP_FORK_JOIN_OVERHEAD:
      g_value_set_double (value, p->fork_join_overhead);
      break;
    case PROP_DISPATCH_OVERHEAD:
      g_value_set_double (value, p->dispatch_overhead);
      break;
    case PROP_IMBALANCE_OVERHEAD:
      g_value_set_double (value, p->imbalance_overhead);
      break;
    case PROP_MEAN:
      g_value_set_double (value, p->mean);
      break;
    case PROP_CV:
      g_value_set_double (value, p->cv);
      break;
    case PROP_IS_HETEROGENEOUS:
      g_value_set_boolean (value, p->is_heterogeneous);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint64 (value, p->n_items);
      break;
    case PROP_N_SAMPLES:
      g_value_set_uint (value, p->n_samples);
      break;
    case PROP_N_CPUS:
      g_value_set_uint (value, p->n_cpus);
      break;
    case PROP_REASON:
      g_value_set_string (value, p->reason);
      break;
    case PROP_WARNINGS:
      g_value_set_boxed (value, p->warnings);
      break;
    case PROP_CONSTRAINTS:
      g_value_set_boxed (value, p->constraints);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_result_class_init (AmorResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = amor_result_finalize;
  object_class->get_property = amor_result_get_property;

  /**
   * AmorResult:n-workers:
   *
   * The number of workers to run on; 1 for a serial plan.
   *
   * Since: 0.1
   */
  properties[PROP_N_WORKERS] =
    g_param_spec_uint ("n-workers", NULL, NULL, 1, G_MAXUINT, 1, ro);

  /**
   * AmorResult:chunk-size:
   *
   * The number of items handed to a worker at a time: for a fixed schedule
   * every chunk, for a guided one the smallest. For a serial plan it is the
   * number of items (one chunk).
   *
   * Since: 0.1
   */
  properties[PROP_CHUNK_SIZE] =
    g_param_spec_uint64 ("chunk-size", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  /**
   * AmorResult:base-chunk-size:
   *
   * The chunk size before the heterogeneity reduction:
   * `target-chunk-duration / mean`, at least 1.
   *
   * Since: 0.1
   */
  properties[PROP_BASE_CHUNK_SIZE] =
    g_param_spec_uint64 ("base-chunk-size", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  /**
   * AmorResult:chunk-factor:
   *
   * The heterogeneity reduction applied to the base chunk: 1 when the CV is
   * at most 0.5, otherwise `max (0.25, 1 − 0.5 · CV)`.
   *
   * Since: 0.1
   */
  properties[PROP_CHUNK_FACTOR] =
    g_param_spec_double ("chunk-factor", NULL, NULL, 0.0, 1.0, 1.0, ro);

  /**
   * AmorResult:schedule:
   *
   * How the items are handed to the workers.
   *
   * Since: 0.1
   */
  properties[PROP_SCHEDULE] =
    g_param_spec_enum ("schedule", NULL, NULL, AMOR_TYPE_SCHEDULE,
                       AMOR_SCHEDULE_SERIAL, ro);

  /**
   * AmorResult:estimated-speedup:
   *
   * The modelled speedup: estimated serial time / estimated parallel time
   * (1 for a serial plan).
   *
   * Since: 0.1
   */
  properties[PROP_ESTIMATED_SPEEDUP] =
    g_param_spec_double ("estimated-speedup", NULL, NULL, 0.0, G_MAXDOUBLE, 1.0, ro);

  /**
   * AmorResult:estimated-serial-time:
   *
   * The modelled time of a plain loop over every item, in seconds:
   * `n-items × mean`.
   *
   * Since: 0.1
   */
  properties[PROP_ESTIMATED_SERIAL_TIME] =
    g_param_spec_double ("estimated-serial-time", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorResult:estimated-parallel-time:
   *
   * The modelled time of the plan, in seconds, overheads included.
   *
   * Since: 0.1
   */
  properties[PROP_ESTIMATED_PARALLEL_TIME] =
    g_param_spec_double ("estimated-parallel-time", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorResult:fork-join-overhead:
   *
   * The part of the modelled time spent waking and joining the workers, in
   * seconds.
   *
   * Since: 0.1
   */
  properties[PROP_FORK_JOIN_OVERHEAD] =
    g_param_spec_double ("fork-join-overhead", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorResult:dispatch-overhead:
   *
   * The part of the modelled time spent handing out chunks, in seconds.
   *
   * Since: 0.1
   */
  properties[PROP_DISPATCH_OVERHEAD] =
    g_param_spec_double ("dispatch-overhead", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorResult:imbalance-overhead:
   *
   * The part of the modelled time lost to workers finishing at different
   * times, in seconds.
   *
   * Since: 0.1
   */
  properties[PROP_IMBALANCE_OVERHEAD] =
    g_param_spec_double ("imbalance-overhead", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorResult:mean:
   *
   * The sampled mean duration of one item, in seconds.
   *
   * Since: 0.1
   */
  properties[PROP_MEAN] =
    g_param_spec_double ("mean", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorResult:cv:
   *
   * The coefficient of variation of the sampled durations.
   *
   * Since: 0.1
   */
  properties[PROP_CV] =
    g_param_spec_double ("cv", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorResult:is-heterogeneous:
   *
   * Whether the CV is above 0.5, so the chunk was reduced.
   *
   * Since: 0.1
   */
  properties[PROP_IS_HETEROGENEOUS] =
    g_param_spec_boolean ("is-heterogeneous", NULL, NULL, FALSE, ro);

  /**
   * AmorResult:n-items:
   *
   * The number of items the plan is for.
   *
   * Since: 0.1
   */
  properties[PROP_N_ITEMS] =
    g_param_spec_uint64 ("n-items", NULL, NULL, 0, G_MAXUINT64, 0, ro);

  /**
   * AmorResult:n-samples:
   *
   * The number of durations the plan was made from.
   *
   * Since: 0.1
   */
  properties[PROP_N_SAMPLES] =
    g_param_spec_uint ("n-samples", NULL, NULL, 0, G_MAXUINT, 0, ro);

  /**
   * AmorResult:n-cpus:
   *
   * The usable CPUs of the system the plan was made for.
   *
   * Since: 0.1
   */
  properties[PROP_N_CPUS] =
    g_param_spec_uint ("n-cpus", NULL, NULL, 0, G_MAXUINT, 0, ro);

  /**
   * AmorResult:reason:
   *
   * One sentence saying why the plan is what it is, with the numbers.
   *
   * Since: 0.1
   */
  properties[PROP_REASON] =
    g_param_spec_string ("reason", NULL, NULL, NULL, ro);

  /**
   * AmorResult:warnings:
   *
   * Things the caller should know about the plan, one sentence each (a CV
   * computed from few samples, for example).
   *
   * Since: 0.1
   */
  properties[PROP_WARNINGS] =
    g_param_spec_boxed ("warnings", NULL, NULL, G_TYPE_STRV, ro);

  /**
   * AmorResult:constraints:
   *
   * What limited the plan, one sentence each: the caps on the worker count,
   * the chunk reduction for heterogeneous work.
   *
   * Since: 0.1
   */
  properties[PROP_CONSTRAINTS] =
    g_param_spec_boxed ("constraints", NULL, NULL, G_TYPE_STRV, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
amor_result_init (AmorResult *self)
{
}

AmorResult *
amor_result_new_take_plan (AmorPlan *plan)
{
  AmorResult *self = g_object_new (AMOR_TYPE_RESULT, NULL);

  self->plan = *plan;
  if (self->plan.reason == NULL)
    self->plan.reason = g_strdup ("");
  if (self->plan.warnings == NULL)
    self->plan.warnings = g_new0 (char *, 1);
  if (self->plan.constraints == NULL)
    self->plan.constraints = g_new0 (char *, 1);
  memset (plan, 0, sizeof *plan);

  return self;
}

const AmorPlan *
amor_result_peek_plan (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), NULL);
  return &self->plan;
}

/**
 * amor_result_new_from_json:
 * @json: the JSON text written by [method@Amor.Result.to_json]
 * @error: return location for a #GError
 *
 * Reads a plan back from JSON.
 *
 * The text must be an object with `"format": "amorsize-result"` and a
 * `version` this library knows. Malformed or truncated text fails with
 * %AMOR_ERROR_PARSE, a missing, wrongly typed or out-of-range member with
 * %AMOR_ERROR_INVALID_DATA, and a newer format version with
 * %AMOR_ERROR_UNSUPPORTED_VERSION; the message names the problem.
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 *
 * Since: 0.1
 */
AmorResult *
amor_result_new_from_json (const char  *json,
                           GError     **error)
{
  AmorPlan plan = { 0 };

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!amor_plan_from_json (json, &plan, error))
    {
      amor_plan_clear (&plan);
      return NULL;
    }

  return amor_result_new_take_plan (&plan);
}

/**
 * amor_result_to_json:
 * @self: an #AmorResult
 *
 * Writes the plan as JSON, readable by [ctor@Amor.Result.new_from_json].
 *
 * Returns: (transfer full): the JSON text
 *
 * Since: 0.1
 */
char *
amor_result_to_json (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), NULL);
  return amor_plan_to_json (&self->plan);
}

static void
append_duration (GString *s,
                 double   seconds)
{
  g_autofree char *text = amor_format_duration (seconds);

  g_string_append (s, text);
}

static const char *
cv_class (double cv)
{
  if (cv < 0.3)
    return "homogeneous";
  if (cv <= 0.5)
    return "slightly variable";
  if (cv <= 0.7)
    return "moderately heterogeneous";
  return "highly heterogeneous";
}

static const char *
schedule_name (AmorSchedule schedule)
{
  switch (schedule)
    {
    case AMOR_SCHEDULE_SERIAL:
      return "serial (inline on the calling thread)";
    case AMOR_SCHEDULE_FIXED:
      return "fixed chunks from a shared counter";
    case AMOR_SCHEDULE_GUIDED:
      return "guided chunks, large first, never below the chunk size";
    default:
      return "unknown";
    }
}

/**
 * amor_result_explain:
 * @self: an #AmorResult
 *
 * Describes the plan for a person, in several sections: the workload (items,
 * mean, CV and what it means), the system, the decision and why, the
 * prediction with its overhead breakdown, the constraints that shaped it,
 * and recommendations.
 *
 * Returns: (transfer full): a multi-line report
 *
 * Since: 0.1
 */
char *
amor_result_explain (AmorResult *self)
{
  const AmorPlan *p;
  GString *s;

  g_return_val_if_fail (AMOR_IS_RESULT (self), NULL);

  p = &self->plan;
  s = g_string_new (NULL);

  g_string_append (s, "Workload\n");
  g_string_append_printf (s, "  items:            %" G_GUINT64_FORMAT "\n", p->n_items);
  g_string_append_printf (s, "  samples:          %u\n", p->n_samples);
  g_string_append (s, "  mean per item:    ");
  append_duration (s, p->mean);
  g_string_append (s, "\n");
  g_string_append_printf (s, "  CV:               %.3f (%s%s)\n", p->cv, cv_class (p->cv),
                          p->is_heterogeneous ? ": chunks reduced" : "");
  g_string_append (s, "  serial time:      ");
  append_duration (s, p->estimated_serial_time);
  g_string_append (s, " (estimated)\n");

  g_string_append (s, "System\n");
  g_string_append_printf (s, "  usable CPUs:      %u (%u physical cores)\n",
                          p->n_cpus, p->n_physical_cores);
  g_string_append_printf (s, "  available memory: %.1f MiB\n",
                          (double) p->available_memory / (1024.0 * 1024.0));
  g_string_append (s, "  fork-join cost:   ");
  append_duration (s, p->fork_join_cost);
  g_string_append (s, "\n  dispatch cost:    ");
  append_duration (s, p->dispatch_cost);
  g_string_append (s, " per chunk\n");

  g_string_append (s, "Decision\n");
  g_string_append_printf (s, "  workers:          %u\n", p->n_workers);
  g_string_append_printf (s, "  chunk size:       %" G_GUINT64_FORMAT, p->chunk_size);
  if (p->schedule != AMOR_SCHEDULE_SERIAL && p->chunk_factor < 1.0)
    g_string_append_printf (s, " (base %" G_GUINT64_FORMAT " × %.2f for CV %.2f)",
                            p->base_chunk_size, p->chunk_factor, p->cv);
  g_string_append (s, "\n");
  g_string_append_printf (s, "  schedule:         %s\n", schedule_name (p->schedule));
  g_string_append_printf (s, "  reason:           %s\n", p->reason);

  g_string_append (s, "Prediction\n");
  g_string_append_printf (s, "  speedup:          %.2f× (minimum worth it: %.2f×)\n",
                          p->estimated_speedup, p->min_speedup);
  g_string_append (s, "  parallel time:    ");
  append_duration (s, p->estimated_parallel_time);
  g_string_append (s, "\n  fork-join:        ");
  append_duration (s, p->fork_join_overhead);
  g_string_append (s, "\n  dispatch:         ");
  append_duration (s, p->dispatch_overhead);
  g_string_append (s, "\n  imbalance:        ");
  append_duration (s, p->imbalance_overhead);
  g_string_append (s, "\n");

  g_string_append (s, "Constraints\n");
  if (p->constraints == NULL || p->constraints[0] == NULL)
    g_string_append (s, "  none\n");
  else
    for (guint i = 0; p->constraints[i] != NULL; i++)
      g_string_append_printf (s, "  - %s\n", p->constraints[i]);

  if (p->warnings != NULL && p->warnings[0] != NULL)
    {
      g_string_append (s, "Warnings\n");
      for (guint i = 0; p->warnings[i] != NULL; i++)
        g_string_append_printf (s, "  - %s\n", p->warnings[i]);
    }

  g_string_append (s, "Recommendations\n");
  if (p->schedule == AMOR_SCHEDULE_SERIAL)
    {
      g_string_append (s, "  - Run the items in a plain loop.\n");
      if (p->n_items > 1 && p->mean > 0.0)
        g_string_append (s, "  - Batch more work per item, or more items per map, "
                            "if you want parallel speed.\n");
    }
  else
    {
      g_string_append_printf (s, "  - With a pool of your own, hand out chunks of %"
                              G_GUINT64_FORMAT " items to %u workers.\n",
                              p->chunk_size, p->n_workers);
      if (p->is_heterogeneous)
        g_string_append (s, "  - Item costs vary a lot: take chunks dynamically "
                            "(a shared counter), not one fixed range per worker.\n");
    }
  if (p->n_samples < 3 && p->n_items > p->n_samples)
    g_string_append (s, "  - Sample more items for a trustworthy CV.\n");

  return g_string_free (s, FALSE);
}

/**
 * amor_result_is_parallel:
 * @self: an #AmorResult
 *
 * Whether the plan runs on more than one worker.
 *
 * Returns: %TRUE for a parallel plan, %FALSE for a serial one
 *
 * Since: 0.1
 */
gboolean
amor_result_is_parallel (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), FALSE);
  return self->plan.schedule != AMOR_SCHEDULE_SERIAL && self->plan.n_workers > 1;
}

/**
 * amor_result_get_n_workers:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:n-workers].
 *
 * Returns: the number of workers
 *
 * Since: 0.1
 */
guint
amor_result_get_n_workers (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 1);
  return self->plan.n_workers;
}

/**
 * amor_result_get_chunk_size:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:chunk-size].
 *
 * Returns: the chunk size in items
 *
 * Since: 0.1
 */
guint64
amor_result_get_chunk_size (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0);
  return self->plan.chunk_size;
}

/**
 * amor_result_get_base_chunk_size:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:base-chunk-size].
 *
 * Returns: the chunk size before the heterogeneity reduction
 *
 * Since: 0.1
 */
guint64
amor_result_get_base_chunk_size (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0);
  return self->plan.base_chunk_size;
}

/**
 * amor_result_get_chunk_factor:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:chunk-factor].
 *
 * Returns: the heterogeneity reduction factor
 *
 * Since: 0.1
 */
double
amor_result_get_chunk_factor (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 1.0);
  return self->plan.chunk_factor;
}

/**
 * amor_result_get_schedule:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:schedule].
 *
 * Returns: the schedule
 *
 * Since: 0.1
 */
AmorSchedule
amor_result_get_schedule (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), AMOR_SCHEDULE_SERIAL);
  return self->plan.schedule;
}

/**
 * amor_result_get_estimated_speedup:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:estimated-speedup].
 *
 * Returns: the modelled speedup
 *
 * Since: 0.1
 */
double
amor_result_get_estimated_speedup (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 1.0);
  return self->plan.estimated_speedup;
}

/**
 * amor_result_get_estimated_serial_time:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:estimated-serial-time].
 *
 * Returns: the modelled serial time in seconds
 *
 * Since: 0.1
 */
double
amor_result_get_estimated_serial_time (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0.0);
  return self->plan.estimated_serial_time;
}

/**
 * amor_result_get_estimated_parallel_time:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:estimated-parallel-time].
 *
 * Returns: the modelled time of the plan in seconds
 *
 * Since: 0.1
 */
double
amor_result_get_estimated_parallel_time (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0.0);
  return self->plan.estimated_parallel_time;
}

/**
 * amor_result_get_fork_join_overhead:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:fork-join-overhead].
 *
 * Returns: the modelled fork-join overhead in seconds
 *
 * Since: 0.1
 */
double
amor_result_get_fork_join_overhead (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0.0);
  return self->plan.fork_join_overhead;
}

/**
 * amor_result_get_dispatch_overhead:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:dispatch-overhead].
 *
 * Returns: the modelled dispatch overhead in seconds
 *
 * Since: 0.1
 */
double
amor_result_get_dispatch_overhead (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0.0);
  return self->plan.dispatch_overhead;
}

/**
 * amor_result_get_imbalance_overhead:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:imbalance-overhead].
 *
 * Returns: the modelled imbalance overhead in seconds
 *
 * Since: 0.1
 */
double
amor_result_get_imbalance_overhead (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0.0);
  return self->plan.imbalance_overhead;
}

/**
 * amor_result_get_mean:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:mean].
 *
 * Returns: the mean duration of one item in seconds
 *
 * Since: 0.1
 */
double
amor_result_get_mean (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0.0);
  return self->plan.mean;
}

/**
 * amor_result_get_cv:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:cv].
 *
 * Returns: the coefficient of variation
 *
 * Since: 0.1
 */
double
amor_result_get_cv (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0.0);
  return self->plan.cv;
}

/**
 * amor_result_get_is_heterogeneous:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:is-heterogeneous].
 *
 * Returns: %TRUE if the CV is above 0.5
 *
 * Since: 0.1
 */
gboolean
amor_result_get_is_heterogeneous (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), FALSE);
  return self->plan.is_heterogeneous;
}

/**
 * amor_result_get_n_items:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:n-items].
 *
 * Returns: the number of items
 *
 * Since: 0.1
 */
guint64
amor_result_get_n_items (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0);
  return self->plan.n_items;
}

/**
 * amor_result_get_n_samples:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:n-samples].
 *
 * Returns: the number of durations the plan was made from
 *
 * Since: 0.1
 */
guint
amor_result_get_n_samples (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0);
  return self->plan.n_samples;
}

/**
 * amor_result_get_n_cpus:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:n-cpus].
 *
 * Returns: the usable CPUs planned for
 *
 * Since: 0.1
 */
guint
amor_result_get_n_cpus (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), 0);
  return self->plan.n_cpus;
}

/**
 * amor_result_get_reason:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:reason].
 *
 * Returns: (transfer none): why the plan is what it is
 *
 * Since: 0.1
 */
const char *
amor_result_get_reason (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), NULL);
  return self->plan.reason;
}

/**
 * amor_result_get_warnings:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:warnings].
 *
 * Returns: (transfer none) (array zero-terminated=1): the warnings, possibly
 *   none
 *
 * Since: 0.1
 */
const char * const *
amor_result_get_warnings (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), NULL);
  return (const char * const *) self->plan.warnings;
}

/**
 * amor_result_get_constraints:
 * @self: an #AmorResult
 *
 * Gets [property@Amor.Result:constraints].
 *
 * Returns: (transfer none) (array zero-terminated=1): the constraints,
 *   possibly none
 *
 * Since: 0.1
 */
const char * const *
amor_result_get_constraints (AmorResult *self)
{
  g_return_val_if_fail (AMOR_IS_RESULT (self), NULL);
  return (const char * const *) self->plan.constraints;
}
