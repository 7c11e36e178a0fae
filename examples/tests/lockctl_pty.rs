//! `lockctl` against `board-sim`, run as a user runs them: two processes talking over a kernel
//! PTY, for every dialect. The JSON Lines output is checked with serde_json.
//!
//! Time here is real (board-sim follows the wall clock), but no assertion is about speed: each
//! scenario waits for what it expects with generous limits, and door openings are scheduled by
//! board-sim relative to the first request it receives (`--open-by-hand`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::time::Duration;

use lockdrv::sim::SimDialect;
use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::KerongCu12;
use lockproto::dialect::kerong_cu16::KerongCu16;
use lockproto::dialect::modbus_relay::ModbusRelay;
use lockproto::dialect::winnsen::Winnsen;
use lockproto::dialect::wkly::Wkly;
use lockproto::native::Native;
use lockproto::{Command as Neutral, Dialect};
use serde_json::Value;
use serialport::{SerialPort, TTYPort};

/// A child process killed when the test ends, even by a failed assertion.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `board-sim` with `boards` boards and extra arguments; returns it and its PTY path.
fn board_sim(dialect: SimDialect, boards: usize, extra: &[&str]) -> (Proc, String) {
    let mut child = Command::new(example_binary("board-sim"))
        .args(["--dialect", dialect.name(), "--boards", &boards.to_string(), "--for", "60"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let prefix = format!("board-sim: serving {boards} {} boards on ", dialect.name());
    let path =
        line.trim().strip_prefix(&prefix).unwrap_or_else(|| panic!("unexpected first line {line:?}")).to_string();
    (Proc(child), path)
}

/// Runs `lockctl` to the end.
fn lockctl(args: &[&str]) -> Output {
    Command::new(example_binary("lockctl")).args(args).output().unwrap()
}

/// Starts `lockctl` and waits until it says on stderr that its port is open.
fn lockctl_started(args: &[&str]) -> (Proc, BufReader<ChildStderr>) {
    let mut child = Command::new(example_binary("lockctl"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains(" open, "), "lockctl did not open its port: {line:?}");
    (Proc(child), stderr)
}

/// Waits for a started `lockctl` to end (it must, by its `--for`/`--count`) and collects it.
fn finish(mut proc: Proc, mut stderr: BufReader<ChildStderr>) -> (std::process::ExitStatus, String, String) {
    let mut out = String::new();
    proc.0.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    let status = proc.0.wait().unwrap();
    (status, out, err)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"))).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// sniff

/// `lockctl sniff` on board-sim's tap (a copy of the simulated wire) while `lockctl status`
/// reads the first board: the sniffer prints the request and the reply, each with its neutral
/// meaning, and the request's bytes are the dialect's status query (native requests carry the
/// master's sequence number, so only their meaning is checked).
fn sniff_sees_a_transaction<D: Dialect>(sim: SimDialect, dialect: D) {
    let (_server, path, tap_path) = board_sim_tapped(sim);
    let (sniffer, sniffer_err) = lockctl_started(&[
        "sniff",
        "--port",
        &tap_path,
        "--dialect",
        sim.name(),
        "--json",
        "--count",
        "2",
        "--for",
        "20",
    ]);
    let board = sim.address(0);
    let b0 = board.to_string();
    let output = lockctl(&["--port", &path, "--dialect", sim.name(), "status", &b0]);
    assert!(output.status.success(), "{sim}: {}", text(&output.stderr));

    let (status, out, err) = finish(sniffer, sniffer_err);
    assert!(status.success(), "{sim}: {status:?} {err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{sim}: {out}");
    assert_eq!(lines[0]["dialect"], sim.name());
    assert_eq!(lines[0]["dir"], "request");
    assert_eq!(lines[0]["offset"], 0);
    assert_eq!(lines[0]["neutral"]["board"], board, "{sim}: {}", lines[0]);
    assert_eq!(lines[0]["neutral"]["command"]["kind"], "query_all", "{sim}: {}", lines[0]);
    let request_bytes = lines[0]["bytes"].as_str().unwrap();
    if sim != SimDialect::Native {
        let request = dialect.request(board, &Neutral::QueryAll).unwrap();
        let mut frame = [0u8; 300];
        let len = dialect.encode_request(&request, &mut frame).unwrap();
        assert_eq!(request_bytes, hex(&frame[..len]), "{sim}");
    }
    assert_eq!(lines[1]["dir"], "reply");
    assert_eq!(lines[1]["offset"], request_bytes.split_whitespace().count());
    assert_eq!(lines[1]["neutral"]["board"], board, "{sim}: {}", lines[1]);
    assert_eq!(lines[1]["neutral"]["response"]["kind"], "status", "{sim}: {}", lines[1]);
    assert!(lines[1]["t_ms"].as_u64().unwrap() >= lines[0]["t_ms"].as_u64().unwrap());
}

/// board-sim with one board and `--tap`: it, its PTY path and its tap's path.
fn board_sim_tapped(sim: SimDialect) -> (Proc, String, String) {
    let mut child = Command::new(example_binary("board-sim"))
        .args(["--dialect", sim.name(), "--boards", "1", "--for", "60", "--tap"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim().to_string());
    }
    let last_word = |line: &str| line.rsplit(' ').next().unwrap().to_string();
    assert!(lines[2].starts_with("board-sim: tap"), "{lines:?}");
    (Proc(child), last_word(&lines[0]), last_word(&lines[2]))
}

#[test]
fn sniff_kerong_cu12() {
    sniff_sees_a_transaction(SimDialect::KerongCu12, KerongCu12::new());
}

#[test]
fn sniff_kerong_cu16() {
    sniff_sees_a_transaction(SimDialect::KerongCu16, KerongCu16::new());
}

#[test]
fn sniff_bcc_8a80() {
    sniff_sees_a_transaction(SimDialect::Bcc8a80, Bcc8a80::default());
}

#[test]
fn sniff_wkly() {
    sniff_sees_a_transaction(SimDialect::Wkly, Wkly::default());
}

#[test]
fn sniff_winnsen() {
    sniff_sees_a_transaction(SimDialect::Winnsen, Winnsen::default());
}

#[test]
fn sniff_modbus_relay() {
    sniff_sees_a_transaction(SimDialect::ModbusRelay, ModbusRelay::default());
}

#[test]
fn sniff_native() {
    sniff_sees_a_transaction(SimDialect::Native, Native::default());
}

#[test]
fn sniff_reports_garbage_and_a_cut_frame_and_exits_1() {
    let (mut tap, tap_slave) = TTYPort::pair().unwrap();
    let tap_path = tap_slave.name().unwrap();
    drop(tap_slave);
    let (sniffer, sniffer_err) =
        lockctl_started(&["sniff", "--port", &tap_path, "--dialect", "bcc-8a80", "--for", "1.5"]);
    // Garbage, a valid query (reference v-ids as in tests/lockctl.rs: QWM README "80 02 01 33 B0"),
    // then the first 3 bytes of a frame and silence.
    tap.write_all(&[0x55, 0x80, 0x02, 0x01, 0x33, 0xB0]).unwrap();
    tap.flush().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    tap.write_all(&[0x8A, 0x01, 0x01]).unwrap();
    tap.flush().unwrap();
    let (status, out, err) = finish(sniffer, sniffer_err);
    assert_eq!(status.code(), Some(1), "{out} {err}");
    let frames: Vec<&str> = out.lines().collect();
    assert_eq!(frames.len(), 1, "{out}");
    assert!(frames[0].contains("request") && frames[0].contains("80 02 01 33 B0"), "{out}");
    assert!(frames[0].contains("query_lock"), "{out}");
    let rejected: Vec<&str> = err.lines().filter(|l| l.contains("skipped")).collect();
    assert_eq!(rejected.len(), 2, "{err}");
    assert!(rejected[0].contains("1 byte(s) skipped from offset 0"), "{err}");
    assert!(rejected[1].contains("3 byte(s) skipped from offset 6"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// scan, scan --dialect auto, status, unlock

/// What differs between the dialects in these scenarios.
struct Case {
    /// `unlock`'s outcome: "confirmed", or "sent" where the dialect does not answer an unlock.
    outcome: &'static str,
    /// How `unlock` can see the door open: door sensors or events, else lock feedback.
    evidence: &'static [&'static str],
    /// The changes `watch` prints for a door opened and shut by hand: (input, states in order).
    door_changes: &'static [(&'static str, &'static [&'static str])],
}

const FEEDBACK_ONLY: &[(&str, &[&str])] = &[("lock", &["unlocked", "locked"])];
const LOCK_FEEDBACK: &[&str] = &["lock_feedback"];

fn case(sim: SimDialect) -> Case {
    match sim {
        SimDialect::KerongCu16 => Case {
            outcome: "sent",
            evidence: LOCK_FEEDBACK,
            // CU16 boards report presence; the simulated courier swaps the parcel on closing.
            door_changes: &[("lock", &["unlocked", "locked"]), ("parcel", &["present"])],
        },
        SimDialect::ModbusRelay => {
            Case { outcome: "confirmed", evidence: &["door_sensor"], door_changes: &[("door", &["open", "closed"])] }
        }
        SimDialect::Native => Case {
            outcome: "confirmed",
            evidence: &["door_sensor", "door_event"],
            // From the board's event log: doors and presence (lock feedback is not logged).
            door_changes: &[("door", &["open", "closed"]), ("parcel", &["present"])],
        },
        _ => Case { outcome: "confirmed", evidence: LOCK_FEEDBACK, door_changes: FEEDBACK_ONLY },
    }
}

/// An address where no simulated board answers.
const ABSENT: u8 = 9;

/// The response timeout is a margin, not a speed requirement: 28 of these tests run at once,
/// each with a board-sim process, and on two busy cores a reply took longer than 300 ms (a
/// present board read as offline). Only the absent board waits the whole timeout.
fn bus_args(path: &str, sim: SimDialect) -> Vec<&str> {
    vec!["--port", path, "--dialect", sim.name(), "--timeout-ms", "1000"]
}

/// scan, auto, status and unlock against one board-sim of two boards, one after the other.
fn scenario(sim: SimDialect) {
    let case = case(sim);
    let (_server, path) = board_sim(sim, 2, &[]);
    let (a0, a1) = (sim.address(0), sim.address(1));
    let channels = u64::from(sim.channels());

    // scan: both boards, nothing else, with their channel counts.
    let to = (a0 + 3).to_string();
    let mut args = bus_args(&path, sim);
    args.extend(["--json", "scan", "--to", &to]);
    let output = lockctl(&args);
    assert!(output.status.success(), "{sim} scan: {}", text(&output.stderr));
    let lines = json_lines(&text(&output.stdout));
    assert_eq!(lines.len(), 1, "{sim}: {lines:?}");
    assert_eq!(lines[0]["dialect"], sim.name());
    let boards: Vec<(u64, u64)> = lines[0]["boards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["board"].as_u64().unwrap(), b["channels"].as_u64().unwrap()))
        .collect();
    assert_eq!(boards, [(u64::from(a0), channels), (u64::from(a1), channels)], "{sim}");

    // scan --dialect auto: exactly this dialect answers.
    // `--to 1` is clamped into each dialect's range: addresses 0-1 or just 1. The timeout is
    // the margin of `bus_args`.
    let output =
        lockctl(&["--port", &path, "--dialect", "auto", "--timeout-ms", "1000", "scan", "--json", "--to", "1"]);
    assert!(output.status.success(), "{sim} auto: {}", text(&output.stderr));
    let lines = json_lines(&text(&output.stdout));
    assert_eq!(lines.len(), 7, "{sim}: one line per dialect tried: {lines:?}");
    let answered: Vec<&str> = lines
        .iter()
        .filter(|l| !l["boards"].as_array().unwrap().is_empty())
        .map(|l| l["dialect"].as_str().unwrap())
        .collect();
    assert_eq!(answered, [sim.name()], "{sim}");

    // status of both boards and an absent one: the absent one is offline, the others read.
    let absent = ABSENT.to_string();
    let (b0, b1) = (a0.to_string(), a1.to_string());
    let mut args = bus_args(&path, sim);
    args.extend(["status", "--json", &b0, &absent, &b1]);
    let output = lockctl(&args);
    assert_eq!(output.status.code(), Some(1), "{sim} status: {}", text(&output.stderr));
    let lines = json_lines(&text(&output.stdout));
    assert_eq!(lines.len(), 3, "{sim}: {lines:?}");
    assert_eq!(lines[1]["board"], ABSENT);
    assert_eq!(lines[1]["online"], false);
    assert!(lines[1]["error"].as_str().unwrap().contains("no reply"), "{sim}: {}", lines[1]);
    for (line, board) in [(&lines[0], a0), (&lines[2], a1)] {
        assert_eq!(line["board"], board);
        assert_eq!(line["online"], true);
        let channel_list = line["channels"].as_array().unwrap();
        assert_eq!(channel_list.len() as u64, channels, "{sim}: {line}");
        for (i, channel) in channel_list.iter().enumerate() {
            assert_eq!(channel["lock"], i + 1);
            // Every door shut: locks read locked (where reported), doors closed (where reported).
            assert!(channel["lock_state"].is_null() || channel["lock_state"] == "locked", "{sim}: {channel}");
            assert!(channel["door"].is_null() || channel["door"] == "closed", "{sim}: {channel}");
        }
    }

    // unlock: the outcome, and the door seen open (with the dialect's own response timeout:
    // 8A/80 boards answer an unlock 1 s late).
    let output = lockctl(&["--port", &path, "--dialect", sim.name(), "--json", "unlock", &b0, "2"]);
    let lines = json_lines(&text(&output.stdout));
    assert_eq!(lines.len(), 1, "{sim}: {lines:?} {}", text(&output.stderr));
    let report = &lines[0];
    assert_eq!(output.status.code(), Some(0), "{sim}: {report}");
    assert_eq!(report["outcome"], case.outcome, "{sim}: {report}");
    assert_eq!(report["attempts"], 1, "{sim}: {report}");
    assert_eq!(report["door_seen_open"], true, "{sim}: {report}");
    assert_eq!(report["jam_reported"], false, "{sim}: {report}");
    assert!(case.evidence.contains(&report["evidence"].as_str().unwrap()), "{sim}: {report}");
}

#[test]
fn kerong_cu12() {
    scenario(SimDialect::KerongCu12);
}

#[test]
fn kerong_cu16() {
    scenario(SimDialect::KerongCu16);
}

#[test]
fn bcc_8a80() {
    scenario(SimDialect::Bcc8a80);
}

#[test]
fn wkly() {
    scenario(SimDialect::Wkly);
}

#[test]
fn winnsen() {
    scenario(SimDialect::Winnsen);
}

#[test]
fn modbus_relay() {
    scenario(SimDialect::ModbusRelay);
}

#[test]
fn native() {
    scenario(SimDialect::Native);
}

// ---------------------------------------------------------------------------------------------
// watch

/// A door of the second board opened by hand 1 s after `watch`'s first request and shut
/// 1.2 s later: `watch` prints exactly the dialect's changes of that lock; with `absent`, an
/// address without a board is polled too, reported offline, and does not hide the door.
fn watch_sees_a_door_open_and_close(sim: SimDialect, absent: bool) {
    let case = case(sim);
    let (a0, a1) = (sim.address(0), sim.address(1));
    let hand = format!("{a1}:3@1000");
    let (_server, path) = board_sim(sim, 2, &["--open-by-hand", &hand, "--open-for-ms", "1200"]);
    let expected: usize = case.door_changes.iter().map(|(_, states)| states.len()).sum::<usize>() + usize::from(absent);
    let count = expected.to_string();
    let (b0, b1, b_absent) = (a0.to_string(), a1.to_string(), ABSENT.to_string());
    let mut args = bus_args(&path, sim);
    args.extend(["--json", "watch", &b0, &b1, "--interval-ms", "100", "--count", &count, "--for", "20"]);
    if absent {
        args.push(&b_absent);
    }
    let (proc, stderr) = lockctl_started(&args);
    let (status, out, err) = finish(proc, stderr);
    assert!(status.success(), "{sim}: {err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), expected, "{sim}: {out}");
    for (input, states) in case.door_changes {
        let seen: Vec<&str> = lines
            .iter()
            .filter(|l| l["input"] == *input)
            .inspect(|l| {
                assert_eq!(l["board"], a1, "{sim}: {l}");
                assert_eq!(l["lock"], 3, "{sim}: {l}");
            })
            .map(|l| l["state"].as_str().unwrap())
            .collect();
        assert_eq!(seen, *states, "{sim} {input}: {out}");
    }
    if absent {
        let offline: Vec<&Value> = lines.iter().filter(|l| l["input"] == "board").collect();
        assert_eq!(offline.len(), 1, "{sim}: {out}");
        assert_eq!(offline[0]["board"], ABSENT);
        assert_eq!(offline[0]["state"], "offline");
    }
    let times: Vec<u64> = lines.iter().map(|l| l["t_ms"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{sim}: {out}");
}

#[test]
fn watch_kerong_cu12_with_an_absent_board() {
    watch_sees_a_door_open_and_close(SimDialect::KerongCu12, true);
}

#[test]
fn watch_kerong_cu16() {
    watch_sees_a_door_open_and_close(SimDialect::KerongCu16, false);
}

#[test]
fn watch_bcc_8a80() {
    watch_sees_a_door_open_and_close(SimDialect::Bcc8a80, false);
}

#[test]
fn watch_wkly() {
    watch_sees_a_door_open_and_close(SimDialect::Wkly, false);
}

#[test]
fn watch_winnsen() {
    watch_sees_a_door_open_and_close(SimDialect::Winnsen, false);
}

#[test]
fn watch_modbus_relay() {
    watch_sees_a_door_open_and_close(SimDialect::ModbusRelay, false);
}

#[test]
fn watch_native_with_an_absent_board() {
    watch_sees_a_door_open_and_close(SimDialect::Native, true);
}

#[test]
fn watch_native_sees_a_door_opened_and_shut_between_two_polls() {
    // The door is open for 100 ms; polls come 1.5 s apart. A status poll would never see it;
    // the board's event log does (PROTOCOL.md §5.3), in order. The door opens 2.5 s after
    // lockctl's first request, well after watch has read the log's starting cursor even on a
    // loaded machine (events before that cursor are history, not changes).
    let (_server, path) = board_sim(SimDialect::Native, 1, &["--open-by-hand", "1:7@2500", "--open-for-ms", "100"]);
    let (proc, stderr) = lockctl_started(&[
        "--port",
        &path,
        "--dialect",
        "native",
        "--json",
        "watch",
        "1",
        "--interval-ms",
        "1500",
        "--count",
        "3",
        "--for",
        "20",
    ]);
    let (status, out, err) = finish(proc, stderr);
    assert!(status.success(), "{err}");
    let lines = json_lines(&out);
    let seen: Vec<(&str, &str)> =
        lines.iter().map(|l| (l["input"].as_str().unwrap(), l["state"].as_str().unwrap())).collect();
    assert_eq!(seen, [("door", "open"), ("door", "closed"), ("parcel", "present")], "{out}");
    assert!(lines.iter().all(|l| l["lock"] == 7 && l["board"] == 1), "{out}");
    // All three came with one poll, after the door had shut again.
    assert_eq!(lines[0]["t_ms"], lines[2]["t_ms"], "{out}");
}

// ---------------------------------------------------------------------------------------------
// unknown outcomes, jams, the table, polarity

#[test]
fn a_lost_unlock_reply_is_an_unknown_outcome_and_never_resent() {
    // 8A/80 boards answer an unlock about 1 s late (reference/lockboards.md §1.4); a 300 ms
    // timeout loses the reply. The master must not resend (attempts 1) and says "unknown";
    // the door is then seen open by the lock feedback after the pulse.
    let (_server, path) = board_sim(SimDialect::Bcc8a80, 1, &[]);
    let output =
        lockctl(&["--port", &path, "--dialect", "bcc-8a80", "--timeout-ms", "300", "--json", "unlock", "1", "5"]);
    let report = &json_lines(&text(&output.stdout))[0];
    assert_eq!(report["outcome"], "unknown", "{report}");
    assert_eq!(report["attempts"], 1, "{report}");
    assert_eq!(report["door_seen_open"], true, "{report}");
    assert_eq!(output.status.code(), Some(0));
    let output = lockctl(&["--port", &path, "--dialect", "bcc-8a80", "--timeout-ms", "300", "unlock", "1", "6"]);
    assert!(text(&output.stdout).contains("outcome UNKNOWN"), "{}", text(&output.stdout));
}

#[test]
fn a_jammed_native_lock_is_reported_by_the_board() {
    let (_server, path) = board_sim(SimDialect::Native, 1, &["--jam", "1:4"]);
    let output = lockctl(&["--port", &path, "--dialect", "native", "--json", "unlock", "1", "4"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let report = &json_lines(&text(&output.stdout))[0];
    assert_eq!(report["outcome"], "confirmed");
    assert_eq!(report["door_seen_open"], false, "{report}");
    assert_eq!(report["jam_reported"], true, "{report}");
    let output = lockctl(&["--port", &path, "--dialect", "native", "unlock", "1", "4"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(text(&output.stdout).contains("JAMMED"), "{}", text(&output.stdout));
}

#[test]
fn a_jammed_cu12_lock_is_not_taken_for_an_open_door() {
    // The lock feedback reads released while the pulse holds the latch (550 ms), then locked
    // again: only a released reading after the pulse counts as the door open.
    let (_server, path) = board_sim(SimDialect::KerongCu12, 1, &["--jam", "0:4"]);
    let output =
        lockctl(&["--port", &path, "--dialect", "kerong-cu12", "--json", "unlock", "0", "4", "--wait-ms", "1500"]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let report = &json_lines(&text(&output.stdout))[0];
    assert_eq!(report["outcome"], "confirmed");
    assert_eq!(report["door_seen_open"], false, "{report}");
    assert_eq!(report["channels_after"][3]["lock_state"], "locked", "{report}");
}

#[test]
fn status_table_and_polarity() {
    let (_server, path) = board_sim(SimDialect::KerongCu16, 1, &["--parcel", "0:2"]);
    let output = lockctl(&["--port", &path, "--dialect", "kerong-cu16", "status", "0"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let table = text(&output.stdout);
    let rows: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 4, "{table}");
    let numbers: Vec<String> = (1..=16).map(|n| n.to_string()).collect();
    assert_eq!(rows[0][..2], ["board", "0"], "{table}");
    assert_eq!(rows[0][2..], numbers, "{table}");
    assert_eq!(rows[1][0], "lock");
    assert!(rows[1][1..].iter().all(|c| *c == "L"), "{table}");
    assert_eq!(rows[2][0], "parcel");
    let parcels: Vec<&str> = rows[2][1..].to_vec();
    assert_eq!(parcels.iter().filter(|c| **c == "P").count(), 1, "{table}");
    assert_eq!(parcels[1], "P", "{table}");
    assert!(rows[3][0].starts_with("lock:"), "{table}");

    let output = lockctl(&[
        "--port",
        &path,
        "--dialect",
        "kerong-cu16",
        "--polarity",
        "active-when-unlocked",
        "status",
        "0",
        "--json",
    ]);
    let line = &json_lines(&text(&output.stdout))[0];
    assert_eq!(line["polarity"], "active-when-unlocked");
    assert!(line["channels"].as_array().unwrap().iter().all(|c| c["lock_state"] == "unlocked"), "{line}");
}

#[test]
fn bus_commands_need_a_port_and_a_dialect() {
    let output = lockctl(&["status", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--dialect"), "{}", text(&output.stderr));
    let output = lockctl(&["--dialect", "auto", "--port", "/dev/null", "status", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("scan"), "{}", text(&output.stderr));
    let output = lockctl(&["--dialect", "kerong", "scan"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown dialect"), "{}", text(&output.stderr));
}
