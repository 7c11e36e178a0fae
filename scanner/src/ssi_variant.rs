//! SSI-like packet layouts of other engines (reference/scanner.md §2.7).
//!
//! Both keep the SSI checksum (the 16-bit two's complement of the byte sum before it, high byte
//! first, [`crate::ssi::checksum`]) and a leading length byte that counts every byte before the
//! checksum, but lay out the header differently:
//!
//! * **Mindeo SCI** (FS580 manual §5-5): `[len][opcode][status][data…][ck_hi][ck_lo]`, a 3-byte
//!   header without the SSI message-source byte; opcode 0x50 is DECODE_DATA ([`SCI_DECODE_DATA`]).
//! * **3nStar SC050** (manual §2.2): `[len][source][target][reserved][opcode][command…][beeper]
//!   [ck_hi][ck_lo]`, source and target being 0x04 (host) or 0x31 (decoder).
//!
//! ```
//! use scanner::ssi_variant::{parse_sci, SCI_DECODE_DATA};
//!
//! // Mindeo FS580 DECODE_DATA "1234" (vector ssi_variant_sci-01).
//! let (p, used) = parse_sci(&[0x07, 0x50, 0x00, 0x31, 0x32, 0x33, 0x34, 0xFE, 0xDF]).unwrap();
//! assert_eq!((p.opcode, p.status, p.data, used), (SCI_DECODE_DATA, 0, &b"1234"[..], 9));
//! ```

use crate::ssi::checksum;
use crate::stream::{EncodeError, FrameError};

/// Mindeo SCI opcode for decode data (§2.7).
pub const SCI_DECODE_DATA: u8 = 0x50;
/// Header bytes of a Mindeo SCI packet (length, opcode, status).
pub const SCI_HEADER_LEN: usize = 3;
/// Header bytes of a 3nStar packet (length, source, target, reserved, opcode).
pub const NSTAR_HEADER_LEN: usize = 5;
/// The 3nStar beeper byte that asks for no beep (vector ssi_variant_3nstar-01: "0xFF disabled").
pub const NSTAR_BEEPER_OFF: u8 = 0xFF;

/// Splits `buf` into the body counted by its length byte and the checksum after it, checking
/// the length against `min` and the checksum.
fn split_checked<'a>(buf: &'a [u8], min: usize, reason: &'static str) -> Result<(&'a [u8], usize), FrameError> {
    let &len = buf.first().ok_or(FrameError::Incomplete)?;
    let len = usize::from(len);
    if len < min {
        return Err(FrameError::BadLength { offset: 0, found: len, reason });
    }
    let body = buf.get(..len).ok_or(FrameError::Incomplete)?;
    let (Some(&hi), Some(&lo)) = (buf.get(len), buf.get(len + 1)) else {
        return Err(FrameError::Incomplete);
    };
    let found = u16::from_be_bytes([hi, lo]);
    let expected = checksum(body);
    if found != expected {
        return Err(FrameError::BadChecksum { offset: len, expected, found });
    }
    Ok((body, len + 2))
}

/// Writes `len` then `fill`'s bytes and the checksum to `out`; `body_len` excludes the checksum.
fn write_checked(out: &mut [u8], body_len: usize, fill: impl FnOnce(&mut [u8])) -> Result<usize, EncodeError> {
    let Ok(len) = u8::try_from(body_len) else {
        return Err(EncodeError::PayloadTooLong { len: body_len, max: usize::from(u8::MAX) });
    };
    let total = body_len + 2;
    let wire = out.get_mut(..total).ok_or(EncodeError::BufferTooSmall { needed: total })?;
    let (body, ck) = wire.split_at_mut(body_len);
    if let [first, rest @ ..] = body {
        *first = len;
        fill(rest);
    }
    ck.copy_from_slice(&checksum(body).to_be_bytes());
    Ok(total)
}

/// A Mindeo SCI packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SciPacket<'a> {
    /// The opcode ([`SCI_DECODE_DATA`] for decode data; others kept as they are).
    pub opcode: u8,
    /// The status byte.
    pub status: u8,
    /// The data after the header (the bar code text for DECODE_DATA).
    pub data: &'a [u8],
}

