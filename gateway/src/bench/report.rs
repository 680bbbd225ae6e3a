//! The figures of one `simgw bench` run: percentiles, peak resident memory, and the JSON
//! report (`--json FILE`) that CI keeps as history. Pure functions, apart from reading
//! this process's `/proc/self/status`.

use serde::Serialize;
use std::time::Duration;

/// The `p`th percentile of `sorted` (nearest rank), in milliseconds; 0 when empty.
pub(super) fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = (((p / 100.0) * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx].as_secs_f64() * 1000.0
}

/// p50, p90, p99 and max of a latency sample, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(super) struct Latency {
    /// Median.
    pub(super) p50_ms: f64,
    /// 90th percentile.
    pub(super) p90_ms: f64,
    /// 99th percentile.
    pub(super) p99_ms: f64,
    /// Slowest.
    pub(super) max_ms: f64,
}

impl Latency {
    /// The percentiles of `sorted` (ascending).
    pub(super) fn of(sorted: &[Duration]) -> Self {
        Self {
            p50_ms: pct(sorted, 50.0),
            p90_ms: pct(sorted, 90.0),
            p99_ms: pct(sorted, 99.0),
            max_ms: pct(sorted, 100.0),
        }
    }

    /// One printed line: `p50 … p90 … p99 … max …`.
    pub(super) fn line(&self) -> String {
        format!(
            "p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        )
    }
}

/// `count` per second over `took`; 0 for an empty interval.
pub(super) fn rate(count: usize, took: Duration) -> f64 {
    let s = took.as_secs_f64();
    if s > 0.0 { count as f64 / s } else { 0.0 }
}

/// `a / b`; 0 when `b` is 0 (no baseline measured).
pub(super) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// The baseline: the same client and concurrency against a bare hyper+rustls endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(super) struct BaselineFigures {
    /// Requests sent.
    pub(super) requests: usize,
    /// Requests answered with the expected status.
    pub(super) answered: usize,
    /// Answered requests per second.
    pub(super) requests_per_s: f64,
    /// Size of each answer body, bytes (that of a real activation answer).
    pub(super) body_bytes: usize,
    /// Request latency.
    pub(super) latency: Latency,
}

/// One order that ended `failed`: its id and error code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct FailedOrder {
    /// The order id.
    pub(super) id: String,
    /// Its `error.code` (`unknown` when the order carries none).
    pub(super) code: String,
}

/// One timed load phase: POSTs, then the wait until each order is terminal.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(super) struct Phase {
    /// What the phase does (`physical`, `esim`, `suspend`, `policy_cn`, `postgres`…).
    pub(super) name: String,
    /// Requests sent.
    pub(super) requests: usize,
    /// Requests answered `202` (orders created).
    pub(super) accepted: usize,
    /// Requests not answered `202`.
    pub(super) refused: usize,
    /// Orders that reached the phase's success state (`active` or `completed`).
    pub(super) succeeded: usize,
    /// Orders that ended `failed`.
    pub(super) failed: usize,
    /// Orders still not terminal at the deadline.
    pub(super) open: usize,
    /// Seconds from the first POST until the last order was seen terminal.
    pub(super) seconds: f64,
    /// Succeeded orders per second, end to end.
    pub(super) per_s: f64,
    /// `per_s` over the baseline's requests per second.
    pub(super) ratio: f64,
    /// POST latency.
    pub(super) post: Latency,
    /// Server-side time from the order's creation to its last change.
    pub(super) created_to_terminal: Latency,
    /// Durable commits and store operations during the phase (embedded store).
    pub(super) store_commits: u64,
    /// Store operations during the phase.
    pub(super) store_ops: u64,
    /// Store transactions run again after a serialization conflict during the phase
    /// (PostgreSQL; 0 on the embedded store).
    pub(super) store_conflicts: u64,
    /// Statements sent in store transactions during the phase, BEGIN and COMMIT included
    /// (PostgreSQL; 0 on the embedded store).
    pub(super) store_statements: u64,
    /// With a webhook endpoint: deliveries acknowledged by the end of the phase.
    pub(super) deliveries_in_phase: Option<u64>,
    /// With a webhook endpoint: seconds after the phase until every delivery was
    /// acknowledged (`None`: not within the deadline, or no endpoint).
    pub(super) deliveries_drained_s: Option<f64>,
    /// What the phase cost the process and its store writer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) usage: Option<super::usage::UsageFigures>,
}

