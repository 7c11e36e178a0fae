//! Tests of the native protocol (lockproto/PROTOCOL.md).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

// The shared helpers trip a lint newer than they are; they are not this file's to change.
mod common;

use std::collections::{BTreeMap, BTreeSet};

use lockproto::checksum::crc16_ibm_3740;
use lockproto::native::discovery::{Discovery, DiscoveryConfig, DiscoveryEnd, DiscoveryOutcome, slot_of};
use lockproto::native::{
    BROADCAST, DiscoverScope, ErrorCode, EventBatch, EventKind, EventLog, FaultCode, MAX_EVENTS_PER_REPLY, Native,
    NativeEvent, NativeReply, NativeRequest, ParameterCode, PulseEnd, RawFrame, ReplyCache, RequestKey, ResetCause,
};
use lockproto::stream::{Direction, Event, Message, StreamDecoder};
use lockproto::{
    BoardInfo, BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, Dialect, FrameError, Lock, LockSet,
    Parameter, ParameterId, ReplyExpectation, Response, Version,
};
use proptest::prelude::*;

fn lock(n: u8) -> Lock {
    Lock::new(n).unwrap()
}

fn set(locks: &[u8]) -> LockSet {
    locks.iter().map(|&n| lock(n)).collect()
}

fn range(lo: u8, hi: u8) -> LockSet {
    (lo..=hi).map(lock).collect()
}

fn encode_request(request: &NativeRequest) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let len = Native::default().encode_request(request, &mut buf).unwrap();
    buf[..len].to_vec()
}

fn encode_reply(reply: &NativeReply) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let len = Native::default().encode_reply(reply, &mut buf).unwrap();
    buf[..len].to_vec()
}

fn hex_line(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// PROTOCOL.md worked examples (§6): the messages the hex blocks must decode to.
// ---------------------------------------------------------------------------------------------

const BOOT: u16 = 0x3A7C;
const UID: u64 = 0x0123_4567_89AB_CDEF;

fn example_requests() -> BTreeMap<&'static str, NativeRequest> {
    let mut m = BTreeMap::new();
    m.insert("get-info", NativeRequest::GetInfo { board: 1, seq: 0x10 });
    m.insert("get-status", NativeRequest::GetStatus { board: 1, seq: 0x11 });
    m.insert("unlock", NativeRequest::Unlock { board: 1, seq: 0x12, boot: BOOT, lock: lock(3), pulse_ms: 1500 });
    m.insert(
        "unlock-many",
        NativeRequest::UnlockMany { board: 1, seq: 0x13, boot: BOOT, locks: set(&[1, 2, 3, 10]), pulse_ms: 500 },
    );
    m.insert("unlock-all", NativeRequest::UnlockAll { board: 2, seq: 0x07, boot: 0x0001, pulse_ms: 600 });
    m.insert("read-events", NativeRequest::ReadEvents { board: 1, seq: 0x14, cursor: 0x0041, max: 0 });
    m.insert("read-events-stale", NativeRequest::ReadEvents { board: 1, seq: 0x15, cursor: 0x0010, max: 8 });
    m.insert(
        "read-parameter",
        NativeRequest::ReadParameter { board: 1, seq: 0x16, parameter: ParameterCode::PulseMaxMs },
    );
    m.insert(
        "write-parameter",
        NativeRequest::WriteParameter { board: 1, seq: 0x17, parameter: ParameterCode::Address, value: 5 },
    );
    m.insert("discovery-reset", NativeRequest::DiscoveryReset { seq: 0x20 });
    m.insert(
        "discover",
        NativeRequest::Discover {
            seq: 0x21,
            scope: DiscoverScope::Unassigned,
            slots: 8,
            slot_ms: 20,
            lo: 0,
            hi: u64::MAX,
        },
    );
    m.insert("assign-address", NativeRequest::AssignAddress { seq: 0x22, uid: UID, address: 1 });
    m
}

fn example_events() -> EventBatch {
    let events = [
        NativeEvent { kind: EventKind::PulseStarted { lock: lock(3), applied_ms: 1000 }, time_ms: 0x0001_2C00 },
        NativeEvent { kind: EventKind::DoorOpened { lock: lock(3) }, time_ms: 0x0001_2D2C },
        NativeEvent { kind: EventKind::PulseEnded { lock: lock(3), end: PulseEnd::DoorOpened }, time_ms: 0x0001_2D2C },
        NativeEvent { kind: EventKind::DoorClosed { lock: lock(3) }, time_ms: 0x0001_3A10 },
    ];
    events.iter().collect()
}

fn example_replies() -> BTreeMap<&'static str, NativeReply> {
    let mut m = BTreeMap::new();
    m.insert(
        "info",
        NativeReply::Info {
            board: 1,
            seq: 0x10,
            boot: BOOT,
            uid: UID,
            protocol_minor: 0,
            firmware: Version { major: 1, minor: 2 },
            hardware: Version { major: 1, minor: 0 },
            channels: 24,
            max_simultaneous: 2,
            pulse_max_ms: 1000,
            event_capacity: 256,
        },
    );
    let mut lock_active = range(1, 24);
    lock_active.remove(lock(3));
    m.insert(
        "status",
        NativeReply::Status {
            board: 1,
            seq: 0x11,
            boot: BOOT,
            channels: 24,
            lock_active,
            lock_absent: LockSet::EMPTY,
            door_open: set(&[3]),
            door_absent: LockSet::EMPTY,
            occupied: set(&[1, 5]),
            presence_absent: range(17, 24),
            pulsing: set(&[3]),
            faulted: LockSet::EMPTY,
        },
    );
    m.insert("unlocked", NativeReply::Unlocked { board: 1, seq: 0x12, boot: BOOT, lock: lock(3), applied_ms: 1000 });
    m.insert(
        "unlock-many-accepted",
        NativeReply::UnlockManyAccepted {
            board: 1,
            seq: 0x13,
            boot: BOOT,
            locks: set(&[1, 2, 3, 10]),
            applied_ms: 500,
            max_simultaneous: 2,
        },
    );
    m.insert(
        "unlock-all-accepted",
        NativeReply::UnlockAllAccepted {
            board: 2,
            seq: 0x07,
            boot: 0x0001,
            locks: range(1, 12),
            applied_ms: 600,
            max_simultaneous: 2,
        },
    );
    m.insert(
        "events",
        NativeReply::Events {
            board: 1,
            seq: 0x14,
            boot: BOOT,
            lost: false,
            more: false,
            first: 0x0041,
            now_ms: 0x0001_3B00,
            events: example_events(),
        },
    );
    let boot_event = [NativeEvent { kind: EventKind::Boot { cause: ResetCause::BrownOut }, time_ms: 0 }];
    m.insert(
        "events-lost",
        NativeReply::Events {
            board: 1,
            seq: 0x15,
            boot: 0x9E01,
            lost: true,
            more: false,
            first: 0x0000,
            now_ms: 0x0000_0BB8,
            events: boot_event.iter().collect(),
        },
    );
    m.insert(
        "parameter",
        NativeReply::Parameter { board: 1, seq: 0x16, boot: BOOT, parameter: ParameterCode::PulseMaxMs, value: 1000 },
    );
    m.insert(
        "parameter-written",
        NativeReply::ParameterWritten { board: 1, seq: 0x17, boot: BOOT, parameter: ParameterCode::Address, value: 5 },
    );
    m.insert("discover-answer", NativeReply::DiscoverAnswer { board: 0, seq: 0x21, boot: BOOT, uid: UID });
    m.insert("address-assigned", NativeReply::AddressAssigned { board: 1, seq: 0x22, boot: BOOT, uid: UID });
    m.insert(
        "error-channel-fault",
        NativeReply::Error { board: 1, seq: 0x12, boot: BOOT, command: 0x03, code: ErrorCode::ChannelFault, detail: 3 },
    );
    m.insert(
        "error-boot-mismatch",
        NativeReply::Error {
            board: 1,
            seq: 0x12,
            boot: 0x9E01,
            command: 0x03,
            code: ErrorCode::BootMismatch,
            detail: 0,
        },
    );
    m.insert(
        "error-unsupported-version",
        NativeReply::Error {
            board: 1,
            seq: 0x30,
            boot: BOOT,
            command: 0x01,
            code: ErrorCode::UnsupportedVersion,
            detail: 1,
        },
    );
    m
}

/// `(direction, name) -> bytes` of every "```hex request|reply NAME" block of PROTOCOL.md.
fn protocol_examples() -> Vec<(String, String, Vec<u8>)> {
    let text = include_str!("../PROTOCOL.md");
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```hex ") else { continue };
        let mut words = info.split_whitespace();
        let direction = words.next().unwrap().to_owned();
        let name = words.next().unwrap().to_owned();
        let mut hex = String::new();
        for body in lines.by_ref() {
            if body.starts_with("```") {
                break;
            }
            // Text after `#` on a line annotates the bytes.
            hex.push_str(body.split('#').next().unwrap());
            hex.push(' ');
        }
        out.push((direction, name, common::hex(&hex)));
    }
    out
}

/// Prints the hex blocks for PROTOCOL.md: `cargo test --test native -- --ignored --nocapture`.
#[test]
#[ignore = "generator for PROTOCOL.md, not a check"]
fn print_protocol_examples() {
    for (name, request) in example_requests() {
        println!("```hex request {name}\n{}\n```", hex_line(&encode_request(&request)));
    }
    for (name, reply) in example_replies() {
        println!("```hex reply {name}\n{}\n```", hex_line(&encode_reply(&reply)));
    }
}

