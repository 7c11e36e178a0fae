//! A SIMCom SIM7600/A76xx TCP client socket with manual receive (`CIP*`, reference §2.8), with
//! the network opened by `AT+NETOPEN` (§2.6).
//!
//! ```text
//! AT+CIPRXGET=1                                  → OK (manual receive)
//! AT+NETOPEN?                                    → +NETOPEN: <0|1>; AT+NETOPEN → OK, +NETOPEN: 0
//! AT+CIPOPEN=<link>,"TCP","<host>",<port>        → OK, then +CIPOPEN: <link>,<err>
//! AT+CIPSEND=<link>,<len>                        → > <len bytes> → OK, +CIPSEND: <link>,<req>,<cnf>
//! +CIPRXGET: 1,<link>                            (data waits in the module)
//! AT+CIPRXGET=2,<link>,<n>                       → +CIPRXGET: 2,<link>,<read>,<rest> <read bytes> OK
//! +IPCLOSE: <link>,<reason>                      (closed by the peer or the network)
//! AT+CIPCLOSE=<link>                             → OK, +CIPCLOSE: <link>,<err>
//! ```

use super::{Error, SocketState, Text, finish};
use crate::blocking::{Clock, LINE, Modem};
use crate::command::Command;
use crate::engine::Reply;
use crate::mqtt::{Line, UrcSource, result_fields};
use crate::router::Urc;
use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use heapless::Deque;

pub use super::quectel::{OTHER_URCS, READ_MAX, SEND_MAX, SocketStats};

/// Everything of the SIMCom socket that is not I/O (sans-io): the link, the state, the counters,
/// the other URCs, the command lines and the parsers of their replies. The blocking
/// [`SimcomSocket`] and the async `socket::asynch::SimcomSocket` only send what it builds and
/// hand back what the module answered.
#[derive(Debug)]
pub(crate) struct Core {
    link: u8,
    pub(crate) state: SocketState,
    pub(crate) readable: bool,
    pub(crate) stats: SocketStats,
    pub(crate) other: Deque<Urc<LINE>, OTHER_URCS>,
}

impl Core {
    pub(crate) fn new(link: u8) -> Self {
        Self { link, state: SocketState::Closed, readable: false, stats: SocketStats::default(), other: Deque::new() }
    }

    /// Sorts the driver's queued URCs: `+CIPRXGET: 1,<link>` and `+IPCLOSE: <link>,...` for this
    /// socket change its state, the rest is kept for `pop_urc`.
    pub(crate) fn absorb(&mut self, src: &mut impl UrcSource) {
        let link = i32::from(self.link);
        while let Some(urc) = src.pop_urc() {
            if let Ok((f, n)) = result_fields::<2>(&urc.line, "+CIPRXGET")
                && n == 2
                && f == [1, link]
            {
                self.readable = true;
                continue;
            }
            if let Ok((f, n)) = result_fields::<2>(&urc.line, "+IPCLOSE")
                && n >= 1
                && f[0] == link
            {
                if self.state == SocketState::Open {
                    self.state = SocketState::PeerClosed;
                }
                continue;
            }
            // reference §2.6: the network closed, every link is dead.
            if urc.line.starts_with(b"+CIPEVENT: NETWORK CLOSED") && self.state == SocketState::Open {
                self.state = SocketState::PeerClosed;
            }
            if self.other.push_back(urc).is_err() {
                self.stats.other_dropped = self.stats.other_dropped.saturating_add(1);
            }
        }
    }

    /// `AT+CIPRXGET=1`: manual receive.
    pub(crate) const MANUAL_RECEIVE: &'static [u8] = b"AT+CIPRXGET=1";
    /// `AT+NETOPEN?`.
    pub(crate) const NET_QUERY: &'static [u8] = b"AT+NETOPEN?";
    /// `AT+NETOPEN`.
    pub(crate) const NETOPEN: &'static [u8] = b"AT+NETOPEN";

    /// Reads `+NETOPEN: <0|1>`, the reply of [`Core::NET_QUERY`]: whether the network is open.
    pub(crate) fn net_query_reply<E>(reply: &Reply<LINE>) -> Result<bool, Error<E>> {
        let (f, n) = result_fields::<1>(&reply.line, "+NETOPEN").map_err(|_| Error::Malformed)?;
        Ok(n == 1 && f[0] == 1)
    }

