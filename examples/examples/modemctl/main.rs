//! `modemctl`: what the `modem` crate makes of a cellular module's output.
//!
//! ```text
//! cargo run --example modemctl -- parse --command "AT+CREG?" '\r\n+CREG: 2,1,"8BE3","00002BAF"\r\n\r\nOK\r\n'
//! cargo run --example modemctl -- parse --dialect esp-at --command "AT+CWJAP?" '+CWJAP:"ap","1a:2b:3c:4d:5e:6f",6,-50,0,1,3,0,1\r\nOK\r\n'
//! ```
//!
//! `--dialect esp-at` (before or after `parse`) routes with the ESP-AT command table
//! (`modem::esp::command`) and types the ESP-AT lines (`modem/ESP-AT.md`): `+CWJAP` (`ssid,
//! bssid, channel, rssi, pci_en, reconn_interval, listen_interval, scan_mode, pmf`, or
//! `error_code, reason` for a failed join), `No AP`, `+CWMODE` (`mode`), `+CIPSTA` (`key,
//! address`), `+IPD` (`link_id, len, remote_ip, remote_port`, the payload in `data`),
//! `+CIPSNTPTIME` (`year, month, day, hour, minute, second, weekday`), `+MQTTSUBRECV` (`link_id,
//! topic, data_length`, payload in `data`), `+MQTTCONNECTED`/`+MQTTCONN` (`link_id, [state,]
//! scheme, host, port, path, reconnect`), `+MQTTDISCONNECTED` (`link_id`), `+MQTTPUB`
//! (`result`), `ERR CODE` (`code`, a number), the `AT+GMR` lines (`kind` `"version"`, `key, value`), `Recv` (`len`), and the
//! reports `ready`, `WIFI CONNECTED`, `WIFI GOT IP`, `WIFI DISCONNECT`, `CONNECT`, `CLOSED`
//! (`link_id` in multiple-connection mode), `SEND OK`, `SEND FAIL`.
//!
//! A real ESP-AT module on a serial port (8N1, `--baud`, default 115200):
//!
//! ```text
//! cargo run --example modemctl -- --port /dev/ttyUSB0 --dialect esp-at info
//! cargo run --example modemctl -- --port /dev/ttyUSB0 --dialect esp-at mqtt-pub --ssid locker-wifi \
//!     --password secret --host broker.local --topic lockers/7/door/3 --qos 1 '{"open":true}'
//! ```
//!
//! `info` prints `version, mode, joined, ssid, bssid, channel, rssi, ip`; `mqtt-pub` joins (unless
//! the module is joined already and `--ssid` is omitted), connects, publishes, disconnects and
//! prints `published, topic, bytes, qos, rssi`. Errors go to stderr with exit status 1.
//!
//! A cellular module (the default `--dialect cellular`) on a serial port:
//!
//! ```text
//! cargo run --example modemctl -- --port /dev/ttyUSB2 info
//! cargo run --example modemctl -- --port /dev/ttyUSB2 sms --to +4915112345678 'Your pickup code: 482913'
//! cargo run --example modemctl -- --port /dev/ttyUSB2 mqtt-pub --module quectel --apn internet \
//!     --host broker.example --topic lockers/7/door/3 --qos 1 '{"open":true}'
//! ```
//!
//! `info` prints `imei`, `iccid`, `operator` (`mode, format, oper, act`), `signal` (`rssi, ber,
//! dbm`) and `registration` (`kind, n, stat, registered, lac|tac, ci, act`; EPS, `AT+CEREG?`); a
//! query the module refuses gives `{"error": ...}` in its place. `sms` (text mode, at most 160
//! GSM-7-safe characters) prints `sent, to, mr`. `mqtt-pub` uses the module's own MQTT client
//! (`--module quectel` for `QMT*`, `simcom` for `CMQTT*`): attach, connect, publish, disconnect;
//! it prints `published, topic, bytes, qos, retain`.
//!
//! TEXT is what the module sent, with `\r`, `\n`, `\t`, `\\`, `\"`, `\0`, `\xHH` and `\uHHHH`
//! escapes; text without a line ending is one line, and an echo of the command may be present.
//! `parse` prints one JSON object:
//!
//! - `final`: `"ok"`, `"error"`, `"cme_error"`, `"cms_error"`, `"no_carrier"`, `"connect"`,
//!   `"busy"`, `"no_answer"`, `"no_dialtone"`, or `null` when the response is incomplete;
//! - `code`, `text`: for `+CME ERROR`/`+CMS ERROR`: the number, the text, or both when the text
//!   is one of 27.007 §9.2 / 27.005 §3.2.5 (`SIM not inserted` → 10); otherwise `null`;
//! - `prompt`: true when the `>` prompt was seen;
//! - `lines`: the information responses of the command (results awaited after `OK` included);
//! - `urcs`: the unsolicited lines.
//!
//! Each line is an object whose `kind` is its prefix (`"+CREG"`, `"RDY"`, ...) and whose fields
//! carry the parameter names of 3GPP TS 27.007 or the vendor manual, numbers as numbers and hex
//! cell ids converted; operator names sent as hex UCS2 are decoded. A line that has no typed parser has `raw`; one that fails to parse has
//! `raw` and `error`. Payload bytes that followed a line (`+QIRD`, `+CIPRXGET: 2`) are in `data`.

