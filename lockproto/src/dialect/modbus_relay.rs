//! Modbus RTU relay boards used as lock boards (`modbus_rtu_relay`, reference/lockboards.md §7).
//!
//! Standard Modbus RTU: a coil is a lock's relay, a discrete input a door sensor. Two kinds of
//! board are seen in lockers ([`ModbusRelayKind`]):
//!
//! * **Waveshare Modbus RTU Relay (D)** (Open-Locker until its ADR-0067): factory address 1,
//!   9600 8N1, relays = coils `0x0000..`, inputs = discrete inputs `0x0000..`, coil `0x00FF`
//!   switches all relays (write only), and a vendor **timed pulse**: FC05 to coil `0x0200 + n`
//!   ("flash on") or `0x0400 + n` ("flash off") with value = delay in 100 ms units, e.g.
//!   `01 05 02 00 00 07 8D B0` = relay 0 on for 700 ms (vector v143, Waveshare wiki).
//!   The board also keeps its UART settings at holding register `0x2000` and its address at
//!   `0x4000` (FC03 / FC06), and answers a *broadcast* FC03 read of `0x4000` when it is alone
//!   on the bus (`00 03 40 00 00 01 90 1B`, Waveshare wiki as quoted in public drivers).
//! * **Generic relay boards** (LCTech style, factory address `0xFF`): plain coils, FC05 is echoed
//!   (`FF 05 00 00 FF 00 99 E4`, CSDN `weixin_43176183/112915034`).
//!
//! # Frames
//!
//! | function | request | reply |
//! |---|---|---|
//! | `01` read coils | `id 01 addr:2 count:2 crc:2` | `id 01 n bits:n crc:2` |
//! | `02` read discrete inputs | `id 02 addr:2 count:2 crc:2` | `id 02 n bits:n crc:2` |
//! | `03` read holding registers | `id 03 addr:2 count:2 crc:2` | `id 03 n words:n crc:2` |
//! | `05` write single coil | `id 05 addr:2 value:2 crc:2` | the same bytes (echo) |
//! | `06` write single register | `id 06 addr:2 value:2 crc:2` | the same bytes (echo) |
//! | `0F` write multiple coils | `id 0F addr:2 count:2 n bits:n crc:2` | `id 0F addr:2 count:2 crc:2` |
//! | exception | — | `id (fc│80) code crc:2` |
//!
//! Numbers are big-endian; the CRC is CRC-16/MODBUS, **low byte first**. Bit `i` of a bit field
//! is coil/input `addr + i`, least significant bit of the first byte first. Unit id 0 is a
//! broadcast: writes to it draw no reply ([`ReplyExpectation::None`]).
//!
//! # Decoding choices
//!
//! * A request's length follows from its function code (and byte count for `0F`), a reply's from
//!   its function code and byte count, so replies decode without a pending request. With one,
//!   [`Dialect::decode_reply`] checks unit id, function, byte count (`ceil(count / 8)` for
//!   `01`/`02`, `2 × count` for `03`) and the echo of `05`/`06`/`0F` ([`FrameError::Mismatch`]).
//! * Bit fields are kept as a [`LockSet`] whose member `i + 1` is bit `i`, so this dialect takes
//!   at most [`MAX_BITS`] bits (16 bytes) and [`MAX_REGISTERS`] registers per frame: what relay
//!   boards with up to 128 channels need. Longer standard frames are rejected, as are padding
//!   bits that are not zero in a write (they could not be re-encoded).
//! * On a Waveshare board FC05 to `0x0200..=0x027F` / `0x0400..=0x047F` decodes as
//!   [`ModbusRelayRequest::FlashOn`] / [`ModbusRelayRequest::FlashOff`]; on a generic board (or
//!   above channel 128) the same bytes are a plain [`ModbusRelayRequest::WriteSingleCoil`]. The
//!   encoder refuses the other spelling (`WriteSingleCoil` to a flash address on a Waveshare
//!   board, `FlashOn` on a generic board), so every message has exactly one frame.
//! * FC05 values are kept raw: standard `FF00` / `0000`, Waveshare's toggle `5500`, and the
//!   non-standard `0100` that some V1 manuals use are all accepted.
//!
//! # Neutral mapping (lock `n` = coil `n - 1` = discrete input `n - 1`)
//!
//! | [`Command`] | request |
//! |---|---|
//! | `Unlock(lock)` | Waveshare: `FlashOn` with [`ModbusRelay::unlock_pulse_100ms`]; generic: [`EncodeError::Unsupported`] |
//! | `QueryAll`, `QueryLock(lock)` | FC02 read of inputs `0..channels` |
//!
//! * **Unlock on generic boards is unsupported on purpose.** They only have "relay on" and
//!   "relay off"; the pulse would have to be timed by the master between two writes, and a
//!   crash, restart or lost frame in between leaves a lock solenoid energised indefinitely
//!   (Open-Locker ADR-0004, which made them drop such boards). The Waveshare flash command puts
//!   the timer on the board, so one frame is one bounded pulse.
//! * **Queries read the door sensors.** A coil only says that the relay is energised right now,
//!   which is no evidence of a door; the discrete inputs are. `QueryLock` reads every channel
//!   from input 0 too, because a reply carries no start address: [`Dialect::response`] can only
//!   name channels when the read starts at input 0. The reading comes back as
//!   [`BoardStatus::doors`] (raw: active = input on); `locks` is left unreported because these
//!   boards have no lock feedback. Replies to FC01 and FC03 have no neutral meaning.
//! * `UnlockMany` / `UnlockAll` are unsupported: a Modbus frame pulses one coil, and switching
//!   all relays (`0x00FF`) on at once is neither timed nor bounded in power.
//!
//! # Example
//!
//! ```
//! use lockproto::dialect::modbus_relay::{ModbusRelay, ModbusRelayRequest};
//! use lockproto::{Command, Dialect, Lock};
//!
//! // A Waveshare board at unit 1; unlock lock 1 with a 700 ms pulse (vector v143).
//! let relay = ModbusRelay { unlock_pulse_100ms: 7, ..ModbusRelay::default() };
//! let lock = Lock::new(1).unwrap();
//! let request = relay.request(1, &Command::Unlock(lock)).unwrap();
//! assert_eq!(request, ModbusRelayRequest::FlashOn { board: 1, lock, delay_100ms: 7 });
//! let mut frame = [0u8; 8];
//! relay.encode_request(&request, &mut frame).unwrap();
//! assert_eq!(frame, [0x01, 0x05, 0x02, 0x00, 0x00, 0x07, 0x8D, 0xB0]);
//! ```

