//! Kerong KR-CU16 / "KU16" (16 locks, 16 infrared presence sensors), dialect `kerong-cu16`.
//!
//! # Sources
//!
//! * reference/lockboards.md §2: five independent implementations agree on the base frames
//!   (suryavirkapur/kerong-lib `src/kerong_client.cpp` @ d73c8ee8, julio-alv/lkaas-kerong
//!   `src/kerong/*.rs` @ 68d1e1ba, xaleel/locker `locker/contants.py` @ 61748424, mojisejr/smc-app
//!   `main/ku16`, a Spanish Node.js server); vectors v030-v041.
//! * "KR-CU16 Communication Protocol Specification" V1.0-V1.6 (Kerong, 2022-2024), committed as
//!   `CU16.txt` in GitHub mojisejr/smc-app @ 8fd8c9ed. reference/lockboards.md did not know this
//!   vendor document; it confirms the base frames, gives worked examples (tested in
//!   `tests/kerong_cu16.rs`), shows that `0x33` is answered by a `0x35` status frame, and documents
//!   the extended commands below. Its section numbers are cited as "doc §5(n)".
//!
//! # Frames
//!
//! Requests: `STX ADDR CMD [DATA] ETX SUM`, 5 bytes (6 or 7 for the extended commands).
//! Replies: `STX ADDR CMD D1 D2 D3 D4 ETX SUM`, always 9 bytes.
//! SUM is the low byte of the sum of every byte before it, ETX and DATA included.
//!
//! | byte | field | value |
//! |---|---|---|
//! | 0 | STX | `0x02` |
//! | 1 | ADDR | `board << 4 \| lock_index`: high nibble = board 0..=15, low nibble = lock 1..=16 as 0..=15 (unlock only, `0` otherwise) |
//! | 2 | CMD | see below |
//! | 3.. | DATA | extended requests only: 1 byte (`0x39`, `0x40`) or `u16` BE (`0x37` set) |
//! | n-2 | ETX | `0x03` |
//! | n-1 | SUM | low byte of the sum of bytes 0..n-1 |
//!
//! | CMD | request | reply |
//! |---|---|---|
//! | `0x30` | status of one board | `0x35` |
//! | `0x31` | unlock one lock | none (kerong-lib "Unlock → Response: none"; the vendor document shows none) |
//! | `0x32` | status of every board on the bus, ADDR [`BUS_ADDR`] `0xF0` | one `0x36` per board |
//! | `0x33` | unlock all 16 locks, one after another | `0x35` (doc §5(4): `02 00 33 03 38` → `02 00 35 0F 00 01 00 03 4A`) |
//! | `0x37` | *extended*: query (5 bytes) / set (7 bytes, `u16` 10 ms units) unlock time | `0x38`: hooks, time |
//! | `0x39` | *extended*: set delayed unlock, `u8` s (0..=250; larger values are ignored by the board) | `0x39`: hooks, presence |
//! | `0x40` | *extended*: set baud rate, code 0..=3 | `0x40`: hooks, D3 (undefined), baud code |
//!
//! Status replies (`0x35`, `0x36`, `0x39`): D1 = hooks of locks 1-8 (bit 0 = lock 1), D2 = hooks
//! 9-16, D3 = presence 1-8, D4 = presence 9-16.
//!
//! # Board and lock numbering
//!
//! In the messages, `board` is the **board number** (the ADDR high nibble, the value the vectors
//! call "board" and the DIP switch sets), not the ADDR byte; `lock` is the 1-based lock
//! (`lock_index + 1`). Board 15 (ADDR [`BUS_ADDR`] `0xF0`) is the bus address: the vendor
//! document numbers boards `0x00..=0x9F` (at most 10 boards), and sends every bus-wide command to
//! `0xF0`, so a request to board 15 draws a reply from every board
//! ([`ReplyExpectation::EveryBoard`]). `0x32` draws one reply per board wherever it is sent
//! (lkaas-kerong sends it to ADDR 0 on a one-board bus). Replies carry the answering board's
//! number with lock index 0.
//!
//! # Hook polarity and presence
//!
//! The hook bits are kept raw ([`crate::ChannelBits::active`] = bit set). Whether a set bit means
//! locked is installation configuration ([`crate::FeedbackPolarity`]), because the sources
//! conflict (reference/lockboards.md §2.3): lkaas-kerong, CartWise, smc-app and the vendor
//! document read 1 as locked, the document adding that it "may correspond in reverse" with
//! normally-open switches; kerong-lib (NCU16L) reads 0 as locked. Infrared bits are presence:
//! 1 = an item is in the compartment (all sources).
//!
//! # Extended commands (off by default)
//!
//! `0x37`, `0x39` and `0x40` and their replies are accepted and emitted only with
//! [`KerongCu16::extended_commands`]. Before the vendor document turned up they came from one
//! unverified TypeScript module (reference/lockboards.md §2.2); the document now describes them,
//! but no hardware capture confirms them, its own examples contain two wrong checksums (tested as
//! rejects) and its prose confuses query and set for `0x39`. Without the flag these frames are
//! [`FrameError::UnknownCommand`] and [`EncodeError::Unsupported`].
//!
//! The 5-byte `0x37` query and a 7-byte `0x37` set whose first DATA byte is `0x03` and second the
//! query's SUM start with the same 5 bytes: the decoder always takes the query, and the encoder
//! refuses those unlock times, so every frame still round-trips.
//!
//! Left out: the OTA frames of the document (`F5 CMD ADDR DATALEN 5F SUM DATA`, 115200 baud in
//! upgrade mode): `0xB5` erases the application, and `0xB6` (version) is only documented there.

