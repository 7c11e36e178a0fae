//! Bounded lock pulses: every output is switched off after at most `max_on_ms`, and at most
//! `max_simultaneous` outputs are on at once; further pulses wait in a first-in-first-out queue.
//!
//! Why a queue and not a refusal: a WKLY board "cannot open a third lock at the same time"
//! (reference/lockboards.md §5.3) and silently drops it. Queueing keeps the power budget and
//! still opens every lock the master asked for, a little later.

use lockproto::dialect::{kerong_cu12, wkly};
use lockproto::{Lock, LockSet};

/// Limits of the lock outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PulseConfig {
    /// The longest a lock output may stay on, in ms; longer requests are clamped.
    pub max_on_ms: u32,
    /// How many outputs may be on at the same time (at least 1).
    pub max_simultaneous: u8,
}

/// Default pulse length: the Kerong CU12 factory unlock time, 550 ms (CU12 document §1.5.3).
pub const DEFAULT_PULSE_MS: u32 = kerong_cu12::DEFAULT_UNLOCK_TIME_10MS as u32 * 10;
/// Default longest on-time: 2 s. Vendor boards allow up to 60 s (CU12 §1.5.3), which burns
/// solenoids rated for short duty; 2 s covers the longest pulse any integration asks for
/// (1 s, reference/lockboards.md §2.1) with margin.
pub const DEFAULT_MAX_ON_MS: u32 = 2_000;
/// Default power budget: 2 simultaneous pulses, what a WKLY board can drive (§5.3).
pub const DEFAULT_MAX_SIMULTANEOUS: u8 = wkly::MAX_SIMULTANEOUS_UNLOCKS as u8;

impl Default for PulseConfig {
    fn default() -> Self {
        PulseConfig { max_on_ms: DEFAULT_MAX_ON_MS, max_simultaneous: DEFAULT_MAX_SIMULTANEOUS }
    }
}

/// What became of a pulse request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PulseOutcome {
    /// The output is on now, for `applied_ms`.
    Started {
        /// The pulse length after clamping.
        applied_ms: u32,
    },
    /// The power budget is used up: the pulse starts when an earlier one ends.
    Queued {
        /// The pulse length after clamping.
        applied_ms: u32,
    },
    /// The lock is already pulsing or queued: no second pulse (one request never pulses twice).
    AlreadyActive,
}

/// A lock number above the board's channel count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("lock {lock} is above the board's {channels} channels")]
pub struct NoSuchLock {
    /// The lock asked for.
    pub lock: u8,
    /// The board's channel count.
    pub channels: u8,
}

/// One output. A running pulse keeps the ms it has left, counted from the scheduler's clock,
/// rather than its end as a `u64` time: half the RAM (8 bytes a channel instead of 16, which a
/// 2 KiB board feels: examples/firmware) and no 64-bit compares on Thumb-1, with no wrap to
/// mind since the clock itself stays `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Idle,
    Queued { ms: u32 },
    On { left_ms: u32 },
}

/// Pulse changes reported by [`PulseScheduler::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PulseChanges {
    /// Outputs switched on by this poll (queued pulses that got their turn).
    pub started: LockSet,
    /// Outputs switched off by this poll (pulse time over).
    pub ended: LockSet,
}

/// The pulse bookkeeping of `CH` lock outputs (sans-io: time is passed in, in ms).
///
/// ```
/// use lockdrv::board::pulse::{PulseConfig, PulseOutcome, PulseScheduler};
/// use lockproto::Lock;
///
/// let config = PulseConfig { max_on_ms: 1_000, max_simultaneous: 1 };
/// let mut pulses = PulseScheduler::<4>::new(config, 4);
/// let (one, two) = (Lock::new(1).unwrap(), Lock::new(2).unwrap());
/// assert_eq!(pulses.request(one, 5_000, 0), Ok(PulseOutcome::Started { applied_ms: 1_000 }));
/// assert_eq!(pulses.request(two, 300, 0), Ok(PulseOutcome::Queued { applied_ms: 300 }));
/// assert_eq!(pulses.poll(0), Some(1_000)); // lock 1 goes off at t = 1000
/// pulses.poll(1_000);
/// assert!(pulses.outputs().contains(two) && !pulses.outputs().contains(one));
/// ```
#[derive(Debug, Clone)]
pub struct PulseScheduler<const CH: usize> {
    config: PulseConfig,
    channels: u8,
    slots: [Slot; CH],
    /// FIFO of queued channel indices (each channel at most once).
    queue: [u8; CH],
    head: usize,
    queued: usize,
    /// The time the running pulses' `left_ms` are counted from: the latest time passed in.
    clock_ms: u64,
}

