//! Typed parsers for ESP-AT responses and message reports (ESP-AT.md §1-§6).
//!
//! Each parser takes one line as the router delivers it (without terminator; for `+IPD` and
//! `+MQTTSUBRECV` the header line the framer emitted before counting the payload) and returns a
//! borrowed value or a [`ParseError`] naming the field and its offset. ESP-AT writes no space
//! after the colon (`+CWJAP:"ssid",...`); spaces are tolerated anyway.

use crate::error::ParseError;
use crate::params::{Field, Fields, after_prefix, trim};

fn body(line: &[u8], prefix: &'static str) -> Result<usize, ParseError> {
    after_prefix(line, prefix.as_bytes()).ok_or(ParseError::Prefix { expected: prefix })
}

fn need<'a>(field: Option<Field<'a>>, name: &'static str, line: &[u8]) -> Result<Field<'a>, ParseError> {
    field.ok_or(ParseError::Missing { field: name, offset: line.len() })
}

fn small<T: TryFrom<u32>>(field: &Field<'_>, name: &'static str) -> Result<T, ParseError> {
    T::try_from(field.dec(name)?).map_err(|_| ParseError::Invalid { field: name, offset: field.offset() })
}

fn opt_small<T: TryFrom<u32>>(field: Option<Field<'_>>, name: &'static str) -> Result<Option<T>, ParseError> {
    match field {
        None => Ok(None),
        Some(f) if f.is_omitted() => Ok(None),
        Some(f) => small(&f, name).map(Some),
    }
}

fn signed(field: &Field<'_>, name: &'static str) -> Result<i16, ParseError> {
    let invalid = ParseError::Invalid { field: name, offset: field.offset() };
    let text = trim(field.text());
    let (neg, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    let value = i16::try_from(crate::params::parse_dec(digits).ok_or(invalid)?).map_err(|_| invalid)?;
    Ok(if neg { -value } else { value })
}

fn fields<const M: usize>(line: &[u8], start: usize) -> Result<([Option<Field<'_>>; M], usize), ParseError> {
    Fields::new(line, start).collect_array::<M>()
}

// ---------------------------------------------------------------------------------------------
// Wi-Fi

/// Why `AT+CWJAP` failed: the `<error code>` of `+CWJAP:<error code>` (ESP-AT.md §3; "only for
/// reference" according to Espressif).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JoinFailure {
    /// 1: connection timeout.
    Timeout,
    /// 2: wrong password.
    WrongPassword,
    /// 3: cannot find the target AP.
    ApNotFound,
    /// 4: connection failed.
    ConnectFailed,
    /// Any other code ("unknown error").
    Unknown(u8),
}

impl JoinFailure {
    /// The failure for an error code.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Timeout,
            2 => Self::WrongPassword,
            3 => Self::ApNotFound,
            4 => Self::ConnectFailed,
            other => Self::Unknown(other),
        }
    }

    /// The error code.
    pub fn code(self) -> u8 {
        match self {
            Self::Timeout => 1,
            Self::WrongPassword => 2,
            Self::ApNotFound => 3,
            Self::ConnectFailed => 4,
            Self::Unknown(c) => c,
        }
    }

    /// A short name (`"timeout"`, `"wrong_password"`, `"ap_not_found"`, `"connect_failed"`,
    /// `"unknown"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::WrongPassword => "wrong_password",
            Self::ApNotFound => "ap_not_found",
            Self::ConnectFailed => "connect_failed",
            Self::Unknown(_) => "unknown",
        }
    }
}

/// `+CWJAP:<error code>`, the line before `FAIL`/`ERROR` of a failed join (ESP-AT.md §3).
///
/// # Errors
///
/// [`ParseError`] when the line is not a one-number `+CWJAP:` line.
pub fn parse_cwjap_error(line: &[u8]) -> Result<JoinFailure, ParseError> {
    let start = body(line, "+CWJAP")?;
    let (f, n) = fields::<2>(line, start)?;
    if n != 1 {
        return Err(ParseError::Arity { found: n });
    }
    let [code, _] = f;
    Ok(JoinFailure::from_code(small(&need(code, "error code", line)?, "error code")?))
}

