/* amor-process-run.c: a map of an AmorProcessPool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include "amor-error.h"
#include "amor-optimizer-private.h"
#include "amor-sampler-private.h"
#include "amor-clock-private.h"
#include "amor-wire-private.h"
#include "amor-worker-private.h"
#include "amor-process-pool-private.h"

/* Records the first reason the map stops; takes @error. */
void
run_fail (Run    *run,
          GError *error)
{
  if (run->error == NULL && !run->cancelled)
    {
      g_debug ("process pool: map failed: %s", error->message);
      run->error = error;
    }
  else
    g_error_free (error);
  run->phase = PHASE_STOPPING;
}

/* Sorts a few doubles, in place. */
static void
sort_few (double *v,
          guint   n)
{
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && v[j - 1] > v[j]; j--)
      {
        double t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
}

/* The median of a few doubles (sorts them). */
static double
median (GArray *values)
{
  double *v = (double *) (void *) values->data;
  guint n = values->len;

  if (n == 0)
    return 0.0;
  sort_few (v, n);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Scheduling */

/* The next item to sample, spread over the input as AmorSampler spreads
 * its samples, never one sampled yet. */
static guint64
run_next_sample_index (Run *run)
{
  return amor_sampler_take_next_index (run->sampled, run->n_items, &run->sample_cursor);
}

static guint
run_count_workers (Run         *run,
                   WorkerState  state)
{
  guint n = 0;

  for (guint i = 0; i < run->workers->len; i++)
    if (((Worker *) g_ptr_array_index (run->workers, i))->state == state)
      n++;
  return n;
}

/* The workers running chunks of the plan. */
static guint
run_count_at_work (Run *run)
{
  guint n = 0;

  for (guint i = 0; i < run->workers->len; i++)
    n += worker_work_chunk (g_ptr_array_index (run->workers, i)) != NULL;
  return n;
}

static guint
run_count_ready (Run *run)
{
  guint n = 0;

  for (guint i = 0; i < run->workers->len; i++)
    n += worker_is_ready (g_ptr_array_index (run->workers, i));
  return n;
}

/* The workers a parallel plan would use: the usable CPUs, or fewer. */
guint
run_wanted_workers (Run *run)
{
  guint n_cpus = MAX (1, amor_system_get_n_cpus (amor_process_pool_get_system (run->self)));

  return run->self->n_workers > 0 ? MIN (n_cpus, run->self->n_workers) : n_cpus;
}

/* Sampling runs while most CPUs wait: as AmorSampler does, it stops once it
 * has two durations and has taken its time budget or this share of the
 * estimated time of the whole map on all the CPUs it may use... */
#define SAMPLING_SHARE 0.02
/* ...but goes on below this (a round trip costs about as much). */
#define SAMPLING_FLOOR 100e-6

/* How many items the next sampling chunk takes, 0 when sampling is over:
 * the rule of amor_sampler_run(), a chunk at a time (the worker times each
 * item, so one round trip times a whole chunk). Two items first, so that
 * the mean is known; then the rest of the base sample size; then, while
 * the CV is above 0.5, more up to the maximum sample size — as far as the
 * time budget goes, the next chunk included. */
static guint64
run_sample_count (Run *run)
{
  guint64 taken = run->sampled->len;
  guint64 left = run->n_items - taken;
  guint base = amor_sampler_get_sample_size (run->sampler);
  guint max_size = MAX (base, amor_sampler_get_max_sample_size (run->sampler));
  double budget = amor_sampler_get_time_budget (run->sampler);
  double elapsed, mean;
  guint64 count;
  guint parallel;

  if (left == 0)
    return 0;
  if (taken == 0)
    return MIN (MIN (base, 2), left);

  /* The share is of the map's time on the CPUs it may use: sampling runs
   * while most of them wait. */
  mean = amor_sampler_get_mean (run->sampler);
  budget = MIN (budget, MAX (SAMPLING_FLOOR, SAMPLING_SHARE * (double) run->n_items * mean /
                                             (double) run_wanted_workers (run)));
  elapsed = amor_clock_seconds_since (run->sampling_start_ns);
  /* The base sample size is taken whatever the budget when the items
   * left of it cost nothing to speak of: two samples of tiny items are a
   * poor estimate, five cost no more. */
  if (elapsed >= budget && taken >= MIN (base, 2) &&
      (taken >= base || mean * (double) (base - taken) > SAMPLING_FLOOR))
    return 0;

  if (taken < base)
    count = MIN (base - taken, left);
  else if (taken < max_size && amor_sampler_get_cv (run->sampler) > 0.5)
    count = MIN (max_size - taken, left);
  else
    return 0;

  /* Workers sample in parallel, a share of each round each (with this
   * thread and the busy workers, in run_here()): the time left holds
   * that many more items. */
  parallel = run->here ? run_count_ready (run) + 1 : run_count_workers (run, WORKER_IDLE);
  parallel = MAX (parallel, 1);
  if (mean > 0.0 && elapsed < budget && (budget - elapsed) * parallel / mean < (double) count)
    count = MAX (1, (guint64) ((budget - elapsed) * parallel / mean));
  return count;
}

/* When run_sample_count() says sampling is over while workers still time
 * their last samples: whether the others go on without waiting for them.
 * They do with the plan (@count left at 0) once the sample size is timed
 * (or every item taken is), else with @count more items to sample — more
 * samples rather than a worker waiting: their results are kept. FALSE
 * when no item is left to sample. */
static gboolean
run_sampling_goes_on (Run     *run,
                      guint64 *count)
{
  guint needed = (guint) MIN ((guint64) run->sampled->len,
                              amor_sampler_get_sample_size (run->sampler));
  guint timed = amor_sampler_get_n_samples (run->sampler);

  if (timed >= needed)
    return TRUE;
  *count = MIN ((guint64) (needed - timed), run->n_items - run->sampled->len);
  return *count > 0;
}

static int
compare_guint64 (gconstpointer a,
                 gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return (x > y) - (x < y);
}

/* A chunk of @n items to sample, spread over the input. */
static Chunk *
run_sample_chunk (Run     *run,
                  guint64  n)
{
  Chunk *chunk = g_new0 (Chunk, 1);

  chunk->indices = g_new (guint64, n);
  for (guint64 i = 0; i < n; i++)
    chunk->indices[i] = run_next_sample_index (run);
  qsort (chunk->indices, n, sizeof (guint64), compare_guint64);
  chunk->n = n;
  chunk->sample = TRUE;
  return chunk;
}

static Worker *
run_find_idle (Run *run)
{
  for (guint i = 0; i < run->workers->len; i++)
    {
      Worker *worker = g_ptr_array_index (run->workers, i);

      if (worker->state == WORKER_IDLE)
        return worker;
    }
  return NULL;
}

/* Plans @n_items items from @sampler with the costs of processes: the
 * spawn time as the fork-join cost (a round trip once every usable CPU
 * has a worker; @alive run already), the round trip of a chunk as the
 * dispatch cost, and @parallel_item_cost per item handed to a worker. */
static AmorResult *
pool_plan (AmorProcessPool *self,
           AmorSampler     *sampler,
           guint64          n_items,
           guint            alive,
           double           spawn_cost,
           double           dispatch_cost,
           double           parallel_item_cost)
{
  AmorSystem *machine = amor_process_pool_get_system (self);
  g_autoptr(AmorSystem) system = NULL;
  g_autoptr(AmorOptimizer) optimizer = NULL;
  guint n_cpus = MAX (1, amor_system_get_n_cpus (machine));
  double fork_join;

  /* The fork-join cost of a team of n_cpus: starting the workers that are
   * not running yet (they start at once); and, even when all are running,
   * a round trip: the map ends only once the last chunk's answer is back,
   * a wait that no other worker shares. */
  fork_join = alive >= n_cpus ? 0.0
            : spawn_cost * (double) (n_cpus - MAX (alive, 1)) / (double) MAX (1, n_cpus - 1);
  fork_join = MAX (fork_join, dispatch_cost);
  if (n_cpus == 1)
    fork_join = 0.0;

  system = amor_system_new_custom (n_cpus,
                                   amor_system_get_n_physical_cores (machine),
                                   amor_system_get_available_memory (machine),
                                   fork_join, dispatch_cost);
  optimizer = amor_optimizer_new ();
  amor_optimizer_set_system (optimizer, system);
  amor_optimizer_set_min_speedup (optimizer, self->min_speedup);
  amor_optimizer_set_max_workers (optimizer, self->n_workers);
  amor_optimizer_set_target_chunk_duration (optimizer, self->target_chunk_duration);
  amor_optimizer_set_parallel_item_cost (optimizer, parallel_item_cost);
  /* run_next_chunk() shrinks the last chunks. */
  amor_optimizer_set_tapered_tail (optimizer, TRUE);

  g_debug ("process pool: planning with spawn %.6f s (fork-join %.6f s), round "
           "trip %.6f s, serialisation %.9f s per item%s",
           spawn_cost, fork_join, dispatch_cost,
           parallel_item_cost > 0.0 ? parallel_item_cost : self->serialization_cost,
           parallel_item_cost > 0.0 ? " (parallel only)" : "");

  return amor_optimizer_plan (optimizer, sampler, n_items);
}

/* Plans the map from the samples the workers timed. Their serialisation
 * cost is in the sampled durations: a serial plan runs on a worker too. */
AmorResult *
run_make_plan (Run *run)
{
  AmorProcessPool *self = run->self;

  if (run->dispatch->len > 0)
    {
      self->dispatch_cost = median (run->dispatch);
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_DISPATCH_COST]);
    }
  if (run->serialization_n > 0)
    {
      self->serialization_cost = run->serialization_sum / (double) run->serialization_n;
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_SERIALIZATION_COST]);
    }

  return pool_plan (self, run->sampler, run->n_items, run->n_kept,
                    self->spawn_cost, self->dispatch_cost, 0.0);
}

