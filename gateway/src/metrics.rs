//! The gateway's metrics: relaxed atomics on the order path, read into families at scrape
//! time and written by `prometheus-client` (`exposition.rs`).
//!
//! The latency histograms stay our own fixed-bucket atomics rather than the library's
//! `Histogram`, which takes a mutex on every observation: the HLR call, the group commit
//! and `POST /v1/activations` observe on the order path, which holds no lock for metrics.
//! The library still writes them (buckets, `+Inf`, `_sum`, `_count`) in both formats.

mod attention;
pub mod exposition;
pub mod inventory;
pub mod postgres;

pub use attention::AttentionMetrics;
use exposition::{Family, Format, Kind, Value};
pub use postgres::{GroupCounts, PgStats};
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

    /// The sum of every observation so far.
    pub fn sum(&self) -> Duration {
        Duration::from_micros(self.sum_us.load(Relaxed))
    }

    /// The histogram as a family of one series, read now. Each bucket and the sum are read
    /// apart, so a scrape during an observation may count it in one and not yet the other;
    /// `_count` is the buckets' total, so the page stays consistent with itself.
    fn family(&self, name: &'static str, help: &'static str) -> Family {
        let mut buckets: Vec<(f64, u64)> = BUCKETS
            .iter()
            .zip(&self.counts)
            .map(|(b, c)| (*b, c.load(Relaxed)))
            .collect();
        buckets.push((f64::INFINITY, self.inf.load(Relaxed)));
        let sum = self.sum_us.load(Relaxed) as f64 / 1e6;
        Family::new(name, help, Kind::Histogram).with(&[], Value::Histogram { buckets, sum })
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
    /// Identity verifier calls answered (a decision of any kind).
    pub identity_ok: AtomicU64,
    /// Identity verifier calls that failed retryably (unavailable, timed out).
    pub identity_retryable: AtomicU64,
    /// Identity verifier calls that failed for good (credentials, TLS, a broken answer).
    pub identity_permanent: AtomicU64,
    /// Identity verifier call latency.
    pub identity_latency: Histogram,
    /// What became of the verifications asked before a create commit.
    pub identity_before_create: BeforeCreateCounts,
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
    /// The PostgreSQL store's conflicts, pool waits and sequencer passes.
    pub postgres: std::sync::Arc<PgStats>,
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

impl Metrics {
    /// The process metrics in the Prometheus text format 0.0.4 (tests and tools; `GET
    /// /metrics` adds the inventory and negotiates the format).
    pub fn render(&self) -> String {
        exposition::encode(Format::Prometheus, self.families())
    }

    /// The process metrics as families, read now: a relaxed load of each atomic, so a
    /// scrape costs the order path nothing.
    pub fn families(&self) -> Vec<Family> {
        let n = |v: &AtomicU64| v.load(Relaxed);
        let mut o = vec![
            Family::counters(
                "simgw_orders",
                "Orders (activations and lifecycle orders) by outcome.",
                "event",
                [
                    ("created", n(&self.orders_created)),
                    ("replayed", n(&self.orders_replayed)),
                    ("rejected", n(&self.orders_rejected)),
                    ("active", n(&self.orders_active)),
                    ("completed", n(&self.orders_completed)),
                    ("failed", n(&self.orders_failed)),
                    ("resumed", n(&self.orders_resumed)),
                    ("needs_attention", n(&self.orders_needing_attention)),
                ],
            ),
            self.attention.family(),
            Family::new(
                "simgw_orders_inflight",
                "Orders being driven now.",
                Kind::Gauge,
            )
            .with(&[], Value::whole(n(&self.orders_inflight))),
            Family::counters(
                "simgw_hlr_calls",
                "HLR calls by result.",
                "result",
                [
                    ("ok", n(&self.hlr_ok)),
                    ("retryable", n(&self.hlr_retryable)),
                    ("permanent", n(&self.hlr_permanent)),
                ],
            ),
            self.hlr_latency
                .family("simgw_hlr_call_seconds", "HLR call latency."),
            Family::counters(
                "simgw_es2_calls",
                "ES2+ calls to the SM-DP+ by result.",
                "result",
                [
                    ("ok", n(&self.es2_ok)),
                    ("retryable", n(&self.es2_retryable)),
                    ("permanent", n(&self.es2_permanent)),
                ],
            ),
            self.es2_latency
                .family("simgw_es2_call_seconds", "ES2+ call latency."),
            Family::counters(
                "simgw_identity_calls",
                "Identity verifier calls by result (ok: answered with a decision).",
                "result",
                [
                    ("ok", n(&self.identity_ok)),
                    ("retryable", n(&self.identity_retryable)),
                    ("permanent", n(&self.identity_permanent)),
                ],
            ),
            self.identity_latency.family(
                "simgw_identity_call_seconds",
                "Identity verifier call latency.",
            ),
            self.identity_before_create.family(),
            Family::counters(
                "simgw_es2_notifications",
                "HandleDownloadProgressInfo received, by outcome.",
                "outcome",
                [
                    ("recorded", n(&self.es2_notifications)),
                    ("duplicate", n(&self.es2_notifications_duplicate)),
                    ("rejected", n(&self.es2_notifications_rejected)),
                ],
            ),
        ];
        for (name, help, v) in [
            (
                "simgw_store_commits",
                "Durable (fsync'd) store commits.",
                &self.store_commits,
            ),
            (
                "simgw_store_ops",
                "Operations folded into durable commits (group commit).",
                &self.store_ops,
            ),
        ] {
            o.push(Family::new(name, help, Kind::Counter).with(&[], Value::Count(n(v))));
        }
        o.push(self.store_commit_latency.family(
            "simgw_store_commit_seconds",
            "Commit latency including fsync.",
        ));
        o.extend(self.postgres.families());
        o.push(Family::counters(
            "simgw_http_responses",
            "Northbound responses by status class.",
            "class",
            [
                ("2xx", n(&self.http_2xx)),
                ("4xx", n(&self.http_4xx)),
                ("5xx", n(&self.http_5xx)),
            ],
        ));
        o.push(self.activation_post_latency.family(
            "simgw_activation_post_seconds",
            "Latency of POST /v1/activations.",
        ));
        o.extend(backlog_families(&self.backlog.snapshot()));
        o
    }
}

/// What became of an identity verification asked before a create commit
/// (`Engine::verify_before_create`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeforeCreate {
    /// A pass or a flag, recorded by the create commit.
    Recorded,
    /// A reject: left to the engine after the commit (the verifier answers its repeat).
    Rejected,
    /// The call failed: left to the engine after the commit.
    Failed,
    /// No answer within `[identity] before_create_wait_ms`: left to the engine.
    TimedOut,
    /// Not asked: the read-only pre-check says the create commit would refuse the order.
    PrecheckRefused,
}

