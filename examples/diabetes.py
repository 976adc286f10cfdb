#!/usr/bin/env python3
"""diabetes.py - the regularization study in Python, through the regnn binding.

Same setup as examples/diabetes.c (and the Keras study "Impact of
regularization on deep neural networks"): the 442 rows of the diabetes data,
features scaled the sklearn load_diabetes way (REGNN_SCALE_UNIT_NORM) and the
target z-scored (REGNN_SCALE_ZSCORE), statistics over all rows; a seeded 90/10
shuffled train/test split; Keras validation_split 0.15 of the training part;
Dense(128, relu) x 6 -> Dense(1), Glorot-uniform, Adam with Keras defaults,
MSE, batch 64, 100 epochs. It trains the network twice, without and with an
L2 penalty lambda * sum(kernel^2) on every layer, prints the learning curves
and a comparison, and saves them: a PNG figure when matplotlib is installed
(Debian: python3-matplotlib), CSV files always.

    python3 examples/diabetes.py [--lambda 0.01] [--seed 1] [--epochs 100] [--out out]

Run from anywhere after `make lib`; needs nothing but the standard library
(numpy and matplotlib are used when present). --help lists the options.
"""

import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# These matrices are too small for BLAS threads (examples/diabetes.c does the same);
# must be set before libopenblas is loaded with libregnn.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(REPO, "python"))  # the in-tree binding, if not installed

import regnn  # noqa: E402

HIDDEN_LAYERS, HIDDEN_UNITS = 6, 128
TEST_SIZE, VAL_SPLIT = 0.1, 0.15


def default_data():
    for path in (os.path.join(HERE, "data", "diabetes.csv"),
                 os.path.join(REPO, "tests", "data", "diabetes.csv")):
        if os.path.exists(path):
            return path
    return os.path.join(HERE, "data", "diabetes.csv")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=default_data(), help="CSV with a header and target column y")
    p.add_argument("--out", default="out", help="folder for the CSV files and the figure [out]")
    p.add_argument("--seed", type=int, default=1,
                   help="seed of the test split, the weights and the shuffling [1]")
    p.add_argument("--epochs", type=int, default=100, help="epochs per model [100]")
    p.add_argument("--batch", type=int, default=64, help="batch size [64]")
    p.add_argument("--lambda", dest="lam", type=float, default=1e-2,
                   help="L2 factor of the regularized model, on every layer [0.01]")
    p.add_argument("--every", type=int, default=10, help="print the curves every K epochs [10]")
    p.add_argument("--no-plot", action="store_true", help="do not draw the figure, even with matplotlib")
    a = p.parse_args(argv)
    if a.epochs < 1 or a.batch < 1 or a.every < 1 or a.lam < 0 or a.seed < 0:
        p.error("epochs, batch and every must be >= 1; lambda and seed >= 0")
    return a


def build_model(n_features, lam, seed):
    layers = [regnn.Dense(HIDDEN_UNITS, "relu") for _ in range(HIDDEN_LAYERS)] + [regnn.Dense(1)]
    model = regnn.Model(n_features, layers)
    model.set_layers(l2=lam)  # Keras kernel_regularizer=l2(lam) on every Dense layer
    return model.init("glorot_uniform", seed)


def train(name, train_ds, test_ds, lam, args):
    """Train one model; returns a dict of its history and summary numbers."""
    t0 = time.perf_counter()

    def progress(epoch, h):
        e = epoch + 1
        if e == 1 or e % args.every == 0 or e == args.epochs:
            print("  [%s] epoch %3d/%d  loss %.4f  val_loss %.4f  train MSE %.4f  val MSE %.4f"
                  % (name, e, args.epochs, h.loss[-1], h.val_loss[-1], h.train_eval_mse[-1],
                     h.val_mse[-1]))

    with build_model(train_ds.n_features, lam, args.seed) as model, regnn.Adam() as adam:
        history = model.fit(train_ds, adam, epochs=args.epochs, batch_size=args.batch,
                            validation_split=VAL_SPLIT, eval_train=True, callback=progress)
        test = model.evaluate(test_ds)
    val = list(history.val_mse)
    best = min(range(len(val)), key=val.__getitem__)
    return {
        "name": name, "lambda": lam, "history": history, "best_epoch": best + 1,
        "train": float(history.train_eval_mse[-1]), "val": float(val[-1]),
        "gap": float(val[-1] - history.train_eval_mse[-1]), "test": test.mse,
        "seconds": time.perf_counter() - t0,
    }


