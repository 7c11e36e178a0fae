//! The ESP-AT MQTT client ([`EspUplink`]) over the ESP-AT simulator: join (and its typed
//! failures), MQTT connect with a will, publish (text and binary), subscribe, receive, link state
//! from the reports, a Wi-Fi drop in the middle of a send, `+IPD` through the blocking modem,
//! SNTP, a reboot, and the same results with the module's output split at every byte.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use modem::blocking::Modem;
use modem::esp::client::{EspError, EspUplink, Wifi};
use modem::esp::response::JoinFailure;
use modem::sim::esp::{EspSim, Published};
use modem::sim::{SimClock, Split};
use modem::{LinkState, QoS, Session, Uplink, Will};

type Link = EspUplink<EspSim, SimClock, SimClock>;

fn link(split: Split) -> (Link, SimClock) {
    let clock = SimClock::new();
    let mut sim = EspSim::new(clock.clone());
    sim.set_split(split);
    sim.add_ap("locker-wifi", "s3cret,\"pw\"", -55);
    let modem = Modem::new(sim, clock.clone(), clock.clone());
    let mut link = EspUplink::new(modem, "locker-wifi", "s3cret,\"pw\"").unwrap();
    link.start(2_000).unwrap();
    (link, clock)
}

fn sim(link: &mut Link) -> &mut EspSim {
    link.modem_mut().uart_mut()
}

const WILL: Will<'static> =
    Will { topic: "lockers/7/status", payload: b"offline", qos: QoS::AtLeastOnce, retain: true };

fn session() -> Session<'static> {
    Session {
        host: "broker.local",
        port: 1883,
        client_id: "locker-7",
        keepalive_s: 60,
        clean_session: true,
        credentials: Some(("user", "pa,ss")),
        will: Some(WILL),
    }
}

/// Runs the whole flow; returns what the module recorded and what the host received.
/// What the module published, what the host received, the RSSI.
type Flow = (Vec<Published>, Vec<(String, Vec<u8>)>, Option<i16>);

