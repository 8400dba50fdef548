#!/usr/bin/env bash
# Builds nethttp's packages from this checkout, installs each, and builds and
# runs programs against it:
#
#   scripts/packaging.sh            all three parts (a few minutes)
#   scripts/packaging.sh deb conan offline     the parts named
#
#   deb      `cpack -G DEB` makes libnethttp0 and libnethttp-dev; their
#            fields and files are checked, both are installed with dpkg
#            (as root; refused if a nethttp package is already installed),
#            c_tests/packaging/consumer is built with find_package(nethttp)
#            and test_package/nethttp_package_test.c with pkg-config, shared
#            and static, and run; then both packages are purged again.
#   conan    `conan create .` with shared=True and shared=False, each
#            building and running test_package/ through Conan's CMakeDeps.
#            Conan comes from PyPI into build-packaging/venv (said when it
#            is installed; NETHTTP_NO_INSTALL=1 refuses) and keeps its cache
#            in build-packaging/conan-home.
#   offline  copies the checkout, runs scripts/vendor.sh in the copy, then
#            builds and installs it with an empty CARGO_HOME, cargo told to
#            stay offline and any network access sent to a closed port, and
#            builds and runs a program against the installation.
#
# Works in build-packaging/ (NETHTTP_PACKAGING_BUILD_DIR overrides); the deb
# part reuses the cargo build of the normal build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/ensure-tools.sh

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(deb conan offline)
for part in "${parts[@]}"; do
    case "$part" in
        deb|conan|offline) ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        *) echo "packaging.sh: unknown part $part (deb, conan, offline)" >&2; exit 2 ;;
    esac
