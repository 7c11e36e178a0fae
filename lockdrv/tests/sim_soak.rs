//! Fault soaks through the real bus master (`master::blocking::BusMaster`) on the simulator:
//! thousands of transactions on a bus with every kind of injected fault (dropped, corrupted,
//! delayed and garbage bytes, slow replies, boards going offline and rebooting). Checked:
//! no unlock request pulses its lock twice (per request, and in total), no door event is lost
//! on native boards (without reboots), and every failure is a typed error of the master.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;

use lockdrv::master::blocking::BusMaster;
use lockdrv::master::{BusDialect, Error, MasterStats, UnlockOutcome};
use lockdrv::sim::bus::SimClock;
use lockdrv::sim::{Bus, BusConfig, Endpoint, FaultConfig, Silent, SimDelay, SimDialect};
use lockproto::Lock;
use lockproto::dialect::kerong_cu12::KerongCu12;
use lockproto::native::{EventKind, Native};

const BOARDS: usize = 4;

fn faults(reboots: bool) -> FaultConfig {
    let spec = if reboots {
        "drop=0.001,corrupt=0.001,delay=0.002,garbage=0.01,slow=0.01,slow-ms=400,offline=0.002,offline-ms=1500,reboot=0.002"
    } else {
        "drop=0.001,corrupt=0.001,delay=0.002,garbage=0.01,slow=0.01,slow-ms=400"
    };
    spec.parse().unwrap()
}

type SimMaster<D> = BusMaster<D, Endpoint, SimDelay, SimClock>;

fn master<D: BusDialect + Clone>(bus: &Bus, dialect: D) -> SimMaster<D> {
    let mut config = dialect.default_config();
    // The soak measures no latency: look for input every ms (fewer steps in a timeout).
    config.poll_interval_us = 1_000;
    BusMaster::new(dialect, bus.endpoint(), bus.delay(), bus.clock(), Some(config))
}

