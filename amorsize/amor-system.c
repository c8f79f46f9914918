/* amor-system.c: what this machine offers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "amor-pool-private.h"
#include "amor-debug-private.h"
#include "amor-system-private.h"

/**
 * AmorSystem:
 *
 * What a machine offers a parallel map: the facts [class@Amor.Optimizer]
 * plans with.
 *
 * - [property@Amor.System:n-cpus]: the CPUs this process may use — those in
 *   its CPU affinity mask, further limited by a cgroup v2 `cpu.max` quota
 *   (of its cgroup or of any parent), rounded up, so a container given
 *   1.5 CPUs counts 2;
 * - [property@Amor.System:n-physical-cores]: the physical cores behind them
 *   (hyperthreads counted once), never more than the CPUs;
 * - [property@Amor.System:available-memory]: `MemAvailable` of
 *   `/proc/meminfo`, further limited by the room left in the cgroup
 *   (`memory.max` − `memory.current`, of the cgroup and its parents);
 * - [property@Amor.System:fork-join-cost]: the measured seconds to wake a
 *   team of as many worker threads as there are CPUs and wait for them all
 *   to return (0 with one CPU);
 * - [property@Amor.System:dispatch-cost]: the measured seconds to hand one
 *   chunk of items to a worker, with every worker pulling chunks from one
 *   shared atomic counter.
 *
 * The costs are measured on the worker threads [class@Amor.Executor] runs
 * on, the first time they are asked for, in a few milliseconds; the
 * measurement is kept for the process, so every system with the same
 * number of CPUs shares it. Threads that have been idle for a while wake
 * up more slowly than the short probe can see, so every parallel run of an
 * executor feeds the fork-join overhead it really had back into a measured
 * fork-join cost (half way each time, without a notification); a cost
 * given at construction never changes.
 *
 * [func@Amor.System.get_default] is this machine, read once;
 * [ctor@Amor.System.new] reads it again. Every property is also a
 * construct-only property that, when left unset (0 for the counts and the
 * memory, -1 for the costs), is read or measured from this machine: a
 * custom system ([ctor@Amor.System.new_custom], or g_object_new() with
 * some of the properties) fixes what a test or a simulation needs exactly
 * and leaves the rest to the machine. With every property given, the plan
 * an optimizer makes is the same on every machine.
 *
 * In C:
 *
 * ```c
 * g_autoptr(AmorSystem) system = amor_system_new_custom (8, 4, (guint64) 16 << 30,
 *                                                        20e-6, 100e-9);
 * // or only some of it
 * g_autoptr(AmorSystem) quad = g_object_new (AMOR_TYPE_SYSTEM, "n-cpus", 4, NULL);
 * ```
 *
 * In Python:
 *
 * ```python
 * system = Amor.System(n_cpus=8, n_physical_cores=4, available_memory=16 << 30,
 *                      fork_join_cost=20e-6, dispatch_cost=100e-9)
 * ```
 *
 * In JavaScript:
 *
 * ```js
 * const system = new Amor.System({n_cpus: 8, fork_join_cost: 20e-6, dispatch_cost: 100e-9});
 * ```
 *
 * Run with `G_MESSAGES_DEBUG=Amor` to see every file read and every
 * measurement made.
 *
 * Since: 0.1
 */

struct _AmorSystem
{
  GObject  parent_instance;

  guint    n_cpus;            /* 0 until read */
  guint    n_physical_cores;  /* 0 until read */
  guint64  available_memory;  /* 0 until read */
  double   given_fork_join_cost;  /* -1: measure */
  double   given_dispatch_cost;   /* -1: measure */
  double   fork_join_cost;        /* valid once costs_known */
  double   dispatch_cost;         /* valid once costs_known */
  gint     costs_known;           /* atomic */
};

