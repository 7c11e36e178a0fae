//! GS1 properties: generated element strings parse back to themselves in raw, bracketed and
//! Digital Link form; no parser panics on arbitrary input.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use proptest::prelude::*;
use scanner::gs1::{self, ElementStrings, GS, Hri, bracketed_to_raw, check_digit, digital_link};
use scanner::{aim, payload, pickup};

/// Digits with their GS1 check digit appended (§9.2).
fn with_check(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, len - 1).prop_map(|d| {
        let mut s: Vec<u8> = d.into_iter().map(|x| b'0' + x).collect();
        let c = check_digit(&s).unwrap();
        s.push(b'0' + c);
        String::from_utf8(s).unwrap()
    })
}

/// CSET 82 text without '(' (so the bracketed form needs no escape in the generator's view).
fn cset82(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9!\"%&'()*+,./:;<=>?_-]{{1,{max}}}"))
        .unwrap()
        .prop_filter("percent sequences are linted only where pcenc", |s| !s.contains('%'))
}

fn element() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        with_check(18).prop_map(|v| ("00".to_owned(), v)),
        with_check(14).prop_map(|v| ("01".to_owned(), v)),
        cset82(20).prop_map(|v| ("10".to_owned(), v)),
        cset82(20).prop_map(|v| ("21".to_owned(), v)),
        (0u8..100, 1u8..13, 1u8..29).prop_map(|(y, m, d)| ("17".to_owned(), format!("{y:02}{m:02}{d:02}"))),
        proptest::string::string_regex("[0-9]{1,8}").unwrap().prop_map(|v| ("37".to_owned(), v)),
        cset82(30).prop_map(|v| ("401".to_owned(), v)),
        with_check(17).prop_map(|v| ("402".to_owned(), v)),
        cset82(30).prop_map(|v| ("403".to_owned(), v)),
        cset82(20).prop_map(|v| ("420".to_owned(), v)),
        proptest::string::string_regex("[A-Z]{2}").unwrap().prop_map(|v| ("4307".to_owned(), v)),
        (0u8..2).prop_map(|v| ("4322".to_owned(), v.to_string())),
        proptest::string::string_regex("[0-9]{6}").unwrap().prop_map(|v| ("3103".to_owned(), v)),
        cset82(90).prop_map(|v| ("92".to_owned(), v)),
    ]
}

fn raw_of(elements: &[(String, String)]) -> Vec<u8> {
    let mut raw = Vec::new();
    for (i, (ai, value)) in elements.iter().enumerate() {
        raw.extend_from_slice(ai.as_bytes());
        raw.extend_from_slice(value.as_bytes());
        let fixed = gs1::ai::lookup(ai.as_bytes()).unwrap().fixed_length().is_some();
        if !fixed && i + 1 < elements.len() {
            raw.push(GS);
        }
    }
    raw
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_element_strings_parse_back(elements in proptest::collection::vec(element(), 1..8)) {
        let raw = raw_of(&elements);
        let parsed: Vec<(String, String)> = ElementStrings::new(&raw)
            .map(|e| { let e = e.unwrap(); (e.ai().to_owned(), String::from_utf8(e.value().to_vec()).unwrap()) })
            .collect();
        prop_assert_eq!(&parsed, &elements);
        prop_assert_eq!(gs1::validate(&raw).unwrap(), elements.len());
        // HRI -> bracketed parser -> the same raw bytes.
        let hri = Hri(&raw).to_string();
        let mut out = [0u8; 1024];
        let n = bracketed_to_raw(hri.as_bytes(), &mut out).unwrap();
        prop_assert_eq!(&out[..n], &raw[..]);
    }

    /// A Digital Link URI with an SSCC key and query attributes converts to the raw form.
    #[test]
    fn digital_link_round_trip(sscc in with_check(18), extra in proptest::collection::vec(element(), 0..4)) {
        let mut extra = extra;
        extra.retain(|(ai, _)| ai != "00");
        extra.sort_by(|a, b| a.0.cmp(&b.0));
        extra.dedup_by(|a, b| a.0 == b.0);
        let mut uri = format!("https://example.com/stem/00/{sscc}");
        for (i, (ai, v)) in extra.iter().enumerate() {
            let enc: String = v.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect();
            uri.push_str(if i == 0 { "?" } else { "&" });
            uri.push_str(&format!("{ai}={enc}"));
        }
        let mut elements = vec![("00".to_owned(), sscc)];
        elements.extend(extra);
        let mut out = [0u8; 1024];
        let n = digital_link::to_raw(uri.as_bytes(), &mut out).unwrap();
        prop_assert_eq!(&out[..n], &raw_of(&elements)[..]);
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for e in ElementStrings::new(&bytes).flatten() {
            let _ = e.lint();
        }
        let mut out = [0u8; 128];
        let _ = bracketed_to_raw(&bytes, &mut out);
        let _ = gs1::caret_to_raw(&bytes, &mut out);
        let _ = digital_link::to_raw(&bytes, &mut out);
        let _ = aim::split(&bytes);
        let _ = payload::classify(&bytes);
        let _ = pickup::extract(&pickup::PickupPolicy::default(), &bytes);
        let _ = Hri(&bytes).to_string();
    }

    /// Structured junk: GS1-looking input near the grammar still never panics.
    #[test]
    fn near_grammar_never_panics(parts in proptest::collection::vec(prop_oneof![
        Just("(".to_owned()), Just(")".to_owned()), Just("\u{1d}".to_owned()), Just("^".to_owned()),
        Just("https://a/".to_owned()), Just("00".to_owned()), Just("/".to_owned()), Just("?".to_owned()),
        Just("%".to_owned()), Just("=".to_owned()), Just("&".to_owned()), "[0-9]{1,5}", "[A-Za-z]{1,3}",
    ], 0..30)) {
        let s = parts.concat();
        let mut out = [0u8; 256];
        let _ = bracketed_to_raw(s.as_bytes(), &mut out);
        let _ = digital_link::to_raw(s.as_bytes(), &mut out);
        let _ = gs1::validate(s.as_bytes());
    }
}
