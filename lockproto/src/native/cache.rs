//! The board's reply cache: a retried request is answered again, never executed again.
//!
//! Rules (PROTOCOL.md §5.2):
//!
//! 1. A unicast request whose key ([`RequestKey`]: sequence number and frame CRC) equals a live
//!    entry is a **retry**: the board sends the cached bytes again and does nothing else.
//! 2. Any other request is **new**: the board executes it and stores its reply (error replies
//!    included), replacing the entry with the same sequence number, else an empty or expired
//!    entry, else the oldest one.
//! 3. An entry lives at most `max_age_ms` ([`DEFAULT_MAX_AGE_MS`]), so a master that restarts
//!    and happens to send an identical frame with the same sequence number long after is
//!    executed, not ignored.
//! 4. Sequence numbers wrap (255 → 0): the master counts per board, and with fewer than 256
//!    entries an old entry is evicted (rule 2) or expired (rule 3) long before its number
//!    comes round again.
//! 5. The cache is RAM: a reboot empties it. The reply's boot id tells the master, and unlock
//!    requests carry the boot id they expect, so a retry that reaches a rebooted board is
//!    refused (`BootMismatch`) instead of pulsing the lock a second time.
//! 6. Broadcasts (discovery) are never cached: they are idempotent.

/// How long a cached reply answers retries by default: a master retries within a few response
/// timeouts ([`super::RESPONSE_TIMEOUT_MS`]); anything later is a new request.
pub const DEFAULT_MAX_AGE_MS: u32 = 2_000;

/// What identifies a request for the cache: its sequence number and its CRC (so a different
/// request that reuses a sequence number is not mistaken for a retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKey {
    /// SEQ.
    pub seq: u8,
    /// The frame's CRC.
    pub crc: u16,
}

impl RequestKey {
    /// The key of the frame at the start of `frame` (any version and command).
    ///
    /// # Errors
    /// As [`super::frame::RawFrame::parse`].
    pub fn of_frame(frame: &[u8]) -> Result<RequestKey, crate::FrameError> {
        super::frame::RawFrame::parse(frame).map(|decoded| decoded.message.key())
    }
}

/// A reply longer than the cache's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {len}-byte reply does not fit a {capacity}-byte cache entry")]
pub struct ReplyTooLong {
    /// The reply's length.
    pub len: usize,
    /// The entry size.
    pub capacity: usize,
}

#[derive(Clone, Copy)]
struct Entry<const MAX: usize> {
    key: Option<RequestKey>,
    stored_at: u32,
    order: u32,
    len: usize,
    bytes: [u8; MAX],
}

impl<const MAX: usize> Entry<MAX> {
    const EMPTY: Self = Entry { key: None, stored_at: 0, order: 0, len: 0, bytes: [0; MAX] };

    fn live(&self, now_ms: u32, max_age_ms: u32) -> bool {
        self.key.is_some() && now_ms.wrapping_sub(self.stored_at) <= max_age_ms
    }
}

/// The last `N` replies (each up to `MAX` bytes) a board sent, by request key. No heap.
///
/// `N` is 1 to 255; 1 serves a master that retries at once, more lets a master retry an unlock
/// after asking something else in between.
///
/// ```
/// use lockproto::native::cache::{ReplyCache, RequestKey};
///
/// let mut cache = ReplyCache::<2>::new(2_000);
/// let key = RequestKey { seq: 7, crc: 0x1234 };
/// assert!(cache.lookup(key, 0).is_none()); // new: execute it
/// cache.store(key, &[0xF9, 0xA6, 0x01], 10).unwrap();
/// assert_eq!(cache.lookup(key, 500), Some(&[0xF9, 0xA6, 0x01][..])); // retry: resend
/// assert!(cache.lookup(key, 3_000).is_none()); // too old: a new request
/// ```
pub struct ReplyCache<const N: usize, const MAX: usize = { super::frame::MAX_FRAME_LEN }> {
    entries: [Entry<MAX>; N],
    max_age_ms: u32,
    stored: u32,
}

