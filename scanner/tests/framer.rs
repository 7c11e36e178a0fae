//! Raw mode framer: fixed cases from reference/scanner.md §7/§11 and properties (any chunking
//! gives the same lines; lines never contain the terminator; never panics).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use proptest::prelude::*;
use scanner::framer::{FramerConfig, LineEnd, LineFramer, Terminator};

type Lines = Vec<(Vec<u8>, LineEnd, bool)>;

/// Feeds `chunks` (each with its arrival time), then polls at `end_ms`.
fn run<const N: usize>(config: FramerConfig, chunks: &[(&[u8], u64)], end_ms: u64) -> Lines {
    let mut framer = LineFramer::<N>::new(config);
    let mut out = Vec::new();
    for &(chunk, now) in chunks {
        let mut input = chunk;
        while let Some(line) = framer.feed(&mut input, now) {
            out.push((line.data.to_vec(), line.end, line.prefix_found));
        }
        assert!(input.is_empty());
    }
    if let Some(line) = framer.poll(end_ms) {
        out.push((line.data.to_vec(), line.end, line.prefix_found));
    }
    out
}

fn split_at_sizes<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    out
}

#[test]
fn two_scans_in_one_read_and_a_split_scan() {
    // §11 item 1: merged and fragmented reads.
    let got = run::<64>(FramerConfig::new(Terminator::Cr), &[(b"]C0AB\r]Q1C", 0), (b"D\r", 5)], 10);
    assert_eq!(
        got,
        vec![(b"]C0AB".to_vec(), LineEnd::Terminator, true), (b"]Q1CD".to_vec(), LineEnd::Terminator, true)]
    );
}

#[test]
fn idle_gap_ends_unterminated_scans() {
    // §7: no terminator configured; scans are separated only by silence.
    let cfg = FramerConfig::new(Terminator::None).with_idle_gap(50);
    let got = run::<64>(cfg, &[(b"ABC", 0), (b"DE", 40), (b"XYZ", 100)], 120);
    assert_eq!(got, vec![(b"ABCDE".to_vec(), LineEnd::IdleGap, true)]);
    let got = run::<64>(cfg, &[(b"ABC", 0), (b"DE", 40), (b"XYZ", 100)], 150);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], (b"XYZ".to_vec(), LineEnd::IdleGap, true));
    let mut framer = LineFramer::<8>::new(cfg);
    let mut input: &[u8] = b"AB";
    assert!(framer.feed(&mut input, 7).is_none());
    assert_eq!(framer.deadline(), Some(57));
    assert!(framer.poll(56).is_none());
    assert_eq!(framer.poll(57).unwrap().data, b"AB");
    assert_eq!(framer.deadline(), None);
}

#[test]
fn overflow_is_marked_and_its_tail_dropped() {
    let got = run::<4>(FramerConfig::new(Terminator::Cr), &[(b"ABCDEFG\rOK\r", 0)], 0);
    assert_eq!(got, vec![(b"ABCD".to_vec(), LineEnd::Overflow, true), (b"OK".to_vec(), LineEnd::Terminator, true)]);
}

#[test]
fn prefix_is_stripped_and_reported() {
    let cfg = FramerConfig::new(Terminator::CrLf).with_prefix(b"@@").unwrap();
    let got = run::<64>(cfg, &[(b"@@]C0X\r\nY\r\n", 0)], 0);
    assert_eq!(got, vec![(b"]C0X".to_vec(), LineEnd::Terminator, true), (b"Y".to_vec(), LineEnd::Terminator, false)]);
    assert!(FramerConfig::new(Terminator::Cr).with_prefix(&[0; 16]).is_err());
}

#[test]
fn any_newline_accepts_cr_lf_and_crlf_without_empty_lines() {
    let got = run::<64>(FramerConfig::new(Terminator::AnyNewline), &[(b"A\r\nB\nC\r\r\nD\r", 0)], 0);
    let data: Vec<_> = got.into_iter().map(|l| l.0).collect();
    assert_eq!(data, vec![b"A".to_vec(), b"B".to_vec(), b"C".to_vec(), b"D".to_vec()]);
}

