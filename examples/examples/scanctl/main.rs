//! `scanctl`: inspect what a scan engine sent, with JSON output a script can check.
//!
//! ```text
//! cargo run --example scanctl -- parse ']C100123456789012345675\x1d10ABC'
//! cargo run --example scanctl -- parse '(01)09521234543213(10)ABC'
//! cargo run --example scanctl -- parse 'https://id.gs1.org/00/952012345678912345?10=ABC'
//! cargo run --example scanctl -- parse '^0112345678901231^10ABC'
//! cargo run --example scanctl -- check-digit 123456789012345675
//! cargo run --example scanctl -- decode --protocol ssi '07 F3 00 00 03 55 53 FE 5B'
//! cargo run --example scanctl -- decode --protocol gm65 '7E 00 07 01 00 0A 01 EE 8A'
//! cargo run --example scanctl -- --port /dev/ttyUSB0 --engine grow provision
//! cargo run --example scanctl -- --port /dev/ttyUSB0 --engine grow trigger --timeout 10
//! cargo run --example scanctl -- --port /dev/ttyUSB0 --baud 9600 --engine ssi listen --for 60
//! cargo run --example scanctl -- --port /dev/ttyUSB0 --engine raw listen --count 1
//! ```
//!
//! With `--port`, each scan is one JSON line (`aim`, `symbology`, `code_type`, `data`, `gs1`);
//! `provision` stores the engine's profile (Zebra SSI or Grow GM65) and prints
//! `{"provisioned": NAME}`.
//!
//! Exit status: 0 when the input is valid, 1 when it is not (the JSON says why), 2 for usage
//! errors.

use std::process::ExitCode;

mod port;

