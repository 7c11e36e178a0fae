//! Response lines per second of our [`Router`] against `atat`'s `AtDigester` (reference §3.1)
//! on the same captured responses: every vector of `tests/data/modem.json` (a copy of
//! `../shared/vectors/modem.json`) whose bytes end in a final result both parsers recognise,
//! fed whole and in 16-byte UART chunks. Only atat's public digest API is used, driven the way
//! its ingress drives it (append to the buffer, digest until nothing is consumed, shift the rest
//! down). The RAM each needs is printed before the runs.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::hint::black_box;

use atat::digest::parser::urc_helper;
use atat::{AtDigester, DigestResult, Digester, Parser};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use modem::engine::Engine;
use modem::{Command, Routed, Router};

/// Line length of our router (the blocking shell's, reference §6.2: at least 256).
const LINE: usize = 256;
/// URC queue depth.
const QUEUE: usize = 8;
/// atat's ingress buffer must hold a whole response: the largest captured one fits in this.
const ATAT_BUF: usize = 1024;

/// The URC prefixes an atat user registers (the URCs of the vectors; registration URCs left
/// out as ublox-cellular-rs PR #80 does, since atat cannot tell them from replies, §3.1).
struct Urcs;

impl Parser for Urcs {
    fn parse(buf: &[u8]) -> Result<(&[u8], usize), atat::digest::ParseError> {
        let (_, r) = atat::nom::branch::alt((
            urc_helper("+QIURC"),
            urc_helper("+QMTSTAT"),
            urc_helper("+QMTRECV"),
            urc_helper("+QIND"),
            urc_helper("+CMTI"),
            urc_helper("APP RDY"),
            urc_helper("RDY"),
        ))(buf)?;
        Ok(r)
    }
}

struct Case {
    command: Vec<u8>,
    bytes: Vec<u8>,
    lines: u64,
}

/// The captured responses, framed as the module sends them (§1.2) when the source stored only
/// the information line.
fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/modem.json")).unwrap();
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for v in vectors.as_array().unwrap() {
        let (Some(command), Some(raw)) = (v["command"].as_str(), v["raw"].as_str()) else { continue };
        let mut bytes = raw.as_bytes().to_vec();
        if !raw.contains("\r\n") {
            bytes = format!("\r\n{raw}\r\n\r\nOK\r\n").into_bytes();
        }
        let lines = bytes.split(|&b| b == b'\r' || b == b'\n').filter(|l| !l.is_empty()).count() as u64;
        let case = Case { command: command.as_bytes().to_vec(), bytes, lines };
        let whole = case.bytes.len();
        if whole <= ATAT_BUF && ours(&mut Router::new(), &case, whole).1 && atat_run(&mut atat(), &case, whole).1 {
            out.push(case);
        }
    }
    out
}

/// Our router (reused from case to case): routed items, and whether the command completed.
fn ours(router: &mut Router<LINE, QUEUE>, case: &Case, chunk: usize) -> (u64, bool) {
    router.begin(&Command::new(&case.command)).unwrap();
    let mut items = 0u64;
    let mut done = false;
    for c in case.bytes.chunks(chunk) {
        router.feed(c, |r| {
            items += 1;
            if let Routed::Final { complete: true, .. } = r {
                done = true;
            }
        });
    }
    while router.pop_urc().is_some() {}
    (items, done)
}

/// atat's digester state: the ingress buffer and the digester (reused from case to case).
struct Atat {
    digester: AtDigester<Urcs>,
    buf: [u8; ATAT_BUF],
}

/// atat's digester as its ingress drives it: results, and whether a response was produced.
fn atat_run(atat: &mut Atat, case: &Case, chunk: usize) -> (u64, bool) {
    let Atat { digester, buf } = atat;
    let mut len = 0;
    let mut items = 0u64;
    let mut done = false;
    for c in case.bytes.chunks(chunk) {
        buf[len..len + c.len()].copy_from_slice(c);
        len += c.len();
        loop {
            let (result, used) = digester.digest(&buf[..len]);
            match result {
                DigestResult::Response(_) => {
                    done = true;
                    items += 1;
                }
                DigestResult::None => {}
                _ => items += 1,
            }
            if used == 0 {
                break;
            }
            buf.copy_within(used..len, 0);
            len -= used;
        }
    }
    (items, done)
}

fn atat() -> Atat {
    Atat { digester: AtDigester::new(), buf: [0; ATAT_BUF] }
}

fn bench(c: &mut Criterion) {
    let cases = cases();
    let lines: u64 = cases.iter().map(|c| c.lines).sum();
    let bytes: usize = cases.iter().map(|c| c.bytes.len()).sum();
    println!("digest bench: {} captured responses, {lines} lines, {bytes} bytes", cases.len());
    let atat_slot = core::mem::size_of::<atat::ResponseSlot<LINE>>();
    println!(
        "RAM: modem Router<{LINE},{QUEUE}> {} B, Router<{LINE},1> {} B, one queued Urc<{LINE}> {} B, \
         Engine<{LINE},{QUEUE}> {} B; \
         atat ingress buffer {ATAT_BUF} B + AtDigester {} B + ResponseSlot<{LINE}> {atat_slot} B \
         (+ the UrcChannel, sized by the user's URC type)",
        core::mem::size_of::<Router<LINE, QUEUE>>(),
        core::mem::size_of::<Router<LINE, 1>>(),
        core::mem::size_of::<modem::Urc<LINE>>(),
        core::mem::size_of::<Engine<LINE, QUEUE>>(),
        core::mem::size_of::<AtDigester<Urcs>>(),
    );
    for (name, chunk) in [("whole", usize::MAX), ("chunks16", 16)] {
        let mut group = c.benchmark_group(format!("digest_{name}"));
        group.throughput(Throughput::Elements(lines));
        group.bench_function("modem_router", |b| {
            let mut router = Router::<LINE, QUEUE>::new();
            b.iter(|| cases.iter().map(|case| ours(&mut router, black_box(case), chunk).0).sum::<u64>())
        });
        group.bench_function("atat_digester", |b| {
            let mut state = atat();
            b.iter(|| cases.iter().map(|case| atat_run(&mut state, black_box(case), chunk).0).sum::<u64>())
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
