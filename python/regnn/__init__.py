# SPDX-License-Identifier: MIT
"""Python binding of libregnn over ctypes: dense regression networks with L2/L1/dropout,
Adam/SGD, MSE/MAE/Huber/log-cosh losses and sample weights. Needs only the standard library; numpy is used when it is installed.

    import regnn
    with regnn.Dataset.from_csv("diabetes.csv", targets="y") as ds:
        train, test = ds.split_shuffled(0.1, seed=1)
        model = regnn.Model(ds.n_features, [regnn.Dense(64, "relu", l2=1e-3), regnn.Dense(1)])
        model.init(seed=1)
        history = model.fit(train, regnn.Adam(), epochs=50, batch_size=32, validation_split=0.15)
        print(model.evaluate(test).mse)
        model.save("model.rgn"); same = regnn.load_model("model.rgn")

Keras style works too: model.fit(x, y, epochs=100, validation_split=0.15, verbose=2).

The shared library is found through REGNN_LIBRARY, then the copy inside this package
(pip install), then the repository's lib/, then the system's loader paths; its ABI
version is checked on import
(ImportError, in fact regnn.LibraryError, on a mismatch). See docs/python.md.
"""

from ._capi import ABI_VERSION, LibraryError, library_path, lib as _lib
from ._errors import (CancelledError, ClosedError, Error, FileError, FormatError, InternalError,
                      InvalidArgumentError, NumericError, OutOfMemoryError, ShapeError,
                      StateError, UnsupportedError, VersionError, strerror)
from . import _library  # noqa: F401  (declares the library-wide functions used below)
from ._buffers import HAVE_NUMPY
from ._dataset import SCALE_NONE, SCALE_UNIT_NORM, SCALE_ZSCORE, Dataset, Scaler
from ._optimizer import OPTIM_ADAM, OPTIM_SGD, STATE_M, STATE_V, STATE_VELOCITY, SGD, Adam, Optimizer
from ._optimizer import (OPTIM_ADAGRAD, OPTIM_ADAMAX, OPTIM_NADAM, OPTIM_RMSPROP,
                         STATE_ACCUMULATOR, STATE_NORM, Adagrad, Adamax, Nadam, RMSprop)
from ._fit import (DIAG_VALUES, METRICS, MONITOR_TRAIN_LOSS, MONITOR_VAL_LOSS, MONITOR_VAL_MSE,
                   REASONS, STOP_CALLBACK, STOP_COMPLETED, STOP_EARLY, VERDICTS, Callback,
                   Diagnosis, History)
from ._model import (ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH, INIT_GLOROT_UNIFORM,  # noqa: F401
                     ACT_ELU, ACT_SELU, ACT_GELU, ACT_SWISH, ACT_LEAKY_RELU, ACT_SOFTPLUS,
                     INIT_HE_UNIFORM, LOSS_HUBER, LOSS_LOG_COSH, LOSS_MAE, LOSS_MSE, Dense,
                     Evaluation, GaussianDropout, GaussianNoise, Huber, Layer,
                     LayerNormalization, BatchNormalization, Model)
from ._io import checkpoint_to_bytes, load_checkpoint, load_model, save_checkpoint
from ._schedule import (CosineDecay, ExponentialDecay, LearningRateSchedule,
                        PiecewiseConstantDecay, ReduceLROnPlateau)
from ._schedule import CosineDecayRestarts, InverseTimeDecay, PolynomialDecay
from ._mpi import mpi_fit
from ._path import (AGGREGATES, PENALTY_L2, PENALTY_L1, PENALTY_WEIGHT_DECAY, RUN_STATS,  # noqa: F401
                    PENALTY_DROPOUT, PENALTY_MAX_NORM, PENALTY_ACTIVITY_L2, PENALTY_BIAS_L2,
                    PENALTY_GAUSSIAN_NOISE,
                    RegularizationPath, merge_path_shards, path_shard, refit,
                    regularization_path)
from ._path import WARNING_VALUES, DiagnosisWarning, split_warnings

