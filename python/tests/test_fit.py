# SPDX-License-Identifier: MIT
"""fit(): options, History, callbacks (kept alive, stop, exceptions), and the in-use guards."""

import ctypes
import gc
import math
import os
import threading
import traceback
import unittest

from _support import TempDir, flat, make_data, np, regnn

from regnn import _capi
from regnn._fit import History


def data(rows=64):
    x, y = make_data(rows)
    return regnn.Dataset(x, y)


def model(seed=5, **kw):
    return regnn.Model(4, [regnn.Dense(8, "relu", **kw), regnn.Dense(1)]).init(seed=seed)


class TestFit(unittest.TestCase):
    def test_history(self):
        with data() as ds, model() as m, regnn.Adam(learning_rate=0.01) as o:
            h = m.fit(ds, o, epochs=7, batch_size=16, validation_split=0.25, eval_train=True)
            self.assertEqual(o.steps, 7 * 3)  # 48 training rows / 16
        self.assertIsInstance(h, History)
        self.assertEqual((h.epochs, len(h)), (7, 7))
        self.assertEqual(h.stop_reason, regnn.STOP_COMPLETED)
        self.assertEqual(h.stop_reason_name, "completed")
        self.assertEqual(tuple(h.metrics), regnn.METRICS)
        for name in regnn.METRICS:
            self.assertEqual(len(h[name]), 7)
            self.assertIs(getattr(h, name), h.metrics[name])
            self.assertEqual(h.history[name], [float(v) for v in h.metrics[name]])
            self.assertIs(type(h.history[name]), list)
        self.assertLess(h.loss[-1], h.loss[0])
        self.assertTrue(all(v > 0 for v in h.val_mse))
        self.assertTrue(all(abs(a - (b + c)) < 1e-12 for a, b, c in zip(h.loss, h.mse, h.penalty)))
        self.assertIsNotNone(h.best_epoch)
        self.assertIn("7 epochs", repr(h))
        with self.assertRaises(AttributeError):
            h.nonexistent

    def test_unrecorded_metrics_are_nan(self):
        with data() as ds, model() as m:
            h = m.fit(ds, regnn.SGD(), epochs=2)
        self.assertTrue(all(math.isnan(v) for v in h.val_loss))
        self.assertTrue(all(math.isnan(v) for v in h.train_eval_mse))
        # Keras' History.history holds only what was recorded.
        self.assertEqual(list(h.history),
                         ["loss", "mse", "penalty", "mae", "seconds", "learning_rate"])

    def test_validation_data_and_pairs(self):
        x, y = make_data(64)
        with model() as m, regnn.Adam() as o:
            h = m.fit((x[:48], y[:48]), o, epochs=2, validation_data=(x[48:], y[48:]))
            self.assertFalse(math.isnan(h.val_loss[0]))
            with regnn.Dataset(x[48:], y[48:]) as va:
                h2 = m.fit((x[:48], y[:48]), o, epochs=1, validation_data=va)
                self.assertFalse(math.isnan(h2.val_mse[0]))
                with self.assertRaises(regnn.InvalidArgumentError):
                    m.fit((x, y), o, validation_data=va, validation_split=0.1)
                self.assertFalse(va.closed)

    def test_same_as_split_tail(self):
        # validation_split is the Keras tail split: identical to passing split_tail's parts.
        with data() as ds:
            tr, va = ds.split_tail(0.25)
            with model() as a, model() as b:
                ha = a.fit(ds, regnn.Adam(), epochs=3, batch_size=8, validation_split=0.25)
                hb = b.fit(tr, regnn.Adam(), epochs=3, batch_size=8, validation_data=va)
                self.assertEqual(flat(a.get_params()), flat(b.get_params()))
                self.assertEqual(list(ha.val_loss), list(hb.val_loss))

    def test_early_stopping_and_restore_best(self):
        with data() as ds, model() as m:
            h = m.fit(ds, regnn.Adam(learning_rate=0.3), epochs=200, batch_size=8,
                      validation_split=0.25, early_stopping=True, patience=2, restore_best=True,
                      monitor="val_mse")
            self.assertEqual(h.stop_reason, regnn.STOP_EARLY)
            self.assertEqual(h.stop_reason_name, "early")
            self.assertLess(h.epochs, 200)
            self.assertEqual(h.best_epoch, min(range(h.epochs), key=lambda e: h.val_mse[e]))

    def test_option_errors(self):
        with data() as ds, model() as m, regnn.Adam() as o:
            with self.assertRaises(regnn.InvalidArgumentError):
                m.fit(ds, o, epochs=0)
            with self.assertRaises(regnn.InvalidArgumentError):
                m.fit(ds, o, early_stopping=True)  # nothing to monitor
            with self.assertRaises(regnn.UnsupportedError):
                m.fit(ds, o, monitor="accuracy")
            with self.assertRaises(regnn.InvalidArgumentError):
                m.fit(ds, o, validation_split=1.5)
            with self.assertRaises(TypeError):
                m.fit(ds, o, callback=42)
            with self.assertRaises(TypeError):
                m.fit([1, 2, 3], o)
            with self.assertRaises(regnn.UnsupportedError):
                m.fit(ds, "adamw")  # names: "adam", "sgd"
            with self.assertRaises(TypeError):
                m.fit(ds, optimizer=42)
            with self.assertRaises(TypeError):
                regnn.Scaler.fit((ds,))
            with regnn.Dataset([[1, 2]], [1]) as wrong:
                with self.assertRaises(regnn.ShapeError):
                    m.fit(wrong, o)
            self.assertEqual(o.steps, 0)

    def test_divergence_restores_model(self):
        with data() as ds, model() as m, regnn.SGD(learning_rate=1e30) as o:
            before = flat(m.get_params())
            with self.assertRaises(regnn.NumericError) as cm:
                m.fit(ds, o, epochs=5)
            self.assertIn("restored", cm.exception.message)
            self.assertEqual(flat(m.get_params()), before)
            self.assertEqual(o.steps, 0)

    def test_overflow_restores_model(self):
        # Each step's loss is finite, but the last one leaves weights whose
        # predictions overflow: NumericError, as for NaN, with the model restored.
        x, y = make_data(64)
        x = [[v * 1000.0 for v in r] for r in x]
        y = [v * 1000.0 for v in y]
        for split in (0.25, 0.0):
            with regnn.Dataset(x, y) as ds, \
                    regnn.Model(4, [regnn.Dense(8), regnn.Dense(1)]).init(seed=3) as m, \
                    regnn.SGD(learning_rate=1000.0) as o:
                before = flat(m.get_params())
                with self.assertRaises(regnn.NumericError) as cm:
                    m.fit(ds, o, epochs=2, batch_size=64, validation_split=split)
                self.assertIn("not finite", cm.exception.message)
                self.assertEqual(flat(m.get_params()), before)
                self.assertEqual(o.steps, 0)

    def test_to_csv_matches_the_c_writer(self):
        lib = _capi.lib
        with data() as ds, model() as m, regnn.Adam() as o, TempDir() as d:
            opts = ctypes.c_void_p()
            self.assertEqual(lib.regnn_fit_options_create(ctypes.byref(opts)), 0)
            lib.regnn_fit_options_set_int(opts, 1, 4)
            lib.regnn_fit_options_set_double(opts, 100, 0.25)
            hist = ctypes.c_void_p()
            self.assertEqual(lib.regnn_fit(m._h, o._h, ds._h, None, opts, ctypes.byref(hist)), 0)
            path = os.path.join(d, "c.csv")
            self.assertEqual(lib.regnn_history_write_csv(hist, path.encode()), 0)
            h = History._from_handle(hist.value)
            lib.regnn_history_free(hist)
            lib.regnn_fit_options_free(opts)
            with open(path) as f:
                c_text = f.read()
            self.assertEqual(h.to_csv(), c_text)
            py_path = os.path.join(d, "py.csv")
            self.assertEqual(h.to_csv(py_path), c_text)
            with open(py_path) as f:
                self.assertEqual(f.read(), c_text)
            self.assertEqual(c_text.splitlines()[0],
                             "epoch,loss,mse,penalty,mae,val_loss,val_mse,val_mae,seconds,"
                             "train_eval_mse,learning_rate")


