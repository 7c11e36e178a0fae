//! The real blocking master through a kernel PTY (`master::serial::SerialPortIo` on the slave
//! path of `sim::PtyServer`), the code path of a USB-RS485 adapter: status, unlock, native
//! events. Timeouts are the vendor defaults (≥ 150 ms), far above a PTY round trip.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod sim_common;

use sim_common::serve;

use std::sync::atomic::Ordering;
use std::time::Duration;

use lockdrv::master::blocking::BusMaster;
use lockdrv::master::serial::{SerialPortIo, StdDelay};
use lockdrv::master::{StdClock, UnlockOutcome};
use lockdrv::sim::SimDialect;
use lockproto::Lock;
use lockproto::dialect::kerong_cu12::KerongCu12;
use lockproto::native::{EventKind, Native};

#[test]
fn cu12_status_unlock_and_broadcast_through_a_pty() {
    let (path, stop, handle) = serve(SimDialect::KerongCu12, 3);
    let port = SerialPortIo::open(&path, 19_200).unwrap();
    let mut m = BusMaster::new(KerongCu12::new(), port, StdDelay, StdClock::new(), None);
    let status = m.status(2).unwrap();
    assert_eq!(status.locks.reported.len(), 12);
    let report = m.unlock(1, Lock::new(5).unwrap()).unwrap();
    assert_eq!(report.outcome, UnlockOutcome::Confirmed);
    let mut boards = Vec::new();
    assert_eq!(m.broadcast_status(|b, _| boards.push(b)).unwrap(), 3);
    boards.sort_unstable();
    assert_eq!(boards, vec![0, 1, 2]);
    assert_eq!(m.stats().timeouts, 0, "{:?}", m.stats());
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
}

#[test]
fn native_unlock_and_door_event_through_a_pty() {
    let (path, stop, handle) = serve(SimDialect::Native, 2);
    let port = SerialPortIo::open(&path, 19_200).unwrap();
    let mut m = BusMaster::new(Native::default(), port, StdDelay, StdClock::new(), None);
    m.events(1, |_| {}).unwrap();
    let report = m.unlock(1, Lock::new(4).unwrap()).unwrap();
    assert_eq!(report.outcome, UnlockOutcome::Confirmed);
    // The simulated door opens 150 ms after the pulse (virtual time follows the wall clock here).
    let mut opened = Vec::new();
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(20));
        m.events(1, |e| {
            if let EventKind::DoorOpened { lock } = e.kind {
                opened.push(lock.get());
            }
        })
        .unwrap();
        if !opened.is_empty() {
            break;
        }
    }
    assert_eq!(opened, vec![4]);
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
}
