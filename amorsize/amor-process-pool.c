/* amor-process-pool.c: run a map on worker processes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "amor-error.h"
#include "amor-optimizer.h"
#include "amor-clock-private.h"
#include "amor-process-pool-private.h"

/**
 * AmorProcessPool:
 *
 * Runs a map over the items of a [struct@GLib.Variant] array on worker
 * processes, in parallel when that pays.
 *
 * Threads give no speed to JavaScript (GJS runs JavaScript on one thread
 * only) nor to pure-Python work (it holds the GIL). Worker processes do. A
 * process pool starts its workers from an `argv` — `gjs -m worker.js`,
 * `python3 worker.py` or a C program — whose main thread calls
 * [func@Amor.worker_serve] with the work of one item. The items travel to
 * the workers in chunks and the results come back in input order as an
 * array of variants (`av`).
 *
 * ```js
 * // main.js
 * const pool = Amor.ProcessPool.new(['gjs', '-m', 'worker.js'], 0);
 * const items = new GLib.Variant('ad', [1, 2, 3, 4]);
 * const results = await pool.map_async(items, null);  // with Gio._promisify
 * print(results.recursiveUnpack());
 *
 * // worker.js
 * Amor.worker_serve(item => new GLib.Variant('d', Math.sqrt(item.unpack())));
 * ```
 *
 * ```python
 * pool = Amor.ProcessPool.new(['/usr/bin/python3', 'worker.py'], 0)
 * results = pool.map(GLib.Variant('ad', [1, 2, 3, 4]), None).unpack()
 * ```
 *
 * ## Planning
 *
 * A map first runs a few items (spread over the input, as
 * [class@Amor.Sampler] does), timing each of them: two items, then the
 * rest of [property@Amor.ProcessPool:sample-size], then more when their
 * durations vary a lot, in rounds shared by the workers already running,
 * and within 2 % of the map's estimated time on the CPUs it may use (or
 * the sampler's time budget) — but the sample size is always reached when
 * what is left of it takes less than 100 µs. A worker done with its share
 * of a round takes the next rather than wait for the others, and the plan
 * starts once the sample size is timed, whatever is still running. Their
 * results are kept, so every item is processed exactly once. When no
 * worker runs yet, the first worker samples alone; once the first two
 * items show that the map is worth splitting, the other workers start
 * while sampling goes on. The pool measures what processes cost: the time
 * to start a worker up to its first message
 * ([property@Amor.ProcessPool:spawn-cost]), the round trip of a chunk
 * beyond the work itself ([property@Amor.ProcessPool:dispatch-cost]) and
 * the time to serialise and deserialise an item and its result, on both
 * sides ([property@Amor.ProcessPool:serialization-cost]). An
 * [class@Amor.Optimizer] then plans with these costs in place of the
 * thread costs: the spawn time as the fork-join cost (once every usable
 * CPU has a worker running, a round trip: the map waits for the last
 * answer), the round trip as the dispatch cost, the serialisation cost
 * added to the mean item duration. The chunk size
 * follows the seed's rule with a target chunk duration of 100 ms
 * ([property@Amor.ProcessPool:target-chunk-duration]) rather than 1 ms,
 * because a chunk costs a round trip between processes. In a fixed plan
 * (the default) the chunks of the tail shrink to a 2n-th of the items
 * left (n workers), so that the workers finish together even when a few
 * items cost far more than the samples showed; the plan's imbalance
 * estimate counts that tail (about an item's spread, and a round trip per
 * halving) rather than a part-filled last round of whole chunks. A chunk
 * whose items turn out to cost more than the samples said shrinks to last
 * about what the plan meant (down to a quarter of its size): the items
 * timed so far tell what the next ones cost, from their mean or, where the
 * cost follows the place in the input, from the items around them. In a
 * plan the pool makes itself, the first chunks are larger than the plan's
 * — a 2n-th of the work left, counted with the same estimates — once the
 * items timed can tell whether the cost follows the place in the input:
 * fewer chunks cost fewer round trips, and each leaves the others as much
 * to even out. With a local function, the tail need not taper: each chunk
 * of the plan is checked against what the estimates said it would take,
 * and once the items left would be done within a quarter of a second, if
 * the recent error of the estimates times that time is below 0.3 ms, the
 * calling thread ends the map in one last chunk for itself and one for
 * each worker, split so that all are likely to be done together. Where a
 * stretch of the input costs far less than the dearest items, a few of
 * its items are kept for that last split, so that the ends can meet
 * closer than a dear item apart.
 *
 * A serial plan runs every item in the first worker — the work callback
 * lives in the worker program, not in the calling process — in chunks of
 * the base chunk size. A parallel plan starts the workers it needs and
 * hands out chunks to whichever worker is free; a worker gets its next
 * chunk before it has answered the last (but for the last chunks of the
 * map), so that it never waits for the pool in between. For that, a
 * chunk and its answer fit in half of what the worker's socket holds: the
 * pool asks for 4 MiB of send buffer on each side (the kernel gives up to
 * `net.core.wmem_max`, 208 kB by default) and sends larger plans' chunks
 * in pieces of that size — some 130000 numbers, or 6500 with the default.
 * A larger chunk would leave one side waiting for the other to read. The
 * pool keeps the workers running for the next map, until it is disposed
 * or [method@Amor.ProcessPool.shutdown] is called.
 * [property@Amor.ProcessPool:plan] fixes the plan instead, skipping the
 * sampling.
 *
 * ## Running items in the calling process
 *
 * A pool given the work in the calling process too
 * ([method@Amor.ProcessPool.set_local_func]) does better in
 * [method@Amor.ProcessPool.map] while fewer workers run than a parallel
 * plan would use (a new pool, typically). It samples on the calling
 * thread, by the same rules, with the callback's own timing of each item
 * when it gives one; it measures the serialisation on the sampled items
 * and their results, put through the messages a worker would exchange;
 * and it plans with that cost counted only in the parallel estimates.
 * A sample's round trip tells nothing there (its answer waits for the
 * calling thread's chunk): the dispatch cost is 200 µs until a parallel
 * map has run, then what a chunk of that map cost the workers besides
 * its items, as they reported it, if more — 0.3 to 0.5 ms for a worker in
 * Python.
 * When no worker can pay for itself the plan is serial and every item
 * runs right there — no worker started, nothing serialised.
 *
 * Otherwise the calling thread is one of the plan's workers: one worker
 * process fewer starts, and that thread runs chunks of its own between
 * the messages of the others: chunks of a worker's size, but never longer
 * than half of what the worker that will be done first still holds, so
 * that a worker never waits for it to read an answer. Should they cost
 * far more than estimated, a local function that reads its deadline
 * ([func@Amor.worker_get_time_left]) stops before that worker runs out,
 * and runs the rest of its chunk once the worker has its next one (the
 * Python override's value pools do). Near the end it
 * takes the last items in small chunks, and a worker is sent no more
 * ahead than about a quarter of the time left beyond what it holds, so
 * that the two finish together; both are counted in time, with the same
 * estimate of what the items cost. When the first two items already show
 * that the map is worth splitting (asked only of a map whose work
 * outlasts the start of a forked worker, 3 ms or the measured start, four
 * times over), the workers start at once and take a share of each later
 * round of samples, as do the workers kept from an earlier map — queued
 * behind what they still run of the last round, so that no one waits for
 * the others between two rounds. A worker that holds fewer items than the
 * calling thread's share gets items beyond the round, enough to outlast
 * that share by one, so that it does not wait for the calling thread
 * either. The plan does not wait for the workers' last shares: when fewer
 * than the sample size are timed without them, the calling thread times
 * more items itself.
 *
 * ## Starting workers
 *
 * [ctor@Amor.ProcessPool.new] starts each worker from an `argv` with
 * [class@Gio.Subprocess]. [ctor@Amor.ProcessPool.new_with_spawn_func]
 * leaves it to a function of the caller's, typically a fork of the calling
 * process (see [callback@Amor.SpawnFunc]): a Python worker then starts in
 * 2 to 3 ms instead of the 40 to 60 ms of a new interpreter importing
 * `gi`. A fork copies only the calling thread, so the work must need
 * nothing that another thread of the process may hold locked at that
 * moment; the threading guide says more.
 *
 * ## Messages
 *
 * A message is a frame: a 4-byte big-endian length, a type byte and three
 * zero bytes, then a [struct@GLib.Variant] in its serialised form.
 * GVariant's own serialisation is used rather than JSON: serialising a
 * chunk and reading it back was measured 1.3 to 3 times faster for items
 * that are doubles, strings or tuples, and 30 times faster for arrays of
 * doubles (`bench/process/bench-wire.c`); and an item keeps its exact
 * type, which JSON loses (a `(sid)` tuple comes back from JSON as an
 * `av`). The items of a chunk travel as an array of the map's item type
 * — for numbers, a copy of their bytes — and the results as an array of
 * their type when they all have the same one; an `av` otherwise. A frame
 * longer than [property@Amor.ProcessPool:max-frame-size] is an error.
 *
 * ## Failures
 *
 * - An error of the work callback in a worker fails the map with that
 *   error, its message prefixed with the item's index (`Item 42: …`). No
 *   chunk is handed out after it; the chunks already running are waited
 *   for.
 * - A worker that exits or is killed while it runs a chunk is replaced by a
 *   new one, and the items of that chunk are run again, one at a time. An
 *   item whose worker dies a second time fails the map with an error that
 *   names it. (Results are never lost nor duplicated; but the dead worker
 *   may have processed some of its items before it died.)
 * - A worker that writes malformed or oversized output fails the map with
 *   an error naming the worker and the chunk; that worker is terminated,
 *   and the pool starts a new one for the next map.
 * - An `argv` that cannot be started fails the map at once; a worker that
 *   exits before its first message, or does not send it within
 *   [property@Amor.ProcessPool:hello-timeout] seconds, fails it too.
 * - Cancelling the [class@Gio.Cancellable] terminates the workers that are
 *   running or starting, waits for them to be reaped, and fails the map
 *   with %G_IO_ERROR_CANCELLED.
 *
 * ## Threads and main contexts
 *
 * All the work of the pool — starting workers, writing and reading their
 * messages — happens on the thread that calls
 * [method@Amor.ProcessPool.map_async], with asynchronous I/O on its
 * thread-default [struct@GLib.MainContext], and every signal is emitted
 * there. [method@Amor.ProcessPool.map] runs the same on a main context of
 * its own and returns when the map is over. A pool runs one map at a time.
 *
 * The workers' standard input and output are the two directions of one
 * socket pair rather than two pipes: writing to a worker that died then
 * fails with an error instead of raising `SIGPIPE` in the calling process.
 * Their standard error is the caller's.
 *
 * Since: 0.1
 */

