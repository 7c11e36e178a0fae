//! The simulator's power model (reference §2.1-§2.2).
//!
//! Off, the module ignores every byte and sends nothing. A PWRKEY pulse at least as long as the
//! timing's `power_pulse_ms` boots a module that is off (banner `RDY`, `+CFUN: 1`,
//! `+CPIN: READY`, `APP RDY` from `startup_ms` after the pulse) and turns off one that is on
//! (§2.1: the same pulse toggles). A RESET pulse of `reset_pulse_ms` reboots it. `AT+QPOWD=1`
//! answers `OK`, then `POWERED DOWN` a second later and is off; `AT+CPOF` answers `OK` and is off;
//! `AT+CFUN=1,1` answers `OK` and reboots; `AT+CFUN=0`/`1` answer `OK` and drop or restore the
//! registration. [`Sim::reboot_at`] scripts a spontaneous reboot (brown-out, watchdog) and
//! [`Sim::hang`] a module that answers nothing until it is reset or power-cycled.
//!
//! The banner after a boot is the dialect's (Quectel `RDY` ... `APP RDY`, SIMCom `*ATREADY: 1`
//! ... `PB DONE`). The pins ([`SimPin`], [`SimStatus`]) share the model with the [`Sim`] and time their pulses on
//! its [`SimClock`].

use super::{Dialect, Input, Sim, SimClock};
use crate::power::{Model, Polarity, Timing};
use std::cell::RefCell;
use std::rc::Rc;
use std::vec::Vec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transition {
    Off,
    Boot,
}

/// The state the pins and the simulator share.
#[derive(Debug)]
pub(super) struct PowerModel {
    on: bool,
    hung: bool,
    timing: Timing,
    polarity: Polarity,
    key_pressed_at: Option<u64>,
    reset_pressed_at: Option<u64>,
    /// Transitions by time, applied when the time has come.
    pending: Vec<(u64, Transition)>,
    /// Transitions applied to the power state, not yet to the simulator's output.
    applied: Vec<(u64, Transition)>,
    pulses: u32,
}

impl PowerModel {
    pub(super) fn new() -> Self {
        Self {
            on: true,
            hung: false,
            timing: Model::Bg9x.timing(),
            polarity: Polarity::ActiveLow,
            key_pressed_at: None,
            reset_pressed_at: None,
            pending: Vec::new(),
            applied: Vec::new(),
            pulses: 0,
        }
    }

    /// Applies the transitions due at `now`.
    fn settle(&mut self, now: u64) {
        self.pending.sort_by_key(|p| p.0);
        while let Some(&(at, t)) = self.pending.first() {
            if at > now {
                break;
            }
            self.pending.remove(0);
            self.apply(at, t);
        }
    }

    fn apply(&mut self, at: u64, t: Transition) {
        match t {
            Transition::Off => self.on = false,
            Transition::Boot => {
                self.on = true;
                self.hung = false;
            }
        }
        self.applied.push((at, t));
    }

    fn level(&self, high: bool) -> bool {
        // true = pressed
        high == (self.polarity == Polarity::ActiveHigh)
    }
}

pub(super) type Shared = Rc<RefCell<PowerModel>>;

/// Which output pin a [`SimPin`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinRole {
    /// PWRKEY.
    PwrKey,
    /// RESET.
    Reset,
}

/// A simulated PWRKEY or RESET output pin (`embedded_hal::digital::OutputPin`).
#[derive(Debug, Clone)]
pub struct SimPin {
    model: Shared,
    clock: SimClock,
    role: PinRole,
}

/// The simulated STATUS pin (`embedded_hal::digital::InputPin`): high while the module is on.
#[derive(Debug, Clone)]
pub struct SimStatus {
    model: Shared,
    clock: SimClock,
}

impl embedded_hal::digital::ErrorType for SimPin {
    type Error = core::convert::Infallible;
}

impl embedded_hal::digital::ErrorType for SimStatus {
    type Error = core::convert::Infallible;
}

