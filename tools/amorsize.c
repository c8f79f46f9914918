/* amorsize.c: the amorsize command-line tool
 *
 *   amorsize demo [--quick] [--json]
 *   amorsize plan --durations 0.001,0.002,... --items N [--cpus P] ... [--json]
 *   amorsize --version
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <amorsize/amorsize.h>
#include <json-glib/json-glib.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "amor-demo-work.h"

/* Output helpers ---------------------------------------------------------- */

/* A duration for a person: 95 ns, 85.9 µs, 515.2 ms, 1.24 s. */
static char *
format_duration (double seconds)
{
  if (seconds < 1e-6)
    return g_strdup_printf ("%.0f ns", seconds * 1e9);
  if (seconds < 1e-3)
    return g_strdup_printf ("%.1f µs", seconds * 1e6);
  if (seconds < 1.0)
    return g_strdup_printf ("%.1f ms", seconds * 1e3);
  return g_strdup_printf ("%.2f s", seconds);
}

static char *
format_speedup (double speedup)
{
  return g_strdup_printf ("%.2f×", speedup);
}

/* Appends @text padded with spaces to @width characters (not bytes: "µ" and
 * "×" are two bytes each in UTF-8). */
static void
append_padded (GString    *line,
               const char *text,
               int         width,
               gboolean    right_aligned)
{
  int pad = width - (int) g_utf8_strlen (text, -1);

  if (right_aligned)
    for (int i = 0; i < pad; i++)
      g_string_append_c (line, ' ');
  g_string_append (line, text);
  if (!right_aligned)
    for (int i = 0; i < pad; i++)
      g_string_append_c (line, ' ');
}

/* A table of left-aligned first column and right-aligned other columns. */
typedef struct
{
  GPtrArray *rows;    /* of GStrv */
  guint      n_columns;
} Table;

static void
table_init (Table *table,
            guint  n_columns)
{
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  table->n_columns = n_columns;
}

/* Takes the strings (n_columns of them). */
static void
table_add_take (Table *table,
                ...)
{
  GStrv row = g_new0 (char *, table->n_columns + 1);
  va_list args;

  va_start (args, table);
  for (guint i = 0; i < table->n_columns; i++)
    row[i] = va_arg (args, char *);
  va_end (args);
  g_ptr_array_add (table->rows, row);
}

static void
table_print_and_clear (Table      *table,
                       const char *indent)
{
  g_autofree int *widths = g_new0 (int, table->n_columns);
  GString *line = g_string_new (NULL);

  for (guint r = 0; r < table->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (table->rows, r);
      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], (int) g_utf8_strlen (row[c] ? row[c] : "", -1));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (table->rows, r);

      g_string_assign (line, indent);
      for (guint c = 0; c < table->n_columns; c++)
        {
          if (c > 0)
            g_string_append (line, "  ");
          append_padded (line, row[c] ? row[c] : "", widths[c], c > 0);
        }
      /* No trailing blanks. */
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      g_print ("%s\n", line->str);
    }

  g_string_free (line, TRUE);
  g_clear_pointer (&table->rows, g_ptr_array_unref);
}

static void
print_field (const char *label,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static void
print_field (const char *label,
             const char *format,
             ...)
{
  g_autofree char *value = NULL;
  va_list args;

  va_start (args, format);
  value = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("  %-19s %s\n", label, value);
}

static const char *
schedule_nick (AmorSchedule schedule)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (AMOR_TYPE_SCHEDULE);
  GEnumValue *value = g_enum_get_value (klass, schedule);

  /* The enum class stays alive (the type is static), so the nick does too. */
  return value != NULL ? value->value_nick : "unknown";
}

/* The CV classes of the seed's heterogeneity rule, worded as
 * amor_result_explain() words them. */
static const char *
variability_class (double cv)
{
  if (cv < 0.3)
    return "homogeneous";
  if (cv <= 0.5)
    return "slightly variable";
  if (cv <= 0.7)
    return "moderately heterogeneous";
  return "highly heterogeneous";
}

static JsonNode *
parse_json (const char  *text,
            GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (!json_parser_load_from_data (parser, text, -1, error))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

static void
print_json (JsonNode *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

/* Commands ---------------------------------------------------------------- */

/* Parses the options of a command; anything left over is an error. */
static gboolean
parse_command_line (GOptionContext  *context,
                    int             *argc,
                    char          ***argv,
                    GError         **error)
{
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "Unexpected argument “%s”", (*argv)[1]);
      return FALSE;
    }

  return TRUE;
}

