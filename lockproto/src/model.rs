//! The dialect-neutral model: what a master asks a lock board and what the board answers,
//! independent of any vendor's bytes.
//!
//! Each dialect has its own wire-exact message types (so that every frame round-trips
//! byte-identically); [`crate::Dialect`] maps them to and from this model, which is what drivers,
//! firmware and the compartment logic speak.
//!
//! * Lock (channel) numbers are **1-based**, as on vendor manuals and cabinet labels: [`Lock`].
//! * Board addresses are the **wire value** (`u8`), whatever base the vendor's DIP switch uses.
//! * Lock feedback is reported **raw** ([`ChannelBits::active`]: the contact reads "1"); whether
//!   that means locked or unlocked is installation configuration, [`FeedbackPolarity`].

use core::fmt;
use core::num::NonZeroU8;

/// The largest channel count a board may have in this model.
pub const MAX_CHANNELS: u8 = 128;

/// A lock (channel) number, 1-based, `1..=128`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(try_from = "u8", into = "u8"))]
pub struct Lock(NonZeroU8);

impl Lock {
    /// Lock number `n`, or `None` when `n` is 0 or above [`MAX_CHANNELS`].
    pub const fn new(n: u8) -> Option<Self> {
        if n > MAX_CHANNELS {
            return None;
        }
        match NonZeroU8::new(n) {
            Some(n) => Some(Lock(n)),
            None => None,
        }
    }

    /// The lock whose 0-based index is `index` (bit position, relay number).
    pub const fn from_index(index: usize) -> Option<Self> {
        if index >= MAX_CHANNELS as usize {
            return None;
        }
        Lock::new(index as u8 + 1)
    }

    /// The 1-based lock number.
    pub const fn get(self) -> u8 {
        self.0.get()
    }

    /// The 0-based index (lock 1 is index 0).
    pub const fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lock({})", self.get())
    }
}

impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

impl From<Lock> for u8 {
    fn from(lock: Lock) -> u8 {
        lock.get()
    }
}

/// A lock number that is 0 or above [`MAX_CHANNELS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("lock number {0} is outside 1..=128")]
pub struct InvalidLock(pub u8);

impl TryFrom<u8> for Lock {
    type Error = InvalidLock;
    fn try_from(n: u8) -> Result<Self, InvalidLock> {
        Lock::new(n).ok_or(InvalidLock(n))
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Lock {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.int_in_range(1..=MAX_CHANNELS)?;
        Lock::new(n).ok_or(arbitrary::Error::IncorrectFormat)
    }
}

/// A set of locks `1..=128`, stored as a bitmap (bit 0 = lock 1).
///
/// The bitmap is kept in four 32-bit words (word 0 = locks 1..=32) rather than a `u128`: a
/// Cortex-M0 has no 64-bit operations, and 128-bit shifts and masks cost a board firmware
/// several KiB of flash (examples/firmware/README.md), while a word holds a 24-channel board.
///
/// Serialized as a list of lock numbers, e.g. `[1, 3]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LockSet([u32; 4]);

impl LockSet {
    /// The empty set.
    pub const EMPTY: LockSet = LockSet([0; 4]);

    /// The set whose bit `i` stands for lock `i + 1`.
    pub const fn from_bits(bits: u128) -> Self {
        LockSet([bits as u32, (bits >> 32) as u32, (bits >> 64) as u32, (bits >> 96) as u32])
    }

    /// The bitmap (bit 0 = lock 1).
    pub const fn bits(self) -> u128 {
        let [a, b, c, d] = self.0;
        (a as u128) | (b as u128) << 32 | (c as u128) << 64 | (d as u128) << 96
    }

    /// Locks `1..=count` (count is clamped to [`MAX_CHANNELS`]).
    pub const fn first(count: u8) -> Self {
        /// The bits of locks `1..=count` in the word of locks `base + 1 ..= base + 32`.
        const fn word(count: u8, base: u32) -> u32 {
            let count = count as u32;
            if count >= base + 32 {
                u32::MAX
            } else if count <= base {
                0
            } else {
                (1u32 << (count - base)) - 1
            }
        }
        LockSet([word(count, 0), word(count, 32), word(count, 64), word(count, 96)])
    }