impl BeforeCreate {
    /// Every outcome, in label order.
    pub const ALL: [Self; 5] = [
        Self::Recorded,
        Self::Rejected,
        Self::Failed,
        Self::TimedOut,
        Self::PrecheckRefused,
    ];

    /// The `outcome` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::PrecheckRefused => "precheck_refused",
        }
    }
}

/// Counts of [`BeforeCreate`] outcomes.
#[derive(Default)]
pub struct BeforeCreateCounts([AtomicU64; BeforeCreate::ALL.len()]);

impl BeforeCreateCounts {
    /// Counts one `outcome`.
    pub fn count(&self, outcome: BeforeCreate) {
        self.0[outcome as usize].fetch_add(1, Relaxed);
    }

    /// How often `outcome` happened.
    pub fn get(&self, outcome: BeforeCreate) -> u64 {
        self.0[outcome as usize].load(Relaxed)
    }

    fn family(&self) -> Family {
        Family::counters(
            "simgw_identity_before_create",
            "Identity verifications asked before a create commit, by outcome (rejected, failed and timed_out are asked again by the engine after the commit).",
            "outcome",
            BeforeCreate::ALL.map(|o| (o.as_str(), self.get(o))),
        )
    }
}

/// The admission-control gauges: backlog by tenant and overall, completion rate, projected
/// wait (`+Inf` while orders wait and none finishes), and refusals by bound.
fn backlog_families(b: &crate::admission::Snapshot) -> [Family; 5] {
    let mut tenants = Family::new(
        "simgw_backlog_orders",
        "Orders accepted and not yet active or failed, by tenant.",
        Kind::Gauge,
    );
    for (tenant, n) in &b.tenants {
        tenants.push(&[("tenant", tenant)], Value::whole(*n));
    }
    [
        tenants,
        Family::new(
            "simgw_backlog_orders_overall",
            "Orders accepted and not yet active or failed, all tenants.",
            Kind::Gauge,
        )
        .with(&[], Value::whole(b.overall)),
        Family::new(
            "simgw_order_completion_rate",
            "Orders finished per second (average over about a minute of busy time).",
            Kind::Gauge,
        )
        .with(&[], Value::Float(b.completion_rate)),
        Family::new(
            "simgw_backlog_projected_wait_seconds",
            "Time the backlog needs to drain at the completion rate.",
            Kind::Gauge,
        )
        .with(
            &[],
            Value::Float(b.projected_wait_s().unwrap_or(f64::INFINITY)),
        ),
        Family::counters(
            "simgw_admission_refused",
            "Activations refused with backlog_full, by the bound reached.",
            "bound",
            [("overall", b.refused_overall), ("tenant", b.refused_tenant)],
        ),
    ]
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
        let s = exposition::encode(Format::Prometheus, vec![h.family("x", "X.")]);
        assert!(s.contains("# TYPE x histogram\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"0.0005\"} 1\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"0.025\"} 2\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"10\"} 2\n"), "{s}");
        assert!(s.contains("x_bucket{le=\"+Inf\"} 3\n"), "{s}");
        assert!(s.contains("x_count 3\n"), "{s}");
    }

    #[test]
    fn verifications_before_the_create_are_counted_by_outcome() {
        let m = Metrics::default();
        m.identity_before_create.count(BeforeCreate::Recorded);
        m.identity_before_create.count(BeforeCreate::Recorded);
        m.identity_before_create.count(BeforeCreate::TimedOut);
        let s = m.render();
        for (outcome, n) in [
            ("recorded", 2),
            ("rejected", 0),
            ("failed", 0),
            ("timed_out", 1),
            ("precheck_refused", 0),
        ] {
            let line = format!("simgw_identity_before_create_total{{outcome=\"{outcome}\"}} {n}\n");
            assert!(s.contains(&line), "{line}{s}");
        }
        assert!(
            s.contains("simgw_identity_calls_total{result=\"ok\"} 0\n"),
            "{s}"
        );
    }
}
