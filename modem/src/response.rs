//! Typed parsers for 3GPP TS 27.007 responses and URCs, and the Quectel URCs a locker needs.
//!
//! Each parser takes one line (without terminator) and returns a borrowed value or a
//! [`ParseError`] saying which field failed and where. Parsers are tolerant in the ways real
//! firmware requires (reference §1.5): spaces after commas or the colon, leading zeros, quoted or
//! unquoted hexadecimal LAC/TAC/CI, omitted middle parameters.

use crate::error::ParseError;
use crate::params::{Field, Fields, after_prefix, trim};
use nom::branch::alt;
use nom::bytes::complete::take_while_m_n;
use nom::character::complete::{char, one_of};
use nom::combinator::{map, opt};
use nom::sequence::terminated;
use nom::{IResult, Parser};

fn body(line: &[u8], prefix: &'static str) -> Result<usize, ParseError> {
    after_prefix(line, prefix.as_bytes()).ok_or(ParseError::Prefix { expected: prefix })
}

fn missing(field: &'static str, line: &[u8]) -> ParseError {
    ParseError::Missing { field, offset: line.len() }
}

fn small<T: TryFrom<u32>>(field: &Field<'_>, name: &'static str) -> Result<T, ParseError> {
    T::try_from(field.dec(name)?).map_err(|_| ParseError::Invalid { field: name, offset: field.offset() })
}

fn opt_small<T: TryFrom<u32>>(field: Option<&Field<'_>>, name: &'static str) -> Result<Option<T>, ParseError> {
    match field {
        None => Ok(None),
        Some(f) if f.is_omitted() => Ok(None),
        Some(f) => small(f, name).map(Some),
    }
}

fn opt_hex(field: Option<&Field<'_>>, name: &'static str) -> Result<Option<u64>, ParseError> {
    match field {
        None => Ok(None),
        Some(f) if f.text().is_empty() => Ok(None),
        Some(f) => f.hex(name).map(Some),
    }
}

fn opt_str<'a>(field: Option<&Field<'a>>, name: &'static str) -> Result<Option<&'a str>, ParseError> {
    match field {
        None => Ok(None),
        Some(f) if f.text().is_empty() => Ok(None),
        Some(f) => f.str(name).map(Some),
    }
}

// ---------------------------------------------------------------------------------------------
// Registration

/// Which registration command a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegKind {
    /// `+CREG` (CS domain, 27.007 §7.2).
    Creg,
    /// `+CGREG` (GPRS, 27.007 §10.1.20).
    Cgreg,
    /// `+CEREG` (EPS, 27.007 §10.1.22).
    Cereg,
    /// `+C5GREG` (5GS, 27.007 §10.1.48).
    C5greg,
}

impl RegKind {
    /// The prefix, e.g. `+CEREG`.
    pub fn prefix(self) -> &'static str {
        match self {
            RegKind::Creg => "+CREG",
            RegKind::Cgreg => "+CGREG",
            RegKind::Cereg => "+CEREG",
            RegKind::C5greg => "+C5GREG",
        }
    }

    /// The kind whose prefix starts `line`, if any.
    pub fn of_line(line: &[u8]) -> Option<Self> {
        [RegKind::Creg, RegKind::Cgreg, RegKind::Cereg, RegKind::C5greg]
            .into_iter()
            .find(|k| after_prefix(line, k.prefix().as_bytes()).is_some())
    }

    /// True where the area code is a TAC (`+CEREG`, `+C5GREG`), false for a LAC.
    pub fn uses_tac(self) -> bool {
        matches!(self, RegKind::Cereg | RegKind::C5greg)
    }
}

/// The registration status `<stat>` (27.007 §7.2, §10.1.22, reference §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegStatus {
    /// 0: not registered, not searching.
    NotRegistered,
    /// 1: registered, home network.
    RegisteredHome,
    /// 2: not registered, searching.
    Searching,
    /// 3: registration denied.
    Denied,
    /// 4: unknown (e.g. out of coverage).
    Unknown,
    /// 5: registered, roaming.
    RegisteredRoaming,
    /// 6: registered for SMS only, home.
    SmsOnlyHome,
    /// 7: registered for SMS only, roaming.
    SmsOnlyRoaming,
    /// 8: emergency services only.
    EmergencyOnly,
    /// 9: registered, CSFB not preferred, home.
    CsfbNotPreferredHome,
    /// 10: registered, CSFB not preferred, roaming.
    CsfbNotPreferredRoaming,
    /// 11: attached for access to RLOS.
    AttachedRlos,
    /// Any other value.
    Other(u8),
}

