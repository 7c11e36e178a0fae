//! The observed layer: what the board reports, never assumed (reference/domain.md §6).

/// Door switch reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Door {
    /// Reported closed.
    Closed,
    /// Reported open.
    Open,
    /// Not read since boot or since the board came back (a first-class state, F3).
    Unknown,
}

/// Lock (hook) feedback, where the board has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Lock {
    /// Reported locked.
    Locked,
    /// Reported unlocked.
    Unlocked,
    /// Not read, or no feedback.
    Unknown,
}

/// Parcel presence sensor reading, where the compartment has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Presence {
    /// Sensor sees nothing.
    Empty,
    /// Sensor sees something.
    Occupied,
    /// Not read, or no sensor.
    Unknown,
}

/// The link to the compartment's lock board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Link {
    /// The board answers.
    Online,
    /// The board does not answer (F8).
    Offline,
}

/// Everything observed about one compartment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Observed {
    /// Door switch.
    pub door: Door,
    /// Lock feedback.
    pub lock: Lock,
    /// Presence sensor.
    pub presence: Presence,
    /// Board link.
    pub link: Link,
}

impl Observed {
    /// All readings unknown, link as given: the state after boot or a board loss (invariant I5).
    #[must_use]
    pub const fn unknown(link: Link) -> Self {
        Self { door: Door::Unknown, lock: Lock::Unknown, presence: Presence::Unknown, link }
    }
}
