//! The native frame envelope: start marker, version, length, body, CRC.
//!
//! ```text
//! offset  0     1     2     3     4 ...            4+LEN  5+LEN
//!        +-----+-----+-----+-----+----------------+------+------+
//!        | F9  | A6  | VER | LEN | body (LEN)     | CRC hi CRC lo|
//!        +-----+-----+-----+-----+----------------+------+------+
//! body of a request: ADDR SEQ CMD payload...
//! body of a reply:   ADDR SEQ CMD BOOT_hi BOOT_lo payload...
//! ```
//!
//! The CRC is CRC-16/IBM-3740 ([`crate::checksum::crc16_ibm_3740`]) over every byte before it,
//! high byte first. Bytes 0-3, the position of ADDR/SEQ/CMD and the trailing CRC are frozen for
//! every major version, so a board can answer a frame of a version it does not speak
//! ([`RawFrame`]). See lockproto/PROTOCOL.md §2.

use crate::checksum::crc16_ibm_3740;
use crate::dialect::Decoded;
use crate::error::{EncodeError, FrameError};
use crate::wire::{Reader, Writer};

/// The two start-of-frame bytes. Neither starts a frame of any vendor dialect in
/// reference/lockboards.md §0 (`8A`/`80`, `02`, `57`, `90`, `F5`, `5A`, `C7`, `9D`, `{`), `F9` is
/// not a Modbus unicast address (1-247), `A6` is no defined Modbus function or exception code, and
/// neither is a run of ones followed by zeros, which is what line glitches tend to produce.
pub const SOF: [u8; 2] = [0xF9, 0xA6];
/// The protocol major version this crate speaks (frame byte 2).
pub const VERSION: u8 = 1;
/// The protocol minor version this crate implements (reported in board info, never in frames:
/// minor versions only add commands, codes and parameters).
pub const PROTOCOL_MINOR: u8 = 0;
/// Bytes before the body: SOF (2), VER, LEN.
pub const ENVELOPE_HEAD: usize = 4;
/// CRC bytes after the body.
pub const CRC_LEN: usize = 2;
/// The largest LEN value: keeps every frame within 256 bytes, the stream decoder's default
/// buffer.
pub const MAX_BODY_LEN: usize = 250;
/// The longest frame in either direction.
pub const MAX_FRAME_LEN: usize = ENVELOPE_HEAD + MAX_BODY_LEN + CRC_LEN;
/// Body bytes before a request's payload: ADDR, SEQ, CMD.
pub const REQUEST_HEAD: usize = 3;
/// Body bytes before a reply's payload: ADDR, SEQ, CMD, BOOT (2).
pub const REPLY_HEAD: usize = 5;
/// Offset of ADDR in a frame.
pub const ADDR_OFFSET: usize = 4;
/// Offset of SEQ in a frame.
pub const SEQ_OFFSET: usize = 5;
/// Offset of CMD in a frame.
pub const CMD_OFFSET: usize = 6;
/// Offset of a request's first payload byte.
pub const REQUEST_PAYLOAD: usize = ENVELOPE_HEAD + REQUEST_HEAD;
/// Offset of a reply's first payload byte.
pub const REPLY_PAYLOAD: usize = ENVELOPE_HEAD + REPLY_HEAD;
/// ADDR of the discovery broadcast (DiscoveryReset, Discover, AssignAddress); never used otherwise.
pub const BROADCAST: u8 = 0xFF;
/// ADDR a board without an assigned address answers discovery with.
pub const UNASSIGNED: u8 = 0x00;
/// Set in CMD of every reply: a request can never be mistaken for a reply (a local echo or a
/// passive loopback, reference/lockboards.md §1.3 "aliasing pitfall").
pub const REPLY_BIT: u8 = 0x80;
/// CMD of an error reply.
pub const ERROR_CMD: u8 = 0xFF;

/// A CRC-valid frame of any version and command, for boards that must answer frames they
/// cannot decode (unknown major version, unknown command) with an error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// Frame byte 2.
    pub version: u8,
    /// ADDR.
    pub board: u8,
    /// SEQ.
    pub seq: u8,
    /// CMD.
    pub command: u8,
    /// The body after CMD (for a reply this starts with BOOT).
    pub rest: &'a [u8],
    /// The CRC the frame carries (and that matched).
    pub crc: u16,
}

