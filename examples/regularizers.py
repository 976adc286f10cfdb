#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""regularizers.py - examples/regularizers.c through the Python binding.

Compares regularizers of the study's network (Dense(128, relu) x 6 -> Dense(1), Adam,
MSE, batch 64) on the diabetes data, each at the strength chosen by k-fold
cross-validation on each seed's training rows, then trained with the 15 % tail
validation split and scored on the seed's test rows. It writes regularizers.csv and
regularizers_cv.csv exactly as the C program does (python/tests/test_example.py
checks that both give the same bytes); docs/study.md describes the method.

    python3 examples/regularizers.py [--seeds 5] [--epochs 100] [--folds 4] [--out out]
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
try:
    import regnn  # installed (pip install .), or on PYTHONPATH
except ImportError:
    sys.path.insert(0, os.path.join(HERE, os.pardir, "python"))  # the in-tree binding
    import regnn  # noqa: E402


def gaussian_noise(stddev):
    return dict(after=lambda: regnn.GaussianNoise(stddev))


def batch_norm(_):
    return dict(after=lambda: regnn.BatchNormalization(momentum=0.99, epsilon=1e-3))


def early_stopping(patience):
    return dict(fit={"early_stopping": True, "patience": int(patience), "monitor": "val_loss"})


def nothing(_):
    return {}


# (name, strength, grid, path penalty or None, settings(strength)) in table order;
# a path penalty with "hidden" is set on the hidden Dense layers only
REGULARIZERS = [
    ("none", None, [0.0], None, nothing),
    ("L2 (kernel)", "λ", [1e-3, 1e-2, 3e-2], "l2", nothing),
    ("L1 (kernel)", "λ", [1e-4, 1e-3, 1e-2], "l1", nothing),
    ("dropout", "rate", [0.2, 0.4, 0.6], "dropout", nothing),
    ("max-norm", "max value", [0.12, 0.25, 0.5], "max_norm hidden", nothing),
    ("Gaussian noise", "stddev", [0.03, 0.1, 0.3], "gaussian_noise", gaussian_noise),
    ("batch normalization", None, [0.0], None, batch_norm),
    ("early stopping", "patience", [2, 5, 10], None, early_stopping),
]


def network(n_features, settings):
    layers = []
    for _ in range(6):
        layers.append(regnn.Dense(128, "relu"))
        if "after" in settings:
            layers.append(settings["after"]())
    return regnn.Model(n_features, layers + [regnn.Dense(1)], threads=1)


def path(args, reg, strengths, seed, train, test=None):
    """One path call: the whole grid when the path sweeps it, else one strength."""
    name, _, _, penalty, settings = reg
    s = settings(strengths[0])
    fit = dict(epochs=args.epochs, batch_size=64, shuffle=True)
    fit.update(s.get("fit", {}))
    if test is None:
        fit.update(folds=args.folds, fold_seed=seed)
    else:
        fit.update(validation_split=0.15, test_data=test)
    lambdas, pen = (strengths, penalty.split()[0]) if penalty else ([0.0], "weight_decay")
    if penalty and penalty.endswith(" hidden"):
        fit.update(layers=list(range(6)))
    return regnn.regularization_path(network(train.n_features, s), train, lambdas, penalty=pen,
                                     seed=seed, threads=args.jobs, **fit)


def choose(args, reg, seed, train):
    grid = reg[2]
    if len(grid) == 1:
        return 0, [float("nan")]
    if reg[3]:
        cv = [row["final_val_mse"] for row in path(args, reg, grid, seed, train).table]
    else:
        cv = [path(args, reg, [g], seed, train).table[0]["final_val_mse"] for g in grid]
    best = 0
    for g in range(1, len(grid)):
        if cv[g] == cv[g] and not cv[g] >= cv[best]:  # lowest; the lower index on ties
            best = g
    return best, cv


def strength_text(reg, value):
    return "%g" % value if reg[1] else "—"


def main():
    p = argparse.ArgumentParser(description="regularizers compared at their CV strength")
    p.add_argument("--data", default=os.path.join(HERE, "data", "diabetes.csv"))
    p.add_argument("--out", default="out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--folds", type=int, default=4)
    p.add_argument("--jobs", type=int, default=0)
    args = p.parse_args()
    regnn.set_blas_threads(1)
    try:
        raw = regnn.Dataset.from_csv(args.data, targets="y")
    except regnn.Error as e:
        sys.exit("regularizers.py: %s" % e.message)
    data, _ = raw.standardize(features="unit_norm", targets="zscore")
    final, cvs = {}, {}
    for j in range(args.seeds):
        seed = args.seed + j
        train, test = data.split_shuffled(test_size=0.1, seed=seed)
        for reg in REGULARIZERS:
            best, cv = choose(args, reg, seed, train)
            res = path(args, reg, [reg[2][best]], seed, train, test)
            runs = res.runs
            final[reg[0], j] = (strength_text(reg, reg[2][best]), runs["test_mse"][0],
                                runs["final_gap"][0], runs["best_epoch"][0] + 1,
                                len(res.histories[0, 0].loss))
            cvs[reg[0], j] = cv
            print("seed %d  %-16s strength %-8s test MSE %.3f  gap %.3f  best epoch %.0f"
                  % (seed, reg[0], final[reg[0], j][0], final[reg[0], j][1],
                     final[reg[0], j][2], final[reg[0], j][3]))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "regularizers.csv"), "w", encoding="utf-8") as f:
        f.write("regularizer,seed,strength,test_mse,gap,best_epoch,epochs\n")
        for reg in REGULARIZERS:
            for j in range(args.seeds):
                s, t, g, b, e = final[reg[0], j]
                f.write("%s,%d,%s,%.17g,%.17g,%.0f,%d\n" % (reg[0], args.seed + j, s, t, g, b, e))
    with open(os.path.join(args.out, "regularizers_cv.csv"), "w", encoding="utf-8") as f:
        f.write("regularizer,seed,strength,cv_mse\n")
        for reg in REGULARIZERS:
            for j in range(args.seeds):
                for g, value in enumerate(reg[2] if reg[1] else []):
                    f.write("%s,%d,%g,%.17g\n" % (reg[0], args.seed + j, value, cvs[reg[0], j][g]))
    print("regularizers.py: %s/regularizers.csv, %s/regularizers_cv.csv" % (args.out, args.out))


if __name__ == "__main__":
    main()
