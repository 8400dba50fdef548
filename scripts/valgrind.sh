#!/usr/bin/env bash
# Runs every C and C++ test under valgrind's memcheck (any memory error, or
# any definite, indirect or possible leak, fails the test):
#
#   scripts/valgrind.sh           the whole C suite but the three tests left
#                                 out in c_tests/CMakeLists.txt (fork, 10,000
#                                 descriptors, LD_PRELOAD); several minutes
#   scripts/valgrind.sh --smoke   a few of them (for .ci/run)
#   scripts/valgrind.sh -R REGEX  those whose name matches (ctest -R)
#
# Builds in build-valgrind/ (NETHTTP_VALGRIND_BUILD_DIR overrides) with
# NETHTTP_VALGRIND_SUITE=ON, reusing the cargo build of the normal build
# directory. Installs valgrind from Debian's packages if it is missing,
# saying so (NETHTTP_NO_INSTALL=1: says it is missing and stops).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh

nethttp_have valgrind || nethttp_install "the memory checker this script runs" valgrind || exit 1
filter=(-L memcheck)
case "${1:-}" in
    --smoke) filter=(-L memcheck -R '^(test_encoding|test_contract|test_destroy|test_client_dispatch)_memcheck$') ;;
    -R) filter=(-L memcheck -R "$2") ;;
    "") ;;
    *) echo "valgrind.sh: unknown argument $1" >&2; exit 2 ;;
esac
build_dir="${NETHTTP_VALGRIND_BUILD_DIR:-build-valgrind}"
cargo_dir="$PWD/${NETHTTP_BUILD_DIR:-build}/cargo"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DNETHTTP_VALGRIND_SUITE=ON \
    -DNETHTTP_BUILD_EXAMPLES=OFF -DNETHTTP_CARGO_TARGET_DIR="$cargo_dir" >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)" >/dev/null
ctest --test-dir "$build_dir" --output-on-failure "${filter[@]}"