static int
usage_error (GError *error)
{
  g_printerr ("%s: %s\n", g_get_prgname (), error->message);
  g_printerr ("Run “%s --help” for the options.\n", g_get_prgname ());
  g_error_free (error);
  return EXIT_FAILURE;
}

/* demo -------------------------------------------------------------------- */

/* One way of running a scenario, and how long it took. */
typedef struct
{
  const char *name;          /* JSON name */
  const char *label;         /* for a person */
  AmorResult *plan;          /* the plan that ran (NULL: the serial loop) */
  double      seconds;       /* measured wall time */
} DemoRun;

enum
{
  RUN_SERIAL,
  RUN_AUTO,
  RUN_ITEM_PER_CHUNK,
  RUN_CHUNK_PER_WORKER,
  N_RUNS
};

typedef struct
{
  AmorDemoWorkload *workload;
  AmorResult       *result;     /* what amorsize decided */
  DemoRun           runs[N_RUNS];
} DemoScenario;

static void
demo_scenario_clear (DemoScenario *scenario)
{
  g_clear_pointer (&scenario->workload, amor_demo_workload_free);
  g_clear_object (&scenario->result);
  for (guint r = 0; r < N_RUNS; r++)
    g_clear_object (&scenario->runs[r].plan);
}

static double
seconds_since (gint64 start_us)
{
  return (double) (g_get_monotonic_time () - start_us) / 1e6;
}

static gboolean
demo_run_serial (DemoScenario  *scenario,
                 guint64      **expected,
                 GError       **error)
{
  AmorDemoWorkload *workload = scenario->workload;
  gint64 start;

  amor_demo_workload_reset (workload);
  start = g_get_monotonic_time ();
  for (guint64 i = 0; i < workload->n_items; i++)
    if (!workload->func (i, workload, error))
      return FALSE;
  scenario->runs[RUN_SERIAL].seconds = seconds_since (start);

  *expected = amor_demo_workload_dup_results (workload);
  return TRUE;
}

/* A naive plan: @result with its workers, chunk size and schedule replaced,
 * made through the result's JSON like a caller tuning a saved plan. */
static AmorResult *
naive_plan_new (AmorResult  *result,
                guint        n_workers,
                guint64      chunk_size,
                const char  *reason,
                GError     **error)
{
  g_autofree char *json = amor_result_to_json (result);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *edited = NULL;
  JsonObject *object, *plan;

  root = parse_json (json, error);
  if (root == NULL)
    return NULL;

  object = json_node_get_object (root);
  plan = json_object_get_object_member (object, "plan");
  json_object_set_int_member (plan, "n_workers", n_workers);
  json_object_set_int_member (plan, "chunk_size", (gint64) chunk_size);
  json_object_set_string_member (plan, "schedule", "fixed");
  json_object_set_string_member (object, "reason", reason);

  json_generator_set_root (generator, root);
  edited = json_generator_to_data (generator, NULL);

  return amor_result_new_from_json (edited, error);
}

static gboolean
demo_run_plan (DemoScenario   *scenario,
               AmorExecutor   *executor,
               DemoRun        *run,
               const guint64  *expected,
               GError        **error)
{
  AmorDemoWorkload *workload = scenario->workload;
  gint64 start;

  amor_demo_workload_reset (workload);
  start = g_get_monotonic_time ();
  if (!amor_executor_run_with_plan (executor, run->plan, workload->n_items,
                                    workload->func, workload, NULL, error))
    return FALSE;
  run->seconds = seconds_since (start);

  return amor_demo_workload_check (workload, expected, error);
}

/* Runs the scenario four ways in one go: the serial loop, amorsize (sampling,
 * planning and running: what a caller pays), and the two naive plans. Every
 * parallel run is checked against the serial loop's results. */
