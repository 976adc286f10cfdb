# SPDX-License-Identifier: MIT
"""The study's regularization sweep over MPI processes, from Python (path shards).

    mpirun -np 2 python3 examples/mpi_path.py [--data examples/data/diabetes.csv]
        [--epochs 100] [--seeds 5] [--folds K] [--check]

Every process loads the diabetes data and trains its shard of the sweep (the runs r
with r % processes == rank: regnn.path_shard); rank 0 gathers the shards' bytes with
mpi4py and merges them (regnn.merge_path_shards) into the path one process computes,
then prints the chosen lambdas. --folds K chooses lambda by K-fold cross-validation
(cv.glmnet's rule) instead of the 15% validation split; its (lambda, fold, seed) runs
are sharded the same way. --check also runs the whole sweep on rank 0 with
regnn.regularization_path and reports whether every value but the seconds, the folds
and the chosen lambdas are the same bits. Needs python3-mpi4py and the regnn package
(PYTHONPATH=python in this tree, after make).
"""
import argparse
import sys

from mpi4py import MPI

import regnn

LAMBDAS = [0.0, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="examples/data/diabetes.csv")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--folds", type=int, default=0)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    comm = MPI.COMM_WORLD
    regnn.set_blas_threads(1)  # the bits of one process
    raw = regnn.Dataset.from_csv(args.data, targets="y")
    data, _ = raw.standardize("unit_norm", "zscore")
    model = regnn.Model(10, [regnn.Dense(128, "relu") for _ in range(6)] + [regnn.Dense(1)])
    sweep = dict(epochs=args.epochs, batch_size=64, seeds=args.seeds, seed=42, threads=1)
    if args.folds >= 2:
        sweep.update(folds=args.folds, fold_seed=7)
    else:
        sweep.update(validation_split=0.15)
    part = regnn.path_shard(model, data, LAMBDAS, comm.Get_rank(), comm.Get_size(), **sweep)
    parts = comm.gather(part, root=0)
    if comm.Get_rank() != 0:
        return 0
    path = regnn.merge_path_shards(parts, seed=sweep["seed"])
    print("%d processes, %d runs: best lambda %g, lambda_1se %g"
          % (comm.Get_size(), len(path.runs["seconds"]), path.best_lambda, path.lambda_1se))
    if not args.check:
        return 0
    one = regnn.regularization_path(model, data, LAMBDAS, **sweep)
    same = all([repr(v) for v in path.runs[k]] == [repr(v) for v in one.runs[k]]
               for k in path.runs if k != "seconds")
    same = same and (path.folds, path.best_index, path.index_1se) == (
        one.folds, one.best_index, one.index_1se)
    print("mpi_path.py check, %d processes%s: the path is %s one process's"
          % (comm.Get_size(), ", %d folds" % path.n_folds if path.n_folds > 1 else "",
             "bit-identical to" if same else "different from"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