impl RegStatus {
    /// Maps the wire value.
    pub fn from_u8(stat: u8) -> Self {
        match stat {
            0 => RegStatus::NotRegistered,
            1 => RegStatus::RegisteredHome,
            2 => RegStatus::Searching,
            3 => RegStatus::Denied,
            4 => RegStatus::Unknown,
            5 => RegStatus::RegisteredRoaming,
            6 => RegStatus::SmsOnlyHome,
            7 => RegStatus::SmsOnlyRoaming,
            8 => RegStatus::EmergencyOnly,
            9 => RegStatus::CsfbNotPreferredHome,
            10 => RegStatus::CsfbNotPreferredRoaming,
            11 => RegStatus::AttachedRlos,
            other => RegStatus::Other(other),
        }
    }

    /// Registered (home or roaming, incl. SMS-only and CSFB-not-preferred variants).
    pub fn is_registered(self) -> bool {
        matches!(
            self,
            RegStatus::RegisteredHome
                | RegStatus::RegisteredRoaming
                | RegStatus::SmsOnlyHome
                | RegStatus::SmsOnlyRoaming
                | RegStatus::CsfbNotPreferredHome
                | RegStatus::CsfbNotPreferredRoaming
        )
    }
}

/// A `+CREG`/`+CGREG`/`+CEREG`/`+C5GREG` line, solicited or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// Which command.
    pub kind: RegKind,
    /// `<n>`, the URC mode, present in read responses (and in URCs of some firmware).
    pub n: Option<u8>,
    /// `<stat>` as sent; see [`Registration::status`].
    pub stat: u8,
    /// `<lac>` (CREG/CGREG) or `<tac>` (CEREG/C5GREG), hex converted.
    pub area: Option<u32>,
    /// `<ci>`, the cell id, hex converted (36 bits for NR).
    pub ci: Option<u64>,
    /// `<AcT>`, the access technology, raw (reference §2.5).
    pub act: Option<u8>,
    /// `<rac>`, the routing area code, where present.
    pub rac: Option<u8>,
}

impl Registration {
    /// The status, mapped.
    pub fn status(&self) -> RegStatus {
        RegStatus::from_u8(self.stat)
    }
}

/// Parses a registration line of any of the four commands in every form (reference §1.7).
///
/// Which form a line has is decided by its shape, as ModemManager's `item_is_lac_not_stat`
/// does: with 1 field it is `<stat>`; 2 fields `<n>,<stat>`; 3 fields `<stat>,<lac>,<ci>`; with
/// 4 or more, a second field that is quoted or longer than 2 characters is a LAC/TAC (unsolicited
/// form `<stat>,<lac>,<ci>,...`), otherwise the line carries `<n>` first. Whether the line is
/// the reply to a pending `AT+CxREG?` or a URC is the router's decision, not the parser's.
///
/// ```
/// use modem::response::{parse_registration, RegKind};
/// let r = parse_registration(b"+CEREG: 2,1,\"1F00\",\"0079D903\",7").unwrap();
/// assert_eq!((r.kind, r.n, r.stat, r.area, r.ci, r.act), (RegKind::Cereg, Some(2), 1, Some(0x1F00), Some(0x79D903), Some(7)));
/// let u = parse_registration(b"+CGREG: 2").unwrap();
/// assert_eq!((u.n, u.stat), (None, 2));
/// ```
///
/// # Errors
/// [`ParseError`] for an unknown prefix, a broken quote, or a field that is not a number.
pub fn parse_registration(line: &[u8]) -> Result<Registration, ParseError> {
    let kind = RegKind::of_line(line).ok_or(ParseError::Prefix { expected: "+CREG/+CGREG/+CEREG/+C5GREG" })?;
    let start = body(line, kind.prefix())?;
    let (f, count) = Fields::new(line, start).collect_array::<10>()?;
    let get = |i: usize| f.get(i).and_then(|x| x.as_ref());
    let second_is_area = get(1).is_some_and(|s| s.is_quoted() || s.text().len() > 2);
    let unsolicited = match count {
        0 => return Err(missing("stat", line)),
        1 | 3 => true,
        2 => false,
        _ => second_is_area,
    };
    // Field positions: (n, stat, area, rac, ci, act).
    let (n, stat, area, rac, ci, act): (Option<usize>, usize, usize, Option<usize>, usize, usize) = if unsolicited {
        match (kind, count) {
            (RegKind::Cereg, 5) => (None, 0, 1, Some(2), 3, 4),
            (RegKind::Cgreg, 5) => (None, 0, 1, Some(4), 2, 3),
            _ => (None, 0, 1, None, 2, 3),
        }
    } else {
        match (kind, count) {
            (RegKind::Cereg, 6) => (Some(0), 1, 2, Some(3), 4, 5),
            (RegKind::Cgreg, 6) => (Some(0), 1, 2, Some(5), 3, 4),
            _ => (Some(0), 1, 2, None, 3, 4),
        }
    };
    let stat_field = get(stat).ok_or(missing("stat", line))?;
    let stat: u8 = small(stat_field, "stat")?;
    if stat >= 100 {
        return Err(ParseError::Invalid { field: "stat", offset: stat_field.offset() });
    }
    let area_name = if kind.uses_tac() { "tac" } else { "lac" };
    let area = opt_hex(get(area), area_name)?;
    let area = area
        .map(|a| {
            u32::try_from(a)
                .map_err(|_| ParseError::Invalid { field: area_name, offset: get(2).map_or(0, |x| x.offset()) })
        })
        .transpose()?;
    let rac = match rac {
        Some(i) => opt_hex(get(i), "rac")?.and_then(|v| u8::try_from(v).ok()),
        None => None,
    };
    Ok(Registration {
        kind,
        n: match n {
            Some(i) => opt_small(get(i), "n")?,
            None => None,
        },
        stat,
        area,
        ci: opt_hex(get(ci), "ci")?,
        // Some firmware put other things where <AcT> would be (Samsung Wave S8500
        // `+CREG: 2,1,000B,2816, B, C2816`, reference §1.7): an unreadable AcT is unknown, not
        // an error.
        act: opt_small(get(act), "act").ok().flatten(),
        rac,
    })
}