G_DEFINE_FINAL_TYPE (AmorProcessPool, amor_process_pool, G_TYPE_OBJECT)

GParamSpec *amor_process_pool_pspecs[N_PROPS];

/* GObject */

/* Ends the input of the idle workers, waits for them to exit (killing them
 * after a grace period), and reaps them. */
typedef struct
{
  GPtrArray *workers;
  guint      remaining;
} StopWait;

static void
stop_wait_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  StopWait *wait = user_data;

  wait->remaining--;
}

static gboolean
stop_grace_cb (gpointer user_data)
{
  StopWait *wait = user_data;

  g_debug ("process pool: workers still running after %d ms: killing them",
           SHUTDOWN_GRACE_MS);
  for (guint i = 0; i < wait->workers->len; i++)
    amor_child_force_exit (((Worker *) g_ptr_array_index (wait->workers, i))->child);
  return G_SOURCE_REMOVE;
}

static void
pool_stop_workers (AmorProcessPool *self)
{
  g_autoptr(GMainContext) context = NULL;
  StopWait wait;
  GSource *grace;

  if (self->idle == NULL || self->idle->len == 0)
    return;

  wait.workers = g_steal_pointer (&self->idle);
  wait.remaining = wait.workers->len;
  self->idle = g_ptr_array_new_with_free_func ((GDestroyNotify) worker_unref);

  /* The end of their input makes amor_worker_serve() return. */
  for (guint i = 0; i < wait.workers->len; i++)
    g_socket_shutdown (((Worker *) g_ptr_array_index (wait.workers, i))->socket,
                       FALSE, TRUE, NULL);

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  for (guint i = 0; i < wait.workers->len; i++)
    amor_child_wait_async (((Worker *) g_ptr_array_index (wait.workers, i))->child,
                           stop_wait_cb, &wait);

  grace = g_timeout_source_new (SHUTDOWN_GRACE_MS);
  g_source_set_callback (grace, stop_grace_cb, &wait, NULL);
  g_source_set_static_name (grace, "[amorsize] worker shutdown grace");
  g_source_attach (grace, context);

  while (wait.remaining > 0)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (grace);
  g_source_unref (grace);
  g_main_context_pop_thread_default (context);

  g_debug ("process pool: %u workers stopped", wait.workers->len);
  g_ptr_array_unref (wait.workers);
}

