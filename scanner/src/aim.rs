//! AIM symbology identifiers (ISO/IEC 15424): the `]cm` that engines put before the data.
//!
//! Format: `]`, a code character, a modifier character (`0`-`9`, `A`-`Z`); for `]Y` (system
//! expansion) the first modifier digit `n` announces `n + 1` modifier characters in total
//! (reference/scanner.md §8). The code character maps to a [`Symbology`] (unknown ones are kept
//! as [`Symbology::Unknown`]); [`SymbologyId::gs1_form`] tells whether the data is a GS1 element
//! string (FNC1 in first position: `]C1`, `]d2`, `]Q3`, `]e0`, `]J1`, `]z1`, ...) or a GTIN
//! carrier (EAN/UPC, ITF-14).
//!
//! ```
//! use scanner::aim::{split, Gs1Form, Symbology};
//!
//! let (id, data) = split(b"]C100123456789012345675").unwrap();
//! assert_eq!(id.symbology(), Symbology::Code128);
//! assert_eq!(id.gs1_form(), Some(Gs1Form::ElementString));
//! assert_eq!(data, b"00123456789012345675");
//! ```

use core::fmt;

/// Most modifier characters an identifier can carry (`]Y9` announces 10).
pub const MAX_MODIFIERS: usize = 10;

/// The symbology named by an AIM code character (ISO/IEC 15424 and later additions, §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Symbology {
    /// `A` Code 39.
    Code39,
    /// `B` Telepen.
    Telepen,
    /// `C` Code 128 (GS1-128 with modifier 1).
    Code128,
    /// `D` Code One.
    CodeOne,
    /// `E` EAN/UPC.
    EanUpc,
    /// `F` Codabar.
    Codabar,
    /// `G` Code 93.
    Code93,
    /// `H` Code 11.
    Code11,
    /// `I` Interleaved 2 of 5 (ITF-14 with modifier 1).
    Itf,
    /// `J` DotCode.
    DotCode,
    /// `K` Code 16K.
    Code16K,
    /// `L` PDF417 / MicroPDF417.
    Pdf417,
    /// `M` MSI.
    Msi,
    /// `N` Anker.
    Anker,
    /// `O` Codablock.
    Codablock,
    /// `P` Plessey.
    Plessey,
    /// `Q` QR Code.
    QrCode,
    /// `R` / `S` Straight 2 of 5.
    Straight2of5,
    /// `T` Code 49.
    Code49,
    /// `U` MaxiCode.
    MaxiCode,
    /// `X` other barcode.
    Other,
    /// `Y` system expansion.
    SystemExpansion,
    /// `Z` non-barcode data (Honeywell menu replies use `]Z6`).
    NonBarcode,
    /// `c` Channel Code.
    Channel,
    /// `d` Data Matrix.
    DataMatrix,
    /// `e` GS1 DataBar and composites.
    Gs1DataBar,
    /// `h` Han Xin.
    HanXin,
    /// `o` OCR.
    Ocr,
    /// `p` PosiCode.
    PosiCode,
    /// `s` SuperCode.
    SuperCode,
    /// `z` Aztec.
    Aztec,
    /// A code character this crate does not know (kept, so new symbologies never break parsing).
    Unknown(u8),
}

impl Symbology {
    /// The symbology of an AIM code character.
    pub const fn from_code(code: u8) -> Self {
        match code {
            b'A' => Self::Code39,
            b'B' => Self::Telepen,
            b'C' => Self::Code128,
            b'D' => Self::CodeOne,
            b'E' => Self::EanUpc,
            b'F' => Self::Codabar,
            b'G' => Self::Code93,
            b'H' => Self::Code11,
            b'I' => Self::Itf,
            b'J' => Self::DotCode,
            b'K' => Self::Code16K,
            b'L' => Self::Pdf417,
            b'M' => Self::Msi,
            b'N' => Self::Anker,
            b'O' => Self::Codablock,
            b'P' => Self::Plessey,
            b'Q' => Self::QrCode,
            b'R' | b'S' => Self::Straight2of5,
            b'T' => Self::Code49,
            b'U' => Self::MaxiCode,
            b'X' => Self::Other,
            b'Y' => Self::SystemExpansion,
            b'Z' => Self::NonBarcode,
            b'c' => Self::Channel,
            b'd' => Self::DataMatrix,
            b'e' => Self::Gs1DataBar,
            b'h' => Self::HanXin,
            b'o' => Self::Ocr,
            b'p' => Self::PosiCode,
            b's' => Self::SuperCode,
            b'z' => Self::Aztec,
            other => Self::Unknown(other),
        }
    }

