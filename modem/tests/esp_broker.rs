//! The ESP-AT simulator's MQTT client through its broker seam (`EspSim::set_broker`), with a
//! `RecordingBroker`: what reaches the broker (CONNECT fields from `AT+MQTTUSERCFG` and
//! `AT+MQTTCONNCFG`, PUBLISH QoS and retain from `AT+MQTTPUB`/`AT+MQTTPUBRAW`, SUBSCRIBE), a
//! message the broker delivers coming back as `+MQTTSUBRECV` byte for byte (payload holding `OK`
//! and CR LF), and the broker's failures as the module reports them (`ERROR`, `+MQTTPUB:FAIL`,
//! `+MQTTDISCONNECTED:0`), at the UART and through `EspUplink`.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use embedded_io::{Read, Write};
use modem::blocking::Modem;
use modem::esp::client::{EspError, EspUplink};
use modem::sim::esp::EspSim;
use modem::sim::{BrokerError, BrokerMessage, ConnectRequest, RecordingBroker, SimBroker, SimClock, SimError, Split};
use modem::{LinkState, QoS, Session, Uplink, Will};

/// A booted module (echo off) joined to its AP, its MQTT client behind `broker`.
fn module(broker: &RecordingBroker) -> EspSim {
    let clock = SimClock::new();
    let mut sim = EspSim::new(clock);
    sim.add_ap("ap", "pw", -50);
    sim.set_broker(Box::new(broker.clone()));
    drain(&mut sim); // ROM garbage, `ready`
    assert_eq!(at(&mut sim, "ATE0"), "ATE0\r\r\n\r\nOK\r\n");
    assert!(at(&mut sim, r#"AT+CWJAP="ap","pw""#).ends_with("WIFI GOT IP\r\n\r\nOK\r\n"));
    sim
}

/// Everything the module sends until it has nothing left, ever.
fn drain(sim: &mut EspSim) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match sim.read(&mut buf) {
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(SimError::Idle) => return out,
        }
    }
}

/// Writes a command line (ended by CR, as the driver does); returns everything the module
/// answers.
fn at(sim: &mut EspSim, line: &str) -> String {
    sim.write_all(line.as_bytes()).unwrap();
    sim.write_all(b"\r").unwrap();
    String::from_utf8(drain(sim)).unwrap()
}

fn message(topic: &str, payload: &[u8], qos: u8, retain: bool) -> BrokerMessage {
    BrokerMessage { topic: topic.into(), payload: payload.to_vec(), qos, retain }
}

