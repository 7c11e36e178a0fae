//! `scan`, `status`, `unlock` and `watch`: lockdrv's blocking bus master on the serial port.
//!
//! The master does the protocol work (framing by reply completion, timeouts, retries by
//! idempotency, per-board health and backoff); this module only chooses what to ask, in which
//! order, and how to print it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::{Duration, Instant};

use lockdrv::master::blocking::BusMaster;
use lockdrv::master::{BusDialect, Error, StdClock, UnlockOutcome, UnlockReport};
use lockproto::native::{EventKind, FaultCode, Native};
use lockproto::{BoardStatus, FeedbackPolarity, Lock, LockState};
use serde_json::{Value, json};

use crate::commands::Until;
use crate::port::{SerialPortIo, StdDelay};
use crate::report::{self, Change, ChannelView};

/// The bus master on a borrowed port.
pub type Master<'p, D> = BusMaster<D, &'p mut SerialPortIo, StdDelay, StdClock>;

/// The shortest silence that ends a frame on a host serial port, ms.
const HOST_GAP_MS: u32 = 25;

/// The master error on a serial port.
type BusError = Error<std::io::Error>;

/// What every bus command needs besides the dialect and the port.
#[derive(Clone, Copy)]
pub struct Opts {
    /// JSON Lines instead of text.
    pub json: bool,
    /// Lock feedback polarity.
    pub polarity: FeedbackPolarity,
    /// Response timeout instead of the dialect's default.
    pub timeout_ms: Option<u32>,
}

/// A master for `dialect` with the dialect's vendor defaults, except where the options (or the
/// command: `retries`) say otherwise.
pub fn master<D: BusDialect + Clone>(
    dialect: D,
    port: &mut SerialPortIo,
    timeout_ms: Option<u32>,
    retries: Option<u8>,
) -> Master<'_, D> {
    let mut config = dialect.default_config();
    // A host port (USB adapter, PTY) delivers bytes in bursts with OS scheduling gaps: a
    // frame is ended by at least 25 ms of silence there (reference/lockboards.md §10 item 1,
    // Open-Locker ADR-0067), never by the Modbus 3.5-character gap (4 ms at 9600 baud).
    config.inter_byte_gap_ms = config.inter_byte_gap_ms.max(HOST_GAP_MS);
    if let Some(ms) = timeout_ms {
        config.response_timeout_ms = ms;
    }
    if let Some(retries) = retries {
        config.query_retries = retries;
    }
    BusMaster::new(dialect, port, StdDelay, StdClock::new(), Some(config))
}

/// What went wrong with one board, without the board number the error's text repeats.
pub fn describe(error: &BusError) -> String {
    match error {
        Error::Timeout { .. } => "no reply within the response timeout".into(),
        Error::BoardBackingOff { .. } => "offline after failed attempts; backing off".into(),
        Error::Device { error, .. } => format!("the board refused ({:?}, code 0x{:02X})", error.kind, error.code),
        Error::UnexpectedReply { .. } => "the reply does not answer the request".into(),
        other => other.to_string(),
    }
}

/// The message of an error that ends the command.
fn fatal(error: &BusError) -> String {
    match error {
        Error::Read(e) => format!("reading the serial port failed: {e}"),
        Error::Write(e) => format!("writing the serial port failed: {e}"),
        other => other.to_string(),
    }
}

/// Port failures end a command; everything else is about one board.
fn port_failure(error: &BusError) -> bool {
    matches!(error, Error::Read(_) | Error::Write(_) | Error::DriverEnable)
}

fn print(line: impl std::fmt::Display) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| format!("writing stdout: {e}"))
}

/// A board's own event log, where the dialect has one (native boards, PROTOCOL.md §5.3): it
/// tells what happened between two polls, a jam included.
pub trait EventLog: BusDialect + Clone {
    /// Whether boards of this dialect keep an event log.
    const HAS_LOG: bool = false;

