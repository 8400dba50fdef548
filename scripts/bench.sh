#!/usr/bin/env bash
# The benchmark in one command: nethttp against a raw libcurl multi loop, side
# by side in one run, on a local nginx (127.0.0.1, one worker, keep-alive).
#
#   scripts/bench.sh           full run (about 6-8 minutes on 2 cores); writes
#                              bench/results.md and bench/throughput.svg
#   scripts/bench.sh --smoke   tiny run for CI (well under a minute): prints the
#                              figures, judges none, fails only if the program
#                              fails (a request failed, encoders disagree, ...);
#                              writes BUILD_DIR/smoke/ instead of bench/
#   scripts/bench.sh --callgrind   instructions per request (valgrind's
#                              callgrind: exact, unaffected by load) of a GET
#                              at c=1 and c=50, and per streamed download,
#                              nethttp and the raw loop; prints the tables,
#                              writes BUILD_DIR/callgrind/ (installs valgrind)
#   scripts/bench.sh [--smoke] -- ARGS   passes ARGS on to nethttp_bench
#                              (e.g. -- --only throughput --rounds 3)
#   NETHTTP_BENCH_CURL=bundled scripts/bench.sh [any of the above]
#                              both sides on the libcurl 8.x that curl-sys
#                              bundles (-DNETHTTP_BUNDLED_CURL=ON; nethttp then
#                              reuses easy handles), built in build-bench-bundled/;
#                              a full run writes bench/results-bundled.md and
#                              bench/throughput-bundled.svg, and leaves the
#                              READMEs alone. Default: system (Debian's libcurl)
#
# Installs what is missing from Debian's packages (nginx, its echo module,
# libcurl4-openssl-dev, and what scripts/ensure-tools.sh installs), saying
# which and why (NETHTTP_NO_INSTALL=1: lists them and stops), builds the
# benchmark in build-bench/ (NETHTTP_BENCH_BUILD_DIR overrides) and runs nginx from a
# config and temp dirs of its own under that build dir: a plain HTTP server
# and an HTTPS one speaking HTTP/2 and HTTP/1.1 (Debian's nginx has the ssl
# and http_v2 modules built in) with the test certificate of
# c_tests/server/ (cert.pem, CN localhost, SAN 127.0.0.1, its own CA).
#
# With 2 or more CPUs, nginx's worker is pinned to the last CPU and the
# benchmark to the others (NETHTTP_BENCH_PIN=0 turns that off): on a VM,
# client and server bouncing between CPUs makes c=1 figures vary 4x from
# run to run. The pinning is the same for both sides.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=full
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) mode=smoke ;;
        --callgrind) mode=callgrind ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# Which libcurl both sides use: the system's (nethttp links libcurl.so, the
# raw side too) or the one curl-sys bundles (static in libnethttp, and the
# same libcurl.a linked into the raw side; see bench/CMakeLists.txt).
curl_kind="${NETHTTP_BENCH_CURL:-system}"
case "$curl_kind" in
    system) bundled=OFF ;;
    bundled) bundled=ON; export NETHTTP_BUNDLED_CURL=ON ;;  # ensure-tools.sh: no libcurl4-openssl-dev needed
    *) echo "bench.sh: NETHTTP_BENCH_CURL must be system or bundled, not $curl_kind" >&2; exit 2 ;;
esac

. scripts/ensure-tools.sh