use crate::checksum::sum8;
use crate::dialect::kerong_cu12::KerongBaudRate;
use crate::dialect::{Decoded, Dialect, ReplyExpectation};
use crate::error::{EncodeError, FrameError};
use crate::model::{BoardStatus, ChannelBits, Command, Lock, LockSet, Parameter, ParameterId, Response};
use crate::wire::{Reader, Writer};

/// Start byte.
pub const STX: u8 = 0x02;
/// End byte, followed by SUM.
pub const ETX: u8 = 0x03;
/// The board number that addresses every board on the bus (ADDR [`BUS_ADDR`]).
pub const BUS_BOARD: u8 = 0x0F;
/// ADDR of bus-wide commands: `02 F0 32 03 27` (doc §5(3), vector v040's source).
pub const BUS_ADDR: u8 = BUS_BOARD << 4;
/// Number of locks (and presence sensors) on a CU16.
pub const LOCK_COUNT: u8 = 16;
/// Factory baud rate, 8N1: the vendor document's "19200 (factory default)" (doc §三.1, its demo
/// software settings), lkaas-kerong, xaleel/locker, smc-app KU16. (The document's `0x40` text
/// names 115200 as default: reference/lockboards.md §2.1 records the conflict.)
pub const DEFAULT_BAUD: u32 = 19_200;
/// Wait after setting a parameter before the next command, in ms (doc §5(5): "wait for more than
/// 500ms").
pub const POST_SETTING_WAIT_MS: u32 = 500;
/// Reply timeout in ms: the document gives a reaction time of 500 ms by default; kerong-lib and
/// the Spanish Node.js server wait 1000 ms. Unknown for `0x33`, which pulses the 16 locks one
/// after another before its status reply (doc §5(4) gives no timing).
pub const RESPONSE_TIMEOUT_MS: u32 = 1_000;
/// Factory unlock time in 10 ms units: 55 = 550 ms (doc §5(5)).
pub const DEFAULT_UNLOCK_TIME_10MS: u16 = 55;
/// Largest documented unlock time in 10 ms units, 60 s (doc: `0x0000~0x1770`). The document also
/// quotes 0-655350 ms, so messages carry any `u16`; [`Dialect::request`] keeps to this bound.
pub const MAX_UNLOCK_TIME_10MS: u16 = 6_000;
/// Largest delayed-unlock time in seconds (doc §5(7); the board ignores larger values).
pub const MAX_DELAY_S: u8 = 250;
/// Length of a base request.
pub const REQUEST_LEN: usize = 5;
/// Length of every reply.
pub const REPLY_LEN: usize = 9;

const CMD_STATUS: u8 = 0x30;
const CMD_UNLOCK: u8 = 0x31;
const CMD_STATUS_ALL: u8 = 0x32;
const CMD_UNLOCK_ALL: u8 = 0x33;
const CMD_UNLOCK_TIME: u8 = 0x37;
const CMD_DELAYED_UNLOCK: u8 = 0x39;
const CMD_BAUD_RATE: u8 = 0x40;

const REPLY_STATUS: u8 = 0x35;
const REPLY_STATUS_ALL: u8 = 0x36;
const REPLY_UNLOCK_TIME: u8 = 0x38;
const REPLY_DELAYED_UNLOCK: u8 = 0x39;
const REPLY_BAUD_RATE: u8 = 0x40;

