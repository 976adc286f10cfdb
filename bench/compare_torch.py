#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run libregnn's benchmark workloads in PyTorch and print libregnn/PyTorch
speed ratios measured in the same run.

The libregnn figures come from `bench_train --csv` (run here, now); the PyTorch
side repeats the same shapes, batch sizes, Adam, MSE, L2 penalty, float32 and
thread counts.

Thread counts are pinned: each PyTorch measurement runs in a child process
whose environment sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
MKL_NUM_THREADS before torch is imported, and which calls
torch.set_num_threads(n) and torch.set_num_interop_threads(1); the child
reports the threads its process holds after training, so a "1 thread" row
that is not 1 thread shows.

The L2 penalty (Keras l2(lam): lam * sum(W^2) over the kernels, biases
excluded) is added in PyTorch either as a gradient term after backward()
(grad += 2 lam W, the same arithmetic libregnn does; the training rows use
this) or through autograd (the loss gets lam * sum(W^2)); the study row is
reported both ways and without any penalty.

Usage: compare_torch.py --regnn build/openblas/bench/bench_train [--quick]
       compare_torch.py --regnn-csv FILE (bench_train --csv-file FILE) [--quick]
"""
import argparse
import csv
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

STUDY = [10, 128, 128, 128, 128, 128, 128, 1]
LARGE = [64, 512, 512, 512, 1]
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
CHILD_TIMEOUT = 600  # seconds per child process


# ---- the child: PyTorch, pinned to its thread count ----

def child(threads, quick):
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    def mlp(widths):
        layers = []
        for i in range(1, len(widths)):
            layers.append(torch.nn.Linear(widths[i - 1], widths[i]))
            if i + 1 < len(widths):
                layers.append(torch.nn.ReLU())
        return torch.nn.Sequential(*layers)

    def kernels(model):
        return [m.weight for m in model if isinstance(m, torch.nn.Linear)]

    def penalty(model, lam):
        return lam * sum((w ** 2).sum() for w in kernels(model))

    def train_epochs(model, opt, x, y, batch, epochs, lam, l2, xv=None, yv=None):
        n = x.shape[0]
        ws = kernels(model)
        for _ in range(epochs):
            perm = torch.randperm(n)
            for s in range(0, n, batch):
                idx = perm[s:s + batch]
                opt.zero_grad(set_to_none=True)
                loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
                if lam and l2 == "autograd":
                    loss = loss + penalty(model, lam)
                loss.backward()
                if lam and l2 == "grad":
                    with torch.no_grad():
                        for w in ws:
                            w.grad.add_(w, alpha=2.0 * lam)
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
        train_epochs(model, opt, x, y, batch, 1, 1e-4, "grad")  # warm-up
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            train_epochs(model, opt, x, y, batch, epochs, 1e-4, "grad")
            times.append((time.perf_counter() - t0) / epochs)
        return statistics.median(times)

    def diabetes():
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "data",
                            "diabetes.csv")
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

    def study_run_seconds(lams, l2):
        xt, yt, xv, yv = diabetes()
        t0 = time.perf_counter()
        for lam in lams:
            torch.manual_seed(1)
            model = mlp(STUDY)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
            train_epochs(model, opt, xt, yt, 64, 100, lam, l2, xv=xv, yv=yv)
        return time.perf_counter() - t0

    out = {"torch": torch.__version__, "threads": threads, "gemm": torch_gemm(torch)}
    rows_big = 8192 if quick else 65536
    xs, ys = synthetic(337, 10, 5)
    xb, yb = synthetic(rows_big, 64, 6)
    cases = [("10-128x6-1", STUDY, xs, ys, 64, 20, 5), ("64-512x3-1", LARGE, xb, yb, 64, 1, 3),
             ("64-512x3-1", LARGE, xb, yb, 256, 1, 3), ("64-512x3-1", LARGE, xb, yb, 1024, 1, 3)]
    for name, widths, x, y, batch, epochs, reps in cases:
        out[f"train_samples_per_s.{name}.b{batch}"] = \
            x.shape[0] / epoch_seconds(widths, x, y, batch, epochs, reps)
    n = 1 if quick else 3
    out["study.grad"] = statistics.median(study_run_seconds((0.0, 1e-2), "grad") for _ in range(n))
    if threads == 1:
        out["study.autograd"] = statistics.median(study_run_seconds((0.0, 1e-2), "autograd")
                                                  for _ in range(n))
        out["study.none"] = statistics.median(study_run_seconds((0.0, 0.0), "none") for _ in range(n))
    with open("/proc/self/status") as f:
        out["process_threads"] = int(next(l for l in f if l.startswith("Threads:")).split()[1])
    out["torch_threads"] = torch.get_num_threads()
    print(json.dumps(out))


def torch_gemm(torch):
    """What runs PyTorch's float32 products on the CPU: its BLAS and the vector
    instructions it dispatches to, from torch.__config__.show()."""
    cfg = torch.__config__.show()
    blas = [x.split("=", 1)[1] for x in cfg.replace(",", " ").split() if x.startswith("BLAS_INFO=")]
    cap = [line.split(":", 1)[1].strip() for line in cfg.splitlines() if "CPU capability usage" in line]
    return f"BLAS {blas[0] if blas else '?'}, CPU capability {cap[0] if cap else '?'}"


def figures(lines):
    """bench_train's key,value lines: numbers as floats; text (kernels.*,
    openblas_core) as it is."""
    out = {}
    for row in csv.reader(lines):
        if len(row) == 2:
            try:
                out[row[0]] = float(row[1])
            except ValueError:
                out[row[0]] = row[1]
    return out


def run_child(threads, quick):
    env = dict(os.environ)
    for v in THREAD_VARS:
        env[v] = str(threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", str(threads)] + (["--quick"] if quick else [])
    try:
        res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        # e.g. OpenMP threads spinning on a machine busy with other work
        print(f"compare_torch: the {threads}-thread PyTorch child took over {CHILD_TIMEOUT} s; its rows are left out")
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


def regnn_figures(binary, quick):
    cmd = [binary, "--csv"] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return figures(out.splitlines())


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--regnn", help="path to the bench_train binary")
    ap.add_argument("--regnn-csv", help="bench_train's key,value output of this run, instead of running it")
    ap.add_argument("--quick", action="store_true", help="fewer rows for the large network")
    ap.add_argument("--json-out", help="write the best-thread-count study comparison here")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.quick)
        return
    if not args.regnn and not args.regnn_csv:
        ap.error("--regnn or --regnn-csv is required")
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("numpy") is None:
        print("compare_torch: skipped, PyTorch or numpy is not installed (apt-get install python3-torch)")
        return

    if args.regnn_csv:
        with open(args.regnn_csv) as f:
            r = figures(f)
        print(f"libregnn figures from {args.regnn_csv}; PyTorch in a child process per thread count...")
    else:
        print("running libregnn's bench_train, then PyTorch in a child process per thread count...")
        r = regnn_figures(args.regnn, args.quick)
    # 1 thread for every row; 2 for the study run at each side's best count.
    threads_list = [1] + ([2] if "study_run_seconds.t2" in r else [])
    tr = {t: run_child(t, args.quick) for t in threads_list}
    threads_list = [t for t in threads_list if tr[t] is not None]
    if 1 not in threads_list:
        return
    print("libregnn's kernels: " + "; ".join(f"{k.split('.', 1)[1]} {v}" for k, v in sorted(r.items())
                                              if k.startswith("kernels.")))
    print(f"PyTorch's products: {tr[1]['gemm']}")
    print(f"PyTorch {tr[1]['torch']}; thread pools pinned through {', '.join(THREAD_VARS)} "
          "and torch.set_num_threads; L2 added as a gradient term (grad += 2 lam W) unless stated")
    for t in threads_list:
        print(f"  {t}-thread child: torch.get_num_threads() = {tr[t]['torch_threads']}, "
              f"threads in the process after training = {tr[t]['process_threads']}")
    print()
    print(f"| {'workload':<54} | {'libregnn':>14} | {'PyTorch':>14} | {'libregnn / PyTorch':>19} |")
    print(f"|{'-' * 56}|{'-' * 16}|{'-' * 16}|{'-' * 21}|")
    for t in threads_list:
        for key in [k for k in tr[t] if k.startswith("train_samples_per_s.")]:
            ours = r.get(f"{key}.t{t}")
            if ours is None:
                continue
            label = f"train {key.split('.', 1)[1].replace('.b', ' batch ')}, {t} thr"
            print(f"| {label:<54} | {ours:>10.0f} s/s | {tr[t][key]:>10.0f} s/s | "
                  f"{ours / tr[t][key]:>18.2f}x |")
    t_with = r["study_run_seconds"]
    t_none = r.get("study_run_seconds.no_l2")
    rows = [("study run, lam 0 and 1e-2, L2 as gradient term", t_with, tr[1]["study.grad"]),
            ("study run, lam 0 and 1e-2, L2 through autograd", t_with, tr[1]["study.autograd"])]
    if t_none is not None:
        rows.append(("study run, lam 0 twice (no L2 term)", t_none, tr[1]["study.none"]))
    for label, ours, theirs in rows:
        print(f"| {label + ', 1 thr':<54} | {ours:>12.3f} s | {theirs:>12.3f} s | "
              f"{theirs / ours:>11.2f}x faster |")
    # Each side at its best thread count (issue 13): libregnn 1 or 2 model
    # threads, PyTorch 1 or 2 intra-op threads.
    ours_t = {1: t_with}
    if r.get("study_run_seconds.t2") is not None:
        ours_t[2] = r["study_run_seconds.t2"]
    theirs_t = {t: tr[t]["study.grad"] for t in threads_list if "study.grad" in tr[t]}
    bo, bt = min(ours_t, key=ours_t.get), min(theirs_t, key=theirs_t.get)
    label = f"study run, each at its best thread count ({bo} vs {bt})"
    print(f"| {label:<54} | {ours_t[bo]:>12.3f} s | {theirs_t[bt]:>12.3f} s | "
          f"{theirs_t[bt] / ours_t[bo]:>11.2f}x faster |")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"torch": tr[1]["torch"], "best_ratio": theirs_t[bt] / ours_t[bo],
                       "regnn_threads": bo, "regnn_seconds": ours_t[bo],
                       "torch_threads": bt, "torch_seconds": theirs_t[bt]}, f)
    print("(study run: 2 fits x 100 epochs, batch 64, 10-128x6-1, 337 rows with 15 % validation; "
          "targets: >= 4x at 1 thread, >= 5x at each side's best thread count)")


if __name__ == "__main__":
    main()
