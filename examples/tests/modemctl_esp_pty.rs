//! `modemctl --port PATH --dialect esp-at` (`info`, `mqtt-pub`) against the ESP-AT simulator
//! (`modem::sim::esp::EspSim`) played by this test over a kernel PTY pair. The simulator's
//! virtual clock follows the wall clock here; no assertion is about speed: the test waits with
//! generous limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use embedded_io::{Read as _, ReadReady as _, Write as _};
use modem::sim::SimClock;
use modem::sim::esp::EspSim;
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

/// A booted simulator (its boot output already read) and its clock.
fn booted(sim_setup: impl FnOnce(&mut EspSim)) -> (EspSim, SimClock) {
    let clock = SimClock::new();
    let mut sim = EspSim::new(clock.clone());
    sim_setup(&mut sim);
    clock.advance(1_000);
    let mut buf = [0u8; 256];
    while sim.read_ready().unwrap() {
        sim.read(&mut buf).unwrap();
    }
    (sim, clock)
}

/// Serves `sim` on `master` until the child exits (or 60 s pass); returns its output.
fn serve(master: &mut TTYPort, sim: &mut EspSim, clock: &SimClock, mut proc: Proc) -> std::process::Output {
    let start = Instant::now();
    let base = clock.now_ms();
    let mut buf = [0u8; 256];
    while start.elapsed() < Duration::from_secs(60) {
        clock.advance_to(base + u64::try_from(start.elapsed().as_millis()).unwrap());
        match master.read(&mut buf) {
            Ok(n) => sim.write_all(&buf[..n]).unwrap(),
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
        while sim.read_ready().unwrap() {
            let n = sim.read(&mut buf).unwrap();
            master.write_all(&buf[..n]).unwrap();
        }
        if proc.0.as_mut().unwrap().try_wait().unwrap().is_some() {
            break;
        }
    }
    proc.0.take().unwrap().wait_with_output().unwrap()
}

fn pty() -> (TTYPort, String) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_millis(5)).unwrap();
    let path = slave.name().unwrap();
    drop(slave);
    (master, path)
}

fn spawn(args: &[&str]) -> Proc {
    Proc(Some(
        Command::new(example_binary("modemctl"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ))
}

#[test]
fn esp_info_over_a_pty() {
    let (mut master, path) = pty();
    let (mut sim, clock) = booted(|_| {});
    let proc = spawn(&["--port", &path, "--dialect", "esp-at", "info"]);
    let out = serve(&mut master, &mut sim, &clock, proc);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)");
    assert_eq!(v["mode"], 1);
    assert_eq!(v["joined"], false);
    assert_eq!(v["ip"], "0.0.0.0");
    let cmds: Vec<String> = sim.commands().iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    assert_eq!(cmds, ["AT", "ATE0", "AT+GMR", "AT+CWMODE?", "AT+CWJAP?", "AT+CIPSTA?"]);
}

#[test]
fn esp_mqtt_pub_over_a_pty() {
    let (mut master, path) = pty();
    let (mut sim, clock) = booted(|s| s.add_ap("locker-wifi", "pa,ss\"w", -61));
    let proc = spawn(&[
        "--port",
        &path,
        "--dialect",
        "esp-at",
        "mqtt-pub",
        "--ssid",
        "locker-wifi",
        "--password",
        "pa,ss\"w",
        "--host",
        "broker.local",
        "--topic",
        "lockers/7/door/3",
        "--qos",
        "1",
        r"open\r\nOK\0",
    ]);
    let out = serve(&mut master, &mut sim, &clock, proc);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["published"], true);
    assert_eq!(v["rssi"], -61);
    let published = sim.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].topic, "lockers/7/door/3");
    assert_eq!(published[0].payload, b"open\r\nOK\0");
    assert_eq!(published[0].qos, 1);
    assert!(!sim.mqtt_connected(), "disconnected at the end");
}

#[test]
fn port_errors_are_reported() {
    // Without --dialect esp-at the port is a cellular module's (tests/modemctl_pty.rs); /dev/null
    // is no serial port.
    let out = Command::new(example_binary("modemctl")).args(["--port", "/dev/null", "info"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open /dev/null"));
    let out = Command::new(example_binary("modemctl"))
        .args(["--dialect", "esp-at", "sms", "--to", "+1", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
    let out = Command::new(example_binary("modemctl")).args(["--dialect", "esp-at", "info"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}
