//! The Winnsen smart-locker board (STM32L412, 16 locks), reference/lockboards.md §6.
//!
//! 9600 8N1, **no checksum**. Every frame is `90 LEN FN STATION … 03` with LEN = the total
//! frame length. Without a checksum, bus noise is caught only by the structure, so the decoder
//! checks everything it can: header `90`, LEN against the function, the `03` end byte, lock
//! numbers 1..=16, station 0 (configuration), and with a pending request the reply's function,
//! station and lock.
//!
//! | operation | request | reply |
//! |---|---|---|
//! | open | `90 06 05 ss ll 03` | `90 07 85 ss ll st 03` (or `A5`) |
//! | poll (LocQar) | `90 07 02 ss MASKlo MASKhi 03` | `90 07 82 ss STATElo STATEhi 03` (or `A2`) |
//! | status (pudokiosk) | `90 06 12 ss ll 03` | `90 07 92 ss st ll 03` |
//!
//! * `ss` station (board address, DIP switch), `ll` lock 1..=16.
//! * Open result `st`: `01` opened, `00` failed, `02` cool-down (duty-cycle protection,
//!   pudokiosk only); other values are kept as [`OpenOutcome::Unknown`], because the firmware
//!   evidently grows new codes (cool-down appears only in a later pudokiosk version).
//! * Poll mask and state: bit *i* = lock *i* + 1, low byte first. State bit = 1 means **open**
//!   (LocQar, from "Winnsen Serial Command Document V202104"); it is reported raw as *active*
//!   in [`ChannelBits`], so installations read it with
//!   [`crate::FeedbackPolarity::ActiveWhenUnlocked`].
//! * Status reply: status **before** lock, the reverse of the open reply (pudokiosk: "NOTE:
//!   status/lock swapped!"); `st` `01` open, `00` closed, others kept as
//!   [`LockReading::Unknown`].
//!
//! # Conflicting sources, made configuration
//!
//! * Reply codes: the documented `85`/`82`, and `A5`/`A2` ("alternate, confirmed on Godwin's
//!   board", LocQar; some firmware sets bit 5 as well as bit 7). Both decode; the message keeps
//!   which one ([`ReplyCodeVariant`]) so it re-encodes identically; a simulated board answers
//!   with [`Winnsen::reply_variant`].
//! * Reading status: LocQar polls a bitmap (`02`), pudokiosk reads one lock (`12`):
//!   [`Winnsen::status_command`].
//! * Station 0: LocQar's unit test rejects it, pudokiosk v1 addresses stations 0-3 (a later
//!   version uses 1-4): [`Winnsen::allow_station_zero`].
//!
//! # Sources
//!
//! LocQar/winnsen-test `WinnsenCodec.kt` (@56df62bc, with the alternate codes; @eb855f32),
//! `WinnsenCodecTest.kt` @eb855f32, `cli/index.js` @dedaddd2; Kotlin
//! `com.blitztech.pudokiosk.deviceio.rs485.WinnsenProtocol` and `WinnsenProtocolTest`
//! (several versions, repository not identified).

use crate::dialect::{Decoded, Dialect, ReplyExpectation};
use crate::error::{EncodeError, FrameError};
use crate::model::{BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, Lock, LockSet, Response};
use crate::wire::{Reader, Writer};

/// Serial speed, 8N1 (LocQar, pudokiosk).
pub const BAUD_RATE: u32 = 9600;

/// How long to wait for a reply: 3000 ms (pudokiosk `RESPONSE_TIMEOUT_MS`; an earlier
/// version and LocQar's CLI use 2000 ms).
pub const RESPONSE_TIMEOUT_MS: u32 = 3000;

/// Locks per board (LocQar: bits 0-15 = locks 1-16; pudokiosk: 16 locks per station).
pub const LOCKS_PER_BOARD: u8 = 16;

/// Poll mask for all 16 locks (LocQar `buildPollCommand` default and CLI).
pub const ALL_LOCKS_MASK: u16 = 0xFFFF;

