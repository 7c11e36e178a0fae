//! The board's physical side as the protocols see it: lock outputs under a pulse budget,
//! debounced door and presence inputs, parameters; and the neutral command executor that every
//! dialect shares.

use lockproto::dialect::kerong_cu12;
use lockproto::{
    BoardInfo, BoardStatus, ChannelBits, Command, DeviceError, DeviceErrorKind, FeedbackPolarity, Lock, LockSet,
    LockState, Parameter, ParameterId, Response, Version,
};

use super::debounce::{DEFAULT_STABLE_MS, Debouncer, InputChanges};
use super::pulse::{DEFAULT_PULSE_MS, NoSuchLock, PulseChanges, PulseConfig, PulseOutcome, PulseScheduler};

/// Configuration of a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardConfig {
    /// The board's bus address (wire value of its dialect).
    pub address: u8,
    /// Lock channels in use (at most the core's `CH`).
    pub channels: u8,
    /// Whether presence sensors are fitted (status then reports them).
    pub has_presence: bool,
    /// Output limits.
    pub pulse: PulseConfig,
    /// Pulse length of an unlock that does not say one (vendor dialects), ms.
    pub unlock_ms: u32,
    /// How long an input must hold before it counts, ms.
    pub debounce_ms: u32,
    /// End a pulse as soon as its door is seen open (PROTOCOL.md §5.5 allows it): saves coil
    /// heat and power budget for the queued pulses.
    pub end_pulse_on_door_open: bool,
    /// How the lock feedback of vendor status replies is wired (installation configuration);
    /// the default is the Kerong CU12 document's "bit 1 = locked".
    pub feedback: FeedbackPolarity,
    /// Reported firmware version.
    pub firmware: Version,
    /// Reported hardware version.
    pub hardware: Version,
    /// The serial rate the board runs at (reported by parameter reads).
    pub baud: u32,
}

impl BoardConfig {
    /// Defaults for a board at `address` with `channels` locks.
    pub fn new(address: u8, channels: u8) -> Self {
        BoardConfig {
            address,
            channels,
            has_presence: false,
            pulse: PulseConfig::default(),
            unlock_ms: DEFAULT_PULSE_MS,
            debounce_ms: DEFAULT_STABLE_MS,
            end_pulse_on_door_open: true,
            feedback: FeedbackPolarity::default(),
            firmware: Version { major: 0, minor: 1 },
            hardware: Version { major: 1, minor: 0 },
            baud: kerong_cu12::DEFAULT_BAUD,
        }
    }
}

/// What changed in one [`Hardware::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changes {
    /// Doors: `rose` = opened, `fell` = closed.
    pub doors: InputChanges,
    /// Presence: `rose` = became occupied, `fell` = became empty.
    pub presence: InputChanges,
    /// Outputs switched on and off.
    pub pulses: PulseChanges,
    /// Pulses among `pulses.ended` cut short because their door opened.
    pub ended_by_door: LockSet,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.doors.is_empty() && self.presence.is_empty() && self.pulses == PulseChanges::default()
    }
}

/// Parameters a master may change at run time (RAM only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parameters {
    unlock_ms: u32,
    baud: u32,
    delayed_unlock_s: u16,
    push_door_wait_s: u16,
}

/// The lock outputs and inputs of a board with up to `CH` channels, sans-io.
#[derive(Debug, Clone)]
pub struct Hardware<const CH: usize> {
    config: BoardConfig,
    params: Parameters,
    pulses: PulseScheduler<CH>,
    doors: Debouncer<CH>,
    presence: Debouncer<CH>,
    /// Pulses requested since boot (for tests and the simulator's double-pulse check).
    pulse_count: u64,
}

impl<const CH: usize> Hardware<CH> {
    /// A board just booted: every output off, inputs unknown until the first sample.
    pub fn new(config: BoardConfig) -> Self {
        let channels = usize::from(config.channels).min(CH).min(128) as u8;
        let config = BoardConfig { channels, ..config };
        Hardware {
            params: Parameters {
                unlock_ms: config.unlock_ms,
                baud: config.baud,
                delayed_unlock_s: 0,
                push_door_wait_s: 0,
            },
            pulses: PulseScheduler::new(config.pulse, channels),
            doors: Debouncer::new(config.debounce_ms),
            presence: Debouncer::new(config.debounce_ms),
            config,
            pulse_count: 0,
        }
    }

    /// The configuration (channels clamped to `CH`).
    pub fn config(&self) -> &BoardConfig {
        &self.config
    }

    /// The board address.
    pub fn address(&self) -> u8 {
        self.config.address
    }

