//! The bus master: one transaction at a time on a half-duplex multi-drop bus (RS-485), for
//! any [`lockproto::Dialect`].
//!
//! Built like the rest of the workspace: a sans-io core ([`engine`]) that decides everything
//! (request bytes, when a reply is complete, retries, per-board health and backoff, native
//! sequence numbers and boot ids, counters) and thin shells that only move bytes and wait:
//! [`blocking::BusMaster`] over `embedded-io` and `DelayNs`, and (feature `async`)
//! `asynch::BusMaster` over `embedded-io-async` with the same method names.
//!
//! What the master gets right (issue 3; reference/lockboards.md §1.6, §2.4, §5.3, §10):
//!
//! * stale input is flushed (and counted) before each request, so a late byte is never taken
//!   for the next reply;
//! * a transaction completes as soon as its reply frame is complete, never after a fixed
//!   sleep; a response timeout and an inter-byte gap (that ends a broken frame) come from
//!   [`MasterConfig`], whose defaults come from the vendor documents;
//! * replies from other addresses, replies to an earlier request (a native sequence number
//!   that does not match, a reply of the wrong kind) and unsolicited frames are dropped and
//!   counted ([`MasterStats`]);
//! * broadcast collection ([`lockproto::ReplyExpectation::EveryBoard`], CU12 ADDR `0x10`):
//!   every answer until the timeout;
//! * the post-setting wait (CU12/CU16: 500 ms after a setting before the next request to
//!   that board);
//! * per-board health: a board that failed [`MasterConfig::offline_after_failures`]
//!   transactions in a row is offline and only probed again after a doubling backoff, so a
//!   dead board never stalls the others ([`Error::BoardBackingOff`]);
//! * retries by idempotency: queries and settings retry; a native unlock is resent with the
//!   SAME sequence number (the board answers from its reply cache, PROTOCOL.md §5.1); a
//!   vendor-dialect unlock whose reply is lost is never resent: it yields
//!   [`UnlockOutcome::Unknown`] and the master reads the board's status instead.

#[cfg(feature = "async")]
pub mod asynch;
pub mod blocking;
mod dialects;
pub mod engine;
#[cfg(feature = "tokio")]
pub mod gateway;
pub mod schedule;
#[cfg(feature = "serial")]
pub mod serial;

use lockproto::{BoardStatus, Command, DeviceError, EncodeError};

pub use self::engine::{Expect, MasterCore, Plan, Poll, Transaction, TxEnd};
pub use self::schedule::{Priority, Scheduler};

/// Timing and retry configuration of a master. Times in ms unless named otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MasterConfig {
    /// How long after the request's last byte a complete reply may take (for broadcasts: how
    /// long answers are collected).
    pub response_timeout_ms: u32,
    /// Line silence that ends a frame in progress: buffered bytes that are still no complete
    /// frame after this gap are dropped as a broken frame.
    pub inter_byte_gap_ms: u32,
    /// Extra attempts of a query or setting whose reply was lost (and of a native unlock,
    /// resent with the same sequence number). Vendor-dialect unlocks are never resent.
    pub query_retries: u8,
    /// Wait after a setting (parameter write) before the next request to that board.
    pub post_setting_wait_ms: u32,
    /// Minimum line silence between the end of one transaction and the next request.
    pub inter_transaction_gap_ms: u32,
    /// After this many failed transactions in a row a board is offline.
    pub offline_after_failures: u8,
    /// First backoff of an offline board; it doubles on every failed probe.
    pub backoff_initial_ms: u32,
    /// The backoff stops doubling here.
    pub backoff_max_ms: u32,
    /// How often the blocking and async shells look for input while waiting, µs. Completion
    /// is seen at most this late; it does not change what is received.
    pub poll_interval_us: u32,
}

impl MasterConfig {
    /// Defaults shared by every dialect: 2 retries of a query, offline after 3 failures in a
    /// row, backoff 1 s doubling to 30 s, input checked every 250 µs.
    pub const fn new(response_timeout_ms: u32, inter_byte_gap_ms: u32) -> Self {
        MasterConfig {
            response_timeout_ms,
            inter_byte_gap_ms,
            query_retries: 2,
            post_setting_wait_ms: 0,
            inter_transaction_gap_ms: 0,
            offline_after_failures: 3,
            backoff_initial_ms: 1_000,
            backoff_max_ms: 30_000,
            poll_interval_us: 250,
        }
    }

