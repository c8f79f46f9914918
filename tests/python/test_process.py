#!/usr/bin/env python3
# Python (PyGObject) tests of Amor.ProcessPool with Python workers
# (worker_square.py, which serves with Amor.worker_serve()).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every test checks what the pool promises: results in order, each item
# processed exactly once, errors in a worker's callback surfacing as
# GLib.Error with the item, a crashed worker's chunk retried, malformed
# output and bad argv reported, cancellation leaving no zombie; never how
# fast it went.

import os
import sys
import tempfile
import unittest

import amortap

Amor = amortap.import_amor()
from gi.repository import GLib  # noqa: E402
from poolutil import (amor_domain, assert_cancelled_and_reaped,  # noqa: E402
                      assert_work_failed_at, children, items, map_async,
                      two_worker_plan)

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, 'worker_square.py')


def make_pool(*options):
    return Amor.ProcessPool.new([sys.executable, WORKER] + list(options), 0)


def read_log(path, n):
    counts = [0] * n
    pids = set()
    with open(path) as log:
        for line in log:
            pid, value = (int(x) for x in line.split())
            counts[value] += 1
            pids.add(pid)
    return counts, pids


class Scratch:
    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix='amor-process-')
        self.log = os.path.join(self.dir.name, 'log')
        self.marker = os.path.join(self.dir.name, 'marker')
        open(self.log, 'w').close()

    def cleanup(self):
        self.dir.cleanup()


class ProcessPoolTest(unittest.TestCase):
    def setUp(self):
        self.scratch = Scratch()

    def tearDown(self):
        self.scratch.cleanup()

    def assert_results(self, results, n):
        self.assertEqual(results.get_type_string(), 'av')
        self.assertEqual(results.unpack(), [v * v + 1 for v in range(n)])

    def test_map_in_order_exactly_once(self):
        pool = make_pool('--log', self.scratch.log)
        results = pool.map(items(50), None)
        self.assert_results(results, 50)
        counts, _ = read_log(self.scratch.log, 50)
        self.assertEqual(counts, [1] * 50, 'sampled items included')
        self.assertIsInstance(pool.props.result, Amor.Result)
        self.assertGreater(pool.props.spawn_cost, 0.0)
        pool.shutdown()
        self.assertEqual(pool.props.n_running, 0)

    def test_values_worker(self):
        # Amor.worker_serve_values(): a chunk at a time, on Python values.
        pool = make_pool('--values', '--log', self.scratch.log)
        self.plan = two_worker_plan(4)
        pool.props.plan = self.plan
        self.assert_results(pool.map(items(50), None), 50)
        counts, _ = read_log(self.scratch.log, 50)
        self.assertEqual(counts, [1] * 50)
        self.assertEqual(pool.props.n_running, 2)
        pool.props.result_type = GLib.VariantType('t')
        self.assertEqual(pool.map_values(range(50), 't'),
                         [v * v + 1 for v in range(50)])
        pool.shutdown()

    def test_values_worker_exception(self):
        pool = make_pool('--values', '--raise-at', '7')
        self.plan = two_worker_plan(3)
        pool.props.plan = self.plan
        assert_work_failed_at(self, pool, 20, 7)
        self.assert_results(pool.map(items(7), None), 7)
        pool.shutdown()

    def test_map_on_two_workers(self):
        pool = make_pool('--log', self.scratch.log)
        plan = two_worker_plan(3)
        pool.props.plan = plan
        results = pool.map(items(40), None)
        self.assert_results(results, 40)
        counts, _ = read_log(self.scratch.log, 40)
        self.assertEqual(counts, [1] * 40)
        self.assertEqual(pool.props.n_running, 2)
        kept = {pid for pid, state in children()}
        self.assertEqual(len(kept), 2)
        # The next map runs on the processes kept from the first.
        results = pool.map(items(40), None)
        self.assert_results(results, 40)
        counts, pids = read_log(self.scratch.log, 40)
        self.assertEqual(counts, [2] * 40)
        self.assertLessEqual(pids, kept)
        self.assertEqual({pid for pid, state in children()}, kept)
        pool.shutdown()
        self.assertEqual(children(), [])

    def test_map_async(self):
        pool = make_pool('--log', self.scratch.log)
        plan = two_worker_plan(2)
        pool.props.plan = plan
        outcome = map_async(pool, 30)
        self.assertNotIn('error', outcome)
        self.assert_results(outcome['results'], 30)
        counts, _ = read_log(self.scratch.log, 30)
        self.assertEqual(counts, [1] * 30)
        pool.shutdown()

    def test_exception_in_worker(self):
        pool = make_pool('--raise-at', '7')
        plan = two_worker_plan(3)
        pool.props.plan = plan
        assert_work_failed_at(self, pool, 20, 7)
        # The workers go on serving.
        self.assert_results(pool.map(items(7), None), 7)
        pool.shutdown()

    def test_crash_is_retried(self):
        pool = make_pool('--log', self.scratch.log,
                         '--crash-at', '5', '--marker', self.scratch.marker)
        plan = two_worker_plan(3)
        pool.props.plan = plan
        results = pool.map(items(18), None)
        self.assert_results(results, 18)
        self.assertTrue(os.path.exists(self.scratch.marker))
        counts, _ = read_log(self.scratch.log, 18)
        # Item 5 died before it was logged, then ran once; only the items
        # of its chunk (3, 4, 5) may have run twice.
        self.assertEqual(counts[5], 1)
        for i in range(18):
            if i not in (3, 4, 5):
                self.assertEqual(counts[i], 1, 'item %d' % i)
        self.assertFalse([c for c in children() if c[1] == 'Z'])
        pool.shutdown()

    def test_malformed_output(self):
        pool = make_pool('--garbage-at', '4')
        plan = two_worker_plan(2)
        pool.props.plan = plan
        with self.assertRaises(GLib.Error) as cm:
            pool.map(items(10), None)
        error = cm.exception
        self.assertEqual(error.domain, amor_domain())
        self.assertEqual(error.code, Amor.Error.INVALID_DATA)
        self.assertIn('worker ', error.message)
        self.assertIn('chunk ', error.message)
        self.assertIn('(items 4–5)', error.message)
        # Usable for the next map.
        self.assert_results(pool.map(items(4), None), 4)
        pool.shutdown()

    def test_bad_argv(self):
        pool = Amor.ProcessPool.new(['/nonexistent/python-worker'], 0)
        with self.assertRaises(GLib.Error) as cm:
            pool.map(items(5), None)
        self.assertIn('Could not start a worker', cm.exception.message)

        # A program that exits before its hello.
        pool = Amor.ProcessPool.new([sys.executable, '-c', 'pass'], 0)
        with self.assertRaises(GLib.Error) as cm:
            pool.map(items(5), None)
        self.assertEqual(cm.exception.code, Amor.Error.FAILED)
        self.assertIn('exited with status 0 before its hello',
                      cm.exception.message)
        self.assertFalse(children())

    def test_cancel_leaves_no_zombie(self):
        pool = make_pool('--sleep-ms', '20', '--log', self.scratch.log)
        plan = two_worker_plan(1)
        pool.props.plan = plan
        outcome = map_async(pool, 300, cancel_after_ms=400)

        assert_cancelled_and_reaped(self, pool, outcome)
        counts, _ = read_log(self.scratch.log, 300)
        self.assertLessEqual(max(counts), 1)
        self.assertEqual(counts[299], 0)


