# SPDX-License-Identifier: MIT
"""Models and layers (internal; import them from regnn): Model, Dense, Layer, the losses,
and the declarations of include/regnn.h's model and layer functions."""

import collections
from ctypes import POINTER, byref, c_double, c_float, c_int, c_size_t, c_uint64, c_void_p

from . import _buffers as B
from ._capi import P_DOUBLE, P_FLOAT, P_HANDLE, H, S, lib
from ._errors import InvalidArgumentError, ShapeError, StateError, UnsupportedError, declare
from ._library import OPTION_LAYER, OPTION_LOSS
from ._library import option_bounds as _bounds
from . import _fit, _io, _onnx
from ._handles import _Handle, _enum, _name_of, _need, _nonnull, _out_handle
from ._dataset import Scaler, _as_dataset
from ._optimizer import Optimizer, _make_optimizer

PROTOTYPES = {
    # models and layers
    "regnn_model_create": (S, [c_size_t, P_HANDLE]),
    "regnn_model_free": (None, [H]),
    "regnn_model_copy": (S, [H, P_HANDLE]),
    "regnn_model_add_dense": (S, [H, c_size_t, c_int, P_HANDLE]),
    "regnn_model_add_gaussian_noise": (S, [H, c_double, P_HANDLE]),
    "regnn_model_add_gaussian_dropout": (S, [H, c_double, P_HANDLE]),
    "regnn_model_add_layer_normalization": (S, [H, c_double, P_HANDLE]),
    "regnn_model_add_batch_normalization": (S, [H, c_double, c_double, P_HANDLE]),
    "regnn_layer_momentum": (c_double, [H]),
    "regnn_layer_get_moving": (S, [H, P_FLOAT, P_FLOAT, c_size_t]),
    "regnn_layer_type": (c_int, [H]),
    "regnn_layer_noise": (c_double, [H]),
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
}
declare(PROTOTYPES)

ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH = 0, 1, 2, 3
ACT_ELU, ACT_SELU, ACT_GELU, ACT_SWISH, ACT_LEAKY_RELU, ACT_SOFTPLUS = 4, 5, 6, 7, 8, 9
INIT_GLOROT_UNIFORM, INIT_HE_UNIFORM = 0, 1
LOSS_MSE, LOSS_MAE, LOSS_HUBER, LOSS_LOG_COSH = 0, 1, 2, 3
_LAYER_L2, _LAYER_L1, _LAYER_DROPOUT = 1, 2, 3
_LAYERTYPE_DENSE, _LAYERTYPE_GAUSSIAN_NOISE, _LAYERTYPE_GAUSSIAN_DROPOUT = 0, 1, 2
_LAYERTYPE_LAYER_NORMALIZATION, _LAYERTYPE_BATCH_NORMALIZATION = 3, 4
_LAYERTYPES = {"dense": _LAYERTYPE_DENSE, "gaussian_noise": _LAYERTYPE_GAUSSIAN_NOISE,
               "gaussian_dropout": _LAYERTYPE_GAUSSIAN_DROPOUT,
               "layer_normalization": _LAYERTYPE_LAYER_NORMALIZATION,
               "batch_normalization": _LAYERTYPE_BATCH_NORMALIZATION}
_LAYER_BIAS_L2, _LAYER_BIAS_L1 = 4, 5
_LAYER_MAX_NORM, _LAYER_MIN_NORM, _LAYER_NORM_RATE, _LAYER_NON_NEG, _LAYER_UNIT_NORM = 6, 7, 8, 9, 10
_LAYER_ACTIVITY_L2, _LAYER_ACTIVITY_L1 = 11, 12
# The layer settings of Keras's bias_regularizer, activity_regularizer and kernel_constraint,
# by keyword (Dense, add_dense, set_layers and a Layer's properties), set in this order
# (max_norm before min_norm: a minimum above the maximum is refused).
_EXTRA_SETTINGS = (("bias_l2", _LAYER_BIAS_L2), ("bias_l1", _LAYER_BIAS_L1),
                   ("activity_l2", _LAYER_ACTIVITY_L2), ("activity_l1", _LAYER_ACTIVITY_L1),
                   ("max_norm", _LAYER_MAX_NORM), ("min_norm", _LAYER_MIN_NORM),
                   ("norm_rate", _LAYER_NORM_RATE), ("non_neg", _LAYER_NON_NEG),
                   ("unit_norm", _LAYER_UNIT_NORM))
