//! Encoding and decoding of the native messages (PROTOCOL.md §3-§4).
//!
//! Decoding checks each header byte as soon as it arrives (start marker, version, LEN range,
//! CMD, LEN against CMD, ADDR against CMD) so that garbage is refused at once and the stream
//! decoder resynchronises fast; the CRC is checked before any payload field.

use crate::dialect::Decoded;
use crate::error::{EncodeError, FrameError};
use crate::model::{Lock, LockSet, MAX_CHANNELS, Version};
use crate::wire::{Reader, Writer};

use super::frame::{
    self, ADDR_OFFSET, BROADCAST, CMD_OFFSET, ERROR_CMD, REPLY_BIT, REPLY_HEAD, REPLY_PAYLOAD, REQUEST_HEAD,
    REQUEST_PAYLOAD, SEQ_OFFSET, UNASSIGNED,
};
use super::messages::{
    DiscoverScope, ErrorCode, EventBatch, EventKind, FaultCode, MAX_EVENTS_PER_REPLY, NativeEvent, NativeReply,
    NativeRequest, ParameterCode, PulseEnd, ResetCause, code, event_code,
};

/// Bytes of one event record: KIND, CHANNEL, VALUE (2), TIME (4).
pub const EVENT_RECORD_LEN: usize = 8;
/// Bytes of the events reply before the records: FLAGS, FIRST (2), NOW (4), COUNT.
const EVENTS_HEAD: usize = 8;
/// Bitmaps in a status reply.
const STATUS_BITMAPS: usize = 8;
/// `lost` in the events FLAGS byte.
const FLAG_LOST: u8 = 0x01;
/// `more` in the events FLAGS byte.
const FLAG_MORE: u8 = 0x02;

// A full events batch fits a frame, and one event more would not.
const _: () = assert!(
    frame::ENVELOPE_HEAD + REPLY_HEAD + EVENTS_HEAD + MAX_EVENTS_PER_REPLY * EVENT_RECORD_LEN + frame::CRC_LEN
        <= frame::MAX_FRAME_LEN
);
const _: () = assert!(REPLY_HEAD + EVENTS_HEAD + (MAX_EVENTS_PER_REPLY + 1) * EVENT_RECORD_LEN > frame::MAX_BODY_LEN);

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Decodes a request at the start of `buf`.
pub(crate) fn decode_request(buf: &[u8]) -> Result<Decoded<NativeRequest>, FrameError> {
    let r = Reader::new(buf);
    frame::check_start(&r)?;
    frame::check_version(&r)?;
    let body = frame::body_len(&r, REQUEST_HEAD)?;
    let board = r.u8(ADDR_OFFSET)?;
    let seq = r.u8(SEQ_OFFSET)?;
    let cmd = r.u8(CMD_OFFSET)?;
    check_request_shape(&r, cmd, board, body - REQUEST_HEAD)?;
    let len = frame::check_crc(&r, body)?;
    let mut p = Fields { r, at: REQUEST_PAYLOAD };
    let message = match cmd {
        code::GET_INFO => NativeRequest::GetInfo { board, seq },
        code::GET_STATUS => NativeRequest::GetStatus { board, seq },
        code::UNLOCK => {
            let boot = p.u16()?;
            let lock = p.lock("lock")?;
            NativeRequest::Unlock { board, seq, boot, lock, pulse_ms: p.u16()? }
        }
        code::UNLOCK_MANY => {
            let boot = p.u16()?;
            let pulse_ms = p.u16()?;
            let locks = p.minimal_set("locks")?;
            NativeRequest::UnlockMany { board, seq, boot, locks, pulse_ms }
        }
        code::UNLOCK_ALL => NativeRequest::UnlockAll { board, seq, boot: p.u16()?, pulse_ms: p.u16()? },
        code::READ_EVENTS => NativeRequest::ReadEvents { board, seq, cursor: p.u16()?, max: p.u8()? },
        code::READ_PARAMETER => NativeRequest::ReadParameter { board, seq, parameter: p.parameter()? },
        code::WRITE_PARAMETER => {
            let parameter = p.parameter()?;
            NativeRequest::WriteParameter { board, seq, parameter, value: p.u32()? }
        }
        code::DISCOVERY_RESET => NativeRequest::DiscoveryReset { seq },
        code::DISCOVER => decode_discover(&mut p, seq)?,
        code::ASSIGN_ADDRESS => {
            let uid = p.u64()?;
            let (at, address) = p.at_u8()?;
            if !is_unicast(address) {
                return Err(FrameError::BadField { offset: at, field: "address", found: address });
            }
            NativeRequest::AssignAddress { seq, uid, address }
        }
        found => return Err(FrameError::UnknownCommand { offset: CMD_OFFSET, found }),
    };
    Ok(Decoded { message, len })
}