for _name in ("LibraryError", "Error", "InvalidArgumentError", "OutOfMemoryError", "ShapeError",
              "StateError", "ClosedError", "FileError", "FormatError", "VersionError",
              "NumericError", "CancelledError", "UnsupportedError", "InternalError", "Dataset",
              "Scaler", "Dense", "GaussianNoise", "GaussianDropout", "LayerNormalization", "BatchNormalization", "Layer", "Model", "Evaluation", "Huber", "Optimizer", "Adam", "SGD",
              "History", "Diagnosis", "RegularizationPath", "regularization_path", "refit", "mpi_fit",
              "path_shard", "merge_path_shards", "DiagnosisWarning", "split_warnings",
              "Callback",
              "load_model", "save_checkpoint", "load_checkpoint", "checkpoint_to_bytes",
              "LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
              "CosineDecay", "ReduceLROnPlateau", "RMSprop", "Adagrad", "Adamax", "Nadam",
              "InverseTimeDecay", "PolynomialDecay", "CosineDecayRestarts"):
    globals()[_name].__module__ = __name__
del _name

#: Version of this binding (it follows the C library's version it was written for).
__version__ = "1.3.0"


def library_version():
    """The loaded library's version string, e.g. "1.0.0"."""
    return _lib.regnn_version_string().decode("ascii")


def library_version_number():
    """The loaded library's REGNN_VERSION_NUMBER (major*10000 + minor*100 + patch)."""
    return _lib.regnn_version()


def library_abi_version():
    """The loaded library's REGNN_ABI_VERSION (equal to ABI_VERSION, checked on import)."""
    return _lib.regnn_abi_version()


def blas_name():
    """"openblas" or "builtin": the GEMM the library was built with."""
    return _lib.regnn_blas_name().decode("ascii")


def blas_threads():
    """Threads the BLAS uses per matrix product (1 for the built-in GEMM)."""
    return _lib.regnn_blas_threads()


def set_blas_threads(n):
    """Set OpenBLAS's thread count, process-wide (the built-in GEMM accepts only 1).
    1 is fastest for small layers, and makes regularization_path's results the same for
    every thread count."""
    from ._buffers import index
    _lib.regnn_set_blas_threads(index(n, "n", -2 ** 31, 2 ** 31 - 1))  # a C int


__all__ = [
    "ABI_VERSION", "HAVE_NUMPY", "METRICS", "LibraryError", "library_path", "library_version",
    "library_version_number", "library_abi_version", "strerror", "blas_name", "blas_threads",
    "set_blas_threads",
    "Error", "InvalidArgumentError", "OutOfMemoryError", "ShapeError", "StateError",
    "ClosedError", "FileError", "FormatError", "VersionError", "NumericError", "CancelledError",
    "UnsupportedError", "InternalError",
    "Dataset", "Scaler", "Dense", "Layer", "Model", "Evaluation", "Optimizer", "Adam", "SGD",
    "History", "Diagnosis", "VERDICTS", "REASONS", "DIAG_VALUES", "Callback",
    "LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay",
    "ReduceLROnPlateau",
    "RMSprop", "Adagrad", "Adamax", "Nadam", "InverseTimeDecay", "PolynomialDecay",
    "CosineDecayRestarts", "OPTIM_RMSPROP", "OPTIM_ADAGRAD", "OPTIM_ADAMAX", "OPTIM_NADAM",
    "STATE_ACCUMULATOR", "STATE_NORM",
    "load_model", "save_checkpoint", "load_checkpoint", "checkpoint_to_bytes",
    "regularization_path", "RegularizationPath", "refit", "mpi_fit", "RUN_STATS", "AGGREGATES",
    "path_shard", "merge_path_shards",
    "split_warnings", "DiagnosisWarning", "WARNING_VALUES",
    "PENALTY_L2", "PENALTY_L1", "PENALTY_WEIGHT_DECAY",
    "PENALTY_DROPOUT", "PENALTY_MAX_NORM", "PENALTY_ACTIVITY_L2", "PENALTY_BIAS_L2",
    "ACT_LINEAR", "ACT_RELU", "ACT_SIGMOID", "ACT_TANH", "INIT_GLOROT_UNIFORM", "INIT_HE_UNIFORM",
    "ACT_ELU", "ACT_SELU", "ACT_GELU", "ACT_SWISH", "ACT_LEAKY_RELU", "ACT_SOFTPLUS",
    "SCALE_NONE", "SCALE_ZSCORE", "SCALE_UNIT_NORM", "OPTIM_ADAM", "OPTIM_SGD",
    "MONITOR_VAL_LOSS", "MONITOR_VAL_MSE", "MONITOR_TRAIN_LOSS", "STOP_COMPLETED", "STOP_EARLY",
    "STOP_CALLBACK", "STATE_M", "STATE_V", "STATE_VELOCITY",
]
