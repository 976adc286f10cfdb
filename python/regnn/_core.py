# SPDX-License-Identifier: MIT
"""Pythonic classes over libregnn's handles (internal; import them from regnn)."""

import _thread
import collections
import math
import os
import sys
import threading
from ctypes import byref, c_char_p, c_double, c_float, c_int, c_size_t, c_void_p

from . import _buffers as B
from . import _io, _onnx, _pandas
from ._capi import EPOCH_FN, EXCHANGE_FN, OPTION_FIT, OPTION_LAYER, OPTION_LOSS, lib
from ._capi import option_bounds as _bounds
from . import _sigint
from ._sigint import DeferSigint
from ._schedule import LearningRateSchedule, ReduceLROnPlateau
from ._errors import (ClosedError, InvalidArgumentError, ShapeError, StateError,
                      UnsupportedError, check, error_for)

_get_ident = threading.get_ident

# ---------------------------------------------------------------- constants

ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH = 0, 1, 2, 3
INIT_GLOROT_UNIFORM, INIT_HE_UNIFORM = 0, 1
SCALE_NONE, SCALE_ZSCORE, SCALE_UNIT_NORM = 0, 1, 2
OPTIM_ADAM, OPTIM_SGD = 1, 2
MONITOR_VAL_LOSS, MONITOR_VAL_MSE, MONITOR_TRAIN_LOSS = 0, 1, 2
STOP_COMPLETED, STOP_EARLY, STOP_CALLBACK = 0, 1, 2
STATE_M, STATE_V, STATE_VELOCITY = 1, 2, 3
LOSS_MSE, LOSS_MAE, LOSS_HUBER, LOSS_LOG_COSH = 0, 1, 2, 3

_LAYER_L2, _LAYER_L1, _LAYER_DROPOUT = 1, 2, 3
# Limits the library enforces (src/model.c RG_MAX_DIM), checked here first so that errors
# name the Python argument; option ranges come from the library's table (_bounds).
MAX_DIM = 1 << 24        # inputs of a model, units of a layer
_STAT_FEATURE_MEAN, _STAT_FEATURE_SCALE, _STAT_TARGET_MEAN, _STAT_TARGET_SCALE = 1, 2, 3, 4
(_OPT_LEARNING_RATE, _OPT_BETA1, _OPT_BETA2, _OPT_EPSILON, _OPT_WEIGHT_DECAY, _OPT_MOMENTUM,
 _OPT_NESTEROV) = range(1, 8)
(_FIT_EPOCHS, _FIT_BATCH_SIZE, _FIT_SHUFFLE, _FIT_EARLY_STOPPING, _FIT_PATIENCE,
 _FIT_RESTORE_BEST, _FIT_MONITOR, _FIT_EVAL_TRAIN, _FIT_SHARD_INDEX, _FIT_SHARD_COUNT) = range(1, 11)
_FIT_VALIDATION_SPLIT, _FIT_MIN_DELTA = 100, 101
_FIT_REDUCE_LR, _FIT_REDUCE_LR_PATIENCE, _FIT_REDUCE_LR_COOLDOWN = 20, 21, 22
_FIT_REDUCE_LR_FACTOR, _FIT_REDUCE_LR_MIN_DELTA, _FIT_REDUCE_LR_MIN_LR = 120, 121, 122

_ACTIVATIONS = {"linear": ACT_LINEAR, "relu": ACT_RELU, "sigmoid": ACT_SIGMOID, "tanh": ACT_TANH}
_INITS = {"glorot_uniform": INIT_GLOROT_UNIFORM, "glorot": INIT_GLOROT_UNIFORM,
          "he_uniform": INIT_HE_UNIFORM, "he": INIT_HE_UNIFORM}
_SCALES = {"none": SCALE_NONE, "zscore": SCALE_ZSCORE, "unit_norm": SCALE_UNIT_NORM}
_MONITORS = {"val_loss": MONITOR_VAL_LOSS, "val_mse": MONITOR_VAL_MSE,
             "loss": MONITOR_TRAIN_LOSS, "train_loss": MONITOR_TRAIN_LOSS}
_STOP_NAMES = {STOP_COMPLETED: "completed", STOP_EARLY: "early", STOP_CALLBACK: "callback"}
_STATES = {"m": STATE_M, "v": STATE_V, "velocity": STATE_VELOCITY}

#: History metrics in REGNN_METRIC_* order (1-based codes), which is also the CSV column order.
METRICS = ("loss", "mse", "penalty", "mae", "val_loss", "val_mse", "val_mae", "seconds",
           "train_eval_mse", "learning_rate")

#: Verdicts of the diagnosis, indexed by REGNN_VERDICT_* (regnn_verdict_name's texts).
VERDICTS = ("insufficient", "good fit", "overfitting", "underfitting")
#: Reasons of the diagnosis, indexed by REGNN_REASON_*.
REASONS = ("none", "too_short", "no_validation", "not_finite", "val_rose", "large_gap",
           "high_error", "still_improving")
#: Names of the diagnosis values, indexed by REGNN_DIAG_* (pinned; only appended).
DIAG_VALUES = ("epochs", "best_epoch", "best_val_mse", "train_mse_at_best", "final_val_mse",
               "final_train_mse", "final_gap", "gap_at_best", "window", "window_val_mse",
               "window_train_mse", "relative_gap", "val_rise", "gap_growth", "gap_trend",
               "val_trend", "train_trend", "reference_mse", "train_level", "train_metric")
_DIAG_INTS = ("epochs", "best_epoch", "window")


def _enum(value, table, what):
    if value is None:
        value = "none" if "none" in table else None
    if isinstance(value, str):
        try:
            return table[value.lower()]
        except KeyError:
            raise UnsupportedError("unknown %s %r; expected one of %s"
                                   % (what, value, ", ".join(sorted(table)))) from None
    return B.index(value, what, -2 ** 31, 2 ** 31 - 1)


def _name_of(value, table):
    for k, v in table.items():
        if v == value:
            return k
    return str(value)


def _nonnull(ptr):
    """A valid pointer even for an empty buffer, so the library reports the real problem."""
    return ptr if ptr is not None else c_float()


# ---------------------------------------------------------------- handles

class _Handle:
    """Owns one library handle; close() / `with` / garbage collection free it exactly once."""

    _FREE = None     # the regnn_*_free function of the subclass
    _h = None        # the handle (an int), None once closed
    _busy = 0        # > 0 while a fit call uses the object
    _busy_thread = None
    _keep = None     # Python objects whose memory the handle borrows
    _EXCLUSIVE = True  # fit() modifies it: other threads must wait (datasets are only read)

    def _adopt(self, handle, keep=None):
        self._h = handle
        self._keep = keep

    @property
    def closed(self):
        """True once close() has freed the handle."""
        return self._h is None

    def _closed_error(self):
        return ClosedError("this %s is closed" % type(self).__name__)

    def _handle(self):
        h = self._h
        if h is None:
            raise self._closed_error()
        if self._busy and self._EXCLUSIVE and _get_ident() != self._busy_thread:
            raise StateError("this %s is in use by fit() in another thread" % type(self).__name__)
        return h

    def _check_idle(self, action):
        h = self._handle()
        if self._busy:
            raise StateError("cannot %s while fit() is using this %s" % (action, type(self).__name__))
        return h

    def close(self):
        """Free the library handle now. Idempotent. Raises StateError while fit() uses the object."""
        h = self._h
        if h is None:
            return
        if self._busy:
            raise StateError("cannot close this %s while fit() is using it" % type(self).__name__)
        # No call between taking the handle and freeing it (a Ctrl-C raised
        # there would leak it): _FREE is a plain class attribute.
        self._h = None
        self._FREE(h)
        self._keep = None

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @_sigint.finalizer
    def __del__(self):
        # A KeyboardInterrupt can only be raised at this function's entry (where
        # the binding's handler defers it, see _sigint) or when _FREE returns:
        # taking the handle and freeing it has no check point between them.
        try:
            h = self._h
            if h is not None and not self._busy:
                self._h = None
                self._FREE(h)
        except KeyboardInterrupt:  # freed already; raise it outside the finalizer
            if not _sigint.defer_pending():
                # interrupt_main from a new thread trips SIGINT once this has returned;
                # tripped here, the handler would run at the call's end, still in here.
                try:
                    _thread.start_new_thread(_thread.interrupt_main, ())
                except RuntimeError:  # pragma: no cover - interpreter shutdown
                    pass
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


