#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""diabetes.py - the Keras study "Impact of regularization on deep neural networks" in libregnn.

The article's script, call for call (docs/python.md sets the two side by side):
the diabetes data (features scaled as sklearn's load_diabetes, target z-scored),
a 90/10 train/test split, Dense(128, relu) x 6 -> Dense(1), Adam, MSE, 100 epochs
of batch 64 with validation_split=0.15, first unregularized, then with
kernel_regularizer=l2(lambda) on every layer; plots loss and val_loss of both
(out/py_study.png with matplotlib, skipped with a message otherwise)
and writes each history as CSV.

    python3 examples/diabetes.py [--epochs 100] [--lambda 0.01] [--seed 1]
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # layers this small: one BLAS thread
try:
    import regnn  # installed (pip install .), or on PYTHONPATH
except ImportError:
    sys.path.insert(0, os.path.join(HERE, os.pardir, "python"))  # the in-tree binding
    import regnn  # noqa: E402

p = argparse.ArgumentParser(description="the Keras regularization study in libregnn")
p.add_argument("--epochs", type=int, default=100)
p.add_argument("--lambda", dest="wd", type=float, default=1e-2, help="L2 factor [0.01]")
p.add_argument("--seed", type=int, default=1, help="split, weights and shuffling [1]")
p.add_argument("--data", default=os.path.join(HERE, "data", "diabetes.csv"))
p.add_argument("--out", default="out", help="folder for the CSVs and the figure [out]")
p.add_argument("--no-plot", action="store_true")
args = p.parse_args()

try:
    diabetes = regnn.Dataset.from_csv(args.data, targets="y")   # load_diabetes()
except regnn.Error as e:
    sys.exit("diabetes.py: %s" % e.message)
data, scaler = diabetes.standardize(features="unit_norm", targets="zscore")
train, test = data.split_shuffled(test_size=0.1, seed=args.seed)
print("%d rows x %d features: %d train, %d test" % (len(data), data.n_features, len(train), len(test)))


def get_model(wd=0.0):
    return regnn.Model(train.n_features, [regnn.Dense(128, "relu", l2=wd) for _ in range(6)]
                       + [regnn.Dense(1, l2=wd)]).init(seed=args.seed)


def run(name, model):
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(train, epochs=args.epochs, validation_split=0.15, batch_size=64,
                        eval_train=True)
    test_mse = model.evaluate(test).mse
    print("%-13s loss %.4f  val_loss %.4f  test MSE %.4f  gap %+.4f  (%s)" % (
        name, history.loss[-1], history.val_loss[-1], test_mse,
        history.val_mse[-1] - history.train_eval_mse[-1], history.verdict))
    os.makedirs(args.out, exist_ok=True)
    history.to_csv(os.path.join(args.out, "py_%s.csv" % name))
    return history


histories = [run("unregularized", get_model()), run("l2_%g" % args.wd, get_model(args.wd))]

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is None or args.no_plot:
    print("no figure (%s)" % ("--no-plot" if args.no_plot else "matplotlib is not installed"))
    sys.exit(0)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, history, title in zip(axes, histories, ["Unregularized", "L2, lambda = %g" % args.wd]):
    ax.plot(history.history["loss"])
    ax.plot(history.history["val_loss"])
    ax.set_title("%s: loss vs. epochs" % title)
    ax.set_xlabel("Epoch")
    ax.legend(["Training", "Validation"], loc="upper right")
axes[0].set_ylabel("Loss")
fig.tight_layout()
fig.savefig(os.path.join(args.out, "py_study.png"), dpi=100)
print("figure: %s" % os.path.join(args.out, "py_study.png"))
