//! The timing model of the wire: 8N1 framing (10 bits a byte) at the bus baud rate, and the
//! board's reply latency.

/// Time on the wire of one byte at `baud`, µs (10 bits: start, 8 data, stop), rounded up.
pub const fn byte_time_us(baud: u32) -> u64 {
    let baud = if baud == 0 { 1 } else { baud as u64 };
    (10 * 1_000_000u64).div_ceil(baud)
}

/// Time on the wire of `bytes` bytes at `baud`, µs.
pub const fn wire_time_us(bytes: usize, baud: u32) -> u64 {
    let baud = if baud == 0 { 1 } else { baud as u64 };
    (bytes as u64 * 10 * 1_000_000).div_ceil(baud)
}

/// The wire-time minimum of one transaction: request and reply bytes × 10 bits / baud, plus the
/// modelled reply latency (the board's turnaround between the request's last byte and the
/// reply's first). No master can complete the transaction faster on this bus; the benchmark
/// reports sweeps as a ratio to the sum of these minima.
///
/// ```
/// use lockdrv::sim::timing::transaction_min_us;
/// // A CU12 status query (8 bytes) and its reply (10 bytes) at 19200 baud with 5 ms latency.
/// assert_eq!(transaction_min_us(8, 10, 19_200, 5_000), 9_375 + 5_000);
/// ```
pub const fn transaction_min_us(request_len: usize, reply_len: usize, baud: u32, reply_latency_us: u64) -> u64 {
    wire_time_us(request_len + reply_len, baud) + reply_latency_us
}
