#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/fresh-check.sh (make fresh-check): the README's quick start on a fresh
# minimal Debian 12. Needs root (debootstrap, mount, chroot) and network access
# to the host's Debian mirror.
#
#   1. A minimal Debian 12 root (debootstrap --variant=minbase, the mirror taken
#      from the host's apt sources, which the root then uses too) plus what the
#      quick start assumes, a C compiler and make (build-essential). Cached as
#      a tarball in $REGNN_FRESH_CACHE (default /var/cache/regnn-fresh), one per
#      day and mirror; rebuilt when missing.
#   2. Round 1: the root unpacked afresh, proc, sys, dev and dev/pts mounted, a
#      clean clone of this repository's HEAD copied in, and the commands of the
#      README's quick start run in it as root, exactly as written there (read out
#      of README.md, not copied here). `make check` installs what it needs itself.
#   3. Round 2 (also when round 1 failed): in the same root, the README's
#      optional apt-get line (its `sudo` dropped: this runs as root), then the
#      same commands in a second clean clone.
#   Round 1 must have used the built-in GEMM (and said so), round 2 OpenBLAS.
#
# Every command runs under `timeout`. Prints each round's make check summary
# (the suites, what was skipped and why), then one line per command with its
# time. Exits 1 when any command failed. Logs stay in $REGNN_FRESH_WORK (default:
# a temporary folder, deleted at the end unless REGNN_FRESH_KEEP=1).
# Environment: REGNN_FRESH_CACHE, REGNN_FRESH_TIMEOUT (seconds per command,
# default 1500), REGNN_FRESH_MIRROR (overrides the host's mirror).

set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${REGNN_FRESH_CACHE:-/var/cache/regnn-fresh}
T=${REGNN_FRESH_TIMEOUT:-1500}
SUITE=bookworm
VARIANT=minbase
BASE_PKGS=build-essential

say() { printf 'fresh-check: %s\n' "$*"; }
die() { printf 'fresh-check: %s\n' "$*" >&2; exit 1; }

PLAN=0
[ "${1-}" = --plan ] && PLAN=1
if [ $PLAN -eq 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot): run it as root or with sudo"
    for tool in debootstrap chroot mount umount tar git timeout; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install debootstrap git)"
    done
    git -C "$SRC" rev-parse --verify -q HEAD >/dev/null || die "$SRC is not a git repository with a commit"
fi

# ---- what the README says --------------------------------------------------
# (REGNN_FRESH_README and REGNN_FRESH_APT_ETC stand in for README.md and /etc/apt
# in tests/test_fresh_plan.sh, with --plan: print what would run, and stop.)
README=${REGNN_FRESH_README:-$SRC/README.md}
APT_ETC=${REGNN_FRESH_APT_ETC:-/etc/apt}
# The quick start's first ```sh block: one command a line, comments dropped.
readme_commands() {
    awk '/^## Quick start/ { q = 1; next } q && /^## / { exit }
         q && /^```sh/ { b++; inb = 1; next } q && /^```/ { if (inb && b == 1) exit; inb = 0; next }
         q && inb && b == 1 { sub(/#.*/, ""); sub(/[ \t]+$/, ""); if ($0 != "") print }' "$README"
}
# The quick start's apt-get line (its second ```sh block).
readme_apt_line() {
    awk '/^## Quick start/ { q = 1; next } q && /^## / { exit }
         q && /^```sh/ { b++; inb = 1; next } q && /^```/ { inb = 0; next }
         q && inb && b == 2 && /apt-get install/ { print; exit }' "$README"
}
CMDS=$(readme_commands)
APT_LINE=$(readme_apt_line)
[ -n "$CMDS" ] || die "no commands found in README.md's quick start"
case $APT_LINE in
    "sudo apt-get install "*) APT_ROOT=${APT_LINE#sudo } ;;
    *) die "README.md's quick start has no 'sudo apt-get install ...' line (found: '$APT_LINE')" ;;
esac
say "README.md's quick start commands: $(echo "$CMDS" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
say "README.md's optional packages (round 2, as root): $APT_ROOT"

# ---- the host's mirror and the root's apt sources ---------------------------
# Debian entries of the host's sources for $SUITE (and its -updates/-security),
# as one-line-style entries: "URI SUITE COMPONENTS".
host_entries() {
    for f in "$APT_ETC/sources.list" "$APT_ETC"/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++
                           s = ""; for (j = i + 2; j <= NF; j++) s = s " " $j
                           print $i, $(i + 1), s }' "$f"
    done
    for f in "$APT_ETC"/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'function flush() { if (deb && !off) { n = split(su, S, " "); m = split(ur, U, " ")
                                  for (a = 1; a <= m; a++) for (b = 1; b <= n; b++) print U[a], S[b], co }
                              deb = off = 0; ur = su = co = "" }
             /^[ \t]*$/ { flush(); next } /^#/ { next }
             /^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
             /^URIs:/ { sub(/^URIs:[ \t]*/, ""); ur = $0 }
             /^Suites:/ { sub(/^Suites:[ \t]*/, ""); su = $0 }
             /^Components:/ { sub(/^Components:[ \t]*/, ""); co = $0 }
             /^Enabled:[ \t]*no/ { off = 1 }
             END { flush() }' "$f"
    done
}
ENTRIES=$(host_entries | awk -v s="$SUITE" '$2 == s || $2 == s "-updates" || $2 == s "-security" || $2 == s "/updates"')
MIRROR=${REGNN_FRESH_MIRROR:-$(echo "$ENTRIES" | awk -v s="$SUITE" '$2 == s { print $1; exit }')}
[ -n "$MIRROR" ] || die "no '$SUITE' entry in the host's /etc/apt/sources.list or sources.list.d/ (set REGNN_FRESH_MIRROR)"
say "mirror $MIRROR (from the host's apt sources)"
# The root's sources.list: the host's Debian entries, main only (a fresh install's default).
root_sources() {
    echo "$ENTRIES" | awk -v m="$MIRROR" '{ print "deb", $1, $2, "main" }'
    echo "$ENTRIES" | grep -q . || echo "deb $MIRROR $SUITE main"
}

