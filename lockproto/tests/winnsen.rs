//! The Winnsen smart-locker board (reference/lockboards.md §6): vectors, frames from LocQar and
//! pudokiosk, configuration of the conflicting sources, neutral mapping and streaming properties.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{assert_any_chunking_same, assert_resyncs, decode_chunked, hex, vectors};
use lockproto::dialect::winnsen::{
    BAUD_RATE, LockReading, OpenOutcome, RESPONSE_TIMEOUT_MS, ReplyCodeVariant, StatusCommand, Winnsen, WinnsenReply,
    WinnsenRequest,
};
use lockproto::stream::{Direction, Message};
use lockproto::{
    BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, Dialect, EncodeError, FeedbackPolarity,
    FrameError, Lock, LockSet, LockState, ReplyExpectation, Response,
};
use proptest::prelude::*;

fn lock(n: u8) -> Lock {
    Lock::new(n).unwrap()
}

fn locks(ns: &[u8]) -> LockSet {
    ns.iter().map(|&n| lock(n)).collect()
}

fn station_zero() -> Winnsen {
    Winnsen { allow_station_zero: true, ..Winnsen::default() }
}

fn encode_request(d: &Winnsen, request: &WinnsenRequest) -> Vec<u8> {
    let mut out = [0u8; 16];
    let n = d.encode_request(request, &mut out).unwrap();
    out[..n].to_vec()
}

fn encode_reply(d: &Winnsen, reply: &WinnsenReply) -> Vec<u8> {
    let mut out = [0u8; 16];
    let n = d.encode_reply(reply, &mut out).unwrap();
    out[..n].to_vec()
}

fn decode_request(d: &Winnsen, bytes: &[u8]) -> WinnsenRequest {
    let decoded = d.decode_request(bytes).unwrap();
    assert_eq!(decoded.len, bytes.len(), "{bytes:02X?}");
    assert_eq!(encode_request(d, &decoded.message), bytes, "re-encodes");
    decoded.message
}

fn decode_reply(d: &Winnsen, bytes: &[u8], pending: Option<&WinnsenRequest>) -> WinnsenReply {
    let decoded = d.decode_reply(bytes, pending).unwrap();
    assert_eq!(decoded.len, bytes.len(), "{bytes:02X?}");
    assert_eq!(encode_reply(d, &decoded.message), bytes, "re-encodes");
    decoded.message
}

fn status_of(d: &Winnsen, reply: &WinnsenReply) -> ChannelBits {
    match d.response(reply).unwrap().1 {
        Response::Status(BoardStatus { locks, doors: None, presence: None }) => locks,
        other => panic!("not a status: {other:?}"),
    }
}

#[test]
fn every_vector_decodes_to_its_meaning_and_re_encodes() {
    let d = Winnsen::default();
    let all = vectors("winnsen_90");
    assert_eq!(all.len(), 3);
    for v in &all {
        assert!(v.reject.is_none(), "{}", v.id);
        let m = &v.meaning;
        let station = u8::try_from(m["station"].as_u64().unwrap()).unwrap();
        let number = lock(u8::try_from(m["lock"].as_u64().unwrap()).unwrap());
        match v.direction {
            Direction::Request => {
                // v134 90 06 05 01 05 03, v135 90 06 05 01 01 03: open.
                assert_eq!(m["cmd"], "open", "{}", v.id);
                assert_eq!(m["fn"], "0x05", "{}", v.id);
                assert_eq!(
                    decode_request(&d, &v.bytes),
                    WinnsenRequest::Open { board: station, lock: number },
                    "{}",
                    v.id
                );
            }
            Direction::Reply => {
                // v137 90 07 85 01 05 01 03: opened.
                assert_eq!(m["reply_to"], "open", "{}", v.id);
                assert_eq!(m["fn"], "0x85", "{}", v.id);
                assert_eq!(m["status"], "0x01", "{}", v.id);
                assert_eq!(m["status_meaning"], "opened", "{}", v.id);
                let pending = WinnsenRequest::Open { board: station, lock: number };
                let expected = WinnsenReply::OpenResult {
                    variant: ReplyCodeVariant::Documented,
                    board: station,
                    lock: number,
                    outcome: OpenOutcome::Opened,
                };
                assert_eq!(decode_reply(&d, &v.bytes, Some(&pending)), expected, "{}", v.id);
                assert_eq!(decode_reply(&d, &v.bytes, None), expected, "{}", v.id);
                assert_eq!(d.response(&expected), Some((station, Response::Ack)), "{}", v.id);
            }
        }
    }
}