/// The number of parameters on a line after its prefix (an unterminated string counts as one).
pub fn field_count(line: &[u8]) -> usize {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return 0;
    };
    if trim(line.get(colon + 1..).unwrap_or(&[])).is_empty() {
        return 0;
    }
    Fields::new(line, colon + 1).count()
}

// ---------------------------------------------------------------------------------------------
// Signal, SIM, identity

/// `+CSQ: <rssi>,<ber>` (27.007 §8.5, reference §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Csq {
    /// 0..31, 99 = unknown.
    pub rssi: u8,
    /// 0..7, 99 = unknown.
    pub ber: u8,
}

impl Csq {
    /// The RSSI in dBm (−113 + 2·rssi), `None` for 99 or out of range.
    pub fn rssi_dbm(&self) -> Option<i16> {
        (self.rssi <= 31).then(|| -113 + 2 * i16::from(self.rssi))
    }
}

/// Parses `+CSQ: <rssi>,<ber>`.
///
/// # Errors
/// [`ParseError`] naming the field that is missing or not a number.
pub fn parse_csq(line: &[u8]) -> Result<Csq, ParseError> {
    let start = body(line, "+CSQ")?;
    let mut fields = Fields::new(line, start);
    let rssi = small(&fields.next().ok_or(missing("rssi", line))??, "rssi")?;
    let ber = small(&fields.next().ok_or(missing("ber", line))??, "ber")?;
    match fields.next() {
        None => Ok(Csq { rssi, ber }),
        Some(_) => Err(ParseError::Arity { found: 3 }),
    }
}

/// `+CPIN: <code>` (27.007 §8.3): `READY`, `SIM PIN`, `SIM PUK`, `NOT READY`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpin<'a> {
    /// The code as sent.
    pub code: &'a str,
}

impl Cpin<'_> {
    /// True for `READY`.
    pub fn is_ready(&self) -> bool {
        self.code == "READY"
    }
}

/// Parses `+CPIN: <code>` (the prefix may be missing on some firmware, vector cpin-*).
///
/// # Errors
/// [`ParseError::Missing`] for an empty code, [`ParseError::Invalid`] for non-UTF-8.
pub fn parse_cpin(line: &[u8]) -> Result<Cpin<'_>, ParseError> {
    let start = after_prefix(line, b"+CPIN").unwrap_or(0);
    let rest = trim(line.get(start..).unwrap_or(&[]));
    let rest = rest.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")).unwrap_or(rest);
    if rest.is_empty() {
        return Err(missing("code", line));
    }
    let code = core::str::from_utf8(rest).map_err(|_| ParseError::Invalid { field: "code", offset: start })?;
    Ok(Cpin { code })
}

