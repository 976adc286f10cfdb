# SPDX-License-Identifier: MIT
"""Finding and loading the library, prototypes, and the ABI/version check."""

import ctypes
import importlib
import os
import re
import shutil
import subprocess
import unittest

from _support import INSTALLED, PYDIR, REPO, TempDir, cc, regnn, run_python

from regnn import _capi, _errors, _io, _onnx, _path


def module_prototypes():
    """{module name: its prototypes}: every internal module's PROTOTYPES and *_PROTOTYPES."""
    pkg = os.path.dirname(os.path.abspath(regnn.__file__))
    found = {}
    for fname in sorted(os.listdir(pkg)):
        if fname.startswith("_") and fname.endswith(".py") and fname != "__init__.py":
            mod = importlib.import_module("regnn." + fname[:-3])
            for attr, value in vars(mod).items():
                if attr == "PROTOTYPES" or attr.endswith("_PROTOTYPES"):
                    found.setdefault(mod.__name__, {}).update(value)
    return found


def all_prototypes():
    protos = {}
    for module, table in module_prototypes().items():
        for name in table:
            if name in protos:
                raise AssertionError("%s is declared twice (%s)" % (name, module))
        protos.update(table)
    return protos


ALL_PROTOTYPES = all_prototypes()


class FakeFn:
    def __init__(self, value):
        self.value = value
        self.argtypes = self.restype = None

    def __call__(self, *args):
        return self.value