const HEADER: u8 = 0x90;
const END: u8 = 0x03;
const FN_OPEN: u8 = 0x05;
const FN_POLL: u8 = 0x02;
const FN_STATUS: u8 = 0x12;
const REPLY_DOCUMENTED: u8 = 0x80;
const REPLY_ALTERNATE: u8 = 0xA0;
const STATUS_REPLY: u8 = FN_STATUS | REPLY_DOCUMENTED;
const SHORT_LEN: u8 = 6;
const LONG_LEN: u8 = 7;
const REPLY_LEN: u8 = 7;
const OPENED: u8 = 0x01;
const FAILED: u8 = 0x00;
const COOLDOWN: u8 = 0x02;
const READ_OPEN: u8 = 0x01;
const READ_CLOSED: u8 = 0x00;

/// Which family of reply codes a board uses for the open and poll replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ReplyCodeVariant {
    /// Function code with bit 7 set: `85`, `82` (Winnsen document V202104, via LocQar).
    #[default]
    Documented,
    /// Function code + `A0`: `A5`, `A2` (LocQar: "alternate, confirmed on Godwin's board").
    Alternate,
}

impl ReplyCodeVariant {
    const fn code(self, function: u8) -> u8 {
        match self {
            ReplyCodeVariant::Documented => function | REPLY_DOCUMENTED,
            ReplyCodeVariant::Alternate => function | REPLY_ALTERNATE,
        }
    }
}

/// How the master reads lock state (the sources conflict, §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum StatusCommand {
    /// `02`, a 16-bit bitmap poll (LocQar, from the vendor document): serves both query-all and
    /// query-one (with a one-lock mask).
    #[default]
    Poll,
    /// `12`, one lock's state (pudokiosk): query-all is then unsupported.
    LockStatus,
}

/// The result byte of an open reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum OpenOutcome {
    /// `01`: the board reports the lock opened.
    Opened,
    /// `00`: the board reports failure.
    Failed,
    /// `02`: refused by duty-cycle protection (pudokiosk only).
    Cooldown,
    /// Any other code, kept as sent.
    Unknown {
        /// The code.
        code: u8,
    },
}

impl OpenOutcome {
    /// The outcome a wire code stands for.
    pub const fn from_code(code: u8) -> Self {
        match code {
            OPENED => OpenOutcome::Opened,
            FAILED => OpenOutcome::Failed,
            COOLDOWN => OpenOutcome::Cooldown,
            code => OpenOutcome::Unknown { code },
        }
    }

    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            OpenOutcome::Opened => OPENED,
            OpenOutcome::Failed => FAILED,
            OpenOutcome::Cooldown => COOLDOWN,
            OpenOutcome::Unknown { code } => code,
        }
    }

    /// Whether this value is how its code decodes (`Unknown` must not hide a known code).
    const fn is_canonical(self) -> bool {
        !matches!(self, OpenOutcome::Unknown { code: OPENED | FAILED | COOLDOWN })
    }
}

/// The state byte of a status reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum LockReading {
    /// `00`: closed.
    Closed,
    /// `01`: open.
    Open,
    /// Any other code, kept as sent.
    Unknown {
        /// The code.
        code: u8,
    },
}

impl LockReading {
    /// The reading a wire code stands for.
    pub const fn from_code(code: u8) -> Self {
        match code {
            READ_OPEN => LockReading::Open,
            READ_CLOSED => LockReading::Closed,
            code => LockReading::Unknown { code },
        }
    }

    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            LockReading::Open => READ_OPEN,
            LockReading::Closed => READ_CLOSED,
            LockReading::Unknown { code } => code,
        }
    }

    const fn is_canonical(self) -> bool {
        !matches!(self, LockReading::Unknown { code: READ_OPEN | READ_CLOSED })
    }
}

