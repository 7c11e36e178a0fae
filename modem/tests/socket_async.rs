//! The async TCP sockets (`modem::socket::asynch`, reference §2.7 Quectel `QI*`, §2.8 SIMCom
//! `CIP*`) over the async shell: the representative scenarios of `tests/socket.rs` (attach, a
//! refused open with the module's error code, sends through the prompt that succeed and fail,
//! a received payload holding `OK`, CR LF, NUL and `> `, peer close, host close, loss of the
//! network, URCs of other kinds kept) run once on each async socket and once on its blocking
//! socket with the same simulator script, at three output splits.
//!
//! The scenario checks itself against the commands and the exact bytes a correct driver writes
//! (so a wrong byte fails it on either shell alone), then the two runs are compared: every byte
//! the host wrote to the module (bring-up included) and every observation must be equal.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::executor::block_on;
use core::future::Future;
use modem::sim::{Moment, Sim, SimClock, SimError, Split};
use modem::socket::quectel::{QuectelSocket, SocketStats};
use modem::socket::simcom::SimcomSocket;
use modem::socket::{Error, SocketState, asynch};

type SockError = Error<SimError>;

/// The simulator, with every byte the host writes to it recorded (command lines, their `\r`,
/// the data after a prompt, an ESC if any).
#[derive(Debug)]
struct Tap {
    sim: Sim,
    written: Vec<u8>,
}

impl embedded_io::ErrorType for Tap {
    type Error = SimError;
}

impl embedded_io::ReadReady for Tap {
    fn read_ready(&mut self) -> Result<bool, SimError> {
        self.sim.read_ready()
    }
}

impl embedded_io::Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, SimError> {
        embedded_io::Read::read(&mut self.sim, buf)
    }
}

impl embedded_io::Write for Tap {
    fn write(&mut self, buf: &[u8]) -> Result<usize, SimError> {
        let n = embedded_io::Write::write(&mut self.sim, buf)?;
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), SimError> {
        embedded_io::Write::flush(&mut self.sim)
    }
}

impl embedded_io_async::Read for Tap {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, SimError> {
        embedded_io::Read::read(self, buf)
    }
}

impl embedded_io_async::Write for Tap {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, SimError> {
        embedded_io::Write::write(self, buf)
    }
    async fn flush(&mut self) -> Result<(), SimError> {
        embedded_io::Write::flush(self)
    }
}

/// The socket methods the scenario uses, the same for both shells (a blocking call is a
/// future that is ready at once).
trait Sock {
    fn tap(&mut self) -> &mut Tap;
    fn state(&self) -> SocketState;
    fn readable(&self) -> bool;
    fn stats(&self) -> SocketStats;
    fn pop_urc(&mut self) -> Option<Vec<u8>>;
    async fn poll(&mut self) -> Result<(), SockError>;
    async fn attach(&mut self) -> Result<(), SockError>;
    async fn open(&mut self, host: &str, port: u16) -> Result<(), SockError>;
    async fn send(&mut self, data: &[u8]) -> Result<(), SockError>;
    async fn receive(&mut self, buf: &mut [u8]) -> Result<usize, SockError>;
    async fn close(&mut self) -> Result<(), SockError>;
}

/// An async socket's future as it is.
fn awaited<F: Future>(future: F) -> F {
    future
}

/// Implements [`Sock`] for socket type `$t`; `$wrap` turns what a method returns into a future
/// (`awaited` for the async sockets, `std::future::ready` for the blocking ones).
macro_rules! sock {
    ($t:ty, $wrap:path) => {
        impl Sock for $t {
            fn tap(&mut self) -> &mut Tap {
                self.modem_mut().uart_mut()
            }
            fn state(&self) -> SocketState {
                <$t>::state(self)
            }
            fn readable(&self) -> bool {
                <$t>::readable(self)
            }
            fn stats(&self) -> SocketStats {
                <$t>::stats(self)
            }
            fn pop_urc(&mut self) -> Option<Vec<u8>> {
                <$t>::pop_urc(self).map(|urc| urc.line.to_vec())
            }
            async fn poll(&mut self) -> Result<(), SockError> {
                $wrap(<$t>::poll(self)).await
            }
            async fn attach(&mut self) -> Result<(), SockError> {
                $wrap(<$t>::attach(self)).await
            }
            async fn open(&mut self, host: &str, port: u16) -> Result<(), SockError> {
                $wrap(<$t>::open(self, host, port)).await
            }
            async fn send(&mut self, data: &[u8]) -> Result<(), SockError> {
                $wrap(<$t>::send(self, data)).await
            }
            async fn receive(&mut self, buf: &mut [u8]) -> Result<usize, SockError> {
                $wrap(<$t>::receive(self, buf)).await
            }
            async fn close(&mut self) -> Result<(), SockError> {
                $wrap(<$t>::close(self)).await
            }
        }
    };
}

