# SPDX-License-Identifier: MIT
"""Data-parallel training of the study's network over MPI processes, from Python.

    mpirun -np 2 python3 examples/mpi_fit.py [--data examples/data/diabetes.csv]
        [--epochs 100] [--batch 64] [--check]

Every process loads the diabetes data and builds the same network (Dense(128, relu)
x 6 -> Dense(1), L2 1e-3 on every kernel, seed 42); regnn.mpi_fit trains it with each
process computing its part of every batch of 64 rows (mpi4py carries the sums).
Rank 0 prints the final losses. --check also trains the network in one process
with model.fit and reports whether the weights are the same bits (they are when
the batch size has one shard per process: batch 64 on 2 processes).
Needs python3-mpi4py and python3-numpy, and the regnn package (PYTHONPATH=python
in this tree, after make).
"""
import argparse
import sys

from mpi4py import MPI

import regnn


def network():
    model = regnn.Model(10, [regnn.Dense(128, "relu", l2=1e-3) for _ in range(6)]
                        + [regnn.Dense(1, l2=1e-3)])
    model.init(seed=42)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="examples/data/diabetes.csv")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    comm = MPI.COMM_WORLD
    regnn.set_blas_threads(1)
    raw = regnn.Dataset.from_csv(args.data, targets="y")
    scaler = regnn.Scaler.fit(raw, features="unit_norm", targets="zscore")
    data = scaler.transform(raw)
    fit = dict(epochs=args.epochs, batch_size=args.batch, validation_split=0.15)
    model = network()
    history = regnn.mpi_fit(comm, model, data, **fit)
    ok = True
    if comm.Get_rank() == 0:
        print("%d processes, batch %d, %d epochs: loss %.6f, val_loss %.6f"
              % (comm.Get_size(), args.batch, args.epochs, history["loss"][-1],
                 history["val_loss"][-1]))
    if args.check:
        alone = network()
        alone.fit(data, **fit)
        same = list(alone.get_params()) == list(model.get_params())
        everywhere = comm.allreduce(1 if same else 0, op=MPI.MIN) == 1
        if comm.Get_rank() == 0:
            print("mpi_fit.py check, %d processes: weights %s model.fit in one process"
                  % (comm.Get_size(), "bit-identical to" if everywhere else "differ from"))
        ok = everywhere
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
