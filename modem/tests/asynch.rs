//! The async shell on the simulator: the same scenarios as the blocking driver tests (bring-up
//! §2.2, URCs at awkward moments §1.6, late replies drained §6.2, power and recovery §2.1/§4.6),
//! and the same commands on the wire as the blocking shell for the same script.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::executor::block_on;
use modem::asynch::Modem;
use modem::blocking::{self, Error, PowerOn, Recovered};
use modem::engine::CommandError;
use modem::power::{Model, Polarity, PowerPins, Rung};
use modem::sim::{Moment, Sim, SimCard, SimClock, Split};

type Driver = Modem<Sim, SimClock, SimClock>;

fn driver(split: Split, card: SimCard) -> (Driver, SimClock) {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.set_split(split);
    sim.set_sim(card);
    (Modem::new(sim, clock.clone(), clock.clone()), clock)
}

fn urcs(m: &mut Driver) -> Vec<Vec<u8>> {
    block_on(m.poll()).unwrap();
    std::iter::from_fn(|| m.pop_urc()).map(|u| u.line.to_vec()).collect()
}

#[test]
fn bring_up_identity_signal_operator() {
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(5)] {
        let (mut m, clock) = driver(split, SimCard::Busy(2));
        block_on(m.bring_up(10_000)).unwrap();
        assert!(clock.now_ms() >= 4_000, "two SIM busy pauses");
        assert_eq!(block_on(m.imei()).unwrap().as_str(), "867698041234567");
        assert_eq!(block_on(m.iccid()).unwrap().as_str(), "89860025128306012474");
        assert_eq!(block_on(m.signal()).unwrap().rssi_dbm(), Some(-73));
        assert_eq!(block_on(m.registration()).unwrap().stat, 1);
        assert_eq!(block_on(m.operator()).unwrap().name.as_str(), "CHINA MOBILE");
        assert_eq!(block_on(m.command(b"AT+NOPE")), Err(Error::Command(CommandError::Cme(Some(4)))));
        block_on(m.at()).unwrap();
    }
    let (mut m, _) = driver(Split::Whole, SimCard::Absent);
    assert_eq!(block_on(m.bring_up(10_000)), Err(Error::SimNotReady));
}

#[test]
fn same_commands_on_the_wire_as_the_blocking_shell() {
    let script = |split| {
        let clock = SimClock::new();
        let mut sim = Sim::new(clock.clone());
        sim.set_split(split);
        sim.set_sim(SimCard::Busy(1));
        (sim, clock)
    };
    for split in [Split::Whole, Split::Seeded(9)] {
        let (sim, clock) = script(split);
        let mut a = Modem::new(sim, clock.clone(), clock.clone());
        block_on(a.bring_up(10_000)).unwrap();
        let ra = (block_on(a.signal()).unwrap(), block_on(a.registration()).unwrap(), block_on(a.imei()).unwrap());
        let (sim, clock) = script(split);
        let mut b = blocking::Modem::new(sim, clock.clone(), clock.clone());
        b.bring_up(10_000).unwrap();
        let rb = (b.signal().unwrap(), b.registration().unwrap(), b.imei().unwrap());
        assert_eq!(ra, rb);
        assert_eq!(a.release().0.commands(), b.release().0.commands());
    }
}

#[test]
fn awkward_urcs_and_a_late_reply() {
    let (mut m, clock) = driver(Split::EveryByte, SimCard::Ready);
    block_on(m.bring_up(10_000)).unwrap();
    clock.advance(1_000);
    assert_eq!(urcs(&mut m).last().map(Vec::as_slice), Some(&b"APP RDY"[..]));
    let sim = m.uart_mut();
    sim.inject_urc(Moment::BeforeEcho, b"+CEREG: 4");
    sim.inject_urc(Moment::BetweenLines, b"+QIURC: \"closed\",0");
    sim.inject_urc(Moment::AfterFinal, b"+CREG: 1");
    assert_eq!(block_on(m.registration()).unwrap().stat, 1);
    clock.advance(50);
    assert_eq!(urcs(&mut m), vec![b"+CEREG: 4".to_vec(), b"+QIURC: \"closed\",0".to_vec(), b"+CREG: 1".to_vec()]);
    m.uart_mut().set_rssi(3);
    m.uart_mut().delay_next_reply(5_080);
    assert_eq!(block_on(m.signal()), Err(Error::Command(CommandError::Timeout)));
    assert_eq!(block_on(m.imei()).unwrap().as_str(), "867698041234567");
    assert_eq!(block_on(m.signal()).unwrap().rssi, 3);
    assert!(urcs(&mut m).is_empty());
}

