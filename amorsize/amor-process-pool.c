/* amor-process-pool.c: run a map on worker processes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "amor-process-pool.h"
#include "amor-error.h"
#include "amor-optimizer.h"
#include "amor-optimizer-private.h"
#include "amor-sampler.h"
#include "amor-child-private.h"
#include "amor-clock-private.h"
#include "amor-map-results-private.h"
#include "amor-profile-private.h"
#include "amor-wire-private.h"
#include "amor-wire-reader-private.h"

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
 * thread costs: the spawn time as the fork-join cost (0 once every usable
 * CPU has a worker running), the round trip as the dispatch cost, the
 * serialisation cost added to the mean item duration. The chunk size
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
 * to even out.
 *
 * A serial plan runs every item in the first worker — the work callback
 * lives in the worker program, not in the calling process — in chunks of
 * the base chunk size. A parallel plan starts the workers it needs and
 * hands out chunks to whichever worker is free; a worker gets its next
 * chunk before it has answered the last (but for the last chunks of the
 * map), so that it never waits for the pool in between. The pool keeps
 * the workers running for the next map, until it is disposed or
 * [method@Amor.ProcessPool.shutdown] is called.
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
 * When no worker can pay for itself the plan is serial and every item
 * runs right there — no worker started, nothing serialised.
 *
 * Otherwise the calling thread is one of the plan's workers: one worker
 * process fewer starts, and that thread runs chunks of its own between
 * the messages of the others: chunks of a worker's size, but never longer
 * than half of what the worker that will be done first still holds, so
 * that a worker never waits for it to read an answer. Near the end it
 * takes the last items in small chunks, and a worker is sent no more
 * ahead than about a quarter of the time left beyond what it holds, so
 * that the two finish together; both are counted in time, with the same
 * estimate of what the items cost. When the first two items already show
 * that the map is worth splitting (asked only of a map whose work
 * outlasts the start of a forked worker, 3 ms or the measured start, four
 * times over), the workers start at once and take a share of each later
 * round of samples, as do the workers kept from an earlier map — queued
 * behind what they still run of the last round, so that no one waits for
 * the others between two rounds; the plan does not wait for their last
 * share.
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

#define DEFAULT_SAMPLE_SIZE    5
#define DEFAULT_HELLO_TIMEOUT  30.0
/* How long disposing the pool waits for idle workers to exit after their
 * input ended, before it kills them. */
#define SHUTDOWN_GRACE_MS      5000
/* What a pool with a local function plans with before it has measured
 * its workers: the start of a forked worker (measured at 2 to 3 ms here;
 * an interpreter started from an argv takes 40 to 60 ms, and is measured
 * at its first start), the round trip of a chunk, and the serialisation
 * of an item and its result on both sides (about 5 µs measured for a
 * double and an int64 through PyGObject). */
#define LOCAL_DEFAULT_SPAWN_COST     0.010
#define LOCAL_DEFAULT_DISPATCH_COST  200e-6
#define LOCAL_DEFAULT_ITEM_COST      10e-6
/* The start of a forked worker, measured at 2 to 3 ms here: when a map's
 * work outlasts it a few times over, the workers start during sampling,
 * as soon as two samples show the map is worth splitting. */
#define LOCAL_FORK_COST              3e-3
/* The serialisation cost of an item is measured on chunks of at least
 * this many items. */
#define LOCAL_SERIALIZATION_ITEMS    64

typedef struct _Run Run;

struct _AmorProcessPool
{
  GObject      parent_instance;

  GStrv          argv;
  AmorSpawnFunc  spawn_func;
  gpointer       spawn_data;
  GDestroyNotify spawn_notify;
  AmorWorkerChunkFunc local_func;
  gpointer       local_data;
  GDestroyNotify local_notify;
  guint        n_workers;
  AmorSystem  *system;
  guint        sample_size;
  double       min_speedup;
  double       target_chunk_duration;
  guint        max_frame_size;
  double       hello_timeout;
  GVariantType *result_type;     /* NULL: results boxed in an "av" */
  AmorResult  *plan;

  AmorResult  *result;
  double       spawn_cost;
  double       dispatch_cost;
  double       serialization_cost;
  double       elapsed;

  GPtrArray   *idle;              /* Worker: alive, kept between maps */
  Run         *current;           /* the map running, or NULL */
  guint        next_worker_id;
  gboolean     running;
};

