//! Grow "7E 00" protocol of GM65/GM66/GM805/GM812 modules (reference/scanner.md §5).
//!
//! Command `7E 00 | type | lens | addr_hi addr_lo | data | crc_hi crc_lo`, response
//! `02 00 | type (00 = success) | lens | data | crc_hi crc_lo`. The CRC is CRC-16/XMODEM over
//! type..data (not the head); a command may carry `AB CD` instead ("do not check"), a response
//! never does (§5.1). A module answers a bad command with silence, so a timeout is the only NAK.
//!
//! ```
//! use scanner::grow::{Command, CrcMode, Response, encode_command, parse_response};
//!
//! // Read zone bit 0x000A (manual example, §5.1): 7E 00 07 01 00 0A 01 EE 8A.
//! let mut out = [0u8; 16];
//! let n = encode_command(&Command::read(0x000A, &1), CrcMode::Crc, &mut out).unwrap();
//! assert_eq!(&out[..n], &[0x7E, 0x00, 0x07, 0x01, 0x00, 0x0A, 0x01, 0xEE, 0x8A]);
//! let (reply, _) = parse_response(&[0x02, 0x00, 0x00, 0x01, 0x3E, 0xE4, 0xAC]).unwrap();
//! assert_eq!(reply, Response { status: 0, data: &[0x3E] });
//! ```

use crate::stream::{self, EncodeError, FrameError};
use crc::{CRC_16_XMODEM, Crc};

/// Command head.
pub const COMMAND_HEAD: [u8; 2] = [0x7E, 0x00];
/// Response head.
pub const RESPONSE_HEAD: [u8; 2] = [0x02, 0x00];
/// The "do not check" CRC sentinel of commands.
pub const NO_CHECK: [u8; 2] = [0xAB, 0xCD];
/// A command with more than 400 ms between bytes is discarded by the module (§5.1).
pub const INTER_BYTE_TIMEOUT_MS: u64 = 400;
/// Longest command: 256 data bytes (lens byte 0 = 256 is not used here; max 255).
pub const MAX_COMMAND: usize = 2 + 4 + 255 + 2;
/// Longest response.
pub const MAX_RESPONSE: usize = 2 + 2 + 255 + 2;

/// Zone bit address of the serial baud divisor (little-endian, §5.2).
pub const BAUD_ADDRESS: u16 = 0x002A;

const XMODEM: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);

/// CRC-16/XMODEM (poly 0x1021, init 0, no reflection; check value 0x31C3).
pub fn crc16_xmodem(bytes: &[u8]) -> u16 {
    XMODEM.checksum(bytes)
}

/// Command types (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandType {
    /// 0x07 read zone bits.
    Read,
    /// 0x08 write zone bits.
    Write,
    /// 0x09 save to EEPROM (data 00) or reset to defaults (data FF).
    Save,
    /// 0x05 erase program.
    Erase,
    /// Other types.
    Unknown(u8),
}

impl CommandType {
    /// From the wire byte.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0x07 => Self::Read,
            0x08 => Self::Write,
            0x09 => Self::Save,
            0x05 => Self::Erase,
            other => Self::Unknown(other),
        }
    }

    /// The wire byte.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::Read => 0x07,
            Self::Write => 0x08,
            Self::Save => 0x09,
            Self::Erase => 0x05,
            Self::Unknown(v) => v,
        }
    }
}

/// How a command carries its CRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrcMode {
    /// A real CRC-16/XMODEM.
    Crc,
    /// The `AB CD` sentinel.
    NoCheck,
}

/// A host command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    /// The type.
    pub kind: CommandType,
    /// Zone bit address.
    pub address: u16,
    /// Data bytes (for Read: one byte, the count to read).
    pub data: &'a [u8],
}

impl<'a> Command<'a> {
    /// Read `count` zone bytes from `address` (`count` 0 means 256).
    pub const fn read(address: u16, count: &'a u8) -> Self {
        Self { kind: CommandType::Read, address, data: core::slice::from_ref(count) }
    }

    /// Write `data` from `address` upward.
    pub const fn write(address: u16, data: &'a [u8]) -> Self {
        Self { kind: CommandType::Write, address, data }
    }

    /// Save zone bits to EEPROM.
    pub const fn save() -> Command<'static> {
        Command { kind: CommandType::Save, address: 0, data: &[0x00] }
    }
}

