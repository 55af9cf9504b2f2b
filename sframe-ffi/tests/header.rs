//! Fails when `include/sframe.h` differs from what cbindgen generates from the sources now.
//!
//! After changing the C API, regenerate the committed header with
//! `SFRAME_UPDATE_HEADER=1 cargo test -p sframe-ffi --test header` and commit it.

use std::path::Path;

#[test]
fn committed_header_matches_a_fresh_cbindgen_generation() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    let bindings = cbindgen::Builder::new()
        .with_src(crate_dir.join("src").join("lib.rs"))
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed: {e}"));
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).expect("cbindgen writes UTF-8");

    let path = crate_dir.join("include").join("sframe.h");
    if std::env::var_os("SFRAME_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write include/sframe.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(fresh.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "include/sframe.h is stale (first difference at line {line}); regenerate it with \
             `SFRAME_UPDATE_HEADER=1 cargo test -p sframe-ffi --test header` and commit it"
        );
    }
}