/// Parses the IMEI of `AT+CGSN`: a bare line of digits or `+CGSN: "<imei>"` (reference §2.3).
///
/// # Errors
/// [`ParseError::Invalid`] unless the value is 14 to 17 decimal digits.
pub fn parse_imei(line: &[u8]) -> Result<&str, ParseError> {
    let start = after_prefix(line, b"+CGSN").or_else(|| after_prefix(line, b"+GSN")).unwrap_or(0);
    let rest = trim(line.get(start..).unwrap_or(&[]));
    let rest = rest.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")).unwrap_or(rest);
    if !(14..=17).contains(&rest.len()) || !rest.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Invalid { field: "imei", offset: start });
    }
    core::str::from_utf8(rest).map_err(|_| ParseError::Invalid { field: "imei", offset: start })
}

/// Parses an ICCID: `+QCCID: <iccid>` (Quectel), `+ICCID: <iccid>` (SIMCom), `+CCID: <iccid>`
/// (u-blox, 27.007-style), or the bare value, quoted or not (reference §2.3, vectors iccid-*).
///
/// The value must be 18 to 22 characters, hex digits allowed (`898600700907A6019125`), and
/// start with the telecom MII `89`; one trailing `F` filler is removed.
///
/// # Errors
/// [`ParseError::Invalid`] naming `iccid` otherwise (too short, bad characters, wrong MII,
/// nibble-swapped `98...`).
pub fn parse_iccid(line: &[u8]) -> Result<&str, ParseError> {
    let start =
        [&b"+QCCID"[..], b"+ICCID", b"+CCID", b"^ICCID"].into_iter().find_map(|p| after_prefix(line, p)).unwrap_or(0);
    let rest = trim(line.get(start..).unwrap_or(&[]));
    let mut rest = rest.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")).unwrap_or(rest);
    if let [head @ .., b'F' | b'f'] = rest
        && head.len() >= 18
    {
        rest = head;
    }
    let invalid = ParseError::Invalid { field: "iccid", offset: start };
    if !(18..=22).contains(&rest.len()) || !rest.iter().all(u8::is_ascii_hexdigit) || !rest.starts_with(b"89") {
        return Err(invalid);
    }
    core::str::from_utf8(rest).map_err(|_| invalid)
}

// ---------------------------------------------------------------------------------------------
// Operator

/// `+COPS: <mode>[,<format>,<oper>[,<AcT>]]`, the reply to `AT+COPS?` (27.007 §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cops<'a> {
    /// `<mode>`: 0 automatic, 1 manual, 2 deregister, 3 set format, 4 manual/automatic.
    pub mode: u8,
    /// `<format>`: 0 long alphanumeric, 1 short, 2 numeric.
    pub format: Option<u8>,
    /// `<oper>`; `Some("")` when the module sent `""`.
    pub oper: Option<&'a str>,
    /// `<AcT>`.
    pub act: Option<u8>,
}

/// Parses the reply to `AT+COPS?`.
///
/// # Errors
/// [`ParseError`] naming the field that failed.
pub fn parse_cops(line: &[u8]) -> Result<Cops<'_>, ParseError> {
    let start = body(line, "+COPS")?;
    let (f, count) = Fields::new(line, start).collect_array::<4>()?;
    if count > 4 || count == 0 {
        return Err(ParseError::Arity { found: count });
    }
    let get = |i: usize| f.get(i).and_then(|x| x.as_ref());
    let mode = small(get(0).ok_or(missing("mode", line))?, "mode")?;
    let oper = match get(2) {
        Some(f) if f.is_quoted() => Some(f.str("oper")?),
        other => opt_str(other, "oper")?,
    };
    Ok(Cops { mode, format: opt_small(get(1), "format")?, oper, act: opt_small(get(3), "act")? })
}

/// One operator of the `AT+COPS=?` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator<'a> {
    /// `<stat>`: 0 unknown, 1 available, 2 current, 3 forbidden.
    pub stat: u8,
    /// Long alphanumeric name (`None` when empty or omitted).
    pub long: Option<&'a str>,
    /// Short alphanumeric name.
    pub short: Option<&'a str>,
    /// Numeric MCC+MNC.
    pub numeric: Option<&'a str>,
    /// `<AcT>`, where present.
    pub act: Option<u8>,
}

/// Iterator over the operator tuples of an `AT+COPS=?` reply (see [`operators`]).
#[derive(Debug, Clone)]
pub struct Operators<'a> {
    text: &'a [u8],
    pos: usize,
}

