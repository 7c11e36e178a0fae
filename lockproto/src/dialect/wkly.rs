//! The "WKLY" framed lock board (`wkly_framed_xor`, reference/lockboards.md §5).
//!
//! A sample-cabinet lock board with 12 or 24 channels, documented by the vendor demo frames in
//! junerver/LockDemo (`LockCtlBoardCmdHelper.java`, `ExampleUnitTest.kt`) and by an independent
//! ESP32 driver (`lock_controller_driver.h`, which cites the vendor PDF).
//!
//! # Frame
//!
//! | offset | size | field | notes |
//! |---|---|---|---|
//! | 0 | 4 | start code | `57 4B 4C 59`, ASCII "WKLY" |
//! | 4 | 1 | LEN | total frame length, start code and checksum included |
//! | 5 | 1 | ADDR | board address (0-31 on the DIP switch) |
//! | 6 | 1 | CMD | command, the same code in request and reply |
//! | 7 | LEN-8 | DATA | see below |
//! | LEN-1 | 1 | X | XOR of every previous byte, start code included |
//!
//! | CMD | meaning | request DATA | reply DATA |
//! |---|---|---|---|
//! | `0x80` | open several at once | N, ch… | status |
//! | `0x81` | flash a channel's LED | ch | status, ch |
//! | `0x82` | open one | ch | status, ch, lock_state |
//! | `0x83` | query one | ch | status, ch, lock_state |
//! | `0x84` | query all | — | status, N, N × lock_state |
//! | `0x85` | state change, **unsolicited** | (none: board → master only) | ch, lock_state |
//! | `0x86` | open all (one by one) | — | status |
//! | `0x87` | open several one by one | N, ch… | status |
//! | `0x88` | keep a channel on | ch | status, ch |
//! | `0x89` | switch a channel off | ch | status, ch |
//!
//! status: `00` success, `FF` failure ([`WklyStatus`]). lock_state: `00` open, `01` closed,
//! `FF` failure ([`WklyLockState`]). Channels are 1-based on the wire (the demo opens "door 1"
//! with `ch = 01`), so a wire channel is a [`Lock`] directly and channel 0 is rejected.
//!
//! # Decoding choices
//!
//! * Every frame's LEN is checked against its command's layout, so `57 4B 4C 59 08 00 86 00 86`
//!   (LEN 8 for a 9-byte reply, vector v132) is rejected at once.
//! * The channel lists of `0x80` / `0x87` are kept as a [`LockSet`]; to stay wire-exact the
//!   decoder accepts only strictly ascending lists (what every source sends) and rejects others.
//! * `0x84` replies keep each channel's raw lock_state byte ([`WklyStates`], up to
//!   [`MAX_STATE_CHANNELS`] channels).
//! * `0x85` is accepted by [`Dialect::decode_reply`] at any time, with or without a pending
//!   request: the board sends it on its own whenever a door changes (§5.3).
//! * One ESP32 `main.c` XORs from LEN onwards, without the start code; every example frame from
//!   the vendor (`… 09 00 82 01 83`, `… 0B 01 82 00 04 00 85`) includes it, so that variant is not
//!   supported.
//!
//! # Neutral mapping
//!
//! | [`Command`] | request |
//! |---|---|
//! | `Unlock(lock)` | `0x82` |
//! | `UnlockMany(set)` | `0x87` (one by one) or `0x80` (at once, at most [`MAX_SIMULTANEOUS_UNLOCKS`] locks): [`Wkly::unlock_many`] |
//! | `UnlockAll` | `0x86` |
//! | `QueryLock(lock)` | `0x83` |
//! | `QueryAll` | `0x84` |
//!
//! Replies map to [`Response::Status`] whose `locks` reading is the board's lock_state, raw:
//! **`01` closed is "active"**, `00` open is inactive. In a `0x84` reply a channel reading `FF`
//! (failure) or an unknown value is left unreported; in a `0x82` / `0x83` reply, which is about
//! that one lock, it becomes a [`Response::DeviceError`] (`FF`: [`DeviceErrorKind::Failed`]).
//! A status of `FF` maps to [`DeviceErrorKind::Failed`], other non-zero statuses to
//! [`DeviceErrorKind::Other`], the bare-status replies with status `00` to [`Response::Ack`], and
//! the unsolicited `0x85` to [`Response::InputChanged`] (active = closed).
//!
//! # Example
//!
//! ```
//! use lockproto::dialect::wkly::{Wkly, WklyLockState, WklyReply, WklyStatus};
//! use lockproto::{Command, Dialect, Lock};
//!
//! let wkly = Wkly::default();
//! let lock = Lock::new(1).unwrap();
//! let request = wkly.request(0, &Command::Unlock(lock)).unwrap();
//! let mut frame = [0u8; 16];
//! let n = wkly.encode_request(&request, &mut frame).unwrap();
//! assert_eq!(&frame[..n], &[0x57, 0x4B, 0x4C, 0x59, 0x09, 0x00, 0x82, 0x01, 0x83]);
//!
//! let answer = [0x57, 0x4B, 0x4C, 0x59, 0x0B, 0x00, 0x82, 0x00, 0x01, 0x00, 0x81];
//! let reply = wkly.decode_reply(&answer, Some(&request)).unwrap().message;
//! assert_eq!(reply, WklyReply::Unlock { board: 0, status: WklyStatus::Success, lock, state: WklyLockState::Open });
//! ```

use core::fmt;

use crate::checksum::xor;
use crate::dialect::{Decoded, Dialect, ReplyExpectation};
use crate::error::{EncodeError, FrameError};
use crate::model::{
    BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, Lock, LockSet, MAX_CHANNELS, Response,
};
use crate::wire::{Reader, Writer};

