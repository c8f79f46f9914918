/* test-map-results.c: AmorMapResults, the results of a process pool's map
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib.h>

#include "amorsize/amor-error.h"
#include "amorsize/amor-map-results-private.h"

#define N 10

/* An "ax" of @n values: @first, @first + 1, ... */
static GVariant *
int64s (gint64 first,
        gsize  n)
{
  g_autofree gint64 *values = g_new (gint64, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    values[i] = first + (gint64) i;
  return g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, values, n,
                                                        sizeof (gint64)));
}

/* An "av" of the @n values of @array, each boxed. */
static GVariant *
boxed (GVariant *array)
{
  gsize n = g_variant_n_children (array);
  g_autofree GVariant **children = g_new (GVariant *, MAX (n, 1));

  /* Floating: the array takes them. */
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (array, i);

      children[i] = g_variant_new_variant (child);
    }
  return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARIANT, children, n));
}

/* Items answered out of order, in chunks of any indices: the array at the
 * end has every result in its item's place. */
static void
check_in_order (const GVariantType *type,
                gboolean            box)
{
  g_autoptr(AmorMapResults) results = amor_map_results_new (type, N);
  /* Item i's result is 100 + i. */
  const guint64 first[] = { 7, 8, 9 };
  const guint64 second[] = { 0, 2, 4, 6 };
  const guint64 third[] = { 1, 3, 5 };
  const guint64 *chunks[] = { first, second, third };
  const gsize sizes[] = { G_N_ELEMENTS (first), G_N_ELEMENTS (second), G_N_ELEMENTS (third) };
  g_autoptr(GVariant) array = NULL;

  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
    {
      g_autoptr(GVariant) values = NULL;
      g_autofree gint64 *answers = g_new (gint64, sizes[c]);
      g_autoptr(GError) error = NULL;

      for (gsize i = 0; i < sizes[c]; i++)
        answers[i] = 100 + (gint64) chunks[c][i];
      values = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, answers,
                                                              sizes[c], sizeof (gint64)));
      if (box)
        {
          GVariant *unboxed = values;

          values = boxed (unboxed);
          g_variant_unref (unboxed);
        }
      g_assert_false (amor_map_results_has (results, chunks[c][0]));
      g_assert_cmpuint (amor_map_results_keep (results, chunks[c], values, sizes[c], &error),
                        ==, sizes[c]);
      g_assert_no_error (error);
      for (gsize i = 0; i < sizes[c]; i++)
        g_assert_true (amor_map_results_has (results, chunks[c][i]));
    }

  {
    g_autoptr(GVariant) one = amor_map_results_get (results, 4);

    if (type == NULL)
      {
        g_autoptr(GVariant) value = g_variant_get_variant (one);

        g_assert_cmpstr (g_variant_get_type_string (one), ==, "v");
        g_assert_cmpint (g_variant_get_int64 (value), ==, 104);
      }
    else
      g_assert_cmpint (g_variant_get_int64 (one), ==, 104);
  }

  array = amor_map_results_end (results);
  g_assert_false (g_variant_is_floating (array));
  g_assert_cmpstr (g_variant_get_type_string (array), ==, type == NULL ? "av" : "ax");
  g_assert_cmpuint (g_variant_n_children (array), ==, N);
  for (gsize i = 0; i < N; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (array, i);
      g_autoptr(GVariant) value = type == NULL ? g_variant_get_variant (child)
                                               : g_variant_ref (child);

      g_assert_cmpint (g_variant_get_int64 (value), ==, 100 + (gint64) i);
    }
  /* Handed out: nothing is left. */
  g_assert_false (amor_map_results_has (results, 0));
}

/* A number type: kept as bytes, from an array of them... */
static void
test_map_results_fixed (void)
{
  check_in_order (G_VARIANT_TYPE_INT64, FALSE);
}

/* ... or from results boxed one by one (a worker with no result type). */
static void
test_map_results_fixed_boxed (void)
{
  check_in_order (G_VARIANT_TYPE_INT64, TRUE);
}

/* No result type: each kept in a "v". */
static void
test_map_results_any (void)
{
  check_in_order (NULL, FALSE);
  check_in_order (NULL, TRUE);
}

