//! Thin blocking and async shells over the sans-io [`SsiHost`](crate::host::SsiHost) (trigger
//! or continuously scan an SSI engine) and over the raw-mode [`LineFramer`](crate::framer::LineFramer)
//! (`RawScanner`, for engines left in their factory "serial keyboard" mode), the Grow host
//! (`GrowScanner`) and the Honeywell/Newland [`MenuHost`](crate::menu_host::MenuHost)
//! (`MenuScanner`); all yield [`Scan`]s.
//!
//! Both shells have the same methods: [`command`](blocking::SsiScanner::command),
//! [`trigger`](blocking::SsiScanner::trigger), [`stop`](blocking::SsiScanner::stop),
//! [`provision`](blocking::SsiScanner::provision) and
//! [`next_scan`](blocking::SsiScanner::next_scan). They poll `ReadReady` and wait 1 ms between
//! polls with a `DelayNs`; their clock counts those waits (time spent inside `read`/`write` is
//! not counted, so timeouts are lower bounds). A scan that arrives while a command waits for
//! its ACK is acknowledged at once and kept (the latest one) for the next `next_scan`.

use crate::aim::{self, SymbologyId};
use crate::grow;
use crate::grow_host::{GrowCommandError, GrowEvent};
use crate::host::CommandError;
use crate::menu_host::{MAX_COMMAND as MAX_MENU_COMMAND, MenuCommandError, MenuEvent, MenuHostError};
use crate::ssi;

/// One scan as the locker uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan<'a> {
    /// The AIM identifier, when the engine sends one (provisioning turns it on).
    pub symbology: Option<SymbologyId>,
    /// The engine's bar code type (SSI table, engine-specific, §2.4); `None` in raw mode.
    pub code_type: Option<u8>,
    /// The data after the AIM identifier.
    pub data: &'a [u8],
    /// The raw GS1 element strings when the identifier says the data is GS1.
    pub gs1: Option<&'a [u8]>,
}

impl<'a> Scan<'a> {
    /// Splits decode data into identifier and data.
    pub fn from_decode(code_type: Option<u8>, bytes: &'a [u8]) -> Self {
        match aim::split(bytes) {
            Ok((id, data)) => Scan { symbology: Some(id), code_type, data, gs1: id.is_gs1().then_some(data) },
            Err(_) => Scan { symbology: None, code_type, data: bytes, gs1: None },
        }
    }
}

/// A driver failure: transport errors kept apart from what the engine reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// Reading failed.
    Read(E),
    /// Writing failed.
    Write(E),
    /// The engine refused a command or never acknowledged it.
    Command(CommandError),
    /// A Grow module answered a command with an error status or not at all.
    Grow(GrowCommandError),
    /// A Honeywell/Newland engine answered a menu command with `ENQ`/`NAK` or not at all.
    Menu(MenuCommandError),
    /// A menu command could not be started (too long, or unsupported by the engine).
    MenuHost(MenuHostError),
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Read(e) => write!(f, "read failed: {e:?}"),
            Self::Write(e) => write!(f, "write failed: {e:?}"),
            Self::Command(e) => write!(f, "{e}"),
            Self::Grow(e) => write!(f, "{e}"),
            Self::Menu(e) => write!(f, "{e}"),
            Self::MenuHost(e) => write!(f, "{e}"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Error<E> {}

/// A provisioning profile: parameters sent with PARAM_SEND (permanent) before use.
///
/// Parameter numbers and values are engine-specific (§2.5: trigger mode "host" is 8 on one
/// engine and 7 on another); the profiles here use the numbers that real drivers send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile<'a> {
    /// A name for logs.
    pub name: &'a str,
    /// PARAM_SEND data after the beep byte: parameter numbers and values (§2.5 encoding).
    pub params: &'a [u8],
}

impl Profile<'static> {
    /// Zebra SSI engines: decode data packeted (0xEE = 1), ACK/NAK handshaking on (0x9F = 1),
    /// host trigger (0x8A = 8) — the parameters of vectors ssi-01 and ssi-15.
    pub const ZEBRA_SSI: Profile<'static> =
        Profile { name: "zebra-ssi", params: &[0xEE, 0x01, 0x9F, 0x01, 0x8A, 0x08] };
}

/// Bits to set in one Grow zone-bit byte: `new = (old & !mask) | (value & mask)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneBits {
    /// Zone-bit address (§5.2).
    pub address: u16,
    /// The bits this entry owns.
    pub mask: u8,
    /// Their new values.
    pub value: u8,
}

