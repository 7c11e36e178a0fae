//! `locker-demo` run as a user runs it: the whole day ends with exit status 0 and a report; the
//! same seed gives the same day; the `--json` event stream agrees with the report it ends with;
//! several seeds pass every invariant check; and the same daemon drives `board-sim` through a
//! kernel PTY with `--bus-port`.
//!
//! The simulated day runs in virtual time; nothing here depends on wall-clock speed (the PTY
//! test waits for real doors, with generous limits and no timing assertion).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

/// An example binary, built (or found up to date) once per test run, in this test's profile.
fn example_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let release = profile_dir.file_name().is_some_and(|name| name == "release");
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "locker-examples", "--example", "locker-demo", "--example", "board-sim"])
            .args(release.then_some("--release"))
            .status()
            .unwrap();
        assert!(status.success(), "building the examples failed");
    });
    profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn demo(args: &[&str]) -> Output {
    let out = Command::new(example_binary("locker-demo")).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "locker-demo {args:?} failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_day(seed: u64) -> Vec<Value> {
    let out = demo(&["--seed", &seed.to_string(), "--json"]);
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn kind(v: &Value) -> &str {
    v["kind"].as_str().unwrap()
}

/// The report's figures recomputed from the stream (everything before the report line).
fn recompute(events: &[Value]) -> BTreeMap<&'static str, u64> {
    let mut r = BTreeMap::new();
    for key in
        ["parcels_in", "picked_up", "retrieved", "alarms", "fees", "delivered", "dropped", "refused", "violations"]
    {
        r.insert(key, 0);
    }
    for e in events {
        let key = match kind(e) {
            "deposited" => "parcels_in",
            "picked_up" => "picked_up",
            "retrieved" => "retrieved",
            "alarm" => "alarms",
            "published" => "delivered",
            "queue_dropped" => "dropped",
            "refused" => "refused",
            "violation" => "violations",
            "fee" => {
                *r.get_mut("fees").unwrap() += e["amount"].as_u64().unwrap();
                continue;
            }
            _ => continue,
        };
        *r.get_mut(key).unwrap() += 1;
    }
    r
}

