//! GS1 element strings: check digits, the AI table for parcels, parsing, linting and the
//! bracketed human-readable form.
//!
//! Everything funnels through one representation, the **raw element string** as an engine sends
//! it after a GS1 symbology identifier: the leading FNC1 is implied (not sent) and every inner
//! FNC1 is the GS byte 0x1D (reference/scanner.md §8 "How GS1 data is transmitted"). The other
//! notations are converted into it by [`bracketed_to_raw`] (`(01)...(10)...`), [`caret_to_raw`]
//! (gs1-syntax-engine notation with `^` for FNC1) and [`digital_link::to_raw`] (GS1 Digital Link
//! URIs); all write into a caller's buffer, nothing allocates.
//!
//! [`ElementStrings`] splits raw data into [`ElementString`]s using the AI table ([`ai`]): values
//! of pre-defined-length AIs need no separator, others end at GS or at the end (§9.1). Parsing
//! checks structure only; [`ElementString::lint`] checks each value against its format (digits,
//! lengths, CSET 82, mod-10 check digits, dates, percent-encoding, yes/no flags) and says where
//! it is wrong.
//!
//! ```
//! use scanner::gs1::{ElementStrings, Hri};
//!
//! let raw = b"00123456789012345675\x1d10ABC";
//! let mut it = ElementStrings::new(raw);
//! let sscc = it.next().unwrap().unwrap();
//! assert_eq!((sscc.ai(), sscc.value()), ("00", &b"123456789012345675"[..]));
//! assert!(sscc.lint().is_ok());
//! assert_eq!(std::format!("{}", Hri(raw)), "(00)123456789012345675(10)ABC");
//! ```

pub mod ai;
pub mod digital_link;

use core::fmt;

pub use ai::{AiSpec, Charset, Component, Lint};

/// The GS byte that stands for an inner FNC1 in transmitted data.
pub const GS: u8 = 0x1D;

/// Most AIs in one message (gs1-syntax-engine limit, §9.1).
pub const MAX_AIS: usize = 64;

/// Longest AI value in the dictionary (§9.1: values over 90 characters are errors).
pub const MAX_VALUE_LEN: usize = 90;

/// The GS1 mod-10 check digit for `data` (digits without the check digit): weights 3, 1, 3, ...
/// from the rightmost data digit (§9.2). `None` if `data` holds a non-digit.
pub fn check_digit(data: &[u8]) -> Option<u8> {
    let mut sum: u32 = 0;
    for (i, &b) in data.iter().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let weight = if i % 2 == 0 { 3 } else { 1 };
        sum += weight * u32::from(b - b'0');
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// Why a digit string fails its check digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckDigitError {
    /// Fewer than two digits.
    #[error("too short for a check digit: {len} digit(s)")]
    TooShort {
        /// The length given.
        len: usize,
    },
    /// A byte is not a digit.
    #[error("offset {offset}: {found:#04x} is not a digit")]
    NonDigit {
        /// Offset of the byte.
        offset: usize,
        /// The byte found.
        found: u8,
    },
    /// The last digit is not the check digit.
    #[error("incorrect check digit: expected {expected}, found {found}")]
    Incorrect {
        /// The check digit computed from the other digits.
        expected: u8,
        /// The last digit given.
        found: u8,
    },
}

/// Verifies that the last digit of `digits` (a GTIN, SSCC, GLN, GSIN, ...) is its mod-10 check digit.
///
/// # Errors
/// [`CheckDigitError`] naming the non-digit or the expected check digit.
pub fn verify_check_digit(digits: &[u8]) -> Result<(), CheckDigitError> {
    if let Some(offset) = digits.iter().position(|b| !b.is_ascii_digit()) {
        return Err(CheckDigitError::NonDigit { offset, found: digits.get(offset).copied().unwrap_or(0) });
    }
    let Some((&last, data)) = digits.split_last().filter(|(_, d)| !d.is_empty()) else {
        return Err(CheckDigitError::TooShort { len: digits.len() });
    };
    let expected = check_digit(data).ok_or(CheckDigitError::TooShort { len: digits.len() })?;
    let found = last - b'0';
    if expected == found { Ok(()) } else { Err(CheckDigitError::Incorrect { expected, found }) }
}

