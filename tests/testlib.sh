# SPDX-License-Identifier: MIT
# Shared by the shell tests: pass/fail counters and the ok/ko/check reporters.
# Sourced with: . "$(dirname "$0")/testlib.sh"
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
ko() { fail=$((fail + 1)); echo "FAIL - $1"; }
check() { # check "description" command...
    d=$1
    shift
    if "$@"; then ok "$d"; else ko "$d"; fi
}
