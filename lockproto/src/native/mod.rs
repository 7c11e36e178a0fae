//! The native protocol: the bus protocol of lock boards whose firmware is built from this
//! workspace. The full specification, with worked examples, is lockproto/PROTOCOL.md; this
//! module is its implementation, for both the master and the board side.
//!
//! It fixes what the field reports about the vendor dialects (reference/lockboards.md):
//!
//! | field failure | native answer |
//! |---|---|
//! | 1-byte XOR/sum passes truncated frames (§1.6, §10.7) | CRC-16/IBM-3740 over the whole frame, explicit LEN |
//! | no transaction id: a lost unlock reply cannot be retried (§1.6, §10.5) | SEQ in every request, echoed; a board [`cache::ReplyCache`] answers retries without pulsing again; unlocks carry the expected boot id |
//! | reply identical to request, local echo (§1.3) | replies have CMD bit 7 set |
//! | a door opened and closed between polls is missed (§1.6, DP2) | numbered [`events::EventLog`] read with a cursor, with a `lost` flag |
//! | query-all length does not follow the channel count (§1.2) | status carries its channel count, 1-128 |
//! | a third simultaneous lock does not open (§5.3) | pulse length per request, clamped; a max-simultaneous budget |
//! | garbled replies, invalid markers (§2.4) | 2-byte start marker, early header checks, typed errors |
//! | collisions of broadcast answers (§3.3, §5.3) | [`discovery`]: uid-range search in which only silence ends a range |
//!
//! # Frame (PROTOCOL.md §2)
//!
//! | offset | field | value |
//! |---|---|---|
//! | 0-1 | SOF | `F9 A6` |
//! | 2 | VER | `01` (major version; others are refused with `BadField "protocol version"`) |
//! | 3 | LEN | bytes from ADDR to the end of the payload, 3..=250 |
//! | 4 | ADDR | board address 1-254; `FF` discovery broadcast; `00` a board without address (discovery answers only) |
//! | 5 | SEQ | request sequence number, echoed by the reply |
//! | 6 | CMD | request `01`-`7F`; reply = request `| 80`; error reply `FF` |
//! | 7-8 | BOOT | replies only: the board's boot id, big-endian |
//! | ... | payload | per command, big-endian |
//! | last 2 | CRC | CRC-16/IBM-3740 of every byte before it, high byte first |
//!
//! # Commands (PROTOCOL.md §4)
//!
//! | CMD | request payload | reply CMD | reply payload |
//! |---|---|---|---|
//! | `01` GetInfo | - | `81` | UID(8) PMINOR FW.maj FW.min HW.maj HW.min CHANNELS MAXSIM PULSEMAX(2) EVCAP(2) |
//! | `02` GetStatus | - | `82` | CHANNELS, then 8 bitmaps of ⌈CHANNELS/8⌉ bytes: lock active, lock absent, door open, door absent, occupied, presence absent, pulsing, faulted |
//! | `03` Unlock | BOOT(2) LOCK PULSE(2) | `83` | LOCK APPLIED(2) |
//! | `04` UnlockMany | BOOT(2) PULSE(2) N BITMAP(N) | `84` | APPLIED(2) MAXSIM N BITMAP(N) |
//! | `05` UnlockAll | BOOT(2) PULSE(2) | `85` | APPLIED(2) MAXSIM N BITMAP(N) |
//! | `06` ReadEvents | CURSOR(2) MAX | `86` | FLAGS FIRST(2) NOW(4) COUNT, COUNT × (KIND CHANNEL VALUE(2) TIME(4)) |
//! | `07` ReadParameter | PARAM | `87` | PARAM VALUE(4) |
//! | `08` WriteParameter | PARAM VALUE(4) | `88` | PARAM VALUE(4) |
//! | `10` DiscoveryReset | - (broadcast) | none | |
//! | `11` Discover | SCOPE SLOTS SLOTMS LO(8) HI(8) (broadcast) | `91` | UID(8) |
//! | `12` AssignAddress | UID(8) ADDRESS (broadcast) | `92` | UID(8) |
//! | | | `FF` error | CMD CODE DETAIL(2) |

