//! The failure modes F1-F16 of reference/domain.md §3, each as a named scenario. Every step is
//! checked against every invariant (I1-I8) by the harness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod compartment_common;

use compartment_common::*;
use lockdrv::compartment::*;

fn ev(i: usize, e: Event) -> Step {
    Step::Ev(i, e)
}

/// P1 deposited into compartment 0 (which has a presence sensor).
fn with_p1() -> Locker<2> {
    let mut l = ready2();
    run(
        &mut l,
        &[
            Step::DropOff(Size::S, P1),
            ev(0, Event::Door(Door::Open)),
            ev(0, Event::Presence(Presence::Occupied)),
            ev(0, Event::Door(Door::Closed)),
        ],
    );
    assert!(matches!(l.compartments()[0].state(), State::Occupied { .. }));
    l
}

fn pulses(acts: &[(usize, Action)]) -> Vec<(usize, TxnId, u8)> {
    acts.iter()
        .filter_map(|(i, a)| match a {
            Action::Pulse { txn, attempt, .. } => Some((*i, *txn, *attempt)),
            _ => None,
        })
        .collect()
}

fn kind(l: &Locker<2>, i: usize) -> StateKind {
    l.compartments()[i].state().kind()
}

#[test]
fn f01_jammed_door_retries_bounded_then_faults_keeping_the_parcel() {
    let mut l = with_p1();
    let detect = l.config().open_detect_ms;
    let mut acts = run(&mut l, &[Step::Pickup(P1), Step::Ack(0)]);
    for _ in 1..l.config().max_open_attempts {
        acts.extend(run(&mut l, &[Step::Wait(detect), Step::Ack(0)]));
    }
    acts.extend(run(&mut l, &[Step::Wait(detect)]));
    let p = pulses(&acts);
    assert_eq!(p.len(), usize::from(l.config().max_open_attempts), "{p:?}");
    assert!(p.iter().all(|(_, t, _)| *t == p[0].1), "one transaction for the whole burst");
    let State::Faulted { reason: FaultReason::Jammed, held: Some(h), .. } = l.compartments()[0].state() else {
        panic!("not jammed: {:?}", l.compartments()[0].state());
    };
    assert_eq!(h.parcel, P1, "the assignment is kept");
    assert!(l.compartments()[0].alarm(Alarm::Jammed));
    // The recipient may try again; this time the door opens.
    run(&mut l, &[Step::Pickup(P1), ev(0, Event::Door(Door::Open))]);
    assert_eq!(kind(&l, 0), StateKind::PickupOpen);
    assert!(!l.compartments()[0].alarm(Alarm::Jammed));
}

#[test]
fn f02_pulse_ack_and_lock_feedback_are_not_door_opened() {
    let mut l = with_p1();
    run(&mut l, &[Step::Pickup(P1), Step::Ack(0), ev(0, Event::Lock(Lock::Unlocked))]);
    assert_eq!(kind(&l, 0), StateKind::Occupied);
    assert!(l.compartments()[0].pending().is_some());
    // Without any door reading the open lapses with no state change.
    let acts = run(&mut l, &[Step::Wait(Config::default().open_detect_ms)]);
    assert_eq!(pulses(&acts).len(), 1, "an acked pulse may be retried, not more");
}

#[test]
fn f03_unknown_and_faulty_sensors_are_first_class_and_still_actuate() {
    let mut l = with_p1();
    run(&mut l, &[Step::Boot(1_000)]);
    assert_eq!(l.compartments()[0].observed().door, Door::Unknown);
    assert!(!l.compartments()[1].is_allocatable(), "unread door: not allocatable");
    // A valid pickup still pulses although the door has not been read (Open-Locker #302).
    let acts = run(&mut l, &[Step::Pickup(P1)]);
    assert_eq!(pulses(&acts).len(), 1);
    // A sensor fault on the other compartment takes it out of allocation.
    run(&mut l, &[ev(1, Event::Door(Door::Closed)), ev(1, Event::SensorFault)]);
    assert!(matches!(l.compartments()[1].state(), State::Faulted { reason: FaultReason::SensorFault, .. }));
    assert_eq!(checked(&mut l, Step::Reserve(Size::S, P2)).1, Err(Refusal::NoSuitableCompartment));
}

