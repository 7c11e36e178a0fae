//! The WKLY dialect: vectors, vendor frames beyond the vectors, properties, neutral mapping.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{assert_any_chunking_same, assert_resyncs, decode_chunked, hex, vectors};
use lockproto::dialect::wkly::{
    MAX_SIMULTANEOUS_UNLOCKS, MAX_STATE_CHANNELS, Wkly, WklyLockState, WklyReply, WklyRequest, WklyStates, WklyStatus,
    WklyUnlockMany,
};
use lockproto::stream::{Direction, Event, Message, StreamDecoder};
use lockproto::{
    BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, Dialect, EncodeError, FrameError, Lock, LockSet,
    ReplyExpectation, Response,
};
use proptest::prelude::*;
use serde_json::Value;

fn lock(n: u8) -> Lock {
    Lock::new(n).unwrap()
}

fn locks(ns: &[u8]) -> LockSet {
    ns.iter().map(|n| lock(*n)).collect()
}

fn encode_request(request: &WklyRequest) -> Vec<u8> {
    let mut out = [0u8; 256];
    let n = Wkly::default().encode_request(request, &mut out).unwrap();
    out[..n].to_vec()
}

fn encode_reply(reply: &WklyReply) -> Vec<u8> {
    let mut out = [0u8; 256];
    let n = Wkly::default().encode_reply(reply, &mut out).unwrap();
    out[..n].to_vec()
}

/// Decodes a whole request frame and checks it re-encodes to the same bytes.
fn request(text: &str) -> WklyRequest {
    let bytes = hex(text);
    let decoded = Wkly::default().decode_request(&bytes).unwrap();
    assert_eq!(decoded.len, bytes.len(), "{text}");
    assert_eq!(encode_request(&decoded.message), bytes, "re-encoding {text}");
    decoded.message
}

/// Decodes a whole reply frame (no pending request) and checks it re-encodes to the same bytes.
fn reply(text: &str) -> WklyReply {
    let bytes = hex(text);
    let decoded = Wkly::default().decode_reply(&bytes, None).unwrap();
    assert_eq!(decoded.len, bytes.len(), "{text}");
    assert_eq!(encode_reply(&decoded.message), bytes, "re-encoding {text}");
    decoded.message
}

fn reply_error(text: &str, pending: Option<&WklyRequest>) -> FrameError {
    Wkly::default().decode_reply(&hex(text), pending).unwrap_err()
}

fn hex_u8(v: &Value) -> u8 {
    u8::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn state_name(state: WklyLockState) -> &'static str {
    match state {
        WklyLockState::Open => "open",
        WklyLockState::Closed => "closed",
        WklyLockState::Failure => "failure",
        WklyLockState::Unknown { .. } => "unknown",
    }
}

/// Checks every field of a vector's `meaning` against the decoded message.
fn check_meaning(id: &str, message: &Message<WklyRequest, WklyReply>, meaning: &Value) {
    let board = meaning["board"].as_u64().unwrap() as u8;
    match message {
        Message::Request(request) => {
            assert_eq!(request.board(), board, "{id} board");
            assert_eq!(request.code(), hex_u8(&meaning["cmd_code"]), "{id} cmd");
            let channels: Vec<u8> =
                meaning["channels"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap() as u8).collect();
            assert_eq!(meaning["count"].as_u64().unwrap() as usize, channels.len(), "{id} count");
            match request {
                WklyRequest::UnlockSequential { locks: set, .. } => assert_eq!(*set, locks(&channels), "{id}"),
                other => panic!("{id}: unexpected {other:?}"),
            }
        }
        Message::Reply(reply) => {
            assert_eq!(reply.board(), board, "{id} board");
            if let Some(code) = meaning.get("cmd_code") {
                assert_eq!(reply.code(), hex_u8(code), "{id} cmd");
            }
            if let Some(status) = meaning.get("status") {
                assert_eq!(reply.status(), Some(WklyStatus::from_code(hex_u8(status))), "{id} status");
            }
            let (channel, state) = match *reply {
                WklyReply::Unlock { lock, state, .. }
                | WklyReply::LockStatus { lock, state, .. }
                | WklyReply::StateChanged { lock, state, .. } => (Some(lock), Some(state)),
                WklyReply::FlashLed { lock, .. }
                | WklyReply::KeepOn { lock, .. }
                | WklyReply::SwitchOff { lock, .. } => (Some(lock), None),
                _ => (None, None),
            };
            if let Some(expected) = meaning.get("channel") {
                assert_eq!(channel.unwrap().get() as u64, expected.as_u64().unwrap(), "{id} channel");
            }
            if let Some(expected) = meaning.get("lock_state") {
                let state = state.unwrap();
                assert_eq!(state.code(), hex_u8(expected), "{id} lock_state");
                assert_eq!(state_name(state), meaning["lock_state_meaning"].as_str().unwrap(), "{id}");
            }
            if let Some(states) = meaning.get("states") {
                let WklyReply::AllStatus { states: decoded, .. } = reply else { panic!("{id}: {reply:?}") };
                assert_eq!(decoded.len() as u64, meaning["channel_count"].as_u64().unwrap(), "{id} N");
                for (channel, name) in states.as_object().unwrap() {
                    let state = decoded.get(lock(channel.parse().unwrap())).unwrap();
                    assert_eq!(state_name(state), name.as_str().unwrap(), "{id} channel {channel}");
                }
            }
        }
    }
}