static void
amor_process_pool_dispose (GObject *object)
{
  AmorProcessPool *self = AMOR_PROCESS_POOL (object);

  pool_stop_workers (self);
  g_clear_object (&self->system);
  g_clear_object (&self->plan);
  g_clear_object (&self->result);

  G_OBJECT_CLASS (amor_process_pool_parent_class)->dispose (object);
}

static void
amor_process_pool_finalize (GObject *object)
{
  AmorProcessPool *self = AMOR_PROCESS_POOL (object);

  g_strfreev (self->argv);
  g_clear_pointer (&self->result_type, g_variant_type_free);
  if (self->spawn_notify != NULL)
    self->spawn_notify (self->spawn_data);
  if (self->local_notify != NULL)
    self->local_notify (self->local_data);
  g_clear_pointer (&self->idle, g_ptr_array_unref);

  G_OBJECT_CLASS (amor_process_pool_parent_class)->finalize (object);
}

static void
amor_process_pool_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  AmorProcessPool *self = AMOR_PROCESS_POOL (object);

  switch (prop_id)
    {
    case PROP_ARGV:
      g_value_set_boxed (value, self->argv);
      break;
    case PROP_N_WORKERS:
      g_value_set_uint (value, self->n_workers);
      break;
    case PROP_N_RUNNING:
      g_value_set_uint (value, amor_process_pool_get_n_running (self));
      break;
    case PROP_SYSTEM:
      g_value_set_object (value, amor_process_pool_get_system (self));
      break;
    case PROP_SAMPLE_SIZE:
      g_value_set_uint (value, self->sample_size);
      break;
    case PROP_MIN_SPEEDUP:
      g_value_set_double (value, self->min_speedup);
      break;
    case PROP_TARGET_CHUNK_DURATION:
      g_value_set_double (value, self->target_chunk_duration);
      break;
    case PROP_MAX_FRAME_SIZE:
      g_value_set_uint (value, self->max_frame_size);
      break;
    case PROP_HELLO_TIMEOUT:
      g_value_set_double (value, self->hello_timeout);
      break;
    case PROP_RESULT_TYPE:
      g_value_set_boxed (value, self->result_type);
      break;
    case PROP_PLAN:
      g_value_set_object (value, self->plan);
      break;
    case PROP_RESULT:
      g_value_set_object (value, self->result);
      break;
    case PROP_SPAWN_COST:
      g_value_set_double (value, self->spawn_cost);
      break;
    case PROP_DISPATCH_COST:
      g_value_set_double (value, self->dispatch_cost);
      break;
    case PROP_SERIALIZATION_COST:
      g_value_set_double (value, self->serialization_cost);
      break;
    case PROP_ELAPSED:
      g_value_set_double (value, self->elapsed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_process_pool_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  AmorProcessPool *self = AMOR_PROCESS_POOL (object);

  switch (prop_id)
    {
    case PROP_ARGV:
      g_strfreev (self->argv);
      self->argv = g_value_dup_boxed (value);
      break;
    case PROP_N_WORKERS:
      self->n_workers = g_value_get_uint (value);
      break;
    case PROP_SYSTEM:
      amor_process_pool_set_system (self, g_value_get_object (value));
      break;
    case PROP_SAMPLE_SIZE:
      amor_process_pool_set_sample_size (self, g_value_get_uint (value));
      break;
    case PROP_MIN_SPEEDUP:
      amor_process_pool_set_min_speedup (self, g_value_get_double (value));
      break;
    case PROP_TARGET_CHUNK_DURATION:
      amor_process_pool_set_target_chunk_duration (self, g_value_get_double (value));
      break;
    case PROP_MAX_FRAME_SIZE:
      amor_process_pool_set_max_frame_size (self, g_value_get_uint (value));
      break;
    case PROP_HELLO_TIMEOUT:
      amor_process_pool_set_hello_timeout (self, g_value_get_double (value));
      break;
    case PROP_RESULT_TYPE:
      amor_process_pool_set_result_type (self, g_value_get_boxed (value));
      break;
    case PROP_PLAN:
      amor_process_pool_set_plan (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
amor_process_pool_constructed (GObject *object)
{
  AmorProcessPool *self = AMOR_PROCESS_POOL (object);

  G_OBJECT_CLASS (amor_process_pool_parent_class)->constructed (object);

  /* amor_process_pool_new_with_spawn_func() sets the function after
   * construction. */
  if (self->argv != NULL && self->argv[0] == NULL)
    g_critical ("AmorProcessPool: the argv property must name a program");
}

static void
amor_process_pool_class_init (AmorProcessPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = amor_process_pool_constructed;
  object_class->dispose = amor_process_pool_dispose;
  object_class->finalize = amor_process_pool_finalize;
  object_class->get_property = amor_process_pool_get_property;
  object_class->set_property = amor_process_pool_set_property;

  /**
   * AmorProcessPool:argv:
   *
   * The command line of a worker: a program (looked up in `PATH` when it
   * has no slash) and its arguments. The program calls
   * [func@Amor.worker_serve]. Workers inherit the environment, working
   * directory and standard error of the calling process.
   *
   * %NULL for a pool created with
   * [ctor@Amor.ProcessPool.new_with_spawn_func].
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_ARGV] =
    g_param_spec_boxed ("argv", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AmorProcessPool:n-workers:
   *
   * The most worker processes a map may use; 0 (the default) means as many
   * as there are usable CPUs. The plan may use fewer.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_N_WORKERS] =
    g_param_spec_uint ("n-workers", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AmorProcessPool:n-running:
   *
   * The number of worker processes running: those kept between maps, and
 * during a map those working for it. Notified after each map.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL, 0, G_MAXUINT, 0, ro);

  /**
   * AmorProcessPool:system:
   *
   * The machine whose usable CPUs, physical cores and memory the plans are
   * made for; its thread costs are not used. Defaults to
   * [func@Amor.System.get_default].
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_SYSTEM] =
    g_param_spec_object ("system", NULL, NULL, AMOR_TYPE_SYSTEM, rw);

  /**
   * AmorProcessPool:sample-size:
   *
   * How many items a map runs first on the first worker to time them; at
   * least 1, default 5. As with [class@Amor.Sampler], sampling stops early
   * once two items took 2 % of the estimated serial time of the map, and
   * goes on up to the sampler's maximum sample size while the durations
   * vary a lot (CV above 0.5).
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_SAMPLE_SIZE] =
    g_param_spec_uint ("sample-size", NULL, NULL, 1, G_MAXUINT, DEFAULT_SAMPLE_SIZE, rw);

  /**
   * AmorProcessPool:min-speedup:
   *
   * The least modelled speedup for which a map runs on several workers;
   * at least 1, default 1.2.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_MIN_SPEEDUP] =
    g_param_spec_double ("min-speedup", NULL, NULL, 1.0, G_MAXDOUBLE,
                         AMOR_DEFAULT_MIN_SPEEDUP, rw);

  /**
   * AmorProcessPool:target-chunk-duration:
   *
   * How long one chunk of homogeneous items should take, in seconds; the
   * base chunk size is this divided by the mean item cost (its work and its
   * serialisation). Default 0.1 (100 ms), 100 times the chunks of threads:
   * a chunk costs a round trip between processes, and the calling process
   * must run to answer each one, taking a CPU from a worker for a moment
   * (on a machine whose CPUs all run workers, some 0.2 ms a chunk was
   * measured). With the tapering tail of fixed plans, longer chunks cost
   * no imbalance; on maps of 1000 items of 1 ms, 50 ms chunks were 0.5 to
   * 2 % faster than 20 ms ones.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_TARGET_CHUNK_DURATION] =
    g_param_spec_double ("target-chunk-duration", NULL, NULL, 1e-9, G_MAXDOUBLE,
                         AMOR_DEFAULT_PROCESS_CHUNK_DURATION, rw);

  /**
   * AmorProcessPool:max-frame-size:
   *
   * The largest message, in bytes, a worker may send (and a chunk of items
   * may take). A longer one fails the map. Default 64 MiB.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_MAX_FRAME_SIZE] =
    g_param_spec_uint ("max-frame-size", NULL, NULL, 64, G_MAXUINT32,
                       AMOR_DEFAULT_MAX_FRAME_SIZE, rw);

  /**
   * AmorProcessPool:hello-timeout:
   *
   * How long a new worker has to send its first message, in seconds; one
   * that does not is terminated and fails the map. Default 30.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_HELLO_TIMEOUT] =
    g_param_spec_double ("hello-timeout", NULL, NULL, 0.001, 86400.0,
                         DEFAULT_HELLO_TIMEOUT, rw);

  /**
   * AmorProcessPool:result-type:
   *
   * The type of every result, or %NULL (the default) for results of any
   * type. Without it a map returns its results boxed, as an `av`; with it,
   * as an array of that type — `ax` for `x`, `a(sd)` for `(sd)` — which
   * is smaller, and which a program reads without unboxing each result
   * (in Python, the bytes of an `ax` or an `ad` turn into a list at C
   * speed). A result of another type fails the map with
   * %AMOR_ERROR_INVALID_DATA, naming the item.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_RESULT_TYPE] =
    g_param_spec_boxed ("result-type", NULL, NULL, G_TYPE_VARIANT_TYPE, rw);

  /**
   * AmorProcessPool:plan:
   *
   * A fixed plan: when set, maps run with its number of workers, chunk
   * size and schedule, without sampling. %NULL (the default) plans every
   * map from its samples.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_PLAN] =
    g_param_spec_object ("plan", NULL, NULL, AMOR_TYPE_RESULT, rw);

  /**
   * AmorProcessPool:result:
   *
   * The plan the last map used. %NULL before the first map.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_RESULT] =
    g_param_spec_object ("result", NULL, NULL, AMOR_TYPE_RESULT, ro);

  /**
   * AmorProcessPool:spawn-cost:
   *
   * The seconds the last worker started took from its start to its first
   * message (its hello). 0 before any worker started.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_SPAWN_COST] =
    g_param_spec_double ("spawn-cost", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorProcessPool:dispatch-cost:
   *
   * The seconds a chunk's round trip to a worker takes beyond the work and
   * the serialisation of its items: writing, waking the worker, reading
   * back. The median over the samples of the last map that sampled; with
   * a local function ([method@Amor.ProcessPool.set_local_func]), the mean
   * of what a chunk of the last parallel map cost the workers besides its
   * items, from when they were free for it to their answer, as they
   * reported it, or 200 µs if that is more (0 until such a map has run).
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_DISPATCH_COST] =
    g_param_spec_double ("dispatch-cost", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorProcessPool:serialization-cost:
   *
   * The seconds per item spent serialising and deserialising the item and
   * its result, on both sides, averaged over the samples of the last map
   * that sampled.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_SERIALIZATION_COST] =
    g_param_spec_double ("serialization-cost", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorProcessPool:elapsed:
   *
   * The wall-clock duration of the last map in seconds, starting the
   * workers and sampling included.
   *
   * Since: 0.1
   */
  amor_process_pool_pspecs[PROP_ELAPSED] =
    g_param_spec_double ("elapsed", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  g_object_class_install_properties (object_class, N_PROPS, amor_process_pool_pspecs);
}

static void
amor_process_pool_init (AmorProcessPool *self)
{
  self->sample_size = DEFAULT_SAMPLE_SIZE;
  self->min_speedup = AMOR_DEFAULT_MIN_SPEEDUP;
  self->target_chunk_duration = AMOR_DEFAULT_PROCESS_CHUNK_DURATION;
  self->max_frame_size = AMOR_DEFAULT_MAX_FRAME_SIZE;
  self->hello_timeout = DEFAULT_HELLO_TIMEOUT;
  self->idle = g_ptr_array_new_with_free_func ((GDestroyNotify) worker_unref);
}

/**
 * amor_process_pool_new:
 * @argv: (array zero-terminated=1): the command line of a worker
 * @n_workers: the most workers a map may use, or 0 for the number of usable
 *   CPUs
 *
 * Creates a pool of worker processes started from @argv. No process starts
 * before the first map.
 *
 * Returns: (transfer full): a new #AmorProcessPool
 *
 * Since: 0.1
 */
AmorProcessPool *
amor_process_pool_new (const char * const *argv,
                       guint               n_workers)
{
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  return g_object_new (AMOR_TYPE_PROCESS_POOL,
                       "argv", argv,
                       "n-workers", n_workers,
                       NULL);
}

/**
 * amor_process_pool_new_with_spawn_func:
 * @n_workers: the most workers a map may use, or 0 for the number of usable
 *   CPUs
 * @spawn_func: (scope notified) (closure user_data) (destroy notify): starts
 *   a worker
 * @user_data: data for @spawn_func
 * @notify: (nullable): frees @user_data with the pool
 *
 * Creates a pool whose workers @spawn_func starts, typically by forking the
 * calling process (see [callback@Amor.SpawnFunc]). Everything else —
 * planning, chunks, failures, cancellation — is as for a pool created with
 * [ctor@Amor.ProcessPool.new]; [property@Amor.ProcessPool:argv] is %NULL.
 * No process starts before the first map.
 *
 * Returns: (transfer full): a new #AmorProcessPool
 *
 * Since: 0.1
 */
AmorProcessPool *
amor_process_pool_new_with_spawn_func (guint          n_workers,
                                       AmorSpawnFunc  spawn_func,
                                       gpointer       user_data,
                                       GDestroyNotify notify)
{
  AmorProcessPool *self;

  g_return_val_if_fail (spawn_func != NULL, NULL);

  self = g_object_new (AMOR_TYPE_PROCESS_POOL,
                       "n-workers", n_workers,
                       NULL);
  self->spawn_func = spawn_func;
  self->spawn_data = user_data;
  self->spawn_notify = notify;
  return self;
}

static void pool_map_start (AmorProcessPool     *self,
                            GVariant            *items,
                            GCancellable        *cancellable,
                            gboolean             may_run_here,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data);

/**
 * amor_process_pool_set_local_func:
 * @self: an #AmorProcessPool
 * @func: (scope notified) (closure user_data) (destroy notify) (nullable):
 *   the work of a chunk of items, as the workers do it, or %NULL
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data when @func is replaced or the pool
 *   is finalized
 *
 * Gives the pool the workers' work function in the calling process, so
 * that [method@Amor.ProcessPool.map] can run items without a worker.
 *
 * With a local function, [method@Amor.ProcessPool.map] samples the items
 * in the calling thread (no worker starts to time them) and keeps their
 * results. It then plans with the costs of processes, the serialisation
 * counted only in the parallel estimates: when no worker can pay for
 * itself the plan is serial, and every item runs in the calling thread,
 * with no worker started and nothing serialised. Otherwise the calling
 * thread is one of the plan's workers: it runs chunks of the map beside
 * the worker processes, of which one fewer starts. (A plan set in
 * [property@Amor.ProcessPool:plan] runs on the workers alone.)
 * [method@Amor.ProcessPool.map_async] does not use the local function: it
 * never runs work on the calling thread, whose main context must keep
 * running.
 *
 * @func is called as an [callback@Amor.WorkerChunkFunc]: with this
 * thread's share of each round of samples (timed: as a whole, or item by
 * item when @func gives the durations), then with chunks of the rest. It
 * must do what the workers' callback does: the results of the two are
 * mixed in one map. [ctor@Amor.ProcessPool.new_with_spawn_func] pools that
 * fork the calling process have it at hand; the Python override's
 * `Amor.ProcessPool.new_forked()` sets it.
 *
 * Must not be called while a map runs.
 *
 * Since: 0.1
 */
void
amor_process_pool_set_local_func (AmorProcessPool     *self,
                                  AmorWorkerChunkFunc  func,
                                  gpointer         user_data,
                                  GDestroyNotify   notify)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (!self->running);

  if (self->local_notify != NULL)
    self->local_notify (self->local_data);
  self->local_func = func;
  self->local_data = user_data;
  self->local_notify = notify;
}

/**
 * amor_process_pool_map_async:
 * @self: an #AmorProcessPool
 * @items: an array of items (of any array type: `av`, `ad`, `as`, `a(si)`…)
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @callback: (scope async) (nullable) (closure user_data): called when the
 *   map is over
 * @user_data: data for @callback
 *
 * Starts mapping every item of @items with the workers' callback and
 * returns at once.
 *
 * The map runs on the thread-default main context of the calling thread:
 * it must keep running. Call [method@Amor.ProcessPool.map_finish] from
 * @callback for the results. See [class@Amor.ProcessPool] for how the map
 * is planned and how failures are reported. A floating @items is sunk.
 *
 * Fails with %G_IO_ERROR_PENDING while the pool runs another map.
 *
 * Since: 0.1
 */
void
amor_process_pool_map_async (AmorProcessPool     *self,
                             GVariant            *items,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (items != NULL);
  g_return_if_fail (g_variant_is_of_type (items, G_VARIANT_TYPE_ARRAY));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  pool_map_start (self, items, cancellable, FALSE, callback, user_data);
}

/* Starts a map. When @may_run_here (a blocking map), the local function,
 * if any, samples and runs serial plans on the calling thread. */
static void
pool_map_start (AmorProcessPool     *self,
                GVariant            *items,
                GCancellable        *cancellable,
                gboolean             may_run_here,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GVariant) owned_items = NULL;
  GTask *task;
  Run *run;

  owned_items = g_variant_ref_sink (items);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, amor_process_pool_map_async);
  g_task_set_name (task, "[amorsize] amor_process_pool_map_async");
  g_task_set_check_cancellable (task, FALSE);

  if (self->running)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "This AmorProcessPool is already running a map");
      g_object_unref (task);
      return;
    }

  if (self->argv == NULL && self->spawn_func == NULL)
    {
      g_task_return_new_error (task, AMOR_ERROR, AMOR_ERROR_INVALID_ARGUMENT,
                               "This AmorProcessPool has neither an argv nor a "
                               "spawn function to start its workers");
      g_object_unref (task);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }

  self->running = TRUE;

  run = g_new0 (Run, 1);
  self->current = run;
  run->self = self;
  run->task = task;
  run->context = g_main_context_ref_thread_default ();
  run->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  run->items = g_steal_pointer (&owned_items);
  run->n_items = g_variant_n_children (run->items);
  run->results = amor_map_results_new (self->result_type, run->n_items);
  run->workers = g_ptr_array_new_with_free_func ((GDestroyNotify) worker_unref);
  run->sampled = g_array_new (FALSE, FALSE, sizeof (guint64));
  run->dispatch = g_array_new (FALSE, FALSE, sizeof (double));
  run->sampler = amor_sampler_new ();
  run->profile = amor_profile_new (run->n_items);
  run->opening = self->plan == NULL;
  amor_sampler_set_sample_size (run->sampler, self->sample_size);
  if (amor_sampler_get_max_sample_size (run->sampler) < self->sample_size)
    amor_sampler_set_max_sample_size (run->sampler, self->sample_size);
  g_queue_init (&run->retry);
  run->start_ns = amor_clock_now_ns ();

  /* The workers kept from earlier maps serve this one. */
  for (guint i = 0; i < self->idle->len; i++)
    {
      Worker *worker = g_ptr_array_index (self->idle, i);

      worker->run = run;
      g_ptr_array_add (run->workers, worker_ref (worker));
    }
  g_ptr_array_set_size (self->idle, 0);
  run->n_kept = run->workers->len;

  if (cancellable != NULL)
    {
      run->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (run->cancel_source, (GSourceFunc) (void (*) (void)) run_cancelled_cb,
                             run, NULL);
      g_source_set_static_name (run->cancel_source, "[amorsize] map cancelled");
      g_source_attach (run->cancel_source, run->context);
    }

  if (self->plan == NULL && run->n_items > 0 && may_run_here &&
      self->local_func != NULL && run->workers->len < run_wanted_workers (run))
    {
      run->here = TRUE;
      run_here (run);
      run->here = FALSE;
    }
  else if (self->plan != NULL || run->n_items == 0)
    {
      run->plan = self->plan != NULL ? g_object_ref (self->plan) : run_make_plan (run);
      run_start_plan (run);
    }
  else
    run->phase = PHASE_SAMPLING;

  run_schedule (run);
}

