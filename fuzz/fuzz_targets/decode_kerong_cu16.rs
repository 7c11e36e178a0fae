//! Arbitrary bytes through the KerongCu16 decoders, both directions, with and without a pending
//! request: no panic, and every accepted frame re-encodes to the bytes it was decoded from.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    locker_fuzz::decode_bytes(&lockproto::dialect::kerong_cu16::KerongCu16::default(), data);
});