G_DEFINE_FINAL_TYPE (AmorProcessPool, amor_process_pool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ARGV,
  PROP_N_WORKERS,
  PROP_N_RUNNING,
  PROP_SYSTEM,
  PROP_SAMPLE_SIZE,
  PROP_MIN_SPEEDUP,
  PROP_TARGET_CHUNK_DURATION,
  PROP_MAX_FRAME_SIZE,
  PROP_HELLO_TIMEOUT,
  PROP_RESULT_TYPE,
  PROP_PLAN,
  PROP_RESULT,
  PROP_SPAWN_COST,
  PROP_DISPATCH_COST,
  PROP_SERIALIZATION_COST,
  PROP_ELAPSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Workers, chunks and runs */

typedef enum {
  WORKER_SPAWNING,      /* waiting for its hello (a read pending) */
  WORKER_IDLE,          /* no operation pending */
  WORKER_BUSY,          /* running a chunk (a write or read pending) */
  WORKER_DEAD,          /* being reaped, or reaped */
} WorkerState;

typedef struct
{
  guint64  *indices;
  gsize     n;
  guint     id;
  guint     attempt;      /* 0, or 1 for a retry after a worker died */
  gboolean  sample;
  gboolean  written;      /* the worker has it (or its socket does) */
  GVariant *message;      /* until written */
  gsize     sent;         /* bytes of its frame in the socket so far */
  gint64    start_ns;     /* before encoding */
  gint64    encode_ns;
  gint64    busy_ns;      /* the worker's time on it, once answered */
} Chunk;

typedef struct
{
  guint         ref_count;
  guint         id;
  AmorChild    *child;
  const char   *pid;         /* the child's identifier */
  GSocket      *socket;
  GIOStream    *stream;
  AmorWireReader *reader;    /* its output, as it comes */
  GSource      *read_source; /* while a read is pending */
  WorkerState   state;
  gint64        spawned_ns;
  GSource      *hello_timeout;
  GQueue        inflight;     /* Chunk: sent, not answered; oldest first */
  gint64        front_start_ns; /* when it began the oldest, about */
  gboolean      reading;      /* a read is pending */
  gboolean      writing;      /* a write is pending */
  gboolean      said_hello;
  char         *kill_reason;  /* set when the pool terminated it */
  char         *lost;         /* set when it died with an operation pending */
  gboolean      timed_out;
  Run          *run;          /* the map it works for (kept once dead) */
} Worker;

typedef enum {
  PHASE_SAMPLING,
  PHASE_RUNNING,
  PHASE_STOPPING,
} Phase;

struct _Run
{
  AmorProcessPool *self;
  GTask           *task;
  GMainContext    *context;
  GCancellable    *cancellable;
  GSource         *cancel_source;

  GVariant        *items;
  guint64          n_items;
  AmorMapResults  *results;
  guint64          n_done;
  /* Workers running when the map began: the others' start is a cost of
   * this map, even when they were started ahead of the plan. */
  guint            n_kept;

  GPtrArray       *workers;      /* Worker: alive ones of this map */
  guint            pending;      /* asynchronous operations under way */
  guint            reaping;      /* workers lost, not reaped yet */
  Phase            phase;
  GError          *error;        /* the first error */
  gboolean         cancelled;
  gboolean         finished;
  guint            next_chunk_id;
  gint64           start_ns;

  /* Sampling */
  AmorSampler     *sampler;
  GArray          *sampled;      /* sorted guint64 indices */
  AmorProfile     *profile;      /* every item's duration, once known */
  guint64          sample_cursor;
  gint64           sampling_start_ns;
  gboolean         prespawned;   /* the workers of a first guess started */
  GArray          *dispatch;     /* double: round trip beyond the work */
  double           serialization_sum;
  guint            serialization_n;
  /* Sampled in the calling process (amor_process_pool_set_local_func(),
   * a blocking map): the serialisation cost is then measured on every
   * chunk, and that thread runs chunks of a parallel plan too. */
  gboolean         local;
  double           chunk_serialization_sum;
  guint64          chunk_serialization_n;
  gboolean         here;         /* in run_here(): nothing else schedules */
  GSource         *helper;       /* the calling thread's chunks (run_help_cb()) */

  /* Running */
  AmorResult      *plan;
  guint            n_workers;
  guint64          chunk_size;
  double           plan_item_cost; /* the profile's mean when planned */
  gboolean         opening;      /* the pool's own plan (run_opening_items()) */
  AmorSchedule     schedule;
  guint64          next;         /* the next index to hand out */
  gsize            skip_pos;     /* the first sampled index >= next */
  GQueue           retry;        /* Chunk: one-item chunks to run again */
};

static void run_schedule (Run *run);

/* What starts the workers, for messages: the program's name, or "spawn
 * function". */
static char *
pool_describe_program (AmorProcessPool *self)
{
  if (self->argv != NULL && self->argv[0] != NULL)
    return g_path_get_basename (self->argv[0]);
  return g_strdup ("spawn function");
}
static void worker_died (Worker *worker, const char *why);

static Worker *
worker_ref (Worker *worker)
{
  worker->ref_count++;
  return worker;
}

static void
chunk_free (Chunk *chunk)
{
  g_clear_pointer (&chunk->message, g_variant_unref);
  g_free (chunk->indices);
  g_free (chunk);
}

static void
worker_unref (Worker *worker)
{
  if (--worker->ref_count > 0)
    return;

  g_assert (worker->hello_timeout == NULL);
  g_assert (worker->read_source == NULL);
  g_queue_clear_full (&worker->inflight, (GDestroyNotify) chunk_free);
  amor_wire_reader_free (worker->reader);
  if (worker->stream != NULL)
    g_io_stream_close (worker->stream, NULL, NULL);
  g_clear_object (&worker->stream);
  g_clear_object (&worker->socket);
  g_clear_pointer (&worker->child, amor_child_free);
  g_free (worker->kill_reason);
  g_free (worker->lost);
  g_free (worker);
}

/* "chunk 5 (items 20–23)" */
static char *
chunk_describe (const Chunk *chunk)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "chunk %u ", chunk->id);
  if (chunk->n == 1)
    g_string_append_printf (s, "(item %" G_GUINT64_FORMAT ")", chunk->indices[0]);
  else if (chunk->indices[chunk->n - 1] - chunk->indices[0] == chunk->n - 1)
    g_string_append_printf (s, "(items %" G_GUINT64_FORMAT "–%" G_GUINT64_FORMAT ")",
                            chunk->indices[0], chunk->indices[chunk->n - 1]);
  else
    {
      g_string_append (s, "(items ");
      for (gsize i = 0; i < chunk->n && i < 4; i++)
        g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i > 0 ? ", " : "",
                                chunk->indices[i]);
      g_string_append (s, chunk->n > 4 ? ", …)" : ")");
    }

  return g_string_free (s, FALSE);
}

/* Records the first reason the map stops; takes @error. */
static void
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

/* Worker operations
 *
 * A worker has at most one write and one read pending. Chunks are written in
 * order and answered in order: worker->inflight holds the chunks sent (or
 * being sent) and not answered yet, the oldest first; while a map runs, a
 * worker may get a second chunk before the first is answered, so that it
 * never waits for the pool between chunks. Every pending operation holds a
 * reference on its worker and counts in run->pending; a callback that finds
 * its worker dead only lets go. */

static void worker_pump (Worker *worker);
static void worker_hello (Worker  *worker,
                          guint8   type,
                          GBytes  *body,
                          GError  *error);

static gboolean
worker_has_pending (Worker *worker)
{
  return worker->reading || worker->writing;
}

/* Terminates @worker: its pending operations fail, which reaps it. */
static void
worker_kill (Worker     *worker,
             const char *reason)
{
  if (worker->state == WORKER_DEAD)
    return;

  if (worker->kill_reason == NULL)
    worker->kill_reason = g_strdup (reason);

  if (!worker_has_pending (worker))
    {
      worker_died (worker, reason);
      return;
    }

  /* GLib sends the signal from its worker thread, a moment later; ending
   * the socket makes the pending read or write return at once, also when
   * a grandchild holds the other end. */
  amor_child_force_exit (worker->child);
  g_socket_shutdown (worker->socket, TRUE, TRUE, NULL);
}

/* @worker died (its output ended, a write failed) while another of its
 * operations is still pending: that one is made to fail at once, and the
 * worker is reaped when it has. */
static void
worker_lost (Worker     *worker,
             const char *why)
{
  if (!worker_has_pending (worker))
    {
      worker_died (worker, worker->lost != NULL ? worker->lost : why);
      return;
    }

  if (worker->lost == NULL)
    {
      worker->lost = g_strdup (why);
      amor_child_force_exit (worker->child);
      g_socket_shutdown (worker->socket, TRUE, TRUE, NULL);
    }
}

/* Reaping */

/* Queues @chunk to run again, at the front. */
static void
run_requeue (Run   *run,
             Chunk *chunk)
{
  g_clear_pointer (&chunk->message, g_variant_unref);
  chunk->written = FALSE;
  chunk->sent = 0;
  g_queue_push_head (&run->retry, chunk);
}

