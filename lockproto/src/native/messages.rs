//! The native messages, wire-exact: every frame the codec accepts encodes back to the same bytes.
//!
//! Byte layouts are in lockproto/PROTOCOL.md §4 and in the module docs of [`super`].

use core::fmt;

use crate::model::{Lock, LockSet, Version};

/// Request command codes (CMD of a request). A reply carries `code | 0x80`, an error reply `0xFF`.
pub mod code {
    /// GetInfo.
    pub const GET_INFO: u8 = 0x01;
    /// GetStatus.
    pub const GET_STATUS: u8 = 0x02;
    /// Unlock.
    pub const UNLOCK: u8 = 0x03;
    /// UnlockMany.
    pub const UNLOCK_MANY: u8 = 0x04;
    /// UnlockAll.
    pub const UNLOCK_ALL: u8 = 0x05;
    /// ReadEvents.
    pub const READ_EVENTS: u8 = 0x06;
    /// ReadParameter.
    pub const READ_PARAMETER: u8 = 0x07;
    /// WriteParameter.
    pub const WRITE_PARAMETER: u8 = 0x08;
    /// DiscoveryReset (broadcast, no reply).
    pub const DISCOVERY_RESET: u8 = 0x10;
    /// Discover (broadcast).
    pub const DISCOVER: u8 = 0x11;
    /// AssignAddress (broadcast).
    pub const ASSIGN_ADDRESS: u8 = 0x12;
}

/// The most events one `Events` reply carries: (250 body − 5 reply head − 8 events head) / 8.
pub const MAX_EVENTS_PER_REPLY: usize = 29;

/// Master → board messages. Broadcast-only requests (discovery) have no `board` field: their
/// ADDR is always [`super::frame::BROADCAST`]; every other request goes to one board address
/// `1..=254`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum NativeRequest {
    /// `0x01`: identity and capabilities.
    GetInfo {
        /// Board address.
        board: u8,
        /// Sequence number, echoed in the reply.
        seq: u8,
    },
    /// `0x02`: per-channel lock, door, presence, pulse and fault bitmaps.
    GetStatus {
        /// Board address.
        board: u8,
        /// Sequence number.
        seq: u8,
    },
    /// `0x03`: pulse one lock for `pulse_ms` (the board clamps to its maximum).
    Unlock {
        /// Board address.
        board: u8,
        /// Sequence number.
        seq: u8,
        /// The boot id the master last saw from this board; the board refuses with
        /// `BootMismatch` when it differs, so a retry after a reboot never pulses again.
        /// `0` skips the check (manual tools only).
        boot: u16,
        /// The lock.
        lock: Lock,
        /// Requested pulse length in ms.
        pulse_ms: u16,
    },
    /// `0x04`: pulse several locks, at most `max_simultaneous` at a time.
    UnlockMany {
        /// Board address.
        board: u8,
        /// Sequence number.
        seq: u8,
        /// Expected boot id, as in `Unlock`.
        boot: u16,
        /// The locks (not empty).
        locks: LockSet,
        /// Requested pulse length in ms, for each lock.
        pulse_ms: u16,
    },
    /// `0x05`: pulse every lock of the board, at most `max_simultaneous` at a time.
    UnlockAll {
        /// Board address.
        board: u8,
        /// Sequence number.
        seq: u8,
        /// Expected boot id, as in `Unlock`.
        boot: u16,
        /// Requested pulse length in ms, for each lock.
        pulse_ms: u16,
    },
    /// `0x06`: events numbered from `cursor` on.
    ReadEvents {
        /// Board address.
        board: u8,
        /// Sequence number.
        seq: u8,
        /// The first event number wanted (the `next cursor` of the previous read).
        cursor: u16,
        /// At most this many events; 0 = as many as fit in one reply.
        max: u8,
    },
    /// `0x07`: read a parameter.
    ReadParameter {
        /// Board address.
        board: u8,
        /// Sequence number.
        seq: u8,
        /// Which parameter.
        parameter: ParameterCode,
    },
    /// `0x08`: write a parameter; the reply carries the value applied.
    WriteParameter {
        /// Board address.
        board: u8,
        /// Sequence number.
        seq: u8,
        /// Which parameter.
        parameter: ParameterCode,
        /// The new value.
        value: u32,
    },
    /// `0x10` (broadcast, no reply): every board forgets it was muted by `AssignAddress`.
    DiscoveryReset {
        /// Sequence number.
        seq: u8,
    },
    /// `0x11` (broadcast): "does an un-muted board in `scope` with `lo <= uid <= hi` exist?".
    /// Each such board answers after `slot × slot_ms` ms, `slot` derived from its uid.
    Discover {
        /// Sequence number.
        seq: u8,
        /// Which boards take part.
        scope: DiscoverScope,
        /// Number of reply slots, `1..=255`.
        slots: u8,
        /// Slot length in ms, `1..=255`.
        slot_ms: u8,
        /// Lowest uid of the range.
        lo: u64,
        /// Highest uid of the range (`lo <= hi`).
        hi: u64,
    },
    /// `0x12` (broadcast): the board with `uid` takes bus address `address` and is muted until
    /// the next `DiscoveryReset` or reboot.
    AssignAddress {
        /// Sequence number.
        seq: u8,
        /// The board's unique id.
        uid: u64,
        /// The new address, `1..=254`.
        address: u8,
    },
}

