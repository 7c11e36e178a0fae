//! The AI table: the Application Identifiers relevant to parcels, with their formats.
//!
//! Formats follow the GS1 Barcode Syntax Dictionary as summarised in reference/scanner.md §9.1
//! (00 SSCC, 01/02, 10, 11-17 dates, 21, 235, 37, 400-403, 410-417, 420/421, the 4300 series,
//! 8003, 90-99) plus the few others that appear on parcel and product labels (20, 22, 240/241,
//! 30, 31nn-36nn measures, 8200). AIs outside the table are rejected as unknown: guessing a
//! length could shift every following field, and a wrong parcel is worse than none (§9.1).

use super::{LintError, LintKind};

/// Character set of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Charset {
    /// Digits.
    N,
    /// GS1 AI encodable character set 82.
    X,
}

/// An extra check on a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lint {
    /// None.
    None,
    /// GS1 mod-10 check digit (last digit).
    Csum,
    /// Date YYMMDD with day 00 allowed (last day of month).
    Yymmd0,
    /// Date YYMMDD.
    Yymmdd,
    /// Time HHMI.
    Hhmi,
    /// Date YYMMD0 followed by time HHMI (Scan4Transport 4324/4325).
    Yymmd0Hhmi,
    /// Percent-encoded text (`%` + two hex digits).
    Pcenc,
    /// ISO 3166 numeric country code (three digits).
    Iso3166,
    /// ISO 3166 alpha-2 country code (two upper-case letters).
    Iso3166Alpha2,
    /// `0` or `1`.
    YesNo,
    /// Must be `0`.
    Zero,
}

/// One component of an AI value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    /// Character set.
    pub charset: Charset,
    /// Minimum length (equal to `max` for a fixed-length component; 0 for optional).
    pub min: u8,
    /// Maximum length.
    pub max: u8,
    /// Extra check.
    pub lint: Lint,
}

/// A dictionary entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AiSpec {
    /// The AI digits.
    pub ai: &'static str,
    /// Short title (`"SSCC"`).
    pub title: &'static str,
    /// Pre-defined length: the value needs no FNC1/GS after it (§9.1 prefix table).
    pub predefined_length: bool,
    /// Primary key of a GS1 Digital Link URI path.
    pub dl_primary_key: bool,
    /// The value's components, in order.
    pub components: &'static [Component],
}

impl AiSpec {
    /// The value length if the AI has a pre-defined length.
    pub fn fixed_length(&self) -> Option<usize> {
        self.predefined_length.then(|| self.components.iter().map(|c| usize::from(c.max)).sum())
    }

    /// Shortest and longest value lengths.
    pub fn length_range(&self) -> (usize, usize) {
        let min = self.components.iter().map(|c| usize::from(c.min)).sum();
        let max = self.components.iter().map(|c| usize::from(c.max)).sum();
        (min, max)
    }
}

const fn n(len: u8, lint: Lint) -> Component {
    Component { charset: Charset::N, min: len, max: len, lint }
}
const fn nv(max: u8) -> Component {
    Component { charset: Charset::N, min: 1, max, lint: Lint::None }
}
const fn x(len: u8, lint: Lint) -> Component {
    Component { charset: Charset::X, min: len, max: len, lint }
}
const fn xv(max: u8, lint: Lint) -> Component {
    Component { charset: Charset::X, min: 1, max, lint }
}
const fn spec(ai: &'static str, title: &'static str, fixed: bool, components: &'static [Component]) -> AiSpec {
    AiSpec { ai, title, predefined_length: fixed, dl_primary_key: false, components }
}
const fn key(ai: &'static str, title: &'static str, fixed: bool, components: &'static [Component]) -> AiSpec {
    AiSpec { ai, title, predefined_length: fixed, dl_primary_key: true, components }
}

