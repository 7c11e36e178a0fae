//! A scriptable ESP-AT module (feature `sim`): an ESP32 running Espressif's AT firmware as a
//! Wi-Fi station with its built-in MQTT client (ESP-AT.md cites every reply format).
//!
//! [`EspSim`] shares [`SimClock`] and [`Split`] with the cellular [`super::Sim`] and implements
//! the same `embedded_io` traits, so [`crate::blocking::Modem`] runs over either. It boots with
//! some ROM garbage and `ready`, echoes commands (until `ATE0`) and answers: `AT`, `ATE0/1`,
//! `AT+RST`, `AT+GMR`, `AT+CWMODE=<m>`/`?`, `AT+CWJAP="<ssid>","<pwd>"` (against the APs added
//! with [`EspSim::add_ap`], failures `+CWJAP:<code>` then `ERROR`, or `FAIL` with
//! [`EspSim::set_legacy_fail`]), `AT+CWJAP?`, `AT+CWQAP`, `AT+CIPSTA?`, `AT+CIPSNTPCFG`,
//! `AT+CIPSNTPTIME?`, `AT+CIPSTART="TCP",...`, `AT+CIPSEND=[<link>,]<len>` (`>`, the data,
//! `Recv <n> bytes`, `SEND OK`), `AT+CIPCLOSE`, `AT+MQTTUSERCFG`, `AT+MQTTCONNCFG`,
//! `AT+MQTTCONN=...`/`?`, `AT+MQTTPUB`, `AT+MQTTPUBRAW` (`>`, the data, `+MQTTPUB:OK`),
//! `AT+MQTTSUB`, `AT+MQTTUNSUB`, `AT+MQTTCLEAN`. Anything else is `ERROR`.
//!
//! The module's MQTT client goes through a [`SimBroker`], as the cellular [`super::Sim`]'s does
//! ([`EspSim::set_broker`]; by default a fresh [`RecordingBroker`], or a
//! [`super::TcpBroker`] to reach a real broker): `AT+MQTTCONN` opens the connection and sends
//! CONNECT (client id, user name and password of `AT+MQTTUSERCFG`, keep-alive, clean session and
//! will of `AT+MQTTCONNCFG`), `AT+MQTTPUB`/`AT+MQTTPUBRAW` publish with their QoS and retain flag,
//! `AT+MQTTSUB` subscribes, `AT+MQTTCLEAN` disconnects cleanly, and a Wi-Fi drop or `AT+RST`
//! cuts the link without DISCONNECT (the broker then publishes the will). Messages the broker
//! delivers come back as `+MQTTSUBRECV:0,"<topic>",<len>,<data>` when the module has nothing
//! else to send; a broker that drops the connection gives `+MQTTDISCONNECTED:0`. Broker
//! failures end the command as the module's other failures do: `ERROR` for `AT+MQTTCONN`,
//! `AT+MQTTPUB` and `AT+MQTTSUB`, `+MQTTPUB:FAIL` for `AT+MQTTPUBRAW`.
//! `AT+MQTTUNSUB` only changes the module's own subscription list: the broker seam has no
//! UNSUBSCRIBE.
//!
//! The messages the broker accepted are also recorded on the module's side
//! ([`EspSim::published`]), whatever broker is behind it; incoming messages (bypassing the
//! broker), `+IPD` data, Wi-Fi drops (also in the middle of a send) and arbitrary URCs are
//! scripted at virtual times.

use super::broker::{BrokerMessage, ConnectRequest, RecordingBroker, SimBroker, open_and_connect};
use super::{SimClock, SimError, Split};
use std::boxed::Box;
use std::collections::BTreeMap;
use std::string::String;
use std::vec::Vec;

pub use super::broker::topic_matches;

/// A message the module published for the host (and its broker accepted).
pub type Published = BrokerMessage;

/// The MQTT configuration the host gave (`AT+MQTTUSERCFG`, `AT+MQTTCONNCFG`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttConfig {
    /// `<client_id>`.
    pub client_id: String,
    /// `<username>`.
    pub username: String,
    /// `<password>`.
    pub password: String,
    /// `<keepalive>` (0 = not configured).
    pub keepalive: u16,
    /// `<disable_clean_session>`.
    pub disable_clean_session: bool,
    /// The will: topic, message, QoS, retain.
    pub will: Option<(String, String, u8, bool)>,
    /// Broker host and port of the last `AT+MQTTCONN`.
    pub broker: Option<(String, u16)>,
}

