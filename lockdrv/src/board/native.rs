//! The native protocol's board side (lockproto/PROTOCOL.md §4, §5): reply cache, event log,
//! boot id, clamped pulses, discovery.

use lockproto::native::RawFrame;
use lockproto::native::discovery::discover_answer_delay;
use lockproto::native::frame::{BROADCAST, CRC_LEN, PROTOCOL_MINOR, REPLY_PAYLOAD, REQUEST_PAYLOAD};
use lockproto::native::messages::{ErrorCode, EventKind, NativeReply, NativeRequest, ParameterCode, PulseEnd};
use lockproto::native::{EVENT_RECORD_LEN, EventLog, frame::MAX_FRAME_LEN};
use lockproto::native::{FaultCode, Native, ReplyCache, RequestKey, ResetCause};
use lockproto::{Dialect, FrameError, Lock, LockSet};

use super::hardware::{Changes, Hardware};
use super::protocol::Protocol;
use super::pulse::{PulseConfig, PulseOutcome};

/// Default event log capacity: 64, PROTOCOL.md §5.3 ("64 or more recommended").
pub const DEFAULT_EVENTS: usize = 64;
/// Default reply cache entries: 2, PROTOCOL.md §5.2 ("2 recommended").
pub const DEFAULT_CACHE: usize = 2;
/// The longest reply to an unlock (PROTOCOL.md §4.4): `UnlockManyAccepted` of all 128 locks,
/// the payload head, a minimal bitmap (count + 16 bytes), the pulse (2) and the budget (1),
/// then the CRC. A reply cache must hold at least this much per entry: unlocks are the
/// requests that must never run twice.
pub const UNLOCK_REPLY_MAX_LEN: usize = REPLY_PAYLOAD + 1 + 16 + 2 + 1 + CRC_LEN;
/// Bytes of an events reply besides its records (PROTOCOL.md §4.6): the payload head, FLAGS,
/// FIRST (2), NOW (4) and COUNT, then the CRC.
const EVENTS_REPLY_OVERHEAD: usize = REPLY_PAYLOAD + 8 + CRC_LEN;

/// Serial rates a native board accepts (PROTOCOL.md §4.9).
const BAUD_RATES: [u32; 5] = [9_600, 19_200, 38_400, 57_600, 115_200];
/// Longest debounce a master may set, ms (PROTOCOL.md §4.9).
const MAX_DEBOUNCE_MS: u32 = 1_000;

/// Frame offsets of request fields, for `BadArgument` details (PROTOCOL.md §4.3, §4.4).
const UNLOCK_LOCK_OFFSET: u16 = REQUEST_PAYLOAD as u16 + 2;
const UNLOCK_PULSE_OFFSET: u16 = REQUEST_PAYLOAD as u16 + 3;
const MANY_PULSE_OFFSET: u16 = REQUEST_PAYLOAD as u16 + 2;
const MANY_BITMAP_OFFSET: u16 = REQUEST_PAYLOAD as u16 + 5;
const PARAM_VALUE_OFFSET: u16 = REQUEST_PAYLOAD as u16 + 1;

/// Identity of a native board for one boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeIdentity {
    /// The board's unique id.
    pub uid: u64,
    /// This boot's id, `1..=0xFFFF` (0 is replaced by 1): differs from the previous boot's.
    pub boot: u16,
    /// Why the board started.
    pub cause: ResetCause,
}

/// The native protocol handler of a board: `EV` events in the log, `CACHE` cached replies of
/// at most `CACHE_MAX` bytes each.
///
/// Replies longer than `CACHE_MAX` are not cached (a retry of such a request runs again):
/// with the default, every reply is cached; the least that may be chosen is
/// [`UNLOCK_REPLY_MAX_LEN`], which keeps every unlock reply (an unlock must never run twice)
/// and leaves out only replies to reads, which give the same answer when run again.
pub struct NativeFirmware<
    const EV: usize = DEFAULT_EVENTS,
    const CACHE: usize = DEFAULT_CACHE,
    const CACHE_MAX: usize = MAX_FRAME_LEN,
