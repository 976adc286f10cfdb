# SPDX-License-Identifier: MIT
"""Model files, checkpoints and the attached scaler: Python <-> C round trips, bytes and
paths, bit-identical predictions, and checkpoint resume equal to uninterrupted training."""

import csv
import glob
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

from _support import HERE, REPO, TempDir, bits, cc, f32, flat, make_data, np, regnn

CLI = sorted(glob.glob(os.path.join(REPO, "build", "*", "tools", "regnn")))
DIABETES = os.path.join(REPO, "examples", "data", "diabetes.csv")


def raw_data(rows=64):
    """make_data with the target in other units (exact in float32, as c_persist.c makes it)."""
    x, y = make_data(rows)
    return x, [100.0 * v + 50.0 for v in y]


def build_like_c():
    """The model, optimizer and scaler c_persist.c's "save" builds, built in Python."""
    x, y = raw_data()
    with regnn.Dataset(x, y) as raw:
        scaled, sc = raw.standardize("zscore", "zscore")
    with scaled:
        sx, sy = scaled.features(), scaled.targets()
    m = regnn.Model(4, [regnn.Dense(8, "relu", l2=1e-3), regnn.Dense(1)]).init(seed=7)
    o = regnn.Adam(learning_rate=0.01)
    for _ in range(3):
        m.train_batch(o, sx, sy)
    m.attach_scaler(sc)
    return m, o, sc, (sx, sy)


def c_values(line):
    return [float.fromhex(v) for v in line.split()[1:]]


class CProgram:
    exe = None
    tmp = None

    @classmethod
    def get(cls):
        if cls.exe is None:
            compiler = cc()
            if compiler is None:
                raise unittest.SkipTest("no C compiler to build c_persist.c")
            cls.tmp = tempfile.mkdtemp(prefix="regnn-persist-")
            exe = os.path.join(cls.tmp, "c_persist")
            libdir = os.path.dirname(os.path.realpath(regnn.library_path))
            subprocess.run([compiler, "-std=c11", "-O2", "-I", os.path.join(REPO, "include"),
                            "-o", exe, os.path.join(HERE, "c_persist.c"), regnn.library_path,
                            "-Wl,-rpath," + libdir, "-lm"], check=True)
            cls.exe = exe
        return cls.exe

    @classmethod
    def run(cls, *args):
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.path.dirname(os.path.realpath(regnn.library_path))
        r = subprocess.run([cls.get()] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, env=env)
        if r.returncode:
            raise AssertionError("c_persist %s failed: %s" % (" ".join(args), r.stderr))
        return {line.split()[0]: c_values(line) for line in r.stdout.splitlines()}


def tearDownModule():
    if CProgram.tmp:
        shutil.rmtree(CProgram.tmp, ignore_errors=True)


class TestWithC(unittest.TestCase):
    def test_python_reads_c_files(self):
        x, _ = raw_data()
        with TempDir() as d:
            mp, cp = os.path.join(d, "c.rgn"), os.path.join(d, "c.ckpt")
            out = CProgram.run("save", mp, cp)
            with open(mp, "rb") as f:
                blob = f.read()
            for source in (mp, pathlib.Path(mp), blob, bytearray(blob), memoryview(blob)):
                with regnn.load_model(source) as m:
                    self.assertEqual([bits(v) for v in flat(m.predict(x, raw=True))],
                                     [bits(v) for v in out["pred"]], type(source))
                    self.assertEqual(m.to_bytes(), blob)
            # The same construction in Python writes the same bytes.
            pm, po, sc, _ = build_like_c()
            with pm, po, sc:
                self.assertEqual(pm.to_bytes(), blob)
                with open(cp, "rb") as f:
                    self.assertEqual(regnn.checkpoint_to_bytes(pm, po), f.read())

    def test_c_reads_python_files(self):
        x, _ = raw_data()
        m, o, sc, (sx, sy) = build_like_c()
        with TempDir() as d, m, o, sc:
            mp, cp = os.path.join(d, "py.rgn"), os.path.join(d, "py.ckpt")
            m.save(mp)
            regnn.save_checkpoint(m, o, pathlib.Path(cp))
            out = CProgram.run("load", mp, cp)
            self.assertEqual([bits(v) for v in flat(m.predict(x, raw=True))],
                             [bits(v) for v in out["pred"]])
            # C resumed the checkpoint for one batch: Python's resume gives the same bits.
            m2, o2 = regnn.load_checkpoint(cp)
            with m2, o2:
                m2.train_batch(o2, sx, sy)
                self.assertEqual([bits(v) for v in flat(m2.get_params())],
                                 [bits(v) for v in out["resumed"]])
                m.train_batch(o, sx, sy)  # and so does continuing without saving
                self.assertEqual(flat(m.get_params()), flat(m2.get_params()))


