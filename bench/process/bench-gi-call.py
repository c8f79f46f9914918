#!/usr/bin/env python3
# bench/process/bench-gi-call.py: what a call through PyGObject costs right
# after some pure-Python work — why process-pool workers run Python a chunk
# at a time (Amor.worker_serve_chunks()) rather than an item at a time.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Times three GLib.Variant calls (new_double, get_double, new_int64: what a
# per-item worker does around its work) after spinning in pure Python for
# 0, 0.1 and 1 ms, 300 times each, and prints the mean.
#
#   /usr/bin/python3 bench-gi-call.py

import os
import sys
import time

import gi
gi.require_version('GLib', '2.0')
from gi.repository import GLib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pywork  # noqa: E402

clock = time.perf_counter
print('| pure-Python work before | 3 GLib.Variant calls (µs) |')
print('| ---: | ---: |')
for spin in (0.0, 1e-4, 1e-3):
    total = 0.0
    for _ in range(300):
        pywork.spin(spin)
        t0 = clock()
        GLib.Variant.new_double(1.0).get_double()
        GLib.Variant.new_int64(5)
        total += clock() - t0
    print('| %.1f ms | %.2f |' % (spin * 1e3, total / 300 * 1e6))
