//! The simulated module's data path, Quectel dialect: PDP (`AT+QICSGP`, `AT+QIACT`,
//! `AT+QIDEACT`, reference §2.6) and the `QMT*` MQTT client (§2.9) over a [`SimBroker`].
//!
//! Results come after `OK` as on the module (§1.6 item 6): `+QMTOPEN`, `+QMTCONN`, `+QMTPUB`,
//! `+QMTSUB`, `+QMTDISC`, `+QMTCLOSE`. `AT+QMTPUBEX` reads exactly `<len>` bytes after its `>`
//! prompt, `AT+QMTPUB` reads until Ctrl-Z. Messages from the broker are pushed as `+QMTRECV`
//! (with the payload length when `recv/mode` has `<len_enable>` = 1); a broker that drops the
//! link gives `+QMTSTAT: <idx>,1`.

use super::answer::{Answer, DataInput, Sink, num, params, text};
use super::broker::{BrokerMessage, ConnectRequest, RecordingBroker, SimBroker};
use std::boxed::Box;
use std::string::{String, ToString};
use std::vec::Vec;

/// The address `AT+QIACT?` reports for an active context.
pub(crate) const SIM_IP: &str = "10.7.157.1";

#[derive(Debug)]
pub(crate) enum PendingData {
    QuectelPublish { idx: u8, msg_id: u16, qos: u8, retain: bool, topic: String },
    SimcomTopic,
    SimcomPayload,
    SimcomSubTopic { qos: u8 },
    SimcomWillTopic,
    SimcomWillMessage { qos: u8 },
}

/// Module-side MQTT and PDP state, shared by both dialects.
#[derive(Debug)]
pub(crate) struct Mqtt {
    pub broker: Box<dyn SimBroker>,
    pub pdp_active: bool,
    pub refuse_pdp: bool,
    pub apn: String,
    pub keepalive_s: u16,
    pub clean_session: bool,
    pub will: Option<BrokerMessage>,
    pub packet_timeout_ms: u64,
    pub retries: u8,
    pub len_enable: bool,
    pub opened: Option<u8>,
    pub connected: bool,
    pub pending: Option<PendingData>,
    pub next_in_id: u16,
    pub lost_acks: u8,
    pub result_ms: u64,
    // SIMCom state (sim/simcom.rs).
    pub started: bool,
    pub client_id: Option<String>,
    pub topic: Vec<u8>,
    pub payload: Vec<u8>,
    pub sub_topic: Option<(Vec<u8>, u8)>,
    pub will_topic: Vec<u8>,
}

impl Default for Mqtt {
    fn default() -> Self {
        Self {
            broker: Box::new(RecordingBroker::new()),
            pdp_active: false,
            refuse_pdp: false,
            apn: String::new(),
            keepalive_s: 120,
            clean_session: true,
            will: None,
            packet_timeout_ms: 5_000,
            retries: 3,
            len_enable: false,
            opened: None,
            connected: false,
            pending: None,
            next_in_id: 0,
            lost_acks: 0,
            result_ms: 50,
            started: false,
            client_id: None,
            topic: Vec::new(),
            payload: Vec::new(),
            sub_topic: None,
            will_topic: Vec::new(),
        }
    }
}

impl Mqtt {
    /// Publishes a message the host handed over, retransmitting (DUP) for each scripted lost
    /// acknowledgement; returns the delay until the module knows the outcome and whether the
    /// broker acknowledged it within the retries.
    pub(crate) fn publish(&mut self, message: &BrokerMessage) -> (u64, bool) {
        let mut delay = self.result_ms;
        let mut ok = self.broker.publish(message, false).is_ok();
        if message.qos > 0 {
            let mut tries = 0;
            while ok && self.lost_acks > 0 {
                self.lost_acks -= 1;
                delay = delay.saturating_add(self.packet_timeout_ms);
                if tries >= self.retries {
                    return (delay, false);
                }
                tries += 1;
                ok = self.broker.publish(message, true).is_ok();
            }
        }
        (delay, ok)
    }

    fn connect_request(&self, client_id: String, credentials: Option<(String, String)>) -> ConnectRequest {
        ConnectRequest {
            client_id,
            keepalive_s: self.keepalive_s,
            clean_session: self.clean_session,
            credentials,
            will: self.will.clone(),
        }
    }