# ---------------------------------------------------------------- packages
# Installing libcurl4-openssl-dev also makes the curl crate link the system
# libcurl instead of building its bundled copy: both sides then use the same
# libcurl. A policy-rc.d keeps the nginx package from starting its service.
bench_install() {
    local policy=/usr/sbin/policy-rc.d made_policy=""
    if [ "$(id -u)" -eq 0 ] && [ ! -e "$policy" ] && [ "${NETHTTP_NO_INSTALL:-0}" != 1 ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
    fi
    local rc=0
    nethttp_install "$@" || rc=$?
    [ -n "$made_policy" ] && rm -f "$policy"
    return "$rc"
}
nethttp_have nginx || bench_install "the HTTP server the benchmark runs against" nginx || exit 1
if [ "$curl_kind" = system ]; then
    dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 ||
        bench_install "the raw libcurl side of the benchmark links the system's libcurl" libcurl4-openssl-dev || exit 1
fi
# Before the build: the benchmark includes valgrind's callgrind.h to dump
# each measured round on its own.
if [ "$mode" = callgrind ]; then
    nethttp_have valgrind ||
        bench_install "its callgrind tool counts the instructions" valgrind || exit 1
fi
echo_module=/usr/lib/nginx/modules/ngx_http_echo_module.so
if [ ! -e "$echo_module" ]; then
    bench_install "nginx's echo module, for the slow and held responses" libnginx-mod-http-echo ||
        echo "bench.sh: no nginx echo module; the Python test server will hold requests" >&2
fi

# ---------------------------------------------------------------- build
default_build_dir=build-bench
[ "$curl_kind" = bundled ] && default_build_dir=build-bench-bundled
build_dir="${NETHTTP_BENCH_BUILD_DIR:-$default_build_dir}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
build() {
    mkdir -p "$build_dir"
    if ! { cmake -S . -B "$build_dir" -DNETHTTP_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=Release \
               -DNETHTTP_BUILD_TESTS=OFF -DNETHTTP_BUILD_EXAMPLES=OFF -DNETHTTP_BUNDLED_CURL="$bundled" &&
           cmake --build "$build_dir" --target nethttp_bench --parallel "$(nproc)"; } \
           > "$build_dir/bench-build.log" 2>&1; then
        if [ -z "${curl_sys_cleaned:-}" ] &&
           grep -q "nethttp: the system's libcurl was not found" "$build_dir/bench-build.log"; then
            # curl-sys was built bundled before libcurl4-openssl-dev was
            # there, and does not look again by itself.
            curl_sys_cleaned=1
            echo "bench.sh: curl-sys kept a bundled libcurl; rebuilding it against the system's" >&2
            cargo clean --manifest-path Cargo.toml --target-dir "$build_dir/cargo" --release \
                -p curl-sys -p curl >/dev/null 2>&1 || true
            build
            return
        fi
        cat "$build_dir/bench-build.log" >&2
        echo "bench.sh: the build failed" >&2
        exit 1
    fi
}
build
lib="$build_dir/cargo/release/libnethttp.so"
bench="$build_dir/bench/nethttp_bench"
if [ "$curl_kind" = system ]; then
    if ! ldd "$lib" | grep 'libcurl\.so' >/dev/null; then
        # Built before libcurl4-openssl-dev was there: curl-sys kept its bundled copy.
        echo "bench.sh: libnethttp has a bundled libcurl; rebuilding curl-sys against the system's" >&2
        cargo clean --manifest-path Cargo.toml --target-dir "$build_dir/cargo" --release \
            -p curl-sys -p curl >/dev/null 2>&1 || true
        build
    fi
    if ldd "$lib" | grep 'libcurl\.so' >/dev/null; then
        same_curl="both sides use the system $(ldd "$lib" | awk '/libcurl\.so/ {print $3}')"
    else
        same_curl="WARNING: libnethttp uses its own bundled libcurl, the raw side the system's"
        echo "bench.sh: $same_curl" >&2
    fi
else
    # Both sides hold a static copy of the libcurl.a that curl-sys built:
    # neither may load a libcurl.so, and both must hold the version string of
    # the headers the raw side was compiled with (curl_version_info() returns
    # it). The raw side's version at run time is checked against it too
    # (check_raw_curl, after the run).
    curl_version_h="$build_dir/bench/bundled-curl/include/curl/curlver.h"
    bundled_version=$(sed -n 's/^#define LIBCURL_VERSION "\([^"]*\)".*/\1/p' "$curl_version_h" 2>/dev/null || true)
    if [ -z "$bundled_version" ]; then
        echo "bench.sh: no libcurl version in $curl_version_h (see $build_dir/bench-build.log)" >&2
        exit 1
    fi
    # The linker may merge the string into the tail of "libcurl/VERSION".
    version_re="(\\x00|libcurl/)$(printf '%s' "$bundled_version" | sed 's/[].[^$*+?(){}|\\]/\\&/g')\\x00"
    for f in "$lib" "$bench"; do
        if ldd "$f" | grep 'libcurl\.so' >/dev/null; then
            echo "bench.sh: $f loads $(ldd "$f" | awk '/libcurl\.so/ {print $3}'), not the bundled libcurl" >&2
            exit 1
        fi
        if ! LC_ALL=C grep -qaP "$version_re" "$f"; then
            echo "bench.sh: $f holds no libcurl $bundled_version (the bundled headers' version)" >&2
            exit 1
        fi
    done
    same_curl="both sides use the bundled libcurl $bundled_version that curl-sys built (static in libnethttp.so, and the same libcurl.a linked into nethttp_bench for the raw side)"
fi
# check_raw_curl VERSION: the raw side's libcurl at run time (what the program
# printed) must be the one checked above.
check_raw_curl() {
    if [ "$curl_kind" = bundled ] && [ "$1" != "$bundled_version" ]; then
        echo "bench.sh: the raw side ran on libcurl '$1', not the bundled $bundled_version" >&2
        exit 1
    fi
}

# ---------------------------------------------------------------- sizes
if [ "$mode" = smoke ]; then
    download_size=$((1 << 20))
    hold_seconds=1
    args=(--requests 300 --concurrency 1,10,50 --rounds 1 --app-requests 200
          --post-requests 300 --download-rounds 1 --inflight 200 --mem-rounds 1
          --soak 2000 --enc-size 65536 --enc-big 1048576 --enc-rounds 1 --idle 200)
    out_dir="$build_dir/smoke"
    time_limit=300
else
    download_size=$((64 << 20))
    hold_seconds=5
    args=()
    out_dir="$root/bench"
    time_limit=3600
fi
# The bundled libcurl's results go next to the system's, not over them.
results_name=results.md
plot_name=throughput.svg
if [ "$curl_kind" = bundled ]; then
    results_name=results-bundled.md
    plot_name=throughput-bundled.svg
fi

# 10,000 connections on each end: raise the descriptor limit as far as allowed.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)

cpus=$(nproc)
pin_nginx=""
pin_bench=()
if [ "${NETHTTP_BENCH_PIN:-1}" != 0 ] && [ "$cpus" -ge 2 ] && nethttp_have taskset; then
    pin_nginx="worker_cpu_affinity 1$(printf '0%.0s' $(seq 2 "$cpus"));"
    pin_bench=(taskset -c "0-$((cpus - 2))")
    [ "$cpus" -eq 2 ] && pin_bench=(taskset -c 0)
fi

# ---------------------------------------------------------------- nginx
ng="$build_dir/nginx"
mkdir -p "$ng/logs" "$ng/tmp" "$ng/html" "$out_dir"
if [ "$(stat -c %s "$ng/html/big.bin" 2>/dev/null || echo 0)" != "$download_size" ]; then
    head -c "$download_size" /dev/urandom > "$ng/html/big.bin"
fi

nginx_pid=""
server_port_file=""
cleanup() {
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -TERM "$nginx_pid" 2>/dev/null || true
    fi
    if [ -n "$server_port_file" ] && [ -e "$server_port_file" ]; then
        python3 c_tests/server/test_server.py stop --port-file "$server_port_file" || true
    fi
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nginx before 1.25.1 turns HTTP/2 on in the listen line, later ones with
# "http2 on;" (and warn about the listen parameter).
tls_cert="$root/c_tests/server/cert.pem"
tls_key="$root/c_tests/server/key.pem"
nginx_v=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
if [ "$(printf '%s\n' 1.25.1 "$nginx_v" | sort -V | head -n1)" = 1.25.1 ]; then
    h2_listen="" h2_directive="http2 on;"
else
    h2_listen="http2" h2_directive=""
fi
if ! nginx -V 2>&1 | grep -q -- --with-http_v2_module ||
   ! nginx -V 2>&1 | grep -q -- --with-http_ssl_module; then
    echo "bench.sh: this nginx lacks its ssl or http_v2 module (nginx -V); the HTTPS rows need both" >&2
    exit 1
fi

write_nginx_conf() {
    local port=$1 tls_port=$2 user_line="" module_line="" hold post
    [ "$(id -u)" -eq 0 ] && user_line="user root;"
    if [ -e "$echo_module" ]; then
        module_line="load_module $echo_module;"
        hold="location = /hold { echo_sleep $hold_seconds; echo held; }
        location = /idle { echo_sleep 300; echo idle; }"
        post="location = /post { echo_read_request_body; echo ok; }"
    else
        hold=""
        post="location = /post { return 200 \"ok\\n\"; }"
    fi
    cat > "$ng/nginx.conf" <<EOF
# Written by scripts/bench.sh for one benchmark run.
$user_line
$module_line
worker_processes 1;
$pin_nginx
worker_rlimit_nofile $fd_limit;
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events {
    worker_connections $((fd_limit - 64));
    multi_accept on;
}
http {
    access_log off;
    server_tokens off;
    client_body_temp_path $ng/tmp/body;
    proxy_temp_path $ng/tmp/proxy;
    fastcgi_temp_path $ng/tmp/fastcgi;
    uwsgi_temp_path $ng/tmp/uwsgi;
    scgi_temp_path $ng/tmp/scgi;
    keepalive_timeout 600s;
    keepalive_requests 100000000;
    keepalive_time 24h;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    client_max_body_size 16m;
    client_body_buffer_size 64k;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port backlog=4096;
        root $ng/html;
        location = /small { default_type text/plain; return 200 "nethttp benchmark: a small response body of 64 bytes, no more.\\n"; }
        $post
        $hold
        location = /big.bin { }
        location = /nginx_status { stub_status; }
    }
    server {
        listen 127.0.0.1:$tls_port ssl $h2_listen backlog=4096;
        $h2_directive
        ssl_certificate $tls_cert;
        ssl_certificate_key $tls_key;
        location = /small { default_type text/plain; return 200 "nethttp benchmark: a small response body of 64 bytes, no more.\\n"; }
    }
}
EOF
}

port=""
tls_port=""
for _ in 1 2 3 4 5; do
    port=$(free_port)
    tls_port=$(free_port)
    [ "$tls_port" != "$port" ] || continue
    write_nginx_conf "$port" "$tls_port"
    nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log" -g 'daemon off;' &
    nginx_pid=$!
    if python3 - "$port" "$tls_port" "$tls_cert" <<'EOF'
import ssl, sys, time, urllib.request
urls = ["http://127.0.0.1:%s/small" % sys.argv[1], "https://127.0.0.1:%s/small" % sys.argv[2]]
tls = ssl.create_default_context(cafile=sys.argv[3])
for url in urls:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1, context=tls).read()
            break
        except Exception:
            time.sleep(0.05)
    else:
        sys.exit(1)