> {
    dialect: Native,
    uid: u64,
    muted: bool,
    events: EventLog<EV>,
    cache: ReplyCache<CACHE, CACHE_MAX>,
    reply_delay_ms: u32,
}

impl<const EV: usize, const CACHE: usize, const CACHE_MAX: usize> NativeFirmware<EV, CACHE, CACHE_MAX> {
    const VALID: () = assert!(
        CACHE_MAX >= UNLOCK_REPLY_MAX_LEN,
        "a native reply cache entry must hold an unlock reply (UNLOCK_REPLY_MAX_LEN bytes)"
    );

    /// A board that just booted at uptime `now_ms`: event 0 is `Boot`, the cache is empty.
    pub fn new(identity: NativeIdentity, now_ms: u64) -> Self {
        let () = Self::VALID;
        let boot = identity.boot.max(1);
        let mut events = EventLog::new();
        events.push(EventKind::Boot { cause: identity.cause }, uptime(now_ms));
        NativeFirmware {
            dialect: Native { boot, ..Native::default() },
            uid: identity.uid,
            muted: false,
            events,
            cache: ReplyCache::default(),
            reply_delay_ms: 0,
        }
    }

    /// This boot's id.
    pub fn boot(&self) -> u16 {
        self.dialect.boot
    }

    /// The board's unique id.
    pub fn uid(&self) -> u64 {
        self.uid
    }

    /// The event log.
    pub fn events(&self) -> &EventLog<EV> {
        &self.events
    }