/// The start code every frame begins with: ASCII "WKLY".
pub const START_CODE: [u8; 4] = *b"WKLY";

/// Serial speed, 8N1 (`DEFAULT_BAUD_RATE = 9600` in junerver/LockDemo `LockCtlBoardSerialSender.java`).
pub const BAUD_RATE: u32 = 9600;

/// How long the ESP32 driver waits for a reply frame (its `rs485_driver_read_data` timeout,
/// reference/lockboards.md §5 second source).
pub const RESPONSE_TIMEOUT_MS: u32 = 1000;

/// How many locks `0x80` (open several at once) can really open: "实际使用时最多支持两个锁，第三个锁将
/// 无法打开", in practice at most two, the third does not open (reference/lockboards.md §5.3). The
/// limit is the board's power supply, so [`Wkly::request`] refuses larger simultaneous sets.
pub const MAX_SIMULTANEOUS_UNLOCKS: u32 = 2;

/// Channel count the vendor helper assumes (`DEFAULT_CHANNEL_COUNT = 24`, LockCtlBoardCmdHelper.java).
pub const DEFAULT_CHANNELS: u8 = 24;

/// The most channels a `0x84` reply may report here (the model's [`MAX_CHANNELS`]).
pub const MAX_STATE_CHANNELS: usize = MAX_CHANNELS as usize;

/// The command codes.
mod code {
    pub const UNLOCK_SIMULTANEOUS: u8 = 0x80;
    pub const FLASH_LED: u8 = 0x81;
    pub const UNLOCK: u8 = 0x82;
    pub const QUERY_LOCK: u8 = 0x83;
    pub const QUERY_ALL: u8 = 0x84;
    pub const STATE_CHANGED: u8 = 0x85;
    pub const UNLOCK_ALL: u8 = 0x86;
    pub const UNLOCK_SEQUENTIAL: u8 = 0x87;
    pub const KEEP_ON: u8 = 0x88;
    pub const SWITCH_OFF: u8 = 0x89;
}

const OFF_LEN: usize = 4;
const OFF_ADDR: usize = 5;
const OFF_CMD: usize = 6;
const OFF_DATA: usize = 7;
/// Start code, LEN, ADDR, CMD and X: a frame without data.
const MIN_LEN: usize = 8;

/// A command's `status` byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum WklyStatus {
    /// `0x00`: carried out.
    Success,
    /// `0xFF`: the board failed.
    Failure,
    /// Any other value (no source defines one).
    Unknown {
        /// The byte.
        code: u8,
    },
}

impl WklyStatus {
    /// The status a wire byte stands for.
    pub const fn from_code(code: u8) -> Self {
        match code {
            0x00 => WklyStatus::Success,
            0xFF => WklyStatus::Failure,
            code => WklyStatus::Unknown { code },
        }
    }

    /// The wire byte.
    pub const fn code(self) -> u8 {
        match self {
            WklyStatus::Success => 0x00,
            WklyStatus::Failure => 0xFF,
            WklyStatus::Unknown { code } => code,
        }
    }
}

/// A channel's `lock_state` byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum WklyLockState {
    /// `0x00`: open (in `0x85`: the door went from closed to open).
    Open,
    /// `0x01`: closed (in `0x85`: the door went from open to closed).
    Closed,
    /// `0xFF`: the board could not read it.
    Failure,
    /// Any other value.
    Unknown {
        /// The byte.
        code: u8,
    },
}

impl WklyLockState {
    /// The state a wire byte stands for.
    pub const fn from_code(code: u8) -> Self {
        match code {
            0x00 => WklyLockState::Open,
            0x01 => WklyLockState::Closed,
            0xFF => WklyLockState::Failure,
            code => WklyLockState::Unknown { code },
        }
    }

    /// The wire byte.
    pub const fn code(self) -> u8 {
        match self {
            WklyLockState::Open => 0x00,
            WklyLockState::Closed => 0x01,
            WklyLockState::Failure => 0xFF,
            WklyLockState::Unknown { code } => code,
        }
    }

    /// The raw reading: `Some(true)` for closed (the "active" state), `Some(false)` for open,
    /// `None` for failure and unknown values.
    pub const fn active(self) -> Option<bool> {
        match self {
            WklyLockState::Closed => Some(true),
            WklyLockState::Open => Some(false),
            WklyLockState::Failure | WklyLockState::Unknown { .. } => None,
        }
    }
}

/// The per-channel lock states of a `0x84` reply: channel 1 first, raw bytes kept.
///
/// Serialized as a list of [`WklyLockState`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WklyStates {
    len: u8,
    // Bytes past `len` stay zero, so the derived equality compares only the reported channels.
    codes: [u8; MAX_STATE_CHANNELS],
}

impl Default for WklyStates {
    fn default() -> Self {
        WklyStates::new()
    }
}

impl WklyStates {
    /// No channels.
    pub const fn new() -> Self {
        WklyStates { len: 0, codes: [0; MAX_STATE_CHANNELS] }
    }

    /// The states of channels `1..=states.len()`, or `None` above [`MAX_STATE_CHANNELS`].
    pub fn from_states(states: &[WklyLockState]) -> Option<Self> {
        let mut list = WklyStates::new();
        for state in states {
            list.push(*state).ok()?;
        }
        Some(list)
    }

    /// Appends the next channel's state.
    ///
    /// # Errors
    /// [`EncodeError::OutOfRange`] when the list already holds [`MAX_STATE_CHANNELS`] channels.
    pub fn push(&mut self, state: WklyLockState) -> Result<(), EncodeError> {
        let full = EncodeError::OutOfRange {
            field: "states",
            value: MAX_STATE_CHANNELS as u32 + 1,
            reason: "at most 128 channels",
        };
        let slot = self.codes.get_mut(usize::from(self.len)).ok_or(full)?;
        *slot = state.code();
        self.len += 1;
        Ok(())
    }

