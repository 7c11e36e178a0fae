//! The seven dialects a simulated bus can speak, with the board defaults of each.

use core::fmt;
use core::str::FromStr;

use lockproto::Dialect;
use lockproto::dialect::bcc_8a80::{self, Bcc8a80};
use lockproto::dialect::kerong_cu12::{self, KerongCu12};
use lockproto::dialect::kerong_cu16::{self, KerongCu16};
use lockproto::dialect::modbus_relay::{self, ModbusRelay};
use lockproto::dialect::winnsen::{self, Winnsen};
use lockproto::dialect::wkly::{self, Wkly};
use lockproto::native::{self, Native, ResetCause};

use super::node::{SimBoard, SimNode};
use super::physics::{Physics, PhysicsConfig};
use crate::board::{BoardConfig, NativeFirmware, NativeIdentity, Vendor};

/// A dialect the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimDialect {
    /// Kerong CU12, 12 locks, addresses 0-15, broadcast `0x10`.
    KerongCu12,
    /// Kerong CU16, 16 locks, addresses 0-14, bus address `0x0F`.
    KerongCu16,
    /// 8A/80 BCC boards, 24 locks, addresses from 1.
    Bcc8a80,
    /// WKLY boards, 24 locks, addresses from 1.
    Wkly,
    /// Winnsen boards, 16 locks, stations from 1.
    Winnsen,
    /// Modbus RTU relay boards (Waveshare flash-on), 8 relays, addresses from 1, broadcast 0.
    ModbusRelay,
    /// The native protocol, 24 locks with presence sensors, addresses from 1.
    Native,
}

impl SimDialect {
    /// Every dialect.
    pub const ALL: [SimDialect; 7] = [
        SimDialect::KerongCu12,
        SimDialect::KerongCu16,
        SimDialect::Bcc8a80,
        SimDialect::Wkly,
        SimDialect::Winnsen,
        SimDialect::ModbusRelay,
        SimDialect::Native,
    ];

