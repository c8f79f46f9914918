/* amor-result-json.c: a plan to JSON and back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "amor-error.h"
#include "amor-result-private.h"

#define FORMAT_NAME    "amorsize-result"
#define FORMAT_VERSION 1

static const char *schedule_nicks[] = { "serial", "fixed", "guided" };

/* Writing. json-glib 1.6's generator appends ".0" to every double printed
 * without a decimal point, which turns 2e-08 into the invalid "2e-08.0":
 * the result's few members are written here instead, and json-glib only
 * parses. */

typedef struct
{
  GString *out;
  guint    depth;
  gboolean first;   /* no member written yet at this depth */
} JsonWriter;

static void
writer_indent (JsonWriter *w)
{
  g_string_append_c (w->out, '\n');
  for (guint i = 0; i < w->depth; i++)
    g_string_append (w->out, "  ");
}

static void
writer_member (JsonWriter *w,
               const char *name)
{
  if (!w->first)
    g_string_append_c (w->out, ',');
  w->first = FALSE;
  writer_indent (w);
  g_string_append_printf (w->out, "\"%s\" : ", name);
}

static void
writer_string (JsonWriter *w,
               const char *text)
{
  g_string_append_c (w->out, '"');
  for (const char *c = text; *c != '\0'; c++)
    {
      switch (*c)
        {
        case '"':
          g_string_append (w->out, "\\\"");
          break;
        case '\\':
          g_string_append (w->out, "\\\\");
          break;
        case '\n':
          g_string_append (w->out, "\\n");
          break;
        case '\t':
          g_string_append (w->out, "\\t");
          break;
        default:
          if ((guchar) *c < 0x20)
            g_string_append_printf (w->out, "\\u%04x", (guint) (guchar) *c);
          else
            g_string_append_c (w->out, *c);
        }
    }
  g_string_append_c (w->out, '"');
}

static void
writer_begin (JsonWriter *w,
              const char *name)
{
  if (name != NULL)
    writer_member (w, name);
  g_string_append_c (w->out, '{');
  w->depth++;
  w->first = TRUE;
}

static void
writer_end (JsonWriter *w)
{
  w->depth--;
  writer_indent (w);
  g_string_append_c (w->out, '}');
  w->first = FALSE;
}

static void
add_uint64 (JsonWriter *w,
            const char *name,
            guint64     value)
{
  writer_member (w, name);
  /* JSON readers keep integers as int64: larger values travel as text. */
  if (value <= G_MAXINT64)
    g_string_append_printf (w->out, "%" G_GUINT64_FORMAT, value);
  else
    g_string_append_printf (w->out, "\"%" G_GUINT64_FORMAT "\"", value);
}

static void
add_double (JsonWriter *w,
            const char *name,
            double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  writer_member (w, name);
  /* Every double of a plan is finite; JSON has no spelling for others. */
  if (!isfinite (value))
    value = 0.0;
  /* Shortest text that reads back as the same double. */
  g_ascii_dtostr (buf, sizeof buf, value);
  g_string_append (w->out, buf);
  /* "1" would read back as an integer; keep it a number with a fraction. */
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (w->out, ".0");
}

static void
add_boolean (JsonWriter *w,
             const char *name,
             gboolean    value)
{
  writer_member (w, name);
  g_string_append (w->out, value ? "true" : "false");
}

static void
add_string (JsonWriter *w,
            const char *name,
            const char *value)
{
  writer_member (w, name);
  writer_string (w, value != NULL ? value : "");
}

static void
add_strv (JsonWriter *w,
          const char *name,
          GStrv       strv)
{
  writer_member (w, name);
  g_string_append_c (w->out, '[');
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append (w->out, ", ");
      writer_string (w, strv[i]);
    }
  g_string_append_c (w->out, ']');
}

