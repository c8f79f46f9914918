// GJS tests of Amor.ProcessPool with GJS workers (workerSquare.js, which
// serves with Amor.worker_serve(), and workerRaw.js, which writes garbage).
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// JavaScript gets parallel speed only from worker processes: the callback
// runs in each worker's own main thread. Every test checks what the pool
// promises — results in order, each item exactly once, errors in a worker
// surfacing as GLib.Error with the item, a crashed worker's chunk retried,
// malformed output and bad argv reported, no zombie after a cancellation —
// never how fast it went.

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Amor from 'gi://Amor?version=1';

import {test, run, assert, assertEqual, assertDeepEqual, assertThrows, assertRejects} from './tap.js';

Gio._promisify(Amor.ProcessPool.prototype, 'map_async', 'map_finish');

const here = GLib.path_get_dirname(GLib.filename_from_uri(import.meta.url)[0]);
// The interpreter running this test (gjs may be a link to gjs-console).
const gjs = GLib.file_read_link('/proc/self/exe');
const decoder = new TextDecoder();

function makePool(script, ...options) {
    return Amor.ProcessPool.new([gjs, '-m', GLib.build_filenamev([here, script]), ...options], 0);
}

// Two workers and chunks of chunkSize, on the pure planning path.
function twoWorkerPlan(chunkSize) {
    const system = Amor.System.new_custom(2, 2, 8 * 2 ** 30, 0, 0);
    const optimizer = new Amor.Optimizer({system, target_chunk_duration: chunkSize * 1e-3});
    const sampler = Amor.Sampler.new();
    for (let i = 0; i < 5; i++)
        sampler.add_duration(1e-3);
    const plan = optimizer.plan(sampler, 1000);
    assertEqual(plan.n_workers, 2, 'workers of the plan');
    assertEqual(plan.chunk_size, chunkSize, 'chunk size of the plan');
    return plan;
}

function items(n) {
    return new GLib.Variant('at', Array.from({length: n}, (_, i) => i));
}

function assertResults(results, n) {
    assertEqual(results.get_type_string(), 'av', 'type of the results');
    assertDeepEqual(results.recursiveUnpack(), Array.from({length: n}, (_, v) => v * v + 1),
        'results in order');
}

function scratch() {
    const dir = GLib.dir_make_tmp('amor-process-XXXXXX');
    const log = GLib.build_filenamev([dir, 'log']);
    GLib.file_set_contents(log, '');
    return {dir, log, marker: GLib.build_filenamev([dir, 'marker'])};
}

function removeScratch(s) {
    for (const path of [s.log, s.marker])
        GLib.unlink(path);
    GLib.rmdir(s.dir);
}

function readLog(path, n) {
    const counts = new Array(n).fill(0);
    const [, contents] = GLib.file_get_contents(path);
    for (const line of decoder.decode(contents).split('\n')) {
        if (line === '')
            continue;
        counts[Number(line.split(' ')[1])]++;
    }
    return counts;
}

// [pid, state] of the children of this process.
function children() {
    const me = new Gio.Credentials().get_unix_pid();
    const found = [];
    const entries = Gio.File.new_for_path('/proc').enumerate_children(
        'standard::name', Gio.FileQueryInfoFlags.NONE, null);
    for (let info = entries.next_file(null); info !== null; info = entries.next_file(null)) {
        const name = info.get_name();
        if (!/^\d+$/.test(name))
            continue;
        let stat;
        try {
            stat = decoder.decode(GLib.file_get_contents(`/proc/${name}/stat`)[1]);
        } catch (e) {
            continue;
        }
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === me)
            found.push([Number(name), fields[0]]);
    }
    entries.close(null);
    return found;
}

function isAmorError(e, code) {
    return e instanceof GLib.Error && e.matches(Amor.error_quark(), code);
}

test('map over a list: in order, each item once', () => {
    const s = scratch();
    const pool = makePool('workerSquare.js', '--log', s.log);
    assertResults(pool.map(items(40), null), 40);
    assertDeepEqual(readLog(s.log, 40), new Array(40).fill(1), 'each item once, samples included');
    assert(pool.result instanceof Amor.Result, 'the plan is kept');
    assert(pool.spawn_cost > 0, 'the spawn cost was measured');
    pool.shutdown();
    assertEqual(pool.n_running, 0, 'no worker left');
    removeScratch(s);
});

test('map_async on two workers, awaited', async () => {
    const s = scratch();
    const pool = makePool('workerSquare.js', '--log', s.log);
    pool.plan = twoWorkerPlan(3);
    assertResults(await pool.map_async(items(30), null), 30);
    assertDeepEqual(readLog(s.log, 30), new Array(30).fill(1), 'each item once');
    assertEqual(pool.n_running, 2, 'two workers kept');
    // The workers kept serve the next map.
    assertResults(await pool.map_async(items(30), null), 30);
    assertDeepEqual(readLog(s.log, 30), new Array(30).fill(2), 'each item once per map');
    pool.shutdown();
    assertDeepEqual(children(), [], 'no child left');
    removeScratch(s);
});

