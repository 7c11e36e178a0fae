//! The cloud end of a locker's MQTT link, in process.
//!
//! [`RecordingUplink`] implements [`modem::uplink::Uplink`] like a module's built-in MQTT client
//! connected to a broker, and records what the broker would hold: every publication in order,
//! the retained message of each topic, and the last will, which the broker publishes when the
//! link drops without a DISCONNECT (MQTT 3.1.1 §3.1.2.5). A network outage is simulated with
//! [`RecordingUplink::set_network`]: while it is down every call fails as a real link would.
//!
//! [`Receiver`] is the receiving side's de-duplication rule. QoS 1 is "at least once": a
//! message whose PUBACK was lost is sent again, and a retained state is delivered again to every
//! new subscription. Every payload therefore carries a `msg_id` that grows with every message
//! the locker sends (`boot × 1 000 000 + sequence`, the boot count being kept with the locker's
//! snapshot, so ids keep growing across power cuts). The receiver keeps, per topic, the highest
//! `msg_id` it applied and drops any message whose `msg_id` is not higher: a duplicate, a replay
//! of a retained message already seen, or a message overtaken by a newer one.

use std::collections::BTreeMap;

use modem::uplink::{LinkState, Message, QoS, Session, Uplink};

/// One publication as the broker saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// QoS it was sent with.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// True when the broker published it as the client's last will.
    pub will: bool,
}

/// Why a call on the recording link failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The (simulated) network is down: no bearer, no session.
    #[error("network down")]
    NetworkDown,
    /// No MQTT session: `connect` first.
    #[error("not connected")]
    NotConnected,
}

/// An in-process broker connection that records everything (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct RecordingUplink {
    network_down: bool,
    connected: bool,
    will: Option<Publication>,
    client_id: String,
    log: Vec<Publication>,
    retained: BTreeMap<String, Vec<u8>>,
    connects: u32,
}

impl RecordingUplink {
    /// A link with the network up and no session.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the network away (`false`) or gives it back. Losing it drops the session without
    /// a DISCONNECT, so the broker publishes the will.
    pub fn set_network(&mut self, up: bool) {
        if !up && self.connected {
            self.connected = false;
            if let Some(will) = self.will.clone() {
                self.deliver(will);
            }
        }
        self.network_down = !up;
    }

    /// Whether the network is up.
    #[must_use]
    pub fn network_up(&self) -> bool {
        !self.network_down
    }

    /// Every publication the broker received, in order (wills included).
    #[must_use]
    pub fn log(&self) -> &[Publication] {
        &self.log
    }

    /// The retained message of every topic that has one.
    #[must_use]
    pub fn retained(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.retained
    }

    /// Sessions opened.
    #[must_use]
    pub fn connects(&self) -> u32 {
        self.connects
    }

    /// The client id of the last session.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    fn deliver(&mut self, publication: Publication) {
        if publication.retain {
            if publication.payload.is_empty() {
                self.retained.remove(&publication.topic);
            } else {
                self.retained.insert(publication.topic.clone(), publication.payload.clone());
            }
        }
        self.log.push(publication);
    }

    fn session(&self) -> Result<(), LinkError> {
        if self.network_down {
            Err(LinkError::NetworkDown)
        } else if !self.connected {
            Err(LinkError::NotConnected)
        } else {
            Ok(())
        }
    }
}

impl Uplink for RecordingUplink {
    type Error = LinkError;

