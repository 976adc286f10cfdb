#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_fresh_plan.sh - what `make fresh-check` would run, without root:
# scripts/fresh-check.sh --plan against stand-ins for README.md and /etc/apt.
# The commands and the apt-get line must come from the README's quick start,
# the mirror from the apt sources (one-line and deb822 forms, disabled entries
# and other suites left out). Prints "N passed, N failed"; exits 1 if anything failed.

set -u
cd "$(dirname "$0")/.." || exit 1
. tests/testlib.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-fresh-plan.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
has() { grep -q -- "$2" "$1"; }
plan() { REGNN_FRESH_README=$1 REGNN_FRESH_APT_ETC=$2 sh scripts/fresh-check.sh --plan > "$TMP/out" 2>&1; }

cat > "$TMP/README.md" <<'MD'
# x
## Quick start
Text.
```sh
make first    # a comment
make second
```
More text.
```sh
sudo apt-get install -y pkg-a pkg-b
```
## Next
```sh
make not-this
```
MD
mkdir -p "$TMP/apt1/sources.list.d"
cat > "$TMP/apt1/sources.list" <<'L'
# deb http://commented.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb [signed-by=/usr/share/keyrings/k.gpg arch=amd64] http://one.example/debian bookworm main contrib
deb http://one.example/debian bullseye main
L
mkdir -p "$TMP/apt2/sources.list.d"
cat > "$TMP/apt2/sources.list.d/debian.sources" <<'S'
Enabled: no
Types: deb
URIs: http://off.example/debian
Suites: bookworm
Components: main

Types: deb deb-src
URIs: http://two.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# a comment
URIs: http://two.example/debian-security
Suites: bookworm-security
Components: main
S
echo "deb http://farm.example/debian bookworm main" > "$TMP/apt2/sources.list.d/x.list.disabled"

plan "$TMP/README.md" "$TMP/apt1"
check "plan: exit 0" test $? -eq 0
check "the quick start's commands, in order, comments dropped" \
    test "$(sed -n 's/^command: //p' "$TMP/out" | tr '\n' ';')" = "make first;make second;"
check "the apt-get line, without sudo" has "$TMP/out" "^packages: apt-get install -y pkg-a pkg-b$"
check "sources.list: the mirror of the bookworm entry" has "$TMP/out" "^mirror: http://one.example/debian$"
check "sources.list: only bookworm entries, main only" \
    test "$(grep -c '^source: ' "$TMP/out")" -eq 1 -a "$(sed -n 's/^source: //p' "$TMP/out")" = "deb http://one.example/debian bookworm main"

plan "$TMP/README.md" "$TMP/apt2"
check "deb822: the mirror of the enabled bookworm stanza" has "$TMP/out" "^mirror: http://two.example/debian$"
check "deb822: bookworm, -updates and -security; no disabled or renamed file" \
    test "$(sed -n 's/^source: //p' "$TMP/out" | tr '\n' ';')" = \
    "deb http://two.example/debian bookworm main;deb http://two.example/debian bookworm-updates main;deb http://two.example/debian-security bookworm-security main;"

sed '/apt-get/d' "$TMP/README.md" > "$TMP/README-noapt.md"
plan "$TMP/README-noapt.md" "$TMP/apt1"
check "no apt-get line in the quick start: exit 1" test $? -eq 1
check "no apt-get line: says so" has "$TMP/out" "quick start has no 'sudo apt-get install"

plan "$TMP/README.md" "$TMP/empty"
check "no bookworm source: exit 1 with the way out" sh -c "! grep -q '^mirror' '$TMP/out' && grep -q 'REGNN_FRESH_MIRROR' '$TMP/out'"

plan README.md /etc/apt
check "the real README.md: its quick start gives commands and an apt-get line" \
    sh -c "grep -q '^command: make ' '$TMP/out' && grep -q '^packages: apt-get install ' '$TMP/out'"

echo "test_fresh_plan: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