static gboolean run_help_cb (gpointer user_data);
static gsize run_sampled_from (Run     *run,
                               guint64  index);

/* The filler (run_keep_filler()) is chosen among this many stretches of
 * the input ... */
#define FILLER_STRETCHES 32
/* ... where the cheapest costs at most this share of the dearest ... */
#define FILLER_MAX_RATIO 0.25
/* ... and lasts about this many of the dearest items, at most this share
 * of the input. */
#define FILLER_DEAR_ITEMS 2.0
#define FILLER_MAX_SHARE 0.02

/* Keeps a few of the cheapest items for the end of a map whose calling
 * thread runs chunks too: the last split (run_last_split()) can even out
 * the ends only to an item, and where the last items are dear (the cost
 * rises along the input, or steps up), that is a long wait for one side.
 * Where the profile tells that a stretch of the input costs far less than
 * another, items of it, worth about two of the dearest, are skipped by
 * the hand-out (run_advance()) and go last: a few to each worker in the
 * last split, to end its part nearest to the common end, the rest to the
 * calling thread — or, when no last split comes, after all the others. */
static void
run_keep_filler (Run *run)
{
  guint64 n = run->n_items, width = n / FILLER_STRETCHES, keep, first;
  double cheapest = -1.0, dearest = 0.0;
  guint best = 0;

  if (run->helper == NULL || !run->opening || width < 4 ||
      !amor_profile_knows_trend (run->profile))
    return;
  for (guint i = 0; i < FILLER_STRETCHES; i++)
    {
      double cost = amor_profile_estimate (run->profile, i * width, (i + 1) * width);

      if (cheapest < 0.0 || cost < cheapest)
        {
          cheapest = cost;
          best = i;
        }
      dearest = MAX (dearest, cost);
    }
  if (cheapest <= 0.0 || cheapest > FILLER_MAX_RATIO * dearest)
    return;

  keep = (guint64) ceil (FILLER_DEAR_ITEMS * dearest / cheapest);
  keep = MIN (MIN (keep, width), (guint64) (FILLER_MAX_SHARE * (double) n));
  if (keep < 2)
    return;
  /* The middle of the stretch: its ends may hold dearer items. */
  first = best * width + (width - keep) / 2;
  run->filler_first = run->filler_next = first;
  run->filler_end = first + keep;
  run->filler_skip = run_sampled_from (run, first);
  g_debug ("process pool: items %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
           " (about %.3f ms each, the dearest %.3f ms) are kept for the end",
           first, first + keep - 1, cheapest * 1e3, dearest * 1e3);
}

void
run_start_plan (Run *run)
{
  guint64 n = run->n_items;
  guint64 n_chunks;

  run->phase = PHASE_RUNNING;
  if (run->plan == NULL)
    run->plan = run_make_plan (run);

  run->schedule = amor_result_get_schedule (run->plan);
  run->n_workers = MAX (1, amor_result_get_n_workers (run->plan));
  run->chunk_size = amor_result_get_chunk_size (run->plan);

  if (run->schedule == AMOR_SCHEDULE_SERIAL || run->n_workers == 1)
    {
      /* One worker, in chunks of the base size rather than one frame of
       * every item. */
      guint64 base = amor_result_get_base_chunk_size (run->plan);

      run->n_workers = 1;
      run->schedule = AMOR_SCHEDULE_FIXED;
      if (base > 0)
        run->chunk_size = base;
    }
  run->chunk_size = CLAMP (run->chunk_size, 1, MAX (n, 1));
  run->plan_item_cost = amor_profile_get_mean (run->profile);

  n_chunks = n / run->chunk_size + (n % run->chunk_size != 0);
  if (n_chunks < run->n_workers)
    run->n_workers = (guint) MAX (n_chunks, 1);

  /* A blocking map sampled in the calling thread: rather than wait for
   * the workers, that thread is one of them, its chunks run between
   * their messages. */
  if (run->local && run->n_workers > 1 && run->helper == NULL)
    {
      run->helper = g_idle_source_new ();
      g_source_set_callback (run->helper, run_help_cb, run, NULL);
      g_source_set_static_name (run->helper, "[amorsize] map in the calling thread");
      g_source_attach (run->helper, run->context);
    }
  run_keep_filler (run);

  g_debug ("process pool: %" G_GUINT64_FORMAT " items (%u sampled) on %u workers, "
           "%s chunks of %" G_GUINT64_FORMAT " (trend %.2f%s)",
           n, run->sampled->len, run->n_workers,
           run->schedule == AMOR_SCHEDULE_GUIDED ? "guided" : "fixed", run->chunk_size,
           amor_profile_get_trend (run->profile),
           amor_profile_knows_trend (run->profile) ? "" : ", too few items timed to tell");
}

/* How far a plan's chunk may shrink (run_chunk_items()). */
#define CHUNK_ITEMS_SHRINK 4

/* The plan's chunk size, in items, for the next items: the plan sizes a
 * chunk from the mean of a few samples, and the items timed since tell
 * better what the next ones cost — the mean of many more, or, where the
 * cost follows the place in the input, what the items around them took.
 * A chunk whose items cost more than the plan thought shrinks to last
 * about what it meant (down to a quarter of its size). One whose items
 * cost less keeps its size: where the cost steps up just past the items
 * timed, a stretched chunk would run into the dear ones. */
static guint64
run_chunk_items (Run *run)
{
  guint64 end = MIN (run->next + run->chunk_size, run->n_items);
  double now, items;

  if (run->plan_item_cost <= 0.0 || end <= run->next)
    return run->chunk_size;
  now = amor_profile_estimate (run->profile, run->next, end);
  if (now <= 0.0)
    return run->chunk_size;

  items = (double) run->chunk_size * run->plan_item_cost / now;
  items = CLAMP (items, (double) run->chunk_size / CHUNK_ITEMS_SHRINK,
                 (double) run->chunk_size);
  return MAX ((guint64) (items + 0.5), 1);
}

/* The position in the sorted sampled indices of the first at or after
 * @index. */
