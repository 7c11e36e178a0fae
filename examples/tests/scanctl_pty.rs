//! `scanctl --port` against a simulated Grow GM65 played by this test over a kernel PTY pair
//! (reference/scanner.md §5: `7E 00` commands, `02 00` responses, scan output `[data]CR`).
//! Time here is real, but no assertion is about speed: the test waits with generous limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use scanner::grow::{self, CommandDecoder, CommandType, Response};
use scanner::stream::Event;
use serde_json::Value;
use serialport::{SerialPort, TTYPort};

/// A child process killed when the test ends, even by a failed assertion.
struct Proc(Option<Child>);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Plays a GM65 on `master` until `done` says so or 30 s pass: zone bits in memory, a
/// response per command, `scan` + CR after a trigger (0x01 written to 0x0002, §5.2).
/// Returns the commands received.
fn play_gm65(
    master: &mut TTYPort,
    scan: &[u8],
    zones: &mut [u8; 0x100],
    mut done: impl FnMut(&[(CommandType, u16)]) -> bool,
) -> Vec<(CommandType, u16)> {
    let mut decoder = CommandDecoder::new();
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 64];
    while Instant::now() < until && !done(&seen) {
        let n = match master.read(&mut buf) {
            Ok(n) => n,
            // EIO before scanctl opens the slave, timeouts while it is quiet.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let mut input = &buf[..n];
        let mut replies = Vec::new();
        while let Some(ev) = decoder.feed(&mut input) {
            if let Event::Frame { frame, .. } = ev {
                let c = frame.command;
                seen.push((c.kind, c.address));
                let a = usize::from(c.address);
                let mut out = [0u8; grow::MAX_RESPONSE];
                let data: Vec<u8> = match c.kind {
                    CommandType::Read => zones[a..a + usize::from(c.data[0])].to_vec(),
                    CommandType::Write => {
                        zones[a..a + c.data.len()].copy_from_slice(c.data);
                        vec![0]
                    }
                    _ => vec![0],
                };
                let k = grow::encode_response(&Response { status: 0, data: &data }, &mut out).unwrap();
                replies.extend_from_slice(&out[..k]);
                if c.kind == CommandType::Write && c.address == 0x0002 && c.data == [0x01] {
                    replies.extend_from_slice(scan);
                    replies.push(b'\r');
                }
            }
        }
        master.write_all(&replies).unwrap();
    }
    seen
}

fn pty() -> (TTYPort, String) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_millis(50)).unwrap();
    let path = slave.name().unwrap();
    drop(slave);
    (master, path)
}

#[test]
fn grow_trigger_prints_the_scan_as_json() {
    let (mut master, path) = pty();
    let child = Command::new(example_binary("scanctl"))
        .args(["--port", &path, "--engine", "grow", "trigger", "--timeout", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut proc = Proc(Some(child));
    let mut zones = [0u8; 0x100];
    let seen = play_gm65(&mut master, b"]C100123456789012345675\x1d10LOT", &mut zones, |s| !s.is_empty());
    assert_eq!(seen, [(CommandType::Write, 0x0002)]);
    let child = proc.0.take().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["aim"], "]C1");
    assert_eq!(line["gs1"], true);
    assert_eq!(line["data"], "00123456789012345675\u{1d}10LOT");
}

#[test]
fn grow_provision_sets_the_gm65_profile() {
    let (mut master, path) = pty();
    let child = Command::new(example_binary("scanctl"))
        .args(["--port", &path, "--engine", "grow", "provision"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut proc = Proc(Some(child));
    let mut zones = [0u8; 0x100];
    zones[0x0000] = 0xC2;
    let seen = play_gm65(&mut master, b"", &mut zones, |s| s.last().is_some_and(|c| c.0 == CommandType::Save));
    assert_eq!(seen.last(), Some(&(CommandType::Save, 0x0000)));
    let out = proc.0.take().unwrap().wait_with_output().unwrap();
    assert!(out.status.success());
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["provisioned"], "grow-gm65");
    assert_eq!(zones[0x0000], 0xC1, "command-triggered mode (§5.2)");
    assert_eq!(zones[0x0003] & 0x02, 0x02, "setup barcodes off");
}

#[test]
fn no_port_is_an_error() {
    let out = Command::new(example_binary("scanctl")).args(["listen"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}

/// Waits until someone holds the PTY slave open: reading the master fails at once (EIO) before
/// that and times out after (Linux).
fn wait_for_slave_open(master: &mut TTYPort) {
    let until = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 16];
    while Instant::now() < until {
        match master.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return,
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    panic!("scanctl never opened the port");
}

#[test]
fn raw_listen_prints_json_lines_and_stops_at_count() {
    let (mut master, path) = pty();
    let child = Command::new(example_binary("scanctl"))
        .args(["--port", &path, "--engine", "raw", "listen", "--count", "2", "--for", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut proc = Proc(Some(child));
    wait_for_slave_open(&mut master);
    // An EAN-13 (AIM ]E0) and a GS1 QR code (]Q3), each ended by CR, in one write.
    master.write_all(b"]E09501101530003\r]Q3010950110153000310ABC\r").unwrap();
    let out = proc.0.take().unwrap().wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["aim"], "]E0");
    assert_eq!(lines[0]["data"], "9501101530003");
    assert_eq!(lines[1]["aim"], "]Q3");
    assert_eq!(lines[1]["gs1"], true);
    assert_eq!(lines[1]["data"], "010950110153000310ABC");
}

#[test]
fn raw_mode_has_no_trigger() {
    let (mut master, path) = pty();
    let out =
        Command::new(example_binary("scanctl")).args(["--port", &path, "--engine", "raw", "trigger"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("raw mode"));
    let _ = master.flush();
}
