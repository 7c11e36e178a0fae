//! Property tests of the board core: whatever bytes arrive and whenever it is polled, the
//! outputs respect the pulse bound and the power budget, and nothing panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lockdrv::board::pulse::PulseConfig;
use lockdrv::board::{BoardConfig, BoardCore, NativeFirmware, NativeIdentity, Protocol, Vendor};
use lockproto::dialect::bcc_8a80::Bcc8a80;
use lockproto::dialect::kerong_cu12::{self, Cu12Request, KerongCu12};
use lockproto::dialect::wkly::Wkly;
use lockproto::native::{Native, NativeRequest, ResetCause};
use lockproto::{Dialect, Lock, LockSet};
use proptest::prelude::*;

const CH: usize = 24;
const MAX_ON: u32 = 700;
const MAX_SIM: u8 = 2;

fn config() -> BoardConfig {
    let mut config = BoardConfig::new(1, CH as u8);
    config.pulse = PulseConfig { max_on_ms: MAX_ON, max_simultaneous: MAX_SIM };
    config
}

/// Feeds `chunks` at increasing times, polling in between with random door inputs, and checks
/// that no output is ever on longer than MAX_ON (sampled at every poll) or more than MAX_SIM at
/// once.
fn run<P: Protocol<CH>>(mut core: BoardCore<P, CH>, chunks: &[(Vec<u8>, u16, u32)]) {
    let mut now = 0u64;
    let mut on_since = [None::<u64>; CH];
    core.poll(LockSet::EMPTY, None, now);
    for (bytes, gap, doors) in chunks {
        core.receive(bytes, now);
        core.consume_tx(usize::MAX);
        let target = now + u64::from(*gap);
        // Poll at every deadline up to the target, as a firmware timer would.
        loop {
            let doors = LockSet::from_bits(u128::from(*doors));
            let next = core.poll(doors, None, now);
            let outputs = core.outputs();
            assert!(outputs.len() <= u32::from(MAX_SIM), "{outputs:?} at {now}");
            for (i, since) in on_since.iter_mut().enumerate() {
                let on = outputs.contains(Lock::from_index(i).unwrap());
                match (on, *since) {
                    (true, None) => *since = Some(now),
                    (true, Some(t)) => assert!(now - t < u64::from(MAX_ON), "lock {} on since {t}, now {now}", i + 1),
                    (false, _) => *since = None,
                }
            }
            match next {
                Some(t) if t <= target => now = t,
                _ => break,
            }
        }
        now = target;
    }
}

fn frames() -> impl Strategy<Value = Vec<u8>> {
    // Valid unlocks mixed with noise, so that pulses really happen.
    prop_oneof![
        (0u8..14, 1u8..=12).prop_map(|(board, lock)| {
            let mut out = [0u8; 16];
            let request = if lock == 12 {
                Cu12Request::UnlockAll { board }
            } else {
                Cu12Request::Unlock { board, lock: Lock::new(lock).unwrap() }
            };
            let len = KerongCu12::new().encode_request(&request, &mut out).unwrap();
            out[..len].to_vec()
        }),
        (1u8..=30, 1u16..3_000).prop_map(|(lock, pulse_ms)| {
            let request =
                NativeRequest::Unlock { board: 1, seq: lock, boot: 0, lock: Lock::new(lock).unwrap(), pulse_ms };
            let mut out = [0u8; 300];
            let len = Native::default().encode_request(&request, &mut out).unwrap();
            out[..len].to_vec()
        }),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn chunks() -> impl Strategy<Value = Vec<(Vec<u8>, u16, u32)>> {
    proptest::collection::vec((frames(), 0u16..1_500, any::<u32>()), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn cu12_outputs_stay_bounded(chunks in chunks()) {
        run(BoardCore::new(Vendor::new(KerongCu12::new(), Some(kerong_cu12::BROADCAST)), config()), &chunks);
    }

    #[test]
    fn native_outputs_stay_bounded(chunks in chunks()) {
        let firmware = NativeFirmware::<16, 2>::new(NativeIdentity { uid: 1, boot: 5, cause: ResetCause::PowerOn }, 0);
        run(BoardCore::new(firmware, config()), &chunks);
    }

    #[test]
    fn wkly_and_8a80_survive_noise(chunks in chunks()) {
        run(BoardCore::new(Vendor::new(Wkly::default(), None), config()), &chunks);
        run(BoardCore::new(Vendor::new(Bcc8a80::default(), None), config()), &chunks);
    }
}
