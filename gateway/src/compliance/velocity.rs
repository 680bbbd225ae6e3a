//! Velocity windows as pure arithmetic. Each window slides over fixed buckets (a day of
//! hourly buckets, an hour of 5-minute buckets, 30 daily buckets, a burst of 1-minute
//! buckets): the store keeps one counter per (subject, bucket), reads the window's range
//! in the create commit, and increments the current bucket when the order is allowed.
//! Buckets older than the range can be purged. Bucket ids are `now_ms / bucket_ms`.

use super::channel::{ChannelRef, Member};
use super::id_hash::IdHash;
use super::policy::{DAY_MS, HOUR_MS, Policy};

/// A velocity window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// Activations per store in 24 h (hourly buckets).
    StorePerDay,
    /// Activations per clerk in an hour (5-minute buckets).
    ClerkPerHour,
    /// Activations per device in an hour (5-minute buckets).
    DevicePerHour,
    /// Activations per ID in 30 days (daily buckets).
    IdPer30Days,
    /// The store-burst risk rule's window (1-minute buckets): counted, never refused.
    StoreBurst,
}

/// How a window is cut: `buckets` buckets of `bucket_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSpec {
    /// One bucket's length.
    pub bucket_ms: u64,
    /// Buckets in the window (at least 1).
    pub buckets: u32,
}

impl Window {
    /// Stable snake_case name (the problem's `window`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StorePerDay => "store_per_day",
            Self::ClerkPerHour => "clerk_per_hour",
            Self::DevicePerHour => "device_per_hour",
            Self::IdPer30Days => "id_per_30_days",
            Self::StoreBurst => "store_burst",
        }
    }

    /// The window's cut (the burst's length is the policy's).
    pub fn spec(self, policy: &Policy) -> WindowSpec {
        let five_min = 5 * 60_000;
        match self {
            Self::StorePerDay => WindowSpec {
                bucket_ms: HOUR_MS,
                buckets: 24,
            },
            Self::ClerkPerHour | Self::DevicePerHour => WindowSpec {
                bucket_ms: five_min,
                buckets: 12,
            },
            Self::IdPer30Days => WindowSpec {
                bucket_ms: DAY_MS,
                buckets: 30,
            },
            Self::StoreBurst => WindowSpec {
                bucket_ms: 60_000,
                buckets: policy.risk.store_burst.map_or(1, |b| b.minutes.max(1)),
            },
        }
    }

    /// The policy's limit for this window (`None`: not limited; the burst never is).
    pub fn limit(self, policy: &Policy) -> Option<u32> {
        let v = &policy.velocity;
        match self {
            Self::StorePerDay => v.store_per_day,
            Self::ClerkPerHour => v.clerk_per_hour,
            Self::DevicePerHour => v.device_per_hour,
            Self::IdPer30Days => v.id_per_30_days,
            Self::StoreBurst => None,
        }
    }

    /// The channel member a breach of this window freezes, if any.
    pub fn freezes(self) -> Option<Member> {
        match self {
            Self::StorePerDay => Some(Member::Store),
            Self::ClerkPerHour => Some(Member::Clerk),
            Self::DevicePerHour => Some(Member::Terminal),
            Self::IdPer30Days | Self::StoreBurst => None,
        }
    }
}

/// One counter range to read (and, when allowed, to increment at `current`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VelocityKey {
    /// The window.
    pub window: Window,
    /// What is counted: `store:<store>`, `clerk:<store>/<clerk>`, `terminal:<store>/<id>`,
    /// `reader:<serial>` or `id:<id hash>`. The store scopes the channel subjects to the
    /// tenant and the ID subject to the enterprise.
    pub subject: String,
    /// The oldest bucket in the window.
    pub first: u64,
    /// The bucket `now` falls in (the one to increment).
    pub current: u64,
}

