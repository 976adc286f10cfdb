"""Path shards: path_shard / merge_path_shards give the one-call path, and
regnn.dask.regularization_path runs the shards on a dask.distributed LocalCluster of two
worker processes with the same bits."""

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


def template():
    return regnn.Model(4, [regnn.Dense(6, "relu"), regnn.Dense(1)])


def same_results(test, a, b):
    """Every value of two paths but the wall-clock seconds, bit for bit (repr)."""
    test.assertEqual(a.lambdas, b.lambdas)
    test.assertEqual(a.seeds, b.seeds)
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
        with self.assertRaises(regnn.UnsupportedError):  # the library's limit, reported
            regnn.path_shard(template(), (x, y), LAMBDAS, 0, 2, epochs=1, folds=3)


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
            with self.assertRaises(regnn.UnsupportedError):
                regnn.dask.regularization_path(client, template(), (x, y), LAMBDAS, folds=3)
        sys.stdout.write("\ndask: regularization path as %d shards on a LocalCluster of 2 worker "
                         "processes = the one-process path\n" % 2)



@unittest.skipIf(mpi4py is None or shutil.which("mpirun") is None,
                 "mpi4py or mpirun is missing (apt-get install python3-mpi4py openmpi-bin)")
class TestMpi4pyShards(unittest.TestCase):
    def test_example_merges_the_shards_of_two_processes(self):
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   REGNN_LIBRARY=os.path.realpath(regnn.library_path))
        if not INSTALLED:
            env["PYTHONPATH"] = PYDIR
        r = subprocess.run(["mpirun", "-np", "2", "--oversubscribe", sys.executable,
                            os.path.join(REPO, "examples", "mpi_path.py"), "--epochs", "2",
                            "--seeds", "2", "--check",
                            "--data", os.path.join(REPO, "examples", "data", "diabetes.csv")],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("mpi_path.py check, 2 processes: the path is bit-identical to one "
                      "process's", r.stdout)


if __name__ == "__main__":
    unittest.main()
