//! Splitting the parameters of an information response or URC (V.250 §5.4, reference §1.5).
//!
//! Parameters are separated by `,`; strings are double-quoted. Real firmware puts spaces after
//! commas, zero-pads numbers and omits optional parameters while keeping their commas, so the
//! splitter trims spaces and reports an omitted parameter as an empty bare field. A quote closes
//! a string only when it is followed (after optional spaces) by `,` or the end of the line, so a
//! stray quote inside a string does not end it early.

use crate::error::ParseError;

/// One parameter of a response line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// A double-quoted string, without its quotes (possibly empty: `""`).
    Quoted {
        /// The text between the quotes.
        text: &'a [u8],
        /// Offset of the opening quote in the line.
        offset: usize,
    },
    /// An unquoted parameter with spaces trimmed; empty when the parameter was omitted.
    Bare {
        /// The trimmed text.
        text: &'a [u8],
        /// Offset of the first byte of the text in the line.
        offset: usize,
    },
}

impl<'a> Field<'a> {
    /// The text of the field, quoted or not.
    pub fn text(&self) -> &'a [u8] {
        match *self {
            Field::Quoted { text, .. } | Field::Bare { text, .. } => text,
        }
    }

    /// Offset of the field in the line.
    pub fn offset(&self) -> usize {
        match *self {
            Field::Quoted { offset, .. } | Field::Bare { offset, .. } => offset,
        }
    }

    /// True for a bare field with no text (an omitted parameter).
    pub fn is_omitted(&self) -> bool {
        matches!(self, Field::Bare { text: [], .. })
    }

    /// True for a quoted field.
    pub fn is_quoted(&self) -> bool {
        matches!(self, Field::Quoted { .. })
    }

    /// The field as a decimal number (leading zeros allowed, quotes tolerated).
    ///
    /// # Errors
    /// [`ParseError::Invalid`] naming `name` when the text is not a decimal number that fits.
    pub fn dec(&self, name: &'static str) -> Result<u32, ParseError> {
        parse_dec(self.text()).ok_or(ParseError::Invalid { field: name, offset: self.offset() })
    }

    /// The field as a hexadecimal number (quoted or not; leading hex digits are read, as
    /// ModemManager's `strtoul` does, so `"0 5"` reads as 0).
    ///
    /// # Errors
    /// [`ParseError::Invalid`] when the field holds no hex digit or more than 16 of them, or
    /// holds a quote or comma (broken quoting, vectors reg-082/reg-083).
    pub fn hex(&self, name: &'static str) -> Result<u64, ParseError> {
        let invalid = ParseError::Invalid { field: name, offset: self.offset() };
        let text = self.text();
        if text.iter().any(|&b| b == b'"' || b == b',') {
            return Err(invalid);
        }
        let digits = trim(text).iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let hex = text_prefix(trim(text), digits);
        if hex.is_empty() || hex.len() > 16 {
            return Err(invalid);
        }
        let mut value: u64 = 0;
        for &b in hex {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                _ => b - b'A' + 10,
            };
            value = (value << 4) | u64::from(digit);
        }
        Ok(value)
    }

    /// The field as UTF-8 text.
    ///
    /// # Errors
    /// [`ParseError::Invalid`] when the bytes are not UTF-8.
    pub fn str(&self, name: &'static str) -> Result<&'a str, ParseError> {
        core::str::from_utf8(self.text()).map_err(|_| ParseError::Invalid { field: name, offset: self.offset() })
    }
}

fn text_prefix(text: &[u8], n: usize) -> &[u8] {
    text.get(..n).unwrap_or(text)
}

