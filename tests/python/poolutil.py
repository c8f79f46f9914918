# poolutil.py: helpers of the process-pool tests (test_process.py,
# test_forked.py).
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Import it after amortap.import_amor(), which loads the Amor typelib.

import os

from gi.repository import Amor, GLib, Gio

TIMEOUT_SECONDS = 120


def amor_domain():
    return GLib.quark_to_string(Amor.error_quark())


def two_cpus():
    """A machine of two free CPUs, whatever this one is."""
    return Amor.System.new_custom(2, 2, 8 << 30, 0.0, 0.0)


def two_worker_plan(chunk_size):
    """A plan of two workers and chunks of @chunk_size, made on the pure
    planning path: 1 ms items on a machine of two free CPUs."""
    optimizer = Amor.Optimizer(system=two_cpus(),
                               target_chunk_duration=chunk_size * 1e-3)
    sampler = Amor.Sampler.new()
    for _ in range(5):
        sampler.add_duration(1e-3)
    plan = optimizer.plan(sampler, 1000)
    assert plan.props.n_workers == 2 and plan.props.chunk_size == chunk_size
    return plan


def items(n):
    return GLib.Variant('at', list(range(n)))


def children():
    """(pid, state) of the children of this process."""
    found = []
    me = os.getpid()
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(')') + 2:].split()
        if int(fields[1]) == me:
            found.append((int(name), fields[0]))
    return found


def assert_work_failed_at(test, pool, n, index):
    """pool.map() over items(n) fails with the error of the work callback,
    prefixed with @index."""
    with test.assertRaises(GLib.Error) as cm:
        pool.map(items(n), None)
    error = cm.exception
    test.assertEqual(error.domain, amor_domain())
    test.assertEqual(error.code, Amor.Error.WORK_FAILED)
    test.assertTrue(error.message.startswith('Item %d: ' % index), error.message)


def map_async(pool, n, cancel_after_ms=None):
    """Runs pool.map_async() over items(n) on a main loop, cancelling it
    after @cancel_after_ms if given; returns what the map ended with:
    {'results': ...} or {'error': ...}."""
    cancellable = Gio.Cancellable() if cancel_after_ms is not None else None
    loop = GLib.MainLoop()
    outcome = {}

    def done(source, result):
        try:
            outcome['results'] = source.map_finish(result)
        except GLib.Error as e:
            outcome['error'] = e
        loop.quit()

    pool.map_async(items(n), cancellable, done)
    if cancellable is not None:
        GLib.timeout_add(cancel_after_ms, lambda: cancellable.cancel())
    GLib.timeout_add_seconds(TIMEOUT_SECONDS, loop.quit)
    loop.run()
    return outcome


def assert_cancelled_and_reaped(test, pool, outcome):
    """The map of @outcome (see map_async()) was cancelled, and the workers
    running its chunks were terminated and reaped."""
    error = outcome.get('error')
    test.assertIsNotNone(error, 'the map was not cancelled')
    test.assertTrue(error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
    test.assertEqual(children(), [])
    test.assertEqual(pool.props.n_running, 0)
