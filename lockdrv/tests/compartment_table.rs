//! Generates the transition table and diagram of `lockdrv/COMPARTMENT.md` from the code (issue 4
//! item 8): one representative compartment per business state, every step kind applied to it,
//! the outcome recorded. Fails when the committed file is stale; regenerate with
//! `UPDATE_COMPARTMENT_MD=1 cargo test -p lockdrv --all-features --test compartment_table`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod compartment_common;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use compartment_common::*;
use lockdrv::compartment::*;

fn ev(e: Event) -> Step {
    Step::Ev(0, e)
}

fn deposited() -> Vec<Step> {
    vec![
        Step::DropOff(Size::S, P1),
        ev(Event::Door(Door::Open)),
        ev(Event::Presence(Presence::Occupied)),
        ev(Event::Door(Door::Closed)),
    ]
}

/// A short script reaching each business state on compartment 0 (presence sensor fitted), plus
/// the in-between situations that matter (a pulse sent, the parcel taken, the re-open window).
fn representatives() -> Vec<(&'static str, StateKind, Vec<Step>)> {
    let day = Config::default().pickup_window_ms;
    let cat = |a: Vec<Step>, b: &[Step]| -> Vec<Step> { a.into_iter().chain(b.iter().copied()).collect() };
    let taken =
        cat(deposited(), &[Step::Pickup(P1), ev(Event::Door(Door::Open)), ev(Event::Presence(Presence::Empty))]);
    vec![
        ("Vacant", StateKind::Vacant, vec![]),
        ("Vacant, re-open window", StateKind::Vacant, cat(taken.clone(), &[ev(Event::Door(Door::Closed))])),
        ("Reserved", StateKind::Reserved, vec![Step::Reserve(Size::S, P1)]),
        ("Reserved, pulse sent", StateKind::Reserved, vec![Step::Reserve(Size::S, P1), Step::Deposit(P1)]),
        ("DepositOpen", StateKind::DepositOpen, vec![Step::DropOff(Size::S, P1), ev(Event::Door(Door::Open))]),
        ("Occupied", StateKind::Occupied, deposited()),
        ("Occupied, pulse sent", StateKind::Occupied, cat(deposited(), &[Step::Pickup(P1)])),
        ("PickupOpen", StateKind::PickupOpen, cat(deposited(), &[Step::Pickup(P1), ev(Event::Door(Door::Open))])),
        ("PickupOpen, parcel taken", StateKind::PickupOpen, taken),
        ("Expired", StateKind::Expired, cat(deposited(), &[Step::Wait(day)])),
        ("Expired, pulse sent", StateKind::Expired, cat(deposited(), &[Step::Wait(day), Step::Retrieve(P1)])),
        (
            "RetrievalOpen",
            StateKind::RetrievalOpen,
            cat(deposited(), &[Step::Wait(day), Step::Retrieve(P1), ev(Event::Door(Door::Open))]),
        ),
        ("NeedsInspection", StateKind::NeedsInspection, vec![ev(Event::Presence(Presence::Occupied))]),
        ("Faulted", StateKind::Faulted, cat(deposited(), &[ev(Event::SensorFault)])),
        (
            "OutOfService",
            StateKind::OutOfService,
            cat(deposited(), &[ev(Event::MarkOutOfService(OosReason::Maintenance))]),
        ),
    ]
}

/// The steps that concern compartment 0, with a readable name.
fn steps() -> Vec<(String, Step)> {
    alphabet()
        .into_iter()
        .filter(|s| match s {
            Step::Ev(i, _) | Step::Ack(i) | Step::RemoteOne(i, _) => *i == 0,
            Step::Deposit(p) | Step::Pickup(p) => *p == P1,
            Step::DropOff(_, p) => *p == P1,
            _ => true,
        })
        .map(|s| (name(&s), s))
        .collect()
}

