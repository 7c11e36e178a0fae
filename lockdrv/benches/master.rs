//! CPU cost of one master transaction in the sans-io core: plan the request (native: stamp
//! SEQ and BOOT), encode it, feed the board's reply in 16-byte chunks as a UART driver would,
//! decode and match it, and account for it (health, counters). No I/O, no waiting: this is
//! what the master adds on top of the wire time.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lockdrv::master::{BusDialect, MasterCore, Poll, TxEnd};
use lockproto::dialect::kerong_cu12::{Cu12Ask, Cu12Reply, KerongCu12};
use lockproto::dialect::wkly::Wkly;
use lockproto::native::{Native, NativeReply};
use lockproto::{BoardStatus, ChannelBits, Command, Dialect, LockSet, Response};

/// The reply bytes a board sends to `command` (built with the board side of the dialect).
fn reply_bytes<D: BusDialect + Clone>(dialect: &D, board: u8, command: &Command, response: &Response) -> Vec<u8> {
    let request = dialect.request(board, command).unwrap();
    let request = dialect.stamp(request, 0, 0x1234);
    let reply = dialect.reply(board, &request, response).unwrap();
    let mut out = [0u8; 512];
    let len = dialect.encode_reply(&reply, &mut out).unwrap();
    out[..len].to_vec()
}

fn transaction<D: BusDialect + Clone>(core: &mut MasterCore<D>, board: u8, command: &Command, reply: &[u8]) -> usize {
    core.admit::<()>(board, 0).unwrap();
    let plan = core.plan::<()>(board, command).unwrap();
    let mut tx = core.transaction::<()>(&plan).unwrap();
    let sent = tx.frame().len();
    tx.transmitted(1_000);
    let mut end = None;
    for chunk in reply.chunks(16) {
        if let Poll::Done(e) = tx.feed(chunk, 2_000, |_| {}) {
            end = Some(e);
        }
    }
    assert_eq!(end, Some(TxEnd::Replied));
    let reply = tx.take_reply();
    core.finish(&plan, &tx, reply.as_ref(), 3_000);
    sent
}

fn bench(c: &mut Criterion) {
    let status = |channels: u8| {
        Response::Status(BoardStatus {
            locks: ChannelBits::from_bitmap(channels, LockSet::first(3)),
            doors: None,
            presence: None,
        })
    };
    let mut group = c.benchmark_group("master transaction (sans-io core)");

    let cu12 = KerongCu12::new();
    let cu12_reply = {
        let reply = Cu12Reply::Status { board: 1, ask: Cu12Ask::Ok, hooks: LockSet::first(3) };
        let mut out = [0u8; 64];
        let len = cu12.encode_reply(&reply, &mut out).unwrap();
        out[..len].to_vec()
    };
    let mut core = MasterCore::new(cu12);
    group.bench_function("kerong-cu12 status", |b| {
        b.iter(|| transaction(&mut core, 1, black_box(&Command::QueryAll), black_box(&cu12_reply)))
    });

    let wkly = Wkly::default();
    let wkly_reply = reply_bytes(&wkly, 1, &Command::QueryAll, &status(24));
    let mut core = MasterCore::new(wkly);
    group.bench_function("wkly status (24 channels)", |b| {
        b.iter(|| transaction(&mut core, 1, black_box(&Command::QueryAll), black_box(&wkly_reply)))
    });

    // Native: every transaction has its own SEQ, so the reply is rebuilt to echo it. The
    // 256 replies are encoded up front.
    let native = Native::default();
    let native_status = status(24);
    let replies: Vec<Vec<u8>> = (0..=255u8)
        .map(|seq| {
            let request = native.request(1, &Command::QueryAll).unwrap().with_seq(seq);
            let reply: NativeReply = native.reply(1, &request, &native_status).unwrap();
            let mut out = [0u8; 512];
            let len = native.encode_reply(&reply, &mut out).unwrap();
            out[..len].to_vec()
        })
        .collect();
    let mut core = MasterCore::new(native);
    let mut seq = 0usize;
    group.bench_function("native status (24 channels)", |b| {
        b.iter(|| {
            let sent = transaction(&mut core, 1, black_box(&Command::QueryAll), black_box(&replies[seq % 256]));
            seq += 1;
            sent
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
