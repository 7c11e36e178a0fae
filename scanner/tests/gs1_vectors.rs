//! Every AIM and GS1 vector of tests/data/scanner.json, by id (reference/scanner.md §8, §9, §12).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{caret, expect_invalid, raw, vectors};
use scanner::aim::{self, AimError, Gs1Form};
use scanner::gs1::{
    self, ElementStrings, Gs1Error, Hri, LintKind, bracketed_to_raw, caret_to_raw, check_digit, digital_link,
    verify_check_digit,
};
use serde_json::Value;

fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    ElementStrings::new(raw)
        .map(|es| {
            let es = es.unwrap();
            (es.ai().to_owned(), String::from_utf8(es.value().to_vec()).unwrap())
        })
        .collect()
}

fn expected_pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_owned(), p[1].as_str().unwrap().to_owned()))
        .collect()
}

fn bracketed(text: &str) -> Result<Vec<u8>, Gs1Error> {
    let mut out = [0u8; 256];
    let n = bracketed_to_raw(text.as_bytes(), &mut out)?;
    Ok(out[..n].to_vec())
}

#[test]
fn aim_vectors() {
    let mut checked = 0;
    for v in vectors("aim") {
        let id = v["id"].as_str().unwrap();
        let data = raw(&v);
        let e = &v["expected"];
        if expect_invalid(&v) {
            // GS1 scan-data processing (gs1-syntax-engine scandata.c): identifier, GS1 form, data.
            match id {
                "aim-26" => assert!(matches!(aim::parse(&data), Err(AimError::TooShort { .. })), "{id}"),
                "aim-27" => assert_eq!(aim::parse(&data), Err(AimError::Missing { found: b'A' }), "{id}"),
                "aim-25" => {
                    let (sid, _) = aim::split(&data).unwrap();
                    assert_eq!(sid.gs1_form(), None, "{id}: ]XX is not a GS1 identifier");
                }
                "aim-29" => {
                    let (sid, rest) = aim::split(&data).unwrap();
                    assert!(sid.is_gs1());
                    let err = ElementStrings::new(rest).find_map(Result::err).unwrap();
                    assert_eq!(err, Gs1Error::IllegalSeparator { offset: 14, found: b'^' }, "{id}");
                }
                other => panic!("unhandled negative vector {other}"),
            }
            checked += 1;
            continue;
        }
        let (sid, rest) = aim::split(&data).unwrap();
        assert_eq!(sid.to_string(), e["aim"].as_str().unwrap(), "{id}");
        if let Some(name) = e["symbology"].as_str() {
            if let Some(upc_a) = e["upc_a"].as_str() {
                // UPC-A is sent as EAN-13 with a leading 0 (JADAK appendix, §8).
                assert_eq!(rest, format!("0{upc_a}").as_bytes(), "{id}");
                assert_eq!(sid.gs1_form(), Some(Gs1Form::EanUpc));
            } else {
                assert!(
                    name.starts_with(sid.symbology().name()) || name == sid.description(),
                    "{id}: {name} vs {} / {}",
                    sid.symbology().name(),
                    sid.description()
                );
            }
        }
        if let Some(iso) = e["iso_symbology"].as_str() {
            assert_eq!(sid.symbology().name(), iso, "{id}");
        }
        if let Some(g) = e["gs1_symbology"].as_str() {
            assert_eq!(sid.description(), g, "{id}");
        }
        if let Some(g) = e["gs1"].as_bool() {
            assert_eq!(sid.is_gs1(), g, "{id}");
        }
        if let Some(d) = e["data"].as_str() {
            assert_eq!(rest, d.as_bytes(), "{id}");
        }
        if let Some(m) = e["modifiers"].as_str() {
            assert_eq!(sid.modifiers(), m.as_bytes(), "{id}");
        }
        if let Some(m) = e["modifier"].as_str() {
            assert_eq!(sid.modifiers(), m.as_bytes(), "{id}");
        }
        if let Some(ok) = e["check_digit_ok"].as_bool() {
            assert_eq!(verify_check_digit(rest).is_ok(), ok, "{id}");
        }
        if let Some(es) = e.get("element_strings") {
            assert_eq!(pairs(rest), expected_pairs(es), "{id}");
            assert_eq!(gs1::validate(rest).unwrap(), 5, "{id}");
        }
        checked += 1;
    }
    assert_eq!(checked, 17);
}

#[test]
fn bracketed_vectors() {
    for v in vectors("gs1_bracketed") {
        let id = v["id"].as_str().unwrap();
        let text = v["raw"].as_str().unwrap();
        if expect_invalid(&v) {
            let err = bracketed(text).unwrap_err();
            match id {
                "gs1_bracketed-07" => assert_eq!(err, Gs1Error::IllegalSeparator { offset: 9, found: b'^' }),
                "gs1_bracketed-11" => assert_eq!(err, Gs1Error::BadAiLength { offset: 1, len: 5 }),
                other => panic!("unhandled {other}: {err:?}"),
            }
            continue;
        }
        let raw = bracketed(text).unwrap();
        assert_eq!(caret(&raw), v["expected"]["gs1_data_str"].as_str().unwrap(), "{id}");
        // And back: the HRI of the raw form is the input text.
        assert_eq!(Hri(&raw).to_string(), text, "{id}");
    }
}