    /// Reads the board's events since the last read (the first read returns the whole log);
    /// `Ok(None)` where the dialect has no event log.
    fn new_events(_master: &mut Master<'_, Self>, _board: u8) -> Result<Option<Vec<EventKind>>, BusError> {
        Ok(None)
    }
}

impl EventLog for lockproto::dialect::kerong_cu12::KerongCu12 {}
impl EventLog for lockproto::dialect::kerong_cu16::KerongCu16 {}
impl EventLog for lockproto::dialect::bcc_8a80::Bcc8a80 {}
impl EventLog for lockproto::dialect::wkly::Wkly {}
impl EventLog for lockproto::dialect::winnsen::Winnsen {}
impl EventLog for lockproto::dialect::modbus_relay::ModbusRelay {}

impl EventLog for Native {
    const HAS_LOG: bool = true;

    fn new_events(master: &mut Master<'_, Self>, board: u8) -> Result<Option<Vec<EventKind>>, BusError> {
        let mut events = Vec::new();
        master.events(board, |event| events.push(event.kind))?;
        Ok(Some(events))
    }
}

/// A board found by `scan`: its status, or why it answered without one.
pub enum Found {
    /// It answered a status query.
    Status(BoardStatus),
    /// It answered, but not with a status (a refusal, a reply without neutral meaning).
    Answered(String),
}

/// Asks every address of `addresses` for its status, once (no retries: an address that stays
/// silent for the timeout has no board), and returns the boards that answered.
pub fn scan<D: BusDialect + Clone>(
    dialect: D,
    port: &mut SerialPortIo,
    addresses: (u8, u8),
    timeout_ms: u32,
) -> Result<Vec<(u8, Found)>, String> {
    let mut master = master(dialect, port, Some(timeout_ms), Some(0));
    let mut found = Vec::new();
    for board in addresses.0..=addresses.1 {
        match master.status(board) {
            Ok(status) => found.push((board, Found::Status(status))),
            Err(e) if port_failure(&e) => return Err(fatal(&e)),
            Err(e @ (Error::Device { .. } | Error::UnexpectedReply { .. })) => {
                found.push((board, Found::Answered(describe(&e))));
            }
            Err(_) => {}
        }
    }
    Ok(found)
}

/// The JSON line (or text) of one dialect's scan.
pub fn print_scan(
    dialect: &str,
    baud: u32,
    addresses: (u8, u8),
    found: &[(u8, Found)],
    opts: Opts,
) -> Result<(), String> {
    if opts.json {
        let boards: Vec<Value> = found
            .iter()
            .map(|(board, f)| match f {
                Found::Status(status) => {
                    let channels = report::channels(status, opts.polarity).len();
                    json!({ "board": board, "channels": channels })
                }
                Found::Answered(note) => json!({ "board": board, "channels": null, "note": note }),
            })
            .collect();
        return print(json!({
            "dialect": dialect, "baud": baud, "from": addresses.0, "to": addresses.1, "boards": boards,
        }));
    }
    if found.is_empty() {
        return print(format_args!("{dialect} at {baud} baud: no board answered at {}..={}", addresses.0, addresses.1));
    }
    print(format_args!(
        "{dialect} at {baud} baud: {} board(s) answered at {}..={}",
        found.len(),
        addresses.0,
        addresses.1
    ))?;
    for (board, f) in found {
        match f {
            Found::Status(status) => {
                print(format_args!("  board {board}: {} channels", report::channels(status, opts.polarity).len()))?;
            }
            Found::Answered(note) => print(format_args!("  board {board}: answers, but {note}"))?,
        }
    }
    Ok(())
}

/// Prints one board's status (table or JSON).
pub fn print_status(dialect: &str, board: u8, status: &BoardStatus, opts: Opts) -> Result<(), String> {
    if opts.json {
        print(report::status_json(dialect, board, status, opts.polarity))
    } else {
        print(report::status_table(board, status, opts.polarity).trim_end())
    }
}

