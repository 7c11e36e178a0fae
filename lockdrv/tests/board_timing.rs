//! The debouncer and the pulse scheduler keep their times in 32 bits (RAM on a 2 KiB board);
//! these properties check them against plain models that keep every time as a `u64`, across
//! the 2^32 ms boundary of the board clock, and the documented behaviour after a gap of more
//! than 2^31 ms between samples.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lockdrv::board::debounce::{Debouncer, InputChanges};
use lockdrv::board::pulse::{PulseChanges, PulseConfig, PulseOutcome, PulseScheduler};
use lockproto::{Lock, LockSet};
use proptest::prelude::*;

const CH: usize = 8;
const WRAP: u64 = 1 << 32;

fn set_of(bits: u8) -> LockSet {
    (0..CH).filter(|i| bits & (1 << i) != 0).filter_map(Lock::from_index).collect()
}

/// Board clocks to start from: boot, just before the 32-bit wrap, and far beyond it.
fn start_ms() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), (WRAP - 2_000)..WRAP, (3 * WRAP - 500)..(3 * WRAP + 500)]
}

/// Steps between samples: mostly short, some long, none past 2^31 ms.
fn step_ms() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..40, 1 => 0u64..5_000, 1 => 0u64..(1 << 31)]
}

/// The debouncer as specified, with `u64` times.
struct DebounceModel {
    stable_ms: u64,
    known: bool,
    stable: [bool; CH],
    candidate: [bool; CH],
    since: [u64; CH],
}

impl DebounceModel {
    fn sample(&mut self, raw: u8, now: u64) -> InputChanges {
        let mut changes = InputChanges::default();
        for i in 0..CH {
            let level = raw & (1 << i) != 0;
            let lock = Lock::from_index(i).unwrap();
            if !self.known {
                (self.stable[i], self.candidate[i]) = (level, level);
                continue;
            }
            if level != self.candidate[i] {
                self.candidate[i] = level;
                self.since[i] = now;
            }
            if level != self.stable[i] && now - self.since[i] >= self.stable_ms {
                self.stable[i] = level;
                if level {
                    changes.rose.insert(lock)
                } else {
                    changes.fell.insert(lock)
                };
            }
        }
        self.known = true;
        changes
    }

    fn next_deadline(&self) -> Option<u64> {
        (0..CH).filter(|&i| self.stable[i] != self.candidate[i]).map(|i| self.since[i] + self.stable_ms).min()
    }
}

proptest! {
    #[test]
    fn debouncer_agrees_with_u64_times(
        stable_ms in 0u32..50,
        start in start_ms(),
        samples in prop::collection::vec((any::<u8>(), step_ms()), 1..120),
    ) {
        let mut debouncer = Debouncer::<CH>::new(stable_ms);
        let mut model = DebounceModel {
            stable_ms: stable_ms.into(),
            known: false,
            stable: [false; CH],
            candidate: [false; CH],
            since: [0; CH],
        };
        let mut now = start;
        for (raw, step) in samples {
            now += step;
            prop_assert_eq!(debouncer.sample(set_of(raw), now), model.sample(raw, now), "sample at {}", now);
            prop_assert_eq!(debouncer.next_deadline(), model.next_deadline(), "deadline after {}", now);
        }
    }
}

#[test]
fn a_change_pending_across_a_gap_of_more_than_2_31_ms_starts_its_window_again() {
    let door: LockSet = set_of(1);
    let mut debouncer = Debouncer::<CH>::new(20);
    debouncer.sample(LockSet::EMPTY, WRAP - 10);
    assert!(debouncer.sample(door, WRAP - 5).is_empty());
    assert_eq!(debouncer.next_deadline(), Some(WRAP + 15));
    // 30 days without a sample: too far to compare in 32 bits, so the window restarts.
    let later = WRAP - 5 + 30 * 86_400_000;
    assert!(debouncer.sample(door, later).is_empty());
    assert_eq!(debouncer.next_deadline(), Some(later + 20));
    assert!(debouncer.sample(door, later + 19).is_empty());
    assert_eq!(debouncer.sample(door, later + 20).rose, door);
}

/// The pulse scheduler as specified, with `u64` end times.
struct PulseModel {
    config: PulseConfig,
    on_until: [Option<u64>; CH],
    queued: Vec<(usize, u32)>,
}

impl PulseModel {
    /// What the scheduler reports as the end of a pulse at `now`: a pulse past its end that
    /// no poll has switched off yet is due now.
    fn ends_at(&self, index: usize, now: u64) -> Option<u64> {
        self.on_until[index].map(|until| until.max(now))
    }

    fn on_count(&self) -> usize {
        self.on_until.iter().flatten().count()
    }

    fn request(&mut self, index: usize, ms: u32, now: u64) -> PulseOutcome {
        let applied_ms = ms.clamp(1, self.config.max_on_ms.max(1));
        if self.on_until[index].is_some() || self.queued.iter().any(|&(i, _)| i == index) {
            PulseOutcome::AlreadyActive
        } else if self.on_count() < usize::from(self.config.max_simultaneous.max(1)) {
            self.on_until[index] = Some(now + u64::from(applied_ms));
            PulseOutcome::Started { applied_ms }
        } else {
            self.queued.push((index, applied_ms));
            PulseOutcome::Queued { applied_ms }
        }
    }