    /// Carries out `request` and encodes its reply into `out`; returns the reply's length, 0
    /// when there is none.
    fn execute<const CH: usize>(
        &mut self,
        request: &NativeRequest,
        hw: &mut Hardware<CH>,
        now_ms: u64,
        out: &mut [u8],
    ) -> usize {
        let board = hw.address();
        let boot = self.boot();
        let seq = request.seq();
        let command = request.command_code();
        let error = |code: ErrorCode, detail: u16| NativeReply::Error { board, seq, boot, command, code, detail };
        let pulse_max = hw.pulse_config().max_on_ms;
        let clamp = |pulse_ms: u16| u16::try_from(u32::from(pulse_ms).min(pulse_max)).unwrap_or(u16::MAX);
        let reply = match *request {
            NativeRequest::GetInfo { .. } => NativeReply::Info {
                board,
                seq,
                boot,
                uid: self.uid,
                protocol_minor: PROTOCOL_MINOR,
                firmware: hw.config().firmware,
                hardware: hw.config().hardware,
                channels: hw.channels(),
                max_simultaneous: hw.pulse_config().max_simultaneous,
                pulse_max_ms: u16::try_from(pulse_max).unwrap_or(u16::MAX),
                event_capacity: u16::try_from(EV).unwrap_or(u16::MAX),
            },
            NativeRequest::GetStatus { .. } => {
                let status = hw.status();
                let all = LockSet::first(hw.channels());
                let (occupied, presence_absent) = match hw.occupied() {
                    Some(occupied) => (occupied, LockSet::EMPTY),
                    None => (LockSet::EMPTY, all),
                };
                NativeReply::Status {
                    board,
                    seq,
                    boot,
                    channels: hw.channels(),
                    lock_active: status.locks.active,
                    lock_absent: LockSet::EMPTY,
                    door_open: hw.doors_open(),
                    door_absent: LockSet::EMPTY,
                    occupied,
                    presence_absent,
                    pulsing: hw.outputs(),
                    faulted: LockSet::EMPTY,
                }
            }
            NativeRequest::Unlock { boot: expected, lock, pulse_ms, .. } => {
                if expected != 0 && expected != boot {
                    error(ErrorCode::BootMismatch, 0)
                } else if pulse_ms == 0 {
                    error(ErrorCode::BadArgument, UNLOCK_PULSE_OFFSET)
                } else {
                    let applied_ms = clamp(pulse_ms);
                    match hw.pulse(lock, applied_ms.into(), now_ms) {
                        Ok(outcome) => {
                            self.accepted(lock, applied_ms, outcome, now_ms);
                            NativeReply::Unlocked { board, seq, boot, lock, applied_ms }
                        }
                        Err(_) => error(ErrorCode::BadArgument, UNLOCK_LOCK_OFFSET),
                    }
                }
            }
            NativeRequest::UnlockMany { boot: expected, locks, pulse_ms, .. } => {
                match self.unlock_many(hw, expected, locks, pulse_ms, now_ms) {
                    Ok((applied_ms, max_simultaneous)) => {
                        NativeReply::UnlockManyAccepted { board, seq, boot, locks, applied_ms, max_simultaneous }
                    }
                    Err((code, detail)) => error(code, detail),
                }
            }
            NativeRequest::UnlockAll { boot: expected, pulse_ms, .. } => {
                let locks = LockSet::first(hw.channels());
                match self.unlock_many(hw, expected, locks, pulse_ms, now_ms) {
                    Ok((applied_ms, max_simultaneous)) => {
                        NativeReply::UnlockAllAccepted { board, seq, boot, locks, applied_ms, max_simultaneous }
                    }
                    Err((code, detail)) => error(code, detail),
                }
            }
            NativeRequest::ReadEvents { cursor, max, .. } => {
                // As many as the reply's room holds (at least one); `more` tells the master to
                // read on (PROTOCOL.md §4.6). With the core's default buffers a full batch fits.
                let fit = (out.len().saturating_sub(EVENTS_REPLY_OVERHEAD) / EVENT_RECORD_LEN).max(1);
                let fit = u8::try_from(fit).unwrap_or(u8::MAX);
                // 0 asks for as many as one reply holds.
                let max = if max == 0 { fit } else { max.min(fit) };
                // Encoded from the log: an `Events` reply value would hold a 29-event batch.
                return self.events.encode_reply(board, seq, boot, cursor, max, uptime(now_ms), out).unwrap_or(0);
            }
            NativeRequest::ReadParameter { parameter, .. } => match read_parameter(hw, parameter) {
                Some(value) => NativeReply::Parameter { board, seq, boot, parameter, value },
                None => error(ErrorCode::UnknownParameter, parameter.code().into()),
            },
            NativeRequest::WriteParameter { parameter, value, .. } => match write_parameter(hw, parameter, value) {
                Ok(value) => NativeReply::ParameterWritten { board, seq, boot, parameter, value },
                Err(code) => {
                    let detail =
                        if code == ErrorCode::UnknownParameter { parameter.code().into() } else { PARAM_VALUE_OFFSET };
                    error(code, detail)
                }
            },
            NativeRequest::DiscoveryReset { .. } => {
                self.muted = false;
                return 0;
            }
            NativeRequest::Discover { .. } => {
                let Some(delay) = discover_answer_delay(request, self.uid, board, self.muted) else { return 0 };
                self.reply_delay_ms = delay;
                NativeReply::DiscoverAnswer { board, seq, boot, uid: self.uid }
            }
            NativeRequest::AssignAddress { uid, address, .. } => {
                if uid != self.uid {
                    return 0;
                }
                hw.set_address(address);
                self.muted = true;
                NativeReply::AddressAssigned { board: address, seq, boot, uid }
            }
        };
        self.dialect.encode_reply(&reply, out).unwrap_or(0)
    }

    /// Pulses `locks` (UnlockMany, UnlockAll); returns the pulse length applied and the
    /// simultaneous limit for the reply, or the error code and detail to answer with.
    fn unlock_many<const CH: usize>(
        &mut self,
        hw: &mut Hardware<CH>,
        expected: u16,
        locks: LockSet,
        pulse_ms: u16,
        now_ms: u64,
    ) -> Result<(u16, u8), (ErrorCode, u16)> {
        let boot = self.boot();
        if expected != 0 && expected != boot {
            return Err((ErrorCode::BootMismatch, 0));
        }
        if pulse_ms == 0 {
            return Err((ErrorCode::BadArgument, MANY_PULSE_OFFSET));
        }
        if locks.last().is_some_and(|last| last.get() > hw.channels()) {
            return Err((ErrorCode::BadArgument, MANY_BITMAP_OFFSET));
        }
        let pulse_max = hw.pulse_config().max_on_ms;
        let applied_ms = u16::try_from(u32::from(pulse_ms).min(pulse_max)).unwrap_or(u16::MAX);
        for lock in locks.iter() {
            let outcome =
                hw.pulse(lock, applied_ms.into(), now_ms).map_err(|_| (ErrorCode::BadArgument, MANY_BITMAP_OFFSET))?;
            self.accepted(lock, applied_ms, outcome, now_ms);
        }
        Ok((applied_ms, hw.pulse_config().max_simultaneous))
    }

