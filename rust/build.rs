//! Generates ../bridge/tguard_bridge.h from the crate's `extern "C"` items.
//! Set TGUARD_SKIP_CBINDGEN=1 to skip (cross builds: the header does not
//! depend on the target, and the committed one is used).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    // Also rerun when the header itself was edited or deleted, so a hand
    // edit cannot survive a build (and the Makefile's diff check sees it).
    println!("cargo:rerun-if-changed=../bridge/tguard_bridge.h");
    println!("cargo:rerun-if-env-changed=TGUARD_SKIP_CBINDGEN");
    if env::var("TGUARD_SKIP_CBINDGEN").as_deref() == Ok("1") {
        return;
    }
    let crate_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("reading cbindgen.toml: {e}"));
    // with_src (not with_crate) avoids running `cargo metadata` from a build script;
    // cbindgen follows the `mod` declarations of lib.rs.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen: {e}"));
    // write_to_file only rewrites the file when its content changed, so the
    // header's mtime (and cgo's cache) is left alone on no-op builds.
    bindings.write_to_file(crate_dir.join("../bridge/tguard_bridge.h"));
}
