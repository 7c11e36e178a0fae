//! Framing errors and the streaming decoder shared by the packet protocols (SSI, Grow 7E-00).
//!
//! Bytes go into a fixed buffer of `N` bytes (no heap). After each chunk the decoder asks the
//! [`Format`] whether a frame starts at the head of the buffer; when none can, it drops one byte
//! and tries again (one-byte resync, reference/scanner.md §13), so a frame after garbage or after
//! a corrupted frame is still found. Each run of dropped bytes is reported once, at its start,
//! as [`Event::Rejected`] with the stream offset and the reason.

/// Why bytes at the start of a buffer are not (yet) a valid frame. Offsets are relative to the
/// first byte of the candidate frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The bytes so far are a valid prefix of a frame; more are needed.
    #[error("incomplete frame")]
    Incomplete,
    /// The first byte(s) cannot start a frame.
    #[error("offset {offset}: byte {found:#04x} cannot start a frame")]
    BadStart {
        /// Offset of the offending byte.
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// A length field is impossible.
    #[error("offset {offset}: length {found} impossible ({reason})")]
    BadLength {
        /// Offset of the length field.
        offset: usize,
        /// The length found.
        found: usize,
        /// What is allowed.
        reason: &'static str,
    },
    /// A field holds a value that cannot be right (a message source other than 0 or 4, ...).
    #[error("offset {offset}: {field} = {found:#04x} is not valid")]
    BadField {
        /// Offset of the field.
        offset: usize,
        /// The field's name.
        field: &'static str,
        /// The value found.
        found: u8,
    },
    /// The checksum or CRC does not match.
    #[error("offset {offset}: checksum {found:#06x}, expected {expected:#06x}")]
    BadChecksum {
        /// Offset of the checksum field.
        offset: usize,
        /// The value computed over the frame.
        expected: u16,
        /// The value carried by the frame.
        found: u16,
    },
}

impl FrameError {
    /// The offset the error points at, if it names one.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            Self::Incomplete => None,
            Self::BadStart { offset, .. }
            | Self::BadLength { offset, .. }
            | Self::BadField { offset, .. }
            | Self::BadChecksum { offset, .. } => Some(offset),
        }
    }
}

/// Why a frame cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small.
    #[error("output buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// The payload does not fit the frame's length field.
    #[error("payload of {len} bytes exceeds the {max} bytes a frame can carry")]
    PayloadTooLong {
        /// Payload length given.
        len: usize,
        /// Maximum.
        max: usize,
    },
}

/// A frame format the [`Decoder`] can run.
pub trait Format {
    /// A decoded frame borrowing the decoder's buffer.
    type Frame<'a>;
    /// Longest frame in bytes (the buffer must hold at least this much).
    const MAX_FRAME: usize;
    /// Parses a frame at the start of `buf`; returns it with its length in bytes.
    ///
    /// # Errors
    /// [`FrameError::Incomplete`] when `buf` is a valid prefix, another error when no frame can
    /// start at `buf[0]`.
    fn parse(buf: &[u8]) -> Result<(Self::Frame<'_>, usize), FrameError>;
}

/// What the decoder found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<F> {
    /// A valid frame starting at stream offset `offset`.
    Frame {
        /// Stream offset of the first byte.
        offset: u64,
        /// The frame.
        frame: F,
    },
    /// A byte at stream offset `offset` could not start a frame; bytes are dropped from here
    /// until a frame is found (one event per run).
    Rejected {
        /// Stream offset of the first dropped byte.
        offset: u64,
        /// Why (offsets inside are relative to `offset`).
        error: FrameError,
    },
}

/// Counters of the decoder's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames decoded.
    pub frames: u64,
    /// Bytes dropped while resynchronising.
    pub dropped_bytes: u64,
    /// Runs of dropped bytes.
    pub rejections: u64,
}

/// Streaming decoder for format `F` with an `N`-byte buffer (`N >= F::MAX_FRAME`).
#[derive(Debug, Clone)]
pub struct Decoder<F: Format, const N: usize> {
    buf: [u8; N],
    len: usize,
    /// Bytes of the frame returned last, removed at the next call.
    emitted: usize,
    /// Stream offset of `buf[0]`.
    offset: u64,
    in_reject_run: bool,
    /// Buffered bytes that arrived before the last idle timeout: a candidate frame starting
    /// among them will never complete.
    stale: usize,
    stats: Stats,
    _format: core::marker::PhantomData<F>,
}

impl<F: Format, const N: usize> Default for Decoder<F, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Format, const N: usize> Decoder<F, N> {
    /// An empty decoder.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            emitted: 0,
            offset: 0,
            in_reject_run: false,
            stale: 0,
            stats: Stats { frames: 0, dropped_bytes: 0, rejections: 0 },
            _format: core::marker::PhantomData,
        }
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Bytes buffered and not yet decoded.
    pub fn pending(&self) -> usize {
        self.len - self.emitted
    }

    /// Drops buffered bytes (after a timeout: a partial frame never completes, §5.1 and §2.3).
    pub fn clear(&mut self) {
        let pending = self.pending();
        self.emitted = 0;
        self.drop_front(self.len);
        self.in_reject_run = false;
        self.stale = 0;
        self.stats.dropped_bytes += pending as u64;
    }

    /// Tells the decoder the line has been idle longer than a frame takes (the caller's
    /// timeout): a partial frame at the head will never complete. The next [`Self::feed`] (also
    /// with empty input) drops bytes from the head until it finds a frame in what is buffered,
    /// so a garbage byte that looked like a long length never hides the frames after it.
    pub fn idle(&mut self) {
        self.stale = self.len;
    }

    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.stale = self.stale.saturating_sub(n);
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
        self.offset += n as u64;
    }

    /// Consumes bytes from the front of `input` until an event occurs and returns it; `None`
    /// when `input` is used up. Call again with the rest of `input` until it returns `None`.
    pub fn feed<'s>(&'s mut self, input: &mut &[u8]) -> Option<Event<F::Frame<'s>>> {
        let emitted = core::mem::take(&mut self.emitted);
        self.drop_front(emitted);
        loop {
            // Top up the buffer.
            let room = N - self.len;
            let take = room.min(input.len());
            if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..self.len + take), input.get(..take)) {
                dst.copy_from_slice(src);
            }
            self.len += take;
            *input = input.get(take..).unwrap_or(&[]);
            if self.len == 0 {
                return None;
            }
            let head = self.buf.get(..self.len).unwrap_or(&[]);
            let outcome = F::parse(head).map(|(_, used)| used);
            match outcome {
                Ok(used) => {
                    self.in_reject_run = false;
                    self.emitted = used;
                    self.stats.frames += 1;
                    let offset = self.offset;
                    let head = self.buf.get(..self.len).unwrap_or(&[]);
                    return F::parse(head).ok().map(|(frame, _)| Event::Frame { offset, frame });
                }
                Err(FrameError::Incomplete) if self.len < N && self.stale == 0 => {
                    if input.is_empty() {
                        return None;
                    }
                }
                Err(error) => {
                    let error = if error == FrameError::Incomplete {
                        let reason =
                            if self.stale > 0 { "frame cut by an idle gap" } else { "frame longer than the buffer" };
                        FrameError::BadLength { offset: 0, found: self.len, reason }
                    } else {
                        error
                    };
                    let offset = self.offset;
                    self.drop_front(1);
                    self.stats.dropped_bytes += 1;
                    if !core::mem::replace(&mut self.in_reject_run, true) {
                        self.stats.rejections += 1;
                        return Some(Event::Rejected { offset, error });
                    }
                }
            }
        }
    }
}
