#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerate, or check, every number in the docs that comes from a run.

Usage: scripts/docs-numbers.py --build build/builtin [--update] [--root DIR]
           [--kernel "avx512-fma 1"] [--cache DIR]

`make docs-numbers` runs it with --update (rewrites the docs and copies the
figures); `make check` (check-docs-numbers in mk/docs.mk) runs it without:
it reruns the runs below and exits 1, naming the place, when a number in the
docs differs from what they give. Python 3 standard library only.

What is generated, from which run (RUNS holds each command, once):
- blocks between `<!-- regnn:begin NAME -->` and `<!-- regnn:end NAME -->`
  (tables and program output) are rewritten whole;
- claims (CLAIMS): numbers inside prose, found by the text around them ({}
  marks a number, {w} words), are rewritten in place;
- docs/figures/*.svg are the figures of the runs FIGURES names, byte for byte.

Exactness. The same seed gives the same bits on the same arithmetic, and the
arithmetic is the GEMM kernel the CPU picks (avx512-fma, avx2-fma, portable),
plus OpenBLAS for large products when that kernel is not avx512-fma. The
signature of the arithmetic that made the docs is recorded in the
`provenance` block of docs/study.md. Where this machine's signature is the
recorded one, every run-derived number must be equal as printed; where it
differs, those numbers are not compared (the check says so) and only the
rest is: the version, and the copies of docs/times.md.

Timings: the times quoted from docs/times.md (written by `make times`,
which takes minutes and so is not rerun here) must equal its ranges rounded
to whole seconds; a time measured here (TIMED claims: the run's CPU seconds
per core of the quote) must be within a factor TIME_TOLERANCE of the quoted
one, either way.

Runs are cached in the build folder (--cache, default BUILD/docs-numbers),
keyed by the command, the bytes of the program, the library and the data,
and the signature: with the same bits in, a rerun gives the same bits out.
"""

import argparse
import csv
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

TIME_TOLERANCE = 4.0
CACHE_FORMAT = "2"  # changes when what a cached run holds changes
DATA = "examples/data/diabetes.csv"
DOCS = ["README.md", "docs/study.md", "docs/cli.md", "examples/README.md"]
# (run, figure): docs/figures/FIGURE is that run's file, byte for byte
FIGURES = [("study", "study.svg"), ("study", "lambda_sweep.svg"),
           ("regularizers", "regularizers.svg")]

# name -> (program, arguments). The program is relative to --build;
# OUT is replaced by the run's output folder.
FIT_SETTINGS = [
    ("", []),
    ("--l2 1e-2", ["--l2", "1e-2"]),
    ("--scale zscore", ["--scale", "zscore"]),
    ("--scale zscore --l2 1e-2", ["--scale", "zscore", "--l2", "1e-2"]),
    ("--scale zscore --l2 3e-2", ["--scale", "zscore", "--l2", "3e-2"]),
]
RUNS = {
    # make demo's run, with the cross-validation on all five seeds
    "study": ("examples/diabetes", ["--cv-seeds", "5", "--out", "OUT"]),
    "study3": ("examples/diabetes", ["--seeds", "3", "--cv", "0", "--out", "OUT"]),
    "dropout": ("examples/diabetes", ["--lambdas", "1e-5", "--dropout", "0.3", "--cv", "0",
                                      "--out", "OUT"]),
    "es": ("examples/diabetes", ["--lambdas", "1e-8", "--dropout", "0.2", "--early-stopping",
                                 "2", "--cv", "0", "--out", "OUT"]),
    # make demo's comparison of regularizers
    "regularizers": ("examples/regularizers", ["--out", "OUT"]),
    "path": ("tools/regnn", ["path", DATA, "--target", "y", "--lambdas", "0,1e-3,1e-2,3e-2",
                             "--seeds", "3"]),
    "info": ("tools/regnn", ["info", "OUT/model.rgn"]),
}
# docs/cli.md's worked example on a public data set (tests/data/README.md): the
# sweep with the grid from the data, then fit at its one-standard-error choice.
GRUNFELD = ["tests/data/grunfeld.csv", "--target", "invest", "--drop", "firm"]
GRUNFELD_L2 = "1.3e-4"  # the sweep's choice; block_grunfeld_fit checks it
RUNS["grunfeld-path"] = ("tools/regnn", ["path"] + GRUNFELD + ["--seeds", "3"])
RUNS["grunfeld-fit"] = ("tools/regnn", ["fit"] + GRUNFELD + ["--l2", GRUNFELD_L2])
for _i, (_label, _args) in enumerate(FIT_SETTINGS):
    for _seed in range(1, 6):
        RUNS["fit%d_seed%d" % (_i, _seed)] = (
            "tools/regnn", ["fit", DATA, "--target", "y", "--seed", str(_seed)] + _args +
            (["-o", "OUT/model.rgn"] if (_i, _seed) == (1, 1) else []))


class Fail(Exception):
    pass


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_timed(argv, cwd, folder, limit=1800):
    """Runs argv with its output in folder/stdout and folder/stderr; returns its
    exit status and the CPU seconds it used (user + system, all its threads),
    which depend on the machine's speed but not on its core count or load.
    Killed after limit seconds."""
    with open(os.path.join(folder, "stdout"), "wb") as out, \
            open(os.path.join(folder, "stderr"), "wb") as err:
        p = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
        timer = threading.Timer(limit, p.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode < 0:
        raise Fail("%s was killed (signal %d%s)" % (" ".join(argv), -p.returncode,
                                                   ", over %d s" % limit if p.returncode == -9 else ""))
    return p.returncode, usage.ru_utime + usage.ru_stime


class Runner:
    """Runs RUNS on demand, each once, through the cache."""

    def __init__(self, root, build, cache, signature, version, recorded):
        self.root, self.build, self.cache, self.signature = root, build, cache, signature
        # what the provenance block states: this version, and the arithmetic
        # the docs' numbers come from
        self.version, self.recorded = version, recorded
        self.done = {}
        lib = os.path.realpath(os.path.join(build, "lib", "libregnn.so"))
        self.inputs = {"lib": sha(lib), "data": sha(os.path.join(root, DATA))}

    def key(self, name):
        prog, args = RUNS[name]
        parts = [CACHE_FORMAT, self.signature, self.inputs["lib"], self.inputs["data"], prog, json.dumps(args),
                 sha(os.path.join(self.build, prog))]
        if name == "info":  # reads the model fit1_seed1 saved
            parts.append(self.key("fit1_seed1"))
        parts += [sha(os.path.join(self.root, a)) for a in args if a.startswith("tests/data/")]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]

    def run(self, name):
        if name in self.done:
            return self.done[name]
        if name == "info":
            self.run("fit1_seed1")
        key = self.key(name)
        out = os.path.join(self.cache, name + "-" + key)
        if not os.path.isfile(os.path.join(out, "result.json")):
            prog, args = RUNS[name]
            tmp = tempfile.mkdtemp(dir=self.cache, prefix=name + ".tmp")
            src = self.run("fit1_seed1")["dir"] if name == "info" else tmp
            argv = [os.path.join(self.build, prog)] + [a.replace("OUT", src) for a in args]
            rc, cpu = run_timed(argv, self.root, tmp)
            with open(os.path.join(tmp, "stdout"), encoding="utf-8") as f:
                stdout = f.read().replace(src, "OUT")
            if rc != 0:
                with open(os.path.join(tmp, "stderr"), encoding="utf-8", errors="replace") as f:
                    err = f.read()
                shutil.rmtree(tmp, ignore_errors=True)
                raise Fail("%s exited %d:\n%s" % (" ".join(argv), rc, err))
            with open(os.path.join(tmp, "result.json"), "w") as f:
                json.dump({"stdout": stdout, "cpu_seconds": cpu}, f)
            shutil.rmtree(out, ignore_errors=True)
            os.rename(tmp, out)
            for old in glob.glob(os.path.join(self.cache, name + "-*")):
                if old != out:  # the run's results for other inputs
                    shutil.rmtree(old, ignore_errors=True)
        with open(os.path.join(out, "result.json")) as f:
            res = json.load(f)
        res["dir"] = out
        self.done[name] = res
        return res

    def run_all(self, names, jobs=2):
        # The studies use every core themselves; the short fits run two at a time.
        todo = [n for n in names if n not in self.done]
        with ThreadPoolExecutor(max_workers=jobs) as ex:
            list(ex.map(self.run, [n for n in todo if n.startswith("fit")]))
        for n in todo:
            self.run(n)

    def file(self, name, rel):
        with open(os.path.join(self.run(name)["dir"], rel), encoding="utf-8") as f:
            return f.read()

    def csv(self, name, rel):
        return list(csv.DictReader(self.file(name, rel).splitlines()))


# ---- formatting -------------------------------------------------------------

def lam(x):
    """1e-2 style, as the docs write a lambda."""
    x = float(x)
    if x == 0:
        return "0"
    m, e = ("%.0e" % x).split("e")
    return "%se%d" % (m, int(e))


def f3(x):
    return "%.3f" % float(x)


def g3(x):
    """Three significant digits, trailing zeros kept."""
    return "%#.3g" % float(x)


def row(rows, **want):
    for r in rows:
        if all(r[k] == v for k, v in want.items()):
            return r
    raise Fail("no row with %s" % want)


def unreg(r, run="study"):
    return row(r.csv(run, "sweep.csv"), unregularized="1")


def best(r, run="study"):
    return row(r.csv(run, "sweep.csv"), best="1")


def md_rows(text):
    """Data rows of the first Markdown table in text, as lists of cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"^\|[-:| ]+\|$", line):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]


def fit_result(r, i, seed):
    out = r.run("fit%d_seed%d" % (i, seed))["stdout"]
    m = re.search(r"diagnosis: ([a-z ]+):", out)
    f = re.search(r"final train MSE ([0-9.e+-]+), val MSE ([0-9.e+-]+)", out)
    t = re.search(r"test MSE ([0-9.e+-]+) .*y RMSE ([0-9.e+-]+)", out)
    if not (m and f and t):
        raise Fail("cannot read regnn fit's output:\n" + out)
    return {"verdict": m.group(1), "train": f.group(1), "val": f.group(2),
            "test": t.group(1), "rmse": t.group(2)}


# ---- blocks -----------------------------------------------------------------

def block_lambda_table(r):
    table = r.file("study", "lambda_table.md").split("\n\n")[0].strip()
    return table


def block_regularizers(r):
    return r.file("regularizers", "regularizers.md").strip()


def block_provenance(r):
    return ("The numbers and figures on this page come from `make docs-numbers`\n"
            "(scripts/docs-numbers.py, which `make check` reruns to compare), with\n"
            "libregnn %s on the `%s` GEMM arithmetic, the same bits on every\n"
            "CPU ([reproducibility](reproducibility.md)). Another arithmetic\n"
            "(`REGNN_OPENBLAS_LARGE=1` on a CPU without AVX-512) gives slightly\n"
            "different digits but the same picture." % (r.version, r.recorded))


def block_cv_seed1(r):
    out = r.run("study")["stdout"]
    m = re.search(r"^seed 1: .*?(?=^\n|^seed 2:)", out, flags=re.S | re.M)
    if not m:
        raise Fail("no seed 1 section in the study's output")
    lines = [ln.rstrip() for ln in m.group(0).rstrip().splitlines()]
    return "```text\n" + "\n".join(lines) + "\n```"


def block_cv_table(r):
    rows = r.csv("study", "cv.csv")
    seeds = sorted({int(x["seed"]) for x in rows})
    out = ["| seed | tail split λ (test MSE) | CV `lambda.min` (test MSE) | CV `lambda.1se` (test MSE) |",
           "|---|---|---|---|"]
    sums = {"tail": 0.0, "cv_min": 0.0, "cv_1se": 0.0}
    for s in seeds:
        cells = []
        for rule in ("tail", "cv_min", "cv_1se"):
            x = row(rows, seed=str(s), rule=rule)
            sums[rule] += float(x["test_mse"])
            cells.append("%s (%s)" % (lam(x["lambda"]), f3(x["test_mse"])))
        out.append("| %d | %s |" % (s, " | ".join(cells)))
    out.append("| mean test MSE | %s |" % " | ".join(f3(sums[k] / len(seeds))
                                                    for k in ("tail", "cv_min", "cv_1se")))
    return "\n".join(out)


def block_expected(r):
    u, b = unreg(r), best(r)
    return "\n".join([
        "| expectation | result (5 seeds) |",
        "|---|---|",
        "| unregularized: mean best-validation epoch ≤ 30 | %.1f |" % float(u["best_epoch_mean"]),
        "| unregularized: mean gap at epoch 100 ≥ 0.5 | %s |" % f3(u["gap_mean"]),
        "| best λ (%s): mean gap ≤ 0.2 | %s |" % (lam(b["lambda"]), f3(b["gap_mean"])),
        "| best λ: mean test MSE lower than unregularized | %s < %s |"
        % (f3(b["test_mse_mean"]), f3(u["test_mse_mean"]))])


def block_variants(r):
    def cells(run, label):
        rows = md_rows(r.file(run, "lambda_table.md"))
        reg = [x for x in rows if x[0] != "unregularized"][0]
        if len(reg) == 8:  # with an "epochs run" column (early stopping)
            epochs, rest = reg[2], reg[3:7]
        else:
            epochs, rest = "%.0f" % float(row(r.csv(run, "sweep.csv"), unregularized="0")
                                          ["epochs_mean"]), reg[2:6]
        return "| %s | %s | %s | %s |" % (label, reg[1], epochs, " | ".join(rest))
    u = [x for x in md_rows(r.file("study", "lambda_table.md")) if x[0].startswith("0 ")][0]
    return "\n".join([
        "| setting (5 seeds) | best val epoch | epochs run | train MSE | val MSE | gap | test MSE |",
        "|---|---:|---:|---:|---:|---:|---:|",
        "| unregularized | %s | 100 | %s |" % (u[1], " | ".join(u[2:6])),
        cells("dropout", "λ 1e-5 + dropout 0.3"),
        cells("es", "λ 1e-8 + dropout 0.2 + early stopping (2)")])


def block_fit_table(r):
    out = ["| command | diagnosis | final train MSE | final val MSE | test MSE | test RMSE of y |",
           "|---|---|---:|---:|---:|---:|"]
    for i, (label, _) in enumerate(FIT_SETTINGS):
        x = fit_result(r, i, 1)
        cmd = ("regnn fit examples/data/diabetes.csv --target y " + label).strip()
        if label.startswith("--scale"):
            cmd = "... " + label
        out.append("| `%s` | %s | %s | %s | %s | %s |" % (cmd, x["verdict"], g3(x["train"]),
                                                       g3(x["val"]), g3(x["test"]), g3(x["rmse"])))
    return "\n".join(out)


def block_path(r):
    out = r.run("path")["stdout"]
    i = out.find("\nlambda ")
    if i < 0:
        raise Fail("no table in regnn path's output:\n" + out)
    return "```\n" + out[i + 1:].rstrip() + "\n```"


def block_grunfeld_path(r):
    out = r.run("grunfeld-path")["stdout"]
    i = out.find("lambda grid from the data")
    if i < 0:
        raise Fail("no lambda grid in regnn path's output:\n" + out)
    cmd = "$ regnn " + " ".join(RUNS["grunfeld-path"][1])
    return "```\n" + cmd + "\n" + out[i:].rstrip() + "\n```"


def block_grunfeld_fit(r):
    m = re.search(r"^one-standard-error choice: lambda (\S+)", r.run("grunfeld-path")["stdout"], re.M)
    if not m or m.group(1) != GRUNFELD_L2:
        raise Fail("docs/cli.md's Grunfeld fit uses --l2 %s, the sweep chooses %s: set GRUNFELD_L2 "
                   "in scripts/docs-numbers.py"
                   % (GRUNFELD_L2, m.group(1) if m else "nothing"))
    cmd = "$ regnn " + " ".join(RUNS["grunfeld-fit"][1])
    return "```\n" + cmd + "\n" + r.run("grunfeld-fit")["stdout"].rstrip() + "\n```"


BLOCKS = {
    "lambda-table": (block_lambda_table, ["study"]),
    "provenance": (block_provenance, []),
    "regularizers": (block_regularizers, ["regularizers"]),
    "cv-seed1": (block_cv_seed1, ["study"]),
    "cv-table": (block_cv_table, ["study"]),
    "expected": (block_expected, ["study"]),
    "variants": (block_variants, ["study", "dropout", "es"]),
    "fit-table": (block_fit_table, ["fit%d_seed1" % i for i in range(len(FIT_SETTINGS))]),
    "path": (block_path, ["path"]),
    "grunfeld-path": (block_grunfeld_path, ["grunfeld-path"]),
    "grunfeld-fit": (block_grunfeld_fit, ["grunfeld-path", "grunfeld-fit"]),
}


# ---- claims -----------------------------------------------------------------

def mean_test(r, i):
    return f3(sum(float(fit_result(r, i, s)["test"]) for s in range(1, 6)) / 5)


def study_gap(r, lam_text):
    return float(row(r.csv("study", "sweep.csv"), setting="lambda" + lam_text)["gap_mean"])


def penalty(r, epoch):
    b = best(r)
    vals = []
    for x in r.csv("study", "runs.csv"):
        if x["setting"] == b["setting"]:
            h = r.csv("study", x["history"])
            vals.append(float(h[epoch - 1 if epoch > 0 else len(h) - 1]["penalty"]))
    return "%.2f" % (sum(vals) / len(vals))


def cv(r, seed, rule, col):
    return f3(row(r.csv("study", "cv.csv"), seed=str(seed), rule=rule)[col])


# (file, text with {} for each number and {w} for words, function -> values, runs)
CLAIMS = [
    ("README.md", "the validation error is lowest around epoch {}",
     lambda r: ["%.0f" % float(unreg(r)["best_epoch_mean"])], ["study"]),
    ("README.md", "at epoch 100 the validation error is {} above the training error",
     lambda r: ["%.2f" % float(unreg(r)["gap_mean"])], ["study"]),
    ("README.md", "**Right, with λ = {}** (the λ with the lowest validation error): "
     "the two curves stay together (gap {}), and the error on the 45 held-out test rows "
     "drops from {} to {}.",
     lambda r: [lam(best(r)["lambda"]), "%.2f" % float(best(r)["gap_mean"]),
                "%.2f" % float(unreg(r)["test_mse_mean"]), "%.2f" % float(best(r)["test_mse_mean"])],
     ["study"]),
    ("README.md", "# {w}: train MSE {}, val {}, test {}",
     lambda r: [fit_result(r, 0, 1)[k] if k == "verdict" else g3(fit_result(r, 0, 1)[k])
                for k in ("verdict", "train", "val", "test")], ["fit0_seed1"]),
    ("README.md", "# {w}: train {}, val {}, test {}",
     lambda r: [fit_result(r, 1, 1)[k] if k == "verdict" else g3(fit_result(r, 1, 1)[k])
                for k in ("verdict", "train", "val", "test")], ["fit1_seed1"]),
    ("docs/study.md", "The validation MSE bottoms out around epoch {} (mean best epoch {}) and "
     "then climbs back to about {}. Meanwhile the training MSE keeps falling towards {}",
     lambda r: ["%.0f" % float(unreg(r)["best_epoch_mean"]), "%.1f" % float(unreg(r)["best_epoch_mean"]),
                "%.2f" % float(unreg(r)["val_mse_mean"]), "%.2f" % float(unreg(r)["train_mse_mean"])],
     ["study"]),
    ("docs/study.md", "At epoch 100 the gap is {}, which is the study's",
     lambda r: ["%.2f" % float(unreg(r)["gap_mean"])], ["study"]),
    ("docs/study.md", "and stay together, at about {} and {} (gap {}). The mean test MSE drops "
     "from {} to {}.",
     lambda r: ["%.2f" % float(best(r)[k]) for k in ("train_mse_mean", "val_mse_mean", "gap_mean")]
     + ["%.2f" % float(unreg(r)["test_mse_mean"]), "%.2f" % float(best(r)["test_mse_mean"])],
     ["study"]),
    ("docs/study.md", "the penalty is large: about {} after the first epoch and {} at the end",
     lambda r: [penalty(r, 1), penalty(r, 0)], ["study"]),
    ("docs/study.md", "The gap stays at about {} up to λ = 1e-4",
     lambda r: ["%.2f" % (sum(study_gap(r, x) for x in ("0", "1e-05", "1e-04")) / 3)], ["study"]),
    ("docs/study.md", "It starts to close at 1e-3 ({}) and is nearly gone at 1e-2 ({}).",
     lambda r: ["%.2f" % study_gap(r, "1e-03"), "%.2f" % study_gap(r, "1e-02")], ["study"]),
    ("docs/study.md", "on seed 2 the CV MSE of 3e-2 ({}) is within one standard error of 1e-2's "
     "({} ± {}), but its refit collapses to a near-constant prediction (test MSE {})",
     lambda r: [cv(r, 2, "cv_1se", "cv_mse"), cv(r, 2, "cv_min", "cv_mse"),
                cv(r, 2, "cv_min", "cv_se"), cv(r, 2, "cv_1se", "test_mse")], ["study"]),
    ("docs/study.md", "With 3 seeds the numbers are {}, {}, {} and {} < {}.",
     lambda r: ["%.1f" % float(unreg(r, "study3")["best_epoch_mean"]), f3(unreg(r, "study3")["gap_mean"]),
                f3(best(r, "study3")["gap_mean"]), f3(best(r, "study3")["test_mse_mean"]),
                f3(unreg(r, "study3")["test_mse_mean"])], ["study3"]),
    ("docs/study.md", "hence the sd of {} for the", lambda r: ["%.2f" % float(unreg(r)["test_mse_sd"])],
     ["study"]),
    ("docs/cli.md", "the mean test MSE is {} without L2 and {} with `--l2 1e-2` (default scaling); "
     "with `--scale zscore` it is {} without L2, {} with 1e-2 and {} with 3e-2.",
     lambda r: [mean_test(r, i) for i in range(len(FIT_SETTINGS))],
     ["fit%d_seed%d" % (i, s) for i in range(len(FIT_SETTINGS)) for s in range(1, 6)]),
    ("docs/cli.md", "feature 0 mean {} scale {}",
     lambda r: list(re.search(r"feature 0\s+mean (\S+)\s+scale (\S+)",
                              r.run("info")["stdout"]).groups()), ["info"]),
]

# Copies of docs/times.md: (file, text, [(command column of times.md, ...)]);
# each {} is one end of a range, rounded to whole seconds.
TIMES_CLAIMS = [
    ("README.md", "`make demo` takes {}–{} s from a fresh clone", ["make demo"]),
    ("README.md", "takes {}–{} s and the comparison of regularizers {}–{} s;\nwith the built-in GEMM "
     "(no OpenBLAS) it takes about as long, {}–{} s; the examples' part of `make check` takes {}–{} s.",
     ["diabetes --out DIR", "regularizers --out DIR", "make demo BLAS=builtin", "test_examples.sh"]),
    ("docs/study.md", "takes {}–{} s once the library and examples are built, and `make demo` "
     "from a clean tree {}–{} s.", ["diabetes --out DIR", "make demo"]),
    ("docs/study.md", "`make demo BLAS=builtin` takes {}–{} s from a clean tree.",
     ["make demo BLAS=builtin"]),
    ("docs/study.md", "the whole example test takes {}–{} s on 2 cores", ["test_examples.sh"]),
    ("docs/study.md", "`tests/test_examples.sh` takes {}–{} s", ["test_examples.sh"]),
]

# Times measured here: (file, text with one {} in seconds, run, cores). The
# docs quote wall-clock seconds on that many cores; the run's CPU seconds
# divided by the cores stand for them, so that a machine with more cores or
# other work does not fail the check.
TIMED = [
    ("docs/cli.md", "It takes about {} s on 2 cores.", "path", 2),
]


def pattern(text):
    """A regex for a claim's text: any whitespace run matches any other."""
    out = ""
    for piece in re.split(r"(\{w?\})", text):
        if piece == "{}":
            out += r"(-?[0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)"
        elif piece == "{w}":
            out += r"([a-z][a-z ]*?)"
        elif piece:
            out += r"\s+".join(re.escape(p) for p in re.split(r"\s+", piece))
    return re.compile(out)


def find_once(doc, path, text):
    matches = list(pattern(text).finditer(doc))
    if len(matches) != 1:
        raise Fail("%s: the text %r occurs %d times (expected once): update CLAIMS in "
                   "scripts/docs-numbers.py along with the prose" % (path, text, len(matches)))
    return matches[0]


def times_ranges(root):
    """command fragment -> (min, max) seconds, from docs/times.md's table."""
    with open(os.path.join(root, "docs", "times.md"), encoding="utf-8") as f:
        text = f.read()
    out = []
    for line in text.splitlines():
        m = re.match(r"^\|[^|]*\|\s*`([^`]*)`\s*\|\s*([0-9.]+)–([0-9.]+) s\s*\|", line)
        if m:
            out.append((m.group(1), float(m.group(2)), float(m.group(3))))
    return out


def times_for(ranges, frag):
    hits = [(lo, hi) for cmd, lo, hi in ranges if cmd == frag]
    hits = hits or [(lo, hi) for cmd, lo, hi in ranges if frag in cmd]
    if len(hits) != 1:
        raise Fail("docs/times.md: %d rows for %r" % (len(hits), frag))
    return hits[0]


# ---- driver -----------------------------------------------------------------

BEGIN_RE = re.compile(r"<!-- regnn:begin ([a-z0-9-]+) -->\n(.*?)\n?<!-- regnn:end \1 -->", re.S)


def recorded_signature(root):
    with open(os.path.join(root, "docs", "study.md"), encoding="utf-8") as f:
        m = re.search(r"<!-- regnn:begin provenance -->.*?on the `([^`]+)` GEMM", f.read(), re.S)
    return m.group(1) if m else None


def makefile_version(root):
    with open(os.path.join(root, "Makefile"), encoding="utf-8") as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M).group(1)


def signature_of(build, kernel):
    """The arithmetic: `built-in` when the built-in kernels take every product
    (they all give the same bits, docs/reproducibility.md), else OpenBLAS for
    large products (REGNN_OPENBLAS_LARGE=1) with the kernel for small ones."""
    name, builtin_only = kernel.split()
    ver = subprocess.run([os.path.join(build, "tools", "regnn"), "--version"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    blas = "openblas" if "openblas GEMM" in ver else "builtin"
    return "built-in" if blas == "builtin" or builtin_only == "1" else "openblas+" + name


def main(argv):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="the build folder (build/openblas, ...)")
    ap.add_argument("--root", default=here, help="the tree whose docs are checked [this one]")
    ap.add_argument("--kernel", help='"NAME WIDE" as tests/gemm_kernel prints it')
    ap.add_argument("--cache", help="cache folder [BUILD/docs-numbers]")
    ap.add_argument("--update", action="store_true", help="rewrite the docs instead of checking")
    args = ap.parse_args(argv)
    build = os.path.abspath(args.build)
    root = os.path.abspath(args.root)
    cache = os.path.abspath(args.cache or os.path.join(build, "docs-numbers"))
    os.makedirs(cache, exist_ok=True)
    if not args.kernel:
        args.kernel = subprocess.run([os.path.join(build, "tests", "gemm_kernel")],
                                     stdout=subprocess.PIPE, check=True).stdout.decode()
    sig = signature_of(build, args.kernel)
    rec = recorded_signature(root)
    exact = args.update or rec == sig
    r = Runner(here, build, cache, sig, makefile_version(root), sig if args.update else rec)
    problems, skipped = [], []
    t0 = time.monotonic()

    needed = set()
    if exact:
        for _, deps in BLOCKS.values():
            needed.update(deps)
        for c in CLAIMS:
            needed.update(c[3])
    needed.update(t[2] for t in TIMED)
    r.run_all(sorted(needed))
    ranges = times_ranges(root)

    figs = os.path.join(root, "docs", "figures")
    for run, fig in FIGURES:
        if not exact:
            continue
        new = os.path.join(r.run(run)["dir"], fig)
        old = os.path.join(figs, fig)
        if args.update:
            shutil.copyfile(new, old)
        elif not os.path.isfile(old) or sha(old) != sha(new):
            problems.append("docs/figures/%s differs from the %s run's %s" % (fig, run, fig))

    for path in DOCS:
        full = os.path.join(root, path)
        with open(full, encoding="utf-8") as f:
            doc = f.read()
        new = doc

        def repl(m):
            name, old = m.group(1), m.group(2)
            if name not in BLOCKS:
                problems.append("%s: unknown block %s" % (path, name))
                return m.group(0)
            fn, deps = BLOCKS[name]
            if deps and not exact:
                skipped.append("%s block %s" % (path, name))
                return m.group(0)
            text = fn(r)
            if text != old and not args.update:
                problems.append("%s: block %s differs from its run:\n%s" % (path, name, diff(old, text)))
            return "<!-- regnn:begin %s -->\n%s\n<!-- regnn:end %s -->" % (name, text, name)
        new = BEGIN_RE.sub(repl, new)

        def sub_claim(doc, text, values, label, tolerance=None):
            m = find_once(doc, path, text)
            for k, v in enumerate(values):
                got = m.group(k + 1)
                if tolerance is None:
                    bad = got != v
                else:
                    q, meas = float(got), float(v)
                    bad = not (q / tolerance <= meas <= q * tolerance)
                if bad and not args.update:
                    problems.append("%s: %s: %r, the run gives %r%s" % (
                        path, label, got, v,
                        "" if tolerance is None else " (more than %gx off)" % tolerance))
            if not args.update or tolerance is not None:
                return doc
            out, last = "", 0
            for k, v in enumerate(values):
                out += doc[last:m.start(k + 1)] + v
                last = m.end(k + 1)
            return out + doc[last:]

        for cpath, text, fn, deps in CLAIMS:
            if cpath != path:
                continue
            if not exact:
                find_once(new, path, text)
                skipped.append("%s: %r" % (path, text[:40]))
                continue
            new = sub_claim(new, text, fn(r), "%r" % text[:50])
        for cpath, text, frags in TIMES_CLAIMS:
            if cpath != path:
                continue
            vals = []
            for fr in frags:
                lo, hi = times_for(ranges, fr)
                vals += ["%.0f" % lo, "%.0f" % hi]
            new = sub_claim(new, text, vals, "copy of docs/times.md %r" % text[:40])
        for cpath, text, run, cores in TIMED:
            if cpath == path:
                sec = r.run(run)["cpu_seconds"] / cores
                new = sub_claim(new, text, ["%.1f" % sec], "time %r (measured %.1f s)" % (text, sec),
                                tolerance=TIME_TOLERANCE)
        if args.update and new != doc:
            with open(full, "w", encoding="utf-8") as f:
                f.write(new)
            print("docs-numbers: rewrote %s" % path)

    if not exact:
        print("docs-numbers: the docs were made on the `%s` arithmetic, this machine runs `%s`: "
              "%d run-derived numbers and the figures not compared (they differ in the last digits "
              "across GEMM kernels); `make docs-numbers` rewrites them for this one"
              % (rec, sig, len(skipped)))
    if problems:
        print("docs-numbers: %d number%s in the docs differ%s from the runs (make docs-numbers "
              "updates them):" % (len(problems), "" if len(problems) == 1 else "s",
                                  "" if len(problems) != 1 else "s"))
        for p in problems:
            print("  " + p)
        return 1
    nblocks = 0
    for p in DOCS:
        with open(os.path.join(root, p), encoding="utf-8") as f:
            nblocks += len(BEGIN_RE.findall(f.read()))
    print("docs-numbers: %s %d blocks, %d claims, %d copies of docs/times.md, %d timings and %d "
          "figures %s (%s arithmetic, %.1f s)"
          % ("rewrote" if args.update else "checked", nblocks, len(CLAIMS), len(TIMES_CLAIMS),
             len(TIMED), len(FIGURES) if exact else 0,
             "from the runs" if args.update else "against the runs", sig, time.monotonic() - t0))
    return 0


def diff(old, new):
    import difflib
    return "\n".join("    " + ln for ln in difflib.unified_diff(
        old.splitlines(), new.splitlines(), "docs", "run", lineterm="", n=0))


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        print("docs-numbers: %s" % e, file=sys.stderr)
        sys.exit(1)