static gsize
run_sampled_from (Run     *run,
                  guint64  index)
{
  gsize lo = 0, hi = run->sampled->len;

  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;

      if (g_array_index (run->sampled, guint64, mid) < index)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* How many items of [@first, @end) are not sampled. */
static guint64
run_unsampled_in (Run     *run,
                  guint64  first,
                  guint64  end)
{
  if (end <= first)
    return 0;
  return end - first - (run_sampled_from (run, end) - run_sampled_from (run, first));
}

/* Moves the cursor @index past the sampled items at its front (done
 * already), @pos being the first sampled index not below it. */
static void
run_skip_sampled_at (Run     *run,
                     guint64 *index,
                     gsize   *pos)
{
  while (*pos < run->sampled->len && g_array_index (run->sampled, guint64, *pos) <= *index)
    {
      if (g_array_index (run->sampled, guint64, *pos) == *index)
        (*index)++;
      (*pos)++;
    }
}

/* Moves run->next past the sampled items at its front and past the
 * filler kept for the end (run_keep_filler()). */
static void
run_advance (Run *run)
{
  for (;;)
    {
      run_skip_sampled_at (run, &run->next, &run->skip_pos);
      if (run->next < run->filler_first || run->next >= run->filler_end)
        return;
      run->next = run->filler_end;
    }
}

/* How many items are left to hand out from run->next on, the filler left
 * out. */
static guint64
run_main_left (Run *run)
{
  run_advance (run);
  if (run->next >= run->n_items)
    return 0;
  return run->n_items - run->next - (run->sampled->len - run->skip_pos) -
         (run->next < run->filler_end
          ? run_unsampled_in (run, run->filler_first, run->filler_end) : 0);
}

/* How many items of the filler are left to hand out. */
static guint64
run_filler_left (Run *run)
{
  return run_unsampled_in (run, run->filler_next, run->filler_end);
}

/* How many items are left to hand out, the filler's among them. */
static guint64
run_unassigned (Run *run)
{
  return run_main_left (run) + run_filler_left (run);
}

/* How large the first chunks of the pool's own plans are, in items, for
 * @unassigned items left to hand out (0 where the plan's size holds): a
 * 2n-th of the work left, for n workers, at the cost the profile gives the
 * next items, and at most a 2n-th of those left. While many items are left
 * a few large chunks do as well as many of the plan's size, and save their
 * round trips and calls into the work function — a few hundred
 * microseconds each where the work is in Python or JavaScript. Counted in
 * time, where the cost follows the place in the input (the samples, spread
 * over the map, tell), the first chunks hold fewer of the dear items. A
 * plan given to the pool runs as given. */
static guint64
run_opening_items (Run     *run,
                   guint64  unassigned)
{
  guint64 parts = 2 * (guint64) run->n_workers;
  guint64 items = unassigned / parts + (unassigned % parts != 0);
  double left, front;

  /* Until the profile can tell whether the cost follows the place in the
   * input, a large chunk might be the dearest part of it. */
  if (!run->opening || run->n_workers < 2 || items == 0 ||
      !amor_profile_knows_trend (run->profile))
    return 0;
  left = (double) unassigned * amor_profile_estimate (run->profile, run->next, run->n_items);
  front = amor_profile_estimate (run->profile, run->next, MIN (run->next + items, run->n_items));
  if (left <= 0.0 || front <= 0.0)
    return 0;
  return MIN (items, (guint64) (left / (double) parts / front));
}

/* What @n items of the profile's estimate, from @first on, are likely to
 * take (0 for none). */
static double
run_estimate_items (Run     *run,
                    guint64  first,
                    guint64  end,
                    guint64  n)
{
  return n > 0 ? (double) n * MAX (amor_profile_estimate (run->profile, first, end), 0.0) : 0.0;
}

/* What the items of @chunk are likely to take, by @estimate (@n items of
 * [@first, @end)): a stretch of neighbouring items, or two, the filler's
 * after the others (run_cut()). */
static double
run_chunk_estimate (Run     *run,
                    Chunk   *chunk,
                    double (*estimate) (Run *run, guint64 first, guint64 end, guint64 n))
{
  const guint64 *at = chunk->indices;
  gsize split = chunk->filler_from > 0 ? chunk->filler_from : chunk->n;
  double cost = estimate (run, at[0], at[split - 1] + 1, split);

  if (split < chunk->n)
    cost += estimate (run, at[split], at[chunk->n - 1] + 1, chunk->n - split);
  return cost;
}

/* A chunk of the next @n_main unsampled items and the next @n_filler of
 * the filler (or those left of each, if fewer), or NULL when that is
 * none. */
static Chunk *
run_cut (Run     *run,
         guint64  n_main,
         guint64  n_filler)
{
  Chunk *chunk;
  gsize count = 0, n_from_main;

  chunk = g_new0 (Chunk, 1);
  chunk->indices = g_new (guint64, MAX (n_main + n_filler, 1));
  while (count < n_main)
    {
      run_advance (run);
      if (run->next >= run->n_items)
        break;
      chunk->indices[count++] = run->next++;
    }
  n_from_main = count;
  while (count < n_main + n_filler)
    {
      run_skip_sampled_at (run, &run->filler_next, &run->filler_skip);
      if (run->filler_next >= run->filler_end)
        break;
      chunk->indices[count++] = run->filler_next++;
    }
  chunk->n = count;
  if (n_from_main > 0 && count > n_from_main)
    chunk->filler_from = n_from_main;

  if (count == 0)
    {
      chunk_free (chunk);
      return NULL;
    }
  chunk->estimate = run_chunk_estimate (run, chunk, run_estimate_items);
  chunk->by_place = amor_profile_follows_place (run->profile);
  return chunk;
}

/* The next @size unsampled items (or those left, if fewer) as a chunk of
 * the plan, the filler's last, or NULL when all are handed out. */
static Chunk *
run_cut_chunk (Run     *run,
               guint64  size)
{
  guint64 main_left = run_main_left (run);

  return run_cut (run, MIN (size, main_left), size > main_left ? size - main_left : 0);
}

/* The next chunk of unsampled items, at most @max of them, or NULL when
 * all are handed out. */
static Chunk *
run_take_chunk (Run     *run,
                guint64  max)
{
  guint64 size, remaining, unassigned;

  unassigned = run_unassigned (run);
  if (unassigned == 0)
    return NULL;

  /* (The sampled items among them too, while the others last.) */
  remaining = run->next < run->n_items ? run->n_items - run->next : unassigned;
  size = run_chunk_items (run);
  if (run->n_workers > 1)
    {
      /* A 2n-th of the items left, rounded up. */
      guint64 share = remaining / (2 * (guint64) run->n_workers);

      if (share * 2 * run->n_workers < remaining)
        share++;

      if (run->schedule == AMOR_SCHEDULE_GUIDED)
        size = MAX (size, share);
      else
        {
          /* The tail tapers: near the end, chunks shrink below the plan's
           * size, so that the workers finish together even when a few
           * items cost far more than the samples showed (a heavy-tailed
           * workload seldom shows its tail in five samples). A chunk costs
           * a round trip: few are added, about n per halving. */
          size = MIN (size, share);
          /* ... but the first chunks are larger. */
          size = MAX (size, run_opening_items (run, unassigned));
        }
    }
  size = MIN (MIN (size, remaining), MAX (max, 1));

  return run_cut_chunk (run, size);
}

/* The most items of a chunk for @worker: the chunk's message, and the
 * answer to it, take at most half of what the worker's socket holds
 * (worker->room), so that a second chunk fits behind it and neither side
 * waits for the other to read. Each item is counted at the mean size of
 * the map's items, and its result at its type's size (or as large as an
 * item) with its duration. */
static guint64
run_chunk_cap (Run    *run,
               Worker *worker)
{
  gsize result_size = run->self->result_type != NULL
                      ? amor_wire_fixed_size (run->self->result_type) : 0;
  double item = (double) g_variant_get_size (run->items) / (double) MAX (run->n_items, 1);
  double per_item = MAX (item, result_size > 0 ? (double) result_size + sizeof (gint64)
                                               : item + sizeof (gint64));

  return MAX (1, (guint64) ((double) worker->room / 2.0 / per_item));
}

/* The next chunk for @worker: a retry first, else unsampled items. */
static Chunk *
run_next_chunk (Run    *run,
                Worker *worker)
{
  Chunk *chunk = g_queue_pop_head (&run->retry);

  return chunk != NULL ? chunk : run_take_chunk (run, run_chunk_cap (run, worker));
}

/* The workers of a running plan that are processes: all of them, but one
 * when the calling thread is one of them (run_help_cb()). */
static guint
run_remote_workers (Run *run)
{
  return run->n_workers - (run->helper != NULL);
}

/* About how many chunks are still to be handed out. */
static guint64
run_chunks_left (Run *run)
{
  guint64 left = run->retry.length + (run->resume != NULL), unassigned = run_unassigned (run);

  if (unassigned > 0)
    left += ((run->next < run->n_items ? run->n_items - run->next : unassigned) +
             run->chunk_size - 1) / run->chunk_size;
  return left;
}

/* What an item of [@first, @end) is likely to take, in seconds; 1 each
 * while no item took any time, so that items are counted instead. */
static double
run_item_cost (Run     *run,
               guint64  first,
               guint64  end)
{
  double seconds = amor_profile_estimate (run->profile, first, end);

  return seconds > 0.0 ? seconds : 1.0;
}

/* What @n items of [@first, @end) are likely to take, by run_item_cost(). */
static double
run_items_cost (Run     *run,
                guint64  first,
                guint64  end,
                guint64  n)
{
  return (double) n * run_item_cost (run, first, end);
}

/* What the items of @chunk are likely to take. */
static double
run_chunk_cost (Run   *run,
                Chunk *chunk)
{
  return run_chunk_estimate (run, chunk, run_items_cost);
}

/* About how long @worker is still busy with the chunks it holds, in
 * seconds, at @now. */
static double
run_worker_held_time (Run    *run,
                      Worker *worker,
                      gint64  now)
{
  double held;

  if (g_queue_is_empty (&worker->inflight))
    return 0.0;
  /* Its first chunk is partly done. */
  held = run_chunk_cost (run, worker->inflight.head->data);
  held -= MIN ((double) (now - worker->front_start_ns) / 1e9, held);
  for (GList *l = worker->inflight.head->next; l != NULL; l = l->next)
    held += run_chunk_cost (run, l->data);
  return held;
}

/* About how long the worker that will be done first is still busy with
 * the chunks it holds, in seconds, or -1 when none holds any: the calling
 * thread reads answers and sends chunks only between its own chunks, and
 * one that outlasts what a worker holds leaves that worker waiting. */
static double
run_held_time (Run *run)
{
  gint64 now = amor_clock_now_ns ();
  double least = -1.0;

  for (guint i = 0; i < run->workers->len; i++)
    {
      Worker *worker = g_ptr_array_index (run->workers, i);
      double held;

      if (!worker_is_ready (worker) || g_queue_is_empty (&worker->inflight))
        continue;
      held = run_worker_held_time (run, worker, now);
      if (least < 0.0 || held < least)
        least = held;
    }
  return least;
}

/* How fast the error of a chunk's estimate is forgotten: halved at each
 * chunk checked after it. */
#define CHUNK_ERROR_DECAY 0.5

/* The items of @chunk, handed out for the plan, took @seconds: how far
 * that is from its estimate (chunk->estimate) is kept in run->chunk_error,
 * the largest relative error of the chunks checked, each the less for the
 * chunks checked after it. It tells how far the profile can be trusted to
 * say what the last items take (run_last_split()), whatever makes it err:
 * items unlike their neighbours, or a machine busy with other work. */
void
run_check_estimate (Run    *run,
                    Chunk  *chunk,
                    double  seconds)
{
  double error;

  if (chunk->estimate <= 0.0)
    return;
  /* Estimated at the mean of all, before the profile could tell that the
   * cost follows the place in the input, where it now goes by that: its
   * error is not the profile's. (The first chunks of a cost rising along
   * the input, 45 to 89 % off so, still made the error 4 % after five
   * chunks within 0.4 % of their estimates.) */
  if (!chunk->by_place && amor_profile_follows_place (run->profile))
    return;
  error = fabs (seconds - chunk->estimate) / chunk->estimate;
  run->chunk_error = MAX (error, run->chunk_error * CHUNK_ERROR_DECAY);
  run->n_chunks_checked++;
}

/* The last split (run_last_split()) comes only after this many of the
 * plan's chunks are checked against their estimate ... */
#define LAST_SPLIT_MIN_CHECKED 2

/* ... when the chunks it makes would last at most this long, in seconds
 * (the longer, the more time for the machine to change pace) ... */
#define LAST_SPLIT_MAX_TIME 0.25

/* ... and when they are likely to end at most this far apart, in seconds
 * (their length times the error of recent estimates). */
#define LAST_SPLIT_MAX_ERROR 0.3e-3

/* ... and when no item timed ahead (a sample) took more than this many
 * times the longest item timed behind: the items left would cost what
 * none handed out so far did, and their estimates are a guess. (On a
 * cheap input whose last tenth costs ten times more, the items behind had
 * shown no such cost, and a last split priced the rest at the mean of all
 * items timed: one process got the dear ones and worked 500 ms alone.) */
#define LAST_SPLIT_MAX_SURPRISE 2.0

/* The mean of what the plan's chunks cost the workers besides their
 * items, as they reported it (from when they were free for a chunk to its
 * answer), or @none before any answered one. */
static double
run_worker_overhead (Run    *run,
                     double  none)
{
  return run->worker_overhead_n > 0 ? run->worker_overhead_sum / (double) run->worker_overhead_n
                                    : none;
}

/* The mean of what the calling thread's chunks of the plan took besides
 * their items, or @none before it ran one. */
static double
run_local_overhead (Run    *run,
                    double  none)
{
  return run->local_overhead_n > 0 ? run->local_overhead_sum / (double) run->local_overhead_n
                                   : none;
}

/* What the items left to hand out are likely to take, the filler's left
 * out: where the filler lies ahead, the items on either side of it each
 * at their own cost. (It is the cheapest stretch: at the mean cost of the
 * range it lies in, the others would seem cheaper than they are, by 2.5 %
 * on a falling cost, and the calling thread's part of a last split took
 * 8 ms more than the worker's.) */
static double
run_main_work (Run *run)
{
  guint64 left = run_main_left (run), ahead;

  if (run->next >= run->filler_first || left == 0)
    return run_estimate_items (run, run->next, run->n_items, left);
  ahead = run_unsampled_in (run, run->next, run->filler_first);
  return run_estimate_items (run, run->next, run->filler_first, ahead) +
         run_estimate_items (run, run->filler_end, run->n_items, left - ahead);
}

/* How many items from @first take about @seconds (at most @most), as
 * run_estimate_items() counts them: the count whose estimate comes
 * nearest, found by halving. (A rate guessed from the items ahead, then
 * applied to the count it gave, can disagree with the estimate of those
 * very items: where a few timed items far ahead cost ten times those
 * near, 110 items priced at 220 ms in all were thought to last 89 ms.) */
static guint64
run_items_lasting (Run     *run,
                   guint64  first,
                   double   seconds,
                   guint64  most)
{
  guint64 lo = 0, hi = MIN (most, run->n_items - MIN (first, run->n_items));
  double below, above;

  if (seconds <= 0.0 || hi == 0)
    return 0;
  if (run_estimate_items (run, first, first + hi, hi) <= seconds)
    return hi;
  /* The least count that lasts @seconds or more is in (lo, hi]. */
  while (hi - lo > 1)
    {
      guint64 mid = lo + (hi - lo) / 2;

      if (run_estimate_items (run, first, first + mid, mid) < seconds)
        lo = mid;
      else
        hi = mid;
    }
  below = run_estimate_items (run, first, first + lo, lo);
  above = run_estimate_items (run, first, first + hi, hi);
  return seconds - below < above - seconds ? lo : hi;
}

/* The last split may be made early, on estimates that err by up to this
 * much (run->chunk_error), where LAST_SPLIT_MAX_ERROR would have it wait,
 * when the cost follows the place in the input: the calling thread's part
 * then keeps a deadline, and what it leaves there is split again
 * (run_split_again()). (Where costs are unlike at random, the error of
 * the chunks so far says little of that of parts to come: on exponential
 * costs, chunks 3.4 % off were followed by parts 8 % off, and this thread
 * waited for the worker.) */
#define LAST_SPLIT_MAX_OPEN_ERROR 0.05

/* ... at most this many times: each costs a chunk. */
#define LAST_SPLIT_MAX_AGAIN 3

/* ... and only while the items after the last one timed are at most this
 * share of those left: past it the profile carries on what it knows, and
 * its error is not that of the chunks. (With four samples, all in the
 * first 36 % of a falling cost, the last third of the input was priced
 * 65 % too dear, and the worker worked 35 ms alone.) */
#define LAST_SPLIT_MAX_UNTIMED 0.125

/* Sets @held[i], for each worker, to what it still has to do before its
 * part of a last split: what it holds, and what a chunk costs it besides
 * its items (reading it, calling the work function, answering: the mean
 * of what the workers reported for the plan's chunks) for each chunk it
 * holds, the one it runs too (most of that cost comes after the items),
 * and for its last one; and @held[n] to that cost for the calling
 * thread's last chunk, as it measured it on its chunks (a round trip's
 * time until it has). FALSE unless every worker is ready, and at work for
 * the plan: none is starting, and none is kept idle beyond the plan's
 * number. */
static gboolean
run_split_held (Run    *run,
                double *held)
{
  guint n = run->workers->len;
  double boundary, worker_boundary;
  gint64 now = amor_clock_now_ns ();

  boundary = run->self->dispatch_cost > 0.0 ? run->self->dispatch_cost
                                            : LOCAL_DEFAULT_DISPATCH_COST;
  worker_boundary = run_worker_overhead (run, 0.0);
  for (guint i = 0; i < n; i++)
    {
      Worker *worker = g_ptr_array_index (run->workers, i);

      if (!worker_is_ready (worker))
        return FALSE;
      held[i] = run_worker_held_time (run, worker, now) +
                worker_boundary * (double) (worker->inflight.length + 1);
    }
  if (n != run_remote_workers (run))
    return FALSE;
  held[n] = run_local_overhead (run, boundary);
  return TRUE;
}

/* The time from now that sees @work done, shared by the calling thread
 * and the @n workers that are done before then, over and above what they
 * have to do first (@held, as run_split_held() gives it). */
static double
run_split_end (const double *held,
               guint         n,
               double        work)
{
  double *sorted = g_newa (double, n + 1);
  double sum = 0.0, end = 0.0;

  memcpy (sorted, held, (n + 1) * sizeof (double));
  sort_few (sorted, n + 1);
  for (guint i = 0; i <= n; i++)
    {
      sum += sorted[i];
      end = (work + sum) / (double) (i + 1);
      if (i == n || sorted[i + 1] >= end)
        break;
    }
  return end;
}

/* How far short of @end (from now, as run_split_end() gives it) the
 * workers' parts of a last split should be, in seconds: 0 when the
 * estimates have proved good enough for the parts to end together;
 * otherwise, where the split @may_open (few items are left past the last
 * one timed), while the estimates err by no more than
 * LAST_SPLIT_MAX_OPEN_ERROR and the profile goes by the place in the
 * input, the error over that time, so that the workers are likely to be
 * done first and the calling thread, at its deadline, splits what it has
 * left (run->split_open); else -1: not yet. */
static double
run_split_margin (Run      *run,
                  double    end,
                  gboolean  may_open)
{
  if (end * run->chunk_error <= LAST_SPLIT_MAX_ERROR)
    return 0.0;
  if (!may_open || run->chunk_error > LAST_SPLIT_MAX_OPEN_ERROR ||
      !amor_profile_follows_place (run->profile) ||
      run->n_splits_again >= LAST_SPLIT_MAX_AGAIN)
    return -1.0;
  return end * run->chunk_error;
}

/* In run_help_cb(): ends the map in one last chunk for each, if the
 * profile's estimates have proved good enough, rather than in chunks that
 * halve down to single items — a few hundred microseconds each where the
 * work is in Python or JavaScript, and as many more for the calling thread
 * (run_within_held()). The items left are split so that the workers and
 * the calling thread are likely to be done together, each worker's part
 * following what it still holds, and are sent to them at once. Where the
 * estimates err too much for the parts to end together, but not far
 * (run_split_margin()), the workers' parts are made shorter, and this
 * thread's part keeps a deadline. Returns how many items are the calling
 * thread's last chunk, or 0 when it is not time for the last split. */
static guint64
run_last_split (Run *run)
{
  guint n = run->workers->len;
  guint64 unassigned = run_main_left (run), filler = run_filler_left (run), untimed;
  double *held = g_newa (double, n + 1);
  double rate = 0.0, filler_rate = 0.0, work, end, margin;

  /* (What a chunk costs a worker besides its items is known once one of
   * them has answered a chunk of the plan.) */
  if (unassigned + filler == 0 || run->n_chunks_checked < LAST_SPLIT_MIN_CHECKED ||
      (n > 0 && run->worker_overhead_n == 0) ||
      !g_queue_is_empty (&run->retry) || run_count_workers (run, WORKER_SPAWNING) > 0)
    return 0;
  if (unassigned > 0)
    rate = run_main_work (run) / (double) unassigned;
  if (filler > 0)
    filler_rate = amor_profile_estimate (run->profile, run->filler_next, run->filler_end);
  if ((unassigned > 0 && rate <= 0.0) || (filler > 0 && filler_rate <= 0.0))
    return 0;
  if (amor_profile_get_max (run->profile, run->next, run->n_items) >
      LAST_SPLIT_MAX_SURPRISE * amor_profile_get_max (run->profile, 0, run->next))
    return 0;
  work = (double) unassigned * rate + (double) filler * filler_rate;

  /* What each of them still has to do before its part, and the time
   * from now that sees all done. */
  if (!run_split_held (run, held))
    return 0;
  end = run_split_end (held, n, work);
  untimed = run->n_items - MIN (amor_profile_get_timed_end (run->profile), run->n_items);
  if (end > LAST_SPLIT_MAX_TIME ||
      (margin = run_split_margin (run, end, (double) untimed <= LAST_SPLIT_MAX_UNTIMED *
                                                              (double) (unassigned + filler))) < 0.0)
    return 0;

  /* Each worker's part, in items (the sampled ones among them left out
   * of the count: a few at most), none more than its socket takes. With
   * a filler, a part is as many of the other items as fit, and as many
   * of the filler's as come nearest to the common end. */
  {
    guint64 *parts = g_newa (guint64, MAX (n, 1));
    guint64 *fills = g_newa (guint64, MAX (n, 1));
    guint64 first = run->next, left = unassigned, fill_left = filler;

    for (guint i = 0; i < n; i++)
      {
        double share = end - held[i] - margin;

        parts[i] = fills[i] = 0;
        if (share > 0.0 && left > 0)
          parts[i] = run_items_lasting (run, first, fill_left > 0 ? share - rate / 2.0 : share,
                                        left);
        if (share > 0.0 && fill_left > 0)
          {
            share -= run_estimate_items (run, first, first + parts[i], parts[i]);
            fills[i] = (guint64) MIN (MAX (share / filler_rate + 0.5, 0.0), (double) fill_left);
          }
        if (parts[i] + fills[i] > run_chunk_cap (run, g_ptr_array_index (run->workers, i)))
          return 0;
        first += parts[i];
        left -= parts[i];
        fill_left -= fills[i];
      }

    g_debug ("process pool: last split of %" G_GUINT64_FORMAT " items and %" G_GUINT64_FORMAT
             " of the filler (about %.1f ms), to end in about %.1f ms (estimates %.1f %% off, "
             "workers %.1f ms short), %" G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT
             " of them here", unassigned, filler, work * 1e3, end * 1e3, run->chunk_error * 1e2,
             margin * 1e3, left, fill_left);
    for (guint i = 0; i < n; i++)
      {
        Chunk *chunk = parts[i] + fills[i] > 0 ? run_cut (run, parts[i], fills[i]) : NULL;

        if (chunk != NULL && !run_send (run, g_ptr_array_index (run->workers, i), chunk))
          return 0;
      }
  }
  if (run->phase != PHASE_RUNNING)
    return 0;
  run->split_open = margin > 0.0;
  return run_unassigned (run);
}

/* The share of what a worker holds that the calling thread's next chunk
 * may last (run_within_held()): the rest is a margin for estimates that
 * fall short, a few items of a heavy-tailed workload being as likely as
 * not to cost twice their estimate. */
#define LOCAL_HELD_SHARE 0.5

/* @size, or fewer items, so that the calling thread's next chunk lasts no
 * longer than half of what the workers hold (run_held_time()). Its items
 * are counted at the plan's mean at least: where the profile knows little
 * yet, they may cost what the samples said. */
static guint64
run_within_held (Run     *run,
                 guint64  size)
{
  double held = run_held_time (run), rate;

  if (held < 0.0 || run_unassigned (run) == 0)
    return size;
  held *= LOCAL_HELD_SHARE;
  rate = MAX (amor_profile_estimate (run->profile, run->next, MIN (run->next + size, run->n_items)),
              run->plan_item_cost);
  if (rate > 0.0 && held < (double) size * rate)
    size = MAX ((guint64) (held / rate), 1);
  return size;
}

/* How many items a worker may be sent ahead while the calling thread works
 * too (run_help_cb()), or 0 for none. That thread takes the last items in
 * small chunks: a worker holds no more than a quarter of what leaves the
 * two even, lest it still work when that thread is done. Even in time, not
 * in items: where the cost follows the place in the input, the items a
 * worker holds and those left cost unlike amounts each. */
static guint64
run_tail_share (Run    *run,
                Worker *worker)
{
  guint64 unassigned = run_unassigned (run), front_end;
  double held = 0.0, left, rate;

  if (unassigned == 0)
    return 0;

  for (GList *l = worker->inflight.head; l != NULL; l = l->next)
    {
      Chunk *chunk = l->data;

      if (!chunk->sample)
        held += run_chunk_cost (run, chunk);
    }
  left = (double) unassigned * run_item_cost (run, run->next, run->n_items);
  /* What the calling thread left at its deadline is its own, but not
   * done: the two are to end even with it. */
  if (run->resume != NULL)
    left += run_chunk_cost (run, run->resume);
  front_end = MIN (run->next + run->chunk_size, run->n_items);
  rate = run_item_cost (run, run->next, front_end);
  g_debug ("process pool: worker %u holds about %.1f ms, %" G_GUINT64_FORMAT
           " items left of about %.1f ms (trend %.2f)", worker->id, held * 1e3,
           unassigned, left * 1e3, amor_profile_get_trend (run->profile));
  if (left - held <= rate)
    return 0;
  return (guint64) ((left - held) / 4.0 / rate) + 1;
}

static void run_finish (Run *run);

void
run_schedule (Run *run)
{
  /* run_here() goes on afterwards. */
  if (run->finished || run->here)
    return;

  /* What a lost worker leaves (a chunk to retry, or an error) is known
   * once it is reaped: no new worker before. */
  if (run->reaping > 0)
    goto check;

  if (run->phase == PHASE_SAMPLING)
    {
      Worker *worker;
      Chunk *chunk = NULL;
      guint64 count;

      count = run->retry.length > 0 ? 0 : run_sample_count (run);

      /* A worker still timing its share of a round holds no one back: an
       * idle one takes the next round, or the plan starts. */
      if (run_count_workers (run, WORKER_BUSY) > 0 &&
          (run->retry.length > 0 || run_find_idle (run) == NULL ||
           (count == 0 && !run_sampling_goes_on (run, &count))))
        goto check;

      /* Once the first items are timed and the map looks worth splitting,
       * the workers it needs start while sampling goes on. */
      if (count > 0 && run->sampled->len > 0 && !run->prespawned)
        {
          g_autoptr(AmorResult) guess = run_make_plan (run);
          guint want = amor_result_get_n_workers (guess);

          run->prespawned = TRUE;
          if (amor_result_is_parallel (guess))
            for (guint alive = run->workers->len; alive < want; alive++)
              if (!run_spawn (run))
                goto check;
        }

      if (run->retry.length == 0 && count == 0)
        run_start_plan (run);
      else if ((worker = run_find_idle (run)) != NULL)
        {
          guint n_idle;

          chunk = g_queue_pop_head (&run->retry);
          if (chunk != NULL)
            {
              run_send (run, worker, chunk);
              goto check;
            }

          /* A round of samples, shared by the idle workers (those kept
           * from an earlier map): no one waits while others sample. */
          if (run->sampled->len == 0)
            run->sampling_start_ns = amor_clock_now_ns ();
          n_idle = (guint) MIN (run_count_workers (run, WORKER_IDLE), count);
          for (guint w = 0; w < n_idle && count > 0; w++)
            {
              guint64 share = count / (n_idle - w) + (count % (n_idle - w) != 0);

              worker = run_find_idle (run);
              count -= share;
              if (!run_send (run, worker, run_sample_chunk (run, share)))
                break;
            }
          goto check;
        }
      else
        {
          /* No worker yet: start as many as a parallel plan would use at
           * once, rather than the others after the first has timed two
           * items — a worker started from an argv takes tens of
           * milliseconds, which they then spend side by side. The plan
           * still counts their start as a cost (run->n_kept): a map too
           * small for them stays serial, and they wait for the next. */
          if (run->workers->len == 0)
            {
              guint want = (guint) MIN ((guint64) run_wanted_workers (run), run->n_items);

              for (guint i = 0; i < MAX (want, 1); i++)
                if (!run_spawn (run))
                  break;
            }
          else if (run_count_workers (run, WORKER_SPAWNING) == 0)
            run_spawn (run);
          goto check;
        }
    }

  if (run->phase == PHASE_RUNNING)
    {
      Worker *worker;
      guint alive, spawning;
      guint64 left;

      /* A chunk for each worker that has none of the plan's (idle, or
       * running its last samples), but no more workers at work than the
       * plan says, even when more are running (kept from an earlier
       * map). */
      for (guint i = 0; i < run->workers->len && run->phase == PHASE_RUNNING; i++)
        {
          Chunk *chunk;

          worker = g_ptr_array_index (run->workers, i);
          if (!worker_is_ready (worker) || worker_work_chunk (worker) != NULL)
            continue;
          if (run_count_at_work (run) >= run_remote_workers (run))
            break;
          chunk = run_next_chunk (run, worker);
          if (chunk == NULL || !run_send (run, worker, chunk))
            break;
        }

      /* Start the workers the plan wants, as long as there are chunks
       * left for them (every idle worker has one by now). */
      alive = run->workers->len;
      spawning = run_count_workers (run, WORKER_SPAWNING);
      left = run_chunks_left (run);
      while (run->phase == PHASE_RUNNING && alive < run_remote_workers (run) &&
             left > spawning)
        {
          if (!run_spawn (run))
            break;
          alive++;
          spawning++;
        }

      /* Give each working worker its next chunk ahead, so that it never
       * waits for the pool between two chunks; but, with big chunks, not
       * near the end, where the last ones go to whichever worker is free
       * first. */
      for (guint i = 0; i < run->workers->len && run->phase == PHASE_RUNNING; i++)
        {
          Worker *busy = g_ptr_array_index (run->workers, i);
          Chunk *chunk;

          if (!worker_is_ready (busy) || worker_n_work_chunks (busy) != 1)
            continue;
          /* A fixed plan's tail tapers: a chunk held ahead is small there,
           * and so is the wait it can cause. */
          if (run->schedule != AMOR_SCHEDULE_FIXED && run->n_workers > 1 &&
              run_chunks_left (run) <= run->workers->len)
            break;
          if (run->helper != NULL && g_queue_is_empty (&run->retry))
            {
              guint64 share = run_tail_share (run, busy);

              if (share == 0)
                continue;
              chunk = run_take_chunk (run, MIN (share, run_chunk_cap (run, busy)));
            }
          else
            chunk = run_next_chunk (run, busy);
          if (chunk == NULL || !run_send (run, busy, chunk))
            break;
        }
    }

check:
  if (run->phase == PHASE_STOPPING)
    {
      /* Terminate the workers still running chunks on a cancelled map. */
      if (run->cancelled)
        for (guint i = 0; i < run->workers->len; i++)
          {
            Worker *worker = g_ptr_array_index (run->workers, i);

            if (worker->state == WORKER_BUSY || worker->state == WORKER_SPAWNING)
              worker_kill (worker, "the map was cancelled");
          }
    }

  if (run->pending == 0 && run->phase == PHASE_RUNNING && run->n_done < run->n_items &&
      run_chunks_left (run) == 0)
    {
      /* Never reached: every item handed out is answered, retried or
       * failed. Better a clear error than a map that never ends. */
      g_critical ("AmorProcessPool: %" G_GUINT64_FORMAT " items were lost",
                  run->n_items - run->n_done);
      run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_FAILED,
                                  "Internal error: %" G_GUINT64_FORMAT " items were lost",
                                  run->n_items - run->n_done));
    }

  if (run->pending == 0 &&
      (run->phase == PHASE_STOPPING || run->n_done == run->n_items))
    run_finish (run);
}