/// Why data is not a well-formed sequence of element strings (structure, not value formats).
///
/// Offsets count bytes from the start of the data given to the parser or converter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Gs1Error {
    /// No data at all.
    #[error("empty GS1 data")]
    Empty,
    /// The digits at `offset` start no AI this crate knows.
    #[error("offset {offset}: unknown AI starting {digits:?}")]
    UnknownAi {
        /// Offset of the AI.
        offset: usize,
        /// Up to four bytes found there.
        digits: AiDigits,
    },
    /// A bracketed AI is not 2-4 digits.
    #[error("offset {offset}: AI of {len} characters (2 to 4 digits expected)")]
    BadAiLength {
        /// Offset of the AI.
        offset: usize,
        /// Its length.
        len: usize,
    },
    /// An AI has an empty value (a doubled GS, or `(10)(21)...`).
    #[error("offset {offset}: AI ({ai}) has an empty value")]
    EmptyValue {
        /// Offset where the value should start.
        offset: usize,
        /// The AI.
        ai: &'static str,
    },
    /// The data ends inside the value of a pre-defined-length AI.
    #[error("offset {offset}: AI ({ai}) needs {expected} value characters, {found} present")]
    ValueTooShort {
        /// Offset of the value.
        offset: usize,
        /// The AI.
        ai: &'static str,
        /// The pre-defined length.
        expected: usize,
        /// Bytes present before the end or the next GS.
        found: usize,
    },
    /// `^` in scan or bracketed data (it would be confused with FNC1), or GS inside a value.
    #[error("offset {offset}: {found:#04x} not allowed here (conflated with FNC1)")]
    IllegalSeparator {
        /// Offset of the byte.
        offset: usize,
        /// The byte.
        found: u8,
    },
    /// Bracketed text does not start with `(`, or a `(` is not closed.
    #[error("offset {offset}: malformed bracketed element string ({reason})")]
    Malformed {
        /// Offset of the problem.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More than [`MAX_AIS`] AIs.
    #[error("more than {max} AIs", max = MAX_AIS)]
    TooManyAis,
    /// The output buffer of a conversion is too small.
    #[error("output buffer too small ({capacity} bytes)")]
    BufferTooSmall {
        /// The buffer's size.
        capacity: usize,
    },
}

/// Up to four bytes of a would-be AI, for error messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AiDigits {
    bytes: [u8; 4],
    len: u8,
}

impl AiDigits {
    fn from_slice(data: &[u8]) -> Self {
        let mut bytes = [0; 4];
        let len = data.len().min(4);
        for (slot, &b) in bytes.iter_mut().zip(data) {
            *slot = b;
        }
        Self { bytes, len: len as u8 }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl fmt::Debug for AiDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.as_bytes() {
            if b.is_ascii_graphic() { write!(f, "{}", char::from(b))? } else { write!(f, "\\x{b:02x}")? }
        }
        f.write_str("\"")
    }
}

/// One AI and its value, borrowed from the raw data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementString<'a> {
    spec: &'static AiSpec,
    value: &'a [u8],
    offset: usize,
}

impl<'a> ElementString<'a> {
    /// The AI digits (`"00"`, `"4307"`, ...).
    pub fn ai(&self) -> &'static str {
        self.spec.ai
    }

    /// The dictionary entry of the AI.
    pub fn spec(&self) -> &'static AiSpec {
        self.spec
    }

    /// The value bytes (never empty, never containing GS).
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// Offset of the AI's first digit in the raw data.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Offset of the value's first byte in the raw data.
    pub fn value_offset(&self) -> usize {
        self.offset + self.spec.ai.len()
    }

    /// Checks the value against the AI's format (§9.1).
    ///
    /// # Errors
    /// The first [`LintError`] found, with its offset inside the value.
    pub fn lint(&self) -> Result<(), LintError> {
        ai::lint_value(self.spec, self.value)
    }
}

/// What is wrong with an AI value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LintKind {
    /// A digit was required.
    NonDigitCharacter,
    /// A character outside GS1 CSET 82 (or the component's character set).
    InvalidCharacter,
    /// The value (or a component) is shorter than allowed.
    TooShort {
        /// Minimum length.
        min: usize,
    },
    /// The value is longer than allowed.
    TooLong {
        /// Maximum length.
        max: usize,
    },
    /// The mod-10 check digit does not match.
    IncorrectCheckDigit {
        /// The check digit computed.
        expected: u8,
        /// The digit found.
        found: u8,
    },
    /// A date's month is not 01-12.
    IllegalMonth,
    /// A date's day does not exist in its month.
    IllegalDay,
    /// An hour is not 00-23.
    IllegalHour,
    /// A minute is not 00-59.
    IllegalMinute,
    /// `%` not followed by two hex digits in a percent-encoded value.
    InvalidPercentSequence,
    /// A flag must be 0 or 1.
    NotZeroOrOne,
    /// A digit must be 0.
    NotZero,
    /// A country code is not three digits / two upper-case letters.
    InvalidCountryCode,
}

