#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/check-libm.sh SO [DOC]: the C library's mathematical functions that
# round (libm functions other than the exact ones below) which the shared
# library SO calls must be exactly those the table of DOC lists (default
# docs/reproducibility.md, "The C library's mathematical functions": the
# backquoted names of each row's first column). Their bits are where results
# may differ between C libraries, so a new call must be listed there.
set -eu
so=$1
doc=${2:-docs/reproducibility.md}
[ -f "$so" ] || { echo "check-libm: no library $so" >&2; exit 2; }
[ -f "$doc" ] || { echo "check-libm: no $doc" >&2; exit 2; }
# Exact by IEEE-754 or by definition (no rounding): they cannot differ.
EXACT="ceil copysign copysignf fabs fabsf floor floorf fma fmaf fmax fmaxf fmin fminf frexp frexpf
ldexp ldexpf lrint lround nearbyint rint round roundf sqrt sqrtf trunc truncf"

libm=$(${CC:-cc} -print-file-name=libm.so.6)
[ -f "$libm" ] || libm=$(ldconfig -p 2>/dev/null | awk '/libm\.so\.6 / { print $NF; exit }')
[ -f "$libm" ] || { echo "check-libm: cannot find libm.so.6" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$libm" | awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u > "$tmp/libm"
nm -D --undefined-only "$so" | awk '{ sub(/@.*/, "", $2); print $2 }' | sort -u > "$tmp/undef"
printf '%s\n' $EXACT | sort -u > "$tmp/exact"
comm -12 "$tmp/undef" "$tmp/libm" | comm -23 - "$tmp/exact" > "$tmp/called"
awk '/^- \*\*The C library.s mathematical functions/ { t = 1; next }
     t && /^- \*\*/ { exit }
     t && /^ *\| `/ { split($0, c, "|"); s = c[2]
                      while (match(s, /`[a-z0-9_]+`/)) { print substr(s, RSTART + 1, RLENGTH - 2); s = substr(s, RSTART + RLENGTH) } }' \
    "$doc" | sort -u > "$tmp/listed"
[ -s "$tmp/listed" ] || { echo "check-libm: no function table found in $doc" >&2; exit 1; }
if ! cmp -s "$tmp/called" "$tmp/listed"; then
    echo "check-libm: the rounding libm functions $so calls differ from $doc's table:"
    comm -23 "$tmp/called" "$tmp/listed" | sed 's/^/  called, not listed: /'
    comm -13 "$tmp/called" "$tmp/listed" | sed 's/^/  listed, not called: /'
    exit 1
fi
echo "check-libm: $(wc -l < "$tmp/called" | tr -d ' ') rounding libm functions called ($(tr '\n' ' ' < "$tmp/called" | sed 's/ $//')), each in $doc's table"
