//! Arbitrary bytes through the Grow 7E-00 command and response parsers and streaming decoders:
//! no panic, every frame re-encodes to its bytes, chunking never changes the frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scanner::grow::{self, CommandDecoder, ResponseDecoder};
use scanner::stream::Event;

fn responses(data: &[u8], chunk: usize) -> Vec<(u64, u8, Vec<u8>)> {
    let mut dec = ResponseDecoder::new();
    let mut out = Vec::new();
    for mut c in data.chunks(chunk.max(1)) {
        while let Some(ev) = dec.feed(&mut c) {
            if let Event::Frame { offset, frame } = ev {
                out.push((offset, frame.status, frame.data.to_vec()));
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if let Ok((f, used)) = grow::parse_command(data) {
        let mut buf = [0u8; grow::MAX_COMMAND];
        let n = grow::encode_command(&f.command, f.crc, &mut buf).expect("re-encodes");
        assert_eq!(&buf[..n], &data[..used]);
    }
    if let Ok((r, used)) = grow::parse_response(data) {
        let mut buf = [0u8; grow::MAX_RESPONSE];
        let n = grow::encode_response(&r, &mut buf).expect("re-encodes");
        assert_eq!(&buf[..n], &data[..used]);
    }
    let chunk = data.first().map_or(1, |b| usize::from(*b % 13) + 1);
    assert_eq!(responses(data, data.len().max(1)), responses(data, chunk));
    let mut dec = CommandDecoder::new();
    let mut input = data;
    while dec.feed(&mut input).is_some() {}
});
