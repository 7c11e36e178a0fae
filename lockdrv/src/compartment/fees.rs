//! Storage fees: a pure function of deposit time, now, recorded pauses and a schedule
//! (invariant I8; Hive Box's "12 h free, then per 12 h, capped" rule, domain.md §2.3).

use super::types::Ms;

/// A fee schedule. Amounts are in the smallest currency unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FeeSchedule {
    /// Free storage after deposit.
    pub free_ms: Ms,
    /// Length of one charged period; every started period is charged.
    pub period_ms: Ms,
    /// Price per started period.
    pub price_per_period: u32,
    /// Highest total fee.
    pub cap: u32,
}

impl Default for FeeSchedule {
    /// Hive Box (domain.md §2.3): 12 h free, 0.5 CNY per started 12 h, capped at 3 CNY (in fen).
    fn default() -> Self {
        Self { free_ms: 12 * 3_600_000, period_ms: 12 * 3_600_000, price_per_period: 50, cap: 300 }
    }
}

/// The fee owed at `now` for a parcel deposited at `deposited_at`, with `paused` ms of recorded
/// unavailability (out of service, board offline, power cut) not charged.
///
/// Monotone non-decreasing in `now`, never above `cap`, zero inside the free period. A zero
/// `period_ms` charges nothing (a schedule without periods is free).
#[must_use]
pub fn fee(schedule: &FeeSchedule, deposited_at: Ms, paused: Ms, now: Ms) -> u32 {
    let stored = now.saturating_sub(deposited_at).saturating_sub(paused);
    if stored <= schedule.free_ms || schedule.period_ms == 0 {
        return 0;
    }
    let charged = stored - schedule.free_ms;
    let periods = charged.div_ceil(schedule.period_ms);
    let total = periods.saturating_mul(u64::from(schedule.price_per_period));
    u32::try_from(total).unwrap_or(u32::MAX).min(schedule.cap)
}
