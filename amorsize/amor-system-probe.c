/* amor-system-probe.c: reading the machine and measuring thread costs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sched.h>
#endif

#include "amor-clock-private.h"
#include "amor-pool-private.h"
#include "amor-system-private.h"

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

static const char *
skip_blanks (const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

static gboolean
at_line_end (const char *s)
{
  s = skip_blanks (s);
  return *s == '\0' || *s == '\n' || *s == '\r';
}

/* An unsigned decimal at *@p (digits only: no sign, no blanks); advances
 * *@p past it. FALSE on no digits or overflow. */
static gboolean
parse_u64 (const char **p,
           guint64     *out)
{
  const char *s = *p;
  guint64 value = 0;

  if (!g_ascii_isdigit (*s))
    return FALSE;

  for (; g_ascii_isdigit (*s); s++)
    {
      guint digit = (guint) (*s - '0');

      if (value > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }

  *p = s;
  *out = value;
  return TRUE;
}

/* "max" as a whole word at @s. */
static gboolean
is_max (const char *s)
{
  return strncmp (s, "max", 3) == 0 &&
         (s[3] == '\0' || s[3] == '\n' || s[3] == '\r' || s[3] == ' ' || s[3] == '\t');
}

/* The next line after @line, or NULL. */
static const char *
next_line (const char *line)
{
  const char *nl = strchr (line, '\n');
  return nl != NULL ? nl + 1 : NULL;
}

guint
amor_system_parse_cpu_max (const char *contents)
{
  const char *p;
  guint64 quota, period = 100000, cpus;

  if (contents == NULL)
    return 0;

  p = skip_blanks (contents);
  if (is_max (p))
    return 0;

  if (!parse_u64 (&p, &quota))
    return 0;

  p = skip_blanks (p);
  if (!at_line_end (p))
    {
      if (!parse_u64 (&p, &period) || !at_line_end (p))
        return 0;
    }

  if (quota == 0 || period == 0)
    return 0;

  cpus = quota / period + (quota % period != 0 ? 1 : 0);
  return (guint) MIN (cpus, (guint64) G_MAXUINT);
}

guint64
amor_system_parse_meminfo_field (const char *contents,
                                 const char *field)
{
  gsize field_len;

  g_return_val_if_fail (field != NULL, 0);

  if (contents == NULL)
    return 0;

  field_len = strlen (field);

  for (const char *line = contents; line != NULL && *line != '\0'; line = next_line (line))
    {
      const char *p;
      guint64 value;

      if (strncmp (line, field, field_len) != 0 || line[field_len] != ':')
        continue;

      p = skip_blanks (line + field_len + 1);
      if (!parse_u64 (&p, &value))
        return 0;

      p = skip_blanks (p);
      if (p[0] == 'k' && p[1] == 'B')
        {
          if (!at_line_end (p + 2) || value > G_MAXUINT64 / 1024)
            return 0;
          return value * 1024;
        }

      return at_line_end (p) ? value : 0;
    }

  return 0;
}

guint64
amor_system_parse_meminfo (const char *contents)
{
  return amor_system_parse_meminfo_field (contents, "MemAvailable");
}

guint64
amor_system_parse_cgroup_memory (const char *memory_max,
                                 const char *memory_current)
{
  const char *p;
  guint64 max, current = 0;

  if (memory_max == NULL)
    return G_MAXUINT64;

  p = skip_blanks (memory_max);
  if (is_max (p) || !parse_u64 (&p, &max) || !at_line_end (p))
    return G_MAXUINT64;

  if (memory_current != NULL)
    {
      p = skip_blanks (memory_current);
      if (!parse_u64 (&p, &current) || !at_line_end (p))
        current = 0;
    }

  return max > current ? max - current : 0;
}

char *
amor_system_parse_proc_cgroup (const char *contents)
{
  if (contents == NULL)
    return NULL;

  for (const char *line = contents; line != NULL && *line != '\0'; line = next_line (line))
    {
      const char *path, *end;
      g_autofree char *raw = NULL;

      /* cgroup v2 is hierarchy 0 with no controller list; v1 lines
       * ("4:cpu,cpuacct:/x") name the old hierarchies and are ignored. */
      if (strncmp (line, "0::", 3) != 0)
        continue;

      path = line + 3;
      end = path;
      while (*end != '\0' && *end != '\n' && *end != '\r')
        end++;
      while (end > path && (end[-1] == ' ' || end[-1] == '\t'))
        end--;

      if (end == path || path[0] != '/')
        return NULL;

      raw = g_strndup (path, (gsize) (end - path));
      return g_canonicalize_filename (raw, "/");
    }

  return NULL;
}

typedef struct
{
  gint64   package;
  gint64   core;
} AmorCorePair;

static gint
amor_core_pair_compare (gconstpointer a,
                        gconstpointer b)
{
  const AmorCorePair *x = a, *y = b;

  if (x->package != y->package)
    return x->package < y->package ? -1 : 1;
  if (x->core != y->core)
    return x->core < y->core ? -1 : 1;
  return 0;
}

/* The number of distinct pairs in @pairs (sorted in place). */
static guint
amor_core_pairs_count_distinct (GArray *pairs)
{
  guint distinct = 0;

  g_array_sort (pairs, amor_core_pair_compare);
  for (guint i = 0; i < pairs->len; i++)
    if (i == 0 || amor_core_pair_compare (&g_array_index (pairs, AmorCorePair, i - 1),
                                          &g_array_index (pairs, AmorCorePair, i)) != 0)
      distinct++;

  return distinct;
}

/* A signed decimal (sysfs writes -1 for an unknown package) filling the
 * rest of the line. */
static gboolean
parse_i64_line (const char *s,
                gint64     *out)
{
  gboolean negative = FALSE;
  guint64 value;

  s = skip_blanks (s);
  if (*s == '-')
    {
      negative = TRUE;
      s++;
    }
  if (!parse_u64 (&s, &value) || !at_line_end (s) || value > G_MAXINT64)
    return FALSE;

  *out = negative ? -(gint64) value : (gint64) value;
  return TRUE;
}

guint
amor_system_parse_cpuinfo (const char *contents)
{
  g_autoptr(GArray) pairs = NULL;
  gboolean has_package = FALSE, has_core = FALSE;
  AmorCorePair pair = { 0, 0 };

  if (contents == NULL)
    return 0;

  pairs = g_array_new (FALSE, FALSE, sizeof (AmorCorePair));

  /* One block per processor, separated by blank lines; a "processor"
   * line also starts a new block. */
  for (const char *line = contents; ; line = next_line (line))
    {
      const char *colon = NULL, *end;
      gsize key_len = 0;
      gboolean block_end = (line == NULL || at_line_end (line));

      if (!block_end)
        {
          for (end = line; *end != '\0' && *end != '\n'; end++)
            if (*end == ':')
              {
                colon = end;
                break;
              }

          if (colon == NULL)
            continue;

          key_len = (gsize) (colon - line);
          while (key_len > 0 && (line[key_len - 1] == ' ' || line[key_len - 1] == '\t'))
            key_len--;

          if (key_len == strlen ("processor") && strncmp (line, "processor", key_len) == 0)
            block_end = TRUE;
        }

      if (block_end)
        {
          if (has_package && has_core)
            g_array_append_val (pairs, pair);
          has_package = has_core = FALSE;
          if (line == NULL)
            break;
          continue;
        }

      if (key_len == strlen ("physical id") && strncmp (line, "physical id", key_len) == 0)
        has_package = parse_i64_line (colon + 1, &pair.package);
      else if (key_len == strlen ("core id") && strncmp (line, "core id", key_len) == 0)
        has_core = parse_i64_line (colon + 1, &pair.core);
    }

  return amor_core_pairs_count_distinct (pairs);
}

/* ------------------------------------------------------------------ */
/* Reading files below a root                                          */
/* ------------------------------------------------------------------ */

/* The contents of @dir/@name (or of @dir alone), or NULL when it cannot
 * be read. */
static char *
amor_probe_read_file (const char *dir,
                      const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;

  return contents;
}

/* Distinct (physical_package_id, core_id) pairs of
 * @cpu_dir/cpuN/topology; 0 when there are none. */
static guint
amor_probe_read_sysfs_cores (const char *cpu_dir)
{
  g_autoptr(GDir) dir = g_dir_open (cpu_dir, 0, NULL);
  g_autoptr(GArray) pairs = NULL;
  const char *name;

  if (dir == NULL)
    return 0;

  pairs = g_array_new (FALSE, FALSE, sizeof (AmorCorePair));

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *package_path = NULL;
      g_autofree char *core_path = NULL;
      g_autofree char *package = NULL;
      g_autofree char *core = NULL;
      AmorCorePair pair;
      const char *p = name + 3;
      guint64 index;

      if (!g_str_has_prefix (name, "cpu") || !parse_u64 (&p, &index) || *p != '\0')
        continue;

      package_path = g_build_filename (cpu_dir, name, "topology", "physical_package_id", NULL);
      core_path = g_build_filename (cpu_dir, name, "topology", "core_id", NULL);

      if (!g_file_get_contents (core_path, &core, NULL, NULL) ||
          !parse_i64_line (core, &pair.core))
        continue;

      if (!g_file_get_contents (package_path, &package, NULL, NULL) ||
          !parse_i64_line (package, &pair.package))
        pair.package = 0;

      g_array_append_val (pairs, pair);
    }

  return amor_core_pairs_count_distinct (pairs);
}

