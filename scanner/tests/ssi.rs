//! Zebra SSI: every `ssi` vector by id (reference/scanner.md §2.6), PARAM_SEND parameters,
//! multipacket assembly, and streaming properties (any chunking, resync after garbage).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{hex, raw, vectors};
use proptest::prelude::*;
use scanner::ssi::{
    self, DecodeAssembler, NakCause, Opcode, Packet, Param, ParamValue, Params, STATUS_CONTINUATION, Source, SsiDecoder,
};
use scanner::stream::{Event, FrameError};

fn parse_u(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn ssi_vectors() {
    let mut n = 0;
    for v in vectors("ssi") {
        let id = v["id"].as_str().unwrap();
        let bytes = raw(&v);
        let e = &v["expected"];
        if e["valid"] == false {
            // ssi-19: the E3000H "NAK from engine" constant with a wrong checksum (§2.6).
            let err = ssi::parse(&bytes).unwrap_err();
            assert_eq!(
                err,
                FrameError::BadChecksum {
                    offset: 4,
                    expected: parse_u(e["computed_checksum"].as_str().unwrap()) as u16,
                    found: 0xFF25
                },
                "{id}"
            );
            n += 1;
            continue;
        }
        let (p, used) = ssi::parse(&bytes).unwrap();
        assert_eq!(used, bytes.len(), "{id}");
        assert_eq!(u64::from(p.opcode.to_u8()), parse_u(e["opcode"].as_str().unwrap()), "{id}");
        assert_eq!(p.opcode.name(), e["opcode_name"].as_str().unwrap(), "{id}");
        assert_eq!(u64::from(p.status), parse_u(e["status"].as_str().unwrap()), "{id}");
        assert_eq!(p.payload, &hex(e["payload_hex"].as_str().unwrap())[..], "{id}");
        assert_eq!(e["length"].as_u64().unwrap() as usize, bytes.len() - 2, "{id}");
        let src = if p.source == Source::Host { "host" } else { "decoder" };
        assert_eq!(src, e["message_source"].as_str().unwrap(), "{id}");
        // Re-encoding gives the same bytes (checksum included).
        let mut out = [0u8; ssi::MAX_PACKET];
        let len = ssi::encode(&p, &mut out).unwrap();
        assert_eq!(&out[..len], &bytes[..], "{id}");
        if let Some(params) = e["params"].as_array() {
            let got: Vec<Param<'_>> = Params::new(&p.payload[1..]).map(Result::unwrap).collect();
            assert_eq!(got.len(), params.len(), "{id}");
            for (g, want) in got.iter().zip(params) {
                assert_eq!(u64::from(g.number), want["num"].as_u64().unwrap(), "{id}");
                let value = match g.value {
                    ParamValue::Byte(b) => u64::from(b),
                    ParamValue::Word(w) => u64::from(w),
                    other => panic!("{id}: {other:?}"),
                };
                assert_eq!(value, want["value"].as_u64().unwrap(), "{id}");
            }
        }
        if let Some(t) = e["barcode_type"].as_str() {
            let (code_type, data) = p.decode_data().unwrap();
            assert_eq!(u64::from(code_type), parse_u(t), "{id}");
            assert_eq!(data, e["data_text"].as_str().unwrap().as_bytes(), "{id}");
        }
        n += 1;
    }
    assert_eq!(n, 15);
}

#[test]
fn nak_and_param_numbers() {
    // NAK RESEND from the host (§2.6): 05 D1 04 00 01 FF 25.
    let nak = hex("05 D1 04 00 01 FF 25");
    let (p, _) = ssi::parse(&nak).unwrap();
    assert_eq!(p.nak_cause(), Some(NakCause::Resend));
    let mut out = [0u8; 4];
    for (num, want) in [
        (138u16, &[0x8A][..]),
        (256, &[0xF0, 0x00]),
        (318, &[0xF0, 0x3E]),
        (600, &[0xF1, 88]),
        (1100, &[0xF8, 0x04, 0x4C]),
    ] {
        let n = ssi::encode_param_number(num, &mut out).unwrap();
        assert_eq!(&out[..n], want, "param {num}");
    }
    assert_eq!(ssi::encode_param_number(240, &mut out), None);
}

#[test]
fn multipacket_decode_is_joined() {
    // §2.3: continuation bit on all but the last packet; the bar code type comes from the first.
    let mut asm = DecodeAssembler::<64>::new();
    let first = Packet {
        opcode: Opcode::DecodeData,
        source: Source::Decoder,
        status: STATUS_CONTINUATION,
        payload: b"\x1cHELLO ",
    };
    let last = Packet { opcode: Opcode::DecodeData, source: Source::Decoder, status: 0, payload: b"\x1cWORLD" };
    assert_eq!(asm.push(&first).unwrap(), None);
    let d = asm.push(&last).unwrap().unwrap();
    assert_eq!((d.code_type, d.data, d.retransmit), (0x1C, &b"HELLO WORLD"[..], false));
    // Too long for the buffer: an error, and the next message starts clean.
    let mut small = DecodeAssembler::<4>::new();
    assert!(small.push(&first).unwrap().is_none());
    assert!(small.push(&last).is_err());
    let single = Packet { opcode: Opcode::DecodeData, source: Source::Decoder, status: 1, payload: b"\x03US" };
    let d = small.push(&single).unwrap().unwrap();
    assert_eq!((d.code_type, d.data, d.retransmit), (3, &b"US"[..], true));
}

#[test]
fn ack_and_decode_in_one_read_with_garbage() {
    // §7: ACK and DECODE_DATA arrive in the same read; garbage before must resync.
    let mut stream = vec![0x55, 0x01];
    stream.extend(hex("04 D0 00 00 FF 2C 07 F3 00 00 03 55 53 FE 5B"));
    let mut dec = SsiDecoder::new();
    let mut input = &stream[..];
    let mut events = Vec::new();
    let describe = |ev: Event<Packet<'_>>| match ev {
        Event::Frame { offset, frame } => format!("{offset}:{}", frame.opcode.name()),
        Event::Rejected { offset, .. } => format!("{offset}:rejected"),
    };
    // 0x55 reads as a length of 85: the decoder waits for more bytes ...
    assert!(dec.feed(&mut input).is_none());
    assert_eq!(dec.pending(), stream.len());
    // ... until the caller's idle timeout says none will come.
    dec.idle();
    let mut empty: &[u8] = &[];
    while let Some(ev) = dec.feed(&mut empty) {
        events.push(describe(ev));
    }
    assert_eq!(events, ["0:rejected", "2:CMD_ACK", "8:DECODE_DATA"]);
    assert_eq!(dec.stats().dropped_bytes, 2);
}