/// Master → board messages of the Winnsen board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum WinnsenRequest {
    /// `90 06 05 ss ll 03`: open one lock.
    Open {
        /// Station (board address).
        board: u8,
        /// The lock, 1..=16.
        lock: Lock,
    },
    /// `90 07 02 ss MASKlo MASKhi 03`: read the state of the locks in `locks` (LocQar).
    Poll {
        /// Station (board address).
        board: u8,
        /// The mask: locks 1..=16 to read.
        locks: LockSet,
    },
    /// `90 06 12 ss ll 03`: read one lock's state (pudokiosk).
    LockStatus {
        /// Station (board address).
        board: u8,
        /// The lock, 1..=16.
        lock: Lock,
    },
}

/// Board → master messages of the Winnsen board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum WinnsenReply {
    /// `90 07 85|A5 ss ll st 03`: the result of an open.
    OpenResult {
        /// Which reply code the board used.
        variant: ReplyCodeVariant,
        /// Station (board address).
        board: u8,
        /// The lock, 1..=16.
        lock: Lock,
        /// The result byte.
        outcome: OpenOutcome,
    },
    /// `90 07 82|A2 ss STATElo STATEhi 03`: lock states, bit = 1 open.
    PollResult {
        /// Which reply code the board used.
        variant: ReplyCodeVariant,
        /// Station (board address).
        board: u8,
        /// Locks (1..=16) whose state bit is 1 (open).
        open: LockSet,
    },
    /// `90 07 92 ss st ll 03`: one lock's state (status before lock).
    LockStatus {
        /// Station (board address).
        board: u8,
        /// The lock, 1..=16.
        lock: Lock,
        /// The state byte.
        reading: LockReading,
    },
}

/// The Winnsen dialect, with its configuration.
#[derive(Debug, Clone)]
pub struct Winnsen {
    /// Whether station 0 is a valid address. `false` (default) follows LocQar, whose unit test
    /// rejects station 0 and whose CLI takes 1-255 (a later pudokiosk version also starts at
    /// 1); `true` follows pudokiosk v1, which addresses stations 0-3. When `false`, frames
    /// with station 0 are rejected ([`FrameError::BadField`]) and cannot be requested.
    pub allow_station_zero: bool,
    /// How [`Dialect::request`] reads lock state.
    pub status_command: StatusCommand,
    /// The reply codes a simulated board answers with ([`Dialect::reply`]); decoding accepts
    /// both.
    pub reply_variant: ReplyCodeVariant,
    /// The mask [`Command::QueryAll`] polls: [`ALL_LOCKS_MASK`] by default (LocQar app and CLI);
    /// LocQar's kiosk codec polls `0x0FFF` for 12-door boards.
    pub poll_mask: u16,
}

impl Default for Winnsen {
    fn default() -> Self {
        Winnsen {
            allow_station_zero: false,
            status_command: StatusCommand::Poll,
            reply_variant: ReplyCodeVariant::Documented,
            poll_mask: ALL_LOCKS_MASK,
        }
    }
}

/// What a function code at byte 2 says about the frame.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReplyKind {
    Open(ReplyCodeVariant),
    Poll(ReplyCodeVariant),
    Status,
}

impl ReplyKind {
    fn from_code(code: u8) -> Option<Self> {
        let variant = |function| {
            [ReplyCodeVariant::Documented, ReplyCodeVariant::Alternate]
                .into_iter()
                .find(|variant| variant.code(function) == code)
        };
        if let Some(v) = variant(FN_OPEN) {
            Some(ReplyKind::Open(v))
        } else if let Some(v) = variant(FN_POLL) {
            Some(ReplyKind::Poll(v))
        } else if code == STATUS_REPLY {
            Some(ReplyKind::Status)
        } else {
            None
        }
    }

    /// Whether this reply answers `request`, and the documented code it would carry if so.
    fn answers(self, request: &WinnsenRequest) -> Result<(), u8> {
        match (self, request) {
            (ReplyKind::Open(_), WinnsenRequest::Open { .. })
            | (ReplyKind::Poll(_), WinnsenRequest::Poll { .. })
            | (ReplyKind::Status, WinnsenRequest::LockStatus { .. }) => Ok(()),
            (_, WinnsenRequest::Open { .. }) => Err(ReplyCodeVariant::Documented.code(FN_OPEN)),
            (_, WinnsenRequest::Poll { .. }) => Err(ReplyCodeVariant::Documented.code(FN_POLL)),
            (_, WinnsenRequest::LockStatus { .. }) => Err(STATUS_REPLY),
        }
    }
}

