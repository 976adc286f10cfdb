# SPDX-License-Identifier: MIT
"""Path shards: path_shard / merge_path_shards give the one-call path, cross-validated
or not, and regnn.dask.regularization_path runs the shards on a dask.distributed
LocalCluster of two worker processes with the same bits."""

import os
import shutil
import subprocess
import sys
import unittest

from _support import REPO, PYDIR, INSTALLED, make_data, np, regnn

try:
    import mpi4py
except ImportError:
    mpi4py = None

try:
    import distributed
    from distributed import Client, LocalCluster
except ImportError:
    distributed = None

LAMBDAS = [0.0, 1e-3, 1e-2]
SETTINGS = dict(epochs=4, batch_size=16, seeds=2, validation_split=0.25, threads=1)
# A cross-validated sweep: 3 lambdas x 3 folds x 2 seeds = 18 runs.
CV_SETTINGS = dict(epochs=3, batch_size=16, seeds=2, folds=3, fold_seed=7, threads=1)


def template():
    return regnn.Model(4, [regnn.Dense(6, "relu"), regnn.Dense(1)])


def same_results(test, a, b):
    """Every value of two paths but the wall-clock seconds, bit for bit (repr)."""
    test.assertEqual(a.lambdas, b.lambdas)
    test.assertEqual(a.seeds, b.seeds)
    test.assertEqual((a.n_folds, a.folds), (b.n_folds, b.folds))
    test.assertEqual(repr(a.baseline_mse), repr(b.baseline_mse))
    test.assertEqual((a.best_lambda, a.lambda_1se), (b.best_lambda, b.lambda_1se))
    for stat in ("best_val_mse", "final_val_mse"):
        for rule in ("min", "1se"):
            test.assertEqual(a.select(stat, rule), b.select(stat, rule), (stat, rule))
    test.assertEqual(len(a.table), len(b.table))
    for ra, rb in zip(a.table, b.table):  # summaries (cv.glmnet's cvm and cvsd with folds)
        test.assertEqual(sorted(ra), sorted(rb))
        for key in ra:
            if not key.startswith("seconds"):
                test.assertEqual(repr(ra[key]), repr(rb[key]), key)
    for name in a.runs:
        if name != "seconds":
            test.assertEqual([repr(v) for v in a.runs[name]], [repr(v) for v in b.runs[name]],
                             name)
    test.assertEqual((a.best_index, a.index_1se), (b.best_index, b.index_1se))
    test.assertEqual(sorted(a.histories), sorted(b.histories))
    for key, h in a.histories.items():
        for metric in h.history:
            if metric != "seconds":
                test.assertEqual([repr(v) for v in h.history[metric]],
                                 [repr(v) for v in b.histories[key].history[metric]])


