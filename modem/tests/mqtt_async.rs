//! The async MQTT clients (`modem::mqtt::asynch`, reference §2.9 Quectel, §2.10 SIMCom) over the async shell
//! and the simulator's recording broker: a representative subset of the blocking scenarios of
//! `tests/mqtt.rs` (connect with a will, publish QoS 0/1/2 with payloads holding `OK`, CR LF,
//! NUL, subscribe and receive, the session closed by `+QMTSTAT`, a clean disconnect), run once
//! on each async client and once on its blocking client (through a test adapter to the async
//! trait), with the same simulator script: the broker must record the same, the module must
//! receive the same command bytes, and the scenario's observations must be equal.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::executor::block_on;
use modem::mqtt::quectel::QuectelConfig;
use modem::mqtt::simcom::SimcomConfig;
use modem::mqtt::{Error, MqttStats, asynch, quectel, simcom};
use modem::sim::{BrokerMessage, Published, RecordingBroker, Sim, SimClock, SimError, Split};
use modem::uplink::asynch::Uplink as AsyncUplink;
use modem::{LinkState, Message, QoS, Session, Uplink, Will};

type MqttError = Error<SimError>;

/// What the scenario needs besides the async uplink.
trait Link: AsyncUplink<Error = MqttError> {
    fn sim(&mut self) -> &mut Sim;
    fn stats(&self) -> MqttStats;
}

type AsyncQuectel = asynch::QuectelMqtt<Sim, SimClock, SimClock>;
type AsyncSimcom = asynch::SimcomMqtt<Sim, SimClock, SimClock>;

impl Link for AsyncQuectel {
    fn sim(&mut self) -> &mut Sim {
        self.modem_mut().uart_mut()
    }
    fn stats(&self) -> MqttStats {
        asynch::QuectelMqtt::stats(self)
    }
}

impl Link for AsyncSimcom {
    fn sim(&mut self) -> &mut Sim {
        self.modem_mut().uart_mut()
    }
    fn stats(&self) -> MqttStats {
        asynch::SimcomMqtt::stats(self)
    }
}

/// A blocking client seen through the async trait (each call runs to completion), so the very
/// same scenario code drives both shells.
struct Blocking<T>(T);

impl<T: Uplink<Error = MqttError>> AsyncUplink for Blocking<T> {
    type Error = MqttError;
    async fn connect(&mut self, session: &Session<'_>) -> Result<(), MqttError> {
        self.0.connect(session)
    }
    async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), MqttError> {
        self.0.publish(topic, payload, qos, retain)
    }
    async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), MqttError> {
        self.0.subscribe(filter, qos)
    }
    async fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, MqttError> {
        self.0.receive(buf)
    }
    async fn link_state(&mut self) -> Result<LinkState, MqttError> {
        self.0.link_state()
    }
    async fn signal_dbm(&mut self) -> Result<Option<i16>, MqttError> {
        self.0.signal_dbm()
    }
    async fn disconnect(&mut self) -> Result<(), MqttError> {
        self.0.disconnect()
    }
}

impl Link for Blocking<quectel::QuectelMqtt<Sim, SimClock, SimClock>> {
    fn sim(&mut self) -> &mut Sim {
        self.0.modem_mut().uart_mut()
    }
    fn stats(&self) -> MqttStats {
        self.0.stats()
    }
}

impl Link for Blocking<simcom::SimcomMqtt<Sim, SimClock, SimClock>> {
    fn sim(&mut self) -> &mut Sim {
        self.0.modem_mut().uart_mut()
    }
    fn stats(&self) -> MqttStats {
        self.0.stats()
    }
}

#[derive(Clone, Copy, Debug)]
enum Dialect {
    Quectel,
    Simcom,
}