pub mod cache;
mod codec;
pub mod discovery;
pub mod events;
pub mod frame;
pub mod messages;

pub use cache::{ReplyCache, RequestKey};
pub use codec::EVENT_RECORD_LEN;
pub use discovery::{Discovery, DiscoveryConfig, DiscoveryEnd, DiscoveryOutcome, FoundBoard};
pub use events::{EventLog, EventRead};
pub use frame::{BROADCAST, RawFrame, UNASSIGNED};
pub use messages::{
    DiscoverScope, ErrorCode, EventBatch, EventKind, FaultCode, MAX_EVENTS_PER_REPLY, NativeEvent, NativeReply,
    NativeRequest, ParameterCode, PulseEnd, ResetCause,
};

use crate::dialect::{Decoded, Dialect, ReplyExpectation};
use crate::error::{EncodeError, FrameError};
use crate::model::{
    BoardInfo, BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, LockSet, MAX_CHANNELS, Parameter,
    ParameterId, Response,
};

/// Default baud rate of a native board: 19200 8N1, the Kerong CU12/CU16 factory default
/// (reference/lockboards.md §2.1, §3.1), robust on long cabinet chains and cheap USB adapters.
pub const DEFAULT_BAUD: u32 = 19_200;
/// Quiet time that ends a frame on the master: USB-RS485 adapters deliver one reply in bursts
/// more than 5 ms apart, so Open-Locker needed 25 ms (reference/lockboards.md §1.4, §1.6, OL
/// ADR-0067, a hardware observation).
pub const IDLE_GAP_MS: u32 = 25;
/// A board waits at least this long after a request before driving the bus (3.5 character
/// times at 19200 is 1.8 ms; the master's transceiver must have released the line).
pub const MIN_TURNAROUND_MS: u32 = 2;
/// A board starts its reply within this time after the request's last byte. The pulse runs
/// after the reply, unlike the 0.5-1 s late unlock replies of 8A boards (§1.4).
pub const MAX_TURNAROUND_MS: u32 = 20;
/// After a `WriteParameter` reply, the board may be saving to flash: wait this long before the
/// next request to it (the CU12's "data saving task" needs ≥ 500 ms, reference/lockboards.md §3.3).
pub const POST_WRITE_WAIT_MS: u32 = 500;
/// Pulse length the neutral `Unlock*` commands request by default: 500 ms, Kerong's
/// recommendation for electromagnetic locks (reference/lockboards.md §2.1).
pub const DEFAULT_PULSE_MS: u16 = 500;
/// Default number of discovery reply slots.
pub const DEFAULT_SLOTS: u8 = 8;
/// Default discovery slot length: a 19-byte `DiscoverAnswer` takes 9.9 ms at 19200 baud; the
/// rest is margin for board clock and turnaround jitter.
pub const DEFAULT_SLOT_MS: u8 = 20;
/// Length of a `DiscoverAnswer` / `AddressAssigned` frame.
pub const DISCOVER_ANSWER_LEN: usize = frame::ENVELOPE_HEAD + frame::REPLY_HEAD + 8 + frame::CRC_LEN;
/// Master response timeout at [`DEFAULT_BAUD`] (see [`response_timeout_ms`]).
pub const RESPONSE_TIMEOUT_MS: u32 = response_timeout_ms(DEFAULT_BAUD);

/// Time on the wire of `len` bytes at `baud` bit/s, 8N1 (10 bits a byte), rounded up.
pub const fn frame_time_ms(len: usize, baud: u32) -> u32 {
    let bits = len as u64 * 10 * 1000;
    let baud = if baud == 0 { 1 } else { baud as u64 };
    bits.div_ceil(baud) as u32
}

