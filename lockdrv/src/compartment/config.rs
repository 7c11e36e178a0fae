//! Timing and policy parameters, with defaults taken from reference/domain.md §2.3 and §2.4.

use super::fees::FeeSchedule;
use super::types::Ms;

/// Parameters of the state machine. Every timeout is a value here, never a constant in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// Unlock pulse length (Open-Locker: 200 ms, domain.md §2.3).
    pub pulse_ms: Ms,
    /// Longest pulse any open may ask for (invariant I2).
    pub pulse_max_ms: Ms,
    /// How long after a pulse the door must be seen open (Harbor gateway: 20 s per attempt).
    pub open_detect_ms: Ms,
    /// Pulses per open when each was acknowledged but the door stayed shut (Harbor: 3 attempts).
    pub max_open_attempts: u8,
    /// How long a door may stay open in an authorised window (Packstation: 2 min).
    pub door_open_max_ms: Ms,
    /// Reservation lifetime (Harbor example: 300 s).
    pub reservation_ttl_ms: Ms,
    /// Pickup window after deposit (InPost: 48 h).
    pub pickup_window_ms: Ms,
    /// Re-open window after a pickup (eform UI timeout: 60 s).
    pub reopen_window_ms: Ms,
    /// Remote operator opens allowed per `remote_open_period_ms` (eform: 6 per minute per locker).
    pub remote_open_limit: u8,
    /// The rate limit's period.
    pub remote_open_period_ms: Ms,
    /// Storage fees.
    pub fees: FeeSchedule,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pulse_ms: 200,
            pulse_max_ms: 1_500,
            open_detect_ms: 20_000,
            max_open_attempts: 3,
            door_open_max_ms: 120_000,
            reservation_ttl_ms: 300_000,
            pickup_window_ms: 48 * 3_600_000,
            reopen_window_ms: 60_000,
            remote_open_limit: 6,
            remote_open_period_ms: 60_000,
            fees: FeeSchedule::default(),
        }
    }
}
