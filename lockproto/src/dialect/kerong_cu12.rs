//! Kerong KR-CU12 (12 locks), dialect `kerong-cu12`: the one lock board with a complete vendor
//! document.
//!
//! Source: "CU12 Protocol and Introduction", KERONG Industry (HK) Co., Ltd., V1.0 2022-07-06 /
//! V1.1 2022-07-22, committed as `CU12.txt` in GitHub `mojisejr/smc-app` (@ 8fd8c9ed, also
//! `docs/system-architecture/CU12.txt` @ c080d086); reference/lockboards.md §3. Section numbers
//! below (§1.5.x) are the document's. The document's 50 distinct example frames are all tested
//! in `tests/kerong_cu12.rs`.
//!
//! # Frame (both directions, 8 + DATALEN bytes)
//!
//! | byte | field | value |
//! |---|---|---|
//! | 0 | STX | `0x02` |
//! | 1 | ADDR | board `0x00..=0x0F`; [`BROADCAST`] `0x10` = every board (requests only) |
//! | 2 | LOCKNUM | `0x00..=0x0B` = lock 1..=12, `0x0C` = all 12 locks (unlock only; `0x00` otherwise) |
//! | 3 | CMD | see below |
//! | 4 | ASK | `0x00` in requests; the result code ([`Cu12Ask`]) in replies |
//! | 5 | DATALEN | number of DATA bytes |
//! | 6 | ETX | `0x03` |
//! | 7 | SUM | low byte of the sum of bytes 0..=6 **and of DATA** |
//! | 8.. | DATA | DATALEN bytes, sent **after** SUM |
//!
//! | CMD | function | request DATA | reply DATA |
//! |---|---|---|---|
//! | `0x80` | get status | none | `u8 hooks[2]`, bit 0 of the first byte = lock 1 |
//! | `0x81` | unlock | none | none |
//! | `0x82` | query / set unlock time | none / `u16` BE, 10 ms units, 0..=6000 | `u16` / none |
//! | `0x83` | query / set baud rate | none / code 0..=3 | code / none |
//! | `0x84` | query / set delayed unlock | none / `u8` s, 0..=200 | `u8` / none |
//! | `0x85` | query / set push-door wait | none / `u8` s, 0..=200 | `u8` / none |
//! | `0x8E` | initialize (factory parameters) | none | none |
//! | `0x8F` | query version | none | `u8 soft, u8 hard`, one nibble per digit |
//!
//! Query and set share a command code and differ by DATALEN. A reply without DATA
//! ([`Cu12Reply::Outcome`]) answers a set or initialize, or refuses a query (the hardware capture
//! in smc-app `scripts/test-checksum-fix.ts` is such a refusal: `ASK=0x14` to a status query).
//!
//! # Behaviour
//!
//! * Broadcast ([`BROADCAST`]): **every** board answers, each with its own address
//!   ([`ReplyExpectation::EveryBoard`]); the document does not say how the boards avoid colliding.
//! * After a set or initialize the board "enters the data saving task": wait
//!   [`POST_SETTING_WAIT_MS`] before the next command.
//! * Hook bits are reported raw: the document reads bit 1 as locked (§1.5.1, example `02 00` =
//!   lock 2 locked), smc-app's own document the opposite (§3.4): apply
//!   [`crate::FeedbackPolarity`] from the installation configuration.
//!
//! # Decoding choices
//!
//! * Requests must carry `ASK=0x00`; replies must not (`0x00` is the document's request value,
//!   so a frame carrying it is an echo of a request, not an answer). Every other reply code is
//!   kept, unknown ones as [`Cu12Ask::Unknown`].
//! * Set requests outside the documented ranges (unlock time > 6000, seconds > 200) are refused
//!   both ways ([`FrameError::BadField`], [`EncodeError::OutOfRange`]); values in replies are
//!   reported as sent. Unknown baud codes are kept ([`KerongBaudRate::Unknown`]).
//! * A reply decoded with its pending request must come from the addressed board (any board for
//!   a broadcast) and echo CMD and LOCKNUM; a reply to a set must carry no DATA.

use crate::checksum::sum8;
use crate::dialect::{Decoded, Dialect, ReplyExpectation};
use crate::error::{EncodeError, FrameError};
use crate::model::{
    BoardInfo, BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, Lock, LockSet, Parameter, ParameterId,
    Response, Version,
};
use crate::wire::{Reader, Writer};

/// Start byte.
pub const STX: u8 = 0x02;
/// End byte (before SUM, which comes before DATA).
pub const ETX: u8 = 0x03;
/// ADDR that sends a request to every board on the bus (§1.2.1 "ADDR=0x10, means send commands to
/// all slaves of the bus").
pub const BROADCAST: u8 = 0x10;
/// The highest board address (at most 16 boards in series, §2.1).
pub const MAX_BOARD: u8 = 0x0F;
/// Number of locks on a CU12.
pub const LOCK_COUNT: u8 = 12;
/// Factory baud rate, 8N1 (§1.1.1 "19200 (Factory default, can be modified)").
pub const DEFAULT_BAUD: u32 = 19_200;
/// Wait after a set or initialize command before the next command, in ms (§1.5.6 and §1.5.7:
/// "It is recommended to wait for 500ms or more").
pub const POST_SETTING_WAIT_MS: u32 = 500;
/// Reply timeout in ms. The document gives none; this is the low end of the 1.5-3 s budget of
/// reference/lockboards.md §10 (Kerong integrations wait about 1 s: kerong-lib, smc-app).
/// Broadcasts need the whole window to collect every board's answer.
pub const RESPONSE_TIMEOUT_MS: u32 = 1_500;
/// Factory unlock time in 10 ms units: 55 = 550 ms (§1.5.3).
pub const DEFAULT_UNLOCK_TIME_10MS: u16 = 55;
/// Largest unlock time in 10 ms units: 6000 = 60 s (§1.5.3).
pub const MAX_UNLOCK_TIME_10MS: u16 = 6_000;
/// Largest delayed-unlock and push-door wait time in seconds (§1.5.5, §1.5.6).
pub const MAX_WAIT_S: u8 = 200;
/// The longest frame: 8 header bytes and 2 DATA bytes. (The document allows 48; no command uses
/// more than 2 DATA bytes.)
pub const FRAME_LEN_MAX: usize = HEADER_LEN + 2;

const HEADER_LEN: usize = 8;
/// LOCKNUM that unlocks all 12 locks.
const LOCKNUM_ALL: u8 = 0x0C;
/// ASK of every request (§1.4).
const ASK_REQUEST: u8 = 0x00;

