//! Quectel's built-in MQTT client (`QMT*`, reference §2.9) with PDP attach (`QICSGP`/`QIACT`,
//! §2.6), as an [`Uplink`].
//!
//! ```text
//! AT+QIACT?                                   → +QIACT: 1,1,1,"10.7.157.1" / OK (or no line)
//! AT+QICSGP=1,1,"<apn>","<user>","<pass>",<auth>, AT+QIACT=1        (when not active)
//! AT+QMTCFG="version",0,4 / "pdpcid",0,1 / "keepalive",0,<s> / "session",0,<clean>
//! AT+QMTCFG="timeout",0,<pkt_s>,<retries>,0 / "recv/mode",0,0,1 / "will",0,...
//! AT+QMTOPEN=0,"<host>",<port>                → OK, +QMTOPEN: 0,<result>
//! AT+QMTCONN=0,"<id>"[,"<user>","<pass>"]     → OK, +QMTCONN: 0,<result>[,<ret_code>]
//! AT+QMTPUBEX=0,<msgid>,<qos>,<retain>,"<topic>",<len> → > <len bytes> → OK, +QMTPUB: 0,<msgid>,<result>
//! AT+QMTSUB=0,<msgid>,"<filter>",<qos>        → OK, +QMTSUB: 0,<msgid>,<result>[,<granted>]
//! +QMTRECV: 0,<msgid>,"<topic>",<len>,"<payload>"   (push mode with <len_enable> = 1)
//! +QMTSTAT: 0,<err>                           (session closed; reopen with AT+QMTOPEN)
//! AT+QMTDISC=0 → +QMTDISC: 0,0 ; AT+QMTCLOSE=0 → +QMTCLOSE: 0,0
//! ```
//!
//! Push mode with `<len_enable>` = 1 puts the payload length before the payload, so a payload
//! may hold quotes, commas, CR LF or NUL (reference §1.5, §6.2); the framer counts it. A received
//! message must fit one driver line ([`crate::blocking::LINE`] bytes with its header).

use super::{Cmd, Error, Line, MqttStats, OpenError, PacketError, UrcSource, result_fields};
use crate::blocking::{Clock, LINE, Modem};
use crate::command::Command;
use crate::engine::Reply;
use crate::response::{Qmtrecv, parse_qmtrecv, parse_qmtstat};
use crate::router::Urc;
use crate::uplink::{LinkState, Message, QoS, Session, Uplink};
use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use heapless::{Deque, String};

/// Messages the client holds between [`Uplink::receive`] calls.
pub const INBOX: usize = 8;
/// Other URCs (not MQTT) the client keeps for the application ([`QuectelMqtt::pop_urc`]).
pub const OTHER_URCS: usize = 8;

/// Settings of the Quectel client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuectelConfig {
    /// MQTT client index, 0..=5.
    pub client_idx: u8,
    /// PDP context id the MQTT client uses (`"pdpcid"`), 1..=16.
    pub context_id: u8,
    /// APN written with `AT+QICSGP` before `AT+QIACT`; empty: keep the module's configuration.
    pub apn: String<63>,
    /// APN user name (empty: none).
    pub apn_user: String<32>,
    /// APN password (empty: none).
    pub apn_password: String<32>,
    /// APN authentication: 0 none, 1 PAP, 2 CHAP, 3 PAP or CHAP.
    pub apn_auth: u8,
    /// MQTT packet timeout in seconds (`AT+QMTCFG="timeout"`).
    pub packet_timeout_s: u8,
    /// MQTT packet retries (`AT+QMTCFG="timeout"`).
    pub retries: u8,
}

impl Default for QuectelConfig {
    /// Client 0 on context 1, the module's APN, a 5 s packet timeout with 3 retries.
    fn default() -> Self {
        Self {
            client_idx: 0,
            context_id: 1,
            apn: String::new(),
            apn_user: String::new(),
            apn_password: String::new(),
            apn_auth: 0,
            packet_timeout_s: 5,
            retries: 3,
        }
    }
}