#[test]
fn every_vector_decodes_to_its_meaning_and_re_encodes() {
    let all = vectors("wkly_framed_xor");
    assert_eq!(all.len(), 10);
    let dialect = Wkly::default();
    for v in all {
        let decoded = match v.direction {
            Direction::Request => dialect.decode_request(&v.bytes).map(|d| (Message::Request(d.message), d.len)),
            Direction::Reply => dialect.decode_reply(&v.bytes, None).map(|d| (Message::Reply(d.message), d.len)),
        };
        match v.reject.as_deref() {
            Some("reject_length") => {
                assert!(matches!(decoded, Err(FrameError::BadLength { .. })), "{}: {decoded:?}", v.id)
            }
            Some(other) => panic!("{}: unexpected expectation {other}", v.id),
            None => {
                let (message, len) = decoded.unwrap_or_else(|e| panic!("{}: {e}", v.id));
                assert_eq!(len, v.bytes.len(), "{}", v.id);
                let encoded = match &message {
                    Message::Request(r) => encode_request(r),
                    Message::Reply(r) => encode_reply(r),
                };
                assert_eq!(encoded, v.bytes, "{} re-encodes", v.id);
                check_meaning(&v.id, &message, &v.meaning);
            }
        }
    }
}

#[test]
fn v132_length_eight_for_a_nine_byte_reply_is_rejected_at_the_length_byte() {
    // v132: the test comment's "57 4B 4C 59 08 00 86 00 86"; the byte array next to it uses LEN 09.
    let error = reply_error("57 4B 4C 59 08 00 86 00 86", None);
    assert_eq!(error, FrameError::BadLength { offset: 4, found: 8, reason: "LEN does not fit the command" });
}

/// Requests from junerver/LockDemo `ExampleUnitTest.kt` @ 2bc816af ("上位机发送"), not in the vectors.
#[test]
fn lockdemo_request_frames() {
    // testOpenMultipleLocksSimultaneously: board 0, doors 1, 2, 3 at once.
    assert_eq!(
        request("57 4B 4C 59 0C 00 80 03 01 02 03 86"),
        WklyRequest::UnlockSimultaneous { board: 0, locks: locks(&[1, 2, 3]) }
    );
    // testFlashChannel: board 0, channel 1.
    assert_eq!(request("57 4B 4C 59 09 00 81 01 80"), WklyRequest::FlashLed { board: 0, lock: lock(1) });
    // testOpenSingleLock; also the EasyIot README demo "开0号板的通道1".
    assert_eq!(request("57 4B 4C 59 09 00 82 01 83"), WklyRequest::Unlock { board: 0, lock: lock(1) });
    // testGetSingleLockStatus.
    assert_eq!(request("57 4B 4C 59 09 00 83 01 82"), WklyRequest::QueryLock { board: 0, lock: lock(1) });
    // testGetAllLocksStatus.
    assert_eq!(request("57 4B 4C 59 08 00 84 85"), WklyRequest::QueryAll { board: 0 });
    // testOpenAllLocks.
    assert_eq!(request("57 4B 4C 59 08 00 86 87"), WklyRequest::UnlockAll { board: 0 });
    // testDifferentBoardAddresses: boards 1 and 10.
    assert_eq!(request("57 4B 4C 59 09 01 82 01 82"), WklyRequest::Unlock { board: 1, lock: lock(1) });
    assert_eq!(request("57 4B 4C 59 09 0A 82 01 89"), WklyRequest::Unlock { board: 10, lock: lock(1) });
}

