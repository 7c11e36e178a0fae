//! Grow 7E-00: every `gm65` vector by id (reference/scanner.md §5), baud divisors, streaming.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{hex, raw, vectors};
use proptest::prelude::*;
use scanner::grow::{
    self, Baud, Command, CommandDecoder, CommandType, CrcMode, ResponseDecoder, crc16_xmodem, encode_command,
    encode_response, parse_command, parse_response,
};
use scanner::stream::{Event, FrameError};

fn parse_u(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn crc_check_value() {
    // §5.1: CRC-16/XMODEM check value of "123456789" is 0x31C3; 33 31 is CRC(00 01 00).
    assert_eq!(crc16_xmodem(b"123456789"), 0x31C3);
    assert_eq!(crc16_xmodem(&[0x00, 0x01, 0x00]), 0x3331);
}

#[test]
fn gm65_vectors() {
    let mut n = 0;
    for v in vectors("gm65") {
        let id = v["id"].as_str().unwrap();
        let bytes = raw(&v);
        let e = &v["expected"];
        if e["complete"] == false {
            // gm65-08 (truncated) and gm65-15 (vendor typo missing a byte): never a frame.
            assert_eq!(parse_command(&bytes).unwrap_err(), FrameError::Incomplete, "{id}");
            n += 1;
            continue;
        }
        let datas = hex(e["datas_hex"].as_str().unwrap());
        if e["frame"] == "command" {
            let (f, used) = parse_command(&bytes).unwrap();
            assert_eq!(used, bytes.len(), "{id}");
            assert_eq!(u64::from(f.command.kind.to_u8()), parse_u(e["type"].as_str().unwrap()), "{id}");
            assert_eq!(u64::from(f.command.address), parse_u(e["address"].as_str().unwrap()), "{id}");
            assert_eq!(f.command.data, &datas[..], "{id}");
            assert_eq!(f.command.data.len() as u64, e["lens"].as_u64().unwrap(), "{id}");
            let mut out = [0u8; grow::MAX_COMMAND];
            let len = encode_command(&f.command, f.crc, &mut out).unwrap();
            assert_eq!(&out[..len], &bytes[..], "{id}");
            if let Some(c) = e["crc_if_computed"].as_str() {
                assert_eq!(f.crc, CrcMode::NoCheck, "{id}");
                let len = encode_command(&f.command, CrcMode::Crc, &mut out).unwrap();
                assert_eq!(u64::from(u16::from_be_bytes([out[len - 2], out[len - 1]])), parse_u(c), "{id}");
            } else {
                assert_eq!(f.crc, CrcMode::Crc, "{id}");
            }
            if let Some(baud) = e["baud"].as_u64() {
                let b = Baud::from_bits_per_second(baud as u32).unwrap();
                assert_eq!(f.command.address, grow::BAUD_ADDRESS);
                assert_eq!(b.divisor_bytes(), [datas[0], datas[1]], "{id}");
                assert_eq!(u64::from(b.divisor()), parse_u(e["divisor"].as_str().unwrap()), "{id}");
            }
        } else {
            let (r, used) = parse_response(&bytes).unwrap();
            assert_eq!(used, bytes.len(), "{id}");
            assert_eq!(r.status, 0, "{id}");
            assert_eq!(r.data, &datas[..], "{id}");
            let mut out = [0u8; grow::MAX_RESPONSE];
            let len = encode_response(&r, &mut out).unwrap();
            assert_eq!(&out[..len], &bytes[..], "{id}");
        }
        n += 1;
    }
    assert_eq!(n, 11);
    // A response never carries AB CD.
    assert!(matches!(parse_response(&hex("02 00 00 01 00 AB CD")), Err(FrameError::BadChecksum { offset: 5, .. })));
}

#[test]
fn baud_table() {
    // §5.2 divisor table; gm65-scanner's 9600 = 0x0000 is wrong (§10).
    for (bps, div) in [
        (1200, 0x09C4),
        (4800, 0x0271),
        (9600, 0x0139),
        (14400, 0x00D0),
        (19200, 0x009C),
        (38400, 0x004E),
        (57600, 0x0034),
        (115200, 0x001A),
    ] {
        let b = Baud::from_bits_per_second(bps).unwrap();
        assert_eq!(b.divisor(), div);
        assert_eq!(Baud::from_divisor(div), Some(b));
        assert_eq!(b.bits_per_second(), bps);
    }
    assert_eq!(Baud::from_divisor(0), None);
}

#[test]
fn responses_stream_with_resync() {
    let mut stream = b"]Q1SCAN\r".to_vec(); // raw scan data interleaved (§5.2)
    stream.extend(hex("02 00 00 01 3E E4 AC 02 00 00 01 00 33 31"));
    let mut dec = ResponseDecoder::new();
    let mut input = &stream[..];
    let mut got = Vec::new();
    while let Some(ev) = dec.feed(&mut input) {
        got.push(match ev {
            Event::Frame { offset, frame } => format!("{offset}:{:02X?}", frame.data),
            Event::Rejected { offset, error } => format!("{offset}:{error}"),
        });
    }
    assert_eq!(got, ["0:offset 0: byte 0x5d cannot start a frame", "8:[3E]", "15:[00]"]);
}

proptest! {
    #[test]
    fn command_round_trip_any_chunking(
        cmds in proptest::collection::vec((any::<u8>(), any::<u16>(), proptest::collection::vec(any::<u8>(), 0..20), any::<bool>()), 1..5),
        chunk in 1usize..12,
    ) {
        let mut bytes = Vec::new();
        for (kind, address, data, nocheck) in &cmds {
            let mut out = [0u8; grow::MAX_COMMAND];
            let crc = if *nocheck { CrcMode::NoCheck } else { CrcMode::Crc };
            let n = encode_command(&Command { kind: CommandType::from_u8(*kind), address: *address, data }, crc, &mut out).unwrap();
            bytes.extend_from_slice(&out[..n]);
        }
        let mut dec = CommandDecoder::new();
        let mut got = Vec::new();
        for mut c in bytes.chunks(chunk) {
            while let Some(ev) = dec.feed(&mut c) {
                if let Event::Frame { frame, .. } = ev {
                    got.push((frame.command.kind.to_u8(), frame.command.address, frame.command.data.to_vec(), frame.crc == CrcMode::NoCheck));
                }
            }
        }
        // A body whose real CRC is AB CD decodes as checked whichever mode wrote it.
        let ambiguous = |k: u8, a: u16, d: &[u8]| {
            let mut body = vec![k, u8::try_from(d.len()).unwrap()];
            body.extend_from_slice(&a.to_be_bytes());
            body.extend_from_slice(d);
            crc16_xmodem(&body) == 0xABCD
        };
        let want: Vec<_> = cmds.iter().map(|(k, a, d, n)| (*k, *a, d.clone(), *n && !ambiguous(*k, *a, d))).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn response_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut dec = ResponseDecoder::new();
        let mut input = &bytes[..];
        while dec.feed(&mut input).is_some() {}
        dec.idle();
        let mut empty: &[u8] = &[];
        while dec.feed(&mut empty).is_some() {}
        prop_assert_eq!(dec.pending(), 0);
    }
}