const fn request_board(request: &WinnsenRequest) -> u8 {
    match *request {
        WinnsenRequest::Open { board, .. }
        | WinnsenRequest::Poll { board, .. }
        | WinnsenRequest::LockStatus { board, .. } => board,
    }
}

const fn request_lock(request: &WinnsenRequest) -> Option<Lock> {
    match *request {
        WinnsenRequest::Open { lock, .. } | WinnsenRequest::LockStatus { lock, .. } => Some(lock),
        WinnsenRequest::Poll { .. } => None,
    }
}

fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported { dialect: Winnsen::NAME, what }
}

fn lock_out_of_range(lock: Lock) -> EncodeError {
    EncodeError::OutOfRange { field: "lock", value: lock.get().into(), reason: "Winnsen boards have locks 1..=16" }
}

fn check_lock(lock: Lock) -> Result<u8, EncodeError> {
    if lock.get() <= LOCKS_PER_BOARD { Ok(lock.get()) } else { Err(lock_out_of_range(lock)) }
}

/// The 16-bit wire mask of `locks`, or an error for locks above 16.
fn mask_of(field: &'static str, locks: LockSet) -> Result<u16, EncodeError> {
    match locks.last() {
        Some(last) if last.get() > LOCKS_PER_BOARD => Err(EncodeError::OutOfRange {
            field,
            value: last.get().into(),
            reason: "Winnsen bitmaps cover locks 1..=16",
        }),
        _ => Ok(u16::from_le_bytes([locks.byte(0), locks.byte(1)])),
    }
}

fn lock_at(r: &Reader<'_>, offset: usize, expected: Option<Lock>) -> Result<Lock, FrameError> {
    let found = r.u8(offset)?;
    if let Some(expected) = expected
        && expected.get() != found
    {
        return Err(FrameError::Mismatch { offset, field: "lock", expected: expected.get(), found });
    }
    match Lock::new(found) {
        Some(lock) if found <= LOCKS_PER_BOARD => Ok(lock),
        _ => Err(FrameError::BadField { offset, field: "lock", found }),
    }
}

fn mask_at(r: &Reader<'_>, offset: usize) -> Result<LockSet, FrameError> {
    let low = r.u8(offset)?;
    let high = r.u8(offset + 1)?;
    Ok(LockSet::from_bits(u128::from(u16::from_le_bytes([low, high]))))
}

fn header(r: &Reader<'_>) -> Result<(), FrameError> {
    match r.u8(0)? {
        HEADER => Ok(()),
        found => Err(FrameError::BadStart { offset: 0, found }),
    }
}

fn decoded<M>(message: M, len: u8) -> Decoded<M> {
    Decoded { message, len: len.into() }
}

impl Winnsen {
    fn station_at(&self, r: &Reader<'_>, expected: Option<u8>) -> Result<u8, FrameError> {
        let found = r.u8(3)?;
        if let Some(expected) = expected
            && expected != found
        {
            return Err(FrameError::Mismatch { offset: 3, field: "station", expected, found });
        }
        if found == 0 && !self.allow_station_zero {
            return Err(FrameError::BadField { offset: 3, field: "station", found });
        }
        Ok(found)
    }

    fn check_board(&self, board: u8) -> Result<(), EncodeError> {
        if board == 0 && !self.allow_station_zero {
            Err(EncodeError::OutOfRange {
                field: "board",
                value: 0,
                reason: "station 0 is disabled (Winnsen::allow_station_zero)",
            })
        } else {
            Ok(())
        }
    }
}

