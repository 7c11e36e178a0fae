//! The simulated bus on a real PTY: a master (`lockctl`, a gateway, a test) opens the slave
//! path like any serial port and talks to the simulated boards through the kernel's tty layer.
//!
//! Virtual time follows the wall clock here: the bus runs until "now" on every turn of the
//! loop, so the wire timing (byte times, reply latency, faults) is what a real port would see,
//! within the loop's 1 ms tick.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};

use super::bus::Bus;

/// Linux `EIO`: what reading a PTY master returns while no one holds the slave open.
const EIO: i32 = 5;

/// How long one turn of the serving loop waits for bytes from the master.
const TICK: Duration = Duration::from_millis(1);

/// A bus served on a PTY pair.
pub struct PtyServer {
    bus: Bus,
    port: TTYPort,
    path: String,
}

impl core::fmt::Debug for PtyServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PtyServer").field("path", &self.path).field("bus", &self.bus).finish()
    }
}

impl PtyServer {
    /// Creates a PTY pair for `bus`.
    ///
    /// # Errors
    /// When the pair cannot be created or configured.
    pub fn new(bus: Bus) -> io::Result<Self> {
        let (mut port, slave) = TTYPort::pair().map_err(io::Error::from)?;
        port.set_timeout(TICK).map_err(io::Error::from)?;
        let path = slave.name().ok_or_else(|| io::Error::other("the PTY slave has no path"))?;
        // The slave end is closed here: serialport takes an flock on open, and a client opening
        // the path with the default (exclusive) settings would fail while we held it.
        drop(slave);
        Ok(PtyServer { bus, port, path })
    }

    /// The path a master opens (`/dev/pts/N`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Serves until `stop` is set or `duration` has passed (forever with `None` and a `stop`
    /// that is never set).
    ///
    /// # Errors
    /// A read or write error of the PTY other than a timeout.
    pub fn run(&mut self, duration: Option<Duration>, stop: &AtomicBool) -> io::Result<()> {
        let start = Instant::now();
        let base = self.bus.now_us();
        let now_us = |start: Instant| base + start.elapsed().as_micros() as u64;
        let mut buf = [0u8; 1024];
        loop {
            if stop.load(Ordering::Relaxed) || duration.is_some_and(|d| start.elapsed() >= d) {
                return Ok(());
            }
            match self.port.read(&mut buf) {
                Ok(n) => {
                    self.bus.run_until(now_us(start));
                    self.bus.master_write(buf.get(..n).unwrap_or_default());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                // No client has the slave open (EIO, hang-up): wait for one.
                Err(e) if no_client(&e) || e.kind() == io::ErrorKind::Other => std::thread::sleep(TICK),
                Err(e) => return Err(e),
            }
            self.bus.run_until(now_us(start));
            loop {
                let n = self.bus.master_read_now(&mut buf);
                if n == 0 {
                    break;
                }
                let sent = self.port.write_all(buf.get(..n).unwrap_or_default()).and_then(|()| self.port.flush());
                match sent {
                    // No client, or it went away mid-reply: the bytes are lost, as on a real bus.
                    Err(e) if no_client(&e) => break,
                    other => other?,
                }
            }
        }
    }
}

/// Whether `error` means that no client holds the slave end open.
fn no_client(error: &io::Error) -> bool {
    error.raw_os_error() == Some(EIO) || error.kind() == io::ErrorKind::BrokenPipe
}
