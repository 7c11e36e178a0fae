//! Errors of framing, decoding and encoding.
//!
//! Every decode error says *where* (the byte offset inside the candidate frame) and *what*
//! (the field, and expected versus found where there is an expectation).

use core::fmt;

/// Why bytes at the start of a buffer are not (yet) a valid frame.
///
/// `offset` fields are relative to the first byte of the candidate frame. The streaming decoder
/// ([`crate::stream::StreamDecoder`]) adds the frame's position in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// The bytes so far are a valid prefix of a frame; more are needed.
    Incomplete,
    /// The first byte(s) cannot start a frame of this dialect.
    BadStart {
        /// Offset of the offending byte.
        offset: usize,
        /// The byte found there.
        found: u8,
    },
    /// A length byte is impossible, or the frame length does not fit the message.
    BadLength {
        /// Offset of the length field (or of the first byte past the expected end).
        offset: usize,
        /// The length found.
        found: usize,
        /// What was expected instead.
        reason: &'static str,
    },
    /// The checksum or CRC does not match the frame contents.
    BadChecksum {
        /// Offset of the checksum field.
        offset: usize,
        /// The value computed over the frame.
        expected: u16,
        /// The value carried by the frame.
        found: u16,
    },
    /// A fixed marker (end byte, ETX, trailer) has the wrong value.
    BadMarker {
        /// Offset of the marker.
        offset: usize,
        /// The marker value the dialect requires.
        expected: u8,
        /// The byte found there.
        found: u8,
    },
    /// The command or function code is not one this dialect defines for this direction.
    UnknownCommand {
        /// Offset of the command byte.
        offset: usize,
        /// The code found.
        found: u8,
    },
    /// A field holds a value outside its defined range.
    BadField {
        /// Offset of the field.
        offset: usize,
        /// Name of the field.
        field: &'static str,
        /// The value found.
        found: u8,
    },
    /// A reply field does not echo the pending request (wrong board, lock or function).
    Mismatch {
        /// Offset of the field.
        offset: usize,
        /// Name of the field.
        field: &'static str,
        /// The value the request implies.
        expected: u8,
        /// The value found.
        found: u8,
    },
    /// No frame boundary was found within the longest frame this dialect allows.
    TooLong {
        /// The limit that was reached.
        limit: usize,
    },
}

impl FrameError {
    /// What is wrong, without the location: `bad checksum: expected 0x9A, found 0x9B`.
    /// [`Display`](core::fmt::Display) adds ` at byte N` where the error points at a byte.
    pub const fn reason(&self) -> Reason<'_> {
        Reason(self)
    }

    /// The byte offset (inside the candidate frame) the error points at, if it points at one.
    pub const fn offset(&self) -> Option<usize> {
        match *self {
            FrameError::Incomplete | FrameError::TooLong { .. } => None,
            FrameError::BadStart { offset, .. }
            | FrameError::BadLength { offset, .. }
            | FrameError::BadChecksum { offset, .. }
            | FrameError::BadMarker { offset, .. }
            | FrameError::UnknownCommand { offset, .. }
            | FrameError::BadField { offset, .. }
            | FrameError::Mismatch { offset, .. } => Some(offset),
        }
    }
}

/// The location-free description of a [`FrameError`], from [`FrameError::reason`].
#[derive(Debug, Clone, Copy)]
pub struct Reason<'a>(&'a FrameError);

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0 {
            FrameError::Incomplete => write!(f, "incomplete frame"),
            FrameError::BadStart { found, .. } => write!(f, "0x{found:02X} cannot start a frame"),
            FrameError::BadLength { found, reason, .. } => write!(f, "bad length {found}: {reason}"),
            FrameError::BadChecksum { expected, found, .. } => {
                write!(f, "bad checksum: expected 0x{expected:02X}, found 0x{found:02X}")
            }
            FrameError::BadMarker { expected, found, .. } => {
                write!(f, "expected marker 0x{expected:02X}, found 0x{found:02X}")
            }
            FrameError::UnknownCommand { found, .. } => write!(f, "unknown command 0x{found:02X}"),
            FrameError::BadField { field, found, .. } => write!(f, "{field} 0x{found:02X} is out of range"),
            FrameError::Mismatch { field, expected, found, .. } => {
                write!(f, "{field} 0x{found:02X} does not match the request (expected 0x{expected:02X})")
            }
            FrameError::TooLong { limit } => write!(f, "no frame boundary within {limit} bytes"),
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reason())?;
        match self.offset() {
            Some(offset) => write!(f, " at byte {offset}"),
            None => Ok(()),
        }
    }
}

impl core::error::Error for FrameError {}

/// Why a message cannot be written as a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is shorter than the frame.
    #[error("output buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
    },
    /// A field of the message cannot be represented on the wire.
    #[error("{field} = {value} cannot be encoded: {reason}")]
    OutOfRange {
        /// Name of the field.
        field: &'static str,
        /// The value given.
        value: u32,
        /// What the wire format allows.
        reason: &'static str,
    },
    /// The dialect has no frame for this command or response.
    #[error("{dialect} has no frame for {what}")]
    Unsupported {
        /// The dialect's name.
        dialect: &'static str,
        /// What was asked for.
        what: &'static str,
    },
}
