#!/usr/bin/env bash
# Installs what building nethttp needs beyond a Rust toolchain, a C compiler
# and python3: cmake (from Debian's packages when we may use apt-get, else
# from PyPI into the user's site), and pkg-config, OpenSSL's headers and
# libcurl's development files (libcurl4-openssl-dev: nethttp links the
# system's libcurl unless NETHTTP_BUNDLED_CURL=ON) where apt-get can install
# them. Sourced by the other scripts.
set -euo pipefail

nethttp_have() { command -v "$1" >/dev/null 2>&1; }

nethttp_apt_install() {
    if [ "$(id -u)" -ne 0 ] || ! nethttp_have apt-get; then
        return 1
    fi
    if [ -z "${NETHTTP_APT_UPDATED:-}" ]; then
        apt-get update -qq >/dev/null
        export NETHTTP_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! nethttp_have cmake; then
    echo "nethttp: cmake not found, installing it" >&2
    if ! nethttp_apt_install cmake; then
        python3 -m pip install --user --quiet cmake
        export PATH="$HOME/.local/bin:$PATH"
    fi
fi
missing_packages=()
nethttp_have pkg-config || missing_packages+=(pkg-config)
[ -e /usr/include/openssl/ssl.h ] || missing_packages+=(libssl-dev)
if [ ${#missing_packages[@]} -gt 0 ]; then
    echo "nethttp: installing ${missing_packages[*]}" >&2
    nethttp_apt_install "${missing_packages[@]}" ||
        echo "nethttp: could not install ${missing_packages[*]}; install them with your package manager" >&2
fi
# libcurl: nethttp builds against the system's (README.md, "Choosing
# libcurl"); the build stops with a message when it is missing, unless
# NETHTTP_BUNDLED_CURL=ON asks for the curl crate's bundled copy.
if [ "${NETHTTP_BUNDLED_CURL:-OFF}" != ON ] && ! pkg-config --exists libcurl 2>/dev/null; then
    echo "nethttp: installing libcurl4-openssl-dev, libcurl's development files: nethttp links" \
         "the system's libcurl (HTTP/2, brotli, zstd); NETHTTP_BUNDLED_CURL=ON builds a bundled one instead" >&2
    if ! nethttp_apt_install libcurl4-openssl-dev; then
        echo "nethttp: could not install libcurl4-openssl-dev (apt-get's errors, if it ran, are above);" \
             "install libcurl's development files with your package manager, or set NETHTTP_BUNDLED_CURL=ON" >&2
    fi
fi
if ! nethttp_have cargo && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
# The HTTP/2 test server of the C tests (c_tests/server/h2_server.py, run
# by ctest for test_http2) needs the Python package h2 in the python3 that
# CMake finds (the first on PATH). Debian's python3-h2 when that python3 is
# Debian's own and we may use apt-get; else PyPI's, into the user's site.
if nethttp_have python3 && ! python3 -c 'import h2' >/dev/null 2>&1; then
    echo "nethttp: installing the Python package h2 (the HTTP/2 test server" \
         "c_tests/server/h2_server.py needs it)" >&2
    if [ "$(python3 -c 'import sys; print(sys.prefix)')" = /usr ]; then
        nethttp_apt_install python3-h2 || true
    fi
    if ! python3 -c 'import h2' >/dev/null 2>&1; then
        python3 -m pip install --user --quiet h2 ||
            echo "nethttp: could not install h2 (pip's errors are above); test_http2 will not run" >&2
    fi
fi
