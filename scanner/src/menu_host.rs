//! Sans-io host for Honeywell and Newland menu commands (reference/scanner.md §3, §4): one
//! command in flight, the reply checked with [`menu::parse_reply`], a response timeout, and
//! scan lines that arrive meanwhile passed to the line framer instead of being lost.
//!
//! The host never does I/O: give it received bytes and `now_ms`, send what it returns, and call
//! [`MenuHost::poll`] at [`MenuHost::deadline`]. How a reply is recognised depends on the engine:
//!
//! * Honeywell (§3): the echo of the command with one status byte per entry (`,` and `;` in the
//!   command separate entries). The reply is complete after as many status bytes as the command
//!   has entries; one storage character (`.` or `!`) right after it is dropped (a Voyager 1602g
//!   sends it, the manual does not). A line end (CR or LF) before the reply is complete means
//!   the bytes so far were a scan: they go to the framer.
//! * Newland UCS (§4 item 2): `STX SOH 0000 … ; ETX`. Bytes while no reply has started that are
//!   not `STX` are scan output and go to the framer.
//! * Newland legacy (§4 item 1): one byte, `ACK` or `NAK`; any other byte goes to the framer.
//!
//! A reply with every entry `ACK` ends the command with `Ok`; the first `ENQ` or `NAK` entry ends
//! it with [`MenuCommandError::Enq`] / [`MenuCommandError::Nak`]; silence until the deadline
//! ends it with [`MenuCommandError::Timeout`] (no resend: the caller decides).
//!
//! ```
//! use scanner::menu::Storage;
//! use scanner::menu_host::{Engine, MenuConfig, MenuEvent, MenuHost};
//!
//! let mut host = MenuHost::<64>::new(MenuConfig::new(Engine::Honeywell));
//! let sent = host.command(b"cbrena1", 0).unwrap().to_vec();
//! assert_eq!(sent, b"\x16M\rcbrena1!");
//! let mut rx: &[u8] = b"CBRENA1\x06!42\r";
//! assert_eq!(host.receive(&mut rx, 3), Some(MenuEvent::Reply(Ok(&b"CBRENA1\x06"[..]))));
//! assert_eq!(host.receive(&mut rx, 4), Some(MenuEvent::Scan(&b"42"[..])));
//! ```

use crate::framer::{FramerConfig, LineEnd, LineFramer, Terminator};
use crate::menu::{self, Status, Storage};

/// Which command syntax the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// Honeywell `SYN M CR` menu commands (§3).
    Honeywell,
    /// Newland Unified Command Set `~ SOH 0000 … ; ETX` (§4 item 2).
    NewlandUcs,
    /// Newland legacy `NLSnnnnnnn` commands answered by one byte (§4 item 1).
    NewlandLegacy,
}

/// Host settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MenuConfig {
    /// The engine's command syntax.
    pub engine: Engine,
    /// How long to wait for a reply. Default 500 ms, the legacy Newland reply time (§4);
    /// the references give no figure for Honeywell or UCS.
    pub response_timeout_ms: u64,
    /// Honeywell storage of settings (`!` RAM or `.` flash, §3). Default RAM: spares flash.
    pub storage: Storage,
    /// Newland UCS storage: `@` permanent (true) or `#` temporary (§4). Default permanent.
    pub permanent: bool,
    /// Framing of scan output (default CR).
    pub framing: FramerConfig,
}

impl MenuConfig {
    /// Defaults for `engine`.
    pub const fn new(engine: Engine) -> Self {
        Self {
            engine,
            response_timeout_ms: menu::NEWLAND_LEGACY_REPLY_MS,
            storage: Storage::Ram,
            permanent: true,
            framing: FramerConfig::new(Terminator::Cr),
        }
    }
}

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MenuCommandError {
    /// `ENQ`: unknown tag or sub-tag (§3, §4).
    #[error("engine answered ENQ (unknown tag/sub-tag) for entry {entry}")]
    Enq {
        /// Index of the first failing entry.
        entry: usize,
    },
    /// `NAK`: value out of range (§3, §4).
    #[error("engine answered NAK (value out of range) for entry {entry}")]
    Nak {
        /// Index of the first failing entry.
        entry: usize,
    },
    /// No complete reply before the deadline.
    #[error("no reply in time")]
    Timeout,
    /// The reply did not fit the host's buffer or had no status.
    #[error("reply garbled or too long")]
    Garbled,
}

