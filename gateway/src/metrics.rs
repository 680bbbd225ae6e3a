//! Prometheus metrics, hand-rolled on atomics: a handful of counters and fixed-bucket
//! histograms do not justify a metrics framework dependency.

mod attention;

pub use attention::AttentionMetrics;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Latency buckets in seconds, from 0.5 ms to 10 s.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A cumulative histogram of durations.
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; 14],
    inf: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        match BUCKETS.iter().position(|b| s <= *b) {
            Some(i) => self.counts[i].fetch_add(1, Relaxed),
            None => self.inf.fetch_add(1, Relaxed),
        };
        self.sum_us
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cum = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in BUCKETS.iter().zip(&self.counts) {
            cum += c.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cum}");
        }
        cum += self.inf.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cum}");
        let sum = self.sum_us.load(Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cum}");
    }
}

/// All gateway metrics.
#[derive(Default)]
pub struct Metrics {
    /// Orders created.
    pub orders_created: AtomicU64,
    /// Idempotent replays answered.
    pub orders_replayed: AtomicU64,
    /// Requests refused for a business reason (SIM not available, ...).
    pub orders_rejected: AtomicU64,
    /// Orders that reached `active`.
    pub orders_active: AtomicU64,
    /// Lifecycle orders that reached `completed`.
    pub orders_completed: AtomicU64,
    /// Orders that reached `failed`.
    pub orders_failed: AtomicU64,
    /// Orders that failed needing an operator's attention.
    pub orders_needing_attention: AtomicU64,
    /// Needs-attention reasons raised and settled, by reason.
    pub attention: AttentionMetrics,
    /// Orders resumed after a restart.
    pub orders_resumed: AtomicU64,
    /// Orders currently being driven by the engine.
    pub orders_inflight: AtomicU64,
    /// HLR calls that succeeded.
    pub hlr_ok: AtomicU64,
    /// HLR calls that failed retryably.
    pub hlr_retryable: AtomicU64,
    /// HLR calls that failed permanently.
    pub hlr_permanent: AtomicU64,
    /// HLR call latency.
    pub hlr_latency: Histogram,
    /// ES2+ calls that succeeded.
    pub es2_ok: AtomicU64,
    /// ES2+ calls that failed retryably (or ambiguously).
    pub es2_retryable: AtomicU64,
    /// ES2+ calls the SM-DP+ refused for good.
    pub es2_permanent: AtomicU64,
    /// ES2+ call latency.
    pub es2_latency: Histogram,
    /// HandleDownloadProgressInfo notifications by outcome.
    pub es2_notifications: AtomicU64,
    /// Notifications that were duplicates.
    pub es2_notifications_duplicate: AtomicU64,
    /// Notifications refused (unparseable body).
    pub es2_notifications_rejected: AtomicU64,
    /// Durable store commits.
    pub store_commits: AtomicU64,
    /// Operations folded into those commits.
    pub store_ops: AtomicU64,
    /// Commit latency (including fsync).
    pub store_commit_latency: Histogram,
    /// Transactions run again after a conflict, and given up (the PostgreSQL store).
    pub store_conflicts: std::sync::Arc<StoreConflicts>,
    /// Northbound HTTP requests by class.
    pub http_2xx: AtomicU64,
    /// 4xx answers.
    pub http_4xx: AtomicU64,
    /// 5xx answers.
    pub http_5xx: AtomicU64,
    /// POST /v1/activations latency.
    pub activation_post_latency: Histogram,
    /// Orders accepted and not yet finished (admission control reads and bounds it).
    pub backlog: crate::admission::Backlog,
}

/// The PostgreSQL store's transaction runner's counts (`store/postgres/retry.rs`).
#[derive(Debug, Default)]
pub struct StoreConflicts {
    /// Attempts rolled back on a serialization failure or deadlock and run again.
    pub retried: AtomicU64,
    /// Transactions given up after `max_attempts` conflicts.
    pub gave_up: AtomicU64,
}

