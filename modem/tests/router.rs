//! Router behaviour the vectors do not cover alone: timeouts and draining, the bounded URC queue,
//! prompts, awaited results, overflow; plus property tests of framer and router.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::*;
use modem::framer::{Event, Framer};
use modem::{Command, Router, RouterError};
use proptest::prelude::*;

#[test]
fn late_reply_after_cancel_never_reaches_the_next_command() {
    // reference §6.2 poison-on-timeout; atat hands a late reply to the next command (§3).
    let mut router = TestRouter::new();
    router.begin(&Command::new(b"AT+CSQ")).unwrap();
    let mut items = Vec::new();
    router.feed(b"AT+CSQ\r\r\n", |r| items.push(own(r)));
    router.cancel();
    assert_eq!(router.begin(&Command::new(b"AT+CPIN?")), Err(RouterError::Draining));
    router.feed(b"\r\n+CSQ: 19,99\r\n\r\n+CREG: 1\r\n\r\nOK\r\n", |r| items.push(own(r)));
    assert_eq!(
        items,
        vec![
            Item::Echo,
            Item::Discarded(b"+CSQ: 19,99".to_vec()),
            Item::Urc(b"+CREG: 1".to_vec()),
            Item::Discarded(b"OK".to_vec())
        ]
    );
    router.drained();
    router.begin(&Command::new(b"AT+CPIN?")).unwrap();
    let mut items = Vec::new();
    router.feed(b"\r\n+CPIN: READY\r\n\r\nOK\r\n", |r| items.push(own(r)));
    assert_eq!(items[0], Item::Info(b"+CPIN: READY".to_vec()));
    assert!(matches!(items[1], Item::Final { name: "ok", complete: true, .. }));
    assert_eq!(router.stats().cancelled, 1);
}

#[test]
fn late_async_result_after_cancel_is_a_urc() {
    let mut router = TestRouter::new();
    router.begin(&Command::new(b"AT+QIOPEN=1,0,\"TCP\",\"h\",1,0,0")).unwrap();
    let mut items = Vec::new();
    router.feed(b"\r\nOK\r\n", |r| items.push(own(r)));
    assert!(router.is_pending());
    router.cancel();
    router.feed(b"\r\n+QIOPEN: 0,566\r\n", |r| items.push(own(r)));
    assert_eq!(items.last(), Some(&Item::Urc(b"+QIOPEN: 0,566".to_vec())));
}

#[test]
fn ciprxget_data_urc_is_not_the_read_reply() {
    // reference §1.7, §2.8: `+CIPRXGET: 1,<link>` is the URC even while `AT+CIPRXGET=2` waits
    // for its own `+CIPRXGET: 2,<link>,<read>,<rest>`.
    let mut router = TestRouter::new();
    router.begin(&Command::new(b"AT+CIPRXGET=2,0,64")).unwrap();
    let mut items = Vec::new();
    router.feed(b"\r\n+CIPRXGET: 1,0\r\n\r\n+CIPRXGET: 2,0,2,0\r\nOK\r\n\r\nOK\r\n", |r| items.push(own(r)));
    assert_eq!(items[0], Item::Urc(b"+CIPRXGET: 1,0".to_vec()));
    assert_eq!(items[1], Item::Info(b"+CIPRXGET: 2,0,2,0".to_vec()));
    assert!(matches!(items.last(), Some(Item::Final { name: "ok", complete: true, .. })));
}

#[test]
fn busy_while_pending() {
    let mut router = TestRouter::new();
    router.begin(&Command::new(b"AT")).unwrap();
    assert_eq!(router.begin(&Command::new(b"AT")), Err(RouterError::Busy));
}