static gboolean
demo_scenario_run (DemoScenario  *scenario,
                   AmorExecutor  *executor,
                   GError       **error)
{
  AmorDemoWorkload *workload = scenario->workload;
  g_autofree guint64 *expected = NULL;
  DemoRun *run;
  guint n_cpus;
  gint64 start;

  if (!demo_run_serial (scenario, &expected, error))
    return FALSE;

  run = &scenario->runs[RUN_AUTO];
  amor_demo_workload_reset (workload);
  start = g_get_monotonic_time ();
  if (!amor_executor_run (executor, workload->n_items, workload->func, workload,
                          NULL, error))
    return FALSE;
  run->seconds = seconds_since (start);
  if (!amor_demo_workload_check (workload, expected, error))
    return FALSE;
  scenario->result = g_object_ref (amor_executor_get_result (executor));
  run->plan = g_object_ref (scenario->result);

  n_cpus = MAX (1, amor_result_get_n_cpus (scenario->result));

  run = &scenario->runs[RUN_ITEM_PER_CHUNK];
  run->plan = naive_plan_new (scenario->result, n_cpus, 1,
                              "naive plan: one item per chunk", error);
  if (run->plan == NULL || !demo_run_plan (scenario, executor, run, expected, error))
    return FALSE;

  run = &scenario->runs[RUN_CHUNK_PER_WORKER];
  run->plan = naive_plan_new (scenario->result, n_cpus,
                              MAX (1, (workload->n_items + n_cpus - 1) / n_cpus),
                              "naive plan: one chunk per worker", error);
  if (run->plan == NULL || !demo_run_plan (scenario, executor, run, expected, error))
    return FALSE;

  return TRUE;
}

static double
demo_run_speedup (DemoScenario *scenario,
                  guint         run)
{
  double serial = scenario->runs[RUN_SERIAL].seconds;
  double seconds = scenario->runs[run].seconds;

  return seconds > 0 && serial > 0 ? serial / seconds : 0.0;
}

/* The 1-minute load average of the machine, or -1 when unknown. */
static double
read_load_average (void)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL))
    return -1;
  return g_ascii_strtod (contents, NULL);
}

static void
demo_print_system (AmorSystem *system,
                   gboolean    quick,
                   double      load_average)
{
  g_autofree char *fork_join = format_duration (amor_system_get_fork_join_cost (system));
  g_autofree char *dispatch = format_duration (amor_system_get_dispatch_cost (system));

  g_print ("amorsize %s demo%s: three workloads of uneven items, planned and run\n",
           AMOR_VERSION_S, quick ? " (quick)" : "");
  g_print ("System: %u usable CPUs (%u physical cores), fork-join %s, dispatch %s per chunk\n",
           amor_system_get_n_cpus (system), amor_system_get_n_physical_cores (system),
           fork_join, dispatch);
  if (load_average >= 0.5)
    g_print ("Load average %.2f: other processes are using the CPUs, so the measured\n"
             "speedups will be lower and noisier than on an idle machine.\n", load_average);
}

static void
demo_print_scenario (DemoScenario *scenario)
{
  AmorDemoWorkload *workload = scenario->workload;
  AmorResult *result = scenario->result;
  double cv = amor_result_get_cv (result);
  double factor = amor_result_get_chunk_factor (result);
  guint64 base = amor_result_get_base_chunk_size (result);
  guint64 chunk = amor_result_get_chunk_size (result);
  g_autofree char *mean = format_duration (amor_result_get_mean (result));
  g_autofree char *speedup = format_speedup (amor_result_get_estimated_speedup (result));
  g_autofree char *serial_estimate = format_duration (amor_result_get_estimated_serial_time (result));
  g_autofree char *parallel_estimate = format_duration (amor_result_get_estimated_parallel_time (result));
  Table table;

  g_print ("\n%s: %s\n", workload->title, workload->description);
  print_field ("items", "%" G_GUINT64_FORMAT " %s", workload->n_items, workload->items);
  print_field ("sampled mean", "%s per item (%u samples)", mean,
               amor_result_get_n_samples (result));
  print_field ("CV", "%.2f (%s)", cv, variability_class (cv));
  print_field ("heterogeneous", "%s (CV %s 0.5)",
               amor_result_get_is_heterogeneous (result) ? "yes" : "no",
               amor_result_get_is_heterogeneous (result) ? ">" : "≤");
  if (factor < 1.0)
    print_field ("chunk reduction", "base chunk %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                 " (×%.2f = max(0.25, 1 − 0.5 × CV %.2f))", base,
                 (guint64) MAX (1, floor ((double) base * factor)), factor, cv);
  else
    print_field ("chunk reduction", "none: base chunk %" G_GUINT64_FORMAT " (×1.00)", base);
  print_field ("workers", "%u of %u CPUs", amor_result_get_n_workers (result),
               amor_result_get_n_cpus (result));
  print_field ("chunk size", "%" G_GUINT64_FORMAT " (%s schedule)", chunk,
               schedule_nick (amor_result_get_schedule (result)));
  print_field ("estimated speedup", "%s (%s serial -> %s)", speedup, serial_estimate,
               parallel_estimate);
  print_field ("reason", "%s", amor_result_get_reason (result));

  g_print ("\n");
  table_init (&table, 6);
  table_add_take (&table, g_strdup ("run"), g_strdup ("workers"), g_strdup ("chunk"),
                  g_strdup ("time"), g_strdup ("speedup"), g_strdup (""));
  for (guint r = 0; r < N_RUNS; r++)
    {
      DemoRun *run = &scenario->runs[r];
      double measured = demo_run_speedup (scenario, r);
      char *workers, *chunk_size, *note;

      if (run->plan != NULL)
        {
          gboolean guided = amor_result_get_schedule (run->plan) == AMOR_SCHEDULE_GUIDED;

          workers = g_strdup_printf ("%u", amor_result_get_n_workers (run->plan));
          chunk_size = g_strdup_printf ("%" G_GUINT64_FORMAT "%s",
                                        amor_result_get_chunk_size (run->plan),
                                        guided ? "+" : "");
        }
      else
        {
          workers = g_strdup ("1");
          chunk_size = g_strdup_printf ("%" G_GUINT64_FORMAT, workload->n_items);
        }

      if (r == RUN_AUTO)
        {
          double estimated = amor_result_get_estimated_speedup (result);

          note = g_strdup_printf ("estimated %.2f× (%+.0f %%)", estimated,
                                  100.0 * (measured - estimated) / estimated);
        }
      else
        note = g_strdup ("");

      table_add_take (&table, g_strdup (run->label), workers, chunk_size,
                      format_duration (run->seconds), format_speedup (measured), note);
    }
  table_print_and_clear (&table, "  ");
  if (amor_result_get_schedule (result) == AMOR_SCHEDULE_GUIDED)
    g_print ("  (%" G_GUINT64_FORMAT "+: guided chunks, large first, never below %"
             G_GUINT64_FORMAT ")\n", chunk, chunk);
}

