//! Property test of the command engine under arbitrary commands, bytes and times (the same
//! checks as the `modem_engine` fuzz target): it never panics, a command gets at most one
//! outcome, there is never an outcome without a command, a timeout never comes before the
//! deadline, and the boot counter never goes down (reference §6.2, §6.3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use modem::Command;
use modem::engine::{CommandError, Engine};
use proptest::prelude::*;

const COMMANDS: &[&[u8]] = &[
    b"AT",
    b"ATE0",
    b"AT+CSQ",
    b"AT+CEREG?",
    b"AT+COPS=?",
    b"AT+QIOPEN=1,0,\"TCP\",\"h\",1883,0,0",
    b"AT+CMGS=\"+100\"",
    b"AT+QIRD=0,1500",
    b"AT+QPOWD=1",
    b"AT+QISEND=0,5",
];

const LINES: &[&[u8]] = &[
    b"\r\nOK\r\n",
    b"\r\nERROR\r\n",
    b"\r\n+CME ERROR: 10\r\n",
    b"\r\n> ",
    b"\r\n+QIOPEN: 0,0\r\n",
    b"\r\nRDY\r\n",
    b"\r\nAPP RDY\r\n",
    b"\r\n+CSQ: 20,99\r\n",
    b"\r\n+CEREG: 2,1\r\n",
    b"\r\n+CEREG: 5\r\n",
    b"\r\n+QIRD: 3\r\nOK\r\n",
    b"\r\nSEND OK\r\n",
    b"\r\nPOWERED DOWN\r\n",
    b"AT+CSQ\r",
];

#[derive(Debug, Clone)]
enum Op {
    Start(usize),
    Line(usize),
    Bytes(Vec<u8>),
    Advance(u32),
    Poll,
    Prompt,
    PopUrc,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..COMMANDS.len()).prop_map(Op::Start),
        (0..LINES.len()).prop_map(Op::Line),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Op::Bytes),
        prop_oneof![0u32..50, 0u32..400_000].prop_map(Op::Advance),
        Just(Op::Poll),
        Just(Op::Prompt),
        Just(Op::PopUrc),
    ]
}

/// Runs `ops` and checks the invariants; shared in spirit with `fuzz/fuzz_targets/modem_engine.rs`.
fn check(ops: &[Op]) {
    let mut e = Engine::<64, 4>::new();
    let mut now = 0u64;
    let mut deadline: Option<u64> = None;
    let mut boots = 0;
    for op in ops {
        match op {
            Op::Start(i) => {
                let c = Command::new(COMMANDS[*i]);
                let r = e.start(&c, now);
                if deadline.is_some() {
                    assert_eq!(r, Err(CommandError::Busy), "a second command while one is pending");
                }
                if r.is_ok() {
                    deadline = Some(now + u64::from(c.timeout_ms));
                }
            }
            Op::Line(i) => e.feed(LINES[*i], now),
            Op::Bytes(b) => e.feed(b, now),
            Op::Advance(ms) => now += u64::from(*ms),
            Op::Poll => match e.poll(now) {
                Some(outcome) => {
                    let d = deadline.take().expect("an outcome without a command");
                    if outcome == Err(CommandError::Timeout) {
                        assert!(now >= d, "timeout before the deadline");
                    }
                    assert_eq!(e.poll(now), None, "two outcomes for one command");
                }
                None => {
                    if let Some(d) = deadline {
                        assert!(now < d, "no timeout at the deadline");
                    }
                }
            },
            Op::Prompt => {
                let _ = e.take_prompt();
            }
            Op::PopUrc => {
                let _ = e.pop_urc();
            }
        }
        assert_eq!(e.is_pending(), deadline.is_some());
        assert!(e.boots() >= boots);
        boots = e.boots();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]
    #[test]
    fn engine_invariants(ops in proptest::collection::vec(op(), 0..60)) {
        check(&ops);
    }
}

#[test]
fn a_late_final_after_a_timeout_is_no_outcome() {
    let mut e = Engine::<64, 4>::new();
    e.start(&Command::new(b"AT+CSQ"), 0).unwrap();
    assert_eq!(e.poll(5_000), Some(Err(CommandError::Timeout)));
    e.feed(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n", 5_100);
    assert_eq!(e.poll(5_100), None);
    assert!(!e.is_pending());
}

#[test]
fn boots_count_banners_of_one_boot_once() {
    let mut e = Engine::<64, 4>::new();
    e.feed(b"\r\nRDY\r\n", 100);
    e.feed(b"\r\nAPP RDY\r\n", 300);
    assert_eq!(e.boots(), 1);
    e.feed(b"\r\nRDY\r\n", 100_000);
    e.feed(b"\r\nSMS Ready\r\n", 101_000);
    assert_eq!(e.boots(), 2);
    // The URC queue (depth 4) is full now: the banner is lost from the queue but still counted.
    e.feed(b"\r\n*ATREADY: 1\r\n", 200_000);
    assert_eq!(e.boots(), 3);
    assert_eq!(e.take_lost(), 1);
}
