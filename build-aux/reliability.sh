#!/bin/sh
# amorsize reliability stages: sanitizers, valgrind and fuzzing.
#
#   reliability.sh [all]     every stage below, in this order
#   reliability.sh asan      -Db_sanitize=address,undefined build (gcc): the C
#                            and Vala suites, then the Python and GJS suites
#                            with libasan preloaded (setup asaninterpreters)
#   reliability.sh tsan      -Db_sanitize=thread build: the C suites with
#                            GLib's synchronisation shown to ThreadSanitizer
#                            (setup tsan), and a canary race that must be
#                            reported
#   reliability.sh valgrind  the C suites of the main build under memcheck
#                            (setup valgrind)
#   reliability.sh fuzz      clang -Dfuzzing=true build: every fuzz target
#                            replays its corpus, then fuzzes for
#                            $AMOR_FUZZ_SECONDS (60) seconds
#   reliability.sh logs      prints the meson test logs the stages write
#
# Each stage writes a meson test log (testlog*.json) that
# build-aux/test-summary.py counts. A stage that cannot run (a tool is
# missing, or AMOR_RELIABILITY=skip) or whose build fails writes a log with
# one skipped or failed entry instead, so it is never silently absent.
#
# Build directories: AMOR_BUILDDIR (the main build, default _build), and
# AMOR_ASAN_BUILDDIR, AMOR_TSAN_BUILDDIR, AMOR_FUZZ_BUILDDIR (default
# <main build>-asan, -tsan, -fuzz). Run it from anywhere; it works in the
# source tree. It needs the main build configured (quickstart.sh does that).
set -u

cd "$(dirname "$0")/.." || exit 2

builddir=${AMOR_BUILDDIR:-_build}
asan_builddir=${AMOR_ASAN_BUILDDIR:-${builddir}-asan}
tsan_builddir=${AMOR_TSAN_BUILDDIR:-${builddir}-tsan}
fuzz_builddir=${AMOR_FUZZ_BUILDDIR:-${builddir}-fuzz}
fuzz_seconds=${AMOR_FUZZ_SECONDS:-60}
jobs=${AMOR_JOBS:-2}

asan_log="$asan_builddir/meson-logs/testlog.json"
asan_interpreters_log="$asan_builddir/meson-logs/testlog-asaninterpreters.json"
tsan_log="$tsan_builddir/meson-logs/testlog-tsan.json"
valgrind_log="$builddir/meson-logs/testlog-valgrind.json"
fuzz_log="$fuzz_builddir/meson-logs/testlog.json"

# An UBSan report ends the program with an error (by default it only
# prints); meson test passes the environment on to the tests.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

status=0

# Writes a meson-style log with one entry: result SKIP or FAIL.
stand_in_log () {
  log=$1
  name=$2
  result=$3
  why=$4
  mkdir -p "$(dirname "$log")"
  /usr/bin/python3 - "$log" "$name" "$result" "$why" <<'EOF'
import json
import sys

log, name, result, why = sys.argv[1:]
with open(log, "w", encoding="utf-8") as f:
    f.write(json.dumps({"name": name, "result": result, "stdout": why}) + "\n")
EOF
  echo "reliability: $name: $result ($why)"
  if [ "$result" = FAIL ]; then
    status=1
  fi
}

stage_start () {
  echo
  echo "=== reliability: $1 ==="
  stage_began=$(date +%s)
}

stage_end () {
  echo "reliability: $1 took $(( $(date +%s) - stage_began )) s"
}

# meson setup (once, with the compiler $2) and ninja; false on failure.
configure_and_build () {
  dir=$1
  compiler=$2
  shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    CC=$compiler meson setup "$dir" "$@" || return 1
  fi
  ninja -C "$dir" -j "$jobs"
}

run_meson_test () {
  meson test --no-rebuild --print-errorlogs --num-processes "$jobs" "$@" || status=1
}

stage_asan () {
  stage_start asan
  rm -f "$asan_log" "$asan_interpreters_log"
  if ! command -v gcc >/dev/null; then
    stand_in_log "$asan_log" "reliability / asan" SKIP "gcc is not installed"
    stand_in_log "$asan_interpreters_log" "reliability / asan interpreters" SKIP "gcc is not installed"
    return
  fi
  if ! configure_and_build "$asan_builddir" gcc -Dpython=/usr/bin/python3 \
       -Db_sanitize=address,undefined -Dbenchmarks=disabled; then
    stand_in_log "$asan_log" "reliability / asan build" FAIL "the build failed"
    stand_in_log "$asan_interpreters_log" "reliability / asan interpreters" FAIL "the build failed"
    return
  fi
  # Compiled suites: AddressSanitizer with LeakSanitizer, and UBSan.
  run_meson_test -C "$asan_builddir" --suite c --suite vala
  # Interpreters: libasan preloaded, leak detection off (see meson.build).
  run_meson_test -C "$asan_builddir" --setup asaninterpreters --suite python --suite js
  stage_end asan
}