    /// Reads `+NETOPEN: <err>`, the result of [`Core::NETOPEN`].
    pub(crate) fn netopen_reply<E>(reply: &Reply<LINE>) -> Result<(), Error<E>> {
        let (f, n) = result_fields::<1>(&reply.result, "+NETOPEN").map_err(|_| Error::Malformed)?;
        match (n, f[0]) {
            (1, 0) => Ok(()),
            (1, err) => Err(Error::Open(u16::try_from(err).unwrap_or(u16::MAX))),
            _ => Err(Error::Malformed),
        }
    }

    /// `AT+CIPOPEN=<link>,"TCP","<host>",<port>`.
    pub(crate) fn open_command<E>(&self, host: &str, port: u16) -> Result<Text, Error<E>> {
        let mut line = Line::new("AT+CIPOPEN=");
        line.num(i64::from(self.link)).raw(b",\"TCP\",");
        line.quoted(host.as_bytes(), "host").map_err(|_| Error::Unsendable)?;
        line.raw(b",").num(i64::from(port));
        finish(&line, "host")
    }

    /// Reads `+CIPOPEN: <link>,<err>`; the socket is open when `<err>` is 0.
    pub(crate) fn open_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        let (f, n) = result_fields::<2>(&reply.result, "+CIPOPEN").map_err(|_| Error::Malformed)?;
        if n != 2 || f[0] != i32::from(self.link) {
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

    /// `AT+CIPSEND=<link>,<len>` for `piece`.
    pub(crate) fn send_command<E>(&self, piece: &[u8]) -> Result<Text, Error<E>> {
        let mut line = Line::new("AT+CIPSEND=");
        line.num(i64::from(self.link)).raw(b",").num(i64::try_from(piece.len()).unwrap_or(i64::MAX));
        finish(&line, "len")
    }

    /// Reads the outcome of [`Core::send_command`] for a piece of `len` bytes:
    /// `+CIPSEND: <link>,<req>,<cnf>`.
    pub(crate) fn send_reply<E>(&mut self, outcome: Result<Reply<LINE>, Error<E>>, len: usize) -> Result<(), Error<E>> {
        let reply = outcome?;
        let (f, n) = result_fields::<3>(&reply.result, "+CIPSEND").map_err(|_| Error::Malformed)?;
        if n != 3 || f[0] != i32::from(self.link) {
            return Err(Error::Malformed);
        }
        if f[2] < 0 {
            self.state = SocketState::PeerClosed;
            return Err(Error::NotOpen);
        }
        if f[2] != f[1] || usize::try_from(f[1]).ok() != Some(len) {
            self.stats.send_failures = self.stats.send_failures.saturating_add(1);
            return Err(Error::SendFailed);
        }
        self.stats.sent = self.stats.sent.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
        Ok(())
    }

    /// `AT+CIPRXGET=2,<link>,<n>` for a buffer of `capacity` bytes, with `n`; `None` when nothing
    /// can be asked for (an empty buffer). [`Error::NotOpen`] when the host closed the socket.
    pub(crate) fn receive_command<E>(&self, capacity: usize) -> Result<Option<(Text, usize)>, Error<E>> {
        if self.state == SocketState::Closed {
            return Err(Error::NotOpen);
        }
        let want = capacity.min(READ_MAX);
        if want == 0 {
            return Ok(None);
        }
        let mut line = Line::new("AT+CIPRXGET=2,");
        line.num(i64::from(self.link)).raw(b",").num(i64::try_from(want).unwrap_or(0));
        Ok(Some((finish(&line, "len")?, want)))
    }

    /// Reads `+CIPRXGET: 2,<link>,<read>,<rest>` and its bytes (asked for `want`) into `buf`;
    /// returns `<read>`.
    pub(crate) fn receive_reply<E>(
        &mut self,
        reply: &Reply<LINE>,
        want: usize,
        buf: &mut [u8],
    ) -> Result<usize, Error<E>> {
        let (f, n) = result_fields::<4>(&reply.line, "+CIPRXGET").map_err(|_| Error::Malformed)?;
        let len = usize::try_from(f[2]).map_err(|_| Error::Malformed)?;
        if n != 4 || f[0] != 2 || f[1] != i32::from(self.link) || len != reply.data.len() || len > want {
            return Err(Error::Malformed);
        }
        let out = buf.get_mut(..len).ok_or(Error::Malformed)?;
        out.copy_from_slice(&reply.data);
        if f[3] == 0 {
            self.readable = false;
        }
        self.stats.received = self.stats.received.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
        Ok(len)
    }

    /// `AT+CIPCLOSE=<link>`.
    pub(crate) fn close_command<E>(&self) -> Result<Text, Error<E>> {
        let mut line = Line::new("AT+CIPCLOSE=");
        line.num(i64::from(self.link));
        finish(&line, "link")
    }

    /// The module answered [`Core::close_command`].
    pub(crate) fn closed(&mut self) {
        self.state = SocketState::Closed;
        self.readable = false;
    }
}

/// A TCP client socket over a SIMCom module. `U` is the UART, `D` the delay, `C` the clock.
#[derive(Debug)]
pub struct SimcomSocket<U, D, C> {
    modem: Modem<U, D, C>,
    core: Core,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> SimcomSocket<U, D, C> {
    /// A closed socket on link `link` (0..=9) of a module that has been brought up.
    pub fn new(modem: Modem<U, D, C>, link: u8) -> Self {
        Self { modem, core: Core::new(link) }
    }

    /// The driver, for other commands.
    pub fn modem_mut(&mut self) -> &mut Modem<U, D, C> {
        &mut self.modem
    }

    /// Gives the driver back.
    pub fn into_inner(self) -> Modem<U, D, C> {
        self.modem
    }

    /// The socket's state as last seen (call [`SimcomSocket::poll`] to read new URCs).
    pub fn state(&self) -> SocketState {
        self.core.state
    }

    /// Whether a `+CIPRXGET: 1,<link>` announced data that has not been read empty yet.
    pub fn readable(&self) -> bool {
        self.core.readable
    }

    /// The counters.
    pub fn stats(&self) -> SocketStats {
        self.core.stats
    }

    /// The next URC that is not for this socket.
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.core.other.pop_front()
    }

