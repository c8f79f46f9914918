#!/usr/bin/env python3
# Python (PyGObject) tests of Amor.Executor: a map over a list, errors,
# run_async with a main loop.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Python callbacks run on the executor's worker threads (PyGObject takes the
# GIL for each call). Every test checks what the executor promises: each
# index processed exactly once, results in index order, the first error
# stopping the run; never how fast it went.

import contextlib
import hashlib
import sys
import threading
import time
import unittest

import amortap

Amor = amortap.import_amor()
from gi.repository import GLib, Gio  # noqa: E402

MEAN = 2.0 ** -13
TARGET = 2.0 ** -10
TIMEOUT_SECONDS = 120


def custom_system():
    return Amor.System.new_custom(8, 8, 8 << 30, 2e-5, 1e-7)


def make_optimizer(**props):
    props.setdefault('target_chunk_duration', TARGET)
    return Amor.Optimizer(system=custom_system(), **props)


def make_executor(**props):
    return Amor.Executor.new(make_optimizer(**props))


def parallel_plan(n_items):
    """A parallel plan for @n_items computed from added durations."""
    sampler = Amor.Sampler.new()
    for _ in range(5):
        sampler.add_duration(MEAN)
    plan = make_optimizer().plan(sampler, n_items)
    assert plan.is_parallel()
    return plan


def amor_domain():
    return GLib.quark_to_string(Amor.error_quark())


@contextlib.contextmanager
def quiet_callback_exceptions():
    """PyGObject reports an exception raised in a callback through
    sys.excepthook; collect them instead of printing them."""
    seen = []
    lock = threading.Lock()
    old = sys.excepthook

    def hook(etype, value, tb):
        with lock:
            seen.append(value)

    sys.excepthook = hook
    try:
        yield seen
    finally:
        sys.excepthook = old


class MapOverList:
    """Hashes a list of byte strings into results[i], counting the calls of
    every index (callbacks run concurrently on worker threads).

    PyGObject passes Executor callbacks their user_data (None when none was
    given) because it is not the last argument of run(); hence *user_data."""

    def __init__(self, n_items, fail_at=None):
        self.items = [('item %d' % i).encode() * 16 for i in range(n_items)]
        self.results = [None] * n_items
        self.counts = [0] * n_items
        self.threads = set()
        self.fail_at = fail_at
        self.user_data = set()
        self.lock = threading.Lock()

    def __call__(self, index, *user_data):
        with self.lock:
            self.counts[index] += 1
            self.threads.add(threading.get_ident())
            self.user_data.add(user_data)
        if index == self.fail_at:
            raise RuntimeError('cannot hash item %d' % index)
        time.sleep(0)
        self.results[index] = hashlib.sha256(self.items[index]).hexdigest()
        return True

    def expected(self):
        return [hashlib.sha256(x).hexdigest() for x in self.items]

    def calls(self):
        return sum(self.counts)


class RunTest(unittest.TestCase):
    def test_run_over_a_list(self):
        work = MapOverList(20000)
        executor = make_executor()
        self.assertTrue(executor.run(len(work.items), work))
        self.assertEqual(work.counts, [1] * len(work.items),
                         'every index exactly once, sampling included')
        self.assertEqual(work.results, work.expected())
        self.assertEqual(executor.props.completed, len(work.items))
        self.assertEqual(executor.props.n_items, len(work.items))
        result = executor.props.result
        self.assertIsInstance(result, Amor.Result)
        self.assertEqual(result.props.n_items, len(work.items))
        self.assertGreater(executor.props.elapsed, 0.0)

    def test_run_passes_user_data(self):
        n_items = 1000
        work = MapOverList(n_items)
        self.assertTrue(make_executor().run(n_items, work, 'payload'))
        self.assertEqual(work.user_data, {('payload',)})
        self.assertEqual(work.counts, [1] * n_items)

    def test_run_with_plan_over_a_list(self):
        n_items = 20000
        plan = parallel_plan(n_items)
        work = MapOverList(n_items)
        executor = make_executor()
        self.assertTrue(executor.run_with_plan(plan, n_items, work))
        self.assertEqual(work.counts, [1] * n_items)
        self.assertEqual(work.results, work.expected())
        self.assertEqual(executor.props.completed, n_items)

    def test_run_with_plan_from_json(self):
        n_items = 5000
        plan = Amor.Result.new_from_json(parallel_plan(n_items).to_json())
        work = MapOverList(n_items)
        executor = make_executor()
        self.assertTrue(executor.run_with_plan(plan, n_items, work))
        self.assertEqual(work.counts, [1] * n_items)
        self.assertEqual(work.results, work.expected())

    def test_second_run_reuses_the_executor(self):
        executor = make_executor()
        for n_items in (3000, 7):
            work = MapOverList(n_items)
            self.assertTrue(executor.run(n_items, work))
            self.assertEqual(work.counts, [1] * n_items)
            self.assertEqual(work.results, work.expected())
            self.assertEqual(executor.props.completed, n_items)

    def test_callbacks_run_concurrently_on_worker_threads(self):
        if Amor.System.get_default().props.n_cpus < 2:
            self.skipTest('one usable CPU: no worker threads')
        # Each call waits (releasing the GIL) until calls have been seen on
        # two threads at once, so the test passes only if a second thread
        # runs the Python callback while the first is still inside it.
        n_items = 64
        threads = set()
        lock = threading.Lock()
        both = threading.Event()
        gave_up = threading.Event()
        counts = [0] * n_items

        def work(index, *user_data):
            with lock:
                counts[index] += 1
                threads.add(threading.get_ident())
                if len(threads) >= 2:
                    both.set()
            if not gave_up.is_set() and not both.wait(TIMEOUT_SECONDS / 4):
                gave_up.set()
            return True

        executor = make_executor()
        self.assertTrue(executor.run_with_plan(parallel_plan(n_items),
                                               n_items, work))
        self.assertTrue(both.is_set(), 'the callback ran on one thread only')
        self.assertEqual(counts, [1] * n_items)

    def test_exception_stops_the_run(self):
        n_items = 100000
        work = MapOverList(n_items, fail_at=0)
        executor = make_executor()
        with quiet_callback_exceptions() as printed:
            with self.assertRaises(GLib.Error) as cm:
                executor.run_with_plan(parallel_plan(n_items), n_items, work)
        error = cm.exception
        self.assertEqual(error.domain, amor_domain())
        self.assertEqual(error.code, Amor.Error.WORK_FAILED)
        self.assertIn('Item 0', error.message)
        self.assertEqual(work.counts[0], 1)
        self.assertLessEqual(max(work.counts), 1, 'an index ran twice')
        self.assertLess(work.calls(), n_items, 'the error did not stop the run')
        self.assertLessEqual(executor.props.completed, work.calls() - 1)
        self.assertTrue(any(isinstance(e, RuntimeError) for e in printed))

    def test_exception_stops_the_sampled_run(self):
        # The failing item may be sampled or run by a worker: either way the
        # run stops with its error.
        n_items = 100000
        fail_at = 76543
        work = MapOverList(n_items, fail_at=fail_at)
        with quiet_callback_exceptions():
            with self.assertRaises(GLib.Error) as cm:
                make_executor().run(n_items, work)
        self.assertEqual(cm.exception.domain, amor_domain())
        self.assertEqual(cm.exception.code, Amor.Error.WORK_FAILED)
        self.assertIn('Item %d' % fail_at, cm.exception.message)
        self.assertEqual(work.counts[fail_at], 1)
        self.assertLessEqual(max(work.counts), 1, 'an index ran twice')
        self.assertLess(work.calls(), n_items, 'the error did not stop the run')

    def test_returning_none_fails_the_run(self):
        n_items = 1000
        with self.assertRaises(GLib.Error) as cm:
            make_executor().run(n_items, lambda index, *data: None)
        self.assertEqual(cm.exception.domain, amor_domain())
        self.assertEqual(cm.exception.code, Amor.Error.WORK_FAILED)