    /// Word `w` of the bitmap (word 0 = locks 1..=32), 0 past the last.
    const fn word(self, w: usize) -> u32 {
        let [a, b, c, d] = self.0;
        match w {
            0 => a,
            1 => b,
            2 => c,
            3 => d,
            _ => 0,
        }
    }

    /// The word holding `lock` and the lock's bit in it.
    const fn slot(lock: Lock) -> (usize, u32) {
        let index = lock.index();
        (index / 32, 1u32 << (index % 32))
    }

    /// Adds a lock.
    pub fn insert(&mut self, lock: Lock) {
        let (word, bit) = Self::slot(lock);
        if let Some(word) = self.0.get_mut(word) {
            *word |= bit;
        }
    }

    /// Removes a lock.
    pub fn remove(&mut self, lock: Lock) {
        let (word, bit) = Self::slot(lock);
        if let Some(word) = self.0.get_mut(word) {
            *word &= !bit;
        }
    }

    /// Adds or removes a lock.
    pub fn set(&mut self, lock: Lock, member: bool) {
        if member { self.insert(lock) } else { self.remove(lock) }
    }

    /// Whether the set holds `lock`.
    pub const fn contains(self, lock: Lock) -> bool {
        let (word, bit) = Self::slot(lock);
        self.word(word) & bit != 0
    }

    /// Number of locks in the set.
    pub const fn len(self) -> u32 {
        let [a, b, c, d] = self.0;
        a.count_ones() + b.count_ones() + c.count_ones() + d.count_ones()
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        let [a, b, c, d] = self.0;
        a | b | c | d == 0
    }

    /// The highest lock in the set.
    pub fn last(self) -> Option<Lock> {
        let mut word = 4;
        while word > 0 {
            word -= 1;
            let bits = self.word(word);
            if bits != 0 {
                return Lock::from_index(32 * word + highest_bit(bits));
            }
        }
        None
    }

    /// Locks in ascending order.
    pub fn iter(self) -> impl Iterator<Item = Lock> {
        (0..MAX_CHANNELS as usize).filter_map(Lock::from_index).filter(move |&lock| self.contains(lock))
    }

    /// Set union.
    pub const fn union(self, other: LockSet) -> LockSet {
        let ([a, b, c, d], [e, f, g, h]) = (self.0, other.0);
        LockSet([a | e, b | f, c | g, d | h])
    }

    /// Set intersection.
    pub const fn intersection(self, other: LockSet) -> LockSet {
        let ([a, b, c, d], [e, f, g, h]) = (self.0, other.0);
        LockSet([a & e, b & f, c & g, d & h])
    }

    /// The locks of `self` that are not in `other`.
    pub const fn difference(self, other: LockSet) -> LockSet {
        let ([a, b, c, d], [e, f, g, h]) = (self.0, other.0);
        LockSet([a & !e, b & !f, c & !g, d & !h])
    }

    /// The locks in exactly one of `self` and `other`.
    pub const fn symmetric_difference(self, other: LockSet) -> LockSet {
        let ([a, b, c, d], [e, f, g, h]) = (self.0, other.0);
        LockSet([a ^ e, b ^ f, c ^ g, d ^ h])
    }

    /// Byte `i` of the bitmap (locks `8i+1 ..= 8i+8`, bit 0 = lowest lock).
    pub const fn byte(self, i: usize) -> u8 {
        if i >= 16 { 0 } else { (self.word(i / 4) >> (8 * (i % 4))) as u8 }
    }

