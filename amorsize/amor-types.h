/* amor-types.h: shared types
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AMORSIZE_INSIDE) && !defined(AMORSIZE_COMPILATION)
#error "Only <amorsize/amorsize.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * AmorWorkFunc:
 * @index: the index of the item to process, in `[0, n_items)`
 * @user_data: the data passed along with the callback
 * @error: return location for a #GError
 *
 * The work of one item of a map: process the item at @index.
 *
 * The callback returns %TRUE when the item is done. On failure it returns
 * %FALSE and sets @error. A callback that returns %FALSE without setting
 * @error is treated as a failure too, reported as %AMOR_ERROR_WORK_FAILED:
 * this is how a Python exception (which PyGObject prints but does not turn
 * into a #GError) and a JavaScript callback that GJS refused to run on a
 * worker thread reach the caller.
 *
 * The callback may be called on the calling thread (while sampling) and on
 * worker threads (while executing); it must be safe to call concurrently for
 * different indices.
 *
 * Returns: %TRUE if the item was processed, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
typedef gboolean (*AmorWorkFunc) (guint64   index,
                                  gpointer  user_data,
                                  GError  **error);

G_END_DECLS
