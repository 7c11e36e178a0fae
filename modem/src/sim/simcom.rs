//! The simulated module's SIMCom dialect (SIM7600/A76xx): network open (`AT+CGDCONT`,
//! `AT+NETOPEN`, reference §2.6) and the `CMQTT*` MQTT client (§2.10) over the same
//! [`super::SimBroker`] as the Quectel dialect.
//!
//! Results come after `OK` (`+NETOPEN`, `+CMQTTSTART`, `+CMQTTCONNECT`, `+CMQTTPUB`,
//! `+CMQTTSUB`, `+CMQTTDISC`, `+CMQTTSTOP`); topics, payloads, wills and subscription filters are
//! read through `>` prompts with their lengths. Messages from the broker are delivered as the
//! multi-line, length-prefixed `+CMQTTRXSTART`/`RXTOPIC`/`RXPAYLOAD`/`RXEND` URCs; a dropped
//! link gives `+CMQTTCONNLOST: 0,1`.
//!
//! Error codes used (§2.10): 0 success, 1 failed, 3 socket connect failed, 11 no connection
//! *(the code for "not connected" is an inference)*, 23 already started.

use super::answer::{Answer, DataInput, Sink, num, params, text};
use super::broker::{BrokerMessage, ConnectFailure, ConnectRequest, open_and_connect};
use super::mqtt::{Mqtt, PendingData};
use std::string::String;
use std::vec::Vec;

/// The largest `+CMQTTRXPAYLOAD` part the simulator sends *(the module's real part size is not
/// in the reference; a small one exercises reassembly)*.
pub(crate) const RX_CHUNK: usize = 100;

impl Mqtt {
    /// The SIMCom data-path commands; `None` for other commands.
    pub(crate) fn simcom(&mut self, upper: &[u8], line: &[u8]) -> Option<Answer> {
        let p = params(line);
        let name_end = upper.iter().position(|&b| b == b'=' || b == b'?').unwrap_or(upper.len());
        let name = upper.get(..name_end).unwrap_or(upper);
        let result = self.result_ms;
        let idx_ok = num(&p, 0).is_some_and(|i| (0..=1).contains(&i));
        let counted = |p: &[Vec<u8>], i: usize| num(p, i).and_then(|n| usize::try_from(n).ok());
        Some(match name {
            b"AT+CGDCONT" => {
                self.apn = text(&p, 2).unwrap_or_default();
                Answer::ok()
            }
            b"AT+NETOPEN" if upper.ends_with(b"?") => {
                Answer::lines(vec![format!("+NETOPEN: {}", u8::from(self.pdp_active)).into_bytes(), b"OK".to_vec()])
            }
            b"AT+NETOPEN" => {
                if self.pdp_active {
                    // reference §2.6.
                    Answer::lines(vec![b"+IP ERROR: Network is already opened".to_vec(), b"ERROR".to_vec()])
                } else if self.refuse_pdp || !self.registered {
                    Answer::ok_then(result, b"+NETOPEN: 1".to_vec())
                } else {
                    self.pdp_active = true;
                    Answer::ok_then(result, b"+NETOPEN: 0".to_vec())
                }
            }
            b"AT+NETCLOSE" => {
                self.pdp_active = false;
                Answer::ok_then(result, b"+NETCLOSE: 0".to_vec())
            }
            b"AT+CMQTTSTART" => {
                let code = if self.started { 23 } else { 0 };
                self.started = true;
                Answer::ok_then(result, format!("+CMQTTSTART: {code}").into_bytes())
            }
            b"AT+CMQTTSTOP" => {
                self.started = false;
                self.client_id = None;
                Answer::ok_then(result, b"+CMQTTSTOP: 0".to_vec())
            }
            b"AT+CMQTTACCQ" => match text(&p, 1) {
                Some(id) if idx_ok && self.started && self.client_id.is_none() => {
                    self.client_id = Some(id);
                    Answer::ok()
                }
                _ => Answer::error(),
            },
            b"AT+CMQTTREL" => {
                if self.connected || !idx_ok {
                    return Some(Answer::error());
                }
                self.client_id = None;
                Answer::ok()
            }
            b"AT+CMQTTWILLTOPIC" | b"AT+CMQTTTOPIC" | b"AT+CMQTTPAYLOAD" => {
                let Some(len) = counted(&p, 1).filter(|_| idx_ok && self.client_id.is_some()) else {
                    return Some(Answer::error());
                };
                self.pending = Some(match name {
                    b"AT+CMQTTWILLTOPIC" => PendingData::SimcomWillTopic,
                    b"AT+CMQTTTOPIC" => PendingData::SimcomTopic,
                    _ => PendingData::SimcomPayload,
                });
                Answer::prompt(DataInput::Counted(len), Sink::Mqtt)
            }
            b"AT+CMQTTWILLMSG" | b"AT+CMQTTSUBTOPIC" => {
                let (Some(len), Some(qos)) = (counted(&p, 1), num(&p, 2).and_then(|q| u8::try_from(q).ok())) else {
                    return Some(Answer::error());
                };
                if !idx_ok || qos > 2 || self.client_id.is_none() {
                    return Some(Answer::error());
                }
                self.pending = Some(if name == b"AT+CMQTTWILLMSG" {
                    PendingData::SimcomWillMessage { qos }
                } else {
                    PendingData::SimcomSubTopic { qos }
                });
                Answer::prompt(DataInput::Counted(len), Sink::Mqtt)
            }
            b"AT+CMQTTCONNECT" => {
                let (Some(url), Some(keepalive), Some(clean)) = (text(&p, 1), num(&p, 2), num(&p, 3)) else {
                    return Some(Answer::error());
                };
                let Some(client_id) = self.client_id.clone().filter(|_| idx_ok) else { return Some(Answer::error()) };
                let Some((host, port)) = url
                    .strip_prefix("tcp://")
                    .and_then(|hp| hp.rsplit_once(':'))
                    .and_then(|(h, p)| Some((String::from(h), p.parse::<u16>().ok()?)))
                else {
                    return Some(Answer::error());
                };
                self.keepalive_s = u16::try_from(keepalive).unwrap_or(60);
                self.clean_session = clean == 1;
                let idx = num(&p, 0).unwrap_or(0);
                let request = ConnectRequest {
                    client_id,
                    keepalive_s: self.keepalive_s,
                    clean_session: self.clean_session,
                    credentials: text(&p, 4).zip(text(&p, 5)),
                    will: self.will.clone(),
                };
                let err = match open_and_connect(&mut *self.broker, &host, port, &request) {
                    Ok(()) => {
                        self.connected = true;
                        self.opened = u8::try_from(idx).ok();
                        0
                    }
                    Err(ConnectFailure::Unreachable) => 3,
                    Err(ConnectFailure::Refused) => 1,
                };
                Answer::ok_then(result, format!("+CMQTTCONNECT: {idx},{err}").into_bytes())
            }
            b"AT+CMQTTPUB" => {
                let (Some(qos), Some(_timeout)) = (num(&p, 1).and_then(|q| u8::try_from(q).ok()), num(&p, 2)) else {
                    return Some(Answer::error());
                };
                if !idx_ok || qos > 2 || self.topic.is_empty() {
                    return Some(Answer::error());
                }
                let idx = num(&p, 0).unwrap_or(0);
                if !self.connected {
                    return Some(Answer::ok_then(result, format!("+CMQTTPUB: {idx},11").into_bytes()));
                }
                let message = BrokerMessage {
                    topic: String::from_utf8_lossy(&core::mem::take(&mut self.topic)).into_owned(),
                    payload: core::mem::take(&mut self.payload),
                    qos,
                    retain: num(&p, 3) == Some(1),
                };
                let (delay, ok) = self.publish(&message);
                Answer::ok_then(delay, format!("+CMQTTPUB: {idx},{}", if ok { 0 } else { 1 }).into_bytes())
            }
            b"AT+CMQTTSUB" => {
                let Some((filter, qos)) = self.sub_topic.take().filter(|_| idx_ok && p.len() == 1) else {
                    return Some(Answer::error());
                };
                let idx = num(&p, 0).unwrap_or(0);
                let err = match self.broker.subscribe(&String::from_utf8_lossy(&filter), qos) {
                    Ok(granted) if granted <= 2 => 0,
                    _ => 1,
                };
                Answer::ok_then(result, format!("+CMQTTSUB: {idx},{err}").into_bytes())
            }
            b"AT+CMQTTDISC" => {
                if !idx_ok {
                    return Some(Answer::error());
                }
                let idx = num(&p, 0).unwrap_or(0);
                self.broker.disconnect();
                self.connected = false;
                self.opened = None;
                Answer::ok_then(result, format!("+CMQTTDISC: {idx},0").into_bytes())
            }
            _ => return None,
        })
    }