    /// Replaces byte `i` of the bitmap (see [`LockSet::byte`]); `i >= 16` is ignored.
    pub fn set_byte(&mut self, i: usize, value: u8) {
        let shift = 8 * (i % 4);
        if let Some(word) = self.0.get_mut(i / 4) {
            *word = (*word & !(0xFFu32 << shift)) | (u32::from(value) << shift);
        }
    }
}

/// The index of the highest set bit of a non-zero `bits`, by halving.
///
/// Why not `31 - leading_zeros()`: Cortex-M0 has no count-leading-zeros instruction, so that
/// links compiler-builtins' `__clzsi2` (108 bytes) into board firmware for this one use.
fn highest_bit(mut bits: u32) -> usize {
    let mut index = 0;
    for shift in [16, 8, 4, 2, 1] {
        if bits >> shift != 0 {
            bits >>= shift;
            index += shift;
        }
    }
    index
}

impl FromIterator<Lock> for LockSet {
    fn from_iter<T: IntoIterator<Item = Lock>>(iter: T) -> Self {
        let mut set = LockSet::EMPTY;
        for lock in iter {
            set.insert(lock);
        }
        set
    }
}

impl fmt::Debug for LockSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Lock::get)).finish()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for LockSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Lock::get))
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for LockSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = LockSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of lock numbers 1..=128")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<LockSet, A::Error> {
                let mut set = LockSet::EMPTY;
                while let Some(lock) = seq.next_element::<Lock>()? {
                    set.insert(lock);
                }
                Ok(set)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

/// A raw per-channel reading: which channels the frame reported, and which of those read "1"
/// (bit set, `0x11`, `0x01`: the dialect documents which wire value is "active").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChannelBits {
    /// Channels present in the frame.
    pub reported: LockSet,
    /// Reported channels whose input is active.
    pub active: LockSet,
}

impl ChannelBits {
    /// The reading of `lock`, or `None` if the frame did not report it.
    pub const fn get(&self, lock: Lock) -> Option<bool> {
        if self.reported.contains(lock) { Some(self.active.contains(lock)) } else { None }
    }

    /// A reading of channels `1..=count` from a bitmap.
    pub const fn from_bitmap(count: u8, active: LockSet) -> Self {
        let reported = LockSet::first(count);
        ChannelBits { reported, active: active.intersection(reported) }
    }
}

/// The physical state of a lock's bolt or latch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum LockState {
    /// Bolt engaged.
    Locked,
    /// Bolt released.
    Unlocked,
}

/// How a lock's feedback contact is wired: installation configuration, never protocol.
///
/// Sources disagree per board and per lock model (reference/lockboards.md §1.3, §2.3, §3.4):
/// Kerong's CU12 document says bit 1 = locked; kerong-lib's NCU16L says bit 1 = unlocked;
/// Open-Locker calls the two wirings `door_closing` and `door_opening`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum FeedbackPolarity {
    /// An active input (bit 1, `0x11`) means locked: the contact closes when the bolt engages.
    /// The Kerong CU12 vendor document's convention.
    #[default]
    ActiveWhenLocked,
    /// An active input means unlocked: the contact closes when the bolt releases.
    ActiveWhenUnlocked,
}

impl FeedbackPolarity {
    /// The lock state a raw reading stands for.
    pub const fn lock_state(self, active: bool) -> LockState {
        match (self, active) {
            (FeedbackPolarity::ActiveWhenLocked, true) | (FeedbackPolarity::ActiveWhenUnlocked, false) => {
                LockState::Locked
            }
            _ => LockState::Unlocked,
        }
    }

    /// The raw reading that stands for `state`.
    pub const fn is_active(self, state: LockState) -> bool {
        matches!(
            (self, state),
            (FeedbackPolarity::ActiveWhenLocked, LockState::Locked)
                | (FeedbackPolarity::ActiveWhenUnlocked, LockState::Unlocked)
        )
    }
}

/// A board parameter that can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum ParameterId {
    /// How long the lock output is energised.
    UnlockTime,
    /// Serial baud rate.
    BaudRate,
    /// Delay between an unlock command and the pulse.
    DelayedUnlock,
    /// Push-door waiting time (Kerong CU12 §3.2).
    PushDoorWait,
}

