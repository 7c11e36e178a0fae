//! Arbitrary bytes as raw GS1 data, bracketed text and `^` notation: no panic; CSET 82 raw
//! data that parses prints as HRI that parses back to the same element strings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner::gs1::{self, ElementStrings, Hri};

type Pairs = Vec<Result<(&'static str, Vec<u8>), gs1::Gs1Error>>;

fn pairs(raw: &[u8]) -> Pairs {
    ElementStrings::new(raw).map(|e| e.map(|e| (e.ai(), e.value().to_vec()))).collect()
}

fuzz_target!(|data: &[u8]| {
    let _ = gs1::validate(data);
    let mut out = vec![0u8; data.len() * 2 + 16];
    let _ = gs1::caret_to_raw(data, &mut out);
    if let Ok(n) = gs1::bracketed_to_raw(data, &mut out) {
        let _ = gs1::validate(&out[..n]);
    }
    let first = pairs(data);
    // Values outside CSET 82 (a backslash before an AI, control bytes) need not round-trip:
    // the bracketed syntax cannot express them unambiguously, and the linter rejects them.
    let printable = data.iter().all(|&b| gs1::ai::is_cset82(b) || b == 0x1D);
    if printable && !first.is_empty() && first.iter().all(Result::is_ok) {
        let hri = Hri(data).to_string();
        let mut buf = vec![0u8; hri.len() + 16];
        let len = gs1::bracketed_to_raw(hri.as_bytes(), &mut buf).expect("HRI parses back");
        assert_eq!(pairs(&buf[..len]), first, "HRI round trip");
    }
});
