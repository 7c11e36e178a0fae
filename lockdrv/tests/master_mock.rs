//! The blocking and async shells against a scripted serial mock: exact bytes the master must
//! write (anything else fails the test, e.g. a resent unlock) and scripted replies with
//! timing, on a virtual clock. Frames are vectors of /work/shared/vectors/lockboards.json
//! (Kerong CU12: v043, v044, v045, v047; the status request of board 0 is v044 with ADDR 0x00
//! and its checksum).
#![cfg(feature = "async")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::task::{Context, Poll};

use lockdrv::master::{Clock, Error, UnlockOutcome, asynch, blocking};
use lockproto::Lock;
use lockproto::dialect::kerong_cu12::KerongCu12;

/// CU12 get_status to board 0 (v044 with ADDR 0x00: SUM = 02+00+00+80+00+00+03 = 0x85).
const STATUS_REQ: [u8; 8] = [0x02, 0x00, 0x00, 0x80, 0x00, 0x00, 0x03, 0x85];
/// v043: board 0's status reply, hooks 02 00.
const STATUS_REPLY: [u8; 10] = [0x02, 0x00, 0x00, 0x80, 0x10, 0x02, 0x03, 0x99, 0x02, 0x00];
/// Unlock LOCKNUM 0x02 (zero-based: lock 3) of board 0 (SUM = 02+00+02+81+00+00+03 = 0x88).
const UNLOCK_REQ: [u8; 8] = [0x02, 0x00, 0x02, 0x81, 0x00, 0x00, 0x03, 0x88];
/// v047: the unlock reply.
const UNLOCK_REPLY: [u8; 8] = [0x02, 0x00, 0x02, 0x81, 0x10, 0x00, 0x03, 0x98];
/// v044: get_status broadcast (ADDR 0x10).
const BROADCAST_REQ: [u8; 8] = [0x02, 0x10, 0x00, 0x80, 0x00, 0x00, 0x03, 0x95];
/// v045: board 1's answer to the broadcast.
const BOARD1_REPLY: [u8; 10] = [0x02, 0x01, 0x00, 0x80, 0x10, 0x02, 0x03, 0x9C, 0x04, 0x00];

/// One byte at 19200 baud, µs.
const BYTE_US: u64 = 521;

#[derive(Debug, Clone)]
enum Step {
    /// The master must write exactly these bytes (checked at flush).
    Expect(Vec<u8>),
    /// Bytes that arrive `after_us` after the previous write's flush, one every `BYTE_US`.
    Reply { after_us: u64, bytes: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MockError;

impl std::fmt::Display for MockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mock port error")
    }
}

impl std::error::Error for MockError {}

impl embedded_io::Error for MockError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

#[derive(Default)]
struct State {
    now: Cell<u64>,
    script: RefCell<VecDeque<Step>>,
    incoming: RefCell<VecDeque<(u64, u8)>>,
    written: RefCell<Vec<u8>>,
    driver_enabled: Cell<bool>,
    uses_pin: Cell<bool>,
    writes: Cell<u32>,
}

#[derive(Clone, Default)]
struct Mock(Rc<State>);

impl Mock {
    fn new(script: Vec<Step>) -> Self {
        let mock = Mock::default();
        *mock.0.script.borrow_mut() = script.into();
        mock
    }

    /// Bytes already waiting before the first request (stale input).
    fn stale(&self, bytes: &[u8]) {
        self.0.incoming.borrow_mut().extend(bytes.iter().map(|&b| (0, b)));
    }

    fn now(&self) -> u64 {
        self.0.now.get()
    }

    fn done(&self) {
        assert!(self.0.script.borrow().is_empty(), "script not finished: {:?}", self.0.script.borrow());
    }

    fn flush_now(&self) {
        let written = std::mem::take(&mut *self.0.written.borrow_mut());
        if written.is_empty() {
            return;
        }
        // The request takes its wire time.
        let now = self.0.now.get() + written.len() as u64 * BYTE_US;
        self.0.now.set(now);
        let mut script = self.0.script.borrow_mut();
        match script.pop_front() {
            Some(Step::Expect(expected)) => {
                assert_eq!(written, expected, "the master wrote something unscripted at {now} µs")
            }
            other => panic!("the master wrote {written:02X?} at {now} µs; script: {other:?}"),
        }
        self.0.writes.set(self.0.writes.get() + 1);
        while let Some(Step::Reply { after_us, bytes }) = script.front().cloned() {
            script.pop_front();
            let mut incoming = self.0.incoming.borrow_mut();
            let mut t = now + after_us;
            for byte in bytes {
                t += BYTE_US;
                incoming.push_back((t, byte));
            }
        }
    }

