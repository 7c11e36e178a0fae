//! One compartment: observed layer, business state, pending open, alarms, and the transition
//! function `handle(now, event) -> actions`.

use core::hash::{Hash, Hasher};

use super::action::{Action, Alarm, Notice, Report};
use super::config::Config;
use super::event::Event;
use super::fees::fee;
use super::observed::{Door, Link, Observed, Presence};
use super::refusal::Refusal;
use super::state::{Assignment, FaultReason, Purpose, State};
use super::types::{Ms, Role, Size, TxnId};

/// How many recent transaction ids a compartment remembers to refuse duplicates (F11).
pub const RECENT_TXNS: usize = 4;

/// A pulse was sent; the door has not been seen open yet (F2: sent is not opened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PendingOpen {
    /// The open's transaction.
    pub txn: TxnId,
    /// What it is for.
    pub purpose: Purpose,
    /// Pulses sent so far.
    pub attempt: u8,
    /// The board acknowledged the latest pulse.
    pub acked: bool,
    /// When the door must have been seen open.
    pub deadline: Ms,
}

/// The short window after a pickup in which the recipient may re-open (invariant I7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReopenWindow {
    /// The parcel that was picked up.
    pub held: Assignment,
    /// When the window opened.
    pub from: Ms,
    /// When it closes.
    pub until: Ms,
}

/// What the user said during a pickup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum UserReport {
    Missing,
    StillThere,
}

/// One compartment's complete state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Compartment {
    pub(crate) size: Size,
    pub(crate) presence_sensor: bool,
    pub(crate) observed: Observed,
    pub(crate) state: State,
    pub(crate) pending: Option<PendingOpen>,
    pub(crate) ajar_deadline: Option<Ms>,
    pub(crate) alarms: u8,
    pub(crate) reopen: Option<ReopenWindow>,
    pub(crate) recent: [Option<TxnId>; RECENT_TXNS],
    pub(crate) recent_next: u8,
    pub(crate) declared: Option<bool>,
    user_report: Option<UserReport>,
    pub(crate) reopened: bool,
}

impl Compartment {
    /// A compartment as it is before the first boot: Vacant, every reading Unknown, so it is not
    /// allocatable until its door is read closed (invariant I5).
    #[must_use]
    pub const fn new(size: Size, presence_sensor: bool) -> Self {
        Self {
            size,
            presence_sensor,
            observed: Observed::unknown(Link::Online),
            state: State::Vacant,
            pending: None,
            ajar_deadline: None,
            alarms: 0,
            reopen: None,
            recent: [None; RECENT_TXNS],
            recent_next: 0,
            declared: None,
            user_report: None,
            reopened: false,
        }
    }

    /// Its size.
    #[must_use]
    pub const fn size(&self) -> Size {
        self.size
    }

    /// True if it has a parcel presence sensor.
    #[must_use]
    pub const fn has_presence_sensor(&self) -> bool {
        self.presence_sensor
    }

    /// The observed layer.
    #[must_use]
    pub const fn observed(&self) -> Observed {
        self.observed
    }

    /// The business state.
    #[must_use]
    pub const fn state(&self) -> State {
        self.state
    }

    /// The open in progress (pulse sent, door not yet seen open), if any.
    #[must_use]
    pub const fn pending(&self) -> Option<PendingOpen> {
        self.pending
    }

    /// The re-open window after a pickup, if one is open.
    #[must_use]
    pub const fn reopen_window(&self) -> Option<ReopenWindow> {
        self.reopen
    }

    /// When the door-ajar alarm fires (or fired) for the current open door.
    #[must_use]
    pub const fn ajar_deadline(&self) -> Option<Ms> {
        self.ajar_deadline
    }

    /// True if `alarm` is raised.
    #[must_use]
    pub const fn alarm(&self, alarm: Alarm) -> bool {
        self.alarms & alarm.bit() != 0
    }