stage_tsan () {
  stage_start tsan
  rm -f "$tsan_log"
  if ! configure_and_build "$tsan_builddir" gcc -Db_sanitize=thread \
       -Dintrospection=disabled -Dvapi=disabled -Dbenchmarks=disabled; then
    stand_in_log "$tsan_log" "reliability / tsan build" FAIL "the build failed"
    return
  fi
  run_meson_test -C "$tsan_builddir" --setup tsan --suite c --suite tsan-canary
  stage_end tsan
}

stage_valgrind () {
  stage_start valgrind
  rm -f "$valgrind_log"
  if ! command -v valgrind >/dev/null; then
    stand_in_log "$valgrind_log" "reliability / valgrind" SKIP "valgrind is not installed"
    return
  fi
  if [ ! -f "$builddir/build.ninja" ]; then
    meson setup "$builddir" -Dpython=/usr/bin/python3 || {
      stand_in_log "$valgrind_log" "reliability / valgrind build" FAIL "the build failed"
      return
    }
  fi
  if ! ninja -C "$builddir" -j "$jobs"; then
    stand_in_log "$valgrind_log" "reliability / valgrind build" FAIL "the build failed"
    return
  fi
  # The setup exists if valgrind was there when the build was configured.
  if ! meson test -C "$builddir" --setup valgrind --list >/dev/null 2>&1; then
    meson setup --reconfigure "$builddir" >/dev/null || true
  fi
  run_meson_test -C "$builddir" --setup valgrind --suite c
  stage_end valgrind
}

stage_fuzz () {
  stage_start fuzz
  rm -f "$fuzz_log"
  if ! command -v clang >/dev/null; then
    stand_in_log "$fuzz_log" "reliability / fuzz" SKIP "clang is not installed"
    return
  fi
  if ! configure_and_build "$fuzz_builddir" clang -Dfuzzing=true \
       -Db_sanitize=address,undefined -Db_lundef=false \
       -Dintrospection=disabled -Dvapi=disabled -Dbenchmarks=disabled; then
    stand_in_log "$fuzz_log" "reliability / fuzz build" FAIL \
      "the build failed (is libclang-rt-14-dev installed?)"
    return
  fi
  # The corpus replays are quick; the fuzz runs take $fuzz_seconds each,
  # two at a time.
  run_meson_test -C "$fuzz_builddir" --suite fuzz-corpus --suite fuzz \
    "--test-args=-max_total_time=$fuzz_seconds"
  stage_end fuzz
}

stages=${1:-all}
if [ "$stages" = logs ]; then
  echo "$asan_log $asan_interpreters_log $tsan_log $valgrind_log $fuzz_log"
  exit 0
fi
if [ "$stages" = all ]; then
  stages="asan tsan valgrind fuzz"
fi

for stage in $stages; do
  if [ "${AMOR_RELIABILITY:-}" = skip ]; then
    case $stage in
      asan)
        stand_in_log "$asan_log" "reliability / asan" SKIP "AMOR_RELIABILITY=skip"
        stand_in_log "$asan_interpreters_log" "reliability / asan interpreters" SKIP "AMOR_RELIABILITY=skip" ;;
      tsan) stand_in_log "$tsan_log" "reliability / tsan" SKIP "AMOR_RELIABILITY=skip" ;;
      valgrind) stand_in_log "$valgrind_log" "reliability / valgrind" SKIP "AMOR_RELIABILITY=skip" ;;
      fuzz) stand_in_log "$fuzz_log" "reliability / fuzz" SKIP "AMOR_RELIABILITY=skip" ;;
    esac
    continue
  fi
  case $stage in
    asan) stage_asan ;;
    tsan) stage_tsan ;;
    valgrind) stage_valgrind ;;
    fuzz) stage_fuzz ;;
    *)
      echo "usage: $0 [all|asan|tsan|valgrind|fuzz|logs]" >&2
      exit 2
      ;;
  esac
done

exit $status
