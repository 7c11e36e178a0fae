//! The blocking shell: [`Modem`] over an `embedded_io` UART, an `embedded_hal` delay and a
//! millisecond [`Clock`], driving the sans-io [`Engine`].
//!
//! Bring-up follows reference §2.2: wait for `RDY`/`APP RDY` (or find the module already on with
//! `AT`), `ATE0`, `AT+CMEE=1`, then `AT+CPIN?` with retries while the SIM is busy
//! (`+CME ERROR: 14`, 2 s apart as in the Quectel SDK).

use crate::command::Command;
use crate::engine::{CommandError, Engine, Reply};
use crate::error::ParseError;
use crate::response::{
    Csq, Registration, parse_cops, parse_cpin, parse_csq, parse_iccid, parse_imei, parse_registration,
};
use crate::router::Urc;
use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use heapless::String;

/// Line length of the engine the blocking shell uses (reference §6.2: at least 256).
pub const LINE: usize = 256;
/// URC queue depth of the blocking shell.
pub const URCS: usize = 8;
/// ESC (0x1B): aborts a data prompt (reference §1.8).
pub const ESC: u8 = 0x1b;

/// A monotonic millisecond clock.
pub trait Clock {
    /// Milliseconds since an arbitrary origin; never goes backwards.
    fn now_ms(&mut self) -> u64;
}

