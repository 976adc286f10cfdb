# SPDX-License-Identifier: MIT
"""RMSprop, Adagrad, Adamax, Nadam and the schedules InverseTimeDecay, PolynomialDecay,
CosineDecayRestarts through the binding: Keras' defaults (read back from the library),
one step against Keras 3's formula, names, refusals, checkpoints."""

import math
import unittest

from _support import make_data, regnn


def model():
    return regnn.Model(4, [regnn.Dense(3, "relu"), regnn.Dense(1)]).init(seed=2)


class TestOptimizers(unittest.TestCase):
    def test_keras_defaults(self):
        r = regnn.RMSprop()
        self.assertEqual((r.kind, r.learning_rate, r.rho, r.epsilon, r.weight_decay),
                         (regnn.OPTIM_RMSPROP, 1e-3, 0.9, 1e-7, 0.0))
        a = regnn.Adagrad()
        self.assertEqual((a.kind, a.learning_rate, a.initial_accumulator_value, a.epsilon),
                         (regnn.OPTIM_ADAGRAD, 1e-3, 0.1, 1e-7))
        for cls, kind in ((regnn.Adamax, regnn.OPTIM_ADAMAX), (regnn.Nadam, regnn.OPTIM_NADAM)):
            o = cls()
            self.assertEqual((o.kind, o.learning_rate, o.beta1, o.beta2, o.epsilon),
                             (kind, 1e-3, 0.9, 0.999, 1e-7))
        n = regnn.Nadam(lr=0.01, beta_1=0.8, beta_2=0.99, weight_decay=0.1)
        self.assertEqual((n.learning_rate, n.beta1, n.beta2, n.weight_decay), (0.01, 0.8, 0.99, 0.1))
        self.assertIn("rho=0.9", repr(r))

    def test_one_step_against_keras(self):
        """The first update of each, from a zero state, worked out here (Keras 3's update_step)."""
        x, y = make_data(8)
        for opt in (regnn.RMSprop(learning_rate=0.01, rho=0.8, epsilon=1e-3),
                    regnn.Adagrad(learning_rate=0.01, initial_accumulator_value=0.2, epsilon=1e-3),
                    regnn.Adamax(learning_rate=0.01, epsilon=1e-3),
                    regnn.Nadam(learning_rate=0.01, epsilon=1e-3)):
            m = model()
            p0 = list(m.get_params())
            ref = m.copy()
            # the gradient: one SGD step of rate 1 from the same parameters moves them by -g
            ref.train_batch(regnn.SGD(learning_rate=1.0), x, y)
            g = [a - b for a, b in zip(p0, ref.get_params())]
            m.train_batch(opt, x, y)
            for p, q, gi in zip(m.get_params(), p0, g):
                if opt.kind == regnn.OPTIM_RMSPROP:
                    want = q - 0.01 * gi / math.sqrt(0.2 * gi * gi + 1e-3)
                elif opt.kind == regnn.OPTIM_ADAGRAD:
                    want = q - 0.01 * gi / math.sqrt(0.2 + gi * gi + 1e-3)
                elif opt.kind == regnn.OPTIM_ADAMAX:
                    want = q - 0.01 / 0.1 * (0.1 * gi) / (abs(gi) + 1e-3)
                else:
                    u1, u2 = 0.9 * (1 - 0.5 * 0.96), 0.9 * (1 - 0.5 * 0.96 ** 2)
                    m_hat = u2 * 0.1 * gi / (1 - u1 * u2) + (1 - u1) * gi / (1 - u1)
                    want = q - 0.01 * m_hat / (math.sqrt(0.001 * gi * gi / 0.001) + 1e-3)
                self.assertAlmostEqual(p, want, delta=1e-5 * max(1.0, abs(want)),
                                       msg=type(opt).__name__)
            self.assertEqual(opt.steps, 1)

    def test_names_state_and_checkpoint(self):
        x, y = make_data(16)
        for name, cls, states in (("rmsprop", regnn.RMSprop, ("velocity",)),
                                  ("adagrad", regnn.Adagrad, ("accumulator",)),
                                  ("adamax", regnn.Adamax, ("m", "norm")),
                                  ("nadam", regnn.Nadam, ("m", "v"))):
            m = model()
            m.compile(optimizer=name, loss="mse")
            m.fit(x, y, epochs=2, batch_size=8, verbose=0)
            o = m.optimizer
            self.assertIsInstance(o, cls)
            for s in states:
                self.assertEqual(len(o.get_state(s)), m.param_count)
            blob = regnn.checkpoint_to_bytes(m, o)
            m2, o2 = regnn.load_checkpoint(blob)
            self.assertIsInstance(o2, cls)
            self.assertEqual(o2.steps, o.steps)
            self.assertEqual(list(o2.get_state(states[-1])), list(o.get_state(states[-1])))

    def test_refusals(self):
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.RMSprop(rho=1.0)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Adagrad(initial_accumulator_value=-1)
        with self.assertRaises(regnn.UnsupportedError):
            regnn.RMSprop(momentum=0.9)
        with self.assertRaises(regnn.UnsupportedError):
            regnn.RMSprop(centered=True)
        with self.assertRaises(TypeError):
            regnn.Adagrad(beta1=0.9)
        with self.assertRaisesRegex(regnn.UnsupportedError, "it is RMSprop's"):
            regnn.RMSprop.rho.fget(regnn.Adam())