impl<const CH: usize> PulseScheduler<CH> {
    /// All outputs off, nothing queued. `channels` is clamped to `CH` and 128.
    pub fn new(config: PulseConfig, channels: u8) -> Self {
        let channels = usize::from(channels).min(CH).min(usize::from(lockproto::model::MAX_CHANNELS)) as u8;
        PulseScheduler { config, channels, slots: [Slot::Idle; CH], queue: [0; CH], head: 0, queued: 0, clock_ms: 0 }
    }

    /// The limits.
    pub fn config(&self) -> PulseConfig {
        self.config
    }

    /// Changes the limits; running pulses keep their end time, new ones use the new limits.
    pub fn set_config(&mut self, config: PulseConfig) {
        self.config = config;
    }

    /// Number of lock channels.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// Asks for a pulse of `ms` on `lock` at `now_ms`; `ms` is clamped to `1..=max_on_ms`.
    ///
    /// # Errors
    /// [`NoSuchLock`] when `lock` is above the channel count.
    pub fn request(&mut self, lock: Lock, ms: u32, now_ms: u64) -> Result<PulseOutcome, NoSuchLock> {
        let index = lock.index();
        let channels = self.channels;
        let no_such = NoSuchLock { lock: lock.get(), channels };
        if index >= usize::from(channels) {
            return Err(no_such);
        }
        let applied_ms = ms.clamp(1, self.config.max_on_ms.max(1));
        self.advance(now_ms);
        let on = self.on_count();
        let slot = self.slots.get_mut(index).ok_or(no_such)?;
        if *slot != Slot::Idle {
            return Ok(PulseOutcome::AlreadyActive);
        }
        if on < usize::from(self.config.max_simultaneous.max(1)) {
            *slot = Slot::On { left_ms: applied_ms };
            return Ok(PulseOutcome::Started { applied_ms });
        }
        *slot = Slot::Queued { ms: applied_ms };
        let tail = wrap::<CH>(self.head + self.queued);
        if let Some(entry) = self.queue.get_mut(tail) {
            // index < channels <= 128 fits u8.
            *entry = index as u8;
            self.queued += 1;
        }
        Ok(PulseOutcome::Queued { applied_ms })
    }

    /// Ends pulses whose time is over and starts queued ones the budget allows. Returns the next
    /// deadline (the earliest end of a running pulse), `None` when no output is on.
    pub fn poll(&mut self, now_ms: u64) -> Option<u64> {
        self.poll_changes(now_ms).0
    }