_ACTIVATIONS = {"linear": ACT_LINEAR, "relu": ACT_RELU, "sigmoid": ACT_SIGMOID, "tanh": ACT_TANH,
                "elu": ACT_ELU, "selu": ACT_SELU, "gelu": ACT_GELU, "swish": ACT_SWISH,
                "silu": ACT_SWISH, "leaky_relu": ACT_LEAKY_RELU, "softplus": ACT_SOFTPLUS}
_INITS = {"glorot_uniform": INIT_GLOROT_UNIFORM, "glorot": INIT_GLOROT_UNIFORM,
          "he_uniform": INIT_HE_UNIFORM, "he": INIT_HE_UNIFORM}

_predict = lib.regnn_model_predict
_from_buffer = c_float.from_buffer
_np = B.np
_NDARRAY = B.NDARRAY
_F32 = B.F32
_empty = _np.empty if _np is not None else None



# ---------------------------------------------------------------- models

def _settings_text(obj):
    """", l2=0.5, max_norm=2" of the settings obj holds other than their defaults."""
    names = (("l2", _LAYER_L2), ("l1", _LAYER_L1), ("dropout", _LAYER_DROPOUT)) + _EXTRA_SETTINGS
    out = ""
    for name, key in names:
        v = getattr(obj, name)
        if v is not None and v != _bounds(OPTION_LAYER, key).default_value:
            out += ", %s=%g" % (name, v)
    return out


def _extra_values(extra, fn):
    """(key, value, name) of the _EXTRA_SETTINGS given (not None), in the table's order."""
    known = dict(_EXTRA_SETTINGS)
    for name in extra:
        if name not in known:
            raise TypeError("%s: unexpected keyword argument %r" % (fn, name))
    return [(key, extra[name], name) for name, key in _EXTRA_SETTINGS
            if extra.get(name) is not None]


class Dense:
    """Specification of a dense layer for Model(n_inputs, [Dense(...), ...])."""

    __slots__ = ("units", "activation", "l2", "l1", "dropout") + tuple(n for n, _ in _EXTRA_SETTINGS)

    def __init__(self, units, activation="linear", *, l2=0.0, l1=0.0, dropout=0.0, **extra):
        B.index(units, "Dense: units")  # a size_t; the library checks the range
        if activation is None:  # Keras' default: no activation
            activation = "linear"
        _enum(activation, _ACTIVATIONS, "activation")
        for name, key, value in (("l2", _LAYER_L2, l2), ("l1", _LAYER_L1, l1)):
            if value is not None:
                B.in_bounds(value, "Dense: " + name, _bounds(OPTION_LAYER, key))
        if dropout is not None:
            B.in_bounds(dropout, "Dense: dropout", _bounds(OPTION_LAYER, _LAYER_DROPOUT))
        for name in extra:
            if name not in dict(_EXTRA_SETTINGS):
                raise TypeError("Dense: unexpected keyword argument %r" % name)
        for name, key in _EXTRA_SETTINGS:
            value = extra.get(name)
            if value is not None:
                B.in_bounds(value, "Dense: " + name, _bounds(OPTION_LAYER, key))
            setattr(self, name, value)
        self.units = units
        self.activation = activation
        self.l2 = l2
        self.l1 = l1
        self.dropout = dropout

    def __repr__(self):
        act = self.activation if isinstance(self.activation, str) else _name_of(
            self.activation, _ACTIVATIONS)
        extra = _settings_text(self)
        return "Dense(%d, %r%s)" % (self.units, act, extra)


class GaussianNoise:
    """Specification of a Keras GaussianNoise(stddev) layer: in training adds N(0, stddev^2)
    noise to its inputs; in inference passes them through. stddev in [0, 1]."""

    __slots__ = ("stddev",)

    def __init__(self, stddev):
        self.stddev = B.real(stddev, "GaussianNoise: stddev")  # the library checks the range

    def __repr__(self):
        return "GaussianNoise(%g)" % self.stddev


