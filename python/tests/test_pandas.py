# SPDX-License-Identifier: MIT
"""pandas in and out: DataFrames and Series into Dataset, fit and predict (columns by
name), History / path results as DataFrames; pandas is imported only when used."""

import unittest
import warnings

from _support import np, regnn, run_python

try:
    import pandas as pd
except ImportError:
    pd = None

needs_pandas = unittest.skipIf(np is None or pd is None,
                               "numpy or pandas is not installed (apt-get install python3-pandas)")


def frame(rows=40):
    rng = np.random.RandomState(1)
    return pd.DataFrame({"age": rng.uniform(20, 80, rows),
                         "dose, mg": rng.uniform(0, 5, rows).astype(np.float32),
                         "w": rng.uniform(0.5, 2, rows),
                         "y": rng.normal(size=rows)})


class TestImport(unittest.TestCase):
    def test_importing_regnn_does_not_import_pandas(self):
        r = run_python("import sys, regnn\nregnn.Dataset([[1.0]], [2.0]).close()\n"
                       "print('pandas' in sys.modules)")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "False")


@needs_pandas
class TestPandas(unittest.TestCase):
    def test_from_dataframe_by_name(self):
        df = frame()
        with regnn.Dataset.from_dataframe(df, "y", weight="w") as ds:
            self.assertEqual(ds.feature_names, ("age", "dose, mg"))
            self.assertEqual(ds.target_names, ("y",))
            self.assertEqual(ds.features().tobytes(),
                             df[["age", "dose, mg"]].to_numpy(np.float32).tobytes())
            self.assertEqual(ds.targets().ravel().tobytes(), df["y"].to_numpy(np.float32).tobytes())
            self.assertEqual(ds.sample_weight.tobytes(), df["w"].to_numpy(np.float32).tobytes())
        with regnn.Dataset.from_dataframe(df, ["y", "age"]) as ds:
            self.assertEqual(ds.feature_names, ("dose, mg", "w"))
            self.assertEqual(ds.target_names, ("y", "age"))
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Dataset.from_dataframe(df, "price")
        with self.assertRaises(TypeError):
            regnn.Dataset.from_dataframe(df.assign(kind="a"), "y")

    def test_dataset_fit_and_predict_take_frames_and_series(self):
        df = frame()
        x, y = df[["age", "dose, mg"]], df["y"]
        with regnn.Dataset(x, y) as ds:
            self.assertEqual((ds.feature_names, ds.target_names), (("age", "dose, mg"), ("y",)))
        with regnn.Dataset(x, y.to_numpy()) as ds:
            self.assertEqual(ds.target_names, ("y0",))
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Dataset(x, x[["age"]])  # the same name on both sides

        def trained(xx, yy):
            m = regnn.Model(2, [regnn.Dense(4, "relu"), regnn.Dense(1)]).init(seed=4)
            h = m.fit(xx, yy, epochs=3, batch_size=8, validation_split=0.25)
            return m, h
        m1, h1 = trained(x, y)
        m2, h2 = trained(x.to_numpy(np.float32), y.to_numpy(np.float32))
        self.assertEqual(m1.get_params().tobytes(), m2.get_params().tobytes())
        self.assertEqual(m1.predict(x).tobytes(), m2.predict(x.to_numpy(np.float32)).tobytes())
        hd = h1.to_dataframe()
        self.assertEqual(list(hd.columns), list(h1.history))
        self.assertEqual(list(hd.index), [1, 2, 3])
        self.assertEqual(hd.index.name, "epoch")
        self.assertEqual(list(hd["val_loss"]), h1.history["val_loss"])

    def test_path_and_cross_validation_results(self):
        df = frame(60)
        m = regnn.Model(3, [regnn.Dense(4, "tanh"), regnn.Dense(1)])
        with regnn.Dataset.from_dataframe(df, "y") as ds:
            p = regnn.regularization_path(m, ds, [0.0, 0.1], epochs=2, seeds=2,
                                          validation_split=0.25, threads=1)
            cv = regnn.regularization_path(m, ds, [0.0, 0.1], epochs=2, folds=3, threads=1)
        t = p.to_dataframe()
        self.assertEqual(list(t["lambda"]), [0.0, 0.1])
        self.assertEqual(list(t["best_val_mse"]), [r["best_val_mse"] for r in p.table])
        self.assertEqual(list(t["min"]), [r["min"] for r in p.table])
        self.assertEqual(int(t[[c for c in t.columns if c.startswith("verdict_")]].sum().sum()), 4)
        runs = p.runs_dataframe()
        self.assertEqual(list(runs["seed"]), [0, 1, 0, 1])
        self.assertNotIn("fold", runs.columns)
        self.assertEqual(list(runs["best_val_mse"]), list(p.runs["best_val_mse"]))
        cruns = cv.runs_dataframe()
        self.assertEqual(list(cruns["fold"]), [0, 1, 2, 0, 1, 2])
        self.assertEqual(list(cruns["final_val_mse"]), list(cv.runs["final_val_mse"]))
        self.assertEqual(list(cv.to_dataframe()["1se"]), [r["1se"] for r in cv.table])

    def test_estimator_takes_frames(self):
        try:
            from regnn.sklearn import RegNNRegressor
        except ImportError:
            self.skipTest("scikit-learn is not installed")
        df = frame()
        x, y = df[["age", "dose, mg"]], df["y"]
        est = RegNNRegressor((8,), epochs=5, random_state=0).fit(x, y)
        self.assertEqual(list(est.feature_names_in_), ["age", "dose, mg"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "X does not have valid feature names"
            plain = est.predict(x.to_numpy())
        self.assertEqual(est.predict(x).tobytes(), plain.tobytes())


if __name__ == "__main__":
    unittest.main()