/**
 * amor_process_pool_map_finish:
 * @self: an #AmorProcessPool
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes a map started with [method@Amor.ProcessPool.map_async].
 *
 * Returns: (transfer full): the results in the order of the items, an
 *   array of variants (`av`) or of [property@Amor.ProcessPool:result-type],
 *   or %NULL with @error set
 *
 * Since: 0.1
 */
GVariant *
amor_process_pool_map_finish (AmorProcessPool  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == amor_process_pool_map_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  GAsyncResult *result;
} SyncMap;

static void
sync_map_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  SyncMap *sync = user_data;

  sync->result = g_object_ref (result);
}

/**
 * amor_process_pool_map:
 * @self: an #AmorProcessPool
 * @items: an array of items (of any array type: `av`, `ad`, `as`, `a(si)`…)
 * @cancellable: (nullable): a #GCancellable, or %NULL
 * @error: return location for a #GError
 *
 * Maps every item of @items with the workers' callback and returns the
 * results.
 *
 * This is [method@Amor.ProcessPool.map_async] run on a main context of its
 * own, so the caller's main context does not run meanwhile. A floating
 * @items is sunk.
 *
 * Returns: (transfer full): the results in the order of the items, an
 *   array of variants (`av`) or of [property@Amor.ProcessPool:result-type],
 *   or %NULL with @error set
 *
 * Since: 0.1
 */
