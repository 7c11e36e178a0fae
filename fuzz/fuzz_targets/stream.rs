//! The streaming decoder of every dialect on arbitrary bytes in arbitrary chunks: no panic, and
//! the frames found do not depend on where the chunks were cut.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: locker_fuzz::StreamInput<'_>| {
    locker_fuzz::stream_any_dialect(&input);
});