class _Using:
    """Marks objects busy for the duration of a fit call (same-thread reentrancy guard)."""

    def __init__(self, objs):
        self.objs = [o for o in objs if o is not None]

    def __enter__(self):
        tid = _get_ident()
        for o in self.objs:
            if o._busy == 0:
                o._busy_thread = tid
            o._busy += 1

    def __exit__(self, *exc):
        for o in self.objs:
            o._busy -= 1
            if o._busy == 0:
                o._busy_thread = None
        return False


def _need(obj, cls, what):
    if not isinstance(obj, cls):
        raise TypeError("%s must be a regnn.%s, not %s" % (what, cls.__name__, type(obj).__name__))
    return obj


def _out_handle(fn, *args):
    """Call a creating function whose last argument is `T **out`; return the handle."""
    out = c_void_p()
    check(fn(*args, byref(out)))
    return out.value


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
            check(lib.regnn_dataset_set_weights(h, None, 0))
            return
        bw = B.as_input(w, "sample_weight", 1, "column")
        if bw.cols != 1:
            raise ShapeError("sample_weight must be 1-D (one weight per row), got %d columns"
                             % bw.cols)
        rows = lib.regnn_dataset_rows(h)
        if bw.rows != rows:
            raise ShapeError("sample_weight has %d values for %d rows" % (bw.rows, rows))
        check(lib.regnn_dataset_set_weights(h, _nonnull(bw.ptr), bw.rows))

    @property
    def has_sample_weight(self):
        return bool(lib.regnn_dataset_has_weights(self._handle()))

    def set_weight_column(self, name):
        """Make the feature column called name the sample weights (it leaves the features)."""
        if not isinstance(name, (str, bytes)):
            raise TypeError("the weight column must be given by name, not %s"
                            % type(name).__name__)
        check(lib.regnn_dataset_set_weight_column(
            self._handle(), name.encode("utf-8") if isinstance(name, str) else name))
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
            check(fn(h, _nonnull(B.as_output(out, count)), count))
            return out
        shape = (1, count) if one_d else (rows, cols)  # one_d: a vector of count values
        ptr, buf = B.new_floats(shape[0], shape[1], one_d)
        check(fn(h, _nonnull(ptr), count))
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
        check(lib.regnn_dataset_split_shuffled(self._handle(), B.real(test_size, "test_size"),
                                               B.seed(seed), byref(tr), byref(te)))
        return Dataset._wrap(tr.value), Dataset._wrap(te.value)

    def split_tail(self, fraction):
        """(train, validation): Keras validation_split, the last fraction of rows, no shuffle."""
        tr, va = c_void_p(), c_void_p()
        check(lib.regnn_dataset_split_tail(self._handle(), B.real(fraction, "fraction"),
                                           byref(tr), byref(va)))
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
        check(lib.regnn_scaler_get(self._handle(), stat, buf, n))
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
            check(fn(h, b.ptr, ptr, b.rows))
            return B.finish_floats(buf, b.rows, cols, b.ndim == 1)
        check(fn(h, b.ptr, B.as_output(out, b.rows * cols), b.rows))
        return out

    def transform_features(self, x, out=None):
        """(x - mean) / scale for rows of features; out may be x itself (in place)."""
        return self._rows(lib.regnn_scaler_transform_features, x, self.n_features, out, "x")

    def inverse_targets(self, y, out=None):
        """y * scale + mean: standardized predictions back to original units."""
        return self._rows(lib.regnn_scaler_inverse_targets, y, self.n_targets, out, "y")


# ---------------------------------------------------------------- models

class Dense:
    """Specification of a dense layer for Model(n_inputs, [Dense(...), ...])."""

    __slots__ = ("units", "activation", "l2", "l1", "dropout")

    def __init__(self, units, activation="linear", *, l2=0.0, l1=0.0, dropout=0.0):
        B.index(units, "Dense: units", 1, MAX_DIM)
        if activation is None:  # Keras' default: no activation
            activation = "linear"
        _enum(activation, _ACTIVATIONS, "activation")
        for name, key, value in (("l2", _LAYER_L2, l2), ("l1", _LAYER_L1, l1)):
            if value is not None:
                B.in_bounds(value, "Dense: " + name, _bounds(OPTION_LAYER, key))
        if dropout is not None:
            B.in_bounds(dropout, "Dense: dropout", _bounds(OPTION_LAYER, _LAYER_DROPOUT))
        self.units = units
        self.activation = activation
        self.l2 = l2
        self.l1 = l1
        self.dropout = dropout

    def __repr__(self):
        act = self.activation if isinstance(self.activation, str) else _name_of(
            self.activation, _ACTIVATIONS)
        extra = "".join(", %s=%g" % (k, getattr(self, k)) for k in ("l2", "l1", "dropout")
                        if getattr(self, k))
        return "Dense(%d, %r%s)" % (self.units, act, extra)


Evaluation = collections.namedtuple("Evaluation", "mse mae penalty loss")
Evaluation.__doc__ = ("Metrics of Model.evaluate: loss = the model's loss (sample-weighted, "
                      "divided by the rows) + penalty, as Keras reports it; mse and mae are "
                      "weighted means (divided by the weight sum) when there are weights.")


class Layer:
    """A dense layer, borrowed from its Model: valid while the model is open."""

    __slots__ = ("_model", "_h", "index")

    def __init__(self, model, handle, index):
        self._model = model
        self._h = handle
        self.index = index

    @property
    def model(self):
        return self._model

    def _handle(self):
        self._model._handle()
        return self._h

    def _mutable(self, action):
        self._model._check_idle(action)
        return self._h

    @property
    def inputs(self):
        return lib.regnn_layer_inputs(self._handle())

    @property
    def units(self):
        return lib.regnn_layer_units(self._handle())

    @property
    def activation(self):
        """REGNN_ACT_* code of the layer."""
        return lib.regnn_layer_activation(self._handle())

    @property
    def activation_name(self):
        return _name_of(self.activation, _ACTIVATIONS)

    @property
    def param_count(self):
        return lib.regnn_layer_param_count(self._handle())

    def _get(self, key):
        v = c_double()
        check(lib.regnn_layer_get_double(self._handle(), key, byref(v)))
        return v.value

    def _set(self, key, value, what):
        check(lib.regnn_layer_set_double(self._mutable("change " + what), key, B.real(value, what)))

    l2 = property(lambda self: self._get(_LAYER_L2),
                  lambda self, v: self._set(_LAYER_L2, v, "l2"), doc="L2 penalty coefficient")
    l1 = property(lambda self: self._get(_LAYER_L1),
                  lambda self, v: self._set(_LAYER_L1, v, "l1"), doc="L1 penalty coefficient")
    dropout = property(lambda self: self._get(_LAYER_DROPOUT),
                       lambda self, v: self._set(_LAYER_DROPOUT, v, "dropout"),
                       doc="dropout rate on the layer's output (training only)")

    def get_params(self, out=None):
        """Kernel (inputs x units, row-major) then bias (units), flat."""
        h = self._handle()
        n = lib.regnn_layer_param_count(h)
        if out is not None:
            check(lib.regnn_layer_get_params(h, _nonnull(B.as_output(out, n)), n))
            return out
        ptr, buf = B.new_floats(1, n, True)
        check(lib.regnn_layer_get_params(h, _nonnull(ptr), n))
        return B.finish_floats(buf, 1, n, True)

    def set_params(self, values):
        h = self._mutable("set parameters")
        b = B.as_input(values, "values", None, "column")
        check(lib.regnn_layer_set_params(h, _nonnull(b.ptr), b.size))

    @property
    def kernel(self):
        """The kernel as an inputs x units array (nested lists without numpy)."""
        p, ni, nu = self.get_params(), self.inputs, self.units
        if B.np is not None:
            return p[:ni * nu].reshape(ni, nu)
        return [p[i * nu:(i + 1) * nu] for i in range(ni)]

    @property
    def bias(self):
        p, ni, nu = self.get_params(), self.inputs, self.units
        return p[ni * nu:]

    def __repr__(self):
        if self._model.closed:
            return "<regnn.Layer of a closed model>"
        extra = "".join(", %s=%g" % (k, getattr(self, k)) for k in ("l2", "l1", "dropout")
                        if getattr(self, k))
        return "<regnn.Layer %d: Dense(%d, %r%s), %d inputs>" % (
            self.index, self.units, self.activation_name, extra, self.inputs)


