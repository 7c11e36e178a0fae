//! The blocking driver on the simulator: bring-up (reference §2.2), identity and registration
//! (§2.3-§2.5), URCs at awkward moments (§1.6) and late replies drained (§6.2).
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use modem::blocking::{Error, Modem};
use modem::engine::CommandError;
use modem::sim::{Moment, Sim, SimCard, SimClock, Split};

type Driver = Modem<Sim, SimClock, SimClock>;

fn driver(split: Split, card: SimCard) -> (Driver, SimClock) {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.set_split(split);
    sim.set_sim(card);
    (Modem::new(sim, clock.clone(), clock.clone()), clock)
}

/// After bring-up: lets the rest of the boot banner arrive and checks it went to the URC queue.
fn settle(m: &mut Driver, clock: &SimClock) {
    clock.advance(1_000);
    let boot = urcs(m);
    assert_eq!(boot.last().map(Vec::as_slice), Some(&b"APP RDY"[..]), "{boot:?}");
}

fn urcs(m: &mut Driver) -> Vec<Vec<u8>> {
    m.poll().unwrap();
    std::iter::from_fn(|| m.pop_urc()).map(|u| u.line.to_vec()).collect()
}

#[test]
fn bring_up_waits_for_rdy_and_retries_a_busy_sim() {
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(5)] {
        let (mut m, clock) = driver(split, SimCard::Busy(2));
        m.bring_up(10_000).unwrap();
        assert_eq!(m.boot_urcs(), 1, "RDY is the first boot URC");
        // Two busy answers, each followed by the 2 s pause.
        assert!(clock.now_ms() >= 4_000, "{}", clock.now_ms());
        let (sim, _, _) = m.release();
        let sent: Vec<&[u8]> = sim.commands().iter().map(Vec::as_slice).collect();
        assert_eq!(sent, [&b"AT"[..], b"ATE0", b"AT+CMEE=1", b"AT+CPIN?", b"AT+CPIN?", b"AT+CPIN?"]);
        assert!(!sim.echo() && sim.cmee() == 1);
    }
}

#[test]
fn bring_up_reports_a_missing_sim() {
    let (mut m, _) = driver(Split::Whole, SimCard::Absent);
    assert_eq!(m.bring_up(10_000), Err(Error::SimNotReady));
}

#[test]
fn identity_signal_operator() {
    let (mut m, _) = driver(Split::EveryByte, SimCard::Ready);
    m.bring_up(10_000).unwrap();
    assert_eq!(m.imei().unwrap().as_str(), "867698041234567");
    assert_eq!(m.iccid().unwrap().as_str(), "89860025128306012474");
    assert_eq!(m.signal().unwrap().rssi_dbm(), Some(-73));
    let op = m.operator().unwrap();
    assert_eq!((op.name.as_str(), op.act), ("CHINA MOBILE", Some(7)));
    assert_eq!(m.command(b"AT+NOPE"), Err(Error::Command(CommandError::Cme(Some(4)))));
}

#[test]
fn registration_from_searching_to_registered_via_urc() {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.set_registration(2);
    sim.schedule_registration(20_000, 5);
    let mut m = Modem::new(sim, clock.clone(), clock.clone());
    m.bring_up(10_000).unwrap();
    settle(&mut m, &clock);
    m.command(b"AT+CEREG=2").unwrap();
    assert_eq!(m.registration().unwrap().stat, 2);
    assert_eq!(m.operator().unwrap().name.as_str(), "");
    let mut seen = Vec::new();
    while seen.is_empty() && clock.now_ms() < 30_000 {
        clock.advance(100);
        seen = urcs(&mut m);
    }
    assert_eq!(seen, vec![b"+CEREG: 5,\"1F00\",\"0079D903\",7".to_vec()]);
    let reg = m.registration().unwrap();
    assert!(reg.status().is_registered() && reg.stat == 5);
}

#[test]
fn awkward_urcs_delivered_once_never_the_reply() {
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(11)] {
        let clock = SimClock::new();
        let mut sim = Sim::new(clock.clone());
        sim.set_split(split);
        let mut m = Modem::new(sim, clock.clone(), clock.clone());
        m.bring_up(10_000).unwrap();
        settle(&mut m, &clock);
        let sim = m.uart_mut();
        sim.inject_urc(Moment::BeforeEcho, b"+CEREG: 4");
        sim.inject_urc(Moment::BetweenLines, b"+QIURC: \"closed\",0");
        sim.inject_urc(Moment::AfterFinal, b"+CREG: 1");
        let reg = m.registration().unwrap();
        assert_eq!((reg.n, reg.stat), (Some(0), 1), "{split:?}");
        clock.advance(50);
        let got = urcs(&mut m);
        assert_eq!(
            got,
            vec![b"+CEREG: 4".to_vec(), b"+QIURC: \"closed\",0".to_vec(), b"+CREG: 1".to_vec()],
            "{split:?}"
        );
        assert!(urcs(&mut m).is_empty());
    }
}

#[test]
fn late_reply_is_drained_and_not_given_to_the_next_command() {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.set_rssi(3);
    let mut m = Modem::new(sim, clock.clone(), clock.clone());
    m.bring_up(10_000).unwrap();
    settle(&mut m, &clock);
    // AT+CSQ's deadline is 5 s (§2.13 simple queries); the reply comes 100 ms after it.
    m.uart_mut().delay_next_reply(5_080);
    let start = clock.now_ms();
    assert_eq!(m.signal(), Err(Error::Command(CommandError::Timeout)));
    assert!(clock.now_ms() - start >= 5_000);
    // The next command waits out the late `+CSQ: 3,99` / `OK` and gets its own reply.
    assert_eq!(m.imei().unwrap().as_str(), "867698041234567");
    assert_eq!(m.signal().unwrap().rssi, 3);
    assert!(urcs(&mut m).is_empty(), "the late reply is not a URC either");
}

#[test]
fn bring_up_finds_a_module_that_is_already_on() {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    // The banner was sent long before the driver started and nobody read it.
    clock.advance(60_000);
    let mut buf = [0u8; 256];
    while embedded_io::ReadReady::read_ready(&mut sim).unwrap() {
        embedded_io::Read::read(&mut sim, &mut buf).unwrap();
    }
    let mut m = Modem::new(sim, clock.clone(), clock.clone());
    m.bring_up(1_000).unwrap();
    assert_eq!(m.boot_urcs(), 0);
    assert!(clock.now_ms() >= 61_000, "waited for the banner first");
}

#[test]
fn many_seeds_awkward_urcs_and_replies() {
    // Seeded splits (1..=8-byte reads) with URCs around every reply: replies are always right
    // and every URC is delivered once, in order.
    for seed in 1..=64u64 {
        let (mut m, clock) = driver(Split::Seeded(seed), SimCard::Ready);
        m.bring_up(10_000).unwrap();
        settle(&mut m, &clock);
        let mut want = Vec::new();
        for (i, moment) in [Moment::BeforeEcho, Moment::BetweenLines, Moment::AfterFinal].into_iter().enumerate() {
            let urc = format!("+QIURC: \"closed\",{i}").into_bytes();
            m.uart_mut().inject_urc(moment, &urc);
            want.push(urc);
            assert_eq!(m.imei().unwrap().as_str(), "867698041234567", "seed {seed}");
            assert_eq!(m.signal().unwrap().rssi, 20, "seed {seed}");
        }
        clock.advance(50);
        assert_eq!(urcs(&mut m), want, "seed {seed}");
    }
}
