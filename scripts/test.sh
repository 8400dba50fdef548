#!/usr/bin/env bash
# Runs the whole test suite: the Rust tests (cargo test, including the
# header-drift check), then the CMake build and every C test under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh

build_dir="${NETHTTP_BUILD_DIR:-build}"
cargo test
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" --parallel "$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure
