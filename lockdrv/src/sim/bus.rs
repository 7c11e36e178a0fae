//! The simulated bus: boards, the wire's timing and faults, a virtual clock, and the master's
//! endpoint (embedded-io `Read`/`Write`/`ReadReady`, `DelayNs`).
//!
//! Time is virtual: it moves only when the master waits (a blocking read that has nothing yet,
//! a delay, a flush) or when the caller advances it, so a run is deterministic for its seed
//! and takes no wall-clock time.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use lockproto::Lock;

use super::dialects::SimDialect;
use super::faults::{FaultConfig, FaultStats};
use super::node::SimNode;
use super::physics::PhysicsConfig;
use super::rng::XorShift64;
use super::timing::byte_time_us;

/// How the bus behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusConfig {
    /// Serial rate, bit/s (8N1: 10 bits a byte).
    pub baud: u32,
    /// Board turnaround: request's last byte to reply's first byte, µs.
    pub reply_latency_us: u64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Faults to inject.
    pub faults: FaultConfig,
    /// Door and parcel behaviour of boards added with [`Bus::add_dialect_boards`].
    pub physics: PhysicsConfig,
    /// Replies that overlap on the wire garble each other (two RS-485 drivers at once), as
    /// when several boards answer a broadcast in the same slot. Off: boards wait for a free
    /// line (an idealised bus on which every broadcast answer arrives intact).
    pub collisions: bool,
}

impl BusConfig {
    /// A fault-free bus with the factory baud rate and modelled latency of `dialect`.
    pub fn for_dialect(dialect: SimDialect) -> Self {
        BusConfig {
            baud: dialect.default_baud(),
            reply_latency_us: dialect.reply_latency_us(),
            seed: 1,
            faults: FaultConfig::NONE,
            physics: PhysicsConfig::default(),
            collisions: false,
        }
    }
}

/// Counters of the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BusStats {
    /// Bytes the master wrote.
    pub bytes_to_boards: u64,
    /// Bytes that reached the master (garbage included).
    pub bytes_to_master: u64,
    /// Replies boards put on the wire.
    pub replies: u64,
    /// Replies that collided with another (with [`BusConfig::collisions`]).
    pub collisions: u64,
    /// Faults injected.
    pub faults: FaultStats,
}

/// The master read from a bus on which nothing more will arrive (no bytes in flight, no
/// reply pending): a blocking read would wait forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the simulated bus is silent: nothing more will arrive")]
pub struct Silent;

impl embedded_io::Error for Silent {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::TimedOut
    }
}

struct Slot {
    node: Box<dyn SimNode>,
    offline_until: u64,
    /// When the pending reply goes on the wire (set when the board queued it).
    tx_due: Option<u64>,
    /// Replies still to lose (the board executes the request but its reply never arrives).
    lose_replies: u32,
}

struct Inner {
    config: BusConfig,
    byte_us: u64,
    now_us: u64,
    rng: XorShift64,
    slots: Vec<Slot>,
    to_boards: VecDeque<(u64, u8)>,
    master_tx_free: u64,
    to_master: VecDeque<(u64, u8)>,
    line_free: u64,
    stats: BusStats,
}

impl Inner {
    /// The next moment anything happens, up to which the state is consistent.
    fn next_event(&self, with_deadlines: bool) -> Option<u64> {
        let wire = self.to_boards.front().map(|&(t, _)| t);
        let due = self.slots.iter().filter_map(|s| s.tx_due).min();
        let deadlines =
            if with_deadlines { self.slots.iter().filter_map(|s| s.node.next_deadline_us()).min() } else { None };
        [wire, due, deadlines].into_iter().flatten().min()
    }

    /// Processes every event up to `target_us` and sets the clock there.
    fn run_until(&mut self, target_us: u64) {
        while let Some(t) = self.next_event(true).filter(|&t| t <= target_us) {
            self.now_us = self.now_us.max(t);
            self.step();
        }
        self.now_us = self.now_us.max(target_us);
    }

    fn step(&mut self) {
        let now = self.now_us;
        // Request bytes arriving now.
        while let Some(&(t, byte)) = self.to_boards.front() {
            if t > now {
                break;
            }
            self.to_boards.pop_front();
            let latency = self.config.reply_latency_us;
            for slot in &mut self.slots {
                if slot.offline_until > now {
                    continue;
                }
                slot.node.receive(&[byte], now);
                let (pending, ready_us) = slot.node.pending_tx();
                if !pending.is_empty() && slot.tx_due.is_none() {
                    let mut due = now + latency + ready_us.saturating_sub(now);
                    if self.rng.chance(self.config.faults.slow_ppm) {
                        due += self.config.faults.slow_us;
                        self.stats.faults.slow += 1;
                    }
                    slot.tx_due = Some(due);
                }
            }
        }
        // Board deadlines (pulses ending, doors moving, debounce).
        for slot in &mut self.slots {
            if slot.node.next_deadline_us().is_some_and(|t| t <= now) {
                slot.node.advance(now);
            }
        }
        // Replies whose turn has come, in board order (the line is shared: they queue).
        for index in 0..self.slots.len() {
            let due = self.slots.get(index).and_then(|s| s.tx_due);
            if due.is_some_and(|t| t <= now) {
                self.send_reply(index);
            }
        }
    }

    fn send_reply(&mut self, index: usize) {
        let now = self.now_us;
        let faults = self.config.faults;
        let Some(slot) = self.slots.get_mut(index) else { return };
        slot.tx_due = None;
        let bytes: Vec<u8> = slot.node.pending_tx().0.to_vec();
        slot.node.consume_tx(bytes.len());
        if bytes.is_empty() {
            return;
        }
        if slot.lose_replies > 0 {
            slot.lose_replies -= 1;
            return;
        }
        if self.rng.chance(faults.reboot_ppm) {
            self.stats.faults.reboots += 1;
            slot.node.reboot(now);
            return;
        }
        if self.rng.chance(faults.offline_ppm) {
            self.stats.faults.offline += 1;
            slot.offline_until = now + faults.offline_us;
            return;
        }
        self.stats.replies += 1;
        if self.config.collisions && now < self.line_free {
            self.stats.collisions += 1;
            self.collide(now, &bytes);
            return;
        }
        let mut t = now.max(self.line_free);
        for byte in bytes {
            t += self.byte_us;
            if self.rng.chance(faults.delay_ppm) {
                self.stats.faults.delayed += 1;
                t += faults.delay_us;
            }
            if let Some(byte) = self.wire_byte(byte) {
                self.to_master.push_back((t, byte));
            }
        }
        if self.rng.chance(faults.garbage_ppm) {
            let count = 1 + self.rng.below(4);
            self.stats.faults.garbage += count;
            for _ in 0..count {
                t += self.byte_us;
                let byte = self.rng.byte();
                self.to_master.push_back((t, byte));
            }
        }
        self.line_free = t;
    }

    /// Puts `bytes` on the wire from `now` while another reply is still being sent: where both
    /// drive the line, bits that disagree read as the dominant level (wired-AND), so the
    /// overlap is garbled; the rest of the longer reply arrives as sent.
    fn collide(&mut self, now: u64, bytes: &[u8]) {
        let mut t = now;
        for &byte in bytes {
            t += self.byte_us;
            let slot = self.to_master.iter_mut().find(|(at, _)| at.abs_diff(t) < self.byte_us);
            match slot {
                Some((_, existing)) => *existing &= byte,
                None => {
                    let at = t.max(self.to_master.back().map_or(0, |&(at, _)| at));
                    self.to_master.push_back((at, byte));
                }
            }
        }
        self.line_free = self.line_free.max(t);
    }

    /// A byte after the wire's drop and corrupt faults.
    fn wire_byte(&mut self, byte: u8) -> Option<u8> {
        let faults = self.config.faults;
        if self.rng.chance(faults.drop_ppm) {
            self.stats.faults.dropped += 1;
            return None;
        }
        if self.rng.chance(faults.corrupt_ppm) {
            self.stats.faults.corrupted += 1;
            let flip = (self.rng.byte() | 1).rotate_left(self.rng.below(8) as u32);
            return Some(byte ^ flip);
        }
        Some(byte)
    }

    fn master_write(&mut self, bytes: &[u8]) {
        let mut t = self.now_us.max(self.master_tx_free);
        for &byte in bytes {
            t += self.byte_us;
            self.stats.bytes_to_boards += 1;
            if let Some(byte) = self.wire_byte(byte) {
                self.to_boards.push_back((t, byte));
            }
        }
        self.master_tx_free = t;
    }

    fn master_read(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        for dst in buf.iter_mut() {
            match self.to_master.front() {
                Some(&(t, byte)) if t <= self.now_us => {
                    *dst = byte;
                    self.to_master.pop_front();
                    n += 1;
                }
                _ => break,
            }
        }
        self.stats.bytes_to_master += n as u64;
        n
    }
}

/// A simulated RS-485 bus with its boards. Clones share the bus.
#[derive(Clone)]
pub struct Bus {
    inner: Rc<RefCell<Inner>>,
}

impl core::fmt::Debug for Bus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("Bus")
            .field("config", &inner.config)
            .field("now_us", &inner.now_us)
            .field("boards", &inner.slots.len())
            .field("stats", &inner.stats)
            .finish()
    }
}