fn decode_discover(p: &mut Fields<'_>, seq: u8) -> Result<NativeRequest, FrameError> {
    let (at, scope) = p.at_u8()?;
    let scope =
        DiscoverScope::from_code(scope).ok_or(FrameError::BadField { offset: at, field: "scope", found: scope })?;
    let slots = p.nonzero("slots")?;
    let slot_ms = p.nonzero("slot_ms")?;
    let lo = p.u64()?;
    let hi_at = p.at;
    let hi = p.u64()?;
    if lo > hi {
        return Err(FrameError::BadField { offset: hi_at, field: "uid range (lo > hi)", found: first_byte(hi) });
    }
    Ok(NativeRequest::Discover { seq, scope, slots, slot_ms, lo, hi })
}

/// Decodes a reply at the start of `buf`, checking it against `pending` when given.
pub(crate) fn decode_reply(buf: &[u8], pending: Option<&NativeRequest>) -> Result<Decoded<NativeReply>, FrameError> {
    let r = Reader::new(buf);
    frame::check_start(&r)?;
    frame::check_version(&r)?;
    let body = frame::body_len(&r, REPLY_HEAD)?;
    let board = r.u8(ADDR_OFFSET)?;
    let seq = r.u8(SEQ_OFFSET)?;
    let cmd = r.u8(CMD_OFFSET)?;
    check_reply_shape(&r, cmd, board, body - REPLY_HEAD)?;
    let len = frame::check_crc(&r, body)?;
    let boot = r.u16_be(REPLY_PAYLOAD - 2)?;
    let mut p = Fields { r, at: REPLY_PAYLOAD };
    let message = match cmd & !REPLY_BIT {
        code::GET_INFO => NativeReply::Info {
            board,
            seq,
            boot,
            uid: p.u64()?,
            protocol_minor: p.u8()?,
            firmware: Version { major: p.u8()?, minor: p.u8()? },
            hardware: Version { major: p.u8()?, minor: p.u8()? },
            channels: p.channels()?,
            max_simultaneous: p.u8()?,
            pulse_max_ms: p.u16()?,
            event_capacity: p.u16()?,
        },
        code::GET_STATUS => decode_status(&mut p, board, seq, boot)?,
        code::UNLOCK => NativeReply::Unlocked { board, seq, boot, lock: p.lock("lock")?, applied_ms: p.u16()? },
        code::UNLOCK_MANY | code::UNLOCK_ALL => {
            let applied_ms = p.u16()?;
            let max_simultaneous = p.u8()?;
            let locks = p.minimal_set("locks")?;
            if cmd & !REPLY_BIT == code::UNLOCK_MANY {
                NativeReply::UnlockManyAccepted { board, seq, boot, locks, applied_ms, max_simultaneous }
            } else {
                NativeReply::UnlockAllAccepted { board, seq, boot, locks, applied_ms, max_simultaneous }
            }
        }
        code::READ_EVENTS => decode_events(&mut p, board, seq, boot)?,
        code::READ_PARAMETER => NativeReply::Parameter { board, seq, boot, parameter: p.parameter()?, value: p.u32()? },
        code::WRITE_PARAMETER => {
            NativeReply::ParameterWritten { board, seq, boot, parameter: p.parameter()?, value: p.u32()? }
        }
        code::DISCOVER => NativeReply::DiscoverAnswer { board, seq, boot, uid: p.u64()? },
        code::ASSIGN_ADDRESS => NativeReply::AddressAssigned { board, seq, boot, uid: p.u64()? },
        _ if cmd == ERROR_CMD => NativeReply::Error {
            board,
            seq,
            boot,
            command: p.u8()?,
            code: ErrorCode::from_code(p.u8()?),
            detail: p.u16()?,
        },
        _ => return Err(FrameError::UnknownCommand { offset: CMD_OFFSET, found: cmd }),
    };
    if let Some(request) = pending {
        check_echo(request, &message)?;
    }
    Ok(Decoded { message, len })
}