class Model(_Handle):
    """A stack of dense layers and its parameters (regnn_model).

        model = Model(10, [Dense(64, "relu", l2=1e-3), Dense(1)])
        model.init("glorot_uniform", seed=42)
    """

    _FREE = lib.regnn_model_free
    _optimizer = None
    _shown_metrics = ()
    #: Set to True by a callback to stop fit() after the current epoch (Keras).
    stop_training = False

    def __init__(self, n_inputs, layers=(), *, threads=None):
        n = B.index(n_inputs, "Model: n_inputs", 1, MAX_DIM)
        self._layers = []
        self._n_in = n
        self._n_out = 0
        self._adopt(_out_handle(lib.regnn_model_create, n))
        for spec in layers:
            self.add(spec)
        if threads is not None:
            self.threads = threads

    @property
    def threads(self):
        """Threads fit() and train_batch() use: 1..256, or 0 for one per CPU the
        process may use (affinity mask, cgroup quota); a count above those CPUs runs
        on that many (default 1). Results are bit-identical for every count."""
        return lib.regnn_model_threads(self._handle())

    @threads.setter
    def threads(self, n):
        h = self._check_idle("change threads")
        check(lib.regnn_model_set_threads(h, B.index(n, "threads", 0, 256)))

    @classmethod
    def _wrap(cls, handle):
        self = cls.__new__(cls)
        self._adopt(handle)
        self._n_in = lib.regnn_model_inputs(handle)
        self._n_out = lib.regnn_model_outputs(handle)
        self._layers = [Layer(self, lib.regnn_model_layer(handle, i), i)
                        for i in range(lib.regnn_model_layer_count(handle))]
        return self

    # -- topology
    def add(self, layer):
        """Append a Dense spec; returns the Layer."""
        if not isinstance(layer, Dense):
            raise TypeError("Model.add expects a regnn.Dense, not %s" % type(layer).__name__)
        return self.add_dense(layer.units, layer.activation, l2=layer.l2, l1=layer.l1,
                              dropout=layer.dropout)

    def add_dense(self, units, activation="linear", *, l2=None, l1=None, dropout=None):
        """Append a dense layer (before init only); returns the Layer."""
        h = self._check_idle("add layers")
        act = _enum("linear" if activation is None else activation, _ACTIVATIONS, "activation")
        lh = c_void_p()
        check(lib.regnn_model_add_dense(h, B.index(units, "units", 1, MAX_DIM), act, byref(lh)))
        layer = Layer(self, lh.value, len(self._layers))
        self._layers.append(layer)
        self._n_out = lib.regnn_model_outputs(h)
        for key, value, what in ((_LAYER_L2, l2, "l2"), (_LAYER_L1, l1, "l1"),
                                 (_LAYER_DROPOUT, dropout, "dropout")):
            if value:
                layer._set(key, value, what)
        return layer

    @property
    def n_inputs(self):
        self._handle()
        return self._n_in

    @property
    def n_outputs(self):
        self._handle()
        return self._n_out

    @property
    def layers(self):
        """The Layer objects, in order (borrowed from this model)."""
        self._handle()
        return list(self._layers)

    def __len__(self):
        return len(self.layers)

    @property
    def param_count(self):
        return lib.regnn_model_param_count(self._handle())

    def set_layers(self, *, l2=None, l1=None, dropout=None):
        """Set L2 / L1 / dropout on every layer (None leaves a setting unchanged)."""
        h = self._check_idle("change layers")
        for key, value, what in ((_LAYER_L2, l2, "l2"), (_LAYER_L1, l1, "l1"),
                                 (_LAYER_DROPOUT, dropout, "dropout")):
            if value is not None:
                check(lib.regnn_model_set_layers_double(h, key, B.real(value, what)))

    # -- parameters
    def init(self, scheme="glorot_uniform", seed=0):
        """Initialize all parameters from seed (also seeds shuffling/dropout); returns self."""
        h = self._check_idle("initialize")
        check(lib.regnn_model_init(h, _enum(scheme, _INITS, "init scheme"), B.seed(seed)))
        return self

    def seed(self, seed):
        """Re-seed the shuffling/dropout RNG without touching parameters."""
        check(lib.regnn_model_seed(self._check_idle("re-seed"), B.seed(seed)))

    def get_params(self, out=None):
        """All parameters, flat: per layer its kernel (inputs x units) then its bias."""
        h = self._handle()
        n = lib.regnn_model_param_count(h)
        if out is not None:
            check(lib.regnn_model_get_params(h, _nonnull(B.as_output(out, n)), n))
            return out
        ptr, buf = B.new_floats(1, n, True)
        check(lib.regnn_model_get_params(h, _nonnull(ptr), n))
        return B.finish_floats(buf, 1, n, True)

    def set_params(self, values):
        """Replace all parameters (any float sequence of param_count values)."""
        h = self._check_idle("set parameters")
        b = B.as_input(values, "values", None, "column")
        check(lib.regnn_model_set_params(h, _nonnull(b.ptr), b.size))

    def copy(self):
        """Deep copy: topology, settings, parameters and RNG state."""
        return Model._wrap(_out_handle(lib.regnn_model_copy, self._handle()))

    def __reduce__(self):
        """Pickles through the library's own encoding (regnn._pickle); copy.copy and
        copy.deepcopy give an independent object the same way."""
        from . import _pickle
        return _pickle.model_from_state, (_pickle.model_state(self),)

    # -- persistence
    def save(self, path):
        """Write the model file (.rgn: topology, layer settings, parameters, RNG state and
        the attached scaler) to path, atomically; regnn.load_model reads it back."""
        _io.model_save(self._handle(), path)

    def to_bytes(self):
        """The model file's contents as bytes (regnn_model_save_mem)."""
        return _io.encode(lib.regnn_model_save_mem, self._handle())

    def export_onnx(self, path):
        """Write the model as an ONNX file (opset 13) for ONNX runtimes, atomically. With an
        attached scaler the graph takes raw inputs and returns original units; dropout is
        left out (regnn_model_export_onnx, docs/api.md)."""
        _onnx.export(self._handle(), path)

    def to_onnx(self):
        """The bytes export_onnx writes (regnn_model_export_onnx_mem)."""
        return _onnx.encode(self._handle())

    @classmethod
    def load(cls, source):
        """Model.load(path or bytes): the same as regnn.load_model."""
        return cls._wrap(_io.model_load(source))

    @classmethod
    def from_bytes(cls, data):
        """A Model decoded from the bytes of a model file (or checkpoint)."""
        if not _io.is_data(data):
            raise TypeError("from_bytes needs bytes, bytearray or memoryview, not %s"
                            % type(data).__name__)
        return cls._wrap(_io.model_load(data))

    @property
    def scaler(self):
        """A copy of the attached Scaler (a new object, yours to close), or None."""
        sh = _io.get_scaler(self._handle())
        return None if sh is None else Scaler._wrap(sh)

    def attach_scaler(self, scaler):
        """Attach a copy of scaler's statistics to the model (saved with it); None detaches.
        The model still predicts in the units it was trained in unless predict(raw=True)."""
        sh = None if scaler is None else _need(scaler, Scaler, "scaler")._handle()
        _io.attach_scaler(self._check_idle("attach a scaler"), sh)

    # -- inference
    def predict(self, x, out=None, *, raw=False):
        """Predictions for rows of x (rows x inputs; a 1-D x is one row and gives a 1-D result).

        out: optional float32 C-contiguous buffer of rows*outputs values that
        receives the predictions and is returned (no allocation).
        raw=True: x is in original (raw) units and so is the result: x goes through the
        attached scaler's transform_features, the predictions through its
        inverse_targets (StateError without an attached scaler).
        """
        if raw:
            return self._predict_raw(x, out)
        h = self._h
        if h is None or self._busy:
            h = self._handle()
        n_in = self._n_in
        n_out = self._n_out
        if (type(x) is _NDARRAY and x.dtype is _F32 and x.flags.c_contiguous and x.flags.aligned
                and 0 < x.ndim < 3 and x.shape[-1] == n_in and x.size):
            # Fast path: the caller's float32 buffer is passed as it is.
            one_d = x.ndim == 1
            rows = 1 if one_d else x.shape[0]
            try:
                px = _from_buffer(x)
            except TypeError:  # read-only
                px = B.ndarray_ptr(x)
        else:
            b = B.as_input(x, "x", n_in, "row")
            if b.rows == 0:
                raise InvalidArgumentError("predict: x has no rows")
            px, rows, one_d = b.ptr, b.rows, b.ndim == 1
        count = rows * n_out
        if out is None:
            if _np is not None and count:
                res = _empty(n_out if one_d else (rows, n_out), _F32)
                st = _predict(h, px, rows, _from_buffer(res), count)
                if st:
                    raise error_for(st)
                return res
            py, buf = B.new_floats(rows, n_out, one_d)
            check(_predict(h, px, rows, _nonnull(py), count))
            return B.finish_floats(buf, rows, n_out, one_d)
        if (type(out) is _NDARRAY and out.dtype is _F32 and out.flags.c_contiguous
                and out.flags.aligned and out.size == count and count and out.flags.writeable):
            py = _from_buffer(out)  # written in place: no allocation, no copy
        else:
            py = _nonnull(B.as_output(out, count))
        st = _predict(h, px, rows, py, count)
        if st:
            raise error_for(st)
        return out

    def _predict_raw(self, x, out):
        sh = _io.get_scaler(self._handle())
        if sh is None:
            raise StateError("predict(raw=True) needs the scaler the model was trained with: "
                             "call model.attach_scaler(scaler) first")
        with Scaler._wrap(sh) as sc:
            scaled = self.predict(sc.transform_features(x))
            return sc.inverse_targets(scaled, out=out)

    def summary(self, print_fn=None):
        """Print a Keras-like table of the layers: output shape, parameters, L2, L1 and
        dropout. print_fn(line) replaces print."""
        self._handle()
        if print_fn is None:
            print_fn = print
        rows = [("Layer (type)", "Output Shape", "Param #", "L2", "L1", "Dropout")]
        for layer in self._layers:
            rows.append(("dense_%d (Dense, %s)" % (layer.index, layer.activation_name),
                         "(None, %d)" % layer.units, "{:,}".format(layer.param_count),
                         "%g" % layer.l2, "%g" % layer.l1, "%g" % layer.dropout))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        total = sum(w + 2 for w in widths)

        def fmt(r):
            return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip()
        print_fn("Model: %d inputs -> %d output%s" % (self._n_in, self._n_out,
                                                  "" if self._n_out == 1 else "s"))
        print_fn("_" * total)
        print_fn(fmt(rows[0]))
        print_fn("=" * total)
        for i, r in enumerate(rows[1:]):
            print_fn(fmt(r))
            print_fn("_" * total if i < len(rows) - 2 else "=" * total)
        print_fn("Total params: {:,}".format(self.param_count))
        sc = _io.get_scaler(self._h)
        if sc is not None:
            lib.regnn_scaler_free(sc)
        print_fn("Scaler attached: %s" % ("yes" if sc is not None else "no"))

    def evaluate(self, data, sample_weight=None):
        """Evaluation(mse, mae, penalty, loss) over a Dataset, an (x, y) pair or an (x, y,
        sample_weight) triple, dropout off. The dataset's sample weights (or sample_weight
        with an (x, y) pair) weight the loss and metrics as in Keras' evaluate."""
        h = self._handle()
        if sample_weight is not None:
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise TypeError("evaluate(data, sample_weight): give sample_weight with an (x, y) "
                                "pair; a Dataset carries its own (Dataset.sample_weight)")
            data = (data[0], data[1], sample_weight)
        ds, tmp = _as_dataset(data, "data")
        try:
            loss, mse, mae, pen = c_double(), c_double(), c_double(), c_double()
            check(lib.regnn_model_evaluate_loss(h, ds._handle(), byref(loss), byref(mse),
                                                byref(mae), byref(pen)))
        finally:
            if tmp:
                ds.close()
        return Evaluation(mse.value, mae.value, pen.value, loss.value + pen.value)

    # -- loss
    def set_loss(self, loss="mse", delta=None):
        """The loss fit and train_batch minimize (Keras' compile(loss=...)): "mse"
        ("mean_squared_error"), "mae" ("mean_absolute_error"), "huber" (delta: Keras'
        default 1.0; or a regnn.Huber(delta)), "log_cosh" ("logcosh"). Saved with the
        model. Returns self."""
        kind, param = _loss_args(loss, delta)
        check(lib.regnn_model_set_loss(self._check_idle("change the loss"), kind, param))
        return self

    @property
    def loss(self):
        """The loss name: "mse", "mae", "huber" or "log_cosh"."""
        kind, param = c_int(), c_double()
        check(lib.regnn_model_get_loss(self._handle(), byref(kind), byref(param)))
        return _name_of(kind.value, _LOSSES)

    @property
    def huber_delta(self):
        """Huber's delta, or None for the other losses."""
        kind, param = c_int(), c_double()
        check(lib.regnn_model_get_loss(self._handle(), byref(kind), byref(param)))
        return param.value if kind.value == LOSS_HUBER else None

    # -- training
    def train_batch(self, optimizer, x, y, sample_weight=None):
        """One optimizer step on one batch; returns the batch loss before the step.
        sample_weight: one weight per row (Keras' train_on_batch sample_weight)."""
        h = self._check_idle("train")
        oh = _need(optimizer, Optimizer, "optimizer")._check_idle("train")
        bx = B.as_input(x, "x", self._n_in, "row")
        by = B.as_input(y, "y", self._n_out or None, "column" if self._n_out == 1 else "row")
        if bx.rows != by.rows:
            raise ShapeError("x has %d rows but y has %d" % (bx.rows, by.rows))
        loss = c_double()
        if sample_weight is None:
            check(lib.regnn_train_batch(h, oh, _nonnull(bx.ptr), _nonnull(by.ptr), bx.rows,
                                        byref(loss)))
            return loss.value
        bw = B.as_input(sample_weight, "sample_weight", 1, "column")
        if bw.cols != 1 or bw.rows != bx.rows:
            raise ShapeError("sample_weight must hold one weight per row: %d rows, got %d x %d"
                             % (bx.rows, bw.rows, bw.cols))
        check(lib.regnn_train_batch_weighted(h, oh, _nonnull(bx.ptr), _nonnull(by.ptr),
                                             _nonnull(bw.ptr), bx.rows, byref(loss)))
        return loss.value

    def compile(self, optimizer="adam", loss="mse", metrics=None, *, weighted_metrics=None,
                delta=None):
        """Keras' compile: the optimizer later fit calls use when given none (an Optimizer,
        or "adam" / "sgd" for a new one with Keras defaults), the loss (see set_loss:
        "mse", "mae", "huber" with delta or regnn.Huber(delta), "log_cosh"; the layers'
        penalties are added to it) and the metrics verbose fit prints ("mse", "mae"; the
        History records both anyway). The library's mse and mae are weighted by the
        sample weights when there are any: they are Keras 3's weighted_metrics=.
        metrics= names the same values (Keras 3's metrics= would ignore the weights; without
        sample weights the two are equal; docs/python.md). Returns self."""
        kind, param = _loss_args(loss, delta)
        shown = []
        for arg in (metrics, weighted_metrics):
            for m in ([arg] if isinstance(arg, str) else arg or ()):
                name = _METRIC_ALIASES.get(str(m).lower()) if isinstance(m, str) else None
                if name is None:
                    raise UnsupportedError("metric %r is not supported; use \"mse\" or "
                                           "\"mae\"" % (m,))
                if name not in shown:
                    shown.append(name)
        opt = _make_optimizer(optimizer)
        check(lib.regnn_model_set_loss(self._check_idle("compile"), kind, param))
        self._optimizer = opt
        self._shown_metrics = tuple(shown)
        return self

    @property
    def optimizer(self):
        """The optimizer set by compile(), or made by fit() from a name or by default; None
        before. An optimizer passed to fit() as an object stays the caller's and is not kept."""
        return self._optimizer

    def fit(self, x=None, y=None, optimizer=None, *, epochs=1, batch_size=32, verbose=0,
            callbacks=None, validation_split=0.0, validation_data=None, shuffle=True,
            early_stopping=False, patience=0, restore_best=False, monitor="val_loss",
            min_delta=0.0, eval_train=False, callback=None, train=None, threads=None,
            sample_weight=None, _shard=None):
        """Train; returns a History. Either form:

            model.fit(x, y, epochs=..., ...)            # Keras: arrays or lists
            model.fit(train, optimizer, epochs=..., ...)  # train: a Dataset or an (x, y) pair

        optimizer: an Optimizer (used as it is, its state carries over between calls), a
        name ("adam", "sgd": a new one with Keras defaults, kept as model.optimizer), or
        None: model.optimizer (from compile() or an earlier fit), else a new Adam.

        verbose: 0 silent (the default), 1 a progress bar over the epochs (rewritten in
        place on a terminal), 2 one line per epoch. callbacks: objects with Keras'
        on_train_begin / on_epoch_end(epoch, logs) / on_train_end methods (see
        regnn.Callback; setting model.stop_training = True stops after the epoch), or
        functions called as callback(epoch, history). callback(epoch, history) runs
        after every epoch (epoch is 0-based, history a History of the epochs so far); a
        true return value stops training. An exception raised by a callback stops
        training and is re-raised from fit (the model keeps the weights of the epochs
        done). The History's diagnosis (and the callback's) uses as its reference the
        MSE of predicting the training targets' mean on the validation rows.

        threads: if given, sets model.threads first (it stays set): the step runs on that
        many threads with the same bits as on one.

        sample_weight (with x and y arrays; a Dataset carries its own) weights the rows as
        Keras' sample_weight does; validation_data may be an (x, y, sample_weight) triple,
        and a validation_split takes the weights of its rows.
        """
        h = self._check_idle("start another fit")
        if threads is not None:
            self.threads = threads
        if isinstance(y, (Optimizer, str)):  # fit(train, optimizer): the explicit form
            if optimizer is not None:
                raise TypeError("fit() got an optimizer twice (as y and as optimizer)")
            optimizer, y = y, None
        if train is not None:
            if x is not None:
                raise TypeError("fit() got the training data twice (as x and as train)")
            x = train
        if x is None:
            raise TypeError("fit() needs training data: fit(x, y) with arrays or lists, or "
                            "fit(dataset) with a regnn.Dataset")
        if y is not None:
            if isinstance(x, Dataset):
                raise TypeError("fit(dataset, y): a Dataset already holds the targets; "
                                "call fit(dataset) or fit(x, y)")
            x = (x, y)
        if sample_weight is not None:
            if not isinstance(x, (tuple, list)) or len(x) != 2:
                raise TypeError("fit(sample_weight=...) goes with x and y arrays; a Dataset "
                                "carries its own weights (Dataset.sample_weight)")
            x = (x[0], x[1], sample_weight)
        if optimizer is None:
            if self._optimizer is None:
                self._optimizer = Adam()
            optimizer = self._optimizer
        elif isinstance(optimizer, str):
            optimizer = self._optimizer = _make_optimizer(optimizer)
        oh = _need_optimizer(optimizer)._check_idle("fit")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        if batch_size is None:
            batch_size = 32  # Keras' default
        verbose = _verbosity(verbose)
        cbs = _callback_list(callbacks)
        plateaus = [cb for cb in cbs if isinstance(cb, ReduceLROnPlateau)]
        cbs = [cb for cb in cbs if not isinstance(cb, ReduceLROnPlateau)]
        split = B.real(validation_split, "validation_split")
        settings = _fit_settings(epochs, batch_size, shuffle, early_stopping, patience,
                                 restore_best, monitor, min_delta, split) + (
            (lib.regnn_fit_options_set_int, _FIT_EVAL_TRAIN, int(bool(eval_train))),
        ) + _plateau_settings(plateaus, monitor)
        exchange = None
        if _shard is not None:  # (index, count, exchange): regnn.mpi_fit
            index, count, exchange = _shard
            settings += ((lib.regnn_fit_options_set_int, _FIT_SHARD_INDEX, index),
                         (lib.regnn_fit_options_set_int, _FIT_SHARD_COUNT, count))
        progress = _Progress(verbose, epochs, self._shown_metrics) if verbose else None
        each = _epoch_function(self, callback, cbs, progress)
        self.stop_training = False
        for cb in cbs:
            if hasattr(cb, "set_model"):
                cb.set_model(self)
            elif hasattr(cb, "on_epoch_end"):
                cb.model = self
        for cb in cbs:
            if hasattr(cb, "on_train_begin"):
                cb.on_train_begin({})
        try:
            with DeferSigint() as sigint:
                history = self._fit(h, oh, optimizer, x, validation_data, split, settings,
                                    each, sigint, exchange)
        finally:
            if progress is not None:
                progress.close()
        logs = _epoch_logs(history, history.epochs - 1) if history.epochs else {}
        for cb in cbs:
            if hasattr(cb, "on_train_end"):
                cb.on_train_end(logs)
        return history

    def _fit(self, h, oh, optimizer, train, validation_data, split, settings, callback, sigint,
             exchange=None):
        temps = []
        try:
            tr = _take_dataset(train, "train", temps)
            va = _take_dataset(validation_data, "validation_data", temps)
            with _FitOptions() as opts:
                oph = opts._h
                for fn, key, value in settings:
                    check(fn(oph, key, value))
                baseline = _baseline_mse(tr, va, split)
                raised = []
                cfn = None
                if callback is not None or sigint.active:
                    def trampoline(user, hist, epoch):
                        # A deferred Ctrl-C lands at entry without raising (DeferSigint).
                        try:
                            stop = False
                            if callback is not None:
                                sigint.in_python = True
                                try:
                                    so_far = History._from_handle(hist, baseline)
                                    stop = callback(epoch, so_far)
                                finally:
                                    sigint.in_python = False
                            return 1 if stop or sigint.pending else 0
                        except BaseException as e:  # stop training; re-raised below
                            raised.append(e)
                            return 1
                    cfn = EPOCH_FN(trampoline)  # referenced until fit returns
                    check(lib.regnn_fit_options_set_callback(oph, cfn, None))
                xfn = None
                if exchange is not None:
                    def xtrampoline(user, grad, n, sums, n_sums):
                        try:
                            return 1 if exchange(grad, n, sums, n_sums) else 0
                        except BaseException as e:  # fails the fit; re-raised below
                            raised.append(e)
                            return 1
                    xfn = EXCHANGE_FN(xtrampoline)  # referenced until fit returns
                    check(lib.regnn_fit_options_set_exchange(oph, xfn, None))
                if sigint.interrupted():
                    raise KeyboardInterrupt
                hist = c_void_p()
                with _Using((self, optimizer, tr, va)):
                    st = lib.regnn_fit(h, oh, tr._h, va._h if va is not None else None, oph,
                                       byref(hist))
                    err = error_for(st) if st else None
                try:
                    if raised:
                        raise raised[0]
                    if sigint.interrupted():
                        raise KeyboardInterrupt
                    if err is not None:
                        raise err
                    return History._from_handle(hist.value, baseline)
                finally:
                    lib.regnn_history_free(hist.value)
                    del cfn, xfn
        finally:
            for d in temps:
                d.close()

    def __repr__(self):
        if self.closed:
            return "<regnn.Model closed>"
        return "<regnn.Model %d inputs: %s; %d parameters>" % (
            self._n_in, ", ".join(repr(l) for l in self._layers) or "no layers",
            self.param_count)