    /// A human-readable name (`"Code 128"`, `"QR Code"`, `"unknown"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Code39 => "Code 39",
            Self::Telepen => "Telepen",
            Self::Code128 => "Code 128",
            Self::CodeOne => "Code One",
            Self::EanUpc => "EAN/UPC",
            Self::Codabar => "Codabar",
            Self::Code93 => "Code 93",
            Self::Code11 => "Code 11",
            Self::Itf => "ITF",
            Self::DotCode => "DotCode",
            Self::Code16K => "Code 16K",
            Self::Pdf417 => "PDF417",
            Self::Msi => "MSI",
            Self::Anker => "Anker",
            Self::Codablock => "Codablock",
            Self::Plessey => "Plessey",
            Self::QrCode => "QR Code",
            Self::Straight2of5 => "Straight 2 of 5",
            Self::Code49 => "Code 49",
            Self::MaxiCode => "MaxiCode",
            Self::Other => "other",
            Self::SystemExpansion => "System expansion",
            Self::NonBarcode => "non-barcode",
            Self::Channel => "Channel Code",
            Self::DataMatrix => "Data Matrix",
            Self::Gs1DataBar => "GS1 DataBar",
            Self::HanXin => "Han Xin",
            Self::Ocr => "OCR",
            Self::PosiCode => "PosiCode",
            Self::SuperCode => "SuperCode",
            Self::Aztec => "Aztec",
            Self::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for Symbology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the data after an identifier relates to GS1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gs1Form {
    /// FNC1 in first position: the data is a GS1 element string (inner FNC1 sent as GS).
    ElementString,
    /// EAN-13/UPC-A sent as 13 digits (`]E0`) or EAN-8 (`]E4`): a GTIN with its check digit.
    EanUpc,
    /// ITF with its check digit validated and sent (`]I1`): an ITF-14 GTIN.
    Itf14,
}

/// A parsed AIM symbology identifier.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SymbologyId {
    code: u8,
    modifiers: [u8; MAX_MODIFIERS],
    modifier_len: u8,
}

impl SymbologyId {
    /// The code character (`b'Q'` for `]Q3`).
    pub const fn code(&self) -> u8 {
        self.code
    }

    /// The modifier characters (one, except for `]Y`).
    pub fn modifiers(&self) -> &[u8] {
        self.modifiers.get(..usize::from(self.modifier_len)).unwrap_or(&[])
    }

    /// The first modifier character.
    pub const fn modifier(&self) -> u8 {
        self.modifiers[0]
    }

    /// The symbology named by the code character.
    pub const fn symbology(&self) -> Symbology {
        Symbology::from_code(self.code)
    }

    /// The identifier's length in bytes (`]` included).
    pub const fn len(&self) -> usize {
        2 + self.modifier_len as usize
    }

    /// Always false: an identifier has at least three bytes.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Whether and how the data is GS1 (reference/scanner.md §8, "GS1-relevant identifiers").
    pub const fn gs1_form(&self) -> Option<Gs1Form> {
        match (self.code, self.modifiers[0]) {
            // Code 128 FNC1 first; GS1 DataBar and composites; DotCode GS1.
            (b'C', b'1') | (b'e', b'0'..=b'2') | (b'J', b'1') => Some(Gs1Form::ElementString),
            // Data Matrix GS1 (+ECI); QR GS1 (+ECI); Aztec GS1.
            (b'd', b'2' | b'5') | (b'Q', b'3' | b'4') | (b'z', b'1') => Some(Gs1Form::ElementString),
            (b'E', b'0' | b'4') => Some(Gs1Form::EanUpc),
            (b'I', b'1') => Some(Gs1Form::Itf14),
            _ => None,
        }
    }

    /// Whether the data is a GS1 element string (FNC1 in first position).
    pub const fn is_gs1(&self) -> bool {
        matches!(self.gs1_form(), Some(Gs1Form::ElementString))
    }

