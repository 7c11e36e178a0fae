//! M3Y-W serial command frames (reference/scanner.md §6).
//!
//! `STX 0x5A | FID | LEN (2 bytes, big-endian, counts CMD/DATA only) | CMD/DATA (ASCII) | BCC | ETX 0xA5`.
//! The BCC is the XOR of every byte from FID through the last data byte (§6, vectors m3y-02 and
//! m3y-05). A frame is at most [`MAX_FRAME`] bytes on the wire. FIDs other than the three of §6
//! are rejected so that a stream decoder can resynchronise on a wrong STX.
//!
//! ```
//! use scanner::m3y::{encode, parse, Fid, Frame};
//!
//! // SR030301, start decoding (vector m3y-02): 5A 00 00 08 "SR030301" 08 A5.
//! let mut out = [0u8; 16];
//! let n = encode(&Frame { fid: Fid::HostToScanner, data: b"SR030301" }, &mut out).unwrap();
//! assert_eq!(&out[..n], b"\x5A\x00\x00\x08SR030301\x08\xA5");
//! let (frame, used) = parse(&out[..n]).unwrap();
//! assert_eq!((frame.fid, frame.data, used), (Fid::HostToScanner, &b"SR030301"[..], 14));
//! ```

use crate::stream::{EncodeError, FrameError};

/// Start of a frame.
pub const STX: u8 = 0x5A;
/// End of a frame.
pub const ETX: u8 = 0xA5;
/// Longest frame on the wire (§6).
pub const MAX_FRAME: usize = 2070;
/// Bytes around the data: STX, FID, two length bytes, BCC, ETX.
pub const OVERHEAD: usize = 6;
/// Most CMD/DATA bytes in one frame.
pub const MAX_DATA: usize = MAX_FRAME - OVERHEAD;
/// Feedback text for success (§6).
pub const FEEDBACK_OK: &[u8] = b"9000";
/// Feedback text for an error (§6).
pub const FEEDBACK_ERROR: &[u8] = b"6A89";

/// The frame identifier: who sends and why (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fid {
    /// 0x00: a command from the host to the scanner.
    HostToScanner,
    /// 0x01: the scanner's reply to a command.
    Reply,
    /// 0x02: data the scanner uploads on its own (a decode).
    Upload,
}

impl Fid {
    /// The FID of a byte, or `None` for a value §6 does not define.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0x00 => Some(Self::HostToScanner),
            0x01 => Some(Self::Reply),
            0x02 => Some(Self::Upload),
            _ => None,
        }
    }

    /// The byte of a FID.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::HostToScanner => 0x00,
            Self::Reply => 0x01,
            Self::Upload => 0x02,
        }
    }
}

/// One M3Y-W frame, borrowing its data from the buffer it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The frame identifier.
    pub fid: Fid,
    /// The command text or data (ASCII for commands, §6).
    pub data: &'a [u8],
}

impl Frame<'_> {
    /// Bytes this frame takes on the wire.
    pub const fn wire_len(&self) -> usize {
        self.data.len() + OVERHEAD
    }
}

/// The BCC of `bytes` (FID through the last data byte): their XOR (§6; m3y-02 gives 0x08).
pub fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |x, &b| x ^ b)
}

/// Writes `frame` to `out`; returns the number of bytes.
///
/// # Errors
/// [`EncodeError::PayloadTooLong`] when the data exceeds [`MAX_DATA`];
/// [`EncodeError::BufferTooSmall`] when `out` is too small.
pub fn encode(frame: &Frame<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    let len = frame.data.len();
    let Some(len16) = u16::try_from(len).ok().filter(|_| len <= MAX_DATA) else {
        return Err(EncodeError::PayloadTooLong { len, max: MAX_DATA });
    };
    let total = frame.wire_len();
    let wire = out.get_mut(..total).ok_or(EncodeError::BufferTooSmall { needed: total })?;
    if let [stx, fid, len_hi, len_lo, rest @ ..] = wire {
        *stx = STX;
        *fid = frame.fid.to_u8();
        [*len_hi, *len_lo] = len16.to_be_bytes();
        if let Some((data, tail)) = rest.split_at_mut_checked(len) {
            data.copy_from_slice(frame.data);
            if let [b, e] = tail {
                *b = bcc(&[*fid, *len_hi, *len_lo]) ^ bcc(frame.data);
                *e = ETX;
            }
        }
    }
    Ok(total)
}

/// Parses the frame at the start of `buf`; returns it and its length on the wire.
///
/// # Errors
/// [`FrameError::Incomplete`] for a valid prefix; [`FrameError::BadStart`] when byte 0 is not
/// [`STX`]; [`FrameError::BadField`] for an unknown FID (offset 1) or a wrong ETX;
/// [`FrameError::BadLength`] for a length above [`MAX_DATA`] (offset 2);
/// [`FrameError::BadChecksum`] for a wrong BCC (offset of the BCC byte).
pub fn parse(buf: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    match buf.first() {
        None => return Err(FrameError::Incomplete),
        Some(&STX) => {}
        Some(&found) => return Err(FrameError::BadStart { offset: 0, found }),
    }
    let fid = match buf.get(1) {
        None => return Err(FrameError::Incomplete),
        Some(&found) => Fid::from_u8(found).ok_or(FrameError::BadField { offset: 1, field: "FID", found })?,
    };
    let len = match (buf.get(2), buf.get(3)) {
        (Some(&hi), Some(&lo)) => usize::from(u16::from_be_bytes([hi, lo])),
        _ => return Err(FrameError::Incomplete),
    };
    if len > MAX_DATA {
        return Err(FrameError::BadLength {
            offset: 2,
            found: len,
            reason: "at most 2064 data bytes (2070-byte frame)",
        });
    }
    let bcc_at = 4 + len;
    let total = bcc_at + 2;
    let (Some(checked), Some(&found), Some(&etx)) = (buf.get(1..bcc_at), buf.get(bcc_at), buf.get(bcc_at + 1)) else {
        return Err(FrameError::Incomplete);
    };
    if etx != ETX {
        return Err(FrameError::BadField { offset: bcc_at + 1, field: "ETX", found: etx });
    }
    let expected = bcc(checked);
    if found != expected {
        return Err(FrameError::BadChecksum { offset: bcc_at, expected: expected.into(), found: found.into() });
    }
    let data = checked.get(3..).unwrap_or(&[]);
    Ok((Frame { fid, data }, total))
}