#[test]
fn f04_door_left_open_raises_the_ajar_alarm_and_blocks_allocation() {
    let mut l = with_p1();
    run(&mut l, &[Step::Pickup(P1), ev(0, Event::Door(Door::Open))]);
    assert_eq!(l.next_deadline(), l.compartments()[0].ajar_deadline());
    let acts = run(&mut l, &[Step::TickToDeadline]);
    assert!(acts.contains(&(0, Action::RaiseAlarm(Alarm::DoorAjar))));
    assert!(acts.contains(&(0, Action::Notify(Notice::CloseTheDoor))));
    assert!(!l.compartments()[0].is_allocatable());
    run(&mut l, &[ev(0, Event::Presence(Presence::Empty))]);
    let acts = run(&mut l, &[ev(0, Event::Door(Door::Closed))]);
    assert!(acts.contains(&(0, Action::ClearAlarm(Alarm::DoorAjar))));
    assert_eq!(kind(&l, 0), StateKind::Vacant);
}

#[test]
fn f05_phantom_parcel_in_a_vacant_compartment_needs_inspection() {
    let mut l = ready2();
    run(&mut l, &[ev(0, Event::Presence(Presence::Occupied))]);
    assert_eq!(kind(&l, 0), StateKind::NeedsInspection);
    // Allocation skips it: the small parcel goes to the medium compartment.
    assert_eq!(checked(&mut l, Step::Reserve(Size::S, P1)).1, Ok(1));
    // Deposit without a sensor and without a declaration: outcome unclear, inspect.
    run(&mut l, &[Step::Deposit(P1), ev(1, Event::Door(Door::Open)), ev(1, Event::Door(Door::Closed))]);
    assert_eq!(kind(&l, 1), StateKind::NeedsInspection);
}

#[test]
fn f06_parcel_missing_or_left_behind_is_escalated() {
    let mut l = with_p1();
    run(&mut l, &[ev(0, Event::Presence(Presence::Empty))]);
    assert_eq!(kind(&l, 0), StateKind::NeedsInspection, "parcel vanished from a closed door");
    let mut l = with_p1();
    let acts = run(
        &mut l,
        &[
            Step::Pickup(P1),
            ev(0, Event::Door(Door::Open)),
            ev(0, Event::ReportStillThere),
            ev(0, Event::Door(Door::Closed)),
        ],
    );
    assert_eq!(kind(&l, 0), StateKind::NeedsInspection);
    assert!(acts.contains(&(0, Action::Report(Report::ReportedStillThere(P1.id)))));
    assert!(!acts.iter().any(|(_, a)| matches!(a, Action::Bill { .. })));
}

#[test]
fn f07_opens_target_only_the_compartment_holding_the_parcel() {
    let mut l = with_p1();
    let acts = run(&mut l, &[Step::Pickup(P1)]);
    assert_eq!(pulses(&acts).iter().map(|p| p.0).collect::<Vec<_>>(), vec![0]);
    let mut sink = |_: usize, _: Action| {};
    assert_eq!(l.handle(0, 9, Event::Tick, &mut sink), Err(Refusal::NoSuchCompartment));
    assert_eq!(l.remote_open(0, RemoteTarget::One(9), T1, &mut sink), Err(Refusal::NoSuchCompartment));
    // The courier cannot pick up the recipient's parcel, nor a stranger an unknown parcel.
    assert_eq!(l.pickup(0, P1.id, Role::Courier, &mut sink), Err(Refusal::WrongRole));
    assert_eq!(l.pickup(0, ParcelId(99), Role::Customer, &mut sink), Err(Refusal::UnknownParcel));
}

#[test]
fn f08_offline_board_degrades_one_compartment_and_reconciles_on_return() {
    let mut l = with_p1();
    let deadline = l.compartments()[0].state().held().unwrap().deadline;
    run(&mut l, &[ev(0, Event::BoardOffline)]);
    assert!(matches!(l.compartments()[0].state(), State::Faulted { reason: FaultReason::BoardOffline, .. }));
    // The other compartment keeps serving.
    assert_eq!(checked(&mut l, Step::Reserve(Size::S, P2)).1, Ok(1));
    run(&mut l, &[Step::Wait(3_600_000), ev(0, Event::BoardOnline)]);
    assert_eq!(l.compartments()[0].observed().door, Door::Unknown, "unknown until read");
    run(&mut l, &[ev(0, Event::Presence(Presence::Occupied)), ev(0, Event::Door(Door::Closed))]);
    let held = l.compartments()[0].state().held().unwrap();
    assert_eq!(kind(&l, 0), StateKind::Occupied);
    assert_eq!(held.deadline, deadline + 3_600_000, "deadline extended by the outage");
}