/// A module response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response<'a> {
    /// 0 = success.
    pub status: u8,
    /// Data bytes.
    pub data: &'a [u8],
}

/// A decoded command with how its CRC was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandFrame<'a> {
    /// The command.
    pub command: Command<'a>,
    /// Whether it carried a real CRC or `AB CD`.
    pub crc: CrcMode,
}

/// Writes a command; returns its length.
///
/// # Errors
/// [`EncodeError`] for more than 255 data bytes or a short `out`.
pub fn encode_command(command: &Command<'_>, crc: CrcMode, out: &mut [u8]) -> Result<usize, EncodeError> {
    let n = command.data.len();
    if n > 255 {
        return Err(EncodeError::PayloadTooLong { len: n, max: 255 });
    }
    let total = 2 + 4 + n + 2;
    let frame = out.get_mut(..total).ok_or(EncodeError::BufferTooSmall { needed: total })?;
    let (head, rest) = frame.split_at_mut(2);
    head.copy_from_slice(&COMMAND_HEAD);
    let (body, ck) = rest.split_at_mut(4 + n);
    if let [kind, lens, hi, lo, data @ ..] = body {
        *kind = command.kind.to_u8();
        *lens = n as u8;
        [*hi, *lo] = command.address.to_be_bytes();
        data.copy_from_slice(command.data);
    }
    let crc_bytes = match crc {
        CrcMode::Crc => crc16_xmodem(body).to_be_bytes(),
        CrcMode::NoCheck => NO_CHECK,
    };
    ck.copy_from_slice(&crc_bytes);
    Ok(total)
}

/// Writes a response (for simulated modules); returns its length.
///
/// # Errors
/// [`EncodeError`] for more than 255 data bytes or a short `out`.
pub fn encode_response(response: &Response<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    let n = response.data.len();
    if n > 255 {
        return Err(EncodeError::PayloadTooLong { len: n, max: 255 });
    }
    let total = 2 + 2 + n + 2;
    let frame = out.get_mut(..total).ok_or(EncodeError::BufferTooSmall { needed: total })?;
    let (head, rest) = frame.split_at_mut(2);
    head.copy_from_slice(&RESPONSE_HEAD);
    let (body, ck) = rest.split_at_mut(2 + n);
    if let [status, lens, data @ ..] = body {
        *status = response.status;
        *lens = n as u8;
        data.copy_from_slice(response.data);
    }
    ck.copy_from_slice(&crc16_xmodem(body).to_be_bytes());
    Ok(total)
}

fn check_head(buf: &[u8], head: [u8; 2]) -> Result<(), FrameError> {
    for (i, want) in head.iter().enumerate() {
        match buf.get(i) {
            None => return Err(FrameError::Incomplete),
            Some(b) if b != want => return Err(FrameError::BadStart { offset: i, found: *b }),
            Some(_) => {}
        }
    }
    Ok(())
}

fn crc_at(buf: &[u8], at: usize) -> Result<[u8; 2], FrameError> {
    let ck = buf.get(at..at + 2).ok_or(FrameError::Incomplete)?;
    Ok([ck.first().copied().unwrap_or(0), ck.get(1).copied().unwrap_or(0)])
}

/// Parses a command at the start of `buf`.
///
/// # Errors
/// [`FrameError`]: incomplete, wrong head, or a CRC that is neither right nor `AB CD`.
pub fn parse_command(buf: &[u8]) -> Result<(CommandFrame<'_>, usize), FrameError> {
    check_head(buf, COMMAND_HEAD)?;
    let n = usize::from(*buf.get(3).ok_or(FrameError::Incomplete)?);
    let body = buf.get(2..6 + n).ok_or(FrameError::Incomplete)?;
    let ck = crc_at(buf, 6 + n)?;
    let expected = crc16_xmodem(body);
    // A trailer that is the right CRC counts as checked even when it happens to be `AB CD`
    // (one body in 65,536): the frame is valid either way, and "checked" is the stronger claim.
    let crc = if u16::from_be_bytes(ck) == expected {
        CrcMode::Crc
    } else if ck == NO_CHECK {
        CrcMode::NoCheck
    } else {
        return Err(FrameError::BadChecksum { offset: 6 + n, expected, found: u16::from_be_bytes(ck) });
    };
    let kind = CommandType::from_u8(body.first().copied().unwrap_or(0));
    let address = u16::from_be_bytes([body.get(2).copied().unwrap_or(0), body.get(3).copied().unwrap_or(0)]);
    let data = body.get(4..).unwrap_or(&[]);
    Ok((CommandFrame { command: Command { kind, address, data }, crc }, 8 + n))
}