GVariant *
amor_process_pool_map (AmorProcessPool  *self,
                       GVariant         *items,
                       GCancellable     *cancellable,
                       GError          **error)
{
  g_autoptr(GMainContext) context = NULL;
  SyncMap sync = { NULL };
  GVariant *results;

  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), NULL);
  g_return_val_if_fail (items != NULL, NULL);
  g_return_val_if_fail (g_variant_is_of_type (items, G_VARIANT_TYPE_ARRAY), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  pool_map_start (self, items, cancellable, TRUE, sync_map_cb, &sync);
  while (sync.result == NULL)
    g_main_context_iteration (context, TRUE);

  g_main_context_pop_thread_default (context);

  results = amor_process_pool_map_finish (self, sync.result, error);
  g_object_unref (sync.result);
  return results;
}

/**
 * amor_process_pool_shutdown:
 * @self: an #AmorProcessPool
 *
 * Stops the worker processes the pool keeps running: ends their input,
 * waits for them to exit (terminating those still running after 5
 * seconds) and reaps them. The next map starts new ones. Disposing the
 * pool does the same.
 *
 * Must not be called while a map runs.
 *
 * Since: 0.1
 */
void
amor_process_pool_shutdown (AmorProcessPool *self)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (!self->running);

  pool_stop_workers (self);
}

