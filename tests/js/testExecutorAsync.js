// GJS test of Amor.Executor.run_async awaited through Gio._promisify.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// run_async runs the map on a GTask thread, and GJS refuses to call a JS
// function on any thread but its own: it logs a critical and the call
// returns FALSE without an error. The executor must turn that into its clear
// WORK_FAILED error: the promise rejects, it never resolves as if the items
// had been processed. (This test runs without fatal criticals for that
// reason; see meson.build.)

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Amor from 'gi://Amor?version=1';

import {test, run, assert, assertEqual, assertRejects} from './tap.js';

Gio._promisify(Amor.Executor.prototype, 'run_async', 'run_finish');

function makeExecutor(props = {}) {
    return Amor.Executor.new(new Amor.Optimizer({
        system: Amor.System.new_custom(8, 8, 8 * 2 ** 30, 2e-5, 1e-7),
        ...props,
    }));
}

test('run_async with a JS callback rejects with WORK_FAILED', async () => {
    const nItems = 100;
    let calls = 0;
    const executor = makeExecutor();
    const e = await assertRejects(executor.run_async(nItems, () => {
        calls++;
        return true;
    }, null), 'run_async');
    assert(e instanceof GLib.Error, `not a GLib.Error: ${e}`);
    assert(e.matches(Amor.error_quark(), Amor.Error.WORK_FAILED),
        `WORK_FAILED: ${e.domain}:${e.code} ${e.message}`);
    assert(e.message.includes('Item '), `the item is named: ${e.message}`);
    assertEqual(calls, 0, 'the JS callback never ran off its thread');
});

test('run_async with one worker (a serial plan) still rejects', async () => {
    const executor = makeExecutor({max_workers: 1});
    const e = await assertRejects(executor.run_async(10, () => true, null),
        'run_async');
    assert(e.matches(Amor.error_quark(), Amor.Error.WORK_FAILED),
        `WORK_FAILED: ${e.domain}:${e.code} ${e.message}`);
});

test('run_async with a cancelled cancellable rejects with CANCELLED', async () => {
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    const e = await assertRejects(makeExecutor().run_async(10, () => true,
        cancellable), 'run_async');
    assert(e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
        `CANCELLED: ${e.domain}:${e.code} ${e.message}`);
});

run();
