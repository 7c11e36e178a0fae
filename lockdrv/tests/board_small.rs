//! The board core with small buffers, as examples/firmware builds it for a Cortex-M0 with 2 KiB
//! of RAM: 64 bytes of receive buffer, 96 of transmit buffer, 16 events, and a reply cache
//! whose entries hold unlock replies only. It must still serve the native protocol: events in
//! several batches (`more`), retried unlocks from the cache, status between them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use lockdrv::board::native::UNLOCK_REPLY_MAX_LEN;
use lockdrv::board::{BoardConfig, BoardCore, NativeFirmware, NativeIdentity};
use lockproto::native::messages::{ErrorCode, EventKind, NativeReply, NativeRequest, PulseEnd};
use lockproto::native::{FaultCode, Native, ResetCause};
use lockproto::{Dialect, Lock, LockSet};

type Small = BoardCore<NativeFirmware<16, 2, UNLOCK_REPLY_MAX_LEN>, 24, 64, 96>;

fn lock(n: u8) -> Lock {
    Lock::new(n).unwrap()
}

fn small_board() -> Small {
    let mut config = BoardConfig::new(1, 24);
    config.has_presence = true;
    let firmware = NativeFirmware::new(NativeIdentity { uid: 0x5A11, boot: 3, cause: ResetCause::PowerOn }, 0);
    let mut core = Small::new(firmware, config);
    core.poll(LockSet::EMPTY, Some(LockSet::EMPTY), 0);
    core
}

/// Sends `request` at `now`, returns the reply's bytes and the reply (the transmit buffer is
/// emptied first, as the UART would have sent it).
fn exchange(core: &mut Small, request: &NativeRequest, now: u64) -> (Vec<u8>, NativeReply) {
    core.consume_tx(usize::MAX);
    let mut frame = [0u8; 300];
    let len = Native::default().encode_request(request, &mut frame).unwrap();
    core.receive(&frame[..len], now);
    let bytes = core.transmit().to_vec();
    assert!(!bytes.is_empty(), "no reply to {request:?} (stats {:?})", core.stats());
    let reply = Native::default().decode_reply(&bytes, Some(request)).unwrap().message;
    (bytes, reply)
}

#[test]
fn unlock_reply_max_len_is_the_longest_unlock_reply() {
    let dialect = Native::default();
    let mut out = [0u8; 300];
    let all = LockSet::first(128);
    let many = NativeReply::UnlockManyAccepted {
        board: 1,
        seq: 1,
        boot: 1,
        locks: all,
        applied_ms: 2_000,
        max_simultaneous: 2,
    };
    assert_eq!(dialect.encode_reply(&many, &mut out).unwrap(), UNLOCK_REPLY_MAX_LEN);
    let every = NativeReply::UnlockAllAccepted {
        board: 1,
        seq: 1,
        boot: 1,
        locks: all,
        applied_ms: 2_000,
        max_simultaneous: 2,
    };
    assert_eq!(dialect.encode_reply(&every, &mut out).unwrap(), UNLOCK_REPLY_MAX_LEN);
    let one = NativeReply::Unlocked { board: 1, seq: 1, boot: 1, lock: lock(128), applied_ms: 2_000 };
    assert!(dialect.encode_reply(&one, &mut out).unwrap() < UNLOCK_REPLY_MAX_LEN);
    let refused =
        NativeReply::Error { board: 1, seq: 1, boot: 1, command: 0x03, code: ErrorCode::BootMismatch, detail: 0xFFFF };
    assert!(dialect.encode_reply(&refused, &mut out).unwrap() < UNLOCK_REPLY_MAX_LEN);
}

