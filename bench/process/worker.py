#!/usr/bin/env python3
# bench/process/worker.py: the amorsize worker of bench-py.py. An item is a
# double: seconds to spin, or minus the iterations of the kernel (see
# pywork.item()); the result is an int64.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

import gi
gi.require_version('GLib', '2.0')
gi.require_version('Amor', '1')
from gi.repository import Amor, GLib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pywork  # noqa: E402

_item = pywork.item
_new_int64 = GLib.Variant.new_int64


def work(item):
    # The direct calls; GLib.Variant('x', ...) and item.unpack() go through
    # PyGObject's Python-level helpers and cost several microseconds more.
    return _new_int64(_item(item.get_double()))


Amor.worker_serve(work)
