#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/test_deps.sh - scripts/check-deps.sh and the Makefile's use of it,
# against stand-ins for pkg-config, apt-get, sudo, id, dpkg-query and python3
# (nothing is installed for real). Run by `make check` (test-deps).
# Prints "N passed, N failed" and exits 1 if anything failed.

set -u
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regnn-deps.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
REAL_PKG_CONFIG=$(command -v pkg-config || echo false)
. "$(dirname "$0")/testlib.sh"
has() { grep -q -- "$2" "$1"; }   # has FILE TEXT
lacks() { ! grep -q -- "$2" "$1"; }

# A fresh fake machine in $TMP/m: bin/ goes first on PATH. State files:
#   check.installed   pkg-config finds check
#   pc.installed      the pkg-config command exists (as bin/pkg-config)
#   apt.fail N        apt-get install fails N more times
# $TMP/m/apt.log records every apt-get call.
machine() { # machine UID SUDO_OK(0/1) [pc]
    rm -rf "$TMP/m"
    mkdir -p "$TMP/m/bin"
    M=$TMP/m
    cat > "$M/pkg-config.real" <<EOF
#!/bin/sh
if [ "\$1" = --exists ] && [ "\$2" = check ]; then test -f "$M/check.installed"; exit; fi
exec $REAL_PKG_CONFIG "\$@"
EOF
    chmod +x "$M/pkg-config.real"
    if [ "${3-}" = pc ]; then : > "$M/pc.installed"; cp "$M/pkg-config.real" "$M/bin/pkg-config"; fi
    cat > "$M/bin/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >> "$M/apt.log"
case " \$* " in *" update "*) exit 0 ;; esac
if [ -f "$M/apt.fail" ]; then
    n=\$(cat "$M/apt.fail")
    if [ "\$n" -gt 0 ]; then echo \$((n - 1)) > "$M/apt.fail"; echo "E: Unable to locate package" >&2; exit 100; fi
fi
for p in "\$@"; do
    case \$p in
    check) : > "$M/check.installed" ;;
    pkg-config) cp "$M/pkg-config.real" "$M/bin/pkg-config" ;;
    esac
done
EOF
    printf '#!/bin/sh\necho %s\n' "$1" > "$M/bin/id"
    if [ "$2" = 1 ]; then
        printf '#!/bin/sh\n[ "$1" = -n ] && shift\necho "sudo $*" >> "%s/apt.log"\nexec "$@"\n' "$M" > "$M/bin/sudo"
    else
        printf '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n' > "$M/bin/sudo"
    fi
    printf '#!/bin/sh\nexit 1\n' > "$M/bin/dpkg-query"
    printf '#!/bin/sh\nexit 0\n' > "$M/bin/python3"
    printf '#!/bin/sh\nexit 0\n' > "$M/bin/c++"
    chmod +x "$M/bin/"*
}
deps() { # deps ARGS... -> $TMP/out, status in $st
    PATH="$M/bin:$PATH" PKG_CONFIG="$M/bin/pkg-config" CXX=${CXX_T:-c++} PYTHON=${PYTHON_T:-python3} APT_GET=apt-get \
        sh scripts/check-deps.sh "$@" > "$TMP/out" 2>&1
    st=$?
}

machine 0 0 pc
: > "$M/check.installed"
deps --install
check "everything there: exit 0" test $st -eq 0
check "everything there: silent" test ! -s "$TMP/out"
check "everything there: apt-get not called" test ! -f "$M/apt.log"

machine 1000 0 pc
deps --install
check "check missing, no sudo: exit 1" test $st -eq 1
check "check missing, no sudo: names the package" has "$TMP/out" "check: the Check unit-test framework"
check "check missing, no sudo: gives the one command" has "$TMP/out" "Install them with:  sudo apt-get install -y check$"
check "check missing, no sudo: apt-get not called" test ! -f "$M/apt.log"

