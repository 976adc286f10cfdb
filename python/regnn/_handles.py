# SPDX-License-Identifier: MIT
"""The base of the binding's handle classes (internal): ownership, closing, the
busy guard, and small argument helpers."""

import _thread
import threading
from ctypes import byref, c_float, c_void_p

from . import _buffers as B
from . import _sigint
from ._errors import ClosedError, StateError, UnsupportedError

_get_ident = threading.get_ident


def _enum(value, table, what):
    if value is None:
        value = "none" if "none" in table else None
    if isinstance(value, str):
        try:
            return table[value.lower()]
        except KeyError:
            raise UnsupportedError("unknown %s %r; expected one of %s"
                                   % (what, value, ", ".join(sorted(table)))) from None
    return B.index(value, what, -2 ** 31, 2 ** 31 - 1)


def _name_of(value, table):
    for k, v in table.items():
        if v == value:
            return k
    return str(value)


def _nonnull(ptr):
    """A valid pointer even for an empty buffer, so the library reports the real problem."""
    return ptr if ptr is not None else c_float()


# ---------------------------------------------------------------- handles

class _Handle:
    """Owns one library handle; close() / `with` / garbage collection free it exactly once."""

    _FREE = None     # the regnn_*_free function of the subclass
    _h = None        # the handle (an int), None once closed
    _busy = 0        # > 0 while a fit call uses the object
    _busy_thread = None
    _keep = None     # Python objects whose memory the handle borrows
    _EXCLUSIVE = True  # fit() modifies it: other threads must wait (datasets are only read)

    def _adopt(self, handle, keep=None):
        self._h = handle
        self._keep = keep

    @property
    def closed(self):
        """True once close() has freed the handle."""
        return self._h is None

    def _closed_error(self):
        return ClosedError("this %s is closed" % type(self).__name__)

    def _handle(self):
        h = self._h
        if h is None:
            raise self._closed_error()
        if self._busy and self._EXCLUSIVE and _get_ident() != self._busy_thread:
            raise StateError("this %s is in use by fit() in another thread" % type(self).__name__)
        return h

    def _check_idle(self, action):
        h = self._handle()
        if self._busy:
            raise StateError("cannot %s while fit() is using this %s" % (action, type(self).__name__))
        return h

    def close(self):
        """Free the library handle now. Idempotent. Raises StateError while fit() uses the object."""
        h = self._h
        if h is None:
            return
        if self._busy:
            raise StateError("cannot close this %s while fit() is using it" % type(self).__name__)
        # No call between taking the handle and freeing it (a Ctrl-C raised
        # there would leak it): _FREE is a plain class attribute.
        self._h = None
        self._FREE(h)
        self._keep = None

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @_sigint.finalizer
    def __del__(self):
        # A KeyboardInterrupt can only be raised at this function's entry (where
        # the binding's handler defers it, see _sigint) or when _FREE returns:
        # taking the handle and freeing it has no check point between them.
        try:
            h = self._h
            if h is not None and not self._busy:
                self._h = None
                self._FREE(h)
        except KeyboardInterrupt:  # freed already; raise it outside the finalizer
            if not _sigint.defer_pending():
                # interrupt_main from a new thread trips SIGINT once this has returned;
                # tripped here, the handler would run at the call's end, still in here.
                try:
                    _thread.start_new_thread(_thread.interrupt_main, ())
                except RuntimeError:  # pragma: no cover - interpreter shutdown
                    pass
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


class _Using:
    """Marks objects busy for the duration of a fit call (same-thread reentrancy guard)."""

    def __init__(self, objs):
        self.objs = [o for o in objs if o is not None]

    def __enter__(self):
        tid = _get_ident()
        for o in self.objs:
            if o._busy == 0:
                o._busy_thread = tid
            o._busy += 1

    def __exit__(self, *exc):
        for o in self.objs:
            o._busy -= 1
            if o._busy == 0:
                o._busy_thread = None
        return False


def _need(obj, cls, what):
    if not isinstance(obj, cls):
        raise TypeError("%s must be a regnn.%s, not %s" % (what, cls.__name__, type(obj).__name__))
    return obj


def _out_handle(fn, *args):
    """Call a creating function whose last argument is `T **out`; return the handle."""
    out = c_void_p()
    fn(*args, byref(out))
    return out.value
