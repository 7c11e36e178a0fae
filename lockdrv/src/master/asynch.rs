//! The async shell (feature `async`): [`BusMaster`] with the same methods as
//! [`super::blocking::BusMaster`], over `embedded-io-async` (`Read`, `Write`, and
//! `ReadReady` to flush stale input without blocking), an `embedded-hal-async` `DelayNs`, a
//! [`Clock`] and an optional RS-485 driver-enable pin.
//!
//! While a transaction waits, a read races a delay of at most
//! [`MasterConfig::poll_interval_us`] (or until the next deadline); whichever finishes first
//! wins and the other future is dropped (a tiny select, no executor dependency). A read error
//! of kind `TimedOut` counts as "nothing arrived".
//!
//! # Cancel safety
//! The port's `read` future is dropped when the delay wins, so the port's `read` must be
//! cancel-safe (no byte lost when the future is dropped before completion), as
//! `embedded-io-async` asks of buffered UARTs. The master's own futures are **not**
//! cancel-safe: dropping `unlock()` midway may leave a request on the wire whose outcome
//! nobody reads (the board may have pulsed); dropping any method leaves the master usable
//! (the next request flushes stale input first).

use core::future::Future;
use core::pin::pin;
use core::task::Poll as TaskPoll;

use embedded_hal::digital::OutputPin;
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::{Error as _, ErrorKind, ErrorType, Read, ReadReady, Write};
use lockproto::native::{Native, NativeEvent, NativeReply, NativeRequest};
use lockproto::{BoardInfo, BoardStatus, Command, Lock, Response};

use super::blocking::Attempted;
use super::engine::{Expect, MasterCore, Plan, Poll, TxEnd, neutral};
use super::{
    BoardHealth, BusDialect, Clock, Error, EventsSummary, MasterConfig, MasterStats, NoPin, UnlockOutcome, UnlockReport,
};

/// The port's error type.
pub type PortError<P> = <P as ErrorType>::Error;

/// A result of the master on port `P`.
pub type MasterResult<T, P> = Result<T, Error<PortError<P>>>;

/// A bus master on an async serial port. See the [module docs](self).
pub struct BusMaster<D: BusDialect + Clone, Port, Delay, Clk, De = NoPin> {
    core: MasterCore<D>,
    port: Port,
    delay: Delay,
    clock: Clk,
    driver_enable: De,
}

impl<D: BusDialect + Clone, Port, Delay, Clk, De> core::fmt::Debug for BusMaster<D, Port, Delay, Clk, De> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BusMaster").field("core", &self.core).finish_non_exhaustive()
    }
}

impl<D, Port, Delay, Clk> BusMaster<D, Port, Delay, Clk, NoPin>
where
    D: BusDialect + Clone,
    Port: Read + Write + ReadReady,
    Delay: DelayNs,
    Clk: Clock,
{
    /// A master for `dialect` on `port`; `config` `None` takes the dialect's defaults from
    /// the vendor documents ([`BusDialect::default_config`]).
    pub fn new(dialect: D, port: Port, delay: Delay, clock: Clk, config: Option<MasterConfig>) -> Self {
        let config = config.unwrap_or_else(|| dialect.default_config());
        BusMaster { core: MasterCore::with_config(dialect, config), port, delay, clock, driver_enable: NoPin }
    }
}