    fn poll(&mut self, now: u64) -> (Option<u64>, PulseChanges) {
        let mut changes = PulseChanges::default();
        for (i, until) in self.on_until.iter_mut().enumerate() {
            if until.is_some_and(|until| until <= now) {
                *until = None;
                changes.ended.insert(Lock::from_index(i).unwrap());
            }
        }
        while !self.queued.is_empty() && self.on_count() < usize::from(self.config.max_simultaneous.max(1)) {
            let (i, ms) = self.queued.remove(0);
            self.on_until[i] = Some(now + u64::from(ms));
            changes.started.insert(Lock::from_index(i).unwrap());
        }
        (self.on_until.iter().flatten().min().copied(), changes)
    }

    fn end_early(&mut self, locks: u8) -> LockSet {
        let mut ended = LockSet::EMPTY;
        for (i, until) in self.on_until.iter_mut().enumerate() {
            if locks & (1 << i) != 0 && until.take().is_some() {
                ended.insert(Lock::from_index(i).unwrap());
            }
        }
        ended
    }
}

#[derive(Debug, Clone)]
enum PulseStep {
    Request { index: usize, ms: u32 },
    Poll,
    EndEarly { locks: u8 },
    SetConfig { max_on_ms: u32, max_simultaneous: u8 },
}

fn pulse_step() -> impl Strategy<Value = (PulseStep, u64)> {
    let step = prop_oneof![
        3 => (0..CH, 0u32..3_000).prop_map(|(index, ms)| PulseStep::Request { index, ms }),
        4 => Just(PulseStep::Poll),
        1 => any::<u8>().prop_map(|locks| PulseStep::EndEarly { locks }),
        1 => (0u32..2_500, 0u8..4).prop_map(|(max_on_ms, max_simultaneous)| PulseStep::SetConfig { max_on_ms, max_simultaneous }),
    ];
    (step, prop_oneof![4 => 0u64..400, 1 => 0u64..5_000, 1 => 0u64..(1 << 33)])
}

proptest! {
    #[test]
    fn pulse_scheduler_agrees_with_u64_times(
        start in start_ms(),
        steps in prop::collection::vec(pulse_step(), 1..150),
    ) {
        let config = PulseConfig { max_on_ms: 1_000, max_simultaneous: 2 };
        let mut pulses = PulseScheduler::<CH>::new(config, CH as u8);
        let mut model = PulseModel { config, on_until: [None; CH], queued: Vec::new() };
        let mut now = start;
        // The latest time the scheduler was given (end_early and set_config take none).
        let mut seen = start;
        for (step, passed) in steps {
            now += passed;
            if matches!(step, PulseStep::Request { .. } | PulseStep::Poll) {
                seen = now;
            }
            match step {
                PulseStep::Request { index, ms } => {
                    let lock = Lock::from_index(index).unwrap();
                    prop_assert_eq!(pulses.request(lock, ms, now), Ok(model.request(index, ms, now)), "request at {}", now);
                }
                PulseStep::Poll => prop_assert_eq!(pulses.poll_changes(now), model.poll(now), "poll at {}", now),
                PulseStep::EndEarly { locks } => prop_assert_eq!(pulses.end_early(set_of(locks)), model.end_early(locks)),
                PulseStep::SetConfig { max_on_ms, max_simultaneous } => {
                    let config = PulseConfig { max_on_ms, max_simultaneous };
                    pulses.set_config(config);
                    model.config = config;
                }
            }
            let on: LockSet = (0..CH).filter(|&i| model.on_until[i].is_some()).filter_map(Lock::from_index).collect();
            prop_assert_eq!(pulses.outputs(), on);
            for i in 0..CH {
                prop_assert_eq!(pulses.ends_at(Lock::from_index(i).unwrap()), model.ends_at(i, seen), "lock index {}", i);
            }
            let earliest = (0..CH).filter_map(|i| model.ends_at(i, seen)).min();
            prop_assert_eq!(pulses.next_deadline(), earliest);
        }
    }
}

#[test]
fn a_pulse_polled_more_than_2_32_ms_later_is_over() {
    let lock = Lock::new(1).unwrap();
    let mut pulses = PulseScheduler::<CH>::new(PulseConfig { max_on_ms: 1_000, max_simultaneous: 1 }, CH as u8);
    assert_eq!(pulses.request(lock, 1_000, 5), Ok(PulseOutcome::Started { applied_ms: 1_000 }));
    // 2^32 + 10 ms later: in 32 bits that would read as 10 ms, with 990 ms still to go.
    let later = 5 + WRAP + 10;
    let (deadline, changes) = pulses.poll_changes(later);
    assert_eq!((deadline, changes.ended), (None, set_of(1)));
    assert!(pulses.outputs().is_empty());
}
