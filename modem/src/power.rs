//! Power control and recovery, sans-io: the per-module timing table (reference §2.1), the
//! PWRKEY/STATUS/RESET pins, reboot detection from the boot banner (§2.2) and the recovery ladder
//! of §4.6 item 3 (retry → `AT+CFUN=0`/`1` → reset → power cycle) with counters.
//!
//! Nothing here sleeps or talks to the UART; [`crate::blocking::Modem`] (and the async shell)
//! run the steps. A PWRKEY pulse toggles the module: the same pulse that starts a module that is
//! off turns off one that is on (§2.1, *Quectel BG95&BG96 Compatible Design*), so the shells pulse
//! only after checking that the module is off (STATUS pin low, or `AT` unanswered).

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};

/// Hardware timing of one module family, in milliseconds (reference §2.1, from Zephyr's
/// `modem_cellular.c` device instances).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How long PWRKEY is held to power the module on.
    pub power_pulse_ms: u32,
    /// How long RESET is held.
    pub reset_pulse_ms: u32,
    /// How long the module needs after the pulse before it answers `AT`.
    pub startup_ms: u32,
    /// How long it needs to shut down after a power-off pulse.
    pub shutdown_ms: u32,
}

/// Module families with a known timing and soft power-down command (reference §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Model {
    /// Quectel BG95/BG96.
    Bg9x,
    /// Quectel EG25-G / EG800Q (also used for EC2x/EG91x).
    Eg25g,
    /// SIMCom SIM7080 (and SIM7000).
    Sim7080,
    /// SIMCom A76xx (A7670, A7600; also SIM7600).
    A76xx,
    /// u-blox SARA-R4.
    SaraR4,
    /// u-blox SARA-R5.
    SaraR5,
    /// u-blox LARA-R6.
    LaraR6,
}

/// How to power a module down with an AT command and what confirms it (reference §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftPowerDown {
    /// The command.
    pub command: &'static [u8],
    /// The line that confirms the shutdown after `OK` (`None`: `OK` alone).
    pub confirms: Option<&'static [u8]>,
}

impl Model {
    /// Every model, in table order.
    pub const ALL: [Model; 7] =
        [Model::Bg9x, Model::Eg25g, Model::Sim7080, Model::A76xx, Model::SaraR4, Model::SaraR5, Model::LaraR6];

    /// The timing row of reference §2.1.
    pub const fn timing(self) -> Timing {
        let (power_pulse_ms, reset_pulse_ms, startup_ms, shutdown_ms) = match self {
            Model::Bg9x => (500, 1000, 5000, 2000),
            Model::Eg25g => (1500, 500, 15000, 5000),
            Model::Sim7080 => (1500, 100, 10000, 5000),
            Model::A76xx => (500, 100, 20000, 5000),
            Model::SaraR4 => (1500, 100, 10000, 5000),
            Model::SaraR5 => (1500, 100, 1500, 13000),
            Model::LaraR6 => (1500, 100, 9000, 5000),
        };
        Timing { power_pulse_ms, reset_pulse_ms, startup_ms, shutdown_ms }
    }

    /// The soft power-down of reference §2.1: Quectel `AT+QPOWD=1` → `OK`, then `POWERED DOWN`
    /// within 65 s; SIMCom A76xx/SIM7600 `AT+CPOF` → `OK`; SIM7000/SIM7080 `AT+CPOWD=1` →
    /// `NORMAL POWER DOWN`. `None` for the u-blox parts (the reference gives no command).
    pub const fn soft_power_down(self) -> Option<SoftPowerDown> {
        match self {
            Model::Bg9x | Model::Eg25g => {
                Some(SoftPowerDown { command: b"AT+QPOWD=1", confirms: Some(b"POWERED DOWN") })
            }
            Model::A76xx => Some(SoftPowerDown { command: b"AT+CPOF", confirms: None }),
            Model::Sim7080 => Some(SoftPowerDown { command: b"AT+CPOWD=1", confirms: Some(b"NORMAL POWER DOWN") }),
            Model::SaraR4 | Model::SaraR5 | Model::LaraR6 => None,
        }
    }
}

