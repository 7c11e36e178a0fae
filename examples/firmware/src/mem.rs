//! The memory routines the compiler calls for struct moves and zeroing, written for size.
//!
//! Why: on Cortex-M0 the code generator turns every move of a value larger than a few words
//! (a decoded request, a reply, the board core at boot) into a call to the ARM EABI routines
//! `__aeabi_memcpy*` and `__aeabi_memclr*`. compiler-builtins' versions copy word by word with
//! alignment fix-ups, unrolled: about 1.5 KiB of flash, a tenth of this firmware. The ones here
//! are plain byte loops (42 bytes in this build: identical bodies are folded, unused ones are
//! dropped), like newlib-nano's when it prefers size over speed. They are slower, about 9
//! cycles a byte on Cortex-M0, and a request moves at most a few kilobytes in all: under 2 ms
//! at 12 MHz, inside the native protocol's 20 ms reply turnaround (PROTOCOL.md §6).
//! compiler-builtins defines these symbols weak, so the linker takes these.
//!
//! Why `unsafe`: the routines receive raw pointers from generated code, whose contract (ARM
//! "Run-time ABI for the ARM Architecture", IHI 0043, §4.3.4) is that `dest` and `src` are
//! valid for `n` bytes and do not overlap (except for memmove, which this firmware does not
//! link).
#![allow(unsafe_code)]

/// Copies `n` bytes from `src` to `dest`, lowest address first.
///
/// # Safety
/// `dest` and `src` are valid for `n` bytes and do not overlap.
unsafe fn copy_bytes(dest: *mut u8, src: *const u8, n: usize) {
    for i in 0..n {
        // SAFETY: `i < n`, inside both regions by the caller's contract. The volatile write
        // keeps the optimiser from recognising the loop as a memcpy and calling itself.
        unsafe { dest.add(i).write_volatile(src.add(i).read()) };
    }
}

/// Sets `n` bytes at `dest` to `value`.
///
/// # Safety
/// `dest` is valid for `n` bytes.
unsafe fn fill_bytes(dest: *mut u8, n: usize, value: u8) {
    for i in 0..n {
        // SAFETY: `i < n`, inside the region by the caller's contract; volatile as above.
        unsafe { dest.add(i).write_volatile(value) };
    }
}

/// `memcpy` for any alignment (AEABI §4.3.4).
///
/// # Safety
/// As [`copy_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memcpy(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract is `copy_bytes`'s.
    unsafe { copy_bytes(dest, src, n) }
}

/// `memcpy` for 4-byte aligned regions: the byte loop needs no alignment.
///
/// # Safety
/// As [`copy_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memcpy4(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: as above.
    unsafe { copy_bytes(dest, src, n) }
}

/// `memcpy` for 8-byte aligned regions.
///
/// # Safety
/// As [`copy_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memcpy8(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: as above.
    unsafe { copy_bytes(dest, src, n) }
}

/// `memset(dest, 0, n)`, AEABI order: destination, then length.
///
/// # Safety
/// As [`fill_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memclr(dest: *mut u8, n: usize) {
    // SAFETY: the caller's contract is `fill_bytes`'s.
    unsafe { fill_bytes(dest, n, 0) }
}

/// `memset(dest, 0, n)` for 4-byte aligned regions.
///
/// # Safety
/// As [`fill_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memclr4(dest: *mut u8, n: usize) {
    // SAFETY: as above.
    unsafe { fill_bytes(dest, n, 0) }
}

/// `memset(dest, 0, n)` for 8-byte aligned regions.
///
/// # Safety
/// As [`fill_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memclr8(dest: *mut u8, n: usize) {
    // SAFETY: as above.
    unsafe { fill_bytes(dest, n, 0) }
}

/// `memset(dest, value, n)`, AEABI order: destination, length, then the value (its low byte).
///
/// # Safety
/// As [`fill_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memset(dest: *mut u8, n: usize, value: i32) {
    // SAFETY: as above.
    unsafe { fill_bytes(dest, n, value as u8) }
}

/// `memset` for 4-byte aligned regions.
///
/// # Safety
/// As [`fill_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memset4(dest: *mut u8, n: usize, value: i32) {
    // SAFETY: as above.
    unsafe { fill_bytes(dest, n, value as u8) }
}

/// `memset` for 8-byte aligned regions.
///
/// # Safety
/// As [`fill_bytes`].
#[unsafe(no_mangle)]
pub unsafe extern "aapcs" fn __aeabi_memset8(dest: *mut u8, n: usize, value: i32) {
    // SAFETY: as above.
    unsafe { fill_bytes(dest, n, value as u8) }
}
