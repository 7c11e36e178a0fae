//! The sans-io board core: bytes from the bus in, reply bytes out, lock outputs to drive,
//! inputs sampled, time passed in and the next deadline returned.

use lockproto::dialect::Decoded;
use lockproto::stream::{Direction, Event, Message, StreamDecoder};
use lockproto::{Command, Dialect, EncodeError, FrameError, LockSet, ReplyExpectation, Response};

use super::hardware::{BoardConfig, Hardware};
use super::protocol::Protocol;

/// Bytes of replies that can wait for the transmitter (the default of [`BoardCore`]'s `TX`).
pub const TX_CAPACITY: usize = 512;
/// Bytes of a request being received, and of received bytes kept for protocols that answer
/// frames they cannot decode (the default of [`BoardCore`]'s `RX`): 256 holds the longest
/// frame of every dialect and of the native protocol.
pub const RX_CAPACITY: usize = 256;
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
/// `RX` bytes hold a request while it arrives (and the last `RX` bytes received, for
/// [`Protocol::on_rejected`]); a longer frame is rejected. `TX` bytes hold replies waiting
/// for the transmitter, and bound one reply: a protocol is handed `TX` bytes to write a reply
/// into, and a reply that does not fit the free space is dropped and counted in
/// [`CoreStats::tx_overflows`]. The defaults ([`RX_CAPACITY`], [`TX_CAPACITY`]) fit every
/// dialect; a small MCU can choose less (examples/firmware: a native board in 2 KiB of RAM).
///
/// Drive it with [`BoardCore::receive`] (bytes from the UART, as they come),
/// [`BoardCore::poll`] (input readings; call again at the returned deadline at the latest),
/// [`BoardCore::outputs`] (the lock outputs to drive) and [`BoardCore::transmit`] /
/// [`BoardCore::consume_tx`] (bytes for the UART). Outputs are all off after
/// [`BoardCore::new`].
pub struct BoardCore<P: Protocol<CH>, const CH: usize, const RX: usize = RX_CAPACITY, const TX: usize = TX_CAPACITY> {
    engine: Engine<P, CH, RX, TX>,
    decoder: StreamDecoder<Requests<P::Dialect>, RX>,
    last_rx_ms: Option<u64>,
    idle_gap_ms: u32,
}

/// Everything but the decoder, so that decoded events can be handled while the decoder is
/// borrowed.
struct Engine<P: Protocol<CH>, const CH: usize, const RX: usize, const TX: usize> {
    protocol: P,
    hardware: Hardware<CH>,
    tx: [u8; TX],
    /// Index in `tx` of the first byte not yet sent (sent bytes are not moved at once: see
    /// [`Engine::compact_tx`]).
    tx_start: usize,
    /// End of the bytes waiting in `tx`.
    tx_len: usize,
    tx_ready_ms: u64,
    stats: CoreStats,
    /// Rejected runs handled (the decoder counts them when they start).
    runs_seen: u64,
    /// The last `RX` bytes received, by stream offset modulo `RX`.
    history: [u8; RX],
    /// Bytes received since boot (the stream offset of the next byte).
    received: u64,
}