/// The counters an order's create commit reads: one key per window the policy limits
/// (or, for the burst, watches) and the order has a subject for.
pub fn keys(
    policy: &Policy,
    channel: &ChannelRef,
    reader: Option<&str>,
    id_hash: Option<&IdHash>,
    now_ms: u64,
) -> Vec<VelocityKey> {
    let mut subjects: Vec<(Window, String)> = Vec::new();
    if let ChannelRef::Store(s) = channel {
        subjects.push((Window::StorePerDay, format!("store:{}", s.store)));
        if let Some(c) = &s.clerk {
            subjects.push((Window::ClerkPerHour, format!("clerk:{}/{c}", s.store)));
        }
        match channel.device(reader) {
            Some((Member::Terminal, t)) => {
                subjects.push((Window::DevicePerHour, format!("terminal:{}/{t}", s.store)));
            }
            Some((_, r)) => subjects.push((Window::DevicePerHour, format!("reader:{r}"))),
            None => {}
        }
        if policy.risk.store_burst.is_some() {
            subjects.push((Window::StoreBurst, format!("store:{}", s.store)));
        }
    }
    if let Some(h) = id_hash {
        subjects.push((Window::IdPer30Days, format!("id:{h}")));
    }
    subjects
        .into_iter()
        .filter(|(w, _)| *w == Window::StoreBurst || w.limit(policy).is_some())
        .map(|(window, subject)| {
            let spec = window.spec(policy);
            let current = bucket(spec, now_ms);
            VelocityKey {
                window,
                subject,
                first: current.saturating_sub(u64::from(spec.buckets.max(1)) - 1),
                current,
            }
        })
        .collect()
}

/// The bucket `now_ms` falls in.
pub fn bucket(spec: WindowSpec, now_ms: u64) -> u64 {
    now_ms / spec.bucket_ms.max(1)
}

/// The count in the window: the buckets from `first` to `current` (others ignored).
pub fn total(key: &VelocityKey, buckets: &[(u64, u32)]) -> u64 {
    buckets
        .iter()
        .filter(|(b, _)| (key.first..=key.current).contains(b))
        .map(|(_, n)| u64::from(*n))
        .sum()
}

