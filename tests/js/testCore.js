// GJS tests of the amorsize core: sampler, optimizer, result.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Plans come from added durations on a custom Amor.System, so every expected
// number follows from the cost model; nothing depends on this machine's speed.

import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Amor from 'gi://Amor?version=1';

import {
    test, run, assert, assertEqual, assertDeepEqual, assertClose, assertThrows,
} from './tap.js';

// Exact binary fractions: mean 2^-13 s, target chunk duration 2^-10 s, so the
// base chunk is exactly 8 items.
const MEAN = 2 ** -13;
const TARGET = 2 ** -10;
const CV_1_2_3 = 0.408248290463863;

function customSystem() {
    return Amor.System.new_custom(8, 8, 8 * 2 ** 30, 2e-5, 1e-7);
}

function makeOptimizer(props = {}) {
    return new Amor.Optimizer({
        system: customSystem(),
        target_chunk_duration: TARGET,
        ...props,
    });
}

function planFrom(durations, nItems, optimizer = makeOptimizer()) {
    const sampler = Amor.Sampler.new();
    for (const d of durations)
        sampler.add_duration(d);
    return optimizer.plan(sampler, nItems);
}

function heterogeneousPlan() {
    // 1,1,1,1,6 (scaled): mean 2, population stddev 2, CV exactly 1.
    const s = MEAN / 2;
    return planFrom([s, s, s, s, 6 * s], 100000);
}

function assertAmorError(e, code, what) {
    assert(e instanceof GLib.Error, `${what}: not a GLib.Error: ${e}`);
    assert(e.matches(Amor.error_quark(), code),
        `${what}: expected Amor error ${code}, got ${e.domain}:${e.code} ${e.message}`);
}

test('custom system properties', () => {
    const system = customSystem();
    assertEqual(system.n_cpus, 8, 'n-cpus');
    assertEqual(system.n_physical_cores, 8, 'n-physical-cores');
    assertEqual(system.available_memory, 8 * 2 ** 30, 'available-memory');
    assertEqual(system.fork_join_cost, 2e-5, 'fork-join-cost');
    assertEqual(system.dispatch_cost, 1e-7, 'dispatch-cost');
});

test('sampler statistics of durations 1, 2, 3', () => {
    const sampler = Amor.Sampler.new();
    for (const d of [1, 2, 3])
        sampler.add_duration(d);
    assertEqual(sampler.n_samples, 3, 'n-samples');
    assertClose(sampler.mean, 2, 1e-12, 'mean');
    assertClose(sampler.variance, 2 / 3, 1e-12, 'variance');
    assertClose(sampler.cv, CV_1_2_3, 1e-12, 'cv');
    assertEqual(sampler.min, 1, 'min');
    assertEqual(sampler.max, 3, 'max');
    assertClose(sampler.total, 6, 1e-12, 'total');
    assertEqual(sampler.is_heterogeneous, false, 'is-heterogeneous');
});

test('plan from durations 1, 2, 3', () => {
    const result = planFrom([1, 2, 3], 100);
    assertEqual(result.n_items, 100, 'n-items');
    assertEqual(result.n_samples, 3, 'n-samples');
    assertClose(result.mean, 2, 1e-12, 'mean');
    assertClose(result.cv, CV_1_2_3, 1e-12, 'cv');
    assertEqual(result.is_heterogeneous, false, 'is-heterogeneous');
    assertEqual(result.get_chunk_factor(), 1, 'chunk factor');
    assertEqual(result.chunk_size, 1, 'chunk-size');
    assertEqual(result.n_workers, 8, 'n-workers');
    assert(result.is_parallel(), 'parallel');
    assert(result.schedule !== Amor.Schedule.SERIAL, 'schedule is not serial');
    assertClose(result.estimated_serial_time, 200, 1e-9, 'estimated serial time');
    assert(result.estimated_speedup > 1.2 && result.estimated_speedup <= 8,
        `estimated speedup ${result.estimated_speedup}`);
});

test('heterogeneous plan: CV 1.0 halves the chunk', () => {
    const result = heterogeneousPlan();
    assertClose(result.mean, MEAN, 1e-15, 'mean');
    assertClose(result.cv, 1, 1e-12, 'cv');
    assertEqual(result.is_heterogeneous, true, 'is-heterogeneous');
    assertClose(result.get_chunk_factor(), 0.5, 1e-12, 'chunk factor');
    assertEqual(result.get_base_chunk_size(), 8, 'base chunk size');
    assertEqual(result.chunk_size, 4, 'chunk-size');
    assertEqual(result.n_workers, 8, 'n-workers');
});