type AsyncQuectel = asynch::QuectelSocket<Tap, SimClock, SimClock>;
type AsyncSimcom = asynch::SimcomSocket<Tap, SimClock, SimClock>;
type BlockingQuectel = QuectelSocket<Tap, SimClock, SimClock>;
type BlockingSimcom = SimcomSocket<Tap, SimClock, SimClock>;

sock!(AsyncQuectel, awaited);
sock!(AsyncSimcom, awaited);
sock!(BlockingQuectel, std::future::ready);
sock!(BlockingSimcom, std::future::ready);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dialect {
    Quectel,
    Simcom,
}

fn tap(split: Split, dialect: Dialect) -> (Tap, SimClock) {
    let clock = SimClock::new();
    let mut sim = match dialect {
        Dialect::Quectel => Sim::new(clock.clone()),
        Dialect::Simcom => Sim::simcom(clock.clone()),
    };
    sim.set_split(split);
    (Tap { sim, written: Vec::new() }, clock)
}

/// Reads the rest of the boot banner (`+CFUN: 1`, `APP RDY`, ...), which the scenario does not
/// look at.
fn settle<S: Sock>(mut s: S) -> S {
    s.tap().sim.clock().advance(1_000);
    block_on(s.poll()).unwrap();
    while s.pop_urc().is_some() {}
    s
}

fn async_quectel(split: Split) -> AsyncQuectel {
    let (tap, clock) = tap(split, Dialect::Quectel);
    let mut m = modem::asynch::Modem::new(tap, clock.clone(), clock);
    block_on(m.bring_up(10_000)).unwrap();
    settle(asynch::QuectelSocket::new(m, 1, 0))
}

fn async_simcom(split: Split) -> AsyncSimcom {
    let (tap, clock) = tap(split, Dialect::Simcom);
    let mut m = modem::asynch::Modem::new(tap, clock.clone(), clock);
    block_on(m.bring_up(10_000)).unwrap();
    settle(asynch::SimcomSocket::new(m, 0))
}

fn blocking_quectel(split: Split) -> BlockingQuectel {
    let (tap, clock) = tap(split, Dialect::Quectel);
    let mut m = modem::blocking::Modem::new(tap, clock.clone(), clock);
    m.bring_up(10_000).unwrap();
    settle(QuectelSocket::new(m, 1, 0))
}

fn blocking_simcom(split: Split) -> BlockingSimcom {
    let (tap, clock) = tap(split, Dialect::Simcom);
    let mut m = modem::blocking::Modem::new(tap, clock.clone(), clock);
    m.bring_up(10_000).unwrap();
    settle(SimcomSocket::new(m, 0))
}

/// A payload a line-based reader would misread: final result codes, a prompt, both dialects'
/// URCs for this socket, NUL, Ctrl-Z and ESC (reference §1.9).
const PAYLOAD: &[u8] =
    b"OK\r\n\0> \r\n\r\nOK\r\nSEND OK\r\n+QIURC: \"closed\",0\r\n+IPCLOSE: 0,1\r\n+CIPRXGET: 1,0\r\nERROR\r\n\x1a\x1b";

/// What arrives from the peer before it closes.
const LAST_WORDS: &[u8] = b"bye\r\nOK\r\n\0> ";

/// What the scenario saw, for comparing the two shells.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    results: Vec<String>,
    states: Vec<SocketState>,
    readable: Vec<bool>,
    received: Vec<Vec<u8>>,
    urcs: Vec<Vec<u8>>,
    stats: Vec<SocketStats>,
}

impl Seen {
    /// Notes a call's result and the socket as it is afterwards.
    fn note<S: Sock, T: core::fmt::Debug>(&mut self, s: &S, result: &T) {
        self.results.push(format!("{result:?}"));
        self.states.push(s.state());
        self.readable.push(s.readable());
        self.stats.push(s.stats());
    }
}

/// The commands and the bytes a correct driver writes, built alongside the scenario.
#[derive(Default)]
struct Wire {
    commands: Vec<Vec<u8>>,
    bytes: Vec<u8>,
}

impl Wire {
    fn expect(&mut self, command: &[u8], data: Option<&[u8]>) {
        self.commands.push(command.to_vec());
        self.bytes.extend_from_slice(command);
        self.bytes.push(b'\r');
        if let Some(data) = data {
            self.bytes.extend_from_slice(data);
        }
    }
}

