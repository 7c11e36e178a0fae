//! Property tests of the master's transaction core: whatever garbage precedes the reply and
//! however the bytes are chunked and spaced (within the inter-byte gap), the transaction
//! completes with exactly the board's reply; replies from other boards never complete it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lockdrv::master::{BusDialect, MasterCore, Poll, TxEnd};
use lockproto::dialect::kerong_cu12::{Cu12Ask, Cu12Reply, KerongCu12};
use lockproto::native::{Native, NativeReply};
use lockproto::{BoardStatus, ChannelBits, Command, Dialect, LockSet, Response};
use proptest::prelude::*;

/// Feeds `stream` cut at `cuts`, `step_us` apart; returns how the transaction ended and the
/// reply it kept.
fn feed<D: BusDialect + Clone>(
    dialect: D,
    board: u8,
    stream: &[u8],
    cuts: &[usize],
    step_us: u64,
) -> (TxEnd, Option<D::Reply>) {
    let mut core = MasterCore::new(dialect);
    let plan = core.plan::<()>(board, &Command::QueryAll).unwrap();
    let mut tx = core.transaction::<()>(&plan).unwrap();
    let mut now = 10_000;
    tx.transmitted(now);
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.push(0);
    points.push(stream.len());
    points.sort_unstable();
    points.dedup();
    let mut end = None;
    for pair in points.windows(2) {
        now += step_us;
        if let Poll::Done(e) = tx.feed(&stream[pair[0]..pair[1]], now, |_| {}) {
            end.get_or_insert(e);
        }
    }
    let end = match end {
        Some(e) => e,
        None => match tx.poll(now + 10_000_000) {
            Poll::Done(e) => e,
            Poll::Pending { .. } => panic!("pending after every deadline"),
        },
    };
    (end, tx.take_reply())
}

fn cu12_reply(board: u8, hooks: u16) -> (Cu12Reply, Vec<u8>) {
    let reply = Cu12Reply::Status { board, ask: Cu12Ask::Ok, hooks: LockSet::from_bits(u128::from(hooks & 0x0FFF)) };
    let mut out = [0u8; 64];
    let len = KerongCu12::new().encode_reply(&reply, &mut out).unwrap();
    (reply, out[..len].to_vec())
}

fn native_reply(board: u8, seq: u8, boot: u16, active: u32) -> (NativeReply, Vec<u8>) {
    let native = Native::default();
    let request = native.request(board, &Command::QueryAll).unwrap().with_seq(seq);
    let status = Response::Status(BoardStatus {
        locks: ChannelBits::from_bitmap(24, LockSet::from_bits(u128::from(active & 0x00FF_FFFF))),
        doors: None,
        presence: None,
    });
    let reply = native.reply(board, &request, &status).unwrap();
    let reply = match reply {
        NativeReply::Status { .. } => reply,
        other => panic!("{other:?}"),
    };
    let reply = set_boot(reply, boot);
    let mut out = [0u8; 512];
    let len = native.encode_reply(&reply, &mut out).unwrap();
    (reply, out[..len].to_vec())
}

fn set_boot(reply: NativeReply, new: u16) -> NativeReply {
    match reply {
        NativeReply::Status {
            board,
            seq,
            channels,
            lock_active,
            lock_absent,
            door_open,
            door_absent,
            occupied,
            presence_absent,
            pulsing,
            faulted,
            ..
        } => NativeReply::Status {
            board,
            seq,
            boot: new,
            channels,
            lock_active,
            lock_absent,
            door_open,
            door_absent,
            occupied,
            presence_absent,
            pulsing,
            faulted,
        },
        other => other,
    }
}

proptest! {
    #[test]
    fn cu12_reply_after_garbage_in_any_chunking_completes_the_transaction(
        board in 0u8..16,
        hooks in any::<u16>(),
        // No STX (0x02) in the garbage, so it cannot hold a frame of its own.
        garbage in proptest::collection::vec(any::<u8>().prop_filter("no STX", |b| *b != 0x02), 0..40),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        step_us in 0u64..20_000,
    ) {
        let (reply, bytes) = cu12_reply(board, hooks);
        let mut stream = garbage.clone();
        stream.extend_from_slice(&bytes);
        let (end, got) = feed(KerongCu12::new(), board, &stream, &cuts, step_us);
        prop_assert_eq!(end, TxEnd::Replied);
        prop_assert_eq!(got, Some(reply));
    }

    #[test]
    fn a_cu12_reply_of_another_board_never_completes_the_transaction(
        board in 0u8..16,
        other in 0u8..16,
        hooks in any::<u16>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        prop_assume!(board != other);
        let (_, bytes) = cu12_reply(other, hooks);
        let (end, got) = feed(KerongCu12::new(), board, &bytes, &cuts, 1_000);
        prop_assert_eq!(end, TxEnd::TimedOut);
        prop_assert_eq!(got, None);
    }

    #[test]
    fn native_reply_after_garbage_in_any_chunking_completes_the_transaction(
        board in 1u8..=254,
        boot in 1u16..,
        active in any::<u32>(),
        // No 0xF9 (first SOF byte) in the garbage.
        garbage in proptest::collection::vec(any::<u8>().prop_filter("no SOF", |b| *b != 0xF9), 0..40),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        // At most 13 chunks: the whole reply must arrive within the 178 ms native timeout.
        step_us in 0u64..13_000,
    ) {
        // A fresh core stamps SEQ 0 on its first request to a board.
        let (reply, bytes) = native_reply(board, 0, boot, active);
        let mut stream = garbage.clone();
        stream.extend_from_slice(&bytes);
        let (end, got) = feed(Native::default(), board, &stream, &cuts, step_us);
        prop_assert_eq!(end, TxEnd::Replied);
        prop_assert_eq!(got, Some(reply));
    }

    #[test]
    fn a_native_reply_with_another_seq_never_completes_the_transaction(
        board in 1u8..=254,
        seq in 1u8..,
        active in any::<u32>(),
    ) {
        let (_, bytes) = native_reply(board, seq, 7, active);
        let (end, got) = feed(Native::default(), board, &bytes, &[], 1_000);
        prop_assert_eq!(end, TxEnd::TimedOut);
        prop_assert_eq!(got, None);
    }
}
