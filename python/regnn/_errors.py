# SPDX-License-Identifier: MIT
"""Exceptions: one class per regnn_status, all derived from regnn.Error."""

from ctypes import c_char_p, c_int

from . import _capi
from ._capi import Status, bind, lib, library_path

OK = 0
E_INVALID_ARG = 1
E_NOMEM = 2
E_SHAPE = 3
E_STATE = 4
E_IO = 5
E_FORMAT = 6
E_VERSION = 7
E_NUMERIC = 8
E_CANCELLED = 9
E_UNSUPPORTED = 10
E_INTERNAL = 11


class Error(Exception):
    """A libregnn call failed, or the binding refused a call the library would fail.

    Attributes:
        code: the regnn_status value (REGNN_E_*).
        status: the library's short text for the code (regnn_strerror).
        message: the detailed message: the library's (regnn_errmsg() of the failing
            call, which names the C function and the argument), or the binding's own
            text when the binding detected the problem first.
        c_message: the library's message (None when the binding detected the problem).
    """

    code = None
    c_message = None

    def __init__(self, message, code=None):
        if code is None:
            code = type(self).code
        self.code = code
        self.message = message
        self.status = strerror(code) if code is not None else "error"
        super().__init__(message)

    def __str__(self):
        return "%s [%s, code %s]" % (self.message, self.status, self.code)

    def __reduce__(self):
        return (type(self), (self.message, self.code))


class InvalidArgumentError(Error, ValueError):
    """REGNN_E_INVALID_ARG: NULL pointer, zero/overflowing size, value out of range."""
    code = E_INVALID_ARG


class OutOfMemoryError(Error, MemoryError):
    """REGNN_E_NOMEM: an allocation failed."""
    code = E_NOMEM


class ShapeError(Error, ValueError):
    """REGNN_E_SHAPE: sizes of two objects or buffers do not agree."""
    code = E_SHAPE


class StateError(Error):
    """REGNN_E_STATE: call made in the wrong order (e.g. predict before init)."""
    code = E_STATE


class ClosedError(StateError):
    """The object was closed: its handle is freed and it cannot be used any more."""


class FileError(Error, OSError):
    """REGNN_E_IO: a file could not be opened, read or written."""
    code = E_IO


class FormatError(Error, ValueError):
    """REGNN_E_FORMAT: malformed input (CSV, model file)."""
    code = E_FORMAT


class VersionError(Error):
    """REGNN_E_VERSION: input written by a newer, incompatible version."""
    code = E_VERSION


class NumericError(Error, ArithmeticError):
    """REGNN_E_NUMERIC: NaN or Inf in inputs, or training diverged."""
    code = E_NUMERIC


class CancelledError(Error):
    """REGNN_E_CANCELLED: stopped on the caller's request."""
    code = E_CANCELLED


class UnsupportedError(Error, ValueError):
    """REGNN_E_UNSUPPORTED: unknown enum key or kind."""
    code = E_UNSUPPORTED


class InternalError(Error):
    """REGNN_E_INTERNAL: a bug in libregnn; please report it."""
    code = E_INTERNAL


ERRORS = {cls.code: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, ShapeError, StateError, FileError, FormatError,
    VersionError, NumericError, CancelledError, UnsupportedError, InternalError)}



def strerror(code):
    """The library's short text for a status code."""
    return lib.regnn_strerror(code).decode("utf-8", "replace")


def error_for(code, message=None):
    """The exception for a non-OK status; message defaults to the library's
    (regnn_errmsg of the failing call, which names the C function and the argument)."""
    c_message = None
    if message is None:
        c_message = lib.regnn_errmsg().decode("utf-8", "replace") or strerror(code)
        message = c_message
    e = ERRORS.get(code, Error)(message, code)
    e.c_message = c_message
    return e


def check(result, func=None, args=None):
    """The errcheck of every function returning a regnn_status (set by declare): raise the
    matching Error with regnn_errmsg's text unless the status is REGNN_OK; else 0."""
    status = result.value if isinstance(result, Status) else result
    if status:
        raise error_for(status)
    return status


def declare(prototypes, optional=False):
    """Declare prototypes (name: (restype, argtypes)) on the loaded library, with check as
    the errcheck of those returning a Status. A missing function raises LibraryError, or
    with optional=True the missing names are returned (their callers say what is missing
    when used)."""
    if optional:
        return bind(lib, prototypes, check)
    _capi.declare(lib, prototypes, library_path, check)
    return []


PROTOTYPES = {
    "regnn_strerror": (c_char_p, [c_int]),
    "regnn_errmsg": (c_char_p, []),
}
declare(PROTOTYPES)
