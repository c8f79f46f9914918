#!/bin/sh
# Runs one Python test script with the interpreter chosen at configure time.
#
#   run-python-test.sh PYTHON SCRIPT
#
# When PYTHON cannot be found the script is reported as skipped in TAP, except
# under CI (CI=true), where a suite that cannot run is a failure.

python="$1"
script="$2"

if ! command -v "$python" >/dev/null 2>&1; then
  why="Python interpreter '$python' not found (meson option 'python')"
  if [ "$CI" = "true" ]; then
    echo "1..1"
    echo "not ok 1 - $why"
    exit 1
  fi
  echo "1..0 # SKIP $why"
  exit 0
fi

exec "$python" "$script"