const CMD_STATUS: u8 = 0x80;
const CMD_UNLOCK: u8 = 0x81;
const CMD_UNLOCK_TIME: u8 = 0x82;
const CMD_BAUD_RATE: u8 = 0x83;
const CMD_DELAYED_UNLOCK: u8 = 0x84;
const CMD_PUSH_DOOR_WAIT: u8 = 0x85;
const CMD_INITIALIZE: u8 = 0x8E;
const CMD_VERSION: u8 = 0x8F;

/// The baud-rate codes of Kerong's CU12 (§1.5.4) and CU16 (command `0x40`) documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum KerongBaudRate {
    /// Code 0: 9600 bit/s.
    Baud9600,
    /// Code 1: 19200 bit/s (the CU12 factory setting).
    Baud19200,
    /// Code 2: 57600 bit/s.
    Baud57600,
    /// Code 3: 115200 bit/s.
    Baud115200,
    /// A code the documents do not define (kept so that newer firmware still parses).
    Unknown {
        /// The code on the wire (never 0..=3).
        code: u8,
    },
}

impl KerongBaudRate {
    /// The rate a wire code stands for.
    pub const fn from_code(code: u8) -> Self {
        match code {
            0 => KerongBaudRate::Baud9600,
            1 => KerongBaudRate::Baud19200,
            2 => KerongBaudRate::Baud57600,
            3 => KerongBaudRate::Baud115200,
            code => KerongBaudRate::Unknown { code },
        }
    }

    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            KerongBaudRate::Baud9600 => 0,
            KerongBaudRate::Baud19200 => 1,
            KerongBaudRate::Baud57600 => 2,
            KerongBaudRate::Baud115200 => 3,
            KerongBaudRate::Unknown { code } => code,
        }
    }

    /// Bits per second, or `None` for an unknown code.
    pub const fn bits_per_second(self) -> Option<u32> {
        match self {
            KerongBaudRate::Baud9600 => Some(9_600),
            KerongBaudRate::Baud19200 => Some(19_200),
            KerongBaudRate::Baud57600 => Some(57_600),
            KerongBaudRate::Baud115200 => Some(115_200),
            KerongBaudRate::Unknown { .. } => None,
        }
    }

    /// The code for a rate in bit/s, or `None` when the boards cannot run at it.
    pub const fn from_bits_per_second(rate: u32) -> Option<Self> {
        match rate {
            9_600 => Some(KerongBaudRate::Baud9600),
            19_200 => Some(KerongBaudRate::Baud19200),
            57_600 => Some(KerongBaudRate::Baud57600),
            115_200 => Some(KerongBaudRate::Baud115200),
            _ => None,
        }
    }

    /// The wire code, refusing an `Unknown` that aliases a known code (it would decode as the
    /// known variant, breaking the byte-exact round trip).
    pub(crate) fn checked_code(self) -> Result<u8, EncodeError> {
        let code = self.code();
        if matches!(self, KerongBaudRate::Unknown { .. }) && code <= 3 {
            return Err(EncodeError::OutOfRange {
                field: "baud rate code",
                value: code as u32,
                reason: "Unknown must not carry a defined code (0..=3)",
            });
        }
        Ok(code)
    }
}

/// The result code (ASK) of a CU12 reply (§1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Cu12Ask {
    /// `0x10` correct operation.
    Ok,
    /// `0x11` failed operation.
    Failed,
    /// `0x12` wait timeout.
    WaitTimeout,
    /// `0x13` unknown command.
    UnknownCommand,
    /// `0x14` data verification failure (the board rejected the request's SUM).
    ChecksumFailure,
    /// Any other code except `0x00` (which marks requests).
    Unknown {
        /// The code on the wire.
        code: u8,
    },
}

impl Cu12Ask {
    /// The result a wire code stands for (`0x00` maps to `Unknown`; decoders refuse it).
    pub const fn from_code(code: u8) -> Self {
        match code {
            0x10 => Cu12Ask::Ok,
            0x11 => Cu12Ask::Failed,
            0x12 => Cu12Ask::WaitTimeout,
            0x13 => Cu12Ask::UnknownCommand,
            0x14 => Cu12Ask::ChecksumFailure,
            code => Cu12Ask::Unknown { code },
        }
    }

    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            Cu12Ask::Ok => 0x10,
            Cu12Ask::Failed => 0x11,
            Cu12Ask::WaitTimeout => 0x12,
            Cu12Ask::UnknownCommand => 0x13,
            Cu12Ask::ChecksumFailure => 0x14,
            Cu12Ask::Unknown { code } => code,
        }
    }

    /// The neutral class of a code other than [`Cu12Ask::Ok`].
    pub const fn error_kind(self) -> DeviceErrorKind {
        match self {
            Cu12Ask::Failed => DeviceErrorKind::Failed,
            Cu12Ask::WaitTimeout => DeviceErrorKind::Timeout,
            Cu12Ask::UnknownCommand => DeviceErrorKind::UnknownCommand,
            Cu12Ask::ChecksumFailure => DeviceErrorKind::ChecksumFailure,
            Cu12Ask::Ok | Cu12Ask::Unknown { .. } => DeviceErrorKind::Other,
        }
    }

    /// The code for a neutral device error: the four classes the document defines get their
    /// codes; other classes keep `error.code` when it is a free code, else become `Failed`.
    pub const fn from_device_error(error: DeviceError) -> Self {
        match error.kind {
            DeviceErrorKind::Failed => Cu12Ask::Failed,
            DeviceErrorKind::Timeout => Cu12Ask::WaitTimeout,
            DeviceErrorKind::UnknownCommand => Cu12Ask::UnknownCommand,
            DeviceErrorKind::ChecksumFailure => Cu12Ask::ChecksumFailure,
            _ => match Cu12Ask::from_code(error.code) {
                Cu12Ask::Unknown { code } if code != ASK_REQUEST => Cu12Ask::Unknown { code },
                _ => Cu12Ask::Failed,
            },
        }
    }

    fn checked_code(self) -> Result<u8, EncodeError> {
        let code = self.code();
        let aliases =
            matches!(self, Cu12Ask::Unknown { .. }) && !matches!(Cu12Ask::from_code(code), Cu12Ask::Unknown { .. });
        if code == ASK_REQUEST || aliases {
            return Err(EncodeError::OutOfRange {
                field: "ask",
                value: code as u32,
                reason: "0x00 marks requests; Unknown must not carry a defined code (0x10..=0x14)",
            });
        }
        Ok(code)
    }
}