static void
demo_print_summary (DemoScenario *scenarios,
                    guint         n_scenarios)
{
  Table table;

  g_print ("\nSummary (speedup over the serial loop; amorsize includes its sampling)\n");
  table_init (&table, 9);
  table_add_take (&table, g_strdup ("scenario"), g_strdup ("CV"), g_strdup ("heterogeneous"),
                  g_strdup ("workers"), g_strdup ("chunk"), g_strdup ("estimated"),
                  g_strdup ("amorsize"), g_strdup ("1 item/chunk"), g_strdup ("1 chunk/worker"));
  for (guint s = 0; s < n_scenarios; s++)
    {
      DemoScenario *scenario = &scenarios[s];
      AmorResult *result = scenario->result;

      table_add_take (&table,
                      g_strdup (scenario->workload->name),
                      g_strdup_printf ("%.2f", amor_result_get_cv (result)),
                      amor_result_get_is_heterogeneous (result)
                        ? g_strdup_printf ("yes, ×%.2f", amor_result_get_chunk_factor (result))
                        : g_strdup ("no"),
                      g_strdup_printf ("%u", amor_result_get_n_workers (result)),
                      g_strdup_printf ("%" G_GUINT64_FORMAT, amor_result_get_chunk_size (result)),
                      format_speedup (amor_result_get_estimated_speedup (result)),
                      format_speedup (demo_run_speedup (scenario, RUN_AUTO)),
                      format_speedup (demo_run_speedup (scenario, RUN_ITEM_PER_CHUNK)),
                      format_speedup (demo_run_speedup (scenario, RUN_CHUNK_PER_WORKER)));
    }
  table_print_and_clear (&table, "  ");
}

static void
demo_add_run_json (JsonBuilder  *builder,
                   DemoScenario *scenario,
                   guint         r)
{
  DemoRun *run = &scenario->runs[r];

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, run->name);
  json_builder_set_member_name (builder, "n_workers");
  json_builder_add_int_value (builder, run->plan ? amor_result_get_n_workers (run->plan) : 1);
  json_builder_set_member_name (builder, "chunk_size");
  json_builder_add_int_value (builder, run->plan ? (gint64) amor_result_get_chunk_size (run->plan)
                                                 : (gint64) scenario->workload->n_items);
  json_builder_set_member_name (builder, "schedule");
  json_builder_add_string_value (builder, run->plan ? schedule_nick (amor_result_get_schedule (run->plan))
                                                    : "serial");
  json_builder_set_member_name (builder, "seconds");
  json_builder_add_double_value (builder, run->seconds);
  json_builder_set_member_name (builder, "speedup");
  json_builder_add_double_value (builder, demo_run_speedup (scenario, r));
  json_builder_end_object (builder);
}

