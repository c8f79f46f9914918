#!/usr/bin/env python3
# bench/process/bench-py.py: pure-Python CPU work on worker processes —
# amorsize's ProcessPool against multiprocessing.Pool.map (its default
# chunksize) and concurrent.futures.ProcessPoolExecutor.map (chunksize 1),
# and the serial loop.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The workloads are those of the executor benchmark (bench/bench.c) with the
# grain scaled up 100 times and the size 2 to 5 times (1000 items of 1 ms
# mean instead of 5000 of 10 µs: a process costs a spawn and a round trip
# per chunk, so work of 50 ms in total, the thread benchmark's size, is
# mostly too little), plus that benchmark's own 10 µs grain, tiny items that
# must run serially, and a pure-Python kernel whose cost is not known in
# advance. Every item of known cost spins on the
# clock in pure Python (holding the GIL, as pure-Python work does), so Σt
# is exact.
#
# Each contender runs "cold" (pool started inside the timed region: process
# spawn, and for amorsize the sampling, included) and "warm" (a pool kept
# from an earlier map). Per workload: the median of --reps runs (the order
# of the contenders rotates), efficiency = lower bound / time with lower
# bound = max(Σt / P, max t). Then, per workload, the median over the
# repetitions of the forked pool's time over mp.Pool's in the same
# repetition, the two run one right after the other (which first
# alternates): a ratio that holds where the machine's speed drifts from
# one repetition to the next.
#
# A workload whose costs are drawn at random is a distribution, not one
# list: each repetition draws it anew (seed SEED + repetition, the same
# draw for every contender of that repetition), so that the figures are
# those of the workload and not of one draw that happens to suit a static
# split. (The draw of seed 20240611 split mp.Pool's 8 chunks within
# 0.1 ms on normal-cv0.3 and 0.5 ms on exponential-cv1, where 200 other
# draws gave a median of 2.8 and 10.9 ms.) --draw fixed uses the draw of
# SEED in every repetition.
#
#   python3 bench-py.py [--reps N] [--only NAME,...] [--json FILE] [--quick]
#                       [--draw each|fixed] [--seed SEED]
#
# Needs GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing at a build of amorsize
# (run.sh sets them). Run it on a quiet machine: the contenders are compared
# on wall time; the tables say how much CPU other processes took meanwhile.

import argparse
import concurrent.futures
import json
import math
import multiprocessing
import os
import random
import statistics
import sys
import time

import gi
gi.require_version('GLib', '2.0')
gi.require_version('Amor', '1')
from gi.repository import Amor, GLib  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pywork  # noqa: E402

WORKER = [sys.executable, os.path.join(HERE, 'worker.py')]
INT64 = GLib.VariantType('x')
MS = 1e-3
US = 1e-6
# Items per workload: 1 s of work at 1 ms each. (--quick: a quarter.)
N_ITEMS = 1000


