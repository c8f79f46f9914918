/* bench.c: amorsize against OpenMP, oneTBB, a GThreadPool and a serial loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every contender runs the same workloads, side by side in one process:
 *
 *   serial        a plain loop on the calling thread
 *   amor-auto     amor_executor_run(): sampling, planning and the run (one
 *                 AmorExecutor for the whole process, reused)
 *   amor-fixed    amor_executor_run_with_plan() with the auto plan's chunk
 *                 size and schedule "fixed" (the seed's fixed chunk)
 *   amor-guided   the same plan with schedule "guided" (chunks shrinking to
 *                 the fixed chunk size), to show which schedule should be
 *                 the default
 *   omp-static    #pragma omp parallel for schedule(static)
 *   omp-dynamic1  schedule(dynamic, 1)
 *   omp-guided    schedule(guided)
 *   tbb-auto      tbb::parallel_for with the auto_partitioner
 *   gtp-push      one g_thread_pool_push() per item on a non-exclusive pool
 *                 of P threads, waiting on a counter
 *
 * Work items.  Most workloads have a known per-item cost t_i: the item spins
 * until CLOCK_MONOTONIC passes its start + t_i, so the total work Σt_i is
 * exact whatever the compiler does with each contender's loop (a counted
 * loop was seen to cost 1.4x more in one loop than in another).  That is
 * also how the tiny 0.1 µs items are made: a clock read costs ~30 ns here, so
 * a spin overshoots its deadline by a fraction of a read; at start-up the
 * benchmark measures that overshoot on a serial loop of 0.1 µs items and
 * subtracts it from every deadline, so that a serial loop takes about Σt_i
 * (the "serial/Σt" column shows how close it gets).  Below 1 µs a spin's
 * cost moves in steps of one clock read, so there the nominal Σt_i is only
 * good to ±30 %, and the lower bound uses the serial loop's median instead
 * (marked *).  A calibrated arithmetic loop was not used: it would be no more
 * exact (its calibration moves with the CPU's clock speed just as much, as
 * measured here), and it varies with the surrounding code.  Two workloads
 * have costs that are not known in advance: a memory-bound pass over a large
 * array (items are 256 KiB blocks; 1 GiB by default, because 256 MiB can
 * stay in the last-level cache of a large server CPU) and Mandelbrot rows;
 * their Σt_i is the serial loop's median and max t_i is taken from serial
 * passes timing each item.
 * Every contender calls the item through the same function pointer.
 *
 * Figures.  Per workload and contender, the median of the timed runs; the
 * lower bound max(Σt_i / P, max t_i); efficiency = lower bound / median; the
 * ratio of amor-auto to the best peer (serial and the five hand-written
 * peers); amorsize's estimated speedup against its measured one (serial
 * median / amor-auto median).  Each timed run is preceded by a settle pause
 * (so that OpenMP's and oneTBB's spinning idle threads have gone to sleep and
 * do not steal the CPU from the next contender), and the order of the
 * contenders rotates from one repetition to the next.  After every run the
 * benchmark checks that each item ran exactly once (and, for the kernels,
 * that the outputs match the serial loop's).
 *
 * Noise.  The contenders are compared on wall time, so other busy processes
 * matter.  Before each workload the benchmark waits (a while) for the
 * machine to be quiet, and a round (every contender once) during which
 * other processes used more than --max-foreign-ms of CPU time (from
 * /proc/stat less this process's own usage) is thrown away and run again,
 * a bounded number of times; the tables report how often that happened.
 *
 * Usage: amorsize-bench [--quick] [--reps N] [--json PATH] [--only NAME,...]
 *                       [--settle-ms MS] [--max-foreign-ms MS]
 *                       [--memory-mib MIB] [--list]
 */

#include <amorsize/amorsize.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_REPS 64
#define WORTH_SPLITTING_S 0.020   /* targets apply from 20 ms of serial work */

/* ------------------------------------------------------------------------ */
/* Clock and spin                                                           */

static inline gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* Subtracted from every spin deadline: what a spin overshoots by. */
static gint64 spin_correction_ns;

/* ------------------------------------------------------------------------ */
/* Workloads                                                                */

typedef enum {
  KIND_SPIN,
  KIND_MEMORY,
  KIND_MANDELBROT,
} WorkKind;

typedef enum {
  GEN_CONSTANT,
  GEN_NORMAL,
  GEN_EXPONENTIAL,
  GEN_LOGNORMAL,
  GEN_BIMODAL_RANDOM,
  GEN_BIMODAL_CLUSTERED,
  GEN_LINEAR_UP,
  GEN_LINEAR_DOWN,
  GEN_STEP,
} Generator;

typedef struct {
  const char *name;
  const char *what;
  WorkKind    kind;
  Generator   gen;
  guint64     n_items;      /* for KIND_MEMORY: computed from the size */
  double      mean_us;      /* base cost, µs (bimodal: the 1x cost) */
  double      cv;
  gboolean    too_small;    /* should run serially */
  gboolean    quick;        /* part of --quick */
} WorkloadSpec;

static const WorkloadSpec specs[] = {
  { "constant-10us", "10 µs each", KIND_SPIN, GEN_CONSTANT, 5000, 10, 0, FALSE, TRUE },
  { "constant-1us", "1 µs each", KIND_SPIN, GEN_CONSTANT, 50000, 1, 0, FALSE, FALSE },
  { "constant-1ms", "1 ms each", KIND_SPIN, GEN_CONSTANT, 50, 1000, 0, FALSE, FALSE },
  { "few-8ms", "6 items of 8 ms", KIND_SPIN, GEN_CONSTANT, 6, 8000, 0, FALSE, FALSE },
  { "normal-cv0.3", "normal, mean 10 µs, CV 0.3", KIND_SPIN, GEN_NORMAL, 5000, 10, 0.3, FALSE, FALSE },
  { "exponential-cv1", "exponential, mean 10 µs", KIND_SPIN, GEN_EXPONENTIAL, 5000, 10, 1.0, FALSE, FALSE },
  { "lognormal-cv2.5", "lognormal, mean 10 µs, CV 2.5", KIND_SPIN, GEN_LOGNORMAL, 5000, 10, 2.5, FALSE, TRUE },
  { "bimodal-random", "90 % 5 µs, 10 % 50 µs, shuffled", KIND_SPIN, GEN_BIMODAL_RANDOM, 5000, 5, 0, FALSE, FALSE },
  { "bimodal-clustered", "90 % 5 µs, 10 % 50 µs at the end", KIND_SPIN, GEN_BIMODAL_CLUSTERED, 5000, 5, 0, FALSE, TRUE },
  { "linear-up", "0 → 20 µs, increasing", KIND_SPIN, GEN_LINEAR_UP, 5000, 10, 0, FALSE, FALSE },
  { "linear-down", "20 → 0 µs, decreasing", KIND_SPIN, GEN_LINEAR_DOWN, 5000, 10, 0, FALSE, FALSE },
  { "step-10x", "first half 2 µs, second half 20 µs", KIND_SPIN, GEN_STEP, 5000, 2, 0, FALSE, TRUE },
  { "tiny-1k", "1000 items of 0.1 µs", KIND_SPIN, GEN_CONSTANT, 1000, 0.1, 0, TRUE, TRUE },
  { "small-50", "50 items of 2 µs", KIND_SPIN, GEN_CONSTANT, 50, 2, 0, TRUE, FALSE },
  { "tiny-1M", "10⁶ items of 0.1 µs", KIND_SPIN, GEN_CONSTANT, 1000000, 0.1, 0, FALSE, TRUE },
  { "memory", "sum of a large array, 256 KiB blocks", KIND_MEMORY, GEN_CONSTANT, 0, 0, 0, FALSE, TRUE },
  { "mandelbrot", "Mandelbrot rows, 1024 × 768, ≤ 512 iterations", KIND_MANDELBROT, GEN_CONSTANT, 768, 0, 0, FALSE, TRUE },
};

