#!/usr/bin/env python3
# bench/process/static-split.py: how evenly multiprocessing.Pool.map's
# default split ends on the random workloads of bench-py.py, draw by draw.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Pool.map cuts the items into chunks of ceil(N / 4P) and each of its P
# workers takes the next chunk when it is free. On the drawn costs alone
# (no overhead), this prints how long the last worker runs past Σt / P: for
# the draw of --seed, and the median, mean and 90th percentile over
# --draws other draws (seeds 0 … draws - 1). No process is started.
#
#   python3 static-split.py [--workers P] [--draws N] [--seed SEED]

import argparse
import importlib.util
import math
import os
import random
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))


def bench_module():
    """bench-py.py as a module, for its workloads() (it imports gi and the
    Amor typelib: run this as run.sh does, "run.sh split")."""
    spec = importlib.util.spec_from_file_location('bench_py', os.path.join(HERE, 'bench-py.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def overrun(costs, workers):
    """How long the last of @workers runs past sum(costs) / workers."""
    size = math.ceil(len(costs) / (4 * workers))
    free = [0.0] * workers
    for start in range(0, len(costs), size):
        i = free.index(min(free))
        free[i] += sum(costs[start:start + size])
    return max(free) - sum(costs) / workers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--draws', type=int, default=200)
    parser.add_argument('--seed', type=int, default=20240611)
    options = parser.parse_args()

    bench = bench_module()
    names = [name for name, (_, works, _) in bench.workloads(random.Random(0)).items()
             if works != bench.workloads(random.Random(1))[name][1] and works[0] >= 0]
    print('mp.Pool.map default split on %d workers: ms past Σt/P (costs only)\n'
          % options.workers)
    print('| workload | seed %d | median of %d draws | mean | 90th percentile |'
          % (options.seed, options.draws))
    print('| --- | ---: | ---: | ---: | ---: |')
    for name in names:
        mine = overrun(bench.workloads(random.Random(options.seed))[name][1], options.workers)
        others = sorted(overrun(bench.workloads(random.Random(seed))[name][1], options.workers)
                        for seed in range(options.draws))
        print('| %s | %.1f | %.1f | %.1f | %.1f |'
              % (name, mine * 1e3, statistics.median(others) * 1e3,
                 statistics.mean(others) * 1e3, others[int(0.9 * len(others))] * 1e3))


if __name__ == '__main__':
    main()