#[test]
fn f09_power_cut_mid_open_is_never_replayed() {
    let mut l = with_p1();
    run(&mut l, &[Step::Pickup(P1), Step::Ack(0)]);
    let acts = run(&mut l, &[Step::Boot(120_000)]);
    assert!(pulses(&acts).is_empty(), "no pulse after boot: {acts:?}");
    assert!(acts.iter().any(|(_, a)| matches!(a, Action::Report(Report::OpenInterrupted(_)))));
    assert_eq!(kind(&l, 0), StateKind::Occupied);
    // A cut while the door was open for the pickup: contents unknown.
    let mut l = with_p1();
    run(&mut l, &[Step::Pickup(P1), ev(0, Event::Door(Door::Open)), Step::Boot(1_000)]);
    assert_eq!(kind(&l, 0), StateKind::NeedsInspection);
}

#[test]
fn f10_downtime_extends_the_pickup_deadline_and_pauses_fees() {
    let mut l = with_p1();
    let before = l.compartments()[0].state().held().unwrap();
    run(&mut l, &[Step::Boot(10 * 3_600_000)]);
    let after = l.compartments()[0].state().held().unwrap();
    assert_eq!(after.deadline, before.deadline + 10 * 3_600_000);
    assert_eq!(after.paused, 10 * 3_600_000);
}

#[test]
fn f11_duplicate_transactions_are_refused() {
    let mut l = ready2();
    let (a, r) = checked(&mut l, Step::RemoteOne(1, T1));
    assert_eq!((pulses(&a).len(), r), (1, Ok(1)));
    run(&mut l, &[Step::Wait(Config::default().open_detect_ms)]);
    let (a, r) = checked(&mut l, Step::RemoteOne(1, T1));
    assert_eq!(r, Err(Refusal::Duplicate));
    assert!(pulses(&a).is_empty());
    assert!(a.contains(&(1, Action::Report(Report::DuplicateRefused(T1)))));
}

#[test]
fn f12_open_all_needs_local_confirmation_and_single_opens_are_rate_limited() {
    let mut l = ready2();
    let (a, r) = checked(&mut l, Step::RemoteAll { confirmed: false, txn: T2 });
    assert_eq!(r, Err(Refusal::NeedsLocalConfirmation));
    assert!(pulses(&a).is_empty());
    let limit = l.config().remote_open_limit;
    let mut refused = None;
    for n in 0..=u32::from(limit) {
        // Each open lapses (no ack) so the compartment is free for the next one.
        let r = checked(&mut l, Step::RemoteOne(1, TxnId(100 + n))).1;
        run(&mut l, &[Step::Wait(1)]);
        if r.is_err() {
            refused = Some((n, r));
            break;
        }
        run(&mut l, &[Step::Wait(Config::default().open_detect_ms / 1_000)]);
        run(&mut l, &[ev(1, Event::Door(Door::Open)), ev(1, Event::Door(Door::Closed))]);
    }
    assert_eq!(refused, Some((u32::from(limit), Err(Refusal::RateLimited))));
    let (a, r) = checked(&mut l, Step::RemoteAll { confirmed: true, txn: T2 });
    assert_eq!((pulses(&a).len(), r), (2, Ok(2)));
}

#[test]
fn f13_no_fitting_compartment_is_a_first_class_refusal() {
    let mut l = ready2();
    assert_eq!(checked(&mut l, Step::Reserve(Size::L, P1)).1, Err(Refusal::NoSuitableCompartment));
    assert_eq!(checked(&mut l, Step::Reserve(Size::M, P1)).1, Ok(1), "best fit: M for M");
    assert_eq!(checked(&mut l, Step::Reserve(Size::S, P2)).1, Ok(0), "best fit: S for S");
    let p3 = Parcel { id: ParcelId(3), direction: Direction::Inbound };
    assert_eq!(checked(&mut l, Step::Reserve(Size::S, p3)).1, Err(Refusal::NoSuitableCompartment));
    assert_eq!(checked(&mut l, Step::Reserve(Size::S, P1)).1, Err(Refusal::ParcelInUse));
}

