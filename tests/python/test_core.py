#!/usr/bin/env python3
# Python (PyGObject) tests of the amorsize core: sampler, optimizer, result.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Plans are computed from added durations on a custom Amor.System, so every
# expected number follows from the cost model alone; nothing here depends on
# how fast this machine is.

import contextlib
import json
import math
import sys
import threading
import unittest

import amortap

Amor = amortap.import_amor()
from gi.repository import GLib  # noqa: E402

# Exact binary fractions: mean 2^-13 s and a target chunk duration of 2^-10 s
# give a base chunk of exactly 8 items, with no rounding anywhere.
MEAN = 2.0 ** -13
TARGET = 2.0 ** -10


def custom_system():
    return Amor.System.new_custom(8, 8, 8 << 30, 2e-5, 1e-7)


def make_optimizer(**props):
    props.setdefault('target_chunk_duration', TARGET)
    return Amor.Optimizer(system=custom_system(), **props)


def plan_from(durations, n_items, optimizer=None):
    optimizer = optimizer or make_optimizer()
    sampler = Amor.Sampler.new()
    for d in durations:
        sampler.add_duration(d)
    return optimizer.plan(sampler, n_items)


def amor_domain():
    return GLib.quark_to_string(Amor.error_quark())


@contextlib.contextmanager
def captured_callback_exceptions():
    """Collects the exceptions PyGObject prints for a failing callback (it
    reports them through sys.excepthook) instead of printing them."""
    seen = []
    old = sys.excepthook
    sys.excepthook = lambda etype, value, tb: seen.append(value)
    try:
        yield seen
    finally:
        sys.excepthook = old


class SystemTest(unittest.TestCase):
    def test_custom_system_properties(self):
        system = custom_system()
        self.assertEqual(system.props.n_cpus, 8)
        self.assertEqual(system.props.n_physical_cores, 8)
        self.assertEqual(system.props.available_memory, 8 << 30)
        self.assertEqual(system.props.fork_join_cost, 2e-5)
        self.assertEqual(system.props.dispatch_cost, 1e-7)

    def test_default_system_is_shared_and_sane(self):
        system = Amor.System.get_default()
        self.assertIs(system, Amor.System.get_default())
        self.assertGreaterEqual(system.props.n_cpus, 1)
        self.assertGreaterEqual(system.props.n_physical_cores, 1)


