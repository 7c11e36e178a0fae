//! Native boards in the simulator: retries answered from the reply cache, reboots refused by
//! boot id, the event log across polls, discovery answers.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod sim_common;

use lockdrv::sim::timing::transaction_min_us;
use lockdrv::sim::{Bus, BusConfig, SimDialect};
use lockproto::Lock;
use lockproto::dialect::kerong_cu12::{Cu12Request, KerongCu12};
use lockproto::native::{DiscoverScope, ErrorCode, EventKind, Native, NativeReply, NativeRequest, ResetCause};
use sim_common::transact;

const TIMEOUT_US: u64 = 200_000;

fn bus(count: usize) -> Bus {
    Bus::with_boards(SimDialect::Native, count, BusConfig::for_dialect(SimDialect::Native))
}

fn one(bus: &Bus, request: NativeRequest) -> NativeReply {
    let replies = transact(bus, &Native::default(), &request, TIMEOUT_US);
    assert_eq!(replies.len(), 1, "{request:?} → {replies:?}");
    replies[0]
}

fn boot_of(bus: &Bus, board: u8, seq: u8) -> u16 {
    one(bus, NativeRequest::GetInfo { board, seq }).boot()
}

#[test]
fn a_retried_unlock_is_answered_from_the_cache_and_pulses_once() {
    let bus = bus(2);
    let boot = boot_of(&bus, 1, 1);
    let lock = Lock::new(4).unwrap();
    let unlock = NativeRequest::Unlock { board: 1, seq: 2, boot, lock, pulse_ms: 300 };
    let first = one(&bus, unlock);
    bus.advance(50_000);
    let second = one(&bus, unlock);
    assert_eq!(first, second);
    assert!(matches!(first, NativeReply::Unlocked { applied_ms: 300, .. }));
    bus.advance(1_000_000);
    assert_eq!(bus.pulses_of(0, lock), 1);
}

#[test]
fn after_a_reboot_a_retry_is_refused_and_nothing_pulses() {
    let bus = bus(1);
    let boot = boot_of(&bus, 1, 1);
    let lock = Lock::new(4).unwrap();
    let unlock = NativeRequest::Unlock { board: 1, seq: 2, boot, lock, pulse_ms: 1_000 };
    one(&bus, unlock);
    bus.advance(20_000);
    assert!(bus.with_board(0, |b| b.outputs().contains(lock)).unwrap());
    let now = bus.now_us();
    bus.with_board(0, |b| b.reboot(now));
    assert!(bus.with_board(0, |b| b.outputs().is_empty()).unwrap(), "outputs off after a reboot");
    let reply = one(&bus, unlock);
    assert!(
        matches!(reply, NativeReply::Error { code: ErrorCode::BootMismatch, boot: b, .. } if b != boot),
        "{reply:?}"
    );
    assert_eq!(bus.pulses_of(0, lock), 1);
    let events = one(&bus, NativeRequest::ReadEvents { board: 1, seq: 3, cursor: 0, max: 0 });
    let NativeReply::Events { events, .. } = events else { panic!() };
    assert_eq!(events.as_slice()[0].kind, EventKind::Boot { cause: ResetCause::BrownOut });
}

