#!/usr/bin/env python3
# scenarios.py: the three workloads of amorsize in Python, with Amor.map
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Three maps whose items differ in size:
#
#  - documents of 100-5000 words: compress each document (zlib);
#  - images of 1-20 megapixels (bytes scaled 1:64): a SHA-256 of the pixels;
#  - mixed-complexity computation, complexity 10-1000: derive a key with
#    PBKDF2, the iteration count proportional to the complexity.
#
# zlib, hashlib and PBKDF2 release the GIL while they work, so the worker
# threads of amorsize really run them side by side; pure-Python work would
# take turns on the GIL and gain nothing.
#
# For each workload the program times a plain list comprehension (the
# expected results), then Amor.map over the same items — the documents come
# from a generator — checks the results, and prints the plan (CV,
# heterogeneous or not, chunk reduction, workers) and the measured speedup.
#
#   scenarios.py [--quick]

import hashlib
import random
import sys
import time
import zlib

import gi
gi.require_version('Amor', '1')
from gi.repository import Amor  # noqa: E402

QUICK = '--quick' in sys.argv[1:]
SCALE = 10 if QUICK else 1

_rand = random.Random(0)
WORDS = [''.join(_rand.choices('abcdefghijklmnopqrstuvwxyz', k=2 + w % 9))
         for w in range(8192)]
PIXELS = random.Random(1).randbytes(20 * (1 << 20) // 64)


def sizes(seed, low, high, count):
    rand = random.Random(seed)
    return [rand.randint(low, high) for _ in range(count)]


# The work of one item: it takes the item and returns its result.

def summarise(document):
    compressed = zlib.compress(document, 6)
    return len(document), zlib.crc32(compressed)


def fingerprint(image):
    return hashlib.sha256(image).hexdigest()


def derive(complexity):
    return hashlib.pbkdf2_hmac('sha256', b'amorsize', b'%d' % complexity,
                               complexity * 2).hex()


def documents(n_words_each):
    """The documents, made one at a time as they are read."""
    for i, n_words in enumerate(n_words_each):
        start = (i * 7919) % (len(WORDS) - n_words)
        yield ' '.join(WORDS[start:start + n_words]).encode()


def images(megapixels_each):
    view = memoryview(PIXELS)
    return [view[:mp * (1 << 20) // 64] for mp in megapixels_each]


def describe(plan):
    print('  sampled:    %d items, mean %.1f µs, CV %.2f (%s)'
          % (plan.props.n_samples, plan.props.mean * 1e6, plan.props.cv,
             'heterogeneous' if plan.props.is_heterogeneous
             else 'not heterogeneous'))
    factor = plan.get_chunk_factor()
    chunk = plan.props.chunk_size
    items = '%d %s' % (chunk, 'item' if chunk == 1 else 'items')
    if factor < 1.0:
        print('  chunk:      %d → %s (×%.2f: the CV is above 0.5)'
              % (plan.get_base_chunk_size(), items, factor))
    else:
        print('  chunk:      %s (not reduced: the CV is 0.5 or less)' % items)
    print('  workers:    %d' % plan.props.n_workers)
    print('  reason:     %s' % plan.props.reason)
    print('  estimated:  %.2f×' % plan.props.estimated_speedup)


def scenario(title, what, func, make_items):
    items = list(make_items())
    print('%s: %d %s' % (title, len(items), what))

    start = time.perf_counter()
    expected = [func(item) for item in items]
    serial = time.perf_counter() - start

    executor = Amor.Executor.new(None)
    # make_items() again: Amor.map takes any iterable, a generator too.
    results = Amor.map(func, make_items(), executor=executor)
    if results != expected:
        sys.exit('%s: Amor.map gave other results than the loop' % title)

    describe(executor.props.result)
    elapsed = executor.props.elapsed
    print('  measured:   %.2f× (loop %.3f s, Amor.map %.3f s, sampling '
          'included)\n' % (serial / elapsed, serial, elapsed))


def main():
    scenario('Documents', 'documents of 100–5000 words', summarise,
             lambda: documents(sizes(1, 100, 5000, 3000 // SCALE)))
    scenario('Images', 'images of 1–20 megapixels (bytes scaled 1:64)',
             fingerprint, lambda: images(sizes(2, 1, 20, 2000 // SCALE)))
    scenario('Mixed complexity', 'computations of complexity 10–1000',
             derive, lambda: iter(sizes(3, 10, 1000, 2000 // SCALE)))
    print('Every result of Amor.map is the one of the loop, in order.')


if __name__ == '__main__':
    main()
