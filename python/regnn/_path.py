# SPDX-License-Identifier: MIT
"""The regularization path: regnn_regularization_path and its results (internal; import them
from regnn)."""

import collections
from ctypes import (POINTER, byref, c_char, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_uint64, c_void_p, memset, sizeof)

from . import _buffers as B
from ._capi import (P_DOUBLE, P_HANDLE, P_INT64, P_SIZE, PATH_PROGRESS_FN, H, S, LibraryError, lib,
                    library_path)
from ._library import OPTION_PATH
from ._library import option_bounds as _bounds
from ._handles import _Handle, _Using, _enum, _need, _out_handle
from ._dataset import _take_dataset
from ._optimizer import Optimizer
from ._fit import (REASONS, VERDICTS, History, _FitOptions, _FIT_VALIDATION_SPLIT, _baseline_mse,
                   _fit_settings, _fmt)
from ._model import Model, _INITS
from ._errors import Error, InvalidArgumentError, NumericError, ShapeError, declare
from ._sigint import DeferSigint

PENALTY_L2, PENALTY_L1, PENALTY_WEIGHT_DECAY = 0, 1, 2
PENALTY_DROPOUT, PENALTY_MAX_NORM, PENALTY_ACTIVITY_L2, PENALTY_BIAS_L2 = 3, 4, 5, 6
PENALTY_GAUSSIAN_NOISE = 7
_PENALTIES = {"l2": PENALTY_L2, "l1": PENALTY_L1, "weight_decay": PENALTY_WEIGHT_DECAY,
              "dropout": PENALTY_DROPOUT, "max_norm": PENALTY_MAX_NORM,
              "activity_l2": PENALTY_ACTIVITY_L2, "bias_l2": PENALTY_BIAS_L2,
              "gaussian_noise": PENALTY_GAUSSIAN_NOISE}
_PATH_SEEDS, _PATH_SEED, _PATH_PENALTY, _PATH_THREADS, _PATH_INIT, _PATH_FOLDS, \
    _PATH_FOLD_SEED = range(1, 8)
_PATH_SHARD_INDEX, _PATH_SHARD_COUNT = 8, 9
_PATH_EVAL_TRAIN = 10

#: Per-run values of a path (REGNN_RUN_* in code order, 1-based). test_mse is NaN
#: without test_data.
RUN_STATS = ("best_val_mse", "best_epoch", "train_mse_at_best", "final_val_mse",
             "final_train_mse", "final_gap", "epochs", "verdict", "reason", "seconds", "diverged",
             "test_mse")
_NO_SUMMARY = ("verdict", "reason")  # per run only (regnn_path_get refuses them)
#: Summaries over the seeds of one lambda (REGNN_AGG_* in code order, 0-based).
AGGREGATES = ("mean", "sd", "se", "min", "max")
_SELECT_STATS = {"best_val_mse": 1, "final_val_mse": 4}  # REGNN_RUN_BEST_VAL_MSE, _FINAL_VAL_MSE
_RULES = {"min": 0, "1se": 1}  # REGNN_SELECT_MIN, REGNN_SELECT_1SE

_CSV_STATS = ("best_val_mse", "best_epoch", "train_mse_at_best", "final_val_mse",
              "final_train_mse", "final_gap", "epochs", "seconds")
_COUNTS = VERDICTS + ("diverged",)


