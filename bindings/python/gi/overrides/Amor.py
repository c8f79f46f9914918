# Amor.py: the PyGObject override of amorsize (namespace Amor, version 1)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Adds what a Python program expects on top of the index-based C API:
#
#  - Amor.map(func, iterable, *, workers=None, chunk_size=None,
#             cancellable=None, executor=None) -> list
#  - Amor.optimize(func, iterable, *, optimizer=None) -> Amor.Result
#  - Amor.ProcessPool.new_forked(func, n_workers=0): a process pool whose
#    workers are forks of this interpreter that run func
#  - Amor.ProcessPool.new_forked_values(func, result_type, n_workers=0):
#    the same for a func of Python values, run a chunk at a time
#  - Amor.ProcessPool.map_values(values, item_type, cancellable=None) -> list
#  - Amor.worker_serve_values(func, result_type): serve a pool with a func
#    of Python values, a chunk at a time
#
# and makes the work callbacks of Amor.Executor.run, run_with_plan and
# run_async receive their user data exactly like those of
# Amor.Optimizer.optimize and Amor.Sampler.run: func(index) when no user data
# is given, func(index, user_data) when it is.

import array
import json
import os
import re
import reprlib
import sys
import threading
import builtins
import gc
import time
import traceback

from gi.module import get_introspection_module
from gi.overrides import override
from gi.repository import GLib

Amor = get_introspection_module('Amor')

__all__ = []

# "user_data was not given" (None is a valid user data).
_UNSET = object()


def _work_with_user_data(func, user_data):
    """The callback PyGObject calls, for a @func that takes (index) or
    (index, user_data). What @func returns is returned unchanged: the raw API
    keeps its contract (True = done; None, False or an exception = failure)."""
    if not callable(func):
        raise TypeError('func must be callable, not %s' % type(func).__name__)
    if user_data is _UNSET:
        def work(index, *ignored):
            return func(index)
    else:
        def work(index, *ignored):
            return func(index, user_data)
    return work


class Executor(Amor.Executor):
    """Runs a map over ``n_items`` indices with a plan, on worker threads.

    The work callback of :meth:`run`, :meth:`run_with_plan` and
    :meth:`run_async` is called as ``func(index)``, or as
    ``func(index, user_data)`` when ``user_data`` is given, like the callbacks
    of :meth:`Amor.Optimizer.optimize` and :meth:`Amor.Sampler.run`. It must
    return ``True`` for a processed item; ``None``, ``False`` or an exception
    stops the run with a :class:`GLib.Error` (``Amor.Error.WORK_FAILED``).
    :func:`Amor.map` needs neither indices nor ``return True``.
    """

    def run(self, n_items, func, user_data=_UNSET, cancellable=None):
        """Processes every index of ``range(n_items)`` exactly once with
        ``func``: samples a few on this thread, plans, runs the rest with
        the plan. Returns ``True``; raises :class:`GLib.Error` on the first
        failure or on cancellation."""
        return super().run(n_items, _work_with_user_data(func, user_data),
                           None, cancellable)

    def run_with_plan(self, plan, n_items, func, user_data=_UNSET,
                      cancellable=None):
        """Like :meth:`run`, with the workers, chunk size and schedule of
        ``plan`` (an :class:`Amor.Result`, for example one read with
        :meth:`Amor.Result.new_from_json`), without sampling."""
        return super().run_with_plan(plan, n_items,
                                     _work_with_user_data(func, user_data),
                                     None, cancellable)

    def run_async(self, n_items, func, user_data=_UNSET, cancellable=None,
                  callback=None, callback_data=_UNSET):
        """Starts :meth:`run` on another thread and returns at once;
        ``callback(executor, result)`` (``callback(executor, result,
        callback_data)`` when ``callback_data`` is given) is called on this
        thread's main context when the run is over, and calls
        :meth:`run_finish`. ``func`` never runs on this thread."""
        # PyGObject takes no explicit user data for the (scope notified)
        # func; the wrapper carries it.
        extra = {} if callback_data is _UNSET else {
            'callback_data': callback_data}
        return super().run_async(n_items,
                                 _work_with_user_data(func, user_data),
                                 cancellable=cancellable, callback=callback,
                                 **extra)


