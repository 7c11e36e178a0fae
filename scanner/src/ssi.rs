//! Zebra SSI (Simple Serial Interface) packets (reference/scanner.md §2).
//!
//! `[len][opcode][source][status][data 0..251][ck_hi][ck_lo]`: `len` counts the 4-byte header
//! and the data but not the checksum; the checksum is the 16-bit two's complement of the sum of
//! all bytes before it, high byte first (§2.1). Unknown opcodes and unknown status bits are kept
//! (Bluetooth engines set 0x80/0x20, §2.1). WAKEUP is the single byte [`WAKEUP`], not a packet.
//!
//! ```
//! use scanner::ssi::{encode, parse, Opcode, Packet, Source};
//!
//! // START_SESSION from the host (§2.6): 04 E4 04 00 FF 14.
//! let mut out = [0u8; 8];
//! let n = encode(&Packet::host(Opcode::StartSession, &[]), &mut out).unwrap();
//! assert_eq!(&out[..n], &[0x04, 0xE4, 0x04, 0x00, 0xFF, 0x14]);
//! let (packet, used) = parse(&[0x07, 0xF3, 0x00, 0x00, 0x03, 0x55, 0x53, 0xFE, 0x5B]).unwrap();
//! assert_eq!((packet.opcode, packet.source, packet.payload, used), (Opcode::DecodeData, Source::Decoder, &b"\x03US"[..], 9));
//! ```

use crate::stream::{self, EncodeError, FrameError};

/// The WAKEUP byte; wait before sending a packet after it (§2.1).
pub const WAKEUP: u8 = 0x00;
/// Header bytes counted by the length byte.
pub const HEADER_LEN: usize = 4;
/// Most data bytes in one packet.
pub const MAX_PAYLOAD: usize = 251;
/// Longest packet on the wire.
pub const MAX_PACKET: usize = HEADER_LEN + MAX_PAYLOAD + 2;

/// Status bit 0: this packet is a retransmission.
pub const STATUS_RETRANSMIT: u8 = 0x01;
/// Status bit 1: more packets of this message follow.
pub const STATUS_CONTINUATION: u8 = 0x02;
/// Status bit 3: parameter change is permanent.
pub const STATUS_PERMANENT: u8 = 0x08;

/// SSI bar code type of the multipacket format (§2.3).
pub const CODE_TYPE_MULTIPACKET: u8 = 0x99;

macro_rules! opcodes {
    ($($name:ident = $value:literal, $label:literal;)*) => {
        /// An SSI opcode (guide table 2-2, §2.2); unknown values are kept.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Opcode {
            $(#[doc = $label] $name,)*
            /// An opcode not in the guide (clones use 0x73, 0x90, 0xFA, ...).
            Unknown(u8),
        }

        impl Opcode {
            /// The opcode of a byte.
            pub const fn from_u8(v: u8) -> Self {
                match v { $($value => Self::$name,)* other => Self::Unknown(other) }
            }

            /// The byte of an opcode.
            pub const fn to_u8(self) -> u8 {
                match self { $(Self::$name => $value,)* Self::Unknown(v) => v }
            }

            /// The guide's name (`"DECODE_DATA"`), or `"UNKNOWN"`.
            pub const fn name(self) -> &'static str {
                match self { $(Self::$name => $label,)* Self::Unknown(_) => "UNKNOWN" }
            }
        }
    };
}

