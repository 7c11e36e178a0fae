//! A Quectel TCP client socket in buffer access mode (`QI*`, reference §2.7), with PDP attach
//! (`QIACT`, §2.6).
//!
//! ```text
//! AT+QIACT?                                       → +QIACT: 1,1,1,"10.7.157.1" / OK (or no line)
//! AT+QIACT=<ctx>                                  (when not active, up to 150 s)
//! AT+QIOPEN=<ctx>,<id>,"TCP","<host>",<port>,0,0  → OK, then +QIOPEN: <id>,<err>
//! AT+QISEND=<id>,<len>                            → > <len bytes> → SEND OK | SEND FAIL | ERROR
//! +QIURC: "recv",<id>                             (data waits in the module)
//! AT+QIRD=<id>,<n>                                → +QIRD: <m> <m bytes> OK, +QIRD: 0 when empty
//! +QIURC: "closed",<id>                           (peer closed; the host still sends QICLOSE)
//! AT+QICLOSE=<id>                                 → OK
//! ```
//!
//! The received payload follows a counted header, so it may hold `OK`, CR LF, NUL or `> `
//! (reference §1.9); the framer counts it. After a `recv` URC the module sends no other one until
//! its buffer was read empty (§1.9), so [`QuectelSocket::receive`] always asks the module with
//! `AT+QIRD` instead of trusting that a URC was seen.

use super::{Error, SocketState, Text, finish};
use crate::blocking::{Clock, LINE, Modem};
use crate::command::Command;
use crate::engine::{CommandError, Reply};
use crate::mqtt::{Line, UrcSource, result_fields};
use crate::params::{Fields, after_prefix};
use crate::response::parse_qiurc;
use crate::router::Urc;
use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use heapless::Deque;

/// Other URCs (not for this socket) kept for the application ([`QuectelSocket::pop_urc`]).
pub const OTHER_URCS: usize = 8;

/// The most bytes one `AT+QIRD` asks for: the payload must fit the driver's reply buffer
/// ([`LINE`] bytes; Quectel reads at most 1500, reference §1.9).
pub const READ_MAX: usize = LINE;

/// The most bytes one `AT+QISEND`/`AT+CIPSEND` carries (reference §6.2: 1460); longer data is
/// sent in pieces.
pub const SEND_MAX: usize = 1460;

/// Counters kept by a socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketStats {
    /// Bytes the module accepted (`SEND OK`).
    pub sent: u32,
    /// Bytes read with `AT+QIRD`.
    pub received: u32,
    /// `SEND FAIL` results.
    pub send_failures: u32,
    /// Other URCs dropped because the queue for them was full.
    pub other_dropped: u32,
}

/// Everything of the Quectel socket that is not I/O (sans-io): the ids, the state, the counters,
/// the other URCs, the command lines and the parsers of their replies. The blocking
/// [`QuectelSocket`] and the async `socket::asynch::QuectelSocket` only send what it builds and
/// hand back what the module answered.
#[derive(Debug)]
pub(crate) struct Core {
    context_id: u8,
    connect_id: u8,
    pub(crate) state: SocketState,
    pub(crate) readable: bool,
    pub(crate) stats: SocketStats,
    pub(crate) other: Deque<Urc<LINE>, OTHER_URCS>,
}

impl Core {
    pub(crate) fn new(context_id: u8, connect_id: u8) -> Self {
        Self {
            context_id,
            connect_id,
            state: SocketState::Closed,
            readable: false,
            stats: SocketStats::default(),
            other: Deque::new(),
        }
    }