/// The AP the station is joined to, from `AT+CWJAP?` (ESP-AT.md §3):
/// `+CWJAP:<ssid>,<bssid>,<channel>,<rssi>[,<pci_en>,<reconn_interval>,<listen_interval>,<scan_mode>,<pmf>]`
/// (ESP-AT 1.x sends only the first four).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinedAp<'a> {
    /// `<ssid>`.
    pub ssid: &'a str,
    /// `<bssid>`, the AP's MAC address as text.
    pub bssid: &'a str,
    /// `<channel>`.
    pub channel: u8,
    /// `<rssi>` in dBm.
    pub rssi: i16,
    /// `<pci_en>`.
    pub pci_en: Option<u8>,
    /// `<reconn_interval>` in seconds.
    pub reconn_interval: Option<u16>,
    /// `<listen_interval>` in beacon intervals.
    pub listen_interval: Option<u8>,
    /// `<scan_mode>`.
    pub scan_mode: Option<u8>,
    /// `<pmf>`.
    pub pmf: Option<u8>,
}

/// `AT+CWJAP?`: the joined AP, or `None` for the `No AP` answer of a station not joined
/// (ESP-AT.md §3).
///
/// # Errors
///
/// [`ParseError`] when the line is neither form.
pub fn parse_cwjap_query(line: &[u8]) -> Result<Option<JoinedAp<'_>>, ParseError> {
    if trim(line) == b"No AP" {
        return Ok(None);
    }
    let start = body(line, "+CWJAP")?;
    let (f, n) = fields::<9>(line, start)?;
    if n != 4 && n != 9 {
        return Err(ParseError::Arity { found: n });
    }
    let [ssid, bssid, channel, rssi, pci, reconn, listen, scan, pmf] = f;
    Ok(Some(JoinedAp {
        ssid: need(ssid, "ssid", line)?.str("ssid")?,
        bssid: need(bssid, "bssid", line)?.str("bssid")?,
        channel: small(&need(channel, "channel", line)?, "channel")?,
        rssi: signed(&need(rssi, "rssi", line)?, "rssi")?,
        pci_en: opt_small(pci, "pci_en")?,
        reconn_interval: opt_small(reconn, "reconn_interval")?,
        listen_interval: opt_small(listen, "listen_interval")?,
        scan_mode: opt_small(scan, "scan_mode")?,
        pmf: opt_small(pmf, "pmf")?,
    }))
}

/// `+CWMODE:<mode>` (ESP-AT.md §3): 0 off, 1 station, 2 SoftAP, 3 both.
///
/// # Errors
///
/// [`ParseError`] for another line.
pub fn parse_cwmode(line: &[u8]) -> Result<u8, ParseError> {
    let start = body(line, "+CWMODE")?;
    let (f, n) = fields::<2>(line, start)?;
    let [mode, _] = f;
    if n != 1 {
        return Err(ParseError::Arity { found: n });
    }
    small(&need(mode, "mode", line)?, "mode")
}

/// One line of `AT+CIPSTA?`: `+CIPSTA:<key>:"<address>"` (ESP-AT.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaAddress<'a> {
    /// `ip`, `gateway`, `netmask`, `ip6ll` or `ip6gl`.
    pub key: &'a str,
    /// The address text.
    pub address: &'a str,
}

/// `+CIPSTA:ip:"192.168.3.112"` and the `gateway`, `netmask`, `ip6ll`, `ip6gl` lines.
///
/// # Errors
///
/// [`ParseError`] for another line.
pub fn parse_cipsta(line: &[u8]) -> Result<StaAddress<'_>, ParseError> {
    let start = body(line, "+CIPSTA")?;
    let rest = line.get(start..).unwrap_or(&[]);
    let colon = rest.iter().position(|&b| b == b':').ok_or(ParseError::Missing { field: "key", offset: line.len() })?;
    let key_bytes = trim(rest.get(..colon).unwrap_or(&[]));
    let key = core::str::from_utf8(key_bytes).map_err(|_| ParseError::Invalid { field: "key", offset: start })?;
    if key.is_empty() || !key_bytes.iter().all(u8::is_ascii_alphanumeric) {
        return Err(ParseError::Invalid { field: "key", offset: start });
    }
    let (f, n) = fields::<2>(line, start + colon + 1)?;
    let [address, _] = f;
    if n != 1 {
        return Err(ParseError::Arity { found: n });
    }
    Ok(StaAddress { key, address: need(address, "address", line)?.str("address")? })
}

