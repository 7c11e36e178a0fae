//! Vector loading for the scanner tests (tests/data/scanner.json is a copy of
//! ../shared/vectors/scanner.json with ids and sources kept).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use serde_json::Value;

/// All vectors of one kind (`aim`, `gs1_lint`, `ssi`, ...).
pub fn vectors(kind: &str) -> Vec<Value> {
    let all: Vec<Value> = serde_json::from_str(include_str!("../data/scanner.json")).unwrap();
    let found: Vec<Value> = all.into_iter().filter(|v| v["kind"] == kind).collect();
    assert!(!found.is_empty(), "no vectors of kind {kind}");
    found
}

/// The raw bytes of a vector (text or hex).
pub fn raw(v: &Value) -> Vec<u8> {
    let text = v["raw"].as_str().unwrap();
    if v["raw_format"] == "hex" { hex(text) } else { text.as_bytes().to_vec() }
}

/// `"7E 00 07"` to bytes.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex length in {text:?}");
    (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
}

/// Raw GS1 data (GS separators) in gs1-syntax-engine notation (`^` for every FNC1, leading one included).
pub fn caret(raw: &[u8]) -> String {
    let mut s = String::from("^");
    s.extend(raw.iter().map(|&b| if b == 0x1D { '^' } else { char::from(b) }));
    s
}

/// Whether `expected` has a boolean `valid: false`.
pub fn expect_invalid(v: &Value) -> bool {
    v["expected"]["valid"] == Value::Bool(false)
}
