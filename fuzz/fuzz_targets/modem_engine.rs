//! The modem command engine on arbitrary commands, bytes and times: no panic; a command gets
//! at most one outcome; never an outcome without a command; no second command while one is
//! pending; a timeout never before the deadline; the boot counter never goes down (reference
//! §6.2, §6.3). `modem/tests/engine_props.rs` checks the same with proptest on stable.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modem::Command;
use modem::engine::{CommandError, Engine};

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
    b"\r\n+QIRD: 3\r\nOK\r\n",
    b"\r\nSEND OK\r\n",
    b"\r\nPOWERED DOWN\r\n",
    b"AT+CSQ\r",
];

#[derive(Debug, Arbitrary)]
enum Op<'a> {
    Start(u8),
    StartText(&'a [u8]),
    Line(u8),
    Bytes(&'a [u8]),
    Advance(u16),
    AdvanceLong(u32),
    Poll,
    Prompt,
    PopUrc,
}

fuzz_target!(|ops: Vec<Op<'_>>| {
    let mut e = Engine::<64, 4>::new();
    let mut now = 0u64;
    let mut deadline: Option<u64> = None;
    let mut boots = 0;
    for op in &ops {
        match op {
            Op::Start(_) | Op::StartText(_) => {
                let c = match op {
                    Op::Start(i) => Command::new(COMMANDS[usize::from(*i) % COMMANDS.len()]),
                    Op::StartText(t) => Command::new(t),
                    _ => unreachable!(),
                };
                let r = e.start(&c, now);
                if deadline.is_some() {
                    assert_eq!(r, Err(CommandError::Busy), "a second command while one is pending");
                }
                if r.is_ok() {
                    deadline = Some(now + u64::from(c.timeout_ms));
                }
            }
            Op::Line(i) => e.feed(LINES[usize::from(*i) % LINES.len()], now),
            Op::Bytes(b) => e.feed(b, now),
            Op::Advance(ms) => now += u64::from(*ms),
            Op::AdvanceLong(ms) => now += u64::from(*ms),
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
                if let Some(u) = e.pop_urc() {
                    assert!(!u.line.is_empty());
                }
            }
        }
        assert_eq!(e.is_pending(), deadline.is_some());
        assert!(e.boots() >= boots);
        boots = e.boots();
    }
});
