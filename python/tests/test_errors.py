# SPDX-License-Identifier: MIT
"""Exceptions: one class per status, carrying the code and the library's message."""

import os
import pickle
import unittest

from _support import TempDir, regnn

from regnn import _capi, _errors

EXPECTED = {
    1: (regnn.InvalidArgumentError, ValueError),
    2: (regnn.OutOfMemoryError, MemoryError),
    3: (regnn.ShapeError, ValueError),
    4: (regnn.StateError, Exception),
    5: (regnn.FileError, OSError),
    6: (regnn.FormatError, ValueError),
    7: (regnn.VersionError, Exception),
    8: (regnn.NumericError, ArithmeticError),
    9: (regnn.CancelledError, Exception),
    10: (regnn.UnsupportedError, ValueError),
    11: (regnn.InternalError, Exception),
}


class TestErrorClasses(unittest.TestCase):
    def test_every_status_has_a_subclass(self):
        for code, (cls, builtin) in EXPECTED.items():
            e = _errors.error_for(code, "detail %d" % code)
            self.assertIs(type(e), cls)
            self.assertIsInstance(e, regnn.Error)
            self.assertIsInstance(e, builtin)
            self.assertEqual(e.code, code)
            self.assertEqual(cls.code, code)
            self.assertEqual(e.message, "detail %d" % code)
            self.assertEqual(e.status, _capi.lib.regnn_strerror(code).decode())
            self.assertEqual(str(e), "detail %d [%s, code %d]" % (code, e.status, code))

    def test_unknown_status_is_base_error(self):
        e = _errors.error_for(99, "future")
        self.assertIs(type(e), regnn.Error)
        self.assertEqual(e.code, 99)
        self.assertEqual(e.status, "unknown status code")

    def test_message_defaults_to_errmsg(self):
        m = regnn.Model(2, [regnn.Dense(1)]).init()
        with self.assertRaises(regnn.ShapeError):
            m.set_params([1, 2])
        e = _errors.error_for(3)
        self.assertEqual(e.c_message, "regnn_model_set_params: got 2 floats, model has 3")
        self.assertEqual(e.message, e.c_message)
        self.assertIsNone(_errors.error_for(3, "own text").c_message)

    def test_check(self):
        self.assertEqual(_errors.check(0), 0)
        with self.assertRaises(regnn.ShapeError):
            _errors.check(3)

    def test_closed_error_is_state_error(self):
        self.assertTrue(issubclass(regnn.ClosedError, regnn.StateError))
        self.assertEqual(regnn.ClosedError("x").code, 4)

    def test_pickle(self):
        e = _errors.error_for(3, "sizes differ")
        e2 = pickle.loads(pickle.dumps(e))
        self.assertIs(type(e2), regnn.ShapeError)
        self.assertEqual((e2.code, e2.message), (3, "sizes differ"))

    def test_strerror(self):
        self.assertEqual(regnn.strerror(0), "success")
        self.assertEqual(regnn.strerror(2), "out of memory")


