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
  guint   n_physical_cores;  /* distinct (package, core) pairs, >= 1 */
  guint64 available_memory;  /* MemAvailable ∩ cgroup memory.max - memory.current */
} AmorSystemProbe;

/* The CPU limit of a cgroup v2 cpu.max file ("50000 100000" -> 1,
 * "max 100000" -> 0 meaning no limit). Rounds up: a quota of 1.5 CPUs
 * allows 2. Returns 0 for no limit or unparsable contents. */
guint    amor_system_parse_cpu_max       (const char *contents);

/* MemAvailable of /proc/meminfo in bytes, 0 if absent. */
guint64  amor_system_parse_meminfo       (const char *contents);

/* memory.max - memory.current of a cgroup v2 in bytes, G_MAXUINT64 when
 * memory.max is "max" or unreadable (no limit). */
guint64  amor_system_parse_cgroup_memory (const char *memory_max,
                                          const char *memory_current);

/* The cgroup v2 path of "0::/path" in /proc/self/cgroup, or NULL. */
char    *amor_system_parse_proc_cgroup   (const char *contents);

/* Physical cores from /proc/cpuinfo: distinct (physical id, core id) pairs
 * among the processors listed; 0 if the file has no such fields. */
guint    amor_system_parse_cpuinfo       (const char *contents);

/* Fills @probe from the files below @root, @affinity_cpus being the number
 * of CPUs the affinity mask allows (the caller reads it; fixtures pass it). */
void     amor_system_probe_read          (const char      *root,
                                          guint            affinity_cpus,
                                          AmorSystemProbe *probe);

/* The number of CPUs in this thread's affinity mask (>= 1). */
guint    amor_system_probe_affinity      (void);

/* Measures, on the process-wide worker pool, the cost in seconds of one
 * fork-join of a team of @n_workers and of handing out one chunk. Takes a
 * few milliseconds at most. */
void     amor_system_probe_measure_costs (guint            n_workers,
                                          double          *fork_join_cost,
                                          double          *dispatch_cost);

G_END_DECLS