    fn accepted(&mut self, lock: Lock, applied_ms: u16, outcome: PulseOutcome, now_ms: u64) {
        // A queued pulse logs `PulseStarted` when it starts (`on_changes`).
        if let PulseOutcome::Started { .. } = outcome {
            self.events.push(EventKind::PulseStarted { lock, applied_ms }, uptime(now_ms));
        }
    }
}

impl<const EV: usize, const CACHE: usize, const CACHE_MAX: usize> core::fmt::Debug
    for NativeFirmware<EV, CACHE, CACHE_MAX>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NativeFirmware")
            .field("uid", &self.uid)
            .field("boot", &self.dialect.boot)
            .field("muted", &self.muted)
            .field("events", &self.events.len())
            .field("cache", &self.cache)
            .finish()
    }
}

impl<const EV: usize, const CACHE: usize, const CACHE_MAX: usize, const CH: usize> Protocol<CH>
    for NativeFirmware<EV, CACHE, CACHE_MAX>
{
    type Dialect = Native;

    fn dialect(&self) -> &Native {
        &self.dialect
    }

    fn on_request(&mut self, request: &NativeRequest, hw: &mut Hardware<CH>, now_ms: u64, out: &mut [u8]) -> usize {
        // The codec is byte-exact: re-encoding the decoded request gives back the frame that
        // arrived, for the cache key.
        let mut frame = [0u8; MAX_FRAME_LEN];
        let len = self.dialect.encode_request(request, &mut frame).unwrap_or(0);
        let frame = frame.get(..len).unwrap_or_default();
        self.on_request_frame(request, frame, hw, now_ms, out)
    }

    fn on_request_frame(
        &mut self,
        request: &NativeRequest,
        frame: &[u8],
        hw: &mut Hardware<CH>,
        now_ms: u64,
        out: &mut [u8],
    ) -> usize {
        self.reply_delay_ms = 0;
        let broadcast = request.is_broadcast() || request.address() == BROADCAST;
        if !broadcast && request.address() != hw.address() {
            return 0;
        }
        // The cache key is the frame's SEQ and CRC (PROTOCOL.md §5.2). The board core always
        // hands the frame over; without it the reply is not cached.
        let key = RequestKey::of_frame(frame).ok();
        let now32 = uptime(now_ms);
        if !broadcast
            && let Some(key) = key
            && let Some(cached) = self.cache.lookup(key, now32)
        {
            // A retry: answer again, never execute again (PROTOCOL.md §5.2 rule 1).
            return copy_into(out, cached);
        }
        let len = self.execute(request, hw, now_ms, out);
        if !broadcast
            && len > 0
            && len <= CACHE_MAX
            && let (Some(key), Some(bytes)) = (key, out.get(..len))
        {
            // Only replies that fit are stored (storing evicts an entry first, so a long read
            // reply must not push out a cached unlock reply). Every unlock reply fits
            // (`VALID`); a read not cached is simply answered again.
            let _ = self.cache.store(key, bytes, now32);
        }
        len
    }

    fn take_reply_delay_ms(&mut self) -> u32 {
        core::mem::take(&mut self.reply_delay_ms)
    }

    /// A CRC-valid frame for this board that does not decode (another major version, an unknown
    /// command, a bad length or field) gets an error reply (PROTOCOL.md §3.3).
    fn on_rejected(
        &mut self,
        bytes: &[u8],
        error: &FrameError,
        hw: &mut Hardware<CH>,
        _now_ms: u64,
        out: &mut [u8],
    ) -> usize {
        let Ok(raw) = RawFrame::parse(bytes) else { return 0 };
        let Some(reply) = self.dialect.refusal(&raw.message, error, hw.address()) else { return 0 };
        self.dialect.encode_reply(&reply, out).unwrap_or(0)
    }

    fn on_changes(&mut self, changes: &Changes, hw: &Hardware<CH>, now_ms: u64) {
        let time = uptime(now_ms);
        for lock in changes.pulses.started.iter() {
            // A queued pulse started in this poll, at `now_ms`: it runs until its end.
            let left = hw.pulse_ends_at(lock).map_or(0, |end| end.saturating_sub(now_ms));
            let applied_ms = u16::try_from(left).unwrap_or(u16::MAX);
            self.events.push(EventKind::PulseStarted { lock, applied_ms }, time);
        }
        // The door event first: it is why a pulse was cut short (PROTOCOL.md §7.5 order).
        for lock in changes.doors.rose.iter() {
            self.events.push(EventKind::DoorOpened { lock }, time);
        }
        for lock in changes.pulses.ended.iter() {
            let end = if changes.ended_by_door.contains(lock) { PulseEnd::DoorOpened } else { PulseEnd::Completed };
            self.events.push(EventKind::PulseEnded { lock, end }, time);
            if !hw.doors_open().contains(lock) && !changes.doors.rose.contains(lock) {
                // The pulse ran its full time and the door stayed shut: a jam (domain F1).
                self.events.push(EventKind::Fault { lock: Some(lock), fault: FaultCode::Jam }, time);
            }
        }
        for lock in changes.doors.fell.iter() {
            self.events.push(EventKind::DoorClosed { lock }, time);
        }
        for lock in changes.presence.rose.iter() {
            self.events.push(EventKind::Presence { lock, occupied: true }, time);
        }
        for lock in changes.presence.fell.iter() {
            self.events.push(EventKind::Presence { lock, occupied: false }, time);
        }
    }
}