static void
demo_print_json (AmorSystem   *system,
                 gboolean      quick,
                 double        load_average,
                 DemoScenario *scenarios,
                 guint         n_scenarios)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, AMOR_VERSION_S);
  json_builder_set_member_name (builder, "quick");
  json_builder_add_boolean_value (builder, quick);

  json_builder_set_member_name (builder, "system");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "n_cpus");
  json_builder_add_int_value (builder, amor_system_get_n_cpus (system));
  json_builder_set_member_name (builder, "n_physical_cores");
  json_builder_add_int_value (builder, amor_system_get_n_physical_cores (system));
  json_builder_set_member_name (builder, "fork_join_cost");
  json_builder_add_double_value (builder, amor_system_get_fork_join_cost (system));
  json_builder_set_member_name (builder, "dispatch_cost");
  json_builder_add_double_value (builder, amor_system_get_dispatch_cost (system));
  json_builder_set_member_name (builder, "load_average");
  if (load_average >= 0)
    json_builder_add_double_value (builder, load_average);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "scenarios");
  json_builder_begin_array (builder);
  for (guint s = 0; s < n_scenarios; s++)
    {
      DemoScenario *scenario = &scenarios[s];
      AmorDemoWorkload *workload = scenario->workload;
      AmorResult *result = scenario->result;
      g_autofree char *result_json = amor_result_to_json (result);
      JsonNode *result_node;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, workload->name);
      json_builder_set_member_name (builder, "items");
      json_builder_add_string_value (builder, workload->items);
      json_builder_set_member_name (builder, "n_items");
      json_builder_add_int_value (builder, (gint64) workload->n_items);
      json_builder_set_member_name (builder, "min_size");
      json_builder_add_int_value (builder, workload->min_size);
      json_builder_set_member_name (builder, "max_size");
      json_builder_add_int_value (builder, workload->max_size);
      json_builder_set_member_name (builder, "mean");
      json_builder_add_double_value (builder, amor_result_get_mean (result));
      json_builder_set_member_name (builder, "n_samples");
      json_builder_add_int_value (builder, amor_result_get_n_samples (result));
      json_builder_set_member_name (builder, "cv");
      json_builder_add_double_value (builder, amor_result_get_cv (result));
      json_builder_set_member_name (builder, "variability");
      json_builder_add_string_value (builder, variability_class (amor_result_get_cv (result)));
      json_builder_set_member_name (builder, "is_heterogeneous");
      json_builder_add_boolean_value (builder, amor_result_get_is_heterogeneous (result));
      json_builder_set_member_name (builder, "base_chunk_size");
      json_builder_add_int_value (builder, (gint64) amor_result_get_base_chunk_size (result));
      json_builder_set_member_name (builder, "chunk_factor");
      json_builder_add_double_value (builder, amor_result_get_chunk_factor (result));
      json_builder_set_member_name (builder, "chunk_size");
      json_builder_add_int_value (builder, (gint64) amor_result_get_chunk_size (result));
      json_builder_set_member_name (builder, "n_workers");
      json_builder_add_int_value (builder, amor_result_get_n_workers (result));
      json_builder_set_member_name (builder, "schedule");
      json_builder_add_string_value (builder, schedule_nick (amor_result_get_schedule (result)));
      json_builder_set_member_name (builder, "estimated_speedup");
      json_builder_add_double_value (builder, amor_result_get_estimated_speedup (result));
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, amor_result_get_reason (result));

      json_builder_set_member_name (builder, "measured_speedup");
      json_builder_add_double_value (builder, demo_run_speedup (scenario, RUN_AUTO));

      json_builder_set_member_name (builder, "runs");
      json_builder_begin_array (builder);
      for (guint r = 0; r < N_RUNS; r++)
        demo_add_run_json (builder, scenario, r);
      json_builder_end_array (builder);

      /* The full plan, as amor_result_to_json() writes it. */
      result_node = parse_json (result_json, NULL);
      json_builder_set_member_name (builder, "result");
      if (result_node != NULL)
        json_builder_add_value (builder, result_node);
      else
        json_builder_add_null_value (builder);

      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  print_json (root);
}

