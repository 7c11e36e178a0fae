//! Input debouncing: a reading becomes the stable state only after it held for `stable_ms`.
//!
//! Door switches and infrared presence sensors bounce for a few ms when they change; a board
//! that reported every bounce would fill its event log with open/close pairs that never
//! happened. Time is passed in, so the same code runs on a timer interrupt or in the simulator.

use lockproto::{Lock, LockSet};

/// Default time an input must hold before it counts: 20 ms. Mechanical switch bounce settles
/// within 5-10 ms; 20 ms still catches a door opened and shut again within a tenth of a second.
pub const DEFAULT_STABLE_MS: u32 = 20;

/// Stable-state changes found by one [`Debouncer::sample`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputChanges {
    /// Inputs that became active.
    pub rose: LockSet,
    /// Inputs that became inactive.
    pub fell: LockSet,
}

impl InputChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.rose.is_empty() && self.fell.is_empty()
    }
}

/// Debounces up to `CH` inputs (sans-io).
///
/// The first sample after [`Debouncer::new`] is taken as the stable state without reporting a
/// change: before it the state is unknown, and "unknown → open" is not a door event.
///
/// ```
/// use lockdrv::board::debounce::Debouncer;
/// use lockproto::{Lock, LockSet};
///
/// let door = Lock::new(1).unwrap();
/// let open: LockSet = [door].into_iter().collect();
/// let mut inputs = Debouncer::<4>::new(20);
/// inputs.sample(LockSet::EMPTY, 0);
/// assert!(inputs.sample(open, 10).is_empty()); // not yet stable
/// assert_eq!(inputs.next_deadline(), Some(30));
/// assert_eq!(inputs.sample(open, 30).rose, open);
/// ```
#[derive(Debug, Clone)]
pub struct Debouncer<const CH: usize> {
    stable_ms: u32,
    known: bool,
    stable: LockSet,
    candidate: LockSet,
    /// When each input's candidate level appeared: the low 32 bits of the time (see
    /// [`Debouncer::since_ms`]). Half the RAM of `u64` times, which a 2 KiB board feels
    /// (examples/firmware), and Thumb-1 compares them without 64-bit carries.
    since: [u32; CH],
    /// The time of the last sample, the reference the 32-bit times are taken against.
    last_ms: u64,
}

impl<const CH: usize> Debouncer<CH> {
    /// A debouncer whose inputs must hold `stable_ms` before they count.
    pub fn new(stable_ms: u32) -> Self {
        Debouncer {
            stable_ms,
            known: false,
            stable: LockSet::EMPTY,
            candidate: LockSet::EMPTY,
            since: [0; CH],
            last_ms: 0,
        }
    }

    /// Changes the hold time (pending changes use the new one).
    pub fn set_stable_ms(&mut self, stable_ms: u32) {
        self.stable_ms = stable_ms;
    }

    /// The hold time, ms.
    pub fn stable_ms(&self) -> u32 {
        self.stable_ms
    }

    /// The debounced state (inputs active), or `None` before the first sample.
    pub fn state(&self) -> Option<LockSet> {
        self.known.then_some(self.stable)
    }

    /// Takes a raw reading of all inputs (bits above `CH` are ignored) at `now_ms`.
    ///
    /// Times are meant to grow; a change pending for more than 24.8 days (2^31 ms) without a
    /// sample in between is taken as just begun, which costs at most `stable_ms` of delay.
    pub fn sample(&mut self, raw: LockSet, now_ms: u64) -> InputChanges {
        let raw = raw.intersection(LockSet::first(CH.min(128) as u8));
        let mut changes = InputChanges::default();
        self.last_ms = now_ms;
        // Truncation intended: the low 32 bits, compared by wrapping difference.
        let now = now_ms as u32;
        if !self.known {
            self.known = true;
            self.stable = raw;
            self.candidate = raw;
            return changes;
        }
        for (index, since) in self.since.iter_mut().enumerate() {
            let Some(lock) = Lock::from_index(index) else { break };
            let level = raw.contains(lock);
            if level != self.candidate.contains(lock) {
                self.candidate.set(lock, level);
                *since = now;
            } else if now.wrapping_sub(*since) > i32::MAX as u32 {
                // Too far apart to tell which came first (no sample for 24.8 days, or time
                // went back): the window starts again.
                *since = now;
            }
            let held = now.wrapping_sub(*since) >= self.stable_ms;
            if level != self.stable.contains(lock) && held {
                self.stable.set(lock, level);
                if level {
                    changes.rose.insert(lock);
                } else {
                    changes.fell.insert(lock);
                }
            }
        }
        changes
    }

    /// When a pending change becomes stable (sample again then), `None` when nothing is pending.
    pub fn next_deadline(&self) -> Option<u64> {
        let pending = self.candidate.symmetric_difference(self.stable);
        pending
            .iter()
            .filter_map(|lock| self.since_ms(lock))
            .map(|since| since.saturating_add(u64::from(self.stable_ms)))
            .min()
    }

    /// When the candidate level of `lock` appeared, as a full time: the last sample's time
    /// less the 32-bit distance back to it (`sample` keeps that distance below 2^31).
    fn since_ms(&self, lock: Lock) -> Option<u64> {
        let since = *self.since.get(lock.index())?;
        // Truncation intended, as in `sample`.
        let back = (self.last_ms as u32).wrapping_sub(since);
        Some(self.last_ms.saturating_sub(u64::from(back)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounce_shorter_than_the_window_is_ignored() {
        let lock = Lock::new(2).unwrap();
        let on: LockSet = [lock].into_iter().collect();
        let mut d = Debouncer::<4>::new(20);
        assert!(d.sample(LockSet::EMPTY, 0).is_empty());
        assert!(d.sample(on, 5).is_empty());
        assert!(d.sample(LockSet::EMPTY, 10).is_empty());
        assert!(d.sample(on, 15).is_empty());
        assert!(d.sample(on, 34).is_empty());
        assert_eq!(d.next_deadline(), Some(35));
        assert_eq!(d.sample(on, 35).rose, on);
        assert_eq!(d.state(), Some(on));
        assert_eq!(d.next_deadline(), None);
    }
}
