#!/usr/bin/env python3
# A worker of the Python process-pool tests (test_process.py): serves
# integer items, mapping v to v * v + 1 (a uint64), with
# Amor.worker_serve().
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Options make it misbehave on a chosen item value:
#   --log FILE         append "PID VALUE" per item processed
#   --sleep-ms N       sleep N ms per item
#   --raise-at V       raise an exception
#   --crash-at V       die (SIGKILL) on V once: if --marker FILE does not
#   --marker FILE      exist yet (it is created first)
#   --garbage-at V     write garbage into the pool's pipe before answering
#   --values           serve with Amor.worker_serve_values(): the same work
#                      on Python values, a chunk at a time

import argparse
import os
import signal
import sys
import time

import gi
gi.require_version('GLib', '2.0')
gi.require_version('Amor', '1')
from gi.repository import Amor, GLib  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--log')
parser.add_argument('--sleep-ms', type=int, default=0)
parser.add_argument('--raise-at', type=int)
parser.add_argument('--crash-at', type=int)
parser.add_argument('--marker')
parser.add_argument('--garbage-at', type=int)
parser.add_argument('--values', action='store_true')
options = parser.parse_args()

log = None
if options.log:
    log = os.open(options.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

# The pool's end of standard output, before amor_worker_serve() takes it
# over (what the callback prints goes to standard error then).
protocol = os.dup(sys.stdout.fileno())


def square(value):
    if value == options.crash_at and not os.path.exists(options.marker):
        with open(options.marker, 'w') as marker:
            marker.write('crashed\n')
        os.kill(os.getpid(), signal.SIGKILL)
    if log is not None:
        os.write(log, b'%d %d\n' % (os.getpid(), value))
    # Printing is harmless: it goes to standard error.
    print('processing', value)
    if options.sleep_ms:
        time.sleep(options.sleep_ms / 1000)
    if value == options.raise_at:
        raise ValueError('cannot square %d' % value)
    if value == options.garbage_at:
        os.write(protocol, b'not a frame of the worker protocol')
    return value * value + 1


def work(item):
    return GLib.Variant('t', square(item.unpack()))


if options.values:
    Amor.worker_serve_values(square, 't')
else:
    Amor.worker_serve(work)