/// A CU12 command code other than unlock, as echoed by a reply without DATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Cu12Function {
    /// `0x80` get status.
    Status,
    /// `0x82` query / set unlock time.
    UnlockTime,
    /// `0x83` query / set baud rate.
    BaudRate,
    /// `0x84` query / set delayed unlock.
    DelayedUnlock,
    /// `0x85` query / set push-door waiting time.
    PushDoorWait,
    /// `0x8E` initialize.
    Initialize,
    /// `0x8F` query version.
    Version,
}

impl Cu12Function {
    /// The command code.
    pub const fn code(self) -> u8 {
        match self {
            Cu12Function::Status => CMD_STATUS,
            Cu12Function::UnlockTime => CMD_UNLOCK_TIME,
            Cu12Function::BaudRate => CMD_BAUD_RATE,
            Cu12Function::DelayedUnlock => CMD_DELAYED_UNLOCK,
            Cu12Function::PushDoorWait => CMD_PUSH_DOOR_WAIT,
            Cu12Function::Initialize => CMD_INITIALIZE,
            Cu12Function::Version => CMD_VERSION,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        match code {
            CMD_STATUS => Some(Cu12Function::Status),
            CMD_UNLOCK_TIME => Some(Cu12Function::UnlockTime),
            CMD_BAUD_RATE => Some(Cu12Function::BaudRate),
            CMD_DELAYED_UNLOCK => Some(Cu12Function::DelayedUnlock),
            CMD_PUSH_DOOR_WAIT => Some(Cu12Function::PushDoorWait),
            CMD_INITIALIZE => Some(Cu12Function::Initialize),
            CMD_VERSION => Some(Cu12Function::Version),
            _ => None,
        }
    }
}

/// A CU12 request (master → board). `board` is ADDR: `0x00..=0x0F`, or [`BROADCAST`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Cu12Request {
    /// `0x80`: read the 12 hook inputs (§1.5.1).
    QueryStatus {
        /// ADDR.
        board: u8,
    },
    /// `0x81` with LOCKNUM `lock - 1`: pulse one lock (§1.5.2).
    Unlock {
        /// ADDR.
        board: u8,
        /// Lock 1..=12.
        lock: Lock,
    },
    /// `0x81` with LOCKNUM `0x0C`: pulse all 12 locks (§1.5.2 b, c).
    UnlockAll {
        /// ADDR.
        board: u8,
    },
    /// `0x82` without DATA (§1.5.3).
    QueryUnlockTime {
        /// ADDR.
        board: u8,
    },
    /// `0x82` with a `u16` (§1.5.3).
    SetUnlockTime {
        /// ADDR.
        board: u8,
        /// Lock output time in 10 ms units, `0..=6000`.
        time_10ms: u16,
    },
    /// `0x83` without DATA (§1.5.4).
    QueryBaudRate {
        /// ADDR.
        board: u8,
    },
    /// `0x83` with a code (§1.5.4).
    SetBaudRate {
        /// ADDR.
        board: u8,
        /// The new rate.
        baud: KerongBaudRate,
    },
    /// `0x84` without DATA (§1.5.5).
    QueryDelayedUnlock {
        /// ADDR.
        board: u8,
    },
    /// `0x84` with a `u8` (§1.5.5).
    SetDelayedUnlock {
        /// ADDR.
        board: u8,
        /// Delay between the command and the pulse, `0..=200` s.
        seconds: u8,
    },
    /// `0x85` without DATA (§1.5.6).
    QueryPushDoorWait {
        /// ADDR.
        board: u8,
    },
    /// `0x85` with a `u8` (§1.5.6); a non-zero value disables delayed unlock.
    SetPushDoorWait {
        /// ADDR.
        board: u8,
        /// Push-door waiting time, `0..=200` s.
        seconds: u8,
    },
    /// `0x8E`: restore the factory parameters (§1.5.7).
    Initialize {
        /// ADDR.
        board: u8,
    },
    /// `0x8F` (§1.5.8).
    QueryVersion {
        /// ADDR.
        board: u8,
    },
}

impl Cu12Request {
    /// ADDR.
    pub const fn board(&self) -> u8 {
        match *self {
            Cu12Request::QueryStatus { board }
            | Cu12Request::Unlock { board, .. }
            | Cu12Request::UnlockAll { board }
            | Cu12Request::QueryUnlockTime { board }
            | Cu12Request::SetUnlockTime { board, .. }
            | Cu12Request::QueryBaudRate { board }
            | Cu12Request::SetBaudRate { board, .. }
            | Cu12Request::QueryDelayedUnlock { board }
            | Cu12Request::SetDelayedUnlock { board, .. }
            | Cu12Request::QueryPushDoorWait { board }
            | Cu12Request::SetPushDoorWait { board, .. }
            | Cu12Request::Initialize { board }
            | Cu12Request::QueryVersion { board } => board,
        }
    }

    /// Whether this request changes a stored parameter (then wait [`POST_SETTING_WAIT_MS`]).
    pub const fn is_setting(&self) -> bool {
        matches!(
            self,
            Cu12Request::SetUnlockTime { .. }
                | Cu12Request::SetBaudRate { .. }
                | Cu12Request::SetDelayedUnlock { .. }
                | Cu12Request::SetPushDoorWait { .. }
                | Cu12Request::Initialize { .. }
        )
    }
}