Executor = override(Executor)
__all__.append('Executor')


def _serve_forked(serve, fd, close_fds):
    """The life of a forked worker: serve the pool on @fd (@serve calls
    Amor.worker_serve or Amor.worker_serve_chunks), then end the process
    without running anything of the parent's (atexit handlers, finalisers,
    buffered output)."""
    # The parent's objects are left out of this process's garbage
    # collection: otherwise the parent's garbage not collected yet at the
    # fork would be collected here, its finalisers run (multiprocessing's
    # terminate a pool's processes). It also spares the copies of the
    # pages a collection would touch.
    gc.freeze()
    status = 70
    try:
        for other in close_fds:
            try:
                os.close(other)
            except OSError:
                pass
        os.dup2(fd, 0)
        os.dup2(fd, 1)
        if fd > 1:
            os.close(fd)
        serve()
        status = 0
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
    finally:
        os._exit(status)


def _fork_spawner(serve):
    """An Amor.SpawnFunc that forks this interpreter into a worker that
    calls @serve."""
    def spawn(fd, close_fds, *ignored):
        # What this process has buffered must not be written twice.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, ValueError, OSError):
                pass
        pid = os.fork()
        if pid == 0:
            _serve_forked(serve, fd, close_fds)
        return pid
    return spawn


# GVariant basic types of a fixed size, and the array module's codes of the
# same size: an array of them is its items' bytes back to back,
# little-endian.
_ARRAY_CODES = {'y': 'B', 'n': 'h', 'q': 'H', 'i': 'i', 'u': 'I',
                'x': 'q', 't': 'Q', 'd': 'd'}
_GVARIANT_SIZES = {'y': 1, 'n': 2, 'q': 2, 'i': 4, 'u': 4, 'x': 8, 't': 8,
                   'd': 8}


def _array_code(type_string):
    code = _ARRAY_CODES.get(type_string)
    if code is not None and array.array(code).itemsize == _GVARIANT_SIZES[type_string]:
        return code
    return None


def _array_bytes(values, code):
    """@values as the little-endian bytes of a typed array of @code."""
    packed = array.array(code, values)
    if sys.byteorder != 'little':
        packed.byteswap()
    return packed.tobytes()


def _pack_values(values, item_type):
    """@values as a GLib.Variant array of @item_type (a type string), built
    from their bytes when the type allows it."""
    code = _array_code(item_type)
    if code is not None:
        return GLib.Variant.new_from_bytes(GLib.VariantType('a' + item_type),
                                           GLib.Bytes.new(_array_bytes(values, code)), True)
    if item_type == 's':
        return GLib.Variant.new_strv(list(values))
    return GLib.Variant('a' + item_type, list(values))


def _unpack_values(results):
    """A GLib.Variant array as a list of Python values, read from its bytes
    when its items have a fixed-size basic type."""
    item_type = results.get_type_string()[1:]
    code = _array_code(item_type)
    if code is not None:
        unpacked = array.array(code)
        unpacked.frombytes(results.get_data_as_bytes().get_data() or b'')
        if sys.byteorder != 'little':
            unpacked.byteswap()
        return unpacked.tolist()
    if item_type == 's':
        return list(results.get_strv())
    return results.unpack()


