# SPDX-License-Identifier: MIT
"""Keras-style use: fit(x, y) with lists and numpy, optimizer names and compile, verbose
output (0, 1 on a terminal and off it, 2), callbacks, Dense(activation=None), Adam(lr=),
summary() and History.history."""

import contextlib
import io
import math
import re
import unittest

from _support import flat, make_data, needs_numpy, np, regnn


def model(seed=5):
    return regnn.Model(4, [regnn.Dense(8, "relu"), regnn.Dense(1, None)]).init(seed=seed)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def run_verbose(verbose, stream=None, **kw):
    x, y = make_data()
    buf = stream if stream is not None else io.StringIO()
    with model() as m, contextlib.redirect_stdout(buf):
        h = m.fit(x, y, epochs=3, batch_size=16, verbose=verbose, **kw)
    return buf.getvalue(), h


class TestFitForms(unittest.TestCase):
    def test_lists_same_as_explicit_form(self):
        x, y = make_data()
        with model() as a, regnn.Adam() as o:
            ha = a.fit((x, y), o, epochs=3, batch_size=16, validation_split=0.25)
            want = flat(a.get_params())
        with model() as b:
            hb = b.fit(x, y, epochs=3, batch_size=16, validation_split=0.25)  # default: Adam
            self.assertIsInstance(b.optimizer, regnn.Adam)
            self.assertEqual(b.optimizer.steps, 3 * 3)
            self.assertEqual(want, flat(b.get_params()))
        for h in (ha, hb):
            del h.history["seconds"]  # wall time
        self.assertEqual(ha.history, hb.history)
        with model() as c, regnn.Adam() as o, regnn.Dataset(x, y) as ds:
            c.fit(train=ds, optimizer=o, epochs=3, batch_size=16, validation_split=0.25)
            self.assertEqual(want, flat(c.get_params()))
            self.assertIsNone(c.optimizer)  # an object passed in stays the caller's

    @needs_numpy
    def test_numpy_arrays(self):
        x, y = make_data()
        with model() as a, model() as b:
            a.fit(np.array(x), np.array(y), epochs=2)
            b.fit(np.array(x, np.float32), np.array(y, np.float32).reshape(-1, 1), epochs=2)
            c = model()
            c.fit(x, y, epochs=2)
            self.assertEqual(flat(a.get_params()), flat(c.get_params()))
            self.assertEqual(flat(a.get_params()), flat(b.get_params()))
            h = a.fit(np.array(x), np.array(y), validation_data=(np.array(x[:8]), np.array(y[:8])))
            self.assertIn("val_loss", h.history)

    def test_optimizer_names_and_compile(self):
        x, y = make_data()
        with model() as m:
            m.fit(x, y, optimizer="sgd", epochs=1, batch_size=32)
            sgd = m.optimizer
            self.assertIsInstance(sgd, regnn.SGD)
            self.assertAlmostEqual(sgd.learning_rate, 0.01)  # Keras' default
            m.fit(x, y, epochs=1, batch_size=32)  # the same optimizer carries on
            self.assertIs(m.optimizer, sgd)
            self.assertEqual(sgd.steps, 4)
            self.assertIs(m.compile(optimizer="adam", loss="mean_squared_error"), m)
            self.assertIsInstance(m.optimizer, regnn.Adam)
            self.assertAlmostEqual(m.optimizer.learning_rate, 1e-3)
            o = regnn.Adam(lr=0.5)
            m.compile(o)
            m.fit(x, y, epochs=1)
            self.assertEqual(o.steps, 2)
            m.fit(x, y, "Adam", epochs=1)  # a name in y's place: the explicit form
            self.assertIsNot(m.optimizer, o)
            with self.assertRaises(regnn.UnsupportedError):
                m.compile("adadelta")
            m.compile("RMSprop")
            self.assertIsInstance(m.optimizer, regnn.RMSprop)
            with self.assertRaises(regnn.UnsupportedError) as cm:
                m.compile("adam", loss="hinge")
            self.assertIn("log_cosh", cm.exception.message)
            with self.assertRaises(regnn.UnsupportedError):
                m.compile("adam", metrics=["accuracy"])
            with self.assertRaises(TypeError) as cm:
                m.fit(x, y, optimizer=[1, 2])
            self.assertIn('"adam"', str(cm.exception))

    def test_wrong_forms(self):
        x, y = make_data()
        with model() as m, regnn.Dataset(x, y) as ds:
            with self.assertRaises(TypeError):
                m.fit()
            with self.assertRaises(TypeError):
                m.fit(ds, y)
            with self.assertRaises(TypeError):
                m.fit(ds, regnn.Adam(), optimizer=regnn.Adam())
            with self.assertRaises(TypeError):
                m.fit(ds, train=ds)
            with self.assertRaises(regnn.ShapeError):
                m.fit(x, y[:10])

    def test_uninitialized_message_is_the_library_s(self):
        x, y = make_data()
        with regnn.Model(4, [regnn.Dense(1)]) as m:
            with self.assertRaises(regnn.StateError) as cm:
                m.fit(x, y)
        self.assertEqual(cm.exception.message,
                         "regnn_fit: the model is not initialized (call regnn_model_init)")


