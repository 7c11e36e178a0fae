//! Simulator scenarios for every dialect, driven by a hand-written master built on lockproto:
//! status, unlock, the door opening and shutting in the physical model, addressing.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod sim_common;

use lockdrv::sim::{Bus, BusConfig, SimDialect};
use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::KerongCu12;
use lockproto::dialect::kerong_cu16::KerongCu16;
use lockproto::dialect::modbus_relay::ModbusRelay;
use lockproto::dialect::winnsen::Winnsen;
use lockproto::dialect::wkly::Wkly;
use lockproto::native::{Native, NativeRequest};
use lockproto::{BoardStatus, Command, Dialect, Lock, ReplyExpectation, Response};
use sim_common::{ask, transact};

const TIMEOUT_US: u64 = 1_500_000;

fn status<D: Dialect + Clone>(
    bus: &Bus,
    dialect: &D,
    board: u8,
    stamp: &impl Fn(D::Request, u8) -> D::Request,
) -> BoardStatus {
    // Native: a new request needs a new sequence number, or the board answers from its cache.
    static SEQ: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(100);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let request = stamp(dialect.request(board, &Command::QueryAll).unwrap(), seq);
    let replies = transact(bus, dialect, &request, TIMEOUT_US);
    let responses: Vec<Response> = replies.iter().filter_map(|r| dialect.response(r)).map(|(_, r)| r).collect();
    match responses.as_slice() {
        [Response::Status(status)] => *status,
        other => panic!("{}: board {board}: status answered {other:?}", D::NAME),
    }
}

/// The same scenario on every dialect: 3 boards; unlock lock 2 of the second board; the door
/// opens, status shows it, the door shuts again; no other lock or board moved.
/// Whether `lock` reads differently from lock 1 (released while its door is open): lock
/// feedback where the dialect reports it, else the door input (Modbus relay boards).
fn differs(status: &BoardStatus, lock: Lock) -> bool {
    let one = Lock::new(1).unwrap();
    match status.locks.get(lock) {
        Some(reading) => Some(reading) != status.locks.get(one),
        None => {
            let doors = status.doors.expect("door inputs where lock feedback is missing");
            doors.get(lock) != doors.get(one)
        }
    }
}

fn scenario<D: Dialect + Clone>(sim: SimDialect, dialect: D, stamp: impl Fn(D::Request, u8) -> D::Request) {
    let bus = Bus::with_boards(sim, 3, BusConfig::for_dialect(sim));
    let board = sim.address(1);
    let two = Lock::new(2).unwrap();

    let before = status(&bus, &dialect, board, &stamp);
    assert!(!differs(&before, two), "{}: all locks alike at start", D::NAME);

    let request = stamp(dialect.request(board, &Command::Unlock(two)).unwrap(), 1);
    let replies = transact(&bus, &dialect, &request, TIMEOUT_US);
    match dialect.reply_expectation(&request) {
        ReplyExpectation::None => assert!(replies.is_empty()),
        _ => {
            let responses: Vec<_> = replies.iter().filter_map(|r| dialect.response(r)).collect();
            // Ack, or (8A/80, WKLY) the lock's reading.
            assert!(
                matches!(responses.as_slice(), [(b, Response::Ack | Response::Status(_))] if *b == board),
                "{}: {responses:?}",
                D::NAME
            );
        }
    }
    // The door springs open after 150 ms (physics default) and stays open for 3 s.
    bus.advance(500_000);
    let open = status(&bus, &dialect, board, &stamp);
    assert!(differs(&open, two), "{}: lock 2 reads released while its door is open: {open:?}", D::NAME);
    assert_eq!(bus.pulses_of(1, two), 1, "{}", D::NAME);
    assert_eq!(bus.total_pulses(), 1, "{}: nothing else pulsed", D::NAME);
    let other = status(&bus, &dialect, sim.address(2), &stamp);
    assert!(!differs(&other, two), "{}: board 3 untouched", D::NAME);

    bus.advance(4_000_000);
    let shut = status(&bus, &dialect, board, &stamp);
    assert!(!differs(&shut, two), "{}: door shut again", D::NAME);
    assert_eq!(bus.with_board(1, |b| b.physics().openings(two)), Some(1));
}

fn same<R>(request: R, _seq: u8) -> R {
    request
}

#[test]
fn kerong_cu12() {
    scenario(SimDialect::KerongCu12, KerongCu12::new(), same);
}

#[test]
fn kerong_cu16() {
    scenario(SimDialect::KerongCu16, KerongCu16::new(), same);
}

#[test]
fn bcc_8a80() {
    scenario(SimDialect::Bcc8a80, Bcc8a80::default(), same);
}

#[test]
fn wkly() {
    scenario(SimDialect::Wkly, Wkly::default(), same);
}

#[test]
fn winnsen() {
    scenario(SimDialect::Winnsen, Winnsen::default(), same);
}

#[test]
fn modbus_relay() {
    scenario(SimDialect::ModbusRelay, ModbusRelay::default(), same);
}

