//! The router: which line belongs to the pending command and which is unsolicited (reference
//! §1.6, §1.7, §6.1 item 2, §6.2).
//!
//! The router owns a [`Framer`] and knows the pending [`Command`]. For every framer event it
//! decides, in this order:
//!
//! 1. **Echo**: a line equal to the command text (matched by content, never by position:
//!    atat #184/#219) while the command is pending.
//! 2. **Awaited result**: a line starting with [`Command::awaits`] (`+QIOPEN:`, `+QMTCONN:`,
//!    `+NETOPEN:`, `SEND OK`, `POWERED DOWN`, ...). The command completes when both its final
//!    result and the awaited line have been seen (or at once for `SEND OK`-like results that
//!    replace the final).
//! 3. **Final result** ([`crate::result::parse_final`], numeric `ATV0` forms included while a
//!    command is pending).
//! 4. **Information response**: a line with the command's prefix, subject to the same-prefix
//!    rules: for a `AT+CxREG?` only the first line with at least two fields is the reply (a
//!    one-field `+CGREG: 2` is a URC); `+QMTRECV: <idx>,<id>` (two fields) is always the buffer
//!    URC, and so is `+CIPRXGET: 1,<link>`; `+CPIN` is a reply only to `AT+CPIN?`; `+CSQ` only
//!    once per command. A line with no `+` prefix that is not a known bare URC (`RDY`,
//!    `PB DONE`, ...) is an information line (`Quectel` for `AT+CGMI`, the IMEI for `AT+CGSN`,
//!    the continuation of a long `+COPS=?` list).
//! 5. Anything else is a **URC**: it is copied into a bounded queue. When the queue is full (or
//!    the URC is longer than the buffer) the URC is counted as lost, never blocking the input
//!    and never clearing anything else; the driver sees [`Router::take_lost`] > 0 and re-polls
//!    state (`AT+CEREG?`, `AT+QISTATE?`, ...) as reference §6.2 advises.
//!
//! Counted payloads after a header line go to whoever got the header (the command as
//! [`Routed::Data`], or the queued URC). After [`Router::cancel`] (timeout, dropped future) the
//! router is *draining*: the late echo, information lines, payloads and final of the old command
//! are discarded, URCs are still queued, and [`Router::begin`] refuses a new command until the
//! driver has waited for a quiet period and called [`Router::drained`] — so a late reply never
//! lands on the next command.

use crate::command::{Command, Form};
use crate::error::RouterError;
use crate::framer::{Event, Framer};
use crate::params::{prefix_of, trim};
use crate::response::{RegKind, field_count};
use crate::result::{FinalResult, parse_final};
use heapless::{Deque, Vec};

/// How many bytes of the command text the router keeps for echo matching (longer commands are
/// matched by this head and their full length).
pub const COMMAND_KEEP: usize = 64;

/// Bare (prefix-less) lines that are always unsolicited: boot banners and readiness indications
/// (reference §2.2), `RING`, power-down notices (§2.1).
pub const BARE_URCS: &[&[u8]] = &[
    b"RDY",
    b"APP RDY",
    b"SMS Ready",
    b"Call Ready",
    b"SMS DONE",
    b"PB DONE",
    b"RING",
    b"POWERED DOWN",
    b"NORMAL POWER DOWN",
    b"NO CARRIER",
    // ESP-AT message reports (ESP-AT.md §1: "AT Messages", ESP-AT Message Reports).
    b"ready",
    b"WIFI CONNECTED",
    b"WIFI GOT IP",
    b"WIFI DISCONNECT",
    b"WIFI GOT IPv6 LL",
    b"WIFI GOT IPv6 GL",
    b"CLOSED",
    b"Will force to restart!!!",
];

/// ESP-AT link reports `<link>,CONNECT` and `<link>,CLOSED` (ESP-AT.md §1, multiple-connection
/// mode): unsolicited although they have no `+` prefix.
fn is_esp_link_report(line: &[u8]) -> bool {
    let Some(comma) = line.iter().position(|&b| b == b',') else { return false };
    let (link, rest) = line.split_at(comma);
    !link.is_empty()
        && link.len() <= 2
        && link.iter().all(u8::is_ascii_digit)
        && matches!(rest, b",CONNECT" | b",CLOSED" | b",CONNECT FAIL")
}

