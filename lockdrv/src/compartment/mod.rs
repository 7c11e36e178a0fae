//! The compartment state machine: the locker's business logic as a pure, `no_std`, allocation
//! free core (issue 4; reference/domain.md §3, §4, §6).
//!
//! Two layers per compartment ([`Compartment`]):
//!
//! * observed ([`Observed`]): door, lock, presence, board link, as reported by the board and
//!   never assumed; `Unknown` after a boot or a board loss;
//! * business ([`State`]): Vacant, Reserved, DepositOpen, Occupied, PickupOpen, Expired,
//!   RetrievalOpen, NeedsInspection, Faulted(reason), OutOfService(reason).
//!
//! Events go in ([`Event`], with the time as a value); actions come out ([`Action`]: pulse a lock
//! with a transaction id, raise or clear an alarm, notify, bill, report). No timer fires by
//! itself: [`Locker::next_deadline`] says when to send [`Locker::tick`].
//!
//! The rules that matter most, each enforced here and checked by [`invariants`]:
//!
//! * a pulse sent is not a door opened: only a door reading moves the business state (F2);
//! * only sensor evidence (door closed after an authorised open, presence empty where a sensor
//!   exists) or an explicit operator action frees a compartment, never a timer or an ack (I3);
//! * after a boot or a board loss every reading is `Unknown` and nothing is allocated until the
//!   door is read (I5); an interrupted open is reported and never replayed (F9, F14);
//! * one pulse per transaction id (retries only after an acknowledged pulse left the door shut,
//!   bounded), duplicates refused (I2, F11);
//! * remote "open all" is refused without a confirmation at the locker; single remote opens are
//!   rate limited (F12).
//!
//! The cabinet ([`Locker`]) adds sizes and best-fit allocation, reservations with expiry,
//! courier drop-off, recipient pickup, courier retrieval of expired parcels, reverse logistics
//! and the operator's remote open.
//!
//! Around it: [`credentials`] (salted, scoped, single-use codes with lockouts), [`fees`] (the
//! pure fee function), [`persist`] (journal, snapshot, restore after a power cut).
//!
//! The generated transition table and diagram are in `lockdrv/COMPARTMENT.md`.

pub mod action;
pub mod config;
pub mod credentials;
pub mod event;
pub mod fees;
pub mod invariants;
pub mod locker;
pub mod machine;
pub mod observed;
pub mod persist;
pub mod refusal;
pub mod state;
pub mod types;

pub use action::{Action, ActionSink, Alarm, Discard, Notice, Report};
pub use config::Config;
pub use credentials::{AttemptPolicy, Credential, CredentialError, Credentials, Grant, pickup_with_code};
pub use event::Event;
pub use fees::{FeeSchedule, fee};
pub use invariants::{Invariant, Violation, check_invariants, check_step};
pub use locker::{CompartmentSpec, Locker, RemoteTarget};
pub use machine::{Compartment, PendingOpen, ReopenWindow};
pub use observed::{Door, Link, Lock, Observed, Presence};
pub use persist::{Intent, JournalEntry, restore};
pub use refusal::Refusal;
pub use state::{Assignment, FaultReason, OosReason, Purpose, State, StateKind};
pub use types::{Direction, Ms, Parcel, ParcelId, Role, Size, TxnId};
