//! Runnable tools for the smart-locker crates; see the `examples/` directory.
//! This library part is empty: each tool is a `cargo run --example NAME` binary.
