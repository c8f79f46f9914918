#!/usr/bin/env python3
# Python tests of the Amor override (gi/overrides/Amor.py): Amor.map,
# Amor.optimize, and the work callbacks of Amor.Executor.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Each test checks what the override promises — every item processed
# exactly once, results in input order, the exception of the work raised
# again, the plan given by workers/chunk_size used — never how fast it ran.

import contextlib
import hashlib
import io
import sys
import threading
import traceback
import unittest

import amortap

Amor = amortap.import_amor()
from gi.repository import GLib, Gio  # noqa: E402

TIMEOUT_SECONDS = 120


def override_module():
    return sys.modules['gi.overrides.Amor']


def custom_executor(n_cpus=8, **props):
    system = Amor.System.new_custom(n_cpus, n_cpus, 8 << 30, 2e-5, 1e-7)
    return Amor.Executor.new(Amor.Optimizer(system=system, **props))


def amor_domain():
    return GLib.quark_to_string(Amor.error_quark())


@contextlib.contextmanager
def printed_exceptions():
    """Collects what PyGObject would print for an exception raised in a
    callback (it reports them through sys.excepthook)."""
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


class Counted:
    """A work function over items: returns a digest of the item, counts the
    calls per item and the threads that made them."""

    def __init__(self, fail_on=()):
        self.calls = {}
        self.threads = set()
        self.fail_on = set(fail_on)
        self.lock = threading.Lock()

    def __call__(self, item):
        with self.lock:
            self.calls[item] = self.calls.get(item, 0) + 1
            self.threads.add(threading.get_ident())
        if item in self.fail_on:
            raise LookupError('no digest for %r' % (item,))
        return expected_digest(item)

    def total(self):
        return sum(self.calls.values())


def expected_digest(item):
    return hashlib.sha256(repr(item).encode() * 64).hexdigest()


class Generator:
    """A generator of @n distinct items that counts how often it is read."""

    def __init__(self, n):
        self.n = n
        self.taken = 0
        self.started = 0

    def __iter__(self):
        self.started += 1
        for i in range(self.n):
            self.taken += 1
            yield 'item-%d' % i


class OverrideTest(unittest.TestCase):
    def test_the_override_is_loaded(self):
        # Amor.map exists only through the override; the executor class is
        # the override's subclass.
        self.assertTrue(callable(Amor.map))
        self.assertTrue(callable(Amor.optimize))
        self.assertIs(type(Amor.Executor.new(None)), Amor.Executor)
        self.assertEqual(Amor.Executor.__module__, 'gi.overrides.Amor')


