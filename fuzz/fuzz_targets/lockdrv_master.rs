//! The bus master's transaction core (`lockdrv::master::engine`) on arbitrary reply bytes at
//! arbitrary times, for CU12 (unicast and broadcast), 8A/80 and native requests: no panic;
//! time never goes backwards in its answers; a unicast completes at most once, with a reply
//! from the addressed board (and, native, echoing the request's SEQ); the counters add up.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use lockdrv::master::{BusDialect, MasterCore, Poll, TxEnd};
use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::KerongCu12;
use lockproto::native::Native;
use lockproto::{Command, Lock};

#[derive(Debug, Arbitrary)]
struct Chunk<'a> {
    bytes: &'a [u8],
    gap_us: u16,
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    dialect: u8,
    board: u8,
    command: u8,
    chunks: Vec<Chunk<'a>>,
}

fn run<D: BusDialect + Clone>(dialect: D, board: u8, command: &Command, chunks: &[Chunk<'_>]) {
    let mut core = MasterCore::new(dialect.clone());
    let Ok(plan) = core.plan::<()>(board, command) else { return };
    let Ok(mut tx) = core.transaction::<()>(&plan) else { return };
    assert!(!tx.frame().is_empty());
    let mut now = 1_000u64;
    tx.transmitted(now);
    let mut broadcast_replies = 0u64;
    let mut done: Option<TxEnd> = None;
    for chunk in chunks {
        now += u64::from(chunk.gap_us) * 16;
        let poll = tx.feed(chunk.bytes, now, |_| broadcast_replies += 1);
        match (poll, done) {
            (Poll::Done(end), Some(before)) => assert_eq!(end, before, "a transaction ends once"),
            (Poll::Done(end), None) => done = Some(end),
            (Poll::Pending { wake_at_us }, None) => assert!(wake_at_us >= now || wake_at_us == u64::MAX),
            (Poll::Pending { .. }, Some(before)) => panic!("pending again after {before:?}"),
        }
    }
    let end = match tx.poll(now + 10_000_000) {
        Poll::Done(end) => end,
        Poll::Pending { .. } => panic!("still pending after every deadline"),
    };
    if let Some(before) = done {
        assert_eq!(end, before);
    }
    let reply = tx.take_reply();
    match end {
        TxEnd::Replied => {
            let reply = reply.as_ref().expect("a replied transaction has its reply");
            assert_eq!(dialect.reply_board(reply), Some(plan.board));
            if let Some(seq) = plan.seq {
                assert_eq!(dialect.reply_seq(reply), Some(seq));
            }
        }
        TxEnd::Collected(n) => assert_eq!(u64::from(n), broadcast_replies),
        TxEnd::TimedOut | TxEnd::NoReplyExpected => assert!(reply.is_none()),
    }
    let stats = tx.stats();
    assert!(stats.replies <= 1 || matches!(end, TxEnd::Collected(_)));
    core.finish(&plan, &tx, reply.as_ref(), now);
}

fuzz_target!(|input: Input<'_>| {
    let Some(lock) = Lock::new(input.command % 24 + 1) else { return };
    let command = match input.command % 3 {
        0 => Command::QueryAll,
        1 => Command::Unlock(lock),
        _ => Command::BoardInfo,
    };
    match input.dialect % 4 {
        0 => run(KerongCu12::new(), input.board % 16, &command, &input.chunks),
        // ADDR 0x10: every CU12 board answers.
        1 => run(KerongCu12::new(), 0x10, &Command::QueryAll, &input.chunks),
        2 => run(Bcc8a80::default(), input.board, &command, &input.chunks),
        _ => run(Native::default(), input.board, &command, &input.chunks),
    }
});
