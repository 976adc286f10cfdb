# SPDX-License-Identifier: MIT
"""Loading libregnn and declaring its C functions (internal).

Search order for the shared library (docs/python.md, "Installing"):

1. the REGNN_LIBRARY environment variable (a path; if it is set and cannot be
   loaded, import fails: there is no silent fall-back to another copy);
2. the copy inside this package, regnn/libregnn.so.1 (what `pip install .`
   puts there);
3. the repository's lib/ folder next to python/ (lib/libregnn.so.1, the SONAME
   file, then lib/libregnn.so), for PYTHONPATH=python use of a built tree;
4. ctypes.util.find_library("regnn"), then the plain SONAME "libregnn.so.1"
   through the dynamic loader's search path.

Each module of the package declares the functions of its concept (its PROTOTYPES,
with argtypes and restype, through _errors.declare, which gives every function
returning a Status the errcheck that raises regnn.Error), whether or not the Python
layer uses them, so that a call through ``lib`` never relies on ctypes' int
defaults (which truncate 64-bit pointers). Importing regnn imports them all.
"""

import ctypes
import ctypes.util
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, c_double, c_float, c_int, c_int64, c_size_t, c_uint,
                    c_uint64, c_void_p)

#: The ABI generation this binding was written for (REGNN_ABI_VERSION).
ABI_VERSION = 1
#: Oldest library release (REGNN_VERSION_NUMBER) providing every function declared below.
MIN_VERSION = 10200

P_FLOAT = POINTER(c_float)
P_DOUBLE = POINTER(c_double)
P_SIZE = POINTER(c_size_t)
P_HANDLE = POINTER(c_void_p)
P_INT64 = POINTER(c_int64)

#: int (*regnn_epoch_fn)(void *user, const regnn_history *history, size_t epoch)
EPOCH_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
#: void *(*regnn_malloc_fn)(void *user, size_t size)
MALLOC_FN = CFUNCTYPE(c_void_p, c_void_p, c_size_t)
#: void (*regnn_free_fn)(void *user, void *ptr)
FREE_FN = CFUNCTYPE(None, c_void_p, c_void_p)
#: int (*regnn_path_progress_fn)(void *user, size_t done, size_t total, double lambda,
#:                               uint64_t seed, const regnn_history *history)
PATH_PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_size_t, c_size_t, c_double, c_uint64, c_void_p)
#: regnn_exchange_fn: int (*)(void *user, float *grad, size_t n, double *sums, size_t n_sums)
EXCHANGE_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_float), c_size_t, POINTER(c_double), c_size_t)

H = c_void_p  # every handle is an opaque pointer


class Status(c_int):
    """regnn_status as a restype: a function returning it gets _errors.check as errcheck,
    which raises the matching regnn.Error (with regnn_errmsg's text) when it is not REGNN_OK."""


S = Status

# name: (restype, argtypes), in the order of include/regnn.h.


class LibraryError(ImportError):
    """libregnn could not be found or loaded, or is not the ABI this binding expects."""

    __module__ = "regnn"


_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _package_candidates(pkg_dir=_PKG_DIR):
    return [os.path.join(pkg_dir, "libregnn.so.%d" % ABI_VERSION)]


def _repo_candidates(pkg_dir=_PKG_DIR):
    libdir = os.path.normpath(os.path.join(pkg_dir, os.pardir, os.pardir, "lib"))
    return [os.path.join(libdir, "libregnn.so.%d" % ABI_VERSION), os.path.join(libdir, "libregnn.so")]


def _open(path):
    # RTLD_LOCAL (the default) keeps libregnn's symbols out of the global namespace.
    return ctypes.CDLL(path)


def find_and_load():
    """Return (CDLL, path or name it was loaded from); raise LibraryError if none loads."""
    env = os.environ.get("REGNN_LIBRARY")
    if env:
        try:
            return _open(env), env
        except OSError as e:
            raise LibraryError("regnn: REGNN_LIBRARY=%r cannot be loaded: %s" % (env, e)) from None
    tried = []
    for path in _package_candidates() + _repo_candidates():
        if os.path.exists(path):
            try:
                return _open(path), path
            except OSError as e:
                tried.append("%s (%s)" % (path, e))
        else:
            tried.append("%s (missing)" % path)
    names = []
    found = ctypes.util.find_library("regnn")
    if found:
        names.append(found)
    names.append("libregnn.so.%d" % ABI_VERSION)
    for name in names:
        try:
            return _open(name), name
        except OSError as e:
            tried.append("%s (%s)" % (name, e))
    raise LibraryError(
        "regnn: cannot find libregnn (ABI %d). Install the package with `pip install .` "
        "from the source tree, build it with `make lib`, install it, or set "
        "REGNN_LIBRARY to the path of libregnn.so. Tried: %s" % (ABI_VERSION, "; ".join(tried)))


def check_abi(lib, where="libregnn"):
    """Raise LibraryError unless lib is the ABI and version this binding was written for."""
    try:
        abi_fn = lib.regnn_abi_version
        ver_fn = lib.regnn_version
    except AttributeError:
        raise LibraryError("regnn: %s is not libregnn (no regnn_abi_version symbol)" % where) from None
    abi_fn.restype, abi_fn.argtypes = c_int, []
    ver_fn.restype, ver_fn.argtypes = c_uint, []
    abi = abi_fn()
    if abi != ABI_VERSION:
        raise LibraryError(
            "regnn: ABI mismatch: %s has ABI version %d, this binding needs ABI %d "
            "(install a matching libregnn.so.%d or binding)" % (where, abi, ABI_VERSION, ABI_VERSION))
    version = ver_fn()
    if version < MIN_VERSION or version // 10000 != MIN_VERSION // 10000:
        raise LibraryError(
            "regnn: version mismatch: %s is version %d.%d.%d, this binding needs %d.%d.0 or a "
            "later %d.x" % (where, version // 10000, version // 100 % 100, version % 100,
                            MIN_VERSION // 10000, MIN_VERSION // 100 % 100, MIN_VERSION // 10000))
    return version


def bind(lib, prototypes, errcheck=None):
    """Set argtypes/restype of each function of prototypes that lib has, and errcheck on
    those returning a Status; return the names it lacks."""
    missing = []
    for name, (restype, argtypes) in prototypes.items():
        fn = getattr(lib, name, None)
        if fn is None:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
        if restype is Status and errcheck is not None:
            fn.errcheck = errcheck
    return missing


def declare(lib, prototypes, where="libregnn", errcheck=None):
    """bind, raising LibraryError if lib lacks one of the functions."""
    missing = bind(lib, prototypes, errcheck)
    if missing:
        raise LibraryError("regnn: %s lacks %d function(s) this binding needs: %s"
                           % (where, len(missing), ", ".join(missing)))


def load():
    lib, where = find_and_load()
    check_abi(lib, where)
    return lib, where


lib, library_path = load()

if sys.byteorder == "little":
    FLOAT_FORMATS = ("f", "@f", "=f", "<f")
else:  # pragma: no cover - no big-endian machine here
    FLOAT_FORMATS = ("f", "@f", "=f", ">f")
