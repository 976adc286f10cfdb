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
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Model(0)
        e = _errors.error_for(1)
        self.assertIn("regnn_model_create", e.message)

    def test_check(self):
        self.assertIsNone(_errors.check(0))
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
        self.assertLibError(regnn.InvalidArgumentError, 1, "regnn_model_create: n_inputs must be",
                            regnn.Model, 0)

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
        self.assertLibError(regnn.UnsupportedError, 10, "unknown activation 7", m.add_dense, 1, 7)
        # The binding's own check for a name it does not know.
        with self.assertRaises(regnn.UnsupportedError) as cm:
            m.add_dense(1, "swish")
        self.assertIn("unknown activation 'swish'", cm.exception.message)

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


if __name__ == "__main__":
    unittest.main()
