//! The simulated module's MQTT side is a pluggable broker: [`SimBroker`].
//!
//! - [`RecordingBroker`]: in-process; keeps every PUBLISH with its QoS, retain and DUP flags, the
//!   retained store, the will, the subscriptions; tests inject messages on subscribed topics and
//!   cut the link (the will is then published).
//! - [`super::tcp::TcpBroker`]: a real broker over TCP, speaking MQTT 3.1.1.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::string::String;
use std::vec::Vec;

/// A message as the broker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerMessage {
    /// Topic name.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// QoS 0..=2.
    pub qos: u8,
    /// RETAIN flag.
    pub retain: bool,
}

/// What the module sends in CONNECT (MQTT 3.1.1 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectRequest {
    /// Client identifier.
    pub client_id: String,
    /// Keep-alive in seconds.
    pub keepalive_s: u16,
    /// Clean session flag.
    pub clean_session: bool,
    /// User name and password.
    pub credentials: Option<(String, String)>,
    /// Last will.
    pub will: Option<BrokerMessage>,
}

/// Why the broker side failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrokerError {
    /// The host could not be resolved or reached.
    Unreachable(String),
    /// No answer in time.
    Timeout,
    /// The connection is closed.
    Closed,
    /// The peer sent something that is not MQTT 3.1.1.
    Protocol(&'static str),
}

impl core::fmt::Display for BrokerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unreachable(why) => write!(f, "broker unreachable: {why}"),
            Self::Timeout => f.write_str("broker did not answer in time"),
            Self::Closed => f.write_str("broker connection closed"),
            Self::Protocol(why) => write!(f, "broker protocol error: {why}"),
        }
    }
}

impl core::error::Error for BrokerError {}

/// The network side of the simulated module's MQTT client.
pub trait SimBroker: core::fmt::Debug {
    /// Opens the network connection (`AT+QMTOPEN`, `AT+CMQTTCONNECT` first half).
    ///
    /// # Errors
    /// [`BrokerError::Unreachable`] when the host cannot be reached.
    fn open(&mut self, host: &str, port: u16) -> Result<(), BrokerError>;
    /// Sends CONNECT; returns the CONNACK return code (0 accepted).
    ///
    /// # Errors
    /// When the connection fails or the broker does not answer.
    fn connect(&mut self, request: &ConnectRequest) -> Result<u8, BrokerError>;
    /// Sends PUBLISH and, for QoS 1/2, waits for its acknowledgement.
    ///
    /// # Errors
    /// When the connection fails or the acknowledgement does not come.
    fn publish(&mut self, message: &BrokerMessage, dup: bool) -> Result<(), BrokerError>;
    /// Sends SUBSCRIBE; returns the granted QoS (0x80 refused).
    ///
    /// # Errors
    /// When the connection fails or SUBACK does not come.
    fn subscribe(&mut self, filter: &str, qos: u8) -> Result<u8, BrokerError>;
    /// Messages that arrived for the client since the last call (without waiting).
    fn poll(&mut self) -> Vec<BrokerMessage>;
    /// Whether the connection is up (false after the peer closed it).
    fn is_connected(&self) -> bool;
    /// Sends DISCONNECT and closes (the will is discarded).
    fn disconnect(&mut self);
    /// Closes the network connection without DISCONNECT (the broker publishes the will).
    fn drop_link(&mut self);
}

/// Whether `topic` matches `filter` with MQTT wildcards `+` and `#` (MQTT 3.1.1 §4.7).
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Why [`open_and_connect`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectFailure {
    /// The network connection could not be opened.
    Unreachable,
    /// CONNECT was refused (a CONNACK code other than 0), unanswered or cut.
    Refused,
}

/// Opens the network connection and sends CONNECT: the one step of modules whose single command
/// does both (SIMCom `AT+CMQTTCONNECT`, ESP-AT `AT+MQTTCONN`).
pub(crate) fn open_and_connect(
    broker: &mut dyn SimBroker,
    host: &str,
    port: u16,
    request: &ConnectRequest,
) -> Result<(), ConnectFailure> {
    broker.open(host, port).map_err(|_| ConnectFailure::Unreachable)?;
    match broker.connect(request) {
        Ok(0) => Ok(()),
        _ => Err(ConnectFailure::Refused),
    }
}

/// A PUBLISH the recording broker received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The message.
    pub message: BrokerMessage,
    /// DUP flag (a retransmission).
    pub dup: bool,
}

#[derive(Debug, Default)]
struct Recording {
    opened: Option<(String, u16)>,
    connected: bool,
    connects: Vec<ConnectRequest>,
    published: Vec<Published>,
    retained: BTreeMap<String, BrokerMessage>,
    will: Option<BrokerMessage>,
    wills_sent: Vec<BrokerMessage>,
    subscriptions: Vec<(String, u8)>,
    incoming: VecDeque<BrokerMessage>,
    connack: u8,
    unreachable: bool,
    disconnects: u32,
}

/// An in-process broker that records everything. Clones share the same record, so a test keeps
/// one clone and gives the other to the simulator.
#[derive(Debug, Clone, Default)]
pub struct RecordingBroker(Rc<RefCell<Recording>>);

impl RecordingBroker {
    /// An empty broker that accepts every connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every PUBLISH received, in order (wills included once sent).
    pub fn published(&self) -> Vec<Published> {
        self.0.borrow().published.clone()
    }

    /// The retained message on `topic`.
    pub fn retained(&self, topic: &str) -> Option<BrokerMessage> {
        self.0.borrow().retained.get(topic).cloned()
    }

