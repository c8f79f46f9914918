/* amor-error.h: the amorsize error domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(AMORSIZE_INSIDE) && !defined(AMORSIZE_COMPILATION)
#error "Only <amorsize/amorsize.h> can be included directly."
#endif

#include <amorsize/amor-version-macros.h>

G_BEGIN_DECLS

/**
 * AMOR_ERROR:
 *
 * The error domain of amorsize; errors in it carry an #AmorError code.
 *
 * Since: 0.1
 */
#define AMOR_ERROR (amor_error_quark ())

/**
 * AmorError:
 * @AMOR_ERROR_FAILED: a failure with no more specific code
 * @AMOR_ERROR_WORK_FAILED: the work callback returned %FALSE without setting
 *   an error (a Python exception, or a JavaScript callback that GJS refused
 *   to run off its own thread)
 * @AMOR_ERROR_INVALID_ARGUMENT: an argument or property value makes no sense
 *   (a negative or NaN duration, for example)
 * @AMOR_ERROR_PARSE: the data could not be parsed (malformed JSON)
 * @AMOR_ERROR_INVALID_DATA: the data parsed but is not what was expected (a
 *   missing member, a wrongly typed or out-of-range value)
 * @AMOR_ERROR_UNSUPPORTED_VERSION: the data was written by a newer, unknown
 *   format version
 *
 * The error codes of the %AMOR_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum {
  AMOR_ERROR_FAILED,
  AMOR_ERROR_WORK_FAILED,
  AMOR_ERROR_INVALID_ARGUMENT,
  AMOR_ERROR_PARSE,
  AMOR_ERROR_INVALID_DATA,
  AMOR_ERROR_UNSUPPORTED_VERSION,
} AmorError;

AMOR_AVAILABLE_IN_ALL
GQuark amor_error_quark (void);

G_END_DECLS
