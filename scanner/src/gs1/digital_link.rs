//! GS1 Digital Link URIs to raw element strings (reference/scanner.md §9.3).
//!
//! `https://<domain>/<optional stem>/<primary key AI>/<value>[/<qualifier AI>/<value>...]`
//! `[?<AI>=<value>&...][#fragment]`. The scheme must be `http`/`https` in lower or upper case;
//! the path must end with a value; values are percent-decoded (`+` is literal in the path and a
//! space in the query); numeric query keys must be known AIs; non-numeric keys and singletons are
//! ignored; an AI may appear only once. Convenience names `gtin`, `sscc` and `ser` are accepted
//! in the path. The order of qualifiers is not checked.
//!
//! ```
//! use scanner::gs1::digital_link;
//!
//! let mut raw = [0u8; 64];
//! let n = digital_link::to_raw(b"https://id.example/00/006141411234567890?10=ABC", &mut raw).unwrap();
//! assert_eq!(&raw[..n], b"0000614141123456789010ABC");
//! ```

use super::{GS, Gs1Error, Out, ai};

/// Why a URI is not a GS1 Digital Link URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DlError {
    /// Not `http://` or `https://` (lower or all upper case).
    #[error("scheme is not http:// or https:// in one case")]
    BadScheme,
    /// No domain or no path.
    #[error("offset {offset}: no domain and path")]
    NoPath {
        /// Offset of the problem.
        offset: usize,
    },
    /// An empty path segment (including a trailing `/`).
    #[error("offset {offset}: empty path segment")]
    EmptySegment {
        /// Offset of the empty segment.
        offset: usize,
    },
    /// The path has no primary key AI followed by a value.
    #[error("no GS1 primary key in the path")]
    NoPrimaryKey,
    /// A numeric query key is not a known AI.
    #[error("offset {offset}: query key is not a known AI")]
    UnknownAi {
        /// Offset of the key.
        offset: usize,
    },
    /// An AI appears twice (also: a path AI repeated in the query).
    #[error("offset {offset}: AI ({ai}) appears twice")]
    Duplicate {
        /// Offset of the second occurrence.
        offset: usize,
        /// The AI.
        ai: &'static str,
    },
    /// An empty value.
    #[error("offset {offset}: empty value")]
    EmptyValue {
        /// Offset of the value.
        offset: usize,
    },
    /// `%` not followed by two hex digits, or a decoded byte that cannot be in a value.
    #[error("offset {offset}: bad percent-encoding or forbidden byte")]
    BadEncoding {
        /// Offset of the problem.
        offset: usize,
    },
    /// A value of a pre-defined-length AI has the wrong length (it would shift every following
    /// element string).
    #[error("offset {offset}: AI ({ai}) value of {found} characters, {expected} required")]
    BadLength {
        /// Offset of the value.
        offset: usize,
        /// The AI.
        ai: &'static str,
        /// The pre-defined length.
        expected: usize,
        /// The decoded length.
        found: usize,
    },
    /// Too many AIs or the output buffer is too small.
    #[error(transparent)]
    Gs1(#[from] Gs1Error),
}

const MAX_DL_AIS: usize = 32;

