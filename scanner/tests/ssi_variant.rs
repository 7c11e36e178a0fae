//! SSI-like variants (reference/scanner.md §2.7): vectors ssi_variant_sci-01 and
//! ssi_variant_3nstar-01 field by field, bad checksums rejected, round trips.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{raw, vectors};
use proptest::prelude::*;
use scanner::ssi_variant::{self, Address, NstarPacket, SciPacket};
use scanner::stream::FrameError;

fn hex_u16(s: &str) -> u16 {
    u16::from_str_radix(s.split_whitespace().next().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn sci_vector() {
    let vs = vectors("ssi_variant_sci");
    assert_eq!(vs.len(), 1);
    let v = &vs[0];
    assert_eq!(v["id"], "ssi_variant_sci-01");
    let bytes = raw(v);
    let e = &v["expected"];
    assert_eq!(e["valid"], true);
    let (p, used) = ssi_variant::parse_sci(&bytes).unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(u64::from(bytes[0]), e["length"].as_u64().unwrap());
    assert_eq!(u16::from(p.opcode), hex_u16(e["opcode"].as_str().unwrap()));
    assert_eq!(p.opcode, ssi_variant::SCI_DECODE_DATA);
    assert!(e["opcode_name"].as_str().unwrap().starts_with("DECODE_DATA"));
    assert_eq!(u16::from(p.status), hex_u16(e["status"].as_str().unwrap()));
    assert_eq!(p.data, e["data_text"].as_str().unwrap().as_bytes());
    let ck = hex_u16(e["checksum"].as_str().unwrap());
    assert_eq!(u16::from_be_bytes([bytes[used - 2], bytes[used - 1]]), ck);
    assert_eq!(scanner::ssi::checksum(&bytes[..used - 2]), ck);
    let mut out = [0u8; 16];
    let n = ssi_variant::encode_sci(&p, &mut out).unwrap();
    assert_eq!(&out[..n], &bytes[..]);
}

#[test]
fn nstar_vector() {
    let vs = vectors("ssi_variant_3nstar");
    assert_eq!(vs.len(), 1);
    let v = &vs[0];
    assert_eq!(v["id"], "ssi_variant_3nstar-01");
    let bytes = raw(v);
    let e = &v["expected"];
    assert_eq!(e["valid"], true);
    let (p, used) = ssi_variant::parse_nstar(&bytes).unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(u64::from(bytes[0]), e["length"].as_u64().unwrap());
    assert_eq!(u16::from(p.source.to_u8()), hex_u16(e["message_source"].as_str().unwrap()));
    assert_eq!(p.source, Address::Host);
    assert_eq!(u16::from(p.target.to_u8()), hex_u16(e["message_target"].as_str().unwrap()));
    assert_eq!(p.target, Address::Decoder);
    assert_eq!(p.reserved, 0);
    assert_eq!(u16::from(p.opcode), hex_u16(e["opcode"].as_str().unwrap()));
    assert_eq!(p.command, e["command_text"].as_str().unwrap().as_bytes());
    assert_eq!(u16::from(p.beeper), hex_u16(e["beeper"].as_str().unwrap()));
    assert_eq!(p.beeper, ssi_variant::NSTAR_BEEPER_OFF);
    let ck = hex_u16(e["checksum"].as_str().unwrap());
    assert_eq!(u16::from_be_bytes([bytes[used - 2], bytes[used - 1]]), ck);
    let mut out = [0u8; 16];
    let n = ssi_variant::encode_nstar(&p, &mut out).unwrap();
    assert_eq!(&out[..n], &bytes[..]);
}

#[test]
fn bad_checksums_lengths_and_sources_are_rejected() {
    let mut sci = raw(&vectors("ssi_variant_sci")[0]);
    sci[8] ^= 0x01;
    assert_eq!(
        ssi_variant::parse_sci(&sci),
        Err(FrameError::BadChecksum { offset: 7, expected: 0xFEDF, found: 0xFEDE })
    );
    let mut nstar = raw(&vectors("ssi_variant_3nstar")[0]);
    nstar[5] ^= 0x20; // '%' -> 0x05 in the command
    assert!(matches!(ssi_variant::parse_nstar(&nstar), Err(FrameError::BadChecksum { offset: 10, found: 0xFDA2, .. })));
    let good = raw(&vectors("ssi_variant_3nstar")[0]);
    for n in 0..good.len() {
        assert_eq!(ssi_variant::parse_nstar(&good[..n]), Err(FrameError::Incomplete), "prefix {n}");
    }
    assert!(matches!(ssi_variant::parse_sci(&[0x02, 0x50]), Err(FrameError::BadLength { offset: 0, found: 2, .. })));
    assert!(matches!(
        ssi_variant::parse_nstar(&[0x05, 0x04, 0x31, 0x00, 0x24]),
        Err(FrameError::BadLength { offset: 0, found: 5, .. })
    ));
    // A source other than host/decoder, with a valid checksum.
    let p = NstarPacket { source: Address::Unknown(0x07), ..ssi_variant::parse_nstar(&good).unwrap().0 };
    let mut out = [0u8; 16];
    let n = ssi_variant::encode_nstar(&p, &mut out).unwrap();
    assert_eq!(
        ssi_variant::parse_nstar(&out[..n]),
        Err(FrameError::BadField { offset: 1, field: "source", found: 0x07 })
    );
}

proptest! {
    #[test]
    fn sci_round_trip(opcode: u8, status: u8, data in proptest::collection::vec(any::<u8>(), 0..=252)) {
        let p = SciPacket { opcode, status, data: &data };
        let mut out = [0u8; 300];
        let n = ssi_variant::encode_sci(&p, &mut out).unwrap();
        prop_assert_eq!(n, data.len() + 5);
        prop_assert_eq!(ssi_variant::parse_sci(&out), Ok((p, n)));
    }

    #[test]
    fn nstar_round_trip(src in prop_oneof![Just(0x04u8), Just(0x31u8)], target: u8, reserved: u8, opcode: u8, beeper: u8,
                        command in proptest::collection::vec(any::<u8>(), 0..=249)) {
        let p = NstarPacket { source: Address::from_u8(src), target: Address::from_u8(target), reserved, opcode, command: &command, beeper };
        let mut out = [0u8; 300];
        let n = ssi_variant::encode_nstar(&p, &mut out).unwrap();
        prop_assert_eq!(n, command.len() + 8);
        prop_assert_eq!(ssi_variant::parse_nstar(&out), Ok((p, n)));
    }

    #[test]
    fn too_long_is_an_encode_error(data in proptest::collection::vec(any::<u8>(), 253..300)) {
        let mut out = [0u8; 400];
        let too_long = matches!(
            ssi_variant::encode_sci(&SciPacket { opcode: 0x50, status: 0, data: &data }, &mut out),
            Err(scanner::stream::EncodeError::PayloadTooLong { .. })
        );
        prop_assert!(too_long);
    }
}
