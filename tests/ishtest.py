"""What the Python test harnesses share, so each says it once.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import ishtest
    ishtest.use("qemu")          # then: import lab
    check = ishtest.Checks()     # check(cond, what); check.failures; check.status()

Paths: TESTS (this directory), SOURCE_ROOT, DEMO (the bundled snapshot).
SANITIZER: the markers of an ASan/UBSan/LSan report on stderr.
"""
import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(TESTS)
DEMO = os.path.join(SOURCE_ROOT, "demo", "demo.snapshot")

SANITIZER = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
             "runtime error:")


def use(*subdirs):
    """Makes the modules of tests/SUBDIR importable (lab, gdbstub helpers, ...)."""
    for d in subdirs:
        p = os.path.join(TESTS, d)
        if p not in sys.path:
            sys.path.insert(0, p)


def sanitizer_report(text):
    """Whether text (a stderr) holds a sanitizer report."""
    return any(s in text for s in SANITIZER)


class Checks:
    """check(cond, what): prints "ok     what" or "FAILED what" (flushed, so a
    hang shows where), keeps the failures, returns cond."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        print(("ok     " if cond else "FAILED ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    def status(self):
        return 1 if self.failures else 0
