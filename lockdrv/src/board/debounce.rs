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
    since: [u64; CH],
}

impl<const CH: usize> Debouncer<CH> {
    /// A debouncer whose inputs must hold `stable_ms` before they count.
    pub fn new(stable_ms: u32) -> Self {
        Debouncer { stable_ms, known: false, stable: LockSet::EMPTY, candidate: LockSet::EMPTY, since: [0; CH] }
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
    pub fn sample(&mut self, raw: LockSet, now_ms: u64) -> InputChanges {
        let raw = raw.intersection(LockSet::first(CH.min(128) as u8));
        let mut changes = InputChanges::default();
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
                *since = now_ms;
            }
            let held = now_ms.saturating_sub(*since) >= u64::from(self.stable_ms);
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
            .filter_map(|lock| self.since.get(lock.index()))
            .map(|since| since.saturating_add(u64::from(self.stable_ms)))
            .min()
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