def _plateau_settings(plateaus, monitor):
    """Fit options of a ReduceLROnPlateau from fit's callbacks (at most one)."""
    if not plateaus:
        return ()
    if len(plateaus) > 1:
        raise InvalidArgumentError("fit takes at most one ReduceLROnPlateau callback")
    p = plateaus[0]
    if _enum(p.monitor, _MONITORS, "monitor") != _enum(monitor, _MONITORS, "monitor"):
        raise InvalidArgumentError(
            "ReduceLROnPlateau(monitor=%r) must watch fit's monitor (%r): the library has one "
            "monitored value; pass monitor=%r to fit" % (p.monitor, monitor, p.monitor))
    return (
        (lib.regnn_fit_options_set_int, _FIT_REDUCE_LR, 1),
        (lib.regnn_fit_options_set_int, _FIT_REDUCE_LR_PATIENCE,
         B.index(p.patience, "patience", 0, B.I64_MAX)),
        (lib.regnn_fit_options_set_int, _FIT_REDUCE_LR_COOLDOWN,
         B.index(p.cooldown, "cooldown", 0, B.I64_MAX)),
        (lib.regnn_fit_options_set_double, _FIT_REDUCE_LR_FACTOR, B.real(p.factor, "factor")),
        (lib.regnn_fit_options_set_double, _FIT_REDUCE_LR_MIN_DELTA,
         B.real(p.min_delta, "min_delta")),
        (lib.regnn_fit_options_set_double, _FIT_REDUCE_LR_MIN_LR, B.real(p.min_lr, "min_lr")),
    )


