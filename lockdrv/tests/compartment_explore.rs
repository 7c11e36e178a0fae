//! Exhaustive breadth-first exploration of every step sequence up to a fixed depth (6 by
//! default, `COMPARTMENT_DEPTH=N` for more) over a
//! 2-compartment locker with every event kind (issue 4, verification (a)). States are
//! deduplicated by their canonical hash; every invariant is checked after every transition;
//! a violation prints the shortest trace (BFS order) that reaches it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod compartment_common;

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hasher};

use compartment_common::*;
use lockdrv::compartment::*;

fn canon(l: &Locker<2>) -> u64 {
    let mut h = DefaultHasher::new();
    l.canonical_hash(&mut h);
    h.finish()
}

fn trace(parents: &[(u32, u16)], alphabet: &[Step], mut node: u32) -> Vec<Step> {
    let mut t = Vec::new();
    while node != 0 {
        let (p, s) = parents[node as usize];
        t.push(alphabet[s as usize]);
        node = p;
    }
    t.reverse();
    t
}

#[test]
fn exhaustive_exploration() {
    let depth: usize = std::env::var("COMPARTMENT_DEPTH").ok().and_then(|d| d.parse().ok()).unwrap_or(6);
    let alphabet = alphabet();
    // Start from a locker whose doors were read closed (before that, nothing is allocatable).
    let start = ready2();
    check_invariants(&start).unwrap();
    let mut seen = HashSet::new();
    seen.insert(canon(&start));
    // parents[i] = (parent node, step index); node 0 is the start.
    let mut parents: Vec<(u32, u16)> = vec![(0, 0)];
    let mut frontier: Vec<(Locker<2>, u32)> = vec![(start, 0)];
    let mut transitions: u64 = 0;
    let mut refused: u64 = 0;
    let mut kinds = HashSet::new();
    for level in 0..depth {
        let mut next = Vec::new();
        for (state, node) in &frontier {
            for (si, step) in alphabet.iter().enumerate() {
                let mut l = state.clone();
                let (ev, acts, r) = apply(&mut l, *step);
                transitions += 1;
                if r.is_err() {
                    refused += 1;
                }
                let verdict = check_step(state, &l, ev.as_ref(), &acts).and_then(|()| check_invariants(&l));
                if let Err(v) = verdict {
                    let mut t = trace(&parents, &alphabet, *node);
                    t.push(*step);
                    panic!("{v}\nshortest violating trace ({} steps):\n{t:#?}", t.len());
                }
                for c in l.compartments() {
                    kinds.insert(c.state().kind());
                }
                if seen.insert(canon(&l)) {
                    parents.push((*node, si as u16));
                    next.push((l, (parents.len() - 1) as u32));
                }
            }
        }
        println!(
            "depth {}: {} new states, {} distinct states, {} transitions",
            level + 1,
            next.len(),
            seen.len(),
            transitions
        );
        frontier = next;
    }
    println!(
        "exploration: depth {depth}, alphabet {} steps, {} distinct states, {} transitions \
         ({} refused), {} business states reached",
        alphabet.len(),
        seen.len(),
        transitions,
        refused,
        kinds.len()
    );
    // Every business state must be reachable within the bound, or the bound proves little.
    assert_eq!(kinds.len(), 10, "business states reached: {kinds:?}");
}