#[test]
fn lint_vectors() {
    for v in vectors("gs1_lint") {
        let id = v["id"].as_str().unwrap();
        let raw = bracketed(v["raw"].as_str().unwrap()).unwrap();
        let es = ElementStrings::new(&raw).next().unwrap().unwrap();
        let result = es.lint();
        match v["expected"]["lint"].as_str().unwrap() {
            "OK" => assert_eq!(result, Ok(()), "{id}"),
            "INCORRECT_CHECK_DIGIT" => {
                let want = v["expected"]["expected_check_digit"].as_u64().unwrap() as u8;
                assert_eq!(
                    result.unwrap_err().kind,
                    LintKind::IncorrectCheckDigit { expected: want, found: 0 },
                    "{id}"
                );
            }
            "NON_DIGIT_CHARACTER" => {
                let err = result.unwrap_err();
                assert_eq!((err.kind, err.offset), (LintKind::NonDigitCharacter, 0), "{id}");
            }
            "INVALID_PERCENT_SEQUENCE" => {
                let err = result.unwrap_err();
                assert_eq!((err.kind, err.offset), (LintKind::InvalidPercentSequence, 3), "{id}");
            }
            "ILLEGAL_MONTH" => assert_eq!(result.unwrap_err().kind, LintKind::IllegalMonth, "{id}"),
            other => panic!("unhandled lint {other}"),
        }
    }
}

#[test]
fn caret_notation_vectors() {
    for v in vectors("gs1_raw") {
        let id = v["id"].as_str().unwrap();
        let mut out = [0u8; 128];
        let n = caret_to_raw(v["raw"].as_str().unwrap().as_bytes(), &mut out).unwrap();
        let valid = gs1::validate(&out[..n]);
        assert_eq!(valid.is_ok(), v["expected"]["valid"].as_bool().unwrap(), "{id}: {valid:?}");
    }
}

#[test]
fn check_digit_vectors() {
    for v in vectors("gs1_check_digit").into_iter().chain(vectors("gs1_sscc")) {
        let id = v["id"].as_str().unwrap();
        let digits = raw(&v);
        let e = &v["expected"];
        let valid = e["valid"].as_bool().unwrap();
        assert_eq!(verify_check_digit(&digits).is_ok(), valid, "{id}");
        if let Some(cd) = e["computed_check_digit"].as_u64() {
            assert_eq!(check_digit(&digits[..digits.len() - 1]), Some(cd as u8), "{id}");
        }
        if let Some(cd) = e["check_digit"].as_u64() {
            assert_eq!(u64::from(digits[17] - b'0'), cd, "{id}");
        }
        if id == "gs1_sscc-02" {
            // "Invalid SSCC check digit: expected 0, got 1"
            assert_eq!(verify_check_digit(&digits), Err(gs1::CheckDigitError::Incorrect { expected: 0, found: 1 }));
        }
        if v["kind"] == "gs1_sscc" {
            // As AI 00 the same digits pass or fail the linter the same way.
            let mut data = b"00".to_vec();
            data.extend(&digits);
            assert_eq!(gs1::validate(&data).is_ok(), valid, "{id}");
        }
    }
}

#[test]
fn message_vectors() {
    for v in vectors("gs1_message") {
        let id = v["id"].as_str().unwrap();
        let data = raw(&v);
        let e = &v["expected"];
        if let Some(hri) = e["hri"].as_str() {
            assert_eq!(Hri(&data).to_string(), hri, "{id}");
        }
        if let Some(es) = e.get("element_strings") {
            assert_eq!(pairs(&data), expected_pairs(es), "{id}");
            // The vector states the split only. Its GRAI check digit is not valid (the mod-10 of
            // 707132400102 is 1, checked with Python), so the linter must flag offset 13.
            let err = gs1::validate(&data).unwrap_err();
            assert!(
                matches!(err, gs1::Gs1Invalid::Lint(l) if l.offset == 13
                    && l.kind == LintKind::IncorrectCheckDigit { expected: 1, found: 2 }),
                "{id}: {err:?}"
            );
        }
    }
}

#[test]
fn digital_link_vectors() {
    for v in vectors("gs1_digital_link") {
        let id = v["id"].as_str().unwrap();
        let uri = raw(&v);
        let mut out = [0u8; 256];
        let result = digital_link::to_raw(&uri, &mut out)
            .map_err(|e| e.to_string())
            .and_then(|n| gs1::validate(&out[..n]).map(|_| n).map_err(|e| e.to_string()));
        let valid = v["expected"]["valid"].as_bool().unwrap();
        assert_eq!(result.is_ok(), valid, "{id}: {result:?}");
        if let (Ok(n), Some(want)) = (&result, v["expected"]["gs1_data_str"].as_str()) {
            assert_eq!(caret(&out[..*n]), want, "{id}");
        }
    }
    // The reasons of the negative vectors, so that each fails for the documented cause.
    let mut out = [0u8; 256];
    assert_eq!(
        digital_link::to_raw(b"HtTp://a/b/00/006141411234567890", &mut out),
        Err(digital_link::DlError::BadScheme)
    );
    assert!(matches!(
        digital_link::to_raw(b"https://a/stem/00/006141411234567890/", &mut out),
        Err(digital_link::DlError::EmptySegment { offset: 37 })
    ));
    let n = digital_link::to_raw(b"https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ+987", &mut out).unwrap();
    let err = gs1::validate(&out[..n]).unwrap_err();
    assert!(
        matches!(err, gs1::Gs1Invalid::Lint(l) if l.ai == "98" && l.offset == 3 && l.kind == LintKind::InvalidCharacter)
    );
}

/// Found by fuzzing (scanner_digital_link): a pre-defined-length value of the wrong length in a
/// Digital Link URI must be refused, not shift the following element strings.
#[test]
fn digital_link_fixed_length_values_are_checked() {
    let mut out = [0u8; 64];
    let err = digital_link::to_raw(b"https://a/01/1234567890123?99=ABCDEF", &mut out).unwrap_err();
    assert_eq!(err, digital_link::DlError::BadLength { offset: 13, ai: "01", expected: 14, found: 13 });
    assert!(digital_link::to_raw(b"HTTP://;/\x00TT/01/;T", &mut out).is_err());
}