/// One line of `AT+GMR` (ESP-AT.md §2): `AT version:...`, `SDK version:...`,
/// `compile time(...):...`, `Bin version:...`, split at the first colon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionLine<'a> {
    /// The text before the first colon (`AT version`).
    pub key: &'a str,
    /// The text after it.
    pub value: &'a str,
}

/// Splits one `AT+GMR` line.
///
/// # Errors
///
/// [`ParseError::Missing`] for a line without a colon, [`ParseError::Invalid`] for non-UTF-8.
pub fn parse_gmr_line(line: &[u8]) -> Result<VersionLine<'_>, ParseError> {
    let colon = line.iter().position(|&b| b == b':').ok_or(ParseError::Missing { field: "key", offset: line.len() })?;
    let text = core::str::from_utf8(line).map_err(|_| ParseError::Invalid { field: "version", offset: 0 })?;
    let (key, value) = (text.get(..colon).unwrap_or(""), text.get(colon + 1..).unwrap_or(""));
    Ok(VersionLine { key: key.trim(), value: value.trim() })
}

// ---------------------------------------------------------------------------------------------
// TCP/IP

/// The header of received socket data (ESP-AT.md §4): `+IPD,[<link>,]<len>[,"<ip>",<port>]:`,
/// or the passive-mode notice `+IPD,[<link>,]<len>` (no colon, no data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipd<'a> {
    /// `<link ID>` in multiple-connection mode.
    pub link: Option<u8>,
    /// `<len>`: the payload length.
    pub len: u16,
    /// `<remote IP>`, `<remote port>` with `AT+CIPDINFO=1`.
    pub remote: Option<(&'a str, u16)>,
    /// True when the payload follows (the header ends with `:`).
    pub has_data: bool,
}

/// Parses an `+IPD` header.
///
/// # Errors
///
/// [`ParseError`] for another line or a field count no form has.
pub fn parse_ipd(line: &[u8]) -> Result<Ipd<'_>, ParseError> {
    let line = trim(line);
    if !line.starts_with(b"+IPD,") {
        return Err(ParseError::Prefix { expected: "+IPD" });
    }
    let (head, has_data) = match line.strip_suffix(b":") {
        Some(head) => (head, true),
        None => (line, false),
    };
    let (f, n) = fields::<4>(head, 5)?;
    let [a, b, c, d] = f;
    let port =
        |f: Option<Field<'_>>| -> Result<u16, ParseError> { small(&need(f, "remote port", line)?, "remote port") };
    let (link, len, remote) = match n {
        1 => (None, a, None),
        2 => (Some(a), b, None),
        3 if has_data => (None, a, Some((ip_of(b, line)?, port(c)?))),
        4 if has_data => (Some(a), b, Some((ip_of(c, line)?, port(d)?))),
        _ => return Err(ParseError::Arity { found: n }),
    };
    let link = match link {
        Some(l) => Some(small(&need(l, "link ID", line)?, "link ID")?),
        None => None,
    };
    Ok(Ipd { link, len: small(&need(len, "len", line)?, "len")?, remote, has_data })
}

fn ip_of<'a>(f: Option<Field<'a>>, line: &[u8]) -> Result<&'a str, ParseError> {
    need(f, "remote IP", line)?.str("remote IP")
}

/// A network time from `AT+CIPSNTPTIME?`: `+CIPSNTPTIME:<asctime-style time>`, e.g.
/// `+CIPSNTPTIME:Mon Dec 12 02:33:32 2016` (ESP-AT.md §5). Before the first synchronisation
/// the module reports 1970.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SntpTime {
    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Year.
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day of the month 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=60.
    pub second: u8,
}

