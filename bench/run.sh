#!/bin/sh
# bench/run.sh: build and run the full amorsize benchmark.
#
# Usage: bench/run.sh [BENCH OPTIONS...]
#
#   BUILDDIR   build directory (default: _build-bench in the source tree);
#              configured with -Dbenchmarks=enabled if it does not exist yet
#   JSON       where the JSON results go (default: $BUILDDIR/bench.json)
#
# Prints the Markdown tables on stdout and progress on stderr.  Options are
# passed to the benchmark: --quick (what `meson test --benchmark` runs),
# --reps N, --only NAME,..., --settle-ms MS, --memory-mib MIB, --list.
#
# Run it on an otherwise idle machine: the contenders are compared on wall
# time, and every other busy process shows up as noise (the tables report
# the CPU time other processes used while measuring).

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$srcdir/_build-bench}
json=${JSON:-$builddir/bench.json}

if [ ! -d "$builddir" ]; then
  meson setup "$builddir" "$srcdir" -Dbenchmarks=enabled >&2
fi
ninja -C "$builddir" bench/amorsize-bench >&2

exec "$builddir/bench/amorsize-bench" --json "$json" "$@"