/// Board → master messages. Every reply carries the answering board's address, the request's
/// sequence number and the board's boot id (a new value after every reboot).
// No heap: the events batch (about 350 bytes) lives inline, as it does in the board's RAM.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum NativeReply {
    /// `0x81`: answer to `GetInfo`.
    Info {
        /// Board address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// The board's unique id.
        uid: u64,
        /// The protocol minor version the board implements (the major is the frame version).
        protocol_minor: u8,
        /// Firmware version.
        firmware: Version,
        /// Hardware revision.
        hardware: Version,
        /// Lock channels, `1..=128`.
        channels: u8,
        /// How many lock outputs may be energised at once (power budget); 0 = no limit.
        max_simultaneous: u8,
        /// The longest pulse the board applies, in ms.
        pulse_max_ms: u16,
        /// Capacity of the board's event log.
        event_capacity: u16,
    },
    /// `0x82`: answer to `GetStatus`. Bit `i` of each set stands for lock `i + 1`; only locks
    /// `1..=channels` may be set.
    Status {
        /// Board address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// Lock channels, `1..=128`.
        channels: u8,
        /// Lock feedback inputs that read active (raw: polarity is installation configuration).
        lock_active: LockSet,
        /// Channels without lock feedback.
        lock_absent: LockSet,
        /// Doors open.
        door_open: LockSet,
        /// Channels without a door sensor.
        door_absent: LockSet,
        /// Compartments the presence sensor sees occupied.
        occupied: LockSet,
        /// Channels without a presence sensor.
        presence_absent: LockSet,
        /// Outputs energised right now.
        pulsing: LockSet,
        /// Channels with a latched fault (jam, overcurrent, ...), see the event log.
        faulted: LockSet,
    },
    /// `0x83`: the pulse is accepted (it starts now, or as soon as the power budget allows).
    Unlocked {
        /// Board address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// The lock.
        lock: Lock,
        /// The pulse length applied after clamping, in ms.
        applied_ms: u16,
    },
    /// `0x84`: answer to `UnlockMany`.
    UnlockManyAccepted {
        /// Board address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// The locks that will be pulsed.
        locks: LockSet,
        /// The pulse length applied after clamping, in ms.
        applied_ms: u16,
        /// How many run at once; 0 = no limit.
        max_simultaneous: u8,
    },
    /// `0x85`: answer to `UnlockAll`.
    UnlockAllAccepted {
        /// Board address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// The locks that will be pulsed.
        locks: LockSet,
        /// The pulse length applied after clamping, in ms.
        applied_ms: u16,
        /// How many run at once; 0 = no limit.
        max_simultaneous: u8,
    },
    /// `0x86`: answer to `ReadEvents`.
    Events {
        /// Board address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// Events between the cursor and `first` were overwritten (or the cursor was not one of
        /// this boot's): the master must re-read the status.
        lost: bool,
        /// More events follow `first + events.len()`: read again at once.
        more: bool,
        /// Number of the first event carried (the cursor, unless `lost`).
        first: u16,
        /// The board's uptime clock when it answered, in ms (wraps), to age the events.
        now_ms: u32,
        /// The events, numbered `first`, `first + 1`, ...
        events: EventBatch,
    },
    /// `0x87`: answer to `ReadParameter`.
    Parameter {
        /// Board address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// Which parameter.
        parameter: ParameterCode,
        /// Its value.
        value: u32,
    },
    /// `0x88`: answer to `WriteParameter`.
    ParameterWritten {
        /// Board address (the old one, when the address was written).
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// Which parameter.
        parameter: ParameterCode,
        /// The value applied (after clamping).
        value: u32,
    },
    /// `0x91`: answer to `Discover`, sent in the board's slot.
    DiscoverAnswer {
        /// The board's current address, [`super::frame::UNASSIGNED`] if none.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// The board's unique id.
        uid: u64,
    },
    /// `0x92`: answer to `AssignAddress`, sent from the new address.
    AddressAssigned {
        /// The new address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// The board's unique id.
        uid: u64,
    },
    /// `0xFF`: the board refuses the request.
    Error {
        /// Board address.
        board: u8,
        /// Echoed sequence number.
        seq: u8,
        /// Boot id.
        boot: u16,
        /// CMD of the refused request (any value: it may be a command the board does not know).
        command: u8,
        /// Why.
        code: ErrorCode,
        /// Detail, by code (PROTOCOL.md §4.12): the lock of a `ChannelFault`, the frame offset
        /// of a `BadArgument`, the retry delay in ms of a `Busy`, the highest major version of an
        /// `UnsupportedVersion`; 0 otherwise.
        detail: u16,
    },
}

