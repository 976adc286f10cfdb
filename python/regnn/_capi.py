# SPDX-License-Identifier: MIT
"""Loading libregnn and declaring its C functions (internal).

Search order for the shared library (docs/python.md, "Installing"):

1. the REGNN_LIBRARY environment variable (a path; if it is set and cannot be
   loaded, import fails: there is no silent fall-back to another copy);
2. the copy inside this package, regnn/libregnn.so.1 (what `pip install .`
   puts there);
3. the repository's lib/ folder next to python/ (lib/libregnn.so.1, the SONAME
   file, then lib/libregnn.so), for PYTHONPATH=python use of a built tree;
4. ctypes.util.find_library("regnn"), then the plain SONAME "libregnn.so.1"
   through the dynamic loader's search path.

Every function of include/regnn.h is declared here with argtypes and restype,
whether or not the Python layer uses it, so that a call through ``lib`` never
relies on ctypes' int defaults (which truncate 64-bit pointers).
"""

import ctypes
import ctypes.util
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_float, c_int, c_int64, c_size_t,
                    c_uint, c_uint64, c_void_p)

#: The ABI generation this binding was written for (REGNN_ABI_VERSION).
ABI_VERSION = 1
#: Oldest library release (REGNN_VERSION_NUMBER) providing every function declared below.
MIN_VERSION = 10200

P_FLOAT = POINTER(c_float)
P_DOUBLE = POINTER(c_double)
P_SIZE = POINTER(c_size_t)
P_HANDLE = POINTER(c_void_p)
P_INT64 = POINTER(c_int64)

#: int (*regnn_epoch_fn)(void *user, const regnn_history *history, size_t epoch)
EPOCH_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
#: void *(*regnn_malloc_fn)(void *user, size_t size)
MALLOC_FN = CFUNCTYPE(c_void_p, c_void_p, c_size_t)
#: void (*regnn_free_fn)(void *user, void *ptr)
FREE_FN = CFUNCTYPE(None, c_void_p, c_void_p)
#: int (*regnn_path_progress_fn)(void *user, size_t done, size_t total, double lambda,
#:                               uint64_t seed, const regnn_history *history)
PATH_PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_size_t, c_size_t, c_double, c_uint64, c_void_p)
#: regnn_exchange_fn: int (*)(void *user, float *grad, size_t n, double *sums, size_t n_sums)
EXCHANGE_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_float), c_size_t, POINTER(c_double), c_size_t)

H = c_void_p  # every handle is an opaque pointer
S = c_int     # regnn_status

