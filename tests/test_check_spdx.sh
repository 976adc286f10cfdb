#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_check_spdx.sh - scripts/check-spdx.sh passes a tree whose source
# files carry the SPDX identifier and fails, naming them, when one lacks it or
# has it too far down; data files need none. Run by `make check`
# (test-check-spdx in mk/docs.mk).

set -u
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-spdx.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
. "$(dirname "$0")/testlib.sh"
CHECK=$(pwd)/scripts/check-spdx.sh

t=$TMP/tree
mkdir -p "$t/src" "$t/scripts" "$t/mk" "$t/examples/data" "$t/fuzz/corpus/csv"
printf '/* SPDX-License-Identifier: MIT */\n/* a.c */\nint a;\n' > "$t/src/a.c"
printf '// SPDX-License-Identifier: MIT\n#pragma once\n' > "$t/src/a.h"
printf '#!/bin/sh\n# SPDX-License-Identifier: MIT\necho hi\n' > "$t/scripts/s.sh"
printf '#!/usr/bin/env python3\n"""doc"""\n# SPDX-License-Identifier: MIT\n' > "$t/scripts/p.py"
printf '# SPDX-License-Identifier: MIT\nall:\n' > "$t/Makefile"
printf '# SPDX-License-Identifier: MIT\nX := 1\n' > "$t/mk/x.mk"
printf 'a,b\n1,2\n' > "$t/examples/data/d.csv"
printf 'x,y\n' > "$t/fuzz/corpus/csv/0123abcd"

if sh "$CHECK" "$t" > "$TMP/out" 2>&1 && grep -q 'all 6 source files' "$TMP/out"; then
    ok "a tree whose sources all carry the identifier passes (data files need none)"; else
    ko "a tree whose sources all carry the identifier passes"; cat "$TMP/out"; fi

# expect_fail "description" file-to-write content text-the-output-must-contain
expect_fail() {
    printf "$3" > "$t/$2"
    sh "$CHECK" "$t" > "$TMP/out" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$4" "$TMP/out"; then ok "$1"; else
        ko "$1 (exit $rc)"; cat "$TMP/out"; fi
    rm -f "$t/$2"
}
expect_fail "a C file without the identifier fails, by name" src/b.c 'int b;\n' "check-spdx: src/b.c: no"
expect_fail "a Python file without it fails" scripts/q.py 'print(1)\n' "scripts/q.py: no"
expect_fail "an identifier below the first lines fails" src/c.c \
    '/* c.c */\n\n\n\n\n\n/* SPDX-License-Identifier: MIT */\n' "src/c.c: no"
expect_fail "another license's identifier fails" src/d.h \
    '/* SPDX-License-Identifier: GPL-2.0 */\n' "src/d.h: no"
expect_fail "the count of files without it is given" CMakeLists.txt 'project(x)\n' \
    "1 of 7 source files lack the SPDX identifier"

echo "test_check_spdx: $pass passed, $fail failed"
[ $fail -eq 0 ]
