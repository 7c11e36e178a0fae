//! Bad input never panics (DESIGN.md): both MQTT clients on a UART that answers every command
//! with arbitrary mixes of plausible fragments (`OK`, `> `, result prefixes, `+QMTRECV` and
//! `+CMQTTRX*` headers with lengths, `+QMTSTAT`) and raw bytes. Every call returns (a result or
//! a typed error) in bounded virtual time.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use embedded_io::{ErrorType, Read, ReadReady, Write};
use modem::blocking::Modem;
use modem::mqtt::quectel::{QuectelConfig, QuectelMqtt};
use modem::mqtt::simcom::{SimcomConfig, SimcomMqtt};
use modem::sim::{SimClock, SimError};
use modem::{QoS, Session, Uplink, Will};
use proptest::prelude::*;
use std::collections::VecDeque;

/// A UART that releases the next scripted answer after each command line or data write.
struct Scripted {
    answers: VecDeque<Vec<u8>>,
    rx: VecDeque<u8>,
}

impl ErrorType for Scripted {
    type Error = SimError;
}

impl ReadReady for Scripted {
    fn read_ready(&mut self) -> Result<bool, SimError> {
        Ok(!self.rx.is_empty())
    }
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, SimError> {
        let n = buf.len().min(self.rx.len()).min(7);
        for b in buf.iter_mut().take(n) {
            *b = self.rx.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> Result<usize, SimError> {
        // The driver writes a command's text, then `\r`, then (after a prompt) the data: the
        // `\r` and the data each get the next answer.
        if !buf.is_empty()
            && !buf.starts_with(b"AT")
            && buf != [0x1b]
            && let Some(answer) = self.answers.pop_front()
        {
            self.rx.extend(answer);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), SimError> {
        Ok(())
    }
}

const PIECES: &[&[u8]] = &[
    b"\r\n",
    b"OK",
    b"ERROR",
    b"+CME ERROR: 3",
    b"\r\n> ",
    b"+QMTOPEN: 0,",
    b"+QMTCONN: 0,0,",
    b"+QMTPUB: 0,",
    b"+QMTSUB: 0,",
    b"+QMTDISC: 0,0",
    b"+QMTRECV: 0,1,\"t/x\",5,\"",
    b"+QMTRECV: 0,0,\"",
    b"+QMTSTAT: 0,",
    b"+QIACT: 1,1,1,\"10.0.0.1\"",
    b"+CEREG: 2,",
    b"+CSQ: 20,99",
    b"+NETOPEN: ",
    b"+CMQTTSTART: ",
    b"+CMQTTCONNECT: 0,",
    b"+CMQTTPUB: 0,",
    b"+CMQTTSUB: 0,",
    b"+CMQTTRXSTART: 0,3,4",
    b"+CMQTTRXTOPIC: 0,3\r\n",
    b"+CMQTTRXPAYLOAD: 0,",
    b"+CMQTTRXEND: 0",
    b"+CMQTTCONNLOST: 0,1",
    b"RDY",
    b"*ATREADY: 1",
    b"0",
    b"1",
    b"2",
    b"99999",
    b",",
    b"\"",
];

fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::sample::select(PIECES).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 0..12),
    ]
}

/// What a well-behaved module answers to [`exercise`]'s calls, in order (reference §2.9).
const QUECTEL_SCRIPT: &[&[u8]] = &[
    b"\r\nOK\r\n", // AT+QIACT? (nothing active)
    b"\r\nOK\r\n", // AT+QIACT=1
    b"\r\nOK\r\n", // AT+QMTCFG x7
    b"\r\nOK\r\n",
    b"\r\nOK\r\n",
    b"\r\nOK\r\n",
    b"\r\nOK\r\n",
    b"\r\nOK\r\n",
    b"\r\nOK\r\n",
    b"\r\nOK\r\n\r\n+QMTOPEN: 0,0\r\n",
    b"\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n",
    b"\r\nOK\r\n\r\n+QMTSUB: 0,1,0,1\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n\r\n+QMTPUB: 0,0,0\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n\r\n+QMTPUB: 0,2,0\r\n\r\n+QMTRECV: 0,1,\"t/x\",5,\"a\"\r\nb\"\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n\r\n+QMTPUB: 0,3,0\r\n",
    b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n",
    b"\r\nOK\r\n\r\n+QMTDISC: 0,0\r\n",
];