/* A type that is not a fixed-size number: a GVariant each. */
static void
test_map_results_strings (void)
{
  g_autoptr(AmorMapResults) results = amor_map_results_new (G_VARIANT_TYPE_STRING, 3);
  const char *words[] = { "b", "c" };
  const char *first[] = { "a" };
  const guint64 front[] = { 0 };
  const guint64 back[] = { 2, 1 };
  g_autoptr(GVariant) one = g_variant_ref_sink (g_variant_new_strv (first, 1));
  g_autoptr(GVariant) two = g_variant_ref_sink (g_variant_new_strv (words, 2));
  g_autoptr(GVariant) array = NULL;
  g_autofree const char **all = NULL;

  g_assert_cmpuint (amor_map_results_keep (results, back, two, 2, NULL), ==, 2);
  g_assert_cmpuint (amor_map_results_keep (results, front, one, 1, NULL), ==, 1);
  array = amor_map_results_end (results);
  g_assert_cmpstr (g_variant_get_type_string (array), ==, "as");
  all = g_variant_get_strv (array, NULL);
  g_assert_cmpstr (all[0], ==, "a");
  g_assert_cmpstr (all[1], ==, "c");
  g_assert_cmpstr (all[2], ==, "b");
}

/* A result of another type than the map's: kept up to it, then an error
 * that says both types. */
static void
test_map_results_wrong_type (void)
{
  g_autoptr(AmorMapResults) results = amor_map_results_new (G_VARIANT_TYPE_INT64, N);
  const guint64 indices[] = { 3, 4, 5 };
  g_autoptr(GVariant) values = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *mixed[3];

  mixed[0] = g_variant_new_variant (g_variant_new_int64 (1));
  mixed[1] = g_variant_new_variant (g_variant_new_string ("two"));
  mixed[2] = g_variant_new_variant (g_variant_new_int64 (3));
  values = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARIANT, mixed, 3));

  g_assert_cmpuint (amor_map_results_keep (results, indices, values, 3, &error), ==, 1);
  g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "'s'"));
  g_assert_nonnull (strstr (error->message, "'x'"));
  g_assert_true (amor_map_results_has (results, 3));
  g_assert_false (amor_map_results_has (results, 4));
  g_assert_false (amor_map_results_has (results, 5));
  g_clear_error (&error);

  /* An array of another number type. */
  {
    const gint32 small[] = { 7, 8 };
    const guint64 more[] = { 6, 7 };
    g_autoptr(GVariant) ints = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_INT32,
                                                                              small, 2,
                                                                              sizeof (gint32)));

    g_assert_cmpuint (amor_map_results_keep (results, more, ints, 2, &error), ==, 0);
    g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
    g_assert_false (amor_map_results_has (results, 6));
  }
}

/* No item: an empty array. */
static void
test_map_results_empty (void)
{
  g_autoptr(AmorMapResults) fixed = amor_map_results_new (G_VARIANT_TYPE_DOUBLE, 0);
  g_autoptr(AmorMapResults) any = amor_map_results_new (NULL, 0);
  g_autoptr(GVariant) a = amor_map_results_end (fixed);
  g_autoptr(GVariant) b = amor_map_results_end (any);

  g_assert_cmpstr (g_variant_get_type_string (a), ==, "ad");
  g_assert_cmpuint (g_variant_n_children (a), ==, 0);
  g_assert_cmpstr (g_variant_get_type_string (b), ==, "av");
  g_assert_cmpuint (g_variant_n_children (b), ==, 0);
}

/* Results kept but never handed out (a map that failed) are freed. */
static void
test_map_results_unfinished (void)
{
  g_autoptr(AmorMapResults) results = amor_map_results_new (NULL, N);
  g_autoptr(GVariant) values = int64s (0, 2);
  const guint64 indices[] = { 1, 8 };

  g_assert_cmpuint (amor_map_results_keep (results, indices, values, 2, NULL), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/map-results/fixed", test_map_results_fixed);
  g_test_add_func ("/map-results/fixed-boxed", test_map_results_fixed_boxed);
  g_test_add_func ("/map-results/any", test_map_results_any);
  g_test_add_func ("/map-results/strings", test_map_results_strings);
  g_test_add_func ("/map-results/wrong-type", test_map_results_wrong_type);
  g_test_add_func ("/map-results/empty", test_map_results_empty);
  g_test_add_func ("/map-results/unfinished", test_map_results_unfinished);

  return g_test_run ();
}
