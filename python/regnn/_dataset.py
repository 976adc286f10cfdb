# SPDX-License-Identifier: MIT
"""Datasets and scalers (internal; import them from regnn): Dataset, Scaler and the
declarations of include/regnn.h's datasets and standardization functions."""

import os
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_size_t, c_uint64, c_void_p

from . import _buffers as B
from ._capi import P_DOUBLE, P_FLOAT, P_HANDLE, P_SIZE, H, S, lib
from ._errors import InvalidArgumentError, ShapeError, declare
from . import _pandas
from ._handles import _Handle, _enum, _need, _nonnull, _out_handle

PROTOTYPES = {
    # datasets
    "regnn_dataset_from_arrays": (S, [P_FLOAT, P_FLOAT, c_size_t, c_size_t, c_size_t, c_int,
                                      P_HANDLE]),
    "regnn_dataset_from_csv": (S, [c_char_p, POINTER(c_char_p), P_SIZE, c_size_t, P_HANDLE]),
    "regnn_dataset_parse_csv": (S, [c_char_p, c_size_t, POINTER(c_char_p), P_SIZE, c_size_t,
                                    P_HANDLE]),
    "regnn_dataset_free": (None, [H]),
    "regnn_dataset_rows": (c_size_t, [H]),
    "regnn_dataset_features": (c_size_t, [H]),
    "regnn_dataset_targets": (c_size_t, [H]),
    "regnn_dataset_feature_name": (c_char_p, [H, c_size_t]),
    "regnn_dataset_target_name": (c_char_p, [H, c_size_t]),
    "regnn_dataset_get_features": (S, [H, P_FLOAT, c_size_t]),
    "regnn_dataset_get_targets": (S, [H, P_FLOAT, c_size_t]),
    "regnn_dataset_select": (S, [H, P_SIZE, c_size_t, P_HANDLE]),
    "regnn_dataset_split_shuffled": (S, [H, c_double, c_uint64, P_HANDLE, P_HANDLE]),
    "regnn_dataset_split_tail": (S, [H, c_double, P_HANDLE, P_HANDLE]),
    "regnn_dataset_set_weights": (S, [H, P_FLOAT, c_size_t]),
    "regnn_dataset_has_weights": (c_int, [H]),
    "regnn_dataset_get_weights": (S, [H, P_FLOAT, c_size_t]),
    "regnn_dataset_set_weight_column": (S, [H, c_char_p]),
    # standardization
    "regnn_scaler_fit": (S, [H, c_int, c_int, P_HANDLE]),
    "regnn_scaler_free": (None, [H]),
    "regnn_scaler_features": (c_size_t, [H]),
    "regnn_scaler_targets": (c_size_t, [H]),
    "regnn_scaler_get": (S, [H, c_int, P_DOUBLE, c_size_t]),
    "regnn_scaler_transform": (S, [H, H, P_HANDLE]),
    "regnn_scaler_transform_features": (S, [H, P_FLOAT, P_FLOAT, c_size_t]),
    "regnn_scaler_inverse_targets": (S, [H, P_FLOAT, P_FLOAT, c_size_t]),
}
declare(PROTOTYPES)

SCALE_NONE, SCALE_ZSCORE, SCALE_UNIT_NORM = 0, 1, 2
_STAT_FEATURE_MEAN, _STAT_FEATURE_SCALE, _STAT_TARGET_MEAN, _STAT_TARGET_SCALE = 1, 2, 3, 4
_SCALES = {"none": SCALE_NONE, "zscore": SCALE_ZSCORE, "unit_norm": SCALE_UNIT_NORM}


# ---------------------------------------------------------------- datasets

