//! The real bus master (blocking shell) against the simulator, per dialect: status, unlock
//! confirmed, unlock reply lost (unknown, never resent, status read; native: resent with the
//! same sequence number and answered from the cache), a dead board that does not stall the
//! others, foreign replies and late bytes counted, CU12 broadcast, native events.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lockdrv::master::blocking::BusMaster;
use lockdrv::master::{BusDialect, Error, UnlockOutcome};
use lockdrv::sim::bus::SimClock;
use lockdrv::sim::{Bus, BusConfig, Endpoint, SimDelay, SimDialect};
use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::{Cu12Request, KerongCu12};
use lockproto::dialect::kerong_cu16::KerongCu16;
use lockproto::dialect::modbus_relay::ModbusRelay;
use lockproto::dialect::winnsen::Winnsen;
use lockproto::dialect::wkly::Wkly;
use lockproto::native::{EventKind, Native};
use lockproto::{BoardStatus, Dialect, Lock};

type SimMaster<D> = BusMaster<D, Endpoint, SimDelay, SimClock>;

fn master<D: BusDialect + Clone>(bus: &Bus, dialect: D) -> SimMaster<D> {
    BusMaster::new(dialect, bus.endpoint(), bus.delay(), bus.clock(), None)
}

/// The reading of `lock`: lock feedback, or the door input where the board has no feedback.
fn reading(status: &BoardStatus, lock: Lock) -> Option<bool> {
    status.locks.get(lock).or_else(|| status.doors.and_then(|d| d.get(lock)))
}

fn scenario<D: BusDialect + Clone>(sim: SimDialect, dialect: D) {
    let bus = Bus::with_boards(sim, 3, BusConfig::for_dialect(sim));
    let mut m = master(&bus, dialect);
    let board = sim.address(1);
    let lock = Lock::new(2).unwrap();
    let before = m.status(board).unwrap();
    assert!(reading(&before, lock).is_some(), "{}: lock 2 reported: {before:?}", D::NAME);

    let report = m.unlock(board, lock).unwrap();
    if sim == SimDialect::KerongCu16 {
        // CU16 boards do not answer an unlock: the master reads the status instead.
        assert_eq!(report.outcome, UnlockOutcome::Sent, "{}", D::NAME);
        assert!(report.status_after.is_some(), "{}", D::NAME);
    } else {
        assert_eq!(report.outcome, UnlockOutcome::Confirmed, "{}", D::NAME);
        assert_eq!(report.status_after, None);
    }
    assert_eq!(report.attempts, 1);
    assert_eq!(bus.pulses_of(1, lock), 1, "{}", D::NAME);
    assert_eq!(bus.total_pulses(), 1, "{}: nothing else pulsed", D::NAME);

    // The door springs open 150 ms after the pulse (sim physics) and stays open 3 s.
    bus.advance(500_000);
    let open = m.status(board).unwrap();
    assert_ne!(reading(&open, lock), reading(&before, lock), "{}: {open:?}", D::NAME);
    let other = m.status(sim.address(2)).unwrap();
    assert_eq!(reading(&other, lock), reading(&before, lock), "{}: board 3 untouched", D::NAME);
    bus.advance(4_000_000);
    let shut = m.status(board).unwrap();
    assert_eq!(reading(&shut, lock), reading(&before, lock), "{}: shut again", D::NAME);

    let stats = m.stats();
    assert_eq!(stats.timeouts, 0, "{}: {stats:?}", D::NAME);
    assert_eq!(stats.retries, 0, "{}", D::NAME);
    assert_eq!(stats.rejected_frames, 0, "{}", D::NAME);
    assert!(m.health(board).online);
}

#[test]
fn kerong_cu12_status_and_unlock() {
    scenario(SimDialect::KerongCu12, KerongCu12::new());
}

#[test]
fn kerong_cu16_status_and_unlock() {
    scenario(SimDialect::KerongCu16, KerongCu16::new());
}

#[test]
fn bcc_8a80_status_and_unlock() {
    scenario(SimDialect::Bcc8a80, Bcc8a80::default());
}

