//! SIMCom's built-in MQTT client (`CMQTT*`, SIM7600/A76xx, reference §2.10) with PDP attach
//! (`AT+CGDCONT`, `AT+NETOPEN`, §2.6), as an [`Uplink`].
//!
//! ```text
//! AT+NETOPEN?                → +NETOPEN: <0|1>;  AT+CGDCONT=1,"IP","<apn>", AT+NETOPEN → OK, +NETOPEN: 0
//! AT+CMQTTSTART              → OK, +CMQTTSTART: 0   (23: already started)
//! AT+CMQTTACCQ=0,"<id>"      → OK
//! AT+CMQTTWILLTOPIC=0,<len>  → > topic → OK;  AT+CMQTTWILLMSG=0,<len>,<qos> → > message → OK
//! AT+CMQTTCONNECT=0,"tcp://<host>:<port>",<keepalive>,<clean>[,"<user>","<pass>"] → OK, +CMQTTCONNECT: 0,<err>
//! AT+CMQTTTOPIC=0,<len> → > topic → OK;  AT+CMQTTPAYLOAD=0,<len> → > payload → OK
//! AT+CMQTTPUB=0,<qos>,<timeout_s>,<retain>  → OK, +CMQTTPUB: 0,<err>
//! AT+CMQTTSUBTOPIC=0,<len>,<qos> → > filter → OK;  AT+CMQTTSUB=0 → OK, +CMQTTSUB: 0,<err>
//! +CMQTTRXSTART: 0,<topic_len>,<payload_len> / +CMQTTRXTOPIC: 0,<n>␍␊<topic> /
//! +CMQTTRXPAYLOAD: 0,<n>␍␊<payload> (repeats) / +CMQTTRXEND: 0
//! +CMQTTCONNLOST: 0,<cause>  (1 closed passively, 2 reset, 3 network closed)
//! AT+CMQTTDISC=0,<timeout_s> → OK, +CMQTTDISC: 0,<err>
//! ```
//!
//! Topics and payloads go through the prompts with their lengths, so they may hold anything.
//! `AT+CMQTTWILLMSG` has no retain flag: a will with `retain` set is refused
//! ([`Error::Unsendable`] `will_retain`). The `<retain>` parameter of `AT+CMQTTPUB` follows the
//! S-MQTT manual's optional fourth parameter *(not in the reference's excerpt)*.

use super::{Error, Line, MqttStats, PacketError, result_fields};
use crate::blocking::{Clock, LINE, Modem};
use crate::command::Command;
use crate::router::Urc;
use crate::uplink::{LinkState, Message, QoS, Session, Uplink};
use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use heapless::{Deque, String, Vec};

/// Messages the client holds between [`Uplink::receive`] calls.
pub const INBOX: usize = 4;
/// The longest topic of a received message.
pub const TOPIC_MAX: usize = 128;
/// Other URCs kept for the application ([`SimcomMqtt::pop_urc`]).
pub const OTHER_URCS: usize = 8;

/// Settings of the SIMCom client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimcomConfig {
    /// MQTT client index, 0 or 1.
    pub client_idx: u8,
    /// APN written with `AT+CGDCONT=1,"IP",...` before `AT+NETOPEN`; empty: keep the module's.
    pub apn: String<63>,
    /// `<pub_timeout>` of `AT+CMQTTPUB` and the broker wait of the other commands, seconds.
    pub packet_timeout_s: u8,
}

impl Default for SimcomConfig {
    /// Client 0, the module's APN, 20 s for the broker.
    fn default() -> Self {
        Self { client_idx: 0, apn: String::new(), packet_timeout_s: 20 }
    }
}

/// A message being assembled from the `+CMQTTRX*` URCs, or one ready for the application.
#[derive(Debug, Default)]
struct Received {
    topic: Vec<u8, TOPIC_MAX>,
    payload: Vec<u8, LINE>,
    broken: bool,
}

