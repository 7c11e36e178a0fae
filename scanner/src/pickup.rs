//! Pickup-code extraction: turn a scan into a locker credential, or say clearly why not.
//!
//! Accepted credentials (issue 5 item 6): a pickup QR (a configurable prefix, then a code of
//! allowed characters and length, optionally ending in a GS1 mod-10 check digit), a valid SSCC
//! (GS1 AI 00 in element strings or a Digital Link URI) and a carrier tracking number. Anything
//! else is a [`PickupError`]; nothing is guessed (a wrong compartment is worse than none).
//!
//! ```
//! use scanner::pickup::{extract, Credential, PickupPolicy, PickupChecksum};
//!
//! let policy = PickupPolicy { prefix: b"LOCKER:", checksum: PickupChecksum::Gs1Mod10, ..PickupPolicy::default() };
//! assert_eq!(extract(&policy, b"]Q1LOCKER:12345670"), Ok(Credential::PickupCode(b"12345670")));
//! assert!(extract(&policy, b"]Q1LOCKER:12345678").is_err()); // wrong check digit
//! ```

use crate::gs1::{self, CheckDigitError, ElementStrings, Gs1Invalid};
use crate::payload::{Content, classify};

/// How a pickup code protects itself against misreads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PickupChecksum {
    /// No check character.
    None,
    /// All digits, the last one the GS1 mod-10 check digit of the others (§9.2).
    Gs1Mod10,
}

/// What the locker accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PickupPolicy<'p> {
    /// Bytes a pickup QR starts with (`b"LOCKER:"`); empty: no pickup codes are recognised.
    pub prefix: &'p [u8],
    /// Check character rule of the code after the prefix.
    pub checksum: PickupChecksum,
    /// Shortest code after the prefix.
    pub min_len: usize,
    /// Longest code after the prefix.
    pub max_len: usize,
    /// Accept an SSCC (courier drop-off by parcel label).
    pub accept_sscc: bool,
    /// Accept a carrier tracking number (shape only; see [`crate::payload::Content::TrackingNumber`]).
    pub accept_tracking_number: bool,
}

impl Default for PickupPolicy<'_> {
    /// Prefix `"PICKUP:"`, 6-32 characters, no checksum, SSCC and tracking numbers accepted.
    fn default() -> Self {
        Self {
            prefix: b"PICKUP:",
            checksum: PickupChecksum::None,
            min_len: 6,
            max_len: 32,
            accept_sscc: true,
            accept_tracking_number: true,
        }
    }
}

/// A locker credential, borrowed from the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential<'a> {
    /// The code after the pickup prefix (check digit included).
    PickupCode(&'a [u8]),
    /// An SSCC, 18 digits with a valid check digit.
    Sscc(&'a [u8]),
    /// A carrier tracking number.
    TrackingNumber(&'a [u8]),
}

/// Why a scan is not a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PickupError {
    /// Nothing was scanned.
    #[error("empty scan")]
    Empty,
    /// The pickup code has the wrong length.
    #[error("pickup code of {found} characters (allowed {min}..={max})")]
    BadLength {
        /// Characters found.
        found: usize,
        /// Minimum.
        min: usize,
        /// Maximum.
        max: usize,
    },
    /// A character of the pickup code is not an ASCII letter or digit (or digit for mod 10).
    #[error("pickup code offset {offset}: character {found:#04x} not allowed")]
    BadCharacter {
        /// Offset inside the code.
        offset: usize,
        /// The byte.
        found: u8,
    },
    /// The pickup code's check digit is wrong.
    #[error("pickup code check digit: expected {expected}, found {found}")]
    BadCheckDigit {
        /// The computed check digit.
        expected: u8,
        /// The digit found.
        found: u8,
    },
    /// GS1 data that is malformed or has a bad value (e.g. an SSCC with a wrong check digit).
    #[error("GS1 data: {0}")]
    Gs1(#[from] Gs1Invalid),
    /// Valid GS1 data without an SSCC (AI 00).
    #[error("GS1 data without an SSCC (AI 00)")]
    NoSscc,
    /// A kind of content the policy does not accept (`"url"`, `"text"`, `"gtin"`, ...).
    #[error("not a locker credential: {kind}")]
    NotACredential {
        /// The content kind.
        kind: &'static str,
    },
}

fn check_code(policy: &PickupPolicy<'_>, code: &[u8]) -> Result<(), PickupError> {
    if !(policy.min_len..=policy.max_len).contains(&code.len()) {
        return Err(PickupError::BadLength { found: code.len(), min: policy.min_len, max: policy.max_len });
    }
    let digits_only = policy.checksum == PickupChecksum::Gs1Mod10;
    if let Some(offset) = code.iter().position(|b| !(b.is_ascii_digit() || (!digits_only && b.is_ascii_alphanumeric())))
    {
        return Err(PickupError::BadCharacter { offset, found: code.get(offset).copied().unwrap_or(0) });
    }
    if digits_only {
        match gs1::verify_check_digit(code) {
            Ok(()) => {}
            Err(CheckDigitError::Incorrect { expected, found }) => {
                return Err(PickupError::BadCheckDigit { expected, found });
            }
            Err(_) => return Err(PickupError::BadLength { found: code.len(), min: 2, max: policy.max_len }),
        }
    }
    Ok(())
}

fn sscc_in(raw: &[u8]) -> Result<&[u8], PickupError> {
    gs1::validate(raw)?;
    ElementStrings::new(raw)
        .filter_map(Result::ok)
        .find(|es| es.ai() == "00")
        .map(|es| es.value())
        .ok_or(PickupError::NoSscc)
}

/// Extracts a credential from scan data (with or without an AIM identifier).
///
/// # Errors
/// [`PickupError`] saying what the scan is and why it is not accepted.
pub fn extract<'a>(policy: &PickupPolicy<'_>, scan: &'a [u8]) -> Result<Credential<'a>, PickupError> {
    if scan.is_empty() {
        return Err(PickupError::Empty);
    }
    let classified = classify(scan);
    if let Some(code) = classified.data.strip_prefix(policy.prefix).filter(|_| !policy.prefix.is_empty()) {
        check_code(policy, code)?;
        return Ok(Credential::PickupCode(code));
    }
    match classified.content {
        Content::Gs1(raw) if policy.accept_sscc => sscc_in(raw).map(Credential::Sscc),
        Content::DigitalLink(uri) if policy.accept_sscc => {
            let mut buf = [0u8; crate::payload::DL_BUFFER];
            let n =
                gs1::digital_link::to_raw(uri, &mut buf).map_err(|_| PickupError::NotACredential { kind: "url" })?;
            let sscc = sscc_in(buf.get(..n).unwrap_or(&[]))?;
            // Borrow the digits from the URI (an SSCC is never percent-encoded in practice).
            uri.windows(sscc.len())
                .find(|w| *w == sscc)
                .map(Credential::Sscc)
                .ok_or(PickupError::NotACredential { kind: "digital_link" })
        }
        Content::TrackingNumber(t) if policy.accept_tracking_number => Ok(Credential::TrackingNumber(t)),
        other => Err(PickupError::NotACredential { kind: other.kind() }),
    }
}
