//! The sans-io command engine: one command at a time on top of the [`Router`], with deadlines
//! from the per-command timeout table (reference §2.13) and draining after a timeout (§6.2).
//!
//! [`Engine::start`] a command at time `now`, write its text and `\r` to the UART, [`Engine::feed`]
//! what the module sends, and [`Engine::poll`] with the current time until it yields the typed
//! outcome. The engine never blocks and owns no I/O; [`crate::blocking`] is a thin shell over it.

use crate::command::Command;
use crate::error::RouterError;
use crate::result::FinalResult;
use crate::router::{Routed, Router, Urc};
use heapless::Vec;

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// No final result before the command's deadline; the late reply will be drained.
    Timeout,
    /// `+CME ERROR` with its number when the module sent one (reference §1.10).
    Cme(Option<u16>),
    /// `+CMS ERROR` with its number when the module sent one.
    Cms(Option<u16>),
    /// Plain `ERROR`.
    Error,
    /// Another failing final result (`NO CARRIER`, `BUSY`, a vendor error), by its name.
    Failed(&'static str),
    /// An information line did not fit into the engine's line buffer.
    Overflow,
    /// A command is already pending.
    Busy,
    /// The previous command timed out and the line has not been quiet long enough yet.
    Draining,
}

impl core::fmt::Display for CommandError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Timeout => f.write_str("no final result before the deadline"),
            Self::Cme(code) => write!(f, "+CME ERROR {code:?}"),
            Self::Cms(code) => write!(f, "+CMS ERROR {code:?}"),
            Self::Error => f.write_str("ERROR"),
            Self::Failed(name) => write!(f, "final result {name}"),
            Self::Overflow => f.write_str("information line longer than the buffer"),
            Self::Busy => f.write_str("a command is pending"),
            Self::Draining => f.write_str("draining the late reply of a timed-out command"),
        }
    }
}

impl core::error::Error for CommandError {}

/// The successful reply of a command: its first information line, how many it had, the counted
/// payload that followed them (`+QIRD: <n>`, `+CIPRXGET: 2,...`, reference §1.9) and the result
/// awaited after `OK` (`+QMTCONN: 0,0,0`, `SEND OK`, §1.6 item 6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply<const N: usize> {
    /// The first information line (empty when there was none).
    pub line: Vec<u8, N>,
    /// How many information lines the command received.
    pub lines: u16,
    /// The counted payload after the information lines (empty when there was none).
    pub data: Vec<u8, N>,
    /// The awaited result line after `OK` (empty when the command awaits none).
    pub result: Vec<u8, N>,
}

/// The command engine. `N` is the line length, `Q` the URC queue depth (as for [`Router`]).
#[derive(Debug)]
pub struct Engine<const N: usize, const Q: usize> {
    router: Router<N, Q>,
    deadline: Option<u64>,
    reply: Reply<N>,
    overflow: bool,
    outcome: Option<Result<(), CommandError>>,
    last_rx_ms: u64,
    quiet_ms: u64,
    prompt: bool,
    boots: u32,
    last_banner_ms: Option<u64>,
}

impl<const N: usize, const Q: usize> Default for Engine<N, Q> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const Q: usize> Engine<N, Q> {
    /// How long the line must stay silent after a timeout before the next command (default).
    pub const QUIET_MS: u64 = 300;

