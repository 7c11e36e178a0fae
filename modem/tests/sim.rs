//! The simulator (feature `sim`) against the router: boot, bring-up replies, URCs at awkward
//! moments (reference §1.6), late replies drained (§6.2), splitting, determinism.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use embedded_io::{Read, ReadReady, Write};
use modem::response::{parse_cops, parse_cpin, parse_csq, parse_iccid, parse_imei, parse_registration};
use modem::sim::{Moment, Sim, SimCard, SimClock, Split};
use modem::{Command, FinalResult, Routed, Router};

#[derive(Debug, Default)]
struct Reply {
    echo: bool,
    info: Vec<Vec<u8>>,
    fin: Option<String>,
    urcs: Vec<Vec<u8>>,
    discarded: Vec<Vec<u8>>,
}

/// Reads everything due now into the router, recording what it routes.
fn pump(sim: &mut Sim, router: &mut Router<256, 8>, r: &mut Reply) {
    let mut buf = [0u8; 64];
    while sim.read_ready().unwrap() {
        let n = sim.read(&mut buf).unwrap();
        router.feed(&buf[..n], |routed| match routed {
            Routed::Echo => r.echo = true,
            Routed::Info(l) => r.info.push(l.to_vec()),
            Routed::Final { result, complete: true } => {
                r.fin = Some(match result {
                    FinalResult::CmeError(c) => format!("cme {:?}", c.code),
                    other => other.name().to_string(),
                });
            }
            Routed::Discarded(l) => r.discarded.push(l.to_vec()),
            _ => {}
        });
    }
    while let Some(u) = router.pop_urc() {
        r.urcs.push(u.line.to_vec());
    }
}

/// Sends one command and steps virtual time by 10 ms until it completes or `timeout_ms` passes.
fn run(sim: &mut Sim, router: &mut Router<256, 8>, text: &[u8], timeout_ms: u64) -> Reply {
    let mut r = Reply::default();
    router.begin(&Command::new(text)).unwrap();
    sim.write_all(text).unwrap();
    sim.write_all(b"\r").unwrap();
    let start = sim.clock().now_ms();
    loop {
        pump(sim, router, &mut r);
        if !router.is_pending() || sim.clock().now_ms() - start >= timeout_ms {
            return r;
        }
        sim.clock().advance(10);
    }
}

fn booted(split: Split) -> (Sim, Router<256, 8>, Vec<Vec<u8>>) {
    let mut sim = Sim::new(SimClock::new());
    sim.set_split(split);
    let mut router = Router::new();
    let mut r = Reply::default();
    sim.clock().advance(1000);
    pump(&mut sim, &mut router, &mut r);
    (sim, router, r.urcs)
}

#[test]
fn boots_with_rdy_and_ignores_commands_before_it() {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.write_all(b"AT\r").unwrap();
    assert!(!sim.read_ready().unwrap());
    assert!(sim.commands().is_empty(), "AT before RDY is dropped (§2.2)");
    let (_, _, urcs) = booted(Split::Whole);
    assert_eq!(urcs, vec![b"RDY".to_vec(), b"+CFUN: 1".to_vec(), b"+CPIN: READY".to_vec(), b"APP RDY".to_vec()]);
}

#[test]
fn bring_up_and_identity_replies_parse() {
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(7)] {
        let (mut sim, mut router, _) = booted(split);
        let r = run(&mut sim, &mut router, b"ATE0", 1000);
        assert!(r.echo, "ATE0 is itself echoed");
        assert_eq!(r.fin.as_deref(), Some("ok"));
        let r = run(&mut sim, &mut router, b"AT+CMEE=1", 1000);
        assert!(!r.echo);
        assert_eq!((r.fin.as_deref(), sim.cmee()), (Some("ok"), 1));
        let r = run(&mut sim, &mut router, b"AT+CPIN?", 1000);
        assert!(parse_cpin(&r.info[0]).unwrap().is_ready());
        let r = run(&mut sim, &mut router, b"AT+CSQ", 1000);
        assert_eq!(parse_csq(&r.info[0]).unwrap().rssi_dbm(), Some(-73));
        let r = run(&mut sim, &mut router, b"AT+COPS?", 1000);
        assert_eq!(parse_cops(&r.info[0]).unwrap().act, Some(7));
        let r = run(&mut sim, &mut router, b"AT+CGSN", 1000);
        assert_eq!(parse_imei(&r.info[0]).unwrap(), "867698041234567");
        let r = run(&mut sim, &mut router, b"AT+QCCID", 1000);
        assert_eq!(parse_iccid(&r.info[0]).unwrap(), "89860025128306012474");
        let r = run(&mut sim, &mut router, b"AT+FOO", 1000);
        assert_eq!(r.fin.as_deref(), Some("cme Some(4)"));
        assert!(r.urcs.is_empty() && r.discarded.is_empty());
    }
}

#[test]
fn sim_busy_then_ready() {
    let (mut sim, mut router, _) = booted(Split::Whole);
    sim.set_sim(SimCard::Busy(2));
    run(&mut sim, &mut router, b"AT+CMEE=1", 1000);
    let mut answers = Vec::new();
    for _ in 0..3 {
        let r = run(&mut sim, &mut router, b"AT+CPIN?", 1000);
        answers.push(r.fin.unwrap());
    }
    assert_eq!(answers, ["cme Some(14)", "cme Some(14)", "ok"]);
}

