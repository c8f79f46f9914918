/* test-system.c: AmorSystem, its parsers and its fixtures
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#ifdef __linux__
#include <sched.h>
#endif

#include <amorsize/amorsize.h>

#include "amorsize/amor-pool-private.h"
#include "amorsize/amor-system-private.h"

/* The library logs in this domain (the test itself has none). */
#define AMOR_LOG_DOMAIN "Amor"

#define KiB ((guint64) 1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)

/* ------------------------------------------------------------------ */
/* Parsers, on strings                                                 */
/* ------------------------------------------------------------------ */

static void
test_parse_cpu_max (void)
{
  g_assert_cmpuint (amor_system_parse_cpu_max ("max 100000\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("max"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("50000 100000\n"), ==, 1);
  g_assert_cmpuint (amor_system_parse_cpu_max ("100000 100000\n"), ==, 1);
  g_assert_cmpuint (amor_system_parse_cpu_max ("100001 100000\n"), ==, 2);
  g_assert_cmpuint (amor_system_parse_cpu_max ("150000 100000\n"), ==, 2);
  g_assert_cmpuint (amor_system_parse_cpu_max ("200000 100000"), ==, 2);
  g_assert_cmpuint (amor_system_parse_cpu_max ("1000 1000000\n"), ==, 1);
  g_assert_cmpuint (amor_system_parse_cpu_max ("  400000\t100000  \n"), ==, 4);
  g_assert_cmpuint (amor_system_parse_cpu_max ("300000 100000\r\n"), ==, 3);
  /* The kernel's default period. */
  g_assert_cmpuint (amor_system_parse_cpu_max ("250000\n"), ==, 3);
  /* Absurd quotas saturate instead of wrapping. */
  g_assert_cmpuint (amor_system_parse_cpu_max ("18446744073709551615 1\n"), ==, G_MAXUINT);

  /* No limit for anything unparsable. */
  g_assert_cmpuint (amor_system_parse_cpu_max (NULL), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max (""), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("garbage"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("maximum 100000"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("-50000 100000"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("50000 -100000"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("0 100000"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("50000 0"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("50000 100000 7"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("50000x 100000"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpu_max ("99999999999999999999999 100000"), ==, 0);
}

static const char meminfo[] =
  "MemTotal:       16303476 kB\n"
  "MemFree:         1234567 kB\n"
  "MemAvailable:    8388608 kB\n"
  "Buffers:          204800 kB\n"
  "Cached:          4194304 kB\n"
  "SwapCached:            0 kB\n"
  "HugePages_Total:       0\n";

static void
test_parse_meminfo (void)
{
  g_assert_cmpuint (amor_system_parse_meminfo (meminfo), ==, 8 * GiB);
  g_assert_cmpuint (amor_system_parse_meminfo_field (meminfo, "MemAvailable"), ==, 8 * GiB);
  g_assert_cmpuint (amor_system_parse_meminfo_field (meminfo, "MemFree"), ==, 1234567 * KiB);
  g_assert_cmpuint (amor_system_parse_meminfo_field (meminfo, "Cached"), ==, 4194304 * KiB);
  /* "Cached" is not "SwapCached", and a field without a unit is a count. */
  g_assert_cmpuint (amor_system_parse_meminfo_field ("SwapCached: 5 kB\n", "Cached"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo_field (meminfo, "HugePages_Total"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo_field ("HugePages_Total:  12\n", "HugePages_Total"), ==, 12);
  /* The last line needs no newline. */
  g_assert_cmpuint (amor_system_parse_meminfo ("MemTotal: 1 kB\nMemAvailable: 3 kB"), ==, 3 * KiB);

  /* Absent or unparsable: 0. */
  g_assert_cmpuint (amor_system_parse_meminfo (NULL), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo (""), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("MemTotal: 16303476 kB\nMemFree: 5 kB\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("MemAvailable:\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("MemAvailable: lots kB\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("MemAvailable: -5 kB\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("MemAvailable: 5 MB\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("MemAvailable: 5 kBytes\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("MemAvailable: 99999999999999999999 kB\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("MemAvailable: 18446744073709551615 kB\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_meminfo ("\x01\x02\xff garbage\n"), ==, 0);
}

static void
test_parse_cgroup_memory (void)
{
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("max\n", "123\n"), ==, G_MAXUINT64);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("536870912\n", "134217728\n"), ==, 384 * MiB);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("1000", "400"), ==, 600);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("1000", "1000"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("1000", "2000"), ==, 0);
  /* memory.current unreadable or garbage counts as 0. */
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("1000\n", NULL), ==, 1000);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("1000\n", ""), ==, 1000);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("1000\n", "junk"), ==, 1000);
  /* memory.max unreadable or garbage: no limit. */
  g_assert_cmpuint (amor_system_parse_cgroup_memory (NULL, "5"), ==, G_MAXUINT64);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("", "5"), ==, G_MAXUINT64);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("-5\n", "5"), ==, G_MAXUINT64);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("maximum\n", "5"), ==, G_MAXUINT64);
  g_assert_cmpuint (amor_system_parse_cgroup_memory ("12 34\n", "5"), ==, G_MAXUINT64);
}

static void
test_parse_proc_cgroup (void)
{
  struct {
    const char *contents;
    const char *path;
  } cases[] = {
    { "0::/user.slice/user-1000.slice/app.scope\n", "/user.slice/user-1000.slice/app.scope" },
    { "0::/\n", "/" },
    { "0::/system.slice/", "/system.slice" },
    { "0::/a/./b//c\n", "/a/b/c" },
    { "0::/a/../../../etc\n", "/etc" },
    { "0::/x.scope \r\n", "/x.scope" },
    /* A hybrid system lists v1 hierarchies first. */
    { "12:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/abc\n", "/docker/abc" },
    { "12:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n", NULL },
    { "0::\n", NULL },
    { "0::relative/path\n", NULL },
    { "10::/not-v2\n", NULL },
    { "garbage", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = amor_system_parse_proc_cgroup (cases[i].contents);

      g_test_message ("/proc/self/cgroup %u", i);
      g_assert_cmpstr (path, ==, cases[i].path);
    }

  g_assert_null (amor_system_parse_proc_cgroup (NULL));
}

/* /proc/cpuinfo of @n_logical CPUs, @threads per core, @packages sockets. */
static char *
make_cpuinfo (guint    n_logical,
              guint    threads,
              guint    packages,
              gboolean with_package,
              gboolean with_core)
{
  GString *s = g_string_new (NULL);
  guint per_package = n_logical / packages;

  for (guint i = 0; i < n_logical; i++)
    {
      g_string_append_printf (s, "processor\t: %u\nvendor_id\t: GenuineIntel\n", i);
      if (with_package)
        g_string_append_printf (s, "physical id\t: %u\n", i / per_package);
      g_string_append_printf (s, "siblings\t: %u\n", per_package);
      if (with_core)
        g_string_append_printf (s, "core id\t\t: %u\n", (i % per_package) / threads);
      g_string_append (s, "flags\t\t: fpu vme de pse\n\n");
    }

  return g_string_free (s, FALSE);
}

static void
test_parse_cpuinfo (void)
{
  g_autofree char *plain = make_cpuinfo (8, 1, 1, TRUE, TRUE);
  g_autofree char *ht = make_cpuinfo (4, 2, 1, TRUE, TRUE);
  g_autofree char *two_sockets = make_cpuinfo (16, 2, 2, TRUE, TRUE);
  g_autofree char *no_package = make_cpuinfo (4, 1, 1, FALSE, TRUE);
  g_autofree char *no_core = make_cpuinfo (4, 1, 1, TRUE, FALSE);

  g_assert_cmpuint (amor_system_parse_cpuinfo (plain), ==, 8);
  g_assert_cmpuint (amor_system_parse_cpuinfo (ht), ==, 2);
  /* Core ids repeat on each socket: pairs, not core ids, are counted. */
  g_assert_cmpuint (amor_system_parse_cpuinfo (two_sockets), ==, 8);
  g_assert_cmpuint (amor_system_parse_cpuinfo (no_package), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpuinfo (no_core), ==, 0);

  /* Blocks without blank lines between them still split on "processor". */
  g_assert_cmpuint (amor_system_parse_cpuinfo ("processor : 0\nphysical id : 0\ncore id : 0\n"
                                               "processor : 1\nphysical id : 0\ncore id : 1\n"
                                               "processor : 2\nphysical id : 1\ncore id : 0"),
                    ==, 3);
  /* An ARM-style file: no topology at all. */
  g_assert_cmpuint (amor_system_parse_cpuinfo ("processor\t: 0\nBogoMIPS\t: 108.00\n\n"
                                               "processor\t: 1\nBogoMIPS\t: 108.00\n\n"
                                               "Hardware\t: BCM2835\n"),
                    ==, 0);

  g_assert_cmpuint (amor_system_parse_cpuinfo (NULL), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpuinfo (""), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpuinfo ("\n\n\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpuinfo (":::\n: : :\nphysical id\ncore id\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpuinfo ("processor : 0\nphysical id : x\ncore id : y\n"), ==, 0);
  g_assert_cmpuint (amor_system_parse_cpuinfo ("processor : 0\nphysical id : 0 1\ncore id : 0\n"), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Fixture trees                                                       */
/* ------------------------------------------------------------------ */

typedef struct
{
  const char *name;
  guint       affinity;
  guint       n_cpus;
  guint       n_physical_cores;
  guint64     available_memory;
} FixtureCase;

static const FixtureCase fixture_cases[] = {
  /* No cgroup at all: the affinity mask and MemAvailable. */
  { "no-cgroup",            8, 8, 8, 8 * GiB },
  { "no-cgroup",            3, 3, 3, 8 * GiB },
  { "cpu-max-unlimited",    8, 8, 8, 8 * GiB },
  { "cpu-max-half",         8, 1, 1, 8 * GiB },
  { "cpu-max-fraction",     8, 2, 2, 8 * GiB },
  /* The affinity mask can be tighter than the quota. */
  { "cpu-max-fraction",     1, 1, 1, 8 * GiB },
  /* 2.5 CPUs on the parent, none below: 3; 2 GiB - 1 GiB on the grandparent. */
  { "parent-limits",        8, 3, 3, 1 * GiB },
  { "memory-max-unlimited", 8, 8, 8, 8 * GiB },
  { "memory-limit",         8, 8, 8, 384 * MiB },
  /* A container whose cgroup is the root of its cgroup namespace. */
  { "container-root",       8, 2, 2, 768 * MiB },
  /* cgroup v1 files are not read. */
  { "cgroup-v1",            8, 8, 8, 8 * GiB },
  /* MemFree + Buffers + Cached. */
  { "no-memavailable",      4, 4, 4, (512000 + 10240 + 256000) * KiB },
  { "hyperthreads",         4, 4, 2, 8 * GiB },
  { "hyperthreads",         1, 1, 1, 8 * GiB },
  { "two-sockets",          8, 8, 4, 8 * GiB },
  /* No cores anywhere: one per CPU. */
  { "no-physical-id",       4, 4, 4, 8 * GiB },
  { "sysfs-topology",       4, 4, 2, 8 * GiB },
  /* Garbage and empty files: no limits, no memory figure. */
  { "garbage",              8, 8, 8, G_MAXUINT64 },
  { "empty",                8, 8, 8, G_MAXUINT64 },
  /* "0::/../../../etc" stays below sys/fs/cgroup. */
  { "escape",               8, 1, 1, 8 * GiB },
  /* A root that does not exist at all. */
  { "does-not-exist",       6, 6, 6, G_MAXUINT64 },
  /* An affinity of 0 (a caller's bug) still gives one CPU. */
  { "no-cgroup",            0, 1, 1, 8 * GiB },
};

static void
test_probe_fixtures (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (fixture_cases); i++)
    {
      const FixtureCase *c = &fixture_cases[i];
      g_autofree char *root = g_test_build_filename (G_TEST_DIST, "fixtures", "system",
                                                     c->name, NULL);
      AmorSystemProbe probe = { 0, 0, 0 };

      g_test_message ("fixture %s, affinity %u", c->name, c->affinity);
      if (strcmp (c->name, "does-not-exist") != 0)
        g_assert_true (g_file_test (root, G_FILE_TEST_IS_DIR));

      amor_system_probe_read (root, c->affinity, &probe);
      g_assert_cmpuint (probe.n_cpus, ==, c->n_cpus);
      g_assert_cmpuint (probe.n_physical_cores, ==, c->n_physical_cores);
      g_assert_cmpuint (probe.available_memory, ==, c->available_memory);
    }
}

static void
test_probe_fixture_names (void)
{
  /* Every fixture tree is tested. */
  g_autofree char *dir_path = g_test_build_filename (G_TEST_DIST, "fixtures", "system", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n_trees = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gboolean tested = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (fixture_cases); i++)
        tested |= strcmp (fixture_cases[i].name, name) == 0;

      g_test_message ("fixture tree %s", name);
      g_assert_true (tested);
      n_trees++;
    }
  g_assert_cmpuint (n_trees, ==, 17);
}

static void
test_probe_debug (void)
{
  g_autofree char *root = g_test_build_filename (G_TEST_DIST, "fixtures", "system",
                                                 "parent-limits", NULL);
  AmorSystemProbe probe;

  /* Each reading is logged, the cgroup from the inside out. */
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "8 CPUs in the affinity mask");
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "*/app.scope/cpu.max: no CPU limit");
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "*/app.scope/memory.max: no memory limit");
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "*/user-1000.slice/cpu.max: a quota of 3 CPUs");
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "*/user.slice/memory.max - memory.current: 1073741824 bytes left");
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MemAvailable: 8589934592 bytes");
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "8 physical cores in */proc/cpuinfo");
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "read below *: n-cpus 3, n-physical-cores 3, available-memory 1073741824");
  amor_system_probe_read (root, 8, &probe);
  g_test_assert_expected_messages ();
}

/* ------------------------------------------------------------------ */
/* The machine                                                         */
/* ------------------------------------------------------------------ */

static void
test_probe_affinity (void)
{
  guint affinity = amor_system_probe_affinity ();

  g_assert_cmpuint (affinity, >=, 1);
#ifdef __linux__
  {
    /* The plain fixed-size mask agrees on machines of up to 1024 CPUs
     * (`taskset -c 0 test-system` checks a mask of one). */
    cpu_set_t set;

    CPU_ZERO (&set);
    if (sched_getaffinity (0, sizeof set, &set) == 0)
      g_assert_cmpuint (affinity, ==, CPU_COUNT (&set));
  }
#endif
}

static void
test_probe_machine (void)
{
  AmorSystemProbe probe = { 0, 0, 0 };

  amor_system_probe_read_machine (&probe);
  g_assert_cmpuint (probe.n_cpus, >=, 1);
  g_assert_cmpuint (probe.n_cpus, <=, amor_system_probe_affinity ());
  g_assert_cmpuint (probe.n_physical_cores, >=, 1);
  g_assert_cmpuint (probe.n_physical_cores, <=, probe.n_cpus);
  g_assert_cmpuint (probe.available_memory, >, 0);
}

static void
assert_cost (double cost)
{
  g_assert_true (isfinite (cost));
  g_assert_cmpfloat (cost, >=, 0);
}

static void
test_measure_costs (void)
{
  double fork_join = -1, dispatch = -1;

  /* One worker: no team to fork. */
  amor_system_probe_measure_costs (1, &fork_join, &dispatch);
  g_assert_cmpfloat (fork_join, ==, 0);
  assert_cost (dispatch);

  fork_join = dispatch = -1;
  amor_system_probe_measure_costs (2, &fork_join, &dispatch);
  assert_cost (fork_join);
  assert_cost (dispatch);

  fork_join = dispatch = -1;
  amor_system_probe_measure_costs (4, &fork_join, &dispatch);
  assert_cost (fork_join);
  assert_cost (dispatch);
}

typedef struct
{
  AmorSystem *system;
  double      fork_join_cost;
  double      dispatch_cost;
  double      probe_fork_join_cost;
} InTeamData;

static void
in_team_worker (guint    worker,
                gpointer data)
{
  InTeamData *in_team = data;
  double dispatch;

  if (worker != 0)
    return;

  g_assert_true (amor_pool_in_team ());
  in_team->fork_join_cost = amor_system_get_fork_join_cost (in_team->system);
  in_team->dispatch_cost = amor_system_get_dispatch_cost (in_team->system);
  amor_system_probe_measure_costs (4, &in_team->probe_fork_join_cost, &dispatch);
}

static void
test_measure_in_team (void)
{
  /* A team of 13 workers is measured by no other test. */
  g_autoptr(AmorSystem) system = g_object_new (AMOR_TYPE_SYSTEM, "n-cpus", 13, NULL);
  g_autoptr(AmorSystem) given = g_object_new (AMOR_TYPE_SYSTEM,
                                              "n-cpus", 13,
                                              "fork-join-cost", 7e-6,
                                              NULL);
  InTeamData in_team = { system, -1, -1, -1 };

  /* Inside a team a nested team runs inline: no fork-join, and the
   * estimate is not kept... */
  amor_pool_run_team (2, in_team_worker, &in_team);
  g_assert_cmpfloat (in_team.fork_join_cost, ==, 0);
  assert_cost (in_team.dispatch_cost);
  g_assert_cmpfloat (in_team.probe_fork_join_cost, ==, 0);

  /* ... so outside, the real team is measured, and then shared. */
  assert_cost (amor_system_get_fork_join_cost (system));
  assert_cost (amor_system_get_dispatch_cost (system));

  in_team.system = given;
  amor_pool_run_team (2, in_team_worker, &in_team);
  g_assert_cmpfloat (in_team.fork_join_cost, ==, 7e-6);
  g_assert_cmpfloat (in_team.dispatch_cost, ==, amor_system_get_dispatch_cost (system));
}

/* ------------------------------------------------------------------ */
/* The object                                                          */
/* ------------------------------------------------------------------ */

static void
test_custom (void)
{
  g_autoptr(AmorSystem) system = amor_system_new_custom (8, 4, 16 * GiB, 20e-6, 100e-9);
  guint n_cpus, n_physical_cores;
  guint64 available_memory;
  double fork_join_cost, dispatch_cost;

  g_assert_true (AMOR_IS_SYSTEM (system));
  g_assert_cmpuint (amor_system_get_n_cpus (system), ==, 8);
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), ==, 4);
  g_assert_cmpuint (amor_system_get_available_memory (system), ==, 16 * GiB);
  g_assert_cmpfloat (amor_system_get_fork_join_cost (system), ==, 20e-6);
  g_assert_cmpfloat (amor_system_get_dispatch_cost (system), ==, 100e-9);

  g_object_get (system,
                "n-cpus", &n_cpus,
                "n-physical-cores", &n_physical_cores,
                "available-memory", &available_memory,
                "fork-join-cost", &fork_join_cost,
                "dispatch-cost", &dispatch_cost,
                NULL);
  g_assert_cmpuint (n_cpus, ==, 8);
  g_assert_cmpuint (n_physical_cores, ==, 4);
  g_assert_cmpuint (available_memory, ==, 16 * GiB);
  g_assert_cmpfloat (fork_join_cost, ==, 20e-6);
  g_assert_cmpfloat (dispatch_cost, ==, 100e-9);

  /* A custom system is not the default one. */
  g_assert_true (system != amor_system_get_default ());
}