def _pack_results_and_durations(results, code, durations, pair_type):
    """The "(a?ax)" of a chunk's results (their array code @code) and its
    durations, serialised here in one buffer: the two arrays' bytes, the
    second aligned to 8, and the end of the first as the tuple's one framing
    offset, of the size the whole needs. A call into GLib after pure-Python
    work costs several microseconds; this makes two instead of seven."""
    head = _array_bytes(results, code)
    tail = _array_bytes(durations, 'q')
    pad = -len(head) % 8
    body = len(head) + pad + len(tail)
    size = 1 if body + 1 <= 0xff else 2 if body + 2 <= 0xffff else 4 if body + 4 <= 0xffffffff else 8
    data = b''.join((head, bytes(pad), tail, len(head).to_bytes(size, 'little')))
    return GLib.Variant.new_from_bytes(pair_type, GLib.Bytes.new(data), True)


# Items are timed one by one, but where they take microseconds a clock
# read on each side of every one weighs: a chunk of 5000 items of 10 µs
# took 55.4 ms so, 53.7 ms in groups, 52.3 ms untimed. Past the first
# _TIMED_ALONE items of a chunk (every sample of a map among them: a round
# of samples is smaller), items that took less than half of _GROUP_NS
# there are timed in groups that last about _GROUP_NS, each item given
# its share of its group's time; longer ones are still timed one by one.
_TIMED_ALONE = 64
_GROUP_NS = 1000000
# Amor.worker_get_time_left() without a deadline (G_MAXDOUBLE), and the
# clock reading that stands for none.
_NO_DEADLINE = 1e300
_NEVER = 1 << 80


def _chunk_clock(clock):
    """The first reading of @clock for a chunk's items, and the reading
    past which the chunk stops before its next item: the pool's deadline
    (Amor.worker_get_time_left(): a pool's local function stops there, so
    that a worker gets its next chunk in time), or _NEVER. The time left
    is asked first, lest the first item's time count the call."""
    left = Amor.worker_get_time_left()
    t0 = clock()
    return t0, (t0 + int(left * 1e9) if left < _NO_DEADLINE else _NEVER)


def _share(spent, n):
    """@spent nanoseconds split over @n items, to the nanosecond."""
    each, rest = divmod(spent, n)
    return [each + 1] * rest + [each] * (n - rest)


def _values_chunk_func(func, result_type):
    """An Amor.WorkerChunkFunc running func(value) -> value on every item:
    one call from C per chunk, the loop in Python, the items timed (the
    pool learns how their costs vary)."""
    clock = time.perf_counter_ns
    code = _array_code(result_type)
    pair_type = None
    if code is not None and _array_code('x') == 'q':
        pair_type = GLib.VariantType('(a%sax)' % result_type)

    def chunk(items, *ignored):
        values = _unpack_values(items)
        results = []
        durations = array.array('q')
        append, note = results.append, durations.append
        # One clock read per item (or group): each ends one duration and
        # starts the next, and says whether the pool's deadline is past.
        t0, stop = _chunk_clock(clock)
        try:
            for value in values[:_TIMED_ALONE]:
                append(func(value))
                t1 = clock()
                note(t1 - t0)
                t0 = t1
                if t1 >= stop:
                    break
            size = _GROUP_NS * len(results) // max(sum(durations), 1)
            if t0 >= stop:
                pass
            elif size <= 1:
                for value in values[len(results):]:
                    append(func(value))
                    t1 = clock()
                    note(t1 - t0)
                    t0 = t1
                    if t1 >= stop:
                        break
            else:
                for start in range(len(results), len(values), size):
                    # (The builtin: this module has a map() of its own.)
                    results.extend(builtins.map(func, values[start:start + size]))
                    t1 = clock()
                    durations.extend(_share(t1 - t0, len(results) - start))
                    t0 = t1
                    if t1 >= stop:
                        break
        except Exception:
            # The results of the items before the failing one say which
            # it is; the traceback goes to standard error.
            traceback.print_exc()
            if len(durations) < len(results):
                durations.extend(_share(clock() - t0, len(results) - len(durations)))
        else:
            # Stopped at the deadline: a duration for every item says so.
            durations.extend([0] * (len(values) - len(durations)))
        if pair_type is not None:
            return _pack_results_and_durations(results, code, durations, pair_type)
        return GLib.Variant.new_tuple(_pack_values(results, result_type),
                                      _pack_values(durations, 'x'))
    return chunk