/// The keep-on / off requests have no demo frame; the layout is LockCtlBoardCmdHelper.java's
/// `buildChannelKeepOpenCommand` / `buildCloseChannelCommand` (one channel byte).
#[test]
fn keep_on_and_switch_off_requests() {
    let keep = WklyRequest::KeepOn { board: 0, lock: lock(2) };
    let off = WklyRequest::SwitchOff { board: 0, lock: lock(2) };
    assert_eq!(encode_request(&keep), hex("57 4B 4C 59 09 00 88 02 8A"));
    assert_eq!(encode_request(&off), hex("57 4B 4C 59 09 00 89 02 8B"));
    assert_eq!(request("57 4B 4C 59 09 00 88 02 8A"), keep);
    assert_eq!(request("57 4B 4C 59 09 00 89 02 8B"), off);
}

/// Replies from junerver/LockDemo `ExampleUnitTest.kt` (testDocDemo and the parse tests'
/// byte arrays) and the ESP32 driver, not in the vectors.
#[test]
fn lockdemo_and_esp32_reply_frames() {
    // testDocDemo #2 / testParseTwoByteResponses: flash reply, channel 1.
    assert_eq!(
        reply("57 4B 4C 59 0A 00 81 00 01 83"),
        WklyReply::FlashLed { board: 0, status: WklyStatus::Success, lock: lock(1) }
    );
    // testDocDemo #3, EasyIot README "设备端回复": door 1 opened, lock_state 00 (open).
    assert_eq!(
        reply("57 4B 4C 59 0B 00 82 00 01 00 81"),
        WklyReply::Unlock { board: 0, status: WklyStatus::Success, lock: lock(1), state: WklyLockState::Open }
    );
    // testParseThreeByteResponses: channel 5, lock_state 01 (closed).
    assert_eq!(
        reply("57 4B 4C 59 0B 00 82 00 05 01 84"),
        WklyReply::Unlock { board: 0, status: WklyStatus::Success, lock: lock(5), state: WklyLockState::Closed }
    );
    // testParseThreeByteResponses byte array (its comment's checksum 85 is wrong, see below): channel 7 open.
    assert_eq!(
        reply("57 4B 4C 59 0B 00 83 00 07 00 86"),
        WklyReply::LockStatus { board: 0, status: WklyStatus::Success, lock: lock(7), state: WklyLockState::Open }
    );
    // testParseTwoByteResponses: channel 3 switched off.
    assert_eq!(
        reply("57 4B 4C 59 0A 00 89 00 03 89"),
        WklyReply::SwitchOff { board: 0, status: WklyStatus::Success, lock: lock(3) }
    );
    // testParseStatusUploadResponse byte array: channel 2 went open.
    assert_eq!(
        reply("57 4B 4C 59 0A 00 85 02 00 84"),
        WklyReply::StateChanged { board: 0, lock: lock(2), state: WklyLockState::Open }
    );
    // testDocDemo #5: query all of a 24-channel board, every door open.
    let all =
        reply("57 4B 4C 59 22 00 84 00 18 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 B7");
    let WklyReply::AllStatus { board: 0, status: WklyStatus::Success, states } = all else { panic!("{all:?}") };
    assert_eq!(states.len(), 24);
    assert!(states.iter().all(|s| s == WklyLockState::Open));
    // ESP32 lock_controller main.c comment: board 1 opened door 4.
    assert_eq!(
        reply("57 4B 4C 59 0B 01 82 00 04 00 85"),
        WklyReply::Unlock { board: 1, status: WklyStatus::Success, lock: lock(4), state: WklyLockState::Open }
    );
}

