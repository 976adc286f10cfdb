# SPDX-License-Identifier: MIT
"""Diagnosis (History.diagnosis) and the regularization path (regnn.regularization_path)."""

import gc
import math
import os
import struct
import unittest

from _support import NO_NUMPY, regnn, run_python, tolist

from regnn import _capi

_blas_threads = None


def setUpModule():
    # One BLAS thread: the path's results are then the same for every thread count.
    global _blas_threads
    _blas_threads = regnn.blas_threads()
    regnn.set_blas_threads(1)


def tearDownModule():
    if _blas_threads is not None:
        regnn.set_blas_threads(_blas_threads)


def noisy(rows=120, nx=4, seed=1):
    """y = x0 + noise, from a small LCG: the same lists with and without numpy."""
    s = seed

    def r():
        nonlocal s
        s = (1103515245 * s + 12345) % 2 ** 31
        return s / 2 ** 31 * 2 - 1
    x = [[r() for _ in range(nx)] for _ in range(rows)]
    y = [row[0] + 0.8 * r() for row in x]
    return x, y


def net(l2=0.0, units=64):
    return regnn.Model(4, [regnn.Dense(units, "relu", l2=l2), regnn.Dense(units, "relu", l2=l2),
                           regnn.Dense(1, l2=l2)])


FIT = dict(epochs=40, batch_size=8, validation_split=0.25)
LAMBDAS = [0.0, 1e-2, 10.0]
TEST = noisy(40, seed=7)  # held-out rows for the path's test MSE


def path(**kw):
    args = dict(FIT, optimizer=regnn.Adam(learning_rate=0.01), seeds=2, seed=3, threads=1)
    args.update(kw)
    model = args.pop("model", None)
    model = net() if model is None else model
    data = args.pop("data", None)
    data = noisy() if data is None else data
    lambdas = args.pop("lambdas", LAMBDAS)
    return regnn.regularization_path(model, data, lambdas, **args)


def same(a, b):
    """Equal lists of floats, NaN equal to NaN."""
    a, b = tolist(a), tolist(b)
    return len(a) == len(b) and all(x == y or (x != x and y != y) for x, y in zip(a, b))


def same_history(h1, h2):
    return all(same(h1[name], h2[name]) for name in regnn.METRICS if name != "seconds")


def manual_baseline(y, split):
    n = int(math.floor(len(y) * (1 - split)))
    f = [struct.unpack("f", struct.pack("f", v))[0] for v in y]  # the float32 values held
    mu = sum(f[:n]) / n
    return sum((v - mu) ** 2 for v in f[n:]) / (len(f) - n)