#[test]
fn native() {
    scenario(SimDialect::Native, Native::default(), |r: NativeRequest, seq| r.with_seq(seq));
}

#[test]
fn every_dialect_name_parses() {
    for dialect in SimDialect::ALL {
        assert_eq!(dialect.name().parse::<SimDialect>().unwrap(), dialect);
    }
    assert!("kerong".parse::<SimDialect>().is_err());
}

#[test]
fn a_silent_address_times_out_and_the_others_still_answer() {
    let sim = SimDialect::KerongCu12;
    let bus = Bus::with_boards(sim, 2, BusConfig::for_dialect(sim));
    bus.set_offline_until(0, u64::MAX);
    assert!(ask(&bus, &KerongCu12::new(), 0, Command::QueryAll, TIMEOUT_US).is_empty());
    assert_eq!(ask(&bus, &KerongCu12::new(), 1, Command::QueryAll, TIMEOUT_US).len(), 1);
    assert!(ask(&bus, &KerongCu12::new(), 7, Command::QueryAll, TIMEOUT_US).is_empty(), "no board 7");
}

#[test]
fn cu12_broadcast_collects_every_board_in_turn() {
    let sim = SimDialect::KerongCu12;
    let bus = Bus::with_boards(sim, 4, BusConfig::for_dialect(sim));
    let replies =
        ask(&bus, &KerongCu12::new(), lockproto::dialect::kerong_cu12::BROADCAST, Command::QueryAll, TIMEOUT_US);
    assert_eq!(replies.len(), 4);
}

/// A cabinet of 4 boards × 24 channels, swept back to back by a master that starts each request
/// as soon as the previous reply is complete, takes the wire-time minimum of the timing model:
/// the reference the driver benchmark is measured against.
#[test]
fn a_back_to_back_status_sweep_takes_the_wire_time_minimum() {
    use lockdrv::board::BoardConfig;
    use lockdrv::sim::timing::transaction_min_us;
    for (sim, baud) in [
        (SimDialect::Wkly, 9_600),
        (SimDialect::Wkly, 19_200),
        (SimDialect::Native, 9_600),
        (SimDialect::Native, 19_200),
    ] {
        let mut config = BusConfig::for_dialect(sim);
        config.baud = baud;
        let bus = Bus::new(config);
        for index in 0..4 {
            bus.add_configured_board(sim, BoardConfig::new(sim.address(index), 24));
        }
        let start = bus.now_us();
        let mut minimum = 0;
        for index in 0..4 {
            let board = sim.address(index);
            let (request_len, reply_len, channels) = match sim {
                SimDialect::Native => {
                    let request = NativeRequest::GetStatus { board, seq: index as u8 };
                    let replies = transact(&bus, &Native::default(), &request, TIMEOUT_US);
                    let mut out = [0u8; 300];
                    let reply_len = Native::default().encode_reply(&replies[0], &mut out).unwrap();
                    let request_len = Native::default().encode_request(&request, &mut out).unwrap();
                    let Some((_, Response::Status(status))) = Native::default().response(&replies[0]) else { panic!() };
                    (request_len, reply_len, status.locks.reported.len())
                }
                _ => {
                    let dialect = Wkly::default();
                    let request = dialect.request(board, &Command::QueryAll).unwrap();
                    let replies = transact(&bus, &dialect, &request, TIMEOUT_US);
                    let mut out = [0u8; 300];
                    let reply_len = dialect.encode_reply(&replies[0], &mut out).unwrap();
                    let request_len = dialect.encode_request(&request, &mut out).unwrap();
                    let Some((_, Response::Status(status))) = dialect.response(&replies[0]) else { panic!() };
                    (request_len, reply_len, status.locks.reported.len())
                }
            };
            assert_eq!(channels, 24, "{sim}");
            minimum += transaction_min_us(request_len, reply_len, baud, config.reply_latency_us);
        }
        let took = bus.now_us() - start;
        let ratio = took as f64 / minimum as f64;
        println!("{sim} at {baud}: sweep {took} µs, wire-time minimum {minimum} µs, ratio {ratio:.4}");
        assert!((1.0..1.01).contains(&ratio), "{sim} at {baud}: ratio {ratio}");
    }
}

#[test]
fn a_lock_the_board_does_not_have_is_refused_in_the_dialects_own_terms() {
    use lockproto::dialect::modbus_relay::{ModbusException, ModbusRelayReply, ModbusRelayRequest};
    let sim = SimDialect::ModbusRelay;
    let bus = Bus::with_boards(sim, 1, BusConfig::for_dialect(sim));
    // An 8-relay board asked for relay 9.
    let request = ModbusRelayRequest::FlashOn { board: 1, lock: Lock::new(9).unwrap(), delay_100ms: 5 };
    let replies = transact(&bus, &ModbusRelay::default(), &request, TIMEOUT_US);
    assert!(
        matches!(replies.as_slice(), [ModbusRelayReply::Exception { code: ModbusException::IllegalDataValue, .. }]),
        "{replies:?}"
    );
    assert_eq!(bus.total_pulses(), 0);
}