    /// Number of channels reported (the reply's N).
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no channel is reported.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The state of `lock`, if the reply reported it.
    pub fn get(&self, lock: Lock) -> Option<WklyLockState> {
        self.raw().get(lock.index()).map(|code| WklyLockState::from_code(*code))
    }

    /// The states, channel 1 first.
    pub fn iter(&self) -> impl Iterator<Item = WklyLockState> + '_ {
        self.raw().iter().map(|code| WklyLockState::from_code(*code))
    }

    /// The raw lock_state bytes, channel 1 first.
    pub fn raw(&self) -> &[u8] {
        self.codes.get(..self.len()).unwrap_or_default()
    }
}

impl fmt::Debug for WklyStates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for WklyStates {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for WklyStates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = WklyStates;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of at most 128 lock states")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<WklyStates, A::Error> {
                let mut list = WklyStates::new();
                while let Some(state) = seq.next_element::<WklyLockState>()? {
                    list.push(state).map_err(|_| serde::de::Error::custom("more than 128 lock states"))?;
                }
                Ok(list)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for WklyStates {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = u.int_in_range(0..=MAX_STATE_CHANNELS)?;
        let mut list = WklyStates::new();
        for _ in 0..len {
            list.push(WklyLockState::arbitrary(u)?).map_err(|_| arbitrary::Error::IncorrectFormat)?;
        }
        Ok(list)
    }
}

/// Master → board messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum WklyRequest {
    /// `0x80`: open several locks at the same time. Mind [`MAX_SIMULTANEOUS_UNLOCKS`].
    UnlockSimultaneous {
        /// Board address.
        board: u8,
        /// The locks, sent in ascending order (1..=128 of them).
        locks: LockSet,
    },
    /// `0x81`: flash a channel's LED.
    FlashLed {
        /// Board address.
        board: u8,
        /// The channel.
        lock: Lock,
    },
    /// `0x82`: open one lock.
    Unlock {
        /// Board address.
        board: u8,
        /// The lock.
        lock: Lock,
    },
    /// `0x83`: read one lock's state.
    QueryLock {
        /// Board address.
        board: u8,
        /// The lock.
        lock: Lock,
    },
    /// `0x84`: read every lock's state.
    QueryAll {
        /// Board address.
        board: u8,
    },
    /// `0x86`: open every lock, one by one.
    UnlockAll {
        /// Board address.
        board: u8,
    },
    /// `0x87`: open several locks one by one.
    UnlockSequential {
        /// Board address.
        board: u8,
        /// The locks, sent (and opened) in ascending order (1..=128 of them).
        locks: LockSet,
    },
    /// `0x88`: keep a channel's output on until [`WklyRequest::SwitchOff`].
    KeepOn {
        /// Board address.
        board: u8,
        /// The channel.
        lock: Lock,
    },
    /// `0x89`: switch a channel's output off.
    SwitchOff {
        /// Board address.
        board: u8,
        /// The channel.
        lock: Lock,
    },
}

impl WklyRequest {
    /// The board address.
    pub const fn board(&self) -> u8 {
        match *self {
            WklyRequest::UnlockSimultaneous { board, .. }
            | WklyRequest::FlashLed { board, .. }
            | WklyRequest::Unlock { board, .. }
            | WklyRequest::QueryLock { board, .. }
            | WklyRequest::QueryAll { board }
            | WklyRequest::UnlockAll { board }
            | WklyRequest::UnlockSequential { board, .. }
            | WklyRequest::KeepOn { board, .. }
            | WklyRequest::SwitchOff { board, .. } => board,
        }
    }

    /// The command code.
    pub const fn code(&self) -> u8 {
        match self {
            WklyRequest::UnlockSimultaneous { .. } => code::UNLOCK_SIMULTANEOUS,
            WklyRequest::FlashLed { .. } => code::FLASH_LED,
            WklyRequest::Unlock { .. } => code::UNLOCK,
            WklyRequest::QueryLock { .. } => code::QUERY_LOCK,
            WklyRequest::QueryAll { .. } => code::QUERY_ALL,
            WklyRequest::UnlockAll { .. } => code::UNLOCK_ALL,
            WklyRequest::UnlockSequential { .. } => code::UNLOCK_SEQUENTIAL,
            WklyRequest::KeepOn { .. } => code::KEEP_ON,
            WklyRequest::SwitchOff { .. } => code::SWITCH_OFF,
        }
    }

    /// The single channel the request names, if it names one.
    pub const fn lock(&self) -> Option<Lock> {
        match *self {
            WklyRequest::FlashLed { lock, .. }
            | WklyRequest::Unlock { lock, .. }
            | WklyRequest::QueryLock { lock, .. }
            | WklyRequest::KeepOn { lock, .. }
            | WklyRequest::SwitchOff { lock, .. } => Some(lock),
            _ => None,
        }
    }
}

/// Board → master messages, including the unsolicited state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum WklyReply {
    /// `0x80` reply.
    UnlockSimultaneous {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
    },
    /// `0x81` reply.
    FlashLed {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
        /// The channel.
        lock: Lock,
    },
    /// `0x82` reply: the outcome and the lock's state afterwards.
    Unlock {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
        /// The lock.
        lock: Lock,
        /// Its state.
        state: WklyLockState,
    },
    /// `0x83` reply.
    LockStatus {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
        /// The lock.
        lock: Lock,
        /// Its state.
        state: WklyLockState,
    },
    /// `0x84` reply.
    AllStatus {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
        /// Every channel's state, channel 1 first (N = `states.len()`).
        states: WklyStates,
    },
    /// `0x85`, sent by the board on its own when a door changes.
    StateChanged {
        /// Board address.
        board: u8,
        /// The channel.
        lock: Lock,
        /// The new state.
        state: WklyLockState,
    },
    /// `0x86` reply.
    UnlockAll {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
    },
    /// `0x87` reply.
    UnlockSequential {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
    },
    /// `0x88` reply.
    KeepOn {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
        /// The channel.
        lock: Lock,
    },
    /// `0x89` reply.
    SwitchOff {
        /// Board address.
        board: u8,
        /// Outcome.
        status: WklyStatus,
        /// The channel.
        lock: Lock,
    },
}

