#!/usr/bin/python3
"""Counts meson's test logs and prints the closing line "N passed, M failed".

    test-summary.py TESTLOG.json [TESTLOG.json ...]

Every log given is counted: the main suite's, and those of the reliability
stages (build-aux/reliability.sh), each preceded by a line of its own.
A log that is missing counts as a failure: a stage that did not run cannot
pass. A skipped suite counts as failed when CI=true: in CI every suite must
run. A run that executed nothing cannot pass either.
"""
import json
import os
import sys

passed = failed = skipped = 0

for path in sys.argv[1:]:
    log_passed = log_failed = log_skipped = 0
    try:
        with open(path, encoding="utf-8") as log:
            lines = log.readlines()
    except OSError as e:
        print(f"failed: {path} (no test log: {e.strerror})")
        failed += 1
        continue

    for line in lines:
        line = line.strip()
        if not line:
            continue
        entry = json.loads(line)
        result = entry.get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            log_passed += 1
        elif result == "SKIP":
            log_skipped += 1
            print(f"skipped: {entry.get('name')}")
        else:
            log_failed += 1
            print(f"failed: {entry.get('name')} ({result})")

    if len(sys.argv) > 2:
        suffix = f", {log_skipped} skipped" if log_skipped else ""
        print(f"  {path}: {log_passed} passed, {log_failed} failed{suffix}")
    passed += log_passed
    failed += log_failed
    skipped += log_skipped

if os.environ.get("CI") == "true" and skipped:
    print(f"{skipped} suites skipped in CI, where every suite must run")
    failed += skipped
    skipped = 0

suffix = f", {skipped} skipped" if skipped else ""
print(f"{passed} passed, {failed} failed{suffix}")
sys.exit(0 if failed == 0 and passed > 0 else 1)
