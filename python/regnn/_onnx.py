# SPDX-License-Identifier: MIT
"""ONNX export (internal): declares regnn_model_export_onnx and _mem on the loaded library,
apart from the other prototypes, so that a 1.0 library without them still loads and only
Model.export_onnx / Model.to_onnx say what is missing.
"""

from ctypes import POINTER, c_char_p, c_size_t, c_void_p

from ._capi import S, LibraryError, lib, library_path
from ._errors import declare
from . import _io

PROTOTYPES = {
    "regnn_model_export_onnx": (S, [c_void_p, c_char_p]),
    "regnn_model_export_onnx_mem": (S, [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
}

_missing = declare(PROTOTYPES, optional=True)


def _need_onnx():
    if _missing:
        raise LibraryError("regnn: %s has no ONNX export (%s); it needs libregnn 1.1 or later"
                           % (library_path, ", ".join(_missing)))


def export(h, path):
    _need_onnx()
    lib.regnn_model_export_onnx(h, _io.path_arg(path))


def encode(h):
    _need_onnx()
    return _io.encode(lib.regnn_model_export_onnx_mem, h)