fn sim(split: Split, dialect: Dialect) -> (Sim, SimClock, RecordingBroker) {
    let clock = SimClock::new();
    let mut sim = match dialect {
        Dialect::Quectel => Sim::new(clock.clone()),
        Dialect::Simcom => Sim::simcom(clock.clone()),
    };
    sim.set_split(split);
    let broker = RecordingBroker::new();
    sim.set_broker(Box::new(broker.clone()));
    (sim, clock, broker)
}

fn async_modem(
    split: Split,
    dialect: Dialect,
) -> (modem::asynch::Modem<Sim, SimClock, SimClock>, SimClock, RecordingBroker) {
    let (sim, clock, broker) = sim(split, dialect);
    let mut modem = modem::asynch::Modem::new(sim, clock.clone(), clock.clone());
    block_on(modem.bring_up(10_000)).unwrap();
    (modem, clock, broker)
}

fn blocking_modem(
    split: Split,
    dialect: Dialect,
) -> (modem::blocking::Modem<Sim, SimClock, SimClock>, SimClock, RecordingBroker) {
    let (sim, clock, broker) = sim(split, dialect);
    let mut modem = modem::blocking::Modem::new(sim, clock.clone(), clock.clone());
    modem.bring_up(10_000).unwrap();
    (modem, clock, broker)
}

fn quectel_config() -> QuectelConfig {
    QuectelConfig { apn: "internet".try_into().unwrap(), ..QuectelConfig::default() }
}

fn simcom_config() -> SimcomConfig {
    SimcomConfig { apn: "internet".try_into().unwrap(), ..SimcomConfig::default() }
}

fn async_quectel(split: Split) -> (AsyncQuectel, SimClock, RecordingBroker) {
    let (m, clock, broker) = async_modem(split, Dialect::Quectel);
    (asynch::QuectelMqtt::new(m, quectel_config()), clock, broker)
}

/// Not retained: SIMCom's `AT+CMQTTWILLMSG` has no retain flag (reference §2.10).
const WILL: Will<'static> = Will { topic: "lockers/7/online", payload: b"0", qos: QoS::AtLeastOnce, retain: false };

fn session() -> Session<'static> {
    Session {
        host: "broker.example",
        port: 1883,
        client_id: "locker-7",
        keepalive_s: 60,
        clean_session: true,
        credentials: None,
        will: Some(WILL),
    }
}

/// Payloads that would end a reply early or read as a URC if the framer did not count them
/// (reference §1.5, §1.9, §6.2).
const PAYLOADS: [&[u8]; 4] = [b"OK", b"\r\nOK\r\n", b"a\0b\0\0", b"> \r\n+QMTSTAT: 0,1\r\n"];

/// What the scenario saw, for comparing the two clients.
#[derive(Debug, PartialEq)]
struct Seen {
    states: Vec<LinkState>,
    received: Vec<(String, Vec<u8>)>,
    errors: Vec<String>,
    stats: MqttStats,
}