#[test]
fn events_come_in_batches_that_fit_the_transmit_buffer() {
    let mut core = small_board();
    // Five jammed locks (their doors never open), 300 ms each, two at a time: three start at
    // once or later from the queue, and each logs PulseStarted, PulseEnded and a jam.
    for (seq, n) in [4u8, 5, 6, 7, 8].into_iter().enumerate() {
        let unlock = NativeRequest::Unlock { board: 1, seq: seq as u8, boot: 0, lock: lock(n), pulse_ms: 300 };
        let (_, reply) = exchange(&mut core, &unlock, 10);
        assert!(matches!(reply, NativeReply::Unlocked { applied_ms: 300, .. }), "{reply:?}");
    }
    for now in (10..=1_000).step_by(10) {
        core.poll(LockSet::EMPTY, Some(LockSet::EMPTY), now);
    }
    assert!(core.outputs().is_empty());

    // 96 bytes of transmit buffer hold (96 - 19) / 8 = 9 event records per reply.
    let mut cursor = 0u16;
    let mut kinds = Vec::new();
    let mut batches = Vec::new();
    for seq in 100u8.. {
        let read = NativeRequest::ReadEvents { board: 1, seq, cursor, max: 0 };
        let (bytes, reply) = exchange(&mut core, &read, 1_100);
        assert!(bytes.len() <= 96);
        let NativeReply::Events { first, more, lost, events, .. } = reply else { panic!("{reply:?}") };
        assert!(!lost);
        assert_eq!(first, cursor);
        batches.push(events.as_slice().len());
        kinds.extend(events.as_slice().iter().map(|e| e.kind));
        cursor = first + events.as_slice().len() as u16;
        if !more {
            break;
        }
    }
    // Boot, then 3 events per lock.
    assert_eq!(batches, [9, 7], "{kinds:?}");
    assert_eq!(kinds[0], EventKind::Boot { cause: ResetCause::PowerOn });
    for n in [4u8, 5, 6, 7, 8] {
        let of_lock: Vec<EventKind> = kinds
            .iter()
            .copied()
            .filter(|k| match *k {
                EventKind::PulseStarted { lock: l, .. }
                | EventKind::PulseEnded { lock: l, .. }
                | EventKind::Fault { lock: Some(l), .. } => l == lock(n),
                _ => false,
            })
            .collect();
        // Queued pulses (6, 7, 8) log the pulse length they run for when they start.
        assert_eq!(
            of_lock,
            [
                EventKind::PulseStarted { lock: lock(n), applied_ms: 300 },
                EventKind::PulseEnded { lock: lock(n), end: PulseEnd::Completed },
                EventKind::Fault { lock: Some(lock(n)), fault: FaultCode::Jam },
            ],
            "lock {n}: {kinds:?}"
        );
    }

    // A request asking for fewer gets fewer.
    let read = NativeRequest::ReadEvents { board: 1, seq: 1, cursor: 0, max: 4 };
    let (_, reply) = exchange(&mut core, &read, 1_200);
    let NativeReply::Events { more, events, .. } = reply else { panic!("{reply:?}") };
    assert_eq!(events.as_slice().len(), 4);
    assert!(more);
}

#[test]
fn a_retried_unlock_is_answered_from_the_cache_even_after_status_reads() {
    let mut core = small_board();
    let unlock = NativeRequest::Unlock { board: 1, seq: 10, boot: 3, lock: lock(2), pulse_ms: 200 };
    let (first, _) = exchange(&mut core, &unlock, 5);
    assert_eq!(core.outputs(), [lock(2)].into_iter().collect());
    // Status replies are longer than a cache entry: answered, never cached, and they must not
    // push the unlock reply out.
    for seq in [11, 12, 13] {
        let (bytes, reply) = exchange(&mut core, &NativeRequest::GetStatus { board: 1, seq }, 20);
        assert!(bytes.len() > UNLOCK_REPLY_MAX_LEN);
        assert!(matches!(reply, NativeReply::Status { channels: 24, .. }), "{reply:?}");
    }
    core.poll(LockSet::EMPTY, Some(LockSet::EMPTY), 300);
    assert!(core.outputs().is_empty());
    let (second, _) = exchange(&mut core, &unlock, 400);
    assert_eq!(first, second, "a retry gets the cached bytes");
    assert!(core.outputs().is_empty(), "and no second pulse");
    assert_eq!(core.hardware().pulse_count(), 1);
}