/// A CU12 reply (board → master). `board` is the answering board's own ADDR (`0x00..=0x0F`),
/// also when the request was a broadcast; `ask` is the board's result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Cu12Reply {
    /// `0x80` with 2 DATA bytes: the raw hook inputs (bit 0 of the first byte = lock 1; bits for
    /// locks 13..=16 are kept as sent).
    Status {
        /// ADDR.
        board: u8,
        /// Result code.
        ask: Cu12Ask,
        /// Locks whose hook input reads 1 (the document: locked).
        hooks: LockSet,
    },
    /// `0x81` answer for one lock.
    Unlock {
        /// ADDR.
        board: u8,
        /// The lock, echoed from the request.
        lock: Lock,
        /// Result code.
        ask: Cu12Ask,
    },
    /// `0x81` answer for LOCKNUM `0x0C` (all locks).
    UnlockAll {
        /// ADDR.
        board: u8,
        /// Result code.
        ask: Cu12Ask,
    },
    /// `0x82` with the unlock time.
    UnlockTime {
        /// ADDR.
        board: u8,
        /// Result code.
        ask: Cu12Ask,
        /// Lock output time in 10 ms units.
        time_10ms: u16,
    },
    /// `0x83` with the baud-rate code.
    BaudRate {
        /// ADDR.
        board: u8,
        /// Result code.
        ask: Cu12Ask,
        /// The configured rate.
        baud: KerongBaudRate,
    },
    /// `0x84` with the delayed-unlock time.
    DelayedUnlock {
        /// ADDR.
        board: u8,
        /// Result code.
        ask: Cu12Ask,
        /// Seconds.
        seconds: u8,
    },
    /// `0x85` with the push-door waiting time.
    PushDoorWait {
        /// ADDR.
        board: u8,
        /// Result code.
        ask: Cu12Ask,
        /// Seconds.
        seconds: u8,
    },
    /// `0x8F` with the versions (`10 12` = software V1.0, hardware V1.2; each digit 0..=15).
    Version {
        /// ADDR.
        board: u8,
        /// Result code.
        ask: Cu12Ask,
        /// Software version (high nibble major, low nibble minor).
        software: Version,
        /// Hardware version (same coding).
        hardware: Version,
    },
    /// A reply without DATA to any command but unlock: the answer to a set or initialize, or a
    /// refused query (e.g. `ASK=0x14` to a status query).
    Outcome {
        /// ADDR.
        board: u8,
        /// The echoed command.
        function: Cu12Function,
        /// Result code.
        ask: Cu12Ask,
    },
}

impl Cu12Reply {
    /// The answering board's ADDR.
    pub const fn board(&self) -> u8 {
        match *self {
            Cu12Reply::Status { board, .. }
            | Cu12Reply::Unlock { board, .. }
            | Cu12Reply::UnlockAll { board, .. }
            | Cu12Reply::UnlockTime { board, .. }
            | Cu12Reply::BaudRate { board, .. }
            | Cu12Reply::DelayedUnlock { board, .. }
            | Cu12Reply::PushDoorWait { board, .. }
            | Cu12Reply::Version { board, .. }
            | Cu12Reply::Outcome { board, .. } => board,
        }
    }

    /// The board's result code.
    pub const fn ask(&self) -> Cu12Ask {
        match *self {
            Cu12Reply::Status { ask, .. }
            | Cu12Reply::Unlock { ask, .. }
            | Cu12Reply::UnlockAll { ask, .. }
            | Cu12Reply::UnlockTime { ask, .. }
            | Cu12Reply::BaudRate { ask, .. }
            | Cu12Reply::DelayedUnlock { ask, .. }
            | Cu12Reply::PushDoorWait { ask, .. }
            | Cu12Reply::Version { ask, .. }
            | Cu12Reply::Outcome { ask, .. } => ask,
        }
    }
}

/// The Kerong CU12 dialect. It has no configuration: the vendor document is unambiguous.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct KerongCu12;

impl KerongCu12 {
    /// The dialect.
    pub const fn new() -> Self {
        KerongCu12
    }
}

/// The fields of one frame, before they are given a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RawFrame {
    addr: u8,
    locknum: u8,
    cmd: u8,
    ask: u8,
    data: [u8; 2],
    data_len: u8,
}

impl RawFrame {
    const fn new(addr: u8, locknum: u8, cmd: u8, ask: u8) -> Self {
        RawFrame { addr, locknum, cmd, ask, data: [0; 2], data_len: 0 }
    }

    const fn with_u8(mut self, value: u8) -> Self {
        self.data = [value, 0];
        self.data_len = 1;
        self
    }

    const fn with_2(mut self, first: u8, second: u8) -> Self {
        self.data = [first, second];
        self.data_len = 2;
        self
    }

    fn data(&self) -> &[u8] {
        self.data.get(..usize::from(self.data_len)).unwrap_or_default()
    }

    fn first(&self) -> u8 {
        self.data.first().copied().unwrap_or_default()
    }

    fn second(&self) -> u8 {
        self.data.get(1).copied().unwrap_or_default()
    }

    fn u16(&self) -> u16 {
        u16::from_be_bytes([self.first(), self.second()])
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let header = [STX, self.addr, self.locknum, self.cmd, self.ask, self.data_len, ETX];
        let sum = sum8(&header).wrapping_add(sum8(self.data()));
        let mut w = Writer::new(out);
        w.extend(&header)?;
        w.push(sum)?;
        w.extend(self.data())?;
        Ok(w.len())
    }
}

/// Which way a frame travels.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Reply,
}

/// What a pending request requires of its reply.
struct Expect {
    /// The board that must answer, `None` after a broadcast.
    addr: Option<u8>,
    locknum: u8,
    cmd: u8,
    /// A set: the reply carries no DATA.
    set: bool,
}

impl Expect {
    fn of(request: &Cu12Request) -> Result<Self, EncodeError> {
        let frame = request_frame(request)?;
        let addr = if frame.addr == BROADCAST { None } else { Some(frame.addr) };
        Ok(Expect { addr, locknum: frame.locknum, cmd: frame.cmd, set: frame.data_len > 0 })
    }
}

/// The DATA length a command carries when it has DATA (a DATALEN of 0 is always allowed), or
/// `None` for an unknown command.
const fn data_len_of(cmd: u8, side: Side) -> Option<u8> {
    let query_data = match cmd {
        CMD_STATUS | CMD_UNLOCK_TIME | CMD_VERSION => 2,
        CMD_BAUD_RATE | CMD_DELAYED_UNLOCK | CMD_PUSH_DOOR_WAIT => 1,
        CMD_UNLOCK | CMD_INITIALIZE => 0,
        _ => return None,
    };
    // Requests carry DATA only for the settable parameters; replies only for queries.
    let len = match (side, cmd) {
        (Side::Request, CMD_STATUS | CMD_VERSION) => 0,
        _ => query_data,
    };
    Some(len)
}