impl<'a> RawFrame<'a> {
    /// Checks the version-independent envelope (start marker, length, CRC) at the start of `buf`.
    ///
    /// # Errors
    /// [`FrameError::Incomplete`] for a valid prefix, [`FrameError::BadStart`] /
    /// [`FrameError::BadMarker`] / [`FrameError::BadLength`] / [`FrameError::BadChecksum`]
    /// otherwise.
    pub fn parse(buf: &'a [u8]) -> Result<Decoded<RawFrame<'a>>, FrameError> {
        let r = Reader::new(buf);
        check_start(&r)?;
        let body_len = body_len(&r, REQUEST_HEAD)?;
        let end = check_crc(&r, body_len)?;
        let frame = RawFrame {
            version: r.u8(2)?,
            board: r.u8(ADDR_OFFSET)?,
            seq: r.u8(SEQ_OFFSET)?,
            command: r.u8(CMD_OFFSET)?,
            rest: r.slice(CMD_OFFSET + 1, end - CRC_LEN)?,
            crc: r.u16_be(end - CRC_LEN)?,
        };
        Ok(Decoded { message: frame, len: end })
    }

    /// The key a board's reply cache files this request under.
    pub const fn key(&self) -> super::cache::RequestKey {
        super::cache::RequestKey { seq: self.seq, crc: self.crc }
    }
}

/// Requires the two start bytes.
pub(crate) fn check_start(r: &Reader<'_>) -> Result<(), FrameError> {
    let first = r.u8(0)?;
    if first != SOF[0] {
        return Err(FrameError::BadStart { offset: 0, found: first });
    }
    r.marker(1, SOF[1])
}

/// Requires the supported major version at byte 2.
pub(crate) fn check_version(r: &Reader<'_>) -> Result<(), FrameError> {
    let found = r.u8(2)?;
    if found == VERSION { Ok(()) } else { Err(FrameError::BadField { offset: 2, field: "protocol version", found }) }
}

/// Reads LEN and checks it against the smallest body of the direction and [`MAX_BODY_LEN`].
pub(crate) fn body_len(r: &Reader<'_>, min: usize) -> Result<usize, FrameError> {
    let len = usize::from(r.u8(3)?);
    if len < min {
        return Err(FrameError::BadLength { offset: 3, found: len, reason: "shorter than the frame header" });
    }
    if len > MAX_BODY_LEN {
        return Err(FrameError::BadLength { offset: 3, found: len, reason: "longer than 250 body bytes" });
    }
    Ok(len)
}

/// Checks the CRC of a frame with `body_len` body bytes; returns the frame length.
pub(crate) fn check_crc(r: &Reader<'_>, body_len: usize) -> Result<usize, FrameError> {
    let crc_at = ENVELOPE_HEAD + body_len;
    let covered = r.slice(0, crc_at)?;
    let found = r.u16_be(crc_at)?;
    let expected = crc16_ibm_3740(covered);
    if found == expected {
        Ok(crc_at + CRC_LEN)
    } else {
        Err(FrameError::BadChecksum { offset: crc_at, expected, found })
    }
}

/// Writes the envelope head; the body follows, then [`finish`].
pub(crate) fn begin(w: &mut Writer<'_>) -> Result<(), EncodeError> {
    w.extend(&SOF)?;
    w.push(VERSION)?;
    // LEN is patched by `finish` once the body is written.
    w.push(0)
}

/// Patches LEN and appends the CRC; returns the frame length.
pub(crate) fn finish(w: &mut Writer<'_>) -> Result<usize, EncodeError> {
    let body = w.len().saturating_sub(ENVELOPE_HEAD);
    let len = u8::try_from(body).ok().filter(|&l| usize::from(l) <= MAX_BODY_LEN).ok_or(EncodeError::OutOfRange {
        field: "body length",
        value: u32::try_from(body).unwrap_or(u32::MAX),
        reason: "a frame body holds at most 250 bytes",
    })?;
    w.patch(3, len)?;
    let crc = crc16_ibm_3740(w.written());
    w.extend(&crc.to_be_bytes())?;
    Ok(w.len())
}