use clap::{Parser, Subcommand, ValueEnum};
use scanner::aim::{self, Gs1Form};
use scanner::gs1::{self, ElementStrings, Hri, digital_link};
use scanner::payload::classify_data;
use scanner::stream::FrameError;
use scanner::{grow, ssi};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(name = "scanctl", about = "Parse scan data and scan-engine frames (JSON output)")]
struct Cli {
    /// Serial port of a real engine (for `listen`, `trigger`, `provision`).
    #[arg(long, global = true)]
    port: Option<String>,
    /// Baud rate of the port.
    #[arg(long, global = true, default_value_t = 9600)]
    baud: u32,
    /// The engine's protocol on the port.
    #[arg(long, global = true, value_enum, default_value = "raw")]
    engine: port::Engine,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Parse scan data: engine output (`\x1d` or `<GS>` for GS, `\r`/`\n` escapes), bracketed
    /// GS1 text `(01)...`, a GS1 Digital Link URI, or `^` notation (`^` = FNC1).
    Parse {
        /// The data.
        data: String,
    },
    /// Check the GS1 mod-10 check digit of a GTIN/SSCC/GLN (last digit).
    CheckDigit {
        /// The digits, check digit last.
        digits: String,
    },
    /// Decode hex bytes as frames of a scan-engine protocol; one JSON object per frame.
    Decode {
        /// The protocol.
        #[arg(long, value_enum)]
        protocol: Protocol,
        /// The bytes in hex (spaces, colons and `0x` allowed).
        hex: String,
    },
    /// Print each scan from the engine on `--port` as one JSON line.
    Listen {
        /// Stop after this many seconds.
        #[arg(long = "for")]
        for_s: Option<f64>,
        /// Stop after this many scans.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Trigger one read on `--port` (SSI, Grow) and print its scan.
    Trigger {
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
    },
    /// Store the engine's provisioning profile (SSI: Zebra; Grow: GM65).
    Provision,
}

#[derive(Clone, Copy, ValueEnum)]
enum Protocol {
    /// Zebra SSI packets.
    Ssi,
    /// Grow 7E-00 (GM65/GM66/GM805) commands and responses.
    Gm65,
}

/// Expands `\x1d`, `\r`, `\n`, `\t`, `\\`, `\e`-free escapes and `<GS>`/`<RS>`/`<EOT>`/`<CR>`/`<LF>`/`<FNC1>`.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    const NAMES: [(&str, u8); 6] =
        [("<GS>", 0x1D), ("<FNC1>", 0x1D), ("<RS>", 0x1E), ("<EOT>", 0x04), ("<CR>", b'\r'), ("<LF>", b'\n')];
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        match (c, next) {
            (b'\\', Some(b'x')) => {
                let h = text.get(i + 2..i + 4).ok_or_else(|| format!("offset {i}: \\x needs two hex digits"))?;
                out.push(u8::from_str_radix(h, 16).map_err(|_| format!("offset {i}: bad \\x escape {h:?}"))?);
                i += 4;
            }
            (b'\\', Some(e @ (b'r' | b'n' | b't' | b'\\'))) => {
                out.push(match e {
                    b'r' => b'\r',
                    b'n' => b'\n',
                    b't' => b'\t',
                    _ => b'\\',
                });
                i += 2;
            }
            (b'<', _) => {
                let rest = b.get(i..).unwrap_or_default();
                match NAMES.iter().find(|(n, _)| rest.starts_with(n.as_bytes())) {
                    Some((name, byte)) => {
                        out.push(*byte);
                        i += name.len();
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            // Anything else, an escaped '(' of the bracketed syntax included, is kept as is.
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn text(bytes: &[u8]) -> String {
    let mut s = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                s.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                s.push(c);
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

fn gs1_raw(raw: &[u8], errors: &mut Vec<String>) -> (Vec<Value>, Value) {
    let (pairs, h) = gs1_report(raw, errors);
    (pairs, h.map_or(Value::Null, Value::String))
}

/// Element strings, HRI and errors of raw GS1 data (every value linted, all errors listed).
fn gs1_report(raw: &[u8], errors: &mut Vec<String>) -> (Vec<Value>, Option<String>) {
    let mut pairs = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut structure_ok = true;
    for es in ElementStrings::new(raw) {
        match es {
            Ok(es) => {
                pairs.push(json!([es.ai(), text(es.value())]));
                if let Err(e) = es.lint() {
                    errors.push(e.to_string());
                }
                if seen.contains(&es.ai()) {
                    errors.push(format!("AI ({}) appears more than once", es.ai()));
                }
                seen.push(es.ai());
            }
            Err(e) => {
                structure_ok = false;
                errors.push(e.to_string());
            }
        }
    }
    let hri = structure_ok.then(|| Hri(raw).to_string());
    (pairs, hri)
}

fn looks_like_url(data: &[u8]) -> bool {
    let lower: Vec<u8> = data.iter().take(8).map(u8::to_ascii_lowercase).collect();
    lower.starts_with(b"http://") || lower.starts_with(b"https://")
}

fn parse(input: &str) -> (Value, bool) {
    let mut errors: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let data = match unescape(input) {
        Ok(d) => d,
        Err(e) => return (json!({ "valid": false, "errors": [e] }), false),
    };
    let mut aim_text = Value::Null;
    let mut symbology = Value::Null;
    let mut symbology_detail = Value::Null;
    let mut form = "scan";
    let mut gs1_flag = false;
    let mut element_strings = Vec::new();
    let mut hri = Value::Null;
    let mut content = Value::Null;
    let mut buf = vec![0u8; data.len() * 2 + 64];

    if data.first() == Some(&b'(') {
        form = "bracketed";
        gs1_flag = true;
        match gs1::bracketed_to_raw(&data, &mut buf) {
            Ok(n) => (element_strings, hri) = gs1_raw(buf.get(..n).unwrap_or_default(), &mut errors),
            Err(e) => errors.push(e.to_string()),
        }
    } else if data.first() == Some(&b'^') {
        form = "caret";
        gs1_flag = true;
        match gs1::caret_to_raw(&data, &mut buf) {
            Ok(n) => (element_strings, hri) = gs1_raw(buf.get(..n).unwrap_or_default(), &mut errors),
            Err(e) => errors.push(e.to_string()),
        }
    } else {
        let body: &[u8] = match aim::split(&data) {
            Ok((id, rest)) => {
                aim_text = json!(id.to_string());
                // The family name as the vectors use it ("Code 128" for ]C0 and ]C1), except
                // EAN/UPC where the modifier names the symbology ("EAN-13", "EAN-8").
                symbology = match id.gs1_form() {
                    Some(Gs1Form::EanUpc) => json!(id.description()),
                    _ => json!(id.symbology().name()),
                };
                symbology_detail = json!(id.description());
                match id.gs1_form() {
                    Some(Gs1Form::ElementString) => {
                        gs1_flag = true;
                        (element_strings, hri) = gs1_raw(rest, &mut errors);
                        &[]
                    }
                    Some(Gs1Form::EanUpc | Gs1Form::Itf14) => {
                        // A GTIN: (01) with the GTIN zero-padded to 14 digits (as gs1-syntax-engine does).
                        gs1_flag = true;
                        let valid_len = matches!(rest.len(), 8 | 12 | 13 | 14);
                        if !valid_len || !rest.iter().all(u8::is_ascii_digit) {
                            errors.push(format!("{} data is not a GTIN: {}", id.description(), text(rest)));
                        } else {
                            let mut gtin = vec![b'0'; 14 - rest.len()];
                            gtin.extend_from_slice(rest);
                            let mut raw = b"01".to_vec();
                            raw.extend_from_slice(&gtin);
                            (element_strings, hri) = gs1_raw(&raw, &mut errors);
                        }
                        &[]
                    }
                    _ => rest,
                }
            }
            Err(e) => {
                if data.first() == Some(&b']') {
                    errors.push(e.to_string());
                    &[]
                } else {
                    warnings.push("no symbology identifier: enable AIM ids to recognise GS1 data".to_owned());
                    &data
                }
            }
        };
        if !body.is_empty() {
            if looks_like_url(body) {
                match digital_link::to_raw(body, &mut buf) {
                    Ok(n) => {
                        form = "digital_link";
                        gs1_flag = true;
                        (element_strings, hri) = gs1_raw(buf.get(..n).unwrap_or_default(), &mut errors);
                    }
                    // A URL without a GS1 key is just a URL.
                    Err(digital_link::DlError::NoPrimaryKey) => content = json!("url"),
                    Err(e) => {
                        form = "digital_link";
                        gs1_flag = true;
                        errors.push(format!("GS1 Digital Link: {e}"));
                    }
                }
            } else if aim_text.is_null() && gs1::validate(body).is_ok() {
                // No identifier, but the data is valid element strings (bare GS1 data). Only
                // fully valid data is taken as GS1: a plain number must not be reported invalid.
                form = "gs1_raw";
                gs1_flag = true;
                (element_strings, hri) = gs1_raw(body, &mut errors);
            } else {
                content = json!(classify_data(body).kind());
            }
        }
    }
    if gs1_flag && content.is_null() {
        content = json!("gs1");
    }
    let valid = errors.is_empty();
    let out = json!({
        "input_form": form,
        "aim": aim_text,
        "symbology": symbology,
        "symbology_detail": symbology_detail,
        "gs1": gs1_flag,
        "content": content,
        "data": text(&data),
        "element_strings": element_strings,
        "hri": hri,
        "valid": valid,
        "errors": errors,
        "warnings": warnings,
    });
    (out, valid)
}

fn check_digit(digits: &str) -> (Value, bool) {
    let b = digits.trim().as_bytes();
    if b.len() < 2 || !b.iter().all(u8::is_ascii_digit) {
        return (json!({ "valid": false, "check_digit": null, "error": "two or more digits expected" }), false);
    }
    let cd = b.split_last().and_then(|(_, data)| gs1::check_digit(data));
    let valid = gs1::verify_check_digit(b).is_ok();
    (json!({ "valid": valid, "check_digit": cd }), valid)
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let cleaned = text.replace("0x", "").replace("0X", "");
    let digits: Vec<u8> = cleaned.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b':' && *c != b',').collect();
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            std::str::from_utf8(pair)
                .ok()
                .filter(|p| p.len() == 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("bad hex at digit {}", 2 * i))
        })
        .collect()
}

/// Adds a field to a JSON object.
fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.insert(key.to_owned(), value);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

fn ssi_frame(p: &ssi::Packet<'_>) -> Value {
    let mut v = json!({
        "opcode": format!("0x{:02X}", p.opcode.to_u8()),
        "opcode_name": p.opcode.name(),
        "source": if p.source == ssi::Source::Host { "host" } else { "decoder" },
        "status": format!("0x{:02X}", p.status),
        "retransmit": p.is_retransmit(),
        "continued": p.is_continued(),
        "payload": hex(p.payload),
        "valid": true,
    });
    if let Some((code_type, data)) = p.decode_data() {
        set(&mut v, "code_type", json!(format!("0x{code_type:02X}")));
        set(&mut v, "data", json!(text(data)));
    }
    if let Some(cause) = p.nak_cause() {
        set(&mut v, "nak_cause", json!(format!("{cause:?}")));
    }
    if p.opcode == ssi::Opcode::ParamSend {
        let params: Vec<Value> = ssi::Params::new(p.payload.get(1..).unwrap_or(&[]))
            .map(|r| match r {
                Ok(param) => match param.value {
                    ssi::ParamValue::Byte(b) => json!({ "num": param.number, "value": b }),
                    ssi::ParamValue::Word(w) => json!({ "num": param.number, "value": w }),
                    ssi::ParamValue::Bytes(b) => json!({ "num": param.number, "bytes": hex(b) }),
                    _ => json!({ "num": param.number }),
                },
                Err(e) => json!({ "error": e.to_string() }),
            })
            .collect();
        set(&mut v, "params", json!(params));
    }
    v
}

fn gm65_frame(bytes: &[u8]) -> Result<(Value, usize), FrameError> {
    match grow::parse_command(bytes) {
        Ok((f, used)) => {
            let v = json!({
                "type": "command",
                "command": format!("0x{:02X}", f.command.kind.to_u8()),
                "address": format!("0x{:04X}", f.command.address),
                "payload": hex(f.command.data),
                "crc": if f.crc == grow::CrcMode::NoCheck { "AB CD (not checked)" } else { "CRC-16/XMODEM" },
                "valid": true,
            });
            return Ok((v, used));
        }
        Err(FrameError::BadStart { offset: 0, .. }) => {}
        Err(e) => return Err(e),
    }
    let (r, used) = grow::parse_response(bytes)?;
    let v = json!({
        "type": "response",
        "status": if r.status == 0 { "success".to_owned() } else { format!("0x{:02X}", r.status) },
        "payload": hex(r.data),
        "valid": true,
    });
    Ok((v, used))
}

fn decode(protocol: Protocol, hex_text: &str) -> (Vec<Value>, bool) {
    let bytes = match parse_hex(hex_text) {
        Ok(b) => b,
        Err(e) => return (vec![json!({ "valid": false, "error": e })], false),
    };
    let mut out = Vec::new();
    let mut ok = true;
    let mut pos = 0;
    let mut in_garbage = false;
    while pos < bytes.len() {
        let rest = bytes.get(pos..).unwrap_or_default();
        let result = match protocol {
            Protocol::Ssi => ssi::parse(rest).map(|(p, used)| (ssi_frame(&p), used)),
            Protocol::Gm65 => gm65_frame(rest),
        };
        match result {
            Ok((mut v, used)) => {
                set(&mut v, "offset", json!(pos));
                out.push(v);
                pos += used;
                in_garbage = false;
            }
            Err(e) => {
                ok = false;
                if !in_garbage {
                    let reason = match e {
                        FrameError::Incomplete => format!("truncated frame: {} byte(s) left", rest.len()),
                        other => other.to_string(),
                    };
                    let at = pos + e.offset().unwrap_or(0);
                    out.push(json!({ "offset": pos, "error_offset": at, "valid": false, "error": reason }));
                }
                in_garbage = true;
                pos += 1;
            }
        }
    }
    (out, ok)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ok = match cli.command {
        Cmd::Parse { data } => {
            let (v, ok) = parse(&data);
            println!("{v}");
            ok
        }
        Cmd::CheckDigit { digits } => {
            let (v, ok) = check_digit(&digits);
            println!("{v}");
            ok
        }
        Cmd::Decode { protocol, hex } => {
            let (frames, ok) = decode(protocol, &hex);
            for f in frames {
                println!("{f}");
            }
            ok
        }
        Cmd::Listen { for_s, count } => on_port(&cli.port, cli.baud, cli.engine, port::Action::Listen { for_s, count }),
        Cmd::Trigger { timeout } => {
            on_port(&cli.port, cli.baud, cli.engine, port::Action::Trigger { timeout_s: timeout })
        }
        Cmd::Provision => on_port(&cli.port, cli.baud, cli.engine, port::Action::Provision),
    };
    if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn on_port(path: &Option<String>, baud: u32, engine: port::Engine, action: port::Action) -> bool {
    let Some(path) = path else {
        eprintln!("scanctl: --port PATH is required");
        return false;
    };
    match port::run(path, baud, engine, action) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("scanctl: {e}");
            false
        }
    }
}
