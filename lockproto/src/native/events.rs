//! The board's event log: a fixed ring of numbered events read with a cursor, so a door opened
//! and closed between two polls is never missed (reference/lockboards.md §1.6: DP2 had to
//! synthesise "open,close" because a quick open was invisible to polling).
//!
//! Rules (PROTOCOL.md §5.3):
//!
//! * Events are numbered `0, 1, 2, ...` modulo 65536 from boot; event 0 is `Boot`.
//! * The ring keeps the newest `N` events; pushing into a full ring overwrites the oldest.
//! * "Events from cursor `C`": if `C` is one of the kept numbers (or the next number, meaning
//!   "nothing new"), the reply starts at `C`; otherwise (overwritten, or a cursor from another
//!   boot) it starts at the oldest kept event and says `lost`.
//! * The next cursor is `first + count`. `more` says the ring holds events after the batch.
//! * Numbers are compared modulo 65536 with `N <= 32768`, so a cursor is unambiguous while the
//!   master is less than `65536 - N` events behind.

use super::codec::{self, EventsHead};
use super::messages::{EventBatch, EventKind, MAX_EVENTS_PER_REPLY, NativeEvent, NativeReply};
use crate::error::EncodeError;

/// What a read from a cursor returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRead {
    /// Events between the cursor and `first` are gone.
    pub lost: bool,
    /// More events follow the batch.
    pub more: bool,
    /// Number of the first event of the batch.
    pub first: u16,
    /// The events.
    pub events: EventBatch,
}

impl EventRead {
    /// The cursor to read from next time.
    pub fn next_cursor(&self) -> u16 {
        // The batch holds at most 29 events.
        self.first.wrapping_add(u16::try_from(self.events.len()).unwrap_or(0))
    }
}

/// A ring of the newest `N` events (1 to 32768), numbered modulo 65536. No heap.
///
/// ```
/// use lockproto::native::events::EventLog;
/// use lockproto::native::messages::{EventKind, ResetCause};
/// use lockproto::Lock;
///
/// let mut log = EventLog::<4>::new();
/// log.push(EventKind::Boot { cause: ResetCause::PowerOn }, 0);
/// let lock = Lock::new(3).unwrap();
/// log.push(EventKind::DoorOpened { lock }, 1_000);
/// log.push(EventKind::DoorClosed { lock }, 1_400);
/// let read = log.read(1, 0);
/// assert!(!read.lost);
/// assert_eq!(read.events.len(), 2);
/// assert_eq!(read.next_cursor(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct EventLog<const N: usize> {
    ring: [NativeEvent; N],
    /// Ring index of the oldest event.
    start: usize,
    len: usize,
    /// The number the next event gets.
    next: u16,
}

impl<const N: usize> EventLog<N> {
    const VALID: () = assert!(N >= 1 && N <= 32_768, "an event log holds 1 to 32768 events");

    /// An empty log; the next event is number 0.
    pub const fn new() -> Self {
        let () = Self::VALID;
        EventLog { ring: [NativeEvent::EMPTY; N], start: 0, len: 0, next: 0 }
    }

    /// Records an event at board uptime `time_ms`; returns its number.
    pub fn push(&mut self, kind: EventKind, time_ms: u32) -> u16 {
        let number = self.next;
        let slot_index = wrap::<N>(self.start + self.len);
        if let Some(slot) = self.ring.get_mut(slot_index) {
            *slot = NativeEvent { kind, time_ms };
        }
        if self.len == N {
            self.start = wrap::<N>(self.start + 1);
        } else {
            self.len += 1;
        }
        self.next = self.next.wrapping_add(1);
        number
    }

    /// The number the next event will get.
    pub const fn next_number(&self) -> u16 {
        self.next
    }

    /// The number of the oldest event kept (equals [`EventLog::next_number`] when empty).
    pub const fn oldest_number(&self) -> u16 {
        // len <= N <= 32768 fits u16.
        self.next.wrapping_sub(self.len as u16)
    }

