//! The cabinet: 3 native-protocol boards × 16 channels = 48 compartments, driven by lockdrv's
//! real blocking `BusMaster`, with lockdrv's compartment `Locker` deciding.
//!
//! The loop is the one an edge daemon runs: every request to the locker is journaled first
//! (write-ahead, `lockdrv::compartment::persist`), then applied; the actions that come out are
//! carried out (a `Pulse` becomes an unlock through the master; an acknowledged unlock is fed
//! back as `PulseAcked`, which is not evidence that the door opened); board status polls feed
//! door and presence readings back (presence first, so that a door closing sees the parcel);
//! a board that stops answering puts its 16 compartments offline; after every step both
//! invariant checks of `lockdrv::compartment::invariants` run and are counted.

use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use lockdrv::compartment::{
    Action, CompartmentSpec, Config, Door, Event, FeeSchedule, Intent, JournalEntry, Locker, Notice, Presence,
    Report as LockerReport, Size, State, TxnId, check_invariants, check_step, restore,
};
use lockdrv::master::blocking::BusMaster;
use lockdrv::master::{Clock, UnlockOutcome};
use lockproto::Lock;
use lockproto::native::Native;

use crate::events::{Ev, Ms};
use crate::words;

/// Boards on the bus.
pub const BOARDS: usize = 3;
/// Channels used on each board.
pub const CHANNELS: usize = 16;
/// Compartments.
pub const N: usize = BOARDS * CHANNELS;
/// Journal entries kept before a new snapshot is taken.
const SNAPSHOT_EVERY: usize = 256;

/// How the cabinet's clock moves: virtual time on the simulated bus, or wall-clock time on a
/// real serial port (where long idle stretches are skipped rather than waited out).
pub trait Wire {
    /// The day's time now, ms.
    fn now_ms(&mut self) -> Ms;
    /// Lets time pass until `t`.
    fn advance_to(&mut self, t: Ms);
}

/// The size of compartment `index`: per board 8 small, 5 medium and 3 large.
pub fn size_of(index: usize) -> Size {
    match index % CHANNELS {
        0..=7 => Size::S,
        8..=12 => Size::M,
        _ => Size::L,
    }
}

/// The demo's locker configuration: the library defaults (vendor documents, domain.md §2.3),
/// with the pickup window and the fee schedule shortened so that one day shows expiry and
/// fees: pickup within 12 h, 6 h free, then 1.00 per started 3 h, capped at 5.00.
pub fn demo_config() -> Config {
    Config {
        pickup_window_ms: 12 * 3_600_000,
        fees: FeeSchedule { free_ms: 6 * 3_600_000, period_ms: 3 * 3_600_000, price_per_period: 100, cap: 500 },
        ..Config::default()
    }
}

/// A new locker with the demo's compartments (every one with a presence sensor).
pub fn new_locker() -> Locker<N> {
    let specs: [CompartmentSpec; N] =
        core::array::from_fn(|i| CompartmentSpec { size: size_of(i), presence_sensor: true });
    Locker::new(demo_config(), specs)
}

/// The name of a business state for the grid, the event stream and the cloud.
pub fn state_name(state: &State) -> String {
    match state {
        State::Faulted { reason, .. } => format!("Faulted({reason:?})"),
        State::OutOfService { reason, .. } => format!("OutOfService({reason:?})"),
        other => format!("{:?}", other.kind()),
    }
}

/// The parcel a state holds or is reserved for.
pub fn state_parcel(state: &State) -> Option<u32> {
    state.held().map(|h| h.parcel.id.0).or_else(|| state.parcel().map(|p| p.id.0))
}

#[derive(Debug, Clone, Copy)]
struct BoardView {
    address: u8,
    online: bool,
    doors: [Option<bool>; CHANNELS],
    presence: [Option<bool>; CHANNELS],
}

