#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_check_docs.sh - scripts/check-docs.py passes on the real tree and
# fails, naming the problem, when the reference falls behind the header; so do
# scripts/docs-toc.py when the contents of docs/api.md are stale, and
# scripts/check-version.sh when a copy of the version differs (run by
# `make check`, target check-docs in mk/docs.mk).
#
# Usage: sh tests/test_check_docs.sh [PYTHON]   (default: /usr/bin/python3 if present)

set -u
PY=${1:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3 )}
CHECK=scripts/check-docs.py
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-checkdocs.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

. "$(dirname "$0")/testlib.sh"

# expect_fail "description" "text the output must contain" header doc
expect_fail() {
    "$PY" "$CHECK" --header "$3" --doc "$4" > "$TMP/out" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$2" "$TMP/out"; then ok "$1"; else
        ko "$1 (exit $rc)"; cat "$TMP/out"; fi
}

# The real tree, with the given interpreter and with a plain python3 from PATH.
for py in "$PY" python3; do
    command -v "$py" > /dev/null 2>&1 || continue
    if "$py" "$CHECK" > "$TMP/out" 2>&1; then ok "the real header and reference pass ($py)"; else
        ko "the real header and reference pass ($py)"; cat "$TMP/out"; fi
done

# The header with one more function, enum constant and macro, inside the
# closing extern "C" block (before the last #ifdef __cplusplus).
awk '{ line[NR] = $0 } /^#ifdef __cplusplus$/ { last = NR }
     END { for (i = 1; i <= NR; i++) {
             if (i == last) {
                 print "REGNN_API regnn_status regnn_fake_function(regnn_model *m, int flag);"
                 print "#define REGNN_FAKE_MACRO 3"
                 print "enum { REGNN_FAKE_CONSTANT = 99 };"
             }
             print line[i] } }' include/regnn.h > "$TMP/extra.h"
[ "$(grep -c FAKE_ "$TMP/extra.h")" -eq 2 ] || ko "could not build the test header"
expect_fail "an undocumented function fails" "function regnn_fake_function is not mentioned" \
    "$TMP/extra.h" docs/api.md
expect_fail "an undocumented enum constant fails" "enum constant REGNN_FAKE_CONSTANT is not mentioned" \
    "$TMP/extra.h" docs/api.md
expect_fail "an undocumented macro fails" "macro REGNN_FAKE_MACRO is not mentioned" \
    "$TMP/extra.h" docs/api.md

# Named in the text but without a prototype.
cp docs/api.md "$TMP/named.md"
printf '\n`regnn_fake_function(m, 1)`, `REGNN_FAKE_CONSTANT`, `REGNN_FAKE_MACRO`\n' >> "$TMP/named.md"
expect_fail "a function without a prototype fails" "function regnn_fake_function has no prototype" \
    "$TMP/extra.h" "$TMP/named.md"

# With a prototype that differs from the header (int flag -> long flag) ...
cp "$TMP/named.md" "$TMP/proto.md"
printf '\n```c\nregnn_status regnn_fake_function(regnn_model *m, long flag);\n```\n' >> "$TMP/proto.md"
expect_fail "a prototype that differs from the header fails" "prototype of regnn_fake_function differs" \
    "$TMP/extra.h" "$TMP/proto.md"
# ... and the same prototype, spaced differently, passes.
cp "$TMP/named.md" "$TMP/good.md"
printf '\n```c\nregnn_status  regnn_fake_function( regnn_model* m,\n    int flag );\n```\n' >> "$TMP/good.md"
if "$PY" "$CHECK" --header "$TMP/extra.h" --doc "$TMP/good.md" > "$TMP/out" 2>&1; then
    ok "a prototype equal up to whitespace passes"; else
    ko "a prototype equal up to whitespace passes"; cat "$TMP/out"; fi

# A call in the text with the wrong number of arguments.
cp docs/api.md "$TMP/arity.md"
printf '\nSave with `regnn_model_save(m)`.\n' >> "$TMP/arity.md"
expect_fail "a call with too few arguments fails" "regnn_model_save(m) has 1 argument, the function takes 2" \
    include/regnn.h "$TMP/arity.md"

# A prototype of a function the header does not declare.
cp docs/api.md "$TMP/stale.md"
printf '\n```c\nregnn_status regnn_removed_function(void);\n```\n' >> "$TMP/stale.md"
expect_fail "a prototype of an unknown function fails" "regnn_removed_function, which the header does not declare" \
    include/regnn.h "$TMP/stale.md"

