# SPDX-License-Identifier: MIT
"""Learning-rate schedules (keras.optimizers.schedules) and ReduceLROnPlateau
(keras.callbacks), as descriptions the library runs: formulas in docs/api.md."""

SCHEDULE_CONSTANT, SCHEDULE_EXPONENTIAL, SCHEDULE_PIECEWISE, SCHEDULE_COSINE = 0, 1, 2, 3


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
