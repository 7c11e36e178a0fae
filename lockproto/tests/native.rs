//! Tests of the native protocol (lockproto/PROTOCOL.md).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

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
