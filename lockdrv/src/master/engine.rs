//! The sans-io core of the master: a [`Transaction`] state machine (request bytes out,
//! `feed(bytes, now)` in, `poll(now)` for the timeout and the inter-byte gap) and
//! [`MasterCore`], which plans transactions (sequence numbers, boot ids, how many attempts an
//! idempotency class allows) and keeps per-board health, backoff and counters.
//!
//! Shells drive it like this (this is what [`super::blocking::BusMaster`] does):
//!
//! ```
//! use lockdrv::master::{MasterCore, Poll, TxEnd};
//! use lockproto::dialect::kerong_cu12::{Cu12Reply, Cu12Ask, KerongCu12};
//! use lockproto::{Command, Dialect, LockSet};
//!
//! let mut core = MasterCore::new(KerongCu12::new());
//! let now = 0;
//! core.admit::<()>(1, now).unwrap();
//! let plan = core.plan::<()>(1, &Command::QueryAll).unwrap();
//! let mut tx = core.transaction::<()>(&plan).unwrap();
//! // ... write tx.frame() to the port, flush, then:
//! tx.transmitted(4_000);
//! // A reply from board 1 arrives (here: encoded by the board-side codec).
//! let reply = Cu12Reply::Status { board: 1, ask: Cu12Ask::Ok, hooks: LockSet::EMPTY };
//! let mut bytes = [0u8; 16];
//! let len = KerongCu12::new().encode_reply(&reply, &mut bytes).unwrap();
//! assert_eq!(tx.feed(&bytes[..len], 12_000, |_| {}), Poll::Done(TxEnd::Replied));
//! assert_eq!(tx.take_reply(), Some(reply));
//! ```

use lockproto::dialect::ReplyExpectation;
use lockproto::stream::{Direction, Event, Message, Rejection, StreamDecoder};
use lockproto::{Command, Dialect, EncodeError, FrameError, Response};

use super::{BoardHealth, BusDialect, Error, MasterConfig, MasterStats, actuates, is_setting};

/// Frame buffer size of a transaction: the longest frame of every dialect (native: 256).
pub const FRAME_BUF: usize = 256;

/// What kind of answer a request wants (a reply of another kind from the same board answers
/// an earlier request and is dropped). A device error always fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An acknowledgement or a status (8A/80 and WKLY answer an unlock with the lock's state).
    Ack,
    /// A status reading.
    Status,
    /// Board identity.
    Info,
    /// A parameter (or an acknowledgement of a write).
    Parameter,
    /// An address.
    Address,
    /// Any frame from the board (raw requests without neutral meaning).
    Any,
}

impl Expect {
    /// The answer `command` wants.
    pub const fn of(command: &Command) -> Self {
        match command {
            Command::Unlock(_) | Command::UnlockMany(_) | Command::UnlockAll => Expect::Ack,
            Command::QueryLock(_) | Command::QueryAll => Expect::Status,
            Command::BoardInfo => Expect::Info,
            Command::ReadParameter(_) | Command::WriteParameter(_) => Expect::Parameter,
            Command::QueryAddress => Expect::Address,
            _ => Expect::Any,
        }
    }

    /// Whether `response` answers a request wanting `self`.
    pub const fn fits(self, response: &Response) -> bool {
        matches!(
            (self, response),
            (_, Response::DeviceError(_))
                | (Expect::Any, _)
                | (Expect::Ack, Response::Ack | Response::Status(_))
                | (Expect::Status, Response::Status(_))
                | (Expect::Info, Response::Info(_))
                | (Expect::Parameter, Response::Parameter(_) | Response::Ack)
                | (Expect::Address, Response::Address(_))
        )
    }
}

/// The state of a transaction after input or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Waiting: call [`Transaction::poll`] again at the latest at `wake_at_us` (the timeout or
    /// the end of the inter-byte gap), or feed input as it arrives.
    Pending {
        /// The next deadline, µs.
        wake_at_us: u64,
    },
    /// Finished.
    Done(TxEnd),
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxEnd {
    /// The reply arrived: [`Transaction::take_reply`].
    Replied,
    /// A broadcast's collection window closed with this many answers.
    Collected(u16),
    /// No fitting reply before the deadline.
    TimedOut,
    /// The request draws no reply (CU16 unlock, Modbus broadcast writes).
    NoReplyExpected,
}

