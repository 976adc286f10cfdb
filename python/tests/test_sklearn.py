# SPDX-License-Identifier: MIT
"""regnn.sklearn.RegNNRegressor: scikit-learn's own estimator checks, Pipeline,
GridSearchCV with joblib processes, cross_val_score, pickling."""

import copy
import pickle
import sys
import unittest
import warnings

from _support import np, regnn

try:
    import sklearn
    from sklearn.base import clone
    from sklearn.exceptions import SkipTestWarning
    from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils.estimator_checks import check_estimator
except ImportError:
    sklearn = None

needs_sklearn = unittest.skipIf(np is None or sklearn is None,
                                "numpy or scikit-learn is not installed "
                                "(apt-get install python3-sklearn)")
if np is not None and sklearn is not None:
    from regnn.sklearn import RegNNRegressor


def data(rows=120, nx=4, targets=1):
    rng = np.random.RandomState(0)
    x = rng.uniform(-2, 2, size=(rows, nx)) * [1, 10, 100, 0.1][:nx]
    y = np.sin(x[:, 0]) + x[:, 1] / 10 + (x[:, 2] / 100) ** 2
    if targets > 1:
        y = np.column_stack([y, x[:, 0] - x[:, 3] * 10])
    return x, y


def check_name(check):
    """The name of a check from check_estimator(generate_only=True), also when sklearn
    wrapped it to skip it."""
    f = check.func
    inner = getattr(f, "__wrapped__", None)
    if inner is not None:
        f = getattr(inner, "func", inner)
    return f.__name__


def run_checks(est):
    """(names of the checks that ran, {skipped check: message}); a failing check raises."""
    ran, skipped = [], {}
    for e, check in check_estimator(est, generate_only=True):
        name = check_name(check)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                check(e)
            except unittest.SkipTest as skip:  # a check in the _xfail_checks tag
                skipped[name] = str(skip)
                continue
        for w in caught:  # a check that skips itself (e.g. pandas missing)
            if issubclass(w.category, SkipTestWarning):
                skipped[name] = str(w.message)
        ran.append(name)
    # check_estimator(est) itself, as users run it: it raises on a failing check.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(est)
    return ran, skipped


@needs_sklearn
class TestCheckEstimator(unittest.TestCase):
    def test_default_and_varied_estimators_pass_every_check(self):
        configs = [RegNNRegressor(),
                   RegNNRegressor((8, 4), "tanh", l2=1e-3, l1=1e-4, dropout=0.1, loss="huber",
                                  huber_delta=0.5, optimizer="sgd", learning_rate=0.05,
                                  momentum=0.9, nesterov=True, epochs=60, batch_size=16,
                                  validation_split=0.2, early_stopping=True, patience=30,
                                  restore_best=True, threads=2)]
        total = 0
        for est in configs:
            ran, skipped = run_checks(est)
            xfail = est._more_tags()["_xfail_checks"]
            # Every skip is one the estimator's tag names and justifies, and no more.
            self.assertEqual(set(skipped), set(xfail), skipped)
            self.assertGreater(len(ran), 40)
            total += len(ran)
        sys.stdout.write("\nsklearn: check_estimator of scikit-learn %s: %d checks on %d "
                         "estimators passed, skipped (justified in the _xfail_checks tag): %s\n"
                         % (sklearn.__version__, total, len(configs),
                            ", ".join(sorted(xfail)) or "none"))


@needs_sklearn
class TestRegressor(unittest.TestCase):
    def test_params_follow_sklearn_rules(self):
        est = RegNNRegressor((5,), l2=0.5, random_state=3)
        self.assertEqual(est.get_params()["l2"], 0.5)
        self.assertEqual(est.set_params(l2=0.25, epochs=7).l2, 0.25)
        twin = clone(est)
        self.assertEqual(twin.get_params(), est.get_params())
        self.assertFalse(hasattr(est, "model_"))

    def test_fit_predict_score_multi_output(self):
        x, y = data(targets=2)
        est = RegNNRegressor((32,), epochs=100, random_state=1).fit(x, y)
        p = est.predict(x)
        self.assertEqual(p.shape, (120, 2))
        self.assertEqual(p.dtype, np.float64)
        self.assertGreater(est.score(x, y), 0.8)
        self.assertEqual(est.n_features_in_, 4)
        self.assertEqual(est.n_outputs_, 2)
        self.assertEqual(est.n_iter_, 100)
        self.assertEqual(est.model_.n_inputs, 4)

    def test_same_seed_same_bits_for_any_thread_count(self):
        x, y = data()
        a = RegNNRegressor((16,), epochs=20, random_state=5, threads=1).fit(x, y).predict(x)
        b = RegNNRegressor((16,), epochs=20, random_state=5, threads=2).fit(x, y).predict(x)
        c = RegNNRegressor((16,), epochs=20, random_state=6).fit(x, y).predict(x)
        self.assertEqual(a.tobytes(), b.tobytes())
        self.assertNotEqual(a.tobytes(), c.tobytes())

    def test_unit_weights_are_no_weights(self):
        x, y = data()
        for kw in ({}, {"validation_split": 0.25, "early_stopping": True, "restore_best": True},
                   {"dropout": 0.2, "optimizer": "sgd", "batch_size": 7}):
            est = RegNNRegressor((8,), epochs=10, random_state=2, **kw)
            a = est.fit(x, y, sample_weight=np.ones(len(y))).predict(x)
            b = clone(est).fit(x, y).predict(x)
            self.assertEqual(a.tobytes(), b.tobytes())

    def test_zero_weight_rows_are_left_out(self):
        x, y = data()
        w = np.ones(len(y))
        w[::3] = 0
        est = RegNNRegressor((8,), epochs=10, random_state=2)
        a = est.fit(x, y, sample_weight=w).predict(x)
        b = clone(est).fit(x[w > 0], y[w > 0]).predict(x)
        self.assertEqual(a.tobytes(), b.tobytes())
        with self.assertRaises(ValueError):
            clone(est).fit(x, y, sample_weight=np.zeros(len(y)))

    def test_pickled_and_copied_estimator_predicts_the_same_bits(self):
        x, y = data()
        est = RegNNRegressor((16,), epochs=20, random_state=4).fit(x, y)
        for back in (pickle.loads(pickle.dumps(est)), copy.deepcopy(est)):
            self.assertEqual(back.predict(x).tobytes(), est.predict(x).tobytes())
            self.assertEqual(back.history_.epochs, 20)

    def test_pipeline_grid_search_with_processes_and_cross_val_score(self):
        x, y = data()
        pipe = make_pipeline(StandardScaler(), RegNNRegressor((16,), epochs=60, random_state=0,
                                                              learning_rate=0.01,
                                                              scale_features=False))
        self.assertGreater(pipe.fit(x, y).score(x, y), 0.8)
        grid = GridSearchCV(pipe, {"regnnregressor__l2": [0.0, 10.0]}, cv=3, n_jobs=2)
        grid.fit(x, y)
        # l2 = 10 squeezes the weights to nothing: it must lose.
        self.assertEqual(grid.best_params_["regnnregressor__l2"], 0.0)
        scores = cross_val_score(RegNNRegressor((16,), epochs=60, learning_rate=0.01,
                                                random_state=0), x, y,
                                 cv=KFold(3, shuffle=True, random_state=0))
        self.assertEqual(len(scores), 3)
        self.assertGreater(min(scores), 0.5)


if __name__ == "__main__":
    unittest.main()