static void
worker_reaped_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Worker *worker = user_data;
  Run *run = worker->run;
  g_autofree char *status = NULL;
  g_autofree char *who = NULL;
  Chunk *head;

  run->pending--;
  run->reaping--;
  amor_child_wait_finish (worker->child, result);
  status = amor_child_describe_exit (worker->child);

  who = g_strdup_printf ("worker %u (pid %s)", worker->id, worker->pid);
  g_debug ("process pool: %s %s%s%s", who, status,
           worker->kill_reason != NULL ? ": " : "",
           worker->kill_reason != NULL ? worker->kill_reason : "");

  head = g_queue_pop_head (&worker->inflight);

  if (worker->kill_reason != NULL || run->phase == PHASE_STOPPING)
    {
      /* Terminated by the pool (the reason is recorded already), or the
       * map is stopping anyway. */
      if (worker->timed_out)
        {
          g_autofree char *argv0 = pool_describe_program (run->self);

          run_fail (run, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      "Worker %u (%s) sent no hello within %.3g s, "
                                      "so it was terminated",
                                      worker->id, argv0, run->self->hello_timeout));
        }
      g_clear_pointer (&head, chunk_free);
    }
  else if (!worker->said_hello)
    {
      g_autofree char *argv0 = pool_describe_program (run->self);

      run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_FAILED,
                                  "Worker %u (%s) %s before its hello: is it a "
                                  "program that calls amor_worker_serve()?",
                                  worker->id, argv0, status));
    }
  else
    {
      Chunk *later;

      /* The chunks behind the first never started: they run again as they
       * are, first. */
      while ((later = g_queue_pop_tail (&worker->inflight)) != NULL)
        run_requeue (run, later);

      if (head == NULL)
        ;
      else if (!head->written)
        run_requeue (run, g_steal_pointer (&head));
      else if (head->attempt == 0)
        {
          g_autofree char *what = chunk_describe (head);

          /* The worker died running it: its items run again, one per
           * chunk, so that a second death names the item that caused it. */
          g_debug ("process pool: %s %s while running %s: retrying its items",
                   who, status, what);
          for (gsize i = head->n; i > 0; i--)
            {
              Chunk *retry = g_new0 (Chunk, 1);

              retry->indices = g_new (guint64, 1);
              retry->indices[0] = head->indices[i - 1];
              retry->n = 1;
              retry->attempt = 1;
              retry->sample = head->sample;
              g_queue_push_head (&run->retry, retry);
            }
        }
      else
        {
          run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_FAILED,
                                      "Item %" G_GUINT64_FORMAT ": %s %s while processing "
                                      "it, and so did the worker that ran it before",
                                      head->indices[0], who, status));
        }
      g_clear_pointer (&head, chunk_free);
    }

  g_queue_clear_full (&worker->inflight, (GDestroyNotify) chunk_free);
  worker_unref (worker);
  run_schedule (run);
}

/* @worker is gone (or going): reap it. What it was running is retried, or
 * fails the map, once it is reaped. */
static void
worker_died (Worker     *worker,
             const char *why)
{
  Run *run = worker->run;

  g_assert (worker->state != WORKER_DEAD);
  g_debug ("process pool: worker %u (pid %s) lost: %s", worker->id, worker->pid, why);

  if (worker->hello_timeout != NULL)
    {
      g_source_destroy (worker->hello_timeout);
      g_clear_pointer (&worker->hello_timeout, g_source_unref);
    }

  worker->state = WORKER_DEAD;
  /* The wait holds a reference of its own. */
  worker_ref (worker);
  g_ptr_array_remove (run->workers, worker);

  amor_child_force_exit (worker->child);
  if (worker_has_pending (worker))
    g_socket_shutdown (worker->socket, TRUE, TRUE, NULL);
  run->pending++;
  run->reaping++;
  amor_child_wait_async (worker->child, worker_reaped_cb, worker);
}

/* The start and the end of every operation. */
static void
worker_op_begin (Worker *worker)
{
  worker_ref (worker);
  worker->run->pending++;
}

/* TRUE if the operation's outcome still matters (its worker is alive). */
static gboolean
worker_op_end (Worker *worker)
{
  worker->run->pending--;
  if (worker->state != WORKER_DEAD)
    return TRUE;

  run_schedule (worker->run);
  worker_unref (worker);
  return FALSE;
}

/* Chunks */

static void
worker_written_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Worker *worker = user_data;
  Run *run = worker->run;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = amor_wire_write_frame_finish (G_OUTPUT_STREAM (source), result, &error);
  worker->writing = FALSE;
  if (!worker_op_end (worker))
    return;

  if (worker->kill_reason != NULL)
    worker_kill (worker, worker->kill_reason);
  else if (!ok || worker->lost != NULL)
    worker_lost (worker, error != NULL ? error->message : worker->lost);
  else
    {
      for (GList *l = worker->inflight.head; l != NULL; l = l->next)
        {
          Chunk *chunk = l->data;

          if (!chunk->written)
            {
              chunk->written = TRUE;
              g_clear_pointer (&chunk->message, g_variant_unref);
              break;
            }
        }
      worker_pump (worker);
    }

  run_schedule (run);
  worker_unref (worker);
}

/* The median of a few doubles (sorts them). */
static double
median (GArray *values)
{
  double *v = (double *) (void *) values->data;
  guint n = values->len;

  if (n == 0)
    return 0.0;
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && v[j - 1] > v[j]; j--)
      {
        double t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Handles a RESULTS message; FALSE with @error if it does not fit. */
static gboolean
run_take_results (Run       *run,
                  Chunk     *chunk,
                  GVariant  *message,
                  gint64     decode_start_ns,
                  GError   **error)
{
  g_autoptr(GVariant) results = NULL;
  g_autoptr(GVariant) durations = NULL;
  const gint64 *ns;
  gsize n_ns = 0;
  guint32 chunk_id;
  gint64 overhead_ns;
  gint64 compute_ns = 0;
  GError *type_error = NULL;
  gsize kept;

  g_variant_get (message, "(uv@axx)", &chunk_id, &results, &durations, &overhead_ns);
  ns = g_variant_get_fixed_array (durations, &n_ns, sizeof (gint64));
  if (!g_variant_is_of_type (results, G_VARIANT_TYPE_ARRAY))
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "results that are a '%s', not an array",
                   g_variant_get_type_string (results));
      return FALSE;
    }
  if (chunk_id != chunk->id)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "the results of chunk %u instead", chunk_id);
      return FALSE;
    }
  if (g_variant_n_children (results) != chunk->n || n_ns != chunk->n)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "%" G_GSIZE_FORMAT " results for %" G_GSIZE_FORMAT " items",
                   g_variant_n_children (results), chunk->n);
      return FALSE;
    }

  /* A result of the wrong type is the work's failure, not the worker's:
   * the map fails, the worker goes on. */
  kept = amor_map_results_keep (run->results, chunk->indices, results, chunk->n, &type_error);
  if (kept < chunk->n)
    {
      g_prefix_error (&type_error, "Item %" G_GUINT64_FORMAT ": ", chunk->indices[kept]);
      run_fail (run, type_error);
    }
  for (gsize i = 0; i < chunk->n; i++)
    {
      compute_ns += MAX (ns[i], 0);
      amor_profile_add (run->profile, chunk->indices[i], (double) MAX (ns[i], 0) / 1e9);
    }
  run->n_done += chunk->n;
  chunk->busy_ns = compute_ns + MAX (overhead_ns, 0);

  /* What a message costs whatever its size weighs too much in small
   * chunks: their figure is not kept. */
  if (run->local && chunk->n >= LOCAL_SERIALIZATION_ITEMS)
    {
      double decode = (double) (amor_clock_now_ns () - decode_start_ns) / 1e9;

      /* As run_local_serialization() counts it: each side of the socket
       * pays about what this one does. The worker's own overhead is not
       * counted: it is mostly that of the work function, paid here too,
       * and in a fresh fork, the copying of the pages it writes to. */
      run->chunk_serialization_sum += 2.0 * ((double) chunk->encode_ns / 1e9 + decode);
      run->chunk_serialization_n += chunk->n;
    }

  if (chunk->sample)
    {
      /* Sampling chunks travel alone: their round trip is theirs. What is
       * neither work nor (de)serialisation is the dispatch cost. */
      gint64 now = amor_clock_now_ns ();
      double decode = (double) (now - decode_start_ns) / 1e9;
      double serialization = (double) chunk->encode_ns / 1e9 + decode +
                             (double) MAX (overhead_ns, 0) / 1e9;
      double round_trip = (double) (now - chunk->start_ns) / 1e9;
      double per_item = serialization / (double) chunk->n;
      double dispatch = MAX (0.0, round_trip - (double) compute_ns / 1e9 - serialization);

      /* Sampled with the calling thread, the serialisation is counted in
       * the parallel estimates only (run_plan_here()). */
      if (run->local)
        per_item = 0.0;
      for (gsize i = 0; i < chunk->n; i++)
        amor_sampler_add_duration (run->sampler, (double) MAX (ns[i], 0) / 1e9 + per_item);
      run->serialization_sum += serialization;
      run->serialization_n += chunk->n;
      g_array_append_val (run->dispatch, dispatch);
    }

  return TRUE;
}