impl SntpTime {
    /// True once the module has synchronised (a year after 1970, ESP-AT.md §5).
    pub fn is_synchronised(&self) -> bool {
        self.year > 1970
    }
}

const WEEKDAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
const MONTHS: [&[u8]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Parses `+CIPSNTPTIME:...`.
///
/// # Errors
///
/// [`ParseError`] naming the word that is missing or invalid.
pub fn parse_sntp_time(line: &[u8]) -> Result<SntpTime, ParseError> {
    let start = body(line, "+CIPSNTPTIME")?;
    let rest = line.get(start..).unwrap_or(&[]);
    let mut words = rest.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let offset_of = |w: &[u8]| (w.as_ptr() as usize).saturating_sub(line.as_ptr() as usize);
    let mut word = |name: &'static str| words.next().ok_or(ParseError::Missing { field: name, offset: line.len() });
    let lookup = |w: &[u8], table: &[&[u8]], name: &'static str| -> Result<u8, ParseError> {
        table
            .iter()
            .position(|t| t.eq_ignore_ascii_case(w))
            .and_then(|p| u8::try_from(p).ok())
            .ok_or(ParseError::Invalid { field: name, offset: offset_of(w) })
    };
    let number = |w: &[u8], name: &'static str, max: u32| -> Result<u32, ParseError> {
        crate::params::parse_dec(w)
            .filter(|&v| v <= max)
            .ok_or(ParseError::Invalid { field: name, offset: offset_of(w) })
    };
    let weekday = lookup(word("weekday")?, &WEEKDAYS, "weekday")?;
    let month = lookup(word("month")?, &MONTHS, "month")? + 1;
    let day_word = word("day")?;
    let day = number(day_word, "day", 31)?;
    let time = word("time")?;
    let year_word = word("year")?;
    let year = number(year_word, "year", 9999)?;
    let mut hms = time.split(|&b| b == b':');
    let mut part = |name: &'static str, max: u32| -> Result<u8, ParseError> {
        let w = hms.next().ok_or(ParseError::Invalid { field: name, offset: offset_of(time) })?;
        number(w, name, max).map(|v| v as u8)
    };
    let (hour, minute, second) = (part("hour", 23)?, part("minute", 59)?, part("second", 60)?);
    if day == 0 {
        return Err(ParseError::Invalid { field: "day", offset: offset_of(day_word) });
    }
    Ok(SntpTime { weekday, year: year as u16, month, day: day as u8, hour, minute, second })
}

// ---------------------------------------------------------------------------------------------
// MQTT

/// The header of a received MQTT message, `+MQTTSUBRECV:<LinkID>,"<topic>",<data_length>,`
/// (ESP-AT.md §6); the payload follows as counted data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubRecv<'a> {
    /// `<LinkID>`.
    pub link: u8,
    /// `<topic>`.
    pub topic: &'a str,
    /// `<data_length>`.
    pub len: u16,
}

/// Parses the `+MQTTSUBRECV` header (with or without the trailing comma).
///
/// # Errors
///
/// [`ParseError`] for another line.
pub fn parse_subrecv(line: &[u8]) -> Result<SubRecv<'_>, ParseError> {
    let start = body(line, "+MQTTSUBRECV")?;
    let head = line.strip_suffix(b",").unwrap_or(line);
    let (f, n) = fields::<3>(head, start)?;
    if n != 3 {
        return Err(ParseError::Arity { found: n });
    }
    let [link, topic, len] = f;
    let topic = need(topic, "topic", line)?;
    if !topic.is_quoted() {
        return Err(ParseError::Invalid { field: "topic", offset: topic.offset() });
    }
    Ok(SubRecv {
        link: small(&need(link, "LinkID", line)?, "LinkID")?,
        topic: topic.str("topic")?,
        len: small(&need(len, "data_length", line)?, "data_length")?,
    })
}

