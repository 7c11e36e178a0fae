//! Scans parsed per second (raw framing + AIM + GS1 parse and lint of a realistic SSCC label)
//! and the SSI decoder's throughput on a stream of ACK + DECODE_DATA packets fed in 64-byte
//! chunks. `cargo bench -p scanner`; criterion reports time per iteration and throughput.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scanner::framer::{FramerConfig, LineFramer, Terminator};
use scanner::gs1::ElementStrings;
use scanner::payload::{Content, classify};
use scanner::ssi::{self, Opcode, Packet, Source, SsiDecoder};
use scanner::stream::Event;

/// A GS1-128 parcel label: SSCC, ship-to postcode with country, ship-to country, routing code.
const LABEL: &[u8] = b"]C100123456789012345675\x1d4210769876\x1d4307DE\x1d403ROUTE-17-B\r";

fn bench_scans(c: &mut Criterion) {
    const SCANS: usize = 1000;
    let stream: Vec<u8> = LABEL.repeat(SCANS);
    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Elements(SCANS as u64));
    g.bench_function("frame+aim+gs1+lint sscc label", |b| {
        b.iter(|| {
            let mut framer = LineFramer::<256>::new(FramerConfig::new(Terminator::Cr));
            let mut input = &stream[..];
            let mut ok = 0usize;
            while let Some(line) = framer.feed(&mut input, 0) {
                if let Content::Gs1(raw) = classify(line.data).content {
                    ok += ElementStrings::new(raw).filter(|e| e.as_ref().is_ok_and(|e| e.lint().is_ok())).count();
                }
            }
            assert_eq!(ok, 4 * SCANS);
            black_box(ok)
        })
    });
    g.finish();
}

fn bench_ssi(c: &mut Criterion) {
    let mut stream = Vec::new();
    let mut packets = 0u64;
    let mut buf = [0u8; ssi::MAX_PACKET];
    while stream.len() < 1 << 20 {
        for p in [
            Packet { opcode: Opcode::CmdAck, source: Source::Decoder, status: 0, payload: &[] },
            Packet {
                opcode: Opcode::DecodeData,
                source: Source::Decoder,
                status: 0,
                payload: &LABEL[3..LABEL.len() - 1],
            },
        ] {
            let n = ssi::encode(&p, &mut buf).unwrap();
            stream.extend_from_slice(&buf[..n]);
            packets += 1;
        }
    }
    println!("ssi stream: {} bytes, {packets} packets", stream.len());
    let mut g = c.benchmark_group("ssi");
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("decode 1 MiB in 64-byte chunks", |b| {
        b.iter(|| {
            let mut dec = SsiDecoder::new();
            let mut frames = 0u64;
            for mut chunk in stream.chunks(64) {
                while let Some(ev) = dec.feed(&mut chunk) {
                    if let Event::Frame { .. } = ev {
                        frames += 1;
                    }
                }
            }
            assert_eq!(frames, packets);
            black_box(frames)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_scans, bench_ssi);
criterion_main!(benches);