    /// Kerong CU12: 1.5 s reply timeout (lockboards.md §10 budget, `kerong_cu12::RESPONSE_TIMEOUT_MS`),
    /// 500 ms after a setting (CU12 doc §1.5.6, lockboards.md §3.3), 25 ms gap (§1.4 adapters).
    pub const fn for_kerong_cu12() -> Self {
        use lockproto::dialect::kerong_cu12 as d;
        let mut config = Self::new(d::RESPONSE_TIMEOUT_MS, lockproto::native::IDLE_GAP_MS);
        config.post_setting_wait_ms = d::POST_SETTING_WAIT_MS;
        config
    }

    /// Kerong CU16: 1 s reply timeout (kerong-lib, lockboards.md §2), 500 ms after a setting
    /// (CU16 doc §5(5)).
    pub const fn for_kerong_cu16() -> Self {
        use lockproto::dialect::kerong_cu16 as d;
        let mut config = Self::new(d::RESPONSE_TIMEOUT_MS, lockproto::native::IDLE_GAP_MS);
        config.post_setting_wait_ms = d::POST_SETTING_WAIT_MS;
        config
    }

    /// 8A/80 boards: 1.5 s reply timeout covering the 1 s late unlock reply, 25 ms quiet time
    /// ending a reply, 5 ms between transactions (lockboards.md §1.4, Open-Locker ADR-0067).
    pub const fn for_bcc_8a80() -> Self {
        use lockproto::dialect::bcc_8a80 as d;
        let mut config = Self::new(d::RESPONSE_TIMEOUT_MS, d::FRAME_QUIET_TIME_MS);
        config.inter_transaction_gap_ms = d::INTER_TRANSACTION_GAP_MS;
        config
    }

    /// WKLY boards: 1 s reply timeout (ESP32 driver, lockboards.md §5).
    pub const fn for_wkly() -> Self {
        Self::new(lockproto::dialect::wkly::RESPONSE_TIMEOUT_MS, lockproto::native::IDLE_GAP_MS)
    }

    /// Winnsen boards: 3 s reply timeout (pudokiosk, lockboards.md §6).
    pub const fn for_winnsen() -> Self {
        Self::new(lockproto::dialect::winnsen::RESPONSE_TIMEOUT_MS, lockproto::native::IDLE_GAP_MS)
    }

    /// Modbus RTU relay boards: 1 s reply timeout (Open-Locker Waveshare config, lockboards.md
    /// §7); a frame ends after 3.5 character times of silence (Modbus serial line §2.5.1.1),
    /// rounded up to whole ms at 9600 baud.
    pub const fn for_modbus_relay() -> Self {
        use lockproto::dialect::modbus_relay as d;
        Self::new(d::RESPONSE_TIMEOUT_MS, d::INTER_FRAME_GAP_US.div_ceil(1_000))
    }

    /// Native boards at 19200 baud: turnaround + longest frame + idle gap
    /// (`native::RESPONSE_TIMEOUT_MS`, PROTOCOL.md §6), 25 ms idle gap, 500 ms after a
    /// parameter write (`native::POST_WRITE_WAIT_MS`).
    pub const fn for_native() -> Self {
        use lockproto::native as n;
        let mut config = Self::new(n::RESPONSE_TIMEOUT_MS, n::IDLE_GAP_MS);
        config.post_setting_wait_ms = n::POST_WRITE_WAIT_MS;
        config
    }
}

/// A dialect as the master drives it: the vendor defaults and, for the native protocol, the
/// session fields (sequence number, boot id) a request carries. Implemented for every
/// dialect of [`lockproto`].
pub trait BusDialect: lockproto::Dialect {
    /// The configuration from the vendor documents (see [`MasterConfig`]'s constructors).
    fn default_config(&self) -> MasterConfig;

    /// Whether requests carry a sequence number echoed by the reply, so that an identical
    /// resend of an unlock is answered from the board's cache without pulsing again.
    fn sequenced(&self) -> bool {
        false
    }