#[test]
fn locqar_codec_test_frames() {
    // LocQar/winnsen-test WinnsenCodecTest.kt @eb855f32.
    let d = Winnsen::default();
    // buildPollCommand(station = 2, mask = 0x0FFF) = 90 07 02 02 FF 0F 03.
    let poll = decode_request(&d, &hex("90 07 02 02 FF 0F 03"));
    assert_eq!(poll, WinnsenRequest::Poll { board: 2, locks: LockSet::first(12) });
    // parseOpenResponse with failed open: 90 07 85 01 03 00 03.
    let failed = decode_reply(&d, &hex("90 07 85 01 03 00 03"), None);
    assert_eq!(
        failed,
        WinnsenReply::OpenResult {
            variant: ReplyCodeVariant::Documented,
            board: 1,
            lock: lock(3),
            outcome: OpenOutcome::Failed
        }
    );
    assert_eq!(
        d.response(&failed),
        Some((1, Response::DeviceError(DeviceError { code: 0, kind: DeviceErrorKind::Failed })))
    );
    // "round-trip open command": station 3 lock 7, reply 90 07 85 03 07 01 03.
    let open = d.request(3, &Command::Unlock(lock(7))).unwrap();
    assert_eq!(encode_request(&d, &open), hex("90 06 05 03 07 03"));
    assert!(matches!(
        decode_reply(&d, &hex("90 07 85 03 07 01 03"), Some(&open)),
        WinnsenReply::OpenResult { board: 3, outcome: OpenOutcome::Opened, .. }
    ));
    // Poll replies: all closed, door 1 open, doors 1 and 9 open, all open (bit = 1 open).
    let pending = WinnsenRequest::Poll { board: 1, locks: LockSet::first(16) };
    let cases: [(&str, LockSet); 4] = [
        ("90 07 82 01 00 00 03", LockSet::EMPTY),
        ("90 07 82 01 01 00 03", locks(&[1])),
        ("90 07 82 01 01 01 03", locks(&[1, 9])),
        ("90 07 82 01 FF FF 03", LockSet::first(16)),
    ];
    for (frame, open) in cases {
        let reply = decode_reply(&d, &hex(frame), Some(&pending));
        assert_eq!(
            reply,
            WinnsenReply::PollResult { variant: ReplyCodeVariant::Documented, board: 1, open },
            "{frame}"
        );
        let bits = status_of(&d, &reply);
        assert_eq!(bits.reported, LockSet::first(16));
        assert_eq!(bits.active, open);
        // Winnsen's bit = 1 is open: ActiveWhenUnlocked.
        for n in 1..=16 {
            let state = FeedbackPolarity::ActiveWhenUnlocked.lock_state(bits.get(lock(n)).unwrap());
            assert_eq!(state == LockState::Unlocked, open.contains(lock(n)));
        }
    }
    // parseOpenResponse returns null for 00 and for nothing.
    assert_eq!(d.decode_reply(&[0x00], None), Err(FrameError::BadStart { offset: 0, found: 0x00 }));
    assert_eq!(d.decode_reply(&[], None), Err(FrameError::Incomplete));
    // buildOpenCommand rejects station 0 and lock 17.
    assert!(matches!(d.request(0, &Command::Unlock(lock(1))), Err(EncodeError::OutOfRange { field: "board", .. })));
    assert!(matches!(d.request(1, &Command::Unlock(lock(17))), Err(EncodeError::OutOfRange { field: "lock", .. })));
}