fn connect(sim: &mut EspSim) {
    assert_eq!(at(sim, r#"AT+MQTTUSERCFG=0,1,"locker-7","user","pa\,ss",0,0,"""#), "\r\nOK\r\n");
    assert_eq!(at(sim, r#"AT+MQTTCONNCFG=0,60,1,"lockers/7/status","offline",1,1"#), "\r\nOK\r\n");
    let reply = at(sim, r#"AT+MQTTCONN=0,"broker.local",1883,0"#);
    assert_eq!(reply, "\r\n+MQTTCONNECTED:0,1,\"broker.local\",\"1883\",\"\",0\r\n\r\nOK\r\n");
}

#[test]
fn connect_publish_subscribe_and_a_delivered_message_at_the_uart() {
    let broker = RecordingBroker::new();
    let mut sim = module(&broker);
    connect(&mut sim);
    assert_eq!(broker.opened(), Some(("broker.local".into(), 1883)));
    assert_eq!(
        broker.connects(),
        [ConnectRequest {
            client_id: "locker-7".into(),
            keepalive_s: 60,
            // `<disable_clean_session>` 1.
            clean_session: false,
            credentials: Some(("user".into(), "pa,ss".into())),
            will: Some(message("lockers/7/status", b"offline", 1, true)),
        }]
    );
    assert!(broker.connected());

    assert_eq!(at(&mut sim, r#"AT+MQTTPUB=0,"lockers/7/state","occupied",2,1"#), "\r\nOK\r\n");
    assert_eq!(at(&mut sim, r#"AT+MQTTPUBRAW=0,"lockers/7/raw",6,1,0"#), "\r\nOK\r\n\r\n>");
    sim.write_all(b"\0OK\r\n!").unwrap();
    assert_eq!(String::from_utf8(drain(&mut sim)).unwrap(), "\r\n+MQTTPUB:OK\r\n");
    let want = [message("lockers/7/state", b"occupied", 2, true), message("lockers/7/raw", b"\0OK\r\n!", 1, false)];
    let got: Vec<BrokerMessage> = broker.published().into_iter().map(|p| p.message).collect();
    assert_eq!(got, want);
    assert!(broker.published().iter().all(|p| !p.dup));
    assert_eq!(sim.published(), want, "the module's own record agrees");
    assert_eq!(broker.retained("lockers/7/state"), Some(want[0].clone()));

    assert_eq!(at(&mut sim, r#"AT+MQTTSUB=0,"lockers/7/cmd/#",1"#), "\r\nOK\r\n");
    assert_eq!(broker.subscriptions(), [("lockers/7/cmd/#".to_owned(), 1)]);
    // Subscribed already: the module answers itself, no second SUBSCRIBE.
    assert_eq!(at(&mut sim, r#"AT+MQTTSUB=0,"lockers/7/cmd/#",0"#), "\r\nALREADY SUBSCRIBE\r\n\r\nOK\r\n");
    assert_eq!(broker.subscriptions(), [("lockers/7/cmd/#".to_owned(), 1)]);

    // Another client publishes: the payload is counted, not framed, so `OK` and CR LF in it
    // arrive intact.
    assert!(broker.inject("lockers/7/cmd/open", b"3\r\nOK\r\n", 1));
    assert!(!broker.inject("lockers/8/cmd/open", b"not ours", 1));
    assert_eq!(drain(&mut sim), b"\r\n+MQTTSUBRECV:0,\"lockers/7/cmd/open\",7,3\r\nOK\r\n\r\n");

    // AT+MQTTCLEAN ends the session with DISCONNECT: no will.
    assert_eq!(at(&mut sim, "AT+MQTTCLEAN=0"), "\r\nOK\r\n");
    assert_eq!(broker.disconnects(), 1);
    assert!(!broker.connected());
    assert!(broker.wills_sent().is_empty());
}

#[test]
fn defaults_without_connection_config_and_refused_connections() {
    let broker = RecordingBroker::new();
    let mut sim = module(&broker);
    assert_eq!(at(&mut sim, r#"AT+MQTTUSERCFG=0,1,"l8","","",0,0,"""#), "\r\nOK\r\n");
    // The broker's host cannot be reached, then CONNACK 5 (not authorised): ERROR both times,
    // and the module stays disconnected.
    broker.set_unreachable(true);
    assert_eq!(at(&mut sim, r#"AT+MQTTCONN=0,"nowhere",1883,0"#), "\r\nERROR\r\n");
    broker.set_unreachable(false);
    broker.set_connack(5);
    assert_eq!(at(&mut sim, r#"AT+MQTTCONN=0,"h",1883,0"#), "\r\nERROR\r\n");
    assert!(!sim.mqtt_connected());
    assert_eq!(at(&mut sim, r#"AT+MQTTPUB=0,"t","x",0,0"#), "\r\nERR CODE:0x00006051\r\n\r\nERROR\r\n");
    broker.set_connack(0);
    assert!(at(&mut sim, r#"AT+MQTTCONN=0,"h",1883,0"#).ends_with("\r\nOK\r\n"));
    // Without AT+MQTTCONNCFG: keep-alive 120 s, clean session, no will (ESP-AT.md §6); an
    // empty user name sends no credentials.
    let last = broker.connects().pop().unwrap();
    assert_eq!(
        last,
        ConnectRequest { client_id: "l8".into(), keepalive_s: 120, clean_session: true, credentials: None, will: None }
    );
    assert_eq!(broker.connects().len(), 2, "the unreachable attempt sent no CONNECT");
}

#[test]
fn a_dropped_connection_and_a_lost_wifi_publish_the_will() {
    let broker = RecordingBroker::new();
    let mut sim = module(&broker);
    connect(&mut sim);
    // The broker drops the connection: the module reports it when it next has nothing to send;
    // the broker publishes the (retained) will.
    broker.cut();
    assert_eq!(drain(&mut sim), b"\r\n+MQTTDISCONNECTED:0\r\n");
    assert!(!sim.mqtt_connected());
    assert_eq!(broker.wills_sent(), [message("lockers/7/status", b"offline", 1, true)]);
    assert_eq!(broker.retained("lockers/7/status").unwrap().payload, b"offline");
    assert_eq!(at(&mut sim, r#"AT+MQTTPUB=0,"t","x",0,0"#), "\r\nERR CODE:0x00006051\r\n\r\nERROR\r\n");

    assert_eq!(at(&mut sim, "AT+MQTTCLEAN=0"), "\r\nOK\r\n");
    // The Wi-Fi goes away: no DISCONNECT, the broker publishes the will.
    connect(&mut sim);
    let wills = broker.wills_sent().len();
    let now = sim.clock().now_ms();
    sim.schedule_wifi_drop(now);
    assert_eq!(drain(&mut sim), b"\r\nWIFI DISCONNECT\r\n\r\n+MQTTDISCONNECTED:0\r\n");
    assert_eq!(broker.wills_sent().len(), wills + 1);
    assert!(!broker.connected());
}

/// A broker whose next PUBLISH or SUBSCRIBE fails: unanswered (the connection stays up) or
/// with the connection lost in the middle of the command.
#[derive(Debug)]
struct Failing {
    inner: RecordingBroker,
    next: Rc<RefCell<Option<BrokerError>>>,
    lost: Rc<Cell<bool>>,
}

impl Failing {
    fn fail(&mut self) -> Result<(), BrokerError> {
        match self.next.borrow_mut().take() {
            Some(e) => {
                self.lost.set(e == BrokerError::Closed);
                Err(e)
            }
            None => Ok(()),
        }
    }
}

impl SimBroker for Failing {
    fn open(&mut self, host: &str, port: u16) -> Result<(), BrokerError> {
        self.lost.set(false);
        self.inner.open(host, port)
    }
    fn connect(&mut self, request: &ConnectRequest) -> Result<u8, BrokerError> {
        self.inner.connect(request)
    }
    fn publish(&mut self, message: &BrokerMessage, dup: bool) -> Result<(), BrokerError> {
        self.fail()?;
        self.inner.publish(message, dup)
    }
    fn subscribe(&mut self, filter: &str, qos: u8) -> Result<u8, BrokerError> {
        self.fail()?;
        self.inner.subscribe(filter, qos)
    }
    fn poll(&mut self) -> Vec<BrokerMessage> {
        self.inner.poll()
    }
    fn is_connected(&self) -> bool {
        !self.lost.get() && self.inner.is_connected()
    }
    fn disconnect(&mut self) {
        self.inner.disconnect();
    }
    fn drop_link(&mut self) {
        self.inner.drop_link();
    }
}

#[test]
fn publish_and_subscribe_failures_end_the_command_as_the_module_does() {
    let broker = RecordingBroker::new();
    let next = Rc::new(RefCell::new(None));
    let mut sim = module(&broker);
    sim.set_broker(Box::new(Failing { inner: broker.clone(), next: next.clone(), lost: Rc::default() }));
    connect(&mut sim);
    // No acknowledgement in time, the connection still up: the command fails, the session stays.
    for (command, reply) in
        [(r#"AT+MQTTPUB=0,"t","x",1,0"#, "\r\nERROR\r\n"), (r#"AT+MQTTSUB=0,"a/#",1"#, "\r\nERROR\r\n")]
    {
        next.replace(Some(BrokerError::Timeout));
        assert_eq!(at(&mut sim, command), reply, "{command}");
        assert!(sim.mqtt_connected());
    }
    assert!(sim.subscriptions().is_empty());
    next.replace(Some(BrokerError::Timeout));
    assert_eq!(at(&mut sim, r#"AT+MQTTPUBRAW=0,"t",2,1,0"#), "\r\nOK\r\n\r\n>");
    sim.write_all(b"hi").unwrap();
    assert_eq!(drain(&mut sim), b"\r\n+MQTTPUB:FAIL\r\n");
    // The connection is lost in the middle of the command: the failure, then the report.
    for (command, data, reply) in [
        (r#"AT+MQTTPUB=0,"t","x",1,0"#, "", "\r\nERROR\r\n\r\n+MQTTDISCONNECTED:0\r\n"),
        (r#"AT+MQTTSUB=0,"a/#",1"#, "", "\r\nERROR\r\n\r\n+MQTTDISCONNECTED:0\r\n"),
        (r#"AT+MQTTPUBRAW=0,"t",2,1,0"#, "hi", "\r\n+MQTTPUB:FAIL\r\n\r\n+MQTTDISCONNECTED:0\r\n"),
    ] {
        assert_eq!(at(&mut sim, "AT+MQTTCLEAN=0"), "\r\nOK\r\n");
        connect(&mut sim);
        next.replace(Some(BrokerError::Closed));
        let mut got = at(&mut sim, command);
        if !data.is_empty() {
            sim.write_all(data.as_bytes()).unwrap();
            got += &String::from_utf8(drain(&mut sim)).unwrap();
            assert!(got.starts_with("\r\nOK\r\n\r\n>"), "{got:?}");
            got.replace_range(..9, "");
        }
        assert_eq!(got, reply, "{command}");
        assert!(!sim.mqtt_connected());
    }
    assert!(sim.published().is_empty(), "nothing the broker did not accept is recorded");
    assert!(broker.published().is_empty());
}

/// The same through the client, at every byte: what the broker saw, and the delivered message.
fn through_the_client(split: Split) -> (Vec<BrokerMessage>, Vec<(String, Vec<u8>)>) {
    let clock = SimClock::new();
    let broker = RecordingBroker::new();
    let mut sim = EspSim::new(clock.clone());
    sim.set_split(split);
    sim.add_ap("ap", "pw", -50);
    sim.set_broker(Box::new(broker.clone()));
    let mut link = EspUplink::new(Modem::new(sim, clock.clone(), clock.clone()), "ap", "pw").unwrap();
    link.start(2_000).unwrap();
    let will = Will { topic: "lockers/7/status", payload: b"offline", qos: QoS::AtLeastOnce, retain: true };
    let session = Session {
        host: "broker.local",
        port: 1883,
        client_id: "locker-7",
        keepalive_s: 30,
        clean_session: true,
        credentials: None,
        will: Some(will),
    };
    link.connect(&session).unwrap();
    let request = broker.connects().pop().unwrap();
    assert_eq!((request.keepalive_s, request.clean_session), (30, true));
    assert_eq!(request.will, Some(message("lockers/7/status", b"offline", 1, true)));
    link.publish("lockers/7/state", b"free", QoS::ExactlyOnce, true).unwrap();
    link.publish("lockers/7/blob", b"\0OK\r\n", QoS::AtLeastOnce, false).unwrap();
    link.subscribe("lockers/7/cmd/+", QoS::AtLeastOnce).unwrap();
    assert!(broker.inject("lockers/7/cmd/open", b"3\r\nOK\r\nERROR\r\n", 2));
    clock.advance(10);
    let mut received = Vec::new();
    let mut buf = [0u8; 128];
    while let Some(m) = link.receive(&mut buf).unwrap() {
        received.push((m.topic.to_owned(), m.payload.to_vec()));
    }
    let published = broker.published().into_iter().map(|p| p.message).collect();
    // The broker cuts the session: the client sees `+MQTTDISCONNECTED:0`.
    broker.cut();
    clock.advance(10);
    assert_eq!(link.link_state().unwrap(), LinkState::Online);
    assert_eq!(link.publish("t", b"x", QoS::AtMostOnce, false), Err(EspError::NotConnected));
    (published, received)
}

#[test]
fn through_the_client_at_any_split() {
    let whole = through_the_client(Split::Whole);
    assert_eq!(
        whole.0,
        [message("lockers/7/state", b"free", 2, true), message("lockers/7/blob", b"\0OK\r\n", 1, false)]
    );
    assert_eq!(whole.1, [("lockers/7/cmd/open".to_owned(), b"3\r\nOK\r\nERROR\r\n".to_vec())]);
    assert_eq!(through_the_client(Split::EveryByte), whole);
    assert_eq!(through_the_client(Split::Seeded(3)), whole);
}