use core::fmt;

use crate::checksum::crc16_modbus;
use crate::dialect::{Decoded, Dialect, ReplyExpectation};
use crate::error::{EncodeError, FrameError};
use crate::model::{BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, Lock, LockSet, Response};
use crate::wire::{Reader, Writer};

/// Serial speed, 8N1: the factory setting of Waveshare boards (Open-Locker
/// `WAVESHARE_INTEGRATION.md`, `baudRate: 9600`) and of LCTech-style boards.
pub const BAUD_RATE: u32 = 9600;

/// The Modbus RTU inter-frame silence, in tenths of a character time (3.5 characters; Modbus over
/// Serial Line V1.02 §2.5.1.1).
pub const INTER_FRAME_GAP_TENTHS_OF_CHAR: u32 = 35;

/// The inter-frame silence at [`BAUD_RATE`], in microseconds: [`inter_frame_gap_us`]`(9600)`.
pub const INTER_FRAME_GAP_US: u32 = inter_frame_gap_us(BAUD_RATE);

/// How long Open-Locker waits for a Waveshare reply (`timeout: 1000` in its example config).
pub const RESPONSE_TIMEOUT_MS: u32 = 1000;

/// The broadcast unit id: every board obeys a write to it and none replies.
pub const BROADCAST: u8 = 0;

/// Waveshare's factory unit id.
pub const WAVESHARE_DEFAULT_ADDRESS: u8 = 1;

/// LCTech-style boards' factory unit id.
pub const GENERIC_DEFAULT_ADDRESS: u8 = 0xFF;

/// FC05 value that switches a coil on.
pub const COIL_ON: u16 = 0xFF00;

/// FC05 value that switches a coil off.
pub const COIL_OFF: u16 = 0x0000;

/// Waveshare FC05 value that toggles a relay.
pub const WAVESHARE_COIL_TOGGLE: u16 = 0x5500;

/// Waveshare coil that switches every relay (write only).
pub const WAVESHARE_ALL_RELAYS_COIL: u16 = 0x00FF;

/// Waveshare "flash on" coils start here: `0x0200 + relay` (relay 0-based).
pub const WAVESHARE_FLASH_ON_BASE: u16 = 0x0200;

/// Waveshare "flash off" coils start here: `0x0400 + relay`.
pub const WAVESHARE_FLASH_OFF_BASE: u16 = 0x0400;

/// Waveshare holding register with the UART settings (parity high byte, baud code low byte).
pub const WAVESHARE_UART_REGISTER: u16 = 0x2000;

/// Waveshare holding register with the board's unit id.
pub const WAVESHARE_ADDRESS_REGISTER: u16 = 0x4000;

/// Waveshare holding register with the firmware version (`0x0064` = V1.00).
pub const WAVESHARE_VERSION_REGISTER: u16 = 0x8000;

/// Default relay channels (Waveshare Modbus RTU Relay (D): 8 relays, 8 inputs).
pub const DEFAULT_CHANNELS: u8 = 8;

/// Default unlock pulse, in 100 ms units (500 ms).
pub const DEFAULT_UNLOCK_PULSE_100MS: u16 = 5;

/// The most coils or inputs one frame may carry here (16 bytes of bits).
pub const MAX_BITS: u16 = 128;

/// The most holding registers one frame may carry here.
pub const MAX_REGISTERS: usize = 32;

/// The Modbus RTU inter-frame silence at `baud`, in microseconds, rounded up: 3.5 characters of
/// 11 bits, or the fixed 1750 µs the specification prescribes above 19200 baud. `0` for `baud` 0.
pub const fn inter_frame_gap_us(baud: u32) -> u32 {
    if baud == 0 {
        return 0;
    }
    if baud > 19_200 {
        return 1750;
    }
    let bit_tenths = INTER_FRAME_GAP_TENTHS_OF_CHAR as u64 * 11 * 1_000_000;
    let per = 10 * baud as u64;
    bit_tenths.div_ceil(per) as u32
}

mod function {
    pub const READ_COILS: u8 = 0x01;
    pub const READ_DISCRETE_INPUTS: u8 = 0x02;
    pub const READ_HOLDING_REGISTERS: u8 = 0x03;
    pub const WRITE_SINGLE_COIL: u8 = 0x05;
    pub const WRITE_SINGLE_REGISTER: u8 = 0x06;
    pub const WRITE_MULTIPLE_COILS: u8 = 0x0F;
    pub const EXCEPTION: u8 = 0x80;

    pub const fn supported(code: u8) -> bool {
        matches!(
            code,
            READ_COILS
                | READ_DISCRETE_INPUTS
                | READ_HOLDING_REGISTERS
                | WRITE_SINGLE_COIL
                | WRITE_SINGLE_REGISTER
                | WRITE_MULTIPLE_COILS
        )
    }
}

/// Unit id, function, two 16-bit fields, CRC.
const FIXED_LEN: usize = 8;
/// Unit id, function, code, CRC.
const EXCEPTION_LEN: usize = 5;
const CRC_LEN: usize = 2;

/// Which kind of board is on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum ModbusRelayKind {
    /// Waveshare Modbus RTU Relay: the flash coils are timed pulses.
    #[default]
    Waveshare,
    /// Any other Modbus relay board: coils are plain on/off.
    Generic,
}

/// A Modbus exception code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ModbusException {
    /// `01`: the function is not supported.
    IllegalFunction,
    /// `02`: the address is not valid.
    IllegalDataAddress,
    /// `03`: a value in the request is not valid.
    IllegalDataValue,
    /// `04`: the device failed.
    ServerDeviceFailure,
    /// `05`: accepted, still working.
    Acknowledge,
    /// `06`: busy.
    ServerDeviceBusy,
    /// `08`: memory parity error.
    MemoryParityError,
    /// `0A`: gateway path unavailable.
    GatewayPathUnavailable,
    /// `0B`: gateway target did not respond.
    GatewayTargetFailedToRespond,
    /// Any other code.
    Unknown {
        /// The code.
        code: u8,
    },
}

