//! `modemctl --port PATH --dialect esp-at`: a real ESP-AT module (ESP32/ESP8266 running
//! Espressif's AT firmware) on a serial port (lockdrv's `SerialPortIo`), driven by
//! `modem::blocking::Modem` and `modem::esp::client::EspUplink`.

use std::time::Instant;

use lockdrv::master::serial::{SerialPortIo, StdDelay};
use modem::blocking::{Clock, Error, Modem};
use modem::engine::CommandError;
use modem::esp::{self, client::EspUplink, response};
use modem::{QoS, Session, Uplink};
use serde_json::{Value, json};

/// Milliseconds since the program started.
struct StdClock(Instant);

impl Clock for StdClock {
    fn now_ms(&mut self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

type PortModem = Modem<SerialPortIo, StdDelay, StdClock>;

fn open(path: &str, baud: u32) -> Result<PortModem, String> {
    let io = SerialPortIo::open(path, baud).map_err(|e| format!("cannot open {path} at {baud} baud: {e}"))?;
    Ok(Modem::new(io, StdDelay, StdClock(Instant::now())))
}

fn alive(m: &mut PortModem) -> Result<(), String> {
    for _ in 0..3 {
        match m.execute(&esp::command(b"AT"), None) {
            Ok(_) => return Ok(()),
            Err(Error::Command(CommandError::Timeout)) => {}
            Err(e) => return Err(format!("AT: {e}")),
        }
    }
    Err("the module does not answer AT".into())
}

/// `info`: firmware version, Wi-Fi mode, the joined AP and the station address.
///
/// # Errors
/// A message for stderr.
pub fn esp_info(path: &str, baud: u32) -> Result<Value, String> {
    let mut m = open(path, baud)?;
    alive(&mut m)?;
    let run = |m: &mut PortModem, text: &[u8]| {
        m.execute(&esp::command(text), None).map_err(|e| format!("{}: {e}", String::from_utf8_lossy(text)))
    };
    run(&mut m, b"ATE0")?;
    let gmr = run(&mut m, b"AT+GMR")?;
    let version = response::parse_gmr_line(&gmr.line).map(|v| v.value.to_owned()).ok();
    let mode = run(&mut m, b"AT+CWMODE?").ok().and_then(|r| response::parse_cwmode(&r.line).ok());
    let ap = run(&mut m, b"AT+CWJAP?")?;
    let ap = response::parse_cwjap_query(&ap.line).map_err(|e| format!("AT+CWJAP?: {e}"))?;
    let ip = run(&mut m, b"AT+CIPSTA?")?;
    let ip = response::parse_cipsta(&ip.line).ok().map(|a| a.address.to_owned());
    Ok(json!({
        "dialect": "esp-at",
        "version": version,
        "mode": mode,
        "joined": ap.is_some(),
        "ssid": ap.map(|a| a.ssid),
        "bssid": ap.map(|a| a.bssid),
        "channel": ap.map(|a| a.channel),
        "rssi": ap.map(|a| a.rssi),
        "ip": ip,
    }))
}

/// What `mqtt-pub` needs.
pub struct MqttPub {
    /// Wi-Fi SSID (empty: use the AP the module joined by itself).
    pub ssid: String,
    /// Wi-Fi password.
    pub password: String,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub broker_port: u16,
    /// MQTT client id.
    pub client_id: String,
    /// Topic.
    pub topic: String,
    /// Payload.
    pub message: Vec<u8>,
    /// QoS 0..=2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
}

/// `mqtt-pub`: join (unless joined), connect, publish one message, disconnect.
///
/// # Errors
/// A message for stderr.
pub fn esp_mqtt_pub(path: &str, baud: u32, p: &MqttPub) -> Result<Value, String> {
    let qos = QoS::from_number(p.qos).ok_or("--qos must be 0, 1 or 2")?;
    let m = open(path, baud)?;
    let mut link = EspUplink::new(m, &p.ssid, &p.password).map_err(|e| e.to_string())?;
    link.start(0).map_err(|e| format!("start: {e}"))?;
    if p.ssid.is_empty() && link.wifi() != esp::client::Wifi::GotIp {
        return Err("the module is not joined: give --ssid and --password".into());
    }
    let session = Session {
        host: &p.host,
        port: p.broker_port,
        client_id: &p.client_id,
        keepalive_s: 60,
        clean_session: true,
        credentials: None,
        will: None,
    };
    link.connect(&session).map_err(|e| format!("connect: {e}"))?;
    link.publish(&p.topic, &p.message, qos, p.retain).map_err(|e| format!("publish: {e}"))?;
    let rssi = link.signal_dbm().ok().flatten();
    link.disconnect().map_err(|e| format!("disconnect: {e}"))?;
    Ok(json!({"published": true, "topic": p.topic, "bytes": p.message.len(), "qos": p.qos, "rssi": rssi}))
}