class LayerNormalization:
    """Specification of a Keras LayerNormalization layer (axis -1, center and scale): each row
    becomes gamma * (x - mean) / sqrt(var + epsilon) + beta; gamma and beta are trainable."""

    __slots__ = ("epsilon",)

    def __init__(self, epsilon=1e-3):
        self.epsilon = B.real(epsilon, "LayerNormalization: epsilon")

    def __repr__(self):
        return "LayerNormalization(epsilon=%g)" % self.epsilon


class BatchNormalization:
    """Specification of a Keras BatchNormalization layer (axis -1, center and scale): training
    normalizes with the batch's statistics and moves moving_mean / moving_variance by momentum;
    inference uses the moving ones."""

    __slots__ = ("momentum", "epsilon")

    def __init__(self, momentum=0.99, epsilon=1e-3):
        self.momentum = B.real(momentum, "BatchNormalization: momentum")
        self.epsilon = B.real(epsilon, "BatchNormalization: epsilon")

    def __repr__(self):
        return "BatchNormalization(momentum=%g, epsilon=%g)" % (self.momentum, self.epsilon)


class GaussianDropout:
    """Specification of a Keras GaussianDropout(rate) layer: in training multiplies its inputs
    by N(1, rate / (1 - rate)) noise; in inference passes them through. rate in [0, 1)."""

    __slots__ = ("rate",)

    def __init__(self, rate):
        self.rate = B.real(rate, "GaussianDropout: rate")

    def __repr__(self):
        return "GaussianDropout(%g)" % self.rate


Evaluation = collections.namedtuple("Evaluation", "mse mae penalty loss")
Evaluation.__doc__ = ("Metrics of Model.evaluate: loss = the model's loss (sample-weighted, "
                      "divided by the rows) + penalty, as Keras reports it; mse and mae are "
                      "weighted means (divided by the weight sum) when there are weights.")


