#!/usr/bin/env bash
# Installs what building nethttp needs beyond a Rust toolchain, a C compiler
# and python3: cmake (from Debian's packages when we may use apt-get, else
# from PyPI into the user's site), and pkg-config and OpenSSL's headers where
# apt-get can install them. Sourced by the other scripts.
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
if ! nethttp_have cargo && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