    /// The dialect's tool name (`kerong-cu12`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            SimDialect::KerongCu12 => KerongCu12::NAME,
            SimDialect::KerongCu16 => KerongCu16::NAME,
            SimDialect::Bcc8a80 => Bcc8a80::NAME,
            SimDialect::Wkly => Wkly::NAME,
            SimDialect::Winnsen => Winnsen::NAME,
            SimDialect::ModbusRelay => ModbusRelay::NAME,
            SimDialect::Native => Native::NAME,
        }
    }

    /// Lock channels of a simulated board.
    pub const fn channels(self) -> u8 {
        match self {
            SimDialect::KerongCu12 => kerong_cu12::LOCK_COUNT,
            SimDialect::KerongCu16 => kerong_cu16::LOCK_COUNT,
            SimDialect::Bcc8a80 | SimDialect::Native => 24,
            SimDialect::Wkly => wkly::DEFAULT_CHANNELS,
            SimDialect::Winnsen => winnsen::LOCKS_PER_BOARD,
            SimDialect::ModbusRelay => modbus_relay::DEFAULT_CHANNELS,
        }
    }

    /// How many boards one bus can address.
    pub const fn max_boards(self) -> usize {
        match self {
            SimDialect::KerongCu12 => kerong_cu12::MAX_BOARD as usize + 1,
            SimDialect::KerongCu16 => kerong_cu16::BUS_BOARD as usize,
            _ => 32,
        }
    }

    /// The address of the `index`-th board (0-based) on a bus.
    pub const fn address(self, index: usize) -> u8 {
        match self {
            SimDialect::KerongCu12 | SimDialect::KerongCu16 => index as u8,
            _ => index as u8 + 1,
        }
    }

    /// The factory baud rate of the dialect's boards (vendor documents).
    pub const fn default_baud(self) -> u32 {
        match self {
            SimDialect::KerongCu12 => kerong_cu12::DEFAULT_BAUD,
            SimDialect::KerongCu16 => kerong_cu16::DEFAULT_BAUD,
            SimDialect::Bcc8a80 => bcc_8a80::BAUD_RATE,
            SimDialect::Wkly => wkly::BAUD_RATE,
            SimDialect::Winnsen => winnsen::BAUD_RATE,
            SimDialect::ModbusRelay => modbus_relay::BAUD_RATE,
            SimDialect::Native => native::DEFAULT_BAUD,
        }
    }

    /// The modelled reply latency (request's last byte to reply's first), µs: the native
    /// minimum turnaround (PROTOCOL.md §6); 5 ms for vendor boards, whose documents give
    /// none (an MCU main loop answers within a few ms).
    pub const fn reply_latency_us(self) -> u64 {
        match self {
            SimDialect::Native => native::MIN_TURNAROUND_MS as u64 * 1_000,
            _ => 5_000,
        }
    }

    /// The board configuration the simulator gives board `address`.
    pub fn board_config(self, address: u8) -> BoardConfig {
        let mut config = BoardConfig::new(address, self.channels());
        config.baud = self.default_baud();
        // CU16 boards have infrared presence sensors (its status carries them); so do native ones.
        config.has_presence = matches!(self, SimDialect::Native | SimDialect::KerongCu16);
        config
    }

    /// A simulated board at `address`, booted at `now_us`; `seed` makes native uids and boot
    /// ids differ between boards and runs.
    pub fn board(self, address: u8, physics: PhysicsConfig, seed: u64, now_us: u64) -> Box<dyn SimNode> {
        self.board_with(self.board_config(address), physics, seed, now_us)
    }

    /// A simulated board with an explicit configuration (e.g. 24 channels on a dialect whose
    /// frames can carry them, for a benchmark cabinet of 4 boards × 24 channels).
    pub fn board_with(self, config: BoardConfig, physics: PhysicsConfig, seed: u64, now_us: u64) -> Box<dyn SimNode> {
        let address = config.address;
        let physics = Physics::new(physics, config.channels);
        fn vendor<D: Dialect + Clone + 'static>(
            dialect: D,
            broadcast: Option<u8>,
            unlock_delay_ms: u32,
            config: BoardConfig,
            physics: Physics,
            now_us: u64,
        ) -> Box<dyn SimNode> {
            let make = Box::new(move |_, _| {
                Vendor::new(dialect.clone(), broadcast).with_unlock_reply_delay_ms(unlock_delay_ms)
            });
            Box::new(SimBoard::new(make, config, physics, now_us))
        }
        match self {
            SimDialect::KerongCu12 => {
                vendor(KerongCu12::new(), Some(kerong_cu12::BROADCAST), 0, config, physics, now_us)
            }
            SimDialect::KerongCu16 => {
                vendor(KerongCu16::new(), Some(kerong_cu16::BUS_BOARD), 0, config, physics, now_us)
            }
            // 8A/80 boards answer an unlock about 1 s late (lockproto bcc_8a80::UNLOCK_REPLY_DELAY_MS).
            SimDialect::Bcc8a80 => {
                vendor(Bcc8a80::default(), None, bcc_8a80::UNLOCK_REPLY_DELAY_MS, config, physics, now_us)
            }
            SimDialect::Wkly => vendor(Wkly::default(), None, 0, config, physics, now_us),
            SimDialect::Winnsen => vendor(Winnsen::default(), None, 0, config, physics, now_us),
            SimDialect::ModbusRelay => {
                vendor(ModbusRelay::default(), Some(modbus_relay::BROADCAST), 0, config, physics, now_us)
            }
            SimDialect::Native => {
                let uid = seed.rotate_left(17) ^ (0xB0A2_D000_0000_0000 | u64::from(address));
                let first_boot = (seed as u16) | 1;
                let make = Box::new(move |boot: u32, now_ms| {
                    // A new boot id each boot (PROTOCOL.md §5.4), never 0.
                    let id = first_boot.wrapping_add((boot as u16).wrapping_sub(1).wrapping_mul(2));
                    let cause = if boot == 1 { ResetCause::PowerOn } else { ResetCause::BrownOut };
                    NativeFirmware::<64, 2>::new(NativeIdentity { uid, boot: id.max(1), cause }, now_ms)
                });
                Box::new(SimBoard::new(make, config, physics, now_us))
            }
        }
    }
}

impl fmt::Display for SimDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A dialect name the simulator does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dialect {0:?} (kerong-cu12, kerong-cu16, bcc-8a80, wkly, winnsen, modbus-relay, native)")]
pub struct UnknownDialect(pub String);

impl FromStr for SimDialect {
    type Err = UnknownDialect;

    fn from_str(name: &str) -> Result<Self, UnknownDialect> {
        SimDialect::ALL.into_iter().find(|d| d.name() == name).ok_or_else(|| UnknownDialect(name.to_string()))
    }
}
