# SPDX-License-Identifier: MIT
"""Training (internal; import from regnn): Model.fit (defined here as fit(model, ...)),
fit options, History and its diagnosis, Keras-style callbacks, and the declarations of
include/regnn.h's training, history and diagnosis functions."""

import collections
import math
import sys
from ctypes import POINTER, byref, c_char_p, c_double, c_float, c_int, c_int64, c_size_t, c_void_p

from . import _buffers as B
from . import _pandas
from ._capi import EPOCH_FN, EXCHANGE_FN, P_DOUBLE, P_FLOAT, P_HANDLE, P_INT64, P_SIZE, H, S, lib
from ._errors import Error, InvalidArgumentError, declare
from ._library import OPTION_FIT
from ._library import option_bounds as _bounds
from ._sigint import DeferSigint
from ._handles import _Handle, _Using, _enum, _out_handle
from ._dataset import Dataset, _take_dataset
from ._optimizer import Adam, Optimizer, _make_optimizer, _need_optimizer
from ._schedule import ReduceLROnPlateau

PROTOTYPES = {
    # training
    "regnn_train_batch": (S, [H, H, P_FLOAT, P_FLOAT, c_size_t, P_DOUBLE]),
    "regnn_train_batch_weighted": (S, [H, H, P_FLOAT, P_FLOAT, P_FLOAT, c_size_t, P_DOUBLE]),
    "regnn_fit_options_create": (S, [P_HANDLE]),
    "regnn_fit_options_free": (None, [H]),
    "regnn_fit_options_set_int": (S, [H, c_int, c_int64]),
    "regnn_fit_options_get_int": (S, [H, c_int, P_INT64]),
    "regnn_fit_options_set_double": (S, [H, c_int, c_double]),
    "regnn_fit_options_get_double": (S, [H, c_int, P_DOUBLE]),
    "regnn_fit_options_set_callback": (S, [H, EPOCH_FN, c_void_p]),
    "regnn_fit_options_set_exchange": (S, [H, EXCHANGE_FN, c_void_p]),
    "regnn_fit_exchange_failure": (S, [H, c_int, c_char_p]),
    "regnn_fit": (S, [H, H, H, H, H, P_HANDLE]),
    # history
    "regnn_history_free": (None, [H]),
    "regnn_history_epochs": (c_size_t, [H]),
    "regnn_history_get": (S, [H, c_int, P_DOUBLE, c_size_t]),
    "regnn_history_best_epoch": (S, [H, P_SIZE]),
    "regnn_history_stop_reason": (c_int, [H]),
    "regnn_history_write_csv": (S, [H, c_char_p]),
    # diagnosis
    "regnn_history_diagnose": (S, [H, c_double, POINTER(c_int), POINTER(c_int), P_DOUBLE,
                                   c_size_t]),
    "regnn_verdict_name": (c_char_p, [c_int]),
}
declare(PROTOTYPES)
# Declared when the library has them (1.2; the binding does not call them).
LATER_PROTOTYPES = {"regnn_fit_options_copy": (S, [H, P_HANDLE])}
declare(LATER_PROTOTYPES, optional=True)

MONITOR_VAL_LOSS, MONITOR_VAL_MSE, MONITOR_TRAIN_LOSS = 0, 1, 2
STOP_COMPLETED, STOP_EARLY, STOP_CALLBACK = 0, 1, 2
(_FIT_EPOCHS, _FIT_BATCH_SIZE, _FIT_SHUFFLE, _FIT_EARLY_STOPPING, _FIT_PATIENCE,
 _FIT_RESTORE_BEST, _FIT_MONITOR, _FIT_EVAL_TRAIN, _FIT_SHARD_INDEX, _FIT_SHARD_COUNT) = range(1, 11)
_FIT_VALIDATION_SPLIT, _FIT_MIN_DELTA = 100, 101
_FIT_REDUCE_LR, _FIT_REDUCE_LR_PATIENCE, _FIT_REDUCE_LR_COOLDOWN = 20, 21, 22
_FIT_REDUCE_LR_FACTOR, _FIT_REDUCE_LR_MIN_DELTA, _FIT_REDUCE_LR_MIN_LR = 120, 121, 122
_MONITORS = {"val_loss": MONITOR_VAL_LOSS, "val_mse": MONITOR_VAL_MSE,
             "loss": MONITOR_TRAIN_LOSS, "train_loss": MONITOR_TRAIN_LOSS}
