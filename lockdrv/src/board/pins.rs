//! Thin GPIO glue: the board core on `embedded-hal` pins.

use embedded_hal::digital::{InputPin, OutputPin};
use lockproto::{Lock, LockSet};

use super::core::BoardCore;
use super::hardware::BoardConfig;
use super::protocol::Protocol;

/// A pin failed. The other pins were still driven (an output that fails never keeps the rest
/// energised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError<O, I> {
    /// Writing a lock output failed.
    #[error("lock output {lock}: {error:?}")]
    Output {
        /// The lock (1-based).
        lock: u8,
        /// The pin's error.
        error: O,
    },
    /// Reading a door or presence input failed.
    #[error("input of lock {lock}: {error:?}")]
    Input {
        /// The lock (1-based).
        lock: u8,
        /// The pin's error.
        error: I,
    },
}

/// The pins of a board: one lock output and one door input per channel, and optionally one
/// presence input per channel. Inputs read high = active unless `active_low` says otherwise.
pub struct BoardPins<O, I, const CH: usize> {
    /// Lock outputs (high = energised).
    pub locks: [O; CH],
    /// Door switches.
    pub doors: [I; CH],
    /// Presence sensors, if fitted.
    pub presence: Option<[I; CH]>,
    /// Inputs read low when active (pull-up wiring).
    pub active_low: bool,
}

/// A board firmware on real pins: [`BoardCore`] plus GPIO.
pub struct Board<P: Protocol<CH>, O, I, const CH: usize> {
    core: BoardCore<P, CH>,
    pins: BoardPins<O, I, CH>,
}

impl<P, O, I, const CH: usize> Board<P, O, I, CH>
where
    P: Protocol<CH>,
    O: OutputPin,
    I: InputPin,
{
    /// Boots the board: drives every lock output low first.
    ///
    /// # Errors
    /// [`PinError::Output`] when an output could not be switched off (the others were).
    pub fn new(
        protocol: P,
        config: BoardConfig,
        pins: BoardPins<O, I, CH>,
    ) -> Result<Self, PinError<O::Error, I::Error>> {
        let mut board = Board { core: BoardCore::new(protocol, config), pins };
        board.write_outputs(LockSet::EMPTY)?;
        Ok(board)
    }

    /// Reads the inputs, advances the core and drives the outputs; returns the next deadline.
    ///
    /// # Errors
    /// The first pin that failed (every other pin was still handled; on an input failure the
    /// outputs are switched off, since the board no longer knows its doors).
    pub fn poll(&mut self, now_ms: u64) -> Result<Option<u64>, PinError<O::Error, I::Error>> {
        let doors = match read_all(&mut self.pins.doors, self.pins.active_low) {
            Ok(doors) => doors,
            Err(error) => {
                self.core.hardware_mut().all_off();
                let _ = self.write_outputs(LockSet::EMPTY);
                return Err(error);
            }
        };
        let occupied = match self.pins.presence.as_mut().map(|pins| read_all(pins, self.pins.active_low)) {
            Some(Err(error)) => return Err(error),
            Some(Ok(set)) => Some(set),
            None => None,
        };
        let deadline = self.core.poll(doors, occupied, now_ms);
        self.write_outputs(self.core.outputs())?;
        Ok(deadline)
    }

    /// Bytes from the UART.
    pub fn receive(&mut self, bytes: &[u8], now_ms: u64) {
        self.core.receive(bytes, now_ms);
    }

    /// The core (transmit buffer, state).
    pub fn core(&self) -> &BoardCore<P, CH> {
        &self.core
    }

    /// The core, mutable (to consume transmitted bytes).
    pub fn core_mut(&mut self) -> &mut BoardCore<P, CH> {
        &mut self.core
    }

    /// The pins back.
    pub fn release(self) -> BoardPins<O, I, CH> {
        self.pins
    }

    fn write_outputs(&mut self, on: LockSet) -> Result<(), PinError<O::Error, I::Error>> {
        let mut first = None;
        for (index, pin) in self.pins.locks.iter_mut().enumerate() {
            let lock = Lock::from_index(index);
            let energise = lock.is_some_and(|lock| on.contains(lock));
            let result = if energise { pin.set_high() } else { pin.set_low() };
            if let Err(error) = result {
                first.get_or_insert(PinError::Output { lock: lock.map_or(0, Lock::get), error });
            }
        }
        first.map_or(Ok(()), Err)
    }
}

fn read_all<O, I: InputPin, const CH: usize>(
    pins: &mut [I; CH],
    active_low: bool,
) -> Result<LockSet, PinError<O, I::Error>> {
    let mut set = LockSet::EMPTY;
    for (index, pin) in pins.iter_mut().enumerate() {
        let Some(lock) = Lock::from_index(index) else { break };
        let high = pin.is_high().map_err(|error| PinError::Input { lock: lock.get(), error })?;
        set.set(lock, high != active_low);
    }
    Ok(set)
}