/// ResponseMatcherTest.kt @ 69e4362c builds replies with `createResponse`; these are its frames.
#[test]
fn response_matcher_frames() {
    let pending = WklyRequest::Unlock { board: 0, lock: lock(1) };
    let dialect = Wkly::default();
    // testIsResponseForCommand_Match.
    let ok = hex("57 4B 4C 59 0B 00 82 00 01 00 81");
    assert!(dialect.decode_reply(&ok, Some(&pending)).is_ok());
    // testIsResponseForCommand_CommandByteMismatch: an 0x83 reply to an 0x82 request.
    assert_eq!(
        reply_error("57 4B 4C 59 0B 00 83 00 01 00 80", Some(&pending)),
        FrameError::Mismatch { offset: 6, field: "command", expected: 0x82, found: 0x83 }
    );
    // testIsResponseForCommand_BoardAddressMismatch: board 1 answers a request to board 0.
    assert_eq!(
        reply_error("57 4B 4C 59 0B 01 82 00 01 00 80", Some(&pending)),
        FrameError::Mismatch { offset: 5, field: "board", expected: 0, found: 1 }
    );
    // testCompleteFlow_OpenLock: channel 2 answered for a channel-1 request is a mismatch...
    assert!(matches!(
        reply_error("57 4B 4C 59 0B 00 82 00 02 00 82", Some(&pending)),
        FrameError::Mismatch { field: "channel", expected: 1, found: 2, .. }
    ));
    // ...and fine for its own request.
    let two = WklyRequest::Unlock { board: 0, lock: lock(2) };
    assert!(dialect.decode_reply(&hex("57 4B 4C 59 0B 00 82 00 02 00 82"), Some(&two)).is_ok());
    // testIsSuccessResponse_Failed: status FF.
    assert_eq!(
        reply("57 4B 4C 59 0B 00 82 FF 01 00 7E"),
        WklyReply::Unlock { board: 0, status: WklyStatus::Failure, lock: lock(1), state: WklyLockState::Open }
    );
    // testGetResponseStatusDescription_Unknown: status 0x88 is kept.
    assert_eq!(
        reply("57 4B 4C 59 0B 00 82 88 01 00 09"),
        WklyReply::Unlock {
            board: 0,
            status: WklyStatus::Unknown { code: 0x88 },
            lock: lock(1),
            state: WklyLockState::Open
        }
    );
    // testIsValidResponseFormat_InvalidStartBytes: first byte FF.
    assert_eq!(reply_error("FF 4B 4C 59 0B 00 82 00 01 00 81", None), FrameError::BadStart { offset: 0, found: 0xFF });
    // testIsValidResponseFormat_InvalidFrameLength: LEN FF.
    assert!(matches!(
        reply_error("57 4B 4C 59 FF 00 82 00 01 00 81", None),
        FrameError::BadLength { offset: 4, found: 255, .. }
    ));
    // testIsSuccessResponse_TooShort and testGetLockStatus_ResponseTooShort: LEN 7, and LEN 8 for 0x82.
    assert!(matches!(reply_error("57 4B 4C 59 07 00 82", None), FrameError::BadLength { found: 7, .. }));
    assert!(matches!(reply_error("57 4B 4C 59 08 00 82 00 01", None), FrameError::BadLength { found: 8, .. }));
    // testGetChannelId_NoChannelInfo builds an 0x84 reply with a status byte only
    // ("57 4B 4C 59 09 00 84 00 84"); the vendor layout (status, N, N states) has no such frame.
    assert!(matches!(reply_error("57 4B 4C 59 09 00 84 00 84", None), FrameError::BadLength { found: 9, .. }));
}

/// Hex strings from the LockDemo test comments that disagree with the byte arrays beside them
/// (reference/lockboards.md §5.3): rejected, never repaired.
#[test]
fn wrong_comment_frames_are_rejected() {
    // testParseStatusUploadResponse comment: checksum 86, array 84.
    assert_eq!(
        reply_error("57 4B 4C 59 0A 00 85 02 00 86", None),
        FrameError::BadChecksum { offset: 9, expected: 0x84, found: 0x86 }
    );
    // testParseThreeByteResponses comment: checksum 85, array 86.
    assert!(matches!(reply_error("57 4B 4C 59 0B 00 83 00 07 00 85", None), FrameError::BadChecksum { .. }));
    // testParseTwoByteResponses comment: checksum 88, array 89 (v127).
    assert!(matches!(reply_error("57 4B 4C 59 0A 00 88 00 02 88", None), FrameError::BadChecksum { .. }));
    // testParseInvalidResponses: bad checksum, too short, unknown command 0x99.
    assert!(matches!(reply_error("57 4B 4C 59 09 00 80 00 00", None), FrameError::BadChecksum { offset: 8, .. }));
    assert!(matches!(reply_error("57 4B 4C 59 05 00 80", None), FrameError::BadLength { found: 5, .. }));
    assert_eq!(reply_error("57 4B 4C 59 09 00 99 00 99", None), FrameError::UnknownCommand { offset: 6, found: 0x99 });
    // testResponseValidation's invalid response: a wrong checksum.
    assert!(matches!(reply_error("57 4B 4C 59 0A 00 81 01 00 01 00", None), FrameError::BadChecksum { .. }));
}

#[test]
fn prefixes_wait_and_impossible_starts_fail_at_once() {
    let dialect = Wkly::default();
    let frame = hex("57 4B 4C 59 0E 00 84 00 04 00 01 01 00 87"); // v124
    for end in 0..frame.len() {
        assert_eq!(dialect.decode_reply(&frame[..end], None).unwrap_err(), FrameError::Incomplete, "prefix {end}");
    }
    assert_eq!(dialect.decode_reply(&hex("57 4B 00"), None).unwrap_err(), FrameError::BadStart { offset: 2, found: 0 });
    // An unknown command fails before the rest of the frame arrives.
    assert!(matches!(dialect.decode_reply(&hex("57 4B 4C 59 09 00 90"), None), Err(FrameError::UnknownCommand { .. })));
    // 0x85 is a reply only; 0x82 with a wrong LEN fails at the length byte.
    assert!(matches!(dialect.decode_request(&hex("57 4B 4C 59 0A 00 85"),), Err(FrameError::UnknownCommand { .. })));
    assert!(matches!(dialect.decode_request(&hex("57 4B 4C 59 0A 00 82"),), Err(FrameError::BadLength { .. })));
    // Bytes after the frame are left alone.
    let mut longer = hex("57 4B 4C 59 09 00 82 01 83");
    longer.extend_from_slice(&[0x57, 0x4B]);
    assert_eq!(dialect.decode_request(&longer).unwrap().len, 9);
}