/// The electrical level that means "pressed" on PWRKEY or RESET. Reference §2.1: PWRKEY is
/// active-low through an open-collector transistor on most boards, but the polarity is a board
/// parameter (with the transistor, the MCU drives the pin high to press).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// Low = pressed.
    ActiveLow,
    /// High = pressed.
    ActiveHigh,
}

/// Placeholder for an absent STATUS or RESET pin. It is never read or driven.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoPin;

impl ErrorType for NoPin {
    type Error = core::convert::Infallible;
}

impl InputPin for NoPin {
    fn is_high(&mut self) -> Result<bool, Self::Error> {
        Ok(false)
    }

    fn is_low(&mut self) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

impl OutputPin for NoPin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A pin failed (the pin's own error is reduced to this; GPIO errors are rare and opaque).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinError;

impl core::fmt::Display for PinError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("GPIO pin error")
    }
}

impl core::error::Error for PinError {}

/// The power pins of a module: PWRKEY (`K`), an optional STATUS (or VINT) input (`S`, high when
/// the module is on) and an optional RESET output (`R`), with the module's [`Timing`].
#[derive(Debug)]
pub struct PowerPins<K, S = NoPin, R = NoPin> {
    pwrkey: K,
    polarity: Polarity,
    status: Option<S>,
    reset: Option<R>,
    /// The timing used by the shells.
    pub timing: Timing,
    /// The soft power-down the shells try before pulsing PWRKEY.
    pub soft_power_down: Option<SoftPowerDown>,
}

impl<K: OutputPin> PowerPins<K, NoPin, NoPin> {
    /// PWRKEY only, with `model`'s timing. Releases the key.
    ///
    /// # Errors
    ///
    /// [`PinError`] when the pin cannot be driven.
    pub fn new(pwrkey: K, polarity: Polarity, model: Model) -> Result<Self, PinError> {
        let mut pins = Self {
            pwrkey,
            polarity,
            status: None,
            reset: None,
            timing: model.timing(),
            soft_power_down: model.soft_power_down(),
        };
        pins.release_key()?;
        Ok(pins)
    }
}

impl<K: OutputPin, S: InputPin, R: OutputPin> PowerPins<K, S, R> {
    /// Adds a STATUS input (high = on).
    pub fn with_status<S2: InputPin>(self, status: S2) -> PowerPins<K, S2, R> {
        PowerPins {
            pwrkey: self.pwrkey,
            polarity: self.polarity,
            status: Some(status),
            reset: self.reset,
            timing: self.timing,
            soft_power_down: self.soft_power_down,
        }
    }

    /// Adds a RESET output with the same polarity as PWRKEY. Releases it.
    ///
    /// # Errors
    ///
    /// [`PinError`] when the pin cannot be driven.
    pub fn with_reset<R2: OutputPin>(self, reset: R2) -> Result<PowerPins<K, S, R2>, PinError> {
        let mut pins = PowerPins {
            pwrkey: self.pwrkey,
            polarity: self.polarity,
            status: self.status,
            reset: Some(reset),
            timing: self.timing,
            soft_power_down: self.soft_power_down,
        };
        pins.drive_reset(false)?;
        Ok(pins)
    }

    /// The STATUS pin's reading: `Some(true)` when on, `None` without a STATUS pin.
    ///
    /// # Errors
    ///
    /// [`PinError`] when the pin cannot be read.
    pub fn status(&mut self) -> Result<Option<bool>, PinError> {
        match self.status.as_mut() {
            Some(pin) => pin.is_high().map(Some).map_err(|_| PinError),
            None => Ok(None),
        }
    }

    /// Whether a RESET pin is fitted.
    pub fn has_reset(&self) -> bool {
        self.reset.is_some()
    }

    /// Drives PWRKEY to its pressed level (the shell waits, then calls [`PowerPins::release_key`]).
    ///
    /// # Errors
    ///
    /// [`PinError`] when the pin cannot be driven.
    pub fn press_key(&mut self) -> Result<(), PinError> {
        drive(&mut self.pwrkey, self.polarity, true)
    }

    /// Drives PWRKEY to its released level.
    ///
    /// # Errors
    ///
    /// [`PinError`] when the pin cannot be driven.
    pub fn release_key(&mut self) -> Result<(), PinError> {
        drive(&mut self.pwrkey, self.polarity, false)
    }

