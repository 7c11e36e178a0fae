//! `--tap`: the simulated bus served on a PTY like `lockdrv::sim::PtyServer` does, plus a second
//! PTY that carries a copy of every byte on the simulated wire, requests and replies in the
//! order they travel, like an RS-485 adapter listening on the bus (`lockctl sniff` opens it).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lockdrv::sim::Bus;
use serialport::{SerialPort, TTYPort};

/// Linux `EIO`: reading or writing a PTY master while no one holds the slave open.
const EIO: i32 = 5;

/// One turn of the serving loop waits this long for bytes from the master.
const TICK: Duration = Duration::from_millis(1);

/// A PTY pair whose slave end is closed (a client opens the path exclusively).
pub fn pty() -> io::Result<(TTYPort, String)> {
    let (mut port, slave) = TTYPort::pair().map_err(io::Error::from)?;
    port.set_timeout(TICK).map_err(io::Error::from)?;
    let path = slave.name().ok_or_else(|| io::Error::other("the PTY slave has no path"))?;
    drop(slave);
    Ok((port, path))
}

/// Serves `bus` on `port` until `stop` or `run_for`, copying the wire to `tap`; calls
/// `first_request` with the bus time of the master's first byte.
pub fn serve(
    bus: &Bus,
    port: &mut TTYPort,
    tap: &mut TTYPort,
    run_for: Option<Duration>,
    stop: &AtomicBool,
    mut first_request: impl FnMut(u64),
) -> io::Result<()> {
    let start = Instant::now();
    let base = bus.now_us();
    let now_us = |start: Instant| base + u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let mut buf = [0u8; 1024];
    let mut heard = false;
    loop {
        if stop.load(Ordering::Relaxed) || run_for.is_some_and(|d| start.elapsed() >= d) {
            return Ok(());
        }
        match port.read(&mut buf) {
            Ok(n) => {
                let bytes = buf.get(..n).unwrap_or_default();
                bus.run_until(now_us(start));
                if !heard {
                    heard = true;
                    first_request(bus.now_us());
                }
                bus.master_write(bytes);
                copy(tap, bytes);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(e) if no_client(&e) || e.kind() == io::ErrorKind::Other => std::thread::sleep(TICK),
            Err(e) => return Err(e),
        }
        bus.run_until(now_us(start));
        loop {
            let n = bus.master_read_now(&mut buf);
            if n == 0 {
                break;
            }
            let bytes = buf.get(..n).unwrap_or_default();
            copy(tap, bytes);
            match port.write_all(bytes).and_then(|()| port.flush()) {
                Err(e) if no_client(&e) => break,
                other => other?,
            }
        }
    }
}

/// Copies bytes to the tap; without a listener (or a listener that does not keep up) they are
/// lost, as on a bus no one is sniffing.
fn copy(tap: &mut TTYPort, bytes: &[u8]) {
    let _ = tap.write_all(bytes).and_then(|()| tap.flush());
}

fn no_client(error: &io::Error) -> bool {
    error.raw_os_error() == Some(EIO) || error.kind() == io::ErrorKind::BrokenPipe
}