    /// Messages from the broker as URC lines, and the link loss (`+QMTSTAT: <idx>,1`).
    pub(crate) fn poll_quectel(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let Some(idx) = self.opened else { return out };
        if !self.connected {
            return out;
        }
        for m in self.broker.poll() {
            let msg_id = if m.qos == 0 {
                0
            } else {
                self.next_in_id = self.next_in_id.wrapping_add(1).max(1);
                self.next_in_id
            };
            let mut line = format!("+QMTRECV: {idx},{msg_id},\"{}\",", m.topic).into_bytes();
            if self.len_enable {
                line.extend_from_slice(format!("{},", m.payload.len()).as_bytes());
            }
            line.push(b'"');
            line.extend_from_slice(&m.payload);
            line.push(b'"');
            out.push(line);
        }
        if !self.broker.is_connected() {
            self.connected = false;
            self.opened = None;
            out.push(format!("+QMTSTAT: {idx},1").into_bytes());
        }
        out
    }

    /// The Quectel PDP and `QMT*` commands; `None` for other commands.
    pub(crate) fn quectel(&mut self, upper: &[u8], line: &[u8]) -> Option<Answer> {
        let p = params(line);
        let name_end = upper.iter().position(|&b| b == b'=' || b == b'?').unwrap_or(upper.len());
        let name = upper.get(..name_end).unwrap_or(upper);
        let result = self.result_ms;
        Some(match name {
            b"AT+QICSGP" => {
                self.apn = text(&p, 2).unwrap_or_default();
                Answer::ok()
            }
            b"AT+QIACT" if upper.ends_with(b"?") => {
                let mut lines = Vec::new();
                if self.pdp_active {
                    lines.push(format!("+QIACT: 1,1,1,\"{SIM_IP}\"").into_bytes());
                }
                lines.push(b"OK".to_vec());
                Answer::lines(lines)
            }
            b"AT+QIACT" => {
                if self.pdp_active || self.refuse_pdp || num(&p, 0) != Some(1) {
                    Answer::error()
                } else {
                    self.pdp_active = true;
                    Answer::ok()
                }
            }
            b"AT+QIDEACT" => {
                self.pdp_active = false;
                Answer::ok()
            }
            b"AT+QMTCFG" => self.qmtcfg(&p),
            b"AT+QMTOPEN" => {
                let (Some(idx), Some(host), Some(port)) = (num(&p, 0), text(&p, 1), num(&p, 2)) else {
                    return Some(Answer::error());
                };
                let code = if self.opened.is_some() {
                    2
                } else if !self.pdp_active {
                    3
                } else {
                    match self.broker.open(&host, u16::try_from(port).unwrap_or(0)) {
                        Ok(()) => {
                            self.opened = u8::try_from(idx).ok();
                            0
                        }
                        Err(_) => -1,
                    }
                };
                Answer::ok_then(result, format!("+QMTOPEN: {idx},{code}").into_bytes())
            }
            b"AT+QMTCONN" if !upper.ends_with(b"?") => {
                let (Some(idx), Some(id)) = (num(&p, 0), text(&p, 1)) else { return Some(Answer::error()) };
                if self.opened != u8::try_from(idx).ok() {
                    return Some(Answer::error());
                }
                let credentials = text(&p, 2).zip(text(&p, 3));
                let request = self.connect_request(id, credentials);
                let tail = match self.broker.connect(&request) {
                    Ok(0) => {
                        self.connected = true;
                        "0,0".to_string()
                    }
                    Ok(code) => format!("0,{code}"),
                    Err(_) => "2".to_string(),
                };
                Answer::ok_then(result, format!("+QMTCONN: {idx},{tail}").into_bytes())
            }
            b"AT+QMTPUBEX" | b"AT+QMTPUB" => {
                let (Some(idx), Some(msg_id), Some(qos), Some(retain), Some(topic)) =
                    (num(&p, 0), num(&p, 1), num(&p, 2), num(&p, 3), text(&p, 4))
                else {
                    return Some(Answer::error());
                };
                let ex = name == b"AT+QMTPUBEX";
                let len = if ex { num(&p, 5) } else { Some(0) };
                // reference §2.9 item 5: the packet id is 0 for QoS 0 and only for QoS 0.
                let valid = self.connected
                    && self.opened == u8::try_from(idx).ok()
                    && (0..=2).contains(&qos)
                    && (qos == 0) == (msg_id == 0)
                    && (0..=65_535).contains(&msg_id)
                    && matches!(retain, 0 | 1)
                    && len.is_some_and(|l| (0..=crate::framer::MAX_PAYLOAD as i64).contains(&l))
                    && (ex || p.len() == 5);
                if !valid {
                    return Some(Answer::error());
                }
                self.pending = Some(PendingData::QuectelPublish {
                    idx: u8::try_from(idx).unwrap_or(0),
                    msg_id: u16::try_from(msg_id).unwrap_or(0),
                    qos: u8::try_from(qos).unwrap_or(0),
                    retain: retain == 1,
                    topic,
                });
                let input = if ex {
                    DataInput::Counted(usize::try_from(len.unwrap_or(0)).unwrap_or(0))
                } else {
                    DataInput::CtrlZ
                };
                Answer::prompt(input, Sink::Mqtt)
            }
            b"AT+QMTSUB" => {
                let (Some(idx), Some(msg_id), Some(filter), Some(qos)) =
                    (num(&p, 0), num(&p, 1), text(&p, 2), num(&p, 3))
                else {
                    return Some(Answer::error());
                };
                if !self.connected || msg_id == 0 {
                    return Some(Answer::error());
                }
                let tail = match self.broker.subscribe(&filter, u8::try_from(qos).unwrap_or(0)) {
                    Ok(granted) => format!("0,{granted}"),
                    Err(_) => "2".to_string(),
                };
                Answer::ok_then(result, format!("+QMTSUB: {idx},{msg_id},{tail}").into_bytes())
            }
            b"AT+QMTDISC" | b"AT+QMTCLOSE" => {
                let Some(idx) = num(&p, 0) else { return Some(Answer::error()) };
                if self.opened != u8::try_from(idx).ok() {
                    return Some(Answer::error());
                }
                if name == b"AT+QMTDISC" {
                    self.broker.disconnect();
                } else {
                    self.broker.drop_link();
                }
                self.connected = false;
                self.opened = None;
                let prefix = if name == b"AT+QMTDISC" { "+QMTDISC" } else { "+QMTCLOSE" };
                Answer::ok_then(result, format!("{prefix}: {idx},0").into_bytes())
            }
            _ => return None,
        })
    }