/// The lines of `dialect` for connection/link 0 on context 1.
fn open_line(dialect: Dialect, host: &str, port: u16) -> Vec<u8> {
    match dialect {
        Dialect::Quectel => format!("AT+QIOPEN=1,0,\"TCP\",\"{host}\",{port},0,0"),
        Dialect::Simcom => format!("AT+CIPOPEN=0,\"TCP\",\"{host}\",{port}"),
    }
    .into_bytes()
}

fn send_line(dialect: Dialect, len: usize) -> Vec<u8> {
    match dialect {
        Dialect::Quectel => format!("AT+QISEND=0,{len}"),
        Dialect::Simcom => format!("AT+CIPSEND=0,{len}"),
    }
    .into_bytes()
}

fn read_line(dialect: Dialect, len: usize) -> Vec<u8> {
    match dialect {
        Dialect::Quectel => format!("AT+QIRD=0,{len}"),
        Dialect::Simcom => format!("AT+CIPRXGET=2,0,{len}"),
    }
    .into_bytes()
}

fn close_line(dialect: Dialect) -> &'static [u8] {
    match dialect {
        Dialect::Quectel => b"AT+QICLOSE=0",
        Dialect::Simcom => b"AT+CIPCLOSE=0",
    }
}

/// URC lines of `dialect` for another connection (3): data waiting, closed by the peer.
fn other_connection_urcs(dialect: Dialect) -> [&'static [u8]; 2] {
    match dialect {
        Dialect::Quectel => [b"+QIURC: \"recv\",3", b"+QIURC: \"closed\",3"],
        Dialect::Simcom => [b"+CIPRXGET: 1,3", b"+IPCLOSE: 3,1"],
    }
}

