//! Honeywell HID-POS reports (reference/scanner.md §3): honeywell_hidpos-02 (input report) and
//! honeywell_hidpos-03 (output report) field by field, and malformed reports rejected.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{raw, vectors};
use proptest::prelude::*;
use scanner::hidpos::{self, InputReport};
use scanner::stream::FrameError;

fn vector(id: &str) -> serde_json::Value {
    vectors("honeywell_hidpos").into_iter().find(|v| v["id"] == id).unwrap()
}

fn hex_u8(s: &str) -> u8 {
    u8::from_str_radix(s.split_whitespace().next().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn input_report_02() {
    let v = vector("honeywell_hidpos-02");
    let bytes = raw(&v);
    let e = &v["expected"];
    let r = hidpos::parse_input(&bytes).unwrap();
    assert_eq!(u64::from(bytes[0]), e["report_id"].as_u64().unwrap());
    assert_eq!(r.data.len() as u64, e["length"].as_u64().unwrap());
    assert_eq!(&r.aim, e["aim"].as_str().unwrap().as_bytes());
    assert_eq!(r.aim, hidpos::AIM_MENU_INTERMEDIATE);
    assert_eq!(r.data, e["data_text"].as_str().unwrap().as_bytes());
    assert_eq!(u64::from(r.more), e["byte63_more_data"].as_u64().unwrap());
    assert!(r.more);
}

#[test]
fn output_report_03() {
    let v = vector("honeywell_hidpos-03");
    let bytes = raw(&v);
    let e = &v["expected"];
    assert!(e["direction"].as_str().unwrap().starts_with("host->scanner output"));
    assert!(hidpos::is_output(&bytes));
    let r = hidpos::parse_output(&bytes).unwrap();
    assert_eq!(bytes[0], hex_u8(e["report_id"].as_str().unwrap()));
    // "meaning unclear": only the byte is checked.
    assert_eq!(r.byte1, hex_u8(e["byte1"].as_str().unwrap()));
    assert_eq!(r.payload, e["payload_text"].as_str().unwrap().as_bytes());
    // An input report is not an output report, and vice versa.
    let input = raw(&vector("honeywell_hidpos-02"));
    assert!(!hidpos::is_output(&input));
    assert_eq!(hidpos::parse_output(&input), Err(FrameError::BadStart { offset: 0, found: 0x02 }));
    assert_eq!(
        hidpos::parse_input(&bytes),
        Err(FrameError::BadLength { offset: 0, found: 12, reason: "a 64-byte report" })
    );
}

#[test]
fn malformed_reports() {
    let good = raw(&vector("honeywell_hidpos-02"));
    assert!(matches!(hidpos::parse_input(&good[..63]), Err(FrameError::BadLength { offset: 0, found: 63, .. })));
    let mut b = good.clone();
    b[1] = 59;
    assert!(matches!(hidpos::parse_input(&b), Err(FrameError::BadLength { offset: 1, found: 59, .. })));
    b[1] = 58;
    assert_eq!(hidpos::parse_input(&b).unwrap().data.len(), 58);
    let mut b = good.clone();
    b[63] = 2;
    assert_eq!(hidpos::parse_input(&b), Err(FrameError::BadField { offset: 63, field: "more data", found: 2 }));
    b[63] = 0;
    assert!(!hidpos::parse_input(&b).unwrap().more);
    let mut b = good.clone();
    b[0] = 0xFD;
    assert_eq!(hidpos::parse_input(&b), Err(FrameError::BadStart { offset: 0, found: 0xFD }));
    assert_eq!(hidpos::parse_output(&[0xFD, 0x03]), Err(FrameError::Incomplete));
    assert_eq!(
        hidpos::parse_output(&[0xFD, 0x03, 0x41]),
        Err(FrameError::BadField { offset: 2, field: "command start (SYN)", found: 0x41 })
    );
}

proptest! {
    /// Any 64-byte report built from an AIM id, data and a more flag parses back to them.
    #[test]
    fn input_reports_parse_back(aim: [u8; 3], data in proptest::collection::vec(any::<u8>(), 0..=58), pad: u8, more: bool) {
        let mut report = [pad; 64];
        report[0] = 0x02;
        report[1] = data.len() as u8;
        report[2..5].copy_from_slice(&aim);
        report[5..5 + data.len()].copy_from_slice(&data);
        report[63] = u8::from(more);
        prop_assert_eq!(hidpos::parse_input(&report), Ok(InputReport { aim, data: &data, more }));
    }
}