    /// `request` with sequence number `seq` and expected boot id `boot` (sequenced dialects).
    fn stamp(&self, request: Self::Request, _seq: u8, _boot: u16) -> Self::Request {
        request
    }

    /// The board that sent `reply`, where the reply names it.
    fn reply_board(&self, reply: &Self::Reply) -> Option<u8> {
        self.response(reply).map(|(board, _)| board)
    }

    /// The sequence number `reply` echoes (sequenced dialects).
    fn reply_seq(&self, _reply: &Self::Reply) -> Option<u8> {
        None
    }

    /// The boot id `reply` carries (native).
    fn reply_boot(&self, _reply: &Self::Reply) -> Option<u16> {
        None
    }

    /// The address whose status request every board answers (Kerong CU12 `0x10`, CU16
    /// `0x0F`), if the dialect has one.
    fn status_broadcast(&self) -> Option<u8> {
        None
    }
}

/// A monotonic clock for the shells.
pub trait Clock {
    /// Now, µs since an arbitrary start.
    fn now_us(&mut self) -> u64;

    /// Now, ms since the same start.
    fn now_ms(&mut self) -> u64 {
        self.now_us() / 1_000
    }
}

impl<C: Clock + ?Sized> Clock for &mut C {
    fn now_us(&mut self) -> u64 {
        (**self).now_us()
    }
}

/// A clock over [`std::time::Instant`] (feature `std`).
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy)]
pub struct StdClock {
    start: std::time::Instant,
}

#[cfg(feature = "std")]
impl StdClock {
    /// A clock starting now.
    pub fn new() -> Self {
        StdClock { start: std::time::Instant::now() }
    }
}

#[cfg(feature = "std")]
impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl Clock for StdClock {
    fn now_us(&mut self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(feature = "sim")]
impl Clock for crate::sim::bus::SimClock {
    fn now_us(&mut self) -> u64 {
        crate::sim::bus::SimClock::now_us(self)
    }
}

/// "No driver-enable pin": for transceivers with automatic direction control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoPin;

impl embedded_hal::digital::ErrorType for NoPin {
    type Error = ::core::convert::Infallible;
}

impl embedded_hal::digital::OutputPin for NoPin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// What became of an unlock request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnlockOutcome {
    /// The board acknowledged the unlock.
    Confirmed,
    /// The board refused (the lock was not pulsed).
    Refused(DeviceError),
    /// The reply was lost: the lock may or may not have been pulsed. A vendor-dialect unlock
    /// is never resent in this case; see [`UnlockReport::status_after`].
    Unknown,
    /// The dialect has no reply to an unlock (Kerong CU16): the request went out; see
    /// [`UnlockReport::status_after`].
    Sent,
}

/// The result of [`blocking::BusMaster::unlock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnlockReport {
    /// The outcome.
    pub outcome: UnlockOutcome,
    /// The board's status read after an `Unknown` or `Sent` outcome (when that read worked).
    pub status_after: Option<BoardStatus>,
    /// How many times the unlock frame went on the wire (more than 1 only for native
    /// resends of the identical frame).
    pub attempts: u8,
    /// From the start of the call to the outcome, µs.
    pub latency_us: u64,
}

/// A board's health as the master sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BoardHealth {
    /// Not offline (a board never heard from is online until it fails).
    pub online: bool,
    /// Failed transactions in a row.
    pub consecutive_failures: u8,
    /// While offline: the earliest time (µs, the master's clock) of the next probe.
    pub next_try_at_us: Option<u64>,
    /// The backoff that applies after the next failed probe, ms.
    pub backoff_ms: u32,
}