void
amor_system_probe_read (const char      *root,
                        guint            affinity_cpus,
                        AmorSystemProbe *probe)
{
  g_autofree char *proc_cgroup = NULL;
  g_autofree char *cgroup = NULL;
  g_autofree char *meminfo = NULL;
  g_autofree char *cpuinfo = NULL;
  g_autofree char *path = NULL;
  guint quota_cpus = 0;
  guint64 cgroup_memory = G_MAXUINT64;
  guint64 memory;
  guint cores;

  g_return_if_fail (root != NULL);
  g_return_if_fail (probe != NULL);

  probe->n_cpus = MAX (1, affinity_cpus);
  g_debug ("%u CPU%s in the affinity mask", probe->n_cpus, probe->n_cpus == 1 ? "" : "s");

  /* The cgroup v2 limits of our group and of every parent up to the root
   * of the cgroup file system: a limit set on a parent applies too. */
  path = g_build_filename (root, "proc", "self", "cgroup", NULL);
  proc_cgroup = amor_probe_read_file (path, NULL);
  cgroup = amor_system_parse_proc_cgroup (proc_cgroup);
  if (cgroup == NULL)
    g_debug ("no cgroup v2 path in %s: no cgroup limits", path);
  g_clear_pointer (&path, g_free);

  for (char *group = g_steal_pointer (&cgroup); group != NULL; )
    {
      g_autofree char *dir = g_build_filename (root, "sys", "fs", "cgroup", group, NULL);
      g_autofree char *cpu_max = amor_probe_read_file (dir, "cpu.max");
      g_autofree char *memory_max = amor_probe_read_file (dir, "memory.max");
      char *parent;

      if (cpu_max != NULL)
        {
          guint limit = amor_system_parse_cpu_max (cpu_max);

          if (limit == 0)
            g_debug ("%s/cpu.max: no CPU limit", dir);
          else
            g_debug ("%s/cpu.max: a quota of %u CPU%s", dir, limit, limit == 1 ? "" : "s");

          if (limit != 0 && (quota_cpus == 0 || limit < quota_cpus))
            quota_cpus = limit;
        }

      if (memory_max != NULL)
        {
          g_autofree char *memory_current = amor_probe_read_file (dir, "memory.current");
          guint64 limit = amor_system_parse_cgroup_memory (memory_max, memory_current);

          if (limit == G_MAXUINT64)
            g_debug ("%s/memory.max: no memory limit", dir);
          else
            g_debug ("%s/memory.max - memory.current: %" G_GUINT64_FORMAT " bytes left",
                     dir, limit);

          cgroup_memory = MIN (cgroup_memory, limit);
        }

      if (strcmp (group, "/") == 0)
        parent = NULL;
      else
        parent = g_path_get_dirname (group);
      g_free (group);
      group = parent;
    }

  if (quota_cpus != 0 && quota_cpus < probe->n_cpus)
    probe->n_cpus = quota_cpus;

  /* Memory: MemAvailable (Linux >= 3.14); before that, the usual
   * approximation of free + buffers + page cache. */
  path = g_build_filename (root, "proc", "meminfo", NULL);
  meminfo = amor_probe_read_file (path, NULL);
  memory = amor_system_parse_meminfo (meminfo);
  if (memory != 0)
    {
      g_debug ("MemAvailable: %" G_GUINT64_FORMAT " bytes", memory);
    }
  else
    {
      guint64 free_bytes = amor_system_parse_meminfo_field (meminfo, "MemFree");
      guint64 buffers = amor_system_parse_meminfo_field (meminfo, "Buffers");
      guint64 cached = amor_system_parse_meminfo_field (meminfo, "Cached");

      if (free_bytes != 0 &&
          buffers <= G_MAXUINT64 - free_bytes &&
          cached <= G_MAXUINT64 - free_bytes - buffers)
        {
          memory = free_bytes + buffers + cached;
          g_debug ("no MemAvailable in %s: MemFree + Buffers + Cached = %"
                   G_GUINT64_FORMAT " bytes", path, memory);
        }
      else
        {
          memory = G_MAXUINT64;
          g_debug ("no memory figures in %s", path);
        }
    }
  probe->available_memory = MIN (memory, cgroup_memory);

  /* Physical cores, at most the usable CPUs. */
  g_clear_pointer (&path, g_free);
  path = g_build_filename (root, "proc", "cpuinfo", NULL);
  cpuinfo = amor_probe_read_file (path, NULL);
  cores = amor_system_parse_cpuinfo (cpuinfo);
  if (cores != 0)
    {
      g_debug ("%u physical cores in %s", cores, path);
    }
  else
    {
      g_clear_pointer (&path, g_free);
      path = g_build_filename (root, "sys", "devices", "system", "cpu", NULL);
      cores = amor_probe_read_sysfs_cores (path);
      if (cores != 0)
        g_debug ("%u physical cores in %s", cores, path);
      else
        g_debug ("no core topology below %s: one core per CPU", root);
    }
  probe->n_physical_cores = CLAMP (cores, 1, probe->n_cpus);
  if (cores == 0)
    probe->n_physical_cores = probe->n_cpus;

  g_debug ("read below %s: n-cpus %u, n-physical-cores %u, available-memory %" G_GUINT64_FORMAT,
           root, probe->n_cpus, probe->n_physical_cores, probe->available_memory);
}

