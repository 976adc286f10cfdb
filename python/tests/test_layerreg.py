# SPDX-License-Identifier: MIT
"""Keras's bias_regularizer, activity_regularizer and kernel constraints as layer settings
(Dense keywords, Layer properties, set_layers), their bounds from the options table, their
effect on a training step against the formula, and the regularization path's new kinds."""

import math
import unittest

from _support import flat, regnn

EXTRA = ("bias_l2", "bias_l1", "activity_l2", "activity_l1", "max_norm", "min_norm",
         "norm_rate", "non_neg", "unit_norm")


def data(rows=24, seed=3):
    xs, ys = [], []
    for i in range(rows):
        a, b, c = math.sin(i + seed), math.cos(2 * i), (i % 5) / 5.0
        xs.append([a, b, c])
        ys.append([a * b + c])
    return xs, ys


class TestLayerSettings(unittest.TestCase):
    def test_defaults_and_round_trip(self):
        m = regnn.Model(3, [regnn.Dense(4, "relu", bias_l2=0.5, activity_l1=0.25, max_norm=2.0,
                                        min_norm=0.5, norm_rate=0.75),
                            regnn.Dense(1, unit_norm=1)])
        l0, l1 = m.layers
        self.assertEqual((l0.bias_l2, l0.activity_l1, l0.max_norm, l0.min_norm, l0.norm_rate),
                         (0.5, 0.25, 2.0, 0.5, 0.75))
        self.assertEqual((l1.unit_norm, l1.bias_l2, l1.max_norm, l1.norm_rate), (1.0, 0.0, 0.0, 1.0))
        m.init("glorot_uniform", 1)
        back = regnn.Model.from_bytes(m.to_bytes()) if hasattr(regnn.Model, "from_bytes") else None
        if back is not None:
            for name in EXTRA:
                self.assertEqual(getattr(back.layers[0], name), getattr(l0, name), name)

    def test_bad_values_refused(self):
        with self.assertRaises(ValueError):
            regnn.Dense(4, bias_l2=-1.0)
        with self.assertRaises(ValueError):
            regnn.Dense(4, norm_rate=1.5)
        with self.assertRaises(TypeError):
            regnn.Dense(4, bias_l3=1.0)
        m = regnn.Model(3, [regnn.Dense(4, non_neg=1), regnn.Dense(1)])
        with self.assertRaises(regnn.Error):
            m.layers[0].max_norm = 2.0  # one kernel constraint per layer
        with self.assertRaises(regnn.Error):
            m.set_layers(activity_l2=float("nan"))
        self.assertEqual(m.layers[0].max_norm, 0.0)

    def test_max_norm_after_step(self):
        """One SGD step with MaxNorm(0.5) equals the free step followed by the formula."""
        xs, ys = data()
        free = regnn.Model(3, [regnn.Dense(5, "tanh"), regnn.Dense(1)]).init("glorot_uniform", 7)
        con = free.copy()
        con.layers[0].max_norm = 0.5
        opt_f, opt_c = regnn.SGD(learning_rate=0.1), regnn.SGD(learning_rate=0.1)
        free.train_batch(opt_f, xs, ys)
        con.train_batch(opt_c, xs, ys)
        w = flat(free.layers[0].get_params())
        got = flat(con.layers[0].get_params())
        ni, nu = 3, 5
        changed = False
        for j in range(nu):
            norm = math.sqrt(sum(w[i * nu + j] ** 2 for i in range(ni)))
            f = min(norm, 0.5) / (1e-7 + norm)
            for i in range(ni):
                self.assertAlmostEqual(got[i * nu + j], w[i * nu + j] * f, places=6)
                changed |= got[i * nu + j] != w[i * nu + j]
        self.assertTrue(changed)
        self.assertEqual(got[ni * nu:], w[ni * nu:])  # the bias is not constrained


class TestPathKinds(unittest.TestCase):
    def test_penalty_names(self):
        self.assertEqual((regnn.PENALTY_DROPOUT, regnn.PENALTY_MAX_NORM, regnn.PENALTY_ACTIVITY_L2,
                          regnn.PENALTY_BIAS_L2), (3, 4, 5, 6))

    def test_dropout_path(self):
        xs, ys = data(40)
        m = regnn.Model(3, [regnn.Dense(8, "relu"), regnn.Dense(1)])
        p = regnn.regularization_path(m, (xs, ys), [0.0, 0.5], validation_split=0.25, epochs=2,
                                      penalty="dropout")
        self.assertEqual(list(p.lambdas), [0.0, 0.5])
        with self.assertRaises(regnn.Error):
            regnn.regularization_path(m, (xs, ys), [1.0], validation_split=0.25, epochs=1,
                                      penalty="dropout")


if __name__ == "__main__":
    unittest.main()
