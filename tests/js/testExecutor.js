// GJS tests of Amor.Executor run synchronously.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS runs a JS callback only on its own thread, so these tests give the
// executor plans that are serial: a serial plan runs inline on the calling
// thread, which is how JS code uses the executor directly.

import GLib from 'gi://GLib';
import Amor from 'gi://Amor?version=1';

import {test, run, assert, assertEqual, assertDeepEqual, assertThrows} from './tap.js';

function customSystem() {
    return Amor.System.new_custom(8, 8, 8 * 2 ** 30, 2e-5, 1e-7);
}

function makeOptimizer(props = {}) {
    return new Amor.Optimizer({system: customSystem(), ...props});
}

// A plan computed from durations with at most one worker: serial, whatever
// the durations.
function serialPlan(nItems) {
    const sampler = Amor.Sampler.new();
    for (let i = 0; i < 5; i++)
        sampler.add_duration(1e-3);
    const plan = makeOptimizer({max_workers: 1}).plan(sampler, nItems);
    assertEqual(plan.schedule, Amor.Schedule.SERIAL, 'the plan is serial');
    assertEqual(plan.n_workers, 1, 'one worker');
    return plan;
}

function mapOverList(nItems, failAt = -1) {
    const items = Array.from({length: nItems}, (_, i) => `item ${i}`);
    const state = {
        items,
        results: new Array(nItems).fill(null),
        counts: new Array(nItems).fill(0),
        order: [],
    };
    state.work = index => {
        state.counts[index]++;
        state.order.push(index);
        if (index === failAt)
            throw new Error(`cannot process ${items[index]}`);
        state.results[index] = items[index].toUpperCase();
        return true;
    };
    state.expected = () => items.map(s => s.toUpperCase());
    return state;
}

test('run_with_plan (serial) over a list', () => {
    const nItems = 200;
    const list = mapOverList(nItems);
    const executor = Amor.Executor.new(makeOptimizer());
    assert(executor.run_with_plan(serialPlan(nItems), nItems, list.work, null), 'ran');
    assertDeepEqual(list.counts, new Array(nItems).fill(1), 'every index once');
    assertDeepEqual(list.results, list.expected(), 'results in order');
    assertDeepEqual(list.order, [...list.results.keys()], 'run in index order');
    assertEqual(executor.completed, nItems, 'completed');
    assertEqual(executor.n_items, nItems, 'n-items');
});

test('run_with_plan with a serial plan loaded from JSON', () => {
    const nItems = 200;
    const plan = Amor.Result.new_from_json(serialPlan(nItems).to_json());
    const list = mapOverList(nItems);
    const executor = Amor.Executor.new(makeOptimizer());
    assert(executor.run_with_plan(plan, nItems, list.work, null), 'ran');
    assertDeepEqual(list.counts, new Array(nItems).fill(1), 'every index once');
    assertDeepEqual(list.results, list.expected(), 'results in order');
});

test('run with one worker at most: sampling and execution, each index once', () => {
    const nItems = 500;
    const list = mapOverList(nItems);
    const executor = Amor.Executor.new(makeOptimizer({max_workers: 1}));
    assert(executor.run(nItems, list.work, null), 'ran');
    assertDeepEqual(list.counts, new Array(nItems).fill(1), 'every index once');
    assertDeepEqual(list.results, list.expected(), 'results in order');
    assertEqual(executor.completed, nItems, 'completed');
    assertEqual(executor.result.n_workers, 1, 'one worker');
});

test('a JS throw stops the run and comes back with its message', () => {
    const nItems = 200;
    const failAt = 7;
    const list = mapOverList(nItems, failAt);
    const executor = Amor.Executor.new(makeOptimizer());
    const e = assertThrows(() => executor.run_with_plan(serialPlan(nItems), nItems,
        list.work, null), 'run_with_plan');
    // GJS hands the GError made of the JS exception back as a JS Error.
    assert(e instanceof Error || e instanceof GLib.Error, `not an error: ${e}`);
    assert(e.message.includes(`cannot process item ${failAt}`),
        `the JS message is carried: ${e.message}`);
    assert(e.message.includes(`Item ${failAt}`), `the item is named: ${e.message}`);
    // A serial run stops right at the failing item.
    assertDeepEqual(list.order, [0, 1, 2, 3, 4, 5, 6, 7], 'items run');
    assertEqual(executor.completed, failAt, 'completed counts the items done');
});

test('a callback returning undefined fails the run with WORK_FAILED', () => {
    const nItems = 200;
    const executor = Amor.Executor.new(makeOptimizer());
    const e = assertThrows(() => executor.run_with_plan(serialPlan(nItems), nItems,
        () => undefined, null), 'run_with_plan');
    assert(e.matches(Amor.error_quark(), Amor.Error.WORK_FAILED),
        `WORK_FAILED: ${e}`);
});

run();