guint
amor_system_probe_affinity (void)
{
#ifdef __linux__
  /* Grow the mask until the kernel accepts its size: machines with more
   * than CPU_SETSIZE (1024) CPUs need a bigger one. */
  for (int n_bits = CPU_SETSIZE; n_bits <= (1 << 20); n_bits *= 2)
    {
      cpu_set_t *set = CPU_ALLOC (n_bits);
      size_t size = CPU_ALLOC_SIZE (n_bits);
      int count = -1;
      int saved_errno;

      if (set == NULL)
        break;

      CPU_ZERO_S (size, set);
      if (sched_getaffinity (0, size, set) == 0)
        count = CPU_COUNT_S (size, set);
      saved_errno = errno;
      CPU_FREE (set);

      if (count > 0)
        return (guint) count;
      if (count == 0 || saved_errno != EINVAL)
        break;
    }
#endif

  return MAX (1, g_get_num_processors ());
}

void
amor_system_probe_read_machine (AmorSystemProbe *probe)
{
  g_return_if_fail (probe != NULL);

  amor_system_probe_read ("/", amor_system_probe_affinity (), probe);

#if defined(_SC_AVPHYS_PAGES) && defined(_SC_PAGESIZE)
  if (probe->available_memory == G_MAXUINT64)
    {
      long pages = sysconf (_SC_AVPHYS_PAGES);
      long page_size = sysconf (_SC_PAGESIZE);

      if (pages > 0 && page_size > 0 &&
          (guint64) pages <= G_MAXUINT64 / (guint64) page_size)
        {
          probe->available_memory = (guint64) pages * (guint64) page_size;
          g_debug ("free pages from sysconf: %" G_GUINT64_FORMAT " bytes",
                   probe->available_memory);
        }
    }
#endif
}

