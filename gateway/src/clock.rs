//! Wall-clock time derived from tokio's clock, so a paused test clock also pauses
//! timestamps, retry deadlines and idempotency expiry.

use std::time::{SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Milliseconds since the Unix epoch, advanced by tokio's (pausable) clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base_unix_ms: u64,
    base: Instant,
}

impl Clock {
    /// Anchors tokio's monotonic clock to the system time once, at start.
    pub fn new() -> Self {
        let base_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self {
            base_unix_ms,
            base: Instant::now(),
        }
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.base_unix_ms.saturating_add(elapsed)
    }

    /// The tokio instant corresponding to a Unix-millisecond deadline (now if past).
    pub fn instant_at(&self, unix_ms: u64) -> Instant {
        let now_ms = self.now_ms();
        Instant::now() + std::time::Duration::from_millis(unix_ms.saturating_sub(now_ms))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// RFC 3339 UTC rendering of Unix milliseconds (civil-from-days, no date crate needed).
pub fn rfc3339(unix_ms: u64) -> String {
    let (y, [mo, d, h, m, s, ms]) = civil(unix_ms);
    let Ok(year @ 0..=9999) = u64::try_from(y) else {
        return format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z");
    };
    // Digit by digit rather than through `format!`, whose machinery was about a tenth of
    // what a port event's encoding cost the store's writer (each carries up to three
    // instants).
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let fields = [
        (0..4, year),
        (5..7, mo),
        (8..10, d),
        (11..13, h),
        (14..16, m),
        (17..19, s),
        (20..23, ms),
    ];
    for (range, mut v) in fields {
        for slot in out[range].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// The civil year, and month, day, hour, minute, second and millisecond, of Unix
/// milliseconds in UTC.
fn civil(unix_ms: u64) -> (i64, [u64; 6]) {
    let secs = unix_ms / 1000;
    let ms = unix_ms % 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    (y, [mo.unsigned_abs(), d.unsigned_abs(), h, m, s, ms])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_420_800_123), "2026-11-23T08:00:00.123Z");
        assert_eq!(rfc3339(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(253_402_300_800_000), "10000-01-01T00:00:00.000Z");
    }

    proptest::proptest! {
        /// Every instant renders as `format!` zero-pads its civil date and time (years
        /// up to about 11,500: past 9999 the rendering is `format!`'s own).
        #[test]
        fn rfc3339_is_the_civil_time_zero_padded(unix_ms in 0u64..=300_000_000_000_000) {
            let (y, [mo, d, h, m, s, ms]) = civil(unix_ms);
            let want = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z");
            proptest::prop_assert_eq!(rfc3339(unix_ms), want);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn paused_clock_drives_wall_time() {
        let c = Clock::new();
        let t0 = c.now_ms();
        tokio::time::advance(std::time::Duration::from_secs(3600)).await;
        assert_eq!(c.now_ms() - t0, 3_600_000);
    }
}
