//! Arbitrary bytes through the SSI parser, the streaming decoder (whole and in chunks whose
//! sizes come from the input), PARAM_SEND parameters and multipacket assembly: no panic, every
//! packet re-encodes to its bytes, and chunking never changes the frames found.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner::ssi::{self, DecodeAssembler, Params, SsiDecoder};
use scanner::stream::Event;

fn frames(data: &[u8], chunk: usize) -> Vec<(u64, Vec<u8>)> {
    let mut dec = SsiDecoder::new();
    let mut asm = DecodeAssembler::<512>::new();
    let mut out = Vec::new();
    for mut c in data.chunks(chunk.max(1)) {
        while let Some(ev) = dec.feed(&mut c) {
            if let Event::Frame { offset, frame } = ev {
                let mut buf = [0u8; ssi::MAX_PACKET];
                let n = ssi::encode(&frame, &mut buf).expect("decoded packet re-encodes");
                out.push((offset, buf[..n].to_vec()));
                let _ = asm.push(&frame);
                let _ = Params::new(frame.payload).count();
            }
        }
    }
    dec.idle();
    let mut empty: &[u8] = &[];
    while let Some(ev) = dec.feed(&mut empty) {
        if let Event::Frame { offset, frame } = ev {
            let mut buf = [0u8; ssi::MAX_PACKET];
            let n = ssi::encode(&frame, &mut buf).expect("decoded packet re-encodes");
            out.push((offset, buf[..n].to_vec()));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if let Ok((p, used)) = ssi::parse(data) {
        let mut buf = [0u8; ssi::MAX_PACKET];
        let n = ssi::encode(&p, &mut buf).expect("re-encodes");
        assert_eq!(&buf[..n], &data[..used]);
    }
    let chunk = data.first().map_or(1, |b| usize::from(*b % 17) + 1);
    assert_eq!(frames(data, data.len().max(1)), frames(data, chunk), "chunking changed the frames");
});