impl WklyReply {
    /// The board address.
    pub const fn board(&self) -> u8 {
        match *self {
            WklyReply::UnlockSimultaneous { board, .. }
            | WklyReply::FlashLed { board, .. }
            | WklyReply::Unlock { board, .. }
            | WklyReply::LockStatus { board, .. }
            | WklyReply::AllStatus { board, .. }
            | WklyReply::StateChanged { board, .. }
            | WklyReply::UnlockAll { board, .. }
            | WklyReply::UnlockSequential { board, .. }
            | WklyReply::KeepOn { board, .. }
            | WklyReply::SwitchOff { board, .. } => board,
        }
    }

    /// The command code.
    pub const fn code(&self) -> u8 {
        match self {
            WklyReply::UnlockSimultaneous { .. } => code::UNLOCK_SIMULTANEOUS,
            WklyReply::FlashLed { .. } => code::FLASH_LED,
            WklyReply::Unlock { .. } => code::UNLOCK,
            WklyReply::LockStatus { .. } => code::QUERY_LOCK,
            WklyReply::AllStatus { .. } => code::QUERY_ALL,
            WklyReply::StateChanged { .. } => code::STATE_CHANGED,
            WklyReply::UnlockAll { .. } => code::UNLOCK_ALL,
            WklyReply::UnlockSequential { .. } => code::UNLOCK_SEQUENTIAL,
            WklyReply::KeepOn { .. } => code::KEEP_ON,
            WklyReply::SwitchOff { .. } => code::SWITCH_OFF,
        }
    }

    /// The status byte, for every reply but the unsolicited state change.
    pub const fn status(&self) -> Option<WklyStatus> {
        match *self {
            WklyReply::StateChanged { .. } => None,
            WklyReply::UnlockSimultaneous { status, .. }
            | WklyReply::FlashLed { status, .. }
            | WklyReply::Unlock { status, .. }
            | WklyReply::LockStatus { status, .. }
            | WklyReply::AllStatus { status, .. }
            | WklyReply::UnlockAll { status, .. }
            | WklyReply::UnlockSequential { status, .. }
            | WklyReply::KeepOn { status, .. }
            | WklyReply::SwitchOff { status, .. } => Some(status),
        }
    }
}

/// Which command [`Command::UnlockMany`] becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum WklyUnlockMany {
    /// `0x87`: the board opens the locks one after the other, any number of them.
    #[default]
    Sequential,
    /// `0x80`: the board opens them at the same time; at most [`MAX_SIMULTANEOUS_UNLOCKS`]
    /// (a larger set is refused with [`EncodeError::OutOfRange`] because the third lock does
    /// not open on real boards, §5.3).
    Simultaneous,
}

/// The WKLY dialect with its configuration.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Wkly {
    /// How [`Command::UnlockMany`] is sent (default: one by one, `0x87`).
    pub unlock_many: WklyUnlockMany,
    /// Channels on the board (12 or 24; default [`DEFAULT_CHANNELS`]). [`Wkly::request`]
    /// refuses locks above it; decoding does not depend on it.
    pub channels: u8,
}

impl Default for Wkly {
    fn default() -> Self {
        Wkly { unlock_many: WklyUnlockMany::default(), channels: DEFAULT_CHANNELS }
    }
}

/// How long a frame of a given command is.
enum Layout {
    /// Always this many bytes.
    Fixed(usize),
    /// `base + N` bytes, N read at `count_at` (N in `min_count..=128`).
    Counted { count_at: usize, base: usize, min_count: u8 },
}

fn request_layout(cmd: u8) -> Result<Layout, FrameError> {
    match cmd {
        code::UNLOCK_SIMULTANEOUS | code::UNLOCK_SEQUENTIAL => {
            Ok(Layout::Counted { count_at: OFF_DATA, base: MIN_LEN + 1, min_count: 1 })
        }
        code::FLASH_LED | code::UNLOCK | code::QUERY_LOCK | code::KEEP_ON | code::SWITCH_OFF => {
            Ok(Layout::Fixed(MIN_LEN + 1))
        }
        code::QUERY_ALL | code::UNLOCK_ALL => Ok(Layout::Fixed(MIN_LEN)),
        found => Err(FrameError::UnknownCommand { offset: OFF_CMD, found }),
    }
}

fn reply_layout(cmd: u8) -> Result<Layout, FrameError> {
    match cmd {
        code::UNLOCK_SIMULTANEOUS | code::UNLOCK_ALL | code::UNLOCK_SEQUENTIAL => Ok(Layout::Fixed(MIN_LEN + 1)),
        code::FLASH_LED | code::KEEP_ON | code::SWITCH_OFF | code::STATE_CHANGED => Ok(Layout::Fixed(MIN_LEN + 2)),
        code::UNLOCK | code::QUERY_LOCK => Ok(Layout::Fixed(MIN_LEN + 3)),
        code::QUERY_ALL => Ok(Layout::Counted { count_at: OFF_DATA + 1, base: MIN_LEN + 2, min_count: 0 }),
        found => Err(FrameError::UnknownCommand { offset: OFF_CMD, found }),
    }
}