def workloads(rng):
    """name -> (description, items, too_small); an item is a float (see
    pywork.item()): seconds to spin, or minus kernel iterations."""
    def spins(costs):
        return [float(c) for c in costs]

    def normal(n, mean, cv):
        return [max(0.0, rng.gauss(mean, cv * mean)) for _ in range(n)]

    def lognormal(n, mean, cv):
        s2 = math.log(1 + cv * cv)
        mu = math.log(mean) - s2 / 2
        return [rng.lognormvariate(mu, math.sqrt(s2)) for _ in range(n)]

    n = N_ITEMS
    bimodal = [5 * MS if i % 10 == 9 else 0.5 * MS for i in range(n)]
    shuffled = bimodal[:]
    rng.shuffle(shuffled)
    return {
        'constant-1ms': ('%d × 1 ms' % n, spins([MS] * n), False),
        'normal-cv0.3': ('normal, mean 1 ms, CV 0.3', spins(normal(n, MS, 0.3)), False),
        'exponential-cv1': ('exponential, mean 1 ms',
                            spins([rng.expovariate(1 / MS) for _ in range(n)]), False),
        'lognormal-cv2.5': ('lognormal, mean 1 ms, CV 2.5', spins(lognormal(n, MS, 2.5)), False),
        'bimodal-random': ('90 % 0.5 ms, 10 % 5 ms, shuffled', spins(shuffled), False),
        'bimodal-clustered': ('90 % 0.5 ms, 10 % 5 ms at the end', spins(sorted(bimodal)), False),
        'linear-up': ('0 → 2 ms, increasing', spins([2 * MS * i / (n - 1) for i in range(n)]), False),
        'linear-down': ('2 → 0 ms, decreasing',
                        spins([2 * MS * (n - 1 - i) / (n - 1) for i in range(n)]), False),
        'step-10x': ('first half 0.2 ms, second half 2 ms',
                     spins([0.2 * MS] * (n // 2) + [2 * MS] * (n - n // 2)), False),
        'constant-10us': ('10 × %d items of 10 µs (the thread benchmark\'s grain)' % n,
                          spins([10 * US] * (10 * n)), False),
        'kernel': ('pure-Python arithmetic, %d items of 2k–40k iterations' % (n * 4 // 5),
                   [-float(rng.randint(2000, 40000)) for _ in range(n * 4 // 5)], False),
        'tiny-1k': ('1000 items of no work (a call)', spins([0.0] * 1000), True),
    }


def cpu_busy():
    """Busy CPU seconds of the whole machine, from /proc/stat."""
    with open('/proc/stat') as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf('SC_CLK_TCK')


class Contender:
    def __init__(self, name, n_cpus):
        self.name = name
        self.n_cpus = n_cpus
        self.warm = None

    def start(self):
        """The pool of a warm run (not timed)."""

    def stop(self):
        pass


class Serial(Contender):
    def run(self, works, variant):
        return [pywork.item(w) for w in works]


class MpPool(Contender):
    def __init__(self, name, n_cpus, cold):
        super().__init__(name, n_cpus)
        self.cold = cold

    def start(self):
        if not self.cold:
            self.warm = multiprocessing.Pool(self.n_cpus)
            self.warm.map(pywork.item, [0.0] * self.n_cpus)

    def stop(self):
        if self.warm is not None:
            self.warm.terminate()
            self.warm.join()
            self.warm = None

    def run(self, works, variant):
        if self.cold:
            pool = multiprocessing.Pool(self.n_cpus)
            try:
                return pool.map(pywork.item, works)
            finally:
                self.after = pool
        return self.warm.map(pywork.item, works)

    def cleanup(self):
        pool = getattr(self, 'after', None)
        if pool is not None:
            pool.terminate()
            pool.join()
            self.after = None


class Ppe(Contender):
    def __init__(self, name, n_cpus, cold):
        super().__init__(name, n_cpus)
        self.cold = cold

    def start(self):
        if not self.cold:
            self.warm = concurrent.futures.ProcessPoolExecutor(self.n_cpus)
            list(self.warm.map(pywork.item, [0.0] * self.n_cpus))

    def stop(self):
        if self.warm is not None:
            self.warm.shutdown()
            self.warm = None

    def run(self, works, variant):
        if self.cold:
            ex = concurrent.futures.ProcessPoolExecutor(self.n_cpus)
            self.after = ex
            return list(ex.map(pywork.item, works))
        return list(self.warm.map(pywork.item, works))

    def cleanup(self):
        ex = getattr(self, 'after', None)
        if ex is not None:
            ex.shutdown()
            self.after = None


class Amorsize(Contender):
    def __init__(self, name, n_cpus, cold, forked):
        super().__init__(name, n_cpus)
        self.cold = cold
        self.forked = forked
        self.plans = []

    def new_pool(self):
        # The work on Python values, a chunk at a time; results as an "ax",
        # which map_values() turns into a list from its bytes (and the items
        # go from the list to an "ad" that way).
        if self.forked:
            return Amor.ProcessPool.new_forked_values(pywork.item, 'x')
        pool = Amor.ProcessPool.new(WORKER, 0)
        pool.props.result_type = INT64
        return pool

    def start(self):
        if not self.cold:
            self.warm = self.new_pool()
            # Started: every CPU has a worker (a parallel map of real work).
            self.warm.map(GLib.Variant('ad', [2 * MS] * 100), None)

    def stop(self):
        if self.warm is not None:
            self.warm.shutdown()
            self.warm = None

    def run(self, works, variant):
        pool = self.new_pool() if self.cold else self.warm
        results = pool.map_values(works, 'd')
        self.after = pool if self.cold else None
        plan = pool.props.result
        self.plans.append({
            'workers': plan.props.n_workers, 'chunk': plan.props.chunk_size,
            'predicted': plan.props.estimated_speedup, 'cv': plan.props.cv,
            'spawn': pool.props.spawn_cost, 'dispatch': pool.props.dispatch_cost,
            'serialization': pool.props.serialization_cost,
        })
        return results

    def cleanup(self):
        pool = getattr(self, 'after', None)
        if pool is not None:
            pool.shutdown()
            self.after = None


def groups_of(contenders, rep):
    """@contenders in groups run one after the other: each forked amorsize
    pool with the mp.Pool of the same kind (cold or warm), in an order
    that alternates with @rep; the others alone."""
    groups = []
    for c in contenders:
        if c.name.startswith('amorsize fork '):
            continue
        group = [c]
        if c.name.startswith('mp.Pool.map '):
            peer = next(p for p in contenders
                        if p.name == 'amorsize fork ' + c.name.split()[-1])
            group = [c, peer] if rep % 2 == 0 else [peer, c]
        groups.append(group)
    return groups


def measure(contender, works, variant, expected):
    t0 = time.perf_counter()
    out = contender.run(works, variant)
    elapsed = time.perf_counter() - t0
    if hasattr(contender, 'cleanup'):
        contender.cleanup()
    if expected is not None and out != expected:
        raise RuntimeError('%s: wrong results' % contender.name)
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--reps', type=int, default=5)
    parser.add_argument('--only')
    parser.add_argument('--json')
    parser.add_argument('--quick', action='store_true',
                        help='3 runs of four workloads')
    parser.add_argument('--draw', choices=('each', 'fixed'), default='each',
                        help='draw random workloads anew in each repetition '
                        '(seed SEED + repetition), or use the draw of SEED in all')
    parser.add_argument('--seed', type=int, default=20240611)
    options = parser.parse_args()

    n_cpus = Amor.System.get_default().props.n_cpus
    names = None
    if options.quick:
        global N_ITEMS
        N_ITEMS = 250
        names = ['constant-1ms', 'lognormal-cv2.5', 'kernel', 'tiny-1k']
        options.reps = min(options.reps, 3)
    seeds = [options.seed + (rep if options.draw == 'each' else 0)
             for rep in range(options.reps)]
    draws = [workloads(random.Random(seed)) for seed in sorted(set(seeds))]
    draw_of = {seed: draws[i] for i, seed in enumerate(sorted(set(seeds)))}
    specs = draw_of[seeds[0]]
    if names is None:
        names = list(specs)
    if options.only:
        names = options.only.split(',')

    contenders = [
        Serial('serial', n_cpus),
        MpPool('mp.Pool.map cold', n_cpus, True),
        Ppe('ProcessPoolExecutor cold', n_cpus, True),
        Amorsize('amorsize spawn cold', n_cpus, True, False),
        Amorsize('amorsize fork cold', n_cpus, True, True),
        MpPool('mp.Pool.map warm', n_cpus, False),
        Ppe('ProcessPoolExecutor warm', n_cpus, False),
        Amorsize('amorsize spawn warm', n_cpus, False, False),
        Amorsize('amorsize fork warm', n_cpus, False, True),
    ]
    report = {'n_cpus': n_cpus, 'python': sys.version.split()[0],
              'start_method': multiprocessing.get_start_method(),
              'draw': options.draw, 'seeds': seeds, 'workloads': {}}

    print('Pure-Python CPU work on %d usable CPUs (Python %s, multiprocessing start '
          'method %s), median of %d runs; random workloads drawn %s (seed%s %s).\n'
          % (n_cpus, report['python'], report['start_method'], options.reps,
             'anew in each run' if options.draw == 'each' else 'once',
             's' if len(set(seeds)) > 1 else '',
             ', '.join(str(seed) for seed in sorted(set(seeds)))))
    print('| workload | Σt (s) | serial | mp.Pool cold | PPE cold | amorsize spawn cold | '
          'amorsize fork cold | mp.Pool warm | PPE warm | amorsize spawn warm | '
          'amorsize fork warm | amorsize fork plan | others\' CPU |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
          '| --- | ---: |')
    sys.stdout.flush()

    paired_rows = []
    for name in names:
        what, _, too_small = specs[name]
        # Per repetition: the items, their variant, and for the kernel the
        # results every contender must match (spin counts vary).
        runs = []
        for seed in seeds:
            works = draw_of[seed][name][1]
            expected = [pywork.item(w) for w in works] if works[0] < 0 else None
            runs.append((works, GLib.Variant('ad', works), expected))
        kernel = runs[0][2] is not None

        for c in contenders:
            c.start()
            if isinstance(c, Amorsize):
                c.plans = []

        times = {c.name: [] for c in contenders}
        busy0 = cpu_busy()
        self0 = os.times()
        wall0 = time.perf_counter()
        for rep in range(options.reps):
            # The order rotates, but the two runs of each pair the second
            # table compares go one after the other, first one then the
            # other: where the machine's speed drifts within seconds (the
            # pure-Python kernel runs at the speed the host gives), the
            # ratio of runs apart would carry the drift.
            groups = groups_of(contenders, rep)
            order = [c for group in groups[rep % len(groups):] + groups[:rep % len(groups)]
                     for c in group]
            for c in order:
                times[c.name].append(measure(c, *runs[rep]))
        wall = time.perf_counter() - wall0

        for c in contenders:
            c.stop()
        self1 = os.times()
        busy = cpu_busy() - busy0
        own = sum(self1[:4]) - sum(self0[:4])
        others = max(0.0, busy - own) / (wall * n_cpus)

        med = {k: statistics.median(v) for k, v in times.items()}
        if not kernel:
            total = statistics.mean(sum(works) for works, _, _ in runs)
            bound = statistics.median(max(sum(works) / n_cpus, max(works))
                                      for works, _, _ in runs)
        else:
            total = med['serial']
            bound = total / n_cpus

        plans = next(c for c in contenders if c.name == 'amorsize fork cold').plans
        plan = plans[-1]
        warm_plan = next(c for c in contenders if c.name == 'amorsize fork warm').plans[-1]

        def cell(k):
            return '%.3f (%.2f)' % (med[k], bound / med[k])

        def paired(k, peer):
            # The runs of one repetition follow each other: their ratio
            # holds where the machine's speed drifts between repetitions
            # (the pure-Python kernel runs at the speed the host gives).
            return statistics.median(a / b for a, b in zip(times[k], times[peer]))

        ratios = {which: paired('amorsize fork ' + which, 'mp.Pool.map ' + which)
                  for which in ('cold', 'warm')}
        paired_rows.append('| %s | %.3f | %.3f |' % (name, ratios['cold'], ratios['warm']))

        print('| %s | %.3f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f %% |' % (
            name, total, cell('serial'), cell('mp.Pool.map cold'),
            cell('ProcessPoolExecutor cold'), cell('amorsize spawn cold'),
            cell('amorsize fork cold'),
            cell('mp.Pool.map warm'), cell('ProcessPoolExecutor warm'),
            cell('amorsize spawn warm'), cell('amorsize fork warm'),
            ('%d × %d, %.2f× predicted; warm %d × %d'
             % (plan['workers'], plan['chunk'], plan['predicted'],
                warm_plan['workers'], warm_plan['chunk'])),
            100 * others))
        sys.stdout.flush()

        report['workloads'][name] = {
            'what': what, 'too_small': too_small, 'sum_t': total, 'lower_bound': bound,
            'times': times, 'median': med, 'plans_cold': plans,
            'plan_warm': warm_plan, 'others_cpu_share': others,
            'fork_over_mp_pool_paired': ratios,
        }

    print('\nCells: median seconds (efficiency = max(Σt/P, max t) / time; with '
          'draws in each run, Σt is their mean and the bound their median). '
          'Plan: workers × chunk size of amorsize\'s forked cold run. '
          '"spawn": workers started from a command line (python3 worker.py); '
          '"fork": Amor.ProcessPool.new_forked().')
    print('\namorsize fork over mp.Pool.map, paired: the median over the repetitions '
          'of the ratio of the two runs of each (below 1: amorsize is faster).\n')
    print('| workload | cold | warm |')
    print('| --- | ---: | ---: |')
    print('\n'.join(paired_rows))
    if options.json:
        with open(options.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