impl NativeRequest {
    /// The sequence number.
    pub const fn seq(&self) -> u8 {
        match *self {
            NativeRequest::GetInfo { seq, .. }
            | NativeRequest::GetStatus { seq, .. }
            | NativeRequest::Unlock { seq, .. }
            | NativeRequest::UnlockMany { seq, .. }
            | NativeRequest::UnlockAll { seq, .. }
            | NativeRequest::ReadEvents { seq, .. }
            | NativeRequest::ReadParameter { seq, .. }
            | NativeRequest::WriteParameter { seq, .. }
            | NativeRequest::DiscoveryReset { seq }
            | NativeRequest::Discover { seq, .. }
            | NativeRequest::AssignAddress { seq, .. } => seq,
        }
    }

    /// The same request with sequence number `seq`: the neutral mapping
    /// ([`crate::Dialect::request`]) leaves it 0; a master stamps its per-board counter.
    #[must_use]
    pub const fn with_seq(mut self, new: u8) -> Self {
        match &mut self {
            NativeRequest::GetInfo { seq, .. }
            | NativeRequest::GetStatus { seq, .. }
            | NativeRequest::Unlock { seq, .. }
            | NativeRequest::UnlockMany { seq, .. }
            | NativeRequest::UnlockAll { seq, .. }
            | NativeRequest::ReadEvents { seq, .. }
            | NativeRequest::ReadParameter { seq, .. }
            | NativeRequest::WriteParameter { seq, .. }
            | NativeRequest::DiscoveryReset { seq }
            | NativeRequest::Discover { seq, .. }
            | NativeRequest::AssignAddress { seq, .. } => *seq = new,
        }
        self
    }

    /// The same request expecting boot id `new` (unlock requests only; others are unchanged).
    #[must_use]
    pub const fn with_boot(mut self, new: u16) -> Self {
        match &mut self {
            NativeRequest::Unlock { boot, .. }
            | NativeRequest::UnlockMany { boot, .. }
            | NativeRequest::UnlockAll { boot, .. } => *boot = new,
            _ => {}
        }
        self
    }