class AsyncTest(unittest.TestCase):
    def run_async(self, executor, n_items, work, cancellable=None):
        """Runs executor.run_async in a main loop; returns (ok, error,
        threads that saw notify::completed)."""
        loop = GLib.MainLoop.new(None, False)
        outcome = {}
        notify_threads = set()

        def on_notify(obj, pspec):
            notify_threads.add(threading.get_ident())

        def on_done(source, res, *data):
            try:
                outcome['ok'] = source.run_finish(res)
            except GLib.Error as e:
                outcome['error'] = e
            loop.quit()

        def on_timeout():
            outcome['timeout'] = True
            loop.quit()
            return GLib.SOURCE_REMOVE

        handler = executor.connect('notify::completed', on_notify)
        timeout = GLib.timeout_add_seconds(TIMEOUT_SECONDS, on_timeout)
        executor.run_async(n_items, work, cancellable=cancellable,
                           callback=on_done)
        loop.run()
        executor.disconnect(handler)
        if 'timeout' in outcome:
            self.fail('run_async did not finish in %d s' % TIMEOUT_SECONDS)
        GLib.source_remove(timeout)
        return outcome.get('ok'), outcome.get('error'), notify_threads

    def test_run_async_over_a_list(self):
        n_items = 20000
        work = MapOverList(n_items)
        executor = make_executor()
        ok, error, notify_threads = self.run_async(executor, n_items, work)
        self.assertIsNone(error)
        self.assertTrue(ok)
        self.assertEqual(work.counts, [1] * n_items)
        self.assertEqual(work.results, work.expected())
        self.assertEqual(executor.props.completed, n_items)
        # Progress is notified on this (the caller's) thread only.
        self.assertLessEqual(notify_threads, {threading.get_ident()})

    def test_run_async_error(self):
        n_items = 100000
        fail_at = 123
        work = MapOverList(n_items, fail_at=fail_at)
        with quiet_callback_exceptions():
            ok, error, notify_threads = self.run_async(make_executor(),
                                                       n_items, work)
        self.assertIsNotNone(error)
        self.assertEqual(error.domain, amor_domain())
        self.assertEqual(error.code, Amor.Error.WORK_FAILED)
        self.assertIn('Item %d' % fail_at, error.message)
        self.assertLessEqual(max(work.counts), 1, 'an index ran twice')
        self.assertLess(work.calls(), n_items, 'the error did not stop the run')
        self.assertLessEqual(notify_threads, {threading.get_ident()})

    def test_run_async_cancelled(self):
        n_items = 100000
        cancellable = Gio.Cancellable.new()
        cancellable.cancel()
        work = MapOverList(n_items)
        ok, error, _ = self.run_async(make_executor(), n_items, work,
                                      cancellable)
        self.assertIsNotNone(error)
        self.assertTrue(error.matches(Gio.io_error_quark(),
                                      Gio.IOErrorEnum.CANCELLED), error)
        self.assertLessEqual(max(work.counts), 1)
        self.assertLess(work.calls(), n_items)


if __name__ == '__main__':
    amortap.main()