/// The operators of an `AT+COPS=?` reply, with or without its `+COPS:` prefix (the list may be
/// split over several lines: call it on each, vector cops-023).
///
/// Tuples without a quoted name (the `(0-4)` / `(0,1,2)` range lists at the end) are skipped.
/// A tuple that cannot be read yields an error and the iteration goes on with the next one.
///
/// ```
/// use modem::response::operators;
/// let list = b"+COPS: (2,\"T-Mobile\",\"TMO\",\"31026\",0),(1,\"AT&T\",\"AT&T\",\"310410\",0),,(0,1,2,3,4),(0,1,2)";
/// let ops: Vec<_> = operators(list).map(Result::unwrap).collect();
/// assert_eq!(ops.len(), 2);
/// assert_eq!((ops[1].stat, ops[1].numeric), (1, Some("310410")));
/// ```
pub fn operators(text: &[u8]) -> Operators<'_> {
    Operators { pos: after_prefix(text, b"+COPS").unwrap_or(0), text }
}

impl<'a> Iterator for Operators<'a> {
    type Item = Result<Operator<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.text.get(self.pos..)?;
            let open = self.pos + rest.iter().position(|&b| b == b'(')?;
            // Find the matching ')' outside quotes.
            let mut in_quote = false;
            let mut close = None;
            for (i, &b) in self.text.get(open + 1..)?.iter().enumerate() {
                match b {
                    b'"' => in_quote = !in_quote,
                    b')' if !in_quote => {
                        close = Some(open + 1 + i);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(close) = close else {
                self.pos = self.text.len();
                return Some(Err(ParseError::Unterminated { offset: open }));
            };
            self.pos = close + 1;
            let tuple = self.text.get(..close)?;
            let (f, count) = match Fields::new(tuple, open + 1).collect_array::<5>() {
                Ok(x) => x,
                Err(e) => return Some(Err(e)),
            };
            let get = |i: usize| f.get(i).and_then(|x| x.as_ref());
            if !(1..=3).any(|i| get(i).is_some_and(Field::is_quoted)) {
                continue;
            }
            let parsed = (|| {
                if count < 4 {
                    return Err(ParseError::Arity { found: count });
                }
                Ok(Operator {
                    stat: small(get(0).ok_or(missing("stat", tuple))?, "stat")?,
                    long: opt_str(get(1), "long")?,
                    short: opt_str(get(2), "short")?,
                    numeric: opt_str(get(3), "numeric")?,
                    act: opt_small(get(4), "act")?,
                })
            })();
            return Some(parsed);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Time

/// `+CCLK: "yy/MM/dd,hh:mm:ss±zz"` (27.007 §8.15; zone in quarter hours, reference §2.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cclk {
    /// Full year: two-digit years are 2000 + yy, except 70..=99, which are 1970..=1999 (the
    /// default epochs `80/01/06` and `70/01/01` of modules before NITZ, reference §2.12).
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59 (60 tolerated for a leap second).
    pub second: u8,
    /// Time zone in quarter hours (−48..=+56), when sent.
    pub tz_quarter_hours: Option<i8>,
}

impl Cclk {
    /// Offset from UTC in minutes, when the zone was sent.
    pub fn tz_offset_minutes(&self) -> Option<i16> {
        self.tz_quarter_hours.map(|q| i16::from(q) * 15)
    }

    /// Years before 2020 are a module's default epoch: the clock was never synchronised.
    pub fn is_synchronised(&self) -> bool {
        self.year >= 2020
    }
}

/// `n` decimal digits as a number (nom).
fn digits<'a>(n: usize) -> impl Parser<&'a [u8], Output = u16, Error = nom::error::Error<&'a [u8]>> {
    map(take_while_m_n(n, n, |b: u8| b.is_ascii_digit()), |d: &[u8]| {
        d.iter().fold(0u16, |acc, x| acc * 10 + u16::from(x - b'0'))
    })
}

/// The date and time of `+CCLK` (without quotes): `yy/MM/dd,hh:mm:ss[±zz]`, 2- or 4-digit year.
/// Returns the year's digit count with the values so errors can name the field.
#[allow(clippy::type_complexity)]
fn cclk_text(text: &[u8]) -> IResult<&[u8], (u16, u16, u16, u16, u16, u16, Option<(char, u16)>)> {
    let year = alt((
        terminated(digits(4), char('/')),
        map(terminated(digits(2), char('/')), |y| if y >= 70 { 1900 + y } else { 2000 + y }),
    ));
    let zone = opt((one_of("+-"), alt((digits(2), digits(1)))));
    (
        year,
        terminated(digits(2), char('/')),
        terminated(digits(2), char(',')),
        terminated(digits(2), char(':')),
        terminated(digits(2), char(':')),
        digits(2),
        zone,
    )
        .parse(text)
}

/// Parses `+CCLK: "yy/MM/dd,hh:mm:ss±zz"`, with or without quotes and zone, 2- or 4-digit year.
///
/// ```
/// use modem::response::parse_cclk;
/// let t = parse_cclk(b"+CCLK: \"15/02/28,20:30:40-32\"").unwrap();
/// assert_eq!((t.year, t.hour, t.tz_quarter_hours, t.tz_offset_minutes()), (2015, 20, Some(-32), Some(-480)));
/// ```
///
/// # Errors
/// [`ParseError::Invalid`] naming the field out of range or malformed.
pub fn parse_cclk(line: &[u8]) -> Result<Cclk, ParseError> {
    let start = body(line, "+CCLK")?;
    let mut offset = start;
    let mut text = line.get(start..).unwrap_or(&[]);
    while let [b' ', rest @ ..] = text {
        text = rest;
        offset += 1;
    }
    if let Some(rest) = text.strip_prefix(b"\"") {
        text = rest.strip_suffix(b"\"").ok_or(ParseError::Unterminated { offset })?;
        offset += 1;
    }
    let year_len = text.iter().take_while(|b| b.is_ascii_digit()).count();
    // Field boundaries (end offsets in `text`) for naming what failed.
    let field_at = |at: usize| {
        let y = year_len + 1;
        match at {
            a if a < y => "year",
            a if a < y + 3 => "month",
            a if a < y + 6 => "day",
            a if a < y + 9 => "hour",
            a if a < y + 12 => "minute",
            a if a < y + 14 => "second",
            _ => "tz",
        }
    };
    let (rest, (year, month, day, hour, minute, second, zone)) = cclk_text(text).map_err(|e| {
        let at = match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => text.len() - e.input.len(),
            nom::Err::Incomplete(_) => text.len(),
        };
        ParseError::Invalid { field: field_at(at), offset: offset + at }
    })?;
    if !trim(rest).is_empty() {
        let at = text.len() - rest.len();
        return Err(ParseError::Invalid { field: field_at(at), offset: offset + at });
    }
    let tz_quarter_hours = match zone {
        None => None,
        Some((sign, q)) => {
            let q = i16::try_from(q).unwrap_or(i16::MAX);
            let q = if sign == '-' { -q } else { q };
            if !(-48..=56).contains(&q) {
                return Err(ParseError::Invalid { field: "tz", offset: offset + year_len + 15 });
            }
            i8::try_from(q).ok()
        }
    };
    let small = |v: u16| u8::try_from(v).unwrap_or(u8::MAX);
    let (month, day, hour, minute, second) = (small(month), small(day), small(hour), small(minute), small(second));
    let check = |ok: bool, field: &'static str| if ok { Ok(()) } else { Err(ParseError::Invalid { field, offset }) };
    check((1..=12).contains(&month), "month")?;
    check((1..=31).contains(&day), "day")?;
    check(hour <= 23, "hour")?;
    check(minute <= 59, "minute")?;
    check(second <= 60, "second")?;
    Ok(Cclk { year, month, day, hour, minute, second, tz_quarter_hours })
}

// ---------------------------------------------------------------------------------------------
// Quectel URCs

/// `+QIURC: "<event>",...` (Quectel TCP/IP AN, reference §2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qiurc<'a> {
    /// `recv`, `closed`, `pdpdeact`, `incoming`, `incoming full`, `dnsgip`, ...
    pub event: &'a str,
    /// `<connectID>` for `recv`, `closed` and `incoming`.
    pub connect_id: Option<u8>,
    /// `<contextID>` for `pdpdeact`.
    pub context_id: Option<u8>,
    /// The length of the pushed data for `recv` in direct-push mode.
    pub data_len: Option<u32>,
}