#[test]
fn quick_door_openings_between_polls_are_all_in_the_event_log() {
    let bus = bus(1);
    let lock = Lock::new(9).unwrap();
    let mut cursor = 1; // event 0 is Boot
    let mut opened = 0;
    let mut closed = 0;
    for round in 0..20u8 {
        // Someone opens the door by hand for 60 ms, twice, between two polls 1 s apart.
        for _ in 0..2 {
            let now = bus.now_us();
            bus.with_board(0, |b| b.physics_mut().open_by_hand(lock, now, 60_000));
            bus.advance(400_000);
        }
        let reply = one(&bus, NativeRequest::ReadEvents { board: 1, seq: round, cursor, max: 0 });
        let NativeReply::Events { lost, first, events, .. } = reply else { panic!("{reply:?}") };
        assert!(!lost);
        assert_eq!(first, cursor);
        for event in events.as_slice() {
            match event.kind {
                EventKind::DoorOpened { lock: l } if l == lock => opened += 1,
                EventKind::DoorClosed { lock: l } if l == lock => closed += 1,
                // Shutting the door swaps the parcel (physics default).
                EventKind::Presence { lock: l, .. } if l == lock => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        cursor = cursor.wrapping_add(events.len() as u16);
    }
    assert_eq!((opened, closed), (40, 40));
}

#[test]
fn discovery_finds_the_board_and_assigns_an_address() {
    let bus = bus(1);
    let discover =
        NativeRequest::Discover { seq: 1, scope: DiscoverScope::All, slots: 1, slot_ms: 20, lo: 0, hi: u64::MAX };
    let NativeReply::DiscoverAnswer { uid, board: 1, .. } = one(&bus, discover) else { panic!() };
    let assign = NativeRequest::AssignAddress { seq: 2, uid, address: 42 };
    assert!(matches!(one(&bus, assign), NativeReply::AddressAssigned { board: 42, .. }));
    // Muted now: no answer until a reset.
    assert!(transact(&bus, &Native::default(), &discover, TIMEOUT_US).is_empty());
    assert!(matches!(one(&bus, NativeRequest::GetStatus { board: 42, seq: 3 }), NativeReply::Status { board: 42, .. }));
}

#[test]
fn a_transaction_takes_the_wire_time_minimum_without_faults() {
    let sim = SimDialect::KerongCu12;
    let config = BusConfig::for_dialect(sim);
    let bus = Bus::with_boards(sim, 1, config);
    let start = bus.now_us();
    let replies = transact(&bus, &KerongCu12::new(), &Cu12Request::QueryStatus { board: 0 }, 1_000_000);
    assert_eq!(replies.len(), 1);
    let took = bus.now_us() - start;
    let min = transaction_min_us(8, 10, config.baud, config.reply_latency_us);
    // Per-byte rounding of the byte time: at most 1 µs a byte.
    assert!(took >= min && took <= min + 18, "took {took} µs, minimum {min} µs");
}

#[test]
fn an_8a80_stand_in_answers_an_unlock_a_second_late_as_the_vendor_board_does() {
    use lockproto::dialect::bcc_8a80::{Bcc8a80, Bcc8a80Request, UNLOCK_REPLY_DELAY_MS};
    let sim = SimDialect::Bcc8a80;
    let bus = Bus::with_boards(sim, 1, BusConfig::for_dialect(sim));
    let start = bus.now_us();
    let request = Bcc8a80Request::Unlock { board: 1, lock: Lock::new(3).unwrap() };
    assert_eq!(transact(&bus, &Bcc8a80::default(), &request, 1_500_000).len(), 1);
    let took = bus.now_us() - start;
    assert!(took >= u64::from(UNLOCK_REPLY_DELAY_MS) * 1_000, "replied after {took} µs");
    assert!(took < u64::from(UNLOCK_REPLY_DELAY_MS) * 1_000 + 50_000, "replied after {took} µs");
}

#[test]
fn a_jammed_lock_pulses_but_its_door_stays_shut_and_the_board_logs_a_jam() {
    let bus = bus(1);
    let lock = Lock::new(6).unwrap();
    bus.with_board(0, |b| b.physics_mut().set_jammed(lock, true));
    let unlock = NativeRequest::Unlock { board: 1, seq: 1, boot: 0, lock, pulse_ms: 400 };
    assert!(matches!(one(&bus, unlock), NativeReply::Unlocked { .. }), "accepted is not opened");
    bus.advance(1_000_000);
    assert_eq!(bus.pulses_of(0, lock), 1);
    assert_eq!(bus.with_board(0, |b| b.physics().openings(lock)), Some(0));
    let NativeReply::Events { events, .. } =
        one(&bus, NativeRequest::ReadEvents { board: 1, seq: 2, cursor: 1, max: 0 })
    else {
        panic!()
    };
    let kinds: Vec<EventKind> = events.as_slice().iter().map(|e| e.kind).collect();
    use lockproto::native::{FaultCode, PulseEnd};
    assert_eq!(
        kinds,
        vec![
            EventKind::PulseStarted { lock, applied_ms: 400 },
            EventKind::PulseEnded { lock, end: PulseEnd::Completed },
            EventKind::Fault { lock: Some(lock), fault: FaultCode::Jam },
        ]
    );
}

#[test]
fn a_pulse_ends_when_its_door_opens_and_the_log_says_so_in_order() {
    use lockproto::native::PulseEnd;
    let bus = bus(1);
    let lock = Lock::new(3).unwrap();
    let unlock = NativeRequest::Unlock { board: 1, seq: 1, boot: 0, lock, pulse_ms: 1_000 };
    one(&bus, unlock);
    bus.advance(300_000);
    assert!(bus.with_board(0, |b| b.outputs().is_empty()).unwrap(), "cut short once the door was seen open");
    bus.advance(4_000_000);
    let NativeReply::Events { events, .. } =
        one(&bus, NativeRequest::ReadEvents { board: 1, seq: 2, cursor: 1, max: 0 })
    else {
        panic!()
    };
    let kinds: Vec<EventKind> =
        events.as_slice().iter().map(|e| e.kind).filter(|k| !matches!(k, EventKind::Presence { .. })).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::PulseStarted { lock, applied_ms: 1_000 },
            EventKind::DoorOpened { lock },
            EventKind::PulseEnded { lock, end: PulseEnd::DoorOpened },
            EventKind::DoorClosed { lock },
        ]
    );
    let times: Vec<u32> = events.as_slice().iter().map(|e| e.time_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn two_answers_in_one_slot_collide_on_a_bus_with_collisions() {
    let discover =
        NativeRequest::Discover { seq: 1, scope: DiscoverScope::All, slots: 1, slot_ms: 20, lo: 0, hi: u64::MAX };
    let ideal = bus(2);
    assert_eq!(transact(&ideal, &Native::default(), &discover, TIMEOUT_US).len(), 2, "an ideal bus queues them");
    let mut config = BusConfig::for_dialect(SimDialect::Native);
    config.collisions = true;
    let real = Bus::with_boards(SimDialect::Native, 2, config);
    let answers = transact(&real, &Native::default(), &discover, TIMEOUT_US);
    assert!(answers.len() < 2, "garbled: {answers:?}");
    assert_eq!(real.stats().collisions, 1);
    assert!(real.stats().bytes_to_master > 0, "the master hears something: a collision, not silence");
}
