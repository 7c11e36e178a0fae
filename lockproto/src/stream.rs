//! The streaming decoder: any chunking of a byte stream in, complete frames out.
//!
//! Bytes go into a fixed buffer of `N` bytes (no heap). After each chunk the decoder asks the
//! dialect whether a frame starts at the head of the buffer; when none can, it drops one byte
//! and tries again (one-byte resync), so a frame that follows garbage or a corrupted frame is
//! still found. A run of dropped bytes is reported once, as a [`Rejection`] with its stream
//! offset and the reason the first byte was refused, and counted in [`Stats`].

use crate::dialect::{Decoded, Dialect};
use crate::error::FrameError;

/// Which way the decoded frames travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum Direction {
    /// Master to board.
    Request,
    /// Board to master.
    Reply,
}

/// A decoded message of either direction.
#[derive(Debug, Clone, PartialEq)]
pub enum Message<Q, R> {
    /// Master to board.
    Request(Q),
    /// Board to master.
    Reply(R),
}

/// A run of bytes that formed no frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rejection {
    /// Stream offset of the first rejected byte.
    pub offset: u64,
    /// How many bytes were skipped.
    pub skipped: usize,
    /// Why the first byte of the run could not start a frame (offsets inside are relative to it).
    pub error: FrameError,
}

impl Rejection {
    /// The stream offset the error points at: the offending byte where the error names one,
    /// otherwise the first skipped byte.
    pub fn error_offset(&self) -> u64 {
        self.offset + self.error.offset().unwrap_or(0) as u64
    }
}

impl core::fmt::Display for Rejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "offset {}: {} ({} byte(s) skipped from offset {})",
            self.error_offset(),
            self.error.reason(),
            self.skipped,
            self.offset
        )
    }
}

/// What the decoder found in the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<Q, R> {
    /// A complete, valid frame.
    Frame {
        /// Stream offset of its first byte.
        offset: u64,
        /// Its length.
        len: usize,
        /// The decoded message.
        message: Message<Q, R>,
    },
    /// Bytes that were skipped.
    Rejected(Rejection),
}

/// Counters since the decoder was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Frames decoded.
    pub frames: u64,
    /// Runs of skipped bytes.
    pub rejections: u64,
    /// Bytes skipped in total.
    pub bytes_skipped: u64,
}

/// The message type a decoder of dialect `D` yields.
pub type DialectMessage<D> = Message<<D as Dialect>::Request, <D as Dialect>::Reply>;

/// The event type a decoder of dialect `D` yields.
pub type DialectEvent<D> = Event<<D as Dialect>::Request, <D as Dialect>::Reply>;

/// A sans-io streaming decoder for one dialect and direction, with an `N`-byte buffer.
///
/// `N` must be at least the dialect's [`Dialect::MAX_FRAME_LEN`]; 256 covers every vendor
/// dialect and the native protocol.
///
/// ```
/// use lockproto::dialect::bcc_8a80::Bcc8a80;
/// use lockproto::stream::{Direction, Event, StreamDecoder};
///
/// let mut decoder = StreamDecoder::<Bcc8a80>::new(Bcc8a80::default(), Direction::Request);
/// let mut frames = 0;
/// // Garbage, then one unlock request split across two chunks.
/// for chunk in [&[0x55, 0x8A, 0x01][..], &[0x01, 0x11, 0x9B][..]] {
///     for event in decoder.feed(chunk) {
///         if let Event::Frame { .. } = event {
///             frames += 1;
///         }
///     }
/// }
/// assert_eq!(frames, 1);
/// assert_eq!(decoder.stats().bytes_skipped, 1);
/// ```
pub struct StreamDecoder<D: Dialect, const N: usize = 256> {
    dialect: D,
    direction: Direction,
    pending: Option<D::Request>,
    buf: [u8; N],
    /// Index in `buf` of the first buffered byte (consumed bytes are not moved at once: see
    /// [`StreamDecoder::compact`]).
    start: usize,
    /// Bytes buffered, from `buf[start]` on.
    len: usize,
    /// Stream offset of `buf[start]`.
    head_offset: u64,
    /// The skipped run in progress, not yet reported.
    skipping: Option<Rejection>,
    /// A frame found right after a skipped run, held back so the run is reported first.
    held: Option<DialectEvent<D>>,
    stats: Stats,
}

impl<D: Dialect, const N: usize> StreamDecoder<D, N> {
    /// A decoder of `direction` frames.
    pub fn new(dialect: D, direction: Direction) -> Self {
        StreamDecoder {
            dialect,
            direction,
            pending: None,
            buf: [0; N],
            start: 0,
            len: 0,
            head_offset: 0,
            skipping: None,
            held: None,
            stats: Stats::default(),
        }
    }

    /// The dialect (with its configuration).
    pub fn dialect(&self) -> &D {
        &self.dialect
    }

    /// Sets the request that replies answer (reply decoders only); see [`Dialect::decode_reply`].
    pub fn set_pending(&mut self, request: Option<D::Request>) {
        self.pending = request;
    }

