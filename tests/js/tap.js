// tap.js: a small TAP harness for the GJS tests.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import System from 'system';

const tests = [];

/**
 * Registers a test; @fn may be async (return a promise).
 */
export function test(name, fn) {
    tests.push({name, fn});
}

export class AssertionError extends Error {
    constructor(message) {
        super(message);
        this.name = 'AssertionError';
    }
}

function show(value) {
    try {
        return JSON.stringify(value);
    } catch (e) {
        return String(value);
    }
}

export function assert(condition, message = 'assertion failed') {
    if (!condition)
        throw new AssertionError(message);
}

export function assertEqual(actual, expected, what = 'value') {
    if (actual !== expected)
        throw new AssertionError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export function assertDeepEqual(actual, expected, what = 'value') {
    if (show(actual) !== show(expected))
        throw new AssertionError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export function assertClose(actual, expected, tolerance, what = 'value') {
    if (!(Math.abs(actual - expected) <= tolerance))
        throw new AssertionError(`${what}: expected ${expected} ± ${tolerance}, got ${actual}`);
}

/**
 * Calls @fn, which must throw; returns what it threw.
 */
export function assertThrows(fn, what = 'call') {
    try {
        fn();
    } catch (e) {
        return e;
    }
    throw new AssertionError(`${what} did not throw`);
}

/**
 * Awaits @promise, which must reject; returns the rejection.
 */
export async function assertRejects(promise, what = 'promise') {
    try {
        await promise;
    } catch (e) {
        return e;
    }
    throw new AssertionError(`${what} did not reject`);
}

/**
 * Runs every registered test in order inside a GLib main loop (so async
 * GIO calls complete), prints TAP and exits 0 if all passed.
 */
export function run() {
    const loop = new GLib.MainLoop(null, false);
    let failed = 0;

    (async () => {
        print(`1..${tests.length}`);
        for (const [i, t] of tests.entries()) {
            try {
                // eslint-disable-next-line no-await-in-loop
                await t.fn();
                print(`ok ${i + 1} - ${t.name}`);
            } catch (e) {
                failed++;
                print(`not ok ${i + 1} - ${t.name}`);
                const text = e instanceof Error || e instanceof GLib.Error
                    ? `${e}\n${e.stack ?? ''}` : String(e);
                for (const line of text.trimEnd().split('\n'))
                    print(`# ${line}`);
            }
        }
    })().catch(e => {
        failed++;
        print(`not ok - harness: ${e}`);
    }).finally(() => loop.quit());

    loop.run();
    System.exit(failed > 0 ? 1 : 0);
}