/// The SIMCom MQTT client over a blocking [`Modem`] (brought up by the caller).
#[derive(Debug)]
pub struct SimcomMqtt<U, D, C> {
    modem: Modem<U, D, C>,
    config: SimcomConfig,
    started: bool,
    acquired: bool,
    connected: bool,
    pdp: bool,
    status: Option<u8>,
    rx: Option<Received>,
    inbox: Deque<Received, INBOX>,
    other: Deque<Urc<LINE>, OTHER_URCS>,
    stats: MqttStats,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> SimcomMqtt<U, D, C> {
    /// A client over `modem`, which must have been brought up ([`Modem::bring_up`]).
    pub fn new(modem: Modem<U, D, C>, config: SimcomConfig) -> Self {
        Self {
            modem,
            config,
            started: false,
            acquired: false,
            connected: false,
            pdp: false,
            status: None,
            rx: None,
            inbox: Deque::new(),
            other: Deque::new(),
            stats: MqttStats::default(),
        }
    }

    /// The driver, for other commands between MQTT operations.
    pub fn modem_mut(&mut self) -> &mut Modem<U, D, C> {
        &mut self.modem
    }

    /// The driver back.
    pub fn into_inner(self) -> Modem<U, D, C> {
        self.modem
    }

    /// Counters.
    pub fn stats(&self) -> MqttStats {
        self.stats
    }

    /// The last `+CMQTTCONNLOST <cause>`, if the module lost a session.
    pub fn last_status(&self) -> Option<u8> {
        self.status
    }

    /// The next URC that is not for the MQTT client.
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.other.pop_front()
    }

    /// The deadline of a command that waits for the broker: the configured packet timeout and
    /// 5 s for the UART.
    pub fn packet_deadline_ms(&self) -> u32 {
        u32::from(self.config.packet_timeout_s).saturating_add(5).saturating_mul(1_000)
    }

    /// Reads what the UART has and sorts the queued URCs (see [`SimcomMqtt::pop_urc`]).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the UART fails.
    pub fn poll(&mut self) -> Result<(), Error<U::Error>> {
        self.modem.poll()?;
        self.absorb();
        Ok(())
    }

    fn ours(&self, line: &[u8], prefix: &[u8]) -> bool {
        crate::params::after_prefix(line, prefix)
            .and_then(|s| crate::params::Fields::new(line, s).next())
            .and_then(|f| f.ok())
            .and_then(|f| crate::params::parse_dec(f.text()))
            == Some(u32::from(self.config.client_idx))
    }

    fn absorb(&mut self) {
        let lost = self.modem.take_lost();
        self.stats.lost = self.stats.lost.saturating_add(lost);
        if lost > 0 && self.rx.is_some() {
            // A part of the message being assembled may be the one lost.
            if let Some(rx) = self.rx.as_mut() {
                rx.broken = true;
            }
        }
        while let Some(urc) = self.modem.pop_urc() {
            let line = urc.line.as_slice();
            if line.starts_with(b"+CMQTTRX") && self.ours(line, prefix_of_rx(line)) {
                self.receive_part(line, &urc);
                continue;
            }
            if line.starts_with(b"+CMQTTCONNLOST:") && self.ours(line, b"+CMQTTCONNLOST") {
                let cause = result_fields::<2>(line, "+CMQTTCONNLOST").ok().map(|(f, _)| f[1]);
                self.session_closed(cause.and_then(|c| u8::try_from(c).ok()));
                continue;
            }
            if [&b"+CMQTTPUB:"[..], b"+CMQTTSUB:", b"+CMQTTCONNECT:", b"+CMQTTDISC:", b"+CMQTTSTART:"]
                .iter()
                .any(|p| line.starts_with(p))
            {
                self.stats.late_results = self.stats.late_results.saturating_add(1);
                continue;
            }
            if matches!(line, b"RDY" | b"*ATREADY: 1") {
                // reference §2.2: a banner mid-session means the module restarted.
                self.pdp = false;
                self.started = false;
                self.acquired = false;
                self.session_closed(None);
            }
            if self.other.push_back(urc).is_err() {
                self.stats.other_dropped = self.stats.other_dropped.saturating_add(1);
            }
        }
    }

