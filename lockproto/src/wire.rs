//! Bounds-checked byte access shared by the dialect codecs (no indexing that can panic).

use crate::error::{EncodeError, FrameError};

/// Reads from a candidate frame; a read past the end means "incomplete", never a panic.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// The byte at `offset`, or [`FrameError::Incomplete`] when it has not arrived yet.
    pub(crate) fn u8(&self, offset: usize) -> Result<u8, FrameError> {
        self.buf.get(offset).copied().ok_or(FrameError::Incomplete)
    }

    /// Big-endian u16 at `offset`.
    pub(crate) fn u16_be(&self, offset: usize) -> Result<u16, FrameError> {
        Ok(u16::from_be_bytes([self.u8(offset)?, self.u8(offset + 1)?]))
    }

    /// The bytes `start..end`, or [`FrameError::Incomplete`].
    pub(crate) fn slice(&self, start: usize, end: usize) -> Result<&'a [u8], FrameError> {
        self.buf.get(start..end).ok_or(FrameError::Incomplete)
    }

    /// Requires `expected` at `offset`.
    pub(crate) fn marker(&self, offset: usize, expected: u8) -> Result<(), FrameError> {
        let found = self.u8(offset)?;
        if found == expected { Ok(()) } else { Err(FrameError::BadMarker { offset, expected, found }) }
    }
}

/// Writes a frame into a caller's buffer, failing instead of panicking when it is too short.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Appends one byte.
    pub(crate) fn push(&mut self, byte: u8) -> Result<(), EncodeError> {
        let slot = self.buf.get_mut(self.len).ok_or(EncodeError::BufferTooSmall { needed: self.len + 1 })?;
        *slot = byte;
        self.len += 1;
        Ok(())
    }

    /// Appends bytes.
    ///
    /// Always inlined: the callers append fixed-size fields, which become plain stores once
    /// the length is known. Left to the inliner, whether LTO inlines it into the native reply
    /// encoder flips with the checkout's path (symbol hashes change the order LLVM visits
    /// functions in), and board firmware on Cortex-M0 then differs by about 430 bytes of flash
    /// between two clones of the same commit (examples/firmware/README.md).
    #[inline(always)]
    pub(crate) fn extend(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self.len + bytes.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(EncodeError::BufferTooSmall { needed: end })?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// The bytes written so far.
    pub(crate) fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Overwrites an already written byte (a length field filled in at the end).
    pub(crate) fn patch(&mut self, offset: usize, byte: u8) -> Result<(), EncodeError> {
        match self.buf.get_mut(offset) {
            Some(slot) if offset < self.len => {
                *slot = byte;
                Ok(())
            }
            _ => Err(EncodeError::BufferTooSmall { needed: offset + 1 }),
        }
    }

    /// Bytes written.
    pub(crate) const fn len(&self) -> usize {
        self.len
    }
}
