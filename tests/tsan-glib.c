/* tsan-glib.c: tells ThreadSanitizer about GLib's synchronisation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ThreadSanitizer sees the happens-before edges of the code it instruments
 * and of the libc functions it intercepts. The GLib of a distribution is
 * not instrumented, and on Linux its GMutex, GCond and GAsyncQueue are
 * built on raw futexes, which ThreadSanitizer cannot see: every handover
 * through a GThreadPool, a mutex or a main context looks like a data race.
 *
 * Preloaded (LD_PRELOAD) into the test programs of a -Db_sanitize=thread
 * build, this library wraps the GLib calls that amorsize, GIO and the
 * tests make across library boundaries, calls the real function, and
 * reports the edge with __tsan_acquire() / __tsan_release():
 *
 * - unlocking a mutex releases it, locking it acquires it (GMutex,
 *   GRecMutex, GRWLock; g_cond_wait() releases and re-acquires);
 * - g_once_init_leave() releases the location, and g_once_init_enter()
 *   acquires it (the inline fast path is an instrumented atomic load);
 * - g_thread_pool_push() releases the pushed data, and the pool's thread
 *   function acquires it before it runs;
 * - g_source_attach() releases the source, and the callback of an idle or
 *   timeout source acquires it before it runs.
 *
 * Nothing else changes: amorsize's own atomics and accesses stay fully
 * checked. Calls that GLib makes to itself are not seen (they do not go
 * through the PLT); the edges above are the ones that matter here.
 */

#include <dlfcn.h>
#include <stdlib.h>

#include <glib.h>
#include <glib-object.h>

#undef g_once_init_enter
#undef g_once_init_leave

void __tsan_acquire (void *addr);
void __tsan_release (void *addr);

