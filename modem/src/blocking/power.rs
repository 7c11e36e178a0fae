//! Power control, reboot detection and recovery of the blocking shell (reference §2.1, §2.2,
//! §4.6), over the sans-io pieces of [`crate::power`].

use super::{Clock, Error, Modem};
use crate::command::Command;
use crate::engine::CommandError;
use crate::power::{LadderCounters, OFF_PULSE_MIN_MS, PROBE_MS, PowerOn, PowerPins, READY_MARGIN_MS, Recovered, Rung};
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{InputPin, OutputPin};
use embedded_io::{Read, ReadReady, Write};

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Modem<U, D, C> {
    /// Whether the module is on: the STATUS pin when fitted, else whether `AT` is answered
    /// within [`PROBE_MS`] (any answer, even `ERROR`, means on).
    ///
    /// # Errors
    ///
    /// [`Error::Pin`] or [`Error::Io`].
    pub fn is_on<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<bool, Error<U::Error>> {
        if let Some(on) = pins.status().map_err(|_| Error::Pin)? {
            return Ok(on);
        }
        let probe = Command { timeout_ms: PROBE_MS, ..Command::new(b"AT") };
        match self.execute(&probe, None) {
            Ok(_) => Ok(true),
            Err(Error::Command(CommandError::Timeout)) => Ok(false),
            Err(Error::Command(_)) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Powers the module on (reference §2.1-§2.2): checks it is off first ([`Modem::is_on`]),
    /// pulses PWRKEY for the timing's `power_pulse_ms`, then [`Modem::bring_up`] with the
    /// startup time plus [`READY_MARGIN_MS`]. A module found on is brought up without a pulse.
    ///
    /// # Errors
    ///
    /// [`Error::Pin`], or the errors of [`Modem::bring_up`].
    pub fn power_on<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<PowerOn, Error<U::Error>> {
        let ready_ms = u64::from(pins.timing.startup_ms).saturating_add(READY_MARGIN_MS);
        if self.is_on(pins)? {
            self.bring_up(ready_ms)?;
            return Ok(PowerOn::AlreadyOn);
        }
        self.pulse_key(pins, pins.timing.power_pulse_ms)?;
        self.bring_up(ready_ms)?;
        Ok(PowerOn::Pulsed)
    }

    /// Powers the module off (reference §2.1): the model's soft power-down (`AT+QPOWD=1` awaiting
    /// `POWERED DOWN` up to 65 s, `AT+CPOF`, `AT+CPOWD=1`), and when that fails and the module is
    /// still on, a PWRKEY pulse of at least [`OFF_PULSE_MIN_MS`], then the shutdown time. The
    /// session is lost either way.
    ///
    /// # Errors
    ///
    /// [`Error::StillOn`] when the module still answers (or STATUS is high) afterwards,
    /// [`Error::Pin`], [`Error::Io`].
    pub fn power_off<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<(), Error<U::Error>> {
        self.session.lost = true;
        let soft = match pins.soft_power_down {
            Some(sd) => match self.command(sd.command) {
                Ok(_) => true,
                Err(Error::Command(_)) => false,
                Err(e) => return Err(e),
            },
            None => false,
        };
        if soft {
            // Cut nothing before the module has finished: STATUS low, or the shutdown time.
            self.delay.delay_ms(pins.timing.shutdown_ms);
            if pins.status().map_err(|_| Error::Pin)? != Some(true) {
                return Ok(());
            }
        }
        if self.is_on(pins)? {
            self.pulse_key(pins, pins.timing.power_pulse_ms.max(OFF_PULSE_MIN_MS))?;
            self.delay.delay_ms(pins.timing.shutdown_ms);
            if self.is_on(pins)? {
                return Err(Error::StillOn);
            }
        }
        Ok(())
    }

    /// Holds PWRKEY pressed for `ms`, then releases it.
    ///
    /// # Errors
    ///
    /// [`Error::Pin`].
    pub fn pulse_key<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
        ms: u32,
    ) -> Result<(), Error<U::Error>> {
        pins.press_key().map_err(|_| Error::Pin)?;
        self.delay.delay_ms(ms);
        pins.release_key().map_err(|_| Error::Pin)
    }

    /// Reboots the module: the RESET pin for the timing's `reset_pulse_ms` when fitted, else
    /// `AT+CFUN=1,1` (reference §2.1 "generic reboot"); then [`Modem::bring_up`].
    ///
    /// # Errors
    ///
    /// [`Error::Pin`], a failing `AT+CFUN=1,1`, or the errors of [`Modem::bring_up`].
    pub fn reset<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<(), Error<U::Error>> {
        self.session.lost = true;
        if pins.has_reset() {
            pins.drive_reset(true).map_err(|_| Error::Pin)?;
            self.delay.delay_ms(pins.timing.reset_pulse_ms);
            pins.drive_reset(false).map_err(|_| Error::Pin)?;
        } else {
            self.command(b"AT+CFUN=1,1")?;
        }
        self.bring_up(u64::from(pins.timing.startup_ms).saturating_add(READY_MARGIN_MS))
    }

    /// Resynchronises with a module that is on (reference §4.6 item 2): `AT` up to three times,
    /// then `ATE0` and `AT+CMEE=1`.
    ///
    /// # Errors
    ///
    /// [`Error::NotReady`] when `AT` is never answered, others as [`Modem::command`].
    pub fn resync(&mut self) -> Result<(), Error<U::Error>> {
        let mut alive = false;
        for _ in 0..3 {
            match self.at() {
                Ok(()) => {
                    alive = true;
                    break;
                }
                Err(Error::Command(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if !alive {
            return Err(Error::NotReady);
        }
        self.command(b"ATE0")?;
        self.command(b"AT+CMEE=1")?;
        Ok(())
    }

    /// Whether the session state is lost: the module rebooted (a boot banner arrived after
    /// [`Modem::bring_up`], reference §2.2), or it was reset, radio-cycled or powered off.
    /// Registration, PDP contexts, sockets and MQTT must then be redone; [`Modem::bring_up`]
    /// starts a new session. Reads what the UART has ready first.
    ///
    /// # Errors
    ///
    /// [`Error::Io`].
    pub fn session_lost(&mut self) -> Result<bool, Error<U::Error>> {
        self.poll()?;
        Ok(self.session.check(self.engine.boots()))
    }

    /// Reboots detected mid-session so far.
    pub fn reboots(&mut self) -> u32 {
        self.session.check(self.engine.boots());
        self.session.reboots
    }

    /// The recovery ladder's counters (per rung attempts and successes, reboots, exhausted
    /// recoveries), for the cloud heartbeat.
    pub fn recovery_counters(&mut self) -> LadderCounters {
        self.session.check(self.engine.boots());
        *self.session.ladder.counters()
    }

    /// The rung [`Modem::recover`] starts from.
    pub fn recovery_rung(&self) -> Rung {
        self.session.ladder.next()
    }

    /// Brings an unresponsive module back (reference §4.6 item 3), trying rungs from
    /// [`Modem::recovery_rung`] up: [`Rung::Retry`] ([`Modem::resync`]), [`Rung::RadioCycle`]
    /// (`AT+CFUN=0`, `AT+CFUN=1`, resync), [`Rung::Reset`] ([`Modem::reset`]) and
    /// [`Rung::PowerCycle`] ([`Modem::power_off`] then [`Modem::power_on`]), each tried
    /// [`crate::power::Ladder::PER_RUNG`] times before escalating. Success de-escalates the ladder. Every rung
    /// above `Retry` loses the session (see [`Modem::session_lost`]).
    ///
    /// Without a STATUS pin a hung module looks off, so the first power-cycle pulse may turn it
    /// off instead of on; the second attempt then starts it.
    ///
    /// # Errors
    ///
    /// [`Error::Unrecoverable`] when every rung failed, [`Error::Pin`] or [`Error::Io`] at once.
    pub fn recover<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<Recovered, Error<U::Error>> {
        let mut attempts = 0u32;
        loop {
            let rung = self.session.ladder.next();
            attempts = attempts.saturating_add(1);
            let outcome = match rung {
                Rung::Retry => self.resync(),
                Rung::RadioCycle => {
                    self.session.lost = true;
                    self.command(b"AT+CFUN=0").and_then(|_| self.command(b"AT+CFUN=1")).and_then(|_| self.resync())
                }
                Rung::Reset => self.reset(pins),
                Rung::PowerCycle => self.power_off(pins).and_then(|()| self.power_on(pins).map(|_| ())),
            };
            match outcome {
                Ok(()) => {
                    self.session.ladder.succeeded();
                    return Ok(Recovered { rung, attempts });
                }
                Err(e @ (Error::Pin | Error::Io(_))) => return Err(e),
                Err(_) => {
                    if self.session.ladder.failed() {
                        return Err(Error::Unrecoverable);
                    }
                }
            }
        }
    }
}
