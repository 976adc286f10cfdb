# SPDX-License-Identifier: MIT
"""Model, Dense, Layer: topology, parameters, predict (zero-copy out=), evaluate, copy."""

import array
import ctypes
import math
import unittest

from _support import flat, make_data, needs_numpy, np, regnn, tolist


def small_model(seed=1, **kw):
    m = regnn.Model(3, [regnn.Dense(4, "tanh", **kw), regnn.Dense(2)])
    return m.init("glorot_uniform", seed)


def forward(m, rows):
    """Reference forward pass in pure Python (double precision)."""
    acts = {"linear": lambda v: v, "relu": lambda v: max(v, 0.0), "tanh": math.tanh,
            "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
            # Keras' formulas and constants
            "elu": lambda v: v if v > 0 else math.exp(v) - 1,
            "selu": lambda v: 1.0507009873554805 * (v if v > 0 else 1.6732632423543772 * (math.exp(v) - 1)),
            "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
            "swish": lambda v: v / (1 + math.exp(-v)),
            "leaky_relu": lambda v: v if v > 0 else 0.2 * v,
            "softplus": lambda v: math.log1p(math.exp(v)) if v < 30 else v + math.log1p(math.exp(-v))}
    out = []
    for r in rows:
        a = list(r)
        for layer in m.layers:
            p = flat(layer.get_params())
            ni, nu = layer.inputs, layer.units
            f = acts[layer.activation_name]
            a = [f(sum(a[i] * p[i * nu + j] for i in range(ni)) + p[ni * nu + j]) for j in range(nu)]
        out.append(a)
    return out


class TestTopology(unittest.TestCase):
    def test_layers(self):
        m = regnn.Model(3, [regnn.Dense(4, "relu", l2=0.5, dropout=0.25), regnn.Dense(1, "linear", l1=0.125)])
        self.assertEqual((m.n_inputs, m.n_outputs, len(m)), (3, 1, 2))
        l0, l1 = m.layers
        self.assertEqual((l0.index, l0.inputs, l0.units, l0.activation), (0, 3, 4, regnn.ACT_RELU))
        self.assertEqual(l0.activation_name, "relu")
        self.assertEqual((l0.l2, l0.l1, l0.dropout), (0.5, 0.0, 0.25))
        self.assertEqual((l1.l2, l1.l1, l1.dropout), (0.0, 0.125, 0.0))
        self.assertEqual(l0.param_count, 3 * 4 + 4)
        self.assertEqual(m.param_count, 16 + 5)
        self.assertIs(m.layers[0], l0)  # stable objects
        self.assertIs(l0.model, m)

    def test_add_dense_and_codes(self):
        m = regnn.Model(2)
        self.assertEqual(m.n_outputs, 0)
        layer = m.add_dense(5, regnn.ACT_SIGMOID)
        self.assertEqual(layer.activation_name, "sigmoid")
        m.add_dense(1, "TANH")
        self.assertEqual(m.n_outputs, 1)
        with self.assertRaises(TypeError):
            m.add("dense")
        with self.assertRaises(regnn.InvalidArgumentError):
            m.add_dense(0)

    def test_layer_settings(self):
        m = small_model()
        layer = m.layers[0]
        layer.l2 = 0.01
        layer.l1 = 0.02
        layer.dropout = 0.5
        self.assertEqual((layer.l2, layer.l1, layer.dropout), (0.01, 0.02, 0.5))
        with self.assertRaises(regnn.InvalidArgumentError):
            layer.dropout = 1.0
        with self.assertRaises(regnn.InvalidArgumentError):
            layer.l2 = -1
        m.set_layers(l2=0.25, dropout=0.0)
        self.assertEqual([l.l2 for l in m.layers], [0.25, 0.25])
        self.assertEqual([l.l1 for l in m.layers], [0.02, 0.0])  # unchanged

    def test_topology_frozen_after_init(self):
        m = small_model()
        with self.assertRaises(regnn.StateError):
            m.add_dense(3)

    def test_init_needs_layers(self):
        with self.assertRaises(regnn.StateError):
            regnn.Model(2).init()
        with self.assertRaises(regnn.UnsupportedError):
            regnn.Model(2, [regnn.Dense(1)]).init("orthogonal")

    def test_repr(self):
        m = regnn.Model(3, [regnn.Dense(4, "relu", l2=0.5)])
        self.assertIn("Dense(4, 'relu', l2=0.5)", repr(m))
        self.assertEqual(repr(regnn.Dense(2, regnn.ACT_TANH, dropout=0.5)), "Dense(2, 'tanh', dropout=0.5)")
        m.close()
        self.assertEqual(repr(m), "<regnn.Model closed>")


