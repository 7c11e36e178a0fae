//! Raw ("serial keyboard") mode line framer: bytes in, lines of bytes out.
//!
//! Every engine ships sending `[prefix][AIM id][data][suffix][terminator]` (reference/scanner.md
//! §7), with the terminator CR, CRLF, TAB or nothing at all (GM65 zone 0x0060, §5.2). UART reads
//! return arbitrary fragments and several scans can arrive in one read (§11 items 1 and 2), so
//! the framer accumulates bytes in a fixed buffer of `N` bytes and cuts lines at the configured
//! terminator, or at an idle gap (no byte for `idle_gap_ms`) when the engine sends none.
//!
//! When the engine offers a length-framed output (GM65 "output protocol" `<03><len><data>`,
//! §5.2) use [`Terminator::LengthPrefixed`]: payloads may then contain CR, LF and any other byte.
//!
//! The framer never interprets the data as text. It is sans-io: it takes bytes and the current
//! time in milliseconds and never reads a clock itself.
//!
//! ```
//! use scanner::framer::{LineEnd, LineFramer, Terminator, FramerConfig};
//!
//! let mut framer = LineFramer::<64>::new(FramerConfig::new(Terminator::Cr));
//! let mut input: &[u8] = b"]C0ABC\r]Q1DE";
//! let line = framer.feed(&mut input, 0).unwrap();
//! assert_eq!((line.data, line.end), (&b"]C0ABC"[..], LineEnd::Terminator));
//! assert!(framer.feed(&mut input, 0).is_none()); // "]Q1DE" waits for its CR
//! ```

/// How the engine ends (or frames) one scan in raw mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Terminator {
    /// Carriage return 0x0D (the factory default of most engines).
    Cr,
    /// Line feed 0x0A.
    Lf,
    /// CR LF; a CR not followed by LF is kept as data.
    CrLf,
    /// Any of CR, LF or CR LF (an unknown engine configuration); empty lines are skipped.
    AnyNewline,
    /// Horizontal tab 0x09.
    Tab,
    /// No terminator: a line ends only at an idle gap (set [`FramerConfig::idle_gap_ms`]).
    None,
    /// `marker`, then the payload length (1 or 2 bytes big-endian), then the payload: the only
    /// binary-safe raw framing (GM65 output protocol, §5.2: the manual does not state the width
    /// of the length field, so it is configurable).
    LengthPrefixed {
        /// The byte that starts a frame (`0x03` on GM65).
        marker: u8,
        /// Width of the length field in bytes: 1 or 2 (big-endian). Other values act as 1.
        length_bytes: u8,
    },
}

/// Longest prefix the framer can strip (GM65 allows 15 prefix bytes, §5.2 zone 0x0062).
pub const MAX_PREFIX: usize = 15;

/// Configuration of a [`LineFramer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramerConfig {
    /// How a scan ends.
    pub terminator: Terminator,
    /// A line also ends when no byte arrived for this many milliseconds (`None`: never).
    /// Required with [`Terminator::None`].
    pub idle_gap_ms: Option<u64>,
    prefix: [u8; MAX_PREFIX],
    prefix_len: u8,
}

impl FramerConfig {
    /// A configuration with the given terminator, no idle gap and no prefix.
    pub const fn new(terminator: Terminator) -> Self {
        Self { terminator, idle_gap_ms: None, prefix: [0; MAX_PREFIX], prefix_len: 0 }
    }

    /// Also end a line after `ms` milliseconds without a byte.
    #[must_use]
    pub const fn with_idle_gap(mut self, ms: u64) -> Self {
        self.idle_gap_ms = Some(ms);
        self
    }

    /// Strip this prefix from lines that start with it ([`Line::prefix_found`] tells which did).
    ///
    /// # Errors
    /// [`PrefixTooLong`] when `prefix` is longer than [`MAX_PREFIX`] bytes.
    pub fn with_prefix(mut self, prefix: &[u8]) -> Result<Self, PrefixTooLong> {
        let slot = self.prefix.get_mut(..prefix.len()).ok_or(PrefixTooLong { len: prefix.len() })?;
        slot.copy_from_slice(prefix);
        self.prefix_len = prefix.len() as u8;
        Ok(self)
    }

