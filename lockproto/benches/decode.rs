//! Decode throughput of the streaming decoder per dialect, and the Modbus-relay dialect side by
//! side with `rmodbus` on the same frames.
//!
//! Each dialect gets a 1 MiB stream of mixed valid request frames (unlocks, queries, status
//! reads across boards and locks) in which 1% of the bytes are then overwritten with random
//! values, fed in 64-byte chunks as a UART driver would. `cargo bench -p lockproto` prints the
//! frame count of each stream so that ns/frame follows from criterion's time per stream.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lockproto::dialect::{
    bcc_8a80::Bcc8a80, kerong_cu12::KerongCu12, kerong_cu16::KerongCu16, modbus_relay::ModbusRelay, winnsen::Winnsen,
    wkly::Wkly,
};
use lockproto::native::Native;
use lockproto::{Command, Dialect, Direction, Event, Lock, ParameterId, StreamDecoder};

const STREAM_LEN: usize = 1 << 20;
const CHUNK: usize = 64;

/// A small deterministic xorshift so the streams are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Every neutral command the dialect can express, for a spread of boards and locks.
fn sample_frames<D: Dialect>(dialect: &D, boards: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut out = [0u8; 512];
    for &board in boards {
        for n in [1u8, 2, 5, 8, 12] {
            let lock = Lock::new(n).unwrap();
            let commands = [
                Command::Unlock(lock),
                Command::QueryLock(lock),
                Command::QueryAll,
                Command::UnlockAll,
                Command::BoardInfo,
                Command::ReadParameter(ParameterId::UnlockTime),
            ];
            for command in commands {
                if let Ok(request) = dialect.request(board, &command)
                    && let Ok(len) = dialect.encode_request(&request, &mut out)
                {
                    frames.push(out[..len].to_vec());
                }
            }
        }
    }
    assert!(!frames.is_empty(), "{} expresses none of the sample commands", D::NAME);
    frames
}

/// Concatenates random sample frames up to 1 MiB; returns the stream and its frame count.
fn build_stream(frames: &[Vec<u8>], rng: &mut XorShift) -> (Vec<u8>, usize) {
    let mut stream = Vec::with_capacity(STREAM_LEN + 256);
    let mut count = 0;
    while stream.len() < STREAM_LEN {
        let frame = &frames[(rng.next() % frames.len() as u64) as usize];
        stream.extend_from_slice(frame);
        count += 1;
    }
    (stream, count)
}

/// Overwrites 1% of the bytes with random values.
fn corrupt(stream: &mut [u8], rng: &mut XorShift) {
    for _ in 0..stream.len() / 100 {
        let at = (rng.next() % stream.len() as u64) as usize;
        stream[at] = rng.next() as u8;
    }
}

fn decode_stream<D: Dialect + Clone>(dialect: &D, stream: &[u8]) -> u64 {
    let mut decoder = StreamDecoder::<D, 256>::new(dialect.clone(), Direction::Request);
    let mut frames = 0u64;
    for chunk in stream.chunks(CHUNK) {
        for event in decoder.feed(chunk) {
            if let Event::Frame { .. } = event {
                frames += 1;
            }
        }
    }
    frames
}

fn bench_dialect<D: Dialect + Clone>(c: &mut Criterion, dialect: D, boards: &[u8]) {
    let mut rng = XorShift(0x5EED_1234_ABCD_0001);
    let frames = sample_frames(&dialect, boards);
    let (mut stream, sent) = build_stream(&frames, &mut rng);
    corrupt(&mut stream, &mut rng);
    let decoded = decode_stream(&dialect, &stream);
    println!("{}: {} frames sent, {} decoded after 1% corruption", D::NAME, sent, decoded);
    let mut group = c.benchmark_group("stream_1MiB_1pct_corrupt");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function(D::NAME, |b| b.iter(|| decode_stream(&dialect, black_box(&stream))));
    group.finish();
}

fn dialects(c: &mut Criterion) {
    bench_dialect(c, KerongCu12::default(), &[0, 1, 15]);
    bench_dialect(c, KerongCu16::default(), &[0, 1, 9]);
    bench_dialect(c, Bcc8a80::default(), &[1, 2, 31]);
    bench_dialect(c, Wkly::default(), &[0, 1, 31]);
    bench_dialect(c, Winnsen::default(), &[1, 2, 4]);
    bench_dialect(c, ModbusRelay::default(), &[1, 2, 0xFF]);
    bench_dialect(c, Native::default(), &[1, 2, 3]);
}

/// Modbus request frames (read coils, read discrete inputs, write coil, write coils) for both
/// decoders, clean, so that rmodbus (which has no resync) sees valid input only.
fn modbus_frames() -> Vec<Vec<u8>> {
    let bodies: [&[u8]; 6] = [
        &[0x01, 0x01, 0x00, 0x00, 0x00, 0x08],
        &[0x01, 0x02, 0x00, 0x00, 0x00, 0x08],
        &[0x01, 0x05, 0x00, 0x00, 0xFF, 0x00],
        &[0x02, 0x05, 0x00, 0x03, 0x00, 0x00],
        &[0xFF, 0x0F, 0x00, 0x00, 0x00, 0x08, 0x01, 0xFF],
        &[0x01, 0x01, 0x00, 0x00, 0x00, 0x10],
    ];
    bodies
        .iter()
        .map(|body| {
            let crc = lockproto::checksum::crc16_modbus(body);
            let mut frame = body.to_vec();
            frame.extend_from_slice(&crc.to_le_bytes());
            frame
        })
        .collect()
}

fn rmodbus_decode(stream: &[u8]) -> u64 {
    use rmodbus::{ModbusProto, guess_request_frame_len, server::ModbusFrame};
    let mut response = Vec::with_capacity(256);
    let mut at = 0;
    let mut frames = 0;
    while at < stream.len() {
        let Ok(len) = guess_request_frame_len(&stream[at..], ModbusProto::Rtu) else { break };
        let len = len as usize;
        let frame_bytes = &stream[at..at + len];
        let mut frame = ModbusFrame::new(frame_bytes[0], frame_bytes, ModbusProto::Rtu, &mut response);
        if frame.parse().is_ok() {
            frames += 1;
        }
        at += len;
    }
    frames
}

fn modbus_vs_rmodbus(c: &mut Criterion) {
    let mut rng = XorShift(0x00C0_FFEE_0000_0001);
    let (stream, sent) = build_stream(&modbus_frames(), &mut rng);
    let ours = decode_stream(&ModbusRelay::default(), &stream);
    let theirs = rmodbus_decode(&stream);
    println!("modbus clean stream: {sent} frames; lockproto decoded {ours}, rmodbus parsed {theirs}");
    assert_eq!(ours, sent as u64);
    assert_eq!(theirs, sent as u64);
    let mut group = c.benchmark_group("modbus_1MiB_clean");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("lockproto", |b| b.iter(|| decode_stream(&ModbusRelay::default(), black_box(&stream))));
    group.bench_function("rmodbus", |b| b.iter(|| rmodbus_decode(black_box(&stream))));
    group.finish();
}

criterion_group!(benches, dialects, modbus_vs_rmodbus);
criterion_main!(benches);
