//! `modemctl --port PATH info` against the modem simulator (`modem::sim`, Quectel-style
//! replies, reference §2.2-§2.5) played by this test on the other end of a kernel PTY pair.
//! The simulator's virtual clock follows real time here, but no assertion is about speed: the
//! test waits with generous limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use modem::sim::{Moment, Sim, SimClock, Split};
use serde_json::Value;
use serialport::{SerialPort, TTYPort};

/// A child process killed when the test ends, even by a failed assertion.
struct Proc(Option<Child>);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn pty() -> (TTYPort, String) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let path = slave.name().unwrap();
    drop(slave);
    (master, path)
}

/// Serves `sim` on `master` until the child exits (or 60 s pass); returns its output.
fn serve(master: &mut TTYPort, sim: &mut Sim, clock: &SimClock, mut proc: Proc) -> std::process::Output {
    let start = Instant::now();
    let mut buf = [0u8; 256];
    while start.elapsed() < Duration::from_secs(60) {
        clock.advance_to(u64::try_from(start.elapsed().as_millis()).unwrap());
        match master.read(&mut buf) {
            Ok(n) => embedded_io::Write::write_all(sim, &buf[..n]).unwrap(),
            // EIO before modemctl opens the slave, timeouts while it is quiet.
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
        clock.advance_to(u64::try_from(start.elapsed().as_millis()).unwrap());
        while embedded_io::ReadReady::read_ready(sim).unwrap() {
            let n = embedded_io::Read::read(sim, &mut buf).unwrap();
            master.write_all(&buf[..n]).unwrap();
        }
        if proc.0.as_mut().unwrap().try_wait().unwrap().is_some() {
            break;
        }
    }
    proc.0.take().unwrap().wait_with_output().unwrap()
}

#[test]
fn info_prints_identity_signal_operator_registration() {
    let (mut master, path) = pty();
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.set_split(Split::Seeded(3));
    let child = Command::new(example_binary("modemctl"))
        .args(["--port", &path, "info"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = serve(&mut master, &mut sim, &clock, Proc(Some(child)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["imei"], "867698041234567");
    assert_eq!(v["iccid"], "89860025128306012474");
    assert_eq!(v["operator"]["oper"], "CHINA MOBILE");
    assert_eq!(v["operator"]["act"], 7);
    assert_eq!(v["signal"]["rssi"], 20);
    assert_eq!(v["signal"]["dbm"], -73, "27.007 §8.5: -113 + 2 * 20");
    assert_eq!(v["registration"]["kind"], "+CEREG");
    assert_eq!(v["registration"]["stat"], 1);
    assert_eq!(v["registration"]["registered"], true);
    let sent: Vec<&[u8]> = sim.commands().iter().map(Vec::as_slice).collect();
    assert_eq!(
        sent,
        [&b"AT"[..], b"ATE0", b"AT+CMEE=1", b"AT+CGSN", b"AT+QCCID", b"AT+COPS?", b"AT+CSQ", b"AT+CEREG?"]
    );
}

#[test]
fn info_is_not_fooled_by_a_registration_urc() {
    let (mut master, path) = pty();
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.set_registration(2);
    // Before the first command's echo: a registration URC with the same prefix as a reply.
    sim.inject_urc(Moment::BeforeEcho, b"+CEREG: 1");
    let child = Command::new(example_binary("modemctl"))
        .args(["--port", &path, "--baud", "9600", "info"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = serve(&mut master, &mut sim, &clock, Proc(Some(child)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["registration"]["stat"], 2, "the reply, not the URC");
    assert_eq!(v["registration"]["registered"], false);
    assert_eq!(v["operator"]["oper"], Value::Null, "not registered: +COPS: 0");
    assert_eq!(v["imei"], "867698041234567");
}

#[test]
fn info_without_port_is_an_error() {
    let out = Command::new(example_binary("modemctl")).args(["info"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}

#[test]
fn sms_sends_the_text_through_the_prompt() {
    let (mut master, path) = pty();
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    let child = Command::new(example_binary("modemctl"))
        .args(["--port", &path, "sms", "--to", "+4915112345678", "Your pickup code: 482913"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = serve(&mut master, &mut sim, &clock, Proc(Some(child)));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sent"], true);
    assert_eq!(v["to"], "+4915112345678");
    assert!(v["mr"].is_u64(), "{v}");
    assert_eq!(sim.sms_sent(), [("+4915112345678".to_string(), b"Your pickup code: 482913".to_vec())]);
}

#[test]
fn sms_refuses_text_that_is_not_gsm7_safe() {
    let out = Command::new(example_binary("modemctl"))
        .args(["--port", "/nonexistent", "sms", "--to", "+1", "code {42}"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GSM-7"));
}

#[test]
fn mqtt_pub_publishes_through_the_module_client() {
    for (dialect, simcom) in [("quectel", false), ("simcom", true)] {
        let (mut master, path) = pty();
        let clock = SimClock::new();
        let mut sim = if simcom { Sim::simcom(clock.clone()) } else { Sim::new(clock.clone()) };
        let broker = modem::sim::RecordingBroker::new();
        sim.set_broker(Box::new(broker.clone()));
        let child = Command::new(example_binary("modemctl"))
            .args(["--port", &path, "mqtt-pub", "--module", dialect, "--host", "broker.example", "--topic"])
            .args(["locker/7/door", "--qos", "1", "--retain", "{\"door\":3,\"open\":true}"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = serve(&mut master, &mut sim, &clock, Proc(Some(child)));
        assert!(out.status.success(), "{dialect}: {}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["published"], true);
        assert_eq!(v["bytes"], 22);
        let published = broker.published();
        assert_eq!(published.len(), 1, "{dialect}");
        let m = &published[0].message;
        assert_eq!(
            (m.topic.as_str(), m.payload.as_slice(), m.qos, m.retain),
            ("locker/7/door", &b"{\"door\":3,\"open\":true}"[..], 1, true)
        );
        assert!(!sim.mqtt_connected(), "{dialect}: disconnected at the end");
    }
}