/// A board parameter with its value, in SI-ish units (not wire units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum Parameter {
    /// Lock output on-time in milliseconds.
    UnlockTimeMs(u32),
    /// Baud rate in bit/s.
    BaudRate(u32),
    /// Delayed unlock in seconds.
    DelayedUnlockS(u16),
    /// Push-door waiting time in seconds.
    PushDoorWaitS(u16),
}

impl Parameter {
    /// Which parameter this is.
    pub const fn id(&self) -> ParameterId {
        match self {
            Parameter::UnlockTimeMs(_) => ParameterId::UnlockTime,
            Parameter::BaudRate(_) => ParameterId::BaudRate,
            Parameter::DelayedUnlockS(_) => ParameterId::DelayedUnlock,
            Parameter::PushDoorWaitS(_) => ParameterId::PushDoorWait,
        }
    }
}

/// A firmware or hardware version as boards report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Version {
    /// Major number.
    pub major: u8,
    /// Minor number.
    pub minor: u8,
}

/// What a board says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BoardInfo {
    /// Firmware version.
    pub software: Version,
    /// Hardware revision, where reported.
    pub hardware: Option<Version>,
    /// Number of lock channels, where reported.
    pub channels: Option<u8>,
}

/// The class of a device-reported error (a board's NAK), kept apart from transport failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum DeviceErrorKind {
    /// The board tried and failed (CU12 ASK 0x11, WKLY status 0xFF, Winnsen status 0x00).
    Failed,
    /// The board timed out internally (CU12 ASK 0x12).
    Timeout,
    /// The board does not know the command (CU12 ASK 0x13, Modbus exception 1).
    UnknownCommand,
    /// The board rejected the request's checksum (CU12 ASK 0x14).
    ChecksumFailure,
    /// A value was out of range (Modbus exceptions 2 and 3, native `BadArgument`).
    InvalidArgument,
    /// The board refuses for now: cool-down, power budget, busy.
    Busy,
    /// A code the dialect does not define.
    Other,
}

/// A device-reported error: the wire code and its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeviceError {
    /// The code as sent on the wire.
    pub code: u8,
    /// What the code means.
    pub kind: DeviceErrorKind,
}

/// What a master asks a board, in dialect-neutral terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Command {
    /// Pulse one lock.
    Unlock(Lock),
    /// Pulse several locks (the board may serialise them for its power budget).
    UnlockMany(LockSet),
    /// Pulse every lock of the board.
    UnlockAll,
    /// Read one lock's feedback.
    QueryLock(Lock),
    /// Read every channel's feedback (and doors and presence where the board has them).
    QueryAll,
    /// Read version or identity.
    BoardInfo,
    /// Read a parameter.
    ReadParameter(ParameterId),
    /// Write a parameter.
    WriteParameter(Parameter),
    /// Ask the (single) board on the bus for its address.
    QueryAddress,
}

/// A board's status reading. Inputs a board does not have are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BoardStatus {
    /// Raw lock feedback; interpret with [`FeedbackPolarity`].
    pub locks: ChannelBits,
    /// Door sensors (active = open), where the board reports them apart from lock feedback.
    pub doors: Option<ChannelBits>,
    /// Parcel-presence sensors (active = occupied).
    pub presence: Option<ChannelBits>,
}