    /// The data after a prompt of a SIMCom MQTT command.
    pub(crate) fn simcom_data(&mut self, pending: PendingData, data: Vec<u8>) -> Answer {
        match pending {
            PendingData::SimcomTopic => self.topic = data,
            PendingData::SimcomPayload => self.payload = data,
            PendingData::SimcomSubTopic { qos } => self.sub_topic = Some((data, qos)),
            PendingData::SimcomWillTopic => self.will_topic = data,
            PendingData::SimcomWillMessage { qos } => {
                self.will = Some(BrokerMessage {
                    topic: String::from_utf8_lossy(&core::mem::take(&mut self.will_topic)).into_owned(),
                    payload: data,
                    qos,
                    retain: false,
                });
            }
            PendingData::QuectelPublish { .. } => return Answer::error(),
        }
        Answer::ok()
    }

    /// Messages from the broker as `+CMQTTRX*` URCs (each topic and payload after its length
    /// line), and the link loss (`+CMQTTCONNLOST: <idx>,1`).
    pub(crate) fn poll_simcom(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let Some(idx) = self.opened else { return out };
        if !self.connected {
            return out;
        }
        for m in self.broker.poll() {
            out.push(format!("+CMQTTRXSTART: {idx},{},{}", m.topic.len(), m.payload.len()).into_bytes());
            let mut topic = format!("+CMQTTRXTOPIC: {idx},{}\r\n", m.topic.len()).into_bytes();
            topic.extend_from_slice(m.topic.as_bytes());
            out.push(topic);
            // Long payloads come in several `+CMQTTRXPAYLOAD` parts (§2.10 "may repeat").
            let mut chunks: Vec<&[u8]> = m.payload.chunks(RX_CHUNK).collect();
            if chunks.is_empty() {
                chunks.push(&[]);
            }
            for chunk in chunks {
                let mut payload = format!("+CMQTTRXPAYLOAD: {idx},{}\r\n", chunk.len()).into_bytes();
                payload.extend_from_slice(chunk);
                out.push(payload);
            }
            out.push(format!("+CMQTTRXEND: {idx}").into_bytes());
        }
        if !self.broker.is_connected() {
            self.connected = false;
            self.opened = None;
            out.push(format!("+CMQTTCONNLOST: {idx},1").into_bytes());
        }
        out
    }
}