fn full_flow(split: Split) -> Flow {
    let (mut link, clock) = link(split);
    assert_eq!(link.link_state().unwrap(), LinkState::Down);
    link.connect(&session()).unwrap();
    assert_eq!(link.wifi(), Wifi::GotIp);
    assert_eq!(link.link_state().unwrap(), LinkState::Connected);
    let cfg = sim(&mut link).mqtt_config().clone();
    assert_eq!((cfg.client_id.as_str(), cfg.username.as_str(), cfg.password.as_str()), ("locker-7", "user", "pa,ss"));
    assert_eq!(cfg.will, Some(("lockers/7/status".into(), "offline".into(), 1, true)));
    assert_eq!((cfg.keepalive, cfg.disable_clean_session), (60, false));
    assert_eq!(cfg.broker, Some(("broker.local".into(), 1883)));

    link.publish("lockers/7/door/3", br#"{"open":true,"n":"a,b"}"#, QoS::AtLeastOnce, false).unwrap();
    link.publish("lockers/7/blob", b"\0\x01OK\r\nERROR\r\n\xff", QoS::AtMostOnce, true).unwrap();
    link.publish("lockers/7/state", b"occupied 12/24", QoS::ExactlyOnce, true).unwrap();
    link.subscribe("lockers/7/cmd/#", QoS::AtLeastOnce).unwrap();
    link.subscribe("lockers/7/cmd/#", QoS::AtLeastOnce).unwrap(); // ALREADY SUBSCRIBE is fine
    let t = clock.now_ms();
    sim(&mut link).schedule_message(t + 100, "lockers/7/cmd/open", b"3\r\nOK\r\n\0\"x\",");
    sim(&mut link).schedule_message(t + 150, "other/topic", b"not for us");
    sim(&mut link).schedule_message(t + 200, "lockers/7/cmd/ping", b"");
    clock.advance_to(t + 300);
    let mut received = Vec::new();
    let mut buf = [0u8; 128];
    while let Some(m) = link.receive(&mut buf).unwrap() {
        received.push((m.topic.to_owned(), m.payload.to_vec()));
    }
    let cmds: Vec<Vec<u8>> = sim(&mut link).commands().to_vec();
    let publishes: Vec<&[u8]> =
        cmds.iter().filter(|c| c.starts_with(b"AT+MQTTPUB")).map(|c| &c[..c.len().min(24)]).collect();
    // JSON (quotes, commas) and binary go raw; plain text inline.
    assert_eq!(
        publishes,
        vec![&b"AT+MQTTPUBRAW=0,\"lockers"[..], b"AT+MQTTPUBRAW=0,\"lockers", b"AT+MQTTPUB=0,\"lockers/7/"]
    );
    let rssi = link.signal_dbm().unwrap();
    link.disconnect().unwrap();
    assert_eq!(link.link_state().unwrap(), LinkState::Online);
    (sim(&mut link).published().to_vec(), received, rssi)
}

#[test]
fn connect_publish_subscribe_receive() {
    let (published, received, rssi) = full_flow(Split::Whole);
    assert_eq!(
        published,
        vec![
            Published {
                topic: "lockers/7/door/3".into(),
                payload: br#"{"open":true,"n":"a,b"}"#.to_vec(),
                qos: 1,
                retain: false
            },
            Published {
                topic: "lockers/7/blob".into(),
                payload: b"\0\x01OK\r\nERROR\r\n\xff".to_vec(),
                qos: 0,
                retain: true
            },
            Published { topic: "lockers/7/state".into(), payload: b"occupied 12/24".to_vec(), qos: 2, retain: true },
        ]
    );
    // The unsubscribed topic never arrives; the empty message has nothing to count, its line
    // ends at once and it is delivered with an empty payload.
    assert_eq!(
        received,
        vec![("lockers/7/cmd/open".into(), b"3\r\nOK\r\n\0\"x\",".to_vec()), ("lockers/7/cmd/ping".into(), Vec::new())]
    );
    assert_eq!(rssi, Some(-55));
}

#[test]
fn same_outcome_split_at_every_byte_and_in_random_chunks() {
    let whole = full_flow(Split::Whole);
    assert_eq!(full_flow(Split::EveryByte), whole);
    for seed in 1..=5 {
        assert_eq!(full_flow(Split::Seeded(seed)), whole, "seed {seed}");
    }
}

#[test]
fn join_failures_are_typed() {
    for (code, want) in [
        (1, JoinFailure::Timeout),
        (2, JoinFailure::WrongPassword),
        (3, JoinFailure::ApNotFound),
        (4, JoinFailure::ConnectFailed),
        (9, JoinFailure::Unknown(9)),
    ] {
        for legacy in [false, true] {
            let (mut link, _) = link(Split::EveryByte);
            sim(&mut link).set_legacy_fail(legacy);
            sim(&mut link).fail_next_join(code);
            assert_eq!(link.join(), Err(EspError::Join(want)), "code {code}, legacy {legacy}");
            assert_eq!(link.link_state().unwrap(), LinkState::Down);
            // Without a scripted failure the next join works.
            link.join().unwrap();
            assert_eq!(link.link_state().unwrap(), LinkState::Online);
        }
    }
    // A wrong password in the configuration: the module says 2; an unknown SSID: 3.
    let clock = SimClock::new();
    let mut s = EspSim::new(clock.clone());
    s.add_ap("a", "right", -40);
    let mut l = EspUplink::new(Modem::new(s, clock.clone(), clock.clone()), "a", "wrong").unwrap();
    l.start(2_000).unwrap();
    assert_eq!(l.connect(&session()), Err(EspError::Join(JoinFailure::WrongPassword)));
    let mut l = EspUplink::new(l.release(), "b", "right").unwrap();
    assert_eq!(l.join(), Err(EspError::Join(JoinFailure::ApNotFound)));
}

#[test]
fn wifi_drop_in_the_middle_of_a_binary_publish() {
    let (mut link, _) = link(Split::EveryByte);
    link.connect(&session()).unwrap();
    sim(&mut link).drop_wifi_during_next_send();
    let err = link.publish("t", b"\0binary", QoS::AtLeastOnce, false).unwrap_err();
    assert_eq!(
        err,
        EspError::Modem(modem::blocking::Error::Command(modem::engine::CommandError::Failed("+MQTTPUB:FAIL")))
    );
    assert!(sim(&mut link).published().is_empty());
    assert_eq!(link.link_state().unwrap(), LinkState::Down);
    let stats = link.stats();
    assert_eq!((stats.wifi_drops, stats.mqtt_drops), (1, 1));
    assert_eq!(link.publish("t", b"x", QoS::AtMostOnce, false), Err(EspError::NotConnected));
    // Reconnecting joins again, releases the old MQTT link and the session comes back.
    link.connect(&session()).unwrap();
    let cmds = sim(&mut link).commands().to_vec();
    let clean = cmds.iter().rposition(|c| c.as_slice() == b"AT+MQTTCLEAN=0").expect("MQTTCLEAN before reconfiguring");
    assert!(cmds[clean..].iter().any(|c| c.starts_with(b"AT+MQTTUSERCFG=")));
    // Connecting while connected works too.
    link.connect(&session()).unwrap();
    assert_eq!(link.link_state().unwrap(), LinkState::Connected);
    // The module's `ERR CODE:0x...` before `ERROR` is typed (0x6004: already connected).
    let again = link.modem_mut().run(&modem::esp::command(br#"AT+MQTTCONN=0,"h",1883,0"#), None);
    assert!(again.is_err());
    assert_eq!(modem::esp::response::parse_err_code(&link.modem_mut().failed_reply().line), Ok(0x6004));
    link.publish("t", b"x", QoS::AtMostOnce, false).unwrap();
    assert_eq!(sim(&mut link).published().len(), 1);
    // The session ends behind the client's back (no report): the module's error code says why.
    link.modem_mut().run(&modem::esp::command(b"AT+MQTTCLEAN=0"), None).unwrap();
    assert_eq!(link.publish("t", b"text", QoS::AtMostOnce, false), Err(EspError::Code(0x6051)));
    assert_eq!(link.publish("t", b"\0raw", QoS::AtMostOnce, false), Err(EspError::Code(0x6051)));
}

#[test]
fn scheduled_wifi_drop_and_reboot_are_seen_in_the_link_state() {
    let (mut link, clock) = link(Split::Whole);
    link.connect(&session()).unwrap();
    let t = clock.now_ms();
    sim(&mut link).schedule_wifi_drop(t + 50);
    clock.advance_to(t + 60);
    assert_eq!(link.link_state().unwrap(), LinkState::Down);
    assert_eq!(link.signal_dbm().unwrap(), None, "No AP");
    link.connect(&session()).unwrap();
    let t = clock.now_ms();
    sim(&mut link).schedule_urc(t + 10, b"ready");
    clock.advance_to(t + 20);
    assert_eq!(link.link_state().unwrap(), LinkState::Down);
    assert_eq!(link.stats().reboots, 1);
}

#[test]
fn ipd_through_the_blocking_modem_split_at_every_byte() {
    let (mut link, clock) = link(Split::EveryByte);
    link.join().unwrap();
    assert_eq!(link.station_ip().unwrap().as_str(), "192.168.3.112");
    let m = link.modem_mut();
    let reply = m.run(&modem::esp::command(br#"AT+CIPSTART="TCP","192.168.3.102",8080"#), None).unwrap();
    assert_eq!(reply.line.as_slice(), b"CONNECT");
    let reply = m.run(&modem::esp::command(b"AT+CIPSEND=5"), Some((b"OK\r\n>", None))).unwrap();
    assert_eq!(reply.result.as_slice(), b"SEND OK");
    let payload: &[u8] = b"OK\r\n\r\nERROR\r\n\0+IPD,3:abc";
    let t = clock.now_ms();
    m.uart_mut().schedule_ipd(t + 10, None, payload);
    m.uart_mut().schedule_ipd(t + 20, Some(2), b"second");
    clock.advance_to(t + 30);
    m.poll().unwrap();
    let a = m.pop_urc().unwrap();
    assert_eq!(a.line.as_slice(), format!("+IPD,{}:", payload.len()).as_bytes());
    assert_eq!(a.data.as_slice(), payload);
    let b = m.pop_urc().unwrap();
    assert_eq!((b.line.as_slice(), b.data.as_slice()), (&b"+IPD,2,6:"[..], &b"second"[..]));
    assert!(m.pop_urc().is_none());
    assert_eq!(m.uart_mut().tcp_sent(), &[b"OK\r\n>".to_vec()]);
}

#[test]
fn firmware_and_network_time() {
    let (mut link, _) = link(Split::Seeded(7));
    assert!(link.firmware_version().unwrap().starts_with("AT version:2.2.0.0"));
    assert!(!link.network_time().unwrap().is_synchronised());
    link.join().unwrap();
    link.configure_sntp(1, "pool.ntp.org").unwrap();
    let t = link.network_time().unwrap();
    assert_eq!((t.year, t.month, t.day, t.hour), (2016, 12, 12, 2));
    let cmds: Vec<String> = sim(&mut link).commands().iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    assert!(cmds.contains(&"AT+CIPSNTPCFG=1,1,\"pool.ntp.org\"".to_owned()), "{cmds:?}");
    assert!(cmds.contains(&"AT+CWMODE=1".to_owned()));
}

#[test]
fn message_larger_than_the_buffer_is_an_error_not_a_panic() {
    let (mut link, clock) = link(Split::Whole);
    link.connect(&session()).unwrap();
    link.subscribe("a", QoS::AtMostOnce).unwrap();
    let t = clock.now_ms();
    sim(&mut link).schedule_message(t + 10, "a", &[b'x'; 40]);
    sim(&mut link).schedule_message(t + 20, "a", b"ok");
    clock.advance_to(t + 30);
    let mut small = [0u8; 16];
    assert_eq!(link.receive(&mut small), Err(EspError::MessageTooLong));
    let m = link.receive(&mut small).unwrap().unwrap();
    assert_eq!((m.topic, m.payload), ("a", &b"ok"[..]));
}