/**
 * amor_process_pool_get_argv:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:argv].
 *
 * Returns: (transfer none) (array zero-terminated=1) (nullable): the
 *   command line of a worker, or %NULL for a pool whose workers a spawn
 *   function starts
 *
 * Since: 0.1
 */
const char * const *
amor_process_pool_get_argv (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), NULL);
  return (const char * const *) self->argv;
}

/**
 * amor_process_pool_get_n_workers:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:n-workers].
 *
 * Returns: the most workers a map may use, 0 for the number of usable CPUs
 *
 * Since: 0.1
 */
guint
amor_process_pool_get_n_workers (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0);
  return self->n_workers;
}

/**
 * amor_process_pool_get_n_running:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:n-running].
 *
 * Returns: the number of workers kept running between maps
 *
 * Since: 0.1
 */
guint
amor_process_pool_get_n_running (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0);
  return (self->idle != NULL ? self->idle->len : 0) +
         (self->current != NULL ? self->current->workers->len : 0);
}

/**
 * amor_process_pool_get_system:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:system].
 *
 * Returns: (transfer none): the machine planned for
 *
 * Since: 0.1
 */
AmorSystem *
amor_process_pool_get_system (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), NULL);
  return self->system != NULL ? self->system : amor_system_get_default ();
}

/**
 * amor_process_pool_set_system:
 * @self: an #AmorProcessPool
 * @system: (nullable): the machine to plan for, or %NULL for the default
 *
 * Sets [property@Amor.ProcessPool:system].
 *
 * Since: 0.1
 */