static void
run_free (Run *run)
{
  g_assert (run->pending == 0);

  if (run->cancel_source != NULL)
    {
      g_source_destroy (run->cancel_source);
      g_source_unref (run->cancel_source);
    }
  if (run->helper != NULL)
    {
      g_source_destroy (run->helper);
      g_source_unref (run->helper);
    }
  amor_map_results_free (run->results);
  g_queue_clear_full (&run->retry, (GDestroyNotify) chunk_free);
  g_clear_pointer (&run->resume, chunk_free);
  g_ptr_array_unref (run->workers);
  g_clear_object (&run->sampler);
  g_array_unref (run->sampled);
  amor_profile_free (run->profile);
  g_array_unref (run->dispatch);
  g_clear_object (&run->plan);
  g_clear_error (&run->error);
  g_clear_object (&run->cancellable);
  g_variant_unref (run->items);
  g_main_context_unref (run->context);
  g_free (run);
}

static void
run_finish (Run *run)
{
  AmorProcessPool *self = run->self;
  GTask *task = run->task;

  run->finished = TRUE;

  /* The live workers go back to the pool. */
  for (guint i = 0; i < run->workers->len; i++)
    {
      Worker *worker = g_ptr_array_index (run->workers, i);

      g_assert (worker->state == WORKER_IDLE);
      worker->run = NULL;
      g_ptr_array_add (self->idle, worker_ref (worker));
    }
  g_ptr_array_set_size (run->workers, 0);

  self->running = FALSE;
  self->current = NULL;
  self->elapsed = amor_clock_seconds_since (run->start_ns);
  if (run->plan != NULL)
    g_set_object (&self->result, run->plan);
  if (run->local && run->chunk_serialization_n > 0)
    {
      self->serialization_cost = run->chunk_serialization_sum /
                                 (double) run->chunk_serialization_n;
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_SERIALIZATION_COST]);
    }
  /* With a local function, a sample's round trip tells nothing (its
   * answer waits for the calling thread's chunk): what a chunk of the plan
   * cost a worker besides its items, as the workers reported it, is the
   * figure the next map plans with in place of
   * LOCAL_DEFAULT_DISPATCH_COST when it is more. For a worker in Python,
   * 0.3 to 0.5 ms, which tiny maps cannot pay. It leaves out the wake-up
   * of each side and the writing of the chunk, so it never plans with
   * less than the default. */
  if (run->local && run->worker_overhead_n > 0)
    {
      self->dispatch_cost = MAX (run_worker_overhead (run, 0.0), LOCAL_DEFAULT_DISPATCH_COST);
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_DISPATCH_COST]);
    }

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_ELAPSED]);
  g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_RESULT]);
  g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_N_RUNNING]);
  g_object_thaw_notify (G_OBJECT (self));

  if (run->error == NULL && run->n_done == run->n_items)
    {
      GVariant *array = amor_map_results_end (run->results);

      g_debug ("process pool: %" G_GUINT64_FORMAT " items done in %.6f s",
               run->n_items, self->elapsed);
      g_task_return_pointer (task, array, (GDestroyNotify) g_variant_unref);
    }
  else if (run->error != NULL)
    g_task_return_error (task, g_steal_pointer (&run->error));
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "The map was cancelled after %" G_GUINT64_FORMAT
                             " of %" G_GUINT64_FORMAT " items",
                             run->n_done, run->n_items);

  run_free (run);
  g_object_unref (task);
}

