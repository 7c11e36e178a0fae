//! The properties the fuzz targets check, written once for every dialect.

pub mod modem_uart;

use arbitrary::{Arbitrary, Unstructured};
use lockproto::dialect::{
    bcc_8a80::{Bcc8a80, Bcc8a80Reply, Bcc8a80Request}, kerong_cu12::KerongCu12, kerong_cu16::KerongCu16, modbus_relay::ModbusRelay,
    winnsen::Winnsen, wkly::Wkly,
};
use lockproto::native::Native;
use lockproto::{Dialect, Direction, Event, Message, StreamDecoder};

/// Decodes `data` as a request and as a reply (without context, and in the context of the
/// request it may start with); every accepted frame must re-encode identically.
pub fn decode_bytes<D: Dialect>(dialect: &D, data: &[u8]) {
    let mut out = [0u8; 512];
    let request = dialect.decode_request(data);
    if let Ok(decoded) = &request {
        let len = dialect.encode_request(&decoded.message, &mut out).expect("decoded request re-encodes");
        assert_eq!(&out[..len], &data[..decoded.len], "request re-encodes differently");
        let _ = dialect.command(&decoded.message);
        let _ = dialect.reply_expectation(&decoded.message);
    }
    let pending = request.ok().map(|d| (d.message, d.len));
    let contexts = [None, pending.as_ref()];
    for context in contexts {
        let (pending, rest) = match context {
            Some((message, len)) => (Some(message), &data[*len..]),
            None => (None, data),
        };
        if let Ok(decoded) = dialect.decode_reply(rest, pending) {
            let len = dialect.encode_reply(&decoded.message, &mut out).expect("decoded reply re-encodes");
            assert_eq!(&out[..len], &rest[..decoded.len], "reply re-encodes differently");
            let _ = dialect.response(&decoded.message);
        }
    }
}

/// Input of the stream target: the dialect, the direction and where to cut the bytes.
#[derive(Debug, Arbitrary)]
pub struct StreamInput<'a> {
    dialect: u8,
    reply: bool,
    cuts: Vec<u8>,
    bytes: &'a [u8],
}

/// Runs [`stream_consistent`] for the dialect the input selects.
pub fn stream_any_dialect(input: &StreamInput<'_>) {
    let dir = if input.reply { Direction::Reply } else { Direction::Request };
    match input.dialect % 7 {
        0 => stream_consistent(KerongCu12::default(), dir, input),
        1 => stream_consistent(KerongCu16::default(), dir, input),
        2 => stream_consistent(Bcc8a80::default(), dir, input),
        3 => stream_consistent(Wkly::default(), dir, input),
        4 => stream_consistent(Winnsen::default(), dir, input),
        5 => stream_consistent(ModbusRelay::default(), dir, input),
        _ => stream_consistent(Native::default(), dir, input),
    }
}

type Frames<D> = Vec<(u64, usize, Message<<D as Dialect>::Request, <D as Dialect>::Reply>)>;

fn run<D: Dialect + Clone>(dialect: &D, dir: Direction, chunks: &[&[u8]]) -> (Frames<D>, u64) {
    let mut decoder = StreamDecoder::<D, 256>::new(dialect.clone(), dir);
    let mut frames = Vec::new();
    let mut skipped = 0;
    let mut take = |event: Event<D::Request, D::Reply>| match event {
        Event::Frame { offset, len, message } => frames.push((offset, len, message)),
        Event::Rejected(r) => skipped += r.skipped as u64,
    };
    for chunk in chunks {
        decoder.feed(chunk).for_each(&mut take);
    }
    decoder.finish().into_iter().for_each(&mut take);
    (frames, skipped)
}

/// The frames found in one piece and in the cut pieces must be identical, and every input byte
/// is either in a frame or skipped.
pub fn stream_consistent<D: Dialect + Clone>(dialect: D, dir: Direction, input: &StreamInput<'_>) {
    let bytes = input.bytes;
    let mut chunks = Vec::new();
    let mut rest = bytes;
    for cut in &input.cuts {
        let n = (*cut as usize).min(rest.len());
        let (head, tail) = rest.split_at(n);
        chunks.push(head);
        rest = tail;
    }
    chunks.push(rest);
    let (whole, skipped_whole) = run(&dialect, dir, &[bytes]);
    let (cut, skipped_cut) = run(&dialect, dir, &chunks);
    assert_eq!(whole, cut, "chunking changed the frames");
    assert_eq!(skipped_whole, skipped_cut);
    let framed: u64 = whole.iter().map(|(_, len, _)| *len as u64).sum();
    assert_eq!(framed + skipped_whole, bytes.len() as u64, "bytes lost or counted twice");
}