impl ZoneBits {
    /// 0x0000 b1-0 = 01: command-triggered mode (a read starts only on command, §5.2).
    pub const COMMAND_MODE: ZoneBits = ZoneBits { address: 0x0000, mask: 0x03, value: 0x01 };
    /// 0x0003 b1 = 1: setup barcodes disabled, so a customer's phone cannot reconfigure the
    /// module (§5.2, §11 item 8).
    pub const SETUP_CODES_OFF: ZoneBits = ZoneBits { address: 0x0003, mask: 0x02, value: 0x02 };
    /// 0x000D: input (QR payload) encoding UTF-8 (b5-4 = 11), output UTF-8 (b3-2 = 11),
    /// interface serial (b1-0 = 00) (§5.2, §5.3 on engine-side transcoding).
    pub const UTF8_SERIAL: ZoneBits = ZoneBits { address: 0x000D, mask: 0x3F, value: 0x3C };
    /// 0x0060: tail CR (b6-5 = 00) on (b0 = 1); Grow's own CodeID (b2), prefix (b3), suffix
    /// (b1) and read-fail message (b4) off, so the data is `[AIM id][data]CR` (§5.2).
    pub const TAIL_CR_ONLY: ZoneBits = ZoneBits { address: 0x0060, mask: 0x7F, value: 0x01 };
    /// AIM identifiers on: 0x00D0 b7 = 1. **Unverified**: the reference has this only from
    /// third-party GM812 notes, not from a Grow manual (§5.2, last paragraph), so it is not part
    /// of [`GrowProfile::GM65`]; add it to your own profile after checking it on your module.
    pub const AIM_ID_UNVERIFIED: ZoneBits = ZoneBits { address: 0x00D0, mask: 0x80, value: 0x80 };
}

/// A Grow provisioning profile: zone bits changed by read-modify-write, then saved to EEPROM
/// (type 09, §5.1) when `save` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrowProfile<'a> {
    /// A name for logs.
    pub name: &'a str,
    /// The bits to set, in order.
    pub zones: &'a [ZoneBits],
    /// Save to EEPROM afterwards.
    pub save: bool,
}

impl GrowProfile<'static> {
    /// GM65 (§5.2): command-triggered mode, setup barcodes off, UTF-8 in and out on the serial
    /// interface, tail CR only; saved. AIM identifiers are **not** switched on because the only
    /// known register for them is unverified ([`ZoneBits::AIM_ID_UNVERIFIED`]).
    pub const GM65: GrowProfile<'static> = GrowProfile {
        name: "grow-gm65",
        zones: &[ZoneBits::COMMAND_MODE, ZoneBits::SETUP_CODES_OFF, ZoneBits::UTF8_SERIAL, ZoneBits::TAIL_CR_ONLY],
        save: true,
    };
}

/// Zone bit 0x0002: writing 0x01 in command mode starts one read (§5.2).
const GROW_TRIGGER: u16 = 0x0002;

/// The longest PARAM_SEND payload a profile may produce.
const MAX_PARAMS: usize = ssi::MAX_PAYLOAD - 1;

fn param_payload(profile: &Profile<'_>, out: &mut [u8; ssi::MAX_PAYLOAD]) -> usize {
    // Beep code 0xFF = no beep (§2.2).
    out[0] = 0xFF;
    let n = profile.params.len().min(MAX_PARAMS);
    if let (Some(dst), Some(src)) = (out.get_mut(1..1 + n), profile.params.get(..n)) {
        dst.copy_from_slice(src);
    }
    1 + n
}