# name: (restype, argtypes), in the order of include/regnn.h.
PROTOTYPES = {
    # versions
    "regnn_version": (c_uint, []),
    "regnn_version_string": (c_char_p, []),
    "regnn_abi_version": (c_int, []),
    # status codes
    "regnn_strerror": (c_char_p, [c_int]),
    "regnn_errmsg": (c_char_p, []),
    # math backend
    "regnn_blas_name": (c_char_p, []),
    "regnn_blas_threads": (c_int, []),
    "regnn_set_blas_threads": (S, [c_int]),
    # allocator
    "regnn_set_allocator": (S, [MALLOC_FN, FREE_FN, c_void_p]),
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
    # models and layers
    "regnn_model_create": (S, [c_size_t, P_HANDLE]),
    "regnn_model_free": (None, [H]),
    "regnn_model_copy": (S, [H, P_HANDLE]),
    "regnn_model_add_dense": (S, [H, c_size_t, c_int, P_HANDLE]),
    "regnn_model_inputs": (c_size_t, [H]),
    "regnn_model_outputs": (c_size_t, [H]),
    "regnn_model_layer_count": (c_size_t, [H]),
    "regnn_model_layer": (H, [H, c_size_t]),
    "regnn_model_set_layers_double": (S, [H, c_int, c_double]),
    "regnn_model_init": (S, [H, c_int, c_uint64]),
    "regnn_model_seed": (S, [H, c_uint64]),
    "regnn_model_set_threads": (S, [H, c_size_t]),
    "regnn_model_threads": (c_size_t, [H]),
    "regnn_model_param_count": (c_size_t, [H]),
    "regnn_model_get_params": (S, [H, P_FLOAT, c_size_t]),
    "regnn_model_set_params": (S, [H, P_FLOAT, c_size_t]),
    "regnn_model_predict": (S, [H, P_FLOAT, c_size_t, P_FLOAT, c_size_t]),
    "regnn_model_evaluate": (S, [H, H, P_DOUBLE, P_DOUBLE, P_DOUBLE]),
    "regnn_model_set_loss": (S, [H, c_int, c_double]),
    "regnn_model_get_loss": (S, [H, POINTER(c_int), P_DOUBLE]),
    "regnn_model_evaluate_loss": (S, [H, H, P_DOUBLE, P_DOUBLE, P_DOUBLE, P_DOUBLE]),
    "regnn_layer_inputs": (c_size_t, [H]),
    "regnn_layer_units": (c_size_t, [H]),
    "regnn_layer_activation": (c_int, [H]),
    "regnn_layer_set_double": (S, [H, c_int, c_double]),
    "regnn_layer_get_double": (S, [H, c_int, P_DOUBLE]),
    "regnn_layer_param_count": (c_size_t, [H]),
    "regnn_layer_get_params": (S, [H, P_FLOAT, c_size_t]),
    "regnn_layer_set_params": (S, [H, P_FLOAT, c_size_t]),
    # optimizers
    "regnn_optimizer_create": (S, [c_int, P_HANDLE]),
    "regnn_optimizer_free": (None, [H]),
    "regnn_optimizer_kind": (c_int, [H]),
    "regnn_optimizer_set_double": (S, [H, c_int, c_double]),
    "regnn_optimizer_get_double": (S, [H, c_int, P_DOUBLE]),
    "regnn_optimizer_steps": (c_uint64, [H]),
    "regnn_optimizer_set_steps": (S, [H, c_uint64]),
    "regnn_optimizer_state_size": (c_size_t, [H]),
    "regnn_optimizer_get_state": (S, [H, c_int, P_FLOAT, c_size_t]),
    "regnn_optimizer_set_state": (S, [H, c_int, P_FLOAT, c_size_t]),
    "regnn_optimizer_reset": (S, [H]),
    "regnn_optimizer_set_schedule": (S, [H, c_int, P_DOUBLE, c_size_t]),
    "regnn_optimizer_get_schedule": (S, [H, POINTER(c_int), P_DOUBLE, c_size_t, P_SIZE]),
    "regnn_optimizer_learning_rate_at": (S, [H, c_uint64, P_DOUBLE]),
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
    "regnn_option_bounds": (S, [c_int, c_int, c_void_p]),
    "regnn_option_name": (c_char_p, [c_int, c_int]),
    # warnings about a split or a lambda grid (1.2)
    "regnn_split_diagnose": (S, [H, H, H, H, H, c_int, P_HANDLE]),
    "regnn_path_diagnose": (S, [H, P_HANDLE]),
    "regnn_warnings_count": (c_size_t, [H]),
    "regnn_warnings_get": (S, [H, c_size_t, POINTER(c_int), P_DOUBLE, c_size_t]),
    "regnn_warnings_message": (c_char_p, [H, c_size_t]),
    "regnn_warnings_free": (None, [H]),
    "regnn_warning_name": (c_char_p, [c_int]),
}


class LibraryError(ImportError):
    """libregnn could not be found or loaded, or is not the ABI this binding expects."""

    __module__ = "regnn"


_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _package_candidates(pkg_dir=_PKG_DIR):
    return [os.path.join(pkg_dir, "libregnn.so.%d" % ABI_VERSION)]


def _repo_candidates(pkg_dir=_PKG_DIR):
    libdir = os.path.normpath(os.path.join(pkg_dir, os.pardir, os.pardir, "lib"))
    return [os.path.join(libdir, "libregnn.so.%d" % ABI_VERSION), os.path.join(libdir, "libregnn.so")]


def _open(path):
    # RTLD_LOCAL (the default) keeps libregnn's symbols out of the global namespace.
    return ctypes.CDLL(path)