test('tiny work is serial', () => {
    // 10 items of 0.1 µs: 1 µs of work, less than one fork-join.
    const result = planFrom([1e-7, 1e-7, 1e-7, 1e-7, 1e-7], 10);
    assertEqual(result.is_parallel(), false, 'parallel');
    assertEqual(result.n_workers, 1, 'n-workers');
    assertEqual(result.schedule, Amor.Schedule.SERIAL, 'schedule');
    assert(result.estimated_speedup < 1.2, `speedup ${result.estimated_speedup}`);
    assert(result.reason.includes('1.2'), `the reason says why: ${result.reason}`);
});

test('optimize with a JS callback runs it on this thread, once per index', () => {
    const calls = [];
    const nItems = 10000;
    const result = makeOptimizer().optimize(nItems, index => {
        calls.push(index);
        let x = 0;
        for (let i = 0; i < 1000; i++)
            x += i;
        return x > 0;
    });
    assert(result instanceof Amor.Result, 'a result');
    assertEqual(result.n_items, nItems, 'n-items');
    assertEqual(result.n_samples, calls.length, 'n-samples = calls');
    assert(calls.length >= 5, `at least 5 samples, got ${calls.length}`);
    assertEqual(new Set(calls).size, calls.length, 'distinct indices');
    assert(calls.every(i => Number.isInteger(i) && i >= 0 && i < nItems),
        `indices in range: ${calls}`);
});

// GJS turns the JS exception into a GError for the C caller and, when that
// error comes back out of optimize(), into a JS exception of the same class
// again, its message now prefixed with the item.
test('a JS throw in the callback comes back with its message and item', () => {
    const calls = [];
    const e = assertThrows(() => makeOptimizer().optimize(1000, index => {
        calls.push(index);
        throw new RangeError(`js-boom-at-${index}`);
    }), 'optimize');
    assert(e instanceof RangeError || e instanceof GLib.Error,
        `not the thrown error: ${e}`);
    assertEqual(calls.length, 1, 'sampling stopped at the first error');
    assert(e.message.includes(`js-boom-at-${calls[0]}`),
        `the JS message is carried: ${e.message}`);
    assert(e.message.startsWith(`Item ${calls[0]}: `),
        `the item is named: ${e.message}`);
});

test('a callback returning undefined is WORK_FAILED', () => {
    const e = assertThrows(() => makeOptimizer().optimize(1000, () => undefined),
        'optimize');
    assertAmorError(e, Amor.Error.WORK_FAILED, 'undefined');
});

test('a callback returning false is WORK_FAILED', () => {
    const e = assertThrows(() => Amor.Sampler.new().run(10, () => false), 'run');
    assertAmorError(e, Amor.Error.WORK_FAILED, 'false');
});

test('explain shows the CV and the workers', () => {
    const lines = heterogeneousPlan().explain().split('\n');
    assert(lines.length > 3, 'several lines');
    const cv = lines.filter(l => l.includes('CV'));
    assert(cv.length > 0 && cv.some(l => l.includes('1.0')), `a CV line: ${lines}`);
    const workers = lines.filter(l => /worker/i.test(l));
    assert(workers.length > 0 && workers.some(l => l.includes('8')),
        `a worker line: ${lines}`);
});

function propertyValues(result) {
    const values = {};
    for (const pspec of GObject.Object.list_properties.call(Amor.Result)) {
        const value = result[pspec.name.replaceAll('-', '_')];
        values[pspec.name] = Array.isArray(value) ? [...value] : value;
    }
    return values;
}

test('JSON round trip keeps every property', () => {
    const plans = [
        heterogeneousPlan(),
        planFrom([1, 2, 3], 100),
        planFrom([1e-7, 1e-7, 1e-7], 10),
        planFrom([MEAN], 0),
    ];
    for (const plan of plans) {
        const json = plan.to_json();
        JSON.parse(json);
        const copy = Amor.Result.new_from_json(json);
        const a = propertyValues(plan), b = propertyValues(copy);
        assert('n-workers' in a, 'properties listed');
        for (const name of Object.keys(a))
            assertDeepEqual(b[name], a[name], name);
        assertEqual(copy.to_json(), json, 'same JSON');
    }
});

test('new_from_json on garbage throws an Amor GLib.Error', () => {
    const good = heterogeneousPlan().to_json();
    const cases = [
        ['this is not json', Amor.Error.PARSE],
        [good.slice(0, good.length / 2), Amor.Error.PARSE],
        ['[1, 2, 3]', Amor.Error.INVALID_DATA],
    ];
    for (const [text, code] of cases) {
        const e = assertThrows(() => Amor.Result.new_from_json(text), text);
        assertAmorError(e, code, text);
    }
    const data = JSON.parse(good);
    const versionKey = Object.keys(data).find(k => /version/i.test(k));
    assert(versionKey !== undefined, 'the JSON has a format version');
    data[versionKey] = 999999;
    const e = assertThrows(() => Amor.Result.new_from_json(JSON.stringify(data)),
        'future version');
    assertAmorError(e, Amor.Error.UNSUPPORTED_VERSION, 'future version');
});

run();