macro_rules! shell {
    ($($async:ident)?; $($await:tt)*) => {
        /// An SSI scan engine on a serial port.
        #[derive(Debug)]
        pub struct SsiScanner<T, D, const N: usize = 1024> {
            io: T,
            delay: D,
            host: SsiHost<N>,
            now_ms: u64,
            rx: [u8; 64],
            rx_pos: usize,
            rx_len: usize,
            quiet_ms: u64,
            kept: Option<(u8, usize)>,
            kept_buf: [u8; N],
            out: [u8; N],
        }

        impl<T, D, const N: usize> SsiScanner<T, D, N>
        where
            T: Read + Write + ReadReady,
            D: DelayNs,
        {
            /// A scanner over `io` using `delay` for waits.
            pub fn new(io: T, delay: D, config: HostConfig) -> Self {
                Self {
                    io,
                    delay,
                    host: SsiHost::new(config),
                    now_ms: 0,
                    rx: [0; 64],
                    rx_pos: 0,
                    rx_len: 0,
                    quiet_ms: 0,
                    kept: None,
                    kept_buf: [0; N],
                    out: [0; N],
                }
            }

            /// Gives the port and delay back.
            pub fn release(self) -> (T, D) {
                (self.io, self.delay)
            }

            /// Milliseconds counted by this driver's waits.
            pub fn now_ms(&self) -> u64 {
                self.now_ms
            }

            $($async)? fn write_all(&mut self, len: usize, wake: Option<u64>) -> Result<(), Error<T::Error>> {
                let bytes = self.out.get(..len).unwrap_or(&[]);
                let (first, rest) = match (wake, bytes.split_first()) {
                    (Some(_), Some((w, rest))) => (core::slice::from_ref(w), rest),
                    _ => (&[][..], bytes),
                };
                if !first.is_empty() {
                    self.io.write_all(first)$($await)*.map_err(Error::Write)?;
                    self.io.flush()$($await)*.map_err(Error::Write)?;
                    let ms = wake.unwrap_or(0);
                    self.delay.delay_ms(ms as u32)$($await)*;
                    self.now_ms += ms;
                }
                self.io.write_all(rest)$($await)*.map_err(Error::Write)?;
                self.io.flush()$($await)*.map_err(Error::Write)
            }

            /// Reads what is available (or waits 1 ms) and lets the host handle it. Returns a
            /// command result when one ended; scans are kept.
            $($async)? fn step(&mut self) -> Result<Option<Result<(), CommandError>>, Error<T::Error>> {
                if self.rx_pos == self.rx_len {
                    if self.io.read_ready().map_err(Error::Read)? {
                        self.rx_len = self.io.read(&mut self.rx)$($await)*.map_err(Error::Read)?;
                        self.rx_pos = 0;
                        self.quiet_ms = 0;
                    } else {
                        self.delay.delay_ms(1)$($await)*;
                        self.now_ms += 1;
                        self.quiet_ms += 1;
                        if self.quiet_ms == self.host.config().idle_flush_ms && self.host.pending_bytes() > 0 {
                            // A partial packet after a quiet gap will never complete (a garbage
                            // byte read as a length): let the decoder look past it.
                            self.host.idle();
                        }
                        // Packets already buffered (several from one read, or found by the
                        // idle flush) come before the ACK deadline.
                        if let Some(done) = self.process()$($await)*? {
                            return Ok(Some(done));
                        }
                        if let Some(out) = self.host.poll(self.now_ms) {
                            if let Some(HostEvent::CommandDone(r)) = out.event {
                                return Ok(Some(r));
                            }
                            let mut len = 0;
                            if let Some((send, dst)) = out.send.and_then(|s| Some((s, self.out.get_mut(..s.len())?))) {
                                dst.copy_from_slice(send);
                                len = send.len();
                            }
                            if len > 0 {
                                let wake = self.host.wake_delay_ms();
                                self.write_all(len, wake)$($await)*?;
                            }
                        }
                        return Ok(None);
                    }
                }
                self.process()$($await)*
            }

            /// Lets the host handle buffered bytes (possibly none); sends what it answers.
            $($async)? fn process(&mut self) -> Result<Option<Result<(), CommandError>>, Error<T::Error>> {
                // Handle every event the host has (the decoder may hold several packets from
                // one read); stop at a command result, the rest waits for the next call.
                loop {
                    let mut input = self.rx.get(self.rx_pos..self.rx_len).unwrap_or(&[]);
                    let before = input.len();
                    let mut done = None;
                    let mut to_send = 0;
                    let Some(out) = self.host.receive(&mut input, self.now_ms) else {
                        self.rx_pos = self.rx_len;
                        return Ok(None);
                    };
                    if let Some((send, dst)) = out.send.and_then(|s| Some((s, self.out.get_mut(..s.len())?))) {
                        dst.copy_from_slice(send);
                        to_send = send.len();
                    }
                    match out.event {
                        Some(HostEvent::CommandDone(r)) => done = Some(r),
                        Some(HostEvent::Scan(s)) => {
                            if let Some(dst) = self.kept_buf.get_mut(..s.data.len()) {
                                dst.copy_from_slice(s.data);
                                self.kept = Some((s.code_type, s.data.len()));
                            }
                        }
                        _ => {}
                    }
                    self.rx_pos += before - input.len();
                    if to_send > 0 {
                        self.write_all(to_send, None)$($await)*?;
                    }
                    if done.is_some() {
                        return Ok(done);
                    }
                }
            }

            /// Sends a command and waits for its ACK (resending as configured).
            ///
            /// # Errors
            /// [`Error::Command`] for a NAK or no ACK; [`Error::Read`]/[`Error::Write`].
            pub $($async)? fn command(&mut self, opcode: Opcode, payload: &[u8]) -> Result<(), Error<T::Error>> {
                self.command_with_status(opcode, 0, payload)$($await)*
            }

            /// As [`Self::command`] with status bits (e.g. [`ssi::STATUS_PERMANENT`]).
            ///
            /// # Errors
            /// As [`Self::command`].
            pub $($async)? fn command_with_status(&mut self, opcode: Opcode, status: u8, payload: &[u8]) -> Result<(), Error<T::Error>> {
                let wake = self.host.wake_delay_ms();
                let len = {
                    let bytes = self.host.command_with_status(opcode, status, payload, self.now_ms)
                        .map_err(|_| Error::Command(CommandError::Timeout { attempts: 0 }))?;
                    let dst = self.out.get_mut(..bytes.len()).ok_or(Error::Command(CommandError::Timeout { attempts: 0 }))?;
                    dst.copy_from_slice(bytes);
                    bytes.len()
                };
                self.write_all(len, wake)$($await)*?;
                loop {
                    if let Some(result) = self.step()$($await)*? {
                        return result.map_err(Error::Command);
                    }
                }
            }

            /// Starts a decode session (START_SESSION).
            ///
            /// # Errors
            /// As [`Self::command`].
            pub $($async)? fn trigger(&mut self) -> Result<(), Error<T::Error>> {
                self.command(Opcode::StartSession, &[])$($await)*
            }

            /// Ends a decode session (STOP_SESSION).
            ///
            /// # Errors
            /// As [`Self::command`].
            pub $($async)? fn stop(&mut self) -> Result<(), Error<T::Error>> {
                self.command(Opcode::StopSession, &[])$($await)*
            }

            /// Stores a provisioning profile permanently (PARAM_SEND, status bit 3).
            ///
            /// # Errors
            /// As [`Self::command`].
            pub $($async)? fn provision(&mut self, profile: &Profile<'_>) -> Result<(), Error<T::Error>> {
                let mut payload = [0u8; ssi::MAX_PAYLOAD];
                let n = param_payload(profile, &mut payload);
                self.command_with_status(Opcode::ParamSend, ssi::STATUS_PERMANENT, payload.get(..n).unwrap_or(&[]))$($await)*
            }

            /// Waits up to `timeout_ms` for the next new scan (ACKed, duplicates hidden);
            /// `Ok(None)` on timeout.
            ///
            /// # Errors
            /// [`Error::Read`]/[`Error::Write`].
            pub $($async)? fn next_scan(&mut self, timeout_ms: u64) -> Result<Option<Scan<'_>>, Error<T::Error>> {
                let until = self.now_ms.saturating_add(timeout_ms);
                while self.kept.is_none() && self.now_ms < until {
                    let _ = self.step()$($await)*?;
                }
                Ok(self.kept.take().map(|(code_type, len)| {
                    Scan::from_decode(Some(code_type), self.kept_buf.get(..len).unwrap_or(&[]))
                }))
            }
        }
    };
}

