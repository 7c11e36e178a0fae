//! Sans-io host for the Grow "7E 00" protocol (GM65/GM66 and rebrands, reference/scanner.md §5):
//! one command in flight, zone-bit (register) reads and writes, a response timeout, resync.
//!
//! The host never does I/O: give it received bytes and `now_ms`, send what it returns, and call
//! [`GrowHost::poll`] at [`GrowHost::deadline`]. While a command is in flight, received bytes go
//! to the response decoder ([`ResponseDecoder`], one-byte resync after garbage or a bad CRC).
//! A module answers a bad command with silence (§5.1), so the only NAK is the timeout: a
//! command without a response within `response_timeout_ms` is sent again up to `retries` times,
//! then ends with [`GrowCommandError::Timeout`]. A response with a non-zero type byte ends it with
//! [`GrowCommandError::Status`].
//!
//! With no command in flight, received bytes are decoded scan output: in command-triggered mode
//! the module prints the data in its raw output format (`[Prefix][CodeID][Data][Suffix][Tail]`,
//! §5.2 "Output order"), so they go through a [`LineFramer`] configured for the tail the
//! provisioning profile sets (CR by default), and identical data within `dedup_window_ms` is
//! reported once (§11 item 6). While a command is in flight, a byte that cannot start a
//! response (anything but 0x02 with no response partly received) is taken as scan output that
//! came first and goes to the framer; bytes of a broken response are dropped by the decoder's
//! resync and counted in [`GrowHost::stats`]. (Scan data containing 0x02 that arrives exactly
//! while a command is in flight can therefore be lost; send commands between reads.)
//!
//! ```
//! use scanner::grow::Command;
//! use scanner::grow_host::{GrowConfig, GrowEvent, GrowHost};
//!
//! let mut host = GrowHost::<256>::new(GrowConfig::default());
//! // Read zone bit 0x000A (manual example, §5.1).
//! let sent = host.command(&Command::read(0x000A, &1), 0).unwrap().to_vec();
//! assert_eq!(sent, [0x7E, 0x00, 0x07, 0x01, 0x00, 0x0A, 0x01, 0xEE, 0x8A]);
//! let mut rx: &[u8] = &[0x02, 0x00, 0x00, 0x01, 0x3E, 0xE4, 0xAC, b'4', b'2', b'\r'];
//! assert_eq!(host.receive(&mut rx, 3), Some(GrowEvent::Response(Ok(&[0x3E][..]))));
//! // The command is done: what follows is a scan (tail CR).
//! assert_eq!(host.receive(&mut rx, 4), Some(GrowEvent::Scan(&b"42"[..])));
//! ```

use crate::framer::{FramerConfig, LineEnd, LineFramer, Terminator};
use crate::grow::{self, Command, CrcMode, ResponseDecoder};
use crate::host::Dedup;
use crate::stream::{Event, Stats};

/// Host settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrowConfig {
    /// How long to wait for a response before sending the command again. The manual gives no
    /// figure; the default (500 ms) is above the module's own 400 ms discard gap (§5.1).
    pub response_timeout_ms: u64,
    /// How many times a command is sent again after a timeout.
    pub retries: u8,
    /// `AB CD` ("do not check", §5.1) or a real CRC-16/XMODEM in commands.
    pub crc: CrcMode,
    /// Framing of scan output (the tail set in zone bits 0x0060, §5.2).
    pub framing: FramerConfig,
    /// Hide a scan identical to the previous one within this many ms (0: only never).
    pub dedup_window_ms: u64,
}

impl Default for GrowConfig {
    fn default() -> Self {
        Self {
            response_timeout_ms: 500,
            retries: 2,
            crc: CrcMode::Crc,
            framing: FramerConfig::new(Terminator::Cr),
            dedup_window_ms: 0,
        }
    }
}

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrowCommandError {
    /// No response after all attempts: a bad command, wrong baud rate, or no module (§5.1, §11 item 3).
    #[error("no response after {attempts} attempt(s)")]
    Timeout {
        /// Attempts made.
        attempts: u8,
    },
    /// The module answered with a non-zero type byte (`00` = success, §5.1).
    #[error("module answered with status {0:#04x}")]
    Status(u8),
}

/// A command could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrowHostError {
    /// Wait for the response of the command in flight first.
    #[error("a command is in flight")]
    Busy,
    /// The command does not fit one frame.
    #[error("command too long for one frame")]
    TooLong,
}