#[test]
fn alternate_reply_codes_are_kept() {
    // LocQar WinnsenCodec.kt @56df62bc: A5 "alternate (seen on some boards)", A2 "alternate
    // (confirmed on Godwin's board)"; the LocQar Node codec accepts the same pair.
    let d = Winnsen::default();
    let open = WinnsenRequest::Open { board: 1, lock: lock(5) };
    assert_eq!(
        decode_reply(&d, &hex("90 07 A5 01 05 01 03"), Some(&open)),
        WinnsenReply::OpenResult {
            variant: ReplyCodeVariant::Alternate,
            board: 1,
            lock: lock(5),
            outcome: OpenOutcome::Opened
        }
    );
    let poll = WinnsenRequest::Poll { board: 1, locks: LockSet::first(16) };
    assert_eq!(
        decode_reply(&d, &hex("90 07 A2 01 01 01 03"), Some(&poll)),
        WinnsenReply::PollResult { variant: ReplyCodeVariant::Alternate, board: 1, open: locks(&[1, 9]) }
    );
    // A board simulator configured for the alternate codes answers with them.
    let godwin = Winnsen { reply_variant: ReplyCodeVariant::Alternate, ..Winnsen::default() };
    let status = Response::Status(BoardStatus {
        locks: ChannelBits::from_bitmap(16, locks(&[1, 9])),
        doors: None,
        presence: None,
    });
    assert_eq!(encode_reply(&godwin, &godwin.reply(1, &poll, &status).unwrap()), hex("90 07 A2 01 01 01 03"));
    assert_eq!(encode_reply(&godwin, &godwin.reply(1, &open, &Response::Ack).unwrap()), hex("90 07 A5 01 05 01 03"));
    // Other codes are no reply.
    assert_eq!(
        d.decode_reply(&hex("90 07 C5 01 05 01 03"), None),
        Err(FrameError::UnknownCommand { offset: 2, found: 0xC5 })
    );
}

#[test]
fn pudokiosk_frames() {
    // pudokiosk WinnsenProtocolTest responseFrame_fromByteArray_validFrame: station 0.
    let v1 = station_zero();
    let reply =
        decode_reply(&v1, &hex("90 07 85 00 01 01 03"), Some(&WinnsenRequest::Open { board: 0, lock: lock(1) }));
    assert_eq!(
        reply,
        WinnsenReply::OpenResult {
            variant: ReplyCodeVariant::Documented,
            board: 0,
            lock: lock(1),
            outcome: OpenOutcome::Opened
        }
    );
    // ... which the LocQar-style default refuses.
    assert_eq!(
        Winnsen::default().decode_reply(&hex("90 07 85 00 01 01 03"), None),
        Err(FrameError::BadField { offset: 3, field: "station", found: 0 })
    );
    // commandFrame_toHexString: "Should be 90 06 12 00 01 03" (status of lock 1, station 0).
    assert_eq!(decode_request(&v1, &hex("90 06 12 00 01 03")), WinnsenRequest::LockStatus { board: 0, lock: lock(1) });
    // commandFrame_toByteArray (later version, STATION_0 = 0x01): 90 06 05 01 05 03.
    assert_eq!(decode_request(&v1, &hex("90 06 05 01 05 03")), WinnsenRequest::Open { board: 1, lock: lock(5) });
    // Status reply 90 07 92 ss st ll 03: status before lock ("NOTE: status/lock swapped!").
    let query = WinnsenRequest::LockStatus { board: 1, lock: lock(5) };
    let open = decode_reply(&v1, &hex("90 07 92 01 01 05 03"), Some(&query));
    assert_eq!(open, WinnsenReply::LockStatus { board: 1, lock: lock(5), reading: LockReading::Open });
    assert_eq!(status_of(&v1, &open), ChannelBits { reported: locks(&[5]), active: locks(&[5]) });
    let closed = decode_reply(&v1, &hex("90 07 92 01 00 05 03"), Some(&query));
    assert_eq!(status_of(&v1, &closed), ChannelBits { reported: locks(&[5]), active: LockSet::EMPTY });
    // Cool-down (STATUS_COOLDOWN = 0x02, duty-cycle protection) is a busy device error.
    let cooldown = decode_reply(&v1, &hex("90 07 85 01 05 02 03"), None);
    assert_eq!(
        v1.response(&cooldown),
        Some((1, Response::DeviceError(DeviceError { code: 2, kind: DeviceErrorKind::Busy })))
    );
    // isValid() rejects: bad header, RESP_LENGTH 06, frame end FF, lock 0; and a 5-byte frame
    // (responseFrame_fromByteArray_wrongSize) is not complete.
    assert_eq!(
        v1.decode_reply(&hex("00 07 85 00 01 01 03"), None),
        Err(FrameError::BadStart { offset: 0, found: 0x00 })
    );
    assert!(matches!(
        v1.decode_reply(&hex("90 06 85 00 01 01 03"), None),
        Err(FrameError::BadLength { offset: 1, found: 6, .. })
    ));
    assert_eq!(
        v1.decode_reply(&hex("90 07 85 00 01 01 FF"), None),
        Err(FrameError::BadMarker { offset: 6, expected: 0x03, found: 0xFF })
    );
    assert_eq!(
        v1.decode_reply(&hex("90 07 85 00 00 01 03"), None),
        Err(FrameError::BadField { offset: 4, field: "lock", found: 0 })
    );
    assert_eq!(v1.decode_reply(&hex("90 07 85 00 01"), None), Err(FrameError::Incomplete));
}

