# SPDX-License-Identifier: MIT
"""Dataset and Scaler: construction from every input kind, zero-copy, CSV, splits, scaling."""

import array
import ctypes
import gc
import math
import os
import unittest

from _support import TempDir, f32, flat, make_data, needs_numpy, np, regnn, tolist

X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.5, 9.25], [-1.0, 0.5, 1e-3]]
Y = [10.0, 20.0, 30.0, 40.0]
X32 = [[f32(v) for v in r] for r in X]


class TestConstruction(unittest.TestCase):
    def check(self, ds, x=X32, y=Y):
        self.assertEqual(ds.shape, (len(x), len(x[0]), 1))
        self.assertEqual(len(ds), len(x))
        self.assertEqual(tolist(ds.features()), x)
        self.assertEqual(tolist(ds.targets()), [[v] for v in y])

    def test_lists_and_tuples(self):
        with regnn.Dataset(X, Y) as ds:
            self.check(ds)
            self.assertFalse(ds.borrowed)
        with regnn.Dataset.from_arrays(tuple(map(tuple, X)), tuple(Y)) as ds:
            self.check(ds)
        with regnn.Dataset(X, [[v] for v in Y]) as ds:
            self.check(ds)

    def test_array_array_float_is_zero_copy(self):
        xa = array.array("f", flat(X))
        ya = array.array("f", Y)
        with regnn.Dataset(xa, ya, n_features=3) as ds:
            self.check(ds)
            self.assertTrue(ds.borrowed)
            xa[0] = 100.0  # the library reads xa itself (the contract says: don't; we prove it)
            self.assertEqual(flat(ds.features())[0], 100.0)
            with self.assertRaises(BufferError):
                xa.append(1.0)  # cannot be resized while borrowed
        xa.append(1.0)  # closed: the export is released

    def test_array_array_double_is_converted(self):
        xa = array.array("d", flat(X))
        with regnn.Dataset(xa, array.array("d", Y), n_features=3) as ds:
            self.check(ds)
            self.assertFalse(ds.borrowed)
            xa[0] = 100.0
            self.assertEqual(flat(ds.features())[0], 1.0)

    def test_ctypes_and_memoryview(self):
        cx = (ctypes.c_float * 12)(*flat(X))
        with regnn.Dataset(cx, memoryview(array.array("f", Y)), n_features=3) as ds:
            self.check(ds)
            self.assertTrue(ds.borrowed)
        ro = memoryview(bytes(array.array("f", flat(X))))  # read-only float bytes -> copied
        with regnn.Dataset(ro.cast("f"), Y, n_features=3) as ds:
            self.check(ds)
            self.assertFalse(ds.borrowed)

    def test_flat_targets(self):
        with regnn.Dataset(X, [1, 2, 3, 4, 5, 6, 7, 8], n_targets=2) as ds:
            self.assertEqual(ds.n_targets, 2)
            self.assertEqual(tolist(ds.targets()), [[1, 2], [3, 4], [5, 6], [7, 8]])

    def test_one_d_x_is_one_feature(self):
        with regnn.Dataset([1, 2, 3], [4, 5, 6]) as ds:
            self.assertEqual(ds.shape, (3, 1, 1))

    def test_bad_inputs(self):
        with self.assertRaises(regnn.ShapeError):
            regnn.Dataset([[1, 2], [3]], [1, 2])  # ragged
        with self.assertRaises(regnn.ShapeError):
            regnn.Dataset(X, Y[:3])  # row counts differ
        with self.assertRaises(regnn.ShapeError):
            regnn.Dataset(flat(X), Y, n_features=5)  # not whole rows
        with self.assertRaises(TypeError):
            regnn.Dataset("1,2,3", Y)
        with self.assertRaises(TypeError):
            regnn.Dataset([["a", "b"]], [1])
        with self.assertRaises(TypeError):
            regnn.Dataset(None, Y)
        with self.assertRaises(TypeError):
            regnn.Dataset(42, Y)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Dataset([], [])
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Dataset(X, Y, n_features=-1)

    def test_copy_mode_borrows_nothing(self):
        xa = array.array("f", flat(X))
        with regnn.Dataset(xa, Y, n_features=3, copy=True) as ds:
            self.assertFalse(ds.borrowed)
            xa[0] = 100.0
            self.assertEqual(flat(ds.features())[0], 1.0)
            xa.append(0.0)  # not exported

    def test_names(self):
        with regnn.Dataset(X, Y) as ds:
            self.assertEqual(ds.feature_names, ("x0", "x1", "x2"))
            self.assertEqual(ds.target_names, ("y0",))

    def test_repr(self):
        ds = regnn.Dataset(X, Y)
        self.assertEqual(repr(ds), "<regnn.Dataset 4 rows, 3 features, 1 targets>")
        ds.close()
        self.assertEqual(repr(ds), "<regnn.Dataset closed>")