class SamplerTest(unittest.TestCase):
    def test_statistics_of_added_durations(self):
        sampler = Amor.Sampler.new()
        for d in (1.0, 2.0, 3.0):
            sampler.add_duration(d)
        self.assertEqual(sampler.props.n_samples, 3)
        self.assertAlmostEqual(sampler.props.mean, 2.0, places=12)
        self.assertAlmostEqual(sampler.props.variance, 2.0 / 3.0, places=12)
        self.assertAlmostEqual(sampler.props.stddev, math.sqrt(2.0 / 3.0),
                               places=12)
        self.assertAlmostEqual(sampler.props.cv, 0.408248290463863, places=12)
        self.assertEqual(sampler.props.min, 1.0)
        self.assertEqual(sampler.props.max, 3.0)
        self.assertAlmostEqual(sampler.props.total, 6.0, places=12)
        self.assertFalse(sampler.props.is_heterogeneous)

    def test_cv_is_zero_below_two_samples(self):
        sampler = Amor.Sampler.new()
        self.assertEqual(sampler.props.cv, 0.0)
        sampler.add_duration(0.5)
        self.assertEqual(sampler.props.cv, 0.0)
        self.assertFalse(math.isnan(sampler.props.cv))

    def test_run_calls_python_on_this_thread_once_per_index(self):
        calls = []
        threads = set()

        def work(index):
            calls.append(index)
            threads.add(threading.get_ident())
            return True

        sampler = Amor.Sampler.new()
        n_items = 1000
        self.assertTrue(sampler.run(n_items, work))
        self.assertGreater(len(calls), 0)
        self.assertEqual(len(calls), sampler.props.n_samples)
        self.assertEqual(len(set(calls)), len(calls), 'an index ran twice')
        self.assertTrue(all(0 <= i < n_items for i in calls))
        self.assertEqual(threads, {threading.get_ident()})
        for i in calls:
            self.assertTrue(sampler.was_sampled(i))
        self.assertEqual(sorted(sampler.get_sampled_indices()), sorted(calls))
        # The sample is spread over the range, not only the first items.
        self.assertGreaterEqual(max(calls), n_items // 2)


class PlanTest(unittest.TestCase):
    def test_plan_from_durations_1_2_3(self):
        result = plan_from([1.0, 2.0, 3.0], 100)
        self.assertEqual(result.props.n_items, 100)
        self.assertEqual(result.props.n_samples, 3)
        self.assertAlmostEqual(result.props.mean, 2.0, places=12)
        self.assertAlmostEqual(result.props.cv, 0.408248290463863, places=12)
        self.assertFalse(result.props.is_heterogeneous)
        # CV 0.41 is "slightly variable": the chunk is not reduced.
        self.assertEqual(result.get_chunk_factor(), 1.0)
        # 1 ms target / 2 s per item: the base chunk is 1 item.
        self.assertEqual(result.get_base_chunk_size(), 1)
        self.assertEqual(result.props.chunk_size, 1)
        # 100 items of 2 s on 8 CPUs with microsecond overheads: all 8 CPUs.
        self.assertEqual(result.props.n_workers, 8)
        self.assertTrue(result.is_parallel())
        self.assertNotEqual(result.props.schedule, Amor.Schedule.SERIAL)
        self.assertAlmostEqual(result.props.estimated_serial_time, 200.0,
                               places=9)
        self.assertGreater(result.props.estimated_speedup, 1.2)
        self.assertLessEqual(result.props.estimated_speedup, 8.0)
        self.assertAlmostEqual(
            result.props.estimated_speedup,
            result.props.estimated_serial_time
            / result.props.estimated_parallel_time, places=9)

    def test_plan_homogeneous(self):
        result = plan_from([MEAN] * 5, 100000)
        self.assertEqual(result.props.cv, 0.0)
        self.assertFalse(result.props.is_heterogeneous)
        self.assertEqual(result.get_base_chunk_size(), 8)
        self.assertEqual(result.get_chunk_factor(), 1.0)
        self.assertEqual(result.props.chunk_size, 8)
        self.assertEqual(result.props.n_workers, 8)
        self.assertEqual(result.props.n_samples, 5)

    def test_plan_heterogeneous_cv_1_halves_the_chunk(self):
        # 1,1,1,1,6 (scaled): mean 2, population stddev 2, CV exactly 1.
        s = MEAN / 2
        result = plan_from([s, s, s, s, 6 * s], 100000)
        self.assertAlmostEqual(result.props.mean, MEAN, places=15)
        self.assertAlmostEqual(result.props.cv, 1.0, places=12)
        self.assertTrue(result.props.is_heterogeneous)
        self.assertAlmostEqual(result.get_chunk_factor(), 0.5, places=12)
        self.assertEqual(result.get_base_chunk_size(), 8)
        self.assertEqual(result.props.chunk_size, 4)
        self.assertEqual(result.props.n_workers, 8)

    def test_plan_is_pure(self):
        s = MEAN / 2
        a = plan_from([s, s, s, s, 6 * s], 100000)
        b = plan_from([s, s, s, s, 6 * s], 100000)
        self.assertEqual(a.to_json(), b.to_json())

    def test_max_workers_caps(self):
        result = plan_from([MEAN] * 5, 100000, make_optimizer(max_workers=3))
        self.assertEqual(result.props.n_workers, 3)

    def test_workers_never_exceed_items(self):
        result = plan_from([1.0] * 5, 3)
        self.assertEqual(result.props.n_workers, 3)
        result = plan_from([1.0] * 5, 1)
        self.assertEqual(result.props.n_workers, 1)
        self.assertEqual(result.props.schedule, Amor.Schedule.SERIAL)

    def test_tiny_work_is_serial(self):
        # 10 items of 0.1 µs: 1 µs of work, less than one fork-join.
        result = plan_from([1e-7] * 5, 10)
        self.assertFalse(result.is_parallel())
        self.assertEqual(result.props.n_workers, 1)
        self.assertEqual(result.props.schedule, Amor.Schedule.SERIAL)
        self.assertEqual(result.props.chunk_size, 10)
        self.assertLess(result.props.estimated_speedup, 1.2)
        # The reason says why, in numbers.
        self.assertIn('1.2', result.props.reason)
        self.assertIn('10 items', result.props.reason)

    def test_no_items(self):
        result = plan_from([MEAN] * 5, 0)
        self.assertEqual(result.props.n_workers, 1)
        self.assertEqual(result.props.schedule, Amor.Schedule.SERIAL)
        self.assertIn('no items', result.props.reason)


class OptimizeTest(unittest.TestCase):
    def test_optimize_with_python_callback(self):
        calls = []
        threads = set()

        def work(index):
            calls.append(index)
            threads.add(threading.get_ident())
            sum(range(200))
            return True

        n_items = 10000
        result = make_optimizer().optimize(n_items, work)
        self.assertIsInstance(result, Amor.Result)
        self.assertEqual(result.props.n_items, n_items)
        self.assertEqual(result.props.n_samples, len(calls))
        self.assertGreaterEqual(len(calls), 5)
        self.assertEqual(len(set(calls)), len(calls), 'an index ran twice')
        self.assertTrue(all(0 <= i < n_items for i in calls))
        # Sampling runs on the calling thread.
        self.assertEqual(threads, {threading.get_ident()})
        self.assertGreater(result.props.mean, 0.0)

    def test_optimize_passes_user_data(self):
        seen = []

        def work(index, data):
            seen.append(data)
            return True

        make_optimizer().optimize(100, work, 'payload')
        self.assertTrue(seen)
        self.assertEqual(set(seen), {'payload'})

    def test_exception_in_callback_is_a_glib_error(self):
        calls = []

        def work(index):
            calls.append(index)
            raise ValueError('no such item %d' % index)

        with captured_callback_exceptions() as printed:
            with self.assertRaises(GLib.Error) as cm:
                make_optimizer().optimize(1000, work)
        error = cm.exception
        self.assertEqual(error.domain, amor_domain())
        self.assertEqual(error.code, Amor.Error.WORK_FAILED)
        self.assertTrue(error.matches(Amor.error_quark(),
                                      Amor.Error.WORK_FAILED))
        # The first failure stops sampling; the message names that item.
        self.assertEqual(len(calls), 1)
        self.assertTrue(error.message.startswith('Item %d: ' % calls[0]),
                        error.message)
        # PyGObject reported the Python exception itself.
        self.assertEqual([type(e) for e in printed], [ValueError])

    def test_callback_returning_none_is_work_failed(self):
        def work(index):
            return None

        with self.assertRaises(GLib.Error) as cm:
            make_optimizer().optimize(1000, work)
        self.assertEqual(cm.exception.domain, amor_domain())
        self.assertEqual(cm.exception.code, Amor.Error.WORK_FAILED)

    def test_callback_returning_false_is_work_failed(self):
        def work(index):
            return False

        with self.assertRaises(GLib.Error) as cm:
            Amor.Sampler.new().run(10, work)
        self.assertEqual(cm.exception.domain, amor_domain())
        self.assertEqual(cm.exception.code, Amor.Error.WORK_FAILED)


class ResultTest(unittest.TestCase):
    def heterogeneous(self):
        s = MEAN / 2
        return plan_from([s, s, s, s, 6 * s], 100000)

    def test_explain(self):
        result = self.heterogeneous()
        text = result.explain()
        self.assertIsInstance(text, str)
        self.assertGreater(len(text.splitlines()), 3)
        cv_lines = [l for l in text.splitlines() if 'CV' in l]
        self.assertTrue(cv_lines, text)
        self.assertTrue(any('1.0' in l for l in cv_lines), text)
        self.assertIn('heterogeneous', text.lower())
        worker_lines = [l for l in text.splitlines() if 'worker' in l.lower()]
        self.assertTrue(worker_lines, text)
        self.assertTrue(any('8' in l for l in worker_lines), text)

    def assert_same_properties(self, a, b):
        names = [p.name for p in Amor.Result.list_properties()]
        self.assertIn('n-workers', names)
        for name in names:
            va, vb = a.get_property(name), b.get_property(name)
            if isinstance(va, (list, tuple)):
                va, vb = list(va), list(vb)
            self.assertEqual(va, vb, 'property %s differs' % name)

    def test_json_round_trip(self):
        results = [
            self.heterogeneous(),
            plan_from([1.0, 2.0, 3.0], 100),
            plan_from([1e-7] * 5, 10),
            plan_from([MEAN] * 5, 0),
        ]
        for result in results:
            text = result.to_json()
            json.loads(text)  # it is JSON
            copy = Amor.Result.new_from_json(text)
            self.assertIsInstance(copy, Amor.Result)
            self.assert_same_properties(result, copy)
            self.assertEqual(copy.to_json(), text)
            self.assertEqual(copy.explain(), result.explain())

    def assert_amor_error(self, text, code=None):
        with self.assertRaises(GLib.Error) as cm:
            Amor.Result.new_from_json(text)
        self.assertEqual(cm.exception.domain, amor_domain(),
                         '%r: %s' % (text, cm.exception.message))
        if code is not None:
            self.assertEqual(cm.exception.code, code,
                             '%r: %s' % (text, cm.exception.message))
        self.assertTrue(cm.exception.message)
        return cm.exception

    def test_new_from_json_rejects_garbage(self):
        good = self.heterogeneous().to_json()
        self.assert_amor_error('this is not json', Amor.Error.PARSE)
        self.assert_amor_error('', None)
        self.assert_amor_error(good[:len(good) // 2], Amor.Error.PARSE)
        self.assert_amor_error('[1, 2, 3]', Amor.Error.INVALID_DATA)
        self.assert_amor_error('42', Amor.Error.INVALID_DATA)
        self.assert_amor_error('{}', None)

    def test_new_from_json_rejects_wrong_types_and_future_versions(self):
        data = json.loads(self.heterogeneous().to_json())
        self.assertIsInstance(data, dict)
        version_keys = [k for k in data if 'version' in k.lower()]
        self.assertTrue(version_keys, 'the JSON carries no format version')
        future = dict(data)
        future[version_keys[0]] = 999999
        self.assert_amor_error(json.dumps(future),
                               Amor.Error.UNSUPPORTED_VERSION)

        # A number of the plan (not the version) turned into a string.
        def paths(node, prefix=()):
            if isinstance(node, dict):
                for key, value in node.items():
                    yield from paths(value, prefix + (key,))
            elif isinstance(node, (int, float)) and not isinstance(node, bool):
                yield prefix
        numeric = [p for p in paths(data) if p[-1] not in version_keys]
        self.assertTrue(numeric, 'no numeric member to corrupt in %r' % data)
        wrong = json.loads(json.dumps(data))
        node = wrong
        for key in numeric[0][:-1]:
            node = node[key]
        node[numeric[0][-1]] = 'a string'
        self.assert_amor_error(json.dumps(wrong), Amor.Error.INVALID_DATA)


if __name__ == '__main__':
    amortap.main()