/* ------------------------------------------------------------------ */
/* Measuring                                                           */
/* ------------------------------------------------------------------ */

/* Bounds that keep a measurement within a few milliseconds. */
#define AMOR_PROBE_MAX_TEAM           1024
#define AMOR_PROBE_FORK_JOIN_REPS     5
#define AMOR_PROBE_IDLE_US            500
#define AMOR_PROBE_DISPATCH_REPS      5
#define AMOR_PROBE_FORK_JOIN_MIN_REPS 3
#define AMOR_PROBE_DISPATCH_MIN_REPS  1
#define AMOR_PROBE_FORK_JOIN_BUDGET   (G_GINT64_CONSTANT (4000000))  /* ns */
#define AMOR_PROBE_DISPATCH_BUDGET    (G_GINT64_CONSTANT (2000000))  /* ns */
#define AMOR_PROBE_BARRIER_TIMEOUT    (G_GINT64_CONSTANT (100000))   /* ns */
#define AMOR_PROBE_CHUNKS_PER_WORKER  2048
#define AMOR_PROBE_MAX_CHUNKS         65536
#define AMOR_PROBE_SERIAL_CHUNKS      4096

typedef struct
{
  /* The shared counter the workers pull chunks from, alone on its line. */
  char     pad0[64];
  guint64  next;
  char     pad1[64 - sizeof (guint64)];

  guint64  n_chunks;
  guint    n_workers;
  guint    arrived;     /* atomic: workers at the start line */
  gint64  *start_ns;    /* per worker; 0 for a worker that got no chunk */
  gint64  *end_ns;
} AmorDispatchRun;