#[test]
fn protocol_md_examples_decode_and_encode_byte_for_byte() {
    let native = Native::default();
    let requests = example_requests();
    let replies = example_replies();
    let examples = protocol_examples();
    let mut seen = BTreeSet::new();
    for (direction, name, bytes) in &examples {
        match direction.as_str() {
            "request" => {
                let expected = requests.get(name.as_str()).unwrap_or_else(|| panic!("no request {name}"));
                let decoded = native.decode_request(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(decoded.len, bytes.len(), "{name}");
                assert_eq!(&decoded.message, expected, "{name}");
                assert_eq!(&encode_request(expected), bytes, "{name}");
            }
            "reply" => {
                let expected = replies.get(name.as_str()).unwrap_or_else(|| panic!("no reply {name}"));
                let decoded = native.decode_reply(bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(decoded.len, bytes.len(), "{name}");
                assert_eq!(&decoded.message, expected, "{name}");
                assert_eq!(&encode_reply(expected), bytes, "{name}");
            }
            "foreign" => {
                // §7.8: a frame of another major version: refused by the decoder at byte 2, read
                // by RawFrame, answered by the board with UnsupportedVersion.
                let err = native.decode_request(bytes).unwrap_err();
                assert_eq!(err, FrameError::BadField { offset: 2, field: "protocol version", found: 2 });
                let raw = RawFrame::parse(bytes).unwrap();
                assert_eq!(raw.len, bytes.len());
                let board = Native { boot: BOOT, ..Native::default() };
                let refusal = board.refusal(&raw.message, &err, 1).unwrap();
                assert_eq!(refusal, replies["error-unsupported-version"]);
                continue;
            }
            other => panic!("unknown direction {other}"),
        }
        assert!(seen.insert(format!("{direction} {name}")), "duplicate example {name}");
    }
    // Every example of the tables is in the document, and each reply decodes against its request.
    assert_eq!(seen.len(), requests.len() + replies.len(), "PROTOCOL.md lacks examples: {seen:?}");
    let bytes_of = |dir: &str, name: &str| {
        examples.iter().find(|(d, n, _)| d == dir && n == name).map(|(_, _, b)| b.clone()).unwrap()
    };
    for (request, reply) in [
        ("get-info", "info"),
        ("get-status", "status"),
        ("unlock", "unlocked"),
        ("unlock", "error-channel-fault"),
        ("unlock", "error-boot-mismatch"),
        ("unlock-many", "unlock-many-accepted"),
        ("unlock-all", "unlock-all-accepted"),
        ("read-events", "events"),
        ("read-events-stale", "events-lost"),
        ("read-parameter", "parameter"),
        ("write-parameter", "parameter-written"),
        ("discover", "discover-answer"),
        ("assign-address", "address-assigned"),
    ] {
        let pending = requests[request];
        native.decode_reply(&bytes_of("reply", reply), Some(&pending)).unwrap_or_else(|e| panic!("{reply}: {e}"));
    }
}

#[test]
fn crc_parameters_and_check_value() {
    // PROTOCOL.md §2.2: CRC-16/IBM-3740, check value over ASCII "123456789".
    assert_eq!(crc16_ibm_3740(b"123456789"), 0x29B1);
    // The get-info example: CRC over F9 A6 01 03 01 10 01, sent high byte first.
    let frame = encode_request(&NativeRequest::GetInfo { board: 1, seq: 0x10 });
    let crc = crc16_ibm_3740(&frame[..7]);
    assert_eq!(&frame[7..], &crc.to_be_bytes());
    assert_eq!(hex_line(&frame), "F9 A6 01 03 01 10 01 8C BC");
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn arb_lock() -> impl Strategy<Value = Lock> {
    (1u8..=128).prop_map(lock)
}

/// Sets of every density, confined to locks `1..=limit`.
fn arb_set_within(limit: u8) -> impl Strategy<Value = LockSet> {
    (any::<u128>(), any::<u128>(), 0u8..=limit)
        .prop_map(move |(a, b, top)| LockSet::from_bits(a & b).intersection(LockSet::first(top.min(limit))))
}

fn arb_nonempty_set() -> impl Strategy<Value = LockSet> {
    (arb_set_within(128), arb_lock()).prop_map(|(mut s, l)| {
        s.insert(l);
        s
    })
}

fn arb_unicast() -> impl Strategy<Value = u8> {
    1u8..=254
}

fn arb_parameter() -> impl Strategy<Value = ParameterCode> {
    prop_oneof![
        (1u8..=5).prop_map(ParameterCode::from_code),
        (6u8..=255).prop_map(|code| ParameterCode::Unknown { code }),
    ]
}

fn arb_error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        (1u8..=10).prop_map(ErrorCode::from_code),
        Just(ErrorCode::Unknown { code: 0 }),
        (11u8..=255).prop_map(|code| ErrorCode::Unknown { code }),
    ]
}

fn arb_event_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        any::<u8>().prop_map(|c| EventKind::Boot { cause: ResetCause::from_code(c) }),
        arb_lock().prop_map(|lock| EventKind::DoorOpened { lock }),
        arb_lock().prop_map(|lock| EventKind::DoorClosed { lock }),
        (arb_lock(), any::<bool>()).prop_map(|(lock, active)| EventKind::LockInput { lock, active }),
        (arb_lock(), any::<bool>()).prop_map(|(lock, occupied)| EventKind::Presence { lock, occupied }),
        (arb_lock(), any::<u16>()).prop_map(|(lock, applied_ms)| EventKind::PulseStarted { lock, applied_ms }),
        (arb_lock(), any::<u8>()).prop_map(|(lock, c)| EventKind::PulseEnded { lock, end: PulseEnd::from_code(c) }),
        (proptest::option::of(arb_lock()), any::<u8>())
            .prop_map(|(lock, c)| EventKind::Fault { lock, fault: FaultCode::from_code(c) }),
        (prop_oneof![Just(0u8), 9u8..=255], any::<u8>(), any::<u16>())
            .prop_map(|(code, channel, value)| EventKind::Unknown { code, channel, value }),
    ]
}

fn arb_batch() -> impl Strategy<Value = EventBatch> {
    proptest::collection::vec(
        (arb_event_kind(), any::<u32>()).prop_map(|(kind, time_ms)| NativeEvent { kind, time_ms }),
        0..=MAX_EVENTS_PER_REPLY,
    )
    .prop_map(|events| events.iter().collect())
}

fn arb_request() -> impl Strategy<Value = NativeRequest> {
    let b = arb_unicast;
    prop_oneof![
        (b(), any::<u8>()).prop_map(|(board, seq)| NativeRequest::GetInfo { board, seq }),
        (b(), any::<u8>()).prop_map(|(board, seq)| NativeRequest::GetStatus { board, seq }),
        (b(), any::<u8>(), any::<u16>(), arb_lock(), any::<u16>())
            .prop_map(|(board, seq, boot, lock, pulse_ms)| NativeRequest::Unlock { board, seq, boot, lock, pulse_ms }),
        (b(), any::<u8>(), any::<u16>(), arb_nonempty_set(), any::<u16>()).prop_map(
            |(board, seq, boot, locks, pulse_ms)| NativeRequest::UnlockMany { board, seq, boot, locks, pulse_ms }
        ),
        (b(), any::<u8>(), any::<u16>(), any::<u16>())
            .prop_map(|(board, seq, boot, pulse_ms)| NativeRequest::UnlockAll { board, seq, boot, pulse_ms }),
        (b(), any::<u8>(), any::<u16>(), any::<u8>()).prop_map(|(board, seq, cursor, max)| NativeRequest::ReadEvents {
            board,
            seq,
            cursor,
            max
        }),
        (b(), any::<u8>(), arb_parameter()).prop_map(|(board, seq, parameter)| NativeRequest::ReadParameter {
            board,
            seq,
            parameter
        }),
        (b(), any::<u8>(), arb_parameter(), any::<u32>()).prop_map(|(board, seq, parameter, value)| {
            NativeRequest::WriteParameter { board, seq, parameter, value }
        }),
        any::<u8>().prop_map(|seq| NativeRequest::DiscoveryReset { seq }),
        (any::<u8>(), any::<bool>(), 1u8..=255, 1u8..=255, any::<u64>(), any::<u64>()).prop_map(
            |(seq, all, slots, slot_ms, a, b)| NativeRequest::Discover {
                seq,
                scope: if all { DiscoverScope::All } else { DiscoverScope::Unassigned },
                slots,
                slot_ms,
                lo: a.min(b),
                hi: a.max(b),
            }
        ),
        (any::<u8>(), any::<u64>(), arb_unicast()).prop_map(|(seq, uid, address)| NativeRequest::AssignAddress {
            seq,
            uid,
            address
        }),
    ]
}

fn arb_version() -> impl Strategy<Value = Version> {
    (any::<u8>(), any::<u8>()).prop_map(|(major, minor)| Version { major, minor })
}

fn arb_status() -> impl Strategy<Value = NativeReply> {
    (arb_unicast(), any::<u8>(), any::<u16>(), 1u8..=128).prop_flat_map(|(board, seq, boot, channels)| {
        proptest::collection::vec(arb_set_within(channels), 8).prop_map(move |s| NativeReply::Status {
            board,
            seq,
            boot,
            channels,
            lock_active: s[0],
            lock_absent: s[1],
            door_open: s[2],
            door_absent: s[3],
            occupied: s[4],
            presence_absent: s[5],
            pulsing: s[6],
            faulted: s[7],
        })
    })
}

fn arb_reply() -> impl Strategy<Value = NativeReply> {
    let b = arb_unicast;
    let head = || (b(), any::<u8>(), any::<u16>());
    prop_oneof![
        (
            head(),
            any::<u64>(),
            any::<u8>(),
            arb_version(),
            arb_version(),
            1u8..=128,
            any::<u8>(),
            any::<u16>(),
            any::<u16>()
        )
            .prop_map(
                |(
                    (board, seq, boot),
                    uid,
                    protocol_minor,
                    firmware,
                    hardware,
                    channels,
                    max_simultaneous,
                    pulse_max_ms,
                    event_capacity,
                )| NativeReply::Info {
                    board,
                    seq,
                    boot,
                    uid,
                    protocol_minor,
                    firmware,
                    hardware,
                    channels,
                    max_simultaneous,
                    pulse_max_ms,
                    event_capacity,
                }
            ),
        arb_status(),
        (head(), arb_lock(), any::<u16>()).prop_map(|((board, seq, boot), lock, applied_ms)| NativeReply::Unlocked {
            board,
            seq,
            boot,
            lock,
            applied_ms
        }),
        (head(), arb_set_within(128), any::<u16>(), any::<u8>()).prop_map(
            |((board, seq, boot), locks, applied_ms, max_simultaneous)| NativeReply::UnlockManyAccepted {
                board,
                seq,
                boot,
                locks,
                applied_ms,
                max_simultaneous
            }
        ),
        (head(), arb_set_within(128), any::<u16>(), any::<u8>()).prop_map(
            |((board, seq, boot), locks, applied_ms, max_simultaneous)| NativeReply::UnlockAllAccepted {
                board,
                seq,
                boot,
                locks,
                applied_ms,
                max_simultaneous
            }
        ),
        (head(), any::<bool>(), any::<bool>(), any::<u16>(), any::<u32>(), arb_batch()).prop_map(
            |((board, seq, boot), lost, more, first, now_ms, events)| NativeReply::Events {
                board,
                seq,
                boot,
                lost,
                more,
                first,
                now_ms,
                events
            }
        ),
        (head(), arb_parameter(), any::<u32>()).prop_map(|((board, seq, boot), parameter, value)| {
            NativeReply::Parameter { board, seq, boot, parameter, value }
        }),
        (head(), arb_parameter(), any::<u32>()).prop_map(|((board, seq, boot), parameter, value)| {
            NativeReply::ParameterWritten { board, seq, boot, parameter, value }
        }),
        (0u8..=254, any::<u8>(), any::<u16>(), any::<u64>())
            .prop_map(|(board, seq, boot, uid)| NativeReply::DiscoverAnswer { board, seq, boot, uid }),
        (head(), any::<u64>()).prop_map(|((board, seq, boot), uid)| NativeReply::AddressAssigned {
            board,
            seq,
            boot,
            uid
        }),
        (head(), any::<u8>(), arb_error_code(), any::<u16>()).prop_map(
            |((board, seq, boot), command, code, detail)| {
                NativeReply::Error { board, seq, boot, command, code, detail }
            }
        ),
    ]
}

/// Recomputes the CRC of a frame whose body was edited.
fn with_crc(mut frame: Vec<u8>) -> Vec<u8> {
    let n = frame.len() - 2;
    let crc = crc16_ibm_3740(&frame[..n]);
    frame[n..].copy_from_slice(&crc.to_be_bytes());
    frame
}