/// Milliseconds from `now_ms` until the window's count drops below `limit`, as the oldest
/// buckets slide out (0 if it is below already). New activations are not foreseen: a
/// retry at that time can still be refused if others came in meanwhile.
pub fn retry_after_ms(
    spec: WindowSpec,
    key: &VelocityKey,
    limit: u32,
    buckets: &[(u64, u32)],
    now_ms: u64,
) -> u64 {
    let mut live: Vec<(u64, u64)> = buckets
        .iter()
        .filter(|(b, _)| (key.first..=key.current).contains(b))
        .map(|(b, n)| (*b, u64::from(*n)))
        .collect();
    live.sort_unstable();
    let mut sum: u64 = live.iter().map(|(_, n)| n).sum();
    if sum < u64::from(limit) {
        return 0;
    }
    for (b, n) in live {
        sum -= n;
        if sum < u64::from(limit) {
            // Bucket `b` leaves the window when the current bucket is `b + buckets`.
            let leaves_at = b
                .saturating_add(u64::from(spec.buckets.max(1)))
                .saturating_mul(spec.bucket_ms.max(1));
            return leaves_at.saturating_sub(now_ms).max(1);
        }
    }
    // Unreachable with limit >= 1: every bucket gone leaves 0.
    u64::from(spec.buckets).saturating_mul(spec.bucket_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::channel::StoreChannel;
    use crate::compliance::markets::Market;

    fn store(clerk: Option<&str>, terminal: Option<&str>) -> ChannelRef {
        ChannelRef::Store(StoreChannel {
            store: "SZ-0042".into(),
            clerk: clerk.map(Into::into),
            terminal: terminal.map(Into::into),
        })
    }

    #[test]
    fn keys_for_every_limited_window() {
        let p = Policy::for_market(Market::Cn);
        let h =
            crate::compliance::IdHash::parse(&format!("pk-1:{}", "ab".repeat(32))).expect("hash");
        let now = 1_700_000_000_000;
        let ks = keys(
            &p,
            &store(Some("C1"), Some("T7")),
            Some("R-1"),
            Some(&h),
            now,
        );
        let got: Vec<_> = ks
            .iter()
            .map(|k| (k.window, k.subject.as_str(), k.current - k.first))
            .collect();
        assert_eq!(
            got,
            [
                (Window::StorePerDay, "store:SZ-0042", 23),
                (Window::ClerkPerHour, "clerk:SZ-0042/C1", 11),
                (Window::DevicePerHour, "terminal:SZ-0042/T7", 11),
                (Window::StoreBurst, "store:SZ-0042", 9),
                (Window::IdPer30Days, &format!("id:{h}"), 29),
            ]
        );
        assert_eq!(ks[0].current, now / HOUR_MS);
        let reader_only = keys(&p, &store(None, None), Some("R-1"), None, now);
        let got: Vec<_> = reader_only.iter().map(|k| k.subject.as_str()).collect();
        assert_eq!(got, ["store:SZ-0042", "reader:R-1", "store:SZ-0042"]);
        assert!(keys(&p, &ChannelRef::Online, None, None, now).is_empty());
        assert!(
            keys(
                &Policy::sandbox(),
                &store(Some("C1"), Some("T7")),
                None,
                Some(&h),
                now
            )
            .is_empty()
        );
    }

    #[test]
    fn retry_after_waits_for_the_oldest_buckets_to_leave() {
        let spec = WindowSpec {
            bucket_ms: 1000,
            buckets: 3,
        };
        let key = VelocityKey {
            window: Window::ClerkPerHour,
            subject: "x".into(),
            first: 8,
            current: 10,
        };
        let now = 10_500;
        // 2 in bucket 8, 1 in 9, 1 in 10; limit 4: at the limit.
        let b = [(8, 2), (9, 1), (10, 1), (3, 50)];
        assert_eq!(total(&key, &b), 4, "bucket 3 is outside the window");
        // Dropping bucket 8 (at 11_000) leaves 2 < 4.
        assert_eq!(retry_after_ms(spec, &key, 4, &b, now), 500);
        // Limit 2: bucket 8 and 9 must go (at 12_000).
        assert_eq!(retry_after_ms(spec, &key, 2, &b, now), 1500);
        // Limit 1: all three (at 13_000).
        assert_eq!(retry_after_ms(spec, &key, 1, &b, now), 2500);
        assert_eq!(retry_after_ms(spec, &key, 5, &b, now), 0, "below the limit");
        assert_eq!(retry_after_ms(spec, &key, 1, &[], now), 0);
    }

    #[test]
    fn early_buckets_do_not_underflow() {
        let p = Policy::for_market(Market::Cn);
        let ks = keys(&p, &store(Some("C1"), None), None, None, 0);
        assert!(ks.iter().all(|k| k.first == 0 && k.current == 0));
    }

    proptest::proptest! {
        /// Waiting `retry_after` with no new activations brings the count below the limit,
        /// and one millisecond less does not.
        #[test]
        fn retry_after_is_exact(
            counts in proptest::collection::vec(0u32..5, 1..12),
            limit in 1u32..20,
            offset in 0u64..1000,
        ) {
            let spec = WindowSpec { bucket_ms: 1000, buckets: 12 };
            let now = 100_000 + offset;
            let current = bucket(spec, now);
            let buckets: Vec<(u64, u32)> = counts.iter().enumerate()
                .map(|(i, n)| (current - i as u64, *n)).collect();
            let key_at = |t: u64| {
                let c = bucket(spec, t);
                VelocityKey { window: Window::ClerkPerHour, subject: String::new(), first: c - 11, current: c }
            };
            let wait = retry_after_ms(spec, &key_at(now), limit, &buckets, now);
            let after = now + wait;
            proptest::prop_assert!(total(&key_at(after), &buckets) < u64::from(limit));
            if wait > 0 {
                proptest::prop_assert!(total(&key_at(after - 1), &buckets) >= u64::from(limit));
            }
        }
    }
}
