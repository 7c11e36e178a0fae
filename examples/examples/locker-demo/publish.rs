//! Cloud sync through `modem::uplink::Uplink`: retained compartment states, alarms at QoS 1, a
//! heartbeat, and a last will for presence.
//!
//! Topics (`<id>` is the locker id, `<n>` the compartment number from 1):
//!
//! | topic | QoS | retained | payload |
//! |---|---|---|---|
//! | `lockers/<id>/compartments/<n>/state` | 1 | yes | `{"msg_id","t_ms","state","parcel"}` |
//! | `lockers/<id>/alarms` | 1 | no | `{"msg_id","t_ms","compartment","alarm","raised"}` |
//! | `lockers/<id>/heartbeat` | 0 | no | `{"msg_id","t_ms","occupied","queued"}` |
//! | `lockers/<id>/presence` | 1 | yes | `online`; the will sets `offline` |
//!
//! The will is retained on every link except SIMCom (`--uplink simcom`), whose
//! `AT+CMQTTWILLMSG` has no retain flag: there it is live only ([`Publisher::with_will_retain`]),
//! and a consumer that needs presence across an ungraceful loss also watches the heartbeat's age.
//!
//! While the link is down messages wait in a bounded queue: a newer state of a compartment
//! replaces its queued older one (only the latest state matters for a retained topic); when
//! the queue is full the oldest heartbeat goes first, then the oldest message, and every drop
//! is counted. Every payload carries a `msg_id` for the receiver's de-duplication rule
//! (`locker_examples::cloud::Receiver`).

use std::collections::VecDeque;

use locker_examples::cloud::RecordingUplink;
use modem::uplink::{QoS, Session, Uplink, Will};
use serde_json::{Value, json};

use crate::events::{Ev, Ms};

/// A link whose network the demo can take away (the simulated outage).
pub trait Network {
    /// Network up or down.
    fn set_network(&mut self, up: bool);

    /// The messages the simulated module or broker recorded as delivered, in order
    /// (`--dump-published`); `None` when nothing is recorded (a real module or broker).
    fn published(&mut self) -> Option<Vec<Sent>> {
        None
    }

    /// The last will the far end was given, and how many times the broker published it
    /// (`None` when it cannot be seen, e.g. a module without a simulated broker behind it);
    /// `None` when nothing is recorded.
    fn will(&mut self) -> Option<(Option<Sent>, Option<usize>)> {
        None
    }
}

/// A message as the far end recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// QoS 0..=2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
}

impl Network for RecordingUplink {
    fn set_network(&mut self, up: bool) {
        RecordingUplink::set_network(self, up);
    }

    fn published(&mut self) -> Option<Vec<Sent>> {
        // The will is published by the broker, not by the client: left out, as on the other links.
        let log = self.log().iter().filter(|p| !p.will);
        Some(
            log.map(|p| Sent {
                topic: p.topic.clone(),
                payload: p.payload.clone(),
                qos: p.qos.number(),
                retain: p.retain,
            })
            .collect(),
        )
    }

    fn will(&mut self) -> Option<(Option<Sent>, Option<usize>)> {
        // The sink records the will only when it publishes it: the last one published.
        let sent = self.log().iter().filter(|p| p.will);
        let last = sent.clone().next_back().map(|p| Sent {
            topic: p.topic.clone(),
            payload: p.payload.clone(),
            qos: p.qos.number(),
            retain: p.retain,
        });
        Some((last, Some(sent.count())))
    }
}

#[derive(Debug, Clone)]
struct Outgoing {
    topic: String,
    payload: Vec<u8>,
    msg_id: Option<u64>,
    qos: QoS,
    retain: bool,
}

/// The publisher.
pub struct Publisher<U> {
    link: U,
    id: String,
    queue: VecDeque<Outgoing>,
    cap: usize,
    boot: u64,
    seq: u64,
    connected: bool,
    host: String,
    port: u16,
    will_retain: bool,
}

impl<U: Uplink + Network> Publisher<U> {
    /// A publisher for locker `id` over `link` to broker `host:port`, queue of `cap`.
    pub fn new(link: U, id: &str, host: &str, port: u16, cap: usize) -> Self {
        Publisher {
            link,
            id: id.to_owned(),
            queue: VecDeque::new(),
            cap,
            boot: 1,
            seq: 0,
            connected: false,
            host: host.to_owned(),
            port,
            will_retain: true,
        }
    }

    /// Whether the will (`offline` on the presence topic) is retained (default: yes). SIMCom's
    /// `AT+CMQTTWILLMSG` has no retain flag, so on that link the will is sent unretained: live
    /// subscribers see `offline` when the link is lost, but the retained presence stays `online`
    /// until the next clean `offline` or reconnection; a consumer that needs presence across an
    /// outage on such a link also watches the heartbeat's age (15 min period).
    pub fn with_will_retain(mut self, retain: bool) -> Self {
        self.will_retain = retain;
        self
    }

