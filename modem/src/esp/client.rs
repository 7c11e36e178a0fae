//! The ESP-AT MQTT client: an ESP32/ESP8266 running ESP-AT as the locker's link, behind
//! [`Uplink`] (issue 8).
//!
//! [`EspUplink`] drives [`Modem`] with the ESP-AT command table ([`super::command`]):
//!
//! 1. [`EspUplink::start`]: wait for `ready`, `AT`, `ATE0`, `AT+CWMODE=1` (station).
//! 2. [`EspUplink::join`]: `AT+CWJAP="<ssid>","<pwd>"`; a failure is typed by its
//!    `+CWJAP:<code>` ([`JoinFailure`]).
//! 3. [`Uplink::connect`]: joins first when needed, then `AT+MQTTUSERCFG`, `AT+MQTTCONNCFG`
//!    (keep-alive, clean session and the will), `AT+MQTTCONN`.
//! 4. [`Uplink::publish`]: `AT+MQTTPUB` for short printable payloads without `"`, `,` or `\`,
//!    `AT+MQTTPUBRAW` with the `>` prompt and the awaited `+MQTTPUB:OK` for anything else
//!    (JSON, binary, NUL, long).
//! 5. [`Uplink::receive`]: the `+MQTTSUBRECV` URCs, whose payload the framer counted.
//!
//! The link state follows the message reports (`WIFI CONNECTED`, `WIFI GOT IP`,
//! `WIFI DISCONNECT`, `+MQTTCONNECTED`, `+MQTTDISCONNECTED`, `ready` after a reboot); when URCs
//! were lost the client re-polls `AT+CWJAP?` and `AT+MQTTCONN?`. ESP-AT.md cites the sources.

use super::response::{EspEvent, JoinFailure, classify, parse_cwjap_error, parse_cwjap_query, parse_mqttconn};
use super::{command, push_quoted};
use crate::blocking::{Clock, Error, LINE, Modem, URCS};
use crate::engine::{CommandError, Reply};
use crate::router::Urc;
use crate::uplink::{LinkState, Message, QoS, Session, Uplink};
use embedded_hal::delay::DelayNs;
use embedded_io::{Read, ReadReady, Write};
use heapless::{Deque, String, Vec};

/// The longest command line ESP-AT accepts: "the length of the entire AT command should be less
/// than 256 bytes" (ESP-AT.md §6).
pub const MAX_COMMAND: usize = 255;

/// Errors of the ESP-AT client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EspError<E> {
    /// The modem layer failed (UART, `ERROR`, timeout, unparsable reply).
    Modem(Error<E>),
    /// `AT+CWJAP` failed with this reason.
    Join(JoinFailure),
    /// A parameter does not fit into one command line or a fixed-size field (SSID over 32
    /// bytes, password over 64, a will payload that is not text).
    TooLong,
    /// The command failed with `ERR CODE:0x<code>` before `ERROR` (MQTT codes 0x6001-0x6052,
    /// ESP-AT.md §6).
    Code(u32),
    /// The MQTT session is not connected.
    NotConnected,
    /// A received message does not fit into the caller's buffer, or was longer than the line
    /// buffer (its topic and length are known, the payload was cut): it is dropped.
    MessageTooLong,
}

impl<E: core::fmt::Debug> core::fmt::Display for EspError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Modem(e) => write!(f, "{e}"),
            Self::Join(j) => write!(f, "Wi-Fi join failed: {} (+CWJAP:{})", j.name(), j.code()),
            Self::TooLong => f.write_str("parameter too long for an ESP-AT command"),
            Self::Code(c) => write!(f, "ERR CODE:0x{c:08x}"),
            Self::NotConnected => f.write_str("MQTT session not connected"),
            Self::MessageTooLong => f.write_str("received message longer than the buffer"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for EspError<E> {}

impl<E> From<Error<E>> for EspError<E> {
    fn from(e: Error<E>) -> Self {
        Self::Modem(e)
    }
}

impl<E> From<CommandError> for EspError<E> {
    fn from(e: CommandError) -> Self {
        Self::Modem(Error::Command(e))
    }
}

/// The station's Wi-Fi state as reported by the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wifi {
    /// Not joined.
    Down,
    /// `WIFI CONNECTED`: associated, no IPv4 address yet.
    Associated,
    /// `WIFI GOT IP` (or `OK` to `AT+CWJAP`, which means IPv4 is ready, ESP-AT.md §3).
    GotIp,
}

