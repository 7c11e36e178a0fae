//! Arbitrary bytes through the scanner variant decoders (M3Y-W frames, reference/scanner.md §6;
//! Mindeo SCI and 3nStar SSI-like packets, §2.7; Honeywell HID-POS reports, §3): no panic,
//! every frame that parses re-encodes to exactly the bytes it was parsed from, and a parsed
//! HID-POS report's fields lie where the layout puts them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner::{hidpos, m3y, ssi_variant};

fuzz_target!(|data: &[u8]| {
    if let Ok((f, used)) = m3y::parse(data) {
        let mut buf = vec![0u8; f.wire_len()];
        let n = m3y::encode(&f, &mut buf).expect("parsed frame re-encodes");
        assert_eq!(&buf[..n], &data[..used]);
    }
    let mut buf = [0u8; 257];
    if let Ok((p, used)) = ssi_variant::parse_sci(data) {
        let n = ssi_variant::encode_sci(&p, &mut buf).expect("parsed SCI packet re-encodes");
        assert_eq!(&buf[..n], &data[..used]);
    }
    if let Ok((p, used)) = ssi_variant::parse_nstar(data) {
        let n = ssi_variant::encode_nstar(&p, &mut buf).expect("parsed 3nStar packet re-encodes");
        assert_eq!(&buf[..n], &data[..used]);
    }
    if let Ok(r) = hidpos::parse_input(data) {
        assert_eq!(&data[2..5], &r.aim);
        assert_eq!(&data[5..5 + r.data.len()], r.data);
        assert_eq!(data[63], u8::from(r.more));
    }
    if let Ok(r) = hidpos::parse_output(data) {
        assert!(hidpos::is_output(data));
        assert_eq!(&data[2..], r.payload);
        assert_eq!(data[1], r.byte1);
    }
});