/// A CU16 request (master → board). `board` is the board number (ADDR high nibble, 0..=15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Cu16Request {
    /// `0x30`: hooks and presence of one board, answered by [`Cu16Reply::Status`].
    QueryStatus {
        /// Board number.
        board: u8,
    },
    /// `0x31`: pulse one lock. The board does not answer; poll [`Cu16Request::QueryStatus`].
    Unlock {
        /// Board number.
        board: u8,
        /// Lock 1..=16 (ADDR low nibble + 1).
        lock: Lock,
    },
    /// `0x32`: every board answers with [`Cu16Reply::BusStatus`]. The documented board is
    /// [`BUS_BOARD`] (ADDR `0xF0`).
    QueryAllBoards {
        /// Board number (15 for ADDR `0xF0`).
        board: u8,
    },
    /// `0x33`: pulse all 16 locks one after another, answered by [`Cu16Reply::Status`].
    UnlockAll {
        /// Board number.
        board: u8,
    },
    /// *Extended* `0x37`, 5 bytes: answered by [`Cu16Reply::UnlockTime`].
    QueryUnlockTime {
        /// Board number.
        board: u8,
    },
    /// *Extended* `0x37`, 7 bytes: answered by [`Cu16Reply::UnlockTime`].
    SetUnlockTime {
        /// Board number.
        board: u8,
        /// Lock output time in 10 ms units.
        time_10ms: u16,
    },
    /// *Extended* `0x39`, 6 bytes: answered by [`Cu16Reply::DelayedUnlockSet`].
    SetDelayedUnlock {
        /// Board number.
        board: u8,
        /// Delay between an unlock command and the pulse, 0..=250 s.
        seconds: u8,
    },
    /// *Extended* `0x40`, 6 bytes: answered by [`Cu16Reply::BaudRateSet`].
    SetBaudRate {
        /// Board number.
        board: u8,
        /// The new rate.
        baud: KerongBaudRate,
    },
}

impl Cu16Request {
    /// The board number.
    pub const fn board(&self) -> u8 {
        match *self {
            Cu16Request::QueryStatus { board }
            | Cu16Request::Unlock { board, .. }
            | Cu16Request::QueryAllBoards { board }
            | Cu16Request::UnlockAll { board }
            | Cu16Request::QueryUnlockTime { board }
            | Cu16Request::SetUnlockTime { board, .. }
            | Cu16Request::SetDelayedUnlock { board, .. }
            | Cu16Request::SetBaudRate { board, .. } => board,
        }
    }

    /// Whether this is one of the extended commands (`0x37`, `0x39`, `0x40`).
    pub const fn is_extended(&self) -> bool {
        matches!(
            self,
            Cu16Request::QueryUnlockTime { .. }
                | Cu16Request::SetUnlockTime { .. }
                | Cu16Request::SetDelayedUnlock { .. }
                | Cu16Request::SetBaudRate { .. }
        )
    }

    /// The reply command code this request draws, `None` for unlock.
    const fn reply_code(&self) -> Option<u8> {
        match self {
            Cu16Request::Unlock { .. } => None,
            Cu16Request::QueryStatus { .. } | Cu16Request::UnlockAll { .. } => Some(REPLY_STATUS),
            Cu16Request::QueryAllBoards { .. } => Some(REPLY_STATUS_ALL),
            Cu16Request::QueryUnlockTime { .. } | Cu16Request::SetUnlockTime { .. } => Some(REPLY_UNLOCK_TIME),
            Cu16Request::SetDelayedUnlock { .. } => Some(REPLY_DELAYED_UNLOCK),
            Cu16Request::SetBaudRate { .. } => Some(REPLY_BAUD_RATE),
        }
    }
}

/// A CU16 reply (board → master), always 9 bytes. `board` is the answering board's number;
/// `hooks` are the raw hook inputs, `presence` the infrared sensors (set = item present).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Cu16Reply {
    /// `0x35`: one board's status (answers `0x30` and `0x33`).
    Status {
        /// Board number.
        board: u8,
        /// Locks 1..=16 whose hook input reads 1.
        hooks: LockSet,
        /// Compartments 1..=16 whose infrared sensor sees an item.
        presence: LockSet,
    },
    /// `0x36`: one board's answer to the bus-wide `0x32`.
    BusStatus {
        /// Board number.
        board: u8,
        /// Locks 1..=16 whose hook input reads 1.
        hooks: LockSet,
        /// Compartments 1..=16 whose infrared sensor sees an item.
        presence: LockSet,
    },
    /// *Extended* `0x38`: hooks and the unlock time (answers both `0x37` forms).
    UnlockTime {
        /// Board number.
        board: u8,
        /// Locks 1..=16 whose hook input reads 1.
        hooks: LockSet,
        /// Lock output time in 10 ms units.
        time_10ms: u16,
    },
    /// *Extended* `0x39`: the answer to setting the delayed unlock, with hooks and presence
    /// (doc §5(7): the delay itself is not echoed).
    DelayedUnlockSet {
        /// Board number.
        board: u8,
        /// Locks 1..=16 whose hook input reads 1.
        hooks: LockSet,
        /// Compartments 1..=16 whose infrared sensor sees an item.
        presence: LockSet,
    },
    /// *Extended* `0x40`: the answer to setting the baud rate.
    BaudRateSet {
        /// Board number.
        board: u8,
        /// Locks 1..=16 whose hook input reads 1.
        hooks: LockSet,
        /// D3, which the document does not define for `0x40` (its examples send `0x00`).
        data3: u8,
        /// The rate set (D4).
        baud: KerongBaudRate,
    },
}