class Dataset(_Handle):
    """Rows of float features and targets (regnn_dataset).

    Dataset(x, y) is Dataset.from_arrays(x, y). A float32 C-contiguous x or y is
    borrowed without a copy: the dataset keeps a reference to it and the
    library reads its memory directly, so do not write to it while the dataset
    is open. Anything else is converted once to a private float32 copy. With
    copy=True the library makes its own copy and nothing is borrowed.
    """

    _FREE = lib.regnn_dataset_free
    _EXCLUSIVE = False

    def __init__(self, x, y, *, copy=False, n_features=None, n_targets=None, sample_weight=None):
        self._from_arrays(x, y, copy, n_features, n_targets, sample_weight)

    @classmethod
    def _wrap(cls, handle, keep=None):
        self = cls.__new__(cls)
        self._adopt(handle, keep)
        self._borrowed = (False, False)
        return self

    def __reduce__(self):
        """Pickles through the library's own encoding (regnn._pickle); copy.copy and
        copy.deepcopy give an independent object the same way."""
        from . import _pickle
        return _pickle.dataset_from_state, (_pickle.dataset_state(self),)

    @classmethod
    def from_arrays(cls, x, y, *, copy=False, n_features=None, n_targets=None,
                    sample_weight=None):
        """Dataset from x (rows x features) and y (rows x targets, or 1-D: one target).

        A 1-D x is one feature per row unless n_features is given, in which case
        x holds rows of n_features values end to end (likewise y and n_targets).
        sample_weight: one weight per row (Keras' sample_weight), copied.
        """
        self = cls.__new__(cls)
        self._from_arrays(x, y, copy, n_features, n_targets, sample_weight)
        return self

    def _from_arrays(self, x, y, copy, n_features, n_targets, sample_weight=None):
        if _pandas.is_pandas(x) or _pandas.is_pandas(y):  # columns keep their names
            text, tcols = _pandas.csv_of(x, y)
            self._adopt(_parse_csv(text, tcols))
            self._borrowed = (False, False)
            self._weighted_by(None, sample_weight)
            return
        if n_features is not None:
            n_features = B.index(n_features, "n_features")
        if n_targets is not None:
            n_targets = B.index(n_targets, "n_targets")
        bx = B.as_input(x, "x", n_features, "flat" if n_features is not None else "column")
        by = B.as_input(y, "y", n_targets, "flat" if n_targets is not None else "column")
        if bx.rows != by.rows:
            raise ShapeError("x has %d rows but y has %d" % (bx.rows, by.rows))
        if bx.size == 0 or by.size == 0:
            raise InvalidArgumentError("a dataset needs at least one row, feature and target "
                                       "(x is %d x %d, y is %d x %d)"
                                       % (bx.rows, bx.cols, by.rows, by.cols))
        mode = 0 if copy else 1  # REGNN_COPY / REGNN_BORROW
        h = _out_handle(lib.regnn_dataset_from_arrays, bx.ptr, by.ptr, bx.rows, bx.cols, by.cols,
                        mode)
        self._adopt(h, None if copy else (bx.keep, by.keep))
        self._borrowed = (False, False) if copy else (bx.zero_copy, by.zero_copy)
        self._weighted_by(None, sample_weight)

    @classmethod
    def from_dataframe(cls, df, targets, *, weight=None):
        """Dataset from a pandas DataFrame: targets is a column name or a list of them,
        weight the name of a column of sample weights or None; every other column is a
        feature. The dataset's feature and target names are the columns' names."""
        if not _pandas.is_pandas(df):
            raise TypeError("from_dataframe needs a pandas DataFrame, not %s"
                            % type(df).__name__)
        text, tcols = _pandas.csv_of(df, targets=targets, weight=weight)
        return cls._wrap(_parse_csv(text, tcols))._weighted_by(weight)

    @classmethod
    def from_csv(cls, path, targets, *, weight=None):
        """Read a CSV file (header line, then numbers). targets: a column name or
        0-based index, or a list of them (all names or all indices); weight: the
        name of a column of sample weights, or None; every other column is a
        feature."""
        p = os.fsencode(os.fspath(path))
        args = _target_args(targets)
        return cls._wrap(_out_handle(lib.regnn_dataset_from_csv, p, *args))._weighted_by(weight)

    @classmethod
    def parse_csv(cls, text, targets, *, weight=None):
        """Like from_csv, reading CSV text (str or bytes) from memory."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        args = _target_args(targets)
        return cls._wrap(_out_handle(lib.regnn_dataset_parse_csv, data, len(data),
                                     *args))._weighted_by(weight)

    def _weighted_by(self, column, weights=None):
        """Set the sample weights from a column or from values; closes self on failure."""
        try:
            if column is not None:
                self.set_weight_column(column)
            if weights is not None:
                self.sample_weight = weights
        except BaseException:
            self.close()
            raise
        return self

    # -- sample weights
    @property
    def sample_weight(self):
        """The per-row sample weights (a float32 array, a list without numpy), or None.
        Assigning one weight per row (finite, >= 0) copies them; None removes them.
        regnn_fit and evaluate weight the loss and metrics by them (Keras'
        sample_weight); select, splits and standardize carry them along."""
        h = self._handle()
        if not lib.regnn_dataset_has_weights(h):
            return None
        return self._copy_out(lib.regnn_dataset_get_weights, 1, None, one_d=True)

    @sample_weight.setter
    def sample_weight(self, w):
        h = self._handle()
        if w is None:
            lib.regnn_dataset_set_weights(h, None, 0)
            return
        bw = B.as_input(w, "sample_weight", 1, "column")
        if bw.cols != 1:
            raise ShapeError("sample_weight must be 1-D (one weight per row), got %d columns"
                             % bw.cols)
        rows = lib.regnn_dataset_rows(h)
        if bw.rows != rows:
            raise ShapeError("sample_weight has %d values for %d rows" % (bw.rows, rows))
        lib.regnn_dataset_set_weights(h, _nonnull(bw.ptr), bw.rows)

    @property
    def has_sample_weight(self):
        return bool(lib.regnn_dataset_has_weights(self._handle()))

    def set_weight_column(self, name):
        """Make the feature column called name the sample weights (it leaves the features)."""
        if not isinstance(name, (str, bytes)):
            raise TypeError("the weight column must be given by name, not %s"
                            % type(name).__name__)
        lib.regnn_dataset_set_weight_column(
            self._handle(), name.encode("utf-8") if isinstance(name, str) else name)
        self._borrowed = (False, self._borrowed[1])

    # -- shape and names
    @property
    def n_rows(self):
        return lib.regnn_dataset_rows(self._handle())

    def __len__(self):
        return self.n_rows

    @property
    def n_features(self):
        return lib.regnn_dataset_features(self._handle())

    @property
    def n_targets(self):
        return lib.regnn_dataset_targets(self._handle())

    @property
    def shape(self):
        """(rows, features, targets)."""
        h = self._handle()
        return (lib.regnn_dataset_rows(h), lib.regnn_dataset_features(h),
                lib.regnn_dataset_targets(h))

    @property
    def feature_names(self):
        h = self._handle()
        return tuple(lib.regnn_dataset_feature_name(h, i).decode("utf-8", "replace")
                     for i in range(lib.regnn_dataset_features(h)))

    @property
    def target_names(self):
        h = self._handle()
        return tuple(lib.regnn_dataset_target_name(h, i).decode("utf-8", "replace")
                     for i in range(lib.regnn_dataset_targets(h)))

    @property
    def borrowed(self):
        """True when the library reads the caller's own x or y memory (zero-copy)."""
        return any(self._borrowed) and not self.closed

    # -- data
    def _copy_out(self, fn, cols, out, one_d=False):
        h = self._handle()
        rows = lib.regnn_dataset_rows(h)
        count = rows * cols
        if out is not None:
            fn(h, _nonnull(B.as_output(out, count)), count)
            return out
        shape = (1, count) if one_d else (rows, cols)  # one_d: a vector of count values
        ptr, buf = B.new_floats(shape[0], shape[1], one_d)
        fn(h, _nonnull(ptr), count)
        return B.finish_floats(buf, shape[0], shape[1], one_d)

    def features(self, out=None):
        """All features as a rows x features float32 array (lists without numpy)."""
        return self._copy_out(lib.regnn_dataset_get_features, self.n_features, out)

    def targets(self, out=None):
        """All targets as a rows x targets float32 array (lists without numpy)."""
        return self._copy_out(lib.regnn_dataset_get_targets, self.n_targets, out)

    def to_arrays(self):
        return self.features(), self.targets()

    # -- derived datasets (the library copies the rows: they borrow nothing)
    def select(self, rows):
        """New dataset with the given rows, in that order."""
        arr, n = B.size_array(rows, "rows")
        return Dataset._wrap(_out_handle(lib.regnn_dataset_select, self._handle(), arr, n))

    def split_shuffled(self, test_size, seed=0):
        """(train, test): sklearn-style seeded shuffled split, ceil(test_size*n) test rows."""
        tr, te = c_void_p(), c_void_p()
        lib.regnn_dataset_split_shuffled(self._handle(), B.real(test_size, "test_size"),
                                               B.seed(seed), byref(tr), byref(te))
        return Dataset._wrap(tr.value), Dataset._wrap(te.value)

    def split_tail(self, fraction):
        """(train, validation): Keras validation_split, the last fraction of rows, no shuffle."""
        tr, va = c_void_p(), c_void_p()
        lib.regnn_dataset_split_tail(self._handle(), B.real(fraction, "fraction"),
                                           byref(tr), byref(va))
        return Dataset._wrap(tr.value), Dataset._wrap(va.value)

    def standardize(self, features="zscore", targets="zscore"):
        """(scaled dataset, Scaler): fit a Scaler on this dataset and transform it."""
        sc = Scaler.fit(self, features, targets)
        try:
            return sc.transform(self), sc
        except BaseException:
            sc.close()
            raise

    def __repr__(self):
        if self.closed:
            return "<regnn.Dataset closed>"
        r, f, t = self.shape
        return "<regnn.Dataset %d rows, %d features, %d targets%s%s>" % (
            r, f, t, ", sample weights" if self.has_sample_weight else "",
            ", borrowed" if self.borrowed else "")