    /// Sorts the driver's queued URCs: `recv` and `closed` for this socket (and `pdpdeact` for
    /// its context) change its state, the rest is kept for `pop_urc`.
    pub(crate) fn absorb(&mut self, src: &mut impl UrcSource) {
        while let Some(urc) = src.pop_urc() {
            if let Ok(q) = parse_qiurc(&urc.line) {
                let mine = q.connect_id == Some(self.connect_id);
                match q.event {
                    "recv" if mine => {
                        self.readable = true;
                        continue;
                    }
                    "closed" if mine => {
                        if self.state == SocketState::Open {
                            self.state = SocketState::PeerClosed;
                        }
                        continue;
                    }
                    // reference §2.6: all sockets on a lost context are dead.
                    "pdpdeact" if q.context_id == Some(self.context_id) && self.state == SocketState::Open => {
                        self.state = SocketState::PeerClosed;
                    }
                    _ => {}
                }
            }
            if self.other.push_back(urc).is_err() {
                self.stats.other_dropped = self.stats.other_dropped.saturating_add(1);
            }
        }
    }

    /// `AT+QIACT?`.
    pub(crate) const PDP_QUERY: &'static [u8] = b"AT+QIACT?";

    /// Reads the reply of [`Core::PDP_QUERY`]: whether this socket's context is active.
    pub(crate) fn pdp_reply<E>(&self, reply: &Reply<LINE>) -> Result<bool, Error<E>> {
        if reply.lines == 0 {
            return Ok(false);
        }
        let start = after_prefix(&reply.line, b"+QIACT").ok_or(Error::Malformed)?;
        let mut fields = Fields::new(&reply.line, start);
        let mut next = || fields.next().and_then(|f| f.ok()).and_then(|f| f.dec("+QIACT").ok());
        Ok(next() == Some(u32::from(self.context_id)) && next() == Some(1))
    }

    /// `AT+QIACT=<ctx>`.
    pub(crate) fn attach_command<E>(&self) -> Result<Text, Error<E>> {
        let mut line = Line::new("AT+QIACT=");
        line.num(i64::from(self.context_id));
        finish(&line, "context_id")
    }

    /// `AT+QIOPEN=<ctx>,<id>,"TCP","<host>",<port>,0,0`.
    pub(crate) fn open_command<E>(&self, host: &str, port: u16) -> Result<Text, Error<E>> {
        let mut line = Line::new("AT+QIOPEN=");
        line.num(i64::from(self.context_id)).raw(b",").num(i64::from(self.connect_id)).raw(b",\"TCP\",");
        line.quoted(host.as_bytes(), "host").map_err(|_| Error::Unsendable)?;
        line.raw(b",").num(i64::from(port)).raw(b",0,0");
        finish(&line, "host")
    }