impl Cu16Reply {
    /// The answering board's number.
    pub const fn board(&self) -> u8 {
        match *self {
            Cu16Reply::Status { board, .. }
            | Cu16Reply::BusStatus { board, .. }
            | Cu16Reply::UnlockTime { board, .. }
            | Cu16Reply::DelayedUnlockSet { board, .. }
            | Cu16Reply::BaudRateSet { board, .. } => board,
        }
    }

    /// Whether this is a reply to an extended command.
    pub const fn is_extended(&self) -> bool {
        matches!(
            self,
            Cu16Reply::UnlockTime { .. } | Cu16Reply::DelayedUnlockSet { .. } | Cu16Reply::BaudRateSet { .. }
        )
    }
}

/// The Kerong CU16 dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct KerongCu16 {
    /// Accept and emit the extended commands `0x37`/`0x38`, `0x39` and `0x40` (see the module
    /// docs). **Off by default**: only the vendor document describes them, and no hardware
    /// capture confirms them.
    pub extended_commands: bool,
}

impl KerongCu16 {
    /// The dialect with the base commands only.
    pub const fn new() -> Self {
        KerongCu16 { extended_commands: false }
    }

    /// The dialect with the extended commands switched on or off.
    pub const fn with_extended_commands(mut self, enabled: bool) -> Self {
        self.extended_commands = enabled;
        self
    }

    const fn knows_request(&self, cmd: u8) -> bool {
        match cmd {
            CMD_STATUS | CMD_UNLOCK | CMD_STATUS_ALL | CMD_UNLOCK_ALL => true,
            CMD_UNLOCK_TIME | CMD_DELAYED_UNLOCK | CMD_BAUD_RATE => self.extended_commands,
            _ => false,
        }
    }

    const fn knows_reply(&self, cmd: u8) -> bool {
        match cmd {
            REPLY_STATUS | REPLY_STATUS_ALL => true,
            REPLY_UNLOCK_TIME | REPLY_DELAYED_UNLOCK | REPLY_BAUD_RATE => self.extended_commands,
            _ => false,
        }
    }

    fn check_extended(&self, extended: bool) -> Result<(), EncodeError> {
        if extended && !self.extended_commands {
            return Err(unsupported("an extended command (0x37, 0x39, 0x40) without extended_commands"));
        }
        Ok(())
    }
}

const fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported { dialect: KerongCu16::NAME, what }
}

/// Requires the frame's SUM at `offset` to match the bytes before it.
fn check_sum(r: &Reader<'_>, offset: usize) -> Result<(), FrameError> {
    let found = r.u8(offset)?;
    let expected = sum8(r.slice(0, offset)?);
    if found != expected {
        return Err(FrameError::BadChecksum { offset, expected: expected.into(), found: found.into() });
    }
    Ok(())
}

/// The bits of two DATA bytes (first = channels 1-8).
fn bits_of(low: u8, high: u8) -> LockSet {
    let mut set = LockSet::EMPTY;
    set.set_byte(0, low);
    set.set_byte(1, high);
    set
}

fn check_board(board: u8) -> Result<u8, EncodeError> {
    if board > BUS_BOARD {
        return Err(EncodeError::OutOfRange { field: "board", value: board.into(), reason: "CU16 boards are 0..=15" });
    }
    Ok(board)
}

fn check_bits(set: LockSet, field: &'static str) -> Result<[u8; 2], EncodeError> {
    if set.bits() >> LOCK_COUNT != 0 {
        let value = set.last().map_or(0, |lock| lock.get().into());
        return Err(EncodeError::OutOfRange { field, value, reason: "a CU16 reports channels 1..=16" });
    }
    Ok([set.byte(0), set.byte(1)])
}

/// The 0x37 set frames that would read as the 5-byte query: DATA `03 SUM(query)`.
fn is_ambiguous_set(addr: u8, time_10ms: u16) -> bool {
    time_10ms.to_be_bytes() == [ETX, sum8(&[STX, addr, CMD_UNLOCK_TIME, ETX])]
}

