//! Thin blocking and async shells over the sans-io [`SsiHost`](crate::host::SsiHost) (trigger
//! or continuously scan an SSI engine) and over the raw-mode [`LineFramer`](crate::framer::LineFramer)
//! (`RawScanner`, for engines left in their factory "serial keyboard" mode); both yield [`Scan`]s.
//!
//! Both shells have the same methods: [`command`](blocking::SsiScanner::command),
//! [`trigger`](blocking::SsiScanner::trigger), [`stop`](blocking::SsiScanner::stop),
//! [`provision`](blocking::SsiScanner::provision) and
//! [`next_scan`](blocking::SsiScanner::next_scan). They poll `ReadReady` and wait 1 ms between
//! polls with a `DelayNs`; their clock counts those waits (time spent inside `read`/`write` is
//! not counted, so timeouts are lower bounds). A scan that arrives while a command waits for
//! its ACK is acknowledged at once and kept (the latest one) for the next `next_scan`.

use crate::aim::{self, SymbologyId};
use crate::host::CommandError;
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
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Read(e) => write!(f, "read failed: {e:?}"),
            Self::Write(e) => write!(f, "write failed: {e:?}"),
            Self::Command(e) => write!(f, "{e}"),
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

/// Blocking shell over `embedded_io::{Read, Write, ReadReady}` and `embedded_hal::delay::DelayNs`.
pub mod blocking {
    use super::{Error, Profile, Scan, param_payload};
    use crate::framer::{FramerConfig, LineEnd, LineFramer};
    use crate::host::{CommandError, Dedup, HostConfig, HostEvent, SsiHost};
    use crate::ssi::{self, Opcode};
    use embedded_hal::delay::DelayNs;
    use embedded_io::{Read, ReadReady, Write};

    shell!(;);
    raw_shell!(;);
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

    shell!(async; .await);
    raw_shell!(async; .await);
}
