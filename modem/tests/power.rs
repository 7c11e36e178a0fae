//! Power control, reboot detection and the recovery ladder through the blocking driver against
//! the simulator's power model (reference §2.1, §2.2, §4.6).
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use modem::blocking::{Error, Modem, PowerOn, Recovered};
use modem::power::{Model, NoPin, Polarity, PowerPins, Rung, RungCounters};
use modem::sim::{Sim, SimClock, SimPin, SimStatus};

type Driver = Modem<Sim, SimClock, SimClock>;

fn driver(sim: Sim, clock: &SimClock) -> Driver {
    Modem::new(sim, clock.clone(), clock.clone())
}

fn pins_with_status(sim: &Sim) -> PowerPins<SimPin, SimStatus, NoPin> {
    PowerPins::new(sim.pwrkey(), Polarity::ActiveLow, Model::Bg9x).unwrap().with_status(sim.status_pin())
}

fn pins_key_only(sim: &Sim) -> PowerPins<SimPin> {
    PowerPins::new(sim.pwrkey(), Polarity::ActiveLow, Model::Bg9x).unwrap()
}

#[test]
fn power_on_pulses_a_module_that_is_off() {
    for with_status in [true, false] {
        let clock = SimClock::new();
        let sim = Sim::powered_off(clock.clone());
        assert!(!sim.is_on());
        let mut m = driver(sim, &clock);
        let got = if with_status {
            let mut pins = pins_with_status(m.uart_mut());
            m.power_on(&mut pins).unwrap()
        } else {
            let mut pins = pins_key_only(m.uart_mut());
            m.power_on(&mut pins).unwrap()
        };
        assert_eq!(got, PowerOn::Pulsed);
        // The banner comes after the BG9x startup time (§2.1: 5000 ms) after the 500 ms pulse.
        assert!(clock.now_ms() >= 5_500, "{}", clock.now_ms());
        assert_eq!(m.imei().unwrap().as_str(), "867698041234567");
        let (sim, _, _) = m.release();
        assert_eq!((sim.key_pulses(), sim.boots()), (1, 1));
        assert!(sim.is_on());
        assert!(!sim.echo() && sim.cmee() == 1, "bring-up ran after the boot");
    }
}

#[test]
fn power_on_never_pulses_a_module_that_is_on() {
    for with_status in [true, false] {
        let clock = SimClock::new();
        let sim = Sim::new(clock.clone());
        clock.advance(1_000);
        let mut m = driver(sim, &clock);
        let got = if with_status {
            let mut pins = pins_with_status(m.uart_mut());
            m.power_on(&mut pins).unwrap()
        } else {
            let mut pins = pins_key_only(m.uart_mut());
            m.power_on(&mut pins).unwrap()
        };
        assert_eq!(got, PowerOn::AlreadyOn);
        let (sim, _, _) = m.release();
        assert_eq!(sim.key_pulses(), 0, "a pulse would have turned it off (§2.1)");
        assert!(sim.is_on());
    }
}

#[test]
fn a_pulse_toggles_and_a_short_pulse_does_nothing() {
    let clock = SimClock::new();
    let sim = Sim::powered_off(clock.clone());
    let mut pins = pins_with_status(&sim);
    let mut m = driver(sim, &clock);
    m.pulse_key(&mut pins, 100).unwrap();
    assert_eq!(pins.status().unwrap(), Some(false), "100 ms is below the BG9x 500 ms pulse");
    m.pulse_key(&mut pins, 500).unwrap();
    assert_eq!(pins.status().unwrap(), Some(true));
    m.pulse_key(&mut pins, 500).unwrap();
    assert_eq!(pins.status().unwrap(), Some(false), "the same pulse turns an on module off");
    // Active-high boards: the simulated board and the pins agree on the other polarity.
    let clock = SimClock::new();
    let mut sim = Sim::powered_off(clock.clone());
    sim.set_power(Model::Eg25g.timing(), Polarity::ActiveHigh);
    let mut pins =
        PowerPins::new(sim.pwrkey(), Polarity::ActiveHigh, Model::Eg25g).unwrap().with_status(sim.status_pin());
    let mut m = driver(sim, &clock);
    m.pulse_key(&mut pins, 1_000).unwrap();
    assert_eq!(pins.status().unwrap(), Some(false), "EG25-G needs 1500 ms");
    assert_eq!(m.power_on(&mut pins).unwrap(), PowerOn::Pulsed);
}

