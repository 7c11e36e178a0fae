//! MQTT through a cellular module's built-in client (reference §2.9 Quectel `QMT*`, §2.10
//! SIMCom `CMQTT*`), on top of the blocking driver [`crate::blocking::Modem`].
//!
//! Both clients implement [`crate::Uplink`], so an edge daemon does not care which module is
//! fitted:
//!
//! - [`quectel::QuectelMqtt`]: PDP attach (`AT+QICSGP`, `AT+QIACT`, §2.6), `AT+QMTCFG`,
//!   `AT+QMTOPEN`/`AT+QMTCONN` with their result tables as typed errors, `AT+QMTPUBEX` with the
//!   `>` prompt and the exact payload length, `AT+QMTSUB`, push-mode `+QMTRECV` with the payload
//!   length (so payloads may hold quotes, commas, CR LF, NUL), `+QMTSTAT` closing the session.
//! - [`simcom::SimcomMqtt`]: `AT+CMQTTSTART`/`ACCQ`/`CONNECT`, topic and payload through their
//!   prompts, `AT+CMQTTPUB`, `AT+CMQTTSUB`, the multi-line length-prefixed `+CMQTTRX*` receive
//!   URCs, `+CMQTTCONNLOST`.
//!
//! With feature `async`, `mqtt::asynch` has both clients over the async shell, each sharing its
//! sans-io core (command lines, parsers, URC handling, inbox, state) with the blocking one.
//!
//! Payloads are always written through a data prompt with an explicit length, never inline in a
//! quoted parameter (reference §6.2 "MQTT on-module").

#[cfg(feature = "async")]
pub mod asynch;
pub mod quectel;
pub mod simcom;

use crate::blocking;
use crate::error::ParseError;
use heapless::Vec;

/// The longest AT command line the clients build. An echoed line must fit the driver's line
/// buffer ([`blocking::LINE`]) or it would be taken for an over-long reply.
pub const COMMAND_MAX: usize = blocking::LINE - 8;

/// The CONNACK return code of a refused connection (MQTT 3.1.1 §3.2.2.3; Quectel `+QMTCONN`
/// `<ret_code>`, reference §2.9 item 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnackCode {
    /// 0: connection accepted.
    Accepted,
    /// 1: unacceptable protocol version.
    BadProtocol,
    /// 2: identifier rejected.
    IdentifierRejected,
    /// 3: server unavailable.
    ServerUnavailable,
    /// 4: bad user name or password.
    BadCredentials,
    /// 5: not authorised.
    NotAuthorised,
    /// Any other value.
    Unknown(u8),
}

impl ConnackCode {
    /// The code for a wire value.
    pub fn from_u8(code: u8) -> Self {
        match code {
            0 => Self::Accepted,
            1 => Self::BadProtocol,
            2 => Self::IdentifierRejected,
            3 => Self::ServerUnavailable,
            4 => Self::BadCredentials,
            5 => Self::NotAuthorised,
            other => Self::Unknown(other),
        }
    }

    /// The wire value.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::Accepted => 0,
            Self::BadProtocol => 1,
            Self::IdentifierRejected => 2,
            Self::ServerUnavailable => 3,
            Self::BadCredentials => 4,
            Self::NotAuthorised => 5,
            Self::Unknown(other) => other,
        }
    }
}

/// `+QMTOPEN: <idx>,<result>` failures (reference §2.9 item 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpenError {
    /// −1: failed to open the network.
    Failed,
    /// 1: wrong parameter.
    WrongParameter,
    /// 2: MQTT identifier occupied (the client index is already open).
    IdentifierOccupied,
    /// 3: PDP activation failed.
    PdpActivationFailed,
    /// 4: domain name parse failed.
    DomainNameFailed,
    /// 5: network disconnected.
    NetworkDisconnected,
    /// Any other value.
    Unknown(i32),
}

impl OpenError {
    /// The error for a non-zero result.
    pub fn from_result(result: i32) -> Self {
        match result {
            -1 => Self::Failed,
            1 => Self::WrongParameter,
            2 => Self::IdentifierOccupied,
            3 => Self::PdpActivationFailed,
            4 => Self::DomainNameFailed,
            5 => Self::NetworkDisconnected,
            other => Self::Unknown(other),
        }
    }
}

