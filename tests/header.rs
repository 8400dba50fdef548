//! `include/nethttp.h` is generated from the Rust sources. This test generates
//! it again and fails when the committed header differs; run
//! `NETHTTP_UPDATE_HEADER=1 cargo test --test header` to rewrite it.

use std::path::Path;

fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let version = env!("CARGO_PKG_VERSION");
    config.after_includes = Some(format!(
        "\n/* The version of this header; nethttp_version() gives the library's. */\n\
         #define NETHTTP_VERSION \"{version}\"\n\
         #define NETHTTP_VERSION_MAJOR {}\n\
         #define NETHTTP_VERSION_MINOR {}\n\
         #define NETHTTP_VERSION_PATCH {}",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    ));
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_matches_the_sources() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/nethttp.h");
    let generated = generate();
    if std::env::var_os("NETHTTP_UPDATE_HEADER").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/nethttp.h is out of date with the Rust sources: \
         run `NETHTTP_UPDATE_HEADER=1 cargo test --test header` and commit the result"
    );
}
