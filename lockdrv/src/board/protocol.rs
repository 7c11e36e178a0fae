//! How a board speaks: the [`Protocol`] trait, and [`Vendor`], which serves any
//! [`lockproto::Dialect`] through its board side (`command` → execute → `reply` → `encode_reply`).

use lockproto::{BoardStatus, Command, Dialect, FrameError, ReplyExpectation, Response};

use super::hardware::{Changes, Hardware, unknown};

/// The protocol side of a board firmware: turns decoded requests into replies, using the
/// board's [`Hardware`].
pub trait Protocol<const CH: usize> {
    /// The wire codec.
    type Dialect: Dialect + Clone;

    /// The codec (the board core decodes requests with a copy of it).
    fn dialect(&self) -> &Self::Dialect;

    /// Handles one request decoded from the bus at `now_ms`; writes the reply frame into `out`
    /// and returns its length (0: stay silent, e.g. a request for another board).
    fn on_request(
        &mut self,
        request: &<Self::Dialect as Dialect>::Request,
        hardware: &mut Hardware<CH>,
        now_ms: u64,
        out: &mut [u8],
    ) -> usize;

    /// As [`Protocol::on_request`], with the request's frame as it arrived (empty if the core
    /// no longer holds it); the board core calls this one. The default ignores the bytes. A
    /// protocol that keys on the exact frame (the native reply cache: SEQ and CRC) overrides
    /// it, and so need not encode the request again.
    fn on_request_frame(
        &mut self,
        request: &<Self::Dialect as Dialect>::Request,
        _frame: &[u8],
        hardware: &mut Hardware<CH>,
        now_ms: u64,
        out: &mut [u8],
    ) -> usize {
        self.on_request(request, hardware, now_ms, out)
    }

    /// Bytes that formed no request, from the start of the rejected run (as many as the core
    /// kept), with the reason the first byte was refused. A protocol that answers frames it
    /// cannot decode (native PROTOCOL.md §3.3) writes the refusal into `out` and returns its
    /// length; the default stays silent.
    fn on_rejected(
        &mut self,
        _bytes: &[u8],
        _error: &FrameError,
        _hardware: &mut Hardware<CH>,
        _now_ms: u64,
        _out: &mut [u8],
    ) -> usize {
        0
    }

    /// How long after the request the reply just produced must wait, ms (native discovery
    /// slots); read once by the core after each [`Protocol::on_request`].
    fn take_reply_delay_ms(&mut self) -> u32 {
        0
    }

    /// Called after every hardware poll that changed something (event logs live here).
    fn on_changes(&mut self, _changes: &Changes, _hardware: &Hardware<CH>, _now_ms: u64) {}
}

/// A vendor dialect served through the neutral model: the firmware stands in for a vendor
/// board.
///
/// A request is for this board when it carries the board's address, or the dialect's broadcast
/// address (`broadcast`), or is an address query (which every board on the bus answers). The
/// board answers when [`Dialect::reply_expectation`] says the master waits for it.
#[derive(Debug, Clone)]
pub struct Vendor<D> {
    dialect: D,
    broadcast: Option<u8>,
    unlock_reply_delay_ms: u32,
    pending_delay_ms: u32,
}

impl<D: Dialect + Clone> Vendor<D> {
    /// Serves `dialect`; `broadcast` is the address every board obeys (CU12 `0x10`, CU16 `0x0F`,
    /// Modbus `0`), if the dialect has one.
    pub fn new(dialect: D, broadcast: Option<u8>) -> Self {
        Vendor { dialect, broadcast, unlock_reply_delay_ms: 0, pending_delay_ms: 0 }
    }

    /// Answers unlocks `ms` late, as 8A/80 boards do ("about 1 s after the command, once the
    /// lock had time to open", `lockproto::dialect::bcc_8a80::UNLOCK_REPLY_DELAY_MS`), so a
    /// stand-in times like the board it replaces.
    #[must_use]
    pub fn with_unlock_reply_delay_ms(mut self, ms: u32) -> Self {
        self.unlock_reply_delay_ms = ms;
        self
    }

    /// The broadcast address.
    pub fn broadcast(&self) -> Option<u8> {
        self.broadcast
    }
}

impl<D: Dialect + Clone, const CH: usize> Protocol<CH> for Vendor<D> {
    type Dialect = D;

    fn dialect(&self) -> &D {
        &self.dialect
    }

    fn take_reply_delay_ms(&mut self) -> u32 {
        core::mem::take(&mut self.pending_delay_ms)
    }

    fn on_request(&mut self, request: &D::Request, hardware: &mut Hardware<CH>, now_ms: u64, out: &mut [u8]) -> usize {
        // Requests without a neutral meaning (LED flashing, raw registers) are not served.
        let Some((address, command)) = self.dialect.command(request) else { return 0 };
        let me = hardware.address();
        let everyone = matches!(command, Command::QueryAddress) || Some(address) == self.broadcast;
        let expectation = self.dialect.reply_expectation(request);
        let answer = if everyone {
            expectation == ReplyExpectation::EveryBoard
        } else if address == me {
            expectation != ReplyExpectation::None
        } else {
            return 0;
        };
        let response = hardware.execute(&command, now_ms);
        if matches!(command, Command::Unlock(_) | Command::UnlockMany(_) | Command::UnlockAll) {
            self.pending_delay_ms = self.unlock_reply_delay_ms;
        }
        if !answer {
            return 0;
        }
        // Dialects differ in what a reply carries: a WKLY or 8A/80 unlock reply reports the lock
        // state, a CU16 status needs its presence bits, some status layouts have no door bits.
        // Try the response as executed, then richer or plainer forms of the same facts, then a
        // refusal the dialect can express.
        let status = hardware.status();
        let locks_only = BoardStatus { doors: None, ..status };
        let refusal = unknown();
        let fallback: &[Response] = match response {
            Response::Ack | Response::Status(_) => &[Response::Status(status), Response::Status(locks_only), refusal],
            _ => &[refusal],
        };
        let Some(reply) = core::iter::once(&response)
            .chain(fallback)
            .find_map(|candidate| self.dialect.reply(me, request, candidate).ok())
        else {
            return 0;
        };
        self.dialect.encode_reply(&reply, out).unwrap_or(0)
    }
}