macro_rules! raw_shell {
    ($($async:ident)?; $($await:tt)*) => {
        /// An engine in raw ("serial keyboard") mode: lines framed by a [`LineFramer`],
        /// repeats within the de-duplication window hidden, overflowed lines dropped.
        #[derive(Debug)]
        pub struct RawScanner<T, D, const N: usize = 1024> {
            io: T,
            delay: D,
            framer: LineFramer<N>,
            dedup: Dedup,
            dedup_window_ms: u64,
            now_ms: u64,
            rx: [u8; 64],
            rx_pos: usize,
            rx_len: usize,
            kept_buf: [u8; N],
        }

        impl<T, D, const N: usize> RawScanner<T, D, N>
        where
            T: Read + ReadReady,
            D: DelayNs,
        {
            /// A raw-mode scanner; `dedup_window_ms` hides a repeat of the same data (0: none).
            pub fn new(io: T, delay: D, framing: FramerConfig, dedup_window_ms: u64) -> Self {
                Self {
                    io,
                    delay,
                    framer: LineFramer::new(framing),
                    dedup: Dedup::default(),
                    dedup_window_ms,
                    now_ms: 0,
                    rx: [0; 64],
                    rx_pos: 0,
                    rx_len: 0,
                    kept_buf: [0; N],
                }
            }

            /// Gives the port and delay back.
            pub fn release(self) -> (T, D) {
                (self.io, self.delay)
            }

            /// Milliseconds counted by this driver's waits.
            pub fn now_ms(&self) -> u64 {
                self.now_ms
            }

            /// Lines dropped or cut so far ([`FramerStats`](crate::framer::FramerStats)).
            pub fn framer_stats(&self) -> crate::framer::FramerStats {
                self.framer.stats()
            }

            /// Keeps a framed line if it is a new scan; returns its length.
            fn keep(&mut self, data_len: usize, end: LineEnd) -> Option<usize> {
                if end == LineEnd::Overflow {
                    return None;
                }
                let data = self.kept_buf.get(..data_len)?;
                (!self.dedup.is_repeat(data, self.now_ms, self.dedup_window_ms)).then_some(data_len)
            }

            /// Waits up to `timeout_ms` for the next new scan; `Ok(None)` on timeout.
            ///
            /// # Errors
            /// [`Error::Read`].
            pub $($async)? fn next_scan(&mut self, timeout_ms: u64) -> Result<Option<Scan<'_>>, Error<T::Error>> {
                let until = self.now_ms.saturating_add(timeout_ms);
                loop {
                    // Lines still in the read buffer first.
                    let mut input = self.rx.get(self.rx_pos..self.rx_len).unwrap_or(&[]);
                    let before = input.len();
                    let mut found = None;
                    if let Some(line) = self.framer.feed(&mut input, self.now_ms) {
                        if let Some(dst) = self.kept_buf.get_mut(..line.data.len()) {
                            dst.copy_from_slice(line.data);
                            found = Some((line.data.len(), line.end));
                        }
                    }
                    self.rx_pos += before - input.len();
                    if let Some((len, end)) = found {
                        if let Some(len) = self.keep(len, end) {
                            return Ok(Some(Scan::from_decode(None, self.kept_buf.get(..len).unwrap_or(&[]))));
                        }
                        continue;
                    }
                    if self.io.read_ready().map_err(Error::Read)? {
                        self.rx_len = self.io.read(&mut self.rx)$($await)*.map_err(Error::Read)?;
                        self.rx_pos = 0;
                        continue;
                    }
                    let mut gap = None;
                    if let Some(line) = self.framer.poll(self.now_ms) {
                        if let Some(dst) = self.kept_buf.get_mut(..line.data.len()) {
                            dst.copy_from_slice(line.data);
                            gap = Some((line.data.len(), line.end));
                        }
                    }
                    if let Some(len) = gap.and_then(|(len, end)| self.keep(len, end)) {
                        return Ok(Some(Scan::from_decode(None, self.kept_buf.get(..len).unwrap_or(&[]))));
                    }
                    if self.now_ms >= until {
                        return Ok(None);
                    }
                    self.delay.delay_ms(1)$($await)*;
                    self.now_ms += 1;
                }
            }
        }
    };
}

