//! The business layer: what the compartment is being used for (reference/domain.md §6).

use super::types::{Ms, Parcel, Role, TxnId};

/// A parcel that is (or was) deposited: what pickup, expiry and billing need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Assignment {
    /// The parcel.
    pub parcel: Parcel,
    /// When the door closed on it.
    pub deposited_at: Ms,
    /// Pickup (or collection) deadline. Never shrinks (invariant I6).
    pub deadline: Ms,
    /// Recorded unavailability (board offline, out of service, power cut) while it was held;
    /// it extends the deadline and pauses fees.
    pub paused: Ms,
}

/// Why a compartment is faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum FaultReason {
    /// Pulses were acknowledged but the door never opened (F1).
    Jammed,
    /// The board reported an implausible input (F3).
    SensorFault,
    /// The door stayed open past its window (F4).
    DoorAjar,
    /// The door opened without an authorised open (forced open, F12).
    Tamper,
    /// The board does not answer (F8).
    BoardOffline,
}

/// Why an operator took a compartment out of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum OosReason {
    /// Planned maintenance.
    Maintenance,
    /// Damaged door, lock or shelf.
    Damaged,
    /// Any other reason, by operator code.
    Other(u8),
}

/// What an authorised open is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Purpose {
    /// Deposit into a reservation (courier, or customer for an outbound parcel).
    Deposit,
    /// Pickup by the recipient (inbound) or collection by a courier (outbound).
    Pickup,
    /// Courier retrieval of an expired inbound parcel.
    Retrieval,
    /// Re-open after a pickup, inside the short re-open window (invariant I7).
    Reopen,
    /// Operator open (remote or local maintenance).
    Operator,
}

/// The business state of one compartment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum State {
    /// Free to allocate (if its observed state allows).
    Vacant,
    /// Held for a parcel until `expiry`.
    Reserved {
        /// The parcel it is held for.
        parcel: Parcel,
        /// When the reservation lapses.
        expiry: Ms,
    },
    /// Door seen open for a deposit.
    DepositOpen {
        /// The open's transaction.
        txn: TxnId,
        /// The parcel being deposited.
        parcel: Parcel,
    },
    /// Holds a parcel awaiting pickup or collection.
    Occupied {
        /// The parcel and its deadline.
        held: Assignment,
    },
    /// Door seen open for a pickup.
    PickupOpen {
        /// The open's transaction.
        txn: TxnId,
        /// The parcel being picked up.
        held: Assignment,
    },
    /// Pickup deadline passed; awaiting courier retrieval. Never freed by the timer.
    Expired {
        /// The parcel.
        held: Assignment,
    },
    /// Door seen open for a courier retrieval or an operator open.
    RetrievalOpen {
        /// The open's transaction.
        txn: TxnId,
        /// Who opened it.
        by: Role,
        /// The parcel inside, if any.
        held: Option<Assignment>,
    },
    /// Contents unknown after an unclear outcome: only an operator clears it.
    NeedsInspection {
        /// The parcel believed to be inside, if any.
        held: Option<Assignment>,
    },
    /// A fault with its reason; the assignment is kept (F1).
    Faulted {
        /// Why.
        reason: FaultReason,
        /// The parcel believed to be inside, if any.
        held: Option<Assignment>,
        /// Since when (for deadline extension).
        since: Ms,
    },
    /// Disabled by an operator.
    OutOfService {
        /// Why.
        reason: OosReason,
        /// The parcel inside, if any.
        held: Option<Assignment>,
        /// Since when (for deadline extension).
        since: Ms,
    },
}

/// The state's name without data, for tables and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateKind {
    /// [`State::Vacant`].
    Vacant,
    /// [`State::Reserved`].
    Reserved,
    /// [`State::DepositOpen`].
    DepositOpen,
    /// [`State::Occupied`].
    Occupied,
    /// [`State::PickupOpen`].
    PickupOpen,
    /// [`State::Expired`].
    Expired,
    /// [`State::RetrievalOpen`].
    RetrievalOpen,
    /// [`State::NeedsInspection`].
    NeedsInspection,
    /// [`State::Faulted`].
    Faulted,
    /// [`State::OutOfService`].
    OutOfService,
}

impl State {
    /// The state's name.
    #[must_use]
    pub const fn kind(&self) -> StateKind {
        match self {
            Self::Vacant => StateKind::Vacant,
            Self::Reserved { .. } => StateKind::Reserved,
            Self::DepositOpen { .. } => StateKind::DepositOpen,
            Self::Occupied { .. } => StateKind::Occupied,
            Self::PickupOpen { .. } => StateKind::PickupOpen,
            Self::Expired { .. } => StateKind::Expired,
            Self::RetrievalOpen { .. } => StateKind::RetrievalOpen,
            Self::NeedsInspection { .. } => StateKind::NeedsInspection,
            Self::Faulted { .. } => StateKind::Faulted,
            Self::OutOfService { .. } => StateKind::OutOfService,
        }
    }

    /// The parcel this state holds or is reserved for (invariant I1: at most one).
    #[must_use]
    pub const fn parcel(&self) -> Option<Parcel> {
        match self {
            Self::Vacant => None,
            Self::Reserved { parcel, .. } | Self::DepositOpen { parcel, .. } => Some(*parcel),
            Self::Occupied { held } | Self::PickupOpen { held, .. } | Self::Expired { held } => Some(held.parcel),
            Self::RetrievalOpen { held, .. }
            | Self::NeedsInspection { held }
            | Self::Faulted { held, .. }
            | Self::OutOfService { held, .. } => match held {
                Some(h) => Some(h.parcel),
                None => None,
            },
        }
    }

    /// The deposited parcel, if the state holds one.
    #[must_use]
    pub const fn held(&self) -> Option<Assignment> {
        match self {
            Self::Vacant | Self::Reserved { .. } | Self::DepositOpen { .. } => None,
            Self::Occupied { held } | Self::PickupOpen { held, .. } | Self::Expired { held } => Some(*held),
            Self::RetrievalOpen { held, .. }
            | Self::NeedsInspection { held }
            | Self::Faulted { held, .. }
            | Self::OutOfService { held, .. } => *held,
        }
    }

    /// True for the states whose door was seen open for an authorised open (the open window).
    #[must_use]
    pub const fn is_open_window(&self) -> bool {
        matches!(self, Self::DepositOpen { .. } | Self::PickupOpen { .. } | Self::RetrievalOpen { .. })
    }
}