static void
test_custom_zero_costs (void)
{
  /* 0 is a cost like any other (an ideal machine), not "measure". */
  g_autoptr(AmorSystem) system = amor_system_new_custom (1, 1, 1, 0, 0);

  g_assert_cmpuint (amor_system_get_n_cpus (system), ==, 1);
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), ==, 1);
  g_assert_cmpuint (amor_system_get_available_memory (system), ==, 1);
  g_assert_cmpfloat (amor_system_get_fork_join_cost (system), ==, 0);
  g_assert_cmpfloat (amor_system_get_dispatch_cost (system), ==, 0);
}

static void
test_properties (void)
{
  g_autoptr(AmorSystem) system = NULL;
  GParamSpec *pspec;
  const char *names[] = {
    "n-cpus", "n-physical-cores", "available-memory", "fork-join-cost", "dispatch-cost",
  };

  system = g_object_new (AMOR_TYPE_SYSTEM,
                         "n-cpus", 64,
                         "n-physical-cores", 32,
                         "available-memory", G_MAXUINT64,
                         "fork-join-cost", 1e-5,
                         "dispatch-cost", 5e-8,
                         NULL);
  g_assert_cmpuint (amor_system_get_n_cpus (system), ==, 64);
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), ==, 32);
  g_assert_cmpuint (amor_system_get_available_memory (system), ==, G_MAXUINT64);
  g_assert_cmpfloat (amor_system_get_fork_join_cost (system), ==, 1e-5);
  g_assert_cmpfloat (amor_system_get_dispatch_cost (system), ==, 5e-8);

  /* Readable, construct-only writable, with the documented defaults. */
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GValue value = G_VALUE_INIT;

      pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (system), names[i]);
      g_assert_nonnull (pspec);
      g_assert_true (pspec->flags & G_PARAM_READABLE);
      g_assert_true (pspec->flags & G_PARAM_WRITABLE);
      g_assert_true (pspec->flags & G_PARAM_CONSTRUCT_ONLY);

      g_value_init (&value, pspec->value_type);
      g_param_value_set_default (pspec, &value);
      if (i < 2)
        g_assert_cmpuint (g_value_get_uint (&value), ==, 0);
      else if (i == 2)
        g_assert_cmpuint (g_value_get_uint64 (&value), ==, 0);
      else
        g_assert_cmpfloat (g_value_get_double (&value), ==, -1);
      g_value_unset (&value);
    }
}