/* The worker answered the chunk at the front of its queue, on which it
 * spent @busy_ns: the next one began then, or once written if later. The
 * answer is read only when the calling thread is free (run_help_cb()),
 * maybe long after: the worker's time tells when it really began. */
static void
worker_front_done (Worker *worker,
                   gint64  busy_ns)
{
  Chunk *next;

  if (worker->inflight.length < 2)
    return;
  next = g_queue_peek_nth (&worker->inflight, 1);
  worker->front_start_ns = MAX (worker->front_start_ns + busy_ns, next->start_ns);
}

/* The answer read for the chunk at the front of @worker's queue: @body of
 * @type, or @error (taken). */
static void
worker_answer (Worker  *worker,
               guint8   type,
               GBytes  *body,
               GError  *error)
{
  Run *run = worker->run;
  g_autoptr(GError) local_error = error;
  g_autoptr(GVariant) message = NULL;
  gint64 decode_start_ns;
  Chunk *chunk;

  decode_start_ns = amor_clock_now_ns ();
  worker->reading = FALSE;
  if (!worker_op_end (worker))
    return;

  /* The pool terminated the worker: an answer already on its way does not
   * count. */
  if (worker->kill_reason != NULL)
    {
      worker_kill (worker, worker->kill_reason);
      goto out;
    }

  /* The worker died with its chunks. */
  if ((body == NULL && !g_error_matches (local_error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA)) ||
      worker->lost != NULL)
    {
      worker_lost (worker, local_error != NULL ? local_error->message : worker->lost);
      goto out;
    }

  chunk = g_queue_peek_head (&worker->inflight);

  if (body != NULL)
    {
      if (type == AMOR_WIRE_RESULTS || type == AMOR_WIRE_ERROR)
        message = amor_wire_body_decode (type, body, &local_error);
      else
        g_set_error (&local_error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                     "a '%c' message where results were expected", type);
    }

  if (message != NULL && type == AMOR_WIRE_RESULTS &&
      run_take_results (run, chunk, message, decode_start_ns, &local_error))
    {
      g_debug ("process pool: worker %u answered chunk %u (%" G_GSIZE_FORMAT " items from %"
               G_GUINT64_FORMAT ")", worker->id, chunk->id, chunk->n, chunk->indices[0]);
      worker_front_done (worker, chunk->busy_ns);
      chunk_free (g_queue_pop_head (&worker->inflight));
      goto next;
    }

  if (message != NULL && type == AMOR_WIRE_ERROR)
    {
      guint32 chunk_id, position;
      const char *domain, *text;
      gint32 code;

      g_variant_get (message, "(uu&si&s)", &chunk_id, &position, &domain, &code, &text);
      if (chunk_id == chunk->id && position < chunk->n && domain[0] != '\0')
        {
          /* The work failed; the worker is fine. */
          run_fail (run, g_error_new (g_quark_from_string (domain), code,
                                      "Item %" G_GUINT64_FORMAT ": %s",
                                      chunk->indices[position], text));
          chunk_free (g_queue_pop_head (&worker->inflight));
          goto next;
        }
      g_clear_error (&local_error);
      g_set_error (&local_error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "an error message for chunk %u, item %u of %" G_GSIZE_FORMAT,
                   chunk_id, position, chunk->n);
    }

  /* Malformed or oversized: the stream cannot be trusted any more. */
  {
    g_autofree char *who = g_strdup_printf ("worker %u (pid %s)", worker->id, worker->pid);
    g_autofree char *what = chunk_describe (chunk);

    run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                                "The output of %s for %s was refused: %s",
                                who, what, local_error->message));
    worker_kill (worker, "malformed output");
    goto out;
  }

next:
  if (g_queue_is_empty (&worker->inflight))
    worker->state = WORKER_IDLE;
  worker_pump (worker);

out:
  run_schedule (run);
  worker_unref (worker);
}

