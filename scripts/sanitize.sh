#!/usr/bin/env bash
# Builds the C and C++ tests with AddressSanitizer and UBSan (and LSan, which
# comes with ASan) and runs them under ctest:
#
#   scripts/sanitize.sh            every C test (label c_suite), about 2 min
#   scripts/sanitize.sh --smoke    the sanitizer self-checks and a few tests
#                                  (for .ci/run)
#   NETHTTP_SANITIZE=address       another -fsanitize= list (default
#                                  address,undefined)
#
# Builds in build-sanitize/ (NETHTTP_SANITIZE_BUILD_DIR overrides) with the
# system compiler (gcc; CC=clang works too). The Rust library is not
# instrumented (a stable toolchain cannot), so the cargo build of the normal
# build directory is reused: ASan still sees every malloc and free through
# its interceptors, the library's included. Left out, with the reason in
# c_tests/CMakeLists.txt: test_client_slow_dns (LD_PRELOAD, which ASan
# refuses) and the *_valgrind tests (valgrind cannot run ASan programs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh

mode=full
case "${1:-}" in
    --smoke) mode=smoke ;;
    "") ;;
    *) echo "sanitize.sh: unknown argument $1" >&2; exit 2 ;;
esac
sanitizers="${NETHTTP_SANITIZE:-address,undefined}"
build_dir="${NETHTTP_SANITIZE_BUILD_DIR:-build-sanitize}"
cargo_dir="$PWD/${NETHTTP_BUILD_DIR:-build}/cargo"

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETHTTP_SANITIZE="$sanitizers" \
    -DNETHTTP_BUILD_EXAMPLES=OFF -DNETHTTP_CARGO_TARGET_DIR="$cargo_dir" >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)" >/dev/null
if [ "$mode" = smoke ]; then
    ctest --test-dir "$build_dir" --output-on-failure \
        -R '^(sanitizer_|test_contract$|test_races$|test_encoding$|test_destroy$|test_client_cancel$)'
else
    ctest --test-dir "$build_dir" --output-on-failure -L c_suite
fi
