//! The Modbus relay dialect: vectors, vendor frames beyond the vectors, a cross-check against
//! the `rmodbus` crate, properties and the neutral mapping.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{assert_any_chunking_same, assert_resyncs, decode_chunked, hex, vectors};
use lockproto::dialect::modbus_relay::{
    COIL_OFF, COIL_ON, INTER_FRAME_GAP_US, MAX_BITS, MAX_REGISTERS, ModbusException, ModbusRelay, ModbusRelayKind,
    ModbusRelayReply, ModbusRelayRequest, RegisterValues, WAVESHARE_ALL_RELAYS_COIL, WAVESHARE_COIL_TOGGLE,
    inter_frame_gap_us,
};
use lockproto::stream::{Direction, Message, StreamDecoder};
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

fn waveshare() -> ModbusRelay {
    ModbusRelay::default()
}

fn generic() -> ModbusRelay {
    ModbusRelay { kind: ModbusRelayKind::Generic, ..ModbusRelay::default() }
}

fn encode_request_with(dialect: &ModbusRelay, request: &ModbusRelayRequest) -> Vec<u8> {
    let mut out = [0u8; 256];
    let n = dialect.encode_request(request, &mut out).unwrap();
    out[..n].to_vec()
}

fn encode_reply_with(dialect: &ModbusRelay, reply: &ModbusRelayReply) -> Vec<u8> {
    let mut out = [0u8; 256];
    let n = dialect.encode_reply(reply, &mut out).unwrap();
    out[..n].to_vec()
}

/// Decodes a whole request frame and checks it re-encodes to the same bytes.
fn request_with(dialect: &ModbusRelay, text: &str) -> ModbusRelayRequest {
    let bytes = hex(text);
    let decoded = dialect.decode_request(&bytes).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(decoded.len, bytes.len(), "{text}");
    assert_eq!(encode_request_with(dialect, &decoded.message), bytes, "re-encoding {text}");
    decoded.message
}

fn request(text: &str) -> ModbusRelayRequest {
    request_with(&waveshare(), text)
}

/// Decodes a whole reply frame and checks it re-encodes to the same bytes.
fn reply_with(pending: Option<&ModbusRelayRequest>, text: &str) -> ModbusRelayReply {
    let bytes = hex(text);
    let dialect = waveshare();
    let decoded = dialect.decode_reply(&bytes, pending).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(decoded.len, bytes.len(), "{text}");
    assert_eq!(encode_reply_with(&dialect, &decoded.message), bytes, "re-encoding {text}");
    decoded.message
}

fn reply(text: &str) -> ModbusRelayReply {
    reply_with(None, text)
}

fn hex_u16(v: &Value) -> u16 {
    match v {
        Value::Number(n) => n.as_u64().unwrap() as u16,
        Value::String(s) => u16::from_str_radix(s.trim_start_matches("0x"), 16).unwrap(),
        other => panic!("not a number: {other}"),
    }
}