/// Failures by kind: each one a typed error; port errors would be a master bug.
#[derive(Debug, Default)]
struct Failures(HashMap<&'static str, u64>);

impl Failures {
    fn note(&mut self, error: &Error<Silent>) {
        let kind = match error {
            Error::Timeout { .. } => "timeout",
            Error::BoardBackingOff { .. } => "backing off",
            Error::Device { .. } => "device error",
            Error::UnexpectedReply { .. } => "unexpected reply",
            other => panic!("an error the soak must never see: {other:?}"),
        };
        *self.0.entry(kind).or_default() += 1;
    }
}

/// One unlock through the master; asserts it pulsed its lock at most once.
fn unlock_once<D: BusDialect + Clone>(
    m: &mut SimMaster<D>,
    bus: &Bus,
    index: usize,
    board: u8,
    lock: Lock,
    failures: &mut Failures,
    outcomes: &mut HashMap<String, u64>,
) -> bool {
    let before = bus.pulses_of(index, lock);
    let sent = match m.unlock(board, lock) {
        Ok(report) => {
            let key = match report.outcome {
                UnlockOutcome::Refused(e) => format!("refused {:#04x}", e.code),
                other => format!("{other:?}"),
            };
            *outcomes.entry(key).or_default() += 1;
            true
        }
        Err(e) => {
            failures.note(&e);
            // Backing off: nothing was sent. Anything else: the frame may have gone out.
            !matches!(e, Error::BoardBackingOff { .. })
        }
    };
    // Let a queued pulse start (the power budget may delay it), then count.
    bus.advance(50_000);
    let pulses = bus.pulses_of(index, lock) - before;
    assert!(pulses <= 1, "board {board} lock {lock}: one request pulsed {pulses} times");
    assert!(sent || pulses == 0, "board {board} lock {lock}: pulsed without a request on the wire");
    sent
}

fn native_soak(reboots: bool, rounds: u32, seed: u64) -> MasterStats {
    let sim = SimDialect::Native;
    let mut config = BusConfig::for_dialect(sim);
    config.seed = seed;
    config.faults = faults(reboots);
    // Doors stay open 600 ms, so they close between most polls.
    config.physics.open_for_us = 600_000;
    let bus = Bus::with_boards(sim, BOARDS, config);
    let mut m = master(&bus, Native::default());
    let mut requests: HashMap<(u8, Lock), u64> = HashMap::new();
    let mut openings_seen: HashMap<(u8, Lock), u64> = HashMap::new();
    let mut failures = Failures::default();
    let mut outcomes = HashMap::new();
    let mut rebooted = false;
    let read_events = |m: &mut SimMaster<Native>, board: u8, failures: &mut Failures, seen: &mut HashMap<_, _>| match m
        .events(board, |event| {
            if let EventKind::DoorOpened { lock } = event.kind {
                *seen.entry((board, lock)).or_default() += 1;
            }
        }) {
        Ok(summary) => {
            assert!(!summary.lost || summary.rebooted || reboots, "board {board}: events lost without a reboot");
            summary.rebooted
        }
        Err(e) => {
            failures.note(&e);
            false
        }
    };
    for board in 1..=BOARDS as u8 {
        read_events(&mut m, board, &mut failures, &mut openings_seen);
    }
    for round in 0..rounds {
        let board = (round % BOARDS as u32) as u8 + 1;
        let index = usize::from(board - 1);
        if round.is_multiple_of(3) {
            let lock = Lock::new((round / 3 % 24) as u8 + 1).unwrap();
            if unlock_once(&mut m, &bus, index, board, lock, &mut failures, &mut outcomes) {
                *requests.entry((board, lock)).or_default() += 1;
            }
        }
        rebooted |= read_events(&mut m, board, &mut failures, &mut openings_seen);
        bus.advance(50_000);
    }
    // Let every door shut and every backoff expire, then read what is left.
    bus.advance(40_000_000);
    for board in 1..=BOARDS as u8 {
        m.reset_health(board);
        for _ in 0..5 {
            rebooted |= read_events(&mut m, board, &mut failures, &mut openings_seen);
        }
    }
    for index in 0..BOARDS {
        let board = index as u8 + 1;
        for lock in (1..=24).filter_map(Lock::new) {
            let pulses = bus.pulses_of(index, lock);
            let asked = requests.get(&(board, lock)).copied().unwrap_or(0);
            assert!(pulses <= asked, "board {board} lock {lock}: {pulses} pulses for {asked} requests");
            if !reboots {
                let opened = bus.with_board(index, |b| u64::from(b.physics().openings(lock))).unwrap();
                let seen = openings_seen.get(&(board, lock)).copied().unwrap_or(0);
                assert_eq!(seen, opened, "board {board} lock {lock}: door openings lost");
            }
        }
    }
    let stats = m.stats();
    let bus_stats = bus.stats();
    println!(
        "native soak (reboots {reboots}): {stats:?}\n  outcomes {outcomes:?}\n  failures {:?}\n  {bus_stats:?}",
        failures.0
    );
    assert!(bus_stats.faults.dropped + bus_stats.faults.corrupted + bus_stats.faults.garbage > 0);
    assert!(stats.retries > 0, "faults must have cost some replies");
    assert!(outcomes.get("Confirmed").copied().unwrap_or(0) > u64::from(rounds) / 4);
    if reboots {
        assert!(bus_stats.faults.reboots > 0);
        assert!(rebooted && stats.reboots_seen > 0, "the master saw the reboots");
    } else {
        assert_eq!(bus_stats.faults.reboots, 0);
    }
    stats
}

#[test]
fn native_soak_without_reboots_loses_no_door_event_and_never_pulses_twice() {
    let stats = native_soak(false, 3_000, 7);
    assert!(stats.transactions >= 4_000, "{stats:?}");
}

#[test]
fn native_soak_with_reboots_and_offline_boards_never_pulses_twice() {
    let stats = native_soak(true, 3_000, 11);
    assert!(stats.transactions >= 4_000, "{stats:?}");
}

#[test]
fn cu12_soak_of_10000_transactions_never_resends_an_unlock_and_every_failure_is_typed() {
    let sim = SimDialect::KerongCu12;
    let mut config = BusConfig::for_dialect(sim);
    config.seed = 3;
    config.faults = faults(true);
    let bus = Bus::with_boards(sim, BOARDS, config);
    let mut m = master(&bus, KerongCu12::new());
    let mut requests: HashMap<(u8, Lock), u64> = HashMap::new();
    let mut failures = Failures::default();
    let mut outcomes = HashMap::new();
    let mut status_reads = 0u64;
    let mut round = 0u32;
    while m.stats().transactions < 10_000 {
        let board = (round % BOARDS as u32) as u8;
        let index = usize::from(board);
        if round.is_multiple_of(4) {
            let lock = Lock::new((round / 4 % 12) as u8 + 1).unwrap();
            if unlock_once(&mut m, &bus, index, board, lock, &mut failures, &mut outcomes) {
                *requests.entry((board, lock)).or_default() += 1;
            }
        } else {
            match m.status(board) {
                Ok(_) => status_reads += 1,
                Err(e) => failures.note(&e),
            }
        }
        bus.advance(20_000);
        round += 1;
    }
    for index in 0..BOARDS {
        for lock in (1..=12).filter_map(Lock::new) {
            let pulses = bus.pulses_of(index, lock);
            let asked = requests.get(&(index as u8, lock)).copied().unwrap_or(0);
            assert!(pulses <= asked, "board {index} lock {lock}: {pulses} pulses for {asked} requests");
        }
    }
    let stats = m.stats();
    println!(
        "cu12 soak: {round} rounds, {stats:?}\n  outcomes {outcomes:?}\n  status {status_reads}, failures {:?}\n  {:?}",
        failures.0,
        bus.stats()
    );
    assert!(stats.transactions >= 10_000);
    let unknown = outcomes.get("Unknown").copied().unwrap_or(0);
    assert!(unknown > 0, "faults must have cost some unlock replies");
    assert_eq!(stats.unknown_outcomes, unknown);
    assert!(outcomes.get("Confirmed").copied().unwrap_or(0) > 1_500);
    assert!(stats.retries > 0 && stats.rejected_frames > 0 && stats.late_bytes_dropped > 0);
}