    fn ready(&self) -> bool {
        assert!(!self.0.uses_pin.get() || !self.0.driver_enabled.get(), "reading while the driver is enabled");
        self.0.incoming.borrow().front().is_some_and(|&(t, _)| t <= self.0.now.get())
    }

    fn take(&self, buf: &mut [u8]) -> usize {
        let now = self.0.now.get();
        let mut incoming = self.0.incoming.borrow_mut();
        let mut n = 0;
        while n < buf.len() {
            match incoming.front() {
                Some(&(t, b)) if t <= now => {
                    buf[n] = b;
                    incoming.pop_front();
                    n += 1;
                }
                _ => break,
            }
        }
        n
    }

    fn put(&self, buf: &[u8]) -> usize {
        assert!(!self.0.uses_pin.get() || self.0.driver_enabled.get(), "writing with the driver disabled");
        self.0.written.borrow_mut().extend_from_slice(buf);
        buf.len()
    }
}

impl embedded_io::ErrorType for Mock {
    type Error = MockError;
}

impl embedded_io::Read for Mock {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, MockError> {
        assert!(self.ready(), "a blocking read with nothing there would block forever");
        Ok(self.take(buf))
    }
}

impl embedded_io::ReadReady for Mock {
    fn read_ready(&mut self) -> Result<bool, MockError> {
        Ok(self.ready())
    }
}

impl embedded_io::Write for Mock {
    fn write(&mut self, buf: &[u8]) -> Result<usize, MockError> {
        Ok(self.put(buf))
    }

    fn flush(&mut self) -> Result<(), MockError> {
        self.flush_now();
        Ok(())
    }
}

impl embedded_io_async::Read for Mock {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, MockError> {
        // Pending until bytes are there (this mock never wakes: the delay is polled first).
        std::future::poll_fn(|_| if self.ready() { Poll::Ready(Ok(self.take(buf))) } else { Poll::Pending }).await
    }
}

impl embedded_io_async::Write for Mock {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, MockError> {
        Ok(self.put(buf))
    }

    async fn flush(&mut self) -> Result<(), MockError> {
        self.flush_now();
        Ok(())
    }
}

impl embedded_hal::delay::DelayNs for Mock {
    fn delay_ns(&mut self, ns: u32) {
        self.0.now.set(self.0.now.get() + u64::from(ns).div_ceil(1_000));
    }
}

impl embedded_hal_async::delay::DelayNs for Mock {
    async fn delay_ns(&mut self, ns: u32) {
        self.0.now.set(self.0.now.get() + u64::from(ns).div_ceil(1_000));
    }
}

impl Clock for Mock {
    fn now_us(&mut self) -> u64 {
        self.0.now.get()
    }
}

/// The RS-485 driver-enable pin, seen by the mock port.
struct Pin(Mock);

impl embedded_hal::digital::ErrorType for Pin {
    type Error = std::convert::Infallible;
}

impl embedded_hal::digital::OutputPin for Pin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.0.driver_enabled.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.0.driver_enabled.set(true);
        Ok(())
    }
}

/// A minimal executor: every future here completes without real waiting.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    for _ in 0..10_000_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("future never completed");
}

fn blocking_master(mock: &Mock) -> blocking::BusMaster<KerongCu12, Mock, Mock, Mock> {
    blocking::BusMaster::new(KerongCu12::new(), mock.clone(), mock.clone(), mock.clone(), None)
}

fn async_master(mock: &Mock) -> asynch::BusMaster<KerongCu12, Mock, Mock, Mock> {
    asynch::BusMaster::new(KerongCu12::new(), mock.clone(), mock.clone(), mock.clone(), None)
}

