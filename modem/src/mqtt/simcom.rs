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

use super::{Cmd, Error, Line, MqttStats, PacketError, UrcSource, result_fields};
use crate::blocking::{Clock, LINE, Modem};
use crate::command::Command;
use crate::engine::Reply;
use crate::router::Urc;
use crate::uplink::{LinkState, Message, QoS, Session, Uplink};
use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use heapless::{Deque, String, Vec};

/// Messages the client holds between [`Uplink::receive`] calls.
pub const INBOX: usize = 8;
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

/// Everything of the SIMCom client that is not I/O (sans-io): session state, message assembly,
/// inbox, counters, the command lines and the parsers of their results. The blocking
/// [`SimcomMqtt`] and the async `mqtt::asynch::SimcomMqtt` only send what it builds.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) config: SimcomConfig,
    started: bool,
    acquired: bool,
    pub(crate) connected: bool,
    pdp: bool,
    pub(crate) status: Option<u8>,
    rx: Option<Received>,
    inbox: Deque<Received, INBOX>,
    pub(crate) other: Deque<Urc<LINE>, OTHER_URCS>,
    pub(crate) stats: MqttStats,
}

impl Core {
    pub(crate) fn new(config: SimcomConfig) -> Self {
        Self {
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

    pub(crate) fn packet_deadline_ms(&self) -> u32 {
        u32::from(self.config.packet_timeout_s).saturating_add(5).saturating_mul(1_000)
    }

    /// Whether the inbox can take another message (read the UART only while it can).
    pub(crate) fn has_room(&self) -> bool {
        !self.inbox.is_full()
    }

    fn ours(&self, line: &[u8], prefix: &[u8]) -> bool {
        crate::params::after_prefix(line, prefix)
            .and_then(|s| crate::params::Fields::new(line, s).next())
            .and_then(|f| f.ok())
            .and_then(|f| crate::params::parse_dec(f.text()))
            == Some(u32::from(self.config.client_idx))
    }

    /// Sorts the driver's queued URCs: message parts assembled into the inbox, session loss
    /// and restarts into the state, late results counted, the rest kept for `pop_urc`.
    pub(crate) fn absorb(&mut self, src: &mut impl UrcSource) {
        let lost = src.take_lost();
        self.stats.lost = self.stats.lost.saturating_add(lost);
        if lost > 0 && self.rx.is_some() {
            // A part of the message being assembled may be the one lost.
            if let Some(rx) = self.rx.as_mut() {
                rx.broken = true;
            }
        }
        loop {
            // A new message waits in the driver's queue (in order) while the inbox is full.
            match src.peek_urc() {
                None => break,
                Some(next) if self.inbox.is_full() && next.line.starts_with(b"+CMQTTRXSTART:") => break,
                Some(_) => {}
            }
            let Some(urc) = src.pop_urc() else { break };
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
            if line.starts_with(b"+CMQTTNONET") {
                // reference §2.10: the MQTT service lost the network.
                self.pdp = false;
                self.session_closed(None);
                continue;
            }
            if line.starts_with(b"+CIPEVENT: NETWORK CLOSED") {
                // reference §2.6: the network (PDP) is gone.
                self.pdp = false;
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

    fn line(&self, head: &str) -> Line {
        let mut line = Line::new(head);
        line.num(i64::from(self.config.client_idx));
        line
    }

    /// `<head><idx>,<len>[<tail>]`, to be followed by the bytes at the prompt.
    pub(crate) fn prompt_command<E>(&self, head: &str, len: usize, tail: &[u8]) -> Result<Cmd, Error<E>> {
        let mut line = self.line(head);
        line.raw(b",").num(i64::try_from(len).unwrap_or(i64::MAX)).raw(tail);
        Cmd::of(&line, "length")
    }

    /// The `<err>` of a `+CMQTT...: <idx>,<err>` result.
    fn err_of<E>(reply: &Reply<LINE>, prefix: &'static str) -> Result<i32, Error<E>> {
        let (f, n) = result_fields::<2>(&reply.result, prefix)?;
        if n < 2 {
            return Err(Error::Malformed(crate::error::ParseError::Arity { found: n }));
        }
        Ok(f[1])
    }

    /// `AT+NETOPEN?`.
    pub(crate) const PDP_QUERY: &'static [u8] = b"AT+NETOPEN?";

    /// Reads `+NETOPEN: <0|1>`.
    pub(crate) fn pdp_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<bool, Error<E>> {
        let (f, n) = result_fields::<1>(&reply.line, "+NETOPEN")?;
        self.pdp = n == 1 && f[0] == 1;
        Ok(self.pdp)
    }

    /// `AT+CGDCONT=1,"IP","<apn>"` when an APN is configured.
    pub(crate) fn apn_command<E>(&self) -> Result<Option<Cmd>, Error<E>> {
        if self.config.apn.is_empty() {
            return Ok(None);
        }
        let mut line = Line::new("AT+CGDCONT=1,\"IP\",");
        line.quoted(self.config.apn.as_bytes(), "apn").map_err(unsendable)?;
        Ok(Some(Cmd::of(&line, "apn")?))
    }

    /// `AT+NETOPEN`.
    pub(crate) const NETOPEN: &'static [u8] = b"AT+NETOPEN";

    /// Reads `+NETOPEN: <err>`.
    pub(crate) fn netopen_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        let (f, _) = result_fields::<1>(&reply.result, "+NETOPEN")?;
        if f[0] != 0 {
            return Err(Error::Command { command: "+NETOPEN", code: f[0] });
        }
        self.pdp = true;
        Ok(())
    }

    /// `AT+CMQTTSTART` unless started.
    pub(crate) fn start_command(&self) -> Option<Cmd> {
        (!self.started).then(|| Cmd::fixed(b"AT+CMQTTSTART").with_timeout(self.packet_deadline_ms()))
    }

    /// Reads `+CMQTTSTART: <err>` (23 = already started, reference §2.10).
    pub(crate) fn start_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        let (f, _) = result_fields::<1>(&reply.result, "+CMQTTSTART")?;
        if f[0] != 0 && f[0] != 23 {
            return Err(Error::Command { command: "+CMQTTSTART", code: f[0] });
        }
        self.started = true;
        Ok(())
    }

    /// `AT+CMQTTREL=<idx>` when a client was acquired.
    pub(crate) fn release_command<E>(&self) -> Result<Option<Cmd>, Error<E>> {
        if !self.acquired {
            return Ok(None);
        }
        Ok(Some(Cmd::of(&self.line("AT+CMQTTREL="), "client_idx")?))
    }

    pub(crate) fn set_acquired(&mut self, acquired: bool) {
        self.acquired = acquired;
    }

    /// `AT+CMQTTACCQ=<idx>,"<id>"`.
    pub(crate) fn acquire_command<E>(&self, client_id: &str) -> Result<Cmd, Error<E>> {
        let mut line = self.line("AT+CMQTTACCQ=");
        line.raw(b",");
        line.quoted(client_id.as_bytes(), "client_id").map_err(unsendable)?;
        Cmd::of(&line, "client_id")
    }

    /// Refuses a retained will (`AT+CMQTTWILLMSG` has no retain flag).
    pub(crate) fn check_session<E>(session: &Session<'_>) -> Result<(), Error<E>> {
        if let Some(will) = session.will
            && will.retain
        {
            return Err(Error::Unsendable { field: "will_retain" });
        }
        Ok(())
    }

    /// `AT+CMQTTWILLTOPIC=<idx>,<len>` and `AT+CMQTTWILLMSG=<idx>,<len>,<qos>`.
    pub(crate) fn will_commands<E>(&self, will: &crate::uplink::Will<'_>) -> Result<(Cmd, Cmd), Error<E>> {
        let topic = self.prompt_command("AT+CMQTTWILLTOPIC=", will.topic.len(), b"")?;
        let mut qos = Line::new(",");
        qos.num(i64::from(will.qos.number()));
        let tail = qos.finish("will_qos").map_err(unsendable)?;
        let msg = self.prompt_command("AT+CMQTTWILLMSG=", will.payload.len(), tail)?;
        Ok((topic, msg))
    }

    /// `AT+CMQTTCONNECT=<idx>,"tcp://<host>:<port>",<keepalive>,<clean>[,"<user>","<pass>"]`.
    pub(crate) fn connect_command<E>(&self, session: &Session<'_>) -> Result<Cmd, Error<E>> {
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
        Ok(Cmd::of(&line, "host")?.with_timeout(self.packet_deadline_ms()))
    }

    /// Reads `+CMQTTCONNECT: <idx>,<err>`.
    pub(crate) fn connect_reply<E>(&mut self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        match Self::err_of(reply, "+CMQTTCONNECT")? {
            0 => {
                self.connected = true;
                self.status = None;
                Ok(())
            }
            err => Err(Error::Connect(PacketError::Vendor(u16::try_from(err).unwrap_or(u16::MAX)))),
        }
    }

    pub(crate) fn require_session<E>(&self) -> Result<(), Error<E>> {
        if self.connected { Ok(()) } else { Err(Error::NotConnected { status: self.status }) }
    }

    /// `AT+CMQTTTOPIC`, `AT+CMQTTPAYLOAD` (each followed by its bytes at the prompt) and
    /// `AT+CMQTTPUB=<idx>,<qos>,<timeout>,<retain>`.
    pub(crate) fn publish_commands<E>(
        &self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<[Cmd; 3], Error<E>> {
        if topic.is_empty() {
            return Err(Error::Unsendable { field: "topic" });
        }
        let t = self.prompt_command("AT+CMQTTTOPIC=", topic.len(), b"")?;
        let p = self.prompt_command("AT+CMQTTPAYLOAD=", payload.len(), b"")?;
        let mut line = self.line("AT+CMQTTPUB=");
        line.raw(b",").num(i64::from(qos.number())).raw(b",").num(i64::from(self.config.packet_timeout_s));
        line.raw(b",").num(i64::from(retain));
        Ok([t, p, Cmd::of(&line, "qos")?.with_timeout(self.packet_deadline_ms())])
    }

    /// Reads `+CMQTTPUB: <idx>,<err>`.
    pub(crate) fn publish_reply<E>(&self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        match Self::err_of(reply, "+CMQTTPUB")? {
            0 => Ok(()),
            err => Err(Error::Publish(PacketError::Vendor(u16::try_from(err).unwrap_or(u16::MAX)))),
        }
    }

    /// `AT+CMQTTSUBTOPIC=<idx>,<len>,<qos>` (followed by the filter) and `AT+CMQTTSUB=<idx>`.
    pub(crate) fn subscribe_commands<E>(&self, filter: &str, qos: QoS) -> Result<(Cmd, Cmd), Error<E>> {
        let mut tail = Line::new(",");
        tail.num(i64::from(qos.number()));
        let tail = tail.finish("qos").map_err(unsendable)?;
        let topic = self.prompt_command("AT+CMQTTSUBTOPIC=", filter.len(), tail)?;
        let sub = Cmd::of(&self.line("AT+CMQTTSUB="), "client_idx")?.with_timeout(self.packet_deadline_ms());
        Ok((topic, sub))
    }

    /// Reads `+CMQTTSUB: <idx>,<err>`.
    pub(crate) fn subscribe_reply<E>(&self, reply: &Reply<LINE>) -> Result<(), Error<E>> {
        match Self::err_of(reply, "+CMQTTSUB")? {
            0 => Ok(()),
            err => Err(Error::Subscribe(PacketError::Vendor(u16::try_from(err).unwrap_or(u16::MAX)))),
        }
    }

    /// Copies the first inbox message into `buf` and takes it off the inbox.
    pub(crate) fn receive<'b, E>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Error<E>> {
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

    /// `AT+CMQTTDISC=<idx>,<timeout>` when connected.
    pub(crate) fn disconnect_command<E>(&self) -> Result<Option<Cmd>, Error<E>> {
        if !self.connected {
            return Ok(None);
        }
        let mut line = self.line("AT+CMQTTDISC=");
        line.raw(b",").num(i64::from(self.config.packet_timeout_s));
        Ok(Some(Cmd::of(&line, "client_idx")?.with_timeout(self.packet_deadline_ms())))
    }

    /// Reads `+CMQTTDISC: <idx>,<err>` (the client is disconnected whatever it says).
    pub(crate) fn disconnect_reply<E>(
        &mut self,
        reply: Result<Reply<LINE>, crate::blocking::Error<E>>,
    ) -> Result<(), Error<E>> {
        self.connected = false;
        match Self::err_of(&reply?, "+CMQTTDISC")? {
            0 => Ok(()),
            code => Err(Error::Command { command: "+CMQTTDISC", code }),
        }
    }
}

/// The SIMCom MQTT client over a blocking [`Modem`] (brought up by the caller).
#[derive(Debug)]
pub struct SimcomMqtt<U, D, C> {
    modem: Modem<U, D, C>,
    core: Core,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> SimcomMqtt<U, D, C> {
    /// A client over `modem`, which must have been brought up ([`Modem::bring_up`]).
    pub fn new(modem: Modem<U, D, C>, config: SimcomConfig) -> Self {
        Self { modem, core: Core::new(config) }
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
        self.core.stats
    }

    /// The last `+CMQTTCONNLOST <cause>`, if the module lost a session.
    pub fn last_status(&self) -> Option<u8> {
        self.core.status
    }

    /// Whether the client believes the session is connected (no `+CMQTTCONNLOST` since).
    pub fn is_connected(&self) -> bool {
        self.core.connected
    }

    /// The next URC that is not for the MQTT client.
    pub fn pop_urc(&mut self) -> Option<Urc<LINE>> {
        self.core.other.pop_front()
    }

    /// The deadline of a command that waits for the broker: the configured packet timeout and
    /// 5 s for the UART.
    pub fn packet_deadline_ms(&self) -> u32 {
        self.core.packet_deadline_ms()
    }

    /// Reads what the UART has and sorts the queued URCs (see [`SimcomMqtt::pop_urc`]).
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

    /// Whether the network is open (`AT+NETOPEN?` → `+NETOPEN: 1`, reference §2.6).
    ///
    /// # Errors
    ///
    /// [`Error::Modem`] when the query fails.
    pub fn pdp_active(&mut self) -> Result<bool, Error<U::Error>> {
        let reply = self.run(&Cmd::fixed(Core::PDP_QUERY), None)?;
        self.core.pdp_reply(&reply)
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
        if let Some(apn) = self.core.apn_command()? {
            self.run(&apn, None)?;
        }
        let reply = self.run(&Cmd::fixed(Core::NETOPEN), None)?;
        self.core.netopen_reply(&reply)
    }

    fn start(&mut self) -> Result<(), Error<U::Error>> {
        let Some(cmd) = self.core.start_command() else {
            return Ok(());
        };
        let reply = self.run(&cmd, None)?;
        self.core.start_reply(&reply)
    }

    fn acquire(&mut self, client_id: &str) -> Result<(), Error<U::Error>> {
        if let Some(rel) = self.core.release_command()? {
            self.run(&rel, None)?;
            self.core.set_acquired(false);
        }
        let cmd = self.core.acquire_command(client_id)?;
        self.run(&cmd, None)?;
        self.core.set_acquired(true);
        Ok(())
    }

    fn require_session(&mut self) -> Result<(), Error<U::Error>> {
        self.poll()?;
        self.core.require_session()
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

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Uplink for SimcomMqtt<U, D, C> {
    type Error = Error<U::Error>;

    /// Network open when needed, `AT+CMQTTSTART`, `AT+CMQTTACCQ`, the will through its prompts,
    /// `AT+CMQTTCONNECT` and its `+CMQTTCONNECT: <idx>,<err>`.
    fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        self.poll()?;
        if self.core.connected {
            let _ = self.disconnect();
        }
        Core::check_session(session)?;
        self.attach()?;
        self.start()?;
        self.acquire(session.client_id)?;
        if let Some(will) = session.will {
            let (topic, msg) = self.core.will_commands(&will)?;
            self.run(&topic, Some(will.topic.as_bytes()))?;
            self.run(&msg, Some(will.payload))?;
        }
        let cmd = self.core.connect_command(session)?;
        let reply = self.run(&cmd, None)?;
        self.core.connect_reply(&reply)
    }

    /// Topic and payload through their prompts, then `AT+CMQTTPUB=<idx>,<qos>,<timeout>,<retain>`
    /// and its `+CMQTTPUB: <idx>,<err>`.
    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error> {
        self.require_session()?;
        let [t, p, publish] = self.core.publish_commands(topic, payload, qos, retain)?;
        self.run(&t, Some(topic.as_bytes()))?;
        self.run(&p, Some(payload))?;
        let reply = self.run(&publish, None)?;
        self.core.publish_reply(&reply)
    }

    /// The filter through `AT+CMQTTSUBTOPIC`'s prompt, then `AT+CMQTTSUB=<idx>`.
    fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error> {
        self.require_session()?;
        let (topic, sub) = self.core.subscribe_commands(filter, qos)?;
        self.run(&topic, Some(filter.as_bytes()))?;
        let reply = self.run(&sub, None)?;
        self.core.subscribe_reply(&reply)
    }

    fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error> {
        self.poll()?;
        self.core.receive(buf)
    }

    /// `Connected` while no `+CMQTTCONNLOST` has closed the session; otherwise `AT+CEREG?` and
    /// `AT+NETOPEN?` tell `Down`, `Attached` and `Online` apart.
    fn link_state(&mut self) -> Result<LinkState, Self::Error> {
        self.poll()?;
        if self.core.connected {
            return Ok(LinkState::Connected);
        }
        let registered = self.modem.registration();
        self.core.absorb(&mut self.modem);
        if !registered?.status().is_registered() {
            return Ok(LinkState::Down);
        }
        Ok(if self.pdp_active()? { LinkState::Online } else { LinkState::Attached })
    }

    fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error> {
        let csq = self.modem.signal();
        self.core.absorb(&mut self.modem);
        Ok(csq?.rssi_dbm())
    }

    /// `AT+CMQTTDISC=<idx>,<timeout>` (the broker does not publish the will).
    fn disconnect(&mut self) -> Result<(), Self::Error> {
        self.poll()?;
        let Some(cmd) = self.core.disconnect_command()? else {
            return Ok(());
        };
        let reply = self.run(&cmd, None);
        self.core.disconnect_reply(reply)
    }
}