static gboolean
worker_readable_cb (int          fd,
                    GIOCondition condition,
                    gpointer     user_data)
{
  Worker *worker = user_data;
  g_autoptr(GBytes) body = NULL;
  GSource *source = worker->read_source;
  GError *error = NULL;
  guint8 type = 0;
  gboolean again;

  if (amor_wire_reader_read (worker->reader, fd, worker->run->self->max_frame_size,
                             &type, &body, NULL, &error) == AMOR_WIRE_READ_AGAIN)
    return G_SOURCE_CONTINUE;

  /* A frame, or the end: the read is over. The source stays for the next
   * one if the worker is sent another chunk meanwhile (worker_read()). */
  worker_ref (worker);
  if (worker->said_hello)
    worker_answer (worker, type, body, error);
  else
    worker_hello (worker, type, body, error);

  again = worker->reading && worker->read_source == source;
  if (!again && worker->read_source == source)
    worker->read_source = NULL;
  if (!again)
    g_source_unref (source);
  worker_unref (worker);
  return again ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Reads the next frame of @worker when it comes (worker_readable_cb()),
 * on the source of the last one if it is still there. */
static void
worker_read (Worker *worker)
{
  worker->reading = TRUE;
  worker_op_begin (worker);
  if (worker->reader == NULL)
    worker->reader = amor_wire_reader_new ();
  if (worker->read_source != NULL)
    return;
  worker->read_source = g_unix_fd_source_new (g_socket_get_fd (worker->socket),
                                              G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (worker->read_source, G_SOURCE_FUNC (worker_readable_cb), worker, NULL);
  g_source_set_static_name (worker->read_source, "[amorsize] worker output");
  /* Its callback never runs the main context: GLib need not take its
   * descriptor out of the poll set around it (two wakeups). */
  g_source_set_can_recurse (worker->read_source, TRUE);
  g_source_attach (worker->read_source, worker->run->context);
}

/* Sends @worker the chunks it has not got yet, and starts the read of the
 * next answer, if they are not under way. A chunk goes into the socket at
 * once when it fits there, as nearly all do; the rest of one that does
 * not, or that fails (the write reports it), is written asynchronously. */
static void
worker_pump (Worker *worker)
{
  if (worker->state == WORKER_DEAD || worker->kill_reason != NULL || worker->lost != NULL)
    return;

  if (!worker->writing)
    for (GList *l = worker->inflight.head; l != NULL; l = l->next)
      {
        Chunk *chunk = l->data;
        gsize sent = 0;

        if (chunk->written)
          continue;
        if (amor_wire_send_frame (g_socket_get_fd (worker->socket), AMOR_WIRE_CHUNK,
                                  chunk->message, chunk->sent, &sent, NULL))
          {
            chunk->sent += sent;
            if (chunk->sent == AMOR_WIRE_HEADER_SIZE + g_variant_get_size (chunk->message))
              {
                chunk->written = TRUE;
                g_clear_pointer (&chunk->message, g_variant_unref);
                continue;
              }
          }
        g_debug ("process pool: chunk %u to worker %u: %" G_GSIZE_FORMAT " bytes sent, "
                 "the rest as the worker reads", chunk->id, worker->id, chunk->sent);
        worker->writing = TRUE;
        worker_op_begin (worker);
        amor_wire_write_frame_async (g_io_stream_get_output_stream (worker->stream),
                                     AMOR_WIRE_CHUNK, chunk->message, chunk->sent,
                                     worker_written_cb, worker);
        break;
      }

  if (!worker->reading && !g_queue_is_empty (&worker->inflight) &&
      ((Chunk *) g_queue_peek_head (&worker->inflight))->written)
    worker_read (worker);
}

/* The @n items @indices as an array of the map's item type (a copy of
 * their bytes when that is a fixed-size number). Returns a floating
 * reference. */
static GVariant *
run_items_slice (Run           *run,
                 const guint64 *indices,
                 gsize          n)
{
  const GVariantType *type = g_variant_type_element (g_variant_get_type (run->items));
  gsize size = amor_wire_fixed_size (type);
  g_autofree GVariant **children = NULL;
  GVariant *array;

  if (size > 0)
    {
      gsize n_all = 0;
      const guint8 *all = g_variant_get_fixed_array (run->items, &n_all, size);
      g_autofree guint8 *slice = g_malloc (MAX (n, 1) * size);

      for (gsize i = 0; i < n; i++)
        memcpy (slice + i * size, all + indices[i] * size, size);
      return g_variant_new_fixed_array (type, slice, n, size);
    }

  children = g_new (GVariant *, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    children[i] = g_variant_get_child_value (run->items, indices[i]);
  array = g_variant_new_array (type, children, n);
  for (gsize i = 0; i < n; i++)
    g_variant_unref (children[i]);
  return array;
}

/* The message of a chunk of the @n items @indices: "(uv)". */
static GVariant *
run_chunk_message (Run           *run,
                   guint32        id,
                   const guint64 *indices,
                   gsize          n)
{
  return g_variant_ref_sink (g_variant_new ("(uv)", id, run_items_slice (run, indices, n)));
}

/* Hands @chunk to @worker (idle, or running one chunk). FALSE when the
 * chunk is too large (the map fails). */
static gboolean
run_send (Run    *run,
          Worker *worker,
          Chunk  *chunk)
{
  gsize size;

  chunk->id = ++run->next_chunk_id;
  chunk->start_ns = amor_clock_now_ns ();
  chunk->message = run_chunk_message (run, chunk->id, chunk->indices, chunk->n);
  size = g_variant_get_size (chunk->message);   /* serialises it */
  chunk->encode_ns = amor_clock_now_ns () - chunk->start_ns;

  if (size > run->self->max_frame_size)
    {
      g_autofree char *what = chunk_describe (chunk);

      run_fail (run, g_error_new (AMOR_ERROR, AMOR_ERROR_INVALID_ARGUMENT,
                                  "The items of %s take %" G_GSIZE_FORMAT " bytes, above "
                                  "the maximum frame size of %u bytes",
                                  what, size, run->self->max_frame_size));
      chunk_free (chunk);
      return FALSE;
    }

  g_debug ("process pool: chunk %u (%" G_GSIZE_FORMAT " items from %" G_GUINT64_FORMAT
           "%s) to worker %u", chunk->id, chunk->n, chunk->indices[0],
           chunk->sample ? ", sampled" : "", worker->id);
  worker->state = WORKER_BUSY;
  if (g_queue_is_empty (&worker->inflight))
    worker->front_start_ns = chunk->start_ns;
  g_queue_push_tail (&worker->inflight, chunk);
  worker_pump (worker);
  return TRUE;
}

/* Spawning */

/* The first frame read from @worker: @body of @type, or @error (taken). */
static void
worker_hello (Worker  *worker,
              guint8   type,
              GBytes  *body,
              GError  *error)
{
  Run *run = worker->run;
  AmorProcessPool *self = run->self;
  g_autoptr(GVariant) hello = NULL;

  worker->reading = FALSE;
  if (!worker_op_end (worker))
    {
      g_clear_error (&error);
      return;
    }

  if (worker->hello_timeout != NULL)
    {
      g_source_destroy (worker->hello_timeout);
      g_clear_pointer (&worker->hello_timeout, g_source_unref);
    }

  if ((body == NULL && !g_error_matches (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA)) ||
      worker->kill_reason != NULL)
    {
      worker_died (worker, error != NULL ? error->message : worker->kill_reason);
      goto out;
    }

  if (body != NULL)
    {
      if (type == AMOR_WIRE_HELLO)
        hello = amor_wire_body_decode (type, body, &error);
      else
        g_set_error (&error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                     "a '%c' message where a hello was expected", type);
    }

  if (hello == NULL || !amor_wire_hello_check (hello, &error))
    {
      g_autofree char *argv0 = pool_describe_program (self);
      int code = error->domain == AMOR_ERROR ? error->code : AMOR_ERROR_INVALID_DATA;

      run_fail (run, g_error_new (AMOR_ERROR, code,
                                  "The hello of worker %u (%s, pid %s) is malformed: %s",
                                  worker->id, argv0, worker->pid, error->message));
      worker_kill (worker, "malformed hello");
      goto out;
    }

  worker->said_hello = TRUE;
  self->spawn_cost = amor_clock_seconds_since (worker->spawned_ns);
  g_debug ("process pool: worker %u (pid %s) ready after %.6f s",
           worker->id, worker->pid, self->spawn_cost);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPAWN_COST]);
  worker->state = WORKER_IDLE;

out:
  g_clear_error (&error);
  run_schedule (run);
  worker_unref (worker);
}

static gboolean
worker_hello_timeout_cb (gpointer user_data)
{
  Worker *worker = user_data;

  g_clear_pointer (&worker->hello_timeout, g_source_unref);
  worker->timed_out = TRUE;
  worker_kill (worker, "no hello in time");
  return G_SOURCE_REMOVE;
}

/* Starts a worker for @run; FALSE (the map fails) if it cannot start. */
static gboolean
run_spawn (Run *run)
{
  AmorProcessPool *self = run->self;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  AmorChild *child;
  Worker *worker;
  int sv[2];
  int child_out;
  gint64 start_ns = amor_clock_now_ns ();

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    {
      int errsv = errno;

      run_fail (run, g_error_new (G_IO_ERROR, g_io_error_from_errno (errsv),
                                  "Could not create the pipes of a worker: %s",
                                  g_strerror (errsv)));
      return FALSE;
    }

  child_out = fcntl (sv[1], F_DUPFD_CLOEXEC, 3);
  if (child_out < 0)
    {
      int errsv = errno;

      close (sv[0]);
      close (sv[1]);
      run_fail (run, g_error_new (G_IO_ERROR, g_io_error_from_errno (errsv),
                                  "Could not create the pipes of a worker: %s",
                                  g_strerror (errsv)));
      return FALSE;
    }

  if (self->spawn_func != NULL)
    {
      g_autofree int *close_fds = NULL;
      guint n_close = 0;
      GPid pid;

      /* A forked worker must not keep the pool's ends of the other
       * workers' sockets (nor its own): they would hide the end of those
       * workers' input. */
      close_fds = g_new (int, run->workers->len + 1);
      for (guint i = 0; i < run->workers->len; i++)
        close_fds[n_close++] = g_socket_get_fd (((Worker *) g_ptr_array_index (run->workers, i))->socket);
      close_fds[n_close++] = sv[0];

      pid = self->spawn_func (sv[1], close_fds, n_close, self->spawn_data, &error);
      close (sv[1]);
      close (child_out);
      if (pid <= 0)
        {
          close (sv[0]);
          if (error == NULL)
            g_set_error_literal (&error, AMOR_ERROR, AMOR_ERROR_FAILED,
                                 "the spawn function returned no process id");
          run_fail (run, g_error_new (error->domain, error->code,
                                      "Could not start a worker (spawn function): %s",
                                      error->message));
          return FALSE;
        }
      child = amor_child_new_for_pid (pid);
    }
  else
    {
      GSubprocess *process;

      /* The launcher owns (and, once freed, closes) the child's ends. */
      launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
      g_subprocess_launcher_take_stdin_fd (launcher, sv[1]);
      g_subprocess_launcher_take_stdout_fd (launcher, child_out);
      process = g_subprocess_launcher_spawnv (launcher, (const char * const *) self->argv, &error);
      g_clear_object (&launcher);

      if (process == NULL)
        {
          close (sv[0]);
          run_fail (run, g_error_new (error->domain, error->code,
                                      "Could not start a worker (%s): %s",
                                      self->argv[0], error->message));
          return FALSE;
        }
      child = amor_child_new_for_subprocess (process);
    }

  socket = g_socket_new_from_fd (sv[0], &error);
  if (socket == NULL)
    {
      close (sv[0]);
      amor_child_kill_sync (child);
      amor_child_free (child);
      run_fail (run, g_error_new (error->domain, error->code,
                                  "Could not talk to a worker: %s", error->message));
      return FALSE;
    }

  worker = g_new0 (Worker, 1);
  worker->ref_count = 1;
  worker->id = ++self->next_worker_id;
  worker->child = child;
  worker->pid = amor_child_get_identifier (child);
  worker->socket = g_steal_pointer (&socket);
  worker->stream = G_IO_STREAM (g_socket_connection_factory_create_connection (worker->socket));
  worker->state = WORKER_SPAWNING;
  worker->spawned_ns = start_ns;
  worker->run = run;
  g_queue_init (&worker->inflight);
  g_ptr_array_add (run->workers, worker);

  g_debug ("process pool: started worker %u (pid %s)", worker->id, worker->pid);

  worker->hello_timeout = g_timeout_source_new ((guint) MIN (self->hello_timeout * 1000.0,
                                                             (double) G_MAXUINT));
  g_source_set_callback (worker->hello_timeout, worker_hello_timeout_cb, worker, NULL);
  g_source_set_static_name (worker->hello_timeout, "[amorsize] worker hello timeout");
  g_source_attach (worker->hello_timeout, run->context);

  worker_read (worker);
  return TRUE;
}

/* Scheduling */

/* The j-th point of the golden-ratio sequence that AmorSampler spreads its
 * samples with. */
static double
spread_point (guint64 j)
{
  double x = 0.5 + (double) j * 0.61803398874989484820;

  return x - floor (x);
}

static gboolean
sampled_find (GArray  *sampled,
              guint64  index,
              guint   *position)
{
  guint lo = 0, hi = sampled->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (sampled, guint64, mid) < index)
        lo = mid + 1;
      else
        hi = mid;
    }
  *position = lo;
  return lo < sampled->len && g_array_index (sampled, guint64, lo) == index;
}

