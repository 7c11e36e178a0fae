//! The async shell (feature `async`): [`Modem`] over `embedded-io-async` (`Read`, `Write`,
//! and `ReadReady` to read only what has arrived), an `embedded-hal-async` `DelayNs` and a
//! millisecond [`Clock`], with the same methods as [`crate::blocking::Modem`] and the same
//! sans-io [`Engine`] underneath.
//!
//! While a command waits, the shell reads what the UART has ready one chunk at a time, feeds the
//! engine and, when nothing was ready, sleeps a poll interval (5 ms) with the async delay, so a
//! read never blocks past a deadline and no executor-specific select is needed. As in the
//! blocking shell, it stops reading once the outcome is known, so URCs after it stay in the
//! UART. The UART's `read_ready` must report bytes already buffered (as interrupt- or
//! DMA-driven async UARTs do).
//!
//! # Cancel safety
//! Dropping a command future midway leaves the engine with the command pending: the next
//! command fails with [`CommandError::Busy`] until the deadline has passed, then the late reply
//! is drained (reference §6.2) and the driver is usable again.

use crate::blocking::{Clock, ESC, Error, LINE, Operator, URCS};
use crate::command::Command;
use crate::engine::{CommandError, Engine, Reply};
use crate::power::{LadderCounters, OFF_PULSE_MIN_MS, PROBE_MS, PowerOn, PowerPins, READY_MARGIN_MS, Recovered, Rung};
use crate::response::{
    Csq, Registration, parse_cops, parse_cpin, parse_csq, parse_iccid, parse_imei, parse_registration,
};
use crate::router::Urc;
use embedded_hal::digital::{InputPin, OutputPin};
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{Read, ReadReady, Write};
use heapless::String;

