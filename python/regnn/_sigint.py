# SPDX-License-Identifier: MIT
"""Ctrl-C during long library calls (internal).

While regnn_fit or regnn_regularization_path runs, Python code executes only in
the binding's callbacks. A KeyboardInterrupt raised there by Python's default
SIGINT handler can land where no ``try`` catches it (at the callback's entry):
ctypes then prints "Exception ignored" and the call goes on. So, in the main
thread and only when SIGINT has Python's default handler, DeferSigint installs a
handler for the duration of the call that records the signal; the callback
returns "stop" to the library, and the binding raises KeyboardInterrupt once
the library has returned and every resource is released. While the callback
runs the user's own Python code, Ctrl-C raises KeyboardInterrupt there as usual
(so a slow callback stays interruptible); the callback's exception handling
turns it into a stop as well.

A finalizer (_Handle.__del__) can run at any moment, also inside the user's
code, and a KeyboardInterrupt raised in it is printed and dropped by Python. So
_handler defers a signal that lands in a registered finalizer (a pending flag
for the active call), and a finalizer that catches a KeyboardInterrupt from
another handler hands it back (defer_pending, or SIGINT tripped again from
a new thread, see _Handle.__del__).
"""

import ctypes
import signal
import threading

try:
    _check_signals = ctypes.pythonapi.PyErr_CheckSignals
    _check_signals.restype = ctypes.c_int
    _check_signals.argtypes = []
except (AttributeError, OSError):  # pragma: no cover - not CPython
    _check_signals = None

_current = None  # the innermost active DeferSigint (main thread only)
_finalizer_codes = []  # code objects of the registered finalizers (set at import time)


def finalizer(fn):
    """Registers fn (a __del__) as a place where _handler never raises."""
    _finalizer_codes.append(fn.__code__)
    return fn


def _handler(signum, frame):
    guard = _current
    if guard is None or (guard.in_python and
                         (frame is None or frame.f_code not in _finalizer_codes)):
        signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt
    guard.pending = True


def defer_pending():
    """A KeyboardInterrupt caught in a finalizer becomes the active call's pending
    Ctrl-C: True if there is such a call (else the finalizer must re-trip SIGINT)."""
    guard = _current
    if guard is not None and guard.active:
        guard.pending = True
        return True
    return False


class DeferSigint:
    """Context manager around a library call that runs callbacks.

    active: SIGINT is deferred (main thread, default handler or an outer DeferSigint).
    pending: a SIGINT arrived and has not been raised yet; callbacks return "stop".
    in_python: set by a callback while it runs the user's code (Ctrl-C raises there).
    """

    __slots__ = ("active", "pending", "in_python", "_installed", "_prev", "_outer")

    def __init__(self):
        self.active = self.pending = self.in_python = self._installed = False
        self._prev = self._outer = None

    def __enter__(self):
        global _current
        if threading.current_thread() is not threading.main_thread():
            return self
        handler = signal.getsignal(signal.SIGINT)
        if handler is _handler and _current is not None:
            # A call made from an outer call's callback: the handler is already ours.
            self._outer, _current, self.active = _current, self, True
            return self
        if handler is not signal.default_int_handler:
            return self  # the program's own SIGINT policy applies unchanged
        self._outer, _current = _current, self
        try:
            self._prev = signal.signal(signal.SIGINT, _handler)
        except BaseException:
            _current = self._outer
            raise
        self._installed = self.active = True
        return self

    def interrupted(self):
        """True if a SIGINT arrived; signals the C level has seen are handled first."""
        if self.active and _check_signals is not None:
            _check_signals()
        return self.pending

    def __exit__(self, exc_type, exc, tb):
        global _current
        if not self.active:
            return False
        try:
            self.interrupted()
        finally:
            if self._installed and signal.getsignal(signal.SIGINT) is _handler:
                signal.signal(signal.SIGINT, self._prev)
            _current = self._outer
            self.active = False
        if self.pending and not isinstance(exc, KeyboardInterrupt):
            raise KeyboardInterrupt
        return False
