// bench/process/work.js: a CPU-bound JavaScript function whose cost grows
// linearly with n (a numeric loop the JIT compiles; no allocation, no GI
// call inside).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

export function work(n) {
    let x = 0;
    for (let i = 0; i < n; i++)
        x = (x + Math.sqrt(i + x % 7) * 1.000001) % 1e9;
    return x;
}
