//! The generic "8A / 80" BCC lock board (锁控板), reference/lockboards.md §1.
//!
//! The widespread cheap Chinese lock-control board with 8 to 50 channels, DIP-switch addressed,
//! 9600 8N1. Requests are always five bytes; every frame ends with a BCC, the XOR of all bytes
//! before it.
//!
//! | operation | request | reply |
//! |---|---|---|
//! | unlock one lock | `8A bb ll 11 X` | `8A bb ll FF X` or `80 bb ll FF X` (FF = `00` / `11`) |
//! | unlock all locks of a board | `8A bb 00 11 X` | `8A bb 00 FF X` (assumed, see below) |
//! | read one lock | `80 bb ll 33 X` | `80 bb ll FF X` |
//! | read all locks | `80 bb 00 33 X` | `80 bb S_N … S_1 33 X` (N status bytes) |
//! | query the board address | `80 01 00 99 18` (fixed) | `80 01 bb 99 X` |
//!
//! * `bb` board address (DIP switch, wire value), `ll` 1-based lock number (`00` = all locks),
//!   `X` BCC = XOR of every byte before it.
//! * Query-all status bytes come **highest lock group first**: the last status byte `S_1` holds
//!   locks 1-8 with bit 0 = lock 1 (QWM "从状态4开始到状态1低位到高位对应的锁为1—32"; DP2 lists
//!   BYTE\[2\] = 25-32 … BYTE\[5\] = 1-8).
//! * N **varies with the firmware** (vendor texts: 4; a real 8-channel board: 3, vector v021;
//!   a Python script: 3, v022). The reply is framed by the trailing `33` and a matching BCC,
//!   never from the channel count (OL ADR-0061, ADR-0067). Set
//!   [`Bcc8a80::query_all_status_bytes`] when N is known to frame exactly.
//!
//! # The unlock reply header (§1.3, conflicting sources)
//!
//! CSDN1, QWM and Open-Locker's hardware echo header `8A`; DP2's vendor text shows `80`. Both
//! are accepted and kept in [`UnlockReplyHeader`], so a reply encodes back identically; a board
//! simulator chooses with [`Bcc8a80::unlock_reply_header`].
//!
//! # The feedback byte and polarity
//!
//! Only `00` and `11` are documented. Any other value is rejected ([`FrameError::BadField`]),
//! as Open-Locker's codec does ("unsupported unlock response status"): the one-byte XOR is
//! weak, and an undocumented value is more likely corruption than news. `11` (and a set bit in
//! a query-all bitmap) is reported as *active* in [`ChannelBits`]. Whether active means locked
//! or unlocked depends on how the lock's feedback switch is wired, so it is installation
//! configuration, [`crate::FeedbackPolarity`]: CSDN1's "上锁短路" (short when locked) locks and
//! Open-Locker's `door_closing` are [`crate::FeedbackPolarity::ActiveWhenLocked`]; QWM's labels
//! (`11` = "锁为开", open) and Open-Locker's `door_opening` are
//! [`crate::FeedbackPolarity::ActiveWhenUnlocked`].
//!
//! # Ambiguous frames: decode replies with the pending request
//!
//! `8A 01 01 11 9B` is both the unlock request and its reply (feedback `11`), so a bus with
//! local echo makes "no board" look like "lock still closed" (the codec cannot tell; the
//! direction decides). `80 01 01 33 B3` is both a single-lock query request and a query-all
//! reply with one status byte. [`Dialect::decode_reply`] therefore uses the pending request
//! when given: unlock → unlock reply, query one → single-lock reply, query all → query-all
//! reply, address query → address reply, and checks the echoed board and lock
//! ([`FrameError::Mismatch`]). Without a pending request (a bus sniffer) replies are decoded by
//! structure, and the **shortest** valid frame wins:
//!
//! 1. header `8A`: a five-byte unlock reply;
//! 2. header `80`, byte 3 = `00`/`11`, lock byte 1..=128 and a matching BCC at byte 4: a
//!    single-lock reply (so DP2's `80`-headed unlock reply reads as a single-lock reply, and
//!    an `80`-headed unlock-all reply is recognised only with the pending request);
//! 3. header `80`, bytes 1 and 3 = `01`, `99` and a matching BCC at byte 4: an address reply;
//! 4. otherwise a query-all reply ending at the first `33` followed by a matching BCC (with
//!    [`Bcc8a80::query_all_status_bytes`] set: exactly at byte 2 + N).
//!
//! Without N configured a status byte `33` followed by a byte equal to the running XOR ends a
//! query-all reply early (about 1 in 65 536 per such byte); with neither N nor a pending
//! request a stray `80` can hold resynchronisation back for up to [`Bcc8a80::MAX_FRAME_LEN`]
//! bytes. Bus masters always have the pending request.
//!
//! # Sources
//!
//! CSDN1 blog.csdn.net/u012909822/article/details/147892413 (vendor spec sheet); QWM
//! qiwenming/QwmLockDemo README.md (copy of blog.csdn.net/qiwenmingshiwo/article/details/50717517);
//! DP2 DigitalPlatform/dp2 ShelfLockDriver.First/WjlLockDriver.cs (vendor text in comments);
//! OL Open-Locker/Open-Locker ADR-0061, ADR-0067 and locker-client rs485-lock-board-codec.