/// Parses a `+QIURC` line.
///
/// # Errors
/// [`ParseError`] naming the field that failed.
pub fn parse_qiurc(line: &[u8]) -> Result<Qiurc<'_>, ParseError> {
    let start = body(line, "+QIURC")?;
    let (f, _) = Fields::new(line, start).collect_array::<4>()?;
    let get = |i: usize| f.get(i).and_then(|x| x.as_ref());
    let event = get(0).ok_or(missing("event", line))?.str("event")?;
    let mut urc = Qiurc { event, connect_id: None, context_id: None, data_len: None };
    match event {
        "pdpdeact" => urc.context_id = opt_small(get(1), "contextID")?,
        "recv" => {
            urc.connect_id = opt_small(get(1), "connectID")?;
            urc.data_len = opt_small(get(2), "data_len")?;
        }
        "closed" | "incoming" => urc.connect_id = opt_small(get(1), "connectID")?,
        _ => {}
    }
    Ok(urc)
}

/// `+QMTSTAT: <client_idx>,<err_code>` (Quectel MQTT AN, reference §2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qmtstat {
    /// MQTT client index 0..5.
    pub client_idx: u8,
    /// 1 closed by peer, 2 PINGREQ failed, 3 CONNECT failed, 4 CONNACK failed, 5 normal
    /// DISCONNECT, 6 send kept failing, 7 link not alive.
    pub err_code: u8,
}