if [ $PLAN -eq 1 ]; then
    echo "$CMDS" | sed 's/^/command: /'
    echo "packages: $APT_ROOT"
    echo "mirror: $MIRROR"
    root_sources | sed 's/^/source: /'
    exit 0
fi

# ---- mounts, always undone ----------------------------------------------------
WORK=${REGNN_FRESH_WORK:-}
[ -n "$WORK" ] || WORK=$(mktemp -d /var/tmp/regnn-fresh.XXXXXX)
mkdir -p "$WORK"
MOUNTS=""
mount_root() { # ROOT
    for d in proc sys dev dev/pts; do mkdir -p "$1/$d"; done
    mount -t proc proc "$1/proc" && MOUNTS="$1/proc $MOUNTS"
    mount -t sysfs sysfs "$1/sys" && MOUNTS="$1/sys $MOUNTS"
    mount --bind /dev "$1/dev" && MOUNTS="$1/dev $MOUNTS"
    mount --bind /dev/pts "$1/dev/pts" && MOUNTS="$1/dev/pts $MOUNTS"
}
unmount_all() {
    for m in $MOUNTS; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "fresh-check: cannot unmount $m" >&2
    done
    MOUNTS=""
}
cleanup() {
    unmount_all
    [ -n "${CACHE_TMP:-}" ] && rm -rf "$CACHE_TMP"
    if [ "${REGNN_FRESH_KEEP:-0}" != 1 ] && [ -z "${REGNN_FRESH_WORK:-}" ]; then
        # Only when nothing is mounted under it any more.
        if ! grep -q " $WORK/" /proc/mounts; then rm -rf "$WORK"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# in_root ROOT TIMEOUT CMD: CMD with sh -c in ROOT as root, in a clean environment.
in_root() {
    timeout -k 30 "$2" chroot "$1" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        OPENBLAS_NUM_THREADS=1 /bin/sh -c "$3"
}

# ---- the cached root ------------------------------------------------------------
KEY="$SUITE-$VARIANT-$(echo "$BASE_PKGS" | tr ' ' '+')-$(echo "$MIRROR" | cksum | cut -d' ' -f1)"
TARBALL="$CACHE/$KEY-$(date -u +%Y%m%d).tar"
t0=$(date +%s)
if [ -f "$TARBALL" ]; then
    say "cached root $TARBALL"
else
    say "bootstrapping $SUITE ($VARIANT) into the cache: $TARBALL"
    mkdir -p "$CACHE"
    CACHE_TMP=$(mktemp -d "$CACHE/.build.XXXXXX")
    R=$CACHE_TMP/root
    timeout -k 30 1200 debootstrap --variant="$VARIANT" "$SUITE" "$R" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 ||
        { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
    root_sources > "$R/etc/apt/sources.list"
    cp /etc/resolv.conf "$R/etc/resolv.conf"
    mount_root "$R"
    in_root "$R" 1200 "apt-get update -q && apt-get install -q -y --no-install-recommends $BASE_PKGS && apt-get clean" \
        > "$WORK/base.log" 2>&1 || { tail -n 20 "$WORK/base.log" >&2; die "installing $BASE_PKGS failed (log above)"; }
    unmount_all
    tar -C "$R" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
    rm -rf "$CACHE_TMP"
    CACHE_TMP=""
    # Older roots of the same kind are stale now.
    for old in "$CACHE/$KEY"-*.tar; do [ "$old" = "$TARBALL" ] || rm -f "$old"; done
    say "root cached in $(( $(date +%s) - t0 )) s"
fi

R=$WORK/root
rm -rf "$R"
mkdir -p "$R"
tar -C "$R" -xf "$TARBALL"
cp /etc/resolv.conf "$R/etc/resolv.conf"
mount_root "$R"
say "root ready in $(( $(date +%s) - t0 )) s (proc, sys, dev, dev/pts mounted)"

# ---- the rounds -------------------------------------------------------------------
: > "$WORK/results"
failed=0
# run ROUND N LABEL CMD: CMD in the root under timeout, its output to the terminal
# and to $WORK/roundROUND-N.log; one line in $WORK/results.
run() {
    s=$(date +%s)
    printf '\n==== fresh-check: round %s: %s\n' "$1" "$3"
    ( in_root "$R" "$T" "$4" < /dev/null 2>&1; echo $? > "$WORK/status" ) | tee "$WORK/round$1-$2.log"
    st=$(cat "$WORK/status")
    d=$(( $(date +%s) - s ))
    case $st in 0) r=ok ;; 124 | 137) r="TIMED OUT" ;; *) r="FAILED ($st)"; esac
    printf '  round %s  %-58s %-10s %5d s\n' "$1" "$3" "$r" "$d" >> "$WORK/results"
    [ "$st" -eq 0 ] || failed=1
    return "$st"
}
# Both rounds test the commit that was HEAD when the check started.
REV=$(git -C "$SRC" rev-parse HEAD)
# round N: a clean clone of that commit at /root/libregnn-N, then the README's commands
# in it, in order, up to the first that fails.
round() {
    git clone -q --no-hardlinks --no-checkout "$SRC" "$R/root/libregnn-$1" &&
        git -C "$R/root/libregnn-$1" checkout -q "$REV" || return 1
    say "round $1: clean clone of $(git -C "$SRC" rev-parse --short "$REV") in /root/libregnn-$1"
    n=0
    oldifs=$IFS
    IFS='
'
    for c in $CMDS; do
        IFS=$oldifs
        n=$((n + 1))
        run "$1" "$n" "$c" "cd /root/libregnn-$1 && $c" || return 1
    done
    IFS=$oldifs
}
# summary N: what round N's make check said about its suites.
summary() {
    for f in "$WORK"/round"$1"-*.log; do
        [ -f "$f" ] || continue
        sed -n '/^==== make check: summary/,$p' "$f" | sed 1d
    done
}