gboolean
run_cancelled_cb (GCancellable *cancellable,
                  gpointer      user_data)
{
  Run *run = user_data;

  if (!run->finished && run->error == NULL && !run->cancelled &&
      run->n_done < run->n_items)
    {
      g_debug ("process pool: map cancelled");
      run->cancelled = TRUE;
      run->phase = PHASE_STOPPING;
      run_schedule (run);
    }
  return G_SOURCE_REMOVE;
}

/* Running items in the calling thread (amor_process_pool_set_local_func()) */

/* Runs the @n items @indices with the local function, in one call, and
 * keeps their results and durations (the callback's own, when it gives
 * them), which go to the sampler too when @timed; @total, unless NULL, is
 * set to their sum. With a @deadline_ns (amor_clock_now_ns(), 0 for none:
 * amor_worker_get_time_left()) the callback may stop before an item:
 * @n_run, unless NULL, is set to how many of the items it ran, the first
 * ones. FALSE with @error, which names the failing item. */
static gboolean
run_local (Run            *run,
           const guint64  *indices,
           gsize           n,
           gboolean        timed,
           gint64          deadline_ns,
           gsize          *n_run,
           double         *total,
           GError        **error)
{
  AmorProcessPool *self = run->self;
  g_autoptr(GVariant) items = amor_wire_items_unbox (run_items_slice (run, indices, n));
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GVariant) durations = NULL;
  GError *local_error = NULL;
  const gint64 *ns = NULL;
  gsize failed = 0, n_ns = 0, kept;
  GVariant *answer;
  gint64 t0, t1;
  double sum = 0.0;

  if (deadline_ns > 0)
    amor_worker_set_deadline (&deadline_ns);
  t0 = amor_clock_now_ns ();
  answer = self->local_func (items, self->local_data, &local_error);
  t1 = amor_clock_now_ns ();
  if (deadline_ns > 0)
    amor_worker_set_deadline (NULL);

  results = amor_wire_chunk_answer (answer, n, deadline_ns > 0, &durations, &failed,
                                    &local_error);
  if (results == NULL)
    {
      g_prefix_error (&local_error, "Item %" G_GUINT64_FORMAT ": ", indices[failed]);
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (durations != NULL)
    ns = g_variant_get_fixed_array (durations, &n_ns, sizeof (gint64));
  /* (Fewer only when it stopped at the deadline.) */
  n = g_variant_n_children (results);
  if (n_run != NULL)
    *n_run = n;

  kept = amor_map_results_keep (run->results, indices, results, n, &local_error);
  for (gsize i = 0; i < kept; i++)
    {
      double seconds = ns != NULL ? (double) MAX (ns[i], 0) / 1e9
                                  : (double) (t1 - t0) / 1e9 / (double) n;

      run->n_done++;
      sum += seconds;
      amor_profile_add (run->profile, indices[i], seconds);
      if (timed)
        amor_sampler_add_duration (run->sampler, seconds);
    }
  if (kept < n)
    {
      g_prefix_error (&local_error, "Item %" G_GUINT64_FORMAT ": ", indices[kept]);
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (!timed && ns != NULL)
    {
      run->local_overhead_sum += MAX ((double) (t1 - t0) / 1e9 - sum, 0.0);
      run->local_overhead_n++;
    }
  if (total != NULL)
    *total = sum;
  return TRUE;
}

/* The time by which the calling thread's next chunk should be done
 * (amor_clock_now_ns(); amor_worker_get_time_left() tells the local
 * function): before the worker that will be done first runs out of what
 * it holds, less what this thread's chunks cost besides their items (as
 * it measured them: reading the answers and sending the next chunk are
 * among them). 0 for none, when no worker holds any chunk. */
static gint64
run_local_deadline (Run *run)
{
  double held = run_held_time (run);
  double margin = run_local_overhead (run, LOCAL_DEFAULT_DISPATCH_COST);

  if (held < 0.0)
    return 0;
  return amor_clock_now_ns () + (gint64) (MAX (held - margin, 0.0) * 1e9);
}

/* The @n items of @chunk from its @from-th on, as a chunk of their own. */
static Chunk *
run_chunk_part (Run   *run,
                Chunk *chunk,
                gsize  from,
                gsize  n)
{
  Chunk *part = g_new0 (Chunk, 1);

  part->n = n;
  part->indices = g_memdup2 (chunk->indices + from, n * sizeof (guint64));
  if (chunk->filler_from > from && chunk->filler_from < from + n)
    part->filler_from = chunk->filler_from - from;
  part->estimate = run_chunk_estimate (run, part, run_estimate_items);
  part->by_place = amor_profile_follows_place (run->profile);
  return part;
}

/* How many of the last items of @chunk before its @end-th take about
 * @seconds, by the profile's estimate of each (at most @most). */
static gsize
run_chunk_items_lasting (Run    *run,
                         Chunk  *chunk,
                         gsize   end,
                         double  seconds,
                         gsize   most)
{
  double sum = 0.0;
  gsize count = 0;

  while (count < most && sum < seconds)
    {
      guint64 index = chunk->indices[end - count - 1];
      double each = run_estimate_items (run, index, index + 1, 1);

      /* The count whose estimate comes nearest. */
      if (sum + each - seconds > seconds - sum)
        break;
      sum += each;
      count++;
    }
  return count;
}

/* In run_help_cb(), before the calling thread goes on with what its part
 * of an open last split (run->split_open) left at its deadline
 * (run->resume): the workers are about done, so that part is split again
 * as the items left were (run_last_split()), the workers' parts from its
 * end (where the filler is, or else the items furthest from this
 * thread's), and the rest stays this thread's, with a deadline again
 * while the estimates err too much. */
static void
run_split_again (Run *run)
{
  Chunk *rest = run->resume;
  guint n = run->workers->len;
  double *held = g_newa (double, n + 1);
  gsize end = rest->n;
  double until, margin;

  run->split_open = FALSE;
  if (!run_split_held (run, held))
    return;
  until = run_split_end (held, n, run_chunk_cost (run, rest));
  run->n_splits_again++;
  if ((margin = run_split_margin (run, until, TRUE)) < 0.0)
    margin = 0.0;

  /* (This thread keeps one item at least: it is here to run it.) */
  for (guint i = 0; i < n && end > 1; i++)
    {
      Worker *worker = g_ptr_array_index (run->workers, i);
      double share = until - held[i] - margin;
      gsize count;

      if (share <= 0.0)
        continue;
      count = run_chunk_items_lasting (run, rest, end, share,
                                       MIN (end - 1, run_chunk_cap (run, worker)));
      if (count == 0)
        continue;
      g_debug ("process pool: the calling thread's part split again: %" G_GSIZE_FORMAT
               " of its %" G_GSIZE_FORMAT " items left to worker %u (about %.1f ms to go, "
               "workers %.1f ms short)", count, rest->n, worker->id, until * 1e3,
               margin * 1e3);
      run->split_open = margin > 0.0;
      end -= count;
      /* (Failing, it fails the map.) */
      if (!run_send (run, worker, run_chunk_part (run, rest, end, count)))
        break;
    }
  if (end < rest->n)
    {
      run->resume = run_chunk_part (run, rest, 0, end);
      chunk_free (rest);
    }
}

/* While a worker starts, the calling thread's chunks take about this long:
 * its hello is read between two of them, and its first chunk sent. */
#define LOCAL_SLICE_WHILE_SPAWNING 0.5e-3

/* The calling thread's share of a parallel plan (run->helper, an idle
 * source: the workers' messages, of a higher priority, go first). Its
 * chunks are the workers' size, but last no more than half of what the
 * worker that will be done first holds (run_within_held()): that worker
 * must not run out of chunks while this thread works. Should its items
 * cost far more than estimated, the local function may stop at a
 * deadline, before that worker runs out (run_local_deadline()): the
 * worker gets its next chunk, and this thread the rest of its own. A
 * chunk to retry (an item that a worker died on) is never run here. */
static gboolean
run_help_cb (gpointer user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  guint64 size, last;
  gint64 deadline_ns;
  gsize n_run = 0;
  double seconds;
  Chunk *chunk;
  gboolean ok;

  if (run->phase != PHASE_RUNNING || g_cancellable_is_cancelled (run->cancellable))
    return G_SOURCE_REMOVE;
  /* What this thread's last chunk left at its deadline comes first. */
  last = run->resume != NULL ? 0 : run_last_split (run);
  if (run->resume != NULL && run->split_open)
    run_split_again (run);
  if (run->phase != PHASE_RUNNING)
    return G_SOURCE_REMOVE;
  if (run->resume != NULL)
    chunk = g_steal_pointer (&run->resume);
  else if (last > 0)
    chunk = run_cut_chunk (run, last);
  else
    {
      size = MAX (run_chunk_items (run), run_opening_items (run, run_unassigned (run)));
      if (run_count_workers (run, WORKER_SPAWNING) > 0)
        {
          double mean = amor_sampler_get_mean (run->sampler);

          if (mean > 0.0)
            size = MIN (size, (guint64) (LOCAL_SLICE_WHILE_SPAWNING / mean) + 1);
        }
      chunk = run_take_chunk (run, run_within_held (run, size));
    }
  if (chunk == NULL)
    return G_SOURCE_REMOVE;

  g_debug ("process pool: the calling thread runs %" G_GSIZE_FORMAT " items from %"
           G_GUINT64_FORMAT, chunk->n, chunk->indices[0]);
  /* The last split's chunk, or the last of all, has no deadline: no
   * worker is to get another; unless the split is open. */
  deadline_ns = run->split_open || (last == 0 && run_unassigned (run) > 0)
                ? run_local_deadline (run) : 0;
  ok = run_local (run, chunk->indices, chunk->n, FALSE, deadline_ns, &n_run, &seconds, &error);
  if (ok && n_run < chunk->n)
    {
      /* Items far dearer than estimated: the error counts, in the items
       * run, and the rest waits for this thread's next turn. */
      Chunk part = { .estimate = chunk->estimate * (double) n_run / (double) chunk->n,
                     .by_place = chunk->by_place };

      g_debug ("process pool: the calling thread stopped at its deadline, %" G_GSIZE_FORMAT
               " items of %" G_GSIZE_FORMAT " run", n_run, chunk->n);
      run_check_estimate (run, &part, seconds);
      run->resume = run_chunk_part (run, chunk, n_run, chunk->n - n_run);
    }
  else if (ok)
    run_check_estimate (run, chunk, seconds);
  chunk_free (chunk);
  if (!ok)
    run_fail (run, g_steal_pointer (&error));
  /* This may end the map, and free @run with this source. */
  run_schedule (run);
  return G_SOURCE_CONTINUE;
}

/* What serialising an item and its result costs, until chunks to workers
 * measure it (run_take_results()): the sampled items (repeated up to a
 * chunk of LOCAL_SERIALIZATION_ITEMS, so that what a message costs
 * whatever its size weighs little) go the way of a chunk — the message
 * built and serialised — and their results come back the way of a
 * worker's answer, read from its bytes and kept as the map keeps them;
 * twice, the second timed. Each side of the socket pays about that. */
static double
run_local_serialization (Run *run)
{
  AmorProcessPool *self = run->self;
  g_autoptr(GArray) done = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autofree guint64 *indices = NULL;
  g_autofree guint64 *positions = NULL;
  g_autofree GVariant **results_of = NULL;
  g_autofree gint64 *ns = NULL;
  g_autoptr(GVariant) typed = NULL;
  g_autoptr(GVariant) answer = NULL;
  g_autoptr(GBytes) answer_bytes = NULL;
  gint64 elapsed = 0;
  gsize n;

  /* The sampled items whose results are in (a worker may still run some). */
  for (guint i = 0; i < run->sampled->len; i++)
    if (amor_map_results_has (run->results, g_array_index (run->sampled, guint64, i)))
      g_array_append_val (done, g_array_index (run->sampled, guint64, i));
  if (done->len == 0)
    return 0.0;

  n = MAX (done->len, LOCAL_SERIALIZATION_ITEMS);
  indices = g_new (guint64, n);
  positions = g_new (guint64, n);
  results_of = g_new (GVariant *, n);
  ns = g_new0 (gint64, n);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) result = NULL;

      indices[i] = g_array_index (done, guint64, i % done->len);
      positions[i] = i;
      result = amor_map_results_get (run->results, indices[i]);
      results_of[i] = g_variant_is_of_type (result, G_VARIANT_TYPE_VARIANT)
                      ? g_variant_get_variant (result) : g_variant_ref (result);
    }

  /* The answer a worker would send (its side is not timed). */
  typed = amor_wire_items_array (results_of, n);
  answer = g_variant_ref_sink (g_variant_new ("(uv@axx)", 0, typed,
                                              g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ns, n,
                                                                         sizeof (gint64)),
                                              (gint64) 0));
  answer_bytes = g_variant_get_data_as_bytes (answer);
  for (gsize i = 0; i < n; i++)
    g_variant_unref (results_of[i]);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(AmorMapResults) kept = amor_map_results_new (self->result_type, n);
      g_autoptr(GVariant) message = NULL;
      g_autoptr(GBytes) message_bytes = NULL;
      g_autoptr(GVariant) back = NULL;
      g_autoptr(GVariant) results = NULL;
      g_autoptr(GVariant) durations = NULL;
      guint32 id;
      gint64 overhead, t0 = amor_clock_now_ns ();

      message = run_chunk_message (run, 0, indices, n);
      message_bytes = g_variant_get_data_as_bytes (message);
      back = amor_wire_body_decode (AMOR_WIRE_RESULTS, answer_bytes, NULL);
      if (back == NULL)
        return 0.0;
      g_variant_get (back, "(uv@axx)", &id, &results, &durations, &overhead);
      amor_map_results_keep (kept, positions, results, n, NULL);
      elapsed = amor_clock_now_ns () - t0;
    }

  return 2.0 * (double) elapsed / 1e9 / (double) n;
}

