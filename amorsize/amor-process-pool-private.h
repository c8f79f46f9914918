/* amor-process-pool-private.h: the insides of AmorProcessPool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pool is three files, around the structures below:
 *   amor-process-pool.c    the GObject: its properties, the maps it starts
 *                          and the workers it keeps between them;
 *   amor-process-worker.c  a worker process: its start, the messages to
 *                          and from it, its death;
 *   amor-process-run.c     a map: the samples, the plan, the chunks and
 *                          who runs them, the calling thread's share.
 */

#pragma once

#include <gio/gio.h>

#include "amor-process-pool.h"
#include "amor-child-private.h"
#include "amor-map-results-private.h"
#include "amor-profile-private.h"
#include "amor-wire-reader-private.h"

G_BEGIN_DECLS

#define DEFAULT_SAMPLE_SIZE    5
#define DEFAULT_HELLO_TIMEOUT  30.0
/* How long disposing the pool waits for idle workers to exit after their
 * input ended, before it kills them. */
#define SHUTDOWN_GRACE_MS      5000
/* What a pool with a local function plans with before it has measured
 * its workers: the start of a forked worker (measured at 2 to 3 ms here;
 * an interpreter started from an argv takes 40 to 60 ms, and is measured
 * at its first start), the round trip of a chunk (measured once a
 * parallel map has run: run_finish()), and the serialisation
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

extern GParamSpec *amor_process_pool_pspecs[N_PROPS];

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
  double    estimate;     /* what the profile said its items take, in
                           * seconds, when it was handed out (a plan's
                           * chunk), else 0 */
  gboolean  by_place;     /* ... going by their place in the input
                           * (amor_profile_follows_place()) */
  gsize     filler_from;  /* where items of the filler follow the others
                           * (run_cut()), else 0 */
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
  gsize         room;        /* bytes its socket holds either way unread */
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
  /* Cheap items kept for the end (run_keep_filler()): those of
   * [filler_first, filler_end) not sampled, skipped by next, handed out
   * from filler_next in the last split or once the others are. */
  guint64          filler_first;
  guint64          filler_end;
  guint64          filler_next;
  gsize            filler_skip;  /* the first sampled index >= filler_next */
  GQueue           retry;        /* Chunk: one-item chunks to run again */
  Chunk           *resume;       /* what the calling thread's last chunk
                                  * left at its deadline, or NULL */
  /* The calling thread's part of the last split keeps a deadline: the
   * split was made early, on estimates that err, and what it leaves is
   * split again (run_split_again()), at most LAST_SPLIT_MAX_AGAIN times */
  gboolean         split_open;
  guint            n_splits_again;
  /* How far the plan's chunks took from what was estimated for them
   * (run_check_estimate()) */
  double           chunk_error;
  guint            n_chunks_checked;
  /* What the plan's chunks took besides their items: in the workers, as
   * they report it (from when they were free for a chunk to its answer);
   * in the calling thread, the call of the local function. */
  double           worker_overhead_sum;
  guint            worker_overhead_n;
  double           local_overhead_sum;
  guint            local_overhead_n;
};

/* amor-process-worker.c: a worker and the messages it is sent */
Worker     *worker_ref           (Worker        *worker);
void        worker_unref         (Worker        *worker);
gboolean    worker_is_ready      (Worker        *worker);
guint       worker_n_work_chunks (Worker        *worker);
guint64     worker_n_items_held  (Worker        *worker);
Chunk      *worker_work_chunk    (Worker        *worker);
void        worker_kill          (Worker        *worker,
                                  const char    *reason);
void        chunk_free           (Chunk         *chunk);
gboolean    run_spawn            (Run           *run);
gboolean    run_send             (Run           *run,
                                  Worker        *worker,
                                  Chunk         *chunk);
GVariant   *run_items_slice      (Run           *run,
                                  const guint64 *indices,
                                  gsize          n);
GVariant   *run_chunk_message    (Run           *run,
                                  guint32        id,
                                  const guint64 *indices,
                                  gsize          n);

/* amor-process-run.c: a map */
void        run_schedule         (Run           *run);
void        run_check_estimate   (Run           *run,
                                  Chunk         *chunk,
                                  double         seconds);
void        run_fail             (Run           *run,
                                  GError        *error);
guint       run_wanted_workers   (Run           *run);
AmorResult *run_make_plan        (Run           *run);
void        run_start_plan       (Run           *run);
void        run_here             (Run           *run);
gboolean    run_cancelled_cb     (GCancellable  *cancellable,
                                  gpointer       user_data);

G_END_DECLS