#[test]
fn wkly_status_and_unlock() {
    scenario(SimDialect::Wkly, Wkly::default());
}

#[test]
fn winnsen_status_and_unlock() {
    scenario(SimDialect::Winnsen, Winnsen::default());
}

#[test]
fn modbus_relay_status_and_unlock() {
    scenario(SimDialect::ModbusRelay, ModbusRelay::default());
}

#[test]
fn native_status_and_unlock() {
    scenario(SimDialect::Native, Native::default());
}

/// A vendor unlock whose reply is lost: `Unknown`, sent exactly once, then a status read.
fn lost_unlock_reply<D: BusDialect + Clone>(sim: SimDialect, dialect: D) {
    let bus = Bus::with_boards(sim, 2, BusConfig::for_dialect(sim));
    let mut m = master(&bus, dialect);
    let board = sim.address(0);
    let lock = Lock::new(4).unwrap();
    bus.lose_next_replies(0, 1);
    let sent_before = bus.stats().bytes_to_boards;
    let report = m.unlock(board, lock).unwrap();
    assert_eq!(report.outcome, UnlockOutcome::Unknown, "{}", D::NAME);
    assert_eq!(report.attempts, 1, "{}: never resent", D::NAME);
    assert_eq!(bus.pulses_of(0, lock), 1, "{}: the board did pulse, once", D::NAME);
    let status = report.status_after.expect("status read after the unknown outcome");
    assert!(reading(&status, lock).is_some());
    let stats = m.stats();
    assert_eq!(stats.retries, 0);
    assert_eq!(stats.unknown_outcomes, 1);
    // One unlock frame and one status frame, nothing else went out.
    assert_eq!(stats.transactions, 2, "{}: {stats:?}", D::NAME);
    let mut frame = [0u8; 64];
    let unlock_len = {
        let request = m.dialect().request(board, &lockproto::Command::Unlock(lock)).unwrap();
        m.dialect().encode_request(&request, &mut frame).unwrap()
    };
    let status_len = {
        let request = m.dialect().request(board, &lockproto::Command::QueryAll).unwrap();
        m.dialect().encode_request(&request, &mut frame).unwrap()
    };
    assert_eq!(bus.stats().bytes_to_boards - sent_before, (unlock_len + status_len) as u64);
}

#[test]
fn cu12_unlock_with_lost_reply_is_unknown_and_never_resent() {
    lost_unlock_reply(SimDialect::KerongCu12, KerongCu12::new());
}

#[test]
fn wkly_unlock_with_lost_reply_is_unknown_and_never_resent() {
    lost_unlock_reply(SimDialect::Wkly, Wkly::default());
}

#[test]
fn bcc_8a80_unlock_with_lost_reply_is_unknown_and_never_resent() {
    lost_unlock_reply(SimDialect::Bcc8a80, Bcc8a80::default());
}

#[test]
fn native_unlock_with_lost_reply_is_resent_with_the_same_seq_and_pulses_once() {
    let sim = SimDialect::Native;
    let bus = Bus::with_boards(sim, 2, BusConfig::for_dialect(sim));
    let mut m = master(&bus, Native::default());
    let lock = Lock::new(7).unwrap();
    // The first unlock learns the boot id with a status read first.
    m.status(1).unwrap();
    bus.lose_next_replies(0, 1);
    let report = m.unlock(1, lock).unwrap();
    assert_eq!(report.outcome, UnlockOutcome::Confirmed);
    assert_eq!(report.attempts, 2, "resent once");
    assert_eq!(bus.pulses_of(0, lock), 1, "the resend was answered from the cache");
    assert_eq!(m.stats().retries, 1);
    assert_eq!(m.stats().timeouts, 1);
    // Every reply lost: unknown after 1 + query_retries identical frames, still one pulse.
    bus.lose_next_replies(0, 3);
    let other = Lock::new(8).unwrap();
    let report = m.unlock(1, other).unwrap();
    assert_eq!(report.outcome, UnlockOutcome::Unknown);
    assert_eq!(report.attempts, 3);
    assert_eq!(bus.pulses_of(0, other), 1);
    assert!(report.status_after.is_some());
}