/// Parses a response at the start of `buf`.
///
/// # Errors
/// [`FrameError`]: incomplete, wrong head, or a wrong CRC.
pub fn parse_response(buf: &[u8]) -> Result<(Response<'_>, usize), FrameError> {
    check_head(buf, RESPONSE_HEAD)?;
    let n = usize::from(*buf.get(3).ok_or(FrameError::Incomplete)?);
    let body = buf.get(2..4 + n).ok_or(FrameError::Incomplete)?;
    let ck = u16::from_be_bytes(crc_at(buf, 4 + n)?);
    let expected = crc16_xmodem(body);
    if ck != expected {
        return Err(FrameError::BadChecksum { offset: 4 + n, expected, found: ck });
    }
    let status = body.first().copied().unwrap_or(0);
    Ok((Response { status, data: body.get(2..).unwrap_or(&[]) }, 6 + n))
}

/// Grow commands (host to module) for [`stream::Decoder`] (simulated modules).
#[derive(Debug, Clone, Copy, Default)]
pub struct GrowCommands;

impl stream::Format for GrowCommands {
    type Frame<'a> = CommandFrame<'a>;
    const MAX_FRAME: usize = MAX_COMMAND;

    fn parse(buf: &[u8]) -> Result<(CommandFrame<'_>, usize), FrameError> {
        parse_command(buf)
    }
}

/// Grow responses (module to host) for [`stream::Decoder`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GrowResponses;

impl stream::Format for GrowResponses {
    type Frame<'a> = Response<'a>;
    const MAX_FRAME: usize = MAX_RESPONSE;

    fn parse(buf: &[u8]) -> Result<(Response<'_>, usize), FrameError> {
        parse_response(buf)
    }
}

/// Streaming decoder of module responses.
pub type ResponseDecoder = stream::Decoder<GrowResponses, MAX_RESPONSE>;
/// Streaming decoder of host commands.
pub type CommandDecoder = stream::Decoder<GrowCommands, MAX_COMMAND>;

/// Serial speeds the module supports, with the divisor of zone bits 0x002A-0x002B (§5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Baud {
    /// 1200 bit/s.
    B1200,
    /// 4800 bit/s.
    B4800,
    /// 9600 bit/s (factory default).
    B9600,
    /// 14400 bit/s.
    B14400,
    /// 19200 bit/s.
    B19200,
    /// 38400 bit/s.
    B38400,
    /// 57600 bit/s.
    B57600,
    /// 115200 bit/s.
    B115200,
}

impl Baud {
    const TABLE: [(Baud, u32, u16); 8] = [
        (Baud::B1200, 1200, 0x09C4),
        (Baud::B4800, 4800, 0x0271),
        (Baud::B9600, 9600, 0x0139),
        (Baud::B14400, 14400, 0x00D0),
        (Baud::B19200, 19200, 0x009C),
        (Baud::B38400, 38400, 0x004E),
        (Baud::B57600, 57600, 0x0034),
        (Baud::B115200, 115200, 0x001A),
    ];

    /// Bits per second.
    pub fn bits_per_second(self) -> u32 {
        Self::TABLE.iter().find(|e| e.0 == self).map_or(0, |e| e.1)
    }

    /// The divisor written to 0x002A (little-endian on the wire).
    pub fn divisor(self) -> u16 {
        Self::TABLE.iter().find(|e| e.0 == self).map_or(0, |e| e.2)
    }

    /// The speed of a divisor read back from the module.
    pub fn from_divisor(divisor: u16) -> Option<Self> {
        Self::TABLE.iter().find(|e| e.2 == divisor).map(|e| e.0)
    }

    /// The speed of a bit rate.
    pub fn from_bits_per_second(bps: u32) -> Option<Self> {
        Self::TABLE.iter().find(|e| e.1 == bps).map(|e| e.0)
    }

    /// The two data bytes of the baud write (`39 01` for 9600, §5.2).
    pub fn divisor_bytes(self) -> [u8; 2] {
        self.divisor().to_le_bytes()
    }
}
