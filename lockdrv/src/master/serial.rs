//! Host serial ports for the blocking master (feature `serial`): [`SerialPortIo`] makes a
//! `serialport` port (a USB-RS485 adapter, or a PTY such as `board-sim`'s) an `embedded-io`
//! port, and [`StdDelay`] is a `DelayNs` that sleeps the thread. With
//! [`super::StdClock`] they are all a gateway needs for [`super::blocking::BusMaster`]:
//!
//! ```no_run
//! use lockdrv::master::blocking::BusMaster;
//! use lockdrv::master::serial::{SerialPortIo, StdDelay};
//! use lockdrv::master::StdClock;
//! use lockproto::dialect::kerong_cu12::KerongCu12;
//!
//! let port = SerialPortIo::open("/dev/ttyUSB0", 19_200)?;
//! let mut master = BusMaster::new(KerongCu12::new(), port, StdDelay, StdClock::new(), None);
//! let status = master.status(0)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::time::Duration;

use serialport::SerialPort;

/// A `serialport` port as an `embedded-io` `Read + Write + ReadReady` port.
pub struct SerialPortIo {
    port: Box<dyn SerialPort>,
}

impl core::fmt::Debug for SerialPortIo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SerialPortIo").field("name", &self.port.name()).finish_non_exhaustive()
    }
}

impl SerialPortIo {
    /// Opens `path` at `baud`, 8N1, no flow control.
    ///
    /// # Errors
    /// The port cannot be opened.
    pub fn open(path: &str, baud: u32) -> io::Result<Self> {
        let port = serialport::new(path, baud).timeout(Duration::from_millis(10)).open()?;
        Ok(SerialPortIo { port })
    }

    /// Wraps an open port.
    pub fn new(port: Box<dyn SerialPort>) -> Self {
        SerialPortIo { port }
    }

    /// The port (baud rate, buffers, ...).
    pub fn inner_mut(&mut self) -> &mut dyn SerialPort {
        self.port.as_mut()
    }
}

impl embedded_io::ErrorType for SerialPortIo {
    type Error = io::Error;
}

impl embedded_io::Read for SerialPortIo {
    /// Blocks until at least one byte arrived (the master only reads what `read_ready`
    /// announced, so it never waits here).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.port.read(buf) {
                Ok(0) => continue,
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl embedded_io::ReadReady for SerialPortIo {
    fn read_ready(&mut self) -> io::Result<bool> {
        Ok(self.port.bytes_to_read()? > 0)
    }
}

impl embedded_io::Write for SerialPortIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(&mut self.port, buf)
    }

    /// Waits until the bytes left the transmitter (so a driver-enable pin may drop).
    fn flush(&mut self) -> io::Result<()> {
        io::Write::flush(&mut self.port)
    }
}

/// A `DelayNs` that sleeps the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdDelay;

impl embedded_hal::delay::DelayNs for StdDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(Duration::from_nanos(u64::from(ns)));
    }
}
