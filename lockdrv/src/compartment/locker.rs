//! The cabinet: N compartments with sizes, best-fit allocation, the courier / recipient /
//! operator flows, and the remote-open safeguards (F12, F13).

use core::hash::{Hash, Hasher};

use super::action::{Action, ActionSink};
use super::config::Config;
use super::event::Event;
use super::machine::Compartment;
use super::refusal::Refusal;
use super::state::{Purpose, State};
use super::types::{Direction, Ms, Parcel, ParcelId, Role, Size, TxnId};

/// How one compartment is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CompartmentSpec {
    /// Its size.
    pub size: Size,
    /// True if it has a parcel presence sensor.
    pub presence_sensor: bool,
}

/// Which compartments an operator's remote open targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RemoteTarget {
    /// One compartment by index.
    One(usize),
    /// Every compartment. Refused unless someone confirmed it at the locker (PickPoint, F12).
    All {
        /// A person confirmed at the locker's own terminal.
        local_confirmation: bool,
    },
}

/// Local transaction ids (opens the locker starts itself) count from here; cloud ids stay below.
pub const LOCAL_TXN_BASE: u32 = 0x8000_0000;

/// A locker of `N` compartments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locker<const N: usize> {
    pub(crate) config: Config,
    pub(crate) now: Ms,
    pub(crate) compartments: [Compartment; N],
    pub(crate) next_txn: u32,
    pub(crate) remote_window_start: Ms,
    pub(crate) remote_count: u8,
}