class TestCallbacks(unittest.TestCase):
    def test_called_every_epoch_with_a_growing_history(self):
        seen = []

        def cb(epoch, h):
            seen.append((epoch, h.epochs, h.loss[-1]))

        with data() as ds, model() as m:
            h = m.fit(ds, regnn.Adam(), epochs=5, callback=cb)
        self.assertEqual([s[:2] for s in seen], [(e, e + 1) for e in range(5)])
        self.assertEqual([s[2] for s in seen], list(h.loss))

    def test_true_return_stops(self):
        with data() as ds, model() as m:
            h = m.fit(ds, regnn.Adam(), epochs=50, callback=lambda e, h: e == 2)
        self.assertEqual(h.epochs, 3)
        self.assertEqual(h.stop_reason, regnn.STOP_CALLBACK)
        self.assertEqual(h.stop_reason_name, "callback")

    def test_exception_stops_training_and_is_reraised(self):
        class Boom(Exception):
            pass

        calls = []

        def cb(epoch, h):
            calls.append(epoch)
            if epoch == 1:
                raise Boom("epoch 1")

        with data(32) as ds, model() as m, regnn.Adam() as o:
            try:
                m.fit(ds, o, epochs=10, batch_size=8, callback=cb)
                self.fail("fit did not raise")
            except Boom as e:
                self.assertEqual(str(e), "epoch 1")
                # the traceback still reaches into the callback that raised
                self.assertIn("cb", [f.name for f in traceback.extract_tb(e.__traceback__)])
            self.assertEqual(calls, [0, 1])
            self.assertEqual(o.steps, 2 * 4)  # stopped after the second epoch
            # nothing is left busy: the objects work and close normally afterwards
            h = m.fit(ds, o, epochs=1)
            self.assertEqual(h.epochs, 1)

    def test_keyboard_interrupt_propagates(self):
        def cb(epoch, h):
            raise KeyboardInterrupt

        with data() as ds, model() as m:
            with self.assertRaises(KeyboardInterrupt):
                m.fit(ds, regnn.Adam(), epochs=5, callback=cb)

    def test_callback_kept_alive(self):
        # Only fit holds the callback; collecting garbage during training must not free it.
        count = [0]

        def make():
            def cb(epoch, h):
                gc.collect()
                count[0] += 1
            return cb

        with data() as ds, model() as m:
            m.fit(ds, regnn.Adam(), epochs=4, callback=make())
        self.assertEqual(count[0], 4)

    def test_learning_rate_schedule_from_the_callback(self):
        with data() as ds, model() as m, regnn.Adam() as o:
            def cb(epoch, h):
                o.learning_rate = 0.1 / (epoch + 1)
            m.fit(ds, o, epochs=3, callback=cb)
            self.assertAlmostEqual(o.learning_rate, 0.1 / 3)

    def test_predict_and_read_params_from_the_callback(self):
        preds = []
        with data() as ds, model() as m:
            m.fit(ds, regnn.Adam(), epochs=2,
                  callback=lambda e, h: preds.append(flat(m.predict([1, 2, 3, 4]))
                                                     + [len(flat(m.get_params()))]))
        self.assertEqual(len(preds), 2)

    def test_objects_in_use_cannot_be_closed_or_changed(self):
        errors = []
        with data() as ds, model() as m, regnn.Adam() as o:
            layer = m.layers[0]
            attempts = [
                ("close model", m.close), ("close optimizer", o.close),
                ("close dataset", ds.close), ("fit again", lambda: m.fit(ds, o)),
                ("train_batch", lambda: m.train_batch(o, [1, 2, 3, 4], [1])),
                ("init", m.init), ("set_params", lambda: m.set_params(m.get_params())),
                ("seed", lambda: m.seed(1)), ("reset", o.reset),
                ("set_state", lambda: o.set_state("m", [0.0] * m.param_count)),
                ("steps", lambda: setattr(o, "steps", 0)),
                ("dropout", lambda: setattr(layer, "dropout", 0.5)),
                ("set_layers", lambda: m.set_layers(l2=0.1)),
                ("layer params", lambda: layer.set_params(layer.get_params())),
            ]

            def cb(epoch, h):
                for name, fn in attempts:
                    try:
                        fn()
                        errors.append("%s: no error" % name)
                    except regnn.StateError:
                        pass
                    except Exception as e:  # pragma: no cover - reported below
                        errors.append("%s: %r" % (name, e))
            h = m.fit(ds, o, epochs=2, callback=cb)
            self.assertEqual(h.epochs, 2)
            self.assertEqual(errors, [])
            self.assertFalse(m.closed or o.closed or ds.closed)
        self.assertTrue(m.closed and o.closed and ds.closed)

    def test_other_threads_are_refused_while_training(self):
        started, resume = threading.Event(), threading.Event()
        result = {}

        with data() as ds, model() as m, regnn.Adam() as o:
            def cb(epoch, h):
                if epoch == 0:
                    started.set()
                    resume.wait(30)

            def train():
                result["h"] = m.fit(ds, o, epochs=2, callback=cb)

            t = threading.Thread(target=train)
            t.start()
            self.assertTrue(started.wait(30))
            try:
                for fn in (lambda: m.predict([1, 2, 3, 4]), m.get_params, lambda: o.steps,
                           m.close, ds.close):
                    with self.assertRaises(regnn.StateError):
                        fn()
                self.assertEqual(ds.n_rows, 64)  # a dataset is only read: other threads may read it
            finally:
                resume.set()
                t.join(60)
            self.assertEqual(result["h"].epochs, 2)
            m.predict([1, 2, 3, 4])


