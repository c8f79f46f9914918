# amortap.py: run the unittest cases of a module and report them in TAP.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys
import traceback
import unittest


def _in_ci():
    return os.environ.get('CI', '').lower() == 'true'


def cannot_run(why):
    """Reports that the suite cannot run at all: skipped, or failed in CI."""
    if _in_ci():
        print('1..1')
        print('not ok 1 - %s' % why)
        sys.stdout.flush()
        sys.exit(1)
    print('1..0 # SKIP %s' % why)
    sys.stdout.flush()
    sys.exit(0)


def broken(what):
    """Reports a failure that happens before any test could start."""
    print('1..1')
    print('not ok 1 - %s' % what)
    for line in traceback.format_exc().splitlines():
        print('# ' + line)
    sys.stdout.flush()
    sys.exit(1)


def import_amor():
    """Imports gi and the Amor typelib.

    A missing gi makes the suite skip (fail in CI); an Amor that cannot be
    loaded is always a failure."""
    try:
        import gi
    except ImportError as e:
        cannot_run('PyGObject (gi) is not available for %s: %s'
                   % (sys.executable, e))
    try:
        gi.require_version('GLib', '2.0')
        gi.require_version('GObject', '2.0')
        gi.require_version('Gio', '2.0')
        gi.require_version('Amor', '1')
        from gi.repository import Amor
    except Exception:
        broken('load the Amor 1 typelib')
    return Amor


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.number = 0

    def _name(self, test):
        return test.id().split('.', 1)[-1]

    def _line(self, ok, test, directive=None, diagnostic=None):
        self.number += 1
        line = '%s %d - %s' % ('ok' if ok else 'not ok', self.number,
                               self._name(test))
        if directive:
            line += ' # ' + directive
        print(line)
        if diagnostic:
            for text in diagnostic.rstrip('\n').splitlines():
                print('# ' + text)
        sys.stdout.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test, diagnostic=self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test, diagnostic=self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(True, test, directive='SKIP ' + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line(True, test, directive='TODO expected failure')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(False, test, diagnostic='unexpected success')


def main(module='__main__'):
    """Runs every unittest case of @module, printing TAP; exits 0 on success."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module])
    print('1..%d' % suite.countTestCases())
    sys.stdout.flush()
    result = TapResult()
    suite.run(result)
    # Setup errors of a class or module are not test lines of their own.
    if result.number < suite.countTestCases() or not result.wasSuccessful():
        sys.exit(1)
    sys.exit(0)
