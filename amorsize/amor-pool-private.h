/* amor-pool-private.h: a fork-join team of worker threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*AmorTeamFunc) (guint    worker,
                              gpointer data);

/* Runs @func (worker, @data) for worker = 0 .. @n_workers - 1 at once and
 * returns when every call has returned. Worker 0 is the calling thread; the
 * others are long-lived threads of one process-wide GThreadPool, created on
 * first use and reused by every later team, so a team pays thread wake-up,
 * never thread creation, after the first. Called from inside a team
 * (nested), every worker runs inline, in order, on the calling thread. */
void     amor_pool_run_team         (guint        n_workers,
                                     AmorTeamFunc func,
                                     gpointer     data);

/* Like amor_pool_run_team(), for a team whose workers share out the work
 * among themselves (chunks taken from one counter), so that worker 0 alone
 * finishes whatever the others do not take: workers 1 .. @n_workers - 1
 * that no pool thread has started by the time worker 0 returns are not run
 * at all, and the call returns as soon as the workers that did start are
 * done. A team never waits for a pool thread that is busy elsewhere (with
 * another caller's team) only to find nothing left to do. Called from
 * inside a team, only worker 0 runs, inline. Returns the number of workers
 * that ran (>= 1). */
guint    amor_pool_run_team_elastic (guint        n_workers,
                                     AmorTeamFunc func,
                                     gpointer     data);

/* TRUE while the current thread is running a team's worker. */
gboolean amor_pool_in_team          (void);

/* The number of threads the pool may run at once (fixed at first use). */
guint    amor_pool_get_max_threads  (void);

G_END_DECLS
