/* amor-executor.h: run a map with a plan on worker threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AMORSIZE_INSIDE) && !defined(AMORSIZE_COMPILATION)
#error "Only <amorsize/amorsize.h> can be included directly."
#endif

#include <gio/gio.h>
#include <amorsize/amor-version-macros.h>
#include <amorsize/amor-types.h>
#include <amorsize/amor-optimizer.h>
#include <amorsize/amor-result.h>

G_BEGIN_DECLS

#define AMOR_TYPE_EXECUTOR (amor_executor_get_type ())

AMOR_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (AmorExecutor, amor_executor, AMOR, EXECUTOR, GObject)

AMOR_AVAILABLE_IN_ALL
AmorExecutor  *amor_executor_new                  (AmorOptimizer        *optimizer);
AMOR_AVAILABLE_IN_ALL
gboolean       amor_executor_run                  (AmorExecutor         *self,
                                                   guint64               n_items,
                                                   AmorWorkFunc          func,
                                                   gpointer              user_data,
                                                   GCancellable         *cancellable,
                                                   GError              **error);
AMOR_AVAILABLE_IN_ALL
gboolean       amor_executor_run_with_plan        (AmorExecutor         *self,
                                                   AmorResult           *plan,
                                                   guint64               n_items,
                                                   AmorWorkFunc          func,
                                                   gpointer              user_data,
                                                   GCancellable         *cancellable,
                                                   GError              **error);
AMOR_AVAILABLE_IN_ALL
void           amor_executor_run_async            (AmorExecutor         *self,
                                                   guint64               n_items,
                                                   AmorWorkFunc          func,
                                                   gpointer              user_data,
                                                   GDestroyNotify        user_data_destroy,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              callback_data);
AMOR_AVAILABLE_IN_ALL
gboolean       amor_executor_run_finish           (AmorExecutor         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
AMOR_AVAILABLE_IN_ALL
AmorOptimizer *amor_executor_get_optimizer        (AmorExecutor         *self);
AMOR_AVAILABLE_IN_ALL
AmorResult    *amor_executor_get_result           (AmorExecutor         *self);
AMOR_AVAILABLE_IN_ALL
guint64        amor_executor_get_completed        (AmorExecutor         *self);
AMOR_AVAILABLE_IN_ALL
guint64        amor_executor_get_n_items          (AmorExecutor         *self);
AMOR_AVAILABLE_IN_ALL
double         amor_executor_get_elapsed          (AmorExecutor         *self);
AMOR_AVAILABLE_IN_ALL
double         amor_executor_get_measured_speedup (AmorExecutor         *self);

G_END_DECLS