class MapTest(unittest.TestCase):
    def assert_each_once(self, work, items):
        self.assertEqual(work.calls, {item: 1 for item in items},
                         'every item exactly once')

    def test_map_over_a_list(self):
        items = ['doc-%d' % i for i in range(5000)]
        work = Counted()
        results = Amor.map(work, items)
        self.assertIsInstance(results, list)
        self.assertEqual(results, [expected_digest(x) for x in items])
        self.assert_each_once(work, items)

    def test_map_over_a_generator(self):
        gen = Generator(3000)
        work = Counted()
        executor = Amor.Executor.new(None)
        results = Amor.map(work, iter(gen), executor=executor)
        items = ['item-%d' % i for i in range(gen.n)]
        self.assertEqual(gen.started, 1)
        self.assertEqual(gen.taken, gen.n, 'the generator was read once')
        self.assertEqual(results, [expected_digest(x) for x in items])
        self.assert_each_once(work, items)
        # The sampled items count as done: nothing is processed twice.
        self.assertGreaterEqual(executor.props.result.props.n_samples, 1)
        self.assertEqual(executor.props.completed, gen.n)

    def test_map_over_other_iterables(self):
        self.assertEqual(Amor.map(lambda x: x * x, range(100)),
                         [x * x for x in range(100)])
        self.assertEqual(Amor.map(str.upper, ('a', 'b', 'c')),
                         ['A', 'B', 'C'])
        self.assertEqual(sorted(Amor.map(abs, {-1, -2, -3})), [1, 2, 3])
        self.assertEqual(Amor.map(len, (x * 'a' for x in range(10))),
                         list(range(10)))

    def test_map_of_nothing(self):
        calls = []
        self.assertEqual(Amor.map(calls.append, []), [])
        self.assertEqual(Amor.map(calls.append, iter(())), [])
        self.assertEqual(calls, [])

    def test_func_may_return_none_or_false(self):
        # Through the override, what func returns is its result, not a
        # success flag.
        seen = []
        lock = threading.Lock()

        def remember(x):
            with lock:
                seen.append(x)

        self.assertEqual(Amor.map(remember, range(500)), [None] * 500)
        self.assertEqual(sorted(seen), list(range(500)))
        self.assertEqual(Amor.map(lambda x: x % 2 == 1, range(6)),
                         [False, True, False, True, False, True])
        self.assertEqual(Amor.map(lambda x: 0, range(3)), [0, 0, 0])

    def test_workers_and_chunk_size_override_the_plan(self):
        items = list(range(1000))
        work = Counted()
        executor = custom_executor()
        results = Amor.map(work, items, workers=3, chunk_size=7,
                           executor=executor)
        self.assertEqual(results, [expected_digest(x) for x in items])
        self.assert_each_once(work, items)
        plan = executor.props.result
        self.assertEqual(plan.props.n_workers, 3)
        self.assertEqual(plan.props.chunk_size, 7)
        self.assertEqual(plan.props.schedule, Amor.Schedule.FIXED)
        self.assertEqual(plan.props.n_items, len(items))
        # Nothing was sampled.
        self.assertEqual(plan.props.n_samples, 0)
        self.assertIn('given by the caller', plan.props.reason)

    def test_chunk_size_alone_uses_every_usable_cpu(self):
        work = Counted()
        executor = custom_executor(n_cpus=6)
        Amor.map(work, range(100), chunk_size=10, executor=executor)
        self.assert_each_once(work, range(100))
        self.assertEqual(executor.props.result.props.n_workers, 6)
        self.assertEqual(executor.props.result.props.chunk_size, 10)

    def test_workers_alone_samples_then_runs_the_rest(self):
        items = ['x%d' % i for i in range(2000)]
        work = Counted()
        executor = custom_executor()
        results = Amor.map(work, iter(items), workers=3, executor=executor)
        self.assertEqual(results, [expected_digest(x) for x in items])
        # The items run while sampling are not run again.
        self.assert_each_once(work, items)
        plan = executor.props.result
        self.assertEqual(plan.props.n_workers, 3)
        self.assertEqual(plan.props.schedule, Amor.Schedule.FIXED)
        self.assertGreaterEqual(plan.props.n_samples, 5)
        self.assertGreaterEqual(plan.props.chunk_size, 1)
        self.assertIn('as given by the caller', plan.props.reason)
        self.assertEqual(executor.props.completed, len(items))

    def test_one_worker_runs_on_this_thread(self):
        work = Counted()
        executor = custom_executor()
        Amor.map(work, range(300), workers=1, executor=executor)
        self.assert_each_once(work, range(300))
        self.assertEqual(work.threads, {threading.get_ident()})
        self.assertEqual(executor.props.result.props.schedule,
                         Amor.Schedule.SERIAL)

    def test_workers_run_concurrently(self):
        # Each call waits (releasing the GIL) until calls have been seen on
        # two threads at once: the test passes only if a second thread runs
        # func while the first is still inside it.
        threads = set()
        lock = threading.Lock()
        both = threading.Event()
        gave_up = threading.Event()

        def work(item):
            with lock:
                threads.add(threading.get_ident())
                if len(threads) >= 2:
                    both.set()
            if not gave_up.is_set() and not both.wait(TIMEOUT_SECONDS / 4):
                gave_up.set()
            return item

        results = Amor.map(work, range(64), workers=2, chunk_size=1)
        self.assertEqual(results, list(range(64)))
        self.assertTrue(both.is_set(), 'func ran on one thread only')

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            Amor.map(42, range(3))
        with self.assertRaises(TypeError):
            Amor.map(abs, 42)
        with self.assertRaises(ValueError):
            Amor.map(abs, range(3), workers=0)
        with self.assertRaises(ValueError):
            Amor.map(abs, range(3), chunk_size=0)
        with self.assertRaises(TypeError):
            Amor.map(abs, range(3), workers='2')
        with self.assertRaises(TypeError):
            Amor.map(abs, range(3), chunk_size=2.5)

    def test_cancelled(self):
        cancellable = Gio.Cancellable.new()
        cancellable.cancel()
        work = Counted()
        with self.assertRaises(GLib.Error) as cm:
            Amor.map(work, range(1000), workers=2, chunk_size=10,
                     cancellable=cancellable)
        self.assertTrue(cm.exception.matches(Gio.io_error_quark(),
                                             Gio.IOErrorEnum.CANCELLED),
                        cm.exception)
        self.assertLess(work.total(), 1000)
        self.assertLessEqual(max(work.calls.values(), default=0), 1)