fn decode_request(dialect: &KerongCu16, buf: &[u8]) -> Result<Decoded<Cu16Request>, FrameError> {
    let r = Reader::new(buf);
    let stx = r.u8(0)?;
    if stx != STX {
        return Err(FrameError::BadStart { offset: 0, found: stx });
    }
    let addr = r.u8(1)?;
    let cmd = r.u8(2)?;
    if !dialect.knows_request(cmd) {
        return Err(FrameError::UnknownCommand { offset: 2, found: cmd });
    }
    let board = addr >> 4;
    let index = addr & 0x0F;
    if cmd == CMD_UNLOCK {
        let lock =
            Lock::from_index(index.into()).ok_or(FrameError::BadField { offset: 1, field: "ADDR", found: addr })?;
        return fixed_request(&r, Cu16Request::Unlock { board, lock });
    }
    // Board-level commands address lock index 0 (kerong-lib make_query_addr, every example).
    if index != 0 {
        return Err(FrameError::BadField { offset: 1, field: "ADDR (lock index must be 0)", found: addr });
    }
    match cmd {
        CMD_STATUS => fixed_request(&r, Cu16Request::QueryStatus { board }),
        CMD_STATUS_ALL => fixed_request(&r, Cu16Request::QueryAllBoards { board }),
        CMD_UNLOCK_ALL => fixed_request(&r, Cu16Request::UnlockAll { board }),
        CMD_UNLOCK_TIME => unlock_time_request(&r, board),
        CMD_DELAYED_UNLOCK => {
            let seconds = one_byte_request(&r)?;
            Ok(Decoded { message: Cu16Request::SetDelayedUnlock { board, seconds }, len: REQUEST_LEN + 1 })
        }
        CMD_BAUD_RATE => {
            let baud = KerongBaudRate::from_code(one_byte_request(&r)?);
            Ok(Decoded { message: Cu16Request::SetBaudRate { board, baud }, len: REQUEST_LEN + 1 })
        }
        found => Err(FrameError::UnknownCommand { offset: 2, found }),
    }
}

/// The 5-byte frame `STX ADDR CMD ETX SUM`.
fn fixed_request(r: &Reader<'_>, message: Cu16Request) -> Result<Decoded<Cu16Request>, FrameError> {
    r.marker(3, ETX)?;
    check_sum(r, 4)?;
    Ok(Decoded { message, len: REQUEST_LEN })
}

/// The DATA byte of the 6-byte frame `STX ADDR CMD DATA ETX SUM`.
fn one_byte_request(r: &Reader<'_>) -> Result<u8, FrameError> {
    let data = r.u8(3)?;
    r.marker(4, ETX)?;
    check_sum(r, 5)?;
    Ok(data)
}

/// `0x37`: the 5-byte query, or else the 7-byte set `STX ADDR 37 HI LO ETX SUM`.
fn unlock_time_request(r: &Reader<'_>, board: u8) -> Result<Decoded<Cu16Request>, FrameError> {
    let hi = r.u8(3)?;
    if hi == ETX && check_sum(r, 4).is_ok() {
        return Ok(Decoded { message: Cu16Request::QueryUnlockTime { board }, len: REQUEST_LEN });
    }
    // Incomplete from the query check above means byte 4 has not arrived: wait for it.
    let lo = r.u8(4)?;
    r.marker(5, ETX)?;
    check_sum(r, 6)?;
    let time_10ms = u16::from_be_bytes([hi, lo]);
    Ok(Decoded { message: Cu16Request::SetUnlockTime { board, time_10ms }, len: REQUEST_LEN + 2 })
}

fn encode_request(dialect: &KerongCu16, request: &Cu16Request, out: &mut [u8]) -> Result<usize, EncodeError> {
    dialect.check_extended(request.is_extended())?;
    let board = check_board(request.board())?;
    let addr = board << 4;
    let (addr, cmd) = match *request {
        Cu16Request::QueryStatus { .. } => (addr, CMD_STATUS),
        Cu16Request::Unlock { lock, .. } => {
            if lock.get() > LOCK_COUNT {
                let value = lock.get().into();
                return Err(EncodeError::OutOfRange { field: "lock", value, reason: "CU16 locks are 1..=16" });
            }
            // Lock 1..=16 is index 0..=15, the low nibble.
            (addr | (lock.get() - 1), CMD_UNLOCK)
        }
        Cu16Request::QueryAllBoards { .. } => (addr, CMD_STATUS_ALL),
        Cu16Request::UnlockAll { .. } => (addr, CMD_UNLOCK_ALL),
        Cu16Request::QueryUnlockTime { .. } | Cu16Request::SetUnlockTime { .. } => (addr, CMD_UNLOCK_TIME),
        Cu16Request::SetDelayedUnlock { .. } => (addr, CMD_DELAYED_UNLOCK),
        Cu16Request::SetBaudRate { .. } => (addr, CMD_BAUD_RATE),
    };
    let (data, data_len) = match *request {
        Cu16Request::SetUnlockTime { time_10ms, .. } => {
            if is_ambiguous_set(addr, time_10ms) {
                return Err(EncodeError::OutOfRange {
                    field: "time_10ms",
                    value: time_10ms.into(),
                    reason: "this set frame would start with the 0x37 query frame",
                });
            }
            (time_10ms.to_be_bytes(), 2)
        }
        Cu16Request::SetDelayedUnlock { seconds, .. } => ([seconds, 0], 1),
        Cu16Request::SetBaudRate { baud, .. } => ([baud.checked_code()?, 0], 1),
        _ => ([0; 2], 0),
    };
    let data = data.get(..data_len).unwrap_or_default();
    let mut w = Writer::new(out);
    w.extend(&[STX, addr, cmd])?;
    w.extend(data)?;
    w.push(ETX)?;
    let sum = sum8(&[STX, addr, cmd, ETX]).wrapping_add(sum8(data));
    w.push(sum)?;
    Ok(w.len())
}

