//! Honeywell and Newland menu commands and their replies (reference/scanner.md §3, §4).
//!
//! Both families echo a command with a status byte before each punctuation mark: `ACK` 0x06
//! accepted, `ENQ` 0x05 unknown tag/sub-tag, `NAK` 0x15 value out of range. Honeywell commands
//! are `SYN M CR` + `Tag SubTag Data` + storage (`!` RAM, `.` flash); Newland's unified command
//! set wraps the same shape as `~ SOH 0000 {@|#} ... ; ETX` and replies `STX SOH 0000 ... ; ETX`.
//! Newland's legacy `NLSnnnnnnn[=param]` commands are answered by one ACK/NAK byte.
//!
//! ```
//! use scanner::menu::{honeywell_command, parse_reply, Status, Storage};
//!
//! let mut out = [0u8; 32];
//! let n = honeywell_command(b"cbrena^", Storage::Flash, &mut out).unwrap();
//! assert_eq!(&out[..n], b"\x16M\rcbrena^.");
//! let entries: Vec<_> = parse_reply(b"CBRENA1\x06").collect();
//! assert_eq!(entries, [(&b"CBRENA1"[..], Status::Ack)]);
//! ```

use crate::stream::EncodeError;

/// `SYN`, first byte of Honeywell serial commands.
pub const SYN: u8 = 0x16;
/// Honeywell trigger activate `SYN T CR` (serial trigger mode must be enabled, §3).
pub const HONEYWELL_TRIGGER_ON: &[u8] = b"\x16T\r";
/// Honeywell trigger deactivate `SYN U CR` (not `SYN T CR` as one README misprints, §3).
pub const HONEYWELL_TRIGGER_OFF: &[u8] = b"\x16U\r";
/// Head of Newland unified commands `~ SOH 0000`.
pub const NEWLAND_COMMAND_HEAD: &[u8] = b"~\x010000";
/// Head of Newland unified replies `STX SOH 0000`.
pub const NEWLAND_REPLY_HEAD: &[u8] = b"\x02\x010000";
/// Trailer of Newland unified commands and replies `; ETX`.
pub const NEWLAND_TRAILER: &[u8] = b";\x03";
/// Newland legacy engines answer within this time (§4).
pub const NEWLAND_LEGACY_REPLY_MS: u64 = 500;

/// Per-entry status byte of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0x06: accepted.
    Ack,
    /// 0x05: unknown tag or sub-tag.
    Enq,
    /// 0x15: value out of range.
    Nak,
}

impl Status {
    /// The status of a byte, if it is one.
    pub const fn from_u8(b: u8) -> Option<Self> {
        match b {
            0x06 => Some(Self::Ack),
            0x05 => Some(Self::Enq),
            0x15 => Some(Self::Nak),
            _ => None,
        }
    }
}

/// Where a Honeywell setting is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// `!`: RAM (lost at power-off; spares flash write cycles, §3).
    Ram,
    /// `.`: non-volatile flash.
    Flash,
}

/// Writes a Honeywell menu command (`SYN M CR` + `body` + storage); returns its length.
///
/// # Errors
/// [`EncodeError::BufferTooSmall`].
pub fn honeywell_command(body: &[u8], storage: Storage, out: &mut [u8]) -> Result<usize, EncodeError> {
    let total = 3 + body.len() + 1;
    let frame = out.get_mut(..total).ok_or(EncodeError::BufferTooSmall { needed: total })?;
    let (head, rest) = frame.split_at_mut(3);
    head.copy_from_slice(&[SYN, b'M', b'\r']);
    let (b, s) = rest.split_at_mut(body.len());
    b.copy_from_slice(body);
    s.copy_from_slice(&[match storage {
        Storage::Ram => b'!',
        Storage::Flash => b'.',
    }]);
    Ok(total)
}

