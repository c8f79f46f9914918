#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/).

Run from a build with introspection, for example:

    GI_TYPELIB_PATH=_build/amorsize LD_LIBRARY_PATH=_build/amorsize \\
        /usr/bin/python3 tests/fuzz/make-corpus.py

The seeds are small valid inputs of every kind, plus a few near misses, so
that fuzzing starts from the interesting shapes instead of having to find
JSON objects or GVariant frames by chance. Crash inputs found by fuzzing
are added to the same directories by hand (as crash-<sha1>), so that the
fuzz-<target>-corpus tests replay them forever.
"""
import os
import struct

import gi

gi.require_version("Amor", "1")
from gi.repository import Amor, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def plan(n_cpus, durations, n_items, schedule=Amor.Schedule.FIXED, **options):
    system = Amor.System.new_custom(n_cpus, n_cpus, 8 << 30, 20e-6, 100e-9)
    optimizer = Amor.Optimizer(system=system, schedule=schedule, **options)
    sampler = Amor.Sampler()
    for d in durations:
        sampler.add_duration(d)
    return optimizer.plan(sampler, n_items).to_json()


def result_json():
    write("result-json", "serial-no-items", plan(4, [], 0))
    write("result-json", "serial-tiny", plan(4, [1e-7] * 5, 200))
    write("result-json", "fixed", plan(8, [1e-3, 1.1e-3, 0.9e-3, 1e-3, 1e-3], 10000))
    write("result-json", "guided-heterogeneous",
          plan(16, [1e-4, 1e-3, 5e-3, 2e-4, 9e-3, 1e-5], 100000, Amor.Schedule.GUIDED))
    write("result-json", "huge-count", plan(64, [1e-6] * 5, 2**64 - 1))
    write("result-json", "memory-capped",
          plan(8, [1e-3] * 5, 1000, item_memory=3 << 30))
    # Near misses: every reader error has a seed one mutation away.
    good = plan(2, [1e-3] * 5, 1000)
    write("result-json", "future-version", good.replace('"version" : 1', '"version" : 2'))
    write("result-json", "negative-mean",
          good.replace('"mean" : 0.001', '"mean" : -0.001'))
    write("result-json", "truncated", good[: len(good) // 2])
    write("result-json", "not-an-object", "[1, 2, 3]")


def frame(kind, value):
    body = value.get_data_as_bytes().get_data()
    return struct.pack(">IB3x", len(body), ord(kind)) + body


def wire():
    v = GLib.Variant
    chunk = v("(uv)", (1, v("av", [v("t", 7), v("s", "text"), v("ay", b"\x00\x01\x02"),
                                  v("d", 0.5), v("mi", None)])))
    failing = v("(uv)", (2, v("av", [v("t", 1), v("s", "fail"), v("t", 3)])))
    typed = v("(uv)", (5, v("at", [1, 2, 3, 4])))
    doubles = v("(uv)", (6, v("ad", [0.5, 1.5])))
    refused = v("(uv)", (3, v("av", [v("b", False)])))
    empty = v("(uv)", (4, v("av", [])))
    not_an_array = v("(uv)", (7, v("s", "items")))
    hello = v("(su)", ("amorsize-worker", 2))
    results = v("(uvaxx)", (1, v("av", [v("t", 49), v("s", "done")]), [1200, 800], 5000))
    typed_results = v("(uvaxx)", (5, v("at", [2, 5, 10, 17]), [10, 10, 10, 10], 900))
    error = v("(uusis)", (2, 1, "g-io-error-quark", 0, "Item 1: asked to fail"))

    # Even first byte: a worker's input.
    write("wire", "worker-chunks",
          b"\x00" + frame("C", chunk) + frame("C", failing) + frame("C", empty))
    write("wire", "worker-typed-chunks", b"\x00" + frame("C", typed) + frame("C", doubles))
    write("wire", "worker-refused", b"\x00" + frame("C", refused))
    write("wire", "worker-not-an-array", b"\x00" + frame("C", not_an_array))
    write("wire", "worker-not-a-chunk", b"\x00" + frame("H", hello))
    write("wire", "worker-truncated", b"\x00" + frame("C", chunk)[:-3])
    write("wire", "worker-empty", b"\x00")
    # Odd first byte: a worker's output, as the pool reads it.
    write("wire", "pool-conversation",
          b"\x01" + frame("H", hello) + frame("R", results) + frame("R", typed_results)
          + frame("E", error))
    write("wire", "pool-bad-header", b"\x01" + b"\x00\x00\x00\x04Zxyz" + b"abcd")
    write("wire", "pool-oversized", b"\x01" + struct.pack(">IB3x", 0x7FFFFFFF, ord("R")))
    write("wire", "pool-old-hello", b"\x01" + frame("H", v("(su)", ("amorsize-worker", 1))))


if __name__ == "__main__":
    result_json()
    wire()
