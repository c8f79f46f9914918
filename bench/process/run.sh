#!/bin/sh
# bench/process/run.sh: the process-pool benchmarks.
#
# Usage: bench/process/run.sh [js|py|wire|gi-call|split|all] [BENCH OPTIONS...]
#
#   BUILDDIR   a build directory of amorsize (default: _build in the source
#              tree); its library and Amor-1 typelib are used
#   PYTHON     a Python 3 with PyGObject (default: /usr/bin/python3)
#   GJS        default: gjs
#   OUT        where the JSON results go (default: $BUILDDIR/bench/process)
#
#   js    a CPU-bound JavaScript function, 400 items of ~5 ms: the GJS
#         process itself against an Amor.ProcessPool of GJS workers
#   py    pure-Python CPU work: amorsize against multiprocessing.Pool.map
#         and concurrent.futures.ProcessPoolExecutor
#   wire  the serialisation of a chunk: GVariant against json-glib
#   gi-call  what a PyGObject call costs after some pure-Python work
#   split  how evenly multiprocessing.Pool.map's default split ends on the
#          random workloads of "py", draw by draw (no process started)
#
# Prints Markdown tables on stdout. Run it on an otherwise idle machine: the
# contenders are compared on wall time (the tables show how much CPU other
# processes took meanwhile).

set -eu

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
builddir=${BUILDDIR:-$srcdir/_build}
python=${PYTHON:-/usr/bin/python3}
gjs=${GJS:-gjs}
out=${OUT:-$builddir/bench/process}
what=${1:-all}
[ $# -gt 0 ] && shift

if [ ! -f "$builddir/amorsize/Amor-1.typelib" ]; then
  echo "run.sh: no Amor-1.typelib in $builddir/amorsize: build amorsize first" >&2
  exit 1
fi

mkdir -p "$out"
GI_TYPELIB_PATH="$builddir/amorsize${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}"
LD_LIBRARY_PATH="$builddir/amorsize${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The Python override of this tree (Amor.ProcessPool.new_forked()).
PYTHONPATH="$srcdir/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export GI_TYPELIB_PATH LD_LIBRARY_PATH PYTHONPATH

run_wire () {
  cc -O2 -o "$out/bench-wire" "$here/bench-wire.c" $(pkg-config --cflags --libs json-glib-1.0)
  "$out/bench-wire" "$@"
}

run_js () {
  "$gjs" -m "$here/bench-js.js" --json "$out/bench-js.json" "$@"
}

run_py () {
  "$python" "$here/bench-py.py" --json "$out/bench-py.json" "$@"
}

run_gi_call () {
  "$python" "$here/bench-gi-call.py"
}

case "$what" in
  wire) run_wire "$@" ;;
  js) run_js "$@" ;;
  py) run_py "$@" ;;
  gi-call) run_gi_call ;;
  split) "$python" "$here/static-split.py" "$@" ;;
  all)
    run_wire
    echo
    run_js "$@"
    echo
    run_py "$@"
    ;;
  *)
    echo "run.sh: unknown benchmark '$what' (js, py, wire, gi-call, split or all)" >&2
    exit 2
    ;;
esac