fn print_offline(dialect: &str, board: u8, error: &str, opts: Opts) -> Result<(), String> {
    if opts.json {
        print(report::offline_json(dialect, board, error))
    } else {
        print(format_args!("board {board}: OFFLINE ({error})"))
    }
}

/// `status BOARD...`: each board's table, an offline line for each board that does not answer
/// (the others are still read). Returns whether every board answered.
pub fn status<D: BusDialect + Clone>(
    dialect: D,
    port: &mut SerialPortIo,
    boards: &[u8],
    opts: Opts,
) -> Result<bool, String> {
    let name = D::NAME;
    let mut master = master(dialect, port, opts.timeout_ms, None);
    let mut all = true;
    for &board in boards {
        match master.status(board) {
            Ok(status) => print_status(name, board, &status, opts)?,
            Err(e) if port_failure(&e) => return Err(fatal(&e)),
            Err(e) => {
                all = false;
                print_offline(name, board, &describe(&e), opts)?;
            }
        }
    }
    if !opts.json {
        print(report::legend(opts.polarity))?;
    }
    Ok(all)
}

/// How `unlock` decides that the door opened.
#[derive(Clone, Copy)]
pub struct DoorWatch {
    /// How long to look for the door after the outcome.
    pub wait: Duration,
    /// Time between status reads.
    pub interval: Duration,
    /// The longest unlock pulse: while it may last, released lock feedback proves nothing
    /// (the output holds the latch open), so it counts as the door open only after this.
    pub pulse: Duration,
}

/// What `unlock` saw of the door.
struct DoorSeen {
    /// "door_sensor" or "lock_feedback".
    evidence: &'static str,
    /// From the outcome to the reading that showed it.
    after: Duration,
}

/// Whether `status` shows `lock`'s door open: its door sensor, or (boards without door
/// sensors) its lock feedback released after the pulse can have ended.
fn door_evidence(
    status: &BoardStatus,
    lock: Lock,
    polarity: FeedbackPolarity,
    after_pulse: bool,
) -> Option<&'static str> {
    let channel: ChannelView = report::channels(status, polarity).into_iter().find(|c| c.lock == lock)?;
    match channel.door_open {
        Some(true) => Some("door_sensor"),
        Some(false) => None,
        None if after_pulse && channel.lock_state == Some(LockState::Unlocked) => Some("lock_feedback"),
        None => None,
    }
}