impl<D, Port, Delay, Clk, De> BusMaster<D, Port, Delay, Clk, De>
where
    D: BusDialect + Clone,
    Port: Read + Write + ReadReady,
    Delay: DelayNs,
    Clk: Clock,
    De: OutputPin,
{
    /// The same master with an RS-485 driver-enable pin: high while the request is written
    /// and flushed, low (receive) otherwise. The pin is driven low here.
    ///
    /// # Errors
    /// [`Error::DriverEnable`] when the pin cannot be driven low (the master is dropped).
    pub fn with_driver_enable<P: OutputPin>(self, mut pin: P) -> MasterResult<BusMaster<D, Port, Delay, Clk, P>, Port> {
        pin.set_low().map_err(|_| Error::DriverEnable)?;
        let BusMaster { core, port, delay, clock, .. } = self;
        Ok(BusMaster { core, port, delay, clock, driver_enable: pin })
    }

    /// The dialect.
    pub fn dialect(&self) -> &D {
        self.core.dialect()
    }

    /// The configuration.
    pub fn config(&self) -> &MasterConfig {
        self.core.config()
    }

    /// The serial port (e.g. to change its baud rate).
    pub fn port_mut(&mut self) -> &mut Port {
        &mut self.port
    }

    /// The sans-io core (health, sessions, counters).
    pub fn core(&self) -> &MasterCore<D> {
        &self.core
    }

    /// Board `board`'s health.
    pub fn health(&self, board: u8) -> BoardHealth {
        self.core.health(board)
    }

    /// Forgets `board`'s failures: the next request goes out even while it was backing off.
    pub fn reset_health(&mut self, board: u8) {
        self.core.reset_health(board);
    }

    /// Counters.
    pub fn stats(&self) -> MasterStats {
        self.core.stats()
    }

    /// The master's clock, µs.
    pub fn now_us(&mut self) -> u64 {
        self.clock.now_us()
    }

    /// Sends any neutral command to `board` and returns the board's answer. Queries and
    /// settings are retried; an unlock follows the unlock policy (prefer [`Self::unlock`],
    /// which also reads the status when the outcome is unknown).
    ///
    /// # Errors
    /// [`Error::Timeout`] without a reply (for a vendor unlock: the outcome is unknown),
    /// [`Error::Device`] when the board answers with an error, [`Error::BoardBackingOff`],
    /// [`Error::Encode`], [`Error::UnexpectedReply`] for a reply without neutral meaning,
    /// [`Error::Unconfirmed`] when the request draws no reply, port and pin errors.
    pub async fn command(&mut self, board: u8, command: &Command) -> MasterResult<Response, Port> {
        let plan = self.admit_and_plan(board, command).await?;
        match self.run(&plan).await?.0 {
            Attempted::Reply(reply) => match neutral(self.core.dialect(), &reply) {
                Some(Response::DeviceError(error)) => Err(Error::Device { board, error }),
                Some(response) => Ok(response),
                None => Err(Error::UnexpectedReply { board }),
            },
            Attempted::Sent => Err(Error::Unconfirmed { board }),
            Attempted::NoReply => Err(Error::Timeout { board }),
        }
    }

    /// Reads `board`'s status (every channel's lock feedback; doors and presence where the
    /// board reports them).
    ///
    /// # Errors
    /// As [`Self::command`].
    pub async fn status(&mut self, board: u8) -> MasterResult<BoardStatus, Port> {
        match self.command(board, &Command::QueryAll).await? {
            Response::Status(status) => Ok(status),
            _ => Err(Error::UnexpectedReply { board }),
        }
    }

    /// Reads `board`'s identity.
    ///
    /// # Errors
    /// As [`Self::command`].
    pub async fn info(&mut self, board: u8) -> MasterResult<BoardInfo, Port> {
        match self.command(board, &Command::BoardInfo).await? {
            Response::Info(info) => Ok(info),
            _ => Err(Error::UnexpectedReply { board }),
        }
    }

    /// Pulses `lock` of `board`, at most once. A native unlock whose reply is lost is resent
    /// with the same sequence number (answered from the board's cache, never pulsed again);
    /// a vendor unlock whose reply is lost is never resent: the outcome is
    /// [`UnlockOutcome::Unknown`] and the board's status is read into
    /// [`UnlockReport::status_after`]. A native unlock carries the boot id last seen (read
    /// with a status request first when none was seen yet), so a board that rebooted in
    /// between refuses instead of pulsing.
    ///
    /// # Errors
    /// Only when nothing could be tried: [`Error::BoardBackingOff`], [`Error::Encode`], port
    /// and pin errors. A lost reply is an outcome, not an error.
    pub async fn unlock(&mut self, board: u8, lock: Lock) -> MasterResult<UnlockReport, Port> {
        let start = self.clock.now_us();
        if self.core.dialect().sequenced() && self.core.boot(board).is_none() {
            // Learn the boot id; if this fails, the unlock below tries (and reports) anyway.
            if let Err(e @ (Error::Read(_) | Error::Write(_) | Error::DriverEnable | Error::BoardBackingOff { .. })) =
                self.status(board).await
            {
                return Err(e);
            }
        }
        let plan = self.admit_and_plan(board, &Command::Unlock(lock)).await?;
        let (attempted, attempts) = self.run(&plan).await?;
        let outcome = match attempted {
            Attempted::Reply(reply) => match neutral(self.core.dialect(), &reply) {
                Some(Response::DeviceError(error)) => UnlockOutcome::Refused(error),
                _ => UnlockOutcome::Confirmed,
            },
            Attempted::Sent => UnlockOutcome::Sent,
            Attempted::NoReply => {
                self.core.outcome_unknown();
                UnlockOutcome::Unknown
            }
        };
        let latency_us = self.clock.now_us().saturating_sub(start);
        let status_after = match outcome {
            UnlockOutcome::Unknown | UnlockOutcome::Sent => match self.status(board).await {
                Ok(status) => Some(status),
                Err(e @ (Error::Read(_) | Error::Write(_) | Error::DriverEnable)) => return Err(e),
                Err(_) => None,
            },
            _ => None,
        };
        Ok(UnlockReport { outcome, status_after, attempts, latency_us })
    }

    /// Asks every board for its status with one broadcast (Kerong CU12 ADDR `0x10`, CU16
    /// `0xF0`) and hands each answer to `f` as it arrives; the collection window is the
    /// response timeout. Returns how many boards answered.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the dialect has no status broadcast, [`Error::Encode`],
    /// port and pin errors.
    pub async fn broadcast_status(&mut self, mut f: impl FnMut(u8, BoardStatus)) -> MasterResult<u16, Port> {
        let address = self.core.dialect().status_broadcast().ok_or(Error::Unsupported("status broadcast"))?;
        let now = self.clock.now_us();
        let ready = self.core.admit(address, now)?;
        self.wait_until(ready).await;
        let mut plan = self.core.plan(address, &Command::QueryAll)?;
        plan.attempts = 1;
        let dialect = self.core.dialect().clone();
        let (end, _) = self
            .exchange(&plan, |reply| {
                if let Some((board, Response::Status(status))) = dialect.response(reply) {
                    f(board, status);
                }
            })
            .await?;
        Ok(match end {
            TxEnd::Collected(count) => count,
            TxEnd::Replied => 1,
            TxEnd::TimedOut | TxEnd::NoReplyExpected => 0,
        })
    }

    async fn admit_and_plan(&mut self, board: u8, command: &Command) -> MasterResult<Plan<D>, Port> {
        let now = self.clock.now_us();
        let ready = self.core.admit(board, now)?;
        self.wait_until(ready).await;
        self.core.plan(board, command)
    }

    async fn wait_until(&mut self, at_us: u64) {
        loop {
            let now = self.clock.now_us();
            if now >= at_us {
                return;
            }
            let wait = u32::try_from(at_us - now).unwrap_or(u32::MAX);
            self.delay.delay_us(wait).await;
        }
    }

    /// Every allowed attempt of `plan`; the second value is how many went on the wire.
    pub(crate) async fn run(&mut self, plan: &Plan<D>) -> MasterResult<(Attempted<D::Reply>, u8), Port> {
        for attempt in 1..=plan.attempts.max(1) {
            if attempt > 1 {
                self.core.retrying();
            }
            match self.exchange(plan, |_| {}).await? {
                (TxEnd::Replied, Some(reply)) => return Ok((Attempted::Reply(reply), attempt)),
                (TxEnd::NoReplyExpected, _) => return Ok((Attempted::Sent, attempt)),
                _ => {}
            }
        }
        let now = self.clock.now_us();
        self.core.failed(plan.board, now);
        Ok((Attempted::NoReply, plan.attempts.max(1)))
    }

    /// One transaction: flush stale input, send, collect until complete or timed out.
    async fn exchange(
        &mut self,
        plan: &Plan<D>,
        mut on_reply: impl FnMut(&D::Reply),
    ) -> MasterResult<(TxEnd, Option<D::Reply>), Port> {
        let mut tx = self.core.transaction(plan)?;
        let mut buf = [0u8; 64];
        while self.port.read_ready().map_err(Error::Read)? {
            let n = self.port.read(&mut buf).await.map_err(Error::Read)?;
            if n == 0 {
                break;
            }
            self.core.drop_late_bytes(n);
        }
        self.driver_enable.set_high().map_err(|_| Error::DriverEnable)?;
        let written = match self.port.write_all(tx.frame()).await {
            Ok(()) => self.port.flush().await,
            Err(e) => Err(e),
        };
        let released = self.driver_enable.set_low();
        written.map_err(Error::Write)?;
        released.map_err(|_| Error::DriverEnable)?;
        tx.transmitted(self.clock.now_us());
        let poll_us = u64::from(self.core.config().poll_interval_us.max(1));
        let end = loop {
            let now = self.clock.now_us();
            match tx.poll(now) {
                Poll::Done(end) => break end,
                Poll::Pending { wake_at_us } => {
                    let n = if self.port.read_ready().map_err(Error::Read)? {
                        self.port.read(&mut buf).await.map_err(Error::Read)?
                    } else {
                        let wait = wake_at_us.saturating_sub(now).clamp(1, poll_us);
                        let wait = u32::try_from(wait).unwrap_or(u32::MAX);
                        read_or_delay(&mut self.port, &mut self.delay, &mut buf, wait).await.map_err(Error::Read)?
                    };
                    if n > 0 {
                        let now = self.clock.now_us();
                        if let Poll::Done(end) = tx.feed(buf.get(..n).unwrap_or_default(), now, &mut on_reply) {
                            break end;
                        }
                    }
                }
            }
        };
        let reply = tx.take_reply();
        let now = self.clock.now_us();
        self.core.finish(plan, &tx, reply.as_ref(), now);
        Ok((end, reply))
    }
}