def cli(*args):
    r = subprocess.run([CLI[0]] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=300)
    if r.returncode:
        raise AssertionError("regnn %s failed: %s" % (" ".join(args), r.stderr))


def cli_predictions(path):
    with open(path) as f:
        return [f32(float(row[0])) for row in list(csv.reader(f))[1:]]


@unittest.skipUnless(CLI and os.path.exists(DIABETES), "tools/regnn is not built")
class TestWithCli(unittest.TestCase):
    # The regnn program multiplies with one BLAS thread; OpenBLAS's last bits depend on
    # how many threads share a product, so this process uses one as well.
    def setUp(self):
        self.threads = regnn.blas_threads()
        regnn.set_blas_threads(1)

    def tearDown(self):
        regnn.set_blas_threads(self.threads)

    def test_regnn_fit_output_loads(self):
        with TempDir() as d, regnn.Dataset.from_csv(DIABETES, "y") as ds:
            mp, cp, pp = (os.path.join(d, n) for n in ("m.rgn", "m.ckpt", "p.csv"))
            cli("fit", DIABETES, "--target", "y", "--epochs", "2", "--quiet", "-o", mp,
                "--checkpoint", cp)
            cli("predict", mp, DIABETES, "--target", "y", "-o", pp)
            want = cli_predictions(pp)  # printed with 9 digits: exact for float32
            with regnn.load_model(mp) as m:
                self.assertEqual(flat(m.predict(ds.features(), raw=True)), want)
                with m.scaler as sc:
                    self.assertEqual(sc.n_features, 10)
            m2, o2 = regnn.load_checkpoint(cp)
            with m2, o2:
                self.assertIsInstance(o2, regnn.Adam)
                self.assertGreater(o2.steps, 0)
                self.assertEqual(flat(m2.predict(ds.features(), raw=True)), want)

    def test_regnn_predict_reads_python_files(self):
        with TempDir() as d, regnn.Dataset.from_csv(DIABETES, "y") as ds:
            data, sc = ds.standardize("unit_norm", "zscore")
            with data, sc, regnn.Model(10, [regnn.Dense(16, "relu"), regnn.Dense(1)]) as m:
                m.init(seed=2).fit(data, "adam", epochs=2)
                m.attach_scaler(sc)
                mp, pp = os.path.join(d, "py.rgn"), os.path.join(d, "p.csv")
                m.save(mp)
                cli("predict", mp, DIABETES, "--target", "y", "-o", pp)
                self.assertEqual(cli_predictions(pp), flat(m.predict(ds.features(), raw=True)))


def small_model(seed=3):
    return regnn.Model(4, [regnn.Dense(8, "tanh", l2=1e-3, dropout=0.1),
                           regnn.Dense(1)]).init(seed=seed)


