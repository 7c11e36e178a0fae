//! `sniff`: decode the traffic of a bus without sending.
//!
//! A port on the bus (an RS-485 adapter listening alongside the master) sees requests and
//! replies interleaved on one wire. [`Duplex`] decodes both directions from one byte stream:
//! at each position it asks the dialect for a request and for a reply, preferring a reply
//! while the last request still waits for one (an 8A/80 unlock reply is byte-identical to its
//! request, reference/lockboards.md §10 item 2, so only the order of the traffic tells them
//! apart) and decoding replies against that request. An idle line ends a frame, as on the
//! wire (reference/lockboards.md §10 item 1: an idle gap of about 25 ms).

use std::time::{Duration, Instant};

use lockproto::{Dialect, Direction, FrameError, Message, Rejection, ReplyExpectation};

use crate::port::SerialPortIo;

/// What the sniffer found.
pub enum Found<D: Dialect> {
    /// A valid frame.
    Frame {
        /// Which way it travelled.
        dir: Direction,
        /// Stream offset of its first byte.
        offset: u64,
        /// Its bytes.
        bytes: Vec<u8>,
        /// The decoded message.
        message: Message<D::Request, D::Reply>,
    },
    /// Bytes that formed no frame of either direction.
    Rejected(Rejection),
}

/// A two-direction streaming decoder for one dialect.
pub struct Duplex<D: Dialect> {
    dialect: D,
    /// Directions to look for (`sniff --dir` restricts them to one).
    requests: bool,
    replies: bool,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    head_offset: u64,
    /// The last request seen: replies are decoded against it.
    pending: Option<D::Request>,
    /// Whether the traffic now owes a reply to `pending`.
    reply_due: bool,
    skipping: Option<Rejection>,
}

/// One attempt to decode at the head of the buffer.
enum Attempt<M> {
    Frame(M, usize),
    Incomplete,
    Invalid(FrameError),
    /// The direction is not decoded.
    Off,
}

impl<M> Attempt<M> {
    fn incomplete(&self) -> bool {
        matches!(self, Attempt::Incomplete)
    }

    fn is_frame(&self) -> bool {
        matches!(self, Attempt::Frame(..))
    }

    /// Why no frame starts here (a valid prefix counts as `Incomplete`).
    fn error(&self) -> Option<FrameError> {
        match self {
            Attempt::Invalid(e) => Some(*e),
            Attempt::Incomplete => Some(FrameError::Incomplete),
            Attempt::Frame(..) | Attempt::Off => None,
        }
    }
}

fn attempt<M>(decoded: Result<(M, usize), FrameError>, buffered: usize, max: usize) -> Attempt<M> {
    match decoded {
        Ok((message, len)) => Attempt::Frame(message, len),
        Err(FrameError::Incomplete) if buffered < max => Attempt::Incomplete,
        Err(FrameError::Incomplete) => Attempt::Invalid(FrameError::TooLong { limit: max }),
        Err(e) => Attempt::Invalid(e),
    }
}

impl<D: Dialect> Duplex<D> {
    /// A decoder of both directions, or of `only` one.
    pub fn new(dialect: D, only: Option<Direction>) -> Self {
        Duplex {
            dialect,
            requests: only != Some(Direction::Reply),
            replies: only != Some(Direction::Request),
            buf: Vec::new(),
            head_offset: 0,
            pending: None,
            reply_due: false,
            skipping: None,
        }
    }

    /// Decodes what `input` completes.
    pub fn feed(&mut self, input: &[u8]) -> Vec<Found<D>> {
        self.buf.extend_from_slice(input);
        self.drain(false)
    }

    /// The line went idle: what is buffered can no longer grow, so a valid prefix is no
    /// longer worth waiting for and is skipped like garbage.
    pub fn idle(&mut self) -> Vec<Found<D>> {
        let mut found = self.drain(true);
        found.extend(self.skipping.take().map(Found::Rejected));
        found
    }

    fn try_request(&self) -> Attempt<D::Request> {
        if !self.requests {
            return Attempt::Off;
        }
        attempt(self.dialect.decode_request(&self.buf).map(|d| (d.message, d.len)), self.buf.len(), D::MAX_FRAME_LEN)
    }

    fn try_reply(&self) -> Attempt<D::Reply> {
        if !self.replies {
            return Attempt::Off;
        }
        let decoded = self.dialect.decode_reply(&self.buf, self.pending.as_ref()).map(|d| (d.message, d.len));
        attempt(decoded, self.buf.len(), D::MAX_FRAME_LEN)
    }

    /// Decodes frames at the head until more input is needed; `idle`: the line is quiet, so a
    /// valid prefix will not complete.
    fn drain(&mut self, idle: bool) -> Vec<Found<D>> {
        let mut found = Vec::new();
        while !self.buf.is_empty() {
            let request = self.try_request();
            let reply = self.try_reply();
            let waits = |incomplete: bool| incomplete && !idle;
            let prefer_reply = self.reply_due;
            let (preferred_waits, other_waits) = if prefer_reply {
                (waits(reply.incomplete()), waits(request.incomplete()))
            } else {
                (waits(request.incomplete()), waits(reply.incomplete()))
            };
            let (preferred_frame, other_frame) = if prefer_reply {
                (reply.is_frame(), request.is_frame())
            } else {
                (request.is_frame(), reply.is_frame())
            };
            let take_preferred = if preferred_frame {
                true
            } else if preferred_waits {
                break;
            } else if other_frame {
                false
            } else if other_waits {
                break;
            } else {
                let (first, second) =
                    if prefer_reply { (reply.error(), request.error()) } else { (request.error(), reply.error()) };
                self.skip(first.or(second).unwrap_or(FrameError::Incomplete), 1);
                continue;
            };
            let (dir, len, message) = match (take_preferred == prefer_reply, request, reply) {
                (true, _, Attempt::Frame(reply, len)) => {
                    if self.pending.as_ref().is_none_or(|p| self.dialect.reply_expectation(p) == ReplyExpectation::One)
                    {
                        self.reply_due = false;
                    }
                    (Direction::Reply, len, Message::Reply(reply))
                }
                (false, Attempt::Frame(request, len), _) => {
                    self.reply_due = self.dialect.reply_expectation(&request) != ReplyExpectation::None;
                    self.pending = Some(request.clone());
                    (Direction::Request, len, Message::Request(request))
                }
                _ => break,
            };
            found.extend(self.skipping.take().map(Found::Rejected));
            let len = len.clamp(1, self.buf.len());
            let bytes: Vec<u8> = self.buf.drain(..len).collect();
            found.push(Found::Frame { dir, offset: self.head_offset, bytes, message });
            self.head_offset += len as u64;
        }
        found
    }