/// `unlock BOARD LOCK`: the outcome (confirmed, refused, unknown, sent), then status reads
/// until the door is seen open or `watch.wait` has passed. Exit: 0 door seen open, 1 refused,
/// 3 door not seen open.
pub fn unlock<D: EventLog>(
    dialect: D,
    port: &mut SerialPortIo,
    board: u8,
    lock: Lock,
    watch: DoorWatch,
    opts: Opts,
) -> Result<u8, String> {
    let name = D::NAME;
    let mut master = master(dialect, port, opts.timeout_ms, None);
    // Skip the events logged before this unlock (a failed read only costs the jam report).
    let has_log = matches!(D::new_events(&mut master, board), Ok(Some(_)));
    let report: UnlockReport = master.unlock(board, lock).map_err(|e| fatal(&e))?;
    let outcome_at = Instant::now();
    let (outcome, device_error) = match report.outcome {
        UnlockOutcome::Confirmed => ("confirmed", None),
        UnlockOutcome::Refused(error) => ("refused", Some(error)),
        UnlockOutcome::Unknown => ("unknown", None),
        UnlockOutcome::Sent => ("sent", None),
        _ => ("unknown", None),
    };
    let mut seen = None;
    let mut last_status = report.status_after;
    let mut failed_reads = 0u32;
    let mut jammed = false;
    if device_error.is_none() {
        if let Some(status) = &report.status_after
            && let Some(evidence) = door_evidence(status, lock, opts.polarity, false)
        {
            seen = Some(DoorSeen { evidence, after: Duration::ZERO });
        }
        while seen.is_none() && !jammed && outcome_at.elapsed() < watch.wait {
            let asked = outcome_at.elapsed();
            if has_log && let Ok(Some(events)) = D::new_events(&mut master, board) {
                for event in events {
                    match event {
                        EventKind::DoorOpened { lock: l } if l == lock && seen.is_none() => {
                            seen = Some(DoorSeen { evidence: "door_event", after: asked });
                        }
                        EventKind::Fault { lock: Some(l), fault: FaultCode::Jam } if l == lock => jammed = true,
                        _ => {}
                    }
                }
            }
            match master.status(board) {
                Ok(status) => {
                    if seen.is_none()
                        && let Some(evidence) = door_evidence(&status, lock, opts.polarity, asked >= watch.pulse)
                    {
                        seen = Some(DoorSeen { evidence, after: asked });
                    }
                    last_status = Some(status);
                }
                Err(e) if port_failure(&e) => return Err(fatal(&e)),
                Err(_) => failed_reads += 1,
            }
            if seen.is_none() && !jammed {
                std::thread::sleep(watch.interval.min(watch.wait.saturating_sub(outcome_at.elapsed())));
            }
        }
    }
    let latency_ms = report.latency_us as f64 / 1000.0;
    if opts.json {
        print(json!({
            "dialect": name,
            "board": board,
            "lock": lock.get(),
            "outcome": outcome,
            "device_error": device_error.map(|e| serde_json::to_value(e).unwrap_or(Value::Null)),
            "attempts": report.attempts,
            "latency_ms": latency_ms,
            "door_seen_open": seen.is_some(),
            "jam_reported": jammed,
            "evidence": seen.as_ref().map(|s| s.evidence),
            "seen_after_ms": seen.as_ref().map(|s| s.after.as_millis() as u64),
            "failed_status_reads": failed_reads,
            "channels_after": last_status.map(|s| report::channels_json(&s, opts.polarity)),
        }))?;
    } else {
        let what = match report.outcome {
            UnlockOutcome::Confirmed => "unlock confirmed by the board".to_string(),
            UnlockOutcome::Refused(e) => format!("unlock refused by the board ({:?}, code 0x{:02X})", e.kind, e.code),
            UnlockOutcome::Sent => "unlock sent; this dialect does not answer an unlock".to_string(),
            _ => "unlock outcome UNKNOWN: the reply was lost, and the unlock was not resent".to_string(),
        };
        let attempts = report.attempts;
        print(format_args!("board {board} lock {}: {what} [{attempts} attempt(s), {latency_ms:.1} ms]", lock.get()))?;
        if device_error.is_none() {
            match &seen {
                Some(s) => print(format_args!(
                    "board {board} lock {}: door seen open {:.2} s after the outcome ({})",
                    lock.get(),
                    s.after.as_secs_f64(),
                    s.evidence.replace('_', " ")
                ))?,
                None if jammed => print(format_args!(
                    "board {board} lock {}: door NOT seen open: the board reports the lock JAMMED (pulsed, door stayed shut)",
                    lock.get()
                ))?,
                None => {
                    let failed = match failed_reads {
                        0 => String::new(),
                        n => format!(" ({n} status read(s) failed)"),
                    };
                    print(format_args!(
                        "board {board} lock {}: door NOT seen open within {:.1} s{failed}",
                        lock.get(),
                        watch.wait.as_secs_f64(),
                    ))?;
                }
            }
        }
    }
    Ok(match (device_error, &seen) {
        (Some(_), _) => 1,
        (None, Some(_)) => 0,
        (None, None) => 3,
    })
}

/// What `watch` knows of a board.
enum Known {
    /// Not read yet.
    Unknown,
    /// Its last reading.
    Online(Vec<ChannelView>),
    /// The master marked it offline.
    Offline,
}