fn write_frame(out: &mut [u8], function: u8, payload: &[u8]) -> Result<usize, EncodeError> {
    let mut w = Writer::new(out);
    // LEN counts the whole frame: header, LEN, FN, payload, end.
    let len = u8::try_from(payload.len() + 4).map_err(|_| EncodeError::OutOfRange {
        field: "payload",
        value: u32::try_from(payload.len()).unwrap_or(u32::MAX),
        reason: "frame longer than 255 bytes",
    })?;
    w.extend(&[HEADER, len, function])?;
    w.extend(payload)?;
    w.push(END)?;
    Ok(w.len())
}

fn single_status(lock: Lock, open: bool) -> BoardStatus {
    let mut reported = LockSet::EMPTY;
    reported.insert(lock);
    let active = if open { reported } else { LockSet::EMPTY };
    BoardStatus { locks: ChannelBits { reported, active }, doors: None, presence: None }
}

fn device_error(code: u8, kind: DeviceErrorKind) -> Response {
    Response::DeviceError(DeviceError { code, kind })
}

impl Dialect for Winnsen {
    type Request = WinnsenRequest;
    type Reply = WinnsenReply;
    const NAME: &'static str = "winnsen";
    const MAX_FRAME_LEN: usize = 7;

    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<WinnsenRequest>, FrameError> {
        let r = Reader::new(buf);
        header(&r)?;
        let len = r.u8(1)?;
        if len != SHORT_LEN && len != LONG_LEN {
            return Err(FrameError::BadLength {
                offset: 1,
                found: len.into(),
                reason: "Winnsen requests are 6 or 7 bytes",
            });
        }
        let function = r.u8(2)?;
        let expected_len = match function {
            FN_OPEN | FN_STATUS => SHORT_LEN,
            FN_POLL => LONG_LEN,
            found => return Err(FrameError::UnknownCommand { offset: 2, found }),
        };
        if len != expected_len {
            let reason =
                if expected_len == SHORT_LEN { "this function has 6 bytes" } else { "this function has 7 bytes" };
            return Err(FrameError::BadLength { offset: 1, found: len.into(), reason });
        }
        let board = self.station_at(&r, None)?;
        let message = match function {
            FN_POLL => WinnsenRequest::Poll { board, locks: mask_at(&r, 4)? },
            FN_OPEN => WinnsenRequest::Open { board, lock: lock_at(&r, 4, None)? },
            _ => WinnsenRequest::LockStatus { board, lock: lock_at(&r, 4, None)? },
        };
        r.marker(usize::from(len) - 1, END)?;
        Ok(decoded(message, len))
    }

    fn decode_reply(&self, buf: &[u8], pending: Option<&WinnsenRequest>) -> Result<Decoded<WinnsenReply>, FrameError> {
        let r = Reader::new(buf);
        header(&r)?;
        let len = r.u8(1)?;
        if len != REPLY_LEN {
            return Err(FrameError::BadLength { offset: 1, found: len.into(), reason: "Winnsen replies are 7 bytes" });
        }
        let code = r.u8(2)?;
        let kind = ReplyKind::from_code(code).ok_or(FrameError::UnknownCommand { offset: 2, found: code })?;
        if let Some(request) = pending {
            kind.answers(request).map_err(|expected| FrameError::Mismatch {
                offset: 2,
                field: "function",
                expected,
                found: code,
            })?;
        }
        let board = self.station_at(&r, pending.map(request_board))?;
        let expected_lock = pending.and_then(request_lock);
        let message = match kind {
            ReplyKind::Open(variant) => {
                let lock = lock_at(&r, 4, expected_lock)?;
                WinnsenReply::OpenResult { variant, board, lock, outcome: OpenOutcome::from_code(r.u8(5)?) }
            }
            ReplyKind::Poll(variant) => WinnsenReply::PollResult { variant, board, open: mask_at(&r, 4)? },
            ReplyKind::Status => {
                let reading = LockReading::from_code(r.u8(4)?);
                WinnsenReply::LockStatus { board, lock: lock_at(&r, 5, expected_lock)?, reading }
            }
        };
        r.marker(usize::from(REPLY_LEN) - 1, END)?;
        Ok(decoded(message, REPLY_LEN))
    }