    /// Reads `+QIOPEN: <id>,<err>`; the socket is open when `<err>` is 0.
    pub(crate) fn open_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        let (f, n) = result_fields::<2>(&reply.result, "+QIOPEN").map_err(|_| Error::Malformed)?;
        if n != 2 || f[0] != i32::from(self.connect_id) {
            return Err(Error::Malformed);
        }
        if f[1] != 0 {
            return Err(Error::Open(u16::try_from(f[1]).unwrap_or(u16::MAX)));
        }
        self.state = SocketState::Open;
        self.readable = false;
        Ok(())
    }

    /// The pieces `data` is sent in (at most [`SEND_MAX`] bytes each), or [`Error::NotOpen`]
    /// unless the socket is open.
    pub(crate) fn send_pieces<'d, E>(&self, data: &'d [u8]) -> Result<core::slice::Chunks<'d, u8>, Error<E>> {
        if self.state != SocketState::Open {
            return Err(Error::NotOpen);
        }
        Ok(data.chunks(SEND_MAX))
    }

    /// `AT+QISEND=<id>,<len>` for `piece`.
    pub(crate) fn send_command<E>(&self, piece: &[u8]) -> Result<Text, Error<E>> {
        let mut line = Line::new("AT+QISEND=");
        line.num(i64::from(self.connect_id)).raw(b",").num(i64::try_from(piece.len()).unwrap_or(i64::MAX));
        finish(&line, "len")
    }

    /// Reads the outcome of [`Core::send_command`] for a piece of `len` bytes: `SEND OK`
    /// counts the bytes, `SEND FAIL` is [`Error::SendFailed`].
    pub(crate) fn send_reply<E>(&mut self, outcome: Result<Reply<LINE>, Error<E>>, len: usize) -> Result<(), Error<E>> {
        match outcome {
            Ok(_) => {
                self.stats.sent = self.stats.sent.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
                Ok(())
            }
            Err(Error::Modem(crate::blocking::Error::Command(CommandError::Failed("SEND FAIL")))) => {
                self.stats.send_failures = self.stats.send_failures.saturating_add(1);
                Err(Error::SendFailed)
            }
            Err(e) => Err(e),
        }
    }

    /// `AT+QIRD=<id>,<n>` for a buffer of `capacity` bytes, with `n`; `None` when nothing can be
    /// asked for (an empty buffer). [`Error::NotOpen`] when the host closed the socket.
    pub(crate) fn receive_command<E>(&self, capacity: usize) -> Result<Option<(Text, usize)>, Error<E>> {
        if self.state == SocketState::Closed {
            return Err(Error::NotOpen);
        }
        let want = capacity.min(READ_MAX);
        if want == 0 {
            return Ok(None);
        }
        let mut line = Line::new("AT+QIRD=");
        line.num(i64::from(self.connect_id)).raw(b",").num(i64::try_from(want).unwrap_or(0));
        Ok(Some((finish(&line, "len")?, want)))
    }

    /// Reads `+QIRD: <m>` and its `m` bytes (asked for `want`) into `buf`; returns `m`.
    pub(crate) fn receive_reply<E>(
        &mut self,
        reply: &Reply<LINE>,
        want: usize,
        buf: &mut [u8],
    ) -> Result<usize, Error<E>> {
        let (f, n) = result_fields::<3>(&reply.line, "+QIRD").map_err(|_| Error::Malformed)?;
        let len = usize::try_from(f[0]).map_err(|_| Error::Malformed)?;
        if n != 1 || len != reply.data.len() || len > want {
            return Err(Error::Malformed);
        }
        let out = buf.get_mut(..len).ok_or(Error::Malformed)?;
        out.copy_from_slice(&reply.data);
        if len == 0 {
            self.readable = false;
        }
        self.stats.received = self.stats.received.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
        Ok(len)
    }

    /// `AT+QICLOSE=<id>`.
    pub(crate) fn close_command<E>(&self) -> Result<Text, Error<E>> {
        let mut line = Line::new("AT+QICLOSE=");
        line.num(i64::from(self.connect_id));
        finish(&line, "connect_id")
    }

    /// The module answered [`Core::close_command`].
    pub(crate) fn closed(&mut self) {
        self.state = SocketState::Closed;
        self.readable = false;
    }
}

/// A TCP client socket over a Quectel module. `U` is the UART, `D` the delay, `C` the clock.
#[derive(Debug)]
pub struct QuectelSocket<U, D, C> {
    modem: Modem<U, D, C>,
    core: Core,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> QuectelSocket<U, D, C> {
    /// A closed socket with connection id `connect_id` (0..=11) on PDP context `context_id`
    /// (1..=16) of a module that has been brought up.
    pub fn new(modem: Modem<U, D, C>, context_id: u8, connect_id: u8) -> Self {
        Self { modem, core: Core::new(context_id, connect_id) }
    }

    /// The driver, for other commands.
    pub fn modem_mut(&mut self) -> &mut Modem<U, D, C> {
        &mut self.modem
    }

    /// Gives the driver back.
    pub fn into_inner(self) -> Modem<U, D, C> {
        self.modem
    }

    /// The socket's state as last seen (call [`QuectelSocket::poll`] to read new URCs).
    pub fn state(&self) -> SocketState {
        self.core.state
    }

    /// Whether a `+QIURC: "recv"` announced data that has not been read empty yet.
    pub fn readable(&self) -> bool {
        self.core.readable
    }

    /// The counters.
    pub fn stats(&self) -> SocketStats {
        self.core.stats
    }

    /// The next URC that is not for this socket (`+CEREG`, `+QMTRECV`, ...).
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.core.other.pop_front()
    }