#[test]
fn a_dead_board_does_not_stall_the_others() {
    let sim = SimDialect::KerongCu12;
    let bus = Bus::with_boards(sim, 4, BusConfig::for_dialect(sim));
    bus.set_offline_until(2, u64::MAX);
    let mut m = master(&bus, KerongCu12::new());
    let config = *m.config();
    let (mut ok, mut timeouts, mut backing_off) = (0, 0, 0);
    let start = bus.now_us();
    for _round in 0..50 {
        for board in 0..4u8 {
            match m.status(board) {
                Ok(_) => ok += 1,
                Err(Error::Timeout { board: 2 }) => timeouts += 1,
                Err(Error::BoardBackingOff { board: 2, .. }) => backing_off += 1,
                Err(e) => panic!("board {board}: {e:?}"),
            }
        }
        bus.advance(100_000);
    }
    assert_eq!(ok, 150, "every healthy board answered every time");
    let health = m.health(2);
    assert!(!health.online);
    assert!(health.backoff_ms > config.backoff_initial_ms, "the backoff doubled: {health:?}");
    // 3 failures take it offline; the backoff then allows only a few probes in 50 rounds.
    assert!((3..=8).contains(&timeouts), "{timeouts} timeouts");
    assert_eq!(timeouts + backing_off, 50);
    // The dead board cost its timeouts, nothing more: 150 healthy transactions of a few ms.
    let elapsed = bus.now_us() - start;
    let dead_time = timeouts as u64 * 3 * u64::from(config.response_timeout_ms) * 1_000;
    assert!(elapsed < 50 * 100_000 + dead_time + 150 * 20_000, "{elapsed} µs");
    // A board that comes back is found again by the next probe.
    bus.set_offline_until(2, 0);
    bus.advance(u64::from(config.backoff_max_ms) * 1_000);
    m.status(2).unwrap();
    assert!(m.health(2).online);
    assert_eq!(m.health(2).consecutive_failures, 0);
}

#[test]
fn foreign_replies_and_late_bytes_are_dropped_and_counted() {
    let sim = SimDialect::KerongCu12;
    let bus = Bus::with_boards(sim, 3, BusConfig::for_dialect(sim));
    let dialect = KerongCu12::new();
    let mut m = master(&bus, dialect);
    let mut frame = [0u8; 16];
    let len = dialect.encode_request(&Cu12Request::QueryStatus { board: 2 }, &mut frame).unwrap();

    // A reply nobody read is waiting: flushed before the next request, never taken for it.
    bus.master_write(&frame[..len]);
    bus.advance(100_000);
    m.status(1).unwrap();
    assert_eq!(m.stats().late_bytes_dropped, 10, "a CU12 status reply is 10 bytes");

    // Board 2's reply arrives while the master waits for board 1: dropped as foreign.
    bus.master_write(&frame[..len]);
    let status = m.status(1).unwrap();
    assert_eq!(status.locks.reported.len(), 12);
    let stats = m.stats();
    // CU12 decoding checks the echoed ADDR, so the foreign frame shows up as byte runs that
    // cannot be this reply (one or more runs per frame), never as garbage or a timeout.
    assert!(stats.foreign_replies_dropped >= 1, "{stats:?}");
    assert_eq!(stats.rejected_frames, 0, "{stats:?}");
    assert_eq!(stats.timeouts, 0);
}

#[test]
fn garbage_on_the_line_is_rejected_and_counted() {
    let sim = SimDialect::Wkly;
    let mut config = BusConfig::for_dialect(sim);
    config.faults = "garbage=1".parse().unwrap();
    let bus = Bus::with_boards(sim, 2, config);
    let mut m = master(&bus, Wkly::default());
    for _ in 0..20 {
        m.status(1).unwrap();
        bus.advance(50_000);
    }
    let stats = m.stats();
    // Garbage follows every reply: after the reply completes it is late input, flushed
    // before the next request.
    assert!(stats.late_bytes_dropped > 0, "{stats:?}");
    assert_eq!(stats.timeouts, 0);
}

