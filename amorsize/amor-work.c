/* amor-work.c: calling an AmorWorkFunc
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "amor-error.h"
#include "amor-work-private.h"

gboolean
amor_work_call (AmorWorkFunc   func,
                gpointer       user_data,
                guint64        index,
                GError       **error)
{
  GError *local_error = NULL;

  if (G_LIKELY (func (index, user_data, &local_error)))
    {
      /* A callback that sets an error and still returns TRUE is buggy;
       * the item counts as done and the stray error is dropped. */
      if (G_UNLIKELY (local_error != NULL))
        {
          g_warning ("Item %" G_GUINT64_FORMAT ": the work callback returned "
                     "TRUE but set an error (%s); the error is ignored",
                     index, local_error->message);
          g_clear_error (&local_error);
        }
      return TRUE;
    }

  if (local_error == NULL)
    {
      g_set_error (error, AMOR_ERROR, AMOR_ERROR_WORK_FAILED,
                   "Item %" G_GUINT64_FORMAT ": the work callback returned "
                   "FALSE without setting an error (a Python exception, or a "
                   "JavaScript callback that GJS refused to run on a worker "
                   "thread, looks like this)",
                   index);
      return FALSE;
    }

  g_prefix_error (&local_error, "Item %" G_GUINT64_FORMAT ": ", index);
  g_propagate_error (error, local_error);
  return FALSE;
}
