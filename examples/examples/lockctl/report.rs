//! What the bus commands print: a board's channels as a table or as JSON, and the changes
//! `watch` sees between two readings.
//!
//! Lock feedback is raw on the wire; [`FeedbackPolarity`] (installation configuration,
//! reference/lockboards.md §10 item 4) says which reading means locked. Doors and parcel
//! presence are reported only by boards that have the sensors (active = open / occupied).

use lockproto::{BoardStatus, FeedbackPolarity, Lock, LockSet, LockState};
use serde_json::{Value, json};

/// One channel of a status reading; `None` where the board does not report the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelView {
    /// The lock number (1-based).
    pub lock: Lock,
    /// The lock's state by its feedback and the polarity.
    pub lock_state: Option<LockState>,
    /// The door sensor: open.
    pub door_open: Option<bool>,
    /// The presence sensor: a parcel is in.
    pub parcel: Option<bool>,
}

/// The channels of `status`, in lock order: every channel any input reports.
pub fn channels(status: &BoardStatus, polarity: FeedbackPolarity) -> Vec<ChannelView> {
    let doors = status.doors.unwrap_or_default();
    let presence = status.presence.unwrap_or_default();
    let reported: LockSet = status.locks.reported.union(doors.reported).union(presence.reported);
    reported
        .iter()
        .map(|lock| ChannelView {
            lock,
            lock_state: status.locks.get(lock).map(|active| polarity.lock_state(active)),
            door_open: doors.get(lock),
            parcel: presence.get(lock),
        })
        .collect()
}

/// The name of a polarity as the command line and JSON spell it.
pub fn polarity_name(polarity: FeedbackPolarity) -> &'static str {
    match polarity {
        FeedbackPolarity::ActiveWhenUnlocked => "active-when-unlocked",
        _ => "active-when-locked",
    }
}

fn lock_state_name(state: LockState) -> &'static str {
    match state {
        LockState::Locked => "locked",
        LockState::Unlocked => "unlocked",
    }
}

/// The channels of `status` as JSON: lock number, lock state, door, parcel (`null` where the
/// board does not report the input).
pub fn channels_json(status: &BoardStatus, polarity: FeedbackPolarity) -> Value {
    channels(status, polarity)
        .iter()
        .map(|c| {
            json!({
                "lock": c.lock.get(),
                "lock_state": c.lock_state.map(lock_state_name),
                "door": c.door_open.map(|open| if open { "open" } else { "closed" }),
                "parcel": c.parcel,
            })
        })
        .collect()
}

/// The JSON line of a board that answered.
pub fn status_json(dialect: &str, board: u8, status: &BoardStatus, polarity: FeedbackPolarity) -> Value {
    json!({
        "dialect": dialect,
        "board": board,
        "online": true,
        "polarity": polarity_name(polarity),
        "channels": channels_json(status, polarity),
        "status": serde_json::to_value(status).unwrap_or(Value::Null),
    })
}

/// The JSON line of a board that did not answer.
pub fn offline_json(dialect: &str, board: u8, error: &str) -> Value {
    json!({ "dialect": dialect, "board": board, "online": false, "error": error })
}

/// A board's reading as a table: a row per input the board reports, a column per channel.
pub fn status_table(board: u8, status: &BoardStatus, polarity: FeedbackPolarity) -> String {
    let channels = channels(status, polarity);
    let mut out = format!("board {board:<5}  ");
    for c in &channels {
        out.push_str(&format!("{:>3}", c.lock.get()));
    }
    out.push('\n');
    let row = |name: &str, cell: &dyn Fn(&ChannelView) -> Option<&'static str>| -> Option<String> {
        if channels.iter().all(|c| cell(c).is_none()) {
            return None;
        }
        let mut line = format!("  {name:<9}  ");
        for c in &channels {
            line.push_str(&format!("{:>3}", cell(c).unwrap_or("?")));
        }
        line.push('\n');
        Some(line)
    };
    let lock = |c: &ChannelView| {
        c.lock_state.map(|s| match s {
            LockState::Locked => "L",
            LockState::Unlocked => "U",
        })
    };
    let door = |c: &ChannelView| c.door_open.map(|open| if open { "O" } else { "-" });
    let parcel = |c: &ChannelView| c.parcel.map(|p| if p { "P" } else { "." });
    for line in [row("lock", &lock), row("door", &door), row("parcel", &parcel)].into_iter().flatten() {
        out.push_str(&line);
    }
    out
}

/// What the table letters mean.
pub fn legend(polarity: FeedbackPolarity) -> String {
    format!(
        "lock: L locked, U unlocked (feedback polarity {}); door: O open, - shut; parcel: P present, . empty; ? not reported",
        polarity_name(polarity)
    )
}