    /// Changes the board address (native address assignment).
    pub fn set_address(&mut self, address: u8) {
        self.config.address = address;
    }

    /// Lock channels.
    pub fn channels(&self) -> u8 {
        self.config.channels
    }

    /// Pulse length of an unlock that does not name one, ms.
    pub fn unlock_ms(&self) -> u32 {
        self.params.unlock_ms
    }

    /// Takes raw input readings (door open, and occupied if presence sensors are fitted) and
    /// advances the pulses; returns what changed and the next deadline.
    pub fn poll(&mut self, door_open: LockSet, occupied: Option<LockSet>, now_ms: u64) -> (Changes, Option<u64>) {
        let doors = self.doors.sample(door_open, now_ms);
        let presence = match occupied {
            Some(raw) if self.config.has_presence => self.presence.sample(raw, now_ms),
            _ => InputChanges::default(),
        };
        let cut = if self.config.end_pulse_on_door_open { self.pulses.end_early(doors.rose) } else { LockSet::EMPTY };
        // Ending early frees budget, so the scheduler may start queued pulses in the same poll.
        let (_, mut pulses) = self.pulses.poll_changes(now_ms);
        pulses.ended = pulses.ended.union(cut);
        (Changes { doors, presence, pulses, ended_by_door: cut }, self.next_deadline())
    }