/// One request and the collection of its reply (or replies), sans-io.
pub struct Transaction<D: BusDialect + Clone> {
    decoder: StreamDecoder<D, FRAME_BUF>,
    board: u8,
    seq: Option<u8>,
    expect: Expect,
    expectation: ReplyExpectation,
    frame: [u8; FRAME_BUF],
    frame_len: usize,
    timeout_us: u64,
    gap_us: u64,
    deadline_us: Option<u64>,
    last_byte_us: u64,
    reply: Option<D::Reply>,
    collected: u16,
    end: Option<TxEnd>,
    stats: MasterStats,
}

impl<D: BusDialect + Clone> core::fmt::Debug for Transaction<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transaction")
            .field("board", &self.board)
            .field("seq", &self.seq)
            .field("expect", &self.expect)
            .field("frame", &self.frame())
            .field("deadline_us", &self.deadline_us)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl<D: BusDialect + Clone> Transaction<D> {
    /// A transaction sending `request` to `board`, accepting a reply that echoes `seq` (when
    /// given) and fits `expect`.
    ///
    /// # Errors
    /// [`EncodeError`] when the request cannot be encoded.
    pub fn new(
        dialect: &D,
        request: D::Request,
        board: u8,
        seq: Option<u8>,
        expect: Expect,
        config: &MasterConfig,
    ) -> Result<Self, EncodeError> {
        let mut frame = [0u8; FRAME_BUF];
        let frame_len = dialect.encode_request(&request, &mut frame)?;
        let expectation = dialect.reply_expectation(&request);
        let mut decoder = StreamDecoder::new(dialect.clone(), Direction::Reply);
        decoder.set_pending(Some(request));
        Ok(Transaction {
            decoder,
            board,
            seq,
            expect,
            expectation,
            frame,
            frame_len,
            timeout_us: u64::from(config.response_timeout_ms) * 1_000,
            gap_us: u64::from(config.inter_byte_gap_ms) * 1_000,
            deadline_us: None,
            last_byte_us: 0,
            reply: None,
            collected: 0,
            end: None,
            stats: MasterStats::default(),
        })
    }

    /// The request's bytes, to write (then flush) to the bus.
    pub fn frame(&self) -> &[u8] {
        self.frame.get(..self.frame_len).unwrap_or_default()
    }

    /// How many replies the request draws.
    pub fn expectation(&self) -> ReplyExpectation {
        self.expectation
    }

    /// The request's last byte has left the transmitter at `now_us`: the response timeout
    /// runs from here.
    pub fn transmitted(&mut self, now_us: u64) {
        self.deadline_us = Some(now_us.saturating_add(self.timeout_us));
        self.last_byte_us = now_us;
        if self.expectation == ReplyExpectation::None {
            self.end = Some(TxEnd::NoReplyExpected);
        }
    }

    /// Bytes received at `now_us`. Replies of a broadcast are handed to `on_reply` as they
    /// complete; the reply of a unicast is kept for [`Transaction::take_reply`].
    pub fn feed(&mut self, bytes: &[u8], now_us: u64, mut on_reply: impl FnMut(&D::Reply)) -> Poll {
        let Some(deadline) = self.deadline_us else {
            // Input before the request went out is stale by definition.
            self.stats.late_bytes_dropped += bytes.len() as u64;
            return self.poll(now_us);
        };
        if self.end.is_some() || now_us > deadline {
            self.stats.late_bytes_dropped += bytes.len() as u64;
            return self.poll(now_us);
        }
        self.close_gap(now_us);
        if !bytes.is_empty() {
            self.last_byte_us = now_us;
        }
        let mut accepted: Option<D::Reply> = None;
        let mut collected = 0u16;
        let mut stats = MasterStats::default();
        let dialect = self.decoder.dialect().clone();
        for event in self.decoder.feed(bytes) {
            match event {
                Event::Frame { message: Message::Reply(reply), .. } => {
                    if self.end.is_some() || accepted.is_some() {
                        stats.stale_replies_dropped += 1;
                        continue;
                    }
                    let from = dialect.reply_board(&reply);
                    if self.expectation != ReplyExpectation::EveryBoard && from != Some(self.board) {
                        stats.foreign_replies_dropped += 1;
                        continue;
                    }
                    if self.seq.is_some() && dialect.reply_seq(&reply) != self.seq {
                        stats.stale_replies_dropped += 1;
                        continue;
                    }
                    let fits = self.expect == Expect::Any
                        || dialect.response(&reply).is_some_and(|(_, response)| self.expect.fits(&response));
                    if !fits {
                        stats.stale_replies_dropped += 1;
                        continue;
                    }
                    stats.replies += 1;
                    if self.expectation == ReplyExpectation::EveryBoard {
                        collected = collected.saturating_add(1);
                        on_reply(&reply);
                    } else {
                        accepted = Some(reply);
                    }
                }
                Event::Frame { message: Message::Request(_), .. } => stats.stale_replies_dropped += 1,
                // A complete frame that does not echo the pending request (dialects that check
                // the echo while decoding): from another board, or answering something else.
                Event::Rejected(Rejection { error: FrameError::Mismatch { field, .. }, .. }) => {
                    if matches!(field, "ADDR" | "board" | "station" | "unit id") {
                        stats.foreign_replies_dropped += 1;
                    } else {
                        stats.stale_replies_dropped += 1;
                    }
                }
                Event::Rejected(_) => stats.rejected_frames += 1,
            }
        }
        self.merge(&stats);
        self.collected = self.collected.saturating_add(collected);
        if let Some(reply) = accepted {
            self.reply = Some(reply);
            self.end = Some(TxEnd::Replied);
        }
        self.poll(now_us)
    }

    /// Time passed: checks the inter-byte gap and the deadline.
    pub fn poll(&mut self, now_us: u64) -> Poll {
        if let Some(end) = self.end {
            return Poll::Done(end);
        }
        let Some(deadline) = self.deadline_us else {
            return Poll::Pending { wake_at_us: u64::MAX };
        };
        self.close_gap(now_us);
        if now_us >= deadline {
            let end = match self.expectation {
                ReplyExpectation::EveryBoard => TxEnd::Collected(self.collected),
                _ => {
                    self.stats.timeouts += 1;
                    TxEnd::TimedOut
                }
            };
            if let Some(Event::Rejected(_)) = self.decoder.finish() {
                self.stats.rejected_frames += 1;
            }
            self.end = Some(end);
            return Poll::Done(end);
        }
        let wake_at_us = if self.decoder.buffered().is_empty() {
            deadline
        } else {
            deadline.min(self.last_byte_us.saturating_add(self.gap_us))
        };
        Poll::Pending { wake_at_us }
    }

    /// The unicast reply, once [`TxEnd::Replied`].
    pub fn take_reply(&mut self) -> Option<D::Reply> {
        self.reply.take()
    }

    /// Broadcast answers collected so far.
    pub fn collected(&self) -> u16 {
        self.collected
    }

    /// This transaction's counters (replies, drops, rejections, timeouts).
    pub fn stats(&self) -> MasterStats {
        self.stats
    }

    /// Ends a frame in progress after the inter-byte gap of silence.
    fn close_gap(&mut self, now_us: u64) {
        if self.gap_us > 0
            && !self.decoder.buffered().is_empty()
            && now_us >= self.last_byte_us.saturating_add(self.gap_us)
            && let Some(Event::Rejected(_)) = self.decoder.finish()
        {
            self.stats.rejected_frames += 1;
        }
    }

    fn merge(&mut self, other: &MasterStats) {
        merge_stats(&mut self.stats, other);
    }
}