# expect ROUND REGEX WHAT: the output of round ROUND's commands has a line
# matching REGEX (what the README says happens there).
expect() {
    if cat "$WORK"/round"$1"-*.log 2>/dev/null | grep -q -- "$2"; then r=ok; else r=FAILED; failed=1; fi
    printf '  round %s  %-58s %-10s\n' "$1" "  $3" "$r" >> "$WORK/results"
}

# Round 1: no OpenBLAS, so the build says so and uses the built-in GEMM.
round 1 || true
expect 1 'OpenBLAS.*using the built-in GEMM' "make demo says it falls back to the built-in GEMM"
expect 1 '^make check: all tests passed (builtin GEMM)' "make check passed with the built-in GEMM"
# Round 2 runs even after a failed round 1: it answers another question.
if run 2 0 "$APT_LINE" "$APT_ROOT"; then round 2 || true; fi
expect 2 '^make check: all tests passed (openblas GEMM)' "make check passed with OpenBLAS"
unmount_all

echo
for n in 1 2; do
    if ls "$WORK"/round$n-*.log >/dev/null 2>&1; then
        echo "==== fresh-check: round $n, make check's suites"
        summary $n
    fi
done
echo "==== fresh-check: Debian $SUITE ($VARIANT + $BASE_PKGS), mirror $MIRROR, commit $(git -C "$SRC" rev-parse --short "$REV")"
cat "$WORK/results"
echo "fresh-check: $(( $(date +%s) - t0 )) s in all"
if [ "$failed" -ne 0 ]; then
    [ -z "${REGNN_FRESH_WORK:-}" ] && REGNN_FRESH_KEEP=1
    echo "fresh-check: FAILED (logs in $WORK/)" >&2
    exit 1
fi
echo "fresh-check: both rounds passed"