/// The scenario, with absolute checks (so that it fails on its own, not only by comparison).
async fn scenario<L: Link>(link: &mut L, clock: &SimClock, broker: &RecordingBroker) -> Seen {
    let mut seen = Seen { states: Vec::new(), received: Vec::new(), errors: Vec::new(), stats: MqttStats::default() };
    let settle = async |link: &mut L, ms: u64| {
        clock.advance(ms);
        link.link_state().await.unwrap()
    };
    // Connect with a will (§2.9 item 1, `AT+QMTCFG="will"`).
    link.connect(&session()).await.unwrap();
    seen.states.push(link.link_state().await.unwrap());
    let c = &broker.connects()[0];
    assert_eq!((c.client_id.as_str(), c.keepalive_s, c.clean_session), ("locker-7", 60, true));
    assert_eq!(
        c.will,
        Some(BrokerMessage { topic: "lockers/7/online".into(), payload: b"0".to_vec(), qos: 1, retain: false })
    );
    // Publish at every QoS (§2.9 item 5).
    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce].into_iter().enumerate() {
        link.publish(&format!("lockers/7/c/{i}"), b"occupied", qos, i == 2).await.unwrap();
    }
    // Subscribe, then awkward payloads out and back (push mode with lengths, §2.9 item 6).
    link.subscribe("lockers/7/cmd/#", QoS::AtLeastOnce).await.unwrap();
    for payload in PAYLOADS {
        link.publish("lockers/7/echo", payload, QoS::AtLeastOnce, false).await.unwrap();
        assert_eq!(broker.published().last().unwrap().message.payload, payload);
        assert!(broker.inject("lockers/7/cmd/x", payload, 1));
        seen.states.push(settle(link, 100).await);
        let mut buf = [0u8; 128];
        let m = link.receive(&mut buf).await.unwrap().expect("message delivered");
        assert_eq!((m.topic, m.payload), ("lockers/7/cmd/x", payload));
        seen.received.push((m.topic.to_string(), m.payload.to_vec()));
    }
    let mut buf = [0u8; 128];
    assert_eq!(link.receive(&mut buf).await.unwrap(), None);
    // The module closes the session (`+QMTSTAT: 0,1`, §2.9 item 7): the broker sends the will.
    link.sim().mqtt_link_lost(1);
    seen.states.push(settle(link, 10).await);
    assert_eq!(seen.states.last(), Some(&LinkState::Online));
    match link.publish("lockers/7/c/1", b"x", QoS::AtLeastOnce, true).await {
        Err(e @ Error::NotConnected { status: Some(1) }) => seen.errors.push(format!("{e:?}")),
        other => panic!("{other:?}"),
    }
    assert_eq!(broker.wills_sent().len(), 1);
    // Reconnect, then a clean disconnect: no will (MQTT 3.1.1 §3.1.2.5).
    link.connect(&session()).await.unwrap();
    link.publish("lockers/7/online", b"1", QoS::AtLeastOnce, true).await.unwrap();
    link.disconnect().await.unwrap();
    assert_eq!(broker.disconnects(), 1);
    assert_eq!(broker.wills_sent().len(), 1);
    seen.states.push(link.link_state().await.unwrap());
    assert_eq!(seen.states.last(), Some(&LinkState::Online));
    assert_eq!(link.signal_dbm().await.unwrap(), Some(-73));
    seen.stats = link.stats();
    assert_eq!((seen.stats.received, seen.stats.lost, seen.stats.closed), (PAYLOADS.len() as u32, 0, 1));
    seen
}

/// Runs the scenario on the async client `a` and on the blocking client `b` (same dialect, same
/// split) and compares what the broker and the module saw.
fn compare<A: Link, B: Link>(
    (mut a, clock_a, broker_a): (A, SimClock, RecordingBroker),
    (mut b, clock_b, broker_b): (B, SimClock, RecordingBroker),
    what: &str,
) {
    let seen_a = block_on(scenario(&mut a, &clock_a, &broker_a));
    let seen_b = block_on(scenario(&mut b, &clock_b, &broker_b));
    assert_eq!(seen_a, seen_b, "{what}");
    let published = |broker: &RecordingBroker| -> Vec<Published> { broker.published() };
    assert_eq!(published(&broker_a), published(&broker_b), "{what}");
    // Three QoS publishes, the echoes, the will the broker sent when the session was lost, the
    // presence after reconnecting.
    let topics: Vec<String> = published(&broker_a).into_iter().map(|p| p.message.topic).collect();
    let mut want: Vec<String> = (0..3).map(|i| format!("lockers/7/c/{i}")).collect();
    want.extend(PAYLOADS.iter().map(|_| "lockers/7/echo".to_string()));
    want.extend(["lockers/7/online".to_string(), "lockers/7/online".to_string()]);
    assert_eq!(topics, want, "{what}");
    assert_eq!(broker_a.connects(), broker_b.connects());
    assert_eq!(broker_a.subscriptions(), broker_b.subscriptions());
    assert_eq!(broker_a.wills_sent(), broker_b.wills_sent());
    assert_eq!(broker_a.retained("lockers/7/c/2"), broker_b.retained("lockers/7/c/2"));
    assert_eq!(a.sim().commands(), b.sim().commands(), "same bytes on the wire, {what}");
}