/// `+MQTTCONNECTED:<LinkID>,<scheme>,<"host">,<port>,<"path">,<reconnect>` (ESP-AT.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MqttConnected<'a> {
    /// `<LinkID>`.
    pub link: u8,
    /// `<scheme>` (1 MQTT over TCP, 2-5 TLS, 6-10 WebSocket).
    pub scheme: u8,
    /// `<host>`.
    pub host: &'a str,
    /// `<port>` (quoted by some firmware).
    pub port: u16,
    /// `<path>`.
    pub path: &'a str,
    /// `<reconnect>`.
    pub reconnect: u8,
}

/// Parses `+MQTTCONNECTED:...`.
///
/// # Errors
///
/// [`ParseError`] for another line.
pub fn parse_mqtt_connected(line: &[u8]) -> Result<MqttConnected<'_>, ParseError> {
    let start = body(line, "+MQTTCONNECTED")?;
    let (f, n) = fields::<6>(line, start)?;
    if n != 6 {
        return Err(ParseError::Arity { found: n });
    }
    let [link, scheme, host, port, path, reconnect] = f;
    Ok(MqttConnected {
        link: small(&need(link, "LinkID", line)?, "LinkID")?,
        scheme: small(&need(scheme, "scheme", line)?, "scheme")?,
        host: need(host, "host", line)?.str("host")?,
        port: small(&need(port, "port", line)?, "port")?,
        path: need(path, "path", line)?.str("path")?,
        reconnect: small(&need(reconnect, "reconnect", line)?, "reconnect")?,
    })
}

/// `+MQTTDISCONNECTED:<LinkID>` (ESP-AT.md §6): the link of the session that ended.
///
/// # Errors
///
/// [`ParseError`] for another line.
pub fn parse_mqtt_disconnected(line: &[u8]) -> Result<u8, ParseError> {
    let start = body(line, "+MQTTDISCONNECTED")?;
    let (f, n) = fields::<2>(line, start)?;
    if n != 1 {
        return Err(ParseError::Arity { found: n });
    }
    let [link, _] = f;
    small(&need(link, "LinkID", line)?, "LinkID")
}

/// `AT+MQTTCONN?`: `+MQTTCONN:<LinkID>,<state>,<scheme>,<"host">,<port>,<"path">,<reconnect>`
/// (ESP-AT.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MqttConn<'a> {
    /// `<LinkID>`.
    pub link: u8,
    /// `<state>`: 0 uninitialised, 1 user configured, 2 connection configured, 3 disconnected,
    /// 4 connected, 5 connected without subscription, 6 connected and subscribed.
    pub state: u8,
    /// `<scheme>`.
    pub scheme: u8,
    /// `<host>`.
    pub host: &'a str,
    /// `<port>`.
    pub port: Option<u16>,
    /// `<path>`.
    pub path: &'a str,
    /// `<reconnect>`.
    pub reconnect: Option<u8>,
}

impl MqttConn<'_> {
    /// True for the connected states 4, 5 and 6.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, 4..=6)
    }
}

/// Parses `+MQTTCONN:...`.
///
/// # Errors
///
/// [`ParseError`] for another line.
pub fn parse_mqttconn(line: &[u8]) -> Result<MqttConn<'_>, ParseError> {
    let start = body(line, "+MQTTCONN")?;
    let (f, n) = fields::<7>(line, start)?;
    if n != 7 {
        return Err(ParseError::Arity { found: n });
    }
    let [link, state, scheme, host, port, path, reconnect] = f;
    let port = port.filter(|p| !p.text().is_empty());
    Ok(MqttConn {
        link: small(&need(link, "LinkID", line)?, "LinkID")?,
        state: small(&need(state, "state", line)?, "state")?,
        scheme: small(&need(scheme, "scheme", line)?, "scheme")?,
        host: need(host, "host", line)?.str("host")?,
        port: opt_small(port, "port")?,
        path: need(path, "path", line)?.str("path")?,
        reconnect: opt_small(reconnect.filter(|r| !r.text().is_empty()), "reconnect")?,
    })
}

/// `+MQTTPUB:OK` (true) or `+MQTTPUB:FAIL` (false), the result of `AT+MQTTPUBRAW`
/// (ESP-AT.md §6).
///
/// # Errors
///
/// [`ParseError`] for another line.
pub fn parse_mqttpub_result(line: &[u8]) -> Result<bool, ParseError> {
    let start = body(line, "+MQTTPUB")?;
    match trim(line.get(start..).unwrap_or(&[])) {
        b"OK" => Ok(true),
        b"FAIL" => Ok(false),
        _ => Err(ParseError::Invalid { field: "result", offset: start }),
    }
}