macro_rules! grow_shell {
    ($($async:ident)?; $($await:tt)*) => {
        /// A Grow 7E-00 module (GM65/GM66 and rebrands) on a serial port, in command-triggered mode.
        ///
        /// There is no `stop`: the manual documents no command that ends a read; a read started by
        /// [`trigger`](Self::trigger) ends by itself after the single-read timeout (zone bit
        /// 0x0006, §5.2).
        #[derive(Debug)]
        pub struct GrowScanner<T, D, const N: usize = 1024> {
            io: T,
            delay: D,
            host: GrowHost<N>,
            now_ms: u64,
            rx: [u8; 64],
            rx_pos: usize,
            rx_len: usize,
            kept: Option<usize>,
            kept_buf: [u8; N],
            resp: [u8; 255],
            out: [u8; grow::MAX_COMMAND],
        }

        impl<T, D, const N: usize> GrowScanner<T, D, N>
        where
            T: Read + Write + ReadReady,
            D: DelayNs,
        {
            /// A scanner over `io` using `delay` for waits.
            pub fn new(io: T, delay: D, config: GrowConfig) -> Self {
                Self {
                    io,
                    delay,
                    host: GrowHost::new(config),
                    now_ms: 0,
                    rx: [0; 64],
                    rx_pos: 0,
                    rx_len: 0,
                    kept: None,
                    kept_buf: [0; N],
                    resp: [0; 255],
                    out: [0; grow::MAX_COMMAND],
                }
            }

            /// Gives the port and delay back.
            pub fn release(self) -> (T, D) {
                (self.io, self.delay)
            }

            /// Milliseconds counted by this driver's waits.
            pub fn now_ms(&self) -> u64 {
                self.now_ms
            }

            $($async)? fn send(&mut self, len: usize) -> Result<(), Error<T::Error>> {
                let bytes = self.out.get(..len).unwrap_or(&[]);
                self.io.write_all(bytes)$($await)*.map_err(Error::Write)?;
                self.io.flush()$($await)*.map_err(Error::Write)
            }

            /// Reads what is available (or waits 1 ms and polls the host).
            $($async)? fn step(&mut self) -> Result<Option<Result<usize, GrowCommandError>>, Error<T::Error>> {
                if self.rx_pos == self.rx_len {
                    if self.io.read_ready().map_err(Error::Read)? {
                        self.rx_len = self.io.read(&mut self.rx)$($await)*.map_err(Error::Read)?;
                        self.rx_pos = 0;
                    } else {
                        self.delay.delay_ms(1)$($await)*;
                        self.now_ms += 1;
                        let ev = self.host.poll(self.now_ms);
                        // Copy out of the host before any I/O.
                        let ev = copy_event(ev, &mut self.resp, &mut self.kept_buf, &mut self.kept, &mut self.out);
                        return self.finish(ev)$($await)*;
                    }
                }
                let mut input = self.rx.get(self.rx_pos..self.rx_len).unwrap_or(&[]);
                let before = input.len();
                let ev = self.host.receive(&mut input, self.now_ms);
                let used = before - input.len();
                let ev = copy_event(ev, &mut self.resp, &mut self.kept_buf, &mut self.kept, &mut self.out);
                self.rx_pos += used;
                if ev.is_none() {
                    self.rx_pos = self.rx_len;
                }
                self.finish(ev)$($await)*
            }

            $($async)? fn finish(&mut self, ev: Option<Copied>) -> Result<Option<Result<usize, GrowCommandError>>, Error<T::Error>> {
                match ev {
                    Some(Copied::Done(r)) => Ok(Some(r)),
                    Some(Copied::Resend(n)) => {
                        self.send(n)$($await)*?;
                        Ok(None)
                    }
                    Some(Copied::Kept) | None => Ok(None),
                }
            }

            /// Sends a command and waits for its response (sending it again on timeout as
            /// configured); returns the response data length, the data is in [`Self::response`].
            ///
            /// # Errors
            /// [`Error::Grow`] for an error status or no response; [`Error::Read`]/[`Error::Write`].
            pub $($async)? fn command(&mut self, command: &Command<'_>) -> Result<usize, Error<T::Error>> {
                let len = {
                    let bytes = self.host.command(command, self.now_ms)
                        .map_err(|_| Error::Grow(GrowCommandError::Timeout { attempts: 0 }))?;
                    let dst = self.out.get_mut(..bytes.len()).ok_or(Error::Grow(GrowCommandError::Timeout { attempts: 0 }))?;
                    dst.copy_from_slice(bytes);
                    bytes.len()
                };
                self.send(len)$($await)*?;
                loop {
                    if let Some(result) = self.step()$($await)*? {
                        return result.map_err(Error::Grow);
                    }
                }
            }

            /// The data of the last successful response.
            pub fn response(&self, len: usize) -> &[u8] {
                self.resp.get(..len).unwrap_or(&[])
            }

            /// Reads one zone-bit byte (type 07, §5.1).
            ///
            /// # Errors
            /// As [`Self::command`]; [`Error::Grow`] with status 0 if the response has no data.
            pub $($async)? fn read_register(&mut self, address: u16) -> Result<u8, Error<T::Error>> {
                let n = self.command(&Command::read(address, &1))$($await)*?;
                self.response(n).first().copied().ok_or(Error::Grow(GrowCommandError::Status(0)))
            }

            /// Writes zone-bit bytes from `address` upward (type 08, §5.1).
            ///
            /// # Errors
            /// As [`Self::command`].
            pub $($async)? fn write_register(&mut self, address: u16, data: &[u8]) -> Result<(), Error<T::Error>> {
                self.command(&Command::write(address, data))$($await)*.map(|_| ())
            }

            /// Starts one read (writes 0x01 to zone bit 0x0002, command mode, §5.2).
            ///
            /// # Errors
            /// As [`Self::command`].
            pub $($async)? fn trigger(&mut self) -> Result<(), Error<T::Error>> {
                self.write_register(GROW_TRIGGER, &[0x01])$($await)*
            }

            /// Applies a profile: read-modify-write of each entry, then save to EEPROM (type 09)
            /// if the profile says so.
            ///
            /// # Errors
            /// As [`Self::command`].
            pub $($async)? fn provision(&mut self, profile: &GrowProfile<'_>) -> Result<(), Error<T::Error>> {
                for z in profile.zones {
                    let old = self.read_register(z.address)$($await)*?;
                    let new = (old & !z.mask) | (z.value & z.mask);
                    if new != old {
                        self.write_register(z.address, &[new])$($await)*?;
                    }
                }
                if profile.save {
                    self.command(&Command::save())$($await)*?;
                }
                Ok(())
            }

            /// Waits up to `timeout_ms` for the next new scan; `Ok(None)` on timeout.
            ///
            /// # Errors
            /// [`Error::Read`]/[`Error::Write`].
            pub $($async)? fn next_scan(&mut self, timeout_ms: u64) -> Result<Option<Scan<'_>>, Error<T::Error>> {
                let until = self.now_ms.saturating_add(timeout_ms);
                while self.kept.is_none() && self.now_ms < until {
                    let _ = self.step()$($await)*?;
                }
                Ok(self.kept.take().map(|len| Scan::from_decode(None, self.kept_buf.get(..len).unwrap_or(&[]))))
            }
        }
    };
}