/// Bytes 0..=3: STX, ADDR, LOCKNUM and CMD, checked against the direction and `expect`.
fn parse_address(r: &Reader<'_>, side: Side, expect: Option<&Expect>) -> Result<(u8, u8, u8), FrameError> {
    let stx = r.u8(0)?;
    if stx != STX {
        return Err(FrameError::BadStart { offset: 0, found: stx });
    }
    let addr = r.u8(1)?;
    let max_addr = if side == Side::Request { BROADCAST } else { MAX_BOARD };
    if addr > max_addr {
        return Err(FrameError::BadField { offset: 1, field: "ADDR", found: addr });
    }
    if let Some(expected) = expect.and_then(|e| e.addr).filter(|&e| e != addr) {
        return Err(FrameError::Mismatch { offset: 1, field: "ADDR", expected, found: addr });
    }
    let locknum = r.u8(2)?;
    if locknum > LOCKNUM_ALL {
        return Err(FrameError::BadField { offset: 2, field: "LOCKNUM", found: locknum });
    }
    let cmd = r.u8(3)?;
    if data_len_of(cmd, side).is_none() {
        return Err(FrameError::UnknownCommand { offset: 3, found: cmd });
    }
    // LOCKNUM only means something to unlock; the document's other examples all carry 0x00.
    if cmd != CMD_UNLOCK && locknum != 0 {
        return Err(FrameError::BadField { offset: 2, field: "LOCKNUM", found: locknum });
    }
    if let Some(e) = expect {
        if e.cmd != cmd {
            return Err(FrameError::Mismatch { offset: 3, field: "CMD", expected: e.cmd, found: cmd });
        }
        if e.locknum != locknum {
            return Err(FrameError::Mismatch { offset: 2, field: "LOCKNUM", expected: e.locknum, found: locknum });
        }
    }
    Ok((addr, locknum, cmd))
}

/// Bytes 4 and 5: ASK and DATALEN.
fn parse_ask_len(r: &Reader<'_>, side: Side, cmd: u8, expect: Option<&Expect>) -> Result<(u8, u8), FrameError> {
    let ask = r.u8(4)?;
    let ask_ok = if side == Side::Request { ask == ASK_REQUEST } else { ask != ASK_REQUEST };
    if !ask_ok {
        return Err(FrameError::BadField { offset: 4, field: "ASK", found: ask });
    }
    let len = r.u8(5)?;
    if len != 0 && Some(len) != data_len_of(cmd, side) {
        return Err(FrameError::BadLength {
            offset: 5,
            found: usize::from(len),
            reason: "DATALEN does not fit the command",
        });
    }
    if len != 0 && expect.is_some_and(|e| e.set) {
        return Err(FrameError::Mismatch { offset: 5, field: "DATALEN", expected: 0, found: len });
    }
    Ok((ask, len))
}

fn parse(buf: &[u8], side: Side, expect: Option<&Expect>) -> Result<(RawFrame, usize), FrameError> {
    let r = Reader::new(buf);
    let (addr, locknum, cmd) = parse_address(&r, side, expect)?;
    let (ask, len) = parse_ask_len(&r, side, cmd, expect)?;
    r.marker(6, ETX)?;
    let sum = r.u8(7)?;
    let end = HEADER_LEN + usize::from(len);
    let data = r.slice(HEADER_LEN, end)?;
    let expected = sum8(r.slice(0, 7)?).wrapping_add(sum8(data));
    if sum != expected {
        return Err(FrameError::BadChecksum { offset: 7, expected: expected.into(), found: sum.into() });
    }
    let frame = RawFrame::new(addr, locknum, cmd, ask);
    let frame = match *data {
        [] => frame,
        [value] => frame.with_u8(value),
        [first, second] => frame.with_2(first, second),
        _ => return Err(FrameError::BadLength { offset: 5, found: data.len(), reason: "at most 2 DATA bytes" }),
    };
    Ok((frame, end))
}

/// A LOCKNUM as a lock (1-based), or `None` for "all".
fn lock_of(locknum: u8) -> Result<Option<Lock>, FrameError> {
    if locknum == LOCKNUM_ALL {
        return Ok(None);
    }
    Lock::from_index(usize::from(locknum)).map(Some).ok_or(FrameError::BadField {
        offset: 2,
        field: "LOCKNUM",
        found: locknum,
    })
}

fn check_wait(seconds: u8) -> Result<u8, FrameError> {
    if seconds > MAX_WAIT_S {
        return Err(FrameError::BadField { offset: HEADER_LEN, field: "seconds (0..=200)", found: seconds });
    }
    Ok(seconds)
}

fn request_of(frame: &RawFrame) -> Result<Cu12Request, FrameError> {
    let board = frame.addr;
    let set = frame.data_len > 0;
    Ok(match frame.cmd {
        CMD_STATUS => Cu12Request::QueryStatus { board },
        CMD_UNLOCK => match lock_of(frame.locknum)? {
            Some(lock) => Cu12Request::Unlock { board, lock },
            None => Cu12Request::UnlockAll { board },
        },
        CMD_UNLOCK_TIME if set => {
            let time_10ms = frame.u16();
            if time_10ms > MAX_UNLOCK_TIME_10MS {
                return Err(FrameError::BadField {
                    offset: HEADER_LEN,
                    field: "unlock time (0..=6000 x 10 ms)",
                    found: frame.first(),
                });
            }
            Cu12Request::SetUnlockTime { board, time_10ms }
        }
        CMD_UNLOCK_TIME => Cu12Request::QueryUnlockTime { board },
        CMD_BAUD_RATE if set => Cu12Request::SetBaudRate { board, baud: KerongBaudRate::from_code(frame.first()) },
        CMD_BAUD_RATE => Cu12Request::QueryBaudRate { board },
        CMD_DELAYED_UNLOCK if set => Cu12Request::SetDelayedUnlock { board, seconds: check_wait(frame.first())? },
        CMD_DELAYED_UNLOCK => Cu12Request::QueryDelayedUnlock { board },
        CMD_PUSH_DOOR_WAIT if set => Cu12Request::SetPushDoorWait { board, seconds: check_wait(frame.first())? },
        CMD_PUSH_DOOR_WAIT => Cu12Request::QueryPushDoorWait { board },
        CMD_INITIALIZE => Cu12Request::Initialize { board },
        CMD_VERSION => Cu12Request::QueryVersion { board },
        found => return Err(FrameError::UnknownCommand { offset: 3, found }),
    })
}

fn version_of(byte: u8) -> Version {
    Version { major: byte >> 4, minor: byte & 0x0F }
}