impl ModbusException {
    /// The exception a wire code stands for.
    pub const fn from_code(code: u8) -> Self {
        match code {
            0x01 => ModbusException::IllegalFunction,
            0x02 => ModbusException::IllegalDataAddress,
            0x03 => ModbusException::IllegalDataValue,
            0x04 => ModbusException::ServerDeviceFailure,
            0x05 => ModbusException::Acknowledge,
            0x06 => ModbusException::ServerDeviceBusy,
            0x08 => ModbusException::MemoryParityError,
            0x0A => ModbusException::GatewayPathUnavailable,
            0x0B => ModbusException::GatewayTargetFailedToRespond,
            code => ModbusException::Unknown { code },
        }
    }

    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            ModbusException::IllegalFunction => 0x01,
            ModbusException::IllegalDataAddress => 0x02,
            ModbusException::IllegalDataValue => 0x03,
            ModbusException::ServerDeviceFailure => 0x04,
            ModbusException::Acknowledge => 0x05,
            ModbusException::ServerDeviceBusy => 0x06,
            ModbusException::MemoryParityError => 0x08,
            ModbusException::GatewayPathUnavailable => 0x0A,
            ModbusException::GatewayTargetFailedToRespond => 0x0B,
            ModbusException::Unknown { code } => code,
        }
    }

    /// The neutral class of the exception.
    pub const fn kind(self) -> DeviceErrorKind {
        match self {
            ModbusException::IllegalFunction => DeviceErrorKind::UnknownCommand,
            ModbusException::IllegalDataAddress | ModbusException::IllegalDataValue => DeviceErrorKind::InvalidArgument,
            ModbusException::ServerDeviceFailure | ModbusException::MemoryParityError => DeviceErrorKind::Failed,
            ModbusException::Acknowledge | ModbusException::ServerDeviceBusy => DeviceErrorKind::Busy,
            ModbusException::GatewayTargetFailedToRespond => DeviceErrorKind::Timeout,
            ModbusException::GatewayPathUnavailable | ModbusException::Unknown { .. } => DeviceErrorKind::Other,
        }
    }
}

/// The register values of an FC03 reply (1..=[`MAX_REGISTERS`] of them).
///
/// Serialized as a list of numbers.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegisterValues {
    len: u8,
    // Values past `len` stay zero, so the derived equality compares only the carried ones.
    values: [u16; MAX_REGISTERS],
}

impl Default for RegisterValues {
    fn default() -> Self {
        RegisterValues::new()
    }
}

impl RegisterValues {
    /// No values.
    pub const fn new() -> Self {
        RegisterValues { len: 0, values: [0; MAX_REGISTERS] }
    }

    /// The values of `values`, or `None` above [`MAX_REGISTERS`].
    pub fn from_slice(values: &[u16]) -> Option<Self> {
        let mut list = RegisterValues::new();
        for value in values {
            list.push(*value).ok()?;
        }
        Some(list)
    }

    /// Appends a value.
    ///
    /// # Errors
    /// [`EncodeError::OutOfRange`] when the list already holds [`MAX_REGISTERS`] values.
    pub fn push(&mut self, value: u16) -> Result<(), EncodeError> {
        let full = EncodeError::OutOfRange {
            field: "registers",
            value: MAX_REGISTERS as u32 + 1,
            reason: "at most 32 registers",
        };
        let slot = self.values.get_mut(usize::from(self.len)).ok_or(full)?;
        *slot = value;
        self.len += 1;
        Ok(())
    }

    /// The values.
    pub fn as_slice(&self) -> &[u16] {
        self.values.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Number of values.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for RegisterValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for RegisterValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for RegisterValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RegisterValues;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of at most 32 register values")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<RegisterValues, A::Error> {
                let mut list = RegisterValues::new();
                while let Some(value) = seq.next_element::<u16>()? {
                    list.push(value).map_err(|_| serde::de::Error::custom("more than 32 register values"))?;
                }
                Ok(list)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for RegisterValues {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = u.int_in_range(1..=MAX_REGISTERS)?;
        let mut list = RegisterValues::new();
        for _ in 0..len {
            list.push(u16::arbitrary(u)?).map_err(|_| arbitrary::Error::IncorrectFormat)?;
        }
        Ok(list)
    }
}

/// Master → board messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ModbusRelayRequest {
    /// FC01: read relay states.
    ReadCoils {
        /// Unit id.
        board: u8,
        /// First coil.
        address: u16,
        /// Number of coils, `1..=128`.
        count: u16,
    },
    /// FC02: read inputs (door sensors).
    ReadDiscreteInputs {
        /// Unit id.
        board: u8,
        /// First input.
        address: u16,
        /// Number of inputs, `1..=128`.
        count: u16,
    },
    /// FC03: read holding registers (Waveshare: UART settings, address, version).
    ReadHoldingRegisters {
        /// Unit id.
        board: u8,
        /// First register.
        address: u16,
        /// Number of registers, `1..=32`.
        count: u16,
    },
    /// FC05 with its raw coil address and value ([`COIL_ON`], [`COIL_OFF`], ...).
    WriteSingleCoil {
        /// Unit id.
        board: u8,
        /// Coil address.
        address: u16,
        /// Value.
        value: u16,
    },
    /// Waveshare FC05 to `0x0200 + lock - 1`: relay on, back off after the delay.
    FlashOn {
        /// Unit id.
        board: u8,
        /// The lock (relay `lock - 1`).
        lock: Lock,
        /// Pulse length in 100 ms units.
        delay_100ms: u16,
    },
    /// Waveshare FC05 to `0x0400 + lock - 1`: relay off, back on after the delay.
    FlashOff {
        /// Unit id.
        board: u8,
        /// The lock (relay `lock - 1`).
        lock: Lock,
        /// Delay in 100 ms units.
        delay_100ms: u16,
    },
    /// FC06: write a holding register.
    WriteSingleRegister {
        /// Unit id.
        board: u8,
        /// Register address.
        address: u16,
        /// Value.
        value: u16,
    },
    /// FC0F: write several coils.
    WriteMultipleCoils {
        /// Unit id.
        board: u8,
        /// First coil.
        address: u16,
        /// Number of coils, `1..=128`.
        count: u16,
        /// The coils to switch on: member `i + 1` is coil `address + i`.
        values: LockSet,
    },
}

