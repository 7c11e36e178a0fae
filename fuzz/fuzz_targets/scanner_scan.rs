//! Arbitrary scan data through AIM parsing, classification, pickup-code extraction and the
//! Honeywell/Newland reply parsers: no panic,
//! and a credential always borrows bytes of the scan.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner::pickup::{Credential, PickupChecksum, PickupPolicy, extract};
use scanner::{aim, menu, payload};

fuzz_target!(|data: &[u8]| {
    if let Ok((id, rest)) = aim::split(data) {
        assert_eq!(id.len() + rest.len(), data.len());
        let _ = (id.gs1_form(), id.description(), id.to_string());
    }
    let _ = menu::parse_reply(data).count();
    let _ = menu::newland_reply_body(data);
    let _ = menu::parse_newland_legacy(data);
    let c = payload::classify(data);
    if let payload::Content::Iso15434(env) = c.content {
        for f in env.formats() {
            let _ = f.fields().count();
        }
    }
    for checksum in [PickupChecksum::None, PickupChecksum::Gs1Mod10] {
        let policy = PickupPolicy { prefix: b"P:", checksum, ..PickupPolicy::default() };
        if let Ok(cred) = extract(&policy, data) {
            let bytes = match cred {
                Credential::PickupCode(b) | Credential::Sscc(b) | Credential::TrackingNumber(b) => b,
                _ => return,
            };
            let inside = data.as_ptr_range().contains(&bytes.as_ptr()) || bytes.is_empty();
            assert!(inside, "credential not borrowed from the scan");
        }
    }
});