/// Errors of the blocking shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The UART failed.
    Io(E),
    /// The command failed (timeout, `+CME ERROR`, ...).
    Command(CommandError),
    /// The reply could not be parsed.
    Parse(ParseError),
    /// The module never answered `AT` during bring-up.
    NotReady,
    /// The SIM is not ready (absent, PIN required, still busy after the retries).
    SimNotReady,
    /// A value did not fit its fixed-size string.
    TooLong,
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "UART: {e:?}"),
            Self::Command(e) => write!(f, "command: {e}"),
            Self::Parse(e) => write!(f, "reply: {e}"),
            Self::NotReady => f.write_str("the module does not answer AT"),
            Self::SimNotReady => f.write_str("the SIM is not ready"),
            Self::TooLong => f.write_str("value too long"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Error<E> {}

impl<E> From<ParseError> for Error<E> {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

impl<E> From<CommandError> for Error<E> {
    fn from(e: CommandError) -> Self {
        Self::Command(e)
    }
}

/// The operator the module is registered on (`AT+COPS?`, reference §2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// `<mode>`.
    pub mode: u8,
    /// `<format>`, absent when not registered.
    pub format: Option<u8>,
    /// `<oper>`, empty when not registered.
    pub name: String<32>,
    /// `<AcT>`.
    pub act: Option<u8>,
}

/// A blocking modem driver. `U` is the UART, `D` the delay, `C` the clock.
#[derive(Debug)]
pub struct Modem<U, D, C> {
    uart: U,
    delay: D,
    clock: C,
    engine: Engine<LINE, URCS>,
    poll_ms: u32,
    boot_urcs: u32,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Modem<U, D, C> {
    /// SIM busy retries of [`Modem::bring_up`].
    pub const SIM_RETRIES: u8 = 5;
    /// Pause between SIM busy retries.
    pub const SIM_RETRY_MS: u32 = 2_000;

    /// A driver over `uart`, sleeping with `delay` and timing with `clock`.
    pub fn new(uart: U, delay: D, clock: C) -> Self {
        Self { uart, delay, clock, engine: Engine::new(), poll_ms: 5, boot_urcs: 0 }
    }

    /// Reads and routes everything the UART has ready, without waiting.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the UART fails.
    pub fn poll(&mut self) -> Result<(), Error<U::Error>> {
        let mut buf = [0u8; 64];
        while self.uart.read_ready().map_err(Error::Io)? {
            let n = self.uart.read(&mut buf).map_err(Error::Io)?;
            let now = self.clock.now_ms();
            self.engine.feed(buf.get(..n).unwrap_or(&[]), now);
        }
        Ok(())
    }

    /// Sends one command and waits for its outcome (deadline from reference §2.13).
    ///
    /// # Errors
    ///
    /// [`Error::Command`] for a failing final result or a timeout, [`Error::Io`] from the UART.
    pub fn command(&mut self, text: &[u8]) -> Result<Reply<LINE>, Error<U::Error>> {
        self.exchange(text, None)
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
    pub fn command_with_data(
        &mut self,
        text: &[u8],
        data: &[u8],
        terminator: Option<u8>,
    ) -> Result<Reply<LINE>, Error<U::Error>> {
        self.exchange(text, Some((data, terminator)))
    }

    /// Runs `command` as described (its timeout, prompt and awaited result may differ from the
    /// defaults of [`Command::new`], e.g. an MQTT publish whose deadline follows the configured
    /// packet timeout), writing `data` and `terminator` at the prompt as
    /// [`Modem::command_with_data`] does.
    ///
    /// # Errors
    ///
    /// As [`Modem::command`].
    pub fn execute(
        &mut self,
        command: &Command<'_>,
        data: Option<(&[u8], Option<u8>)>,
    ) -> Result<Reply<LINE>, Error<U::Error>> {
        self.run(command, data)
    }

    /// The clock's current time in milliseconds.
    pub fn now_ms(&mut self) -> u64 {
        self.clock.now_ms()
    }

    /// Sleeps `ms` milliseconds with the driver's delay.
    pub fn delay_ms(&mut self, ms: u32) {
        self.delay.delay_ms(ms);
    }

    fn exchange(&mut self, text: &[u8], data: Option<(&[u8], Option<u8>)>) -> Result<Reply<LINE>, Error<U::Error>> {
        self.run(&Command::new(text), data)
    }

    fn run(
        &mut self,
        command: &Command<'_>,
        mut data: Option<(&[u8], Option<u8>)>,
    ) -> Result<Reply<LINE>, Error<U::Error>> {
        let text = command.text;
        let give_up = self.clock.now_ms().saturating_add(u64::from(command.timeout_ms));
        loop {
            self.poll()?;
            let now = self.clock.now_ms();
            match self.engine.start(command, now) {
                Ok(()) => break,
                Err(CommandError::Draining) if now < give_up => self.delay.delay_ms(self.poll_ms),
                Err(e) => return Err(Error::Command(e)),
            }
        }
        self.uart.write_all(text).map_err(Error::Io)?;
        self.uart.write_all(b"\r").map_err(Error::Io)?;
        self.uart.flush().map_err(Error::Io)?;
        loop {
            self.poll()?;
            if self.engine.take_prompt()
                && let Some((bytes, terminator)) = data.take()
            {
                self.uart.write_all(bytes).map_err(Error::Io)?;
                if let Some(t) = terminator {
                    self.uart.write_all(&[t]).map_err(Error::Io)?;
                }
                self.uart.flush().map_err(Error::Io)?;
            }
            let now = self.clock.now_ms();
            if let Some(outcome) = self.engine.poll(now) {
                if outcome == Err(CommandError::Timeout) && data.is_some() {
                    // reference §1.8: a module may still be waiting in input mode; ESC leaves it.
                    self.uart.write_all(&[ESC]).map_err(Error::Io)?;
                    self.uart.flush().map_err(Error::Io)?;
                }
                return outcome.map_err(Error::Command);
            }
            self.delay.delay_ms(self.poll_ms);
        }
    }

    /// `AT`.
    ///
    /// # Errors
    ///
    /// As [`Modem::command`].
    pub fn at(&mut self) -> Result<(), Error<U::Error>> {
        self.command(b"AT").map(|_| ())
    }

    /// Brings the module up (reference §2.2): waits up to `ready_ms` for `RDY` or `APP RDY`,
    /// polls `AT` (3 tries), sends `ATE0` and `AT+CMEE=1`, then `AT+CPIN?` until `READY`,
    /// retrying while the SIM is busy. URCs queued while waiting for the banner are consumed.
    ///
    /// # Errors
    ///
    /// [`Error::NotReady`] when `AT` is never answered, [`Error::SimNotReady`] when the SIM is
    /// absent, locked or still busy, other errors as [`Modem::command`].
    pub fn bring_up(&mut self, ready_ms: u64) -> Result<(), Error<U::Error>> {
        let until = self.clock.now_ms().saturating_add(ready_ms);
        'wait: while self.clock.now_ms() < until {
            self.poll()?;
            while let Some(urc) = self.engine.pop_urc() {
                self.boot_urcs = self.boot_urcs.saturating_add(1);
                if matches!(urc.line.as_slice(), b"RDY" | b"APP RDY") {
                    break 'wait;
                }
            }
            self.delay.delay_ms(self.poll_ms);
        }
        let mut alive = false;
        for _ in 0..3 {
            match self.at() {
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
        self.command(b"ATE0")?;
        self.command(b"AT+CMEE=1")?;
        for attempt in 0..Self::SIM_RETRIES {
            match self.command(b"AT+CPIN?") {
                Ok(reply) => {
                    return if parse_cpin(&reply.line)?.is_ready() { Ok(()) } else { Err(Error::SimNotReady) };
                }
                Err(Error::Command(CommandError::Cme(Some(14)))) if attempt + 1 < Self::SIM_RETRIES => {
                    self.delay.delay_ms(Self::SIM_RETRY_MS);
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
    pub fn signal(&mut self) -> Result<Csq, Error<U::Error>> {
        let reply = self.command(b"AT+CSQ")?;
        Ok(parse_csq(&reply.line)?)
    }

    /// `AT+CEREG?` (reference §2.5: EPS registration is authoritative on LTE modules).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], or [`Error::Parse`].
    pub fn registration(&mut self) -> Result<Registration, Error<U::Error>> {
        let reply = self.command(b"AT+CEREG?")?;
        Ok(parse_registration(&reply.line)?)
    }

    /// `AT+COPS?` (reference §2.5).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], [`Error::Parse`], or [`Error::TooLong`] for a name over 32 bytes.
    pub fn operator(&mut self) -> Result<Operator, Error<U::Error>> {
        let reply = self.command(b"AT+COPS?")?;
        let cops = parse_cops(&reply.line)?;
        let name = String::try_from(cops.oper.unwrap_or("")).map_err(|_| Error::TooLong)?;
        Ok(Operator { mode: cops.mode, format: cops.format, name, act: cops.act })
    }

    /// `AT+CGSN`: the IMEI (reference §2.3).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], [`Error::Parse`] or [`Error::TooLong`].
    pub fn imei(&mut self) -> Result<String<16>, Error<U::Error>> {
        let reply = self.command(b"AT+CGSN")?;
        String::try_from(parse_imei(&reply.line)?).map_err(|_| Error::TooLong)
    }

    /// `AT+QCCID`: the ICCID as text (reference §2.3: may contain `F` or hex digits).
    ///
    /// # Errors
    ///
    /// As [`Modem::command`], [`Error::Parse`] or [`Error::TooLong`].
    pub fn iccid(&mut self) -> Result<String<22>, Error<U::Error>> {
        let reply = self.command(b"AT+QCCID")?;
        String::try_from(parse_iccid(&reply.line)?).map_err(|_| Error::TooLong)
    }

    /// The next queued URC (call [`Modem::poll`] first to read what arrived while idle).
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.engine.pop_urc()
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
}