@needs_numpy
class TestNumpyZeroCopy(unittest.TestCase):
    def test_float32_c_contiguous_is_borrowed(self):
        x = np.array(X, dtype=np.float32)
        y = np.array(Y, dtype=np.float32)
        ds = regnn.Dataset(x, y)
        self.assertTrue(ds.borrowed)
        self.assertEqual(ds._borrowed, (True, True))
        # The library reads the caller's buffer: a write to x is visible through the C call.
        x[2, 1] = 123.5
        y[3] = -7.0
        self.assertEqual(ds.features()[2, 1], 123.5)
        self.assertEqual(ds.targets()[3, 0], -7.0)
        ds.close()

    def test_float64_and_non_contiguous_are_converted_once(self):
        x64 = np.array(X, dtype=np.float64)
        xt = np.asfortranarray(np.array(X, dtype=np.float32))
        wide = np.zeros((4, 6), dtype=np.float32)
        wide[:, ::2] = X
        xs = wide[:, ::2]  # strided view
        for x in (x64, xt, xs):
            with regnn.Dataset(x, Y) as ds:
                self.assertEqual(ds._borrowed, (False, False))
                self.assertEqual(ds.features().tolist(), X32)
                x[0, 0] = 99.0
                self.assertEqual(ds.features()[0, 0], 1.0)  # the private copy is used

    def test_big_endian_and_int_inputs(self):
        with regnn.Dataset(np.array(X, dtype=">f4"), np.arange(4)) as ds:
            self.assertFalse(ds.borrowed)
            self.assertEqual(ds.features().tolist(), X32)
            self.assertEqual(ds.targets().ravel().tolist(), [0, 1, 2, 3])

    def test_borrowed_array_is_kept_alive(self):
        x = np.array(X, dtype=np.float32)
        ds = regnn.Dataset(x, np.array(Y, dtype=np.float32))
        del x
        gc.collect()
        np.ones((1000, 1000), dtype=np.float32)  # reuse freed memory if it had been freed
        self.assertEqual(ds.features().tolist(), X32)
        ds.close()

    def test_converted_copy_is_kept_alive(self):
        ds = regnn.Dataset(np.array(X, dtype=np.float64), Y)
        gc.collect()
        np.ones((1000, 1000), dtype=np.float32)
        self.assertEqual(ds.features().tolist(), X32)

    def test_read_only_array(self):
        x = np.array(X, dtype=np.float32)
        x.flags.writeable = False
        with regnn.Dataset(x, Y) as ds:
            self.assertTrue(ds.borrowed)
            self.assertEqual(ds.features().tolist(), X32)

    def test_features_into_out(self):
        with regnn.Dataset(X, Y) as ds:
            out = np.empty((4, 3), dtype=np.float32)
            self.assertIs(ds.features(out=out), out)
            self.assertEqual(out.tolist(), X32)
            with self.assertRaises(regnn.ShapeError):
                ds.features(out=np.empty(5, dtype=np.float32))
            with self.assertRaises(TypeError):
                ds.features(out=np.empty((4, 3)))
            ro = np.empty((4, 3), dtype=np.float32)
            ro.flags.writeable = False
            with self.assertRaises(ValueError):
                ds.features(out=ro)

    def test_numpy_and_lists_give_identical_float32(self):
        x, y = make_data(16)
        with regnn.Dataset(x, y) as a, regnn.Dataset(np.array(x), np.array(y)) as b:
            self.assertEqual(a.features().tobytes(), b.features().tobytes())

    def test_3d_rejected(self):
        with self.assertRaises(regnn.ShapeError):
            regnn.Dataset(np.zeros((2, 2, 2), np.float32), [1, 2])