    /// Events kept.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is kept.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ring size `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Event `number`, if it is still kept.
    pub fn get(&self, number: u16) -> Option<NativeEvent> {
        let offset = usize::from(number.wrapping_sub(self.oldest_number()));
        if offset < self.len { self.at(offset) } else { None }
    }

    /// Events from `cursor` on, at most `max` (0 = as many as fit in one reply).
    pub fn read(&self, cursor: u16, max: u8) -> EventRead {
        let selection = self.select(cursor, max);
        let (older, newer) = self.events_of(&selection);
        let mut events = EventBatch::new();
        for &event in older.iter().chain(newer) {
            // At most MAX_EVENTS_PER_REPLY are selected, which the batch holds.
            let _fits = events.push(event);
        }
        EventRead { lost: selection.lost, more: selection.more, first: selection.first, events }
    }

    /// The `Events` reply to `ReadEvents { cursor, max }`.
    pub fn reply(&self, board: u8, seq: u8, boot: u16, cursor: u16, max: u8, now_ms: u32) -> NativeReply {
        let read = self.read(cursor, max);
        NativeReply::Events {
            board,
            seq,
            boot,
            lost: read.lost,
            more: read.more,
            first: read.first,
            now_ms,
            events: read.events,
        }
    }

    /// Encodes the `Events` reply to `ReadEvents { cursor, max }` into `out`: the same bytes as
    /// encoding [`EventLog::reply`], with the records copied from the ring straight into the
    /// frame. A board needs no ~350-byte reply value on its stack for it (examples/firmware).
    ///
    /// # Errors
    /// As [`Native`](super::Native)'s `encode_reply`: `board` is not 1..=254, or `out` is too
    /// small.
    #[allow(clippy::too_many_arguments)]
    pub fn encode_reply(
        &self,
        board: u8,
        seq: u8,
        boot: u16,
        cursor: u16,
        max: u8,
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        let selection = self.select(cursor, max);
        let head = EventsHead { lost: selection.lost, more: selection.more, first: selection.first, now_ms };
        codec::encode_events_reply(board, seq, boot, head, self.events_of(&selection), out)
    }

    /// Which events a read from `cursor` takes (PROTOCOL.md §5.3 rules, module docs).
    fn select(&self, cursor: u16, max: u8) -> Selection {
        let behind = usize::from(self.next.wrapping_sub(cursor));
        let (lost, first, available) =
            if behind <= self.len { (false, cursor, behind) } else { (true, self.oldest_number(), self.len) };
        let limit = if max == 0 { MAX_EVENTS_PER_REPLY } else { usize::from(max).min(MAX_EVENTS_PER_REPLY) };
        let take = available.min(limit);
        Selection { lost, more: available > take, first, skip: self.len - available, take }
    }

    /// The events `selection` took, oldest first: up to the end of the ring, then from its
    /// start when the run wraps.
    fn events_of(&self, selection: &Selection) -> (&[NativeEvent], &[NativeEvent]) {
        let from = wrap::<N>(self.start + selection.skip);
        let to = from + selection.take;
        if to <= N {
            (self.ring.get(from..to).unwrap_or_default(), &[])
        } else {
            (self.ring.get(from..).unwrap_or_default(), self.ring.get(..to - N).unwrap_or_default())
        }
    }

    /// The event `offset` places after the oldest.
    fn at(&self, offset: usize) -> Option<NativeEvent> {
        self.ring.get(wrap::<N>(self.start + offset)).copied()
    }
}

/// The events a read takes: `take` of them, starting `skip` places after the oldest kept.
struct Selection {
    lost: bool,
    more: bool,
    first: u16,
    skip: usize,
    take: usize,
}

impl<const N: usize> Default for EventLog<N> {
    fn default() -> Self {
        EventLog::new()
    }
}
/// `index % N` for `index < 2 * N` (a ring position plus an offset within the ring), without a
/// division: Cortex-M0 has no divide instruction, and `% N` calls a library routine.
const fn wrap<const N: usize>(index: usize) -> usize {
    if index >= N { index - N } else { index }
}