/// Everything of the Quectel client that is not I/O (sans-io): the session state, the inbox,
/// the counters, the command lines it sends and the parsers of their results. The blocking
/// [`QuectelMqtt`] and the async `mqtt::asynch::QuectelMqtt` only send what it builds and hand
/// back what the module answered.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) config: QuectelConfig,
    next_id: u16,
    pdp: bool,
    opened: bool,
    pub(crate) connected: bool,
    pub(crate) status: Option<u8>,
    suspect: bool,
    pub(crate) inbox: Deque<Urc<LINE>, INBOX>,
    pub(crate) other: Deque<Urc<LINE>, OTHER_URCS>,
    pub(crate) stats: MqttStats,
}

/// What the client does next when asked for the link state.
pub(crate) enum LinkStep {
    /// The answer is known.
    Known(LinkState),
    /// Ask the module whether the session is alive (`AT+QMTCONN?`) first.
    AskSession,
    /// Not connected: ask the registration, then the PDP context.
    AskNetwork,
}

impl Core {
    pub(crate) fn new(config: QuectelConfig) -> Self {
        Self {
            config,
            next_id: 0,
            pdp: false,
            opened: false,
            connected: false,
            status: None,
            suspect: false,
            inbox: Deque::new(),
            other: Deque::new(),
            stats: MqttStats::default(),
        }
    }

    pub(crate) fn packet_deadline_ms(&self) -> u32 {
        let tries = u32::from(self.config.retries).saturating_add(1);
        u32::from(self.config.packet_timeout_s).saturating_mul(tries).saturating_add(5).saturating_mul(1_000)
    }

    fn next_packet_id(&mut self) -> u16 {
        self.next_id = if self.next_id == u16::MAX { 1 } else { self.next_id + 1 };
        self.next_id
    }

    /// Whether the inbox can take another message (read the UART only while it can).
    pub(crate) fn has_room(&self) -> bool {
        !self.inbox.is_full()
    }

    /// Sorts the driver's queued URCs: messages into the inbox, `+QMTSTAT` and restarts into the
    /// session state, late results counted, the rest kept for `pop_urc`.
    pub(crate) fn absorb(&mut self, src: &mut impl UrcSource) {
        let lost = src.take_lost();
        self.stats.lost = self.stats.lost.saturating_add(lost);
        if lost > 0 {
            // A lost URC may have been `+QMTSTAT`: `link_state` asks the module.
            self.suspect = true;
        }
        let idx = self.config.client_idx;
        loop {
            // A message waits in the driver's queue (in order) while the inbox is full.
            match src.peek_urc() {
                None => break,
                Some(next) if self.inbox.is_full() && next.line.starts_with(b"+QMTRECV:") => break,
                Some(_) => {}
            }
            let Some(urc) = src.pop_urc() else { break };
            let line = urc.line.as_slice();
            if line.starts_with(b"+QMTRECV:") {
                if let Ok(Qmtrecv::Message { client_idx, .. }) = parse_qmtrecv(line)
                    && client_idx == idx
                {
                    self.stats.received = self.stats.received.saturating_add(1);
                    if self.inbox.push_back(urc).is_err() {
                        self.stats.lost = self.stats.lost.saturating_add(1);
                    }
                    continue;
                }
            } else if line.starts_with(b"+QMTSTAT:") {
                if let Ok(stat) = parse_qmtstat(line)
                    && stat.client_idx == idx
                {
                    self.session_closed(Some(stat.err_code));
                    continue;
                }
            } else if [&b"+QMTPUB:"[..], b"+QMTSUB:", b"+QMTCONN:", b"+QMTOPEN:", b"+QMTDISC:", b"+QMTCLOSE:"]
                .iter()
                .any(|p| line.starts_with(p))
            {
                // Only a result whose command timed out reaches the queue (the router gives
                // a result to its pending command); it belongs to nobody now.
                self.stats.late_results = self.stats.late_results.saturating_add(1);
                continue;
            } else if matches!(line, b"RDY" | b"APP RDY") {
                // reference §2.2: a banner mid-session means the module restarted.
                self.pdp = false;
                self.session_closed(None);
            } else if let Ok(q) = crate::response::parse_qiurc(line)
                && q.event == "pdpdeact"
                && q.context_id == Some(self.config.context_id)
            {
                self.pdp = false;
                self.session_closed(None);
            }
            if self.other.push_back(urc).is_err() {
                self.stats.other_dropped = self.stats.other_dropped.saturating_add(1);
            }
        }
    }

