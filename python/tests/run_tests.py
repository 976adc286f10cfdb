# SPDX-License-Identifier: MIT
"""Run the Python binding's tests: python3 python/tests/run_tests.py [-q] [test_module ...]

Environment: REGNN_LIBRARY (the library to test), REGNN_C_REFERENCE (the built
c_reference program; built on the fly when absent), REGNN_TEST_NO_NUMPY=1 (run
as if numpy were missing). Exit status 0 when every test passed.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _support  # noqa: E402  (applies REGNN_TEST_NO_NUMPY before regnn is imported)


def main(argv):
    quiet = "-q" in argv
    names = [a for a in argv if not a.startswith("-")]
    loader = unittest.TestLoader()
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    mode = "without numpy" if _support.np is None else "with numpy %s" % _support.np.__version__
    print("regnn Python tests: %s, library %s (%s)"
          % (mode, _support.regnn.library_version(), _support.regnn.library_path))
    sys.stdout.flush()
    result = unittest.TextTestRunner(verbosity=1 if quiet else 2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    label = "python-nonumpy" if _support.np is None else "python"
    print("%s: %d passed, %d failed, %d skipped" % (label, passed, failed, skipped))
    # Why, once per reason: make check's summary lists these lines.
    reasons = {}
    for _, why in result.skipped:
        reasons[why] = reasons.get(why, 0) + 1
    for why in sorted(reasons):
        print("%s: skipped %d: %s" % (label, reasons[why], why))
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
