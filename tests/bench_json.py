#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks one results file of a bench program (bench/benchreport.h) for
tests/test_bench.sh: the fields every run, row and end line must have, and
that each product's "library" kernel is the one docs/api.md ("Which kernel
computes a product") gives it, computed here from the documented rule:
every product on the built-in kernel unless REGNN_OPENBLAS_LARGE=1 and the
kernel is not avx512-fma, then OpenBLAS above m*n*k = 4,194,304.

Usage: bench_json.py FILE [KEY=VALUE...]: each KEY=VALUE must equal the run
line's field (a JSON value or a bare string). Prints one line per failure;
exits 1 when any. Python standard library only.
"""
import json
import sys

SMALL_MNK = 4194304


def expected(run, m, n, k):
    builtin = run["builtin_kernel"]
    large = run["REGNN_OPENBLAS_LARGE"] == "1" and run["blas"] == "openblas"
    if large and builtin != "avx512-fma" and m * n * k > SMALL_MNK:
        return "openblas:" + run["openblas_core"]
    return builtin


def check(path, wants):
    bad = []
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    if not lines or lines[0].get("type") != "run" or lines[-1].get("type") != "end":
        return ["%s: not a run line, rows, an end line" % path]
    run, rows, end = lines[0], lines[1:-1], lines[-1]
    for key in ("program", "version", "blas", "cpu", "online_cpus", "builtin_kernel", "builtin_only",
                "openblas_core", "openblas_threads", "openblas_coretype_removed", "loadavg_start"):
        if key not in run:
            bad.append("run line: no %r" % key)
    for key, v in (("loadavg_start", run.get("loadavg_start")), ("loadavg_end", end.get("loadavg_end"))):
        if not (isinstance(v, list) and len(v) == 3 and all(isinstance(x, (int, float)) for x in v)):
            bad.append("%s: not 3 load averages: %r" % (key, v))
    if (run.get("openblas_core") is None) != (run.get("blas") != "openblas"):
        bad.append("openblas_core %r in a %r build" % (run.get("openblas_core"), run.get("blas")))
    for kv in wants:
        key, want = kv.split("=", 1)
        try:
            want = json.loads(want)
        except ValueError:
            pass
        if run.get(key) != want:
            bad.append("run line: %s is %r, expected %r" % (key, run.get(key), want))
    if not rows:
        bad.append("no rows")
    for r in rows:
        if r.get("type") != "row" or not r.get("name") or "kernels" not in r or "values" not in r \
                or not isinstance(r.get("threads"), int):
            bad.append("row without type, name, kernels, threads or values: %r" % r)
            continue
        if run["program"] != "bench_gemm":
            continue
        kern, vals = r["kernels"], r["values"]
        if kern.get("builtin") != run["builtin_kernel"]:
            bad.append("%s: builtin column %r" % (r["name"], kern.get("builtin")))
        if run["blas"] == "openblas" and kern.get("OpenBLAS") != "openblas:" + run["openblas_core"]:
            bad.append("%s: OpenBLAS column %r" % (r["name"], kern.get("OpenBLAS")))
        if "m" in vals:
            want = expected(run, vals["m"], vals["n"], vals["k"])
            if kern.get("library") != want:
                bad.append("%s: library kernel %r, the rule gives %r" % (r["name"], kern.get("library"), want))
        else:  # a step: one kernel per layer, widths and batch from the name
            head = r["name"].split(":")[0]
            batch = int(head.split(",")[0].split()[1])
            w = [int(x) for x in head.split("widths")[1].split()]
            want = [expected(run, batch, w[i], w[i - 1]) for i in range(1, len(w))]
            if kern.get("library") != want:
                bad.append("%s: library kernels %r, the rule gives %r" % (r["name"], kern.get("library"), want))
    return bad


def main():
    bad = check(sys.argv[1], sys.argv[2:])
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