    /// The request replies are decoded against.
    pub fn pending(&self) -> Option<&D::Request> {
        self.pending.as_ref()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Bytes waiting for the rest of their frame.
    pub fn buffered(&self) -> &[u8] {
        self.buf.get(self.start..self.start + self.len).unwrap_or_default()
    }

    /// Decodes `input` lazily: the returned iterator yields every event the bytes complete.
    ///
    /// Dropping the iterator early still consumes all of `input` (events not taken are lost
    /// but counted in [`Stats`]), so the stream position stays consistent.
    pub fn feed<'a>(&'a mut self, input: &'a [u8]) -> Feed<'a, D, N> {
        Feed { decoder: self, input }
    }

    /// Ends the current frame: call at end of stream, or when the line has been idle for the
    /// inter-frame gap. Whatever is buffered can no longer become a frame and is reported as
    /// rejected (with [`FrameError::Incomplete`] if it was a valid prefix).
    pub fn finish(&mut self) -> Option<DialectEvent<D>> {
        if let Some(event) = self.held.take() {
            // Not reachable through `feed`, which always hands held frames out; kept for safety.
            return Some(event);
        }
        if self.len > 0 {
            let reason = match self.decode_head() {
                Err(error) => error,
                Ok(_) => FrameError::Incomplete,
            };
            let len = self.len;
            self.skip_run(reason, len);
        }
        self.skipping.take().map(Event::Rejected)
    }

    /// Drops all buffered input without reporting it: the bus master calls this before each
    /// request so that stale bytes are never taken for the next reply.
    pub fn clear(&mut self) {
        self.head_offset += self.len as u64;
        self.start = 0;
        self.len = 0;
        self.skipping = None;
        self.held = None;
    }

    fn decode_head(&self) -> Result<Decoded<DialectMessage<D>>, FrameError> {
        let head = self.buffered();
        match self.direction {
            Direction::Request => {
                self.dialect.decode_request(head).map(|d| Decoded { message: Message::Request(d.message), len: d.len })
            }
            Direction::Reply => self
                .dialect
                .decode_reply(head, self.pending.as_ref())
                .map(|d| Decoded { message: Message::Reply(d.message), len: d.len }),
        }
    }

    /// Removes `count` bytes from the head of the buffer.
    fn consume(&mut self, count: usize) {
        // A zero-length frame would stall the stream; always make progress.
        let count = count.max(1).min(self.len);
        self.len -= count;
        self.start = if self.len == 0 { 0 } else { self.start + count };
        self.head_offset += count as u64;
    }

    /// Moves the buffered bytes to the front of the buffer.
    ///
    /// A byte loop rather than `copy_within`: on a Cortex-M0 `copy_within` links
    /// `compiler_builtins`' memmove, about 1.3 KiB of flash (examples/firmware/README.md), to
    /// move the few bytes of a partial frame.
    fn compact(&mut self) {
        let start = core::mem::take(&mut self.start);
        for i in 0..self.len {
            let byte = self.buf.get(start + i).copied().unwrap_or(0);
            if let Some(slot) = self.buf.get_mut(i) {
                *slot = byte;
            }
        }
    }

    /// Skips `count` head bytes as part of the current rejected run.
    fn skip_run(&mut self, error: FrameError, count: usize) {
        let offset = self.head_offset;
        match &mut self.skipping {
            Some(run) => run.skipped += count,
            None => {
                self.skipping = Some(Rejection { offset, skipped: count, error });
                self.stats.rejections += 1;
            }
        }
        self.stats.bytes_skipped += count as u64;
        self.consume(count);
    }

    /// One decoding step on the buffer; `None` when more input is needed.
    fn step(&mut self) -> Option<DialectEvent<D>> {
        if let Some(event) = self.held.take() {
            return Some(event);
        }
        while self.len > 0 {
            match self.decode_head() {
                Ok(Decoded { message, len }) => {
                    let frame = Event::Frame { offset: self.head_offset, len, message };
                    self.stats.frames += 1;
                    self.consume(len);
                    return match self.skipping.take() {
                        Some(run) => {
                            self.held = Some(frame);
                            Some(Event::Rejected(run))
                        }
                        None => Some(frame),
                    };
                }
                Err(FrameError::Incomplete) if self.len < N && self.len < D::MAX_FRAME_LEN => {
                    // A valid prefix: report the garbage before it now, then wait for bytes.
                    return self.skipping.take().map(Event::Rejected);
                }
                Err(FrameError::Incomplete) => {
                    let limit = self.len;
                    self.skip_run(FrameError::TooLong { limit }, 1);
                }
                Err(error) => self.skip_run(error, 1),
            }
        }
        None
    }

    /// Appends as much of `input` as fits; returns how many bytes were taken.
    fn fill(&mut self, input: &[u8]) -> usize {
        if self.start > 0 {
            self.compact();
        }
        let room = N - self.len;
        let take = room.min(input.len());
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..self.len + take), input.get(..take)) {
            dst.copy_from_slice(src);
            self.len += take;
            take
        } else {
            0
        }
    }
}

/// The iterator returned by [`StreamDecoder::feed`].
pub struct Feed<'a, D: Dialect, const N: usize> {
    decoder: &'a mut StreamDecoder<D, N>,
    input: &'a [u8],
}

impl<D: Dialect, const N: usize> Iterator for Feed<'_, D, N> {
    type Item = DialectEvent<D>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.decoder.step() {
                return Some(event);
            }
            if self.input.is_empty() {
                return None;
            }
            let taken = self.decoder.fill(self.input);
            if taken == 0 {
                // Buffer full of an incomplete candidate longer than N: step() skips it.
                let limit = N;
                self.decoder.skip_run(FrameError::TooLong { limit }, 1);
                continue;
            }
            self.input = self.input.get(taken..).unwrap_or_default();
        }
    }
}

impl<D: Dialect, const N: usize> Drop for Feed<'_, D, N> {
    fn drop(&mut self) {
        for _ in self.by_ref() {}
    }
}