/// The same for SIMCom (reference §2.6, §2.10).
const SIMCOM_SCRIPT: &[&[u8]] = &[
    b"\r\n+NETOPEN: 0\r\n\r\nOK\r\n",
    b"\r\nOK\r\n\r\n+NETOPEN: 0\r\n",
    b"\r\nOK\r\n\r\n+CMQTTSTART: 0\r\n",
    b"\r\nOK\r\n",                                    // ACCQ
    b"\r\n> ",
    b"\r\nOK\r\n",                                    // will topic
    b"\r\n> ",
    b"\r\nOK\r\n",                                    // will message
    b"\r\nOK\r\n\r\n+CMQTTCONNECT: 0,0\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n",                                    // sub topic
    b"\r\nOK\r\n\r\n+CMQTTSUB: 0,0\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n",
    b"\r\nOK\r\n\r\n+CMQTTPUB: 0,0\r\n\r\n+CMQTTRXSTART: 0,3,4\r\n+CMQTTRXTOPIC: 0,3\r\nt/x\r\n+CMQTTRXPAYLOAD: 0,4\r\nOK\r\n\r\n+CMQTTRXEND: 0\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n",
    b"\r\nOK\r\n\r\n+CMQTTPUB: 0,0\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n",
    b"\r\n> ",
    b"\r\nOK\r\n",
    b"\r\nOK\r\n\r\n+CMQTTPUB: 0,0\r\n",
    b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n",
    b"\r\nOK\r\n\r\n+CMQTTDISC: 0,0\r\n",
];

/// One answer of the script, kept (most often), replaced by garbage, or with garbage before or
/// after it (URC-like pieces, raw bytes).
fn mutate(answer: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let garbage = || proptest::collection::vec(piece(), 1..5).prop_map(|p| p.concat());
    prop_oneof![
        12 => Just(answer.to_vec()),
        1 => garbage(),
        1 => garbage().prop_map(move |g| [g.as_slice(), answer].concat()),
        1 => garbage().prop_map(move |g| [answer, g.as_slice()].concat()),
        1 => (0..answer.len().max(1)).prop_map(move |cut| answer[..cut.min(answer.len())].to_vec()),
    ]
}

fn answers(script: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<Vec<u8>>> {
    script.iter().map(|a| mutate(a)).collect::<Vec<_>>()
}

fn session() -> Session<'static> {
    Session {
        host: "h",
        port: 1883,
        client_id: "c",
        keepalive_s: 30,
        clean_session: true,
        credentials: Some(("u", "p")),
        will: Some(Will { topic: "w", payload: b"0", qos: QoS::AtLeastOnce, retain: false }),
    }
}

/// What a run achieved: connected, publishes acknowledged, messages received.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    connected: bool,
    subscribed: bool,
    published: usize,
    received: Vec<(String, Vec<u8>)>,
}

fn exercise<L: Uplink>(link: &mut L, clock: &SimClock) -> Outcome {
    let start = clock.now_ms();
    let connected = link.connect(&session()).is_ok();
    let subscribed = link.subscribe("t/#", QoS::AtLeastOnce).is_ok();
    let mut published = 0;
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        published += usize::from(link.publish("t/1", b"payload \"OK\"\r\n", qos, true).is_ok());
    }
    let mut received = Vec::new();
    let mut buf = [0u8; 64];
    for _ in 0..4 {
        if let Ok(Some(m)) = link.receive(&mut buf) {
            received.push((m.topic.to_owned(), m.payload.to_vec()));
        }
    }
    let _ = link.signal_dbm();
    let _ = link.disconnect();
    let _ = link.link_state();
    // Each command is bounded by its deadline (at most 150 s, reference §2.13): ~25 commands.
    assert!(clock.now_ms() - start < 25 * 160_000, "{} ms", clock.now_ms() - start);
    Outcome { connected, subscribed, published, received }
}

fn quectel(answers: Vec<Vec<u8>>) -> Outcome {
    let clock = SimClock::new();
    let uart = Scripted { answers: answers.into(), rx: VecDeque::new() };
    let mut link = QuectelMqtt::new(Modem::new(uart, clock.clone(), clock.clone()), QuectelConfig::default());
    exercise(&mut link, &clock)
}

fn simcom(answers: Vec<Vec<u8>>) -> Outcome {
    let clock = SimClock::new();
    let uart = Scripted { answers: answers.into(), rx: VecDeque::new() };
    let mut link = SimcomMqtt::new(Modem::new(uart, clock.clone(), clock.clone()), SimcomConfig::default());
    exercise(&mut link, &clock)
}

/// The unmutated scripts take both clients all the way (so the mutated runs start from a path
/// that reaches publishing and receiving).
#[test]
fn clean_scripts_succeed() {
    let owned = |script: &[&[u8]]| script.iter().map(|a| a.to_vec()).collect::<Vec<_>>();
    // Quectel's message is `a"` CR LF `b` (5 bytes, quote inside), SIMCom's `OK` CR LF.
    for (outcome, payload) in
        [(quectel(owned(QUECTEL_SCRIPT)), &b"a\"\r\nb"[..]), (simcom(owned(SIMCOM_SCRIPT)), b"OK\r\n")]
    {
        let received = vec![("t/x".to_string(), payload.to_vec())];
        assert_eq!(outcome, Outcome { connected: true, subscribed: true, published: 3, received });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn quectel_never_panics(answers in answers(QUECTEL_SCRIPT)) {
        quectel(answers);
    }

    #[test]
    fn simcom_never_panics(answers in answers(SIMCOM_SCRIPT)) {
        simcom(answers);
    }
}
