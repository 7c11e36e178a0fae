//! Honeywell HID-POS USB reports (reference/scanner.md §3, "HID-POS").
//!
//! Input reports (scanner → host) are [`INPUT_REPORT_LEN`] bytes:
//! `02 | len | AIM id (3 bytes) | data (len bytes) | … | byte 63`, where byte 63 is 1 when more
//! reports of the same message follow (vector honeywell_hidpos-02). Replies to menu commands use
//! AIM `]X0` for intermediate reports and `]Z6` for the final status report (§3). Output reports
//! (host → scanner) start with report id 0xFD, then one byte whose meaning is not known
//! (0x0F before the 10-byte `SYN M CR REVINF.` of honeywell_hidpos-03, 0x03 before the 3-byte
//! trigger), then a serial command (`SYN …`, see [`crate::menu`]).
//! The bytes between the data and byte 63 are not documented in the reference and are ignored.
//!
//! ```
//! use scanner::hidpos::{parse_output, OUTPUT_REPORT_ID};
//!
//! // The trigger output report of §3.
//! let r = parse_output(&[0xFD, 0x03, 0x16, 0x54, 0x0D]).unwrap();
//! assert_eq!((r.byte1, r.payload), (0x03, &b"\x16T\r"[..]));
//! ```

use crate::stream::FrameError;

/// Length of an input report (§3).
pub const INPUT_REPORT_LEN: usize = 64;
/// Report id of input reports (scanner → host).
pub const INPUT_REPORT_ID: u8 = 0x02;
/// Report id of output reports (host → scanner).
pub const OUTPUT_REPORT_ID: u8 = 0xFD;
/// Offset of the first data byte of an input report (after id, length and AIM id).
pub const INPUT_DATA_OFFSET: usize = 5;
/// Offset of the "more reports follow" byte of an input report.
pub const INPUT_MORE_OFFSET: usize = 63;
/// Most data bytes of one input report (the data must end before byte 63).
pub const INPUT_MAX_DATA: usize = INPUT_MORE_OFFSET - INPUT_DATA_OFFSET;
/// AIM id of intermediate reports of a menu-command reply (§3).
pub const AIM_MENU_INTERMEDIATE: [u8; 3] = *b"]X0";
/// AIM id of the final status report of a menu-command reply (§3).
pub const AIM_MENU_FINAL: [u8; 3] = *b"]Z6";

/// One HID-POS input report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputReport<'a> {
    /// The 3-byte AIM id (`]X0`, `]Q1`, …); see [`crate::aim`].
    pub aim: [u8; 3],
    /// The data bytes (the length byte's count).
    pub data: &'a [u8],
    /// Byte 63: more reports of this message follow.
    pub more: bool,
}

/// Parses one input report (exactly [`INPUT_REPORT_LEN`] bytes).
///
/// # Errors
/// [`FrameError::BadLength`] (offset 0, the report's length) when `report` is not 64 bytes;
/// [`FrameError::BadStart`] when byte 0 is not [`INPUT_REPORT_ID`]; [`FrameError::BadLength`]
/// (offset 1) when the length byte exceeds [`INPUT_MAX_DATA`]; [`FrameError::BadField`]
/// (offset 63) when the more-data byte is neither 0 nor 1.
pub fn parse_input(report: &[u8]) -> Result<InputReport<'_>, FrameError> {
    let [id, len, a0, a1, a2, rest @ ..] = report else {
        return Err(FrameError::BadLength { offset: 0, found: report.len(), reason: "a 64-byte report" });
    };
    if report.len() != INPUT_REPORT_LEN {
        return Err(FrameError::BadLength { offset: 0, found: report.len(), reason: "a 64-byte report" });
    }
    if *id != INPUT_REPORT_ID {
        return Err(FrameError::BadStart { offset: 0, found: *id });
    }
    let len = usize::from(*len);
    let data = rest.get(..len).filter(|_| len <= INPUT_MAX_DATA).ok_or(FrameError::BadLength {
        offset: 1,
        found: len,
        reason: "at most 58 data bytes before byte 63",
    })?;
    let more = match rest.last() {
        Some(0) => false,
        Some(1) => true,
        Some(&found) => return Err(FrameError::BadField { offset: INPUT_MORE_OFFSET, field: "more data", found }),
        None => return Err(FrameError::Incomplete),
    };
    Ok(InputReport { aim: [*a0, *a1, *a2], data, more })
}

/// One HID-POS output report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputReport<'a> {
    /// Byte 1, kept as found: its meaning is unclear (0x0F before a 10-byte command,
    /// honeywell_hidpos-03; 0x03 before the 3-byte trigger, §3).
    pub byte1: u8,
    /// The serial command after byte 1 (`SYN M CR REVINF.`).
    pub payload: &'a [u8],
}

/// Whether `report` looks like a HID-POS output report (id 0xFD, then a `SYN` command).
pub fn is_output(report: &[u8]) -> bool {
    matches!(report, [OUTPUT_REPORT_ID, _, crate::menu::SYN, ..])
}

/// Parses an output report (as written by a host, not padded).
///
/// # Errors
/// [`FrameError::Incomplete`] for fewer than 3 bytes; [`FrameError::BadStart`] when byte 0 is
/// not [`OUTPUT_REPORT_ID`]; [`FrameError::BadField`] (offset 2) when the payload does not start
/// with `SYN` (0x16).
pub fn parse_output(report: &[u8]) -> Result<OutputReport<'_>, FrameError> {
    match report {
        [id, ..] if *id != OUTPUT_REPORT_ID => Err(FrameError::BadStart { offset: 0, found: *id }),
        [_, byte1, payload @ ..] => match payload.first() {
            None => Err(FrameError::Incomplete),
            Some(&crate::menu::SYN) => Ok(OutputReport { byte1: *byte1, payload }),
            Some(&found) => Err(FrameError::BadField { offset: 2, field: "command start (SYN)", found }),
        },
        _ => Err(FrameError::Incomplete),
    }
}