static void
amor_probe_empty_worker (guint    worker,
                         gpointer data)
{
}

/* What an executor worker does per chunk, minus the work: one fetch-add
 * on the shared counter. Returns the number of chunks taken. */
static guint64
amor_probe_pull_chunks (AmorDispatchRun *run)
{
  guint64 taken = 0;

  while (__atomic_fetch_add (&run->next, 1, __ATOMIC_RELAXED) < run->n_chunks)
    taken++;

  return taken;
}

static void
amor_probe_dispatch_worker (guint    worker,
                            gpointer data)
{
  AmorDispatchRun *run = data;
  gint64 wait_start, start;

  /* Start together, so the clock sees n workers pulling at once and not
   * the fork-join: the first worker would otherwise take most chunks alone
   * while the others wake up. Waiting yields, so that a worker sharing a
   * processor with a waiting one gets to run; one that waits too long (a
   * busy machine, more workers than threads) starts anyway. */
  __atomic_add_fetch (&run->arrived, 1, __ATOMIC_ACQ_REL);
  wait_start = amor_clock_now_ns ();
  while (__atomic_load_n (&run->arrived, __ATOMIC_ACQUIRE) < run->n_workers &&
         amor_clock_now_ns () - wait_start < AMOR_PROBE_BARRIER_TIMEOUT)
    g_thread_yield ();

  start = amor_clock_now_ns ();
  if (amor_probe_pull_chunks (run) > 0)
    {
      run->start_ns[worker] = start;
      run->end_ns[worker] = amor_clock_now_ns ();
    }
}