    fn qmtcfg(&mut self, p: &[Vec<u8>]) -> Answer {
        let Some(what) = text(p, 0) else { return Answer::error() };
        if !num(p, 1).is_some_and(|i| (0..=5).contains(&i)) {
            return Answer::error();
        }
        let ok = match what.as_str() {
            "version" => matches!(num(p, 2), Some(3 | 4)),
            "pdpcid" => num(p, 2).is_some_and(|c| (1..=16).contains(&c)),
            "keepalive" => match num(p, 2).and_then(|k| u16::try_from(k).ok()) {
                Some(k) => {
                    self.keepalive_s = k;
                    true
                }
                None => false,
            },
            "session" => match num(p, 2) {
                Some(c @ 0..=1) => {
                    self.clean_session = c == 1;
                    true
                }
                _ => false,
            },
            "timeout" => match (num(p, 2), num(p, 3)) {
                (Some(t @ 1..=60), Some(r @ 0..=10)) => {
                    self.packet_timeout_ms = u64::try_from(t).unwrap_or(5) * 1_000;
                    self.retries = u8::try_from(r).unwrap_or(3);
                    true
                }
                _ => false,
            },
            "will" => match num(p, 2) {
                Some(0) => {
                    self.will = None;
                    true
                }
                Some(1) => match (num(p, 3), num(p, 4), text(p, 5), p.get(6)) {
                    (Some(qos @ 0..=2), Some(retain @ 0..=1), Some(topic), Some(message)) => {
                        self.will = Some(BrokerMessage {
                            topic,
                            payload: message.clone(),
                            qos: u8::try_from(qos).unwrap_or(0),
                            retain: retain == 1,
                        });
                        true
                    }
                    _ => false,
                },
                _ => false,
            },
            "recv/mode" => match (num(p, 2), num(p, 3)) {
                // Push mode only; buffer mode (1) is not simulated.
                (Some(0), len) => {
                    self.len_enable = len == Some(1);
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if ok { Answer::ok() } else { Answer::error() }
    }

    /// The data after a prompt of an MQTT command.
    pub(crate) fn data(&mut self, data: Vec<u8>) -> Answer {
        match self.pending.take() {
            Some(PendingData::QuectelPublish { idx, msg_id, qos, retain, topic }) => {
                let message = BrokerMessage { topic, payload: data, qos, retain };
                let (delay, ok) = self.publish(&message);
                let result = if ok { 0 } else { 2 };
                Answer::ok_then(delay, format!("+QMTPUB: {idx},{msg_id},{result}").into_bytes())
            }
            Some(pending) => self.simcom_data(pending, data),
            None => Answer::error(),
        }
    }
}
