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

/// Where a door is.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Door {
    /// Shut and latched.
    Shut,
    /// Unlatched: it swings open at the time held in [`Compartment::at`].
    Unlatched,
    /// Open: it is shut again at the time held in [`Compartment::at`].
    Open,
}

/// One compartment, in 6 bytes: the model stands in for GPIO pins, which cost a board no RAM,
/// so it should not weigh much in the footprint.
#[derive(Clone, Copy)]
struct Compartment {
    door: Door,
    /// The lock output was on at the last [`Cabinet::on_outputs`] (for edge detection).
    output: bool,
    /// The presence sensor sees a parcel.
    parcel: bool,
    /// The latch is jammed: the door never opens.
    jammed: bool,
    /// When the door moves next: the low 16 bits of the ms since boot (a door moves within
    /// seconds, well inside the 32 s that a wrapping 16-bit comparison can tell apart).
    at: u16,
}

/// The compartments behind a board of `CH` channels.
pub struct Cabinet<const CH: usize> {
    compartments: [Compartment; CH],
}

impl<const CH: usize> Cabinet<CH> {
    /// The cabinet at power-on: doors shut, parcels in [`PARCELS_AT_BOOT`], [`JAMMED`] jammed.
    pub fn new() -> Self {
        let shut = Compartment { door: Door::Shut, output: false, parcel: false, jammed: false, at: 0 };
        let mut compartments = [shut; CH];
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
            if on && !c.output && !c.jammed && c.door == Door::Shut {
                c.door = Door::Unlatched;
                c.at = (now_ms + OPEN_DELAY_MS) as u16;
            }
            c.output = on;
        }
    }

    /// Moves the doors that are due by `now_ms`.
    pub fn advance(&mut self, now_ms: u64) {
        let now = now_ms as u16;
        for c in &mut self.compartments {
            // Wrapping comparison: `at` is due when it is at most 2^15 ms in the past.
            let due = now.wrapping_sub(c.at) < 1 << 15;
            match c.door {
                Door::Unlatched if due => {
                    c.door = Door::Open;
                    c.at = c.at.wrapping_add(OPEN_FOR_MS as u16);
                }
                Door::Open if due => {
                    c.door = Door::Shut;
                    c.parcel = !c.parcel;
                }
                _ => {}
            }
        }
    }

    /// Door switches reading open.
    pub fn doors_open(&self) -> LockSet {
        self.set_of(|c| c.door == Door::Open)
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
