#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The target table of issue 15 with a measured column, from one `make bench` run.

Inputs (all measured in this run): bench_train's key,value figures of each build
(--train NAME=FILE, NAME openblas or builtin), this core's fp32 peak from
bench_peak (--peak BIN), and the whole study from bench_path of each build
(--path NAME=BIN, run here). Python standard library only.

Peak: bench_peak measures the FMA throughput of AVX2 (8 lanes) and, when the
CPU has it, AVX-512 (16 lanes) with 12 independent accumulators; the best of 9
runs is the peak in GFLOP/s (2 flops per lane per FMA). It also measures the
clock with a chain of dependent integer adds (1 per cycle) and prints
flops/cycle, for reference only: the peak does not depend on it.
A training sample costs 6 x (weights) flops (forward, weight gradient, input
gradient), as in bench_train.

Each build's figures name the kernels that ran its products (bench_train's
kernels.* lines, per layer when they differ); a built-in / OpenBLAS row where
no product of the OpenBLAS build ran on OpenBLAS (the library keeps products
up to its size on the built-in kernel, docs/api.md) says so instead of calling
the ratio a comparison of built-in and OpenBLAS.
"""
import argparse
import re
import subprocess
import sys

STUDY_W = sum(a * b for a, b in zip([10, 128, 128, 128, 128, 128, 128], [128, 128, 128, 128, 128, 128, 1]))
S = "10-128x6-1"
L = "64-512x3-1"


def kv(lines):
    out = {}
    for line in lines:
        parts = line.strip().split(",")
        if len(parts) == 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                out[parts[0]] = parts[1]
    return out


def pairs(items):
    return dict(i.split("=", 1) for i in items or [])


def run_path(binary, seeds):
    res = subprocess.run([binary, "examples/data/diabetes.csv", "100", str(seeds)], check=True,
                         capture_output=True, text=True).stdout
    ser = float(re.search(r"serial\s+\(1 thread\):\s+([\d.]+) s", res).group(1))
    par = re.search(r"parallel \((\d+) threads\):\s+([\d.]+) s", res)
    same = "bit-identical: yes" in res
    kern = re.search(r"kernels (\S+)", res)
    return ser, int(par.group(1)), float(par.group(2)), same, kern.group(1) if kern else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", action="append", help="NAME=FILE: bench_train --csv output of a build")
    ap.add_argument("--peak", help="bench_peak binary")
    ap.add_argument("--path", action="append", help="NAME=BIN: bench_path of a build")
    ap.add_argument("--path-seeds", type=int, default=3)
    args = ap.parse_args()
    tr = {}
    for name, f in pairs(args.train).items():
        with open(f) as fh:
            tr[name] = kv(fh)
    peak = kv(subprocess.run([args.peak], check=True, capture_output=True, text=True).stdout.splitlines()) \
        if args.peak else {}
    paths = {n: run_path(b, args.path_seeds) for n, b in pairs(args.path).items()}
    both = "openblas" in tr and "builtin" in tr

    rows = []

    def row(fig, today, target, value, met):
        rows.append((fig, today, target, value, "" if met is None else ("yes" if met else "NO")))

    def sps(build, net, b):
        return tr.get(build, {}).get(f"train_samples_per_s.{net}.b{b}.t1")

    def kernels(build, net, b):
        return str(tr.get(build, {}).get(f"kernels.{net}.b{b}", "?"))

    for net, b, today, tgt in ((S, 64, "0.10x", 0.9), (L, 256, "0.08-0.09x", 0.8), (L, 1024, "0.08-0.09x", 0.8)):
        fig = f"built-in / OpenBLAS, {'study net' if net == S else '64-512^3-1'} training, batch {b}"
        if both:
            x, y = sps("builtin", net, b), sps("openblas", net, b)
            kx, ky = kernels("builtin", net, b), kernels("openblas", net, b)
            value = f"{x / y:.2f}x ({x:.0f} [{kx}] / {y:.0f} [{ky}] samples/s)"
            if "openblas" not in ky:
                row(fig, today, f">= {tgt}x", value + ": no product ran on OpenBLAS, not built-in vs OpenBLAS",
                    None)
            else:
                row(fig, today, f">= {tgt}x", value, x / y >= tgt)
        else:
            row(fig, today, f">= {tgt}x", "n/a: needs both builds (OpenBLAS absent)", None)

    best = max(tr, key=lambda n: sps(n, S, 64) or 0)
    s = sps(best, S, 64)
    gf = 6.0 * STUDY_W * s * 1e-9
    isa = "avx512" if str(peak.get("kernel", "")).startswith("avx512") else "avx2"
    pk, p2 = peak.get(f"peak_gflops.{isa}"), peak.get("peak_gflops.avx2")
    if pk:
        pct = 100 * gf / pk
        value = f"{s / 1e3:.0f} k ({best} [{kernels(best, S, 64)}]), {gf:.1f} GFLOP/s = {pct:.0f} % of the {isa} peak {pk:.0f} GFLOP/s"
        if isa != "avx2" and p2:
            value += f" (AVX2+FMA peak {p2:.0f})"
        met = s >= 110e3 and pct >= 55
    else:
        value, met = f"{s / 1e3:.0f} k ({best} [{kernels(best, S, 64)}]), {gf:.1f} GFLOP/s (no peak estimate on this CPU)", s >= 110e3
    row("study net training, best build, samples/s (1 thread)", "78-89 k (41-48 %)", ">= 110 k (>= 55 %)",
        value, met)

    pr = {n: tr[n].get("predict_one_row_us") for n in tr}
    value = ", ".join(f"{n} [{tr[n].get('kernels.predict_one_row', '?')}] {v:.2f} us"
                      for n, v in sorted(pr.items()))
    row("one-row predict, study net", "4.3-8 us", "<= 4 us", value, min(pr.values()) <= 4.0)

    row("`make demo` BLAS=builtin vs OpenBLAS, wall", "122 s vs ~30 s", "<= 1.3x",
        "not run here: docs/times.md (make times)", None)

    if both:
        a, b = tr["builtin"]["study_run_seconds"], tr["openblas"]["study_run_seconds"]
        ka, kb = (tr[n].get("kernels.study_run", "?") for n in ("builtin", "openblas"))
        row("study run (2 fits x 100 epochs), built-in / OpenBLAS time", "", "",
            f"{a / b:.2f}x ({a:.2f} s [{ka}] / {b:.2f} s [{kb}])", None)
    if len(paths) == 2 and both:
        (sb, cb, pb, okb, kb), (so, co, po, oko, ko) = paths["builtin"], paths["openblas"]
        same = ": the same kernels, not built-in vs OpenBLAS" if kb == ko else ""
        row(f"whole study (bench_path, 6 lambdas x {args.path_seeds} seeds), serial, built-in / OpenBLAS",
            "", "", f"{sb / so:.2f}x ({sb:.1f} s [{kb}] / {so:.1f} s [{ko}]){same}", None)
        row(f"the same, parallel ({cb} threads), built-in / OpenBLAS", "", "",
            f"{pb / po:.2f}x ({pb:.1f} s / {po:.1f} s); bit-identical to serial: "
            f"{'yes' if okb and oko else 'NO'}", None)
    else:
        for n, (ser, c, par, ok, k) in paths.items():
            row(f"whole study (bench_path, 6 lambdas x {args.path_seeds} seeds), {n} [{k}]", "", "",
                f"serial {ser:.1f} s, parallel ({c} threads) {par:.1f} s", None)

    print(f"1 thread; ratios are built-in / OpenBLAS throughput (> 1: built-in faster) unless marked time")
    for n in sorted(tr):
        print(f"{n} build: OpenBLAS core {tr[n].get('openblas_core', '?')}")
    if peak:
        print(f"peak: FMA throughput of the built-in kernel's vector width, measured by bench_peak (best of 9); clock {peak.get('clock_ghz', 0):.2f} GHz "
              f"by a dependent-add chain, "
              + ", ".join(f"{k.split('.')[1]} {v:.1f} flops/cycle" for k, v in peak.items()
                          if k.startswith("fma_flops_per_cycle")) + f"; built-in kernel {peak.get('kernel')}")
    w = [max(len(r[i]) for r in rows + [("figure", "issue 15 (before)", "target", "measured", "met")])
         for i in range(5)]
    hdr = ("figure", "issue 15 (before)", "target", "measured", "met")
    print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(hdr)) + " |")
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