/// The whole run, as written by `--json FILE`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(super) struct Report {
    /// The bench mode (`physical`, `esim`, `suspend`, `policy_cn`, `postgres`).
    pub(super) mode: String,
    /// `--activations`.
    pub(super) activations: u32,
    /// `--concurrency`.
    pub(super) concurrency: usize,
    /// `--hlr-latency-ms`.
    pub(super) hlr_latency_ms: u64,
    /// With one webhook endpoint.
    pub(super) webhook: bool,
    /// SIMs and numbers added to the inventory before the run (`--inventory-*`).
    pub(super) inventory_sims: u64,
    /// Numbers added before the run.
    pub(super) inventory_numbers: u64,
    /// The first activation phase's end-to-end rate.
    pub(super) activations_per_s: f64,
    /// The baseline's answered requests per second (0 when skipped).
    pub(super) baseline_requests_per_s: f64,
    /// `activations_per_s / baseline_requests_per_s`.
    pub(super) ratio: f64,
    /// POST latency of the first activation phase.
    pub(super) p50_ms: f64,
    /// 90th percentile.
    pub(super) p90_ms: f64,
    /// 99th percentile.
    pub(super) p99_ms: f64,
    /// Slowest.
    pub(super) max_ms: f64,
    /// Peak resident memory (VmHWM) since the inventory was in place, MiB.
    pub(super) peak_rss_mib: f64,
    /// Orders of every phase answered `202`.
    pub(super) accepted: usize,
    /// Orders of every phase that succeeded.
    pub(super) succeeded: usize,
    /// Orders of every phase that failed.
    pub(super) failed: usize,
    /// Orders of every phase still open at the deadline.
    pub(super) open: usize,
    /// The baseline, if it ran.
    pub(super) baseline: Option<BaselineFigures>,
    /// Every timed phase, in order.
    pub(super) phases: Vec<Phase>,
    /// The failed orders (at most [`MAX_LISTED`]).
    pub(super) failures: Vec<FailedOrder>,
    /// `--port-in`: the port-ins against the physical activations of the same run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) port_in: Option<PortInFigures>,
}

/// The figures of `--port-in` beside its two phases.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(super) struct PortInFigures {
    /// Physical activations per second (the baseline phase).
    pub(super) physical_per_s: f64,
    /// Port-ins per second, until each is `active` on its ported number.
    pub(super) port_ins_per_s: f64,
    /// `port_ins_per_s / physical_per_s` (the target is at least 0.5).
    pub(super) ratio_to_physical: f64,
    /// How often the bench moved the hub's clock, ms.
    pub(super) hub_tick_ms: u64,
    /// How many times it did.
    pub(super) hub_ticks: u64,
    /// Hub messages (of as many ports) in flight at once.
    pub(super) hub_lanes: usize,
    /// Hub messages one POST carried at most.
    pub(super) hub_batch: usize,
    /// Rounds of the two phases (`--rounds`).
    pub(super) rounds: usize,
    /// Hub messages delivered per completed port-in.
    pub(super) hub_messages_per_port: f64,
    /// Hub POSTs delivered per completed port-in (a batch counts once).
    pub(super) hub_posts_per_port: f64,
    /// Store operations per completed port-in.
    pub(super) store_ops_per_port: f64,
}

/// Failed orders listed by id in the report; the counts cover all of them.
pub(super) const MAX_LISTED: usize = 100;

impl Report {
    /// Fills the headline fields from the baseline and the first phase, and the totals
    /// from every phase.
    pub(super) fn finish(&mut self, peak_rss_mib: f64) {
        let base = self.baseline.as_ref().map_or(0.0, |b| b.requests_per_s);
        for p in &mut self.phases {
            p.ratio = ratio(p.per_s, base);
        }
        if let Some(first) = self.phases.first() {
            self.activations_per_s = first.per_s;
            self.p50_ms = first.post.p50_ms;
            self.p90_ms = first.post.p90_ms;
            self.p99_ms = first.post.p99_ms;
            self.max_ms = first.post.max_ms;
        }
        self.baseline_requests_per_s = base;
        self.ratio = ratio(self.activations_per_s, base);
        self.accepted = self.phases.iter().map(|p| p.accepted).sum();
        self.succeeded = self.phases.iter().map(|p| p.succeeded).sum();
        self.failed = self.phases.iter().map(|p| p.failed).sum();
        self.open = self.phases.iter().map(|p| p.open).sum();
        self.failures.truncate(MAX_LISTED);
        self.peak_rss_mib = peak_rss_mib;
    }

    /// The report as pretty JSON (non-finite numbers, which JSON lacks, become `null`).
    pub(super) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }
}

