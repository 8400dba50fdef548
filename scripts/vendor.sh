#!/usr/bin/env bash
# Copies every crate nethttp's build needs into vendor/ (`cargo vendor`, the
# versions of Cargo.lock), for building without crates.io: when
# vendor/.nethttp-vendored exists, CMake runs cargo with --offline --locked
# and the vendored crates as the source of crates.io (cmake/nethttpCargo.cmake);
# the Conan recipe exports vendor/ with the sources. vendor/ is not
# committed; delete it to build from crates.io again.
#
#   scripts/vendor.sh      needs crates.io, or cargo's cache of the crates
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
rm -f vendor/.nethttp-vendored
cargo vendor --locked --quiet vendor >/dev/null
touch vendor/.nethttp-vendored
echo "vendor.sh: $(find vendor -mindepth 1 -maxdepth 1 -type d | wc -l) crates in vendor/ ($(du -sh vendor | cut -f1)); CMake builds offline from them" >&2