    fn encode_request(&self, request: &WinnsenRequest, out: &mut [u8]) -> Result<usize, EncodeError> {
        // Never write a frame this configuration's own decoder would refuse.
        self.check_board(request_board(request))?;
        match *request {
            WinnsenRequest::Open { board, lock } => write_frame(out, FN_OPEN, &[board, check_lock(lock)?]),
            WinnsenRequest::Poll { board, locks } => {
                let [low, high] = mask_of("locks", locks)?.to_le_bytes();
                write_frame(out, FN_POLL, &[board, low, high])
            }
            WinnsenRequest::LockStatus { board, lock } => write_frame(out, FN_STATUS, &[board, check_lock(lock)?]),
        }
    }

    fn encode_reply(&self, reply: &WinnsenReply, out: &mut [u8]) -> Result<usize, EncodeError> {
        match *reply {
            WinnsenReply::OpenResult { variant, board, lock, outcome } => {
                self.check_board(board)?;
                if !outcome.is_canonical() {
                    return Err(EncodeError::OutOfRange {
                        field: "outcome",
                        value: outcome.code().into(),
                        reason: "a known code must use its own variant",
                    });
                }
                write_frame(out, variant.code(FN_OPEN), &[board, check_lock(lock)?, outcome.code()])
            }
            WinnsenReply::PollResult { variant, board, open } => {
                self.check_board(board)?;
                let [low, high] = mask_of("open", open)?.to_le_bytes();
                write_frame(out, variant.code(FN_POLL), &[board, low, high])
            }
            WinnsenReply::LockStatus { board, lock, reading } => {
                self.check_board(board)?;
                if !reading.is_canonical() {
                    return Err(EncodeError::OutOfRange {
                        field: "reading",
                        value: reading.code().into(),
                        reason: "a known code must use its own variant",
                    });
                }
                write_frame(out, STATUS_REPLY, &[board, reading.code(), check_lock(lock)?])
            }
        }
    }

    fn reply_expectation(&self, _request: &WinnsenRequest) -> ReplyExpectation {
        ReplyExpectation::One
    }

    /// Unlock → open; query-all → poll with [`Winnsen::poll_mask`] (unsupported when
    /// [`Winnsen::status_command`] is [`StatusCommand::LockStatus`]); query-one → poll with a
    /// one-lock mask or the `12` status command, per [`Winnsen::status_command`].
    fn request(&self, board: u8, command: &Command) -> Result<WinnsenRequest, EncodeError> {
        self.check_board(board)?;
        match (*command, self.status_command) {
            (Command::Unlock(lock), _) => {
                check_lock(lock)?;
                Ok(WinnsenRequest::Open { board, lock })
            }
            (Command::QueryAll, StatusCommand::Poll) => {
                Ok(WinnsenRequest::Poll { board, locks: LockSet::from_bits(self.poll_mask.into()) })
            }
            (Command::QueryAll, StatusCommand::LockStatus) => {
                Err(unsupported("query-all with the one-lock status command (status_command = lock_status)"))
            }
            (Command::QueryLock(lock), StatusCommand::Poll) => {
                check_lock(lock)?;
                Ok(WinnsenRequest::Poll { board, locks: [lock].into_iter().collect() })
            }
            (Command::QueryLock(lock), StatusCommand::LockStatus) => {
                check_lock(lock)?;
                Ok(WinnsenRequest::LockStatus { board, lock })
            }
            (Command::UnlockAll | Command::UnlockMany(_), _) => Err(unsupported("unlocking several locks")),
            (Command::BoardInfo, _) => Err(unsupported("board info")),
            (Command::ReadParameter(_) | Command::WriteParameter(_), _) => Err(unsupported("parameters")),
            (Command::QueryAddress, _) => Err(unsupported("the address query")),
        }
    }

