# SPDX-License-Identifier: MIT
"""Which arrays cross into the library: alignment, dtypes and buffer formats."""

import array
import ctypes
import unittest

from _support import flat, make_data, needs_numpy, np, regnn

from regnn import _buffers as B
from regnn import _model


def unaligned_floats(n):
    """A writable float32 buffer of n values at an odd address (memoryview, no numpy)."""
    raw = bytearray(4 * n + 1)
    m = memoryview(raw)[1:].cast("f")
    for i in range(n):
        m[i] = i / 4.0
    return m


def address(p):
    """Address a pointer argument of the binding points to (a ctypes object or pointer)."""
    if isinstance(p, ctypes._Pointer):
        return ctypes.cast(p, ctypes.c_void_p).value
    return ctypes.addressof(p)


class TestAlignment(unittest.TestCase):
    def test_unaligned_buffer_is_copied(self):
        m = unaligned_floats(200)
        b = B.as_input(m, "x", 2, "flat")
        self.assertEqual(address(b.ptr) % 4, 0)
        self.assertFalse(b.zero_copy)
        self.assertEqual(list(b.ptr[:4]), [0.0, 0.25, 0.5, 0.75])
        ds = regnn.Dataset(m, [1.0] * 100, n_features=2)
        self.assertFalse(ds.borrowed)
        self.assertEqual(flat(ds.features())[:4], [0.0, 0.25, 0.5, 0.75])

    def test_aligned_buffer_stays_zero_copy(self):
        a = array.array("f", [0.5] * 8)
        b = B.as_input(a, "x", 2, "flat")
        self.assertTrue(b.zero_copy)

    def test_unaligned_out_is_refused(self):
        m = regnn.Model(2, [regnn.Dense(1)]).init(seed=1)
        with self.assertRaises(TypeError) as cm:
            m.predict([[1.0, 2.0]], out=unaligned_floats(1))
        self.assertIn("aligned", str(cm.exception))

    @needs_numpy
    def test_unaligned_ndarray_is_copied(self):
        raw = bytearray(801)
        x = np.frombuffer(raw, np.float32, 200, 1)
        self.assertFalse(x.flags.aligned)
        x[:] = np.arange(200, dtype=np.float32) / 8
        b = B.as_input(x, "x", 2, "flat")
        self.assertEqual(address(b.ptr) % 4, 0)
        self.assertFalse(b.zero_copy)
        ds = regnn.Dataset(x.reshape(100, 2), np.ones(100, np.float32))
        self.assertEqual(ds._borrowed, (False, True))  # x copied, y borrowed
        self.assertEqual(ds.features().ravel().tolist(), (np.arange(200) / 8).tolist())

    @needs_numpy
    def test_predict_gets_aligned_memory(self):
        m = regnn.Model(2, [regnn.Dense(3, "tanh"), regnn.Dense(1)]).init(seed=2)
        raw = bytearray(4 * 20 + 1)
        x = np.frombuffer(raw, np.float32, 20, 1).reshape(10, 2)
        x[:] = np.linspace(-1, 1, 20, dtype=np.float32).reshape(10, 2)
        seen = []
        real = _model._predict

        def spy(h, px, rows, py, count):
            seen.append(address(px))
            return real(h, px, rows, py, count)
        _model._predict = spy
        try:
            got = m.predict(x)
            got1 = m.predict(x[3])
        finally:
            _model._predict = real
        self.assertEqual([p % 4 for p in seen], [0, 0])
        self.assertEqual(got.tolist(), m.predict(np.array(x)).tolist())
        self.assertEqual(got1.tolist(), got[3].tolist())
        out = np.frombuffer(bytearray(4 * 10 + 1), np.float32, 10, 1)
        with self.assertRaises(TypeError) as cm:
            m.predict(x, out=out)
        self.assertIn("not aligned", str(cm.exception))


class TestDtypes(unittest.TestCase):
    @needs_numpy
    def test_non_real_dtypes_are_refused(self):
        cases = [np.array(["2020-01-01", "2020-01-02"], "datetime64[D]"),
                 np.array([1, 2], "timedelta64[s]"),
                 np.array([1.0, 2.0], object),
                 np.array(["1", "2"]),
                 np.array([b"1", b"2"]),
                 np.zeros(2, "f4,f4"),
                 np.zeros(2, "V4"),
                 np.array([1 + 0j, 2 + 0j]),
                 np.array([1, 2], np.complex64)]
        for a in cases:
            with self.subTest(dtype=str(a.dtype)):
                with self.assertRaises(TypeError) as cm:
                    regnn.Dataset(a, [1.0, 2.0])
                self.assertIn(str(a.dtype), str(cm.exception))
                self.assertIn("x has dtype", str(cm.exception))
                with self.assertRaises(TypeError):
                    regnn.Model(2, [regnn.Dense(1)]).init().predict(a)

    @needs_numpy
    def test_real_dtypes_are_converted(self):
        for dt in (np.bool_, np.int8, np.uint16, np.int64, np.float16, np.float64, ">f4"):
            with self.subTest(dtype=str(dt)):
                ds = regnn.Dataset(np.array([[1], [0]], dt), [1.0, 2.0])
                self.assertEqual(ds.features().ravel().tolist(), [1.0, 0.0])

    def test_lists_of_strings_or_complex_are_refused(self):
        # with numpy these used to be converted ("1.5" -> 1.5, 1+0j -> 1.0)
        for bad, word in ((["1.5", "2"], "string"), ([1 + 0j, 2.0], "complex"),
                          ([[1.0, None], [2.0, 3.0]], "None")):
            with self.subTest(bad=bad):
                with self.assertRaises(TypeError) as cm:
                    regnn.Dataset(bad, [1.0, 2.0])
                self.assertIn(word, str(cm.exception))

    def test_non_numeric_buffer_formats_are_refused(self):
        for buf in (array.array("u", "ab"), (ctypes.c_char * 2)(b"a", b"b")):
            with self.subTest(fmt=memoryview(buf).format):
                with self.assertRaises(TypeError) as cm:
                    regnn.Dataset(buf, [1.0, 2.0])
                self.assertIn(repr(memoryview(buf).format), str(cm.exception))

    def test_other_real_buffer_formats_are_converted(self):
        be = (ctypes.c_float.__ctype_be__ * 3)(1.0, 2.5, -3.0)  # format ">f"
        for buf, want in ((be, [1.0, 2.5, -3.0]), (array.array("i", [1, 2, -3]), [1.0, 2.0, -3.0]),
                          (array.array("d", [1.0, 2.5, -3.0]), [1.0, 2.5, -3.0]),
                          (memoryview(array.array("b", [1, 2, -3, 4, 5, 6])).cast("b", (3, 2)),
                           [1.0, 2.0, -3.0, 4.0, 5.0, 6.0])):
            with self.subTest(fmt=memoryview(buf).format):
                ds = regnn.Dataset(buf, [1.0, 2.0, 3.0])
                self.assertEqual(flat(ds.features()), want)
                self.assertFalse(ds.borrowed)


if __name__ == "__main__":
    unittest.main()