#define MEMORY_BLOCK_BYTES (256 * 1024)
#define MANDEL_WIDTH 1024
#define MANDEL_HEIGHT 768
#define MANDEL_MAX_ITER 512

typedef enum {
  C_SERIAL,
  C_AMOR_AUTO,
  C_AMOR_FIXED,
  C_AMOR_GUIDED,
  C_OMP_STATIC,
  C_OMP_DYNAMIC1,
  C_OMP_GUIDED,
  C_TBB,
  C_PUSH,
  N_CONTENDERS
} ContenderId;

static const struct {
  const char *key;
  const char *title;
  gboolean    is_peer;
} contenders[N_CONTENDERS] = {
  [C_SERIAL] = { "serial", "serial", TRUE },
  [C_AMOR_AUTO] = { "amor-auto", "amor auto", FALSE },
  [C_AMOR_FIXED] = { "amor-fixed", "amor fixed", FALSE },
  [C_AMOR_GUIDED] = { "amor-guided", "amor guided", FALSE },
  [C_OMP_STATIC] = { "omp-static", "omp static", TRUE },
  [C_OMP_DYNAMIC1] = { "omp-dynamic1", "omp dyn,1", TRUE },
  [C_OMP_GUIDED] = { "omp-guided", "omp guided", TRUE },
  [C_TBB] = { "tbb-auto", "tbb auto", TRUE },
  [C_PUSH] = { "gtp-push", "push/item", TRUE },
};

typedef struct {
  double   times[MAX_REPS];
  guint    n_times;
  double   median;
  char    *error;
} ContenderResult;

typedef struct {
  AmorSchedule schedule;
  guint        n_workers;
  guint64      chunk_size;
  guint        n_samples;
  double       estimated_speedup;
  double       sampled_mean;
  double       sampled_cv;
  double       elapsed;
  double       measured_speedup;
} AmorRecord;

typedef struct {
  const WorkloadSpec *spec;
  guint64             n_items;
  BenchItemFunc       func;

  guint32            *t_ns;        /* KIND_SPIN: per-item cost */
  guint8             *visits;      /* runs per item, checked after each run */

  guint64            *mem;         /* KIND_MEMORY */
  gsize               block_words;
  guint64            *out;         /* kernels: per-item output */
  guint64            *ref;         /* kernels: the serial loop's output */

  gboolean            cost_known;
  double              sum_t;       /* seconds */
  double              nominal_sum_t; /* spins below 1 µs: Σt_i as set */
  double              max_t;
  double              mean_t;
  double              cv_t;
  double              bound;       /* max (sum_t / P, max_t) */

  ContenderResult     results[N_CONTENDERS];
  AmorRecord          amor[MAX_REPS];
  guint               n_amor;
  AmorResult         *auto_plan;   /* from the warm-up run */
  AmorResult         *fixed_plan;
  AmorResult         *guided_plan;
  double              foreign_cpu; /* CPU seconds used by other processes */
  guint               retried;     /* rounds run again: other processes were busy */
  guint               noisy;       /* rounds kept although other processes were busy */
  double              waited;      /* seconds spent waiting for a quiet machine */
  double              wall;
} Workload;

static guint n_threads;            /* P */
static double max_foreign;         /* CPU seconds other processes may use in a round */
static double quiet_wait_first;    /* longest wait for a quiet machine before a workload */
static double quiet_wait_retry;    /* ... and before a round run again */
static guint max_retry_factor;     /* at most this many × reps rounds run again */
static AmorExecutor *executor;

/* ------------------------------------------------------------------------ */
/* Item functions                                                           */

static gboolean
spin_item (guint64   index,
           gpointer  user_data,
           GError  **error)
{
  Workload *w = user_data;
  gint64 deadline = now_ns () + (gint64) w->t_ns[index] - spin_correction_ns;

  while (now_ns () < deadline)
    ;
  w->visits[index]++;
  return TRUE;
}

static gboolean
memory_item (guint64   index,
             gpointer  user_data,
             GError  **error)
{
  Workload *w = user_data;
  const guint64 *block = w->mem + index * w->block_words;
  guint64 sum = 0;

  for (gsize k = 0; k < w->block_words; k++)
    sum += block[k];
  w->out[index] = sum;
  w->visits[index]++;
  return TRUE;
}