static int
command_demo (int    argc,
              char **argv)
{
  gboolean quick = FALSE;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick,
      "Run a tenth of the items (a fraction of a second)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print machine-readable JSON", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmorOptimizer) optimizer = NULL;
  AmorSystem *system;
  DemoScenario scenarios[AMOR_DEMO_N_WORKLOADS] = { { 0 } };
  g_autoptr(AmorExecutor) executor = NULL;
  gboolean ok = TRUE;
  double load_average;

  g_option_context_set_summary (context,
    "Plans and runs three maps whose items differ in size, as real CPU work:\n"
    "documents of 100–5000 words, images of 1–20 megapixels and tasks of\n"
    "complexity 10–1000. For each it prints the sampled CV, whether the work\n"
    "is heterogeneous, the chunk reduction, workers, chunk size and the\n"
    "estimated speedup, then the measured speedup over the serial loop next to\n"
    "two naive plans: one item per chunk, and one chunk per worker.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse_command_line (context, &argc, &argv, &error))
    return usage_error (g_steal_pointer (&error));

  load_average = read_load_average ();
  optimizer = amor_optimizer_new ();
  system = amor_optimizer_get_system (optimizer);
  executor = amor_executor_new (optimizer);

  if (!json)
    demo_print_system (system, quick, load_average);

  for (guint s = 0; s < AMOR_DEMO_N_WORKLOADS; s++)
    {
      DemoScenario *scenario = &scenarios[s];

      scenario->workload = amor_demo_workload_new (s, quick ? 10 : 1);
      scenario->runs[RUN_SERIAL] = (DemoRun) { "serial", "serial loop", NULL, 0 };
      scenario->runs[RUN_AUTO] = (DemoRun) { "amorsize", "amorsize (sampling included)", NULL, 0 };
      scenario->runs[RUN_ITEM_PER_CHUNK] = (DemoRun) { "item_per_chunk", "naive: 1 item per chunk", NULL, 0 };
      scenario->runs[RUN_CHUNK_PER_WORKER] = (DemoRun) { "chunk_per_worker", "naive: 1 chunk per worker", NULL, 0 };

      if (!demo_scenario_run (scenario, executor, &error))
        {
          ok = FALSE;
          break;
        }

      if (!json)
        demo_print_scenario (scenario);
    }

  if (ok && json)
    demo_print_json (system, quick, load_average, scenarios, AMOR_DEMO_N_WORKLOADS);
  else if (ok)
    demo_print_summary (scenarios, AMOR_DEMO_N_WORKLOADS);
  else
    g_printerr ("amorsize demo: %s\n", error->message);

  for (guint s = 0; s < AMOR_DEMO_N_WORKLOADS; s++)
    demo_scenario_clear (&scenarios[s]);

  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* plan -------------------------------------------------------------------- */

/* A duration in seconds, optionally with a unit: "0.002", "2ms", "150 µs". */
static gboolean
parse_duration (const char  *text,
                double      *seconds,
                GError     **error)
{
  /* Divisors, not factors: 100 / 1e6 is the double nearest 0.0001, while
   * 100 * 1e-6 is not. */
  static const struct { const char *suffix; double per_second; } units[] = {
    { "ns", 1e9 }, { "us", 1e6 }, { "µs", 1e6 }, { "ms", 1e3 }, { "s", 1.0 },
  };
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  char *end = NULL;
  double value;

  value = g_ascii_strtod (stripped, &end);
  if (end == stripped)
    goto invalid;

  while (g_ascii_isspace (*end))
    end++;
  if (*end != '\0')
    {
      guint u;

      for (u = 0; u < G_N_ELEMENTS (units); u++)
        if (g_str_equal (end, units[u].suffix))
          break;
      if (u == G_N_ELEMENTS (units))
        goto invalid;
      value /= units[u].per_second;
    }

  if (!isfinite (value) || value < 0)
    goto invalid;

  *seconds = value;
  return TRUE;

invalid:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "Invalid duration “%s”: expected a non-negative number of seconds, "
               "optionally with a unit (ns, us, µs, ms, s)", text);
  return FALSE;
}

static gboolean
parse_double_option (const char  *option,
                     const char  *text,
                     double       min,
                     double      *out,
                     GError     **error)
{
  char *end = NULL;
  double value;

  if (text == NULL)
    return TRUE;

  value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (value) || value < min)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Invalid value “%s” for %s: expected a number ≥ %g", text, option, min);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static gboolean
parse_uint64_option (const char  *option,
                     const char  *text,
                     guint64      min,
                     guint64      max,
                     guint64     *out,
                     GError     **error)
{
  if (text == NULL)
    return TRUE;

  if (!g_ascii_string_to_unsigned (text, 10, min, max, out, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Invalid value “%s” for %s: expected a whole number from %"
                   G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, text, option, min, max);
      return FALSE;
    }
  return TRUE;
}

