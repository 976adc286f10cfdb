#!/usr/bin/env python3
"""Run libregnn's benchmark workloads in PyTorch and print libregnn/PyTorch
speed ratios measured in the same run.

The libregnn figures come from `bench_train --csv` (run here, now); the PyTorch
side repeats the same shapes, batch sizes, Adam, MSE, L2 penalty, float32 and
thread counts. Usage: compare_torch.py --regnn build/openblas/bench/bench_train [--quick]
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import time

try:
    import torch
except ImportError:
    print("compare_torch: skipped, PyTorch is not installed (apt-get install python3-torch)")
    sys.exit(0)
import numpy as np

STUDY = [10, 128, 128, 128, 128, 128, 128, 1]
LARGE = [64, 512, 512, 512, 1]


def mlp(widths):
    layers = []
    for i in range(1, len(widths)):
        layers.append(torch.nn.Linear(widths[i - 1], widths[i]))
        if i + 1 < len(widths):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def penalty(model, lam):
    # Keras l2(lam) on every kernel, biases excluded: lam * sum(W^2).
    return lam * sum((m.weight ** 2).sum() for m in model if isinstance(m, torch.nn.Linear))


def train_epochs(model, opt, x, y, batch, epochs, lam=0.0, xv=None, yv=None):
    n = x.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
            if lam:
                loss = loss + penalty(model, lam)
            loss.backward()
            opt.step()
        if xv is not None:
            with torch.no_grad():
                float(torch.nn.functional.mse_loss(model(xv), yv) + (penalty(model, lam) if lam else 0))


def synthetic(rows, n_in, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(rows, n_in)).astype(np.float32)
    y = (np.sin(x * np.arange(1, n_in + 1)).sum(axis=1) / np.sqrt(n_in)).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y.reshape(-1, 1))


def epoch_seconds(widths, x, y, batch, epochs, reps):
    torch.manual_seed(1)
    model = mlp(widths)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    train_epochs(model, opt, x, y, batch, 1, lam=1e-4)  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        train_epochs(model, opt, x, y, batch, epochs, lam=1e-4)
        times.append((time.perf_counter() - t0) / epochs)
    return statistics.median(times)


def diabetes():
    path = os.path.join(os.path.dirname(__file__), "..", "examples", "data", "diabetes.csv")
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1]
    x = (x - x.mean(0)) / (x.std(0) * np.sqrt(len(x)))
    y = (y - y.mean()) / y.std()
    perm = np.random.default_rng(1).permutation(len(x))
    train = perm[45:]
    x, y = x[train].astype(np.float32), y[train].astype(np.float32).reshape(-1, 1)
    split = int(len(x) * (1 - 0.15))
    t = torch.from_numpy
    return t(x[:split]), t(y[:split]), t(x[split:]), t(y[split:])


def study_run_seconds():
    xt, yt, xv, yv = diabetes()
    t0 = time.perf_counter()
    for lam in (0.0, 1e-2):
        torch.manual_seed(1)
        model = mlp(STUDY)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        train_epochs(model, opt, xt, yt, 64, 100, lam=lam, xv=xv, yv=yv)
    return time.perf_counter() - t0


def regnn_figures(binary, quick):
    cmd = [binary, "--csv"] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {row[0]: float(row[1]) for row in csv.reader(out.splitlines()) if len(row) == 2}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--regnn", required=True, help="path to the bench_train binary")
    ap.add_argument("--quick", action="store_true", help="fewer rows for the large network")
    args = ap.parse_args()

    print(f"PyTorch {torch.__version__}; running libregnn's bench_train for the same workloads...")
    r = regnn_figures(args.regnn, args.quick)
    rows_big = 8192 if args.quick else 65536
    xs, ys = synthetic(337, 10, 5)
    xb, yb = synthetic(rows_big, 64, 6)
    cases = [("10-128x6-1", STUDY, xs, ys, 64, 20, 5), ("64-512x3-1", LARGE, xb, yb, 64, 1, 3),
             ("64-512x3-1", LARGE, xb, yb, 256, 1, 3), ("64-512x3-1", LARGE, xb, yb, 1024, 1, 3)]
    print()
    print(f"| {'workload':<38} | {'libregnn':>14} | {'PyTorch':>14} | {'libregnn / PyTorch':>19} |")
    print(f"|{'-' * 40}|{'-' * 16}|{'-' * 16}|{'-' * 21}|")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, widths, x, y, batch, epochs, reps in cases:
            key = f"train_samples_per_s.{name}.b{batch}.t{threads}"
            if key not in r:
                continue
            sps_torch = x.shape[0] / epoch_seconds(widths, x, y, batch, epochs, reps)
            label = f"train {name} batch {batch}, {threads} thr"
            print(f"| {label:<38} | {r[key]:>10.0f} s/s | {sps_torch:>10.0f} s/s | "
                  f"{r[key] / sps_torch:>18.2f}x |")
    torch.set_num_threads(1)
    t_torch = statistics.median(study_run_seconds() for _ in range(3))
    t_regnn = r["study_run_seconds"]
    print(f"| {'study run (2 x 100 epochs), 1 thread':<38} | {t_regnn:>12.3f} s | {t_torch:>12.3f} s | "
          f"{t_torch / t_regnn:>17.2f}x faster (target >= 4x) |")


if __name__ == "__main__":
    main()
