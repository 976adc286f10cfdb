# SPDX-License-Identifier: MIT
"""Exceptions: one class per regnn_status, all derived from regnn.Error."""

import re

from ._capi import lib

OK = 0
E_INVALID_ARG = 1
E_NOMEM = 2
E_SHAPE = 3
E_STATE = 4
E_IO = 5
E_FORMAT = 6
E_VERSION = 7
E_NUMERIC = 8
E_CANCELLED = 9
E_UNSUPPORTED = 10
E_INTERNAL = 11


class Error(Exception):
    """A libregnn call failed, or the binding refused a call the library would fail.

    Attributes:
        code: the regnn_status value (REGNN_E_*).
        status: the library's short text for the code (regnn_strerror).
        message: the detailed message: the library's (regnn_errmsg() of the failing
            call) in Python terms, or the binding's own text when the binding
            detected the problem first.
        c_message: the library's message as the C API words it (None when the
            binding detected the problem).
    """

    code = None
    c_message = None

    def __init__(self, message, code=None):
        if code is None:
            code = type(self).code
        self.code = code
        self.message = message
        self.status = strerror(code) if code is not None else "error"
        super().__init__(message)

    def __str__(self):
        return "%s [%s, code %s]" % (self.message, self.status, self.code)

    def __reduce__(self):
        return (type(self), (self.message, self.code))


class InvalidArgumentError(Error, ValueError):
    """REGNN_E_INVALID_ARG: NULL pointer, zero/overflowing size, value out of range."""
    code = E_INVALID_ARG


class OutOfMemoryError(Error, MemoryError):
    """REGNN_E_NOMEM: an allocation failed."""
    code = E_NOMEM


class ShapeError(Error, ValueError):
    """REGNN_E_SHAPE: sizes of two objects or buffers do not agree."""
    code = E_SHAPE


class StateError(Error):
    """REGNN_E_STATE: call made in the wrong order (e.g. predict before init)."""
    code = E_STATE


class ClosedError(StateError):
    """The object was closed: its handle is freed and it cannot be used any more."""


class FileError(Error, OSError):
    """REGNN_E_IO: a file could not be opened, read or written."""
    code = E_IO


class FormatError(Error, ValueError):
    """REGNN_E_FORMAT: malformed input (CSV, model file)."""
    code = E_FORMAT


class VersionError(Error):
    """REGNN_E_VERSION: input written by a newer, incompatible version."""
    code = E_VERSION


class NumericError(Error, ArithmeticError):
    """REGNN_E_NUMERIC: NaN or Inf in inputs, or training diverged."""
    code = E_NUMERIC


class CancelledError(Error):
    """REGNN_E_CANCELLED: stopped on the caller's request."""
    code = E_CANCELLED


class UnsupportedError(Error, ValueError):
    """REGNN_E_UNSUPPORTED: unknown enum key or kind."""
    code = E_UNSUPPORTED


class InternalError(Error):
    """REGNN_E_INTERNAL: a bug in libregnn; please report it."""
    code = E_INTERNAL


ERRORS = {cls.code: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, ShapeError, StateError, FileError, FormatError,
    VersionError, NumericError, CancelledError, UnsupportedError, InternalError)}

_strerror = lib.regnn_strerror
_errmsg = lib.regnn_errmsg


def strerror(code):
    """The library's short text for a status code."""
    return _strerror(code).decode("utf-8", "replace")