/// How long a master waits for a complete reply at `baud`: the board's turnaround, the longest
/// frame, and the idle gap that ends it.
pub const fn response_timeout_ms(baud: u32) -> u32 {
    MAX_TURNAROUND_MS + frame_time_ms(frame::MAX_FRAME_LEN, baud) + IDLE_GAP_MS
}

/// The native protocol, with what the neutral mapping needs to know.
///
/// Both sides use the same value: the master to encode requests and decode replies, the board
/// to decode requests and encode replies.
#[derive(Debug, Clone)]
pub struct Native {
    /// Pulse length [`Dialect::request`] puts in `Unlock`, `UnlockMany` and `UnlockAll`, ms.
    pub default_pulse_ms: u16,
    /// Master side: the boot id [`Dialect::request`] puts in unlock requests (0 = no check).
    /// Board side: the boot id [`Dialect::reply`] puts in replies.
    pub boot: u16,
    /// Board side: the channel count [`Dialect::reply`] uses for status and unlock-all replies
    /// built from the neutral model (0 = the highest channel the response reports).
    pub channels: u8,
}

impl Default for Native {
    fn default() -> Self {
        Native { default_pulse_ms: DEFAULT_PULSE_MS, boot: 0, channels: 0 }
    }
}

impl Native {
    /// Board side: the error reply owed to a CRC-valid frame `raw` (see [`RawFrame::parse`])
    /// that [`Dialect::decode_request`] refused with `error`, when it was addressed to board
    /// `board`: `UnsupportedVersion` for another major version, `UnknownCommand`, `BadLength`,
    /// or `BadArgument` (detail: the offset of the bad field). `None` for broadcasts, frames
    /// for other boards and errors that deserve silence.
    pub fn refusal(&self, raw: &RawFrame<'_>, error: &FrameError, board: u8) -> Option<NativeReply> {
        if raw.board != board || raw.board == BROADCAST || raw.command & frame::REPLY_BIT != 0 {
            return None;
        }
        let (code, detail) = if raw.version != frame::VERSION {
            (ErrorCode::UnsupportedVersion, u16::from(frame::VERSION))
        } else {
            match *error {
                FrameError::UnknownCommand { .. } => (ErrorCode::UnknownCommand, 0),
                FrameError::BadLength { .. } => (ErrorCode::BadLength, 0),
                FrameError::BadField { offset, .. } => (ErrorCode::BadArgument, u16::try_from(offset).unwrap_or(0)),
                _ => return None,
            }
        };
        Some(NativeReply::Error { board, seq: raw.seq, boot: self.boot, command: raw.command, code, detail })
    }

    /// The status reply to `request` for a neutral status.
    fn status_reply(&self, board: u8, seq: u8, status: &BoardStatus) -> Result<NativeReply, EncodeError> {
        let none = ChannelBits::default();
        let doors = status.doors.unwrap_or(none);
        let presence = status.presence.unwrap_or(none);
        let highest = [status.locks, doors, presence].iter().filter_map(|bits| bits.reported.last()).max();
        let channels = if self.channels != 0 { self.channels } else { highest.map_or(1, crate::Lock::get) };
        if channels > MAX_CHANNELS || highest.is_some_and(|lock| lock.get() > channels) {
            return Err(EncodeError::OutOfRange {
                field: "channels",
                value: channels.into(),
                reason: "the status reports channels past the board's channel count",
            });
        }
        let all = LockSet::first(channels);
        let absent = |bits: &ChannelBits| all.difference(bits.reported);
        let active = |bits: &ChannelBits| bits.active.intersection(bits.reported);
        Ok(NativeReply::Status {
            board,
            seq,
            boot: self.boot,
            channels,
            lock_active: active(&status.locks),
            lock_absent: absent(&status.locks),
            door_open: active(&doors),
            door_absent: absent(&doors),
            occupied: active(&presence),
            presence_absent: absent(&presence),
            pulsing: LockSet::EMPTY,
            faulted: LockSet::EMPTY,
        })
    }
}