/// A host event copied out of the host, so the driver may do I/O afterwards.
enum Copied {
    Done(Result<usize, GrowCommandError>),
    Kept,
    Resend(usize),
}

fn copy_event(
    ev: Option<GrowEvent<'_>>,
    resp: &mut [u8; 255],
    kept_buf: &mut [u8],
    kept: &mut Option<usize>,
    out: &mut [u8; grow::MAX_COMMAND],
) -> Option<Copied> {
    match ev? {
        GrowEvent::Response(Ok(data)) => {
            let n = data.len().min(resp.len());
            if let (Some(dst), Some(src)) = (resp.get_mut(..n), data.get(..n)) {
                dst.copy_from_slice(src);
            }
            Some(Copied::Done(Ok(n)))
        }
        GrowEvent::Response(Err(e)) => Some(Copied::Done(Err(e))),
        GrowEvent::Scan(data) => {
            if let Some(dst) = kept_buf.get_mut(..data.len()) {
                dst.copy_from_slice(data);
                *kept = Some(data.len());
            }
            Some(Copied::Kept)
        }
        GrowEvent::Resend(bytes) => {
            let dst = out.get_mut(..bytes.len())?;
            dst.copy_from_slice(bytes);
            Some(Copied::Resend(bytes.len()))
        }
    }
}

