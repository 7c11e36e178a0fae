//! Board firmware for a Stellaris LM3S6965 (QEMU machine `lm3s6965evb`): lockdrv's board core
//! ([`lockdrv::board::BoardCore`] with [`lockdrv::board::NativeFirmware`]) speaking the native
//! protocol on UART0, for 24 lock channels with door switches and presence sensors, whose
//! physical side is the deterministic [`model::Cabinet`].
//!
//! The main loop is the shell DESIGN.md describes around a sans-io core: take the bytes the
//! UART received, hand them to the core with the time, sample the inputs, drive the outputs,
//! give the core's reply bytes to the UART, then sleep until the next SysTick (1 ms) or byte.
#![no_std]
#![no_main]

mod mem;
mod mmio;
mod model;

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use lockdrv::board::{BoardConfig, BoardCore, NativeFirmware, NativeIdentity};
use lockproto::native::{self, ResetCause};

/// Lock channels of this board.
const CHANNELS: usize = 24;
/// Events the native log keeps: 24, fewer than PROTOCOL.md §5.3's recommended 64, to fit the
/// firmware in 2 KiB of RAM. A master polling every second reads them long before 24 pile up;
/// should they, the next read says `lost` (§5.3) and the master falls back to a status read.
const EVENTS: usize = 24;
/// Replies the native retry cache keeps (PROTOCOL.md §5.2: 2 recommended).
const CACHE: usize = lockdrv::board::native::DEFAULT_CACHE;
/// Bytes per cached reply: enough for every unlock reply, the requests that must never run
/// twice; replies to reads are answered again instead.
const CACHE_MAX: usize = lockdrv::board::native::UNLOCK_REPLY_MAX_LEN;
/// Receive buffer: the longest native request is 30 bytes (an UnlockMany of 128 locks).
const RX: usize = 64;
/// Transmit buffer, which also bounds one reply: a status of 24 channels is 44 bytes, and an
/// events reply carries as many records as fit (9 here) and says `more`.
const TX: usize = 96;
/// The board's bus address (the native protocol numbers boards from 1).
const ADDRESS: u8 = 1;
/// The board's unique id: "LM3S6965" in ASCII.
const UID: u64 = u64::from_be_bytes(*b"LM3S6965");

/// The system clock after reset, which this firmware keeps (no PLL set-up): the LM3S6965
/// starts from its 12 MHz internal oscillator (datasheet, "Clock Control"); QEMU's model
/// clocks SysTick from the same system clock.
const SYSTEM_HZ: u32 = 12_000_000;

/// The firmware's type: the native protocol on a 24-channel board.
type Core = BoardCore<NativeFirmware<EVENTS, CACHE, CACHE_MAX>, CHANNELS, RX, TX>;

/// Milliseconds since boot, counted by the SysTick exception. Only that handler writes it (a
/// load and a store, which thumbv6m has; it has no read-modify-write atomics).
static TICKS_MS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    TICKS_MS.store(TICKS_MS.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// The SysTick count as a 64-bit uptime that does not wrap after 49 days.
struct Clock {
    last: u32,
    high: u64,
}

impl Clock {
    fn now_ms(&mut self) -> u64 {
        let ticks = TICKS_MS.load(Ordering::Relaxed);
        if ticks < self.last {
            self.high += 1 << 32;
        }
        self.last = ticks;
        self.high | u64::from(ticks)
    }
}

#[entry]
fn main() -> ! {
    let Some(mut peripherals) = cortex_m::Peripherals::take() else { halt() };
    let mut uart = mmio::Uart0::init(SYSTEM_HZ, native::DEFAULT_BAUD);

    let Some((core, cabinet)) = boot() else { halt() };

    #[cfg(feature = "stack-paint")]
    mmio::paint_stack();

    let syst = &mut peripherals.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYSTEM_HZ / 1_000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();

    let mut clock = Clock { last: 0, high: 0 };
    let mut rx = [0u8; 16];
    loop {
        let now = clock.now_ms();
        let received = uart.read_into(&mut rx);
        if let Some(bytes) = rx.get(..received).filter(|bytes| !bytes.is_empty()) {
            core.receive(bytes, now);
        }
        cabinet.advance(now);
        core.poll(cabinet.doors_open(), Some(cabinet.occupied()), now);
        cabinet.on_outputs(core.outputs(), now);
        if !core.transmit().is_empty() && core.tx_ready_ms() <= now {
            let sent = uart.write_from(core.transmit());
            core.consume_tx(sent);
        }
        // Sleep until the next tick unless bytes are still waiting in the receive FIFO.
        if received < rx.len() {
            cortex_m::asm::wfi();
        }
    }
}

/// Builds the board core and the cabinet model in their statics; `None` if called twice.
///
/// Not inlined: the values are built on the stack and then moved into the statics, and this
/// frame (about the size of the core) is given back before the main loop runs, instead of
/// staying reserved in `main`'s frame for ever.
#[inline(never)]
fn boot() -> Option<(&'static mut Core, &'static mut model::Cabinet<CHANNELS>)> {
    // Outputs are off until the core says otherwise (there are no output pins to clear here:
    // the model's latches start closed).
    let mut config = BoardConfig::new(ADDRESS, CHANNELS as u8);
    config.has_presence = true;
    config.baud = native::DEFAULT_BAUD;
    let identity = NativeIdentity { uid: UID, boot: 1, cause: ResetCause::PowerOn };
    // In a static, so that the footprint report counts the core in `.bss` (see README.md).
    let core = cortex_m::singleton!(: Core = BoardCore::new(NativeFirmware::new(identity, 0), config))?;
    let cabinet = cortex_m::singleton!(: model::Cabinet<CHANNELS> = model::Cabinet::new())?;
    Some((core, cabinet))
}

/// Stops for good (the board's outputs are off: the core was never started or is gone).
fn halt() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // The core never panics on bus input (lints deny unwrap, expect, panics and indexing).
    // Should anything else panic, stop: the main loop no longer runs, so no new pulse starts
    // (a board with real outputs would switch them off here first).
    halt()
}
