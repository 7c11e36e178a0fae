//! `locker-demo` run as a user runs it: the whole day ends with exit status 0 and a report; the
//! same seed gives the same day; the `--json` event stream agrees with the report it ends with;
//! several seeds pass every invariant check; and the same daemon drives `board-sim` through a
//! kernel PTY with `--bus-port`.
//!
//! The simulated day runs in virtual time; nothing here depends on wall-clock speed (the PTY
//! test waits for real doors, with generous limits and no timing assertion).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

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
    for needle in [
        "POWER CUT",
        "board 3 OFFLINE",
        "ALARM: lock jammed",
        "ALARM: door left open",
        "ALARM: door forced open",
        "pickup window of parcel 1004 expired",
        "network DOWN",
    ] {
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

fn find_tool(name: &str) -> Option<PathBuf> {
    let dirs = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into(), "/usr/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A Mosquitto broker on a free loopback port, stopped (and its directory removed) on drop.
struct Mosquitto {
    _proc: Proc,
    port: u16,
    dir: PathBuf,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn mosquitto() -> Option<Mosquitto> {
    let (Some(broker), Some(_)) = (find_tool("mosquitto"), find_tool("mosquitto_sub")) else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "CI is set but mosquitto/mosquitto_sub are not installed (apt-get install mosquitto mosquitto-clients)"
        );
        eprintln!("SKIPPED: mosquitto or mosquitto_sub not installed (CI unset)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("locker-demo-mosquitto-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")).unwrap();
    let child = Command::new(broker).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let proc = Proc(child);
    // A readiness wait, not a speed assumption.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < until, "mosquitto did not listen on {port}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(Mosquitto { _proc: proc, port, dir })
}

/// `mosquitto_sub -d -v -C n -W secs` on `topic`, started and subscribed (SUBACK seen) before
/// this returns; its remaining output is read by the returned closure. Run under `stdbuf -oL`
/// (coreutils): piped, mosquitto_sub's debug lines are block-buffered and SUBACK would only be
/// seen when it exits.
fn subscriber(port: u16, topic: &str, n: usize) -> impl FnOnce() -> Vec<String> {
    let mut child = Command::new(find_tool("stdbuf").expect("stdbuf (coreutils)"))
        .arg("-oL")
        .arg(find_tool("mosquitto_sub").unwrap())
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", topic, "-v", "-d", "-C", &n.to_string(), "-W", "60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let proc = Proc(child);
    for line in lines.by_ref() {
        if line.unwrap().contains("SUBACK") {
            break;
        }
    }
    move || {
        let _proc = proc;
        lines.map_while(Result::ok).filter(|l| l.starts_with("lockers/")).collect()
    }
}

#[test]
fn cloud_sync_through_a_real_mosquitto_broker() {
    cloud_sync_through_mosquitto("cellular");
}

/// The same over the SIMCom client (`--uplink simcom`): its will is not retained (no retain
/// flag in `AT+CMQTTWILLMSG`), but a live subscriber sees it at the outage.
#[test]
fn cloud_sync_over_simcom_through_a_real_mosquitto_broker() {
    cloud_sync_through_mosquitto("simcom");
}

/// The same over the ESP-AT client (`--uplink esp-at`): the simulated ESP32's MQTT client
/// connects to Mosquitto; its will (`AT+MQTTCONNCFG`, retained) is published when the Wi-Fi
/// drops at the outage.
#[test]
fn cloud_sync_over_esp_at_through_a_real_mosquitto_broker() {
    cloud_sync_through_mosquitto("esp-at");
}

fn cloud_sync_through_mosquitto(uplink: &str) {
    let Some(broker) = mosquitto() else { return };
    let port = broker.port;
    let alarms = subscriber(port, "lockers/demo-1/alarms", 3);
    let heartbeats = subscriber(port, "lockers/demo-1/heartbeat", 2);
    // Boot, reconnection after the power cut, the will at the outage, reconnection.
    let presence = subscriber(port, "lockers/demo-1/presence", 4);

    let out = demo(&["--mqtt", &format!("127.0.0.1:{port}"), "--json", "--uplink", uplink]);
    let events: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.last().unwrap()["violations"], 0);

    // Alarms at QoS 1, raised and cleared, in the order the daemon raised and cleared them.
    let raised: Vec<&Value> = events.iter().filter(|e| matches!(kind(e), "alarm" | "alarm_cleared")).collect();
    let got = alarms();
    assert_eq!(got.len(), 3, "{got:?}");
    for (line, ev) in got.iter().zip(&raised) {
        let payload: Value = serde_json::from_str(line.strip_prefix("lockers/demo-1/alarms ").unwrap()).unwrap();
        assert_eq!(payload["alarm"], ev["alarm"]);
        assert_eq!(payload["compartment"].as_u64().unwrap(), ev["compartment"].as_u64().unwrap() + 1);
        assert_eq!(payload["raised"], kind(ev) == "alarm");
    }
    let got = heartbeats();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|l| l.contains("\"occupied\"")));
    let online = "lockers/demo-1/presence online";
    assert_eq!(presence(), [online, online, "lockers/demo-1/presence offline", online]);

    // After the day: the retained state of all 48 compartments and the presence (a clean
    // `offline` at the end), as a late subscriber sees them.
    let retained = subscriber(port, "lockers/demo-1/#", 49)();
    assert_eq!(retained.len(), 49, "{retained:?}");
    assert!(retained.contains(&"lockers/demo-1/presence offline".to_owned()));
    let mut last_state: BTreeMap<u64, String> = BTreeMap::new();
    for e in events.iter().filter(|e| kind(e) == "state") {
        last_state.insert(e["compartment"].as_u64().unwrap() + 1, e["state"].as_str().unwrap().into());
    }
    let mut receiver = locker_examples::cloud::Receiver::new();
    for line in retained.iter().filter(|l| l.contains("/compartments/")) {
        let (topic, payload) = line.split_once(' ').unwrap();
        let n: u64 = topic.split('/').nth(3).unwrap().parse().unwrap();
        let body: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(body["state"].as_str().unwrap(), last_state[&n], "{topic}");
        assert!(receiver.accept(topic, payload.as_bytes()));
        // A second delivery of the same retained message is dropped by the receiver's rule.
        assert!(!receiver.accept(topic, payload.as_bytes()));
    }
}

