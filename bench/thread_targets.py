#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The target table of issue 13 (one model on every core) with a measured
column, from one `make bench` run.

Inputs, both written earlier in the same run: bench_threads' key,value figures
(--threads FILE: 2-thread/1-thread ratios of regnn_fit, the ceiling of two
independent one-thread fits, the study run, the bit-for-bit check) and, when
PyTorch is installed, compare_torch.py's comparison of the study run with each
side at its best thread count (--torch FILE, JSON). Python standard library only.
"""
import argparse
import json
import os
import sys

ROWS = [
    ("study net 10-128x6-1, batch 64", "10-128x6-1.b64", "0.81-0.96x", 1.4),
    ("64-512-512-512-1, batch 64", "64-512x3-1.b64", "1.19-1.22x", 1.5),
    ("64-512-512-512-1, batch 256", "64-512x3-1.b256", "1.34-1.57x", 1.75),
    ("64-512-512-512-1, batch 1024", "64-512x3-1.b1024", "1.61-1.80x", 1.85),
]


def kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) == 2:
                try:
                    out[parts[0]] = float(parts[1])
                except ValueError:  # kernels.*: the kernels that ran the workload
                    out[parts[0]] = parts[1]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", required=True, help="bench_threads --csv-file output")
    ap.add_argument("--torch", help="compare_torch.py --json-out output (optional)")
    args = ap.parse_args()
    t = kv(args.threads)
    if t.get("threads") != 2:
        print(f"thread_targets: the targets are for 2 threads; this run used {t.get('threads')}")
        return 0
    rows = []
    for name, key, before, target in ROWS:
        r, c = t.get(f"ratio.{key}"), t.get(f"ceiling.{key}")
        if r is None:
            continue
        rows.append((name, before, f">= {target}x", f"{r:.2f}x (ceiling {c:.2f}x) [{t.get(f'kernels.{key}', '?')}]",
                     "yes" if r >= target else "NO"))
    if args.torch and os.path.exists(args.torch):
        with open(args.torch) as f:
            j = json.load(f)
        rows.append(("study run vs PyTorch, each at its best thread count", "3.4-4.1x", ">= 5x",
                     f"{j['best_ratio']:.2f}x ({j['regnn_seconds']:.3f} s at {j['regnn_threads']} vs "
                     f"{j['torch_seconds']:.3f} s at {j['torch_threads']} thr)",
                     "yes" if j["best_ratio"] >= 5 else "NO"))
    else:
        rows.append(("study run vs PyTorch, each at its best thread count", "3.4-4.1x", ">= 5x",
                     "not measured: PyTorch is not installed (apt-get install python3-torch)", ""))
    hdr = ("workload", "issue 13 (before)", "target", "measured", "met")
    w = [max(len(r[i]) for r in rows + [hdr]) for i in range(5)]
    print("2 threads / 1 thread, regnn_fit, this run; ceiling: two independent one-thread fits at once")
    print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(hdr)) + " |")
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")
    print(f"bits identical at 1 and 2 threads: {'yes' if t.get('same_bits') == 1 else 'NO'}; "
          f"study run on 2 threads: {t['study_run_seconds.t1'] / t['study_run_seconds.tn']:.2f}x; "
          f"core-to-core hand-over of the study net's parameters: {t.get('handoff_us', float('nan')):.0f} us")
    return 0 if t.get("same_bits") == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