    /// As [`PulseScheduler::poll`], also saying which outputs went on and off.
    pub fn poll_changes(&mut self, now_ms: u64) -> (Option<u64>, PulseChanges) {
        let mut changes = PulseChanges::default();
        self.advance(now_ms);
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if *slot == (Slot::On { left_ms: 0 }) {
                *slot = Slot::Idle;
                if let Some(lock) = Lock::from_index(index) {
                    changes.ended.insert(lock);
                }
            }
        }
        let budget = usize::from(self.config.max_simultaneous.max(1));
        while self.queued > 0 && self.on_count() < budget {
            let index = usize::from(self.queue.get(self.head).copied().unwrap_or(0));
            self.head = wrap::<CH>(self.head + 1);
            self.queued -= 1;
            if let Some(slot) = self.slots.get_mut(index)
                && let Slot::Queued { ms } = *slot
            {
                *slot = Slot::On { left_ms: ms };
                if let Some(lock) = Lock::from_index(index) {
                    changes.started.insert(lock);
                }
            }
        }
        (self.next_deadline(), changes)
    }

    /// The earliest end of a running pulse (no earlier than the latest time passed in: see
    /// [`PulseScheduler::ends_at`]).
    pub fn next_deadline(&self) -> Option<u64> {
        let left_ms = self
            .slots
            .iter()
            .filter_map(|slot| match *slot {
                Slot::On { left_ms } => Some(left_ms),
                _ => None,
            })
            .min()?;
        Some(self.clock_ms.saturating_add(u64::from(left_ms)))
    }

    /// When the running pulse of `lock` ends, ms; `None` while its output is off (idle or
    /// queued). A pulse past its end that no poll has switched off yet says the latest time
    /// passed in: it is due now.
    pub fn ends_at(&self, lock: Lock) -> Option<u64> {
        match self.slots.get(lock.index()) {
            Some(Slot::On { left_ms }) => Some(self.clock_ms.saturating_add(u64::from(*left_ms))),
            _ => None,
        }
    }

    /// Outputs that must be on now.
    pub fn outputs(&self) -> LockSet {
        self.collect(|slot| matches!(slot, Slot::On { .. }))
    }

    /// Locks pulsing or waiting for their turn.
    pub fn active(&self) -> LockSet {
        self.collect(|slot| *slot != Slot::Idle)
    }

    /// Ends the running pulses of `locks` at once (their doors opened: the bolt is free, more
    /// current only heats the coil); returns the locks whose output went off. Queued pulses
    /// of those locks stay queued.
    pub fn end_early(&mut self, locks: LockSet) -> LockSet {
        let mut ended = LockSet::EMPTY;
        for lock in locks.iter() {
            if let Some(slot) = self.slots.get_mut(lock.index())
                && matches!(slot, Slot::On { .. })
            {
                *slot = Slot::Idle;
                ended.insert(lock);
            }
        }
        ended
    }

    /// Switches every output off and forgets the queue (boot, reset, emergency stop).
    pub fn all_off(&mut self) {
        self.slots = [Slot::Idle; CH];
        self.head = 0;
        self.queued = 0;
    }

    /// Moves the clock to `now_ms` (never back: a time before the clock counts as the clock)
    /// and takes the time passed off the running pulses; those at 0 end at the next poll.
    fn advance(&mut self, now_ms: u64) {
        let Some(passed) = now_ms.checked_sub(self.clock_ms).filter(|&passed| passed > 0) else { return };
        self.clock_ms = now_ms;
        let passed = u32::try_from(passed).unwrap_or(u32::MAX);
        for slot in &mut self.slots {
            if let Slot::On { left_ms } = slot {
                *left_ms = left_ms.saturating_sub(passed);
            }
        }
    }

    fn on_count(&self) -> usize {
        self.slots.iter().filter(|slot| matches!(slot, Slot::On { .. })).count()
    }

    fn collect(&self, keep: impl Fn(&Slot) -> bool) -> LockSet {
        self.slots.iter().enumerate().filter(|(_, slot)| keep(slot)).filter_map(|(i, _)| Lock::from_index(i)).collect()
    }
}

/// `index % CH` for `index < 2 * CH` (the queue's head plus at most `CH` entries), without a
/// division: Cortex-M0 has no divide instruction, and `% CH` calls a library routine.
const fn wrap<const CH: usize>(index: usize) -> usize {
    let n = if CH == 0 { 1 } else { CH };
    if index >= n { index - n } else { index }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(n: u8) -> Lock {
        Lock::new(n).unwrap()
    }

    #[test]
    fn clamps_and_bounds_simultaneous_pulses() {
        let mut p = PulseScheduler::<8>::new(PulseConfig { max_on_ms: 500, max_simultaneous: 2 }, 8);
        assert_eq!(p.request(lock(1), 10_000, 0), Ok(PulseOutcome::Started { applied_ms: 500 }));
        assert_eq!(p.request(lock(2), 100, 0), Ok(PulseOutcome::Started { applied_ms: 100 }));
        assert_eq!(p.request(lock(3), 100, 0), Ok(PulseOutcome::Queued { applied_ms: 100 }));
        assert_eq!(p.request(lock(3), 100, 0), Ok(PulseOutcome::AlreadyActive));
        assert_eq!(p.request(lock(9), 100, 0), Err(NoSuchLock { lock: 9, channels: 8 }));
        assert_eq!(p.outputs().len(), 2);
        let (next, changes) = p.poll_changes(100);
        assert_eq!(changes.ended, [lock(2)].into_iter().collect());
        assert_eq!(changes.started, [lock(3)].into_iter().collect());
        assert_eq!(next, Some(200));
        p.poll(500);
        assert!(p.outputs().is_empty());
        assert_eq!(p.poll(500), None);
    }

    /// The queue is a ring of `CH` entries: rounds of requests that wrap around it still start
    /// in request order, one at a time under a budget of one.
    #[test]
    fn the_queue_wraps_in_request_order() {
        let mut p = PulseScheduler::<4>::new(PulseConfig { max_on_ms: 500, max_simultaneous: 1 }, 4);
        let mut now = 0;
        for round in [[1u8, 3, 2, 4], [4, 2, 1, 3], [2, 4, 3, 1]] {
            for n in round {
                p.request(lock(n), 10, now).unwrap();
            }
            for n in round {
                assert_eq!(p.outputs(), [lock(n)].into_iter().collect(), "round {round:?} at {now}");
                now += 10;
                p.poll(now);
            }
            assert!(p.outputs().is_empty());
        }
    }
}