/// Runs [`roundtrip`] for the dialect the first byte selects.
pub fn roundtrip_any_dialect(data: &[u8]) {
    let Some((selector, rest)) = data.split_first() else { return };
    let mut u = Unstructured::new(rest);
    let _ = match selector % 7 {
        0 => roundtrip(&KerongCu12::default(), &mut u),
        1 => roundtrip(&KerongCu16::default(), &mut u),
        2 => roundtrip_with_context(&Bcc8a80::default(), &mut u, bcc_8a80_request_for),
        3 => roundtrip(&Wkly::default(), &mut u),
        4 => roundtrip(&Winnsen::default(), &mut u),
        5 => roundtrip(&ModbusRelay::default(), &mut u),
        _ => roundtrip(&Native::default(), &mut u),
    };
}

/// An arbitrary request and reply: whatever encodes must decode back.
pub fn roundtrip<'a, D>(dialect: &D, u: &mut Unstructured<'a>) -> arbitrary::Result<()>
where
    D: Dialect,
    D::Request: Arbitrary<'a>,
    D::Reply: Arbitrary<'a>,
{
    roundtrip_with_context(dialect, u, |_| None)
}

/// The context an 8A/80 reply is decoded in: its replies can only be told apart with the
/// request they answer (reference/lockboards.md §1.3), and a query-all reply's length is only
/// certain when the status-byte count is configured (a status byte `33` followed by its running
/// BCC ends the frame early otherwise, the documented 1-in-65536 ambiguity).
fn bcc_8a80_request_for(reply: &Bcc8a80Reply) -> Option<(Bcc8a80, Bcc8a80Request)> {
    let dialect = match *reply {
        Bcc8a80Reply::StatusReport { status_bytes, .. } => {
            Bcc8a80 { query_all_status_bytes: Some(status_bytes), ..Bcc8a80::default() }
        }
        _ => Bcc8a80::default(),
    };
    let request = match *reply {
        Bcc8a80Reply::UnlockFeedback { board, lock, .. } => Bcc8a80Request::Unlock { board, lock },
        Bcc8a80Reply::UnlockAllFeedback { board, .. } => Bcc8a80Request::UnlockAll { board },
        Bcc8a80Reply::LockStatus { board, lock, .. } => Bcc8a80Request::QueryLock { board, lock },
        Bcc8a80Reply::StatusReport { board, .. } => Bcc8a80Request::QueryAll { board },
        Bcc8a80Reply::Address { .. } => Bcc8a80Request::QueryAddress,
    };
    Some((dialect, request))
}

/// As [`roundtrip`], decoding the reply with the dialect configuration and pending request that
/// `context` derives from it (`None`: `dialect` without a pending request).
pub fn roundtrip_with_context<'a, D>(
    dialect: &D,
    u: &mut Unstructured<'a>,
    context: impl Fn(&D::Reply) -> Option<(D, D::Request)>,
) -> arbitrary::Result<()>
where
    D: Dialect,
    D::Request: Arbitrary<'a>,
    D::Reply: Arbitrary<'a>,
{
    let mut out = [0u8; 512];
    let request = D::Request::arbitrary(u)?;
    if let Ok(len) = dialect.encode_request(&request, &mut out) {
        let decoded = dialect.decode_request(&out[..len]).expect("encoded request decodes");
        assert_eq!(decoded.len, len);
        assert_eq!(decoded.message, request, "request changed in the round trip");
    }
    let reply = D::Reply::arbitrary(u)?;
    if let Ok(len) = dialect.encode_reply(&reply, &mut out) {
        let frame = out[..len].to_vec();
        let decoded = match context(&reply) {
            Some((configured, pending)) => configured.decode_reply(&frame, Some(&pending)),
            None => dialect.decode_reply(&frame, None),
        }
        .expect("encoded reply decodes");
        assert_eq!(decoded.len, len);
        let again = dialect.encode_reply(&decoded.message, &mut out).expect("decoded reply re-encodes");
        assert_eq!(&out[..again], &frame[..], "reply bytes changed in the round trip");
    }
    Ok(())
}
