//! Every typed parser of the modem crate on arbitrary lines: no panic, and what is accepted is
//! in range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modem::params::Fields;
use modem::response::*;
use modem::result::parse_final;

fuzz_target!(|line: &[u8]| {
    assert!(Fields::new(line, 0).count() <= line.len() + 1);
    if let Ok(r) = parse_registration(line) {
        assert!(r.stat < 100);
    }
    let _ = parse_csq(line);
    let _ = parse_cpin(line);
    if let Ok(imei) = parse_imei(line) {
        assert!(imei.bytes().all(|b| b.is_ascii_digit()));
    }
    if let Ok(iccid) = parse_iccid(line) {
        assert!(iccid.starts_with("89"));
    }
    let _ = parse_cops(line);
    let mut n = 0;
    for op in operators(line) {
        let _ = op;
        n += 1;
        assert!(n <= line.len());
    }
    if let Ok(t) = parse_cclk(line) {
        assert!((1..=12).contains(&t.month) && (1..=31).contains(&t.day) && t.hour < 24);
    }
    let _ = parse_qiurc(line);
    let _ = parse_qmtstat(line);
    if let Ok(Qmtrecv::Message { payload, payload_len: Some(len), .. }) = parse_qmtrecv(line) {
        assert_eq!(payload.len(), len as usize);
    }
    let _ = parse_final(line, true);
    let _ = modem::framer::counted_payload(line);
    let _ = field_count(line);
});