def _fit_settings(epochs, batch_size, shuffle, early_stopping, patience, restore_best, monitor,
                  min_delta, validation_split):
    """(setter, key, value) of the regnn_fit options shared by fit and regularization_path."""
    return (
        (lib.regnn_fit_options_set_int, _FIT_EPOCHS, B.in_bounds(epochs, "epochs", _bounds(OPTION_FIT, _FIT_EPOCHS))),
        (lib.regnn_fit_options_set_int, _FIT_BATCH_SIZE,
         B.in_bounds(batch_size, "batch_size", _bounds(OPTION_FIT, _FIT_BATCH_SIZE))),
        (lib.regnn_fit_options_set_int, _FIT_SHUFFLE, int(bool(shuffle))),
        (lib.regnn_fit_options_set_int, _FIT_EARLY_STOPPING, int(bool(early_stopping))),
        (lib.regnn_fit_options_set_int, _FIT_PATIENCE, B.in_bounds(patience, "patience", _bounds(OPTION_FIT, _FIT_PATIENCE))),
        (lib.regnn_fit_options_set_int, _FIT_RESTORE_BEST, int(bool(restore_best))),
        (lib.regnn_fit_options_set_int, _FIT_MONITOR, _enum(monitor, _MONITORS, "monitor")),
        (lib.regnn_fit_options_set_double, _FIT_VALIDATION_SPLIT,
         B.in_bounds(validation_split, "validation_split",
                     _bounds(OPTION_FIT, _FIT_VALIDATION_SPLIT))),
        (lib.regnn_fit_options_set_double, _FIT_MIN_DELTA,
         B.in_bounds(min_delta, "min_delta", _bounds(OPTION_FIT, _FIT_MIN_DELTA))),
    )