    /// The configured prefix (empty when none).
    pub fn prefix(&self) -> &[u8] {
        self.prefix.get(..usize::from(self.prefix_len)).unwrap_or(&[])
    }
}

/// A prefix longer than [`MAX_PREFIX`] was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("prefix of {len} bytes is longer than the {max} bytes an engine can send", max = MAX_PREFIX)]
pub struct PrefixTooLong {
    /// The length given.
    pub len: usize,
}

/// Why a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LineEnd {
    /// The configured terminator (or the announced length of a length-prefixed frame).
    Terminator,
    /// No byte for the idle gap; the engine may have sent no terminator, or the read was cut.
    IdleGap,
    /// The line was longer than the buffer: `data` holds its first `N` bytes and the rest up to
    /// the next terminator or idle gap is dropped. Do not use such data as a credential.
    Overflow,
}

/// One framed scan, borrowed from the framer until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The payload without terminator and without the configured prefix (if it was present).
    pub data: &'a [u8],
    /// Why the line ended.
    pub end: LineEnd,
    /// Whether the configured prefix was present and stripped (always true without a prefix).
    pub prefix_found: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting data bytes of a terminated line.
    Data,
    /// Waiting for the marker of a length-prefixed frame.
    Marker,
    /// Reading byte `got` of the length field.
    Length { got: u8, value: usize },
    /// Reading a length-prefixed payload; `remaining` bytes to go.
    Payload { remaining: usize },
}

/// Counters of what the framer had to drop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FramerStats {
    /// Lines emitted.
    pub lines: u64,
    /// Lines that overflowed the buffer.
    pub overflows: u64,
    /// Bytes dropped (overflow tails, bytes outside a length-prefixed frame).
    pub dropped_bytes: u64,
}

/// The sans-io raw mode framer with an `N`-byte line buffer.
#[derive(Debug, Clone)]
pub struct LineFramer<const N: usize = 512> {
    config: FramerConfig,
    buf: [u8; N],
    len: usize,
    /// A line was returned; clear the buffer on the next call.
    emitted: bool,
    /// Dropping bytes until the end of an overflowed line.
    discarding: bool,
    /// The last data byte was a CR that may start a CR LF (CrLf) or be followed by LF (AnyNewline).
    pending_cr: bool,
    state: State,
    last_rx_ms: Option<u64>,
    stats: FramerStats,
}

impl<const N: usize> LineFramer<N> {
    /// A framer with an empty buffer.
    pub const fn new(config: FramerConfig) -> Self {
        let state = match config.terminator {
            Terminator::LengthPrefixed { .. } => State::Marker,
            _ => State::Data,
        };
        Self {
            config,
            buf: [0; N],
            len: 0,
            emitted: false,
            discarding: false,
            pending_cr: false,
            state,
            last_rx_ms: None,
            stats: FramerStats { lines: 0, overflows: 0, dropped_bytes: 0 },
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FramerConfig {
        &self.config
    }

    /// What was emitted and dropped so far.
    pub fn stats(&self) -> FramerStats {
        self.stats
    }

    /// Bytes buffered of a line not yet ended.
    pub fn pending(&self) -> usize {
        if self.emitted { 0 } else { self.len }
    }

    /// Drops any partial line (after a mode change or a port reopen).
    pub fn reset(&mut self) {
        *self = Self::new(self.config);
    }

    fn clear_if_emitted(&mut self) {
        if self.emitted {
            self.emitted = false;
            self.len = 0;
            self.pending_cr = false;
        }
    }

    fn gap_elapsed(&self, now_ms: u64) -> bool {
        match (self.config.idle_gap_ms, self.last_rx_ms) {
            (Some(gap), Some(last)) => now_ms.saturating_sub(last) >= gap,
            _ => false,
        }
    }

    /// Consumes bytes from the front of `input` (received at `now_ms`) until a line is complete
    /// and returns it; returns `None` when `input` is used up without completing a line.
    /// Call again with the rest of `input` until it returns `None`.
    pub fn feed<'s>(&'s mut self, input: &mut &[u8], now_ms: u64) -> Option<Line<'s>> {
        self.clear_if_emitted();
        if !input.is_empty() && self.gap_elapsed(now_ms) {
            // The bytes now arriving belong to a new scan: the old one ended at the gap.
            if let Some(end) = self.end_at_gap() {
                self.last_rx_ms = Some(now_ms);
                return self.emit(end);
            }
        }
        while let Some((&byte, rest)) = input.split_first() {
            *input = rest;
            self.last_rx_ms = Some(now_ms);
            if let Some(end) = self.push(byte) {
                return self.emit(end);
            }
        }
        None
    }