/// The change an event of a board's log records, where `watch` prints it.
fn event_change(event: EventKind) -> Option<Change> {
    match event {
        EventKind::DoorOpened { lock } => Some(Change::Door(lock, true)),
        EventKind::DoorClosed { lock } => Some(Change::Door(lock, false)),
        EventKind::Presence { lock, occupied } => Some(Change::Parcel(lock, occupied)),
        EventKind::PulseStarted { lock, .. } => Some(Change::Pulse(lock, true)),
        EventKind::PulseEnded { lock, .. } => Some(Change::Pulse(lock, false)),
        EventKind::Fault { lock: Some(lock), fault: FaultCode::Jam } => Some(Change::Jam(lock)),
        EventKind::Boot { .. } => Some(Change::Rebooted),
        _ => None,
    }
}

/// One poll of a board: its status diffed against the last one, or (boards with an event log)
/// the events logged since the last poll, so that a door opened and shut between two polls is
/// still seen. The first poll only sets the baseline.
fn poll_board<D: EventLog>(
    master: &mut Master<'_, D>,
    board: u8,
    known: &mut Known,
    polarity: FeedbackPolarity,
) -> Result<Vec<Change>, BusError> {
    let mut seen = Vec::new();
    let now = if D::HAS_LOG {
        let events = D::new_events(master, board)?.unwrap_or_default();
        if matches!(known, Known::Online(_)) {
            seen.extend(events.into_iter().filter_map(event_change));
        }
        Vec::new()
    } else {
        let now = report::channels(&master.status(board)?, polarity);
        if let Known::Online(before) = known {
            seen.extend(report::changes(before, &now));
        }
        now
    };
    if matches!(known, Known::Offline) {
        seen.insert(0, Change::Online(true));
    }
    *known = Known::Online(now);
    Ok(seen)
}

/// `watch`: polls `boards` every `interval` and prints each change (lock feedback, door,
/// presence, a board going offline or coming back; native boards: their logged door,
/// presence, pulse, jam and boot events) until `until`. Returns how many changes it printed.
pub fn watch<D: EventLog>(
    dialect: D,
    port: &mut SerialPortIo,
    boards: &[u8],
    interval: Duration,
    until: Until,
    opts: Opts,
) -> Result<u64, String> {
    let name = D::NAME;
    // No retries: a lost poll is simply the next poll, and a dead board costs one timeout.
    let mut master = master(dialect, port, opts.timeout_ms, Some(0));
    let start = Instant::now();
    let mut known: BTreeMap<u8, Known> = boards.iter().map(|&b| (b, Known::Unknown)).collect();
    let mut printed = 0u64;
    let done = |printed: u64| {
        until.count.is_some_and(|count| printed >= count) || until.run_for.is_some_and(|d| start.elapsed() >= d)
    };
    while !done(printed) {
        let round = Instant::now();
        for &board in boards {
            if done(printed) {
                break;
            }
            let entry = known.entry(board).or_insert(Known::Unknown);
            let seen = match poll_board(&mut master, board, entry, opts.polarity) {
                Ok(seen) => seen,
                Err(e) if port_failure(&e) => return Err(fatal(&e)),
                Err(_) if !master.health(board).online && !matches!(entry, Known::Offline) => {
                    *entry = Known::Offline;
                    vec![Change::Online(false)]
                }
                Err(_) => Vec::new(),
            };
            let t_ms = start.elapsed().as_millis() as u64;
            for change in seen {
                if done(printed) {
                    break;
                }
                if opts.json {
                    print(report::change_json(name, t_ms, board, change))?;
                } else {
                    print(report::change_text(t_ms, board, change))?;
                }
                printed += 1;
            }
        }
        let left = until.run_for.map_or(interval, |d| d.saturating_sub(start.elapsed()));
        std::thread::sleep(interval.saturating_sub(round.elapsed()).min(left));
    }
    Ok(printed)
}
