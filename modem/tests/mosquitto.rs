//! The simulated module's MQTT client against a real Mosquitto broker on loopback, through the
//! driver's MQTT clients (reference §2.9, §2.10; issue 7 item 2): retained QoS 1 state, the will
//! published when the link drops, a message from another client received. Checked with
//! `mosquitto_sub -C n -v`.
//!
//! Skipped with a printed reason when `mosquitto` is not installed and `CI` is unset; with
//! `CI=true` a missing broker fails the test.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use modem::blocking::Modem;
use modem::mqtt::quectel::{QuectelConfig, QuectelMqtt};
use modem::mqtt::simcom::{SimcomConfig, SimcomMqtt};
use modem::sim::{Sim, SimClock, TcpBroker};
use modem::{QoS, Session, Uplink, Will};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn find(name: &str) -> Option<PathBuf> {
    let dirs = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into(), "/usr/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

struct Broker {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `mosquitto` on a free loopback port, or explains why not.
fn start_broker(tag: &str) -> Option<Broker> {
    let tools = (find("mosquitto"), find("mosquitto_sub"), find("mosquitto_pub"));
    let (Some(mosquitto), Some(_), Some(_)) = tools else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "CI is set but mosquitto/mosquitto_sub/mosquitto_pub are not installed (apt-get install mosquitto mosquitto-clients)"
        );
        eprintln!("SKIPPED: mosquitto, mosquitto_sub or mosquitto_pub not installed (CI unset)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("modem-mosquitto-{tag}-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")).unwrap();
    let child =
        Command::new(mosquitto).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let broker = Broker { child, port, dir };
    // Wait until it listens (a readiness wait, not a speed assumption).
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "mosquitto did not start listening on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(broker)
}

/// `mosquitto_sub -C n -v` on `filter`: the first `n` messages as `topic payload` lines
/// (retained ones arrive at once).
fn sub(port: u16, filter: &str, n: usize) -> Vec<String> {
    let out = Command::new(find("mosquitto_sub").unwrap())
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", filter, "-v", "-C", &n.to_string(), "-W", "20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "mosquitto_sub: {}", String::from_utf8_lossy(&out.stderr));
    let mut lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

fn publish_from_outside(port: u16, topic: &str, payload: &str) {
    let status = Command::new(find("mosquitto_pub").unwrap())
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", topic, "-m", payload, "-q", "1"])
        .status()
        .unwrap();
    assert!(status.success());
}

fn session(port: u16, id: &'static str, will_topic: &'static str) -> Session<'static> {
    Session {
        host: "127.0.0.1",
        port,
        client_id: id,
        keepalive_s: 60,
        clean_session: true,
        credentials: None,
        // Not retained: SIMCom's AT+CMQTTWILLMSG has no retain flag (reference §2.10).
        will: Some(Will { topic: will_topic, payload: b"offline", qos: QoS::AtLeastOnce, retain: false }),
    }
}

/// The whole path with either client: retained QoS 1 state and presence, a command received,
/// then the link dropped so the broker publishes the will.
fn run<L: Uplink>(
    link: &mut L,
    sim: impl Fn(&mut L) -> &mut Sim,
    port: u16,
    base: &str,
    id: &'static str,
    will: &'static str,
) where
    L::Error: std::fmt::Debug,
{
    link.connect(&session(port, id, will)).unwrap();
    link.publish(&format!("{base}/online"), b"online", QoS::AtLeastOnce, true).unwrap();
    link.publish(&format!("{base}/c/1"), b"{\"state\":\"occupied\"}", QoS::AtLeastOnce, true).unwrap();
    link.publish(&format!("{base}/c/2"), b"free", QoS::AtLeastOnce, true).unwrap();
    link.publish(&format!("{base}/heartbeat"), b"1", QoS::AtMostOnce, false).unwrap();
    assert_eq!(
        sub(port, &format!("{base}/#"), 3),
        [format!("{base}/c/1 {{\"state\":\"occupied\"}}"), format!("{base}/c/2 free"), format!("{base}/online online")]
    );

    link.subscribe(&format!("{base}/cmd/#"), QoS::AtLeastOnce).unwrap();
    publish_from_outside(port, &format!("{base}/cmd/open"), "compartment 2, \"now\"");
    let mut buf = [0u8; 256];
    let until = Instant::now() + Duration::from_secs(20);
    let (topic, payload) = loop {
        if let Some(m) = link.receive(&mut buf).unwrap() {
            break (m.topic.to_owned(), m.payload.to_vec());
        }
        assert!(Instant::now() < until, "no message from the broker");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        (topic.as_str(), payload.as_slice()),
        (format!("{base}/cmd/open").as_str(), &b"compartment 2, \"now\""[..])
    );

    // A subscriber on the presence topic: its first line is the retained `online`, so once it
    // printed that it is subscribed and will see the will.
    let mut watcher = Command::new(find("mosquitto_sub").unwrap())
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            &format!("{base}/online"),
            "-v",
            "-C",
            "2",
            "-W",
            "20",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), format!("{base}/online online"));
    // The network drops: no DISCONNECT, so the broker publishes the will.
    sim(link).mqtt_link_lost(1);
    assert_eq!(lines.next().unwrap().unwrap(), format!("{base}/online offline"));
    assert!(watcher.wait().unwrap().success());
}

#[test]
fn quectel_client_through_mosquitto() {
    let Some(broker) = start_broker("quectel") else { return };
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.set_broker(Box::new(TcpBroker::new()));
    let mut modem = Modem::new(sim, clock.clone(), clock.clone());
    modem.bring_up(10_000).unwrap();
    let mut link = QuectelMqtt::new(modem, QuectelConfig::default());
    run(&mut link, |l| l.modem_mut().uart_mut(), broker.port, "lockers/q7", "locker-q7", "lockers/q7/online");
}

#[test]
fn simcom_client_through_mosquitto() {
    let Some(broker) = start_broker("simcom") else { return };
    let clock = SimClock::new();
    let mut sim = Sim::simcom(clock.clone());
    // The module's host is ignored: every open goes to the test broker (the demo's --mqtt).
    sim.set_broker(Box::new(TcpBroker::redirect(([127, 0, 0, 1], broker.port).into())));
    let mut modem = Modem::new(sim, clock.clone(), clock.clone());
    modem.bring_up(10_000).unwrap();
    let mut link = SimcomMqtt::new(modem, SimcomConfig::default());
    run(&mut link, |l| l.modem_mut().uart_mut(), broker.port, "lockers/s7", "locker-s7", "lockers/s7/online");
}
