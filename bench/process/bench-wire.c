/* bench-wire.c: the serialisation of a process pool's chunks, GVariant's
 * own against json-glib's
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A chunk message is a "(uav)": a chunk id and the items, each in a
 * variant. Both ways do what one direction of a round trip costs: the
 * sender builds the message and serialises it to bytes; the receiver turns
 * the bytes back into a value (checked: normal form for GVariant, a parse
 * for JSON) and takes every item out of it.
 *
 *   gvariant  g_variant_new () + g_variant_get_data (); then
 *             g_variant_new_from_bytes () + g_variant_is_normal_form () +
 *             g_variant_get_child_value () / g_variant_get_variant ()
 *   json      json_gvariant_serialize () + json_to_string (); then
 *             json_from_string () + json_gvariant_deserialize () + the same
 *             child access (JSON keeps no type: a "(sid)" item comes back as
 *             whatever the deserialiser guesses, which the table notes)
 *
 * Prints a Markdown table of nanoseconds per item (median of 7 runs of
 * 2000 chunks of 100 items; fewer for the large items).
 *
 *   cc -O2 bench-wire.c $(pkg-config --cflags --libs json-glib-1.0) -o bench-wire
 */

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEMS_PER_CHUNK 100
#define RUNS 7

static gint64
now_ns (void)
{
  return g_get_monotonic_time () * 1000;
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

typedef GVariant *(*MakeItem) (guint i);

static GVariant *
make_double (guint i)
{
  return g_variant_new_double (i * 1.5);
}

static GVariant *
make_string (guint i)
{
  char text[64];

  g_snprintf (text, sizeof text, "item number %u of a chunk, forty chars", i);
  return g_variant_new_string (text);
}

static GVariant *
make_tuple (guint i)
{
  return g_variant_new ("(sid)", "name", (gint32) i, i * 0.25);
}

static GVariant *
make_array (guint i)
{
  double values[64];

  for (guint k = 0; k < G_N_ELEMENTS (values); k++)
    values[k] = i + k * 0.5;
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values, G_N_ELEMENTS (values),
                                    sizeof (double));
}

static GVariant *
make_chunk (MakeItem make)
{
  GVariant *items[ITEMS_PER_CHUNK];

  for (guint i = 0; i < ITEMS_PER_CHUNK; i++)
    items[i] = g_variant_new_variant (make (i));
  return g_variant_new ("(u@av)", 42u, g_variant_new_array (G_VARIANT_TYPE_VARIANT, items,
                                                             ITEMS_PER_CHUNK));
}

/* Takes every item out of a received "(uav)"; returns a checksum. */
static gsize
consume (GVariant *chunk)
{
  g_autoptr(GVariant) items = g_variant_get_child_value (chunk, 1);
  gsize n = g_variant_n_children (items), sum = 0;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (items, i);
      g_autoptr(GVariant) item = g_variant_get_variant (boxed);

      sum += g_variant_get_size (item);
    }
  return sum;
}

static double
run_gvariant (MakeItem make,
              guint    n_chunks)
{
  gint64 t0 = now_ns ();
  gsize sum = 0;

  for (guint c = 0; c < n_chunks; c++)
    {
      g_autoptr(GVariant) chunk = g_variant_ref_sink (make_chunk (make));
      g_autoptr(GBytes) bytes = g_bytes_new (g_variant_get_data (chunk), g_variant_get_size (chunk));
      g_autoptr(GVariant) back = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(uav)"),
                                                                               bytes, FALSE));

      if (!g_variant_is_normal_form (back))
        g_error ("not in normal form");
      sum += consume (back);
    }

  if (sum == 0)
    g_error ("nothing read");
  return (double) (now_ns () - t0) / (n_chunks * ITEMS_PER_CHUNK);
}

static char *json_type;

static double
run_json (MakeItem make,
          guint    n_chunks)
{
  gint64 t0 = now_ns ();
  gsize sum = 0;

  for (guint c = 0; c < n_chunks; c++)
    {
      g_autoptr(GVariant) chunk = g_variant_ref_sink (make_chunk (make));
      g_autoptr(JsonNode) node = json_gvariant_serialize (chunk);
      g_autofree char *text = json_to_string (node, FALSE);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) parsed = json_from_string (text, &error);
      g_autoptr(GVariant) back = NULL;

      if (parsed == NULL)
        g_error ("%s", error->message);
      back = json_gvariant_deserialize (parsed, "(uav)", &error);
      if (back == NULL)
        g_error ("%s", error->message);
      g_variant_ref_sink (back);
      sum += consume (back);
      if (json_type == NULL)
        {
          g_autoptr(GVariant) items = g_variant_get_child_value (back, 1);
          g_autoptr(GVariant) boxed = g_variant_get_child_value (items, 0);
          g_autoptr(GVariant) item = g_variant_get_variant (boxed);

          json_type = g_strdup (g_variant_get_type_string (item));
        }
    }

  if (sum == 0)
    g_error ("nothing read");
  return (double) (now_ns () - t0) / (n_chunks * ITEMS_PER_CHUNK);
}

static double
median_of (double (*run) (MakeItem, guint),
           MakeItem make,
           guint    n_chunks)
{
  double t[RUNS];

  run (make, n_chunks / 10 + 1);   /* warm up */
  for (guint r = 0; r < RUNS; r++)
    t[r] = run (make, n_chunks);
  qsort (t, RUNS, sizeof (double), compare_double);
  return t[RUNS / 2];
}

int
main (void)
{
  struct {
    const char *name;
    const char *type;
    MakeItem    make;
    guint       n_chunks;
  } kinds[] = {
    { "double", "d", make_double, 2000 },
    { "string of 40 chars", "s", make_string, 2000 },
    { "tuple (sid)", "(sid)", make_tuple, 2000 },
    { "64 doubles", "ad", make_array, 200 },
  };

  printf ("Serialising a chunk of %d items and reading it back, ns per item "
          "(median of %d runs)\n\n", ITEMS_PER_CHUNK, RUNS);
  printf ("| item | GVariant | json-glib | json-glib / GVariant | JSON gives back |\n");
  printf ("| --- | ---: | ---: | ---: | --- |\n");
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      double gv = median_of (run_gvariant, kinds[k].make, kinds[k].n_chunks);
      double js;

      g_clear_pointer (&json_type, g_free);
      js = median_of (run_json, kinds[k].make, kinds[k].n_chunks);
      printf ("| %s (`%s`) | %.0f | %.0f | %.1f× | `%s` |\n",
              kinds[k].name, kinds[k].type, gv, js, js / gv, json_type);
    }

  g_clear_pointer (&json_type, g_free);
  return 0;
}