#[test]
fn replies_must_answer_the_pending_request() {
    let d = Winnsen::default();
    let open = WinnsenRequest::Open { board: 1, lock: lock(5) };
    // v137 answers station 1 lock 5.
    let v137 = hex("90 07 85 01 05 01 03");
    assert_eq!(
        d.decode_reply(&v137, Some(&WinnsenRequest::Open { board: 2, lock: lock(5) })),
        Err(FrameError::Mismatch { offset: 3, field: "station", expected: 2, found: 1 })
    );
    assert_eq!(
        d.decode_reply(&v137, Some(&WinnsenRequest::Open { board: 1, lock: lock(6) })),
        Err(FrameError::Mismatch { offset: 4, field: "lock", expected: 6, found: 5 })
    );
    assert_eq!(
        d.decode_reply(&v137, Some(&WinnsenRequest::Poll { board: 1, locks: LockSet::first(16) })),
        Err(FrameError::Mismatch { offset: 2, field: "function", expected: 0x82, found: 0x85 })
    );
    assert_eq!(
        d.decode_reply(&hex("90 07 82 01 00 00 03"), Some(&open)),
        Err(FrameError::Mismatch { offset: 2, field: "function", expected: 0x85, found: 0x82 })
    );
    // The status reply's lock is at byte 5.
    assert_eq!(
        d.decode_reply(&hex("90 07 92 01 01 05 03"), Some(&WinnsenRequest::LockStatus { board: 1, lock: lock(4) })),
        Err(FrameError::Mismatch { offset: 5, field: "lock", expected: 4, found: 5 })
    );
}

#[test]
fn requests_are_rejected_early_and_precisely() {
    let d = Winnsen::default();
    assert_eq!(d.decode_request(&[0x55]), Err(FrameError::BadStart { offset: 0, found: 0x55 }));
    assert_eq!(d.decode_request(&[0x90]), Err(FrameError::Incomplete));
    assert!(matches!(d.decode_request(&[0x90, 0x08]), Err(FrameError::BadLength { offset: 1, found: 8, .. })));
    assert_eq!(d.decode_request(&[0x90, 0x06, 0x07]), Err(FrameError::UnknownCommand { offset: 2, found: 0x07 }));
    // Open is 6 bytes, poll 7.
    assert!(matches!(d.decode_request(&[0x90, 0x07, 0x05]), Err(FrameError::BadLength { offset: 1, found: 7, .. })));
    assert!(matches!(d.decode_request(&[0x90, 0x06, 0x02]), Err(FrameError::BadLength { offset: 1, found: 6, .. })));
    assert_eq!(
        d.decode_request(&[0x90, 0x06, 0x05, 0x00]),
        Err(FrameError::BadField { offset: 3, field: "station", found: 0 })
    );
    assert_eq!(
        d.decode_request(&[0x90, 0x06, 0x05, 0x01, 0x11]),
        Err(FrameError::BadField { offset: 4, field: "lock", found: 0x11 })
    );
    assert_eq!(
        d.decode_request(&hex("90 06 05 01 05 04")),
        Err(FrameError::BadMarker { offset: 5, expected: 0x03, found: 0x04 })
    );
    // Replies are not requests, and requests are not replies.
    assert_eq!(
        d.decode_request(&hex("90 07 85 01 05 01 03")),
        Err(FrameError::UnknownCommand { offset: 2, found: 0x85 })
    );
    assert!(matches!(d.decode_reply(&hex("90 06 05 01 05 03"), None), Err(FrameError::BadLength { offset: 1, .. })));
    assert_eq!(
        d.decode_reply(&hex("90 07 02 01 FF FF 03"), None),
        Err(FrameError::UnknownCommand { offset: 2, found: 0x02 })
    );
    // Trailing bytes are left alone.
    assert_eq!(d.decode_request(&hex("90 06 05 01 05 03 90 06")).unwrap().len, 6);
}

