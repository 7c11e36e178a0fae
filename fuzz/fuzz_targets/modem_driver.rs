//! The blocking modem driver against a byte-scripted UART: each command line the driver
//! writes releases the next scripted chunk after a scripted gap, and unsolicited chunks arrive
//! at scripted times. Whatever the module sends, every driver method returns (on a virtual
//! clock) without panicking, and the driver stays usable for the next call.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use locker_fuzz::modem_uart::{Chunk, Uart, VClock};
use modem::blocking::Modem;

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

fuzz_target!(|input: Input| {
    let clock = VClock::default();
    let uart = Uart::new(&clock, input.replies, input.spontaneous, input.read_len);
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
            Call::Idle(ms) => clock.advance(u64::from(*ms)),
        }
    }
});