/// What a pending request requires of its reply: the reply code and, unless the request went
/// to the whole bus, the board.
fn expectation(request: &Cu16Request) -> Option<(u8, Option<u8>)> {
    let code = request.reply_code()?;
    let bus = request.board() == BUS_BOARD || matches!(request, Cu16Request::QueryAllBoards { .. });
    Some((code, if bus { None } else { Some(request.board() << 4) }))
}

fn decode_reply(
    dialect: &KerongCu16,
    buf: &[u8],
    pending: Option<&Cu16Request>,
) -> Result<Decoded<Cu16Reply>, FrameError> {
    let expect = pending.and_then(expectation);
    let r = Reader::new(buf);
    let stx = r.u8(0)?;
    if stx != STX {
        return Err(FrameError::BadStart { offset: 0, found: stx });
    }
    let addr = r.u8(1)?;
    if addr & 0x0F != 0 {
        return Err(FrameError::BadField { offset: 1, field: "ADDR (lock index must be 0)", found: addr });
    }
    if let Some(expected) = expect.and_then(|(_, addr)| addr).filter(|&e| e != addr) {
        return Err(FrameError::Mismatch { offset: 1, field: "ADDR", expected, found: addr });
    }
    let cmd = r.u8(2)?;
    if !dialect.knows_reply(cmd) {
        return Err(FrameError::UnknownCommand { offset: 2, found: cmd });
    }
    if let Some((expected, _)) = expect.filter(|&(code, _)| code != cmd) {
        return Err(FrameError::Mismatch { offset: 2, field: "CMD", expected, found: cmd });
    }
    r.marker(7, ETX)?;
    check_sum(&r, 8)?;
    let [d1, d2, d3, d4] = [r.u8(3)?, r.u8(4)?, r.u8(5)?, r.u8(6)?];
    let board = addr >> 4;
    let hooks = bits_of(d1, d2);
    let message = match cmd {
        REPLY_STATUS => Cu16Reply::Status { board, hooks, presence: bits_of(d3, d4) },
        REPLY_STATUS_ALL => Cu16Reply::BusStatus { board, hooks, presence: bits_of(d3, d4) },
        REPLY_UNLOCK_TIME => Cu16Reply::UnlockTime { board, hooks, time_10ms: u16::from_be_bytes([d3, d4]) },
        REPLY_DELAYED_UNLOCK => Cu16Reply::DelayedUnlockSet { board, hooks, presence: bits_of(d3, d4) },
        REPLY_BAUD_RATE => Cu16Reply::BaudRateSet { board, hooks, data3: d3, baud: KerongBaudRate::from_code(d4) },
        found => return Err(FrameError::UnknownCommand { offset: 2, found }),
    };
    Ok(Decoded { message, len: REPLY_LEN })
}

fn encode_reply(dialect: &KerongCu16, reply: &Cu16Reply, out: &mut [u8]) -> Result<usize, EncodeError> {
    dialect.check_extended(reply.is_extended())?;
    let addr = check_board(reply.board())? << 4;
    let (cmd, [d1, d2], [d3, d4]) = match *reply {
        Cu16Reply::Status { hooks, presence, .. } => {
            (REPLY_STATUS, check_bits(hooks, "hooks")?, check_bits(presence, "presence")?)
        }
        Cu16Reply::BusStatus { hooks, presence, .. } => {
            (REPLY_STATUS_ALL, check_bits(hooks, "hooks")?, check_bits(presence, "presence")?)
        }
        Cu16Reply::UnlockTime { hooks, time_10ms, .. } => {
            (REPLY_UNLOCK_TIME, check_bits(hooks, "hooks")?, time_10ms.to_be_bytes())
        }
        Cu16Reply::DelayedUnlockSet { hooks, presence, .. } => {
            (REPLY_DELAYED_UNLOCK, check_bits(hooks, "hooks")?, check_bits(presence, "presence")?)
        }
        Cu16Reply::BaudRateSet { hooks, data3, baud, .. } => {
            (REPLY_BAUD_RATE, check_bits(hooks, "hooks")?, [data3, baud.checked_code()?])
        }
    };
    let body = [STX, addr, cmd, d1, d2, d3, d4, ETX];
    let mut w = Writer::new(out);
    w.extend(&body)?;
    w.push(sum8(&body))?;
    Ok(w.len())
}