char *
amor_plan_to_json (const AmorPlan *p)
{
  JsonWriter w = { g_string_new (NULL), 0, TRUE };

  writer_begin (&w, NULL);
  add_string (&w, "format", FORMAT_NAME);
  add_uint64 (&w, "version", FORMAT_VERSION);

  writer_begin (&w, "workload");
  add_uint64 (&w, "n_items", p->n_items);
  add_uint64 (&w, "n_samples", p->n_samples);
  add_double (&w, "mean", p->mean);
  add_double (&w, "cv", p->cv);
  add_boolean (&w, "is_heterogeneous", p->is_heterogeneous);
  writer_end (&w);

  writer_begin (&w, "system");
  add_uint64 (&w, "n_cpus", p->n_cpus);
  add_uint64 (&w, "n_physical_cores", p->n_physical_cores);
  add_uint64 (&w, "available_memory", p->available_memory);
  add_double (&w, "fork_join_cost", p->fork_join_cost);
  add_double (&w, "dispatch_cost", p->dispatch_cost);
  writer_end (&w);

  writer_begin (&w, "plan");
  add_uint64 (&w, "n_workers", p->n_workers);
  add_uint64 (&w, "chunk_size", p->chunk_size);
  add_uint64 (&w, "base_chunk_size", p->base_chunk_size);
  add_double (&w, "chunk_factor", p->chunk_factor);
  add_string (&w, "schedule", schedule_nicks[p->schedule]);
  add_double (&w, "min_speedup", p->min_speedup);
  writer_end (&w);

  writer_begin (&w, "estimate");
  add_double (&w, "speedup", p->estimated_speedup);
  add_double (&w, "serial_time", p->estimated_serial_time);
  add_double (&w, "parallel_time", p->estimated_parallel_time);
  add_double (&w, "fork_join_overhead", p->fork_join_overhead);
  add_double (&w, "dispatch_overhead", p->dispatch_overhead);
  add_double (&w, "imbalance_overhead", p->imbalance_overhead);
  writer_end (&w);

  add_string (&w, "reason", p->reason);
  add_strv (&w, "warnings", p->warnings);
  add_strv (&w, "constraints", p->constraints);
  writer_end (&w);
  g_string_append_c (w.out, '\n');

  return g_string_free (w.out, FALSE);
}

/* Reading: every accessor checks presence and type, and names the member
 * in its error. */

static JsonNode *
get_member (JsonObject  *obj,
            const char  *section,
            const char  *name,
            GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL)
    g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                 "The result JSON has no member “%s%s%s”",
                 section ? section : "", section ? "." : "", name);
  return node;
}

static gboolean
read_object (JsonObject  *parent,
             const char  *name,
             JsonObject **out,
             GError     **error)
{
  JsonNode *node = get_member (parent, NULL, name, error);

  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The result JSON member “%s” is not an object", name);
      return FALSE;
    }
  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
read_uint64 (JsonObject  *obj,
             const char  *section,
             const char  *name,
             guint64      max,
             guint64     *out,
             GError     **error)
{
  JsonNode *node = get_member (obj, section, name, error);
  GType type;

  if (node == NULL)
    return FALSE;

  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type == G_TYPE_INT64)
    {
      gint64 v = json_node_get_int (node);
      if (v < 0 || (guint64) v > max)
        goto out_of_range;
      *out = (guint64) v;
      return TRUE;
    }
  if (type == G_TYPE_STRING)
    {
      const char *text = json_node_get_string (node);
      g_autoptr(GError) number_error = NULL;
      guint64 v;

      if (g_ascii_string_to_unsigned (text, 10, 0, max, &v, &number_error))
        {
          *out = v;
          return TRUE;
        }
      if (g_error_matches (number_error, G_NUMBER_PARSER_ERROR,
                           G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS))
        goto out_of_range;
    }

  g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
               "The result JSON member “%s.%s” is not an integer", section, name);
  return FALSE;

out_of_range:
  g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
               "The result JSON member “%s.%s” is out of range (0 to %" G_GUINT64_FORMAT ")",
               section, name, max);
  return FALSE;
}

static gboolean
read_uint (JsonObject  *obj,
           const char  *section,
           const char  *name,
           guint       *out,
           GError     **error)
{
  guint64 v;

  if (!read_uint64 (obj, section, name, G_MAXUINT, &v, error))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static gboolean
read_double (JsonObject  *obj,
             const char  *section,
             const char  *name,
             double      *out,
             GError     **error)
{
  JsonNode *node = get_member (obj, section, name, error);
  GType type;
  double v;

  if (node == NULL)
    return FALSE;

  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type == G_TYPE_DOUBLE)
    v = json_node_get_double (node);
  else if (type == G_TYPE_INT64)
    v = (double) json_node_get_int (node);
  else
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The result JSON member “%s.%s” is not a number", section, name);
      return FALSE;
    }

  if (!isfinite (v) || v < 0.0)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The result JSON member “%s.%s” must be a finite number, not negative",
                   section, name);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