G_DEFINE_FINAL_TYPE (AmorSystem, amor_system, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_N_CPUS,
  PROP_N_PHYSICAL_CORES,
  PROP_AVAILABLE_MEMORY,
  PROP_FORK_JOIN_COST,
  PROP_DISPATCH_COST,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* A cost given by the caller: -1 (measure) or finite and >= 0. */
#define AMOR_COST_IS_VALID(cost) ((cost) == -1 || ((cost) >= 0 && (cost) <= G_MAXDOUBLE))

/* The process-wide measurements, one per team size. */
typedef struct
{
  guint  n_workers;
  double fork_join_cost;
  double dispatch_cost;
} AmorCostReading;

#define AMOR_MAX_COST_READINGS 16

static GMutex          costs_lock;
static AmorCostReading cost_readings[AMOR_MAX_COST_READINGS];
static guint           n_cost_readings;

/* With costs_lock held. */
static const AmorCostReading *
amor_cost_readings_lookup (guint n_workers)
{
  for (guint i = 0; i < n_cost_readings; i++)
    if (cost_readings[i].n_workers == n_workers)
      return &cost_readings[i];
  return NULL;
}

/* Sets the costs of @self, the given ones winning over @fork_join_cost and
 * @dispatch_cost: once, with costs_lock held (or during construction). */
static void
amor_system_set_costs (AmorSystem *self,
                       double      fork_join_cost,
                       double      dispatch_cost)
{
  self->fork_join_cost = self->given_fork_join_cost >= 0 ? self->given_fork_join_cost : fork_join_cost;
  self->dispatch_cost = self->given_dispatch_cost >= 0 ? self->given_dispatch_cost : dispatch_cost;
  g_atomic_int_set (&self->costs_known, TRUE);
}

/* The costs of @self, measured on first use. */
static void
amor_system_get_costs (AmorSystem *self,
                       double     *fork_join_cost,
                       double     *dispatch_cost)
{
  const AmorCostReading *reading;
  double fork_join, dispatch;

  if (g_atomic_int_get (&self->costs_known))
    {
      /* The fork-join cost is refined by amor_system_observe_fork_join(). */
      __atomic_load (&self->fork_join_cost, fork_join_cost, __ATOMIC_RELAXED);
      *dispatch_cost = self->dispatch_cost;
      return;
    }

  if (amor_pool_in_team ())
    {
      /* A team worker must not wait for a measurement that needs the
       * pool's threads (they may all be waiting here too). Take the
       * process-wide reading if it is there; otherwise estimate inline and
       * keep nothing. */
      if (g_mutex_trylock (&costs_lock))
        {
          if (!g_atomic_int_get (&self->costs_known) &&
              (reading = amor_cost_readings_lookup (self->n_cpus)) != NULL)
            amor_system_set_costs (self, reading->fork_join_cost, reading->dispatch_cost);
          g_mutex_unlock (&costs_lock);
        }

      if (!g_atomic_int_get (&self->costs_known))
        {
          amor_system_probe_measure_costs (self->n_cpus, &fork_join, &dispatch);
          *fork_join_cost = self->given_fork_join_cost >= 0 ? self->given_fork_join_cost : fork_join;
          *dispatch_cost = self->given_dispatch_cost >= 0 ? self->given_dispatch_cost : dispatch;
          return;
        }
    }
  else
    {
      g_mutex_lock (&costs_lock);
      if (!g_atomic_int_get (&self->costs_known))
        {
          reading = amor_cost_readings_lookup (self->n_cpus);
          if (reading != NULL)
            {
              fork_join = reading->fork_join_cost;
              dispatch = reading->dispatch_cost;
              g_debug ("thread costs for %u CPUs: measured before", self->n_cpus);
            }
          else
            {
              amor_system_probe_measure_costs (self->n_cpus, &fork_join, &dispatch);
              if (n_cost_readings < AMOR_MAX_COST_READINGS)
                {
                  cost_readings[n_cost_readings].n_workers = self->n_cpus;
                  cost_readings[n_cost_readings].fork_join_cost = fork_join;
                  cost_readings[n_cost_readings].dispatch_cost = dispatch;
                  n_cost_readings++;
                }
            }
          amor_system_set_costs (self, fork_join, dispatch);
        }
      g_mutex_unlock (&costs_lock);
    }

  __atomic_load (&self->fork_join_cost, fork_join_cost, __ATOMIC_RELAXED);
  *dispatch_cost = self->dispatch_cost;
}

/* How much one observation moves the fork-join cost: half way, so a few
 * runs correct a probe that saw only threads that were still awake. */
#define AMOR_OBSERVE_WEIGHT 0.5

void
amor_system_observe_fork_join (AmorSystem *self,
                               guint       n_workers,
                               double      seconds)
{
  double equivalent, cost;

  g_return_if_fail (AMOR_IS_SYSTEM (self));

  /* Given costs are the caller's: exact plans stay exact. */
  if (self->given_fork_join_cost >= 0 || n_workers < 2 ||
      !g_atomic_int_get (&self->costs_known) ||
      !isfinite (seconds) || seconds < 0)
    return;

  /* The model scales the cost of a whole team by (n - 1) / (P - 1). */
  equivalent = seconds * (double) MAX (1, self->n_cpus - 1) / (double) (n_workers - 1);

  g_mutex_lock (&costs_lock);
  __atomic_load (&self->fork_join_cost, &cost, __ATOMIC_RELAXED);
  cost += AMOR_OBSERVE_WEIGHT * (equivalent - cost);
  __atomic_store (&self->fork_join_cost, &cost, __ATOMIC_RELAXED);
  for (guint i = 0; i < n_cost_readings; i++)
    if (cost_readings[i].n_workers == self->n_cpus)
      cost_readings[i].fork_join_cost = cost;
  g_mutex_unlock (&costs_lock);

  AMOR_DEBUG ("fork-join of %u workers observed: %.1f µs; cost of a team of %u "
              "now %.1f µs", n_workers, seconds * 1e6, self->n_cpus, cost * 1e6);
}

static void
amor_system_set_cost_property (AmorSystem   *self,
                               double       *field,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  double cost = g_value_get_double (value);

  /* Out of range and NaN values never get here: GObject refuses them with
   * a warning and the cost stays unset. */
  if (!AMOR_COST_IS_VALID (cost))
    {
      g_critical ("AmorSystem:%s must be -1 (measure) or >= 0, not %g; "
                  "it will be measured",
                  pspec->name, cost);
      cost = -1;
    }

  *field = cost;
}

static void
amor_system_constructed (GObject *object)
{
  AmorSystem *self = AMOR_SYSTEM (object);

  G_OBJECT_CLASS (amor_system_parent_class)->constructed (object);

  if (self->n_cpus == 0 || self->n_physical_cores == 0 || self->available_memory == 0)
    {
      AmorSystemProbe probe;

      amor_system_probe_read_machine (&probe);

      if (self->n_cpus == 0)
        self->n_cpus = probe.n_cpus;
      if (self->n_physical_cores == 0)
        self->n_physical_cores = MIN (probe.n_physical_cores, self->n_cpus);
      if (self->available_memory == 0)
        self->available_memory = probe.available_memory;
    }

  if (self->given_fork_join_cost >= 0 && self->given_dispatch_cost >= 0)
    amor_system_set_costs (self, -1, -1);

  g_debug ("system: n-cpus %u, n-physical-cores %u, available-memory %" G_GUINT64_FORMAT "%s",
           self->n_cpus, self->n_physical_cores, self->available_memory,
           self->costs_known ? "" : ", thread costs measured on first use");
}

static void
amor_system_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  AmorSystem *self = AMOR_SYSTEM (object);

  switch (prop_id)
    {
    case PROP_N_CPUS:
      g_value_set_uint (value, amor_system_get_n_cpus (self));
      break;

    case PROP_N_PHYSICAL_CORES:
      g_value_set_uint (value, amor_system_get_n_physical_cores (self));
      break;

    case PROP_AVAILABLE_MEMORY:
      g_value_set_uint64 (value, amor_system_get_available_memory (self));
      break;

    case PROP_FORK_JOIN_COST:
      g_value_set_double (value, amor_system_get_fork_join_cost (self));
      break;

    case PROP_DISPATCH_COST:
      g_value_set_double (value, amor_system_get_dispatch_cost (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_system_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  AmorSystem *self = AMOR_SYSTEM (object);

  switch (prop_id)
    {
    case PROP_N_CPUS:
      self->n_cpus = g_value_get_uint (value);
      break;

    case PROP_N_PHYSICAL_CORES:
      self->n_physical_cores = g_value_get_uint (value);
      break;

    case PROP_AVAILABLE_MEMORY:
      self->available_memory = g_value_get_uint64 (value);
      break;

    case PROP_FORK_JOIN_COST:
      amor_system_set_cost_property (self, &self->given_fork_join_cost, value, pspec);
      break;

    case PROP_DISPATCH_COST:
      amor_system_set_cost_property (self, &self->given_dispatch_cost, value, pspec);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_system_class_init (AmorSystemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = amor_system_constructed;
  object_class->get_property = amor_system_get_property;
  object_class->set_property = amor_system_set_property;

  /**
   * AmorSystem:n-cpus: (getter get_n_cpus)
   *
   * The number of CPUs this process may use: those in its CPU affinity
   * mask, limited by the cgroup v2 `cpu.max` quota of its cgroup and of
   * each parent cgroup, rounded up (a quota of 1.5 CPUs allows 2).
   *
   * 0, the default, reads it from this machine; reading always gives at
   * least 1.
   *
   * Since: 0.1
   */
  properties[PROP_N_CPUS] =
    g_param_spec_uint ("n-cpus", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * AmorSystem:n-physical-cores: (getter get_n_physical_cores)
   *
   * The number of physical cores behind [property@Amor.System:n-cpus]:
   * distinct (physical id, core id) pairs of `/proc/cpuinfo` (or of
   * `/sys/devices/system/cpu/cpuN/topology`), so hyperthreads of one
   * core count once.
   *
   * 0, the default, reads it from this machine; the value read is at
   * least 1 and at most [property@Amor.System:n-cpus], and is
   * [property@Amor.System:n-cpus] when the machine does not say.
   *
   * Since: 0.1
   */
  properties[PROP_N_PHYSICAL_CORES] =
    g_param_spec_uint ("n-physical-cores", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * AmorSystem:available-memory: (getter get_available_memory)
   *
   * The memory, in bytes, that can be used without swapping:
   * `MemAvailable` of `/proc/meminfo` (or `MemFree + Buffers + Cached` on
   * kernels without it), limited by `memory.max` − `memory.current` of the
   * process's cgroup v2 and of each parent cgroup.
   *
   * 0, the default, reads it from this machine. When nothing says, it is
   * %G_MAXUINT64: no limit is known.
   *
   * Since: 0.1
   */
  properties[PROP_AVAILABLE_MEMORY] =
    g_param_spec_uint64 ("available-memory", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * AmorSystem:fork-join-cost: (getter get_fork_join_cost)
   *
   * The seconds one fork-join of a team of [property@Amor.System:n-cpus]
   * workers costs: waking the worker threads and waiting for all of them
   * to return, with nothing to do in between. 0 with one CPU.
   *
   * -1, the default, measures it on the worker threads the first time it
   * is read: the median of a few empty teams, after a warm-up team. The
   * measurement takes a few milliseconds and is kept for the process.
   *
   * A value given must be -1 or finite and >= 0; any other is a
   * programmer error, reported as a critical or a warning, and the cost
   * is then measured.
   *
   * Since: 0.1
   */
  properties[PROP_FORK_JOIN_COST] =
    g_param_spec_double ("fork-join-cost", NULL, NULL,
                         -1, G_MAXDOUBLE, -1,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * AmorSystem:dispatch-cost: (getter get_dispatch_cost)
   *
   * The seconds handing out one chunk costs when
   * [property@Amor.System:n-cpus] workers pull chunks from one shared
   * atomic counter, as the workers of [class@Amor.Executor] do. It is
   * measured with a team of empty chunks: the clock starts once the
   * workers are all running (so the fork-join is not counted) and stops
   * when the last one finds the counter exhausted; the time over the
   * number of chunks is what one hand-out costs while the others pull too.
   * It is never below the cost of one uncontended atomic increment.
   *
   * -1, the default, measures it on the worker threads the first time it
   * is read, together with [property@Amor.System:fork-join-cost]; the
   * measurement is kept for the process.
   *
   * A value given must be -1 or finite and >= 0; any other is a
   * programmer error, reported as a critical or a warning, and the cost
   * is then measured.
   *
   * Since: 0.1
   */
  properties[PROP_DISPATCH_COST] =
    g_param_spec_double ("dispatch-cost", NULL, NULL,
                         -1, G_MAXDOUBLE, -1,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
amor_system_init (AmorSystem *self)
{
  self->given_fork_join_cost = -1;
  self->given_dispatch_cost = -1;
  self->fork_join_cost = -1;
  self->dispatch_cost = -1;
}

/**
 * amor_system_get_default:
 *
 * Gets the system of this machine, read the first time it is asked for
 * and shared by the whole process. It is safe to call from any thread.
 *
 * Its thread costs are measured the first time they are read.
 *
 * Returns: (transfer none): the system of this machine
 *
 * Since: 0.1
 */
AmorSystem *
amor_system_get_default (void)
{
  static AmorSystem *default_system;

  if (g_once_init_enter (&default_system))
    g_once_init_leave (&default_system, amor_system_new ());

  return default_system;
}

/**
 * amor_system_new:
 *
 * Creates a system that reads this machine now.
 *
 * Unlike [func@Amor.System.get_default], the CPUs, cores and memory are
 * read again; the thread costs are those measured once for the process.
 *
 * Returns: (transfer full): a new system
 *
 * Since: 0.1
 */
AmorSystem *
amor_system_new (void)
{
  return g_object_new (AMOR_TYPE_SYSTEM, NULL);
}

/**
 * amor_system_new_custom:
 * @n_cpus: the usable CPUs, or 0 to read them from this machine
 * @n_physical_cores: the physical cores, or 0 to read them from this machine
 * @available_memory: the available memory in bytes, or 0 to read it from
 *   this machine
 * @fork_join_cost: the seconds of one fork-join of a team of @n_cpus
 *   workers, or -1 to measure it
 * @dispatch_cost: the seconds to hand out one chunk, or -1 to measure it
 *
 * Creates a system with the given figures, for exact tests and for
 * planning for another machine. It is the same as setting the
 * construct-only properties with g_object_new().
 *
 * A cost must be -1 or finite and >= 0.
 *
 * Returns: (transfer full): a new system
 *
 * Since: 0.1
 */
AmorSystem *
amor_system_new_custom (guint   n_cpus,
                        guint   n_physical_cores,
                        guint64 available_memory,
                        double  fork_join_cost,
                        double  dispatch_cost)
{
  g_return_val_if_fail (AMOR_COST_IS_VALID (fork_join_cost), NULL);
  g_return_val_if_fail (AMOR_COST_IS_VALID (dispatch_cost), NULL);

  return g_object_new (AMOR_TYPE_SYSTEM,
                       "n-cpus", n_cpus,
                       "n-physical-cores", n_physical_cores,
                       "available-memory", available_memory,
                       "fork-join-cost", fork_join_cost,
                       "dispatch-cost", dispatch_cost,
                       NULL);
}

/**
 * amor_system_get_n_cpus: (get-property n-cpus)
 * @self: a system
 *
 * Gets the number of CPUs the process may use.
 *
 * Returns: the usable CPUs, at least 1
 *
 * Since: 0.1
 */
guint
amor_system_get_n_cpus (AmorSystem *self)
{
  g_return_val_if_fail (AMOR_IS_SYSTEM (self), 1);

  return self->n_cpus;
}

/**
 * amor_system_get_n_physical_cores: (get-property n-physical-cores)
 * @self: a system
 *
 * Gets the number of physical cores behind the usable CPUs.
 *
 * Returns: the physical cores, at least 1
 *
 * Since: 0.1
 */
guint
amor_system_get_n_physical_cores (AmorSystem *self)
{
  g_return_val_if_fail (AMOR_IS_SYSTEM (self), 1);

  return self->n_physical_cores;
}

/**
 * amor_system_get_available_memory: (get-property available-memory)
 * @self: a system
 *
 * Gets the memory that can be used, in bytes.
 *
 * Returns: the available memory in bytes
 *
 * Since: 0.1
 */
guint64
amor_system_get_available_memory (AmorSystem *self)
{
  g_return_val_if_fail (AMOR_IS_SYSTEM (self), 0);

  return self->available_memory;
}

/**
 * amor_system_get_fork_join_cost: (get-property fork-join-cost)
 * @self: a system
 *
 * Gets the cost of one fork-join of a team of
 * [property@Amor.System:n-cpus] workers, measuring it first if it was
 * neither given nor measured yet (a few milliseconds, once per process).
 *
 * Returns: the fork-join cost in seconds, finite and >= 0
 *
 * Since: 0.1
 */
double
amor_system_get_fork_join_cost (AmorSystem *self)
{
  double fork_join_cost, dispatch_cost;

  g_return_val_if_fail (AMOR_IS_SYSTEM (self), 0);

  amor_system_get_costs (self, &fork_join_cost, &dispatch_cost);
  return fork_join_cost;
}

/**
 * amor_system_get_dispatch_cost: (get-property dispatch-cost)
 * @self: a system
 *
 * Gets the cost of handing out one chunk, measuring it first if it was
 * neither given nor measured yet (a few milliseconds, once per process).
 *
 * Returns: the dispatch cost in seconds, finite and >= 0
 *
 * Since: 0.1
 */
double
amor_system_get_dispatch_cost (AmorSystem *self)
{
  double fork_join_cost, dispatch_cost;

  g_return_val_if_fail (AMOR_IS_SYSTEM (self), 0);

  amor_system_get_costs (self, &fork_join_cost, &dispatch_cost);
  return dispatch_cost;
}