class TestSchedules(unittest.TestCase):
    def test_inverse_time(self):
        o = regnn.Adam(learning_rate=regnn.InverseTimeDecay(0.1, 100, 0.5))
        for s in (0, 1, 99, 100, 1000):
            self.assertAlmostEqual(o.learning_rate_at(s), 0.1 / (1 + 0.5 * s / 100), delta=1e-16)
        o.schedule = regnn.InverseTimeDecay(0.1, 100, 0.5, staircase=True)
        self.assertEqual([o.learning_rate_at(s) for s in (99, 100)], [0.1, 0.1 / 1.5])
        self.assertEqual(o.schedule, regnn.InverseTimeDecay(0.1, 100, 0.5, True))

    def test_polynomial_defaults_from_the_library(self):
        o = regnn.Adam(learning_rate=regnn.PolynomialDecay(0.1, 100))
        self.assertEqual(o.learning_rate_at(100), 1e-4)  # Keras' end_learning_rate
        self.assertAlmostEqual(o.learning_rate_at(50), (0.1 - 1e-4) * 0.5 + 1e-4, delta=1e-16)
        o.schedule = regnn.PolynomialDecay(0.1, 100, cycle=True)  # end and power: defaults
        self.assertEqual(o.schedule.params(), [0.1, 100.0, 1e-4, 1.0, 1.0])
        self.assertEqual(o.learning_rate_at(200), 1e-4)
        self.assertGreater(o.learning_rate_at(201), 0.03)  # decaying over 300 steps now

    def test_cosine_restarts(self):
        o = regnn.Adam(learning_rate=regnn.CosineDecayRestarts(0.1, 10, m_mul=0.5))
        self.assertEqual(o.schedule.params(), [0.1, 10.0, 2.0, 0.5])
        self.assertEqual([o.learning_rate_at(s) for s in (0, 10, 30)], [0.1, 0.05, 0.025])
        self.assertAlmostEqual(o.learning_rate_at(5), 0.05, delta=1e-16)

    def test_bad(self):
        o = regnn.Adam()
        for s in (regnn.InverseTimeDecay(0.1, 10, -1), regnn.PolynomialDecay(0.1, 10, power=0),
                  regnn.CosineDecayRestarts(0.1, 10, t_mul=0.5),
                  regnn.CosineDecayRestarts(0.1, 10, m_mul=2)):
            with self.assertRaises(regnn.InvalidArgumentError, msg=repr(s)):
                o.schedule = s
        self.assertIsNone(o.schedule)


if __name__ == "__main__":
    unittest.main()