static int
command_plan (int    argc,
              char **argv)
{
  g_autofree char *durations = NULL;
  g_autofree char *items = NULL;
  g_autofree char *cpus = NULL;
  g_autofree char *physical_cores = NULL;
  g_autofree char *memory = NULL;
  g_autofree char *fork_join_cost = NULL;
  g_autofree char *dispatch_cost = NULL;
  g_autofree char *max_workers = NULL;
  g_autofree char *min_speedup = NULL;
  g_autofree char *target_chunk = NULL;
  g_autofree char *item_memory = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "durations", 'd', 0, G_OPTION_ARG_STRING, &durations,
      "Measured seconds per item, comma-separated (units ns, us, ms, s allowed)", "T1,T2,…" },
    { "items", 'n', 0, G_OPTION_ARG_STRING, &items,
      "Number of items of the map", "N" },
    { "cpus", 0, 0, G_OPTION_ARG_STRING, &cpus,
      "Plan for a machine with this many usable CPUs (default: this one's)", "P" },
    { "physical-cores", 0, 0, G_OPTION_ARG_STRING, &physical_cores,
      "Physical cores of that machine (default: the CPUs)", "C" },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &memory,
      "Available memory of that machine in bytes (default: this one's)", "BYTES" },
    { "fork-join-cost", 0, 0, G_OPTION_ARG_STRING, &fork_join_cost,
      "Seconds for one fork-join of the workers (default: measured here)", "SECONDS" },
    { "dispatch-cost", 0, 0, G_OPTION_ARG_STRING, &dispatch_cost,
      "Seconds to hand one chunk to a worker (default: measured here)", "SECONDS" },
    { "max-workers", 'w', 0, G_OPTION_ARG_STRING, &max_workers,
      "Use at most this many workers (0: as many as useful)", "W" },
    { "min-speedup", 0, 0, G_OPTION_ARG_STRING, &min_speedup,
      "Run serially unless the estimated speedup reaches this (default 1.2)", "X" },
    { "target-chunk-duration", 0, 0, G_OPTION_ARG_STRING, &target_chunk,
      "Seconds of work per chunk to aim for (default 0.001)", "SECONDS" },
    { "item-memory", 0, 0, G_OPTION_ARG_STRING, &item_memory,
      "Bytes of memory one item needs while it runs", "BYTES" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print the plan as JSON (the format of amor_result_to_json())", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmorOptimizer) optimizer = NULL;
  g_autoptr(AmorSampler) sampler = NULL;
  g_autoptr(AmorResult) result = NULL;
  g_autofree char *output = NULL;
  g_auto(GStrv) parts = NULL;
  guint64 n_items = 0;
  guint64 value;
  double number;

  g_option_context_set_summary (context,
    "Plans a map from per-item durations you measured, without running\n"
    "anything: the decision amorsize would make for N items on this machine,\n"
    "or on the machine described by --cpus and the cost options.");
  g_option_context_set_description (context,
    "Example:\n"
    "  amorsize plan --durations 2ms,1.5ms,4ms,2.5ms --items 5000 --cpus 8\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!parse_command_line (context, &argc, &argv, &error))
    return usage_error (g_steal_pointer (&error));

  if (durations == NULL || items == NULL)
    return usage_error (g_error_new_literal (G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                                             "--durations and --items are required"));

  if (!parse_uint64_option ("--items", items, 0, G_MAXUINT64, &n_items, &error))
    return usage_error (g_steal_pointer (&error));

  sampler = amor_sampler_new ();
  parts = g_strsplit (durations, ",", -1);
  if (parts[0] == NULL)
    return usage_error (g_error_new_literal (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                             "--durations needs at least one duration"));
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (!parse_duration (parts[i], &number, &error))
        return usage_error (g_steal_pointer (&error));
      amor_sampler_add_duration (sampler, number);
    }

  optimizer = amor_optimizer_new ();

  /* A custom machine when any of it is given; the rest comes from this one. */
  if (cpus || physical_cores || memory || fork_join_cost || dispatch_cost)
    {
      AmorSystem *here = amor_system_get_default ();
      g_autoptr(AmorSystem) system = NULL;
      guint64 n_cpus = amor_system_get_n_cpus (here);
      guint64 n_cores = 0;
      guint64 available = amor_system_get_available_memory (here);
      double fork_join, dispatch;

      if (!parse_uint64_option ("--cpus", cpus, 1, G_MAXUINT16, &n_cpus, &error) ||
          !parse_uint64_option ("--physical-cores", physical_cores, 1, G_MAXUINT16, &n_cores, &error) ||
          !parse_uint64_option ("--memory", memory, 1, G_MAXUINT64, &available, &error))
        return usage_error (g_steal_pointer (&error));

      /* Measuring the costs takes a few milliseconds: only when needed. */
      if (fork_join_cost == NULL)
        fork_join = amor_system_get_fork_join_cost (here);
      else if (!parse_duration (fork_join_cost, &fork_join, &error))
        return usage_error (g_steal_pointer (&error));
      if (dispatch_cost == NULL)
        dispatch = amor_system_get_dispatch_cost (here);
      else if (!parse_duration (dispatch_cost, &dispatch, &error))
        return usage_error (g_steal_pointer (&error));

      if (n_cores == 0)
        n_cores = cpus != NULL ? n_cpus : MIN (n_cpus, amor_system_get_n_physical_cores (here));

      system = amor_system_new_custom ((guint) n_cpus, (guint) n_cores, available,
                                       fork_join, dispatch);
      amor_optimizer_set_system (optimizer, system);
    }

  if (max_workers != NULL)
    {
      if (!parse_uint64_option ("--max-workers", max_workers, 0, G_MAXUINT16, &value, &error))
        return usage_error (g_steal_pointer (&error));
      amor_optimizer_set_max_workers (optimizer, (guint) value);
    }
  if (min_speedup != NULL)
    {
      if (!parse_double_option ("--min-speedup", min_speedup, 1.0, &number, &error))
        return usage_error (g_steal_pointer (&error));
      amor_optimizer_set_min_speedup (optimizer, number);
    }
  if (target_chunk != NULL)
    {
      if (!parse_duration (target_chunk, &number, &error))
        return usage_error (g_steal_pointer (&error));
      if (number <= 0)
        return usage_error (g_error_new_literal (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                                 "--target-chunk-duration must be positive"));
      amor_optimizer_set_target_chunk_duration (optimizer, number);
    }
  if (item_memory != NULL)
    {
      if (!parse_uint64_option ("--item-memory", item_memory, 0, G_MAXUINT64, &value, &error))
        return usage_error (g_steal_pointer (&error));
      amor_optimizer_set_item_memory (optimizer, value);
    }

  result = amor_optimizer_plan (optimizer, sampler, n_items);
  if (result == NULL)
    {
      g_printerr ("%s: no plan could be made from these inputs\n", g_get_prgname ());
      return EXIT_FAILURE;
    }

  output = json ? amor_result_to_json (result) : amor_result_explain (result);
  g_print ("%s%s", output, g_str_has_suffix (output, "\n") ? "" : "\n");

  return EXIT_SUCCESS;
}