mod port;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use modem::command::{Command, Form};
use modem::params::prefix_of;
use modem::response::{self, Qmtrecv};
use modem::result::FinalResult;
use modem::router::{Routed, Router};
use serde_json::{Map, Value, json};

#[derive(Parser)]
#[command(
    name = "modemctl",
    about = "Parse what a cellular or ESP-AT module sent, as the modem crate routes it; drive a module on a port"
)]
struct Cli {
    /// The AT dialect: 3GPP/Quectel/SIMCom cellular modules, or Espressif's ESP-AT.
    #[arg(long, global = true, value_enum, default_value_t = Dialect::Cellular)]
    dialect: Dialect,
    /// Serial port of a real module (for `info`, `sms` and `mqtt-pub`).
    #[arg(long, global = true)]
    port: Option<String>,
    /// Baud rate of `--port` (115200 is the factory default of ESP-AT and of most cellular modules).
    #[arg(long, global = true, default_value_t = 115_200)]
    baud: u32,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Dialect {
    /// 3GPP TS 27.007 with the Quectel and SIMCom extensions.
    Cellular,
    /// Espressif ESP-AT (ESP32/ESP8266 Wi-Fi modules).
    EspAt,
}

#[derive(Subcommand)]
enum Cmd {
    /// Route and parse one response: prints one JSON object.
    Parse {
        /// The command the text answers (e.g. "AT+CREG?"); without it every line is unsolicited.
        #[arg(long)]
        command: Option<String>,
        /// What the module sent, with \r, \n, \xHH escapes.
        text: String,
    },
    /// Query a module on `--port` (one JSON object): cellular IMEI, ICCID, operator, signal,
    /// registration; ESP-AT firmware, Wi-Fi mode, joined AP, RSSI, address.
    Info,
    /// Cellular, on `--port`: send a text SMS (at most 160 GSM-7 characters).
    Sms {
        /// The recipient, e.g. +4915112345678.
        #[arg(long)]
        to: String,
        /// The text.
        text: String,
    },
    /// Attach (cellular) or join Wi-Fi (ESP-AT, unless joined), connect to a broker, publish one
    /// message, disconnect.
    MqttPub {
        /// Cellular: the module's MQTT command set.
        #[arg(long, value_enum, default_value = "quectel")]
        module: port::Module,
        /// Cellular: APN for the data attach (default: the module's configuration).
        #[arg(long, default_value = "")]
        apn: String,
        /// ESP-AT: Wi-Fi SSID (omit if the module joins by itself).
        #[arg(long, default_value = "")]
        ssid: String,
        /// Wi-Fi password.
        #[arg(long, default_value = "")]
        password: String,
        /// Broker host.
        #[arg(long)]
        host: String,
        /// Broker TCP port.
        #[arg(long, default_value_t = 1883)]
        broker_port: u16,
        /// MQTT client id.
        #[arg(long, default_value = "modemctl")]
        client_id: String,
        /// Topic.
        #[arg(long)]
        topic: String,
        /// QoS 0, 1 or 2.
        #[arg(long, default_value_t = 0)]
        qos: u8,
        /// Retain flag.
        #[arg(long)]
        retain: bool,
        /// The message (with the same escapes as `parse`).
        message: String,
    },
}

fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => out.push(b'\r'),
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\x{hex}"))?);
            }
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\u{hex}"))?;
                let c = char::from_u32(code).ok_or(format!("bad escape \\u{hex}"))?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            other => return Err(format!("unknown escape \\{}", other.map(String::from).unwrap_or_default())),
        }
    }
    Ok(out)
}

