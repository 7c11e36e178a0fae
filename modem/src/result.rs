//! Final result codes (reference §1.2, §1.3, §1.10).
//!
//! A response ends at exactly one final result code. Recognised (verbose, `ATV1`): `OK`,
//! `CONNECT [<text>]`, `ERROR`, `+CME ERROR: <n>|<text>`, `+CMS ERROR: <n>|<text>`,
//! `NO CARRIER`, `BUSY`, `NO ANSWER`, `NO DIALTONE`, and Huawei's `COMMAND NOT SUPPORT`.
//! With `numeric` set, the `ATV0` digits of V.250 Table 1 are recognised too (`0` OK,
//! `1` CONNECT, `3` NO CARRIER, `4` ERROR, `6` NO DIALTONE, `7` BUSY, `8` NO ANSWER; vector
//! csq-008). `UNKNOWN COMMAND` and `MODEM ERROR:` are not finals, as in ModemManager (vectors
//! final-004, final-018).

use crate::params::{parse_dec, trim};

/// A final result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FinalResult<'a> {
    /// `OK` (or `0`).
    Ok,
    /// `CONNECT` with its optional text (rate), e.g. `CONNECT 150000000`.
    Connect(Option<&'a str>),
    /// Plain `ERROR` (or `4`).
    Error,
    /// `+CME ERROR`: numeric (`AT+CMEE=1`) or verbose (`AT+CMEE=2`) form, 27.007 §9.2.
    CmeError(ErrorCode<'a>),
    /// `+CMS ERROR`, 27.005 §3.2.5.
    CmsError(ErrorCode<'a>),
    /// `NO CARRIER` (or `3`).
    NoCarrier,
    /// `BUSY` (or `7`).
    Busy,
    /// `NO ANSWER` (or `8`).
    NoAnswer,
    /// `NO DIALTONE` (or `6`).
    NoDialtone,
    /// A vendor error final (`COMMAND NOT SUPPORT`).
    VendorError(&'a str),
}

/// The code of a `+CME ERROR` / `+CMS ERROR` result: numeric, verbose, or empty.
///
/// Vendor codes collide (reference §1.10), so the number is kept raw, never mapped to a closed
/// enum. A verbose text of the standard tables ([`CME_TEXTS`], [`CMS_TEXTS`]) also gets its
/// number (`+CME ERROR: SIM not inserted` → code 10); vendor texts keep `code: None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode<'a> {
    /// The number, when the module sent one.
    pub code: Option<u16>,
    /// The text, when the module sent text (`incorrect password`); `Some("")` for an empty one.
    pub text: Option<&'a str>,
}

impl FinalResult<'_> {
    /// The `final` name used by `modemctl parse`: `ok`, `error`, `cme_error`, `cms_error`,
    /// `no_carrier`, `connect`, `busy`, `no_answer`, `no_dialtone`.
    pub fn name(&self) -> &'static str {
        match self {
            FinalResult::Ok => "ok",
            FinalResult::Connect(_) => "connect",
            FinalResult::Error | FinalResult::VendorError(_) => "error",
            FinalResult::CmeError(_) => "cme_error",
            FinalResult::CmsError(_) => "cms_error",
            FinalResult::NoCarrier => "no_carrier",
            FinalResult::Busy => "busy",
            FinalResult::NoAnswer => "no_answer",
            FinalResult::NoDialtone => "no_dialtone",
        }
    }

    /// True for `OK` and `CONNECT`.
    pub fn is_success(&self) -> bool {
        matches!(self, FinalResult::Ok | FinalResult::Connect(_))
    }
}

/// Verbose `+CME ERROR` texts (`AT+CMEE=2`) of 27.007 §9.2, as listed in reference §1.10 (with
/// the full 27.007 wording where the reference abbreviates). Matched ignoring ASCII case.
pub const CME_TEXTS: &[(u16, &str)] = &[
    (0, "phone failure"),
    (1, "no connection to phone"),
    (2, "phone-adaptor link reserved"),
    (3, "operation not allowed"),
    (4, "operation not supported"),
    (5, "PH-SIM PIN required"),
    (10, "SIM not inserted"),
    (11, "SIM PIN required"),
    (12, "SIM PUK required"),
    (13, "SIM failure"),
    (14, "SIM busy"),
    (15, "SIM wrong"),
    (16, "incorrect password"),
    (17, "SIM PIN2 required"),
    (18, "SIM PUK2 required"),
    (20, "memory full"),
    (21, "invalid index"),
    (22, "not found"),
    (23, "memory failure"),
    (24, "text string too long"),
    (25, "invalid characters in text string"),
    (26, "dial string too long"),
    (27, "invalid characters in dial string"),
    (30, "no network service"),
    (31, "network timeout"),
    (32, "network not allowed - emergency calls only"),
    (100, "unknown"),
    (103, "illegal MS"),
    (106, "illegal ME"),
    (107, "GPRS services not allowed"),
    (111, "PLMN not allowed"),
    (112, "location area not allowed"),
    (113, "roaming not allowed in this location area"),
    (113, "roaming not allowed in this LA"),
    (132, "service option not supported"),
    (133, "requested service option not subscribed"),
    (134, "service option temporarily out of order"),
    (148, "unspecified GPRS error"),
    (149, "PDP authentication failure"),
    (150, "invalid mobile class"),
];