class TestHistoryObject(unittest.TestCase):
    def test_plain_construction_and_csv_format(self):
        nan = float("nan")
        metrics = {name: [0.5, nan] for name in regnn.METRICS}
        metrics["seconds"] = [1e-05, 123456789.0]
        h = History(metrics, best_epoch=0, stop_reason=regnn.STOP_EARLY)
        self.assertEqual(h.to_csv().splitlines()[1:],
                         ["1,0.5,0.5,0.5,0.5,0.5,0.5,0.5,1e-05,0.5,0.5",
                          "2,nan,nan,nan,nan,nan,nan,nan,123456789,nan,nan"])
        self.assertEqual(h.stop_reason_name, "early")
        # A metric left out (a History built before learning_rate existed) reads as NaN.
        del metrics["learning_rate"]
        h2 = History(metrics)
        self.assertTrue(all(math.isnan(v) for v in h2.learning_rate))
        self.assertEqual(len(h2.learning_rate), 2)
        import copy
        self.assertEqual(copy.deepcopy(h).to_csv(), h.to_csv())

    @unittest.skipIf(np is None, "numpy")
    def test_numpy_arrays(self):
        with data() as ds, model() as m:
            h = m.fit(ds, regnn.Adam(), epochs=2)
        self.assertEqual(h.loss.dtype, np.float64)
        self.assertEqual(h.loss.shape, (2,))