def _variants_chunk_func(func):
    """An Amor.WorkerChunkFunc running an Amor.WorkerFunc (GLib.Variant ->
    GLib.Variant) on every item, for a pool's local function, each item
    timed, stopping once the pool's deadline is past (see
    _values_chunk_func())."""
    clock = time.perf_counter_ns

    def chunk(items, *ignored):
        n = items.n_children()
        results = []
        durations = array.array('q')
        t0, stop = _chunk_clock(clock)
        try:
            for i in range(n):
                result = func(items.get_child_value(i))
                if result is None:
                    # A failure, as an exception: fewer results say where.
                    return GLib.Variant.new_array(GLib.VariantType('v'), results)
                results.append(GLib.Variant.new_variant(result))
                t1 = clock()
                durations.append(t1 - t0)
                t0 = t1
                if t1 >= stop:
                    break
        except Exception:
            traceback.print_exc()
            return GLib.Variant.new_array(GLib.VariantType('v'), results)
        # All run, or stopped at the deadline: a duration for every item.
        durations.extend([0] * (n - len(durations)))
        return GLib.Variant.new_tuple(GLib.Variant.new_array(GLib.VariantType('v'), results),
                                      _pack_values(durations, 'x'))
    return chunk


def _check_callable(func):
    if not callable(func):
        raise TypeError('func must be callable, not %s' % type(func).__name__)


def worker_serve_values(func, result_type):
    """Serves an :class:`Amor.ProcessPool` from a worker script, like
    :func:`Amor.worker_serve`, with ``func(value)`` taking an item as a
    Python value and returning its result, of ``result_type`` (a type
    string such as ``'x'``, ``'d'``, ``'s'``, ``'(sd)'``).

    The items come a chunk at a time (:func:`Amor.worker_serve_chunks`):
    one call from C per chunk rather than per item, and numbers read from
    the chunk's bytes, which saves some microseconds per item."""
    _check_callable(func)
    return Amor.worker_serve_chunks(_values_chunk_func(func, result_type))


__all__.append('worker_serve_values')


