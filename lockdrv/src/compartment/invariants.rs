//! The invariants I1-I8 of reference/domain.md §4 as executable checks.
//!
//! [`check_invariants`] checks what a single state must satisfy; [`check_step`] checks what one
//! step (state before, state after, actions emitted) must satisfy. Exhaustive exploration,
//! property tests and the fuzz target run both after every event.

use super::action::{Action, Alarm};
use super::event::Event;
use super::fees::fee;
use super::locker::Locker;
use super::observed::{Door, Link, Lock, Presence};
use super::state::{Purpose, State};

/// The invariants of reference/domain.md §4 (paraphrased there; numbered as there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Invariant {
    /// At most one assignment per compartment; no parcel in two compartments.
    I1,
    /// A pulse only for an authorised open in a state that permits it, once per transaction
    /// (bounded retries after an acknowledged pulse), never longer than `pulse_max_ms`.
    I2,
    /// A compartment holding a parcel becomes Vacant only after an authorised open followed by
    /// door closed (and presence not occupied), or an explicit operator action.
    I3,
    /// Door alarm iff the door is open outside an open window and its deadline passed.
    I4,
    /// After a boot or a board loss, readings are Unknown and nothing is assigned until read.
    I5,
    /// Pickup deadlines never shrink and include recorded downtime.
    I6,
    /// Credentials are single use; the re-open window is short and explicit.
    I7,
    /// Fees are the pure fee function of the held parcel, never above the cap.
    I8,
}

/// A broken invariant: which, where, and what was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invariant {invariant:?} broken at compartment {compartment:?}: {what}")]
pub struct Violation {
    /// The invariant.
    pub invariant: Invariant,
    /// The compartment index, if one compartment is at fault.
    pub compartment: Option<usize>,
    /// What was wrong.
    pub what: &'static str,
}

fn fail(invariant: Invariant, compartment: usize, what: &'static str) -> Result<(), Violation> {
    Err(Violation { invariant, compartment: Some(compartment), what })
}

/// Checks every state invariant of `locker`.
///
/// # Errors
///
/// The first [`Violation`] found.
pub fn check_invariants<const N: usize>(locker: &Locker<N>) -> Result<(), Violation> {
    let now = locker.now();
    let config = locker.config();
    for (i, c) in locker.compartments().iter().enumerate() {
        let state = c.state();
        let observed = c.observed();
        // I1: one parcel per compartment (by type) and no parcel in two compartments.
        if let Some(p) = state.parcel() {
            let others = locker
                .compartments()
                .iter()
                .enumerate()
                .filter(|(j, o)| *j != i && o.state().parcel().is_some_and(|q| q.id == p.id));
            if others.count() > 0 {
                return fail(Invariant::I1, i, "parcel held by two compartments");
            }
        }
        // I1 also covers a re-open window: its parcel may still be inside ("still there" puts
        // it back), so no other compartment may hold the same id meanwhile.
        if let Some(r) = c.reopen_window() {
            let id = r.held.parcel.id;
            let elsewhere = locker
                .compartments()
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.state().parcel().is_some_and(|q| q.id == id));
            if elsewhere {
                return fail(Invariant::I1, i, "parcel of a re-open window held by another compartment");
            }
        }
        // I2: an open in progress is authorised, online, counted and bounded.
        if let Some(p) = c.pending() {
            if !c.permits(p.purpose) {
                return fail(Invariant::I2, i, "open in progress in a state that forbids it");
            }
            if observed.link != Link::Online {
                return fail(Invariant::I2, i, "open in progress on an offline board");
            }
            if p.attempt == 0 || p.attempt > config.max_open_attempts {
                return fail(Invariant::I2, i, "pulse attempts out of bounds");
            }
            if !c.seen(p.txn) {
                return fail(Invariant::I2, i, "open in progress with an unrecorded transaction");
            }
        }
        // I4: alarm iff door open outside a window with its deadline passed; an open door
        // outside a window is always alarmed.
        let due = observed.door == Door::Open && c.ajar_deadline().is_some_and(|t| t <= now);
        if c.alarm(Alarm::DoorAjar) != due {
            return fail(Invariant::I4, i, "door-ajar alarm disagrees with door and deadline");
        }
        if observed.door == Door::Open && !state.is_open_window() && !due {
            return fail(Invariant::I4, i, "door open outside an open window without alarm");
        }
        if state.is_open_window() && observed.door != Door::Open {
            return fail(Invariant::I4, i, "open window while the door is not seen open");
        }
        // I5: nothing is seen or assigned through a dead board; an unread door holds nothing new.
        if observed.link == Link::Offline {
            if observed.door != Door::Unknown
                || observed.lock != Lock::Unknown
                || observed.presence != Presence::Unknown
            {
                return fail(Invariant::I5, i, "reading kept while the board is offline");
            }
            if !matches!(state, State::Faulted { .. } | State::NeedsInspection { .. } | State::OutOfService { .. }) {
                return fail(Invariant::I5, i, "offline compartment in a serviceable state");
            }
        }
        if observed.door == Door::Unknown && matches!(state, State::Reserved { .. }) && c.pending().is_none() {
            return fail(Invariant::I5, i, "reservation on a compartment whose door is unread");
        }
        if c.is_allocatable() && observed.door != Door::Closed {
            return fail(Invariant::I5, i, "allocatable without a closed-door reading");
        }
        // I6: the deadline covers the pickup window plus recorded downtime.
        if let Some(h) = state.held() {
            let floor = h.deposited_at.saturating_add(config.pickup_window_ms).saturating_add(h.paused);
            if h.deadline < floor {
                return fail(Invariant::I6, i, "deadline shorter than window plus downtime");
            }
            match state {
                State::Occupied { .. } if c.pending().is_none() && h.deadline <= now => {
                    return fail(Invariant::I6, i, "occupied past its deadline");
                }
                State::Expired { .. } if h.deadline > now => {
                    return fail(Invariant::I6, i, "expired before its deadline");
                }
                _ => {}
            }
        }
        // I7: the re-open window is explicit, short, live, and only on a Vacant compartment.
        if let Some(r) = c.reopen_window() {
            if !matches!(state, State::Vacant) {
                return fail(Invariant::I7, i, "re-open window on a compartment in use");
            }
            let reopening = c.pending().is_some_and(|p| p.purpose == Purpose::Reopen);
            if r.until.saturating_sub(r.from) > config.reopen_window_ms || (r.until <= now && !reopening) {
                return fail(Invariant::I7, i, "re-open window too long or lapsed");
            }
        }
    }
    Ok(())
}