/// An async modem driver. `U` is the UART, `D` the delay, `C` the clock.
#[derive(Debug)]
pub struct Modem<U, D, C> {
    uart: U,
    delay: D,
    clock: C,
    engine: Engine<LINE, URCS>,
    poll_ms: u32,
    boot_urcs: u32,
    session: crate::power::Session,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Modem<U, D, C> {
    /// SIM busy retries of [`Modem::bring_up`].
    pub const SIM_RETRIES: u8 = 5;
    /// Pause between SIM busy retries.
    pub const SIM_RETRY_MS: u32 = 2_000;

    /// A driver over `uart`, sleeping with `delay` and timing with `clock`.
    pub fn new(uart: U, delay: D, clock: C) -> Self {
        Self {
            uart,
            delay,
            clock,
            engine: Engine::new(),
            poll_ms: 5,
            boot_urcs: 0,
            session: crate::power::Session::new(),
        }
    }

    /// Reads and routes everything the UART has ready, without waiting.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the UART fails.
    pub async fn poll(&mut self) -> Result<(), Error<U::Error>> {
        let mut buf = [0u8; 64];
        while self.uart.read_ready().map_err(Error::Io)? {
            let n = self.uart.read(&mut buf).await.map_err(Error::Io)?;
            let now = self.clock.now_ms();
            self.engine.feed(buf.get(..n).unwrap_or(&[]), now);
        }
        Ok(())
    }

    /// Reads and routes one chunk (up to 64 bytes) if the UART has one ready; returns whether it
    /// did (as [`crate::blocking::Modem::poll_chunk`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the UART fails.
    pub async fn poll_chunk(&mut self) -> Result<bool, Error<U::Error>> {
        let mut buf = [0u8; 64];
        if !self.uart.read_ready().map_err(Error::Io)? {
            return Ok(false);
        }
        let n = self.uart.read(&mut buf).await.map_err(Error::Io)?;
        let now = self.clock.now_ms();
        self.engine.feed(buf.get(..n).unwrap_or(&[]), now);
        Ok(n > 0)
    }

    /// Sends one command and waits for its outcome (deadline from reference §2.13).
    ///
    /// # Errors
    ///
    /// [`Error::Command`] for a failing final result or a timeout, [`Error::Io`] from the UART.
    pub async fn command(&mut self, text: &[u8]) -> Result<Reply<LINE>, Error<U::Error>> {
        self.exchange(text, None).await
    }

    /// Sends a command that opens a data prompt (`AT+CMGS`, `AT+QISEND`, `AT+QMTPUBEX`,
    /// `AT+CMQTTTOPIC`, reference §1.8), writes `data` once the `>` arrives, then `terminator`
    /// when given (`0x1A`, Ctrl-Z, ends SMS text and `AT+QMTPUB` payloads), and waits for the
    /// outcome, including a result awaited after `OK` (`SEND OK`, `+QMTPUB: 0,1,0`).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`]; a command that fails before its prompt writes no data. When the
    /// command times out before its data was written, ESC is sent so the module leaves input
    /// mode (reference §1.8).
    pub async fn command_with_data(
        &mut self,
        text: &[u8],
        data: &[u8],
        terminator: Option<u8>,
    ) -> Result<Reply<LINE>, Error<U::Error>> {
        self.exchange(text, Some((data, terminator))).await
    }

    /// Runs `command` as described (its timeout, prompt and awaited result may differ from the
    /// defaults of [`Command::new`], e.g. an MQTT publish whose deadline follows the configured
    /// packet timeout), writing `data` and `terminator` at the prompt as
    /// [`Modem::command_with_data`] does.
    ///
    /// # Errors
    ///
    /// As [`Modem::command`].
    pub async fn execute(
        &mut self,
        command: &Command<'_>,
        data: Option<(&[u8], Option<u8>)>,
    ) -> Result<Reply<LINE>, Error<U::Error>> {
        self.exchange_command(command, data).await
    }

    /// What the last failed command received (see [`Engine::failed_reply`]).
    pub fn failed_reply(&self) -> &Reply<LINE> {
        self.engine.failed_reply()
    }

    /// The clock's current time in milliseconds.
    pub fn now_ms(&mut self) -> u64 {
        self.clock.now_ms()
    }

    /// Sleeps `ms` milliseconds with the driver's delay.
    pub async fn delay_ms(&mut self, ms: u32) {
        self.delay.delay_ms(ms).await;
    }

    async fn exchange(
        &mut self,
        text: &[u8],
        data: Option<(&[u8], Option<u8>)>,
    ) -> Result<Reply<LINE>, Error<U::Error>> {
        self.exchange_command(&Command::new(text), data).await
    }

    async fn exchange_command(
        &mut self,
        command: &Command<'_>,
        mut data: Option<(&[u8], Option<u8>)>,
    ) -> Result<Reply<LINE>, Error<U::Error>> {
        let command = *command;
        let text = command.text;
        let give_up = self.clock.now_ms().saturating_add(u64::from(command.timeout_ms));
        loop {
            self.poll().await?;
            let now = self.clock.now_ms();
            match self.engine.start(&command, now) {
                Ok(()) => break,
                Err(CommandError::Draining) if now < give_up => self.delay.delay_ms(self.poll_ms).await,
                Err(e) => return Err(Error::Command(e)),
            }
        }
        self.uart.write_all(text).await.map_err(Error::Io)?;
        self.uart.write_all(b"\r").await.map_err(Error::Io)?;
        self.uart.flush().await.map_err(Error::Io)?;
        loop {
            // One chunk at a time, as the blocking shell: once the outcome is known, what follows
            // (URCs) stays in the UART for the caller instead of crowding the URC queue.
            let more = self.poll_chunk().await?;
            if self.engine.take_prompt()
                && let Some((bytes, terminator)) = data.take()
            {
                self.uart.write_all(bytes).await.map_err(Error::Io)?;
                if let Some(t) = terminator {
                    self.uart.write_all(&[t]).await.map_err(Error::Io)?;
                }
                self.uart.flush().await.map_err(Error::Io)?;
            }
            let now = self.clock.now_ms();
            if let Some(outcome) = self.engine.poll(now) {
                if outcome == Err(CommandError::Timeout) && data.is_some() {
                    // reference §1.8: a module may still be waiting in input mode; ESC leaves it.
                    self.uart.write_all(&[ESC]).await.map_err(Error::Io)?;
                    self.uart.flush().await.map_err(Error::Io)?;
                }
                return outcome.map_err(Error::Command);
            }
            if !more {
                self.delay.delay_ms(self.poll_ms).await;
            }
        }
    }

    /// `AT`.
    ///
    /// # Errors
    ///
    /// As [`Modem::command`].
    pub async fn at(&mut self) -> Result<(), Error<U::Error>> {
        self.command(b"AT").await.map(|_| ())
    }

    /// Brings the module up (reference §2.2): waits up to `ready_ms` for `RDY` or `APP RDY`,
    /// polls `AT` (3 tries), sends `ATE0` and `AT+CMEE=1`, then `AT+CPIN?` until `READY`,
    /// retrying while the SIM is busy. URCs queued while waiting for the banner are consumed.
    ///
    /// # Errors
    ///
    /// [`Error::NotReady`] when `AT` is never answered, [`Error::SimNotReady`] when the SIM is
    /// absent, locked or still busy, other errors as [`Modem::command`].
    pub async fn bring_up(&mut self, ready_ms: u64) -> Result<(), Error<U::Error>> {
        let until = self.clock.now_ms().saturating_add(ready_ms);
        'wait: while self.clock.now_ms() < until {
            self.poll().await?;
            while let Some(urc) = self.engine.pop_urc() {
                self.boot_urcs = self.boot_urcs.saturating_add(1);
                if matches!(urc.line.as_slice(), b"RDY" | b"APP RDY") {
                    break 'wait;
                }
            }
            self.delay.delay_ms(self.poll_ms).await;
        }
        let mut alive = false;
        for _ in 0..3 {
            match self.at().await {
                Ok(()) => {
                    alive = true;
                    break;
                }
                Err(Error::Command(CommandError::Timeout)) => {}
                Err(e) => return Err(e),
            }
        }
        if !alive {
            return Err(Error::NotReady);
        }
        self.command(b"ATE0").await?;
        self.command(b"AT+CMEE=1").await?;
        for attempt in 0..Self::SIM_RETRIES {
            match self.command(b"AT+CPIN?").await {
                Ok(reply) => {
                    if !parse_cpin(&reply.line)?.is_ready() {
                        return Err(Error::SimNotReady);
                    }
                    self.session.start(self.engine.boots());
                    return Ok(());
                }
                Err(Error::Command(CommandError::Cme(Some(14)))) if attempt + 1 < Self::SIM_RETRIES => {
                    self.delay.delay_ms(Self::SIM_RETRY_MS).await;
                }
                Err(Error::Command(CommandError::Cme(Some(10 | 13 | 14)))) => return Err(Error::SimNotReady),
                Err(e) => return Err(e),
            }
        }
        Err(Error::SimNotReady)
    }