static void
test_properties_construct_only (void)
{
  g_autoptr(AmorSystem) system = amor_system_new_custom (8, 4, 16 * GiB, 20e-6, 100e-9);

  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING,
                         "*construct property \"n-cpus\"*can't be set after construction*");
  g_object_set (system, "n-cpus", 2, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (amor_system_get_n_cpus (system), ==, 8);
}

static void
test_properties_unset (void)
{
  g_autoptr(AmorSystem) system = NULL;
  g_autoptr(AmorSystem) again = NULL;
  g_autoptr(AmorSystem) half = NULL;
  AmorSystemProbe probe;

  /* Only the CPUs given: cores and memory read, costs measured. */
  system = g_object_new (AMOR_TYPE_SYSTEM, "n-cpus", 3, NULL);
  amor_system_probe_read_machine (&probe);
  g_assert_cmpuint (amor_system_get_n_cpus (system), ==, 3);
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), >=, 1);
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), <=, 3);
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), <=, probe.n_physical_cores);
  g_assert_cmpuint (amor_system_get_available_memory (system), >, 0);
  assert_cost (amor_system_get_fork_join_cost (system));
  assert_cost (amor_system_get_dispatch_cost (system));

  /* The measurement is made once per process and team size. */
  again = amor_system_new_custom (3, 0, 0, -1, -1);
  g_assert_cmpfloat (amor_system_get_dispatch_cost (again), ==, amor_system_get_dispatch_cost (system));
  g_assert_cmpfloat (amor_system_get_fork_join_cost (again), ==, amor_system_get_fork_join_cost (system));

  /* One cost given, the other measured (and shared). */
  half = g_object_new (AMOR_TYPE_SYSTEM, "n-cpus", 3, "dispatch-cost", 1e-9, NULL);
  g_assert_cmpfloat (amor_system_get_dispatch_cost (half), ==, 1e-9);
  g_assert_cmpfloat (amor_system_get_fork_join_cost (half), ==, amor_system_get_fork_join_cost (system));

  /* Given cores and memory stay as given, even with CPUs read. */
  g_clear_object (&half);
  half = g_object_new (AMOR_TYPE_SYSTEM, "n-physical-cores", 1, "available-memory", (guint64) 42, NULL);
  g_assert_cmpuint (amor_system_get_n_cpus (half), ==, probe.n_cpus);
  g_assert_cmpuint (amor_system_get_n_physical_cores (half), ==, 1);
  g_assert_cmpuint (amor_system_get_available_memory (half), ==, 42);
}