static gboolean
mandelbrot_item (guint64   row,
                 gpointer  user_data,
                 GError  **error)
{
  Workload *w = user_data;
  const double x0 = -2.2, x1 = 0.8, y0 = -1.2, y1 = 1.2;
  double ci = y0 + (y1 - y0) * (double) row / (MANDEL_HEIGHT - 1);
  guint64 total = 0;

  for (guint x = 0; x < MANDEL_WIDTH; x++)
    {
      double cr = x0 + (x1 - x0) * (double) x / (MANDEL_WIDTH - 1);
      double zr = 0, zi = 0;
      guint k = 0;

      while (k < MANDEL_MAX_ITER && zr * zr + zi * zi <= 4.0)
        {
          double t = zr * zr - zi * zi + cr;

          zi = 2 * zr * zi + ci;
          zr = t;
          k++;
        }
      total += k;
    }
  w->out[row] = total;
  w->visits[row]++;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Contenders                                                               */

static void
run_serial (Workload *w)
{
  BenchItemFunc func = w->func;

  for (guint64 i = 0; i < w->n_items; i++)
    func (i, w, NULL);
}

static void
run_omp_static (Workload *w)
{
  BenchItemFunc func = w->func;
  guint64 n = w->n_items;

#pragma omp parallel for schedule(static) num_threads(n_threads)
  for (guint64 i = 0; i < n; i++)
    func (i, w, NULL);
}

static void
run_omp_dynamic1 (Workload *w)
{
  BenchItemFunc func = w->func;
  guint64 n = w->n_items;

#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads)
  for (guint64 i = 0; i < n; i++)
    func (i, w, NULL);
}

static void
run_omp_guided (Workload *w)
{
  BenchItemFunc func = w->func;
  guint64 n = w->n_items;

#pragma omp parallel for schedule(guided) num_threads(n_threads)
  for (guint64 i = 0; i < n; i++)
    func (i, w, NULL);
}

/* One push per item: the pool's user data is this struct, the item index
 * (plus one: a push needs a non-NULL pointer) is the pushed data. */
typedef struct {
  Workload *w;
  gint      remaining;
  GMutex    lock;
  GCond     cond;
  gboolean  done;
} PushRun;

static PushRun push_run;
static GThreadPool *push_pool;

static void
push_worker (gpointer data,
             gpointer user_data)
{
  PushRun *run = user_data;
  guint64 index = GPOINTER_TO_SIZE (data) - 1;

  run->w->func (index, run->w, NULL);
  if (g_atomic_int_dec_and_test (&run->remaining))
    {
      g_mutex_lock (&run->lock);
      run->done = TRUE;
      g_cond_signal (&run->cond);
      g_mutex_unlock (&run->lock);
    }
}

static void
run_push (Workload *w)
{
  if (w->n_items == 0)
    return;

  push_run.w = w;
  push_run.done = FALSE;
  g_atomic_int_set (&push_run.remaining, (gint) w->n_items);
  for (guint64 i = 0; i < w->n_items; i++)
    g_thread_pool_push (push_pool, GSIZE_TO_POINTER ((gsize) i + 1), NULL);

  g_mutex_lock (&push_run.lock);
  while (!push_run.done)
    g_cond_wait (&push_run.cond, &push_run.lock);
  g_mutex_unlock (&push_run.lock);
}

static void
record_amor (Workload *w)
{
  AmorResult *plan = amor_executor_get_result (executor);
  AmorRecord *r;

  if (w->n_amor >= MAX_REPS || plan == NULL)
    return;

  r = &w->amor[w->n_amor++];
  r->schedule = amor_result_get_schedule (plan);
  r->n_workers = amor_result_get_n_workers (plan);
  r->chunk_size = amor_result_get_chunk_size (plan);
  r->n_samples = amor_result_get_n_samples (plan);
  r->estimated_speedup = amor_result_get_estimated_speedup (plan);
  r->sampled_mean = amor_result_get_mean (plan);
  r->sampled_cv = amor_result_get_cv (plan);
  r->elapsed = amor_executor_get_elapsed (executor);
  r->measured_speedup = amor_executor_get_measured_speedup (executor);
}

/* The auto plan with its schedule switched to @schedule ("fixed" or
 * "guided"), through the JSON form (the documented way to hand a tuned plan
 * back to the executor). */
static AmorResult *
make_plan_with_schedule (AmorResult  *plan,
                         const char  *schedule,
                         GError     **error)
{
  g_autofree char *json = amor_result_to_json (plan);
  g_autofree char *fixed_json = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  root = json_from_string (json, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "plan JSON is not an object");
      return NULL;
    }
  object = json_node_get_object (root);
  if (!json_object_has_member (object, "plan")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "plan")))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "plan JSON has no “plan” object");
      return NULL;
    }
  /* A serial plan stays serial: it has no chunk to fix. */
  if (amor_result_get_schedule (plan) != AMOR_SCHEDULE_SERIAL)
    json_object_set_string_member (json_object_get_object_member (object, "plan"),
                                   "schedule", schedule);
  fixed_json = json_to_string (root, FALSE);
  return amor_result_new_from_json (fixed_json, error);
}

/* Runs one contender once; returns its wall time in seconds, or a negative
 * value with @error set. */
static double
run_contender (Workload     *w,
               ContenderId   id,
               gboolean      record,
               GError      **error)
{
  gint64 start = now_ns ();
  gboolean ok = TRUE;
  double elapsed;

  switch (id)
    {
    case C_SERIAL:
      run_serial (w);
      break;
    case C_AMOR_AUTO:
      ok = amor_executor_run (executor, w->n_items, w->func, w, NULL, error);
      break;
    case C_AMOR_FIXED:
      ok = amor_executor_run_with_plan (executor, w->fixed_plan, w->n_items,
                                        w->func, w, NULL, error);
      break;
    case C_AMOR_GUIDED:
      ok = amor_executor_run_with_plan (executor, w->guided_plan, w->n_items,
                                        w->func, w, NULL, error);
      break;
    case C_OMP_STATIC:
      run_omp_static (w);
      break;
    case C_OMP_DYNAMIC1:
      run_omp_dynamic1 (w);
      break;
    case C_OMP_GUIDED:
      run_omp_guided (w);
      break;
    case C_TBB:
      bench_tbb_run (w->n_items, w->func, w);
      break;
    case C_PUSH:
      run_push (w);
      break;
    case N_CONTENDERS:
    default:
      g_assert_not_reached ();
    }
  elapsed = (double) (now_ns () - start) / 1e9;

  if (!ok)
    return -1;
  if (id == C_AMOR_AUTO && record)
    record_amor (w);
  return elapsed;
}

/* Every item ran exactly once, and the kernels computed what the serial
 * loop computed.  Resets the visit counts for the next run. */
static gboolean
check_run (Workload  *w,
           GError   **error)
{
  for (guint64 i = 0; i < w->n_items; i++)
    if (w->visits[i] != 1)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "item %" G_GUINT64_FORMAT " ran %u times", i, (guint) w->visits[i]);
        return FALSE;
      }
  memset (w->visits, 0, w->n_items);

  if (w->ref != NULL)
    {
      for (guint64 i = 0; i < w->n_items; i++)
        if (w->out[i] != w->ref[i])
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                         "item %" G_GUINT64_FORMAT ": output %" G_GUINT64_FORMAT
                         ", serial loop gave %" G_GUINT64_FORMAT,
                         i, w->out[i], w->ref[i]);
            return FALSE;
          }
      memset (w->out, 0, w->n_items * sizeof (guint64));
    }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Setting workloads up                                                     */

