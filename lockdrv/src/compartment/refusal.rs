//! Why a request was refused. A refusal never changes state (except the audit report of a
//! duplicate transaction).

/// A refused request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The event does not apply to the compartment's current state.
    #[error("not allowed in the compartment's current state")]
    NotAllowedInState,
    /// The transaction id was already used on this compartment (F11).
    #[error("duplicate transaction id")]
    Duplicate,
    /// The compartment's board is offline.
    #[error("board offline")]
    Offline,
    /// An open is already in progress.
    #[error("an open is already in progress")]
    Busy,
    /// The compartment is not free, not reconciled or alarmed, so it cannot be allocated.
    #[error("compartment cannot be allocated")]
    NotAllocatable,
    /// A presence reading for a compartment without a presence sensor.
    #[error("compartment has no presence sensor")]
    NoSensor,
    /// No free compartment of a fitting size (F13).
    #[error("no suitable compartment available")]
    NoSuitableCompartment,
    /// The compartment index is out of range.
    #[error("no such compartment")]
    NoSuchCompartment,
    /// No compartment holds this parcel in a state that allows the request.
    #[error("unknown parcel")]
    UnknownParcel,
    /// The parcel id is already in use in this locker (invariant I1).
    #[error("parcel id already in use")]
    ParcelInUse,
    /// The credential's role may not do this.
    #[error("role not allowed")]
    WrongRole,
    /// Too many remote opens in the current period.
    #[error("remote open rate limit reached")]
    RateLimited,
    /// Opening every compartment needs a confirmation at the locker (F12, PickPoint).
    #[error("opening all compartments needs local confirmation")]
    NeedsLocalConfirmation,
    /// Reservations and opens go through the cabinet API (allocation, credentials, limits).
    #[error("use the cabinet API for this event")]
    CabinetOnly,
}