class MapExceptionTest(unittest.TestCase):
    def assert_noted(self, exception, caller, index, item):
        notes = getattr(exception, '__notes__', [])
        self.assertTrue(any(('item %d' % index) in n and caller in n
                            and repr(item) in n for n in notes), notes)

    def test_exception_is_raised_again(self):
        items = ['doc-%d' % i for i in range(1000)]
        work = Counted(fail_on={'doc-613'})
        # Caught by hand: assertRaises drops the traceback.
        e = None
        with printed_exceptions() as printed:
            try:
                Amor.map(work, items, workers=2, chunk_size=5)
            except LookupError as caught:
                e = caught
        self.assertIsNotNone(e, 'Amor.map did not raise LookupError')
        self.assertIs(type(e), LookupError)
        self.assertEqual(str(e), "no digest for 'doc-613'")
        self.assertEqual(work.calls['doc-613'], 1)
        self.assertLessEqual(max(work.calls.values()), 1, 'an item ran twice')
        self.assertLess(work.total(), len(items), 'the error did not stop')
        # Nothing was printed: the exception reached the caller instead.
        self.assertEqual(printed, [])
        # The traceback still shows where func raised it.
        frames = [f.name for f in traceback.extract_tb(e.__traceback__)]
        self.assertIn('__call__', frames)
        if sys.version_info >= (3, 11):
            self.assert_noted(e, 'Amor.map', 613, 'doc-613')

    def test_exception_while_sampling(self):
        # Every item fails, so the first sampled one stops the map.
        class Failure(Exception):
            def __init__(self, code, detail):
                super().__init__(code, detail)
                self.code = code

        calls = []

        def work(item):
            calls.append(item)
            raise Failure(7, 'item %d' % item)

        with printed_exceptions() as printed:
            with self.assertRaises(Failure) as cm:
                Amor.map(work, range(10000))
        self.assertEqual(cm.exception.code, 7)
        self.assertEqual(len(calls), 1, 'sampling stopped at the first error')
        self.assertEqual(cm.exception.args, (7, 'item %d' % calls[0]))
        self.assertEqual(printed, [])
        if sys.version_info >= (3, 11):
            self.assert_noted(cm.exception, 'Amor.map', calls[0], calls[0])

    def test_exception_with_workers_alone(self):
        work = Counted(fail_on={'x1500'})
        items = ['x%d' % i for i in range(3000)]
        with self.assertRaises(LookupError):
            Amor.map(work, items, workers=2, executor=custom_executor())
        self.assertEqual(work.calls['x1500'], 1)
        self.assertLessEqual(max(work.calls.values()), 1, 'an item ran twice')

    def test_before_python_3_11(self):
        # Without exception notes: an exception of the same type whose
        # message names the item, or a GLib.Error when the type cannot be
        # made from a message.
        module = override_module()
        saved = module._HAVE_NOTES
        module._HAVE_NOTES = False
        try:
            with self.assertRaises(LookupError) as cm:
                Amor.map(Counted(fail_on={42}), range(100), workers=1)
            self.assertIs(type(cm.exception), LookupError)
            self.assertEqual(str(cm.exception), 'Item 42: no digest for 42')
            self.assertIs(type(cm.exception.__cause__), LookupError)

            class Strict(Exception):
                def __init__(self, a, b):
                    super().__init__(a, b)

            def strict(item):
                if item == 3:
                    raise Strict('bad', item)
                return item

            with self.assertRaises(GLib.Error) as cm:
                Amor.map(strict, range(10), workers=1)
            error = cm.exception
            self.assertEqual(error.domain, amor_domain())
            self.assertEqual(error.code, Amor.Error.WORK_FAILED)
            self.assertTrue(error.message.startswith('Item 3: Strict: '),
                            error.message)
            self.assertIn("'bad'", error.message)
            self.assertIs(type(error.__cause__), Strict)
        finally:
            module._HAVE_NOTES = saved

    def test_glib_error_from_func_is_raised_again(self):
        def work(item):
            if item == 5:
                raise GLib.Error.new_literal(Gio.io_error_quark(), 'gone',
                                             Gio.IOErrorEnum.NOT_FOUND)
            return item

        with self.assertRaises(GLib.Error) as cm:
            Amor.map(work, range(10), workers=1)
        self.assertTrue(cm.exception.matches(Gio.io_error_quark(),
                                             Gio.IOErrorEnum.NOT_FOUND))
        self.assertEqual(cm.exception.message, 'gone')