fn decode_status(p: &mut Fields<'_>, board: u8, seq: u8, boot: u16) -> Result<NativeReply, FrameError> {
    let channels = p.channels()?;
    let mut sets = [LockSet::EMPTY; STATUS_BITMAPS];
    for set in &mut sets {
        *set = p.channel_bitmap(channels)?;
    }
    let [lock_active, lock_absent, door_open, door_absent, occupied, presence_absent, pulsing, faulted] = sets;
    Ok(NativeReply::Status {
        board,
        seq,
        boot,
        channels,
        lock_active,
        lock_absent,
        door_open,
        door_absent,
        occupied,
        presence_absent,
        pulsing,
        faulted,
    })
}

fn decode_events(p: &mut Fields<'_>, board: u8, seq: u8, boot: u16) -> Result<NativeReply, FrameError> {
    let (flags_at, flags) = p.at_u8()?;
    if flags & !(FLAG_LOST | FLAG_MORE) != 0 {
        return Err(FrameError::BadField { offset: flags_at, field: "event flags", found: flags });
    }
    let first = p.u16()?;
    let now_ms = p.u32()?;
    let count = p.u8()?;
    let mut events = EventBatch::new();
    for _ in 0..count {
        let event = p.event()?;
        // The shape check bounded COUNT by MAX_EVENTS_PER_REPLY, so this cannot fail.
        events.push(event).map_err(|_| FrameError::BadField { offset: p.at, field: "event count", found: count })?;
    }
    Ok(NativeReply::Events {
        board,
        seq,
        boot,
        lost: flags & FLAG_LOST != 0,
        more: flags & FLAG_MORE != 0,
        first,
        now_ms,
        events,
    })
}

/// The frame-level rules of a request: known CMD, LEN fits CMD, ADDR fits CMD.
fn check_request_shape(r: &Reader<'_>, cmd: u8, board: u8, payload: usize) -> Result<(), FrameError> {
    let expected = match cmd {
        code::GET_INFO | code::GET_STATUS | code::DISCOVERY_RESET => 0,
        code::UNLOCK => 5,
        code::UNLOCK_MANY => 5 + set_len_byte(r, REQUEST_PAYLOAD + 4, 1)?,
        code::UNLOCK_ALL => 4,
        code::READ_EVENTS => 3,
        code::READ_PARAMETER => 1,
        code::WRITE_PARAMETER => 5,
        code::DISCOVER => 19,
        code::ASSIGN_ADDRESS => 9,
        found => return Err(FrameError::UnknownCommand { offset: CMD_OFFSET, found }),
    };
    expect_payload(payload, expected, REQUEST_HEAD)?;
    let broadcast = matches!(cmd, code::DISCOVERY_RESET | code::DISCOVER | code::ASSIGN_ADDRESS);
    let ok = if broadcast { board == BROADCAST } else { is_unicast(board) };
    if ok { Ok(()) } else { Err(FrameError::BadField { offset: ADDR_OFFSET, field: "board", found: board }) }
}

/// The frame-level rules of a reply: known CMD, LEN fits CMD, ADDR fits CMD.
fn check_reply_shape(r: &Reader<'_>, cmd: u8, board: u8, payload: usize) -> Result<(), FrameError> {
    let expected = match cmd {
        ERROR_CMD => 4,
        c if c & REPLY_BIT == 0 => return Err(FrameError::UnknownCommand { offset: CMD_OFFSET, found: cmd }),
        c => match c & !REPLY_BIT {
            code::GET_INFO => 19,
            code::GET_STATUS => {
                let channels = r.u8(REPLY_PAYLOAD)?;
                if channels == 0 || channels > MAX_CHANNELS {
                    return Err(FrameError::BadField { offset: REPLY_PAYLOAD, field: "channels", found: channels });
                }
                1 + STATUS_BITMAPS * bitmap_bytes(channels)
            }
            code::UNLOCK => 3,
            code::UNLOCK_MANY | code::UNLOCK_ALL => 4 + set_len_byte(r, REPLY_PAYLOAD + 3, 0)?,
            code::READ_EVENTS => {
                let count = r.u8(REPLY_PAYLOAD + 7)?;
                if usize::from(count) > MAX_EVENTS_PER_REPLY {
                    return Err(FrameError::BadField { offset: REPLY_PAYLOAD + 7, field: "event count", found: count });
                }
                EVENTS_HEAD + EVENT_RECORD_LEN * usize::from(count)
            }
            code::READ_PARAMETER | code::WRITE_PARAMETER => 5,
            code::DISCOVER | code::ASSIGN_ADDRESS => 8,
            _ => return Err(FrameError::UnknownCommand { offset: CMD_OFFSET, found: cmd }),
        },
    };
    expect_payload(payload, expected, REPLY_HEAD)?;
    // Only a discovery answer may come from a board without an address.
    let ok = is_unicast(board) || (board == UNASSIGNED && cmd == code::DISCOVER | REPLY_BIT);
    if ok { Ok(()) } else { Err(FrameError::BadField { offset: ADDR_OFFSET, field: "board", found: board }) }
}