#[test]
fn f14_reset_during_a_pulse_does_not_pulse_again() {
    // The retry of an acknowledged pulse falls due during the outage; boot must not fire it.
    let mut l = with_p1();
    run(&mut l, &[Step::Pickup(P1), Step::Ack(0)]);
    let acts = run(&mut l, &[Step::Boot(Config::default().open_detect_ms * 5)]);
    assert!(pulses(&acts).is_empty());
    assert!(l.compartments()[0].pending().is_none());
    let acts = run(&mut l, &[Step::Wait(Config::default().open_detect_ms * 5)]);
    assert!(pulses(&acts).is_empty());
}

#[test]
fn f15_no_timer_frees_an_occupied_compartment() {
    let mut l = with_p1();
    let mut acts = Vec::new();
    for _ in 0..10 {
        acts.extend(run(&mut l, &[Step::Wait(Config::default().pickup_window_ms)]));
        assert_ne!(kind(&l, 0), StateKind::Vacant);
    }
    assert_eq!(kind(&l, 0), StateKind::Expired);
    assert!(acts.contains(&(0, Action::Notify(Notice::PickupExpired(P1.id)))));
    assert_eq!(l.next_deadline(), None, "nothing left to fire");
    // Retrieval by the courier frees it on sensor evidence.
    run(
        &mut l,
        &[
            Step::Retrieve(P1),
            ev(0, Event::Door(Door::Open)),
            ev(0, Event::Presence(Presence::Empty)),
            ev(0, Event::Door(Door::Closed)),
        ],
    );
    assert_eq!(kind(&l, 0), StateKind::Vacant);
}

#[test]
fn f16_pulses_acks_and_reports_carry_the_transaction() {
    let mut l = with_p1();
    let acts = run(&mut l, &[Step::Pickup(P1)]);
    let txn = pulses(&acts)[0].1;
    // An ack for another transaction is ignored: no retry follows the lapse.
    let mut sink = |_: usize, _: Action| {};
    l.handle(l.now(), 0, Event::PulseAcked(TxnId(txn.0 ^ 1)), &mut sink).unwrap();
    assert!(!l.compartments()[0].pending().unwrap().acked);
    let acts = run(&mut l, &[ev(0, Event::Door(Door::Open))]);
    assert!(acts.contains(&(0, Action::Report(Report::Opened(txn)))));
    match l.compartments()[0].state() {
        State::PickupOpen { txn: t, .. } => assert_eq!(t, txn),
        s => panic!("{s:?}"),
    }
}

#[test]
fn pickup_bills_once_and_reopen_window_is_short_and_single() {
    let mut l = with_p1();
    let acts = run(
        &mut l,
        &[
            Step::Pickup(P1),
            ev(0, Event::Door(Door::Open)),
            ev(0, Event::Presence(Presence::Empty)),
            ev(0, Event::Door(Door::Closed)),
        ],
    );
    assert_eq!(acts.iter().filter(|(_, a)| matches!(a, Action::Bill { .. })).count(), 1);
    assert_eq!(kind(&l, 0), StateKind::Vacant);
    // Re-open inside the window works once, and does not bill again.
    let acts = run(&mut l, &[Step::Reopen(P1), ev(0, Event::Door(Door::Open)), ev(0, Event::Door(Door::Closed))]);
    assert_eq!(pulses(&acts).len(), 1);
    assert!(!acts.iter().any(|(_, a)| matches!(a, Action::Bill { .. })));
    assert_eq!(checked(&mut l, Step::Reopen(P1)).1, Err(Refusal::UnknownParcel));
    // A fresh pickup elsewhere: after the window lapses, re-open is refused.
    let mut l = with_p1();
    run(
        &mut l,
        &[
            Step::Pickup(P1),
            ev(0, Event::Door(Door::Open)),
            ev(0, Event::Presence(Presence::Empty)),
            ev(0, Event::Door(Door::Closed)),
        ],
    );
    run(&mut l, &[Step::Wait(Config::default().reopen_window_ms)]);
    assert_eq!(checked(&mut l, Step::Reopen(P1)).1, Err(Refusal::UnknownParcel));
}