const N18C: &[Component] = &[n(18, Lint::Csum)];
const N14C: &[Component] = &[n(14, Lint::Csum)];
const N13C: &[Component] = &[n(13, Lint::Csum)];
const N17C: &[Component] = &[n(17, Lint::Csum)];
const DATE0: &[Component] = &[n(6, Lint::Yymmd0)];
const DATE: &[Component] = &[n(6, Lint::Yymmdd)];
const N6: &[Component] = &[n(6, Lint::None)];
const X20: &[Component] = &[xv(20, Lint::None)];
const X28: &[Component] = &[xv(28, Lint::None)];
const X30: &[Component] = &[xv(30, Lint::None)];
const X35P: &[Component] = &[xv(35, Lint::Pcenc)];
const X70P: &[Component] = &[xv(70, Lint::Pcenc)];
const X70: &[Component] = &[xv(70, Lint::None)];
const X90: &[Component] = &[xv(90, Lint::None)];
const N8V: &[Component] = &[nv(8)];
const YESNO: &[Component] = &[n(1, Lint::YesNo)];
const COUNTRY2: &[Component] = &[x(2, Lint::Iso3166Alpha2)];
const DATETIME: &[Component] = &[n(10, Lint::Yymmd0Hhmi)];
const TEMP: &[Component] = &[n(6, Lint::None), Component { charset: Charset::X, min: 0, max: 1, lint: Lint::None }];

/// The table, sorted by AI.
pub static TABLE: &[AiSpec] = &[
    key("00", "SSCC", true, N18C),
    key("01", "GTIN", true, N14C),
    spec("02", "CONTENT", true, N14C),
    spec("10", "BATCH/LOT", false, X20),
    spec("11", "PROD DATE", true, DATE0),
    spec("12", "DUE DATE", true, DATE0),
    spec("13", "PACK DATE", true, DATE0),
    spec("15", "BEST BEFORE", true, DATE0),
    spec("16", "SELL BY", true, DATE0),
    spec("17", "USE BY", true, DATE0),
    spec("20", "VARIANT", true, &[n(2, Lint::None)]),
    spec("21", "SERIAL", false, X20),
    spec("22", "CPV", false, X20),
    spec("235", "TPX", false, X28),
    spec("240", "ADDITIONAL ID", false, X30),
    spec("241", "CUST. PART No.", false, X30),
    spec("30", "VAR. COUNT", false, N8V),
    spec("37", "COUNT", false, N8V),
    spec("400", "ORDER NUMBER", false, X30),
    key("401", "GINC", false, X30),
    key("402", "GSIN", false, N17C),
    spec("403", "ROUTE", false, X30),
    spec("410", "SHIP TO LOC", true, N13C),
    spec("411", "BILL TO", true, N13C),
    spec("412", "PURCHASE FROM", true, N13C),
    spec("413", "SHIP FOR LOC", true, N13C),
    key("414", "LOC No.", true, N13C),
    spec("415", "PAY TO", true, N13C),
    spec("416", "PROD/SERV LOC", true, N13C),
    key("417", "PARTY", true, N13C),
    spec("420", "SHIP TO POST", false, X20),
    spec("421", "SHIP TO POST", false, &[n(3, Lint::Iso3166), xv(9, Lint::None)]),
    spec("4300", "SHIP TO COMP", false, X35P),
    spec("4301", "SHIP TO NAME", false, X35P),
    spec("4302", "SHIP TO ADD1", false, X70P),
    spec("4303", "SHIP TO ADD2", false, X70P),
    spec("4304", "SHIP TO SUB", false, X70P),
    spec("4305", "SHIP TO LOC", false, X70P),
    spec("4306", "SHIP TO REG", false, X70P),
    spec("4307", "SHIP TO COUNTRY", false, COUNTRY2),
    spec("4308", "SHIP TO PHONE", false, X30),
    spec("4309", "SHIP TO GEO", false, &[n(10, Lint::None), n(10, Lint::None)]),
    spec("4310", "RTN TO COMP", false, X35P),
    spec("4311", "RTN TO NAME", false, X35P),
    spec("4312", "RTN TO ADD1", false, X70P),
    spec("4313", "RTN TO ADD2", false, X70P),
    spec("4314", "RTN TO SUB", false, X70P),
    spec("4315", "RTN TO LOC", false, X70P),
    spec("4316", "RTN TO REG", false, X70P),
    spec("4317", "RTN TO COUNTRY", false, COUNTRY2),
    spec("4318", "RTN TO POST", false, X20),
    spec("4319", "RTN TO PHONE", false, X30),
    spec("4320", "SRV DESCRIPTION", false, X35P),
    spec("4321", "DANGEROUS GOODS", false, YESNO),
    spec("4322", "AUTH LEAVE", false, YESNO),
    spec("4323", "SIG REQUIRED", false, YESNO),
    spec("4324", "NBEF DEL DT", false, DATETIME),
    spec("4325", "NAFT DEL DT", false, DATETIME),
    spec("4326", "REL DATE", false, DATE),
    spec("4330", "MAX TEMP F", false, TEMP),
    spec("4331", "MAX TEMP C", false, TEMP),
    spec("4332", "MIN TEMP F", false, TEMP),
    spec("4333", "MIN TEMP C", false, TEMP),
    key(
        "8003",
        "GRAI",
        false,
        &[n(1, Lint::Zero), n(13, Lint::Csum), Component { charset: Charset::X, min: 0, max: 16, lint: Lint::None }],
    ),
    spec("8200", "PRODUCT URL", false, X70),
    spec("90", "INTERNAL", false, X30),
    spec("91", "INTERNAL", false, X90),
    spec("92", "INTERNAL", false, X90),
    spec("93", "INTERNAL", false, X90),
    spec("94", "INTERNAL", false, X90),
    spec("95", "INTERNAL", false, X90),
    spec("96", "INTERNAL", false, X90),
    spec("97", "INTERNAL", false, X90),
    spec("98", "INTERNAL", false, X90),
    spec("99", "INTERNAL", false, X90),
];