impl<const N: usize> Locker<N> {
    /// A locker as before its first boot: every compartment Vacant with Unknown readings (not
    /// allocatable until each door is read closed).
    #[must_use]
    pub fn new(config: Config, specs: [CompartmentSpec; N]) -> Self {
        Self {
            config,
            now: 0,
            compartments: specs.map(|s| Compartment::new(s.size, s.presence_sensor)),
            next_txn: LOCAL_TXN_BASE,
            remote_window_start: 0,
            remote_count: 0,
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The time of the latest event (time never goes backwards here).
    #[must_use]
    pub const fn now(&self) -> Ms {
        self.now
    }

    /// Every compartment, by index.
    #[must_use]
    pub const fn compartments(&self) -> &[Compartment; N] {
        &self.compartments
    }

    /// One compartment.
    #[must_use]
    pub fn compartment(&self, index: usize) -> Option<&Compartment> {
        self.compartments.get(index)
    }

    /// The earliest deadline of any compartment: send [`Locker::tick`] then.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Ms> {
        self.compartments.iter().filter_map(Compartment::next_deadline).min()
    }

    /// The index of the compartment holding or reserved for `parcel`.
    #[must_use]
    pub fn find(&self, parcel: ParcelId) -> Option<usize> {
        self.compartments.iter().position(|c| c.state().parcel().is_some_and(|p| p.id == parcel))
    }

    /// Whether `parcel` is held or reserved here, or is the parcel of a compartment's re-open
    /// window: after a pickup the parcel may still be inside until the window closes ("still
    /// there" puts it back), so its id is not free for another compartment before then (I1).
    fn parcel_in_use(&self, parcel: ParcelId) -> bool {
        self.find(parcel).is_some()
            || self.compartments.iter().any(|c| c.reopen_window().is_some_and(|r| r.held.parcel.id == parcel))
    }

    fn state_of(&self, index: usize) -> Option<State> {
        self.compartments.get(index).map(Compartment::state)
    }

    fn advance(&mut self, now: Ms) -> Ms {
        self.now = self.now.max(now);
        self.now
    }

    fn local_txn(&mut self) -> TxnId {
        let txn = TxnId(self.next_txn);
        self.next_txn = self.next_txn.wrapping_add(1).max(LOCAL_TXN_BASE);
        txn
    }

    fn apply(&mut self, index: usize, event: Event, sink: &mut impl ActionSink) -> Result<(), Refusal> {
        let now = self.now;
        let config = self.config;
        let c = self.compartments.get_mut(index).ok_or(Refusal::NoSuchCompartment)?;
        c.handle(&config, now, event, &mut |a: Action| sink.emit(index, a))
    }

    /// Fires every deadline due at `now` in every compartment.
    pub fn tick(&mut self, now: Ms, sink: &mut impl ActionSink) {
        self.advance(now);
        for i in 0..N {
            let _ = self.apply(i, Event::Tick, sink);
        }
    }

    /// Feeds a hardware, user or operator event to one compartment. Reservations and opens go
    /// through [`Locker::reserve`], [`Locker::deposit`], [`Locker::pickup`], [`Locker::retrieve`],
    /// [`Locker::reopen`] and [`Locker::remote_open`] instead, so that allocation, roles and rate
    /// limits cannot be bypassed, and `Boot` through [`Locker::boot`].
    ///
    /// # Errors
    ///
    /// [`Refusal::CabinetOnly`] for `Reserve` and `Open`, and for `Boot` (the whole controller
    /// boots: [`Locker::boot`]), [`Refusal::NoSuchCompartment`], or the compartment's own refusal.
    pub fn handle(&mut self, now: Ms, index: usize, event: Event, sink: &mut impl ActionSink) -> Result<(), Refusal> {
        if matches!(event, Event::Reserve { .. } | Event::Open { .. } | Event::Boot { .. }) {
            return Err(Refusal::CabinetOnly);
        }
        if index >= N {
            return Err(Refusal::NoSuchCompartment);
        }
        self.advance(now);
        // Time moved for every compartment: their deadlines fire too (the target's fire inside
        // its own `handle`, after the outputs went off for a boot or a board loss).
        for i in (0..N).filter(|i| *i != index) {
            let _ = self.apply(i, Event::Tick, sink);
        }
        self.apply(index, event, sink)
    }

    /// Every compartment after a controller boot: readings Unknown, outputs off, interrupted
    /// opens reported and never replayed, deadlines extended by the downtime since `down_since`.
    pub fn boot(&mut self, now: Ms, down_since: Ms, sink: &mut impl ActionSink) {
        self.advance(now);
        for i in 0..N {
            let _ = self.apply(i, Event::Boot { down_since }, sink);
        }
    }

    /// Reserves the best-fitting allocatable compartment for `parcel`: the smallest size that
    /// fits, lowest index among equals. Returns its index.
    ///
    /// # Errors
    ///
    /// [`Refusal::ParcelInUse`] if the id is already held here or is in a re-open window (I1),
    /// [`Refusal::NoSuitableCompartment`] if nothing fits (F13).
    pub fn reserve(
        &mut self,
        now: Ms,
        size: Size,
        parcel: Parcel,
        sink: &mut impl ActionSink,
    ) -> Result<usize, Refusal> {
        self.tick(now, sink);
        if self.parcel_in_use(parcel.id) {
            return Err(Refusal::ParcelInUse);
        }
        let best = self
            .compartments
            .iter()
            .enumerate()
            .filter(|(_, c)| c.size() >= size && c.is_allocatable())
            .min_by_key(|(i, c)| (c.size(), *i))
            .map(|(i, _)| i)
            .ok_or(Refusal::NoSuitableCompartment)?;
        let expiry = self.now.saturating_add(self.config.reservation_ttl_ms);
        self.apply(best, Event::Reserve { parcel, expiry }, sink)?;
        Ok(best)
    }

    /// Opens the compartment reserved for `parcel` for its deposit (a courier for an inbound
    /// parcel, the customer for an outbound one). Returns its index.
    ///
    /// # Errors
    ///
    /// [`Refusal::UnknownParcel`] if no reservation holds it, [`Refusal::WrongRole`], or the
    /// compartment's refusal.
    pub fn deposit(
        &mut self,
        now: Ms,
        parcel: ParcelId,
        role: Role,
        sink: &mut impl ActionSink,
    ) -> Result<usize, Refusal> {
        self.tick(now, sink);
        let index = self.find(parcel).ok_or(Refusal::UnknownParcel)?;
        let Some(State::Reserved { parcel: p, .. }) = self.state_of(index) else {
            return Err(Refusal::UnknownParcel);
        };
        let allowed = match p.direction {
            Direction::Inbound => Role::Courier,
            Direction::Outbound => Role::Customer,
        };
        if role != allowed {
            return Err(Refusal::WrongRole);
        }
        self.open_local(index, Purpose::Deposit, sink)
    }

    /// Reserve and open in one step (a courier at the terminal without a booking, or a customer
    /// sending a parcel when `parcel.direction` is outbound). Returns the index.
    ///
    /// # Errors
    ///
    /// As [`Locker::reserve`] and [`Locker::deposit`]; a failed open drops the reservation.
    pub fn drop_off(
        &mut self,
        now: Ms,
        size: Size,
        parcel: Parcel,
        sink: &mut impl ActionSink,
    ) -> Result<usize, Refusal> {
        let index = self.reserve(now, size, parcel, sink)?;
        let role = match parcel.direction {
            Direction::Inbound => Role::Courier,
            Direction::Outbound => Role::Customer,
        };
        match self.deposit(now, parcel.id, role, sink) {
            Ok(i) => Ok(i),
            Err(e) => {
                let _ = self.apply(index, Event::CancelReservation, sink);
                Err(e)
            }
        }
    }

    /// Opens the compartment holding `parcel` for its pickup: the recipient for an inbound
    /// parcel, a courier collecting an outbound one. Also retries a jammed pickup (F1).
    ///
    /// # Errors
    ///
    /// [`Refusal::UnknownParcel`], [`Refusal::WrongRole`], or the compartment's refusal.
    pub fn pickup(
        &mut self,
        now: Ms,
        parcel: ParcelId,
        role: Role,
        sink: &mut impl ActionSink,
    ) -> Result<usize, Refusal> {
        self.tick(now, sink);
        let index = self.find(parcel).ok_or(Refusal::UnknownParcel)?;
        let held = self.state_of(index).and_then(|s| s.held()).ok_or(Refusal::NotAllowedInState)?;
        let allowed = match held.parcel.direction {
            Direction::Inbound => Role::Customer,
            Direction::Outbound => Role::Courier,
        };
        if role != allowed {
            return Err(Refusal::WrongRole);
        }
        self.open_local(index, Purpose::Pickup, sink)
    }

    /// Opens the compartment of an expired parcel for a courier's retrieval.
    ///
    /// # Errors
    ///
    /// [`Refusal::UnknownParcel`], or the compartment's refusal (not expired).
    pub fn retrieve(&mut self, now: Ms, parcel: ParcelId, sink: &mut impl ActionSink) -> Result<usize, Refusal> {
        self.tick(now, sink);
        let index = self.find(parcel).ok_or(Refusal::UnknownParcel)?;
        self.open_local(index, Purpose::Retrieval, sink)
    }

    /// Re-opens the compartment a parcel was just picked up from, inside the re-open window.
    ///
    /// # Errors
    ///
    /// [`Refusal::UnknownParcel`] if no open window is for this parcel.
    pub fn reopen(&mut self, now: Ms, parcel: ParcelId, sink: &mut impl ActionSink) -> Result<usize, Refusal> {
        self.tick(now, sink);
        let index = self
            .compartments
            .iter()
            .position(|c| c.reopen_window().is_some_and(|r| r.held.parcel.id == parcel))
            .ok_or(Refusal::UnknownParcel)?;
        self.open_local(index, Purpose::Reopen, sink)
    }

    fn open_local(&mut self, index: usize, purpose: Purpose, sink: &mut impl ActionSink) -> Result<usize, Refusal> {
        let txn = self.local_txn();
        self.apply(index, Event::Open { txn, purpose }, sink)?;
        Ok(index)
    }

    /// An operator's remote open carrying the cloud's transaction id. One compartment counts
    /// against the rate limit; all compartments need a confirmation at the locker and then are
    /// not rate limited (a person is there). Returns how many pulses were sent.
    ///
    /// # Errors
    ///
    /// [`Refusal::NeedsLocalConfirmation`], [`Refusal::RateLimited`], or for one compartment
    /// its refusal (a duplicate transaction among them).
    pub fn remote_open(
        &mut self,
        now: Ms,
        target: RemoteTarget,
        txn: TxnId,
        sink: &mut impl ActionSink,
    ) -> Result<usize, Refusal> {
        self.tick(now, sink);
        match target {
            RemoteTarget::All { local_confirmation: false } => Err(Refusal::NeedsLocalConfirmation),
            RemoteTarget::All { local_confirmation: true } => {
                let mut opened = 0;
                for i in 0..N {
                    if self.apply(i, Event::Open { txn, purpose: Purpose::Operator }, sink).is_ok() {
                        opened += 1;
                    }
                }
                Ok(opened)
            }
            RemoteTarget::One(index) => {
                if index >= N {
                    return Err(Refusal::NoSuchCompartment);
                }
                if self.now.saturating_sub(self.remote_window_start) >= self.config.remote_open_period_ms {
                    self.remote_window_start = self.now;
                    self.remote_count = 0;
                }
                if self.remote_count >= self.config.remote_open_limit {
                    return Err(Refusal::RateLimited);
                }
                self.apply(index, Event::Open { txn, purpose: Purpose::Operator }, sink)?;
                self.remote_count = self.remote_count.saturating_add(1);
                Ok(1)
            }
        }
    }

    /// Feeds the locker's canonical form to `h` (times relative to now, local transaction ids
    /// relative to the counter): equal for states that differ only by when they were reached.
    /// Used to deduplicate states in exhaustive exploration.
    pub fn canonical_hash<H: Hasher>(&self, h: &mut H) {
        self.config.hash(h);
        for c in &self.compartments {
            c.canonical_hash(self.now, self.next_txn, h);
        }
        let since = self.now.saturating_sub(self.remote_window_start);
        let window_active = since < self.config.remote_open_period_ms;
        window_active.hash(h);
        if window_active {
            since.hash(h);
            self.remote_count.hash(h);
        }
    }
}