    /// The will of the current connection.
    pub fn will(&self) -> Option<BrokerMessage> {
        self.0.borrow().will.clone()
    }

    /// Wills the broker published after a link was dropped.
    pub fn wills_sent(&self) -> Vec<BrokerMessage> {
        self.0.borrow().wills_sent.clone()
    }

    /// Every CONNECT received.
    pub fn connects(&self) -> Vec<ConnectRequest> {
        self.0.borrow().connects.clone()
    }

    /// Subscriptions of the current session with their granted QoS.
    pub fn subscriptions(&self) -> Vec<(String, u8)> {
        self.0.borrow().subscriptions.clone()
    }

    /// The host and port of the last open.
    pub fn opened(&self) -> Option<(String, u16)> {
        self.0.borrow().opened.clone()
    }

    /// Clean DISCONNECTs received.
    pub fn disconnects(&self) -> u32 {
        self.0.borrow().disconnects
    }

    /// Whether a client is connected.
    pub fn connected(&self) -> bool {
        self.0.borrow().connected
    }

    /// The CONNACK return code for the next CONNECTs (0 accepts).
    pub fn set_connack(&self, code: u8) {
        self.0.borrow_mut().connack = code;
    }

    /// Makes the next opens fail as an unreachable host.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.0.borrow_mut().unreachable = unreachable;
    }

    /// Another client publishes `payload` on `topic`: delivered to the simulated module when a
    /// subscription matches (with the lower of the two QoS). Returns whether it was delivered.
    pub fn inject(&self, topic: &str, payload: &[u8], qos: u8) -> bool {
        let mut r = self.0.borrow_mut();
        if !r.connected {
            return false;
        }
        let granted = r.subscriptions.iter().filter(|(f, _)| topic_matches(f, topic)).map(|(_, q)| *q).max();
        match granted {
            Some(g) => {
                let message =
                    BrokerMessage { topic: topic.into(), payload: payload.to_vec(), qos: qos.min(g), retain: false };
                r.incoming.push_back(message);
                true
            }
            None => false,
        }
    }

    /// The network drops the connection (no DISCONNECT): the will is published.
    pub fn cut(&self) {
        let mut r = self.0.borrow_mut();
        if r.connected {
            r.connected = false;
            if let Some(will) = r.will.take() {
                r.published.push(Published { message: will.clone(), dup: false });
                if will.retain {
                    r.retained.insert(will.topic.clone(), will.clone());
                }
                r.wills_sent.push(will);
            }
        }
        r.opened = None;
    }
}

impl SimBroker for RecordingBroker {
    fn open(&mut self, host: &str, port: u16) -> Result<(), BrokerError> {
        let mut r = self.0.borrow_mut();
        if r.unreachable {
            return Err(BrokerError::Unreachable(host.into()));
        }
        r.opened = Some((host.into(), port));
        Ok(())
    }

    fn connect(&mut self, request: &ConnectRequest) -> Result<u8, BrokerError> {
        let mut r = self.0.borrow_mut();
        if r.opened.is_none() {
            return Err(BrokerError::Closed);
        }
        r.connects.push(request.clone());
        if r.connack != 0 {
            return Ok(r.connack);
        }
        r.connected = true;
        r.will = request.will.clone();
        if request.clean_session {
            r.subscriptions.clear();
        }
        Ok(0)
    }

    fn publish(&mut self, message: &BrokerMessage, dup: bool) -> Result<(), BrokerError> {
        let mut r = self.0.borrow_mut();
        if !r.connected {
            return Err(BrokerError::Closed);
        }
        r.published.push(Published { message: message.clone(), dup });
        if message.retain {
            if message.payload.is_empty() {
                r.retained.remove(&message.topic);
            } else {
                r.retained.insert(message.topic.clone(), message.clone());
            }
        }
        Ok(())
    }

    fn subscribe(&mut self, filter: &str, qos: u8) -> Result<u8, BrokerError> {
        let mut r = self.0.borrow_mut();
        if !r.connected {
            return Err(BrokerError::Closed);
        }
        let granted = qos.min(2);
        r.subscriptions.retain(|(f, _)| f != filter);
        r.subscriptions.push((filter.into(), granted));
        // MQTT 3.1.1 §3.3.1.3: retained messages matching a new subscription are sent to it.
        let retained: Vec<BrokerMessage> =
            r.retained.values().filter(|m| topic_matches(filter, &m.topic)).cloned().collect();
        for mut m in retained {
            m.qos = m.qos.min(granted);
            r.incoming.push_back(m);
        }
        Ok(granted)
    }

    fn poll(&mut self) -> Vec<BrokerMessage> {
        self.0.borrow_mut().incoming.drain(..).collect()
    }

    fn is_connected(&self) -> bool {
        self.0.borrow().connected
    }

    fn disconnect(&mut self) {
        let mut r = self.0.borrow_mut();
        if r.connected {
            r.disconnects += 1;
        }
        r.connected = false;
        r.will = None;
        r.opened = None;
    }

    fn drop_link(&mut self) {
        self.cut();
    }
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn wildcards() {
        assert!(topic_matches("locker/+/state", "locker/7/state"));
        assert!(topic_matches("locker/#", "locker/7/state"));
        assert!(topic_matches("#", "a"));
        assert!(!topic_matches("locker/+", "locker/7/state"));
        assert!(!topic_matches("locker/8/state", "locker/7/state"));
        assert!(topic_matches("a/b", "a/b"));
        assert!(!topic_matches("a/b/c", "a/b"));
    }
}