impl fmt::Display for LintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NonDigitCharacter => f.write_str("non-digit character"),
            Self::InvalidCharacter => f.write_str("character not in GS1 CSET 82"),
            Self::TooShort { min } => write!(f, "value too short (at least {min})"),
            Self::TooLong { max } => write!(f, "value too long (at most {max})"),
            Self::IncorrectCheckDigit { expected, found } => {
                write!(f, "incorrect check digit: expected {expected}, found {found}")
            }
            Self::IllegalMonth => f.write_str("illegal month"),
            Self::IllegalDay => f.write_str("illegal day"),
            Self::IllegalHour => f.write_str("illegal hour"),
            Self::IllegalMinute => f.write_str("illegal minute"),
            Self::InvalidPercentSequence => f.write_str("invalid percent sequence"),
            Self::NotZeroOrOne => f.write_str("must be 0 or 1"),
            Self::NotZero => f.write_str("must be 0"),
            Self::InvalidCountryCode => f.write_str("invalid country code"),
        }
    }
}

/// A value that does not match its AI's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("AI ({ai}) value offset {offset}: {kind}")]
pub struct LintError {
    /// The AI.
    pub ai: &'static str,
    /// Offset inside the value.
    pub offset: usize,
    /// What is wrong.
    pub kind: LintKind,
}

/// Iterator over the element strings of raw GS1 data (implied leading FNC1, GS separators).
///
/// Yields `Err` once on malformed structure and then stops. A trailing GS is tolerated, and so
/// is a GS after a pre-defined-length value. A missing GS cannot be detected: a variable-length
/// value swallows what follows (§9.1; the crate never guesses where a GS was lost).
#[derive(Debug, Clone)]
pub struct ElementStrings<'a> {
    data: &'a [u8],
    pos: usize,
    count: usize,
    done: bool,
}

impl<'a> ElementStrings<'a> {
    /// Iterates over `data` (raw form; see the module docs).
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0, count: 0, done: false }
    }

    fn parse_next(&mut self) -> Result<Option<ElementString<'a>>, Gs1Error> {
        if self.pos == 0 && self.data.is_empty() {
            return Err(Gs1Error::Empty);
        }
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        if rest.is_empty() || rest == [GS] {
            return Ok(None);
        }
        let offset = self.pos;
        if let Some(at) = rest.iter().position(|&b| b == b'^') {
            return Err(Gs1Error::IllegalSeparator { offset: offset + at, found: b'^' });
        }
        let spec = ai::lookup_prefix(rest).ok_or(Gs1Error::UnknownAi { offset, digits: AiDigits::from_slice(rest) })?;
        if self.count == MAX_AIS {
            return Err(Gs1Error::TooManyAis);
        }
        let value_start = spec.ai.len();
        let after_ai = rest.get(value_start..).unwrap_or(&[]);
        let until_gs = after_ai.iter().position(|&b| b == GS).unwrap_or(after_ai.len());
        let (value, consumed) = if let Some(fixed) = spec.fixed_length() {
            if until_gs < fixed {
                if until_gs == 0 {
                    return Err(Gs1Error::EmptyValue { offset: offset + value_start, ai: spec.ai });
                }
                return Err(Gs1Error::ValueTooShort {
                    offset: offset + value_start,
                    ai: spec.ai,
                    expected: fixed,
                    found: until_gs,
                });
            }
            let value = after_ai.get(..fixed).unwrap_or(&[]);
            // A GS after a pre-defined-length value is redundant but harmless.
            let skip = usize::from(after_ai.get(fixed) == Some(&GS));
            (value, fixed + skip)
        } else {
            let value = after_ai.get(..until_gs).unwrap_or(&[]);
            (value, until_gs + usize::from(until_gs < after_ai.len()))
        };
        if value.is_empty() {
            return Err(Gs1Error::EmptyValue { offset: offset + value_start, ai: spec.ai });
        }
        self.pos += value_start + consumed;
        self.count += 1;
        Ok(Some(ElementString { spec, value, offset }))
    }
}