    /// Presses (`true`) or releases RESET; does nothing without a RESET pin.
    ///
    /// # Errors
    ///
    /// [`PinError`] when the pin cannot be driven.
    pub fn drive_reset(&mut self, pressed: bool) -> Result<(), PinError> {
        match self.reset.as_mut() {
            Some(pin) => drive(pin, self.polarity, pressed),
            None => Ok(()),
        }
    }

    /// The pins back.
    pub fn release(self) -> (K, Option<S>, Option<R>) {
        (self.pwrkey, self.status, self.reset)
    }
}

fn drive<P: OutputPin>(pin: &mut P, polarity: Polarity, pressed: bool) -> Result<(), PinError> {
    let high = pressed == (polarity == Polarity::ActiveHigh);
    if high { pin.set_high() } else { pin.set_low() }.map_err(|_| PinError)
}

/// How long the `AT` probe of [`crate::blocking::Modem::is_on`] waits without a STATUS pin.
pub const PROBE_MS: u32 = 1_000;
/// PWRKEY pulse to power a module off: Quectel BG96 needs at least 650 ms (reference §2.1,
/// *Quectel BG95&BG96 Compatible Design*); longer table pulses are used as they are.
pub const OFF_PULSE_MIN_MS: u32 = 650;
/// Extra time given to bring-up after a module's startup time.
pub const READY_MARGIN_MS: u64 = 5_000;

/// Whether `line` is a boot banner (reference §2.2): `RDY`, `APP RDY` (Quectel), `*ATREADY: 1`
/// (SIMCom A76xx), `SMS Ready` (SIMCom SIM7080/SIM7000). Seen mid-session it means the module
/// rebooted.
pub fn is_boot_banner(line: &[u8]) -> bool {
    matches!(line, b"RDY" | b"APP RDY" | b"SMS Ready") || line.starts_with(b"*ATREADY:")
}

/// The rungs of the recovery ladder (reference §4.6 item 3), mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rung {
    /// Resynchronise and retry: `AT` until `OK`, `ATE0`, `AT+CMEE=1`.
    Retry = 0,
    /// Radio off and on: `AT+CFUN=0`, `AT+CFUN=1`.
    RadioCycle = 1,
    /// Reboot the module: the RESET pin when fitted, else `AT+CFUN=1,1`.
    Reset = 2,
    /// Power off (soft, then PWRKEY) and on again.
    PowerCycle = 3,
}

impl Rung {
    /// Every rung, mildest first.
    pub const ALL: [Rung; 4] = [Rung::Retry, Rung::RadioCycle, Rung::Reset, Rung::PowerCycle];

    fn index(self) -> usize {
        self as usize
    }

    fn up(self) -> Rung {
        match self {
            Rung::Retry => Rung::RadioCycle,
            Rung::RadioCycle => Rung::Reset,
            Rung::Reset | Rung::PowerCycle => Rung::PowerCycle,
        }
    }

    /// A short name for logs and heartbeats.
    pub const fn name(self) -> &'static str {
        match self {
            Rung::Retry => "retry",
            Rung::RadioCycle => "cfun",
            Rung::Reset => "reset",
            Rung::PowerCycle => "power_cycle",
        }
    }
}

/// Counters of one rung.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RungCounters {
    /// Times the rung was tried.
    pub attempts: u32,
    /// Times it brought the module back.
    pub successes: u32,
}

/// Counters of the ladder, for the cloud heartbeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LadderCounters {
    /// Per rung, indexed like [`Rung::ALL`].
    pub rungs: [RungCounters; 4],
    /// Module reboots seen (boot banner mid-session, reference §2.2).
    pub reboots: u32,
    /// Recoveries that failed on every rung.
    pub exhausted: u32,
}

impl LadderCounters {
    /// The counters of `rung`.
    pub fn rung(&self, rung: Rung) -> RungCounters {
        self.rungs.get(rung.index()).copied().unwrap_or_default()
    }
}