/// `ERR CODE:0x<%08x>`, the error code ESP-AT prints before `ERROR` (AT Messages; MQTT Error
/// Codes 0x6001-0x6052, ESP-AT.md §1, §6).
///
/// # Errors
///
/// [`ParseError`] for another line.
pub fn parse_err_code(line: &[u8]) -> Result<u32, ParseError> {
    let rest = trim(line).strip_prefix(b"ERR CODE:").ok_or(ParseError::Prefix { expected: "ERR CODE" })?;
    let invalid = ParseError::Invalid { field: "code", offset: 9 };
    let hex = rest.strip_prefix(b"0x").or_else(|| rest.strip_prefix(b"0X")).ok_or(invalid)?;
    if hex.is_empty() || hex.len() > 8 {
        return Err(invalid);
    }
    let mut value: u32 = 0;
    for &b in hex {
        let digit = char::from(b).to_digit(16).ok_or(invalid)?;
        value = (value << 4) | digit;
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------------------
// Message reports

/// What an unsolicited ESP-AT line reports (ESP-AT.md §1, §4, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EspEvent<'a> {
    /// `ready`: the firmware (re)booted.
    Ready,
    /// `WIFI CONNECTED`.
    WifiConnected,
    /// `WIFI GOT IP` (IPv4).
    WifiGotIp,
    /// `WIFI DISCONNECT`.
    WifiDisconnect,
    /// `[<link>,]CONNECT`: a TCP/UDP/SSL link opened.
    LinkConnect(Option<u8>),
    /// `[<link>,]CLOSED`: a link closed.
    LinkClosed(Option<u8>),
    /// `+IPD` header (its payload is the URC's data).
    Ipd(Ipd<'a>),
    /// `+MQTTCONNECTED:...`.
    MqttConnected(MqttConnected<'a>),
    /// `+MQTTDISCONNECTED:<LinkID>`.
    MqttDisconnected(u8),
    /// `+MQTTSUBRECV` header (its payload is the URC's data).
    MqttMessage(SubRecv<'a>),
    /// Anything else (`busy p...`, `ERR CODE:...`, an unknown report).
    Other(&'a [u8]),
}

/// Classifies an unsolicited line; a line that looks like a known report but does not parse is
/// [`EspEvent::Other`].
pub fn classify(line: &[u8]) -> EspEvent<'_> {
    let t = trim(line);
    let link = |t: &[u8], word: &[u8]| -> Option<Option<u8>> {
        if t == word {
            return Some(None);
        }
        let comma = t.iter().position(|&b| b == b',')?;
        let (l, rest) = t.split_at(comma);
        (rest.get(1..) == Some(word)).then(|| crate::params::parse_dec(l).and_then(|v| u8::try_from(v).ok()))?.map(Some)
    };
    match t {
        b"ready" => return EspEvent::Ready,
        b"WIFI CONNECTED" => return EspEvent::WifiConnected,
        b"WIFI GOT IP" => return EspEvent::WifiGotIp,
        b"WIFI DISCONNECT" => return EspEvent::WifiDisconnect,
        _ => {}
    }
    if let Some(l) = link(t, b"CONNECT") {
        return EspEvent::LinkConnect(l);
    }
    if let Some(l) = link(t, b"CLOSED") {
        return EspEvent::LinkClosed(l);
    }
    if let Ok(ipd) = parse_ipd(t) {
        return EspEvent::Ipd(ipd);
    }
    if let Ok(c) = parse_mqtt_connected(t) {
        return EspEvent::MqttConnected(c);
    }
    if let Ok(l) = parse_mqtt_disconnected(t) {
        return EspEvent::MqttDisconnected(l);
    }
    if let Ok(m) = parse_subrecv(t) {
        return EspEvent::MqttMessage(m);
    }
    EspEvent::Other(line)
}
