//! The TCP client sockets on the async shell (feature `async`): the same sockets, with the same
//! method names, over [`crate::asynch::Modem`].
//!
//! Only the "send the command, await the reply" layer lives here. The command lines, the result
//! and read-header parsers, the URC sorting, the counters and the socket state are the sans-io
//! cores the blocking [`super::quectel::QuectelSocket`] and [`super::simcom::SimcomSocket`] use
//! too, so both shells send the same bytes and read the module the same way.
//!
//! # Cancel safety
//!
//! As for the driver ([`crate::asynch`]): a future dropped while its command waits leaves the
//! command pending in the driver until its deadline, then the late reply is drained. The socket
//! changes only on answers it received: an `open` dropped before `+QIOPEN`/`+CIPOPEN` leaves the
//! socket `Closed` even if the module opens the connection (a later `open` on the same id is
//! then refused; `close` frees it), a `send` dropped midway has sent the pieces before the
//! current one, and a `receive` dropped before its reply loses the bytes of that read.

use super::quectel::{Core, SocketStats};
use super::simcom::Core as SimcomCore;
use super::{Error, SocketState};
use crate::asynch::Modem;
use crate::blocking::{Clock, LINE};
use crate::command::Command;
use crate::engine::Reply;
use crate::router::Urc;
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{Read, ReadReady, Write};

/// A TCP client socket over a Quectel module (`QI*`, reference §2.7) on an async [`Modem`]
/// (brought up by the caller); see [`super::quectel::QuectelSocket`] for the commands.
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

    /// Reads what the UART has and sorts the queued URCs (as the blocking socket's `poll`).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the UART fails.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: what was read is sorted at the next call.
    pub async fn poll(&mut self) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        while self.modem.poll_chunk().await? {
            self.core.absorb(&mut self.modem);
        }
        Ok(())
    }

    async fn run(&mut self, text: &[u8], data: Option<&[u8]>) -> Result<Reply<LINE>, Error<U::Error>> {
        let result = self.modem.execute(&Command::new(text), data.map(|d| (d, None))).await;
        self.core.absorb(&mut self.modem);
        Ok(result?)
    }

    /// Whether PDP context `context_id` is active (`AT+QIACT?`, reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn pdp_active(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(Core::PDP_QUERY, None).await?;
        self.core.pdp_reply(&reply)
    }

    /// Activates the PDP context unless it is active (`AT+QIACT=<ctx>`, up to 150 s, reference
    /// §2.6, §2.13).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when a command fails (`ERROR` from `AT+QIACT` when the network refuses).
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn attach(&mut self) -> Result<(), Error<U::Error>> {
        if self.pdp_active().await? {
            return Ok(());
        }
        let text = self.core.attach_command()?;
        self.run(&text, None).await.map(|_| ())
    }

    /// Opens a TCP connection to `host:port` in buffer access mode (`AT+QIOPEN`, then
    /// `+QIOPEN: <id>,<err>` within 150 s, reference §2.7).
    ///
    /// # Errors
    ///
    /// [`Error::Open`] with the module's `<err>`, [`Error::Unsendable`] for a host with a quote
    /// or control character, [`Error::Modem`] when the command fails or times out.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn open(&mut self, host: &str, port: u16) -> Result<(), Error<U::Error>> {
        let text = self.core.open_command(host, port)?;
        let reply = self.run(&text, None).await?;
        self.core.open_reply(&reply)
    }

    /// Sends `data` in pieces of at most [`super::quectel::SEND_MAX`] bytes with
    /// `AT+QISEND=<id>,<len>` through the `>` prompt, each answered by `SEND OK` (reference §1.8,
    /// §2.7). Sending nothing sends no command.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] unless the socket is open, [`Error::SendFailed`] for `SEND FAIL`,
    /// [`Error::Modem`] for `ERROR` (not connected) or a timeout.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn send(&mut self, data: &[u8]) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        for piece in self.core.send_pieces(data)? {
            let text = self.core.send_command(piece)?;
            let outcome = self.run(&text, Some(piece)).await;
            self.core.send_reply(outcome, piece.len())?;
        }
        Ok(())
    }

    /// Reads what the module holds for the socket into `buf` with `AT+QIRD=<id>,<n>` (at most
    /// [`super::quectel::READ_MAX`] bytes per call); 0 means the buffer is empty (`+QIRD: 0`).
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] when the socket was closed by the host, [`Error::Malformed`] for a bad
    /// header, [`Error::Modem`] when the command fails.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        let Some((text, want)) = self.core.receive_command(buf.len())? else {
            return Ok(0);
        };
        let reply = self.run(&text, None).await?;
        self.core.receive_reply(&reply, want, buf)
    }

    /// Closes the socket (`AT+QICLOSE=<id>`, reference §2.7); needed after a peer close too.
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the command fails.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn close(&mut self) -> Result<(), Error<U::Error>> {
        let text = self.core.close_command()?;
        self.run(&text, None).await?;
        self.core.closed();
        Ok(())
    }
}