static void
test_one_cpu (void)
{
  g_autoptr(AmorSystem) system = g_object_new (AMOR_TYPE_SYSTEM, "n-cpus", 1, NULL);
  double fork_join_cost = -1;

  g_assert_cmpuint (amor_system_get_n_physical_cores (system), ==, 1);
  g_object_get (system, "fork-join-cost", &fork_join_cost, NULL);
  g_assert_cmpfloat (fork_join_cost, ==, 0);
  assert_cost (amor_system_get_dispatch_cost (system));
}

static void
test_invalid_costs (void)
{
  g_autoptr(AmorSystem) system = NULL;

  /* The C constructor refuses bad costs outright. */
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AMOR_COST_IS_VALID (fork_join_cost)*");
  system = amor_system_new_custom (2, 2, GiB, NAN, 1e-7);
  g_test_assert_expected_messages ();
  g_assert_null (system);

  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AMOR_COST_IS_VALID (dispatch_cost)*");
  system = amor_system_new_custom (2, 2, GiB, 1e-5, -0.5);
  g_test_assert_expected_messages ();
  g_assert_null (system);

  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*AMOR_COST_IS_VALID (dispatch_cost)*");
  system = amor_system_new_custom (2, 2, GiB, 1e-5, INFINITY);
  g_test_assert_expected_messages ();
  g_assert_null (system);

  /* Through properties (every language): a negative cost other than -1 is
   * a critical and the cost is measured... */
  g_test_expect_message (AMOR_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
                         "AmorSystem:fork-join-cost must be -1 (measure) or >= 0, not -0.5*");
  system = g_object_new (AMOR_TYPE_SYSTEM,
                         "n-cpus", 2,
                         "fork-join-cost", -0.5,
                         "dispatch-cost", 1e-7,
                         NULL);
  g_test_assert_expected_messages ();
  g_assert_nonnull (system);
  assert_cost (amor_system_get_fork_join_cost (system));
  g_assert_cmpfloat (amor_system_get_dispatch_cost (system), ==, 1e-7);
  g_clear_object (&system);

  /* ... and GObject itself refuses NaN and values below -1. */
  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*out of range*dispatch-cost*");
  system = g_object_new (AMOR_TYPE_SYSTEM,
                         "n-cpus", 2,
                         "fork-join-cost", 2e-5,
                         "dispatch-cost", NAN,
                         NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpfloat (amor_system_get_fork_join_cost (system), ==, 2e-5);
  assert_cost (amor_system_get_dispatch_cost (system));
  g_clear_object (&system);

  g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING, "*out of range*fork-join-cost*");
  system = g_object_new (AMOR_TYPE_SYSTEM,
                         "n-cpus", 2,
                         "fork-join-cost", -2.0,
                         "dispatch-cost", 0.0,
                         NULL);
  g_test_assert_expected_messages ();
  assert_cost (amor_system_get_fork_join_cost (system));
  g_assert_cmpfloat (amor_system_get_dispatch_cost (system), ==, 0);
}

