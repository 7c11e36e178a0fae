//! The Quectel TCP socket (reference §2.7) through the blocking driver against the simulator's
//! scriptable peer. Every scenario runs with the simulator's output whole, split at every byte
//! and in seeded chunks; payloads hold `OK`, CR LF, NUL, `> ` and URC-looking text (§1.9).
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use embedded_io::{Read, Write};
use modem::blocking::Modem;
use modem::sim::{Moment, Sim, SimClock, SimError, Split};
use modem::socket::quectel::{QuectelSocket, READ_MAX, SEND_MAX};
use modem::socket::{Error, SocketState};
use serde_json::Value;

type Socket = QuectelSocket<Sim, SimClock, SimClock>;

const SPLITS: [Split; 3] = [Split::Whole, Split::EveryByte, Split::Seeded(7)];

/// A payload a line-based reader would misread: final result codes, a prompt, a URC, NUL.
const AWKWARD: &[u8] = b"OK\r\n\0> \r\n\r\nOK\r\nSEND OK\r\n+QIURC: \"closed\",0\r\nERROR\r\n\x1a\x1b";

fn socket(split: Split) -> Socket {
    let clock = SimClock::new();
    let mut sim = Sim::new(clock.clone());
    sim.set_split(split);
    let mut modem = Modem::new(sim, clock.clone(), clock);
    modem.bring_up(10_000).unwrap();
    let mut socket = QuectelSocket::new(modem, 1, 0);
    socket.attach().unwrap();
    // The rest of the boot banner (`+CFUN: 1`, `APP RDY`) is not what the tests look at.
    socket.modem_mut().uart_mut().clock().advance(1_000);
    socket.poll().unwrap();
    while socket.pop_urc().is_some() {}
    socket
}

fn sim(s: &mut Socket) -> &mut Sim {
    s.modem_mut().uart_mut()
}