/// Runs `check` on both shells with the same script.
fn both(script: impl Fn() -> Vec<Step>, check: impl Fn(&Mock, Shell)) {
    check(&Mock::new(script()), Shell::Blocking);
    check(&Mock::new(script()), Shell::Async);
}

#[derive(Debug, Clone, Copy)]
enum Shell {
    Blocking,
    Async,
}

type R<T> = Result<T, Error<MockError>>;

fn status(mock: &Mock, shell: Shell) -> (R<lockproto::BoardStatus>, lockdrv::master::MasterStats) {
    match shell {
        Shell::Blocking => {
            let mut m = blocking_master(mock);
            (m.status(0), m.stats())
        }
        Shell::Async => {
            let mut m = async_master(mock);
            (block_on(m.status(0)), m.stats())
        }
    }
}

#[test]
fn a_status_completes_when_the_reply_frame_is_complete() {
    both(
        || vec![Step::Expect(STATUS_REQ.to_vec()), Step::Reply { after_us: 5_000, bytes: STATUS_REPLY.to_vec() }],
        |mock, shell| {
            let (result, stats) = status(mock, shell);
            let status = result.unwrap();
            assert_eq!(status.locks.active.bits(), 0b10, "{shell:?}: hook 2 active (v043 hooks 02 00)");
            let last_byte = 8 * BYTE_US + 5_000 + 10 * BYTE_US;
            let now = mock.now();
            assert!(now >= last_byte && now <= last_byte + 250, "{shell:?}: done at {now} µs, not after a sleep");
            assert_eq!(stats.transactions, 1);
            assert_eq!(stats.replies, 1);
            mock.done();
        },
    );
}

#[test]
fn a_lost_query_reply_is_retried_with_the_identical_frame() {
    both(
        || {
            vec![
                Step::Expect(STATUS_REQ.to_vec()),
                Step::Expect(STATUS_REQ.to_vec()),
                Step::Reply { after_us: 5_000, bytes: STATUS_REPLY.to_vec() },
            ]
        },
        |mock, shell| {
            let (result, stats) = status(mock, shell);
            result.unwrap();
            assert_eq!(stats.retries, 1, "{shell:?}");
            assert_eq!(stats.timeouts, 1);
            // The retry went out after the 1.5 s CU12 response timeout, not earlier.
            assert!(mock.now() > 1_500_000);
            mock.done();
        },
    );
}

#[test]
fn a_lost_unlock_reply_is_unknown_never_resent_and_the_status_is_read() {
    both(
        || {
            vec![
                Step::Expect(UNLOCK_REQ.to_vec()),
                // No reply. The next write must be the status read, not the unlock again.
                Step::Expect(STATUS_REQ.to_vec()),
                Step::Reply { after_us: 5_000, bytes: STATUS_REPLY.to_vec() },
            ]
        },
        |mock, shell| {
            let lock = Lock::new(3).unwrap();
            let (report, stats) = match shell {
                Shell::Blocking => {
                    let mut m = blocking_master(mock);
                    (m.unlock(0, lock).unwrap(), m.stats())
                }
                Shell::Async => {
                    let mut m = async_master(mock);
                    (block_on(m.unlock(0, lock)).unwrap(), m.stats())
                }
            };
            assert_eq!(report.outcome, UnlockOutcome::Unknown, "{shell:?}");
            assert_eq!(report.attempts, 1);
            assert!(report.status_after.is_some());
            assert_eq!(stats.unknown_outcomes, 1);
            assert_eq!(stats.retries, 0);
            mock.done();
        },
    );
}

#[test]
fn an_acknowledged_unlock_is_confirmed() {
    both(
        || vec![Step::Expect(UNLOCK_REQ.to_vec()), Step::Reply { after_us: 3_000, bytes: UNLOCK_REPLY.to_vec() }],
        |mock, shell| {
            let lock = Lock::new(3).unwrap();
            let report = match shell {
                Shell::Blocking => blocking_master(mock).unlock(0, lock).unwrap(),
                Shell::Async => block_on(async_master(mock).unlock(0, lock)).unwrap(),
            };
            assert_eq!(report.outcome, UnlockOutcome::Confirmed, "{shell:?}");
            assert_eq!(report.status_after, None);
            assert_eq!(report.latency_us, mock.now());
            mock.done();
        },
    );
}