/// Parses a `+QMTSTAT` URC.
///
/// # Errors
/// [`ParseError`] naming the field that failed.
pub fn parse_qmtstat(line: &[u8]) -> Result<Qmtstat, ParseError> {
    let start = body(line, "+QMTSTAT")?;
    let mut fields = Fields::new(line, start);
    let client_idx = small(&fields.next().ok_or(missing("client_idx", line))??, "client_idx")?;
    let err_code = small(&fields.next().ok_or(missing("err_code", line))??, "err_code")?;
    Ok(Qmtstat { client_idx, err_code })
}

/// `+QMTRECV` in its two forms (reference §2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qmtrecv<'a> {
    /// Buffer mode URC `+QMTRECV: <client_idx>,<recv_id>`: a message waits in slot `recv_id`.
    Stored {
        /// Client index.
        client_idx: u8,
        /// Buffer slot.
        recv_id: u8,
    },
    /// A message: `+QMTRECV: <client_idx>,<msgid>,"<topic>"[,<payload_len>],"<payload>"`.
    Message {
        /// Client index.
        client_idx: u8,
        /// Packet identifier.
        msg_id: u16,
        /// Topic.
        topic: &'a str,
        /// Payload length, when `recv/mode` has `<len_enable>` = 1.
        payload_len: Option<u32>,
        /// Payload bytes (delimited by `payload_len` when present, so it may hold quotes).
        payload: &'a [u8],
    },
}