/// The recovery ladder: which rung to try next, escalating after `per_rung` consecutive
/// failures on a rung and falling back to [`Rung::Retry`] after a success (reference §4.6 items
/// 3-4: escalation ladder, consecutive-failure watchdog).
///
/// ```
/// use modem::power::{Ladder, Rung};
/// let mut ladder = Ladder::new(2);
/// assert_eq!(ladder.next(), Rung::Retry);
/// ladder.failed();
/// ladder.failed();
/// assert_eq!(ladder.next(), Rung::RadioCycle);
/// ladder.succeeded();
/// assert_eq!(ladder.next(), Rung::Retry);
/// assert_eq!(ladder.counters().rung(Rung::RadioCycle).successes, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    rung: Rung,
    failures: u8,
    per_rung: u8,
    counters: LadderCounters,
}

impl Default for Ladder {
    fn default() -> Self {
        Self::new(Self::PER_RUNG)
    }
}

impl Ladder {
    /// Default consecutive failures per rung before escalating.
    pub const PER_RUNG: u8 = 2;

    /// A ladder at [`Rung::Retry`] that escalates after `per_rung` consecutive failures (at
    /// least 1).
    pub const fn new(per_rung: u8) -> Self {
        Self {
            rung: Rung::Retry,
            failures: 0,
            per_rung: if per_rung == 0 { 1 } else { per_rung },
            counters: LadderCounters {
                rungs: [RungCounters { attempts: 0, successes: 0 }; 4],
                reboots: 0,
                exhausted: 0,
            },
        }
    }

    /// The rung to try next. Counts an attempt only through [`Ladder::failed`] /
    /// [`Ladder::succeeded`].
    pub fn next(&self) -> Rung {
        self.rung
    }

    /// The rung tried last failed: counts it and escalates after `per_rung` consecutive
    /// failures. Returns true when the failed rung was the last one ([`Rung::PowerCycle`]) and
    /// its failures reached `per_rung`: the ladder is exhausted (and counted so).
    pub fn failed(&mut self) -> bool {
        self.count(|c| c.attempts = c.attempts.saturating_add(1));
        self.failures = self.failures.saturating_add(1);
        if self.failures < self.per_rung {
            return false;
        }
        self.failures = 0;
        if self.rung == Rung::PowerCycle {
            self.counters.exhausted = self.counters.exhausted.saturating_add(1);
            return true;
        }
        self.rung = self.rung.up();
        false
    }

    /// The rung tried last brought the module back: counts it and de-escalates to
    /// [`Rung::Retry`].
    pub fn succeeded(&mut self) {
        self.count(|c| {
            c.attempts = c.attempts.saturating_add(1);
            c.successes = c.successes.saturating_add(1);
        });
        self.rung = Rung::Retry;
        self.failures = 0;
    }

    /// Records a module reboot seen mid-session.
    pub fn rebooted(&mut self) {
        self.counters.reboots = self.counters.reboots.saturating_add(1);
    }

    /// The counters.
    pub fn counters(&self) -> &LadderCounters {
        &self.counters
    }

    fn count(&mut self, f: impl FnOnce(&mut RungCounters)) {
        if let Some(c) = self.counters.rungs.get_mut(self.rung.index()) {
            f(c);
        }
    }
}

/// What `power_on` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerOn {
    /// The module was already on: no pulse (a pulse would have turned it off, §2.1).
    AlreadyOn,
    /// PWRKEY was pulsed and the module came up.
    Pulsed,
}

/// What `recover` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// The rung that brought the module back.
    pub rung: Rung,
    /// Rungs tried, including the successful one.
    pub attempts: u32,
}

/// Session bookkeeping: boots seen at the start of the session, reboots, the ladder.
#[derive(Debug, Clone, Default)]
pub(crate) struct Session {
    baseline: Option<u32>,
    pub(crate) lost: bool,
    pub(crate) reboots: u32,
    pub(crate) ladder: Ladder,
}

impl Session {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A session starts (bring-up succeeded) with `boots` banners seen so far.
    pub(crate) fn start(&mut self, boots: u32) {
        self.baseline = Some(boots);
        self.lost = false;
    }