#[test]
fn lock_lists_must_ascend_and_channels_start_at_one() {
    let dialect = Wkly::default();
    // 57 4B 4C 59 0C 00 87 03 03 01 02 + XOR
    let mut descending = hex("57 4B 4C 59 0C 00 87 03 03 01 02");
    descending.push(lockproto::checksum::xor(&descending));
    assert!(matches!(dialect.decode_request(&descending), Err(FrameError::BadField { offset: 9, .. })));
    let mut zero = hex("57 4B 4C 59 09 00 82 00");
    zero.push(lockproto::checksum::xor(&zero));
    assert_eq!(
        dialect.decode_request(&zero).unwrap_err(),
        FrameError::BadField { offset: 7, field: "channel", found: 0 }
    );
    let mut empty = hex("57 4B 4C 59 09 00 80 00");
    empty.push(lockproto::checksum::xor(&empty));
    assert!(matches!(dialect.decode_request(&empty), Err(FrameError::BadLength { .. })));
}

#[test]
fn unsolicited_state_change_is_accepted_whatever_is_pending() {
    let dialect = Wkly::default();
    let frame = hex("57 4B 4C 59 0A 00 85 01 01 86"); // v119
    for pending in
        [None, Some(WklyRequest::Unlock { board: 3, lock: lock(9) }), Some(WklyRequest::QueryAll { board: 0 })]
    {
        let decoded = dialect.decode_reply(&frame, pending.as_ref()).unwrap();
        assert_eq!(decoded.message, WklyReply::StateChanged { board: 0, lock: lock(1), state: WklyLockState::Closed });
    }
    // In a reply stream, between the request's own reply: both frames come out.
    let mut stream = frame.clone();
    stream.extend(hex("57 4B 4C 59 0B 00 82 00 01 00 81"));
    let pending = WklyRequest::Unlock { board: 0, lock: lock(1) };
    let (frames, rejected) = decode_chunked(&dialect, Direction::Reply, Some(pending), &stream, &[3]);
    assert_eq!(frames.len(), 2);
    assert_eq!(rejected, 0);
}

#[test]
fn neutral_requests_give_the_vendor_frames() {
    let dialect = Wkly::default();
    let frame = |command: Command| encode_request(&dialect.request(0, &command).unwrap());
    assert_eq!(frame(Command::Unlock(lock(1))), hex("57 4B 4C 59 09 00 82 01 83"));
    assert_eq!(frame(Command::QueryLock(lock(1))), hex("57 4B 4C 59 09 00 83 01 82"));
    assert_eq!(frame(Command::QueryAll), hex("57 4B 4C 59 08 00 84 85"));
    assert_eq!(frame(Command::UnlockAll), hex("57 4B 4C 59 08 00 86 87"));
    // Default: one by one (v111).
    assert_eq!(frame(Command::UnlockMany(locks(&[1, 2, 3]))), hex("57 4B 4C 59 0C 00 87 03 01 02 03 81"));
    assert_eq!(
        dialect.command(&dialect.request(0, &Command::Unlock(lock(1))).unwrap()),
        Some((0, Command::Unlock(lock(1))))
    );

    let at_once = Wkly { unlock_many: WklyUnlockMany::Simultaneous, ..Wkly::default() };
    let two = at_once.request(0, &Command::UnlockMany(locks(&[1, 2]))).unwrap();
    assert_eq!(two, WklyRequest::UnlockSimultaneous { board: 0, locks: locks(&[1, 2]) });
    // The third lock does not open on real boards (§5.3): refused rather than sent.
    assert_eq!(MAX_SIMULTANEOUS_UNLOCKS, 2);
    assert!(matches!(
        at_once.request(0, &Command::UnlockMany(locks(&[1, 2, 3]))),
        Err(EncodeError::OutOfRange { field: "locks", value: 3, .. })
    ));
    assert!(matches!(dialect.request(0, &Command::UnlockMany(LockSet::EMPTY)), Err(EncodeError::OutOfRange { .. })));
    assert!(matches!(dialect.request(0, &Command::Unlock(lock(25))), Err(EncodeError::OutOfRange { .. })));
    assert!(matches!(dialect.request(0, &Command::BoardInfo), Err(EncodeError::Unsupported { .. })));
    assert_eq!(dialect.reply_expectation(&two), ReplyExpectation::One);
}

