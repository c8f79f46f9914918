/* test-result.c: AmorResult explain and JSON
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <json-glib/json-glib.h>

#include <amorsize/amorsize.h>

#include "amorsize/amor-format-private.h"

static AmorResult *
make_plan (double   cv_high,
           guint64  n_items)
{
  g_autoptr(AmorOptimizer) optimizer = amor_optimizer_new ();
  g_autoptr(AmorSystem) system =
    amor_system_new_custom (4, 2, G_GUINT64_CONSTANT (8) << 30, 25e-6, 0.15e-6);
  g_autoptr(AmorSampler) sampler = amor_sampler_new ();

  amor_optimizer_set_system (optimizer, system);
  /* equal counts of (1 − cv) and (1 + cv) times 100 µs */
  for (guint i = 0; i < 6; i++)
    {
      amor_sampler_add_duration (sampler, 100e-6 * (1.0 - cv_high));
      amor_sampler_add_duration (sampler, 100e-6 * (1.0 + cv_high));
    }
  return amor_optimizer_plan (optimizer, sampler, n_items);
}

static void
assert_same_result (AmorResult *a,
                    AmorResult *b)
{
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (a), &n_pspecs);
  g_assert_cmpuint (n_pspecs, >=, 20);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) va = G_VALUE_INIT;
      g_auto(GValue) vb = G_VALUE_INIT;

      g_value_init (&va, pspecs[i]->value_type);
      g_value_init (&vb, pspecs[i]->value_type);
      g_object_get_property (G_OBJECT (a), pspecs[i]->name, &va);
      g_object_get_property (G_OBJECT (b), pspecs[i]->name, &vb);
      if (pspecs[i]->value_type != G_TYPE_STRV &&
          g_param_values_cmp (pspecs[i], &va, &vb) != 0)
        g_error ("property %s differs after the JSON round trip", pspecs[i]->name);
      if (pspecs[i]->value_type == G_TYPE_STRV)
        {
          char **sa = g_value_get_boxed (&va);
          char **sb = g_value_get_boxed (&vb);
          g_assert_true (g_strv_equal ((const char * const *) sa, (const char * const *) sb));
        }
      if (pspecs[i]->value_type == G_TYPE_STRING)
        g_assert_cmpstr (g_value_get_string (&va), ==, g_value_get_string (&vb));
    }
}

static void
test_result_json_round_trip (void)
{
  double cvs[] = { 0.0, 0.4, 0.9 };
  guint64 sizes[] = { 0, 1, 50, 100000 };

  for (guint i = 0; i < G_N_ELEMENTS (cvs); i++)
    for (guint j = 0; j < G_N_ELEMENTS (sizes); j++)
      {
        g_autoptr(AmorResult) result = make_plan (cvs[i], sizes[j]);
        g_autoptr(AmorResult) back = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *json = amor_result_to_json (result);
        g_autofree char *json2 = NULL;

        back = amor_result_new_from_json (json, &error);
        g_assert_no_error (error);
        g_assert_nonnull (back);
        assert_same_result (result, back);
        json2 = amor_result_to_json (back);
        g_assert_cmpstr (json, ==, json2);
      }
}

static void
test_result_json_huge_count (void)
{
  g_autoptr(AmorResult) result = make_plan (0.0, G_MAXUINT64);
  g_autoptr(AmorResult) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = amor_result_to_json (result);

  g_assert_cmpuint (amor_result_get_n_items (result), ==, G_MAXUINT64);
  back = amor_result_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (amor_result_get_n_items (back), ==, G_MAXUINT64);
  assert_same_result (result, back);
}

/* Replaces the member @section.@name of a good result JSON with @value (raw
 * JSON text), or removes it when @value is NULL. */