static gpointer
get_default_thread (gpointer data)
{
  return amor_system_get_default ();
}

static void
test_default (void)
{
  AmorSystem *system = amor_system_get_default ();
  AmorSystemProbe probe;
  GThread *threads[4];

  g_assert_true (AMOR_IS_SYSTEM (system));
  g_assert_true (amor_system_get_default () == system);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("default", get_default_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (g_thread_join (threads[i]) == system);

  /* This machine's figures, sane; never its speed. */
  amor_system_probe_read_machine (&probe);
  g_assert_cmpuint (amor_system_get_n_cpus (system), ==, probe.n_cpus);
  g_assert_cmpuint (amor_system_get_n_cpus (system), >=, 1);
  g_assert_cmpuint (amor_system_get_n_cpus (system), <=, amor_system_probe_affinity ());
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), >=, 1);
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), <=, amor_system_get_n_cpus (system));
  g_assert_cmpuint (amor_system_get_available_memory (system), >, 0);
  assert_cost (amor_system_get_fork_join_cost (system));
  assert_cost (amor_system_get_dispatch_cost (system));
  if (amor_system_get_n_cpus (system) == 1)
    g_assert_cmpfloat (amor_system_get_fork_join_cost (system), ==, 0);

  /* Asked again, the same measurement. */
  g_assert_cmpfloat (amor_system_get_fork_join_cost (system), ==,
                     amor_system_get_fork_join_cost (amor_system_get_default ()));
}

