/* amor-sampler-private.h: where AmorSampler takes its samples
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The next index of @n_items to sample: the next point, from *@cursor on,
 * of the golden-ratio sequence that spreads the samples over the input,
 * that falls on an index not in @sampled (a sorted array of guint64), or
 * the first free index once the sequence has run long. Inserted into
 * @sampled. Only while some index is not sampled yet. The sampler and the
 * process pool (which samples on its workers) take the same items. */
guint64 amor_sampler_take_next_index (GArray  *sampled,
                                      guint64  n_items,
                                      guint64 *cursor);

G_END_DECLS