#[test]
fn scanner_port_reads_a_raw_mode_engine_through_a_pty() {
    use std::io::Write as _;

    use serialport::{SerialPort, TTYPort};

    let (mut engine, slave) = TTYPort::pair().unwrap();
    engine.set_timeout(std::time::Duration::from_millis(50)).unwrap();
    let path = slave.name().unwrap();
    drop(slave);
    let mut child = Command::new(example_binary("locker-demo"))
        .args(["--scanner-port", &path, "--parcels", "2", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut s).unwrap();
        s
    });
    let mut proc = Proc(child);
    // The engine "scans" whatever label the daemon asks for, as an engine in raw mode sends it:
    // AIM identifier, data, CR (reference/scanner.md §7).
    let mut asked = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        let Some(label) = line.strip_prefix("locker-demo: scan now: ") else { continue };
        let bytes = if let Some(sscc) = label.strip_prefix("SSCC ") {
            format!("]C100{sscc}\r")
        } else {
            format!("]Q1{}\r", label.strip_prefix("QR ").unwrap())
        };
        engine.write_all(bytes.as_bytes()).unwrap();
        asked.push(label.to_owned());
    }
    assert!(proc.0.wait().unwrap().success());
    let events: Vec<Value> = reader.join().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let report = events.last().unwrap();
    assert_eq!(asked.len(), 5, "{asked:?}");
    assert_eq!(events.iter().filter(|e| kind(e) == "scan").count(), 5);
    assert_eq!(report["parcels_in"], 2, "{events:#?}");
    assert_eq!(report["picked_up"], 1);
    assert_eq!(report["retrieved"], 1);
    assert!(events.iter().any(|e| kind(e) == "refused" && e["why"] == "wrong code"));
}
