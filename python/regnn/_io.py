# SPDX-License-Identifier: MIT
"""Persistence: model files, checkpoints and the attached scaler (internal).

Declares the prototypes of include/regnn.h's Persistence section on the loaded
library (optional: a library without them still loads), and
implements the calls Model, load_model and the checkpoint functions use.
"""

import os
from ctypes import POINTER, byref, c_char, c_char_p, c_size_t, c_void_p

from ._capi import S, LibraryError, lib, library_path
from ._errors import InvalidArgumentError, StateError, declare
from ._handles import _need
from ._optimizer import Optimizer, _need_optimizer

_H = c_void_p
_S = S
_PH = POINTER(c_void_p)
_PSIZE = POINTER(c_size_t)

PROTOTYPES = {
    "regnn_model_attach_scaler": (_S, [_H, _H]),
    "regnn_model_get_scaler": (_S, [_H, _PH]),
    "regnn_model_save": (_S, [_H, c_char_p]),
    "regnn_model_load": (_S, [c_char_p, _PH]),
    "regnn_model_save_mem": (_S, [_H, c_void_p, c_size_t, _PSIZE]),
    "regnn_model_load_mem": (_S, [c_void_p, c_size_t, _PH]),
    "regnn_checkpoint_save": (_S, [_H, _H, c_char_p]),
    "regnn_checkpoint_load": (_S, [c_char_p, _PH, _PH]),
    "regnn_checkpoint_save_mem": (_S, [_H, _H, c_void_p, c_size_t, _PSIZE]),
    "regnn_checkpoint_load_mem": (_S, [c_void_p, c_size_t, _PH, _PH]),
}

_missing = declare(PROTOTYPES, optional=True)


def _need_persistence():
    if _missing:
        raise LibraryError("regnn: %s has no persistence functions (%s); install libregnn 1.x "
                           "built with them" % (library_path, ", ".join(_missing)))


def path_arg(path, what="path"):
    """A file name for the library: str, bytes or os.PathLike, not empty."""
    try:
        p = os.fsencode(os.fspath(path))
    except TypeError:
        raise TypeError("%s must be a str, bytes or os.PathLike, not %s"
                        % (what, type(path).__name__)) from None
    if not p:
        raise InvalidArgumentError("%s is empty" % what)
    if b"\0" in p:
        raise InvalidArgumentError("%s contains a NUL character" % what)
    return p


def is_data(obj):
    """True for an in-memory encoding (bytes-like), False for a path."""
    return isinstance(obj, (bytes, bytearray, memoryview))


def encode(fn, *handles):
    """The bytes fn (regnn_model_save_mem or regnn_checkpoint_save_mem) writes for handles."""
    _need_persistence()
    size = c_size_t()
    fn(*handles, None, 0, byref(size))
    buf = (c_char * max(size.value, 1))()
    fn(*handles, buf, size.value, byref(size))
    return buf.raw[:size.value]


def _data_arg(data):
    mv = memoryview(data).cast("B") if not isinstance(data, bytes) else None
    raw = data if mv is None else mv.tobytes()
    if not raw:
        raise InvalidArgumentError("data is empty")
    return raw


def model_save(h, path):
    _need_persistence()
    lib.regnn_model_save(h, path_arg(path))


def model_load(source):
    """A new model handle read from a path or from bytes."""
    _need_persistence()
    out = c_void_p()
    if is_data(source):
        raw = _data_arg(source)
        lib.regnn_model_load_mem(raw, len(raw), byref(out))
    else:
        lib.regnn_model_load(path_arg(source), byref(out))
    return out.value


def checkpoint_save(mh, oh, path):
    _need_persistence()
    lib.regnn_checkpoint_save(mh, oh, path_arg(path))


def checkpoint_load(source):
    """(model handle, optimizer handle) read from a path or from bytes."""
    _need_persistence()
    m, o = c_void_p(), c_void_p()
    if is_data(source):
        raw = _data_arg(source)
        lib.regnn_checkpoint_load_mem(raw, len(raw), byref(m), byref(o))
    else:
        lib.regnn_checkpoint_load(path_arg(source), byref(m), byref(o))
    return m.value, o.value


def attach_scaler(mh, sh):
    _need_persistence()
    lib.regnn_model_attach_scaler(mh, sh)


def get_scaler(mh):
    """A new scaler handle copied from the model, or None when none is attached."""
    _need_persistence()
    out = c_void_p()
    try:
        lib.regnn_model_get_scaler(mh, byref(out))
    except StateError:  # REGNN_E_STATE: no scaler attached
        return None
    return out.value


# ---------------------------------------------------------------- public functions

def load_model(source):
    """A Model read from a model file (path: str or os.PathLike) or from the bytes of
    one (bytes, bytearray, memoryview: Model.to_bytes() or regnn_model_save_mem); a
    checkpoint loads too (its optimizer is ignored). The attached scaler comes along."""
    from ._model import Model  # _model imports this module
    return Model._wrap(model_load(source))


def save_checkpoint(model, optimizer, path):
    """Write model and optimizer (kind, settings, step count, state) to path atomically, so
    that training resumes bit-identically after load_checkpoint."""
    from ._model import Model  # _model imports this module
    checkpoint_save(_need(model, Model, "model")._handle(),
                    _need_optimizer(optimizer)._handle(), path)


def checkpoint_to_bytes(model, optimizer):
    """save_checkpoint's file contents as bytes (regnn_checkpoint_save_mem)."""
    from ._model import Model  # _model imports this module
    return encode(lib.regnn_checkpoint_save_mem, _need(model, Model, "model")._handle(),
                  _need_optimizer(optimizer)._handle())


def load_checkpoint(source):
    """(Model, Optimizer) from a checkpoint file path or its bytes; the optimizer is of the
    saved kind (Adam, SGD, RMSprop, ...) with the saved settings, step count and state, bound
    to the model."""
    from ._model import Model  # _model imports this module
    mh, oh = checkpoint_load(source)
    try:
        model = Model._wrap(mh)
    except BaseException:
        lib.regnn_model_free(mh)
        lib.regnn_optimizer_free(oh)
        raise
    model._optimizer = Optimizer._wrap(oh)
    return model, model._optimizer