/// A status reading with 16 raw hook channels and 16 presence channels.
fn board_status(hooks: LockSet, presence: LockSet) -> BoardStatus {
    BoardStatus {
        locks: ChannelBits::from_bitmap(LOCK_COUNT, hooks),
        doors: None,
        presence: Some(ChannelBits::from_bitmap(LOCK_COUNT, presence)),
    }
}

/// The raw bits a neutral status puts on the wire (reported and active).
fn status_bits(status: &BoardStatus) -> Result<(LockSet, LockSet), EncodeError> {
    let active = |bits: &ChannelBits| bits.active.intersection(bits.reported);
    // A CU16 always reports its infrared sensors; inventing "empty" would be false evidence.
    let presence = status.presence.as_ref().ok_or(unsupported("a CU16 status without presence bits"))?;
    Ok((active(&status.locks), active(presence)))
}

fn write_parameter(board: u8, parameter: &Parameter) -> Result<Cu16Request, EncodeError> {
    Ok(match *parameter {
        Parameter::UnlockTimeMs(ms) => {
            let time_10ms = u16::try_from(ms / 10)
                .ok()
                .filter(|&units| ms % 10 == 0 && units <= MAX_UNLOCK_TIME_10MS)
                .ok_or(EncodeError::OutOfRange {
                    field: "unlock time ms",
                    value: ms,
                    reason: "CU16 takes 0..=60000 ms in 10 ms steps",
                })?;
            Cu16Request::SetUnlockTime { board, time_10ms }
        }
        Parameter::DelayedUnlockS(s) => {
            let seconds = u8::try_from(s).ok().filter(|&s| s <= MAX_DELAY_S).ok_or(EncodeError::OutOfRange {
                field: "delayed unlock s",
                value: s.into(),
                reason: "CU16 takes 0..=250 s",
            })?;
            Cu16Request::SetDelayedUnlock { board, seconds }
        }
        Parameter::BaudRate(rate) => {
            let baud = KerongBaudRate::from_bits_per_second(rate).ok_or(EncodeError::OutOfRange {
                field: "baud rate",
                value: rate,
                reason: "CU16 runs at 9600, 19200, 57600 or 115200",
            })?;
            Cu16Request::SetBaudRate { board, baud }
        }
        Parameter::PushDoorWaitS(_) => return Err(unsupported("a push-door waiting time")),
    })
}

impl Dialect for KerongCu16 {
    type Request = Cu16Request;
    type Reply = Cu16Reply;
    const NAME: &'static str = "kerong-cu16";
    const MAX_FRAME_LEN: usize = REPLY_LEN;

    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<Cu16Request>, FrameError> {
        decode_request(self, buf)
    }

    /// With `pending`, the reply must carry the reply code the request draws and come from the
    /// addressed board (any board after a bus-wide request). An unlock draws no reply, so it
    /// checks nothing.
    fn decode_reply(&self, buf: &[u8], pending: Option<&Cu16Request>) -> Result<Decoded<Cu16Reply>, FrameError> {
        decode_reply(self, buf, pending)
    }

    fn encode_request(&self, request: &Cu16Request, out: &mut [u8]) -> Result<usize, EncodeError> {
        encode_request(self, request, out)
    }

    fn encode_reply(&self, reply: &Cu16Reply, out: &mut [u8]) -> Result<usize, EncodeError> {
        encode_reply(self, reply, out)
    }

    fn reply_expectation(&self, request: &Cu16Request) -> ReplyExpectation {
        match request {
            Cu16Request::Unlock { .. } => ReplyExpectation::None,
            Cu16Request::QueryAllBoards { .. } => ReplyExpectation::EveryBoard,
            request if request.board() == BUS_BOARD => ReplyExpectation::EveryBoard,
            _ => ReplyExpectation::One,
        }
    }

    fn request(&self, board: u8, command: &Command) -> Result<Cu16Request, EncodeError> {
        let board = check_board(board)?;
        let request = match *command {
            Command::Unlock(lock) => Cu16Request::Unlock { board, lock },
            Command::UnlockAll => Cu16Request::UnlockAll { board },
            Command::QueryAll => Cu16Request::QueryStatus { board },
            Command::ReadParameter(ParameterId::UnlockTime) => Cu16Request::QueryUnlockTime { board },
            Command::WriteParameter(ref parameter) => write_parameter(board, parameter)?,
            Command::ReadParameter(_) => return Err(unsupported("reading this parameter")),
            Command::UnlockMany(_) => return Err(unsupported("unlocking a set of locks (use UnlockAll or Unlock)")),
            Command::QueryLock(_) => return Err(unsupported("reading one lock (use QueryAll)")),
            Command::BoardInfo => return Err(unsupported("a version query (OTA frames are not supported)")),
            Command::QueryAddress => return Err(unsupported("an address query")),
        };
        // Encoding checks the lock range, the extended flag and the ambiguous unlock times.
        encode_request(self, &request, &mut [0; REQUEST_LEN + 2])?;
        Ok(request)
    }

