//! The master's endpoint of the simulated bus through the embedded-io and embedded-hal traits,
//! blocking and async: what the driver shells will be driven with.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use embedded_hal::delay::DelayNs;
use embedded_io::{Error as _, ErrorKind, Read, ReadReady, Write};
use lockdrv::sim::{Bus, BusConfig, SimDialect};
use lockproto::dialect::kerong_cu12::{Cu12Reply, Cu12Request, KerongCu12};
use lockproto::{Dialect, Lock};

/// The simulator never returns Pending: one poll completes every future.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a simulator future was pending"),
    }
}

fn frame(request: &Cu12Request) -> Vec<u8> {
    let mut out = [0u8; 16];
    let len = KerongCu12::new().encode_request(request, &mut out).unwrap();
    out[..len].to_vec()
}

fn bus() -> Bus {
    Bus::with_boards(SimDialect::KerongCu12, 2, BusConfig::for_dialect(SimDialect::KerongCu12))
}

#[test]
fn blocking_read_write_delay() {
    let bus = bus();
    let mut port = bus.endpoint();
    let mut delay = bus.delay();
    let clock = bus.clock();
    let request = Cu12Request::Unlock { board: 1, lock: Lock::new(2).unwrap() };
    port.write_all(&frame(&request)).unwrap();
    port.flush().unwrap();
    assert_eq!(clock.now_us(), 8 * 521, "flush waits for the 8 request bytes at 19200 baud");
    assert!(!port.read_ready().unwrap(), "the reply is not there before the board's latency");
    let mut reply = Vec::new();
    let mut buf = [0u8; 4];
    while KerongCu12::new().decode_reply(&reply, Some(&request)).is_err() {
        let n = port.read(&mut buf).unwrap();
        reply.extend_from_slice(&buf[..n]);
    }
    assert!(matches!(
        KerongCu12::new().decode_reply(&reply, Some(&request)).unwrap().message,
        Cu12Reply::Unlock { .. }
    ));
    let error = port.read(&mut buf).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TimedOut, "nothing more will come");
    let before = clock.now_ms();
    delay.delay_ms(500);
    assert_eq!(clock.now_ms(), before + 500);
    let lock = Lock::new(2).unwrap();
    assert_eq!(bus.with_board(1, |b| b.physics().doors_open().contains(lock)), Some(true), "the door opened meanwhile");
}

#[test]
fn async_read_write_delay() {
    let bus = bus();
    let mut port = bus.endpoint();
    let mut delay = bus.delay();
    let request = Cu12Request::QueryStatus { board: 0 };
    block_on(embedded_io_async::Write::write_all(&mut port, &frame(&request))).unwrap();
    block_on(embedded_io_async::Write::flush(&mut port)).unwrap();
    let mut reply = [0u8; 10];
    block_on(embedded_io_async::Read::read_exact(&mut port, &mut reply)).unwrap();
    assert!(matches!(
        KerongCu12::new().decode_reply(&reply, Some(&request)).unwrap().message,
        Cu12Reply::Status { board: 0, .. }
    ));
    let before = bus.now_us();
    block_on(embedded_hal_async::delay::DelayNs::delay_us(&mut delay, 1_234));
    assert_eq!(bus.now_us(), before + 1_234);
}
