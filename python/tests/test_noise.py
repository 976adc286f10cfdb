# SPDX-License-Identifier: MIT
"""GaussianNoise, GaussianDropout and LayerNormalization: specs and methods, types, inference
(the identity; LayerNormalization's formula), training (same bits on 1 and 3 threads), bad
values, files and pickles."""

import math
import pickle
import unittest

from _support import flat, make_data, regnn


def noisy(spec=None, seed=3):
    layers = [regnn.Dense(8, "tanh")] + ([spec] if spec is not None else []) + [regnn.Dense(1)]
    return regnn.Model(4, layers).init("glorot_uniform", seed)


class TestNoiseLayers(unittest.TestCase):
    def test_specs_methods_and_types(self):
        m = regnn.Model(4)
        m.add_dense(8, "relu")
        g = m.add_gaussian_noise(0.25)
        d = m.add(regnn.GaussianDropout(0.2))
        m.add(regnn.Dense(1))
        self.assertEqual([l.type for l in m.layers],
                         ["dense", "gaussian_noise", "gaussian_dropout", "dense"])
        self.assertEqual((g.noise, d.noise, m.layers[0].noise), (0.25, 0.2, 0.0))
        self.assertEqual((g.inputs, g.units, g.param_count), (8, 8, 0))
        self.assertEqual(m.param_count, 4 * 8 + 8 + 8 + 1)
        self.assertIn("GaussianNoise(0.25)", repr(g))
        self.assertEqual(repr(regnn.GaussianDropout(0.5)), "GaussianDropout(0.5)")
        with self.assertRaises(regnn.UnsupportedError):
            g.l2 = 0.1

    def test_bad_values(self):
        m = regnn.Model(4)
        for bad in (-0.1, 1.5, float("nan")):
            with self.assertRaisesRegex(regnn.InvalidArgumentError, r"stddev must be in \[0, 1\]"):
                m.add_gaussian_noise(bad)
        for bad in (1.0, -1e-9):
            with self.assertRaisesRegex(regnn.InvalidArgumentError, r"rate must be in \[0, 1\)"):
                m.add(regnn.GaussianDropout(bad))
        self.assertEqual(len(m), 0)
        m.add(regnn.GaussianNoise(0.1))
        with self.assertRaises(regnn.StateError):
            m.init()  # noise layers only: no parameters

    def test_inference_is_identity(self):
        x, _ = make_data(16)
        ref = flat(noisy().predict(x))
        for spec in (regnn.GaussianNoise(0.5), regnn.GaussianDropout(0.5)):
            self.assertEqual(flat(noisy(spec).predict(x)), ref)

    def test_training_same_bits_any_threads_and_noise_matters(self):
        x, y = make_data(96)
        got = {}
        for threads in (1, 3):
            for spec in (None, regnn.GaussianNoise(0.3), regnn.GaussianDropout(0.3)):
                m = noisy(spec)
                m.threads = threads
                m.fit((x, y), regnn.Adam(), epochs=2, batch_size=64)
                got[threads, repr(spec)] = flat(m.get_params())
        for spec in ("None", "GaussianNoise(0.3)", "GaussianDropout(0.3)"):
            self.assertEqual(got[1, spec], got[3, spec], spec)
        self.assertNotEqual(got[1, "None"], got[1, "GaussianNoise(0.3)"])
        self.assertNotEqual(got[1, "None"], got[1, "GaussianDropout(0.3)"])

    def test_bytes_and_pickle_round_trip(self):
        m = noisy(regnn.GaussianDropout(0.4))
        back = regnn.Model.load(m.to_bytes())
        self.assertEqual([l.type for l in back.layers], [l.type for l in m.layers])
        self.assertEqual(back.layers[1].noise, 0.4)
        self.assertEqual(back.to_bytes(), m.to_bytes())
        fresh = regnn.Model(4, [regnn.GaussianNoise(0.2), regnn.Dense(2)])  # no parameters yet
        copy = pickle.loads(pickle.dumps(fresh))
        self.assertEqual([(l.type, l.noise) for l in copy.layers],
                         [("gaussian_noise", 0.2), ("dense", 0.0)])