_predict = lib.regnn_model_predict
_from_buffer = c_float.from_buffer
_np = B.np
_NDARRAY = B.NDARRAY
_F32 = B.F32
_empty = _np.empty if _np is not None else None


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


class _FitOptions(_Handle):
    _FREE = lib.regnn_fit_options_free

    def __init__(self):
        self._adopt(_out_handle(lib.regnn_fit_options_create))


# ---------------------------------------------------------------- optimizers

def _opt_property(key, name, doc, conv=float):
    def fget(self):
        v = c_double()
        check(lib.regnn_optimizer_get_double(self._handle(), key, byref(v)))
        return conv(v.value)

    def fset(self, value):
        # Allowed from a fit callback (a learning-rate schedule): the value is read per step.
        check(lib.regnn_optimizer_set_double(self._handle(), key, B.real(value, name)))
    return property(fget, fset, doc=doc)


class Optimizer(_Handle):
    """Base of Adam and SGD (regnn_optimizer). Options given as None keep the library default."""

    _FREE = lib.regnn_optimizer_free
    _KIND = None
    _OPTIONS = ()

    def __init__(self, **options):
        if self._KIND is None:
            raise TypeError("use regnn.Adam or regnn.SGD")
        self._adopt(_out_handle(lib.regnn_optimizer_create, self._KIND))
        for name, value in options.items():
            if name not in self._OPTIONS:
                raise TypeError("%s has no option %r" % (type(self).__name__, name))
            if value is not None:
                setattr(self, name, value)

    @classmethod
    def _wrap(cls, handle):
        kind = lib.regnn_optimizer_kind(handle)
        sub = Adam if kind == OPTIM_ADAM else SGD if kind == OPTIM_SGD else Optimizer
        self = sub.__new__(sub)
        self._adopt(handle)
        return self

    def __reduce__(self):
        """Pickles through the library's own encoding (regnn._pickle); copy.copy and
        copy.deepcopy give an independent object the same way."""
        from . import _pickle
        return _pickle.optimizer_from_state, (_pickle.optimizer_state(self),)

    @property
    def kind(self):
        """REGNN_OPTIM_ADAM or REGNN_OPTIM_SGD."""
        return lib.regnn_optimizer_kind(self._handle())

    @property
    def learning_rate(self):
        """Step size: a number, or a schedule (regnn.ExponentialDecay, ...) to set one.
        Reads as the rate the next step uses (with a schedule, its value at `steps`, as
        Keras' optimizer.learning_rate)."""
        return self.learning_rate_at(self.steps)

    @learning_rate.setter
    def learning_rate(self, value):
        h = self._handle()
        if isinstance(value, LearningRateSchedule):
            self.schedule = value
            return
        had = self.schedule is not None
        if had:  # a number replaces the schedule: refused as a whole during fit
            self._check_idle("replace the schedule")
        check(lib.regnn_optimizer_set_double(h, _OPT_LEARNING_RATE,
                                             B.real(value, "learning_rate")))
        if had:
            check(lib.regnn_optimizer_set_schedule(h, 0, None, 0))

    @property
    def schedule(self):
        """The learning-rate schedule (a regnn.LearningRateSchedule), or None. Setting
        None returns to the constant learning rate."""
        h = self._handle()
        kind, n = c_int(), c_size_t()
        check(lib.regnn_optimizer_get_schedule(h, byref(kind), None, 0, byref(n)))
        if n.value == 0:
            return None
        buf = (c_double * n.value)()
        check(lib.regnn_optimizer_get_schedule(h, byref(kind), buf, n.value, byref(n)))
        return LearningRateSchedule._from_params(kind.value, list(buf))

    @schedule.setter
    def schedule(self, value):
        h = self._check_idle("set a schedule")
        if value is None:
            check(lib.regnn_optimizer_set_schedule(h, 0, None, 0))
            return
        if not isinstance(value, LearningRateSchedule):
            raise TypeError("schedule must be a regnn.LearningRateSchedule (ExponentialDecay, "
                            "PiecewiseConstantDecay, CosineDecay) or None, not %s"
                            % type(value).__name__)
        p = [float(v) for v in value.params()]
        buf = (c_double * max(len(p), 1))(*p)
        check(lib.regnn_optimizer_set_schedule(h, value.kind, buf, len(p)))

    def learning_rate_at(self, step):
        """The rate of the update after `step` steps (the schedule at step, or the constant
        learning rate)."""
        v = c_double()
        check(lib.regnn_optimizer_learning_rate_at(self._handle(), B.seed(step, "step"),
                                                   byref(v)))
        return v.value
    weight_decay = _opt_property(_OPT_WEIGHT_DECAY, "weight_decay",
                                 "decoupled weight decay (theta -= lr*wd*theta before the step)")

    @property
    def steps(self):
        """Steps taken since creation or the last reset."""
        return lib.regnn_optimizer_steps(self._handle())

    @steps.setter
    def steps(self, value):
        check(lib.regnn_optimizer_set_steps(self._check_idle("set steps"), B.seed(value, "steps")))

    @property
    def state_size(self):
        """Parameters the state buffers cover (0 until the first step binds them)."""
        return lib.regnn_optimizer_state_size(self._handle())

    def get_state(self, which):
        """A state buffer: "m", "v" (Adam) or "velocity" (SGD), or a STATE_* code."""
        h = self._handle()
        w = _enum(which, _STATES, "state")
        n = lib.regnn_optimizer_state_size(h)
        ptr, buf = B.new_floats(1, n, True)
        check(lib.regnn_optimizer_get_state(h, w, _nonnull(ptr), n))
        return B.finish_floats(buf, 1, n, True)

    def set_state(self, which, values):
        h = self._check_idle("set state")
        w = _enum(which, _STATES, "state")
        b = B.as_input(values, "values", None, "column")
        check(lib.regnn_optimizer_set_state(h, w, _nonnull(b.ptr), b.size))

    def reset(self):
        """Zero the step count and the state, and unbind from the model."""
        check(lib.regnn_optimizer_reset(self._check_idle("reset")))

    def __repr__(self):
        if self.closed:
            return "<regnn.%s closed>" % type(self).__name__
        return "<regnn.%s %s, %d steps>" % (
            type(self).__name__,
            ", ".join("%s=%g" % (k, getattr(self, k)) for k in self._OPTIONS), self.steps)


def _alias(value, alias, name, alias_name):
    """Keras' legacy argument names (lr=, beta_1=) for the library's."""
    if alias is None:
        return value
    if value is not None:
        raise TypeError("give %s or %s (its Keras alias), not both" % (name, alias_name))
    return alias


class Adam(Optimizer):
    """Adam in Keras form: defaults learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7.
    Keras' names lr=, beta_1=, beta_2= are accepted as aliases."""

    _KIND = OPTIM_ADAM
    _OPTIONS = ("learning_rate", "beta1", "beta2", "epsilon", "weight_decay")

    def __init__(self, learning_rate=None, beta1=None, beta2=None, epsilon=None,
                 weight_decay=None, *, lr=None, beta_1=None, beta_2=None):
        learning_rate = _alias(learning_rate, lr, "learning_rate", "lr")
        beta1 = _alias(beta1, beta_1, "beta1", "beta_1")
        beta2 = _alias(beta2, beta_2, "beta2", "beta_2")
        super().__init__(learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon,
                         weight_decay=weight_decay)

    beta1 = _opt_property(_OPT_BETA1, "beta1", "first-moment decay")
    beta2 = _opt_property(_OPT_BETA2, "beta2", "second-moment decay")
    epsilon = _opt_property(_OPT_EPSILON, "epsilon", "added to sqrt(v)")


