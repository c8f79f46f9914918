/* amor-map-results-private.h: the results of a process pool's map, by item
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The results of a map's items, kept by index as the chunks are answered,
 * in any order, then handed out as one array in the order of the items.
 * Results of a fixed-size number type ("x", "d", ...) are kept as their
 * bytes, side by side, and an array of them is copied in one pass: a
 * GVariant per result would cost a few hundred nanoseconds each, which
 * items of microseconds notice. */
typedef struct _AmorMapResults AmorMapResults;

/* @type: the type every result must have, or NULL for any type (the
 * results are then kept boxed in a "v"). */
AmorMapResults *amor_map_results_new  (const GVariantType *type,
                                       guint64             n_items);
void            amor_map_results_free (AmorMapResults     *results);
gboolean        amor_map_results_has  (AmorMapResults     *results,
                                       guint64             index);
/* Keeps the @n results in @array (an array of them, or an "av" of them
 * boxed) as those of the items @indices, none of which has one yet.
 * Returns how many were kept: @n, or the position of the first result of
 * another type than the map's, with @error set. */
gsize           amor_map_results_keep (AmorMapResults     *results,
                                       const guint64      *indices,
                                       GVariant           *array,
                                       gsize               n,
                                       GError            **error);
/* The result of item @index, which has one: of the map's type, or boxed
 * in a "v". Returns a new reference. */
GVariant       *amor_map_results_get  (AmorMapResults     *results,
                                       guint64             index);
/* Every item's result, as an array of the map's type (or an "av"), once
 * all are in. Returns a new, non-floating reference; @results is left
 * empty. */
GVariant       *amor_map_results_end  (AmorMapResults     *results);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AmorMapResults, amor_map_results_free)

G_END_DECLS
