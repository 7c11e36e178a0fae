//! M3Y-W frames: every `m3y` vector by id (reference/scanner.md §6), rejection of a corrupted
//! BCC / ETX / FID, incomplete prefixes, and an encode/parse round trip.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{raw, vectors};
use proptest::prelude::*;
use scanner::m3y::{self, Fid, Frame};
use scanner::stream::FrameError;

fn hex_u8(s: &str) -> u8 {
    u8::from_str_radix(s.split_whitespace().next().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// m3y-02 (SR030301) and m3y-05 (SRDF0051): every field of `expected`, and re-encoding.
#[test]
fn m3y_vectors() {
    let mut ids = Vec::new();
    for v in vectors("m3y") {
        let id = v["id"].as_str().unwrap();
        let bytes = raw(&v);
        let e = &v["expected"];
        assert_eq!(bytes[0], hex_u8(e["stx"].as_str().unwrap()), "{id}");
        assert_eq!(*bytes.last().unwrap(), hex_u8(e["etx"].as_str().unwrap()), "{id}");
        let (f, used) = m3y::parse(&bytes).unwrap();
        assert_eq!(used, bytes.len(), "{id}");
        assert_eq!(f.fid.to_u8(), hex_u8(e["fid"].as_str().unwrap()), "{id}");
        assert_eq!(f.fid, Fid::HostToScanner, "{id}");
        assert_eq!(f.data.len() as u64, e["len"].as_u64().unwrap(), "{id}");
        assert_eq!(f.data, e["cmd_text"].as_str().unwrap().as_bytes(), "{id}");
        // BCC = XOR from FID through DATA.
        assert_eq!(m3y::bcc(&bytes[1..bytes.len() - 2]), hex_u8(e["bcc"].as_str().unwrap()), "{id}");
        let mut out = [0u8; 32];
        let n = m3y::encode(&f, &mut out).unwrap();
        assert_eq!(&out[..n], &bytes[..], "{id}");
        ids.push(id.to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["m3y-02", "m3y-05"]);
}

#[test]
fn corrupted_bcc_is_rejected_with_its_offset() {
    let mut bytes = raw(&vectors("m3y")[0]);
    let at = bytes.len() - 2;
    let good = bytes[at];
    bytes[at] ^= 0x40;
    assert_eq!(
        m3y::parse(&bytes),
        Err(FrameError::BadChecksum { offset: at, expected: good.into(), found: (good ^ 0x40).into() })
    );
    // A flipped data byte is caught the same way.
    let mut bytes = raw(&vectors("m3y")[0]);
    bytes[5] ^= 0x01;
    assert!(matches!(m3y::parse(&bytes), Err(FrameError::BadChecksum { offset: 12, .. })));
}

#[test]
fn bad_stx_fid_etx_length_and_prefixes() {
    let good = raw(&vectors("m3y")[0]);
    for n in 0..good.len() {
        assert_eq!(m3y::parse(&good[..n]), Err(FrameError::Incomplete), "prefix {n}");
    }
    let mut b = good.clone();
    b[0] = 0x02;
    assert_eq!(m3y::parse(&b), Err(FrameError::BadStart { offset: 0, found: 0x02 }));
    let mut b = good.clone();
    b[1] = 0x03;
    assert_eq!(m3y::parse(&b), Err(FrameError::BadField { offset: 1, field: "FID", found: 0x03 }));
    let mut b = good.clone();
    *b.last_mut().unwrap() = 0x03;
    assert_eq!(m3y::parse(&b), Err(FrameError::BadField { offset: 13, field: "ETX", found: 0x03 }));
    assert!(matches!(
        m3y::parse(&[0x5A, 0x00, 0x08, 0x11]),
        Err(FrameError::BadLength { offset: 2, found: 0x0811, .. })
    ));
}

#[test]
fn encode_limits() {
    let data = [b'A'; m3y::MAX_DATA + 1];
    let mut out = [0u8; m3y::MAX_FRAME + 1];
    assert!(matches!(
        m3y::encode(&Frame { fid: Fid::Reply, data: &data }, &mut out),
        Err(scanner::stream::EncodeError::PayloadTooLong { .. })
    ));
    let n = m3y::encode(&Frame { fid: Fid::Reply, data: &data[..m3y::MAX_DATA] }, &mut out).unwrap();
    assert_eq!(n, m3y::MAX_FRAME);
    assert!(m3y::encode(&Frame { fid: Fid::Reply, data: m3y::FEEDBACK_OK }, &mut [0u8; 9]).is_err());
}

proptest! {
    #[test]
    fn round_trip(fid in 0u8..3, data in proptest::collection::vec(any::<u8>(), 0..300), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
        let frame = Frame { fid: Fid::from_u8(fid).unwrap(), data: &data };
        let mut out = vec![0u8; frame.wire_len()];
        let n = m3y::encode(&frame, &mut out).unwrap();
        prop_assert_eq!(n, data.len() + m3y::OVERHEAD);
        out.extend_from_slice(&tail);
        let (back, used) = m3y::parse(&out).unwrap();
        prop_assert_eq!(back, frame);
        prop_assert_eq!(used, n);
    }
}
