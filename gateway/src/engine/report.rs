//! What an applied answer changed about an order, told to the log and the metrics once it
//! is durable: a new failure (WARN with its code), needs-attention reasons raised (WARN
//! with the real cause) or settled (INFO), and the terminal outcome.

use crate::metrics::Metrics;
use crate::order::Effect;
use crate::order::{AttentionReason, Order};
use std::sync::atomic::Ordering::Relaxed;

/// The part of an order the report compares, taken before an answer is applied.
pub(super) struct Before {
    attention: Vec<AttentionReason>,
    failing: bool,
}

impl Before {
    /// Snapshots `o`.
    pub(super) fn of(o: &Order) -> Self {
        Self {
            attention: o.attention.clone(),
            failing: o.error.is_some(),
        }
    }

    /// The snapshot as plain parts (carried by the store's `Ended`).
    pub(super) fn parts(self) -> (Vec<AttentionReason>, bool) {
        (self.attention, self.failing)
    }

    /// A snapshot from its parts.
    pub(super) fn from_parts((attention, failing): (Vec<AttentionReason>, bool)) -> Self {
        Self { attention, failing }
    }
}

/// Logs and counts what changed between `before` and the now durable `next`.
pub(super) fn report(metrics: &Metrics, before: &Before, next: &Order, effect: &Effect) {
    let code = next.error.as_ref().map_or("", |e| e.code.as_str());
    if let (false, Some(e)) = (before.failing, &next.error) {
        tracing::warn!(order = %next.id, code = %e.code, status = %next.status.as_str(),
            detail = %e.detail, "order failed");
    }
    for reason in next
        .attention
        .iter()
        .filter(|r| !before.attention.contains(r))
    {
        metrics.attention.raised(*reason);
        tracing::warn!(order = %next.id, reason = %reason.as_str(), code = %code, status = %next.status.as_str(),
            "order needs attention: {}", reason.detail());
    }
    for reason in before
        .attention
        .iter()
        .filter(|r| !next.attention.contains(r))
    {
        metrics.attention.settled(*reason);
        tracing::info!(order = %next.id, reason = %reason.as_str(), status = %next.status.as_str(),
            "resolved by itself; no longer needs attention for this reason");
    }
    match effect {
        Effect::Activate => {
            metrics.orders_active.fetch_add(1, Relaxed);
        }
        Effect::Complete => {
            metrics.orders_completed.fetch_add(1, Relaxed);
            tracing::info!(order = %next.id, kind = %next.kind.as_str(), "lifecycle order completed");
        }
        Effect::Release => {
            metrics.orders_failed.fetch_add(1, Relaxed);
            if next.needs_attention {
                metrics.orders_needing_attention.fetch_add(1, Relaxed);
                let reasons: Vec<&str> = next.attention.iter().map(|r| r.as_str()).collect();
                tracing::warn!(order = %next.id, code = %code, reasons = ?reasons,
                    "order undone and failed; it still needs an operator's attention");
            } else {
                tracing::info!(order = %next.id, code = %code, "order undone and failed; inventory returned");
            }
        }
        Effect::None => {}
    }
}