class OptimizeTest(unittest.TestCase):
    def test_optimize_an_iterable(self):
        gen = Generator(5000)
        work = Counted()
        result = Amor.optimize(work, iter(gen))
        self.assertIsInstance(result, Amor.Result)
        self.assertEqual(gen.taken, gen.n)
        self.assertEqual(result.props.n_items, gen.n)
        self.assertEqual(result.props.n_samples, work.total())
        self.assertGreaterEqual(work.total(), 5)
        self.assertLessEqual(max(work.calls.values()), 1)
        # Sampling runs on this thread.
        self.assertEqual(work.threads, {threading.get_ident()})
        self.assertTrue(result.explain())

    def test_optimize_with_an_optimizer_and_none_results(self):
        system = Amor.System.new_custom(3, 3, 8 << 30, 2e-5, 1e-7)
        optimizer = Amor.Optimizer(system=system, max_workers=2)
        result = Amor.optimize(lambda item: None, range(10000),
                               optimizer=optimizer)
        self.assertEqual(result.props.n_items, 10000)
        self.assertEqual(result.props.n_cpus, 3)
        self.assertLessEqual(result.props.n_workers, 2)

    def test_optimize_raises_the_exception(self):
        def work(item):
            raise ArithmeticError('cannot %s' % item)

        with printed_exceptions() as printed:
            with self.assertRaises(ArithmeticError) as cm:
                Amor.optimize(work, ['a', 'b', 'c'])
        self.assertTrue(str(cm.exception).startswith('cannot '))
        self.assertEqual(printed, [])
        if sys.version_info >= (3, 11):
            notes = cm.exception.__notes__
            self.assertTrue(any('Amor.optimize' in n for n in notes), notes)