/// The cabinet and its controller state.
pub struct Cabinet<P, Dl, Ck, W> {
    master: BusMaster<Native, P, Dl, Ck>,
    /// The clock.
    pub wire: W,
    locker: Locker<N>,
    journal: Vec<JournalEntry>,
    snapshot: String,
    boards: [BoardView; BOARDS],
    reported: Vec<(String, Option<u32>)>,
    /// Events produced and not yet taken by the daemon.
    pub out: Vec<Ev>,
    /// Invariant checks run.
    pub checks: u64,
    powered: bool,
}

fn mk_view(address: u8) -> BoardView {
    BoardView { address, online: true, doors: [None; CHANNELS], presence: [None; CHANNELS] }
}

impl<P, Dl, Ck, W> Cabinet<P, Dl, Ck, W> {
    /// The locker (read only: every change goes through [`Cabinet::submit`]).
    pub fn locker(&self) -> &Locker<N> {
        &self.locker
    }

    /// Whether board `b` answers.
    pub fn board_online(&self, b: usize) -> bool {
        self.boards.get(b).is_some_and(|v| v.online)
    }

    /// Whether the controller has power.
    pub fn powered(&self) -> bool {
        self.powered
    }
}

impl<P, Dl, Ck, W> Cabinet<P, Dl, Ck, W>
where
    P: Read + Write + ReadReady,
    Dl: DelayNs,
    Ck: Clock,
    W: Wire,
{
    /// A cabinet on `master`, boards at `addresses`; boots the locker and reads every board.
    pub fn boot(master: BusMaster<Native, P, Dl, Ck>, wire: W, addresses: [u8; BOARDS]) -> Self {
        let locker = new_locker();
        let snapshot = serde_json::to_string(&locker).unwrap_or_default();
        let mut cabinet = Cabinet {
            master,
            wire,
            locker,
            journal: Vec::new(),
            snapshot,
            boards: addresses.map(mk_view),
            reported: vec![(String::new(), None); N],
            out: Vec::new(),
            checks: 0,
            powered: true,
        };
        let _ = cabinet.submit(Intent::Boot { down_since: 0 });
        cabinet.poll_boards();
        cabinet
    }

    /// Journals and applies one request; carries out its actions.
    ///
    /// # Errors
    /// The locker's refusal.
    pub fn submit(&mut self, intent: Intent) -> Result<(), lockdrv::compartment::Refusal> {
        let at = self.wire.now_ms().max(self.locker.now());
        let entry = JournalEntry { at, intent };
        self.journal.push(entry);
        let before = self.locker.clone();
        let mut actions = Vec::new();
        let result = self.locker.apply_intent(entry, &mut |i: usize, a: Action| actions.push((i, a)));
        let event = match intent {
            Intent::Handle { event, .. } => Some(event),
            Intent::Boot { down_since } => Some(Event::Boot { down_since }),
            Intent::Tick => Some(Event::Tick),
            _ => None,
        };
        self.check(Some(&before), event.as_ref(), &actions);
        self.carry_out(actions);
        if self.journal.len() >= SNAPSHOT_EVERY {
            self.take_snapshot();
        }
        result
    }

    fn take_snapshot(&mut self) {
        if let Ok(s) = serde_json::to_string(&self.locker) {
            self.snapshot = s;
            self.journal.clear();
        }
    }

    fn check(&mut self, before: Option<&Locker<N>>, event: Option<&Event>, actions: &[(usize, Action)]) {
        self.checks += 1;
        if let Err(v) = check_invariants(&self.locker) {
            self.out.push(Ev::Violation { what: v.to_string() });
        }
        if let Some(before) = before {
            self.checks += 1;
            if let Err(v) = check_step(before, &self.locker, event, actions) {
                self.out.push(Ev::Violation { what: v.to_string() });
            }
        }
    }

    fn carry_out(&mut self, actions: Vec<(usize, Action)>) {
        let mut pulses = Vec::new();
        for (i, action) in actions {
            let ev = match action {
                Action::Pulse { txn, attempt, .. } => {
                    pulses.push((i, txn, attempt));
                    continue;
                }
                Action::RaiseAlarm(a) => Ev::Alarm { compartment: i, alarm: words::alarm_name(a).into() },
                Action::ClearAlarm(a) => Ev::AlarmCleared { compartment: i, alarm: words::alarm_name(a).into() },
                Action::Notify(Notice::PickedUp(p)) => Ev::PickedUp { compartment: i, parcel: p.0 },
                Action::Notify(n) => Ev::Note { compartment: i, what: format!("{n:?}"), text: words::notice(&n) },
                Action::Bill { parcel, amount } => Ev::Fee { compartment: i, parcel: parcel.0, amount },
                Action::Report(LockerReport::Deposited(p)) => Ev::Deposited { compartment: i, parcel: p.0 },
                Action::Report(LockerReport::Retrieved(p)) => Ev::Retrieved { compartment: i, parcel: p.0 },
                Action::Report(r) => Ev::Note { compartment: i, what: format!("{r:?}"), text: words::report(&r) },
                other => Ev::Note { compartment: i, what: format!("{other:?}"), text: format!("{other:?}") },
            };
            self.out.push(ev);
        }
        self.report_states();
        for (i, txn, attempt) in pulses {
            self.pulse(i, txn, attempt);
        }
    }

    fn report_states(&mut self) {
        for (i, c) in self.locker.compartments().iter().enumerate() {
            let now = (state_name(&c.state()), state_parcel(&c.state()));
            if let Some(slot) = self.reported.get_mut(i)
                && *slot != now
            {
                *slot = now.clone();
                self.out.push(Ev::State { compartment: i, state: now.0, parcel: now.1 });
            }
        }
    }

    /// The board index, its address and the lock of compartment `i`.
    fn place(&self, i: usize) -> Option<(usize, u8, Lock)> {
        let b = i / CHANNELS;
        let lock = Lock::from_index(i % CHANNELS)?;
        Some((b, self.boards.get(b)?.address, lock))
    }

    fn pulse(&mut self, i: usize, txn: TxnId, attempt: u8) {
        let Some((_, address, lock)) = self.place(i) else { return };
        let outcome = match self.master.unlock(address, lock) {
            Ok(report) => match report.outcome {
                UnlockOutcome::Confirmed => "acknowledged".to_owned(),
                UnlockOutcome::Refused(e) => format!("refused by the board ({:?})", e.kind),
                UnlockOutcome::Unknown => "reply lost: outcome unknown, not resent".to_owned(),
                UnlockOutcome::Sent => "sent".to_owned(),
                _ => "other".to_owned(),
            },
            Err(e) => format!("not sent: {e}"),
        };
        let acked = outcome == "acknowledged";
        self.out.push(Ev::Pulse { compartment: i, board: address, lock: lock.get(), txn: txn.0, attempt, outcome });
        if acked {
            // An acknowledgement, not a door: only a reading moves the business state (F2).
            let _ = self.submit(Intent::Handle { index: i, event: Event::PulseAcked(txn) });
        }
    }

    /// Reads every board once and feeds what changed.
    pub fn poll_boards(&mut self) {
        self.poll_some([true; BOARDS]);
    }

    /// Reads the boards marked in `which` once and feeds what changed.
    pub fn poll_some(&mut self, which: [bool; BOARDS]) {
        if !self.powered {
            return;
        }
        for (b, poll) in which.into_iter().enumerate() {
            if poll {
                self.poll_board(b);
            }
        }
        if self.locker.next_deadline().is_some_and(|d| d <= self.wire.now_ms()) {
            let _ = self.submit(Intent::Tick);
        }
    }

    fn poll_board(&mut self, b: usize) {
        let Some(view) = self.boards.get(b).copied() else { return };
        let first = b * CHANNELS;
        match self.master.status(view.address) {
            Ok(status) => {
                if !view.online {
                    self.out.push(Ev::BoardOnline { board: view.address });
                    for i in first..first + CHANNELS {
                        let _ = self.submit(Intent::Handle { index: i, event: Event::BoardOnline });
                    }
                }
                let mut fresh = view;
                fresh.online = true;
                let mut events = Vec::new();
                for ch in 0..CHANNELS {
                    let Some(lock) = Lock::from_index(ch) else { continue };
                    let presence = status.presence.and_then(|p| p.get(lock));
                    let door = status.doors.and_then(|d| d.get(lock));
                    if let (Some(p), Some(slot)) = (presence, fresh.presence.get_mut(ch))
                        && (*slot != Some(p) || !view.online)
                    {
                        *slot = Some(p);
                        let reading = if p { Presence::Occupied } else { Presence::Empty };
                        events.push((first + ch, Event::Presence(reading)));
                    }
                    if let (Some(d), Some(slot)) = (door, fresh.doors.get_mut(ch))
                        && (*slot != Some(d) || !view.online)
                    {
                        *slot = Some(d);
                        events.push((first + ch, Event::Door(if d { Door::Open } else { Door::Closed })));
                    }
                }
                if let Some(v) = self.boards.get_mut(b) {
                    *v = fresh;
                }
                // Presence before doors: a door closing must see the parcel it closed on.
                events.sort_by_key(|(_, e)| !matches!(e, Event::Presence(_)));
                for (index, event) in events {
                    let _ = self.submit(Intent::Handle { index, event });
                }
            }
            Err(_) => {
                if view.online && !self.master.health(view.address).online {
                    self.out.push(Ev::BoardOffline { board: view.address });
                    if let Some(v) = self.boards.get_mut(b) {
                        *v = BoardView { online: false, ..mk_view(view.address) };
                    }
                    for i in first..first + CHANNELS {
                        let _ = self.submit(Intent::Handle { index: i, event: Event::BoardOffline });
                    }
                }
            }
        }
    }

    /// The power goes off: the controller's RAM (the live locker) is lost; the snapshot and
    /// the journal written since survive on disk.
    pub fn power_cut(&mut self) {
        self.powered = false;
        self.out.push(Ev::PowerCut);
    }

    /// Power is back: the locker is rebuilt from the snapshot and the journal (no action is
    /// replayed), then booted; every reading is Unknown until the boards are read again.
    pub fn power_back(&mut self) {
        let Ok(snapshot) = serde_json::from_str::<Locker<N>>(&self.snapshot) else {
            self.out.push(Ev::Violation { what: "snapshot unreadable".into() });
            return;
        };
        let journal = std::mem::take(&mut self.journal);
        let entries = journal.len();
        let now = self.wire.now_ms();
        let mut actions = Vec::new();
        self.locker = restore(snapshot, journal, now, &mut |i: usize, a: Action| actions.push((i, a)));
        self.powered = true;
        self.out.push(Ev::Restored { journal_entries: entries });
        self.check(None, None, &actions);
        // The daemon's RAM is gone: every state is reported again (a full resync after boot).
        self.reported = vec![(String::new(), None); N];
        self.carry_out(actions);
        self.take_snapshot();
        for v in &mut self.boards {
            *v = BoardView { online: v.online, ..mk_view(v.address) };
        }
        self.poll_boards();
    }

    /// The boards with something in progress that needs fast polling (an open, an open door,
    /// an open window).
    pub fn busy_boards(&self) -> [bool; BOARDS] {
        let mut busy = [false; BOARDS];
        for (i, c) in self.locker.compartments().iter().enumerate() {
            if (c.pending().is_some() || c.observed().door == Door::Open || c.state().is_open_window())
                && let Some(b) = busy.get_mut(i / CHANNELS)
            {
                *b = true;
            }
        }
        busy
    }

    /// Sends the bus master's statistics along (for the report).
    pub fn master_stats(&self) -> lockdrv::master::MasterStats {
        self.master.stats()
    }
}
