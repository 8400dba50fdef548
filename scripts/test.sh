#!/usr/bin/env bash
# Runs the whole test suite: the Rust tests (cargo test, including the
# header-drift check), then the CMake build and every C test under ctest.
# NETHTTP_BUNDLED_CURL=ON runs it against the bundled libcurl.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh

build_dir="${NETHTTP_BUILD_DIR:-build}"
# NETHTTP_BUNDLED_CURL=ON tests the bundled libcurl instead of the system's.
bundled="${NETHTTP_BUNDLED_CURL:-OFF}"
cargo_features=()
[ "$bundled" = ON ] && cargo_features=(--features bundled-curl)
cargo test "${cargo_features[@]}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DNETHTTP_BUNDLED_CURL="$bundled"
cmake --build "$build_dir" --parallel "$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure
