# bench/process/pywork.py: the per-item work of bench-py.py, shared by the
# amorsize worker (worker.py) and the multiprocessing and
# concurrent.futures peers (which import it by name).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import time

_clock = time.perf_counter


def spin(seconds):
    """Pure-Python CPU work that lasts @seconds: a loop on the clock, so
    that the total work of a workload is known exactly (it holds the GIL
    throughout, like any pure-Python computation)."""
    end = _clock() + seconds
    n = 0
    while _clock() < end:
        n += 1
    return n


def kernel(n):
    """A pure-Python arithmetic loop whose cost is not known in advance."""
    x = 0
    for i in range(n):
        x = (x * 31 + i * i) % 1000003
    return x


def item(amount):
    """One item, a float: spin for that many seconds if it is >= 0, run the
    kernel for -amount iterations if it is negative. (A plain double is the
    cheapest item to pass through a GVariant in PyGObject: item.get_double()
    takes a microsecond, item.unpack() of a tuple ten.)"""
    return spin(amount) if amount >= 0 else kernel(int(-amount))
