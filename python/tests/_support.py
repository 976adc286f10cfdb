# SPDX-License-Identifier: MIT
"""Shared helpers of the Python binding's tests.

Set REGNN_TEST_NO_NUMPY=1 to run the tests as if numpy were not installed
(``import numpy`` then raises ImportError); numpy-only tests skip themselves.
Set REGNN_TEST_INSTALLED=1 to test an installed regnn package (pip install)
instead of the tree's python/regnn: python/ is then kept off the module path,
and importing a regnn from this tree is an error.
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
REPO = os.path.dirname(PYDIR)

NO_NUMPY = os.environ.get("REGNN_TEST_NO_NUMPY") == "1"
if NO_NUMPY and "numpy" not in sys.modules:
    sys.modules["numpy"] = None  # makes `import numpy` raise ImportError
INSTALLED = os.environ.get("REGNN_TEST_INSTALLED") == "1"
if not INSTALLED and PYDIR not in sys.path:
    sys.path.insert(0, PYDIR)

import regnn  # noqa: E402

if INSTALLED and os.path.abspath(regnn.__file__).startswith(PYDIR + os.sep):
    raise RuntimeError("REGNN_TEST_INSTALLED=1 but regnn was imported from this tree (%s): run "
                       "from outside it, without python/ on PYTHONPATH" % regnn.__file__)

try:
    import numpy as np
except ImportError:
    np = None

needs_numpy = unittest.skipIf(np is None, "numpy is not installed (or blocked)")


def tolist(a):
    """Nested Python lists from a numpy array, list or other sequence."""
    if np is not None and isinstance(a, np.ndarray):
        return a.tolist()
    if isinstance(a, (list, tuple)):
        return [tolist(v) if isinstance(v, (list, tuple)) or (
            np is not None and isinstance(v, np.ndarray)) else float(v) for v in a]
    return [float(v) for v in a]


def flat(a):
    out = []
    for v in tolist(a):
        if isinstance(v, list):
            out.extend(v)
        else:
            out.append(v)
    return out


def f32(v):
    """v rounded to float32, as a Python float."""
    return struct.unpack("f", struct.pack("f", v))[0]


def bits(v):
    return struct.unpack("<I", struct.pack("<f", v))[0]


def make_data(rows=64, nx=4):
    """The C reference's dyadic data set, as lists (exact in float32)."""
    x = [[((37 * i + 11 * j) % 64) / 32.0 - 1.0 for j in range(nx)] for i in range(rows)]
    y = [r[0] - r[1] / 2.0 + r[2] * r[3] / 4.0 for r in x]
    return x, y


def cc():
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")


_REF = None


def c_reference():
    """Output of python/tests/c_reference.c as {name: [tokens]}; builds it if make did not."""
    global _REF
    if _REF is not None:
        return _REF
    exe = os.environ.get("REGNN_C_REFERENCE")
    tmp = None
    if not exe or not os.path.exists(exe):
        compiler = cc()
        libdir = os.path.dirname(os.path.realpath(regnn.library_path))
        if compiler is None:
            raise unittest.SkipTest("no C compiler to build c_reference.c")
        tmp = tempfile.mkdtemp(prefix="regnn-ref-")
        exe = os.path.join(tmp, "c_reference")
        subprocess.run([compiler, "-std=c11", "-O2", "-I", os.path.join(REPO, "include"), "-o", exe,
                        os.path.join(HERE, "c_reference.c"),
                        regnn.library_path, "-Wl,-rpath," + libdir, "-lm"], check=True)
    try:
        # The same library file as this process: REGNN_LIBRARY's directory first.
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.path.dirname(os.path.realpath(regnn.library_path)) + (
            ":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        out = subprocess.run([exe], check=True, stdout=subprocess.PIPE, env=env,
                             universal_newlines=True).stdout
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    _REF = {}
    for line in out.splitlines():
        name, *vals = line.split()
        _REF[name] = vals
    return _REF


def run_python(code, env=None, timeout=300):
    """Run code in a fresh interpreter (this one) that imports the regnn under test."""
    e = dict(os.environ)
    if not INSTALLED:
        e["PYTHONPATH"] = PYDIR + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["PYTHONDONTWRITEBYTECODE"] = "1"
    if env:
        for k, v in env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
    return subprocess.run([sys.executable, "-c", code], env=e, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="regnn-test-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
