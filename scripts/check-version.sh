#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/check-version.sh - the version is VERSION in the Makefile; every copy
# says the same: the header's macros, the README, the newest CHANGELOG.md
# section, the API reference, docs/python.md's wheel name, the manual page,
# the Python package, and what `regnn --version` prints. Run by `make check`
# (check-version in mk/docs.mk); tests/test_check_docs.sh shows it fails when a
# copy differs.
#
# Usage: sh scripts/check-version.sh [--root DIR] [--regnn PATH]
# Exit status 0 when all agree, 1 (naming each copy that differs) otherwise.

set -u
root=.
regnn=
while [ $# -gt 0 ]; do
    case $1 in
        --root) root=$2; shift 2 ;;
        --regnn) regnn=$2; shift 2 ;;
        *) echo "usage: check-version.sh [--root DIR] [--regnn PATH]" >&2; exit 2 ;;
    esac
done

v=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*\([0-9][0-9.]*\)[[:space:]]*$/\1/p' "$root/Makefile")
case $v in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) echo "check-version: no VERSION := X.Y.Z in $root/Makefile" >&2; exit 2 ;;
esac
major=${v%%.*} rest=${v#*.}
minor=${rest%%.*} patch=${rest#*.}
number=$((major * 10000 + minor * 100 + patch))

bad=0
# expect FILE "what" TEXT: FILE contains the literal TEXT.
expect() {
    if ! grep -qF -- "$3" "$root/$1"; then
        echo "check-version: $1: $2 is not $v (expected the text: $3)"
        bad=1
    fi
}
hdr=include/regnn.h
expect $hdr "REGNN_VERSION_MAJOR" "#define REGNN_VERSION_MAJOR $major"
expect $hdr "REGNN_VERSION_MINOR" "#define REGNN_VERSION_MINOR $minor"
expect $hdr "REGNN_VERSION_PATCH" "#define REGNN_VERSION_PATCH $patch"
expect $hdr "REGNN_VERSION_STRING" "#define REGNN_VERSION_STRING \"$v\""
expect README.md "the version line" "Version $v ([CHANGELOG.md](CHANGELOG.md))"
expect README.md "the shared library's file name" "lib/libregnn.so.$v"
expect docs/api.md "the version macros' values" "| $major, $minor, $patch, \`\"$v\"\` |"
expect docs/api.md "REGNN_VERSION_NUMBER" "($number for $v)"
expect docs/api.md "REGNN_VERSION_STRING" "\`REGNN_VERSION_STRING\` (\`\"$v\"\`)"
expect docs/python.md "the wheel's name" "regnn-$v-py3-none"
expect docs/regnn.1 "the manual page's version" "\"libregnn $v\""
expect python/regnn/__init__.py "__version__" "__version__ = \"$v\""

# The newest section of the changelog is this version, with a date.
top=$(grep -m1 '^## \[' "$root/CHANGELOG.md" | sed -n 's/^## \[\([^]]*\)\].*/\1/p')
if [ "$top" != "$v" ]; then
    echo "check-version: CHANGELOG.md: the newest section is '${top:-none}', not $v"
    bad=1
elif ! grep -q "^## \[$v\] - [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]\$" "$root/CHANGELOG.md"; then
    echo "check-version: CHANGELOG.md: the section of $v has no date (## [$v] - YYYY-MM-DD)"
    bad=1
fi

if [ -n "$regnn" ]; then
    out=$("$regnn" --version 2>&1)
    case $out in
        "regnn $v (libregnn $v, "*) ;;
        *) echo "check-version: $regnn --version prints '$out', not version $v of both"; bad=1 ;;
    esac
fi

if [ $bad -ne 0 ]; then exit 1; fi
echo "check-version: version $v in the Makefile, header, README, CHANGELOG.md, docs, manual page, Python package${regnn:+ and regnn --version}"