if __name__ == "__main__":
    unittest.main()


class TestThreads(unittest.TestCase):
    """threads=: the same bits at every count; setting and errors."""

    def train(self, threads, via_fit):
        x, y = make_data(200)
        m = regnn.Model(4, [regnn.Dense(96, "relu", l2=1e-3, dropout=0.1), regnn.Dense(64, "tanh"),
                            regnn.Dense(1)], threads=None if via_fit else threads).init(seed=3)
        with m, regnn.Adam(learning_rate=0.01) as o:
            h = m.fit(x, y, optimizer=o, epochs=3, batch_size=40, validation_split=0.2,
                      threads=threads if via_fit else None)
            self.assertEqual(m.threads, threads)
            return flat(m.get_params()), [float(v) for v in h.val_loss], o.steps

    def test_same_bits_for_every_count(self):
        ref = self.train(1, False)
        for n in (2, 3):
            for via_fit in (False, True):
                self.assertEqual(self.train(n, via_fit), ref)

    def test_setting_and_errors(self):
        with model() as m:
            self.assertEqual(m.threads, 0)  # the automatic count, by default
            m.threads = 1
            self.assertEqual(m.threads, 1)
            m.threads = 0
            self.assertEqual(m.threads, 0)
            with self.assertRaises(ValueError):
                m.threads = 257
            with self.assertRaises((ValueError, TypeError)):
                m.threads = -1
            self.assertEqual(m.threads, 0)
            m.threads = 2
            with m.copy() as c:
                self.assertEqual(c.threads, 2)
            with data() as ds:
                seen = []

                def cb(epoch, hist):
                    with self.assertRaises(regnn.StateError):
                        m.threads = 1
                    seen.append(epoch)
                m.fit(ds, "adam", epochs=2, callback=cb)
            self.assertEqual(seen, [0, 1])
            self.assertEqual(m.threads, 2)
