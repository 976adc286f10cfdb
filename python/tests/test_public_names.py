# SPDX-License-Identifier: MIT
"""The public import surface of regnn: the names a fresh `import regnn` gives, which the
split of the package into one module per concept (_dataset, _model, _optimizer, _fit,
_path, _io, _errors) must keep exactly."""

import json
import unittest

from _support import regnn, run_python

PUBLIC = {
    "ABI_VERSION", "ACT_LINEAR", "ACT_RELU", "ACT_SIGMOID", "ACT_TANH", "AGGREGATES", "Adam",
    "ACT_ELU", "ACT_SELU", "ACT_GELU", "ACT_SWISH", "ACT_LEAKY_RELU", "ACT_SOFTPLUS",
    "BatchNormalization",
    "Callback", "CancelledError", "ClosedError", "CosineDecay", "DIAG_VALUES", "Dataset",
    "Dense", "Diagnosis", "DiagnosisWarning", "Error", "Evaluation", "ExponentialDecay",
    "FileError", "FormatError", "GaussianDropout", "GaussianNoise", "HAVE_NUMPY", "History", "Huber", "INIT_GLOROT_UNIFORM",
    "INIT_HE_UNIFORM", "InternalError", "InvalidArgumentError", "LOSS_HUBER", "LOSS_LOG_COSH",
    "LOSS_MAE", "LOSS_MSE", "Layer", "LayerNormalization", "LearningRateSchedule",
    "LibraryError", "METRICS",
    "MONITOR_TRAIN_LOSS", "MONITOR_VAL_LOSS", "MONITOR_VAL_MSE", "Model", "NumericError",
    "OPTIM_ADAM", "OPTIM_SGD", "Optimizer", "OutOfMemoryError", "PENALTY_GAUSSIAN_NOISE",
    "PENALTY_L1", "PENALTY_L2",
    "PENALTY_WEIGHT_DECAY", "PiecewiseConstantDecay", "REASONS", "RUN_STATS",
    "ReduceLROnPlateau", "RegularizationPath", "SCALE_NONE", "SCALE_UNIT_NORM", "SCALE_ZSCORE",
    "SGD", "STATE_M", "STATE_V", "STATE_VELOCITY", "STOP_CALLBACK", "STOP_COMPLETED",
    "STOP_EARLY", "Scaler", "ShapeError", "StateError", "UnsupportedError", "VERDICTS",
    "VersionError", "WARNING_VALUES", "blas_name", "blas_threads", "checkpoint_to_bytes",
    "library_abi_version", "library_path", "library_version", "library_version_number",
    "load_checkpoint", "load_model", "merge_path_shards", "mpi_fit", "path_shard", "refit",
    "regularization_path", "save_checkpoint", "set_blas_threads", "split_warnings", "strerror",
    # 1.3: optimizers and schedules
    "RMSprop", "Adagrad", "Adamax", "Nadam", "OPTIM_RMSPROP", "OPTIM_ADAGRAD", "OPTIM_ADAMAX",
    "OPTIM_NADAM", "STATE_ACCUMULATOR", "STATE_NORM", "InverseTimeDecay", "PolynomialDecay",
    "CosineDecayRestarts",
    "PENALTY_DROPOUT", "PENALTY_MAX_NORM", "PENALTY_ACTIVITY_L2", "PENALTY_BIAS_L2",
}


class TestPublicNames(unittest.TestCase):
    def test_import_regnn_gives_exactly_these_names(self):
        r = run_python("import json, regnn; print(json.dumps(sorted("
                       "n for n in dir(regnn) if not n.startswith('_'))))")
        self.assertEqual(r.returncode, 0, r.stderr)
        names = set(json.loads(r.stdout))
        self.assertEqual(names - PUBLIC, set(), "new public names")
        self.assertEqual(PUBLIC - names, set(), "public names lost")

    def test_all_is_public_and_classes_say_regnn(self):
        self.assertLessEqual(set(regnn.__all__), PUBLIC)
        for name in PUBLIC:
            obj = getattr(regnn, name)
            if isinstance(obj, type):
                self.assertEqual(obj.__module__, "regnn", name)


if __name__ == "__main__":
    unittest.main()
