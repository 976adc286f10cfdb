# SPDX-License-Identifier: MIT
"""The pip package (setup.py) carries the library's version; tests/test_pip_install.sh
builds and installs it."""

import os
import re
import subprocess
import sys
import unittest

from _support import REPO, regnn

try:
    import setuptools  # noqa: F401
    HAVE_SETUPTOOLS = True
except ImportError:
    HAVE_SETUPTOOLS = False


def makefile_version():
    with open(os.path.join(REPO, "Makefile")) as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)\s*$", f.read(), re.M).group(1)


class TestPackaging(unittest.TestCase):
    def test_binding_version_is_the_library_version(self):
        self.assertRegex(makefile_version(), r"^\d+\.\d+\.\d+$")
        self.assertEqual(regnn.__version__, makefile_version())

    @unittest.skipUnless(HAVE_SETUPTOOLS, "setuptools is not installed")
    def test_setup_py_version_is_the_makefile_version(self):
        r = subprocess.run([sys.executable, "setup.py", "--version"], cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], makefile_version())


if __name__ == "__main__":
    unittest.main()