/// The neutral status of a status reply: a sensor kind with every channel absent is `None`.
fn neutral_status(channels: u8, pairs: [(LockSet, LockSet); 3]) -> BoardStatus {
    let all = LockSet::first(channels);
    let bits = |(active, absent): (LockSet, LockSet)| {
        let reported = all.difference(absent);
        ChannelBits { reported, active: active.intersection(reported) }
    };
    let [locks, doors, presence] = pairs;
    let optional = |pair: (LockSet, LockSet)| {
        let b = bits(pair);
        if b.reported.is_empty() { None } else { Some(b) }
    };
    BoardStatus { locks: bits(locks), doors: optional(doors), presence: optional(presence) }
}

/// The native parameter for a neutral one, where there is one.
const fn native_parameter(id: ParameterId) -> Option<ParameterCode> {
    match id {
        ParameterId::UnlockTime => Some(ParameterCode::PulseMaxMs),
        ParameterId::BaudRate => Some(ParameterCode::BaudRate),
        _ => None,
    }
}

/// The neutral parameter of a native one with its value, where there is one.
const fn neutral_parameter(parameter: ParameterCode, value: u32) -> Option<Parameter> {
    match parameter {
        ParameterCode::PulseMaxMs => Some(Parameter::UnlockTimeMs(value)),
        ParameterCode::BaudRate => Some(Parameter::BaudRate(value)),
        _ => None,
    }
}

/// The native parameter and wire value of a neutral parameter.
fn parameter_value(parameter: &Parameter) -> Option<(ParameterCode, u32)> {
    match *parameter {
        Parameter::UnlockTimeMs(ms) => Some((ParameterCode::PulseMaxMs, ms)),
        Parameter::BaudRate(baud) => Some((ParameterCode::BaudRate, baud)),
        _ => None,
    }
}

/// The neutral class of a native error code.
pub const fn error_kind(code: ErrorCode) -> DeviceErrorKind {
    match code {
        ErrorCode::UnknownCommand => DeviceErrorKind::UnknownCommand,
        ErrorCode::BadLength | ErrorCode::BadArgument | ErrorCode::UnknownParameter | ErrorCode::ReadOnly => {
            DeviceErrorKind::InvalidArgument
        }
        ErrorCode::Busy => DeviceErrorKind::Busy,
        ErrorCode::ChannelFault | ErrorCode::StorageFailure => DeviceErrorKind::Failed,
        ErrorCode::UnsupportedVersion | ErrorCode::BootMismatch | ErrorCode::Unknown { .. } => DeviceErrorKind::Other,
    }
}

const fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported { dialect: Native::NAME, what }
}

impl Dialect for Native {
    type Request = NativeRequest;
    type Reply = NativeReply;
    const NAME: &'static str = "native";
    const MAX_FRAME_LEN: usize = frame::MAX_FRAME_LEN;

    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<NativeRequest>, FrameError> {
        codec::decode_request(buf)
    }

    fn decode_reply(&self, buf: &[u8], pending: Option<&NativeRequest>) -> Result<Decoded<NativeReply>, FrameError> {
        codec::decode_reply(buf, pending)
    }

    fn encode_request(&self, request: &NativeRequest, out: &mut [u8]) -> Result<usize, EncodeError> {
        codec::encode_request(request, out)
    }

    fn encode_reply(&self, reply: &NativeReply, out: &mut [u8]) -> Result<usize, EncodeError> {
        codec::encode_reply(reply, out)
    }

    fn reply_expectation(&self, request: &NativeRequest) -> ReplyExpectation {
        match request {
            NativeRequest::DiscoveryReset { .. } => ReplyExpectation::None,
            NativeRequest::Discover { .. } => ReplyExpectation::EveryBoard,
            _ => ReplyExpectation::One,
        }
    }

