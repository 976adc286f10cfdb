#!/bin/sh
# SPDX-License-Identifier: MIT
# No function of the library longer than MAX lines (default 100, signature to
# closing brace): a long function does several things (docs/architecture.md).
# A function is a line at column 0 holding "(" that does not end in ";", then
# "{" alone at column 0, up to the next "}" at column 0; initializers
# ("... = {") are data, not functions.
# Usage: scripts/check-function-length.sh [FILE...]  (default: src/*/*.c)
set -eu
max=${MAX:-100}
[ $# -gt 0 ] || set -- src/*/*.c
awk -v max="$max" '
FNR == 1 { infn = 0; sig = 0 }
!infn && /^[A-Za-z_]/ && /\(/ && !/;[ \t]*$/ && !/=/ { sig = FNR; name = $0 }
!infn && /^\{/ && sig { infn = 1; next }
infn && /^\}/ {
    n = FNR - sig + 1
    if (n > longest) { longest = n; where = FILENAME ":" sig }
    if (n > max) {
        sub(/\(.*/, "", name); k = split(name, w, /[ \t*]+/)
        printf "check-function-length: %s:%d: %s is %d lines (at most %d)\n", FILENAME, sig, w[k], n, max
        bad = 1
    }
    infn = 0; sig = 0
}
END {
    if (bad) exit 1
    printf "check-function-length: every function at most %d lines (longest %d, %s)\n", max, longest, where
}' "$@"
