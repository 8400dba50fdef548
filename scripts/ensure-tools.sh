#!/usr/bin/env bash
# What building nethttp needs beyond a Rust toolchain, a C compiler and
# python3: cmake, pkg-config, OpenSSL's headers (libssl-dev) and libcurl's
# development files (libcurl4-openssl-dev: nethttp links the system's
# libcurl unless NETHTTP_BUNDLED_CURL=ON). Sourced by the other scripts, which
# install their own extra tools through the same helper, nethttp_install.
#
# Whatever is missing is installed with apt-get (as root), each package
# announced with the reason ("nethttp: installing X (why)"); apt-get's output
# is shown when it fails. cmake comes from PyPI instead (pip --user) where
# apt-get cannot be used. The tests' HTTP/2 server also wants the Python
# package h2 (Debian's python3-h2, or PyPI's); without it only test_http2
# does not run.
#
#   NETHTTP_NO_INSTALL=1 scripts/test.sh   installs nothing: lists what is
#                                          missing and stops (exit 1)
#   scripts/ensure-tools.sh [--no-install] checks (and installs) the tools
#                                          for building, and nothing else
set -euo pipefail

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
        --no-install) export NETHTTP_NO_INSTALL=1 ;;
        "") ;;
        *) echo "ensure-tools.sh: unknown argument $1 (--no-install lists what is missing)" >&2; exit 2 ;;
    esac
fi

nethttp_have() { command -v "$1" >/dev/null 2>&1; }

# nethttp_install WHY PACKAGE...: installs Debian packages, saying which and
# why. With NETHTTP_NO_INSTALL=1, or where apt-get cannot run, it names them
# and fails instead.
nethttp_install() {
    local why=$1 log
    shift
    if [ "${NETHTTP_NO_INSTALL:-0}" = 1 ]; then
        echo "nethttp: missing: $* ($why); NETHTTP_NO_INSTALL=1, so not installing it" >&2
        return 1
    fi
    if [ "$(id -u)" -ne 0 ] || ! nethttp_have apt-get; then
        echo "nethttp: missing: $* ($why); install it with your package manager" \
             "(apt-get needs root, which this is not)" >&2
        return 1
    fi
    echo "nethttp: installing $* ($why) with apt-get" >&2
    log=$(mktemp)
    if [ -z "${NETHTTP_APT_UPDATED:-}" ]; then
        echo "nethttp: apt-get update (once, to find the packages)" >&2
        if ! apt-get update -q >"$log" 2>&1; then
            cat "$log" >&2
            echo "nethttp: apt-get update failed (its output is above)" >&2
            rm -f "$log"
            return 1
        fi
        export NETHTTP_APT_UPDATED=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "nethttp: apt-get install $* failed (its output is above)" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# Everything missing is listed before anything is installed, so that
# NETHTTP_NO_INSTALL=1 gives the whole list at once.
nethttp_missing=()
nethttp_missing_why=()
nethttp_need() { nethttp_missing+=("$1"); nethttp_missing_why+=("$2"); }

if ! nethttp_have cargo && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! nethttp_have cargo; then
    echo "nethttp: cargo not found: install a Rust toolchain (1.80 or newer, e.g. with rustup)" >&2
    exit 1
fi
if ! nethttp_have cmake && [ -x "$HOME/.local/bin/cmake" ]; then
    export PATH="$HOME/.local/bin:$PATH"
fi
nethttp_have cmake || nethttp_need cmake "nethttp's build system"
nethttp_have pkg-config || nethttp_need pkg-config "finds libcurl and OpenSSL"
[ -e /usr/include/openssl/ssl.h ] || nethttp_need libssl-dev "OpenSSL's headers, for the curl and openssl crates"
# libcurl: nethttp links the system's (README.md, "Choosing libcurl"); CMake
# stops with a message when it is missing, unless NETHTTP_BUNDLED_CURL=ON asks
# for the curl crate's bundled copy.
if [ "${NETHTTP_BUNDLED_CURL:-OFF}" != ON ] && ! dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 &&
   ! { nethttp_have pkg-config && pkg-config --exists libcurl; }; then
    nethttp_need libcurl4-openssl-dev \
        "libcurl's development files: nethttp links the system's libcurl; NETHTTP_BUNDLED_CURL=ON builds one in instead"
fi

if [ ${#nethttp_missing[@]} -gt 0 ]; then
    nethttp_failed=0
    for i in "${!nethttp_missing[@]}"; do
        if ! nethttp_install "${nethttp_missing_why[$i]}" "${nethttp_missing[$i]}"; then
            # No apt-get: cmake can still come from PyPI.
            if [ "${nethttp_missing[$i]}" = cmake ] && [ "${NETHTTP_NO_INSTALL:-0}" != 1 ]; then
                echo "nethttp: installing cmake from PyPI (python3 -m pip install --user cmake) instead" >&2
                python3 -m pip install --user --quiet cmake && export PATH="$HOME/.local/bin:$PATH" && continue
            fi
            nethttp_failed=1
        fi
    done
    if [ "$nethttp_failed" = 1 ]; then
        echo "nethttp: the tools above are missing; install them and run this again" >&2
        exit 1
    fi
fi
unset nethttp_missing nethttp_missing_why nethttp_failed
# The HTTP/2 test server of the C tests (c_tests/server/h2_server.py, run
# by ctest for test_http2) needs the Python package h2 in the python3 that
# CMake finds (the first on PATH): Debian's python3-h2 when that python3 is
# Debian's own and we may use apt-get; else PyPI's, into the user's site.
# Without it only test_http2 does not run, so its absence stops nothing.
if nethttp_have python3 && ! python3 -c 'import h2' >/dev/null 2>&1; then
    nethttp_h2_why="the HTTP/2 test server c_tests/server/h2_server.py needs it; without it test_http2 does not run"
    if [ "${NETHTTP_NO_INSTALL:-0}" = 1 ]; then
        echo "nethttp: missing: the Python package h2 ($nethttp_h2_why); NETHTTP_NO_INSTALL=1, so not installing it" >&2
    else
        if [ "$(python3 -c 'import sys; print(sys.prefix)')" = /usr ]; then
            nethttp_install "$nethttp_h2_why" python3-h2 || true
        fi
        if ! python3 -c 'import h2' >/dev/null 2>&1; then
            echo "nethttp: installing the Python package h2 from PyPI (python3 -m pip install --user h2):" \
                 "$nethttp_h2_why" >&2
            python3 -m pip install --user --quiet h2 ||
                echo "nethttp: could not install h2 (pip's errors are above); test_http2 will not run" >&2
        fi
    fi
    unset nethttp_h2_why
fi
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "nethttp: every tool for building nethttp is there" >&2
fi