use crate::checksum::xor;
use crate::dialect::{Decoded, Dialect, ReplyExpectation};
use crate::error::{EncodeError, FrameError};
use crate::model::{BoardStatus, ChannelBits, Command, Lock, LockSet, MAX_CHANNELS, Response};
use crate::wire::{Reader, Writer};

/// Serial speed, 8N1 (CSDN1, QWM "波特率默认是：9600", DP2; Open-Locker fixes the same).
pub const BAUD_RATE: u32 = 9600;

/// How long to wait for any reply: 1500 ms (Open-Locker ADR-0067 §6; DP2 uses a 2000 ms read
/// timeout plus one retry). Covers the unlock reply delay.
pub const RESPONSE_TIMEOUT_MS: u32 = 1500;

/// Line silence that ends a reply: 25 ms, because USB-RS485 adapters deliver one reply in
/// bursts that can be more than 5 ms apart (Open-Locker ADR-0067 §6, hardware finding).
pub const FRAME_QUIET_TIME_MS: u32 = 25;

/// When the unlock reply comes: about 1 s after the command, once the lock had time to open
/// (QWM "1 秒后返回", DP2). Open-Locker observed about 500 ms on its board (ADR-0067).
pub const UNLOCK_REPLY_DELAY_MS: u32 = 1000;

/// The vendor's advice to wait 100 ms after a status query before reading (DP2
/// "厂家建议这里延迟 100 毫秒").
pub const STATUS_READ_DELAY_MS: u32 = 100;

/// Gap between transactions: 5 ms, 3.5 character times at 9600 8N1 plus 1 ms (Open-Locker
/// `serial-framing-timing.ts`, ADR-0035).
pub const INTER_TRANSACTION_GAP_MS: u32 = 5;

/// The most status bytes a query-all reply may carry (16 × 8 = 128 channels, the model limit).
pub const MAX_STATUS_BYTES: u8 = 16;

/// Status bytes in the vendor texts' query-all example `80 01 FF FF FF FF 33 B2` (v015); what a
/// simulated board sends when neither configuration nor the reported channels say otherwise.
pub const VENDOR_STATUS_BYTES: u8 = 4;

/// Length of every request and of every reply except query-all.
pub const SHORT_FRAME_LEN: usize = 5;

const HEADER_ACTUATE: u8 = 0x8A;
const HEADER_READ: u8 = 0x80;
const FN_UNLOCK: u8 = 0x11;
const FN_QUERY: u8 = 0x33;
const FN_ADDRESS: u8 = 0x99;
const FEEDBACK_INACTIVE: u8 = 0x00;
const FEEDBACK_ACTIVE: u8 = 0x11;
/// Byte 1 of the address query and its reply is fixed (QWM, DP2 "0X01（固定）").
const ADDRESS_FIXED: u8 = 0x01;
const ALL_LOCKS: u8 = 0x00;
/// Header, board, 16 status bytes, `33`, BCC.
const MAX_LEN: usize = 2 + MAX_STATUS_BYTES as usize + 2;