/// A command could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MenuHostError {
    /// Wait for the reply of the command in flight first.
    #[error("a command is in flight")]
    Busy,
    /// The command does not fit the host's buffer.
    #[error("command too long")]
    TooLong,
    /// The reference gives no such command for this engine (e.g. a legacy Newland trigger).
    #[error("not supported by this engine")]
    Unsupported,
}

/// What the host found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuEvent<'a> {
    /// The command in flight ended: the reply (echo with status bytes), or why it failed.
    Reply(Result<&'a [u8], MenuCommandError>),
    /// A framed scan line.
    Scan(&'a [u8]),
}

/// Longest command and reply the host holds.
pub const MAX_COMMAND: usize = 128;

/// The sans-io menu-command host; `N` bounds one scan line.
#[derive(Debug)]
pub struct MenuHost<const N: usize = 512> {
    config: MenuConfig,
    framer: LineFramer<N>,
    out: [u8; MAX_COMMAND],
    resp: [u8; MAX_COMMAND],
    resp_len: usize,
    in_flight: bool,
    entries: usize,
    deadline: u64,
    drop_storage: bool,
    scan: [u8; N],
}

impl<const N: usize> MenuHost<N> {
    /// A host with `config`.
    pub fn new(config: MenuConfig) -> Self {
        Self {
            config,
            framer: LineFramer::new(config.framing),
            out: [0; MAX_COMMAND],
            resp: [0; MAX_COMMAND],
            resp_len: 0,
            in_flight: false,
            entries: 0,
            deadline: 0,
            drop_storage: false,
            scan: [0; N],
        }
    }

    /// The settings.
    pub fn config(&self) -> &MenuConfig {
        &self.config
    }

    /// Whether a command waits for its reply.
    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// Encodes a menu command `body` (Honeywell `Tag SubTag Data`, Newland UCS `Tag SubTag Data`
    /// without storage mark, or a whole legacy `NLS…` command), puts it in flight and returns
    /// the bytes to send.
    ///
    /// # Errors
    /// [`MenuHostError::Busy`] while another command is in flight; [`MenuHostError::TooLong`].
    pub fn command(&mut self, body: &[u8], now_ms: u64) -> Result<&[u8], MenuHostError> {
        let permanent = self.config.permanent;
        self.start(body, permanent, now_ms)
    }

    /// The bytes that start (`on`) or stop a read: Honeywell `SYN T CR` / `SYN U CR` (no reply
    /// expected, §3), Newland UCS `#SCNTRG1` / `#SCNTRG0` (put in flight, §4).
    ///
    /// # Errors
    /// [`MenuHostError::Busy`]; [`MenuHostError::Unsupported`] for legacy Newland (the
    /// reference gives no trigger command).
    pub fn trigger(&mut self, on: bool, now_ms: u64) -> Result<&[u8], MenuHostError> {
        if self.in_flight {
            return Err(MenuHostError::Busy);
        }
        match self.config.engine {
            Engine::Honeywell => Ok(if on { menu::HONEYWELL_TRIGGER_ON } else { menu::HONEYWELL_TRIGGER_OFF }),
            Engine::NewlandUcs => self.start(if on { b"SCNTRG1" } else { b"SCNTRG0" }, false, now_ms),
            Engine::NewlandLegacy => Err(MenuHostError::Unsupported),
        }
    }

    fn start(&mut self, body: &[u8], permanent: bool, now_ms: u64) -> Result<&[u8], MenuHostError> {
        if self.in_flight {
            return Err(MenuHostError::Busy);
        }
        let n = match self.config.engine {
            Engine::Honeywell => menu::honeywell_command(body, self.config.storage, &mut self.out),
            Engine::NewlandUcs => menu::newland_command(body, permanent, &mut self.out),
            Engine::NewlandLegacy => {
                let dst = self.out.get_mut(..body.len()).ok_or(MenuHostError::TooLong)?;
                dst.copy_from_slice(body);
                Ok(body.len())
            }
        }
        .map_err(|_| MenuHostError::TooLong)?;
        self.entries = 1 + body.iter().filter(|&&b| b == b',' || b == b';').count();
        self.resp_len = 0;
        self.drop_storage = false;
        self.in_flight = true;
        self.deadline = now_ms.saturating_add(self.config.response_timeout_ms);
        Ok(self.out.get(..n).unwrap_or(&[]))
    }

    /// When [`Self::poll`] must be called next.
    pub fn deadline(&self) -> Option<u64> {
        if self.in_flight { Some(self.deadline) } else { self.framer.deadline() }
    }

    /// Handles time: the timeout of the command in flight, or a scan ended by an idle gap.
    pub fn poll(&mut self, now_ms: u64) -> Option<MenuEvent<'_>> {
        if self.in_flight {
            if now_ms < self.deadline {
                return None;
            }
            self.in_flight = false;
            return Some(MenuEvent::Reply(Err(MenuCommandError::Timeout)));
        }
        let line = self.framer.poll(now_ms)?;
        let n = Self::keep(&mut self.scan, line.data, line.end)?;
        Some(MenuEvent::Scan(self.scan.get(..n).unwrap_or(&[])))
    }

    fn keep(buf: &mut [u8; N], data: &[u8], end: LineEnd) -> Option<usize> {
        if end == LineEnd::Overflow || data.is_empty() {
            return None;
        }
        buf.get_mut(..data.len())?.copy_from_slice(data);
        Some(data.len())
    }

    /// Feeds bytes to the framer; a scan line if one ended.
    fn frame(&mut self, mut bytes: &[u8], now_ms: u64) -> Option<usize> {
        while !bytes.is_empty() {
            let line = self.framer.feed(&mut bytes, now_ms)?;
            if let Some(n) = Self::keep(&mut self.scan, line.data, line.end) {
                return Some(n);
            }
        }
        None
    }

    /// The verdict on a complete reply body.
    fn verdict(body: &[u8]) -> Result<(), MenuCommandError> {
        let mut any = false;
        for (entry, (_, status)) in menu::parse_reply(body).enumerate() {
            any = true;
            match status {
                Status::Ack => {}
                Status::Enq => return Err(MenuCommandError::Enq { entry }),
                Status::Nak => return Err(MenuCommandError::Nak { entry }),
            }
        }
        if any { Ok(()) } else { Err(MenuCommandError::Garbled) }
    }

    /// Ends the command with the reply in `resp`.
    fn finish(&mut self) -> MenuEvent<'_> {
        self.in_flight = false;
        let reply = self.resp.get(..self.resp_len).unwrap_or(&[]);
        let body = match self.config.engine {
            Engine::NewlandUcs => menu::newland_reply_body(reply).map_err(|_| MenuCommandError::Garbled),
            _ => Ok(reply),
        };
        MenuEvent::Reply(body.and_then(Self::verdict).map(|()| reply))
    }

    /// Consumes bytes from the front of `input` until an event occurs and returns it; `None`
    /// when `input` is used up. Call again with the rest of `input` until it returns `None`.
    pub fn receive<'s>(&'s mut self, input: &mut &[u8], now_ms: u64) -> Option<MenuEvent<'s>> {
        if self.drop_storage {
            if let Some((b'.' | b'!', rest)) = input.split_first() {
                *input = rest;
            }
            if !input.is_empty() {
                self.drop_storage = false;
            }
        }
        while self.in_flight {
            let (&b, rest) = input.split_first()?;
            *input = rest;
            let scan = match self.config.engine {
                Engine::NewlandLegacy => Status::from_u8(b).is_none(),
                // 0x02 = STX, first byte of `NEWLAND_REPLY_HEAD`.
                Engine::NewlandUcs => self.resp_len == 0 && b != 0x02,
                Engine::Honeywell => b == b'\r' || b == b'\n',
            };
            if scan {
                // Honeywell: the bytes so far were a scan line, not a reply.
                let held = core::mem::take(&mut self.resp_len);
                let mut tmp = [0u8; MAX_COMMAND];
                if let (Some(dst), Some(src)) = (tmp.get_mut(..held), self.resp.get(..held)) {
                    dst.copy_from_slice(src);
                }
                let mut found = self.frame(tmp.get(..held).unwrap_or(&[]), now_ms);
                if let Some(n) = self.frame(core::slice::from_ref(&b), now_ms) {
                    found = Some(n);
                }
                if let Some(n) = found {
                    return Some(MenuEvent::Scan(self.scan.get(..n).unwrap_or(&[])));
                }
                continue;
            }
            let Some(slot) = self.resp.get_mut(self.resp_len) else {
                self.in_flight = false;
                return Some(MenuEvent::Reply(Err(MenuCommandError::Garbled)));
            };
            *slot = b;
            self.resp_len += 1;
            let reply = self.resp.get(..self.resp_len).unwrap_or(&[]);
            let done = match self.config.engine {
                Engine::NewlandLegacy => true,
                Engine::NewlandUcs => {
                    reply.len() > menu::NEWLAND_REPLY_HEAD.len() && reply.ends_with(menu::NEWLAND_TRAILER)
                }
                Engine::Honeywell => reply.iter().filter(|&&c| Status::from_u8(c).is_some()).count() >= self.entries,
            };
            if done {
                if self.config.engine == Engine::Honeywell {
                    self.drop_storage = true;
                    if let Some((b'.' | b'!', rest)) = input.split_first() {
                        *input = rest;
                        self.drop_storage = false;
                    } else if !input.is_empty() {
                        self.drop_storage = false;
                    }
                }
                return Some(self.finish());
            }
        }
        let n = self.frame_input(input, now_ms)?;
        Some(MenuEvent::Scan(self.scan.get(..n).unwrap_or(&[])))
    }

    fn frame_input(&mut self, input: &mut &[u8], now_ms: u64) -> Option<usize> {
        loop {
            let line = self.framer.feed(input, now_ms)?;
            if let Some(n) = Self::keep(&mut self.scan, line.data, line.end) {
                return Some(n);
            }
        }
    }
}