static void
test_new (void)
{
  AmorSystem *default_system = amor_system_get_default ();
  g_autoptr(AmorSystem) system = amor_system_new ();
  g_autoptr(AmorSystem) other = amor_system_new ();

  g_assert_true (system != default_system);
  g_assert_true (system != other);
  g_assert_cmpuint (amor_system_get_n_cpus (system), ==, amor_system_get_n_cpus (default_system));
  g_assert_cmpuint (amor_system_get_n_physical_cores (system), ==,
                    amor_system_get_n_physical_cores (default_system));
  g_assert_cmpuint (amor_system_get_available_memory (system), >, 0);

  /* A new system reuses the process-wide measurement. */
  g_assert_cmpfloat (amor_system_get_fork_join_cost (system), ==,
                     amor_system_get_fork_join_cost (default_system));
  g_assert_cmpfloat (amor_system_get_dispatch_cost (system), ==,
                     amor_system_get_dispatch_cost (default_system));
  g_assert_cmpfloat (amor_system_get_dispatch_cost (other), ==,
                     amor_system_get_dispatch_cost (system));
}

typedef struct
{
  AmorSystem *system;
  double      fork_join_cost;
} RaceData;

static gpointer
race_thread (gpointer data)
{
  RaceData *race = data;

  race->fork_join_cost = amor_system_get_fork_join_cost (race->system);
  return NULL;
}