/// Checks every field of a vector's `meaning` against the decoded message.
fn check_meaning(id: &str, message: &Message<ModbusRelayRequest, ModbusRelayReply>, meaning: &Value) {
    let slave = meaning["slave"].as_u64().unwrap() as u8;
    match message {
        Message::Request(request) => {
            assert_eq!(request.board(), slave, "{id} slave");
            assert_eq!(u16::from(request.function()), hex_u16(&meaning["fc"]), "{id} fc");
            let (address, second) = request.fields();
            for key in ["coil_address", "coil", "start"] {
                if let Some(v) = meaning.get(key) {
                    assert_eq!(address, hex_u16(v), "{id} {key}");
                }
            }
            if let Some(v) = meaning.get("value") {
                assert_eq!(second, hex_u16(v), "{id} value");
            }
            if let Some(v) = meaning.get("count") {
                assert_eq!(second, hex_u16(v), "{id} count");
            }
            match *request {
                ModbusRelayRequest::FlashOn { lock, delay_100ms, .. } => {
                    // "relay/lock channel 0": relay 0 is lock 1.
                    assert_eq!(lock.index(), 0, "{id}");
                    assert_eq!(u64::from(delay_100ms) * 100, meaning["pulse_ms"].as_u64().unwrap(), "{id} pulse");
                }
                ModbusRelayRequest::WriteMultipleCoils { count, values, .. } => {
                    assert_eq!(meaning["bytes"].as_u64().unwrap(), u64::from(count).div_ceil(8), "{id} bytes");
                    let expected = hex_u16(&meaning["values"]);
                    assert_eq!(values.byte(0), expected as u8, "{id} values");
                }
                _ => {}
            }
        }
        Message::Reply(reply) => {
            assert_eq!(reply.board(), slave, "{id} slave");
            match *reply {
                ModbusRelayReply::WriteMultipleCoils { address, count, .. } => {
                    assert_eq!(address, hex_u16(&meaning["start"]), "{id} start");
                    assert_eq!(count, hex_u16(&meaning["count"]), "{id} count");
                }
                ModbusRelayReply::ReadCoils { byte_count, bits, .. } => {
                    assert_eq!(u64::from(byte_count), meaning["byte_count"].as_u64().unwrap(), "{id}");
                    assert_eq!(u16::from(bits.byte(0)), hex_u16(&meaning["bits"]), "{id} bits");
                    let on: Vec<u8> =
                        meaning["on"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8).collect();
                    // Relay i (0-based) is member i + 1.
                    assert!(bits.iter().map(|l| l.get() - 1).eq(on), "{id} on");
                }
                ref other => panic!("{id}: unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn every_vector_decodes_to_its_meaning_and_re_encodes() {
    let all = vectors("modbus_rtu_relay");
    assert_eq!(all.len(), 7);
    let dialect = waveshare();
    for v in all {
        assert!(v.reject.is_none(), "{}", v.id);
        let (message, len) = match v.direction {
            Direction::Request => dialect.decode_request(&v.bytes).map(|d| (Message::Request(d.message), d.len)),
            Direction::Reply => dialect.decode_reply(&v.bytes, None).map(|d| (Message::Reply(d.message), d.len)),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", v.id));
        assert_eq!(len, v.bytes.len(), "{}", v.id);
        let encoded = match &message {
            Message::Request(r) => encode_request_with(&dialect, r),
            Message::Reply(r) => encode_reply_with(&dialect, r),
        };
        assert_eq!(encoded, v.bytes, "{} re-encodes", v.id);
        check_meaning(&v.id, &message, &v.meaning);
    }
}

#[test]
fn v143_is_a_flash_on_waveshare_and_a_raw_write_elsewhere() {
    // v143: "Relay 0 flash on: 01 05 02 00 00 07 8D B0 //700MS" (Waveshare wiki).
    assert_eq!(
        request("01 05 02 00 00 07 8D B0"),
        ModbusRelayRequest::FlashOn { board: 1, lock: lock(1), delay_100ms: 7 }
    );
    assert_eq!(
        request_with(&generic(), "01 05 02 00 00 07 8D B0"),
        ModbusRelayRequest::WriteSingleCoil { board: 1, address: 0x0200, value: 7 }
    );
    // Each board kind refuses the other's spelling, so every message has one frame.
    let mut out = [0u8; 16];
    let raw = ModbusRelayRequest::WriteSingleCoil { board: 1, address: 0x0200, value: 7 };
    assert!(matches!(waveshare().encode_request(&raw, &mut out), Err(EncodeError::OutOfRange { .. })));
    let flash = ModbusRelayRequest::FlashOn { board: 1, lock: lock(1), delay_100ms: 7 };
    assert!(matches!(generic().encode_request(&flash, &mut out), Err(EncodeError::Unsupported { .. })));
}

/// The Waveshare wiki's flash and relay frames as quoted in public code (not in the vectors).
#[test]
fn waveshare_wiki_frames() {
    // "Relay 1 flash on: 01 05 02 01 00 08 9C 74 //800MS" (quoted in a Python test of a
    // Waveshare driver, repository not identified).
    assert_eq!(
        request("01 05 02 01 00 08 9C 74"),
        ModbusRelayRequest::FlashOn { board: 1, lock: lock(2), delay_100ms: 8 }
    );
    // Flash off has the same layout at 0x0400 (Open-Locker WAVESHARE_INTEGRATION.md table).
    let off = ModbusRelayRequest::FlashOff { board: 1, lock: lock(1), delay_100ms: 7 };
    let bytes = encode_request_with(&waveshare(), &off);
    assert_eq!(&bytes[..6], &hex("01 05 04 00 00 07")[..]);
    assert_eq!(waveshare().decode_request(&bytes).unwrap().message, off);
    // Waveshare Modbus RTU IO 8CH wiki, quoted in "Waveshare Modbus RTU Implementation Notes"
    // (repository not identified): read outputs, read inputs, all on, write all, and their replies.
    assert_eq!(request("01 01 00 00 00 08 3D CC"), ModbusRelayRequest::ReadCoils { board: 1, address: 0, count: 8 });
    assert_eq!(
        reply("01 01 01 00 51 88"),
        ModbusRelayReply::ReadCoils { board: 1, byte_count: 1, bits: LockSet::EMPTY }
    );
    assert_eq!(
        request("01 02 00 00 00 08 79 CC"),
        ModbusRelayRequest::ReadDiscreteInputs { board: 1, address: 0, count: 8 }
    );
    assert_eq!(
        reply("01 02 01 00 A1 88"),
        ModbusRelayReply::ReadDiscreteInputs { board: 1, byte_count: 1, bits: LockSet::EMPTY }
    );
    assert_eq!(
        request("01 05 00 FF FF 00 BC 0A"),
        ModbusRelayRequest::WriteSingleCoil { board: 1, address: WAVESHARE_ALL_RELAYS_COIL, value: COIL_ON }
    );
    assert_eq!(
        request("01 0F 00 00 00 08 01 FF BE D5"),
        ModbusRelayRequest::WriteMultipleCoils { board: 1, address: 0, count: 8, values: LockSet::first(8) }
    );
    assert_eq!(
        request("01 03 10 00 00 08 40 CC"),
        ModbusRelayRequest::ReadHoldingRegisters { board: 1, address: 0x1000, count: 8 }
    );
    assert_eq!(
        request("01 06 10 00 00 01 4C CA"),
        ModbusRelayRequest::WriteSingleRegister { board: 1, address: 0x1000, value: 1 }
    );
    assert_eq!(
        reply("01 85 03 02 91"),
        ModbusRelayReply::Exception { board: 1, function: 0x05, code: ModbusException::IllegalDataValue }
    );
    // Toggle, "Command: 01 05 00 00 55 00 F2 9A" (a Waveshare driver's docstring).
    assert_eq!(
        request("01 05 00 00 55 00 F2 9A"),
        ModbusRelayRequest::WriteSingleCoil { board: 1, address: 0, value: WAVESHARE_COIL_TOGGLE }
    );
}

/// Relay on/off from brucetsao/Industry4_Gateway `Arduino_Control_RS485_Coil.ino` ("Relay0 On:
/// 01-05-00-00-FF-00-8C-3A" ...), and Open-Locker's startup "all relays off" (FC05 0x00FF 0x0000),
/// whose bytes a Danish relay-module note lists as `01 05 00 FF 00 00 FD FA`.
#[test]
fn relay_on_off_frames() {
    for (text, address, value) in [
        ("01 05 00 00 00 00 CD CA", 0, COIL_OFF),
        ("01 05 00 01 FF 00 DD FA", 1, COIL_ON),
        ("01 05 00 01 00 00 9C 0A", 1, COIL_OFF),
        ("01 05 00 02 FF 00 2D FA", 2, COIL_ON),
        ("01 05 00 03 00 00 3D CA", 3, COIL_OFF),
    ] {
        assert_eq!(request(text), ModbusRelayRequest::WriteSingleCoil { board: 1, address, value }, "{text}");
    }
    let all_off = ModbusRelayRequest::WriteSingleCoil { board: 1, address: WAVESHARE_ALL_RELAYS_COIL, value: COIL_OFF };
    assert_eq!(encode_request_with(&waveshare(), &all_off), hex("01 05 00 FF 00 00 FD FA"));
    // The pastebin "V1" form `01 05 00 01 01 00 9D 9A` (reference/lockboards.md §7) is not
    // standard Modbus, but its value is kept raw rather than lost.
    assert_eq!(
        request("01 05 00 01 01 00 9D 9A"),
        ModbusRelayRequest::WriteSingleCoil { board: 1, address: 1, value: 0x0100 }
    );
}

/// Waveshare holding registers (address 0x4000, UART 0x2000, version 0x8000). The read-address
/// frame is quoted from waveshare.com/wiki/Modbus_RTU_Relay in a public irrigation plug-in; the
/// replies come from Waveshare Analog Output 8CH (B) notes (same register map) and a project
/// that read "00 03 02 00 C8 84 12 // Relay version 2.00".
#[test]
fn waveshare_register_frames() {
    let read_address = request("00 03 40 00 00 01 90 1B");
    assert_eq!(read_address, ModbusRelayRequest::ReadHoldingRegisters { board: 0, address: 0x4000, count: 1 });
    // The lone module answers a broadcast read with its own address, and the reply is expected.
    assert_eq!(waveshare().reply_expectation(&read_address), ReplyExpectation::One);
    assert_eq!(generic().reply_expectation(&read_address), ReplyExpectation::None);
    assert_eq!(
        reply_with(Some(&read_address), "01 03 02 00 01 79 84"),
        ModbusRelayReply::ReadHoldingRegisters { board: 1, values: RegisterValues::from_slice(&[1]).unwrap() }
    );
    let read_version = request("00 03 80 00 00 01 AC 1B");
    for (text, version) in [("01 03 02 00 64 B9 AF", 100), ("00 03 02 00 C8 84 12", 200)] {
        let ModbusRelayReply::ReadHoldingRegisters { values, .. } = reply_with(Some(&read_version), text) else {
            panic!("{text}")
        };
        assert_eq!(values.as_slice(), &[version]);
    }
    let set_address = request("00 06 40 00 00 01 5C 1B");
    assert_eq!(set_address, ModbusRelayRequest::WriteSingleRegister { board: 0, address: 0x4000, value: 1 });
    assert_eq!(waveshare().reply_expectation(&set_address), ReplyExpectation::None);
    assert_eq!(
        request("00 06 40 00 00 02 1C 1A"),
        ModbusRelayRequest::WriteSingleRegister { board: 0, address: 0x4000, value: 2 }
    );
    assert_eq!(
        request("00 06 20 00 00 05 43 D8"),
        ModbusRelayRequest::WriteSingleRegister { board: 0, address: 0x2000, value: 5 }
    );
    // FC03 has no neutral meaning: the reply does not say which register it carries.
    assert_eq!(waveshare().response(&reply("01 03 02 00 01 79 84")), None);
}

/// Generic (LCTech-style) boards at 0xFF, CSDN weixin_43176183/112915034: v145's echo.
#[test]
fn generic_board_echo() {
    let on = request_with(&generic(), "FF 05 00 00 FF 00 99 E4"); // v145
    let echo = generic().decode_reply(&hex("FF 05 00 00 FF 00 99 E4"), Some(&on)).unwrap().message;
    assert_eq!(echo, ModbusRelayReply::WriteSingleCoil { board: 0xFF, address: 0, value: COIL_ON });
    assert_eq!(generic().response(&echo), Some((0xFF, Response::Ack)));
    let all = request_with(&generic(), "FF 0F 00 00 00 08 01 FF 30 1D"); // v147
    let done = generic().decode_reply(&hex("FF 0F 00 00 00 08 41 D3"), Some(&all)).unwrap(); // v148
    assert_eq!(done.message, ModbusRelayReply::WriteMultipleCoils { board: 0xFF, address: 0, count: 8 });
}

#[test]
fn pending_request_checks_replies() {
    let dialect = waveshare();
    let read8 = ModbusRelayRequest::ReadCoils { board: 1, address: 0, count: 8 };
    let read16 = ModbusRelayRequest::ReadCoils { board: 1, address: 0, count: 16 };
    let v152 = hex("01 01 01 41 91 B8");
    assert!(dialect.decode_reply(&v152, Some(&read8)).is_ok());
    assert_eq!(
        dialect.decode_reply(&v152, Some(&read16)).unwrap_err(),
        FrameError::Mismatch { offset: 2, field: "byte count", expected: 2, found: 1 }
    );
    let other_board = ModbusRelayRequest::ReadCoils { board: 2, address: 0, count: 8 };
    assert!(matches!(
        dialect.decode_reply(&v152, Some(&other_board)),
        Err(FrameError::Mismatch { offset: 0, field: "unit id", .. })
    ));
    let inputs = ModbusRelayRequest::ReadDiscreteInputs { board: 1, address: 0, count: 8 };
    assert!(matches!(
        dialect.decode_reply(&v152, Some(&inputs)),
        Err(FrameError::Mismatch { offset: 1, field: "function", .. })
    ));
    // FC05: the echo must be byte-identical.
    let on = ModbusRelayRequest::WriteSingleCoil { board: 1, address: 0, value: COIL_ON };
    let off_echo = hex("01 05 00 00 00 00 CD CA");
    assert_eq!(
        dialect.decode_reply(&off_echo, Some(&on)).unwrap_err(),
        FrameError::Mismatch { offset: 4, field: "value or count", expected: 0xFF, found: 0x00 }
    );
    let flash = ModbusRelayRequest::FlashOn { board: 1, lock: lock(1), delay_100ms: 7 };
    let flash_echo = dialect.decode_reply(&hex("01 05 02 00 00 07 8D B0"), Some(&flash)).unwrap();
    assert_eq!(flash_echo.message, ModbusRelayReply::FlashOn { board: 1, lock: lock(1), delay_100ms: 7 });
    let flash2 = ModbusRelayRequest::FlashOn { board: 1, lock: lock(2), delay_100ms: 7 };
    assert!(matches!(
        dialect.decode_reply(&hex("01 05 02 00 00 07 8D B0"), Some(&flash2)),
        Err(FrameError::Mismatch { offset: 3, field: "address", .. })
    ));
    // Exceptions answer the pending function only.
    assert!(dialect.decode_reply(&hex("01 85 03 02 91"), Some(&on)).is_ok());
    assert!(matches!(dialect.decode_reply(&hex("01 85 03 02 91"), Some(&read8)), Err(FrameError::Mismatch { .. })));
}

#[test]
fn malformed_frames_are_rejected() {
    let dialect = waveshare();
    // "Læs indgange 01 02 00 00 00 00 78 0A" (count 0, as a relay-module manual prints it; a
    // Danish module note): Modbus needs 1..=2000 inputs, so the frame is refused.
    assert_eq!(
        dialect.decode_request(&hex("01 02 00 00 00 00 78 0A")).unwrap_err(),
        FrameError::BadField { offset: 5, field: "count", found: 0 }
    );
    // A wrong CRC (v150 with its bytes swapped).
    assert_eq!(
        dialect.decode_request(&hex("01 05 00 00 FF 00 3A 8C")).unwrap_err(),
        FrameError::BadChecksum { offset: 6, expected: 0x3A8C, found: 0x8C3A }
    );
    // Unknown function codes fail at byte 1, before the rest arrives.
    assert_eq!(dialect.decode_request(&hex("01 04")).unwrap_err(), FrameError::UnknownCommand { offset: 1, found: 4 });
    assert_eq!(
        dialect.decode_reply(&hex("01 90"), None).unwrap_err(),
        FrameError::UnknownCommand { offset: 1, found: 0x90 }
    );
    // FC0F byte count must fit the coil count; padding bits must be zero.
    assert!(matches!(
        dialect.decode_request(&hex("01 0F 00 00 00 08 02")),
        Err(FrameError::BadField { offset: 6, .. })
    ));
    let mut padded = hex("01 0F 00 00 00 04 01 1F");
    padded.extend(lockproto::checksum::crc16_modbus(&padded).to_le_bytes());
    assert!(matches!(dialect.decode_request(&padded), Err(FrameError::BadField { field: "padding bits", .. })));
    // Replies longer than this dialect keeps.
    assert!(matches!(dialect.decode_reply(&hex("01 01 11"), None), Err(FrameError::BadField { offset: 2, .. })));
    assert!(matches!(dialect.decode_reply(&hex("01 03 03"), None), Err(FrameError::BadField { offset: 2, .. })));
    // Prefixes wait.
    let frame = hex("01 0F 00 00 00 08 01 FF BE D5");
    for end in 0..frame.len() {
        assert_eq!(dialect.decode_request(&frame[..end]).unwrap_err(), FrameError::Incomplete, "prefix {end}");
    }
    let reply = hex("01 01 01 41 91 B8");
    for end in 0..reply.len() {
        assert_eq!(dialect.decode_reply(&reply[..end], None).unwrap_err(), FrameError::Incomplete, "prefix {end}");
    }
}

#[test]
fn neutral_requests_give_the_vendor_frames() {
    let dialect = ModbusRelay { unlock_pulse_100ms: 7, ..waveshare() };
    // Unlock lock 1 on board 1 with 700 ms is exactly v143.
    let unlock = dialect.request(1, &Command::Unlock(lock(1))).unwrap();
    assert_eq!(encode_request_with(&dialect, &unlock), hex("01 05 02 00 00 07 8D B0"));
    assert_eq!(dialect.command(&unlock), Some((1, Command::Unlock(lock(1)))));
    // The default pulse is 500 ms.
    assert_eq!(
        waveshare().request(1, &Command::Unlock(lock(8))).unwrap(),
        ModbusRelayRequest::FlashOn { board: 1, lock: lock(8), delay_100ms: 5 }
    );
    // Queries read every door input from input 0: the IO 8CH wiki frame.
    let query = waveshare().request(1, &Command::QueryAll).unwrap();
    assert_eq!(encode_request_with(&waveshare(), &query), hex("01 02 00 00 00 08 79 CC"));
    assert_eq!(waveshare().request(1, &Command::QueryLock(lock(3))).unwrap(), query);
    assert_eq!(waveshare().command(&query), Some((1, Command::QueryAll)));
    // Refusals: generic boards have no safe pulse, the broadcast address, channels out of range.
    assert!(matches!(generic().request(0xFF, &Command::Unlock(lock(1))), Err(EncodeError::Unsupported { .. })));
    assert!(matches!(waveshare().request(0, &Command::Unlock(lock(1))), Err(EncodeError::OutOfRange { .. })));
    assert!(matches!(waveshare().request(1, &Command::Unlock(lock(9))), Err(EncodeError::OutOfRange { .. })));
    assert!(matches!(waveshare().request(1, &Command::UnlockAll), Err(EncodeError::Unsupported { .. })));
    let no_pulse = ModbusRelay { unlock_pulse_100ms: 0, ..waveshare() };
    assert!(matches!(no_pulse.request(1, &Command::Unlock(lock(1))), Err(EncodeError::OutOfRange { .. })));
    // Broadcast writes draw no reply; addressed ones draw one.
    let broadcast = ModbusRelayRequest::WriteSingleCoil { board: 0, address: 0, value: COIL_OFF };
    assert_eq!(waveshare().reply_expectation(&broadcast), ReplyExpectation::None);
    assert_eq!(waveshare().reply_expectation(&unlock), ReplyExpectation::One);
}

#[test]
fn neutral_responses_of_decoded_replies() {
    let dialect = waveshare();
    let doors = |active: &[u8]| {
        Response::Status(BoardStatus {
            locks: ChannelBits::default(),
            doors: Some(ChannelBits { reported: LockSet::first(8), active: locks(active) }),
            presence: None,
        })
    };
    assert_eq!(dialect.response(&reply("01 02 01 00 A1 88")), Some((1, doors(&[]))));
    let mut frame = hex("01 02 01 41");
    frame.extend(lockproto::checksum::crc16_modbus(&frame).to_le_bytes());
    let ModbusRelayReply::ReadDiscreteInputs { .. } = dialect.decode_reply(&frame, None).unwrap().message else {
        panic!()
    };
    assert_eq!(dialect.response(&dialect.decode_reply(&frame, None).unwrap().message), Some((1, doors(&[1, 7]))));
    // v152 is a coil read: relay states are not door evidence.
    assert_eq!(dialect.response(&reply("01 01 01 41 91 B8")), None);
    assert_eq!(dialect.response(&reply("01 05 02 00 00 07 8D B0")), Some((1, Response::Ack)));
    assert_eq!(
        dialect.response(&reply("01 85 03 02 91")),
        Some((1, Response::DeviceError(DeviceError { code: 3, kind: DeviceErrorKind::InvalidArgument })))
    );
}

#[test]
fn board_side_replies() {
    let dialect = waveshare();
    let flash = request("01 05 02 00 00 07 8D B0");
    assert_eq!(
        encode_reply_with(&dialect, &dialect.reply(1, &flash, &Response::Ack).unwrap()),
        hex("01 05 02 00 00 07 8D B0")
    );
    let query = request("01 02 00 00 00 08 79 CC");
    let status = Response::Status(BoardStatus {
        locks: ChannelBits::default(),
        doors: Some(ChannelBits::from_bitmap(8, locks(&[1, 7]))),
        presence: None,
    });
    let answer = dialect.reply(1, &query, &status).unwrap();
    assert_eq!(answer, ModbusRelayReply::ReadDiscreteInputs { board: 1, byte_count: 1, bits: locks(&[1, 7]) });
    let refused = Response::DeviceError(DeviceError { code: 3, kind: DeviceErrorKind::InvalidArgument });
    assert_eq!(encode_reply_with(&dialect, &dialect.reply(1, &flash, &refused).unwrap()), hex("01 85 03 02 91"));
}

#[test]
fn timing_constants() {
    // 3.5 characters of 11 bits at 9600 baud: 4.01 ms; fixed 1.75 ms above 19200.
    assert_eq!(INTER_FRAME_GAP_US, 4011);
    assert_eq!(inter_frame_gap_us(115_200), 1750);
    assert_eq!(inter_frame_gap_us(0), 0);
}

#[test]
fn serde_shape() {
    let flash = ModbusRelayRequest::FlashOn { board: 1, lock: lock(1), delay_100ms: 7 };
    assert_eq!(
        serde_json::to_value(flash).unwrap(),
        serde_json::json!({"flash_on": {"board": 1, "lock": 1, "delay_100ms": 7}})
    );
    let regs =
        ModbusRelayReply::ReadHoldingRegisters { board: 1, values: RegisterValues::from_slice(&[1, 2]).unwrap() };
    let json = serde_json::to_value(regs).unwrap();
    assert_eq!(json, serde_json::json!({"read_holding_registers": {"board": 1, "values": [1, 2]}}));
    assert_eq!(serde_json::from_value::<ModbusRelayReply>(json).unwrap(), regs);
}

// ---------------------------------------------------------------------------------------------
// Cross-check against rmodbus 0.13
// ---------------------------------------------------------------------------------------------

/// rmodbus's server-side parser on a request frame: (unit, function, register, count).
fn rmodbus_parse(bytes: &[u8]) -> (u8, u8, u16, u16) {
    use rmodbus::{ModbusProto, server::ModbusFrame};
    let mut response = Vec::new();
    let mut frame = ModbusFrame::new(bytes[0], bytes, ModbusProto::Rtu, &mut response);
    frame.parse().unwrap();
    assert!(frame.error.is_none(), "rmodbus refused {bytes:02X?}: {:?}", frame.error);
    assert!(frame.processing_required, "rmodbus would not process {bytes:02X?}");
    (frame.unit_id, frame.func.byte(), frame.reg, frame.count)
}

/// What our decoder says about the same frame, in rmodbus's terms (FC05/06 count one item).
fn ours(dialect: &ModbusRelay, bytes: &[u8]) -> (u8, u8, u16, u16) {
    let request = dialect.decode_request(bytes).unwrap().message;
    let (address, second) = request.fields();
    let count = match request {
        ModbusRelayRequest::WriteSingleCoil { .. }
        | ModbusRelayRequest::FlashOn { .. }
        | ModbusRelayRequest::FlashOff { .. }
        | ModbusRelayRequest::WriteSingleRegister { .. } => 1,
        _ => second,
    };
    (request.board(), request.function(), address, count)
}

#[test]
fn rmodbus_server_agrees_on_vendor_requests() {
    for text in [
        "01 01 00 00 00 08 3D CC",       // v151
        "01 05 00 00 FF 00 8C 3A",       // v150
        "01 05 02 00 00 07 8D B0",       // v143 (Waveshare flash: plain FC05 to 0x0200 for rmodbus)
        "FF 05 00 00 FF 00 99 E4",       // v145
        "FF 0F 00 00 00 08 01 FF 30 1D", // v147
        "01 02 00 00 00 08 79 CC",       // Waveshare IO 8CH wiki
        "01 03 10 00 00 08 40 CC",
        "01 06 10 00 00 01 4C CA",
        "01 0F 00 00 00 08 01 FF BE D5",
    ] {
        let bytes = hex(text);
        assert_eq!(ours(&waveshare(), &bytes), rmodbus_parse(&bytes), "{text}");
    }
}

#[test]
fn rmodbus_client_frames_decode_here_and_its_parser_reads_our_replies() {
    use rmodbus::{ModbusProto, client::ModbusRequest};
    let dialect = generic();
    let mut client = ModbusRequest::new(1, ModbusProto::Rtu);
    let mut frame = Vec::new();
    client.generate_get_coils(0, 8, &mut frame).unwrap();
    assert_eq!(frame, hex("01 01 00 00 00 08 3D CC")); // v151
    // v152 read back through rmodbus's client parser: relays 0 and 6 on.
    let mut bits = Vec::new();
    client.parse_bool(&hex("01 01 01 41 91 B8"), &mut bits).unwrap();
    let ModbusRelayReply::ReadCoils { bits: ours, .. } = reply("01 01 01 41 91 B8") else { panic!() };
    for (i, on) in bits.iter().enumerate() {
        assert_eq!(ours.contains(Lock::from_index(i).unwrap()), *on, "bit {i}");
    }
    client.generate_set_coil(3, true, &mut frame).unwrap();
    assert_eq!(
        dialect.decode_request(&frame).unwrap().message,
        ModbusRelayRequest::WriteSingleCoil { board: 1, address: 3, value: COIL_ON }
    );
    client.generate_set_coils_bulk(0, &[1u8, 0, 1, 1, 0, 0, 0, 0, 1], &mut frame).unwrap();
    assert_eq!(
        dialect.decode_request(&frame).unwrap().message,
        ModbusRelayRequest::WriteMultipleCoils { board: 1, address: 0, count: 9, values: locks(&[1, 3, 4, 9]) }
    );
    let echo = encode_reply_with(&dialect, &ModbusRelayReply::WriteMultipleCoils { board: 1, address: 0, count: 9 });
    client.parse_ok(&echo).unwrap();
    client.generate_get_holdings(0x4000, 1, &mut frame).unwrap();
    let registers =
        ModbusRelayReply::ReadHoldingRegisters { board: 1, values: RegisterValues::from_slice(&[7]).unwrap() };
    let mut words = Vec::new();
    client.parse_u16(&encode_reply_with(&dialect, &registers), &mut words).unwrap();
    assert_eq!(words, [7]);
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn any_lock() -> impl Strategy<Value = Lock> {
    (1u8..=128).prop_map(lock)
}

fn bits_within(count: u16) -> impl Strategy<Value = LockSet> {
    any::<u128>().prop_map(move |bits| LockSet::from_bits(bits).intersection(LockSet::first(count as u8)))
}

/// Requests a Waveshare board's decoder gives back (no raw FC05 to its flash coils).
fn any_request(board: impl Strategy<Value = u8> + Clone) -> impl Strategy<Value = ModbusRelayRequest> {
    let address = any::<u16>();
    let bit_count = 1..=MAX_BITS;
    let plain_coil =
        any::<u16>().prop_filter("not a flash coil", |a| !matches!(a & 0xFF00, 0x0200 | 0x0400) || (a & 0xFF) >= 0x80);
    prop_oneof![
        (board.clone(), address, bit_count.clone()).prop_map(|(board, address, count)| ModbusRelayRequest::ReadCoils {
            board,
            address,
            count
        }),
        (board.clone(), address, bit_count.clone())
            .prop_map(|(board, address, count)| ModbusRelayRequest::ReadDiscreteInputs { board, address, count }),
        (board.clone(), address, 1..=MAX_REGISTERS as u16)
            .prop_map(|(board, address, count)| ModbusRelayRequest::ReadHoldingRegisters { board, address, count }),
        (board.clone(), plain_coil, any::<u16>())
            .prop_map(|(board, address, value)| ModbusRelayRequest::WriteSingleCoil { board, address, value }),
        (board.clone(), any_lock(), any::<u16>()).prop_map(|(board, lock, delay_100ms)| ModbusRelayRequest::FlashOn {
            board,
            lock,
            delay_100ms
        }),
        (board.clone(), any_lock(), any::<u16>()).prop_map(|(board, lock, delay_100ms)| ModbusRelayRequest::FlashOff {
            board,
            lock,
            delay_100ms
        }),
        (board.clone(), address, any::<u16>())
            .prop_map(|(board, address, value)| ModbusRelayRequest::WriteSingleRegister { board, address, value }),
        (board, address, bit_count).prop_flat_map(|(board, address, count)| {
            bits_within(count).prop_map(move |values| ModbusRelayRequest::WriteMultipleCoils {
                board,
                address,
                count,
                values,
            })
        }),
    ]
}

/// A reply with the request it answers.
fn any_exchange(
    board: impl Strategy<Value = u8> + Clone,
) -> impl Strategy<Value = (ModbusRelayRequest, ModbusRelayReply)> {
    (
        any_request(board),
        any::<u128>(),
        proptest::collection::vec(any::<u16>(), MAX_REGISTERS),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(request, raw, words, code, refuse)| {
            let board = request.board();
            let reply = if refuse {
                let code = ModbusException::from_code(code);
                ModbusRelayReply::Exception { board, function: request.function(), code }
            } else {
                match request {
                    ModbusRelayRequest::ReadCoils { count, .. }
                    | ModbusRelayRequest::ReadDiscreteInputs { count, .. } => {
                        let byte_count = count.div_ceil(8) as u8;
                        let bits = LockSet::from_bits(raw).intersection(LockSet::first(byte_count * 8));
                        if matches!(request, ModbusRelayRequest::ReadCoils { .. }) {
                            ModbusRelayReply::ReadCoils { board, byte_count, bits }
                        } else {
                            ModbusRelayReply::ReadDiscreteInputs { board, byte_count, bits }
                        }
                    }
                    ModbusRelayRequest::ReadHoldingRegisters { count, .. } => ModbusRelayReply::ReadHoldingRegisters {
                        board,
                        values: RegisterValues::from_slice(&words[..usize::from(count)]).unwrap(),
                    },
                    ModbusRelayRequest::WriteSingleCoil { address, value, .. } => {
                        ModbusRelayReply::WriteSingleCoil { board, address, value }
                    }
                    ModbusRelayRequest::FlashOn { lock, delay_100ms, .. } => {
                        ModbusRelayReply::FlashOn { board, lock, delay_100ms }
                    }
                    ModbusRelayRequest::FlashOff { lock, delay_100ms, .. } => {
                        ModbusRelayReply::FlashOff { board, lock, delay_100ms }
                    }
                    ModbusRelayRequest::WriteSingleRegister { address, value, .. } => {
                        ModbusRelayReply::WriteSingleRegister { board, address, value }
                    }
                    ModbusRelayRequest::WriteMultipleCoils { address, count, .. } => {
                        ModbusRelayReply::WriteMultipleCoils { board, address, count }
                    }
                }
            };
            (request, reply)
        })
}

const FUNCTIONS: [u8; 12] = [0x01, 0x02, 0x03, 0x05, 0x06, 0x0F, 0x81, 0x82, 0x83, 0x85, 0x86, 0x8F];

/// Unit ids that are not function codes either: Modbus RTU has no start byte, so a garbage byte
/// followed by a frame whose unit id reads as a function code is a valid frame prefix, and only
/// the 3.5-character gap (`StreamDecoder::finish`) ends it. These boards keep resync testable.
fn resync_board() -> impl Strategy<Value = u8> + Clone {
    any::<u8>().prop_filter("not a function code", |b| !FUNCTIONS.contains(b))
}

/// Garbage whose bytes are never function codes, so no frame can start inside it.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(resync_board(), 0..24)
}

proptest! {
    #[test]
    fn request_round_trip(request in any_request(any::<u8>())) {
        let bytes = encode_request_with(&waveshare(), &request);
        let decoded = waveshare().decode_request(&bytes).unwrap();
        prop_assert_eq!(decoded.message, request);
        prop_assert_eq!(decoded.len, bytes.len());
    }

    #[test]
    fn generic_round_trip(request in any_request(any::<u8>())) {
        // On a generic board flash writes are plain FC05 writes.
        let request = match request {
            ModbusRelayRequest::FlashOn { board, lock, delay_100ms } => {
                ModbusRelayRequest::WriteSingleCoil { board, address: 0x0200 + lock.index() as u16, value: delay_100ms }
            }
            other => other,
        };
        if let Ok(n) = generic().encode_request(&request, &mut [0u8; 64]) {
            prop_assert!(n <= ModbusRelay::MAX_FRAME_LEN);
            let bytes = encode_request_with(&generic(), &request);
            prop_assert_eq!(generic().decode_request(&bytes).unwrap().message, request);
        }
    }

    #[test]
    fn reply_round_trip((request, reply) in any_exchange(any::<u8>())) {
        let dialect = waveshare();
        let bytes = encode_reply_with(&dialect, &reply);
        prop_assert_eq!(dialect.decode_reply(&bytes, None).unwrap().message, reply);
        let decoded = dialect.decode_reply(&bytes, Some(&request)).unwrap();
        prop_assert_eq!(decoded.message, reply);
        prop_assert_eq!(decoded.len, bytes.len());
    }

    #[test]
    fn rmodbus_agrees_on_every_request(request in any_request(1u8..=247)) {
        // rmodbus treats FC05 0x0200 like any coil, so flash writes check as plain FC05 too.
        let bytes = encode_request_with(&waveshare(), &request);
        prop_assert_eq!(ours(&waveshare(), &bytes), rmodbus_parse(&bytes));
    }

    #[test]
    fn request_chunking(requests in proptest::collection::vec(any_request(any::<u8>()), 1..5)) {
        let bytes: Vec<u8> = requests.iter().flat_map(|r| encode_request_with(&waveshare(), r)).collect();
        assert_any_chunking_same(&waveshare(), Direction::Request, None, &bytes);
        let (frames, _) = decode_chunked(&waveshare(), Direction::Request, None, &bytes, &[3]);
        let found: Vec<_> = frames.into_iter().map(|(_, _, m)| m).collect();
        let expected: Vec<_> = requests.into_iter().map(Message::Request).collect();
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn reply_chunking(exchanges in proptest::collection::vec(any_exchange(any::<u8>()), 1..5)) {
        let bytes: Vec<u8> = exchanges.iter().flat_map(|(_, r)| encode_reply_with(&waveshare(), r)).collect();
        assert_any_chunking_same(&waveshare(), Direction::Reply, None, &bytes);
        let (frames, _) = decode_chunked(&waveshare(), Direction::Reply, None, &bytes, &[2]);
        prop_assert_eq!(frames.len(), exchanges.len());
        // With the pending request, one exchange decodes the same under any chunking.
        let (request, reply) = exchanges[0];
        let single = encode_reply_with(&waveshare(), &reply);
        assert_any_chunking_same(&waveshare(), Direction::Reply, Some(request), &single);
    }

    #[test]
    fn resyncs_after_garbage((request, reply) in any_exchange(resync_board()), junk in garbage()) {
        assert_resyncs(&waveshare(), Direction::Request, None, &junk, &encode_request_with(&waveshare(), &request));
        assert_resyncs(&waveshare(), Direction::Reply, Some(request), &junk, &encode_reply_with(&waveshare(), &reply));
        assert_resyncs(&waveshare(), Direction::Reply, None, &junk, &encode_reply_with(&waveshare(), &reply));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        pending in proptest::option::of(any_request(any::<u8>())),
    ) {
        for dialect in [waveshare(), generic()] {
            let _ = dialect.decode_request(&bytes);
            let _ = dialect.decode_reply(&bytes, None);
            let _ = dialect.decode_reply(&bytes, pending.as_ref());
            for direction in [Direction::Request, Direction::Reply] {
                let mut decoder = StreamDecoder::<ModbusRelay>::new(dialect.clone(), direction);
                decoder.set_pending(pending);
                for _ in decoder.feed(&bytes) {}
                let _ = decoder.finish();
            }
        }
    }

    #[test]
    fn structured_bytes_never_panic(fc in proptest::sample::select(&FUNCTIONS[..]), tail in proptest::collection::vec(any::<u8>(), 0..80)) {
        let mut bytes = vec![1, fc];
        bytes.extend(tail);
        let _ = waveshare().decode_request(&bytes);
        let _ = waveshare().decode_reply(&bytes, None);
    }

    #[test]
    fn queries_report_the_inputs(active in any::<u8>()) {
        let dialect = waveshare();
        let query = dialect.request(1, &Command::QueryAll).unwrap();
        let doors = ChannelBits::from_bitmap(8, LockSet::from_bits(active.into()));
        let status = Response::Status(BoardStatus { locks: ChannelBits::default(), doors: Some(doors), presence: None });
        let answer = dialect.reply(1, &query, &status).unwrap();
        let bytes = encode_reply_with(&dialect, &answer);
        let decoded = dialect.decode_reply(&bytes, Some(&query)).unwrap().message;
        prop_assert_eq!(dialect.response(&decoded), Some((1, status)));
    }
}

/// Deterministic resync: line noise and a frame with a broken CRC before a good one.
#[test]
fn resyncs_after_noise_and_corrupt_frames() {
    let good = hex("01 05 02 00 00 07 8D B0"); // v143
    assert_resyncs(&waveshare(), Direction::Request, None, &hex("00 FF 55"), &good);
    assert_resyncs(&waveshare(), Direction::Request, None, &hex("01 05 02 00 00 07 8D B1"), &good);
    let pending = ModbusRelayRequest::ReadCoils { board: 1, address: 0, count: 8 };
    assert_resyncs(&waveshare(), Direction::Reply, Some(pending), &hex("00 00 00"), &hex("01 01 01 41 91 B8"));
}
