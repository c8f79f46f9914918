/* amor-version-macros.h: symbol export macros
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AMORSIZE_INSIDE) && !defined(AMORSIZE_COMPILATION)
#error "Only <amorsize/amorsize.h> can be included directly."
#endif

#include <glib.h>

#ifndef _AMOR_EXTERN
#define _AMOR_EXTERN extern
#endif

#define AMOR_AVAILABLE_IN_ALL _AMOR_EXTERN