impl ModbusRelayRequest {
    /// The unit id.
    pub const fn board(&self) -> u8 {
        match *self {
            ModbusRelayRequest::ReadCoils { board, .. }
            | ModbusRelayRequest::ReadDiscreteInputs { board, .. }
            | ModbusRelayRequest::ReadHoldingRegisters { board, .. }
            | ModbusRelayRequest::WriteSingleCoil { board, .. }
            | ModbusRelayRequest::FlashOn { board, .. }
            | ModbusRelayRequest::FlashOff { board, .. }
            | ModbusRelayRequest::WriteSingleRegister { board, .. }
            | ModbusRelayRequest::WriteMultipleCoils { board, .. } => board,
        }
    }

    /// The function code.
    pub const fn function(&self) -> u8 {
        match self {
            ModbusRelayRequest::ReadCoils { .. } => function::READ_COILS,
            ModbusRelayRequest::ReadDiscreteInputs { .. } => function::READ_DISCRETE_INPUTS,
            ModbusRelayRequest::ReadHoldingRegisters { .. } => function::READ_HOLDING_REGISTERS,
            ModbusRelayRequest::WriteSingleCoil { .. }
            | ModbusRelayRequest::FlashOn { .. }
            | ModbusRelayRequest::FlashOff { .. } => function::WRITE_SINGLE_COIL,
            ModbusRelayRequest::WriteSingleRegister { .. } => function::WRITE_SINGLE_REGISTER,
            ModbusRelayRequest::WriteMultipleCoils { .. } => function::WRITE_MULTIPLE_COILS,
        }
    }

    /// The two 16-bit fields after the function code: address and count or value.
    pub const fn fields(&self) -> (u16, u16) {
        match *self {
            ModbusRelayRequest::ReadCoils { address, count, .. }
            | ModbusRelayRequest::ReadDiscreteInputs { address, count, .. }
            | ModbusRelayRequest::ReadHoldingRegisters { address, count, .. }
            | ModbusRelayRequest::WriteMultipleCoils { address, count, .. } => (address, count),
            ModbusRelayRequest::WriteSingleCoil { address, value, .. }
            | ModbusRelayRequest::WriteSingleRegister { address, value, .. } => (address, value),
            ModbusRelayRequest::FlashOn { lock, delay_100ms, .. } => {
                (WAVESHARE_FLASH_ON_BASE + lock.index() as u16, delay_100ms)
            }
            ModbusRelayRequest::FlashOff { lock, delay_100ms, .. } => {
                (WAVESHARE_FLASH_OFF_BASE + lock.index() as u16, delay_100ms)
            }
        }
    }
}

/// Board → master messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ModbusRelayReply {
    /// FC01 reply: relay states.
    ReadCoils {
        /// Unit id.
        board: u8,
        /// Bytes of bits (`1..=16`).
        byte_count: u8,
        /// Coils that are on: member `i + 1` is the request's coil `address + i`.
        bits: LockSet,
    },
    /// FC02 reply: input states.
    ReadDiscreteInputs {
        /// Unit id.
        board: u8,
        /// Bytes of bits (`1..=16`).
        byte_count: u8,
        /// Inputs that are on: member `i + 1` is the request's input `address + i`.
        bits: LockSet,
    },
    /// FC03 reply.
    ReadHoldingRegisters {
        /// Unit id.
        board: u8,
        /// The values.
        values: RegisterValues,
    },
    /// FC05 echo.
    WriteSingleCoil {
        /// Unit id.
        board: u8,
        /// Coil address.
        address: u16,
        /// Value.
        value: u16,
    },
    /// Echo of a Waveshare flash-on write.
    FlashOn {
        /// Unit id.
        board: u8,
        /// The lock.
        lock: Lock,
        /// Pulse length in 100 ms units.
        delay_100ms: u16,
    },
    /// Echo of a Waveshare flash-off write.
    FlashOff {
        /// Unit id.
        board: u8,
        /// The lock.
        lock: Lock,
        /// Delay in 100 ms units.
        delay_100ms: u16,
    },
    /// FC06 echo.
    WriteSingleRegister {
        /// Unit id.
        board: u8,
        /// Register address.
        address: u16,
        /// Value.
        value: u16,
    },
    /// FC0F reply.
    WriteMultipleCoils {
        /// Unit id.
        board: u8,
        /// First coil.
        address: u16,
        /// Number of coils written.
        count: u16,
    },
    /// The board refused: function code with bit 7 set.
    Exception {
        /// Unit id.
        board: u8,
        /// The request's function code (without `0x80`).
        function: u8,
        /// Why.
        code: ModbusException,
    },
}

impl ModbusRelayReply {
    /// The unit id.
    pub const fn board(&self) -> u8 {
        match *self {
            ModbusRelayReply::ReadCoils { board, .. }
            | ModbusRelayReply::ReadDiscreteInputs { board, .. }
            | ModbusRelayReply::ReadHoldingRegisters { board, .. }
            | ModbusRelayReply::WriteSingleCoil { board, .. }
            | ModbusRelayReply::FlashOn { board, .. }
            | ModbusRelayReply::FlashOff { board, .. }
            | ModbusRelayReply::WriteSingleRegister { board, .. }
            | ModbusRelayReply::WriteMultipleCoils { board, .. }
            | ModbusRelayReply::Exception { board, .. } => board,
        }
    }
}

/// The Modbus relay dialect with its configuration.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModbusRelay {
    /// Which board: decides whether FC05 to the flash coils is a timed pulse, and whether
    /// [`Command::Unlock`] is possible at all (default: Waveshare).
    pub kind: ModbusRelayKind,
    /// Relay channels = door inputs on the board, `1..=128` (default [`DEFAULT_CHANNELS`]).
    pub channels: u8,
    /// The pulse [`Command::Unlock`] asks a Waveshare board for, in 100 ms units, at least 1
    /// (default [`DEFAULT_UNLOCK_PULSE_100MS`], 500 ms; Open-Locker rounds milliseconds up to
    /// whole 100 ms steps).
    pub unlock_pulse_100ms: u16,
}

