/* amor-child-private.h: a worker process of a process pool, started by
 * GSubprocess or by a spawn function of the caller's
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _AmorChild AmorChild;

/* Takes @process. */
AmorChild  *amor_child_new_for_subprocess (GSubprocess          *process);
/* @pid is a child of this process; it is reaped with a child watch. */
AmorChild  *amor_child_new_for_pid        (GPid                  pid);
void        amor_child_free               (AmorChild            *child);

/* The process id, as a string. */
const char *amor_child_get_identifier     (AmorChild            *child);

/* Sends SIGKILL, unless the process was reaped already. */
void        amor_child_force_exit         (AmorChild            *child);

/* Sends SIGKILL and reaps the process, blocking. */
void        amor_child_kill_sync          (AmorChild            *child);

/* Waits, on the thread-default main context, for the process to end and
 * reaps it. One wait at a time. The callback's source object is NULL. */
void        amor_child_wait_async         (AmorChild            *child,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
void        amor_child_wait_finish        (AmorChild            *child,
                                           GAsyncResult         *result);

/* How it ended, once reaped: "exited with status 3", "killed by signal 9
 * (Killed)", or "ended". */
char       *amor_child_describe_exit      (AmorChild            *child);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AmorChild, amor_child_free)

G_END_DECLS