/// Counters since the master was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MasterStats {
    /// Frames sent.
    pub transactions: u64,
    /// Replies accepted.
    pub replies: u64,
    /// Transactions that ended without the expected reply.
    pub timeouts: u64,
    /// Resends of a query, setting or native unlock.
    pub retries: u64,
    /// Frames from a board other than the addressed one. Dialects that check the echoed
    /// address while decoding (CU12, 8A/80, Winnsen, Modbus) report such a frame as one or
    /// more runs of bytes that cannot be the reply; each run counts once.
    pub foreign_replies_dropped: u64,
    /// Complete frames from the addressed board that do not answer the request (wrong
    /// sequence number, wrong kind, unsolicited).
    pub stale_replies_dropped: u64,
    /// Bytes that were waiting before a request (flushed) or arrived after its deadline.
    pub late_bytes_dropped: u64,
    /// Runs of bytes that formed no frame (garbage, corruption, frames cut by the gap).
    pub rejected_frames: u64,
    /// Unlocks whose outcome is unknown.
    pub unknown_outcomes: u64,
    /// Requests refused at once because their board was backing off.
    pub backoff_refusals: u64,
    /// Native replies that showed a new boot id of a board already known.
    pub reboots_seen: u64,
}

/// Errors of the bus master. `E` is the serial port's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E: ::core::fmt::Debug> {
    /// Reading the serial port failed.
    #[error("serial read failed: {0:?}")]
    Read(E),
    /// Writing the serial port failed.
    #[error("serial write failed: {0:?}")]
    Write(E),
    /// The RS-485 driver-enable pin could not be switched.
    #[error("the RS-485 driver-enable pin could not be switched")]
    DriverEnable,
    /// No (valid, matching) reply within the response timeout, after every allowed attempt.
    #[error("board {board}: no reply within the response timeout")]
    Timeout {
        /// The addressed board.
        board: u8,
    },
    /// The board answered with an error.
    #[error("board {board} refused: {error:?}")]
    Device {
        /// The board.
        board: u8,
        /// Its error.
        error: DeviceError,
    },
    /// The request cannot be expressed in the dialect, or the board cannot be addressed.
    #[error("cannot encode the request: {0}")]
    Encode(EncodeError),
    /// The board answered something the method cannot use (e.g. no status to a status read).
    #[error("board {board}: the reply does not answer the request")]
    UnexpectedReply {
        /// The board.
        board: u8,
    },
    /// The board is offline and its backoff has not expired: nothing was sent.
    #[error("board {board} is offline; next probe at {next_try_at_us} µs")]
    BoardBackingOff {
        /// The board.
        board: u8,
        /// When it will be probed again (the master's clock, µs).
        next_try_at_us: u64,
    },
    /// The request was sent, but the dialect has no reply to it (Kerong CU16 unlock): nothing
    /// confirms that the board received it.
    #[error("board {board}: sent; this request draws no reply")]
    Unconfirmed {
        /// The board.
        board: u8,
    },
    /// The method needs a different dialect (e.g. native event reads).
    #[error("not available in this dialect: {0}")]
    Unsupported(&'static str),
}

impl<E: ::core::fmt::Debug> Error<E> {
    /// The same error with another port error type (for errors that carry none).
    pub fn map_port<F: ::core::fmt::Debug>(self, f: impl FnOnce(E) -> F) -> Error<F> {
        match self {
            Error::Read(e) => Error::Read(f(e)),
            Error::Write(e) => Error::Write(f(e)),
            Error::DriverEnable => Error::DriverEnable,
            Error::Timeout { board } => Error::Timeout { board },
            Error::Device { board, error } => Error::Device { board, error },
            Error::Encode(e) => Error::Encode(e),
            Error::UnexpectedReply { board } => Error::UnexpectedReply { board },
            Error::BoardBackingOff { board, next_try_at_us } => Error::BoardBackingOff { board, next_try_at_us },
            Error::Unconfirmed { board } => Error::Unconfirmed { board },
            Error::Unsupported(what) => Error::Unsupported(what),
        }
    }
}

/// Whether `command` pulses a lock (never resent blindly).
pub const fn actuates(command: &Command) -> bool {
    matches!(command, Command::Unlock(_) | Command::UnlockMany(_) | Command::UnlockAll)
}

/// Whether `command` is a setting that needs the post-setting wait.
pub const fn is_setting(command: &Command) -> bool {
    matches!(command, Command::WriteParameter(_))
}

/// Native events read through [`blocking::BusMaster::events`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EventsSummary {
    /// Events handed to the callback.
    pub events: u32,
    /// The board's log overflowed since the last read: events were lost on the board.
    pub lost: bool,
    /// The board rebooted since the last read: events logged before the reboot and not yet
    /// read are gone.
    pub rebooted: bool,
}