impl Bus {
    /// An empty bus at time 0.
    pub fn new(config: BusConfig) -> Self {
        let inner = Inner {
            byte_us: byte_time_us(config.baud),
            rng: XorShift64::new(config.seed),
            config,
            now_us: 0,
            slots: Vec::new(),
            to_boards: VecDeque::new(),
            master_tx_free: 0,
            to_master: VecDeque::new(),
            line_free: 0,
            stats: BusStats::default(),
        };
        Bus { inner: Rc::new(RefCell::new(inner)) }
    }

    /// A bus of `count` boards of `dialect` at its usual addresses ([`SimDialect::address`]).
    pub fn with_boards(dialect: SimDialect, count: usize, config: BusConfig) -> Self {
        let bus = Bus::new(config);
        bus.add_dialect_boards(dialect, count);
        bus
    }

    /// Adds `count` boards of `dialect` at its usual addresses.
    pub fn add_dialect_boards(&self, dialect: SimDialect, count: usize) {
        let (physics, seed, now) = {
            let inner = self.inner.borrow();
            (inner.config.physics, inner.config.seed, inner.now_us)
        };
        for index in 0..count {
            let seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(index as u64);
            self.add_board(dialect.board(dialect.address(index), physics, seed, now));
        }
    }

    /// Adds a board of `dialect` with `config` (address, channels, pulse limits, ...); returns
    /// its index.
    pub fn add_configured_board(&self, dialect: SimDialect, config: crate::board::BoardConfig) -> usize {
        let (physics, seed, now) = {
            let inner = self.inner.borrow();
            (inner.config.physics, inner.config.seed, inner.now_us)
        };
        let seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(u64::from(config.address));
        self.add_board(dialect.board_with(config, physics, seed, now))
    }

    /// Adds a board; returns its index.
    pub fn add_board(&self, node: Box<dyn SimNode>) -> usize {
        let mut inner = self.inner.borrow_mut();
        inner.slots.push(Slot { node, offline_until: 0, tx_due: None, lose_replies: 0 });
        inner.slots.len() - 1
    }

    /// Number of boards.
    pub fn boards(&self) -> usize {
        self.inner.borrow().slots.len()
    }

    /// Runs `f` on board `index` (inspect pulses, jam a lock, put a parcel in).
    pub fn with_board<R>(&self, index: usize, f: impl FnOnce(&mut dyn SimNode) -> R) -> Option<R> {
        let mut inner = self.inner.borrow_mut();
        inner.slots.get_mut(index).map(|slot| f(slot.node.as_mut()))
    }

    /// Takes board `index` off the bus until `until_us` (a cut cable, a dead board).
    pub fn set_offline_until(&self, index: usize, until_us: u64) {
        if let Some(slot) = self.inner.borrow_mut().slots.get_mut(index) {
            slot.offline_until = until_us;
        }
    }

    /// Rising edges of every lock output on every board.
    pub fn total_pulses(&self) -> u64 {
        self.inner.borrow().slots.iter().map(|s| s.node.pulses()).sum()
    }

    /// Rising edges of `lock`'s output on board `index`.
    pub fn pulses_of(&self, index: usize, lock: Lock) -> u64 {
        self.with_board(index, |b| b.pulses_of(lock)).unwrap_or(0)
    }

    /// The configuration.
    pub fn config(&self) -> BusConfig {
        self.inner.borrow().config
    }

    /// Board `index` executes the next `count` requests it answers but their replies are lost
    /// on the wire (a deterministic lost reply, for tests).
    pub fn lose_next_replies(&self, index: usize, count: u32) {
        if let Some(slot) = self.inner.borrow_mut().slots.get_mut(index) {
            slot.lose_replies = count;
        }
    }

    /// Changes the faults injected from now on (e.g. to lose exactly one reply in a test).
    pub fn set_faults(&self, faults: FaultConfig) {
        self.inner.borrow_mut().config.faults = faults;
    }

    /// Counters.
    pub fn stats(&self) -> BusStats {
        self.inner.borrow().stats
    }

    /// Virtual time, µs.
    pub fn now_us(&self) -> u64 {
        self.inner.borrow().now_us
    }

    /// Runs the bus until `target_us` (no-op for a past time).
    pub fn run_until(&self, target_us: u64) {
        self.inner.borrow_mut().run_until(target_us);
    }

    /// Runs the bus for `us` more.
    pub fn advance(&self, us: u64) {
        let target = self.now_us().saturating_add(us);
        self.run_until(target);
    }

    /// Master side: sends `bytes` from now (queued behind bytes still being sent).
    pub fn master_write(&self, bytes: &[u8]) {
        let mut inner = self.inner.borrow_mut();
        let now = inner.now_us;
        inner.run_until(now);
        inner.master_write(bytes);
    }

    /// Master side: the bytes that have arrived by now.
    pub fn master_read_now(&self, buf: &mut [u8]) -> usize {
        let mut inner = self.inner.borrow_mut();
        let now = inner.now_us;
        inner.run_until(now);
        inner.master_read(buf)
    }