/// Writes a Newland unified command `~ SOH 0000 {@|#} body ; ETX`; `permanent` selects `@`.
///
/// # Errors
/// [`EncodeError::BufferTooSmall`].
pub fn newland_command(body: &[u8], permanent: bool, out: &mut [u8]) -> Result<usize, EncodeError> {
    let total = NEWLAND_COMMAND_HEAD.len() + 1 + body.len() + NEWLAND_TRAILER.len();
    let frame = out.get_mut(..total).ok_or(EncodeError::BufferTooSmall { needed: total })?;
    let (head, rest) = frame.split_at_mut(NEWLAND_COMMAND_HEAD.len());
    head.copy_from_slice(NEWLAND_COMMAND_HEAD);
    let (mark, rest) = rest.split_at_mut(1);
    mark.copy_from_slice(if permanent { b"@" } else { b"#" });
    let (b, t) = rest.split_at_mut(body.len());
    b.copy_from_slice(body);
    t.copy_from_slice(NEWLAND_TRAILER);
    Ok(total)
}

/// The entries of a menu reply: each echoed `Tag SubTag Data` with its status. Punctuation
/// after a status (`,` `;` `.` `!`) is optional (a Voyager 1602g sends `REVINF<ACK>.`, the
/// manual `CBRENA0-1<ACK>`). Text after the last status byte is not an entry.
pub fn parse_reply(reply: &[u8]) -> impl Iterator<Item = (&[u8], Status)> {
    let mut rest = reply;
    core::iter::from_fn(move || {
        let at = rest.iter().position(|&b| Status::from_u8(b).is_some())?;
        let entry = rest.get(..at).unwrap_or(&[]);
        let status = rest.get(at).copied().and_then(Status::from_u8)?;
        rest = rest.get(at + 1..).unwrap_or(&[]);
        if let Some((_, tail)) = rest.split_first().filter(|(p, _)| matches!(p, b',' | b';' | b'.' | b'!')) {
            rest = tail;
        }
        Some((entry, status))
    })
}

/// Whether a menu reply has at least one entry and every entry is `ACK`.
pub fn reply_ok(reply: &[u8]) -> bool {
    let mut any = false;
    for (_, status) in parse_reply(reply) {
        if status != Status::Ack {
            return false;
        }
        any = true;
    }
    any
}

/// Why bytes are not a Newland unified reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NewlandReplyError {
    /// The reply does not start with `STX SOH 0000`.
    #[error("no STX SOH 0000 head")]
    NoHead,
    /// The reply does not end with `; ETX`.
    #[error("no ; ETX trailer (incomplete)")]
    NoTrailer,
}

/// The body of a Newland unified reply (between head and `ETX`, the last `;` kept so that
/// [`parse_reply`] sees the punctuation), e.g. `@DFMADD069990020010F141<ACK>;`.
///
/// # Errors
/// [`NewlandReplyError`] for a missing head or trailer.
pub fn newland_reply_body(reply: &[u8]) -> Result<&[u8], NewlandReplyError> {
    let body = reply.strip_prefix(NEWLAND_REPLY_HEAD).ok_or(NewlandReplyError::NoHead)?;
    body.strip_suffix(b"\x03").filter(|b| b.ends_with(b";")).ok_or(NewlandReplyError::NoTrailer)
}

/// A Newland legacy command `NLS` + 7 digits [`=` parameter], parsed (case-insensitive `nls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyCommand<'a> {
    /// The seven-digit command code.
    pub code: &'a [u8],
    /// The parameter after `=` (quotes kept: they are part of it, §4).
    pub parameter: Option<&'a [u8]>,
}

/// Parses a Newland legacy command, `None` when it is not one.
pub fn parse_newland_legacy(cmd: &[u8]) -> Option<LegacyCommand<'_>> {
    let (head, rest) = (cmd.get(..3)?, cmd.get(3..)?);
    if !head.eq_ignore_ascii_case(b"NLS") {
        return None;
    }
    let code = rest.get(..7).filter(|c| c.iter().all(u8::is_ascii_digit))?;
    let parameter = match rest.get(7..) {
        Some([]) | None => None,
        Some([b'=', p @ ..]) if !p.is_empty() => Some(p),
        Some(_) => return None,
    };
    Some(LegacyCommand { code, parameter })
}