void
amor_process_pool_set_system (AmorProcessPool *self,
                              AmorSystem      *system)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (system == NULL || AMOR_IS_SYSTEM (system));

  if (g_set_object (&self->system, system))
    g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_SYSTEM]);
}

/**
 * amor_process_pool_get_sample_size:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:sample-size].
 *
 * Returns: the base number of items to sample
 *
 * Since: 0.1
 */
guint
amor_process_pool_get_sample_size (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0);
  return self->sample_size;
}

/**
 * amor_process_pool_set_sample_size:
 * @self: an #AmorProcessPool
 * @sample_size: the base number of items to sample, at least 1
 *
 * Sets [property@Amor.ProcessPool:sample-size].
 *
 * Since: 0.1
 */
void
amor_process_pool_set_sample_size (AmorProcessPool *self,
                                   guint            sample_size)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (sample_size >= 1);

  if (self->sample_size != sample_size)
    {
      self->sample_size = sample_size;
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_SAMPLE_SIZE]);
    }
}

/**
 * amor_process_pool_get_min_speedup:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:min-speedup].
 *
 * Returns: the least speedup worth running on several workers
 *
 * Since: 0.1
 */
double
amor_process_pool_get_min_speedup (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0.0);
  return self->min_speedup;
}

/**
 * amor_process_pool_set_min_speedup:
 * @self: an #AmorProcessPool
 * @min_speedup: the least speedup worth running on several workers, at
 *   least 1
 *
 * Sets [property@Amor.ProcessPool:min-speedup].
 *
 * Since: 0.1
 */
void
amor_process_pool_set_min_speedup (AmorProcessPool *self,
                                   double           min_speedup)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (isfinite (min_speedup) && min_speedup >= 1.0);

  if (self->min_speedup != min_speedup)
    {
      self->min_speedup = min_speedup;
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_MIN_SPEEDUP]);
    }
}

/**
 * amor_process_pool_get_target_chunk_duration:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:target-chunk-duration].
 *
 * Returns: the target duration of one chunk, in seconds
 *
 * Since: 0.1
 */
double
amor_process_pool_get_target_chunk_duration (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0.0);
  return self->target_chunk_duration;
}

/**
 * amor_process_pool_set_target_chunk_duration:
 * @self: an #AmorProcessPool
 * @seconds: the target duration of one chunk (finite, above 0)
 *
 * Sets [property@Amor.ProcessPool:target-chunk-duration].
 *
 * Since: 0.1
 */