/// Reads until the module says it holds nothing, `chunk` bytes at a time; expects one read
/// command per call.
async fn read_all<S: Sock>(s: &mut S, chunk: usize, dialect: Dialect, wire: &mut Wire, seen: &mut Seen) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = s.receive(&mut buf).await.unwrap();
        wire.expect(&read_line(dialect, chunk), None);
        assert!(n <= chunk);
        if n == 0 {
            seen.received.push(out.clone());
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// The scenario, with absolute checks (so that it fails on its own, not only by comparison).
async fn scenario<S: Sock>(s: &mut S, dialect: Dialect) -> Seen {
    let mut seen = Seen::default();
    let mut wire = Wire::default();
    let start = (s.tap().sim.commands().len(), s.tap().written.len());
    let quectel = dialect == Dialect::Quectel;

    // Attach: activate the context / select manual receive and open the network (§2.6, §2.8).
    let r = s.attach().await;
    seen.note(s, &r);
    r.unwrap();
    assert!(s.tap().sim.pdp_active());
    if quectel {
        wire.expect(b"AT+QIACT?", None);
        wire.expect(b"AT+QIACT=1", None);
    } else {
        wire.expect(b"AT+CIPRXGET=1", None);
        wire.expect(b"AT+NETOPEN?", None);
        wire.expect(b"AT+NETOPEN", None);
    }
    // Already attached: only the query.
    let r = s.attach().await;
    seen.note(s, &r);
    r.unwrap();
    if quectel {
        wire.expect(b"AT+QIACT?", None);
    } else {
        wire.expect(b"AT+CIPRXGET=1", None);
        wire.expect(b"AT+NETOPEN?", None);
    }

    // A refused open gives the module's error code (§2.7: 566 connect failed; §2.8: 11 DNS).
    let code = if quectel { 566 } else { 11 };
    s.tap().sim.refuse_next_socket(code);
    let r = s.open("10.0.0.1", 80).await;
    seen.note(s, &r);
    assert!(matches!(r, Err(Error::Open(c)) if c == code), "{r:?}");
    wire.expect(&open_line(dialect, "10.0.0.1", 80), None);
    assert_eq!(s.state(), SocketState::Closed);
    // Nothing is sent on a socket that is not open.
    let r = s.send(b"x").await;
    seen.note(s, &r);
    assert!(matches!(r, Err(Error::NotOpen)), "{r:?}");
    let r = s.receive(&mut [0u8; 4]).await;
    seen.note(s, &r);
    assert!(matches!(r, Err(Error::NotOpen)), "{r:?}");

    // Open, then the awkward payload out through the prompt and back from an echoing peer.
    s.tap().sim.set_socket_echo(true);
    let r = s.open("echo.example.com", 7).await;
    seen.note(s, &r);
    r.unwrap();
    wire.expect(&open_line(dialect, "echo.example.com", 7), None);
    assert_eq!(s.state(), SocketState::Open);
    assert_eq!(s.tap().sim.socket_remote(0), Some(("echo.example.com", 7)));
    let r = s.send(PAYLOAD).await;
    seen.note(s, &r);
    r.unwrap();
    wire.expect(&send_line(dialect, PAYLOAD.len()), Some(PAYLOAD));
    assert_eq!(s.tap().sim.socket_peer_received(0).unwrap(), PAYLOAD);
    s.tap().sim.set_socket_echo(false);
    let r = s.poll().await;
    seen.note(s, &r);
    assert!(s.readable(), "the echo is announced");
    assert_eq!(read_all(s, 8, dialect, &mut wire, &mut seen).await, PAYLOAD);
    assert!(!s.readable(), "read empty");
    assert_eq!(s.stats().received as usize, PAYLOAD.len());

    // A send the module refuses: Quectel `SEND FAIL` keeps the socket open (§2.7).
    if quectel {
        s.tap().sim.fail_socket_sends(1);
        let r = s.send(b"lost").await;
        seen.note(s, &r);
        assert!(matches!(r, Err(Error::SendFailed)), "{r:?}");
        wire.expect(&send_line(dialect, 4), Some(b"lost"));
        assert_eq!(s.state(), SocketState::Open);
        assert_eq!(s.stats().send_failures, 1);
    }
    let r = s.send(b"kept").await;
    seen.note(s, &r);
    r.unwrap();
    wire.expect(&send_line(dialect, 4), Some(b"kept"));
    let mut want_peer = PAYLOAD.to_vec();
    want_peer.extend_from_slice(b"kept");
    assert_eq!(s.tap().sim.socket_peer_received(0).unwrap(), &want_peer[..]);

    // URCs in the middle of a send's reply: another kind (kept) and this socket's data
    // announcement (taken); then URCs of another connection (kept, the socket unchanged).
    let [other_recv, other_closed] = other_connection_urcs(dialect);
    let mine: &[u8] = if quectel { b"+QIURC: \"recv\",0" } else { b"+CIPRXGET: 1,0" };
    s.tap().sim.inject_urc(Moment::BetweenLines, b"+CEREG: 1");
    s.tap().sim.inject_urc(Moment::BetweenLines, mine);
    let r = s.send(b"> \r\n").await;
    seen.note(s, &r);
    r.unwrap();
    assert!(s.readable(), "the announcement inside the reply was sorted at once");
    wire.expect(&send_line(dialect, 4), Some(b"> \r\n"));
    let now = s.tap().sim.clock().now_ms();
    s.tap().sim.schedule_urc(now, other_recv);
    s.tap().sim.schedule_urc(now, other_closed);
    s.tap().sim.clock().advance(10);
    let r = s.poll().await;
    seen.note(s, &r);
    assert!(s.readable(), "this socket's announcement was taken");
    assert_eq!(s.state(), SocketState::Open, "another connection's close is not this socket's");
    let urcs: Vec<Vec<u8>> = core::iter::from_fn(|| s.pop_urc()).collect();
    assert_eq!(urcs, [b"+CEREG: 1".to_vec(), other_recv.to_vec(), other_closed.to_vec()]);
    seen.urcs.extend(urcs);
    // The announcement had no data behind it: one empty read.
    assert_eq!(read_all(s, 16, dialect, &mut wire, &mut seen).await, b"");
    assert!(!s.readable());

    // The peer closes with data still in the module: it can be read, nothing can be sent.
    s.tap().sim.socket_push(0, LAST_WORDS);
    s.tap().sim.socket_peer_close(0);
    let r = s.poll().await;
    seen.note(s, &r);
    assert_eq!(s.state(), SocketState::PeerClosed);
    assert!(s.readable());
    let r = s.send(b"x").await;
    seen.note(s, &r);
    assert!(matches!(r, Err(Error::NotOpen)), "{r:?}");
    assert_eq!(read_all(s, 64, dialect, &mut wire, &mut seen).await, LAST_WORDS);

    // The host closes, which frees the id in the module.
    let r = s.close().await;
    seen.note(s, &r);
    r.unwrap();
    wire.expect(close_line(dialect), None);
    assert_eq!(s.state(), SocketState::Closed);
    assert_eq!(s.tap().sim.socket_remote(0), None);
    let r = s.receive(&mut [0u8; 4]).await;
    seen.note(s, &r);
    assert!(matches!(r, Err(Error::NotOpen)), "{r:?}");

    // SIMCom: a send confirmed with `<cnf>` −1 means the link broke (§2.8).
    if !quectel {
        let r = s.open("10.0.0.1", 80).await;
        seen.note(s, &r);
        r.unwrap();
        wire.expect(&open_line(dialect, "10.0.0.1", 80), None);
        s.tap().sim.fail_socket_sends(1);
        let r = s.send(b"lost").await;
        seen.note(s, &r);
        assert!(matches!(r, Err(Error::NotOpen)), "{r:?}");
        wire.expect(&send_line(dialect, 4), Some(b"lost"));
        assert_eq!(s.state(), SocketState::PeerClosed);
        let r = s.close().await;
        seen.note(s, &r);
        r.unwrap();
        wire.expect(close_line(dialect), None);
    }

    // The network drops the context: the socket is dead, the URC is kept for the application.
    let r = s.open("10.0.0.2", 443).await;
    seen.note(s, &r);
    r.unwrap();
    wire.expect(&open_line(dialect, "10.0.0.2", 443), None);
    s.tap().sim.pdp_lost();
    let r = s.poll().await;
    seen.note(s, &r);
    assert_eq!(s.state(), SocketState::PeerClosed);
    let lost: &[u8] = if quectel { b"+QIURC: \"pdpdeact\",1" } else { b"+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY" };
    let urcs: Vec<Vec<u8>> = core::iter::from_fn(|| s.pop_urc()).collect();
    assert_eq!(urcs, [lost.to_vec()]);
    seen.urcs.extend(urcs);
    let r = s.close().await;
    seen.note(s, &r);
    r.unwrap();
    wire.expect(close_line(dialect), None);

    let sent = PAYLOAD.len() + 2 * 4;
    let failures = if quectel { 1 } else { 0 };
    let stats = s.stats();
    assert_eq!(
        (stats.sent as usize, stats.received as usize, stats.send_failures, stats.other_dropped),
        (sent, PAYLOAD.len() + LAST_WORDS.len(), failures, 0)
    );
    assert_eq!(&s.tap().sim.commands()[start.0..], &wire.commands[..], "commands");
    assert_eq!(&s.tap().written[start.1..], &wire.bytes[..], "bytes written");
    seen
}

/// Runs the scenario on the async socket `a` and the blocking socket `b` and compares them.
fn compare<A: Sock, B: Sock>(mut a: A, mut b: B, dialect: Dialect, what: &str) {
    let seen_a = block_on(scenario(&mut a, dialect));
    let seen_b = block_on(scenario(&mut b, dialect));
    assert_eq!(seen_a, seen_b, "{what}");
    assert_eq!(a.tap().sim.commands(), b.tap().sim.commands(), "{what}");
    assert_eq!(a.tap().written, b.tap().written, "same bytes to the module, {what}");
}

#[test]
fn async_quectel_socket_does_what_the_blocking_one_does() {
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(7)] {
        compare(async_quectel(split), blocking_quectel(split), Dialect::Quectel, &format!("Quectel {split:?}"));
    }
}