impl SimPin {
    fn set(&mut self, high: bool) {
        let now = self.clock.now_ms();
        let mut m = self.model.borrow_mut();
        m.settle(now);
        let pressed = m.level(high);
        let slot = match self.role {
            PinRole::PwrKey => &mut m.key_pressed_at,
            PinRole::Reset => &mut m.reset_pressed_at,
        };
        match (pressed, *slot) {
            (true, None) => *slot = Some(now),
            (false, Some(since)) => {
                *slot = None;
                let held = now.saturating_sub(since);
                match self.role {
                    PinRole::PwrKey if held >= u64::from(m.timing.power_pulse_ms) => {
                        m.pulses = m.pulses.saturating_add(1);
                        let t = if m.on { Transition::Off } else { Transition::Boot };
                        m.apply(now, t);
                    }
                    PinRole::Reset if held >= u64::from(m.timing.reset_pulse_ms) && m.on => {
                        m.apply(now, Transition::Off);
                        m.apply(now, Transition::Boot);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

impl embedded_hal::digital::OutputPin for SimPin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.set(true);
        Ok(())
    }
}

impl embedded_hal::digital::InputPin for SimStatus {
    fn is_high(&mut self) -> Result<bool, Self::Error> {
        let mut m = self.model.borrow_mut();
        m.settle(self.clock.now_ms());
        Ok(m.on)
    }

    fn is_low(&mut self) -> Result<bool, Self::Error> {
        self.is_high().map(|h| !h)
    }
}

/// How long after `AT+QPOWD=1`'s `OK` the simulator sends `POWERED DOWN` and turns off.
pub const QPOWD_MS: u64 = 1_000;

impl Sim {
    /// A module that is off (no banner until PWRKEY is pulsed).
    pub fn powered_off(clock: SimClock) -> Self {
        let mut sim = Self::new(clock);
        sim.out.clear();
        sim.power.borrow_mut().on = false;
        sim.boots = 0;
        sim.booted_at = u64::MAX;
        sim
    }

    /// Sets the power timing (default: Quectel BG9x, reference §2.1) and the board's pin
    /// polarity (default active-low).
    pub fn set_power(&mut self, timing: Timing, polarity: Polarity) {
        let mut m = self.power.borrow_mut();
        m.timing = timing;
        m.polarity = polarity;
    }

    /// The PWRKEY pin.
    pub fn pwrkey(&self) -> SimPin {
        SimPin { model: self.power.clone(), clock: self.clock.clone(), role: PinRole::PwrKey }
    }

    /// The RESET pin.
    pub fn reset_pin(&self) -> SimPin {
        SimPin { model: self.power.clone(), clock: self.clock.clone(), role: PinRole::Reset }
    }

    /// The STATUS pin.
    pub fn status_pin(&self) -> SimStatus {
        SimStatus { model: self.power.clone(), clock: self.clock.clone() }
    }

    /// Whether the module is on now.
    pub fn is_on(&self) -> bool {
        let mut m = self.power.borrow_mut();
        m.settle(self.clock.now_ms());
        m.on
    }

    /// PWRKEY pulses long enough to toggle the module so far.
    pub fn key_pulses(&self) -> u32 {
        self.power.borrow().pulses
    }

    /// Boots seen so far (power-on, resets, reboots), counting the one at construction when on.
    pub fn boots(&self) -> u32 {
        self.boots
    }

    /// At `at_ms` the module reboots by itself: pending output is dropped and the boot banner
    /// follows after the startup time (reference §2.2: `RDY` mid-session).
    pub fn reboot_at(&mut self, at_ms: u64) {
        let mut m = self.power.borrow_mut();
        m.pending.push((at_ms, Transition::Off));
        m.pending.push((at_ms, Transition::Boot));
    }

    /// From now on the module answers nothing (not even `AT`) until a reset or power cycle.
    pub fn hang(&mut self) {
        self.power.borrow_mut().hung = true;
    }

    /// The time of the next scheduled power transition (a reboot, the end of a power-down).
    pub(super) fn next_power_ms(&self) -> Option<u64> {
        self.power.borrow().pending.iter().map(|p| p.0).min()
    }

    /// Whether the module takes commands now: on, booted and not hung.
    pub(super) fn accepts_commands(&self, now: u64) -> bool {
        let m = self.power.borrow();
        m.on && !m.hung && now >= self.booted_at
    }

    /// Applies power transitions to the output: off drops what was scheduled after it, a boot
    /// resets the module's settings and schedules the banner.
    pub(super) fn pump_power(&mut self) {
        let now = self.clock.now_ms();
        let applied = {
            let mut m = self.power.borrow_mut();
            m.settle(now);
            core::mem::take(&mut m.applied)
        };
        let startup = u64::from(self.power.borrow().timing.startup_ms);
        for (at, t) in applied {
            match t {
                Transition::Off => {
                    self.out.retain(|k, _| k.0 <= at);
                    self.input.clear();
                    self.mode = Input::Line;
                    self.deferred.clear();
                    self.booted_at = u64::MAX;
                }
                Transition::Boot => {
                    self.boots = self.boots.saturating_add(1);
                    self.echo = true;
                    self.cmee = 0;
                    self.creg_n = 0;
                    self.cereg_n = 0;
                    let ready = at.saturating_add(startup);
                    self.booted_at = ready;
                    if self.dialect == Dialect::Simcom {
                        self.emit(ready, b"\r\n*ATREADY: 1\r\n");
                        self.emit(ready.saturating_add(100), b"\r\n+CPIN: READY\r\n");
                        self.emit(ready.saturating_add(200), b"\r\nSMS DONE\r\n\r\nPB DONE\r\n");
                    } else {
                        self.emit(ready, b"\r\nRDY\r\n");
                        self.emit(ready.saturating_add(100), b"\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n");
                        self.emit(ready.saturating_add(200), b"\r\nAPP RDY\r\n");
                    }
                }
            }
        }
    }

    /// Answers the power commands, scheduling their effect; `None` for other commands.
    pub(super) fn power_answer(&mut self, upper: &[u8]) -> Option<Vec<Vec<u8>>> {
        let now = self.clock.now_ms();
        let done = now.saturating_add(self.latency_ms);
        let mut m = self.power.borrow_mut();
        match upper {
            b"AT+QPOWD=1" | b"AT+QPOWD" => {
                m.pending.push((done.saturating_add(QPOWD_MS).saturating_add(1), Transition::Off));
                drop(m);
                self.emit_line(done.saturating_add(QPOWD_MS), b"POWERED DOWN");
            }
            b"AT+CPOF" => m.pending.push((done.saturating_add(1), Transition::Off)),
            b"AT+CFUN=1,1" => {
                m.pending.push((done.saturating_add(1), Transition::Off));
                m.pending.push((done.saturating_add(1), Transition::Boot));
            }
            b"AT+CFUN=0" => {
                drop(m);
                self.stat = 0;
            }
            b"AT+CFUN=1" => {
                drop(m);
                self.stat = 1;
            }
            _ => return None,
        }
        Some(vec![b"OK".to_vec()])
    }
}