#[test]
fn neutral_requests_follow_the_configuration() {
    let locqar = Winnsen::default();
    let cases: [(u8, Command, &str); 4] = [
        (1, Command::Unlock(lock(5)), "90 06 05 01 05 03"),       // v134
        (1, Command::Unlock(lock(1)), "90 06 05 01 01 03"),       // v135
        (1, Command::QueryAll, "90 07 02 01 FF FF 03"),           // LocQar CLI buildPollCmd default
        (2, Command::QueryLock(lock(9)), "90 07 02 02 00 01 03"), // LocQar buildMask([9])
    ];
    for (board, command, frame) in cases {
        let request = locqar.request(board, &command).unwrap();
        assert_eq!(encode_request(&locqar, &request), hex(frame), "{command:?}");
        assert_eq!(locqar.command(&request), Some((board, command)));
        assert_eq!(locqar.reply_expectation(&request), ReplyExpectation::One);
    }
    // LocQar's kiosk codec polls 12 doors.
    let kiosk = Winnsen { poll_mask: 0x0FFF, ..Winnsen::default() };
    assert_eq!(encode_request(&kiosk, &kiosk.request(2, &Command::QueryAll).unwrap()), hex("90 07 02 02 FF 0F 03"));
    // pudokiosk reads one lock with 12; it has no query-all.
    let pudo = Winnsen { status_command: StatusCommand::LockStatus, allow_station_zero: true, ..Winnsen::default() };
    let request = pudo.request(0, &Command::QueryLock(lock(1))).unwrap();
    assert_eq!(encode_request(&pudo, &request), hex("90 06 12 00 01 03"));
    assert_eq!(pudo.command(&request), Some((0, Command::QueryLock(lock(1)))));
    assert!(matches!(pudo.request(1, &Command::QueryAll), Err(EncodeError::Unsupported { dialect: "winnsen", .. })));
    for command in [Command::UnlockAll, Command::QueryAddress, Command::BoardInfo] {
        assert!(matches!(locqar.request(1, &command), Err(EncodeError::Unsupported { .. })), "{command:?}");
    }
}