#[test]
fn async_simcom_socket_does_what_the_blocking_one_does() {
    for split in [Split::Whole, Split::EveryByte, Split::Seeded(7)] {
        compare(async_simcom(split), blocking_simcom(split), Dialect::Simcom, &format!("SIMCom {split:?}"));
    }
}

#[test]
fn async_socket_refuses_what_it_cannot_send() {
    let mut s = async_quectel(Split::Whole);
    let before = (s.tap().sim.commands().len(), s.tap().written.len());
    // A host with a quote cannot be written into a quoted parameter (§1.5); nothing is sent.
    assert!(matches!(block_on(Sock::open(&mut s, "bad\"host", 80)), Err(Error::Unsendable)));
    let mut c = async_simcom(Split::Whole);
    assert!(matches!(block_on(Sock::open(&mut c, "a\r\nb", 80)), Err(Error::Unsendable)));
    assert_eq!((s.tap().sim.commands().len(), s.tap().written.len()), before);
    // An empty buffer asks the module nothing; an empty send sends nothing.
    block_on(Sock::attach(&mut s)).unwrap();
    block_on(Sock::open(&mut s, "10.0.0.1", 80)).unwrap();
    let before = s.tap().written.len();
    assert_eq!(block_on(Sock::receive(&mut s, &mut [])).unwrap(), 0);
    block_on(Sock::send(&mut s, b"")).unwrap();
    assert_eq!(s.tap().written.len(), before);
}
