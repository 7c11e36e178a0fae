//! Property tests over long random runs (issue 4, verification (b)): every invariant after every
//! step, and the fee function's laws (I8).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod compartment_common;

use compartment_common::*;
use lockdrv::compartment::*;
use proptest::prelude::*;

fn step() -> impl Strategy<Value = Step> {
    let alphabet = alphabet();
    prop_oneof![
        8 => (0..alphabet.len()).prop_map(move |i| alphabet[i]),
        1 => (0u64..200_000_000).prop_map(Step::Wait),
        1 => (0u64..100_000).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn long_random_runs_keep_every_invariant(steps in proptest::collection::vec(step(), 1..300)) {
        let mut l = ready2();
        // `checked` panics with the step, states and actions on the first violation.
        for s in steps {
            let _ = checked(&mut l, s);
        }
    }

    #[test]
    fn fee_is_zero_when_free_capped_and_monotone(
        deposited in 0u64..1_000_000_000,
        paused in 0u64..100_000_000,
        a in 0u64..1_000_000_000,
        b in 0u64..1_000_000_000,
        free in 0u64..100_000_000,
        period in 0u64..100_000_000,
        price in 0u32..1_000,
        cap in 0u32..10_000,
    ) {
        let s = FeeSchedule { free_ms: free, period_ms: period, price_per_period: price, cap };
        let (t1, t2) = (deposited + a.min(b), deposited + a.max(b));
        prop_assert!(fee(&s, deposited, paused, t1) <= fee(&s, deposited, paused, t2));
        prop_assert!(fee(&s, deposited, paused, t2) <= cap);
        prop_assert_eq!(fee(&s, deposited, paused, deposited + free + paused), 0);
        // More recorded downtime never costs more.
        prop_assert!(fee(&s, deposited, paused + a, t2) <= fee(&s, deposited, paused, t2));
    }
}

/// Hive Box rule (reference/domain.md §2.3): 12 h free, 0.5 CNY per started 12 h, cap 3 CNY.
#[test]
fn fee_matches_the_hive_box_rule() {
    let s = FeeSchedule::default();
    let h = 3_600_000;
    assert_eq!(fee(&s, 0, 0, 12 * h), 0);
    assert_eq!(fee(&s, 0, 0, 12 * h + 1), 50);
    assert_eq!(fee(&s, 0, 0, 24 * h), 50);
    assert_eq!(fee(&s, 0, 0, 24 * h + 1), 100);
    assert_eq!(fee(&s, 0, 0, 1_000 * h), 300);
    assert_eq!(fee(&s, 0, 12 * h, 24 * h), 0, "a paused half-day is not charged");
}
