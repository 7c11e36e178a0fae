//! Arbitrary bytes through the raw-mode line framer with every terminator: no panic, lines never
//! exceed the buffer, and chunking (taken from the input) never changes the lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner::framer::{FramerConfig, LineFramer, Terminator};

fn lines(cfg: FramerConfig, data: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let mut f = LineFramer::<64>::new(cfg);
    let mut out = Vec::new();
    for mut c in data.chunks(chunk.max(1)) {
        while let Some(line) = f.feed(&mut c, 0) {
            assert!(line.data.len() <= 64);
            out.push(line.data.to_vec());
        }
    }
    if let Some(line) = f.poll(1000) {
        out.push(line.data.to_vec());
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let term = match sel % 8 {
        0 => Terminator::Cr,
        1 => Terminator::Lf,
        2 => Terminator::CrLf,
        3 => Terminator::AnyNewline,
        4 => Terminator::Tab,
        5 => Terminator::None,
        6 => Terminator::LengthPrefixed { marker: 3, length_bytes: 1 },
        _ => Terminator::LengthPrefixed { marker: 3, length_bytes: 2 },
    };
    let cfg = FramerConfig::new(term).with_idle_gap(10).with_prefix(b"]").expect("short prefix");
    let chunk = usize::from(sel >> 3) + 1;
    assert_eq!(lines(cfg, rest, rest.len().max(1)), lines(cfg, rest, chunk));
});
