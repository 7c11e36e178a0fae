//! The ESP-AT dialect: Espressif's AT firmware on an ESP32/ESP8266 used as a Wi-Fi module
//! (issue 8), on the same framer, router and engine as the cellular dialects.
//!
//! Every response format comes from Espressif's *ESP-AT Command Set* documentation; the facts
//! used, with the page and section they come from, are collected in `modem/ESP-AT.md` (cited
//! here as ESP-AT.md §n).
//!
//! - [`command`] describes an ESP-AT command line: the table differs from the cellular one where
//!   the names collide (`AT+CIPSEND` awaits `SEND OK` here, `+CIPSEND:` on SIMCom) and adds the
//!   ESP-AT timeouts and prompts (`AT+CIPSEND`, `AT+MQTTPUBRAW`).
//! - [`response`] holds the typed parsers (`+CWJAP`, `+CIPSTA`, `+IPD`, `+CIPSNTPTIME`,
//!   `+MQTTSUBRECV`, `+MQTTCONNECTED`, ...) and [`response::classify`] for unsolicited lines.
//! - [`client`] is the ESP-AT MQTT client over [`crate::blocking::Modem`] implementing
//!   [`crate::Uplink`].
//!
//! The shared layers know the ESP-AT specifics that are not per command: the framer counts the
//! payload of `+IPD,...:<data>` and `+MQTTSUBRECV:<link>,"<topic>",<len>,<data>`
//! ([`crate::framer::esp_header`]), the router treats `ready`, `WIFI CONNECTED`, `WIFI GOT IP`,
//! `WIFI DISCONNECT`, `CLOSED` and `<link>,CONNECT`/`<link>,CLOSED` as URCs and `CONNECT` as
//! an information line of `AT+CIPSTART`, and `FAIL` is a final result.

pub mod client;
pub mod response;

use crate::command::{Command, Form};

/// `AT+CWJAP=...`: the firmware gives up after `<jap_timeout>`, default 15 s (ESP-AT.md §3); the
/// extra 5 s cover DHCP after `WIFI CONNECTED` *(inference)*.
pub const JOIN_TIMEOUT_MS: u32 = 20_000;
/// "In general, AT MQTT commands respond within 10 s, except the command AT+MQTTCONN"
/// (ESP-AT.md §6); 2 s margin *(inference)*.
pub const MQTT_TIMEOUT_MS: u32 = 12_000;
/// `AT+MQTTCONN=...`: "may need more time due to packet retransmission" (ESP-AT.md §6), and a
/// TLS handshake takes 10 s per packet; 30 s *(inference)*.
pub const MQTT_CONNECT_TIMEOUT_MS: u32 = 30_000;
/// `AT+CIPSTART` (TCP connect with DNS) and `AT+CIPSEND` up to `SEND OK` *(inference: the
/// documentation gives no maximum)*.
pub const TCP_TIMEOUT_MS: u32 = 20_000;

/// Per-command timeouts of the ESP-AT dialect, `(name, form, ms)` (first match wins).
pub const TIMEOUTS: &[(&str, Option<Form>, u32)] = &[
    ("+CWJAP", Some(Form::Write), JOIN_TIMEOUT_MS),
    ("+CWJAP", Some(Form::Execute), JOIN_TIMEOUT_MS),
    ("+MQTTCONN", Some(Form::Write), MQTT_CONNECT_TIMEOUT_MS),
    ("+MQTTUSERCFG", None, MQTT_TIMEOUT_MS),
    ("+MQTTCONNCFG", None, MQTT_TIMEOUT_MS),
    ("+MQTTPUB", None, MQTT_TIMEOUT_MS),
    ("+MQTTPUBRAW", None, MQTT_TIMEOUT_MS),
    ("+MQTTSUB", None, MQTT_TIMEOUT_MS),
    ("+MQTTUNSUB", None, MQTT_TIMEOUT_MS),
    ("+MQTTCLEAN", None, MQTT_TIMEOUT_MS),
    ("+CIPSTART", Some(Form::Write), TCP_TIMEOUT_MS),
    ("+CIPSEND", Some(Form::Write), TCP_TIMEOUT_MS),
    ("+CIPCLOSE", None, TCP_TIMEOUT_MS),
];

