//! The TCP sockets (Quectel `QI*`, SIMCom `CIP*`) against a byte-scripted UART: each command
//! line the driver writes releases the next scripted chunk after a scripted gap, and unsolicited
//! chunks arrive at scripted times. Whatever the module sends (bad `+QIOPEN` results, `+QIRD`
//! headers longer than the request, URCs anywhere), every socket method returns without
//! panicking and a read never reports more bytes than the caller's buffer holds.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use modem::blocking::{Clock, Modem};
use modem::socket::quectel::QuectelSocket;
use modem::socket::simcom::SimcomSocket;
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
    Attach,
    Open(u16),
    Send(Vec<u8>),
    Receive(u16),
    Close,
    Poll,
    PopUrc,
    Idle(u16),
}

#[derive(Debug, Arbitrary)]
struct Input {
    simcom: bool,
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

macro_rules! drive {
    ($socket:expr, $calls:expr, $clock:expr) => {{
        let mut socket = $socket;
        let mut buf = vec![0u8; 2048];
        for call in $calls.iter().take(32) {
            match call {
                Call::Attach => drop(socket.attach()),
                Call::Open(port) => drop(socket.open("h", *port)),
                Call::Send(d) => drop(socket.send(d)),
                Call::Receive(n) => {
                    let n = usize::from(*n) % buf.len();
                    if let Ok(got) = socket.receive(&mut buf[..n]) {
                        assert!(got <= n);
                    }
                }
                Call::Close => drop(socket.close()),
                Call::Poll => drop(socket.poll()),
                Call::PopUrc => drop(socket.pop_urc()),
                Call::Idle(ms) => $clock.0.set($clock.0.get() + u64::from(*ms)),
            }
        }
    }};
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
    let m = Modem::new(uart, clock.clone(), clock.clone());
    if input.simcom {
        drive!(SimcomSocket::new(m, 0), input.calls, clock);
    } else {
        drive!(QuectelSocket::new(m, 1, 0), input.calls, clock);
    }
});