fn reply_of(frame: &RawFrame) -> Result<Cu12Reply, FrameError> {
    let board = frame.addr;
    let ask = Cu12Ask::from_code(frame.ask);
    if frame.cmd == CMD_UNLOCK {
        return Ok(match lock_of(frame.locknum)? {
            Some(lock) => Cu12Reply::Unlock { board, lock, ask },
            None => Cu12Reply::UnlockAll { board, ask },
        });
    }
    let function =
        Cu12Function::from_code(frame.cmd).ok_or(FrameError::UnknownCommand { offset: 3, found: frame.cmd })?;
    if frame.data_len == 0 {
        return Ok(Cu12Reply::Outcome { board, function, ask });
    }
    Ok(match function {
        Cu12Function::Status => {
            let mut hooks = LockSet::EMPTY;
            hooks.set_byte(0, frame.first());
            hooks.set_byte(1, frame.second());
            Cu12Reply::Status { board, ask, hooks }
        }
        Cu12Function::UnlockTime => Cu12Reply::UnlockTime { board, ask, time_10ms: frame.u16() },
        Cu12Function::BaudRate => Cu12Reply::BaudRate { board, ask, baud: KerongBaudRate::from_code(frame.first()) },
        Cu12Function::DelayedUnlock => Cu12Reply::DelayedUnlock { board, ask, seconds: frame.first() },
        Cu12Function::PushDoorWait => Cu12Reply::PushDoorWait { board, ask, seconds: frame.first() },
        Cu12Function::Version => {
            Cu12Reply::Version { board, ask, software: version_of(frame.first()), hardware: version_of(frame.second()) }
        }
        Cu12Function::Initialize => {
            return Err(FrameError::BadLength {
                offset: 5,
                found: frame.data_len.into(),
                reason: "initialize has no DATA",
            });
        }
    })
}

fn check_board(board: u8, max: u8) -> Result<u8, EncodeError> {
    if board > max {
        let reason = if max == BROADCAST {
            "CU12 ADDR is 0x00..=0x0F or 0x10 (broadcast)"
        } else {
            "a board answers with its own ADDR 0x00..=0x0F"
        };
        return Err(EncodeError::OutOfRange { field: "board", value: board.into(), reason });
    }
    Ok(board)
}

fn locknum_of(lock: Lock) -> Result<u8, EncodeError> {
    if lock.get() > LOCK_COUNT {
        return Err(EncodeError::OutOfRange {
            field: "lock",
            value: lock.get().into(),
            reason: "CU12 locks are 1..=12",
        });
    }
    // Lock numbers 1..=12 fit LOCKNUM 0x00..=0x0B.
    Ok(lock.get() - 1)
}

fn checked_wait(seconds: u8) -> Result<u8, EncodeError> {
    if seconds > MAX_WAIT_S {
        return Err(EncodeError::OutOfRange {
            field: "seconds",
            value: seconds.into(),
            reason: "CU12 takes 0..=200 s",
        });
    }
    Ok(seconds)
}

fn request_frame(request: &Cu12Request) -> Result<RawFrame, EncodeError> {
    let board = check_board(request.board(), BROADCAST)?;
    let plain = |cmd| RawFrame::new(board, 0, cmd, ASK_REQUEST);
    Ok(match *request {
        Cu12Request::QueryStatus { .. } => plain(CMD_STATUS),
        Cu12Request::Unlock { lock, .. } => RawFrame::new(board, locknum_of(lock)?, CMD_UNLOCK, ASK_REQUEST),
        Cu12Request::UnlockAll { .. } => RawFrame::new(board, LOCKNUM_ALL, CMD_UNLOCK, ASK_REQUEST),
        Cu12Request::QueryUnlockTime { .. } => plain(CMD_UNLOCK_TIME),
        Cu12Request::SetUnlockTime { time_10ms, .. } => {
            if time_10ms > MAX_UNLOCK_TIME_10MS {
                return Err(EncodeError::OutOfRange {
                    field: "time_10ms",
                    value: time_10ms.into(),
                    reason: "CU12 takes 0..=6000 (x 10 ms)",
                });
            }
            let [hi, lo] = time_10ms.to_be_bytes();
            plain(CMD_UNLOCK_TIME).with_2(hi, lo)
        }
        Cu12Request::QueryBaudRate { .. } => plain(CMD_BAUD_RATE),
        Cu12Request::SetBaudRate { baud, .. } => plain(CMD_BAUD_RATE).with_u8(baud.checked_code()?),
        Cu12Request::QueryDelayedUnlock { .. } => plain(CMD_DELAYED_UNLOCK),
        Cu12Request::SetDelayedUnlock { seconds, .. } => plain(CMD_DELAYED_UNLOCK).with_u8(checked_wait(seconds)?),
        Cu12Request::QueryPushDoorWait { .. } => plain(CMD_PUSH_DOOR_WAIT),
        Cu12Request::SetPushDoorWait { seconds, .. } => plain(CMD_PUSH_DOOR_WAIT).with_u8(checked_wait(seconds)?),
        Cu12Request::Initialize { .. } => plain(CMD_INITIALIZE),
        Cu12Request::QueryVersion { .. } => plain(CMD_VERSION),
    })
}

fn version_byte(version: Version, field: &'static str) -> Result<u8, EncodeError> {
    if version.major > 0x0F || version.minor > 0x0F {
        let value = u32::from(version.major.max(version.minor));
        return Err(EncodeError::OutOfRange { field, value, reason: "each version digit is one nibble (0..=15)" });
    }
    Ok((version.major << 4) | version.minor)
}

fn reply_frame(reply: &Cu12Reply) -> Result<RawFrame, EncodeError> {
    let board = check_board(reply.board(), MAX_BOARD)?;
    let ask = reply.ask().checked_code()?;
    let plain = |cmd| RawFrame::new(board, 0, cmd, ask);
    Ok(match *reply {
        Cu12Reply::Status { hooks, .. } => {
            if hooks.bits() >> 16 != 0 {
                return Err(EncodeError::OutOfRange {
                    field: "hooks",
                    value: hooks.last().map_or(0, |l| l.get().into()),
                    reason: "the status DATA holds locks 1..=16",
                });
            }
            plain(CMD_STATUS).with_2(hooks.byte(0), hooks.byte(1))
        }
        Cu12Reply::Unlock { lock, .. } => RawFrame::new(board, locknum_of(lock)?, CMD_UNLOCK, ask),
        Cu12Reply::UnlockAll { .. } => RawFrame::new(board, LOCKNUM_ALL, CMD_UNLOCK, ask),
        Cu12Reply::UnlockTime { time_10ms, .. } => {
            let [hi, lo] = time_10ms.to_be_bytes();
            plain(CMD_UNLOCK_TIME).with_2(hi, lo)
        }
        Cu12Reply::BaudRate { baud, .. } => plain(CMD_BAUD_RATE).with_u8(baud.checked_code()?),
        Cu12Reply::DelayedUnlock { seconds, .. } => plain(CMD_DELAYED_UNLOCK).with_u8(seconds),
        Cu12Reply::PushDoorWait { seconds, .. } => plain(CMD_PUSH_DOOR_WAIT).with_u8(seconds),
        Cu12Reply::Version { software, hardware, .. } => {
            plain(CMD_VERSION).with_2(version_byte(software, "software")?, version_byte(hardware, "hardware")?)
        }
        Cu12Reply::Outcome { function, .. } => plain(function.code()),
    })
}

const fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported { dialect: KerongCu12::NAME, what }
}

/// The neutral parameter a query asks for, `None` for other requests.
const fn queried_parameter(request: &Cu12Request) -> Option<ParameterId> {
    match request {
        Cu12Request::QueryUnlockTime { .. } => Some(ParameterId::UnlockTime),
        Cu12Request::QueryBaudRate { .. } => Some(ParameterId::BaudRate),
        Cu12Request::QueryDelayedUnlock { .. } => Some(ParameterId::DelayedUnlock),
        Cu12Request::QueryPushDoorWait { .. } => Some(ParameterId::PushDoorWait),
        _ => None,
    }
}

/// The reply variant without DATA that answers `request` with `ask`.
fn outcome_reply(board: u8, request: &Cu12Request, ask: Cu12Ask) -> Cu12Reply {
    let function = match request {
        Cu12Request::Unlock { lock, .. } => return Cu12Reply::Unlock { board, lock: *lock, ask },
        Cu12Request::UnlockAll { .. } => return Cu12Reply::UnlockAll { board, ask },
        Cu12Request::QueryStatus { .. } => Cu12Function::Status,
        Cu12Request::QueryUnlockTime { .. } | Cu12Request::SetUnlockTime { .. } => Cu12Function::UnlockTime,
        Cu12Request::QueryBaudRate { .. } | Cu12Request::SetBaudRate { .. } => Cu12Function::BaudRate,
        Cu12Request::QueryDelayedUnlock { .. } | Cu12Request::SetDelayedUnlock { .. } => Cu12Function::DelayedUnlock,
        Cu12Request::QueryPushDoorWait { .. } | Cu12Request::SetPushDoorWait { .. } => Cu12Function::PushDoorWait,
        Cu12Request::Initialize { .. } => Cu12Function::Initialize,
        Cu12Request::QueryVersion { .. } => Cu12Function::Version,
    };
    Cu12Reply::Outcome { board, function, ask }
}

fn parameter_reply(board: u8, request: &Cu12Request, parameter: &Parameter) -> Result<Cu12Reply, EncodeError> {
    let ask = Cu12Ask::Ok;
    let too_big = |field, value: u32, reason| EncodeError::OutOfRange { field, value, reason };
    Ok(match (queried_parameter(request), *parameter) {
        (Some(ParameterId::UnlockTime), Parameter::UnlockTimeMs(ms)) => {
            let time_10ms = u16::try_from(ms / 10).ok().filter(|_| ms % 10 == 0).ok_or(too_big(
                "unlock time ms",
                ms,
                "a multiple of 10 ms up to 655350",
            ))?;
            Cu12Reply::UnlockTime { board, ask, time_10ms }
        }
        (Some(ParameterId::BaudRate), Parameter::BaudRate(rate)) => {
            let baud = KerongBaudRate::from_bits_per_second(rate).ok_or(too_big(
                "baud rate",
                rate,
                "9600, 19200, 57600 or 115200",
            ))?;
            Cu12Reply::BaudRate { board, ask, baud }
        }
        (Some(ParameterId::DelayedUnlock), Parameter::DelayedUnlockS(s)) => {
            let seconds = u8::try_from(s).map_err(|_| too_big("delayed unlock s", s.into(), "0..=255"))?;
            Cu12Reply::DelayedUnlock { board, ask, seconds }
        }
        (Some(ParameterId::PushDoorWait), Parameter::PushDoorWaitS(s)) => {
            let seconds = u8::try_from(s).map_err(|_| too_big("push-door wait s", s.into(), "0..=255"))?;
            Cu12Reply::PushDoorWait { board, ask, seconds }
        }
        _ => return Err(unsupported("a parameter that does not answer this request")),
    })
}

fn write_parameter(board: u8, parameter: &Parameter) -> Result<Cu12Request, EncodeError> {
    Ok(match *parameter {
        Parameter::UnlockTimeMs(ms) => {
            let time_10ms = u16::try_from(ms / 10)
                .ok()
                .filter(|&units| ms % 10 == 0 && units <= MAX_UNLOCK_TIME_10MS)
                .ok_or(EncodeError::OutOfRange {
                    field: "unlock time ms",
                    value: ms,
                    reason: "CU12 takes 0..=60000 ms in 10 ms steps",
                })?;
            Cu12Request::SetUnlockTime { board, time_10ms }
        }
        Parameter::BaudRate(rate) => {
            let baud = KerongBaudRate::from_bits_per_second(rate).ok_or(EncodeError::OutOfRange {
                field: "baud rate",
                value: rate,
                reason: "CU12 runs at 9600, 19200, 57600 or 115200",
            })?;
            Cu12Request::SetBaudRate { board, baud }
        }
        Parameter::DelayedUnlockS(s) => Cu12Request::SetDelayedUnlock { board, seconds: neutral_wait(s)? },
        Parameter::PushDoorWaitS(s) => Cu12Request::SetPushDoorWait { board, seconds: neutral_wait(s)? },
    })
}

fn neutral_wait(seconds: u16) -> Result<u8, EncodeError> {
    u8::try_from(seconds).ok().filter(|&s| s <= MAX_WAIT_S).ok_or(EncodeError::OutOfRange {
        field: "seconds",
        value: seconds.into(),
        reason: "CU12 takes 0..=200 s",
    })
}

impl Dialect for KerongCu12 {
    type Request = Cu12Request;
    type Reply = Cu12Reply;
    const NAME: &'static str = "kerong-cu12";
    const MAX_FRAME_LEN: usize = FRAME_LEN_MAX;

    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<Cu12Request>, FrameError> {
        let (frame, len) = parse(buf, Side::Request, None)?;
        Ok(Decoded { message: request_of(&frame)?, len })
    }

    fn decode_reply(&self, buf: &[u8], pending: Option<&Cu12Request>) -> Result<Decoded<Cu12Reply>, FrameError> {
        // A pending request that cannot be encoded has no reply to check against.
        let expect = pending.and_then(|p| Expect::of(p).ok());
        let (frame, len) = parse(buf, Side::Reply, expect.as_ref())?;
        Ok(Decoded { message: reply_of(&frame)?, len })
    }

    fn encode_request(&self, request: &Cu12Request, out: &mut [u8]) -> Result<usize, EncodeError> {
        request_frame(request)?.write(out)
    }

    fn encode_reply(&self, reply: &Cu12Reply, out: &mut [u8]) -> Result<usize, EncodeError> {
        reply_frame(reply)?.write(out)
    }

