# SPDX-License-Identifier: MIT
"""Learning-rate schedules (keras.optimizers.schedules) and ReduceLROnPlateau
(keras.callbacks), as descriptions the library runs: formulas in docs/api.md."""

SCHEDULE_CONSTANT, SCHEDULE_EXPONENTIAL, SCHEDULE_PIECEWISE, SCHEDULE_COSINE = 0, 1, 2, 3
SCHEDULE_INVERSE_TIME, SCHEDULE_POLYNOMIAL, SCHEDULE_COSINE_RESTARTS = 4, 5, 6


def _num(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            return float(value)  # numpy scalars
        except (TypeError, ValueError):
            raise TypeError("%s must be a number, not %s" % (name, type(value).__name__)) from None
    return float(value)


class LearningRateSchedule:
    """Base of the schedules: pass one as an optimizer's learning_rate
    (regnn.Adam(learning_rate=regnn.ExponentialDecay(...))). The library checks the
    parameters when the schedule is given to an optimizer."""

    kind = SCHEDULE_CONSTANT

    def params(self):
        """The parameters of regnn_optimizer_set_schedule, in the library's order."""
        return []

    def __eq__(self, other):
        return (type(self) is type(other) and self.kind == other.kind
                and self.params() == other.params())

    def __hash__(self):
        return hash((self.kind, tuple(self.params())))

    def __repr__(self):
        return "regnn.%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % kv for kv in self.get_config().items()))

    @staticmethod
    def _from_params(kind, p):
        """The schedule object of a library (kind, params) pair; None for no schedule."""
        if kind == SCHEDULE_EXPONENTIAL:
            return ExponentialDecay(p[0], p[1], p[2], bool(p[3]) if len(p) > 3 else False)
        if kind == SCHEDULE_PIECEWISE:
            k = len(p) // 2
            return PiecewiseConstantDecay([int(b) for b in p[:k]], list(p[k:]))
        if kind == SCHEDULE_COSINE:
            return CosineDecay(p[0], p[1], p[2] if len(p) > 2 else 0.0,
                               p[3] if len(p) > 3 else None, p[4] if len(p) > 4 else 0)
        if kind == SCHEDULE_INVERSE_TIME:
            return InverseTimeDecay(p[0], p[1], p[2], bool(p[3]) if len(p) > 3 else False)
        if kind == SCHEDULE_POLYNOMIAL:
            return PolynomialDecay(*(p[:4] + [bool(p[4])] if len(p) > 4 else p))
        if kind == SCHEDULE_COSINE_RESTARTS:
            return CosineDecayRestarts(*p)
        return None


class ExponentialDecay(LearningRateSchedule):
    """keras.optimizers.schedules.ExponentialDecay: at step s (0-based, the optimizer's
    steps before the update) the rate is initial_learning_rate * decay_rate ** (s /
    decay_steps), with floor(s / decay_steps) when staircase."""

    kind = SCHEDULE_EXPONENTIAL

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = _num(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _num(decay_steps, "decay_steps")
        self.decay_rate = _num(decay_rate, "decay_rate")
        self.staircase = bool(staircase)

    def params(self):
        return [self.initial_learning_rate, self.decay_steps, self.decay_rate,
                1.0 if self.staircase else 0.0]

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class PiecewiseConstantDecay(LearningRateSchedule):
    """keras.optimizers.schedules.PiecewiseConstantDecay: values[0] while step <=
    boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i], values[-1]
    after the last boundary. Boundaries are whole step counts, strictly increasing."""

    kind = SCHEDULE_PIECEWISE

    def __init__(self, boundaries, values):
        self.boundaries = [_num(b, "boundaries") for b in boundaries]
        self.values = [_num(v, "values") for v in values]
        if len(self.boundaries) != len(self.values) - 1:
            raise ValueError("PiecewiseConstantDecay needs one more value than boundaries; got "
                             "%d boundaries and %d values"
                             % (len(self.boundaries), len(self.values)))

    def params(self):
        return self.boundaries + self.values

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values}


class CosineDecay(LearningRateSchedule):
    """keras.optimizers.schedules.CosineDecay (Keras 3 form, with optional linear
    warm-up from initial_learning_rate to warmup_target over warmup_steps, then a cosine
    decay from warmup_target, or from initial_learning_rate without a warmup_target, down
    to alpha times it over decay_steps)."""

    kind = SCHEDULE_COSINE

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate = _num(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _num(decay_steps, "decay_steps")
        self.alpha = _num(alpha, "alpha")
        self.warmup_target = None if warmup_target is None else _num(warmup_target,
                                                                     "warmup_target")
        self.warmup_steps = _num(warmup_steps, "warmup_steps")
        if self.warmup_target is None and self.warmup_steps != 0:
            raise ValueError("CosineDecay: warmup_steps needs a warmup_target (Keras ignores "
                             "warmup_steps without one)")

    def params(self):
        p = [self.initial_learning_rate, self.decay_steps, self.alpha]
        if self.warmup_target is not None:
            p += [self.warmup_target, self.warmup_steps]
        return p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


def _optional(option, values):
    """The parameter vector of values (None: left out), up to the last one given; a None
    before a given one takes the library's default (regnn_option_bounds)."""
    from ._library import option_bounds
    while values and values[-1] is None:
        values = values[:-1]
    return [option_bounds(option, i).default_value if v is None else v
            for i, v in enumerate(values)]


class InverseTimeDecay(LearningRateSchedule):
    """keras.optimizers.schedules.InverseTimeDecay: initial_learning_rate / (1 + decay_rate
    * s / decay_steps) at step s, with floor(s / decay_steps) when staircase."""

    kind = SCHEDULE_INVERSE_TIME

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = _num(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _num(decay_steps, "decay_steps")
        self.decay_rate = _num(decay_rate, "decay_rate")
        self.staircase = bool(staircase)

    def params(self):
        return [self.initial_learning_rate, self.decay_steps, self.decay_rate,
                1.0 if self.staircase else 0.0]

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class PolynomialDecay(LearningRateSchedule):
    """keras.optimizers.schedules.PolynomialDecay: (initial_learning_rate - end_learning_rate)
    * (1 - s / decay_steps) ** power + end_learning_rate, s capped at decay_steps, or with
    cycle decay_steps times the first multiple >= s. Left as None, end_learning_rate, power
    and cycle take the library's defaults (Keras' 1e-4, 1 and False)."""

    kind = SCHEDULE_POLYNOMIAL

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=None, power=None,
                 cycle=None):
        self.initial_learning_rate = _num(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _num(decay_steps, "decay_steps")
        self.end_learning_rate = (None if end_learning_rate is None
                                  else _num(end_learning_rate, "end_learning_rate"))
        self.power = None if power is None else _num(power, "power")
        self.cycle = None if cycle is None else bool(cycle)

    def params(self):
        from ._library import OPTION_POLYNOMIAL_DECAY
        return _optional(OPTION_POLYNOMIAL_DECAY, [
            self.initial_learning_rate, self.decay_steps, self.end_learning_rate, self.power,
            None if self.cycle is None else float(self.cycle)])

    def get_config(self):
        p = self.params() + [None] * 5
        return {"initial_learning_rate": p[0], "decay_steps": p[1], "end_learning_rate": p[2],
                "power": p[3], "cycle": None if p[4] is None else bool(p[4])}


class CosineDecayRestarts(LearningRateSchedule):
    """keras.optimizers.schedules.CosineDecayRestarts (SGDR): period i lasts
    first_decay_steps * t_mul**i steps and decays from initial_learning_rate * m_mul**i by
    a cosine to alpha times initial_learning_rate. Left as None, t_mul, m_mul and alpha
    take the library's defaults (Keras' 2, 1 and 0)."""

    kind = SCHEDULE_COSINE_RESTARTS

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=None, m_mul=None,
                 alpha=None):
        self.initial_learning_rate = _num(initial_learning_rate, "initial_learning_rate")
        self.first_decay_steps = _num(first_decay_steps, "first_decay_steps")
        self.t_mul = None if t_mul is None else _num(t_mul, "t_mul")
        self.m_mul = None if m_mul is None else _num(m_mul, "m_mul")
        self.alpha = None if alpha is None else _num(alpha, "alpha")

    def params(self):
        from ._library import OPTION_COSINE_RESTARTS
        return _optional(OPTION_COSINE_RESTARTS, [
            self.initial_learning_rate, self.first_decay_steps, self.t_mul, self.m_mul,
            self.alpha])

    def get_config(self):
        p = self.params() + [None] * 5
        return {"initial_learning_rate": p[0], "first_decay_steps": p[1], "t_mul": p[2],
                "m_mul": p[3], "alpha": p[4]}


class ReduceLROnPlateau:
    """keras.callbacks.ReduceLROnPlateau for Model.fit(callbacks=[...]), run by the
    library after every epoch (mode 'min'): after `patience` epochs whose monitored
    value did not beat best - min_delta, lr = max(lr * factor, min_lr), then `cooldown`
    as in Keras. monitor must be the fit's monitor ("val_loss", "val_mse" or "loss"; the
    training loss without validation data). The reduced rate stays in the optimizer;
    the counters start afresh in every fit. factor, patience, min_delta, cooldown and
    min_lr left None take the library's defaults (REGNN_FIT_REDUCE_LR_*: Keras' 0.1, 10,
    1e-4, 0 and 0), and each is checked against the library's range here."""

    def __init__(self, monitor="val_loss", factor=None, patience=None, verbose=0, mode="auto",
                 min_delta=None, cooldown=None, min_lr=None):
        from . import _buffers as B
        from ._fit import (_FIT_REDUCE_LR_COOLDOWN, _FIT_REDUCE_LR_FACTOR,
                           _FIT_REDUCE_LR_MIN_DELTA, _FIT_REDUCE_LR_MIN_LR,
                           _FIT_REDUCE_LR_PATIENCE)
        from ._library import BOUNDS_INTEGER, OPTION_FIT, option_bounds
        if mode not in ("auto", "min"):
            raise ValueError("ReduceLROnPlateau: mode %r is not supported: the monitored "
                             "values are losses ('min', which 'auto' means for them)" % (mode,))

        def setting(value, name, key):
            b = option_bounds(OPTION_FIT, key)
            if value is None:
                value = int(b.default_value) if b.flags & BOUNDS_INTEGER else b.default_value
            return B.in_bounds(value, "ReduceLROnPlateau: " + name, b)
        self.monitor = monitor
        self.factor = setting(factor, "factor", _FIT_REDUCE_LR_FACTOR)
        self.patience = setting(patience, "patience", _FIT_REDUCE_LR_PATIENCE)
        self.verbose = verbose
        self.mode = mode
        self.min_delta = setting(min_delta, "min_delta", _FIT_REDUCE_LR_MIN_DELTA)
        self.cooldown = setting(cooldown, "cooldown", _FIT_REDUCE_LR_COOLDOWN)
        self.min_lr = setting(min_lr, "min_lr", _FIT_REDUCE_LR_MIN_LR)

    def __repr__(self):
        return ("regnn.ReduceLROnPlateau(monitor=%r, factor=%r, patience=%r, min_delta=%r, "
                "cooldown=%r, min_lr=%r)" % (self.monitor, self.factor, self.patience,
                                             self.min_delta, self.cooldown, self.min_lr))
