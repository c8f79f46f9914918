// GJS test of Amor.Executor.run_async awaited with progress on the main loop.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A JavaScript function cannot run on the executor's worker threads, so the
// work here is in C: the AmorExamples helper library (examples/) starts
// amor_executor_run_async() with a C work function and is awaited through
// Gio._promisify. notify::completed is counted in JavaScript, which GJS
// runs on its own thread only; a notification emitted from a worker thread
// would make GJS log a critical, and this test runs with fatal criticals.

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Amor from 'gi://Amor?version=1';
import AmorExamples from 'gi://AmorExamples?version=1';

import {test, run, assert, assertEqual, assertRejects} from './tap.js';

Gio._promisify(AmorExamples, 'run_checksum_async', 'run_checksum_finish');

function watch(executor) {
    const seen = {completed: [], nItems: [], result: 0};
    const ids = [
        executor.connect('notify::completed', () => seen.completed.push(executor.completed)),
        executor.connect('notify::n-items', () => seen.nItems.push(executor.n_items)),
        executor.connect('notify::result', () => seen.result++),
    ];
    seen.stop = () => ids.forEach(id => executor.disconnect(id));
    return seen;
}

function assertProgress(seen, nItems) {
    assert(seen.completed.length >= 1,
        `at least the final notify::completed, got ${seen.completed.length}`);
    for (let i = 1; i < seen.completed.length; i++) {
        assert(seen.completed[i - 1] <= seen.completed[i],
            `completed never goes back: ${seen.completed}`);
    }
    assert(seen.completed.every(c => c >= 0 && c <= nItems),
        `completed stays in [0, ${nItems}]: ${seen.completed}`);
    assertEqual(seen.completed.at(-1), nItems, 'the last notified completed');
}

test('await run_async with C work: every item once, progress on the main loop', async () => {
    const nItems = 3000;
    const executor = new Amor.Executor();
    const seen = watch(executor);
    let ticks = 0;
    const tick = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 5, () => {
        ticks++;
        return GLib.SOURCE_CONTINUE;
    });

    const digest = await AmorExamples.run_checksum_async(executor, nItems, null);

    GLib.source_remove(tick);
    seen.stop();
    // The helper fails unless every item ran exactly once; the digest of
    // every item in index order is the plain loop's.
    assertEqual(digest, AmorExamples.checksum_expected(nItems), 'digest');
    assertEqual(executor.completed, nItems, 'completed');
    assertEqual(executor.n_items, nItems, 'n-items');
    assertProgress(seen, nItems);
    assertEqual(seen.nItems.at(-1), nItems, 'notify::n-items');
    assert(seen.result >= 1, 'notify::result at the end');
    assertEqual(executor.result.n_items, nItems, 'the plan is for the run');
    assert(executor.elapsed > 0, `elapsed ${executor.elapsed}`);
    print(`# ${seen.completed.length} progress notifications, ${ticks} main-loop ticks, ` +
          `${executor.result.n_workers} workers`);
});

test('the executor runs one awaited map after another', async () => {
    const executor = new Amor.Executor();
    for (const nItems of [500, 7, 1]) {
        const seen = watch(executor);
        // eslint-disable-next-line no-await-in-loop
        const digest = await AmorExamples.run_checksum_async(executor, nItems, null);
        seen.stop();
        assertEqual(digest, AmorExamples.checksum_expected(nItems), `digest of ${nItems}`);
        assertEqual(executor.completed, nItems, 'completed');
        assertProgress(seen, nItems);
    }
});

test('a second run while one is in progress rejects with PENDING', async () => {
    const executor = new Amor.Executor();
    const first = AmorExamples.run_checksum_async(executor, 2000, null);
    const e = await assertRejects(AmorExamples.run_checksum_async(executor, 10, null),
        'second run');
    assert(e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.PENDING),
        `PENDING: ${e.domain}:${e.code} ${e.message}`);
    assertEqual(await first, AmorExamples.checksum_expected(2000), 'the first run');
    assertEqual(executor.completed, 2000, 'completed');
});

test('a cancelled run rejects with CANCELLED', async () => {
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    const executor = new Amor.Executor();
    const e = await assertRejects(AmorExamples.run_checksum_async(executor, 1000,
        cancellable), 'run');
    assert(e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
        `CANCELLED: ${e.domain}:${e.code} ${e.message}`);
    assert(executor.completed < 1000, `completed ${executor.completed}`);
});

run();
