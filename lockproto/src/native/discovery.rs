//! Discovery: finding every board on a bus by its unique id, and giving each a bus address,
//! without collisions that go unnoticed (PROTOCOL.md §5.6).
//!
//! The master asks "does an un-muted board with `lo <= uid <= hi` exist?" (`Discover`, to the
//! broadcast address). Every such board answers in a slot derived from its uid
//! ([`slot_of`]). The master classifies what it heard in the listening window:
//!
//! * **silence**: no board is in the range; it is done;
//! * **one clean answer** and nothing else: assign that uid an address (`AssignAddress`; the
//!   board mutes itself), then ask **the same range again**, because a second board may have
//!   been drowned by the first (capture effect);
//! * **anything else** (a bad frame, bytes that are no frame, two answers): a collision; split
//!   the range in two halves and ask each.
//!
//! A range is finished only by silence, and uids are unique, so splitting ends at ranges of one
//! uid at the latest (64 levels). A last pass over the whole uid space must stay silent (or
//! find nobody new) before the search ends. [`Discovery`] is the master side as a sans-io state
//! machine: it hands out the next request and takes the outcome; it reads no clock and does
//! no I/O.

use super::codec::is_unicast;
use super::messages::{DiscoverScope, NativeRequest};
use super::{DEFAULT_SLOT_MS, DEFAULT_SLOTS};

/// The reply slot of the board with `uid` among `slots` slots: the XOR of the uid's eight bytes,
/// modulo `slots` (0 slots count as 1).
pub const fn slot_of(uid: u64, slots: u8) -> u8 {
    let b = uid.to_be_bytes();
    let folded = b[0] ^ b[1] ^ b[2] ^ b[3] ^ b[4] ^ b[5] ^ b[6] ^ b[7];
    if slots == 0 { 0 } else { byte_remainder(folded, slots) }
}

/// `dividend % divisor` (`divisor` > 0) by shift-and-subtract, one quotient bit per step.
///
/// Why not `%`: a board answers discovery, and Cortex-M0 has no divide instruction, so `%`
/// links compiler-builtins' 32-bit division routine (about 430 bytes of flash) into board
/// firmware for this one byte-sized remainder; these eight steps cost a few dozen.
const fn byte_remainder(dividend: u8, divisor: u8) -> u8 {
    let divisor = divisor as u16;
    let mut remainder: u16 = 0;
    let mut bit = 8;
    while bit > 0 {
        bit -= 1;
        remainder = (remainder << 1) | ((dividend >> bit) & 1) as u16;
        if remainder >= divisor {
            remainder -= divisor;
        }
    }
    remainder as u8
}

/// Board side: whether a board with `uid`, bus address `address` (0 = none) and mute flag
/// `muted` answers `request`, and after how many ms from the end of the request.
pub const fn discover_answer_delay(request: &NativeRequest, uid: u64, address: u8, muted: bool) -> Option<u32> {
    match *request {
        NativeRequest::Discover { scope, slots, slot_ms, lo, hi, .. } => {
            let in_scope = match scope {
                DiscoverScope::Unassigned => !is_unicast(address),
                DiscoverScope::All => true,
            };
            if muted || !in_scope || uid < lo || uid > hi {
                None
            } else {
                Some(slot_of(uid, slots) as u32 * slot_ms as u32)
            }
        }
        _ => None,
    }
}

/// What the master heard after a discovery request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryOutcome {
    /// Nothing at all within the listening window.
    Silence,
    /// Exactly one valid answer (`DiscoverAnswer` or `AddressAssigned`) and no other bytes.
    Reply {
        /// The uid it carries.
        uid: u64,
        /// The board address it came from.
        address: u8,
    },
    /// Anything else: bad frames, stray bytes, several answers.
    Collision,
}

/// A board the search found and addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FoundBoard {
    /// Its unique id.
    pub uid: u64,
    /// The bus address it was given.
    pub address: u8,
}

/// Why the search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryEnd {
    /// A final pass found nobody new: every board that answers is addressed.
    Complete,
    /// No free address was left for a board.
    AddressesExhausted,
    /// The table of found boards is full.
    TableFull,
    /// The request budget ([`DiscoveryConfig::max_requests`]) ran out.
    RequestBudget,
}