    /// Sequence number 0 and boot id [`Native::boot`]: a master stamps its per-board sequence
    /// counter with [`NativeRequest::with_seq`] (and the boot id with
    /// [`NativeRequest::with_boot`]) before sending. `QueryLock` reads the whole status;
    /// `QueryAddress` is a one-slot `Discover` of every board over the whole uid space (for a
    /// bus with a single board, as the neutral command intends).
    fn request(&self, board: u8, command: &Command) -> Result<NativeRequest, EncodeError> {
        let seq = 0;
        let (boot, pulse_ms) = (self.boot, self.default_pulse_ms);
        if !matches!(command, Command::QueryAddress) && !codec::is_unicast(board) {
            return Err(EncodeError::OutOfRange {
                field: "board",
                value: board.into(),
                reason: "addresses are 1..=254",
            });
        }
        Ok(match *command {
            Command::Unlock(lock) => NativeRequest::Unlock { board, seq, boot, lock, pulse_ms },
            Command::UnlockMany(locks) if locks.is_empty() => {
                return Err(EncodeError::OutOfRange {
                    field: "locks",
                    value: 0,
                    reason: "an unlock set must not be empty",
                });
            }
            Command::UnlockMany(locks) => NativeRequest::UnlockMany { board, seq, boot, locks, pulse_ms },
            Command::UnlockAll => NativeRequest::UnlockAll { board, seq, boot, pulse_ms },
            Command::QueryLock(_) | Command::QueryAll => NativeRequest::GetStatus { board, seq },
            Command::BoardInfo => NativeRequest::GetInfo { board, seq },
            Command::ReadParameter(id) => {
                let parameter = native_parameter(id).ok_or(unsupported("this parameter"))?;
                NativeRequest::ReadParameter { board, seq, parameter }
            }
            Command::WriteParameter(p) => {
                let (parameter, value) = parameter_value(&p).ok_or(unsupported("this parameter"))?;
                NativeRequest::WriteParameter { board, seq, parameter, value }
            }
            Command::QueryAddress => NativeRequest::Discover {
                seq,
                scope: DiscoverScope::All,
                slots: 1,
                slot_ms: DEFAULT_SLOT_MS,
                lo: 0,
                hi: u64::MAX,
            },
            // The model may grow commands; until mapped here they are unsupported.
            #[allow(unreachable_patterns)]
            _ => return Err(unsupported("this command")),
        })
    }

    fn command(&self, request: &NativeRequest) -> Option<(u8, Command)> {
        let board = request.address();
        let command = match *request {
            NativeRequest::GetInfo { .. } => Command::BoardInfo,
            NativeRequest::GetStatus { .. } => Command::QueryAll,
            NativeRequest::Unlock { lock, .. } => Command::Unlock(lock),
            NativeRequest::UnlockMany { locks, .. } => Command::UnlockMany(locks),
            NativeRequest::UnlockAll { .. } => Command::UnlockAll,
            NativeRequest::ReadParameter { parameter: ParameterCode::PulseMaxMs, .. } => {
                Command::ReadParameter(ParameterId::UnlockTime)
            }
            NativeRequest::ReadParameter { parameter: ParameterCode::BaudRate, .. } => {
                Command::ReadParameter(ParameterId::BaudRate)
            }
            NativeRequest::WriteParameter { parameter, value, .. } => {
                Command::WriteParameter(neutral_parameter(parameter, value)?)
            }
            NativeRequest::Discover { .. } => Command::QueryAddress,
            _ => return None,
        };
        Some((board, command))
    }