    /// Ends a partial line if the idle gap has elapsed at `now_ms` (call it when a read times
    /// out, at [`Self::deadline`]).
    pub fn poll(&mut self, now_ms: u64) -> Option<Line<'_>> {
        self.clear_if_emitted();
        if self.gap_elapsed(now_ms) {
            let end = self.end_at_gap()?;
            return self.emit(end);
        }
        None
    }

    /// When [`Self::poll`] should be called next (the idle gap of a partial line), if ever.
    pub fn deadline(&self) -> Option<u64> {
        let gap = self.config.idle_gap_ms?;
        let last = self.last_rx_ms?;
        (self.pending() > 0 || self.discarding || self.pending_cr).then_some(last.saturating_add(gap))
    }

    /// Decides what an idle gap does to the partial line; `None` when nothing is emitted.
    fn end_at_gap(&mut self) -> Option<LineEnd> {
        let was_discarding = core::mem::replace(&mut self.discarding, false);
        match self.state {
            State::Data => {
                if self.pending_cr {
                    // CrLf: a CR then silence is data; AnyNewline: it already ended the line.
                    self.pending_cr = false;
                    if self.config.terminator == Terminator::CrLf {
                        self.store(b'\r');
                    }
                }
                if was_discarding || self.len == 0 {
                    self.len = 0;
                    return None;
                }
                Some(LineEnd::IdleGap)
            }
            State::Marker => None,
            State::Length { .. } | State::Payload { .. } => {
                // A cut length-prefixed frame is never a scan.
                self.stats.dropped_bytes += self.len as u64;
                self.len = 0;
                self.state = State::Marker;
                None
            }
        }
    }

    fn emit(&mut self, end: LineEnd) -> Option<Line<'_>> {
        let len = self.len;
        self.emitted = true;
        if end == LineEnd::Overflow {
            self.stats.overflows += 1;
        }
        self.stats.lines += 1;
        let data = self.buf.get(..len).unwrap_or(&[]);
        let prefix = self.config.prefix();
        let (data, prefix_found) = match data.strip_prefix(prefix) {
            Some(rest) => (rest, true),
            None => (data, false),
        };
        Some(Line { data, end, prefix_found })
    }

    /// Appends a data byte; returns `Overflow` when the buffer is full.
    fn store(&mut self, byte: u8) -> Option<LineEnd> {
        if self.discarding {
            self.stats.dropped_bytes += 1;
            return None;
        }
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                self.len += 1;
                None
            }
            None => {
                self.discarding = true;
                self.stats.dropped_bytes += 1;
                Some(LineEnd::Overflow)
            }
        }
    }

    /// Ends a terminated line unless it is empty or the tail of an overflow.
    fn end_line(&mut self) -> Option<LineEnd> {
        if core::mem::replace(&mut self.discarding, false) || self.len == 0 {
            self.len = 0;
            return None;
        }
        Some(LineEnd::Terminator)
    }

    fn push(&mut self, byte: u8) -> Option<LineEnd> {
        match self.config.terminator {
            Terminator::Cr | Terminator::Lf | Terminator::Tab | Terminator::None => {
                let end = match self.config.terminator {
                    Terminator::Cr => Some(b'\r'),
                    Terminator::Lf => Some(b'\n'),
                    Terminator::Tab => Some(b'\t'),
                    _ => None,
                };
                if Some(byte) == end { self.end_line() } else { self.store(byte) }
            }
            Terminator::CrLf => {
                if core::mem::replace(&mut self.pending_cr, false) {
                    if byte == b'\n' {
                        return self.end_line();
                    }
                    if let Some(end) = self.store(b'\r') {
                        // The CR overflowed; the byte belongs to the dropped tail.
                        self.pending_cr = byte == b'\r';
                        return Some(end);
                    }
                }
                if byte == b'\r' {
                    self.pending_cr = true;
                    None
                } else {
                    self.store(byte)
                }
            }
            Terminator::AnyNewline => {
                let after_cr = core::mem::replace(&mut self.pending_cr, false);
                match byte {
                    b'\n' if after_cr => None,
                    b'\r' => {
                        self.pending_cr = true;
                        self.end_line()
                    }
                    b'\n' => self.end_line(),
                    _ => self.store(byte),
                }
            }
            Terminator::LengthPrefixed { marker, length_bytes } => {
                self.push_length_prefixed(byte, marker, length_bytes)
            }
        }
    }

    fn push_length_prefixed(&mut self, byte: u8, marker: u8, length_bytes: u8) -> Option<LineEnd> {
        let width = if length_bytes == 2 { 2 } else { 1 };
        match self.state {
            State::Marker | State::Data => {
                if byte == marker {
                    self.state = State::Length { got: 0, value: 0 };
                } else {
                    self.stats.dropped_bytes += 1;
                }
                None
            }
            State::Length { got, value } => {
                let value = (value << 8) | usize::from(byte);
                if got + 1 < width {
                    self.state = State::Length { got: got + 1, value };
                    return None;
                }
                if value == 0 {
                    self.state = State::Marker;
                    return None;
                }
                self.state = State::Payload { remaining: value };
                None
            }
            State::Payload { remaining } => {
                let overflow = self.store(byte);
                let remaining = remaining - 1;
                if remaining == 0 {
                    self.state = State::Marker;
                    let was_discarding = core::mem::replace(&mut self.discarding, false);
                    return match overflow {
                        Some(end) => Some(end),
                        None if was_discarding => {
                            self.len = 0;
                            None
                        }
                        None => Some(LineEnd::Terminator),
                    };
                }
                self.state = State::Payload { remaining };
                overflow
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    fn lines<const N: usize>(framer: &mut LineFramer<N>, bytes: &[u8], now: u64) -> Vec<(Vec<u8>, LineEnd)> {
        let mut out = Vec::new();
        let mut input = bytes;
        while let Some(line) = framer.feed(&mut input, now) {
            out.push((line.data.to_vec(), line.end));
        }
        out
    }

    #[test]
    fn crlf_keeps_lone_cr() {
        let mut f = LineFramer::<32>::new(FramerConfig::new(Terminator::CrLf));
        let got = lines(&mut f, b"A\rB\r\nC\r", 0);
        assert_eq!(got, vec![(b"A\rB".to_vec(), LineEnd::Terminator)]);
        assert_eq!(f.pending(), 1);
    }

    #[test]
    fn length_prefixed_carries_cr() {
        let cfg = FramerConfig::new(Terminator::LengthPrefixed { marker: 3, length_bytes: 1 });
        let mut f = LineFramer::<32>::new(cfg);
        let got = lines(&mut f, b"xx\x03\x03A\rB\x03\x01Z", 0);
        assert_eq!(got, vec![(b"A\rB".to_vec(), LineEnd::Terminator), (b"Z".to_vec(), LineEnd::Terminator)]);
        assert_eq!(f.stats().dropped_bytes, 2);
    }
}
