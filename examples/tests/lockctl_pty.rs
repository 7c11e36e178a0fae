//! `lockctl` against `board-sim`, run as a user runs them: two processes talking over a kernel
//! PTY, for every dialect. The JSON Lines output is checked with serde_json.
//!
//! Time here is real (board-sim follows the wall clock), but no assertion is about speed: each
//! scenario waits for what it expects with generous limits, and door openings are scheduled by
//! board-sim relative to the first request it receives (`--open-by-hand`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::time::{Duration, Instant};

use lockdrv::sim::SimDialect;
use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::KerongCu12;
use lockproto::dialect::kerong_cu16::KerongCu16;
use lockproto::dialect::modbus_relay::ModbusRelay;
use lockproto::dialect::winnsen::Winnsen;
use lockproto::dialect::wkly::Wkly;
use lockproto::native::Native;
use lockproto::{Command as Neutral, Dialect};
use serde_json::Value;
use serialport::{SerialPort, TTYPort};

/// An example binary built next to this test by `cargo test`, or built on demand.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
    let binary = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status =
            Command::new(cargo).args(["build", "-q", "-p", "locker-examples", "--example", name]).status().unwrap();
        assert!(status.success(), "building {name} failed");
    }
    binary
}

/// A child process killed when the test ends, even by a failed assertion.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `board-sim` with `boards` boards and extra arguments; returns it and its PTY path.
fn board_sim(dialect: SimDialect, boards: usize, extra: &[&str]) -> (Proc, String) {
    let mut child = Command::new(example_binary("board-sim"))
        .args(["--dialect", dialect.name(), "--boards", &boards.to_string(), "--for", "60"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let prefix = format!("board-sim: serving {boards} {} boards on ", dialect.name());
    let path =
        line.trim().strip_prefix(&prefix).unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
    (Proc(child), path)
}

/// Runs `lockctl` to the end.
#[allow(dead_code)]
fn lockctl(args: &[&str]) -> Output {
    Command::new(example_binary("lockctl")).args(args).output().unwrap()
}

/// Starts `lockctl` and waits until it says on stderr that its port is open.
fn lockctl_started(args: &[&str]) -> (Proc, BufReader<ChildStderr>) {
    let mut child = Command::new(example_binary("lockctl"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains(" open, "), "lockctl did not open its port: {line:?}");
    (Proc(child), stderr)
}

/// Waits for a started `lockctl` to end (it must, by its `--for`/`--count`) and collects it.
fn finish(mut proc: Proc, mut stderr: BufReader<ChildStderr>) -> (std::process::ExitStatus, String, String) {
    let mut out = String::new();
    proc.0.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    let status = proc.0.wait().unwrap();
    (status, out, err)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"))).collect()
}

#[allow(dead_code)]
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// sniff

/// A status transaction with board-sim's first board, relayed onto a second PTY (the "tap")
/// where `lockctl sniff` listens like an RS-485 adapter on the same wire: it must print the
/// request and the reply, each with its neutral meaning.
fn sniff_sees_a_transaction<D: Dialect>(sim: SimDialect, dialect: D) {
    let (_server, path) = board_sim(sim, 1, &[]);
    let (mut tap, tap_slave) = TTYPort::pair().unwrap();
    let tap_path = tap_slave.name().unwrap();
    drop(tap_slave); // lockctl opens the path exclusively
    let (sniffer, sniffer_err) = lockctl_started(&[
        "sniff",
        "--port",
        &tap_path,
        "--dialect",
        sim.name(),
        "--json",
        "--count",
        "2",
        "--for",
        "20",
    ]);

    let board = sim.address(0);
    let request = dialect.request(board, &Neutral::QueryAll).unwrap();
    let mut frame = [0u8; 300];
    let len = dialect.encode_request(&request, &mut frame).unwrap();
    let request_bytes = frame[..len].to_vec();
    let mut port = serialport::new(&path, sim.default_baud()).timeout(Duration::from_millis(20)).open().unwrap();
    port.write_all(&request_bytes).unwrap();
    let start = Instant::now();
    let mut reply = Vec::new();
    let mut buf = [0u8; 300];
    loop {
        assert!(start.elapsed() < Duration::from_secs(10), "{sim}: no reply, got {reply:02X?}");
        match port.read(&mut buf) {
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("{e}"),
        }
        if dialect.decode_reply(&reply, Some(&request)).is_ok() {
            break;
        }
    }
    // On the wire: the request, the board's turnaround, the reply.
    tap.write_all(&request_bytes).unwrap();
    tap.flush().unwrap();
    std::thread::sleep(Duration::from_millis(10));
    tap.write_all(&reply).unwrap();
    tap.flush().unwrap();

    let (status, out, err) = finish(sniffer, sniffer_err);
    assert!(status.success(), "{sim}: {status:?} {err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{sim}: {out}");
    assert_eq!(lines[0]["dialect"], sim.name());
    assert_eq!(lines[0]["dir"], "request");
    assert_eq!(lines[0]["bytes"], hex(&request_bytes));
    assert_eq!(lines[0]["offset"], 0);
    assert_eq!(lines[0]["neutral"]["board"], board, "{sim}: {}", lines[0]);
    assert_eq!(lines[0]["neutral"]["command"]["kind"], "query_all", "{sim}: {}", lines[0]);
    assert_eq!(lines[1]["dir"], "reply");
    assert_eq!(lines[1]["bytes"], hex(&reply));
    assert_eq!(lines[1]["offset"], request_bytes.len());
    assert_eq!(lines[1]["neutral"]["board"], board, "{sim}: {}", lines[1]);
    assert_eq!(lines[1]["neutral"]["response"]["kind"], "status", "{sim}: {}", lines[1]);
}

#[test]
fn sniff_kerong_cu12() {
    sniff_sees_a_transaction(SimDialect::KerongCu12, KerongCu12::new());
}

#[test]
fn sniff_kerong_cu16() {
    sniff_sees_a_transaction(SimDialect::KerongCu16, KerongCu16::new());
}

#[test]
fn sniff_bcc_8a80() {
    sniff_sees_a_transaction(SimDialect::Bcc8a80, Bcc8a80::default());
}

#[test]
fn sniff_wkly() {
    sniff_sees_a_transaction(SimDialect::Wkly, Wkly::default());
}

#[test]
fn sniff_winnsen() {
    sniff_sees_a_transaction(SimDialect::Winnsen, Winnsen::default());
}

#[test]
fn sniff_modbus_relay() {
    sniff_sees_a_transaction(SimDialect::ModbusRelay, ModbusRelay::default());
}

#[test]
fn sniff_native() {
    sniff_sees_a_transaction(SimDialect::Native, Native::default());
}

#[test]
fn sniff_reports_garbage_and_a_cut_frame_and_exits_1() {
    let (mut tap, tap_slave) = TTYPort::pair().unwrap();
    let tap_path = tap_slave.name().unwrap();
    drop(tap_slave);
    let (sniffer, sniffer_err) =
        lockctl_started(&["sniff", "--port", &tap_path, "--dialect", "bcc-8a80", "--for", "1.5"]);
    // Garbage, a valid query (reference v-ids as in tests/lockctl.rs: QWM README "80 02 01 33 B0"),
    // then the first 3 bytes of a frame and silence.
    tap.write_all(&[0x55, 0x80, 0x02, 0x01, 0x33, 0xB0]).unwrap();
    tap.flush().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    tap.write_all(&[0x8A, 0x01, 0x01]).unwrap();
    tap.flush().unwrap();
    let (status, out, err) = finish(sniffer, sniffer_err);
    assert_eq!(status.code(), Some(1), "{out} {err}");
    let frames: Vec<&str> = out.lines().collect();
    assert_eq!(frames.len(), 1, "{out}");
    assert!(frames[0].contains("request") && frames[0].contains("80 02 01 33 B0"), "{out}");
    assert!(frames[0].contains("query_lock"), "{out}");
    let rejected: Vec<&str> = err.lines().filter(|l| l.contains("skipped")).collect();
    assert_eq!(rejected.len(), 2, "{err}");
    assert!(rejected[0].contains("1 byte(s) skipped from offset 0"), "{err}");
    assert!(rejected[1].contains("3 byte(s) skipped from offset 6"), "{err}");
}
