/* amor-examples.h: a work function in C for the JavaScript examples and tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <amorsize/amorsize.h>

G_BEGIN_DECLS

void   amor_examples_run_checksum_async  (AmorExecutor        *executor,
                                          guint64              n_items,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
char  *amor_examples_run_checksum_finish (GAsyncResult        *result,
                                          GError             **error);
char  *amor_examples_checksum_expected   (guint64              n_items);
gsize  amor_examples_get_block_size      (void);

G_END_DECLS