/* main -------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  int       (*func) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  { "demo", command_demo, "Plan and run three example workloads, with measured speedups" },
  { "plan", command_plan, "Plan a map from per-item durations, without running anything" },
};

int
main (int    argc,
      char **argv)
{
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) summary = NULL;
  g_autofree char *help = NULL;

  setlocale (LC_ALL, "");
  g_set_prgname ("amorsize");

  /* amorsize COMMAND [OPTION…]: the command parses its own options. */
  if (argc > 1 && argv[1][0] != '-')
    {
      for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
        if (g_str_equal (argv[1], commands[i].name))
          {
            g_autofree char *prgname = g_strdup_printf ("amorsize %s", commands[i].name);

            g_set_prgname (prgname);
            argv[1] = argv[0];
            return commands[i].func (argc - 1, argv + 1);
          }

      g_printerr ("amorsize: unknown command “%s”\n", argv[1]);
      g_printerr ("Run “amorsize --help” to see the commands.\n");
      return EXIT_FAILURE;
    }

  summary = g_string_new ("Decides whether and how to parallelise a map over N items — workers,\n"
                          "chunk size, schedule — from a few timed samples, and runs it.\n\n"
                          "Commands:");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (summary, "\n  %-6s %s", commands[i].name, commands[i].summary);

  context = g_option_context_new ("COMMAND [OPTION…]");
  g_option_context_set_summary (context, summary->str);
  g_option_context_set_description (context,
                                    "Run “amorsize COMMAND --help” for the options of a command.\n");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (g_steal_pointer (&error));

  if (version)
    {
      g_print ("amorsize %s\n", AMOR_VERSION_S);
      return EXIT_SUCCESS;
    }

  help = g_option_context_get_help (context, TRUE, NULL);
  g_printerr ("%s", help);
  return EXIT_FAILURE;
}