machine 0 0 pc
deps
check "without --install: exit 1 even as root" test $st -eq 1
check "without --install: root's command has no sudo" has "$TMP/out" "Install them with:  apt-get install -y check$"
check "without --install: apt-get not called" test ! -f "$M/apt.log"

machine 1000 1 pc
deps --install
check "check missing, sudo -n works: exit 0" test $st -eq 0
check "sudo: says what it installs" has "$TMP/out" "make check: installing"
check "sudo: installed through sudo" has "$M/apt.log" "sudo apt-get -q install -y --no-install-recommends check"
check "sudo: check is now found" test -f "$M/check.installed"
check "sudo: reports success" has "$TMP/out" "make check: installed check"

machine 0 0
deps --install
check "no pkg-config, root: exit 0" test $st -eq 0
check "no pkg-config: installs pkg-config and check" has "$M/apt.log" "^apt-get -q install -y --no-install-recommends pkg-config check$"

machine 0 0 pc
echo 1 > "$M/apt.fail"
deps --install
check "no package lists: apt-get update, then install again" test $st -eq 0
check "no package lists: update was run" has "$M/apt.log" "^apt-get -q update$"
check "no package lists: installed on the second try" test -f "$M/check.installed"

machine 0 0 pc
echo 9 > "$M/apt.fail"
deps --install
check "apt-get fails: exit 1" test $st -eq 1
check "apt-get fails: gives the command" has "$TMP/out" "install them with:  apt-get install -y check"

machine 0 0 pc
: > "$M/check.installed"
# Absolute paths: the real c++ and python3 are further down PATH.
CXX_T=$M/bin/c++ PYTHON_T=$M/bin/python3
rm "$CXX_T" "$PYTHON_T"
deps
unset CXX_T PYTHON_T
check "no C++ compiler or python3: exit 1" test $st -eq 1
check "no C++ compiler or python3: both packages" has "$TMP/out" "apt-get install -y g++ python3$"

machine 0 0 pc
: > "$M/check.installed"
printf '#!/bin/sh\n[ "$1" = -c ] && exit 1\nexit 0\n' > "$M/bin/python3"
deps --install
check "numpy missing: still exit 0 (optional)" test $st -eq 0
check "numpy missing: says so" has "$TMP/out" "python3-numpy is not installed"
check "numpy missing: not installed" test ! -f "$M/apt.log"

# The Makefile: a missing test dependency that cannot be installed stops
# `make check` before anything is built, with the command.
machine 1000 0 pc
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH="$M/bin:$PATH" APT_GET=apt-get REGNN_DEPS_DONE= make --no-print-directory \
    PKG_CONFIG="$M/bin/pkg-config" CXX=c++ PYTHON=python3 BUILDTAG=deps-test check > "$TMP/out" 2>&1
st=$?
check "make check, cannot install: make fails" test $st -ne 0
check "make check, cannot install: the command" has "$TMP/out" "sudo apt-get install -y check"
check "make check, cannot install: nothing built" test ! -d "build/builtin-deps-test" -a ! -d "build/openblas-deps-test"

# pkg-config installed during the make run serves the BLAS detection of the
# same run: with it, OpenBLAS (when present) is found, no built-in fallback.
if "$REAL_PKG_CONFIG" --exists openblas 2>/dev/null; then
    machine 0 0
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH="$M/bin:$PATH" APT_GET=apt-get REGNN_DEPS_DONE= make --no-print-directory -q \
        PKG_CONFIG="$M/bin/pkg-config" CXX=c++ PYTHON=python3 BUILDTAG=deps-test test-c > "$TMP/out" 2>&1
    check "make: pkg-config installed mid-run" has "$M/apt.log" "install -y --no-install-recommends pkg-config check"
    check "make: says what it installs" has "$TMP/out" "make check: installing"
    check "make: BLAS detection after the install finds OpenBLAS" lacks "$TMP/out" "built-in GEMM"
else
    echo "skip - OpenBLAS absent: the mid-run pkg-config detection test needs it"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