/// Verbose `+CMS ERROR` texts of 27.005 §3.2.5 (reference §1.10).
pub const CMS_TEXTS: &[(u16, &str)] = &[
    (300, "ME failure"),
    (302, "operation not allowed"),
    (303, "operation not supported"),
    (304, "invalid PDU mode parameter"),
    (305, "invalid text mode parameter"),
    (310, "SIM not inserted"),
    (311, "SIM PIN required"),
    (312, "PH-SIM PIN required"),
    (313, "SIM failure"),
    (314, "SIM busy"),
    (315, "SIM wrong"),
    (316, "SIM PUK required"),
    (317, "SIM PIN2 required"),
    (318, "SIM PUK2 required"),
    (320, "memory failure"),
    (321, "invalid memory index"),
    (322, "memory full"),
    (330, "SMSC address unknown"),
    (331, "no network service"),
    (332, "network timeout"),
    (340, "no +CNMA acknowledgement expected"),
    (500, "unknown error"),
];

fn error_code<'a>(rest: &'a [u8], table: &[(u16, &str)]) -> ErrorCode<'a> {
    let rest = trim(rest);
    match parse_dec(rest).and_then(|n| u16::try_from(n).ok()) {
        Some(code) => ErrorCode { code: Some(code), text: None },
        None => {
            // A verbose text also gets its standard number when it is one of the table's.
            let code = table.iter().find(|(_, t)| t.as_bytes().eq_ignore_ascii_case(rest)).map(|&(c, _)| c);
            ErrorCode { code, text: core::str::from_utf8(rest).ok() }
        }
    }
}

/// Recognises a final result code; `None` for any other line.
///
/// ```
/// use modem::result::{parse_final, FinalResult, ErrorCode};
/// assert_eq!(parse_final(b"OK", false), Some(FinalResult::Ok));
/// assert_eq!(
///     parse_final(b"+CME ERROR: 10", false),
///     Some(FinalResult::CmeError(ErrorCode { code: Some(10), text: None }))
/// );
/// assert_eq!(parse_final(b"0", true), Some(FinalResult::Ok));
/// assert_eq!(parse_final(b"0", false), None);
/// ```
pub fn parse_final(line: &[u8], numeric: bool) -> Option<FinalResult<'_>> {
    let line = trim(line);
    match line {
        b"OK" => return Some(FinalResult::Ok),
        b"ERROR" => return Some(FinalResult::Error),
        b"NO CARRIER" => return Some(FinalResult::NoCarrier),
        b"BUSY" => return Some(FinalResult::Busy),
        b"NO ANSWER" => return Some(FinalResult::NoAnswer),
        b"NO DIALTONE" | b"NO DIAL TONE" => return Some(FinalResult::NoDialtone),
        b"COMMAND NOT SUPPORT" => return Some(FinalResult::VendorError("COMMAND NOT SUPPORT")),
        // ESP-AT 1.x ends a failed `AT+CWJAP` with `FAIL` (ESP-AT.md §3).
        b"FAIL" => return Some(FinalResult::VendorError("FAIL")),
        b"CONNECT" => return Some(FinalResult::Connect(None)),
        _ => {}
    }
    if numeric {
        let code = match line {
            b"0" => Some(FinalResult::Ok),
            b"1" => Some(FinalResult::Connect(None)),
            b"3" => Some(FinalResult::NoCarrier),
            b"4" => Some(FinalResult::Error),
            b"6" => Some(FinalResult::NoDialtone),
            b"7" => Some(FinalResult::Busy),
            b"8" => Some(FinalResult::NoAnswer),
            _ => None,
        };
        if code.is_some() {
            return code;
        }
    }
    if let Some(rest) = line.strip_prefix(b"CONNECT ") {
        return Some(FinalResult::Connect(core::str::from_utf8(trim(rest)).ok()));
    }
    if let Some(rest) = line.strip_prefix(b"+CME ERROR:") {
        return Some(FinalResult::CmeError(error_code(rest, CME_TEXTS)));
    }
    if let Some(rest) = line.strip_prefix(b"+CMS ERROR:") {
        return Some(FinalResult::CmsError(error_code(rest, CMS_TEXTS)));
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cme_forms() {
        // reference §1.3: numeric and verbose; vector final-009: empty text.
        assert_eq!(
            parse_final(b"+CME ERROR: incorrect password", false),
            Some(FinalResult::CmeError(ErrorCode { code: Some(16), text: Some("incorrect password") }))
        );
        assert_eq!(
            parse_final(b"+CME ERROR: SIM NOT INSERTED", false),
            Some(FinalResult::CmeError(ErrorCode { code: Some(10), text: Some("SIM NOT INSERTED") }))
        );
        assert_eq!(
            parse_final(b"+CMS ERROR: SMSC address unknown", false),
            Some(FinalResult::CmsError(ErrorCode { code: Some(330), text: Some("SMSC address unknown") }))
        );
        assert_eq!(
            parse_final(b"+CME ERROR: Vendor specific thing", false),
            Some(FinalResult::CmeError(ErrorCode { code: None, text: Some("Vendor specific thing") }))
        );
        assert_eq!(
            parse_final(b"+CME ERROR: ", false),
            Some(FinalResult::CmeError(ErrorCode { code: None, text: Some("") }))
        );
        assert_eq!(
            parse_final(b"+CMS ERROR: 330", false),
            Some(FinalResult::CmsError(ErrorCode { code: Some(330), text: None }))
        );
    }

    #[test]
    fn not_finals() {
        for line in [&b"UNKNOWN COMMAND"[..], b"MODEM ERROR:", b"OKAY", b"+CREG: 1", b"2", b"CONNECTED"] {
            assert_eq!(parse_final(line, true), None, "{}", String::from_utf8_lossy(line));
        }
        assert_eq!(parse_final(b"CONNECT 150000000", false), Some(FinalResult::Connect(Some("150000000"))));
    }
}