/// Hex-encoded UCS2 (`AT+CSCS="UCS2"`, reference §1.5): `0054002D004D006F00620069006C0065` is
/// `T-Mobile`. Decoded only when the text cannot be a plain name or number: a multiple of four
/// hex digits, at least eight, and every unit a printable character; for the numeric MCC+MNC
/// every unit must be a digit (heuristic: the charset is not part of the response).
fn ucs2(text: &str, numeric: bool) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 8 || !b.len().is_multiple_of(4) || !b.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    if !numeric && b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let units: Vec<u16> = b
        .chunks(4)
        .map(|c| u16::from_str_radix(std::str::from_utf8(c).unwrap_or("x"), 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let decoded = String::from_utf16(&units).ok()?;
    let ok = if numeric { decoded.bytes().all(|c| c.is_ascii_digit()) } else { !decoded.chars().any(char::is_control) };
    ok.then_some(decoded)
}

fn name(text: Option<&str>, numeric: bool) -> Value {
    text.map_or(Value::Null, |t| json!(ucs2(t, numeric).unwrap_or_else(|| t.to_owned())))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One line as a typed JSON object.
fn typed(line: &[u8], command: Option<&Command<'_>>) -> Value {
    let prefix = prefix_of(line).map(lossy);
    let kind = prefix.clone().unwrap_or_else(|| {
        lossy(modem::params::Fields::new(line, 0).next().and_then(Result::ok).map_or(line, |f| f.text()))
    });
    let mut obj = Map::new();
    let result: Result<Map<String, Value>, modem::ParseError> = (|| {
        let mut m = Map::new();
        match prefix.as_deref() {
            Some("+CREG" | "+CGREG" | "+CEREG" | "+C5GREG") => {
                let r = response::parse_registration(line)?;
                m.insert("n".into(), json!(r.n));
                m.insert("stat".into(), json!(r.stat));
                m.insert(if r.kind.uses_tac() { "tac" } else { "lac" }.into(), json!(r.area));
                m.insert("ci".into(), json!(r.ci));
                m.insert("act".into(), json!(r.act));
                if let Some(rac) = r.rac {
                    m.insert("rac".into(), json!(rac));
                }
            }
            Some("+CSQ") => {
                let c = response::parse_csq(line)?;
                m.insert("rssi".into(), json!(c.rssi));
                m.insert("ber".into(), json!(c.ber));
            }
            Some("+COPS") if line.contains(&b'(') => {
                let mut ops = Vec::new();
                for op in response::operators(line) {
                    let op = op?;
                    ops.push(json!({
                        "stat": op.stat,
                        "long": name(op.long, false),
                        "short": name(op.short, false),
                        "numeric": name(op.numeric, true),
                        "act": op.act
                    }));
                }
                m.insert("operators".into(), Value::Array(ops));
            }
            Some("+COPS") => {
                let c = response::parse_cops(line)?;
                m.insert("mode".into(), json!(c.mode));
                m.insert("format".into(), json!(c.format));
                m.insert("oper".into(), if c.format == Some(2) { name(c.oper, true) } else { name(c.oper, false) });
                m.insert("act".into(), json!(c.act));
            }
            Some("+CPIN") => {
                m.insert("code".into(), json!(response::parse_cpin(line)?.code));
            }
            Some("+QCCID" | "+ICCID" | "+CCID") => {
                m.insert("iccid".into(), json!(response::parse_iccid(line)?));
            }
            Some("+CGSN") => {
                m.insert("imei".into(), json!(response::parse_imei(line)?));
            }
            Some("+CCLK") => {
                let t = response::parse_cclk(line)?;
                m.insert("year".into(), json!(t.year));
                m.insert("month".into(), json!(t.month));
                m.insert("day".into(), json!(t.day));
                m.insert("hour".into(), json!(t.hour));
                m.insert("minute".into(), json!(t.minute));
                m.insert("second".into(), json!(t.second));
                m.insert("tz_quarter_hours".into(), json!(t.tz_quarter_hours));
            }
            Some("+QIURC") => {
                let q = response::parse_qiurc(line)?;
                m.insert("event".into(), json!(q.event));
                m.insert("connect_id".into(), json!(q.connect_id));
                m.insert("data_len".into(), json!(q.data_len));
                if q.context_id.is_some() {
                    m.insert("context_id".into(), json!(q.context_id));
                }
            }
            Some("+QMTSTAT") => {
                let q = response::parse_qmtstat(line)?;
                m.insert("client_idx".into(), json!(q.client_idx));
                m.insert("err_code".into(), json!(q.err_code));
            }
            Some("+QMTRECV") => match response::parse_qmtrecv(line)? {
                Qmtrecv::Stored { client_idx, recv_id } => {
                    m.insert("client_idx".into(), json!(client_idx));
                    m.insert("recv_id".into(), json!(recv_id));
                }
                Qmtrecv::Message { client_idx, msg_id, topic, payload_len, payload } => {
                    m.insert("client_idx".into(), json!(client_idx));
                    m.insert("msg_id".into(), json!(msg_id));
                    m.insert("topic".into(), json!(topic));
                    m.insert("payload_len".into(), json!(payload_len));
                    m.insert("payload".into(), json!(lossy(payload)));
                }
            },
            Some(_) => {
                m.insert("raw".into(), json!(lossy(line)));
            }
            None => {
                // A bare line: the IMEI of AT+CGSN, the ICCID of AT+CCID, or plain text.
                let name = command.and_then(|c| c.name()).map(lossy).unwrap_or_default();
                match name.as_str() {
                    "+CGSN" | "+GSN" => {
                        m.insert("kind".into(), json!(name));
                        m.insert("imei".into(), json!(response::parse_imei(line)?));
                    }
                    "+CCID" | "+QCCID" | "+CICCID" => {
                        m.insert("kind".into(), json!(name));
                        m.insert("iccid".into(), json!(response::parse_iccid(line)?));
                    }
                    _ if modem::router::BARE_URCS.contains(&line) => {}
                    _ => {
                        m.insert("kind".into(), json!("text"));
                        m.insert("text".into(), json!(lossy(line)));
                    }
                }
            }
        }
        Ok(m)
    })();
    obj.insert("kind".into(), json!(kind));
    match result {
        Ok(fields) => obj.extend(fields),
        Err(e) => {
            obj.insert("raw".into(), json!(lossy(line)));
            obj.insert("error".into(), json!(e.to_string()));
        }
    }
    Value::Object(obj)
}

/// One ESP-AT line as a typed JSON object (`modem/ESP-AT.md`).
fn typed_esp(line: &[u8], command: Option<&Command<'_>>) -> Value {
    use modem::esp::response as esp;
    let text = lossy(line);
    let prefix = prefix_of(line).map(lossy);
    let mut m = Map::new();
    let result: Result<(), modem::ParseError> = (|| {
        match prefix.as_deref() {
            Some("+CWJAP") => match esp::parse_cwjap_error(line) {
                Ok(f) => {
                    m.insert("error_code".into(), json!(f.code()));
                    m.insert("reason".into(), json!(f.name()));
                }
                Err(_) => {
                    if let Some(ap) = esp::parse_cwjap_query(line)? {
                        m.insert("ssid".into(), json!(ap.ssid));
                        m.insert("bssid".into(), json!(ap.bssid));
                        m.insert("channel".into(), json!(ap.channel));
                        m.insert("rssi".into(), json!(ap.rssi));
                        m.insert("pci_en".into(), json!(ap.pci_en));
                        m.insert("reconn_interval".into(), json!(ap.reconn_interval));
                        m.insert("listen_interval".into(), json!(ap.listen_interval));
                        m.insert("scan_mode".into(), json!(ap.scan_mode));
                        m.insert("pmf".into(), json!(ap.pmf));
                    }
                }
            },
            Some("+CWMODE") => {
                m.insert("mode".into(), json!(esp::parse_cwmode(line)?));
            }
            Some("+CIPSTA") => {
                let a = esp::parse_cipsta(line)?;
                m.insert("key".into(), json!(a.key));
                m.insert("address".into(), json!(a.address));
            }
            Some("+IPD") => {
                let i = esp::parse_ipd(line)?;
                m.insert("link_id".into(), json!(i.link));
                m.insert("len".into(), json!(i.len));
                m.insert("remote_ip".into(), json!(i.remote.map(|r| r.0)));
                m.insert("remote_port".into(), json!(i.remote.map(|r| r.1)));
            }
            Some("+CIPSNTPTIME") => {
                let t = esp::parse_sntp_time(line)?;
                for (k, v) in [
                    ("year", u32::from(t.year)),
                    ("month", u32::from(t.month)),
                    ("day", u32::from(t.day)),
                    ("hour", u32::from(t.hour)),
                    ("minute", u32::from(t.minute)),
                    ("second", u32::from(t.second)),
                    ("weekday", u32::from(t.weekday)),
                ] {
                    m.insert(k.into(), json!(v));
                }
            }
            Some("+MQTTSUBRECV") => {
                let r = esp::parse_subrecv(line)?;
                m.insert("link_id".into(), json!(r.link));
                m.insert("topic".into(), json!(r.topic));
                m.insert("data_length".into(), json!(r.len));
            }
            Some("+MQTTCONNECTED") => {
                let c = esp::parse_mqtt_connected(line)?;
                m.insert("link_id".into(), json!(c.link));
                m.insert("scheme".into(), json!(c.scheme));
                m.insert("host".into(), json!(c.host));
                m.insert("port".into(), json!(c.port));
                m.insert("path".into(), json!(c.path));
                m.insert("reconnect".into(), json!(c.reconnect));
            }
            Some("+MQTTCONN") => {
                let c = esp::parse_mqttconn(line)?;
                m.insert("link_id".into(), json!(c.link));
                m.insert("state".into(), json!(c.state));
                m.insert("scheme".into(), json!(c.scheme));
                m.insert("host".into(), json!(c.host));
                m.insert("port".into(), json!(c.port));
                m.insert("path".into(), json!(c.path));
                m.insert("reconnect".into(), json!(c.reconnect));
            }
            Some("+MQTTDISCONNECTED") => {
                m.insert("link_id".into(), json!(esp::parse_mqtt_disconnected(line)?));
            }
            Some("+MQTTPUB") => {
                m.insert("result".into(), json!(if esp::parse_mqttpub_result(line)? { "ok" } else { "fail" }));
            }
            Some(_) => {
                m.insert("raw".into(), json!(text));
            }
            None => {
                let gmr = command.and_then(|c| c.name()) == Some(b"+GMR".as_slice());
                match esp::classify(line) {
                    esp::EspEvent::LinkConnect(l) => {
                        m.insert("kind".into(), json!("CONNECT"));
                        m.insert("link_id".into(), json!(l));
                    }
                    esp::EspEvent::LinkClosed(l) => {
                        m.insert("kind".into(), json!("CLOSED"));
                        m.insert("link_id".into(), json!(l));
                    }
                    esp::EspEvent::Other(_) if line.starts_with(b"ERR CODE:") => {
                        m.insert("kind".into(), json!("ERR CODE"));
                        m.insert("code".into(), json!(esp::parse_err_code(line)?));
                    }
                    esp::EspEvent::Other(_) if gmr => {
                        let v = esp::parse_gmr_line(line)?;
                        m.insert("kind".into(), json!("version"));
                        m.insert("key".into(), json!(v.key));
                        m.insert("value".into(), json!(v.value));
                    }
                    esp::EspEvent::Other(_) => {
                        let recv = text
                            .strip_prefix("Recv ")
                            .and_then(|r| r.strip_suffix(" bytes"))
                            .and_then(|n| n.parse::<u32>().ok());
                        if let Some(n) = recv {
                            m.insert("kind".into(), json!("Recv"));
                            m.insert("len".into(), json!(n));
                        } else {
                            m.insert("kind".into(), json!(text));
                        }
                    }
                    _ => {
                        m.insert("kind".into(), json!(text));
                    }
                }
            }
        }
        Ok(())
    })();
    let mut obj = Map::new();
    obj.insert("kind".into(), json!(prefix.unwrap_or_else(|| text.clone())));
    if let Err(e) = result {
        obj.insert("raw".into(), json!(text));
        obj.insert("error".into(), json!(e.to_string()));
        return Value::Object(obj);
    }
    obj.extend(m);
    Value::Object(obj)
}

fn parse(dialect: Dialect, command: Option<&str>, text: &str) -> Result<Value, String> {
    let bytes = unescape(text)?;
    let esp = dialect == Dialect::EspAt;
    let command = command.map(|c| if esp { modem::esp::command(c.as_bytes()) } else { Command::new(c.as_bytes()) });
    let mut router = Router::<4096, 64>::new();
    if let Some(c) = &command {
        router.begin(c).map_err(|e| e.to_string())?;
    }
    // (line, payload) of the command, in order; URC payloads stay with the queued URC.
    let mut lines: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut final_result: Option<(String, Value, Value)> = None;
    let mut prompt = false;
    let mut on = |r: Routed<'_>| match r {
        Routed::Info(l) | Routed::Result { line: l, .. } => lines.push((l.to_vec(), Vec::new())),
        Routed::Data { bytes, .. } => {
            if let Some(last) = lines.last_mut() {
                last.1.extend_from_slice(bytes);
            }
        }
        Routed::Prompt(_) => prompt = true,
        Routed::Final { result, .. } => {
            let (code, text) = match result {
                FinalResult::CmeError(e) | FinalResult::CmsError(e) => (json!(e.code), json!(e.text)),
                FinalResult::VendorError(t) => (Value::Null, json!(t)),
                _ => (Value::Null, Value::Null),
            };
            final_result = Some((result.name().to_owned(), code, text));
        }
        Routed::TooLong { head, len } => {
            lines.push((format!("{} ... ({len} bytes)", lossy(head)).into_bytes(), Vec::new()))
        }
        _ => {}
    };
    router.feed(&bytes, &mut on);
    if let Some(r) = router.flush() {
        on(r);
    }
    // An `AT+COPS=?` list may be split over several lines (vector cops-023): join them.
    if !esp && command.as_ref().is_some_and(|c| c.name() == Some(b"+COPS") && c.form() == Form::Test) && lines.len() > 1
    {
        let joined = lines.iter().flat_map(|(l, _)| l.clone()).collect();
        lines = vec![(joined, Vec::new())];
    }
    let to_json = |(line, data): &(Vec<u8>, Vec<u8>)| {
        let mut v = if esp { typed_esp(line, command.as_ref()) } else { typed(line, command.as_ref()) };
        if !data.is_empty()
            && let Value::Object(m) = &mut v
        {
            m.insert("data".into(), json!(lossy(data)));
        }
        v
    };
    let lines: Vec<Value> = lines.iter().map(to_json).collect();
    let mut urcs = Vec::new();
    while let Some(u) = router.pop_urc() {
        urcs.push(to_json(&(u.line.to_vec(), u.data.to_vec())));
    }
    let (name, code, text) = match final_result {
        Some((n, c, t)) => (json!(n), c, t),
        None => (Value::Null, Value::Null, Value::Null),
    };
    Ok(json!({"final": name, "code": code, "text": text, "prompt": prompt, "lines": lines, "urcs": urcs}))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Parse { command, text } => match parse(cli.dialect, command.as_deref(), &text) {
            Ok(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("modemctl: {e}");
                ExitCode::from(2)
            }
        },
        cmd => {
            let outcome = (|| {
                let path = cli.port.as_deref().ok_or("--port PATH is required")?;
                let esp = cli.dialect == Dialect::EspAt;
                match cmd {
                    Cmd::Info if esp => port::esp_info(path, cli.baud),
                    Cmd::Info => port::info(path, cli.baud),
                    Cmd::Sms { .. } if esp => Err("sms is for cellular modules".into()),
                    Cmd::Sms { to, text } => port::sms(path, cli.baud, &to, &text),
                    Cmd::MqttPub {
                        module,
                        apn,
                        ssid,
                        password,
                        host,
                        broker_port,
                        client_id,
                        topic,
                        qos,
                        retain,
                        message,
                    } => {
                        let message = unescape(&message)?;
                        if esp {
                            let p = port::MqttPub {
                                ssid,
                                password,
                                host,
                                broker_port,
                                client_id,
                                topic,
                                message,
                                qos,
                                retain,
                            };
                            port::esp_mqtt_pub(path, cli.baud, &p)
                        } else {
                            let p = port::Publish {
                                module,
                                apn: &apn,
                                host: &host,
                                mqtt_port: broker_port,
                                client_id: &client_id,
                                topic: &topic,
                                message: &message,
                                qos,
                                retain,
                            };
                            port::mqtt_pub(path, cli.baud, &p)
                        }
                    }
                    Cmd::Parse { .. } => Err("unreachable".into()),
                }
            })();
            match outcome {
                Ok(v) => {
                    println!("{v}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("modemctl: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
