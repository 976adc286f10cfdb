# SPDX-License-Identifier: MIT
"""pip install . (offline: pip install --no-build-isolation .) builds libregnn with
`make lib` (OpenBLAS when pkg-config finds it, else the built-in GEMM; BLAS=builtin,
CC=... and CFLAGS=... in the environment choose, as for make) and installs the
python/regnn package with the shared library inside it, as regnn/libregnn.so.1.
See docs/python.md, "Installing"."""

import os
import re
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def makefile_var(name):
    with open(os.path.join(HERE, "Makefile")) as f:
        m = re.search(r"^%s\s*:?=\s*(\S+)\s*$" % name, f.read(), re.M)
    if not m:
        raise RuntimeError("Makefile defines no %s" % name)
    return m.group(1)


VERSION = makefile_var("VERSION")
ABI = makefile_var("ABI")
SONAME = "libregnn.so." + ABI


def make_lib():
    """Run `make lib` in this tree; return the path of the real shared library file."""
    make = os.environ.get("MAKE", "make")
    if shutil.which(make) is None:
        raise RuntimeError("regnn: building libregnn needs make and a C compiler "
                           "(sudo apt-get install build-essential)")
    cmd = [make, "-C", HERE]
    if not re.search(r"(^|\s)-j|--jobs", os.environ.get("MAKEFLAGS", "")):
        cmd.append("-j%d" % (os.cpu_count() or 1))
    cmd.append("lib")
    print("regnn: " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    path = os.path.join(HERE, "lib", "libregnn.so." + VERSION)
    if not os.path.isfile(path):
        raise RuntimeError("regnn: `make lib` did not produce %s" % path)
    return path


class BuildPy(build_py):
    """build_py that also builds libregnn and copies it into the built package."""

    def run(self):
        super().run()
        so = make_lib()
        if getattr(self, "editable_mode", False):
            return  # an editable install loads the tree's lib/ (docs/python.md)
        dest = os.path.join(self.build_lib, "regnn", SONAME)
        # A regular file under the SONAME: wheels cannot hold symlinks.
        self.copy_file(so, dest)


class BinaryDistribution(Distribution):
    """Installs into platlib and makes a platform wheel: the package holds a native library."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": BuildPy}

# The library does not use the Python C API: one wheel serves every Python 3 on its
# platform (py3-none-<platform>, not cpXY-cpXY-<platform>).
try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:
        bdist_wheel = None

if bdist_wheel is not None:
    class BdistWheel(bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = BdistWheel

with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
    long_description = f.read()

setup(
    name="regnn",
    version=VERSION,
    description="ctypes binding of libregnn, dense regression networks in C11",
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.6",
    package_dir={"": "python"},
    packages=["regnn"],
    extras_require={"numpy": ["numpy"]},
    cmdclass=cmdclass,
    distclass=BinaryDistribution,
    zip_safe=False,
)