/// The frame at the start of `buf` once it is complete and its XOR is right.
struct Frame<'a> {
    r: Reader<'a>,
    len: usize,
    board: u8,
    cmd: u8,
}

impl Frame<'_> {
    fn lock(&self, offset: usize) -> Result<Lock, FrameError> {
        let found = self.r.u8(offset)?;
        Lock::new(found).ok_or(FrameError::BadField { offset, field: "channel", found })
    }

    fn status(&self, offset: usize) -> Result<WklyStatus, FrameError> {
        Ok(WklyStatus::from_code(self.r.u8(offset)?))
    }

    fn state(&self, offset: usize) -> Result<WklyLockState, FrameError> {
        Ok(WklyLockState::from_code(self.r.u8(offset)?))
    }

    /// The `N, ch…` list of `0x80` / `0x87`, strictly ascending.
    fn lock_list(&self) -> Result<LockSet, FrameError> {
        let mut locks = LockSet::EMPTY;
        let mut previous = 0u8;
        for offset in OFF_DATA + 1..self.len - 1 {
            let lock = self.lock(offset)?;
            if lock.get() <= previous {
                return Err(FrameError::BadField { offset, field: "channel (lists must ascend)", found: lock.get() });
            }
            previous = lock.get();
            locks.insert(lock);
        }
        Ok(locks)
    }

    fn states(&self) -> Result<WklyStates, FrameError> {
        let mut states = WklyStates::new();
        for offset in OFF_DATA + 2..self.len - 1 {
            let state = self.state(offset)?;
            // The layout check bounds N by MAX_STATE_CHANNELS, so this cannot overflow.
            states.push(state).map_err(|_| FrameError::BadField {
                offset,
                field: "lock_state",
                found: state.code(),
            })?;
        }
        Ok(states)
    }
}

/// Checks start code, LEN against the command's layout, and XOR.
///
/// `early` runs on the command byte as soon as it arrives (pending-request checks).
fn frame<'a>(
    buf: &'a [u8],
    layout: fn(u8) -> Result<Layout, FrameError>,
    early: impl Fn(&Reader<'a>, u8) -> Result<(), FrameError>,
) -> Result<Frame<'a>, FrameError> {
    let r = Reader::new(buf);
    for (offset, expected) in START_CODE.iter().enumerate() {
        let found = r.u8(offset)?;
        if found != *expected {
            return Err(FrameError::BadStart { offset, found });
        }
    }
    let len = usize::from(r.u8(OFF_LEN)?);
    if !(MIN_LEN..=Wkly::MAX_FRAME_LEN).contains(&len) {
        return Err(FrameError::BadLength { offset: OFF_LEN, found: len, reason: "LEN must be 8..=138" });
    }
    let cmd = r.u8(OFF_CMD)?;
    let expected_len = match layout(cmd)? {
        Layout::Fixed(n) => n,
        Layout::Counted { count_at, base, min_count } => {
            if len < base + usize::from(min_count) {
                return Err(FrameError::BadLength { offset: OFF_LEN, found: len, reason: "too short for the command" });
            }
            let count = r.u8(count_at)?;
            if count < min_count || usize::from(count) > MAX_STATE_CHANNELS {
                return Err(FrameError::BadField { offset: count_at, field: "channel count", found: count });
            }
            base + usize::from(count)
        }
    };
    if len != expected_len {
        return Err(FrameError::BadLength { offset: OFF_LEN, found: len, reason: "LEN does not fit the command" });
    }
    early(&r, cmd)?;
    let covered = r.slice(0, len - 1)?;
    let found = r.u8(len - 1)?;
    let expected = xor(covered);
    if found != expected {
        return Err(FrameError::BadChecksum { offset: len - 1, expected: expected.into(), found: found.into() });
    }
    Ok(Frame { r, len, board: r.u8(OFF_ADDR)?, cmd })
}

/// Requires the reply to come from the pending request's board and command.
fn check_pending_header(r: &Reader<'_>, cmd: u8, pending: Option<&WklyRequest>) -> Result<(), FrameError> {
    let Some(request) = pending else { return Ok(()) };
    if cmd == code::STATE_CHANGED {
        // Unsolicited: any board may send it whatever the master is waiting for.
        return Ok(());
    }
    let board = r.u8(OFF_ADDR)?;
    if board != request.board() {
        return Err(FrameError::Mismatch { offset: OFF_ADDR, field: "board", expected: request.board(), found: board });
    }
    if cmd != request.code() {
        return Err(FrameError::Mismatch { offset: OFF_CMD, field: "command", expected: request.code(), found: cmd });
    }
    Ok(())
}

fn check_pending_lock(reply: &WklyReply, pending: Option<&WklyRequest>) -> Result<(), FrameError> {
    let (Some(expected), Some(found)) = (pending.and_then(WklyRequest::lock), reply_lock(reply)) else {
        return Ok(());
    };
    if matches!(reply, WklyReply::StateChanged { .. }) || expected == found {
        return Ok(());
    }
    Err(FrameError::Mismatch { offset: OFF_DATA + 1, field: "channel", expected: expected.get(), found: found.get() })
}

const fn reply_lock(reply: &WklyReply) -> Option<Lock> {
    match *reply {
        WklyReply::FlashLed { lock, .. }
        | WklyReply::Unlock { lock, .. }
        | WklyReply::LockStatus { lock, .. }
        | WklyReply::KeepOn { lock, .. }
        | WklyReply::SwitchOff { lock, .. }
        | WklyReply::StateChanged { lock, .. } => Some(lock),
        _ => None,
    }
}