struct Seen {
    ais: [&'static str; MAX_DL_AIS],
    len: usize,
}

impl Seen {
    fn add(&mut self, ai: &'static str, offset: usize) -> Result<(), DlError> {
        let seen = self.ais.get(..self.len).unwrap_or(&[]);
        if seen.contains(&ai) {
            return Err(DlError::Duplicate { offset, ai });
        }
        let slot = self.ais.get_mut(self.len).ok_or(Gs1Error::TooManyAis)?;
        *slot = ai;
        self.len += 1;
        Ok(())
    }
}

fn path_ai(segment: &[u8]) -> Option<&'static ai::AiSpec> {
    let digits: &[u8] = match segment {
        b"gtin" => b"01",
        b"sscc" => b"00",
        b"ser" => b"21",
        other => other,
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    ai::lookup(digits)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `value` (at `offset` in the URI) into `out`.
fn decode_value(value: &[u8], offset: usize, plus_is_space: bool, out: &mut Out<'_>) -> Result<(), DlError> {
    if value.is_empty() {
        return Err(DlError::EmptyValue { offset });
    }
    let mut i = 0;
    while let Some(&b) = value.get(i) {
        let decoded = match b {
            b'%' => {
                let hi = value.get(i + 1).copied().and_then(hex);
                let lo = value.get(i + 2).copied().and_then(hex);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(DlError::BadEncoding { offset: offset + i });
                };
                i += 2;
                (hi << 4) | lo
            }
            b'+' if plus_is_space => b' ',
            other => other,
        };
        if decoded == GS || decoded == b'^' {
            return Err(DlError::BadEncoding { offset: offset + i });
        }
        out.push(decoded)?;
        i += 1;
    }
    Ok(())
}

/// Converts a Digital Link URI into raw GS1 data in `out` (GS after each variable-length value
/// that is not last); returns its length. Lint the result with [`super::validate`].
///
/// # Errors
/// [`DlError`] saying what is wrong and where.
pub fn to_raw(uri: &[u8], out: &mut [u8]) -> Result<usize, DlError> {
    let after_scheme = [&b"https://"[..], b"http://", b"HTTPS://", b"HTTP://"]
        .iter()
        .find_map(|s| uri.strip_prefix(*s).map(|_| s.len()))
        .ok_or(DlError::BadScheme)?;
    let end = uri.iter().position(|&b| b == b'#').unwrap_or(uri.len());
    let body = uri.get(..end).unwrap_or(&[]);
    let query_at = body.iter().position(|&b| b == b'?').unwrap_or(body.len());
    let rest = body.get(after_scheme..query_at).unwrap_or(&[]);
    let slash = rest.iter().position(|&b| b == b'/').ok_or(DlError::NoPath { offset: after_scheme })?;
    if slash == 0 {
        return Err(DlError::NoPath { offset: after_scheme });
    }
    let path_start = after_scheme + slash + 1;
    let path = body.get(path_start..query_at).unwrap_or(&[]);

    // Segment (start, end) offsets in `uri`; a long stem keeps only its last segments, as the
    // key is near the end.
    let mut segs = [(0usize, 0usize); 2 * MAX_DL_AIS + 8];
    let mut count = 0;
    let mut seg_start = path_start;
    for (i, &b) in path.iter().chain(core::iter::once(&b'/')).enumerate() {
        if b == b'/' {
            let at = path_start + i;
            if at == seg_start {
                return Err(DlError::EmptySegment { offset: at });
            }
            if count == segs.len() {
                segs.copy_within(1.., 0);
                count -= 1;
            }
            if let Some(slot) = segs.get_mut(count) {
                *slot = (seg_start, at);
            }
            count += 1;
            seg_start = at + 1;
        }
    }
    let segment = |k: usize| -> &[u8] {
        let (s, e) = segs.get(k).copied().unwrap_or((0, 0));
        uri.get(s..e).unwrap_or(&[])
    };

    // Walk (AI, value) pairs back from the end; the leftmost primary key found starts the data.
    let mut start = None;
    let mut k = count;
    while k >= 2 {
        match path_ai(segment(k - 2)) {
            Some(spec) => {
                if spec.dl_primary_key {
                    start = Some(k - 2);
                }
                k -= 2;
            }
            None => break,
        }
    }
    let start = start.ok_or(DlError::NoPrimaryKey)?;

    let mut o = Out::new(out);
    let mut seen = Seen { ais: [""; MAX_DL_AIS], len: 0 };
    let mut previous_fixed = true;
    let mut emit = |spec: &'static ai::AiSpec,
                    value: &[u8],
                    key_at: usize,
                    value_at: usize,
                    plus_is_space: bool,
                    o: &mut Out<'_>|
     -> Result<(), DlError> {
        seen.add(spec.ai, key_at)?;
        if !previous_fixed {
            o.push(GS)?;
        }
        o.extend(spec.ai.as_bytes())?;
        let before = o.len();
        decode_value(value, value_at, plus_is_space, o)?;
        let found = o.len() - before;
        if let Some(expected) = spec.fixed_length().filter(|&n| n != found) {
            return Err(DlError::BadLength { offset: value_at, ai: spec.ai, expected, found });
        }
        previous_fixed = spec.fixed_length().is_some();
        Ok(())
    };
    let mut k = start;
    while k + 1 < count {
        let spec = path_ai(segment(k)).ok_or(DlError::NoPrimaryKey)?;
        let at = segs.get(k).map_or(0, |s| s.0);
        let value_at = segs.get(k + 1).map_or(0, |s| s.0);
        emit(spec, segment(k + 1), at, value_at, false, &mut o)?;
        k += 2;
    }

    if let Some(query) = body.get(query_at + 1..) {
        let mut offset = query_at + 1;
        for param in query.split(|&b| b == b'&') {
            let here = offset;
            offset += param.len() + 1;
            let Some(eq) = param.iter().position(|&b| b == b'=') else { continue };
            let (k, v) = (param.get(..eq).unwrap_or(&[]), param.get(eq + 1..).unwrap_or(&[]));
            if k.is_empty() || !k.iter().all(u8::is_ascii_digit) {
                continue;
            }
            let spec = ai::lookup(k).ok_or(DlError::UnknownAi { offset: here })?;
            emit(spec, v, here, here + eq + 1, true, &mut o)?;
        }
    }
    Ok(o.len())
}
