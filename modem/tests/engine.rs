//! The sans-io command engine without a simulator: deadlines (reference §2.13), typed errors
//! (§1.3, §1.10), overflow, and draining after a timeout (§6.2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use modem::Command;
use modem::command::SIMPLE_TIMEOUT_MS;
use modem::engine::{CommandError, Engine};

#[test]
fn deadline_comes_from_the_timeout_table() {
    let mut e = Engine::<64, 4>::new();
    e.start(&Command::new(b"AT+CSQ"), 1_000).unwrap();
    let deadline = 1_000 + u64::from(SIMPLE_TIMEOUT_MS);
    assert_eq!(e.poll(deadline - 1), None);
    assert_eq!(e.poll(deadline), Some(Err(CommandError::Timeout)));
    assert!(!e.is_pending());
    let mut e = Engine::<64, 4>::new();
    e.start(&Command::new(b"AT+QIOPEN=1,0,\"TCP\",\"h\",1,0,0"), 0).unwrap();
    assert_eq!(e.poll(149_999), None, "150 s for +QIOPEN (§2.13)");
}

#[test]
fn typed_errors() {
    for (text, want) in [
        (&b"\r\n+CME ERROR: 14\r\n"[..], CommandError::Cme(Some(14))),
        (b"\r\n+CME ERROR: SIM busy\r\n", CommandError::Cme(Some(14))),
        (b"\r\n+CMS ERROR: 500\r\n", CommandError::Cms(Some(500))),
        (b"\r\nERROR\r\n", CommandError::Error),
        (b"\r\nNO CARRIER\r\n", CommandError::Failed("no_carrier")),
    ] {
        let mut e = Engine::<64, 4>::new();
        e.start(&Command::new(b"AT+CPIN?"), 0).unwrap();
        e.feed(text, 10);
        assert_eq!(e.poll(10), Some(Err(want)), "{text:?}");
    }
}

#[test]
fn reply_line_and_count() {
    let mut e = Engine::<64, 4>::new();
    e.start(&Command::new(b"AT+CSQ"), 0).unwrap();
    e.feed(b"AT+CSQ\r\r\n+CSQ: 19,99\r\n\r\nOK\r\n", 5);
    let reply = e.poll(5).unwrap().unwrap();
    assert_eq!((reply.line.as_slice(), reply.lines), (&b"+CSQ: 19,99"[..], 1));
    assert_eq!(e.poll(6), None, "an outcome is given once");
}

#[test]
fn overflow_is_an_error_not_a_truncated_reply() {
    let mut e = Engine::<16, 4>::new();
    e.start(&Command::new(b"AT+COPS?"), 0).unwrap();
    e.feed(b"\r\n+COPS: 0,0,\"A VERY LONG OPERATOR NAME\",7\r\n\r\nOK\r\n", 1);
    assert_eq!(e.poll(1), Some(Err(CommandError::Overflow)));
}

#[test]
fn busy_and_draining() {
    let mut e = Engine::<64, 4>::new();
    e.set_quiet_ms(300);
    e.start(&Command::new(b"AT+CSQ"), 0).unwrap();
    assert_eq!(e.start(&Command::new(b"AT"), 1), Err(CommandError::Busy));
    assert_eq!(e.poll(5_000), Some(Err(CommandError::Timeout)));
    assert_eq!(e.start(&Command::new(b"AT"), 5_100), Err(CommandError::Draining));
    e.feed(b"\r\n+CSQ: 3,99\r\n\r\nOK\r\n", 5_200); // the late reply restarts the quiet period
    assert_eq!(e.start(&Command::new(b"AT"), 5_400), Err(CommandError::Draining));
    e.start(&Command::new(b"AT"), 5_500).unwrap();
    e.feed(b"\r\nOK\r\n", 5_510);
    assert_eq!(e.poll(5_510).unwrap().unwrap().lines, 0);
    assert!(e.pop_urc().is_none(), "the late reply was discarded, not queued");
}

/// `AT+QISEND=0,5` (reference §2.7): the `>` prompt, then `SEND OK` as the awaited final-like
/// result; `SEND FAIL` fails the command.
#[test]
fn prompt_then_send_ok_or_send_fail() {
    for (tail, want) in [
        (&b"\r\nSEND OK\r\n"[..], Ok(b"SEND OK".to_vec())),
        (b"\r\nSEND FAIL\r\n", Err(CommandError::Failed("SEND FAIL"))),
    ] {
        let mut e = Engine::<64, 4>::new();
        e.start(&Command::new(b"AT+QISEND=0,5"), 0).unwrap();
        assert!(!e.take_prompt());
        e.feed(b"AT+QISEND=0,5\r\r\n> ", 1);
        assert!(e.take_prompt(), "the prompt is reported");
        assert!(!e.take_prompt(), "once");
        assert_eq!(e.poll(1), None, "still waiting for SEND OK");
        e.feed(tail, 2);
        let got = e.poll(2).unwrap().map(|r| r.result.to_vec());
        assert_eq!(got, want);
    }
}

/// `AT+QMTPUBEX=0,1,1,0,"t",2` (reference §2.9 item 5): `OK` then `+QMTPUB: 0,1,0` after it,
/// with a URC in between; the awaited result is in the reply, the URC in the queue.
#[test]
fn awaited_result_after_ok_is_part_of_the_reply() {
    let mut e = Engine::<64, 4>::new();
    e.start(&Command::new(b"AT+QMTPUBEX=0,1,1,0,\"t\",2"), 0).unwrap();
    e.feed(b"\r\n> ", 1);
    assert!(e.take_prompt());
    e.feed(b"\r\nOK\r\n", 2);
    assert_eq!(e.poll(2), None, "OK alone does not finish it");
    e.feed(b"\r\n+CEREG: 1\r\n\r\n+QMTPUB: 0,1,0\r\n", 3);
    let reply = e.poll(3).unwrap().unwrap();
    assert_eq!(reply.result.as_slice(), b"+QMTPUB: 0,1,0");
    assert_eq!(e.pop_urc().unwrap().line.as_slice(), b"+CEREG: 1");
}

/// `AT+QIRD=0,1500` (reference §1.9, §2.7): the counted payload after `+QIRD: <n>` may hold
/// `OK` and CR LF; it is the reply's data, intact.
#[test]
fn counted_payload_is_the_reply_data() {
    let mut e = Engine::<64, 4>::new();
    e.start(&Command::new(b"AT+QIRD=0,1500"), 0).unwrap();
    e.feed(b"\r\n+QIRD: 9\r\nOK\r\n\"x\"\r\n\r\nOK\r\n", 1);
    let reply = e.poll(1).unwrap().unwrap();
    assert_eq!(reply.line.as_slice(), b"+QIRD: 9");
    assert_eq!(reply.data.as_slice(), b"OK\r\n\"x\"\r\n");
}