class TestDiagnosis(unittest.TestCase):
    def fit(self, l2, epochs=60, **kw):
        x, y = noisy()
        with net(l2) as m, regnn.Adam(learning_rate=0.01) as o:
            m.init(seed=3)
            args = dict(FIT, epochs=epochs, eval_train=True)
            args.update(kw)
            return m.fit((x, y), o, **args)

    def test_overfitting(self):
        h = self.fit(0.0)
        d = h.diagnosis
        self.assertIsInstance(d, regnn.Diagnosis)
        self.assertEqual(d.verdict, "overfitting")
        self.assertEqual(h.verdict, "overfitting")
        self.assertIn(d.reason, ("val_rose", "large_gap"))
        self.assertIn("overfitting", repr(h))
        v = d.values
        self.assertEqual(tuple(v), regnn.DIAG_VALUES)
        self.assertEqual(v["epochs"], 60)
        self.assertIsInstance(v["best_epoch"], int)
        self.assertIsInstance(v["window"], int)
        self.assertEqual(v["window"], 12)
        self.assertEqual(v["train_metric"], "train_eval_mse")
        self.assertEqual(v["final_val_mse"], float(tolist(h.val_mse)[-1]))
        self.assertEqual(v["final_train_mse"], float(tolist(h.train_eval_mse)[-1]))
        self.assertEqual(v["best_val_mse"], min(tolist(h.val_mse)))
        self.assertGreater(v["final_gap"], 0.2)
        # The reference is the MSE of predicting the training mean on the validation rows.
        self.assertEqual(v["reference_mse"], h.baseline_mse)
        self.assertAlmostEqual(h.baseline_mse, manual_baseline(noisy()[1], 0.25), places=12)

    def test_underfitting_with_a_large_penalty(self):
        h = self.fit(10.0)
        self.assertEqual((h.diagnosis.verdict, h.diagnosis.reason), ("underfitting", "high_error"))
        self.assertGreaterEqual(h.diagnosis.values["train_level"], 0.8)

    def test_insufficient(self):
        h = self.fit(0.0, epochs=5)
        self.assertEqual((h.diagnosis.verdict, h.diagnosis.reason), ("insufficient", "too_short"))
        self.assertEqual(h.diagnosis.values["epochs"], 5)
        x, y = noisy(32)
        with net(units=4) as m:
            h = m.init(seed=1).fit((x, y), regnn.SGD(), epochs=12)  # no validation data
        self.assertIsNone(h.baseline_mse)
        self.assertEqual((h.diagnosis.verdict, h.diagnosis.reason),
                         ("insufficient", "no_validation"))
        self.assertTrue(math.isnan(h.diagnosis.values["best_val_mse"]))
        self.assertEqual(h.diagnosis.values["train_metric"], "mse")  # EVAL_TRAIN was off

    def test_validation_data_baseline(self):
        x, y = noisy()
        with net(units=8) as m:
            m.init(seed=2)
            h = m.fit((x[:90], y[:90]), regnn.Adam(), epochs=2,
                      validation_data=(x[90:], y[90:]))
        self.assertEqual(h.baseline_mse, self.fit(0.0, epochs=1).baseline_mse)  # same rows

    def test_verdict_names_are_the_librarys(self):
        for code, name in enumerate(regnn.VERDICTS):
            self.assertEqual(_capi.lib.regnn_verdict_name(code).decode(), name)
        self.assertIsNone(_capi.lib.regnn_verdict_name(len(regnn.VERDICTS)))

    def test_callback_sees_the_diagnosis(self):
        seen = []

        def stop_when_overfitting(epoch, hist):
            seen.append(hist.diagnosis.verdict)
            return hist.diagnosis.verdict == "overfitting"
        h = self.fit(0.0, epochs=200, callback=stop_when_overfitting)
        self.assertEqual(h.stop_reason, regnn.STOP_CALLBACK)
        self.assertLess(h.epochs, 200)
        self.assertEqual(seen[:9], ["insufficient"] * 9)
        self.assertEqual(seen[-1], "overfitting")
        self.assertEqual(h.verdict, "overfitting")

    def test_history_by_hand_has_no_diagnosis(self):
        h = regnn.History({name: [1.0] for name in regnn.METRICS})
        self.assertIsNone(h.diagnosis)
        self.assertIsNone(h.verdict)


