//! Persistence (issue 4 item 6): serde snapshot round trip, journal replay, restore after a
//! power cut with no replayed pulse, readings Unknown, and conflicting evidence to inspection.
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod compartment_common;

use compartment_common::*;
use lockdrv::compartment::*;
use proptest::prelude::*;

fn h(index: usize, event: Event) -> Intent {
    Intent::Handle { index, event }
}

/// A deposit, then a pickup pulse in flight when the power fails.
fn journal() -> Vec<JournalEntry> {
    [
        (0, Intent::DropOff { size: Size::S, parcel: P1 }),
        (500, h(0, Event::PulseAcked(TxnId(0x8000_0000)))),
        (1_000, h(0, Event::Door(Door::Open))),
        (5_000, h(0, Event::Presence(Presence::Occupied))),
        (6_000, h(0, Event::Door(Door::Closed))),
        (9_000, Intent::DropOff { size: Size::M, parcel: P2 }),
        (100_000, Intent::Pickup { parcel: P1.id, role: Role::Customer }),
    ]
    .map(|(at, intent)| JournalEntry { at, intent })
    .to_vec()
}

fn live(entries: &[JournalEntry]) -> (Locker<2>, Vec<(usize, Action)>) {
    let mut l = ready2();
    let mut acts = Vec::new();
    for e in entries {
        let _ = l.apply_intent(*e, &mut |i: usize, a: Action| acts.push((i, a)));
    }
    (l, acts)
}

#[test]
fn snapshot_round_trips_through_serde() {
    let (l, _) = live(&journal());
    let json = serde_json::to_string(&l).unwrap();
    let back: Locker<2> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, l);
    // A snapshot of another size is refused, not truncated.
    assert!(serde_json::from_str::<Locker<3>>(&json).is_err());
    assert!(serde_json::from_str::<Locker<1>>(&json).is_err());
}

#[test]
fn restore_replays_state_not_pulses() {
    let entries = journal();
    let (l, live_acts) = live(&entries);
    assert!(live_acts.iter().filter(|(_, a)| matches!(a, Action::Pulse { .. })).count() >= 3);
    assert!(l.compartments()[0].pending().is_some(), "the pickup pulse was in flight");
    // Snapshot after the first deposit, journal since.
    let (snap, _) = live(&entries[..5]);
    let snap: Locker<2> = serde_json::from_str(&serde_json::to_string(&snap).unwrap()).unwrap();
    let mut acts = Vec::new();
    let r = restore(snap, entries[5..].iter().copied(), 400_000, &mut |i: usize, a: Action| acts.push((i, a)));
    assert!(!acts.iter().any(|(_, a)| matches!(a, Action::Pulse { .. })), "{acts:?}");
    assert!(acts.contains(&(0, Action::Report(Report::OpenInterrupted(TxnId(0x8000_0002))))));
    assert!(acts.iter().any(|(_, a)| matches!(a, Action::Report(Report::OpenInterrupted(_)))));
    for c in r.compartments() {
        assert_eq!(c.observed().door, Door::Unknown);
        assert!(c.pending().is_none());
    }
    check_invariants(&r).unwrap();
    // The parcel is still booked, with the outage added to its deadline.
    let before = l.compartments()[0].state().held().unwrap();
    let after = r.compartments()[0].state().held().unwrap();
    assert_eq!(after.deadline, before.deadline + (400_000 - 100_000));
    // The reading after boot conflicts with the books: inspection, not Vacant.
    let mut r = r;
    let mut sink = |_: usize, _: Action| {};
    r.handle(400_100, 0, Event::Presence(Presence::Empty), &mut sink).unwrap();
    r.handle(400_200, 0, Event::Door(Door::Closed), &mut sink).unwrap();
    assert_eq!(r.compartments()[0].state().kind(), StateKind::NeedsInspection);
}

fn intent() -> impl Strategy<Value = Intent> {
    let alphabet = alphabet();
    (0..alphabet.len()).prop_map(move |i| match alphabet[i] {
        Step::Reserve(size, parcel) => Intent::Reserve { size, parcel },
        Step::Deposit(p) => Intent::Deposit {
            parcel: p.id,
            role: if p.direction == Direction::Inbound { Role::Courier } else { Role::Customer },
        },
        Step::DropOff(size, parcel) => Intent::DropOff { size, parcel },
        Step::Pickup(p) => Intent::Pickup {
            parcel: p.id,
            role: if p.direction == Direction::Inbound { Role::Customer } else { Role::Courier },
        },
        Step::Retrieve(p) => Intent::Retrieve { parcel: p.id },
        Step::Reopen(p) => Intent::Reopen { parcel: p.id },
        Step::RemoteOne(i, txn) => Intent::RemoteOpen { target: RemoteTarget::One(i), txn },
        Step::RemoteAll { confirmed, txn } => {
            Intent::RemoteOpen { target: RemoteTarget::All { local_confirmation: confirmed }, txn }
        }
        Step::Boot(_) => Intent::Boot { down_since: 0 },
        Step::Ack(i) => h(i, Event::PulseAcked(TxnId(0x8000_0000))),
        Step::Ev(i, e) => h(i, e),
        Step::TickToDeadline | Step::Wait(_) => Intent::Tick,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Snapshot at any point + journal since = the live locker (before the boot), and restore
    /// never pulses.
    #[test]
    fn snapshot_plus_journal_equals_live(
        intents in proptest::collection::vec((intent(), 0u64..50_000_000), 1..120),
        cut in 0usize..120,
    ) {
        let mut at = 0;
        let entries: Vec<JournalEntry> = intents
            .into_iter()
            .map(|(intent, gap)| {
                at += gap;
                let intent = match intent {
                    Intent::Boot { .. } => Intent::Boot { down_since: at },
                    other => other,
                };
                JournalEntry { at, intent }
            })
            .collect();
        let cut = cut.min(entries.len());
        let (l, _) = live(&entries);
        let (snap, _) = live(&entries[..cut]);
        let snap: Locker<2> = serde_json::from_str(&serde_json::to_string(&snap).unwrap()).unwrap();
        let mut replayed = snap.clone();
        for e in &entries[cut..] {
            let _ = replayed.apply_intent(*e, &mut Discard);
        }
        prop_assert_eq!(&replayed, &l);
        let mut acts = Vec::new();
        let r = restore(snap, entries[cut..].iter().copied(), at + 1_000, &mut |i: usize, a: Action| acts.push((i, a)));
        let pulsed = acts.iter().any(|(_, a)| matches!(a, Action::Pulse { .. }));
        prop_assert!(!pulsed, "restore pulsed: {:?}", acts);
        prop_assert!(check_invariants(&r).is_ok());
    }
}