    /// URCs consumed by [`Modem::bring_up`] while waiting for the boot banner.
    pub fn boot_urcs(&self) -> u32 {
        self.boot_urcs
    }

    /// `AT+CSQ` (reference §2.4).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], or [`Error::Parse`].
    pub async fn signal(&mut self) -> Result<Csq, Error<U::Error>> {
        let reply = self.command(b"AT+CSQ").await?;
        Ok(parse_csq(&reply.line)?)
    }

    /// `AT+CEREG?` (reference §2.5: EPS registration is authoritative on LTE modules).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], or [`Error::Parse`].
    pub async fn registration(&mut self) -> Result<Registration, Error<U::Error>> {
        let reply = self.command(b"AT+CEREG?").await?;
        Ok(parse_registration(&reply.line)?)
    }

    /// `AT+COPS?` (reference §2.5).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], [`Error::Parse`], or [`Error::TooLong`] for a name over 32 bytes.
    pub async fn operator(&mut self) -> Result<Operator, Error<U::Error>> {
        let reply = self.command(b"AT+COPS?").await?;
        let cops = parse_cops(&reply.line)?;
        let name = String::try_from(cops.oper.unwrap_or("")).map_err(|_| Error::TooLong)?;
        Ok(Operator { mode: cops.mode, format: cops.format, name, act: cops.act })
    }

    /// `AT+CGSN`: the IMEI (reference §2.3).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], [`Error::Parse`] or [`Error::TooLong`].
    pub async fn imei(&mut self) -> Result<String<16>, Error<U::Error>> {
        let reply = self.command(b"AT+CGSN").await?;
        String::try_from(parse_imei(&reply.line)?).map_err(|_| Error::TooLong)
    }

    /// `AT+QCCID`: the ICCID as text (reference §2.3: may contain `F` or hex digits).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], [`Error::Parse`] or [`Error::TooLong`].
    pub async fn iccid(&mut self) -> Result<String<22>, Error<U::Error>> {
        let reply = self.command(b"AT+QCCID").await?;
        String::try_from(parse_iccid(&reply.line)?).map_err(|_| Error::TooLong)
    }