    pub(crate) fn session_closed(&mut self, status: Option<u8>) {
        if self.connected || self.opened {
            self.stats.closed = self.stats.closed.saturating_add(1);
        }
        self.connected = false;
        self.opened = false;
        if status.is_some() {
            self.status = status;
        }
    }

    /// `AT+QIACT?`.
    pub(crate) const PDP_QUERY: &'static [u8] = b"AT+QIACT?";

    /// Reads the reply of [`Core::PDP_QUERY`].
    pub(crate) fn pdp_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<bool, Error<E>> {
        let active = if reply.lines == 0 {
            false
        } else {
            let (f, n) = result_fields_lenient(&reply.line)?;
            n >= 2 && f[0] == i32::from(self.config.context_id) && f[1] == 1
        };
        self.pdp = active;
        Ok(active)
    }

    /// `AT+QICSGP` (when an APN is configured) and `AT+QIACT=<cid>`.
    pub(crate) fn attach_commands<E>(&self) -> Result<(Option<Cmd>, Cmd), Error<E>> {
        let cid = i64::from(self.config.context_id);
        let apn = if self.config.apn.is_empty() {
            None
        } else {
            let mut line = Line::new("AT+QICSGP=");
            line.num(cid).raw(b",1,");
            line.quoted(self.config.apn.as_bytes(), "apn").map_err(unsendable)?;
            line.raw(b",");
            line.quoted(self.config.apn_user.as_bytes(), "apn_user").map_err(unsendable)?;
            line.raw(b",");
            line.quoted(self.config.apn_password.as_bytes(), "apn_password").map_err(unsendable)?;
            line.raw(b",").num(i64::from(self.config.apn_auth));
            Some(Cmd::of(&line, "apn")?)
        };
        let mut line = Line::new("AT+QIACT=");
        line.num(cid);
        Ok((apn, Cmd::of(&line, "context_id")?))
    }

    pub(crate) fn attached(&mut self) {
        self.pdp = true;
    }