    /// The wire ADDR: the board, or [`super::frame::BROADCAST`] for discovery.
    pub const fn address(&self) -> u8 {
        match *self {
            NativeRequest::GetInfo { board, .. }
            | NativeRequest::GetStatus { board, .. }
            | NativeRequest::Unlock { board, .. }
            | NativeRequest::UnlockMany { board, .. }
            | NativeRequest::UnlockAll { board, .. }
            | NativeRequest::ReadEvents { board, .. }
            | NativeRequest::ReadParameter { board, .. }
            | NativeRequest::WriteParameter { board, .. } => board,
            NativeRequest::DiscoveryReset { .. }
            | NativeRequest::Discover { .. }
            | NativeRequest::AssignAddress { .. } => super::frame::BROADCAST,
        }
    }

    /// The wire CMD.
    pub const fn command_code(&self) -> u8 {
        match self {
            NativeRequest::GetInfo { .. } => code::GET_INFO,
            NativeRequest::GetStatus { .. } => code::GET_STATUS,
            NativeRequest::Unlock { .. } => code::UNLOCK,
            NativeRequest::UnlockMany { .. } => code::UNLOCK_MANY,
            NativeRequest::UnlockAll { .. } => code::UNLOCK_ALL,
            NativeRequest::ReadEvents { .. } => code::READ_EVENTS,
            NativeRequest::ReadParameter { .. } => code::READ_PARAMETER,
            NativeRequest::WriteParameter { .. } => code::WRITE_PARAMETER,
            NativeRequest::DiscoveryReset { .. } => code::DISCOVERY_RESET,
            NativeRequest::Discover { .. } => code::DISCOVER,
            NativeRequest::AssignAddress { .. } => code::ASSIGN_ADDRESS,
        }
    }

    /// Whether the request is a discovery broadcast.
    pub const fn is_broadcast(&self) -> bool {
        matches!(
            self,
            NativeRequest::DiscoveryReset { .. } | NativeRequest::Discover { .. } | NativeRequest::AssignAddress { .. }
        )
    }

    /// Whether executing the request twice differs from executing it once (a lock pulses
    /// again): the requests the boot id and the reply cache protect.
    pub const fn actuates(&self) -> bool {
        matches!(
            self,
            NativeRequest::Unlock { .. } | NativeRequest::UnlockMany { .. } | NativeRequest::UnlockAll { .. }
        )
    }
}

impl NativeReply {
    /// The answering board's address.
    pub const fn board(&self) -> u8 {
        match *self {
            NativeReply::Info { board, .. }
            | NativeReply::Status { board, .. }
            | NativeReply::Unlocked { board, .. }
            | NativeReply::UnlockManyAccepted { board, .. }
            | NativeReply::UnlockAllAccepted { board, .. }
            | NativeReply::Events { board, .. }
            | NativeReply::Parameter { board, .. }
            | NativeReply::ParameterWritten { board, .. }
            | NativeReply::DiscoverAnswer { board, .. }
            | NativeReply::AddressAssigned { board, .. }
            | NativeReply::Error { board, .. } => board,
        }
    }

    /// The echoed sequence number.
    pub const fn seq(&self) -> u8 {
        match *self {
            NativeReply::Info { seq, .. }
            | NativeReply::Status { seq, .. }
            | NativeReply::Unlocked { seq, .. }
            | NativeReply::UnlockManyAccepted { seq, .. }
            | NativeReply::UnlockAllAccepted { seq, .. }
            | NativeReply::Events { seq, .. }
            | NativeReply::Parameter { seq, .. }
            | NativeReply::ParameterWritten { seq, .. }
            | NativeReply::DiscoverAnswer { seq, .. }
            | NativeReply::AddressAssigned { seq, .. }
            | NativeReply::Error { seq, .. } => seq,
        }
    }

    /// The board's boot id: a change means the board rebooted (state unknown, event cursor and
    /// reply cache gone).
    pub const fn boot(&self) -> u16 {
        match *self {
            NativeReply::Info { boot, .. }
            | NativeReply::Status { boot, .. }
            | NativeReply::Unlocked { boot, .. }
            | NativeReply::UnlockManyAccepted { boot, .. }
            | NativeReply::UnlockAllAccepted { boot, .. }
            | NativeReply::Events { boot, .. }
            | NativeReply::Parameter { boot, .. }
            | NativeReply::ParameterWritten { boot, .. }
            | NativeReply::DiscoverAnswer { boot, .. }
            | NativeReply::AddressAssigned { boot, .. }
            | NativeReply::Error { boot, .. } => boot,
        }
    }

