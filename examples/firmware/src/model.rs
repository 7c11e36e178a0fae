//! A deterministic model of the cabinet behind the board: per channel a solenoid latch, a door
//! with its switch, and an infrared presence sensor. It stands where real firmware reads GPIO
//! pins, so the board core runs exactly as on a board, only its inputs come from here.
//!
//! Behaviour (the same as lockdrv's simulator physics, `lockdrv::sim::physics`, whose defaults
//! these constants follow):
//! * a rising edge of a lock output on a shut, unjammed door unlatches it; the door spring pushes
//!   it open [`OPEN_DELAY_MS`] later (the door switch then reads open);
//! * someone takes or puts a parcel and shuts the door [`OPEN_FOR_MS`] after it opened; the
//!   presence sensor flips when the door shuts (a collection empties the compartment, a
//!   delivery fills it);
//! * a jammed lock ([`JAMMED`]) never opens: its pulse runs its full length and the board core
//!   reports the jam;
//! * at boot, the compartments of [`PARCELS_AT_BOOT`] hold a parcel; every door is shut.

use lockproto::{Lock, LockSet};

/// From the output going on to the door switch opening: 150 ms (spring push-out).
pub const OPEN_DELAY_MS: u64 = 150;
/// How long a door stays open before it is shut again: 5 s.
pub const OPEN_FOR_MS: u64 = 5_000;
/// Compartments holding a parcel at boot: 2, 5 and 11 (a recipient collects from 5 in the
/// QEMU test, which then reads empty).
pub const PARCELS_AT_BOOT: [u8; 3] = [2, 5, 11];
/// The lock that is jammed: 24 (the last channel), so that a jam can be shown on purpose.
pub const JAMMED: u8 = 24;

/// One compartment.
#[derive(Clone, Copy, Default)]
struct Compartment {
    /// The lock output was on at the last [`Cabinet::on_outputs`] (for edge detection).
    output: bool,
    /// The door switch reads open.
    open: bool,
    /// The presence sensor sees a parcel.
    parcel: bool,
    /// The latch is jammed: the door never opens.
    jammed: bool,
    /// When the unlatched door swings open, ms.
    opens_at: Option<u64>,
    /// When the open door is shut again, ms.
    closes_at: Option<u64>,
}

/// The compartments behind a board of `CH` channels.
pub struct Cabinet<const CH: usize> {
    compartments: [Compartment; CH],
}

impl<const CH: usize> Cabinet<CH> {
    /// The cabinet at power-on: doors shut, parcels in [`PARCELS_AT_BOOT`], [`JAMMED`] jammed.
    pub fn new() -> Self {
        let mut compartments = [Compartment::default(); CH];
        for (index, c) in compartments.iter_mut().enumerate() {
            let number = index + 1;
            c.parcel = PARCELS_AT_BOOT.iter().any(|&n| usize::from(n) == number);
            c.jammed = usize::from(JAMMED) == number;
        }
        Cabinet { compartments }
    }

    /// The lock outputs as the board drives them at `now_ms`: a rising edge on a shut door
    /// unlatches it.
    pub fn on_outputs(&mut self, outputs: LockSet, now_ms: u64) {
        for (index, c) in self.compartments.iter_mut().enumerate() {
            let on = Lock::from_index(index).is_some_and(|lock| outputs.contains(lock));
            if on && !c.output && !c.jammed && !c.open && c.opens_at.is_none() {
                c.opens_at = Some(now_ms + OPEN_DELAY_MS);
            }
            c.output = on;
        }
    }

    /// Moves the doors that are due by `now_ms`.
    pub fn advance(&mut self, now_ms: u64) {
        for c in &mut self.compartments {
            if let Some(at) = c.opens_at.filter(|&at| at <= now_ms) {
                c.opens_at = None;
                c.open = true;
                c.closes_at = Some(at + OPEN_FOR_MS);
            }
            if c.closes_at.is_some_and(|at| at <= now_ms) {
                c.closes_at = None;
                c.open = false;
                c.parcel = !c.parcel;
            }
        }
    }

    /// Door switches reading open.
    pub fn doors_open(&self) -> LockSet {
        self.set_of(|c| c.open)
    }

    /// Presence sensors seeing a parcel.
    pub fn occupied(&self) -> LockSet {
        self.set_of(|c| c.parcel)
    }

    fn set_of(&self, keep: impl Fn(&Compartment) -> bool) -> LockSet {
        let mut set = LockSet::EMPTY;
        for (index, c) in self.compartments.iter().enumerate() {
            if let Some(lock) = Lock::from_index(index) {
                set.set(lock, keep(c));
            }
        }
        set
    }
}