static double
rand_normal (GRand *rand)
{
  double u1 = 1.0 - g_rand_double (rand);   /* (0, 1] */
  double u2 = g_rand_double (rand);

  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

static void
generate_costs (Workload *w,
                guint     seed)
{
  const WorkloadSpec *s = w->spec;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint64 n = w->n_items;
  double mean = s->mean_us * 1e3;   /* ns */

  w->t_ns = g_new (guint32, n);
  for (guint64 i = 0; i < n; i++)
    {
      double t = mean;

      switch (s->gen)
        {
        case GEN_CONSTANT:
          break;
        case GEN_NORMAL:
          t = mean * (1.0 + s->cv * rand_normal (rand));
          t = MAX (t, 0.05 * mean);
          break;
        case GEN_EXPONENTIAL:
          t = -mean * log (1.0 - g_rand_double (rand));
          break;
        case GEN_LOGNORMAL:
          {
            double sigma2 = log (1.0 + s->cv * s->cv);
            double mu = log (mean) - sigma2 / 2;

            t = exp (mu + sqrt (sigma2) * rand_normal (rand));
          }
          break;
        case GEN_BIMODAL_RANDOM:
          t = g_rand_double (rand) < 0.1 ? 10 * mean : mean;
          break;
        case GEN_BIMODAL_CLUSTERED:
          t = i >= n - n / 10 ? 10 * mean : mean;
          break;
        case GEN_LINEAR_UP:
          t = 2 * mean * ((double) i + 0.5) / (double) n;
          break;
        case GEN_LINEAR_DOWN:
          t = 2 * mean * ((double) (n - i) - 0.5) / (double) n;
          break;
        case GEN_STEP:
          t = i < n / 2 ? mean : 10 * mean;
          break;
        default:
          g_assert_not_reached ();
        }
      w->t_ns[i] = (guint32) CLAMP (t + 0.5, 0, (double) G_MAXUINT32);
    }

  if (s->gen == GEN_BIMODAL_RANDOM)
    {
      /* exactly 10 % heavy items, in random positions */
      guint64 heavy = 0;

      for (guint64 i = 0; i < n; i++)
        w->t_ns[i] = (guint32) mean;
      while (heavy < n / 10)
        {
          guint64 i = (guint64) (g_rand_double (rand) * (double) n);

          if (i < n && w->t_ns[i] == (guint32) mean)
            {
              w->t_ns[i] = (guint32) (10 * mean);
              heavy++;
            }
        }
    }
}

static void
cost_stats (Workload *w)
{
  double sum = 0, sum2 = 0, max = 0;

  for (guint64 i = 0; i < w->n_items; i++)
    {
      double t = w->t_ns[i] / 1e9;

      sum += t;
      sum2 += t * t;
      max = MAX (max, t);
    }
  w->sum_t = sum;
  w->max_t = max;
  w->mean_t = sum / (double) w->n_items;
  w->cv_t = w->mean_t > 0
    ? sqrt (MAX (0, sum2 / (double) w->n_items - w->mean_t * w->mean_t)) / w->mean_t
    : 0;
}

/* For the kernels: three serial passes timing each item (the fastest of
 * the three, so that a preemption does not pass for a long item) for max
 * t_i, mean and CV, and the reference output. */
static void
measure_kernel (Workload *w)
{
  g_autofree double *best = g_new (double, w->n_items);
  double sum = 0, sum2 = 0, max = 0;

  for (guint pass = 0; pass < 3; pass++)
    for (guint64 i = 0; i < w->n_items; i++)
      {
        gint64 start = now_ns ();
        double t;

        w->func (i, w, NULL);
        t = (double) (now_ns () - start) / 1e9;
        best[i] = pass == 0 ? t : MIN (best[i], t);
      }
  for (guint64 i = 0; i < w->n_items; i++)
    {
      sum += best[i];
      sum2 += best[i] * best[i];
      max = MAX (max, best[i]);
    }
  w->max_t = max;
  w->sum_t = sum;   /* replaced by the serial loop's median */
  w->mean_t = sum / (double) w->n_items;
  w->cv_t = sqrt (MAX (0, sum2 / (double) w->n_items - w->mean_t * w->mean_t)) / w->mean_t;
  w->ref = g_memdup2 (w->out, w->n_items * sizeof (guint64));
  memset (w->visits, 0, w->n_items);
}

static Workload *
workload_new (const WorkloadSpec *spec,
              guint               seed,
              gsize               memory_bytes)
{
  Workload *w = g_new0 (Workload, 1);

  w->spec = spec;
  switch (spec->kind)
    {
    case KIND_SPIN:
      w->n_items = spec->n_items;
      w->func = spin_item;
      w->cost_known = TRUE;
      generate_costs (w, seed);
      cost_stats (w);
      w->visits = g_new0 (guint8, w->n_items);
      break;

    case KIND_MEMORY:
      {
        gsize n_words = memory_bytes / sizeof (guint64);

        w->block_words = MEMORY_BLOCK_BYTES / sizeof (guint64);
        w->n_items = n_words / w->block_words;
        w->func = memory_item;
        w->mem = g_new (guint64, w->n_items * w->block_words);
        for (gsize k = 0; k < w->n_items * w->block_words; k++)
          w->mem[k] = k * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
        w->out = g_new0 (guint64, w->n_items);
        w->visits = g_new0 (guint8, w->n_items);
        measure_kernel (w);
      }
      break;

    case KIND_MANDELBROT:
      w->n_items = spec->n_items;
      w->func = mandelbrot_item;
      w->out = g_new0 (guint64, w->n_items);
      w->visits = g_new0 (guint8, w->n_items);
      measure_kernel (w);
      break;

    default:
      g_assert_not_reached ();
    }
  return w;
}

static void
workload_free (Workload *w)
{
  g_free (w->t_ns);
  g_free (w->visits);
  g_free (w->mem);
  g_free (w->out);
  g_free (w->ref);
  for (guint c = 0; c < N_CONTENDERS; c++)
    g_free (w->results[c].error);
  g_clear_object (&w->auto_plan);
  g_clear_object (&w->fixed_plan);
  g_clear_object (&w->guided_plan);
  g_free (w);
}

/* Measures how far a 0.1 µs spin overshoots in a serial loop, and sets
 * spin_correction_ns so that a serial loop of spins takes Σt_i. */
static double
calibrate_spin (void)
{
  const WorkloadSpec spec = { "calibration", "", KIND_SPIN, GEN_CONSTANT, 200000, 0.1, 0, FALSE, FALSE };
  Workload *w = workload_new (&spec, 1, 0);
  double per_item = 0;

  spin_correction_ns = 0;
  for (guint round = 0; round < 4; round++)
    {
      double times[5];

      for (guint k = 0; k < G_N_ELEMENTS (times); k++)
        {
          gint64 start = now_ns ();

          run_serial (w);
          times[k] = (double) (now_ns () - start) / (double) w->n_items;
          memset (w->visits, 0, w->n_items);
        }
      /* median of five */
      for (guint a = 0; a < G_N_ELEMENTS (times); a++)
        for (guint b = a + 1; b < G_N_ELEMENTS (times); b++)
          if (times[b] < times[a])
            {
              double tmp = times[a];
              times[a] = times[b];
              times[b] = tmp;
            }
      per_item = times[2];
      spin_correction_ns += (gint64) lround (per_item - spec.mean_us * 1e3);
      spin_correction_ns = CLAMP (spin_correction_ns, 0, 90);
    }
  workload_free (w);
  return per_item;
}

/* ------------------------------------------------------------------------ */
/* Measuring                                                                */

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static double
median (const double *values,
        guint         n)
{
  double sorted[MAX_REPS];

  if (n == 0)
    return NAN;
  memcpy (sorted, values, n * sizeof (double));
  qsort (sorted, n, sizeof (double), compare_doubles);
  return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* CPU seconds used by the whole machine, and by this process. */
static double
machine_cpu_seconds (void)
{
  g_autofree char *contents = NULL;
  unsigned long long v[8] = { 0 };

  if (!g_file_get_contents ("/proc/stat", &contents, NULL, NULL))
    return 0;
  if (sscanf (contents, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
              &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 8)
    return 0;
  /* user nice system [idle iowait] irq softirq steal */
  return (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double) sysconf (_SC_CLK_TCK);
}

static double
own_cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
       + (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Waits (at most @max_wait seconds) until other processes have used less
 * than 5 % of a CPU for a quarter of a second; returns the time waited. */
static double
wait_quiet (double max_wait)
{
  gint64 start = now_ns ();

  for (;;)
    {
      double machine0 = machine_cpu_seconds (), own0 = own_cpu_seconds ();
      double waited, foreign;

      g_usleep (G_USEC_PER_SEC / 4);
      foreign = (machine_cpu_seconds () - machine0) - (own_cpu_seconds () - own0);
      waited = (double) (now_ns () - start) / 1e9;
      if (foreign < 0.0125 || waited >= max_wait)
        return waited;
    }
}

static void
fail_contender (Workload    *w,
                ContenderId  c,
                GError      *error)
{
  if (w->results[c].error == NULL)
    w->results[c].error = g_strdup (error->message);
  g_printerr ("%s / %s: %s\n", w->spec->name, contenders[c].key, error->message);
}

static void
measure_workload (Workload *w,
                  guint     reps,
                  guint     settle_ms)
{
  double machine0, own0;
  gint64 wall0 = now_ns ();

  w->waited = wait_quiet (quiet_wait_first);
  machine0 = machine_cpu_seconds ();
  own0 = own_cpu_seconds ();

  /* Warm-up: every contender once (threads started, caches warm); the
   * amor-auto warm-up gives the plan that amor-fixed runs. */
  for (guint c = 0; c < N_CONTENDERS; c++)
    {
      g_autoptr(GError) error = NULL;

      if (c == C_AMOR_FIXED || c == C_AMOR_GUIDED)
        {
          AmorResult **plan = c == C_AMOR_FIXED ? &w->fixed_plan : &w->guided_plan;

          if (w->auto_plan == NULL)
            {
              g_set_error (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "no auto plan");
              fail_contender (w, c, error);
              continue;
            }
          *plan = make_plan_with_schedule (w->auto_plan,
                                           c == C_AMOR_FIXED ? "fixed" : "guided", &error);
          if (*plan == NULL)
            {
              fail_contender (w, c, error);
              continue;
            }
        }

      g_usleep (settle_ms * 1000);
      if (run_contender (w, c, FALSE, &error) < 0 || !check_run (w, &error))
        {
          fail_contender (w, c, error);
          memset (w->visits, 0, w->n_items);
          continue;
        }
      if (c == C_AMOR_AUTO)
        {
          AmorResult *plan = amor_executor_get_result (executor);

          w->auto_plan = plan ? g_object_ref (plan) : NULL;
        }
    }

  /* Timed rounds: every contender once, in an order that rotates from one
   * round to the next.  A round during which other processes used the CPU
   * is run again (up to 2 × reps times, quick: reps), after waiting for a
   * quiet machine. */
  for (guint rep = 0, round = 0; rep < reps; round++)
    {
      double times[N_CONTENDERS];
      guint n_amor = w->n_amor;
      double machine1 = machine_cpu_seconds (), own1 = own_cpu_seconds ();
      double foreign;

      for (guint k = 0; k < N_CONTENDERS; k++)
        {
          ContenderId c = (k + round) % N_CONTENDERS;
          g_autoptr(GError) error = NULL;

          times[c] = -1;
          if (w->results[c].error != NULL)
            continue;
          g_usleep (settle_ms * 1000);
          times[c] = run_contender (w, c, TRUE, &error);
          if (times[c] < 0 || !check_run (w, &error))
            {
              times[c] = -1;
              fail_contender (w, c, error);
              memset (w->visits, 0, w->n_items);
            }
        }

      foreign = (machine_cpu_seconds () - machine1) - (own_cpu_seconds () - own1);
      if (foreign > max_foreign)
        {
          if (w->retried < max_retry_factor * reps)
            {
              w->retried++;
              w->n_amor = n_amor;
              w->waited += wait_quiet (quiet_wait_retry);
              continue;
            }
          w->noisy++;
        }

      for (guint c = 0; c < N_CONTENDERS; c++)
        if (times[c] >= 0)
          w->results[c].times[w->results[c].n_times++] = times[c];
      rep++;
    }

  for (guint c = 0; c < N_CONTENDERS; c++)
    w->results[c].median = median (w->results[c].times, w->results[c].n_times);

  if (w->cost_known && w->mean_t < 1e-6)
    {
      w->nominal_sum_t = w->sum_t;
      w->cost_known = FALSE;
    }
  if (!w->cost_known)
    w->sum_t = w->results[C_SERIAL].median;
  w->bound = MAX (w->sum_t / n_threads, w->max_t);
  w->wall = (double) (now_ns () - wall0) / 1e9;
  w->foreign_cpu = MAX (0, (machine_cpu_seconds () - machine0) - (own_cpu_seconds () - own0));
}

/* ------------------------------------------------------------------------ */
/* Reporting                                                                */

static const char *
schedule_name (AmorSchedule schedule)
{
  switch (schedule)
    {
    case AMOR_SCHEDULE_SERIAL:
      return "serial";
    case AMOR_SCHEDULE_FIXED:
      return "fixed";
    case AMOR_SCHEDULE_GUIDED:
      return "guided";
    default:
      return "?";
    }
}

static ContenderId
best_peer (Workload *w)
{
  ContenderId best = C_SERIAL;

  for (guint c = 0; c < N_CONTENDERS; c++)
    if (contenders[c].is_peer && w->results[c].n_times > 0
        && (w->results[best].n_times == 0 || w->results[c].median < w->results[best].median))
      best = c;
  return best;
}

static double
amor_predicted (Workload *w)
{
  double values[MAX_REPS];

  for (guint k = 0; k < w->n_amor; k++)
    values[k] = w->amor[k].schedule == AMOR_SCHEDULE_SERIAL ? 1.0 : w->amor[k].estimated_speedup;
  return median (values, w->n_amor);
}

/* The plan amor-auto ran most often, as "guided 2×64". */
static char *
amor_plan_summary (Workload *w)
{
  guint best_count = 0;
  const AmorRecord *best = NULL;

  for (guint a = 0; a < w->n_amor; a++)
    {
      guint count = 0;

      for (guint b = 0; b < w->n_amor; b++)
        if (w->amor[b].schedule == w->amor[a].schedule
            && w->amor[b].n_workers == w->amor[a].n_workers
            && w->amor[b].chunk_size == w->amor[a].chunk_size)
          count++;
      if (count > best_count)
        {
          best_count = count;
          best = &w->amor[a];
        }
    }
  if (best == NULL)
    return g_strdup ("-");
  return g_strdup_printf ("%s %u×%" G_GUINT64_FORMAT "%s", schedule_name (best->schedule),
                          best->n_workers, best->chunk_size,
                          best_count < w->n_amor ? " (varies)" : "");
}

static char *
format_ms (double seconds)
{
  if (isnan (seconds))
    return g_strdup ("n/a");
  if (seconds < 0.001)
    return g_strdup_printf ("%.3f", seconds * 1e3);
  if (seconds < 0.1)
    return g_strdup_printf ("%.2f", seconds * 1e3);
  return g_strdup_printf ("%.1f", seconds * 1e3);
}

static char *
format_grain (double seconds)
{
  if (seconds < 1e-6)
    return g_strdup_printf ("%.2f µs", seconds * 1e6);
  if (seconds < 1e-3)
    return g_strdup_printf ("%.1f µs", seconds * 1e6);
  return g_strdup_printf ("%.2f ms", seconds * 1e3);
}

typedef struct {
  guint ratio_met, ratio_total;
  guint eff_met, eff_total;
  guint small_met, small_total;
  guint pred_met, pred_total;
} Tally;

static void
print_tables (Workload **workloads,
              guint      n_workloads,
              Tally     *tally)
{
  printf ("\n### Median wall time, ms (lower bound = max(Σt/P, max t), P = %u)\n\n", n_threads);
  printf ("| workload | N | mean t | CV | Σt | bound | serial/Σt |");
  for (guint c = 0; c < N_CONTENDERS; c++)
    printf (" %s |", contenders[c].title);
  printf ("\n|---|--:|--:|--:|--:|--:|--:|");
  for (guint c = 0; c < N_CONTENDERS; c++)
    printf ("--:|");
  printf ("\n");

  for (guint k = 0; k < n_workloads; k++)
    {
      Workload *w = workloads[k];
      g_autofree char *grain = format_grain (w->mean_t);
      g_autofree char *sum = format_ms (w->sum_t);
      g_autofree char *bound = format_ms (w->bound);

      printf ("| %s | %" G_GUINT64_FORMAT " | %s | %.2f | %s%s | %s | %.3f |",
              w->spec->name, w->n_items, grain, w->cv_t, sum, w->cost_known ? "" : "*",
              bound, w->results[C_SERIAL].median
                     / (w->nominal_sum_t > 0 ? w->nominal_sum_t : w->sum_t));
      for (guint c = 0; c < N_CONTENDERS; c++)
        {
          g_autofree char *t = format_ms (w->results[c].median);

          printf (" %s%s |", w->results[c].error ? "FAIL " : "", t);
        }
      printf ("\n");
    }
  printf ("\n\\* Σt measured: the serial loop's median (the kernels' cost is not known in "
          "advance; spins below 1 µs are exact only to a clock read).\n");

  printf ("\n### amorsize against the best peer\n\n");
  printf ("| workload | plan (auto) | samples | best peer | auto / best | eff auto | eff fixed | eff guided | eff best | predicted | measured | pred / meas | targets |\n");
  printf ("|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");

  for (guint k = 0; k < n_workloads; k++)
    {
      Workload *w = workloads[k];
      ContenderId best = best_peer (w);
      double t_auto = w->results[C_AMOR_AUTO].median;
      double t_best = w->results[best].median;
      double ratio = t_auto / t_best;
      double eff_auto = w->bound / t_auto;
      double eff_fixed = w->bound / w->results[C_AMOR_FIXED].median;
      double eff_guided = w->bound / w->results[C_AMOR_GUIDED].median;
      double eff_best = w->bound / t_best;
      double predicted = amor_predicted (w);
      double measured = w->results[C_SERIAL].median / t_auto;
      double pred_ratio = predicted / measured;
      g_autofree char *plan = amor_plan_summary (w);
      g_autoptr(GString) targets = g_string_new (NULL);
      guint samples = w->n_amor > 0 ? w->amor[w->n_amor - 1].n_samples : 0;

      if (w->spec->too_small)
        {
          double vs_serial = t_auto / w->results[C_SERIAL].median;
          gboolean met = vs_serial <= 1.10;

          tally->small_total++;
          tally->small_met += met;
          g_string_append_printf (targets, "%s ≤1.1× serial (%.2f×)", met ? "ok" : "MISS", vs_serial);
        }
      else if (w->sum_t >= WORTH_SPLITTING_S)
        {
          gboolean ratio_met = ratio <= 1.05;
          gboolean eff_met = eff_auto >= 0.90;

          tally->ratio_total++;
          tally->ratio_met += ratio_met;
          tally->eff_total++;
          tally->eff_met += eff_met;
          g_string_append_printf (targets, "ratio %s, eff %s", ratio_met ? "ok" : "MISS",
                                  eff_met ? "ok" : "MISS");
        }
      else
        g_string_append (targets, "(< 20 ms)");

      if (!isnan (predicted))
        {
          gboolean pred_met = fabs (pred_ratio - 1) <= 0.15;

          tally->pred_total++;
          tally->pred_met += pred_met;
          g_string_append_printf (targets, ", pred %s", pred_met ? "ok" : "MISS");
        }

      printf ("| %s | %s | %u | %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2f | %.2f | %s |\n",
              w->spec->name, plan, samples, contenders[best].key, ratio, eff_auto, eff_fixed,
              eff_guided, eff_best, predicted, measured, pred_ratio, targets->str);
    }

  printf ("\nTargets: auto within 5 %% of the best peer %u/%u, efficiency ≥ 0.90 %u/%u "
          "(workloads with ≥ 20 ms of serial work); too small ≤ 1.1× serial %u/%u; "
          "predicted within 15 %% of measured %u/%u.\n",
          tally->ratio_met, tally->ratio_total, tally->eff_met, tally->eff_total,
          tally->small_met, tally->small_total, tally->pred_met, tally->pred_total);
}

static void
add_double (JsonBuilder *b,
            const char  *name,
            double       value)
{
  json_builder_set_member_name (b, name);
  if (isnan (value) || isinf (value))
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, value);
}

static gboolean
write_json (const char  *path,
            Workload   **workloads,
            guint        n_workloads,
            const Tally *tally,
            guint        reps,
            guint        settle_ms,
            double       spin_per_item,
            const char  *loadavg_start,
            const char  *loadavg_end,
            GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "machine");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "threads");
  json_builder_add_int_value (b, n_threads);
  json_builder_set_member_name (b, "online-cpus");
  json_builder_add_int_value (b, sysconf (_SC_NPROCESSORS_ONLN));
  json_builder_set_member_name (b, "loadavg-start");
  json_builder_add_string_value (b, loadavg_start);
  json_builder_set_member_name (b, "loadavg-end");
  json_builder_add_string_value (b, loadavg_end);
  add_double (b, "amor-fork-join-cost", amor_system_get_fork_join_cost (amor_system_get_default ()));
  add_double (b, "amor-dispatch-cost", amor_system_get_dispatch_cost (amor_system_get_default ()));
  json_builder_set_member_name (b, "spin-correction-ns");
  json_builder_add_int_value (b, spin_correction_ns);
  add_double (b, "spin-0.1us-serial-ns", spin_per_item);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "repetitions");
  json_builder_add_int_value (b, reps);
  json_builder_set_member_name (b, "settle-ms");
  json_builder_add_int_value (b, settle_ms);
  add_double (b, "max-foreign-cpu-per-round", max_foreign);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "workloads");
  json_builder_begin_array (b);
  for (guint k = 0; k < n_workloads; k++)
    {
      Workload *w = workloads[k];
      ContenderId best = best_peer (w);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, w->spec->name);
      json_builder_set_member_name (b, "description");
      json_builder_add_string_value (b, w->spec->what);
      json_builder_set_member_name (b, "n-items");
      json_builder_add_int_value (b, (gint64) w->n_items);
      json_builder_set_member_name (b, "cost-known");
      json_builder_add_boolean_value (b, w->cost_known);
      json_builder_set_member_name (b, "too-small");
      json_builder_add_boolean_value (b, w->spec->too_small);
      add_double (b, "sum-t", w->sum_t);
      if (w->nominal_sum_t > 0)
        add_double (b, "nominal-sum-t", w->nominal_sum_t);
      add_double (b, "max-t", w->max_t);
      add_double (b, "mean-t", w->mean_t);
      add_double (b, "cv-t", w->cv_t);
      add_double (b, "lower-bound", w->bound);
      add_double (b, "wall", w->wall);
      add_double (b, "foreign-cpu-seconds", w->foreign_cpu);
      json_builder_set_member_name (b, "rounds-retried");
      json_builder_add_int_value (b, w->retried);
      json_builder_set_member_name (b, "rounds-kept-noisy");
      json_builder_add_int_value (b, w->noisy);
      add_double (b, "waited-for-quiet", w->waited);

      json_builder_set_member_name (b, "contenders");
      json_builder_begin_object (b);
      for (guint c = 0; c < N_CONTENDERS; c++)
        {
          ContenderResult *r = &w->results[c];

          json_builder_set_member_name (b, contenders[c].key);
          json_builder_begin_object (b);
          add_double (b, "median", r->median);
          add_double (b, "efficiency", w->bound / r->median);
          json_builder_set_member_name (b, "times");
          json_builder_begin_array (b);
          for (guint t = 0; t < r->n_times; t++)
            json_builder_add_double_value (b, r->times[t]);
          json_builder_end_array (b);
          if (r->error)
            {
              json_builder_set_member_name (b, "error");
              json_builder_add_string_value (b, r->error);
            }
          json_builder_end_object (b);
        }
      json_builder_end_object (b);

      json_builder_set_member_name (b, "best-peer");
      json_builder_add_string_value (b, contenders[best].key);
      add_double (b, "auto-over-best-peer", w->results[C_AMOR_AUTO].median / w->results[best].median);
      add_double (b, "predicted-speedup", amor_predicted (w));
      add_double (b, "measured-speedup", w->results[C_SERIAL].median / w->results[C_AMOR_AUTO].median);

      json_builder_set_member_name (b, "amor-auto-runs");
      json_builder_begin_array (b);
      for (guint a = 0; a < w->n_amor; a++)
        {
          const AmorRecord *r = &w->amor[a];

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "schedule");
          json_builder_add_string_value (b, schedule_name (r->schedule));
          json_builder_set_member_name (b, "n-workers");
          json_builder_add_int_value (b, r->n_workers);
          json_builder_set_member_name (b, "chunk-size");
          json_builder_add_int_value (b, (gint64) r->chunk_size);
          json_builder_set_member_name (b, "n-samples");
          json_builder_add_int_value (b, r->n_samples);
          add_double (b, "estimated-speedup", r->estimated_speedup);
          add_double (b, "sampled-mean", r->sampled_mean);
          add_double (b, "sampled-cv", r->sampled_cv);
          add_double (b, "executor-elapsed", r->elapsed);
          add_double (b, "executor-measured-speedup", r->measured_speedup);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);

      if (w->fixed_plan != NULL)
        {
          json_builder_set_member_name (b, "amor-fixed-plan");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "schedule");
          json_builder_add_string_value (b, schedule_name (amor_result_get_schedule (w->fixed_plan)));
          json_builder_set_member_name (b, "n-workers");
          json_builder_add_int_value (b, amor_result_get_n_workers (w->fixed_plan));
          json_builder_set_member_name (b, "chunk-size");
          json_builder_add_int_value (b, (gint64) amor_result_get_chunk_size (w->fixed_plan));
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "targets");
  json_builder_begin_object (b);
