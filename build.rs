// Gives the shared library a versioned soname (libnethttp.so.MAJOR), so that
// programs linked against it keep working across compatible updates; and
// refuses a libcurl nobody chose (see require_chosen_curl).
fn main() {
    require_chosen_curl();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnethttp.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// curl-sys links the system's libcurl when pkg-config finds its development
/// files, and otherwise quietly builds a bundled copy (it then tells its
/// dependents `DEP_CURL_STATIC=1`). nethttp's default is the system's
/// libcurl, for its HTTP/2, brotli and zstd: a bundled one is used only when
/// asked for with the `bundled-curl` feature.
fn require_chosen_curl() {
    println!("cargo:rerun-if-env-changed=DEP_CURL_STATIC");
    let bundled = std::env::var_os("DEP_CURL_STATIC").is_some();
    let asked_for_bundled = std::env::var_os("CARGO_FEATURE_BUNDLED_CURL").is_some();
    if bundled && !asked_for_bundled {
        eprintln!(
            "\n\
             nethttp: the system's libcurl was not found: pkg-config knows no `libcurl`,\n\
             so the curl crate built its own bundled libcurl instead (no brotli, no zstd,\n\
             no HTTP/2). nethttp builds against the system's libcurl unless told otherwise.\n\
             \n\
             Either install libcurl's development files and rebuild the curl crates:\n\
             \x20   apt-get install libcurl4-openssl-dev     (Debian, Ubuntu; scripts/ensure-tools.sh does this)\n\
             \x20   dnf install libcurl-devel                 (Fedora)\n\
             \x20   cargo clean -p curl-sys -p curl           (curl-sys does not look again by itself;\n\
             \x20                                            a CMake build: add --target-dir build/cargo)\n\
             \n\
             or choose the bundled libcurl on purpose:\n\
             \x20   cargo build --features bundled-curl\n\
             \x20   cmake -DNETHTTP_BUNDLED_CURL=ON ...\n"
        );
        std::process::exit(1);
    }
}