fn packets() -> impl Strategy<Value = (u8, bool, u8, Vec<u8>)> {
    (any::<u8>(), any::<bool>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40))
}

fn encode_all(ps: &[(u8, bool, u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (op, host, status, payload) in ps {
        let p = Packet {
            opcode: Opcode::from_u8(*op),
            source: if *host { Source::Host } else { Source::Decoder },
            status: *status,
            payload,
        };
        let mut buf = [0u8; ssi::MAX_PACKET];
        let n = ssi::encode(&p, &mut buf).unwrap();
        // Every valid packet sums to zero mod 65536 with its checksum (§2.1).
        let sum: u32 = buf[..n - 2].iter().map(|&b| u32::from(b)).sum::<u32>()
            + u32::from(u16::from_be_bytes([buf[n - 2], buf[n - 1]]));
        assert_eq!(sum % 65536, 0);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn decode_chunks(bytes: &[u8], sizes: &[usize]) -> Vec<(u64, u8, Vec<u8>)> {
    let mut dec = SsiDecoder::new();
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        let mut chunk = &rest[..n];
        rest = &rest[n..];
        i += 1;
        while let Some(ev) = dec.feed(&mut chunk) {
            if let Event::Frame { offset, frame } = ev {
                out.push((offset, frame.opcode.to_u8(), frame.payload.to_vec()));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trip_any_chunking(ps in proptest::collection::vec(packets(), 1..6), sizes in proptest::collection::vec(1usize..30, 1..5)) {
        let bytes = encode_all(&ps);
        let got = decode_chunks(&bytes, &sizes);
        prop_assert_eq!(got.len(), ps.len());
        for (g, p) in got.iter().zip(&ps) {
            prop_assert_eq!(g.1, p.0);
            prop_assert_eq!(&g.2, &p.3);
        }
        prop_assert_eq!(decode_chunks(&bytes, &[bytes.len()]), got);
    }

    /// Garbage before a packet never hides it when it cannot contain a packet-length byte
    /// sequence that swallows the packet (bytes 0x00-0x03 are impossible lengths).
    #[test]
    fn resync_after_garbage(garbage in proptest::collection::vec(0u8..4, 0..20), p in packets()) {
        let mut bytes = garbage.clone();
        bytes.extend(encode_all(std::slice::from_ref(&p)));
        let got = decode_chunks(&bytes, &[3]);
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(got[0].0, garbage.len() as u64);
    }

    #[test]
    fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), sizes in proptest::collection::vec(1usize..300, 1..4)) {
        let _ = decode_chunks(&bytes, &sizes);
        let _ = Params::new(&bytes).count();
    }
}