#[test]
fn neutral_responses_and_board_side_replies() {
    let d = Winnsen::default();
    let open = WinnsenRequest::Open { board: 1, lock: lock(5) };
    // v137 from Ack; failed and cool-down from their device errors; unknown codes kept.
    assert_eq!(encode_reply(&d, &d.reply(1, &open, &Response::Ack).unwrap()), hex("90 07 85 01 05 01 03"));
    let error = |code, kind| Response::DeviceError(DeviceError { code, kind });
    let cases = [
        (error(0, DeviceErrorKind::Failed), "90 07 85 01 05 00 03"),
        (error(2, DeviceErrorKind::Busy), "90 07 85 01 05 02 03"),
        (error(7, DeviceErrorKind::Other), "90 07 85 01 05 07 03"),
    ];
    for (response, frame) in cases {
        let reply = d.reply(1, &open, &response).unwrap();
        assert_eq!(encode_reply(&d, &reply), hex(frame));
        assert_eq!(d.response(&reply), Some((1, response)));
    }
    assert!(matches!(d.reply(1, &open, &error(1, DeviceErrorKind::Other)), Err(EncodeError::Unsupported { .. })));
    // A poll reply from a 16-channel reading, active = open.
    let poll = WinnsenRequest::Poll { board: 1, locks: LockSet::first(16) };
    let reading = Response::Status(BoardStatus {
        locks: ChannelBits::from_bitmap(16, locks(&[1, 9])),
        doors: None,
        presence: None,
    });
    let reply = d.reply(1, &poll, &reading).unwrap();
    assert_eq!(encode_reply(&d, &reply), hex("90 07 82 01 01 01 03"));
    assert_eq!(d.response(&reply), Some((1, reading)));
    // The status command: open lock 5.
    let status = WinnsenRequest::LockStatus { board: 1, lock: lock(5) };
    let one = Response::Status(BoardStatus {
        locks: ChannelBits { reported: locks(&[5]), active: locks(&[5]) },
        doors: None,
        presence: None,
    });
    let reply = d.reply(1, &status, &one).unwrap();
    assert_eq!(encode_reply(&d, &reply), hex("90 07 92 01 01 05 03"));
    assert_eq!(d.response(&reply), Some((1, one)));
    let unknown = WinnsenReply::LockStatus { board: 1, lock: lock(5), reading: LockReading::Unknown { code: 9 } };
    assert_eq!(d.response(&unknown), Some((1, error(9, DeviceErrorKind::Other))));
    assert!(matches!(d.reply(1, &status, &Response::Ack), Err(EncodeError::Unsupported { .. })));
}

#[test]
fn encoding_refuses_what_the_wire_cannot_carry() {
    let d = Winnsen::default();
    let mut out = [0u8; 16];
    assert!(matches!(
        d.encode_request(&WinnsenRequest::Open { board: 1, lock: lock(17) }, &mut out),
        Err(EncodeError::OutOfRange { field: "lock", .. })
    ));
    assert!(matches!(
        d.encode_request(&WinnsenRequest::Poll { board: 1, locks: locks(&[17]) }, &mut out),
        Err(EncodeError::OutOfRange { field: "locks", .. })
    ));
    // Unknown { code: 1 } would decode as Opened: refused so every frame round-trips.
    let hidden = WinnsenReply::OpenResult {
        variant: ReplyCodeVariant::Documented,
        board: 1,
        lock: lock(1),
        outcome: OpenOutcome::Unknown { code: 1 },
    };
    assert!(matches!(d.encode_reply(&hidden, &mut out), Err(EncodeError::OutOfRange { field: "outcome", .. })));
    let hidden = WinnsenReply::LockStatus { board: 1, lock: lock(1), reading: LockReading::Unknown { code: 0 } };
    assert!(matches!(d.encode_reply(&hidden, &mut out), Err(EncodeError::OutOfRange { field: "reading", .. })));
    let mut small = [0u8; 6];
    assert_eq!(
        d.encode_request(&WinnsenRequest::Poll { board: 1, locks: LockSet::EMPTY }, &mut small),
        Err(EncodeError::BufferTooSmall { needed: 7 })
    );
}

#[cfg(feature = "serde")]
#[test]
fn serde_shape_for_lockctl() {
    let request = WinnsenRequest::Poll { board: 2, locks: locks(&[1, 2]) };
    assert_eq!(serde_json::to_value(request).unwrap(), serde_json::json!({"poll": {"board": 2, "locks": [1, 2]}}));
    let reply = WinnsenReply::OpenResult {
        variant: ReplyCodeVariant::Alternate,
        board: 1,
        lock: lock(5),
        outcome: OpenOutcome::Unknown { code: 7 },
    };
    let json = serde_json::to_value(reply).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"open_result": {"variant": "alternate", "board": 1, "lock": 5, "outcome": {"unknown": {"code": 7}}}})
    );
    assert_eq!(serde_json::from_value::<WinnsenReply>(json).unwrap(), reply);
}

#[test]
fn timing_constants() {
    assert_eq!(BAUD_RATE, 9600);
    assert_eq!(RESPONSE_TIMEOUT_MS, 3000);
}

// ---------------------------------------------------------------------------------------------
// Property tests

fn any_lock() -> impl Strategy<Value = Lock> {
    (1u8..=16).prop_map(lock)
}

fn any_mask() -> impl Strategy<Value = LockSet> {
    any::<u16>().prop_map(|bits| LockSet::from_bits(bits.into()))
}

