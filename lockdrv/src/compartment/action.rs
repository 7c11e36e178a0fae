//! What the state machine asks its caller to do.

use super::state::FaultReason;
use super::types::{Ms, ParcelId, TxnId};

/// An alarm the operator sees. Alarms are flags overlaid on any business state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Alarm {
    /// Door open past its window, or found open (invariant I4).
    DoorAjar,
    /// Door opened without an authorised open.
    Tamper,
    /// The door did not open after the allowed pulses.
    Jammed,
    /// The board reported an implausible input.
    SensorFault,
    /// The board does not answer.
    BoardOffline,
}

impl Alarm {
    /// Every alarm, in flag order.
    pub const ALL: [Self; 5] = [Self::DoorAjar, Self::Tamper, Self::Jammed, Self::SensorFault, Self::BoardOffline];

    pub(crate) const fn bit(self) -> u8 {
        match self {
            Self::DoorAjar => 1,
            Self::Tamper => 2,
            Self::Jammed => 4,
            Self::SensorFault => 8,
            Self::BoardOffline => 16,
        }
    }
}

/// A message for a person (recipient, courier, operator) through the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Notice {
    /// A parcel is ready for pickup or collection.
    ReadyForPickup(ParcelId),
    /// A parcel's pickup deadline passed.
    PickupExpired(ParcelId),
    /// A reservation lapsed or was dropped (by expiry, boot, board loss or an operator).
    ReservationLost(ParcelId),
    /// A parcel was picked up or collected.
    PickedUp(ParcelId),
    /// A door is open too long: "please close the door".
    CloseTheDoor,
}

/// A fact for the cloud's audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Report {
    /// The door opened for this transaction (sensor evidence, not the acknowledgement).
    Opened(TxnId),
    /// A pulse was not acknowledged and the door was not seen open: outcome unknown. Never
    /// resent automatically.
    OpenOutcomeUnknown(TxnId),
    /// An open was interrupted by a boot or a board loss; it is not replayed (F9, F14).
    OpenInterrupted(TxnId),
    /// A duplicate or stale transaction was refused (F11).
    DuplicateRefused(TxnId),
    /// The compartment needs an operator's inspection (F5, F6).
    NeedsInspection,
    /// The compartment entered a fault.
    Fault(FaultReason),
    /// A deposit was completed.
    Deposited(ParcelId),
    /// A deposit ended with the compartment empty.
    DepositCancelled(ParcelId),
    /// A parcel was retrieved by a courier or an operator.
    Retrieved(ParcelId),
    /// The user said the parcel was missing (F6).
    ReportedMissing(ParcelId),
    /// The user said a parcel is still in the compartment after pickup (F6).
    ReportedStillThere(ParcelId),
    /// An operator cleared the compartment, dropping this parcel's assignment.
    AssignmentDropped(ParcelId),
}

/// One instruction from the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Action {
    /// Pulse the compartment's lock once, for `ms`, tagged with the transaction. Sending it is
    /// not opening the door (F2): only a door reading is.
    Pulse {
        /// The open's transaction.
        txn: TxnId,
        /// Which pulse of this open (1 = first; retries only after an acknowledged pulse).
        attempt: u8,
        /// Pulse length, at most the configured maximum (invariant I2).
        ms: Ms,
    },
    /// Raise an alarm.
    RaiseAlarm(Alarm),
    /// Clear an alarm.
    ClearAlarm(Alarm),
    /// Tell a person.
    Notify(Notice),
    /// Charge a fee for a parcel (amount in the smallest currency unit; may be 0).
    Bill {
        /// The parcel.
        parcel: ParcelId,
        /// The amount.
        amount: u32,
    },
    /// Record a fact in the cloud.
    Report(Report),
}

/// Where actions go: a closure `FnMut(compartment_index, Action)` or any type implementing it.
pub trait ActionSink {
    /// Takes one action for the compartment at `index`.
    fn emit(&mut self, index: usize, action: Action);
}

impl<F: FnMut(usize, Action)> ActionSink for F {
    fn emit(&mut self, index: usize, action: Action) {
        self(index, action);
    }
}

/// A sink that forgets every action (for callers that only want the new state).
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl ActionSink for Discard {
    fn emit(&mut self, _index: usize, _action: Action) {}
}
