//! `locker-demo` publishes the same messages over every link (issue 8): the Quectel and SIMCom
//! cellular clients over their simulated modems, the ESP-AT client over a simulated ESP32 on
//! Wi-Fi, and the in-process sink. The daemon code is the same; only `--uplink` differs.
//!
//! What is compared is what the far end recorded as delivered (`--dump-published FILE`: the
//! simulated broker behind the cellular modem, `EspSim::published` for ESP-AT), with topic,
//! payload, QoS and retain, in order. The comparison is exact: the payloads carry no field that
//! legitimately differs per link (no signal strength, no link name; see the topic table in the
//! demo's `publish.rs`), so no rule has to exclude anything. The broker's own will publication
//! (sent when the link is cut) is not a message from the module and is left out of the dump on
//! every link. The will itself is checked per link from `--dump-will` (retained except on
//! SIMCom, which cannot retain one).
//!
//! Everything runs in virtual time; nothing depends on wall-clock speed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::process::Command;

use serde_json::Value;

/// One day over `uplink`: the `--json` event stream, the dumped publications and the dumped will.
fn day(seed: u64, uplink: &str) -> (Vec<Value>, Vec<Value>, Value) {
    let dump = std::env::temp_dir().join(format!("locker-demo-links-{}-{seed}-{uplink}.jsonl", std::process::id()));
    let will = dump.with_extension("will.json");
    let out = Command::new(example_binary("locker-demo"))
        .args(["--json", "--seed", &seed.to_string(), "--uplink", uplink, "--dump-published"])
        .arg(&dump)
        .arg("--dump-will")
        .arg(&will)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "locker-demo --uplink {uplink} failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let events = lines(&String::from_utf8(out.stdout).unwrap());
    let published = lines(&std::fs::read_to_string(&dump).unwrap());
    std::fs::remove_file(&dump).unwrap();
    let will_text = std::fs::read_to_string(&will).unwrap();
    std::fs::remove_file(&will).unwrap();
    (events, published, serde_json::from_str(&will_text).unwrap())
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn kind(v: &Value) -> &str {
    v["kind"].as_str().unwrap()
}

/// Panics at the first difference, showing it.
fn assert_same(link: &str, got: &[Value], want: &[Value]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "--uplink {link}: message {i} differs from --uplink cellular");
    }
    assert_eq!(got.len(), want.len(), "--uplink {link}: message count differs from --uplink cellular");
}

/// The outage scene happened on this link: the stream has it, nothing was published between
/// `network_down` and `network_up`, and the daemon reconnected afterwards (a new `online`).
fn check_outage(link: &str, events: &[Value], published: &[Value]) {
    let down = events.iter().position(|e| kind(e) == "network_down").expect("no network_down");
    let up = events.iter().position(|e| kind(e) == "network_up").expect("no network_up");
    assert!(down < up);
    let during = events[down..up].iter().filter(|e| kind(e) == "published").count();
    assert_eq!(during, 0, "--uplink {link}: published while the network was down");
    let after_up = events[up..].iter().take_while(|e| kind(e) != "scene").filter(|e| kind(e) == "published");
    let first = after_up.clone().next().expect("nothing delivered when the network came back");
    assert_eq!(first["topic"], "lockers/demo-1/presence", "--uplink {link}: reconnection starts with presence");
    let onlines = published.iter().filter(|p| p["topic"] == "lockers/demo-1/presence" && p["payload"] == "online");
    // Boot, after the power cut (a reboot), after the outage.
    assert!(onlines.count() >= 3, "--uplink {link}: expected a reconnection after the outage");
}

/// Presence: every link hands over the `offline` will on the presence topic. It is retained
/// where the module can retain it; SIMCom's `AT+CMQTTWILLMSG` has no retain flag, so there it
/// is live only. The simulated broker behind each module publishes the will once, at the
/// outage (the end of the day is a clean DISCONNECT: no will).
fn check_will(link: &str, v: &Value) {
    let (retain, published) = match link {
        "simcom" => (false, Some(1)),
        _ => (true, Some(1)),
    };
    let w = &v["will"];
    assert_eq!(w["topic"], "lockers/demo-1/presence", "{link}");
    assert_eq!(w["payload"], "offline", "{link}");
    assert_eq!(w["qos"], 1, "{link}");
    assert_eq!(w["retain"], retain, "{link}");
    assert_eq!(v["published_by_broker"].as_u64(), published, "{link}");
}

#[test]
fn every_link_publishes_the_same_messages_as_cellular() {
    let seed = 7;
    let (events, reference, will) = day(seed, "cellular");
    check_will("cellular", &will);
    // The dump is what the daemon saw delivered, message for message.
    let delivered = events.iter().filter(|e| kind(e) == "published").count();
    assert_eq!(reference.len(), delivered);
    assert!(reference.len() > 100, "a day publishes hundreds of messages");
    check_outage("cellular", &events, &reference);
    for link in ["simcom", "esp-at", "memory"] {
        let (events, published, will) = day(seed, link);
        assert_same(link, &published, &reference);
        check_outage(link, &events, &published);
        check_will(link, &will);
    }
}

#[test]
fn esp_at_matches_cellular_on_another_seed_and_the_seed_matters() {
    let (_, cellular, _) = day(11, "cellular");
    let (_, wifi, _) = day(11, "esp-at");
    assert_same("esp-at", &wifi, &cellular);
    // The comparison is not between two constant lists: another day publishes other messages.
    let (_, other, _) = day(7, "esp-at");
    assert_ne!(other, wifi);
}

#[test]
fn an_unknown_uplink_is_refused() {
    let out = Command::new(example_binary("locker-demo")).args(["--uplink", "lora"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("esp-at"));
}
