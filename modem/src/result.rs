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
/// enum.
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

fn error_code(rest: &[u8]) -> ErrorCode<'_> {
    let rest = trim(rest);
    match parse_dec(rest).and_then(|n| u16::try_from(n).ok()) {
        Some(code) => ErrorCode { code: Some(code), text: None },
        None => ErrorCode { code: None, text: core::str::from_utf8(rest).ok() },
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
        return Some(FinalResult::CmeError(error_code(rest)));
    }
    if let Some(rest) = line.strip_prefix(b"+CMS ERROR:") {
        return Some(FinalResult::CmsError(error_code(rest)));
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
            Some(FinalResult::CmeError(ErrorCode { code: None, text: Some("incorrect password") }))
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
