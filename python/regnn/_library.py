# SPDX-License-Identifier: MIT
"""Library-wide functions (internal): versions, the math backend, the allocator and the
options table (regnn_option_bounds: the one home of every option's range and default)."""

import ctypes
from ctypes import c_char_p, c_double, c_int, c_size_t, c_uint, c_void_p

from ._capi import FREE_FN, MALLOC_FN, S, lib
from ._errors import declare

PROTOTYPES = {
    # versions
    "regnn_version": (c_uint, []),
    "regnn_version_string": (c_char_p, []),
    "regnn_abi_version": (c_int, []),
    # math backend
    "regnn_blas_name": (c_char_p, []),
    "regnn_blas_threads": (c_int, []),
    "regnn_set_blas_threads": (S, [c_int]),
    # allocator
    "regnn_set_allocator": (S, [MALLOC_FN, FREE_FN, c_void_p]),
    # options
    "regnn_option_bounds": (S, [c_int, c_int, c_void_p]),
    "regnn_option_name": (c_char_p, [c_int, c_int]),
}
declare(PROTOTYPES)
# Declared when the library has it (1.2; the binding does not call it).
LATER_PROTOTYPES = {"regnn_settings_name": (c_char_p, [c_size_t])}
declare(LATER_PROTOTYPES, optional=True)

# ---- option bounds: the library's table of ranges and defaults (regnn_option_bounds)
OPTION_FIT, OPTION_PATH, OPTION_LAYER, OPTION_ADAM, OPTION_SGD, OPTION_LOSS = range(1, 7)
OPTION_EXPONENTIAL_DECAY, OPTION_PIECEWISE_DECAY, OPTION_COSINE_DECAY = 7, 8, 9
OPTION_RMSPROP, OPTION_ADAGRAD, OPTION_ADAMAX, OPTION_NADAM = 10, 11, 12, 13
OPTION_INVERSE_TIME_DECAY, OPTION_POLYNOMIAL_DECAY, OPTION_COSINE_RESTARTS = 14, 15, 16
BOUNDS_MIN_OPEN, BOUNDS_MAX_OPEN, BOUNDS_INTEGER, BOUNDS_CHANGES_RESULTS, BOUNDS_COUPLED = \
    1, 2, 4, 8, 16


class Bounds(ctypes.Structure):
    """struct regnn_bounds."""
    _fields_ = [("size", c_size_t), ("min", c_double), ("max", c_double),
                ("default_value", c_double), ("flags", c_uint)]


def option_bounds(kind, key):
    """The library's Bounds of option key of kind (OPTION_*); UnsupportedError for an unknown one."""
    b = Bounds(ctypes.sizeof(Bounds))
    lib.regnn_option_bounds(kind, key, ctypes.byref(b))
    return b