// ---------------------------------------------------------------------------------------------
// Round trips, streaming, robustness
// ---------------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn every_request_round_trips(request in arb_request()) {
        let bytes = encode_request(&request);
        prop_assert!(bytes.len() <= Native::MAX_FRAME_LEN);
        let decoded = Native::default().decode_request(&bytes).unwrap();
        prop_assert_eq!(decoded.message, request);
        prop_assert_eq!(decoded.len, bytes.len());
        // Any strict prefix is a valid prefix.
        for cut in 0..bytes.len() {
            prop_assert_eq!(Native::default().decode_request(&bytes[..cut]).unwrap_err(), FrameError::Incomplete);
        }
    }

    #[test]
    fn every_reply_round_trips(reply in arb_reply()) {
        let bytes = encode_reply(&reply);
        prop_assert!(bytes.len() <= Native::MAX_FRAME_LEN);
        let decoded = Native::default().decode_reply(&bytes, None).unwrap();
        prop_assert_eq!(decoded.message, reply);
        prop_assert_eq!(decoded.len, bytes.len());
        for cut in 0..bytes.len() {
            prop_assert_eq!(Native::default().decode_reply(&bytes[..cut], None).unwrap_err(), FrameError::Incomplete);
        }
    }

    /// A request and a reply never decode in the other direction (local echo, lockboards §1.3).
    #[test]
    fn directions_never_alias(request in arb_request(), reply in arb_reply()) {
        prop_assert!(Native::default().decode_reply(&encode_request(&request), None).is_err());
        prop_assert!(Native::default().decode_request(&encode_reply(&reply)).is_err());
    }

    /// Wire-exactness under edits: a body byte changed and the CRC fixed up either is refused or
    /// decodes to a message that encodes back to exactly those bytes.
    #[test]
    fn edited_frames_are_refused_or_canonical(
        request in arb_request(), reply in arb_reply(), pos in any::<prop::sample::Index>(), value in any::<u8>()
    ) {
        let native = Native::default();
        let mut bytes = encode_request(&request);
        let i = 4 + pos.index(bytes.len() - 6);
        bytes[i] = value;
        let bytes = with_crc(bytes);
        if let Ok(d) = native.decode_request(&bytes) {
            prop_assert_eq!(encode_request(&d.message), bytes);
        }
        let mut bytes = encode_reply(&reply);
        let i = 4 + pos.index(bytes.len() - 6);
        bytes[i] = value;
        let bytes = with_crc(bytes);
        if let Ok(d) = native.decode_reply(&bytes, None) {
            prop_assert_eq!(encode_reply(&d.message), bytes);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), request in arb_request()) {
        let native = Native::default();
        let _ = native.decode_request(&bytes);
        let _ = native.decode_reply(&bytes, None);
        let _ = native.decode_reply(&bytes, Some(&request));
        let _ = RawFrame::parse(&bytes);
        // The same behind a plausible header, to reach the field checks.
        let mut framed = vec![0xF9, 0xA6, 0x01];
        framed.extend_from_slice(&bytes);
        let _ = native.decode_request(&framed);
        let _ = native.decode_reply(&framed, Some(&request));
        let _ = native.decode_reply(&with_crc(framed.clone()), None);
        for direction in [Direction::Request, Direction::Reply] {
            let mut decoder = StreamDecoder::<Native>::new(native.clone(), direction);
            decoder.set_pending(Some(request));
            for chunk in framed.chunks(7) {
                decoder.feed(chunk).for_each(drop);
            }
            let _ = decoder.finish();
            let mut decoder = StreamDecoder::<Native>::new(native.clone(), direction);
            decoder.feed(&bytes).for_each(drop);
            let _ = decoder.finish();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_chunking_gives_the_same_requests(requests in proptest::collection::vec(arb_request(), 1..4)) {
        let bytes: Vec<u8> = requests.iter().flat_map(encode_request).collect();
        common::assert_any_chunking_same(&Native::default(), Direction::Request, None, &bytes);
        let (frames, rejections) = common::decode_chunked(&Native::default(), Direction::Request, None, &bytes, &[5]);
        prop_assert_eq!(rejections, 0);
        let found: Vec<_> = frames.into_iter().map(|(_, _, m)| m).collect();
        let expected: Vec<_> = requests.into_iter().map(Message::Request).collect();
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn any_chunking_gives_the_same_replies(replies in proptest::collection::vec(arb_reply(), 1..3)) {
        let bytes: Vec<u8> = replies.iter().flat_map(encode_reply).collect();
        common::assert_any_chunking_same(&Native::default(), Direction::Reply, None, &bytes);
        let (frames, _) = common::decode_chunked(&Native::default(), Direction::Reply, None, &bytes, &[3, 11]);
        prop_assert_eq!(frames.len(), replies.len());
    }

    #[test]
    fn garbage_around_a_frame_resyncs(
        garbage in proptest::collection::vec(any::<u8>(), 0..40), request in arb_request(), reply in arb_reply()
    ) {
        let native = Native::default();
        common::assert_resyncs(&native, Direction::Request, None, &garbage, &encode_request(&request));
        common::assert_resyncs(&native, Direction::Reply, None, &garbage, &encode_reply(&reply));
    }
}

#[test]
fn start_marker_lookalikes_resync() {
    // Garbage that looks like the start of a frame: the header checks refuse it early.
    let frame = encode_request(&NativeRequest::GetStatus { board: 1, seq: 1 });
    for garbage in [
        vec![0xF9],
        vec![0xF9, 0xA6],
        vec![0xF9, 0xA6, 0x01],
        vec![0xF9, 0xA6, 0x01, 0x03, 0x01, 0x10],
        vec![0xF9, 0xA6, 0x01, 0xFA, 0x01],
        vec![0xF9, 0xA6, 0x01, 0x20, 0x01, 0x10, 0x02],
        vec![0xF9, 0xF9, 0xA6, 0xA6, 0x02],
    ] {
        common::assert_resyncs(&Native::default(), Direction::Request, None, &garbage, &frame);
    }
}

#[test]
fn vendor_frames_are_never_native_frames() {
    // §2.1: every frame of every vendor dialect in the vectors file is refused, alone and in a stream.
    let native = Native::default();
    let mut stream = Vec::new();
    let mut count = 0;
    for dialect in [
        "generic_bcc_8a80",
        "kerong_cu16",
        "kerong_cu12",
        "kerong_cu48_6byte",
        "kerong_scu_f5",
        "wkly_framed_xor",
        "winnsen_90",
        "modbus_rtu_relay",
        "json_ascii_subpcb",
    ] {
        for v in common::vectors(dialect) {
            assert!(native.decode_request(&v.bytes).is_err(), "{}", v.id);
            assert!(native.decode_reply(&v.bytes, None).is_err(), "{}", v.id);
            stream.extend_from_slice(&v.bytes);
            count += 1;
        }
    }
    assert!(count > 70, "vectors not loaded");
    for direction in [Direction::Request, Direction::Reply] {
        let (frames, _) = common::decode_chunked(&native, direction, None, &stream, &[13]);
        assert!(frames.is_empty(), "{frames:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Typed refusals, checked as early as possible
// ---------------------------------------------------------------------------------------------

#[test]
fn header_bytes_are_refused_as_soon_as_they_arrive() {
    let n = Native::default();
    assert_eq!(n.decode_request(&[0x8A, 0x01]), Err(FrameError::BadStart { offset: 0, found: 0x8A }));
    assert_eq!(n.decode_request(&[0xF9, 0x00]), Err(FrameError::BadMarker { offset: 1, expected: 0xA6, found: 0 }));
    // An unknown major version is a typed refusal at byte 2, with three bytes in hand.
    assert_eq!(
        n.decode_request(&[0xF9, 0xA6, 0x02]),
        Err(FrameError::BadField { offset: 2, field: "protocol version", found: 2 })
    );
    assert_eq!(
        n.decode_reply(&[0xF9, 0xA6, 0x00], None),
        Err(FrameError::BadField { offset: 2, field: "protocol version", found: 0 })
    );
    assert!(matches!(
        n.decode_request(&[0xF9, 0xA6, 0x01, 0x02]),
        Err(FrameError::BadLength { offset: 3, found: 2, .. })
    ));
    assert!(matches!(n.decode_reply(&[0xF9, 0xA6, 0x01, 0x04], None), Err(FrameError::BadLength { found: 4, .. })));
    assert!(matches!(n.decode_request(&[0xF9, 0xA6, 0x01, 0xFB]), Err(FrameError::BadLength { found: 251, .. })));
    // CMD unknown, or of the other direction: refused at byte 6.
    let unknown = [0xF9, 0xA6, 0x01, 0x03, 0x01, 0x10, 0x7E];
    assert_eq!(n.decode_request(&unknown), Err(FrameError::UnknownCommand { offset: 6, found: 0x7E }));
    let echo = encode_request(&NativeRequest::GetInfo { board: 1, seq: 0x10 });
    assert!(matches!(n.decode_reply(&echo, None), Err(FrameError::BadLength { offset: 3, found: 3, .. })));
    let echo_with_payload = [0xF9, 0xA6, 0x01, 0x05, 0x01, 0x10, 0x01];
    assert_eq!(n.decode_reply(&echo_with_payload, None), Err(FrameError::UnknownCommand { offset: 6, found: 0x01 }));
    let reply_head = [0xF9, 0xA6, 0x01, 0x05, 0x01, 0x10, 0x81];
    assert_eq!(n.decode_request(&reply_head), Err(FrameError::UnknownCommand { offset: 6, found: 0x81 }));
    // LEN that does not fit CMD, before the payload arrives.
    assert!(matches!(
        n.decode_request(&[0xF9, 0xA6, 0x01, 0x04, 0x01, 0x10, 0x01]),
        Err(FrameError::BadLength { offset: 3, found: 4, .. })
    ));
    // The broadcast address is for discovery only, and discovery only uses it.
    assert_eq!(
        n.decode_request(&[0xF9, 0xA6, 0x01, 0x03, 0xFF, 0x10, 0x01]),
        Err(FrameError::BadField { offset: 4, field: "board", found: 0xFF })
    );
    assert_eq!(
        n.decode_request(&[0xF9, 0xA6, 0x01, 0x03, 0x00, 0x10, 0x02]),
        Err(FrameError::BadField { offset: 4, field: "board", found: 0x00 })
    );
    assert_eq!(
        n.decode_request(&[0xF9, 0xA6, 0x01, 0x03, 0x01, 0x20, 0x10]),
        Err(FrameError::BadField { offset: 4, field: "board", found: 0x01 })
    );
    // Variable lengths are checked when their count byte is in: a status of 0 channels, 30 events.
    assert_eq!(
        n.decode_reply(&[0xF9, 0xA6, 0x01, 0x06, 0x01, 0x11, 0x82, 0x3A, 0x7C, 0x00], None),
        Err(FrameError::BadField { offset: 9, field: "channels", found: 0 })
    );
    let events_head = [0xF9, 0xA6, 0x01, 0xFA, 0x01, 0x14, 0x86, 0x3A, 0x7C, 0x00, 0x00, 0x41, 0, 0, 0, 0, 30];
    assert_eq!(
        n.decode_reply(&events_head, None),
        Err(FrameError::BadField { offset: 16, field: "event count", found: 30 })
    );
    // UnlockMany with an impossible bitmap length, before the bitmap.
    let many = [0xF9, 0xA6, 0x01, 0x0A, 0x01, 0x13, 0x04, 0x3A, 0x7C, 0x01, 0xF4, 0x11];
    assert_eq!(n.decode_request(&many), Err(FrameError::BadField { offset: 11, field: "bitmap length", found: 0x11 }));
}

#[test]
fn bad_crc_and_bad_fields_are_typed() {
    let n = Native::default();
    let mut frame = encode_request(&NativeRequest::GetInfo { board: 1, seq: 0x10 });
    frame[8] ^= 0x01;
    assert_eq!(n.decode_request(&frame), Err(FrameError::BadChecksum { offset: 7, expected: 0x8CBC, found: 0x8CBD }));
    // A byte flipped in the body is caught by the CRC.
    let mut frame = encode_request(&NativeRequest::GetInfo { board: 1, seq: 0x10 });
    frame[5] ^= 0x40;
    assert!(matches!(n.decode_request(&frame), Err(FrameError::BadChecksum { .. })));
    // Lock 0 in an unlock.
    let unlock = encode_request(&NativeRequest::Unlock { board: 1, seq: 1, boot: 0, lock: lock(3), pulse_ms: 1 });
    let mut bad = unlock.clone();
    bad[9] = 0;
    assert_eq!(n.decode_request(&with_crc(bad)), Err(FrameError::BadField { offset: 9, field: "lock", found: 0 }));
    // A status bit past the channel count (24 channels, bit of lock 25 is not in any byte; use 20).
    let status = example_replies()["status"];
    let NativeReply::Status { .. } = status else { unreachable!() };
    let mut bytes = encode_reply(&NativeReply::Status {
        board: 1,
        seq: 1,
        boot: 1,
        channels: 20,
        lock_active: LockSet::EMPTY,
        lock_absent: LockSet::EMPTY,
        door_open: LockSet::EMPTY,
        door_absent: LockSet::EMPTY,
        occupied: LockSet::EMPTY,
        presence_absent: LockSet::EMPTY,
        pulsing: LockSet::EMPTY,
        faulted: LockSet::EMPTY,
    });
    bytes[12] = 0x10; // lock 21 in the first bitmap's third byte
    assert_eq!(
        n.decode_reply(&with_crc(bytes), None),
        Err(FrameError::BadField { offset: 12, field: "bits past the last channel", found: 0x10 })
    );
    // A non-shortest lock bitmap.
    let many = encode_request(&NativeRequest::UnlockMany { board: 1, seq: 1, boot: 0, locks: set(&[1]), pulse_ms: 5 });
    let mut long = many[..many.len() - 2].to_vec();
    long[3] += 1;
    long[11] = 2;
    long.extend_from_slice(&[0x00, 0, 0]);
    assert_eq!(n.decode_request(&with_crc(long)), Err(FrameError::BadField { offset: 13, field: "locks", found: 0 }));
    // Event flags with an unknown bit; a boolean event value that is not 0 or 1.
    let events = encode_reply(&example_replies()["events"]);
    let mut flags = events.clone();
    flags[9] = 0x04;
    assert_eq!(
        n.decode_reply(&with_crc(flags), None),
        Err(FrameError::BadField { offset: 9, field: "event flags", found: 4 })
    );
    let mut door = events.clone();
    door[27] = 0x01; // value of DoorOpened
    assert!(matches!(
        n.decode_reply(&with_crc(door), None),
        Err(FrameError::BadField { field: "door event value", .. })
    ));
    // Discover with lo > hi, 0 slots.
    let discover = encode_request(&example_requests()["discover"]);
    let mut swapped = discover.clone();
    swapped[10..18].copy_from_slice(&[0xFF; 8]);
    swapped[18..26].copy_from_slice(&[0x00; 8]);
    assert!(matches!(n.decode_request(&with_crc(swapped)), Err(FrameError::BadField { offset: 18, .. })));
    let mut no_slots = discover;
    no_slots[8] = 0;
    assert_eq!(
        n.decode_request(&with_crc(no_slots)),
        Err(FrameError::BadField { offset: 8, field: "slots", found: 0 })
    );
}

#[test]
fn replies_must_echo_the_pending_request() {
    let n = Native::default();
    let requests = example_requests();
    let unlocked = encode_reply(&example_replies()["unlocked"]);
    let unlock = requests["unlock"];
    assert!(n.decode_reply(&unlocked, Some(&unlock)).is_ok());
    assert_eq!(
        n.decode_reply(&unlocked, Some(&unlock.with_seq(0x13))),
        Err(FrameError::Mismatch { offset: 5, field: "seq", expected: 0x13, found: 0x12 })
    );
    let other_board = NativeRequest::Unlock { board: 2, seq: 0x12, boot: BOOT, lock: lock(3), pulse_ms: 1500 };
    assert_eq!(
        n.decode_reply(&unlocked, Some(&other_board)),
        Err(FrameError::Mismatch { offset: 4, field: "board", expected: 2, found: 1 })
    );
    let status = NativeRequest::GetStatus { board: 1, seq: 0x12 };
    assert_eq!(
        n.decode_reply(&unlocked, Some(&status)),
        Err(FrameError::Mismatch { offset: 6, field: "command", expected: 0x82, found: 0x83 })
    );
    // An error reply must name the refused command.
    let fault = encode_reply(&example_replies()["error-channel-fault"]);
    assert!(n.decode_reply(&fault, Some(&unlock)).is_ok());
    assert!(matches!(
        n.decode_reply(&fault, Some(&status)),
        Err(FrameError::Mismatch { field: "refused command", expected: 0x02, found: 0x03, .. })
    ));
    // Discovery: the answer's uid must lie in the range; AddressAssigned echoes uid and address.
    let answer = encode_reply(&example_replies()["discover-answer"]);
    let narrow = NativeRequest::Discover { seq: 0x21, scope: DiscoverScope::All, slots: 1, slot_ms: 1, lo: 0, hi: 5 };
    assert!(matches!(n.decode_reply(&answer, Some(&narrow)), Err(FrameError::Mismatch { .. })));
    let assigned = encode_reply(&example_replies()["address-assigned"]);
    let wrong_uid = NativeRequest::AssignAddress { seq: 0x22, uid: UID + 1, address: 1 };
    assert!(matches!(n.decode_reply(&assigned, Some(&wrong_uid)), Err(FrameError::Mismatch { field: "uid", .. })));
    let wrong_address = NativeRequest::AssignAddress { seq: 0x22, uid: UID, address: 9 };
    assert!(matches!(
        n.decode_reply(&assigned, Some(&wrong_address)),
        Err(FrameError::Mismatch { field: "board", .. })
    ));
    // DiscoveryReset draws no reply at all.
    let reset = NativeRequest::DiscoveryReset { seq: 0x22 };
    assert!(matches!(n.decode_reply(&assigned, Some(&reset)), Err(FrameError::Mismatch { .. })));
}

#[test]
fn unencodable_messages_are_refused() {
    let n = Native::default();
    let mut buf = [0u8; 256];
    let bad_board = NativeRequest::GetInfo { board: 0xFF, seq: 0 };
    assert!(matches!(n.encode_request(&bad_board, &mut buf), Err(lockproto::EncodeError::OutOfRange { .. })));
    let empty = NativeRequest::UnlockMany { board: 1, seq: 0, boot: 0, locks: LockSet::EMPTY, pulse_ms: 1 };
    assert!(matches!(
        n.encode_request(&empty, &mut buf),
        Err(lockproto::EncodeError::OutOfRange { field: "locks", .. })
    ));
    let shadow = NativeRequest::ReadParameter { board: 1, seq: 0, parameter: ParameterCode::Unknown { code: 1 } };
    assert!(matches!(n.encode_request(&shadow, &mut buf), Err(lockproto::EncodeError::OutOfRange { .. })));
    let shadow =
        NativeReply::Error { board: 1, seq: 0, boot: 1, command: 3, code: ErrorCode::Unknown { code: 6 }, detail: 0 };
    assert!(matches!(n.encode_reply(&shadow, &mut buf), Err(lockproto::EncodeError::OutOfRange { .. })));
    let Some(NativeReply::Status { .. }) = Some(example_replies()["status"]) else { unreachable!() };
    let mut status = example_replies()["status"];
    if let NativeReply::Status { ref mut faulted, .. } = status {
        faulted.insert(lock(30));
    }
    assert!(matches!(n.encode_reply(&status, &mut buf), Err(lockproto::EncodeError::OutOfRange { .. })));
    let mut small = [0u8; 8];
    assert_eq!(
        n.encode_request(&NativeRequest::GetInfo { board: 1, seq: 0 }, &mut small),
        Err(lockproto::EncodeError::BufferTooSmall { needed: 9 })
    );
}

// ---------------------------------------------------------------------------------------------
// A board built from the crate's board-side parts (§5.2-§5.5), to test their rules together.
// ---------------------------------------------------------------------------------------------

struct Board<const C: usize> {
    native: Native,
    address: u8,
    uid: u64,
    channels: u8,
    pulse_max_ms: u16,
    cache: ReplyCache<C>,
    log: EventLog<64>,
    pulses: BTreeMap<u8, u32>,
    faulted: LockSet,
    now_ms: u32,
}

impl<const C: usize> Board<C> {
    fn boot(boot: u16) -> Self {
        let mut log = EventLog::new();
        log.push(EventKind::Boot { cause: ResetCause::PowerOn }, 0);
        Board {
            native: Native { boot, channels: 24, ..Native::default() },
            address: 1,
            uid: UID,
            channels: 24,
            pulse_max_ms: 1000,
            cache: ReplyCache::new(lockproto::native::cache::DEFAULT_MAX_AGE_MS),
            log,
            pulses: BTreeMap::new(),
            faulted: LockSet::EMPTY,
            now_ms: 0,
        }
    }

    fn pulses(&self, n: u8) -> u32 {
        self.pulses.get(&n).copied().unwrap_or(0)
    }

    /// One received frame in, the reply bytes out.
    fn receive(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        let raw = RawFrame::parse(frame).ok()?.message;
        if raw.board != self.address && raw.board != BROADCAST {
            return None;
        }
        let unicast = raw.board != BROADCAST;
        let request = raw.command & 0x80 == 0;
        if unicast
            && request
            && let Some(cached) = self.cache.lookup(raw.key(), self.now_ms)
        {
            return Some(cached.to_vec());
        }
        let reply = match self.native.decode_request(frame) {
            Ok(d) => self.execute(&d.message)?,
            Err(e) => self.native.refusal(&raw, &e, self.address)?,
        };
        let mut buf = [0u8; 256];
        let len = self.native.encode_reply(&reply, &mut buf).unwrap();
        if unicast {
            self.cache.store(raw.key(), &buf[..len], self.now_ms).unwrap();
        }
        Some(buf[..len].to_vec())
    }

    fn error(&self, request: &NativeRequest, code: ErrorCode, detail: u16) -> NativeReply {
        let (board, seq, boot) = (self.address, request.seq(), self.native.boot);
        NativeReply::Error { board, seq, boot, command: request.command_code(), code, detail }
    }

    fn execute(&mut self, request: &NativeRequest) -> Option<NativeReply> {
        let (board, boot) = (self.address, self.native.boot);
        Some(match *request {
            NativeRequest::Unlock { boot: expected, .. } if expected != 0 && expected != boot => {
                self.error(request, ErrorCode::BootMismatch, 0)
            }
            NativeRequest::Unlock { lock, .. } if lock.get() > self.channels => {
                self.error(request, ErrorCode::BadArgument, 9)
            }
            NativeRequest::Unlock { lock, .. } if self.faulted.contains(lock) => {
                self.error(request, ErrorCode::ChannelFault, lock.get().into())
            }
            NativeRequest::Unlock { seq, lock, pulse_ms, .. } => {
                let applied_ms = pulse_ms.min(self.pulse_max_ms);
                *self.pulses.entry(lock.get()).or_default() += 1;
                self.log.push(EventKind::PulseStarted { lock, applied_ms }, self.now_ms);
                NativeReply::Unlocked { board, seq, boot, lock, applied_ms }
            }
            NativeRequest::ReadEvents { seq, cursor, max, .. } => {
                self.log.reply(board, seq, boot, cursor, max, self.now_ms)
            }
            NativeRequest::GetInfo { seq, .. } => NativeReply::Info {
                board,
                seq,
                boot,
                uid: self.uid,
                protocol_minor: 0,
                firmware: Version { major: 1, minor: 2 },
                hardware: Version { major: 1, minor: 0 },
                channels: self.channels,
                max_simultaneous: 2,
                pulse_max_ms: self.pulse_max_ms,
                event_capacity: 64,
            },
            _ => {
                let (_, command) = self.native.command(request)?;
                let response = match command {
                    Command::QueryAll => Response::Status(BoardStatus {
                        locks: ChannelBits::from_bitmap(self.channels, LockSet::EMPTY),
                        doors: None,
                        presence: None,
                    }),
                    _ => return None,
                };
                self.native.reply(board, request, &response).ok()?
            }
        })
    }
}

fn unlock_frame(seq: u8, boot: u16, n: u8) -> Vec<u8> {
    encode_request(&NativeRequest::Unlock { board: 1, seq, boot, lock: lock(n), pulse_ms: 1500 })
}

fn status_frame(seq: u8) -> Vec<u8> {
    encode_request(&NativeRequest::GetStatus { board: 1, seq })
}

#[test]
fn a_retry_is_answered_from_the_cache_and_does_not_pulse_again() {
    let mut board = Board::<2>::boot(BOOT);
    let request = unlock_frame(0x12, BOOT, 3);
    let first = board.receive(&request).unwrap();
    // The reply of PROTOCOL.md §7.3, with the clamp applied.
    assert_eq!(first, encode_reply(&example_replies()["unlocked"]));
    assert_eq!(board.pulses(3), 1);
    // The reply was lost; the master sends the identical frame again.
    board.now_ms += 180;
    let retry = board.receive(&request).unwrap();
    assert_eq!(retry, first, "a retry gets the cached bytes");
    board.now_ms += 180;
    assert_eq!(board.receive(&request).unwrap(), first);
    assert_eq!(board.pulses(3), 1, "the lock pulsed once");
    // A new sequence number is a new request: it pulses again.
    let again = board.receive(&unlock_frame(0x13, BOOT, 3)).unwrap();
    assert_ne!(again, first);
    assert_eq!(board.pulses(3), 2);
}

#[test]
fn a_reused_sequence_number_with_other_content_is_a_new_request() {
    let mut board = Board::<2>::boot(BOOT);
    board.receive(&unlock_frame(0x40, BOOT, 3)).unwrap();
    // Same SEQ, another lock: the CRC in the key differs.
    let other = board.receive(&unlock_frame(0x40, BOOT, 4)).unwrap();
    assert_eq!(board.pulses(4), 1);
    let decoded = Native::default().decode_reply(&other, None).unwrap().message;
    assert!(matches!(decoded, NativeReply::Unlocked { lock: l, .. } if l == lock(4)));
    // The entry of SEQ 0x40 now answers for lock 4 only: the lock-3 frame executes again.
    board.receive(&unlock_frame(0x40, BOOT, 3)).unwrap();
    assert_eq!(board.pulses(3), 2);
}

#[test]
fn cache_entries_expire_and_are_evicted_oldest_first() {
    let mut board = Board::<2>::boot(BOOT);
    let a = unlock_frame(1, BOOT, 1);
    board.receive(&a).unwrap();
    board.receive(&status_frame(2)).unwrap();
    // Two entries: A is still answered after another request in between.
    board.receive(&a).unwrap();
    assert_eq!(board.pulses(1), 1);
    // A third request evicts the oldest entry (A).
    board.receive(&status_frame(3)).unwrap();
    board.receive(&a).unwrap();
    assert_eq!(board.pulses(1), 2, "evicted: executed again");
    // Past the maximum age a frame is new again.
    let b = unlock_frame(4, BOOT, 2);
    board.receive(&b).unwrap();
    board.now_ms += lockproto::native::cache::DEFAULT_MAX_AGE_MS + 1;
    assert_eq!(board.cache.live(board.now_ms), 0);
    board.receive(&b).unwrap();
    assert_eq!(board.pulses(2), 2);
}

#[test]
fn sequence_numbers_wrap_without_stale_hits() {
    // §5.2 rule 4: the master counts per board; after 256 requests SEQ comes round again, and the
    // old entry is long gone (a 2-entry cache keeps the last 2 requests).
    let mut board = Board::<2>::boot(BOOT);
    let unlock = unlock_frame(0xFE, BOOT, 5);
    board.receive(&unlock).unwrap();
    let mut seq = 0xFEu8;
    for _ in 0..255 {
        seq = seq.wrapping_add(1);
        board.receive(&status_frame(seq)).unwrap();
        board.now_ms += 1;
    }
    assert_eq!(seq.wrapping_add(1), 0xFE);
    board.receive(&unlock).unwrap();
    assert_eq!(board.pulses(5), 2, "the identical frame a full cycle later is a new request");
}

#[test]
fn error_replies_are_cached_and_broadcasts_are_not() {
    let mut board = Board::<2>::boot(BOOT);
    board.faulted.insert(lock(3));
    let refused = board.receive(&unlock_frame(9, BOOT, 3)).unwrap();
    assert_eq!(refused, encode_reply(&example_replies()["error-channel-fault"].clone_with_seq(9)));
    // The fault is cleared, but a retry of the refused request gets the same answer.
    board.faulted = LockSet::EMPTY;
    assert_eq!(board.receive(&unlock_frame(9, BOOT, 3)).unwrap(), refused);
    assert_eq!(board.pulses(3), 0);
    // Lock 30 of a 24-channel board: BadArgument (detail: frame offset of LOCK).
    let bad = board.receive(&unlock_frame(10, BOOT, 30)).unwrap();
    let decoded = Native::default().decode_reply(&bad, None).unwrap().message;
    assert!(matches!(decoded, NativeReply::Error { code: ErrorCode::BadArgument, detail: 9, .. }));
    // Unknown command from a newer master: answered with UnknownCommand.
    let unknown = with_crc(vec![0xF9, 0xA6, 0x01, 0x03, 0x01, 0x0B, 0x7E, 0, 0]);
    let reply = Native::default().decode_reply(&board.receive(&unknown).unwrap(), None).unwrap().message;
    assert!(matches!(reply, NativeReply::Error { code: ErrorCode::UnknownCommand, command: 0x7E, seq: 0x0B, .. }));
    assert_eq!(board.cache.live(board.now_ms), 2);
}

trait WithSeq {
    fn clone_with_seq(&self, seq: u8) -> NativeReply;
}

impl WithSeq for NativeReply {
    fn clone_with_seq(&self, new: u8) -> NativeReply {
        let mut reply = *self;
        if let NativeReply::Error { seq, .. } = &mut reply {
            *seq = new;
        }
        reply
    }
}

#[test]
fn a_retry_after_a_reboot_is_refused_not_replayed() {
    let mut board = Board::<2>::boot(BOOT);
    let request = unlock_frame(0x12, BOOT, 3);
    board.receive(&request).unwrap();
    assert_eq!(board.pulses(3), 1);
    // Brown-out during the pulse (domain F14): the board restarts with a new boot id and an empty cache.
    let mut rebooted = Board::<2>::boot(0x9E01);
    let reply = rebooted.receive(&request).unwrap();
    assert_eq!(reply, encode_reply(&example_replies()["error-boot-mismatch"]));
    assert_eq!(rebooted.pulses(3), 0, "an interrupted open is never replayed");
    // The master notices the new boot id, reads, and then unlocks with the new id.
    let info = Native::default().decode_reply(
        &rebooted.receive(&encode_request(&NativeRequest::GetInfo { board: 1, seq: 0x13 })).unwrap(),
        None,
    );
    assert_eq!(info.unwrap().message.boot(), 0x9E01);
    rebooted.receive(&unlock_frame(0x14, 0x9E01, 3)).unwrap();
    assert_eq!(rebooted.pulses(3), 1);
}

#[test]
fn a_board_refuses_another_major_version_in_its_own() {
    let mut board = Board::<1>::boot(BOOT);
    let v2 = with_crc(vec![0xF9, 0xA6, 0x02, 0x03, 0x01, 0x30, 0x01, 0, 0]);
    assert_eq!(board.receive(&v2).unwrap(), encode_reply(&example_replies()["error-unsupported-version"]));
    // Not for this board, or a broadcast: silence.
    let other = with_crc(vec![0xF9, 0xA6, 0x02, 0x03, 0x07, 0x30, 0x01, 0, 0]);
    assert!(board.receive(&other).is_none());
    let raw = RawFrame::parse(&other).unwrap().message;
    let err = Native::default().decode_request(&other).unwrap_err();
    assert!(Native::default().refusal(&raw, &err, 7).is_some());
    assert!(Native::default().refusal(&raw, &FrameError::Incomplete, 1).is_none());
    // A bad CRC is never answered.
    let mut broken = v2.clone();
    broken[8] ^= 1;
    assert!(board.receive(&broken).is_none());
    assert_eq!(RequestKey::of_frame(&v2).unwrap(), RequestKey { seq: 0x30, crc: 0x6488 });
}

// ---------------------------------------------------------------------------------------------
// Event log (§5.3)
// ---------------------------------------------------------------------------------------------

fn door(n: u8, open: bool) -> EventKind {
    if open { EventKind::DoorOpened { lock: lock(n) } } else { EventKind::DoorClosed { lock: lock(n) } }
}

#[test]
fn an_open_and_close_between_polls_is_read_in_order() {
    let mut log = EventLog::<16>::new();
    assert_eq!(log.push(EventKind::Boot { cause: ResetCause::PowerOn }, 0), 0);
    let mut cursor = 0;
    let read = log.read(cursor, 0);
    assert!(!read.lost && !read.more);
    assert_eq!(read.events.len(), 1);
    cursor = read.next_cursor();
    // Nothing new: empty, not lost.
    let read = log.read(cursor, 0);
    assert!(read.events.is_empty() && !read.lost && !read.more);
    assert_eq!(read.first, 1);
    log.push(door(3, true), 100);
    log.push(door(3, false), 400);
    let read = log.read(cursor, 0);
    let kinds: Vec<_> = read.events.numbered(read.first).map(|(n, e)| (n, e.kind, e.time_ms)).collect();
    assert_eq!(kinds, [(1, door(3, true), 100), (2, door(3, false), 400)]);
    assert_eq!(read.next_cursor(), 3);
    assert_eq!(log.get(2).unwrap().kind, door(3, false));
    assert!(log.get(3).is_none());
}

#[test]
fn overflow_sets_lost_and_restarts_at_the_oldest_event() {
    let mut log = EventLog::<4>::new();
    for i in 0..10u8 {
        log.push(door(1 + i % 4, i % 2 == 0), u32::from(i));
    }
    assert_eq!((log.oldest_number(), log.next_number(), log.len()), (6, 10, 4));
    // Cursor 2 fell out of the ring: events 2..6 are gone.
    let read = log.read(2, 0);
    assert!(read.lost);
    assert_eq!(read.first, 6);
    assert_eq!(read.events.len(), 4);
    assert_eq!(read.events.as_slice()[0].time_ms, 6);
    assert_eq!(read.next_cursor(), 10);
    // The oldest kept event is a current cursor.
    let read = log.read(6, 0);
    assert!(!read.lost);
    assert_eq!(read.events.len(), 4);
    // A cursor from the future (another boot) is not current either.
    let read = log.read(200, 0);
    assert!(read.lost);
    assert_eq!(read.first, 6);
    assert!(log.get(5).is_none());
}

#[test]
fn large_backlogs_are_paged_with_more() {
    let mut log = EventLog::<64>::new();
    for i in 0..40u32 {
        log.push(EventKind::LockInput { lock: lock(1), active: i % 2 == 1 }, i);
    }
    let read = log.read(0, 0);
    assert_eq!(read.events.len(), MAX_EVENTS_PER_REPLY);
    assert!(read.more && !read.lost);
    let rest = log.read(read.next_cursor(), 0);
    assert_eq!(rest.events.len(), 40 - MAX_EVENTS_PER_REPLY);
    assert!(!rest.more);
    // MAX limits the batch.
    let few = log.read(5, 3);
    assert_eq!(few.events.len(), 3);
    assert!(few.more);
    assert_eq!(few.next_cursor(), 8);
    // A full batch fits a frame.
    let reply = log.reply(1, 1, BOOT, 0, 0, 40);
    let bytes = encode_reply(&reply);
    assert_eq!(bytes.len(), 251);
    assert_eq!(Native::default().decode_reply(&bytes, None).unwrap().message, reply);
}

fn logged_event(n: u16) -> EventKind {
    let l = lock(1 + (n % 24) as u8);
    match n % 5 {
        0 => door(1 + (n % 24) as u8, n.is_multiple_of(2)),
        1 => EventKind::PulseStarted { lock: l, applied_ms: n },
        2 => EventKind::PulseEnded { lock: l, end: PulseEnd::Completed },
        3 => EventKind::Presence { lock: l, occupied: n.is_multiple_of(3) },
        _ => EventKind::Fault { lock: Some(l), fault: FaultCode::Jam },
    }
}

proptest! {
    /// A board encodes its events reply straight from the ring (no 29-event reply value on its
    /// stack); the bytes are those of encoding `EventLog::reply`, whatever the ring's wrap, the
    /// cursor, `max` and the room in the buffer.
    #[test]
    fn events_encoded_from_the_log_equal_the_encoded_reply(
        pushed in 0u16..200,
        behind in prop_oneof![0u16..12, any::<u16>()],
        max in 0u8..35,
        room in prop_oneof![Just(300usize), 0usize..300],
        board in 0u8..=255,
    ) {
        let mut log = EventLog::<11>::new();
        for n in 0..pushed {
            log.push(logged_event(n), u32::from(n) * 10);
        }
        let cursor = log.next_number().wrapping_sub(behind);
        let (seq, boot, now) = (0x42, 0x0203, 123_456);
        let mut direct = vec![0u8; room];
        let direct = log.encode_reply(board, seq, boot, cursor, max, now, &mut direct).map(|n| direct[..n].to_vec());
        let mut via_reply = vec![0u8; room];
        let reply = log.reply(board, seq, boot, cursor, max, now);
        let via_reply = Native::default().encode_reply(&reply, &mut via_reply).map(|n| via_reply[..n].to_vec());
        prop_assert_eq!(&direct, &via_reply);
        if let Ok(bytes) = direct {
            let decoded = Native::default().decode_reply(&bytes, None).unwrap();
            prop_assert_eq!(decoded.message, reply);
        }
    }
}

#[test]
fn event_numbers_wrap_around() {
    let mut log = EventLog::<8>::new();
    for i in 0..65_534u32 {
        log.push(EventKind::Presence { lock: lock(2), occupied: i % 2 == 0 }, i);
    }
    assert_eq!(log.next_number(), 65_534);
    let cursor = 65_533;
    for i in 0..4u32 {
        log.push(door(7, i % 2 == 0), 100_000 + i);
    }
    assert_eq!(log.next_number(), 2);
    let read = log.read(cursor, 0);
    assert!(!read.lost);
    let numbers: Vec<u16> = read.events.numbered(read.first).map(|(n, _)| n).collect();
    assert_eq!(numbers, [65_533, 65_534, 65_535, 0, 1]);
    assert_eq!(read.next_cursor(), 2);
    assert_eq!(log.get(65_535).unwrap().time_ms, 100_001);
    assert_eq!(log.get(0).unwrap().time_ms, 100_002);
    // A cursor just behind the ring, across the wrap, is lost.
    let read = log.read(65_525, 0);
    assert!(read.lost);
    assert_eq!(read.first, 65_530);
    // Far more than 65536 events: the numbering goes on.
    for i in 0..70_000u32 {
        log.push(EventKind::Presence { lock: lock(2), occupied: false }, i);
    }
    assert_eq!(log.next_number(), ((2 + 70_000) % 65_536) as u16);
    assert!(!log.read(log.next_number().wrapping_sub(8), 0).lost);
    assert!(log.read(log.next_number().wrapping_sub(9), 0).lost);
}

#[test]
fn the_master_follows_the_board_log_through_the_protocol() {
    let mut board = Board::<2>::boot(BOOT);
    let mut cursor = 0u16;
    let mut seen = Vec::new();
    let mut seq = 0u8;
    let mut read = |board: &mut Board<2>, cursor: &mut u16, seen: &mut Vec<EventKind>| loop {
        seq = seq.wrapping_add(1);
        let request = NativeRequest::ReadEvents { board: 1, seq, cursor: *cursor, max: 0 };
        let bytes = board.receive(&encode_request(&request)).unwrap();
        let NativeReply::Events { lost, more, first, events, .. } =
            Native::default().decode_reply(&bytes, Some(&request)).unwrap().message
        else {
            panic!("not events")
        };
        assert!(!lost);
        seen.extend(events.as_slice().iter().map(|e| e.kind));
        *cursor = first.wrapping_add(events.len() as u16);
        if !more {
            break;
        }
    };
    read(&mut board, &mut cursor, &mut seen);
    for i in 0..45u8 {
        board.log.push(door(1 + i % 8, i % 2 == 0), u32::from(i) * 10);
    }
    read(&mut board, &mut cursor, &mut seen);
    assert_eq!(seen.len(), 46);
    assert_eq!(seen[0], EventKind::Boot { cause: ResetCause::PowerOn });
    assert_eq!(seen[45], door(1 + 44 % 8, true));
}

// ---------------------------------------------------------------------------------------------
// Discovery (§5.6)
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so simulations are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }
}

#[derive(Debug, Clone)]
struct SimBoard {
    uid: u64,
    address: u8,
    muted: bool,
    /// A broken board that never mutes.
    mutes: bool,
}

fn sim_boards(rng: &mut Rng, n: usize) -> Vec<SimBoard> {
    let mut uids = BTreeSet::new();
    while uids.len() < n {
        uids.insert(rng.next());
    }
    uids.into_iter().map(|uid| SimBoard { uid, address: 0, muted: false, mutes: true }).collect()
}

struct Bus {
    /// Probability that boards answering in the same slot produce one clean frame (capture effect).
    capture: f64,
    /// Probability that noise garbles what the master hears.
    garble: f64,
    /// Probability that one board's answer (or its reception of a request) is lost entirely.
    loss: f64,
}

impl Bus {
    const CLEAN: Bus = Bus { capture: 0.0, garble: 0.0, loss: 0.0 };

    /// What the master hears after `request`, abstractly.
    fn outcome(&self, request: &NativeRequest, boards: &mut [SimBoard], rng: &mut Rng) -> DiscoveryOutcome {
        let heard = match *request {
            NativeRequest::DiscoveryReset { .. } => {
                boards.iter_mut().for_each(|b| b.muted = false);
                return DiscoveryOutcome::Silence;
            }
            NativeRequest::Discover { slots, .. } => {
                // Each answer is lost on its own (a board that missed the request, a dead line).
                let responders: Vec<&SimBoard> = boards
                    .iter()
                    .filter(|b| {
                        lockproto::native::discovery::discover_answer_delay(request, b.uid, b.address, b.muted)
                            .is_some()
                    })
                    .filter(|_| !rng.chance(self.loss))
                    .collect();
                match responders.as_slice() {
                    [] => DiscoveryOutcome::Silence,
                    [one] => DiscoveryOutcome::Reply { uid: one.uid, address: one.address },
                    many => {
                        let first_slot = slot_of(many[0].uid, slots);
                        let one_slot = many.iter().all(|b| slot_of(b.uid, slots) == first_slot);
                        if one_slot && rng.chance(self.capture) {
                            let winner = many[(rng.next() % many.len() as u64) as usize];
                            DiscoveryOutcome::Reply { uid: winner.uid, address: winner.address }
                        } else {
                            DiscoveryOutcome::Collision
                        }
                    }
                }
            }
            NativeRequest::AssignAddress { uid, address, .. } => match boards.iter_mut().find(|b| b.uid == uid) {
                Some(board) if !rng.chance(self.loss) => {
                    board.address = address;
                    board.muted = board.mutes;
                    if rng.chance(self.loss) {
                        // The board took the address, but its answer was lost.
                        DiscoveryOutcome::Silence
                    } else {
                        DiscoveryOutcome::Reply { uid, address }
                    }
                }
                _ => DiscoveryOutcome::Silence,
            },
            _ => unreachable!("discovery sends only discovery requests"),
        };
        if rng.chance(self.garble) { DiscoveryOutcome::Collision } else { heard }
    }
}

fn run_discovery(config: DiscoveryConfig, boards: &mut [SimBoard], bus: &Bus, rng: &mut Rng) -> Discovery<256> {
    let mut discovery = Discovery::<256>::new(config);
    let mut last_seq = None;
    while let Some(request) = discovery.next_request() {
        assert_eq!(discovery.next_request(), Some(request), "next_request is stable until an outcome");
        assert_ne!(Some(request.seq()), last_seq, "every request has a new SEQ");
        last_seq = Some(request.seq());
        assert_eq!(discovery.expects_reply(), !matches!(request, NativeRequest::DiscoveryReset { .. }));
        // Every request the machine produces is a valid frame.
        let bytes = encode_request(&request);
        assert_eq!(Native::default().decode_request(&bytes).unwrap().message, request);
        let outcome = bus.outcome(&request, boards, rng);
        discovery.on_outcome(outcome);
    }
    discovery
}

fn assert_all_found(discovery: &Discovery<256>, boards: &[SimBoard]) {
    assert_eq!(discovery.end(), Some(DiscoveryEnd::Complete));
    assert_eq!(discovery.unresolved(), 0);
    assert!(discovery.given_up().is_empty());
    let found: BTreeMap<u64, u8> = discovery.found().iter().map(|b| (b.uid, b.address)).collect();
    assert_eq!(found.len(), boards.len(), "every board found once");
    let addresses: BTreeSet<u8> = found.values().copied().collect();
    assert_eq!(addresses.len(), boards.len(), "addresses are unique");
    for board in boards {
        assert_eq!(found.get(&board.uid), Some(&board.address), "board {:016X} holds its address", board.uid);
        assert!(board.muted);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// N boards with random uids, some sharing slots, with capture effect: all are found, each
    /// has its own address, nothing is left unresolved.
    #[test]
    fn discovery_finds_every_board(seed in 1u64.., n in 0usize..40, slots in 1u8..=8, capture in 0.0f64..1.0) {
        let mut rng = Rng(seed);
        let mut boards = sim_boards(&mut rng, n);
        let config = DiscoveryConfig { slots, ..DiscoveryConfig::default() };
        let bus = Bus { capture, ..Bus::CLEAN };
        let discovery = run_discovery(config, &mut boards, &bus, &mut rng);
        assert_all_found(&discovery, &boards);
    }

    /// Noise that garbles answers (or makes noise on a silent bus) only costs requests.
    #[test]
    fn discovery_survives_garbling_noise(seed in 1u64.., n in 1usize..20) {
        let mut rng = Rng(seed);
        let mut boards = sim_boards(&mut rng, n);
        let bus = Bus { capture: 0.5, garble: 0.05, loss: 0.0 };
        let config = DiscoveryConfig { retries: 4, ..DiscoveryConfig::default() };
        let discovery = run_discovery(config, &mut boards, &bus, &mut rng);
        assert_all_found(&discovery, &boards);
    }
}

#[test]
fn discovery_of_neighbouring_uids_splits_to_single_uids() {
    let mut rng = Rng(7);
    let mut boards: Vec<SimBoard> = [0x8000_0000_0000_0000u64, 0x8000_0000_0000_0001, u64::MAX, 0]
        .into_iter()
        .map(|uid| SimBoard { uid, address: 0, muted: false, mutes: true })
        .collect();
    let config = DiscoveryConfig { slots: 1, ..DiscoveryConfig::default() };
    let discovery = run_discovery(config, &mut boards, &Bus::CLEAN, &mut rng);
    assert_all_found(&discovery, &boards);
    // Reset, the 64-level descent to separate the two neighbours, and the silent final pass.
    assert!(discovery.requests() > 64 && discovery.requests() < 400, "{}", discovery.requests());
}

#[test]
fn lost_answers_are_caught_by_the_final_passes() {
    let mut given_up = 0;
    for seed in 1..=1000u64 {
        let mut rng = Rng(seed);
        let mut boards = sim_boards(&mut rng, 12);
        let bus = Bus { capture: 0.3, garble: 0.05, loss: 0.1 };
        let config = DiscoveryConfig { retries: 4, final_checks: 4, ..DiscoveryConfig::default() };
        let discovery = run_discovery(config, &mut boards, &bus, &mut rng);
        assert_eq!(discovery.end(), Some(DiscoveryEnd::Complete));
        assert_eq!(discovery.unresolved(), 0);
        // A board whose every AddressAssigned was lost holds the address it was sent; the master
        // lists it as given up with that address and gives the address to nobody else.
        let known: BTreeMap<u64, u8> =
            discovery.found().iter().chain(discovery.given_up()).map(|b| (b.uid, b.address)).collect();
        assert_eq!(known.len(), boards.len(), "seed {seed}");
        let addresses: BTreeSet<u8> = known.values().copied().collect();
        assert_eq!(addresses.len(), boards.len(), "seed {seed}: addresses are unique");
        for board in &boards {
            assert_eq!(known.get(&board.uid), Some(&board.address), "seed {seed}");
        }
        given_up += discovery.given_up().len();
    }
    // Given up happens only when a board took its address and all its answers to the
    // AssignAddress attempts were lost (about 0.25^5 here): a handful in 12000 boards.
    assert!(given_up * 500 < 12 * 1000, "{given_up} given up");
}

#[test]
fn scope_all_keeps_addresses_and_renumbers_duplicates() {
    let mut rng = Rng(99);
    let mut boards = sim_boards(&mut rng, 6);
    for (board, address) in boards.iter_mut().zip([7, 7, 9, 0, 12, 12]) {
        board.address = address;
    }
    let config = DiscoveryConfig { scope: DiscoverScope::All, ..DiscoveryConfig::default() };
    let discovery = run_discovery(config, &mut boards, &Bus { capture: 0.5, ..Bus::CLEAN }, &mut rng);
    assert_all_found(&discovery, &boards);
    let addresses: BTreeSet<u8> = boards.iter().map(|b| b.address).collect();
    assert!(addresses.contains(&7) && addresses.contains(&9) && addresses.contains(&12));
    // Scope Unassigned leaves addressed boards alone and avoids reserved addresses.
    let mut boards = sim_boards(&mut rng, 3);
    boards[0].address = 1;
    let mut discovery = Discovery::<256>::new(DiscoveryConfig::default());
    discovery.reserve(1);
    discovery.reserve(2);
    while let Some(request) = discovery.next_request() {
        let outcome = Bus::CLEAN.outcome(&request, &mut boards, &mut rng);
        discovery.on_outcome(outcome);
    }
    assert_eq!(discovery.found().len(), 2);
    assert_eq!(boards.iter().map(|b| b.address).collect::<Vec<_>>(), [1, 3, 4]);
}

#[test]
fn discovery_terminates_on_misbehaving_buses() {
    // A board that never mutes is searched around, not assigned forever.
    let mut rng = Rng(5);
    let mut boards = sim_boards(&mut rng, 4);
    boards[2].mutes = false;
    let discovery = run_discovery(DiscoveryConfig::default(), &mut boards, &Bus::CLEAN, &mut rng);
    assert_eq!(discovery.end(), Some(DiscoveryEnd::Complete));
    assert_eq!(discovery.found().len(), 4);
    // A bus that answers garbage forever ends at the request budget.
    let mut discovery = Discovery::<8>::new(DiscoveryConfig { max_requests: 500, ..DiscoveryConfig::default() });
    while discovery.next_request().is_some() {
        discovery.on_outcome(DiscoveryOutcome::Collision);
    }
    assert!(matches!(discovery.end(), Some(DiscoveryEnd::Complete | DiscoveryEnd::RequestBudget)));
    assert!(discovery.requests() <= 500);
    // An AssignAddress nobody answers: given up after the retries, searched around.
    let mut discovery = Discovery::<8>::new(DiscoveryConfig::default());
    while let Some(request) = discovery.next_request() {
        let outcome = match request {
            NativeRequest::Discover { lo, hi, .. } if (lo..=hi).contains(&77) => {
                DiscoveryOutcome::Reply { uid: 77, address: 0 }
            }
            _ => DiscoveryOutcome::Silence,
        };
        discovery.on_outcome(outcome);
    }
    assert_eq!(discovery.end(), Some(DiscoveryEnd::Complete));
    assert_eq!(discovery.given_up(), [lockproto::native::FoundBoard { uid: 77, address: 1 }]);
    // More boards than addresses, or than the table holds.
    let mut boards = sim_boards(&mut rng, 5);
    let config = DiscoveryConfig { first_address: 10, last_address: 12, ..DiscoveryConfig::default() };
    let discovery = run_discovery(config, &mut boards, &Bus::CLEAN, &mut rng);
    assert_eq!(discovery.end(), Some(DiscoveryEnd::AddressesExhausted));
    assert_eq!(discovery.found().len(), 3);
    let mut boards = sim_boards(&mut rng, 5);
    let mut small = Discovery::<2>::new(DiscoveryConfig::default());
    while let Some(request) = small.next_request() {
        let outcome = Bus::CLEAN.outcome(&request, &mut boards, &mut rng);
        small.on_outcome(outcome);
    }
    assert_eq!(small.end(), Some(DiscoveryEnd::TableFull));
}

/// The same search over real frames: boards encode their answers, answers in the same slot
/// overlap on the wire (bitwise AND of the bytes, or the first frame intact when one driver
/// dominates), and the master classifies what its stream decoder makes of the bytes.
#[test]
fn discovery_over_frames_with_real_collisions() {
    let native = Native::default();
    for seed in 1..=20u64 {
        let mut rng = Rng(seed);
        let mut boards = sim_boards(&mut rng, 25);
        let mut discovery = Discovery::<256>::new(DiscoveryConfig::default());
        while let Some(request) = discovery.next_request() {
            let wire = bus_bytes(&request, &mut boards, &mut rng);
            let mut decoder = StreamDecoder::<Native>::new(native.clone(), Direction::Reply);
            decoder.set_pending(Some(request));
            let mut frames = Vec::new();
            let mut rejected = false;
            let mut events: Vec<_> = decoder.feed(&wire).collect();
            events.extend(decoder.finish());
            for event in events {
                match event {
                    Event::Frame { message: Message::Reply(reply), .. } => frames.push(reply),
                    Event::Frame { .. } => unreachable!(),
                    Event::Rejected(_) => rejected = true,
                }
            }
            let outcome = match (frames.as_slice(), rejected) {
                ([], false) => DiscoveryOutcome::Silence,
                (
                    [
                        NativeReply::DiscoverAnswer { uid, board, .. }
                        | NativeReply::AddressAssigned { uid, board, .. },
                    ],
                    false,
                ) => DiscoveryOutcome::Reply { uid: *uid, address: *board },
                _ => DiscoveryOutcome::Collision,
            };
            discovery.on_outcome(outcome);
        }
        assert_all_found(&discovery, &boards);
    }
}

/// The bytes on the bus after `request`, slot by slot.
fn bus_bytes(request: &NativeRequest, boards: &mut [SimBoard], rng: &mut Rng) -> Vec<u8> {
    let native = Native::default();
    let mut buf = [0u8; 256];
    match *request {
        NativeRequest::DiscoveryReset { .. } => {
            boards.iter_mut().for_each(|b| b.muted = false);
            Vec::new()
        }
        NativeRequest::Discover { seq, slots, .. } => {
            let mut by_slot: BTreeMap<u8, Vec<Vec<u8>>> = BTreeMap::new();
            for b in boards.iter() {
                if lockproto::native::discovery::discover_answer_delay(request, b.uid, b.address, b.muted).is_some() {
                    let reply = NativeReply::DiscoverAnswer { board: b.address, seq, boot: 1, uid: b.uid };
                    let len = native.encode_reply(&reply, &mut buf).unwrap();
                    by_slot.entry(slot_of(b.uid, slots)).or_default().push(buf[..len].to_vec());
                }
            }
            let mut wire = Vec::new();
            for frames in by_slot.values() {
                if frames.len() > 1 && rng.chance(0.3) {
                    wire.extend_from_slice(&frames[0]);
                } else {
                    let mut merged = frames[0].clone();
                    for other in &frames[1..] {
                        merged.iter_mut().zip(other).for_each(|(a, b)| *a &= b);
                    }
                    wire.extend_from_slice(&merged);
                }
            }
            wire
        }
        NativeRequest::AssignAddress { seq, uid, address } => match boards.iter_mut().find(|b| b.uid == uid) {
            Some(board) => {
                board.address = address;
                board.muted = true;
                let reply = NativeReply::AddressAssigned { board: address, seq, boot: 1, uid };
                let len = native.encode_reply(&reply, &mut buf).unwrap();
                buf[..len].to_vec()
            }
            None => Vec::new(),
        },
        _ => unreachable!(),
    }
}

/// PROTOCOL.md §5.6: the slot is the XOR of the uid's bytes modulo the slot count. The board
/// side computes the remainder without a division instruction; every (byte, slots) pair must
/// give what `%` gives.
#[test]
fn slot_is_the_folded_uid_modulo_slots_for_every_byte_and_slot_count() {
    for folded in 0..=u8::MAX {
        for slots in 1..=u8::MAX {
            let uid = u64::from(folded) << 24;
            assert_eq!(slot_of(uid, slots), folded % slots, "byte {folded}, {slots} slots");
        }
    }
    assert_eq!(slot_of(0x0102_0408_1020_4080, 0), 0, "0 slots count as 1");
}

#[test]
fn slots_and_listening_windows() {
    // PROTOCOL.md §7.7: the example uid XORs to 0.
    assert_eq!(slot_of(UID, 8), 0);
    assert_eq!(slot_of(0x0000_0000_0000_0005, 8), 5);
    assert_eq!(slot_of(0xFF00_0000_0000_0001, 1), 0);
    let discover = example_requests()["discover"];
    assert_eq!(lockproto::native::discovery::discover_answer_delay(&discover, 5, 0, false), Some(100));
    assert_eq!(lockproto::native::discovery::discover_answer_delay(&discover, 5, 3, false), None, "has an address");
    assert_eq!(lockproto::native::discovery::discover_answer_delay(&discover, 5, 0, true), None, "muted");
    let discovery = Discovery::<4>::new(DiscoveryConfig::default());
    assert_eq!(discovery.next_request(), Some(NativeRequest::DiscoveryReset { seq: 0 }));
    assert_eq!(discovery.listen_ms(19_200), lockproto::native::IDLE_GAP_MS);
    let mut discovery = discovery;
    discovery.on_outcome(DiscoveryOutcome::Silence);
    // Turnaround 20 + 8 slots × 20 + a 19-byte answer (10 ms) + idle gap 25.
    assert_eq!(discovery.listen_ms(19_200), 20 + 160 + 10 + 25);
    assert_eq!(lockproto::native::RESPONSE_TIMEOUT_MS, 179);
    assert_eq!(lockproto::native::response_timeout_ms(9_600), 20 + 267 + 25);
}

// ---------------------------------------------------------------------------------------------
// The neutral mapping
// ---------------------------------------------------------------------------------------------

#[test]
fn neutral_commands_give_the_protocol_md_frames() {
    // Master side: a configured default pulse and the boot id last seen; SEQ stamped per board.
    let native = Native { default_pulse_ms: 1500, boot: BOOT, channels: 0 };
    let examples = example_requests();
    let request = native.request(1, &Command::Unlock(lock(3))).unwrap().with_seq(0x12);
    assert_eq!(request, examples["unlock"]);
    assert_eq!(encode_request(&request), common::hex("F9 A6 01 08 01 12 03 3A 7C 03 05 DC 13 53"));
    let native = Native { default_pulse_ms: 500, ..native };
    let request = native.request(1, &Command::UnlockMany(set(&[1, 2, 3, 10]))).unwrap().with_seq(0x13);
    assert_eq!(request, examples["unlock-many"]);
    let request = Native { default_pulse_ms: 600, ..native.clone() }
        .request(2, &Command::UnlockAll)
        .unwrap()
        .with_seq(0x07)
        .with_boot(0x0001);
    assert_eq!(request, examples["unlock-all"]);
    assert_eq!(native.request(1, &Command::QueryAll).unwrap().with_seq(0x11), examples["get-status"]);
    assert_eq!(native.request(1, &Command::QueryLock(lock(9))).unwrap().with_seq(0x11), examples["get-status"]);
    assert_eq!(native.request(1, &Command::BoardInfo).unwrap().with_seq(0x10), examples["get-info"]);
    assert_eq!(
        native.request(1, &Command::ReadParameter(ParameterId::UnlockTime)).unwrap().with_seq(0x16),
        examples["read-parameter"]
    );
    assert_eq!(
        native.request(1, &Command::WriteParameter(Parameter::BaudRate(57_600))).unwrap(),
        NativeRequest::WriteParameter { board: 1, seq: 0, parameter: ParameterCode::BaudRate, value: 57_600 }
    );
    let query = native.request(0, &Command::QueryAddress).unwrap();
    assert!(matches!(query, NativeRequest::Discover { scope: DiscoverScope::All, slots: 1, lo: 0, hi: u64::MAX, .. }));
    assert_eq!(query.address(), BROADCAST);
    // What the native protocol cannot express.
    for command in
        [Command::ReadParameter(ParameterId::DelayedUnlock), Command::WriteParameter(Parameter::PushDoorWaitS(3))]
    {
        assert!(matches!(
            native.request(1, &command),
            Err(lockproto::EncodeError::Unsupported { dialect: "native", .. })
        ));
    }
    assert!(matches!(native.request(0, &Command::QueryAll), Err(lockproto::EncodeError::OutOfRange { .. })));
    assert!(matches!(native.request(255, &Command::Unlock(lock(1))), Err(lockproto::EncodeError::OutOfRange { .. })));
    assert!(matches!(
        native.request(1, &Command::UnlockMany(LockSet::EMPTY)),
        Err(lockproto::EncodeError::OutOfRange { .. })
    ));
    // Replies expected.
    assert_eq!(native.reply_expectation(&examples["unlock"]), ReplyExpectation::One);
    assert_eq!(native.reply_expectation(&examples["discover"]), ReplyExpectation::EveryBoard);
    assert_eq!(native.reply_expectation(&examples["discovery-reset"]), ReplyExpectation::None);
    assert_eq!(native.reply_expectation(&examples["assign-address"]), ReplyExpectation::One);
}

#[test]
fn decoded_replies_have_a_neutral_meaning() {
    let native = Native::default();
    let replies = example_replies();
    let response =
        |name: &str| native.response(&native.decode_reply(&encode_reply(&replies[name]), None).unwrap().message);
    assert_eq!(
        response("info"),
        Some((
            1,
            Response::Info(BoardInfo {
                software: Version { major: 1, minor: 2 },
                hardware: Some(Version { major: 1, minor: 0 }),
                channels: Some(24)
            })
        ))
    );
    // PROTOCOL.md §7.2: raw lock feedback of all 24, door sensors on all 24, presence on 1-16.
    let Some((1, Response::Status(status))) = response("status") else { panic!("not a status") };
    assert_eq!(status.locks.reported, range(1, 24));
    assert_eq!(status.locks.get(lock(3)), Some(false));
    assert_eq!(status.locks.get(lock(4)), Some(true));
    assert_eq!(status.locks.get(lock(25)), None);
    let doors = status.doors.unwrap();
    assert_eq!(doors.active, set(&[3]));
    let presence = status.presence.unwrap();
    assert_eq!(presence.reported, range(1, 16));
    assert_eq!(presence.active, set(&[1, 5]));
    for name in ["unlocked", "unlock-many-accepted", "unlock-all-accepted", "address-assigned"] {
        assert!(matches!(response(name), Some((_, Response::Ack))), "{name}");
    }
    assert_eq!(response("events"), None, "events have no neutral meaning; read them natively");
    assert_eq!(response("parameter"), Some((1, Response::Parameter(Parameter::UnlockTimeMs(1000)))));
    assert_eq!(response("parameter-written"), None, "the address parameter has no neutral id");
    assert_eq!(response("discover-answer"), Some((0, Response::Address(0))));
    assert_eq!(
        response("error-channel-fault"),
        Some((1, Response::DeviceError(DeviceError { code: 6, kind: DeviceErrorKind::Failed })))
    );
    assert_eq!(
        response("error-boot-mismatch"),
        Some((1, Response::DeviceError(DeviceError { code: 7, kind: DeviceErrorKind::Other })))
    );
    for (code, kind) in [
        (ErrorCode::UnknownCommand, DeviceErrorKind::UnknownCommand),
        (ErrorCode::BadArgument, DeviceErrorKind::InvalidArgument),
        (ErrorCode::Busy, DeviceErrorKind::Busy),
        (ErrorCode::Unknown { code: 0x42 }, DeviceErrorKind::Other),
    ] {
        assert_eq!(lockproto::native::error_kind(code), kind);
    }
    // A board without door sensors at all: doors are None, not "all closed".
    let bare = NativeReply::Status {
        board: 3,
        seq: 0,
        boot: 1,
        channels: 8,
        lock_active: set(&[1]),
        lock_absent: LockSet::EMPTY,
        door_open: LockSet::EMPTY,
        door_absent: range(1, 8),
        occupied: LockSet::EMPTY,
        presence_absent: range(1, 8),
        pulsing: LockSet::EMPTY,
        faulted: LockSet::EMPTY,
    };
    let Some((3, Response::Status(status))) = native.response(&bare) else { panic!() };
    assert_eq!(status, BoardStatus { locks: ChannelBits::from_bitmap(8, set(&[1])), doors: None, presence: None });
}

#[test]
fn board_side_neutral_mapping_round_trips() {
    // Board side: decode a request, map it to a command, answer in neutral terms, encode.
    let board = Native { boot: BOOT, channels: 12, ..Native::default() };
    let master = Native::default();
    let examples = example_requests();
    assert_eq!(board.command(&examples["unlock"]), Some((1, Command::Unlock(lock(3)))));
    assert_eq!(board.command(&examples["unlock-many"]), Some((1, Command::UnlockMany(set(&[1, 2, 3, 10])))));
    assert_eq!(board.command(&examples["unlock-all"]), Some((2, Command::UnlockAll)));
    assert_eq!(board.command(&examples["get-status"]), Some((1, Command::QueryAll)));
    assert_eq!(board.command(&examples["get-info"]), Some((1, Command::BoardInfo)));
    assert_eq!(board.command(&examples["read-parameter"]), Some((1, Command::ReadParameter(ParameterId::UnlockTime))));
    assert_eq!(board.command(&examples["write-parameter"]), None, "address has no neutral parameter");
    assert_eq!(board.command(&examples["discover"]), Some((BROADCAST, Command::QueryAddress)));
    assert_eq!(board.command(&examples["read-events"]), None);
    assert_eq!(board.command(&examples["assign-address"]), None);

    let round_trip = |request: &NativeRequest, response: Response| {
        let reply = board.reply(request.address(), request, &response).unwrap();
        let bytes = encode_reply(&reply);
        let decoded = master.decode_reply(&bytes, Some(request)).unwrap().message;
        assert_eq!(decoded.boot(), BOOT);
        master.response(&decoded).unwrap().1
    };
    let status = BoardStatus {
        locks: ChannelBits::from_bitmap(12, set(&[1, 2, 12])),
        doors: Some(ChannelBits { reported: range(1, 10), active: set(&[2, 9]) }),
        presence: None,
    };
    assert_eq!(round_trip(&examples["get-status"], Response::Status(status)), Response::Status(status));
    let info = BoardInfo {
        software: Version { major: 2, minor: 1 },
        hardware: Some(Version { major: 3, minor: 0 }),
        channels: Some(12),
    };
    assert_eq!(round_trip(&examples["get-info"], Response::Info(info)), Response::Info(info));
    assert_eq!(round_trip(&examples["unlock"], Response::Ack), Response::Ack);
    assert_eq!(round_trip(&examples["unlock-all"], Response::Ack), Response::Ack);
    let unlock_all = board.reply(2, &examples["unlock-all"], &Response::Ack).unwrap();
    assert!(matches!(unlock_all, NativeReply::UnlockAllAccepted { locks, .. } if locks == range(1, 12)));
    let p = Response::Parameter(Parameter::UnlockTimeMs(800));
    assert_eq!(round_trip(&examples["read-parameter"], p), p);
    let busy = Response::DeviceError(DeviceError { code: 5, kind: DeviceErrorKind::Busy });
    assert_eq!(round_trip(&examples["unlock"], busy), busy);
    assert_eq!(round_trip(&examples["assign-address"], Response::Ack), Response::Ack);
    assert_eq!(round_trip(&examples["discover"], Response::Address(4)), Response::Address(4));
    // What has no native form.
    assert!(board.reply(1, &examples["get-status"], &Response::Ack).is_err());
    assert!(board.reply(1, &examples["read-events"], &Response::Ack).is_err());
    assert!(board.reply(1, &examples["unlock"], &Response::InputChanged { lock: lock(1), active: true }).is_err());
    let wide = BoardStatus { locks: ChannelBits::from_bitmap(20, LockSet::EMPTY), doors: None, presence: None };
    assert!(
        board.reply(1, &examples["get-status"], &Response::Status(wide)).is_err(),
        "20 channels on a 12-channel board"
    );
}

#[cfg(feature = "serde")]
#[test]
fn messages_serialize_as_tagged_struct_variants() {
    let request = example_requests()["unlock"];
    let json = serde_json::to_value(request).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"unlock": {"board": 1, "seq": 18, "boot": 14972, "lock": 3, "pulse_ms": 1500}})
    );
    assert_eq!(serde_json::from_value::<NativeRequest>(json).unwrap(), request);
    let many = serde_json::to_value(example_requests()["unlock-many"]).unwrap();
    assert_eq!(many["unlock_many"]["locks"], serde_json::json!([1, 2, 3, 10]));
    for (_, reply) in example_replies() {
        let json = serde_json::to_string(&reply).unwrap();
        assert_eq!(serde_json::from_str::<NativeReply>(&json).unwrap(), reply, "{json}");
    }
    let events = serde_json::to_value(example_replies()["events"]).unwrap();
    assert_eq!(
        events["events"]["events"][1],
        serde_json::json!({"kind": {"door_opened": {"lock": 3}}, "time_ms": 77100})
    );
    let error = serde_json::to_value(example_replies()["error-channel-fault"]).unwrap();
    assert_eq!(error["error"]["code"], serde_json::json!("channel_fault"));
    let unknown = NativeReply::Error {
        board: 1,
        seq: 0,
        boot: 1,
        command: 3,
        code: ErrorCode::Unknown { code: 0x42 },
        detail: 0,
    };
    let json = serde_json::to_value(unknown).unwrap();
    assert_eq!(json["error"]["code"], serde_json::json!({"unknown": {"code": 0x42}}));
    // More events than a reply holds are refused.
    let too_many = serde_json::json!(vec![serde_json::json!({"kind": {"door_opened": {"lock": 1}}, "time_ms": 0}); 30]);
    assert!(serde_json::from_value::<EventBatch>(too_many).is_err());
}

/// Messages as a structure-aware fuzzer builds them: the encoder either refuses them, or the
/// bytes decode back to the same message (so the encoder's checks are as strict as the decoder's).
#[cfg(feature = "arbitrary")]
#[test]
fn arbitrary_messages_encode_only_when_they_round_trip() {
    use arbitrary::{Arbitrary, Unstructured};
    let native = Native::default();
    let mut rng = Rng(0x5EED);
    let (mut encoded, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let data: Vec<u8> = (0..96).map(|_| rng.next() as u8).collect();
        let mut u = Unstructured::new(&data);
        let mut buf = [0u8; 256];
        if let Ok(request) = NativeRequest::arbitrary(&mut u) {
            match native.encode_request(&request, &mut buf) {
                Ok(len) => {
                    assert_eq!(native.decode_request(&buf[..len]).unwrap().message, request);
                    encoded += 1;
                }
                Err(_) => refused += 1,
            }
        }
        let mut u = Unstructured::new(&data);
        if let Ok(reply) = NativeReply::arbitrary(&mut u) {
            match native.encode_reply(&reply, &mut buf) {
                Ok(len) => {
                    assert_eq!(native.decode_reply(&buf[..len], None).unwrap().message, reply);
                    encoded += 1;
                }
                Err(_) => refused += 1,
            }
        }
    }
    assert!(encoded > 10_000 && refused > 100, "{encoded} encoded, {refused} refused");
}
