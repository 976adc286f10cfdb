# SPDX-License-Identifier: MIT
"""Adam and SGD: options, steps, state, reset, train_batch."""

import unittest

from _support import flat, make_data, regnn


def model():
    return regnn.Model(4, [regnn.Dense(3, "relu"), regnn.Dense(1)]).init(seed=2)


class TestOptions(unittest.TestCase):
    def test_adam_defaults_and_options(self):
        with regnn.Adam() as a:
            self.assertEqual(a.kind, regnn.OPTIM_ADAM)
            self.assertEqual((a.learning_rate, a.beta1, a.beta2, a.epsilon, a.weight_decay),
                             (1e-3, 0.9, 0.999, 1e-7, 0.0))
        a = regnn.Adam(learning_rate=0.01, beta1=0.8, beta2=0.99, epsilon=1e-8, weight_decay=0.1)
        self.assertEqual((a.learning_rate, a.beta1, a.beta2, a.epsilon, a.weight_decay),
                         (0.01, 0.8, 0.99, 1e-8, 0.1))
        a.learning_rate = 0.5
        self.assertEqual(a.learning_rate, 0.5)
        self.assertIn("learning_rate=0.5", repr(a))

    def test_sgd(self):
        s = regnn.SGD()
        self.assertEqual(s.kind, regnn.OPTIM_SGD)
        self.assertEqual((s.learning_rate, s.momentum, s.nesterov), (1e-2, 0.0, False))
        s = regnn.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        self.assertEqual((s.learning_rate, s.momentum, s.nesterov), (0.1, 0.9, True))
        self.assertFalse(hasattr(s, "beta1"))

    def test_invalid_values(self):
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Adam(learning_rate=0)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Adam(beta1=1.0)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.SGD(momentum=-0.1)
        with self.assertRaises(TypeError):
            regnn.Adam(learning_rate="fast")
        with self.assertRaises(TypeError):
            regnn.Optimizer()
        with self.assertRaises(TypeError):
            regnn.Adam(momentum=0.9)  # not an Adam option

    def test_wrong_key_for_kind_from_library(self):
        from regnn import _capi
        s = regnn.SGD()
        with self.assertRaises(regnn.UnsupportedError):
            regnn.Adam.beta1.fget(s)  # an Adam key on an SGD handle: the library refuses
        self.assertEqual(_capi.lib.regnn_optimizer_kind(None), -1)


class TestStateAndSteps(unittest.TestCase):
    def test_train_batch_steps_and_state(self):
        x, y = make_data(16)
        m = model()
        o = regnn.Adam(learning_rate=0.05)
        self.assertEqual((o.steps, o.state_size), (0, 0))
        with self.assertRaises(regnn.StateError):
            o.get_state("m")
        losses = [m.train_batch(o, x, y) for _ in range(30)]
        self.assertLess(losses[-1], losses[0] / 2)
        self.assertEqual(o.steps, 30)
        self.assertEqual(o.state_size, m.param_count)
        v = flat(o.get_state("v"))
        self.assertEqual(len(v), m.param_count)
        self.assertTrue(all(e >= 0 for e in v))
        o.set_state(regnn.STATE_M, [0.5] * m.param_count)
        self.assertEqual(flat(o.get_state("m")), [0.5] * m.param_count)
        with self.assertRaises(regnn.ShapeError):
            o.set_state("m", [0.5])
        with self.assertRaises(regnn.InvalidArgumentError):
            o.set_state("v", [-1.0] * m.param_count)
        with self.assertRaises(regnn.UnsupportedError):
            o.get_state("velocity")
        with self.assertRaises(regnn.UnsupportedError):
            o.get_state("w")
        o.steps = 5
        self.assertEqual(o.steps, 5)
        o.reset()
        self.assertEqual((o.steps, o.state_size), (0, 0))

    def test_optimizer_bound_to_another_size(self):
        x, y = make_data(8)
        o = regnn.SGD(momentum=0.5)
        model().train_batch(o, x, y)
        other = regnn.Model(4, [regnn.Dense(1)]).init()
        with self.assertRaises(regnn.ShapeError):
            other.train_batch(o, x, y)

    def test_train_batch_shapes(self):
        m = model()
        o = regnn.SGD()
        with self.assertRaises(regnn.ShapeError):
            m.train_batch(o, [[1, 2, 3, 4]] * 2, [1.0])
        with self.assertRaises(regnn.ShapeError):
            m.train_batch(o, [[1, 2, 3]], [1.0])
        loss = m.train_batch(o, [1, 2, 3, 4], [1.0])  # a 1-D x is one row
        self.assertGreater(loss, 0)
        self.assertEqual(o.steps, 1)

    def test_closed(self):
        o = regnn.Adam()
        o.close()
        with self.assertRaises(regnn.ClosedError):
            o.learning_rate
        with self.assertRaises(regnn.ClosedError):
            model().train_batch(o, [1, 2, 3, 4], [1.0])
        self.assertEqual(repr(o), "<regnn.Adam closed>")


if __name__ == "__main__":
    unittest.main()