impl<const N: usize, const MAX: usize> ReplyCache<N, MAX> {
    const VALID: () = assert!(N >= 1 && N <= 255, "a reply cache holds 1 to 255 entries");

    /// An empty cache whose entries answer retries for `max_age_ms` ms.
    pub const fn new(max_age_ms: u32) -> Self {
        let () = Self::VALID;
        ReplyCache { entries: [Entry::EMPTY; N], max_age_ms, stored: 0 }
    }

    /// The cached reply to a retry of `key`, or `None` when the request is new.
    pub fn lookup(&self, key: RequestKey, now_ms: u32) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|e| e.key == Some(key) && e.live(now_ms, self.max_age_ms))
            .and_then(|e| e.bytes.get(..e.len))
    }

    /// Stores the reply sent to the new request `key`.
    ///
    /// # Errors
    /// [`ReplyTooLong`] when `reply` is longer than `MAX`; nothing is stored (and an entry
    /// with the same sequence number is dropped, so it cannot answer for this request).
    pub fn store(&mut self, key: RequestKey, reply: &[u8], now_ms: u32) -> Result<(), ReplyTooLong> {
        let index = self.victim(key.seq, now_ms);
        let Some(entry) = self.entries.get_mut(index) else {
            return Ok(());
        };
        entry.key = None;
        let dst = entry.bytes.get_mut(..reply.len()).ok_or(ReplyTooLong { len: reply.len(), capacity: MAX })?;
        dst.copy_from_slice(reply);
        self.stored = self.stored.wrapping_add(1);
        entry.key = Some(key);
        entry.stored_at = now_ms;
        entry.order = self.stored;
        entry.len = reply.len();
        Ok(())
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        for entry in &mut self.entries {
            entry.key = None;
        }
    }

    /// Entries that still answer retries at `now_ms`.
    pub fn live(&self, now_ms: u32) -> usize {
        self.entries.iter().filter(|e| e.live(now_ms, self.max_age_ms)).count()
    }

    /// The entry a new reply goes to: same sequence number, else empty or expired, else oldest.
    fn victim(&self, seq: u8, now_ms: u32) -> usize {
        let live = |e: &Entry<MAX>| e.live(now_ms, self.max_age_ms);
        if let Some(i) = self.entries.iter().position(|e| e.key.is_some_and(|k| k.seq == seq)) {
            return i;
        }
        if let Some(i) = self.entries.iter().position(|e| !live(e)) {
            return i;
        }
        let age = |e: &Entry<MAX>| self.stored.wrapping_sub(e.order);
        self.entries.iter().enumerate().max_by_key(|(_, e)| age(e)).map_or(0, |(i, _)| i)
    }
}

impl<const N: usize, const MAX: usize> Default for ReplyCache<N, MAX> {
    fn default() -> Self {
        ReplyCache::new(DEFAULT_MAX_AGE_MS)
    }
}

impl<const N: usize, const MAX: usize> core::fmt::Debug for ReplyCache<N, MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplyCache")
            .field("keys", &self.entries.iter().filter_map(|e| e.key).collect::<KeyList<N>>())
            .field("max_age_ms", &self.max_age_ms)
            .finish()
    }
}

/// Debug helper listing keys without allocation.
struct KeyList<const N: usize>([Option<RequestKey>; N]);

impl<const N: usize> FromIterator<RequestKey> for KeyList<N> {
    fn from_iter<T: IntoIterator<Item = RequestKey>>(iter: T) -> Self {
        let mut keys = [None; N];
        for (slot, key) in keys.iter_mut().zip(iter) {
            *slot = Some(key);
        }
        KeyList(keys)
    }
}

impl<const N: usize> core::fmt::Debug for KeyList<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.0.iter().flatten()).finish()
    }
}
