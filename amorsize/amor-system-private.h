/* amor-system-private.h: reading the machine (testable against fixtures)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "amor-system.h"

G_BEGIN_DECLS

/* What /proc and /sys say, read below @root ("/" on a real machine, a
 * fixture directory in the tests). */
typedef struct
{
  guint   n_cpus;            /* affinity ∩ cgroup cpu.max quota, >= 1 */
  guint   n_physical_cores;  /* distinct (package, core) pairs, 1 .. n_cpus */
  guint64 available_memory;  /* MemAvailable ∩ cgroup memory.max - memory.current;
                              * G_MAXUINT64 when nothing below @root tells */
} AmorSystemProbe;

/* The CPU limit of a cgroup v2 cpu.max file ("50000 100000" -> 1,
 * "max 100000" -> 0 meaning no limit). Rounds up: a quota of 1.5 CPUs
 * allows 2. A missing period means the kernel's default of 100000.
 * Returns 0 for no limit or unparsable contents (or NULL). */
guint    amor_system_parse_cpu_max       (const char *contents);

/* The @field line ("MemFree", "Cached", ...) of /proc/meminfo in bytes
 * ("kB" values are multiplied by 1024), 0 if absent or unparsable. */
guint64  amor_system_parse_meminfo_field (const char *contents,
                                          const char *field);

/* MemAvailable of /proc/meminfo in bytes, 0 if absent. */
guint64  amor_system_parse_meminfo       (const char *contents);

/* memory.max - memory.current of a cgroup v2 in bytes (0 when the group
 * is at or over its limit), G_MAXUINT64 when memory.max is "max" or
 * unreadable/unparsable (no limit). An unreadable memory.current counts
 * as 0. */
guint64  amor_system_parse_cgroup_memory (const char *memory_max,
                                          const char *memory_current);

/* The cgroup v2 path of the "0::/path" line in /proc/self/cgroup,
 * canonical (no "..", no trailing slash, "/" for the root), or NULL. */
char    *amor_system_parse_proc_cgroup   (const char *contents);

/* Physical cores from /proc/cpuinfo: distinct (physical id, core id) pairs
 * among the processors listed; 0 if no processor has both fields. */
guint    amor_system_parse_cpuinfo       (const char *contents);

/* Fills @probe from the files below @root, @affinity_cpus being the number
 * of CPUs the affinity mask allows (the caller reads it; fixtures pass it).
 * Reads proc/self/cgroup, proc/meminfo, proc/cpuinfo, the cpu.max,
 * memory.max and memory.current files of the cgroup and of each of its
 * parents below sys/fs/cgroup, and sys/devices/system/cpu/cpuN/topology when
 * proc/cpuinfo names no cores. Missing or garbage files never fail: they
 * mean "no limit" (cgroups), n_cpus (cores) or G_MAXUINT64 (memory). */
void     amor_system_probe_read          (const char      *root,
                                          guint            affinity_cpus,
                                          AmorSystemProbe *probe);

/* Reads this machine: amor_system_probe_read ("/", affinity) and, when
 * /proc says nothing about memory, the C library's count of free pages. */
void     amor_system_probe_read_machine  (AmorSystemProbe *probe);

/* The number of CPUs in this thread's affinity mask (>= 1). */
guint    amor_system_probe_affinity      (void);

/* Measures, on the process-wide worker pool, the cost in seconds of one
 * fork-join of a team of @n_workers and of handing out one chunk. Takes a
 * few milliseconds at most. Fork-join is 0 for one worker, and inside a
 * team worker (nested teams run inline). Both costs are finite and >= 0. */
void     amor_system_probe_measure_costs (guint            n_workers,
                                          double          *fork_join_cost,
                                          double          *dispatch_cost);

/* Feeds the fork-join overhead a real team of @n_workers showed (waking
 * the workers plus joining them) back into a measured fork-join cost, so
 * that a probe taken while the threads were awake does not keep planning
 * small maps as parallel. A cost given at construction never changes. */
void     amor_system_observe_fork_join   (AmorSystem      *self,
                                          guint            n_workers,
                                          double           seconds);

G_END_DECLS
