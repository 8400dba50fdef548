#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer, on the stable Rust toolchain:
#
#   scripts/fuzz.sh [SECONDS]    replays the committed inputs of every target
#                                (fuzz/corpus/TARGET and fuzz/regressions/TARGET),
#                                then fuzzes each target for SECONDS (default
#                                25); fails on any crash or failed check
#   scripts/fuzz.sh 0            replays only
#
# Targets (fuzz/targets/*.c, C harnesses over the C API): fuzz_urldecode
# (against a reference decoder, and urlencode round trips), fuzz_formdecode
# (formdecode, form accessors, formencode round trips), fuzz_options (the
# setters and request creation fed arbitrary bytes: only documented codes,
# never internal-error) and fuzz_response (fuzzer bytes served as the raw
# HTTP response on a loopback socket: exactly one callback, sane result).
#
# How: the Rust library is built as a static library with LLVM's
# SanitizerCoverage passes (rustc -Cpasses=sancov-module and -Cllvm-args,
# both stable) plus debug assertions and overflow checks, into
# build-fuzz/cargo; each harness is compiled by clang with
# -fsanitize=fuzzer,address and linked against it, so libFuzzer sees the
# library's branches and comparisons. The Rust code is not ASan-instrumented
# (that needs nightly), but ASan intercepts its mallocs and frees.
#
# Installs clang and libclang-rt-14-dev (clang's libFuzzer and ASan runtimes)
# from Debian's packages when clang cannot link a fuzzer, saying so
# (NETHTTP_NO_INSTALL=1: says what is missing and stops). New inputs found
# go to build-fuzz/corpus/TARGET (not committed); a crash is written to
# build-fuzz/crashes/TARGET/: copy it into fuzz/regressions/TARGET/ once
# fixed, so that every later run replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh

seconds="${1:-25}"
out="${NETHTTP_FUZZ_BUILD_DIR:-build-fuzz}"
targets=(fuzz_urldecode fuzz_formdecode fuzz_options fuzz_response)
mkdir -p "$out"

can_link_fuzzer() {
    echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
        > "$out/probe.c"
    clang -fsanitize=fuzzer,address "$out/probe.c" -o "$out/probe" >/dev/null 2>&1
}
if ! nethttp_have clang || ! can_link_fuzzer; then
    nethttp_install "clang and its libFuzzer and ASan runtimes build the fuzz targets" \
        clang libclang-rt-14-dev || exit 1
    can_link_fuzzer || { echo "fuzz.sh: clang still cannot link a libFuzzer program" >&2; exit 1; }
fi

# The library, with coverage instrumentation for libFuzzer. --target keeps
# RUSTFLAGS away from build scripts (they would not link without libFuzzer).
host="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=3 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks -Cforce-frame-pointers=yes"
echo "fuzz.sh: building the instrumented library in $out/cargo" >&2
# rustc's note that it wrote the native libraries' list is dropped (the
# list is read below); any other message is shown.
cargo rustc --quiet --release --lib --crate-type staticlib --target "$host" --target-dir "$out/cargo" \
    -- --print "native-static-libs=$out/native-static-libs.txt" \
    2> >(grep -v -E '^note: (native artifacts to link against have been written to|Link against the following native artifacts|native-static-libs:)' |
        sed '/^$/d' >&2)
unset RUSTFLAGS
lib="$out/cargo/$host/release/libnethttp.a"
# rustc writes "note: native-static-libs: -lcurl -lssl ..." (the prefix varies by version).
native_libs="$(sed -n 's/.*native-static-libs: //p' "$out/native-static-libs.txt" | tail -1)"
[ -n "$native_libs" ] || native_libs="$(cat "$out/native-static-libs.txt")"

for t in "${targets[@]}"; do
    # shellcheck disable=SC2086 # native_libs is a list of linker flags
    clang -g -O1 -fsanitize=fuzzer,address -fno-omit-frame-pointer -Wall -Wextra -Werror \
        -D_GNU_SOURCE -Iinclude -Ifuzz/targets "fuzz/targets/$t.c" "$lib" $native_libs -lpthread \
        -o "$out/$t"
done

failed=0
summary=()
for t in "${targets[@]}"; do
    leaks=1
    # The network targets keep engine threads (and their memory) across inputs.
    case "$t" in fuzz_options|fuzz_response) leaks=0 ;; esac
    committed=(fuzz/corpus/"$t")
    [ -d fuzz/regressions/"$t" ] && committed+=(fuzz/regressions/"$t")
    n_inputs="$(find "${committed[@]}" -type f | wc -l)"
    mkdir -p "$out/corpus/$t" "$out/crashes/$t"
    log="$out/$t.log"
    if ! "$out/$t" -runs=0 -detect_leaks="$leaks" -rss_limit_mb=4096 -timeout=30 \
            -artifact_prefix="$out/crashes/$t/" "${committed[@]}" > "$log" 2>&1; then
        echo "fuzz.sh: $t failed on a committed input:" >&2
        tail -30 "$log" >&2
        failed=1
        summary+=("$t: replay of $n_inputs committed inputs FAILED")
        continue
    fi
    if [ "$seconds" -eq 0 ]; then
        summary+=("$t: $n_inputs committed inputs replayed")
        continue
    fi
    if ! "$out/$t" -max_total_time="$seconds" -max_len=4096 -detect_leaks="$leaks" -rss_limit_mb=4096 \
            -timeout=30 -print_final_stats=1 -artifact_prefix="$out/crashes/$t/" \
            "$out/corpus/$t" "${committed[@]}" > "$log" 2>&1; then
        echo "fuzz.sh: $t crashed (input in $out/crashes/$t/):" >&2
        tail -40 "$log" >&2
        failed=1
        summary+=("$t: CRASH, see $out/crashes/$t/")
        continue
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
    summary+=("$t: $n_inputs committed inputs replayed, then ${runs:-?} runs in ${seconds} s, coverage ${cov:-?} edges, no crash")
done
printf 'fuzz.sh: %s\n' "${summary[@]}"
exit "$failed"