/// Adds the counters of `other` to `into`.
pub(crate) fn merge_stats(into: &mut MasterStats, other: &MasterStats) {
    into.transactions += other.transactions;
    into.replies += other.replies;
    into.timeouts += other.timeouts;
    into.retries += other.retries;
    into.foreign_replies_dropped += other.foreign_replies_dropped;
    into.stale_replies_dropped += other.stale_replies_dropped;
    into.late_bytes_dropped += other.late_bytes_dropped;
    into.rejected_frames += other.rejected_frames;
    into.unknown_outcomes += other.unknown_outcomes;
    into.backoff_refusals += other.backoff_refusals;
    into.reboots_seen += other.reboots_seen;
}

/// A planned request: the stamped request and how often it may go on the wire.
#[derive(Debug, Clone)]
pub struct Plan<D: Dialect> {
    /// The request, with sequence number and boot id stamped (sequenced dialects).
    pub request: D::Request,
    /// The addressed board.
    pub board: u8,
    /// The sequence number a reply must echo.
    pub seq: Option<u8>,
    /// The answer wanted.
    pub expect: Expect,
    /// How many times the identical frame may be sent: 1 for a vendor-dialect unlock (never
    /// resent), 1 + `query_retries` otherwise (a native unlock is answered from the board's
    /// cache), 1 while the board is offline (one probe).
    pub attempts: u8,
    /// The request pulses a lock.
    pub actuates: bool,
    /// The request is a setting (post-setting wait after it).
    pub setting: bool,
}

