# SPDX-License-Identifier: MIT
"""Losses (compile / set_loss, saved with the model) and sample weights (datasets, fit,
train_batch, evaluate) with Keras semantics."""

import math
import unittest

from _support import flat, make_data, needs_numpy, np, regnn


def model(seed=3):
    return regnn.Model(4, [regnn.Dense(6, "tanh"), regnn.Dense(1)]).init(seed=seed)


def line():
    """One input, one output: prediction = 2 x + 0.5."""
    m = regnn.Model(1, [regnn.Dense(1)])
    m.set_params([2.0, 0.5])
    return m


# d = -0.5, 1.5, 3.5 for these rows; weights 2, 0, 0.5
X, Y, W = [0.0, 1.0, 2.0], [1.0, 1.0, 1.0], [2.0, 0.0, 0.5]
D = [2 * x + 0.5 - y for x, y in zip(X, Y)]


def keras_loss(kind, delta=1.0):
    """Keras: sum_i w_i loss_i / rows (SUM_OVER_BATCH_SIZE)."""
    def f(d):
        a = abs(d)
        return {"mse": d * d, "mae": a,
                "huber": 0.5 * d * d if a <= delta else delta * a - 0.5 * delta * delta,
                "log_cosh": math.log(math.cosh(d))}[kind]
    return sum(w * f(d) for w, d in zip(W, D)) / len(D)