/// A `/proc/PID/status` field in KiB (`VmHWM:   1234 kB`).
pub(super) fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// This process's peak resident memory (VmHWM) in MiB; 0 where `/proc` is missing.
pub(super) fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| status_kib(&s, "VmHWM"))
        .map_or(0.0, |kib| kib as f64 / 1024.0)
}

/// Resets VmHWM to the current resident size (Linux `clear_refs` 5), so the peak read
/// later covers only what follows (not an offline inventory fill); false if refused.
pub(super) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", b"5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let sample = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(pct(&sample, 50.0), 50.0);
        assert_eq!(pct(&sample, 90.0), 90.0);
        assert_eq!(pct(&sample, 99.0), 99.0);
        assert_eq!(pct(&sample, 100.0), 100.0);
        assert_eq!(pct(&sample, 0.0), 1.0);
        let l = Latency::of(&ms(&[7]));
        assert_eq!((l.p50_ms, l.p99_ms, l.max_ms), (7.0, 7.0, 7.0));
        assert_eq!(Latency::of(&[]), Latency::default());
        // Ten values: p99 rounds up to the largest, p90 is the ninth.
        let ten = ms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(Latency::of(&ten).p90_ms, 9.0);
        assert_eq!(Latency::of(&ten).p99_ms, 10.0);
    }

    #[test]
    fn rates_and_ratios_never_divide_by_zero() {
        assert_eq!(rate(10, Duration::ZERO), 0.0);
        assert_eq!(rate(10, Duration::from_millis(500)), 20.0);
        assert_eq!(ratio(1.0, 0.0), 0.0);
        assert_eq!(ratio(1.0, 4.0), 0.25);
    }

    #[test]
    fn status_fields_parse_in_kib() {
        let status = "Name:\tsimgw\nVmPeak:\t  900 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(status_kib(status, "VmHWM"), Some(204_800));
        assert_eq!(status_kib(status, "VmRSS"), Some(1000));
        assert_eq!(status_kib(status, "VmSwap"), None);
        assert_eq!(status_kib("VmHWM:\tlots kB", "VmHWM"), None);
    }

    fn phase(name: &str, per_s: f64, p99: f64, ok: usize, failed: usize) -> Phase {
        Phase {
            name: name.into(),
            requests: ok + failed,
            accepted: ok + failed,
            succeeded: ok,
            failed,
            per_s,
            post: Latency {
                p99_ms: p99,
                ..Latency::default()
            },
            ..Phase::default()
        }
    }

    #[test]
    fn the_report_carries_the_contract_fields_from_the_first_phase() {
        let mut r = Report {
            mode: "suspend".into(),
            activations: 10,
            baseline: Some(BaselineFigures {
                requests_per_s: 20_000.0,
                ..BaselineFigures::default()
            }),
            phases: vec![
                phase("physical", 2_000.0, 40.0, 9, 1),
                phase("suspend", 1_000.0, 30.0, 9, 0),
            ],
            failures: (0..200)
                .map(|i| FailedOrder {
                    id: format!("o{i}"),
                    code: "hlr_rejected".into(),
                })
                .collect(),
            ..Report::default()
        };
        r.finish(123.5);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("valid JSON");
        assert_eq!(v["mode"], "suspend");
        assert_eq!(v["activations_per_s"], 2_000.0);
        assert_eq!(v["baseline_requests_per_s"], 20_000.0);
        assert_eq!(v["ratio"], 0.1);
        assert_eq!(v["p99_ms"], 40.0);
        assert_eq!(v["peak_rss_mib"], 123.5);
        assert_eq!(v["accepted"], 19);
        assert_eq!(v["succeeded"], 18);
        assert_eq!(v["failed"], 1);
        assert_eq!(v["phases"][1]["ratio"], 0.05);
        assert_eq!(v["failures"].as_array().map(Vec::len), Some(MAX_LISTED));
        for key in ["p50_ms", "p90_ms", "max_ms", "open", "concurrency"] {
            assert!(v.get(key).is_some(), "{key} missing");
        }
    }

    #[test]
    fn without_a_baseline_the_ratio_is_zero_and_the_baseline_null() {
        let mut r = Report {
            phases: vec![phase("physical", 2_000.0, 40.0, 1, 0)],
            ..Report::default()
        };
        r.finish(0.0);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("valid JSON");
        assert_eq!(v["ratio"], 0.0);
        assert_eq!(v["baseline_requests_per_s"], 0.0);
        assert!(v["baseline"].is_null());
    }
}