static void
test_lazy_race (void)
{
  /* Several threads ask one unmeasured system at once: one measurement,
   * one answer (a team of 11 is measured by no other test). */
  g_autoptr(AmorSystem) system = amor_system_new_custom (11, 0, 0, -1, -1);
  RaceData races[4];
  GThread *threads[G_N_ELEMENTS (races)];

  for (guint i = 0; i < G_N_ELEMENTS (races); i++)
    {
      races[i].system = system;
      races[i].fork_join_cost = -1;
      threads[i] = g_thread_new ("race", race_thread, &races[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (races); i++)
    {
      g_thread_join (threads[i]);
      assert_cost (races[i].fork_join_cost);
      g_assert_cmpfloat (races[i].fork_join_cost, ==, races[0].fork_join_cost);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/system/parse/cpu-max", test_parse_cpu_max);
  g_test_add_func ("/system/parse/meminfo", test_parse_meminfo);
  g_test_add_func ("/system/parse/cgroup-memory", test_parse_cgroup_memory);
  g_test_add_func ("/system/parse/proc-cgroup", test_parse_proc_cgroup);
  g_test_add_func ("/system/parse/cpuinfo", test_parse_cpuinfo);
  g_test_add_func ("/system/probe/fixtures", test_probe_fixtures);
  g_test_add_func ("/system/probe/fixture-names", test_probe_fixture_names);
  g_test_add_func ("/system/probe/debug", test_probe_debug);
  g_test_add_func ("/system/probe/affinity", test_probe_affinity);
  g_test_add_func ("/system/probe/machine", test_probe_machine);
  g_test_add_func ("/system/measure/costs", test_measure_costs);
  g_test_add_func ("/system/measure/in-team", test_measure_in_team);
  g_test_add_func ("/system/measure/lazy-race", test_lazy_race);
  g_test_add_func ("/system/custom", test_custom);
  g_test_add_func ("/system/custom/zero-costs", test_custom_zero_costs);
  g_test_add_func ("/system/properties", test_properties);
  g_test_add_func ("/system/properties/construct-only", test_properties_construct_only);
  g_test_add_func ("/system/properties/unset", test_properties_unset);
  g_test_add_func ("/system/properties/invalid-costs", test_invalid_costs);
  g_test_add_func ("/system/one-cpu", test_one_cpu);
  g_test_add_func ("/system/default", test_default);
  g_test_add_func ("/system/new", test_new);

  return g_test_run ();
}
