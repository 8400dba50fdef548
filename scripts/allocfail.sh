#!/usr/bin/env bash
# Allocation failure along a request's path, in the manner of curl's torture
# tests (c_tests/reliability/allocfail.c, with the LD_PRELOAD shim
# failmalloc.c): for every N, a child process makes one request with the Nth
# allocation failing, and must end in a documented refusal or exactly one
# callback, and leak nothing. Scenarios: get (http), post (headers, body,
# limits), https (TLS, verified).
#
#   scripts/allocfail.sh           every N of the three scenarios (about 2 min)
#   scripts/allocfail.sh --smoke   every N of get and post, every 50th of
#                                  https (for .ci/run, well under a minute)
#
# Builds in build-allocfail/ (NETHTTP_ALLOCFAIL_BUILD_DIR overrides) with
# NETHTTP_ALLOCFAIL=ON, reusing the cargo build of the normal build
# directory. Prints, per scenario, the outcomes and the places where the
# process aborts instead (Rust's allocation-failure handler, glibc's
# thread-local destructors), which the README lists. Needs addr2line
# (binutils, there with gcc).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh

https_stride=1
case "${1:-}" in
    --smoke) https_stride=50 ;;
    "") ;;
    *) echo "allocfail.sh: unknown argument $1" >&2; exit 2 ;;
esac
build_dir="${NETHTTP_ALLOCFAIL_BUILD_DIR:-build-allocfail}"
cargo_dir="$PWD/${NETHTTP_BUILD_DIR:-build}/cargo"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DNETHTTP_ALLOCFAIL=ON -DNETHTTP_ALLOCFAIL_STRIDE=1 \
    -DNETHTTP_BUILD_EXAMPLES=OFF -DNETHTTP_CARGO_TARGET_DIR="$cargo_dir" >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)" >/dev/null
# The https scenario's stride goes on its command line through ctest's
# test properties; run it by hand with the fixture's server instead.
ctest --test-dir "$build_dir" --output-on-failure -V -L allocfail -E allocfail_https 2>&1 |
    grep -E '^[0-9]+: (allocfail|  )|tests passed|tests failed|Failed|\*\*\*' | sed 's/^[0-9]*: //'
status=${PIPESTATUS[0]}
server="c_tests/server/test_server.py"
port_file="$PWD/$build_dir/allocfail-https.port"
python3 "$server" start --port-file "$port_file" --log "$PWD/$build_dir/allocfail-https-server.log" >/dev/null
trap 'python3 "$server" stop --port-file "$port_file" >/dev/null 2>&1 || true' EXIT
LD_PRELOAD="$PWD/$build_dir/c_tests/libfailmalloc.so" "$build_dir/c_tests/allocfail" "$port_file" \
    c_tests/server/cert.pem https "$https_stride" || status=1
exit "$status"