/// Configuration of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// Which boards take part: new ones only, or all (renumbering, duplicate addresses).
    pub scope: DiscoverScope,
    /// Reply slots per `Discover`.
    pub slots: u8,
    /// Slot length in ms (at least one `DiscoverAnswer` frame time plus adapter latency).
    pub slot_ms: u8,
    /// Lowest address to give out.
    pub first_address: u8,
    /// Highest address to give out.
    pub last_address: u8,
    /// With scope `All`, a board keeps the address it has unless another found board has it.
    pub keep_addresses: bool,
    /// Extra attempts for an `AssignAddress` without answer, and for a single-uid range that
    /// keeps answering garbage (noise: two boards cannot share a uid).
    pub retries: u8,
    /// Passes over the whole uid space that must find nobody new before the search ends.
    pub final_checks: u8,
    /// Sequence number of the first request.
    pub first_seq: u8,
    /// Requests after which the search stops whatever happens (termination guarantee against
    /// a bus that answers nonsense forever).
    pub max_requests: u32,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            scope: DiscoverScope::Unassigned,
            slots: DEFAULT_SLOTS,
            slot_ms: DEFAULT_SLOT_MS,
            first_address: 1,
            last_address: 254,
            keep_addresses: true,
            retries: 2,
            final_checks: 1,
            first_seq: 0,
            max_requests: 20_000,
        }
    }
}

/// A set of bus addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressSet([u64; 4]);

impl AddressSet {
    /// Adds `address`.
    pub fn insert(&mut self, address: u8) {
        if let Some(word) = self.0.get_mut(usize::from(address / 64)) {
            *word |= 1 << (address % 64);
        }
    }

    /// Whether `address` is in the set.
    pub fn contains(&self, address: u8) -> bool {
        self.0.get(usize::from(address / 64)).is_some_and(|word| word & (1 << (address % 64)) != 0)
    }
}

/// A closed uid interval `lo..=hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    lo: u64,
    hi: u64,
}

const FULL: Range = Range { lo: 0, hi: u64::MAX };
/// Pending ranges: halving needs at most 64; exclusions around unreachable uids add a few.
const STACK: usize = 128;
/// Uids that answered `Discover` but never took an address (or answered again afterwards).
const MAX_GIVEN_UP: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reset,
    Query { range: Range, noise: u8 },
    Assign { uid: u64, address: u8, range: Range, attempts: u8 },
    Finished(DiscoveryEnd),
}

/// The master side of discovery, for up to `MAX` boards. Sans-io: [`Discovery::next_request`]
/// gives the request to send (and [`Discovery::expects_reply`] whether to listen), the caller
/// sends it, listens, and reports what it heard with [`Discovery::on_outcome`].
///
/// ```
/// use lockproto::native::discovery::{Discovery, DiscoveryConfig, DiscoveryOutcome};
/// use lockproto::native::messages::NativeRequest;
///
/// // One board, uid 42, on the bus.
/// let mut discovery = Discovery::<8>::new(DiscoveryConfig::default());
/// let mut board_address = 0;
/// while let Some(request) = discovery.next_request() {
///     let outcome = match request {
///         NativeRequest::Discover { lo, hi, .. } if board_address == 0 && (lo..=hi).contains(&42) => {
///             DiscoveryOutcome::Reply { uid: 42, address: 0 }
///         }
///         NativeRequest::AssignAddress { uid: 42, address, .. } => {
///             board_address = address;
///             DiscoveryOutcome::Reply { uid: 42, address }
///         }
///         _ => DiscoveryOutcome::Silence,
///     };
///     discovery.on_outcome(outcome);
/// }
/// assert_eq!(discovery.found()[0].uid, 42);
/// assert_eq!(board_address, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Discovery<const MAX: usize> {
    config: DiscoveryConfig,
    state: State,
    stack: [Range; STACK],
    depth: usize,
    found: [FoundBoard; MAX],
    found_len: usize,
    given_up: [FoundBoard; MAX_GIVEN_UP],
    given_up_len: usize,
    used: AddressSet,
    seq: u8,
    requests: u32,
    /// Consecutive passes that found nobody new.
    quiet_passes: u8,
    /// Boards found or given up so far (never decreases).
    progress: u32,
    /// `progress` at the start of the current pass.
    pass_mark: u32,
    unresolved: u32,
}

impl<const MAX: usize> Discovery<MAX> {
    /// A search; the first request is a `DiscoveryReset`.
    pub fn new(config: DiscoveryConfig) -> Self {
        Discovery {
            config,
            state: State::Reset,
            stack: [FULL; STACK],
            depth: 0,
            found: [FoundBoard { uid: 0, address: 0 }; MAX],
            found_len: 0,
            given_up: [FoundBoard { uid: 0, address: 0 }; MAX_GIVEN_UP],
            given_up_len: 0,
            used: AddressSet::default(),
            seq: config.first_seq,
            requests: 0,
            quiet_passes: 0,
            progress: 0,
            pass_mark: 0,
            unresolved: 0,
        }
    }