/// What a board answers, in dialect-neutral terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Response {
    /// The command was carried out (no data).
    Ack,
    /// A status reading.
    Status(BoardStatus),
    /// Board identity.
    Info(BoardInfo),
    /// A parameter value.
    Parameter(Parameter),
    /// The board's address (address query).
    Address(u8),
    /// The board refused or failed.
    DeviceError(DeviceError),
    /// An input changed, reported by the board on its own (WKLY 0x85, native events).
    InputChanged {
        /// The channel.
        lock: Lock,
        /// The new raw reading.
        active: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_numbers_are_one_based_and_bounded() {
        assert!(Lock::new(0).is_none());
        assert!(Lock::new(129).is_none());
        let lock = Lock::new(128).unwrap();
        assert_eq!(lock.index(), 127);
        assert_eq!(Lock::from_index(0).unwrap().get(), 1);
        assert!(Lock::from_index(128).is_none());
    }

    #[test]
    fn highest_bit_of_every_one_bit_and_its_lower_neighbours() {
        for bit in 0..32 {
            let one = 1u32 << bit;
            assert_eq!(super::highest_bit(one), bit, "{one:#x}");
            assert_eq!(super::highest_bit(one | (one - 1)), bit, "{:#x}", one | (one - 1));
            assert_eq!(super::highest_bit(one | 1), bit);
        }
    }

    #[test]
    fn lockset_bytes_and_iteration() {
        let mut set = LockSet::EMPTY;
        set.set_byte(0, 0b0000_0101);
        set.set_byte(15, 0x80);
        let locks: [u8; 3] = [1, 3, 128];
        assert!(set.iter().map(Lock::get).eq(locks));
        assert_eq!(set.last().unwrap().get(), 128);
        assert_eq!(set.byte(0), 5);
        assert_eq!(LockSet::first(128).len(), 128);
        assert_eq!(LockSet::first(3).bits(), 0b111);
    }

    /// The word-backed set against a `u128` bitmap, the representation it replaced: every
    /// operation must give the same bits, across the 32-bit word boundaries.
    mod against_u128 {
        use super::*;
        use proptest::prelude::*;

        fn lock(index: u8) -> Lock {
            Lock::from_index(usize::from(index % MAX_CHANNELS)).unwrap()
        }

        proptest! {
            #[test]
            fn operations_match_a_u128_bitmap(a: u128, b: u128, index: u8, count: u8, i in 0usize..20, value: u8) {
                let (x, y) = (LockSet::from_bits(a), LockSet::from_bits(b));
                prop_assert_eq!(x.bits(), a);
                prop_assert_eq!(x.union(y).bits(), a | b);
                prop_assert_eq!(x.intersection(y).bits(), a & b);
                prop_assert_eq!(x.difference(y).bits(), a & !b);
                prop_assert_eq!(x.symmetric_difference(y).bits(), a ^ b);
                prop_assert_eq!(x.len(), a.count_ones());
                prop_assert_eq!(x.is_empty(), a == 0);
                prop_assert_eq!(x.last().map(Lock::index), (a != 0).then(|| 127 - a.leading_zeros() as usize));
                let expected = if count >= 128 { u128::MAX } else { (1u128 << count) - 1 };
                prop_assert_eq!(LockSet::first(count).bits(), expected);
                let lock = lock(index);
                let bit = 1u128 << lock.index();
                prop_assert_eq!(x.contains(lock), a & bit != 0);
                let mut z = x;
                z.insert(lock);
                prop_assert_eq!(z.bits(), a | bit);
                z.remove(lock);
                prop_assert_eq!(z.bits(), a & !bit);
                prop_assert!(x.iter().map(Lock::index).eq((0..128).filter(|k| a & (1u128 << k) != 0)));
                let byte = if i < 16 { (a >> (8 * i)) as u8 } else { 0 };
                prop_assert_eq!(x.byte(i), byte);
                let mut w = x;
                w.set_byte(i, value);
                let replaced = if i < 16 { (a & !(0xFFu128 << (8 * i))) | (u128::from(value) << (8 * i)) } else { a };
                prop_assert_eq!(w.bits(), replaced);
            }
        }
    }

    #[test]
    fn polarity_is_configuration() {
        assert_eq!(FeedbackPolarity::ActiveWhenLocked.lock_state(true), LockState::Locked);
        assert_eq!(FeedbackPolarity::ActiveWhenUnlocked.lock_state(true), LockState::Unlocked);
        for p in [FeedbackPolarity::ActiveWhenLocked, FeedbackPolarity::ActiveWhenUnlocked] {
            for s in [LockState::Locked, LockState::Unlocked] {
                assert_eq!(p.lock_state(p.is_active(s)), s);
            }
        }
    }
}