def _parse_csv(text, target_cols):
    """A dataset handle read by the library's CSV parser from text (a str)."""
    data = text.encode("utf-8")
    return _out_handle(lib.regnn_dataset_parse_csv, data, len(data), *_target_args(target_cols))


def _target_args(targets):
    """(names, cols, n) for the CSV readers."""
    if isinstance(targets, (str, bytes, int)) or not hasattr(targets, "__iter__"):
        targets = [targets]
    targets = list(targets)
    if not targets:
        raise InvalidArgumentError("at least one target column is required")
    if all(isinstance(t, (str, bytes)) for t in targets):
        names = (c_char_p * len(targets))(
            *[t.encode("utf-8") if isinstance(t, str) else t for t in targets])
        return names, None, len(targets)
    if any(isinstance(t, (str, bytes)) for t in targets):
        raise TypeError("targets must be all column names or all column indices")
    cols, n = B.size_array(targets, "target column")
    return None, cols, n


# ---------------------------------------------------------------- scaler

class Scaler(_Handle):
    """Standardization statistics fitted on a dataset (regnn_scaler)."""

    _FREE = lib.regnn_scaler_free

    def __init__(self, *args, **kwargs):
        raise TypeError("use Scaler.fit(dataset, features=..., targets=...)")

    @classmethod
    def fit(cls, dataset, features="zscore", targets="zscore"):
        """Fit on dataset. features/targets: "none", "zscore", "unit_norm" (or SCALE_*)."""
        fk = _enum(features, _SCALES, "scaling")
        tk = _enum(targets, _SCALES, "scaling")
        h = _need(dataset, Dataset, "dataset")._handle()
        self = cls.__new__(cls)
        self._adopt(_out_handle(lib.regnn_scaler_fit, h, fk, tk))
        return self

    @classmethod
    def _wrap(cls, handle):
        self = cls.__new__(cls)
        self._adopt(handle)
        return self

    @property
    def n_features(self):
        return lib.regnn_scaler_features(self._handle())

    def __reduce__(self):
        """Pickles through the library's own encoding (regnn._pickle); copy.copy and
        copy.deepcopy give an independent object the same way."""
        from . import _pickle
        return _pickle.scaler_from_state, (_pickle.scaler_state(self),)

    @property
    def n_targets(self):
        return lib.regnn_scaler_targets(self._handle())

    def _stat(self, stat, n):
        buf = B.new_doubles(n)
        lib.regnn_scaler_get(self._handle(), stat, buf, n)
        return B.finish_doubles(buf, n)

    @property
    def feature_mean(self):
        return self._stat(_STAT_FEATURE_MEAN, self.n_features)

    @property
    def feature_scale(self):
        return self._stat(_STAT_FEATURE_SCALE, self.n_features)

    @property
    def target_mean(self):
        return self._stat(_STAT_TARGET_MEAN, self.n_targets)

    @property
    def target_scale(self):
        return self._stat(_STAT_TARGET_SCALE, self.n_targets)

    def transform(self, dataset):
        """New Dataset with standardized features and targets (dataset unchanged)."""
        return Dataset._wrap(_out_handle(lib.regnn_scaler_transform, self._handle(),
                                         _need(dataset, Dataset, "dataset")._handle()))

    def _rows(self, fn, values, cols, out, what):
        h = self._handle()
        b = B.as_input(values, what, cols, "row")
        if b.rows == 0:
            raise InvalidArgumentError("%s has no rows" % what)
        if out is None:
            ptr, buf = B.new_floats(b.rows, cols, b.ndim == 1)
            fn(h, b.ptr, ptr, b.rows)
            return B.finish_floats(buf, b.rows, cols, b.ndim == 1)
        fn(h, b.ptr, B.as_output(out, b.rows * cols), b.rows)
        return out

    def transform_features(self, x, out=None):
        """(x - mean) / scale for rows of features; out may be x itself (in place)."""
        return self._rows(lib.regnn_scaler_transform_features, x, self.n_features, out, "x")

    def inverse_targets(self, y, out=None):
        """y * scale + mean: standardized predictions back to original units."""
        return self._rows(lib.regnn_scaler_inverse_targets, y, self.n_targets, out, "y")


def _take_dataset(data, what, temps):
    """A Dataset for data (None stays None); one made here is appended to temps,
    for the caller to close."""
    if data is None:
        return None
    ds, tmp = _as_dataset(data, what)
    if tmp:
        temps.append(ds)
    return ds


def _as_dataset(data, what):
    """(Dataset, is_temporary) from a Dataset or an (x, y) pair."""
    if isinstance(data, Dataset):
        data._handle()
        return data, False
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return Dataset.from_arrays(data[0], data[1]), True
    if isinstance(data, tuple) and len(data) == 3:
        return Dataset.from_arrays(data[0], data[1], sample_weight=data[2]), True
    raise TypeError("%s must be a regnn.Dataset, an (x, y) pair or an (x, y, sample_weight) "
                    "triple, not %s" % (what, type(data).__name__))