test('an exception in a worker is a GLib.Error naming the item', async () => {
    const pool = makePool('workerSquare.js', '--throw-at', '4');
    pool.plan = twoWorkerPlan(2);
    const e = await assertRejects(pool.map_async(items(12), null), 'map_async');
    assert(isAmorError(e, Amor.Error.WORK_FAILED), `a WORK_FAILED GLib.Error: ${e}`);
    assertEqual(e.message, 'Item 4: cannot square 4', 'message');
    // The workers go on serving.
    assertResults(pool.map(items(4), null), 4);
    pool.shutdown();
});

test('a chunk at a time (worker_serve_chunks): in order, once, errors named', () => {
    const s = scratch();
    const pool = makePool('workerSquare.js', '--chunks', '1', '--log', s.log);
    pool.plan = twoWorkerPlan(4);
    assertResults(pool.map(items(30), null), 30);
    assertDeepEqual(readLog(s.log, 30), new Array(30).fill(1), 'each item once');
    pool.shutdown();

    const failing = makePool('workerSquare.js', '--chunks', '1', '--throw-at', '6');
    failing.plan = twoWorkerPlan(4);
    let error = null;
    try {
        failing.map(items(12), null);
    } catch (e) {
        error = e;
    }
    assert(isAmorError(error, Amor.Error.WORK_FAILED), `a WORK_FAILED GLib.Error: ${error}`);
    assert(error.message.startsWith('Item 6: '), `names the item: ${error.message}`);
    assertResults(failing.map(items(4), null), 4);
    failing.shutdown();
    removeScratch(s);
});

test('a worker that dies mid-chunk: its chunk is retried', () => {
    const s = scratch();
    const pool = makePool('workerSquare.js', '--log', s.log, '--crash-at', '7', '--marker', s.marker);
    pool.plan = twoWorkerPlan(3);
    assertResults(pool.map(items(15), null), 15);
    assert(GLib.file_test(s.marker, GLib.FileTest.EXISTS), 'the worker died once');
    const counts = readLog(s.log, 15);
    assertEqual(counts[7], 1, 'the item that killed its worker ran once more');
    counts.forEach((count, i) => {
        if (i < 6 || i > 8)
            assertEqual(count, 1, `item ${i}`);
    });
    pool.shutdown();
    assertDeepEqual(children(), [], 'no child left');
    removeScratch(s);
});

test('malformed output: an error naming the worker and the chunk', () => {
    const pool = makePool('workerRaw.js');
    pool.plan = twoWorkerPlan(2);
    const e = assertThrows(() => pool.map(items(6), null), 'map');
    assert(isAmorError(e, Amor.Error.INVALID_DATA), `an INVALID_DATA GLib.Error: ${e}`);
    assert(/^The output of worker \d+ \(pid \d+\) for chunk \d+ \((?:item \d+|items \d+–\d+)\) was refused: malformed frame header/.test(e.message),
        `message: ${e.message}`);
    assertDeepEqual(children().filter(([, state]) => state === 'Z'), [], 'no zombie');
    pool.shutdown();
});

test('an argv that cannot start: an error at once', () => {
    const pool = Amor.ProcessPool.new(['/nonexistent/gjs-worker'], 0);
    const e = assertThrows(() => pool.map(items(3), null), 'map');
    assert(e instanceof GLib.Error, 'a GLib.Error');
    assert(e.message.startsWith('Could not start a worker'), `message: ${e.message}`);

    const quiet = Amor.ProcessPool.new([gjs, '-c', '0'], 0);
    const e2 = assertThrows(() => quiet.map(items(3), null), 'map');
    assert(isAmorError(e2, Amor.Error.FAILED), `a FAILED GLib.Error: ${e2}`);
    assert(e2.message.includes('before its hello'), `message: ${e2.message}`);
    assertDeepEqual(children(), [], 'no child left');
});

test('cancellation terminates the workers and leaves no zombie', async () => {
    const s = scratch();
    const pool = makePool('workerSquare.js', '--sleep-ms', '20', '--log', s.log);
    pool.plan = twoWorkerPlan(1);
    const cancellable = new Gio.Cancellable();
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 500, () => {
        cancellable.cancel();
        return GLib.SOURCE_REMOVE;
    });
    const e = await assertRejects(pool.map_async(items(300), cancellable), 'map_async');
    assert(e instanceof GLib.Error && e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
        `cancelled: ${e}`);
    assertDeepEqual(children(), [], 'the workers were terminated and reaped');
    assertEqual(pool.n_running, 0, 'no worker kept');
    const counts = readLog(s.log, 300);
    assert(counts.every(c => c <= 1), 'no item twice');
    assertEqual(counts[299], 0, 'the map stopped');
    removeScratch(s);
});

run();