    /// Counts boots seen since the session started as reboots; true when the session is lost.
    pub(crate) fn check(&mut self, boots: u32) -> bool {
        if let Some(base) = self.baseline
            && boots > base
        {
            let n = boots - base;
            self.reboots = self.reboots.saturating_add(n);
            for _ in 0..n {
                self.ladder.rebooted();
            }
            self.baseline = Some(boots);
            self.lost = true;
        }
        self.lost
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn timing_table_matches_reference_2_1() {
        // Reference §2.1 table rows.
        assert_eq!(
            Model::Bg9x.timing(),
            Timing { power_pulse_ms: 500, reset_pulse_ms: 1000, startup_ms: 5000, shutdown_ms: 2000 }
        );
        assert_eq!(Model::Eg25g.timing().power_pulse_ms, 1500);
        assert_eq!(Model::A76xx.timing().startup_ms, 20000);
        assert_eq!(Model::SaraR5.timing().shutdown_ms, 13000);
        assert_eq!(Model::Bg9x.soft_power_down().unwrap().confirms, Some(&b"POWERED DOWN"[..]));
        assert_eq!(Model::A76xx.soft_power_down().unwrap().command, b"AT+CPOF");
        assert!(Model::SaraR4.soft_power_down().is_none());
        // Every soft power-down command awaits its confirmation in the command table (§2.13).
        for m in Model::ALL {
            if let Some(s) = m.soft_power_down() {
                assert_eq!(crate::Command::new(s.command).awaits, s.confirms, "{m:?}");
            }
        }
    }

    #[test]
    fn banners_of_reference_2_2() {
        for line in [&b"RDY"[..], b"APP RDY", b"*ATREADY: 1", b"SMS Ready"] {
            assert!(is_boot_banner(line));
        }
        for line in [&b"+CPIN: READY"[..], b"SMS DONE", b"RDYX", b"OK"] {
            assert!(!is_boot_banner(line));
        }
    }

    #[test]
    fn ladder_escalates_on_consecutive_failures_and_resets_on_success() {
        let mut l = Ladder::new(2);
        let mut seen = Vec::new();
        let mut exhausted = false;
        while !exhausted {
            seen.push(l.next());
            exhausted = l.failed();
        }
        assert_eq!(
            seen,
            [
                Rung::Retry,
                Rung::Retry,
                Rung::RadioCycle,
                Rung::RadioCycle,
                Rung::Reset,
                Rung::Reset,
                Rung::PowerCycle,
                Rung::PowerCycle
            ]
        );
        assert_eq!(l.counters().exhausted, 1);
        assert_eq!(l.next(), Rung::PowerCycle, "stays on the top rung");
        l.succeeded();
        assert_eq!(l.next(), Rung::Retry);
        assert_eq!(l.counters().rung(Rung::PowerCycle), RungCounters { attempts: 3, successes: 1 });
        assert_eq!(l.counters().rung(Rung::Retry), RungCounters { attempts: 2, successes: 0 });
        // A failure followed by a success does not escalate.
        l.failed();
        l.succeeded();
        l.failed();
        assert_eq!(l.next(), Rung::Retry);
        assert_eq!(Ladder::new(0).per_rung, 1);
    }

    struct Pin(Option<bool>);
    impl ErrorType for Pin {
        type Error = core::convert::Infallible;
    }
    impl OutputPin for Pin {
        fn set_low(&mut self) -> Result<(), Self::Error> {
            self.0 = Some(false);
            Ok(())
        }
        fn set_high(&mut self) -> Result<(), Self::Error> {
            self.0 = Some(true);
            Ok(())
        }
    }

    #[test]
    fn polarity() {
        let mut p = PowerPins::new(Pin(None), Polarity::ActiveLow, Model::Bg9x).unwrap();
        assert_eq!(p.pwrkey.0, Some(true), "released = high when active-low");
        p.press_key().unwrap();
        assert_eq!(p.pwrkey.0, Some(false));
        let mut p =
            PowerPins::new(Pin(None), Polarity::ActiveHigh, Model::Bg9x).unwrap().with_reset(Pin(None)).unwrap();
        assert_eq!((p.pwrkey.0, p.reset.as_ref().unwrap().0), (Some(false), Some(false)));
        p.drive_reset(true).unwrap();
        assert_eq!(p.reset.as_ref().unwrap().0, Some(true));
        assert_eq!(p.status().unwrap(), None);
    }
}