static int
amor_probe_compare_doubles (const void *a,
                            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
amor_probe_median (double *values,
                   guint   n_values)
{
  qsort (values, n_values, sizeof (double), amor_probe_compare_doubles);
  if (n_values % 2 == 1)
    return values[n_values / 2];
  return (values[n_values / 2 - 1] + values[n_values / 2]) / 2;
}

/* Seconds per chunk with one worker and no contention: the floor of the
 * dispatch cost. */
static double
amor_probe_serial_dispatch (void)
{
  AmorDispatchRun run = { .next = 0, .n_chunks = AMOR_PROBE_SERIAL_CHUNKS };
  double best = G_MAXDOUBLE;

  for (guint rep = 0; rep < 3; rep++)
    {
      gint64 start = amor_clock_now_ns ();

      __atomic_store_n (&run.next, 0, __ATOMIC_RELAXED);
      amor_probe_pull_chunks (&run);
      best = MIN (best, amor_clock_seconds_since (start) / AMOR_PROBE_SERIAL_CHUNKS);
    }

  return best;
}

/* Seconds per chunk of one run of @run->n_workers workers pulling
 * @run->n_chunks empty chunks: from the first worker's start to the last
 * worker's end, over the chunks. With every worker pulling at once the
 * hand-outs serialise on the counter's cache line, so this is the time
 * one hand-out costs while the others pull too. */
static double
amor_probe_dispatch_run (AmorDispatchRun *run)
{
  gint64 first_start = G_MAXINT64, last_end = 0;

  __atomic_store_n (&run->next, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&run->arrived, 0, __ATOMIC_RELAXED);
  memset (run->start_ns, 0, run->n_workers * sizeof (gint64));
  memset (run->end_ns, 0, run->n_workers * sizeof (gint64));

  amor_pool_run_team (run->n_workers, amor_probe_dispatch_worker, run);

  for (guint i = 0; i < run->n_workers; i++)
    if (run->end_ns[i] != 0)
      {
        first_start = MIN (first_start, run->start_ns[i]);
        last_end = MAX (last_end, run->end_ns[i]);
      }

  return (double) (last_end - first_start) / 1e9 / (double) run->n_chunks;
}

void
amor_system_probe_measure_costs (guint   n_workers,
                                 double *fork_join_cost,
                                 double *dispatch_cost)
{
  double samples[MAX (AMOR_PROBE_FORK_JOIN_REPS, AMOR_PROBE_DISPATCH_REPS)];
  AmorDispatchRun run = { 0 };
  double fork_join = 0, dispatch, serial;
  guint n, reps;
  gint64 measure_start, start;

  g_return_if_fail (fork_join_cost != NULL);
  g_return_if_fail (dispatch_cost != NULL);

  measure_start = amor_clock_now_ns ();
  n = CLAMP (n_workers, 1, AMOR_PROBE_MAX_TEAM);
  serial = amor_probe_serial_dispatch ();

  if (amor_pool_in_team ())
    {
      /* A team started by a team worker runs inline on that worker. */
      *fork_join_cost = 0;
      *dispatch_cost = serial;
      g_debug ("inside a team: fork-join 0 s (nested teams run inline), "
               "dispatch %.1f ns per chunk", serial * 1e9);
      return;
    }

  if (n > 1)
    {
      /* Warm up: the first team starts the pool's threads. */
      amor_pool_run_team (n, amor_probe_empty_worker, NULL);
      amor_pool_run_team (n, amor_probe_empty_worker, NULL);

      start = amor_clock_now_ns ();
      for (reps = 0; reps < AMOR_PROBE_FORK_JOIN_REPS; reps++)
        {
          gint64 team_start;

          if (reps >= AMOR_PROBE_FORK_JOIN_MIN_REPS &&
              amor_clock_now_ns () - start > AMOR_PROBE_FORK_JOIN_BUDGET)
            break;

          /* A map rarely follows another within microseconds: by the time
           * it starts, the pool's threads (and the processors they ran on)
           * have gone idle, and waking them costs far more than waking
           * threads that just finished a team. Measure that. */
          g_usleep (AMOR_PROBE_IDLE_US);

          team_start = amor_clock_now_ns ();
          amor_pool_run_team (n, amor_probe_empty_worker, NULL);
          samples[reps] = amor_clock_seconds_since (team_start);
        }
      fork_join = amor_probe_median (samples, reps);
      g_debug ("fork-join of a team of %u workers: %.1f µs (median of %u teams)",
               n, fork_join * 1e6, reps);
    }

  /* Dispatch: n workers pull empty chunks from one shared counter; the
   * clock runs only while they pull, so the fork-join share is left out. */
  run.n_workers = n;
  run.n_chunks = MIN ((guint64) AMOR_PROBE_CHUNKS_PER_WORKER * n, AMOR_PROBE_MAX_CHUNKS);
  run.start_ns = g_new0 (gint64, n);
  run.end_ns = g_new0 (gint64, n);

  start = amor_clock_now_ns ();
  for (reps = 0; reps < AMOR_PROBE_DISPATCH_REPS; reps++)
    {
      if (reps >= AMOR_PROBE_DISPATCH_MIN_REPS &&
          amor_clock_now_ns () - start > AMOR_PROBE_DISPATCH_BUDGET)
        break;

      samples[reps] = amor_probe_dispatch_run (&run);
    }
  dispatch = amor_probe_median (samples, reps);

  g_free (run.start_ns);
  g_free (run.end_ns);

  /* Never below one uncontended hand-out, never absurd. */
  if (!(dispatch >= serial))
    dispatch = serial;
  if (!isfinite (dispatch) || dispatch < 0)
    dispatch = 0;
  if (!isfinite (fork_join) || fork_join < 0)
    fork_join = 0;

  g_debug ("dispatch with %u worker%s: %.1f ns per chunk (median of %u runs of %"
           G_GUINT64_FORMAT " chunks; %.1f ns without contention); measured in %.2f ms",
           n, n == 1 ? "" : "s", dispatch * 1e9, reps, run.n_chunks, serial * 1e9,
           amor_clock_seconds_since (measure_start) * 1e3);

  *fork_join_cost = fork_join;
  *dispatch_cost = dispatch;
}