    fn skip(&mut self, error: FrameError, count: usize) {
        let count = count.clamp(1, self.buf.len().max(1));
        match &mut self.skipping {
            Some(run) => run.skipped += count,
            None => self.skipping = Some(Rejection { offset: self.head_offset, skipped: count, error }),
        }
        self.buf.drain(..count.min(self.buf.len()));
        self.head_offset += count as u64;
    }
}

/// Reads `port` for `run_for` (forever with `None`), handing each finding and its time since
/// the start to `out` until it returns `false`; the line idle for `gap` ends a frame.
pub fn run<D: Dialect>(
    port: &mut SerialPortIo,
    decoder: &mut Duplex<D>,
    run_for: Option<Duration>,
    gap: Duration,
    mut out: impl FnMut(Duration, Found<D>) -> Result<bool, String>,
) -> Result<(), String> {
    let start = Instant::now();
    let mut buf = [0u8; 512];
    let mut idle_since = Instant::now();
    let mut buffered = false;
    loop {
        let left = run_for.map(|d| d.saturating_sub(start.elapsed()));
        if left.is_some_and(|d| d.is_zero()) {
            break;
        }
        let wait = left.map_or(gap, |d| d.min(gap)).max(Duration::from_millis(1));
        let n = crate::port::read_for(port, &mut buf, wait).map_err(|e| format!("reading the port: {e}"))?;
        let t = start.elapsed();
        if n > 0 {
            idle_since = Instant::now();
            buffered = true;
            for found in decoder.feed(buf.get(..n).unwrap_or_default()) {
                if !out(t, found)? {
                    return Ok(());
                }
            }
        } else if buffered && idle_since.elapsed() >= gap {
            buffered = false;
            for found in decoder.idle() {
                if !out(t, found)? {
                    return Ok(());
                }
            }
        }
    }
    for found in decoder.idle() {
        if !out(start.elapsed(), found)? {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockproto::dialect::bcc_8a80::Bcc8a80;
    use lockproto::dialect::kerong_cu12::KerongCu12;

    fn frames<D: Dialect>(found: &[Found<D>]) -> Vec<(Direction, u64, usize)> {
        found
            .iter()
            .filter_map(|f| match f {
                Found::Frame { dir, offset, bytes, .. } => Some((*dir, *offset, bytes.len())),
                Found::Rejected(_) => None,
            })
            .collect()
    }

    fn hex(text: &str) -> Vec<u8> {
        crate::hex::parse(text).unwrap_or_default()
    }

    #[test]
    fn an_8a80_unlock_and_its_identical_echo_are_told_apart_by_order() {
        // reference/lockboards.md §1.3: the unlock reply is byte-identical to the request (v003).
        let mut duplex = Duplex::new(Bcc8a80::default(), None);
        let mut found = duplex.feed(&hex("8A 01 01 11 9B"));
        found.extend(duplex.feed(&hex("8A 01 01 11 9B")));
        found.extend(duplex.idle());
        assert_eq!(frames(&found), [(Direction::Request, 0, 5), (Direction::Reply, 5, 5)]);
    }

    #[test]
    fn cu12_query_reply_and_garbage_in_one_chunk() {
        // Kerong CU12 document §3.3: query board 0, its status reply; garbage between.
        let mut duplex = Duplex::new(KerongCu12::new(), None);
        let mut bytes = hex("02 00 00 80 00 00 03 85");
        bytes.extend(hex("FF EE"));
        bytes.extend(hex("02 00 00 80 10 02 03 99 02 00"));
        let mut found = duplex.feed(&bytes);
        found.extend(duplex.idle());
        assert_eq!(frames(&found), [(Direction::Request, 0, 8), (Direction::Reply, 10, 10)]);
        let rejected: Vec<_> = found
            .iter()
            .filter_map(|f| match f {
                Found::Rejected(r) => Some((r.offset, r.skipped)),
                Found::Frame { .. } => None,
            })
            .collect();
        assert_eq!(rejected, [(8, 2)]);
    }

    #[test]
    fn a_truncated_frame_is_rejected_when_the_line_goes_idle() {
        let mut duplex = Duplex::new(KerongCu12::new(), None);
        assert!(duplex.feed(&hex("02 00 00 80")).is_empty());
        let found = duplex.idle();
        assert!(matches!(found.as_slice(), [Found::Rejected(Rejection { offset: 0, skipped: 4, .. })]));
    }

    #[test]
    fn one_direction_only() {
        let mut duplex = Duplex::new(Bcc8a80::default(), Some(Direction::Reply));
        let mut found = duplex.feed(&hex("80 01 01 11 91"));
        found.extend(duplex.idle());
        assert_eq!(frames(&found), [(Direction::Reply, 0, 5)]);
    }
}