#[test]
fn full_queue_counts_lost_urcs_and_keeps_the_reply() {
    let mut router = Router::<64, 2>::new();
    router.begin(&Command::new(b"AT+CGSN")).unwrap();
    let mut items = Vec::new();
    router
        .feed(b"\r\nRDY\r\n+CMTI: \"SM\",1\r\n+CMTI: \"SM\",2\r\n867698040000000\r\n+CMTI: \"SM\",3\r\nOK\r\n", |r| {
            items.push(own(r))
        });
    assert_eq!(infos(&items), vec![b"867698040000000".to_vec()]);
    assert_eq!(items.iter().filter(|i| **i == Item::UrcLost).count(), 2);
    assert!(matches!(items.last(), Some(Item::Final { name: "ok", complete: true, .. })));
    assert_eq!(router.take_lost(), 2);
    assert_eq!(router.take_lost(), 0);
    assert_eq!(router.stats().lost, 2);
    assert_eq!(router.pop_urc().unwrap().line.as_slice(), b"RDY");
    assert_eq!(router.pop_urc().unwrap().line.as_slice(), b"+CMTI: \"SM\",1");
    assert!(router.pop_urc().is_none());
}

#[test]
fn pushed_socket_data_is_kept_with_its_urc() {
    // reference §1.9 push mode: `+QIURC: "recv",<id>,<len>\r\n<len raw bytes>`.
    let mut router = TestRouter::new();
    let mut items = Vec::new();
    router.feed(b"\r\n+QIURC: \"recv\",0,6\r\nOK\r\n>\r\n+QIURC: \"closed\",0\r\n", |r| items.push(own(r)));
    let urc = router.pop_urc().unwrap();
    assert_eq!(urc.line.as_slice(), b"+QIURC: \"recv\",0,6");
    assert_eq!(urc.data.as_slice(), b"OK\r\n>\r");
    assert_eq!(router.pop_urc().unwrap().line.as_slice(), b"+QIURC: \"closed\",0");
}

#[test]
fn sms_prompt_then_reply() {
    // reference §2.11 / Q-AT §8.8: `> ` then `+CMGS: <mr>` and OK.
    let mut router = TestRouter::new();
    let cmgs = Command::new(b"AT+CMGS=\"+8613800000000\"");
    assert_eq!(cmgs.timeout_ms, 120_000);
    router.begin(&cmgs).unwrap();
    let mut items = Vec::new();
    router.feed(b"AT+CMGS=\"+8613800000000\"\r\r\n> ", |r| items.push(own(r)));
    assert_eq!(items, vec![Item::Echo, Item::Prompt(b'>')]);
    items.clear();
    router.feed(b"\r\n+CMGS: 247\r\n\r\nOK\r\n", |r| items.push(own(r)));
    assert_eq!(items[0], Item::Info(b"+CMGS: 247".to_vec()));
    assert!(matches!(items[1], Item::Final { name: "ok", complete: true, .. }));
}

#[test]
fn qisend_completes_on_send_ok() {
    let mut router = TestRouter::new();
    router.begin(&Command::new(b"AT+QISEND=0,5")).unwrap();
    let mut items = Vec::new();
    router.feed(b"\r\n> ", |r| items.push(own(r)));
    router.feed(b"\r\nSEND OK\r\n", |r| items.push(own(r)));
    assert_eq!(items, vec![Item::Prompt(b'>'), Item::Result { line: b"SEND OK".to_vec(), complete: true }]);
    assert!(!router.is_pending());
}

#[test]
fn error_instead_of_prompt_disarms_it() {
    let mut router = TestRouter::new();
    router.begin(&Command::new(b"AT+QISEND=0,5")).unwrap();
    let mut items = Vec::new();
    router.feed(b"\r\nERROR\r\n> x\r\n", |r| items.push(own(r)));
    assert!(matches!(items[0], Item::Final { name: "error", complete: true, .. }));
    // The `>` afterwards is not a prompt any more: a garbage line outside a command.
    assert_eq!(items[1], Item::Discarded(b"> x".to_vec()));
}

#[test]
fn too_long_reply_line_then_final() {
    let mut router = Router::<16, 2>::new();
    router.begin(&Command::new(b"AT+COPS=?")).unwrap();
    let mut items = Vec::new();
    router.feed(b"\r\n+COPS: (2,\"Operator Long Name\",\"Op\",\"00101\",7)\r\n\r\nOK\r\n", |r| items.push(own(r)));
    assert_eq!(items[0], Item::TooLong(46));
    assert!(matches!(items[1], Item::Final { name: "ok", complete: true, .. }));
}

