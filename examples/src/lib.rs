//! Runnable tools for the smart-locker crates; see the `examples/` directory. Each tool is a
//! `cargo run --example NAME` binary; this library holds the pieces several of them (and their
//! tests) share:
//!
//! * [`scan_engine`]: a simulated scan engine in raw ("serial keyboard") mode on an
//!   embedded-io UART, read by `scanner`'s real `RawScanner`;
//! * [`cloud`]: an in-process MQTT sink implementing `modem::uplink::Uplink` that records what
//!   a locker publishes, and the receiving side's de-duplication rule.

pub mod cloud;
pub mod scan_engine;