impl Metrics {
    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let c = |o: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(
                o,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Relaxed)
            );
        };
        let _ = writeln!(
            o,
            "# HELP simgw_orders_total Orders (activations and lifecycle orders) by outcome.\n# TYPE simgw_orders_total counter"
        );
        for (k, v) in [
            ("created", &self.orders_created),
            ("replayed", &self.orders_replayed),
            ("rejected", &self.orders_rejected),
            ("active", &self.orders_active),
            ("completed", &self.orders_completed),
            ("failed", &self.orders_failed),
            ("resumed", &self.orders_resumed),
            ("needs_attention", &self.orders_needing_attention),
        ] {
            let _ = writeln!(o, "simgw_orders_total{{event=\"{k}\"}} {}", v.load(Relaxed));
        }
        self.attention.render(&mut o);
        let _ = writeln!(
            o,
            "# HELP simgw_orders_inflight Orders being driven now.\n# TYPE simgw_orders_inflight gauge\nsimgw_orders_inflight {}",
            self.orders_inflight.load(Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP simgw_hlr_calls_total HLR calls by result.\n# TYPE simgw_hlr_calls_total counter"
        );
        for (k, v) in [
            ("ok", &self.hlr_ok),
            ("retryable", &self.hlr_retryable),
            ("permanent", &self.hlr_permanent),
        ] {
            let _ = writeln!(
                o,
                "simgw_hlr_calls_total{{result=\"{k}\"}} {}",
                v.load(Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "# HELP simgw_hlr_call_seconds HLR call latency.\n# TYPE simgw_hlr_call_seconds histogram"
        );
        self.hlr_latency
            .render(&mut o, "simgw_hlr_call_seconds", "");
        let _ = writeln!(
            o,
            "# HELP simgw_es2_calls_total ES2+ calls to the SM-DP+ by result.\n# TYPE simgw_es2_calls_total counter"
        );
        for (k, v) in [
            ("ok", &self.es2_ok),
            ("retryable", &self.es2_retryable),
            ("permanent", &self.es2_permanent),
        ] {
            let _ = writeln!(
                o,
                "simgw_es2_calls_total{{result=\"{k}\"}} {}",
                v.load(Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "# HELP simgw_es2_call_seconds ES2+ call latency.\n# TYPE simgw_es2_call_seconds histogram"
        );
        self.es2_latency
            .render(&mut o, "simgw_es2_call_seconds", "");
        let _ = writeln!(
            o,
            "# HELP simgw_es2_notifications_total HandleDownloadProgressInfo received, by outcome.\n# TYPE simgw_es2_notifications_total counter"
        );
        for (k, v) in [
            ("recorded", &self.es2_notifications),
            ("duplicate", &self.es2_notifications_duplicate),
            ("rejected", &self.es2_notifications_rejected),
        ] {
            let _ = writeln!(
                o,
                "simgw_es2_notifications_total{{outcome=\"{k}\"}} {}",
                v.load(Relaxed)
            );
        }
        c(
            &mut o,
            "simgw_store_commits_total",
            "Durable (fsync'd) store commits.",
            &self.store_commits,
        );
        c(
            &mut o,
            "simgw_store_ops_total",
            "Operations folded into durable commits (group commit).",
            &self.store_ops,
        );
        c(
            &mut o,
            "simgw_store_conflict_retries_total",
            "Store transactions rolled back on a serialization conflict or deadlock and run again (PostgreSQL).",
            &self.store_conflicts.retried,
        );
        c(
            &mut o,
            "simgw_store_conflict_gave_up_total",
            "Store transactions given up after the retry budget of conflicts, answered as store unavailable (PostgreSQL).",
            &self.store_conflicts.gave_up,
        );
        let _ = writeln!(
            o,
            "# HELP simgw_store_commit_seconds Commit latency including fsync.\n# TYPE simgw_store_commit_seconds histogram"
        );
        self.store_commit_latency
            .render(&mut o, "simgw_store_commit_seconds", "");
        let _ = writeln!(
            o,
            "# HELP simgw_http_responses_total Northbound responses by status class.\n# TYPE simgw_http_responses_total counter"
        );
        for (k, v) in [
            ("2xx", &self.http_2xx),
            ("4xx", &self.http_4xx),
            ("5xx", &self.http_5xx),
        ] {
            let _ = writeln!(
                o,
                "simgw_http_responses_total{{class=\"{k}\"}} {}",
                v.load(Relaxed)
            );
        }
        let _ = writeln!(
            o,
            "# HELP simgw_activation_post_seconds Latency of POST /v1/activations.\n# TYPE simgw_activation_post_seconds histogram"
        );
        self.activation_post_latency
            .render(&mut o, "simgw_activation_post_seconds", "");
        render_backlog(&mut o, &self.backlog.snapshot());
        o
    }
}

/// The admission-control gauges: backlog by tenant and overall, completion rate, projected
/// wait (`+Inf` while orders wait and none finishes), and refusals by bound.
fn render_backlog(o: &mut String, b: &crate::admission::Snapshot) {
    let _ = writeln!(
        o,
        "# HELP simgw_backlog_orders Orders accepted and not yet active or failed, by tenant.\n# TYPE simgw_backlog_orders gauge"
    );
    for (tenant, n) in &b.tenants {
        let _ = writeln!(o, "simgw_backlog_orders{{tenant=\"{tenant}\"}} {n}");
    }
    let wait = b
        .projected_wait_s()
        .map_or_else(|| "+Inf".to_owned(), |w| w.to_string());
    let _ = writeln!(
        o,
        "# HELP simgw_backlog_orders_overall Orders accepted and not yet active or failed, all tenants.\n# TYPE simgw_backlog_orders_overall gauge\nsimgw_backlog_orders_overall {}\n\
         # HELP simgw_order_completion_rate Orders finished per second (average over about a minute of busy time).\n# TYPE simgw_order_completion_rate gauge\nsimgw_order_completion_rate {}\n\
         # HELP simgw_backlog_projected_wait_seconds Time the backlog needs to drain at the completion rate.\n# TYPE simgw_backlog_projected_wait_seconds gauge\nsimgw_backlog_projected_wait_seconds {wait}\n\
         # HELP simgw_admission_refused_total Activations refused with backlog_full, by the bound reached.\n# TYPE simgw_admission_refused_total counter\n\
         simgw_admission_refused_total{{bound=\"overall\"}} {}\nsimgw_admission_refused_total{{bound=\"tenant\"}} {}",
        b.overall, b.completion_rate, b.refused_overall, b.refused_tenant
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(20));
        h.observe(Duration::from_secs(60));
        let mut s = String::new();
        h.render(&mut s, "x", "");
        assert!(s.contains("x_bucket{le=\"0.0005\"} 1\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"0.025\"} 2\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"10\"} 2\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"+Inf\"} 3\n"), "{s}");
        assert!(s.contains("x_count 3\n"), "{s}");
    }
}
