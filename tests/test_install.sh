#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_install.sh - the README's lines for a program built against an
# installed library work as written: `make install PREFIX=DIR` into a
# temporary prefix, then examples/quickstart.c built with the README's
# pkg-config line exits 127 (no run path, as the README warns), runs with
# LD_LIBRARY_PATH=DIR/lib, and runs as built with the README's -rpath line.
# Run by `make check` (test-install in mk/docs.mk). Skips without pkg-config.
#
# Usage: MAKE=make sh tests/test_install.sh [make arguments, e.g. BLAS=openblas]

set -u
MAKE=${MAKE:-make}
CC=${CC:-cc}
. "$(dirname "$0")/testlib.sh"

if ! command -v pkg-config > /dev/null 2>&1; then
    echo "test_install: skipped: no pkg-config (the README's lines use it)"
    exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-install.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
unset LD_LIBRARY_PATH
prefix=$TMP/prefix

if $MAKE --no-print-directory "$@" install PREFIX="$prefix" > "$TMP/install.log" 2>&1; then
    ok "make install PREFIX=$prefix"; else
    ko "make install PREFIX=$prefix"; cat "$TMP/install.log"
    echo "test_install: $pass passed, $fail failed"; exit 1
fi

# The README's two lines that build quickstart.c against the installed library.
grep -F 'cc -std=c11 quickstart.c $(pkg-config --cflags --libs regnn)' README.md |
    sed 's/^ *//' > "$TMP/lines"
plain=$(grep -v rpath "$TMP/lines")
rpath=$(grep rpath "$TMP/lines")
if [ "$(wc -l < "$TMP/lines")" -eq 2 ] && [ -n "$plain" ] && [ -n "$rpath" ]; then
    ok "the README has the plain and the run-path line"; else
    ko "the README has the plain and the run-path line"; cat "$TMP/lines"; fi

mkdir -p "$TMP/w/plain" "$TMP/w/rpath"
cp examples/quickstart.c "$TMP/w/plain/" && cp examples/quickstart.c "$TMP/w/rpath/"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# build DIR LINE: the README's line, run by the shell as a user would, with cc as $CC.
build() {
    (cd "$1" && eval "$(printf '%s\n' "$2" | sed "s|^cc |\"\$CC\" |")") > "$TMP/cc.log" 2>&1
}

if build "$TMP/w/plain" "$plain"; then
    ok "the plain pkg-config line builds"
    "$TMP/w/plain/quickstart" > /dev/null 2> "$TMP/run.log"
    rc=$?
    if [ $rc -eq 127 ] && grep -q 'libregnn.so.1' "$TMP/run.log"; then
        ok "without a run path it exits 127, not finding libregnn.so.1 (as the README says)"; else
        ko "without a run path it exits 127, not finding libregnn.so.1 (exit $rc)"; cat "$TMP/run.log"; fi
    if LD_LIBRARY_PATH="$prefix/lib" "$TMP/w/plain/quickstart" > /dev/null 2> "$TMP/run.log"; then
        ok "LD_LIBRARY_PATH=DIR/lib ./quickstart runs"; else
        ko "LD_LIBRARY_PATH=DIR/lib ./quickstart runs"; cat "$TMP/run.log"; fi
else
    ko "the plain pkg-config line builds"; cat "$TMP/cc.log"
fi

if build "$TMP/w/rpath" "$rpath"; then
    ok "the -rpath line builds"
    if "$TMP/w/rpath/quickstart" > "$TMP/run.out" 2> "$TMP/run.log"; then
        ok "built with the -rpath line, it runs as built"; else
        ko "built with the -rpath line, it runs as built"; cat "$TMP/run.log"; fi
    if command -v ldd > /dev/null 2>&1; then
        if ldd "$TMP/w/rpath/quickstart" | grep -qF "$prefix/lib/libregnn.so.1"; then
            ok "it loads the installed libregnn.so.1"; else
            ko "it loads the installed libregnn.so.1"; ldd "$TMP/w/rpath/quickstart"; fi
    fi
else
    ko "the -rpath line builds"; cat "$TMP/cc.log"
fi

# The installed regnn program finds the installed library by itself.
if "$prefix/bin/regnn" --version > "$TMP/v.out" 2>&1; then
    ok "the installed regnn runs ($(cat "$TMP/v.out"))"; else
    ko "the installed regnn runs"; cat "$TMP/v.out"; fi

echo "test_install: $pass passed, $fail failed"
[ $fail -eq 0 ]
