# SPDX-License-Identifier: MIT
"""Option ranges and defaults read from the library's table (regnn_option_bounds) rather
than copied (the constants themselves: test_constants.py)."""

import math
import os
import re
import unittest

from _support import REPO, regnn

from regnn import _capi, _fit, _library, _model, _optimizer, _path

def header_constants():
    with open(os.path.join(REPO, "include", "regnn.h")) as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    return {name: int(value) for name, value in
            re.findall(r"\b(REGNN_[A-Z0-9_]+)\s*=\s*(-?\d+)\b", text)}


_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹−", "0123456789-")


def _doc_number(text, constants):
    """A number of docs/api.md: 1e-4, 2²⁰, 2²⁰−1, or a REGNN_ constant; None otherwise."""
    text = text.strip().strip("`")
    if text in constants:
        return constants[text]
    m = re.fullmatch(r"2([⁰¹²³⁴⁵⁶⁷⁸⁹]+)(−1)?", text)
    if m:
        return 2 ** int(m.group(1).translate(_SUPER)) - (1 if m.group(2) else 0)
    try:
        return float(text)
    except ValueError:
        return None


def _doc_range(text, constants):
    """(min, max, min_open, max_open) of a range column, or None if it states none."""
    text = text.strip()
    if text in ("0/1", "0 or 1"):
        return 0, 1, False, False
    m = re.fullmatch(r"(?:int )?≥ (\S+)", text)
    if m:
        return _doc_number(m.group(1), constants), math.inf, False, True
    m = re.fullmatch(r"int (\S+)…(\S+)", text)
    if m:
        return (_doc_number(m.group(1), constants), _doc_number(m.group(2), constants),
                False, False)
    m = re.fullmatch(r"(?:in )?([\[(])(\S+), (\S+)([\])])", text)
    if m and _doc_number(m.group(3), constants) is not None:
        return (_doc_number(m.group(2), constants), _doc_number(m.group(3), constants),
                m.group(1) == "(", m.group(4) == ")")
    return None


class TestDocsReadTheTable(unittest.TestCase):
    """The ranges and defaults docs/api.md's option tables state are the library's."""

    def test_option_tables_match_the_bounds(self):
        constants = header_constants()
        kinds = {"FIT": [_library.OPTION_FIT], "PATH": [_library.OPTION_PATH],
                 "LAYER": [_library.OPTION_LAYER], "OPT": [_library.OPTION_ADAM, _library.OPTION_SGD]}
        with open(os.path.join(REPO, "docs", "api.md"), encoding="utf-8") as f:
            rows = re.findall(r"^ *\| ((?:`REGNN_(?:FIT|PATH|LAYER|OPT)_\w+`(?:, )?)+) \|"
                              r"([^|]*)\|(?:([^|]*)\|)?", f.read(), flags=re.M)
        checked = 0
        for names, range_col, default_col in rows:
            for name in re.findall(r"`(REGNN_\w+)`", names):
                prefix = name.split("_")[1]
                for kind in kinds[prefix]:
                    try:
                        b = _library.option_bounds(kind, constants[name])
                    except regnn.UnsupportedError:
                        continue  # a key of the other optimizer
                    stated = _doc_range(range_col, constants)
                    if stated is not None:
                        self.assertEqual(stated, (b.min, b.max,
                                                  bool(b.flags & _library.BOUNDS_MIN_OPEN),
                                                  bool(b.flags & _library.BOUNDS_MAX_OPEN)),
                                         "%s: docs/api.md says %r" % (name, range_col))
                        checked += 1
                    if default_col and prefix in ("FIT", "PATH"):
                        self.assertEqual(_doc_number(default_col, constants), b.default_value,
                                         "%s: docs/api.md's default %r" % (name, default_col))
                        checked += 1
        self.assertGreater(checked, 40)


