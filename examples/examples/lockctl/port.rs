//! The serial port: lockdrv's `SerialPortIo` (the `embedded-io` port of the blocking bus
//! master), plus what `scan --dialect auto` and `sniff` need on top.

use std::io;
use std::time::{Duration, Instant};

pub use lockdrv::master::serial::{SerialPortIo, StdDelay};

/// Opens `path` at `baud`, 8N1, no flow control, exclusively (a second `lockctl` on the same
/// port fails at once instead of stealing half of the replies).
pub fn open(path: &str, baud: u32) -> Result<SerialPortIo, String> {
    SerialPortIo::open(path, baud).map_err(|e| format!("cannot open {path} at {baud} baud: {e}"))
}

/// Changes the baud rate (`scan --dialect auto` tries each dialect at its factory rate).
pub fn set_baud(port: &mut SerialPortIo, baud: u32) -> Result<(), String> {
    port.inner_mut().set_baud_rate(baud).map_err(|e| format!("cannot set {baud} baud: {e}"))
}

/// Reads what arrives within `wait` (at most `buf.len()` bytes); `Ok(0)` when the line stayed
/// quiet. `sniff` uses it so that it never blocks past an idle gap or its deadline.
pub fn read_for(port: &mut SerialPortIo, buf: &mut [u8], wait: Duration) -> io::Result<usize> {
    let start = Instant::now();
    loop {
        match port.inner_mut().read(buf) {
            Ok(n) if n > 0 => return Ok(n),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
        if start.elapsed() >= wait {
            return Ok(0);
        }
    }
}