opcodes! {
    FlushMacroPdf = 0x10, "FLUSH_MACRO_PDF";
    AbortMacroPdf = 0x11, "ABORT_MACRO_PDF";
    CustomDefaults = 0x12, "CUSTOM_DEFAULTS";
    SsiMgmtCommand = 0x80, "SSI_MGMT_COMMAND";
    RequestRevision = 0xA3, "REQUEST_REVISION";
    ReplyRevision = 0xA4, "REPLY_REVISION";
    ImageData = 0xB1, "IMAGE_DATA";
    VideoData = 0xB4, "VIDEO_DATA";
    IlluminationOff = 0xC0, "ILLUMINATION_OFF";
    IlluminationOn = 0xC1, "ILLUMINATION_ON";
    AimOff = 0xC4, "AIM_OFF";
    AimOn = 0xC5, "AIM_ON";
    ParamSend = 0xC6, "PARAM_SEND";
    ParamRequest = 0xC7, "PARAM_REQUEST";
    ParamDefaults = 0xC8, "PARAM_DEFAULTS";
    ChangeAllCodeTypes = 0xC9, "CHANGE_ALL_CODE_TYPES";
    PagerMotorActivation = 0xCA, "PAGER_MOTOR_ACTIVATION";
    CmdAck = 0xD0, "CMD_ACK";
    CmdNak = 0xD1, "CMD_NAK";
    FlushQueue = 0xD2, "FLUSH_QUEUE";
    CapabilitiesRequest = 0xD3, "CAPABILITIES_REQUEST";
    CapabilitiesReply = 0xD4, "CAPABILITIES_REPLY";
    BatchRequest = 0xD5, "BATCH_REQUEST";
    BatchData = 0xD6, "BATCH_DATA";
    CmdAckAction = 0xD8, "CMD_ACK_ACTION";
    StartSession = 0xE4, "START_SESSION";
    StopSession = 0xE5, "STOP_SESSION";
    Beep = 0xE6, "BEEP";
    LedOn = 0xE7, "LED_ON";
    LedOff = 0xE8, "LED_OFF";
    ScanEnable = 0xE9, "SCAN_ENABLE";
    ScanDisable = 0xEA, "SCAN_DISABLE";
    Sleep = 0xEB, "SLEEP";
    DecodeData = 0xF3, "DECODE_DATA";
    Event = 0xF6, "EVENT";
    ImagerMode = 0xF7, "IMAGER_MODE";
}

/// Who sent a packet (§2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The scan engine (0x00).
    Decoder,
    /// The host (0x04).
    Host,
}

impl Source {
    /// The wire byte.
    pub const fn to_u8(self) -> u8 {
        match self {
            Self::Decoder => 0x00,
            Self::Host => 0x04,
        }
    }
}

/// CMD_NAK cause (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NakCause {
    /// 1: checksum failure, resend.
    Resend,
    /// 2: unexpected or unknown message.
    BadContext,
    /// 6: host directive denied.
    Denied,
    /// 10: undesired message (aborts a multipacket transfer).
    Cancel,
    /// Reserved values.
    Unknown(u8),
}

impl NakCause {
    /// The cause of a byte.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Resend,
            2 => Self::BadContext,
            6 => Self::Denied,
            10 => Self::Cancel,
            other => Self::Unknown(other),
        }
    }
}

/// One SSI packet, its payload borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The opcode.
    pub opcode: Opcode,
    /// The sender.
    pub source: Source,
    /// Status bits (unknown bits kept).
    pub status: u8,
    /// The data bytes.
    pub payload: &'a [u8],
}

impl<'a> Packet<'a> {
    /// A first-transmission host packet.
    pub const fn host(opcode: Opcode, payload: &'a [u8]) -> Self {
        Self { opcode, source: Source::Host, status: 0, payload }
    }

    /// Whether the retransmit bit is set.
    pub const fn is_retransmit(&self) -> bool {
        self.status & STATUS_RETRANSMIT != 0
    }

    /// Whether more packets of this message follow.
    pub const fn is_continued(&self) -> bool {
        self.status & STATUS_CONTINUATION != 0
    }

    /// For DECODE_DATA: the bar code type byte and the data after it.
    pub fn decode_data(&self) -> Option<(u8, &'a [u8])> {
        if self.opcode != Opcode::DecodeData {
            return None;
        }
        self.payload.split_first().map(|(t, d)| (*t, d))
    }

    /// For CMD_NAK: the cause.
    pub fn nak_cause(&self) -> Option<NakCause> {
        (self.opcode == Opcode::CmdNak).then(|| NakCause::from_u8(self.payload.first().copied().unwrap_or(0)))
    }

    /// Bytes this packet takes on the wire.
    pub const fn wire_len(&self) -> usize {
        HEADER_LEN + self.payload.len() + 2
    }
}

/// The SSI checksum of `body` (length byte through the last data byte): the two's complement of
/// the 16-bit byte sum (§2.1; `04 E4 04 00` sums to 0xEC, checksum 0xFF14).
pub fn checksum(body: &[u8]) -> u16 {
    let sum = body.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
    0u16.wrapping_sub(sum)
}

/// Writes `packet` to `out`; returns the number of bytes.
///
/// # Errors
/// [`EncodeError`] when the payload exceeds [`MAX_PAYLOAD`] or `out` is too small.
pub fn encode(packet: &Packet<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    if packet.payload.len() > MAX_PAYLOAD {
        return Err(EncodeError::PayloadTooLong { len: packet.payload.len(), max: MAX_PAYLOAD });
    }
    let total = packet.wire_len();
    let frame = out.get_mut(..total).ok_or(EncodeError::BufferTooSmall { needed: total })?;
    let body_len = total - 2;
    let (body, ck) = frame.split_at_mut(body_len);
    if let [len, op, src, status, data @ ..] = body {
        *len = body_len as u8;
        *op = packet.opcode.to_u8();
        *src = packet.source.to_u8();
        *status = packet.status;
        data.copy_from_slice(packet.payload);
    }
    ck.copy_from_slice(&checksum(body).to_be_bytes());
    Ok(total)
}

