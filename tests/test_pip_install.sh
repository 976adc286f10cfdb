#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_pip_install.sh - the Python package, offline, from a clean copy of
# this tree (its tracked and untracked-but-not-ignored files, so no lib/):
#   (a) a wheel built with `python3 -m build --no-isolation --wheel` (or, without
#       python3-build, `pip wheel --no-build-isolation --no-deps .`) must be
#       regnn-VERSION-py3-none-<platform>.whl holding regnn/libregnn.so.1;
#       installed with `pip install --no-index` into a fresh
#       `python3 -m venv --system-site-packages`, `import regnn` from /tmp must
#       load the package and the library inside the venv, and the whole Python
#       suite (python/tests/run_tests.py, REGNN_TEST_INSTALLED=1) must pass there,
#       run from outside the tree without python/ on the module path;
#   (b) the sdist (python3-build only) must build a working wheel too;
#   (c) the README's pip lines, read out of README.md (its ```sh block with
#       `pip install --no-build-isolation .`; docs/python.md must hold the same
#       lines), run as written in another clean copy, offline (PIP_NO_INDEX=1),
#       with the venv in a temporary folder: the package must import from /tmp
#       and pass the suite.
# Python modules are looked for from a neutral folder: in the tree, build/ (the
# build output) would import as a namespace package named `build`.
# Skips (exit 0) when python3 lacks venv, pip, setuptools or wheel. Run by
# `make check` (test-pip). PYTHON=... chooses the interpreter (default: Debian's
# /usr/bin/python3 when it exists). Prints "N passed, N failed"; exits 1 if
# anything failed.

set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
    if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
T=${REGNN_PIP_TIMEOUT:-600}   # seconds for each build, install or test run

TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-pip.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
# A make check's jobserver and settings are not the package build's business; the
# tests must find the installed package and its library by themselves.
unset MAKEFLAGS MFLAGS MAKELEVEL REGNN_LIBRARY PYTHONPATH LD_LIBRARY_PATH PYTHONHOME
mkdir -p "$TMP/run"

# has_module M: $PYTHON imports M from a neutral folder ($TMP/run), where no
# folder of the current directory (such as the tree's build/) can pass for M.
has_module() { (cd "$TMP/run" && "$PYTHON" -c "import $1") >/dev/null 2>&1; }