#[test]
fn cu12_broadcast_collects_every_board() {
    let sim = SimDialect::KerongCu12;
    let bus = Bus::with_boards(sim, 4, BusConfig::for_dialect(sim));
    let mut m = master(&bus, KerongCu12::new());
    let mut seen = Vec::new();
    let count = m.broadcast_status(|board, status| seen.push((board, status.locks.reported.len()))).unwrap();
    assert_eq!(count, 4);
    seen.sort_unstable();
    assert_eq!(seen, vec![(0, 12), (1, 12), (2, 12), (3, 12)]);
    // Not every dialect has a status broadcast.
    let mut w = master(&bus, Wkly::default());
    assert!(matches!(w.broadcast_status(|_, _| {}), Err(Error::Unsupported(_))));
}

#[test]
fn native_events_report_every_door_opening() {
    let sim = SimDialect::Native;
    let bus = Bus::with_boards(sim, 2, BusConfig::for_dialect(sim));
    let mut m = master(&bus, Native::default());
    let mut opened = Vec::new();
    let first = m.events(1, |e| opened.push(e.kind)).unwrap();
    assert!(!first.lost);
    opened.clear();
    for lock in [3u8, 5, 9] {
        let report = m.unlock(1, Lock::new(lock).unwrap()).unwrap();
        assert_eq!(report.outcome, UnlockOutcome::Confirmed);
    }
    bus.advance(1_000_000);
    let summary = m.events(1, |e| opened.push(e.kind)).unwrap();
    assert!(!summary.rebooted && !summary.lost);
    let doors: Vec<u8> = opened
        .iter()
        .filter_map(|k| match k {
            EventKind::DoorOpened { lock } => Some(lock.get()),
            _ => None,
        })
        .collect();
    assert_eq!(doors, vec![3, 5, 9]);
    // Read again: nothing new.
    let again = m.events(1, |_| panic!("no new event")).unwrap();
    assert_eq!(again.events, 0);
}

/// A minimal executor: the simulator's futures complete on their first poll.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[test]
fn the_async_shell_drives_the_simulator_like_the_blocking_one() {
    use lockdrv::master::asynch;
    let sim = SimDialect::Native;
    let bus = Bus::with_boards(sim, 2, BusConfig::for_dialect(sim));
    let mut m = asynch::BusMaster::new(Native::default(), bus.endpoint(), bus.delay(), bus.clock(), None);
    block_on(m.events(2, |_| {})).unwrap();
    bus.lose_next_replies(1, 1);
    let report = block_on(m.unlock(2, Lock::new(6).unwrap())).unwrap();
    assert_eq!(report.outcome, UnlockOutcome::Confirmed);
    assert_eq!(report.attempts, 2, "resent with the same SEQ");
    assert_eq!(bus.pulses_of(1, Lock::new(6).unwrap()), 1);
    bus.advance(500_000);
    let mut doors = Vec::new();
    block_on(m.events(2, |e| {
        if let EventKind::DoorOpened { lock } = e.kind {
            doors.push(lock.get());
        }
    }))
    .unwrap();
    assert_eq!(doors, vec![6]);
    // A CU12 bus through the async shell: a lost vendor unlock reply is never resent.
    let sim = SimDialect::KerongCu12;
    let bus = Bus::with_boards(sim, 2, BusConfig::for_dialect(sim));
    let mut m = asynch::BusMaster::new(KerongCu12::new(), bus.endpoint(), bus.delay(), bus.clock(), None);
    bus.lose_next_replies(0, 1);
    let report = block_on(m.unlock(0, Lock::new(1).unwrap())).unwrap();
    assert_eq!(report.outcome, UnlockOutcome::Unknown);
    assert_eq!(report.attempts, 1);
    assert!(report.status_after.is_some());
    assert_eq!(bus.pulses_of(0, Lock::new(1).unwrap()), 1);
    assert_eq!(block_on(m.broadcast_status(|_, _| {})).unwrap(), 2);
}