class TestShards(unittest.TestCase):
    def setUp(self):
        regnn.set_blas_threads(1)

    def test_merged_shards_are_the_one_call_path(self):
        x, y = make_data(64, 4)
        one = regnn.regularization_path(template(), (x, y), LAMBDAS, seed=5, **SETTINGS)
        parts = [regnn.path_shard(template(), (x, y), LAMBDAS, i, 4, seed=5, **SETTINGS)
                 for i in range(4)]
        same_results(self, regnn.merge_path_shards(parts[::-1], seed=5), one)
        self.assertEqual(regnn.merge_path_shards(parts, seed=5).seeds, [5, 6])

    def test_bad_parts_raise_the_library_errors(self):
        x, y = make_data(64, 4)
        parts = [regnn.path_shard(template(), (x, y), LAMBDAS, i, 2, **SETTINGS)
                 for i in range(2)]
        with self.assertRaises(regnn.InvalidArgumentError):  # a run in no part
            regnn.merge_path_shards(parts[:1])
        with self.assertRaises(regnn.InvalidArgumentError):  # runs in two parts
            regnn.merge_path_shards([parts[0], parts[0], parts[1]])
        damaged = bytearray(parts[1])
        damaged[len(damaged) // 2] ^= 0x04
        with self.assertRaises(regnn.FormatError):
            regnn.merge_path_shards([parts[0], bytes(damaged)])

    def test_cross_validated_shards_merge_to_the_one_call_path(self):
        x, y = make_data(60, 4)
        one = regnn.regularization_path(template(), (x, y), LAMBDAS, seed=3, **CV_SETTINGS)
        self.assertEqual((one.n_folds, len(one.folds), len(one.runs["best_val_mse"])),
                         (3, 60, 18))
        parts = [regnn.path_shard(template(), (x, y), LAMBDAS, i, 4, seed=3, **CV_SETTINGS)
                 for i in range(4)]
        merged = regnn.merge_path_shards([parts[2], parts[0], parts[3], parts[1]], seed=3)
        same_results(self, merged, one)
        self.assertEqual(merged.seeds, [3, 4])
        # More rows than the first buffer _fold_of_rows tries: the folds are still whole.
        x, y = make_data(2500, 4)
        big = dict(CV_SETTINGS, epochs=1, seeds=1, folds=2, batch_size=256)
        one = regnn.regularization_path(template(), (x, y), [0.0], **big)
        parts = [regnn.path_shard(template(), (x, y), [0.0], i, 2, **big) for i in range(2)]
        same_results(self, regnn.merge_path_shards(parts), one)
        self.assertEqual(len(one.folds), 2500)

    def test_cross_validated_parts_of_other_folds_are_refused(self):
        x, y = make_data(60, 4)
        a = regnn.path_shard(template(), (x, y), LAMBDAS, 0, 2, **CV_SETTINGS)
        b = regnn.path_shard(template(), (x, y), LAMBDAS, 1, 2, **dict(CV_SETTINGS, fold_seed=8))
        with self.assertRaises(regnn.ShapeError):  # another fold assignment: another sweep
            regnn.merge_path_shards([a, b])
        plain = regnn.path_shard(template(), (x, y), LAMBDAS, 1, 2, **SETTINGS)
        with self.assertRaises(regnn.ShapeError):  # a part of a sweep without folds
            regnn.merge_path_shards([a, plain])


@unittest.skipIf(distributed is None,
                 "dask.distributed is not installed (apt-get install python3-distributed)")
@unittest.skipIf(np is None, "the cluster test runs once, in the pass with numpy")
class TestDask(unittest.TestCase):
    def test_local_cluster_of_two_processes_gives_the_one_process_path(self):
        import regnn.dask
        regnn.set_blas_threads(1)
        x, y = make_data(64, 4)
        one = regnn.regularization_path(template(), (x, y), LAMBDAS, **SETTINGS)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            self.assertEqual(len(client.scheduler_info()["workers"]), 2)
            with regnn.Dataset(x, y) as train:
                path = regnn.dask.regularization_path(client, template(), train, LAMBDAS,
                                                      **SETTINGS)
            same_results(self, path, one)
            cv_one = regnn.regularization_path(template(), (x, y), LAMBDAS, **CV_SETTINGS)
            cv = regnn.dask.regularization_path(client, template(), (x, y), LAMBDAS,
                                                shards=3, **CV_SETTINGS)
            same_results(self, cv, cv_one)
            self.assertEqual(cv.n_folds, 3)
        sys.stdout.write("\ndask: regularization path as %d shards on a LocalCluster of 2 worker "
                         "processes = the one-process path\n" % 2)
        sys.stdout.write("dask: cross-validated path (%d folds) as %d shards on a LocalCluster "
                         "of 2 worker processes = the one-process path\n" % (3, 3))



@unittest.skipIf(mpi4py is None or shutil.which("mpirun") is None,
                 "mpi4py or mpirun is missing (apt-get install python3-mpi4py openmpi-bin)")
class TestMpi4pyShards(unittest.TestCase):
    def run_example(self, *args):
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   REGNN_LIBRARY=os.path.realpath(regnn.library_path))
        if not INSTALLED:
            env["PYTHONPATH"] = PYDIR
        r = subprocess.run(["mpirun", "-np", "2", "--oversubscribe", sys.executable,
                            os.path.join(REPO, "examples", "mpi_path.py"), "--epochs", "2",
                            "--seeds", "2", "--check",
                            "--data", os.path.join(REPO, "examples", "data", "diabetes.csv")]
                           + list(args),
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout)
        return r.stdout

    def test_example_merges_the_shards_of_two_processes(self):
        self.assertIn("mpi_path.py check, 2 processes: the path is bit-identical to one "
                      "process's", self.run_example())

    def test_example_merges_a_cross_validated_sweep_of_two_processes(self):
        out = self.run_example("--folds", "3", "--seeds", "1")
        self.assertIn("2 processes, 18 runs:", out)  # 6 lambdas x 3 folds x 1 seed
        self.assertIn("mpi_path.py check, 2 processes, 3 folds: the path is bit-identical to "
                      "one process's", out)


if __name__ == "__main__":
    unittest.main()