#[test]
fn the_longest_native_request_fits_the_small_receive_buffer() {
    // UnlockMany of all 128 locks carries the largest bitmap a request can have.
    let longest = NativeRequest::UnlockMany { board: 1, seq: 1, boot: 0, locks: LockSet::first(128), pulse_ms: 500 };
    let mut frame = [0u8; 300];
    assert!(Native::default().encode_request(&longest, &mut frame).unwrap() <= 64);
    // And the small core serves an UnlockMany of its 24 locks, two at a time.
    let mut core = small_board();
    let all = NativeRequest::UnlockMany { board: 1, seq: 2, boot: 0, locks: LockSet::first(24), pulse_ms: 100 };
    let (_, reply) = exchange(&mut core, &all, 10);
    assert!(matches!(reply, NativeReply::UnlockManyAccepted { max_simultaneous: 2, .. }), "{reply:?}");
    assert_eq!(core.outputs().len(), 2);
    assert_eq!(core.hardware().pulse_count(), 24);
}

#[test]
fn native_on_request_without_the_frame_still_caches_by_the_re_encoded_frame() {
    use lockdrv::board::{Hardware, Protocol};
    let mut firmware: NativeFirmware =
        NativeFirmware::new(NativeIdentity { uid: 1, boot: 5, cause: ResetCause::PowerOn }, 0);
    let mut hw = Hardware::<24>::new(BoardConfig::new(1, 24));
    let unlock = NativeRequest::Unlock { board: 1, seq: 9, boot: 5, lock: lock(3), pulse_ms: 100 };
    let (mut first, mut second) = ([0u8; 64], [0u8; 64]);
    let n1 = firmware.on_request(&unlock, &mut hw, 10, &mut first);
    let n2 = firmware.on_request(&unlock, &mut hw, 500, &mut second);
    assert!(n1 > 0);
    assert_eq!(first[..n1], second[..n2]);
    assert_eq!(hw.pulse_count(), 1, "the retry was answered from the cache");
}

/// The UART sends replies in pieces while more requests arrive: the bytes leave in order, and a
/// reply that fits the 96-byte transmit buffer only once the sent bytes' room is reclaimed is
/// still queued whole (the buffer is compacted rather than shifted on every `consume_tx`).
#[test]
fn replies_queue_behind_a_partly_sent_reply() {
    let mut core = small_board();
    let status = |seq| NativeRequest::GetStatus { board: 1, seq };
    let (reply, _) = exchange(&mut core, &status(1), 10);
    let len = reply.len();
    // Precondition of the case: three replies do not fit side by side, but two and a half do.
    assert!(3 * len > 96 && 2 * len + len / 2 <= 96, "reply of {len} bytes");

    core.consume_tx(usize::MAX);
    let mut frame = [0u8; 64];
    let mut send = |core: &mut Small, seq, now| {
        let n = Native::default().encode_request(&status(seq), &mut frame).unwrap();
        core.receive(&frame[..n], now);
    };
    send(&mut core, 3, 20);
    send(&mut core, 4, 20);
    assert_eq!(core.transmit().len(), 2 * len);
    let mut wire = Vec::new();
    // The UART takes the first reply and half of the second.
    let sent = len + len / 2;
    wire.extend_from_slice(&core.transmit()[..sent]);
    core.consume_tx(sent);
    send(&mut core, 5, 20);
    assert_eq!(core.stats().tx_overflows, 0);
    assert_eq!(core.transmit().len(), 2 * len - sent + len);
    // The rest leaves a few bytes at a time.
    while !core.transmit().is_empty() {
        let take = core.transmit().len().min(7);
        wire.extend_from_slice(&core.transmit()[..take]);
        core.consume_tx(take);
    }
    assert_eq!(wire.len(), 3 * len);
    for (bytes, seq) in wire.chunks(len).zip([3, 4, 5]) {
        let reply = Native::default().decode_reply(bytes, Some(&status(seq))).unwrap().message;
        assert!(matches!(reply, NativeReply::Status { seq: s, .. } if s == seq), "{reply:?}");
    }
}