/// Per-board bookkeeping.
#[derive(Debug, Clone, Copy, Default)]
struct BoardState {
    failures: u8,
    offline: bool,
    next_try_us: u64,
    backoff_ms: u32,
    quiet_until_us: u64,
    seq: u8,
    boot: Option<u16>,
    rebooted: bool,
    cursor: u16,
}

/// Planning, health, sessions and counters for every board address (no I/O).
pub struct MasterCore<D: BusDialect + Clone> {
    dialect: D,
    config: MasterConfig,
    boards: [BoardState; 256],
    stats: MasterStats,
    idle_from_us: u64,
}

impl<D: BusDialect + Clone> core::fmt::Debug for MasterCore<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MasterCore").field("config", &self.config).field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl<D: BusDialect + Clone> MasterCore<D> {
    /// A core with the dialect's default configuration.
    pub fn new(dialect: D) -> Self {
        let config = dialect.default_config();
        Self::with_config(dialect, config)
    }

    /// A core with `config`.
    pub fn with_config(dialect: D, config: MasterConfig) -> Self {
        let fresh = BoardState { backoff_ms: config.backoff_initial_ms, ..BoardState::default() };
        MasterCore { dialect, config, boards: [fresh; 256], stats: MasterStats::default(), idle_from_us: 0 }
    }

    /// The dialect.
    pub fn dialect(&self) -> &D {
        &self.dialect
    }

    /// The configuration.
    pub fn config(&self) -> &MasterConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> MasterStats {
        self.stats
    }

    fn state(&self, board: u8) -> &BoardState {
        // 256 entries: every u8 indexes.
        self.boards.get(usize::from(board)).unwrap_or(&EMPTY)
    }

    fn state_mut(&mut self, board: u8) -> Option<&mut BoardState> {
        self.boards.get_mut(usize::from(board))
    }

    /// Board `board`'s health.
    pub fn health(&self, board: u8) -> BoardHealth {
        let s = self.state(board);
        BoardHealth {
            online: !s.offline,
            consecutive_failures: s.failures,
            next_try_at_us: s.offline.then_some(s.next_try_us),
            backoff_ms: s.backoff_ms,
        }
    }

    /// Forgets `board`'s failures (e.g. after an operator fixed it).
    pub fn reset_health(&mut self, board: u8) {
        let initial = self.config.backoff_initial_ms;
        if let Some(s) = self.state_mut(board) {
            s.failures = 0;
            s.offline = false;
            s.backoff_ms = initial;
        }
    }

    /// May a request to `board` go out at `now_us`? `Ok(ready_at_us)`: not before then (the
    /// post-setting wait and the inter-transaction gap).
    ///
    /// # Errors
    /// [`Error::BoardBackingOff`] while the board is offline and its backoff runs.
    pub fn admit<E: core::fmt::Debug>(&mut self, board: u8, now_us: u64) -> Result<u64, Error<E>> {
        let s = *self.state(board);
        if s.offline && now_us < s.next_try_us {
            self.stats.backoff_refusals += 1;
            return Err(Error::BoardBackingOff { board, next_try_at_us: s.next_try_us });
        }
        let gap = u64::from(self.config.inter_transaction_gap_ms) * 1_000;
        Ok(s.quiet_until_us.max(self.idle_from_us.saturating_add(gap)))
    }

    /// Plans neutral `command` to `board`.
    ///
    /// # Errors
    /// [`Error::Encode`] when the dialect cannot express it.
    pub fn plan<E: core::fmt::Debug>(&mut self, board: u8, command: &Command) -> Result<Plan<D>, Error<E>> {
        let request = self.dialect.request(board, command).map_err(Error::Encode)?;
        Ok(self.plan_request(board, request, Expect::of(command), actuates(command), is_setting(command)))
    }

    /// Plans a dialect request (for requests without neutral meaning, e.g. native event reads).
    pub fn plan_request(
        &mut self,
        board: u8,
        request: D::Request,
        expect: Expect,
        actuates: bool,
        setting: bool,
    ) -> Plan<D> {
        let sequenced = self.dialect.sequenced();
        let retries = self.config.query_retries;
        let (request, seq, offline) = {
            let dialect = self.dialect.clone();
            match self.state_mut(board) {
                Some(s) if sequenced => {
                    let seq = s.seq;
                    s.seq = s.seq.wrapping_add(1);
                    (dialect.stamp(request, seq, s.boot.unwrap_or(0)), Some(seq), s.offline)
                }
                Some(s) => (request, None, s.offline),
                None => (request, None, false),
            }
        };
        let attempts = if offline || (actuates && !sequenced) { 1 } else { retries.saturating_add(1) };
        Plan { request, board, seq, expect, attempts, actuates, setting }
    }

    /// The transaction of `plan` (call again for each attempt: the frame is identical).
    ///
    /// # Errors
    /// [`Error::Encode`] when the request cannot be encoded.
    pub fn transaction<E: core::fmt::Debug>(&mut self, plan: &Plan<D>) -> Result<Transaction<D>, Error<E>> {
        let tx = Transaction::new(&self.dialect, plan.request.clone(), plan.board, plan.seq, plan.expect, &self.config)
            .map_err(Error::Encode)?;
        self.stats.transactions += 1;
        Ok(tx)
    }

    /// Bytes found waiting before a request (flushed unread).
    pub fn drop_late_bytes(&mut self, count: usize) {
        self.stats.late_bytes_dropped += count as u64;
    }

    /// A transaction of `plan` ended at `now_us`: takes its counters; a reply marks the board
    /// healthy (and tracks native boot ids).
    pub fn finish(&mut self, plan: &Plan<D>, tx: &Transaction<D>, reply: Option<&D::Reply>, now_us: u64) {
        merge_stats(&mut self.stats, &tx.stats());
        self.idle_from_us = now_us;
        if let Some(reply) = reply {
            self.note_reply(plan.board, reply);
            let wait = u64::from(self.config.post_setting_wait_ms) * 1_000;
            let initial = self.config.backoff_initial_ms;
            if let Some(s) = self.state_mut(plan.board) {
                s.failures = 0;
                s.offline = false;
                s.backoff_ms = initial;
                if plan.setting {
                    s.quiet_until_us = now_us.saturating_add(wait);
                }
            }
        }
    }

    /// Counts a resend.
    pub fn retrying(&mut self) {
        self.stats.retries += 1;
    }

    /// Counts an unlock whose outcome is unknown.
    pub fn outcome_unknown(&mut self) {
        self.stats.unknown_outcomes += 1;
    }

    /// Every attempt of a request to `board` failed at `now_us`: one more failure; after
    /// `offline_after_failures` in a row the board is offline and backs off (doubling).
    pub fn failed(&mut self, board: u8, now_us: u64) {
        let (limit, max) = (self.config.offline_after_failures.max(1), self.config.backoff_max_ms);
        if let Some(s) = self.state_mut(board) {
            s.failures = s.failures.saturating_add(1);
            if s.offline {
                s.backoff_ms = s.backoff_ms.saturating_mul(2).min(max);
            }
            if s.failures >= limit {
                s.offline = true;
                s.next_try_us = now_us.saturating_add(u64::from(s.backoff_ms) * 1_000);
            }
        }
    }

    /// Tracks the boot id a reply carries: a change of a known id means the board rebooted
    /// (its event numbering restarted, PROTOCOL.md §5.3, §5.4).
    pub fn note_reply(&mut self, board: u8, reply: &D::Reply) {
        let Some(boot) = self.dialect.reply_boot(reply) else { return };
        let mut rebooted = false;
        if let Some(s) = self.state_mut(board) {
            match s.boot {
                Some(known) if known != boot => {
                    s.rebooted = true;
                    s.cursor = 0;
                    rebooted = true;
                }
                None => s.cursor = 0,
                Some(_) => {}
            }
            s.boot = Some(boot);
        }
        if rebooted {
            self.stats.reboots_seen += 1;
        }
    }

    /// The boot id last seen from `board` (native).
    pub fn boot(&self, board: u8) -> Option<u16> {
        self.state(board).boot
    }

    /// The native event cursor of `board`.
    pub fn event_cursor(&self, board: u8) -> u16 {
        self.state(board).cursor
    }

    /// Sets the native event cursor of `board`.
    pub fn set_event_cursor(&mut self, board: u8, cursor: u16) {
        if let Some(s) = self.state_mut(board) {
            s.cursor = cursor;
        }
    }

    /// Whether `board` rebooted since the last call (clears the flag).
    pub fn take_rebooted(&mut self, board: u8) -> bool {
        self.state_mut(board).is_some_and(|s| core::mem::take(&mut s.rebooted))
    }
}

static EMPTY: BoardState = BoardState {
    failures: 0,
    offline: false,
    next_try_us: 0,
    backoff_ms: 0,
    quiet_until_us: 0,
    seq: 0,
    boot: None,
    rebooted: false,
    cursor: 0,
};

/// The neutral meaning of a reply, for shells.
pub fn neutral<D: Dialect>(dialect: &D, reply: &D::Reply) -> Option<Response> {
    dialect.response(reply).map(|(_, response)| response)
}
