# SPDX-License-Identifier: MIT
"""Optimizers (internal; import them from regnn): Optimizer, Adam, SGD, RMSprop, Adagrad,
Adamax, Nadam and the declarations of include/regnn.h's optimizer functions."""

from ctypes import POINTER, byref, c_double, c_int, c_size_t, c_uint64

from . import _buffers as B
from ._capi import P_DOUBLE, P_FLOAT, P_HANDLE, P_SIZE, H, S, lib
from ._errors import UnsupportedError, declare
from ._handles import _Handle, _enum, _nonnull, _out_handle
from ._schedule import LearningRateSchedule

PROTOTYPES = {
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
}
declare(PROTOTYPES)

OPTIM_ADAM, OPTIM_SGD = 1, 2
OPTIM_RMSPROP, OPTIM_ADAGRAD, OPTIM_ADAMAX, OPTIM_NADAM = 3, 4, 5, 6
STATE_M, STATE_V, STATE_VELOCITY = 1, 2, 3
STATE_ACCUMULATOR, STATE_NORM = 4, 5
(_OPT_LEARNING_RATE, _OPT_BETA1, _OPT_BETA2, _OPT_EPSILON, _OPT_WEIGHT_DECAY, _OPT_MOMENTUM,
 _OPT_NESTEROV, _OPT_RHO, _OPT_INITIAL_ACCUMULATOR) = range(1, 10)
_STATES = {"m": STATE_M, "v": STATE_V, "velocity": STATE_VELOCITY,
           "accumulator": STATE_ACCUMULATOR, "norm": STATE_NORM}


# ---------------------------------------------------------------- optimizers

def _opt_property(key, name, doc, conv=float):
    def fget(self):
        v = c_double()
        lib.regnn_optimizer_get_double(self._handle(), key, byref(v))
        return conv(v.value)

    def fset(self, value):
        # Allowed from a fit callback (a learning-rate schedule): the value is read per step.
        lib.regnn_optimizer_set_double(self._handle(), key, B.real(value, name))
    return property(fget, fset, doc=doc)


class Optimizer(_Handle):
    """Base of Adam, SGD, RMSprop, Adagrad, Adamax and Nadam (regnn_optimizer). Options given
    as None keep the library default."""

    _FREE = lib.regnn_optimizer_free
    _KIND = None
    _OPTIONS = ()

    def __init__(self, **options):
        if self._KIND is None:
            raise TypeError("use regnn.Adam, regnn.SGD, regnn.RMSprop, regnn.Adagrad, "
                            "regnn.Adamax or regnn.Nadam")
        self._adopt(_out_handle(lib.regnn_optimizer_create, self._KIND))
        for name, value in options.items():
            if name not in self._OPTIONS:
                raise TypeError("%s has no option %r" % (type(self).__name__, name))
            if value is not None:
                setattr(self, name, value)

    @classmethod
    def _wrap(cls, handle):
        kind = lib.regnn_optimizer_kind(handle)
        sub = _KINDS.get(kind, Optimizer)
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
        """REGNN_OPTIM_* (OPTIM_ADAM, OPTIM_SGD, OPTIM_RMSPROP, ...)."""
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
        lib.regnn_optimizer_set_double(h, _OPT_LEARNING_RATE,
                                             B.real(value, "learning_rate"))
        if had:
            lib.regnn_optimizer_set_schedule(h, 0, None, 0)

    @property
    def schedule(self):
        """The learning-rate schedule (a regnn.LearningRateSchedule), or None. Setting
        None returns to the constant learning rate."""
        h = self._handle()
        kind, n = c_int(), c_size_t()
        lib.regnn_optimizer_get_schedule(h, byref(kind), None, 0, byref(n))
        if n.value == 0:
            return None
        buf = (c_double * n.value)()
        lib.regnn_optimizer_get_schedule(h, byref(kind), buf, n.value, byref(n))
        return LearningRateSchedule._from_params(kind.value, list(buf))

    @schedule.setter
    def schedule(self, value):
        h = self._check_idle("set a schedule")
        if value is None:
            lib.regnn_optimizer_set_schedule(h, 0, None, 0)
            return
        if not isinstance(value, LearningRateSchedule):
            raise TypeError("schedule must be a regnn.LearningRateSchedule (ExponentialDecay, "
                            "CosineDecayRestarts, ...) or None, not %s" % type(value).__name__)
        p = [float(v) for v in value.params()]
        buf = (c_double * max(len(p), 1))(*p)
        lib.regnn_optimizer_set_schedule(h, value.kind, buf, len(p))

    def learning_rate_at(self, step):
        """The rate of the update after `step` steps (the schedule at step, or the constant
        learning rate)."""
        v = c_double()
        lib.regnn_optimizer_learning_rate_at(self._handle(), B.seed(step, "step"),
                                                   byref(v))
        return v.value
    weight_decay = _opt_property(_OPT_WEIGHT_DECAY, "weight_decay",
                                 "decoupled weight decay (theta -= lr*wd*theta before the step)")

    @property
    def steps(self):
        """Steps taken since creation or the last reset."""
        return lib.regnn_optimizer_steps(self._handle())

    @steps.setter
    def steps(self, value):
        lib.regnn_optimizer_set_steps(self._check_idle("set steps"), B.seed(value, "steps"))

    @property
    def state_size(self):
        """Parameters the state buffers cover (0 until the first step binds them)."""
        return lib.regnn_optimizer_state_size(self._handle())

    def get_state(self, which):
        """A state buffer: "m", "v" (Adam, Nadam), "velocity" (SGD, RMSprop), "accumulator"
        (Adagrad), "m" and "norm" (Adamax), or a STATE_* code."""
        h = self._handle()
        w = _enum(which, _STATES, "state")
        n = lib.regnn_optimizer_state_size(h)
        ptr, buf = B.new_floats(1, n, True)
        lib.regnn_optimizer_get_state(h, w, _nonnull(ptr), n)
        return B.finish_floats(buf, 1, n, True)

    def set_state(self, which, values):
        h = self._check_idle("set state")
        w = _enum(which, _STATES, "state")
        b = B.as_input(values, "values", None, "column")
        lib.regnn_optimizer_set_state(h, w, _nonnull(b.ptr), b.size)

    def reset(self):
        """Zero the step count and the state, and unbind from the model."""
        lib.regnn_optimizer_reset(self._check_idle("reset"))

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