    /// A poll of exactly one lock reads as query-one, any other poll as query-all.
    fn command(&self, request: &WinnsenRequest) -> Option<(u8, Command)> {
        Some(match *request {
            WinnsenRequest::Open { board, lock } => (board, Command::Unlock(lock)),
            WinnsenRequest::Poll { board, locks } => match (locks.len(), locks.last()) {
                (1, Some(lock)) => (board, Command::QueryLock(lock)),
                _ => (board, Command::QueryAll),
            },
            WinnsenRequest::LockStatus { board, lock } => (board, Command::QueryLock(lock)),
        })
    }

    /// Open answers [`Response::Ack`] (opened) or a [`Response::DeviceError`] whose `code` is the
    /// result byte (`00` failed, `02` cool-down, others kept); a poll answers a status (active =
    /// open, locks 1..=16) with [`Winnsen::reply_variant`]; the status command answers a status
    /// that reads the lock, or a device error with an unknown code. Replies echo the request's
    /// station and lock.
    fn reply(&self, _board: u8, request: &WinnsenRequest, response: &Response) -> Result<WinnsenReply, EncodeError> {
        let variant = self.reply_variant;
        match (*request, response) {
            (WinnsenRequest::Open { board, lock }, Response::Ack) => {
                Ok(WinnsenReply::OpenResult { variant, board, lock, outcome: OpenOutcome::Opened })
            }
            (WinnsenRequest::Open { board, lock }, Response::DeviceError(error)) => {
                match OpenOutcome::from_code(error.code) {
                    OpenOutcome::Opened => Err(unsupported("a device error with the success code 01")),
                    outcome => Ok(WinnsenReply::OpenResult { variant, board, lock, outcome }),
                }
            }
            (WinnsenRequest::Poll { board, .. }, Response::Status(status)) => {
                let open = status.locks.active.intersection(status.locks.reported).intersection(LockSet::first(16));
                Ok(WinnsenReply::PollResult { variant, board, open })
            }
            (WinnsenRequest::LockStatus { board, lock }, Response::Status(status)) => status
                .locks
                .get(lock)
                .map(|open| WinnsenReply::LockStatus {
                    board,
                    lock,
                    reading: if open { LockReading::Open } else { LockReading::Closed },
                })
                .ok_or(unsupported("a status reply without a reading of the lock")),
            (WinnsenRequest::LockStatus { board, lock }, Response::DeviceError(error)) => {
                match LockReading::from_code(error.code) {
                    reading @ LockReading::Unknown { .. } => Ok(WinnsenReply::LockStatus { board, lock, reading }),
                    _ => Err(unsupported("a device error with a state code (00/01)")),
                }
            }
            _ => Err(unsupported("this response to this request")),
        }
    }

    /// Opened → [`Response::Ack`]; failed → [`DeviceErrorKind::Failed`]; cool-down →
    /// [`DeviceErrorKind::Busy`]; unknown codes → [`DeviceErrorKind::Other`]. Poll replies →
    /// [`Response::Status`] with 16 channels, active = open; status replies → a one-lock status.
    fn response(&self, reply: &WinnsenReply) -> Option<(u8, Response)> {
        Some(match *reply {
            WinnsenReply::OpenResult { board, outcome, .. } => (
                board,
                match outcome {
                    OpenOutcome::Opened => Response::Ack,
                    OpenOutcome::Failed => device_error(FAILED, DeviceErrorKind::Failed),
                    OpenOutcome::Cooldown => device_error(COOLDOWN, DeviceErrorKind::Busy),
                    OpenOutcome::Unknown { code } => device_error(code, DeviceErrorKind::Other),
                },
            ),
            WinnsenReply::PollResult { board, open, .. } => {
                let locks = ChannelBits::from_bitmap(LOCKS_PER_BOARD, open);
                (board, Response::Status(BoardStatus { locks, doors: None, presence: None }))
            }
            WinnsenReply::LockStatus { board, lock, reading } => (
                board,
                match reading {
                    LockReading::Open => Response::Status(single_status(lock, true)),
                    LockReading::Closed => Response::Status(single_status(lock, false)),
                    LockReading::Unknown { code } => device_error(code, DeviceErrorKind::Other),
                },
            ),
        })
    }
}
