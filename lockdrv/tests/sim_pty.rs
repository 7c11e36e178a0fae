//! The simulator through a kernel PTY: a master opens the slave path as a serial port and
//! talks to simulated boards, the same code path as a real USB-RS485 adapter.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod sim_common;

use sim_common::serve;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lockdrv::sim::SimDialect;
use lockproto::dialect::kerong_cu12::{Cu12Reply, Cu12Request, KerongCu12};
use lockproto::native::{Native, NativeReply, NativeRequest};
use lockproto::{Dialect, Lock};

/// Sends a frame and reads until `done` says the bytes form a reply (or 3 s pass).
fn exchange(port: &mut dyn serialport::SerialPort, frame: &[u8], done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    port.write_all(frame).unwrap();
    port.flush().unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !done(&got) && start.elapsed() < Duration::from_secs(3) {
        match port.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    got
}

#[test]
fn cu12_boards_answer_through_a_kernel_pty() {
    let (path, stop, handle) = serve(SimDialect::KerongCu12, 3);
    assert!(path.starts_with("/dev/"), "{path}");
    let mut port = serialport::new(&path, 19_200).timeout(Duration::from_millis(50)).open().unwrap();
    let dialect = KerongCu12::new();
    let mut frame = [0u8; 16];

    let request = Cu12Request::QueryStatus { board: 2 };
    let len = dialect.encode_request(&request, &mut frame).unwrap();
    let reply = exchange(port.as_mut(), &frame[..len], |b| dialect.decode_reply(b, Some(&request)).is_ok());
    let decoded = dialect.decode_reply(&reply, Some(&request)).unwrap().message;
    assert!(matches!(decoded, Cu12Reply::Status { board: 2, .. }), "{decoded:?}");

    let request = Cu12Request::Unlock { board: 1, lock: Lock::new(5).unwrap() };
    let len = dialect.encode_request(&request, &mut frame).unwrap();
    let reply = exchange(port.as_mut(), &frame[..len], |b| dialect.decode_reply(b, Some(&request)).is_ok());
    assert!(matches!(
        dialect.decode_reply(&reply, Some(&request)).unwrap().message,
        Cu12Reply::Unlock { board: 1, .. }
    ));

    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
}

#[test]
fn native_boards_answer_through_a_kernel_pty() {
    let (path, stop, handle) = serve(SimDialect::Native, 2);
    let mut port = serialport::new(&path, 19_200).timeout(Duration::from_millis(50)).open().unwrap();
    let dialect = Native::default();
    let mut frame = [0u8; 300];
    let request = NativeRequest::GetInfo { board: 2, seq: 9 };
    let len = dialect.encode_request(&request, &mut frame).unwrap();
    let reply = exchange(port.as_mut(), &frame[..len], |b| dialect.decode_reply(b, Some(&request)).is_ok());
    let decoded = dialect.decode_reply(&reply, Some(&request)).unwrap().message;
    assert!(matches!(decoded, NativeReply::Info { board: 2, seq: 9, channels: 24, .. }), "{decoded:?}");
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
}