#[derive(Debug, Clone)]
enum Action {
    Urc(Vec<u8>),
    Raw(Vec<u8>),
    WifiDrop,
    Message(String, Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawKind {
    CipSend,
    MqttPubRaw,
}

#[derive(Debug)]
struct Raw {
    kind: RawKind,
    len: usize,
    bytes: Vec<u8>,
    topic: String,
    qos: u8,
    retain: bool,
    fail: bool,
}

#[derive(Debug, Clone)]
enum Param {
    Str(Vec<u8>),
    Bare(Vec<u8>),
}

impl Param {
    fn text(&self) -> &[u8] {
        match self {
            Param::Str(t) | Param::Bare(t) => t,
        }
    }

    fn string(&self) -> String {
        String::from_utf8_lossy(self.text()).into_owned()
    }

    fn num(&self) -> Option<i64> {
        core::str::from_utf8(self.text()).ok()?.trim().parse().ok()
    }
}

/// ESP-AT string parameters: quoted, `\` escapes the next byte (ESP-AT.md §2).
fn split_params(text: &[u8]) -> Vec<Param> {
    let mut out = Vec::new();
    let mut i = 0;
    while i <= text.len() {
        if text.get(i) == Some(&b'"') {
            let mut s = Vec::new();
            i += 1;
            while let Some(&b) = text.get(i) {
                i += 1;
                match b {
                    b'\\' => {
                        if let Some(&n) = text.get(i) {
                            s.push(n);
                            i += 1;
                        }
                    }
                    b'"' => break,
                    _ => s.push(b),
                }
            }
            out.push(Param::Str(s));
            // skip to after the next comma
            while let Some(&b) = text.get(i) {
                i += 1;
                if b == b',' {
                    break;
                }
            }
            if i >= text.len() && text.last() != Some(&b',') {
                break;
            }
        } else {
            let end = text.get(i..).and_then(|r| r.iter().position(|&b| b == b',')).map_or(text.len(), |p| i + p);
            out.push(Param::Bare(text.get(i..end).unwrap_or(&[]).to_vec()));
            i = end + 1;
        }
    }
    out
}

/// The simulated ESP-AT module. See the module documentation.
#[derive(Debug)]
pub struct EspSim {
    clock: SimClock,
    out: BTreeMap<(u64, u64), Vec<u8>>,
    seq: u64,
    actions: Vec<(u64, Action)>,
    input: Vec<u8>,
    raw: Option<Raw>,
    booted_at: u64,
    split: Split,
    rng: u64,
    latency_ms: u64,
    echo: bool,
    mode: u8,
    aps: Vec<(String, String, i16)>,
    next_join_failure: Option<u8>,
    legacy_fail: bool,
    joined: Option<usize>,
    drop_during_send: bool,
    tcp_open: bool,
    sntp: bool,
    mqtt: MqttConfig,
    mqtt_user_set: bool,
    mqtt_connected: bool,
    subscriptions: Vec<(String, u8)>,
    broker: Box<dyn SimBroker>,
    published: Vec<Published>,
    tcp_sent: Vec<Vec<u8>>,
    commands: Vec<Vec<u8>>,
}

impl EspSim {
    /// A module powered on at the clock's current time: ROM boot garbage after 50 ms, `ready`
    /// after 300 ms; station mode, not joined, echo on.
    pub fn new(clock: SimClock) -> Self {
        let now = clock.now_ms();
        let mut sim = Self {
            clock,
            out: BTreeMap::new(),
            seq: 0,
            actions: Vec::new(),
            input: Vec::new(),
            raw: None,
            booted_at: now.saturating_add(300),
            split: Split::Whole,
            rng: 1,
            latency_ms: 20,
            echo: true,
            mode: 1,
            aps: Vec::new(),
            next_join_failure: None,
            legacy_fail: false,
            joined: None,
            drop_during_send: false,
            tcp_open: false,
            sntp: false,
            mqtt: MqttConfig::default(),
            mqtt_user_set: false,
            mqtt_connected: false,
            subscriptions: Vec::new(),
            broker: Box::new(RecordingBroker::new()),
            published: Vec::new(),
            tcp_sent: Vec::new(),
            commands: Vec::new(),
        };
        sim.emit(now.saturating_add(50), b"\x00\xf0ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET)\r\n");
        sim.emit(now.saturating_add(300), b"\r\nready\r\n");
        sim
    }

    /// The clock this simulator runs on.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Sets how output is cut into `read` results.
    pub fn set_split(&mut self, split: Split) {
        self.split = split;
        if let Split::Seeded(seed) = split {
            self.rng = seed.max(1);
        }
    }

    /// Sets the time between a command and its reply (default 20 ms).
    pub fn set_latency_ms(&mut self, ms: u64) {
        self.latency_ms = ms;
    }

    /// Replaces the broker behind the module's MQTT client (default: a fresh
    /// [`RecordingBroker`]). Give a [`RecordingBroker`] clone to inspect what reached it, or a
    /// [`super::TcpBroker`] to reach a real broker.
    pub fn set_broker(&mut self, broker: Box<dyn SimBroker>) {
        self.broker = broker;
    }

    /// Adds an access point the station can join, with the RSSI `AT+CWJAP?` reports.
    pub fn add_ap(&mut self, ssid: &str, password: &str, rssi: i16) {
        self.aps.push((ssid.into(), password.into(), rssi));
    }

    /// The next `AT+CWJAP` fails with `+CWJAP:<code>` whatever the AP list says.
    pub fn fail_next_join(&mut self, code: u8) {
        self.next_join_failure = Some(code);
    }

    /// Ends failed joins with `FAIL` (ESP-AT 1.x) instead of `ERROR` (2.x).
    pub fn set_legacy_fail(&mut self, legacy: bool) {
        self.legacy_fail = legacy;
    }

    /// The Wi-Fi drops right after the prompt of the next `AT+CIPSEND`/`AT+MQTTPUBRAW`:
    /// `WIFI DISCONNECT` (and `CLOSED`, `+MQTTDISCONNECTED:0`) arrive before the data is sent,
    /// which then ends in `SEND FAIL` / `+MQTTPUB:FAIL`.
    pub fn drop_wifi_during_next_send(&mut self) {
        self.drop_during_send = true;
    }

    /// At `at_ms` the AP goes away: `WIFI DISCONNECT`, `CLOSED` for an open link,
    /// `+MQTTDISCONNECTED:0` for a connected MQTT session.
    pub fn schedule_wifi_drop(&mut self, at_ms: u64) {
        self.actions.push((at_ms, Action::WifiDrop));
    }

    /// At `at_ms` a message arrives as if from the broker (without going through it):
    /// `+MQTTSUBRECV:0,"<topic>",<len>,<payload>` if one of the module's subscriptions matches
    /// and the session is connected (otherwise nothing).
    pub fn schedule_message(&mut self, at_ms: u64, topic: &str, payload: &[u8]) {
        self.actions.push((at_ms, Action::Message(topic.into(), payload.to_vec())));
    }

    /// At `at_ms` socket data arrives: `+IPD,[<link>,]<len>:<data>` (ESP-AT.md §4).
    pub fn schedule_ipd(&mut self, at_ms: u64, link: Option<u8>, data: &[u8]) {
        let mut bytes = b"\r\n+IPD,".to_vec();
        if let Some(l) = link {
            bytes.extend_from_slice(format!("{l},").as_bytes());
        }
        bytes.extend_from_slice(format!("{}:", data.len()).as_bytes());
        bytes.extend_from_slice(data);
        self.actions.push((at_ms, Action::Raw(bytes)));
    }

    /// At `at_ms` emits `line` as a message report (`\r\n` framed).
    pub fn schedule_urc(&mut self, at_ms: u64, line: &[u8]) {
        self.actions.push((at_ms, Action::Urc(line.to_vec())));
    }

    /// The messages the module published so far and its broker accepted, in order.
    pub fn published(&self) -> &[Published] {
        &self.published
    }

    /// The data blocks sent with `AT+CIPSEND` so far.
    pub fn tcp_sent(&self) -> &[Vec<u8>] {
        &self.tcp_sent
    }

    /// The MQTT configuration received.
    pub fn mqtt_config(&self) -> &MqttConfig {
        &self.mqtt
    }

    /// The active subscriptions `(filter, qos)`.
    pub fn subscriptions(&self) -> &[(String, u8)] {
        &self.subscriptions
    }

    /// The command lines received so far, without the `\r\n`.
    pub fn commands(&self) -> &[Vec<u8>] {
        &self.commands
    }

    /// Whether the station is joined.
    pub fn joined(&self) -> bool {
        self.joined.is_some()
    }

    /// Whether the MQTT session is connected.
    pub fn mqtt_connected(&self) -> bool {
        self.mqtt_connected
    }

    /// The release time of the next scheduled output or action.
    pub fn next_event_ms(&self) -> Option<u64> {
        let out = self.out.keys().next().map(|k| k.0);
        let act = self.actions.iter().map(|a| a.0).min();
        match (out, act) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn emit(&mut self, at: u64, bytes: &[u8]) {
        self.seq = self.seq.wrapping_add(1);
        self.out.insert((at, self.seq), bytes.to_vec());
    }

    fn emit_line(&mut self, at: u64, line: &[u8]) {
        let mut framed = b"\r\n".to_vec();
        framed.extend_from_slice(line);
        framed.extend_from_slice(b"\r\n");
        self.emit(at, &framed);
    }

    fn drop_wifi(&mut self, at: u64) {
        if self.joined.take().is_some() {
            self.emit_line(at, b"WIFI DISCONNECT");
        }
        if core::mem::take(&mut self.tcp_open) {
            self.emit_line(at, b"CLOSED");
        }
        if core::mem::take(&mut self.mqtt_connected) {
            // No DISCONNECT goes out: the broker sees the link drop and publishes the will.
            self.broker.drop_link();
            self.emit_line(at, b"+MQTTDISCONNECTED:0");
        }
    }

    /// `+MQTTDISCONNECTED:0` when the broker closed the connection behind the module's back.
    fn check_broker_link(&mut self, at: u64) {
        if self.mqtt_connected && !self.broker.is_connected() {
            self.mqtt_connected = false;
            self.emit_line(at, b"+MQTTDISCONNECTED:0");
        }
    }

    /// `+MQTTSUBRECV:0,"<topic>",<len>,<data>`: the data is counted, not framed (ESP-AT.md §6).
    fn emit_message(&mut self, at: u64, topic: &str, payload: &[u8]) {
        let mut bytes = format!("\r\n+MQTTSUBRECV:0,\"{topic}\",{},", payload.len()).into_bytes();
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(b"\r\n");
        self.emit(at, &bytes);
    }

    /// Hands `message` to the broker; records it when the broker accepted it.
    fn publish_to_broker(&mut self, message: BrokerMessage) -> bool {
        let accepted = self.mqtt_connected && self.broker.publish(&message, false).is_ok();
        if accepted {
            self.published.push(message);
        }
        accepted
    }

    /// The CONNECT the module sends for its `AT+MQTTUSERCFG` and `AT+MQTTCONNCFG`.
    fn connect_request(&self) -> ConnectRequest {
        let m = &self.mqtt;
        // ESP-AT.md §6: keep-alive 0 means 120 s. An empty user name means none (MQTT 3.1.1
        // §3.1.2.9 allows no password without a user name), an empty will topic no will
        // *(inference: the documentation does not say)*.
        ConnectRequest {
            client_id: m.client_id.clone(),
            keepalive_s: if m.keepalive == 0 { 120 } else { m.keepalive },
            clean_session: !m.disable_clean_session,
            credentials: (!m.username.is_empty()).then(|| (m.username.clone(), m.password.clone())),
            will: m.will.as_ref().filter(|w| !w.0.is_empty()).map(|(topic, message, qos, retain)| BrokerMessage {
                topic: topic.clone(),
                payload: message.clone().into_bytes(),
                qos: *qos,
                retain: *retain,
            }),
        }
    }

    fn pump(&mut self) {
        let now = self.clock.now_ms();
        let mut due = Vec::new();
        self.actions.retain(|(at, a)| {
            if *at <= now {
                due.push((*at, a.clone()));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|d| d.0);
        // Messages from the broker are sent when the module has nothing else to send (not inside
        // a command's reply or while it reads data after a prompt), as on the cellular `Sim`.
        if self.mqtt_connected && self.out.is_empty() && self.raw.is_none() {
            for m in self.broker.poll() {
                self.emit_message(now, &m.topic, &m.payload);
            }
            self.check_broker_link(now);
        }
        for (at, action) in due {
            match action {
                Action::Urc(line) => self.emit_line(at, &line),
                Action::Raw(bytes) => self.emit(at, &bytes),
                Action::WifiDrop => self.drop_wifi(at),
                Action::Message(topic, payload) => {
                    let wanted = self.subscriptions.iter().any(|(f, _)| topic_matches(f, &topic));
                    if self.mqtt_connected && wanted {
                        self.emit_message(at, &topic, &payload);
                    }
                }
            }
        }
    }

    fn fail_word(&self) -> &'static [u8] {
        if self.legacy_fail { b"FAIL" } else { b"ERROR" }
    }

    /// Answers one command line; the reply is emitted at `at`.
    fn answer(&mut self, cmd: &[u8], at: u64) {
        let (name, rest) = match cmd.iter().position(|&b| b == b'=' || b == b'?') {
            Some(p) => (cmd.get(..p).unwrap_or(&[]).to_ascii_uppercase(), cmd.get(p..).unwrap_or(&[]).to_vec()),
            None => (cmd.to_ascii_uppercase(), Vec::new()),
        };
        let query = rest.as_slice() == b"?";
        let params = rest.strip_prefix(b"=").map(split_params).unwrap_or_default();
        let p = |i: usize| params.get(i).cloned().unwrap_or(Param::Bare(Vec::new()));
        let ok = b"OK".to_vec();
        let lines: Vec<Vec<u8>> = match (name.as_slice(), query, params.len()) {
            (b"AT", false, 0) => vec![ok],
            (b"ATE0", ..) => {
                self.echo = false;
                vec![ok]
            }
            (b"ATE1" | b"ATE", ..) => {
                self.echo = true;
                vec![ok]
            }
            (b"AT+RST", ..) => {
                self.emit_line(at, b"OK");
                self.drop_wifi(at);
                self.booted_at = at.saturating_add(500);
                self.emit(at.saturating_add(500), b"\r\nready\r\n");
                self.echo = true;
                self.mqtt_user_set = false;
                return;
            }
            (b"AT+GMR", ..) => vec![
                b"AT version:2.2.0.0(c6fa6bf - ESP32 - Jul  2 2021 06:44:05)".to_vec(),
                b"SDK version:v4.2.2-76-gefa6eca".to_vec(),
                b"compile time(3a696ba):Jul  2 2021 11:54:43".to_vec(),
                b"Bin version:2.2.0(WROOM-32)".to_vec(),
                ok,
            ],
            (b"AT+CWMODE", true, _) => vec![format!("+CWMODE:{}", self.mode).into_bytes(), ok],
            (b"AT+CWMODE", false, 1..=2) => match p(0).num() {
                Some(m @ 0..=3) => {
                    self.mode = m as u8;
                    vec![ok]
                }
                _ => vec![b"ERROR".to_vec()],
            },
            (b"AT+CWJAP", true, _) => match self.joined.and_then(|i| self.aps.get(i)) {
                Some((ssid, _, rssi)) => {
                    vec![format!("+CWJAP:\"{ssid}\",\"1a:2b:3c:4d:5e:6f\",6,{rssi},0,1,3,0,1").into_bytes(), ok]
                }
                None => vec![b"No AP".to_vec(), ok],
            },
            (b"AT+CWJAP", false, 2..) => {
                if self.mode != 1 && self.mode != 3 {
                    return self.emit_line(at, b"ERROR");
                }
                self.drop_wifi(at);
                let (ssid, pwd) = (p(0).string(), p(1).string());
                let found = self.aps.iter().position(|a| a.0 == ssid);
                let code = self.next_join_failure.take().or(match found {
                    None => Some(3),
                    Some(i) if self.aps.get(i).is_some_and(|a| a.1 != pwd) => Some(2),
                    Some(_) => None,
                });
                match code {
                    Some(code) => {
                        let t = at.saturating_add(if code == 3 { 2_000 } else { 1_000 });
                        self.emit_line(t, format!("+CWJAP:{code}").as_bytes());
                        self.emit_line(t, self.fail_word());
                    }
                    None => {
                        self.joined = found;
                        self.emit_line(at.saturating_add(300), b"WIFI CONNECTED");
                        self.emit_line(at.saturating_add(800), b"WIFI GOT IP");
                        self.emit_line(at.saturating_add(800), b"OK");
                    }
                }
                return;
            }
            (b"AT+CWQAP", ..) => {
                self.drop_wifi(at);
                vec![ok]
            }
            (b"AT+CIPSTA", true, _) => {
                if self.joined.is_some() {
                    vec![
                        b"+CIPSTA:ip:\"192.168.3.112\"".to_vec(),
                        b"+CIPSTA:gateway:\"192.168.3.1\"".to_vec(),
                        b"+CIPSTA:netmask:\"255.255.255.0\"".to_vec(),
                        ok,
                    ]
                } else {
                    vec![
                        b"+CIPSTA:ip:\"0.0.0.0\"".to_vec(),
                        b"+CIPSTA:gateway:\"0.0.0.0\"".to_vec(),
                        b"+CIPSTA:netmask:\"0.0.0.0\"".to_vec(),
                        ok,
                    ]
                }
            }
            (b"AT+CIPSNTPCFG", false, 1..) => {
                self.sntp = p(0).num() == Some(1);
                vec![ok]
            }
            (b"AT+CIPSNTPTIME", true, _) => {
                let time = if self.sntp && self.joined.is_some() {
                    "Mon Dec 12 02:33:32 2016"
                } else {
                    "Thu Jan 01 00:00:00 1970"
                };
                vec![format!("+CIPSNTPTIME:{time}").into_bytes(), ok]
            }
            (b"AT+CIPSTART", false, 3..) => {
                if self.joined.is_none() {
                    vec![b"ERROR".to_vec(), b"CLOSED".to_vec()]
                } else if self.tcp_open {
                    vec![b"ALREADY CONNECTED".to_vec(), b"ERROR".to_vec()]
                } else {
                    self.tcp_open = true;
                    vec![b"CONNECT".to_vec(), ok]
                }
            }
            (b"AT+CIPCLOSE", ..) => {
                if core::mem::take(&mut self.tcp_open) {
                    vec![b"CLOSED".to_vec(), ok]
                } else {
                    vec![b"ERROR".to_vec()]
                }
            }
            (b"AT+CIPSEND", false, 1..=2) => {
                let len = p(params.len() - 1).num().unwrap_or(0);
                if !self.tcp_open || !(1..=8192).contains(&len) {
                    return self.emit_line(at, b"ERROR");
                }
                self.open_raw(at, RawKind::CipSend, len as usize, String::new(), 0, false, b"\r\nOK\r\n\r\n>");
                return;
            }
            (b"AT+MQTTUSERCFG", false, 8) => {
                self.mqtt.client_id = p(2).string();
                self.mqtt.username = p(3).string();
                self.mqtt.password = p(4).string();
                self.mqtt_user_set = true;
                vec![ok]
            }
            (b"AT+MQTTCONNCFG", false, 7) if self.mqtt_user_set => {
                self.mqtt.keepalive = p(1).num().unwrap_or(0) as u16;
                self.mqtt.disable_clean_session = p(2).num() == Some(1);
                self.mqtt.will =
                    Some((p(3).string(), p(4).string(), p(5).num().unwrap_or(0) as u8, p(6).num() == Some(1)));
                vec![ok]
            }
            (b"AT+MQTTCONN", true, _) => {
                let state = if self.mqtt_connected {
                    if self.subscriptions.is_empty() { 5 } else { 6 }
                } else if self.mqtt_user_set {
                    if self.mqtt.broker.is_some() { 3 } else { 1 }
                } else {
                    0
                };
                let (host, port) = self.mqtt.broker.clone().unwrap_or_default();
                vec![format!("+MQTTCONN:0,{state},1,\"{host}\",\"{port}\",\"\",0").into_bytes(), ok]
            }
            (b"AT+MQTTCONN", false, 4) => {
                if self.mqtt_connected {
                    // AT_MQTT_ALREADY_CONNECTED (MQTT Error Codes).
                    vec![b"ERR CODE:0x00006004".to_vec(), b"ERROR".to_vec()]
                } else if !self.mqtt_user_set || self.joined.is_none() {
                    vec![b"ERROR".to_vec()]
                } else {
                    let (host, port) = (p(1).string(), p(2).num().unwrap_or(0) as u16);
                    self.mqtt.broker = Some((host.clone(), port));
                    let request = self.connect_request();
                    if open_and_connect(&mut *self.broker, &host, port, &request).is_err() {
                        vec![b"ERROR".to_vec()]
                    } else {
                        self.mqtt_connected = true;
                        let at = at.saturating_add(200);
                        let reconnect = p(3).num().unwrap_or(0);
                        let report = format!("+MQTTCONNECTED:0,1,\"{host}\",\"{port}\",\"\",{reconnect}");
                        self.emit_line(at, report.as_bytes());
                        self.emit_line(at, b"OK");
                        return;
                    }
                }
            }
            (b"AT+MQTTPUB", false, 5) => {
                if !self.mqtt_connected {
                    // AT_MQTT_IN_DISCONNECTED_STATE (MQTT Error Codes).
                    vec![b"ERR CODE:0x00006051".to_vec(), b"ERROR".to_vec()]
                } else {
                    let message = BrokerMessage {
                        topic: p(1).string(),
                        payload: p(2).text().to_vec(),
                        qos: p(3).num().unwrap_or(0) as u8,
                        retain: p(4).num() == Some(1),
                    };
                    let accepted = self.publish_to_broker(message);
                    self.emit_line(at, if accepted { b"OK" } else { b"ERROR" });
                    return self.check_broker_link(at);
                }
            }
            (b"AT+MQTTPUBRAW", false, 5) => {
                let len = p(2).num().unwrap_or(0);
                if !self.mqtt_connected {
                    self.emit_line(at, b"ERR CODE:0x00006051");
                    return self.emit_line(at, b"ERROR");
                }
                if !(1..=8192).contains(&len) {
                    return self.emit_line(at, b"ERROR");
                }
                let (topic, qos, retain) = (p(1).string(), p(3).num().unwrap_or(0) as u8, p(4).num() == Some(1));
                self.open_raw(at, RawKind::MqttPubRaw, len as usize, topic, qos, retain, b"\r\nOK\r\n\r\n>");
                return;
            }
            (b"AT+MQTTSUB", false, 3) => {
                let filter = p(1).string();
                if !self.mqtt_connected {
                    vec![b"ERROR".to_vec()]
                } else if self.subscriptions.iter().any(|s| s.0 == filter) {
                    vec![b"ALREADY SUBSCRIBE".to_vec(), ok]
                } else {
                    let qos = p(2).num().unwrap_or(0) as u8;
                    match self.broker.subscribe(&filter, qos) {
                        // SUBACK 0x80 is a refusal (MQTT 3.1.1 §3.9.3).
                        Ok(granted) if granted <= 2 => {
                            self.subscriptions.push((filter, qos));
                            self.emit_line(at, b"OK");
                        }
                        _ => self.emit_line(at, b"ERROR"),
                    }
                    return self.check_broker_link(at);
                }
            }
            (b"AT+MQTTUNSUB", false, 2) => {
                let filter = p(1).string();
                let before = self.subscriptions.len();
                self.subscriptions.retain(|s| s.0 != filter);
                if before == self.subscriptions.len() { vec![b"NO UNSUBSCRIBE".to_vec(), ok] } else { vec![ok] }
            }
            (b"AT+MQTTCLEAN", false, 1) => {
                if core::mem::take(&mut self.mqtt_connected) {
                    self.broker.disconnect();
                }
                self.mqtt_user_set = false;
                self.subscriptions.clear();
                vec![ok]
            }
            _ => vec![b"ERROR".to_vec()],
        };
        for line in lines {
            self.emit_line(at, &line);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn open_raw(&mut self, at: u64, kind: RawKind, len: usize, topic: String, qos: u8, retain: bool, prompt: &[u8]) {
        self.emit(at, prompt);
        let fail = core::mem::take(&mut self.drop_during_send);
        if fail {
            self.drop_wifi(at);
        }
        self.raw = Some(Raw { kind, len, bytes: Vec::new(), topic, qos, retain, fail });
    }

    fn finish_raw(&mut self, raw: Raw) {
        let at = self.clock.now_ms().saturating_add(self.latency_ms);
        match raw.kind {
            RawKind::CipSend => {
                self.emit_line(at, format!("Recv {} bytes", raw.len).as_bytes());
                if raw.fail {
                    self.emit_line(at, b"SEND FAIL");
                } else {
                    self.tcp_sent.push(raw.bytes);
                    self.emit_line(at, b"SEND OK");
                }
            }
            RawKind::MqttPubRaw => {
                let message = BrokerMessage { topic: raw.topic, payload: raw.bytes, qos: raw.qos, retain: raw.retain };
                if !raw.fail && self.publish_to_broker(message) {
                    self.emit_line(at, b"+MQTTPUB:OK");
                } else {
                    self.emit_line(at, b"+MQTTPUB:FAIL");
                }
                self.check_broker_link(at);
            }
        }
    }

    fn command(&mut self, line: Vec<u8>) {
        let now = self.clock.now_ms();
        if now < self.booted_at {
            return;
        }
        if self.echo {
            let mut echo = line.clone();
            echo.extend_from_slice(b"\r\r\n");
            self.emit(now, &echo);
        }
        self.commands.push(line.clone());
        self.answer(&line, now.saturating_add(self.latency_ms));
    }

    fn next_chunk_len(&mut self, max: usize) -> usize {
        let n = match self.split {
            Split::Whole => max,
            Split::EveryByte => 1,
            Split::Seeded(_) => {
                let mut x = self.rng;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.rng = x;
                usize::try_from(x % 8).unwrap_or(0).saturating_add(1)
            }
        };
        n.min(max)
    }

    fn take_due(&mut self, buf: &mut [u8]) -> usize {
        let now = self.clock.now_ms();
        let want = self.next_chunk_len(buf.len());
        let mut n = 0;
        while n < want {
            let Some(mut entry) = self.out.first_entry() else { break };
            if entry.key().0 > now {
                break;
            }
            let bytes = entry.get_mut();
            let take = (want - n).min(bytes.len());
            for (dst, src) in buf.iter_mut().skip(n).zip(bytes.drain(..take)) {
                *dst = src;
            }
            n += take;
            if bytes.is_empty() {
                entry.remove();
            }
        }
        n
    }
}

impl embedded_io::ErrorType for EspSim {
    type Error = SimError;
}

impl embedded_io::ReadReady for EspSim {
    fn read_ready(&mut self) -> Result<bool, SimError> {
        self.pump();
        let now = self.clock.now_ms();
        Ok(self.out.keys().next().is_some_and(|k| k.0 <= now))
    }
}

impl embedded_io::Read for EspSim {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, SimError> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.pump();
            let n = self.take_due(buf);
            if n > 0 {
                return Ok(n);
            }
            match self.next_event_ms() {
                Some(at) => self.clock.advance_to(at),
                None => return Err(SimError::Idle),
            }
        }
    }
}

impl embedded_io::Write for EspSim {
    fn write(&mut self, buf: &[u8]) -> Result<usize, SimError> {
        self.pump();
        for &b in buf {
            if let Some(raw) = self.raw.as_mut() {
                raw.bytes.push(b);
                if raw.bytes.len() >= raw.len
                    && let Some(raw) = self.raw.take()
                {
                    self.finish_raw(raw);
                }
                continue;
            }
            if b == b'\r' || b == b'\n' {
                let line = core::mem::take(&mut self.input);
                if !line.is_empty() {
                    self.command(line);
                }
            } else {
                self.input.push(b);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), SimError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn params_with_escapes() {
        let p = split_params(br#"0,"a\,b\"c",12,"",x"#);
        let texts: Vec<&[u8]> = p.iter().map(Param::text).collect();
        assert_eq!(texts, vec![&b"0"[..], b"a,b\"c", b"12", b"", b"x"]);
    }
}
