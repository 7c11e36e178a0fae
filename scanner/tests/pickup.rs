//! Pickup-code extraction (issue 5 item 6) and payload classification (§9.4).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use scanner::payload::{Content, classify};
use scanner::pickup::{Credential, PickupChecksum, PickupError, PickupPolicy, extract};

fn policy() -> PickupPolicy<'static> {
    PickupPolicy {
        prefix: b"LK1-",
        checksum: PickupChecksum::Gs1Mod10,
        min_len: 8,
        max_len: 12,
        ..PickupPolicy::default()
    }
}

#[test]
fn pickup_codes() {
    // 1234567 -> GS1 mod-10 check digit 0 (weights 3,1 from the right: 7*3+6+5*3+4+3*3+2+1*3 = 60).
    assert_eq!(extract(&policy(), b"]Q1LK1-12345670"), Ok(Credential::PickupCode(b"12345670")));
    assert_eq!(extract(&policy(), b"LK1-12345670"), Ok(Credential::PickupCode(b"12345670")), "without AIM id");
    assert_eq!(extract(&policy(), b"]Q1LK1-12345671"), Err(PickupError::BadCheckDigit { expected: 0, found: 1 }));
    assert_eq!(extract(&policy(), b"]Q1LK1-1234567"), Err(PickupError::BadLength { found: 7, min: 8, max: 12 }));
    assert_eq!(extract(&policy(), b"]Q1LK1-1234A670"), Err(PickupError::BadCharacter { offset: 4, found: b'A' }));
    let alnum = PickupPolicy { checksum: PickupChecksum::None, ..policy() };
    assert_eq!(extract(&alnum, b"]Q1LK1-AB12CD34"), Ok(Credential::PickupCode(b"AB12CD34")));
    assert_eq!(extract(&alnum, b""), Err(PickupError::Empty));
}

#[test]
fn sscc_from_labels() {
    // SSCC 123456789012345675 (§9.2, vector gs1_check_digit-09) on a GS1-128 label.
    assert_eq!(extract(&policy(), b"]C100123456789012345675\x1d10LOT"), Ok(Credential::Sscc(b"123456789012345675")));
    // ... and in a Digital Link URI (vector gs1_digital_link-02 uses 006141411234567890).
    assert_eq!(extract(&policy(), b"]Q1https://a/00/006141411234567890"), Ok(Credential::Sscc(b"006141411234567890")));
    // Wrong check digit (vector gs1_sscc-02): a clear GS1 error, not a credential.
    let err = extract(&policy(), b"]C100376130321109103421").unwrap_err();
    assert!(matches!(err, PickupError::Gs1(_)), "{err:?}");
    assert!(err.to_string().contains("incorrect check digit: expected 0, found 1"), "{err}");
    // GS1 without AI 00.
    assert_eq!(extract(&policy(), b"]C10112345678901231"), Err(PickupError::NoSscc));
    let no_sscc = PickupPolicy { accept_sscc: false, ..policy() };
    assert_eq!(extract(&no_sscc, b"]C100123456789012345675"), Err(PickupError::NotACredential { kind: "gs1" }));
}

#[test]
fn other_content_is_refused_with_its_kind() {
    assert_eq!(extract(&policy(), b"]C01Z999AA10123456784"), Ok(Credential::TrackingNumber(b"1Z999AA10123456784")));
    assert_eq!(extract(&policy(), b"]Q1https://example.com/x"), Err(PickupError::NotACredential { kind: "url" }));
    assert_eq!(extract(&policy(), b"]Q1hello world"), Err(PickupError::NotACredential { kind: "text" }));
    assert_eq!(extract(&policy(), b"]E05901234123457"), Err(PickupError::NotACredential { kind: "gtin" }));
    assert_eq!(extract(&policy(), b"]Q1\x00\x01\xff"), Err(PickupError::NotACredential { kind: "binary" }));
}

#[test]
fn iso15434_envelope() {
    // zxing-cpp sample quoted in reference/scanner.md §9.4.
    let scan = b"]U1[)>\x1e01\x1d96123450000\x1d222\x1d111\x1dMODE2";
    let c = classify(scan);
    assert_eq!(c.aim.unwrap().to_string(), "]U1");
    let Content::Iso15434(env) = c.content else { panic!("{:?}", c.content) };
    assert!(!env.has_trailer);
    let formats: Vec<_> = env.formats().collect();
    assert_eq!(formats.len(), 1);
    assert_eq!(formats[0].indicator, b"01");
    let fields: Vec<&[u8]> = formats[0].fields().collect();
    assert_eq!(fields, vec![&b"96123450000"[..], b"222", b"111", b"MODE2"]);
    assert_eq!(extract(&policy(), scan), Err(PickupError::NotACredential { kind: "iso15434" }));
}
