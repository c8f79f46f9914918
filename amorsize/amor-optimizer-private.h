/* amor-optimizer-private.h: planning options that only amorsize sets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "amor-optimizer.h"

G_BEGIN_DECLS

/* A cost per item that only a parallel plan pays, in seconds: a process
 * pool that can run the work in the calling process serialises an item and
 * its result only when it hands the item to a worker. 0 by default. */
void amor_optimizer_set_parallel_item_cost (AmorOptimizer *self,
                                            double         seconds);

/* The plan runs on an executor whose last chunks shrink, halving down to
 * one item (AmorProcessPool's): the imbalance of the tail is about an
 * item's, plus a round trip per halving, rather than a part-filled last
 * round of whole chunks. FALSE by default. */
void amor_optimizer_set_tapered_tail       (AmorOptimizer *self,
                                            gboolean       tapered);

G_END_DECLS
