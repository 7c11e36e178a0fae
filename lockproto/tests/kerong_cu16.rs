//! Kerong CU16: the vectors, the frames of the implementations cited in reference/lockboards.md
//! §2 and of the vendor document (CU16.txt in mojisejr/smc-app), the neutral mapping and the
//! streaming properties.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

// tests/common is shared and not ours to edit; its `% 2 == 0` trips this newer lint.
mod common;

use common::{assert_any_chunking_same, assert_resyncs, decode_chunked, hex, vectors};
use lockproto::dialect::kerong_cu12::KerongBaudRate;
use lockproto::dialect::kerong_cu16::{BUS_ADDR, BUS_BOARD, Cu16Reply, Cu16Request, DEFAULT_BAUD, KerongCu16};
use lockproto::stream::{Direction, Event, Message, StreamDecoder};
use lockproto::{
    BoardStatus, ChannelBits, Command, Dialect, EncodeError, FeedbackPolarity, FrameError, Lock, LockSet, LockState,
    Parameter, ParameterId, ReplyExpectation, Response,
};
use proptest::prelude::*;
use serde_json::Value;

const BASE: KerongCu16 = KerongCu16::new();
const EXTENDED: KerongCu16 = KerongCu16::new().with_extended_commands(true);

fn lock(n: u8) -> Lock {
    Lock::new(n).unwrap()
}

fn set(locks: &[u8]) -> LockSet {
    locks.iter().copied().map(lock).collect()
}

fn encode_req(dialect: &KerongCu16, request: &Cu16Request) -> Vec<u8> {
    let mut out = [0u8; 16];
    let n = dialect.encode_request(request, &mut out).unwrap();
    out[..n].to_vec()
}

fn encode_rep(dialect: &KerongCu16, reply: &Cu16Reply) -> Vec<u8> {
    let mut out = [0u8; 16];
    let n = dialect.encode_reply(reply, &mut out).unwrap();
    out[..n].to_vec()
}

/// Decodes a whole request frame and checks that it re-encodes byte for byte.
fn request_with(dialect: &KerongCu16, text: &str) -> Cu16Request {
    let bytes = hex(text);
    let decoded = dialect.decode_request(&bytes).unwrap();
    assert_eq!(decoded.len, bytes.len(), "{text}");
    assert_eq!(encode_req(dialect, &decoded.message), bytes, "re-encoding {:?}", decoded.message);
    decoded.message
}

/// Decodes a whole reply frame (without and with its pending request) and checks the re-encoding.
fn reply_with(dialect: &KerongCu16, text: &str, pending: Option<&Cu16Request>) -> Cu16Reply {
    let bytes = hex(text);
    let decoded = dialect.decode_reply(&bytes, None).unwrap();
    assert_eq!(decoded.len, bytes.len(), "{text}");
    assert_eq!(encode_rep(dialect, &decoded.message), bytes, "re-encoding {:?}", decoded.message);
    if let Some(pending) = pending {
        assert_eq!(dialect.decode_reply(&bytes, Some(pending)).unwrap(), decoded, "with pending {pending:?}");
    }
    decoded.message
}

fn request(text: &str) -> Cu16Request {
    request_with(&BASE, text)
}

fn reply(text: &str, pending: Option<&Cu16Request>) -> Cu16Reply {
    reply_with(&BASE, text, pending)
}