static char *
edit_json (const char *section,
           const char *name,
           const char *value)
{
  g_autoptr(AmorResult) result = make_plan (0.2, 1000);
  g_autofree char *json = amor_result_to_json (result);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  JsonObject *obj;

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  obj = json_node_get_object (json_parser_get_root (parser));
  if (section != NULL)
    obj = json_object_get_object_member (obj, section);
  if (value == NULL)
    json_object_remove_member (obj, name);
  else
    json_object_set_member (obj, name, json_from_string (value, NULL));
  json_generator_set_root (gen, json_parser_get_root (parser));
  return json_generator_to_data (gen, NULL);
}

static void
test_result_json_errors (void)
{
  static const struct {
    const char *section;
    const char *name;
    const char *value;     /* NULL: remove the member */
    int code;
    const char *in_message;
  } edits[] = {
    { NULL, "format", "\"something-else\"", AMOR_ERROR_INVALID_DATA, "not an amorsize result" },
    { NULL, "format", NULL, AMOR_ERROR_INVALID_DATA, "“format”" },
    { NULL, "version", "2", AMOR_ERROR_UNSUPPORTED_VERSION, "version 2" },
    { NULL, "version", "0", AMOR_ERROR_INVALID_DATA, "version 0" },
    { NULL, "version", "\"1\"", AMOR_ERROR_INVALID_DATA, "“version”" },
    { NULL, "workload", "[]", AMOR_ERROR_INVALID_DATA, "“workload” is not an object" },
    { NULL, "plan", NULL, AMOR_ERROR_INVALID_DATA, "“plan”" },
    { "plan", "n_workers", "\"two\"", AMOR_ERROR_INVALID_DATA, "“plan.n_workers” is not an integer" },
    { "plan", "n_workers", "0", AMOR_ERROR_INVALID_DATA, "n_workers" },
    { "plan", "n_workers", "-3", AMOR_ERROR_INVALID_DATA, "“plan.n_workers” is out of range" },
    { "plan", "n_workers", "1e3", AMOR_ERROR_INVALID_DATA, "“plan.n_workers” is not an integer" },
    { "plan", "chunk_size", NULL, AMOR_ERROR_INVALID_DATA, "“plan.chunk_size”" },
    { "plan", "chunk_size", "0", AMOR_ERROR_INVALID_DATA, "chunk_size" },
    { "plan", "schedule", "\"sometimes\"", AMOR_ERROR_INVALID_DATA, "“sometimes”" },
    { "plan", "schedule", "3", AMOR_ERROR_INVALID_DATA, "“plan.schedule” is not a string" },
    { "plan", "chunk_factor", "2.0", AMOR_ERROR_INVALID_DATA, "chunk_factor" },
    { "workload", "mean", "-1.0", AMOR_ERROR_INVALID_DATA, "“workload.mean”" },
    { "workload", "mean", "null", AMOR_ERROR_INVALID_DATA, "“workload.mean” is not a number" },
    { "workload", "cv", "0.9", AMOR_ERROR_INVALID_DATA, "contradicts" },
    { "workload", "is_heterogeneous", "1", AMOR_ERROR_INVALID_DATA, "not a boolean" },
    { "system", "n_cpus", "true", AMOR_ERROR_INVALID_DATA, "“system.n_cpus”" },
    { NULL, "warnings", "[1, 2]", AMOR_ERROR_INVALID_DATA, "not a string" },
    { NULL, "constraints", "\"none\"", AMOR_ERROR_INVALID_DATA, "not an array" },
    { NULL, "reason", "{}", AMOR_ERROR_INVALID_DATA, "“reason” is not a string" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autofree char *json = edit_json (edits[i].section, edits[i].name, edits[i].value);
      g_autoptr(GError) error = NULL;
      g_autoptr(AmorResult) result = amor_result_new_from_json (json, &error);

      g_test_message ("%s.%s = %s → %s", edits[i].section ? edits[i].section : "",
                      edits[i].name, edits[i].value ? edits[i].value : "(removed)",
                      error ? error->message : "(no error)");
      g_assert_null (result);
      g_assert_error (error, AMOR_ERROR, edits[i].code);
      g_assert_nonnull (strstr (error->message, edits[i].in_message));
    }
}

static void
test_result_json_malformed (void)
{
  g_autoptr(AmorResult) good = make_plan (0.0, 1000);
  g_autofree char *json = amor_result_to_json (good);
  const char *bad[] = { "", "{", "not json", "{\"format\": }", "[1, 2, 3]", "42", "null" };
  g_autofree char *prefixed = g_strconcat ("2", json, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_null (amor_result_new_from_json (bad[i], &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == AMOR_ERROR);
      g_assert_true (error->code == AMOR_ERROR_PARSE || error->code == AMOR_ERROR_INVALID_DATA);
    }

  /* a stray value before a good document (json-glib 1.6 accepts it) */
  {
    g_autoptr(GError) error = NULL;
    g_assert_null (amor_result_new_from_json (prefixed, &error));
    g_assert_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA);
  }

  /* every truncation of a good document fails cleanly */
  for (gsize len = 0; len < strlen (json) - 1; len += 7)
    {
      g_autofree char *cut = g_strndup (json, len);
      g_autoptr(GError) error = NULL;
      g_autoptr(AmorResult) r = amor_result_new_from_json (cut, &error);
      int expected = AMOR_ERROR_PARSE;

      g_assert_null (r);
      g_assert_error (error, AMOR_ERROR, expected);
    }
}

static void
test_result_explain (void)
{
  g_autoptr(AmorResult) het = make_plan (0.9, 100000);
  g_autoptr(AmorResult) tiny = make_plan (0.0, 0);
  g_autofree char *report = amor_result_explain (het);
  g_autofree char *report_tiny = amor_result_explain (tiny);

  g_test_message ("%s", report);
  for (const char *const *section = (const char *const[]) {
         "Workload\n", "System\n", "Decision\n", "Prediction\n", "Constraints\n",
         "Recommendations\n", NULL }; *section; section++)
    g_assert_nonnull (strstr (report, *section));

  g_assert_nonnull (strstr (report, "CV:               0.900 (highly heterogeneous: chunks reduced)"));
  g_assert_nonnull (strstr (report, "items:            100000"));
  g_assert_nonnull (strstr (report, "usable CPUs:      4 (2 physical cores)"));
  g_assert_nonnull (strstr (report, "× 0.55 for CV 0.90"));
  g_assert_nonnull (strstr (report, amor_result_get_reason (het)));

  g_assert_nonnull (strstr (report_tiny, "reason:           no items"));
  g_assert_nonnull (strstr (report_tiny, "Run the items in a plain loop."));
}

static void
test_format_duration (void)
{
  static const struct { double seconds; const char *text; } table[] = {
    { 0.0, "0 s" },
    { 400e-9, "400 ns" },
    { 12.34e-6, "12.3 µs" },
    { 0.99999999999999989, "1 s" },
    { 999.9999e-6, "1 ms" },
    { 0.5, "500 ms" },
    { 2.5, "2.5 s" },
    { 1234.0, "1.23e+03 s" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autofree char *text = amor_format_duration (table[i].seconds);
      g_assert_cmpstr (text, ==, table[i].text);
    }
}

static void
test_result_null (void)
{
  g_autoptr(GError) error = NULL;

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*json != NULL*");
  g_assert_null (amor_result_new_from_json (NULL, &error));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Amor", G_LOG_LEVEL_CRITICAL, "*AMOR_IS_RESULT*");
  g_assert_null (amor_result_explain (NULL));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/result/json/round-trip", test_result_json_round_trip);
  g_test_add_func ("/result/json/huge-count", test_result_json_huge_count);
  g_test_add_func ("/result/json/errors", test_result_json_errors);
  g_test_add_func ("/result/json/malformed", test_result_json_malformed);
  g_test_add_func ("/result/explain", test_result_explain);
  g_test_add_func ("/result/null", test_result_null);
  g_test_add_func ("/result/format-duration", test_format_duration);

  return g_test_run ();
}