def write_outputs(runs, args):
    os.makedirs(args.out, exist_ok=True)
    written = []
    for r in runs:
        path = os.path.join(args.out, "py_%s.csv" % r["file"])
        r["history"].to_csv(path)
        written.append(path)
    path = os.path.join(args.out, "py_study.csv")
    u, g = runs
    with open(path, "w") as f:
        f.write("epoch,unreg_loss,unreg_val_loss,unreg_train_mse,unreg_val_mse,"
                "l2_loss,l2_val_loss,l2_train_mse,l2_val_mse\n")
        for e in range(args.epochs):
            vals = []
            for r in (u, g):
                h = r["history"]
                vals += [h.loss[e], h.val_loss[e], h.train_eval_mse[e], h.val_mse[e]]
            f.write("%d,%s\n" % (e + 1, ",".join("%.9g" % v for v in vals)))
    written.append(path)
    return written


def plot(runs, args):
    """The study's figure: training vs validation MSE per epoch, one panel per model."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    epochs = range(1, args.epochs + 1)
    top = 1.1 * max(max(r["history"].val_mse) for r in runs)
    for ax, r in zip(axes, runs):
        h = r["history"]
        ax.plot(epochs, h.train_eval_mse, label="training MSE", color="tab:blue")
        ax.plot(epochs, h.val_mse, label="validation MSE", color="tab:orange")
        ax.plot(epochs, h.loss, ":", label="Keras loss (running mean + penalty)", color="tab:blue")
        ax.plot(epochs, h.val_loss, ":", label="Keras val_loss (+ penalty)", color="tab:orange")
        ax.axvline(r["best_epoch"], color="gray", lw=0.8, ls="--")
        ax.set_title("%s: gap %.3f, test MSE %.3f" % (r["title"], r["gap"], r["test"]))
        ax.set_xlabel("epoch (dashed: lowest validation MSE)")
        ax.set_ylim(0, top)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("MSE (standardized target)")
    fig.suptitle("Diabetes, Dense(128, relu) x 6 -> 1, Adam, batch %d, seed %d (libregnn %s via Python)"
                 % (args.batch, args.seed, regnn.library_version()))
    fig.tight_layout()
    path = os.path.join(args.out, "py_study.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    t0 = time.perf_counter()
    print("libregnn %s via the Python binding (numpy: %s) - regularization study"
          % (regnn.library_version(), "yes" if regnn.HAVE_NUMPY else "no"))
    try:
        raw = regnn.Dataset.from_csv(args.data, "y")
    except regnn.Error as e:
        print("diabetes.py: cannot load %s: %s" % (args.data, e.message), file=sys.stderr)
        return 1
    with raw:
        scaled, scaler = raw.standardize("unit_norm", "zscore")  # over all rows, as the study did
    with scaled, scaler:
        train_ds, test_ds = scaled.split_shuffled(TEST_SIZE, seed=args.seed)
        n_fit = math.floor(len(train_ds) * (1 - VAL_SPLIT))
        print("data: %s, %d rows x %d features, target y; features (x-mean)/(std*sqrt(n)), "
              "target (y-mean)/std" % (args.data, len(scaled), scaled.n_features))
    print("split: %d train (%d fit + %d validation, Keras tail split) / %d test, seed %d"
          % (len(train_ds), n_fit, len(train_ds) - n_fit, len(test_ds), args.seed))
    print("model: %d-%dx%d-1 relu MLP, Glorot-uniform, Adam (Keras defaults), MSE, batch %d, "
          "%d epochs\n" % (train_ds.n_features, HIDDEN_UNITS, HIDDEN_LAYERS, args.batch, args.epochs))

    with train_ds, test_ds:
        runs = [train("unregularized", train_ds, test_ds, 0.0, args),
                train("L2 %g" % args.lam, train_ds, test_ds, args.lam, args)]
    runs[0].update(file="unregularized", title="unregularized")
    runs[1].update(file="l2_%g" % args.lam, title="L2 lambda = %g on every layer" % args.lam)

    u, g = runs
    print("\nComparison (standardized target units; MSE without penalty):")
    print("  %-28s %-16s %-16s" % ("", "unregularized", "L2 %g" % args.lam))
    for label, key, fmt in (("best validation epoch", "best_epoch", "%d"),
                            ("train MSE (last epoch)", "train", "%.4f"),
                            ("val MSE (last epoch)", "val", "%.4f"),
                            ("gap val - train", "gap", "%.4f"),
                            ("test MSE (45 rows)", "test", "%.4f"),
                            ("seconds", "seconds", "%.1f")):
        print("  %-28s %-16s %-16s" % (label, fmt % u[key], fmt % g[key]))
    verdict = "smaller" if abs(g["gap"]) < abs(u["gap"]) else "not smaller"
    print("\nThe L2 penalty makes the generalization gap %s (%.3f vs %.3f)." % (
        verdict, g["gap"], u["gap"]))

    written = write_outputs(runs, args)
    figure = None if args.no_plot else plot(runs, args)
    if figure:
        written.append(figure)
    elif not args.no_plot:
        print("matplotlib is not installed (Debian: apt-get install python3-matplotlib): "
              "learning curves written as CSV only")
    print("wrote %s" % ", ".join(written))
    print("done in %.1f s" % (time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