    fn reply_expectation(&self, request: &Cu12Request) -> ReplyExpectation {
        if request.board() == BROADCAST { ReplyExpectation::EveryBoard } else { ReplyExpectation::One }
    }

    fn request(&self, board: u8, command: &Command) -> Result<Cu12Request, EncodeError> {
        let board = check_board(board, BROADCAST)?;
        let request = match *command {
            Command::Unlock(lock) => {
                locknum_of(lock)?;
                Cu12Request::Unlock { board, lock }
            }
            Command::UnlockAll => Cu12Request::UnlockAll { board },
            Command::QueryAll => Cu12Request::QueryStatus { board },
            Command::BoardInfo => Cu12Request::QueryVersion { board },
            Command::ReadParameter(ParameterId::UnlockTime) => Cu12Request::QueryUnlockTime { board },
            Command::ReadParameter(ParameterId::BaudRate) => Cu12Request::QueryBaudRate { board },
            Command::ReadParameter(ParameterId::DelayedUnlock) => Cu12Request::QueryDelayedUnlock { board },
            Command::ReadParameter(ParameterId::PushDoorWait) => Cu12Request::QueryPushDoorWait { board },
            Command::WriteParameter(ref parameter) => write_parameter(board, parameter)?,
            Command::UnlockMany(_) => return Err(unsupported("unlocking a set of locks (use UnlockAll or Unlock)")),
            Command::QueryLock(_) => return Err(unsupported("reading one lock (use QueryAll)")),
            Command::QueryAddress => return Err(unsupported("an address query")),
        };
        Ok(request)
    }

    fn command(&self, request: &Cu12Request) -> Option<(u8, Command)> {
        let command = match *request {
            Cu12Request::QueryStatus { .. } => Command::QueryAll,
            Cu12Request::Unlock { lock, .. } => Command::Unlock(lock),
            Cu12Request::UnlockAll { .. } => Command::UnlockAll,
            Cu12Request::QueryUnlockTime { .. } => Command::ReadParameter(ParameterId::UnlockTime),
            Cu12Request::SetUnlockTime { time_10ms, .. } => {
                Command::WriteParameter(Parameter::UnlockTimeMs(u32::from(time_10ms) * 10))
            }
            Cu12Request::QueryBaudRate { .. } => Command::ReadParameter(ParameterId::BaudRate),
            Cu12Request::SetBaudRate { baud, .. } => {
                Command::WriteParameter(Parameter::BaudRate(baud.bits_per_second()?))
            }
            Cu12Request::QueryDelayedUnlock { .. } => Command::ReadParameter(ParameterId::DelayedUnlock),
            Cu12Request::SetDelayedUnlock { seconds, .. } => {
                Command::WriteParameter(Parameter::DelayedUnlockS(seconds.into()))
            }
            Cu12Request::QueryPushDoorWait { .. } => Command::ReadParameter(ParameterId::PushDoorWait),
            Cu12Request::SetPushDoorWait { seconds, .. } => {
                Command::WriteParameter(Parameter::PushDoorWaitS(seconds.into()))
            }
            // Restoring factory parameters has no neutral command.
            Cu12Request::Initialize { .. } => return None,
            Cu12Request::QueryVersion { .. } => Command::BoardInfo,
        };
        Some((request.board(), command))
    }

    fn reply(&self, board: u8, request: &Cu12Request, response: &Response) -> Result<Cu12Reply, EncodeError> {
        let board = check_board(board, MAX_BOARD)?;
        let ask = Cu12Ask::Ok;
        match (request, response) {
            (_, Response::DeviceError(error)) => Ok(outcome_reply(board, request, Cu12Ask::from_device_error(*error))),
            (Cu12Request::QueryStatus { .. }, Response::Status(status)) => {
                let hooks = status.locks.active.intersection(status.locks.reported);
                if hooks.bits() >> 16 != 0 {
                    let value = hooks.last().map_or(0, |lock| lock.get().into());
                    return Err(EncodeError::OutOfRange {
                        field: "hooks",
                        value,
                        reason: "the status DATA holds locks 1..=16",
                    });
                }
                Ok(Cu12Reply::Status { board, ask, hooks })
            }
            (Cu12Request::QueryVersion { .. }, Response::Info(info)) => {
                let hardware = info.hardware.ok_or(unsupported("a version reply without a hardware version"))?;
                Ok(Cu12Reply::Version { board, ask, software: info.software, hardware })
            }
            (_, Response::Parameter(parameter)) => parameter_reply(board, request, parameter),
            (request, Response::Ack)
                if request.is_setting()
                    || matches!(request, Cu12Request::Unlock { .. } | Cu12Request::UnlockAll { .. }) =>
            {
                Ok(outcome_reply(board, request, ask))
            }
            _ => Err(unsupported("this response to this request")),
        }
    }

    /// Any result code but [`Cu12Ask::Ok`] is a [`Response::DeviceError`], whatever the DATA.
    /// Status reports locks 1..=12 (hook bits 13..=16, if a board ever sent them, are left out);
    /// an unknown baud code has no neutral meaning (`None`).
    fn response(&self, reply: &Cu12Reply) -> Option<(u8, Response)> {
        let board = reply.board();
        let ask = reply.ask();
        if ask != Cu12Ask::Ok {
            let error = DeviceError { code: ask.code(), kind: ask.error_kind() };
            return Some((board, Response::DeviceError(error)));
        }
        let response = match *reply {
            Cu12Reply::Status { hooks, .. } => Response::Status(BoardStatus {
                locks: ChannelBits::from_bitmap(LOCK_COUNT, hooks),
                doors: None,
                presence: None,
            }),
            Cu12Reply::Unlock { .. } | Cu12Reply::UnlockAll { .. } | Cu12Reply::Outcome { .. } => Response::Ack,
            Cu12Reply::UnlockTime { time_10ms, .. } => {
                Response::Parameter(Parameter::UnlockTimeMs(u32::from(time_10ms) * 10))
            }
            Cu12Reply::BaudRate { baud, .. } => Response::Parameter(Parameter::BaudRate(baud.bits_per_second()?)),
            Cu12Reply::DelayedUnlock { seconds, .. } => Response::Parameter(Parameter::DelayedUnlockS(seconds.into())),
            Cu12Reply::PushDoorWait { seconds, .. } => Response::Parameter(Parameter::PushDoorWaitS(seconds.into())),
            Cu12Reply::Version { software, hardware, .. } => {
                Response::Info(BoardInfo { software, hardware: Some(hardware), channels: None })
            }
        };
        Some((board, response))
    }
}