    /// Keeps `address` out of the addresses given out (boards already known to the master).
    pub fn reserve(&mut self, address: u8) {
        self.used.insert(address);
    }

    /// The request to send now, or `None` when the search has ended. Asking twice without an
    /// outcome in between gives the same request.
    pub fn next_request(&self) -> Option<NativeRequest> {
        let seq = self.seq;
        match self.state {
            State::Reset => Some(NativeRequest::DiscoveryReset { seq }),
            State::Query { range, .. } => Some(NativeRequest::Discover {
                seq,
                scope: self.config.scope,
                slots: self.config.slots.max(1),
                slot_ms: self.config.slot_ms.max(1),
                lo: range.lo,
                hi: range.hi,
            }),
            State::Assign { uid, address, .. } => Some(NativeRequest::AssignAddress { seq, uid, address }),
            State::Finished(_) => None,
        }
    }

    /// Whether the current request draws answers (a `DiscoveryReset` does not: send it, wait
    /// the inter-frame gap, and report [`DiscoveryOutcome::Silence`]).
    pub fn expects_reply(&self) -> bool {
        matches!(self.state, State::Query { .. } | State::Assign { .. })
    }

    /// How long to listen after the current request, in ms, at `baud` bit/s: the board's
    /// turnaround, every slot, one answer frame, and the idle gap that ends it.
    pub fn listen_ms(&self, baud: u32) -> u32 {
        let frame = super::frame_time_ms(super::DISCOVER_ANSWER_LEN, baud);
        let base = super::MAX_TURNAROUND_MS + frame + super::IDLE_GAP_MS;
        match self.state {
            State::Query { .. } => base + u32::from(self.config.slots.max(1)) * u32::from(self.config.slot_ms.max(1)),
            State::Assign { .. } => base,
            State::Reset | State::Finished(_) => super::IDLE_GAP_MS,
        }
    }

    /// Takes what was heard after the request from [`Discovery::next_request`].
    pub fn on_outcome(&mut self, outcome: DiscoveryOutcome) {
        if matches!(self.state, State::Finished(_)) {
            return;
        }
        self.seq = self.seq.wrapping_add(1);
        self.requests = self.requests.saturating_add(1);
        self.state = match self.state {
            State::Reset => self.start_pass(),
            State::Query { range, noise } => self.after_query(range, noise, outcome),
            State::Assign { uid, address, range, attempts } => {
                self.after_assign(uid, address, range, attempts, outcome)
            }
            finished @ State::Finished(_) => finished,
        };
        if self.requests >= self.config.max_requests && !matches!(self.state, State::Finished(_)) {
            self.state = State::Finished(DiscoveryEnd::RequestBudget);
        }
    }

    /// Why the search ended, or `None` while it runs.
    pub fn end(&self) -> Option<DiscoveryEnd> {
        match self.state {
            State::Finished(end) => Some(end),
            _ => None,
        }
    }

    /// The boards found so far, in the order they were addressed.
    pub fn found(&self) -> &[FoundBoard] {
        self.found.get(..self.found_len).unwrap_or_default()
    }

    /// Boards that answered `Discover` but never confirmed an `AssignAddress`, with the address
    /// they were sent. A board may have taken it with every answer lost, so that address is
    /// given to nobody else; `GetInfo` to it (its reply carries the uid) tells. A given-up
    /// board that answers `Discover` again in a later pass is sent the same address again.
    pub fn given_up(&self) -> &[FoundBoard] {
        self.given_up.get(..self.given_up_len).unwrap_or_default()
    }