EOF
    then
        break
    fi
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
done
if [ -z "$nginx_pid" ]; then
    echo "bench.sh: nginx did not start; see $ng/logs/error.log" >&2
    exit 1
fi
base="http://127.0.0.1:$port"
tls_base="https://127.0.0.1:$tls_port"
hold_url="$base/hold"
if [ ! -e "$echo_module" ]; then
    server_port_file="$build_dir/test_server.port"
    python3 c_tests/server/test_server.py start --port-file "$server_port_file" \
        --log "$build_dir/test_server.log"
    hold_url="http://127.0.0.1:$(cut -d' ' -f1 "$server_port_file")/hold?ms=$((hold_seconds * 1000))"
fi

# ---------------------------------------------------------------- callgrind
# One round of 10,000 requests after 1,000 of warm-up, each side alone under
# callgrind. The benchmark dumps the measured round on its own
# (CALLGRIND_DUMP_STATS_AT, file NAME.1): its count leaves out start-up,
# warm-up and the program's own statistics, and covers every thread.
if [ "$mode" = callgrind ]; then
    out_dir="$build_dir/callgrind"
    mkdir -p "$out_dir"
    requests=10000
    # Instructions of the measured round: the "totals:" line of dump 1.
    measured_round() {
        local dump="$1.1"
        if [ ! -s "$dump" ]; then
            echo "bench.sh: callgrind wrote no dump of the measured round ($dump); was nethttp_bench built without valgrind/callgrind.h?" >&2
            exit 1
        fi
        awk '/^totals:/ { print $2; exit }' "$dump"
    }
    # Besides the plain raw loop, the raw loop doing what nethttp must do
    # (--raw-as-nethttp): send its Accept-Encoding line (compression is on by
    # default), and on libcurl < 8.1, where nethttp cannot reuse easy handles
    # (src/libcurl_bugs.rs), use a new handle per request. The last column
    # is what nethttp's own layer costs over that.
    echo "| GET 64 bytes | nethttp | raw libcurl | nethttp / raw | raw + Accept-Encoding | raw + Accept-Encoding + a new handle per request | nethttp / raw doing nethttp's work |"
    echo "|---|--:|--:|--:|--:|--:|--:|"
    for c in 1 50; do
        declare -A per_request=()
        for variant in nethttp raw raw-ae raw-ae-fresh; do
            case "$variant" in
                nethttp) args=(--sides nethttp) ;;
                raw) args=(--sides raw) ;;
                raw-ae) args=(--sides raw --raw-as-nethttp accept-encoding) ;;
                raw-ae-fresh) args=(--sides raw --raw-as-nethttp accept-encoding,fresh-handles) ;;
            esac
            rm -f "$out_dir/callgrind.$variant.c$c.out"*
            valgrind --tool=callgrind --callgrind-out-file="$out_dir/callgrind.$variant.c$c.out" \
                "$bench" --base "$base" --only throughput --concurrency "$c" --rounds 1 \
                --requests "$requests" "${args[@]}" > /dev/null 2> "$out_dir/$variant.c$c.log"
            collected=$(measured_round "$out_dir/callgrind.$variant.c$c.out")
            per_request[$variant]=$((collected / requests))
            curl_version=$(sed -n 's/^nethttp .*, libcurl \([^ ]*\) (.*/\1/p' "$out_dir/$variant.c$c.log" | head -n1)
            check_raw_curl "$curl_version"
        done
        # Handle reuse is safe from libcurl 8.1.0 on.
        same_work=raw-ae-fresh
        if [ "$(printf '%s\n' 8.1.0 "${curl_version%%-*}" | sort -V | head -n1)" = 8.1.0 ]; then
            same_work=raw-ae
        fi
        awk -v c="$c" -v n="${per_request[nethttp]}" -v r="${per_request[raw]}" \
            -v ae="${per_request[raw-ae]}" -v aef="${per_request[raw-ae-fresh]}" \
            -v same="${per_request[$same_work]}" \
            'BEGIN { printf "| c=%s | %.1fk | %.1fk | %.3f | %.1fk | %.1fk | %.3f |\n",
                     c, n / 1000, r / 1000, n / r, ae / 1000, aef / 1000, n / same }'
    done
    echo "(instructions per request; the last column compares with the raw loop + Accept-Encoding$([ "$same_work" = raw-ae-fresh ] && echo ' + a new handle per request'): libcurl $curl_version)"
    # The same counts split by library: libcurl's work, libc's (malloc,
    # memset, ...), and each side's own code.
    for c in 1 50; do
        echo
        echo "By library, GET 64 bytes, c=$c, instructions per request:"
        python3 bench/callgrind_by_library.py "$requests" \
            "nethttp=$out_dir/callgrind.nethttp.c$c.out.1" \
            "raw=$out_dir/callgrind.raw.c$c.out.1" \
            "raw + Accept-Encoding=$out_dir/callgrind.raw-ae.c$c.out.1" \
            "raw + Accept-Encoding + a new handle per request=$out_dir/callgrind.raw-ae-fresh.c$c.out.1"
    done
    # The streamed download: a warm-up and a measured GET of /big.bin per
    # side, the measured one counted. Most of it is the callbacks' sum over every byte, the same work
    # on both sides; the difference is what nethttp adds per chunk.
    declare -A per_download=()
    for side in nethttp raw; do
        rm -f "$out_dir/callgrind.$side.stream.out"*
        valgrind --tool=callgrind --callgrind-out-file="$out_dir/callgrind.$side.stream.out" \
            "$bench" --base "$base" --only stream --download-size "$download_size" \
            --download-rounds 1 --sides "$side" > /dev/null 2> "$out_dir/$side.stream.log"
        per_download[$side]=$(measured_round "$out_dir/callgrind.$side.stream.out")
    done
    echo
    echo "| Streamed download | nethttp instructions/download | raw libcurl instructions/download | nethttp / raw |"
    echo "|---|--:|--:|--:|"
    awk -v s="$((download_size >> 20)) MiB" -v n="${per_download[nethttp]}" -v r="${per_download[raw]}" \
        'BEGIN { printf "| %s | %.1fM | %.1fM | %.3f |\n", s, n / 1e6, r / 1e6, n / r }'
    echo "bench.sh: $same_curl" >&2
    echo "bench.sh: callgrind outputs in $out_dir (the measured round: callgrind_annotate --inclusive=yes FILE.1)" >&2
    exit 0