    fn receive_part(&mut self, line: &[u8], urc: &Urc<LINE>) {
        let lost = |s: &mut Self| s.stats.lost = s.stats.lost.saturating_add(1);
        if line.starts_with(b"+CMQTTRXSTART:") {
            if self.rx.take().is_some() {
                lost(self);
            }
            self.rx = Some(Received::default());
        } else if line.starts_with(b"+CMQTTRXTOPIC:") || line.starts_with(b"+CMQTTRXPAYLOAD:") {
            let Some(rx) = self.rx.as_mut() else { return lost(self) };
            let to = if line.starts_with(b"+CMQTTRXTOPIC:") {
                rx.topic.extend_from_slice(&urc.data).is_err()
            } else {
                rx.payload.extend_from_slice(&urc.data).is_err()
            };
            if to || urc.data_truncated > 0 {
                rx.broken = true;
            }
        } else if line.starts_with(b"+CMQTTRXEND:") {
            match self.rx.take() {
                Some(rx) if !rx.broken && core::str::from_utf8(&rx.topic).is_ok() => {
                    self.stats.received = self.stats.received.saturating_add(1);
                    if self.inbox.push_back(rx).is_err() {
                        lost(self);
                    }
                }
                _ => lost(self),
            }
        }
    }

    fn session_closed(&mut self, status: Option<u8>) {
        if self.connected {
            self.stats.closed = self.stats.closed.saturating_add(1);
        }
        self.connected = false;
        if status.is_some() {
            self.status = status;
        }
    }

    fn run(
        &mut self,
        text: &[u8],
        timeout_ms: Option<u32>,
        data: Option<&[u8]>,
    ) -> Result<crate::engine::Reply<LINE>, Error<U::Error>> {
        let mut command = Command::new(text);
        if let Some(ms) = timeout_ms {
            command.timeout_ms = ms;
        }
        let result = self.modem.execute(&command, data.map(|d| (d, None)));
        self.absorb();
        Ok(result?)
    }

    fn line(&self, head: &str) -> Line {
        let mut line = Line::new(head);
        line.num(i64::from(self.config.client_idx));
        line
    }

    /// `<head><idx>,<len>[<tail>]`, then `bytes` at the prompt.
    fn with_prompt(&mut self, head: &str, bytes: &[u8], tail: &[u8]) -> Result<(), Error<U::Error>> {
        let mut line = self.line(head);
        line.raw(b",").num(i64::try_from(bytes.len()).unwrap_or(i64::MAX)).raw(tail);
        let text = copy(line.finish("length").map_err(unsendable)?);
        self.run(&text, None, Some(bytes)).map(|_| ())
    }

    /// The `<err>` of a `+CMQTT...: <idx>,<err>` result.
    fn err_of(reply: &crate::engine::Reply<LINE>, prefix: &'static str) -> Result<i32, Error<U::Error>> {
        let (f, n) = result_fields::<2>(&reply.result, prefix)?;
        if n < 2 {
            return Err(Error::Malformed(crate::error::ParseError::Arity { found: n }));
        }
        Ok(f[1])
    }

    /// Whether the network is open (`AT+NETOPEN?` → `+NETOPEN: 1`, reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    pub fn pdp_active(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(b"AT+NETOPEN?", None, None)?;
        let (f, n) = result_fields::<1>(&reply.line, "+NETOPEN")?;
        self.pdp = n == 1 && f[0] == 1;
        Ok(self.pdp)
    }

    /// Opens the network unless it is open: `AT+CGDCONT` (when an APN is configured), then
    /// `AT+NETOPEN` and its `+NETOPEN: <err>` (reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when a command fails, [`Error::Command`] for `+NETOPEN: <err>` ≠ 0.
    pub fn attach(&mut self) -> Result<(), Error<U::Error>> {
        if self.pdp_active()? {
            return Ok(());
        }
        if !self.config.apn.is_empty() {
            let mut line = Line::new("AT+CGDCONT=1,\"IP\",");
            line.quoted(self.config.apn.as_bytes(), "apn").map_err(unsendable)?;
            let text = copy(line.finish("apn").map_err(unsendable)?);
            self.run(&text, None, None)?;
        }
        let reply = self.run(b"AT+NETOPEN", None, None)?;
        let (f, _) = result_fields::<1>(&reply.result, "+NETOPEN")?;
        if f[0] != 0 {
            return Err(Error::Command { command: "+NETOPEN", code: f[0] });
        }
        self.pdp = true;
        Ok(())
    }

    fn start(&mut self) -> Result<(), Error<U::Error>> {
        if self.started {
            return Ok(());
        }
        let deadline = self.packet_deadline_ms();
        let reply = self.run(b"AT+CMQTTSTART", Some(deadline), None)?;
        let (f, _) = result_fields::<1>(&reply.result, "+CMQTTSTART")?;
        // reference §2.10: 23 = already started.
        if f[0] != 0 && f[0] != 23 {
            return Err(Error::Command { command: "+CMQTTSTART", code: f[0] });
        }
        self.started = true;
        Ok(())
    }

    fn acquire(&mut self, client_id: &str) -> Result<(), Error<U::Error>> {
        if self.acquired {
            let text = copy(self.line("AT+CMQTTREL=").finish("client_idx").map_err(unsendable)?);
            self.run(&text, None, None)?;
            self.acquired = false;
        }
        let mut line = self.line("AT+CMQTTACCQ=");
        line.raw(b",");
        line.quoted(client_id.as_bytes(), "client_id").map_err(unsendable)?;
        let text = copy(line.finish("client_id").map_err(unsendable)?);
        self.run(&text, None, None)?;
        self.acquired = true;
        Ok(())
    }

    fn require_session(&mut self) -> Result<(), Error<U::Error>> {
        self.poll()?;
        if self.connected { Ok(()) } else { Err(Error::NotConnected { status: self.status }) }
    }
}

