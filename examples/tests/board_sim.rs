//! `board-sim` run as a user runs it, as a separate process: for every dialect, read the PTY
//! path it prints, open it as a serial port, and get a status reply from each board.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lockdrv::sim::SimDialect;
use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::KerongCu12;
use lockproto::dialect::kerong_cu16::KerongCu16;
use lockproto::dialect::modbus_relay::ModbusRelay;
use lockproto::dialect::winnsen::Winnsen;
use lockproto::dialect::wkly::Wkly;
use lockproto::native::Native;
use lockproto::{Command as Neutral, Dialect, Response};

/// Kills the child even when an assertion fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dialect: SimDialect, boards: usize) -> (Server, String) {
    let mut child = Command::new(example_binary("board-sim"))
        .args(["--dialect", dialect.name(), "--boards", &boards.to_string(), "--for", "60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let prefix = format!("board-sim: serving {boards} {} boards on ", dialect.name());
    let path =
        line.trim().strip_prefix(&prefix).unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
    (Server(child), path)
}

fn status_of_every_board<D: Dialect + Clone>(sim: SimDialect, dialect: D) {
    let boards = 2;
    let (_server, path) = start(sim, boards);
    let mut port = serialport::new(&path, sim.default_baud()).timeout(Duration::from_millis(20)).open().unwrap();
    for index in 0..boards {
        let board = sim.address(index);
        let request = dialect.request(board, &Neutral::QueryAll).unwrap();
        let mut frame = [0u8; 300];
        let len = dialect.encode_request(&request, &mut frame).unwrap();
        port.write_all(&frame[..len]).unwrap();
        let start = Instant::now();
        let mut got = Vec::new();
        let mut buf = [0u8; 300];
        let reply = loop {
            assert!(start.elapsed() < Duration::from_secs(5), "{sim}: board {board}: no reply, got {got:02X?}");
            match port.read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("{e}"),
            }
            if let Ok(decoded) = dialect.decode_reply(&got, Some(&request)) {
                break decoded.message;
            }
        };
        let (from, response) = dialect.response(&reply).unwrap();
        assert_eq!(from, board, "{sim}");
        assert!(matches!(response, Response::Status(_)), "{sim}: {response:?}");
    }
}

#[test]
fn kerong_cu12() {
    status_of_every_board(SimDialect::KerongCu12, KerongCu12::new());
}

#[test]
fn kerong_cu16() {
    status_of_every_board(SimDialect::KerongCu16, KerongCu16::new());
}

#[test]
fn bcc_8a80() {
    status_of_every_board(SimDialect::Bcc8a80, Bcc8a80::default());
}

#[test]
fn wkly() {
    status_of_every_board(SimDialect::Wkly, Wkly::default());
}

#[test]
fn winnsen() {
    status_of_every_board(SimDialect::Winnsen, Winnsen::default());
}

#[test]
fn modbus_relay() {
    status_of_every_board(SimDialect::ModbusRelay, ModbusRelay::default());
}

#[test]
fn native() {
    status_of_every_board(SimDialect::Native, Native::default());
}

#[test]
fn unknown_dialects_are_refused() {
    let output =
        Command::new(example_binary("board-sim")).args(["--dialect", "kerong", "--boards", "1"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown dialect"));
}
