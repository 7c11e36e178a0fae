//! Structured round trip: arbitrary messages of every dialect that encode must decode back to
//! the same message (requests) or to a message that re-encodes to the same bytes (replies).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    locker_fuzz::roundtrip_any_dialect(data);
});
