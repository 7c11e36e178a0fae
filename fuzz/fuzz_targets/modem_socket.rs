//! The TCP sockets (Quectel `QI*`, SIMCom `CIP*`) against a byte-scripted UART: each command
//! line the driver writes releases the next scripted chunk after a scripted gap, and unsolicited
//! chunks arrive at scripted times. Whatever the module sends (bad `+QIOPEN` results, `+QIRD`
//! headers longer than the request, URCs anywhere), every socket method returns without
//! panicking and a read never reports more bytes than the caller's buffer holds.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use locker_fuzz::modem_uart::{Chunk, Uart, VClock};
use modem::blocking::Modem;
use modem::socket::quectel::QuectelSocket;
use modem::socket::simcom::SimcomSocket;

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
                Call::Idle(ms) => $clock.advance(u64::from(*ms)),
            }
        }
    }};
}

fuzz_target!(|input: Input| {
    let clock = VClock::default();
    let uart = Uart::new(&clock, input.replies, input.spontaneous, input.read_len);
    let m = Modem::new(uart, clock.clone(), clock.clone());
    if input.simcom {
        drive!(SimcomSocket::new(m, 0), input.calls, clock);
    } else {
        drive!(QuectelSocket::new(m, 1, 0), input.calls, clock);
    }
});
