# SPDX-License-Identifier: MIT
"""Every enum value and #define of include/regnn.h that the binding mirrors, compared with
the header: a module-level constant named after a REGNN_ one (REGNN_ prefix dropped, a
leading underscore allowed), the name tables indexed by an enum (METRICS, VERDICTS, ...)
and the name-to-code dicts (_ACTIVATIONS, _SCALES, ...). Any value that differs fails."""

import os
import re
import unittest

from _support import REPO, regnn

from regnn import _capi, _dataset, _fit, _model, _optimizer, _path

HEADER = os.path.join(REPO, "include", "regnn.h")

# Module constants that mirror nothing of the header.
NOT_MIRRORS = {"MIN_VERSION", "MAX_DIM", "MAX_CARRIED", "SIZE_MAX", "U64_MAX", "I64_MIN",
               "I64_MAX", "_F_ALIGN", "_SEED_BOUND", "HAVE_NUMPY"}

# (tuple of names, C prefix, code of the first name): name i is the constant PREFIX...NAME
# whose value is first + i (a C name may have more words before the Python name, e.g.
# REGNN_METRIC_TRAIN_LOSS for "loss"); the prefix's *_COUNT, if any, is the length.
TABLES = (
    (_fit.METRICS, "REGNN_METRIC_", 1),
    (_fit.VERDICTS, "REGNN_VERDICT_", 0),
    (_fit.REASONS, "REGNN_REASON_", 0),
    (_fit.DIAG_VALUES, "REGNN_DIAG_", 0),
    (_path.RUN_STATS, "REGNN_RUN_", 1),
    (_path.AGGREGATES, "REGNN_AGG_", 0),
    (_path.WARNING_VALUES, "REGNN_WARNVAL_", 0),
)

# (dict name -> code, C prefix): every code is one of the prefix's values, and a name
# that is a constant's (PREFIX + NAME) has its value (the others are aliases).
DICTS = (
    (_model._ACTIVATIONS, "REGNN_ACT_"), (_model._INITS, "REGNN_INIT_"),
    (_model._LAYERTYPES, "REGNN_LAYERTYPE_"),
    (_model._LOSSES, "REGNN_LOSS_"), (_dataset._SCALES, "REGNN_SCALE_"),
    (_fit._MONITORS, "REGNN_MONITOR_"), (_optimizer._STATES, "REGNN_STATE_"),
    (_path._PENALTIES, "REGNN_PENALTY_"), (_path._SELECT_STATS, "REGNN_RUN_"),
    (_path._RULES, "REGNN_SELECT_"),
)


def header_values(text):
    """{REGNN_ name: int} of every enum constant and integer #define of the header text."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    values = {}
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", text, flags=re.S):
        nxt = 0
        for item in body.split(","):
            m = re.fullmatch(r"\s*(REGNN_\w+)\s*(?:=\s*(-?(?:0x[0-9A-Fa-f]+|\d+))[uUlL]*)?\s*",
                             item)
            if m is None:
                if item.strip():
                    raise ValueError("cannot read enum item %r" % item.strip())
                continue
            if m.group(2) is not None:
                nxt = int(m.group(2), 0)
            values[m.group(1)] = nxt
            nxt += 1
    for name, value in re.findall(r"^\s*#\s*define\s+(REGNN_\w+)\s+\(?(-?\d+)[uUlL]*\)?\s*$",
                                  text, flags=re.M):
        values[name] = int(value)
    return values


def module_constants():
    """[(module name, name, value)] of the package's module-level int constants."""
    pkg = os.path.dirname(os.path.abspath(regnn.__file__))
    out = []
    for fname in sorted(os.listdir(pkg)):
        if not fname.endswith(".py") or fname in ("sklearn.py", "dask.py"):
            continue  # those two need optional packages, and mirror no constant
        mod = regnn if fname == "__init__.py" else __import__("regnn." + fname[:-3],
                                                               fromlist=["_"])
        for name, value in vars(mod).items():
            if type(value) is int and re.fullmatch(r"_?[A-Z][A-Z0-9_]*", name):
                out.append((mod.__name__, name, value))
    return out