#define TALLY(name, met, total) \
  json_builder_set_member_name (b, name); \
  json_builder_begin_array (b); \
  json_builder_add_int_value (b, met); \
  json_builder_add_int_value (b, total); \
  json_builder_end_array (b);
  TALLY ("auto-within-5-percent-of-best-peer", tally->ratio_met, tally->ratio_total);
  TALLY ("efficiency-at-least-0.90", tally->eff_met, tally->eff_total);
  TALLY ("too-small-at-most-1.1x-serial", tally->small_met, tally->small_total);
  TALLY ("predicted-within-15-percent", tally->pred_met, tally->pred_total);
#undef TALLY
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_file (gen, path, error);
}

static char *
read_loadavg (void)
{
  char *contents = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL))
    return g_strdup ("?");
  return g_strstrip (contents);
}

/* ------------------------------------------------------------------------ */

int
main (int   argc,
      char *argv[])
{
  gboolean quick = FALSE, list = FALSE;
  int reps = 0, settle_ms = -1, memory_mib = 0, max_foreign_ms = 30;
  g_autofree char *json_path = NULL;
  g_autofree char *only = NULL;
  g_auto(GStrv) only_names = NULL;
  g_autofree char *loadavg_start = NULL;
  g_autofree char *loadavg_end = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) workloads = g_ptr_array_new_with_free_func ((GDestroyNotify) workload_free);
  Tally tally = { 0 };
  double spin_per_item;
  gboolean failed = FALSE;
  const GOptionEntry entries[] = {
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "Fewer workloads and repetitions (a minute or so)", NULL },
    { "reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Timed runs per contender (default 7, quick 3)", "N" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "Write the results as JSON to PATH", "PATH" },
    { "only", 'o', 0, G_OPTION_ARG_STRING, &only, "Run only these workloads", "NAME,..." },
    { "settle-ms", 's', 0, G_OPTION_ARG_INT, &settle_ms, "Pause before each run (default 30, quick 15)", "MS" },
    { "max-foreign-ms", 'f', 0, G_OPTION_ARG_INT, &max_foreign_ms, "Run a round again when other processes used more CPU time than this (default 30)", "MS" },
    { "memory-mib", 'm', 0, G_OPTION_ARG_INT, &memory_mib, "Array size of the memory-bound workload (default 1024, quick 256)", "MIB" },
    { "list", 'l', 0, G_OPTION_ARG_NONE, &list, "List the workloads and exit", NULL },
    { NULL }
  };

  context = g_option_context_new ("- amorsize against OpenMP, oneTBB, a GThreadPool and a serial loop");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (list)
    {
      for (guint k = 0; k < G_N_ELEMENTS (specs); k++)
        printf ("%-18s %s%s\n", specs[k].name, specs[k].what, specs[k].quick ? " (quick)" : "");
      return 0;
    }

  if (reps <= 0)
    reps = quick ? 3 : 7;
  reps = MIN (reps, MAX_REPS);
  if (settle_ms < 0)
    settle_ms = quick ? 15 : 30;
  if (memory_mib <= 0)
    memory_mib = quick ? 256 : 1024;
  max_foreign = max_foreign_ms / 1e3;
  quiet_wait_first = quick ? 3 : 30;
  quiet_wait_retry = quick ? 1 : 10;
  max_retry_factor = quick ? 1 : 2;
  if (only != NULL)
    only_names = g_strsplit (only, ",", -1);

  setvbuf (stdout, NULL, _IOLBF, 0);

  executor = amor_executor_new (NULL);
  n_threads = amor_system_get_n_cpus (amor_system_get_default ());
  n_threads = MAX (n_threads, 1);
  omp_set_num_threads ((int) n_threads);
  omp_set_dynamic (0);
  bench_tbb_init (n_threads);
  push_pool = g_thread_pool_new (push_worker, &push_run, (gint) n_threads, FALSE, &error);
  g_assert_no_error (error);

  loadavg_start = read_loadavg ();
  spin_per_item = calibrate_spin ();

  printf ("# amorsize benchmark\n\n");
  printf ("P = %u threads for every contender (%ld CPUs online); %d timed runs each "
          "(median), %d ms settle pause before each run; load average at start: %s.\n",
          n_threads, sysconf (_SC_NPROCESSORS_ONLN), reps, settle_ms, loadavg_start);
  printf ("Spin items: deadline correction %" G_GINT64_FORMAT " ns; a serial loop of 0.1 µs "
          "spins costs %.1f ns per item.\n", spin_correction_ns, spin_per_item);
  printf ("AmorSystem measured a fork-join of %.1f µs and a dispatch of %.1f ns per chunk.\n",
          amor_system_get_fork_join_cost (amor_system_get_default ()) * 1e6,
          amor_system_get_dispatch_cost (amor_system_get_default ()) * 1e9);

  for (guint k = 0; k < G_N_ELEMENTS (specs); k++)
    {
      const WorkloadSpec *spec = &specs[k];
      Workload *w;

      if (only_names != NULL ? !g_strv_contains ((const char * const *) only_names, spec->name)
                             : (quick && !spec->quick))
        continue;

      w = workload_new (spec, 1000 + k, (gsize) memory_mib * 1024 * 1024);
      g_ptr_array_add (workloads, w);
      measure_workload (w, (guint) reps, (guint) settle_ms);
      g_printerr ("%-18s serial %8.2f ms  auto %8.2f ms  (%.1f s; other processes %.2f CPU s, "
                  "%u rounds run again, %u kept, %.1f s waited)\n",
                  spec->name, w->results[C_SERIAL].median * 1e3,
                  w->results[C_AMOR_AUTO].median * 1e3, w->wall, w->foreign_cpu,
                  w->retried, w->noisy, w->waited);
      for (guint c = 0; c < N_CONTENDERS; c++)
        failed |= w->results[c].error != NULL;
    }

  print_tables ((Workload **) workloads->pdata, workloads->len, &tally);

  loadavg_end = read_loadavg ();
  printf ("\nLoad average at end: %s.\n", loadavg_end);
  {
    double foreign = 0;
    guint retried = 0, noisy = 0;

    for (guint k = 0; k < workloads->len; k++)
      {
        foreign += ((Workload *) workloads->pdata[k])->foreign_cpu;
        retried += ((Workload *) workloads->pdata[k])->retried;
        noisy += ((Workload *) workloads->pdata[k])->noisy;
      }
    printf ("CPU time used by other processes while measuring: %.2f s; %u rounds run again "
            "because of it, %u noisy rounds kept.\n", foreign, retried, noisy);
  }

  if (json_path != NULL
      && !write_json (json_path, (Workload **) workloads->pdata, workloads->len, &tally,
                      (guint) reps, (guint) settle_ms, spin_per_item,
                      loadavg_start, loadavg_end, &error))
    {
      g_printerr ("%s: %s\n", json_path, error->message);
      failed = TRUE;
    }

  g_thread_pool_free (push_pool, FALSE, TRUE);
  bench_tbb_shutdown ();
  g_clear_object (&executor);

  return failed ? 1 : 0;
}