#[test]
fn neutral_responses_of_decoded_replies() {
    let dialect = Wkly::default();
    let response = |text: &str| dialect.response(&reply(text)).unwrap();
    let closed = |ns: &[u8], active: &[u8]| {
        Response::Status(BoardStatus {
            locks: ChannelBits { reported: locks(ns), active: locks(active) },
            doors: None,
            presence: None,
        })
    };
    // v114: 0x80 success; v123: 0x80 failure.
    assert_eq!(response("57 4B 4C 59 09 00 80 00 80"), (0, Response::Ack));
    assert_eq!(
        response("57 4B 4C 59 09 00 80 FF 7F"),
        (0, Response::DeviceError(DeviceError { code: 0xFF, kind: DeviceErrorKind::Failed }))
    );
    // v117: channel 1 open (inactive).
    assert_eq!(response("57 4B 4C 59 0B 00 83 00 01 00 80"), (0, closed(&[1], &[])));
    // testParseThreeByteResponses: channel 5 closed (active).
    assert_eq!(response("57 4B 4C 59 0B 00 82 00 05 01 84"), (0, closed(&[5], &[5])));
    // v124: 1 open, 2 closed, 3 closed, 4 open.
    assert_eq!(response("57 4B 4C 59 0E 00 84 00 04 00 01 01 00 87"), (0, closed(&[1, 2, 3, 4], &[2, 3])));
    // v119: channel 1 went closed.
    assert_eq!(response("57 4B 4C 59 0A 00 85 01 01 86"), (0, Response::InputChanged { lock: lock(1), active: true }));
    // v127: keep-on acknowledged.
    assert_eq!(response("57 4B 4C 59 0A 00 88 00 02 89"), (0, Response::Ack));
}

#[test]
fn board_side_replies() {
    let dialect = Wkly::default();
    let unlock = WklyRequest::Unlock { board: 0, lock: lock(1) };
    let open = Response::Status(BoardStatus {
        locks: ChannelBits { reported: locks(&[1]), active: LockSet::EMPTY },
        doors: None,
        presence: None,
    });
    // The demo's answer to "open door 1": 57 4B 4C 59 0B 00 82 00 01 00 81.
    assert_eq!(encode_reply(&dialect.reply(0, &unlock, &open).unwrap()), hex("57 4B 4C 59 0B 00 82 00 01 00 81"));
    let failed = Response::DeviceError(DeviceError { code: 0xFF, kind: DeviceErrorKind::Failed });
    let sim = WklyRequest::UnlockSimultaneous { board: 0, locks: locks(&[1, 2]) };
    assert_eq!(encode_reply(&dialect.reply(0, &sim, &failed).unwrap()), hex("57 4B 4C 59 09 00 80 FF 7F")); // v123
    let all = Response::Status(BoardStatus {
        locks: ChannelBits::from_bitmap(4, locks(&[2, 3])),
        doors: None,
        presence: None,
    });
    let query = WklyRequest::QueryAll { board: 0 };
    assert_eq!(
        encode_reply(&dialect.reply(0, &query, &all).unwrap()),
        hex("57 4B 4C 59 0E 00 84 00 04 00 01 01 00 87") // v124
    );
    let change = Response::InputChanged { lock: lock(1), active: true };
    assert_eq!(encode_reply(&dialect.reply(0, &query, &change).unwrap()), hex("57 4B 4C 59 0A 00 85 01 01 86")); // v119
    assert!(matches!(dialect.reply(0, &unlock, &Response::Ack), Err(EncodeError::Unsupported { .. })));
}

#[test]
fn non_canonical_unknown_codes_are_refused() {
    let mut out = [0u8; 32];
    let status = WklyReply::UnlockAll { board: 0, status: WklyStatus::Unknown { code: 0 } };
    assert!(Wkly::default().encode_reply(&status, &mut out).is_err());
    let state = WklyReply::StateChanged { board: 0, lock: lock(1), state: WklyLockState::Unknown { code: 1 } };
    assert!(Wkly::default().encode_reply(&state, &mut out).is_err());
    assert!(matches!(
        Wkly::default().encode_reply(&reply("57 4B 4C 59 09 00 86 00 86"), &mut [0u8; 8]),
        Err(EncodeError::BufferTooSmall { .. })
    ));
}

