//! The simulator behind the async traits: `embedded_io_async::{Read, Write}` for [`Sim`]
//! (`ReadReady` is shared with the blocking traits) and `embedded_hal_async::delay::DelayNs`
//! for [`SimClock`]. Every future completes on its first poll; the delay advances the virtual
//! clock, so a test needs only a trivial executor.

use super::{Sim, SimClock, SimError};

impl embedded_io_async::Read for Sim {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, SimError> {
        embedded_io::Read::read(self, buf)
    }
}

impl embedded_io_async::Write for Sim {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, SimError> {
        embedded_io::Write::write(self, buf)
    }

    async fn flush(&mut self) -> Result<(), SimError> {
        embedded_io::Write::flush(self)
    }
}

impl embedded_hal_async::delay::DelayNs for SimClock {
    async fn delay_ns(&mut self, ns: u32) {
        self.advance(u64::from(ns).div_ceil(1_000_000));
    }
}