class TestParameters(unittest.TestCase):
    def test_init_is_seeded_and_bounded(self):
        a = flat(small_model(seed=7).get_params())
        b = flat(small_model(seed=7).get_params())
        c = flat(small_model(seed=8).get_params())
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)
        m = small_model(seed=7)
        k0 = flat(m.layers[0].kernel)
        limit = math.sqrt(6 / (3 + 4))
        self.assertTrue(all(abs(v) <= limit for v in k0))
        self.assertEqual(flat(m.layers[0].bias), [0.0] * 4)
        he = regnn.Model(3, [regnn.Dense(4)]).init("he_uniform", 7)
        self.assertTrue(all(abs(v) <= math.sqrt(6 / 3) for v in flat(he.get_params())))

    def test_get_before_init(self):
        m = regnn.Model(3, [regnn.Dense(2)])
        with self.assertRaises(regnn.StateError):
            m.get_params()
        with self.assertRaises(regnn.StateError):
            m.layers[0].get_params()

    def test_set_params_roundtrip_every_input_kind(self):
        m = small_model()
        n = m.param_count
        values = [i / 64.0 for i in range(n)]
        kinds = [values, tuple(values), array.array("f", values), array.array("d", values),
                 (ctypes.c_float * n)(*values)]
        if np is not None:
            kinds += [np.array(values, np.float32), np.array(values), np.array(values)[::-1][::-1]]
        for v in kinds:
            m.set_params([0.0] * n)
            m.set_params(v)
            self.assertEqual(flat(m.get_params()), values, type(v))

    def test_set_params_errors(self):
        m = small_model()
        with self.assertRaises(regnn.ShapeError):
            m.set_params([0.0] * (m.param_count - 1))
        with self.assertRaises(regnn.NumericError):
            m.set_params([math.inf] * m.param_count)
        with self.assertRaises(regnn.StateError):
            regnn.Model(2).set_params([1.0])

    def test_set_params_initializes(self):
        m = regnn.Model(1, [regnn.Dense(1)])
        m.set_params([2.0, 0.5])
        self.assertEqual(flat(m.predict([3.0])), [6.5])

    def test_layer_params(self):
        m = small_model()
        layer = m.layers[1]
        p = flat(layer.get_params())
        self.assertEqual(len(p), 4 * 2 + 2)
        self.assertEqual(flat(m.get_params())[16:], p)
        layer.set_params([1.0] * 10)
        self.assertEqual(tolist(layer.kernel), [[1.0, 1.0]] * 4)
        self.assertEqual(flat(layer.bias), [1.0, 1.0])
        with self.assertRaises(regnn.ShapeError):
            layer.set_params([1.0] * 9)

    def test_get_params_into_out(self):
        m = small_model()
        out = array.array("f", [0.0] * m.param_count)
        self.assertIs(m.get_params(out=out), out)
        self.assertEqual(list(out), flat(m.get_params()))
        with self.assertRaises(regnn.ShapeError):
            m.get_params(out=array.array("f", [0.0]))
        with self.assertRaises(TypeError):
            m.get_params(out=array.array("d", [0.0] * m.param_count))

    def test_copy_is_independent(self):
        m = small_model(l2=0.5)
        c = m.copy()
        self.assertEqual(flat(c.get_params()), flat(m.get_params()))
        self.assertEqual(c.layers[0].l2, 0.5)
        c.set_params([0.0] * c.param_count)
        self.assertNotEqual(flat(m.get_params()), flat(c.get_params()))
        m.close()
        self.assertEqual(c.n_outputs, 2)
        self.assertEqual(flat(c.predict([1, 2, 3])), [0.0, 0.0])