    /// When the master's last byte will have left the transmitter, µs.
    pub fn master_tx_done_us(&self) -> u64 {
        let inner = self.inner.borrow();
        inner.master_tx_free.max(inner.now_us)
    }

    /// When the next byte reaches the master (if one is on its way or will be sent as a
    /// reply), running the bus up to that point; `None` when the bus will stay silent.
    pub fn next_byte_us(&self) -> Option<u64> {
        let mut inner = self.inner.borrow_mut();
        loop {
            if let Some(&(t, _)) = inner.to_master.front() {
                let t = t.max(inner.now_us);
                // Events before it may still add nothing earlier (the line is serial).
                return Some(t);
            }
            let next = inner.next_event(false)?;
            inner.run_until(next);
        }
    }

    /// The master's endpoint: embedded-io `Read` (blocks in virtual time), `Write`, `ReadReady`.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint { bus: self.clone() }
    }

    /// A `DelayNs` (blocking and async) that advances virtual time.
    pub fn delay(&self) -> SimDelay {
        SimDelay { bus: self.clone() }
    }

    /// The virtual clock.
    pub fn clock(&self) -> SimClock {
        SimClock { bus: self.clone() }
    }
}

/// The master's side of the bus.
#[derive(Debug, Clone)]
pub struct Endpoint {
    bus: Bus,
}

impl Endpoint {
    /// The bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Reads what arrives until `deadline_us` (virtual), returning as soon as at least one byte
    /// is in; 0 when the deadline passed first.
    pub fn read_until(&mut self, buf: &mut [u8], deadline_us: u64) -> usize {
        match self.bus.next_byte_us() {
            Some(t) if t <= deadline_us => {
                self.bus.run_until(t);
                self.bus.master_read_now(buf)
            }
            _ => {
                self.bus.run_until(deadline_us);
                0
            }
        }
    }
}

impl embedded_io::ErrorType for Endpoint {
    type Error = Silent;
}

impl embedded_io::Read for Endpoint {
    /// Blocks (in virtual time) until at least one byte arrives.
    ///
    /// # Errors
    /// [`Silent`] when nothing more will ever arrive: a real port would block forever.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Silent> {
        if buf.is_empty() {
            return Ok(0);
        }
        let t = self.bus.next_byte_us().ok_or(Silent)?;
        self.bus.run_until(t);
        Ok(self.bus.master_read_now(buf))
    }
}

impl embedded_io::ReadReady for Endpoint {
    fn read_ready(&mut self) -> Result<bool, Silent> {
        let inner = &mut *self.bus.inner.borrow_mut();
        let now = inner.now_us;
        inner.run_until(now);
        Ok(inner.to_master.front().is_some_and(|&(t, _)| t <= now))
    }
}

impl embedded_io::Write for Endpoint {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Silent> {
        self.bus.master_write(buf);
        Ok(buf.len())
    }

    /// Waits (in virtual time) until every written byte has left the transmitter.
    fn flush(&mut self) -> Result<(), Silent> {
        let done = self.bus.master_tx_done_us();
        self.bus.run_until(done);
        Ok(())
    }
}

/// The same endpoint for async masters: every future is ready at once, since waiting only
/// moves virtual time.
impl embedded_io_async::Read for Endpoint {
    /// # Cancel safety
    /// Cancel-safe: the future completes on its first poll.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Silent> {
        embedded_io::Read::read(self, buf)
    }
}

impl embedded_io_async::Write for Endpoint {
    /// # Cancel safety
    /// Cancel-safe: the future completes on its first poll.
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Silent> {
        embedded_io::Write::write(self, buf)
    }

    async fn flush(&mut self) -> Result<(), Silent> {
        embedded_io::Write::flush(self)
    }
}

/// A delay that advances the bus's virtual clock.
#[derive(Debug, Clone)]
pub struct SimDelay {
    bus: Bus,
}

impl SimDelay {
    /// Virtual time, µs.
    pub fn now_us(&self) -> u64 {
        self.bus.now_us()
    }
}

impl embedded_hal::delay::DelayNs for SimDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.bus.advance(u64::from(ns).div_ceil(1_000));
    }
}

impl embedded_hal_async::delay::DelayNs for SimDelay {
    async fn delay_ns(&mut self, ns: u32) {
        self.bus.advance(u64::from(ns).div_ceil(1_000));
    }
}

/// The bus's virtual clock, for masters that read the time (a clock trait of the driver shells
/// is implemented on top of this by the integrator).
#[derive(Debug, Clone)]
pub struct SimClock {
    bus: Bus,
}

impl SimClock {
    /// Virtual time, µs.
    pub fn now_us(&self) -> u64 {
        self.bus.now_us()
    }

    /// Virtual time, ms.
    pub fn now_ms(&self) -> u64 {
        self.bus.now_us() / 1_000
    }
}