    /// The link, mutable (the demo switches its network).
    pub fn link_mut(&mut self) -> &mut U {
        &mut self.link
    }

    /// Messages waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The controller rebooted: message ids continue from the next boot's range, and the queue
    /// (RAM) is gone.
    pub fn reboot(&mut self) {
        self.boot += 1;
        self.seq = 0;
        self.queue.clear();
        self.connected = false;
    }

    fn presence_topic(&self) -> String {
        format!("lockers/{}/presence", self.id)
    }

    fn enqueue(&mut self, topic: String, body: Option<Value>, qos: QoS, retain: bool, out: &mut Vec<Ev>) {
        let (payload, msg_id) = match body {
            Some(mut v) => {
                self.seq += 1;
                let id = self.boot * 1_000_000 + self.seq;
                if let Some(o) = v.as_object_mut() {
                    o.insert("msg_id".into(), json!(id));
                }
                (v.to_string().into_bytes(), Some(id))
            }
            None => (Vec::new(), None),
        };
        if retain {
            self.queue.retain(|m| m.topic != topic);
        }
        if self.queue.len() >= self.cap {
            let victim = self.queue.iter().position(|m| m.topic.ends_with("/heartbeat")).unwrap_or(0);
            if let Some(m) = self.queue.remove(victim) {
                out.push(Ev::QueueDropped { topic: m.topic });
            }
        }
        self.queue.push_back(Outgoing { topic, payload, msg_id, qos, retain });
    }

    /// Queues a compartment's new state.
    pub fn state(&mut self, t: Ms, compartment: usize, state: &str, parcel: Option<u32>, out: &mut Vec<Ev>) {
        let topic = format!("lockers/{}/compartments/{}/state", self.id, compartment + 1);
        let body = json!({"t_ms": t, "state": state, "parcel": parcel});
        self.enqueue(topic, Some(body), QoS::AtLeastOnce, true, out);
    }

    /// Queues an alarm raised or cleared.
    pub fn alarm(&mut self, t: Ms, compartment: usize, alarm: &str, raised: bool, out: &mut Vec<Ev>) {
        let topic = format!("lockers/{}/alarms", self.id);
        let body = json!({"t_ms": t, "compartment": compartment + 1, "alarm": alarm, "raised": raised});
        self.enqueue(topic, Some(body), QoS::AtLeastOnce, false, out);
    }

    /// Queues a heartbeat.
    pub fn heartbeat(&mut self, t: Ms, occupied: usize, out: &mut Vec<Ev>) {
        let topic = format!("lockers/{}/heartbeat", self.id);
        let queued = self.queue.len();
        let body = json!({"t_ms": t, "occupied": occupied, "queued": queued});
        self.enqueue(topic, Some(body), QoS::AtMostOnce, false, out);
    }

    fn connect(&mut self, out: &mut Vec<Ev>) -> bool {
        let will_topic = self.presence_topic();
        let client_id = format!("locker-{}", self.id);
        let session = Session {
            host: &self.host,
            port: self.port,
            client_id: &client_id,
            keepalive_s: 60,
            clean_session: false,
            credentials: None,
            will: Some(Will {
                topic: &will_topic,
                payload: b"offline",
                qos: QoS::AtLeastOnce,
                retain: self.will_retain,
            }),
        };
        if self.link.connect(&session).is_err() {
            return false;
        }
        if self.link.publish(&will_topic, b"online", QoS::AtLeastOnce, true).is_err() {
            return false;
        }
        out.push(Ev::Published { topic: will_topic, msg_id: None, qos: 1, retain: true });
        self.connected = true;
        true
    }

    /// Delivers what is queued, connecting first if needed; stops at the first failure (the
    /// message stays queued and is sent again later: QoS 1 "at least once").
    pub fn flush(&mut self, out: &mut Vec<Ev>) {
        if !self.connected && !self.connect(out) {
            return;
        }
        while let Some(m) = self.queue.front() {
            match self.link.publish(&m.topic, &m.payload, m.qos, m.retain) {
                Ok(()) => {
                    out.push(Ev::Published {
                        topic: m.topic.clone(),
                        msg_id: m.msg_id,
                        qos: m.qos.number(),
                        retain: m.retain,
                    });
                    self.queue.pop_front();
                }
                Err(_) => {
                    self.connected = false;
                    return;
                }
            }
        }
    }

    /// Ends the session cleanly: presence `offline` (retained), then DISCONNECT.
    pub fn close(&mut self, out: &mut Vec<Ev>) {
        self.flush(out);
        let topic = self.presence_topic();
        if self.connected && self.link.publish(&topic, b"offline", QoS::AtLeastOnce, true).is_ok() {
            out.push(Ev::Published { topic, msg_id: None, qos: 1, retain: true });
        }
        let _ = self.link.disconnect();
        self.connected = false;
    }
}