    /// The `AT+QMTCFG` lines for `session`, in order.
    pub(crate) fn configure_commands<E>(&self, session: &Session<'_>) -> Result<heapless::Vec<Cmd, 7>, Error<E>> {
        let idx = i64::from(self.config.client_idx);
        let cid = i64::from(self.config.context_id);
        let (timeout, retries) = (i64::from(self.config.packet_timeout_s), i64::from(self.config.retries));
        let mut out = heapless::Vec::new();
        let mut cfg = |build: &dyn Fn(&mut Line) -> Result<(), &'static str>| -> Result<(), Error<E>> {
            let mut line = Line::new("AT+QMTCFG=");
            build(&mut line).map_err(unsendable)?;
            out.push(Cmd::of(&line, "qmtcfg")?).map_err(|_| unsendable("qmtcfg"))
        };
        // reference §2.9 item 1: 4 = MQTT 3.1.1.
        cfg(&|l| {
            l.raw(b"\"version\",").num(idx).raw(b",4");
            Ok(())
        })?;
        cfg(&|l| {
            l.raw(b"\"pdpcid\",").num(idx).raw(b",").num(cid);
            Ok(())
        })?;
        cfg(&|l| {
            l.raw(b"\"keepalive\",").num(idx).raw(b",").num(i64::from(session.keepalive_s));
            Ok(())
        })?;
        cfg(&|l| {
            l.raw(b"\"session\",").num(idx).raw(b",").num(i64::from(session.clean_session));
            Ok(())
        })?;
        // Timeout notice off: one result per packet.
        cfg(&|l| {
            l.raw(b"\"timeout\",").num(idx).raw(b",").num(timeout).raw(b",").num(retries).raw(b",0");
            Ok(())
        })?;
        // Push mode (0) with the payload length (<len_enable> = 1).
        cfg(&|l| {
            l.raw(b"\"recv/mode\",").num(idx).raw(b",0,1");
            Ok(())
        })?;
        match session.will {
            Some(will) => cfg(&|l| {
                l.raw(b"\"will\",").num(idx).raw(b",1,").num(i64::from(will.qos.number()));
                l.raw(b",").num(i64::from(will.retain)).raw(b",");
                l.quoted(will.topic.as_bytes(), "will_topic")?.raw(b",");
                l.quoted(will.payload, "will_msg")?;
                Ok(())
            })?,
            None => cfg(&|l| {
                l.raw(b"\"will\",").num(idx).raw(b",0");
                Ok(())
            })?,
        }
        Ok(out)
    }

    /// `AT+QMTOPEN=<idx>,"<host>",<port>`.
    pub(crate) fn open_command<E>(&self, host: &str, port: u16) -> Result<Cmd, Error<E>> {
        let mut line = Line::new("AT+QMTOPEN=");
        line.num(i64::from(self.config.client_idx)).raw(b",");
        line.quoted(host.as_bytes(), "host").map_err(unsendable)?;
        line.raw(b",").num(i64::from(port));
        Cmd::of(&line, "host")
    }

    /// Reads `+QMTOPEN: <idx>,<result>`.
    pub(crate) fn open_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        let (f, n) = result_fields::<2>(&reply.result, "+QMTOPEN")?;
        if n < 2 {
            return Err(Error::Malformed(crate::error::ParseError::Arity { found: n }));
        }
        match f[1] {
            0 => {
                self.opened = true;
                Ok(())
            }
            r => Err(Error::Open(OpenError::from_result(r))),
        }
    }

    /// `AT+QMTCONN=<idx>,"<id>"[,"<user>","<pass>"]` with the packet deadline.
    pub(crate) fn conn_command<E>(&self, session: &Session<'_>) -> Result<Cmd, Error<E>> {
        let mut line = Line::new("AT+QMTCONN=");
        line.num(i64::from(self.config.client_idx)).raw(b",");
        line.quoted(session.client_id.as_bytes(), "client_id").map_err(unsendable)?;
        if let Some((user, password)) = session.credentials {
            line.raw(b",");
            line.quoted(user.as_bytes(), "user").map_err(unsendable)?;
            line.raw(b",");
            line.quoted(password.as_bytes(), "password").map_err(unsendable)?;
        }
        Ok(Cmd::of(&line, "client_id")?.with_timeout(self.packet_deadline_ms()))
    }

    /// Reads `+QMTCONN: <idx>,<result>[,<ret_code>]`.
    pub(crate) fn conn_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        let (f, n) = result_fields::<3>(&reply.result, "+QMTCONN")?;
        match (f[1], f[2], n) {
            (0, 0, _) | (0, _, 2) => {
                self.connected = true;
                self.status = None;
                Ok(())
            }
            (0, code, _) => Err(Error::Connect(PacketError::Refused(super::ConnackCode::from_u8(
                u8::try_from(code).unwrap_or(u8::MAX),
            )))),
            (r, _, _) => Err(Error::Connect(packet_result(r))),
        }
    }

    /// `AT+QMTCONN?`.
    pub(crate) const SESSION_QUERY: &'static [u8] = b"AT+QMTCONN?";

    /// Reads `+QMTCONN: <idx>,<state>` (state 3 = connected).
    pub(crate) fn session_reply<E>(&self, reply: &Reply<LINE>) -> Result<bool, Error<E>> {
        if reply.lines == 0 {
            return Ok(false);
        }
        let (f, n) = result_fields::<3>(&reply.line, "+QMTCONN")?;
        Ok(n >= 2 && f[0] == i32::from(self.config.client_idx) && f[1] == 3)
    }

    pub(crate) fn require_session<E>(&self) -> Result<(), Error<E>> {
        if self.connected { Ok(()) } else { Err(Error::NotConnected { status: self.status }) }
    }

    /// Whether [`Uplink::connect`] must close a stale session first.
    pub(crate) fn stale(&self) -> bool {
        self.connected || self.opened
    }

    /// `AT+QMTDISC` when connected, `AT+QMTCLOSE` when only open, nothing otherwise; with the
    /// prefix of its result.
    pub(crate) fn close_command<E>(&self) -> Result<Option<(Cmd, &'static str)>, Error<E>> {
        let (head, prefix): (&str, &'static str) = if self.connected {
            ("AT+QMTDISC=", "+QMTDISC")
        } else if self.opened {
            ("AT+QMTCLOSE=", "+QMTCLOSE")
        } else {
            return Ok(None);
        };
        let mut line = Line::new(head);
        line.num(i64::from(self.config.client_idx));
        Ok(Some((Cmd::of(&line, "client_idx")?.with_timeout(self.packet_deadline_ms()), prefix)))
    }

    /// Reads the result of [`Core::close_command`] (the client is closed whatever it says).
    pub(crate) fn close_reply<E>(
        &mut self,
        reply: Result<Reply<LINE>, crate::blocking::Error<E>>,
        prefix: &'static str,
    ) -> Result<(), Error<E>> {
        self.connected = false;
        self.opened = false;
        let reply = reply?;
        let (f, _) = result_fields::<2>(&reply.result, prefix)?;
        if f[1] == 0 { Ok(()) } else { Err(Error::Command { command: prefix, code: f[1] }) }
    }

    /// `AT+QMTPUBEX=<idx>,<msgid>,<qos>,<retain>,"<topic>",<len>` and its packet id (0 for QoS 0).
    pub(crate) fn publish_command<E>(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<(Cmd, u16), Error<E>> {
        let msg_id = if qos == QoS::AtMostOnce { 0 } else { self.next_packet_id() };
        let mut line = Line::new("AT+QMTPUBEX=");
        line.num(i64::from(self.config.client_idx)).raw(b",").num(i64::from(msg_id)).raw(b",");
        line.num(i64::from(qos.number())).raw(b",").num(i64::from(retain)).raw(b",");
        line.quoted(topic.as_bytes(), "topic").map_err(unsendable)?;
        line.raw(b",").num(i64::try_from(payload.len()).unwrap_or(i64::MAX));
        Ok((Cmd::of(&line, "topic")?.with_timeout(self.packet_deadline_ms()), msg_id))
    }

    /// Reads `+QMTPUB: <idx>,<msgid>,<result>`.
    pub(crate) fn publish_reply<E>(&self, reply: &Reply<LINE>, msg_id: u16) -> Result<(), Error<E>> {
        let (f, n) = result_fields::<4>(&reply.result, "+QMTPUB")?;
        if n < 3 {
            return Err(Error::Malformed(crate::error::ParseError::Arity { found: n }));
        }
        let found = u16::try_from(f[1]).unwrap_or(u16::MAX);
        if found != msg_id {
            return Err(Error::Mismatched { expected: msg_id, found });
        }
        match f[2] {
            0 => Ok(()),
            r => Err(Error::Publish(packet_result(r))),
        }
    }

    /// `AT+QMTSUB=<idx>,<msgid>,"<filter>",<qos>` and its packet id.
    pub(crate) fn subscribe_command<E>(&mut self, filter: &str, qos: QoS) -> Result<(Cmd, u16), Error<E>> {
        let msg_id = self.next_packet_id();
        let mut line = Line::new("AT+QMTSUB=");
        line.num(i64::from(self.config.client_idx)).raw(b",").num(i64::from(msg_id)).raw(b",");
        line.quoted(filter.as_bytes(), "filter").map_err(unsendable)?;
        line.raw(b",").num(i64::from(qos.number()));
        Ok((Cmd::of(&line, "filter")?.with_timeout(self.packet_deadline_ms()), msg_id))
    }

    /// Reads `+QMTSUB: <idx>,<msgid>,<result>,<granted>` (granted 128 = refused).
    pub(crate) fn subscribe_reply<E>(&self, reply: &Reply<LINE>, msg_id: u16) -> Result<(), Error<E>> {
        let (f, n) = result_fields::<4>(&reply.result, "+QMTSUB")?;
        let found = u16::try_from(f[1]).unwrap_or(u16::MAX);
        if found != msg_id {
            return Err(Error::Mismatched { expected: msg_id, found });
        }
        match (f[2], f[3], n) {
            (0, 128, 4) => Err(Error::Subscribe(PacketError::SubscriptionRefused)),
            (0, _, _) => Ok(()),
            (r, _, _) => Err(Error::Subscribe(packet_result(r))),
        }
    }

    /// Copies the first inbox message into `buf` and takes it off the inbox.
    pub(crate) fn receive<'b, E>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Error<E>> {
        let Some(urc) = self.inbox.front() else {
            return Ok(None);
        };
        let Qmtrecv::Message { topic, payload, .. } = parse_qmtrecv(&urc.line)? else {
            self.inbox.pop_front();
            return Ok(None);
        };
        let needed = topic.len().saturating_add(payload.len());
        if needed > buf.len() {
            return Err(Error::BufferTooSmall { needed });
        }
        let (t, rest) = buf.split_at_mut(topic.len());
        t.copy_from_slice(topic.as_bytes());
        let (p, _) = rest.split_at_mut(payload.len());
        p.copy_from_slice(payload);
        self.inbox.pop_front();
        // The topic was UTF-8 when parsed and was copied byte for byte.
        let topic = core::str::from_utf8(t)
            .map_err(|_| Error::Malformed(crate::error::ParseError::Invalid { field: "topic", offset: 0 }))?;
        Ok(Some(Message { topic, payload: p }))
    }

    /// The first step of `link_state`: `Connected` unless URCs were lost (then ask the module).
    pub(crate) fn link_step(&mut self) -> LinkStep {
        if self.connected && core::mem::take(&mut self.suspect) {
            LinkStep::AskSession
        } else if self.connected {
            LinkStep::Known(LinkState::Connected)
        } else {
            LinkStep::AskNetwork
        }
    }
}