#[test]
fn reverse_logistics_customer_sends_courier_collects() {
    let mut l = ready2();
    let mut sink = |_: usize, _: Action| {};
    // The customer, not the courier, deposits an outbound parcel.
    assert_eq!(checked(&mut l, Step::Reserve(Size::M, P2)).1, Ok(1));
    assert_eq!(l.deposit(0, P2.id, Role::Courier, &mut sink), Err(Refusal::WrongRole));
    run(
        &mut l,
        &[
            Step::Deposit(P2),
            ev(1, Event::Door(Door::Open)),
            ev(1, Event::DepositDeclared(true)),
            ev(1, Event::Door(Door::Closed)),
        ],
    );
    assert_eq!(kind(&l, 1), StateKind::Occupied);
    assert_eq!(l.pickup(0, P2.id, Role::Customer, &mut sink), Err(Refusal::WrongRole));
    run(&mut l, &[Step::Pickup(P2), ev(1, Event::Door(Door::Open)), ev(1, Event::Door(Door::Closed))]);
    assert_eq!(kind(&l, 1), StateKind::Vacant);
}

#[test]
fn reservation_expiry_is_an_explicit_deadline() {
    let mut l = ready2();
    assert_eq!(checked(&mut l, Step::Reserve(Size::S, P1)).1, Ok(0));
    let expiry = l.now() + l.config().reservation_ttl_ms;
    assert_eq!(l.next_deadline(), Some(expiry));
    run(&mut l, &[Step::Wait(Config::default().reservation_ttl_ms - 1)]);
    assert_eq!(kind(&l, 0), StateKind::Reserved, "nothing fires early");
    let acts = run(&mut l, &[Step::TickToDeadline]);
    assert_eq!(kind(&l, 0), StateKind::Vacant);
    assert!(acts.contains(&(0, Action::Notify(Notice::ReservationLost(P1.id)))));
}

/// Found by the table generator: extending the deadline of an expired parcel while the
/// courier's retrieval pulse was pending made it Occupied with a retrieval in flight (I2).
#[test]
fn no_state_change_under_an_open_in_progress() {
    let mut l = with_p1();
    run(&mut l, &[Step::Wait(Config::default().pickup_window_ms), Step::Retrieve(P1)]);
    assert_eq!(checked(&mut l, ev(0, Event::ExtendDeadline(3_600_000))).1, Err(Refusal::Busy));
    assert_eq!(checked(&mut l, ev(0, Event::OperatorClear { keep_parcel: false })).1, Err(Refusal::Busy));
    let mut l = with_p1();
    let detect = Config::default().open_detect_ms;
    let mut steps = vec![Step::Pickup(P1)];
    for _ in 0..Config::default().max_open_attempts {
        steps.extend([Step::Ack(0), Step::Wait(detect)]);
    }
    steps.push(Step::Pickup(P1));
    run(&mut l, &steps);
    assert_eq!(kind(&l, 0), StateKind::Faulted);
    assert_eq!(
        checked(&mut l, ev(0, Event::OperatorClear { keep_parcel: false })).1,
        Err(Refusal::Busy),
        "a pickup retry is in flight on the jammed compartment"
    );
}

/// Found by the fuzz target: an event for one compartment at a later time must fire the other
/// compartments' deadlines too (here the door-ajar alarm of compartment 0, I4).
#[test]
fn an_event_anywhere_fires_every_due_deadline() {
    let mut l = with_p1();
    run(&mut l, &[Step::Pickup(P1), ev(0, Event::Door(Door::Open))]);
    let later = l.compartments()[0].ajar_deadline().unwrap() + 1;
    let mut acts = Vec::new();
    l.handle(later, 1, Event::Lock(Lock::Locked), &mut |i: usize, a: Action| acts.push((i, a))).unwrap();
    assert!(acts.contains(&(0, Action::RaiseAlarm(Alarm::DoorAjar))), "{acts:?}");
    check_invariants(&l).unwrap();
}

