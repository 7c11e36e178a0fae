//! The blocking modem driver against a byte-scripted UART: each command line the driver
//! writes releases the next scripted chunk after a scripted gap, and unsolicited chunks arrive
//! at scripted times. Whatever the module sends, every driver method returns (on a virtual
//! clock) without panicking, and the driver stays usable for the next call.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modem::blocking::{Clock, Modem};
use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

#[derive(Debug, Clone, Default)]
struct VClock(Rc<Cell<u64>>);

impl Clock for VClock {
    fn now_ms(&mut self) -> u64 {
        self.0.get()
    }
}

impl embedded_hal::delay::DelayNs for VClock {
    fn delay_ns(&mut self, ns: u32) {
        self.0.set(self.0.get() + u64::from(ns).div_ceil(1_000_000));
    }
}

#[derive(Debug, Arbitrary)]
struct Chunk {
    gap_ms: u16,
    bytes: Vec<u8>,
}

#[derive(Debug, Arbitrary)]
enum Call {
    At,
    BringUp(u16),
    Signal,
    Registration,
    Operator,
    Imei,
    Iccid,
    Command(Vec<u8>),
    WithData(Vec<u8>, Vec<u8>),
    SessionLost,
    PopUrc,
    Idle(u16),
}

#[derive(Debug, Arbitrary)]
struct Input {
    replies: Vec<Chunk>,
    spontaneous: Vec<Chunk>,
    read_len: u8,
    calls: Vec<Call>,
}

#[derive(Debug)]
struct Uart {
    clock: VClock,
    replies: VecDeque<Chunk>,
    queued: VecDeque<(u64, Vec<u8>)>,
    read_len: usize,
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

fuzz_target!(|input: Input| {
    let clock = VClock::default();
    let mut uart = Uart {
        clock: clock.clone(),
        replies: input.replies.into_iter().collect(),
        queued: VecDeque::new(),
        read_len: usize::from(input.read_len).max(1),
    };
    let mut at = 0u64;
    for c in input.spontaneous {
        at += u64::from(c.gap_ms);
        uart.queued.push_back((at, c.bytes));
    }
    let mut m = Modem::new(uart, clock.clone(), clock.clone());
    for call in input.calls.iter().take(32) {
        match call {
            Call::At => drop(m.at()),
            Call::BringUp(ms) => drop(m.bring_up(u64::from(*ms))),
            Call::Signal => drop(m.signal()),
            Call::Registration => drop(m.registration()),
            Call::Operator => drop(m.operator()),
            Call::Imei => drop(m.imei()),
            Call::Iccid => drop(m.iccid()),
            Call::Command(t) => drop(m.command(t)),
            Call::WithData(t, d) => drop(m.command_with_data(t, d, Some(0x1a))),
            Call::SessionLost => drop(m.session_lost()),
            Call::PopUrc => drop(m.pop_urc()),
            Call::Idle(ms) => clock.0.set(clock.0.get() + u64::from(*ms)),
        }
    }
});