class ProcessPool(Amor.ProcessPool):
    """Runs a map over the items of a :class:`GLib.Variant` array on worker
    processes: see :class:`Amor.ProcessPool`.

    :meth:`new_forked` starts the workers by forking this interpreter, as
    ``multiprocessing`` does on Linux, so that they start in a millisecond
    or two and run a function of this program; :meth:`new` starts them
    from a command line (``[sys.executable, 'worker.py']``).
    """

    @classmethod
    def new_forked(cls, func, n_workers=0):
        """A pool whose workers are forks of this process, each calling
        ``func(item)`` (a :class:`GLib.Variant`) and returning a
        :class:`GLib.Variant`, as with :func:`Amor.worker_serve`.

        :meth:`map` times a few items in this process, keeping their
        results, and runs the whole map here when workers cannot pay for
        themselves; otherwise it forks the workers the plan needs, and runs
        a share here too, in chunks that stop at the pool's deadline
        (:func:`Amor.worker_get_time_left`) so that a worker is never
        left waiting for its next chunk.

        A fork copies the calling thread only: a lock that another thread
        of this process holds at the fork stays locked in the worker. Use
        it when ``func`` needs nothing that threads of this process may be
        holding (pure-Python computation, its own files); otherwise start
        the workers from a command line with :meth:`new`."""
        _check_callable(func)
        pool = cls.new_with_spawn_func(
            n_workers, _fork_spawner(lambda: Amor.worker_serve(func)))
        # Sampling, and maps too small for workers, run here.
        pool.set_local_func(_variants_chunk_func(func))
        return pool

    @classmethod
    def new_forked_values(cls, func, result_type, n_workers=0):
        """Like :meth:`new_forked`, for ``func(value)`` taking an item as a
        Python value and returning its result as one of ``result_type`` (a
        type string: ``'x'``, ``'d'``, ``'s'``, ``'(sd)'``…), which becomes
        the pool's ``result_type``.

        The workers run a chunk at a time, with a loop in Python
        (:func:`worker_serve_values`): for work of a millisecond or less
        per item this saves the 5 to 25 µs per item that a call from C
        into Python costs. Use :meth:`map_values` to map a list."""
        _check_callable(func)
        chunk = _values_chunk_func(func, result_type)
        pool = cls.new_with_spawn_func(
            n_workers, _fork_spawner(lambda: Amor.worker_serve_chunks(chunk)))
        pool.set_local_func(chunk)
        pool.props.result_type = GLib.VariantType(result_type)
        return pool

    def map_values(self, values, item_type, cancellable=None):
        """Maps a sequence of Python values and returns a list.

        The values are packed as a :class:`GLib.Variant` array of
        ``item_type`` (a type string: ``'d'``, ``'x'``, ``'s'``,
        ``'(si)'``…) and the work callback receives each as a
        :class:`GLib.Variant`, as with :meth:`map`. The results come back
        unpacked into Python values, in order. For items and results of a
        fixed-size number type (``'d'``, ``'x'``, ``'i'``…; set
        ``result_type`` for the results) both conversions copy bytes
        instead of making a :class:`GLib.Variant` per value, which costs
        some microseconds each."""
        results = self.map(_pack_values(values, item_type), cancellable)
        return _unpack_values(results)


ProcessPool = override(ProcessPool)
__all__.append('ProcessPool')


def _materialise(iterable):
    """The items as a sequence: every item is taken from @iterable exactly
    once, before any work starts, so that sampling (which runs items spread
    over the whole range) consumes nothing that the run would then miss."""
    if isinstance(iterable, (list, tuple)):
        return iterable
    try:
        return list(iterable)
    except TypeError:
        raise TypeError('iterable must be iterable, not %s'
                        % type(iterable).__name__) from None


