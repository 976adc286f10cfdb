# SPDX-License-Identifier: MIT
"""Learning-rate schedules on optimizers, ReduceLROnPlateau in fit, the learning rate
in the history, and schedules in checkpoints."""

import math
import unittest

from _support import flat, make_data, regnn


def keras_cosine(lr0, ds, alpha, target, ws, step):
    """keras.optimizers.schedules.CosineDecay.__call__ (target None = no warm-up)."""
    frm = lr0
    if target is None:
        step = min(step, ds)
    else:
        step = min(step, ds + ws)
        if step < ws:
            return (target - lr0) * (step / ws) + lr0
        step -= ws
        frm = target
    c = 0.5 * (1.0 + math.cos(math.pi * (step / ds)))
    return frm * ((1.0 - alpha) * c + alpha)


def model(seed=3):
    return regnn.Model(4, [regnn.Dense(5, "tanh"), regnn.Dense(1)]).init(seed=seed)


class TestSchedules(unittest.TestCase):
    def test_exponential(self):
        o = regnn.Adam(learning_rate=regnn.ExponentialDecay(0.1, 100, 0.9))
        for s in (0, 1, 50, 100, 250, 1000):
            self.assertAlmostEqual(o.learning_rate_at(s), 0.1 * 0.9 ** (s / 100), delta=1e-15)
        o.schedule = regnn.ExponentialDecay(0.1, 100, 0.5, staircase=True)
        self.assertEqual([o.learning_rate_at(s) for s in (0, 99, 100, 199, 200)],
                         [0.1, 0.1, 0.05, 0.05, 0.025])
        self.assertEqual(o.schedule, regnn.ExponentialDecay(0.1, 100.0, 0.5, True))
        self.assertEqual(o.learning_rate, 0.1)  # the schedule at steps = 0

    def test_piecewise_boundary_belongs_to_the_left(self):
        o = regnn.SGD(learning_rate=regnn.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]))
        self.assertEqual([o.learning_rate_at(s) for s in (0, 10, 11, 20, 21, 99)],
                         [1.0, 1.0, 0.5, 0.5, 0.1, 0.1])
        self.assertEqual(o.schedule.boundaries, [10, 20])
        self.assertEqual(o.schedule.values, [1.0, 0.5, 0.1])

    def test_cosine_warmup(self):
        o = regnn.Adam()
        o.schedule = regnn.CosineDecay(0.0, 40, alpha=0.05, warmup_target=0.1, warmup_steps=10)
        for s in range(0, 70, 3):
            self.assertAlmostEqual(o.learning_rate_at(s), keras_cosine(0.0, 40, 0.05, 0.1, 10, s),
                                   delta=1e-16)
        self.assertEqual(o.learning_rate_at(10), 0.1)
        self.assertAlmostEqual(o.learning_rate_at(50), 0.005, delta=1e-17)
        o.schedule = regnn.CosineDecay(0.2, 100, alpha=0.1)
        self.assertAlmostEqual(o.learning_rate_at(1000), 0.02, delta=1e-16)
        self.assertIsNone(regnn.CosineDecay(0.2, 100).warmup_target)

    def test_clearing_and_constant_rate(self):
        o = regnn.Adam(learning_rate=regnn.ExponentialDecay(0.1, 10, 0.5))
        o.learning_rate = 0.02  # a number replaces the schedule
        self.assertIsNone(o.schedule)
        self.assertEqual(o.learning_rate_at(1000), 0.02)
        o.schedule = regnn.ExponentialDecay(0.1, 10, 0.5)
        o.schedule = None
        self.assertEqual(o.learning_rate, 0.02)

    def test_bad_parameters(self):
        o = regnn.Adam()
        bad = [regnn.ExponentialDecay(0.1, 0, 0.5), regnn.ExponentialDecay(0.1, 10, 2.0),
               regnn.PiecewiseConstantDecay([20, 10], [1, 2, 3]),
               regnn.PiecewiseConstantDecay([1.5], [1, 2]),
               regnn.CosineDecay(0.1, 10, alpha=2.0), regnn.CosineDecay(-0.1, 10)]
        for s in bad:
            with self.assertRaises(regnn.InvalidArgumentError, msg=repr(s)):
                o.schedule = s
        self.assertIsNone(o.schedule)
        with self.assertRaises(ValueError):
            regnn.PiecewiseConstantDecay([1, 2], [1.0])
        with self.assertRaises(ValueError):
            regnn.CosineDecay(0.1, 10, warmup_steps=5)
        with self.assertRaises(TypeError):
            o.schedule = 0.5
        o.weight_decay = 0.5
        with self.assertRaisesRegex(regnn.InvalidArgumentError, "weight decay"):
            o.schedule = regnn.PiecewiseConstantDecay([5], [1.0, 4.0])


