//! The sans-io board core: bytes from the bus in, reply bytes out, lock outputs to drive,
//! inputs sampled, time passed in and the next deadline returned.

use lockproto::stream::{Direction, Event, Message, StreamDecoder};
use lockproto::{Dialect, LockSet};

use super::hardware::{BoardConfig, Hardware};
use super::protocol::Protocol;

/// Bytes of replies that can wait for the transmitter.
pub const TX_CAPACITY: usize = 512;
/// Quiet time after which a partial frame in the receive buffer is dropped: 25 ms, the 8A/80
/// frame quiet time and the native idle gap (reference/lockboards.md §1.4).
pub const DEFAULT_IDLE_GAP_MS: u32 = lockproto::dialect::bcc_8a80::FRAME_QUIET_TIME_MS;

/// Counters of the board core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreStats {
    /// Requests decoded (for any board).
    pub requests: u64,
    /// Replies queued for sending.
    pub replies: u64,
    /// Bytes that formed no request (noise, corrupted frames, other boards' replies).
    pub bytes_rejected: u64,
    /// Replies dropped because the transmit buffer was full.
    pub tx_overflows: u64,
}

/// A board firmware core serving protocol `P` on a board of up to `CH` channels.
///
/// Drive it with [`BoardCore::receive`] (bytes from the UART, as they come),
/// [`BoardCore::poll`] (input readings; call again at the returned deadline at the latest),
/// [`BoardCore::outputs`] (the lock outputs to drive) and [`BoardCore::transmit`] /
/// [`BoardCore::consume_tx`] (bytes for the UART). Outputs are all off after
/// [`BoardCore::new`].
pub struct BoardCore<P: Protocol<CH>, const CH: usize> {
    protocol: P,
    hardware: Hardware<CH>,
    decoder: StreamDecoder<P::Dialect, 256>,
    tx: [u8; TX_CAPACITY],
    tx_len: usize,
    tx_ready_ms: u64,
    last_rx_ms: Option<u64>,
    idle_gap_ms: u32,
    stats: CoreStats,
}

impl<P: Protocol<CH>, const CH: usize> BoardCore<P, CH> {
    /// A board that just booted: outputs off, nothing received.
    pub fn new(protocol: P, config: BoardConfig) -> Self {
        let decoder = StreamDecoder::new(protocol.dialect().clone(), Direction::Request);
        BoardCore {
            protocol,
            hardware: Hardware::new(config),
            decoder,
            tx: [0; TX_CAPACITY],
            tx_len: 0,
            tx_ready_ms: 0,
            last_rx_ms: None,
            idle_gap_ms: DEFAULT_IDLE_GAP_MS,
            stats: CoreStats::default(),
        }
    }

    /// Sets the quiet time that ends a partial frame.
    pub fn set_idle_gap_ms(&mut self, ms: u32) {
        self.idle_gap_ms = ms;
    }

    /// The quiet time that ends a partial frame, ms.
    pub fn idle_gap_ms(&self) -> u32 {
        self.idle_gap_ms
    }

    /// Whether part of a frame is waiting for the rest.
    pub fn receiving(&self) -> bool {
        !self.decoder.buffered().is_empty()
    }

    /// Bytes received from the bus at `now_ms`. Requests for this board are executed at once
    /// and their replies queued for [`BoardCore::transmit`].
    pub fn receive(&mut self, bytes: &[u8], now_ms: u64) {
        let BoardCore { protocol, hardware, decoder, tx, tx_len, tx_ready_ms, stats, .. } = self;
        self.last_rx_ms = Some(now_ms);
        let mut reply = [0u8; 256];
        for event in decoder.feed(bytes) {
            match event {
                Event::Frame { message: Message::Request(request), .. } => {
                    stats.requests += 1;
                    let len = protocol.on_request(&request, hardware, now_ms, &mut reply);
                    let delay = protocol.take_reply_delay_ms();
                    if len == 0 {
                        continue;
                    }
                    *tx_ready_ms = (*tx_ready_ms).max(now_ms.saturating_add(u64::from(delay)));
                    let (Some(dst), Some(src)) = (tx.get_mut(*tx_len..*tx_len + len), reply.get(..len)) else {
                        stats.tx_overflows += 1;
                        continue;
                    };
                    dst.copy_from_slice(src);
                    *tx_len += len;
                    stats.replies += 1;
                }
                Event::Frame { .. } => {}
                Event::Rejected(rejection) => stats.bytes_rejected += rejection.skipped as u64,
            }
        }
    }

    /// Takes raw input readings (door open; occupied where presence sensors are fitted) at
    /// `now_ms`, ends and starts pulses, and returns the next deadline (poll again then at the
    /// latest; also poll whenever an input may have changed).
    pub fn poll(&mut self, door_open: LockSet, occupied: Option<LockSet>, now_ms: u64) -> Option<u64> {
        let (changes, deadline) = self.hardware.poll(door_open, occupied, now_ms);
        if !changes.is_empty() {
            self.protocol.on_changes(&changes, &self.hardware, now_ms);
        }
        let gap_end = match self.last_rx_ms {
            Some(at) if !self.decoder.buffered().is_empty() => {
                let end = at.saturating_add(u64::from(self.idle_gap_ms));
                if end <= now_ms {
                    // The line went quiet in the middle of a frame: it will never complete.
                    if let Some(Event::Rejected(rejection)) = self.decoder.finish() {
                        self.stats.bytes_rejected += rejection.skipped as u64;
                    }
                    None
                } else {
                    Some(end)
                }
            }
            _ => None,
        };
        [deadline, gap_end].into_iter().flatten().min()
    }

    /// The lock outputs that must be on now.
    pub fn outputs(&self) -> LockSet {
        self.hardware.outputs()
    }

    /// Reply bytes waiting to be sent.
    pub fn transmit(&self) -> &[u8] {
        self.tx.get(..self.tx_len).unwrap_or_default()
    }

    /// The earliest time the bytes of [`BoardCore::transmit`] may go on the wire (a native
    /// discovery answer waits for its slot); 0 or a past time means now.
    pub fn tx_ready_ms(&self) -> u64 {
        self.tx_ready_ms
    }

    /// Marks the first `sent` bytes of [`BoardCore::transmit`] as sent.
    pub fn consume_tx(&mut self, sent: usize) {
        let sent = sent.min(self.tx_len);
        self.tx.copy_within(sent..self.tx_len, 0);
        self.tx_len -= sent;
    }

    /// The hardware state.
    pub fn hardware(&self) -> &Hardware<CH> {
        &self.hardware
    }

    /// The hardware state, mutable (tests, emergency stop).
    pub fn hardware_mut(&mut self) -> &mut Hardware<CH> {
        &mut self.hardware
    }

    /// The protocol handler.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    /// The dialect.
    pub fn dialect(&self) -> &P::Dialect {
        self.protocol.dialect()
    }

    /// Counters.
    pub fn stats(&self) -> CoreStats {
        self.stats
    }

    /// The config.
    pub fn config(&self) -> &BoardConfig {
        self.hardware.config()
    }
}

impl<P: Protocol<CH>, const CH: usize> core::fmt::Debug for BoardCore<P, CH>
where
    P: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BoardCore")
            .field("dialect", &<P::Dialect as Dialect>::NAME)
            .field("protocol", &self.protocol)
            .field("hardware", &self.hardware)
            .field("tx_len", &self.tx_len)
            .field("stats", &self.stats)
            .finish()
    }
}
