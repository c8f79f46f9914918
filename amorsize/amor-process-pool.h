/* amor-process-pool.h: run a map on worker processes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AMORSIZE_INSIDE) && !defined(AMORSIZE_COMPILATION)
#error "Only <amorsize/amorsize.h> can be included directly."
#endif

#include <gio/gio.h>
#include <amorsize/amor-version-macros.h>
#include <amorsize/amor-system.h>
#include <amorsize/amor-result.h>
#include <amorsize/amor-worker.h>

G_BEGIN_DECLS

/**
 * AMOR_DEFAULT_PROCESS_CHUNK_DURATION:
 *
 * The default of [property@Amor.ProcessPool:target-chunk-duration], in
 * seconds: 100 times the 1 ms of threads, because a chunk costs a round trip
 * between processes and a wake-up of the calling process rather than an
 * atomic add.
 *
 * Since: 0.1
 */
#define AMOR_DEFAULT_PROCESS_CHUNK_DURATION 0.1

/**
 * AMOR_DEFAULT_MAX_FRAME_SIZE:
 *
 * The default of [property@Amor.ProcessPool:max-frame-size], in bytes
 * (64 MiB).
 *
 * Since: 0.1
 */
#define AMOR_DEFAULT_MAX_FRAME_SIZE (64u << 20)

/**
 * AmorSpawnFunc:
 * @fd: the worker's end of its socket, to become its standard input and
 *   output
 * @close_fds: (array length=n_close_fds): descriptors of the pool that the
 *   new process must close (the pool's ends of the workers' sockets)
 * @n_close_fds: the length of @close_fds
 * @user_data: the data passed along with the function
 * @error: return location for a #GError
 *
 * Starts one worker process of an [class@Amor.ProcessPool] created with
 * [ctor@Amor.ProcessPool.new_with_spawn_func], in place of a program
 * started from an `argv`. The new process must be a child of the calling
 * process (the pool reaps it). It makes @fd its standard input and output,
 * closes @close_fds, and calls [func@Amor.worker_serve].
 *
 * The usual way is a fork of the calling process: then the worker starts in
 * a millisecond or two instead of the tens of milliseconds an interpreter
 * takes to start and load its modules, and the work function need not live
 * in a program of its own. The Python override builds one
 * (`Amor.ProcessPool.new_forked()`). A fork copies only the calling
 * thread: see the caveats in [class@Amor.ProcessPool].
 *
 * The pool closes its own copy of @fd when the function returns.
 *
 * Returns: the process id of the new worker, or 0 with @error set
 *
 * Since: 0.1
 */
typedef GPid (*AmorSpawnFunc) (int           fd,
                               const int    *close_fds,
                               guint         n_close_fds,
                               gpointer      user_data,
                               GError      **error);

#define AMOR_TYPE_PROCESS_POOL (amor_process_pool_get_type ())

AMOR_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AmorProcessPool, amor_process_pool, AMOR, PROCESS_POOL, GObject)

AMOR_AVAILABLE_IN_ALL
AmorProcessPool     *amor_process_pool_new                       (const char * const  *argv,
                                                                  guint                n_workers);
AMOR_AVAILABLE_IN_ALL
AmorProcessPool     *amor_process_pool_new_with_spawn_func       (guint                n_workers,
                                                                  AmorSpawnFunc        spawn_func,
                                                                  gpointer             user_data,
                                                                  GDestroyNotify       notify);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_local_func            (AmorProcessPool     *self,
                                                                  AmorWorkerChunkFunc  func,
                                                                  gpointer             user_data,
                                                                  GDestroyNotify       notify);
AMOR_AVAILABLE_IN_ALL
GVariant            *amor_process_pool_map                       (AmorProcessPool     *self,
                                                                  GVariant            *items,
                                                                  GCancellable        *cancellable,
                                                                  GError             **error);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_map_async                 (AmorProcessPool     *self,
                                                                  GVariant            *items,
                                                                  GCancellable        *cancellable,
                                                                  GAsyncReadyCallback  callback,
                                                                  gpointer             user_data);
AMOR_AVAILABLE_IN_ALL
GVariant            *amor_process_pool_map_finish                (AmorProcessPool     *self,
                                                                  GAsyncResult        *result,
                                                                  GError             **error);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_shutdown                  (AmorProcessPool     *self);

AMOR_AVAILABLE_IN_ALL
const char * const  *amor_process_pool_get_argv                  (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
guint                amor_process_pool_get_n_workers             (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
guint                amor_process_pool_get_n_running             (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
AmorSystem          *amor_process_pool_get_system                (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_system                (AmorProcessPool     *self,
                                                                  AmorSystem          *system);
AMOR_AVAILABLE_IN_ALL
guint                amor_process_pool_get_sample_size           (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_sample_size           (AmorProcessPool     *self,
                                                                  guint                sample_size);
AMOR_AVAILABLE_IN_ALL
double               amor_process_pool_get_min_speedup           (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_min_speedup           (AmorProcessPool     *self,
                                                                  double               min_speedup);
AMOR_AVAILABLE_IN_ALL
double               amor_process_pool_get_target_chunk_duration (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_target_chunk_duration (AmorProcessPool     *self,
                                                                  double               seconds);
AMOR_AVAILABLE_IN_ALL
guint                amor_process_pool_get_max_frame_size        (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_max_frame_size        (AmorProcessPool     *self,
                                                                  guint                bytes);
AMOR_AVAILABLE_IN_ALL
double               amor_process_pool_get_hello_timeout         (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_hello_timeout         (AmorProcessPool     *self,
                                                                  double               seconds);
AMOR_AVAILABLE_IN_ALL
const GVariantType  *amor_process_pool_get_result_type           (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_result_type           (AmorProcessPool     *self,
                                                                  const GVariantType  *result_type);
AMOR_AVAILABLE_IN_ALL
AmorResult          *amor_process_pool_get_plan                  (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
void                 amor_process_pool_set_plan                  (AmorProcessPool     *self,
                                                                  AmorResult          *plan);
AMOR_AVAILABLE_IN_ALL
AmorResult          *amor_process_pool_get_result                (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
double               amor_process_pool_get_spawn_cost            (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
double               amor_process_pool_get_dispatch_cost         (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
double               amor_process_pool_get_serialization_cost    (AmorProcessPool     *self);
AMOR_AVAILABLE_IN_ALL
double               amor_process_pool_get_elapsed               (AmorProcessPool     *self);

G_END_DECLS
