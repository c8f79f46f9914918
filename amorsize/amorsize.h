/* amorsize.h: the amorsize umbrella header
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define AMORSIZE_INSIDE

#include <amorsize/amor-version-macros.h>
#include <amorsize/amor-version.h>
#include <amorsize/amor-types.h>
#include <amorsize/amor-enums.h>
#include <amorsize/amor-error.h>
#include <amorsize/amor-system.h>
#include <amorsize/amor-sampler.h>
#include <amorsize/amor-result.h>
#include <amorsize/amor-optimizer.h>
#include <amorsize/amor-executor.h>
#include <amorsize/amor-worker.h>
#include <amorsize/amor-process-pool.h>

#undef AMORSIZE_INSIDE
