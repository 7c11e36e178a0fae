//! The physical model of a board's compartments: a door opens some time after its lock is
//! pulsed (unless jammed) and is shut again later; a parcel is present or not.

use lockproto::{Lock, LockSet};

/// How doors and parcels behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysicsConfig {
    /// From the output going on to the door switch opening (spring push-out), µs.
    pub open_delay_us: u64,
    /// How long a door stays open before someone shuts it, µs.
    pub open_for_us: u64,
    /// Whether shutting a door swaps its parcel state (a courier delivered, or a customer
    /// collected).
    pub swap_parcel_on_close: bool,
}

impl Default for PhysicsConfig {
    fn default() -> Self {
        PhysicsConfig { open_delay_us: 150_000, open_for_us: 3_000_000, swap_parcel_on_close: true }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Compartment {
    open: bool,
    jammed: bool,
    parcel: bool,
    output: bool,
    opens_at: Option<u64>,
    closes_at: Option<u64>,
    /// How long the next opening lasts, when not the configured time (opened by hand).
    hold_us: Option<u64>,
    openings: u32,
}

/// The compartments of one board.
#[derive(Debug, Clone)]
pub struct Physics {
    config: PhysicsConfig,
    compartments: Vec<Compartment>,
}

impl Physics {
    /// `channels` shut, empty compartments.
    pub fn new(config: PhysicsConfig, channels: u8) -> Self {
        Physics { config, compartments: vec![Compartment::default(); usize::from(channels)] }
    }

    /// The behaviour.
    pub fn config(&self) -> &PhysicsConfig {
        &self.config
    }

    /// Changes the behaviour.
    pub fn set_config(&mut self, config: PhysicsConfig) {
        self.config = config;
    }

    /// The lock outputs as driven at `now_us`: a rising edge on a shut, free door makes it open
    /// after the open delay.
    pub fn on_outputs(&mut self, outputs: LockSet, now_us: u64) {
        let open_delay = self.config.open_delay_us;
        for (index, c) in self.compartments.iter_mut().enumerate() {
            let on = Lock::from_index(index).is_some_and(|lock| outputs.contains(lock));
            if on && !c.output && !c.jammed && !c.open && c.opens_at.is_none() {
                c.opens_at = Some(now_us + open_delay);
            }
            c.output = on;
        }
    }

    /// Applies door movements due by `now_us`.
    pub fn advance(&mut self, now_us: u64) {
        let config = self.config;
        for c in &mut self.compartments {
            if let Some(at) = c.opens_at.filter(|&at| at <= now_us) {
                c.opens_at = None;
                c.open = true;
                c.openings += 1;
                c.closes_at = Some(at + c.hold_us.take().unwrap_or(config.open_for_us));
            }
            if c.closes_at.is_some_and(|at| at <= now_us) {
                c.closes_at = None;
                c.open = false;
                if config.swap_parcel_on_close {
                    c.parcel = !c.parcel;
                }
            }
        }
    }

    /// The next door movement, µs.
    pub fn next_event_us(&self) -> Option<u64> {
        self.compartments.iter().flat_map(|c| [c.opens_at, c.closes_at]).flatten().min()
    }

    /// Doors open now.
    pub fn doors_open(&self) -> LockSet {
        self.set_of(|c| c.open)
    }

    /// Compartments holding a parcel.
    pub fn occupied(&self) -> LockSet {
        self.set_of(|c| c.parcel)
    }

    /// How often `lock`'s door opened.
    pub fn openings(&self, lock: Lock) -> u32 {
        self.compartments.get(lock.index()).map_or(0, |c| c.openings)
    }

    /// Jams or frees a lock: a jammed door stays shut when pulsed.
    pub fn set_jammed(&mut self, lock: Lock, jammed: bool) {
        if let Some(c) = self.compartments.get_mut(lock.index()) {
            c.jammed = jammed;
        }
    }

    /// Puts a parcel in or takes it out.
    pub fn set_parcel(&mut self, lock: Lock, present: bool) {
        if let Some(c) = self.compartments.get_mut(lock.index()) {
            c.parcel = present;
        }
    }

    /// Someone opens a door by hand (a service key) at `now_us` and shuts it `for_us` later.
    /// The opening is an event at `now_us`, so the board samples it like any other.
    pub fn open_by_hand(&mut self, lock: Lock, now_us: u64, for_us: u64) {
        if let Some(c) = self.compartments.get_mut(lock.index())
            && !c.open
        {
            c.opens_at = Some(now_us);
            c.hold_us = Some(for_us);
        }
    }

    fn set_of(&self, keep: impl Fn(&Compartment) -> bool) -> LockSet {
        self.compartments.iter().enumerate().filter(|(_, c)| keep(c)).filter_map(|(i, _)| Lock::from_index(i)).collect()
    }
}
