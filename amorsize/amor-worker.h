/* amor-worker.h: the worker side of a process pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AMORSIZE_INSIDE) && !defined(AMORSIZE_COMPILATION)
#error "Only <amorsize/amorsize.h> can be included directly."
#endif

#include <glib.h>
#include <amorsize/amor-version-macros.h>

G_BEGIN_DECLS

/**
 * AmorWorkerFunc:
 * @item: the item to process
 * @user_data: the data passed along with the callback
 * @error: return location for a #GError
 *
 * The work of one item in a worker process of an [class@Amor.ProcessPool]:
 * maps @item to its result.
 *
 * On failure the callback returns %NULL and sets @error; the pool's map then
 * fails with that error, its message prefixed with the item's index. A
 * callback that returns %NULL without setting @error fails too, with
 * %AMOR_ERROR_WORK_FAILED: this is how a Python exception (which PyGObject
 * prints but does not turn into a #GError) reaches the pool. A JavaScript
 * exception thrown by a GJS callback arrives with its message, as
 * %AMOR_ERROR_WORK_FAILED too; a `GLib.Error` thrown keeps its domain and
 * code.
 *
 * A floating result is sunk.
 *
 * Returns: (transfer full) (nullable): the result of @item, or %NULL with
 *   @error set
 *
 * Since: 0.1
 */
typedef GVariant *(*AmorWorkerFunc) (GVariant  *item,
                                     gpointer   user_data,
                                     GError   **error);

/**
 * AmorWorkerChunkFunc:
 * @items: the items of a chunk: an array of their type when they all have
 *   the same (`ad`, `a(si)`…), else an `av`
 * @user_data: the data passed along with the callback
 * @error: return location for a #GError
 *
 * The work of a chunk of items in a worker process of an
 * [class@Amor.ProcessPool] (see [func@Amor.worker_serve_chunks]): maps
 * every item of @items, in order, to its result.
 *
 * The results are an array of any type (`ax`, `av`, `a(sd)`…) with one
 * result per item. When item k fails, return the results of the items
 * before it — an array of k results — with @error set (or not: a Python
 * exception cannot set it); the pool's map then fails with that error,
 * its message prefixed with the item's index. %NULL fails the map on the
 * chunk's first item. A floating result is sunk.
 *
 * The pool times the chunk as a whole and counts each item as an equal
 * share of it, unless the callback times its items itself: it then returns
 * a pair `(results, durations)`, the durations an `ax` of nanoseconds, one
 * per item. (The Python override's value workers do.)
 *
 * Returns: (transfer full) (nullable): the results, or fewer of them and
 *   @error set, or a pair of the results and their durations
 *
 * Since: 0.1
 */
typedef GVariant *(*AmorWorkerChunkFunc) (GVariant  *items,
                                          gpointer   user_data,
                                          GError   **error);

AMOR_AVAILABLE_IN_ALL
double   amor_worker_get_time_left (void);

AMOR_AVAILABLE_IN_ALL
gboolean amor_worker_serve        (AmorWorkerFunc        func,
                                   gpointer              user_data,
                                   GError              **error);
AMOR_AVAILABLE_IN_ALL
gboolean amor_worker_serve_chunks (AmorWorkerChunkFunc   func,
                                   gpointer              user_data,
                                   GError              **error);

G_END_DECLS
