//! A reusable breadth-first explorer of every step sequence up to a depth (issue 4, item 7a).
//!
//! Memory per distinct state is small and fixed, so depth 8 fits: the visited set holds one
//! 64-bit canonical hash per state ([`Locker::canonical_hash`] through SipHash), the parent table
//! one `(parent node, step index)` per state, and the frontier one node id per state. A frontier
//! state is not stored: it is rebuilt by replaying its (at most `depth`) steps from the start,
//! which the step function makes deterministic.
//!
//! What is deduplicated and why it is sound: a transition whose target hash is already in the
//! visited set is checked (invariants and step rules, on the real before/after pair) but its
//! target is not expanded again. Level-by-level order means the first time a hash is inserted is
//! at the shallowest depth it can be reached, so a revisit is never shallower; everything within
//! the bound below the revisit is already within the bound below the first visit. This relies on
//! `canonical_hash` identifying states that behave alike (it hashes times relative to `now`), and
//! on no 64-bit hash collision (for 10^7 states the birthday bound is about 3 in a million).
//! No symmetry reduction: the two compartments differ (size S with a presence sensor, size M
//! without), so swapping them is not an equivalence.
#![allow(dead_code)]

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, DefaultHasher, Hasher};

use lockdrv::compartment::*;

use super::Step;

/// The result of one step: the event (for step checks), the actions and the outcome.
pub type StepResult = (Option<Event>, Vec<(usize, Action)>, Result<usize, Refusal>);

/// Figures of a finished exploration.
#[derive(Debug, Default)]
pub struct Stats {
    /// Depth bound.
    pub depth: usize,
    /// Distinct states (by canonical hash), the start included.
    pub states: u64,
    /// Transitions taken (every step from every expanded state).
    pub transitions: u64,
    /// Transitions whose request was refused.
    pub refused: u64,
    /// Business state kinds seen in any compartment.
    pub kinds: HashSet<StateKind>,
    /// Per level: (new states, distinct states so far, transitions so far).
    pub levels: Vec<(u64, u64, u64)>,
}

/// An invariant or step rule broken, with the shortest trace that breaks it.
#[derive(Debug)]
pub struct Found {
    /// The violation.
    pub violation: Violation,
    /// Steps from the start that end with the breaking step.
    pub trace: Vec<Step>,
}

/// Canonical 64-bit hash of a locker.
pub fn canon<const N: usize>(l: &Locker<N>) -> u64 {
    let mut h = DefaultHasher::new();
    l.canonical_hash(&mut h);
    h.finish()
}

/// The keys are SipHash outputs already: hash them by identity.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
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

/// Explores every sequence of `alphabet` steps of length up to `depth` from `start`, checking
/// [`check_step`] and [`check_invariants`] after every transition.
///
/// # Errors
/// The first violation in breadth-first order, with its (shortest) trace.
pub fn explore<const N: usize>(
    start: &Locker<N>,
    alphabet: &[Step],
    depth: usize,
    step: impl Fn(&mut Locker<N>, Step) -> StepResult,
    progress: bool,
) -> Result<Stats, Found> {
    assert!(alphabet.len() <= usize::from(u16::MAX));
    if let Err(violation) = check_invariants(start) {
        return Err(Found { violation, trace: Vec::new() });
    }
    let mut seen: HashSet<u64, BuildHasherDefault<IdHasher>> = HashSet::default();
    seen.insert(canon(start));
    // parents[i] = (parent node, step index); node 0 is the start.
    let mut parents: Vec<(u32, u16)> = vec![(0, 0)];
    let mut frontier: Vec<u32> = vec![0];
    let mut st = Stats { depth, ..Stats::default() };
    for c in start.compartments() {
        st.kinds.insert(c.state().kind());
    }
    for _level in 0..depth {
        let mut next = Vec::new();
        for &node in &frontier {
            // Rebuild the frontier state by replaying its path.
            let mut state = start.clone();
            for s in trace(&parents, alphabet, node) {
                let _ = step(&mut state, s);
            }
            for (si, s) in alphabet.iter().enumerate() {
                let mut l = state.clone();
                let (ev, acts, r) = step(&mut l, *s);
                st.transitions += 1;
                if r.is_err() {
                    st.refused += 1;
                }
                let verdict = check_step(&state, &l, ev.as_ref(), &acts).and_then(|()| check_invariants(&l));
                if let Err(violation) = verdict {
                    let mut t = trace(&parents, alphabet, node);
                    t.push(*s);
                    return Err(Found { violation, trace: t });
                }
                for c in l.compartments() {
                    st.kinds.insert(c.state().kind());
                }
                if seen.insert(canon(&l)) {
                    parents.push((node, si as u16));
                    next.push(u32::try_from(parents.len() - 1).expect("fewer than 2^32 states"));
                }
            }
        }
        st.levels.push((next.len() as u64, seen.len() as u64, st.transitions));
        if progress {
            println!(
                "depth {}: {} new states, {} distinct states, {} transitions",
                st.levels.len(),
                next.len(),
                seen.len(),
                st.transitions
            );
        }
        frontier = next;
    }
    st.states = seen.len() as u64;
    Ok(st)
}