    /// The wire CMD.
    pub const fn command_code(&self) -> u8 {
        use super::frame::{ERROR_CMD, REPLY_BIT};
        match self {
            NativeReply::Info { .. } => code::GET_INFO | REPLY_BIT,
            NativeReply::Status { .. } => code::GET_STATUS | REPLY_BIT,
            NativeReply::Unlocked { .. } => code::UNLOCK | REPLY_BIT,
            NativeReply::UnlockManyAccepted { .. } => code::UNLOCK_MANY | REPLY_BIT,
            NativeReply::UnlockAllAccepted { .. } => code::UNLOCK_ALL | REPLY_BIT,
            NativeReply::Events { .. } => code::READ_EVENTS | REPLY_BIT,
            NativeReply::Parameter { .. } => code::READ_PARAMETER | REPLY_BIT,
            NativeReply::ParameterWritten { .. } => code::WRITE_PARAMETER | REPLY_BIT,
            NativeReply::DiscoverAnswer { .. } => code::DISCOVER | REPLY_BIT,
            NativeReply::AddressAssigned { .. } => code::ASSIGN_ADDRESS | REPLY_BIT,
            NativeReply::Error { .. } => ERROR_CMD,
        }
    }
}

/// Declares a one-byte code enum that keeps unknown values.
macro_rules! wire_code {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code this version does not define, kept as sent.
            Unknown {
                /// The wire value.
                code: u8,
            },
        }

        impl $name {
            /// The code for wire value `code`.
            pub const fn from_code(code: u8) -> Self {
                match code {
                    $( $value => $name::$variant, )*
                    _ => $name::Unknown { code },
                }
            }

            /// The wire value.
            pub const fn code(self) -> u8 {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Unknown { code } => code,
                }
            }

            /// Whether this is a known code, or an `Unknown` whose value no known code uses
            /// (an `Unknown` that shadows a known code cannot be sent: it would decode as the
            /// known one).
            pub const fn is_canonical(self) -> bool {
                match self {
                    $name::Unknown { code } => matches!($name::from_code(code), $name::Unknown { .. }),
                    _ => true,
                }
            }
        }
    };
}

wire_code! {
    /// A board parameter (PROTOCOL.md §4.9). Values are `u32`.
    pub enum ParameterCode {
        /// `0x01`: the longest pulse the board applies, ms. Unlock requests are clamped to it.
        PulseMaxMs = 0x01,
        /// `0x02`: outputs energised at once (power budget, reference/lockboards.md §5.3); 0 = no limit.
        MaxSimultaneous = 0x02,
        /// `0x03`: baud rate, bit/s; applies after the reply.
        BaudRate = 0x03,
        /// `0x04`: bus address `1..=254`; applies after the reply (sent from the old address).
        Address = 0x04,
        /// `0x05`: door and presence input debounce, ms (domain F3).
        DebounceMs = 0x05,
    }
}

wire_code! {
    /// Why a board refused a request (PROTOCOL.md §4.12).
    pub enum ErrorCode {
        /// `0x01`: CMD is not one the board knows. Detail 0.
        UnknownCommand = 0x01,
        /// `0x02`: LEN does not fit the command. Detail 0.
        BadLength = 0x02,
        /// `0x03`: a field is out of range (lock above the channel count, pulse 0, bad value).
        /// Detail: frame offset of the field.
        BadArgument = 0x03,
        /// `0x04`: the frame's major version is not spoken. Detail: the highest major spoken.
        UnsupportedVersion = 0x04,
        /// `0x05`: the pulse queue or power budget is exhausted now. Detail: retry after ms.
        Busy = 0x05,
        /// `0x06`: the channel has a latched fault. Detail: the lock number.
        ChannelFault = 0x06,
        /// `0x07`: an unlock named a boot id that is not the board's current one. Detail 0.
        BootMismatch = 0x07,
        /// `0x08`: the parameter code is unknown. Detail: the code.
        UnknownParameter = 0x08,
        /// `0x09`: the parameter cannot be written. Detail: the code.
        ReadOnly = 0x09,
        /// `0x0A`: persisting a parameter failed. Detail 0.
        StorageFailure = 0x0A,
    }
}