#[test]
fn stale_input_is_flushed_before_the_request_and_counted() {
    both(
        || vec![Step::Expect(STATUS_REQ.to_vec()), Step::Reply { after_us: 5_000, bytes: STATUS_REPLY.to_vec() }],
        |mock, shell| {
            // A late unlock reply is waiting: it must not be taken for anything.
            mock.stale(&UNLOCK_REPLY);
            let (result, stats) = status(mock, shell);
            result.unwrap();
            assert_eq!(stats.late_bytes_dropped, UNLOCK_REPLY.len() as u64, "{shell:?}");
            mock.done();
        },
    );
}

#[test]
fn a_broken_frame_ends_at_the_inter_byte_gap_and_the_next_frame_is_taken() {
    both(
        || {
            vec![
                Step::Expect(STATUS_REQ.to_vec()),
                // Four bytes of a frame, then silence longer than the 25 ms gap, then the reply.
                Step::Reply { after_us: 2_000, bytes: STATUS_REPLY[..4].to_vec() },
                Step::Reply { after_us: 60_000, bytes: STATUS_REPLY.to_vec() },
            ]
        },
        |mock, shell| {
            let (result, stats) = status(mock, shell);
            result.unwrap();
            assert_eq!(stats.rejected_frames, 1, "{shell:?}: {stats:?}");
            assert_eq!(stats.timeouts, 0);
            mock.done();
        },
    );
}

#[test]
fn the_driver_enable_pin_is_high_only_while_transmitting() {
    both(
        || vec![Step::Expect(STATUS_REQ.to_vec()), Step::Reply { after_us: 5_000, bytes: STATUS_REPLY.to_vec() }],
        |mock, shell| {
            mock.0.uses_pin.set(true);
            // The mock asserts the pin on every write (high) and read (low).
            match shell {
                Shell::Blocking => {
                    let mut m = blocking_master(mock).with_driver_enable(Pin(mock.clone())).unwrap();
                    m.status(0).unwrap();
                }
                Shell::Async => {
                    let mut m = async_master(mock).with_driver_enable(Pin(mock.clone())).unwrap();
                    block_on(m.status(0)).unwrap();
                }
            }
            assert!(!mock.0.driver_enabled.get());
            assert_eq!(mock.0.writes.get(), 1);
            mock.done();
        },
    );
}

#[test]
fn a_broadcast_collects_answers_until_the_timeout() {
    both(
        || {
            vec![
                Step::Expect(BROADCAST_REQ.to_vec()),
                Step::Reply { after_us: 3_000, bytes: STATUS_REPLY.to_vec() },
                Step::Reply { after_us: 20_000, bytes: BOARD1_REPLY.to_vec() },
            ]
        },
        |mock, shell| {
            let mut seen = Vec::new();
            let count = match shell {
                Shell::Blocking => blocking_master(mock).broadcast_status(|b, s| seen.push((b, s.locks.active.bits()))),
                Shell::Async => {
                    block_on(async_master(mock).broadcast_status(|b, s| seen.push((b, s.locks.active.bits()))))
                }
            }
            .unwrap();
            assert_eq!(count, 2, "{shell:?}");
            // v045: board 1's hooks 04 00.
            assert_eq!(seen, vec![(0, 0b10), (1, 0b100)]);
            assert!(mock.now() >= 8 * BYTE_US + 1_500_000, "collected for the whole window");
            mock.done();
        },
    );
}

#[test]
fn a_board_that_keeps_failing_backs_off_without_touching_the_bus() {
    // 3 requests × 3 attempts, all unanswered; then the board is offline.
    let script = || (0..9).map(|_| Step::Expect(STATUS_REQ.to_vec())).collect::<Vec<_>>();
    let mock = Mock::new(script());
    let mut m = blocking_master(&mock);
    for _ in 0..3 {
        assert!(matches!(m.status(0), Err(Error::Timeout { board: 0 })));
    }
    assert!(!m.health(0).online);
    let writes = mock.0.writes.get();
    assert!(matches!(m.status(0), Err(Error::BoardBackingOff { board: 0, .. })));
    assert_eq!(mock.0.writes.get(), writes, "nothing sent while backing off");
    mock.done();
}