#define REAL(name) \
  static __typeof__ (name) *real_##name; \
  if (G_UNLIKELY (__atomic_load_n (&real_##name, __ATOMIC_RELAXED) == NULL)) \
    __atomic_store_n (&real_##name, (__typeof__ (name) *) dlsym (RTLD_NEXT, #name), \
                      __ATOMIC_RELAXED); \
  if (real_##name == NULL) \
    abort ();

/* Mutexes */

void
g_mutex_lock (GMutex *mutex)
{
  REAL (g_mutex_lock);
  real_g_mutex_lock (mutex);
  __tsan_acquire (mutex);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  gboolean locked;

  REAL (g_mutex_trylock);
  locked = real_g_mutex_trylock (mutex);
  if (locked)
    __tsan_acquire (mutex);
  return locked;
}

void
g_mutex_unlock (GMutex *mutex)
{
  REAL (g_mutex_unlock);
  __tsan_release (mutex);
  real_g_mutex_unlock (mutex);
}

void
g_rec_mutex_lock (GRecMutex *mutex)
{
  REAL (g_rec_mutex_lock);
  real_g_rec_mutex_lock (mutex);
  __tsan_acquire (mutex);
}

gboolean
g_rec_mutex_trylock (GRecMutex *mutex)
{
  gboolean locked;

  REAL (g_rec_mutex_trylock);
  locked = real_g_rec_mutex_trylock (mutex);
  if (locked)
    __tsan_acquire (mutex);
  return locked;
}

void
g_rec_mutex_unlock (GRecMutex *mutex)
{
  REAL (g_rec_mutex_unlock);
  __tsan_release (mutex);
  real_g_rec_mutex_unlock (mutex);
}

void
g_rw_lock_writer_lock (GRWLock *lock)
{
  REAL (g_rw_lock_writer_lock);
  real_g_rw_lock_writer_lock (lock);
  __tsan_acquire (lock);
}

void
g_rw_lock_writer_unlock (GRWLock *lock)
{
  REAL (g_rw_lock_writer_unlock);
  __tsan_release (lock);
  real_g_rw_lock_writer_unlock (lock);
}

void
g_rw_lock_reader_lock (GRWLock *lock)
{
  REAL (g_rw_lock_reader_lock);
  real_g_rw_lock_reader_lock (lock);
  __tsan_acquire (lock);
}

void
g_rw_lock_reader_unlock (GRWLock *lock)
{
  REAL (g_rw_lock_reader_unlock);
  __tsan_release (lock);
  real_g_rw_lock_reader_unlock (lock);
}

void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  REAL (g_cond_wait);
  __tsan_release (mutex);
  real_g_cond_wait (cond, mutex);
  __tsan_acquire (mutex);
}

gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;

  REAL (g_cond_wait_until);
  __tsan_release (mutex);
  signalled = real_g_cond_wait_until (cond, mutex, end_time);
  __tsan_acquire (mutex);
  return signalled;
}

/* One-time initialisation */

gboolean
g_once_init_enter (volatile void *location)
{
  gboolean enter;

  REAL (g_once_init_enter);
  enter = real_g_once_init_enter (location);
  if (!enter)
    __tsan_acquire ((void *) location);
  return enter;
}

void
g_once_init_leave (volatile void *location,
                   gsize          result)
{
  REAL (g_once_init_leave);
  __tsan_release ((void *) location);
  real_g_once_init_leave (location, result);
}

/* Thread pools: the pushed data carries the edge to the thread that takes
 * it. */

typedef struct
{
  GFunc    func;
  gpointer user_data;
} PoolFunc;

static void
pool_func_trampoline (gpointer data,
                      gpointer user_data)
{
  PoolFunc *pf = user_data;

  __tsan_acquire (data);
  pf->func (data, pf->user_data);
}

/* Lives as long as the pool; pools are few and long-lived, and this build
 * checks races, not leaks. */
static PoolFunc *
pool_func_new (GFunc    func,
               gpointer user_data)
{
  PoolFunc *pf = g_new (PoolFunc, 1);

  pf->func = func;
  pf->user_data = user_data;
  return pf;
}

GThreadPool *
g_thread_pool_new (GFunc     func,
                   gpointer  user_data,
                   gint      max_threads,
                   gboolean  exclusive,
                   GError  **error)
{
  REAL (g_thread_pool_new);
  return real_g_thread_pool_new (pool_func_trampoline, pool_func_new (func, user_data),
                                 max_threads, exclusive, error);
}

GThreadPool *
g_thread_pool_new_full (GFunc           func,
                        gpointer        user_data,
                        GDestroyNotify  item_free_func,
                        gint            max_threads,
                        gboolean        exclusive,
                        GError        **error)
{
  REAL (g_thread_pool_new_full);
  return real_g_thread_pool_new_full (pool_func_trampoline, pool_func_new (func, user_data),
                                      item_free_func, max_threads, exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool  *pool,
                    gpointer      data,
                    GError      **error)
{
  REAL (g_thread_pool_push);
  __tsan_release (data);
  return real_g_thread_pool_push (pool, data, error);
}

/* Objects: GObject's reference count is an atomic that GLib does not show
 * ThreadSanitizer. Every unref publishes what its thread wrote; the thread
 * about to drop the last reference (the count is 1) takes all of it before
 * dispose and finalize run there — as when a GTask's worker thread drops
 * the last reference to the executor that started it. */

void
g_object_unref (gpointer object)
{
  REAL (g_object_unref);
  if (object != NULL)
    {
      __tsan_release (object);
      if (g_atomic_int_get (&((GObject *) object)->ref_count) == 1)
        __tsan_acquire (object);
    }
  real_g_object_unref (object);
}

/* Main contexts: attaching a source publishes what was written before; its
 * callback, on the context's thread, sees it. Only idle and timeout
 * sources are wrapped: their callbacks are plain GSourceFuncs. */

typedef struct
{
  GSource        *source;
  GSourceFunc     func;
  gpointer        data;
  GDestroyNotify  notify;
} SourceFunc;

static gboolean
source_func_trampoline (gpointer user_data)
{
  SourceFunc *sf = user_data;

  __tsan_acquire (sf->source);
  return sf->func (sf->data);
}

static void
source_func_free (gpointer user_data)
{
  SourceFunc *sf = user_data;

  if (sf->notify != NULL)
    sf->notify (sf->data);
  g_free (sf);
}

void
g_source_set_callback (GSource        *source,
                       GSourceFunc     func,
                       gpointer        data,
                       GDestroyNotify  notify)
{
  REAL (g_source_set_callback);

  if (func != NULL &&
      (source->source_funcs == &g_idle_funcs || source->source_funcs == &g_timeout_funcs))
    {
      SourceFunc *sf = g_new (SourceFunc, 1);

      sf->source = source;
      sf->func = func;
      sf->data = data;
      sf->notify = notify;
      real_g_source_set_callback (source, source_func_trampoline, sf, source_func_free);
      return;
    }

  real_g_source_set_callback (source, func, data, notify);
}

guint
g_source_attach (GSource      *source,
                 GMainContext *context)
{
  REAL (g_source_attach);
  __tsan_release (source);
  return real_g_source_attach (source, context);
}