class ExecutorCallbackTest(unittest.TestCase):
    """The raw API through the override: func(index) without user data,
    func(index, user_data) with it, for every entry point alike."""

    def calls_of(self, run):
        calls = []
        lock = threading.Lock()

        def work(*args):
            with lock:
                calls.append(args)
            return True

        run(work)
        return calls

    def serial_plan(self):
        sampler = Amor.Sampler.new()
        for _ in range(5):
            sampler.add_duration(1e-3)
        return Amor.Optimizer(max_workers=1).plan(sampler, 10)

    def test_no_user_data_gives_the_index_only(self):
        n = 50
        runs = {
            'Executor.run': lambda w: custom_executor().run(n, w),
            'Executor.run_with_plan': lambda w: custom_executor().run_with_plan(
                self.serial_plan(), n, w),
            'Optimizer.optimize': lambda w: Amor.Optimizer().optimize(n, w),
            'Sampler.run': lambda w: Amor.Sampler.new().run(n, w),
        }
        for name, run in runs.items():
            calls = self.calls_of(run)
            self.assertTrue(calls, name)
            self.assertTrue(all(len(args) == 1 and isinstance(args[0], int)
                                for args in calls), '%s: %r' % (name, calls))

    def test_user_data_is_passed_along(self):
        n = 50
        for data in ('payload', None, 0):
            runs = {
                'Executor.run': lambda w: custom_executor().run(n, w, data),
                'Executor.run_with_plan':
                    lambda w: custom_executor().run_with_plan(
                        self.serial_plan(), n, w, data),
                'Optimizer.optimize':
                    lambda w: Amor.Optimizer().optimize(n, w, data),
                'Sampler.run': lambda w: Amor.Sampler.new().run(n, w, data),
            }
            for name, run in runs.items():
                calls = self.calls_of(run)
                self.assertTrue(calls, name)
                self.assertEqual({args[1:] for args in calls}, {(data,)},
                                 '%s with %r' % (name, data))

    def test_cancellable_by_position_and_keyword(self):
        for by_keyword in (False, True):
            cancellable = Gio.Cancellable.new()
            cancellable.cancel()
            executor = custom_executor()
            with self.assertRaises(GLib.Error) as cm:
                if by_keyword:
                    executor.run(1000, lambda i: True,
                                 cancellable=cancellable)
                else:
                    executor.run(1000, lambda i: True, None, cancellable)
            self.assertTrue(cm.exception.matches(Gio.io_error_quark(),
                                                 Gio.IOErrorEnum.CANCELLED))

    def run_async(self, executor, n_items, *args):
        loop = GLib.MainLoop.new(None, False)
        outcome = {}

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

        timeout = GLib.timeout_add_seconds(TIMEOUT_SECONDS, on_timeout)
        executor.run_async(n_items, *args, callback=on_done)
        loop.run()
        self.assertNotIn('timeout', outcome)
        GLib.source_remove(timeout)
        return outcome

    def test_run_async_callbacks(self):
        n = 2000
        counts = [0] * n
        seen = set()
        lock = threading.Lock()

        def work(index, *user_data):
            with lock:
                counts[index] += 1
                seen.add(user_data)
            return True

        outcome = self.run_async(custom_executor(), n, work)
        self.assertEqual(outcome, {'ok': True})
        self.assertEqual(counts, [1] * n)
        self.assertEqual(seen, {()})

        counts[:] = [0] * n
        seen.clear()
        outcome = self.run_async(custom_executor(), n, work, 'payload')
        self.assertEqual(outcome, {'ok': True})
        self.assertEqual(counts, [1] * n)
        self.assertEqual(seen, {('payload',)})

    def test_raw_api_keeps_its_true_contract(self):
        # Only Amor.map accepts a func that returns None.
        with self.assertRaises(GLib.Error) as cm:
            custom_executor().run(100, lambda index: None)
        self.assertEqual(cm.exception.code, Amor.Error.WORK_FAILED)


class ValuesChunkTest(unittest.TestCase):
    """The chunk function of a values pool (Amor.ProcessPool.new_forked_values(),
    Amor.worker_serve_values()): every item's result, and its duration on a
    clock that an item of value v moves on by v nanoseconds."""

    def run_chunk(self, values, raise_at=None):
        module = override_module()
        now = [0]

        def work(value):
            if value == raise_at:
                raise ValueError('item %d' % value)
            now[0] += value
            return 2 * value

        saved = module.time.perf_counter_ns
        module.time.perf_counter_ns = lambda: now[0]
        try:
            chunk = module._values_chunk_func(work, 'x')
        finally:
            module.time.perf_counter_ns = saved
        with contextlib.redirect_stderr(io.StringIO()) as printed:
            results, durations = chunk(GLib.Variant('ax', values)).unpack()
        self.assertEqual(len(durations), len(results))
        return results, durations, printed.getvalue()

    def test_items_of_milliseconds_are_timed_each(self):
        values = [1000000 + 997 * (i % 13) for i in range(300)]
        results, durations, _ = self.run_chunk(values)
        self.assertEqual(results, [2 * v for v in values])
        self.assertEqual(durations, values)

    def test_items_of_microseconds_are_timed_in_groups(self):
        values = [10000 + 101 * (i % 7) for i in range(3000)]
        results, durations, _ = self.run_chunk(values)
        self.assertEqual(results, [2 * v for v in values])
        # The first 64 (a map's samples among them) each on its own; the
        # others share their group's time, to the nanosecond.
        self.assertEqual(durations[:64], values[:64])
        self.assertNotEqual(durations[64:], values[64:])
        self.assertEqual(sum(durations), sum(values))
        self.assertLessEqual(max(durations[64:]) - min(durations[64:]), 101 * 6)

    def test_exception_in_a_group(self):
        values = [10000 + i for i in range(1000)]
        results, durations, printed = self.run_chunk(values, raise_at=10500)
        # The results before the failing item say which it is.
        self.assertEqual(results, [2 * v for v in values[:500]])
        self.assertEqual(sum(durations), sum(values[:500]))
        self.assertIn('ValueError: item 10500', printed)


if __name__ == '__main__':
    amortap.main()