/// Reads until `+QIRD: 0`.
fn read_all(s: &mut Socket, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = s.receive(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        assert!(n <= chunk.min(READ_MAX));
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn attach_activates_the_context_once() {
    let mut s = socket(Split::Whole);
    assert!(sim(&mut s).pdp_active());
    let before = sim(&mut s).commands().len();
    s.attach().unwrap();
    // Already active: only the query is sent the second time.
    assert_eq!(&sim(&mut s).commands()[before..], &[b"AT+QIACT?".to_vec()]);
}

#[test]
fn echo_round_trip_with_awkward_payload() {
    for split in SPLITS {
        let mut s = socket(split);
        sim(&mut s).set_socket_echo(true);
        s.open("echo.example.com", 7).unwrap();
        assert_eq!(s.state(), SocketState::Open);
        // The command form of vector qi-008 (buffer access mode 0).
        assert!(sim(&mut s).commands().contains(&b"AT+QIOPEN=1,0,\"TCP\",\"echo.example.com\",7,0,0".to_vec()));
        assert_eq!(sim(&mut s).socket_remote(0), Some(("echo.example.com", 7)));
        s.send(AWKWARD).unwrap();
        assert_eq!(sim(&mut s).socket_peer_received(0).unwrap(), AWKWARD, "{split:?}");
        s.poll().unwrap();
        assert!(s.readable(), "{split:?}: the echo is announced by +QIURC: \"recv\",0");
        assert_eq!(read_all(&mut s, 8), AWKWARD, "{split:?}");
        assert!(!s.readable());
        assert_eq!(s.stats().sent as usize, AWKWARD.len());
        assert_eq!(s.stats().received as usize, AWKWARD.len());
        s.close().unwrap();
        assert_eq!(s.state(), SocketState::Closed);
        assert_eq!(sim(&mut s).socket_remote(0), None);
        assert!(matches!(s.receive(&mut [0; 4]), Err(Error::NotOpen)));
    }
}

#[test]
fn every_byte_value_larger_than_one_read() {
    let data: Vec<u8> = (0..3 * READ_MAX + 17).map(|i| (i * 7 % 256) as u8).collect();
    for split in SPLITS {
        let mut s = socket(split);
        s.open("10.0.0.1", 8883).unwrap();
        sim(&mut s).socket_push(0, &data);
        s.poll().unwrap();
        assert!(s.readable());
        let mut buf = vec![0u8; 4096];
        let first = s.receive(&mut buf).unwrap();
        assert_eq!(first, READ_MAX, "one read asks for at most READ_MAX bytes");
        let mut got = buf[..first].to_vec();
        got.extend(read_all(&mut s, 4096));
        assert_eq!(got, data, "{split:?}");
        assert_eq!(sim(&mut s).socket_unread(0), 0);
    }
}

#[test]
fn one_recv_urc_until_read_empty() {
    let mut s = socket(Split::Whole);
    s.open("10.0.0.1", 80).unwrap();
    sim(&mut s).socket_push(0, b"first ");
    sim(&mut s).socket_push(0, b"second");
    s.poll().unwrap();
    assert!(s.readable());
    assert_eq!(read_all(&mut s, 64), b"first second");
    // reference §1.9: a new URC only after the buffer was read empty.
    sim(&mut s).socket_push(0, b"third");
    s.poll().unwrap();
    assert!(s.readable());
    assert_eq!(read_all(&mut s, 64), b"third");
}

#[test]
fn receive_polls_even_without_a_urc() {
    // A lost `recv` URC must not stall the socket (§1.9): receive asks the module anyway.
    let mut s = socket(Split::Whole);
    s.open("10.0.0.1", 80).unwrap();
    sim(&mut s).socket_push(0, b"data");
    // No poll: the URC has not been read, and receive still finds the data.
    let mut buf = [0u8; 16];
    assert_eq!(s.receive(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"data");
}

#[test]
fn send_fail_is_typed_and_the_socket_stays_open() {
    for split in SPLITS {
        let mut s = socket(split);
        s.open("10.0.0.1", 80).unwrap();
        sim(&mut s).fail_socket_sends(1);
        assert!(matches!(s.send(b"lost"), Err(Error::SendFailed)), "{split:?}");
        assert_eq!(s.stats().send_failures, 1);
        assert_eq!(s.state(), SocketState::Open);
        s.send(b"kept").unwrap();
        assert_eq!(sim(&mut s).socket_peer_received(0).unwrap(), b"kept");
    }
}

#[test]
fn long_data_goes_in_pieces_of_send_max() {
    let data: Vec<u8> = (0..2 * SEND_MAX + 100).map(|i| (i % 251) as u8).collect();
    for split in [Split::Whole, Split::Seeded(3)] {
        let mut s = socket(split);
        let mut c = simcom(split);
        s.open("10.0.0.1", 80).unwrap();
        c.open("10.0.0.1", 80).unwrap();
        let before = (sim(&mut s).commands().len(), ssim(&mut c).commands().len());
        s.send(&data).unwrap();
        c.send(&data).unwrap();
        s.send(b"").unwrap();
        c.send(b"").unwrap();
        assert_eq!(sim(&mut s).socket_peer_received(0).unwrap(), &data[..]);
        assert_eq!(ssim(&mut c).socket_peer_received(0).unwrap(), &data[..]);
        let q: Vec<Vec<u8>> = sim(&mut s).commands()[before.0..].to_vec();
        assert_eq!(q, vec![b"AT+QISEND=0,1460".to_vec(), b"AT+QISEND=0,1460".to_vec(), b"AT+QISEND=0,100".to_vec()]);
        let k: Vec<Vec<u8>> = ssim(&mut c).commands()[before.1..].to_vec();
        assert_eq!(k, vec![b"AT+CIPSEND=0,1460".to_vec(), b"AT+CIPSEND=0,1460".to_vec(), b"AT+CIPSEND=0,100".to_vec()]);
    }
}

#[test]
fn refused_open_gives_the_modules_error() {
    let mut s = socket(Split::EveryByte);
    sim(&mut s).refuse_next_socket(566);
    assert!(matches!(s.open("10.0.0.1", 80), Err(Error::Open(566))));
    assert_eq!(s.state(), SocketState::Closed);
    assert!(matches!(s.send(b"x"), Err(Error::NotOpen)));
    s.open("10.0.0.1", 80).unwrap();
    // A second socket on the same id: 563, socket identity used (§2.7).
    let modem = s.into_inner();
    let mut other = QuectelSocket::new(modem, 1, 0);
    assert!(matches!(other.open("10.0.0.2", 81), Err(Error::Open(563))));
}

#[test]
fn host_with_a_quote_is_refused_before_sending() {
    let mut s = socket(Split::Whole);
    let before = sim(&mut s).commands().len();
    assert!(matches!(s.open("bad\"host", 80), Err(Error::Unsendable)));
    assert_eq!(sim(&mut s).commands().len(), before);
}

#[test]
fn peer_close_keeps_unread_data_and_needs_qiclose() {
    for split in SPLITS {
        let mut s = socket(split);
        s.open("10.0.0.1", 80).unwrap();
        sim(&mut s).socket_push(0, b"bye\r\nOK\r\n");
        sim(&mut s).socket_peer_close(0);
        s.poll().unwrap();
        assert_eq!(s.state(), SocketState::PeerClosed, "{split:?}");
        assert!(matches!(s.send(b"x"), Err(Error::NotOpen)));
        assert_eq!(read_all(&mut s, 64), b"bye\r\nOK\r\n");
        s.close().unwrap();
        assert_eq!(s.state(), SocketState::Closed);
        assert!(sim(&mut s).commands().contains(&b"AT+QICLOSE=0".to_vec()));
    }
}

#[test]
fn urcs_at_awkward_moments() {
    for split in SPLITS {
        let mut s = socket(split);
        sim(&mut s).set_socket_echo(true);
        // A registration URC between the echo and the `>` of AT+QISEND, another after the
        // `OK` of AT+QIOPEN (before its +QIOPEN result), a recv URC inside a QIRD reply.
        sim(&mut s).inject_urc(Moment::AfterFinal, b"+CEREG: 5");
        s.open("10.0.0.1", 80).unwrap();
        sim(&mut s).inject_urc(Moment::BetweenLines, b"+CEREG: 1");
        s.send(b"> \r\n").unwrap();
        sim(&mut s).inject_urc(Moment::BetweenLines, b"+QIURC: \"recv\",0");
        assert_eq!(read_all(&mut s, 64), b"> \r\n", "{split:?}");
        s.poll().unwrap();
        assert_eq!(s.pop_urc().unwrap().line.as_slice(), b"+CEREG: 5", "{split:?}");
        assert_eq!(s.pop_urc().unwrap().line.as_slice(), b"+CEREG: 1", "{split:?}");
        assert!(s.pop_urc().is_none());
        // A peer close while a send is under way is seen at the next poll.
        sim(&mut s).inject_urc(Moment::AfterFinal, b"+QIURC: \"closed\",0");
        s.send(b"last").unwrap();
        s.poll().unwrap();
        assert_eq!(s.state(), SocketState::PeerClosed, "{split:?}");
        // URCs of other connections are not this socket's.
        sim(&mut s).schedule_urc(0, b"+QIURC: \"closed\",3");
        s.poll().unwrap();
        assert_eq!(s.pop_urc().unwrap().line.as_slice(), b"+QIURC: \"closed\",3");
    }
}

#[test]
fn pdp_loss_ends_the_socket() {
    let mut s = socket(Split::Whole);
    s.open("10.0.0.1", 80).unwrap();
    sim(&mut s).pdp_lost();
    s.poll().unwrap();
    assert_eq!(s.state(), SocketState::PeerClosed);
    assert_eq!(s.pop_urc().unwrap().line.as_slice(), b"+QIURC: \"pdpdeact\",1");
}

fn vector(id: &str) -> Value {
    let all: Value = serde_json::from_str(include_str!("data/modem.json")).unwrap();
    let list = all.as_array().or_else(|| all["vectors"].as_array()).unwrap();
    list.iter().find(|v| v["id"] == id).unwrap_or_else(|| panic!("vector {id}")).clone()
}

/// What the simulator sends for `command` with echo off, until it has nothing more to send.
fn raw_answer(sim: &mut Sim, command: &[u8]) -> Vec<u8> {
    assert_eq!(sim.pending_output(), 0);
    sim.write_all(command).unwrap();
    sim.write_all(b"\r").unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        match sim.read(&mut buf) {
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(SimError::Idle) => return out,
        }
    }
}

#[test]
fn simulator_bytes_match_vectors_qi_008_and_qi_003() {
    let mut s = socket(Split::Whole);
    let sim = sim(&mut s);
    assert!(!sim.echo(), "bring-up turned echo off");
    for id in ["qi-008", "qi-003"] {
        let v = vector(id);
        let command = v["command"].as_str().unwrap();
        // qi-008 opens connection 0 to its broker; qi-003 then reads the empty buffer.
        assert_eq!(raw_answer(sim, command.as_bytes()), v["raw"].as_str().unwrap().as_bytes(), "{id}");
    }
}

// ---------------------------------------------------------------------------------------------
// SIMCom CIP* with manual receive (reference §2.8)

type Simcom = modem::socket::simcom::SimcomSocket<Sim, SimClock, SimClock>;

fn simcom(split: Split) -> Simcom {
    let clock = SimClock::new();
    let mut sim = Sim::simcom(clock.clone());
    sim.set_split(split);
    let mut modem = Modem::new(sim, clock.clone(), clock);
    modem.bring_up(10_000).unwrap();
    let mut socket = modem::socket::simcom::SimcomSocket::new(modem, 0);
    socket.attach().unwrap();
    socket.modem_mut().uart_mut().clock().advance(1_000);
    socket.poll().unwrap();
    while socket.pop_urc().is_some() {}
    socket
}

fn ssim(s: &mut Simcom) -> &mut Sim {
    s.modem_mut().uart_mut()
}

fn simcom_read_all(s: &mut Simcom, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = s.receive(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn simcom_attach_selects_manual_receive_and_opens_the_network() {
    let mut s = simcom(Split::Whole);
    let sent = ssim(&mut s).commands().to_vec();
    let at = |c: &[u8]| sent.iter().position(|x| x == c).unwrap_or_else(|| panic!("{c:?} not sent"));
    assert!(at(b"AT+CIPRXGET=1") < at(b"AT+NETOPEN"));
    assert!(ssim(&mut s).pdp_active());
    let before = ssim(&mut s).commands().len();
    s.attach().unwrap();
    assert_eq!(&ssim(&mut s).commands()[before..], &[b"AT+CIPRXGET=1".to_vec(), b"AT+NETOPEN?".to_vec()]);
}

#[test]
fn simcom_echo_round_trip_with_awkward_payload() {
    let data: Vec<u8> = AWKWARD.iter().copied().chain((0..=255u8).cycle().take(2 * READ_MAX)).collect();
    for split in SPLITS {
        let mut s = simcom(split);
        ssim(&mut s).set_socket_echo(true);
        s.open("echo.example.com", 7).unwrap();
        assert!(ssim(&mut s).commands().contains(&b"AT+CIPOPEN=0,\"TCP\",\"echo.example.com\",7".to_vec()));
        s.send(&data[..300]).unwrap();
        s.send(&data[300..]).unwrap();
        assert_eq!(ssim(&mut s).socket_peer_received(0).unwrap(), &data[..], "{split:?}");
        s.poll().unwrap();
        assert!(s.readable(), "{split:?}: +CIPRXGET: 1,0");
        assert_eq!(simcom_read_all(&mut s, 100), data, "{split:?}");
        assert!(!s.readable());
        s.close().unwrap();
        assert_eq!(s.state(), SocketState::Closed);
        assert_eq!(ssim(&mut s).socket_remote(0), None);
    }
}

#[test]
fn simcom_refused_open_and_broken_link() {
    let mut s = simcom(Split::EveryByte);
    ssim(&mut s).refuse_next_socket(11);
    assert!(matches!(s.open("nowhere.invalid", 80), Err(Error::Open(11))));
    s.open("10.0.0.1", 80).unwrap();
    ssim(&mut s).fail_socket_sends(1);
    // `<cnfSendLength>` −1: the link is broken (§2.8).
    assert!(matches!(s.send(b"x"), Err(Error::NotOpen)));
    assert_eq!(s.state(), SocketState::PeerClosed);
}

#[test]
fn simcom_peer_close_keeps_unread_data() {
    for split in SPLITS {
        let mut s = simcom(split);
        s.open("10.0.0.1", 80).unwrap();
        ssim(&mut s).socket_push(0, b"+IPCLOSE: 0,1\r\nOK\r\n");
        ssim(&mut s).socket_peer_close(0);
        s.poll().unwrap();
        assert_eq!(s.state(), SocketState::PeerClosed, "{split:?}");
        assert_eq!(simcom_read_all(&mut s, 64), b"+IPCLOSE: 0,1\r\nOK\r\n", "{split:?}");
        s.close().unwrap();
        assert!(ssim(&mut s).commands().contains(&b"AT+CIPCLOSE=0".to_vec()));
    }
}

#[test]
fn simcom_urcs_at_awkward_moments() {
    for split in SPLITS {
        for moment in [Moment::BeforeEcho, Moment::BetweenLines, Moment::AfterFinal] {
            let mut s = simcom(split);
            s.open("10.0.0.1", 80).unwrap();
            ssim(&mut s).socket_push(0, b"OK\r\n");
            s.poll().unwrap();
            // A same-prefix URC (§1.7) next to the read's own `+CIPRXGET: 2` reply.
            ssim(&mut s).inject_urc(moment, b"+CIPRXGET: 1,0");
            let mut buf = [0u8; 64];
            let n = s.receive(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"OK\r\n", "{split:?} {moment:?}");
            ssim(&mut s).inject_urc(moment, b"+IPCLOSE: 0,1");
            s.send(b"x").unwrap();
            s.poll().unwrap();
            assert_eq!(s.state(), SocketState::PeerClosed, "{split:?} {moment:?}");
        }
    }
}