/// A change between two readings of a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A lock's feedback changed.
    Lock(Lock, LockState),
    /// A door opened (`true`) or shut.
    Door(Lock, bool),
    /// A parcel appeared (`true`) or went.
    Parcel(Lock, bool),
    /// The board answered again (`true`) or stopped answering.
    Online(bool),
    /// A lock output was switched on (`true`) or off (native event log).
    Pulse(Lock, bool),
    /// A pulse ended with the door still shut (native event log).
    Jam(Lock),
    /// The board started (native event log).
    Rebooted,
}

/// The changes from `before` to `after` (channels matched by lock number).
pub fn changes(before: &[ChannelView], after: &[ChannelView]) -> Vec<Change> {
    let mut out = Vec::new();
    for now in after {
        let Some(was) = before.iter().find(|c| c.lock == now.lock) else { continue };
        if let (Some(a), Some(b)) = (was.lock_state, now.lock_state)
            && a != b
        {
            out.push(Change::Lock(now.lock, b));
        }
        if let (Some(a), Some(b)) = (was.door_open, now.door_open)
            && a != b
        {
            out.push(Change::Door(now.lock, b));
        }
        if let (Some(a), Some(b)) = (was.parcel, now.parcel)
            && a != b
        {
            out.push(Change::Parcel(now.lock, b));
        }
    }
    out
}

/// The JSON line of a change seen `t_ms` after `watch` started.
pub fn change_json(dialect: &str, t_ms: u64, board: u8, change: Change) -> Value {
    let (input, lock, state) = change_parts(change);
    json!({ "dialect": dialect, "t_ms": t_ms, "board": board, "input": input, "lock": lock, "state": state })
}

/// The text line of a change.
pub fn change_text(t_ms: u64, board: u8, change: Change) -> String {
    let (input, lock, state) = change_parts(change);
    match lock {
        Some(lock) => format!("{:>9.3} board {board} {input} {lock} {state}", t_ms as f64 / 1000.0),
        None => format!("{:>9.3} board {board} {state}", t_ms as f64 / 1000.0),
    }
}

fn change_parts(change: Change) -> (&'static str, Option<u8>, &'static str) {
    match change {
        Change::Lock(lock, state) => ("lock", Some(lock.get()), lock_state_name(state)),
        Change::Door(lock, open) => ("door", Some(lock.get()), if open { "open" } else { "closed" }),
        Change::Parcel(lock, present) => ("parcel", Some(lock.get()), if present { "present" } else { "absent" }),
        Change::Online(online) => ("board", None, if online { "online" } else { "offline" }),
        Change::Pulse(lock, on) => ("pulse", Some(lock.get()), if on { "started" } else { "ended" }),
        Change::Jam(lock) => ("lock", Some(lock.get()), "jammed"),
        Change::Rebooted => ("board", None, "rebooted"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockproto::ChannelBits;

    fn lock(n: u8) -> Lock {
        Lock::new(n).unwrap_or_else(|| unreachable!())
    }

    fn status(active: u128, doors: Option<u128>) -> BoardStatus {
        BoardStatus {
            locks: ChannelBits::from_bitmap(4, LockSet::from_bits(active)),
            doors: doors.map(|d| ChannelBits::from_bitmap(4, LockSet::from_bits(d))),
            presence: None,
        }
    }

    #[test]
    fn polarity_decides_what_active_feedback_means() {
        let reading = status(0b0001, None);
        let locked = channels(&reading, FeedbackPolarity::ActiveWhenLocked);
        let unlocked = channels(&reading, FeedbackPolarity::ActiveWhenUnlocked);
        assert_eq!(locked[0].lock_state, Some(LockState::Locked));
        assert_eq!(locked[1].lock_state, Some(LockState::Unlocked));
        assert_eq!(unlocked[0].lock_state, Some(LockState::Unlocked));
        assert_eq!(locked[0].door_open, None);
    }

    #[test]
    fn table_has_a_row_per_reported_input() {
        let table = status_table(2, &status(0b1110, Some(0b0001)), FeedbackPolarity::ActiveWhenLocked);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[0].starts_with("board 2"), "{table}");
        assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["lock", "U", "L", "L", "L"]);
        assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["door", "O", "-", "-", "-"]);
    }

    #[test]
    fn changes_name_the_input_and_the_new_state() {
        let polarity = FeedbackPolarity::ActiveWhenLocked;
        let before = channels(&status(0b1111, Some(0)), polarity);
        let after = channels(&status(0b1011, Some(0b0100)), polarity);
        assert_eq!(changes(&before, &after), [Change::Lock(lock(3), LockState::Unlocked), Change::Door(lock(3), true)]);
        assert!(changes(&after, &after).is_empty());
        let line = change_json("native", 5, 1, Change::Door(lock(3), true));
        assert_eq!(line["input"], "door");
        assert_eq!(line["state"], "open");
    }
}