fn byte_of(value: &Value) -> u8 {
    u8::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn vectors_decode_to_their_meaning_and_reencode() {
    let all = vectors("kerong_cu16");
    assert!(all.len() >= 7, "expected the kerong_cu16 vectors, found {}", all.len());
    for v in &all {
        let m = &v.meaning;
        if let Some(reject) = &v.reject {
            // v036 (`02 10 30 03 3E`, meant SUM 45) and v037 (`02 0F 31 03 49`, meant ADDR 13):
            // xaleel/locker's table.
            assert_eq!(reject, "reject_checksum", "{}", v.id);
            let error = BASE.decode_request(&v.bytes).unwrap_err();
            assert!(matches!(error, FrameError::BadChecksum { offset: 4, .. }), "{}: {error:?}", v.id);
            continue;
        }
        match v.direction {
            Direction::Request => {
                let decoded = BASE.decode_request(&v.bytes).unwrap();
                assert_eq!(encode_req(&BASE, &decoded.message), v.bytes, "{}", v.id);
                assert_eq!(m["cmd"], "unlock", "{}", v.id);
                let Cu16Request::Unlock { board, lock } = decoded.message else { panic!("{}", v.id) };
                assert_eq!(u64::from(board), m["board"].as_u64().unwrap(), "{} board", v.id);
                assert_eq!(u64::from(lock.get()), m["lock_number"].as_u64().unwrap(), "{} lock_number", v.id);
                assert_eq!(u64::from(lock.get() - 1), m["lock_index"].as_u64().unwrap(), "{} lock_index", v.id);
                assert_eq!(v.bytes[1], byte_of(&m["addr"]), "{} addr", v.id);
                if let Some(code) = m.get("cmd_code") {
                    assert_eq!(v.bytes[2], byte_of(code), "{} cmd_code", v.id);
                }
                assert_eq!(BASE.reply_expectation(&decoded.message), ReplyExpectation::None, "{}", v.id);
            }
            Direction::Reply => {
                let pending = Cu16Request::QueryAllBoards { board: BUS_BOARD };
                let decoded = reply(&hex_of(&v.bytes), Some(&pending));
                assert_eq!(m["reply_to"], "get_all_status", "{}", v.id);
                assert_eq!(v.bytes[2], byte_of(&m["resp_code"]), "{} resp_code", v.id);
                assert_eq!(v.bytes[1], byte_of(&m["addr"]), "{} addr", v.id);
                let Cu16Reply::BusStatus { board, hooks, presence } = decoded else { panic!("{}", v.id) };
                assert_eq!(u64::from(board), m["board"].as_u64().unwrap(), "{} board", v.id);
                assert_eq!(hooks.byte(0), byte_of(&m["hook_1_8"]), "{}", v.id);
                assert_eq!(hooks.byte(1), byte_of(&m["hook_9_16"]), "{}", v.id);
                assert_eq!(presence.byte(0), byte_of(&m["ir_1_8"]), "{}", v.id);
                assert_eq!(presence.byte(1), byte_of(&m["ir_9_16"]), "{}", v.id);
            }
        }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

#[test]
fn v036_v037_are_rejected_with_the_right_sums() {
    assert_eq!(
        BASE.decode_request(&hex("02 10 30 03 3E")),
        Err(FrameError::BadChecksum { offset: 4, expected: 0x45, found: 0x3E })
    );
    assert_eq!(
        BASE.decode_request(&hex("02 0F 31 03 49")),
        Err(FrameError::BadChecksum { offset: 4, expected: 0x45, found: 0x49 })
    );
    // What they meant: status of board 1, and unlock lock 4 of board 1.
    assert_eq!(request("02 10 30 03 45"), Cu16Request::QueryStatus { board: 1 });
    assert_eq!(request("02 13 31 03 49"), Cu16Request::Unlock { board: 1, lock: lock(4) });
}

#[test]
fn xaleel_locker_table() {
    // xaleel/locker locker/contants.py @ 61748424 (the correct entries).
    assert_eq!(request("02 00 30 03 35"), Cu16Request::QueryStatus { board: 0 });
    for index in 0..16u8 {
        let text = format!("02 {index:02X} 31 03 {:02X}", 0x36 + index);
        assert_eq!(request(&text), Cu16Request::Unlock { board: 0, lock: lock(index + 1) }, "{text}");
    }
    for (text, n) in [("02 10 31 03 46", 1), ("02 11 31 03 47", 2), ("02 12 31 03 48", 3)] {
        assert_eq!(request(text), Cu16Request::Unlock { board: 1, lock: lock(n) }, "{text}");
    }
}

#[test]
fn bus_status_queries_from_the_implementations() {
    // The documented broadcast (vendor doc §5(3), the Spanish Node.js server, a Kotlin BLE app).
    let bus = request("02 F0 32 03 27");
    assert_eq!(bus, Cu16Request::QueryAllBoards { board: BUS_BOARD });
    assert_eq!(BUS_ADDR, 0xF0);
    assert_eq!(BASE.reply_expectation(&bus), ReplyExpectation::EveryBoard);
    // lkaas-kerong src/kerong/command.rs: 0x32 to ADDR 0 with the fixed SUM 0x37.
    let lkaas = request("02 00 32 03 37");
    assert_eq!(lkaas, Cu16Request::QueryAllBoards { board: 0 });
    assert_eq!(BASE.reply_expectation(&lkaas), ReplyExpectation::EveryBoard);
    // lkaas-kerong's unlock: `02 n 31 03 n+0x36`.
    for n in [0x00u8, 0x05, 0x1F, 0x93] {
        let text = format!("02 {n:02X} 31 03 {:02X}", n.wrapping_add(0x36));
        assert_eq!(request(&text), Cu16Request::Unlock { board: n >> 4, lock: lock((n & 0x0F) + 1) });
    }
}

#[test]
fn vendor_document_base_examples() {
    // KR-CU16 Communication Protocol Specification V1.6, §5 (CU16.txt in mojisejr/smc-app).
    // (1) Get the status of board 0: lock 1 hooked, item in compartment 1.
    let query = request("02 00 30 03 35");
    assert_eq!(query, Cu16Request::QueryStatus { board: 0 });
    assert_eq!(BASE.reply_expectation(&query), ReplyExpectation::One);
    let status = reply("02 00 35 01 00 01 00 03 3C", Some(&query));
    assert_eq!(status, Cu16Reply::Status { board: 0, hooks: set(&[1]), presence: set(&[1]) });
    // (2) Unlock the third lock of board 0; no reply is documented.
    let unlock = request("02 02 31 03 38");
    assert_eq!(unlock, Cu16Request::Unlock { board: 0, lock: lock(3) });
    assert_eq!(BASE.reply_expectation(&unlock), ReplyExpectation::None);
    // (3) Bus status: board 0 has locks 9 and 10 hooked and an item in 1; board 1 has lock 1
    // hooked and an item in 12.
    let bus = request("02 F0 32 03 27");
    let b0 = reply("02 00 36 00 03 01 00 03 3F", Some(&bus));
    assert_eq!(b0, Cu16Reply::BusStatus { board: 0, hooks: set(&[9, 10]), presence: set(&[1]) });
    let b1 = reply("02 10 36 01 00 00 08 03 54", Some(&bus));
    assert_eq!(b1, Cu16Reply::BusStatus { board: 1, hooks: set(&[1]), presence: set(&[12]) });
    // (4) Unlock all locks of board 0, answered by a 0x35 status (locks 1-4 hooked, item in 1).
    let all = request("02 00 33 03 38");
    assert_eq!(all, Cu16Request::UnlockAll { board: 0 });
    assert_eq!(BASE.reply_expectation(&all), ReplyExpectation::One);
    let after = reply("02 00 35 0F 00 01 00 03 4A", Some(&all));
    assert_eq!(after, Cu16Reply::Status { board: 0, hooks: set(&[1, 2, 3, 4]), presence: set(&[1]) });
}

#[test]
fn vendor_document_extended_examples() {
    let ext = |text| request_with(&EXTENDED, text);
    let rep = |text, pending: &Cu16Request| reply_with(&EXTENDED, text, Some(pending));
    let hooks_1_4 = set(&[1, 2, 3, 4]);
    // §5(5): query and set the unlock time of board 0 (550 ms, then 1000 ms).
    let q = ext("02 00 37 03 3C");
    assert_eq!(q, Cu16Request::QueryUnlockTime { board: 0 });
    assert_eq!(
        rep("02 00 38 0F 00 00 37 03 83", &q),
        Cu16Reply::UnlockTime { board: 0, hooks: hooks_1_4, time_10ms: 55 }
    );
    let s = ext("02 00 37 00 64 03 A0");
    assert_eq!(s, Cu16Request::SetUnlockTime { board: 0, time_10ms: 100 });
    assert_eq!(
        rep("02 00 38 00 00 00 64 03 A1", &s),
        Cu16Reply::UnlockTime { board: 0, hooks: set(&[]), time_10ms: 100 }
    );
    // §5(6): the same on the whole bus.
    let q = ext("02 F0 37 03 2C");
    assert_eq!(q, Cu16Request::QueryUnlockTime { board: BUS_BOARD });
    assert_eq!(EXTENDED.reply_expectation(&q), ReplyExpectation::EveryBoard);
    assert_eq!(
        rep("02 00 38 0F 00 00 37 03 83", &q),
        Cu16Reply::UnlockTime { board: 0, hooks: hooks_1_4, time_10ms: 55 }
    );
    assert_eq!(
        rep("02 10 38 00 00 00 37 03 84", &q),
        Cu16Reply::UnlockTime { board: 1, hooks: set(&[]), time_10ms: 55 }
    );
    let s = ext("02 F0 37 00 64 03 90");
    assert_eq!(s, Cu16Request::SetUnlockTime { board: BUS_BOARD, time_10ms: 100 });
    // §5(6) prints these two replies with wrong SUMs; §5(7) repeats them with the right ones.
    for (wrong, expected) in [("02 00 38 0F 00 00 64 03 4C", 0xB0), ("02 10 38 00 00 00 64 03 4D", 0xB1)] {
        let bytes = hex(wrong);
        let error = FrameError::BadChecksum { offset: 8, expected, found: u16::from(bytes[8]) };
        assert_eq!(EXTENDED.decode_reply(&bytes, Some(&s)), Err(error), "{wrong}");
    }
    assert_eq!(
        rep("02 00 38 0F 00 00 64 03 B0", &s),
        Cu16Reply::UnlockTime { board: 0, hooks: hooks_1_4, time_10ms: 100 }
    );
    assert_eq!(
        rep("02 10 38 00 00 00 64 03 B1", &s),
        Cu16Reply::UnlockTime { board: 1, hooks: set(&[]), time_10ms: 100 }
    );
    // §5(7): delayed unlock 1 s, board 0 and then the bus (boards 0-3 answer).
    let d = ext("02 00 39 01 03 3F");
    assert_eq!(d, Cu16Request::SetDelayedUnlock { board: 0, seconds: 1 });
    let answer = Cu16Reply::DelayedUnlockSet { board: 0, hooks: set(&[1]), presence: set(&[9]) };
    assert_eq!(rep("02 00 39 01 00 00 01 03 40", &d), answer);
    let d = ext("02 F0 39 01 03 2F");
    assert_eq!(d, Cu16Request::SetDelayedUnlock { board: BUS_BOARD, seconds: 1 });
    for (board, text) in [
        (0, "02 00 39 01 00 00 01 03 40"),
        (1, "02 10 39 01 00 00 01 03 50"),
        (2, "02 20 39 01 00 00 01 03 60"),
        (3, "02 30 39 01 00 00 01 03 70"),
    ] {
        assert_eq!(rep(text, &d), Cu16Reply::DelayedUnlockSet { board, hooks: set(&[1]), presence: set(&[9]) });
    }
    // §5(8): baud rate 19200 on board 0, then 9600 on the bus (boards 0, 1, 2 answer).
    let b = ext("02 00 40 01 03 46");
    assert_eq!(b, Cu16Request::SetBaudRate { board: 0, baud: KerongBaudRate::Baud19200 });
    let answer = Cu16Reply::BaudRateSet { board: 0, hooks: set(&[1]), data3: 0, baud: KerongBaudRate::Baud19200 };
    assert_eq!(rep("02 00 40 01 00 00 01 03 47", &b), answer);
    let b = ext("02 F0 40 00 03 35");
    assert_eq!(b, Cu16Request::SetBaudRate { board: BUS_BOARD, baud: KerongBaudRate::Baud9600 });
    for (board, text) in
        [(0, "02 00 40 00 00 00 00 03 45"), (1, "02 10 40 00 00 00 00 03 55"), (2, "02 20 40 00 00 00 00 03 65")]
    {
        let expected = Cu16Reply::BaudRateSet { board, hooks: set(&[]), data3: 0, baud: KerongBaudRate::Baud9600 };
        assert_eq!(rep(text, &b), expected);
    }
}

#[test]
fn extended_frames_are_off_by_default() {
    for text in ["02 00 37 03 3C", "02 00 37 00 64 03 A0", "02 00 39 01 03 3F", "02 F0 40 00 03 35"] {
        let found = hex(text)[2];
        assert_eq!(BASE.decode_request(&hex(text)), Err(FrameError::UnknownCommand { offset: 2, found }), "{text}");
    }
    for text in ["02 00 38 0F 00 00 37 03 83", "02 00 39 01 00 00 01 03 40", "02 00 40 01 00 00 01 03 47"] {
        let found = hex(text)[2];
        assert_eq!(BASE.decode_reply(&hex(text), None), Err(FrameError::UnknownCommand { offset: 2, found }), "{text}");
    }
    let mut out = [0u8; 16];
    let request = Cu16Request::QueryUnlockTime { board: 0 };
    assert!(matches!(BASE.encode_request(&request, &mut out), Err(EncodeError::Unsupported { .. })));
    let reply = Cu16Reply::UnlockTime { board: 0, hooks: LockSet::EMPTY, time_10ms: 55 };
    assert!(matches!(BASE.encode_reply(&reply, &mut out), Err(EncodeError::Unsupported { .. })));
    let command = Command::WriteParameter(Parameter::UnlockTimeMs(1000));
    assert!(matches!(BASE.request(0, &command), Err(EncodeError::Unsupported { .. })));
    assert_eq!(encode_req(&EXTENDED, &EXTENDED.request(0, &command).unwrap()), hex("02 00 37 00 64 03 A0"));
    assert!(!KerongCu16::default().extended_commands);
}

#[test]
fn unlock_time_query_and_set_share_their_first_bytes() {
    // `02 00 37 03 3C` is the query; a set of 0x033C would start with it. The decoder takes the
    // query, and the encoder refuses that one value per board.
    let mut out = [0u8; 16];
    let ambiguous = Cu16Request::SetUnlockTime { board: 0, time_10ms: 0x033C };
    assert!(matches!(EXTENDED.encode_request(&ambiguous, &mut out), Err(EncodeError::OutOfRange { .. })));
    let decoded = EXTENDED.decode_request(&hex("02 00 37 03 3C 03 7C")).unwrap();
    assert_eq!((decoded.message, decoded.len), (Cu16Request::QueryUnlockTime { board: 0 }, 5));
    // Other sets whose high byte is 0x03 are fine: the decoder waits for all 7 bytes.
    let set = Cu16Request::SetUnlockTime { board: 0, time_10ms: 0x033D };
    let bytes = encode_req(&EXTENDED, &set);
    assert_eq!(bytes, hex("02 00 37 03 3D 03 7C"));
    for end in 0..bytes.len() {
        assert_eq!(EXTENDED.decode_request(&bytes[..end]), Err(FrameError::Incomplete), "[..{end}]");
    }
    assert_eq!(request_with(&EXTENDED, "02 00 37 03 3D 03 7C"), set);
    assert_any_chunking_same(&EXTENDED, Direction::Request, None, &[bytes.clone(), hex("02 00 37 03 3C")].concat());
}

#[test]
fn fields_are_checked_as_soon_as_they_arrive() {
    assert_eq!(BASE.decode_request(&[0x03]), Err(FrameError::BadStart { offset: 0, found: 0x03 }));
    assert_eq!(BASE.decode_request(&[0x02, 0x00, 0x34]), Err(FrameError::UnknownCommand { offset: 2, found: 0x34 }));
    // Board-level commands address lock index 0.
    assert!(matches!(BASE.decode_request(&[0x02, 0x01, 0x30]), Err(FrameError::BadField { offset: 1, .. })));
    assert!(matches!(BASE.decode_request(&[0x02, 0xF1, 0x32]), Err(FrameError::BadField { offset: 1, .. })));
    assert_eq!(
        BASE.decode_request(&hex("02 00 30 04 36")),
        Err(FrameError::BadMarker { offset: 3, expected: 0x03, found: 0x04 })
    );
    // Replies come from lock index 0, with a reply code.
    assert!(matches!(BASE.decode_reply(&[0x02, 0x01], None), Err(FrameError::BadField { offset: 1, .. })));
    assert_eq!(
        BASE.decode_reply(&[0x02, 0x00, 0x30], None),
        Err(FrameError::UnknownCommand { offset: 2, found: 0x30 })
    );
    assert_eq!(
        BASE.decode_reply(&hex("02 00 35 00 00 00 00 02 3A"), None),
        Err(FrameError::BadMarker { offset: 7, expected: 0x03, found: 0x02 })
    );
    // Every prefix of a frame waits for more.
    let status = hex("02 00 35 0F 00 01 00 03 4A");
    for end in 0..status.len() {
        assert_eq!(BASE.decode_reply(&status[..end], None), Err(FrameError::Incomplete), "[..{end}]");
    }
    let mut longer = status.clone();
    longer.extend_from_slice(&[0x02, 0x00]);
    assert_eq!(BASE.decode_reply(&longer, None).unwrap().len, status.len());
}

#[test]
fn pending_request_checks_the_reply() {
    let status = hex("02 00 35 01 00 01 00 03 3C");
    let bus_b1 = hex("02 10 36 01 00 00 08 03 54");
    let query1 = Cu16Request::QueryStatus { board: 1 };
    assert_eq!(
        BASE.decode_reply(&status, Some(&query1)),
        Err(FrameError::Mismatch { offset: 1, field: "ADDR", expected: 0x10, found: 0x00 })
    );
    assert_eq!(
        BASE.decode_reply(&bus_b1, Some(&query1)),
        Err(FrameError::Mismatch { offset: 2, field: "CMD", expected: 0x35, found: 0x36 })
    );
    // A bus query takes any board; lkaas-kerong's `0x32` to ADDR 0 as well.
    assert!(BASE.decode_reply(&bus_b1, Some(&Cu16Request::QueryAllBoards { board: 0 })).is_ok());
    // An unlock draws no reply, so it checks nothing.
    assert!(BASE.decode_reply(&bus_b1, Some(&Cu16Request::Unlock { board: 0, lock: lock(1) })).is_ok());
    // A foreign reply is skipped and the expected one found.
    let stream = [bus_b1.clone(), status.clone()].concat();
    let pending = Cu16Request::QueryStatus { board: 0 };
    let (frames, rejected) = decode_chunked(&BASE, Direction::Reply, Some(pending), &stream, &[4]);
    assert_eq!(rejected, 1);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].0, 9);
}

#[test]
fn bus_replies_stream_as_separate_frames() {
    // v040 then v041 (and the vendor document's §5(3) pair): several boards answer one `0x32`.
    let pending = Cu16Request::QueryAllBoards { board: BUS_BOARD };
    for stream in [
        hex("02 00 36 00 00 00 00 03 3B 02 10 36 00 00 00 00 03 4B"),
        hex("02 00 36 00 03 01 00 03 3F 02 10 36 01 00 00 08 03 54"),
    ] {
        let (frames, rejected) = decode_chunked(&BASE, Direction::Reply, Some(pending), &stream, &[2, 3]);
        assert_eq!(rejected, 0);
        let boards: Vec<u8> = frames
            .iter()
            .map(|(_, _, m)| match m {
                Message::Reply(r) => r.board(),
                Message::Request(_) => panic!(),
            })
            .collect();
        assert_eq!(boards, [0, 1]);
        assert_any_chunking_same(&BASE, Direction::Reply, Some(pending), &stream);
    }
}

#[test]
fn request_mapping_builds_the_known_frames() {
    let frame =
        |dialect: &KerongCu16, board, command: Command| encode_req(dialect, &dialect.request(board, &command).unwrap());
    assert_eq!(frame(&BASE, 0, Command::QueryAll), hex("02 00 30 03 35"));
    assert_eq!(frame(&BASE, 0, Command::Unlock(lock(1))), hex("02 00 31 03 36")); // v030
    assert_eq!(frame(&BASE, 1, Command::Unlock(lock(1))), hex("02 10 31 03 46")); // v033
    assert_eq!(frame(&BASE, 1, Command::Unlock(lock(3))), hex("02 12 31 03 48")); // v035
    assert_eq!(frame(&BASE, 0, Command::Unlock(lock(3))), hex("02 02 31 03 38")); // doc §5(2)
    assert_eq!(frame(&BASE, 0, Command::UnlockAll), hex("02 00 33 03 38")); // doc §5(4)
    assert_eq!(frame(&EXTENDED, 0, Command::ReadParameter(ParameterId::UnlockTime)), hex("02 00 37 03 3C"));
    assert_eq!(
        frame(&EXTENDED, BUS_BOARD, Command::WriteParameter(Parameter::UnlockTimeMs(1000))),
        hex("02 F0 37 00 64 03 90")
    );
    assert_eq!(frame(&EXTENDED, 0, Command::WriteParameter(Parameter::DelayedUnlockS(1))), hex("02 00 39 01 03 3F"));
    assert_eq!(frame(&EXTENDED, 0, Command::WriteParameter(Parameter::BaudRate(19_200))), hex("02 00 40 01 03 46"));

    let err = |dialect: &KerongCu16, board, command: Command| dialect.request(board, &command).unwrap_err();
    assert!(matches!(err(&BASE, 16, Command::QueryAll), EncodeError::OutOfRange { field: "board", .. }));
    assert!(matches!(err(&BASE, 0, Command::Unlock(lock(17))), EncodeError::OutOfRange { field: "lock", .. }));
    let too_long = Command::WriteParameter(Parameter::UnlockTimeMs(60_010));
    assert!(matches!(err(&EXTENDED, 0, too_long), EncodeError::OutOfRange { .. }));
    let too_late = Command::WriteParameter(Parameter::DelayedUnlockS(251));
    assert!(matches!(err(&EXTENDED, 0, too_late), EncodeError::OutOfRange { .. }));
    let ambiguous = Command::WriteParameter(Parameter::UnlockTimeMs(0x033C * 10));
    assert!(matches!(err(&EXTENDED, 0, ambiguous), EncodeError::OutOfRange { .. }));
    for unsupported in [
        Command::QueryLock(lock(1)),
        Command::UnlockMany(set(&[1, 2])),
        Command::BoardInfo,
        Command::QueryAddress,
        Command::ReadParameter(ParameterId::BaudRate),
        Command::WriteParameter(Parameter::PushDoorWaitS(1)),
    ] {
        assert!(matches!(err(&EXTENDED, 0, unsupported), EncodeError::Unsupported { dialect: "kerong-cu16", .. }));
    }
}

#[test]
fn command_mapping_inverts_request_mapping() {
    for text in [
        "02 00 30 03 35",
        "02 12 31 03 48",
        "02 00 33 03 38",
        "02 00 37 03 3C",
        "02 00 37 00 64 03 A0",
        "02 00 39 01 03 3F",
        "02 00 40 01 03 46",
    ] {
        let request = request_with(&EXTENDED, text);
        let (board, command) = EXTENDED.command(&request).unwrap();
        assert_eq!(board, request.board());
        assert_eq!(EXTENDED.request(board, &command).unwrap(), request, "{text}");
    }
    // The bus query is a status query for every board; board firmware learns it must answer
    // whatever its address from reply_expectation.
    let bus = request("02 F0 32 03 27");
    assert_eq!(BASE.command(&bus), Some((BUS_BOARD, Command::QueryAll)));
}

#[test]
fn response_mapping_keeps_raw_hooks_and_presence() {
    // Vendor doc §5(1): bit 1 = locked with the factory polarity.
    let (board, Response::Status(status)) = BASE.response(&reply("02 00 35 01 00 01 00 03 3C", None)).unwrap() else {
        panic!()
    };
    assert_eq!(board, 0);
    assert_eq!(status.locks.reported, LockSet::first(16));
    assert_eq!(status.locks.active, set(&[1]));
    assert_eq!(status.doors, None);
    let presence = status.presence.unwrap();
    assert_eq!((presence.reported, presence.active), (LockSet::first(16), set(&[1])));
    let polarity = FeedbackPolarity::ActiveWhenLocked;
    assert_eq!(status.locks.get(lock(1)).map(|a| polarity.lock_state(a)), Some(LockState::Locked));
    // kerong-lib's NCU16L reads the same bit the other way round: configuration, not protocol.
    let ncu16l = FeedbackPolarity::ActiveWhenUnlocked;
    assert_eq!(status.locks.get(lock(1)).map(|a| ncu16l.lock_state(a)), Some(LockState::Unlocked));
    // v041: board 1, nothing hooked, nothing present.
    let (board, Response::Status(status)) = BASE.response(&reply("02 10 36 00 00 00 00 03 4B", None)).unwrap() else {
        panic!()
    };
    assert_eq!(board, 1);
    assert!(status.locks.active.is_empty());
    // Extended replies give the parameter they confirm.
    let response = |text| EXTENDED.response(&reply_with(&EXTENDED, text, None)).unwrap();
    assert_eq!(response("02 10 38 00 00 00 37 03 84"), (1, Response::Parameter(Parameter::UnlockTimeMs(550))));
    assert_eq!(response("02 20 39 01 00 00 01 03 60"), (2, Response::Ack));
    assert_eq!(response("02 00 40 01 00 00 01 03 47"), (0, Response::Parameter(Parameter::BaudRate(DEFAULT_BAUD))));
}

#[test]
fn board_side_reply_mapping() {
    let status = BoardStatus {
        locks: ChannelBits::from_bitmap(16, set(&[9, 10])),
        doors: None,
        presence: Some(ChannelBits::from_bitmap(16, set(&[1]))),
    };
    let bus = Cu16Request::QueryAllBoards { board: BUS_BOARD };
    let r = BASE.reply(0, &bus, &Response::Status(status)).unwrap();
    assert_eq!(encode_rep(&BASE, &r), hex("02 00 36 00 03 01 00 03 3F")); // doc §5(3)
    let r = BASE.reply(0, &Cu16Request::QueryStatus { board: 0 }, &Response::Status(status)).unwrap();
    assert_eq!(encode_rep(&BASE, &r), hex("02 00 35 00 03 01 00 03 3E"));
    // A CU16 status without presence bits would invent "empty" compartments: refused.
    let no_presence = BoardStatus { presence: None, ..status };
    assert!(BASE.reply(0, &Cu16Request::QueryStatus { board: 0 }, &Response::Status(no_presence)).is_err());
    // The board never answers an unlock.
    assert!(BASE.reply(0, &Cu16Request::Unlock { board: 0, lock: lock(1) }, &Response::Ack).is_err());
    assert!(BASE.reply(16, &Cu16Request::QueryStatus { board: 0 }, &Response::Status(status)).is_err());
    // Extended answers through the neutral mapping.
    let set_time = Cu16Request::SetUnlockTime { board: 0, time_10ms: 100 };
    let r = EXTENDED.reply(0, &set_time, &Response::Parameter(Parameter::UnlockTimeMs(1000))).unwrap();
    assert_eq!(encode_rep(&EXTENDED, &r), hex("02 00 38 00 00 00 64 03 A1")); // doc §5(5)
    let set_baud = Cu16Request::SetBaudRate { board: BUS_BOARD, baud: KerongBaudRate::Baud9600 };
    let r = EXTENDED.reply(1, &set_baud, &Response::Parameter(Parameter::BaudRate(9600))).unwrap();
    assert_eq!(encode_rep(&EXTENDED, &r), hex("02 10 40 00 00 00 00 03 55")); // doc §5(8)
    let set_delay = Cu16Request::SetDelayedUnlock { board: 0, seconds: 1 };
    assert!(EXTENDED.reply(0, &set_delay, &Response::Ack).is_ok());
    assert!(BASE.reply(0, &set_delay, &Response::Ack).is_err());
}

#[cfg(feature = "serde")]
#[test]
fn serde_shape_is_struct_variants() {
    let json = serde_json::to_value(Cu16Request::Unlock { board: 1, lock: lock(3) }).unwrap();
    assert_eq!(json, serde_json::json!({"unlock": {"board": 1, "lock": 3}}));
    let r = Cu16Reply::BusStatus { board: 1, hooks: set(&[1]), presence: set(&[12]) };
    let json = serde_json::to_value(r).unwrap();
    assert_eq!(json, serde_json::json!({"bus_status": {"board": 1, "hooks": [1], "presence": [12]}}));
    assert_eq!(serde_json::from_value::<Cu16Reply>(json).unwrap(), r);
}

// ---- property tests ----

fn board_strategy() -> impl Strategy<Value = u8> {
    0..=15u8
}

fn bits_strategy() -> impl Strategy<Value = LockSet> {
    any::<u16>().prop_map(|bits| LockSet::from_bits(bits.into()))
}

fn baud_strategy() -> impl Strategy<Value = KerongBaudRate> {
    any::<u8>().prop_map(KerongBaudRate::from_code)
}

fn base_request_strategy() -> impl Strategy<Value = Cu16Request> {
    use Cu16Request as Q;
    prop_oneof![
        board_strategy().prop_map(|board| Q::QueryStatus { board }),
        (board_strategy(), 1..=16u8).prop_map(|(board, n)| Q::Unlock { board, lock: lock(n) }),
        board_strategy().prop_map(|board| Q::QueryAllBoards { board }),
        board_strategy().prop_map(|board| Q::UnlockAll { board }),
    ]
}

fn request_strategy() -> impl Strategy<Value = Cu16Request> {
    use Cu16Request as Q;
    prop_oneof![
        base_request_strategy(),
        board_strategy().prop_map(|board| Q::QueryUnlockTime { board }),
        (board_strategy(), any::<u16>())
            // The one value per board whose frame starts like the query (see the module docs).
            .prop_filter("not the query's twin", |&(board, t)| t
                != u16::from_be_bytes([0x03, 0x3Cu8.wrapping_add(board << 4)]))
            .prop_map(|(board, time_10ms)| Q::SetUnlockTime { board, time_10ms }),
        (board_strategy(), any::<u8>()).prop_map(|(board, seconds)| Q::SetDelayedUnlock { board, seconds }),
        (board_strategy(), baud_strategy()).prop_map(|(board, baud)| Q::SetBaudRate { board, baud }),
    ]
}

fn base_reply_strategy() -> impl Strategy<Value = Cu16Reply> {
    use Cu16Reply as R;
    prop_oneof![
        (board_strategy(), bits_strategy(), bits_strategy()).prop_map(|(board, hooks, presence)| R::Status {
            board,
            hooks,
            presence
        }),
        (board_strategy(), bits_strategy(), bits_strategy()).prop_map(|(board, hooks, presence)| R::BusStatus {
            board,
            hooks,
            presence
        }),
    ]
}

fn reply_strategy() -> impl Strategy<Value = Cu16Reply> {
    use Cu16Reply as R;
    prop_oneof![
        base_reply_strategy(),
        (board_strategy(), bits_strategy(), any::<u16>()).prop_map(|(board, hooks, time_10ms)| R::UnlockTime {
            board,
            hooks,
            time_10ms
        }),
        (board_strategy(), bits_strategy(), bits_strategy()).prop_map(|(board, hooks, presence)| R::DelayedUnlockSet {
            board,
            hooks,
            presence
        }),
        (board_strategy(), bits_strategy(), any::<u8>(), baud_strategy())
            .prop_map(|(board, hooks, data3, baud)| R::BaudRateSet { board, hooks, data3, baud }),
    ]
}

fn garbage_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>().prop_filter("no STX", |b| *b != 0x02), 0..24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn request_round_trip(request in request_strategy()) {
        let bytes = encode_req(&EXTENDED, &request);
        let decoded = EXTENDED.decode_request(&bytes).unwrap();
        prop_assert_eq!((decoded.message, decoded.len), (request, bytes.len()));
    }

    #[test]
    fn reply_round_trip(reply in reply_strategy()) {
        let bytes = encode_rep(&EXTENDED, &reply);
        let decoded = EXTENDED.decode_reply(&bytes, None).unwrap();
        prop_assert_eq!((decoded.message, decoded.len), (reply, bytes.len()));
    }

    #[test]
    fn base_dialect_round_trips_base_messages(request in base_request_strategy(), reply in base_reply_strategy()) {
        let bytes = encode_req(&BASE, &request);
        prop_assert_eq!(BASE.decode_request(&bytes).map(|d| d.message), Ok(request));
        let bytes = encode_rep(&BASE, &reply);
        prop_assert_eq!(BASE.decode_reply(&bytes, None).map(|d| d.message), Ok(reply));
    }

    #[test]
    fn request_streams_chunk_alike(requests in prop::collection::vec(request_strategy(), 1..6)) {
        let stream: Vec<u8> = requests.iter().flat_map(|r| encode_req(&EXTENDED, r)).collect();
        let (frames, rejected) = decode_chunked(&EXTENDED, Direction::Request, None, &stream, &[stream.len()]);
        prop_assert_eq!(rejected, 0);
        let decoded: Vec<_> = frames.into_iter().map(|(_, _, m)| m).collect();
        let expected: Vec<_> = requests.into_iter().map(Message::Request).collect();
        prop_assert_eq!(decoded, expected);
        assert_any_chunking_same(&EXTENDED, Direction::Request, None, &stream);
    }

    #[test]
    fn reply_streams_chunk_alike(replies in prop::collection::vec(reply_strategy(), 1..5)) {
        let stream: Vec<u8> = replies.iter().flat_map(|r| encode_rep(&EXTENDED, r)).collect();
        let (frames, rejected) = decode_chunked(&EXTENDED, Direction::Reply, None, &stream, &[stream.len()]);
        prop_assert_eq!(rejected, 0);
        prop_assert_eq!(frames.len(), replies.len());
        assert_any_chunking_same(&EXTENDED, Direction::Reply, None, &stream);
    }

    #[test]
    fn garbage_around_a_request_resyncs(request in request_strategy(), garbage in garbage_strategy()) {
        assert_resyncs(&EXTENDED, Direction::Request, None, &garbage, &encode_req(&EXTENDED, &request));
    }

    #[test]
    fn garbage_around_a_reply_resyncs(reply in reply_strategy(), garbage in garbage_strategy()) {
        assert_resyncs(&EXTENDED, Direction::Reply, None, &garbage, &encode_rep(&EXTENDED, &reply));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        pending in prop::option::of(request_strategy()),
        extended in any::<bool>(),
    ) {
        let dialect = KerongCu16::new().with_extended_commands(extended);
        let _ = dialect.decode_request(&bytes);
        let _ = dialect.decode_reply(&bytes, None);
        let _ = dialect.decode_reply(&bytes, pending.as_ref());
        for direction in [Direction::Request, Direction::Reply] {
            let mut decoder = StreamDecoder::<KerongCu16, 256>::new(dialect, direction);
            decoder.set_pending(pending);
            let mut consumed = 0u64;
            for event in decoder.feed(&bytes) {
                match event {
                    Event::Frame { len, .. } => consumed += len as u64,
                    Event::Rejected(run) => consumed += run.skipped as u64,
                }
            }
            if let Some(Event::Rejected(run)) = decoder.finish() {
                consumed += run.skipped as u64;
            }
            prop_assert_eq!(consumed, bytes.len() as u64);
        }
    }

    #[test]
    fn neutral_status_round_trips(board in board_strategy(), hooks in bits_strategy(), presence in bits_strategy()) {
        let status = BoardStatus {
            locks: ChannelBits::from_bitmap(16, hooks),
            doors: None,
            presence: Some(ChannelBits::from_bitmap(16, presence)),
        };
        let request = Cu16Request::QueryStatus { board };
        let reply = BASE.reply(board, &request, &Response::Status(status)).unwrap();
        let bytes = encode_rep(&BASE, &reply);
        let decoded = BASE.decode_reply(&bytes, Some(&request)).unwrap().message;
        prop_assert_eq!(BASE.response(&decoded), Some((board, Response::Status(status))));
    }
}

#[cfg(feature = "arbitrary")]
proptest! {
    #[test]
    fn arbitrary_messages_that_encode_round_trip(seed in prop::collection::vec(any::<u8>(), 0..64)) {
        use arbitrary::{Arbitrary, Unstructured};
        let mut u = Unstructured::new(&seed);
        if let Ok(request) = Cu16Request::arbitrary(&mut u) {
            let mut out = [0u8; 16];
            if let Ok(n) = EXTENDED.encode_request(&request, &mut out) {
                prop_assert_eq!(EXTENDED.decode_request(&out[..n]).map(|d| d.message), Ok(request));
            }
        }
        if let Ok(reply) = Cu16Reply::arbitrary(&mut u) {
            let mut out = [0u8; 16];
            if let Ok(n) = EXTENDED.encode_reply(&reply, &mut out) {
                prop_assert_eq!(EXTENDED.decode_reply(&out[..n], None).map(|d| d.message), Ok(reply));
            }
        }
    }
}