/// Reads the bitmap length byte of a lock-set field (`min..=16`).
fn set_len_byte(r: &Reader<'_>, offset: usize, min: u8) -> Result<usize, FrameError> {
    let n = r.u8(offset)?;
    if n < min || n > 16 {
        return Err(FrameError::BadField { offset, field: "bitmap length", found: n });
    }
    Ok(usize::from(n))
}

fn expect_payload(found: usize, expected: usize, head: usize) -> Result<(), FrameError> {
    if found == expected {
        Ok(())
    } else {
        Err(FrameError::BadLength { offset: 3, found: found + head, reason: "LEN does not fit the command" })
    }
}

/// Whether a reply echoes `request` (board, sequence number, command, and the discovery fields).
fn check_echo(request: &NativeRequest, reply: &NativeReply) -> Result<(), FrameError> {
    let expected_seq = request.seq();
    if reply.seq() != expected_seq {
        return Err(FrameError::Mismatch {
            offset: SEQ_OFFSET,
            field: "seq",
            expected: expected_seq,
            found: reply.seq(),
        });
    }
    let command = request.command_code();
    match (request, reply) {
        (_, NativeReply::Error { command: refused, .. }) if *refused != command => {
            return Err(FrameError::Mismatch {
                offset: REPLY_PAYLOAD,
                field: "refused command",
                expected: command,
                found: *refused,
            });
        }
        (_, NativeReply::Error { .. }) => {}
        (NativeRequest::DiscoveryReset { .. }, _) => {
            return Err(FrameError::Mismatch {
                offset: CMD_OFFSET,
                field: "command (DiscoveryReset has no reply)",
                expected: command,
                found: reply.command_code(),
            });
        }
        _ if reply.command_code() != command | REPLY_BIT => {
            return Err(FrameError::Mismatch {
                offset: CMD_OFFSET,
                field: "command",
                expected: command | REPLY_BIT,
                found: reply.command_code(),
            });
        }
        _ => {}
    }
    let expected_board = match request {
        NativeRequest::Discover { .. } | NativeRequest::DiscoveryReset { .. } => None,
        NativeRequest::AssignAddress { address, .. } => Some(*address),
        other => Some(other.address()),
    };
    match expected_board {
        Some(expected) if expected != reply.board() => {
            Err(FrameError::Mismatch { offset: ADDR_OFFSET, field: "board", expected, found: reply.board() })
        }
        _ => check_echoed_uid(request, reply),
    }
}

fn check_echoed_uid(request: &NativeRequest, reply: &NativeReply) -> Result<(), FrameError> {
    match (request, reply) {
        (NativeRequest::AssignAddress { uid, .. }, NativeReply::AddressAssigned { uid: found, .. }) if uid != found => {
            Err(mismatch_u64("uid", *uid, *found))
        }
        (NativeRequest::Discover { lo, hi, .. }, NativeReply::DiscoverAnswer { uid, .. }) if uid < lo || uid > hi => {
            Err(mismatch_u64("uid outside the discovered range", *lo, *uid))
        }
        _ => Ok(()),
    }
}

/// A mismatch of 64-bit fields, reported at the first differing byte.
fn mismatch_u64(field: &'static str, expected: u64, found: u64) -> FrameError {
    let (e, f) = (expected.to_be_bytes(), found.to_be_bytes());
    let i = e.iter().zip(f.iter()).position(|(a, b)| a != b).unwrap_or(0);
    FrameError::Mismatch {
        offset: REPLY_PAYLOAD + i,
        field,
        expected: e.get(i).copied().unwrap_or(0),
        found: f.get(i).copied().unwrap_or(0),
    }
}

const fn first_byte(value: u64) -> u8 {
    (value >> 56) as u8
}

/// Unicast board addresses: not [`UNASSIGNED`], not [`BROADCAST`].
pub(crate) const fn is_unicast(address: u8) -> bool {
    address != UNASSIGNED && address != BROADCAST
}