class TestErrorsFromCalls(unittest.TestCase):
    """Each reachable status, raised by a real call, with the library's own message."""

    def assertLibError(self, cls, code, fragment, fn, *args, **kw):
        with self.assertRaises(cls) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.code, code)
        self.assertIn(fragment, cm.exception.message)
        return cm.exception

    def test_invalid_argument(self):
        e = self.assertLibError(regnn.InvalidArgumentError, 1,
                                "regnn_optimizer_set_double: REGNN_OPT_LEARNING_RATE must be in (7.00649232e-46, 3.40282357e+38), got -1",
                                regnn.Adam, -1.0)
        self.assertIn("regnn_optimizer_set_double", e.c_message)

    def test_shape(self):
        m = regnn.Model(2, [regnn.Dense(1)]).init()
        self.assertLibError(regnn.ShapeError, 3, "regnn_model_set_params: got 2 floats, model has 3",
                            m.set_params, [1, 2])

    def test_state(self):
        m = regnn.Model(2, [regnn.Dense(1)])
        self.assertLibError(regnn.StateError, 4, "not initialized", m.predict, [1, 2])

    def test_io(self):
        with TempDir() as d:
            e = self.assertLibError(regnn.FileError, 5, "cannot open", regnn.Dataset.from_csv,
                                    os.path.join(d, "missing.csv"), "y")
            self.assertIsInstance(e, OSError)

    def test_format(self):
        self.assertLibError(regnn.FormatError, 6, "line 3", regnn.Dataset.parse_csv,
                            "a,y\n1,2\n1,oops\n", "y")

    def test_numeric(self):
        self.assertLibError(regnn.NumericError, 8, "x[1][0] is NaN", regnn.Dataset,
                            [[1.0], [float("nan")]], [1.0, 2.0])
        self.assertLibError(regnn.NumericError, 8, "y[0][0] is infinite", regnn.Dataset,
                            [[1.0]], [float("inf")])

    def test_unsupported(self):
        m = regnn.Model(2)
        self.assertLibError(regnn.UnsupportedError, 10, "unknown activation 42", m.add_dense, 1, 42)
        # The binding's own check for a name it does not know.
        with self.assertRaises(regnn.UnsupportedError) as cm:
            m.add_dense(1, "mish")
        self.assertIn("unknown activation 'mish'", cm.exception.message)

    def test_binding_checks_use_the_same_classes(self):
        with self.assertRaises(regnn.ShapeError):
            regnn.Dataset([[1, 2], [3, 4]], [1, 2, 3])
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Model(-1)
        with self.assertRaises(TypeError):
            regnn.Model(1.5)

    def test_failed_call_leaves_objects_usable(self):
        m = regnn.Model(2, [regnn.Dense(1)]).init(seed=3)
        before = list(m.get_params())
        with self.assertRaises(regnn.NumericError):
            m.set_params([1.0, float("nan"), 0.0])
        self.assertEqual(list(m.get_params()), before)