# The C function a message starts with, as the binding's caller knows it.
_PY_NAMES = {
    "regnn_set_blas_threads": "set_blas_threads",
    "regnn_dataset_from_arrays": "Dataset", "regnn_dataset_from_csv": "Dataset.from_csv",
    "regnn_dataset_parse_csv": "Dataset.parse_csv",
    "regnn_dataset_get_features": "Dataset.features",
    "regnn_dataset_get_targets": "Dataset.targets", "regnn_dataset_select": "Dataset.select",
    "regnn_dataset_split_shuffled": "Dataset.split_shuffled",
    "regnn_dataset_split_tail": "Dataset.split_tail",
    "regnn_scaler_fit": "Scaler.fit", "regnn_scaler_get": "Scaler",
    "regnn_scaler_transform": "Scaler.transform",
    "regnn_scaler_transform_features": "Scaler.transform_features",
    "regnn_scaler_inverse_targets": "Scaler.inverse_targets",
    "regnn_model_create": "Model", "regnn_model_copy": "Model.copy",
    "regnn_model_add_dense": "Model.add_dense", "regnn_model_set_layers_double": "Model.set_layers",
    "regnn_model_init": "Model.init", "regnn_model_seed": "Model.seed",
    "regnn_model_set_threads": "Model.threads",
    "regnn_model_get_params": "Model.get_params", "regnn_model_set_params": "Model.set_params",
    "regnn_model_predict": "Model.predict", "regnn_model_evaluate": "Model.evaluate",
    "regnn_layer_set_double": "Layer", "regnn_layer_get_double": "Layer",
    "regnn_layer_get_params": "Layer.get_params", "regnn_layer_set_params": "Layer.set_params",
    "regnn_optimizer_create": "Optimizer", "regnn_optimizer_set_double": "Optimizer",
    "regnn_optimizer_get_double": "Optimizer", "regnn_optimizer_set_steps": "Optimizer.steps",
    "regnn_optimizer_get_state": "Optimizer.get_state",
    "regnn_optimizer_set_state": "Optimizer.set_state", "regnn_optimizer_reset": "Optimizer.reset",
    "regnn_train_batch": "Model.train_batch", "regnn_fit": "Model.fit",
    "regnn_history_diagnose": "History.diagnosis",
    "regnn_regularization_path": "regularization_path",
    "regnn_model_attach_scaler": "Model.attach_scaler", "regnn_model_get_scaler": "Model.scaler",
    "regnn_model_save": "Model.save", "regnn_model_load": "load_model",
    "regnn_model_save_mem": "Model.to_bytes", "regnn_model_load_mem": "load_model",
    "regnn_checkpoint_save": "save_checkpoint", "regnn_checkpoint_load": "load_checkpoint",
    "regnn_checkpoint_save_mem": "checkpoint_to_bytes",
    "regnn_checkpoint_load_mem": "load_checkpoint",
    "regnn_dataset_set_weights": "Dataset.sample_weight",
    "regnn_dataset_get_weights": "Dataset.sample_weight",
    "regnn_dataset_set_weight_column": "Dataset.set_weight_column",
    "regnn_model_set_loss": "Model.set_loss", "regnn_model_get_loss": "Model.loss",
    "regnn_model_evaluate_loss": "Model.evaluate",
    "regnn_train_batch_weighted": "Model.train_batch",
}
# C names inside messages, in Python terms (the C API's advice names C calls).
_PY_PHRASES = (
    ("(call regnn_model_init)", "(call model.init(seed=...) first)"),
    ("initialize the model first (regnn_model_init)",
     "initialize the model first: call model.init(seed=...)"),
    ("call regnn_model_init first", "call model.init(seed=...) first"),
    ("(after regnn_model_init or regnn_model_set_params)",
     "(after model.init() or model.set_params())"),
    ("is being trained by regnn_fit (called from an epoch callback?)",
     "is in use by fit() (called from a fit callback?)"),
    ("use a new optimizer or regnn_optimizer_reset", "use a new optimizer or optimizer.reset()"),
    ("while regnn_fit runs", "while fit() runs"),
    ("give either validation data or REGNN_FIT_VALIDATION_SPLIT, not both",
     "give either validation_data or validation_split, not both"),
    ("give validation data or set REGNN_FIT_VALIDATION_SPLIT",
     "give validation_data or validation_split"),
    ("the list of lambda values is empty (regnn_path_options_set_lambdas)", "lambdas is empty"),
    ("the list of lambda values is empty", "lambdas is empty"),
    ("choosing layers needs REGNN_PENALTY_L2 or REGNN_PENALTY_L1",
     'choosing layers needs penalty="l2" or penalty="l1"'),
    ("use REGNN_SCALE_*", 'use "none", "zscore" or "unit_norm"'),
    ("select on REGNN_RUN_BEST_VAL_MSE or REGNN_RUN_FINAL_VAL_MSE",
     'select on "best_val_mse" or "final_val_mse"'),
    ("cancelled by the progress callback", "cancelled by progress()"),
)
_PREFIX = re.compile(r"^(regnn_\w+): ")


def pythonize(message):
    """A library message in the binding's terms: Python names for C functions and advice."""
    m = _PREFIX.match(message)
    if m:
        name = _PY_NAMES.get(m.group(1))
        if name is None and m.group(1).startswith(("regnn_path_", "regnn_path_options_")):
            name = "regularization_path"
        elif name is None and m.group(1).startswith("regnn_fit_options_"):
            name = "fit options"
        elif name is None and m.group(1).startswith("regnn_history_"):
            name = "History"
        if name is not None:
            message = name + ": " + message[m.end():]
    for c_text, py_text in _PY_PHRASES:
        if c_text in message:
            message = message.replace(c_text, py_text)
    return message


def error_for(code, message=None):
    """The exception for a non-OK status; message defaults to regnn_errmsg() in Python terms."""
    c_message = None
    if message is None:
        c_message = _errmsg().decode("utf-8", "replace") or strerror(code)
        message = pythonize(c_message)
    e = ERRORS.get(code, Error)(message, code)
    e.c_message = c_message
    return e


def check(status):
    """Raise the matching Error if status is not REGNN_OK (call right after the C call)."""
    if status:
        raise error_for(status)