#[test]
fn soft_power_down_waits_for_powered_down() {
    let clock = SimClock::new();
    let sim = Sim::new(clock.clone());
    let mut pins = pins_with_status(&sim);
    let mut m = driver(sim, &clock);
    m.bring_up(10_000).unwrap();
    m.power_off(&mut pins).unwrap();
    assert!(m.session_lost().unwrap());
    let (sim, _, _) = m.release();
    assert!(!sim.is_on());
    assert_eq!(sim.key_pulses(), 0, "AT+QPOWD=1 sufficed");
    assert_eq!(sim.commands().last().map(Vec::as_slice), Some(&b"AT+QPOWD=1"[..]));

    // SIMCom A76xx: AT+CPOF.
    let clock = SimClock::new();
    let sim = Sim::new(clock.clone());
    let mut pins = PowerPins::new(sim.pwrkey(), Polarity::ActiveLow, Model::A76xx).unwrap();
    let mut m = driver(sim, &clock);
    m.bring_up(10_000).unwrap();
    m.power_off(&mut pins).unwrap();
    let (sim, _, _) = m.release();
    assert!(!sim.is_on());
    assert_eq!(sim.key_pulses(), 0);
    assert_eq!(sim.commands().last().map(Vec::as_slice), Some(&b"AT+CPOF"[..]));
}

#[test]
fn power_off_pulses_when_the_module_ignores_the_soft_power_down() {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    let mut pins = pins_with_status(&sim);
    clock.advance(1_000);
    sim.hang();
    let mut m = driver(sim, &clock);
    m.power_off(&mut pins).unwrap();
    let (sim, _, _) = m.release();
    assert!(!sim.is_on());
    assert_eq!(sim.key_pulses(), 1);
}

#[test]
fn a_banner_mid_session_is_a_reboot() {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.reboot_at(60_000);
    let mut m = driver(sim, &clock);
    m.bring_up(10_000).unwrap();
    // APP RDY of the same boot arrives after bring-up: not a reboot.
    clock.advance(1_000);
    assert!(!m.session_lost().unwrap());
    m.signal().unwrap();
    clock.advance_to(70_000);
    assert!(m.session_lost().unwrap(), "RDY at 65 s");
    assert!(m.session_lost().unwrap(), "stays lost until the next bring-up");
    assert_eq!(m.reboots(), 1, "RDY and APP RDY of one boot count once");
    assert_eq!(m.recovery_counters().reboots, 1);
    m.bring_up(10_000).unwrap();
    assert!(!m.session_lost().unwrap());
    let (sim, _, _) = m.release();
    assert_eq!(sim.boots(), 2);
    assert!(!sim.echo(), "bring-up redid ATE0 after the reboot turned echo back on");
}

#[test]
fn recover_on_a_healthy_module_is_one_retry() {
    let clock = SimClock::new();
    let sim = Sim::new(clock.clone());
    let mut pins = pins_with_status(&sim);
    let mut m = driver(sim, &clock);
    m.bring_up(10_000).unwrap();
    assert_eq!(m.recover(&mut pins).unwrap(), Recovered { rung: Rung::Retry, attempts: 1 });
    assert!(!m.session_lost().unwrap(), "a retry keeps the session");
    assert_eq!(m.recovery_counters().rung(Rung::Retry), RungCounters { attempts: 1, successes: 1 });
}

