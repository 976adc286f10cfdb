# SPDX-License-Identifier: MIT
"""Turning Python arrays into float buffers for the C calls, and results back (internal).

Zero-copy rule: a float32, C-contiguous, native-endian, float-aligned buffer (a
numpy array, an array.array('f'), a ctypes c_float array, or any buffer-protocol
object of that kind) is handed to the library at its own address. Anything else
(float64, integers, bool, non-contiguous or unaligned views, lists, tuples) is
converted once into a private float32 buffer. Values that are not real numbers
(complex, datetime, text, objects, structured records) are refused with
TypeError rather than converted.

When the source is writable, the pointer is made with ctypes'
``c_float.from_buffer``, which holds a buffer export on the source for as long as
the pointer object lives: while a Dataset borrows an array.array or a numpy
array, the array cannot be resized under the library.
"""

import ctypes
import math
import operator
import struct
from ctypes import c_double, c_float, c_size_t

from ._capi import FLOAT_FORMATS, P_FLOAT
from ._errors import InvalidArgumentError, ShapeError

try:
    import numpy as np
except ImportError:
    np = None

HAVE_NUMPY = np is not None
_F_ALIGN = ctypes.alignment(c_float)

_REAL_KINDS = "biuf"  # numpy dtype kinds that convert to float32 without losing meaning
_KIND_NAMES = {"c": "complex", "M": "datetime", "m": "timedelta", "O": "Python objects",
               "U": "text", "S": "bytes", "V": "structured or raw bytes"}
# struct formats of real numbers (memoryview.format without its byte-order prefix)
_REAL_FORMATS = frozenset("bBhHiIlLqQnNefd?")
if np is not None:
    NDARRAY = np.ndarray
    F32 = np.dtype(np.float32)
    F64 = np.dtype(np.float64)
else:
    NDARRAY = F32 = F64 = None


class FloatBuf:
    """A float32 buffer ready for the library.

    ptr: argument for a ``float *`` parameter (None when empty).
    keep: objects that must stay alive while the library may read ptr.
    rows, cols: the matrix shape; ndim: 1 or 2 as given by the caller.
    zero_copy: True when ptr is the caller's own memory.
    """

    __slots__ = ("ptr", "keep", "rows", "cols", "ndim", "zero_copy")

    def __init__(self, ptr, keep, rows, cols, ndim, zero_copy):
        self.ptr = ptr
        self.keep = keep
        self.rows = rows
        self.cols = cols
        self.ndim = ndim
        self.zero_copy = zero_copy

    @property
    def size(self):
        return self.rows * self.cols


def ndarray_ptr(a):
    """Pointer to a C-contiguous float32 ndarray's first element, or None if empty."""
    if a.size == 0:
        return None
    try:
        return c_float.from_buffer(a)  # writable: holds an export on a
    except (TypeError, ValueError, BufferError):
        return ctypes.cast(a.ctypes.data, P_FLOAT)  # read-only memory: the caller keeps a alive


def _shape(ndim, shape, what, cols, vector):
    """(rows, cols) of an input given its ndim/shape and the 1-D rule."""
    if ndim == 2:
        r, c = shape
        if cols is not None and c != cols:
            raise ShapeError("%s has %d column(s), expected %d" % (what, c, cols))
        return r, c
    if ndim == 1:
        n = shape[0]
        if vector == "row":
            if cols is not None and n != cols:
                raise ShapeError("%s is a 1-D array of %d values, expected one row of %d"
                                 % (what, n, cols))
            return 1, n
        if cols is None or vector == "column":
            if cols is not None and cols != 1:
                raise ShapeError("%s is 1-D but %d columns are expected; give a 2-D array"
                                 % (what, cols))
            return n, 1
        # "flat": rows of cols values laid end to end
        if cols == 0 or n % cols:
            raise ShapeError("%s holds %d values, not a whole number of rows of %d"
                             % (what, n, cols))
        return n // cols, cols
    raise ShapeError("%s must be 1-D or 2-D, got %d dimension(s)" % (what, ndim))


def _check_dtype(dt, what):
    """TypeError unless dt holds real numbers (bool, integers, floats)."""
    if dt.kind not in _REAL_KINDS:
        kind = _KIND_NAMES.get(dt.kind, "not a real number type")
        raise TypeError("%s has dtype %s (%s); expected real numbers (float, int or bool)"
                        % (what, dt, kind))


def _from_ndarray(a, what, cols, vector, converted=False):
    _check_dtype(a.dtype, what)
    zero = (a.dtype == F32 and a.dtype.isnative and a.flags.c_contiguous
            and a.flags.aligned)
    if not zero:
        try:
            # An unaligned float32 view is copied too: the library reads whole floats.
            a = np.require(a, F32, ("C_CONTIGUOUS", "ALIGNED"))
        except (TypeError, ValueError, OverflowError) as e:
            raise TypeError("%s cannot be converted to float32: %s" % (what, e)) from None
    rows, c = _shape(a.ndim, a.shape, what, cols, vector)
    return FloatBuf(ndarray_ptr(a), a, rows, c, a.ndim, zero and not converted)