class TestCsv(unittest.TestCase):
    TEXT = "age,bmi,y\n50,20.5,100\n60,30.25,200\n70,25,150\n"

    def test_parse_by_name(self):
        with regnn.Dataset.parse_csv(self.TEXT, "y") as ds:
            self.assertEqual(ds.shape, (3, 2, 1))
            self.assertEqual(ds.feature_names, ("age", "bmi"))
            self.assertEqual(ds.target_names, ("y",))
            self.assertEqual(tolist(ds.features()), [[50, 20.5], [60, 30.25], [70, 25]])
            self.assertEqual(flat(ds.targets()), [100, 200, 150])

    def test_parse_by_index_and_several(self):
        with regnn.Dataset.parse_csv(self.TEXT.encode(), [0]) as ds:
            self.assertEqual(ds.target_names, ("age",))
        with regnn.Dataset.parse_csv(self.TEXT, ["y", "bmi"]) as ds:
            self.assertEqual(ds.target_names, ("y", "bmi"))
            self.assertEqual(ds.feature_names, ("age",))
        with regnn.Dataset.parse_csv(self.TEXT, 2) as ds:
            self.assertEqual(ds.target_names, ("y",))

    def test_bad_targets(self):
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Dataset.parse_csv(self.TEXT, "nope")
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Dataset.parse_csv(self.TEXT, [7])
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.Dataset.parse_csv(self.TEXT, [])
        with self.assertRaises(TypeError):
            regnn.Dataset.parse_csv(self.TEXT, ["y", 0])

    def test_from_file(self):
        with TempDir() as d:
            path = os.path.join(d, "data ü.csv")
            with open(path, "w") as f:
                f.write(self.TEXT)
            with regnn.Dataset.from_csv(path, "y") as ds:
                self.assertEqual(ds.shape, (3, 2, 1))


class TestDerived(unittest.TestCase):
    def setUp(self):
        x = [[i, 10 * i] for i in range(10)]
        self.ds = regnn.Dataset(x, list(range(10)))

    def tearDown(self):
        self.ds.close()

    def test_split_shuffled(self):
        tr, te = self.ds.split_shuffled(0.25, seed=5)
        self.assertEqual((len(tr), len(te)), (7, 3))  # ceil(2.5)
        rows = sorted(flat(tr.targets()) + flat(te.targets()))
        self.assertEqual(rows, list(range(10)))
        tr2, te2 = self.ds.split_shuffled(0.25, seed=5)
        self.assertEqual(flat(te.targets()), flat(te2.targets()))
        with self.assertRaises(regnn.InvalidArgumentError):
            self.ds.split_shuffled(1.5)
        with self.assertRaises(regnn.InvalidArgumentError):
            self.ds.split_shuffled(0.5, seed=-1)

    def test_split_tail(self):
        tr, va = self.ds.split_tail(0.25)
        self.assertEqual(flat(tr.targets()), list(range(7)))  # floor(10 * 0.75) = 7
        self.assertEqual(flat(va.targets()), [7, 8, 9])

    def test_select(self):
        with self.ds.select([9, 0, 0]) as s:
            self.assertEqual(tolist(s.features()), [[9, 90], [0, 0], [0, 0]])
        with self.assertRaises(regnn.InvalidArgumentError):
            self.ds.select([10])
        with self.assertRaises(regnn.InvalidArgumentError):
            self.ds.select([-1])
        if np is not None:
            with self.ds.select(np.array([3, 1])) as s:
                self.assertEqual(flat(s.targets()), [3, 1])

    def test_derived_datasets_outlive_a_borrowed_source(self):
        xa = array.array("f", range(20))
        src = regnn.Dataset(xa, list(range(10)), n_features=2)
        tr, te = src.split_tail(0.5)
        src.close()
        del xa
        gc.collect()
        self.assertEqual(flat(te.features()), list(range(10, 20)))