/// What one byte completed, as routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Routed<'a> {
    /// The echo of the pending command.
    Echo,
    /// An information response of the pending command.
    Info(&'a [u8]),
    /// A chunk of the counted payload that follows the command's last information line.
    Data {
        /// The bytes.
        bytes: &'a [u8],
        /// Bytes of the payload still to come.
        remaining: usize,
    },
    /// The data prompt the command asked for: send the data now.
    Prompt(u8),
    /// The final result code; `complete` is false when an awaited result is still to come.
    Final {
        /// The result.
        result: FinalResult<'a>,
        /// True when the command is finished.
        complete: bool,
    },
    /// The awaited result line (`+QIOPEN: 0,0`, `SEND OK`, ...); `complete` as for `Final`.
    Result {
        /// The line.
        line: &'a [u8],
        /// True when the command is finished.
        complete: bool,
    },
    /// An information line of the command too long for the buffer: its head and length.
    TooLong {
        /// The first bytes of the line.
        head: &'a [u8],
        /// Its full length.
        len: usize,
    },
    /// A URC was queued (the line is also given here for logging).
    Urc(&'a [u8]),
    /// Payload bytes appended to the last queued URC.
    UrcData {
        /// The bytes.
        bytes: &'a [u8],
        /// Bytes of the payload still to come.
        remaining: usize,
    },
    /// A URC could not be queued (queue full or line too long); counted in [`Router::take_lost`].
    /// The line is given for logging and for boot-banner detection (its first bytes when too
    /// long).
    UrcLost(&'a [u8]),
    /// A line or payload dropped: the late reply of a cancelled command, a final result with
    /// no command pending, or garbage (a prefix-less line outside any command, e.g. at boot).
    Discarded(&'a [u8]),
}

/// A queued URC: its line and the payload that followed it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urc<const N: usize> {
    /// The URC line.
    pub line: Vec<u8, N>,
    /// The counted payload that followed the line (`+QIURC: "recv",0,5` in push mode).
    pub data: Vec<u8, N>,
    /// Payload bytes that did not fit into `data`.
    pub data_truncated: usize,
}

/// Counters kept by the router.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// URCs queued.
    pub urcs: u32,
    /// URCs lost (queue full or too long), since creation.
    pub lost: u32,
    /// Lines and payload chunks discarded.
    pub discarded: u32,
    /// Commands completed.
    pub completed: u32,
    /// Commands cancelled.
    pub cancelled: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Pending { info: u16, final_seen: bool, result_seen: bool },
    Draining,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Command,
    Urc,
    Discard,
}

#[derive(Debug)]
struct Core<const N: usize, const Q: usize> {
    phase: Phase,
    cmd: [u8; COMMAND_KEEP],
    cmd_len: usize,
    form: Form,
    awaits: Option<&'static [u8]>,
    owner: Owner,
    disarm: bool,
    urcs: Deque<Urc<N>, Q>,
    lost_since_take: u32,
    stats: RouterStats,
}

/// The router with a framer buffer of `N` bytes and a queue of `Q` URCs of up to `N` bytes each
/// (RAM ≈ `N` × (2·`Q` + 1) bytes plus a few dozen).
///
/// ```
/// use modem::command::Command;
/// use modem::router::{Router, Routed};
///
/// let mut router = Router::<128, 4>::new();
/// router.begin(&Command::new(b"AT+CREG?")).unwrap();
/// let mut info = Vec::new();
/// let mut done = false;
/// for &b in b"AT+CREG?\r\r\n+CREG: 1\r\n+CREG: 2,1,\"8BE3\",\"2BAF\"\r\n\r\nOK\r\n" {
///     match router.push(b) {
///         Some(Routed::Info(line)) => info.push(line.to_vec()),
///         Some(Routed::Final { complete, .. }) => done = complete,
///         _ => {}
///     }
/// }
/// assert!(done);
/// assert_eq!(info, [b"+CREG: 2,1,\"8BE3\",\"2BAF\"".to_vec()]);
/// // The one-field line was a URC (stat=1) and waits in the queue.
/// assert_eq!(router.pop_urc().unwrap().line.as_slice(), b"+CREG: 1");
/// ```
#[derive(Debug)]
pub struct Router<const N: usize, const Q: usize> {
    framer: Framer<N>,
    core: Core<N, Q>,
}

impl<const N: usize, const Q: usize> Default for Router<N, Q> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const Q: usize> Router<N, Q> {
    /// An idle router with an empty queue.
    pub fn new() -> Self {
        Router {
            framer: Framer::new(),
            core: Core {
                phase: Phase::Idle,
                cmd: [0; COMMAND_KEEP],
                cmd_len: 0,
                form: Form::Execute,
                awaits: None,
                owner: Owner::Discard,
                disarm: false,
                urcs: Deque::new(),
                lost_since_take: 0,
                stats: RouterStats::default(),
            },
        }
    }

    /// Starts routing for `command` (call it when the command is written to the module).
    ///
    /// # Errors
    /// [`RouterError::Busy`] while another command is pending, [`RouterError::Draining`] after
    /// a cancel until [`Router::drained`].
    pub fn begin(&mut self, command: &Command<'_>) -> Result<(), RouterError> {
        match self.core.phase {
            Phase::Pending { .. } => return Err(RouterError::Busy),
            Phase::Draining => return Err(RouterError::Draining),
            Phase::Idle => {}
        }
        let text = trim(command.text);
        let keep = text.len().min(COMMAND_KEEP);
        for (slot, &b) in self.core.cmd.iter_mut().zip(text.iter().take(keep)) {
            *slot = b;
        }
        self.core.cmd_len = text.len();
        self.core.form = command.form();
        self.core.awaits = command.awaits;
        self.core.phase = Phase::Pending { info: 0, final_seen: false, result_seen: false };
        self.core.disarm = false;
        match command.prompt {
            Some(p) => self.framer.expect_prompt(p),
            None => self.framer.cancel_prompt(),
        }
        Ok(())
    }

    /// Gives up the pending command (timeout or cancellation): its late reply will be discarded
    /// until [`Router::drained`]. Does nothing when no command is pending.
    pub fn cancel(&mut self) {
        if let Phase::Pending { .. } = self.core.phase {
            self.core.phase = Phase::Draining;
            self.core.stats.cancelled += 1;
            self.framer.cancel_prompt();
        }
    }

    /// Declares the line quiet after a cancel (the driver waited, and optionally saw `AT` →
    /// `OK`): the next command may begin.
    pub fn drained(&mut self) {
        if self.core.phase == Phase::Draining {
            self.core.phase = Phase::Idle;
        }
    }

    /// True when a command is pending (including one waiting for its result after `OK`).
    pub fn is_pending(&self) -> bool {
        matches!(self.core.phase, Phase::Pending { .. })
    }

    /// True between [`Router::cancel`] and [`Router::drained`].
    pub fn is_draining(&self) -> bool {
        self.core.phase == Phase::Draining
    }

    /// Forgets partial input and the pending command (after a module restart). The URC queue
    /// and the counters are kept.
    pub fn reset(&mut self) {
        self.framer.reset();
        self.core.phase = Phase::Idle;
        self.core.disarm = false;
        self.core.owner = Owner::Discard;
    }

    /// Feeds one byte.
    pub fn push(&mut self, byte: u8) -> Option<Routed<'_>> {
        if self.core.disarm {
            self.core.disarm = false;
            self.framer.cancel_prompt();
        }
        let event = self.framer.push(byte)?;
        Some(self.core.route(event))
    }

    /// Feeds a chunk as the UART delivered it, handing every routed item to `on`.
    pub fn feed(&mut self, bytes: &[u8], mut on: impl FnMut(Routed<'_>)) {
        for &b in bytes {
            if let Some(routed) = self.push(b) {
                on(routed);
            }
        }
    }

    /// Ends the input: a last line without a terminator is routed (see [`Framer::flush`]).
    pub fn flush(&mut self) -> Option<Routed<'_>> {
        let event = self.framer.flush()?;
        Some(self.core.route(event))
    }

    /// Takes the oldest queued URC. A URC whose counted payload is still arriving (the
    /// framer is inside `+CMQTTRXPAYLOAD: 0,<n>`'s bytes) is not handed out until it is complete.
    pub fn pop_urc(&mut self) -> Option<Urc<N>> {
        if !self.urc_complete(0) {
            return None;
        }
        self.core.urcs.pop_front()
    }

    /// The oldest queued URC, if it is complete, without taking it.
    pub fn peek_urc(&self) -> Option<&Urc<N>> {
        if !self.urc_complete(0) {
            return None;
        }
        self.core.urcs.front()
    }

    /// Whether queued URC `i` is complete (not the last one while its payload still arrives).
    fn urc_complete(&self, i: usize) -> bool {
        let filling = self.core.owner == Owner::Urc && self.framer.in_payload();
        !(filling && i + 1 == self.core.urcs.len())
    }

    /// Number of URCs waiting.
    pub fn queued_urcs(&self) -> usize {
        self.core.urcs.len()
    }

    /// URCs lost since the last call (then resets to 0). Non-zero means state may have changed
    /// unseen: re-poll it.
    pub fn take_lost(&mut self) -> u32 {
        core::mem::take(&mut self.core.lost_since_take)
    }

    /// Counters since creation.
    pub fn stats(&self) -> RouterStats {
        self.core.stats
    }

    /// Counters of the framer.
    pub fn framer_stats(&self) -> crate::framer::FramerStats {
        self.framer.stats()
    }
}

fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl<const N: usize, const Q: usize> Core<N, Q> {
    fn name(&self) -> Option<&[u8]> {
        let head = self.cmd.get(..self.cmd_len.min(COMMAND_KEEP)).unwrap_or(&[]);
        Command::new(head).response_prefix()
    }

    fn is_echo(&self, line: &[u8]) -> bool {
        let line = trim(line);
        let head = self.cmd.get(..self.cmd_len.min(COMMAND_KEEP)).unwrap_or(&[]);
        line.len() == self.cmd_len && line.get(..head.len()).is_some_and(|l| eq_ignore_case(l, head))
    }

    /// The same-prefix rules of §1.7 for a line whose prefix is the command's name.
    fn same_prefix_is_info(&self, name: &[u8], line: &[u8], info: u16) -> bool {
        if RegKind::of_line(line).is_some() {
            return match self.form {
                Form::Read => info == 0 && field_count(line) >= 2,
                Form::Test => info == 0,
                _ => false,
            };
        }
        if eq_ignore_case(name, b"+QMTRECV") {
            return field_count(line) != 2;
        }
        if eq_ignore_case(name, b"+CIPRXGET") {
            // §2.8: `+CIPRXGET: 1,<link>` is the data URC; the replies are `2,...` and `4,...`.
            let mode = crate::params::after_prefix(line, b"+CIPRXGET")
                .and_then(|start| crate::params::Fields::new(line, start).next())
                .and_then(|f| f.ok())
                .and_then(|f| f.dec("mode").ok());
            return !(mode == Some(1) && field_count(line) == 2);
        }
        if eq_ignore_case(name, b"+CPIN") {
            return self.form == Form::Read;
        }
        if eq_ignore_case(name, b"+CSQ") {
            return info == 0;
        }
        true
    }

    fn queue_urc<'a>(&mut self, line: &'a [u8]) -> Routed<'a> {
        let urc = Urc { line: Vec::from_slice(line).unwrap_or_default(), data: Vec::new(), data_truncated: 0 };
        if line.len() > N || self.urcs.push_back(urc).is_err() {
            self.lost();
            return Routed::UrcLost(line);
        }
        self.owner = Owner::Urc;
        self.stats.urcs += 1;
        Routed::Urc(line)
    }

    fn lost(&mut self) {
        self.owner = Owner::Discard;
        self.stats.lost += 1;
        self.lost_since_take += 1;
    }

    fn discard<'a>(&mut self, bytes: &'a [u8]) -> Routed<'a> {
        self.owner = Owner::Discard;
        self.stats.discarded += 1;
        Routed::Discarded(bytes)
    }

    fn complete(&mut self) {
        self.phase = Phase::Idle;
        self.disarm = true;
        self.stats.completed += 1;
    }

    fn is_bare_urc(line: &[u8]) -> bool {
        let line = trim(line);
        BARE_URCS.contains(&line) || is_esp_link_report(line)
    }

    /// ESP-AT `AT+CIPSTART` answers `CONNECT` and then `OK` (ESP-AT.md §4): there `CONNECT` is
    /// an information line, not the final result, so the `OK` never lands on the next command.
    fn connect_is_info(&self, line: &[u8]) -> bool {
        trim(line) == b"CONNECT"
            && self.name().is_some_and(|n| eq_ignore_case(n, b"+CIPSTART") || eq_ignore_case(n, b"+CIPSTARTEX"))
    }

    /// Whether a line (not echo, result or final) belongs to the pending command.
    fn belongs_to_command(&self, line: &[u8], info: u16) -> bool {
        match prefix_of(line) {
            Some(prefix) => self
                .name()
                .is_some_and(|name| eq_ignore_case(prefix, name) && self.same_prefix_is_info(name, line, info)),
            None => !Self::is_bare_urc(line),
        }
    }

    fn route<'a>(&mut self, event: Event<'a>) -> Routed<'a> {
        match event {
            Event::Line(line) => self.route_line(line),
            Event::Prompt(p) => match self.phase {
                Phase::Pending { .. } => Routed::Prompt(p),
                _ => self.discard(&[]),
            },
            Event::Data { bytes, remaining } => match (self.owner, self.phase) {
                (Owner::Command, Phase::Pending { .. }) => Routed::Data { bytes, remaining },
                (Owner::Urc, _) => match self.urcs.back_mut() {
                    Some(urc) => {
                        let room = N.saturating_sub(urc.data.len()).min(bytes.len());
                        let (fits, rest) = bytes.split_at(room);
                        let _ = urc.data.extend_from_slice(fits);
                        urc.data_truncated += rest.len();
                        Routed::UrcData { bytes, remaining }
                    }
                    None => self.discard(bytes),
                },
                _ => self.discard(bytes),
            },
            Event::Overflow { head, len } => match self.phase {
                Phase::Pending { info, final_seen: false, .. }
                    if !self.is_echo(head) && self.belongs_to_command(head, info) =>
                {
                    self.owner = Owner::Command;
                    Routed::TooLong { head, len }
                }
                Phase::Draining if !self.is_urc_while_draining(head) => self.discard(head),
                _ => {
                    self.lost();
                    Routed::UrcLost(head)
                }
            },
        }
    }

    fn is_urc_while_draining(&self, line: &[u8]) -> bool {
        if self.is_echo(line) || parse_final(line, true).is_some() {
            return false;
        }
        if self.awaits.is_some_and(|a| line.starts_with(a)) {
            // A late async result (`+QIOPEN: 0,0` after a timeout) is news for the application.
            return true;
        }
        match prefix_of(line) {
            Some(prefix) => !self.name().is_some_and(|name| eq_ignore_case(prefix, name)),
            None => Self::is_bare_urc(line),
        }
    }

    fn route_line<'a>(&mut self, line: &'a [u8]) -> Routed<'a> {
        match self.phase {
            Phase::Idle => {
                if Self::is_bare_urc(line) || prefix_of(line).is_some() && parse_final(line, false).is_none() {
                    self.queue_urc(line)
                } else {
                    self.discard(line)
                }
            }
            Phase::Draining => {
                if self.is_urc_while_draining(line) {
                    self.queue_urc(line)
                } else {
                    self.discard(line)
                }
            }
            Phase::Pending { info, final_seen, result_seen } => {
                if !final_seen && self.is_echo(line) {
                    return Routed::Echo;
                }
                if let Some(awaits) = self.awaits.filter(|a| line.starts_with(a)) {
                    let final_like = !awaits.starts_with(b"+");
                    let complete = final_seen || final_like;
                    if complete {
                        self.complete();
                    } else {
                        self.phase = Phase::Pending { info, final_seen, result_seen: true };
                    }
                    self.owner = Owner::Command;
                    return Routed::Result { line, complete };
                }
                if !final_seen {
                    if self.connect_is_info(line) {
                        self.phase = Phase::Pending { info: info.saturating_add(1), final_seen, result_seen };
                        self.owner = Owner::Command;
                        return Routed::Info(line);
                    }
                    if let Some(result) = parse_final(line, true) {
                        let wait = result == FinalResult::Ok && self.awaits.is_some() && !result_seen;
                        if wait {
                            self.phase = Phase::Pending { info, final_seen: true, result_seen };
                        } else {
                            self.complete();
                        }
                        self.owner = Owner::Discard;
                        return Routed::Final { result, complete: !wait };
                    }
                    if self.belongs_to_command(line, info) {
                        self.phase = Phase::Pending { info: info.saturating_add(1), final_seen, result_seen };
                        self.owner = Owner::Command;
                        return Routed::Info(line);
                    }
                    return self.queue_urc(line);
                }
                // After OK, waiting for the result: everything else is unsolicited.
                if parse_final(line, false).is_some() || prefix_of(line).is_none() && !Self::is_bare_urc(line) {
                    return self.discard(line);
                }
                self.queue_urc(line)
            }
        }
    }
}
