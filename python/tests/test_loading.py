"""Finding and loading the library, prototypes, and the ABI/version check."""

import ctypes
import os
import re
import subprocess
import unittest

from _support import REPO, TempDir, cc, regnn, run_python

from regnn import _capi, _io

ALL_PROTOTYPES = dict(_capi.PROTOTYPES, **_io.PROTOTYPES)


class FakeFn:
    def __init__(self, value):
        self.value = value
        self.argtypes = self.restype = None

    def __call__(self, *args):
        return self.value


class FakeLib:
    def __init__(self, abi=1, version=10000, names=()):
        self.regnn_abi_version = FakeFn(abi)
        self.regnn_version = FakeFn(version)
        for n in names:
            setattr(self, n, FakeFn(0))


class TestLoading(unittest.TestCase):
    def test_loaded_library_and_versions(self):
        self.assertTrue(os.path.exists(regnn.library_path), regnn.library_path)
        self.assertEqual(regnn.library_abi_version(), regnn.ABI_VERSION)
        self.assertEqual(regnn.ABI_VERSION, 1)
        n = regnn.library_version_number()
        self.assertEqual(regnn.library_version(), "%d.%d.%d" % (n // 10000, n // 100 % 100, n % 100))
        self.assertGreaterEqual(n, _capi.MIN_VERSION)

    def header_prototypes(self):
        with open(os.path.join(REPO, "include", "regnn.h")) as f:
            header = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
        protos = {}
        for ret, name, params in re.findall(r"REGNN_API\s+([^;(]*?)\b(regnn_\w+)\s*\(([^)]*)\)",
                                            header):
            params = " ".join(params.split())
            n = 0 if params in ("", "void") else params.count(",") + 1
            protos[name] = (ret.strip(), n)
        return protos

    def test_declared_prototypes_match_the_header(self):
        protos = self.header_prototypes()
        self.assertGreater(len(protos), 70)
        for name, (restype, argtypes) in ALL_PROTOTYPES.items():
            self.assertIn(name, protos, "%s is declared but not in regnn.h" % name)
            ret, n = protos[name]
            self.assertEqual(len(argtypes), n, "%s: argument count" % name)
            if "*" in ret:
                self.assertIn(restype, (ctypes.c_void_p, ctypes.c_char_p), name)
            elif ret == "void":
                self.assertIsNone(restype, name)
            elif ret == "double":
                self.assertIs(restype, ctypes.c_double, name)
            else:
                self.assertIn(restype, (ctypes.c_int, ctypes.c_uint, ctypes.c_size_t,
                                        ctypes.c_uint64), name)
            fn = getattr(_capi.lib, name)
            self.assertEqual(fn.argtypes, argtypes, name)
            self.assertIs(fn.restype, restype, name)

    def test_every_function_called_is_declared(self):
        pkg = os.path.dirname(os.path.abspath(regnn.__file__))
        used = set()
        for fname in os.listdir(pkg):
            if fname.endswith(".py"):
                with open(os.path.join(pkg, fname)) as f:
                    used |= set(re.findall(r"\blib\.(regnn_\w+)", f.read()))
        self.assertGreater(len(used), 60)
        self.assertEqual(used - set(ALL_PROTOTYPES), set())
        self.assertFalse(_io._missing)  # this library has the persistence functions

    def test_pointer_returns_are_not_int(self):
        # The ctypes default restype (int) would truncate a 64-bit pointer.
        for name, (restype, _) in _capi.PROTOTYPES.items():
            if name in ("regnn_model_layer",):
                self.assertIs(restype, ctypes.c_void_p)
            if name.endswith(("_name", "strerror", "errmsg", "version_string")):
                self.assertIs(restype, ctypes.c_char_p, name)

    def test_check_abi_accepts_matching(self):
        self.assertEqual(_capi.check_abi(FakeLib(1, 10000)), 10000)
        self.assertEqual(_capi.check_abi(FakeLib(1, 10203)), 10203)

    def test_check_abi_rejects_other_abi(self):
        with self.assertRaises(regnn.LibraryError) as cm:
            _capi.check_abi(FakeLib(abi=2), "fake.so")
        msg = str(cm.exception)
        self.assertIn("ABI mismatch", msg)
        self.assertIn("fake.so has ABI version 2", msg)
        self.assertIn("needs ABI 1", msg)
        self.assertIsInstance(cm.exception, ImportError)

    def test_check_abi_rejects_other_version(self):
        for version in (9999, 20000):
            with self.assertRaises(regnn.LibraryError) as cm:
                _capi.check_abi(FakeLib(version=version), "fake.so")
            self.assertIn("version mismatch", str(cm.exception))

    def test_check_abi_rejects_non_library(self):
        with self.assertRaises(regnn.LibraryError) as cm:
            _capi.check_abi(object(), "libc.so")
        self.assertIn("not libregnn", str(cm.exception))

    def test_declare_reports_missing_functions(self):
        fake = FakeLib(names=[n for n in _capi.PROTOTYPES if n != "regnn_fit"])
        with self.assertRaises(regnn.LibraryError) as cm:
            _capi.declare(fake, "old.so")
        self.assertIn("regnn_fit", str(cm.exception))
        self.assertIn("old.so lacks 1 function", str(cm.exception))

    def test_repo_candidates_point_at_lib(self):
        c = _capi._repo_candidates()
        self.assertEqual(c[0], os.path.join(REPO, "lib", "libregnn.so.1"))

    def test_env_library_that_does_not_exist(self):
        r = run_python("import regnn", env={"REGNN_LIBRARY": "/nonexistent/libregnn.so"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("regnn.LibraryError", r.stderr)
        self.assertIn("REGNN_LIBRARY='/nonexistent/libregnn.so' cannot be loaded", r.stderr)

    def test_env_library_used(self):
        path = os.path.realpath(regnn.library_path)
        r = run_python("import regnn; print(regnn.library_path)", env={"REGNN_LIBRARY": path})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), path)

    @unittest.skipUnless(os.path.exists(os.path.join(REPO, "lib", "libregnn.so.1")),
                         "lib/ has no built library")
    def test_repo_lib_found_without_env(self):
        r = run_python("import regnn; print(regnn.library_path)", env={"REGNN_LIBRARY": None})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), os.path.join(REPO, "lib", "libregnn.so.1"))

    @unittest.skipIf(cc() is None, "no C compiler")
    def test_wrong_abi_library_is_refused_on_import(self):
        with TempDir() as d:
            src = os.path.join(d, "fake.c")
            so = os.path.join(d, "libregnn.so")
            with open(src, "w") as f:
                f.write("int regnn_abi_version(void) { return 2; }\n"
                        "unsigned regnn_version(void) { return 20000; }\n")
            subprocess.run([cc(), "-shared", "-fPIC", "-o", so, src], check=True)
            r = run_python("import regnn", env={"REGNN_LIBRARY": so})
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("regnn.LibraryError", r.stderr)
            self.assertIn("ABI mismatch: %s has ABI version 2, this binding needs ABI 1" % so,
                          r.stderr)

    @unittest.skipIf(cc() is None, "no C compiler")
    def test_library_missing_functions_is_refused_on_import(self):
        with TempDir() as d:
            src = os.path.join(d, "fake.c")
            so = os.path.join(d, "libregnn.so")
            with open(src, "w") as f:
                f.write("int regnn_abi_version(void) { return 1; }\n"
                        "unsigned regnn_version(void) { return 10000; }\n")
            subprocess.run([cc(), "-shared", "-fPIC", "-o", so, src], check=True)
            r = run_python("import regnn", env={"REGNN_LIBRARY": so})
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("lacks", r.stderr)
            self.assertIn("regnn_model_create", r.stderr)


if __name__ == "__main__":
    unittest.main()
