//! Arbitrary bytes through the Winnsen decoders, both directions, with and without a pending
//! request: no panic, and every accepted frame re-encodes to the bytes it was decoded from.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    locker_fuzz::decode_bytes(&lockproto::dialect::winnsen::Winnsen::default(), data);
});