#[test]
fn serde_shape() {
    let request = WklyRequest::UnlockSequential { board: 0, locks: locks(&[1, 2, 3]) };
    let json = serde_json::to_value(request).unwrap();
    assert_eq!(json, serde_json::json!({"unlock_sequential": {"board": 0, "locks": [1, 2, 3]}}));
    let states = WklyStates::from_states(&[WklyLockState::Open, WklyLockState::Unknown { code: 7 }]).unwrap();
    let reply = WklyReply::AllStatus { board: 1, status: WklyStatus::Success, states };
    let json = serde_json::to_value(reply).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"all_status": {"board": 1, "status": "success", "states": ["open", {"unknown": {"code": 7}}]}})
    );
    assert_eq!(serde_json::from_value::<WklyReply>(json).unwrap(), reply);
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn any_lock() -> impl Strategy<Value = Lock> {
    (1u8..=128).prop_map(lock)
}

fn any_locks() -> impl Strategy<Value = LockSet> {
    any::<u128>().prop_filter("non-empty", |bits| *bits != 0).prop_map(LockSet::from_bits)
}

fn any_status() -> impl Strategy<Value = WklyStatus> {
    any::<u8>().prop_map(WklyStatus::from_code)
}

fn any_state() -> impl Strategy<Value = WklyLockState> {
    any::<u8>().prop_map(WklyLockState::from_code)
}

fn any_states() -> impl Strategy<Value = WklyStates> {
    proptest::collection::vec(any_state(), 0..=MAX_STATE_CHANNELS).prop_map(|s| WklyStates::from_states(&s).unwrap())
}

fn any_request() -> impl Strategy<Value = WklyRequest> {
    let board = any::<u8>();
    prop_oneof![
        (board, any_locks()).prop_map(|(board, locks)| WklyRequest::UnlockSimultaneous { board, locks }),
        (board, any_locks()).prop_map(|(board, locks)| WklyRequest::UnlockSequential { board, locks }),
        (board, any_lock()).prop_map(|(board, lock)| WklyRequest::FlashLed { board, lock }),
        (board, any_lock()).prop_map(|(board, lock)| WklyRequest::Unlock { board, lock }),
        (board, any_lock()).prop_map(|(board, lock)| WklyRequest::QueryLock { board, lock }),
        (board, any_lock()).prop_map(|(board, lock)| WklyRequest::KeepOn { board, lock }),
        (board, any_lock()).prop_map(|(board, lock)| WklyRequest::SwitchOff { board, lock }),
        board.prop_map(|board| WklyRequest::QueryAll { board }),
        board.prop_map(|board| WklyRequest::UnlockAll { board }),
    ]
}

fn any_reply() -> impl Strategy<Value = WklyReply> {
    let board = any::<u8>();
    prop_oneof![
        (board, any_status()).prop_map(|(board, status)| WklyReply::UnlockSimultaneous { board, status }),
        (board, any_status()).prop_map(|(board, status)| WklyReply::UnlockAll { board, status }),
        (board, any_status()).prop_map(|(board, status)| WklyReply::UnlockSequential { board, status }),
        (board, any_status(), any_lock()).prop_map(|(board, status, lock)| WklyReply::FlashLed { board, status, lock }),
        (board, any_status(), any_lock()).prop_map(|(board, status, lock)| WklyReply::KeepOn { board, status, lock }),
        (board, any_status(), any_lock()).prop_map(|(board, status, lock)| WklyReply::SwitchOff {
            board,
            status,
            lock
        }),
        (board, any_status(), any_lock(), any_state())
            .prop_map(|(board, status, lock, state)| { WklyReply::Unlock { board, status, lock, state } }),
        (board, any_status(), any_lock(), any_state())
            .prop_map(|(board, status, lock, state)| { WklyReply::LockStatus { board, status, lock, state } }),
        (board, any_status(), any_states()).prop_map(|(board, status, states)| WklyReply::AllStatus {
            board,
            status,
            states
        }),
        (board, any_lock(), any_state()).prop_map(|(board, lock, state)| WklyReply::StateChanged {
            board,
            lock,
            state
        }),
    ]
}

/// The request a reply answers (for decoding with a pending request).
fn request_for(reply: &WklyReply) -> Option<WklyRequest> {
    let board = reply.board();
    Some(match *reply {
        WklyReply::UnlockSimultaneous { .. } => WklyRequest::UnlockSimultaneous { board, locks: locks(&[1]) },
        WklyReply::UnlockAll { .. } => WklyRequest::UnlockAll { board },
        WklyReply::UnlockSequential { .. } => WklyRequest::UnlockSequential { board, locks: locks(&[1]) },
        WklyReply::FlashLed { lock, .. } => WklyRequest::FlashLed { board, lock },
        WklyReply::KeepOn { lock, .. } => WklyRequest::KeepOn { board, lock },
        WklyReply::SwitchOff { lock, .. } => WklyRequest::SwitchOff { board, lock },
        WklyReply::Unlock { lock, .. } => WklyRequest::Unlock { board, lock },
        WklyReply::LockStatus { lock, .. } => WklyRequest::QueryLock { board, lock },
        WklyReply::AllStatus { .. } => WklyRequest::QueryAll { board },
        WklyReply::StateChanged { .. } => return None,
    })
}