class TestPredict(unittest.TestCase):
    def test_matches_reference_forward(self):
        m = small_model(seed=3)
        rows = [[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]]
        got = tolist(m.predict(rows))
        want = forward(m, rows)
        for g, w in zip(flat(got), flat(want)):
            self.assertAlmostEqual(g, w, places=5)

    def test_each_activation_matches_reference_forward(self):
        rows = [[0.5, -1.0, 2.0], [0.0, 0.25, -0.75], [3.0, -4.0, 1.5]]
        for name in ("elu", "selu", "gelu", "swish", "silu", "leaky_relu", "softplus"):
            with regnn.Model(3, [regnn.Dense(5, name), regnn.Dense(2, name)]) as m:
                m.init("glorot_uniform", 7)
                p = m.get_params()
                m.set_params([v + 0.1 for v in flat(p)])  # non-zero biases
                got, want = flat(tolist(m.predict(rows))), flat(forward(m, rows))
                for g, w in zip(got, want):
                    self.assertAlmostEqual(g, w, places=5, msg=name)

    def test_shapes(self):
        m = small_model()
        self.assertEqual(len(tolist(m.predict([[1, 2, 3]] * 5))), 5)
        one = tolist(m.predict([1, 2, 3]))  # 1-D x is one row -> 1-D result
        self.assertEqual(len(one), 2)
        self.assertIsInstance(one[0], float)
        with self.assertRaises(regnn.ShapeError):
            m.predict([[1, 2]])
        with self.assertRaises(regnn.ShapeError):
            m.predict([1, 2, 3, 4])
        with self.assertRaises(regnn.ShapeError):
            m.predict([])  # a 1-D x is one row, and this one is too short

    def test_errors(self):
        m = small_model()
        with self.assertRaises(regnn.NumericError):
            m.predict([1, math.nan, 3])
        with self.assertRaises(regnn.StateError):
            regnn.Model(3).predict([1, 2, 3])
        with self.assertRaises(TypeError):
            m.predict("abc")

    def test_out_array_array(self):
        m = small_model()
        out = array.array("f", [0.0] * 4)
        self.assertIs(m.predict([[1, 2, 3], [4, 5, 6]], out=out), out)
        self.assertEqual(list(out), flat(m.predict([[1, 2, 3], [4, 5, 6]])))
        with self.assertRaises(regnn.ShapeError):
            m.predict([[1, 2, 3]], out=out)

    @needs_numpy
    def test_zero_copy_out(self):
        m = small_model()
        x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
        out = np.full((2, 2), np.nan, dtype=np.float32)
        addr = out.ctypes.data
        res = m.predict(x, out=out)
        self.assertIs(res, out)  # the same object ...
        self.assertEqual(res.ctypes.data, addr)  # ... at the same address, written by the library
        self.assertFalse(np.isnan(out).any())
        np.testing.assert_array_equal(out, m.predict(x))
        # a flat out of the right size is fine too
        out1 = np.empty(4, dtype=np.float32)
        m.predict(x, out=out1)
        np.testing.assert_array_equal(out1.reshape(2, 2), out)
        with self.assertRaises(TypeError):
            m.predict(x, out=np.empty((2, 2)))
        with self.assertRaises(TypeError):
            m.predict(x, out=np.empty((2, 4), np.float32)[:, ::2])

    @needs_numpy
    def test_numpy_inputs(self):
        m = small_model()
        x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
        want = m.predict(x)
        self.assertEqual(want.dtype, np.float32)
        self.assertEqual(want.shape, (2, 2))
        np.testing.assert_array_equal(m.predict(x.astype(np.float64)), want)
        np.testing.assert_array_equal(m.predict(np.asfortranarray(x)), want)
        ro = x.copy()
        ro.flags.writeable = False
        np.testing.assert_array_equal(m.predict(ro), want)
        self.assertEqual(m.predict(x[0]).shape, (2,))
        with self.assertRaises(regnn.ShapeError):
            m.predict(np.zeros((2, 2, 3), np.float32))
        with self.assertRaises(regnn.InvalidArgumentError):
            m.predict(np.zeros((0, 3), np.float32))


class TestEvaluate(unittest.TestCase):
    def test_matches_definition(self):
        x, y = make_data(16)
        m = regnn.Model(4, [regnn.Dense(3, "relu", l2=0.01, l1=0.001), regnn.Dense(1, l2=0.1)])
        m.init(seed=11)
        pred = flat(m.predict(x))
        mse = sum((p - t) ** 2 for p, t in zip(pred, y)) / len(y)
        mae = sum(abs(p - t) for p, t in zip(pred, y)) / len(y)
        pen = 0.0
        for layer in m.layers:
            k = flat(layer.kernel)
            pen += layer.l2 * sum(v * v for v in k) + layer.l1 * sum(abs(v) for v in k)
        with regnn.Dataset(x, y) as ds:
            ev = m.evaluate(ds)
        self.assertAlmostEqual(ev.mse, mse, places=5)
        self.assertAlmostEqual(ev.mae, mae, places=5)
        self.assertAlmostEqual(ev.penalty, pen, places=5)
        self.assertEqual(ev.loss, ev.mse + ev.penalty)
        self.assertEqual(m.evaluate((x, y)), ev)  # an (x, y) pair works too

    def test_shape_mismatch(self):
        m = small_model()
        with self.assertRaises(regnn.ShapeError):
            m.evaluate(([[1, 2, 3]], [1.0]))  # the model has 2 outputs
        with self.assertRaises(TypeError):
            m.evaluate([[1, 2, 3]])


class TestLifetime(unittest.TestCase):
    def test_layer_after_model_closed(self):
        m = small_model()
        layer = m.layers[0]
        m.close()
        for call in (lambda: layer.units, layer.get_params, lambda: setattr(layer, "l2", 1.0),
                     lambda: m.predict([1, 2, 3]), lambda: m.layers, m.copy, m.init):
            with self.assertRaises(regnn.ClosedError):
                call()
        self.assertEqual(repr(layer), "<regnn.Layer of a closed model>")

    def test_with_and_del(self):
        with small_model() as m:
            self.assertFalse(m.closed)
        self.assertTrue(m.closed)
        m = small_model()
        layers = m.layers
        del m  # __del__ frees it; the layers keep the model object (not the handle) alive
        self.assertEqual(layers[0].units, 4)


if __name__ == "__main__":
    unittest.main()
