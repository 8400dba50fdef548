#!/usr/bin/env bash
# Builds nethttp, installs it into build/prefix, compiles the fetch example
# against the installed library (through pkg-config, as a user's Makefile
# would) and runs it.
#
#   scripts/run-example.sh [URL]
#
# Without a URL it starts the local test server and fetches from it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh

build_dir="${NETHTTP_BUILD_DIR:-build}"
prefix="$PWD/$build_dir/prefix"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)" --target nethttp_cargo
cmake --install "$build_dir" --prefix "$prefix" >/dev/null

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -o "$build_dir/nethttp_fetch" examples/fetch.c \
    $(pkg-config --cflags --libs nethttp) -pthread -Wl,-rpath,"$prefix/lib"

if [ $# -gt 0 ]; then
    exec "$build_dir/nethttp_fetch" "$@"
fi

port_file="$PWD/$build_dir/run-example.port"
python3 c_tests/server/test_server.py start --port-file "$port_file" >/dev/null
trap 'python3 c_tests/server/test_server.py stop --port-file "$port_file" >/dev/null' EXIT
read -r http_port _ <"$port_file"
"$build_dir/nethttp_fetch" "http://127.0.0.1:$http_port/header?name=X-Example&value=hello"
