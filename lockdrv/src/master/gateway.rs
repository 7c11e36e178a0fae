//! The tokio gateway (feature `tokio`): one task owns the bus (a tokio-serial port driven by
//! the async [`super::asynch::BusMaster`]); any number of cloneable [`BusHandle`]s talk to
//! it over a channel, with the same method names. Queued requests are served by priority
//! ([`super::Scheduler`]): an unlock goes before queued status reads and info requests.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use lockdrv::master::gateway;
//! use lockproto::dialect::kerong_cu12::KerongCu12;
//! use lockproto::Lock;
//!
//! let (bus, task) = gateway::open("/dev/ttyUSB0", 19_200, KerongCu12::new(), None)?;
//! let other = bus.clone(); // e.g. for a poller task
//! let status = other.status(0).await?;
//! let report = bus.unlock(0, Lock::new(3).unwrap()).await?;
//! drop((bus, other)); // the task ends when every handle is gone
//! task.await?;
//! # Ok(()) }
//! ```

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use lockproto::{BoardInfo, BoardStatus, Command, Lock, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{mpsc, oneshot};

use super::asynch::BusMaster;
use super::{BoardHealth, BusDialect, Error, MasterConfig, MasterStats, Priority, Scheduler, StdClock, UnlockReport};

/// A tokio byte stream (`AsyncRead + AsyncWrite`, e.g. `tokio_serial::SerialStream`) as an
/// `embedded-io-async` port with `ReadReady` (bytes already available, checked without
/// waiting).
#[derive(Debug)]
pub struct TokioIo<T> {
    inner: T,
    buf: [u8; 256],
    start: usize,
    end: usize,
}

impl<T> TokioIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        TokioIo { inner, buf: [0; 256], start: 0, end: 0 }
    }

    /// The stream.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    fn take_buffered(&mut self, out: &mut [u8]) -> usize {
        let available = self.buf.get(self.start..self.end).unwrap_or_default();
        let n = available.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), available.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.start += n;
        n
    }
}

impl<T> embedded_io_async::ErrorType for TokioIo<T> {
    type Error = io::Error;
}

impl<T: AsyncRead + Unpin> embedded_io_async::ReadReady for TokioIo<T> {
    fn read_ready(&mut self) -> io::Result<bool> {
        if self.start < self.end {
            return Ok(true);
        }
        // Poll once without waiting: a real read registers the task's waker later.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut read = ReadBuf::new(&mut self.buf);
        match Pin::new(&mut self.inner).poll_read(&mut cx, &mut read) {
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                self.start = 0;
                self.end = n;
                Ok(n > 0)
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Ok(false),
        }
    }
}

impl<T: AsyncRead + Unpin> embedded_io_async::Read for TokioIo<T> {
    /// # Cancel safety
    /// Cancel-safe: bytes are only taken out of the stream by a completed poll.
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.start < self.end {
            return Ok(self.take_buffered(buf));
        }
        self.inner.read(buf).await
    }
}

impl<T: AsyncWrite + Unpin> embedded_io_async::Write for TokioIo<T> {
    async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().await
    }
}

/// An `embedded-hal-async` `DelayNs` on `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioDelay;

impl embedded_hal_async::delay::DelayNs for TokioDelay {
    async fn delay_ns(&mut self, ns: u32) {
        tokio::time::sleep(Duration::from_nanos(u64::from(ns))).await;
    }
}

/// Errors of a [`BusHandle`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The master reported an error.
    #[error(transparent)]
    Master(#[from] Error<io::Error>),
    /// The bus task has ended (its port failed or it was dropped).
    #[error("the bus task has ended")]
    Closed,
    /// The bus task's queue is full.
    #[error("the bus task's queue is full")]
    Busy,
}

type Reply<T> = oneshot::Sender<Result<T, GatewayError>>;

enum Job {
    Command { board: u8, command: Command, reply: Reply<Response> },
    Status { board: u8, reply: Reply<BoardStatus> },
    Info { board: u8, reply: Reply<BoardInfo> },
    Unlock { board: u8, lock: Lock, reply: Reply<UnlockReport> },
    Broadcast { reply: Reply<Vec<(u8, BoardStatus)>> },
    Health { board: u8, reply: oneshot::Sender<BoardHealth> },
    Stats { reply: oneshot::Sender<MasterStats> },
}

impl Job {
    fn board_and_priority(&self) -> (u8, Priority) {
        match self {
            Job::Unlock { board, .. } => (*board, Priority::Unlock),
            Job::Command { board, command, .. } if super::actuates(command) => (*board, Priority::Unlock),
            Job::Command { board, .. } | Job::Status { board, .. } | Job::Info { board, .. } => {
                (*board, Priority::Query)
            }
            Job::Health { board, .. } => (*board, Priority::Unlock),
            Job::Broadcast { .. } => (0, Priority::Poll),
            Job::Stats { .. } => (0, Priority::Unlock),
        }
    }
}

/// A cloneable handle to the bus task, with the master's method names.
#[derive(Debug, Clone)]
pub struct BusHandle {
    jobs: mpsc::Sender<Job>,
}

impl core::fmt::Debug for Job {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (board, priority) = self.board_and_priority();
        f.debug_struct("Job").field("board", &board).field("priority", &priority).finish_non_exhaustive()
    }
}

impl BusHandle {
    async fn ask<T>(&self, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> Result<T, GatewayError> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(job(tx)).await.map_err(|_| GatewayError::Closed)?;
        rx.await.map_err(|_| GatewayError::Closed)
    }

    /// [`BusMaster::command`] on the bus task.
    ///
    /// # Errors
    /// The master's error, or [`GatewayError::Closed`].
    pub async fn command(&self, board: u8, command: &Command) -> Result<Response, GatewayError> {
        let command = *command;
        self.ask(|reply| Job::Command { board, command, reply }).await?
    }

