#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shared library must export exactly the functions include/regnn.h declares
# (compared against the header, not a hand-kept list) and carry SONAME libregnn.so.<ABI>.
set -euo pipefail
so=${1:-lib/libregnn.so}
hdr=${2:-include/regnn.h}
abi=$(sed -n 's/^#define REGNN_ABI_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$hdr")

declared=$(mktemp); exported=$(mktemp)
trap 'rm -f "$declared" "$exported"' EXIT
# Every identifier followed by '(' right after a REGNN_API declaration.
tr '\n' ' ' < "$hdr" | grep -o 'REGNN_API[^;]*;' | grep -o 'regnn_[a-z0-9_]*[[:space:]]*(' \
    | sed 's/[[:space:]]*($//' | sort -u > "$declared"
nm -D --defined-only "$so" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u > "$exported"

status=0
if ! diff -u "$declared" "$exported" > /dev/null; then
    echo "exported symbols differ from the header's declarations (- header only, + library only):"
    diff -u "$declared" "$exported" | grep -E '^[-+][a-z_]' || true
    status=1
fi
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" != "libregnn.so.$abi" ]; then
    echo "SONAME is '$soname', expected libregnn.so.$abi"
    status=1
fi
[ $status -eq 0 ] && echo "exports: $(wc -l < "$exported") functions, all declared in $hdr; SONAME $soname"
exit $status