/// Parses the packet at the start of `buf`; returns it and its length on the wire.
///
/// # Errors
/// [`FrameError::Incomplete`] for a valid prefix; [`FrameError::BadLength`] for a length byte
/// below 4; [`FrameError::BadField`] for a message source other than 0x00/0x04;
/// [`FrameError::BadChecksum`].
pub fn parse(buf: &[u8]) -> Result<(Packet<'_>, usize), FrameError> {
    let &len = buf.first().ok_or(FrameError::Incomplete)?;
    let len = usize::from(len);
    if len < HEADER_LEN {
        return Err(FrameError::BadLength { offset: 0, found: len, reason: "at least the 4 header bytes" });
    }
    let source = match buf.get(2) {
        None => return Err(FrameError::Incomplete),
        Some(0x00) => Source::Decoder,
        Some(0x04) => Source::Host,
        Some(&found) => return Err(FrameError::BadField { offset: 2, field: "message source", found }),
    };
    let body = buf.get(..len).ok_or(FrameError::Incomplete)?;
    let ck = buf.get(len..len + 2).ok_or(FrameError::Incomplete)?;
    let found = u16::from_be_bytes([ck.first().copied().unwrap_or(0), ck.get(1).copied().unwrap_or(0)]);
    let expected = checksum(body);
    if found != expected {
        return Err(FrameError::BadChecksum { offset: len, expected, found });
    }
    let opcode = Opcode::from_u8(body.get(1).copied().unwrap_or(0));
    let status = body.get(3).copied().unwrap_or(0);
    let payload = body.get(HEADER_LEN..).unwrap_or(&[]);
    Ok((Packet { opcode, source, status, payload }, len + 2))
}

/// The SSI packet format for [`stream::Decoder`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Ssi;

impl stream::Format for Ssi {
    type Frame<'a> = Packet<'a>;
    const MAX_FRAME: usize = MAX_PACKET;

    fn parse(buf: &[u8]) -> Result<(Packet<'_>, usize), FrameError> {
        parse(buf)
    }
}

/// A streaming SSI decoder with room for the longest packet.
pub type SsiDecoder = stream::Decoder<Ssi, MAX_PACKET>;

/// A PARAM_SEND parameter number (§2.5): 0-239 one byte, 256-495 `F0 n-256`, 512-751
/// `F1 n-512`, 768-1007 `F2 n-768`, 1024 and above `F8 hi lo`.
///
/// Writes the encoding into `out` and returns its length, or `None` for an unencodable number
/// (240-255, 496-511, ...) or a short `out`.
pub fn encode_param_number(number: u16, out: &mut [u8]) -> Option<usize> {
    let bytes: &[u8] = match number {
        0..=239 => &[number as u8],
        256..=495 => &[0xF0, (number - 256) as u8],
        512..=751 => &[0xF1, (number - 512) as u8],
        768..=1007 => &[0xF2, (number - 768) as u8],
        1024.. => &[0xF8, (number >> 8) as u8, number as u8],
        _ => return None,
    };
    out.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(bytes.len())
}

/// A parameter value in PARAM_SEND data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamValue<'a> {
    /// One byte.
    Byte(u8),
    /// A 16-bit word (`F4` prefix).
    Word(u16),
    /// A string (`F3`) or array (`F6`) of bytes.
    Bytes(&'a [u8]),
}

/// One parameter of PARAM_SEND data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter number.
    pub number: u16,
    /// Its value.
    pub value: ParamValue<'a>,
}