# The README's pip block: the first ```sh block of README.md that runs
# `pip install --no-build-isolation .`, one line a line.
readme_pip_block() {
    awk '/^ *```sh/ { inb = 1; blk = ""; next }
         inb && /^ *```/ { if (blk ~ /pip install --no-build-isolation \./) { printf "%s", blk; exit } inb = 0; next }
         inb { sub(/^  /, ""); blk = blk $0 "\n" }' "$1"
}
README_PIP=$(readme_pip_block "$SRC/README.md")
APT_LINE=$(echo "$README_PIP" | grep 'apt-get install')

missing=""
command -v "$PYTHON" >/dev/null 2>&1 || missing="python3"
if [ -z "$missing" ]; then
    for m in venv ensurepip pip setuptools wheel; do
        has_module "$m" || missing="$missing $m"
    done
fi
for tool in make cc; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    echo "skip - $PYTHON lacks:$missing ($APT_LINE): pip install is not tested"
    exit 0
fi
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
VERSION=$(sed -n 's/^VERSION *:= *//p' "$SRC/Makefile")

. "$(dirname "$0")/testlib.sh"
# logged NAME CMD...: runs CMD with a timeout, its output in $TMP/NAME.log
# (shown when it fails).
logged() {
    name=$1
    shift
    if timeout "$T" "$@" > "$TMP/$name.log" 2>&1; then return 0; fi
    echo "---- $name failed: $*"
    tail -n 30 "$TMP/$name.log"
    return 1
}

# copy DEST: a clean copy of the tree, as a fresh clone would be (plus local edits).
copy() {
    mkdir -p "$1"
    if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$SRC" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf -) | tar -xf - -C "$1"
    else
        (cd "$SRC" && tar -cf - --exclude=./build --exclude=./lib --exclude=./out --exclude=./dist \
            --exclude='*.egg-info' .) | tar -xf - -C "$1"
    fi
}

# wheel_ok WHEEL: named and tagged for this platform, with the library inside.
wheel_ok() {
    case $(basename "$1") in
        regnn-"$VERSION"-py3-none-linux_*.whl) ;;
        *) echo "unexpected wheel name: $1"; return 1 ;;
    esac
    "$PYTHON" - "$1" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
wheel = zipfile.ZipFile(sys.argv[1]).read(
    [n for n in names if n.endswith(".dist-info/WHEEL")][0]).decode()
need = {"regnn/__init__.py", "regnn/_capi.py", "regnn/libregnn.so.1"}
print("wheel:", sorted(n for n in names if n.startswith("regnn/")))
sys.exit(0 if need <= set(names) and "Root-Is-Purelib: false" in wheel
         and "Tag: py3-none-linux_" in wheel else 1)
EOF
}

# venv NAME: a fresh venv that sees the system's packages (numpy, setuptools, wheel).
venv() { logged "venv-$1" "$PYTHON" -m venv --system-site-packages "$TMP/$1"; }

# imports_from VENV: `import regnn` from /tmp loads the package and library in VENV.
imports_from() {
    (cd "$TMP/run" && timeout "$T" "$TMP/$1/bin/python" - "$TMP/$1" "$VERSION") <<'EOF'
import os, sys
import regnn
venv, version = os.path.realpath(sys.argv[1]), sys.argv[2]
pkg = os.path.dirname(os.path.realpath(regnn.__file__))
print("    regnn %s from %s, library %s" % (regnn.__version__, regnn.__file__, regnn.library_path))
sys.exit(0 if pkg.startswith(venv + os.sep) and pkg.endswith(os.sep + "site-packages" + os.sep + "regnn")
         and regnn.library_path == os.path.join(os.path.dirname(regnn.__file__), "libregnn.so.1")
         and os.path.isfile(regnn.library_path) and not os.path.islink(regnn.library_path)
         and regnn.__version__ == version and regnn.library_version() == version else 1)
EOF
}

# suite VENV COPY: COPY's Python tests, run from /tmp, against the package in VENV
# (COPY, not $SRC: examples/diabetes.py, which test_example runs, takes the tree's
# binding and the lib/ that pip built there).
suite() {
    (cd "$TMP/run" && export REGNN_TEST_INSTALLED=1 && logged "suite-$1" \
        "$TMP/$1/bin/python" "$TMP/$2/python/tests/run_tests.py") || return 1
    grep -E '^regnn Python tests|^python: |skipped' "$TMP/suite-$1.log" | sed 's/^/    /'
}

mkdir -p "$TMP/dist" "$TMP/sdist"
copy "$TMP/src"
check "the copy has no built library" test ! -e "$TMP/src/lib"
# The trap has_module avoids: from a folder holding a folder M, `import M` works.
mkdir -p "$TMP/fool/regnn_no_such_module"
check "from a folder holding regnn_no_such_module/, python imports it" \
    sh -c "cd '$TMP/fool' && '$PYTHON' -c 'import regnn_no_such_module'"
detect_from() { (cd "$1" && ! has_module "$2"); }
check "has_module from that folder: no regnn_no_such_module" detect_from "$TMP/fool" regnn_no_such_module

# (a) wheel -> venv -> pip install --no-index -> suite
if has_module build; then
    check "python3 -m build --no-isolation --wheel" \
        logged wheel sh -c "cd '$TMP/src' && '$PYTHON' -m build --no-isolation --wheel --outdir '$TMP/dist'"
else
    echo "note - no python3-build: building the wheel with pip wheel"
    check "pip wheel --no-build-isolation --no-deps ." \
        logged wheel sh -c "cd '$TMP/src' && '$PYTHON' -m pip wheel --no-build-isolation --no-deps --wheel-dir '$TMP/dist' ."
fi
WHL=$(ls "$TMP"/dist/*.whl 2>/dev/null | head -n 1)
if [ -n "$WHL" ]; then
    check "wheel $(basename "$WHL") is platform-specific and holds regnn/libregnn.so.1" wheel_ok "$WHL"
    check "fresh venv (--system-site-packages)" venv venv1
    check "pip install --no-index the wheel" logged install1 "$TMP/venv1/bin/python" -m pip install --no-deps "$WHL"
    check "import regnn from /tmp: the venv's package and library, version $VERSION" imports_from venv1
    check "REGNN_LIBRARY still overrides the bundled library" sh -c \
        "cd '$TMP/run' && REGNN_LIBRARY='$TMP/src/lib/libregnn.so.$VERSION' '$TMP/venv1/bin/python' -c \
         'import regnn; assert regnn.library_path.startswith(\"$TMP/src/lib/\"), regnn.library_path'"
    check "Python suite against the installed wheel" suite venv1 src
else
    ko "no wheel was built"
fi

# (b) sdist -> wheel
if has_module build; then
    copy "$TMP/src-sdist"
    check "python3 -m build --no-isolation --sdist" \
        logged sdist sh -c "cd '$TMP/src-sdist' && '$PYTHON' -m build --no-isolation --sdist --outdir '$TMP/sdist'"
    SDIST=$(ls "$TMP"/sdist/regnn-"$VERSION".tar.gz 2>/dev/null)
    if [ -n "$SDIST" ]; then
        check "a wheel built from the sdist holds the library" sh -c \
            "cd '$TMP/sdist' && tar -xzf '$SDIST' && cd regnn-$VERSION && test ! -e lib &&
             timeout $T '$PYTHON' -m pip wheel --no-build-isolation --no-deps --wheel-dir '$TMP/sdist/w' . \
               > '$TMP/sdist-wheel.log' 2>&1 && ls '$TMP'/sdist/w/regnn-$VERSION-py3-none-linux_*.whl >/dev/null" &&
        check "the sdist's wheel: regnn/libregnn.so.1 inside" wheel_ok "$(ls "$TMP"/sdist/w/*.whl | head -n 1)"
    else
        ko "no sdist regnn-$VERSION.tar.gz was built"
    fi
fi

# (c) the README's pip lines, as written, in another clean copy. Its venv goes to
# $TMP/venv2 instead of the home folder; pip stays offline (PIP_NO_INDEX=1).
copy "$TMP/src2"
echo "$README_PIP" > "$TMP/readme-pip.txt"
check "README.md has a pip block: apt-get, venv, pip install lines" sh -c \
    "grep -q 'apt-get install' '$TMP/readme-pip.txt' && grep -q ' -m venv ' '$TMP/readme-pip.txt' &&
     grep -q 'pip install --no-build-isolation \.' '$TMP/readme-pip.txt'"
check "docs/python.md has the README's venv and pip lines" sh -c \
    "grep -e ' -m venv ' -e 'pip install' '$TMP/readme-pip.txt' | while IFS= read -r l; do
       grep -qxF \"\$l\" '$SRC/docs/python.md' || { echo \"not in docs/python.md: \$l\"; exit 1; }; done"
VENV_DIR=$(echo "$README_PIP" | grep ' -m venv ' | tr ' ' '\n' | grep '^~/' | head -n 1)
check "the README's venv folder is ~/...: ${VENV_DIR:-none}" test -n "$VENV_DIR"
n=0
echo "$README_PIP" | grep -v 'apt-get install' | sed "s|${VENV_DIR:-~/}|$TMP/venv2|g" > "$TMP/readme-pip.sh"
while IFS= read -r line; do
    n=$((n + 1))
    check "README: $line" logged "readme-$n" sh -c "cd '$TMP/src2' && $line"
done < "$TMP/readme-pip.sh"
check "import regnn from /tmp after the README's pip install ." imports_from venv2
check "Python suite against the README's pip install ." suite venv2 src2

echo "pip install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