class TestScaler(unittest.TestCase):
    def test_zscore_and_unit_norm(self):
        x = [[1, 10], [2, 10], [3, 10], [6, 10]]
        y = [1, 2, 3, 4]
        with regnn.Dataset(x, y) as ds:
            scaled, sc = ds.standardize("unit_norm", "zscore")
            self.assertEqual((sc.n_features, sc.n_targets), (2, 1))
            self.assertEqual(list(sc.feature_mean), [3.0, 10.0])
            ss = sum((v - 3.0) ** 2 for v in (1, 2, 3, 6))
            self.assertAlmostEqual(sc.feature_scale[0], math.sqrt(ss), places=12)
            self.assertEqual(sc.feature_scale[1], 1.0)  # constant column: only centred
            self.assertAlmostEqual(sc.target_scale[0], math.sqrt(1.25), places=12)
            col = [r[0] for r in tolist(scaled.features())]
            self.assertAlmostEqual(sum(v * v for v in col), 1.0, places=6)
            # inverse of the transformed targets gives the original values back
            back = sc.inverse_targets(scaled.targets())
            self.assertEqual([round(v[0], 5) for v in tolist(back)], [1, 2, 3, 4])
            one = sc.transform_features([6, 10])
            self.assertEqual(len(tolist(one)), 2)
            sc.close()
            scaled.close()

    def test_enum_codes_and_errors(self):
        with regnn.Dataset(X, Y) as ds:
            with regnn.Scaler.fit(ds, regnn.SCALE_NONE, None) as sc:
                self.assertEqual(list(sc.feature_mean), [0.0, 0.0, 0.0])
            with self.assertRaises(regnn.UnsupportedError):
                regnn.Scaler.fit(ds, "minmax")
            with self.assertRaises(regnn.UnsupportedError):
                regnn.Scaler.fit(ds, 9)
        with self.assertRaises(TypeError):
            regnn.Scaler()

    def test_transform_shape_errors(self):
        with regnn.Dataset(X, Y) as ds, regnn.Scaler.fit(ds) as sc:
            with self.assertRaises(regnn.ShapeError):
                sc.transform_features([[1, 2]])
            with regnn.Dataset([[1, 2]], [1]) as other:
                with self.assertRaises(regnn.ShapeError):
                    sc.transform(other)

    @needs_numpy
    def test_transform_features_in_place(self):
        with regnn.Dataset(X, Y) as ds, regnn.Scaler.fit(ds) as sc:
            x = np.array(X, dtype=np.float32)
            expect = ((np.array(X) - sc.feature_mean) / sc.feature_scale).astype(np.float32)
            self.assertIs(sc.transform_features(x, out=x), x)
            np.testing.assert_allclose(x, expect, rtol=1e-6)


class TestLifetime(unittest.TestCase):
    def test_close_is_idempotent_and_use_after_close_raises(self):
        ds = regnn.Dataset(X, Y)
        ds.close()
        ds.close()
        self.assertTrue(ds.closed)
        for call in (lambda: ds.n_rows, ds.features, lambda: ds.split_tail(0.5),
                     lambda: regnn.Scaler.fit(ds), lambda: len(ds)):
            with self.assertRaises(regnn.ClosedError):
                call()
        with self.assertRaises(regnn.ClosedError):
            with ds:
                pass

    def test_context_manager(self):
        with regnn.Dataset(X, Y) as ds:
            self.assertFalse(ds.closed)
        self.assertTrue(ds.closed)

    def test_exception_in_with_block_still_closes(self):
        with self.assertRaises(KeyError):
            with regnn.Dataset(X, Y) as ds:
                raise KeyError()
        self.assertTrue(ds.closed)


if __name__ == "__main__":
    unittest.main()
