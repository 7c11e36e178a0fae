//! `modemctl --port PATH`: a real module on a serial port (lockdrv's `SerialPortIo`, the
//! `embedded-io` adapter over serialport), driven by `modem::blocking::Modem`: a cellular module
//! (`info`, `sms`, `mqtt-pub` through the module's Quectel or SIMCom MQTT client) or, with
//! `--dialect esp-at`, an ESP-AT module (ESP32/ESP8266 running Espressif's AT firmware) through
//! `modem::esp::client::EspUplink`.

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

fn value<T, E: core::fmt::Debug>(r: Result<T, Error<E>>, f: impl FnOnce(T) -> Value) -> Value {
    match r {
        Ok(v) => f(v),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

/// `info`: resynchronises (`AT`, `ATE0`, `AT+CMEE=1`, reference §4.6 item 2), then prints one
/// JSON object with `imei`, `iccid`, `operator`, `signal` and `registration` (EPS,
/// `AT+CEREG?`). A query the module refuses (no SIM: `+CME ERROR: 10`) gives `{"error": ...}`
/// in its place; the tool fails only when the module does not answer `AT`.
///
/// # Errors
/// A message for stderr: the port cannot be opened or the module does not answer.
pub fn info(path: &str, baud: u32) -> Result<Value, String> {
    let mut m = open(path, baud)?;
    m.resync().map_err(|e| format!("the module on {path} does not answer: {e}"))?;
    let imei = value(m.imei(), |s| json!(s.as_str()));
    let iccid = value(m.iccid(), |s| json!(s.as_str()));
    let operator = value(
        m.operator(),
        |o| json!({ "mode": o.mode, "format": o.format, "oper": (!o.name.is_empty()).then(|| o.name.to_string()), "act": o.act }),
    );
    let signal = value(m.signal(), |c| json!({ "rssi": c.rssi, "ber": c.ber, "dbm": c.rssi_dbm() }));
    let registration = value(m.registration(), |r| {
        let mut v = serde_json::Map::new();
        v.insert("kind".into(), json!(r.kind.prefix()));
        v.insert("n".into(), json!(r.n));
        v.insert("stat".into(), json!(r.stat));
        v.insert("registered".into(), json!(r.status().is_registered()));
        v.insert(if r.kind.uses_tac() { "tac" } else { "lac" }.into(), json!(r.area));
        v.insert("ci".into(), json!(r.ci));
        v.insert("act".into(), json!(r.act));
        Value::Object(v)
    });
    Ok(json!({ "imei": imei, "iccid": iccid, "operator": operator, "signal": signal, "registration": registration }))
}

/// `sms`: text mode (`AT+CMGF=1`), then `AT+CMGS="<to>"`, the text at the `>` prompt and
/// Ctrl-Z (reference §2.11; 120 s for the result, §2.13). Prints `{"sent": true, "to", "mr"}`
/// with the message reference of `+CMGS: <mr>`.
///
/// # Errors
/// A message for stderr: the text is not plain GSM-7-safe ASCII or longer than 160 characters,
/// the port cannot be opened, the module does not answer or refuses the message.
pub fn sms(path: &str, baud: u32, to: &str, text: &str) -> Result<Value, String> {
    // reference §6.2: pickup codes are GSM-7 only, at most 160 characters. Printable ASCII
    // without the characters GSM-7 lacks or escapes keeps one character per septet.
    if text.len() > 160 || !text.bytes().all(|b| (b' '..=b'~').contains(&b) && !b"[]{}\\^~|`".contains(&b)) {
        return Err("the text must be at most 160 plain ASCII characters (GSM-7, reference §6.2)".into());
    }
    if to.is_empty() || !to.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'+')) {
        return Err(format!("bad phone number {to:?}"));
    }
    let mut m = open(path, baud)?;
    m.resync().map_err(|e| format!("the module on {path} does not answer: {e}"))?;
    m.command(b"AT+CMGF=1").map_err(|e| format!("AT+CMGF=1: {e}"))?;
    let command = format!("AT+CMGS=\"{to}\"");
    let reply =
        m.command_with_data(command.as_bytes(), text.as_bytes(), Some(0x1a)).map_err(|e| format!("{command}: {e}"))?;
    let mr = modem::params::after_prefix(&reply.line, b"+CMGS")
        .and_then(|start| modem::params::Fields::new(&reply.line, start).next())
        .and_then(|f| f.ok()?.dec("mr").ok());
    Ok(json!({ "sent": true, "to": to, "mr": mr }))
}

/// Which built-in MQTT client the module has.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Module {
    /// Quectel `QMT*` (EC2x/EG9x/BG9x, reference §2.9).
    Quectel,
    /// SIMCom `CMQTT*` (SIM7600/A76xx, reference §2.10).
    Simcom,
}

/// What `mqtt-pub` publishes and where.
pub struct Publish<'a> {
    /// The module's MQTT client.
    pub module: Module,
    /// APN for the data attach (empty: the module's configuration).
    pub apn: &'a str,
    /// Broker host.
    pub host: &'a str,
    /// Broker TCP port.
    pub mqtt_port: u16,
    /// Client id.
    pub client_id: &'a str,
    /// Topic.
    pub topic: &'a str,
    /// Payload.
    pub message: &'a [u8],
    /// QoS 0..=2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
}

/// `mqtt-pub`: attach, connect (clean session, 60 s keep-alive), publish one message with its
/// exact length through the prompt, disconnect. Prints `{"published": true, "topic", "bytes",
/// "qos", "retain"}`.
///
/// # Errors
/// A message for stderr from the step that failed.
pub fn mqtt_pub(path: &str, baud: u32, p: &Publish<'_>) -> Result<Value, String> {
    use modem::mqtt::quectel::{QuectelConfig, QuectelMqtt};
    use modem::mqtt::simcom::{SimcomConfig, SimcomMqtt};
    use modem::{QoS, Session, Uplink};

    let qos = QoS::from_number(p.qos).ok_or_else(|| format!("QoS {} is not 0, 1 or 2", p.qos))?;
    let apn = p.apn.try_into().map_err(|_| "APN longer than 63 bytes".to_string())?;
    let mut m = open(path, baud)?;
    m.resync().map_err(|e| format!("the module on {path} does not answer: {e}"))?;
    let session = Session {
        host: p.host,
        port: p.mqtt_port,
        client_id: p.client_id,
        keepalive_s: 60,
        clean_session: true,
        credentials: None,
        will: None,
    };
    fn run<L: Uplink>(link: &mut L, session: &Session<'_>, p: &Publish<'_>, qos: QoS) -> Result<(), String> {
        link.connect(session).map_err(|e| format!("connect to {}:{}: {e:?}", p.host, p.mqtt_port))?;
        let sent = link.publish(p.topic, p.message, qos, p.retain).map_err(|e| format!("publish: {e:?}"));
        let _ = link.disconnect();
        sent
    }
    match p.module {
        Module::Quectel => {
            let config = QuectelConfig { apn, ..QuectelConfig::default() };
            run(&mut QuectelMqtt::new(m, config), &session, p, qos)?;
        }
        Module::Simcom => {
            let config = SimcomConfig { apn, ..SimcomConfig::default() };
            run(&mut SimcomMqtt::new(m, config), &session, p, qos)?;
        }
    }
    Ok(json!({ "published": true, "topic": p.topic, "bytes": p.message.len(), "qos": p.qos, "retain": p.retain }))
}