def _is_text(obj):
    return isinstance(obj, (str, bytes, bytearray))


def _real(v, what):
    if _is_text(v):
        raise TypeError("%s contains a string (%r), expected numbers" % (what, v))
    if isinstance(v, complex) or (np is not None and isinstance(v, np.complexfloating)):
        raise TypeError("%s contains the complex number %r, expected real numbers" % (what, v))
    try:
        return float(v)
    except (TypeError, ValueError):
        raise TypeError("%s contains %r, expected numbers" % (what, v)) from None


def _flatten(obj, what):
    """(flat list of floats, ndim, shape) of a list/tuple/iterable of numbers or of rows."""
    items = list(obj)
    if not items:
        return [], 1, (0,)
    first = items[0]
    if _is_text(first) or not hasattr(first, "__len__") or hasattr(first, "__float__"):
        return [_real(v, what) for v in items], 1, (len(items),)
    rows = [list(r) if not _is_text(r) and hasattr(r, "__len__") else None for r in items]
    width = len(rows[0])
    flat = []
    for i, r in enumerate(rows):
        if r is None or len(r) != width:
            raise ShapeError("%s is ragged: row %d has %s values, row 0 has %d"
                             % (what, i, "no" if r is None else len(r), width))
        flat.extend(_real(v, what) for v in r)
    return flat, 2, (len(rows), width)


def _float_array(flat):
    n = len(flat)
    return (c_float * n)(*flat) if n else None


def as_input(obj, what, cols=None, vector="column"):
    """FloatBuf for obj.

    vector tells how a 1-D input is read: "column" (n rows of one value),
    "row" (one row of n values) or "flat" (rows of `cols` values end to end).
    """
    if obj is None:
        raise TypeError("%s is required" % what)
    if np is not None and isinstance(obj, NDARRAY):
        return _from_ndarray(obj, what, cols, vector)
    if _is_text(obj):
        raise TypeError("%s must be an array of numbers, not %s" % (what, type(obj).__name__))
    try:
        m = memoryview(obj)
    except TypeError:
        m = None
    if m is not None:
        if m.ndim == 0:
            raise ShapeError("%s must be 1-D or 2-D, got a scalar" % what)
        if m.format in FLOAT_FORMATS and m.itemsize == 4 and m.c_contiguous:
            rows, c = _shape(m.ndim, m.shape, what, cols, vector)
            n = rows * c
            if n == 0:
                return FloatBuf(None, None, rows, c, m.ndim, False)
            if not m.readonly:
                ptr = (c_float * n).from_buffer(m)
                if ctypes.addressof(ptr) % _F_ALIGN == 0:
                    return FloatBuf(ptr, (obj, m, ptr), rows, c, m.ndim, True)
                del ptr  # not aligned for float: copied below
            ptr = (c_float * n).from_buffer_copy(m)
            return FloatBuf(ptr, ptr, rows, c, m.ndim, False)
        fmt = m.format.lstrip("@=<>!")
        if len(fmt) != 1 or fmt not in _REAL_FORMATS:
            raise TypeError("%s has buffer format %r; expected real numbers (float, int or bool)"
                            % (what, m.format))
        if np is not None:
            return _from_ndarray(np.asarray(m), what, cols, vector, True)
        if m.ndim > 2:
            raise ShapeError("%s must be 1-D or 2-D, got %d dimension(s)" % (what, m.ndim))
        flat = [float(v) for (v,) in struct.iter_unpack(m.format, m.tobytes())]
        ndim, shape = m.ndim, m.shape
    else:
        try:
            iter(obj)
        except TypeError:
            raise TypeError("%s must be an array or a sequence of numbers, not %s"
                            % (what, type(obj).__name__)) from None
        if np is not None:
            try:
                a = np.asarray(obj)
            except ValueError as e:
                raise ShapeError("%s is ragged or not numeric: %s" % (what, e)) from None
            if a.ndim == 0:
                raise ShapeError("%s must be 1-D or 2-D, got a scalar" % what)
            if a.dtype.kind in _REAL_KINDS:
                return _from_ndarray(a, what, cols, vector, True)
            # Strings, None, complex, objects: checked value by value as without numpy.
        flat, ndim, shape = _flatten(obj, what)
    rows, c = _shape(ndim, shape, what, cols, vector)
    ptr = _float_array(flat)
    return FloatBuf(ptr, ptr, rows, c, ndim, False)


