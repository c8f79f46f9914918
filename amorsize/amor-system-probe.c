/* STUB: to be replaced by the real implementation */
#include "amor-system-private.h"