/// The board's uptime clock on the wire: ms, wrapping after 49.7 days (PROTOCOL.md §4.6).
fn uptime(now_ms: u64) -> u32 {
    now_ms as u32
}

fn copy_into(out: &mut [u8], bytes: &[u8]) -> usize {
    match out.get_mut(..bytes.len()) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            bytes.len()
        }
        None => 0,
    }
}

fn read_parameter<const CH: usize>(hw: &Hardware<CH>, parameter: ParameterCode) -> Option<u32> {
    Some(match parameter {
        ParameterCode::PulseMaxMs => hw.pulse_config().max_on_ms,
        ParameterCode::MaxSimultaneous => hw.pulse_config().max_simultaneous.into(),
        ParameterCode::BaudRate => hw.baud(),
        ParameterCode::Address => hw.address().into(),
        ParameterCode::DebounceMs => hw.debounce_ms(),
        ParameterCode::Unknown { .. } => return None,
    })
}

fn write_parameter<const CH: usize>(
    hw: &mut Hardware<CH>,
    parameter: ParameterCode,
    value: u32,
) -> Result<u32, ErrorCode> {
    let config = hw.pulse_config();
    match parameter {
        ParameterCode::PulseMaxMs if (1..=u32::from(u16::MAX)).contains(&value) => {
            hw.set_pulse_config(PulseConfig { max_on_ms: value, ..config });
        }
        ParameterCode::MaxSimultaneous if value <= u32::from(hw.channels()) => {
            // 0 = no limit: every channel may be on at once.
            let max = if value == 0 { hw.channels() } else { value as u8 };
            hw.set_pulse_config(PulseConfig { max_simultaneous: max, ..config });
            return Ok(value);
        }
        ParameterCode::BaudRate if BAUD_RATES.contains(&value) => hw.set_baud(value),
        ParameterCode::Address if (1..=254).contains(&value) => hw.set_address(value as u8),
        ParameterCode::DebounceMs if value <= MAX_DEBOUNCE_MS => hw.set_debounce_ms(value),
        ParameterCode::Unknown { .. } => return Err(ErrorCode::UnknownParameter),
        _ => return Err(ErrorCode::BadArgument),
    }
    read_parameter(hw, parameter).ok_or(ErrorCode::UnknownParameter)
}