_STOP_NAMES = {STOP_COMPLETED: "completed", STOP_EARLY: "early", STOP_CALLBACK: "callback"}

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
         _plateau(p.patience, "patience", _FIT_REDUCE_LR_PATIENCE)),
        (lib.regnn_fit_options_set_int, _FIT_REDUCE_LR_COOLDOWN,
         _plateau(p.cooldown, "cooldown", _FIT_REDUCE_LR_COOLDOWN)),
        (lib.regnn_fit_options_set_double, _FIT_REDUCE_LR_FACTOR,
         _plateau(p.factor, "factor", _FIT_REDUCE_LR_FACTOR)),
        (lib.regnn_fit_options_set_double, _FIT_REDUCE_LR_MIN_DELTA,
         _plateau(p.min_delta, "min_delta", _FIT_REDUCE_LR_MIN_DELTA)),
        (lib.regnn_fit_options_set_double, _FIT_REDUCE_LR_MIN_LR,
         _plateau(p.min_lr, "min_lr", _FIT_REDUCE_LR_MIN_LR)),
    )


def _plateau(value, name, key):
    """A ReduceLROnPlateau setting (changeable after construction) in the library's range."""
    return B.in_bounds(value, "ReduceLROnPlateau: " + name, _bounds(OPTION_FIT, key))


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


class _FitOptions(_Handle):
    _FREE = lib.regnn_fit_options_free

    def __init__(self):
        self._adopt(_out_handle(lib.regnn_fit_options_create))


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
    lib.regnn_history_diagnose(h, base, byref(verdict), byref(reason), buf, n)
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
    lib.regnn_dataset_get_targets(h, buf, rows * k)
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
            lib.regnn_history_get(h, code, buf, n)
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


def fit(model, x=None, y=None, optimizer=None, *, epochs=1, batch_size=32, verbose=0,
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
    h = model._check_idle("start another fit")
    if threads is not None:
        model.threads = threads
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
        if model._optimizer is None:
            model._optimizer = Adam()
        optimizer = model._optimizer
    elif isinstance(optimizer, str):
        optimizer = model._optimizer = _make_optimizer(optimizer)
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
    progress = _Progress(verbose, epochs, model._shown_metrics) if verbose else None
    each = _epoch_function(model, callback, cbs, progress)
    model.stop_training = False
    for cb in cbs:
        if hasattr(cb, "set_model"):
            cb.set_model(model)
        elif hasattr(cb, "on_epoch_end"):
            cb.model = model
    for cb in cbs:
        if hasattr(cb, "on_train_begin"):
            cb.on_train_begin({})
    try:
        with DeferSigint() as sigint:
            history = _run(model, h, oh, optimizer, x, validation_data, split, settings,
                                each, sigint, exchange)
    finally:
        if progress is not None:
            progress.close()
    logs = _epoch_logs(history, history.epochs - 1) if history.epochs else {}
    for cb in cbs:
        if hasattr(cb, "on_train_end"):
            cb.on_train_end(logs)
    return history

def _run(model, h, oh, optimizer, train, validation_data, split, settings, callback, sigint,
         exchange=None):
    temps = []
    try:
        tr = _take_dataset(train, "train", temps)
        va = _take_dataset(validation_data, "validation_data", temps)
        with _FitOptions() as opts:
            oph = opts._h
            for fn, key, value in settings:
                fn(oph, key, value)
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
                lib.regnn_fit_options_set_callback(oph, cfn, None)
            xfn = None
            if exchange is not None:
                def xtrampoline(user, grad, n, sums, n_sums):
                    try:
                        return 1 if exchange(grad, n, sums, n_sums) else 0
                    except BaseException as e:  # fails the fit; re-raised below
                        raised.append(e)
                        return 1
                xfn = EXCHANGE_FN(xtrampoline)  # referenced until fit returns
                lib.regnn_fit_options_set_exchange(oph, xfn, None)
            if sigint.interrupted():
                raise KeyboardInterrupt
            hist = c_void_p()
            with _Using((model, optimizer, tr, va)):
                err = None
                try:
                    lib.regnn_fit(h, oh, tr._h, va._h if va is not None else None, oph,
                                  byref(hist))
                except Error as e:
                    err = e
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