/* The plan from the items sampled here, the serialisation counted in the
 * parallel estimates only. */
static AmorResult *
run_plan_here (Run *run)
{
  AmorProcessPool *self = run->self;

  /* The calling thread is one of the workers, running already. */
  return pool_plan (self, run->sampler, run->n_items, run->n_kept + 1,
                    self->spawn_cost > 0.0 ? self->spawn_cost : LOCAL_DEFAULT_SPAWN_COST,
                    self->dispatch_cost > 0.0 ? self->dispatch_cost : LOCAL_DEFAULT_DISPATCH_COST,
                    self->serialization_cost > 0.0 ? self->serialization_cost
                                                   : run_local_serialization (run));
}

/* In run_here(): runs the main context while workers are busy with
 * samples, until @n_samples durations are in (G_MAXUINT: all of them).
 * FALSE when the map stops meanwhile. */
static gboolean
run_here_wait (Run   *run,
               guint  n_samples)
{
  while (run->phase != PHASE_STOPPING && run_count_workers (run, WORKER_BUSY) > 0 &&
         amor_sampler_get_n_samples (run->sampler) < n_samples)
    g_main_context_iteration (run->context, TRUE);
  return run->phase != PHASE_STOPPING;
}

/* In run_here(): what @worker still holds, in items of the samples' mean
 * cost (in items, before any is timed), at @now. */