#[test]
fn power_on_reboot_detection_and_recovery() {
    let clock = SimClock::new();
    let sim = Sim::powered_off(clock.clone());
    let mut pins =
        PowerPins::new(sim.pwrkey(), Polarity::ActiveLow, Model::Bg9x).unwrap().with_status(sim.status_pin());
    let mut m = Modem::new(sim, clock.clone(), clock.clone());
    assert_eq!(block_on(m.power_on(&mut pins)).unwrap(), PowerOn::Pulsed);
    assert_eq!(block_on(m.power_on(&mut pins)).unwrap(), PowerOn::AlreadyOn, "no second pulse");
    assert_eq!(m.uart_mut().key_pulses(), 1);
    // A reboot mid-session.
    let t = clock.now_ms() + 40_000;
    m.uart_mut().reboot_at(t);
    assert!(!block_on(m.session_lost()).unwrap());
    clock.advance_to(t + 6_000);
    assert!(block_on(m.session_lost()).unwrap());
    assert_eq!(m.reboots(), 1);
    block_on(m.bring_up(10_000)).unwrap();
    // A hang: the ladder climbs to the power cycle.
    m.uart_mut().hang();
    assert_eq!(block_on(m.recover(&mut pins)).unwrap(), Recovered { rung: Rung::PowerCycle, attempts: 7 });
    assert_eq!(m.recovery_counters().rung(Rung::PowerCycle).successes, 1);
    assert_eq!(m.recovery_rung(), Rung::Retry);
    assert_eq!(block_on(m.imei()).unwrap().as_str(), "867698041234567");
    block_on(m.power_off(&mut pins)).unwrap();
    assert!(!m.uart_mut().is_on());
}

#[test]
fn command_with_data_sends_an_sms_at_the_prompt() {
    let (mut m, _) = driver(Split::EveryByte, SimCard::Ready);
    block_on(m.bring_up(10_000)).unwrap();
    block_on(m.command(b"AT+CMGF=1")).unwrap();
    let reply = block_on(m.command_with_data(b"AT+CMGS=\"+4915112345678\"", b"code 4711", Some(0x1a))).unwrap();
    assert!(reply.line.starts_with(b"+CMGS: "), "{:?}", reply.line);
    let (sim, _, _) = m.release();
    assert_eq!(sim.sms_sent(), [("+4915112345678".to_string(), b"code 4711".to_vec())]);
}

/// The async `send_sms` and `network_time` share the blocking shell's checks and parsers
/// (reference §2.11, §2.12): same refusals before sending, same `+CMS ERROR`, same times.
#[test]
fn async_sms_and_network_time() {
    let (mut m, _) = driver(Split::EveryByte, SimCard::Ready);
    block_on(m.bring_up(10_000)).unwrap();
    assert_eq!(block_on(m.send_sms("+49 151", "x")), Err(Error::Invalid { field: "number" }));
    assert_eq!(block_on(m.send_sms("+4915112345678", "{}")), Err(Error::Invalid { field: "text" }));
    block_on(m.send_sms("+4915112345678", "Your code: 4711")).unwrap();
    m.uart_mut().fail_next_sms(331);
    assert_eq!(block_on(m.send_sms("+100", "x")), Err(Error::Command(CommandError::Cms(Some(331)))));
    assert_eq!(block_on(m.network_time()).unwrap(), None, "not set from the network yet");
    m.uart_mut().set_network_time("24/05/06,12:30:59-08");
    let t = block_on(m.network_time()).unwrap().unwrap();
    assert_eq!((t.year, t.month, t.day, t.hour, t.minute, t.second), (2024, 5, 6, 12, 30, 59));
    let (sim, _, _) = m.release();
    assert_eq!(sim.sms_sent(), [("+4915112345678".to_string(), b"Your code: 4711".to_vec())]);
}
