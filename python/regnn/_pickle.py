# SPDX-License-Identifier: MIT
"""Pickling and copying of Model, Optimizer, Scaler and Dataset (internal).

Each object pickles as the library's own encoding of it, so that what comes back is what
the library reads, checked as it checks files (a damaged pickle raises the library's
FormatError, never gives a half-read object):

- Model: its model file bytes (regnn_model_save_mem: topology, layer settings, loss,
  parameters, RNG state, attached scaler), or a checkpoint's (regnn_checkpoint_save_mem)
  when compile() or fit() gave it an optimizer, which then comes back bound to it. A model
  that has no parameters yet (before init) has no model file: it pickles as its
  topology and loss, read back through Model(...) and set_loss.
- Optimizer: a checkpoint of the optimizer with a carrier model of as many parameters as
  its state (the carrier is dropped on load).
- Scaler: a model file of a carrier model with the scaler attached.
- Dataset: CSV text, read back by the library's CSV parser (regnn_dataset_parse_csv):
  column names and every float32 value (shortest exact decimal) survive; sample weights
  are set again from their float32 values.

copy.copy and copy.deepcopy go the same way and give independent objects.
"""

import array

from . import _io
from ._capi import lib
from ._dataset import Dataset
from ._handles import _name_of
from ._io import load_checkpoint
from ._model import (BatchNormalization, Dense, GaussianDropout, GaussianNoise,
                     LayerNormalization, Model, _ACTIVATIONS)
from ._errors import StateError, UnsupportedError

# The library's largest n_inputs and units (RG_MAX_DIM of its model module; no public call
# gives it): the carrier model's layout needs it. test_pickle checks it against src/.
MAX_DIM = 1 << 24
# Largest optimizer state a carrier model (a -> 1 -> c) can hold: (MAX_DIM + 1) + 2 MAX_DIM.
MAX_CARRIED = 3 * MAX_DIM + 1


# ---------------------------------------------------------------- Model

def model_state(model):
    h = model._handle()
    state = {"threads": model.threads, "metrics": tuple(model._shown_metrics)}
    opt = model._optimizer
    try:
        if opt is not None:
            state["checkpoint"] = _io.encode(lib.regnn_checkpoint_save_mem, h,
                                             opt._handle())
        else:
            state["model"] = _io.encode(lib.regnn_model_save_mem, h)
        return state
    except StateError:  # the library's REGNN_E_STATE: no layers or not initialized
        pass
    # No parameters yet: the topology is all there is.
    state["n_inputs"] = model.n_inputs
    state["layers"] = [(l.units, _name_of(l.activation, _ACTIVATIONS), l.l2, l.l1, l.dropout)
                       if l.type == "dense" else (l.type, l.noise, l.momentum) for l in model.layers]
    state["loss"] = (model.loss, model.huber_delta)
    state["optimizer"] = opt
    return state


def _layer_spec(t):
    """A layer of a pickled topology: (type name, value) for a layer that is not dense, else
    Dense's."""
    if t[0] == "gaussian_noise":
        return GaussianNoise(t[1])
    if t[0] == "gaussian_dropout":
        return GaussianDropout(t[1])
    if t[0] == "layer_normalization":
        return LayerNormalization(t[1])
    if t[0] == "batch_normalization":
        return BatchNormalization(t[2], t[1])
    u, a, l2, l1, d = t
    return Dense(u, a, l2=l2, l1=l1, dropout=d)


def model_from_state(state):
    if "checkpoint" in state:
        model, _ = load_checkpoint(state["checkpoint"])
    elif "model" in state:
        model = Model.load(state["model"])
    else:
        model = Model(state["n_inputs"], [_layer_spec(t) for t in state["layers"]])
        model.set_loss(*state["loss"])
        model._optimizer = state["optimizer"]
    model.threads = state["threads"]
    model._shown_metrics = tuple(state["metrics"])
    return model


# ---------------------------------------------------------------- Optimizer

def _carrier(n_params):
    """An initialized model of exactly n_params parameters (n_params = 0: any)."""
    if n_params <= MAX_DIM + 1:
        return Model(max(n_params - 1, 1), [Dense(1)]).init(seed=0)
    if n_params > MAX_CARRIED:
        raise UnsupportedError(
            "an optimizer with state for %d parameters pickles only with its model (compile "
            "the model with it, then pickle the model; or regnn.checkpoint_to_bytes): alone, "
            "at most %d" % (n_params, MAX_CARRIED))
    c = (n_params - MAX_DIM) // 2  # (a + 1) + 2c = n_params with 1 <= a <= MAX_DIM
    a = n_params - 1 - 2 * c
    return Model(a, [Dense(1), Dense(c)]).init(seed=0)


def optimizer_state(opt):
    opt._handle()
    with _carrier(opt.state_size) as carrier:
        return {"checkpoint": _io.encode(lib.regnn_checkpoint_save_mem, carrier._handle(),
                                         opt._handle())}


def optimizer_from_state(state):
    model, opt = load_checkpoint(state["checkpoint"])
    model._optimizer = None
    model.close()
    return opt


# ---------------------------------------------------------------- Scaler

def scaler_state(scaler):
    sh = scaler._handle()
    with Model(lib.regnn_scaler_features(sh),
               [Dense(1), Dense(lib.regnn_scaler_targets(sh))]).init(seed=0) as carrier:
        carrier.attach_scaler(scaler)
        return {"model": carrier.to_bytes()}


def scaler_from_state(state):
    with Model.load(state["model"]) as carrier:
        scaler = carrier.scaler
    if scaler is None:
        raise UnsupportedError("the pickled scaler's model file has no scaler")
    return scaler


# ---------------------------------------------------------------- Dataset

def _csv_field(name):
    if any(c in name for c in ',"\r\n') or name != name.strip():
        return '"' + name.replace('"', '""') + '"'
    return name


def dataset_state(ds):
    nf = ds.n_features
    names = ds.feature_names + ds.target_names
    x, y = ds.features(), ds.targets()
    if hasattr(x, "tolist"):
        x, y = x.tolist(), y.tolist()
    # repr of a float32 held in a double: the shortest decimal that reads back as it.
    lines = [",".join(_csv_field(n) for n in names)]
    lines.extend(",".join(map(repr, xr + yr)) for xr, yr in zip(x, y))
    w = ds.sample_weight
    return {"csv": "\n".join(lines) + "\n", "n_features": nf, "n_targets": ds.n_targets,
            "weights": None if w is None else array.array("f", w).tobytes()}


def dataset_from_state(state):
    nf, nt = state["n_features"], state["n_targets"]
    ds = Dataset.parse_csv(state["csv"], list(range(nf, nf + nt)))
    if state["weights"] is not None:
        try:
            w = array.array("f")
            w.frombytes(state["weights"])
            ds.sample_weight = w
        except BaseException:
            ds.close()
            raise
    return ds