/// Exact lookup of AI digits.
pub fn lookup(ai: &[u8]) -> Option<&'static AiSpec> {
    if is_measure(ai) {
        return lookup_measure(ai);
    }
    TABLE.iter().find(|s| s.ai.as_bytes() == ai)
}

/// The AI that `data` starts with (AIs are prefix-free, so at most one matches).
pub fn lookup_prefix(data: &[u8]) -> Option<&'static AiSpec> {
    if let Some(head) = data.get(..4).filter(|h| is_measure(h)) {
        return lookup_measure(head);
    }
    TABLE.iter().find(|s| data.starts_with(s.ai.as_bytes()))
}

fn is_measure(ai: &[u8]) -> bool {
    matches!(ai, [b'3', b'1'..=b'6', b'0'..=b'9', b'0'..=b'5'])
}

/// Trade measures 31nn-36nn (N6, pre-defined length; last digit = decimal places 0-5), generated
/// by a macro rather than listed by hand.
fn lookup_measure(ai: &[u8]) -> Option<&'static AiSpec> {
    let idx = MEASURE_AIS.iter().position(|s| s.ai.as_bytes() == ai)?;
    MEASURE_AIS.get(idx)
}

macro_rules! measures {
    ($($d:literal)*) => { [$(
        spec(concat!("31", $d), "MEASURE", true, N6),
        spec(concat!("32", $d), "MEASURE", true, N6),
        spec(concat!("33", $d), "MEASURE", true, N6),
        spec(concat!("34", $d), "MEASURE", true, N6),
        spec(concat!("35", $d), "MEASURE", true, N6),
        spec(concat!("36", $d), "MEASURE", true, N6),
    )*] };
}

static MEASURE_AIS: [AiSpec; 360] = measures!(
    "00" "01" "02" "03" "04" "05" "10" "11" "12" "13" "14" "15" "20" "21" "22" "23" "24" "25"
    "30" "31" "32" "33" "34" "35" "40" "41" "42" "43" "44" "45" "50" "51" "52" "53" "54" "55"
    "60" "61" "62" "63" "64" "65" "70" "71" "72" "73" "74" "75" "80" "81" "82" "83" "84" "85"
    "90" "91" "92" "93" "94" "95"
);