/// The header of an unlock reply: the sources disagree (§1.3), so both are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum UnlockReplyHeader {
    /// `8A`, echoing the request's header: CSDN1, QWM and Open-Locker's hardware (v005, v006).
    #[default]
    Actuate,
    /// `80`, the read header: DP2's vendor text (`80 01 01 11 91`, v009).
    Read,
}

impl UnlockReplyHeader {
    const fn byte(self) -> u8 {
        match self {
            UnlockReplyHeader::Actuate => HEADER_ACTUATE,
            UnlockReplyHeader::Read => HEADER_READ,
        }
    }
}

/// Master → board messages of the 8A/80 board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Bcc8a80Request {
    /// `8A bb ll 11 X`: pulse one lock.
    Unlock {
        /// Board address.
        board: u8,
        /// The lock.
        lock: Lock,
    },
    /// `8A bb 00 11 X`: pulse every lock of the board, one after another (CSDN1 "全开命令").
    UnlockAll {
        /// Board address.
        board: u8,
    },
    /// `80 bb ll 33 X`: read one lock's feedback.
    QueryLock {
        /// Board address.
        board: u8,
        /// The lock.
        lock: Lock,
    },
    /// `80 bb 00 33 X`: read every lock's feedback.
    QueryAll {
        /// Board address.
        board: u8,
    },
    /// `80 01 00 99 18`: ask the board for its address; only one board may be on the bus.
    QueryAddress,
}

/// Board → master messages of the 8A/80 board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Bcc8a80Reply {
    /// `8A|80 bb ll FF X`: the lock's feedback after an unlock.
    UnlockFeedback {
        /// Which header the board used.
        header: UnlockReplyHeader,
        /// Board address.
        board: u8,
        /// The lock.
        lock: Lock,
        /// Feedback byte `11` (`true`) or `00`; see the module docs on polarity.
        active: bool,
    },
    /// `8A|80 bb 00 FF X`: the reply to unlock-all. No source shows this frame; it is assumed
    /// to have the shape of the single-lock unlock reply (a public script waits for five bytes).
    UnlockAllFeedback {
        /// Which header the board used.
        header: UnlockReplyHeader,
        /// Board address.
        board: u8,
        /// Feedback byte `11` (`true`) or `00`; its meaning for all locks is undocumented.
        active: bool,
    },
    /// `80 bb ll FF X`: one lock's feedback.
    LockStatus {
        /// Board address.
        board: u8,
        /// The lock.
        lock: Lock,
        /// Feedback byte `11` (`true`) or `00`.
        active: bool,
    },
    /// `80 bb S_N … S_1 33 X`: every lock's feedback.
    StatusReport {
        /// Board address.
        board: u8,
        /// N, the number of status bytes on the wire (1..=16); kept so the frame re-encodes
        /// identically. The report covers locks `1..=8 * N`.
        status_bytes: u8,
        /// Locks whose bit is set; none above `8 * status_bytes`.
        active: LockSet,
    },
    /// `80 01 bb 99 X`: the board's address.
    Address {
        /// The address the board reports.
        board: u8,
    },
}

/// The 8A/80 BCC board dialect, with its configuration.
#[derive(Debug, Clone, Default)]
pub struct Bcc8a80 {
    /// How many status bytes the board's query-all reply carries, when known: frames it exactly
    /// and rejects other lengths. `None` (default) accepts any N in 1..=16, framed by the first
    /// `33` + matching BCC. Values outside 1..=16 reject every query-all reply.
    pub query_all_status_bytes: Option<u8>,
    /// The header a simulated board puts on its unlock replies ([`Dialect::reply`]); decoding
    /// accepts both.
    pub unlock_reply_header: UnlockReplyHeader,
}