    /// Built from the neutral model, a reply knows less than the board does: info carries uid 0,
    /// no power budget, pulse limit or event capacity; unlock replies apply the requested pulse;
    /// status has no pulsing or fault bits; a discovery answer carries uid 0.
    fn reply(&self, board: u8, request: &NativeRequest, response: &Response) -> Result<NativeReply, EncodeError> {
        let seq = request.seq();
        let boot = self.boot;
        Ok(match (*request, *response) {
            (_, Response::DeviceError(DeviceError { code, .. }))
                if !matches!(request, NativeRequest::DiscoveryReset { .. }) =>
            {
                let code = ErrorCode::from_code(code);
                NativeReply::Error { board, seq, boot, command: request.command_code(), code, detail: 0 }
            }
            (NativeRequest::GetInfo { .. }, Response::Info(info)) => {
                let channels = info.channels.unwrap_or(self.channels);
                NativeReply::Info {
                    board,
                    seq,
                    boot,
                    uid: 0,
                    protocol_minor: frame::PROTOCOL_MINOR,
                    firmware: info.software,
                    hardware: info.hardware.unwrap_or_default(),
                    channels,
                    max_simultaneous: 0,
                    pulse_max_ms: 0,
                    event_capacity: 0,
                }
            }
            (NativeRequest::GetStatus { .. }, Response::Status(status)) => self.status_reply(board, seq, &status)?,
            (NativeRequest::Unlock { lock, pulse_ms, .. }, Response::Ack) => {
                NativeReply::Unlocked { board, seq, boot, lock, applied_ms: pulse_ms }
            }
            (NativeRequest::UnlockMany { locks, pulse_ms, .. }, Response::Ack) => {
                NativeReply::UnlockManyAccepted { board, seq, boot, locks, applied_ms: pulse_ms, max_simultaneous: 0 }
            }
            (NativeRequest::UnlockAll { pulse_ms, .. }, Response::Ack) => NativeReply::UnlockAllAccepted {
                board,
                seq,
                boot,
                locks: LockSet::first(self.channels),
                applied_ms: pulse_ms,
                max_simultaneous: 0,
            },
            (NativeRequest::ReadParameter { .. }, Response::Parameter(p)) => {
                let (parameter, value) = parameter_value(&p).ok_or(unsupported("this parameter"))?;
                NativeReply::Parameter { board, seq, boot, parameter, value }
            }
            (NativeRequest::WriteParameter { .. }, Response::Parameter(p)) => {
                let (parameter, value) = parameter_value(&p).ok_or(unsupported("this parameter"))?;
                NativeReply::ParameterWritten { board, seq, boot, parameter, value }
            }
            (NativeRequest::WriteParameter { parameter, value, .. }, Response::Ack) => {
                NativeReply::ParameterWritten { board, seq, boot, parameter, value }
            }
            (NativeRequest::Discover { .. }, Response::Address(address)) => {
                NativeReply::DiscoverAnswer { board: address, seq, boot, uid: 0 }
            }
            (NativeRequest::AssignAddress { uid, address, .. }, Response::Ack) => {
                NativeReply::AddressAssigned { board: address, seq, boot, uid }
            }
            _ => return Err(unsupported("this response to this request")),
        })
    }

    fn response(&self, reply: &NativeReply) -> Option<(u8, Response)> {
        let board = reply.board();
        let response = match *reply {
            NativeReply::Info { firmware, hardware, channels, .. } => {
                Response::Info(BoardInfo { software: firmware, hardware: Some(hardware), channels: Some(channels) })
            }
            NativeReply::Status {
                channels,
                lock_active,
                lock_absent,
                door_open,
                door_absent,
                occupied,
                presence_absent,
                ..
            } => Response::Status(neutral_status(
                channels,
                [(lock_active, lock_absent), (door_open, door_absent), (occupied, presence_absent)],
            )),
            NativeReply::Unlocked { .. }
            | NativeReply::UnlockManyAccepted { .. }
            | NativeReply::UnlockAllAccepted { .. }
            | NativeReply::AddressAssigned { .. } => Response::Ack,
            NativeReply::Events { .. } => return None,
            NativeReply::Parameter { parameter, value, .. }
            | NativeReply::ParameterWritten { parameter, value, .. } => {
                Response::Parameter(neutral_parameter(parameter, value)?)
            }
            NativeReply::DiscoverAnswer { board, .. } => Response::Address(board),
            NativeReply::Error { code, .. } => {
                Response::DeviceError(DeviceError { code: code.code(), kind: error_kind(code) })
            }
        };
        Some((board, response))
    }
}
