//! Arbitrary bytes as a GS1 Digital Link URI: no panic, and a converted URI is well-formed raw
//! GS1 data structurally (every AI known, no empty value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner::gs1::{ElementStrings, digital_link};

fuzz_target!(|data: &[u8]| {
    let mut out = [0u8; 512];
    if let Ok(n) = digital_link::to_raw(data, &mut out) {
        for es in ElementStrings::new(&out[..n]) {
            let es = es.expect("converted DL data is structurally valid");
            let _ = es.lint();
        }
    }
    let mut small = [0u8; 8];
    let _ = digital_link::to_raw(data, &mut small);
});