fn recover_hung(reset_pin: bool, status_pin: bool) -> (Recovered, modem::power::LadderCounters, Sim) {
    let clock = SimClock::new();
    let sim = Sim::new(clock.clone());
    let key = sim.pwrkey();
    let (status, reset) = (sim.status_pin(), sim.reset_pin());
    let mut m = driver(sim, &clock);
    m.bring_up(10_000).unwrap();
    m.uart_mut().hang();
    assert!(m.at().is_err());
    let base = PowerPins::new(key, Polarity::ActiveLow, Model::Bg9x).unwrap();
    let got = match (reset_pin, status_pin) {
        (true, true) => m.recover(&mut base.with_status(status).with_reset(reset).unwrap()),
        (true, false) => m.recover(&mut base.with_reset(reset).unwrap()),
        (false, true) => m.recover(&mut base.with_status(status)),
        (false, false) => m.recover(&mut { base }),
    }
    .unwrap();
    assert!(m.session_lost().is_ok_and(|lost| !lost), "bring-up started a new session");
    assert_eq!(m.imei().unwrap().as_str(), "867698041234567", "the module answers again");
    let counters = m.recovery_counters();
    assert_eq!(m.recovery_rung(), Rung::Retry, "success de-escalates");
    (got, counters, m.release().0)
}

#[test]
fn a_hung_module_escalates_to_a_power_cycle() {
    let (got, c, sim) = recover_hung(false, true);
    // Two tries per rung: retry, CFUN, CFUN=1,1 all go unanswered; the power cycle works.
    assert_eq!(got, Recovered { rung: Rung::PowerCycle, attempts: 7 });
    assert_eq!(c.rung(Rung::Retry), RungCounters { attempts: 2, successes: 0 });
    assert_eq!(c.rung(Rung::RadioCycle), RungCounters { attempts: 2, successes: 0 });
    assert_eq!(c.rung(Rung::Reset), RungCounters { attempts: 2, successes: 0 });
    assert_eq!(c.rung(Rung::PowerCycle), RungCounters { attempts: 1, successes: 1 });
    assert_eq!(sim.key_pulses(), 2, "off, then on");
    assert_eq!(sim.boots(), 2);
}

#[test]
fn a_reset_pin_recovers_a_hung_module_on_the_reset_rung() {
    let (got, c, sim) = recover_hung(true, true);
    assert_eq!(got, Recovered { rung: Rung::Reset, attempts: 5 });
    assert_eq!(c.rung(Rung::Reset), RungCounters { attempts: 1, successes: 1 });
    assert_eq!(sim.key_pulses(), 0);
}

#[test]
fn without_status_a_hung_module_needs_a_second_power_cycle() {
    // The hung module looks off, so the first "power on" pulse turns it off (§2.1).
    let (got, c, sim) = recover_hung(false, false);
    assert_eq!(got, Recovered { rung: Rung::PowerCycle, attempts: 8 });
    assert_eq!(c.rung(Rung::PowerCycle), RungCounters { attempts: 2, successes: 1 });
    assert_eq!(sim.key_pulses(), 2);
}

#[test]
fn the_ladder_gives_up_when_nothing_helps() {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    // The board needs 5 s pulses but the pins use the BG9x 500 ms: no pulse does anything.
    sim.set_power(modem::power::Timing { power_pulse_ms: 5_000, ..Model::Bg9x.timing() }, Polarity::ActiveLow);
    let mut pins = pins_with_status(&sim);
    let mut m = driver(sim, &clock);
    m.bring_up(10_000).unwrap();
    m.uart_mut().hang();
    assert_eq!(m.recover(&mut pins), Err(Error::Unrecoverable));
    let c = m.recovery_counters();
    assert_eq!((c.exhausted, c.rung(Rung::PowerCycle).attempts), (1, 2));
    assert_eq!(m.recovery_rung(), Rung::PowerCycle, "the next recovery starts at the top");
}

#[test]
fn a_blocking_read_waits_through_a_scripted_reboot() {
    use embedded_io::Read;
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    clock.advance(1_000);
    let mut buf = [0u8; 512];
    while embedded_io::ReadReady::read_ready(&mut sim).unwrap() {
        sim.read(&mut buf).unwrap();
    }
    sim.reboot_at(10_000);
    // Nothing is due: `read` jumps to the reboot, then to the banner after the startup time.
    let n = sim.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"\r\nRDY\r\n");
    assert_eq!(clock.now_ms(), 15_000, "BG9x startup 5000 ms after the reboot (§2.1)");
    assert_eq!(sim.boots(), 2);
}