class ValuesChunkTest(unittest.TestCase):
    """The chunk function of worker_serve_values() and new_forked_values():
    its answer, built from one buffer for results of a fixed-size type,
    is what GLib itself serialises."""

    def answer(self, values, item_type, result_type, func):
        from gi.overrides import Amor as override
        chunk = override._values_chunk_func(func, result_type)
        return chunk(GLib.Variant('a' + item_type, values))

    def assert_glib_form(self, answer, results, result_type):
        self.assertEqual(answer.get_type_string(), '(a%sax)' % result_type)
        got, durations = answer.unpack()
        self.assertEqual(got, results)
        self.assertEqual(len(durations), len(results))
        self.assertTrue(all(d >= 0 for d in durations))
        expected = GLib.Variant.new_tuple(GLib.Variant('a' + result_type, results),
                                          GLib.Variant('ax', durations))
        self.assertEqual(answer.get_data_as_bytes().get_data(),
                         expected.get_data_as_bytes().get_data())
        self.assertTrue(answer.is_normal_form())

    def test_fixed_size_results(self):
        # Sizes whose framing offset takes 1, 2 and 4 bytes, and results
        # whose array ends off the 8-byte alignment of the durations.
        for result_type, func in (('x', lambda v: v * v + 1), ('d', lambda v: v / 2),
                                  ('i', lambda v: -v), ('y', lambda v: v % 256),
                                  ('n', lambda v: v - 50)):
            for n in (0, 1, 3, 15, 16, 17, 1000, 5000):
                values = list(range(n))
                self.assert_glib_form(self.answer(values, 't', result_type, func),
                                      [func(v) for v in values], result_type)

    def test_other_results(self):
        self.assert_glib_form(self.answer([1, 2, 3], 't', 's', str), ['1', '2', '3'], 's')

    def test_exception_keeps_the_results_before(self):
        def func(v):
            if v == 3:
                raise ValueError('three')
            return v
        answer = self.answer(list(range(6)), 't', 'x', func)
        self.assertEqual(answer.unpack()[0], [0, 1, 2])


if __name__ == '__main__':
    amortap.main()