def as_output(out, count, what="out"):
    """Pointer into a caller-provided float32 buffer of exactly `count` values."""
    if np is not None and isinstance(out, NDARRAY):
        if (out.dtype != F32 or not out.dtype.isnative or not out.flags.c_contiguous
                or not out.flags.aligned):
            raise TypeError("%s must be a C-contiguous, aligned float32 array, got %s%s%s"
                            % (what, out.dtype,
                               "" if out.flags.c_contiguous else " (not contiguous)",
                               "" if out.flags.aligned else " (not aligned)"))
        if not out.flags.writeable:
            raise ValueError("%s is read-only" % what)
        if out.size != count:
            raise ShapeError("%s holds %d values, %d are needed" % (what, out.size, count))
        return ndarray_ptr(out) if count else None
    try:
        m = memoryview(out)
    except TypeError:
        raise TypeError("%s must be a writable float32 buffer (numpy array, array.array('f'), "
                        "ctypes c_float array), not %s" % (what, type(out).__name__)) from None
    if m.format not in FLOAT_FORMATS or m.itemsize != 4 or not m.c_contiguous:
        raise TypeError("%s must be a contiguous float32 buffer, got format %r" % (what, m.format))
    if m.readonly:
        raise ValueError("%s is read-only" % what)
    if m.nbytes != 4 * count:
        raise ShapeError("%s holds %d values, %d are needed" % (what, m.nbytes // 4, count))
    if not count:
        return None
    ptr = (c_float * count).from_buffer(m)
    if ctypes.addressof(ptr) % _F_ALIGN:
        raise TypeError("%s is not aligned for float32 (address %% %d != 0)" % (what, _F_ALIGN))
    return ptr


def new_floats(rows, cols, one_d):
    """(pointer, buffer) for a fresh float32 result of rows x cols (1-D shape if one_d)."""
    if np is not None:
        a = np.empty(cols if one_d else (rows, cols), dtype=F32)
        return ndarray_ptr(a), a
    n = rows * cols
    buf = (c_float * n)() if n else None
    return buf, buf


def finish_floats(buf, rows, cols, one_d):
    """The result object for a buffer from new_floats: the ndarray, or list(s) of floats."""
    if np is not None:
        return buf
    if buf is None:
        return [] if one_d else [[] for _ in range(rows)]
    vals = buf[:]
    if one_d:
        return vals
    return [vals[i * cols:(i + 1) * cols] for i in range(rows)]


def new_doubles(n):
    return (c_double * max(n, 1))()


def finish_doubles(buf, n):
    if np is not None:
        return np.array(buf[:n], dtype=F64)
    return buf[:n]


def size_array(values, what):
    """c_size_t array from a sequence of non-negative integers."""
    if np is not None and isinstance(values, NDARRAY):
        if values.dtype.kind not in "iub":
            raise TypeError("%s must hold integers, got %s" % (what, values.dtype))
        values = values.ravel().tolist()
    out = []
    for v in values:
        out.append(index(v, what))
    return (c_size_t * max(len(out), 1))(*out), len(out)


SIZE_MAX = 2 ** (8 * ctypes.sizeof(c_size_t)) - 1
U64_MAX = 2 ** 64 - 1
I64_MIN, I64_MAX = -2 ** 63, 2 ** 63 - 1


def _int(v, what):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError("%s must be an integer, not %s" % (what, type(v).__name__)) from None


def index(v, what, lo=0, hi=SIZE_MAX):
    """v as an int in [lo, hi] (InvalidArgumentError otherwise)."""
    n = _int(v, what)
    if n < lo or n > hi:
        raise InvalidArgumentError("%s must be between %d and %d, got %d" % (what, lo, hi, n))
    return n


def seed(v, what="seed"):
    return index(v, what, 0, U64_MAX)


def int64(v, what):
    return index(v, what, I64_MIN, I64_MAX)


def _num(x):
    return "%d" % x if x == int(x) else "%r" % x


def in_bounds(v, what, b):
    """v checked against a Bounds of the library's options table (regnn_option_bounds):
    an int for integer options, else a float; the message states the range."""
    lo_open, hi_open = b.flags & 1, b.flags & 2
    if b.flags & 4:
        hi = I64_MAX if math.isinf(b.max) else int(b.max) - (1 if hi_open else 0)
        return index(v, what, int(b.min) + (1 if lo_open else 0), hi)
    x = real(v, what)
    above = x > b.min if lo_open else x >= b.min
    below = x < b.max if hi_open else x <= b.max
    if not (above and below):
        if math.isinf(b.max):
            text = "finite and %s %s" % (">" if lo_open else ">=", _num(b.min))
        else:
            text = "in %s%s, %s%s" % ("(" if lo_open else "[", _num(b.min), _num(b.max),
                                      ")" if hi_open else "]")
        raise InvalidArgumentError("%s must be %s, got %r" % (what, text, x))
    return x


def real(v, what):
    if _is_text(v):
        raise TypeError("%s must be a number, not %s" % (what, type(v).__name__))
    try:
        return float(v)
    except (TypeError, ValueError):
        raise TypeError("%s must be a number, not %s" % (what, type(v).__name__)) from None