/// Parses a `+QMTRECV` line (vector qmt-001: payload with unescaped quotes).
///
/// # Errors
/// [`ParseError`] naming the field that failed; `payload_len` when the payload is shorter than
/// announced.
pub fn parse_qmtrecv(line: &[u8]) -> Result<Qmtrecv<'_>, ParseError> {
    let start = body(line, "+QMTRECV")?;
    let mut fields = Fields::new(line, start);
    let client_idx = small(&fields.next().ok_or(missing("client_idx", line))??, "client_idx")?;
    let second = fields.next().ok_or(missing("msgid", line))??;
    // The topic is read up to `",` (topics rarely hold that sequence); the payload is delimited
    // by its length when given, else by the last quote.
    let Some(topic_field) = fields.next() else {
        return Ok(Qmtrecv::Stored { client_idx, recv_id: small(&second, "recv_id")? });
    };
    let msg_id = small(&second, "msgid")?;
    let topic_open = topic_field.map_or_else(|e| e.offset().unwrap_or(0), |f| f.offset());
    if line.get(topic_open) != Some(&b'"') {
        return Err(ParseError::Invalid { field: "topic", offset: topic_open });
    }
    let topic_end = line
        .get(topic_open + 1..)
        .and_then(|r| r.windows(2).position(|w| w == b"\","))
        .map(|p| topic_open + 1 + p)
        .ok_or(ParseError::Unterminated { offset: topic_open })?;
    let topic = core::str::from_utf8(line.get(topic_open + 1..topic_end).unwrap_or(&[]))
        .map_err(|_| ParseError::Invalid { field: "topic", offset: topic_open })?;
    let after = topic_end + 2;
    let rest = line.get(after..).unwrap_or(&[]);
    let quote = rest.iter().position(|&b| b == b'"').ok_or(missing("payload", line))?;
    let between = trim(rest.get(..quote).unwrap_or(&[]));
    let payload_start = after + quote + 1;
    if between.is_empty() {
        let body = line.get(payload_start..).unwrap_or(&[]);
        let payload = body.strip_suffix(b"\"").ok_or(ParseError::Unterminated { offset: payload_start - 1 })?;
        return Ok(Qmtrecv::Message { client_idx, msg_id, topic, payload_len: None, payload });
    }
    let len_text =
        between.strip_suffix(b",").map(trim).ok_or(ParseError::Invalid { field: "payload_len", offset: after })?;
    let len = crate::params::parse_dec(len_text).ok_or(ParseError::Invalid { field: "payload_len", offset: after })?;
    let payload = line
        .get(payload_start..payload_start + len as usize)
        .ok_or(ParseError::Invalid { field: "payload_len", offset: after })?;
    Ok(Qmtrecv::Message { client_idx, msg_id, topic, payload_len: Some(len), payload })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn registration_forms() {
        // reference §1.7: `+CGREG: 2` is a URC with stat=2; `+CGREG: 2,0` is n=2, stat=0.
        let r = parse_registration(b"+CGREG: 2,0").unwrap();
        assert_eq!((r.n, r.stat), (Some(2), 0));
        let r = parse_registration(b"+CEREG: 2,1,,,7").unwrap();
        assert_eq!((r.n, r.stat, r.area, r.ci, r.act), (Some(2), 1, None, None, Some(7)));
        assert!(parse_registration(b"+CEREG: 100").is_err());
        // reference §1.7, Samsung Wave S8500 (ModemManager fixture).
        let r = parse_registration(b"+CREG: 2,1,000B,2816, B, C2816").unwrap();
        assert_eq!((r.n, r.stat, r.area, r.ci, r.act), (Some(2), 1, Some(0x0B), Some(0x2816), None));
        // Altair LTE URC with <n> (reference §1.7): four fields, second short → n first.
        let r = parse_registration(b"+CEREG: 1, 2, 0001, 00000100, 7").unwrap();
        assert_eq!((r.n, r.stat, r.area, r.ci, r.act), (Some(1), 2, Some(1), Some(0x100), Some(7)));
        assert!(parse_registration(b"+CEREG:").is_err());
        assert!(matches!(parse_registration(b"+CREG: 2,1,\"5E25"), Err(ParseError::Unterminated { .. })));
    }

    #[test]
    fn qmtrecv_forms() {
        assert_eq!(parse_qmtrecv(b"+QMTRECV: 1,0").unwrap(), Qmtrecv::Stored { client_idx: 1, recv_id: 0 });
        let m = parse_qmtrecv(b"+QMTRECV: 0,0,\"t\",\"hello\"").unwrap();
        assert_eq!(m, Qmtrecv::Message { client_idx: 0, msg_id: 0, topic: "t", payload_len: None, payload: b"hello" });
        assert!(parse_qmtrecv(b"+QMTRECV: 0,0,\"t\",9,\"short\"").is_err());
    }

    #[test]
    fn cclk_default_epochs_are_unsynchronised() {
        // reference §2.12: `"80/01/06,00:00:00+00"` / `"70/01/01,..."` before NITZ.
        for line in [&b"+CCLK: \"80/01/06,00:00:00+00\""[..], b"+CCLK: \"70/01/01,00:00:05\""] {
            let t = parse_cclk(line).unwrap();
            assert!(t.year < 2000 && !t.is_synchronised(), "{t:?}");
        }
        assert_eq!(parse_cclk(b"+CCLK: \"69/12/31,23:59:59+00\"").unwrap().year, 2069);
        assert!(parse_cclk(b"+CCLK: \"24/05/06,12:30:59-08\"").unwrap().is_synchronised());
    }

    #[test]
    fn cclk_errors() {
        assert!(parse_cclk(b"+CCLK: \"14/13/05,04:00:21+40\"").is_err());
        assert!(parse_cclk(b"+CCLK: \"14/08/05,04:00:21+99\"").is_err());
        let t = parse_cclk(b"+CCLK: 2024/01/02,03:04:05").unwrap();
        assert_eq!((t.year, t.tz_quarter_hours), (2024, None));
        // What and where: the minute field holds a letter.
        assert_eq!(
            parse_cclk(b"+CCLK: \"14/08/05,04:x0:21+40\""),
            Err(ParseError::Invalid { field: "minute", offset: 20 })
        );
        assert_eq!(
            parse_cclk(b"+CCLK: \"14/08/05,04:00:21+40x\""),
            Err(ParseError::Invalid { field: "tz", offset: 28 })
        );
        assert_eq!(parse_cclk(b"+CCLK: \"14/08/05\"").map_err(|e| e.offset()), Err(Some(16)));
    }

    #[test]
    fn csq_dbm() {
        assert_eq!(parse_csq(b"+CSQ: 99,99").unwrap().rssi_dbm(), None);
        assert_eq!(parse_csq(b"+CSQ: 0,0").unwrap().rssi_dbm(), Some(-113));
        assert_eq!(parse_csq(b"+CSQ: 31,0").unwrap().rssi_dbm(), Some(-51));
    }
}