class TestPath(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.res = path(test_data=TEST)

    def test_table(self):
        res = self.res
        self.assertIsInstance(res, regnn.RegularizationPath)
        self.assertEqual(res.lambdas, LAMBDAS)
        self.assertEqual((len(res), res.n_seeds, res.seeds), (3, 2, [3, 4]))
        self.assertEqual(len(res.table), 3)
        self.assertEqual(set(res.runs), set(regnn.RUN_STATS))
        for name in regnn.RUN_STATS:
            self.assertEqual(len(res.runs[name]), 6, name)
        for i, row in enumerate(res.table):
            self.assertEqual(row["lambda"], LAMBDAS[i])
            for name in regnn.RUN_STATS:
                if name in ("verdict", "reason"):
                    continue
                runs = res.runs[name][2 * i:2 * i + 2]
                self.assertAlmostEqual(row[name], sum(runs) / 2, places=12)
                self.assertEqual(row[name + "_min"], min(runs))
                self.assertEqual(row[name + "_max"], max(runs))
                sd = abs(runs[0] - runs[1]) / math.sqrt(2)
                self.assertAlmostEqual(row[name + "_sd"], sd, places=12)
                self.assertAlmostEqual(row[name + "_se"], sd / math.sqrt(2), places=12)
            self.assertEqual(row["epochs"], 40)
            self.assertEqual(row["diverged"], 0)
            self.assertTrue(0 < row["test_mse_min"] <= row["test_mse_max"] < 100)
            self.assertEqual(row["verdicts"], res.runs["verdict"][2 * i:2 * i + 2])
            self.assertEqual(sum(row["verdict_counts"].values()), 2)
            self.assertEqual(row["min"], i == res.best_index)
            self.assertEqual(row["1se"], i == res.index_1se)
        self.assertEqual(res.table[0]["verdicts"], ["overfitting"] * 2)
        self.assertEqual(res.table[2]["verdicts"], ["underfitting"] * 2)
        self.assertEqual(res.table[2]["verdict_counts"]["underfitting"], 2)
        self.assertEqual(res.runs["reason"][4:], ["high_error"] * 2)

    def test_best_lambda(self):
        res = self.res
        self.assertEqual((res.best_index, res.best_lambda), (1, 1e-2))
        self.assertIn(res.lambda_1se, (1e-2, 10.0))
        self.assertEqual(res.select(), 1)
        self.assertEqual(res.select("best_val_mse", "1se"), res.index_1se)
        final = [row["final_val_mse"] for row in res.table]
        self.assertEqual(res.select("final_val_mse"), final.index(min(final)))
        with self.assertRaises(ValueError):
            res.select("val_loss")
        with self.assertRaises(ValueError):
            res.select(rule="max")
        self.assertIn("3 lambdas x 2 seeds, best lambda 0.01", repr(res))

    def test_histories(self):
        res = self.res
        self.assertEqual(sorted(res.histories), [(i, s) for i in range(3) for s in range(2)])
        for (i, s), h in res.histories.items():
            self.assertIsInstance(h, regnn.History)
            self.assertIs(res.history(i, s), h)
            self.assertEqual(h.epochs, 40)
            self.assertEqual(h.baseline_mse, res.baseline_mse)
            self.assertEqual(h.diagnosis.verdict, res.runs["verdict"][2 * i + s])
            self.assertEqual(h.diagnosis.reason, res.runs["reason"][2 * i + s])
            v = h.diagnosis.values
            self.assertEqual(v["best_val_mse"], res.runs["best_val_mse"][2 * i + s])
            self.assertEqual(v["final_gap"], res.runs["final_gap"][2 * i + s])
            self.assertAlmostEqual(sum(tolist(h.seconds)), res.runs["seconds"][2 * i + s],
                                   places=9)
        self.assertAlmostEqual(res.baseline_mse, manual_baseline(noisy()[1], 0.25), places=12)

    def test_to_csv(self):
        text = self.res.to_csv()
        lines = text.splitlines()
        self.assertEqual(len(lines), 4)
        header = lines[0].split(",")
        self.assertEqual(header[:4], ["lambda", "best_val_mse", "best_val_mse_sd",
                                      "best_val_mse_se"])
        self.assertEqual(header[-7:], ["insufficient", "good_fit", "overfitting",
                                       "underfitting", "diverged", "min", "1se"])
        rows = [dict(zip(header, l.split(","))) for l in lines[1:]]
        self.assertEqual([float(r["lambda"]) for r in rows], LAMBDAS)
        self.assertEqual([r["min"] for r in rows], ["0", "1", "0"])
        self.assertEqual(rows[2]["underfitting"], "2")
        self.assertAlmostEqual(float(rows[1]["best_val_mse"]), self.res.table[1]["best_val_mse"],
                               places=7)
        from _support import TempDir
        with TempDir() as d:
            p = os.path.join(d, "path.csv")
            self.assertEqual(self.res.to_csv(p), text)
            with open(p) as f:
                self.assertEqual(f.read(), text)

    def test_a_run_is_the_fit_of_a_copy(self):
        # Run (lambda 1e-2, seed index 1): copy, set L2, init(seed 4), fit with a fresh Adam.
        template = net()
        res = self.res
        with template.copy() as m, regnn.Adam(learning_rate=0.01) as o:
            m.set_layers(l2=1e-2)
            m.init("glorot_uniform", seed=4)
            h = m.fit(noisy(), o, eval_train=True, **FIT)
            test_mse = m.evaluate(TEST).mse
        # The path scored the same trained network on the same rows: the same bits.
        self.assertEqual(test_mse, res.runs["test_mse"][3])
        ph = res.history(1, 1)
        self.assertTrue(same_history(h, ph))
        self.assertEqual(h.baseline_mse, res.baseline_mse)
        self.assertEqual(h.diagnosis.verdict, ph.diagnosis.verdict)
        self.assertTrue(same([v for k, v in sorted(h.diagnosis.values.items())
                              if k != "train_metric"],
                             [v for k, v in sorted(ph.diagnosis.values.items())
                              if k != "train_metric"]))

    def test_same_results_on_two_threads(self):
        res2 = path(threads=2, test_data=TEST)
        for key, h in self.res.histories.items():
            self.assertTrue(same_history(h, res2.histories[key]), key)
        for name in regnn.RUN_STATS:
            if name != "seconds":
                self.assertEqual(self.res.runs[name], res2.runs[name], name)
        self.assertEqual(self.res.best_index, res2.best_index)

    def test_test_mse(self):
        # One value per run, in RUN_STATS after the others (REGNN_RUN_TEST_MSE = 12).
        self.assertEqual(regnn.RUN_STATS[-1], "test_mse")
        self.assertEqual(regnn.RUN_STATS.index("test_mse") + 1, 12)
        runs = self.res.runs["test_mse"]
        self.assertEqual(len(runs), 6)
        self.assertTrue(all(isinstance(v, float) and 0 < v < 100 for v in runs), runs)
        # The same data as a Dataset (kept open) or as (x, y) give the same values.
        with regnn.Dataset(*TEST) as ds:
            res = path(lambdas=[1e-2], seeds=1, seed=4, test_data=ds)
            self.assertFalse(ds.closed)
        self.assertEqual(res.runs["test_mse"], [runs[3]])
        self.assertEqual(res.table[0]["test_mse"], runs[3])
        self.assertTrue(math.isnan(res.table[0]["test_mse_sd"]))  # one seed

    def test_test_mse_is_nan_without_test_data(self):
        res = path(lambdas=[0.0, 1e-2], seeds=2, epochs=5)
        self.assertEqual(len(res.runs["test_mse"]), 4)
        self.assertTrue(all(math.isnan(v) for v in res.runs["test_mse"]))
        for row in res.table:
            for agg in ("", "_sd", "_se", "_min", "_max"):
                self.assertTrue(math.isnan(row["test_mse" + agg]), agg)
            self.assertFalse(math.isnan(row["final_val_mse"]))  # only test_mse is missing
        self.assertEqual(res.best_index, res.select())

    def test_test_data_errors(self):
        with self.assertRaises(regnn.ShapeError) as cm:  # 3 features, the model takes 4
            path(lambdas=[0.0], seeds=1, epochs=1, test_data=noisy(10, nx=3))
        self.assertIn("test data", cm.exception.message)
        with self.assertRaises(TypeError):
            path(lambdas=[0.0], seeds=1, epochs=1, test_data=[1, 2, 3])
        closed = regnn.Dataset(*TEST)
        closed.close()
        with self.assertRaises(regnn.ClosedError):
            path(lambdas=[0.0], seeds=1, epochs=1, test_data=closed)

    def test_progress(self):
        calls = []

        def progress(done, total, lam, seed, history):
            calls.append((done, total, lam, seed, history))
        res = path(progress=progress)
        self.assertEqual([c[:4] for c in calls],
                         [(k + 1, 6, lam, seed) for k, (lam, seed) in
                          enumerate((l, s) for l in LAMBDAS for s in (3, 4))])
        for k, c in enumerate(calls):
            h = c[4]
            self.assertTrue(same_history(h, res.histories[(k // 2, k % 2)]))
            self.assertEqual(h.diagnosis.verdict, res.histories[(k // 2, k % 2)].verdict)
            self.assertEqual(h.baseline_mse, res.baseline_mse)
        calls.clear()
        path(threads=2, progress=progress)
        self.assertEqual([c[0] for c in calls], list(range(1, 7)))
        self.assertEqual(sorted((c[2], c[3]) for c in calls),
                         sorted((l, s) for l in LAMBDAS for s in (3, 4)))
        with self.assertRaises(TypeError):
            path(progress=42)

    def test_cancel_by_returning_true(self):
        model, calls = net(), []
        for threads in (1, 2):
            calls.clear()
            with self.assertRaises(regnn.CancelledError) as cm:
                path(model=model, threads=threads, progress=lambda *a: calls.append(a) or True)
            self.assertEqual(cm.exception.code, 9)
            self.assertEqual(len(calls), 1)
        model.init(seed=1)  # usable again: not busy any more
        self.assertEqual(model.param_count, 4 * 64 + 64 + 64 * 64 + 64 + 64 + 1)

    def test_cancel_by_an_exception(self):
        class Stop(Exception):
            pass
        data = regnn.Dataset(*noisy())
        model = net()
        for threads in (1, 2):
            def progress(done, total, lam, seed, history):
                if done == 3:
                    raise Stop(done)
            with self.assertRaises(Stop) as cm:
                path(model=model, data=data, threads=threads, progress=progress)
            self.assertEqual(cm.exception.args, (3,))
        self.assertFalse(data.closed)
        self.assertEqual(len(path(model=model, data=data, lambdas=[0.0], seeds=1)), 1)
        data.close()

    def test_template_is_read_only_during_the_path(self):
        model, errors = net(), []

        def progress(done, total, lam, seed, history):
            for action in (lambda: model.init(seed=1), model.close,
                           lambda: model.set_layers(l2=1.0)):
                try:
                    action()
                except regnn.StateError as e:
                    errors.append(e)
        path(model=model, lambdas=[0.0], seeds=1, progress=progress)
        self.assertEqual(len(errors), 3)
        self.assertEqual(model.layers[0].l2, 0.0)  # the path set lambda on copies only
        model.close()

    def test_penalties_and_layers(self):
        base = dict(lambdas=[0.0, 1e-2], seeds=1, epochs=12)
        l2 = path(**base)
        for kw in (dict(penalty="l1"), dict(penalty="weight_decay"),
                   dict(penalty=regnn.PENALTY_L2, layers=[0])):
            other = path(**dict(base, **kw))
            self.assertTrue(same_history(other.history(0), l2.history(0)), kw)
            self.assertFalse(same_history(other.history(1), l2.history(1)), kw)
        self.assertTrue(same_history(path(**dict(base, penalty="l2", layers=[0, 1, 2])).history(1),
                                     l2.history(1)))
        he = path(**dict(base, init="he_uniform"))
        self.assertFalse(same_history(he.history(0), l2.history(0)))

    def test_diverged_runs_are_recorded(self):
        histories = []
        res = path(lambdas=[0.0, 1e30], epochs=12, progress=lambda *a: histories.append(a[4]))
        self.assertEqual(res.runs["verdict"][2:], ["diverged"] * 2)
        self.assertEqual(res.runs["reason"][2:], ["diverged"] * 2)
        self.assertEqual(res.runs["diverged"], [0.0, 0.0, 1.0, 1.0])
        self.assertTrue(math.isnan(res.runs["best_val_mse"][2]))
        self.assertIsNone(res.history(1, 0))
        self.assertIsNone(histories[2])
        row = res.table[1]
        self.assertTrue(math.isnan(row["best_val_mse"]) and math.isnan(row["final_gap_sd"]))
        self.assertEqual(row["diverged"], 1.0)
        self.assertEqual(row["verdict_counts"]["diverged"], 2)
        self.assertEqual((res.best_index, res.index_1se), (0, 0))
        self.assertIn(",nan,", res.to_csv().splitlines()[2])
        only = path(lambdas=[1e30], seeds=1, epochs=12)
        self.assertEqual((only.best_index, only.best_lambda, only.lambda_1se), (None, None, None))
        self.assertIsNone(only.select("final_val_mse", "1se"))

    def test_bad_arguments(self):
        model = net()
        bad = (
            (regnn.InvalidArgumentError, dict(lambdas=[])),
            (regnn.InvalidArgumentError, dict(lambdas=[1e-3, -1.0])),
            (regnn.InvalidArgumentError, dict(lambdas=[float("nan")])),
            (regnn.InvalidArgumentError, dict(lambdas=[float("inf")])),
            (TypeError, dict(lambdas=["0.1"])),
            (TypeError, dict(lambdas="0.1")),
            (regnn.InvalidArgumentError, dict(validation_split=0.0)),
            (regnn.InvalidArgumentError, dict(validation_data=noisy(10))),  # and a split
            (regnn.UnsupportedError, dict(penalty="l3")),
            (regnn.InvalidArgumentError, dict(penalty="weight_decay", layers=[0])),
            (regnn.InvalidArgumentError, dict(layers=[3])),
            (regnn.InvalidArgumentError, dict(layers=[-1])),
            (regnn.InvalidArgumentError, dict(seeds=0)),
            (regnn.InvalidArgumentError, dict(seed=-1)),
            (regnn.InvalidArgumentError, dict(threads=257)),
            (regnn.InvalidArgumentError, dict(epochs=0)),
            (regnn.StateError, dict(model=regnn.Model(4))),
            (regnn.ShapeError, dict(model=regnn.Model(3, [regnn.Dense(1)]))),
            (TypeError, dict(model="net")),
            (TypeError, dict(optimizer="adam")),
            (TypeError, dict(data=[1, 2, 3])),
        )
        for exc, kw in bad:
            kw.setdefault("model", model)
            with self.assertRaises(exc, msg=repr(kw)) as cm:
                path(**kw)
            if isinstance(cm.exception, regnn.Error):
                self.assertTrue(cm.exception.message, kw)
        with self.assertRaises(regnn.InvalidArgumentError) as cm:
            path(model=model, lambdas=[0.0, -2.0])
        self.assertIn("lambda[1]", cm.exception.message)
        closed = net()
        closed.close()
        with self.assertRaises(regnn.ClosedError):
            path(model=closed)
        self.assertEqual(len(path(model=model, lambdas=[0.0], seeds=1, epochs=1)), 1)

    def test_histories_outlive_the_library_memory(self):
        def make():
            with regnn.Dataset(*noisy()) as ds, net() as m:
                return path(model=m, data=ds, lambdas=[0.0, 1.0], seeds=1, epochs=12)
        res = make()
        gc.collect()
        h = res.history(1)
        self.assertFalse(any(isinstance(v, _capi.ctypes.c_void_p) for v in vars(h).values()))
        self.assertEqual(h.epochs, 12)
        self.assertEqual(len(h.to_csv().splitlines()), 13)
        self.assertIn(h.diagnosis.verdict, regnn.VERDICTS)
        self.assertEqual(len(res.to_csv().splitlines()), 3)
        self.assertEqual(type(res.runs["best_val_mse"][0]), float)

    def test_types_without_numpy(self):
        h = self.res.history(0, 0)
        if NO_NUMPY:
            self.assertIs(type(h.val_mse), list)
        self.assertIs(type(self.res.lambdas), list)
        self.assertIs(type(self.res.table[0]["best_val_mse"]), float)


# Runs in a fresh interpreter: the allocator hook must come before the first allocation.
ACCOUNTING = r'''
import ctypes, gc, sys
sys.path.insert(0, %(tests)r)
import _support
from _support import regnn
from regnn import _capi
from test_path import noisy, net
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.restype, libc.free.argtypes = None, [ctypes.c_void_p]
live, bad, state = {}, [], {"fail": False}

@_capi.MALLOC_FN
def my_malloc(user, size):
    if state["fail"]:
        return None
    p = libc.malloc(size)
    live[p] = size
    return p

@_capi.FREE_FN
def my_free(user, p):
    if live.pop(p, None) is None:
        bad.append(p)
        return
    libc.free(p)

assert _capi.lib.regnn_set_allocator(my_malloc, my_free, None) == 0
regnn.set_blas_threads(1)
ds, m = regnn.Dataset(*noisy(), copy=True), net()
before = len(live)
kw = dict(epochs=12, batch_size=8, validation_split=0.25, seeds=2, threads=2)
res = regnn.regularization_path(m, ds, [0.0, 1.0], test_data=noisy(30, seed=5), **kw)
assert len(live) == before, ("path memory not freed", len(live) - before)
assert res.runs["test_mse"][0] == res.runs["test_mse"][0]  # scored, not NaN
try:
    regnn.regularization_path(m, ds, [0.0], test_data=noisy(10, nx=3), **kw)
except regnn.ShapeError:
    pass
assert len(live) == before, ("refused test data leaked", len(live) - before)
for progress in (lambda *a: True, lambda *a: 1 / 0):
    try:
        regnn.regularization_path(m, ds, [0.0, 1.0], progress=progress, **kw)
    except (regnn.CancelledError, ZeroDivisionError):
        pass
    assert len(live) == before, ("cancelled path leaked", len(live) - before)
try:
    regnn.regularization_path(m, ds, [0.0], penalty="weight_decay", layers=[0], **kw)
except regnn.InvalidArgumentError:
    pass
state["fail"] = True
try:
    regnn.regularization_path(m, ds, [0.0], **kw)
except regnn.OutOfMemoryError:
    pass
else:
    raise AssertionError("no OutOfMemoryError")
state["fail"] = False
assert len(live) == before, ("failed path leaked", len(live) - before)
assert res.history(1, 1).epochs == 12
ds.close(); m.close()
gc.collect()
assert not live and not bad, (len(live), len(bad))
print("path accounting ok")
'''


class TestEvalTrain(unittest.TestCase):
    """eval_train=False: the same training, no end-of-epoch pass over the training rows."""

    def test_eval_train_off(self):
        on, off = path(epochs=4), path(epochs=4, eval_train=False)
        self.assertTrue(same(on.runs["final_val_mse"], off.runs["final_val_mse"]))
        for li in range(len(LAMBDAS)):
            h_on, h_off = on.history(li, 1), off.history(li, 1)
            self.assertTrue(all(v != v for v in tolist(h_off["train_eval_mse"])))
            self.assertTrue(all(v == v for v in tolist(h_on["train_eval_mse"])))
            self.assertTrue(same(h_on["mse"], h_off["mse"]))
        r_off, r_on = off.runs["final_train_mse"], on.runs["final_train_mse"]
        self.assertEqual(r_off[1], tolist(off.history(0, 1)["mse"])[-1])
        self.assertEqual(r_on[1], tolist(on.history(0, 1)["train_eval_mse"])[-1])
        self.assertNotEqual(r_off[1], r_on[1])


class TestFolds(unittest.TestCase):
    """folds=k: cv.glmnet's choice of lambda (regnn_path_* with REGNN_PATH_FOLDS)."""

    def test_folds_runs_and_summaries(self):
        p = path(folds=3, fold_seed=5, validation_split=0.0, data=noisy(100), epochs=8)
        self.assertEqual(p.n_folds, 3)
        self.assertEqual(len(p.folds), 100)
        sizes = [p.folds.count(f) for f in range(3)]
        self.assertEqual(sorted(sizes), [33, 33, 34])
        nl, k, ns = len(LAMBDAS), 3, 2
        self.assertEqual(len(p.runs["final_val_mse"]), nl * k * ns)
        for i, row in enumerate(p.table):
            r = p.runs["final_val_mse"]
            e = [(r[(i * k + f) * ns] + r[(i * k + f) * ns + 1]) / 2 for f in range(k)]
            cvm = sum(sizes[f] * e[f] for f in range(k)) / 100
            cvsd = math.sqrt(sum(sizes[f] * (e[f] - cvm) ** 2 for f in range(k)) / 100 / (k - 1))
            self.assertAlmostEqual(row["final_val_mse"], cvm, places=12)
            self.assertAlmostEqual(row["final_val_mse_se"], cvsd, places=12)
            self.assertEqual(len(row["verdicts"]), k * ns)
        means = [row["final_val_mse"] for row in p.table]
        self.assertEqual(p.select("final_val_mse", "min"), means.index(min(means)))
        self.assertIsNotNone(p.history(1, seed_index=1, fold=2))
        self.assertIs(p.history(1, 1, 2), p.histories[(1, 2 * ns + 1)])
        with self.assertRaises(IndexError):
            p.history(0, 0, fold=3)
        self.assertIn("3 folds", repr(p))
        # The same folds and results on two threads; another fold seed, other folds.
        p2 = path(folds=3, fold_seed=5, validation_split=0.0, data=noisy(100), epochs=8,
                  threads=2)
        self.assertEqual(p2.folds, p.folds)
        self.assertTrue(same(p2.runs["final_val_mse"], p.runs["final_val_mse"]))
        p3 = path(folds=3, fold_seed=6, validation_split=0.0, data=noisy(100), epochs=1,
                  seeds=1)
        self.assertNotEqual(p3.folds, p.folds)

    def test_without_folds(self):
        p = path()
        self.assertEqual(p.n_folds, 1)
        self.assertIsNone(p.folds)

    def test_bad_combinations(self):
        with self.assertRaises(regnn.InvalidArgumentError) as cm:
            path(folds=3)  # FIT has a validation split
        self.assertIn("REGNN_PATH_FOLDS 3", str(cm.exception))
        with self.assertRaises(regnn.InvalidArgumentError):
            path(folds=3, validation_split=0.0, validation_data=noisy(20))
        with self.assertRaises(regnn.InvalidArgumentError):
            path(folds=121, validation_split=0.0)
        with self.assertRaises((ValueError, regnn.InvalidArgumentError)):
            path(folds=-1, validation_split=0.0)

    def test_refit(self):
        data = noisy(60)
        kw = dict(optimizer=regnn.Adam(learning_rate=0.01), epochs=4, batch_size=8, seed=3)
        m1, h1 = regnn.refit(net(), data, 1e-2, **kw)
        m2, h2 = regnn.refit(net(), data, 1e-2, **kw)
        self.assertIsInstance(m1, regnn.Model)
        self.assertEqual(len(h1["loss"]), 4)
        self.assertTrue(same_history(h1, h2))
        x = [row for row in TEST[0]]
        self.assertTrue(same(tolist(m1.predict(x)), tolist(m2.predict(x))))
        # lambda lands on every layer's L2; another lambda trains another model.
        self.assertTrue(all(layer.l2 == 1e-2 for layer in m1.layers))
        m3, _ = regnn.refit(net(), data, 0.0, **kw)
        self.assertFalse(same(tolist(m1.predict(x)), tolist(m3.predict(x))))
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.refit(net(), data, -1.0, **kw)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.refit(net(), data, 0.0, early_stopping=True, monitor="val_loss", **kw)


class TestPathMemory(unittest.TestCase):
    def test_every_block_freed(self):
        code = ACCOUNTING % {"tests": os.path.dirname(os.path.abspath(__file__))}
        r = run_python(code, env={"REGNN_TEST_NO_NUMPY": "1" if NO_NUMPY else "0"})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("path accounting ok", r.stdout)


if __name__ == "__main__":
    unittest.main()
