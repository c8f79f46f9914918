/* amor-pool.c: a fork-join team of worker threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "amor-pool-private.h"

/* One team: lives on the stack of the thread that started it (worker 0),
 * which returns only once @pending reached zero. */
typedef struct
{
  AmorTeamFunc func;
  gpointer     data;
  gint         pending;  /* workers still to be waited for (atomic) */
  GMutex       mutex;
  GCond        cond;
  gboolean     done;
  gint         released; /* set (atomic) once the last worker let go of the team */
} AmorTeam;

/* How long worker 0 spins for the others before it sleeps: a team that
 * ends within this time costs worker 0 no wake-up. */
#define AMOR_TEAM_SPIN_US 50

enum {
  AMOR_TASK_QUEUED,
  AMOR_TASK_RUNNING,
  AMOR_TASK_SKIPPED,
};

/* One worker of a team, as pushed to the pool. Shared by the pool thread
 * that takes it and (for an elastic team) worker 0, which may skip it while
 * it is still queued; whichever lets go last frees it. */
typedef struct
{
  gint      ref_count;  /* atomic */
  gint      state;      /* AMOR_TASK_*, atomic */
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
amor_team_task_unref (AmorTeamTask *task)
{
  if (g_atomic_int_dec_and_test (&task->ref_count))
    g_free (task);
}

/* The last worker out wakes worker 0. Nothing may touch @team after the
 * decrement unless it was the last, and the last touches it no more once
 * it has set @released: worker 0 may then return at once. */
static void
amor_team_worker_done (AmorTeam *team)
{
  if (g_atomic_int_dec_and_test (&team->pending))
    {
      g_mutex_lock (&team->mutex);
      team->done = TRUE;
      g_cond_signal (&team->cond);
      g_mutex_unlock (&team->mutex);
      g_atomic_int_set (&team->released, 1);
    }
}

/* Worker 0 waits for the others: first spinning briefly, since the other
 * workers of a short team end within microseconds and a sleeping worker 0
 * would pay a second wake-up; then sleeping on the condition. */
static void
amor_team_wait (AmorTeam *team)
{
  gint64 deadline = 0;

  for (guint spins = 0; !g_atomic_int_get (&team->released); spins++)
    {
      if ((spins & 63) == 0)
        {
          gint64 now = g_get_monotonic_time ();

          if (deadline == 0)
            deadline = now + AMOR_TEAM_SPIN_US;
          else if (now >= deadline)
            break;
        }
    }

  g_mutex_lock (&team->mutex);
  while (!team->done)
    g_cond_wait (&team->cond, &team->mutex);
  g_mutex_unlock (&team->mutex);

  /* The last worker is between its unlock and @released. */
  while (!g_atomic_int_get (&team->released))
    g_thread_yield ();
}

static void
amor_pool_thread_func (gpointer task_data,
                       gpointer pool_data)
{
  AmorTeamTask *task = task_data;

  if (g_atomic_int_compare_and_exchange (&task->state, AMOR_TASK_QUEUED, AMOR_TASK_RUNNING))
    {
      AmorTeam *team = task->team;

      g_private_set (&in_team_key, GINT_TO_POINTER (1));
      team->func (task->worker, team->data);
      g_private_set (&in_team_key, GINT_TO_POINTER (0));
      amor_team_worker_done (team);
    }

  amor_team_task_unref (task);
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

static guint
amor_pool_run_team_internal (guint        n_workers,
                             AmorTeamFunc func,
                             gpointer     data,
                             gboolean     elastic)
{
  AmorTeam team = { 0 };
  AmorTeamTask **tasks;
  GThreadPool *threads;
  guint n_ran = n_workers;

  if (amor_pool_in_team ())
    {
      /* Nested: the outer team already occupies the processors. */
      if (elastic)
        n_workers = 1;
      for (guint i = 0; i < n_workers; i++)
        func (i, data);
      return n_workers;
    }

  if (n_workers == 1)
    {
      g_private_set (&in_team_key, GINT_TO_POINTER (1));
      func (0, data);
      g_private_set (&in_team_key, GINT_TO_POINTER (0));
      return 1;
    }

  threads = amor_pool_get ();

  team.func = func;
  team.data = data;
  team.pending = (gint) n_workers;
  g_mutex_init (&team.mutex);
  g_cond_init (&team.cond);

  tasks = elastic ? g_new (AmorTeamTask *, n_workers) : NULL;
  for (guint i = 1; i < n_workers; i++)
    {
      AmorTeamTask *task = g_new (AmorTeamTask, 1);

      task->ref_count = elastic ? 2 : 1;
      task->state = AMOR_TASK_QUEUED;
      task->team = &team;
      task->worker = i;
      if (elastic)
        tasks[i] = task;
      g_thread_pool_push (threads, task, NULL);
    }

  g_private_set (&in_team_key, GINT_TO_POINTER (1));
  func (0, data);
  g_private_set (&in_team_key, GINT_TO_POINTER (0));

  if (elastic)
    {
      /* The work is done or being finished by the workers that started;
       * the ones still queued would only find an empty counter. */
      for (guint i = 1; i < n_workers; i++)
        {
          if (g_atomic_int_compare_and_exchange (&tasks[i]->state, AMOR_TASK_QUEUED, AMOR_TASK_SKIPPED))
            {
              n_ran--;
              g_atomic_int_add (&team.pending, -1);
            }
          amor_team_task_unref (tasks[i]);
        }
      g_free (tasks);
    }

  amor_team_worker_done (&team);
  amor_team_wait (&team);

  g_mutex_clear (&team.mutex);
  g_cond_clear (&team.cond);

  return n_ran;
}

void
amor_pool_run_team (guint        n_workers,
                    AmorTeamFunc func,
                    gpointer     data)
{
  g_return_if_fail (n_workers >= 1);
  g_return_if_fail (func != NULL);

  amor_pool_run_team_internal (n_workers, func, data, FALSE);
}

guint
amor_pool_run_team_elastic (guint        n_workers,
                            AmorTeamFunc func,
                            gpointer     data)
{
  g_return_val_if_fail (n_workers >= 1, 0);
  g_return_val_if_fail (func != NULL, 0);

  return amor_pool_run_team_internal (n_workers, func, data, TRUE);
}