/// Garbage that never holds a start code byte, so it cannot open a frame that hides the real one.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>().prop_filter("no 'W'", |b| *b != 0x57), 0..24)
}

proptest! {
    #[test]
    fn request_round_trip(request in any_request()) {
        let bytes = encode_request(&request);
        let decoded = Wkly::default().decode_request(&bytes).unwrap();
        prop_assert_eq!(decoded.message, request);
        prop_assert_eq!(decoded.len, bytes.len());
    }

    #[test]
    fn reply_round_trip(reply in any_reply()) {
        let bytes = encode_reply(&reply);
        let dialect = Wkly::default();
        let decoded = dialect.decode_reply(&bytes, None).unwrap();
        prop_assert_eq!(decoded.message, reply);
        prop_assert_eq!(decoded.len, bytes.len());
        let pending = request_for(&reply);
        prop_assert_eq!(dialect.decode_reply(&bytes, pending.as_ref()).unwrap().message, reply);
    }

    #[test]
    fn request_chunking(requests in proptest::collection::vec(any_request(), 1..4)) {
        let bytes: Vec<u8> = requests.iter().flat_map(encode_request).collect();
        assert_any_chunking_same(&Wkly::default(), Direction::Request, None, &bytes);
        let (frames, _) = decode_chunked(&Wkly::default(), Direction::Request, None, &bytes, &[5]);
        let found: Vec<_> = frames.into_iter().map(|(_, _, m)| m).collect();
        let expected: Vec<_> = requests.into_iter().map(Message::Request).collect();
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn reply_chunking(replies in proptest::collection::vec(any_reply(), 1..4)) {
        let bytes: Vec<u8> = replies.iter().flat_map(encode_reply).collect();
        assert_any_chunking_same(&Wkly::default(), Direction::Reply, None, &bytes);
    }

    #[test]
    fn resyncs_after_garbage(request in any_request(), reply in any_reply(), junk in garbage()) {
        assert_resyncs(&Wkly::default(), Direction::Request, None, &junk, &encode_request(&request));
        assert_resyncs(&Wkly::default(), Direction::Reply, request_for(&reply), &junk, &encode_reply(&reply));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        pending in proptest::option::of(any_request()),
    ) {
        let dialect = Wkly::default();
        let _ = dialect.decode_request(&bytes);
        let _ = dialect.decode_reply(&bytes, None);
        let _ = dialect.decode_reply(&bytes, pending.as_ref());
        for direction in [Direction::Request, Direction::Reply] {
            let mut decoder = StreamDecoder::<Wkly>::new(dialect.clone(), direction);
            decoder.set_pending(pending);
            for event in decoder.feed(&bytes) {
                if let Event::Frame { len, .. } = event {
                    prop_assert!(len <= Wkly::MAX_FRAME_LEN);
                }
            }
            let _ = decoder.finish();
        }
    }

    #[test]
    fn start_code_prefixed_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..160)) {
        let mut bytes = b"WKLY".to_vec();
        bytes.extend(tail);
        let _ = Wkly::default().decode_request(&bytes);
        let _ = Wkly::default().decode_reply(&bytes, None);
    }

    #[test]
    fn neutral_round_trip(n in 1u8..=24, many in 1u128..(1 << 24)) {
        let dialect = Wkly::default();
        for command in [Command::Unlock(lock(n)), Command::QueryLock(lock(n)), Command::UnlockMany(LockSet::from_bits(many))] {
            let request = dialect.request(5, &command).unwrap();
            prop_assert_eq!(dialect.command(&request), Some((5, command)));
        }
    }
}

/// Deterministic resync cases: partial start codes and a corrupted frame before a good one.
#[test]
fn resyncs_after_partial_start_codes_and_corrupt_frames() {
    let good = hex("57 4B 4C 59 09 00 82 01 83");
    assert_resyncs(&Wkly::default(), Direction::Request, None, &hex("57 4B 4C"), &good);
    assert_resyncs(&Wkly::default(), Direction::Request, None, &hex("57 4B 4C 59 09 00 82 01 84"), &good);
    assert_resyncs(&Wkly::default(), Direction::Request, None, &hex("00 57 57 4B 4C 59 FF"), &good);
}