    /// Reads what the UART has and sorts the queued URCs: `+CIPRXGET: 1,<link>` and
    /// `+IPCLOSE: <link>,...` for this socket change its state, the rest is kept for
    /// [`SimcomSocket::pop_urc`].
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

    /// Selects manual receive (`AT+CIPRXGET=1`) and opens the network unless `AT+NETOPEN?`
    /// says it is open (`AT+NETOPEN`, then `+NETOPEN: <err>`, reference §2.6, §2.8).
    ///
    /// # Errors
    ///
    /// [`Error::Open`] for `+NETOPEN: <err>` ≠ 0, [`Error::Modem`] when a command fails.
    pub fn attach(&mut self) -> Result<(), Error<U::Error>> {
        self.run(Core::MANUAL_RECEIVE, None)?;
        let reply = self.run(Core::NET_QUERY, None)?;
        if Core::net_query_reply(&reply)? {
            return Ok(());
        }
        let reply = self.run(Core::NETOPEN, None)?;
        Core::netopen_reply(&reply)
    }

    /// Opens a TCP connection to `host:port` (`AT+CIPOPEN`, then `+CIPOPEN: <link>,<err>`,
    /// reference §2.8: 0 succeeded, 1 network failure, 2 network not opened, 11 DNS parse
    /// failed, ...).
    ///
    /// # Errors
    ///
    /// [`Error::Open`] with `<err>`, [`Error::Unsendable`] for a host with a quote or control
    /// character, [`Error::Modem`] when the command fails or times out.
    pub fn open(&mut self, host: &str, port: u16) -> Result<(), Error<U::Error>> {
        let text = self.core.open_command(host, port)?;
        let reply = self.run(&text, None)?;
        self.core.open_reply(&reply)
    }

    /// Sends `data` in pieces of at most [`SEND_MAX`] bytes (reference §6.2) with
    /// `AT+CIPSEND=<link>,<len>` through the `>` prompt; the module confirms each with
    /// `+CIPSEND: <link>,<req>,<cnf>` (reference §1.8, §2.8).
    ///
    /// Sending nothing sends no command. When a piece fails, the pieces before it were sent.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] unless the socket is open or when `<cnf>` is −1 (link broken; the
    /// socket becomes [`SocketState::PeerClosed`]), [`Error::SendFailed`] when fewer bytes were
    /// confirmed than requested, [`Error::Modem`] when the command fails.
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        for piece in self.core.send_pieces(data)? {
            let text = self.core.send_command(piece)?;
            let outcome = self.run(&text, Some(piece));
            self.core.send_reply(outcome, piece.len())?;
        }
        Ok(())
    }

    /// Reads what the module holds for the link into `buf` with `AT+CIPRXGET=2,<link>,<n>` (at
    /// most [`READ_MAX`] bytes per call) and returns how many bytes were read; 0 when empty.
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

    /// Closes the link (`AT+CIPCLOSE=<link>`, then `+CIPCLOSE: <link>,<err>`, reference §2.8).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the command fails; the socket counts as closed either way when
    /// the module answered.
    pub fn close(&mut self) -> Result<(), Error<U::Error>> {
        let text = self.core.close_command()?;
        self.run(&text, None)?;
        self.core.closed();
        Ok(())
    }
}
