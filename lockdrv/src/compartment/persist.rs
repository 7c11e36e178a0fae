//! Persistence: a journal of intents, replay, and restore after a power cut (F9, F14).
//!
//! The daemon appends a [`JournalEntry`] *before* acting on a request (write-ahead), and now and
//! then stores a snapshot of the whole [`Locker`] (feature `serde`: `Locker` implements
//! `Serialize`/`Deserialize`). After a power cut, [`restore`] replays the journal written since
//! the snapshot into it with every action discarded (so no pulse is ever replayed: the machine
//! is deterministic, replay only rebuilds the state), then boots it: every reading Unknown,
//! outputs off, an open that was in progress reported as interrupted, reservations dropped,
//! deadlines extended by the outage. Readings that then conflict with the books send the
//! compartment to NeedsInspection.

use super::action::{ActionSink, Discard};
use super::event::Event;
use super::locker::{Locker, RemoteTarget};
use super::refusal::Refusal;
use super::types::{Ms, Parcel, ParcelId, Role, Size, TxnId};

/// One request to the locker, as journaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Intent {
    /// [`Locker::reserve`].
    Reserve {
        /// Requested size.
        size: Size,
        /// The parcel.
        parcel: Parcel,
    },
    /// [`Locker::deposit`].
    Deposit {
        /// The parcel.
        parcel: ParcelId,
        /// Who deposits.
        role: Role,
    },
    /// [`Locker::drop_off`].
    DropOff {
        /// Requested size.
        size: Size,
        /// The parcel.
        parcel: Parcel,
    },
    /// [`Locker::pickup`].
    Pickup {
        /// The parcel.
        parcel: ParcelId,
        /// Who picks up.
        role: Role,
    },
    /// [`Locker::retrieve`].
    Retrieve {
        /// The parcel.
        parcel: ParcelId,
    },
    /// [`Locker::reopen`].
    Reopen {
        /// The parcel.
        parcel: ParcelId,
    },
    /// [`Locker::remote_open`].
    RemoteOpen {
        /// Target.
        target: RemoteTarget,
        /// Cloud transaction.
        txn: TxnId,
    },
    /// [`Locker::handle`].
    Handle {
        /// Compartment index.
        index: usize,
        /// The event.
        event: Event,
    },
    /// [`Locker::tick`].
    Tick,
    /// [`Locker::boot`].
    Boot {
        /// Last time known alive.
        down_since: Ms,
    },
}

/// A journaled request with its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct JournalEntry {
    /// When it was made.
    pub at: Ms,
    /// What was asked.
    pub intent: Intent,
}

impl<const N: usize> Locker<N> {
    /// Carries out one journaled request (live, or in replay with a [`Discard`] sink).
    ///
    /// # Errors
    ///
    /// The request's own refusal (a refused request changes nothing, so it replays the same).
    pub fn apply_intent(&mut self, entry: JournalEntry, sink: &mut impl ActionSink) -> Result<(), Refusal> {
        let at = entry.at;
        match entry.intent {
            Intent::Reserve { size, parcel } => self.reserve(at, size, parcel, sink).map(drop),
            Intent::Deposit { parcel, role } => self.deposit(at, parcel, role, sink).map(drop),
            Intent::DropOff { size, parcel } => self.drop_off(at, size, parcel, sink).map(drop),
            Intent::Pickup { parcel, role } => self.pickup(at, parcel, role, sink).map(drop),
            Intent::Retrieve { parcel } => self.retrieve(at, parcel, sink).map(drop),
            Intent::Reopen { parcel } => self.reopen(at, parcel, sink).map(drop),
            Intent::RemoteOpen { target, txn } => self.remote_open(at, target, txn, sink).map(drop),
            Intent::Handle { index, event } => self.handle(at, index, event, sink),
            Intent::Tick => {
                self.tick(at, sink);
                Ok(())
            }
            Intent::Boot { down_since } => {
                self.boot(at, down_since, sink);
                Ok(())
            }
        }
    }
}

/// Rebuilds a locker after a power cut: `snapshot`, then every entry of `journal` written since
/// it (actions discarded: nothing is replayed to the hardware), then a boot at `now`. The boot's
/// actions (interrupted opens, lost reservations, expiries) go to `sink`.
pub fn restore<const N: usize>(
    snapshot: Locker<N>,
    journal: impl IntoIterator<Item = JournalEntry>,
    now: Ms,
    sink: &mut impl ActionSink,
) -> Locker<N> {
    let mut locker = snapshot;
    for entry in journal {
        let _ = locker.apply_intent(entry, &mut Discard);
    }
    let down_since = locker.now();
    locker.boot(now, down_since, sink);
    locker
}

#[cfg(feature = "serde")]
mod serde_impl {
    use core::fmt;
    use core::marker::PhantomData;

    use serde::de::{Error as _, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::super::config::Config;
    use super::super::locker::Locker;
    use super::super::machine::Compartment;
    use super::super::types::Ms;

    #[derive(Serialize)]
    struct LockerRef<'a> {
        config: &'a Config,
        now: Ms,
        compartments: &'a [Compartment],
        next_txn: u32,
        remote_window_start: Ms,
        remote_count: u8,
    }

    #[derive(Deserialize)]
    struct LockerOwned<const N: usize> {
        config: Config,
        now: Ms,
        #[serde(deserialize_with = "compartments")]
        compartments: [Compartment; N],
        next_txn: u32,
        remote_window_start: Ms,
        remote_count: u8,
    }

    struct ArrayVisitor<const N: usize>(PhantomData<[Compartment; N]>);

    impl<'de, const N: usize> Visitor<'de> for ArrayVisitor<N> {
        type Value = [Compartment; N];

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a sequence of {N} compartments")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out: [Option<Compartment>; N] = [None; N];
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = Some(seq.next_element()?.ok_or_else(|| A::Error::invalid_length(i, &self))?);
            }
            if seq.next_element::<Compartment>()?.is_some() {
                return Err(A::Error::invalid_length(N + 1, &self));
            }
            let mut missing = false;
            let filled = out.map(|c| {
                missing |= c.is_none();
                c.unwrap_or(Compartment::new(super::super::types::Size::S, false))
            });
            if missing { Err(A::Error::invalid_length(0, &self)) } else { Ok(filled) }
        }
    }

    fn compartments<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[Compartment; N], D::Error> {
        d.deserialize_seq(ArrayVisitor::<N>(PhantomData))
    }

    impl<const N: usize> Serialize for Locker<N> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            LockerRef {
                config: &self.config,
                now: self.now,
                compartments: &self.compartments,
                next_txn: self.next_txn,
                remote_window_start: self.remote_window_start,
                remote_count: self.remote_count,
            }
            .serialize(s)
        }
    }

    impl<'de, const N: usize> Deserialize<'de> for Locker<N> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let o = LockerOwned::<N>::deserialize(d)?;
            Ok(Self {
                config: o.config,
                now: o.now,
                compartments: o.compartments,
                next_txn: o.next_txn,
                remote_window_start: o.remote_window_start,
                remote_count: o.remote_count,
            })
        }
    }
}
