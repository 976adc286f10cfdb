#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/check-deps.sh - what `make check` needs besides a C compiler and make:
# pkg-config, the Check framework, a C++ compiler (the header test) and
# python3 (the binding's tests). python3-numpy is optional (without it the
# Python tests run their numpy-free part) and OpenBLAS is a choice, not a
# test dependency: neither is installed here.
#
# Usage: sh scripts/check-deps.sh [--install]
# Silent with exit 0 when everything is there. Otherwise, with --install and
# when it can (root, or sudo that needs no password), installs the missing
# Debian packages with apt-get, saying which; else prints the one command to
# run and exits 1.
# Environment: PKG_CONFIG, CXX, PYTHON (as the Makefile passes them),
# APT_GET (default apt-get).

install=0
[ "${1-}" = --install ] && install=1
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
CXX=${CXX:-c++}
if [ -z "${PYTHON-}" ]; then
    if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
APT_GET=${APT_GET:-apt-get}

have() { command -v "$1" >/dev/null 2>&1; }
# Is this Debian package installed? Unknown (no dpkg) counts as no.
deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

pkgs=""
why=""
need() { pkgs="$pkgs $1"; why="$why
  $1: $2"; }

# Only the first word: CXX may carry flags.
cxx=${CXX%% *}
if ! have "$PKG_CONFIG"; then
    need pkg-config "no $PKG_CONFIG command"
    deb_installed check || need check "the Check unit-test framework"
elif ! "$PKG_CONFIG" --exists check 2>/dev/null; then
    need check "the Check unit-test framework ($PKG_CONFIG does not find check.pc)"
fi
if ! have "$cxx"; then
    case ${cxx##*/} in
    c++ | g++) need g++ "no C++ compiler ($cxx) for the header test" ;;
    *) echo "make check: CXX=$CXX is not installed (or set CXX=g++)" >&2; exit 1 ;;
    esac
fi
if ! have "$PYTHON"; then
    need python3 "no $PYTHON for the Python binding's tests"
elif ! "$PYTHON" -c 'import numpy' >/dev/null 2>&1; then
    echo "make check: note: python3-numpy is not installed; the Python tests skip their numpy part (sudo apt-get install python3-numpy)" >&2
fi

[ -z "$pkgs" ] && exit 0
pkgs=${pkgs# }
cmd="sudo apt-get install -y $pkgs"
[ "$(id -u)" -eq 0 ] && cmd="apt-get install -y $pkgs"

sudo=""
can=0
if [ $install -eq 1 ] && have "$APT_GET"; then
    if [ "$(id -u)" -eq 0 ]; then
        can=1
    elif have sudo && sudo -n true 2>/dev/null; then
        can=1
        sudo="sudo -n"
    fi
fi
if [ $can -eq 0 ]; then
    echo "make check needs:$why" >&2
    echo "Install them with:  $cmd" >&2
    exit 1
fi

echo "make check: installing:$why" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update once, then retry.
# shellcheck disable=SC2086
$sudo "$APT_GET" -q install -y --no-install-recommends $pkgs >&2 ||
    { $sudo "$APT_GET" -q update >&2 && $sudo "$APT_GET" -q install -y --no-install-recommends $pkgs >&2; } || {
    echo "make check: apt-get could not install $pkgs; install them with:  $cmd" >&2
    exit 1
}
# The install must have fixed what was missing.
if sh "$0" 2>/dev/null; then
    echo "make check: installed $pkgs" >&2
    exit 0
fi
sh "$0"
echo "make check: still missing something after installing $pkgs" >&2
exit 1