# A name removed from the reference is reported.
sed 's/REGNN_RUN_TEST_MSE/REGNN_RUN_TESTMSE/g' docs/api.md > "$TMP/dropped.md"
expect_fail "a constant missing from the reference fails" "enum constant REGNN_RUN_TEST_MSE is not mentioned" \
    include/regnn.h "$TMP/dropped.md"

# The contents of docs/api.md (scripts/docs-toc.py).
TOC=scripts/docs-toc.py
toc_fail() { # toc_fail "description" "text the output must contain" args...
    d=$1 want=$2
    shift 2
    "$PY" "$TOC" "$@" > "$TMP/out" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$want" "$TMP/out"; then ok "$d"; else
        ko "$d (exit $rc)"; cat "$TMP/out"; fi
}
if "$PY" "$TOC" docs/api.md --links README.md > "$TMP/out" 2>&1; then
    ok "the contents of docs/api.md are current"; else
    ko "the contents of docs/api.md are current"; cat "$TMP/out"; fi
printf '\n## A new section\n\ntext\n' | cat docs/api.md - > "$TMP/toc.md"
toc_fail "a heading missing from the contents fails" "the contents differ from the headings" "$TMP/toc.md"
"$PY" "$TOC" --update "$TMP/toc.md" > /dev/null
if grep -qF -- '- [A new section](#a-new-section)' "$TMP/toc.md" && "$PY" "$TOC" "$TMP/toc.md" > /dev/null; then
    ok "--update adds the heading to the contents"; else ko "--update adds the heading to the contents"; fi
printf 'See [the path](docs/api.md#no-such-heading).\n' > "$TMP/links.md"
toc_fail "a link to a heading docs/api.md lacks fails" "link to api.md#no-such-heading" \
    docs/api.md --links "$TMP/links.md"

# The version's copies (scripts/check-version.sh), in a copy of the files it reads.
vroot=$TMP/version
vcopy() {
    rm -rf "$vroot" && mkdir -p "$vroot/include" "$vroot/docs" "$vroot/python/regnn" &&
    cp Makefile README.md CHANGELOG.md "$vroot/" && cp include/regnn.h "$vroot/include/" &&
    cp docs/api.md docs/python.md docs/regnn.1 "$vroot/docs/" &&
    cp python/regnn/__init__.py "$vroot/python/regnn/"
}
vcopy
if sh scripts/check-version.sh --root "$vroot" > "$TMP/out" 2>&1; then
    ok "the version's copies agree"; else ko "the version's copies agree"; cat "$TMP/out"; fi
v=$(sed -n 's/^VERSION *:= *//p' Makefile)
# version_fail "description" "text the output must contain" file sed-expression [--regnn PROG]
version_fail() {
    d=$1 want=$2 f=$3 e=$4
    shift 4
    vcopy
    sed -i "$e" "$vroot/$f"
    sh scripts/check-version.sh --root "$vroot" "$@" > "$TMP/out" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$want" "$TMP/out"; then ok "$d"; else
        ko "$d (exit $rc)"; cat "$TMP/out"; fi
}
version_fail "a header version that differs fails" "include/regnn.h: REGNN_VERSION_STRING" \
    include/regnn.h "s/REGNN_VERSION_STRING \"$v\"/REGNN_VERSION_STRING \"9.9.9\"/"
version_fail "a README version that differs fails" "README.md: the version line" \
    README.md "s/^Version $v /Version 9.9.9 /"
version_fail "a changelog without the version's section fails" "CHANGELOG.md: the newest section is" \
    CHANGELOG.md "s/^## \[$v\]/## [9.9.9]/"
version_fail "a changelog section without a date fails" "has no date" \
    CHANGELOG.md "s/^\(## \[$v\]\) - .*/\1/"
printf '#!/bin/sh\necho "regnn 9.9.9 (libregnn %s, builtin GEMM)"\n' "$v" > "$TMP/fake-regnn"
chmod +x "$TMP/fake-regnn"
version_fail "a regnn --version that differs fails" "--version prints 'regnn 9.9.9" \
    Makefile "s/^x//" --regnn "$TMP/fake-regnn"

echo "test_check_docs: $pass passed, $fail failed"
[ $fail -eq 0 ]