wire_code! {
    /// Why the board (re)started, carried by the `Boot` event.
    pub enum ResetCause {
        /// `0x00`: the board cannot tell.
        Unspecified = 0x00,
        /// `0x01`: power-on.
        PowerOn = 0x01,
        /// `0x02`: reset pin.
        ResetPin = 0x02,
        /// `0x03`: watchdog.
        Watchdog = 0x03,
        /// `0x04`: brown-out, e.g. inductive kickback of a lock coil (domain F14).
        BrownOut = 0x04,
        /// `0x05`: software reset (firmware update, parameter change).
        Software = 0x05,
    }
}

wire_code! {
    /// How a pulse ended, carried by the `PulseEnded` event.
    pub enum PulseEnd {
        /// `0x00`: it ran its full length.
        Completed = 0x00,
        /// `0x01`: cut short because the door opened.
        DoorOpened = 0x01,
        /// `0x02`: cut short by a fault (see the `Fault` event).
        Fault = 0x02,
    }
}

wire_code! {
    /// A fault, carried by the `Fault` event (domain F1, F3, F14).
    pub enum FaultCode {
        /// `0x01`: the pulse ended and the door stayed closed.
        Jam = 0x01,
        /// `0x02`: output overcurrent; the output was switched off.
        Overcurrent = 0x02,
        /// `0x03`: no coil current: lock disconnected.
        OpenCircuit = 0x03,
        /// `0x04`: a sensor reads impossibly (e.g. a cut door cable).
        SensorFault = 0x04,
        /// `0x05`: supply undervoltage.
        Undervoltage = 0x05,
    }
}

/// Which boards take part in a `Discover`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DiscoverScope {
    /// `0x00`: only boards without an address.
    Unassigned,
    /// `0x01`: every board (inventory, renumbering, duplicate addresses).
    All,
}

impl DiscoverScope {
    /// The wire value.
    pub const fn code(self) -> u8 {
        match self {
            DiscoverScope::Unassigned => 0,
            DiscoverScope::All => 1,
        }
    }

    /// The scope for wire value `code`.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(DiscoverScope::Unassigned),
            1 => Some(DiscoverScope::All),
            _ => None,
        }
    }
}

/// What happened, as the board's event log records it (PROTOCOL.md §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum EventKind {
    /// `0x01`: the board started; always event 0 of a boot.
    Boot {
        /// Why.
        cause: ResetCause,
    },
    /// `0x02`: a door opened.
    DoorOpened {
        /// The channel.
        lock: Lock,
    },
    /// `0x03`: a door closed.
    DoorClosed {
        /// The channel.
        lock: Lock,
    },
    /// `0x04`: a lock feedback input changed (raw, like the status bitmap).
    LockInput {
        /// The channel.
        lock: Lock,
        /// The new raw reading.
        active: bool,
    },
    /// `0x05`: a presence sensor changed.
    Presence {
        /// The channel.
        lock: Lock,
        /// Whether it now sees something.
        occupied: bool,
    },
    /// `0x06`: an output was energised.
    PulseStarted {
        /// The channel.
        lock: Lock,
        /// The pulse length, ms.
        applied_ms: u16,
    },
    /// `0x07`: an output was switched off.
    PulseEnded {
        /// The channel.
        lock: Lock,
        /// How the pulse ended.
        end: PulseEnd,
    },
    /// `0x08`: a fault, of a channel or (`lock: None`) of the board.
    Fault {
        /// The channel, or `None` for the board.
        lock: Option<Lock>,
        /// What.
        fault: FaultCode,
    },
    /// A kind this version does not define, kept as sent.
    Unknown {
        /// The kind byte.
        code: u8,
        /// The channel byte.
        channel: u8,
        /// The value.
        value: u16,
    },
}

