/* amor-pool.c: a fork-join team of worker threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "amor-pool-private.h"

typedef struct
{
  AmorTeamFunc func;
  gpointer     data;
  gint         pending;  /* workers that have not returned yet (atomic) */
  GMutex       mutex;
  GCond        cond;
  gboolean     done;
} AmorTeam;

typedef struct
{
  AmorTeam *team;
  guint     worker;
} AmorTeamTask;

static GPrivate in_team_key;
static GThreadPool *pool;
static guint pool_max_threads;

gboolean
amor_pool_in_team (void)
{
  return GPOINTER_TO_INT (g_private_get (&in_team_key)) != 0;
}

static void
amor_team_worker_done (AmorTeam *team)
{
  if (g_atomic_int_dec_and_test (&team->pending))
    {
      g_mutex_lock (&team->mutex);
      team->done = TRUE;
      g_cond_signal (&team->cond);
      g_mutex_unlock (&team->mutex);
    }
}

static void
amor_pool_thread_func (gpointer task_data,
                       gpointer pool_data)
{
  AmorTeamTask *task = task_data;
  AmorTeam *team = task->team;

  g_private_set (&in_team_key, GINT_TO_POINTER (1));
  team->func (task->worker, team->data);
  g_private_set (&in_team_key, GINT_TO_POINTER (0));

  g_free (task);
  amor_team_worker_done (team);
}

static GThreadPool *
amor_pool_get (void)
{
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      GError *error = NULL;

      /* An exclusive pool starts its threads once and keeps them: a team
       * pays a wake-up, not a thread creation. Worker 0 is always the
       * caller, so one thread per processor leaves room for two callers
       * sharing the machine. */
      pool_max_threads = MAX (1, g_get_num_processors ());
      pool = g_thread_pool_new (amor_pool_thread_func, NULL,
                                (gint) pool_max_threads, TRUE, &error);
      if (pool == NULL)
        g_error ("amorsize: cannot start the worker threads: %s", error->message);
      g_once_init_leave (&initialized, 1);
    }

  return pool;
}

guint
amor_pool_get_max_threads (void)
{
  amor_pool_get ();
  return pool_max_threads;
}

void
amor_pool_run_team (guint        n_workers,
                    AmorTeamFunc func,
                    gpointer     data)
{
  AmorTeam team = { 0 };
  gboolean was_in_team;

  g_return_if_fail (n_workers >= 1);
  g_return_if_fail (func != NULL);

  was_in_team = amor_pool_in_team ();

  if (n_workers == 1 || was_in_team)
    {
      g_private_set (&in_team_key, GINT_TO_POINTER (1));
      for (guint i = 0; i < n_workers; i++)
        func (i, data);
      g_private_set (&in_team_key, GINT_TO_POINTER (was_in_team));
      return;
    }

  team.func = func;
  team.data = data;
  team.pending = (gint) n_workers;
  g_mutex_init (&team.mutex);
  g_cond_init (&team.cond);

  for (guint i = 1; i < n_workers; i++)
    {
      AmorTeamTask *task = g_new (AmorTeamTask, 1);
      task->team = &team;
      task->worker = i;
      g_thread_pool_push (amor_pool_get (), task, NULL);
    }

  g_private_set (&in_team_key, GINT_TO_POINTER (1));
  func (0, data);
  g_private_set (&in_team_key, GINT_TO_POINTER (0));
  amor_team_worker_done (&team);

  g_mutex_lock (&team.mutex);
  while (!team.done)
    g_cond_wait (&team.cond, &team.mutex);
  g_mutex_unlock (&team.mutex);

  g_mutex_clear (&team.mutex);
  g_cond_clear (&team.cond);
}
