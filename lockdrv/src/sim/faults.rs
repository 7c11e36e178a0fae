//! Seeded fault injection: what can go wrong on an RS-485 bus and on its boards.

use core::fmt;
use core::str::FromStr;

/// Probabilities of each fault, in parts per million, and their sizes.
///
/// Byte faults hit every byte on the wire independently (both directions for drop and
/// corrupt); reply faults are rolled once per reply a board is about to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultConfig {
    /// A byte is lost.
    pub drop_ppm: u32,
    /// A byte arrives with random bits flipped.
    pub corrupt_ppm: u32,
    /// A reply byte arrives `delay_us` late (and the rest of the reply with it).
    pub delay_ppm: u32,
    /// The delay of a delayed byte, µs.
    pub delay_us: u64,
    /// One to four garbage bytes follow a reply (late bytes, noise on an idle line).
    pub garbage_ppm: u32,
    /// The board goes offline instead of replying (it did execute the request), for
    /// `offline_us`.
    pub offline_ppm: u32,
    /// How long an offline board stays deaf, µs.
    pub offline_us: u64,
    /// The board reboots instead of replying: outputs off, RAM state lost.
    pub reboot_ppm: u32,
    /// The reply starts `slow_us` late.
    pub slow_ppm: u32,
    /// Extra latency of a slow reply, µs.
    pub slow_us: u64,
}

impl FaultConfig {
    /// No faults.
    pub const NONE: FaultConfig = FaultConfig {
        drop_ppm: 0,
        corrupt_ppm: 0,
        delay_ppm: 0,
        delay_us: 30_000,
        garbage_ppm: 0,
        offline_ppm: 0,
        offline_us: 2_000_000,
        reboot_ppm: 0,
        slow_ppm: 0,
        slow_us: 400_000,
    };

    /// Whether any fault can happen.
    pub fn any(&self) -> bool {
        self.drop_ppm
            | self.corrupt_ppm
            | self.delay_ppm
            | self.garbage_ppm
            | self.offline_ppm
            | self.reboot_ppm
            | self.slow_ppm
            != 0
    }
}

/// A `--faults` specification that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault spec {item:?}: {reason}")]
pub struct FaultSpecError {
    /// The offending item.
    pub item: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// `none`, or comma-separated `name=value` items: probabilities (0 to 1) `drop`, `corrupt`,
/// `delay`, `garbage`, `offline`, `reboot`, `slow`; durations in ms `delay-ms`, `offline-ms`,
/// `slow-ms`. Example: `drop=0.001,corrupt=0.001,slow=0.01,slow-ms=300`.
impl FromStr for FaultConfig {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<Self, FaultSpecError> {
        let mut config = FaultConfig::NONE;
        let spec = spec.trim();
        if spec.is_empty() || spec == "none" {
            return Ok(config);
        }
        for item in spec.split(',').map(str::trim) {
            let error = |reason| FaultSpecError { item: item.to_string(), reason };
            let (name, value) = item.split_once('=').ok_or(error("expected name=value"))?;
            let number: f64 = value.trim().parse().map_err(|_| error("the value is not a number"))?;
            let ppm = || {
                if (0.0..=1.0).contains(&number) {
                    Ok((number * 1e6).round() as u32)
                } else {
                    Err(error("a probability is between 0 and 1"))
                }
            };
            let us = || {
                if number >= 0.0 { Ok((number * 1_000.0).round() as u64) } else { Err(error("a duration is >= 0")) }
            };
            match name.trim() {
                "drop" => config.drop_ppm = ppm()?,
                "corrupt" => config.corrupt_ppm = ppm()?,
                "delay" => config.delay_ppm = ppm()?,
                "garbage" => config.garbage_ppm = ppm()?,
                "offline" => config.offline_ppm = ppm()?,
                "reboot" => config.reboot_ppm = ppm()?,
                "slow" => config.slow_ppm = ppm()?,
                "delay-ms" => config.delay_us = us()?,
                "offline-ms" => config.offline_us = us()?,
                "slow-ms" => config.slow_us = us()?,
                _ => return Err(error("unknown fault (drop, corrupt, delay, garbage, offline, reboot, slow, *-ms)")),
            }
        }
        Ok(config)
    }
}

impl fmt::Display for FaultConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.any() {
            return f.write_str("none");
        }
        let p = |ppm: u32| f64::from(ppm) / 1e6;
        write!(
            f,
            "drop={},corrupt={},delay={},garbage={},offline={},reboot={},slow={},delay-ms={},offline-ms={},slow-ms={}",
            p(self.drop_ppm),
            p(self.corrupt_ppm),
            p(self.delay_ppm),
            p(self.garbage_ppm),
            p(self.offline_ppm),
            p(self.reboot_ppm),
            p(self.slow_ppm),
            self.delay_us / 1_000,
            self.offline_us / 1_000,
            self.slow_us / 1_000
        )
    }
}

/// Counters of injected faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultStats {
    /// Bytes dropped.
    pub dropped: u64,
    /// Bytes corrupted.
    pub corrupted: u64,
    /// Bytes delayed.
    pub delayed: u64,
    /// Garbage bytes added.
    pub garbage: u64,
    /// Boards gone offline.
    pub offline: u64,
    /// Boards rebooted.
    pub reboots: u64,
    /// Slow replies.
    pub slow: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let config: FaultConfig = "drop=0.001, slow=0.5,slow-ms=300".parse().unwrap();
        assert_eq!(config.drop_ppm, 1_000);
        assert_eq!(config.slow_ppm, 500_000);
        assert_eq!(config.slow_us, 300_000);
        assert_eq!(config.to_string().parse::<FaultConfig>().unwrap(), config);
        assert!("drop=2".parse::<FaultConfig>().is_err());
        assert!("frobnicate=0.1".parse::<FaultConfig>().is_err());
        assert_eq!("none".parse::<FaultConfig>().unwrap(), FaultConfig::NONE);
    }
}