/// Counters of what the client saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EspStats {
    /// `ready` seen after start: the module rebooted.
    pub reboots: u32,
    /// `WIFI DISCONNECT` reports.
    pub wifi_drops: u32,
    /// `+MQTTDISCONNECTED` reports.
    pub mqtt_drops: u32,
    /// Messages dropped because the hold queue was full or they were cut.
    pub messages_dropped: u32,
}

type Line = Vec<u8, MAX_COMMAND>;

/// The ESP-AT MQTT client over a blocking [`Modem`]. MQTT link ID 0 (the only one ESP-AT
/// supports, ESP-AT.md §6), scheme 1 (MQTT over TCP).
#[derive(Debug)]
pub struct EspUplink<U, D, C> {
    modem: Modem<U, D, C>,
    ssid: String<32>,
    password: String<64>,
    wifi: Wifi,
    mqtt: bool,
    configured: bool,
    started: bool,
    held: Deque<Urc<LINE>, URCS>,
    stats: EspStats,
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> EspUplink<U, D, C> {
    /// A client that will join `ssid` with `password`.
    ///
    /// # Errors
    ///
    /// [`EspError::TooLong`] for an SSID over 32 bytes or a password over 64 (ESP-AT.md §3).
    pub fn new(modem: Modem<U, D, C>, ssid: &str, password: &str) -> Result<Self, EspError<U::Error>> {
        Ok(Self {
            modem,
            ssid: String::try_from(ssid).map_err(|_| EspError::TooLong)?,
            password: String::try_from(password).map_err(|_| EspError::TooLong)?,
            wifi: Wifi::Down,
            mqtt: false,
            configured: false,
            started: false,
            held: Deque::new(),
            stats: EspStats::default(),
        })
    }

    /// Brings the module up: waits up to `ready_ms` for `ready` (ESP-AT.md §1), then `AT` (3
    /// tries), `ATE0` and `AT+CWMODE=1` (station, ESP-AT.md §3), then asks `AT+CWJAP?` and
    /// `AT+MQTTCONN?` whether the module is already joined or connected.
    ///
    /// # Errors
    ///
    /// [`Error::NotReady`] when `AT` is never answered, other modem errors as they come.
    pub fn start(&mut self, ready_ms: u64) -> Result<(), EspError<U::Error>> {
        let until = self.modem.now_ms().saturating_add(ready_ms);
        'wait: while self.modem.now_ms() < until {
            self.modem.poll()?;
            while let Some(urc) = self.modem.pop_urc() {
                if classify(&urc.line) == EspEvent::Ready {
                    break 'wait;
                }
                self.absorb(urc);
            }
            self.modem.delay_ms(5);
        }
        let mut alive = false;
        for _ in 0..3 {
            match self.modem.run(&command(b"AT"), None) {
                Ok(_) => {
                    alive = true;
                    break;
                }
                Err(Error::Command(CommandError::Timeout)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !alive {
            return Err(Error::NotReady.into());
        }
        self.cmd(b"ATE0")?;
        self.cmd(b"AT+CWMODE=1")?;
        self.started = true;
        // A module that was already on may have joined by itself (auto-connect, ESP-AT.md §3):
        // learn the state instead of assuming it.
        match self.repoll() {
            Ok(()) | Err(EspError::Modem(Error::Parse(_) | Error::Command(CommandError::Error))) => {}
            Err(e) => return Err(e),
        }
        self.process()?;
        Ok(())
    }

    /// Joins the configured AP: `AT+CWJAP="<ssid>","<pwd>"` (ESP-AT.md §3).
    ///
    /// # Errors
    ///
    /// [`EspError::Join`] with the reason of `+CWJAP:<code>`, or the modem error (a timeout
    /// after [`super::JOIN_TIMEOUT_MS`], `ERROR` without a reason).
    pub fn join(&mut self) -> Result<(), EspError<U::Error>> {
        let mut line = Line::new();
        let _ = line.extend_from_slice(b"AT+CWJAP=");
        let (ssid, password) = (self.ssid.clone(), self.password.clone());
        push_quoted(&mut line, ssid.as_bytes()).ok_or(EspError::TooLong)?;
        line.push(b',').map_err(|_| EspError::TooLong)?;
        push_quoted(&mut line, password.as_bytes()).ok_or(EspError::TooLong)?;
        match self.modem.run(&command(&line), None) {
            Ok(_) => {
                self.process()?;
                self.wifi = Wifi::GotIp;
                Ok(())
            }
            Err(e) => {
                let reason = parse_cwjap_error(&self.modem.failed_reply().line).ok();
                self.process()?;
                self.wifi = Wifi::Down;
                Err(reason.map_or(e.into(), EspError::Join))
            }
        }
    }

    /// The station's IPv4 address from `AT+CIPSTA?` (ESP-AT.md §3).
    ///
    /// # Errors
    ///
    /// Modem errors, [`EspError::TooLong`] for an address over 46 bytes.
    pub fn station_ip(&mut self) -> Result<String<46>, EspError<U::Error>> {
        let reply = self.cmd(b"AT+CIPSTA?")?;
        let sta = super::response::parse_cipsta(&reply.line).map_err(Error::Parse)?;
        String::try_from(sta.address).map_err(|_| EspError::TooLong)
    }

    /// The first line of `AT+GMR` (`AT version:...`, ESP-AT.md §2).
    ///
    /// # Errors
    ///
    /// Modem errors, [`EspError::TooLong`] for a line over 128 bytes.
    pub fn firmware_version(&mut self) -> Result<String<128>, EspError<U::Error>> {
        let reply = self.cmd(b"AT+GMR")?;
        let text = core::str::from_utf8(&reply.line).map_err(|_| EspError::TooLong)?;
        String::try_from(text).map_err(|_| EspError::TooLong)
    }

    /// Enables SNTP: `AT+CIPSNTPCFG=1,<timezone>,"<server>"` (ESP-AT.md §5; `timezone` in
    /// hours, -12..=14).
    ///
    /// # Errors
    ///
    /// Modem errors, [`EspError::TooLong`].
    pub fn configure_sntp(&mut self, timezone: i8, server: &str) -> Result<(), EspError<U::Error>> {
        let mut line = Line::new();
        let mut head: String<32> = String::new();
        core::fmt::Write::write_fmt(&mut head, format_args!("AT+CIPSNTPCFG=1,{timezone},"))
            .map_err(|_| EspError::TooLong)?;
        let _ = line.extend_from_slice(head.as_bytes());
        push_quoted(&mut line, server.as_bytes()).ok_or(EspError::TooLong)?;
        self.cmd(&line).map(|_| ())
    }

    /// The network time: `AT+CIPSNTPTIME?` (ESP-AT.md §5).
    ///
    /// # Errors
    ///
    /// Modem errors or [`Error::Parse`].
    pub fn network_time(&mut self) -> Result<super::response::SntpTime, EspError<U::Error>> {
        let reply = self.cmd(b"AT+CIPSNTPTIME?")?;
        Ok(super::response::parse_sntp_time(&reply.line).map_err(Error::Parse)?)
    }

    /// The Wi-Fi state from the reports seen so far.
    pub fn wifi(&self) -> Wifi {
        self.wifi
    }

    /// Counters.
    pub fn stats(&self) -> EspStats {
        self.stats
    }

    /// The modem, e.g. to send another command or script a simulator.
    pub fn modem_mut(&mut self) -> &mut Modem<U, D, C> {
        &mut self.modem
    }

    /// The modem back.
    pub fn release(self) -> Modem<U, D, C> {
        self.modem
    }

    fn cmd(&mut self, text: &[u8]) -> Result<Reply<LINE>, EspError<U::Error>> {
        let reply = self.modem.run(&command(text), None);
        let reply = self.typed_failure(reply);
        self.process()?;
        reply
    }

    /// `ERROR` after `ERR CODE:0x...` becomes [`EspError::Code`].
    fn typed_failure(&self, reply: Result<Reply<LINE>, Error<U::Error>>) -> Result<Reply<LINE>, EspError<U::Error>> {
        match reply {
            Err(Error::Command(CommandError::Error)) => {
                match super::response::parse_err_code(&self.modem.failed_reply().line) {
                    Ok(code) => Err(EspError::Code(code)),
                    Err(_) => Err(Error::Command(CommandError::Error).into()),
                }
            }
            other => Ok(other?),
        }
    }

    /// Reads what the UART has ready and applies the queued reports to the state; messages are
    /// held for [`Uplink::receive`].
    fn process(&mut self) -> Result<(), EspError<U::Error>> {
        self.modem.poll()?;
        while let Some(urc) = self.modem.pop_urc() {
            self.absorb(urc);
        }
        if self.modem.take_lost() > 0 {
            self.repoll()?;
        }
        Ok(())
    }

    fn absorb(&mut self, urc: Urc<LINE>) {
        if let EspEvent::MqttMessage(_) = classify(&urc.line) {
            if self.held.push_back(urc).is_err() {
                self.stats.messages_dropped += 1;
            }
            return;
        }
        match classify(&urc.line) {
            EspEvent::Ready => {
                if self.started {
                    self.stats.reboots += 1;
                }
                self.wifi = Wifi::Down;
                self.mqtt = false;
            }
            EspEvent::WifiConnected if self.wifi == Wifi::Down => self.wifi = Wifi::Associated,
            EspEvent::WifiGotIp => self.wifi = Wifi::GotIp,
            EspEvent::WifiDisconnect => {
                self.stats.wifi_drops += 1;
                self.wifi = Wifi::Down;
                self.mqtt = false;
            }
            EspEvent::MqttConnected(c) if c.link == 0 => self.mqtt = true,
            EspEvent::MqttDisconnected(0) => {
                self.stats.mqtt_drops += 1;
                self.mqtt = false;
            }
            _ => {}
        }
    }

    /// After lost URCs: ask the module (`AT+CWJAP?`, `AT+MQTTCONN?`).
    fn repoll(&mut self) -> Result<(), EspError<U::Error>> {
        let ap = self.modem.run(&command(b"AT+CWJAP?"), None)?;
        let joined = parse_cwjap_query(&ap.line).map_err(Error::Parse)?.is_some();
        if !joined {
            self.wifi = Wifi::Down;
        } else if self.wifi == Wifi::Down {
            self.wifi = Wifi::GotIp;
        }
        let conn = self.modem.run(&command(b"AT+MQTTCONN?"), None)?;
        self.mqtt = parse_mqttconn(&conn.line).map(|c| c.is_connected()).unwrap_or(false);
        Ok(())
    }

    fn publish_text(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Option<Line> {
        // Only plain printable text goes inline: quotes, commas and backslashes would need the
        // escape syntax inside the string parameter, and `\0` cannot be sent at all (ESP-AT.md
        // §6); anything else is published with `AT+MQTTPUBRAW`.
        if !payload.iter().all(|b| (0x20..0x7f).contains(b) && !matches!(b, b'"' | b',' | b'\\')) {
            return None;
        }
        let mut line = Line::new();
        line.extend_from_slice(b"AT+MQTTPUB=0,").ok()?;
        push_quoted(&mut line, topic.as_bytes())?;
        line.push(b',').ok()?;
        push_quoted(&mut line, payload)?;
        let mut tail: String<8> = String::new();
        core::fmt::Write::write_fmt(&mut tail, format_args!(",{},{}", qos.number(), u8::from(retain))).ok()?;
        line.extend_from_slice(tail.as_bytes()).ok()?;
        Some(line)
    }
}

impl<U: Read + Write + ReadReady, D: DelayNs, C: Clock> Uplink for EspUplink<U, D, C> {
    type Error = EspError<U::Error>;

    fn connect(&mut self, session: &Session<'_>) -> Result<(), Self::Error> {
        self.process()?;
        if self.wifi != Wifi::GotIp {
            self.join()?;
        }
        if self.configured {
            // A previous session (connected, dropped or refused) must be released before the
            // link can be configured again (error 0x6004 "already connected", ESP-AT.md §6).
            match self.cmd(b"AT+MQTTCLEAN=0") {
                Ok(_) | Err(EspError::Modem(Error::Command(CommandError::Error))) => {}
                Err(e) => return Err(e),
            }
            self.mqtt = false;
        }
        let (user, pass) = session.credentials.unwrap_or(("", ""));
        let mut line = Line::new();
        let _ = line.extend_from_slice(b"AT+MQTTUSERCFG=0,1,");
        for (i, text) in [session.client_id, user, pass].into_iter().enumerate() {
            if i > 0 {
                line.push(b',').map_err(|_| EspError::TooLong)?;
            }
            push_quoted(&mut line, text.as_bytes()).ok_or(EspError::TooLong)?;
        }
        line.extend_from_slice(b",0,0,\"\"").map_err(|_| EspError::TooLong)?;
        self.cmd(&line)?;
        self.configured = true;
        if let Some(will) = session.will {
            let payload = core::str::from_utf8(will.payload).map_err(|_| EspError::TooLong)?;
            let mut line = Line::new();
            let mut head: String<40> = String::new();
            core::fmt::Write::write_fmt(
                &mut head,
                format_args!("AT+MQTTCONNCFG=0,{},{},", session.keepalive_s, u8::from(!session.clean_session)),
            )
            .map_err(|_| EspError::TooLong)?;
            let _ = line.extend_from_slice(head.as_bytes());
            push_quoted(&mut line, will.topic.as_bytes()).ok_or(EspError::TooLong)?;
            line.push(b',').map_err(|_| EspError::TooLong)?;
            push_quoted(&mut line, payload.as_bytes()).ok_or(EspError::TooLong)?;
            let mut tail: String<8> = String::new();
            core::fmt::Write::write_fmt(&mut tail, format_args!(",{},{}", will.qos.number(), u8::from(will.retain)))
                .map_err(|_| EspError::TooLong)?;
            line.extend_from_slice(tail.as_bytes()).map_err(|_| EspError::TooLong)?;
            self.cmd(&line)?;
        }
        let mut line = Line::new();
        let _ = line.extend_from_slice(b"AT+MQTTCONN=0,");
        push_quoted(&mut line, session.host.as_bytes()).ok_or(EspError::TooLong)?;
        let mut tail: String<8> = String::new();
        core::fmt::Write::write_fmt(&mut tail, format_args!(",{},0", session.port)).map_err(|_| EspError::TooLong)?;
        line.extend_from_slice(tail.as_bytes()).map_err(|_| EspError::TooLong)?;
        self.cmd(&line)?;
        self.mqtt = true;
        Ok(())
    }

    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<(), Self::Error> {
        self.process()?;
        if !self.mqtt {
            return Err(EspError::NotConnected);
        }
        if let Some(line) = self.publish_text(topic, payload, qos, retain) {
            return self.cmd(&line).map(|_| ());
        }
        let mut line = Line::new();
        let _ = line.extend_from_slice(b"AT+MQTTPUBRAW=0,");
        push_quoted(&mut line, topic.as_bytes()).ok_or(EspError::TooLong)?;
        let mut tail: String<24> = String::new();
        core::fmt::Write::write_fmt(
            &mut tail,
            format_args!(",{},{},{}", payload.len(), qos.number(), u8::from(retain)),
        )
        .map_err(|_| EspError::TooLong)?;
        line.extend_from_slice(tail.as_bytes()).map_err(|_| EspError::TooLong)?;
        let reply = self.modem.run(&command(&line), Some((payload, None)));
        let reply = self.typed_failure(reply);
        self.process()?;
        reply.map(|_| ())
    }

    fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<(), Self::Error> {
        let mut line = Line::new();
        let _ = line.extend_from_slice(b"AT+MQTTSUB=0,");
        push_quoted(&mut line, filter.as_bytes()).ok_or(EspError::TooLong)?;
        line.push(b',').map_err(|_| EspError::TooLong)?;
        line.push(b'0' + qos.number()).map_err(|_| EspError::TooLong)?;
        // `ALREADY SUBSCRIBE` is an information line before the final (ESP-AT.md §6): fine.
        self.cmd(&line).map(|_| ())
    }

    fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Option<Message<'b>>, Self::Error> {
        self.process()?;
        let Some(urc) = self.held.pop_front() else { return Ok(None) };
        let EspEvent::MqttMessage(header) = classify(&urc.line) else { return Ok(None) };
        let (topic, payload) = (header.topic.as_bytes(), urc.data.as_slice());
        if urc.data_truncated > 0 || payload.len() != usize::from(header.len) || topic.len() + payload.len() > buf.len()
        {
            self.stats.messages_dropped += 1;
            return Err(EspError::MessageTooLong);
        }
        let (t, rest) = buf.split_at_mut(topic.len());
        t.copy_from_slice(topic);
        let p = rest.get_mut(..payload.len()).ok_or(EspError::MessageTooLong)?;
        p.copy_from_slice(payload);
        let topic = core::str::from_utf8(t).map_err(|_| EspError::MessageTooLong)?;
        Ok(Some(Message { topic, payload: p }))
    }

    fn link_state(&mut self) -> Result<LinkState, Self::Error> {
        self.process()?;
        Ok(match (self.wifi, self.mqtt) {
            (Wifi::GotIp, true) => LinkState::Connected,
            (Wifi::GotIp, false) => LinkState::Online,
            (Wifi::Associated, _) => LinkState::Attached,
            (Wifi::Down, _) => LinkState::Down,
        })
    }

    fn signal_dbm(&mut self) -> Result<Option<i16>, Self::Error> {
        let reply = self.cmd(b"AT+CWJAP?")?;
        Ok(parse_cwjap_query(&reply.line).map_err(Error::Parse)?.map(|ap| ap.rssi))
    }

    fn disconnect(&mut self) -> Result<(), Self::Error> {
        self.cmd(b"AT+MQTTCLEAN=0")?;
        self.mqtt = false;
        self.configured = false;
        Ok(())
    }
}
