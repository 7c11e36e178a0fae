//! The daemon's event stream: one JSON object per line with `--json`, readable lines otherwise,
//! and the day's report, which is computed from the stream alone (so the two always agree; the
//! integration test recomputes it from the `--json` output).

use serde::Serialize;

use crate::words;

/// Virtual milliseconds since the start of the day (06:00).
pub type Ms = u64;

/// The clock time of a day offset, `HH:MM:SS` (the day starts at 06:00).
pub fn clock(t: Ms) -> String {
    let s = t / 1000 + 6 * 3600;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// One thing that happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ev {
    /// The script moves to a new scene.
    Scene { title: String },
    /// A label was scanned at the terminal (what the scan engine sent, decoded by `scanner`).
    Scan { label: String, outcome: String },
    /// A lock was pulsed through the bus master.
    Pulse { compartment: usize, board: u8, lock: u8, txn: u32, attempt: u8, outcome: String },
    /// A compartment's business state changed.
    State { compartment: usize, state: String, parcel: Option<u32> },
    /// A parcel was deposited (door closed on it, presence sensor occupied).
    Deposited { compartment: usize, parcel: u32 },
    /// A recipient took a parcel.
    PickedUp { compartment: usize, parcel: u32 },
    /// A courier took an expired parcel back.
    Retrieved { compartment: usize, parcel: u32 },
    /// A storage fee was charged.
    Fee { compartment: usize, parcel: u32, amount: u32 },
    /// An alarm was raised.
    Alarm { compartment: usize, alarm: String },
    /// An alarm was cleared.
    AlarmCleared { compartment: usize, alarm: String },
    /// Any other notice or report of the state machine: `what` is its name and value
    /// (`PickupExpired(ParcelId(1004))`), `text` the same in words.
    Note { compartment: usize, what: String, text: String },
    /// A request the locker or the credential store refused.
    Refused { what: String, why: String },
    /// A board stopped answering.
    BoardOffline { board: u8 },
    /// A board answers again.
    BoardOnline { board: u8 },
    /// The power went off.
    PowerCut,
    /// The daemon came back from its snapshot and journal.
    Restored { journal_entries: usize },
    /// The network went away.
    NetworkDown,
    /// The network is back.
    NetworkUp,
    /// A message reached the broker.
    Published { topic: String, msg_id: Option<u64>, qos: u8, retain: bool },
    /// A message waiting for the network was dropped because the queue was full.
    QueueDropped { topic: String },
    /// An invariant of the compartment state machine was broken (never expected).
    Violation { what: String },
    /// The end of the day.
    Report(Report),
}

/// The day's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Report {
    /// Parcels deposited.
    pub parcels_in: u64,
    /// Parcels picked up by recipients.
    pub picked_up: u64,
    /// Parcels retrieved by couriers.
    pub retrieved: u64,
    /// Alarms raised.
    pub alarms: u64,
    /// Fees charged, smallest currency unit.
    pub fees: u64,
    /// Messages delivered to the broker.
    pub delivered: u64,
    /// Messages dropped from the full outage queue.
    pub dropped: u64,
    /// Refused requests (wrong codes, lockouts, ...).
    pub refused: u64,
    /// Invariant checks run (state and step checks after every step).
    pub invariant_checks: u64,
    /// Invariant violations.
    pub violations: u64,
}

impl Report {
    /// Adds one event to the figures (everything but the invariant check count, which is not
    /// an event).
    pub fn count(&mut self, ev: &Ev) {
        match ev {
            Ev::Deposited { .. } => self.parcels_in += 1,
            Ev::PickedUp { .. } => self.picked_up += 1,
            Ev::Retrieved { .. } => self.retrieved += 1,
            Ev::Alarm { .. } => self.alarms += 1,
            Ev::Fee { amount, .. } => self.fees += u64::from(*amount),
            Ev::Published { .. } => self.delivered += 1,
            Ev::QueueDropped { .. } => self.dropped += 1,
            Ev::Refused { .. } => self.refused += 1,
            Ev::Violation { .. } => self.violations += 1,
            _ => {}
        }
    }
}

/// A one-line description of an event for the plain output.
pub fn describe(ev: &Ev) -> Option<String> {
    let c = |i: &usize| format!("#{:02}", i + 1);
    Some(match ev {
        Ev::Scene { title } => format!("== {title}"),
        Ev::Scan { label, outcome } => format!("scan {label}: {outcome}"),
        Ev::Pulse { compartment, board, lock, attempt, outcome, .. } => {
            format!("{} pulse board {board} lock {lock} (attempt {attempt}): {outcome}", c(compartment))
        }
        Ev::State { .. } | Ev::Published { .. } => return None,
        Ev::Deposited { compartment, parcel } => format!("{} parcel {parcel} deposited", c(compartment)),
        Ev::PickedUp { compartment, parcel } => format!("{} parcel {parcel} picked up", c(compartment)),
        Ev::Retrieved { compartment, parcel } => format!("{} parcel {parcel} retrieved by courier", c(compartment)),
        Ev::Fee { amount: 0, .. } => return None,
        Ev::Fee { compartment, parcel, amount } => {
            format!("{} fee for parcel {parcel}: {}.{:02}", c(compartment), amount / 100, amount % 100)
        }
        Ev::Alarm { alarm, .. } | Ev::AlarmCleared { alarm, .. } if alarm == "BoardOffline" => return None,
        Ev::Alarm { compartment, alarm } => format!("{} ALARM: {}", c(compartment), words::alarm(alarm)),
        Ev::AlarmCleared { compartment, alarm } => {
            format!("{} alarm cleared: {}", c(compartment), words::alarm(alarm))
        }
        // Said once per board ("board 3 OFFLINE") and by the alarm line, not once per compartment.
        Ev::Note { what, .. } if what.starts_with("ReadyForPickup") || what.starts_with("Fault(") => return None,
        Ev::Note { compartment, text, .. } => format!("{} {text}", c(compartment)),
        Ev::Refused { what, why } => format!("refused {what}: {why}"),
        Ev::BoardOffline { board } => format!("board {board} OFFLINE: its 16 compartments faulted, alarm raised"),
        Ev::BoardOnline { board } => format!("board {board} back online: readings fed, alarms cleared"),
        Ev::PowerCut => "POWER CUT".into(),
        Ev::Restored { journal_entries } => {
            format!("power back: state restored from snapshot + {journal_entries} journal entries")
        }
        Ev::NetworkDown => "network DOWN: cloud messages queue".into(),
        Ev::NetworkUp => "network back: delivering the queue".into(),
        Ev::QueueDropped { topic } => format!("queue full: dropped {topic}"),
        Ev::Violation { what } => format!("INVARIANT VIOLATION: {what}"),
        Ev::Report(_) => return None,
    })
}