impl<'a> Iterator for ElementStrings<'a> {
    type Item = Result<ElementString<'a>, Gs1Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.parse_next() {
            Ok(Some(es)) => Some(Ok(es)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// The first problem in raw GS1 data: structure or a value's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Gs1Invalid {
    /// Structure.
    #[error(transparent)]
    Structure(#[from] Gs1Error),
    /// A value's format.
    #[error(transparent)]
    Lint(#[from] LintError),
}

/// Parses and lints all of `raw`; returns the number of element strings.
///
/// # Errors
/// The first structural or format problem.
pub fn validate(raw: &[u8]) -> Result<usize, Gs1Invalid> {
    let mut n = 0;
    for es in ElementStrings::new(raw) {
        es?.lint()?;
        n += 1;
    }
    Ok(n)
}

/// Writes the bracketed human-readable form `(00)...(10)...` of raw data. It stops silently at
/// the first structural error (a `Display` must not fail), so check the data with
/// [`ElementStrings`] or [`validate`] first. Values outside CSET 82 (which the linter rejects)
/// are written with `\xNN` escapes and need not parse back.
#[derive(Debug, Clone, Copy)]
pub struct Hri<'a>(pub &'a [u8]);

impl fmt::Display for Hri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for es in ElementStrings::new(self.0) {
            let Ok(es) = es else { break };
            write!(f, "({})", es.ai())?;
            for &b in es.value() {
                // Escape '(' so the text parses back (gs1-syntax-engine bracketed syntax).
                if b == b'(' {
                    f.write_str("\\")?;
                }
                if b.is_ascii_graphic() || b == b' ' {
                    write!(f, "{}", char::from(b))?;
                } else {
                    write!(f, "\\x{b:02x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Appends to a fixed output buffer.
pub(crate) struct Out<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Out<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    pub(crate) fn push(&mut self, byte: u8) -> Result<(), Gs1Error> {
        let capacity = self.buf.len();
        let slot = self.buf.get_mut(self.len).ok_or(Gs1Error::BufferTooSmall { capacity })?;
        *slot = byte;
        self.len += 1;
        Ok(())
    }

    pub(crate) fn extend(&mut self, bytes: &[u8]) -> Result<(), Gs1Error> {
        bytes.iter().try_for_each(|&b| self.push(b))
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Converts bracketed text `(01)12345678901231(10)ABC` to raw form in `out`; returns its length.
/// `\(` in a value stands for a literal `(`.
///
/// # Errors
/// [`Gs1Error`] for a malformed bracket, an AI that is not 2-4 digits or unknown, an empty
/// value, `^` or GS in a value, or a too small `out`.
pub fn bracketed_to_raw(text: &[u8], out: &mut [u8]) -> Result<usize, Gs1Error> {
    if text.is_empty() {
        return Err(Gs1Error::Empty);
    }
    let mut o = Out::new(out);
    let mut pos = 0;
    let mut previous_fixed = true;
    let mut count = 0;
    while pos < text.len() {
        if text.get(pos) != Some(&b'(') {
            return Err(Gs1Error::Malformed { offset: pos, reason: "'(' expected" });
        }
        let ai_start = pos + 1;
        let close = text
            .get(ai_start..)
            .and_then(|t| t.iter().position(|&b| b == b')'))
            .ok_or(Gs1Error::Malformed { offset: pos, reason: "')' missing" })?;
        let digits = text.get(ai_start..ai_start + close).unwrap_or(&[]);
        if !(2..=4).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
            return Err(Gs1Error::BadAiLength { offset: ai_start, len: digits.len() });
        }
        let spec =
            ai::lookup(digits).ok_or(Gs1Error::UnknownAi { offset: ai_start, digits: AiDigits::from_slice(digits) })?;
        count += 1;
        if count > MAX_AIS {
            return Err(Gs1Error::TooManyAis);
        }
        if !previous_fixed {
            o.push(GS)?;
        }
        o.extend(digits)?;
        pos = ai_start + close + 1;
        let value_start = pos;
        while let Some(&b) = text.get(pos) {
            match b {
                b'(' => break,
                b'\\' if text.get(pos + 1) == Some(&b'(') => {
                    o.push(b'(')?;
                    pos += 2;
                    continue;
                }
                b'^' | GS => return Err(Gs1Error::IllegalSeparator { offset: pos, found: b }),
                _ => o.push(b)?,
            }
            pos += 1;
        }
        if pos == value_start {
            return Err(Gs1Error::EmptyValue { offset: value_start, ai: spec.ai });
        }
        previous_fixed = spec.fixed_length().is_some();
    }
    Ok(o.len())
}

/// Converts gs1-syntax-engine notation (`^` = FNC1, leading `^` required) to raw form in `out`.
///
/// # Errors
/// [`Gs1Error::Malformed`] without the leading `^`, [`Gs1Error::IllegalSeparator`] for a GS,
/// [`Gs1Error::BufferTooSmall`].
pub fn caret_to_raw(text: &[u8], out: &mut [u8]) -> Result<usize, Gs1Error> {
    let Some(rest) = text.strip_prefix(b"^") else {
        return Err(Gs1Error::Malformed { offset: 0, reason: "leading '^' (FNC1) expected" });
    };
    let mut o = Out::new(out);
    for (i, &b) in rest.iter().enumerate() {
        match b {
            b'^' => o.push(GS)?,
            GS => return Err(Gs1Error::IllegalSeparator { offset: i + 1, found: b }),
            _ => o.push(b)?,
        }
    }
    Ok(o.len())
}