impl Default for ModbusRelay {
    fn default() -> Self {
        ModbusRelay {
            kind: ModbusRelayKind::default(),
            channels: DEFAULT_CHANNELS,
            unlock_pulse_100ms: DEFAULT_UNLOCK_PULSE_100MS,
        }
    }
}

const fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported { dialect: ModbusRelay::NAME, what }
}

/// A `BadField` for a 16-bit field: points at the byte that is out of range.
fn bad_u16(offset: usize, field: &'static str, value: u16) -> FrameError {
    let [high, low] = value.to_be_bytes();
    if high != 0 {
        FrameError::BadField { offset, field, found: high }
    } else {
        FrameError::BadField { offset: offset + 1, field, found: low }
    }
}

fn check_crc(r: &Reader<'_>, body_len: usize) -> Result<(), FrameError> {
    let found = u16::from_le_bytes([r.u8(body_len)?, r.u8(body_len + 1)?]);
    let expected = crc16_modbus(r.slice(0, body_len)?);
    if found == expected { Ok(()) } else { Err(FrameError::BadChecksum { offset: body_len, expected, found }) }
}

/// Bytes needed for `bits` bits.
fn bytes_for(bits: u16) -> usize {
    usize::from(bits).div_ceil(8)
}

/// Reads `count` bytes of bits starting at `offset`.
fn read_bits(r: &Reader<'_>, offset: usize, count: usize) -> Result<LockSet, FrameError> {
    let mut bits = LockSet::EMPTY;
    for (i, byte) in r.slice(offset, offset + count)?.iter().enumerate() {
        bits.set_byte(i, *byte);
    }
    Ok(bits)
}

fn write_bits(w: &mut Writer<'_>, bits: LockSet, count: usize) -> Result<(), EncodeError> {
    for i in 0..count {
        w.push(bits.byte(i))?;
    }
    Ok(())
}

fn check_count(field: &'static str, count: u16, max: u16) -> Result<u16, EncodeError> {
    if count == 0 || count > max {
        return Err(EncodeError::OutOfRange {
            field,
            value: count.into(),
            reason: "outside 1..=limit of this dialect",
        });
    }
    Ok(count)
}

/// Refuses sets with members past `bits` bits: they would not survive the wire.
fn check_bits(field: &'static str, set: LockSet, bits: usize) -> Result<(), EncodeError> {
    let allowed = LockSet::first(bits.min(usize::from(MAX_BITS)) as u8);
    if set.intersection(allowed) == set {
        Ok(())
    } else {
        let value = set.last().map_or(0, |lock| u32::from(lock.get()));
        Err(EncodeError::OutOfRange { field, value, reason: "bit beyond the count" })
    }
}