macro_rules! menu_shell {
    ($($async:ident)?; $($await:tt)*) => {
        /// A Honeywell or Newland engine driven by menu commands ([`MenuHost`], §3, §4).
        ///
        /// A scan that arrives while a command waits for its reply is kept (the latest one) for
        /// the next [`next_scan`](Self::next_scan).
        #[derive(Debug)]
        pub struct MenuScanner<T, D, const N: usize = 1024> {
            io: T,
            delay: D,
            host: MenuHost<N>,
            now_ms: u64,
            rx: [u8; 64],
            rx_pos: usize,
            rx_len: usize,
            kept: Option<usize>,
            kept_buf: [u8; N],
            out: [u8; MAX_MENU_COMMAND],
        }

        impl<T, D, const N: usize> MenuScanner<T, D, N>
        where
            T: Read + Write + ReadReady,
            D: DelayNs,
        {
            /// A scanner over `io` using `delay` for waits.
            pub fn new(io: T, delay: D, config: MenuConfig) -> Self {
                Self {
                    io,
                    delay,
                    host: MenuHost::new(config),
                    now_ms: 0,
                    rx: [0; 64],
                    rx_pos: 0,
                    rx_len: 0,
                    kept: None,
                    kept_buf: [0; N],
                    out: [0; MAX_MENU_COMMAND],
                }
            }

            /// Gives the port and delay back.
            pub fn release(self) -> (T, D) {
                (self.io, self.delay)
            }

            /// Milliseconds counted by this driver's waits.
            pub fn now_ms(&self) -> u64 {
                self.now_ms
            }

            $($async)? fn send(&mut self, len: usize) -> Result<(), Error<T::Error>> {
                let bytes = self.out.get(..len).unwrap_or(&[]);
                self.io.write_all(bytes)$($await)*.map_err(Error::Write)?;
                self.io.flush()$($await)*.map_err(Error::Write)
            }

            /// Reads what is available (or waits 1 ms and polls the host); a finished command.
            $($async)? fn step(&mut self) -> Result<Option<Result<(), MenuCommandError>>, Error<T::Error>> {
                if self.rx_pos == self.rx_len {
                    if self.io.read_ready().map_err(Error::Read)? {
                        self.rx_len = self.io.read(&mut self.rx)$($await)*.map_err(Error::Read)?;
                        self.rx_pos = 0;
                    } else {
                        self.delay.delay_ms(1)$($await)*;
                        self.now_ms += 1;
                        let ev = self.host.poll(self.now_ms);
                        return Ok(keep_menu_event(ev, &mut self.kept_buf, &mut self.kept));
                    }
                }
                let mut input = self.rx.get(self.rx_pos..self.rx_len).unwrap_or(&[]);
                let before = input.len();
                let ev = self.host.receive(&mut input, self.now_ms);
                let used = before - input.len();
                let done = ev.is_none();
                let r = keep_menu_event(ev, &mut self.kept_buf, &mut self.kept);
                self.rx_pos = if done { self.rx_len } else { self.rx_pos + used };
                Ok(r)
            }

            /// Sends bytes the host put in flight and waits for the reply.
            $($async)? fn run(&mut self, len: usize) -> Result<(), Error<T::Error>> {
                self.send(len)$($await)*?;
                while self.host.in_flight() {
                    if let Some(result) = self.step()$($await)*? {
                        return result.map_err(Error::Menu);
                    }
                }
                Ok(())
            }

            /// Sends one menu command body and waits for an all-`ACK` reply.
            ///
            /// # Errors
            /// [`Error::Menu`] for `ENQ`/`NAK`/timeout; [`Error::MenuHost`]; [`Error::Read`]/[`Error::Write`].
            pub $($async)? fn command(&mut self, body: &[u8]) -> Result<(), Error<T::Error>> {
                let len = stage_menu(&mut self.out, self.host.command(body, self.now_ms)).map_err(Error::MenuHost)?;
                self.run(len)$($await)*
            }

            /// Sends each command of `profile` in order (e.g.
            /// [`NEWLAND_UCS_PROFILE`](crate::menu_host::NEWLAND_UCS_PROFILE)), stopping at the
            /// first one not acknowledged.
            ///
            /// # Errors
            /// As [`Self::command`].
            pub $($async)? fn provision(&mut self, profile: &[&[u8]]) -> Result<(), Error<T::Error>> {
                for body in profile {
                    self.command(body)$($await)*?;
                }
                Ok(())
            }

            /// Starts a read: Honeywell `SYN T CR`, Newland UCS `#SCNTRG1` (§3, §4).
            ///
            /// # Errors
            /// As [`Self::command`]; [`Error::MenuHost`] `Unsupported` on legacy Newland.
            pub $($async)? fn trigger(&mut self) -> Result<(), Error<T::Error>> {
                let len = stage_menu(&mut self.out, self.host.trigger(true, self.now_ms)).map_err(Error::MenuHost)?;
                self.run(len)$($await)*
            }

            /// Stops a read: Honeywell `SYN U CR`, Newland UCS `#SCNTRG0` (§3, §4).
            ///
            /// # Errors
            /// As [`Self::trigger`].
            pub $($async)? fn stop(&mut self) -> Result<(), Error<T::Error>> {
                let len = stage_menu(&mut self.out, self.host.trigger(false, self.now_ms)).map_err(Error::MenuHost)?;
                self.run(len)$($await)*
            }

            /// Waits up to `timeout_ms` for the next scan; `Ok(None)` on timeout.
            ///
            /// # Errors
            /// [`Error::Read`]/[`Error::Write`].
            pub $($async)? fn next_scan(&mut self, timeout_ms: u64) -> Result<Option<Scan<'_>>, Error<T::Error>> {
                let until = self.now_ms.saturating_add(timeout_ms);
                while self.kept.is_none() && self.now_ms < until {
                    let _ = self.step()$($await)*?;
                }
                Ok(self.kept.take().map(|len| Scan::from_decode(None, self.kept_buf.get(..len).unwrap_or(&[]))))
            }
        }
    };
}