/* The next item to sample, spread over the input, never one sampled yet. */
static guint64
run_next_sample_index (Run *run)
{
  guint position;

  for (;;)
    {
      guint64 index;

      if (run->sample_cursor > 4 * run->n_items + 64)
        {
          for (index = 0; index < run->n_items; index++)
            if (!sampled_find (run->sampled, index, &position))
              break;
        }
      else
        {
          index = (guint64) (spread_point (run->sample_cursor++) * (double) run->n_items);
          index = MIN (index, run->n_items - 1);
        }

      if (!sampled_find (run->sampled, index, &position))
        {
          g_array_insert_val (run->sampled, position, index);
          return index;
        }
    }
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

/* Whether @worker takes chunks: started, and not being stopped. */
static gboolean
worker_is_ready (Worker *worker)
{
  return (worker->state == WORKER_IDLE || worker->state == WORKER_BUSY) &&
         worker->kill_reason == NULL && worker->lost == NULL;
}

/* The chunks of the plan (not of samples) that @worker has: how many, and
 * the last one. */
static guint
worker_n_work_chunks (Worker *worker)
{
  guint n = 0;

  for (GList *l = worker->inflight.head; l != NULL; l = l->next)
    n += !((Chunk *) l->data)->sample;
  return n;
}

static Chunk *
worker_work_chunk (Worker *worker)
{
  for (GList *l = worker->inflight.tail; l != NULL; l = l->prev)
    if (!((Chunk *) l->data)->sample)
      return l->data;
  return NULL;
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
static guint
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
 * spawn time as the fork-join cost (0 once every usable CPU has a worker;
 * @alive run already), the round trip of a chunk as the dispatch cost, and
 * @parallel_item_cost per item handed to a worker. */
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
   * not running yet (they start at once), nothing when all are running. */
  fork_join = alive >= n_cpus ? 0.0
            : spawn_cost * (double) (n_cpus - MAX (alive, 1)) / (double) MAX (1, n_cpus - 1);
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
static AmorResult *
run_make_plan (Run *run)
{
  AmorProcessPool *self = run->self;

  if (run->dispatch->len > 0)
    {
      self->dispatch_cost = median (run->dispatch);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPATCH_COST]);
    }
  if (run->serialization_n > 0)
    {
      self->serialization_cost = run->serialization_sum / (double) run->serialization_n;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERIALIZATION_COST]);
    }

  return pool_plan (self, run->sampler, run->n_items, run->n_kept,
                    self->spawn_cost, self->dispatch_cost, 0.0);
}