#[test]
fn payload_with_cr_survives_length_framing() {
    // §7: a QR containing CR is split by CR framing but not by the GM65 output protocol.
    let qr = b"]Q1Some line\r breaks\nin here.";
    let mut framed = vec![0x03, qr.len() as u8];
    framed.extend_from_slice(qr);
    let cfg = FramerConfig::new(Terminator::LengthPrefixed { marker: 0x03, length_bytes: 1 });
    assert_eq!(run::<64>(cfg, &[(&framed, 0)], 0), vec![(qr.to_vec(), LineEnd::Terminator, true)]);
    let mut framed2 = vec![0x03, 0x00, qr.len() as u8];
    framed2.extend_from_slice(qr);
    let cfg2 = FramerConfig::new(Terminator::LengthPrefixed { marker: 0x03, length_bytes: 2 });
    assert_eq!(run::<64>(cfg2, &[(&framed2, 0)], 0), vec![(qr.to_vec(), LineEnd::Terminator, true)]);
    // Cut by an idle gap: never a scan.
    let cut = FramerConfig::new(Terminator::LengthPrefixed { marker: 0x03, length_bytes: 1 }).with_idle_gap(10);
    assert_eq!(
        run::<64>(cut, &[(&framed[..10], 0), (&framed, 50)], 50),
        vec![(qr.to_vec(), LineEnd::Terminator, true)]
    );
}

fn terminators() -> impl Strategy<Value = Terminator> {
    prop_oneof![
        Just(Terminator::Cr),
        Just(Terminator::Lf),
        Just(Terminator::CrLf),
        Just(Terminator::AnyNewline),
        Just(Terminator::Tab),
        Just(Terminator::None),
        Just(Terminator::LengthPrefixed { marker: 3, length_bytes: 1 }),
        Just(Terminator::LengthPrefixed { marker: 3, length_bytes: 2 }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any chunking of a stream arriving at one instant gives the same lines.
    #[test]
    fn any_chunking_same_lines(
        term in terminators(),
        bytes in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'\t'), Just(3u8), any::<u8>()], 0..200),
        sizes in proptest::collection::vec(1usize..20, 1..8),
    ) {
        let cfg = FramerConfig::new(term).with_prefix(b"P").unwrap();
        let whole = run::<32>(cfg, &[(&bytes, 0)], 0);
        let chunks: Vec<(&[u8], u64)> = split_at_sizes(&bytes, &sizes).into_iter().map(|c| (c, 0)).collect();
        prop_assert_eq!(run::<32>(cfg, &chunks, 0), whole);
    }

    /// Scans joined with the terminator come out unchanged, in order, however they are chunked.
    #[test]
    fn terminated_scans_round_trip(
        scans in proptest::collection::vec(proptest::collection::vec(0x20u8..0x7F, 1..40), 0..6),
        sizes in proptest::collection::vec(1usize..16, 1..6),
        term in prop_oneof![Just((Terminator::Cr, &b"\r"[..])), Just((Terminator::CrLf, &b"\r\n"[..])), Just((Terminator::Tab, &b"\t"[..]))],
    ) {
        let mut stream = Vec::new();
        for s in &scans { stream.extend_from_slice(s); stream.extend_from_slice(term.1); }
        let chunks: Vec<(&[u8], u64)> = split_at_sizes(&stream, &sizes).into_iter().map(|c| (c, 0)).collect();
        let got: Vec<Vec<u8>> = run::<64>(FramerConfig::new(term.0), &chunks, 0).into_iter().map(|l| l.0).collect();
        prop_assert_eq!(got, scans);
    }

    /// With idle-gap framing, scans separated by silence come out whole, however they are chunked
    /// in time inside a scan (chunk gaps shorter than the idle gap).
    #[test]
    fn idle_gap_round_trip(
        scans in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..5),
        sizes in proptest::collection::vec(1usize..16, 1..6),
    ) {
        let cfg = FramerConfig::new(Terminator::None).with_idle_gap(100);
        let mut chunks: Vec<(&[u8], u64)> = Vec::new();
        let mut now = 0;
        for s in &scans {
            for c in split_at_sizes(s, &sizes) { chunks.push((c, now)); now += 99; }
            now += 1000;
        }
        let got: Vec<Vec<u8>> = run::<64>(cfg, &chunks, now).into_iter().map(|l| l.0).collect();
        prop_assert_eq!(got, scans);
    }

    /// A framer never panics and never emits a line longer than its buffer or containing its
    /// terminator byte.
    #[test]
    fn lines_bounded_and_terminator_free(bytes in proptest::collection::vec(any::<u8>(), 0..300), term in terminators()) {
        for (data, end, _) in run::<16>(FramerConfig::new(term).with_idle_gap(5), &[(&bytes, 0), (b"x", 3)], 100) {
            prop_assert!(data.len() <= 16);
            let forbidden: &[u8] = match term { Terminator::Cr => b"\r", Terminator::Lf => b"\n", Terminator::Tab => b"\t", Terminator::AnyNewline => b"\r\n", _ => b"" };
            prop_assert!(end == LineEnd::Overflow || !data.iter().any(|b| forbidden.contains(b)));
        }
    }
}