/// A TCP client socket over a SIMCom module (`CIP*` with manual receive, reference §2.8) on an
/// async [`Modem`] (brought up by the caller); see [`super::simcom::SimcomSocket`] for the
/// commands.
#[derive(Debug)]
pub struct SimcomSocket<U, D, C> {
    modem: Modem<U, D, C>,
    core: SimcomCore,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> SimcomSocket<U, D, C> {
    /// A closed socket on link `link` (0..=9) of a module that has been brought up.
    pub fn new(modem: Modem<U, D, C>, link: u8) -> Self {
        Self { modem, core: SimcomCore::new(link) }
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

    /// Reads what the UART has and sorts the queued URCs (as the blocking socket's `poll`).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the UART fails.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: what was read is sorted at the next call.
    pub async fn poll(&mut self) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        while self.modem.poll_chunk().await? {
            self.core.absorb(&mut self.modem);
        }
        Ok(())
    }

    async fn run(&mut self, text: &[u8], data: Option<&[u8]>) -> Result<Reply<LINE>, Error<U::Error>> {
        let result = self.modem.execute(&Command::new(text), data.map(|d| (d, None))).await;
        self.core.absorb(&mut self.modem);
        Ok(result?)
    }

    /// Selects manual receive (`AT+CIPRXGET=1`) and opens the network unless `AT+NETOPEN?` says
    /// it is open (`AT+NETOPEN`, then `+NETOPEN: <err>`, reference §2.6, §2.8).
    ///
    /// # Errors
    ///
    /// [`Error::Open`] for `+NETOPEN: <err>` ≠ 0, [`Error::Modem`] when a command fails.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn attach(&mut self) -> Result<(), Error<U::Error>> {
        self.run(SimcomCore::MANUAL_RECEIVE, None).await?;
        let reply = self.run(SimcomCore::NET_QUERY, None).await?;
        if SimcomCore::net_query_reply(&reply)? {
            return Ok(());
        }
        let reply = self.run(SimcomCore::NETOPEN, None).await?;
        SimcomCore::netopen_reply(&reply)
    }

    /// Opens a TCP connection to `host:port` (`AT+CIPOPEN`, then `+CIPOPEN: <link>,<err>`,
    /// reference §2.8).
    ///
    /// # Errors
    ///
    /// [`Error::Open`] with `<err>`, [`Error::Unsendable`] for a host with a quote or control
    /// character, [`Error::Modem`] when the command fails or times out.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn open(&mut self, host: &str, port: u16) -> Result<(), Error<U::Error>> {
        let text = self.core.open_command(host, port)?;
        let reply = self.run(&text, None).await?;
        self.core.open_reply(&reply)
    }

    /// Sends `data` in pieces of at most [`super::quectel::SEND_MAX`] bytes with
    /// `AT+CIPSEND=<link>,<len>` through the `>` prompt, each confirmed by
    /// `+CIPSEND: <link>,<req>,<cnf>` (reference §1.8, §2.8). Sending nothing sends no command.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] unless the socket is open or when `<cnf>` is −1 (link broken; the
    /// socket becomes [`SocketState::PeerClosed`]), [`Error::SendFailed`] when fewer bytes were
    /// confirmed than requested, [`Error::Modem`] when the command fails.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn send(&mut self, data: &[u8]) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        for piece in self.core.send_pieces(data)? {
            let text = self.core.send_command(piece)?;
            let outcome = self.run(&text, Some(piece)).await;
            self.core.send_reply(outcome, piece.len())?;
        }
        Ok(())
    }

    /// Reads what the module holds for the link into `buf` with `AT+CIPRXGET=2,<link>,<n>` (at
    /// most [`super::quectel::READ_MAX`] bytes per call); 0 when empty.
    ///
    /// # Errors
    ///
    /// [`Error::NotOpen`] when the socket was closed by the host, [`Error::Malformed`] for a bad
    /// header, [`Error::Modem`] when the command fails.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn receive(&mut self, buf: &mut [u8]) -> Result<usize, Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        let Some((text, want)) = self.core.receive_command(buf.len())? else {
            return Ok(0);
        };
        let reply = self.run(&text, None).await?;
        self.core.receive_reply(&reply, want, buf)
    }

    /// Closes the link (`AT+CIPCLOSE=<link>`, then `+CIPCLOSE: <link>,<err>`, reference §2.8).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the command fails.
    ///
    /// # Cancel safety
    ///
    /// See the [module documentation](self).
    pub async fn close(&mut self) -> Result<(), Error<U::Error>> {
        let text = self.core.close_command()?;
        self.run(&text, None).await?;
        self.core.closed();
        Ok(())
    }
}