static double
run_here_items_held (Run    *run,
                     Worker *worker,
                     gint64  now)
{
  double mean = amor_sampler_get_n_samples (run->sampler) > 0 ? amor_sampler_get_mean (run->sampler)
                                                              : 0.0;

  if (mean <= 0.0)
    return (double) worker_n_items_held (worker);
  return run_worker_held_time (run, worker, now) / mean;
}

/* In run_here(): shares a round of @count samples with the workers that
 * are ready, @with_workers saying whether they get shares of it, and sets
 * @mine to the calling thread's share, the rest. A share queues behind
 * what the worker still runs of the last round, so no one waits for the
 * others between two rounds; a worker that still holds as much as the
 * round (in items of the samples' mean cost) gets none. And a worker that
 * would be done before this thread is gets items beyond the round: enough
 * to outlast this thread's share by an item (samples of a map are never
 * wasted, their results are kept). FALSE when a send failed the map. */
static gboolean
run_here_share_round (Run      *run,
                      guint64   count,
                      gboolean  with_workers,
                      guint64  *mine)
{
  guint64 left = count, rest = count, spare = run->n_items - run->sampled->len - count;
  gint64 now = amor_clock_now_ns ();
  double *held_of = g_newa (double, MAX (run->workers->len, 1));
  guint n_takers = 0;

  /* What each ready worker holds (negative: not ready). */
  for (guint i = 0; i < run->workers->len; i++)
    {
      Worker *worker = g_ptr_array_index (run->workers, i);

      held_of[i] = worker_is_ready (worker) ? run_here_items_held (run, worker, now) : -1.0;
      n_takers += with_workers && held_of[i] >= 0.0 && held_of[i] < (double) count;
    }
  n_takers = (guint) MIN ((guint64) n_takers, count - 1);
  /* This thread's share: what is left once each taker has had its own. */
  for (guint w = 0; w < n_takers; w++)
    left -= left / (n_takers + 1 - w);

  for (guint i = 0, w = 0; i < run->workers->len; i++)
    {
      Worker *worker = g_ptr_array_index (run->workers, i);
      guint64 share = 0, more = 0;
      double held = held_of[i];

      if (held < 0.0)
        continue;
      if (w < n_takers && held < (double) count)
        {
          share = rest / (n_takers + 1 - w);
          rest -= share;
          w++;
        }
      held += (double) share;
      if (held < (double) (left + 1))
        more = MIN ((guint64) ceil ((double) (left + 1) - held), spare);
      spare -= more;
      if (share + more > 0 && !run_send (run, worker, run_sample_chunk (run, share + more)))
        return FALSE;
    }
  *mine = left;
  return TRUE;
}

