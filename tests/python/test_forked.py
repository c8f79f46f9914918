#!/usr/bin/env python3
# Python (PyGObject) tests of Amor.ProcessPool.new_forked(): workers that
# are forks of the test process, and a local function that samples and
# runs serial maps in the calling process.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What they check is what the pool promises: results in order, each item
# processed exactly once (sampled items in this process, the rest shared
# by this process and the forks), serial maps run here with no worker,
# errors surfacing as GLib.Error with the item, a crashed fork's chunk
# retried, cancellation leaving no zombie and no descriptor behind; never
# how fast it went. A custom Amor.System of two CPUs makes the plans the
# same on any machine.

import gc
import os
import signal
import tempfile
import time
import unittest

import amortap

Amor = amortap.import_amor()
from gi.repository import GLib  # noqa: E402
from poolutil import (assert_cancelled_and_reaped, assert_work_failed_at,  # noqa: E402
                      children, items, map_async, two_cpus, two_worker_plan)


def open_sockets():
    """The socket descriptors of this process (a pool's ends of its
    workers' sockets are the only sockets of the tests)."""
    found = []
    for fd in os.listdir('/proc/self/fd'):
        try:
            if os.readlink('/proc/self/fd/' + fd).startswith('socket:'):
                found.append(int(fd))
        except OSError:
            pass
    return sorted(found)


class Work:
    """The work of the tests: v -> v * v + 1, logging "PID VALUE" per item
    (an O_APPEND file, shared by the forks), and misbehaving on request."""

    def __init__(self, scratch, sleep=0.0, raise_at=None, crash_at=None):
        self.log_path = os.path.join(scratch, 'log')
        self.marker = os.path.join(scratch, 'marker')
        self.log = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.sleep = sleep
        self.raise_at = raise_at
        self.crash_at = crash_at
        self.parent = os.getpid()

    def __call__(self, item):
        return GLib.Variant('t', self.square(item.get_uint64()))

    def square(self, value):
        """The work on a Python value."""
        if (value == self.crash_at and os.getpid() != self.parent and
                not os.path.exists(self.marker)):
            with open(self.marker, 'w') as marker:
                marker.write('crashed\n')
            os.kill(os.getpid(), signal.SIGKILL)
        os.write(self.log, b'%d %d\n' % (os.getpid(), value))
        if self.sleep:
            time.sleep(self.sleep)
        if value == self.raise_at:
            raise ValueError('cannot square %d' % value)
        return value * value + 1

    def close(self):
        if self.log is not None:
            os.close(self.log)
            self.log = None

    def counts(self, n):
        counts = [0] * n
        pids = [None] * n
        with open(self.log_path) as log:
            for line in log:
                pid, value = (int(x) for x in line.split())
                counts[value] += 1
                pids[value] = pid
        return counts, pids


class ForkedPoolTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory(prefix='amor-forked-')
        self.sockets = open_sockets()

    def tearDown(self):
        self.scratch.cleanup()

    def new_pool(self, values=False, **options):
        work = Work(self.scratch.name, **options)
        self.addCleanup(work.close)
        if values:
            pool = Amor.ProcessPool.new_forked_values(work.square, 't')
        else:
            pool = Amor.ProcessPool.new_forked(work, 0)
        self.system = two_cpus()
        pool.props.system = self.system
        return pool, work

    def set_plan(self, pool, chunk_size):
        self.plan = two_worker_plan(chunk_size)
        pool.props.plan = self.plan

    def assert_results(self, results, n):
        self.assertEqual(results.get_type_string(), 'av')
        self.assertEqual(results.unpack(), [v * v + 1 for v in range(n)])

    def test_plan_runs_on_forks(self):
        pool, work = self.new_pool()
        self.assertFalse(pool.props.argv)
        self.set_plan(pool, 3)
        self.assert_results(pool.map(items(40), None), 40)
        counts, pids = work.counts(40)
        self.assertEqual(counts, [1] * 40)
        kept = {pid for pid, state in children()}
        self.assertEqual(len(kept), 2)
        self.assertEqual(pool.props.n_running, 2)
        self.assertLessEqual(set(pids), kept, 'every item ran in a fork')
        self.assertGreater(pool.props.spawn_cost, 0.0)
        pool.shutdown()
        self.assertEqual(children(), [])

    def test_serial_plan_runs_here(self):
        # A minimum speedup above what 2 CPUs give: the plan is serial
        # whatever the items took.
        pool, work = self.new_pool()
        pool.props.min_speedup = 2.5
        results = pool.map(items(200), None)
        self.assert_results(results, 200)
        plan = pool.props.result
        self.assertEqual(plan.props.schedule, Amor.Schedule.SERIAL)
        self.assertGreater(plan.props.n_samples, 0)
        counts, pids = work.counts(200)
        self.assertEqual(counts, [1] * 200, 'sampled items included')
        self.assertEqual(set(pids), {os.getpid()})
        self.assertEqual(pool.props.n_running, 0)
        self.assertEqual(children(), [])

    def assert_split_with_one_fork(self, pool, work, n):
        """Each of the n items ran once: the samples (the first two of the
        spread, items n / 2 and about n / 8.5) and more here, the rest in
        the one fork that a plan of 2 workers starts beside this
        process."""
        plan = pool.props.result
        self.assertEqual(plan.props.n_workers, 2, plan.explain())
        counts, pids = work.counts(n)
        self.assertEqual(counts, [1] * n)
        here = [i for i in range(n) if pids[i] == os.getpid()]
        self.assertIn(n // 2, here)
        self.assertIn(int(0.118033988749895 * n), here)
        self.assertGreater(len(here), 2)
        self.assertLess(len(here), n)
        forks = {pid for pid, state in children()}
        self.assertEqual(len(forks), 1)
        self.assertEqual(pool.props.n_running, 1)
        self.assertLessEqual(set(pids) - {os.getpid()}, forks)

    def test_sampled_here_rest_shared_with_a_fork(self):
        # Items of at least 20 ms (a sleep is never shorter): 40 of them are
        # 0.8 s of work, which two CPUs split, this process being one.
        pool, work = self.new_pool(sleep=0.02)
        results = pool.map(items(40), None)
        self.assert_results(results, 40)
        self.assert_split_with_one_fork(pool, work, 40)
        plan = pool.props.result
        self.assertIn('serialisation', ' '.join(plan.props.constraints))
        pool.shutdown()
        self.assertEqual(children(), [])

    def test_map_values(self):
        pool, work = self.new_pool()
        self.set_plan(pool, 3)
        expected = [v * v + 1 for v in range(30)]
        # Results boxed in an "av", unpacked.
        self.assertEqual(pool.map_values(range(30), 't'), expected)
        # An "at" of results, read from its bytes.
        pool.props.result_type = GLib.VariantType('t')
        self.assertEqual(pool.map_values(list(range(30)), 't'), expected)
        self.assertEqual(pool.map_values([], 't'), [])
        counts, _ = work.counts(30)
        self.assertEqual(counts, [2] * 30)
        # A result of another type fails the map.
        pool.props.result_type = GLib.VariantType('d')
        with self.assertRaises(GLib.Error) as cm:
            pool.map_values(range(30), 't')
        self.assertEqual(cm.exception.code, Amor.Error.INVALID_DATA)
        self.assertTrue(cm.exception.message.startswith('Item '))
        pool.shutdown()

    def test_values_pool(self):
        pool, work = self.new_pool(values=True)
        self.assertEqual(pool.props.result_type.dup_string(), 't')
        self.set_plan(pool, 4)
        expected = [v * v + 1 for v in range(50)]
        self.assertEqual(pool.map_values(range(50), 't'), expected)
        counts, pids = work.counts(50)
        self.assertEqual(counts, [1] * 50)
        self.assertEqual(pool.props.n_running, 2)
        self.assertLessEqual(set(pids), {pid for pid, state in children()})
        results = pool.map(items(10), None)
        self.assertEqual(results.get_type_string(), 'at')
        pool.shutdown()

    def test_values_pool_sampled_here(self):
        pool, work = self.new_pool(values=True, sleep=0.02)
        self.assertEqual(pool.map_values(range(40), 't'),
                         [v * v + 1 for v in range(40)])
        self.assert_split_with_one_fork(pool, work, 40)
        pool.shutdown()

    def test_values_pool_exception(self):
        pool, work = self.new_pool(values=True, raise_at=9)
        self.set_plan(pool, 4)
        assert_work_failed_at(self, pool, 20, 9)
        # Items 8 and 10 of the same chunk: 8 ran, 10 did not.
        counts, _ = work.counts(20)
        self.assertEqual(counts[8], 1)
        self.assertEqual(counts[10], 0)
        self.assertEqual(pool.map_values([3], 't'), [10])
        pool.shutdown()

    def test_chunks_here_stop_at_their_deadline(self):
        # The local functions of new_forked_values() and new_forked(), as
        # the pool calls them in this process: past the deadline
        # (Amor.worker_get_time_left()) they stop after an item, and
        # answer with the results of the items they ran and a duration for
        # each item of the chunk, which tells the pool to run the others
        # later; before it, or with none, they run all.
        import gi.overrides.Amor as override
        work = Work(self.scratch.name)
        self.addCleanup(work.close)
        introspected = override.Amor
        self.addCleanup(setattr, override, 'Amor', introspected)
        for chunk in (override._values_chunk_func(work.square, 't'),
                      override._variants_chunk_func(work)):
            for left, n_run in ((0.0, 1), (-1.0, 1), (60.0, 5), (GLib.MAXDOUBLE, 5)):
                override.Amor = type('Deadline', (), {
                    'worker_get_time_left': staticmethod(lambda: left)})
                answer = chunk(GLib.Variant('at', [1, 2, 3, 4, 5]))
                results, durations = answer.unpack()
                self.assertEqual(results, [v * v + 1 for v in range(1, n_run + 1)], left)
                self.assertEqual(len(durations), 5, left)
        override.Amor = introspected
        self.assertEqual(Amor.worker_get_time_left(), GLib.MAXDOUBLE)

    def test_failing_chunk_here_is_no_stop(self):
        # An item that fails ends the chunk too, but with as many durations
        # as results (or none): the pool reports the failure, not a stop.
        import gi.overrides.Amor as override
        work = Work(self.scratch.name, raise_at=3)
        self.addCleanup(work.close)
        values = override._values_chunk_func(work.square, 't')(GLib.Variant('at', [1, 2, 3, 4]))
        results, durations = values.unpack()
        self.assertEqual((results, len(durations)), ([2, 5], 2))
        variants = override._variants_chunk_func(work)(GLib.Variant('at', [1, 2, 3, 4]))
        self.assertEqual(variants.get_type_string(), 'av')
        self.assertEqual(variants.unpack(), [2, 5])

    def test_fork_starts_during_sampling(self):
        # Items of at least 2 ms: after two samples here the map (2 s of
        # work) is worth splitting, and outlasts a fork many times over:
        # the fork starts then, and sampling goes on.
        pool, work = self.new_pool(values=True, sleep=0.002)
        n = 1000
        self.assertEqual(pool.map_values(range(n), 't'),
                         [v * v + 1 for v in range(n)])
        self.assertGreater(pool.props.result.props.n_samples, 2)
        self.assert_split_with_one_fork(pool, work, n)
        pool.shutdown()

    def test_sampling_shared_with_the_fork_kept(self):
        # The fork kept from the first map takes a share of each round of
        # samples of the next. Of the first round, two items, it takes its
        # share and one more, so as not to wait for this process: the
        # first two items sampled (the middle one, then 0.118 n); this
        # process times the third (0.736 n).
        pool, work = self.new_pool(values=True, sleep=0.002)
        n = 200
        pool.map_values(range(n), 't')
        self.assertEqual(pool.props.n_running, 1)
        os.truncate(work.log_path, 0)
        self.assertEqual(pool.map_values(range(n), 't'),
                         [v * v + 1 for v in range(n)])
        counts, pids = work.counts(n)
        self.assertEqual(counts, [1] * n)
        self.assertNotEqual(pids[n // 2], os.getpid())
        self.assertNotEqual(pids[int(0.118033988749895 * n)], os.getpid())
        self.assertEqual(pids[int(0.736067977499790 * n)], os.getpid())
        self.assertEqual(pool.props.n_running, 1)
        pool.shutdown()

    def test_exception_in_fork(self):
        pool, work = self.new_pool(raise_at=7)
        self.set_plan(pool, 3)
        assert_work_failed_at(self, pool, 20, 7)
        self.assert_results(pool.map(items(7), None), 7)
        pool.shutdown()

    def test_exception_while_sampling_here(self):
        pool, work = self.new_pool(raise_at=3)
        assert_work_failed_at(self, pool, 4, 3)
        self.assertEqual(children(), [])
        # The pool is usable again.
        self.assert_results(pool.map(items(3), None), 3)

    def test_crashed_fork_is_retried(self):
        pool, work = self.new_pool(crash_at=5)
        self.set_plan(pool, 3)
        self.assert_results(pool.map(items(18), None), 18)
        self.assertTrue(os.path.exists(work.marker))
        counts, _ = work.counts(18)
        self.assertEqual(counts[5], 1)
        for i in range(18):
            if i not in (3, 4, 5):
                self.assertEqual(counts[i], 1, 'item %d' % i)
        self.assertFalse([c for c in children() if c[1] == 'Z'])
        pool.shutdown()
        self.assertEqual(children(), [])

    def test_failing_spawn_function(self):
        def spawn(fd, close_fds, *user_data):
            raise OSError('no fork today')
        pool = Amor.ProcessPool.new_with_spawn_func(0, spawn)
        self.set_plan(pool, 3)
        with self.assertRaises(GLib.Error) as cm:
            pool.map(items(10), None)
        self.assertIn('Could not start a worker (spawn function)',
                      cm.exception.message)
        self.assertEqual(children(), [])

    def test_cancel_leaves_no_zombie_nor_fd(self):
        pool, work = self.new_pool(sleep=0.02)
        self.set_plan(pool, 1)
        # map_async never runs the work here.
        outcome = map_async(pool, 300, cancel_after_ms=300)

        assert_cancelled_and_reaped(self, pool, outcome)
        counts, pids = work.counts(300)
        self.assertLessEqual(max(counts), 1)
        self.assertEqual(counts[299], 0)
        self.assertNotIn(os.getpid(), pids)
        self.assertEqual(open_sockets(), self.sockets)

    def test_fork_runs_no_finaliser_of_this_process(self):
        # Garbage of this process not collected yet at the fork (a cycle
        # whose finaliser logs where it ran): a fork's garbage collection,
        # which the work forces here, must not run that finaliser, as it
        # could (multiprocessing's finalisers kill the processes of a pool
        # of this process). Here, it does run.
        log = os.path.join(self.scratch.name, 'finalised')

        class Doomed:
            def __del__(self):
                with open(log, 'a') as out:
                    out.write('%d\n' % os.getpid())

        def collecting(item):
            gc.collect()
            value = item.get_uint64()
            return GLib.Variant('t', value * value + 1)

        pool = Amor.ProcessPool.new_forked(collecting, 0)
        pool.props.system = two_cpus()
        self.set_plan(pool, 2)
        gc.disable()
        try:
            doomed = Doomed()
            doomed.itself = doomed
            del doomed
            self.assert_results(pool.map(items(20), None), 20)
            self.assertEqual(pool.props.n_running, 2)
        finally:
            gc.enable()
        pool.shutdown()
        gc.collect()
        with open(log) as ran:
            self.assertEqual(ran.read().split(), [str(os.getpid())])

    def test_shutdown_leaves_no_fd(self):
        pool, work = self.new_pool()
        self.set_plan(pool, 2)
        self.assert_results(pool.map(items(30), None), 30)
        self.assertNotEqual(open_sockets(), self.sockets)
        pool.shutdown()
        self.assertEqual(children(), [])
        self.assertEqual(open_sockets(), self.sockets)


if __name__ == '__main__':
    amortap.main()