fn any_variant() -> impl Strategy<Value = ReplyCodeVariant> {
    prop_oneof![Just(ReplyCodeVariant::Documented), Just(ReplyCodeVariant::Alternate)]
}

fn any_station() -> impl Strategy<Value = u8> {
    1u8..=255
}

fn any_request() -> impl Strategy<Value = WinnsenRequest> {
    prop_oneof![
        (any_station(), any_lock()).prop_map(|(board, lock)| WinnsenRequest::Open { board, lock }),
        (any_station(), any_mask()).prop_map(|(board, locks)| WinnsenRequest::Poll { board, locks }),
        (any_station(), any_lock()).prop_map(|(board, lock)| WinnsenRequest::LockStatus { board, lock }),
    ]
}

fn any_reply() -> impl Strategy<Value = WinnsenReply> {
    prop_oneof![
        (any_variant(), any_station(), any_lock(), any::<u8>()).prop_map(|(variant, board, lock, code)| {
            WinnsenReply::OpenResult { variant, board, lock, outcome: OpenOutcome::from_code(code) }
        }),
        (any_variant(), any_station(), any_mask()).prop_map(|(variant, board, open)| WinnsenReply::PollResult {
            variant,
            board,
            open
        }),
        (any_station(), any_lock(), any::<u8>()).prop_map(|(board, lock, code)| WinnsenReply::LockStatus {
            board,
            lock,
            reading: LockReading::from_code(code)
        }),
    ]
}

fn pending_for(reply: &WinnsenReply) -> WinnsenRequest {
    match *reply {
        WinnsenReply::OpenResult { board, lock, .. } => WinnsenRequest::Open { board, lock },
        WinnsenReply::PollResult { board, .. } => WinnsenRequest::Poll { board, locks: LockSet::first(16) },
        WinnsenReply::LockStatus { board, lock, .. } => WinnsenRequest::LockStatus { board, lock },
    }
}

/// Garbage without the header byte. With no checksum, a garbage `90 07 02` followed by a frame
/// of station 3 is itself a valid poll request, so resynchronisation without a pending request
/// is only guaranteed past bytes that cannot start a frame.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>().prop_filter("no header", |b| *b != 0x90), 0..12)
}