def mismatches(header_text):
    """What the binding mirrors differently from header_text (empty when all agree)."""
    header = header_values(header_text)
    prefixes = {n.split("_")[1] for n in header}
    bad = []
    for module, name, value in module_constants():
        c_name = "REGNN_" + name.lstrip("_")
        if name in NOT_MIRRORS:
            continue
        if c_name not in header:
            if name.lstrip("_").split("_")[0] in prefixes:
                bad.append("%s.%s: include/regnn.h has no %s" % (module, name, c_name))
        elif header[c_name] != value:
            bad.append("%s.%s is %d, %s is %d" % (module, name, value, c_name, header[c_name]))
    for names, prefix, first in TABLES:
        by_value = {v: n for n, v in header.items()
                    if n.startswith(prefix) and not n.endswith("_COUNT")}
        if len(by_value) != len(names):
            bad.append("%s: %d names, the header has %d" % (prefix, len(names), len(by_value)))
        if prefix + "COUNT" in header and header[prefix + "COUNT"] != len(names):
            bad.append("%sCOUNT is %d, the binding has %d names"
                       % (prefix, header[prefix + "COUNT"], len(names)))
        for i, name in enumerate(names):
            c_name = by_value.get(first + i, "")
            if not c_name.endswith(name.upper().replace(" ", "_")):
                bad.append("%s[%d] %r: the header's code %d is %r"
                           % (prefix, i, name, first + i, c_name or None))
    for table, prefix in DICTS:
        codes = {v for n, v in header.items() if n.startswith(prefix)}
        for name, code in table.items():
            c_name = prefix + name.upper()
            if code not in codes or (c_name in header and header[c_name] != code):
                bad.append("%r: %d is not %s's" % (name, code, c_name))
    return bad


def read_header():
    with open(HEADER, encoding="utf-8") as f:
        return f.read()


class TestConstantsAgainstTheHeader(unittest.TestCase):
    def test_every_mirrored_value_is_the_header_s(self):
        self.assertEqual(mismatches(read_header()), [])

    def test_the_check_sees_every_mirrored_value(self):
        # Change one value of the header at a time: each change must be reported, so every
        # constant the binding mirrors is compared (and none is left out by its spelling).
        text = read_header()
        header = header_values(text)
        mirrored = {"REGNN_" + n.lstrip("_") for _, n, _ in module_constants()} & set(header)
        for names, prefix, first in TABLES:
            mirrored |= {n for n in header if n.startswith(prefix) and not n.endswith("_COUNT")}
        for table, prefix in DICTS:
            mirrored |= {prefix + n.upper() for n in table} & set(header)
        self.assertGreater(len(mirrored), 150)
        for c_name in sorted(mirrored):
            changed, n = re.subn(r"(\b%s\s*=\s*)(-?\d+)" % c_name,
                                 lambda m: m.group(1) + str(int(m.group(2)) + 100), text)
            if n == 0:  # a #define
                changed, n = re.subn(r"(#\s*define\s+%s\s+)(\d+)" % c_name,
                                     lambda m: m.group(1) + str(int(m.group(2)) + 100), text)
            self.assertEqual(n, 1, c_name)
            self.assertNotEqual(mismatches(changed), [], "a changed %s is not noticed" % c_name)

    def test_the_header_is_read_completely(self):
        # Implicit values count on from the previous one; a #define is read too.
        values = header_values("enum { REGNN_A = 3, REGNN_B, /* c */ REGNN_C = 0x10 };\n"
                               "#define REGNN_D 7\n")
        self.assertEqual(values, {"REGNN_A": 3, "REGNN_B": 4, "REGNN_C": 16, "REGNN_D": 7})
        self.assertEqual(header_values(read_header())["REGNN_ABI_VERSION"], _capi.ABI_VERSION)

    def test_version_window(self):
        header = header_values(read_header())
        self.assertLessEqual(_capi.MIN_VERSION, header["REGNN_VERSION_MAJOR"] * 10000
                             + header["REGNN_VERSION_MINOR"] * 100
                             + header["REGNN_VERSION_PATCH"])
        self.assertEqual(_capi.MIN_VERSION // 10000, header["REGNN_VERSION_MAJOR"])


if __name__ == "__main__":
    unittest.main()