/// Copies the bytes a menu host wants sent into `out`; their length.
fn stage_menu(out: &mut [u8], bytes: Result<&[u8], MenuHostError>) -> Result<usize, MenuHostError> {
    let bytes = bytes?;
    out.get_mut(..bytes.len()).ok_or(MenuHostError::TooLong)?.copy_from_slice(bytes);
    Ok(bytes.len())
}

/// Keeps a scan out of a menu host event; the result of a finished command.
fn keep_menu_event(
    ev: Option<MenuEvent<'_>>,
    kept_buf: &mut [u8],
    kept: &mut Option<usize>,
) -> Option<Result<(), MenuCommandError>> {
    match ev? {
        MenuEvent::Reply(r) => Some(r.map(|_| ())),
        MenuEvent::Scan(data) => {
            if let Some(dst) = kept_buf.get_mut(..data.len()) {
                dst.copy_from_slice(data);
                *kept = Some(data.len());
            }
            None
        }
    }
}

/// Blocking shell over `embedded_io::{Read, Write, ReadReady}` and `embedded_hal::delay::DelayNs`.
pub mod blocking {
    use super::{Error, Profile, Scan, param_payload};
    use crate::framer::{FramerConfig, LineEnd, LineFramer};
    use crate::host::{CommandError, Dedup, HostConfig, HostEvent, SsiHost};
    use crate::ssi::{self, Opcode};
    use embedded_hal::delay::DelayNs;
    use embedded_io::{Read, ReadReady, Write};

    use super::{Copied, GROW_TRIGGER, GrowProfile, copy_event};
    use crate::grow::{self, Command};
    use crate::grow_host::{GrowCommandError, GrowConfig, GrowHost};

    use super::{MAX_MENU_COMMAND, keep_menu_event, stage_menu};
    use crate::menu_host::{MenuCommandError, MenuConfig, MenuHost};

    shell!(;);
    raw_shell!(;);
    grow_shell!(;);
    menu_shell!(;);
}

/// Async shell over `embedded_io_async::{Read, Write}` (+ `embedded_io::ReadReady`) and
/// `embedded_hal_async::delay::DelayNs`; the same methods as [`blocking`].
///
/// # Cancel safety
/// Dropping a future of this shell between polls loses nothing the host has not handled, but a
/// command cut while waiting for its ACK stays in flight inside the host until its retries run
/// out on later calls; do not cancel commands.
#[cfg(feature = "async")]
pub mod asynch {
    use super::{Error, Profile, Scan, param_payload};
    use crate::framer::{FramerConfig, LineEnd, LineFramer};
    use crate::host::{CommandError, Dedup, HostConfig, HostEvent, SsiHost};
    use crate::ssi::{self, Opcode};
    use embedded_hal_async::delay::DelayNs;
    use embedded_io::ReadReady;
    use embedded_io_async::{Read, Write};

    use super::{Copied, GROW_TRIGGER, GrowProfile, copy_event};
    use crate::grow::{self, Command};
    use crate::grow_host::{GrowCommandError, GrowConfig, GrowHost};

    use super::{MAX_MENU_COMMAND, keep_menu_event, stage_menu};
    use crate::menu_host::{MenuCommandError, MenuConfig, MenuHost};

    shell!(async; .await);
    raw_shell!(async; .await);
    grow_shell!(async; .await);
    menu_shell!(async; .await);
}