static gboolean run_help_cb (gpointer user_data);

static void
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

/* Moves run->next past the sampled items at its front (done already), and
 * returns how many items are left to hand out from there. */
static guint64
run_skip_sampled (Run *run)
{
  while (run->skip_pos < run->sampled->len &&
         g_array_index (run->sampled, guint64, run->skip_pos) <= run->next)
    {
      if (g_array_index (run->sampled, guint64, run->skip_pos) == run->next)
        run->next++;
      run->skip_pos++;
    }
  if (run->next >= run->n_items)
    return 0;
  return run->n_items - run->next - (run->sampled->len - run->skip_pos);
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

/* The next chunk of unsampled items, at most @max of them, or NULL when
 * all are handed out. */
static Chunk *
run_take_chunk (Run     *run,
                guint64  max)
{
  Chunk *chunk;
  guint64 size, remaining, unassigned;
  gsize count = 0;

  unassigned = run_skip_sampled (run);

  if (run->next >= run->n_items)
    return NULL;

  remaining = run->n_items - run->next;
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

  chunk = g_new0 (Chunk, 1);
  chunk->indices = g_new (guint64, size);
  while (count < size && run->next < run->n_items)
    {
      if (run->skip_pos < run->sampled->len &&
          g_array_index (run->sampled, guint64, run->skip_pos) == run->next)
        {
          run->skip_pos++;
          run->next++;
          continue;
        }
      chunk->indices[count++] = run->next++;
    }
  chunk->n = count;

  if (count == 0)
    {
      chunk_free (chunk);
      return NULL;
    }
  return chunk;
}

/* The next chunk for a worker: a retry first, else unsampled items. */
static Chunk *
run_next_chunk (Run *run)
{
  Chunk *chunk = g_queue_pop_head (&run->retry);

  return chunk != NULL ? chunk : run_take_chunk (run, G_MAXUINT64);
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
  guint64 left = run->retry.length;

  run_skip_sampled (run);
  if (run->next < run->n_items)
    left += (run->n_items - run->next + run->chunk_size - 1) / run->chunk_size;
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

/* What the items of @chunk are likely to take. */
static double
run_chunk_cost (Run   *run,
                Chunk *chunk)
{
  return (double) chunk->n *
         run_item_cost (run, chunk->indices[0], chunk->indices[chunk->n - 1] + 1);
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
      /* Its first chunk is partly done. */
      held = run_chunk_cost (run, worker->inflight.head->data);
      held -= MIN ((double) (now - worker->front_start_ns) / 1e9, held);
      for (GList *l = worker->inflight.head->next; l != NULL; l = l->next)
        held += run_chunk_cost (run, l->data);
      if (least < 0.0 || held < least)
        least = held;
    }
  return least;
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

  if (held < 0.0 || run_skip_sampled (run) == 0)
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
  guint64 unassigned = run_skip_sampled (run), front_end;
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

static void
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
          chunk = run_next_chunk (run);
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
              chunk = run_take_chunk (run, share);
            }
          else
            chunk = run_next_chunk (run);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERIALIZATION_COST]);
    }

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ELAPSED]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
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