#[test]
fn registration_goes_from_searching_to_registered_by_urc() {
    let (mut sim, mut router, _) = booted(Split::EveryByte);
    sim.set_registration(2);
    run(&mut sim, &mut router, b"AT+CEREG=2", 1000);
    let r = run(&mut sim, &mut router, b"AT+CEREG?", 1000);
    let reg = parse_registration(&r.info[0]).unwrap();
    assert_eq!((reg.n, reg.stat), (Some(2), 2));
    let r = run(&mut sim, &mut router, b"AT+COPS?", 1000);
    assert_eq!(r.info, vec![b"+COPS: 0".to_vec()]);
    let at = sim.clock().now_ms() + 5000;
    sim.schedule_registration(at, 1);
    let mut idle = Reply::default();
    while sim.clock().now_ms() < at + 100 {
        sim.clock().advance(50);
        pump(&mut sim, &mut router, &mut idle);
    }
    assert_eq!(idle.urcs.len(), 1);
    let reg = parse_registration(&idle.urcs[0]).unwrap();
    assert_eq!((reg.n, reg.stat, reg.area, reg.act), (None, 1, Some(0x1F00), Some(7)));
}

#[test]
fn urcs_at_awkward_moments_are_delivered_once_and_never_the_reply() {
    // §1.6 cases 2-3; the one-field `+CEREG: 5` before the echo shares the reply's prefix (§1.7).
    type Case<'a> = (&'a [u8], &'a [u8], [&'a [u8]; 3]);
    let cases: [Case; 2] = [
        (b"AT+CEREG?", b"+CEREG: 0,1", [b"+CEREG: 5", b"+QIURC: \"closed\",0", b"+CREG: 1"]),
        (b"AT+CSQ", b"+CSQ: 20,99", [b"+QIURC: \"closed\",1", b"+CEREG: 5", b"+QMTSTAT: 0,1"]),
    ];
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(42)] {
        for (command, reply, urcs_in) in cases {
            let (mut sim, mut router, _) = booted(split);
            sim.inject_urc(Moment::BeforeEcho, urcs_in[0]);
            sim.inject_urc(Moment::BetweenLines, urcs_in[1]);
            sim.inject_urc(Moment::AfterFinal, urcs_in[2]);
            let r = run(&mut sim, &mut router, command, 1000);
            // The router completes at OK; the URC after OK comes in the same read batch or the next.
            let mut after = Reply::default();
            sim.clock().advance(10);
            pump(&mut sim, &mut router, &mut after);
            let mut urcs = r.urcs.clone();
            urcs.extend(after.urcs);
            assert!(r.echo);
            assert_eq!(r.info, vec![reply.to_vec()], "{split:?}");
            assert_eq!(r.fin.as_deref(), Some("ok"));
            assert_eq!(urcs, urcs_in.map(<[u8]>::to_vec).to_vec(), "{split:?} in order, once each");
            assert!(r.discarded.is_empty() && after.discarded.is_empty() && after.info.is_empty());
        }
    }
}

#[test]
fn late_reply_is_drained_and_not_given_to_the_next_command() {
    let (mut sim, mut router, _) = booted(Split::Seeded(3));
    run(&mut sim, &mut router, b"ATE0", 1000);
    sim.set_rssi(11);
    sim.delay_next_reply(3000);
    let r = run(&mut sim, &mut router, b"AT+CSQ", 1000);
    assert!(router.is_pending() && r.fin.is_none(), "timed out with no reply");
    router.cancel();
    let mut drain = Reply::default();
    sim.clock().advance(3000);
    pump(&mut sim, &mut router, &mut drain);
    assert_eq!(drain.discarded, vec![b"+CSQ: 11,99".to_vec(), b"OK".to_vec()]);
    router.drained();
    let r = run(&mut sim, &mut router, b"AT+CPIN?", 1000);
    assert_eq!(r.info, vec![b"+CPIN: READY".to_vec()]);
}

#[test]
fn lost_reply_never_arrives() {
    let (mut sim, mut router, _) = booted(Split::Whole);
    sim.lose_next_reply();
    let r = run(&mut sim, &mut router, b"AT", 500);
    assert!(r.echo && r.fin.is_none());
    assert_eq!(sim.pending_output(), 0);
}

#[test]
fn read_advances_virtual_time_to_the_next_output_and_fails_when_idle() {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    let mut buf = [0u8; 64];
    let n = sim.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\r\nRDY\r\n");
    assert_eq!(clock.now_ms(), 100);
    while sim.next_event_ms().is_some() {
        sim.read(&mut buf).unwrap();
    }
    assert_eq!(sim.read(&mut buf), Err(modem::sim::SimError::Idle));
}

#[test]
fn seeded_split_is_deterministic_and_every_byte_is_one_byte() {
    let capture = |split: Split| {
        let mut sim = Sim::new(SimClock::new());
        sim.set_split(split);
        let mut sizes = Vec::new();
        let mut bytes = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(n) = sim.read(&mut buf) {
            sizes.push(n);
            bytes.extend_from_slice(&buf[..n]);
        }
        (sizes, bytes)
    };
    let (a, bytes_a) = capture(Split::Seeded(9));
    let (b, bytes_b) = capture(Split::Seeded(9));
    let (c, _) = capture(Split::Seeded(10));
    let (e, bytes_e) = capture(Split::EveryByte);
    assert_eq!((a.clone(), bytes_a.clone()), (b, bytes_b));
    assert_ne!(a, c);
    assert!(a.iter().all(|n| (1..=8).contains(n)) && a.iter().any(|n| *n > 1));
    assert!(e.iter().all(|n| *n == 1));
    assert_eq!(bytes_a, bytes_e);
}
