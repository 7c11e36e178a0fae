//! Puts memory.x where cortex-m-rt's link.x finds it, and rebuilds when it changes.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(error) = std::fs::copy("memory.x", out.join("memory.x")) {
        println!("cargo::error=cannot copy memory.x to OUT_DIR: {error}");
        return;
    }
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-changed=build.rs");
}