/// Found by the fuzz target: a door reading turning Unknown during an open window leaves the
/// outcome unknown: inspection, not a window with an unseen door (I4).
#[test]
fn door_reading_lost_during_a_window_needs_inspection() {
    let mut l = with_p1();
    run(&mut l, &[Step::Pickup(P1), ev(0, Event::Door(Door::Open)), ev(0, Event::Door(Door::Unknown))]);
    assert_eq!(kind(&l, 0), StateKind::NeedsInspection);
    assert_eq!(l.compartments()[0].state().held().map(|h| h.parcel), Some(P1));
}

/// Found by the fuzz target: a reservation kept through a pending deposit while the door
/// reading was lost must lapse when that open ends without the door seen (I5).
#[test]
fn reservation_with_an_unread_door_lapses_when_its_open_ends() {
    let mut l = ready2();
    run(&mut l, &[Step::DropOff(Size::S, P1), ev(0, Event::Door(Door::Unknown))]);
    assert_eq!(kind(&l, 0), StateKind::Reserved, "kept while its open is in flight");
    let acts = run(&mut l, &[Step::Wait(Config::default().open_detect_ms)]);
    assert_eq!(kind(&l, 0), StateKind::Vacant);
    assert!(acts.contains(&(0, Action::Notify(Notice::ReservationLost(P1.id)))));
}

/// Found by the fuzz target: a door reading that arrives after the open-detection deadline
/// is evidence of the open; it must not be preceded by a retry pulse.
#[test]
fn late_door_reading_ends_the_open_without_a_retry() {
    let mut l = with_p1();
    run(&mut l, &[Step::Pickup(P1), Step::Ack(0)]);
    let late = l.compartments()[0].pending().unwrap().deadline + 5;
    let mut acts = Vec::new();
    l.handle(late, 0, Event::Door(Door::Open), &mut |i: usize, a: Action| acts.push((i, a))).unwrap();
    assert!(!acts.iter().any(|(_, a)| matches!(a, Action::Pulse { .. })), "{acts:?}");
    assert_eq!(kind(&l, 0), StateKind::PickupOpen);
}

/// Found by the fuzz target: a re-open started just before its window closes keeps the window
/// until that open ends (its pulse must stay authorised, I2), and no longer.
#[test]
fn reopen_started_in_the_window_survives_its_end() {
    let mut l = with_p1();
    run(
        &mut l,
        &[
            Step::Pickup(P1),
            ev(0, Event::Door(Door::Open)),
            ev(0, Event::Presence(Presence::Empty)),
            ev(0, Event::Door(Door::Closed)),
        ],
    );
    let window = Config::default().reopen_window_ms;
    run(&mut l, &[Step::Wait(window - 1), Step::Reopen(P1), Step::Wait(2)]);
    assert!(l.compartments()[0].pending().is_some());
    run(&mut l, &[ev(0, Event::Door(Door::Open))]);
    assert_eq!(kind(&l, 0), StateKind::PickupOpen);
    // Unopened, the window goes with the lapsed open.
    let mut l = with_p1();
    run(
        &mut l,
        &[
            Step::Pickup(P1),
            ev(0, Event::Door(Door::Open)),
            ev(0, Event::Presence(Presence::Empty)),
            ev(0, Event::Door(Door::Closed)),
        ],
    );
    run(&mut l, &[Step::Wait(window - 1), Step::Reopen(P1), Step::Wait(Config::default().open_detect_ms)]);
    assert!(l.compartments()[0].reopen_window().is_none());
}

/// Found by the fuzz target: "still there" during a re-open in flight must wait for the door
/// (the re-open's pulse stays authorised, I2).
#[test]
fn still_there_during_a_reopen_in_flight_is_busy() {
    let mut l = with_p1();
    run(
        &mut l,
        &[
            Step::Pickup(P1),
            ev(0, Event::Door(Door::Open)),
            ev(0, Event::Presence(Presence::Empty)),
            ev(0, Event::Door(Door::Closed)),
            Step::Reopen(P1),
        ],
    );
    assert_eq!(checked(&mut l, ev(0, Event::ReportStillThere)).1, Err(Refusal::Busy));
    run(&mut l, &[ev(0, Event::Door(Door::Open)), ev(0, Event::ReportStillThere), ev(0, Event::Door(Door::Closed))]);
    assert_eq!(kind(&l, 0), StateKind::NeedsInspection);
}