    /// True if a new reservation may be placed here: Vacant, board online, door read closed, no
    /// parcel seen, no alarm, no open in progress, no re-open window (invariant I5).
    #[must_use]
    pub fn is_allocatable(&self) -> bool {
        matches!(self.state, State::Vacant)
            && self.observed.link == Link::Online
            && self.observed.door == Door::Closed
            && self.observed.presence != Presence::Occupied
            && self.alarms == 0
            && self.pending.is_none()
            && self.reopen.is_none()
    }

    /// The earliest deadline at which [`Event::Tick`] changes something, if any. No timer fires
    /// by itself: the caller sends `Tick` at (or after) this time.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Ms> {
        let mut next: Option<Ms> = None;
        let mut consider = |t: Ms| next = Some(next.map_or(t, |n| n.min(t)));
        if let Some(p) = self.pending {
            consider(p.deadline);
        } else {
            match self.state {
                State::Reserved { expiry, .. } => consider(expiry),
                State::Occupied { held } => consider(held.deadline),
                _ => {}
            }
        }
        if let (Door::Open, Some(t)) = (self.observed.door, self.ajar_deadline)
            && !self.alarm(Alarm::DoorAjar)
        {
            consider(t);
        }
        if let Some(r) = self.reopen {
            consider(r.until);
        }
        next
    }

    /// True if `purpose` may open the compartment in its current state.
    #[must_use]
    pub fn permits(&self, purpose: Purpose) -> bool {
        match purpose {
            Purpose::Deposit => matches!(self.state, State::Reserved { .. }),
            Purpose::Pickup => matches!(
                self.state,
                State::Occupied { .. } | State::Faulted { reason: FaultReason::Jammed, held: Some(_), .. }
            ),
            Purpose::Retrieval => matches!(self.state, State::Expired { .. }),
            Purpose::Reopen => matches!(self.state, State::Vacant) && self.reopen.is_some(),
            Purpose::Operator => !self.state.is_open_window(),
        }
    }

    /// Applies one event at time `now` (deadlines at or before `now` fire first), sending the
    /// resulting actions to `out`.
    ///
    /// # Errors
    ///
    /// A [`Refusal`] when the event does not apply; the state is then unchanged, except that
    /// timers due at `now` have fired and a duplicate transaction is reported.
    pub fn handle(
        &mut self,
        config: &Config,
        now: Ms,
        event: Event,
        out: &mut impl FnMut(Action),
    ) -> Result<(), Refusal> {
        if matches!(event, Event::Boot { .. } | Event::BoardOffline | Event::Door(_)) {
            // Outputs go off first: a retry that fell due while the power was off (or the board
            // unreachable) must not fire as a replay (F9, F14). A door reading is evidence of
            // what already happened: a door seen open ends its open before a retry could fire.
            let r = self.apply(config, now, event, out);
            self.fire_timers(config, now, out);
            return r;
        }
        self.fire_timers(config, now, out);
        self.apply(config, now, event, out)
    }

    fn apply(&mut self, config: &Config, now: Ms, event: Event, out: &mut impl FnMut(Action)) -> Result<(), Refusal> {
        match event {
            Event::Tick => Ok(()),
            Event::Reserve { parcel, expiry } => {
                if !self.is_allocatable() {
                    return Err(Refusal::NotAllocatable);
                }
                self.state = State::Reserved { parcel, expiry };
                Ok(())
            }
            Event::CancelReservation => match self.state {
                State::Reserved { parcel, .. } if self.pending.is_none() => {
                    self.state = State::Vacant;
                    out(Action::Notify(Notice::ReservationLost(parcel.id)));
                    Ok(())
                }
                _ => Err(Refusal::NotAllowedInState),
            },
            Event::Open { txn, purpose } => self.open(config, now, txn, purpose, out),
            Event::PulseAcked(txn) => {
                if let Some(p) = self.pending.as_mut()
                    && p.txn == txn
                {
                    p.acked = true;
                }
                Ok(())
            }
            Event::Door(door) => {
                self.online()?;
                self.door(config, now, door, out);
                Ok(())
            }
            Event::Lock(lock) => {
                // Lock feedback is recorded, never taken as "door opened" (F2).
                self.online()?;
                self.observed.lock = lock;
                Ok(())
            }
            Event::Presence(presence) => {
                self.online()?;
                if !self.presence_sensor {
                    return Err(Refusal::NoSensor);
                }
                self.presence(presence, out);
                Ok(())
            }
            Event::SensorFault => {
                self.online()?;
                self.raise(Alarm::SensorFault, out);
                if self.pending.is_none()
                    && !self.state.is_open_window()
                    && !matches!(self.state, State::OutOfService { .. })
                {
                    self.fault(FaultReason::SensorFault, now, out);
                }
                Ok(())
            }
            Event::DepositDeclared(done) => match self.state {
                State::DepositOpen { .. } => {
                    self.declared = Some(done);
                    Ok(())
                }
                _ => Err(Refusal::NotAllowedInState),
            },
            Event::ReportMissing => match self.state {
                State::PickupOpen { held, .. } => {
                    self.user_report = Some(UserReport::Missing);
                    out(Action::Report(Report::ReportedMissing(held.parcel.id)));
                    Ok(())
                }
                _ => Err(Refusal::NotAllowedInState),
            },
            Event::ReportStillThere => match (self.state, self.reopen) {
                (State::PickupOpen { held, .. }, _) => {
                    self.user_report = Some(UserReport::StillThere);
                    out(Action::Report(Report::ReportedStillThere(held.parcel.id)));
                    Ok(())
                }
                (State::Vacant, Some(_)) if self.pending.is_some() => Err(Refusal::Busy),
                (State::Vacant, Some(r)) => {
                    self.reopen = None;
                    out(Action::Report(Report::ReportedStillThere(r.held.parcel.id)));
                    self.inspect(Some(r.held), out);
                    Ok(())
                }
                _ => Err(Refusal::NotAllowedInState),
            },
            Event::BoardOffline => {
                if self.observed.link == Link::Offline {
                    return Ok(());
                }
                self.board_lost(config, now, Link::Offline, out);
                self.raise(Alarm::BoardOffline, out);
                if matches!(
                    self.state,
                    State::Vacant | State::Reserved { .. } | State::Occupied { .. } | State::Expired { .. }
                ) {
                    // Not Vacant while nobody can see the door (F8).
                    self.fault(FaultReason::BoardOffline, now, out);
                }
                Ok(())
            }
            Event::BoardOnline => {
                if self.observed.link == Link::Offline {
                    self.observed.link = Link::Online;
                    self.clear(Alarm::BoardOffline, out);
                }
                Ok(())
            }
            Event::Boot { down_since } => {
                self.boot(config, now, down_since, out);
                Ok(())
            }
            Event::MarkOutOfService(reason) => {
                if self.pending.is_some() || self.state.is_open_window() {
                    return Err(Refusal::Busy);
                }
                self.state = match self.state {
                    State::OutOfService { held, since, .. } => State::OutOfService { reason, held, since },
                    other => {
                        self.lose_reservation(out);
                        State::OutOfService { reason, held: other.held(), since: now }
                    }
                };
                self.reopen = None;
                Ok(())
            }
            Event::Restore => {
                self.online()?;
                match self.state {
                    State::OutOfService { held, since, .. } => {
                        self.state = match held {
                            Some(h) => settle(extend(h, now.saturating_sub(since)), now, out),
                            None => State::Vacant,
                        };
                        Ok(())
                    }
                    _ => Err(Refusal::NotAllowedInState),
                }
            }
            Event::OperatorClear { keep_parcel } => {
                self.online()?;
                if self.pending.is_some() {
                    // Changing the state under an open in progress could strand it (I2).
                    return Err(Refusal::Busy);
                }
                let fault_alarms = [Alarm::Tamper, Alarm::Jammed, Alarm::SensorFault];
                let (held, down) = match self.state {
                    State::NeedsInspection { held } => (held, 0),
                    State::Faulted { held, since, .. } => (held, now.saturating_sub(since)),
                    _ if fault_alarms.iter().any(|a| self.alarm(*a)) => {
                        // Elsewhere it only acknowledges the fault alarms.
                        for a in fault_alarms {
                            self.clear(a, out);
                        }
                        return Ok(());
                    }
                    _ => return Err(Refusal::NotAllowedInState),
                };
                for a in fault_alarms {
                    self.clear(a, out);
                }
                self.state = match (held, keep_parcel) {
                    (Some(h), true) => settle(extend(h, down), now, out),
                    (Some(h), false) => {
                        out(Action::Report(Report::AssignmentDropped(h.parcel.id)));
                        State::Vacant
                    }
                    (None, _) => State::Vacant,
                };
                Ok(())
            }
            Event::ExtendDeadline(by) => match self.state {
                _ if self.pending.is_some() => Err(Refusal::Busy),
                State::Occupied { held } | State::Expired { held } => {
                    let mut h = held;
                    h.deadline = h.deadline.saturating_add(by);
                    self.state =
                        if h.deadline > now { State::Occupied { held: h } } else { State::Expired { held: h } };
                    Ok(())
                }
                _ => Err(Refusal::NotAllowedInState),
            },
        }
    }

    fn online(&self) -> Result<(), Refusal> {
        if self.observed.link == Link::Offline { Err(Refusal::Offline) } else { Ok(()) }
    }

    fn raise(&mut self, alarm: Alarm, out: &mut impl FnMut(Action)) {
        if !self.alarm(alarm) {
            self.alarms |= alarm.bit();
            out(Action::RaiseAlarm(alarm));
        }
    }

    fn clear(&mut self, alarm: Alarm, out: &mut impl FnMut(Action)) {
        if self.alarm(alarm) {
            self.alarms &= !alarm.bit();
            out(Action::ClearAlarm(alarm));
        }
    }

    fn remember(&mut self, txn: TxnId) {
        let slot = usize::from(self.recent_next) % RECENT_TXNS;
        if let Some(s) = self.recent.get_mut(slot) {
            *s = Some(txn);
        }
        self.recent_next = u8::try_from((slot + 1) % RECENT_TXNS).unwrap_or(0);
    }

    /// True if `txn` was used on this compartment recently.
    #[must_use]
    pub fn seen(&self, txn: TxnId) -> bool {
        self.recent.contains(&Some(txn))
    }

    fn lose_reservation(&mut self, out: &mut impl FnMut(Action)) {
        if let State::Reserved { parcel, .. } = self.state {
            out(Action::Notify(Notice::ReservationLost(parcel.id)));
        }
    }

    fn fault(&mut self, reason: FaultReason, now: Ms, out: &mut impl FnMut(Action)) {
        self.lose_reservation(out);
        let held = self.state.held();
        self.state = State::Faulted { reason, held, since: now };
        self.reopen = None;
        out(Action::Report(Report::Fault(reason)));
    }

    fn inspect(&mut self, held: Option<Assignment>, out: &mut impl FnMut(Action)) {
        self.state = State::NeedsInspection { held };
        self.reopen = None;
        out(Action::Report(Report::NeedsInspection));
    }

    fn open(
        &mut self,
        config: &Config,
        now: Ms,
        txn: TxnId,
        purpose: Purpose,
        out: &mut impl FnMut(Action),
    ) -> Result<(), Refusal> {
        if self.seen(txn) {
            out(Action::Report(Report::DuplicateRefused(txn)));
            return Err(Refusal::Duplicate);
        }
        self.online()?;
        if self.pending.is_some() {
            return Err(Refusal::Busy);
        }
        if !self.permits(purpose) {
            return Err(Refusal::NotAllowedInState);
        }
        self.remember(txn);
        self.pending = Some(PendingOpen {
            txn,
            purpose,
            attempt: 1,
            acked: false,
            deadline: now.saturating_add(config.open_detect_ms),
        });
        out(Action::Pulse { txn, attempt: 1, ms: config.pulse_ms.min(config.pulse_max_ms) });
        Ok(())
    }

    fn fire_timers(&mut self, config: &Config, now: Ms, out: &mut impl FnMut(Action)) {
        if let Some(p) = self.pending
            && p.deadline <= now
        {
            if p.acked && p.attempt < config.max_open_attempts {
                // The board took the pulse but the door stayed shut: a bounded retry (F1).
                let attempt = p.attempt.saturating_add(1);
                self.pending = Some(PendingOpen {
                    attempt,
                    acked: false,
                    deadline: now.saturating_add(config.open_detect_ms),
                    ..p
                });
                out(Action::Pulse { txn: p.txn, attempt, ms: config.pulse_ms.min(config.pulse_max_ms) });
            } else if p.acked {
                self.pending = None;
                self.raise(Alarm::Jammed, out);
                if !matches!(self.state, State::OutOfService { .. }) {
                    self.fault(FaultReason::Jammed, now, out);
                }
            } else {
                // No acknowledgement: the outcome is unknown and is never resent by itself.
                self.pending = None;
                out(Action::Report(Report::OpenOutcomeUnknown(p.txn)));
            }
        }
        if self.pending.is_none() {
            match self.state {
                State::Reserved { parcel, expiry } if expiry <= now || self.observed.door == Door::Unknown => {
                    // Lapsed, or its open ended while the door could not be read (I5).
                    self.state = State::Vacant;
                    out(Action::Notify(Notice::ReservationLost(parcel.id)));
                }
                State::Occupied { held } if held.deadline <= now => {
                    // Expired is still occupied: a timer never frees a compartment (I3, F15).
                    self.state = State::Expired { held };
                    out(Action::Notify(Notice::PickupExpired(held.parcel.id)));
                }
                _ => {}
            }
        }
        if let (Door::Open, Some(t)) = (self.observed.door, self.ajar_deadline)
            && t <= now
            && !self.alarm(Alarm::DoorAjar)
        {
            self.raise(Alarm::DoorAjar, out);
            out(Action::Notify(Notice::CloseTheDoor));
        }
        if let Some(r) = self.reopen
            && r.until <= now
            && !self.pending.is_some_and(|p| p.purpose == Purpose::Reopen)
        {
            // A re-open started inside the window keeps it until that open ends.
            self.reopen = None;
        }
    }

    fn door(&mut self, config: &Config, now: Ms, door: Door, out: &mut impl FnMut(Action)) {
        let prev = self.observed.door;
        if prev == door {
            return;
        }
        self.observed.door = door;
        match door {
            Door::Open => self.door_opened(config, now, prev, out),
            Door::Closed => {
                self.ajar_deadline = None;
                self.clear(Alarm::DoorAjar, out);
                if self.state.is_open_window() {
                    self.door_closed_in_window(config, now, out);
                } else if prev == Door::Unknown && self.pending.is_none() {
                    self.reconcile(now, out);
                }
            }
            Door::Unknown => {
                self.ajar_deadline = None;
                self.clear(Alarm::DoorAjar, out);
                self.window_lost(config, now, out);
                if matches!(self.state, State::Reserved { .. }) && self.pending.is_none() {
                    // Nothing stays assigned to a compartment nobody can see (I5).
                    self.lose_reservation(out);
                    self.state = State::Vacant;
                }
            }
        }
    }

    fn door_opened(&mut self, config: &Config, now: Ms, prev: Door, out: &mut impl FnMut(Action)) {
        if let Some(p) = self.pending
            && self.permits(p.purpose)
        {
            self.pending = None;
            out(Action::Report(Report::Opened(p.txn)));
            self.ajar_deadline = Some(now.saturating_add(config.door_open_max_ms));
            self.declared = None;
            self.user_report = None;
            self.reopened = false;
            self.clear(Alarm::Jammed, out);
            let txn = p.txn;
            let held_now = self.state.held();
            self.state = match (p.purpose, self.state, held_now) {
                (Purpose::Deposit, State::Reserved { parcel, .. }, _) => State::DepositOpen { txn, parcel },
                (Purpose::Pickup, _, Some(held)) => State::PickupOpen { txn, held },
                (Purpose::Retrieval, _, Some(held)) => {
                    State::RetrievalOpen { txn, by: Role::Courier, held: Some(held) }
                }
                (Purpose::Reopen, _, _) => match self.reopen.take() {
                    Some(r) => {
                        self.reopened = true;
                        State::PickupOpen { txn, held: r.held }
                    }
                    None => State::RetrievalOpen { txn, by: Role::Operator, held: None },
                },
                (_, _, held) => {
                    self.lose_reservation(out);
                    State::RetrievalOpen { txn, by: Role::Operator, held }
                }
            };
            self.reopen = None;
            return;
        }
        if self.state.is_open_window() {
            return;
        }
        // No open window: the door alarm is due now (invariant I4).
        self.ajar_deadline = Some(now);
        self.raise(Alarm::DoorAjar, out);
        out(Action::Notify(Notice::CloseTheDoor));
        if matches!(self.state, State::OutOfService { .. }) {
            return;
        }
        if prev == Door::Closed {
            // Opened with no authorised open: forced open, faulty lock or sensor (F12).
            self.raise(Alarm::Tamper, out);
            self.fault(FaultReason::Tamper, now, out);
        } else if !matches!(self.state, State::NeedsInspection { .. } | State::Faulted { .. })
            || matches!(self.state, State::Faulted { reason: FaultReason::BoardOffline, .. })
        {
            // Found open after a boot or a board loss: contents unknown (F5).
            self.lose_reservation(out);
            let held = self.state.held();
            self.inspect(held, out);
        }
    }

    fn door_closed_in_window(&mut self, config: &Config, now: Ms, out: &mut impl FnMut(Action)) {
        let presence = if self.presence_sensor { self.observed.presence } else { Presence::Unknown };
        let report = self.user_report.take();
        let declared = self.declared.take();
        let reopened = core::mem::replace(&mut self.reopened, false);
        match self.state {
            State::DepositOpen { parcel, .. } => {
                let held = Assignment {
                    parcel,
                    deposited_at: now,
                    deadline: now.saturating_add(config.pickup_window_ms),
                    paused: 0,
                };
                match (presence, declared) {
                    (Presence::Occupied, Some(false)) | (Presence::Empty, Some(true)) => {
                        self.inspect(Some(held), out);
                    }
                    (Presence::Occupied, _) | (Presence::Unknown, Some(true)) => {
                        self.state = State::Occupied { held };
                        out(Action::Report(Report::Deposited(parcel.id)));
                        out(Action::Notify(Notice::ReadyForPickup(parcel.id)));
                    }
                    (Presence::Empty, _) | (Presence::Unknown, Some(false)) => {
                        self.state = State::Vacant;
                        out(Action::Report(Report::DepositCancelled(parcel.id)));
                    }
                    (Presence::Unknown, None) => self.inspect(Some(held), out),
                }
            }
            State::PickupOpen { held, .. } => {
                if presence == Presence::Occupied || report == Some(UserReport::StillThere) {
                    self.inspect(Some(held), out);
                } else {
                    self.state = State::Vacant;
                    if !reopened && report != Some(UserReport::Missing) {
                        let amount = fee(&config.fees, held.deposited_at, held.paused, now);
                        out(Action::Bill { parcel: held.parcel.id, amount });
                        out(Action::Notify(Notice::PickedUp(held.parcel.id)));
                        self.reopen =
                            Some(ReopenWindow { held, from: now, until: now.saturating_add(config.reopen_window_ms) });
                    }
                }
            }
            State::RetrievalOpen { held, .. } => {
                if presence == Presence::Occupied {
                    self.inspect(held, out);
                } else {
                    self.state = State::Vacant;
                    if let Some(h) = held {
                        out(Action::Report(Report::Retrieved(h.parcel.id)));
                    }
                }
            }
            _ => {}
        }
    }

    /// First door reading "closed" after a boot or a board loss: the books meet the sensors, and
    /// conflicting evidence goes to inspection.
    fn reconcile(&mut self, now: Ms, out: &mut impl FnMut(Action)) {
        let seen = if self.presence_sensor { self.observed.presence } else { Presence::Unknown };
        match (self.state, seen) {
            (State::Faulted { reason: FaultReason::BoardOffline, held, since }, _) => match (held, seen) {
                (Some(h), Presence::Empty) => self.inspect(Some(h), out),
                (None, Presence::Occupied) => self.inspect(None, out),
                (Some(h), _) => self.state = settle(extend(h, now.saturating_sub(since)), now, out),
                (None, _) => self.state = State::Vacant,
            },
            (State::Occupied { held } | State::Expired { held }, Presence::Empty) => {
                self.inspect(Some(held), out);
            }
            (State::Vacant | State::Reserved { .. }, Presence::Occupied) => {
                self.lose_reservation(out);
                self.inspect(None, out);
            }
            _ => {}
        }
    }

    fn presence(&mut self, presence: Presence, out: &mut impl FnMut(Action)) {
        self.observed.presence = presence;
        if self.observed.door != Door::Closed || self.pending.is_some() {
            return;
        }
        match (self.state, presence) {
            // A parcel in a "free" compartment (F5).
            (State::Vacant | State::Reserved { .. }, Presence::Occupied) => {
                self.lose_reservation(out);
                self.inspect(None, out);
            }
            // A parcel gone from a closed, occupied compartment (F6).
            (State::Occupied { held } | State::Expired { held }, Presence::Empty) => {
                self.inspect(Some(held), out);
            }
            _ => {}
        }
    }

    fn board_lost(&mut self, config: &Config, now: Ms, link: Link, out: &mut impl FnMut(Action)) {
        if let Some(p) = self.pending.take() {
            out(Action::Report(Report::OpenInterrupted(p.txn)));
        }
        self.observed = Observed::unknown(link);
        self.ajar_deadline = None;
        self.clear(Alarm::DoorAjar, out);
        self.reopen = None;
        self.declared = None;
        self.user_report = None;
        self.reopened = false;
        self.window_lost(config, now, out);
    }

    /// The door of an open window can no longer be seen: its outcome is unknown (F5).
    fn window_lost(&mut self, config: &Config, now: Ms, out: &mut impl FnMut(Action)) {
        self.declared = None;
        self.user_report = None;
        self.reopened = false;
        match self.state {
            State::DepositOpen { parcel, .. } => {
                let held = Assignment {
                    parcel,
                    deposited_at: now,
                    deadline: now.saturating_add(config.pickup_window_ms),
                    paused: 0,
                };
                self.inspect(Some(held), out);
            }
            State::PickupOpen { held, .. } => self.inspect(Some(held), out),
            State::RetrievalOpen { held, .. } => self.inspect(held, out),
            _ => {}
        }
    }

    fn boot(&mut self, config: &Config, now: Ms, down_since: Ms, out: &mut impl FnMut(Action)) {
        // Outputs are off at boot; an interrupted open is reported, never replayed (F9, F14).
        self.board_lost(config, now, Link::Online, out);
        self.clear(Alarm::BoardOffline, out);
        let down = now.saturating_sub(down_since);
        match self.state {
            State::Reserved { .. } => {
                self.lose_reservation(out);
                self.state = State::Vacant;
            }
            State::Occupied { held } => self.state = settle(extend(held, down), now, out),
            State::Expired { held } => {
                let held = extend(held, down);
                self.state = if held.deadline > now { State::Occupied { held } } else { State::Expired { held } };
            }
            _ => {}
        }
    }

    /// Feeds the compartment's canonical form to `h`: times relative to `now`, local transaction
    /// ids relative to `next_txn`, so states that differ only by when they happened hash alike.
    pub(crate) fn canonical_hash<H: Hasher>(&self, now: Ms, next_txn: u32, h: &mut H) {
        let t = |x: Ms| i128::from(x) - i128::from(now);
        let tx = |x: TxnId| next_txn.wrapping_sub(x.0);
        let assignment = |a: &Assignment, h: &mut H| {
            a.parcel.hash(h);
            t(a.deposited_at).hash(h);
            t(a.deadline).hash(h);
            a.paused.hash(h);
        };
        self.size.hash(h);
        self.presence_sensor.hash(h);
        self.observed.hash(h);
        self.state.kind().hash(h);
        match self.state {
            State::Vacant => {}
            State::Reserved { parcel, expiry } => {
                parcel.hash(h);
                t(expiry).hash(h);
            }
            State::DepositOpen { txn, parcel } => {
                tx(txn).hash(h);
                parcel.hash(h);
            }
            State::Occupied { held } | State::Expired { held } => assignment(&held, h),
            State::PickupOpen { txn, held } => {
                tx(txn).hash(h);
                assignment(&held, h);
            }
            State::RetrievalOpen { txn, by, held } => {
                tx(txn).hash(h);
                by.hash(h);
                held.is_some().hash(h);
                if let Some(a) = held {
                    assignment(&a, h);
                }
            }
            State::NeedsInspection { held } => {
                held.is_some().hash(h);
                if let Some(a) = held {
                    assignment(&a, h);
                }
            }
            State::Faulted { reason, held, since } => {
                reason.hash(h);
                t(since).hash(h);
                held.is_some().hash(h);
                if let Some(a) = held {
                    assignment(&a, h);
                }
            }
            State::OutOfService { reason, held, since } => {
                reason.hash(h);
                t(since).hash(h);
                held.is_some().hash(h);
                if let Some(a) = held {
                    assignment(&a, h);
                }
            }
        }
        self.pending.is_some().hash(h);
        if let Some(p) = self.pending {
            tx(p.txn).hash(h);
            p.purpose.hash(h);
            p.attempt.hash(h);
            p.acked.hash(h);
            t(p.deadline).hash(h);
        }
        self.ajar_deadline.map(t).hash(h);
        self.alarms.hash(h);
        self.reopen.map(|r| (r.held.parcel, t(r.from), t(r.until))).hash(h);
        // Which ids were used matters, not where they sit in the ring.
        let mut recent = self.recent.map(|r| r.map(tx));
        recent.sort_unstable();
        recent.hash(h);
        self.declared.hash(h);
        self.user_report.hash(h);
        self.reopened.hash(h);
    }
}

/// Occupied, or Expired (with its notice) when the deadline has already passed.
fn settle(held: Assignment, now: Ms, out: &mut impl FnMut(Action)) -> State {
    if held.deadline > now {
        State::Occupied { held }
    } else {
        out(Action::Notify(Notice::PickupExpired(held.parcel.id)));
        State::Expired { held }
    }
}

/// `extend(h, d)`: the deadline moves later by the recorded downtime `d` (I6), which also pauses
/// fees.
const fn extend(held: Assignment, down: Ms) -> Assignment {
    Assignment { deadline: held.deadline.saturating_add(down), paused: held.paused.saturating_add(down), ..held }
}
