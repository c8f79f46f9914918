// scenarios.js: the three workloads of amorsize in JavaScript (GJS)
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Three maps whose items differ in size:
//
//  - documents of 100–5000 words: split each into words and hash them;
//  - images of 1–20 megapixels (pixels scaled 1:64): a luminance histogram;
//  - mixed-complexity computation, complexity 10–1000: count the
//    inversions among that many keys, pair by pair (O(n²)).
//
// GJS runs JavaScript on its own thread only: it refuses to call a JS
// function from the executor's worker threads. So this program uses what
// works from JavaScript: an Amor.Sampler times a few items on this thread,
// Amor.Optimizer.plan() says how a parallel run would go (the CV, whether
// the work is heterogeneous, the chunk reduction, the workers), and the
// items then run serially on this thread, each exactly once, with the
// executor and a one-worker plan made from the same samples. For parallel
// speed from JavaScript, the work must be in C (see progress.js).
//
//   gjs -m scenarios.js [--quick]

import GLib from 'gi://GLib';
import System from 'system';
import Amor from 'gi://Amor?version=1';

const quick = System.programArgs.includes('--quick');
const scale = quick ? 10 : 1;

function mix32(x) {
    x = (x ^ (x >>> 16)) >>> 0;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    return (x ^ (x >>> 16)) >>> 0;
}

// Item sizes drawn uniformly in [low, high], the same on every run.
function sizes(seed, low, high, count) {
    return Array.from({length: count},
        (_, i) => low + mix32(mix32(seed) + i) % (high - low + 1));
}

function fnv1a(text) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++)
        hash = Math.imul(hash ^ text.charCodeAt(i), 16777619) >>> 0;
    return hash;
}

const corpus = Array.from({length: 8192}, (_, w) => {
    const r = mix32(w + 1);
    let word = '';
    for (let c = 0; c < 2 + r % 9; c++)
        word += String.fromCharCode(97 + mix32(r + c) % 26);
    return r % 8 === 0 ? `${word}.` : word;
}).join(' ');

const pixels = Uint32Array.from({length: 20 * (1 << 20) / 64}, (_, i) => mix32(i));

const scenarios = [
    {
        title: 'Documents',
        what: 'documents of 100–5000 words',
        sizes: sizes(1, 100, 5000, 3000 / scale),
        compute(index) {
            // About 6 characters a word.
            const start = mix32(index) % (corpus.length - 5000 * 6);
            const words = corpus.substr(start, this.sizes[index] * 6).toLowerCase()
                .split(/[^a-z]+/);
            let digest = 0;
            for (const word of words)
                digest = (Math.imul(digest, 31) + fnv1a(word)) >>> 0;
            return digest;
        },
    },
    {
        title: 'Images',
        what: 'images of 1–20 megapixels (pixels scaled 1:64)',
        sizes: sizes(2, 1, 20, 1000 / scale),
        compute(index) {
            const histogram = new Uint32Array(256);
            const n = this.sizes[index] * (1 << 20) / 64;
            for (let i = 0; i < n; i++) {
                const px = pixels[i];
                histogram[(77 * (px & 0xff) + 150 * ((px >>> 8) & 0xff) +
                           29 * ((px >>> 16) & 0xff)) >>> 8]++;
            }
            return histogram.reduce((sum, count) => (Math.imul(sum, 31) + count) >>> 0, 0);
        },
    },
    {
        title: 'Mixed complexity',
        what: 'computations of complexity 10–1000 (O(n²) each)',
        sizes: sizes(3, 10, 1000, 3000 / scale),
        compute(index) {
            const n = this.sizes[index];
            const keys = Uint32Array.from({length: n}, (_, i) => mix32(index * 1000 + i));
            let inversions = 0;
            for (let i = 0; i < n; i++) {
                for (let j = i + 1; j < n; j++)
                    inversions += keys[i] > keys[j] ? 1 : 0;
            }
            return inversions;
        },
    },
];

function describe(plan) {
    print(`  sampled:    ${plan.n_samples} items, mean ${(plan.mean * 1e6).toFixed(1)} µs, ` +
          `CV ${plan.cv.toFixed(2)} (${plan.is_heterogeneous ? 'heterogeneous' : 'not heterogeneous'})`);
    const factor = plan.get_chunk_factor();
    const items = n => `${n} ${n === 1 ? 'item' : 'items'}`;
    if (factor < 1) {
        print(`  chunk:      ${plan.get_base_chunk_size()} → ${items(plan.chunk_size)} ` +
              `(×${factor.toFixed(2)}: the CV is above 0.5)`);
    } else {
        print(`  chunk:      ${items(plan.chunk_size)} (not reduced: the CV is 0.5 or less)`);
    }
    print(`  workers:    ${plan.n_workers}`);
    print(`  reason:     ${plan.reason}`);
    print(`  estimated:  ${plan.estimated_speedup.toFixed(2)}× (for work that can run on worker threads)`);
}

function runScenario(s) {
    const nItems = s.sizes.length;
    print(`${s.title}: ${nItems} ${s.what}`);

    // The plain loop: the expected results and the time to compare with.
    let start = GLib.get_monotonic_time();
    const expected = s.sizes.map((_, i) => s.compute(i));
    const loopTime = (GLib.get_monotonic_time() - start) / 1e6;

    const results = new Array(nItems).fill(null);
    const visits = new Uint32Array(nItems);
    const work = index => {
        results[index] = s.compute(index);
        visits[index]++;
        return true;
    };

    start = GLib.get_monotonic_time();
    // 1. Time a few items on this thread, and plan.
    const optimizer = new Amor.Optimizer();
    const sampler = optimizer.create_sampler();
    sampler.run(nItems, work);
    describe(optimizer.plan(sampler, nItems));

    // 2. Run the other items on this thread: a one-worker plan from the
    //    same samples, and the sampled items skipped (they are done).
    const serialPlan = new Amor.Optimizer({max_workers: 1}).plan(sampler, nItems);
    const executor = new Amor.Executor({optimizer});
    executor.run_with_plan(serialPlan, nItems, i => sampler.was_sampled(i) || work(i), null);
    const elapsed = (GLib.get_monotonic_time() - start) / 1e6;

    for (let i = 0; i < nItems; i++) {
        if (visits[i] !== 1 || results[i] !== expected[i])
            throw new Error(`${s.title}: item ${i} was processed ${visits[i]} times, ` +
                            `${results[i] === expected[i] ? 'with the right' : 'with a wrong'} result`);
    }
    print(`  measured:   ${(loopTime / elapsed).toFixed(2)}× (loop ${loopTime.toFixed(3)} s, ` +
          `amorsize ${elapsed.toFixed(3)} s, sampling included): serial, because GJS ` +
          'runs a JavaScript function on its own thread only\n');
}

try {
    for (const s of scenarios)
        runScenario(s);
    print('Every item was processed exactly once, with the results of the loop.');
} catch (e) {
    printerr(`scenarios.js: ${e.message}`);
    System.exit(1);
}