class TestPythonMessages(unittest.TestCase):
    """Messages name Python calls and arguments, and state the real limits."""

    def err(self, cls, fn, *args, **kw):
        """The message of an error the binding raises itself (naming Python arguments)."""
        with self.assertRaises(cls) as cm:
            fn(*args, **kw)
        e = cm.exception
        self.assertNotRegex(e.message, r"regnn_|REGNN_")
        self.assertIsNone(e.c_message)
        return e.message

    def lib_err(self, cls, fn, *args, **kw):
        """The message of an error of the library: its own text, unchanged."""
        with self.assertRaises(cls) as cm:
            fn(*args, **kw)
        e = cm.exception
        self.assertEqual(e.message, e.c_message)
        return e.message

    def data(self):
        x = [[float(i % 3), float(i % 5)] for i in range(16)]
        return regnn.Dataset(x, [float(i % 2) for i in range(16)])

    def test_sizes_state_the_library_limits(self):
        # The library checks sizes (no copy of its limits here) and names the argument.
        for units in (0, 2 ** 24 + 1):
            e = self.lib_err(regnn.InvalidArgumentError, regnn.Model, 2, [regnn.Dense(units)])
            self.assertEqual(e, "regnn_model_add_dense: units must be in 1..16777216, got %d"
                             % units)
        self.assertEqual(regnn.Model(1, [regnn.Dense(2 ** 24)]).layers[0].units, 2 ** 24)
        self.assertEqual(self.lib_err(regnn.InvalidArgumentError, regnn.Model, 0),
                         "regnn_model_create: n_inputs must be in 1..16777216, got 0")
        self.assertIn("units must be in 1..16777216, got 0",
                      self.lib_err(regnn.InvalidArgumentError, regnn.Model(2).add_dense, 0))
        self.assertIn("Dense: units must be between 0 and",
                      self.err(regnn.InvalidArgumentError, regnn.Dense, units=-3))
        self.assertIn("Dense: dropout must be in [0, 1), got 1.0",
                      self.err(regnn.InvalidArgumentError, regnn.Dense, 3, dropout=1))
        self.assertIn("Dense: l2 must be finite and >= 0, got -0.5",
                      self.err(regnn.InvalidArgumentError, regnn.Dense, 3, l2=-0.5))
        self.assertIn("unknown activation 'mish'",
                      self.err(regnn.UnsupportedError, regnn.Dense, 3, "mish"))

    def test_fit_and_path_options(self):
        m = regnn.Model(2, [regnn.Dense(1)]).init()
        ds = self.data()
        for kw, text in (({"epochs": 0}, "epochs must be between 1 and 100000000, got 0"),
                         ({"batch_size": 2 ** 20 + 1},
                          "batch_size must be between 1 and 1048576, got 1048577"),
                         ({"patience": -1}, "patience must be between 0 and"),
                         ({"validation_split": 1.0}, "validation_split must be in [0, 1), got 1.0"),
                         ({"min_delta": float("inf")}, "min_delta must be finite and >= 0")):
            with self.subTest(kw=kw):
                self.assertIn(text, self.err(regnn.InvalidArgumentError, m.fit, ds, regnn.Adam(),
                                             **kw))
                path_kw = dict({"validation_split": 0.25}, **kw)
                self.assertIn(text, self.err(regnn.InvalidArgumentError, regnn.regularization_path,
                                             m, ds, [0.0], **path_kw))
        self.assertIn("seeds must be between 1 and 1048576, got 0",
                      self.err(regnn.InvalidArgumentError, regnn.regularization_path, m, ds, [0.0],
                               validation_split=0.25, seeds=0))
        self.assertIn("threads must be between 0 and 256, got 257",
                      self.err(regnn.InvalidArgumentError, regnn.regularization_path, m, ds, [0.0],
                               validation_split=0.25, threads=257))

    def test_library_messages_are_passed_unchanged(self):
        # No rewording by matching the library's text: the message is regnn_errmsg's, which
        # names the C function and the argument or setting that is wrong.
        ds = self.data()
        fresh = regnn.Model(2, [regnn.Dense(1)])
        self.assertEqual(self.lib_err(regnn.StateError, fresh.predict, [1.0, 2.0]),
                         "regnn_model_predict: the model is not initialized "
                         "(call regnn_model_init)")
        self.assertIn("regnn_fit: the model is not initialized",
                      self.lib_err(regnn.StateError, fresh.fit, ds, regnn.Adam()))
        self.assertIn("the model is not initialized",
                      self.lib_err(regnn.StateError, fresh.evaluate, ds))
        self.assertIn("regnn_layer_set_params: initialize the model first",
                      self.lib_err(regnn.StateError, fresh.layers[0].set_params, [1.0, 2.0, 3.0]))
        m = regnn.Model(2, [regnn.Dense(1)]).init()
        self.assertIn("regnn_model_add_dense: the topology is frozen once parameters exist",
                      self.lib_err(regnn.StateError, m.add_dense, 3))
        opt = regnn.Adam()
        m.fit(ds, opt)
        other = regnn.Model(2, [regnn.Dense(3), regnn.Dense(1)]).init()
        self.assertIn("regnn_fit: the optimizer holds state for 3 parameters, the model has 13",
                      self.lib_err(regnn.ShapeError, other.fit, ds, opt))
        self.assertIn("regnn_fit: give either validation data or REGNN_FIT_VALIDATION_SPLIT",
                      self.lib_err(regnn.InvalidArgumentError, m.fit, ds, regnn.Adam(),
                                   validation_data=ds, validation_split=0.5))
        path = regnn.regularization_path
        self.assertIn("regnn_regularization_path: the path compares validation errors",
                      self.lib_err(regnn.InvalidArgumentError, path, m, ds, [0.0]))
        self.assertIn("choosing layers needs a penalty that is a layer setting",
                      self.lib_err(regnn.InvalidArgumentError, path, m, ds, [0.0],
                                   validation_split=0.5, penalty="weight_decay", layers=[0]))
        self.assertIn("regnn_scaler_fit: unknown scaling kind (features 7, targets 1)",
                      self.lib_err(regnn.UnsupportedError, regnn.Scaler.fit, ds, 7))
        self.assertIn("regnn_regularization_path: cancelled by the progress callback",
                      self.lib_err(regnn.CancelledError, path, m, ds, [0.0, 1.0],
                                   validation_split=0.5, progress=lambda *a: True))
        # An empty grid is the binding's own check (its message names the argument).
        self.assertEqual(self.err(regnn.InvalidArgumentError, path, m, ds, [],
                                  validation_split=0.5), "regularization_path: lambdas is empty")

    def test_no_message_is_matched(self):
        # The binding has no table of the library's texts to rewrite.
        import inspect
        from regnn import _errors as E
        src = inspect.getsource(E)
        self.assertFalse(hasattr(E, "pythonize"))
        for pattern in ("startswith(", " in message", "re.compile", ".replace("):
            self.assertNotIn(pattern, src)



if __name__ == "__main__":
    unittest.main()