fi

# ---------------------------------------------------------------- run
nginx_version=$(nginx -v 2>&1 | sed 's/^nginx version: //')
echo "bench.sh: nginx $nginx_version on $base and $tls_base (pid $nginx_pid), $same_curl" >&2
echo "bench.sh: descriptor limit $fd_limit; ${pin_nginx:-no pinning} ${pin_bench[*]}; running $mode benchmark" >&2
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
set +e
idle_args=()
[ -e "$echo_module" ] && idle_args=(--idle-url "$base/idle")
timeout "$time_limit" "${pin_bench[@]}" "$bench" --base "$base" --hold-url "$hold_url" "${idle_args[@]}" \
    --hold-ms "$((hold_seconds * 1000))" --status-url "$base/nginx_status" \
    --tls-base "$tls_base" --ca-file "$tls_cert" \
    --download-size "$download_size" \
    --markdown "$out_dir/table.md.tmp" --data "$out_dir/data.tsv.tmp" \
    "${args[@]}" "${extra[@]}"
status=$?
set -e
elapsed=$(( $(date +%s) - started ))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$status" -ne 0 ]; then
    echo "bench.sh: nethttp_bench failed (exit $status) after ${elapsed}s" >&2
    exit "$status"
fi

# ---------------------------------------------------------------- results
curl_version=$(awk -F'\t' '$1 == "versions" {print $3}' "$out_dir/data.tsv.tmp")
check_raw_curl "${curl_version#libcurl }"
nethttp_version=$(awk -F'\t' '$1 == "versions" {print $2}' "$out_dir/data.tsv.tmp")
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || true)
cmdline="scripts/bench.sh"
[ "$curl_kind" = bundled ] && cmdline="NETHTTP_BENCH_CURL=bundled $cmdline"
[ "$mode" = smoke ] && cmdline="$cmdline --smoke"
[ ${#extra[@]} -gt 0 ] && cmdline="$cmdline -- ${extra[*]}"
{
    echo "# nethttp benchmark results"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`$cmdline\` in ${elapsed} s, on $(nproc) cores"
    echo "(${cpu:-unknown CPU}), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo),"
    echo "Linux $(uname -r). $nethttp_version against $curl_version: $same_curl."
    echo "Server: $nginx_version on 127.0.0.1, one worker, keep-alive; HTTPS with HTTP/2 (ALPN) and HTTP/1.1."
    if [ -n "$pin_nginx" ]; then
        echo "nginx pinned to CPU $((cpus - 1)), the benchmark (both sides) to CPU ${pin_bench[2]}."
    fi
    echo "Load average (1, 5, 15 min) before: $load_before; after: $load_after."
    echo "Each figure is the median of the rounds, nethttp and raw libcurl alternating; a"
    echo "comparison is the median of the per-round pairs, with the range of the pairs in"
    echo "brackets. See bench/README.md for the method."
    echo
    cat "$out_dir/table.md.tmp"
    echo
    echo "![requests/s per concurrency level, nethttp and raw libcurl]($plot_name)"
} > "$out_dir/$results_name"
python3 bench/plot_throughput.py "$out_dir/data.tsv.tmp" "$out_dir/$plot_name"
rm -f "$out_dir/table.md.tmp" "$out_dir/data.tsv.tmp"

# A full run also refreshes the results section of bench/README.md, and of
# README.md if it has one: whatever stands between the two marker lines. Not
# with the bundled libcurl: those sections show the system's.
if [ "$mode" = full ] && [ "$curl_kind" = system ]; then
    python3 - "$out_dir/results.md" bench/README.md README.md <<'EOF'
import os, sys
start, end = "<!-- bench-results:start -->", "<!-- bench-results:end -->"
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
body = "\n".join(lines[1:]).strip("\n")  # without the "# ..." title
for path in sys.argv[2:]:
    if not os.path.exists(path):
        continue
    text = open(path, encoding="utf-8").read()
    if start not in text or end not in text:
        continue
    rel = os.path.relpath("bench/throughput.svg", os.path.dirname(path) or ".")
    section = body.replace("](throughput.svg)", "](%s)" % rel)
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    open(path, "w", encoding="utf-8").write(head + start + "\n" + section + "\n" + end + tail)
    print("bench.sh: updated the results in", path, file=sys.stderr)
EOF
fi
echo "bench.sh: done in ${elapsed}s; wrote $out_dir/$results_name and $out_dir/$plot_name" >&2