class SGD(Optimizer):
    """SGD with optional (Nesterov) momentum, Keras form: default learning_rate 1e-2."""

    _KIND = OPTIM_SGD
    _OPTIONS = ("learning_rate", "momentum", "nesterov", "weight_decay")

    def __init__(self, learning_rate=None, momentum=None, nesterov=None, weight_decay=None, *,
                 lr=None):
        learning_rate = _alias(learning_rate, lr, "learning_rate", "lr")
        super().__init__(learning_rate=learning_rate, momentum=momentum,
                         nesterov=None if nesterov is None else float(bool(nesterov)),
                         weight_decay=weight_decay)

    momentum = _opt_property(_OPT_MOMENTUM, "momentum", "momentum coefficient")
    nesterov = _opt_property(_OPT_NESTEROV, "nesterov", "Nesterov momentum on/off", bool)


# ---------------------------------------------------------------- history

Diagnosis = collections.namedtuple("Diagnosis", "verdict reason values")
Diagnosis.__doc__ = """regnn_history_diagnose's answer (docs/diagnosis.md).

verdict: "overfitting", "underfitting", "good fit" or "insufficient" (VERDICTS).
reason: the rule that decided: "val_rose", "large_gap", "high_error", "still_improving",
    "none" (good fit), "too_short", "no_validation" or "not_finite" (REASONS).
values: dict of the REGNN_DIAG_* values by name (DIAG_VALUES); epochs, best_epoch
    (0-based) and window are ints, train_metric the METRICS name the training curve came
    from ("train_eval_mse" or "mse"); values that cannot be computed are NaN.
"""


def _diagnose(h, baseline_mse):
    """Diagnosis of a live regnn_history handle; baseline_mse None means unknown (NaN)."""
    verdict, reason = c_int(), c_int()
    n = len(DIAG_VALUES)
    buf = (c_double * n)()
    base = float("nan") if baseline_mse is None else baseline_mse
    check(lib.regnn_history_diagnose(h, base, byref(verdict), byref(reason), buf, n))
    values = dict(zip(DIAG_VALUES, buf))
    for name in _DIAG_INTS:
        if values[name] == values[name]:
            values[name] = int(values[name])
    code = values["train_metric"]
    values["train_metric"] = METRICS[int(code) - 1] if 1 <= code <= len(METRICS) else code
    name = lib.regnn_verdict_name(verdict.value)
    return Diagnosis(name.decode("ascii") if name else str(verdict.value),
                     REASONS[reason.value] if 0 <= reason.value < len(REASONS)
                     else str(reason.value), values)


def _targets(ds):
    """(flat list of a dataset's targets, rows, targets per row)."""
    h = ds._handle()
    rows, k = lib.regnn_dataset_rows(h), lib.regnn_dataset_targets(h)
    buf = (c_float * max(rows * k, 1))()
    check(lib.regnn_dataset_get_targets(h, buf, rows * k))
    return buf[:rows * k], rows, k


def _baseline_mse(train, val, validation_split):
    """The MSE of predicting the training targets' mean on the validation rows, computed as
    regnn_regularization_path computes regnn_path_baseline_mse (same order of sums, so the
    same double); None without validation rows."""
    if val is None and not 0.0 < validation_split < 1.0:
        return None
    ty, rows, k = _targets(train)
    if val is not None:
        vy, n_val, _ = _targets(val)
        n_train = rows
    else:
        n_train = int(math.floor(rows * (1.0 - validation_split)))
        if n_train == 0 or n_train >= rows:
            return None
        vy, n_val = ty[n_train * k:], rows - n_train
    if n_train == 0 or n_val == 0 or k == 0:
        return None
    total = 0.0
    for c in range(k):
        mu = 0.0
        for v in ty[c:n_train * k:k]:
            mu += v
        mu /= n_train
        for v in vy[c::k]:
            d = v - mu
            total += d * d
    return total / (float(n_val) * float(k))


class History:
    """Per-epoch metrics of one fit, copied out of the library (a plain Python object).

    Attributes loss, mse, penalty, mae, val_loss, val_mse, val_mae, seconds,
    train_eval_mse, learning_rate (of each epoch's last step) are float64 arrays (lists without numpy), one value per
    epoch; metrics that were not recorded are NaN; ``metrics`` maps every name to its
    array and ``h[name]`` reads it. ``history`` is Keras' History.history: a dict of
    lists of floats holding only the metrics that were recorded (no val_* without
    validation data, no train_eval_mse without eval_train).

    ``diagnosis`` is regnn_history_diagnose's Diagnosis of these epochs (overfitting,
    underfitting, good fit or insufficient), computed by the library when the history
    was copied out, with ``baseline_mse`` as the reference error: the MSE of predicting
    the training targets' mean on the validation rows (None without validation data:
    the library then uses the first epoch's error). None for a History built by hand.
    """

    def __init__(self, metrics, best_epoch=None, stop_reason=STOP_COMPLETED, diagnosis=None,
                 baseline_mse=None):
        n = len(metrics["loss"])
        nans = (c_double * max(n, 1))(*([math.nan] * n))
        self.metrics = {name: metrics[name] if name in metrics else B.finish_doubles(nans, n)
                        for name in METRICS}
        self.epochs = n
        # Keras' History.history: lists of floats, only the metrics that were recorded.
        self.history = {}
        for name in METRICS:
            values = [float(v) for v in self.metrics[name]]
            if any(v == v for v in values):
                self.history[name] = values
        self.best_epoch = best_epoch
        self.stop_reason = stop_reason
        self.diagnosis = diagnosis
        self.baseline_mse = baseline_mse

    @classmethod
    def _from_handle(cls, h, baseline_mse=None):
        n = lib.regnn_history_epochs(h)
        metrics = {}
        buf = B.new_doubles(n)
        for code, name in enumerate(METRICS, 1):
            check(lib.regnn_history_get(h, code, buf, n))
            metrics[name] = B.finish_doubles(buf, n)
        best = c_size_t()
        best_epoch = best.value if lib.regnn_history_best_epoch(h, byref(best)) == 0 else None
        return cls(metrics, best_epoch, lib.regnn_history_stop_reason(h),
                   _diagnose(h, baseline_mse), baseline_mse)

    @property
    def verdict(self):
        """The diagnosis' verdict ("overfitting", ...), or None without a diagnosis."""
        return self.diagnosis.verdict if self.diagnosis is not None else None

    def __getattr__(self, name):
        metrics = self.__dict__.get("metrics")
        if metrics is not None and name in metrics:
            return metrics[name]
        raise AttributeError("'History' object has no attribute %r" % name)

    def __getitem__(self, name):
        return self.metrics[name]

    def __len__(self):
        return self.epochs

    def to_dataframe(self):
        """The recorded metrics as a pandas DataFrame, one row per epoch (index "epoch",
        from 1), the columns of ``history`` (imports pandas)."""
        return _pandas.history_frame(self)

    @property
    def stop_reason_name(self):
        """"completed", "early" or "callback"."""
        return _STOP_NAMES.get(self.stop_reason, str(self.stop_reason))

    def to_csv(self, path=None):
        """The history as CSV text in regnn_history_write_csv's format; also written to path if given."""
        lines = ["epoch," + ",".join(METRICS)]
        cols = [self.metrics[name] for name in METRICS]
        for e in range(self.epochs):
            lines.append("%d,%s" % (e + 1, ",".join(_fmt(float(c[e])) for c in cols)))
        text = "\n".join(lines) + "\n"
        if path is not None:
            with open(path, "w", encoding="ascii", newline="\n") as f:
                f.write(text)
        return text

    def __repr__(self):
        return "<regnn.History %d epochs, stopped: %s, best epoch: %s%s>" % (
            self.epochs, self.stop_reason_name, self.best_epoch,
            ", %s" % self.diagnosis.verdict if self.diagnosis is not None else "")


def _fmt(v):
    return "nan" if v != v else "%.9g" % v


# ---------------------------------------------------------------- Keras-style fit helpers

