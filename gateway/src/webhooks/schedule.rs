//! The retry schedule of a delivery: immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h,
//! 10 h, 10 h and 10 h (about 38 hours of retries), each delay with ±20 % jitter so that
//! a receiver coming back is not hit by every queued delivery in the same second.

/// Delay before each attempt after the first, ms.
pub const DELAYS_MS: [u64; 8] = [
    5_000,
    5 * 60_000,
    30 * 60_000,
    2 * 3_600_000,
    5 * 3_600_000,
    10 * 3_600_000,
    10 * 3_600_000,
    10 * 3_600_000,
];

/// Attempts in one run of the schedule.
pub const ATTEMPTS: u32 = DELAYS_MS.len() as u32 + 1;

/// Jitter as a share of the delay: the delay is scaled by a factor in `[1 - J, 1 + J)`.
pub const JITTER: f64 = 0.2;

/// When to try again after attempt number `failed` (1-based) of the schedule failed at
/// `now_ms`; `None` once the schedule is spent. `unit` is uniform in `[0, 1)`.
pub fn retry_at(now_ms: u64, failed: u32, unit: f64) -> Option<u64> {
    let base = *DELAYS_MS.get(usize::try_from(failed).ok()?.checked_sub(1)?)?;
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0);
    Some(now_ms.saturating_add((base as f64 * factor) as u64))
}

/// A uniform value in `[0, 1)` from 53 random bits.
pub fn unit(random: u64) -> f64 {
    (random >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_grows_and_ends() {
        assert_eq!(ATTEMPTS, 9);
        assert_eq!(retry_at(1_000, 0, 0.5), None);
        let mut last = 0;
        for failed in 1..ATTEMPTS {
            let mid = retry_at(0, failed, 0.5).expect("in schedule");
            assert_eq!(mid, DELAYS_MS[failed as usize - 1]);
            assert!(mid >= last, "delays never shrink");
            last = mid;
        }
        assert_eq!(
            retry_at(0, ATTEMPTS, 0.5),
            None,
            "the ninth failure gives up"
        );
        let total: u64 = DELAYS_MS.iter().sum();
        assert!((37 * 3_600_000..39 * 3_600_000).contains(&total));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        for failed in 1..ATTEMPTS {
            let base = DELAYS_MS[failed as usize - 1] as f64;
            let lo = retry_at(0, failed, 0.0).expect("lo") as f64;
            let hi = retry_at(0, failed, 0.999_999).expect("hi") as f64;
            assert!((lo - base * (1.0 - JITTER)).abs() < 1.0);
            assert!(hi < base * (1.0 + JITTER) + 1.0 && hi > base);
        }
        for r in [0, 1, u64::MAX, 1 << 63] {
            let u = unit(r);
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }
}
