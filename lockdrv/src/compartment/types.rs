//! Plain identifiers and values shared by the compartment modules.

/// A point in time or a duration in milliseconds. The caller owns the clock: every method that
/// needs the time takes it as an argument, nothing here reads a clock.
pub type Ms = u64;

/// A transaction id: one authorised open. A board pulse carries it so an acknowledgement or a
/// duplicate command can be matched (reference/domain.md F11, F16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TxnId(pub u32);

/// A parcel (or booking) id, unique within a locker (invariant I1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParcelId(pub u32);

/// Which way a parcel travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Direction {
    /// Courier deposits, recipient picks up (the usual delivery).
    Inbound,
    /// Reverse logistics: a customer deposits, a courier collects.
    Outbound,
}

/// A parcel held for or in a compartment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Parcel {
    /// Its id.
    pub id: ParcelId,
    /// Which way it travels.
    pub direction: Direction,
}

/// A compartment size. Ordered: a parcel of size `S` fits `S`, `M` and `L`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Size {
    /// Small.
    S,
    /// Medium.
    M,
    /// Large.
    L,
}

/// Who asks for an open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Role {
    /// A courier (deposit, retrieval of expired parcels, collection of outbound parcels).
    Courier,
    /// A recipient (pickup) or a customer sending a parcel.
    Customer,
    /// An operator (remote or local maintenance open).
    Operator,
}