#[test]
fn sizes() {
    let small = core::mem::size_of::<Router<256, 8>>();
    let framer = core::mem::size_of::<Framer<256>>();
    let tiny = core::mem::size_of::<Router<128, 4>>();
    println!("Router<256, 8>: {small} bytes; Router<128, 4>: {tiny} bytes; Framer<256>: {framer} bytes");
    // N·(2Q+1) payload bytes, the command head, three lengths per URC slot, small change.
    assert!(small <= 256 * 17 + modem::router::COMMAND_KEEP + 8 * 3 * 8 + 200, "{small}");
}

// ---------------------------------------------------------------------------------------------
// Properties

fn line_text() -> impl Strategy<Value = Vec<u8>> {
    // Printable text that is no payload header (no leading '+') and no prompt.
    proptest::collection::vec(0x21u8..0x7f, 1..40).prop_filter("no header", |l| l[0] != b'+')
}

fn terminator() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![Just(&b"\r\n"[..]), Just(&b"\n"[..]), Just(&b"\r"[..]), Just(&b"\r\r\n"[..]), Just(&b"\r\n\r\n"[..])]
}

fn cut_points(len: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..=len, 0..6).prop_map(|mut v| {
        v.sort_unstable();
        v
    })
}

fn chunks<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut last = 0;
    for &c in cuts {
        let c = c.min(bytes.len());
        out.push(&bytes[last..c]);
        last = c;
    }
    out.push(&bytes[last..]);
    out
}