    /// An idle engine.
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            deadline: None,
            reply: Reply::default(),
            overflow: false,
            outcome: None,
            last_rx_ms: 0,
            quiet_ms: Self::QUIET_MS,
            prompt: false,
            boots: 0,
            last_banner_ms: None,
        }
    }

    /// Boot banners closer together than this belong to the same boot (`RDY` then `APP RDY` or
    /// `SMS Ready`, reference §2.2; the slowest startup of §2.1 is 20 s).
    pub const BOOT_WINDOW_MS: u64 = 30_000;

    /// Sets the quiet period that ends draining after a timeout.
    pub fn set_quiet_ms(&mut self, ms: u64) {
        self.quiet_ms = ms;
    }

    /// Starts `command` at `now_ms`; its deadline is `now_ms + command.timeout_ms`. The caller
    /// then writes the command text and `\r`.
    ///
    /// # Errors
    ///
    /// [`CommandError::Busy`] while a command is pending, [`CommandError::Draining`] until the line
    /// has been quiet for the quiet period after a timeout.
    pub fn start(&mut self, command: &Command<'_>, now_ms: u64) -> Result<(), CommandError> {
        // A finished command whose outcome was not taken yet is still pending: starting another
        // would lose that outcome (found by the engine property test).
        if self.deadline.is_some() {
            return Err(CommandError::Busy);
        }
        if self.router.is_draining() && now_ms.saturating_sub(self.last_rx_ms) >= self.quiet_ms {
            self.router.drained();
        }
        self.router.begin(command).map_err(|e| match e {
            RouterError::Draining => CommandError::Draining,
            _ => CommandError::Busy,
        })?;
        self.deadline = Some(now_ms.saturating_add(u64::from(command.timeout_ms)));
        self.reply = Reply::default();
        self.overflow = false;
        self.outcome = None;
        self.prompt = false;
        Ok(())
    }

    /// Feeds bytes received at `now_ms`.
    pub fn feed(&mut self, bytes: &[u8], now_ms: u64) {
        if !bytes.is_empty() {
            self.last_rx_ms = now_ms;
        }
        let Self { router, reply, overflow, outcome, prompt, boots, last_banner_ms, .. } = self;
        router.feed(bytes, |routed| match routed {
            Routed::Info(line) => {
                if reply.lines == 0 {
                    reply.line = Vec::from_slice(line).unwrap_or_else(|_| {
                        *overflow = true;
                        Vec::new()
                    });
                }
                reply.lines = reply.lines.saturating_add(1);
            }
            Routed::Data { bytes, .. } if reply.data.extend_from_slice(bytes).is_err() => *overflow = true,
            Routed::Prompt(_) => *prompt = true,
            Routed::TooLong { .. } => *overflow = true,
            Routed::Final { result, complete: true } => *outcome = Some(map_final(&result)),
            Routed::Result { line, complete } => {
                reply.result = Vec::from_slice(line).unwrap_or_else(|_| {
                    *overflow = true;
                    Vec::new()
                });
                if complete {
                    *outcome = Some(map_result(line));
                }
            }
            Routed::Urc(line) | Routed::UrcLost(line) if crate::power::is_boot_banner(line) => {
                if last_banner_ms.is_none_or(|t| now_ms.saturating_sub(t) > Self::BOOT_WINDOW_MS) {
                    *boots = boots.saturating_add(1);
                }
                *last_banner_ms = Some(now_ms);
            }
            _ => {}
        });
    }

    /// Module boots seen so far: boot banners (`RDY`, `APP RDY`, `*ATREADY`, `SMS Ready`,
    /// reference §2.2), those within [`Engine::BOOT_WINDOW_MS`] of each other counted once. A
    /// rise during a session means the module rebooted (brown-out, watchdog).
    pub fn boots(&self) -> u32 {
        self.boots
    }

    /// The outcome of the pending command once known, `None` while it is still running. At the
    /// deadline the command is cancelled and [`CommandError::Timeout`] returned.
    pub fn poll(&mut self, now_ms: u64) -> Option<Result<Reply<N>, CommandError>> {
        if let Some(outcome) = self.outcome.take() {
            self.deadline = None;
            return Some(match outcome {
                Ok(()) if self.overflow => Err(CommandError::Overflow),
                Ok(()) => Ok(core::mem::take(&mut self.reply)),
                Err(e) => Err(e),
            });
        }
        let deadline = self.deadline?;
        if now_ms >= deadline {
            self.router.cancel();
            self.deadline = None;
            self.last_rx_ms = now_ms;
            return Some(Err(CommandError::Timeout));
        }
        None
    }

    /// What the last command received before it failed (its information lines are kept so that
    /// a failure reason such as ESP-AT's `+CWJAP:<code>` before `FAIL` can be read). Empty after
    /// a success.
    pub fn failed_reply(&self) -> &Reply<N> {
        &self.reply
    }

    /// True once when the pending command's data prompt (`>`) has arrived: write the data now.
    pub fn take_prompt(&mut self) -> bool {
        core::mem::take(&mut self.prompt)
    }

    /// Whether a command is running.
    pub fn is_pending(&self) -> bool {
        self.deadline.is_some()
    }

    /// The next queued URC.
    pub fn pop_urc(&mut self) -> Option<Urc<N>> {
        self.router.pop_urc()
    }

    /// The next queued URC, without taking it.
    pub fn peek_urc(&self) -> Option<&Urc<N>> {
        self.router.peek_urc()
    }

    /// URCs lost since the last call (queue full): re-poll state when non-zero.
    pub fn take_lost(&mut self) -> u32 {
        self.router.take_lost()
    }

    /// The router, for statistics.
    pub fn router(&self) -> &Router<N, Q> {
        &self.router
    }
}

/// An awaited result that reports failure (`SEND FAIL`) fails the command; a numeric error
/// inside a `+QMTCONN: 0,2` style result is left to the caller, who knows its table.
fn map_result(line: &[u8]) -> Result<(), CommandError> {
    match line {
        b"SEND FAIL" => Err(CommandError::Failed("SEND FAIL")),
        // ESP-AT `AT+MQTTPUBRAW` (ESP-AT.md §6).
        b"+MQTTPUB:FAIL" => Err(CommandError::Failed("+MQTTPUB:FAIL")),
        _ => Ok(()),
    }
}

fn map_final(result: &FinalResult<'_>) -> Result<(), CommandError> {
    match result {
        FinalResult::Ok | FinalResult::Connect(_) => Ok(()),
        FinalResult::Error => Err(CommandError::Error),
        FinalResult::CmeError(c) => Err(CommandError::Cme(c.code)),
        FinalResult::CmsError(c) => Err(CommandError::Cms(c.code)),
        other => Err(CommandError::Failed(other.name())),
    }
}
