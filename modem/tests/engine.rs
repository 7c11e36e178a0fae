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
