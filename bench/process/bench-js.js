// bench/process/bench-js.js: a CPU-bound JavaScript function over N items
// of about 5 ms each, run in the GJS process itself (a plain loop) and on an
// Amor.ProcessPool of GJS workers (worker.js), with the spawn of the workers
// and the sampling included ("cold": a new pool per run) and with workers
// kept from an earlier map ("warm").
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
//   gjs -m bench-js.js [--items N] [--ms MS] [--reps R] [--json FILE]
//
// Needs GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing at a build of
// amorsize (run.sh sets them).

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Amor from 'gi://Amor?version=1';
import System from 'system';

import {work} from './work.js';

Gio._promisify(Amor.ProcessPool.prototype, 'map_async', 'map_finish');

const args = {items: 400, ms: 5, reps: 5, json: null};
for (let i = 0; i + 1 < System.programArgs.length; i += 2)
    args[System.programArgs[i].replace(/^--/, '')] = System.programArgs[i + 1];
const nItems = Number(args.items);
const reps = Number(args.reps);

const here = GLib.path_get_dirname(GLib.filename_from_uri(import.meta.url)[0]);
const gjs = GLib.file_read_link('/proc/self/exe');
const argv = [gjs, '-m', GLib.build_filenamev([here, 'worker.js'])];

const now = () => GLib.get_monotonic_time() / 1e6;
const median = xs => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The iteration count of one item of about args.ms ms (JIT warm).
function calibrate() {
    let n = 100000;
    for (let k = 0; k < 200; k++)
        work(20000);
    for (let round = 0; round < 8; round++) {
        const t = [];
        for (let k = 0; k < 5; k++) {
            const t0 = now();
            work(n);
            t.push(now() - t0);
        }
        n = Math.max(1000, Math.round(n * (Number(args.ms) / 1000) / median(t)));
    }
    return n;
}

// CPU seconds used by the whole machine, and by this process and its
// reaped children.
function cpuBusy() {
    const [, contents] = GLib.file_get_contents('/proc/stat');
    const f = new TextDecoder().decode(contents).split('\n')[0].split(/\s+/).slice(1, 9).map(Number);
    return (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) / 100;
}

function cpuOwn() {
    const [, contents] = GLib.file_get_contents('/proc/self/stat');
    const text = new TextDecoder().decode(contents);
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime are fields 14 to 17 (1-based), 11 to 14 here
    return f.slice(11, 15).map(Number).reduce((a, b) => a + b, 0) / 100;
}

// The share of the CPUs other processes used while @fn ran.
async function othersShare(fn) {
    const b0 = cpuBusy(), o0 = cpuOwn(), t0 = now();
    await fn();
    const wall = now() - t0;
    return Math.max(0, (cpuBusy() - b0) - (cpuOwn() - o0)) / (wall * Amor.System.get_default().n_cpus);
}

function loadAverage() {
    const [, contents] = GLib.file_get_contents('/proc/loadavg');
    return new TextDecoder().decode(contents).split(' ').slice(0, 3).join(' ');
}

const loop = new GLib.MainLoop(null, false);
(async () => {
    const n = calibrate();
    const items = new GLib.Variant('ad', new Array(nItems).fill(n));
    const expected = work(n);

    const serial = [];
    const others = {};
    others.serial = await othersShare(() => {
    for (let r = 0; r < reps; r++) {
        const t0 = now();
        const out = new Array(nItems);
        for (let i = 0; i < nItems; i++)
            out[i] = work(n);
        serial.push(now() - t0);
        if (out[7] !== expected)
            throw new Error('wrong result');
    }
    });

    const cold = [], plans = [];
    others.cold = await othersShare(async () => {
    for (let r = 0; r < reps; r++) {
        const pool = Amor.ProcessPool.new(argv, 0);
        const t0 = now();
        // eslint-disable-next-line no-await-in-loop
        const results = await pool.map_async(items, null);
        cold.push(now() - t0);
        if (results.n_children() !== nItems || results.get_child_value(7).get_variant().get_double() !== expected)
            throw new Error('wrong results');
        plans.push({
            workers: pool.result.n_workers, chunk: pool.result.chunk_size,
            predicted: pool.result.estimated_speedup, spawn: pool.spawn_cost,
            dispatch: pool.dispatch_cost, serialization: pool.serialization_cost,
        });
        pool.shutdown();
    }
    });

    const warm = [];
    const pool = Amor.ProcessPool.new(argv, 0);
    await pool.map_async(items, null);
    others.warm = await othersShare(async () => {
    for (let r = 0; r < reps; r++) {
        const t0 = now();
        // eslint-disable-next-line no-await-in-loop
        await pool.map_async(items, null);
        warm.push(now() - t0);
    }
    pool.shutdown();
    });
    const warmPlan = pool.result;

    const s = median(serial), c = median(cold), w = median(warm);
    const plan = plans[plans.length - 1];
    print(`CPU-bound JavaScript, ${nItems} items of ${(median(serial) / nItems * 1e3).toFixed(2)} ms ` +
          `(${n} iterations), ${Amor.System.get_default().n_cpus} usable CPUs, load average ${loadAverage()}, ` +
          `median of ${reps} runs`);
    print('');
    const pct = x => `${(100 * x).toFixed(0)} %`;
    print('| run | time (s) | speedup vs in-process loop | plan | others\' CPU |');
    print('| --- | ---: | ---: | --- | ---: |');
    print(`| in-process loop (GJS) | ${s.toFixed(3)} | 1.00× | – | ${pct(others.serial)} |`);
    print(`| ProcessPool, cold (spawn + sampling included) | ${c.toFixed(3)} | ${(s / c).toFixed(2)}× | ` +
          `${plan.workers} workers, chunks of ${plan.chunk}, predicted ${plan.predicted.toFixed(2)}× | ${pct(others.cold)} |`);
    print(`| ProcessPool, warm (workers kept) | ${w.toFixed(3)} | ${(s / w).toFixed(2)}× | ` +
          `${warmPlan.n_workers} workers, chunks of ${warmPlan.chunk_size}, predicted ${warmPlan.estimated_speedup.toFixed(2)}× | ${pct(others.warm)} |`);
    print('');
    print(`measured costs: spawn ${(plan.spawn * 1e3).toFixed(1)} ms, round trip ${(plan.dispatch * 1e6).toFixed(0)} µs, ` +
          `serialisation ${(plan.serialization * 1e6).toFixed(1)} µs per item`);
    print(`runs (s): serial ${serial.map(x => x.toFixed(3)).join(' ')}; cold ${cold.map(x => x.toFixed(3)).join(' ')}; ` +
          `warm ${warm.map(x => x.toFixed(3)).join(' ')}`);

    if (args.json) {
        GLib.file_set_contents(args.json, JSON.stringify({
            items: nItems, iterations: n, reps, load_average: loadAverage(),
            serial, cold, warm, plans, others_cpu_share: others,
            speedup_cold: s / c, speedup_warm: s / w,
        }, null, 2));
    }
})().catch(e => {
    logError(e);
    System.exit(1);
}).finally(() => loop.quit());
loop.run();