/// The Quectel MQTT client over a blocking [`Modem`] (brought up by the caller).
#[derive(Debug)]
pub struct QuectelMqtt<U, D, C> {
    modem: Modem<U, D, C>,
    core: Core,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> QuectelMqtt<U, D, C> {
    /// A client over `modem`, which must have been brought up ([`Modem::bring_up`]).
    pub fn new(modem: Modem<U, D, C>, config: QuectelConfig) -> Self {
        Self { modem, core: Core::new(config) }
    }

    /// The driver, for other commands (SMS, time, signal) between MQTT operations.
    pub fn modem_mut(&mut self) -> &mut Modem<U, D, C> {
        &mut self.modem
    }

    /// The driver back.
    pub fn into_inner(self) -> Modem<U, D, C> {
        self.modem
    }

    /// Counters.
    pub fn stats(&self) -> MqttStats {
        self.core.stats
    }

    /// The last `+QMTSTAT <err_code>` (reference §2.9 item 7), if the module closed a session.
    pub fn last_status(&self) -> Option<u8> {
        self.core.status
    }

    /// Whether the client believes the session is connected (no `+QMTSTAT` since).
    pub fn is_connected(&self) -> bool {
        self.core.connected
    }

    /// The next URC that is not for the MQTT client (`+CEREG`, `+QIURC`, ...).
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.core.other.pop_front()
    }