    /// [`BusMaster::status`] on the bus task.
    ///
    /// # Errors
    /// As [`BusHandle::command`].
    pub async fn status(&self, board: u8) -> Result<BoardStatus, GatewayError> {
        self.ask(|reply| Job::Status { board, reply }).await?
    }

    /// [`BusMaster::info`] on the bus task.
    ///
    /// # Errors
    /// As [`BusHandle::command`].
    pub async fn info(&self, board: u8) -> Result<BoardInfo, GatewayError> {
        self.ask(|reply| Job::Info { board, reply }).await?
    }

    /// [`BusMaster::unlock`] on the bus task, ahead of queued reads.
    ///
    /// # Errors
    /// As [`BusHandle::command`].
    pub async fn unlock(&self, board: u8, lock: Lock) -> Result<UnlockReport, GatewayError> {
        self.ask(|reply| Job::Unlock { board, lock, reply }).await?
    }

    /// [`BusMaster::broadcast_status`] on the bus task: every answer, in arrival order.
    ///
    /// # Errors
    /// As [`BusHandle::command`].
    pub async fn broadcast_status(&self) -> Result<Vec<(u8, BoardStatus)>, GatewayError> {
        self.ask(|reply| Job::Broadcast { reply }).await?
    }

    /// [`BusMaster::health`].
    ///
    /// # Errors
    /// [`GatewayError::Closed`].
    pub async fn health(&self, board: u8) -> Result<BoardHealth, GatewayError> {
        self.ask(|reply| Job::Health { board, reply }).await
    }

    /// [`BusMaster::stats`].
    ///
    /// # Errors
    /// [`GatewayError::Closed`].
    pub async fn stats(&self) -> Result<MasterStats, GatewayError> {
        self.ask(|reply| Job::Stats { reply }).await
    }
}

/// How many requests wait in the bus task's priority queue.
pub const QUEUE: usize = 64;

/// Starts the bus task for `master` on the current tokio runtime.
pub fn spawn<D, T>(master: BusMaster<D, TokioIo<T>, TokioDelay, StdClock>) -> (BusHandle, tokio::task::JoinHandle<()>)
where
    D: BusDialect + Clone + Send + Sync + 'static,
    D::Request: Send + Sync,
    D::Reply: Send + Sync,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel(QUEUE);
    let task = tokio::spawn(run(master, rx));
    (BusHandle { jobs: tx }, task)
}

/// Opens the serial port `path` at `baud` (tokio-serial, 8N1) and starts the bus task;
/// `config` `None` takes the dialect's defaults.
///
/// # Errors
/// The port cannot be opened.
pub fn open<D>(
    path: &str,
    baud: u32,
    dialect: D,
    config: Option<MasterConfig>,
) -> io::Result<(BusHandle, tokio::task::JoinHandle<()>)>
where
    D: BusDialect + Clone + Send + Sync + 'static,
    D::Request: Send + Sync,
    D::Reply: Send + Sync,
{
    use tokio_serial::SerialPortBuilderExt;
    let port = tokio_serial::new(path, baud).open_native_async()?;
    let master = BusMaster::new(dialect, TokioIo::new(port), TokioDelay, StdClock::new(), config);
    Ok(spawn(master))
}

async fn run<D, T>(mut master: BusMaster<D, TokioIo<T>, TokioDelay, StdClock>, mut jobs: mpsc::Receiver<Job>)
where
    D: BusDialect + Clone,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut queue = Scheduler::<Job, QUEUE>::new();
    loop {
        if queue.is_empty() {
            match jobs.recv().await {
                Some(job) => enqueue(&mut queue, job),
                None => return,
            }
        }
        while let Ok(job) = jobs.try_recv() {
            enqueue(&mut queue, job);
        }
        let Some((_, job)) = queue.pop(|_| true) else { continue };
        // A requester that went away no longer wants the answer: ignore failed sends.
        match job {
            Job::Command { board, command, reply } => {
                let _ = reply.send(master.command(board, &command).await.map_err(GatewayError::from));
            }
            Job::Status { board, reply } => {
                let _ = reply.send(master.status(board).await.map_err(GatewayError::from));
            }
            Job::Info { board, reply } => {
                let _ = reply.send(master.info(board).await.map_err(GatewayError::from));
            }
            Job::Unlock { board, lock, reply } => {
                let _ = reply.send(master.unlock(board, lock).await.map_err(GatewayError::from));
            }
            Job::Broadcast { reply } => {
                let mut answers = Vec::new();
                let result = master.broadcast_status(|board, status| answers.push((board, status))).await;
                let _ = reply.send(result.map(|_| answers).map_err(GatewayError::from));
            }
            Job::Health { board, reply } => {
                let _ = reply.send(master.health(board));
            }
            Job::Stats { reply } => {
                let _ = reply.send(master.stats());
            }
        }
    }
}

fn enqueue(queue: &mut Scheduler<Job, QUEUE>, job: Job) {
    let (board, priority) = job.board_and_priority();
    if let Err(job) = queue.push(priority, board, job) {
        // Cannot happen with a channel of the queue's capacity; answer rather than drop.
        match job {
            Job::Command { reply, .. } => drop(reply.send(Err(GatewayError::Busy))),
            Job::Status { reply, .. } => drop(reply.send(Err(GatewayError::Busy))),
            Job::Info { reply, .. } => drop(reply.send(Err(GatewayError::Busy))),
            Job::Unlock { reply, .. } => drop(reply.send(Err(GatewayError::Busy))),
            Job::Broadcast { reply } => drop(reply.send(Err(GatewayError::Busy))),
            Job::Health { .. } | Job::Stats { .. } => {}
        }
    }
}