/// Writes start code, LEN, ADDR, CMD, `data(w)` and X.
fn write_frame(
    out: &mut [u8],
    board: u8,
    cmd: u8,
    data: impl FnOnce(&mut Writer<'_>) -> Result<(), EncodeError>,
) -> Result<usize, EncodeError> {
    let mut w = Writer::new(out);
    w.extend(&START_CODE)?;
    w.push(0)?; // LEN, patched below
    w.push(board)?;
    w.push(cmd)?;
    data(&mut w)?;
    let len = w.len() + 1;
    let len_byte = u8::try_from(len).map_err(|_| EncodeError::OutOfRange {
        field: "frame length",
        value: len as u32,
        reason: "LEN is one byte",
    })?;
    w.patch(OFF_LEN, len_byte)?;
    let x = xor(w.written());
    w.push(x)?;
    Ok(w.len())
}

fn write_lock_list(w: &mut Writer<'_>, locks: LockSet) -> Result<(), EncodeError> {
    let count = locks.len();
    if count == 0 {
        return Err(EncodeError::OutOfRange { field: "locks", value: 0, reason: "at least one lock" });
    }
    // A LockSet holds at most 128 locks, so the count fits a byte.
    w.push(count as u8)?;
    for lock in locks.iter() {
        w.push(lock.get())?;
    }
    Ok(())
}

/// Refuses `Unknown` codes that are really known ones: they would decode as the known variant.
fn canonical_status(status: WklyStatus) -> Result<u8, EncodeError> {
    let code = status.code();
    if WklyStatus::from_code(code) == status {
        Ok(code)
    } else {
        Err(EncodeError::OutOfRange { field: "status", value: code.into(), reason: "a known code, not Unknown" })
    }
}

fn canonical_state(state: WklyLockState) -> Result<u8, EncodeError> {
    let code = state.code();
    if WklyLockState::from_code(code) == state {
        Ok(code)
    } else {
        Err(EncodeError::OutOfRange { field: "lock_state", value: code.into(), reason: "a known code, not Unknown" })
    }
}

fn status_response(status: WklyStatus, ok: Response) -> Response {
    match status {
        WklyStatus::Success => ok,
        WklyStatus::Failure => Response::DeviceError(DeviceError { code: 0xFF, kind: DeviceErrorKind::Failed }),
        WklyStatus::Unknown { code } => Response::DeviceError(DeviceError { code, kind: DeviceErrorKind::Other }),
    }
}

/// A one-lock reading as a neutral response.
fn lock_state_response(status: WklyStatus, lock: Lock, state: WklyLockState) -> Response {
    let reading = match state.active() {
        Some(active) => {
            let mut reported = LockSet::EMPTY;
            reported.insert(lock);
            let active = if active { reported } else { LockSet::EMPTY };
            Response::Status(BoardStatus { locks: ChannelBits { reported, active }, doors: None, presence: None })
        }
        None => Response::DeviceError(DeviceError {
            code: state.code(),
            kind: if state == WklyLockState::Failure { DeviceErrorKind::Failed } else { DeviceErrorKind::Other },
        }),
    };
    status_response(status, reading)
}

fn all_states_response(status: WklyStatus, states: &WklyStates) -> Response {
    let mut bits = ChannelBits::default();
    for (index, state) in states.iter().enumerate() {
        if let (Some(lock), Some(active)) = (Lock::from_index(index), state.active()) {
            bits.reported.insert(lock);
            bits.active.set(lock, active);
        }
    }
    status_response(status, Response::Status(BoardStatus { locks: bits, doors: None, presence: None }))
}

/// The status byte for a board-side answer: `Ack`/`Status` succeed, `DeviceError` carries its code.
fn reply_status(response: &Response) -> Result<WklyStatus, EncodeError> {
    match response {
        Response::Ack | Response::Status(_) => Ok(WklyStatus::Success),
        Response::DeviceError(DeviceError { code: 0, .. }) => {
            Err(EncodeError::OutOfRange { field: "device error code", value: 0, reason: "0x00 means success" })
        }
        Response::DeviceError(error) => Ok(WklyStatus::from_code(error.code)),
        _ => Err(unsupported("this response to this request")),
    }
}

const fn unsupported(what: &'static str) -> EncodeError {
    EncodeError::Unsupported { dialect: Wkly::NAME, what }
}

impl Wkly {
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

    fn check_locks(&self, locks: LockSet) -> Result<LockSet, EncodeError> {
        if locks.is_empty() {
            return Err(EncodeError::OutOfRange { field: "locks", value: 0, reason: "at least one lock" });
        }
        if let Some(last) = locks.last() {
            self.check_lock(last)?;
        }
        Ok(locks)
    }

    fn decode_reply_frame(frame: &Frame<'_>) -> Result<WklyReply, FrameError> {
        let board = frame.board;
        let status_at = OFF_DATA;
        Ok(match frame.cmd {
            code::UNLOCK_SIMULTANEOUS => WklyReply::UnlockSimultaneous { board, status: frame.status(status_at)? },
            code::UNLOCK_ALL => WklyReply::UnlockAll { board, status: frame.status(status_at)? },
            code::UNLOCK_SEQUENTIAL => WklyReply::UnlockSequential { board, status: frame.status(status_at)? },
            code::FLASH_LED => {
                WklyReply::FlashLed { board, status: frame.status(status_at)?, lock: frame.lock(OFF_DATA + 1)? }
            }
            code::KEEP_ON => {
                WklyReply::KeepOn { board, status: frame.status(status_at)?, lock: frame.lock(OFF_DATA + 1)? }
            }
            code::SWITCH_OFF => {
                WklyReply::SwitchOff { board, status: frame.status(status_at)?, lock: frame.lock(OFF_DATA + 1)? }
            }
            code::UNLOCK => WklyReply::Unlock {
                board,
                status: frame.status(status_at)?,
                lock: frame.lock(OFF_DATA + 1)?,
                state: frame.state(OFF_DATA + 2)?,
            },
            code::QUERY_LOCK => WklyReply::LockStatus {
                board,
                status: frame.status(status_at)?,
                lock: frame.lock(OFF_DATA + 1)?,
                state: frame.state(OFF_DATA + 2)?,
            },
            code::QUERY_ALL => {
                WklyReply::AllStatus { board, status: frame.status(status_at)?, states: frame.states()? }
            }
            code::STATE_CHANGED => {
                WklyReply::StateChanged { board, lock: frame.lock(OFF_DATA)?, state: frame.state(OFF_DATA + 1)? }
            }
            found => return Err(FrameError::UnknownCommand { offset: OFF_CMD, found }),
        })
    }
}

impl Dialect for Wkly {
    type Request = WklyRequest;
    type Reply = WklyReply;
    const NAME: &'static str = "wkly";
    /// A `0x84` reply for 128 channels: 10 + 128 bytes.
    const MAX_FRAME_LEN: usize = MIN_LEN + 2 + MAX_STATE_CHANNELS;

    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<WklyRequest>, FrameError> {
        let frame = frame(buf, request_layout, |_, _| Ok(()))?;
        let board = frame.board;
        let message = match frame.cmd {
            code::UNLOCK_SIMULTANEOUS => WklyRequest::UnlockSimultaneous { board, locks: frame.lock_list()? },
            code::UNLOCK_SEQUENTIAL => WklyRequest::UnlockSequential { board, locks: frame.lock_list()? },
            code::FLASH_LED => WklyRequest::FlashLed { board, lock: frame.lock(OFF_DATA)? },
            code::UNLOCK => WklyRequest::Unlock { board, lock: frame.lock(OFF_DATA)? },
            code::QUERY_LOCK => WklyRequest::QueryLock { board, lock: frame.lock(OFF_DATA)? },
            code::KEEP_ON => WklyRequest::KeepOn { board, lock: frame.lock(OFF_DATA)? },
            code::SWITCH_OFF => WklyRequest::SwitchOff { board, lock: frame.lock(OFF_DATA)? },
            code::QUERY_ALL => WklyRequest::QueryAll { board },
            code::UNLOCK_ALL => WklyRequest::UnlockAll { board },
            found => return Err(FrameError::UnknownCommand { offset: OFF_CMD, found }),
        };
        Ok(Decoded { message, len: frame.len })
    }

    /// Decodes a reply. With a pending request, every reply but the unsolicited `0x85` must come
    /// from its board, carry its command and echo its channel ([`FrameError::Mismatch`]).
    fn decode_reply(&self, buf: &[u8], pending: Option<&WklyRequest>) -> Result<Decoded<WklyReply>, FrameError> {
        let frame = frame(buf, reply_layout, |r, cmd| check_pending_header(r, cmd, pending))?;
        let message = Wkly::decode_reply_frame(&frame)?;
        check_pending_lock(&message, pending)?;
        Ok(Decoded { message, len: frame.len })
    }

    fn encode_request(&self, request: &WklyRequest, out: &mut [u8]) -> Result<usize, EncodeError> {
        let board = request.board();
        let cmd = request.code();
        match *request {
            WklyRequest::UnlockSimultaneous { locks, .. } | WklyRequest::UnlockSequential { locks, .. } => {
                write_frame(out, board, cmd, |w| write_lock_list(w, locks))
            }
            WklyRequest::FlashLed { lock, .. }
            | WklyRequest::Unlock { lock, .. }
            | WklyRequest::QueryLock { lock, .. }
            | WklyRequest::KeepOn { lock, .. }
            | WklyRequest::SwitchOff { lock, .. } => write_frame(out, board, cmd, |w| w.push(lock.get())),
            WklyRequest::QueryAll { .. } | WklyRequest::UnlockAll { .. } => write_frame(out, board, cmd, |_| Ok(())),
        }
    }

    fn encode_reply(&self, reply: &WklyReply, out: &mut [u8]) -> Result<usize, EncodeError> {
        let board = reply.board();
        let cmd = reply.code();
        match *reply {
            WklyReply::UnlockSimultaneous { status, .. }
            | WklyReply::UnlockAll { status, .. }
            | WklyReply::UnlockSequential { status, .. } => {
                let status = canonical_status(status)?;
                write_frame(out, board, cmd, |w| w.push(status))
            }
            WklyReply::FlashLed { status, lock, .. }
            | WklyReply::KeepOn { status, lock, .. }
            | WklyReply::SwitchOff { status, lock, .. } => {
                let status = canonical_status(status)?;
                write_frame(out, board, cmd, |w| w.extend(&[status, lock.get()]))
            }
            WklyReply::Unlock { status, lock, state, .. } | WklyReply::LockStatus { status, lock, state, .. } => {
                let status = canonical_status(status)?;
                let state = canonical_state(state)?;
                write_frame(out, board, cmd, |w| w.extend(&[status, lock.get(), state]))
            }
            WklyReply::AllStatus { status, states, .. } => {
                let status = canonical_status(status)?;
                for state in states.iter() {
                    canonical_state(state)?;
                }
                // WklyStates holds at most 128 channels, so N fits a byte.
                write_frame(out, board, cmd, |w| {
                    w.extend(&[status, states.len() as u8])?;
                    w.extend(states.raw())
                })
            }
            WklyReply::StateChanged { lock, state, .. } => {
                let state = canonical_state(state)?;
                write_frame(out, board, cmd, |w| w.extend(&[lock.get(), state]))
            }
        }
    }

    fn reply_expectation(&self, _request: &WklyRequest) -> ReplyExpectation {
        // No broadcast address is documented: every request draws one reply from its board.
        ReplyExpectation::One
    }

    fn request(&self, board: u8, command: &Command) -> Result<WklyRequest, EncodeError> {
        Ok(match *command {
            Command::Unlock(lock) => WklyRequest::Unlock { board, lock: self.check_lock(lock)? },
            Command::UnlockMany(locks) => {
                let locks = self.check_locks(locks)?;
                match self.unlock_many {
                    WklyUnlockMany::Sequential => WklyRequest::UnlockSequential { board, locks },
                    WklyUnlockMany::Simultaneous if locks.len() > MAX_SIMULTANEOUS_UNLOCKS => {
                        return Err(EncodeError::OutOfRange {
                            field: "locks",
                            value: locks.len(),
                            reason: "0x80 opens at most 2 locks at once (power)",
                        });
                    }
                    WklyUnlockMany::Simultaneous => WklyRequest::UnlockSimultaneous { board, locks },
                }
            }
            Command::UnlockAll => WklyRequest::UnlockAll { board },
            Command::QueryLock(lock) => WklyRequest::QueryLock { board, lock: self.check_lock(lock)? },
            Command::QueryAll => WklyRequest::QueryAll { board },
            _ => return Err(unsupported("this command")),
        })
    }

    fn command(&self, request: &WklyRequest) -> Option<(u8, Command)> {
        let command = match *request {
            WklyRequest::Unlock { lock, .. } => Command::Unlock(lock),
            WklyRequest::UnlockSimultaneous { locks, .. } | WklyRequest::UnlockSequential { locks, .. } => {
                Command::UnlockMany(locks)
            }
            WklyRequest::UnlockAll { .. } => Command::UnlockAll,
            WklyRequest::QueryLock { lock, .. } => Command::QueryLock(lock),
            WklyRequest::QueryAll { .. } => Command::QueryAll,
            WklyRequest::FlashLed { .. } | WklyRequest::KeepOn { .. } | WklyRequest::SwitchOff { .. } => return None,
        };
        Some((request.board(), command))
    }

    /// Board side. `Ack` or `DeviceError` answer the commands whose reply is a bare status;
    /// `0x82` / `0x83` need a [`Response::Status`] that reports the lock (active = closed);
    /// `0x84` reports channels `1..=` the highest reported one, unreported ones as `FF`.
    /// [`Response::InputChanged`] becomes the unsolicited `0x85`, whatever `request` is.
    fn reply(&self, board: u8, request: &WklyRequest, response: &Response) -> Result<WklyReply, EncodeError> {
        if let Response::InputChanged { lock, active } = *response {
            let state = if active { WklyLockState::Closed } else { WklyLockState::Open };
            return Ok(WklyReply::StateChanged { board, lock, state });
        }
        let status = reply_status(response)?;
        let failed = !matches!(status, WklyStatus::Success);
        Ok(match *request {
            WklyRequest::UnlockSimultaneous { .. } => WklyReply::UnlockSimultaneous { board, status },
            WklyRequest::UnlockAll { .. } => WklyReply::UnlockAll { board, status },
            WklyRequest::UnlockSequential { .. } => WklyReply::UnlockSequential { board, status },
            WklyRequest::FlashLed { lock, .. } => WklyReply::FlashLed { board, status, lock },
            WklyRequest::KeepOn { lock, .. } => WklyReply::KeepOn { board, status, lock },
            WklyRequest::SwitchOff { lock, .. } => WklyReply::SwitchOff { board, status, lock },
            WklyRequest::Unlock { lock, .. } | WklyRequest::QueryLock { lock, .. } => {
                let state = if failed {
                    WklyLockState::Failure
                } else {
                    match response {
                        Response::Status(status) => match status.locks.get(lock) {
                            Some(true) => WklyLockState::Closed,
                            Some(false) => WklyLockState::Open,
                            None => return Err(unsupported("a status that omits the requested lock")),
                        },
                        _ => return Err(unsupported("an answer without the lock state (send Response::Status)")),
                    }
                };
                if matches!(request, WklyRequest::Unlock { .. }) {
                    WklyReply::Unlock { board, status, lock, state }
                } else {
                    WklyReply::LockStatus { board, status, lock, state }
                }
            }
            WklyRequest::QueryAll { .. } => {
                let mut states = WklyStates::new();
                if let Response::Status(reading) = response {
                    let count = reading.locks.reported.last().map_or(0, Lock::get);
                    for lock in (1..=count).filter_map(Lock::new) {
                        states.push(match reading.locks.get(lock) {
                            Some(true) => WklyLockState::Closed,
                            Some(false) => WklyLockState::Open,
                            None => WklyLockState::Failure,
                        })?;
                    }
                } else if !failed {
                    return Err(unsupported("an answer without lock states (send Response::Status)"));
                }
                WklyReply::AllStatus { board, status, states }
            }
        })
    }

    /// Master side; see the module docs for the mapping. The unsolicited `0x85` with a failure
    /// or unknown lock_state has no neutral meaning (`None`).
    fn response(&self, reply: &WklyReply) -> Option<(u8, Response)> {
        let response = match *reply {
            WklyReply::UnlockSimultaneous { status, .. }
            | WklyReply::UnlockAll { status, .. }
            | WklyReply::UnlockSequential { status, .. }
            | WklyReply::FlashLed { status, .. }
            | WklyReply::KeepOn { status, .. }
            | WklyReply::SwitchOff { status, .. } => status_response(status, Response::Ack),
            WklyReply::Unlock { status, lock, state, .. } | WklyReply::LockStatus { status, lock, state, .. } => {
                lock_state_response(status, lock, state)
            }
            WklyReply::AllStatus { status, ref states, .. } => all_states_response(status, states),
            WklyReply::StateChanged { lock, state, .. } => Response::InputChanged { lock, active: state.active()? },
        };
        Some((reply.board(), response))
    }
}
