// A worker of the GJS process-pool tests (testProcess.js): serves integer
// items, mapping v to v * v + 1 (a uint64), with Amor.worker_serve().
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Arguments make it misbehave on a chosen item value:
//   --log FILE         append "PID VALUE" per item processed
//   --sleep-ms N       sleep N ms per item
//   --throw-at V       throw an exception
//   --crash-at V       exit (status 17) on V once: if --marker FILE does not
//   --marker FILE      exist yet (it is created first)
//   --chunks 1         serve with Amor.worker_serve_chunks(): the same work a
//                      chunk at a time, answering an "at"

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Amor from 'gi://Amor?version=1';
import System from 'system';

const options = {};
for (let i = 0; i + 1 < System.programArgs.length; i += 2)
    options[System.programArgs[i].replace(/^--/, '')] = System.programArgs[i + 1];

const number = name => name in options ? Number(options[name]) : NaN;
const pid = new Gio.Credentials().get_unix_pid();
const encoder = new TextEncoder();

function log(value) {
    if (!options.log)
        return;
    const stream = Gio.File.new_for_path(options.log).append_to(Gio.FileCreateFlags.NONE, null);
    stream.write_all(encoder.encode(`${pid} ${value}\n`), null);
    stream.close(null);
}

function square(value) {
    if (value === number('crash-at') && !GLib.file_test(options.marker, GLib.FileTest.EXISTS)) {
        GLib.file_set_contents(options.marker, 'crashed\n');
        System.exit(17);
    }
    log(value);
    // Printing is harmless: it goes to standard error.
    print(`processing ${value}`);
    if (number('sleep-ms') > 0)
        GLib.usleep(number('sleep-ms') * 1000);
    if (value === number('throw-at'))
        throw new Error(`cannot square ${value}`);
    return value * value + 1;
}

if (options.chunks) {
    Amor.worker_serve_chunks(items => {
        const results = [];
        try {
            for (const value of items.deepUnpack())
                results.push(square(Number(value)));
        } catch (e) {
            // The results before the failing item name it.
            printerr(`${e}`);
        }
        return new GLib.Variant('at', results);
    });
} else {
    Amor.worker_serve(item => new GLib.Variant('t', square(Number(item.unpack()))));
}