/// Iterator over the parameters of PARAM_SEND data (after the beep byte), §2.5.
/// Yields `Err` with the offset of a truncated or unsupported entry (multi-packet `F7`) and stops.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Params<'a> {
    /// Iterates over `data` (PARAM_SEND payload without the leading beep code).
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.pos..self.pos + n)?;
        self.pos += n;
        Some(s)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).and_then(|s| s.first().copied())
    }

    fn entry(&mut self) -> Option<Param<'a>> {
        let first = self.byte()?;
        let (typed, number) = match first {
            0xF0..=0xF2 => (None, 256 * u16::from(first - 0xF0 + 1) + u16::from(self.byte()?)),
            0xF3 | 0xF4 | 0xF6 => (Some(first), u16::from(self.byte()?)),
            0xF8 => {
                let hi = self.byte()?;
                (None, u16::from_be_bytes([hi, self.byte()?]))
            }
            0xF5 | 0xF7 | 0xF9..=0xFF => return None,
            n => (None, u16::from(n)),
        };
        // A typed number uses the same F0-F2 prefixes for numbers above 255.
        let number = match (typed, number) {
            (Some(_), n @ 0xF0..=0xF2) => 256 * (n - 0xF0 + 1) + u16::from(self.byte()?),
            (_, n) => n,
        };
        let value = match typed {
            None => ParamValue::Byte(self.byte()?),
            Some(0xF4) => {
                let hi = self.byte()?;
                ParamValue::Word(u16::from_be_bytes([hi, self.byte()?]))
            }
            Some(_) => {
                let len = usize::from(self.byte()?);
                ParamValue::Bytes(self.take(len)?)
            }
        };
        Some(Param { number, value })
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.data.len() {
            return None;
        }
        let start = self.pos;
        match self.entry() {
            Some(p) => Some(Ok(p)),
            None => {
                self.pos = self.data.len();
                let found = self.data.get(start).copied().unwrap_or(0);
                Some(Err(FrameError::BadField { offset: start, field: "parameter", found }))
            }
        }
    }
}

/// Joins the DECODE_DATA packets of a multipacket message (status bit 1 on all but the last,
/// §2.3) into one buffer of `N` bytes.
#[derive(Debug, Clone)]
pub struct DecodeAssembler<const N: usize = 1024> {
    buf: [u8; N],
    len: usize,
    code_type: Option<u8>,
    overflow: bool,
}

/// A complete decode: bar code type and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decode<'a> {
    /// SSI bar code type of the first packet (the table per engine is in §2.4).
    pub code_type: u8,
    /// The data of all packets joined.
    pub data: &'a [u8],
    /// Whether the last packet had the retransmit bit (the host's ACK was late: a duplicate
    /// of the previous decode is likely, §2.3).
    pub retransmit: bool,
}

/// Why a multipacket message could not be assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// The joined data is longer than the buffer.
    #[error("decode data longer than {capacity} bytes")]
    TooLong {
        /// The buffer size.
        capacity: usize,
    },
    /// A DECODE_DATA packet without a bar code type byte.
    #[error("DECODE_DATA without a bar code type")]
    Empty,
}

impl<const N: usize> Default for DecodeAssembler<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> DecodeAssembler<N> {
    /// An empty assembler.
    pub const fn new() -> Self {
        Self { buf: [0; N], len: 0, code_type: None, overflow: false }
    }

    /// Adds a DECODE_DATA packet (others are ignored, returning `Ok(None)`); returns the whole
    /// decode when this packet was the last one.
    ///
    /// # Errors
    /// [`AssembleError`] for an empty packet or data longer than `N`; the partial message is
    /// dropped.
    pub fn push(&mut self, packet: &Packet<'_>) -> Result<Option<Decode<'_>>, AssembleError> {
        let Some((code_type, data)) = packet.decode_data() else {
            if packet.opcode == Opcode::DecodeData {
                self.reset();
                return Err(AssembleError::Empty);
            }
            return Ok(None);
        };
        if self.code_type.is_none() {
            self.len = 0;
            self.overflow = false;
            self.code_type = Some(code_type);
        }
        match self.buf.get_mut(self.len..self.len + data.len()) {
            Some(dst) => {
                dst.copy_from_slice(data);
                self.len += data.len();
            }
            None => self.overflow = true,
        }
        if packet.is_continued() {
            return Ok(None);
        }
        let code_type = self.code_type.take().unwrap_or(code_type);
        if core::mem::take(&mut self.overflow) {
            self.len = 0;
            return Err(AssembleError::TooLong { capacity: N });
        }
        Ok(Some(Decode {
            code_type,
            data: self.buf.get(..self.len).unwrap_or(&[]),
            retransmit: packet.is_retransmit(),
        }))
    }

    /// The data of the message completed last by [`Self::push`] (empty while one is partial).
    pub fn completed(&self) -> &[u8] {
        if self.code_type.is_some() { &[] } else { self.buf.get(..self.len).unwrap_or(&[]) }
    }

    /// Drops a partial message (after a NAK CANCEL or a timeout).
    pub fn reset(&mut self) {
        self.len = 0;
        self.code_type = None;
        self.overflow = false;
    }
}