class TestModelFiles(unittest.TestCase):
    def test_round_trip_bytes_and_paths(self):
        x, y = make_data()
        with small_model() as m:
            m.fit(x, y, optimizer=regnn.Adam(), epochs=2, batch_size=16)
            want = flat(m.predict(x))
            blob = m.to_bytes()
            self.assertIsInstance(blob, bytes)
            self.assertEqual(blob[:8], b"\x89RGNN\r\n\x1a")  # docs/format.md
            with TempDir() as d:
                path = os.path.join(d, "m.rgn")
                m.save(path)
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), blob)
                for loaded in (regnn.load_model(path), regnn.Model.load(pathlib.Path(path)),
                               regnn.Model.from_bytes(blob), regnn.load_model(bytearray(blob))):
                    with loaded:
                        self.assertEqual(flat(loaded.predict(x)), want)
                        self.assertEqual([(l.units, l.activation_name, l.l2, l.dropout)
                                          for l in loaded.layers],
                                         [(8, "tanh", 1e-3, m.layers[0].dropout),
                                          (1, "linear", 0.0, 0.0)])
                        self.assertIsNone(loaded.scaler)

    def test_bad_input(self):
        with small_model() as m:
            blob = m.to_bytes()
        with self.assertRaises(regnn.FormatError) as cm:
            regnn.load_model(blob[:-1])
        self.assertTrue(cm.exception.message.startswith("regnn_model_load_mem: "),
                        cm.exception.message)
        with self.assertRaises(regnn.FormatError):
            regnn.load_model(b"x" * 100)
        with self.assertRaises(regnn.InvalidArgumentError):
            regnn.load_model(b"")
        with self.assertRaises(regnn.FormatError):  # a model file is not a checkpoint
            regnn.load_checkpoint(blob)
        with TempDir() as d:
            with self.assertRaises(regnn.FileError) as cm:
                regnn.load_model(os.path.join(d, "missing.rgn"))
            self.assertIn("missing.rgn", cm.exception.message)
        with self.assertRaises(TypeError):
            regnn.Model.from_bytes("m.rgn")
        with self.assertRaises(TypeError):
            regnn.load_model(42)
        with self.assertRaises(regnn.InvalidArgumentError):
            small_model().save("")

    def test_save_uninitialized_says_so(self):
        with regnn.Model(4, [regnn.Dense(1)]) as m, TempDir() as d:
            with self.assertRaises(regnn.StateError) as cm:
                m.save(os.path.join(d, "m.rgn"))
            self.assertEqual(cm.exception.message, "regnn_model_save: the model is not "
                             "initialized (call regnn_model_init)")
            self.assertEqual(os.listdir(d), [])


class TestScaler(unittest.TestCase):
    def test_attach_predict_raw_and_save(self):
        x, y = raw_data()
        with regnn.Dataset(x, y) as raw:
            scaled, sc = raw.standardize("zscore", "zscore")
        with scaled, sc, small_model() as m:
            m.fit(scaled, "adam", epochs=3, batch_size=16)
            self.assertIsNone(m.scaler)
            with self.assertRaises(regnn.StateError) as cm:
                m.predict(x, raw=True)
            self.assertIn("attach_scaler", cm.exception.message)
            m.attach_scaler(sc)
            with m.scaler as got:
                self.assertEqual(list(got.target_mean), list(sc.target_mean))
                self.assertEqual(list(got.feature_scale), list(sc.feature_scale))
            manual = flat(sc.inverse_targets(m.predict(sc.transform_features(x))))
            self.assertEqual(flat(m.predict(x, raw=True)), manual)
            self.assertEqual(flat(m.predict(x[0], raw=True)), manual[:1])  # one row, 1-D
            self.assertNotEqual(flat(m.predict(x)), manual)  # the default stays model units
            with regnn.load_model(m.to_bytes()) as back:
                self.assertEqual(flat(back.predict(x, raw=True)), manual)
                self.assertIsNotNone(back.scaler)
            if np is not None:
                out = np.empty((len(x), 1), np.float32)
                self.assertIs(m.predict(np.array(x), out=out, raw=True), out)
                self.assertEqual(flat(out), manual)
            m.attach_scaler(None)
            self.assertIsNone(m.scaler)

    def test_attach_wrong_shape(self):
        x, y = make_data()
        with regnn.Dataset([r[:3] for r in x], y) as ds, small_model() as m:
            sc = regnn.Scaler.fit(ds)
            with self.assertRaises(regnn.ShapeError) as cm:
                m.attach_scaler(sc)
            self.assertTrue(cm.exception.message.startswith("regnn_model_attach_scaler: "),
                            cm.exception.message)
            self.assertIsNone(m.scaler)
            with self.assertRaises(TypeError):
                m.attach_scaler("zscore")