class TestLoss(unittest.TestCase):
    def test_names_and_errors(self):
        with model() as m:
            self.assertEqual(m.loss, "mse")
            self.assertIsNone(m.huber_delta)
            for name, canon in (("mean_absolute_error", "mae"), ("logcosh", "log_cosh"),
                                ("MSE", "mse"), ("log_cosh", "log_cosh")):
                self.assertIs(m.set_loss(name), m)
                self.assertEqual(m.loss, canon)
            m.compile("sgd", loss="huber")
            self.assertEqual((m.loss, m.huber_delta), ("huber", 1.0))  # Keras' default delta
            m.compile("adam", loss=regnn.Huber(delta=2.5))
            self.assertEqual(m.huber_delta, 2.5)
            m.compile("adam", loss="huber", delta=0.25)
            self.assertEqual(m.huber_delta, 0.25)
            with self.assertRaises(regnn.InvalidArgumentError) as cm:
                m.set_loss("huber", delta=0)
            self.assertIn("the Huber delta): REGNN_LOSS_HUBER must be finite and > 0", cm.exception.message)
            with self.assertRaises(regnn.InvalidArgumentError):
                m.set_loss("huber", delta=float("nan"))
            with self.assertRaises(regnn.InvalidArgumentError):
                m.set_loss("mae", delta=1.0)
            with self.assertRaises(regnn.UnsupportedError):
                m.set_loss("hinge")
            with self.assertRaises(TypeError):
                m.set_loss(3)
            with self.assertRaises(TypeError):
                m.set_loss(regnn.Huber(1.0), delta=2.0)
            self.assertEqual((m.loss, m.huber_delta), ("huber", 0.25))  # failures changed nothing

    def test_saved_and_copied(self):
        with model() as m:
            m.set_loss("huber", 0.75)
            with regnn.Model.from_bytes(m.to_bytes()) as l, m.copy() as c:
                self.assertEqual((l.loss, l.huber_delta), ("huber", 0.75))
                self.assertEqual((c.loss, c.huber_delta), ("huber", 0.75))

    def test_hand_computation(self):
        for kind in ("mse", "mae", "huber", "log_cosh"):
            with line() as m, regnn.Dataset(X, Y, sample_weight=W) as ds:
                m.set_loss(kind)
                ev = m.evaluate(ds)
                self.assertAlmostEqual(ev.loss, keras_loss(kind), places=12)
                # Weighted metrics divide by the weight sum (Keras weighted_metrics).
                self.assertAlmostEqual(ev.mse, sum(w * d * d for w, d in zip(W, D)) / 2.5, 12)
                self.assertAlmostEqual(ev.mae, sum(w * abs(d) for w, d in zip(W, D)) / 2.5, 12)
                self.assertEqual(m.evaluate((X, Y), sample_weight=W), ev)
                self.assertEqual(m.evaluate((X, Y, W)), ev)
                with regnn.SGD() as o:
                    loss = m.train_batch(o, [[v] for v in X], Y, sample_weight=W)
                self.assertAlmostEqual(loss, keras_loss(kind), places=6)

    def test_fit_with_weights(self):
        x, y = make_data(40)
        w = [0.5 + (i % 3) for i in range(40)]
        with model() as a, model() as b:
            a.compile("adam", loss="log_cosh")
            b.compile("adam", loss="log_cosh")
            ha = a.fit(x, y, sample_weight=w, epochs=3, batch_size=8, validation_split=0.25)
            with regnn.Dataset(x, y, sample_weight=w) as ds:
                hb = b.fit(ds, epochs=3, batch_size=8, validation_split=0.25)
            for k in ("loss", "mse", "mae", "penalty", "val_loss", "val_mse", "val_mae"):
                self.assertEqual(ha.history[k], hb.history[k], k)
            self.assertEqual(flat(a.get_params()), flat(b.get_params()))
            # val_loss is the weighted loss of the validation tail plus the penalty.
            with regnn.Dataset(x, y, sample_weight=w) as ds:
                _, va = ds.split_tail(0.25)
                with va:
                    self.assertAlmostEqual(ha.history["val_loss"][-1], a.evaluate(va).loss, 12)

    def test_all_ones_equal_unweighted(self):
        x, y = make_data(30)
        with model() as a, model() as b:
            a.set_loss("huber", 0.5)
            b.set_loss("huber", 0.5)
            ha = a.fit(x, y, epochs=2, batch_size=7, validation_split=0.2)
            hb = b.fit(x, y, sample_weight=[1.0] * 30, epochs=2, batch_size=7,
                       validation_split=0.2)
            for k in ("loss", "mse", "mae", "val_loss", "val_mse", "val_mae"):
                self.assertEqual(ha.history[k], hb.history[k], k)
            self.assertEqual(flat(a.get_params()), flat(b.get_params()))

    def test_bad_weights(self):
        x, y = make_data(10)
        with regnn.Dataset(x, y) as ds, model() as m:
            self.assertIsNone(ds.sample_weight)
            self.assertFalse(ds.has_sample_weight)
            with self.assertRaises(regnn.InvalidArgumentError) as cm:
                ds.sample_weight = [1.0] * 9 + [-1.0]
            self.assertIn("weight 9 is -1", cm.exception.message)
            with self.assertRaises(regnn.InvalidArgumentError):
                ds.sample_weight = [float("nan")] * 10
            with self.assertRaises(regnn.ShapeError):
                ds.sample_weight = [1.0] * 9
            self.assertIsNone(ds.sample_weight)
            with self.assertRaises(regnn.InvalidArgumentError) as cm:
                m.fit(x, y, sample_weight=[0.0] * 10)
            self.assertIn("all 0", cm.exception.message)
            with self.assertRaises(TypeError):
                m.fit(ds, sample_weight=[1.0] * 10)
            with regnn.Adam() as o, self.assertRaises(regnn.InvalidArgumentError):
                m.train_batch(o, x, y, sample_weight=[1.0] * 9 + [float("inf")])
            with regnn.Adam() as o, self.assertRaises(regnn.ShapeError):
                m.train_batch(o, x, y, sample_weight=[1.0] * 3)

    def test_weight_column_and_derived_datasets(self):
        text = "a,w,b,y\n1,0.5,2,3\n4,2,5,6\n7,0,8,9\n-1,1.5,0.5,2\n"
        with regnn.Dataset.parse_csv(text, "y", weight="w") as ds:
            self.assertEqual(ds.feature_names, ("a", "b"))
            self.assertEqual(flat(ds.sample_weight), [0.5, 2.0, 0.0, 1.5])
            with ds.select([3, 1]) as s:
                self.assertEqual(flat(s.sample_weight), [1.5, 2.0])
            scaled, sc = ds.standardize()
            with scaled, sc:
                self.assertEqual(flat(scaled.sample_weight), [0.5, 2.0, 0.0, 1.5])
            ds.sample_weight = None
            self.assertIsNone(ds.sample_weight)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Dataset.parse_csv(text, "y", weight="nope")

    @needs_numpy
    def test_numpy_weights(self):
        x, y = make_data(12)
        w = np.linspace(0.0, 2.0, 12)
        with regnn.Dataset(np.asarray(x, dtype=np.float32), y, sample_weight=w) as ds:
            got = ds.sample_weight
            self.assertEqual(got.dtype, np.float32)
            self.assertEqual(got.shape, (12,))
            np.testing.assert_array_equal(got, w.astype(np.float32))


if __name__ == "__main__":
    unittest.main()