impl<P: Protocol<CH>, const CH: usize, const RX: usize, const TX: usize> BoardCore<P, CH, RX, TX> {
    /// A board that just booted: outputs off, nothing received.
    pub fn new(protocol: P, config: BoardConfig) -> Self {
        let decoder = StreamDecoder::new(Requests(protocol.dialect().clone()), Direction::Request);
        BoardCore {
            engine: Engine {
                protocol,
                hardware: Hardware::new(config),
                tx: [0; TX],
                tx_start: 0,
                tx_len: 0,
                tx_ready_ms: 0,
                stats: CoreStats::default(),
                runs_seen: 0,
                history: [0; RX],
                received: 0,
            },
            decoder,
            last_rx_ms: None,
            idle_gap_ms: DEFAULT_IDLE_GAP_MS,
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

    /// Whether part of a frame is waiting for the rest, or rejected bytes wait for the idle
    /// gap to be reported: poll at the gap's end.
    pub fn receiving(&self) -> bool {
        !self.decoder.buffered().is_empty() || self.decoder.stats().rejections > self.engine.runs_seen
    }

    /// Bytes received from the bus at `now_ms`. Requests for this board are executed at once
    /// and their replies queued for [`BoardCore::transmit`].
    pub fn receive(&mut self, bytes: &[u8], now_ms: u64) {
        self.last_rx_ms = Some(now_ms);
        // One byte at a time, so that the history always still holds the whole frame just
        // decoded (a frame is at most `RX` bytes, the decoder's buffer), whatever the chunk.
        for byte in bytes.chunks(1) {
            self.engine.remember(byte);
            for event in self.decoder.feed(byte) {
                self.engine.handle(event, now_ms);
            }
        }
    }

    /// Takes raw input readings (door open; occupied where presence sensors are fitted) at
    /// `now_ms`, ends and starts pulses, and returns the next deadline (poll again then at the
    /// latest; also poll whenever an input may have changed).
    pub fn poll(&mut self, door_open: LockSet, occupied: Option<LockSet>, now_ms: u64) -> Option<u64> {
        let (changes, deadline) = self.engine.hardware.poll(door_open, occupied, now_ms);
        if !changes.is_empty() {
            self.engine.protocol.on_changes(&changes, &self.engine.hardware, now_ms);
        }
        let gap_end = match self.last_rx_ms {
            Some(at)
                if !self.decoder.buffered().is_empty() || self.decoder.stats().rejections > self.engine.runs_seen =>
            {
                let end = at.saturating_add(u64::from(self.idle_gap_ms));
                if end <= now_ms {
                    // The line went quiet in the middle of a frame, or after bytes that formed
                    // none: report them now (a native board answers a CRC-valid frame it
                    // cannot decode).
                    if let Some(event) = self.decoder.finish() {
                        self.engine.handle(event, now_ms);
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
        self.engine.hardware.outputs()
    }

    /// Reply bytes waiting to be sent.
    pub fn transmit(&self) -> &[u8] {
        self.engine.tx.get(self.engine.tx_start..self.engine.tx_len).unwrap_or_default()
    }

    /// The earliest time the bytes of [`BoardCore::transmit`] may go on the wire (a native
    /// discovery answer waits for its slot); 0 or a past time means now.
    pub fn tx_ready_ms(&self) -> u64 {
        self.engine.tx_ready_ms
    }

    /// Marks the first `sent` bytes of [`BoardCore::transmit`] as sent.
    pub fn consume_tx(&mut self, sent: usize) {
        let engine = &mut self.engine;
        engine.tx_start = (engine.tx_start + sent).min(engine.tx_len);
        if engine.tx_start == engine.tx_len {
            engine.tx_start = 0;
            engine.tx_len = 0;
        }
    }

    /// The hardware state.
    pub fn hardware(&self) -> &Hardware<CH> {
        &self.engine.hardware
    }

    /// The hardware state, mutable (tests, emergency stop).
    pub fn hardware_mut(&mut self) -> &mut Hardware<CH> {
        &mut self.engine.hardware
    }

    /// The protocol handler.
    pub fn protocol(&self) -> &P {
        &self.engine.protocol
    }

    /// The dialect.
    pub fn dialect(&self) -> &P::Dialect {
        self.engine.protocol.dialect()
    }

    /// Counters.
    pub fn stats(&self) -> CoreStats {
        self.engine.stats
    }

    /// The config.
    pub fn config(&self) -> &BoardConfig {
        self.engine.hardware.config()
    }
}

impl<P: Protocol<CH>, const CH: usize, const RX: usize, const TX: usize> Engine<P, CH, RX, TX> {
    /// Keeps received bytes for [`Protocol::on_rejected`].
    fn remember(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if let Some(slot) = self.history.get_mut((self.received % RX as u64) as usize) {
                *slot = byte;
            }
            self.received += 1;
        }
    }

    /// Executes a decoded request or answers a rejected run, queueing the reply.
    fn handle(&mut self, event: lockproto::stream::DialectEvent<Requests<P::Dialect>>, now_ms: u64) {
        let mut reply = [0u8; TX];
        let len = match event {
            Event::Frame { message: Message::Request(request), offset, len } => {
                self.stats.requests += 1;
                let mut frame = [0u8; RX];
                let kept = self.kept_from(offset, frame.get_mut(..len).unwrap_or_default());
                let frame = frame.get(..kept).filter(|_| kept == len).unwrap_or_default();
                self.protocol.on_request_frame(&request, frame, &mut self.hardware, now_ms, &mut reply)
            }
            Event::Frame { .. } => 0,
            Event::Rejected(rejection) => {
                self.runs_seen += 1;
                self.stats.bytes_rejected += rejection.skipped as u64;
                let mut run = [0u8; RX];
                let kept = self.kept_from(rejection.offset, &mut run);
                let bytes = run.get(..kept).unwrap_or_default();
                self.protocol.on_rejected(bytes, &rejection.error, &mut self.hardware, now_ms, &mut reply)
            }
        };
        let delay = self.protocol.take_reply_delay_ms();
        if len == 0 {
            return;
        }
        self.tx_ready_ms = self.tx_ready_ms.max(now_ms.saturating_add(u64::from(delay)));
        if self.tx_len + len > TX && self.tx_start > 0 {
            self.compact_tx();
        }
        let (Some(dst), Some(src)) = (self.tx.get_mut(self.tx_len..self.tx_len + len), reply.get(..len)) else {
            self.stats.tx_overflows += 1;
            return;
        };
        dst.copy_from_slice(src);
        self.tx_len += len;
        self.stats.replies += 1;
    }

    /// Moves the bytes waiting in `tx` to its front.
    ///
    /// A byte loop rather than `copy_within`: on a Cortex-M0 `copy_within` links
    /// `compiler_builtins`' memmove, about 1.3 KiB of flash (examples/firmware/README.md).
    fn compact_tx(&mut self) {
        let start = core::mem::take(&mut self.tx_start);
        let waiting = self.tx_len - start;
        for i in 0..waiting {
            let byte = self.tx.get(start + i).copied().unwrap_or(0);
            if let Some(slot) = self.tx.get_mut(i) {
                *slot = byte;
            }
        }
        self.tx_len = waiting;
    }

    /// Copies the received bytes from stream offset `offset` on (as many as are still kept and
    /// fit `out`); returns how many.
    fn kept_from(&self, offset: u64, out: &mut [u8]) -> usize {
        let oldest = self.received.saturating_sub(RX as u64);
        if offset < oldest || offset >= self.received {
            return 0;
        }
        let count = ((self.received - offset) as usize).min(out.len());
        for (i, dst) in out.iter_mut().take(count).enumerate() {
            let at = ((offset + i as u64) % RX as u64) as usize;
            *dst = self.history.get(at).copied().unwrap_or(0);
        }
        count
    }
}

impl<P: Protocol<CH>, const CH: usize, const RX: usize, const TX: usize> core::fmt::Debug for BoardCore<P, CH, RX, TX>
where
    P: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BoardCore")
            .field("dialect", &<P::Dialect as Dialect>::NAME)
            .field("protocol", &self.engine.protocol)
            .field("hardware", &self.engine.hardware)
            .field("tx_len", &(self.engine.tx_len - self.engine.tx_start))
            .field("stats", &self.engine.stats)
            .finish()
    }
}

/// A reply that a board never decodes (it only decodes requests).
#[derive(Debug, Clone, PartialEq)]
enum NoReply {}

/// The protocol's dialect as the board core decodes it: requests only.
///
/// A board never decodes replies, but the stream decoder chooses the direction at run time, so
/// the dialect's reply decoder would be linked into every firmware (4.8 KiB of the native
/// one's flash on Cortex-M0) and its largest reply would size the decoder's state. Through
/// this wrapper the reply side is uninhabited: neither is.
#[derive(Debug, Clone)]
struct Requests<D>(D);

impl<D: Dialect> Dialect for Requests<D> {
    type Request = D::Request;
    type Reply = NoReply;
    const NAME: &'static str = D::NAME;
    const MAX_FRAME_LEN: usize = D::MAX_FRAME_LEN;

    fn decode_request(&self, buf: &[u8]) -> Result<Decoded<D::Request>, FrameError> {
        self.0.decode_request(buf)
    }

    fn decode_reply(&self, _buf: &[u8], _pending: Option<&D::Request>) -> Result<Decoded<NoReply>, FrameError> {
        // Not reached: the core's decoder decodes requests.
        Err(FrameError::Incomplete)
    }

    fn encode_request(&self, request: &D::Request, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.0.encode_request(request, out)
    }

    fn encode_reply(&self, reply: &NoReply, _out: &mut [u8]) -> Result<usize, EncodeError> {
        match *reply {}
    }

    fn reply_expectation(&self, request: &D::Request) -> ReplyExpectation {
        self.0.reply_expectation(request)
    }

    fn request(&self, board: u8, command: &Command) -> Result<D::Request, EncodeError> {
        self.0.request(board, command)
    }

    fn command(&self, request: &D::Request) -> Option<(u8, Command)> {
        self.0.command(request)
    }

    fn reply(&self, _board: u8, _request: &D::Request, _response: &Response) -> Result<NoReply, EncodeError> {
        Err(EncodeError::Unsupported { dialect: D::NAME, what: "replies (the board core decodes requests only)" })
    }

    fn response(&self, reply: &NoReply) -> Option<(u8, Response)> {
        match *reply {}
    }
}