#[test]
fn the_day_ends_with_a_report() {
    let out = demo(&["--plain"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("The day in figures (06:00-20:00, seed 7)"), "{text}");
    for needle in ["POWER CUT", "board 3 OFFLINE", "ALARM Jammed", "ALARM DoorAjar", "ALARM Tamper", "network DOWN"] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(text.contains(", 0 violations"), "{text}");
}

#[test]
fn the_same_seed_gives_the_same_day_and_another_seed_another() {
    let a = demo(&["--seed", "11", "--plain"]).stdout;
    let b = demo(&["--seed", "11", "--plain"]).stdout;
    assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
    let c = demo(&["--seed", "12", "--plain"]).stdout;
    assert_ne!(a, c);
}

#[test]
fn the_json_stream_agrees_with_the_report() {
    let events = json_day(7);
    let (last, stream) = events.split_last().unwrap();
    assert_eq!(kind(last), "report");
    let report: BTreeMap<String, u64> = serde_json::from_value(last.clone()).unwrap_or_else(|_| {
        last.as_object().unwrap().iter().filter_map(|(k, v)| v.as_u64().map(|v| (k.clone(), v))).collect()
    });
    for (key, value) in recompute(stream) {
        assert_eq!(report[key], value, "{key}");
    }
    assert!(report["invariant_checks"] > 0);

    // The story happened, as the stream tells it.
    let count = |k: &str| stream.iter().filter(|e| kind(e) == k).count();
    let alarms: Vec<&str> =
        stream.iter().filter(|e| kind(e) == "alarm").map(|e| e["alarm"].as_str().unwrap()).collect();
    for alarm in ["Jammed", "DoorAjar", "Tamper", "BoardOffline"] {
        assert!(alarms.contains(&alarm), "no {alarm} alarm");
    }
    assert_eq!(count("power_cut"), 1);
    assert_eq!(count("restored"), 1);
    assert_eq!(count("network_down"), 1);
    assert!(count("retrieved") >= 1);
    assert!(stream.iter().any(|e| kind(e) == "fee" && e["amount"].as_u64().unwrap() > 0));
    assert!(stream.iter().any(|e| kind(e) == "refused" && e["why"].as_str().unwrap().contains("locked out")));

    // Parcels balance: in = out + dropped by an operator + still held at the end.
    let mut last_state: BTreeMap<u64, (String, bool)> = BTreeMap::new();
    for e in stream.iter().filter(|e| kind(e) == "state") {
        last_state
            .insert(e["compartment"].as_u64().unwrap(), (e["state"].as_str().unwrap().into(), !e["parcel"].is_null()));
    }
    let held = last_state.values().filter(|(s, p)| *p && s != "Reserved").count() as u64;
    let dropped = stream
        .iter()
        .filter(|e| kind(e) == "note" && e["what"].as_str().unwrap().starts_with("AssignmentDropped"))
        .count() as u64;
    assert_eq!(report["parcels_in"], report["picked_up"] + report["retrieved"] + dropped + held);

    // Nothing reaches the broker while the network is down; what queued is delivered after.
    let down = stream.iter().position(|e| kind(e) == "network_down").unwrap();
    let up = stream.iter().position(|e| kind(e) == "network_up").unwrap();
    assert!(stream[down..up].iter().all(|e| kind(e) != "published"));
    let queued_states = stream[down..up].iter().filter(|e| kind(e) == "state").count();
    assert!(queued_states > 0);
    assert!(stream[up..].iter().filter(|e| kind(e) == "published").count() >= 1);

    // Every compartment's retained state was published at least once, with growing msg ids.
    let mut per_topic: BTreeMap<&str, u64> = BTreeMap::new();
    for e in stream.iter().filter(|e| kind(e) == "published") {
        let topic = e["topic"].as_str().unwrap();
        if let Some(id) = e["msg_id"].as_u64()
            && let Some(prev) = per_topic.insert(topic, id)
        {
            assert!(id > prev, "{topic}: msg_id {id} after {prev}");
        }
    }
    let states = per_topic.keys().filter(|t| t.ends_with("/state")).count();
    assert_eq!(states, 48);
    assert!(per_topic.contains_key("lockers/demo-1/heartbeat"));
    assert!(per_topic.contains_key("lockers/demo-1/alarms"));
}

#[test]
fn several_seeds_pass_every_invariant_check() {
    for seed in [1, 2, 3, 42] {
        let events = json_day(seed);
        let last = events.last().unwrap();
        assert_eq!(kind(last), "report");
        assert_eq!(last["violations"], 0, "seed {seed}");
        assert!(last["invariant_checks"].as_u64().unwrap() > 500, "seed {seed}");
        assert!(last["parcels_in"].as_u64().unwrap() >= 20, "seed {seed}");
        assert!(events.iter().all(|e| kind(e) != "violation"), "seed {seed}");
    }
}

/// A child process killed when the test ends, even by a failed assertion.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn bus_port_drives_board_sim_through_a_pty() {
    let mut child = Command::new(example_binary("board-sim"))
        .args(["--dialect", "native", "--boards", "3", "--for", "120"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _sim = Proc(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let path = line.trim().strip_prefix("board-sim: serving 3 native boards on ").unwrap().to_string();

    let out = demo(&["--bus-port", &path, "--dialect", "native", "--parcels", "2", "--json"]);
    let events: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let report = events.last().unwrap();
    assert_eq!(kind(report), "report");
    // Both parcels went in through real unlocks and door readings over the PTY; one was picked
    // up with its code, the other expired and was taken back by the courier.
    assert_eq!(report["parcels_in"], 2, "{events:#?}");
    assert_eq!(report["picked_up"], 1);
    assert_eq!(report["retrieved"], 1);
    assert_eq!(report["violations"], 0);
    assert!(events.iter().any(|e| kind(e) == "scene" && e["title"].as_str().unwrap().contains("skipped")));
    assert!(events.iter().filter(|e| kind(e) == "pulse").all(|e| e["outcome"] == "acknowledged"));
}
