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
from gi.repository import Amor  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pywork  # noqa: E402

# A chunk at a time, on Python values (Amor.worker_serve_values() of the
# override): one call from C per chunk rather than per item.
Amor.worker_serve_values(pywork.item, 'x')
