# SPDX-License-Identifier: MIT
"""pandas in and out (internal). pandas is imported only by the functions that return
DataFrames; recognizing a DataFrame or Series needs no import.

DataFrames and Series reach the library as CSV text read by its own parser
(regnn_dataset_parse_csv), so that the dataset's feature and target names are the
columns' names; pandas writes every float with its shortest exact decimal (float64
repr, float32 repr), which the parser rounds to float32 as a float32 conversion would.
"""

from ._errors import InvalidArgumentError, ShapeError


def is_pandas(obj):
    """True for a pandas DataFrame or Series (without importing pandas)."""
    mod = type(obj).__module__ or ""
    return mod.startswith("pandas.") and type(obj).__name__ in ("DataFrame", "Series")


def _frame(obj, what, default_name):
    """A DataFrame of obj (a DataFrame, or a Series as one column)."""
    if type(obj).__name__ == "Series":
        return obj.to_frame(default_name if obj.name is None else obj.name)
    return obj


def _as_frame(obj, prefix):
    """A DataFrame of obj: a DataFrame, a Series (one column), or an array whose columns get
    the names Dataset.from_arrays gives (x0, x1, ... / y0, ...)."""
    if is_pandas(obj):
        return _frame(obj, prefix, prefix + "0")
    import numpy as np
    import pandas as pd
    a = np.asarray(obj)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ShapeError("%s must be 1-D or 2-D, got %d dimension(s)" % (prefix, a.ndim))
    return pd.DataFrame(a, columns=["%s%d" % (prefix, i) for i in range(a.shape[1])])


def _need_numbers(df, what):
    import pandas as pd
    for name, dtype in df.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise TypeError("%s: column %r has dtype %s; a dataset holds numbers (convert it "
                            "first)" % (what, name, dtype))
        if pd.api.types.is_complex_dtype(dtype):
            raise TypeError("%s: column %r is complex" % (what, name))


def csv_of(x, y=None, targets=None, weight=None):
    """(CSV text, target column indices) for
    Dataset.parse_csv: x and y DataFrames/Series, or x alone with the targets (a column
    name or a list of them) and weight (a column name or None) naming its columns."""
    if y is not None:
        fx, fy = _as_frame(x, "x"), _as_frame(y, "y")
        if len(fx) != len(fy):
            raise ShapeError("x has %d rows but y has %d" % (len(fx), len(fy)))
        both = set(map(str, fx.columns)) & set(map(str, fy.columns))
        if both:
            raise InvalidArgumentError("x and y both have the columns %s"
                                       % ", ".join(sorted(both)))
        import pandas as pd
        df = pd.concat([fx.reset_index(drop=True), fy.reset_index(drop=True)], axis=1)
        first = fx.shape[1]
        tcols = list(range(first, first + fy.shape[1]))
    else:
        df = _frame(x, "data", "x0")
        names = [targets] if isinstance(targets, str) or not hasattr(targets, "__iter__") \
            else list(targets)
        if not names:
            raise InvalidArgumentError("at least one target column is required")
        cols = [str(c) for c in df.columns]
        for n in names + ([weight] if weight is not None else []):
            if str(n) not in cols:
                raise InvalidArgumentError("the DataFrame has no column %r (it has %s)"
                                           % (n, ", ".join(cols)))
        keep = [c for c in df.columns if str(c) not in map(str, names)] + \
            [c for n in names for c in df.columns if str(c) == str(n)]
        df = df[keep]
        tcols = list(range(len(keep) - len(names), len(keep)))  # the weight: a feature
    if df.shape[0] == 0 or df.shape[1] < 2:
        raise InvalidArgumentError("a dataset needs at least one row, feature and target "
                                   "(the DataFrame is %d x %d)" % df.shape)
    _need_numbers(df, "DataFrame")
    df = df.rename(columns=str)
    if len(set(df.columns)) != df.shape[1]:
        raise InvalidArgumentError("the DataFrame's column names are not unique")
    try:
        text = df.to_csv(index=False, lineterminator="\n")
    except TypeError:  # pandas < 1.5
        text = df.to_csv(index=False, line_terminator="\n")
    return text, tcols


def history_frame(history):
    """History.to_dataframe: one row per epoch (index "epoch", from 1), one column per
    recorded metric (Keras' History.history)."""
    import pandas as pd
    df = pd.DataFrame({name: list(values) for name, values in history.history.items()},
                      index=pd.RangeIndex(1, history.epochs + 1, name="epoch"))
    return df


def path_frame(path):
    """RegularizationPath.to_dataframe: one row per lambda, the table's columns (verdict
    counts as verdict_<name> columns)."""
    import pandas as pd
    rows = []
    for row in path.table:
        r = {k: v for k, v in row.items() if k not in ("verdicts", "verdict_counts")}
        for verdict, n in row["verdict_counts"].items():
            r["verdict_" + verdict.replace(" ", "_")] = n
        rows.append(r)
    return pd.DataFrame(rows)


def runs_frame(path):
    """RegularizationPath.runs_dataframe: one row per run (lambda, fold, seed) with every
    RUN_STATS value, in the path's run order."""
    import pandas as pd
    nl, nf, ns = len(path.lambdas), path.n_folds, path.n_seeds
    index = {"lambda": [], "fold": [], "seed": []}
    for i in range(nl):
        for f in range(nf):
            for s in range(ns):
                index["lambda"].append(path.lambdas[i])
                index["fold"].append(f)
                index["seed"].append(path.seeds[s])
    data = dict(index)
    data.update({name: list(values) for name, values in path.runs.items()})
    df = pd.DataFrame(data)
    if nf == 1:
        df = df.drop(columns="fold")
    return df