impl Bcc8a80 {
    /// N for a query-all reply the board side sends with `reading`.
    fn status_bytes_for(&self, reading: &ChannelBits) -> Result<u8, EncodeError> {
        let highest = reading.reported.union(reading.active).last().map_or(0, Lock::get);
        let n = match self.query_all_status_bytes {
            Some(n) => n,
            None if highest == 0 => VENDOR_STATUS_BYTES,
            None => highest.div_ceil(8),
        };
        if n == 0 || n > MAX_STATUS_BYTES {
            return Err(EncodeError::OutOfRange {
                field: "query_all_status_bytes",
                value: n.into(),
                reason: "a query-all reply carries 1..=16 status bytes",
            });
        }
        if u16::from(highest) > 8 * u16::from(n) {
            return Err(EncodeError::OutOfRange {
                field: "lock",
                value: highest.into(),
                reason: "the status reading has more channels than the configured status bytes carry",
            });
        }
        Ok(n)
    }
}

fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported { dialect: Bcc8a80::NAME, what }
}

/// Requires the BCC at `offset` to be the XOR of every byte before it.
fn check_bcc(r: &Reader<'_>, offset: usize) -> Result<(), FrameError> {
    let found = r.u8(offset)?;
    let expected = xor(r.slice(0, offset)?);
    if found == expected {
        Ok(())
    } else {
        Err(FrameError::BadChecksum { offset, expected: expected.into(), found: found.into() })
    }
}

/// The lock byte at `offset`: `None` for `00` (all locks), an error above 128.
fn lock_or_all(r: &Reader<'_>, offset: usize) -> Result<Option<Lock>, FrameError> {
    let found = r.u8(offset)?;
    if found == ALL_LOCKS {
        return Ok(None);
    }
    Lock::new(found).map(Some).ok_or(FrameError::BadField { offset, field: "lock", found })
}

fn one_lock(r: &Reader<'_>, offset: usize) -> Result<Lock, FrameError> {
    let found = r.u8(offset)?;
    Lock::new(found).ok_or(FrameError::BadField { offset, field: "lock", found })
}

fn feedback(r: &Reader<'_>, offset: usize) -> Result<bool, FrameError> {
    match r.u8(offset)? {
        FEEDBACK_INACTIVE => Ok(false),
        FEEDBACK_ACTIVE => Ok(true),
        found => Err(FrameError::BadField { offset, field: "feedback", found }),
    }
}

const fn feedback_byte(active: bool) -> u8 {
    if active { FEEDBACK_ACTIVE } else { FEEDBACK_INACTIVE }
}

/// Requires the byte at `offset` to echo the pending request's `expected` value.
fn echo(r: &Reader<'_>, offset: usize, field: &'static str, expected: Option<u8>) -> Result<u8, FrameError> {
    let found = r.u8(offset)?;
    match expected {
        Some(expected) if expected != found => Err(FrameError::Mismatch { offset, field, expected, found }),
        _ => Ok(found),
    }
}

fn read_header(r: &Reader<'_>) -> Result<(), FrameError> {
    match r.u8(0)? {
        HEADER_READ => Ok(()),
        found => Err(FrameError::BadStart { offset: 0, found }),
    }
}

fn decode_request(r: &Reader<'_>) -> Result<Bcc8a80Request, FrameError> {
    match r.u8(0)? {
        HEADER_ACTUATE => {
            let board = r.u8(1)?;
            let lock = lock_or_all(r, 2)?;
            match r.u8(3)? {
                FN_UNLOCK => {}
                found => return Err(FrameError::UnknownCommand { offset: 3, found }),
            }
            check_bcc(r, 4)?;
            Ok(match lock {
                Some(lock) => Bcc8a80Request::Unlock { board, lock },
                None => Bcc8a80Request::UnlockAll { board },
            })
        }
        HEADER_READ => {
            let board = r.u8(1)?;
            let lock = lock_or_all(r, 2)?;
            match r.u8(3)? {
                FN_QUERY => {
                    check_bcc(r, 4)?;
                    Ok(match lock {
                        Some(lock) => Bcc8a80Request::QueryLock { board, lock },
                        None => Bcc8a80Request::QueryAll { board },
                    })
                }
                FN_ADDRESS => {
                    r.marker(1, ADDRESS_FIXED)?;
                    r.marker(2, ALL_LOCKS)?;
                    check_bcc(r, 4)?;
                    Ok(Bcc8a80Request::QueryAddress)
                }
                found => Err(FrameError::UnknownCommand { offset: 3, found }),
            }
        }
        found => Err(FrameError::BadStart { offset: 0, found }),
    }
}

