//! A byte-scripted modem UART for the modem fuzz targets: each command line the driver writes
//! (a `\r`) releases the next scripted reply chunk after its gap; unsolicited chunks arrive at
//! their scripted times; reads hand out at most `read_len` bytes. Time is a virtual clock that
//! the driver's delays advance, so a run never waits on the wall clock.

use arbitrary::Arbitrary;
use modem::blocking::Clock;
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

/// A shared virtual clock in milliseconds; the driver's delay advances it.
#[derive(Debug, Clone, Default)]
pub struct VClock(pub Rc<Cell<u64>>);

impl VClock {
    /// Moves the time forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.0.set(self.0.get() + ms);
    }
}

impl Clock for VClock {
    fn now_ms(&mut self) -> u64 {
        self.0.get()
    }
}

impl embedded_hal::delay::DelayNs for VClock {
    fn delay_ns(&mut self, ns: u32) {
        self.advance(u64::from(ns).div_ceil(1_000_000));
    }
}

/// Bytes the module sends `gap_ms` after its trigger.
#[derive(Debug, Arbitrary)]
pub struct Chunk {
    /// Milliseconds after the trigger.
    pub gap_ms: u16,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The scripted UART.
#[derive(Debug)]
pub struct Uart {
    clock: VClock,
    replies: VecDeque<Chunk>,
    queued: VecDeque<(u64, Vec<u8>)>,
    read_len: usize,
}

impl Uart {
    /// A UART on `clock` that answers command lines with `replies` in order, sends
    /// `spontaneous` chunks at their cumulative gaps from time 0, and reads at most `read_len`
    /// bytes at a time (at least 1).
    pub fn new(clock: &VClock, replies: Vec<Chunk>, spontaneous: Vec<Chunk>, read_len: u8) -> Self {
        let mut queued = VecDeque::new();
        let mut at = 0u64;
        for c in spontaneous {
            at += u64::from(c.gap_ms);
            queued.push_back((at, c.bytes));
        }
        Self { clock: clock.clone(), replies: replies.into(), queued, read_len: usize::from(read_len).max(1) }
    }
}

type Never = core::convert::Infallible;

impl embedded_io::ErrorType for Uart {
    type Error = Never;
}

impl embedded_io::ReadReady for Uart {
    fn read_ready(&mut self) -> Result<bool, Never> {
        let now = self.clock.0.get();
        Ok(self.queued.iter().any(|(at, b)| *at <= now && !b.is_empty()))
    }
}

impl embedded_io::Read for Uart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Never> {
        let now = self.clock.0.get();
        let Some(i) = self.queued.iter().position(|(at, b)| *at <= now && !b.is_empty()) else { return Ok(0) };
        let chunk = &mut self.queued[i].1;
        let n = chunk.len().min(buf.len()).min(self.read_len);
        buf[..n].copy_from_slice(&chunk[..n]);
        chunk.drain(..n);
        if chunk.is_empty() {
            self.queued.remove(i);
        }
        Ok(n)
    }
}

impl embedded_io::Write for Uart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Never> {
        if buf.contains(&b'\r')
            && let Some(c) = self.replies.pop_front()
        {
            self.queued.push_back((self.clock.0.get() + u64::from(c.gap_ms), c.bytes));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Never> {
        Ok(())
    }
}
