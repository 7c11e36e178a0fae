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

/// How long one turn of the serving loop waits for bytes from the master.
const TICK: Duration = Duration::from_millis(1);

/// A bus served on a PTY pair.
pub struct PtyServer {
    bus: Bus,
    port: TTYPort,
    /// Held open so that the master side never sees a hang-up while no client is connected;
    /// not exclusive, so that a client can open the same path.
    slave: TTYPort,
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
        let (mut port, mut slave) = TTYPort::pair().map_err(io::Error::from)?;
        slave.set_exclusive(false).map_err(io::Error::from)?;
        port.set_timeout(TICK).map_err(io::Error::from)?;
        let path = slave.name().ok_or_else(|| io::Error::other("the PTY slave has no path"))?;
        Ok(PtyServer { bus, port, slave, path })
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
        // The slave handle is kept only for its open file descriptor.
        let _ = &self.slave;
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
                Err(e) => return Err(e),
            }
            self.bus.run_until(now_us(start));
            loop {
                let n = self.bus.master_read_now(&mut buf);
                if n == 0 {
                    break;
                }
                self.port.write_all(buf.get(..n).unwrap_or_default())?;
            }
            self.port.flush()?;
        }
    }
}
