/* fuzz-result-json.c: libFuzzer target for amor_result_new_from_json()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Any text either fails with an AMOR_ERROR that says why, or gives a plan
 * that holds what the reader promises (runnable: at least one worker, a
 * chunk of at least one item), writes itself back to JSON that reads back
 * the same, explains itself, and runs a small map with
 * amor_executor_run_with_plan() processing every item exactly once.
 */

#include <stdint.h>
#include <string.h>

#include <amorsize/amorsize.h>

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

#define MAX_ITEMS 64

static gboolean
count_item (guint64   index,
            gpointer  user_data,
            GError  **error)
{
  gint *calls = user_data;

  g_assert_cmpuint (index, <, MAX_ITEMS);
  g_atomic_int_inc (&calls[index]);
  return TRUE;
}

static void
check_plan (AmorResult *result,
            guint64     n_items)
{
  static AmorExecutor *executor;
  gint calls[MAX_ITEMS] = { 0 };
  g_autoptr(GError) error = NULL;

  if (executor == NULL)
    executor = amor_executor_new (NULL);

  g_assert_true (amor_executor_run_with_plan (executor, result, n_items, count_item, calls,
                                              NULL, &error));
  g_assert_no_error (error);
  for (guint64 i = 0; i < n_items; i++)
    g_assert_cmpint (calls[i], ==, 1);
  g_assert_cmpuint (amor_executor_get_completed (executor), ==, n_items);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmorResult) result = NULL;
  g_autoptr(AmorResult) again = NULL;
  g_autofree char *json = NULL;
  g_autofree char *json_again = NULL;
  g_autofree char *explain = NULL;
  const char * const *strv;

  result = amor_result_new_from_json (text, &error);
  if (result == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == AMOR_ERROR);
      g_assert_true (error->code == AMOR_ERROR_PARSE ||
                     error->code == AMOR_ERROR_INVALID_DATA ||
                     error->code == AMOR_ERROR_UNSUPPORTED_VERSION);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_assert_cmpuint (strlen (error->message), >, 0);
      return 0;
    }
  g_assert_no_error (error);

  /* What the reader promises. */
  g_assert_cmpuint (amor_result_get_n_workers (result), >=, 1);
  if (amor_result_get_n_items (result) > 0)
    g_assert_cmpuint (amor_result_get_chunk_size (result), >=, 1);
  g_assert_true (amor_result_get_schedule (result) != AMOR_SCHEDULE_SERIAL ||
                 amor_result_get_n_workers (result) == 1);
  g_assert_cmpfloat (amor_result_get_chunk_factor (result), >, 0.0);
  g_assert_cmpfloat (amor_result_get_chunk_factor (result), <=, 1.0);
  g_assert_true (amor_result_get_is_heterogeneous (result) == (amor_result_get_cv (result) > 0.5));
  g_assert_nonnull (amor_result_get_reason (result));
  strv = amor_result_get_warnings (result);
  g_assert_nonnull (strv);
  strv = amor_result_get_constraints (result);
  g_assert_nonnull (strv);

  /* Written back, it reads back the same. */
  json = amor_result_to_json (result);
  again = amor_result_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
  json_again = amor_result_to_json (again);
  g_assert_cmpstr (json, ==, json_again);

  explain = amor_result_explain (result);
  g_assert_true (g_utf8_validate (explain, -1, NULL));

  /* It runs, whatever machine it was made for. */
  check_plan (result, size % (MAX_ITEMS + 1));

  return 0;
}
