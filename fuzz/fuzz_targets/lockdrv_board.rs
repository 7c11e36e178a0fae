//! The lockdrv board firmware core on arbitrary bytes at arbitrary times, as a CU12, 8A/80 and
//! native board: no panic, and no lock output is ever on longer than the maximum on-time or
//! more than the power budget allows.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use lockdrv::board::pulse::PulseConfig;
use lockdrv::board::{BoardConfig, BoardCore, NativeFirmware, NativeIdentity, Protocol, Vendor};
use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::{self, KerongCu12};
use lockproto::native::ResetCause;
use lockproto::{Lock, LockSet};

const CH: usize = 16;
const MAX_ON: u32 = 600;
const MAX_SIM: u8 = 2;

#[derive(Debug, Arbitrary)]
struct Step<'a> {
    bytes: &'a [u8],
    gap_ms: u16,
    doors: u16,
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    dialect: u8,
    address: u8,
    steps: Vec<Step<'a>>,
}

fn run<P: Protocol<CH>>(protocol: P, input: &Input<'_>) {
    let mut config = BoardConfig::new(input.address, CH as u8);
    config.pulse = PulseConfig { max_on_ms: MAX_ON, max_simultaneous: MAX_SIM };
    let mut core = BoardCore::<P, CH>::new(protocol, config);
    let mut now = 0u64;
    let mut on_since = [None::<u64>; CH];
    for step in &input.steps {
        core.receive(step.bytes, now);
        core.consume_tx(usize::MAX);
        let target = now + u64::from(step.gap_ms);
        loop {
            let next = core.poll(LockSet::from_bits(u128::from(step.doors)), None, now);
            let outputs = core.outputs();
            assert!(outputs.len() <= u32::from(MAX_SIM));
            for (i, since) in on_since.iter_mut().enumerate() {
                let on = Lock::from_index(i).is_some_and(|lock| outputs.contains(lock));
                match (on, *since) {
                    (true, None) => *since = Some(now),
                    (true, Some(t)) => assert!(now - t < u64::from(MAX_ON), "output on too long"),
                    (false, _) => *since = None,
                }
            }
            match next {
                Some(t) if t <= target => now = t.max(now),
                _ => break,
            }
        }
        now = target;
    }
}

fuzz_target!(|input: Input<'_>| {
    match input.dialect % 3 {
        0 => run(Vendor::new(KerongCu12::new(), Some(kerong_cu12::BROADCAST)), &input),
        1 => run(Vendor::new(Bcc8a80::default(), None), &input),
        _ => run(
            NativeFirmware::<16, 2>::new(NativeIdentity { uid: 7, boot: 9, cause: ResetCause::PowerOn }, 0),
            &input,
        ),
    }
});