/// Honeywell provisioning profile (§3): empty. The reference gives the trigger commands
/// (`SYN T CR` / `SYN U CR`) but no menu tag for serial trigger mode, AIM ids or disabling
/// setup barcodes, so none is invented here; add the tags from your engine's guide to a custom
/// profile (`&[&[u8]]`, each entry a `Tag SubTag Data` body sent with the configured storage).
pub const HONEYWELL_PROFILE: &[&[u8]] = &[];

/// Newland UCS provisioning profile (§4 item 2): `@SCNMOD0` (trigger mode) and `@RRDDUR1000`
/// (same-code interval 1000 ms; the value is this crate's choice). Sent with `@` (permanent) when
/// [`MenuConfig::permanent`] is set. The reference gives no UCS command for AIM ids on or setup
/// barcodes off: add them to a custom profile.
pub const NEWLAND_UCS_PROFILE: &[&[u8]] = &[b"SCNMOD0", b"RRDDUR1000"];

/// Newland legacy provisioning profile (§4 item 1): `NLS0006010` enter setup, `NLS0006000`
/// leave setup. The reference gives no legacy command for trigger mode, AIM ids on (only
/// `NLS0308000` AIM off) or setup barcodes off; a custom profile puts its commands between the two.
pub const NEWLAND_LEGACY_PROFILE: &[&[u8]] = &[b"NLS0006010", b"NLS0006000"];
