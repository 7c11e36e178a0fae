//! The serial port as the bus master sees it: a `serialport` port adapted to `embedded-io`
//! (`Read`, `Write`, `ReadReady`), and a `DelayNs` on `std::thread::sleep` (the clock is
//! lockdrv's `StdClock` on `std::time::Instant`).

use std::io::{self, Read as _, Write as _};
use std::time::{Duration, Instant};

use serialport::SerialPort;

/// How long one `read` of the OS port waits before looking again; short, so that
/// [`SerialIo::read_for`] and `sniff` notice idle gaps and deadlines promptly.
const POLL: Duration = Duration::from_millis(2);

/// Opens `path` at `baud`, 8N1, no flow control, exclusively (a second `lockctl` on the same
/// port fails at once instead of stealing half of the replies).
pub fn open(path: &str, baud: u32) -> Result<SerialIo, String> {
    let port = serialport::new(path, baud)
        .timeout(POLL)
        .open()
        .map_err(|e| format!("cannot open {path} at {baud} baud: {e}"))?;
    Ok(SerialIo { port })
}

/// A serial port with the `embedded-io` traits the blocking bus master needs.
pub struct SerialIo {
    port: Box<dyn SerialPort>,
}

impl SerialIo {
    /// Changes the baud rate (`scan --dialect auto` tries each dialect at its factory rate).
    pub fn set_baud(&mut self, baud: u32) -> Result<(), String> {
        self.port.set_baud_rate(baud).map_err(|e| format!("cannot set {baud} baud: {e}"))
    }

    /// Reads what arrives within `wait` (at most `buf.len()` bytes); `Ok(0)` when the line
    /// stayed quiet. Used by `sniff`, which must never block past its deadline.
    pub fn read_for(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<usize> {
        let start = Instant::now();
        loop {
            match self.port.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if quiet(&e) => {
                    if start.elapsed() >= wait {
                        return Ok(0);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether a read error only means "nothing yet".
fn quiet(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

impl embedded_io::ErrorType for SerialIo {
    type Error = io::Error;
}

impl embedded_io::Read for SerialIo {
    /// Blocks until at least one byte has arrived, as `embedded_io::Read` requires; the master
    /// asks [`embedded_io::ReadReady`] first, so it never waits here past its own deadline.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.port.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if quiet(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl embedded_io::ReadReady for SerialIo {
    fn read_ready(&mut self) -> Result<bool, io::Error> {
        Ok(self.port.bytes_to_read().map_err(io::Error::from)? > 0)
    }
}

impl embedded_io::Write for SerialIo {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        self.port.write(buf)
    }

    fn flush(&mut self) -> Result<(), io::Error> {
        self.port.flush()
    }
}

/// `DelayNs` on the OS sleep (the master sleeps in short steps between `read_ready` checks).
#[derive(Debug, Clone, Copy, Default)]
pub struct StdDelay;

impl embedded_hal::delay::DelayNs for StdDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(Duration::from_nanos(u64::from(ns)));
    }
}