impl<Port, Delay, Clk, De> BusMaster<Native, Port, Delay, Clk, De>
where
    Port: Read + Write + ReadReady,
    Delay: DelayNs,
    Clk: Clock,
    De: OutputPin,
{
    /// Reads the native event log of `board` from the master's cursor on, handing each event
    /// to `f` in order, until the board has no more (PROTOCOL.md §5.3). After a reboot (a new
    /// boot id) the cursor restarts at 0 and [`EventsSummary::rebooted`] says events may be
    /// gone; [`EventsSummary::lost`] says the board's log overflowed.
    ///
    /// # Errors
    /// As [`Self::command`]; events handed to `f` before an error are consumed.
    pub async fn events(&mut self, board: u8, mut f: impl FnMut(NativeEvent)) -> MasterResult<EventsSummary, Port> {
        let mut summary = EventsSummary::default();
        // Bounded: a board that keeps saying "more" cannot hold the bus forever.
        for _ in 0..64 {
            let cursor = self.core.event_cursor(board);
            let now = self.clock.now_us();
            let ready = self.core.admit(board, now)?;
            self.wait_until(ready).await;
            let request = NativeRequest::ReadEvents { board, seq: 0, cursor, max: 0 };
            let plan = self.core.plan_request(board, request, Expect::Any, false, false);
            let reply = match self.run(&plan).await?.0 {
                Attempted::Reply(reply) => reply,
                Attempted::Sent | Attempted::NoReply => return Err(Error::Timeout { board }),
            };
            match reply {
                NativeReply::Events { lost, more, first, events, .. } => {
                    if self.core.event_cursor(board) != cursor {
                        // The reply came from a new boot: read again from its cursor 0.
                        summary.rebooted = true;
                        continue;
                    }
                    summary.lost |= lost;
                    for event in events.as_slice() {
                        f(*event);
                        summary.events += 1;
                    }
                    self.core.set_event_cursor(board, first.wrapping_add(events.as_slice().len() as u16));
                    if !more {
                        break;
                    }
                }
                other => {
                    return Err(match neutral(self.core.dialect(), &other) {
                        Some(Response::DeviceError(error)) => Error::Device { board, error },
                        _ => Error::UnexpectedReply { board },
                    });
                }
            }
        }
        summary.rebooted |= self.core.take_rebooted(board);
        Ok(summary)
    }
}

/// Races a read against a delay of `wait_us`: the bytes read, or 0 when the delay ended first
/// (or the port reported a read timeout). The delay is polled first, so a port that completes
/// every read at once (the simulator) still lets time pass in steps.
async fn read_or_delay<P: Read, Dl: DelayNs>(
    port: &mut P,
    delay: &mut Dl,
    buf: &mut [u8],
    wait_us: u32,
) -> Result<usize, P::Error> {
    let mut sleep = pin!(delay.delay_us(wait_us));
    let mut read = pin!(port.read(buf));
    let mut read_done = false;
    core::future::poll_fn(|cx| {
        if sleep.as_mut().poll(cx).is_ready() {
            return TaskPoll::Ready(Ok(0));
        }
        if !read_done {
            match read.as_mut().poll(cx) {
                TaskPoll::Ready(Ok(n)) => return TaskPoll::Ready(Ok(n)),
                TaskPoll::Ready(Err(e)) if e.kind() == ErrorKind::TimedOut => read_done = true,
                TaskPoll::Ready(Err(e)) => return TaskPoll::Ready(Err(e)),
                TaskPoll::Pending => {}
            }
        }
        TaskPoll::Pending
    })
    .await
}