/// `8A|80 bb ll FF X`, echoing `expected` (board, lock byte) when known.
fn decode_unlock_reply(r: &Reader<'_>, expected: Option<(u8, u8)>) -> Result<Bcc8a80Reply, FrameError> {
    let header = match r.u8(0)? {
        HEADER_ACTUATE => UnlockReplyHeader::Actuate,
        HEADER_READ => UnlockReplyHeader::Read,
        found => return Err(FrameError::BadStart { offset: 0, found }),
    };
    let board = echo(r, 1, "board", expected.map(|(board, _)| board))?;
    echo(r, 2, "lock", expected.map(|(_, lock)| lock))?;
    let lock = lock_or_all(r, 2)?;
    let active = feedback(r, 3)?;
    check_bcc(r, 4)?;
    Ok(match lock {
        Some(lock) => Bcc8a80Reply::UnlockFeedback { header, board, lock, active },
        None => Bcc8a80Reply::UnlockAllFeedback { header, board, active },
    })
}

/// `80 bb ll FF X`, echoing `expected` (board, lock) when known.
fn decode_lock_status(r: &Reader<'_>, expected: Option<(u8, Lock)>) -> Result<Bcc8a80Reply, FrameError> {
    read_header(r)?;
    let board = echo(r, 1, "board", expected.map(|(board, _)| board))?;
    echo(r, 2, "lock", expected.map(|(_, lock)| lock.get()))?;
    let lock = one_lock(r, 2)?;
    let active = feedback(r, 3)?;
    check_bcc(r, 4)?;
    Ok(Bcc8a80Reply::LockStatus { board, lock, active })
}

/// `80 01 bb 99 X`.
fn decode_address(r: &Reader<'_>) -> Result<Bcc8a80Reply, FrameError> {
    read_header(r)?;
    r.marker(1, ADDRESS_FIXED)?;
    let board = r.u8(2)?;
    r.marker(3, FN_ADDRESS)?;
    check_bcc(r, 4)?;
    Ok(Bcc8a80Reply::Address { board })
}

/// Where the `33` marker of a query-all reply sits: at 2 + N for a configured N, else at the
/// first `33` followed by a matching BCC.
fn find_status_marker(r: &Reader<'_>, configured: Option<u8>) -> Result<usize, FrameError> {
    if let Some(n) = configured {
        if n == 0 || n > MAX_STATUS_BYTES {
            return Err(FrameError::BadLength {
                offset: 2,
                found: n.into(),
                reason: "query_all_status_bytes must be 1..=16",
            });
        }
        let marker = 2 + usize::from(n);
        r.marker(marker, FN_QUERY)?;
        check_bcc(r, marker + 1)?;
        return Ok(marker);
    }
    for marker in 3..MAX_LEN - 1 {
        if r.u8(marker)? != FN_QUERY {
            continue;
        }
        match check_bcc(r, marker + 1) {
            Ok(()) => return Ok(marker),
            Err(FrameError::Incomplete) => return Err(FrameError::Incomplete),
            // A status byte that happens to be 0x33: the frame goes on.
            Err(_) => {}
        }
    }
    Err(FrameError::TooLong { limit: MAX_LEN })
}

/// `80 bb S_N … S_1 33 X`, echoing `expected_board` when known.
fn decode_status_report(
    r: &Reader<'_>,
    expected_board: Option<u8>,
    configured: Option<u8>,
) -> Result<Decoded<Bcc8a80Reply>, FrameError> {
    read_header(r)?;
    let board = echo(r, 1, "board", expected_board)?;
    let marker = find_status_marker(r, configured)?;
    let status = r.slice(2, marker)?;
    let mut active = LockSet::EMPTY;
    // The last status byte is locks 1-8: group indices run backwards along the frame.
    for (group, byte) in status.iter().rev().enumerate() {
        active.set_byte(group, *byte);
    }
    let status_bytes = u8::try_from(status.len()).map_err(|_| FrameError::TooLong { limit: MAX_LEN })?;
    Ok(Decoded { message: Bcc8a80Reply::StatusReport { board, status_bytes, active }, len: marker + 2 })
}