PROTOTYPES = {
    # regularization path
    "regnn_path_options_create": (S, [P_HANDLE]),
    "regnn_path_options_free": (None, [H]),
    "regnn_path_options_set_lambdas": (S, [H, P_DOUBLE, c_size_t]),
    "regnn_path_options_get_lambdas": (S, [H, P_DOUBLE, c_size_t, P_SIZE]),
    "regnn_path_options_set_layers": (S, [H, P_SIZE, c_size_t]),
    "regnn_path_options_set_int": (S, [H, c_int, c_int64]),
    "regnn_path_options_get_int": (S, [H, c_int, P_INT64]),
    "regnn_path_options_set_progress": (S, [H, PATH_PROGRESS_FN, c_void_p]),
    "regnn_path_options_set_test": (S, [H, H]),
    "regnn_regularization_path": (S, [H, H, H, H, H, H, P_HANDLE]),
    "regnn_path_free": (None, [H]),
    "regnn_path_lambda_count": (c_size_t, [H]),
    "regnn_path_seed_count": (c_size_t, [H]),
    "regnn_path_lambdas": (S, [H, P_DOUBLE, c_size_t]),
    "regnn_path_baseline_mse": (c_double, [H]),
    "regnn_path_get": (S, [H, c_int, c_int, P_DOUBLE, c_size_t]),
    "regnn_path_get_runs": (S, [H, c_int, P_DOUBLE, c_size_t]),
    "regnn_path_best_index": (S, [H, c_int, c_int, P_SIZE]),
    "regnn_path_history": (H, [H, c_size_t, c_size_t]),
    "regnn_path_fold_count": (c_size_t, [H]),
    "regnn_path_folds": (S, [H, P_SIZE, c_size_t]),
    "regnn_path_refit": (S, [H, H, H, H, H, c_double, P_HANDLE, P_HANDLE]),
    # warnings about a split or a lambda grid (1.2)
    "regnn_split_diagnose": (S, [H, H, H, H, H, c_int, P_HANDLE]),
    "regnn_path_diagnose": (S, [H, P_HANDLE]),
    "regnn_warnings_count": (c_size_t, [H]),
    "regnn_warnings_get": (S, [H, c_size_t, POINTER(c_int), P_DOUBLE, c_size_t]),
    "regnn_warnings_message": (c_char_p, [H, c_size_t]),
    "regnn_warnings_free": (None, [H]),
    "regnn_warning_name": (c_char_p, [c_int]),
}
declare(PROTOTYPES)
# Declared when the library has them (1.2; the binding does not call them).
LATER_PROTOTYPES = {
    "regnn_path_options_copy": (S, [H, P_HANDLE]),
    "regnn_path_settings_fingerprint": (S, [H, H, H, H, H, H, POINTER(c_uint64), c_size_t,
                                            P_SIZE]),
    "regnn_path_save": (S, [H, c_char_p]),
    "regnn_path_load": (S, [c_char_p, P_HANDLE]),
}
declare(LATER_PROTOTYPES, optional=True)