def find_and_load():
    """Return (CDLL, path or name it was loaded from); raise LibraryError if none loads."""
    env = os.environ.get("REGNN_LIBRARY")
    if env:
        try:
            return _open(env), env
        except OSError as e:
            raise LibraryError("regnn: REGNN_LIBRARY=%r cannot be loaded: %s" % (env, e)) from None
    tried = []
    for path in _package_candidates() + _repo_candidates():
        if os.path.exists(path):
            try:
                return _open(path), path
            except OSError as e:
                tried.append("%s (%s)" % (path, e))
        else:
            tried.append("%s (missing)" % path)
    names = []
    found = ctypes.util.find_library("regnn")
    if found:
        names.append(found)
    names.append("libregnn.so.%d" % ABI_VERSION)
    for name in names:
        try:
            return _open(name), name
        except OSError as e:
            tried.append("%s (%s)" % (name, e))
    raise LibraryError(
        "regnn: cannot find libregnn (ABI %d). Install the package with `pip install .` "
        "from the source tree, build it with `make lib`, install it, or set "
        "REGNN_LIBRARY to the path of libregnn.so. Tried: %s" % (ABI_VERSION, "; ".join(tried)))


def check_abi(lib, where="libregnn"):
    """Raise LibraryError unless lib is the ABI and version this binding was written for."""
    try:
        abi_fn = lib.regnn_abi_version
        ver_fn = lib.regnn_version
    except AttributeError:
        raise LibraryError("regnn: %s is not libregnn (no regnn_abi_version symbol)" % where) from None
    abi_fn.restype, abi_fn.argtypes = c_int, []
    ver_fn.restype, ver_fn.argtypes = c_uint, []
    abi = abi_fn()
    if abi != ABI_VERSION:
        raise LibraryError(
            "regnn: ABI mismatch: %s has ABI version %d, this binding needs ABI %d "
            "(install a matching libregnn.so.%d or binding)" % (where, abi, ABI_VERSION, ABI_VERSION))
    version = ver_fn()
    if version < MIN_VERSION or version // 10000 != MIN_VERSION // 10000:
        raise LibraryError(
            "regnn: version mismatch: %s is version %d.%d.%d, this binding needs %d.%d.0 or a "
            "later %d.x" % (where, version // 10000, version // 100 % 100, version % 100,
                            MIN_VERSION // 10000, MIN_VERSION // 100 % 100, MIN_VERSION // 10000))
    return version


def bind(lib, prototypes):
    """Set argtypes/restype of each function of prototypes that lib has; return the
    names it lacks."""
    missing = []
    for name, (restype, argtypes) in prototypes.items():
        fn = getattr(lib, name, None)
        if fn is None:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    return missing


def declare(lib, where="libregnn"):
    """Set argtypes/restype of every function; raise LibraryError if one is missing."""
    missing = bind(lib, PROTOTYPES)
    if missing:
        raise LibraryError("regnn: %s lacks %d function(s) this binding needs: %s"
                           % (where, len(missing), ", ".join(missing)))


def load():
    lib, where = find_and_load()
    check_abi(lib, where)
    declare(lib, where)
    return lib, where


lib, library_path = load()

# ---- option bounds: the library's table of ranges and defaults (regnn_option_bounds)
OPTION_FIT, OPTION_PATH, OPTION_LAYER, OPTION_ADAM, OPTION_SGD, OPTION_LOSS = range(1, 7)
OPTION_EXPONENTIAL_DECAY, OPTION_PIECEWISE_DECAY, OPTION_COSINE_DECAY = 7, 8, 9
BOUNDS_MIN_OPEN, BOUNDS_MAX_OPEN, BOUNDS_INTEGER, BOUNDS_CHANGES_RESULTS, BOUNDS_COUPLED = \
    1, 2, 4, 8, 16


class Bounds(ctypes.Structure):
    """struct regnn_bounds."""
    _fields_ = [("size", c_size_t), ("min", c_double), ("max", c_double),
                ("default_value", c_double), ("flags", c_uint)]


def option_bounds(kind, key):
    """The library's Bounds of option key of kind (OPTION_*)."""
    b = Bounds(ctypes.sizeof(Bounds))
    status = lib.regnn_option_bounds(kind, key, ctypes.byref(b))
    if status:
        raise LibraryError("regnn: the library has no bounds for option %d of kind %d" % (key, kind))
    return b

if sys.byteorder == "little":
    FLOAT_FORMATS = ("f", "@f", "=f", "<f")
else:  # pragma: no cover - no big-endian machine here
    FLOAT_FORMATS = ("f", "@f", "=f", ">f")