static gboolean
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
  properties[PROP_ARGV] =
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
  properties[PROP_N_WORKERS] =
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
  properties[PROP_N_RUNNING] =
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
  properties[PROP_SYSTEM] =
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
  properties[PROP_SAMPLE_SIZE] =
    g_param_spec_uint ("sample-size", NULL, NULL, 1, G_MAXUINT, DEFAULT_SAMPLE_SIZE, rw);

  /**
   * AmorProcessPool:min-speedup:
   *
   * The least modelled speedup for which a map runs on several workers;
   * at least 1, default 1.2.
   *
   * Since: 0.1
   */
  properties[PROP_MIN_SPEEDUP] =
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
  properties[PROP_TARGET_CHUNK_DURATION] =
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
  properties[PROP_MAX_FRAME_SIZE] =
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
  properties[PROP_HELLO_TIMEOUT] =
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
  properties[PROP_RESULT_TYPE] =
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
  properties[PROP_PLAN] =
    g_param_spec_object ("plan", NULL, NULL, AMOR_TYPE_RESULT, rw);

  /**
   * AmorProcessPool:result:
   *
   * The plan the last map used. %NULL before the first map.
   *
   * Since: 0.1
   */
  properties[PROP_RESULT] =
    g_param_spec_object ("result", NULL, NULL, AMOR_TYPE_RESULT, ro);

  /**
   * AmorProcessPool:spawn-cost:
   *
   * The seconds the last worker started took from its start to its first
   * message (its hello). 0 before any worker started.
   *
   * Since: 0.1
   */
  properties[PROP_SPAWN_COST] =
    g_param_spec_double ("spawn-cost", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorProcessPool:dispatch-cost:
   *
   * The seconds a chunk's round trip to a worker takes beyond the work and
   * the serialisation of its items: writing, waking the worker, reading
   * back. The median over the samples of the last map that sampled.
   *
   * Since: 0.1
   */
  properties[PROP_DISPATCH_COST] =
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
  properties[PROP_SERIALIZATION_COST] =
    g_param_spec_double ("serialization-cost", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  /**
   * AmorProcessPool:elapsed:
   *
   * The wall-clock duration of the last map in seconds, starting the
   * workers and sampling included.
   *
   * Since: 0.1
   */
  properties[PROP_ELAPSED] =
    g_param_spec_double ("elapsed", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
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

/* Running items in the calling thread (amor_process_pool_set_local_func()) */


/* Runs the @n items @indices with the local function, in one call, and
 * keeps their results; when @timed, their durations go to the sampler
 * (the callback's own, when it gives them). FALSE with @error, which
 * names the failing item. */
static gboolean
run_local (Run            *run,
           const guint64  *indices,
           gsize           n,
           gboolean        timed,
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

  t0 = amor_clock_now_ns ();
  answer = self->local_func (items, self->local_data, &local_error);
  t1 = amor_clock_now_ns ();

  results = amor_wire_chunk_answer (answer, n, &durations, &failed, &local_error);
  if (results == NULL)
    {
      g_prefix_error (&local_error, "Item %" G_GUINT64_FORMAT ": ", indices[failed]);
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (durations != NULL)
    ns = g_variant_get_fixed_array (durations, &n_ns, sizeof (gint64));

  kept = amor_map_results_keep (run->results, indices, results, n, &local_error);
  for (gsize i = 0; i < kept; i++)
    {
      double seconds = ns != NULL ? (double) MAX (ns[i], 0) / 1e9
                                  : (double) (t1 - t0) / 1e9 / (double) n;

      run->n_done++;
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
  return TRUE;
}

/* While a worker starts, the calling thread's chunks take about this long:
 * its hello is read between two of them, and its first chunk sent. */
#define LOCAL_SLICE_WHILE_SPAWNING 0.5e-3

/* The calling thread's share of a parallel plan (run->helper, an idle
 * source: the workers' messages, of a higher priority, go first). Its
 * chunks are the workers' size, but last no more than half of what the
 * worker that will be done first holds (run_within_held()): that worker
 * must not run out of chunks while this thread works. A chunk to retry
 * (an item that a worker died on) is never run here. */
static gboolean
run_help_cb (gpointer user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  guint64 size;
  Chunk *chunk;
  gboolean ok;

  if (run->phase != PHASE_RUNNING || g_cancellable_is_cancelled (run->cancellable))
    return G_SOURCE_REMOVE;
  size = MAX (run_chunk_items (run), run_opening_items (run, run_skip_sampled (run)));
  if (run_count_workers (run, WORKER_SPAWNING) > 0)
    {
      double mean = amor_sampler_get_mean (run->sampler);

      if (mean > 0.0)
        size = MIN (size, (guint64) (LOCAL_SLICE_WHILE_SPAWNING / mean) + 1);
    }
  chunk = run_take_chunk (run, run_within_held (run, size));
  if (chunk == NULL)
    return G_SOURCE_REMOVE;

  g_debug ("process pool: the calling thread runs %" G_GSIZE_FORMAT " items from %"
           G_GUINT64_FORMAT, chunk->n, chunk->indices[0]);
  ok = run_local (run, chunk->indices, chunk->n, FALSE, &error);
  chunk_free (chunk);
  if (!ok)
    run_fail (run, g_steal_pointer (&error));
  /* This may end the map, and free @run with this source. */
  run_schedule (run);
  return G_SOURCE_CONTINUE;
}

/* What serialising an item and its result costs, until chunks to workers
 * measure it: the sampled items and their results (repeated up to a chunk
 * of LOCAL_SERIALIZATION_ITEMS, so that what a message costs whatever its
 * size weighs little) go through the messages a worker would exchange —
 * built, serialised and read back — twice, the second timed; each side of
 * the socket pays about that. */

static double
run_local_serialization (Run *run)
{
  g_autoptr(GArray) done = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autofree guint64 *indices = NULL;
  g_autofree GVariant **results_of = NULL;
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
  results_of = g_new (GVariant *, n);
  for (gsize i = 0; i < n; i++)
    indices[i] = g_array_index (done, guint64, i % done->len);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(GVariant) message = NULL;
      g_autoptr(GVariant) typed = NULL;
      g_autoptr(GVariant) results = NULL;
      gint64 t0 = amor_clock_now_ns ();

      message = run_chunk_message (run, 0, indices, n);
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) result = amor_map_results_get (run->results, indices[i]);

          results_of[i] = g_variant_is_of_type (result, G_VARIANT_TYPE_VARIANT)
                          ? g_variant_get_variant (result) : g_variant_ref (result);
        }
      typed = amor_wire_items_array (results_of, n);
      results = g_variant_ref_sink (g_variant_new ("(uv)", 0, typed));
      for (GVariant *v = message; v != NULL; v = v == message ? results : NULL)
        {
          g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (v);
          g_autoptr(GVariant) back = g_variant_new_from_bytes (g_variant_get_type (v), bytes, FALSE);
          g_autoptr(GVariant) boxed_array = g_variant_get_child_value (back, 1);
          g_autoptr(GVariant) array = g_variant_get_variant (boxed_array);

          for (gsize i = 0; i < n; i++)
            g_variant_unref (amor_wire_array_get (array, i));
        }
      elapsed = amor_clock_now_ns () - t0;
      for (gsize i = 0; i < n; i++)
        g_variant_unref (results_of[i]);
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

/* Samples on the calling thread, by the rules of remote sampling, then
 * plans with the costs of processes, the serialisation of an item counted
 * only in the parallel estimates. A serial plan runs here too, in chunks
 * of its base size; a parallel one goes to the workers. */
static void
run_here (Run *run)
{
  g_autoptr(GError) error = NULL;
  guint64 count;
  guint n_ready;

  run->local = TRUE;
  run->sampling_start_ns = amor_clock_now_ns ();
  while ((count = run_sample_count (run)) > 0)
    {
      Chunk *mine;
      gboolean ok;

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
      while (g_main_context_iteration (run->context, FALSE))
        ;
      if (run->phase == PHASE_STOPPING)
        return;

      /* The round is shared with the workers that are ready (kept from
       * an earlier map, or started above): each takes a share, queued
       * behind what it still runs of the last round, and this thread the
       * rest; no one waits for the others between two rounds. */
      n_ready = (guint) MIN ((guint64) run_count_ready (run), count - 1);
      for (guint i = 0, w = 0; i < run->workers->len && w < n_ready; i++)
        {
          Worker *worker = g_ptr_array_index (run->workers, i);
          guint64 share = count / (n_ready + 1 - w);

          if (!worker_is_ready (worker) || worker->inflight.length >= 2)
            continue;
          if (!run_send (run, worker, run_sample_chunk (run, share)))
            return;
          count -= share;
          w++;
        }

      mine = run_sample_chunk (run, count);
      ok = run_local (run, mine->indices, mine->n, TRUE, &error);
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
  /* A serial map runs here, every item not sampled yet: those of the
   * workers' shares must be in first. */
  if (amor_result_get_schedule (run->plan) == AMOR_SCHEDULE_SERIAL &&
      !run_here_wait (run, G_MAXUINT))
    return;
  /* An item a worker died on is retried on a worker, never here. */
  if (amor_result_get_schedule (run->plan) != AMOR_SCHEDULE_SERIAL ||
      run->retry.length > 0)
    {
      run_start_plan (run);
      return;
    }

  /* Serial: no worker could pay for itself. The rest runs here, with
   * nothing serialised; the map can be cancelled between two chunks. */
  run->phase = PHASE_RUNNING;
  run->schedule = AMOR_SCHEDULE_FIXED;
  run->n_workers = 1;
  run->chunk_size = CLAMP (amor_result_get_base_chunk_size (run->plan), 1, run->n_items);
  g_debug ("process pool: %" G_GUINT64_FORMAT " items in the calling process", run->n_items);
  {
    guint64 size = run->chunk_size;
    g_autofree guint64 *batch = g_new (guint64, size);
    guint64 next = 0;

    while (next < run->n_items)
      {
        gsize n = 0;

        for (; next < run->n_items && n < size; next++)
          if (!amor_map_results_has (run->results, next))
            batch[n++] = next;
        if (n == 0)
          break;
        if (g_cancellable_is_cancelled (run->cancellable))
          {
            run->cancelled = TRUE;
            run->phase = PHASE_STOPPING;
            return;
          }
        if (!run_local (run, batch, n, FALSE, &error))
          {
            run_fail (run, g_steal_pointer (&error));
            return;
          }
      }
    /* Nothing is left to hand out. */
    run->next = run->n_items;
  }
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
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYSTEM]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAMPLE_SIZE]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIN_SPEEDUP]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TARGET_CHUNK_DURATION]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_FRAME_SIZE]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HELLO_TIMEOUT]);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT_TYPE]);
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
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAN]);
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