proptest! {
    #[test]
    fn request_round_trip(request in any_request()) {
        let d = Winnsen::default();
        let bytes = encode_request(&d, &request);
        prop_assert_eq!(d.decode_request(&bytes).unwrap().message, request);
        prop_assert_eq!(d.decode_request(&bytes).unwrap().len, bytes.len());
        for end in 0..bytes.len() {
            prop_assert_eq!(d.decode_request(&bytes[..end]), Err(FrameError::Incomplete));
        }
    }

    #[test]
    fn reply_round_trip(reply in any_reply(), with_pending in any::<bool>()) {
        let d = Winnsen::default();
        let pending = with_pending.then(|| pending_for(&reply));
        let bytes = encode_reply(&d, &reply);
        prop_assert_eq!(bytes.len(), 7);
        prop_assert_eq!(d.decode_reply(&bytes, pending.as_ref()).unwrap().message, reply);
        for end in 0..bytes.len() {
            prop_assert_eq!(d.decode_reply(&bytes[..end], pending.as_ref()), Err(FrameError::Incomplete));
        }
    }

    #[test]
    fn station_zero_round_trips_when_allowed(lock in any_lock(), code in any::<u8>()) {
        let d = station_zero();
        let request = WinnsenRequest::Open { board: 0, lock };
        prop_assert_eq!(decode_request(&d, &encode_request(&d, &request)), request);
        let reply = WinnsenReply::LockStatus { board: 0, lock, reading: LockReading::from_code(code) };
        prop_assert_eq!(decode_reply(&d, &encode_reply(&d, &reply), Some(&pending_for(&reply))), reply);
    }

    #[test]
    fn any_chunking_gives_the_same_frames(
        requests in proptest::collection::vec(any_request(), 1..5),
        replies in proptest::collection::vec(any_reply(), 1..5),
    ) {
        let d = Winnsen::default();
        let bytes: Vec<u8> = requests.iter().flat_map(|r| encode_request(&d, r)).collect();
        assert_any_chunking_same(&d, Direction::Request, None, &bytes);
        let (frames, rejections) = decode_chunked(&d, Direction::Request, None, &bytes, &[bytes.len()]);
        prop_assert_eq!(rejections, 0);
        let found: Vec<_> = frames.into_iter().map(|(_, _, m)| m).collect();
        prop_assert_eq!(found, requests.into_iter().map(Message::Request).collect::<Vec<_>>());

        let bytes: Vec<u8> = replies.iter().flat_map(|r| encode_reply(&d, r)).collect();
        assert_any_chunking_same(&d, Direction::Reply, None, &bytes);
        let (frames, _) = decode_chunked(&d, Direction::Reply, None, &bytes, &[bytes.len()]);
        let found: Vec<_> = frames.into_iter().map(|(_, _, m)| m).collect();
        prop_assert_eq!(found, replies.into_iter().map(Message::Reply).collect::<Vec<_>>());
    }

    #[test]
    fn resyncs_after_garbage(
        request in any_request(),
        reply in any_reply(),
        junk in garbage(),
        any_junk in proptest::collection::vec(any::<u8>(), 0..12),
    ) {
        let d = Winnsen::default();
        assert_resyncs(&d, Direction::Request, None, &junk, &encode_request(&d, &request));
        assert_resyncs(&d, Direction::Reply, None, &junk, &encode_reply(&d, &reply));
        // With the pending request, the echo checks make any garbage safe for replies.
        assert_resyncs(&d, Direction::Reply, Some(pending_for(&reply)), &any_junk, &encode_reply(&d, &reply));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..48),
        pending in proptest::option::of(any_request()),
        zero in any::<bool>(),
    ) {
        let d = Winnsen { allow_station_zero: zero, ..Winnsen::default() };
        let _ = d.decode_request(&bytes);
        let _ = d.decode_reply(&bytes, None);
        let _ = d.decode_reply(&bytes, pending.as_ref());
        decode_chunked(&d, Direction::Reply, pending, &bytes, &[1, 4]);
        decode_chunked(&d, Direction::Request, None, &bytes, &[3]);
    }

    #[test]
    fn decoded_frames_re_encode_identically(bytes in proptest::collection::vec(any::<u8>(), 6..10), zero in any::<bool>()) {
        let d = Winnsen { allow_station_zero: zero, ..Winnsen::default() };
        if let Ok(decoded) = d.decode_request(&bytes) {
            prop_assert_eq!(&encode_request(&d, &decoded.message), &bytes[..decoded.len]);
        }
        if let Ok(decoded) = d.decode_reply(&bytes, None) {
            prop_assert_eq!(&encode_reply(&d, &decoded.message), &bytes[..decoded.len]);
        }
    }

    #[test]
    fn decoded_frames_re_encode_identically_from_header(tail in proptest::collection::vec(any::<u8>(), 6)) {
        // Random bytes rarely start with 90 07: force the header so the property bites.
        let mut bytes = vec![0x90, 0x07];
        bytes.extend(&tail[..5]);
        let d = station_zero();
        if let Ok(decoded) = d.decode_reply(&bytes, None) {
            prop_assert_eq!(encode_reply(&d, &decoded.message), bytes.clone());
        }
        if let Ok(decoded) = d.decode_request(&bytes) {
            prop_assert_eq!(encode_request(&d, &decoded.message), bytes);
        }
    }
}

/// Found by the `roundtrip` fuzz target: the encoder wrote station 0, which the same
/// configuration's decoder refuses. Both sides now agree.
#[test]
fn station_zero_is_refused_on_both_sides_unless_enabled() {
    let request = WinnsenRequest::Open { board: 0, lock: Lock::new(1).unwrap() };
    let mut out = [0u8; 16];
    assert!(Winnsen::default().encode_request(&request, &mut out).is_err());
    let enabled = Winnsen { allow_station_zero: true, ..Winnsen::default() };
    let len = enabled.encode_request(&request, &mut out).unwrap();
    assert_eq!(enabled.decode_request(&out[..len]).unwrap().message, request);
}