SHARD_PROTOTYPES = {
    "regnn_path_save_mem": (S, [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    "regnn_path_load_mem": (S, [c_void_p, c_size_t, POINTER(c_void_p)]),
    "regnn_path_merge": (S, [POINTER(c_void_p), c_size_t, POINTER(c_void_p)]),
}
missing_shards = declare(SHARD_PROTOTYPES, optional=True)


def _need_shards():
    if missing_shards:
        raise LibraryError("regnn: %s has no path shard functions (%s)"
                           % (library_path, ", ".join(missing_shards)))


def encode_path(p):
    """The bytes of a path handle (regnn_path_save_mem: every value, history and the shard
    it holds)."""
    _need_shards()
    size = c_size_t()
    lib.regnn_path_save_mem(p, None, 0, byref(size))
    buf = (c_char * max(size.value, 1))()
    lib.regnn_path_save_mem(p, buf, size.value, byref(size))
    return buf.raw[:size.value]


def merge_shards(parts, first_seed):
    """The RegularizationPath of a sweep from the encodings of its shards (bytes of
    regularization_path(..., _shard=(i, n)) for i in 0..n-1): decoded by
    regnn_path_load_mem and merged by regnn_path_merge, equal to the one-call path."""
    _need_shards()
    handles = (c_void_p * max(len(parts), 1))()
    try:
        for i, data in enumerate(parts):
            raw = bytes(data)
            out = c_void_p()
            lib.regnn_path_load_mem(raw, len(raw), byref(out))
            handles[i] = out.value
        merged = c_void_p()
        lib.regnn_path_merge(handles, len(parts), byref(merged))
        try:
            return RegularizationPath(merged.value, first_seed)
        finally:
            lib.regnn_path_free(merged.value)
    finally:
        for h in handles:
            if h:
                lib.regnn_path_free(h)


def _fold_of_rows(p, n_rows=None):
    """The fold of every training row of cross-validated path p (regnn_path_folds).
    n_rows None (a merged path: the library has no row count getter): the buffer grows
    while the library reports it short (REGNN_E_SHAPE, before writing anything), and
    the rows are the values it wrote, counted from a value no fold has."""
    if n_rows is not None:
        fbuf = (c_size_t * max(n_rows, 1))()
        lib.regnn_path_folds(p, fbuf, n_rows)
        return fbuf[:n_rows]
    unset = (1 << (8 * sizeof(c_size_t))) - 1
    cap = 1024
    while True:
        fbuf = (c_size_t * cap)()
        memset(fbuf, 0xFF, sizeof(fbuf))  # every value `unset`
        try:
            lib.regnn_path_folds(p, fbuf, cap)
        except ShapeError:
            cap *= 2
            continue
        values = fbuf[:]
        return values[:values.index(unset)] if unset in values else values


#: Values of a warning (REGNN_WARNVAL_* in code order, 0-based).
WARNING_VALUES = ("target", "rows", "value", "threshold", "reference", "correlation", "tail_z",
                  "lambda")
_SPLIT_SHUFFLED = 1  # REGNN_SPLIT_SHUFFLED

DiagnosisWarning = collections.namedtuple("DiagnosisWarning", "code message values")
DiagnosisWarning.__doc__ = """A warning of split_warnings() or RegularizationPath.warnings
(regnn_split_diagnose, regnn_path_diagnose; rules in docs/diagnosis.md).

code: "few_validation_rows", "few_fold_rows", "constant_validation", "constant_test",
    "row_order" or "constant_grid" (regnn_warning_name).
message: the library's sentence, with its numbers.
values: dict of the REGNN_WARNVAL_* values by name (WARNING_VALUES); NaN where one does
    not apply; target (the 0-based target column) and rows are ints when given.
"""


def _warnings(fn, *args):
    """The DiagnosisWarnings of a regnn_*_diagnose call whose last argument is `regnn_warnings **`."""
    w = _out_handle(fn, *args)
    try:
        out = []
        code = c_int()
        buf = (c_double * len(WARNING_VALUES))()
        for i in range(lib.regnn_warnings_count(w)):
            lib.regnn_warnings_get(w, i, byref(code), buf, len(WARNING_VALUES))
            values = dict(zip(WARNING_VALUES, buf))
            for name in ("target", "rows"):
                if values[name] == values[name]:
                    values[name] = int(values[name])
            name = lib.regnn_warning_name(code.value)
            out.append(DiagnosisWarning(name.decode("ascii") if name else str(code.value),
                               lib.regnn_warnings_message(w, i).decode("utf-8", "replace"),
                               values))
        return out
    finally:
        lib.regnn_warnings_free(w)


def split_warnings(train, *, validation_data=None, validation_split=0.0, test_data=None,
                   folds=0, shuffled=False):
    """Warnings about the split a fit or regularization_path with these arguments would
    validate on (regnn_split_diagnose; docs/diagnosis.md): fewer than 30 validation rows
    (or rows per fold with folds=k), (nearly) constant validation or test targets, and,
    unless shuffled (the rows were shuffled before the split) or folds are used, a
    target that trends with the row order. train, validation_data, test_data: Datasets
    or (x, y) pairs. Returns a list of DiagnosisWarning, empty for a fair split."""
    split = B.real(validation_split, "validation_split")
    k = B.in_bounds(folds, "folds", _bounds(OPTION_PATH, _PATH_FOLDS))
    temps = []
    try:
        tr = _take_dataset(train, "train", temps)
        va = _take_dataset(validation_data, "validation_data", temps)
        te = _take_dataset(test_data, "test_data", temps)
        with _FitOptions() as fo, _PathOptions() as po:
            lib.regnn_fit_options_set_double(fo._h, _FIT_VALIDATION_SPLIT, split)
            lib.regnn_path_options_set_int(po._h, _PATH_FOLDS, k)
            return _warnings(lib.regnn_split_diagnose, tr._handle(),
                             va._handle() if va is not None else None,
                             te._handle() if te is not None else None, fo._h, po._h,
                             _SPLIT_SHUFFLED if shuffled else 0)
    finally:
        for d in temps:
            d.close()


class _PathOptions(_Handle):
    _FREE = lib.regnn_path_options_free

    def __init__(self):
        self._adopt(_out_handle(lib.regnn_path_options_create))


class RegularizationPath:
    """Results of regularization_path(), copied out of the library (a plain Python object:
    it holds no library memory, and neither do its histories).

    lambdas: the lambda values in the order given; seeds: the seed of each seed index.
    n_folds: k of a cross-validated path (folds=k), else 1; folds: the fold of every
        training row (None without folds).
    runs: per-run values by name (RUN_STATS), lambda-major: runs[name][i * n_seeds + s];
        with folds runs[name][(i * n_folds + f) * n_seeds + s].
        "verdict" and "reason" hold the names (VERDICTS, diagnosis REASONS), or
        "diverged" for a run whose fit diverged (its other values are NaN).
        "test_mse" is the trained run's MSE on test_data (NaN without it).
    table: one dict per lambda: "lambda"; every RUN_STATS value but verdict and reason
        as "<name>" (the mean over the seeds) and "<name>_sd", "_se", "_min", "_max"
        (sample sd, standard error; NaN for one seed, and every summary is NaN when a
        run of the lambda diverged; with folds cv.glmnet's cvm and cvsd: "<name>" is the
        fold-size-weighted mean over the folds of each fold's seed mean, "_se" its
        standard error, "_sd" = se * sqrt(k), "_min"/"_max" over every run; docs/api.md);
        "verdicts" (one per run of the lambda); "verdict_counts"
        ({verdict: runs}, "diverged" included); "min" and "1se" (the selected rows).
    histories: {(lambda index, seed index): History}, None for a diverged run; each
        History has its .diagnosis with the path's baseline. With folds the key is
        (lambda index, fold * n_seeds + seed index) and the histories carry no diagnosis
        (each run's verdict, judged against its fold's baseline, is in runs["verdict"]).
    warnings: the lambda grid's DiagnosisWarnings (regnn_path_diagnose): "constant_grid" when
        every lambda's models predict about a constant; else empty.
    baseline_mse: the MSE of predicting the training targets' mean on the validation rows
        (with folds: pooled over the folds, each predicted by the other folds' mean).
    best_index, best_lambda: the lambda with the lowest mean best validation MSE;
    index_1se, lambda_1se: the largest lambda within one standard error of it (glmnet's
    lambda.1se). None if every lambda has a diverged run. select() chooses otherwise.
    """

    def __init__(self, p, first_seed, n_rows=None):
        nl, ns = lib.regnn_path_lambda_count(p), lib.regnn_path_seed_count(p)
        nf = lib.regnn_path_fold_count(p)
        self.n_seeds = ns
        self.n_folds = nf
        self.folds = _fold_of_rows(p, n_rows) if nf > 1 else None
        ns_seeds, ns = ns, ns * nf  # runs per lambda
        buf = (c_double * max(nl * ns, 1))()
        lib.regnn_path_lambdas(p, buf, nl)
        self.lambdas = buf[:nl]
        self.baseline_mse = lib.regnn_path_baseline_mse(p)
        self.warnings = _warnings(lib.regnn_path_diagnose, p)
        self.runs = {}
        for code, name in enumerate(RUN_STATS, 1):
            lib.regnn_path_get_runs(p, code, buf, nl * ns)
            self.runs[name] = buf[:nl * ns]
        diverged = [v != 0.0 for v in self.runs["diverged"]]
        self.runs["verdict"] = ["diverged" if d else VERDICTS[int(v)]
                                for d, v in zip(diverged, self.runs["verdict"])]
        self.runs["reason"] = ["diverged" if d else REASONS[int(v)]
                               for d, v in zip(diverged, self.runs["reason"])]
        summary = {}
        for code, name in enumerate(RUN_STATS, 1):
            if name in _NO_SUMMARY:
                continue
            for acode, agg in enumerate(AGGREGATES):
                lib.regnn_path_get(p, code, acode, buf, nl)
                summary[(name, agg)] = buf[:nl]
        self._picks = {}
        idx = c_size_t()
        for stat, scode in _SELECT_STATS.items():
            for rule, rcode in _RULES.items():
                # REGNN_E_NUMERIC when every lambda has a diverged run: no selection.
                try:
                    lib.regnn_path_best_index(p, scode, rcode, byref(idx))
                    self._picks[(stat, rule)] = idx.value
                except NumericError:
                    self._picks[(stat, rule)] = None
        self.best_index = self._picks[("best_val_mse", "min")]
        self.index_1se = self._picks[("best_val_mse", "1se")]
        self.best_lambda = None if self.best_index is None else self.lambdas[self.best_index]
        self.lambda_1se = None if self.index_1se is None else self.lambdas[self.index_1se]
        self.histories = {}
        for i in range(nl):
            for s in range(ns):
                h = lib.regnn_path_history(p, i, s)
                base = self.baseline_mse if nf == 1 else None
                self.histories[(i, s)] = History._from_handle(h, base) if h else None
        self.seeds = [first_seed + s for s in range(ns_seeds)]
        self.table = []
        for i, lam in enumerate(self.lambdas):
            row = {"lambda": lam}
            for (name, agg), values in summary.items():
                row[name if agg == "mean" else "%s_%s" % (name, agg)] = values[i]
            verdicts = self.runs["verdict"][i * ns:(i + 1) * ns]
            row["verdicts"] = verdicts
            row["verdict_counts"] = {v: verdicts.count(v) for v in _COUNTS}
            row["min"] = i == self.best_index
            row["1se"] = i == self.index_1se
            self.table.append(row)

    def select(self, stat="best_val_mse", rule="min"):
        """Index of the lambda chosen by rule ("min" or "1se") on the mean of stat
        ("best_val_mse" or "final_val_mse") over the seeds; None if every lambda has a
        diverged run (regnn_path_best_index)."""
        if stat not in _SELECT_STATS:
            raise ValueError("stat must be one of %s" % ", ".join(sorted(_SELECT_STATS)))
        if rule not in _RULES:
            raise ValueError("rule must be one of %s" % ", ".join(sorted(_RULES)))
        return self._picks[(stat, rule)]

    def history(self, lambda_index, seed_index=0, fold=0):
        """The History of one run (None if it diverged)."""
        if not 0 <= seed_index < self.n_seeds or not 0 <= fold < self.n_folds:
            raise IndexError("seed_index or fold out of range")
        return self.histories[(lambda_index, fold * self.n_seeds + seed_index)]

    def __len__(self):
        return len(self.lambdas)

    def to_dataframe(self):
        """The table as a pandas DataFrame, one row per lambda (verdict counts as
        verdict_<name> columns; imports pandas)."""
        from ._pandas import path_frame
        return path_frame(self)

    def runs_dataframe(self):
        """Every run as a row of a pandas DataFrame: lambda, fold (with folds), seed and
        the RUN_STATS values (imports pandas)."""
        from ._pandas import runs_frame
        return runs_frame(self)

    def to_csv(self, path=None):
        """The table as CSV text (one line per lambda: mean, sd and se of the per-run values,
        the verdict counts, and the min / 1se flags); also written to path if given."""
        cols = ["lambda"]
        for name in _CSV_STATS:
            cols += [name, name + "_sd", name + "_se"]
        cols += [v.replace(" ", "_") for v in _COUNTS] + ["min", "1se"]
        lines = [",".join(cols)]
        for row in self.table:
            vals = [_fmt(row["lambda"])]
            for name in _CSV_STATS:
                vals += [_fmt(row[name]), _fmt(row[name + "_sd"]), _fmt(row[name + "_se"])]
            vals += [str(row["verdict_counts"][v]) for v in _COUNTS]
            vals += [str(int(row["min"])), str(int(row["1se"]))]
            lines.append(",".join(vals))
        text = "\n".join(lines) + "\n"
        if path is not None:
            with open(path, "w", encoding="ascii", newline="\n") as f:
                f.write(text)
        return text

    def __repr__(self):
        folds = " x %d folds" % self.n_folds if self.n_folds > 1 else ""
        return "<regnn.RegularizationPath %d lambdas%s x %d seeds, best lambda %s, lambda_1se %s>" % (
            len(self.lambdas), folds, self.n_seeds, self.best_lambda, self.lambda_1se)


def regularization_path(model, train, lambdas, *, optimizer=None, validation_data=None,
                        validation_split=0.0, epochs=1, batch_size=32, shuffle=True,
                        early_stopping=False, patience=0, restore_best=False, monitor="val_loss",
                        min_delta=0.0, seeds=1, seed=0, penalty="l2", layers=None, threads=0,
                        init="glorot_uniform", progress=None, test_data=None, folds=0,
                        fold_seed=0, eval_train=True, _shard=None):
    """Train every (lambda, seed) pair of a sweep and summarize it (regnn_regularization_path).

    model: the template (topology and layer settings; only read, need not be initialized).
    Each run trains a copy with lambda set, initialized (init) with its seed: run s of a
    lambda uses seed + s, so every lambda starts from the same weights for a seed.
    optimizer: the template optimizer (kind and hyperparameters; None = Adam defaults);
    each run gets a fresh one. train, validation_data: Datasets or (x, y) pairs.
    Validation data is required: validation_data or validation_split. The fit options
    are Model.fit's. eval_train (default True): every run also records the training MSE
    at end-of-epoch weights, and the results' training MSEs and gaps use it; False skips
    that pass over the training rows each epoch (faster) and uses the epoch's running
    mean of the batch MSE instead (REGNN_PATH_EVAL_TRAIN).
    test_data (a Dataset or an (x, y) pair; optional): each run's trained network is
    scored on it (its final weights, as Model.evaluate does): runs["test_mse"] and the
    table's test_mse columns (regnn_path_options_set_test). Without it they are NaN.
    penalty: "l2" (default), "l1" (REGNN_LAYER_L2 / _L1 of the layers, all or the 0-based
    indices in layers), "weight_decay" (the optimizer's decoupled weight decay),
    "dropout" (the dropout rate, lambda in [0, 1); by default every layer but the output
    layer), "max_norm" (MaxNorm's max_value; 0: none), "activity_l2", "bias_l2" or
    "gaussian_noise" (the stddev of the GaussianNoise layers, all or those in layers).
    threads: worker threads, 0 = one per CPU; results are the same for every count when
    the BLAS uses one thread (regnn.set_blas_threads(1)).
    progress(done, total, lam, seed, history) runs on this thread after each run
    (history None if the fit diverged); a true return value cancels the sweep
    (regnn.CancelledError), an exception cancels it and is re-raised here.
    folds: k >= 2 chooses lambda by k-fold cross-validation on train, as glmnet's
    cv.glmnet (REGNN_PATH_FOLDS; 0 or 1 = off): row p[i] of a permutation seeded with
    fold_seed is in fold i*k//n; every (lambda, fold, seed) run trains on the other folds
    and validates on its fold, so give no validation_data or validation_split with it.
    Returns a RegularizationPath; a run that diverges is recorded, not an error.
    """
    mh = _need(model, Model, "model")._handle()
    oh = _need(optimizer, Optimizer, "optimizer")._handle() if optimizer is not None else None
    if isinstance(lambdas, (str, bytes)):
        raise TypeError("lambdas must be a sequence of numbers, not %s" % type(lambdas).__name__)
    lam = [B.real(v, "lambdas") for v in lambdas]
    if not lam:
        raise InvalidArgumentError("regularization_path: lambdas is empty")
    lam_buf = (c_double * max(len(lam), 1))(*lam)
    layer_buf, n_layers = B.size_array(layers, "layers") if layers is not None else (None, 0)
    split = B.real(validation_split, "validation_split")
    fit_settings = _fit_settings(epochs, batch_size, shuffle, early_stopping, patience,
                                 restore_best, monitor, min_delta, split)
    first_seed = B.in_bounds(seed, "seed", _bounds(OPTION_PATH, _PATH_SEED))
    path_settings = ((_PATH_SEEDS, B.in_bounds(seeds, "seeds", _bounds(OPTION_PATH, _PATH_SEEDS))),
                     (_PATH_SEED, first_seed),
                     (_PATH_PENALTY, _enum(penalty, _PENALTIES, "penalty")),
                     (_PATH_THREADS, B.in_bounds(threads, "threads", _bounds(OPTION_PATH, _PATH_THREADS))),
                     (_PATH_INIT, _enum(init, _INITS, "init scheme")),
                     (_PATH_FOLDS, B.in_bounds(folds, "folds", _bounds(OPTION_PATH, _PATH_FOLDS))),
                     (_PATH_FOLD_SEED, B.in_bounds(fold_seed, "fold_seed", _bounds(OPTION_PATH, _PATH_FOLD_SEED))),
                     (_PATH_EVAL_TRAIN, int(bool(eval_train))))
    if _shard is not None:  # (index, count): regnn.dask; returns the shard's encoding
        path_settings += ((_PATH_SHARD_INDEX, B.in_bounds(_shard[0], "shard index",
                                                        _bounds(OPTION_PATH, _PATH_SHARD_INDEX))),
                          (_PATH_SHARD_COUNT, B.in_bounds(_shard[1], "shard count",
                                                        _bounds(OPTION_PATH, _PATH_SHARD_COUNT))))
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable")
    with DeferSigint() as sigint:
        temps = []
        try:
            tr = _take_dataset(train, "train", temps)
            va = _take_dataset(validation_data, "validation_data", temps)
            te = _take_dataset(test_data, "test_data", temps)
            with _FitOptions() as fo, _PathOptions() as po:
                for fn, key, value in fit_settings:
                    fn(fo._h, key, value)
                lib.regnn_path_options_set_lambdas(po._h, lam_buf, len(lam))
                if layer_buf is not None:
                    lib.regnn_path_options_set_layers(po._h, layer_buf, n_layers)
                for key, value in path_settings:
                    lib.regnn_path_options_set_int(po._h, key, value)
                if te is not None:  # borrowed by the options until the call returns
                    lib.regnn_path_options_set_test(po._h, te._h)
                raised = []
                cfn = None
                # The path's baseline, for the diagnosis of the histories passed to progress.
                # (With folds each run has its fold's baseline: no diagnosis here.)
                baseline = (_baseline_mse(tr, va, split)
                            if progress is not None and folds < 2 else None)
                if progress is not None or sigint.active:
                    def trampoline(user, done, total, lam_, seed_, hist):
                        # A deferred Ctrl-C lands at entry without raising (DeferSigint).
                        try:
                            stop = False
                            if progress is not None:
                                sigint.in_python = True
                                try:
                                    h = History._from_handle(hist, baseline) if hist else None
                                    stop = progress(done, total, lam_, seed_, h)
                                finally:
                                    sigint.in_python = False
                            return 1 if stop or sigint.pending else 0
                        except BaseException as e:  # cancel the sweep; re-raised below
                            raised.append(e)
                            return 1
                    cfn = PATH_PROGRESS_FN(trampoline)  # referenced until the call returns
                    lib.regnn_path_options_set_progress(po._h, cfn, None)
                if sigint.interrupted():
                    raise KeyboardInterrupt
                out = c_void_p()
                with _Using((model, optimizer, tr, va, te)):
                    err = None
                    try:
                        lib.regnn_regularization_path(mh, oh, tr._h,
                                                      va._h if va is not None else None,
                                                      fo._h, po._h, byref(out))
                    except Error as e:
                        err = e
                del cfn
                if raised or sigint.interrupted():
                    lib.regnn_path_free(out.value)  # NULL after a cancel; freed in any case
                    if raised:
                        raise raised[0]
                    raise KeyboardInterrupt
                if err is not None:
                    raise err
                try:
                    if _shard is not None:
                        return encode_path(out.value)
                    return RegularizationPath(out.value, first_seed,
                                              lib.regnn_dataset_rows(tr._h))
                finally:
                    lib.regnn_path_free(out.value)
        finally:
            for d in temps:
                d.close()


def path_shard(model, train, lambdas, index, count, **kwargs):
    """Shard index (0-based) of count of regularization_path(model, train, lambdas,
    **kwargs), as bytes (regnn_path_save_mem): the runs r with r % count == index
    (REGNN_PATH_SHARD_INDEX / _COUNT). merge_path_shards of the count shards' bytes is
    the path one call returns (the same bits with one BLAS thread), with or without
    folds (a cross-validated path's runs are numbered (lambda * folds + fold) * seeds +
    seed, and each shard's bytes carry the folds). Not with progress."""
    if kwargs.get("progress") is not None:
        raise TypeError("path_shard takes no progress callback")
    return regularization_path(model, train, lambdas, _shard=(index, count), **kwargs)


def merge_path_shards(parts, seed=0):
    """The RegularizationPath of a sweep from the bytes of its shards (path_shard for
    index 0..count-1, in any order; regnn_path_load_mem, regnn_path_merge), folds
    included for a cross-validated sweep. seed: the sweep's first seed
    (regularization_path's seed), for RegularizationPath.seeds. A
    damaged part raises FormatError; parts of different sweeps or a missing or repeated
    run raise the library's error."""
    if isinstance(parts, (bytes, bytearray, memoryview)):
        raise TypeError("parts must be a list of the shards' bytes")
    parts = list(parts)
    if not parts:
        raise InvalidArgumentError("merge_path_shards: no parts")
    return merge_shards(parts, B.in_bounds(seed, "seed", _bounds(OPTION_PATH, _PATH_SEED)))


def refit(model, train, lam, *, optimizer=None, epochs=1, batch_size=32, shuffle=True,
          early_stopping=False, patience=0, restore_best=False, monitor="train_loss",
          min_delta=0.0, seed=0, penalty="l2", layers=None, init="glorot_uniform"):
    """Train one model on all of train at lambda lam, as a run of regularization_path with
    the same arguments would be trained, but without validation data (cv.glmnet's final
    fit after choosing lambda by folds; regnn_path_refit): a copy of model with lam set
    by penalty (on layers), initialized (init) with seed, a fresh optimizer like
    optimizer, Model.fit's options. Early stopping can only monitor "train_loss".
    Returns (Model, History)."""
    mh = _need(model, Model, "model")._handle()
    oh = _need(optimizer, Optimizer, "optimizer")._handle() if optimizer is not None else None
    lam = B.real(lam, "lam")
    layer_buf, n_layers = B.size_array(layers, "layers") if layers is not None else (None, 0)
    fit_settings = _fit_settings(epochs, batch_size, shuffle, early_stopping, patience,
                                 restore_best, monitor, min_delta, 0.0)
    path_settings = ((_PATH_SEED, B.in_bounds(seed, "seed", _bounds(OPTION_PATH, _PATH_SEED))),
                     (_PATH_PENALTY, _enum(penalty, _PENALTIES, "penalty")),
                     (_PATH_INIT, _enum(init, _INITS, "init scheme")))
    temps = []
    try:
        tr = _take_dataset(train, "train", temps)
        with _FitOptions() as fo, _PathOptions() as po:
            for fn, key, value in fit_settings:
                fn(fo._h, key, value)
            if layer_buf is not None:
                lib.regnn_path_options_set_layers(po._h, layer_buf, n_layers)
            for key, value in path_settings:
                lib.regnn_path_options_set_int(po._h, key, value)
            m, h = c_void_p(), c_void_p()
            with _Using((model, optimizer, tr)):
                lib.regnn_path_refit(mh, oh, tr._h, fo._h, po._h, lam, byref(m), byref(h))
            try:
                hist = History._from_handle(h.value)
            finally:
                lib.regnn_history_free(h.value)
            return Model._wrap(m.value), hist
    finally:
        for d in temps:
            d.close()
