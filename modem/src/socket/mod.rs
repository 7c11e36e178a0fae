//! TCP client sockets through a cellular module's own TCP/IP stack, on top of the blocking
//! driver [`crate::blocking::Modem`] and (feature `async`, module `socket::asynch`) the async
//! driver `crate::asynch::Modem`.
//!
//! - [`quectel::QuectelSocket`]: Quectel `QI*` in buffer access mode (reference §2.7):
//!   `AT+QIACT` attach, `AT+QIOPEN` with its `+QIOPEN: <id>,<err>` result, `AT+QISEND` through
//!   the `>` prompt with an exact length (`SEND OK`/`SEND FAIL`), `+QIURC: "recv"` then
//!   `AT+QIRD` until `+QIRD: 0` (the payload is counted, so it may hold anything, §1.9),
//!   `AT+QICLOSE`, and the peer's `+QIURC: "closed"`.
//!
//! - [`simcom::SimcomSocket`]: SIMCom SIM7600/A76xx `CIP*` with manual receive (§2.8):
//!   `AT+CIPRXGET=1`, `AT+NETOPEN`, `AT+CIPOPEN`, `AT+CIPSEND` with `+CIPSEND: <l>,<r>,<c>`,
//!   `+CIPRXGET: 1,<l>` then `AT+CIPRXGET=2,<l>,<n>`, `AT+CIPCLOSE`, `+IPCLOSE`.
//!
//! Each dialect keeps everything that is not I/O in a sans-io core (command lines, result and
//! read-header parsers, URC sorting into the socket state, counters, the queue of other URCs),
//! shared by the blocking socket and its async twin, which only send and await.

#[cfg(feature = "async")]
pub mod asynch;
pub mod quectel;
pub mod simcom;

use crate::blocking;
use crate::mqtt::{COMMAND_MAX, Line};

/// A finished command line, as a core builds it for a shell to send.
pub(crate) type Text = heapless::Vec<u8, COMMAND_MAX>;

/// The finished `line`, or [`Error::Unsendable`] when it overflowed.
pub(crate) fn finish<E>(line: &Line, field: &'static str) -> Result<Text, Error<E>> {
    let line = line.finish(field).map_err(|_| Error::Unsendable)?;
    heapless::Vec::from_slice(line).map_err(|_| Error::Unsendable)
}

/// Where a socket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocketState {
    /// Not opened, or closed by the host.
    Closed,
    /// Connected.
    Open,
    /// The peer or the network closed the connection (`+QIURC: "closed"`); data the module
    /// already received can still be read, then the host must close the socket to free its id.
    PeerClosed,
}

/// Errors of a socket. `E` is the UART's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The driver failed: UART, timeout, `+CME ERROR`, `ERROR`, a reply that did not parse.
    Modem(blocking::Error<E>),
    /// The connection was refused: the `<err>` of `+QIOPEN: <id>,<err>` (reference §2.7: 563
    /// socket identity used, 565 DNS parse failed, 566 connect failed, ...).
    Open(u16),
    /// The module could not send (`SEND FAIL`: the peer's window or the module's buffer is full,
    /// reference §2.7); the socket stays open and the data may be sent again later.
    SendFailed,
    /// The socket is not open (never opened, closed, or closed by the peer).
    NotOpen,
    /// The host name holds a quote or a control character, or makes the command too long.
    Unsendable,
    /// An open result or read header did not have the shape of its table.
    Malformed,
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Modem(e) => write!(f, "modem: {e}"),
            Self::Open(code) => write!(f, "socket open failed with error {code}"),
            Self::SendFailed => f.write_str("SEND FAIL"),
            Self::NotOpen => f.write_str("the socket is not open"),
            Self::Unsendable => f.write_str("the host cannot be written into an AT command"),
            Self::Malformed => f.write_str("malformed result"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Error<E> {}

impl<E> From<blocking::Error<E>> for Error<E> {
    fn from(e: blocking::Error<E>) -> Self {
        Self::Modem(e)
    }
}