    /// A finer name where the modifier decides it (`"GS1-128"`, `"EAN-13"`, `"GS1 QR Code"`),
    /// else the symbology name.
    pub const fn description(&self) -> &'static str {
        match (self.code, self.modifiers[0]) {
            (b'C', b'1') => "GS1-128",
            (b'E', b'0') => "EAN-13",
            (b'E', b'4') => "EAN-8",
            (b'I', b'1') => "ITF-14",
            (b'Q', b'3' | b'4') => "GS1 QR Code",
            (b'd', b'2' | b'5') => "GS1 DataMatrix",
            (b'J', b'1') => "GS1 DotCode",
            (b'z', b'1') => "GS1 Aztec",
            _ => self.symbology().name(),
        }
    }
}

impl fmt::Display for SymbologyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("]")?;
        for &b in core::iter::once(&self.code).chain(self.modifiers()) {
            write!(f, "{}", char::from(b))?;
        }
        Ok(())
    }
}

impl fmt::Debug for SymbologyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SymbologyId({self})")
    }
}

/// Why the start of scan data is not an AIM identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AimError {
    /// The data does not start with `]` (AIM transmission is off, or this is not scan data).
    #[error("missing symbology identifier: byte 0 is {found:#04x}, not ']'")]
    Missing {
        /// The first byte (0 when the data is empty).
        found: u8,
    },
    /// The data ends inside the identifier.
    #[error("symbology identifier too short: {needed} bytes needed, {found} present")]
    TooShort {
        /// Bytes the identifier needs.
        needed: usize,
        /// Bytes present.
        found: usize,
    },
    /// The code character is not a letter.
    #[error("byte 1: code character {found:#04x} is not a letter")]
    BadCode {
        /// The byte found.
        found: u8,
    },
    /// A modifier character is not `0`-`9` / `A`-`Z` (`a`-`z` also accepted for `]Y`).
    #[error("byte {offset}: modifier {found:#04x} is not 0-9 or A-Z")]
    BadModifier {
        /// Offset of the modifier.
        offset: usize,
        /// The byte found.
        found: u8,
    },
}

/// Parses the AIM identifier at the start of `data`.
///
/// # Errors
/// [`AimError`] when `data` does not start with a well-formed identifier.
pub fn parse(data: &[u8]) -> Result<SymbologyId, AimError> {
    match data.first() {
        Some(b']') => {}
        other => return Err(AimError::Missing { found: other.copied().unwrap_or(0) }),
    }
    let (&code, &first) = match (data.get(1), data.get(2)) {
        (Some(c), Some(m)) => (c, m),
        _ => return Err(AimError::TooShort { needed: 3, found: data.len() }),
    };
    if !code.is_ascii_alphabetic() {
        return Err(AimError::BadCode { found: code });
    }
    let mut id = SymbologyId { code, modifiers: [0; MAX_MODIFIERS], modifier_len: 1 };
    if code == b'Y' {
        // System expansion: first modifier digit n => n + 1 modifier characters (biip, §8).
        if !first.is_ascii_digit() {
            return Err(AimError::BadModifier { offset: 2, found: first });
        }
        let count = usize::from(first - b'0') + 1;
        let mods = data.get(2..2 + count).ok_or(AimError::TooShort { needed: 2 + count, found: data.len() })?;
        for (i, &m) in mods.iter().enumerate() {
            if !m.is_ascii_alphanumeric() {
                return Err(AimError::BadModifier { offset: 2 + i, found: m });
            }
        }
        if let Some(slot) = id.modifiers.get_mut(..count) {
            slot.copy_from_slice(mods);
        }
        id.modifier_len = count as u8;
        return Ok(id);
    }
    if !(first.is_ascii_digit() || first.is_ascii_uppercase()) {
        return Err(AimError::BadModifier { offset: 2, found: first });
    }
    id.modifiers[0] = first;
    Ok(id)
}

/// Parses the identifier at the start of `data` and returns it with the data after it.
///
/// # Errors
/// As [`parse`].
pub fn split(data: &[u8]) -> Result<(SymbologyId, &[u8]), AimError> {
    let id = parse(data)?;
    Ok((id, data.get(id.len()..).unwrap_or(&[])))
}