    /// Single-uid ranges abandoned because they kept answering garbage, and ranges dropped
    /// because the range stack was full: 0 after a clean search.
    pub fn unresolved(&self) -> u32 {
        self.unresolved
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    fn start_pass(&mut self) -> State {
        self.pass_mark = self.progress;
        State::Query { range: FULL, noise: 0 }
    }

    /// The next pending range, or the end of a pass.
    fn next_range(&mut self) -> State {
        if let Some(range) = self.pop() {
            return State::Query { range, noise: 0 };
        }
        if self.progress == self.pass_mark {
            self.quiet_passes = self.quiet_passes.saturating_add(1);
        } else {
            self.quiet_passes = 0;
        }
        if self.quiet_passes >= self.config.final_checks.max(1) {
            State::Finished(DiscoveryEnd::Complete)
        } else {
            self.start_pass()
        }
    }

    fn after_query(&mut self, range: Range, noise: u8, outcome: DiscoveryOutcome) -> State {
        match outcome {
            DiscoveryOutcome::Silence => self.next_range(),
            DiscoveryOutcome::Reply { uid, address } if range.lo <= uid && uid <= range.hi => {
                if self.found().iter().any(|b| b.uid == uid) {
                    // Addressed, yet it answers: it does not mute. Search around it.
                    self.exclude(uid, range)
                } else if let Some(earlier) = self.given_up().iter().find(|b| b.uid == uid) {
                    State::Assign { uid, address: earlier.address, range, attempts: 0 }
                } else {
                    self.assign(uid, address, range)
                }
            }
            DiscoveryOutcome::Reply { .. } | DiscoveryOutcome::Collision => {
                if range.lo == range.hi {
                    if noise < self.config.retries {
                        State::Query { range, noise: noise + 1 }
                    } else {
                        self.unresolved = self.unresolved.saturating_add(1);
                        self.next_range()
                    }
                } else {
                    let mid = range.lo + (range.hi - range.lo) / 2;
                    self.push(Range { lo: mid + 1, hi: range.hi });
                    State::Query { range: Range { lo: range.lo, hi: mid }, noise: 0 }
                }
            }
        }
    }

    fn after_assign(&mut self, uid: u64, address: u8, range: Range, attempts: u8, outcome: DiscoveryOutcome) -> State {
        match outcome {
            DiscoveryOutcome::Reply { uid: got, address: from } if got == uid && from == address => {
                let Some(slot) = self.found.get_mut(self.found_len) else {
                    return State::Finished(DiscoveryEnd::TableFull);
                };
                *slot = FoundBoard { uid, address };
                self.found_len += 1;
                self.used.insert(address);
                self.forget_given_up(uid);
                self.progress = self.progress.saturating_add(1);
                // Ask the same range again: a second board may have been drowned by this one.
                State::Query { range, noise: 0 }
            }
            _ if attempts < self.config.retries => State::Assign { uid, address, range, attempts: attempts + 1 },
            _ => {
                // The board may hold the address now: give it to nobody else.
                self.used.insert(address);
                if !self.given_up().iter().any(|b| b.uid == uid) {
                    match self.given_up.get_mut(self.given_up_len) {
                        Some(slot) => {
                            *slot = FoundBoard { uid, address };
                            self.given_up_len += 1;
                        }
                        None => self.unresolved = self.unresolved.saturating_add(1),
                    }
                    self.progress = self.progress.saturating_add(1);
                }
                self.exclude(uid, range)
            }
        }
    }

    /// Starts addressing `uid`, which answered from `current`.
    fn assign(&mut self, uid: u64, current: u8, range: Range) -> State {
        if self.found_len >= MAX {
            return State::Finished(DiscoveryEnd::TableFull);
        }
        match self.allocate(current) {
            Some(address) => State::Assign { uid, address, range, attempts: 0 },
            None => State::Finished(DiscoveryEnd::AddressesExhausted),
        }
    }

    /// Continues with `range` minus `uid`.
    fn exclude(&mut self, uid: u64, range: Range) -> State {
        if uid < range.hi {
            self.push(Range { lo: uid + 1, hi: range.hi });
        }
        if uid > range.lo {
            State::Query { range: Range { lo: range.lo, hi: uid - 1 }, noise: 0 }
        } else {
            self.next_range()
        }
    }

    fn forget_given_up(&mut self, uid: u64) {
        let len = self.given_up_len;
        if let Some(list) = self.given_up.get_mut(..len)
            && let Some(i) = list.iter().position(|b| b.uid == uid)
        {
            list.copy_within(i + 1.., i);
            self.given_up_len -= 1;
        }
    }

    fn allocate(&self, current: u8) -> Option<u8> {
        let keep = self.config.scope == DiscoverScope::All && self.config.keep_addresses;
        if keep && is_unicast(current) && !self.used.contains(current) {
            return Some(current);
        }
        (self.config.first_address..=self.config.last_address).find(|&a| is_unicast(a) && !self.used.contains(a))
    }

    fn push(&mut self, range: Range) {
        match self.stack.get_mut(self.depth) {
            Some(slot) => {
                *slot = range;
                self.depth += 1;
            }
            None => self.unresolved = self.unresolved.saturating_add(1),
        }
    }

    fn pop(&mut self) -> Option<Range> {
        self.depth = self.depth.checked_sub(1)?;
        self.stack.get(self.depth).copied()
    }
}