    /// The earliest time the board must be polled again.
    pub fn next_deadline(&self) -> Option<u64> {
        [self.pulses.next_deadline(), self.doors.next_deadline(), self.presence.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Outputs that must be on now.
    pub fn outputs(&self) -> LockSet {
        self.pulses.outputs()
    }

    /// When the running pulse of `lock` ends, ms; `None` while its output is off.
    pub fn pulse_ends_at(&self, lock: Lock) -> Option<u64> {
        self.pulses.ends_at(lock)
    }

    /// Locks pulsing or queued.
    pub fn pulsing(&self) -> LockSet {
        self.pulses.active()
    }

    /// Doors open (debounced); empty before the first sample.
    pub fn doors_open(&self) -> LockSet {
        self.doors.state().unwrap_or_default()
    }

    /// Compartments occupied (debounced), `None` without presence sensors or before a sample.
    pub fn occupied(&self) -> Option<LockSet> {
        if self.config.has_presence { self.presence.state() } else { None }
    }

    /// Pulses started or queued since boot.
    pub fn pulse_count(&self) -> u64 {
        self.pulse_count
    }

    /// Limits of the outputs.
    pub fn pulse_config(&self) -> PulseConfig {
        self.pulses.config()
    }

    /// Changes the output limits (native `PulseMaxMs`, `MaxSimultaneous`).
    pub fn set_pulse_config(&mut self, config: PulseConfig) {
        self.pulses.set_config(config);
        self.params.unlock_ms = self.params.unlock_ms.min(config.max_on_ms);
    }

    /// The input hold time, ms.
    pub fn debounce_ms(&self) -> u32 {
        self.doors.stable_ms()
    }

    /// Changes the input hold time (native `DebounceMs`).
    pub fn set_debounce_ms(&mut self, ms: u32) {
        self.doors.set_stable_ms(ms);
        self.presence.set_stable_ms(ms);
    }

    /// The serial rate parameter, bit/s.
    pub fn baud(&self) -> u32 {
        self.params.baud
    }

    /// Changes the serial rate parameter (takes effect when the firmware applies it).
    pub fn set_baud(&mut self, baud: u32) {
        self.params.baud = baud;
    }

    /// Switches every output off at once.
    pub fn all_off(&mut self) {
        self.pulses.all_off();
    }

    /// Pulses `lock` for `ms` (clamped), or queues it.
    ///
    /// # Errors
    /// [`NoSuchLock`] for a lock above the channel count.
    pub fn pulse(&mut self, lock: Lock, ms: u32, now_ms: u64) -> Result<PulseOutcome, NoSuchLock> {
        let outcome = self.pulses.request(lock, ms, now_ms)?;
        if outcome != PulseOutcome::AlreadyActive {
            self.pulse_count += 1;
        }
        Ok(outcome)
    }

    /// Pulses every lock of `locks`, lowest first (the queue serialises them for the budget).
    ///
    /// # Errors
    /// [`NoSuchLock`] when a lock is above the channel count; then nothing is pulsed.
    pub fn pulse_many(&mut self, locks: LockSet, ms: u32, now_ms: u64) -> Result<LockSet, NoSuchLock> {
        if let Some(last) = locks.last()
            && last.get() > self.channels()
        {
            return Err(NoSuchLock { lock: last.get(), channels: self.channels() });
        }
        let mut accepted = LockSet::EMPTY;
        for lock in locks.iter() {
            if self.pulse(lock, ms, now_ms)? != PulseOutcome::AlreadyActive {
                accepted.insert(lock);
            }
        }
        Ok(accepted)
    }

    /// The status as the neutral model reports it: lock feedback (a lock reads unlocked while
    /// its door is open or its output is on) in the configured polarity, doors, presence.
    pub fn status(&self) -> BoardStatus {
        let all = LockSet::first(self.channels());
        let released = self.doors_open().union(self.outputs());
        let active = all
            .iter()
            .filter(|&lock| {
                let state = if released.contains(lock) { LockState::Unlocked } else { LockState::Locked };
                self.config.feedback.is_active(state)
            })
            .collect();
        BoardStatus {
            locks: ChannelBits { reported: all, active },
            doors: Some(ChannelBits::from_bitmap(self.channels(), self.doors_open())),
            presence: self.occupied().map(|occupied| ChannelBits::from_bitmap(self.channels(), occupied)),
        }
    }

    /// Carries out a neutral command and says what to answer.
    pub fn execute(&mut self, command: &Command, now_ms: u64) -> Response {
        let unlock_ms = self.params.unlock_ms;
        match *command {
            Command::Unlock(lock) => ack_or_invalid(self.pulse(lock, unlock_ms, now_ms).map(|_| ())),
            Command::UnlockMany(locks) => ack_or_invalid(self.pulse_many(locks, unlock_ms, now_ms).map(|_| ())),
            Command::UnlockAll => {
                let all = LockSet::first(self.channels());
                ack_or_invalid(self.pulse_many(all, unlock_ms, now_ms).map(|_| ()))
            }
            Command::QueryLock(lock) if lock.get() <= self.channels() => {
                let one: LockSet = [lock].into_iter().collect();
                let only = |bits: ChannelBits| ChannelBits { reported: one, active: bits.active.intersection(one) };
                let status = self.status();
                Response::Status(BoardStatus {
                    locks: only(status.locks),
                    doors: status.doors.map(only),
                    presence: status.presence.map(only),
                })
            }
            Command::QueryLock(_) => invalid(),
            Command::QueryAll => Response::Status(self.status()),
            Command::BoardInfo => Response::Info(BoardInfo {
                software: self.config.firmware,
                hardware: Some(self.config.hardware),
                channels: Some(self.channels()),
            }),
            Command::ReadParameter(id) => match id {
                ParameterId::UnlockTime => Response::Parameter(Parameter::UnlockTimeMs(self.params.unlock_ms)),
                ParameterId::BaudRate => Response::Parameter(Parameter::BaudRate(self.params.baud)),
                ParameterId::DelayedUnlock => {
                    Response::Parameter(Parameter::DelayedUnlockS(self.params.delayed_unlock_s))
                }
                ParameterId::PushDoorWait => {
                    Response::Parameter(Parameter::PushDoorWaitS(self.params.push_door_wait_s))
                }
                _ => unknown(),
            },
            Command::WriteParameter(parameter) => {
                match parameter {
                    // The stored value is clamped: the pulse bound holds whatever a master asks.
                    Parameter::UnlockTimeMs(ms) => self.params.unlock_ms = ms.min(self.pulses.config().max_on_ms),
                    Parameter::BaudRate(rate) => self.params.baud = rate,
                    Parameter::DelayedUnlockS(s) => self.params.delayed_unlock_s = s,
                    Parameter::PushDoorWaitS(s) => self.params.push_door_wait_s = s,
                    _ => return unknown(),
                }
                Response::Ack
            }
            Command::QueryAddress => Response::Address(self.address()),
            _ => unknown(),
        }
    }
}

fn ack_or_invalid(result: Result<(), NoSuchLock>) -> Response {
    match result {
        Ok(()) => Response::Ack,
        Err(_) => invalid(),
    }
}

/// Wire codes of the neutral refusals, where a dialect takes the code as given: 3 is native
/// `BadArgument` and Modbus "illegal data value", 1 is `UnknownCommand` in both (dialects with
/// their own codes, like the CU12, map the kind).
const CODE_INVALID_ARGUMENT: u8 = 3;
const CODE_UNKNOWN_COMMAND: u8 = 1;

fn invalid() -> Response {
    Response::DeviceError(DeviceError { code: CODE_INVALID_ARGUMENT, kind: DeviceErrorKind::InvalidArgument })
}

/// The refusal of a command the board does not carry out.
pub(crate) fn unknown() -> Response {
    Response::DeviceError(DeviceError { code: CODE_UNKNOWN_COMMAND, kind: DeviceErrorKind::UnknownCommand })
}