/// Bytes of a status bitmap for `channels` channels.
pub(crate) const fn bitmap_bytes(channels: u8) -> usize {
    (channels as usize).div_ceil(8)
}

/// Bytes of the shortest bitmap holding `set` (0 for the empty set).
pub(crate) fn minimal_bytes(set: LockSet) -> usize {
    set.last().map_or(0, |lock| lock.index() / 8 + 1)
}

/// A read position in a CRC-checked frame.
struct Fields<'a> {
    r: Reader<'a>,
    at: usize,
}

impl Fields<'_> {
    fn at_u8(&mut self) -> Result<(usize, u8), FrameError> {
        let at = self.at;
        let value = self.r.u8(at)?;
        self.at += 1;
        Ok((at, value))
    }

    fn u8(&mut self) -> Result<u8, FrameError> {
        self.at_u8().map(|(_, v)| v)
    }

    fn u16(&mut self) -> Result<u16, FrameError> {
        let value = self.r.u16_be(self.at)?;
        self.at += 2;
        Ok(value)
    }

    fn u32(&mut self) -> Result<u32, FrameError> {
        Ok(u32::from(self.u16()?) << 16 | u32::from(self.u16()?))
    }

    fn u64(&mut self) -> Result<u64, FrameError> {
        Ok(u64::from(self.u32()?) << 32 | u64::from(self.u32()?))
    }

    fn nonzero(&mut self, field: &'static str) -> Result<u8, FrameError> {
        let (at, value) = self.at_u8()?;
        if value == 0 { Err(FrameError::BadField { offset: at, field, found: value }) } else { Ok(value) }
    }

    fn lock(&mut self, field: &'static str) -> Result<Lock, FrameError> {
        let (at, n) = self.at_u8()?;
        Lock::new(n).ok_or(FrameError::BadField { offset: at, field, found: n })
    }

    fn channels(&mut self) -> Result<u8, FrameError> {
        let (at, n) = self.at_u8()?;
        if n == 0 || n > MAX_CHANNELS {
            return Err(FrameError::BadField { offset: at, field: "channels", found: n });
        }
        Ok(n)
    }

    fn parameter(&mut self) -> Result<ParameterCode, FrameError> {
        self.u8().map(ParameterCode::from_code)
    }

    /// A length byte and that many bitmap bytes, the last one non-zero (shortest form).
    fn minimal_set(&mut self, field: &'static str) -> Result<LockSet, FrameError> {
        let n = usize::from(self.u8()?);
        let mut set = LockSet::EMPTY;
        for i in 0..n {
            let (at, byte) = self.at_u8()?;
            if i + 1 == n && byte == 0 {
                return Err(FrameError::BadField { offset: at, field, found: byte });
            }
            set.set_byte(i, byte);
        }
        Ok(set)
    }

    /// A status bitmap of `channels` channels; bits past the last channel must be 0.
    fn channel_bitmap(&mut self, channels: u8) -> Result<LockSet, FrameError> {
        let mut set = LockSet::EMPTY;
        for i in 0..bitmap_bytes(channels) {
            let (at, byte) = self.at_u8()?;
            set.set_byte(i, byte);
            if !set.intersection(LockSet::first(channels)).eq(&set) {
                return Err(FrameError::BadField { offset: at, field: "bits past the last channel", found: byte });
            }
        }
        Ok(set)
    }

    fn event(&mut self) -> Result<NativeEvent, FrameError> {
        let kind = self.u8()?;
        let (channel_at, channel) = self.at_u8()?;
        let value_at = self.at;
        let value = self.u16()?;
        let time_ms = self.u32()?;
        let lock = || {
            Lock::new(channel).ok_or(FrameError::BadField {
                offset: channel_at,
                field: "event channel",
                found: channel,
            })
        };
        let no_channel = || {
            if channel == 0 {
                Ok(())
            } else {
                Err(FrameError::BadField { offset: channel_at, field: "event channel", found: channel })
            }
        };
        let zero = |field| if value == 0 { Ok(()) } else { Err(bad_value(value_at, field, value)) };
        let small = |field| u8::try_from(value).map_err(|_| bad_value(value_at, field, value));
        let flag = |field| match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad_value(value_at, field, value)),
        };
        let kind = match kind {
            event_code::BOOT => {
                no_channel()?;
                EventKind::Boot { cause: ResetCause::from_code(small("reset cause")?) }
            }
            event_code::DOOR_OPENED => {
                zero("door event value")?;
                EventKind::DoorOpened { lock: lock()? }
            }
            event_code::DOOR_CLOSED => {
                zero("door event value")?;
                EventKind::DoorClosed { lock: lock()? }
            }
            event_code::LOCK_INPUT => EventKind::LockInput { lock: lock()?, active: flag("lock input")? },
            event_code::PRESENCE => EventKind::Presence { lock: lock()?, occupied: flag("presence")? },
            event_code::PULSE_STARTED => EventKind::PulseStarted { lock: lock()?, applied_ms: value },
            event_code::PULSE_ENDED => {
                EventKind::PulseEnded { lock: lock()?, end: PulseEnd::from_code(small("pulse end")?) }
            }
            event_code::FAULT => {
                let lock = if channel == 0 { None } else { Some(lock()?) };
                EventKind::Fault { lock, fault: FaultCode::from_code(small("fault code")?) }
            }
            code => EventKind::Unknown { code, channel, value },
        };
        Ok(NativeEvent { kind, time_ms })
    }
}