fn name(s: &Step) -> String {
    match s {
        Step::Reserve(..) => "reserve".into(),
        Step::Deposit(_) => "courier deposit".into(),
        Step::DropOff(..) => "drop-off (reserve+open)".into(),
        Step::Pickup(_) => "recipient pickup".into(),
        Step::Retrieve(_) => "courier retrieval".into(),
        Step::Reopen(_) => "re-open after pickup".into(),
        Step::RemoteOne(..) => "remote open (one)".into(),
        Step::RemoteAll { confirmed, .. } => {
            format!("remote open all ({})", if *confirmed { "confirmed locally" } else { "unconfirmed" })
        }
        Step::TickToDeadline => "next deadline passes".into(),
        Step::Wait(_) => "wait".into(),
        Step::Boot(_) => "power cut + boot".into(),
        Step::Ack(_) => "pulse acked".into(),
        Step::Ev(_, e) => format!("{e:?}").replace("Maintenance", "..").replace("3600000", "1 h"),
    }
}

fn action(a: &Action) -> String {
    let s = format!("{a:?}");
    // Drop ids and amounts: the table shows what kind of thing happens.
    let mut out = String::new();
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '(' | '{' => {
                depth += 1;
                if depth == 1 {
                    out.push('(');
                }
            }
            ')' | '}' => {
                depth -= 1;
                if depth == 0 {
                    out.push(')');
                }
            }
            _ if depth <= 1 => out.push(c),
            _ => {}
        }
    }
    out.replace("( ", "(").replace(" )", ")").replace("Pulse(txn: TxnId, attempt: 1, ms: 200)", "Pulse")
}

fn generate() -> String {
    let mut table = String::new();
    let mut edges = BTreeSet::new();
    for (label_state, kind, script) in representatives() {
        let mut l = ready2();
        run(&mut l, &script);
        assert_eq!(l.compartments()[0].state().kind(), kind, "representative script for {kind:?}");
        writeln!(table, "\n### {label_state}\n\n| event | outcome | actions |\n|---|---|---|").unwrap();
        for (label, step) in steps() {
            let mut m = l.clone();
            let (acts, r) = checked(&mut m, step);
            let to = m.compartments()[0].state().kind();
            let outcome = match r {
                Err(e) => format!("refused: {e}"),
                Ok(_) if to == kind => "stays".into(),
                Ok(_) => format!("→ {to:?}"),
            };
            if r.is_ok() && to != kind {
                edges.insert((format!("{kind:?}"), format!("{to:?}"), label.clone()));
            }
            let acts: Vec<String> = acts.iter().filter(|(i, _)| *i == 0).map(|(_, a)| action(a)).collect();
            writeln!(table, "| {label} | {outcome} | {} |", acts.join(", ")).unwrap();
        }
    }
    let mut mermaid = String::from("```mermaid\nstateDiagram-v2\n    [*] --> Vacant\n");
    for (from, to, label) in &edges {
        writeln!(mermaid, "    {from} --> {to}: {}", label.replace(':', "")).unwrap();
    }
    mermaid.push_str("```\n");
    format!(
        "# Compartment state machine: generated transition table\n\n\
         Generated by `lockdrv/tests/compartment_table.rs` from the code (do not edit by hand;\n\
         regenerate with `UPDATE_COMPARTMENT_MD=1 cargo test -p lockdrv --all-features --test \
         compartment_table`).\n\n\
         Each business state is reached by a short script on compartment 0 (small, with a\n\
         presence sensor, board online, door read closed); every event kind is then applied to a\n\
         copy. \"stays\" means the business state is unchanged (observed readings, alarms or\n\
         timers may still change); actions are shown without ids.\n\n\
         ## Diagram (business-state changes only)\n\n{mermaid}\n## Table\n{table}"
    )
}

#[test]
fn compartment_md_is_generated_from_the_code_and_fresh() {
    let text = generate();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/COMPARTMENT.md");
    if std::env::var_os("UPDATE_COMPARTMENT_MD").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == text,
        "lockdrv/COMPARTMENT.md is stale: regenerate with UPDATE_COMPARTMENT_MD=1 cargo test -p \
         lockdrv --all-features --test compartment_table"
    );
}