/// GS1 AI encodable character set 82.
pub fn is_cset82(b: u8) -> bool {
    matches!(b, b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

fn digits2(v: &[u8], at: usize) -> u32 {
    let d = |i: usize| v.get(i).map_or(0, |b| u32::from(b.wrapping_sub(b'0')));
    d(at) * 10 + d(at + 1)
}

fn lint_date(v: &[u8], zero_day: bool) -> Result<(), (usize, LintKind)> {
    let (yy, mm, dd) = (digits2(v, 0), digits2(v, 2), digits2(v, 4));
    if !(1..=12).contains(&mm) {
        return Err((2, LintKind::IllegalMonth));
    }
    // Years are 2000-2099 for leap purposes (2000 is a leap year, so yy % 4 is exact).
    let days = match mm {
        2 if yy % 4 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if dd > days || (dd == 0 && !zero_day) {
        return Err((4, LintKind::IllegalDay));
    }
    Ok(())
}

fn lint_time(v: &[u8]) -> Result<(), (usize, LintKind)> {
    if digits2(v, 0) > 23 {
        return Err((0, LintKind::IllegalHour));
    }
    if digits2(v, 2) > 59 {
        return Err((2, LintKind::IllegalMinute));
    }
    Ok(())
}

fn lint_component(c: &Component, v: &[u8]) -> Result<(), (usize, LintKind)> {
    for (i, &b) in v.iter().enumerate() {
        let ok = match c.charset {
            Charset::N => b.is_ascii_digit(),
            Charset::X => is_cset82(b),
        };
        if !ok {
            let kind = if c.charset == Charset::N { LintKind::NonDigitCharacter } else { LintKind::InvalidCharacter };
            return Err((i, kind));
        }
    }
    match c.lint {
        Lint::None => Ok(()),
        Lint::Csum => match super::verify_check_digit(v) {
            Ok(()) => Ok(()),
            Err(super::CheckDigitError::Incorrect { expected, found }) => {
                Err((v.len().saturating_sub(1), LintKind::IncorrectCheckDigit { expected, found }))
            }
            Err(_) => Err((0, LintKind::TooShort { min: 2 })),
        },
        Lint::Yymmd0 => lint_date(v, true),
        Lint::Yymmdd => lint_date(v, false),
        Lint::Hhmi => lint_time(v),
        Lint::Yymmd0Hhmi => {
            lint_date(v, true)?;
            lint_time(v.get(6..).unwrap_or(&[])).map_err(|(o, k)| (o + 6, k))
        }
        Lint::Pcenc => {
            let mut i = 0;
            while let Some(&b) = v.get(i) {
                if b == b'%' {
                    let hex = |j: usize| v.get(j).is_some_and(u8::is_ascii_hexdigit);
                    if !(hex(i + 1) && hex(i + 2)) {
                        return Err((i, LintKind::InvalidPercentSequence));
                    }
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Ok(())
        }
        Lint::Iso3166 => Ok(()), // three digits, checked by the charset and length
        Lint::Iso3166Alpha2 => match v.iter().position(|b| !b.is_ascii_uppercase()) {
            Some(i) => Err((i, LintKind::InvalidCountryCode)),
            None => Ok(()),
        },
        Lint::YesNo => match v {
            [b'0' | b'1'] => Ok(()),
            _ => Err((0, LintKind::NotZeroOrOne)),
        },
        Lint::Zero => match v {
            [b'0'] => Ok(()),
            _ => Err((0, LintKind::NotZero)),
        },
    }
}

/// Checks `value` against `spec` component by component.
///
/// # Errors
/// The first problem, with its offset in the value.
pub fn lint_value(spec: &AiSpec, value: &[u8]) -> Result<(), LintError> {
    let err = |offset: usize, kind: LintKind| LintError { ai: spec.ai, offset, kind };
    let (min, max) = spec.length_range();
    let mut pos = 0;
    for (i, c) in spec.components.iter().enumerate() {
        let rest = value.get(pos..).unwrap_or(&[]);
        let last = i + 1 == spec.components.len();
        let take = if c.min == c.max {
            usize::from(c.max)
        } else if last {
            rest.len()
        } else {
            usize::from(c.max)
        };
        let take = take.min(rest.len()).min(usize::from(c.max));
        if take < usize::from(c.min) {
            // Report the first problem of what is there before saying it is short.
            let part = rest.get(..take).unwrap_or(&[]);
            if let Some(i) = part.iter().position(|b| c.charset == Charset::N && !b.is_ascii_digit()) {
                return Err(err(pos + i, LintKind::NonDigitCharacter));
            }
            return Err(err(value.len(), LintKind::TooShort { min }));
        }
        let part = rest.get(..take).unwrap_or(&[]);
        if !part.is_empty() {
            lint_component(c, part).map_err(|(o, k)| err(pos + o, k))?;
        }
        pos += take;
    }
    if value.len() > max {
        return Err(err(max, LintKind::TooLong { max }));
    }
    Ok(())
}