    /// The next queued URC (call [`Modem::poll`] first to read what arrived while idle).
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.engine.pop_urc()
    }

    /// The next queued URC, without taking it.
    pub fn peek_urc(&self) -> Option<&Urc<LINE>> {
        self.engine.peek_urc()
    }

    /// URCs lost since the last call: re-poll state when non-zero (reference §6.2).
    pub fn take_lost(&mut self) -> u32 {
        self.engine.take_lost()
    }

    /// The UART, e.g. to script a simulator between commands.
    pub fn uart_mut(&mut self) -> &mut U {
        &mut self.uart
    }

    /// The UART, delay and clock back.
    pub fn release(self) -> (U, D, C) {
        (self.uart, self.delay, self.clock)
    }

    /// Whether the module is on: the STATUS pin when fitted, else whether `AT` is answered
    /// within [`PROBE_MS`] (any answer, even `ERROR`, means on).
    ///
    /// # Errors
    ///
    /// [`Error::Pin`] or [`Error::Io`].
    pub async fn is_on<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<bool, Error<U::Error>> {
        if let Some(on) = pins.status().map_err(|_| Error::Pin)? {
            return Ok(on);
        }
        let probe = Command { timeout_ms: PROBE_MS, ..Command::new(b"AT") };
        match self.execute(&probe, None).await {
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
    pub async fn power_on<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<PowerOn, Error<U::Error>> {
        let ready_ms = u64::from(pins.timing.startup_ms).saturating_add(READY_MARGIN_MS);
        if self.is_on(pins).await? {
            self.bring_up(ready_ms).await?;
            return Ok(PowerOn::AlreadyOn);
        }
        self.pulse_key(pins, pins.timing.power_pulse_ms).await?;
        self.bring_up(ready_ms).await?;
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
    pub async fn power_off<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<(), Error<U::Error>> {
        self.session.lost = true;
        let soft = match pins.soft_power_down {
            Some(sd) => match self.command(sd.command).await {
                Ok(_) => true,
                Err(Error::Command(_)) => false,
                Err(e) => return Err(e),
            },
            None => false,
        };
        if soft {
            // Cut nothing before the module has finished: STATUS low, or the shutdown time.
            self.delay.delay_ms(pins.timing.shutdown_ms).await;
            if pins.status().map_err(|_| Error::Pin)? != Some(true) {
                return Ok(());
            }
        }
        if self.is_on(pins).await? {
            self.pulse_key(pins, pins.timing.power_pulse_ms.max(OFF_PULSE_MIN_MS)).await?;
            self.delay.delay_ms(pins.timing.shutdown_ms).await;
            if self.is_on(pins).await? {
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
    pub async fn pulse_key<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
        ms: u32,
    ) -> Result<(), Error<U::Error>> {
        pins.press_key().map_err(|_| Error::Pin)?;
        self.delay.delay_ms(ms).await;
        pins.release_key().map_err(|_| Error::Pin)
    }

    /// Reboots the module: the RESET pin for the timing's `reset_pulse_ms` when fitted, else
    /// `AT+CFUN=1,1` (reference §2.1 "generic reboot"); then [`Modem::bring_up`].
    ///
    /// # Errors
    ///
    /// [`Error::Pin`], a failing `AT+CFUN=1,1`, or the errors of [`Modem::bring_up`].
    pub async fn reset<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<(), Error<U::Error>> {
        self.session.lost = true;
        if pins.has_reset() {
            pins.drive_reset(true).map_err(|_| Error::Pin)?;
            self.delay.delay_ms(pins.timing.reset_pulse_ms).await;
            pins.drive_reset(false).map_err(|_| Error::Pin)?;
        } else {
            self.command(b"AT+CFUN=1,1").await?;
        }
        self.bring_up(u64::from(pins.timing.startup_ms).saturating_add(READY_MARGIN_MS)).await
    }

    /// Resynchronises with a module that is on (reference §4.6 item 2): `AT` up to three times,
    /// then `ATE0` and `AT+CMEE=1`.
    ///
    /// # Errors
    ///
    /// [`Error::NotReady`] when `AT` is never answered, others as [`Modem::command`].
    pub async fn resync(&mut self) -> Result<(), Error<U::Error>> {
        let mut alive = false;
        for _ in 0..3 {
            match self.at().await {
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
        self.command(b"ATE0").await?;
        self.command(b"AT+CMEE=1").await?;
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
    pub async fn session_lost(&mut self) -> Result<bool, Error<U::Error>> {
        self.poll().await?;
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
    pub async fn recover<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<Recovered, Error<U::Error>> {
        let mut attempts = 0u32;
        loop {
            let rung = self.session.ladder.next();
            attempts = attempts.saturating_add(1);
            let outcome = match rung {
                Rung::Retry => self.resync().await,
                Rung::RadioCycle => {
                    self.session.lost = true;
                    self.radio_cycle().await
                }
                Rung::Reset => self.reset(pins).await,
                Rung::PowerCycle => self.power_cycle(pins).await,
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

    async fn radio_cycle(&mut self) -> Result<(), Error<U::Error>> {
        self.command(b"AT+CFUN=0").await?;
        self.command(b"AT+CFUN=1").await?;
        self.resync().await
    }

    async fn power_cycle<K: OutputPin, S: InputPin, R: OutputPin>(
        &mut self,
        pins: &mut PowerPins<K, S, R>,
    ) -> Result<(), Error<U::Error>> {
        self.power_off(pins).await?;
        self.power_on(pins).await.map(|_| ())
    }
}
