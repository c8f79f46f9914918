/* amor-error.c: the amorsize error domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "amor-error.h"

/**
 * amor_error_quark:
 *
 * The quark of the %AMOR_ERROR domain.
 *
 * Returns: the error domain quark
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (amor-error-quark, amor_error)
