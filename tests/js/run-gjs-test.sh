#!/bin/sh
# Runs one GJS test module (an ES module printing TAP).
#
#   run-gjs-test.sh GJS MODULE
#
# When GJS cannot be found the module is reported as skipped in TAP, except
# under CI (CI=true), where a suite that cannot run is a failure.

gjs="$1"
module="$2"

if ! command -v "$gjs" >/dev/null 2>&1; then
  why="GJS interpreter '$gjs' not found (meson option 'gjs')"
  if [ "$CI" = "true" ]; then
    echo "1..1"
    echo "not ok 1 - $why"
    exit 1
  fi
  echo "1..0 # SKIP $why"
  exit 0
fi

exec "$gjs" -m "$module"