/// Describes an ESP-AT command line: starts from [`Command::new`] and applies the ESP-AT table
/// (ESP-AT.md §2-§6):
///
/// - `AT+CIPSEND=<len>` / `=<link>,<len>`: prompt `>` after `OK`, then `Recv <n> bytes` and the
///   awaited `SEND OK` / `SEND FAIL`;
/// - `AT+MQTTPUBRAW=...`: prompt `>` after `OK`, then the awaited `+MQTTPUB:OK` / `+MQTTPUB:FAIL`;
/// - no awaited result for the other names the cellular table knows (`AT+CIPCLOSE`);
/// - the timeouts of [`TIMEOUTS`].
///
/// ```
/// use modem::esp;
/// let c = esp::command(b"AT+CIPSEND=4");
/// assert_eq!((c.prompt, c.awaits), (Some(b'>'), Some(&b"SEND "[..])));
/// let c = esp::command(b"AT+MQTTPUBRAW=0,\"lockers/1\",5,1,0");
/// assert_eq!((c.prompt, c.awaits), (Some(b'>'), Some(&b"+MQTTPUB:"[..])));
/// assert_eq!(esp::command(b"AT+CWJAP=\"ssid\",\"pwd\"").timeout_ms, esp::JOIN_TIMEOUT_MS);
/// ```
pub fn command(text: &[u8]) -> Command<'_> {
    let mut command = Command::new(text);
    command.prompt = None;
    command.awaits = None;
    let (Some(name), form) = (command.name(), command.form()) else {
        return command;
    };
    let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
    if let Some(&(_, _, ms)) = TIMEOUTS.iter().find(|(n, f, _)| is(n) && f.is_none_or(|f| f == form)) {
        command.timeout_ms = ms;
    }
    if form == Form::Write && is("+CIPSEND") {
        command.prompt = Some(b'>');
        command.awaits = Some(b"SEND ");
    }
    if form == Form::Write && is("+MQTTPUBRAW") {
        command.prompt = Some(b'>');
        command.awaits = Some(b"+MQTTPUB:");
    }
    command
}

/// Appends `text` to `out` as an ESP-AT string parameter: quoted, with `\`, `"` and `,`
/// escaped by a backslash (ESP-AT.md §2, "escape character syntax").
///
/// Returns `None` when `out` is full (its content is then incomplete).
pub fn push_quoted<const N: usize>(out: &mut heapless::Vec<u8, N>, text: &[u8]) -> Option<()> {
    out.push(b'"').ok()?;
    for &b in text {
        if matches!(b, b'\\' | b'"' | b',') {
            out.push(b'\\').ok()?;
        }
        out.push(b).ok()?;
    }
    out.push(b'"').ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn table() {
        // ESP-AT.md §4: `AT+CIPSEND=4` → OK, `>`, data, `Recv 4 bytes`, `SEND OK`.
        let c = command(b"AT+CIPSEND=0,4");
        assert_eq!((c.prompt, c.awaits, c.timeout_ms), (Some(b'>'), Some(&b"SEND "[..]), TCP_TIMEOUT_MS));
        // Without ESP rules the SIMCom row would await `+CIPSEND:`.
        assert_eq!(Command::new(b"AT+CIPSEND=0,4").awaits, Some(&b"+CIPSEND:"[..]));
        assert_eq!(command(b"AT+CIPCLOSE=0").awaits, None);
        assert_eq!(command(b"AT+CWJAP?").timeout_ms, crate::command::SIMPLE_TIMEOUT_MS);
        assert_eq!(command(b"AT+CWJAP").timeout_ms, JOIN_TIMEOUT_MS);
        assert_eq!(command(b"AT+MQTTCONN=0,\"h\",1883,1").timeout_ms, MQTT_CONNECT_TIMEOUT_MS);
        assert_eq!(command(b"AT+MQTTCONN?").timeout_ms, crate::command::SIMPLE_TIMEOUT_MS);
        assert_eq!(command(b"AT+MQTTPUB=0,\"t\",\"x\",1,0").prompt, None);
        assert_eq!(command(b"AT+MQTTPUB=0,\"t\",\"x\",1,0").timeout_ms, MQTT_TIMEOUT_MS);
    }

    #[test]
    fn quoting_escapes_specials() {
        let mut out = heapless::Vec::<u8, 32>::new();
        push_quoted(&mut out, br#"a,b"c\d"#).unwrap();
        assert_eq!(out.as_slice(), br#""a\,b\"c\\d""#);
        let mut small = heapless::Vec::<u8, 3>::new();
        assert!(push_quoted(&mut small, b"abc").is_none());
    }
}