read_boolean (JsonObject  *obj,
              const char  *section,
              const char  *name,
              gboolean    *out,
              GError     **error)
{
  JsonNode *node = get_member (obj, section, name, error);

  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The result JSON member “%s.%s” is not a boolean", section, name);
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
read_string (JsonObject  *obj,
             const char  *name,
             const char **out,
             GError     **error)
{
  JsonNode *node = get_member (obj, NULL, name, error);

  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The result JSON member “%s” is not a string", name);
      return FALSE;
    }
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
read_strv (JsonObject  *obj,
           const char  *name,
           GStrv       *out,
           GError     **error)
{
  JsonNode *node = get_member (obj, NULL, name, error);
  g_autoptr(GStrvBuilder) builder = NULL;
  JsonArray *array;

  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The result JSON member “%s” is not an array", name);
      return FALSE;
    }

  array = json_node_get_array (node);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element) ||
          json_node_get_value_type (element) != G_TYPE_STRING)
        {
          g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                       "The result JSON member “%s” has an element that is not a string",
                       name);
          return FALSE;
        }
      g_strv_builder_add (builder, json_node_get_string (element));
    }

  *out = g_strv_builder_end (builder);
  return TRUE;
}

static gboolean
invalid (GError     **error,
         const char  *message)
{
  g_set_error_literal (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA, message);
  return FALSE;
}