class FakeLib:
    def __init__(self, abi=1, version=10200, names=()):
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
            elif ret == "regnn_status":
                self.assertIs(restype, _capi.Status, name)
            else:
                self.assertIn(restype, (ctypes.c_int, ctypes.c_uint, ctypes.c_size_t,
                                        ctypes.c_uint64), name)
            fn = getattr(_capi.lib, name)
            self.assertEqual(fn.argtypes, argtypes, name)
            self.assertIs(fn.restype, restype, name)
            # Errors are converted where the function is declared: every function
            # returning a regnn_status, and only those, raises through _errors.check.
            self.assertIs(getattr(fn, "errcheck", None) is _errors.check,
                          ret == "regnn_status", name)

    def test_every_function_of_the_header_is_declared(self):
        self.assertEqual(set(self.header_prototypes()) - set(ALL_PROTOTYPES), set())

    def test_each_module_declares_its_own_concept(self):
        where = {name: module for module, table in module_prototypes().items()
                 for name in table}
        for name, module in (("regnn_strerror", "regnn._errors"),
                             ("regnn_dataset_from_arrays", "regnn._dataset"),
                             ("regnn_scaler_fit", "regnn._dataset"),
                             ("regnn_model_predict", "regnn._model"),
                             ("regnn_layer_set_double", "regnn._model"),
                             ("regnn_optimizer_set_double", "regnn._optimizer"),
                             ("regnn_fit", "regnn._fit"), ("regnn_history_get", "regnn._fit"),
                             ("regnn_regularization_path", "regnn._path"),
                             ("regnn_model_save", "regnn._io"),
                             ("regnn_option_bounds", "regnn._library")):
            self.assertEqual(where[name], module, name)

    def test_a_failing_call_raises_its_error(self):
        # No check() after the call: the declaration's errcheck raises with the message.
        with self.assertRaises(regnn.InvalidArgumentError) as cm:
            _capi.lib.regnn_model_create(0, ctypes.byref(ctypes.c_void_p()))
        self.assertTrue(cm.exception.message.startswith("regnn_model_create: "),
                        cm.exception.message)

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
        self.assertFalse(_onnx._missing)  # and the ONNX export
        self.assertFalse(_path.missing_shards)  # and the path shard functions

    def test_pointer_returns_are_not_int(self):
        # The ctypes default restype (int) would truncate a 64-bit pointer.
        for name, (restype, _) in ALL_PROTOTYPES.items():
            if name in ("regnn_model_layer",):
                self.assertIs(restype, ctypes.c_void_p)
            if name.endswith(("_name", "strerror", "errmsg", "version_string")):
                self.assertIs(restype, ctypes.c_char_p, name)

    def test_check_abi_accepts_matching(self):
        self.assertEqual(_capi.check_abi(FakeLib(1, 10200)), 10200)
        self.assertEqual(_capi.check_abi(FakeLib(1, 10203)), 10203)

    def test_check_abi_rejects_older_minor(self):
        # 1.1 lacks the functions of 1.2 (path files, the data-parallel failure report) the binding declares.
        with self.assertRaises(regnn.LibraryError):
            _capi.check_abi(FakeLib(1, 10100), "old.so")

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
        fake = FakeLib(names=[n for n in ALL_PROTOTYPES if n != "regnn_fit"])
        with self.assertRaises(regnn.LibraryError) as cm:
            _capi.declare(fake, ALL_PROTOTYPES, "old.so")
        self.assertIn("regnn_fit", str(cm.exception))
        self.assertIn("old.so lacks 1 function", str(cm.exception))

    def test_repo_candidates_point_at_lib(self):
        c = _capi._repo_candidates(os.path.join(PYDIR, "regnn"))
        self.assertEqual(c, [os.path.join(REPO, "lib", "libregnn.so.1"),
                             os.path.join(REPO, "lib", "libregnn.so")])
        if not INSTALLED:
            self.assertEqual(_capi._repo_candidates(), c)

    def test_package_candidate_is_inside_the_package(self):
        pkg = os.path.dirname(os.path.abspath(regnn.__file__))
        self.assertEqual(_capi._package_candidates(), [os.path.join(pkg, "libregnn.so.1")])

    def fake_tree(self, d, package_copy, repo_copy):
        """d/python/regnn (a copy of the package under test) with the loaded library copied
        into d/python/regnn and/or d/lib; returns what `import regnn` there loads."""
        pkg = os.path.join(d, "python", "regnn")
        shutil.copytree(os.path.dirname(os.path.abspath(regnn.__file__)), pkg,
                        ignore=shutil.ignore_patterns("__pycache__", "libregnn.so*"))
        so = os.path.realpath(regnn.library_path)
        if package_copy:
            shutil.copyfile(so, os.path.join(pkg, "libregnn.so.1"))
        if repo_copy:
            os.makedirs(os.path.join(d, "lib"))
            shutil.copyfile(so, os.path.join(d, "lib", "libregnn.so.1"))
        r = run_python("import sys; sys.path.insert(0, %r); import regnn; "
                       "print(regnn.__file__); print(regnn.library_path)"
                       % os.path.join(d, "python"), env={"REGNN_LIBRARY": None})
        self.assertEqual(r.returncode, 0, r.stderr)
        mod, path = r.stdout.split()
        self.assertEqual(mod, os.path.join(pkg, "__init__.py"))
        return path

    def test_package_copy_comes_before_repo_lib(self):
        with TempDir() as d:
            self.assertEqual(self.fake_tree(d, True, True),
                             os.path.join(d, "python", "regnn", "libregnn.so.1"))

    def test_repo_lib_used_without_package_copy(self):
        with TempDir() as d:
            self.assertEqual(self.fake_tree(d, False, True), os.path.join(d, "lib", "libregnn.so.1"))

    def test_env_library_comes_before_package_copy(self):
        with TempDir() as d:
            self.fake_tree(d, True, False)
            so = os.path.realpath(regnn.library_path)
            r = run_python("import sys; sys.path.insert(0, %r); import regnn; "
                           "print(regnn.library_path)" % os.path.join(d, "python"),
                           env={"REGNN_LIBRARY": so})
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), so)

    def test_missing_library_message(self):
        with TempDir() as d:
            pkg = os.path.join(d, "regnn")
            shutil.copytree(os.path.dirname(os.path.abspath(regnn.__file__)), pkg,
                            ignore=shutil.ignore_patterns("__pycache__", "libregnn.so*"))
            # No copy in the package, no d/../lib, and nothing the loader can find.
            r = run_python("import sys, ctypes.util; sys.path.insert(0, %r); "
                           "ctypes.util.find_library = lambda name: None; import regnn" % d,
                           env={"REGNN_LIBRARY": None, "LD_LIBRARY_PATH": None})
            if r.returncode == 0:
                self.skipTest("a libregnn.so.1 is installed on the loader's search path")
            self.assertIn("regnn.LibraryError: regnn: cannot find libregnn (ABI 1)", r.stderr)
            self.assertIn("pip install .", r.stderr)
            self.assertIn(os.path.join(pkg, "libregnn.so.1") + " (missing)", r.stderr)

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

    @unittest.skipUnless(INSTALLED, "testing the tree's python/regnn, not an installed one")
    def test_installed_package_loads_its_own_copy(self):
        pkg = os.path.dirname(os.path.abspath(regnn.__file__))
        self.assertFalse(pkg.startswith(PYDIR + os.sep), pkg)
        r = run_python("import regnn; print(regnn.library_path)", env={"REGNN_LIBRARY": None})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), os.path.join(pkg, "libregnn.so.1"))
        self.assertTrue(os.path.isfile(r.stdout.strip()))
        self.assertFalse(os.path.islink(r.stdout.strip()))

    @unittest.skipIf(INSTALLED, "testing an installed regnn, not the tree's")
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
                        "unsigned regnn_version(void) { return 10200; }\n")
            subprocess.run([cc(), "-shared", "-fPIC", "-o", so, src], check=True)
            r = run_python("import regnn", env={"REGNN_LIBRARY": so})
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("lacks", r.stderr)
            # The first module to declare its functions names the ones it lacks.
            self.assertIn("regnn_strerror", r.stderr)


if __name__ == "__main__":
    unittest.main()