def _check_count(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError('%s must be an int or None, not %s'
                        % (name, type(value).__name__))
    if value < 1:
        raise ValueError('%s must be at least 1, got %d' % (name, value))
    return value


class _Map:
    """The state of one Amor.map or Amor.optimize call: the items, their
    results by index, and the exceptions func raised, by index."""

    def __init__(self, caller, func, items):
        if not callable(func):
            raise TypeError('func must be callable, not %s'
                            % type(func).__name__)
        self.caller = caller
        self.func = func
        self.items = items
        self.results = [None] * len(items)
        # While sampling, the indices run; then those the run skips.
        self.sampled = None
        self.done = frozenset()
        self.exceptions = {}
        self.lock = threading.Lock()

    def work(self, index, *ignored):
        """An Amor.WorkFunc: func(items[index]) into results[index]. Returns
        False after recording the exception, so PyGObject prints nothing and
        the run stops with a WORK_FAILED error naming the item."""
        if index in self.done:
            return True
        try:
            self.results[index] = self.func(self.items[index])
        except BaseException as e:  # noqa: B902 - re-raised by raise_for()
            with self.lock:
                self.exceptions.setdefault(index, e)
            return False
        if self.sampled is not None:
            self.sampled.add(index)
        return True

    def raise_for(self, error):
        """Raises what stopped the run: the exception func raised for the
        item @error names (the same object, with a note naming the item),
        otherwise @error itself."""
        index = None
        match = re.match(r'Item (\d+): ', error.message or '')
        with self.lock:
            exceptions = dict(self.exceptions)
        if match and int(match.group(1)) in exceptions:
            index = int(match.group(1))
        elif exceptions and error.matches(Amor.error_quark(),
                                          Amor.Error.WORK_FAILED):
            index = min(exceptions)
        if index is None:
            raise error
        raise _with_item(exceptions[index], index, self.items[index],
                         self.caller)


# Exception notes (PEP 678) are there from Python 3.11 on.
_HAVE_NOTES = hasattr(BaseException, 'add_note')


def _with_item(exception, index, item, caller):
    """@exception, marked with the index (and a short repr) of the item that
    raised it: a note on Python 3.11 and later; before, an exception of the
    same type whose message starts with the item, or when that type cannot be
    made from a message, a GLib.Error carrying the type, text and index."""
    if _HAVE_NOTES:
        exception.add_note('%s: raised by item %d: %s'
                           % (caller, index, reprlib.repr(item)))
        return exception
    try:
        copy = type(exception)('Item %d: %s' % (index, exception))
    except Exception:
        copy = None
    if copy is None or type(copy) is not type(exception):
        copy = GLib.Error.new_literal(
            Amor.error_quark(),
            'Item %d: %s: %s' % (index, type(exception).__name__, exception),
            Amor.Error.WORK_FAILED)
    copy.__cause__ = exception
    copy.__traceback__ = exception.__traceback__
    return copy


def _given_plan(optimizer, n_items, workers, chunk_size, sampled=None):
    """A plan of @workers workers taking chunks of @chunk_size items (FIXED
    schedule; SERIAL for one worker), as an Amor.Result read from JSON.

    With @sampled (the plan amorsize made from a sample) the workload and
    its estimate are kept, with a warning that the estimate is the one of
    amorsize's own plan; without, the plan starts from the one @optimizer
    makes for nothing sampled (its machine, no estimate)."""
    if sampled is None:
        sampled = optimizer.plan(Amor.Sampler.new(), n_items)
    data = json.loads(sampled.to_json())
    plan = data['plan']
    chosen = (plan['n_workers'], plan['chunk_size'])
    given_chunk = chunk_size is not None
    if not given_chunk:
        # The sampled chunk, reduced for heterogeneous work, also when
        # amorsize itself chose a serial plan (whose chunk is every item).
        chunk_size = max(1, int(plan['base_chunk_size'] * plan['chunk_factor']))
    else:
        plan['base_chunk_size'] = chunk_size
        plan['chunk_factor'] = 1.0
    chunk_size = min(chunk_size, max(1, n_items))
    plan['n_workers'] = workers
    plan['chunk_size'] = chunk_size if workers > 1 else max(1, n_items)
    plan['schedule'] = 'fixed' if workers > 1 else 'serial'
    noun = 'worker' if workers == 1 else 'workers'
    if given_chunk:
        data['reason'] = ('%d %s and chunks of %d items, as given by the '
                          'caller' % (workers, noun, chunk_size))
    else:
        data['reason'] = ('%d %s, as given by the caller, and chunks of %d '
                          'items' % (workers, noun, chunk_size))
    if data['workload']['n_samples'] > 0:
        data['reason'] += (' (amorsize chose %d workers and chunks of %d)'
                           % chosen)
        data['warnings'] = list(data['warnings']) + [
            'The estimate is the one of the plan amorsize chose, not of the '
            'workers and chunk size given by the caller.']
    else:
        data['warnings'] = [
            'Nothing was sampled: the workers and chunk size were given by '
            'the caller, and there is no estimate.']
    data['constraints'] = []
    return Amor.Result.new_from_json(json.dumps(data))


def map(func, iterable, *, workers=None, chunk_size=None, cancellable=None,
        executor=None):
    """Returns ``[func(item) for item in iterable]``, computed in parallel
    when amorsize finds that it pays.

    ``func`` takes one item and returns its result, any value (``None``
    too). It runs on several threads at once for different items, so it must
    not depend on the order of the items; it speeds up only as much as it
    releases the GIL (``hashlib`` and ``zlib`` on large buffers, I/O,
    ``time.sleep``, NumPy, calls into GObject libraries). Pure-Python
    computation serialises on the GIL.

    ``iterable`` may be any iterable, a generator too: it is read into a list
    once, before any work starts, and every item is processed exactly once,
    the items run while sampling included. The results come back in the
    order of the items.

    Without ``workers`` and ``chunk_size``, amorsize times a few items (on
    this thread), plans, and runs the others with that plan
    (:meth:`Amor.Executor.run`). The two options override the plan:

    - ``workers``: run on exactly this many workers (no more than there
      are chunks); the chunk size still comes from the sampled items. ``1``
      runs every item on this thread.
    - ``chunk_size``: hand out the items in chunks of this many, on
      ``workers`` workers or, without it, on as many as there are usable
      CPUs; nothing is sampled.

    Such a plan is run with :meth:`Amor.Executor.run_with_plan` and is the
    ``result`` of the executor afterwards.

    ``cancellable``: a :class:`Gio.Cancellable`; cancelling it stops the
    map, which raises a :class:`GLib.Error` (``Gio.IOErrorEnum.CANCELLED``).

    ``executor``: the :class:`Amor.Executor` to run with (its optimizer's
    options apply). Afterwards its ``result``, ``elapsed`` and
    ``measured_speedup`` describe this map, and while it runs, ``completed``
    counts the items done.

    When ``func`` raises, the map stops promptly (no item runs twice) and
    the exception ``func`` raised is raised again — the same object, with a
    note (Python 3.11 and later) naming the item and its index. Before
    Python 3.11 it is an exception of the same type whose message starts
    with the item, or, when that type cannot be made from a message, a
    :class:`GLib.Error` of the ``Amor.Error`` domain with the type, message
    and index of the item.
    """
    workers = _check_count('workers', workers)
    chunk_size = _check_count('chunk_size', chunk_size)
    state = _Map('Amor.map', func, _materialise(iterable))
    n_items = len(state.items)
    if executor is None:
        executor = Executor.new(None)

    try:
        if workers is None and chunk_size is None:
            executor.run(n_items, state.work, cancellable=cancellable)
        else:
            optimizer = executor.props.optimizer
            sampled = None
            if chunk_size is None:
                # Sample with the executor's optimizer; the sampled items are
                # done and the run skips them.
                state.sampled = set()
                sampled = optimizer.optimize(n_items, state.work)
                state.done = frozenset(state.sampled)
                state.sampled = None
            if workers is None:
                workers = optimizer.props.system.props.n_cpus
            plan = _given_plan(optimizer, n_items, workers, chunk_size,
                               sampled)
            executor.run_with_plan(plan, n_items, state.work,
                                   cancellable=cancellable)
    except GLib.Error as e:
        error = e
    else:
        return state.results
    # Raised outside the except clause, so that the exception func raised
    # does not get the GLib.Error as its context.
    state.raise_for(error)


def optimize(func, iterable, *, optimizer=None):
    """Times ``func`` on a few items of ``iterable`` and returns the plan
    amorsize would run a map of ``func`` over all of them with, an
    :class:`Amor.Result` (``explain()`` prints it with its reasons).

    ``func`` takes one item; what it returns (``None`` too) is discarded.
    The sampled items are really processed, on this thread. ``iterable``
    may be any iterable, a generator too (it is read into a list first).
    ``optimizer``: the :class:`Amor.Optimizer` to plan with (its system and
    options); a new default one without it.

    When ``func`` raises, the exception is raised again as :func:`map`
    does.
    """
    state = _Map('Amor.optimize', func, _materialise(iterable))
    if optimizer is None:
        optimizer = Amor.Optimizer.new()
    try:
        return optimizer.optimize(len(state.items), state.work)
    except GLib.Error as e:
        error = e
    state.raise_for(error)


__all__ += ['map', 'optimize']
