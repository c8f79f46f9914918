// progress.js: await a parallel map from JavaScript, with a progress line
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GJS cannot call a JavaScript function from a worker thread, so the work of
// a parallel map started from JavaScript must be in C. Here it comes from
// the small AmorExamples library next to this file: item i hashes (SHA-256)
// a block of pseudo-random bytes seeded by i, on the executor's worker
// threads. JavaScript awaits the run (Gio._promisify) while the main loop
// delivers notify::completed, at most about 30 times a second, on this
// thread: that is where the progress line is drawn.
//
//   gjs -m progress.js [--quick]

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import System from 'system';
import Amor from 'gi://Amor?version=1';
import AmorExamples from 'gi://AmorExamples?version=1';

Gio._promisify(AmorExamples, 'run_checksum_async', 'run_checksum_finish');

const nItems = System.programArgs.includes('--quick') ? 2000 : 20000;
const BAR_WIDTH = 40;

function progressLine(completed, total) {
    const fraction = total > 0 ? completed / total : 1;
    const filled = Math.floor(fraction * BAR_WIDTH);
    return `[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ` +
        `${String(Math.floor(fraction * 100)).padStart(3)}%  ${completed}/${total}`;
}

async function main() {
    const executor = new Amor.Executor();
    let lastPercent = -1;
    let notifications = 0;
    executor.connect('notify::completed', () => {
        notifications++;
        // A line every 10 %, so that the output stays short when it is not
        // a terminal.
        const percent = Math.floor(100 * executor.completed / executor.n_items);
        if (percent >= lastPercent + 10 || executor.completed === executor.n_items) {
            lastPercent = percent;
            print(progressLine(executor.completed, executor.n_items));
        }
    });

    print(`Hashing ${nItems} blocks of ${AmorExamples.get_block_size() / 1024} KiB ` +
          'with work in C, on worker threads:');
    const digest = await AmorExamples.run_checksum_async(executor, nItems, null);

    const plan = executor.result;
    print(`\n${plan.explain()}`);
    print(`${notifications} progress notifications on the main loop; ` +
          `done in ${executor.elapsed.toFixed(3)} s: ` +
          `${executor.measured_speedup.toFixed(2)}× faster than a loop ` +
          '(estimated serial time / elapsed)');

    if (digest !== AmorExamples.checksum_expected(nItems))
        throw new Error('the digest differs from the one of a plain loop');
    print(`digest of every block: ${digest} (the plain loop's)`);
}

let status = 0;
const loop = new GLib.MainLoop(null, false);
main().catch(e => {
    printerr(`progress.js: ${e.message}`);
    status = 1;
}).finally(() => loop.quit());
loop.run();
System.exit(status);
