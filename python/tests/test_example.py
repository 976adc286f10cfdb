# SPDX-License-Identifier: MIT
"""examples/diabetes.py runs, gives the study's result, writes its CSVs/figure, and matches
examples/diabetes.c."""

import csv
import glob
import os
import re
import subprocess
import sys
import unittest

from _support import REPO, TempDir

EXAMPLE = os.path.join(REPO, "examples", "diabetes.py")
DATA = [p for p in (os.path.join(REPO, "examples", "data", "diabetes.csv"),
                    os.path.join(REPO, "tests", "data", "diabetes.csv")) if os.path.exists(p)]


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return os.environ.get("REGNN_TEST_NO_NUMPY") != "1"  # matplotlib needs numpy
    except ImportError:
        return False


def run_example(*args):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    pre = "import sys; sys.modules['numpy'] = None; " if env.get("REGNN_TEST_NO_NUMPY") == "1" else ""
    code = pre + "import runpy, sys; sys.argv = %r; runpy.run_path(%r, run_name='__main__')" % (
        [EXAMPLE] + list(args), EXAMPLE)
    return subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=600)


def rows(path):
    with open(path) as f:
        return [r[:8] + r[9:] for r in csv.reader(f)]  # all columns but "seconds"


RESULT = re.compile(r"^(unregularized|l2_[0-9.e-]+) +loss (\d+\.\d{4})  val_loss (\d+\.\d{4})  "
                    r"test MSE (\d+\.\d{4})  gap ([+-]\d+\.\d{4})  \((.+)\)$", re.M)


def results(out):
    return {m.group(1): dict(loss=float(m.group(2)), val_loss=float(m.group(3)),
                             test=float(m.group(4)), gap=float(m.group(5)), verdict=m.group(6))
            for m in RESULT.finditer(out)}


@unittest.skipUnless(DATA, "no diabetes.csv in examples/data or tests/data")
class TestDiabetesExample(unittest.TestCase):
    def test_runs_and_writes_csv(self):
        with TempDir() as d:
            r = run_example("--epochs", "3", "--out", d, "--no-plot", "--data", DATA[0])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = r.stdout
            self.assertIn("442 rows x 10 features: 397 train, 45 test", out)
            self.assertEqual(sorted(results(out)), ["l2_0.01", "unregularized"], out)
            self.assertIn("no figure (--no-plot)", out)
            for name in ("py_unregularized.csv", "py_l2_0.01.csv"):
                with open(os.path.join(d, name)) as f:
                    lines = f.read().splitlines()
                self.assertEqual(len(lines), 4, name)
                last = dict(zip(lines[0].split(","), lines[-1].split(",")))
                got = results(out)[name[3:-4]]
                self.assertAlmostEqual(float(last["loss"]), got["loss"], places=4)
                self.assertAlmostEqual(float(last["val_loss"]), got["val_loss"], places=4)
            self.assertFalse(os.path.exists(os.path.join(d, "py_study.png")))

    def test_the_study_result(self):
        # The article's claim at its own settings (100 epochs): without a penalty the
        # network overfits; L2 on every layer closes the gap and lowers the test error.
        with TempDir() as d:
            r = run_example("--out", d, "--no-plot", "--data", DATA[0])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            res = results(r.stdout)
            u, g = res["unregularized"], res["l2_0.01"]
            self.assertEqual(u["verdict"], "overfitting", r.stdout)
            self.assertGreater(u["gap"], 0.3, r.stdout)
            self.assertLess(abs(g["gap"]), u["gap"] / 4, r.stdout)
            self.assertLess(g["test"], u["test"], r.stdout)
            with open(os.path.join(d, "py_unregularized.csv")) as f:
                self.assertEqual(len(f.read().splitlines()), 101)

    @unittest.skipUnless(have_matplotlib(), "matplotlib is not installed")
    def test_figure(self):
        with TempDir() as d:
            r = run_example("--epochs", "2", "--out", d, "--lambda", "0.001", "--data", DATA[0])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(os.path.join(d, "py_study.png"), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            self.assertIn("l2_0.001 ", r.stdout)

    @unittest.skipIf(have_matplotlib(), "matplotlib is installed")
    def test_no_matplotlib_message(self):
        with TempDir() as d:
            r = run_example("--epochs", "1", "--out", d, "--data", DATA[0])
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("no figure (matplotlib is not installed)", r.stdout)

    def test_bad_data_path(self):
        with TempDir() as d:
            r = run_example("--data", os.path.join(d, "none.csv"), "--out", d)
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot open", r.stderr)

    @unittest.skipUnless(os.path.exists(os.environ.get("REGNN_C_DIABETES", "/nonexistent")),
                         "examples/diabetes.c is not built (REGNN_C_DIABETES)")
    def test_same_curves_as_the_c_example(self):
        with TempDir() as d:
            r = run_example("--epochs", "4", "--out", d, "--no-plot", "--seed", "3", "--data", DATA[0])
            self.assertIn("test MSE", r.stdout)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
            c = subprocess.run([os.environ["REGNN_C_DIABETES"], "--epochs", "4", "--seed", "3",
                                "--seeds", "1", "--lambdas", "0,0.01", "--jobs", "1",
                                "--data", DATA[0], "--out", os.path.join(d, "c")],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=600)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
            runs = os.path.join(d, "c", "runs")
            self.assertEqual(rows(os.path.join(runs, "lambda0_seed3.csv")),
                             rows(os.path.join(d, "py_unregularized.csv")))
            reg = [p for p in glob.glob(os.path.join(runs, "lambda*_seed3.csv"))
                   if not p.endswith("lambda0_seed3.csv")]
            self.assertEqual(len(reg), 1, os.listdir(runs))
            self.assertEqual(rows(reg[0]), rows(os.path.join(d, "py_l2_0.01.csv")))


REGULARIZERS = os.path.join(REPO, "examples", "regularizers.py")


@unittest.skipUnless(DATA, "no diabetes.csv in examples/data or tests/data")
class TestRegularizersExample(unittest.TestCase):
    """examples/regularizers.py gives the C program's bytes: its grids, choices and
    final fits are a copy of examples/regularizers.c's, and this is the check."""

    SMALL = ["--seeds", "2", "--epochs", "5", "--folds", "2", "--data"]

    def run_py(self, out):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run([sys.executable, REGULARIZERS] + self.SMALL + [DATA[0], "--out", out],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=600)

    def test_writes_one_row_per_regularizer_and_seed(self):
        with TempDir() as d:
            r = self.run_py(d)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(os.path.join(d, "regularizers.csv")) as f:
                table = list(csv.DictReader(f))
            names = sorted({row["regularizer"] for row in table})
            self.assertIn("none", names)
            self.assertIn("L2 (kernel)", names)
            self.assertEqual(len(table), 2 * len(names))

    @unittest.skipUnless(os.path.exists(os.environ.get("REGNN_C_REGULARIZERS", "/nonexistent")),
                         "examples/regularizers.c is not built (REGNN_C_REGULARIZERS)")
    def test_same_bytes_as_the_c_example(self):
        with TempDir() as d:
            r = self.run_py(os.path.join(d, "py"))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            c = subprocess.run([os.environ["REGNN_C_REGULARIZERS"]] + self.SMALL +
                               [DATA[0], "--out", os.path.join(d, "c")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=600)
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
            for name in ("regularizers.csv", "regularizers_cv.csv"):
                with open(os.path.join(d, "py", name), "rb") as f:
                    py = f.read()
                with open(os.path.join(d, "c", name), "rb") as f:
                    self.assertEqual(py, f.read(), name)


if __name__ == "__main__":
    unittest.main()
