//! ESP-AT `+IPD` framing (modem/ESP-AT.md §4) in the modem framer and router:
//!
//! - arbitrary bytes, with or without an ESP-AT command pending: no panic, every payload chunk
//!   within the buffer, and the routed events and queued URCs do not depend on how the bytes
//!   were cut (whole vs. arbitrary split points);
//! - every ESP-AT parser (`modem::esp::response`) on every line of the arbitrary bytes: no
//!   panic, and a parsed `+IPD`/`+MQTTSUBRECV` header agrees with the framer's count;
//! - a well-formed `+IPD,[<link>,]<len>[,"<ip>",<port>]:<data>` with arbitrary data, after
//!   arbitrary text lines and at arbitrary split points: queued once, its data intact.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modem::router::{Routed, Router};

const N: usize = 128;
type R = Router<N, 8>;

const COMMANDS: [&[u8]; 4] = [b"AT+CIPSEND=4", b"AT+CWJAP?", b"AT+MQTTPUBRAW=0,\"t\",3,0,0", b"AT+CIPSTART=\"TCP\",\"h\",1"];

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    command: Option<u8>,
    cuts: Vec<u8>,
    raw: &'a [u8],
    link: Option<u8>,
    remote: Option<u16>,
    lines: Vec<&'a str>,
    payload: &'a [u8],
}

#[derive(Debug, PartialEq)]
enum Ev {
    Other(String),
    Data(Vec<u8>),
    UrcData(Vec<u8>),
}

fn run(command: Option<u8>, chunks: &[&[u8]]) -> (Vec<Ev>, Vec<(Vec<u8>, Vec<u8>)>) {
    let mut router = R::new();
    if let Some(c) = command {
        let text = COMMANDS[usize::from(c) % COMMANDS.len()];
        router.begin(&modem::esp::command(text)).unwrap();
    }
    let mut events: Vec<Ev> = Vec::new();
    let mut on = |r: Routed<'_>| {
        let ev = match r {
            Routed::Data { bytes, .. } => {
                assert!(!bytes.is_empty() && bytes.len() <= N);
                Ev::Data(bytes.to_vec())
            }
            Routed::UrcData { bytes, .. } => {
                assert!(!bytes.is_empty() && bytes.len() <= N);
                Ev::UrcData(bytes.to_vec())
            }
            other => Ev::Other(format!("{other:?}")),
        };
        // Merge consecutive chunks: chunking is not part of the outcome.
        match (events.last_mut(), ev) {
            (Some(Ev::Data(a)), Ev::Data(b)) | (Some(Ev::UrcData(a)), Ev::UrcData(b)) => a.extend(b),
            (_, ev) => events.push(ev),
        }
    };
    for chunk in chunks {
        router.feed(chunk, &mut on);
    }
    let mut urcs = Vec::new();
    while let Some(u) = router.pop_urc() {
        assert!(u.line.len() <= N && u.data.len() <= N);
        urcs.push((u.line.to_vec(), u.data.to_vec()));
    }
    (events, urcs)
}

fn split<'a>(bytes: &'a [u8], cuts: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for &c in cuts {
        if rest.is_empty() {
            break;
        }
        let (a, b) = rest.split_at(usize::from(c).min(rest.len()));
        out.push(a);
        rest = b;
    }
    out.push(rest);
    out
}

fn parsers(raw: &[u8]) {
    use modem::esp::response as r;
    for line in raw.split(|&b| b == b'\r' || b == b'\n') {
        let _ = r::parse_cwjap_error(line);
        let _ = r::parse_cwjap_query(line);
        let _ = r::parse_cwmode(line);
        let _ = r::parse_cipsta(line);
        let _ = r::parse_gmr_line(line);
        let _ = r::parse_sntp_time(line);
        let _ = r::parse_mqtt_connected(line);
        let _ = r::parse_mqtt_disconnected(line);
        let _ = r::parse_mqttconn(line);
        let _ = r::parse_mqttpub_result(line);
        let _ = r::parse_err_code(line);
        let _ = r::classify(line);
        if let (Ok(ipd), Some(n)) = (r::parse_ipd(line), modem::framer::esp_header(line, b':')) {
            assert_eq!(usize::from(ipd.len), n);
        }
        if let (Ok(m), Some(n)) = (r::parse_subrecv(line), modem::framer::esp_header(line, b',')) {
            assert_eq!(usize::from(m.len), n);
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    parsers(input.raw);

    // Arbitrary bytes: split invariance.
    let whole = run(input.command, &[input.raw]);
    assert_eq!(run(input.command, &split(input.raw, &input.cuts)), whole);

    // A well-formed frame after clean text lines.
    if input.payload.is_empty() || input.payload.len() > N {
        return;
    }
    let mut frame = Vec::new();
    for line in input.lines.iter().take(6) {
        if line.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) || line.starts_with('+') {
            continue; // only plain text lines: a `+` header could legitimately count bytes
        }
        frame.extend_from_slice(b"\r\n");
        frame.extend_from_slice(line.as_bytes());
        frame.extend_from_slice(b"\r\n");
    }
    frame.extend_from_slice(b"\r\n+IPD,");
    if let Some(l) = input.link {
        frame.extend_from_slice(format!("{},", l % 5).as_bytes());
    }
    frame.extend_from_slice(input.payload.len().to_string().as_bytes());
    if let Some(port) = input.remote {
        frame.extend_from_slice(format!(",\"192.168.3.102\",{port}").as_bytes());
    }
    frame.push(b':');
    frame.extend_from_slice(input.payload);
    frame.extend_from_slice(b"\r\nWIFI DISCONNECT\r\n");
    let (_, urcs) = run(None, &split(&frame, &input.cuts));
    let ipd: Vec<_> = urcs.iter().filter(|(l, _)| l.starts_with(b"+IPD,")).collect();
    assert_eq!(ipd.len(), 1, "{urcs:?}");
    assert_eq!(ipd[0].1.as_slice(), input.payload);
    let parsed = modem::esp::response::parse_ipd(&ipd[0].0).unwrap();
    assert_eq!(usize::from(parsed.len), input.payload.len());
    assert_eq!(parsed.remote.map(|r| r.1), input.remote);
    assert_eq!(urcs.last().map(|u| u.0.as_slice()), Some(&b"WIFI DISCONNECT"[..]));
});
