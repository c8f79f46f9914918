// A worker of the GJS process-pool tests (testProcess.js) that speaks the
// protocol by hand: a correct hello, then garbage in answer to the first
// chunk of items.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A frame is a 4-byte big-endian length, a type byte and three zero bytes,
// then a GVariant (the hello is "(su)": "amorsize-worker", version 2).

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';

const input = new Gio.UnixInputStream({fd: 0, close_fd: false});
const output = new Gio.UnixOutputStream({fd: 1, close_fd: false});

function frame(type, body) {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, body.length, false);
    header[4] = type.charCodeAt(0);
    const bytes = new Uint8Array(8 + body.length);
    bytes.set(header, 0);
    bytes.set(body, 8);
    return bytes;
}

// The bytes, or null at the end of the input (the pool is done with us).
function readExactly(n) {
    const bytes = input.read_bytes(n, null).toArray();
    return bytes.length === n ? bytes : null;
}

const hello = new GLib.Variant('(su)', ['amorsize-worker', 2]).get_data_as_bytes().toArray();
output.write_all(frame('H', hello), null);

const header = readExactly(8);
if (header !== null) {
    const length = new DataView(header.buffer, header.byteOffset, 8).getUint32(0, false);
    readExactly(length);
    output.write_all(new TextEncoder().encode('this is no frame of the worker protocol'), null);

    // Wait for the pool to terminate this worker, or for the end of the input.
    input.read_bytes(1, null);
}
