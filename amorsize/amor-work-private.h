/* amor-work-private.h: calling an AmorWorkFunc
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "amor-types.h"

G_BEGIN_DECLS

/* Calls @func on @index. On failure @error is set and prefixed with the item
 * index; a callback that returned FALSE without an error gets an
 * AMOR_ERROR_WORK_FAILED error that says so. */
gboolean amor_work_call (AmorWorkFunc   func,
                         gpointer       user_data,
                         guint64        index,
                         GError       **error);

G_END_DECLS