class TestLayerNormalization(unittest.TestCase):
    def test_formula_and_parameters(self):
        m = regnn.Model(4, [regnn.LayerNormalization(0.01), regnn.Dense(1)]).init(seed=2)
        ln = m.layers[0]
        self.assertEqual((ln.type, ln.noise, ln.param_count), ("layer_normalization", 0.01, 8))
        self.assertEqual(flat(ln.get_params()), [1.0] * 4 + [0.0] * 4)
        ln.set_params([0.5, 1.0, 1.5, 2.0, 0.25, -0.25, 0.0, 1.0])
        x, _ = make_data(8)
        p = flat(m.get_params())
        g, b, w, c = p[:4], p[4:8], p[8:12], p[12]
        for row, got in zip(x, flat(m.predict(x))):
            mean = sum(row) / 4
            var = sum((v - mean) ** 2 for v in row) / 4
            h = [g[k] * (row[k] - mean) / math.sqrt(var + 0.01) + b[k] for k in range(4)]
            self.assertAlmostEqual(got, sum(h[k] * w[k] for k in range(4)) + c, places=5)
        with self.assertRaisesRegex(regnn.InvalidArgumentError, "epsilon must be finite and > 0"):
            regnn.Model(4).add_layer_normalization(0.0)

    def test_training_same_bits_and_round_trips(self):
        x, y = make_data(96)
        got = []
        for threads in (1, 3):
            m = regnn.Model(4, [regnn.Dense(8, "relu"), regnn.LayerNormalization(),
                                regnn.Dense(1)]).init(seed=5)
            m.threads = threads
            m.fit((x, y), regnn.Adam(), epochs=2, batch_size=64)
            got.append(flat(m.get_params()))
        self.assertEqual(got[0], got[1])
        self.assertNotEqual(got[0][8 * 4 + 8:8 * 4 + 16], [1.0] * 8)  # gamma trained
        back = regnn.Model.load(m.to_bytes())
        self.assertEqual(back.to_bytes(), m.to_bytes())
        self.assertEqual(flat(back.predict(x)), flat(m.predict(x)))
        fresh = pickle.loads(pickle.dumps(regnn.Model(4, [regnn.LayerNormalization(0.5),
                                                          regnn.Dense(1)])))
        self.assertEqual((fresh.layers[0].type, fresh.layers[0].noise),
                         ("layer_normalization", 0.5))


class TestBatchNormalization(unittest.TestCase):
    def test_defaults_training_and_inference(self):
        x, y = make_data(64)
        got = []
        for threads in (1, 3):
            m = regnn.Model(4, [regnn.BatchNormalization(), regnn.Dense(1)]).init(seed=3)
            bn = m.layers[0]
            self.assertEqual((bn.type, bn.momentum, bn.noise), ("batch_normalization", 0.99, 1e-3))
            self.assertEqual(flat(bn.moving_mean), [0.0] * 4)
            self.assertEqual(flat(bn.moving_variance), [1.0] * 4)
            m.threads = threads
            m.fit((x, y), regnn.SGD(), epochs=1, batch_size=64, shuffle=False)
            got.append((flat(m.get_params()), flat(bn.moving_mean), flat(bn.moving_variance)))
        self.assertEqual(got[0], got[1])
        params, mean, var = got[0]
        for k in range(4):  # one step: moving = 0.99 * start + 0.01 * batch statistic
            col = [r[k] for r in x]
            mu = sum(col) / 64
            self.assertAlmostEqual(mean[k], 0.01 * mu, places=6)
            self.assertAlmostEqual(var[k], 0.99 + 0.01 * sum((v - mu) ** 2 for v in col) / 64,
                                   places=5)
        g, b, w, c = params[:4], params[4:8], params[8:12], params[12]
        row = x[0]
        want = sum((g[k] * (row[k] - mean[k]) / math.sqrt(var[k] + 1e-3) + b[k]) * w[k]
                   for k in range(4)) + c
        self.assertAlmostEqual(flat(m.predict([row]))[0], want, places=5)
        back = regnn.Model.load(m.to_bytes())
        self.assertEqual(flat(back.layers[0].moving_variance), var)
        fresh = pickle.loads(pickle.dumps(regnn.Model(4, [regnn.BatchNormalization(0.9, 0.01),
                                                          regnn.Dense(1)])))
        self.assertEqual((fresh.layers[0].momentum, fresh.layers[0].noise), (0.9, 0.01))
        with self.assertRaisesRegex(regnn.InvalidArgumentError, r"momentum must be in \[0, 1\]"):
            regnn.Model(4).add_batch_normalization(momentum=2)


if __name__ == "__main__":
    unittest.main()