class TestTraining(unittest.TestCase):
    def test_history_records_the_rate_of_each_epochs_last_step(self):
        x, y = make_data(48)
        m = model()
        o = regnn.Adam(learning_rate=regnn.ExponentialDecay(0.01, 5, 0.5))
        h = m.fit(x, y, o, epochs=4, batch_size=16, shuffle=False)  # 3 steps an epoch
        self.assertEqual(list(h.learning_rate), [0.01 * 0.5 ** ((3 * e + 2) / 5) for e in range(4)])
        self.assertIn("learning_rate", h.history)
        self.assertEqual(h.to_csv().splitlines()[0].split(",")[-1], "learning_rate")
        self.assertEqual(o.steps, 12)

    def test_checkpoint_resumes_the_schedule(self):
        x, y = make_data(48)
        sched = regnn.CosineDecay(0.0, 9, alpha=0.1, warmup_target=0.02, warmup_steps=4)
        m1, o1 = model(), regnn.Adam(learning_rate=sched)
        m1.fit(x, y, o1, epochs=5, batch_size=16)
        m2, o2 = model(), regnn.Adam(learning_rate=sched)
        m2.fit(x, y, o2, epochs=2, batch_size=16)
        m3, o3 = regnn.load_checkpoint(regnn.checkpoint_to_bytes(m2, o2))
        self.assertEqual(o3.schedule, sched)
        self.assertEqual(o3.steps, 6)
        h = m3.fit(x, y, o3, epochs=3, batch_size=16)
        self.assertEqual(flat(m1.get_params()), flat(m3.get_params()))
        self.assertEqual(float(h.learning_rate[0]), keras_cosine(0.0, 9, 0.1, 0.02, 4, 8))

    def test_a_callback_cannot_swap_the_schedule_for_a_number(self):
        x, y = make_data(16)
        m = model()
        sched = regnn.ExponentialDecay(0.01, 10, 0.5)
        o = regnn.SGD(learning_rate=sched, momentum=0.5)

        def cb(epoch, history):
            o.learning_rate = 0.5
        with self.assertRaises(regnn.StateError):
            m.fit(x, y, o, epochs=2, callback=cb)
        self.assertEqual(o.schedule, sched)
        self.assertEqual(o.learning_rate_at(0), 0.01)

    def test_reduce_on_plateau(self):
        x, y = make_data(48)
        m, o = model(), regnn.SGD(learning_rate=0.04)
        # min_delta beyond any change: only epoch 0 improves, so patience and cooldown
        # alone decide the epochs that reduce (Keras decrements cooldown before testing it).
        cb = regnn.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_delta=1e9,
                                     min_lr=0.006)
        h = m.fit(x, y, o, epochs=9, validation_split=0.25, callbacks=[cb])
        self.assertEqual(list(h.learning_rate),
                         [0.04, 0.04, 0.04, 0.02, 0.02, 0.01, 0.01, 0.006, 0.006])
        self.assertEqual(o.learning_rate, 0.006)
        # No validation data: the training loss is monitored ("loss").
        m2, o2 = model(), regnn.SGD(learning_rate=0.04)
        h2 = m2.fit(x, y, o2, epochs=4, monitor="loss",
                    callbacks=[regnn.ReduceLROnPlateau(monitor="loss", patience=0,
                                                       min_delta=1e9)])
        expect = [0.04, 0.04, 0.004, 0.0004]  # patience 0: every epoch without improvement
        for got, want in zip(h2.learning_rate, expect):
            self.assertAlmostEqual(float(got), want, delta=1e-15)

    def test_reduce_on_plateau_refusals(self):
        x, y = make_data(16)
        m = model()
        with self.assertRaises(ValueError):
            regnn.ReduceLROnPlateau(factor=1.0)
        with self.assertRaises(ValueError):
            regnn.ReduceLROnPlateau(mode="max")
        with self.assertRaisesRegex(regnn.InvalidArgumentError, "monitor"):
            m.fit(x, y, regnn.SGD(), callbacks=[regnn.ReduceLROnPlateau(monitor="val_mse")])
        o = regnn.SGD(learning_rate=regnn.ExponentialDecay(0.1, 10, 0.5))
        with self.assertRaisesRegex(regnn.InvalidArgumentError, "schedule"):
            m.fit(x, y, o, validation_split=0.25, callbacks=[regnn.ReduceLROnPlateau()])
        self.assertEqual(o.steps, 0)


if __name__ == "__main__":
    unittest.main()