/// Writes unit id, function, `body(w)` and the CRC.
fn write_frame(
    out: &mut [u8],
    board: u8,
    function: u8,
    body: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<usize, EncodeError> {
    let mut w = Writer::new(out);
    w.push(board)?;
    w.push(function)?;
    body(&mut w)?;
    let crc = crc16_modbus(w.written());
    w.extend(&crc.to_le_bytes())?;
    Ok(w.len())
}

fn write_fields(w: &mut Writer<'_>, (first, second): (u16, u16)) -> Result<(), EncodeError> {
    w.extend(&first.to_be_bytes())?;
    w.extend(&second.to_be_bytes())
}

impl ModbusRelay {
    /// The flash command an FC05 coil address stands for on this board, if any.
    fn flash(&self, address: u16) -> Option<(bool, Lock)> {
        if self.kind != ModbusRelayKind::Waveshare {
            return None;
        }
        let (on, base) = match address & 0xFF00 {
            WAVESHARE_FLASH_ON_BASE => (true, WAVESHARE_FLASH_ON_BASE),
            WAVESHARE_FLASH_OFF_BASE => (false, WAVESHARE_FLASH_OFF_BASE),
            _ => return None,
        };
        Lock::from_index(usize::from(address - base)).map(|lock| (on, lock))
    }

    fn single_coil<T>(
        &self,
        board: u8,
        address: u16,
        value: u16,
        flash_on: fn(u8, Lock, u16) -> T,
        flash_off: fn(u8, Lock, u16) -> T,
        plain: fn(u8, u16, u16) -> T,
    ) -> T {
        match self.flash(address) {
            Some((true, lock)) => flash_on(board, lock, value),
            Some((false, lock)) => flash_off(board, lock, value),
            None => plain(board, address, value),
        }
    }

    /// Refuses the spelling of an FC05 write that would decode as another message.
    fn check_single_coil(&self, address: u16) -> Result<(), EncodeError> {
        if self.flash(address).is_some() {
            return Err(EncodeError::OutOfRange {
                field: "address",
                value: address.into(),
                reason: "a Waveshare flash coil: use FlashOn / FlashOff",
            });
        }
        Ok(())
    }

    fn check_flash(&self) -> Result<(), EncodeError> {
        match self.kind {
            ModbusRelayKind::Waveshare => Ok(()),
            ModbusRelayKind::Generic => Err(unsupported("flash (timed pulse) on a generic relay board")),
        }
    }

    fn check_lock(&self, lock: Lock) -> Result<Lock, EncodeError> {
        if lock.get() > self.channels {
            return Err(EncodeError::OutOfRange {
                field: "lock",
                value: lock.get().into(),
                reason: "above the configured channel count",
            });
        }
        Ok(lock)
    }

    fn read_inputs(&self, board: u8) -> Result<ModbusRelayRequest, EncodeError> {
        let count = check_count("channels", self.channels.into(), MAX_BITS)?;
        Ok(ModbusRelayRequest::ReadDiscreteInputs { board, address: 0, count })
    }

    fn door_bits(&self, byte_count: u8, bits: LockSet) -> ChannelBits {
        let carried = (usize::from(byte_count) * 8).min(usize::from(MAX_BITS)) as u8;
        ChannelBits::from_bitmap(carried.min(self.channels), bits)
    }
}

/// Checks that a reply answers `pending`: unit id (unless the request was a broadcast) and
/// function, as soon as those bytes arrive.
fn check_reply_header(r: &Reader<'_>, pending: Option<&ModbusRelayRequest>) -> Result<u8, FrameError> {
    let board = r.u8(0)?;
    let fc = r.u8(1)?;
    let base = fc & !function::EXCEPTION;
    if !function::supported(base) {
        return Err(FrameError::UnknownCommand { offset: 1, found: fc });
    }
    if let Some(request) = pending {
        if request.board() != BROADCAST && board != request.board() {
            return Err(FrameError::Mismatch { offset: 0, field: "unit id", expected: request.board(), found: board });
        }
        if base != request.function() {
            return Err(FrameError::Mismatch { offset: 1, field: "function", expected: request.function(), found: fc });
        }
    }
    Ok(fc)
}

/// Checks the echoed address and value/count of a write reply against `pending`.
fn check_echo(r: &Reader<'_>, pending: Option<&ModbusRelayRequest>) -> Result<(), FrameError> {
    let Some(request) = pending else { return Ok(()) };
    let (first, second) = request.fields();
    let [a, b] = first.to_be_bytes();
    let [c, d] = second.to_be_bytes();
    let field = |offset| if offset < 4 { "address" } else { "value or count" };
    for (offset, expected) in [(2, a), (3, b), (4, c), (5, d)] {
        let found = r.u8(offset)?;
        if found != expected {
            return Err(FrameError::Mismatch { offset, field: field(offset), expected, found });
        }
    }
    Ok(())
}

impl Dialect for ModbusRelay {
    type Request = ModbusRelayRequest;
    type Reply = ModbusRelayReply;
    const NAME: &'static str = "modbus-relay";
    /// An FC03 reply with [`MAX_REGISTERS`] registers: 3 + 64 + 2 bytes.
    const MAX_FRAME_LEN: usize = 3 + 2 * MAX_REGISTERS + CRC_LEN;

    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<ModbusRelayRequest>, FrameError> {
        let r = Reader::new(buf);
        let board = r.u8(0)?;
        let fc = r.u8(1)?;
        if !function::supported(fc) {
            return Err(FrameError::UnknownCommand { offset: 1, found: fc });
        }
        let address = r.u16_be(2)?;
        let second = r.u16_be(4)?;
        let count_limit = match fc {
            function::READ_COILS | function::READ_DISCRETE_INPUTS | function::WRITE_MULTIPLE_COILS => Some(MAX_BITS),
            function::READ_HOLDING_REGISTERS => Some(MAX_REGISTERS as u16),
            _ => None,
        };
        if let Some(max) = count_limit
            && (second == 0 || second > max)
        {
            return Err(bad_u16(4, "count", second));
        }
        let (message, len) = match fc {
            function::READ_COILS => (ModbusRelayRequest::ReadCoils { board, address, count: second }, FIXED_LEN),
            function::READ_DISCRETE_INPUTS => {
                (ModbusRelayRequest::ReadDiscreteInputs { board, address, count: second }, FIXED_LEN)
            }
            function::READ_HOLDING_REGISTERS => {
                (ModbusRelayRequest::ReadHoldingRegisters { board, address, count: second }, FIXED_LEN)
            }
            function::WRITE_SINGLE_COIL => (
                self.single_coil(
                    board,
                    address,
                    second,
                    |board, lock, delay_100ms| ModbusRelayRequest::FlashOn { board, lock, delay_100ms },
                    |board, lock, delay_100ms| ModbusRelayRequest::FlashOff { board, lock, delay_100ms },
                    |board, address, value| ModbusRelayRequest::WriteSingleCoil { board, address, value },
                ),
                FIXED_LEN,
            ),
            function::WRITE_SINGLE_REGISTER => {
                (ModbusRelayRequest::WriteSingleRegister { board, address, value: second }, FIXED_LEN)
            }
            _ => {
                let byte_count = r.u8(6)?;
                let expected = bytes_for(second);
                if usize::from(byte_count) != expected {
                    return Err(FrameError::BadField { offset: 6, field: "byte count", found: byte_count });
                }
                let body = 7 + expected;
                check_crc(&r, body)?;
                let values = read_bits(&r, 7, expected)?;
                if check_bits("values", values, second.into()).is_err() {
                    let offset = 7 + expected - 1;
                    return Err(FrameError::BadField { offset, field: "padding bits", found: r.u8(offset)? });
                }
                return Ok(Decoded {
                    message: ModbusRelayRequest::WriteMultipleCoils { board, address, count: second, values },
                    len: body + CRC_LEN,
                });
            }
        };
        check_crc(&r, FIXED_LEN - CRC_LEN)?;
        Ok(Decoded { message, len })
    }

    /// Decodes a reply. With `pending`, checks unit id (any for a broadcast request), function,
    /// byte count and the echo of writes ([`FrameError::Mismatch`]).
    fn decode_reply(
        &self,
        buf: &[u8],
        pending: Option<&ModbusRelayRequest>,
    ) -> Result<Decoded<ModbusRelayReply>, FrameError> {
        let r = Reader::new(buf);
        let fc = check_reply_header(&r, pending)?;
        let board = r.u8(0)?;
        if fc & function::EXCEPTION != 0 {
            check_crc(&r, EXCEPTION_LEN - CRC_LEN)?;
            let code = ModbusException::from_code(r.u8(2)?);
            let function = fc & !function::EXCEPTION;
            return Ok(Decoded { message: ModbusRelayReply::Exception { board, function, code }, len: EXCEPTION_LEN });
        }
        match fc {
            function::READ_COILS | function::READ_DISCRETE_INPUTS => {
                let byte_count = r.u8(2)?;
                if byte_count == 0 || u16::from(byte_count) * 8 > MAX_BITS {
                    return Err(FrameError::BadField { offset: 2, field: "byte count", found: byte_count });
                }
                if let Some(request) = pending {
                    let expected = bytes_for(request.fields().1);
                    if usize::from(byte_count) != expected {
                        return Err(FrameError::Mismatch {
                            offset: 2,
                            field: "byte count",
                            expected: expected as u8,
                            found: byte_count,
                        });
                    }
                }
                let body = 3 + usize::from(byte_count);
                check_crc(&r, body)?;
                let bits = read_bits(&r, 3, byte_count.into())?;
                let message = if fc == function::READ_COILS {
                    ModbusRelayReply::ReadCoils { board, byte_count, bits }
                } else {
                    ModbusRelayReply::ReadDiscreteInputs { board, byte_count, bits }
                };
                Ok(Decoded { message, len: body + CRC_LEN })
            }
            function::READ_HOLDING_REGISTERS => {
                let byte_count = r.u8(2)?;
                if byte_count == 0 || byte_count % 2 != 0 || usize::from(byte_count) > 2 * MAX_REGISTERS {
                    return Err(FrameError::BadField { offset: 2, field: "byte count", found: byte_count });
                }
                if let Some(request) = pending {
                    let expected = 2 * usize::from(request.fields().1);
                    if usize::from(byte_count) != expected {
                        return Err(FrameError::Mismatch {
                            offset: 2,
                            field: "byte count",
                            expected: expected as u8,
                            found: byte_count,
                        });
                    }
                }
                let body = 3 + usize::from(byte_count);
                check_crc(&r, body)?;
                let mut values = RegisterValues::new();
                for offset in (3..body).step_by(2) {
                    let value = r.u16_be(offset)?;
                    values.push(value).map_err(|_| bad_u16(offset, "register", value))?;
                }
                Ok(Decoded { message: ModbusRelayReply::ReadHoldingRegisters { board, values }, len: body + CRC_LEN })
            }
            _ => {
                check_crc(&r, FIXED_LEN - CRC_LEN)?;
                check_echo(&r, pending)?;
                let address = r.u16_be(2)?;
                let second = r.u16_be(4)?;
                let message = match fc {
                    function::WRITE_SINGLE_COIL => self.single_coil(
                        board,
                        address,
                        second,
                        |board, lock, delay_100ms| ModbusRelayReply::FlashOn { board, lock, delay_100ms },
                        |board, lock, delay_100ms| ModbusRelayReply::FlashOff { board, lock, delay_100ms },
                        |board, address, value| ModbusRelayReply::WriteSingleCoil { board, address, value },
                    ),
                    function::WRITE_SINGLE_REGISTER => {
                        ModbusRelayReply::WriteSingleRegister { board, address, value: second }
                    }
                    _ => {
                        if second == 0 || second > MAX_BITS {
                            return Err(bad_u16(4, "count", second));
                        }
                        ModbusRelayReply::WriteMultipleCoils { board, address, count: second }
                    }
                };
                Ok(Decoded { message, len: FIXED_LEN })
            }
        }
    }

    fn encode_request(&self, request: &ModbusRelayRequest, out: &mut [u8]) -> Result<usize, EncodeError> {
        let fields = request.fields();
        match *request {
            ModbusRelayRequest::ReadCoils { count, .. } | ModbusRelayRequest::ReadDiscreteInputs { count, .. } => {
                check_count("count", count, MAX_BITS)?;
            }
            ModbusRelayRequest::ReadHoldingRegisters { count, .. } => {
                check_count("count", count, MAX_REGISTERS as u16)?;
            }
            ModbusRelayRequest::WriteSingleCoil { address, .. } => self.check_single_coil(address)?,
            ModbusRelayRequest::FlashOn { .. } | ModbusRelayRequest::FlashOff { .. } => self.check_flash()?,
            ModbusRelayRequest::WriteSingleRegister { .. } => {}
            ModbusRelayRequest::WriteMultipleCoils { count, values, .. } => {
                check_count("count", count, MAX_BITS)?;
                check_bits("values", values, count.into())?;
                let bytes = bytes_for(count);
                return write_frame(out, request.board(), request.function(), |w| {
                    write_fields(w, fields)?;
                    w.push(bytes as u8)?;
                    write_bits(w, values, bytes)
                });
            }
        }
        write_frame(out, request.board(), request.function(), |w| write_fields(w, fields))
    }

    fn encode_reply(&self, reply: &ModbusRelayReply, out: &mut [u8]) -> Result<usize, EncodeError> {
        let board = reply.board();
        match *reply {
            ModbusRelayReply::ReadCoils { byte_count, bits, .. }
            | ModbusRelayReply::ReadDiscreteInputs { byte_count, bits, .. } => {
                let fc = if matches!(reply, ModbusRelayReply::ReadCoils { .. }) {
                    function::READ_COILS
                } else {
                    function::READ_DISCRETE_INPUTS
                };
                check_count("byte count", byte_count.into(), MAX_BITS / 8)?;
                check_bits("bits", bits, usize::from(byte_count) * 8)?;
                write_frame(out, board, fc, |w| {
                    w.push(byte_count)?;
                    write_bits(w, bits, byte_count.into())
                })
            }
            ModbusRelayReply::ReadHoldingRegisters { ref values, .. } => {
                check_count("registers", values.len() as u16, MAX_REGISTERS as u16)?;
                write_frame(out, board, function::READ_HOLDING_REGISTERS, |w| {
                    w.push(2 * values.len() as u8)?;
                    values.as_slice().iter().try_for_each(|value| w.extend(&value.to_be_bytes()))
                })
            }
            ModbusRelayReply::WriteSingleCoil { address, value, .. } => {
                self.check_single_coil(address)?;
                write_frame(out, board, function::WRITE_SINGLE_COIL, |w| write_fields(w, (address, value)))
            }
            ModbusRelayReply::FlashOn { lock, delay_100ms, board } => {
                self.check_flash()?;
                let fields = ModbusRelayRequest::FlashOn { board, lock, delay_100ms }.fields();
                write_frame(out, board, function::WRITE_SINGLE_COIL, |w| write_fields(w, fields))
            }
            ModbusRelayReply::FlashOff { lock, delay_100ms, board } => {
                self.check_flash()?;
                let fields = ModbusRelayRequest::FlashOff { board, lock, delay_100ms }.fields();
                write_frame(out, board, function::WRITE_SINGLE_COIL, |w| write_fields(w, fields))
            }
            ModbusRelayReply::WriteSingleRegister { address, value, .. } => {
                write_frame(out, board, function::WRITE_SINGLE_REGISTER, |w| write_fields(w, (address, value)))
            }
            ModbusRelayReply::WriteMultipleCoils { address, count, .. } => {
                check_count("count", count, MAX_BITS)?;
                write_frame(out, board, function::WRITE_MULTIPLE_COILS, |w| write_fields(w, (address, count)))
            }
            ModbusRelayReply::Exception { function: fc, code, .. } => {
                if !function::supported(fc) {
                    return Err(EncodeError::OutOfRange {
                        field: "function",
                        value: fc.into(),
                        reason: "one of 01, 02, 03, 05, 06, 0F",
                    });
                }
                if ModbusException::from_code(code.code()) != code {
                    return Err(EncodeError::OutOfRange {
                        field: "code",
                        value: code.code().into(),
                        reason: "a known code, not Unknown",
                    });
                }
                write_frame(out, board, fc | function::EXCEPTION, |w| w.push(code.code()))
            }
        }
    }

    /// Broadcast writes draw no reply. A broadcast FC03 on a Waveshare board draws one: the
    /// lone module on the bus answers a read of its address register (`00 03 40 00 00 01`).
    fn reply_expectation(&self, request: &ModbusRelayRequest) -> ReplyExpectation {
        match (request.board(), request) {
            (BROADCAST, ModbusRelayRequest::ReadHoldingRegisters { .. }) if self.kind == ModbusRelayKind::Waveshare => {
                ReplyExpectation::One
            }
            (BROADCAST, _) => ReplyExpectation::None,
            _ => ReplyExpectation::One,
        }
    }

    fn request(&self, board: u8, command: &Command) -> Result<ModbusRelayRequest, EncodeError> {
        match *command {
            Command::Unlock(lock) => {
                self.check_flash().map_err(|_| {
                    unsupported("unlock on a generic relay board: no on-board timer, a master-timed pulse is unsafe")
                })?;
                if board == BROADCAST {
                    return Err(EncodeError::OutOfRange {
                        field: "board",
                        value: 0,
                        reason: "an unlock to the broadcast address would open that lock on every board",
                    });
                }
                if self.unlock_pulse_100ms == 0 {
                    return Err(EncodeError::OutOfRange {
                        field: "unlock_pulse_100ms",
                        value: 0,
                        reason: "a pulse needs at least 100 ms",
                    });
                }
                let lock = self.check_lock(lock)?;
                Ok(ModbusRelayRequest::FlashOn { board, lock, delay_100ms: self.unlock_pulse_100ms })
            }
            Command::QueryLock(lock) => {
                self.check_lock(lock)?;
                self.read_inputs(board)
            }
            Command::QueryAll => self.read_inputs(board),
            _ => Err(unsupported("this command")),
        }
    }

    fn command(&self, request: &ModbusRelayRequest) -> Option<(u8, Command)> {
        let command = match *request {
            ModbusRelayRequest::FlashOn { lock, .. } => Command::Unlock(lock),
            ModbusRelayRequest::ReadDiscreteInputs { address: 0, .. } => Command::QueryAll,
            _ => return None,
        };
        Some((request.board(), command))
    }

    /// Board side. `Ack` echoes writes, `DeviceError` becomes an exception reply with its code,
    /// and a [`Response::Status`] with `doors` answers an FC02 read (input `address + i` is door
    /// `address + i + 1`).
    fn reply(
        &self,
        board: u8,
        request: &ModbusRelayRequest,
        response: &Response,
    ) -> Result<ModbusRelayReply, EncodeError> {
        if let Response::DeviceError(error) = *response {
            if error.code == 0 {
                return Err(EncodeError::OutOfRange { field: "code", value: 0, reason: "exception codes start at 1" });
            }
            let code = ModbusException::from_code(error.code);
            return Ok(ModbusRelayReply::Exception { board, function: request.function(), code });
        }
        match (*request, response) {
            (ModbusRelayRequest::WriteSingleCoil { address, value, .. }, Response::Ack) => {
                Ok(ModbusRelayReply::WriteSingleCoil { board, address, value })
            }
            (ModbusRelayRequest::FlashOn { lock, delay_100ms, .. }, Response::Ack) => {
                Ok(ModbusRelayReply::FlashOn { board, lock, delay_100ms })
            }
            (ModbusRelayRequest::FlashOff { lock, delay_100ms, .. }, Response::Ack) => {
                Ok(ModbusRelayReply::FlashOff { board, lock, delay_100ms })
            }
            (ModbusRelayRequest::WriteSingleRegister { address, value, .. }, Response::Ack) => {
                Ok(ModbusRelayReply::WriteSingleRegister { board, address, value })
            }
            (ModbusRelayRequest::WriteMultipleCoils { address, count, .. }, Response::Ack) => {
                Ok(ModbusRelayReply::WriteMultipleCoils { board, address, count })
            }
            (
                ModbusRelayRequest::ReadDiscreteInputs { address, count, .. },
                Response::Status(BoardStatus { doors: Some(doors), .. }),
            ) => {
                let count = check_count("count", count, MAX_BITS)?;
                let shifted = doors.active.intersection(doors.reported).bits().checked_shr(address.into()).unwrap_or(0);
                let bits = LockSet::from_bits(shifted).intersection(LockSet::first(count as u8));
                Ok(ModbusRelayReply::ReadDiscreteInputs { board, byte_count: bytes_for(count) as u8, bits })
            }
            _ => Err(unsupported("this response to this request")),
        }
    }

    /// Master side; see the module docs. FC01 and FC03 replies have no neutral meaning.
    fn response(&self, reply: &ModbusRelayReply) -> Option<(u8, Response)> {
        let response = match *reply {
            ModbusRelayReply::WriteSingleCoil { .. }
            | ModbusRelayReply::FlashOn { .. }
            | ModbusRelayReply::FlashOff { .. }
            | ModbusRelayReply::WriteSingleRegister { .. }
            | ModbusRelayReply::WriteMultipleCoils { .. } => Response::Ack,
            ModbusRelayReply::ReadDiscreteInputs { byte_count, bits, .. } => Response::Status(BoardStatus {
                locks: ChannelBits::default(),
                doors: Some(self.door_bits(byte_count, bits)),
                presence: None,
            }),
            ModbusRelayReply::Exception { code, .. } => {
                Response::DeviceError(DeviceError { code: code.code(), kind: code.kind() })
            }
            ModbusRelayReply::ReadCoils { .. } | ModbusRelayReply::ReadHoldingRegisters { .. } => return None,
        };
        Some((reply.board(), response))
    }
}
