# SPDX-License-Identifier: MIT
"""The binding gives bit-for-bit the results of the C API for the same calls and seeds.

python/tests/c_reference.c runs a fixed sequence of C calls and prints every
result in hex-float form; this test makes the same calls through the binding
(from plain lists, so it also runs without numpy) and compares exactly.
"""

import math
import unittest

from _support import bits, c_reference, flat, make_data, regnn


def parse(tok):
    if tok.lstrip("-") == "nan":
        return math.nan
    return float.fromhex(tok)


class TestMatchesC(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ref = c_reference()
        x, y = make_data()
        cls.x, cls.y = x, y

    def assertSame(self, name, values, float32=True):
        want = [parse(t) for t in self.ref[name]]
        got = [float(v) for v in values]
        self.assertEqual(len(got), len(want), name)
        for i, (g, w) in enumerate(zip(got, want)):
            if math.isnan(w):
                self.assertTrue(math.isnan(g), "%s[%d]: %r, C has nan" % (name, i, g))
            elif float32:
                self.assertEqual(bits(g), bits(w), "%s[%d]: %r != C %r" % (name, i, g, w))
            else:
                self.assertEqual(g.hex(), w.hex(), "%s[%d]: %r != C %r" % (name, i, g, w))

    def test_adam_fit(self):
        with regnn.Dataset(self.x, self.y, copy=True) as ds:
            m = regnn.Model(4)
            l0 = m.add_dense(8, "relu")
            l1 = m.add_dense(6, "tanh")
            m.add_dense(1, "linear")
            l0.l2 = 1e-3
            l1.l1 = 1e-4
            l1.dropout = 0.25
            m.init(regnn.INIT_GLOROT_UNIFORM, 1234)
            self.assertSame("adam.init", flat(m.get_params()))
            o = regnn.Adam(learning_rate=0.01)
            h = m.fit(ds, o, epochs=6, batch_size=10, eval_train=True, validation_split=0.25)
            self.assertSame("adam.params", flat(m.get_params()))
            for name in ("loss", "mse", "penalty", "mae", "val_loss", "val_mse", "val_mae",
                         "train_eval_mse"):
                self.assertSame("adam." + name, h[name], float32=False)
            self.assertEqual(h.best_epoch, int(self.ref["adam.best_epoch"][0]))
            self.assertEqual(h.stop_reason, int(self.ref["adam.stop_reason"][0]))
            self.assertEqual(o.steps, int(self.ref["adam.steps"][0]))
            self.assertSame("adam.state_v", flat(o.get_state("v")))
            self.assertSame("adam.predict", flat(m.predict(self.x[:5])))
            ev = m.evaluate(ds)
            self.assertSame("adam.evaluate", [ev.mse, ev.mae, ev.penalty], float32=False)
            m.close()
            o.close()

    def test_sgd_train_batch(self):
        m = regnn.Model(4, [regnn.Dense(5, "sigmoid"), regnn.Dense(1, "linear")])
        m.set_layers(l2=0.01)
        m.init("he_uniform", 7)
        o = regnn.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)
        losses = [m.train_batch(o, self.x[16 * b:16 * b + 16], self.y[16 * b:16 * b + 16])
                  for b in range(3)]
        self.assertSame("sgd.losses", losses, float32=False)
        self.assertSame("sgd.params", flat(m.get_params()))

    def test_split_and_scaler(self):
        with regnn.Dataset(self.x, self.y) as ds:
            tr, te = ds.split_shuffled(0.25, seed=99)
            self.assertSame("split.test_x", flat(te.features()))
            self.assertSame("split.train_y", flat(tr.targets()))
            scaled, sc = ds.standardize(regnn.SCALE_UNIT_NORM, "zscore")
            self.assertSame("scaler.feature_scale", sc.feature_scale, float32=False)
            self.assertSame("scaler.target_mean", sc.target_mean, float32=False)
            self.assertSame("scaler.x", flat(scaled.features()))
            self.assertSame("scaler.y", flat(scaled.targets()))


if __name__ == "__main__":
    unittest.main()