void
amor_process_pool_set_target_chunk_duration (AmorProcessPool *self,
                                             double           seconds)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (isfinite (seconds) && seconds > 0.0);

  if (self->target_chunk_duration != seconds)
    {
      self->target_chunk_duration = seconds;
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_TARGET_CHUNK_DURATION]);
    }
}

/**
 * amor_process_pool_get_max_frame_size:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:max-frame-size].
 *
 * Returns: the largest message allowed, in bytes
 *
 * Since: 0.1
 */
guint
amor_process_pool_get_max_frame_size (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0);
  return self->max_frame_size;
}

/**
 * amor_process_pool_set_max_frame_size:
 * @self: an #AmorProcessPool
 * @bytes: the largest message allowed, at least 64 bytes
 *
 * Sets [property@Amor.ProcessPool:max-frame-size].
 *
 * Since: 0.1
 */
void
amor_process_pool_set_max_frame_size (AmorProcessPool *self,
                                      guint            bytes)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (bytes >= 64);

  if (self->max_frame_size != bytes)
    {
      self->max_frame_size = bytes;
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_MAX_FRAME_SIZE]);
    }
}

/**
 * amor_process_pool_get_hello_timeout:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:hello-timeout].
 *
 * Returns: the seconds a new worker has to say hello
 *
 * Since: 0.1
 */
double
amor_process_pool_get_hello_timeout (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0.0);
  return self->hello_timeout;
}

/**
 * amor_process_pool_set_hello_timeout:
 * @self: an #AmorProcessPool
 * @seconds: the seconds a new worker has to say hello, from 0.001 to 86400
 *
 * Sets [property@Amor.ProcessPool:hello-timeout].
 *
 * Since: 0.1
 */
void
amor_process_pool_set_hello_timeout (AmorProcessPool *self,
                                     double           seconds)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (seconds >= 0.001 && seconds <= 86400.0);

  if (self->hello_timeout != seconds)
    {
      self->hello_timeout = seconds;
      g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_HELLO_TIMEOUT]);
    }
}

/**
 * amor_process_pool_get_result_type:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:result-type].
 *
 * Returns: (transfer none) (nullable): the type of every result, or %NULL
 *
 * Since: 0.1
 */
const GVariantType *
amor_process_pool_get_result_type (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), NULL);
  return self->result_type;
}

/**
 * amor_process_pool_set_result_type:
 * @self: an #AmorProcessPool
 * @result_type: (nullable): a definite type, or %NULL for results of any
 *   type
 *
 * Sets [property@Amor.ProcessPool:result-type]. Must not be called while
 * a map runs.
 *
 * Since: 0.1
 */
void
amor_process_pool_set_result_type (AmorProcessPool    *self,
                                   const GVariantType *result_type)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (result_type == NULL || g_variant_type_is_definite (result_type));
  g_return_if_fail (!self->running);

  if (self->result_type == NULL && result_type == NULL)
    return;
  if (self->result_type != NULL && result_type != NULL &&
      g_variant_type_equal (self->result_type, result_type))
    return;

  g_clear_pointer (&self->result_type, g_variant_type_free);
  if (result_type != NULL)
    self->result_type = g_variant_type_copy (result_type);
  g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_RESULT_TYPE]);
}

/**
 * amor_process_pool_get_plan:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:plan].
 *
 * Returns: (transfer none) (nullable): the fixed plan, or %NULL
 *
 * Since: 0.1
 */
AmorResult *
amor_process_pool_get_plan (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), NULL);
  return self->plan;
}

/**
 * amor_process_pool_set_plan:
 * @self: an #AmorProcessPool
 * @plan: (nullable): a fixed plan, or %NULL to plan every map
 *
 * Sets [property@Amor.ProcessPool:plan].
 *
 * Since: 0.1
 */
void
amor_process_pool_set_plan (AmorProcessPool *self,
                            AmorResult      *plan)
{
  g_return_if_fail (AMOR_IS_PROCESS_POOL (self));
  g_return_if_fail (plan == NULL || AMOR_IS_RESULT (plan));

  if (g_set_object (&self->plan, plan))
    g_object_notify_by_pspec (G_OBJECT (self), amor_process_pool_pspecs[PROP_PLAN]);
}

/**
 * amor_process_pool_get_result:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:result].
 *
 * Returns: (transfer none) (nullable): the plan of the last map, or %NULL
 *
 * Since: 0.1
 */
AmorResult *
amor_process_pool_get_result (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), NULL);
  return self->result;
}

/**
 * amor_process_pool_get_spawn_cost:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:spawn-cost].
 *
 * Returns: the seconds from a worker's start to its hello
 *
 * Since: 0.1
 */
double
amor_process_pool_get_spawn_cost (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0.0);
  return self->spawn_cost;
}

/**
 * amor_process_pool_get_dispatch_cost:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:dispatch-cost].
 *
 * Returns: the seconds of a chunk's round trip beyond its work
 *
 * Since: 0.1
 */
double
amor_process_pool_get_dispatch_cost (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0.0);
  return self->dispatch_cost;
}

/**
 * amor_process_pool_get_serialization_cost:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:serialization-cost].
 *
 * Returns: the seconds per item of serialising it and its result
 *
 * Since: 0.1
 */
double
amor_process_pool_get_serialization_cost (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0.0);
  return self->serialization_cost;
}

/**
 * amor_process_pool_get_elapsed:
 * @self: an #AmorProcessPool
 *
 * Gets [property@Amor.ProcessPool:elapsed].
 *
 * Returns: the duration of the last map in seconds, 0 before the first
 *
 * Since: 0.1
 */
double
amor_process_pool_get_elapsed (AmorProcessPool *self)
{
  g_return_val_if_fail (AMOR_IS_PROCESS_POOL (self), 0.0);
  return self->elapsed;
}