gboolean
amor_plan_from_json (const char  *json,
                     AmorPlan    *p,
                     GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) parse_error = NULL;
  JsonObject *root, *workload, *system, *plan, *estimate;
  const char *format, *schedule, *reason;
  JsonNode *node;
  gint64 version;
  guint s;

  /* A result is an object. json-glib 1.6 accepts a stray value before one
   * ("2{…}") and leaks what it built for it: text that does not start
   * with an object is refused before parsing. */
  {
    const char *c = json;

    while (g_ascii_isspace (*c))
      c++;
    if (*c != '{')
      {
        /* Another JSON value (an array, a number, a string, a literal) is
         * data of the wrong kind; anything else is not JSON at all. */
        if ((*c != '\0' && strchr ("[\"-0123456789", *c) != NULL) ||
            g_str_has_prefix (c, "true") || g_str_has_prefix (c, "false") ||
            g_str_has_prefix (c, "null"))
          return invalid (error, "The result JSON is not an object");

        g_set_error_literal (error, AMOR_ERROR, AMOR_ERROR_PARSE,
                             "The result JSON cannot be parsed: a result is a "
                             "JSON object, and this text does not start with “{”");
        return FALSE;
      }
  }

  if (!json_parser_load_from_data (parser, json, -1, &parse_error))
    {
      /* json-glib quotes the input in its message, valid UTF-8 or not. */
      g_autofree char *shown = g_utf8_make_valid (parse_error->message, -1);

      g_set_error (error, AMOR_ERROR, AMOR_ERROR_PARSE,
                   "The result JSON cannot be parsed: %s", shown);
      return FALSE;
    }

  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "The result JSON is not an object");
  root = json_node_get_object (node);

  if (!read_string (root, "format", &format, error))
    return FALSE;
  if (g_strcmp0 (format, FORMAT_NAME) != 0)
    {
      /* The text is the caller's: it may not even be UTF-8. */
      g_autofree char *shown = g_utf8_make_valid (format, -1);

      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The JSON is not an amorsize result (format “%s”, expected “%s”)",
                   shown, FORMAT_NAME);
      return FALSE;
    }

  node = get_member (root, NULL, "version", error);
  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return invalid (error, "The result JSON member “version” is not an integer");
  version = json_node_get_int (node);
  if (version > FORMAT_VERSION)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_UNSUPPORTED_VERSION,
                   "The result JSON has format version %" G_GINT64_FORMAT
                   "; this amorsize reads version %d and older",
                   version, FORMAT_VERSION);
      return FALSE;
    }
  if (version < 1)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The result JSON has an invalid format version %" G_GINT64_FORMAT,
                   version);
      return FALSE;
    }

  if (!read_object (root, "workload", &workload, error) ||
      !read_object (root, "system", &system, error) ||
      !read_object (root, "plan", &plan, error) ||
      !read_object (root, "estimate", &estimate, error))
    return FALSE;

  if (!read_uint64 (workload, "workload", "n_items", G_MAXUINT64, &p->n_items, error) ||
      !read_uint (workload, "workload", "n_samples", &p->n_samples, error) ||
      !read_double (workload, "workload", "mean", &p->mean, error) ||
      !read_double (workload, "workload", "cv", &p->cv, error) ||
      !read_boolean (workload, "workload", "is_heterogeneous", &p->is_heterogeneous, error) ||
      !read_uint (system, "system", "n_cpus", &p->n_cpus, error) ||
      !read_uint (system, "system", "n_physical_cores", &p->n_physical_cores, error) ||
      !read_uint64 (system, "system", "available_memory", G_MAXUINT64, &p->available_memory, error) ||
      !read_double (system, "system", "fork_join_cost", &p->fork_join_cost, error) ||
      !read_double (system, "system", "dispatch_cost", &p->dispatch_cost, error) ||
      !read_uint (plan, "plan", "n_workers", &p->n_workers, error) ||
      !read_uint64 (plan, "plan", "chunk_size", G_MAXUINT64, &p->chunk_size, error) ||
      !read_uint64 (plan, "plan", "base_chunk_size", G_MAXUINT64, &p->base_chunk_size, error) ||
      !read_double (plan, "plan", "chunk_factor", &p->chunk_factor, error) ||
      !read_double (plan, "plan", "min_speedup", &p->min_speedup, error) ||
      !read_double (estimate, "estimate", "speedup", &p->estimated_speedup, error) ||
      !read_double (estimate, "estimate", "serial_time", &p->estimated_serial_time, error) ||
      !read_double (estimate, "estimate", "parallel_time", &p->estimated_parallel_time, error) ||
      !read_double (estimate, "estimate", "fork_join_overhead", &p->fork_join_overhead, error) ||
      !read_double (estimate, "estimate", "dispatch_overhead", &p->dispatch_overhead, error) ||
      !read_double (estimate, "estimate", "imbalance_overhead", &p->imbalance_overhead, error))
    return FALSE;

  node = get_member (plan, "plan", "schedule", error);
  if (node == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return invalid (error, "The result JSON member “plan.schedule” is not a string");
  schedule = json_node_get_string (node);
  for (s = 0; s < G_N_ELEMENTS (schedule_nicks); s++)
    if (g_strcmp0 (schedule, schedule_nicks[s]) == 0)
      break;
  if (s == G_N_ELEMENTS (schedule_nicks))
    {
      g_autofree char *shown = g_utf8_make_valid (schedule, -1);

      g_set_error (error, AMOR_ERROR, AMOR_ERROR_INVALID_DATA,
                   "The result JSON member “plan.schedule” is “%s”; "
                   "expected “serial”, “fixed” or “guided”", shown);
      return FALSE;
    }
  p->schedule = (AmorSchedule) s;

  if (!read_string (root, "reason", &reason, error))
    return FALSE;
  p->reason = g_strdup (reason);
  if (!read_strv (root, "warnings", &p->warnings, error) ||
      !read_strv (root, "constraints", &p->constraints, error))
    return FALSE;

  /* The plan must be runnable. */
  if (p->n_workers < 1)
    return invalid (error, "The result JSON member “plan.n_workers” must be at least 1");
  if (p->n_items > 0 && p->chunk_size < 1)
    return invalid (error, "The result JSON member “plan.chunk_size” must be at least 1");
  if (p->schedule == AMOR_SCHEDULE_SERIAL && p->n_workers != 1)
    return invalid (error, "The result JSON has a serial schedule with more than one worker");
  if (p->chunk_factor <= 0.0 || p->chunk_factor > 1.0)
    return invalid (error, "The result JSON member “plan.chunk_factor” must be in (0, 1]");
  if (p->is_heterogeneous != (p->cv > 0.5))
    return invalid (error, "The result JSON member “workload.is_heterogeneous” "
                           "contradicts “workload.cv” (heterogeneous means CV > 0.5)");

  return TRUE;
}
