// bench/process/worker.js: the worker of bench-js.js. An item is an
// iteration count; the work is the CPU-bound JavaScript function of
// work.js.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Amor from 'gi://Amor?version=1';

import {work} from './work.js';

Amor.worker_serve(item => new GLib.Variant('d', work(item.unpack())));