_METRIC_ALIASES = {"mse": "mse", "mean_squared_error": "mse", "mae": "mae",
                   "mean_absolute_error": "mae"}
_LOSSES = {"mse": LOSS_MSE, "mae": LOSS_MAE, "huber": LOSS_HUBER, "log_cosh": LOSS_LOG_COSH}
_LOSS_ALIASES = {"mean_squared_error": "mse", "mean_absolute_error": "mae", "logcosh": "log_cosh",
                 "huber_loss": "huber"}


class Huber:
    """Keras' keras.losses.Huber(delta=1.0) as a loss spec for compile / set_loss."""

    def __init__(self, delta=1.0):
        self.delta = delta

    def __repr__(self):
        return "Huber(delta=%r)" % (self.delta,)


def _loss_args(loss, delta):
    """(REGNN_LOSS_*, param) for a loss name or a Huber spec; Huber's delta defaults to 1."""
    if isinstance(loss, Huber):
        if delta is not None:
            raise TypeError("give Huber's delta once (in regnn.Huber or as delta)")
        return LOSS_HUBER, B.real(loss.delta, "Huber delta")
    if not isinstance(loss, str):
        raise TypeError("loss must be a name (\"mse\", \"mae\", \"huber\", \"log_cosh\") "
                        "or a regnn.Huber, not %s" % type(loss).__name__)
    name = loss.lower()
    name = _LOSS_ALIASES.get(name, name)
    if name not in _LOSSES:
        raise UnsupportedError("loss %r is not supported; use \"mse\", \"mae\", \"huber\" or "
                               "\"log_cosh\"" % (loss,))
    kind = _LOSSES[name]
    if kind == LOSS_HUBER:
        return kind, (_bounds(OPTION_LOSS, kind).default_value if delta is None
                      else B.real(delta, "delta"))
    if delta is not None:
        raise InvalidArgumentError("delta is Huber's parameter; loss %r takes none" % (loss,))
    return kind, 0.0
_OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD"}


def _make_optimizer(spec):
    """An Optimizer from an Optimizer (returned as it is) or a name ("adam", "sgd")."""
    if isinstance(spec, str):
        name = _OPTIMIZER_NAMES.get(spec.lower())
        if name is None:
            raise UnsupportedError("unknown optimizer %r; expected \"adam\" or \"sgd\" (or a "
                                   "regnn.Adam / regnn.SGD object)" % spec)
        return Adam() if name == "Adam" else SGD()
    return _need_optimizer(spec)


def _need_optimizer(obj):
    if not isinstance(obj, Optimizer):
        raise TypeError("optimizer must be a regnn.Optimizer (regnn.Adam(), regnn.SGD()) or a "
                        "name (\"adam\", \"sgd\"), not %s" % type(obj).__name__)
    return obj


def _verbosity(verbose):
    if verbose is True or verbose == "auto":
        return 1
    if verbose is False or verbose is None:
        return 0
    if isinstance(verbose, int) and verbose in (0, 1, 2):
        return verbose
    raise InvalidArgumentError("verbose must be 0, 1, 2 or \"auto\", got %r" % (verbose,))


def _callback_list(callbacks):
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    for cb in callbacks:
        if not (callable(cb) or hasattr(cb, "on_epoch_end") or hasattr(cb, "on_train_begin")
                or hasattr(cb, "on_train_end") or isinstance(cb, ReduceLROnPlateau)):
            raise TypeError("callbacks must hold regnn.Callback-like objects (on_epoch_end(epoch,"
                            " logs)) or functions f(epoch, history), not %s" % type(cb).__name__)
    return list(callbacks)


#: History metrics that go into a callback's logs and verbose lines, Keras' names first.
_LOG_METRICS = ("loss", "mse", "mae", "penalty", "val_loss", "val_mse", "val_mae",
                "train_eval_mse")


def _epoch_logs(history, e):
    """Keras' logs of epoch e: the metrics the library recorded, as floats."""
    logs = {}
    for name in _LOG_METRICS:
        v = float(history.metrics[name][e])
        if v == v:
            logs[name] = v
    return logs


def _epoch_function(model, callback, cbs, progress):
    """One callback(epoch, history) running the verbose output, the user's callback and
    Keras-style callbacks in that order; None when there is nothing to run."""
    if callback is None and not cbs and progress is None:
        return None

    def each(epoch, history):
        if progress is not None:
            progress(epoch, history)
        stop = bool(callback(epoch, history)) if callback is not None else False
        if cbs:
            logs = _epoch_logs(history, epoch)
            for cb in cbs:
                if hasattr(cb, "on_epoch_end"):
                    cb.on_epoch_end(epoch, logs)
                elif callable(cb) and not hasattr(cb, "on_train_begin"):
                    stop = bool(cb(epoch, history)) or stop
        return stop or model.stop_training
    return each


def _fmt_metric(v):
    return "%.4f" % v if abs(v) >= 1e-3 or v == 0 else "%.4e" % v


class _Progress:
    """Keras' verbose output. 2: one line per epoch. 1: a bar over the epochs, one line
    rewritten in place on a terminal, one line per epoch otherwise."""

    WIDTH = 30

    def __init__(self, verbose, epochs, shown, stream=None):
        self.verbose = verbose
        self.epochs = epochs
        self.keys = ["loss"] + list(shown) + ["val_loss"] + ["val_" + m for m in shown]
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        try:
            self.tty = verbose == 1 and bool(isatty and isatty())
        except ValueError:  # closed stream
            self.tty = False
        self.open_line = False
        self.last_len = 0

    def line(self, epoch, history):
        e = epoch + 1
        parts = ["Epoch %d/%d" % (e, self.epochs)]
        if self.verbose == 1:
            done = self.WIDTH * e // self.epochs
            bar = "=" * done
            if done < self.WIDTH:
                bar = bar[:-1] + ">" if bar else ">"
            parts[0] += " [%s]" % bar.ljust(self.WIDTH, ".")
        parts.append("%.2fs" % float(history.metrics["seconds"][epoch]))
        for k in self.keys:
            v = float(history.metrics[k][epoch])
            if v == v:
                parts.append("%s: %s" % (k, _fmt_metric(v)))
        return " - ".join(parts)

    def __call__(self, epoch, history):
        text = self.line(epoch, history)
        if self.tty:
            pad = max(self.last_len - len(text), 0)
            self.stream.write("\r" + text + " " * pad)
            self.last_len = len(text)
            self.open_line = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        if self.open_line:
            self.stream.write("\n")
            self.stream.flush()
            self.open_line = False


class Callback:
    """Base of Keras-style callbacks for Model.fit(callbacks=[...]).

    fit sets ``self.model`` (set_model), then calls on_train_begin(logs), after every
    epoch on_epoch_end(epoch, logs) with logs the epoch's recorded metrics by name
    ("loss", "mse", "mae", "penalty", "val_loss", "val_mse", "val_mae",
    "train_eval_mse"), and on_train_end(logs) when fit returns. Setting
    ``self.model.stop_training = True`` stops training after the epoch. The library
    runs an epoch in one call, so there are no per-batch or epoch-begin hooks.
    """

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


# ---------------------------------------------------------------- persistence

def load_model(source):
    """A Model read from a model file (path: str or os.PathLike) or from the bytes of
    one (bytes, bytearray, memoryview: Model.to_bytes() or regnn_model_save_mem); a
    checkpoint loads too (its optimizer is ignored). The attached scaler comes along."""
    return Model._wrap(_io.model_load(source))


def save_checkpoint(model, optimizer, path):
    """Write model and optimizer (kind, settings, step count, state) to path atomically, so
    that training resumes bit-identically after load_checkpoint."""
    _io.checkpoint_save(_need(model, Model, "model")._handle(),
                        _need_optimizer(optimizer)._handle(), path)


def checkpoint_to_bytes(model, optimizer):
    """save_checkpoint's file contents as bytes (regnn_checkpoint_save_mem)."""
    return _io.encode(lib.regnn_checkpoint_save_mem, _need(model, Model, "model")._handle(),
                      _need_optimizer(optimizer)._handle())


def load_checkpoint(source):
    """(Model, Optimizer) from a checkpoint file path or its bytes; the optimizer is an Adam
    or SGD with the saved settings, step count and state, bound to the model."""
    mh, oh = _io.checkpoint_load(source)
    try:
        model = Model._wrap(mh)
    except BaseException:
        lib.regnn_model_free(mh)
        lib.regnn_optimizer_free(oh)
        raise
    model._optimizer = Optimizer._wrap(oh)
    return model, model._optimizer
