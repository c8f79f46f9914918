#!/bin/sh
# amorsize quick start: installs the Debian packages amorsize needs (only
# those missing), configures and builds in _build, then
#   quickstart.sh demo   runs the demo (`amorsize demo`)
#   quickstart.sh test   runs every test suite (C, Python, GJS, Vala, docs),
#                        then the reliability stages (build-aux/reliability.sh:
#                        sanitizers, valgrind, fuzzing; AMOR_RELIABILITY=skip
#                        leaves them out, which CI counts as failed), and ends
#                        with "N passed, M failed" over all of them
# Run it as root on Debian 12 (or as a user when the packages are there).
set -eu

cd "$(dirname "$0")/.."
mode=${1:-demo}
builddir=${AMOR_BUILDDIR:-_build}

packages="meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev
libjson-glib-dev gobject-introspection libgirepository1.0-dev gjs valac
gi-docgen python3-gi clang libclang-rt-14-dev valgrind"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "Installing:$missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: run as root to install the missing packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" -Dpython=/usr/bin/python3
fi
ninja -C "$builddir"

case "$mode" in
  demo)
    exec "$builddir/tools/amorsize" demo
    ;;
  test)
    status=0
    meson test -C "$builddir" --print-errorlogs --num-processes 2 || status=$?
    export AMOR_BUILDDIR="$builddir"
    sh build-aux/reliability.sh all || status=1
    # shellcheck disable=SC2046
    /usr/bin/python3 build-aux/test-summary.py "$builddir/meson-logs/testlog.json" \
      $(sh build-aux/reliability.sh logs) || status=1
    exit $status
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