fn prefix_of_rx(line: &[u8]) -> &'static [u8] {
    for p in [&b"+CMQTTRXSTART"[..], b"+CMQTTRXTOPIC", b"+CMQTTRXPAYLOAD", b"+CMQTTRXEND"] {
        if line.starts_with(p) {
            return p;
        }
    }
    b"+CMQTTRX?"
}

fn unsendable<E>(field: &'static str) -> Error<E> {
    Error::Unsendable { field }
}

fn copy(text: &[u8]) -> Vec<u8, { super::COMMAND_MAX }> {
    Vec::from_slice(text).unwrap_or_default()
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Uplink for SimcomMqtt<U, D, C> {
    type Error = Error<U::Error>;

    /// Network open when needed, `AT+CMQTTSTART`, `AT+CMQTTACCQ`, the will through its prompts,
    /// `AT+CMQTTCONNECT` and its `+CMQTTCONNECT: <idx>,<err>`.
    fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        self.poll()?;
        if self.connected {
            let _ = self.disconnect();
        }
        if let Some(will) = session.will
            && will.retain
        {
            return Err(Error::Unsendable { field: "will_retain" });
        }
        self.attach()?;
        self.start()?;
        self.acquire(session.client_id)?;
        if let Some(will) = session.will {
            self.with_prompt("AT+CMQTTWILLTOPIC=", will.topic.as_bytes(), b"")?;
            let mut qos = Line::new(",");
            qos.num(i64::from(will.qos.number()));
            let tail = copy(qos.finish("will_qos").map_err(unsendable)?);
            self.with_prompt("AT+CMQTTWILLMSG=", will.payload, &tail)?;
        }
        let mut line = self.line("AT+CMQTTCONNECT=");
        line.raw(b",\"tcp://");
        if session.host.bytes().any(|b| b == b'"' || b < 0x20) {
            return Err(Error::Unsendable { field: "host" });
        }
        line.raw(session.host.as_bytes()).raw(b":").num(i64::from(session.port)).raw(b"\",");
        line.num(i64::from(session.keepalive_s)).raw(b",").num(i64::from(session.clean_session));
        if let Some((user, password)) = session.credentials {
            line.raw(b",");
            line.quoted(user.as_bytes(), "user").map_err(unsendable)?;
            line.raw(b",");
            line.quoted(password.as_bytes(), "password").map_err(unsendable)?;
        }
        let text = copy(line.finish("host").map_err(unsendable)?);
        let deadline = self.packet_deadline_ms();
        let reply = self.run(&text, Some(deadline), None)?;
        match Self::err_of(&reply, "+CMQTTCONNECT")? {
            0 => {
                self.connected = true;
                self.status = None;
                Ok(())
            }
            err => Err(Error::Connect(PacketError::Vendor(u16::try_from(err).unwrap_or(u16::MAX)))),
        }
    }

    /// Topic and payload through their prompts, then `AT+CMQTTPUB=<idx>,<qos>,<timeout>,<retain>`
    /// and its `+CMQTTPUB: <idx>,<err>`.
    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error> {
        self.require_session()?;
        if topic.is_empty() {
            return Err(Error::Unsendable { field: "topic" });
        }
        self.with_prompt("AT+CMQTTTOPIC=", topic.as_bytes(), b"")?;
        self.with_prompt("AT+CMQTTPAYLOAD=", payload, b"")?;
        let mut line = self.line("AT+CMQTTPUB=");
        line.raw(b",").num(i64::from(qos.number())).raw(b",").num(i64::from(self.config.packet_timeout_s));
        line.raw(b",").num(i64::from(retain));
        let text = copy(line.finish("qos").map_err(unsendable)?);
        let deadline = self.packet_deadline_ms();
        let reply = self.run(&text, Some(deadline), None)?;
        match Self::err_of(&reply, "+CMQTTPUB")? {
            0 => Ok(()),
            err => Err(Error::Publish(PacketError::Vendor(u16::try_from(err).unwrap_or(u16::MAX)))),
        }
    }

    /// The filter through `AT+CMQTTSUBTOPIC`'s prompt, then `AT+CMQTTSUB=<idx>`.
    fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error> {
        self.require_session()?;
        let mut tail = Line::new(",");
        tail.num(i64::from(qos.number()));
        let tail = copy(tail.finish("qos").map_err(unsendable)?);
        self.with_prompt("AT+CMQTTSUBTOPIC=", filter.as_bytes(), &tail)?;
        let text = copy(self.line("AT+CMQTTSUB=").finish("client_idx").map_err(unsendable)?);
        let deadline = self.packet_deadline_ms();
        let reply = self.run(&text, Some(deadline), None)?;
        match Self::err_of(&reply, "+CMQTTSUB")? {
            0 => Ok(()),
            err => Err(Error::Subscribe(PacketError::Vendor(u16::try_from(err).unwrap_or(u16::MAX)))),
        }
    }

    fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error> {
        self.poll()?;
        let Some(rx) = self.inbox.front() else {
            return Ok(None);
        };
        let needed = rx.topic.len().saturating_add(rx.payload.len());
        if needed > buf.len() {
            return Err(Error::BufferTooSmall { needed });
        }
        let (t, rest) = buf.split_at_mut(rx.topic.len());
        t.copy_from_slice(&rx.topic);
        let (p, _) = rest.split_at_mut(rx.payload.len());
        p.copy_from_slice(&rx.payload);
        self.inbox.pop_front();
        let topic = core::str::from_utf8(t)
            .map_err(|_| Error::Malformed(crate::error::ParseError::Invalid { field: "topic", offset: 0 }))?;
        Ok(Some(Message { topic, payload: p }))
    }

    /// `Connected` while no `+CMQTTCONNLOST` has closed the session; otherwise `AT+CEREG?` and
    /// `AT+NETOPEN?` tell `Down`, `Attached` and `Online` apart.
    fn link_state(&mut self) -> Result<LinkState, Self::Error> {
        self.poll()?;
        if self.connected {
            return Ok(LinkState::Connected);
        }
        let registered = self.modem.registration();
        self.absorb();
        if !registered?.status().is_registered() {
            return Ok(LinkState::Down);
        }
        Ok(if self.pdp_active()? { LinkState::Online } else { LinkState::Attached })
    }

    fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error> {
        let csq = self.modem.signal();
        self.absorb();
        Ok(csq?.rssi_dbm())
    }

    /// `AT+CMQTTDISC=<idx>,<timeout>` (the broker does not publish the will).
    fn disconnect(&mut self) -> Result<(), Self::Error> {
        self.poll()?;
        if !self.connected {
            return Ok(());
        }
        let mut line = self.line("AT+CMQTTDISC=");
        line.raw(b",").num(i64::from(self.config.packet_timeout_s));
        let text = copy(line.finish("client_idx").map_err(unsendable)?);
        let deadline = self.packet_deadline_ms();
        let reply = self.run(&text, Some(deadline), None);
        self.connected = false;
        match Self::err_of(&reply?, "+CMQTTDISC")? {
            0 => Ok(()),
            code => Err(Error::Command { command: "+CMQTTDISC", code }),
        }
    }
}