class TestCheckpoints(unittest.TestCase):
    def resume_equals_uninterrupted(self, make_opt, through):
        x, y = make_data()
        with small_model() as a, make_opt() as oa:
            ha = a.fit(x, y, optimizer=oa, epochs=5, batch_size=16, validation_split=0.25)
            whole = flat(a.get_params())
        with small_model() as b, make_opt() as ob:
            hb1 = b.fit(x, y, optimizer=ob, epochs=2, batch_size=16, validation_split=0.25)
            m, o = through(b, ob)
        with m, o:
            self.assertIs(type(o), type(ob))
            self.assertIs(m.optimizer, o)
            self.assertEqual(o.steps, 2 * 3)
            hb2 = m.fit(x, y, epochs=3, batch_size=16, validation_split=0.25)  # m.optimizer
            self.assertEqual(o.steps, 5 * 3)
            self.assertEqual([bits(v) for v in flat(m.get_params())], [bits(v) for v in whole])
            self.assertEqual(hb1.history["loss"] + hb2.history["loss"], ha.history["loss"])
            self.assertEqual(hb1.history["val_mse"] + hb2.history["val_mse"],
                             ha.history["val_mse"])

    def test_resume_bytes_adam(self):
        self.resume_equals_uninterrupted(
            lambda: regnn.Adam(lr=0.01),
            lambda m, o: regnn.load_checkpoint(regnn.checkpoint_to_bytes(m, o)))

    def test_resume_file_sgd(self):
        with TempDir() as d:
            path = os.path.join(d, "run.ckpt")

            def through(m, o):
                regnn.save_checkpoint(m, o, path)
                return regnn.load_checkpoint(path)
            self.resume_equals_uninterrupted(
                lambda: regnn.SGD(learning_rate=0.05, momentum=0.9, nesterov=True), through)

    def test_checkpoint_from_a_callback(self):
        x, y = make_data()
        saved = []
        with small_model() as m, regnn.Adam() as o:
            def cb(epoch, history):
                saved.append(regnn.checkpoint_to_bytes(m, o))
            m.fit(x, y, optimizer=o, epochs=2, batch_size=32, callbacks=[cb])
            with regnn.load_checkpoint(saved[-1])[0] as last:
                self.assertEqual(flat(last.get_params()), flat(m.get_params()))
        self.assertEqual(len(saved), 2)
        with regnn.load_model(saved[0]) as first:  # a checkpoint also loads as a model
            self.assertEqual(first.n_inputs, 4)

    def test_checkpoint_arguments(self):
        with small_model() as m:
            with self.assertRaises(TypeError):
                regnn.save_checkpoint(m, "adam", "x.ckpt")
            with self.assertRaises(TypeError):
                regnn.checkpoint_to_bytes("model", regnn.Adam())
            with regnn.Model(4, [regnn.Dense(2), regnn.Dense(1)]).init() as other, \
                    regnn.Adam() as o:
                x, y = make_data()
                other.fit(x, y, optimizer=o)
                with self.assertRaises(regnn.ShapeError):  # bound to another parameter count
                    regnn.checkpoint_to_bytes(m, o)


if __name__ == "__main__":
    unittest.main()