fn short(message: Bcc8a80Reply) -> Decoded<Bcc8a80Reply> {
    Decoded { message, len: SHORT_FRAME_LEN }
}

/// A five-byte candidate that may turn out to be something longer: `Incomplete` stays
/// `Incomplete` (a prefix of both), other failures mean "not this one".
fn try_short(result: Result<Bcc8a80Reply, FrameError>) -> Result<Option<Decoded<Bcc8a80Reply>>, FrameError> {
    match result {
        Ok(message) => Ok(Some(short(message))),
        Err(FrameError::Incomplete) => Err(FrameError::Incomplete),
        Err(_) => Ok(None),
    }
}

impl Bcc8a80 {
    fn decode_reply_to(&self, r: &Reader<'_>, pending: &Bcc8a80Request) -> Result<Decoded<Bcc8a80Reply>, FrameError> {
        match *pending {
            Bcc8a80Request::Unlock { board, lock } => decode_unlock_reply(r, Some((board, lock.get()))).map(short),
            Bcc8a80Request::UnlockAll { board } => decode_unlock_reply(r, Some((board, ALL_LOCKS))).map(short),
            Bcc8a80Request::QueryLock { board, lock } => decode_lock_status(r, Some((board, lock))).map(short),
            Bcc8a80Request::QueryAll { board } => decode_status_report(r, Some(board), self.query_all_status_bytes),
            Bcc8a80Request::QueryAddress => decode_address(r).map(short),
        }
    }

    /// The documented no-context rule (module docs): shortest valid frame wins.
    fn decode_reply_by_structure(&self, r: &Reader<'_>) -> Result<Decoded<Bcc8a80Reply>, FrameError> {
        match r.u8(0)? {
            HEADER_ACTUATE => return decode_unlock_reply(r, None).map(short),
            HEADER_READ => {}
            found => return Err(FrameError::BadStart { offset: 0, found }),
        }
        let board = r.u8(1)?;
        let lock = r.u8(2)?;
        let function = r.u8(3)?;
        let single = matches!(function, FEEDBACK_INACTIVE | FEEDBACK_ACTIVE) && Lock::new(lock).is_some();
        if single && let Some(found) = try_short(decode_lock_status(r, None))? {
            return Ok(found);
        }
        if function == FN_ADDRESS
            && board == ADDRESS_FIXED
            && let Some(found) = try_short(decode_address(r))?
        {
            return Ok(found);
        }
        decode_status_report(r, None, self.query_all_status_bytes)
    }
}

fn write_short(out: &mut [u8], body: [u8; 4]) -> Result<usize, EncodeError> {
    let mut w = Writer::new(out);
    w.extend(&body)?;
    let bcc = xor(w.written());
    w.push(bcc)?;
    Ok(w.len())
}

fn write_status_report(out: &mut [u8], board: u8, status_bytes: u8, active: LockSet) -> Result<usize, EncodeError> {
    if status_bytes == 0 || status_bytes > MAX_STATUS_BYTES {
        return Err(EncodeError::OutOfRange {
            field: "status_bytes",
            value: status_bytes.into(),
            reason: "a query-all reply carries 1..=16 status bytes",
        });
    }
    if let Some(last) = active.last()
        && u16::from(last.get()) > 8 * u16::from(status_bytes)
    {
        return Err(EncodeError::OutOfRange {
            field: "active",
            value: last.get().into(),
            reason: "lock beyond the 8 * status_bytes channels the reply carries",
        });
    }
    let mut w = Writer::new(out);
    w.extend(&[HEADER_READ, board])?;
    for group in (0..usize::from(status_bytes)).rev() {
        w.push(active.byte(group))?;
    }
    w.push(FN_QUERY)?;
    let bcc = xor(w.written());
    w.push(bcc)?;
    Ok(w.len())
}