/// Why a connect, publish or subscribe packet was not acknowledged (Quectel `<result>` 1 and 2,
/// reference §2.9 items 3-5; SIMCom `<err>` codes, §2.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PacketError {
    /// Quectel result 1: the packet is being retransmitted (reported only with the timeout
    /// notice on); not acknowledged yet.
    Retransmitting,
    /// Quectel result 2: sending the packet failed.
    SendFailed,
    /// The broker refused the connection (CONNACK return code).
    Refused(ConnackCode),
    /// The broker refused the subscription (SUBACK 0x80).
    SubscriptionRefused,
    /// A SIMCom `<err>` code (reference §2.10: 1 failed, 2 bad UTF-8, 3 socket connect failed,
    /// 19 client busy, 20 require connection failed, ...).
    Vendor(u16),
    /// Any other Quectel result value.
    Unknown(i32),
}

/// Errors of the MQTT clients. `E` is the UART's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The driver failed: UART, timeout, `+CME ERROR`, `ERROR`, a reply that did not parse.
    Modem(blocking::Error<E>),
    /// `AT+QMTOPEN` failed.
    Open(OpenError),
    /// `AT+QMTCONN` / `AT+CMQTTCONNECT` failed.
    Connect(PacketError),
    /// The publish was not acknowledged.
    Publish(PacketError),
    /// The subscription failed.
    Subscribe(PacketError),
    /// Another command's asynchronous result failed (`+QMTDISC`, `+CMQTTSTART`, ...).
    Command {
        /// The command, e.g. `"+QMTCLOSE"`.
        command: &'static str,
        /// Its result code.
        code: i32,
    },
    /// No session: not connected yet, or closed by the module (`+QMTSTAT`, `+CMQTTCONNLOST`,
    /// a module restart); `status` is the last reported status code, if any.
    NotConnected {
        /// `+QMTSTAT <err_code>` or `+CMQTTCONNLOST <cause>`.
        status: Option<u8>,
    },
    /// A topic, client id or will message cannot be written into a command: it holds a `"`, a
    /// control character, or makes the line longer than [`COMMAND_MAX`].
    Unsendable {
        /// Which parameter.
        field: &'static str,
    },
    /// A message or result line did not have the shape of its table.
    Malformed(ParseError),
    /// The result named another packet (a result that arrived after its command timed out).
    Mismatched {
        /// The packet id expected.
        expected: u16,
        /// The packet id in the result.
        found: u16,
    },
    /// The received message does not fit the caller's buffer; it stays queued.
    BufferTooSmall {
        /// Bytes needed (topic and payload).
        needed: usize,
    },
}

impl<E: core::fmt::Debug> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Modem(e) => write!(f, "modem: {e}"),
            Self::Open(e) => write!(f, "MQTT open failed: {e:?}"),
            Self::Connect(e) => write!(f, "MQTT connect failed: {e:?}"),
            Self::Publish(e) => write!(f, "MQTT publish failed: {e:?}"),
            Self::Subscribe(e) => write!(f, "MQTT subscribe failed: {e:?}"),
            Self::Command { command, code } => write!(f, "{command} result {code}"),
            Self::NotConnected { status } => write!(f, "no MQTT session (last status {status:?})"),
            Self::Unsendable { field } => write!(f, "<{field}> cannot be written into an AT command"),
            Self::Malformed(e) => write!(f, "malformed result: {e}"),
            Self::Mismatched { expected, found } => write!(f, "result for packet {found}, expected {expected}"),
            Self::BufferTooSmall { needed } => write!(f, "message needs {needed} bytes"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for Error<E> {}

impl<E> From<blocking::Error<E>> for Error<E> {
    fn from(e: blocking::Error<E>) -> Self {
        Self::Modem(e)
    }
}

impl<E> From<ParseError> for Error<E> {
    fn from(e: ParseError) -> Self {
        Self::Malformed(e)
    }
}

/// Counters kept by a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MqttStats {
    /// Messages received and queued.
    pub received: u32,
    /// Messages (or, for SIMCom, parts of messages) lost: the driver's URC queue overflowed, a
    /// message was longer than a line, or the inbox was full.
    pub lost: u32,
    /// Asynchronous results that arrived after their command had timed out (drained, never
    /// given to the next command).
    pub late_results: u32,
    /// Sessions closed by the module (`+QMTSTAT`, `+CMQTTCONNLOST`, restart).
    pub closed: u32,
    /// Other URCs dropped because the client's queue for them was full.
    pub other_dropped: u32,
}