/* Items whose samples took less than this, in seconds, are timed again
 * in one chunk of LOCAL_PROBE_ITEMS before a parallel plan starts
 * (run_here_probe()): at most 0.64 ms spent in the calling thread while
 * the workers wait. (With 5 µs, the benchmark's warm maps of items of no
 * work, run between other pools' maps, were still planned parallel now
 * and then: their cold samples were dearer still. Items of 10 µs sample
 * at 11 to 12 µs.) */
#define LOCAL_PROBE_MEAN   10e-6
#define LOCAL_PROBE_ITEMS  64

/* In run_here(), once the plan is parallel: samples travel in chunks of
 * one or two items, and the first item of a chunk runs cold (the code of
 * the call into the local function, and of the work, out of the caches):
 * where an item takes a microsecond or less, that is most of what a
 * sample says. Items of no work, which a loop runs at 0.43 µs, were
 * sampled at 0.6 to 7 µs, and a warm map of 1000 was planned parallel
 * (1.4x predicted) and took four times as long as here. Where the samples
 * took less than LOCAL_PROBE_MEAN, LOCAL_PROBE_ITEMS more are timed here,
 * in one chunk, and the map is planned again.
 * FALSE when they failed the map. */
static gboolean
run_here_probe (Run *run)
{
  g_autoptr(GError) error = NULL;
  Chunk *probe;
  gboolean ok;

  if (amor_sampler_get_mean (run->sampler) >= LOCAL_PROBE_MEAN ||
      run->n_items - run->sampled->len < 2 * LOCAL_PROBE_ITEMS)
    return TRUE;
  probe = run_sample_chunk (run, LOCAL_PROBE_ITEMS);
  ok = run_local (run, probe->indices, probe->n, TRUE, 0, NULL, NULL, &error);
  chunk_free (probe);
  if (!ok)
    {
      run_fail (run, g_steal_pointer (&error));
      return FALSE;
    }
  g_clear_object (&run->plan);
  run->plan = run_plan_here (run);
  return TRUE;
}

/* Samples on the calling thread, by the rules of remote sampling, then
 * plans with the costs of processes, the serialisation of an item counted
 * only in the parallel estimates. A serial plan runs here too, in chunks
 * of its base size; a parallel one goes to the workers. */
void
run_here (Run *run)
{
  g_autoptr(GError) error = NULL;

  run->local = TRUE;
  run->sampling_start_ns = amor_clock_now_ns ();
  for (;;)
    {
      gboolean with_workers = TRUE;
      guint64 count;
      Chunk *mine;
      gboolean ok;

      /* The workers' messages first: the samples they timed count. */
      while (g_main_context_iteration (run->context, FALSE))
        ;
      if (run->phase == PHASE_STOPPING)
        return;
      count = run_sample_count (run);
      if (count == 0)
        {
          /* Sampling is over, but fewer than the sample size may be timed
           * yet, the workers running the rest: rather than wait for
           * them, this thread times that many more. */
          if (!run_sampling_goes_on (run, &count) || count == 0)
            break;
          with_workers = FALSE;
        }

      /* Once the first items show that the map is worth splitting (a
       * question asked only when its work outlasts starting a worker a
       * few times over), the workers start now, and this thread reads
       * their hellos between its samples: they take shares of the next
       * rounds, and are ready when the plan is. */
      if (!run->prespawned && run->sampled->len >= 2 &&
          (double) run->n_items * amor_sampler_get_mean (run->sampler) >
          4.0 * (run->self->spawn_cost > 0.0 ? run->self->spawn_cost : LOCAL_FORK_COST))
        {
          g_autoptr(AmorResult) guess = run_plan_here (run);

          run->prespawned = TRUE;
          if (amor_result_is_parallel (guess))
            {
              /* The calling thread is one of them. */
              guint want = amor_result_get_n_workers (guess) - 1;

              for (guint alive = run->workers->len; alive < want; alive++)
                if (!run_spawn (run))
                  return;
            }
        }

      if (!run_here_share_round (run, count, with_workers, &count))
        return;
      mine = run_sample_chunk (run, count);
      ok = run_local (run, mine->indices, mine->n, TRUE, 0, NULL, NULL, &error);
      chunk_free (mine);
      if (!ok)
        {
          run_fail (run, g_steal_pointer (&error));
          return;
        }
    }

  /* The plan does not wait for the workers' last shares: they are busy
   * meanwhile, and what they time comes too late for it, that is all —
   * unless without them fewer items than the sample size are timed. */
  if (!run_here_wait (run, MIN (run->sampled->len,
                                amor_sampler_get_sample_size (run->sampler))))
    return;
  run->plan = run_plan_here (run);
  if (amor_result_is_parallel (run->plan) && !run_here_probe (run))
    return;
  /* An item a worker died on is retried on a worker, never here. */
  if (amor_result_get_schedule (run->plan) != AMOR_SCHEDULE_SERIAL ||
      run->retry.length > 0)
    {
      run_start_plan (run);
      return;
    }

  /* Serial: no worker could pay for itself. The rest runs here, with
   * nothing serialised; the map can be cancelled between two chunks. The
   * items sampled are skipped, those of the workers' last shares too:
   * their answers are read once this is done (a wait for them first
   * would add a worker's round trip to a map of tiny items). */
  run->phase = PHASE_RUNNING;
  run->schedule = AMOR_SCHEDULE_FIXED;
  run->n_workers = 1;
  run->chunk_size = CLAMP (amor_result_get_base_chunk_size (run->plan), 1, run->n_items);
  g_debug ("process pool: %" G_GUINT64_FORMAT " items in the calling process", run->n_items);
  {
    guint64 size = run->chunk_size;
    g_autofree guint64 *batch = g_new (guint64, size);
    guint64 next = 0;
    gsize skip = 0;

    while (next < run->n_items)
      {
        gsize n = 0;

        for (; n < size; next++)
          {
            run_skip_sampled_at (run, &next, &skip);
            if (next >= run->n_items)
              break;
            batch[n++] = next;
          }
        if (n == 0)
          break;
        if (g_cancellable_is_cancelled (run->cancellable))
          {
            run->cancelled = TRUE;
            run->phase = PHASE_STOPPING;
            return;
          }
        if (!run_local (run, batch, n, FALSE, 0, NULL, NULL, &error))
          {
            run_fail (run, g_steal_pointer (&error));
            return;
          }
      }
    /* Nothing is left to hand out. */
    run->next = run->n_items;
  }
}