    /// The deadline of a command that waits for the broker (`AT+QMTCONN`, `AT+QMTPUBEX`,
    /// `AT+QMTSUB`, ...): the module tries `retries + 1` times, `packet_timeout_s` apart, then
    /// reports; 5 s more for the UART.
    pub fn packet_deadline_ms(&self) -> u32 {
        self.core.packet_deadline_ms()
    }

    /// Reads what the UART has and sorts the queued URCs: messages into the inbox, `+QMTSTAT`
    /// and restarts into the session state, late results counted, the rest kept for
    /// [`QuectelMqtt::pop_urc`].
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the UART fails.
    pub fn poll(&mut self) -> Result<(), Error<U::Error>> {
        self.core.absorb(&mut self.modem);
        // Back-pressure: read the UART only while the inbox has room, one chunk at a time, so a
        // burst of messages waits in the UART instead of overflowing the driver's URC queue.
        while self.core.has_room() && self.modem.poll_chunk()? {
            self.core.absorb(&mut self.modem);
        }
        Ok(())
    }

    fn run(&mut self, cmd: &Cmd, data: Option<&[u8]>) -> Result<Reply<LINE>, crate::blocking::Error<U::Error>> {
        let mut command = Command::new(&cmd.text);
        if let Some(ms) = cmd.timeout_ms {
            command.timeout_ms = ms;
        }
        let result = self.modem.execute(&command, data.map(|d| (d, None)));
        self.core.absorb(&mut self.modem);
        result
    }

