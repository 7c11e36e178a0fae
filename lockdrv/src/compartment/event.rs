//! What happens to one compartment (reference/domain.md §6 "Events").

use super::observed::{Door, Lock, Presence};
use super::state::{OosReason, Purpose};
use super::types::{Ms, Parcel, TxnId};

/// An event for one compartment. Cabinet-level requests (allocation, credentials, rate limits)
/// go through [`super::Locker`], which turns them into these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Event {
    /// Hold the compartment for a parcel until `expiry`.
    Reserve {
        /// The parcel.
        parcel: Parcel,
        /// When the hold lapses.
        expiry: Ms,
    },
    /// Drop the reservation.
    CancelReservation,
    /// An authorised open (credential already checked): emits a pulse, nothing more.
    Open {
        /// The transaction; a repeated one is refused (F11).
        txn: TxnId,
        /// What it is for.
        purpose: Purpose,
    },
    /// The board acknowledged the pulse. Not evidence that the door opened (F2).
    PulseAcked(TxnId),
    /// A debounced door reading.
    Door(Door),
    /// A lock feedback reading.
    Lock(Lock),
    /// A presence sensor reading.
    Presence(Presence),
    /// The board flagged an implausible input (F3).
    SensorFault,
    /// The person depositing declared the deposit done (`true`) or cancelled (`false`).
    DepositDeclared(bool),
    /// The recipient says the compartment was empty (F6).
    ReportMissing,
    /// The recipient says a parcel is still inside after pickup (F6).
    ReportStillThere,
    /// The board stopped answering.
    BoardOffline,
    /// The board answers again (readings stay Unknown until read, I5).
    BoardOnline,
    /// The controller booted. `down_since` is the last journaled time before the power cut; the
    /// gap extends pickup deadlines (I6).
    Boot {
        /// Last time known alive before the boot.
        down_since: Ms,
    },
    /// Operator: take out of service.
    MarkOutOfService(OosReason),
    /// Operator: back in service.
    Restore,
    /// Operator: the compartment was inspected; keep the parcel (`true`) or it is empty.
    OperatorClear {
        /// Keep the held parcel, if any.
        keep_parcel: bool,
    },
    /// Operator: extend the pickup deadline.
    ExtendDeadline(Ms),
    /// Only time passed: fire every deadline at or before now.
    Tick,
}