/// What the host found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrowEvent<'a> {
    /// The command in flight ended: the response data, or why it failed.
    Response(Result<&'a [u8], GrowCommandError>),
    /// New scan output (framed, de-duplicated), prefix/suffix as the module sent them.
    Scan(&'a [u8]),
    /// A command got no response in time and must be sent again: send these bytes.
    Resend(&'a [u8]),
}

/// The sans-io Grow host; `N` bounds one line of scan output.
#[derive(Debug)]
pub struct GrowHost<const N: usize = 1024> {
    config: GrowConfig,
    decoder: ResponseDecoder,
    framer: LineFramer<N>,
    dedup: Dedup,
    out: [u8; grow::MAX_COMMAND],
    out_len: usize,
    in_flight: bool,
    deadline: u64,
    attempts: u8,
    resp: [u8; 255],
    scan: [u8; N],
}

impl<const N: usize> GrowHost<N> {
    /// A host with `config`.
    pub fn new(config: GrowConfig) -> Self {
        Self {
            config,
            decoder: ResponseDecoder::new(),
            framer: LineFramer::new(config.framing),
            dedup: Dedup::default(),
            out: [0; grow::MAX_COMMAND],
            out_len: 0,
            in_flight: false,
            deadline: 0,
            attempts: 0,
            resp: [0; 255],
            scan: [0; N],
        }
    }

    /// The settings.
    pub fn config(&self) -> &GrowConfig {
        &self.config
    }

    /// Whether a command waits for its response.
    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// The response decoder's counters (bytes dropped by resync, frames found).
    pub fn stats(&self) -> Stats {
        self.decoder.stats()
    }

    /// Encodes `command`, puts it in flight and returns the bytes to send.
    ///
    /// # Errors
    /// [`GrowHostError::Busy`] while another command is in flight; [`GrowHostError::TooLong`].
    pub fn command(&mut self, command: &Command<'_>, now_ms: u64) -> Result<&[u8], GrowHostError> {
        if self.in_flight {
            return Err(GrowHostError::Busy);
        }
        let n = grow::encode_command(command, self.config.crc, &mut self.out).map_err(|_| GrowHostError::TooLong)?;
        self.out_len = n;
        self.in_flight = true;
        self.attempts = 1;
        self.deadline = now_ms.saturating_add(self.config.response_timeout_ms);
        // A response starts clean: drop leftovers of an earlier, abandoned one.
        self.decoder.clear();
        Ok(self.out.get(..n).unwrap_or(&[]))
    }

    /// When [`Self::poll`] must be called next (a response deadline or a raw-framing idle gap).
    pub fn deadline(&self) -> Option<u64> {
        if self.in_flight { Some(self.deadline) } else { self.framer.deadline() }
    }

    /// Handles time: a resend or a timeout of the command in flight, or a scan line ended by
    /// an idle gap.
    pub fn poll(&mut self, now_ms: u64) -> Option<GrowEvent<'_>> {
        if self.in_flight {
            if now_ms < self.deadline {
                return None;
            }
            if self.attempts > self.config.retries {
                self.in_flight = false;
                return Some(GrowEvent::Response(Err(GrowCommandError::Timeout { attempts: self.attempts })));
            }
            self.attempts += 1;
            self.deadline = now_ms.saturating_add(self.config.response_timeout_ms);
            self.decoder.clear();
            return Some(GrowEvent::Resend(self.out.get(..self.out_len).unwrap_or(&[])));
        }
        let line = self.framer.poll(now_ms)?;
        let n = Self::keep(&mut self.dedup, self.config.dedup_window_ms, &mut self.scan, line.data, line.end, now_ms)?;
        Some(GrowEvent::Scan(self.scan.get(..n).unwrap_or(&[])))
    }

    /// Copies a framed line into `buf` if it is a new, whole, non-empty scan; returns its length.
    fn keep(
        dedup: &mut Dedup,
        window: u64,
        buf: &mut [u8; N],
        data: &[u8],
        end: LineEnd,
        now_ms: u64,
    ) -> Option<usize> {
        if end == LineEnd::Overflow || data.is_empty() || dedup.is_repeat(data, now_ms, window) {
            return None;
        }
        let dst = buf.get_mut(..data.len())?;
        dst.copy_from_slice(data);
        Some(data.len())
    }

    /// Consumes bytes from the front of `input` until an event occurs and returns it; `None`
    /// when `input` is used up. Call again with the rest of `input` until it returns `None`.
    pub fn receive<'s>(&'s mut self, input: &mut &[u8], now_ms: u64) -> Option<GrowEvent<'s>> {
        if self.in_flight {
            // Byte by byte, so that nothing after the response is swallowed by the decoder.
            // A byte that cannot start a response (not 0x02) while no response is partly
            // received is scan output that arrived first: it goes to the line framer.
            while self.in_flight {
                let (&b, rest) = input.split_first()?;
                if self.decoder.pending() == 0 && b != grow::RESPONSE_HEAD[0] {
                    let mut one: &[u8] = core::slice::from_ref(&b);
                    *input = rest;
                    if let Some(line) = self.framer.feed(&mut one, now_ms) {
                        let (data, end) = (line.data, line.end);
                        if let Some(n) =
                            Self::keep(&mut self.dedup, self.config.dedup_window_ms, &mut self.scan, data, end, now_ms)
                        {
                            return Some(GrowEvent::Scan(self.scan.get(..n).unwrap_or(&[])));
                        }
                    }
                    continue;
                }
                let mut one: &[u8] = core::slice::from_ref(&b);
                *input = rest;
                if let Some(Event::Frame { frame, .. }) = self.decoder.feed(&mut one) {
                    self.in_flight = false;
                    if frame.status != 0 {
                        return Some(GrowEvent::Response(Err(GrowCommandError::Status(frame.status))));
                    }
                    let n = frame.data.len().min(self.resp.len());
                    if let (Some(dst), Some(src)) = (self.resp.get_mut(..n), frame.data.get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    return Some(GrowEvent::Response(Ok(self.resp.get(..n).unwrap_or(&[]))));
                }
            }
        }
        loop {
            let line = self.framer.feed(input, now_ms)?;
            if let Some(n) =
                Self::keep(&mut self.dedup, self.config.dedup_window_ms, &mut self.scan, line.data, line.end, now_ms)
            {
                return Some(GrowEvent::Scan(self.scan.get(..n).unwrap_or(&[])));
            }
        }
    }
}
