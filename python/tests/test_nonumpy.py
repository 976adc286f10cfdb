# SPDX-License-Identifier: MIT
"""The binding without numpy: lists, tuples and array.array everywhere.

Runs the whole suite again in a subprocess where ``import numpy`` fails
(REGNN_TEST_NO_NUMPY=1 puts None in sys.modules["numpy"]), plus a direct check.
"""

import os
import re
import sys
import unittest

from _support import HERE, NO_NUMPY, run_python

SNIPPET = r'''
import sys
sys.modules["numpy"] = None
import array, regnn
assert regnn.HAVE_NUMPY is False
try:
    import numpy
except ImportError:
    pass
else:
    raise AssertionError("numpy importable")
x = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]] * 8
y = [1.0, 1.0, 0.0, 0.0] * 8
with regnn.Dataset(x, y) as ds, regnn.Model(2, [regnn.Dense(8, "tanh"), regnn.Dense(1)]) as m:
    m.init(seed=1)
    h = m.fit(ds, regnn.Adam(learning_rate=0.05), epochs=3, validation_split=0.25)
    assert type(h.loss) is list and len(h.loss) == 3, h.loss
    p = m.predict(x[:2])
    assert type(p) is list and type(p[0]) is list and type(p[0][0]) is float, p
    one = m.predict([0.5, 0.5])
    assert type(one) is list and len(one) == 1
    params = m.get_params()
    assert type(params) is list and len(params) == m.param_count
    assert type(ds.features()) is list
    out = array.array("f", [0.0] * 2)
    assert m.predict(x[:2], out=out) is out
    assert type(m.layers[0].kernel) is list and len(m.layers[0].kernel) == 2
    sc = regnn.Scaler.fit(ds)
    assert type(sc.feature_mean) is list
print("no-numpy ok")
'''


@unittest.skipIf(NO_NUMPY, "already running without numpy")
class TestWithoutNumpy(unittest.TestCase):
    def test_direct(self):
        r = run_python(SNIPPET)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no-numpy ok", r.stdout)

    def test_whole_suite_without_numpy(self):
        r = run_python("import runpy, sys; sys.argv = ['run_tests.py', '-q']; "
                       "runpy.run_path(%r, run_name='__main__')" % os.path.join(HERE, "run_tests.py"),
                       env={"REGNN_TEST_NO_NUMPY": "1"}, timeout=900)
        sys.stdout.write("\n    " + "\n    ".join(
            l for l in r.stdout.splitlines() if l.startswith(("regnn Python tests", "python-"))) + "\n")
        self.assertEqual(r.returncode, 0, r.stdout[-5000:] + r.stderr[-5000:])
        m = re.search(r"^python-nonumpy: (\d+) passed, 0 failed", r.stdout, re.M)
        self.assertTrue(m, r.stdout[-2000:])
        self.assertGreater(int(m.group(1)), 100)


if __name__ == "__main__":
    unittest.main()
