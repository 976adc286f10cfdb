#!/bin/sh
# scripts/check-spdx.sh - every source file carries an SPDX license identifier,
# `SPDX-License-Identifier: MIT` (the license in LICENSE), in its first 5 lines
# (after a #! line), in its own comment syntax, so that a project that vendors
# the sources keeps the license with each file.
#
# Source files: C sources and headers, Python, shell scripts, make files and
# fragments, CMake files, the symbol maps, the .in templates, pyproject.toml and
# MANIFEST.in; in a git tree the tracked ones, else those found under the tree.
# Data (CSV, model files, fuzz corpora), generated docs and figures are not
# source and carry none. tests/test_check_spdx.sh checks this script.
#
# Usage: sh scripts/check-spdx.sh [ROOT]
# Exit status 0 when every source file has the identifier, 1 (listing the files
# without it) otherwise.

set -u
root=${1:-.}
id='SPDX-License-Identifier: MIT'

sources() {
    if git -C "$root" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
        git -C "$root" ls-files
    else
        (cd "$root" && find . -type f ! -path './.git/*' ! -path './build/*' ! -path './lib/*' \
            ! -path './out/*' | sed 's|^\./||')
    fi | grep -E '(\.(c|h|py|sh|mk|map|in|toml|cmake)|(^|/)(Makefile|CMakeLists\.txt))$' |
        grep -v -E '^(fuzz/corpus|tests/data|examples/data)/' | sort
}

missing=0
total=0
for f in $(sources); do
    [ -f "$root/$f" ] || continue
    total=$((total + 1))
    if ! head -n 6 "$root/$f" | sed '1{/^#!/d}' | head -n 5 | grep -qF "$id"; then
        echo "check-spdx: $f: no '$id' in its first lines"
        missing=$((missing + 1))
    fi
done
if [ $total -eq 0 ]; then
    echo "check-spdx: no source files found under $root" >&2
    exit 2
fi
if [ $missing -ne 0 ]; then
    echo "check-spdx: $missing of $total source files lack the SPDX identifier"
    exit 1
fi
echo "check-spdx: all $total source files carry '$id'"