    /// Whether the PDP context is active (`AT+QIACT?`, reference §2.6). Only the first listed
    /// context is seen; with several active contexts, give the MQTT client context 1.
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    pub fn pdp_active(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(&Cmd::fixed(Core::PDP_QUERY), None)?;
        self.core.pdp_reply(&reply)
    }

    /// Activates the PDP context unless it is active: `AT+QICSGP` (when an APN is configured),
    /// then `AT+QIACT=<cid>` (up to 150 s, reference §2.6, §2.13).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when a command fails (`ERROR` from `AT+QIACT` when the network refuses),
    /// [`Error::Unsendable`] for an APN with a quote.
    pub fn attach(&mut self) -> Result<(), Error<U::Error>> {
        if self.pdp_active()? {
            return Ok(());
        }
        let (apn, act) = self.core.attach_commands()?;
        if let Some(apn) = apn {
            self.run(&apn, None)?;
        }
        self.run(&act, None)?;
        self.core.attached();
        Ok(())
    }

    /// `AT+QMTCONN?` → `+QMTCONN: <idx>,<state>`: whether the module says the client is
    /// connected (state 3 *(value from the Quectel MQTT AN, not in the reference)*). Reference
    /// §6.2: after lost URCs, re-poll the state instead of trusting it.
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    pub fn session_alive(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(&Cmd::fixed(Core::SESSION_QUERY), None)?;
        self.core.session_reply(&reply)
    }

    fn conn(&mut self, session: &Session<'_>) -> Result<(), Error<U::Error>> {
        let cmd = self.core.conn_command(session)?;
        let reply = self.run(&cmd, None)?;
        self.core.conn_reply(&reply)
    }

    fn require_session(&mut self) -> Result<(), Error<U::Error>> {
        self.poll()?;
        self.core.require_session()
    }

    /// Closes whatever is open: `AT+QMTDISC` when connected, else `AT+QMTCLOSE` when the
    /// network connection is open.
    fn close(&mut self) -> Result<(), Error<U::Error>> {
        let Some((cmd, prefix)) = self.core.close_command()? else {
            return Ok(());
        };
        let reply = self.run(&cmd, None);
        self.core.close_reply(reply, prefix)
    }
}

fn unsendable<E>(field: &'static str) -> Error<E> {
    Error::Unsendable { field }
}

/// `<result>` 1 (retransmission) and 2 (failed) of `+QMTCONN`/`+QMTPUB`/`+QMTSUB` (§2.9).
fn packet_result(result: i32) -> PacketError {
    match result {
        1 => PacketError::Retransmitting,
        2 => PacketError::SendFailed,
        other => PacketError::Unknown(other),
    }
}