/// A bad 16-bit value, reported by the byte that makes it bad.
fn bad_value(offset: usize, field: &'static str, value: u16) -> FrameError {
    let [hi, lo] = value.to_be_bytes();
    if hi != 0 {
        FrameError::BadField { offset, field, found: hi }
    } else {
        FrameError::BadField { offset: offset + 1, field, found: lo }
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// Encodes a request into `out`.
pub(crate) fn encode_request(request: &NativeRequest, out: &mut [u8]) -> Result<usize, EncodeError> {
    if !request.is_broadcast() && !is_unicast(request.address()) {
        return Err(out_of_range("board", request.address().into(), "unicast addresses are 1..=254"));
    }
    let mut w = Writer::new(out);
    frame::begin(&mut w)?;
    w.extend(&[request.address(), request.seq(), request.command_code()])?;
    match *request {
        NativeRequest::GetInfo { .. } | NativeRequest::GetStatus { .. } | NativeRequest::DiscoveryReset { .. } => {}
        NativeRequest::Unlock { boot, lock, pulse_ms, .. } => {
            w.extend(&boot.to_be_bytes())?;
            w.push(lock.get())?;
            w.extend(&pulse_ms.to_be_bytes())?;
        }
        NativeRequest::UnlockMany { boot, locks, pulse_ms, .. } => {
            if locks.is_empty() {
                return Err(out_of_range("locks", 0, "an unlock set must not be empty"));
            }
            w.extend(&boot.to_be_bytes())?;
            w.extend(&pulse_ms.to_be_bytes())?;
            write_minimal_set(&mut w, locks)?;
        }
        NativeRequest::UnlockAll { boot, pulse_ms, .. } => {
            w.extend(&boot.to_be_bytes())?;
            w.extend(&pulse_ms.to_be_bytes())?;
        }
        NativeRequest::ReadEvents { cursor, max, .. } => {
            w.extend(&cursor.to_be_bytes())?;
            w.push(max)?;
        }
        NativeRequest::ReadParameter { parameter, .. } => w.push(parameter_code(parameter)?)?,
        NativeRequest::WriteParameter { parameter, value, .. } => {
            w.push(parameter_code(parameter)?)?;
            w.extend(&value.to_be_bytes())?;
        }
        NativeRequest::Discover { scope, slots, slot_ms, lo, hi, .. } => {
            if slots == 0 || slot_ms == 0 {
                return Err(out_of_range("slots/slot_ms", 0, "discovery slots and slot length are 1..=255"));
            }
            if lo > hi {
                return Err(out_of_range("lo", u32::MAX, "the uid range needs lo <= hi"));
            }
            w.extend(&[scope.code(), slots, slot_ms])?;
            w.extend(&lo.to_be_bytes())?;
            w.extend(&hi.to_be_bytes())?;
        }
        NativeRequest::AssignAddress { uid, address, .. } => {
            if !is_unicast(address) {
                return Err(out_of_range("address", address.into(), "bus addresses are 1..=254"));
            }
            w.extend(&uid.to_be_bytes())?;
            w.push(address)?;
        }
    }
    frame::finish(&mut w)
}

/// Encodes a reply into `out`.
pub(crate) fn encode_reply(reply: &NativeReply, out: &mut [u8]) -> Result<usize, EncodeError> {
    let board = reply.board();
    let from_unassigned_ok = matches!(reply, NativeReply::DiscoverAnswer { .. }) && board == UNASSIGNED;
    if !is_unicast(board) && !from_unassigned_ok {
        return Err(out_of_range("board", board.into(), "a board answers from 1..=254 (0 only in discovery)"));
    }
    let mut w = Writer::new(out);
    begin_reply(&mut w, board, reply.seq(), reply.command_code(), reply.boot())?;
    match *reply {
        NativeReply::Info {
            uid,
            protocol_minor,
            firmware,
            hardware,
            channels,
            max_simultaneous,
            pulse_max_ms,
            event_capacity,
            ..
        } => {
            check_channels(channels)?;
            w.extend(&uid.to_be_bytes())?;
            w.extend(&[protocol_minor, firmware.major, firmware.minor, hardware.major, hardware.minor])?;
            w.extend(&[channels, max_simultaneous])?;
            w.extend(&pulse_max_ms.to_be_bytes())?;
            w.extend(&event_capacity.to_be_bytes())?;
        }
        NativeReply::Status {
            channels,
            ref lock_active,
            ref lock_absent,
            ref door_open,
            ref door_absent,
            ref occupied,
            ref presence_absent,
            ref pulsing,
            ref faulted,
            ..
        } => {
            check_channels(channels)?;
            w.push(channels)?;
            // References: eight sets by value are 128 bytes of stack, copied twice.
            for &set in [lock_active, lock_absent, door_open, door_absent, occupied, presence_absent, pulsing, faulted]
            {
                if set.intersection(LockSet::first(channels)) != set {
                    return Err(out_of_range("status bitmap", channels.into(), "a bit is set past the last channel"));
                }
                for i in 0..bitmap_bytes(channels) {
                    w.push(set.byte(i))?;
                }
            }
        }
        NativeReply::Unlocked { lock, applied_ms, .. } => {
            w.push(lock.get())?;
            w.extend(&applied_ms.to_be_bytes())?;
        }
        NativeReply::UnlockManyAccepted { locks, applied_ms, max_simultaneous, .. }
        | NativeReply::UnlockAllAccepted { locks, applied_ms, max_simultaneous, .. } => {
            w.extend(&applied_ms.to_be_bytes())?;
            w.push(max_simultaneous)?;
            write_minimal_set(&mut w, locks)?;
        }
        // `ref`: the batch is up to 29 events (about 350 bytes); bound by value it would be
        // copied onto the stack, which a board with 2 KiB of RAM feels (examples/firmware).
        NativeReply::Events { lost, more, first, now_ms, ref events, .. } => {
            let head = EventsHead { lost, more, first, now_ms };
            write_events(&mut w, head, (events.as_slice(), &[]))?;
        }
        NativeReply::Parameter { parameter, value, .. } | NativeReply::ParameterWritten { parameter, value, .. } => {
            w.push(parameter_code(parameter)?)?;
            w.extend(&value.to_be_bytes())?;
        }
        NativeReply::DiscoverAnswer { uid, .. } | NativeReply::AddressAssigned { uid, .. } => {
            w.extend(&uid.to_be_bytes())?;
        }
        NativeReply::Error { command, code, detail, .. } => {
            if !code.is_canonical() {
                return Err(out_of_range("error code", code.code().into(), "Unknown must not reuse a defined code"));
            }
            w.extend(&[command, code.code()])?;
            w.extend(&detail.to_be_bytes())?;
        }
    }
    frame::finish(&mut w)
}

/// The start of every reply frame: the envelope, then ADDR, SEQ, CMD and BOOT.
fn begin_reply(w: &mut Writer<'_>, board: u8, seq: u8, command: u8, boot: u16) -> Result<(), EncodeError> {
    frame::begin(w)?;
    w.extend(&[board, seq, command])?;
    w.extend(&boot.to_be_bytes())
}

/// The fields of an `Events` reply before its records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventsHead {
    pub(crate) lost: bool,
    pub(crate) more: bool,
    pub(crate) first: u16,
    pub(crate) now_ms: u32,
}

/// Encodes an `Events` reply whose records are `events.0` then `events.1` (at most
/// [`MAX_EVENTS_PER_REPLY`] in all) without an [`EventBatch`]: the board's event log writes
/// its records straight from its ring into the frame ([`super::EventLog::encode_reply`]).
pub(crate) fn encode_events_reply(
    board: u8,
    seq: u8,
    boot: u16,
    head: EventsHead,
    events: (&[NativeEvent], &[NativeEvent]),
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    if !is_unicast(board) {
        return Err(out_of_range("board", board.into(), "a board answers from 1..=254 (0 only in discovery)"));
    }
    let mut w = Writer::new(out);
    begin_reply(&mut w, board, seq, code::READ_EVENTS | REPLY_BIT, boot)?;
    write_events(&mut w, head, events)?;
    frame::finish(&mut w)
}

/// FLAGS, FIRST, NOW, COUNT and the records of an `Events` reply (PROTOCOL.md §4.6): the
/// records of `events.0`, then of `events.1` (two slices rather than an iterator, so one copy
/// of this code serves the ring and the batch: flash on a Cortex-M0 board).
fn write_events(
    w: &mut Writer<'_>,
    head: EventsHead,
    (older, newer): (&[NativeEvent], &[NativeEvent]),
) -> Result<(), EncodeError> {
    let count = older.len() + newer.len();
    if count > MAX_EVENTS_PER_REPLY {
        return Err(out_of_range(
            "event count",
            u32::try_from(count).unwrap_or(u32::MAX),
            "a reply carries at most 29",
        ));
    }
    let flags = if head.lost { FLAG_LOST } else { 0 } | if head.more { FLAG_MORE } else { 0 };
    w.push(flags)?;
    w.extend(&head.first.to_be_bytes())?;
    w.extend(&head.now_ms.to_be_bytes())?;
    // count <= 29.
    w.push(count as u8)?;
    for event in older.iter().chain(newer) {
        write_event(w, event)?;
    }
    Ok(())
}

fn write_minimal_set(w: &mut Writer<'_>, set: LockSet) -> Result<(), EncodeError> {
    let n = minimal_bytes(set);
    // minimal_bytes is at most 16.
    w.push(u8::try_from(n).unwrap_or(16))?;
    for i in 0..n {
        w.push(set.byte(i))?;
    }
    Ok(())
}

fn write_event(w: &mut Writer<'_>, event: &NativeEvent) -> Result<(), EncodeError> {
    let (kind, channel, value): (u8, u8, u16) = match event.kind {
        EventKind::Boot { cause } => {
            (event_code::BOOT, 0, canonical(cause.is_canonical(), cause.code(), "reset cause")?)
        }
        EventKind::DoorOpened { lock } => (event_code::DOOR_OPENED, lock.get(), 0),
        EventKind::DoorClosed { lock } => (event_code::DOOR_CLOSED, lock.get(), 0),
        EventKind::LockInput { lock, active } => (event_code::LOCK_INPUT, lock.get(), active.into()),
        EventKind::Presence { lock, occupied } => (event_code::PRESENCE, lock.get(), occupied.into()),
        EventKind::PulseStarted { lock, applied_ms } => (event_code::PULSE_STARTED, lock.get(), applied_ms),
        EventKind::PulseEnded { lock, end } => {
            (event_code::PULSE_ENDED, lock.get(), canonical(end.is_canonical(), end.code(), "pulse end")?)
        }
        EventKind::Fault { lock, fault } => {
            (event_code::FAULT, lock.map_or(0, Lock::get), canonical(fault.is_canonical(), fault.code(), "fault code")?)
        }
        EventKind::Unknown { code, channel, value } => {
            if (event_code::BOOT..=event_code::FAULT).contains(&code) {
                return Err(out_of_range("event kind", code.into(), "Unknown must not reuse a defined kind"));
            }
            (code, channel, value)
        }
    };
    w.extend(&[kind, channel])?;
    w.extend(&value.to_be_bytes())?;
    w.extend(&event.time_ms.to_be_bytes())
}

fn canonical(ok: bool, code: u8, field: &'static str) -> Result<u16, EncodeError> {
    if ok { Ok(code.into()) } else { Err(out_of_range(field, code.into(), "Unknown must not reuse a defined code")) }
}

fn parameter_code(parameter: ParameterCode) -> Result<u8, EncodeError> {
    if parameter.is_canonical() {
        Ok(parameter.code())
    } else {
        Err(out_of_range("parameter", parameter.code().into(), "Unknown must not reuse a defined code"))
    }
}

fn check_channels(channels: u8) -> Result<(), EncodeError> {
    if channels == 0 || channels > MAX_CHANNELS {
        Err(out_of_range("channels", channels.into(), "a board has 1..=128 channels"))
    } else {
        Ok(())
    }
}

const fn out_of_range(field: &'static str, value: u32, reason: &'static str) -> EncodeError {
    EncodeError::OutOfRange { field, value, reason }
}
