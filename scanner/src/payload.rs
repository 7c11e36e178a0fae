//! What a scan carries: GS1 element strings, a GTIN, a GS1 Digital Link URI, an ISO/IEC 15434
//! envelope, another URL, a carrier tracking number, text or binary (reference/scanner.md §9.4).
//!
//! [`classify`] strips the AIM identifier (if any) and looks at the data. GS1 data can only be
//! recognised through the identifier (`]C1`, `]d2`, `]Q3`, ...; §8: without AIM ids GS1 data is
//! indistinguishable from text), so provisioning turns AIM ids on.
//!
//! ```
//! use scanner::payload::{classify, Content};
//!
//! let scan = classify(b"]C100123456789012345675");
//! assert!(matches!(scan.content, Content::Gs1(b"00123456789012345675")));
//! let scan = classify(b"]C01Z999AA10123456784");
//! assert!(matches!(scan.content, Content::TrackingNumber(_)));
//! ```

use crate::aim::{self, Gs1Form, SymbologyId};
use crate::gs1::{self, digital_link};

/// Record separator of ISO/IEC 15434.
pub const RS: u8 = 0x1E;
/// End of transmission, the ISO/IEC 15434 trailer.
pub const EOT: u8 = 0x04;
/// The ISO/IEC 15434 message header `[)>` RS.
pub const ISO15434_HEADER: &[u8] = b"[)>\x1e";

/// Longest raw element string a Digital Link URI is converted to while classifying.
pub const DL_BUFFER: usize = 256;

/// The kind of payload, borrowed from the scan data (after the AIM identifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content<'a> {
    /// Raw GS1 element strings (the identifier said FNC1 first); validate with [`gs1::validate`].
    Gs1(&'a [u8]),
    /// A GTIN from EAN/UPC (`]E0`/`]E4`) or ITF-14 (`]I1`), check digit included.
    Gtin(&'a [u8]),
    /// A GS1 Digital Link URI (it converted to element strings).
    DigitalLink(&'a [u8]),
    /// An ISO/IEC 15434 envelope (carrier MaxiCode/PDF417/DataMatrix labels).
    Iso15434(Envelope<'a>),
    /// Another `http://` or `https://` URL.
    Url(&'a [u8]),
    /// 8 to 40 upper-case letters and digits with at least 4 digits: the shape of a carrier
    /// tracking number (no carrier check digit is verified).
    TrackingNumber(&'a [u8]),
    /// Printable UTF-8 text.
    Text(&'a [u8]),
    /// Anything else.
    Binary(&'a [u8]),
}

impl Content<'_> {
    /// A short name of the kind (`"gs1"`, `"iso15434"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Gs1(_) => "gs1",
            Self::Gtin(_) => "gtin",
            Self::DigitalLink(_) => "digital_link",
            Self::Iso15434(_) => "iso15434",
            Self::Url(_) => "url",
            Self::TrackingNumber(_) => "tracking_number",
            Self::Text(_) => "text",
            Self::Binary(_) => "binary",
        }
    }
}

/// A scan split into its identifier and classified content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified<'a> {
    /// The AIM identifier, if the data started with a well-formed one.
    pub aim: Option<SymbologyId>,
    /// The data after the identifier.
    pub data: &'a [u8],
    /// What the data is.
    pub content: Content<'a>,
}

/// Splits off the AIM identifier and classifies the rest.
pub fn classify(scan: &[u8]) -> Classified<'_> {
    let (aim, data) = match aim::split(scan) {
        Ok((id, data)) => (Some(id), data),
        Err(_) => (None, scan),
    };
    let content = match aim.and_then(|id| id.gs1_form()) {
        Some(Gs1Form::ElementString) => Content::Gs1(data),
        Some(Gs1Form::EanUpc | Gs1Form::Itf14) => Content::Gtin(data),
        None => classify_data(data),
    };
    Classified { aim, data, content }
}

/// Classifies data that carries no GS1 symbology identifier.
pub fn classify_data(data: &[u8]) -> Content<'_> {
    if let Ok(envelope) = Envelope::parse(data) {
        return Content::Iso15434(envelope);
    }
    let lower = |p: &[u8]| data.len() >= p.len() && data.iter().zip(p).all(|(a, b)| a.to_ascii_lowercase() == *b);
    if lower(b"http://") || lower(b"https://") {
        let mut buf = [0u8; DL_BUFFER];
        if digital_link::to_raw(data, &mut buf).is_ok() {
            return Content::DigitalLink(data);
        }
        return Content::Url(data);
    }
    if is_tracking_number(data) {
        return Content::TrackingNumber(data);
    }
    match core::str::from_utf8(data) {
        Ok(text) if !text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n')) => Content::Text(data),
        _ => Content::Binary(data),
    }
}

/// Whether `data` has the shape of a carrier tracking number (see [`Content::TrackingNumber`]).
pub fn is_tracking_number(data: &[u8]) -> bool {
    (8..=40).contains(&data.len())
        && data.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && data.iter().filter(|b| b.is_ascii_digit()).count() >= 4
}

/// Why data is not an ISO/IEC 15434 envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// It does not start with `[)>` RS.
    #[error("no ISO/IEC 15434 header '[)>' RS")]
    NoHeader,
    /// A format has no two-digit format indicator.
    #[error("offset {offset}: format indicator of two digits expected")]
    BadFormat {
        /// Offset of the format.
        offset: usize,
    },
}

/// An ISO/IEC 15434 envelope: `[)>` RS, formats `NN` GS fields... RS, trailer EOT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    body: &'a [u8],
    /// Whether the EOT trailer was present (scanners sometimes cut it).
    pub has_trailer: bool,
}

impl<'a> Envelope<'a> {
    /// Parses an envelope.
    ///
    /// # Errors
    /// [`EnvelopeError`] without the header or with a bad format indicator.
    pub fn parse(data: &'a [u8]) -> Result<Self, EnvelopeError> {
        let body = data.strip_prefix(ISO15434_HEADER).ok_or(EnvelopeError::NoHeader)?;
        let (body, has_trailer) = match body.strip_suffix(&[EOT]) {
            Some(b) => (b, true),
            None => (body, false),
        };
        let envelope = Self { body, has_trailer };
        let mut offset = ISO15434_HEADER.len();
        for format in body.split(|&b| b == RS) {
            if !format.is_empty() && !format.get(..2).is_some_and(|d| d.iter().all(u8::is_ascii_digit)) {
                return Err(EnvelopeError::BadFormat { offset });
            }
            offset += format.len() + 1;
        }
        Ok(envelope)
    }

    /// The formats in order, each as (two-digit indicator, fields).
    pub fn formats(&self) -> impl Iterator<Item = Format<'a>> + 'a {
        self.body
            .split(|&b| b == RS)
            .filter(|f| !f.is_empty())
            .map(|f| Format { indicator: f.get(..2).unwrap_or(&[]), data: f.get(2..).unwrap_or(&[]) })
    }
}

/// One format of an envelope (`01` transportation, `06` data identifiers, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format<'a> {
    /// The two-digit format indicator.
    pub indicator: &'a [u8],
    /// The data after the indicator (fields separated by GS; a format `01` header follows).
    pub data: &'a [u8],
}

impl<'a> Format<'a> {
    /// The GS-separated fields after the indicator (the first, empty one skipped).
    pub fn fields(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data.strip_prefix(&[gs1::GS]).unwrap_or(self.data);
        data.split(|&b| b == gs1::GS)
    }
}
