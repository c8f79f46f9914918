/* amor-map-results.c: the results of a process pool's map, by item
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "amor-error.h"
#include "amor-map-results-private.h"
#include "amor-wire-private.h"

struct _AmorMapResults
{
  GVariantType *type;     /* NULL: any type, boxed */
  guint64       n_items;
  /* Results of a fixed-size number type: their bytes, and which are in. */
  gsize         size;
  guint8       *bytes;
  guint8       *have;
  /* Any other results: a GVariant each (NULL while missing). */
  GVariant    **values;
};

AmorMapResults *
amor_map_results_new (const GVariantType *type,
                      guint64             n_items)
{
  AmorMapResults *results = g_new0 (AmorMapResults, 1);

  results->n_items = n_items;
  if (type != NULL)
    {
      results->type = g_variant_type_copy (type);
      results->size = amor_wire_fixed_size (type);
    }
  if (results->size > 0)
    {
      results->bytes = g_malloc (MAX (n_items, 1) * results->size);
      results->have = g_malloc0 (MAX (n_items, 1));
    }
  else
    results->values = g_new0 (GVariant *, MAX (n_items, 1));
  return results;
}

void
amor_map_results_free (AmorMapResults *results)
{
  if (results == NULL)
    return;
  if (results->values != NULL)
    for (guint64 i = 0; i < results->n_items; i++)
      g_clear_pointer (&results->values[i], g_variant_unref);
  g_free (results->values);
  g_free (results->bytes);
  g_free (results->have);
  g_clear_pointer (&results->type, g_variant_type_free);
  g_free (results);
}

gboolean
amor_map_results_has (AmorMapResults *results,
                      guint64         index)
{
  g_return_val_if_fail (index < results->n_items, FALSE);

  return results->size > 0 ? results->have[index] != 0 : results->values[index] != NULL;
}

/* Result @i of @array, unboxed when @boxed, checked against the map's
 * type: a new reference, or NULL with @error. */
static GVariant *
results_typed_child (AmorMapResults  *results,
                     GVariant        *array,
                     gsize            i,
                     gboolean         boxed,
                     GError         **error)
{
  g_autoptr(GVariant) child = g_variant_get_child_value (array, i);
  g_autoptr(GVariant) value = boxed ? g_variant_get_variant (child) : g_steal_pointer (&child);

  if (!g_variant_is_of_type (value, results->type))
    {
      g_autofree char *want = g_variant_type_dup_string (results->type);

      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "the result is of type '%s', not the pool's result type '%s'",
                   g_variant_get_type_string (value), want);
      return NULL;
    }
  return g_steal_pointer (&value);
}

gsize
amor_map_results_keep (AmorMapResults  *results,
                       const guint64   *indices,
                       GVariant        *array,
                       gsize            n,
                       GError         **error)
{
  gboolean boxed = g_variant_is_of_type (array, G_VARIANT_TYPE ("av"));

  g_return_val_if_fail (g_variant_is_of_type (array, G_VARIANT_TYPE_ARRAY), 0);
  g_return_val_if_fail (g_variant_n_children (array) == n, 0);

  g_return_val_if_fail (results->bytes != NULL || results->values != NULL, 0);
  for (gsize i = 0; i < n; i++)
    g_assert (indices[i] < results->n_items && !amor_map_results_has (results, indices[i]));

  if (results->type == NULL)
    {
      /* Any type: each kept in a "v". */
      for (gsize i = 0; i < n; i++)
        {
          GVariant *child = g_variant_get_child_value (array, i);

          results->values[indices[i]] = boxed ? child
                                              : g_variant_ref_sink (g_variant_new_variant (child));
          if (!boxed)
            g_variant_unref (child);
        }
      return n;
    }

  if (results->size > 0 && g_variant_type_equal (g_variant_type_element (g_variant_get_type (array)),
                                                 results->type))
    {
      /* An array of the map's number type: its bytes, copied. */
      gsize n_elements = 0;
      const guint8 *from = g_variant_get_fixed_array (array, &n_elements, results->size);

      for (gsize i = 0; i < n; i++)
        {
          memcpy (results->bytes + indices[i] * results->size, from + i * results->size,
                  results->size);
          results->have[indices[i]] = 1;
        }
      return n;
    }

  for (gsize i = 0; i < n; i++)
    {
      GVariant *value = results_typed_child (results, array, i, boxed, error);

      if (value == NULL)
        return i;
      if (results->size > 0)
        {
          g_variant_store (value, results->bytes + indices[i] * results->size);
          results->have[indices[i]] = 1;
          g_variant_unref (value);
        }
      else
        results->values[indices[i]] = value;
    }
  return n;
}

GVariant *
amor_map_results_get (AmorMapResults *results,
                      guint64         index)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (amor_map_results_has (results, index), NULL);

  if (results->size == 0)
    return g_variant_ref (results->values[index]);
  bytes = g_bytes_new (results->bytes + index * results->size, results->size);
  return g_variant_ref_sink (g_variant_new_from_bytes (results->type, bytes, TRUE));
}

GVariant *
amor_map_results_end (AmorMapResults *results)
{
  GVariant *array;

  for (guint64 i = 0; i < results->n_items; i++)
    g_return_val_if_fail (amor_map_results_has (results, i), NULL);

  if (results->size > 0)
    {
      g_autoptr(GVariantType) array_type = g_variant_type_new_array (results->type);
      gsize length = results->n_items * results->size;

      /* The bytes become the array's: no copy. */
      array = g_variant_new_from_data (array_type, results->bytes, length, TRUE,
                                       g_free, results->bytes);
      results->bytes = NULL;
      memset (results->have, 0, MAX (results->n_items, 1));
    }
  else
    {
      array = g_variant_new_array (results->type != NULL ? results->type : G_VARIANT_TYPE_VARIANT,
                                   results->values, results->n_items);
      for (guint64 i = 0; i < results->n_items; i++)
        g_clear_pointer (&results->values[i], g_variant_unref);
    }
  return g_variant_ref_sink (array);
}