fn single_status(lock: Lock, active: bool) -> BoardStatus {
    let mut reported = LockSet::EMPTY;
    reported.insert(lock);
    let active = if active { reported } else { LockSet::EMPTY };
    BoardStatus { locks: ChannelBits { reported, active }, doors: None, presence: None }
}

/// The raw reading of `lock` in a neutral status response.
fn reading_of(response: &Response, lock: Lock) -> Option<bool> {
    match response {
        Response::Status(status) => status.locks.get(lock),
        _ => None,
    }
}

impl Dialect for Bcc8a80 {
    type Request = Bcc8a80Request;
    type Reply = Bcc8a80Reply;
    const NAME: &'static str = "bcc-8a80";
    const MAX_FRAME_LEN: usize = MAX_LEN;

    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<Bcc8a80Request>, FrameError> {
        decode_request(&Reader::new(buf)).map(|message| Decoded { message, len: SHORT_FRAME_LEN })
    }

    fn decode_reply(&self, buf: &[u8], pending: Option<&Bcc8a80Request>) -> Result<Decoded<Bcc8a80Reply>, FrameError> {
        let r = Reader::new(buf);
        match pending {
            Some(request) => self.decode_reply_to(&r, request),
            None => self.decode_reply_by_structure(&r),
        }
    }

    fn encode_request(&self, request: &Bcc8a80Request, out: &mut [u8]) -> Result<usize, EncodeError> {
        let body = match *request {
            Bcc8a80Request::Unlock { board, lock } => [HEADER_ACTUATE, board, lock.get(), FN_UNLOCK],
            Bcc8a80Request::UnlockAll { board } => [HEADER_ACTUATE, board, ALL_LOCKS, FN_UNLOCK],
            Bcc8a80Request::QueryLock { board, lock } => [HEADER_READ, board, lock.get(), FN_QUERY],
            Bcc8a80Request::QueryAll { board } => [HEADER_READ, board, ALL_LOCKS, FN_QUERY],
            Bcc8a80Request::QueryAddress => [HEADER_READ, ADDRESS_FIXED, ALL_LOCKS, FN_ADDRESS],
        };
        write_short(out, body)
    }

    fn encode_reply(&self, reply: &Bcc8a80Reply, out: &mut [u8]) -> Result<usize, EncodeError> {
        match *reply {
            Bcc8a80Reply::UnlockFeedback { header, board, lock, active } => {
                write_short(out, [header.byte(), board, lock.get(), feedback_byte(active)])
            }
            Bcc8a80Reply::UnlockAllFeedback { header, board, active } => {
                write_short(out, [header.byte(), board, ALL_LOCKS, feedback_byte(active)])
            }
            Bcc8a80Reply::LockStatus { board, lock, active } => {
                write_short(out, [HEADER_READ, board, lock.get(), feedback_byte(active)])
            }
            Bcc8a80Reply::StatusReport { board, status_bytes, active } => {
                write_status_report(out, board, status_bytes, active)
            }
            Bcc8a80Reply::Address { board } => write_short(out, [HEADER_READ, ADDRESS_FIXED, board, FN_ADDRESS]),
        }
    }

    /// Every request draws one reply, except the address query, which every board on the bus
    /// answers (the sources require that only one board is connected while asking).
    fn reply_expectation(&self, request: &Bcc8a80Request) -> ReplyExpectation {
        match request {
            Bcc8a80Request::QueryAddress => ReplyExpectation::EveryBoard,
            _ => ReplyExpectation::One,
        }
    }

    /// Unlock, unlock-all, query one, query all and the address query (whose frame is fixed, so
    /// `board` is not used). Any board byte is sent as given.
    fn request(&self, board: u8, command: &Command) -> Result<Bcc8a80Request, EncodeError> {
        match *command {
            Command::Unlock(lock) => Ok(Bcc8a80Request::Unlock { board, lock }),
            Command::UnlockAll => Ok(Bcc8a80Request::UnlockAll { board }),
            Command::QueryLock(lock) => Ok(Bcc8a80Request::QueryLock { board, lock }),
            Command::QueryAll => Ok(Bcc8a80Request::QueryAll { board }),
            Command::QueryAddress => Ok(Bcc8a80Request::QueryAddress),
            Command::UnlockMany(_) => Err(unsupported("unlocking a chosen set of locks")),
            Command::BoardInfo => Err(unsupported("board info")),
            Command::ReadParameter(_) | Command::WriteParameter(_) => Err(unsupported("parameters")),
        }
    }