/// Checks what one step must satisfy: `before` and `after` around one event (`None` for a
/// cabinet request such as a reservation or a pickup), with the actions it emitted.
///
/// # Errors
///
/// The first [`Violation`] found.
pub fn check_step<const N: usize>(
    before: &Locker<N>,
    after: &Locker<N>,
    event: Option<&Event>,
    actions: &[(usize, Action)],
) -> Result<(), Violation> {
    let config = after.config();
    let now = after.now();
    if now < before.now() {
        return Err(Violation { invariant: Invariant::I6, compartment: None, what: "time went back" });
    }
    for (i, (b, a)) in before.compartments().iter().zip(after.compartments()).enumerate() {
        let pulses = actions.iter().filter(|(j, act)| *j == i && matches!(act, Action::Pulse { .. })).count();
        if pulses > 1 {
            return fail(Invariant::I2, i, "more than one pulse in one step");
        }
        for (_, act) in actions.iter().filter(|(j, _)| *j == i) {
            match *act {
                Action::Pulse { txn, attempt, ms } => {
                    if ms > config.pulse_max_ms {
                        return fail(Invariant::I2, i, "pulse longer than the maximum");
                    }
                    if matches!(event, Some(Event::Boot { .. })) {
                        return fail(Invariant::I5, i, "pulse on boot (replay)");
                    }
                    if a.observed().link == Link::Offline {
                        return fail(Invariant::I5, i, "pulse to an offline board");
                    }
                    match a.pending() {
                        Some(p) if p.txn == txn && p.attempt == attempt => {}
                        _ => return fail(Invariant::I2, i, "pulse without a matching open"),
                    }
                    if attempt == 1 {
                        if b.seen(txn) {
                            return fail(Invariant::I2, i, "second first-pulse for a transaction");
                        }
                    } else {
                        match b.pending() {
                            Some(p) if p.txn == txn && p.acked && p.attempt + 1 == attempt => {}
                            _ => return fail(Invariant::I2, i, "retry without an acked pulse"),
                        }
                    }
                    if let Some(p) = a.pending()
                        && p.purpose == Purpose::Reopen
                        && attempt == 1
                        && b.reopen_window().is_none_or(|r| r.until <= now)
                    {
                        return fail(Invariant::I7, i, "re-open outside its window");
                    }
                }
                Action::Bill { parcel, amount } => {
                    let State::PickupOpen { held, .. } = b.state() else {
                        return fail(Invariant::I8, i, "bill outside a pickup");
                    };
                    if held.parcel.id != parcel
                        || amount != fee(&config.fees, held.deposited_at, held.paused, now)
                        || amount > config.fees.cap
                    {
                        return fail(Invariant::I8, i, "bill differs from the fee function");
                    }
                }
                _ => {}
            }
        }
        // I3: a compartment that held a parcel becomes Vacant only on sensor evidence after an
        // authorised open, or by an operator.
        let held_before = b.state().held().is_some() || matches!(b.state(), State::DepositOpen { .. });
        if held_before && matches!(a.state(), State::Vacant) {
            let evidence = b.state().is_open_window()
                && a.observed().door == Door::Closed
                && a.observed().presence != Presence::Occupied;
            let operator = matches!(event, Some(Event::OperatorClear { .. } | Event::Restore));
            if !(evidence || operator) {
                return fail(Invariant::I3, i, "freed without sensor evidence or operator");
            }
        }
        // I6: the same parcel's deadline never moves earlier.
        if let (Some(hb), Some(ha)) = (b.state().held(), a.state().held())
            && hb.parcel.id == ha.parcel.id
            && ha.deadline < hb.deadline
        {
            return fail(Invariant::I6, i, "deadline shrank");
        }
        // I5: a boot leaves every reading Unknown and no open in progress.
        if matches!(event, Some(Event::Boot { .. })) {
            let o = a.observed();
            if o.door != Door::Unknown || o.presence != Presence::Unknown || a.pending().is_some() {
                return fail(Invariant::I5, i, "state survived a boot");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Each invariant broken on purpose, and caught.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use crate::compartment::{
        Assignment, CompartmentSpec, Config, Direction, Door, Ms, Parcel, ParcelId, PendingOpen, ReopenWindow, Size,
        TxnId,
    };

    const P: Parcel = Parcel { id: ParcelId(1), direction: Direction::Inbound };

    fn held(now: Ms) -> Assignment {
        let window = Config::default().pickup_window_ms;
        Assignment { parcel: P, deposited_at: now, deadline: now + window, paused: 0 }
    }

    /// A consistent locker: compartment 0 holds P, compartment 1 is free and read closed.
    fn good() -> Locker<2> {
        let spec = CompartmentSpec { size: Size::S, presence_sensor: false };
        let mut l = Locker::new(Config::default(), [spec; 2]);
        l.now = 1_000;
        for c in &mut l.compartments {
            c.observed.door = Door::Closed;
        }
        l.compartments[0].state = State::Occupied { held: held(1_000) };
        check_invariants(&l).unwrap();
        l
    }

    fn broken(l: &Locker<2>) -> Invariant {
        check_invariants(l).unwrap_err().invariant
    }

    fn step_broken(b: &Locker<2>, a: &Locker<2>, e: Option<&Event>, acts: &[(usize, Action)]) -> Invariant {
        check_step(b, a, e, acts).unwrap_err().invariant
    }

    #[test]
    fn i1_same_parcel_in_two_compartments() {
        let mut l = good();
        l.compartments[1].state = State::Occupied { held: held(1_000) };
        assert_eq!(broken(&l), Invariant::I1);
    }

    #[test]
    fn i1_parcel_of_a_reopen_window_held_elsewhere() {
        let mut l = good();
        l.compartments[1].reopen = Some(ReopenWindow { held: held(1_000), from: 1_000, until: 61_000 });
        assert_eq!(broken(&l), Invariant::I1);
    }

    #[test]
    fn i2_open_in_progress_in_a_forbidding_state_or_unrecorded() {
        let mut l = good();
        let pending =
            PendingOpen { txn: TxnId(5), purpose: Purpose::Pickup, attempt: 1, acked: false, deadline: 2_000 };
        l.compartments[1].pending = Some(pending);
        assert_eq!(broken(&l), Invariant::I2, "pickup of a vacant compartment");
        let mut l = good();
        l.compartments[0].pending = Some(pending);
        assert_eq!(broken(&l), Invariant::I2, "transaction not recorded");
    }

    #[test]
    fn i2_pulse_without_open_too_long_or_twice() {
        let b = good();
        let pulse = Action::Pulse { txn: TxnId(5), attempt: 1, ms: 200 };
        assert_eq!(step_broken(&b, &b, None, &[(0, pulse)]), Invariant::I2);
        let mut a = good();
        a.compartments[0].pending =
            Some(PendingOpen { txn: TxnId(5), purpose: Purpose::Pickup, attempt: 1, acked: false, deadline: 2_000 });
        a.compartments[0].recent[0] = Some(TxnId(5));
        check_step(&b, &a, None, &[(0, pulse)]).unwrap();
        let long = Action::Pulse { txn: TxnId(5), attempt: 1, ms: 10_000 };
        assert_eq!(step_broken(&b, &a, None, &[(0, long)]), Invariant::I2);
        let mut b2 = good();
        b2.compartments[0].recent[0] = Some(TxnId(5));
        assert_eq!(step_broken(&b2, &a, None, &[(0, pulse)]), Invariant::I2, "replayed txn");
        assert_eq!(
            step_broken(&b, &a, Some(&Event::Boot { down_since: 0 }), &[(0, pulse)]),
            Invariant::I5,
            "pulse on boot"
        );
    }

    #[test]
    fn i3_timer_frees_an_occupied_compartment() {
        let b = good();
        let mut a = good();
        a.compartments[0].state = State::Vacant;
        assert_eq!(step_broken(&b, &a, Some(&Event::Tick), &[]), Invariant::I3);
        check_step(&b, &a, Some(&Event::OperatorClear { keep_parcel: false }), &[]).unwrap();
    }

    #[test]
    fn i4_open_door_without_alarm_or_alarm_without_open_door() {
        let mut l = good();
        l.compartments[1].observed.door = Door::Open;
        assert_eq!(broken(&l), Invariant::I4);
        let mut l = good();
        l.compartments[1].alarms = Alarm::DoorAjar.bit();
        assert_eq!(broken(&l), Invariant::I4);
    }

    #[test]
    fn i5_reading_kept_or_service_while_offline() {
        let mut l = good();
        l.compartments[1].observed.link = Link::Offline;
        assert_eq!(broken(&l), Invariant::I5, "door reading kept");
        let mut l = good();
        l.compartments[1].observed = crate::compartment::Observed::unknown(Link::Offline);
        assert_eq!(broken(&l), Invariant::I5, "Vacant while offline");
        let mut l = good();
        l.compartments[1].observed.door = Door::Unknown;
        l.compartments[1].state = State::Reserved { parcel: Parcel { id: ParcelId(2), ..P }, expiry: 9_000 };
        assert_eq!(broken(&l), Invariant::I5, "reserved while unread");
    }

    #[test]
    fn i6_short_or_shrinking_deadline() {
        let mut l = good();
        let mut h = held(1_000);
        h.deadline -= 1;
        l.compartments[0].state = State::Occupied { held: h };
        assert_eq!(broken(&l), Invariant::I6);
        let b = good();
        let mut a = good();
        let mut h = held(1_000);
        h.deposited_at -= 10;
        h.deadline -= 10;
        a.compartments[0].state = State::Occupied { held: h };
        assert_eq!(step_broken(&b, &a, None, &[]), Invariant::I6);
    }

    #[test]
    fn i7_reopen_window_in_use_or_too_long() {
        let mut l = good();
        l.compartments[0].reopen = Some(ReopenWindow { held: held(0), from: 1_000, until: 2_000 });
        assert_eq!(broken(&l), Invariant::I7, "window on an occupied compartment");
        let mut l = good();
        let long = Config::default().reopen_window_ms + 2_000;
        // Another parcel than the one compartment 0 holds, so that only the length is wrong.
        let other = Assignment { parcel: Parcel { id: ParcelId(2), ..P }, ..held(0) };
        l.compartments[1].reopen = Some(ReopenWindow { held: other, from: 1_000, until: long });
        assert_eq!(broken(&l), Invariant::I7, "window too long");
    }

    #[test]
    fn i8_bill_differs_from_the_fee_function() {
        let mut b = good();
        b.compartments[0].state = State::PickupOpen { txn: TxnId(5), held: held(1_000) };
        b.compartments[0].observed.door = Door::Open;
        let mut a = good();
        a.compartments[0].state = State::Vacant;
        let bill = |amount| [(0, Action::Bill { parcel: P.id, amount })];
        check_step(&b, &a, Some(&Event::Door(Door::Closed)), &bill(0)).unwrap();
        assert_eq!(step_broken(&b, &a, Some(&Event::Door(Door::Closed)), &bill(1)), Invariant::I8);
    }
}