/// `+QIACT: <cid>,<state>,<type>,"<ip>"`: the numbers before the address.
fn result_fields_lenient(line: &[u8]) -> Result<([i32; 3], usize), crate::error::ParseError> {
    let start =
        crate::params::after_prefix(line, b"+QIACT").ok_or(crate::error::ParseError::Prefix { expected: "+QIACT" })?;
    let mut out = [0i32; 3];
    let mut n = 0;
    for (slot, field) in out.iter_mut().zip(crate::params::Fields::new(line, start)) {
        *slot = i32::try_from(field?.dec("+QIACT")?).unwrap_or(i32::MAX);
        n += 1;
    }
    Ok((out, n))
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Uplink for QuectelMqtt<U, D, C> {
    type Error = Error<U::Error>;

    /// PDP attach when needed, `AT+QMTCFG` (version 3.1.1, context, keep-alive, clean session,
    /// packet timeout, push receive with lengths, will), `AT+QMTOPEN`, `AT+QMTCONN`. An open
    /// session is closed first.
    fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        self.poll()?;
        if self.core.stale() {
            // A stale session (e.g. after a failed connect): start from a closed client.
            let _ = self.close();
        }
        self.attach()?;
        for cmd in self.core.configure_commands(session)? {
            self.run(&cmd, None)?;
        }
        let open = self.core.open_command(session.host, session.port)?;
        let reply = self.run(&open, None)?;
        self.core.open_reply(&reply)?;
        if let Err(e) = self.conn(session) {
            let _ = self.close();
            return Err(e);
        }
        Ok(())
    }

    /// `AT+QMTPUBEX` with the `>` prompt and exactly `payload.len()` bytes (§2.9 item 5); packet
    /// id 0 for QoS 0, 1..=65535 otherwise; waits for `+QMTPUB: <idx>,<msgid>,<result>`.
    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error> {
        self.require_session()?;
        let (cmd, msg_id) = self.core.publish_command(topic, payload, qos, retain)?;
        let reply = self.run(&cmd, Some(payload))?;
        self.core.publish_reply(&reply, msg_id)
    }

    /// `AT+QMTSUB=<idx>,<msgid>,"<filter>",<qos>` → `+QMTSUB: <idx>,<msgid>,<result>,<granted>`
    /// (granted 128 = refused).
    fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error> {
        self.require_session()?;
        let (cmd, msg_id) = self.core.subscribe_command(filter, qos)?;
        let reply = self.run(&cmd, None)?;
        self.core.subscribe_reply(&reply, msg_id)
    }

    fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error> {
        self.poll()?;
        self.core.receive(buf)
    }

    /// `Connected` while no `+QMTSTAT` has closed the session (after lost URCs the module is asked
    /// with `AT+QMTCONN?`, reference §6.2); otherwise `AT+CEREG?` and `AT+QIACT?` tell `Down`,
    /// `Attached` and `Online` apart.
    fn link_state(&mut self) -> Result<LinkState, Self::Error> {
        self.poll()?;
        match self.core.link_step() {
            LinkStep::Known(state) => return Ok(state),
            LinkStep::AskSession => {
                if self.session_alive()? {
                    return Ok(LinkState::Connected);
                }
                self.core.session_closed(None);
            }
            LinkStep::AskNetwork => {}
        }
        if !self.modem.registration()?.status().is_registered() {
            return Ok(LinkState::Down);
        }
        Ok(if self.pdp_active()? { LinkState::Online } else { LinkState::Attached })
    }

    fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error> {
        let csq = self.modem.signal();
        self.core.absorb(&mut self.modem);
        Ok(csq?.rssi_dbm())
    }

    /// `AT+QMTDISC` (the broker does not publish the will), or `AT+QMTCLOSE` when only the
    /// network connection was open.
    fn disconnect(&mut self) -> Result<(), Self::Error> {
        self.poll()?;
        self.close()
    }
}