proptest! {
    /// Lines with any mix of terminators and NULs in between come out exactly as sent.
    #[test]
    fn framer_recovers_lines(lines in proptest::collection::vec((line_text(), terminator(), 0usize..3), 1..12)) {
        let mut bytes = Vec::new();
        for (line, term, nuls) in &lines {
            bytes.extend(std::iter::repeat_n(0u8, *nuls));
            bytes.extend_from_slice(line);
            bytes.extend_from_slice(term);
        }
        let mut framer = Framer::<64>::new();
        let mut out = Vec::new();
        for &b in &bytes {
            if let Some(Event::Line(l)) = framer.push(b) {
                out.push(l.to_vec());
            }
        }
        let want: Vec<Vec<u8>> = lines.iter().map(|(l, _, _)| l.clone()).collect();
        prop_assert_eq!(out, want);
    }

    /// Arbitrary bytes: no panic; a line never exceeds the buffer; bytes are conserved
    /// (every non-NUL, non-terminator byte is in a line, an overflow or a payload).
    #[test]
    fn framer_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600), prompt in any::<bool>()) {
        let mut framer = Framer::<32>::new();
        if prompt { framer.expect_prompt(b'>'); }
        for &b in &bytes {
            match framer.push(b) {
                Some(Event::Line(l)) => prop_assert!(l.len() <= 32 && !l.is_empty()),
                Some(Event::Data { bytes, .. }) => prop_assert!(!bytes.is_empty() && bytes.len() <= 32),
                Some(Event::Overflow { head, len }) => prop_assert!(head.len() == 32 && len > 32),
                _ => {}
            }
        }
    }

    /// A reply with URCs injected at random line boundaries and cut into random chunks: the
    /// command sees the same echo, lines and final; every URC arrives once, in order.
    #[test]
    fn router_interleaving(
        info in proptest::collection::vec(0u32..1000, 0..4),
        injected in proptest::collection::vec((0usize..6, 0usize..5), 0..6),
        echo in any::<bool>(),
        cuts in cut_points(200),
    ) {
        let urc_set: [&[u8]; 5] = [b"RDY", b"+CMTI: \"SM\",7", b"+CEREG: 5", b"+QIURC: \"closed\",1", b"+QMTSTAT: 0,1"];
        let mut lines: Vec<Vec<u8>> = Vec::new();
        if echo { lines.push(b"AT+QIACT?".to_vec()); }
        for n in &info { lines.push(format!("+QIACT: {n},1,1,\"10.0.0.1\"").into_bytes()); }
        lines.push(b"OK".to_vec());
        let mut with_urcs: Vec<(Vec<u8>, bool)> = lines.iter().map(|l| (l.clone(), false)).collect();
        let mut expected_urcs = Vec::new();
        let mut sorted = injected.clone();
        sorted.sort_by_key(|(at, _)| *at);
        for (k, (at, which)) in sorted.iter().enumerate() {
            let at = (*at).min(lines.len()) + k;
            with_urcs.insert(at, (urc_set[*which].to_vec(), true));
        }
        for (l, is_urc) in &with_urcs { if *is_urc { expected_urcs.push(l.clone()); } }
        let mut bytes = Vec::new();
        for (i, (l, _)) in with_urcs.iter().enumerate() {
            if !(i == 0 && echo) { bytes.extend_from_slice(b"\r\n"); }
            bytes.extend_from_slice(l);
            bytes.extend_from_slice(if i == 0 && echo { b"\r" } else { b"\r\n" });
        }
        let items = run(Some("AT+QIACT?"), &chunks(&bytes, &cuts));
        let want_info: Vec<Vec<u8>> = lines.iter().filter(|l| l.starts_with(b"+QIACT")).cloned().collect();
        prop_assert_eq!(infos(&items), want_info);
        prop_assert_eq!(urcs(&items), expected_urcs);
        prop_assert_eq!(items.iter().filter(|i| **i == Item::Echo).count(), usize::from(echo));
        let last_final = items.iter().rev().find(|i| matches!(i, Item::Final { .. }));
        let ok = matches!(last_final, Some(Item::Final { name: "ok", complete: true, .. }));
        prop_assert!(ok);
    }

    /// Arbitrary bytes and arbitrary begin/cancel/drained calls: no panic, and the router never
    /// queues more than its capacity.
    #[test]
    fn router_arbitrary(ops in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..20)) {
        let mut router = Router::<32, 3>::new();
        let commands: [&[u8]; 5] = [b"AT+CREG?", b"AT+QIOPEN=1,0,\"TCP\",\"h\",1,0,0", b"AT+QISEND=0,4", b"AT+CGSN", b"AT+QMTRECV=0,1"];
        for (op, bytes) in ops {
            match op % 4 {
                0 => { let _ = router.begin(&Command::new(commands[usize::from(op / 4) % commands.len()])); }
                1 => router.cancel(),
                2 => router.drained(),
                _ => {}
            }
            router.feed(&bytes, |_| {});
            prop_assert!(router.queued_urcs() <= 3);
        }
        let _ = router.flush();
    }
}

/// A URC with a counted payload (`+CMQTTRXPAYLOAD: 0,<n>`, reference §1.9, §2.10) is not handed
/// out while its payload is still arriving: popped between two UART reads it would lose the rest.
#[test]
fn urc_is_not_popped_before_its_payload_is_complete() {
    let mut router = Router::<64, 4>::new();
    router.feed(b"\r\n+CMQTTRXPAYLOAD: 0,6\r\nab", |_| {});
    assert!(router.peek_urc().is_none());
    assert!(router.pop_urc().is_none(), "payload incomplete");
    router.feed(b"\r\nOK", |_| {});
    let urc = router.pop_urc().unwrap();
    assert_eq!((urc.line.as_slice(), urc.data.as_slice()), (&b"+CMQTTRXPAYLOAD: 0,6"[..], &b"ab\r\nOK"[..]));
    // A complete URC ahead of one still filling is handed out.
    router.feed(b"\r\n+CEREG: 1\r\n+QIURC: \"recv\",0,3\r\nx", |_| {});
    assert_eq!(router.pop_urc().unwrap().line.as_slice(), b"+CEREG: 1");
    assert!(router.pop_urc().is_none());
    router.feed(b"yz\r\n", |_| {});
    assert_eq!(router.pop_urc().unwrap().data.as_slice(), b"xyz");
}