/// Parses the Mindeo SCI packet at the start of `buf`; returns it and its length on the wire.
///
/// # Errors
/// [`FrameError::Incomplete`] for a valid prefix; [`FrameError::BadLength`] for a length byte
/// below 3; [`FrameError::BadChecksum`] (offset of the checksum).
pub fn parse_sci(buf: &[u8]) -> Result<(SciPacket<'_>, usize), FrameError> {
    let (body, used) = split_checked(buf, SCI_HEADER_LEN, "at least the 3 SCI header bytes")?;
    match body {
        [_, opcode, status, data @ ..] => Ok((SciPacket { opcode: *opcode, status: *status, data }, used)),
        _ => Err(FrameError::Incomplete),
    }
}

/// Writes a Mindeo SCI packet; returns the number of bytes.
///
/// # Errors
/// [`EncodeError::PayloadTooLong`] when header and data exceed 255 bytes;
/// [`EncodeError::BufferTooSmall`].
pub fn encode_sci(packet: &SciPacket<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    write_checked(out, SCI_HEADER_LEN + packet.data.len(), |rest| {
        if let [opcode, status, data @ ..] = rest {
            *opcode = packet.opcode;
            *status = packet.status;
            data.copy_from_slice(packet.data);
        }
    })
}

/// A 3nStar address (source or target, §2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Address {
    /// 0x04: the host.
    Host,
    /// 0x31: the decoder (scan engine).
    Decoder,
    /// Another value (accepted only as a target).
    Unknown(u8),
}

impl Address {
    /// The address of a byte.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0x04 => Self::Host,
            0x31 => Self::Decoder,
            other => Self::Unknown(other),
        }
    }

    /// The byte of an address.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::Host => 0x04,
            Self::Decoder => 0x31,
            Self::Unknown(v) => v,
        }
    }
}

/// A 3nStar SC050 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NstarPacket<'a> {
    /// Who sends (host or decoder).
    pub source: Address,
    /// Who receives.
    pub target: Address,
    /// The reserved byte (0x00 in the manual's example), kept as found.
    pub reserved: u8,
    /// The opcode (0x24 in the manual's "Save & Exit" example).
    pub opcode: u8,
    /// The command bytes between the opcode and the beeper byte (`%END`).
    pub command: &'a [u8],
    /// The beeper byte ([`NSTAR_BEEPER_OFF`] for none).
    pub beeper: u8,
}

/// Parses the 3nStar packet at the start of `buf`; returns it and its length on the wire.
///
/// # Errors
/// [`FrameError::Incomplete`] for a valid prefix; [`FrameError::BadLength`] for a length byte
/// below 6 (header and beeper); [`FrameError::BadChecksum`] (offset of the checksum);
/// [`FrameError::BadField`] (offset 1) for a source other than 0x04/0x31.
pub fn parse_nstar(buf: &[u8]) -> Result<(NstarPacket<'_>, usize), FrameError> {
    let (body, used) = split_checked(buf, NSTAR_HEADER_LEN + 1, "at least the 5 header bytes and the beeper")?;
    match body {
        [_, source, target, reserved, opcode, command @ .., beeper] => {
            let source = match Address::from_u8(*source) {
                Address::Unknown(found) => return Err(FrameError::BadField { offset: 1, field: "source", found }),
                known => known,
            };
            let packet = NstarPacket {
                source,
                target: Address::from_u8(*target),
                reserved: *reserved,
                opcode: *opcode,
                command,
                beeper: *beeper,
            };
            Ok((packet, used))
        }
        _ => Err(FrameError::Incomplete),
    }
}

/// Writes a 3nStar packet; returns the number of bytes.
///
/// # Errors
/// [`EncodeError::PayloadTooLong`] when header, command and beeper exceed 255 bytes;
/// [`EncodeError::BufferTooSmall`].
pub fn encode_nstar(packet: &NstarPacket<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    write_checked(out, NSTAR_HEADER_LEN + packet.command.len() + 1, |rest| {
        if let [source, target, reserved, opcode, command @ .., beeper] = rest {
            *source = packet.source.to_u8();
            *target = packet.target.to_u8();
            *reserved = packet.reserved;
            *opcode = packet.opcode;
            command.copy_from_slice(packet.command);
            *beeper = packet.beeper;
        }
    })
}