/// Trims ASCII spaces and tabs at both ends.
pub(crate) fn trim(mut text: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = text {
        text = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = text {
        text = rest;
    }
    text
}

/// Parses a decimal number with optional surrounding spaces and leading zeros.
pub(crate) fn parse_dec(text: &[u8]) -> Option<u32> {
    let text = trim(text);
    if text.is_empty() || text.len() > 10 {
        return None;
    }
    let mut value: u32 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(value)
}

/// Iterator over the parameters of a line (after its `+XXX:` prefix).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    line: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Fields<'a> {
    /// Splits `line` from byte `start` on (offsets stay relative to `line`).
    pub fn new(line: &'a [u8], start: usize) -> Self {
        Fields { line, pos: start, done: start > line.len() }
    }

    /// Collects up to `M` fields into an array; returns the fields and how many there were
    /// (which may exceed `M`: the extra ones are not stored).
    ///
    /// # Errors
    /// [`ParseError::Unterminated`] for a quoted string with no closing quote.
    pub fn collect_array<const M: usize>(self) -> Result<([Option<Field<'a>>; M], usize), ParseError> {
        let mut out = [None; M];
        let mut count = 0;
        for field in self {
            let field = field?;
            if let Some(slot) = out.get_mut(count) {
                *slot = Some(field);
            }
            count += 1;
        }
        Ok((out, count))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let line = self.line;
        let mut pos = self.pos;
        while matches!(line.get(pos), Some(b' ' | b'\t')) {
            pos += 1;
        }
        if line.get(pos) == Some(&b'"') {
            let open = pos;
            let mut close = None;
            let mut i = open + 1;
            while i < line.len() {
                if line.get(i) == Some(&b'"') {
                    let mut j = i + 1;
                    while matches!(line.get(j), Some(b' ' | b'\t')) {
                        j += 1;
                    }
                    if j >= line.len() || line.get(j) == Some(&b',') {
                        close = Some((i, j));
                        break;
                    }
                }
                i += 1;
            }
            let Some((close, next)) = close else {
                self.done = true;
                return Some(Err(ParseError::Unterminated { offset: open }));
            };
            let text = line.get(open + 1..close).unwrap_or(&[]);
            if next >= line.len() {
                self.done = true;
            } else {
                self.pos = next + 1;
            }
            return Some(Ok(Field::Quoted { text, offset: open }));
        }
        let end = line.get(pos..).and_then(|rest| rest.iter().position(|&b| b == b',')).map(|p| pos + p);
        let raw = match end {
            Some(end) => line.get(pos..end).unwrap_or(&[]),
            None => line.get(pos..).unwrap_or(&[]),
        };
        match end {
            Some(end) => self.pos = end + 1,
            None => self.done = true,
        }
        Some(Ok(Field::Bare { text: trim(raw), offset: pos }))
    }
}

/// If `line` starts with `prefix` (e.g. `+CREG`), followed by optional spaces and a `:`, returns
/// the offset of the first parameter byte. `+QSIMSTAT : 1,0` (space before the colon, reference
/// vector ready-006) is accepted.
pub fn after_prefix(line: &[u8], prefix: &[u8]) -> Option<usize> {
    if !line.starts_with(prefix) {
        return None;
    }
    let mut pos = prefix.len();
    while matches!(line.get(pos), Some(b' ')) {
        pos += 1;
    }
    if line.get(pos) != Some(&b':') {
        return None;
    }
    Some(pos + 1)
}

/// The prefix of a line: `+XXX` / `*XXX` / `^XXX` up to the colon (or the whole first word up to a
/// `,` for `+RECEIVE,0,5`). `None` for a line that does not start with `+`, `*` or `^`.
pub fn prefix_of(line: &[u8]) -> Option<&[u8]> {
    match line.first() {
        Some(b'+' | b'*' | b'^') => {}
        _ => return None,
    }
    let end = line.iter().position(|&b| b == b':' || b == b',').unwrap_or(line.len());
    line.get(..end).map(trim)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn texts(line: &[u8]) -> Vec<Vec<u8>> {
        Fields::new(line, 0).map(|f| f.unwrap().text().to_vec()).collect()
    }

    #[test]
    fn splits_quoted_bare_and_omitted() {
        // reference §1.5: omitted middle parameters keep their commas.
        assert_eq!(texts(b"2,1,,,7"), vec![b"2".to_vec(), b"1".to_vec(), vec![], vec![], b"7".to_vec()]);
        assert_eq!(texts(b" 1, \"AB,C\" ,3"), vec![b"1".to_vec(), b"AB,C".to_vec(), b"3".to_vec()]);
        assert_eq!(texts(b"\"\""), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn unterminated_string_is_an_error_with_offset() {
        // vector reg-083: `+CREG: 2,1,"5E25`
        let mut fields = Fields::new(b"2,1,\"5E25", 0);
        assert!(fields.next().unwrap().is_ok());
        assert!(fields.next().unwrap().is_ok());
        assert_eq!(fields.next(), Some(Err(ParseError::Unterminated { offset: 4 })));
        assert_eq!(fields.next(), None);
    }

    #[test]
    fn hex_and_dec() {
        let f = Field::Bare { text: b"0 5", offset: 0 };
        assert_eq!(f.hex("lac"), Ok(0));
        let f = Field::Quoted { text: b"a3fb477", offset: 0 };
        assert_eq!(f.hex("ci"), Ok(0x0a3f_b477));
        let f = Field::Bare { text: b"001", offset: 3 };
        assert_eq!(f.dec("stat"), Ok(1));
        let f = Field::Bare { text: b"x1", offset: 3 };
        assert_eq!(f.dec("stat"), Err(ParseError::Invalid { field: "stat", offset: 3 }));
        assert_eq!(parse_dec(b"99999999999"), None);
    }

    #[test]
    fn prefixes() {
        assert_eq!(after_prefix(b"+QSIMSTAT : 1,0", b"+QSIMSTAT"), Some(11));
        assert_eq!(after_prefix(b"+CREG:2,1", b"+CREG"), Some(6));
        assert_eq!(after_prefix(b"+CREGX: 1", b"+CREG"), None);
        assert_eq!(prefix_of(b"+CEREG: 1"), Some(&b"+CEREG"[..]));
        assert_eq!(prefix_of(b"+RECEIVE,0,5"), Some(&b"+RECEIVE"[..]));
        assert_eq!(prefix_of(b"RDY"), None);
    }
}