#[test]
fn async_clients_do_what_the_blocking_clients_do() {
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(3), Split::Seeded(11)] {
        let what = format!("Quectel {split:?}");
        let (m, clock, broker) = blocking_modem(split, Dialect::Quectel);
        let blocking = (Blocking(quectel::QuectelMqtt::new(m, quectel_config())), clock, broker);
        compare(async_quectel(split), blocking, &what);

        let what = format!("SIMCom {split:?}");
        let (m, clock, broker) = async_modem(split, Dialect::Simcom);
        let asynchronous = (asynch::SimcomMqtt::new(m, simcom_config()), clock, broker);
        let (m, clock, broker) = blocking_modem(split, Dialect::Simcom);
        let blocking = (Blocking(simcom::SimcomMqtt::new(m, simcom_config())), clock, broker);
        compare(asynchronous, blocking, &what);
    }
}

#[test]
fn async_client_refuses_what_it_cannot_send_and_reports_refusals() {
    let (mut a, _, broker) = async_quectel(Split::Whole);
    // Not connected yet.
    assert!(matches!(
        block_on(a.publish("t", b"x", QoS::AtMostOnce, false)),
        Err(Error::NotConnected { status: None })
    ));
    // CONNACK 5, typed (§2.9 item 3).
    broker.set_connack(5);
    assert_eq!(
        block_on(a.connect(&session())),
        Err(Error::Connect(modem::mqtt::PacketError::Refused(modem::mqtt::ConnackCode::NotAuthorised)))
    );
    assert!(!a.is_connected());
    broker.set_connack(0);
    block_on(a.connect(&session())).unwrap();
    assert!(a.is_connected());
    let sent = a.sim().commands().len();
    // A topic with a quote cannot be written into a quoted parameter (§1.5); nothing is sent.
    assert_eq!(block_on(a.publish("a\"b", b"x", QoS::AtMostOnce, false)), Err(Error::Unsendable { field: "topic" }));
    assert_eq!(a.sim().commands().len(), sent);
}

/// A publish result later than the client's deadline (reference §6.2): the async client times
/// out, the late result is drained and counted, and the next publish gets its own result, as
/// with the blocking client.
async fn late_result<L: Link>(link: &mut L, broker: &RecordingBroker, deadline_ms: u64) -> (String, MqttStats) {
    link.connect(&session()).await.unwrap();
    link.sim().set_mqtt_result_ms(deadline_ms + 100);
    let first = link.publish("lockers/7/c/4", b"late", QoS::AtLeastOnce, true).await;
    link.sim().set_mqtt_result_ms(50);
    link.publish("lockers/7/c/5", b"next", QoS::AtLeastOnce, true).await.unwrap();
    let topics: Vec<String> = broker.published().into_iter().map(|p| p.message.topic).collect();
    assert_eq!(topics, ["lockers/7/c/4", "lockers/7/c/5"]);
    assert_eq!(link.stats().late_results, 1);
    (format!("{first:?}"), link.stats())
}

#[test]
fn late_publish_result_is_drained_on_both_shells() {
    for split in [Split::Whole, Split::Seeded(7)] {
        let (mut a, _, broker_a) = async_quectel(split);
        let deadline = u64::from(a.packet_deadline_ms());
        let seen_a = block_on(late_result(&mut a, &broker_a, deadline));
        assert_eq!(seen_a.0, "Err(Modem(Command(Timeout)))");
        let (m, _, broker_b) = blocking_modem(split, Dialect::Quectel);
        let mut b = Blocking(quectel::QuectelMqtt::new(m, quectel_config()));
        let seen_b = block_on(late_result(&mut b, &broker_b, deadline));
        assert_eq!(seen_a, seen_b, "{split:?}");
        assert_eq!(a.sim().commands(), b.sim().commands());
    }
}