    /// The address query reports board `0x01`, the fixed byte its frame carries; every board
    /// answers it regardless of its own address.
    fn command(&self, request: &Bcc8a80Request) -> Option<(u8, Command)> {
        Some(match *request {
            Bcc8a80Request::Unlock { board, lock } => (board, Command::Unlock(lock)),
            Bcc8a80Request::UnlockAll { board } => (board, Command::UnlockAll),
            Bcc8a80Request::QueryLock { board, lock } => (board, Command::QueryLock(lock)),
            Bcc8a80Request::QueryAll { board } => (board, Command::QueryAll),
            Bcc8a80Request::QueryAddress => (ADDRESS_FIXED, Command::QueryAddress),
        })
    }

    /// Unlock and query-one answer a [`Response::Status`] that reads the lock; unlock-all
    /// answers [`Response::Ack`] (feedback byte `00`); query-all answers a status (N from
    /// [`Bcc8a80::query_all_status_bytes`], else from the highest reported channel, else 4);
    /// the address query answers [`Response::Address`]. Replies echo the request's board.
    fn reply(&self, _board: u8, request: &Bcc8a80Request, response: &Response) -> Result<Bcc8a80Reply, EncodeError> {
        let header = self.unlock_reply_header;
        match (*request, response) {
            (Bcc8a80Request::Unlock { board, lock }, _) => reading_of(response, lock)
                .map(|active| Bcc8a80Reply::UnlockFeedback { header, board, lock, active })
                .ok_or(unsupported("an unlock reply without a reading of the lock")),
            (Bcc8a80Request::UnlockAll { board }, Response::Ack) => {
                Ok(Bcc8a80Reply::UnlockAllFeedback { header, board, active: false })
            }
            (Bcc8a80Request::QueryLock { board, lock }, _) => reading_of(response, lock)
                .map(|active| Bcc8a80Reply::LockStatus { board, lock, active })
                .ok_or(unsupported("a lock status reply without a reading of the lock")),
            (Bcc8a80Request::QueryAll { board }, Response::Status(status)) => {
                let status_bytes = self.status_bytes_for(&status.locks)?;
                let active = status.locks.active.intersection(status.locks.reported);
                Ok(Bcc8a80Reply::StatusReport { board, status_bytes, active })
            }
            (Bcc8a80Request::QueryAddress, Response::Address(address)) => Ok(Bcc8a80Reply::Address { board: *address }),
            _ => Err(unsupported("this response to this request")),
        }
    }

    /// Feedback readings become [`Response::Status`] with raw [`ChannelBits`] (active = `11` or
    /// a set bit); a query-all reply reports channels `1..=8 * N`. Unlock-all becomes
    /// [`Response::Ack`], since its feedback byte has no documented meaning.
    fn response(&self, reply: &Bcc8a80Reply) -> Option<(u8, Response)> {
        Some(match *reply {
            Bcc8a80Reply::UnlockFeedback { board, lock, active, .. }
            | Bcc8a80Reply::LockStatus { board, lock, active } => {
                (board, Response::Status(single_status(lock, active)))
            }
            Bcc8a80Reply::UnlockAllFeedback { board, .. } => (board, Response::Ack),
            Bcc8a80Reply::StatusReport { board, status_bytes, active } => {
                let channels = status_bytes.saturating_mul(8).min(MAX_CHANNELS);
                let locks = ChannelBits::from_bitmap(channels, active);
                (board, Response::Status(BoardStatus { locks, doors: None, presence: None }))
            }
            Bcc8a80Reply::Address { board } => (board, Response::Address(board)),
        })
    }
}
