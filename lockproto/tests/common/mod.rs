//! Helpers shared by the dialect test files: vector loading, hex, and the streaming properties
//! (any chunking gives the same frames; garbage before and after resyncs).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lockproto::Dialect;
use lockproto::stream::{Direction, Event, Message, StreamDecoder};
use serde_json::Value;

/// One entry of tests/data/lockboards.json (copied from ../shared/vectors, ids and sources kept).
#[derive(Debug, Clone)]
pub struct Vector {
    pub id: String,
    pub dialect: String,
    pub direction: Direction,
    pub bytes: Vec<u8>,
    pub meaning: Value,
    /// `None` for valid frames, `Some("reject_checksum")` etc. for negative vectors.
    pub reject: Option<String>,
}

/// All vectors of one dialect id as spelled in the JSON (`kerong_cu12`, `generic_bcc_8a80`, ...).
pub fn vectors(dialect: &str) -> Vec<Vector> {
    let text = include_str!("../data/lockboards.json");
    let all: Vec<Value> = serde_json::from_str(text).unwrap();
    all.into_iter()
        .filter(|v| v["dialect"] == dialect)
        .map(|v| Vector {
            id: v["id"].as_str().unwrap().to_owned(),
            dialect: dialect.to_owned(),
            direction: if v["direction"] == "request" { Direction::Request } else { Direction::Reply },
            bytes: hex(v["hex"].as_str().unwrap()),
            meaning: v["meaning"].clone(),
            reject: v
                .get("expected_decoder_result")
                .and_then(Value::as_str)
                .filter(|r| r.starts_with("reject"))
                .map(str::to_owned),
        })
        .collect()
}

/// `"8A 01 01 11 9B"` or `"8a0101119b"` to bytes.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd hex length in {text:?}");
    (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
}

/// A decoded frame with its stream position, for comparing decoder runs.
pub type Found<D> = (u64, usize, Message<<D as Dialect>::Request, <D as Dialect>::Reply>);

/// Feeds `bytes` in chunks of the given sizes (cycled), then finishes; returns frames and the
/// number of rejected runs.
pub fn decode_chunked<D: Dialect + Clone>(
    dialect: &D,
    direction: Direction,
    pending: Option<D::Request>,
    bytes: &[u8],
    chunk_sizes: &[usize],
) -> (Vec<Found<D>>, usize) {
    let mut decoder = StreamDecoder::<D, 256>::new(dialect.clone(), direction);
    decoder.set_pending(pending);
    let mut frames = Vec::new();
    let mut rejections = 0;
    let mut collect = |event: Event<D::Request, D::Reply>| match event {
        Event::Frame { offset, len, message } => frames.push((offset, len, message)),
        Event::Rejected(_) => rejections += 1,
    };
    let mut rest = bytes;
    let mut sizes = chunk_sizes.iter().copied().filter(|&n| n > 0).cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        decoder.feed(chunk).for_each(&mut collect);
        rest = tail;
    }
    if let Some(event) = decoder.finish() {
        collect(event);
    }
    (frames, rejections)
}

/// Asserts that feeding `bytes` whole, byte by byte, and split at every single index all give
/// the same frames at the same offsets.
pub fn assert_any_chunking_same<D: Dialect + Clone>(
    dialect: &D,
    direction: Direction,
    pending: Option<D::Request>,
    bytes: &[u8],
) where
    D::Request: PartialEq,
    D::Reply: PartialEq,
{
    let (whole, _) = decode_chunked(dialect, direction, pending.clone(), bytes, &[bytes.len().max(1)]);
    let (bytewise, _) = decode_chunked(dialect, direction, pending.clone(), bytes, &[1]);
    assert_eq!(whole, bytewise, "byte-at-a-time feeding differs");
    for split in 1..bytes.len() {
        let (split_frames, _) = decode_chunked(dialect, direction, pending.clone(), bytes, &[split, bytes.len()]);
        assert_eq!(whole, split_frames, "split at {split} differs");
    }
}

/// Asserts that `frame` (one valid frame) is found after a garbage prefix and before a garbage
/// suffix, at the right offset, with the prefix reported as rejected.
pub fn assert_resyncs<D: Dialect + Clone>(
    dialect: &D,
    direction: Direction,
    pending: Option<D::Request>,
    garbage: &[u8],
    frame: &[u8],
) {
    let mut stream = garbage.to_vec();
    stream.extend_from_slice(frame);
    stream.extend_from_slice(garbage);
    let (frames, rejections) = decode_chunked(dialect, direction, pending, &stream, &[3, 1, 7]);
    assert!(
        frames.iter().any(|(offset, len, _)| *offset == garbage.len() as u64 && *len == frame.len()),
        "frame not found after garbage {garbage:02X?}: {frames:?}"
    );
    if !garbage.is_empty() {
        assert!(rejections >= 1, "garbage was not reported");
    }
}