class TestBoundsFromTheLibrary(unittest.TestCase):
    def test_the_query(self):
        b = _library.option_bounds(_library.OPTION_FIT, _fit._FIT_BATCH_SIZE)
        self.assertEqual((b.min, b.max, b.default_value), (1.0, 1048576.0, 32.0))
        self.assertTrue(b.flags & _library.BOUNDS_INTEGER)
        self.assertEqual(_capi.lib.regnn_option_name(_library.OPTION_FIT, _fit._FIT_BATCH_SIZE),
                         b"REGNN_FIT_BATCH_SIZE")
        with self.assertRaises(regnn.UnsupportedError):
            _library.option_bounds(_library.OPTION_ADAM, _optimizer._OPT_MOMENTUM)

    def test_ranges_are_read_not_copied(self):
        # The binding checks against what the query returns: narrow the library's answer
        # and the binding follows.
        real = _library.option_bounds

        def narrowed(kind, key):
            b = real(kind, key)
            if (kind, key) == (_library.OPTION_LAYER, _model._LAYER_DROPOUT):
                b.max = 0.5
            if (kind, key) == (_library.OPTION_FIT, _fit._FIT_EPOCHS):
                b.max = 3
            return b
        regnn.Dense(1, dropout=0.6)
        _model._bounds = _fit._bounds = narrowed
        try:
            with self.assertRaises(regnn.InvalidArgumentError) as cm:
                regnn.Dense(1, dropout=0.6)
            self.assertIn("Dense: dropout must be in [0, 0.5), got 0.6", str(cm.exception))
            with self.assertRaises(regnn.InvalidArgumentError) as cm:
                _fit._fit_settings(4, 32, True, False, 0, False, "val_loss", 0.0, 0.0)
            self.assertIn("epochs must be between 1 and 3, got 4", str(cm.exception))
        finally:
            _model._bounds = _fit._bounds = real
        _fit._fit_settings(4, 32, True, False, 0, False, "val_loss", 0.0, 0.0)

    def test_path_limits_come_from_the_library(self):
        b = _library.option_bounds(_library.OPTION_PATH, _path._PATH_THREADS)
        m = regnn.Model(1, [regnn.Dense(1)])
        m.init(seed=1)
        data = regnn.Dataset([[0.0], [1.0], [2.0], [3.0]], [0.0, 1.0, 2.0, 3.0])
        with self.assertRaises(regnn.InvalidArgumentError) as cm:
            regnn.regularization_path(m, data, [0.0], validation_split=0.5,
                                      threads=int(b.max) + 1)
        self.assertIn("threads must be between 0 and %d" % b.max, str(cm.exception))

    def test_plateau_defaults_and_ranges_are_the_library_s(self):
        keys = {"factor": _fit._FIT_REDUCE_LR_FACTOR, "patience": _fit._FIT_REDUCE_LR_PATIENCE,
                "min_delta": _fit._FIT_REDUCE_LR_MIN_DELTA,
                "cooldown": _fit._FIT_REDUCE_LR_COOLDOWN, "min_lr": _fit._FIT_REDUCE_LR_MIN_LR}
        cb = regnn.ReduceLROnPlateau()
        for name, key in keys.items():
            self.assertEqual(getattr(cb, name),
                             _library.option_bounds(_library.OPTION_FIT, key).default_value, name)
        real = _library.option_bounds

        def narrowed(kind, key):
            b = real(kind, key)
            if (kind, key) == (_library.OPTION_FIT, _fit._FIT_REDUCE_LR_FACTOR):
                b.max = 0.25
            return b
        regnn.ReduceLROnPlateau(factor=0.5)
        _library.option_bounds = narrowed
        try:
            with self.assertRaises(regnn.InvalidArgumentError) as cm:
                regnn.ReduceLROnPlateau(factor=0.5)
            self.assertIn("ReduceLROnPlateau: factor must be in (0, 0.25), got 0.5",
                          str(cm.exception))
        finally:
            _library.option_bounds = real

    def test_mpi_process_count_is_the_library_s(self):
        try:
            import numpy  # noqa: F401  (mpi_fit needs it)
        except ImportError:
            self.skipTest("numpy is not installed")
        b = _library.option_bounds(_library.OPTION_FIT, _fit._FIT_SHARD_COUNT)

        class Comm:
            def Get_rank(self):
                return 0

            def Get_size(self):
                return int(b.max) + 1
        with self.assertRaises(regnn.InvalidArgumentError) as cm:
            regnn.mpi_fit(Comm(), regnn.Model(1, [regnn.Dense(1)]))
        self.assertIn("must be between 1 and %d" % b.max, str(cm.exception))

    def test_huber_default_is_the_library_default(self):
        b = _library.option_bounds(_library.OPTION_LOSS, _model.LOSS_HUBER)
        self.assertEqual(regnn.Huber().delta, b.default_value)  # Keras' signature keeps its own
        m = regnn.Model(1, [regnn.Dense(1)])
        m.set_loss("huber")
        self.assertEqual(m.huber_delta, b.default_value)


if __name__ == "__main__":
    unittest.main()