LINE2 = re.compile(r"^Epoch (\d)/3 - \d+\.\d\ds - loss: \d+\.\d{4} - val_loss: \d+\.\d{4}$")


class TestVerbose(unittest.TestCase):
    def test_silent_by_default(self):
        self.assertEqual(run_verbose(0)[0], "")

    def test_verbose_2_one_line_per_epoch(self):
        out, h = run_verbose(2, validation_split=0.25)
        lines = out.splitlines()
        self.assertEqual(len(lines), 3, out)
        for e, line in enumerate(lines):
            m = LINE2.match(line)
            self.assertIsNotNone(m, line)
            self.assertEqual(int(m.group(1)), e + 1)
            self.assertIn("loss: %.4f - " % h.loss[e], line)
            self.assertTrue(line.endswith("val_loss: %.4f" % h.val_loss[e]), line)
        self.assertNotIn("\r", out)

    def test_verbose_2_compiled_metrics(self):
        x, y = make_data()
        buf = io.StringIO()
        with model() as m, contextlib.redirect_stdout(buf):
            m.compile("adam", metrics=["mae", "mse"])
            h = m.fit(x, y, epochs=1, verbose=2, validation_split=0.25)
        self.assertTrue(buf.getvalue().rstrip("\n").endswith(
            "loss: %.4f - mae: %.4f - mse: %.4f - val_loss: %.4f - val_mae: %.4f - val_mse: %.4f"
            % (h.loss[0], h.mae[0], h.mse[0], h.val_loss[0], h.val_mae[0], h.val_mse[0])),
            buf.getvalue())

    def test_verbose_1_off_a_terminal(self):
        out, h = run_verbose(1)
        lines = out.splitlines()
        self.assertEqual(len(lines), 3, out)
        self.assertTrue(lines[0].startswith("Epoch 1/3 [=========>....................] - "),
                        lines[0])
        self.assertTrue(lines[2].startswith("Epoch 3/3 [" + "=" * 30 + "] - "), lines[2])
        self.assertNotIn("val_loss", out)  # no validation data: nothing to show

    def test_verbose_1_on_a_terminal_rewrites_one_line(self):
        out, _ = run_verbose(1, FakeTerminal())
        self.assertEqual(out.count("\n"), 1)
        self.assertTrue(out.endswith("\n"))
        parts = out.rstrip("\n").split("\r")
        self.assertEqual(parts[0], "")
        self.assertEqual([p.split(" [")[0] for p in parts[1:]],
                         ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"])

    def test_verbose_values(self):
        self.assertEqual(run_verbose(True)[0].count("Epoch"), 3)
        self.assertEqual(run_verbose("auto")[0].count("Epoch"), 3)
        with self.assertRaises(regnn.InvalidArgumentError):
            run_verbose(3)

    def test_terminal_line_ends_when_a_callback_raises(self):
        term = FakeTerminal()

        def boom(epoch, history):
            raise RuntimeError("stop")
        with self.assertRaises(RuntimeError):
            run_verbose(1, term, callback=boom)
        self.assertTrue(term.getvalue().endswith("\n"))
        self.assertEqual(term.getvalue().count("Epoch"), 1)


class Recorder(regnn.Callback):
    def __init__(self, stop_after=None):
        self.events = []
        self.stop_after = stop_after

    def on_train_begin(self, logs=None):
        self.events.append(("begin", logs))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((epoch, logs))
        if self.stop_after is not None and epoch + 1 >= self.stop_after:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.events.append(("end", logs))


class TestCallbacks(unittest.TestCase):
    def test_keras_callback_protocol(self):
        x, y = make_data()
        rec = Recorder()
        seen = []
        with model() as m:
            h = m.fit(x, y, epochs=3, validation_split=0.25,
                      callbacks=[rec, lambda e, hist: seen.append(hist.epochs)])
            self.assertIs(rec.model, m)
        self.assertEqual(seen, [1, 2, 3])
        self.assertEqual(rec.events[0], ("begin", {}))
        self.assertEqual([e for e, _ in rec.events[1:-1]], [0, 1, 2])
        logs = rec.events[2][1]
        self.assertEqual(set(logs), {"loss", "mse", "mae", "penalty", "val_loss", "val_mse",
                                     "val_mae"})
        self.assertEqual(logs["val_loss"], h.history["val_loss"][1])
        self.assertEqual(rec.events[-1], ("end", rec.events[-2][1]))

    def test_stop_training(self):
        x, y = make_data()
        with model() as m:
            h = m.fit(x, y, epochs=10, callbacks=Recorder(stop_after=2))
            self.assertEqual(h.epochs, 2)
            self.assertEqual(h.stop_reason, regnn.STOP_CALLBACK)
            h = m.fit(x, y, epochs=3, callbacks=[lambda e, hist: e == 0])  # true: stop
            self.assertEqual(h.epochs, 1)
            h = m.fit(x, y, epochs=3)  # stop_training is reset by every fit
            self.assertEqual(h.epochs, 3)

    def test_bad_callbacks(self):
        with model() as m:
            with self.assertRaises(TypeError):
                m.fit(*make_data(), callbacks=[42])


class TestLayersAndOptimizers(unittest.TestCase):
    def test_activations(self):
        for act, code in ((None, regnn.ACT_LINEAR), ("linear", regnn.ACT_LINEAR),
                          ("relu", regnn.ACT_RELU), ("sigmoid", regnn.ACT_SIGMOID),
                          ("tanh", regnn.ACT_TANH), ("ReLU", regnn.ACT_RELU),
                          ("elu", regnn.ACT_ELU), ("selu", regnn.ACT_SELU),
                          ("gelu", regnn.ACT_GELU), ("swish", regnn.ACT_SWISH),
                          ("silu", regnn.ACT_SWISH), ("leaky_relu", regnn.ACT_LEAKY_RELU),
                          ("softplus", regnn.ACT_SOFTPLUS)):
            with regnn.Model(2, [regnn.Dense(3, act)]) as m:
                self.assertEqual(m.layers[0].activation, code, act)
                m.add_dense(1, activation=None)
                self.assertEqual(m.layers[1].activation, regnn.ACT_LINEAR)
        with self.assertRaises(regnn.UnsupportedError):
            regnn.Dense(3, "softmax")

    def test_lr_alias(self):
        self.assertAlmostEqual(regnn.Adam(lr=0.02).learning_rate, 0.02)
        self.assertAlmostEqual(regnn.SGD(lr=0.3).learning_rate, 0.3)
        a = regnn.Adam(beta_1=0.8, beta_2=0.99)
        self.assertAlmostEqual(a.beta1, 0.8)
        self.assertAlmostEqual(a.beta2, 0.99)
        with self.assertRaises(TypeError):
            regnn.Adam(0.1, lr=0.2)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Adam(lr=-1)

    def test_summary(self):
        lines = []
        with regnn.Model(10, [regnn.Dense(128, "relu", l2=1e-2, dropout=0.2),
                              regnn.Dense(1)]) as m:
            m.summary(print_fn=lines.append)
        text = "\n".join(lines)
        self.assertEqual(lines[0], "Model: 10 inputs -> 1 output")
        self.assertRegex(text, r"Layer \(type\) +Output Shape +Param # +L2 +L1 +Dropout")
        self.assertRegex(text, r"dense_0 \(Dense, relu\) +\(None, 128\) +1,408 +0\.01 +0 +0\.2")
        self.assertRegex(text, r"dense_1 \(Dense, linear\) +\(None, 1\) +129 +0 +0 +0")
        self.assertIn("Total params: 1,537", text)
        self.assertIn("Scaler attached: no", text)
        buf = io.StringIO()
        with model() as m, contextlib.redirect_stdout(buf):
            self.assertIsNone(m.summary())
        self.assertIn("Total params: 49", buf.getvalue())

    def test_history_is_a_dict_of_lists(self):
        x, y = make_data()
        with model() as m:
            h = m.fit(x, y, epochs=2, validation_split=0.25, eval_train=True)
        self.assertEqual(list(h.history), list(regnn.METRICS))
        self.assertTrue(all(type(v) is list and len(v) == 2 for v in h.history.values()))
        self.assertTrue(all(type(f) is float for f in h.history["val_loss"]))
        self.assertFalse(any(math.isnan(f) for v in h.history.values() for f in v))


if __name__ == "__main__":
    unittest.main()
