#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/check-suites.sh LOGDIR MAKE-COMMAND SUITE... : how `make check` runs
# its suites. Each suite is one make target, run as `MAKE-COMMAND SUITE` after a
# line saying it starts; its output goes to the terminal and to LOGDIR/SUITE.log.
# Every suite runs even when one fails. At the end (also after a failure) a table
# gives each suite's passed / skipped / failed counts and time, then why each
# skip happened. Exits 1 when any suite failed.
#
# The counts come from the lines the suites print: Check's "N%: Checks: N,
# Failures: N, Errors: N", the shell tests' and the Python suite's "N passed,
# N failed[, N skipped]", and a skip is a line "skip - why" or "target: skipped,
# why". A suite that prints no count shows "-" (it passed or failed as a whole).

set -u
[ $# -ge 2 ] || { echo "usage: sh scripts/check-suites.sh LOGDIR MAKE-COMMAND SUITE..." >&2; exit 2; }
LOGDIR=$1
MAKECMD=$2
shift 2
mkdir -p "$LOGDIR" || exit 1
rm -f "$LOGDIR"/*.log "$LOGDIR"/*.status "$LOGDIR/summary"

# counts LOG: "passed skipped failed" read from LOG (empty fields are "-").
counts() {
    awk '
        function add(v, n) { c[v] += n; seen[v] = 1 }
        /^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
            gsub(/[,%:]/, " "); add("p", $3 - $5 - $7); add("f", $5 + $7); next }
        /^([A-Za-z_-][A-Za-z_ -]*: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/ {
            s = $0; sub(/^[A-Za-z_ -]+: /, "", s); split(s, w, /[ ,]+/)
            add("p", w[1]); add("f", w[3]); if (w[5] != "") add("s", w[5]); next }
        /^skip - / || /^[A-Za-z0-9_-]+: skipped, / { add("s", 1) }
        END {
            printf "%s %s %s\n", (seen["p"] ? c["p"] : "-"), (seen["s"] ? c["s"] : (seen["p"] ? 0 : "-")),
                   (seen["f"] ? c["f"] : "-")
        }' "$1"
}

for s in "$@"; do
    printf '\n==== make check: %s\n' "$s"
    t0=$(date +%s)
    # The make's status, not tee's (POSIX sh has no pipefail).
    ( $MAKECMD "$s" 2>&1; echo $? > "$LOGDIR/$s.status" ) | tee "$LOGDIR/$s.log"
    t1=$(date +%s)
    st=$(cat "$LOGDIR/$s.status" 2>/dev/null || echo 1)
    if [ "$st" = 0 ]; then res=ok; else res=FAILED; fi
    printf '%s %s %s %s\n' "$s" "$res" "$(counts "$LOGDIR/$s.log")" "$((t1 - t0))" >> "$LOGDIR/summary"
done

echo
echo "==== make check: summary (logs in $LOGDIR/)"
printf '%-26s %-7s %7s %8s %7s %7s\n' suite result passed skipped failed time
nfail=0
while read -r s res p sk f t; do
    printf '%-26s %-7s %7s %8s %7s %6ss\n' "$s" "$res" "$p" "$sk" "$f" "$t"
    [ "$res" = ok ] || nfail=$((nfail + 1))
done < "$LOGDIR/summary"
awk 'function n(x) { return x == "-" ? 0 : x }
     { p += n($3); s += n($4); f += n($5); t += $6 }
     END { printf "%-26s %-7s %7d %8d %7d %6ds\n", "total", "", p, s, f, t }' "$LOGDIR/summary"
skips=$(for s in "$@"; do
    grep -E '^skip - |^[A-Za-z0-9_-]+: skipped(,| [0-9]+:) ' "$LOGDIR/$s.log" | sed "s/^/  $s: /"; done)
if [ -n "$skips" ]; then echo "skipped, and why:"; echo "$skips"; fi
if [ "$nfail" -ne 0 ]; then
    echo "make check: FAILED:$(awk '$2 != "ok" { printf " %s", $1 }' "$LOGDIR/summary")" >&2
    exit 1
fi
exit 0