/// An AT command line under construction, bounded by [`COMMAND_MAX`].
#[derive(Debug, Default)]
pub(crate) struct Line {
    buf: Vec<u8, COMMAND_MAX>,
    full: bool,
}

impl Line {
    pub(crate) fn new(head: &str) -> Self {
        let mut line = Self::default();
        line.raw(head.as_bytes());
        line
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        if self.buf.extend_from_slice(bytes).is_err() {
            self.full = true;
        }
        self
    }

    pub(crate) fn num(&mut self, n: i64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        if n < 0 {
            self.raw(b"-");
        }
        self.raw(digits.get(i..).unwrap_or(&[]))
    }

    /// Appends `"text"`, refusing text that a module could not read back as one string
    /// (reference §1.5: firmware does not escape quotes).
    pub(crate) fn quoted(&mut self, text: &[u8], field: &'static str) -> Result<&mut Self, &'static str> {
        if text.iter().any(|&b| b == b'"' || b < 0x20 || b == 0x7f) {
            return Err(field);
        }
        self.raw(b"\"").raw(text).raw(b"\"");
        Ok(self)
    }

    pub(crate) fn finish(&self, field: &'static str) -> Result<&[u8], &'static str> {
        if self.full { Err(field) } else { Ok(&self.buf) }
    }
}

/// One command line a client sends, with its deadline when it is not the default of
/// [`crate::command::Command::new`] (sans-io: built by a client's core, sent by its shell).
#[derive(Debug, Clone, Default)]
pub(crate) struct Cmd {
    pub(crate) text: Vec<u8, COMMAND_MAX>,
    pub(crate) timeout_ms: Option<u32>,
}

impl Cmd {
    /// The finished `line`, or [`Error::Unsendable`] naming `field` when it overflowed.
    pub(crate) fn of<E>(line: &Line, field: &'static str) -> Result<Self, Error<E>> {
        let text = line.finish(field).map_err(|field| Error::Unsendable { field })?;
        Ok(Self { text: Vec::from_slice(text).unwrap_or_default(), timeout_ms: None })
    }

    /// A constant command line such as `AT+QIACT?`.
    pub(crate) fn fixed(text: &[u8]) -> Self {
        Self { text: Vec::from_slice(text).unwrap_or_default(), timeout_ms: None }
    }

    /// The same line with its own deadline.
    pub(crate) fn with_timeout(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }
}

/// The driver's URC queue as a client's core sees it: the same for the blocking and the async
/// shell (no I/O, only the engine's queue).
pub(crate) trait UrcSource {
    /// URCs lost since the last call.
    fn take_lost(&mut self) -> u32;
    /// The next queued URC, without taking it.
    fn peek_urc(&self) -> Option<&crate::router::Urc<{ blocking::LINE }>>;
    /// The next queued URC.
    fn pop_urc(&mut self) -> Option<crate::router::Urc<{ blocking::LINE }>>;
}

impl<U, D, C> UrcSource for blocking::Modem<U, D, C>
where
    U: embedded_io::Read + embedded_io::Write + embedded_io::ReadReady,
    D: embedded_hal::delay::DelayNs,
    C: blocking::Clock,
{
    fn take_lost(&mut self) -> u32 {
        blocking::Modem::take_lost(self)
    }
    fn peek_urc(&self) -> Option<&crate::router::Urc<{ blocking::LINE }>> {
        blocking::Modem::peek_urc(self)
    }
    fn pop_urc(&mut self) -> Option<crate::router::Urc<{ blocking::LINE }>> {
        blocking::Modem::pop_urc(self)
    }
}

#[cfg(feature = "async")]
impl<U, D, C> UrcSource for crate::asynch::Modem<U, D, C>
where
    U: embedded_io_async::Read + embedded_io_async::Write + embedded_io_async::ReadReady,
    D: embedded_hal_async::delay::DelayNs,
    C: blocking::Clock,
{
    fn take_lost(&mut self) -> u32 {
        crate::asynch::Modem::take_lost(self)
    }
    fn peek_urc(&self) -> Option<&crate::router::Urc<{ blocking::LINE }>> {
        crate::asynch::Modem::peek_urc(self)
    }
    fn pop_urc(&mut self) -> Option<crate::router::Urc<{ blocking::LINE }>> {
        crate::asynch::Modem::pop_urc(self)
    }
}

/// Parses the numeric fields of an asynchronous result line such as `+QMTCONN: 0,0,0` (after
/// its prefix): up to `M` signed decimal numbers.
pub(crate) fn result_fields<const M: usize>(
    line: &[u8],
    prefix: &'static str,
) -> Result<([i32; M], usize), ParseError> {
    let start = crate::params::after_prefix(line, prefix.as_bytes()).ok_or(ParseError::Prefix { expected: prefix })?;
    let mut out = [0i32; M];
    let mut n = 0;
    for field in crate::params::Fields::new(line, start) {
        let field = field?;
        let text = crate::params::trim(field.text());
        let (negative, digits) = match text {
            [b'-', rest @ ..] => (true, rest),
            _ => (false, text),
        };
        let value = crate::params::parse_dec(digits)
            .and_then(|v| i32::try_from(v).ok())
            .ok_or(ParseError::Invalid { field: prefix, offset: field.offset() })?;
        let slot = out.get_mut(n).ok_or(ParseError::Arity { found: n + 1 })?;
        *slot = if negative { -value } else { value };
        n += 1;
    }
    Ok((out, n))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn line_builder_refuses_quotes_and_overflow() {
        let mut line = Line::new("AT+QMTSUB=");
        line.num(0).raw(b",").num(-1).raw(b",");
        line.quoted(b"a/b", "topic").unwrap();
        assert_eq!(line.finish("topic").unwrap(), b"AT+QMTSUB=0,-1,\"a/b\"");
        assert_eq!(Line::new("X").quoted(b"a\"b", "topic").err(), Some("topic"));
        assert_eq!(Line::new("X").quoted(b"a\r\nb", "topic").err(), Some("topic"));
        let mut long = Line::new("X");
        long.raw(&[b'a'; COMMAND_MAX]);
        assert_eq!(long.finish("topic").err(), Some("topic"));
    }

    #[test]
    fn result_fields_read_negative_numbers() {
        // reference §2.9 item 2: `+QMTOPEN: <idx>,-1` is a failure.
        assert_eq!(result_fields::<3>(b"+QMTOPEN: 0,-1", "+QMTOPEN").unwrap(), ([0, -1, 0], 2));
        assert_eq!(result_fields::<3>(b"+QMTCONN: 0,0,5", "+QMTCONN").unwrap(), ([0, 0, 5], 3));
        assert!(result_fields::<2>(b"+QMTCONN: 0,0,5", "+QMTCONN").is_err());
        assert!(result_fields::<2>(b"+QMTCONN: 0,x", "+QMTCONN").is_err());
        assert!(result_fields::<2>(b"+QMTOPEN: 0,0", "+QMTCONN").is_err());
    }

    #[test]
    fn connack_codes_round_trip() {
        for n in 0..=255u8 {
            assert_eq!(ConnackCode::from_u8(n).to_u8(), n);
        }
        assert_eq!(ConnackCode::from_u8(4), ConnackCode::BadCredentials);
        assert_eq!(OpenError::from_result(-1), OpenError::Failed);
        assert_eq!(OpenError::from_result(9), OpenError::Unknown(9));
    }
}
