//! A simulated board: the firmware core ([`crate::board::BoardCore`]) on a physical model.

use lockproto::{Dialect, LockSet};

use super::physics::Physics;
use crate::board::{BoardConfig, BoardCore, Protocol};

/// Channels of a simulated board's core (the configuration decides how many are used).
pub const SIM_CH: usize = 128;

/// A board on the simulated bus, whatever its protocol.
pub trait SimNode {
    /// The dialect's name.
    fn dialect(&self) -> &'static str;
    /// The board's current bus address.
    fn address(&self) -> u8;
    /// Bytes from the wire at `now_us`.
    fn receive(&mut self, bytes: &[u8], now_us: u64);
    /// Moves doors and polls the firmware at `now_us`.
    fn advance(&mut self, now_us: u64);
    /// When [`SimNode::advance`] must be called next.
    fn next_deadline_us(&self) -> Option<u64>;
    /// Reply bytes waiting, and the earliest time (µs) they may be sent.
    fn pending_tx(&self) -> (&[u8], u64);
    /// Drops the first `sent` pending bytes.
    fn consume_tx(&mut self, sent: usize);
    /// Power-cycles the board at `now_us`: outputs off, RAM lost, a new boot id.
    fn reboot(&mut self, now_us: u64);
    /// The compartments.
    fn physics(&self) -> &Physics;
    /// The compartments, mutable (jam a lock, put a parcel in).
    fn physics_mut(&mut self) -> &mut Physics;
    /// Outputs on now.
    fn outputs(&self) -> LockSet;
    /// Rising edges of all lock outputs since the simulation began (across reboots).
    fn pulses(&self) -> u64;
    /// Rising edges of one output since the simulation began.
    fn pulses_of(&self, lock: lockproto::Lock) -> u64;
    /// Times the board booted (1 at start).
    fn boots(&self) -> u32;
}

/// Builds the protocol state of a fresh boot: `(boot number, now_ms)`.
pub type ProtocolFactory<P> = Box<dyn FnMut(u32, u64) -> P>;

/// A board running the firmware core with protocol `P` on simulated compartments.
pub struct SimBoard<P: Protocol<SIM_CH>> {
    make: ProtocolFactory<P>,
    config: BoardConfig,
    core: BoardCore<P, SIM_CH>,
    physics: Physics,
    boots: u32,
    deadline_ms: Option<u64>,
    last_outputs: LockSet,
    edges: Vec<u64>,
    now_us: u64,
    gap_deadline_us: Option<u64>,
}

impl<P: Protocol<SIM_CH>> SimBoard<P> {
    /// A board booted at `now_us`.
    pub fn new(mut make: ProtocolFactory<P>, config: BoardConfig, physics: Physics, now_us: u64) -> Self {
        let core = BoardCore::new(make(1, now_us / 1_000), config);
        let mut board = SimBoard {
            make,
            config,
            core,
            physics,
            boots: 1,
            deadline_ms: None,
            last_outputs: LockSet::EMPTY,
            edges: vec![0; SIM_CH],
            now_us,
            gap_deadline_us: None,
        };
        board.advance(now_us);
        board
    }

    /// The firmware core.
    pub fn core(&self) -> &BoardCore<P, SIM_CH> {
        &self.core
    }
}

impl<P: Protocol<SIM_CH>> SimNode for SimBoard<P> {
    fn dialect(&self) -> &'static str {
        <P::Dialect as Dialect>::NAME
    }

    fn address(&self) -> u8 {
        self.core.hardware().address()
    }

    fn receive(&mut self, bytes: &[u8], now_us: u64) {
        self.core.receive(bytes, now_us / 1_000);
        // Polling after every byte costs a pass over all channels: a request that did something
        // (a reply, an output) is polled at once; a partial frame at its idle-gap deadline.
        if self.core.outputs() != self.last_outputs || !self.core.transmit().is_empty() {
            self.advance(now_us);
        } else if self.core.receiving() {
            self.gap_deadline_us = Some(now_us + u64::from(self.core.idle_gap_ms()) * 1_000 + 1_000);
        }
    }

    fn advance(&mut self, now_us: u64) {
        self.now_us = now_us;
        self.gap_deadline_us = None;
        self.physics.advance(now_us);
        let occupied = self.config.has_presence.then(|| self.physics.occupied());
        self.deadline_ms = self.core.poll(self.physics.doors_open(), occupied, now_us / 1_000);
        let outputs = self.core.outputs();
        for lock in outputs.iter() {
            if !self.last_outputs.contains(lock)
                && let Some(count) = self.edges.get_mut(lock.index())
            {
                *count += 1;
            }
        }
        self.last_outputs = outputs;
        self.physics.on_outputs(outputs, now_us);
    }

    fn next_deadline_us(&self) -> Option<u64> {
        let core = self.deadline_ms.map(|ms| (ms * 1_000).max(self.now_us + 1));
        [core, self.physics.next_event_us(), self.gap_deadline_us].into_iter().flatten().min()
    }

    fn pending_tx(&self) -> (&[u8], u64) {
        (self.core.transmit(), self.core.tx_ready_ms() * 1_000)
    }

    fn consume_tx(&mut self, sent: usize) {
        self.core.consume_tx(sent);
    }

    fn reboot(&mut self, now_us: u64) {
        self.boots += 1;
        // The address is kept across reboots (flash), whatever else is lost.
        self.config.address = self.core.hardware().address();
        let protocol = (self.make)(self.boots, now_us / 1_000);
        self.core = BoardCore::new(protocol, self.config);
        self.last_outputs = LockSet::EMPTY;
        self.physics.on_outputs(LockSet::EMPTY, now_us);
        self.advance(now_us);
    }

    fn physics(&self) -> &Physics {
        &self.physics
    }

    fn physics_mut(&mut self) -> &mut Physics {
        &mut self.physics
    }

    fn outputs(&self) -> LockSet {
        self.core.outputs()
    }

    fn pulses(&self) -> u64 {
        self.edges.iter().sum()
    }

    fn pulses_of(&self, lock: lockproto::Lock) -> u64 {
        self.edges.get(lock.index()).copied().unwrap_or(0)
    }

    fn boots(&self) -> u32 {
        self.boots
    }
}