    fn connect(&mut self, session: &Session<'_>) -> Result<(), LinkError> {
        if self.network_down {
            return Err(LinkError::NetworkDown);
        }
        self.connected = true;
        self.connects += 1;
        self.client_id = session.client_id.to_owned();
        self.will = session.will.map(|w| Publication {
            topic: w.topic.to_owned(),
            payload: w.payload.to_vec(),
            qos: w.qos,
            retain: w.retain,
            will: true,
        });
        Ok(())
    }

    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), LinkError> {
        self.session()?;
        self.deliver(Publication { topic: topic.to_owned(), payload: payload.to_vec(), qos, retain, will: false });
        Ok(())
    }

    fn subscribe(&mut self, _filter: &str, _qos: QoS) -> Result<(), LinkError> {
        self.session()
    }

    fn receive<'b>(&mut self, _buf: &'b mut [u8]) -> Result<Option<Message<'b>>, LinkError> {
        self.session().map(|()| None)
    }

    fn link_state(&mut self) -> Result<LinkState, LinkError> {
        Ok(if self.network_down {
            LinkState::Down
        } else if self.connected {
            LinkState::Connected
        } else {
            LinkState::Online
        })
    }

    fn signal_dbm(&mut self) -> Result<Option<i16>, LinkError> {
        Ok((!self.network_down).then_some(-71))
    }

    fn disconnect(&mut self) -> Result<(), LinkError> {
        // A clean DISCONNECT: the broker discards the will.
        self.connected = false;
        Ok(())
    }
}

/// The `msg_id` of a payload (a JSON object with a numeric `msg_id`), if it has one.
#[must_use]
pub fn msg_id(payload: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(payload).ok()?.get("msg_id")?.as_u64()
}

/// The receiving side's de-duplication (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Receiver {
    applied: BTreeMap<String, u64>,
    dropped: u64,
}

impl Receiver {
    /// A receiver that has seen nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one message; returns true when it is new and must be applied, false when it is
    /// a duplicate or stale. Messages without a `msg_id` (a last will) are always applied.
    pub fn accept(&mut self, topic: &str, payload: &[u8]) -> bool {
        let Some(id) = msg_id(payload) else {
            return true;
        };
        match self.applied.get(topic) {
            Some(&last) if id <= last => {
                self.dropped += 1;
                false
            }
            _ => {
                self.applied.insert(topic.to_owned(), id);
                true
            }
        }
    }

    /// Messages dropped as duplicates or stale.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use modem::uplink::Will;

    use super::*;

    fn session<'a>(will: Option<Will<'a>>) -> Session<'a> {
        Session {
            host: "broker",
            port: 1883,
            client_id: "locker-1",
            keepalive_s: 60,
            clean_session: false,
            credentials: None,
            will,
        }
    }

    #[test]
    fn records_retained_and_publishes_the_will_on_a_dropped_link() {
        let mut link = RecordingUplink::new();
        let will = Will { topic: "lockers/1/presence", payload: b"offline", qos: QoS::AtLeastOnce, retain: true };
        link.connect(&session(Some(will))).unwrap();
        link.publish("lockers/1/presence", b"online", QoS::AtLeastOnce, true).unwrap();
        link.publish("lockers/1/compartments/1/state", b"{\"msg_id\":1}", QoS::AtLeastOnce, true).unwrap();
        assert_eq!(link.retained()["lockers/1/presence"], b"online");
        link.set_network(false);
        assert_eq!(link.publish("x", b"y", QoS::AtMostOnce, false), Err(LinkError::NetworkDown));
        assert_eq!(link.retained()["lockers/1/presence"], b"offline");
        assert!(link.log().last().unwrap().will);
        link.set_network(true);
        assert_eq!(link.publish("x", b"y", QoS::AtMostOnce, false), Err(LinkError::NotConnected));
        link.connect(&session(None)).unwrap();
        link.disconnect().unwrap();
        assert_eq!(link.connects(), 2);
    }

    #[test]
    fn receiver_drops_duplicates_and_stale_messages() {
        let mut rx = Receiver::new();
        assert!(rx.accept("a", b"{\"msg_id\":5}"));
        assert!(!rx.accept("a", b"{\"msg_id\":5}"), "a QoS 1 redelivery");
        assert!(!rx.accept("a", b"{\"msg_id\":4}"), "overtaken by a newer message");
        assert!(rx.accept("b", b"{\"msg_id\":4}"), "other topics are independent");
        assert!(rx.accept("a", b"{\"msg_id\":1000001}"));
        assert!(rx.accept("a", b"offline"), "a will has no id");
        assert_eq!(rx.dropped(), 2);
    }
}
