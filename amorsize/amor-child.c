/* amor-child.c: a worker process of a process pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "amor-child-private.h"

/* A worker process is either a GSubprocess (started from an argv) or the
 * process id of a child that a spawn function started — for instance a
 * fork of the calling Python interpreter. The pool needs the same four
 * things of both: a name, a kill, an asynchronous wait and the exit
 * status. */
struct _AmorChild
{
  GSubprocess *process;     /* or NULL */
  GPid         pid;
  char        *identifier;
  gboolean     reaped;
  int          status;      /* a wait status, once reaped here */
  GSource     *watch;       /* a child watch, while a wait is pending */
};

AmorChild *
amor_child_new_for_subprocess (GSubprocess *process)
{
  AmorChild *child = g_new0 (AmorChild, 1);

  child->process = process;
  /* NULL when the process ended (and GSubprocess reaped it) already: its
   * messages then say so rather than "(null)". */
  child->identifier = g_strdup (g_subprocess_get_identifier (process));
  if (child->identifier != NULL)
    child->pid = (GPid) g_ascii_strtoll (child->identifier, NULL, 10);
  else
    child->identifier = g_strdup ("unknown, it ended at once");
  return child;
}

AmorChild *
amor_child_new_for_pid (GPid pid)
{
  AmorChild *child = g_new0 (AmorChild, 1);

  child->pid = pid;
  child->identifier = g_strdup_printf ("%" G_PID_FORMAT, pid);
  return child;
}

void
amor_child_free (AmorChild *child)
{
  if (child == NULL)
    return;

  if (child->watch != NULL)
    {
      g_source_destroy (child->watch);
      g_source_unref (child->watch);
    }
  g_clear_object (&child->process);
  g_free (child->identifier);
  g_free (child);
}

const char *
amor_child_get_identifier (AmorChild *child)
{
  return child->identifier;
}

void
amor_child_force_exit (AmorChild *child)
{
  if (child->process != NULL)
    g_subprocess_force_exit (child->process);
  else if (!child->reaped)
    kill (child->pid, SIGKILL);   /* a zombie at worst: the pid is ours */
}

/* While a subprocess GLib took for reaped is not (child_is_unreaped()),
 * it is polled this often until it can be. */
#define CHILD_REAP_INTERVAL_MS 5

/* GLib (2.74 at least) reports a child ended as soon as the process is
 * gone, even when waitid() cannot reap it yet: a child that another
 * process traces (a debugger, or the leak checker of a sanitizer, which
 * traces the process it checks as it exits) is reaped by its tracer first,
 * and only then by its parent. GSubprocess then takes it for reaped, with
 * a status of 0, and the zombie stays. TRUE if the subprocess @child is
 * still a child of this process, not reaped. (A zombie keeps its pid; a pid
 * GSubprocess did reap could name another child of this process only if
 * the pids wrapped around between its reaping and this check.) */
static gboolean
child_is_unreaped (AmorChild *child)
{
  siginfo_t info = { 0 };
  int r;

  if (child->pid <= 0 || child->reaped)
    return FALSE;
  while ((r = waitid (P_PID, (id_t) child->pid, &info, WEXITED | WNOHANG | WNOWAIT)) < 0 &&
         errno == EINTR)
    ;
  return r == 0;
}

void
amor_child_kill_sync (AmorChild *child)
{
  amor_child_force_exit (child);
  if (child->process != NULL)
    {
      g_subprocess_wait (child->process, NULL, NULL);
      if (!child_is_unreaped (child))
        return;
    }
  if (!child->reaped)
    {
      while (waitpid (child->pid, &child->status, 0) < 0 && errno == EINTR)
        ;
      child->reaped = TRUE;
    }
}

/* Reaps the subprocess of @user_data's task once its tracer lets go. */
static gboolean
child_reap_cb (gpointer user_data)
{
  GTask *task = user_data;
  AmorChild *child = g_task_get_task_data (task);
  int status = 0;
  pid_t got = waitpid (child->pid, &status, WNOHANG);

  if (got == 0 || (got < 0 && errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (got == child->pid)
    {
      child->reaped = TRUE;
      child->status = status;
    }
  g_clear_pointer (&child->watch, g_source_unref);
  g_task_return_boolean (task, TRUE);
  return G_SOURCE_REMOVE;
}

static void
subprocess_waited_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GTask *task = user_data;
  AmorChild *child = g_task_get_task_data (task);

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  if (child_is_unreaped (child))
    {
      g_debug ("child %s: ended, but another process traces it: reaped once it lets go",
               child->identifier);
      child->watch = g_timeout_source_new (CHILD_REAP_INTERVAL_MS);
      g_source_set_callback (child->watch, child_reap_cb, task, g_object_unref);
      g_source_set_static_name (child->watch, "[amorsize] reap a traced worker");
      g_source_attach (child->watch, g_task_get_context (task));
      return;
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
child_watch_cb (GPid     pid,
                int      status,
                gpointer user_data)
{
  GTask *task = user_data;
  AmorChild *child = g_task_get_task_data (task);

  child->reaped = TRUE;
  child->status = status;
  g_clear_pointer (&child->watch, g_source_unref);
  g_task_return_boolean (task, TRUE);
}

void
amor_child_wait_async (AmorChild           *child,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  g_task_set_source_tag (task, amor_child_wait_async);
  g_task_set_task_data (task, child, NULL);

  if (child->process != NULL)
    {
      g_subprocess_wait_async (child->process, NULL, subprocess_waited_cb, task);
      return;
    }

  if (child->reaped)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  g_return_if_fail (child->watch == NULL);
  child->watch = g_child_watch_source_new (child->pid);
  g_source_set_callback (child->watch, (GSourceFunc) (void (*) (void)) child_watch_cb,
                         task, g_object_unref);
  g_source_set_static_name (child->watch, "[amorsize] worker exit");
  g_source_attach (child->watch, g_main_context_get_thread_default ());
}

void
amor_child_wait_finish (AmorChild    *child,
                        GAsyncResult *result)
{
  g_return_if_fail (g_task_is_valid (result, NULL));

  g_task_propagate_boolean (G_TASK (result), NULL);
}

char *
amor_child_describe_exit (AmorChild *child)
{
  gboolean signaled, exited;
  int sig = 0, code = 0;

  if (child->process != NULL && !child->reaped)
    {
      signaled = g_subprocess_get_if_signaled (child->process);
      exited = g_subprocess_get_if_exited (child->process);
      if (signaled)
        sig = g_subprocess_get_term_sig (child->process);
      if (exited)
        code = g_subprocess_get_exit_status (child->process);
    }
  else
    {
      signaled = child->reaped && WIFSIGNALED (child->status);
      exited = child->reaped && WIFEXITED (child->status);
      if (signaled)
        sig = WTERMSIG (child->status);
      if (exited)
        code = WEXITSTATUS (child->status);
    }

  if (signaled)
    return g_strdup_printf ("killed by signal %d (%s)", sig, g_strsignal (sig));
  if (exited)
    return g_strdup_printf ("exited with status %d", code);
  return g_strdup ("ended");
}
