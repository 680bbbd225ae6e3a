//! Counters of needs-attention reasons, raised and withdrawn, one per reason.

use super::exposition::{Family, Kind, Value};
use crate::order::AttentionReason;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// How often each needs-attention reason was raised on an order, and withdrawn because
/// what it reported resolved by itself (a stalled compensation that finally succeeded).
#[derive(Default)]
pub struct AttentionMetrics {
    raised: [AtomicU64; AttentionReason::ALL.len()],
    settled: [AtomicU64; AttentionReason::ALL.len()],
}

impl AttentionMetrics {
    /// Counts `reason` raised on an order.
    pub fn raised(&self, reason: AttentionReason) {
        self.raised[reason as usize].fetch_add(1, Relaxed);
    }

    /// Counts `reason` withdrawn from an order.
    pub fn settled(&self, reason: AttentionReason) {
        self.settled[reason as usize].fetch_add(1, Relaxed);
    }

    /// How often `reason` was raised.
    pub fn raised_count(&self, reason: AttentionReason) -> u64 {
        self.raised[reason as usize].load(Relaxed)
    }

    /// How often `reason` was withdrawn.
    pub fn settled_count(&self, reason: AttentionReason) -> u64 {
        self.settled[reason as usize].load(Relaxed)
    }

    /// `simgw_order_attention_total{reason, event}`, a series per reason and event.
    pub fn family(&self) -> Family {
        let mut f = Family::new(
            "simgw_order_attention",
            "Needs-attention reasons raised on orders, and settled when what they reported resolved by itself.",
            Kind::Counter,
        );
        for reason in AttentionReason::ALL {
            for (event, n) in [
                ("raised", self.raised_count(reason)),
                ("settled", self.settled_count(reason)),
            ] {
                f.push(
                    &[("reason", reason.as_str()), ("event", event)],
                    Value::Count(n),
                );
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_counters() {
        let m = AttentionMetrics::default();
        m.raised(AttentionReason::HlrCleanupStalled);
        m.raised(AttentionReason::HlrCleanupStalled);
        m.settled(AttentionReason::HlrCleanupStalled);
        m.raised(AttentionReason::EsimReleaseUnverified);
        let s = super::super::exposition::encode(
            super::super::exposition::Format::Prometheus,
            vec![m.family()],
        );
        assert!(
            s.contains(
                "simgw_order_attention_total{reason=\"hlr_cleanup_stalled\",event=\"raised\"} 2\n"
            ),
            "{s}"
        );
        assert!(
            s.contains(
                "simgw_order_attention_total{reason=\"hlr_cleanup_stalled\",event=\"settled\"} 1\n"
            ),
            "{s}"
        );
        assert!(s.contains("simgw_order_attention_total{reason=\"esim_release_unverified\",event=\"raised\"} 1\n"), "{s}");
        assert!(
            s.contains(
                "simgw_order_attention_total{reason=\"hlr_foreign_data\",event=\"raised\"} 0\n"
            ),
            "{s}"
        );
        // Discriminants index the arrays: every reason in ALL is at its own index.
        for (i, r) in AttentionReason::ALL.into_iter().enumerate() {
            assert_eq!(r as usize, i);
        }
    }
}