    /// Reads what the UART has and sorts the queued URCs: `recv` and `closed` for this socket
    /// (and `pdpdeact` for its context) change its state, the rest is kept for
    /// [`QuectelSocket::pop_urc`].
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the UART fails.
    pub fn poll(&mut self) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        while self.modem.poll_chunk()? {
            self.core.absorb(&mut self.modem);
        }
        Ok(())
    }

    fn run(&mut self, text: &[u8], data: Option<&[u8]>) -> Result<Reply<LINE>, Error<U::Error>> {
        let result = self.modem.execute(&Command::new(text), data.map(|d| (d, None)));
        self.core.absorb(&mut self.modem);
        Ok(result?)
    }

    /// Whether PDP context `context_id` is active (`AT+QIACT?`, reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    pub fn pdp_active(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(Core::PDP_QUERY, None)?;
        self.core.pdp_reply(&reply)
    }

    /// Activates the PDP context unless it is active (`AT+QIACT=<ctx>`, up to 150 s, reference
    /// §2.6, §2.13). The APN is configured beforehand (`AT+QICSGP`, or
    /// [`crate::mqtt::quectel::QuectelMqtt::attach`]).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when a command fails (`ERROR` from `AT+QIACT` when the network refuses).
    pub fn attach(&mut self) -> Result<(), Error<U::Error>> {
        if self.pdp_active()? {
            return Ok(());
        }
        let text = self.core.attach_command()?;
        self.run(&text, None).map(|_| ())
    }

    /// Opens a TCP connection to `host:port` in buffer access mode (reference §2.7, vector
    /// `qi-008`): `OK`, then `+QIOPEN: <id>,<err>` within 150 s.
    ///
    /// # Errors
    ///
    /// [`Error::Open`] with the module's `<err>`, [`Error::Unsendable`] for a host with a quote
    /// or control character, [`Error::Modem`] when the command fails or times out.
    pub fn open(&mut self, host: &str, port: u16) -> Result<(), Error<U::Error>> {
        let text = self.core.open_command(host, port)?;
        let reply = self.run(&text, None)?;
        self.core.open_reply(&reply)
    }

    /// Sends `data` in pieces of at most [`SEND_MAX`] bytes (reference §6.2) with
    /// `AT+QISEND=<id>,<len>`: the bytes follow the `>` prompt unchanged, then the module
    /// answers `SEND OK` (reference §1.8, §2.7).
    ///
    /// Sending nothing sends no command. When a piece fails, the pieces before it were sent.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] unless the socket is open, [`Error::SendFailed`] for `SEND FAIL`,
    /// [`Error::Modem`] for `ERROR` (not connected) or a timeout.
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        for piece in self.core.send_pieces(data)? {
            let text = self.core.send_command(piece)?;
            let outcome = self.run(&text, Some(piece));
            self.core.send_reply(outcome, piece.len())?;
        }
        Ok(())
    }

    /// Reads what the module holds for the socket into `buf` with `AT+QIRD=<id>,<n>` (at most
    /// [`READ_MAX`] bytes per call) and returns how many bytes were read; 0 means the buffer is
    /// empty (`+QIRD: 0`, vector `qi-003`). Data the module received before the peer closed
    /// can still be read.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] when the socket was closed by the host, [`Error::Malformed`] for a bad
    /// header, [`Error::Modem`] when the command fails.
    pub fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        let Some((text, want)) = self.core.receive_command(buf.len())? else {
            return Ok(0);
        };
        let reply = self.run(&text, None)?;
        self.core.receive_reply(&reply, want, buf)
    }

    /// Closes the socket (`AT+QICLOSE=<id>`, up to 10 s, reference §2.7); needed after a peer
    /// close too, to free the connection id.
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the command fails.
    pub fn close(&mut self) -> Result<(), Error<U::Error>> {
        let text = self.core.close_command()?;
        self.run(&text, None)?;
        self.core.closed();
        Ok(())
    }
}