done
out="${NETHTTP_PACKAGING_BUILD_DIR:-build-packaging}"
case "$out" in /*) ;; *) out="$root/$out" ;; esac
mkdir -p "$out"
cargo_dir="$root/${NETHTTP_BUILD_DIR:-build}/cargo"
version=$(sed -n 's/^version = "\([0-9.]*\)"$/\1/p' Cargo.toml | head -1)
major=${version%%.*}
summary=()
started=$(date +%s)

say() { echo "packaging.sh: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# Builds test_package/nethttp_package_test.c with the compiler and pkg-config
# (shared, then static with Libs.private) and runs both. Extra arguments go
# before the source (e.g. an rpath).
pkgconfig_programs() {
    local dir=$1
    shift
    mkdir -p "$dir"
    # shellcheck disable=SC2046 # pkg-config prints several words on purpose
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$@" test_package/nethttp_package_test.c \
        $(pkg-config --cflags --libs nethttp) -o "$dir/shared" || fail "pkg-config build (shared)"
    # shellcheck disable=SC2046
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror test_package/nethttp_package_test.c \
        $(pkg-config --cflags nethttp) \
        $(pkg-config --libs --static nethttp | sed 's/-lnethttp /-l:libnethttp.a /') \
        -o "$dir/static" || fail "pkg-config build (static)"
    "$dir/shared" || fail "the pkg-config program (shared) failed"
    "$dir/static" || fail "the pkg-config program (static) failed"
    case "$(readelf -d "$dir/static")" in *libnethttp*) fail "the static program needs libnethttp.so" ;; esac
}

# ------------------------------------------------------------------- deb
part_deb() {
    local build="$out/deb" pkg deb_runtime deb_dev multiarch server_pid_file
    for pkg in "libnethttp$major" libnethttp-dev; do
        if dpkg -s "$pkg" >/dev/null 2>&1; then
            fail "$pkg is already installed; remove it first (dpkg --purge $pkg)"
        fi
    done
    [ "$(id -u)" -eq 0 ] || fail "installing the .deb packages needs root"
    nethttp_have dpkg-shlibdeps || nethttp_install "CPack computes the packages' dependencies with it" dpkg-dev ||
        exit 1
    nethttp_have file || nethttp_install "CPack finds the shared libraries with it" file || exit 1

    say "deb: building the packages in $build"
    mkdir -p "$build"
    rm -f "$build"/*.deb
    if ! { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
               -DNETHTTP_BUILD_TESTS=OFF -DNETHTTP_BUILD_EXAMPLES=OFF -DNETHTTP_CARGO_TARGET_DIR="$cargo_dir" &&
           cmake --build "$build" --parallel "$(nproc)" &&
           (cd "$build" && cpack -G DEB); } > "$out/deb-build.log" 2>&1; then
        tail -40 "$out/deb-build.log" >&2
        fail "building the packages; the log is $out/deb-build.log"
    fi
    deb_runtime=$(ls "$build"/libnethttp"$major"_"$version"_*.deb)
    deb_dev=$(ls "$build"/libnethttp-dev_"$version"_*.deb)
    multiarch=$(gcc -print-multiarch)

    # The packages' fields and files.
    local runtime_deps dev_deps shlibs
    runtime_deps=$(dpkg-deb -f "$deb_runtime" Depends)
    dev_deps=$(dpkg-deb -f "$deb_dev" Depends)
    shlibs=$(dpkg-deb --ctrl-tarfile "$deb_runtime" | tar -xO ./shlibs)
    [[ $runtime_deps == *libc6* ]] || fail "libnethttp$major does not depend on libc6: $runtime_deps"
    if [ "${NETHTTP_BUNDLED_CURL:-OFF}" != ON ]; then
        [[ $runtime_deps == *libcurl4* ]] || fail "libnethttp$major does not depend on libcurl4: $runtime_deps"
    fi
    [[ $dev_deps == *"libnethttp$major (= $version)"* ]] ||
        fail "libnethttp-dev does not depend on libnethttp$major (= $version): $dev_deps"
    [ "$shlibs" = "libnethttp $major libnethttp$major (>= $version)" ] ||
        fail "libnethttp$major's shlibs file says '$shlibs'"
    local runtime_files dev_files
    runtime_files=$(dpkg-deb -c "$deb_runtime" | awk '{print $6}' | grep -v '/$' | sort | tr '\n' ' ')
    [ "$runtime_files" = "./usr/lib/$multiarch/libnethttp.so.$major ./usr/lib/$multiarch/libnethttp.so.$version " ] ||
        fail "libnethttp$major holds: $runtime_files"
    dev_files=$(dpkg-deb -c "$deb_dev" | awk '{print $6}' | grep -v '/$' | sort | tr '\n' ' ')
    for f in include/nethttp.h include/nethttp.hpp "lib/$multiarch/libnethttp.so" "lib/$multiarch/libnethttp.a" \
             "lib/$multiarch/cmake/nethttp/nethttpConfig.cmake" "lib/$multiarch/cmake/nethttp/nethttpConfigVersion.cmake" \
             "lib/$multiarch/pkgconfig/nethttp.pc"; do
        case " $dev_files " in *" ./usr/$f "*) ;; *) fail "libnethttp-dev lacks /usr/$f" ;; esac
    done
    say "deb: $(basename "$deb_runtime") (Depends: $runtime_deps) and $(basename "$deb_dev") (Depends: $dev_deps)"

    # Installed: what a user of the packages gets.
    trap 'dpkg --purge libnethttp-dev "libnethttp'"$major"'" >/dev/null 2>&1 || true' EXIT
    dpkg -i "$deb_runtime" "$deb_dev" >/dev/null || fail "dpkg -i"
    [[ $(file -L "/usr/lib/$multiarch/libnethttp.so.$major") == *", stripped"* ]] ||
        fail "the installed library is not stripped"
    [ "$(pkg-config --variable=libdir nethttp)" = "/usr/lib/$multiarch" ] || fail "nethttp.pc names another libdir"

    server_pid_file="$out/deb-server.port"
    python3 c_tests/server/test_server.py start --port-file "$server_pid_file" --log "$out/deb-server.log" >/dev/null
    trap 'python3 c_tests/server/test_server.py stop --port-file "'"$server_pid_file"'" >/dev/null 2>&1 || true;
          dpkg --purge libnethttp-dev "libnethttp'"$major"'" >/dev/null 2>&1 || true' EXIT
    local base
    base="http://127.0.0.1:$(cut -d' ' -f1 "$server_pid_file")"
    cmake "-DSOURCE_DIR=$root/c_tests/packaging/consumer" "-DBINARY_DIR=$out/deb-consumer" \
        "-DGENERATOR=Unix Makefiles" -DC_COMPILER=cc -DC_ONLY=ON -DQUIET=ON -DBUILD_TYPE=Release \
        "-DEXPECT_PACKAGE_DIR=/usr/lib/$multiarch/cmake/nethttp" \
        -P c_tests/packaging/consumer_build.cmake > "$out/deb-consumer.log" 2>&1 ||
        { cat "$out/deb-consumer.log" >&2; fail "building the find_package consumer"; }
    "$out/deb-consumer/consumer_shared" "$base" || fail "the find_package consumer (shared) failed"
    "$out/deb-consumer/consumer_static" "$base" || fail "the find_package consumer (static) failed"
    pkgconfig_programs "$out/deb-pkgconfig"

    python3 c_tests/server/test_server.py stop --port-file "$server_pid_file" >/dev/null
    dpkg --purge libnethttp-dev "libnethttp$major" >/dev/null || fail "dpkg --purge"
    trap - EXIT
    [ ! -e "/usr/lib/$multiarch/libnethttp.so.$major" ] || fail "removing the packages left libnethttp.so.$major"
    summary+=("deb: libnethttp$major and libnethttp-dev built, installed, used by find_package and pkg-config programs (shared and static), purged")
}

# ------------------------------------------------------------------- conan
part_conan() {
    local venv="$out/venv" option
    if [ ! -x "$venv/bin/conan" ]; then
        if [ "${NETHTTP_NO_INSTALL:-0}" = 1 ]; then
            fail "conan is missing (into $venv from PyPI); NETHTTP_NO_INSTALL=1, so not installing it"
        fi
        python3 -c 'import ensurepip' 2>/dev/null ||
            nethttp_install "python3 -m venv needs it, to hold conan" python3-venv || exit 1
        say "conan: installing conan from PyPI into $venv (python3 -m venv; pip install conan), to build the Conan package"
        python3 -m venv "$venv" || fail "python3 -m venv"
        "$venv/bin/pip" install --quiet conan || fail "pip install conan"
    fi
    export CONAN_HOME="$out/conan-home"
    [ -e "$CONAN_HOME/profiles/default" ] || "$venv/bin/conan" profile detect >/dev/null 2>&1
    for option in True False; do
        say "conan: conan create . -o '&:shared=$option'"
        if ! "$venv/bin/conan" create . -s build_type=Release -o "&:shared=$option" --no-remote \
                > "$out/conan-shared-$option.log" 2>&1; then
            tail -40 "$out/conan-shared-$option.log" >&2
            fail "conan create (shared=$option); the log is $out/conan-shared-$option.log"
        fi
        grep -q 'features: .* -> ok' "$out/conan-shared-$option.log" || fail "conan did not run test_package"
        grep 'features: ' "$out/conan-shared-$option.log" | tail -1 >&2
    done
    rm -rf test_package/build test_package/CMakeUserPresets.json
    summary+=("conan: nethttp/$version created with shared=True and shared=False, test_package built and run")
}

# ------------------------------------------------------------------- offline
part_offline() {
    local copy="$out/offline-src" build="$out/offline-build" prefix="$out/offline-prefix"
    local cargo_home="$out/offline-cargo-home"
    rm -rf "$copy" "$build" "$prefix" "$cargo_home"
    mkdir -p "$copy" "$cargo_home"
    git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy"
    say "offline: vendoring the crates in a copy of the checkout"
    (cd "$copy" && scripts/vendor.sh)
    say "offline: building with an empty CARGO_HOME and no network"
    if ! env CARGO_HOME="$cargo_home" CARGO_NET_OFFLINE=true \
            http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
            HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
            bash -c 'cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DNETHTTP_BUILD_TESTS=OFF \
                         -DNETHTTP_BUILD_EXAMPLES=OFF >/dev/null &&
                     cmake --build "$2" --parallel "$(nproc)" &&
                     cmake --install "$2" --prefix "$3" >/dev/null' _ "$copy" "$build" "$prefix" \
            > "$out/offline.log" 2>&1; then
        tail -40 "$out/offline.log" >&2
        fail "the offline build; the log is $out/offline.log"
    fi
    [ -z "$(ls -A "$cargo_home/registry" 2>/dev/null)" ] || fail "cargo used its registry in the offline build"
    PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkgconfig_programs "$out/offline-programs" -Wl,-rpath,"$prefix/lib"
    summary+=("offline: vendored, built and installed with an empty CARGO_HOME and no network; programs built and run")
}

for part in "${parts[@]}"; do
    "part_$part"
done
printf 'packaging.sh: %s\n' "${summary[@]}"
echo "packaging.sh: ${#summary[@]} passed, 0 failed in $(( $(date +%s) - started )) s"