    fn command(&self, request: &Cu16Request) -> Option<(u8, Command)> {
        let command = match *request {
            Cu16Request::QueryStatus { .. } | Cu16Request::QueryAllBoards { .. } => Command::QueryAll,
            Cu16Request::Unlock { lock, .. } => Command::Unlock(lock),
            Cu16Request::UnlockAll { .. } => Command::UnlockAll,
            Cu16Request::QueryUnlockTime { .. } => Command::ReadParameter(ParameterId::UnlockTime),
            Cu16Request::SetUnlockTime { time_10ms, .. } => {
                Command::WriteParameter(Parameter::UnlockTimeMs(u32::from(time_10ms) * 10))
            }
            Cu16Request::SetDelayedUnlock { seconds, .. } => {
                Command::WriteParameter(Parameter::DelayedUnlockS(seconds.into()))
            }
            Cu16Request::SetBaudRate { baud, .. } => {
                Command::WriteParameter(Parameter::BaudRate(baud.bits_per_second()?))
            }
        };
        Some((request.board(), command))
    }

    /// Status replies need the neutral status with its presence bits. The neutral answers to
    /// the extended commands carry no hook bits, so those replies send the hooks (and, for
    /// `0x39` answered with [`Response::Ack`], the presence) as 0; [`Dialect::response`] does
    /// not report them for these replies.
    fn reply(&self, board: u8, request: &Cu16Request, response: &Response) -> Result<Cu16Reply, EncodeError> {
        let board = check_board(board)?;
        self.check_extended(request.is_extended())?;
        let none = LockSet::EMPTY;
        let reply = match (request, response) {
            (Cu16Request::QueryStatus { .. } | Cu16Request::UnlockAll { .. }, Response::Status(status)) => {
                let (hooks, presence) = status_bits(status)?;
                Cu16Reply::Status { board, hooks, presence }
            }
            (Cu16Request::QueryAllBoards { .. }, Response::Status(status)) => {
                let (hooks, presence) = status_bits(status)?;
                Cu16Reply::BusStatus { board, hooks, presence }
            }
            (
                Cu16Request::QueryUnlockTime { .. } | Cu16Request::SetUnlockTime { .. },
                Response::Parameter(Parameter::UnlockTimeMs(ms)),
            ) => {
                let time_10ms =
                    u16::try_from(ms / 10).ok().filter(|_| ms % 10 == 0).ok_or(EncodeError::OutOfRange {
                        field: "unlock time ms",
                        value: *ms,
                        reason: "a multiple of 10 ms up to 655350",
                    })?;
                Cu16Reply::UnlockTime { board, hooks: none, time_10ms }
            }
            (Cu16Request::SetDelayedUnlock { .. }, Response::Ack) => {
                Cu16Reply::DelayedUnlockSet { board, hooks: none, presence: none }
            }
            (Cu16Request::SetDelayedUnlock { .. }, Response::Status(status)) => {
                let (hooks, presence) = status_bits(status)?;
                Cu16Reply::DelayedUnlockSet { board, hooks, presence }
            }
            (Cu16Request::SetBaudRate { .. }, Response::Parameter(Parameter::BaudRate(rate))) => {
                let baud = KerongBaudRate::from_bits_per_second(*rate).ok_or(EncodeError::OutOfRange {
                    field: "baud rate",
                    value: *rate,
                    reason: "9600, 19200, 57600 or 115200",
                })?;
                Cu16Reply::BaudRateSet { board, hooks: none, data3: 0, baud }
            }
            (Cu16Request::Unlock { .. }, _) => return Err(unsupported("a reply to an unlock (the board sends none)")),
            _ => return Err(unsupported("this response to this request")),
        };
        Ok(reply)
    }

    /// Status replies give hooks and presence; the extended replies give the parameter they
    /// confirm (`0x39`: [`Response::Ack`]), without their hook bits.
    fn response(&self, reply: &Cu16Reply) -> Option<(u8, Response)> {
        let response = match *reply {
            Cu16Reply::Status { hooks, presence, .. } | Cu16Reply::BusStatus { hooks, presence, .. } => {
                Response::Status(board_status(hooks, presence))
            }
            Cu16Reply::UnlockTime { time_10ms, .. } => {
                Response::Parameter(Parameter::UnlockTimeMs(u32::from(time_10ms) * 10))
            }
            Cu16Reply::DelayedUnlockSet { .. } => Response::Ack,
            Cu16Reply::BaudRateSet { baud, .. } => Response::Parameter(Parameter::BaudRate(baud.bits_per_second()?)),
        };
        Some((reply.board(), response))
    }
}