class Layer:
    """A layer (dense, noise or normalization), borrowed from its Model: valid while the model
    is open."""

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

    @property
    def type(self):
        """The layer's type: "dense", "gaussian_noise", "gaussian_dropout" or
        "layer_normalization"."""
        return _name_of(lib.regnn_layer_type(self._handle()), _LAYERTYPES)

    @property
    def momentum(self):
        """A BatchNormalization layer's momentum; 0 for other layers."""
        return lib.regnn_layer_momentum(self._handle())

    def _moving(self, which):
        n = self.units
        ptr, buf = B.new_floats(1, n, True)
        args = (ptr, None) if which == 0 else (None, ptr)
        lib.regnn_layer_get_moving(self._handle(), args[0], args[1], n)
        return B.finish_floats(buf, 1, n, True)

    @property
    def moving_mean(self):
        """A BatchNormalization layer's moving mean (state, not a parameter)."""
        return self._moving(0)

    @property
    def moving_variance(self):
        """A BatchNormalization layer's moving variance (state, not a parameter)."""
        return self._moving(1)

    @property
    def noise(self):
        """The stddev of a GaussianNoise layer, the rate of a GaussianDropout layer, the epsilon
        of a LayerNormalization layer; 0 for a dense layer."""
        return lib.regnn_layer_noise(self._handle())

    def _get(self, key):
        v = c_double()
        lib.regnn_layer_get_double(self._handle(), key, byref(v))
        return v.value

    def _set(self, key, value, what):
        lib.regnn_layer_set_double(self._mutable("change " + what), key, B.real(value, what))

    l2 = property(lambda self: self._get(_LAYER_L2),
                  lambda self, v: self._set(_LAYER_L2, v, "l2"), doc="L2 penalty coefficient")
    l1 = property(lambda self: self._get(_LAYER_L1),
                  lambda self, v: self._set(_LAYER_L1, v, "l1"), doc="L1 penalty coefficient")
    dropout = property(lambda self: self._get(_LAYER_DROPOUT),
                       lambda self, v: self._set(_LAYER_DROPOUT, v, "dropout"),
                       doc="dropout rate on the layer's output (training only)")
    bias_l2 = property(lambda self: self._get(_LAYER_BIAS_L2),
                       lambda self, v: self._set(_LAYER_BIAS_L2, v, "bias_l2"),
                       doc="L2 penalty of the bias (Keras bias_regularizer)")
    bias_l1 = property(lambda self: self._get(_LAYER_BIAS_L1),
                       lambda self, v: self._set(_LAYER_BIAS_L1, v, "bias_l1"),
                       doc="L1 penalty of the bias")
    activity_l2 = property(lambda self: self._get(_LAYER_ACTIVITY_L2),
                           lambda self, v: self._set(_LAYER_ACTIVITY_L2, v, "activity_l2"),
                           doc="L2 penalty of the layer's output, summed over the batch "
                               "(Keras 3 activity_regularizer)")
    activity_l1 = property(lambda self: self._get(_LAYER_ACTIVITY_L1),
                           lambda self, v: self._set(_LAYER_ACTIVITY_L1, v, "activity_l1"),
                           doc="L1 penalty of the layer's output, summed over the batch")
    max_norm = property(lambda self: self._get(_LAYER_MAX_NORM),
                        lambda self, v: self._set(_LAYER_MAX_NORM, v, "max_norm"),
                        doc="MaxNorm(max_value) on the kernel after each update (0: none)")
    min_norm = property(lambda self: self._get(_LAYER_MIN_NORM),
                        lambda self, v: self._set(_LAYER_MIN_NORM, v, "min_norm"),
                        doc="MinMaxNorm's min_value (with max_norm)")
    norm_rate = property(lambda self: self._get(_LAYER_NORM_RATE),
                         lambda self, v: self._set(_LAYER_NORM_RATE, v, "norm_rate"),
                         doc="MinMaxNorm's rate (with max_norm)")
    non_neg = property(lambda self: self._get(_LAYER_NON_NEG),
                       lambda self, v: self._set(_LAYER_NON_NEG, v, "non_neg"),
                       doc="1: NonNeg on the kernel after each update")
    unit_norm = property(lambda self: self._get(_LAYER_UNIT_NORM),
                         lambda self, v: self._set(_LAYER_UNIT_NORM, v, "unit_norm"),
                         doc="1: UnitNorm on the kernel after each update")

    def get_params(self, out=None):
        """Kernel (inputs x units, row-major) then bias (units), flat."""
        h = self._handle()
        n = lib.regnn_layer_param_count(h)
        if out is not None:
            lib.regnn_layer_get_params(h, _nonnull(B.as_output(out, n)), n)
            return out
        ptr, buf = B.new_floats(1, n, True)
        lib.regnn_layer_get_params(h, _nonnull(ptr), n)
        return B.finish_floats(buf, 1, n, True)

    def set_params(self, values):
        h = self._mutable("set parameters")
        b = B.as_input(values, "values", None, "column")
        lib.regnn_layer_set_params(h, _nonnull(b.ptr), b.size)

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
        if self.type != "dense":
            spec = {"gaussian_noise": "GaussianNoise", "gaussian_dropout": "GaussianDropout",
                    "layer_normalization": "LayerNormalization",
                    "batch_normalization": "BatchNormalization"}[self.type]
            return "<regnn.Layer %d: %s(%g), %d inputs>" % (self.index, spec, self.noise,
                                                            self.inputs)
        extra = _settings_text(self)
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

    def __init__(self, n_inputs, layers=(), *, threads=0):
        n = B.index(n_inputs, "Model: n_inputs")
        self._layers = []
        self._n_in = n
        self._n_out = 0
        self._adopt(_out_handle(lib.regnn_model_create, n))
        for spec in layers:
            self.add(spec)
        self.threads = 0 if threads is None else threads

    @property
    def threads(self):
        """Threads fit() and train_batch() use: 1..256, or 0 to let the library pick
        the count from the layers' shapes, the batch and the CPUs the process may use
        (affinity mask, cgroup quota; docs/api.md, "Training on several threads"); a
        count above those CPUs runs on that many. Default 0 for a Model built here (a
        loaded model starts at the library's 1). Results are bit-identical for every
        count."""
        return lib.regnn_model_threads(self._handle())

    @threads.setter
    def threads(self, n):
        h = self._check_idle("change threads")
        lib.regnn_model_set_threads(h, B.index(n, "threads"))

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
        """Append a Dense, GaussianNoise or GaussianDropout spec; returns the Layer."""
        if isinstance(layer, GaussianNoise):
            return self.add_gaussian_noise(layer.stddev)
        if isinstance(layer, GaussianDropout):
            return self.add_gaussian_dropout(layer.rate)
        if isinstance(layer, LayerNormalization):
            return self.add_layer_normalization(layer.epsilon)
        if isinstance(layer, BatchNormalization):
            return self.add_batch_normalization(layer.momentum, layer.epsilon)
        if not isinstance(layer, Dense):
            raise TypeError("Model.add expects a regnn.Dense, GaussianNoise, GaussianDropout, "
                            "LayerNormalization or BatchNormalization, "
                            "not %s" % type(layer).__name__)
        return self.add_dense(layer.units, layer.activation, l2=layer.l2, l1=layer.l1,
                              dropout=layer.dropout,
                              **{n: getattr(layer, n) for n, _ in _EXTRA_SETTINGS})

    def add_dense(self, units, activation="linear", *, l2=None, l1=None, dropout=None, **extra):
        """Append a dense layer (before init only); returns the Layer."""
        h = self._check_idle("add layers")
        act = _enum("linear" if activation is None else activation, _ACTIVATIONS, "activation")
        lh = c_void_p()
        lib.regnn_model_add_dense(h, B.index(units, "units"), act, byref(lh))
        layer = Layer(self, lh.value, len(self._layers))
        self._layers.append(layer)
        self._n_out = lib.regnn_model_outputs(h)
        for key, value, what in ((_LAYER_L2, l2, "l2"), (_LAYER_L1, l1, "l1"),
                                 (_LAYER_DROPOUT, dropout, "dropout")):
            if value:
                layer._set(key, value, what)
        for key, value, what in _extra_values(extra, "add_dense"):
            layer._set(key, value, what)
        return layer

    def _add_noise(self, fn, value, what):
        h = self._check_idle("add layers")
        lh = c_void_p()
        fn(h, B.real(value, what), byref(lh))
        layer = Layer(self, lh.value, len(self._layers))
        self._layers.append(layer)
        self._n_out = lib.regnn_model_outputs(h)
        return layer

    def add_gaussian_noise(self, stddev):
        """Append a GaussianNoise layer (before init only): training adds N(0, stddev^2)
        noise, stddev in [0, 1]; returns the Layer."""
        return self._add_noise(lib.regnn_model_add_gaussian_noise, stddev, "stddev")

    def add_layer_normalization(self, epsilon=1e-3):
        """Append a LayerNormalization layer (before init only): per row
        gamma * (x - mean) / sqrt(var + epsilon) + beta; returns the Layer."""
        return self._add_noise(lib.regnn_model_add_layer_normalization, epsilon, "epsilon")

    def add_batch_normalization(self, momentum=0.99, epsilon=1e-3):
        """Append a BatchNormalization layer (before init only); returns the Layer."""
        h = self._check_idle("add layers")
        lh = c_void_p()
        lib.regnn_model_add_batch_normalization(h, B.real(momentum, "momentum"),
                                                B.real(epsilon, "epsilon"), byref(lh))
        layer = Layer(self, lh.value, len(self._layers))
        self._layers.append(layer)
        self._n_out = lib.regnn_model_outputs(h)
        return layer

    def add_gaussian_dropout(self, rate):
        """Append a GaussianDropout layer (before init only): training multiplies by
        N(1, rate / (1 - rate)) noise, rate in [0, 1); returns the Layer."""
        return self._add_noise(lib.regnn_model_add_gaussian_dropout, rate, "rate")

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

    def set_layers(self, *, l2=None, l1=None, dropout=None, **extra):
        """Set L2 / L1 / dropout, or bias_l2, bias_l1, activity_l2, activity_l1, max_norm,
        min_norm, norm_rate, non_neg, unit_norm on every layer (None leaves a setting
        unchanged)."""
        h = self._check_idle("change layers")
        for key, value, what in ((_LAYER_L2, l2, "l2"), (_LAYER_L1, l1, "l1"),
                                 (_LAYER_DROPOUT, dropout, "dropout")):
            if value is not None:
                lib.regnn_model_set_layers_double(h, key, B.real(value, what))
        for key, value, what in _extra_values(extra, "set_layers"):
            lib.regnn_model_set_layers_double(h, key, B.real(value, what))

    # -- parameters
    def init(self, scheme="glorot_uniform", seed=0):
        """Initialize all parameters from seed (also seeds shuffling/dropout); returns self."""
        h = self._check_idle("initialize")
        lib.regnn_model_init(h, _enum(scheme, _INITS, "init scheme"), B.seed(seed))
        return self

    def seed(self, seed):
        """Re-seed the shuffling/dropout RNG without touching parameters."""
        lib.regnn_model_seed(self._check_idle("re-seed"), B.seed(seed))

    def get_params(self, out=None):
        """All parameters, flat: per layer its kernel (inputs x units) then its bias."""
        h = self._handle()
        n = lib.regnn_model_param_count(h)
        if out is not None:
            lib.regnn_model_get_params(h, _nonnull(B.as_output(out, n)), n)
            return out
        ptr, buf = B.new_floats(1, n, True)
        lib.regnn_model_get_params(h, _nonnull(ptr), n)
        return B.finish_floats(buf, 1, n, True)

    def set_params(self, values):
        """Replace all parameters (any float sequence of param_count values)."""
        h = self._check_idle("set parameters")
        b = B.as_input(values, "values", None, "column")
        lib.regnn_model_set_params(h, _nonnull(b.ptr), b.size)

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
                _predict(h, px, rows, _from_buffer(res), count)
                return res
            py, buf = B.new_floats(rows, n_out, one_d)
            _predict(h, px, rows, _nonnull(py), count)
            return B.finish_floats(buf, rows, n_out, one_d)
        if (type(out) is _NDARRAY and out.dtype is _F32 and out.flags.c_contiguous
                and out.flags.aligned and out.size == count and count and out.flags.writeable):
            py = _from_buffer(out)  # written in place: no allocation, no copy
        else:
            py = _nonnull(B.as_output(out, count))
        _predict(h, px, rows, py, count)
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
            lib.regnn_model_evaluate_loss(h, ds._handle(), byref(loss), byref(mse),
                                                byref(mae), byref(pen))
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
        lib.regnn_model_set_loss(self._check_idle("change the loss"), kind, param)
        return self

    @property
    def loss(self):
        """The loss name: "mse", "mae", "huber" or "log_cosh"."""
        kind, param = c_int(), c_double()
        lib.regnn_model_get_loss(self._handle(), byref(kind), byref(param))
        return _name_of(kind.value, _LOSSES)

    @property
    def huber_delta(self):
        """Huber's delta, or None for the other losses."""
        kind, param = c_int(), c_double()
        lib.regnn_model_get_loss(self._handle(), byref(kind), byref(param))
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
            lib.regnn_train_batch(h, oh, _nonnull(bx.ptr), _nonnull(by.ptr), bx.rows,
                                        byref(loss))
            return loss.value
        bw = B.as_input(sample_weight, "sample_weight", 1, "column")
        if bw.cols != 1 or bw.rows != bx.rows:
            raise ShapeError("sample_weight must hold one weight per row: %d rows, got %d x %d"
                             % (bx.rows, bw.rows, bw.cols))
        lib.regnn_train_batch_weighted(h, oh, _nonnull(bx.ptr), _nonnull(by.ptr),
                                             _nonnull(bw.ptr), bx.rows, byref(loss))
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
        lib.regnn_model_set_loss(self._check_idle("compile"), kind, param)
        self._optimizer = opt
        self._shown_metrics = tuple(shown)
        return self

    @property
    def optimizer(self):
        """The optimizer set by compile(), or made by fit() from a name or by default; None
        before. An optimizer passed to fit() as an object stays the caller's and is not kept."""
        return self._optimizer

    fit = _fit.fit

    def __repr__(self):
        if self.closed:
            return "<regnn.Model closed>"
        return "<regnn.Model %d inputs: %s; %d parameters>" % (
            self._n_in, ", ".join(repr(l) for l in self._layers) or "no layers",
            self.param_count)


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