/// Wire kind codes of [`EventKind`].
pub mod event_code {
    /// Boot.
    pub const BOOT: u8 = 0x01;
    /// DoorOpened.
    pub const DOOR_OPENED: u8 = 0x02;
    /// DoorClosed.
    pub const DOOR_CLOSED: u8 = 0x03;
    /// LockInput.
    pub const LOCK_INPUT: u8 = 0x04;
    /// Presence.
    pub const PRESENCE: u8 = 0x05;
    /// PulseStarted.
    pub const PULSE_STARTED: u8 = 0x06;
    /// PulseEnded.
    pub const PULSE_ENDED: u8 = 0x07;
    /// Fault.
    pub const FAULT: u8 = 0x08;
}

/// One event record: what, and when on the board's uptime clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct NativeEvent {
    /// What happened.
    pub kind: EventKind,
    /// Board uptime in ms when it happened (wraps after 49.7 days; age it with the reply's
    /// `now_ms`).
    pub time_ms: u32,
}

impl NativeEvent {
    /// A placeholder used to fill fixed arrays.
    pub(crate) const EMPTY: NativeEvent =
        NativeEvent { kind: EventKind::Unknown { code: 0, channel: 0, value: 0 }, time_ms: 0 };
}

/// Up to [`MAX_EVENTS_PER_REPLY`] events, in a fixed array (no heap). Serialized as a list.
#[derive(Clone, Copy)]
pub struct EventBatch {
    len: usize,
    events: [NativeEvent; MAX_EVENTS_PER_REPLY],
}

impl EventBatch {
    /// No events.
    pub const fn new() -> Self {
        EventBatch { len: 0, events: [NativeEvent::EMPTY; MAX_EVENTS_PER_REPLY] }
    }

    /// Appends `event`, or gives it back when the batch is full.
    ///
    /// # Errors
    /// The event itself when [`MAX_EVENTS_PER_REPLY`] are already held.
    pub fn push(&mut self, event: NativeEvent) -> Result<(), NativeEvent> {
        match self.events.get_mut(self.len) {
            Some(slot) => {
                *slot = event;
                self.len += 1;
                Ok(())
            }
            None => Err(event),
        }
    }

    /// The events.
    pub fn as_slice(&self) -> &[NativeEvent] {
        self.events.get(..self.len).unwrap_or_default()
    }

    /// Number of events.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether no more fit.
    pub const fn is_full(&self) -> bool {
        self.len >= MAX_EVENTS_PER_REPLY
    }

    /// The events with their numbers, `first` being the number of the first one.
    pub fn numbered(&self, first: u16) -> impl Iterator<Item = (u16, NativeEvent)> + '_ {
        self.as_slice().iter().zip(0u16..).map(move |(event, i)| (first.wrapping_add(i), *event))
    }
}

impl Default for EventBatch {
    fn default() -> Self {
        EventBatch::new()
    }
}

impl PartialEq for EventBatch {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for EventBatch {}

impl fmt::Debug for EventBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl<'a> FromIterator<&'a NativeEvent> for EventBatch {
    /// Takes the first [`MAX_EVENTS_PER_REPLY`] events.
    fn from_iter<T: IntoIterator<Item = &'a NativeEvent>>(iter: T) -> Self {
        let mut batch = EventBatch::new();
        for event in iter.into_iter().take(MAX_EVENTS_PER_REPLY) {
            let _fits = batch.push(*event);
        }
        batch
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for EventBatch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for EventBatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = EventBatch;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {MAX_EVENTS_PER_REPLY} events")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<EventBatch, A::Error> {
                let mut batch = EventBatch::new();
                while let Some(event) = seq.next_element::<NativeEvent>()? {
                    batch.push(event).map_err(|_| serde::de::Error::invalid_length(MAX_EVENTS_PER_REPLY + 1, &self))?;
                }
                Ok(batch)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for EventBatch {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = u.int_in_range(0..=MAX_EVENTS_PER_REPLY)?;
        let mut batch = EventBatch::new();
        for _ in 0..len {
            batch.push(u.arbitrary()?).map_err(|_| arbitrary::Error::IncorrectFormat)?;
        }
        Ok(batch)
    }
}
