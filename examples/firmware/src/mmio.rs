//! The only module with `unsafe`: volatile access to the memory-mapped UART and system-control
//! registers (and, with the `stack-paint` feature, filling the free stack for `stack.sh`).
//!
//! Why `unsafe` here: a register is a fixed address that the compiler does not know as memory
//! it owns, so it can only be read and written through raw-pointer volatile accesses. Each
//! access below goes to an address from the LM3S6965 datasheet (Texas Instruments DS-LM3S6965,
//! "System Control" and "Universal Asynchronous Receivers/Transmitters (UARTs)" register maps),
//! is 32 bits wide and aligned, and has no effect on Rust-visible memory. Everything above this
//! module is safe code; the library crates stay `#![forbid(unsafe_code)]`.
#![allow(unsafe_code)]

/// System control base (datasheet, "System Control" register map: 0x400F.E000).
const SYSCTL: usize = 0x400F_E000;
/// Run-mode clock gating control 1, offset 0x104; bit 0 = UART0 (datasheet, RCGC1).
const RCGC1: usize = SYSCTL + 0x104;
/// Run-mode clock gating control 2, offset 0x108; bit 0 = GPIO port A (datasheet, RCGC2).
const RCGC2: usize = SYSCTL + 0x108;
/// GPIO port A base (APB), and its alternate function select register at offset 0x420.
const GPIOA_AFSEL: usize = 0x4000_4000 + 0x420;
/// PA0 = U0Rx, PA1 = U0Tx (datasheet, "Signal Description": UART0 pins).
const PA0_PA1: u32 = 0b11;

/// UART0 base (datasheet, UART register map: 0x4000.C000).
const UART0: usize = 0x4000_C000;
/// Data register, offset 0x000: bits 7:0 are the byte received or to send.
const UARTDR: usize = 0x000;
/// Flag register, offset 0x018.
const UARTFR: usize = 0x018;
/// UARTFR bit 4: receive FIFO empty.
const FR_RXFE: u32 = 1 << 4;
/// UARTFR bit 5: transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;
/// Integer and fractional baud-rate divisors, offsets 0x024 and 0x028.
const UARTIBRD: usize = 0x024;
const UARTFBRD: usize = 0x028;
/// Line control, offset 0x02C: WLEN (bits 6:5) = 0x3 for 8 data bits, FEN (bit 4) enables the
/// 16-byte FIFOs; no parity, one stop bit (8N1, what the native protocol uses).
const UARTLCRH: usize = 0x02C;
const LCRH_8N1_FIFO: u32 = (0x3 << 5) | (1 << 4);
/// Control, offset 0x030: UARTEN (bit 0), TXE (bit 8), RXE (bit 9).
const UARTCTL: usize = 0x030;
const CTL_ENABLE: u32 = (1 << 0) | (1 << 8) | (1 << 9);

fn read(address: usize) -> u32 {
    // SAFETY: `address` is one of the register addresses above: aligned, 32-bit, device memory.
    unsafe { core::ptr::read_volatile(address as *const u32) }
}

fn write(address: usize, value: u32) {
    // SAFETY: as in `read`; writing these registers changes only the peripheral's state.
    unsafe { core::ptr::write_volatile(address as *mut u32, value) }
}

/// UART0 of the LM3S6965, an ARM PL011 (the same register layout as the PL011 UARTs of
/// Cortex-M0 parts such as the RP2040, which is why the thumbv6m build keeps this driver).
pub struct Uart0(());

impl Uart0 {
    /// The datasheet's initialisation sequence ("Initialization and Configuration"): clock the
    /// UART and port A, give PA0/PA1 to the UART, disable the UART while setting the divisors
    /// and line control, then enable it with transmit and receive.
    ///
    /// `system_hz` and `baud` give the divisor BRD = system_hz / (16 * baud), split into the
    /// integer part and a 6-bit fraction (datasheet, "Baud-Rate Generation").
    pub fn init(system_hz: u32, baud: u32) -> Uart0 {
        write(RCGC1, read(RCGC1) | 1);
        write(RCGC2, read(RCGC2) | 1);
        // A few cycles must pass after enabling a peripheral clock before its registers are
        // touched (datasheet, RCGC notes): the read-back above and these writes take them.
        write(GPIOA_AFSEL, read(GPIOA_AFSEL) | PA0_PA1);
        let base = UART0;
        write(base + UARTCTL, 0);
        // BRD * 64 rounded: the integer part, then the fraction in 64ths.
        let brd64 = (u64::from(system_hz) * 4 + u64::from(baud) / 2) / u64::from(baud.max(1));
        write(base + UARTIBRD, (brd64 >> 6) as u32);
        write(base + UARTFBRD, (brd64 & 0x3F) as u32);
        write(base + UARTLCRH, LCRH_8N1_FIFO);
        write(base + UARTCTL, CTL_ENABLE);
        Uart0(())
    }

    /// Moves received bytes into `buf` until the receive FIFO is empty or `buf` is full;
    /// returns how many.
    pub fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let mut count = 0;
        for slot in buf.iter_mut() {
            if read(UART0 + UARTFR) & FR_RXFE != 0 {
                break;
            }
            // Bits 11:8 are the byte's error flags (framing, parity, break, overrun); the
            // stream decoder's CRC check rejects a damaged frame, so the byte is passed on.
            *slot = read(UART0 + UARTDR) as u8;
            count += 1;
        }
        count
    }

    /// Puts bytes of `bytes` into the transmit FIFO until it is full; returns how many.
    pub fn write_from(&mut self, bytes: &[u8]) -> usize {
        let mut count = 0;
        for &byte in bytes {
            if read(UART0 + UARTFR) & FR_TXFF != 0 {
                break;
            }
            write(UART0 + UARTDR, u32::from(byte));
            count += 1;
        }
        count
    }
}

/// The byte [`paint_stack`] fills the free stack with.
#[cfg(feature = "stack-paint")]
pub const PAINT: u8 = 0xAA;

/// Fills the RAM between the end of the statics and a little below the current stack pointer
/// with [`PAINT`], so that a later RAM dump shows the deepest the stack has been since (the
/// lowest byte that is no longer [`PAINT`]). Call it with interrupts not yet enabled.
///
/// Why `unsafe`: it writes memory that no Rust value owns (below the stack pointer, above the
/// statics, whose end cortex-m-rt's linker script marks with `__ebss`).
#[cfg(feature = "stack-paint")]
pub fn paint_stack() {
    unsafe extern "C" {
        static __ebss: u32;
    }
    let start = (&raw const __ebss) as usize;
    // A margin below this function's own frame.
    let end = (cortex_m::register::msp::read() as usize).saturating_sub(64);
    let word = u32::from_ne_bytes([PAINT; 4]);
    let mut at = (start + 3) & !3;
    while at < end {
        // SAFETY: `at` lies between the statics and the stack pointer: free stack, aligned.
        unsafe { core::ptr::write_volatile(at as *mut u32, word) };
        at += 4;
    }
}