class RMSprop(Optimizer):
    """RMSprop in Keras form (v = rho v + (1 - rho) g^2; theta -= lr g / sqrt(v + epsilon)):
    defaults learning_rate 1e-3, rho 0.9, epsilon 1e-7. Keras' momentum and centered are
    accepted only at their defaults (0 and False): the library has neither."""

    _KIND = OPTIM_RMSPROP
    _OPTIONS = ("learning_rate", "rho", "epsilon", "weight_decay")

    def __init__(self, learning_rate=None, rho=None, momentum=0.0, epsilon=None, centered=False,
                 weight_decay=None, *, lr=None):
        if momentum != 0 or centered:
            raise UnsupportedError("RMSprop: momentum=%r, centered=%r: only Keras' defaults "
                                   "momentum=0, centered=False are supported"
                                   % (momentum, centered))
        learning_rate = _alias(learning_rate, lr, "learning_rate", "lr")
        super().__init__(learning_rate=learning_rate, rho=rho, epsilon=epsilon,
                         weight_decay=weight_decay)

    rho = _opt_property(_OPT_RHO, "rho", "decay of the mean square")
    epsilon = _opt_property(_OPT_EPSILON, "epsilon", "added to v inside the square root")


class Adagrad(Optimizer):
    """Adagrad in Keras form (a += g^2; theta -= lr g / sqrt(a + epsilon)): defaults
    learning_rate 1e-3, initial_accumulator_value 0.1, epsilon 1e-7."""

    _KIND = OPTIM_ADAGRAD
    _OPTIONS = ("learning_rate", "initial_accumulator_value", "epsilon", "weight_decay")

    def __init__(self, learning_rate=None, initial_accumulator_value=None, epsilon=None,
                 weight_decay=None, *, lr=None):
        learning_rate = _alias(learning_rate, lr, "learning_rate", "lr")
        super().__init__(learning_rate=learning_rate,
                         initial_accumulator_value=initial_accumulator_value, epsilon=epsilon,
                         weight_decay=weight_decay)

    initial_accumulator_value = _opt_property(
        _OPT_INITIAL_ACCUMULATOR, "initial_accumulator_value",
        "every accumulator's value when the optimizer binds to a model")
    epsilon = _opt_property(_OPT_EPSILON, "epsilon", "added to a inside the square root")


class _AdamLike(Optimizer):
    _OPTIONS = ("learning_rate", "beta1", "beta2", "epsilon", "weight_decay")

    def __init__(self, learning_rate=None, beta1=None, beta2=None, epsilon=None,
                 weight_decay=None, *, lr=None, beta_1=None, beta_2=None):
        learning_rate = _alias(learning_rate, lr, "learning_rate", "lr")
        beta1 = _alias(beta1, beta_1, "beta1", "beta_1")
        beta2 = _alias(beta2, beta_2, "beta2", "beta_2")
        super().__init__(learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon,
                         weight_decay=weight_decay)

    beta1 = _opt_property(_OPT_BETA1, "beta1", "first-moment decay")
    beta2 = _opt_property(_OPT_BETA2, "beta2", "second-moment (Adamax: norm) decay")
    epsilon = _opt_property(_OPT_EPSILON, "epsilon", "numerical stability term")


class Adamax(_AdamLike):
    """Adamax in Keras form (u = max(beta2 u, |g|); theta -= lr / (1 - beta1^t) m /
    (u + epsilon)): defaults learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7.
    Keras' names lr=, beta_1=, beta_2= are accepted as aliases."""

    _KIND = OPTIM_ADAMAX


class Nadam(_AdamLike):
    """Nadam in Keras 3 form (momentum cache u_t = beta1 (1 - 0.5 * 0.96^t)): defaults
    learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7. Keras' names lr=, beta_1=,
    beta_2= are accepted as aliases."""

    _KIND = OPTIM_NADAM


_KINDS = {OPTIM_ADAM: Adam, OPTIM_SGD: SGD, OPTIM_RMSPROP: RMSprop, OPTIM_ADAGRAD: Adagrad,
          OPTIM_ADAMAX: Adamax, OPTIM_NADAM: Nadam}
_OPTIMIZER_NAMES = {cls.__name__.lower(): cls for cls in _KINDS.values()}


def _make_optimizer(spec):
    """An Optimizer from an Optimizer (returned as it is) or a name ("adam", "sgd",
    "rmsprop", "adagrad", "adamax", "nadam", as Keras' compile takes)."""
    if isinstance(spec, str):
        cls = _OPTIMIZER_NAMES.get(spec.lower())
        if cls is None:
            raise UnsupportedError("unknown optimizer %r; expected one of %s (or a "
                                   "regnn.Optimizer object)"
                                   % (spec, ", ".join('"%s"' % n for n in _OPTIMIZER_NAMES)))
        return cls()
    return _need_optimizer(spec)


def _need_optimizer(obj):
    if not isinstance(obj, Optimizer):
        raise TypeError("optimizer must be a regnn.Optimizer (regnn.Adam(), regnn.SGD(), ...) "
                        "or a name (\"adam\", \"sgd\", ...), not %s" % type(obj).__name__)
    return obj
