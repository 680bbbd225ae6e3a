//! The PostgreSQL store's metrics: what its transaction runner, connection pool and event
//! sequencer count as they work ([`PgStats`], relaxed atomics the store bumps), and what
//! the backend reports at scrape time ([`backend_families`]: the pool's connections and
//! the sequencer's backlog, read from the store then).

use super::Histogram;
use super::exposition::{Family, Kind, Value};
use crate::store::BackendStatus;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The PostgreSQL store's counts (`store/postgres/retry.rs`, `store/postgres/mod.rs`),
/// which the store receives through `PgStore::open_counted`. On the embedded store they
/// stay zero.
#[derive(Default)]
pub struct PgStats {
    /// Attempts rolled back on a serialization failure or deadlock and run again.
    pub retried: AtomicU64,
    /// Transactions given up after `max_attempts` conflicts.
    pub gave_up: AtomicU64,
    /// How long each checkout of a pooled connection waited (transactions and reads),
    /// whether it got one or not.
    pub pool_wait: Histogram,
    /// Checkouts that gave up: no connection within the pool's wait (or its creation or
    /// recycling timed out).
    pub pool_timeouts: AtomicU64,
    /// Sequencer passes by outcome.
    pub passes: PassCounts,
    /// Statements sent in store transactions, each transaction's start and end included
    /// (attempts rolled back too; reads outside a transaction are not counted).
    pub statements: AtomicU64,
    /// Group transactions of activations' advances (`advance_group.rs`).
    pub advance_groups: GroupCounts,
    /// Group transactions of activations' creates (`create_group.rs`).
    pub create_groups: GroupCounts,
}

/// How a node's group transactions of one kind went (`store/postgres/group.rs`).
#[derive(Debug, Default)]
pub struct GroupCounts {
    /// Groups of two or more writes committed in one transaction.
    pub committed: AtomicU64,
    /// Writes those groups carried.
    pub writes: AtomicU64,
    /// Groups rolled back on an error and run again one write at a time.
    pub split: AtomicU64,
}

/// Sequencer passes (`PgStore::sequence_events`) by outcome.
#[derive(Debug, Default)]
pub struct PassCounts {
    /// This node held or took the lease and the pass committed.
    pub ok: AtomicU64,
    /// Another node holds the lease: nothing to do here.
    pub lease_elsewhere: AtomicU64,
    /// The pass failed (the database, a conflict past the retry budget, a corrupt row).
    pub failed: AtomicU64,
}

impl PassCounts {
    /// Counts one pass: `Some(true)` numbered under this node's lease, `Some(false)` the
    /// lease is another node's, `None` failed.
    pub fn record(&self, held: Option<bool>) {
        match held {
            Some(true) => &self.ok,
            Some(false) => &self.lease_elsewhere,
            None => &self.failed,
        }
        .fetch_add(1, Relaxed);
    }
}

impl std::fmt::Debug for PgStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStats")
            .field("retried", &self.retried)
            .field("gave_up", &self.gave_up)
            .field("pool_timeouts", &self.pool_timeouts)
            .field("passes", &self.passes)
            .finish_non_exhaustive()
    }
}

impl PgStats {
    /// The counters and the pool-wait histogram, read now (zero on the embedded store).
    pub fn families(&self) -> Vec<Family> {
        let n = |v: &AtomicU64| v.load(Relaxed);
        let mut o = Vec::new();
        for (name, help, v) in [
            (
                "simgw_store_conflict_retries",
                "Store transactions rolled back on a serialization conflict or deadlock and run again (PostgreSQL).",
                &self.retried,
            ),
            (
                "simgw_store_conflict_gave_up",
                "Store transactions given up after the retry budget of conflicts, answered as store unavailable (PostgreSQL).",
                &self.gave_up,
            ),
            (
                "simgw_store_pool_timeouts",
                "Checkouts of a pooled database connection that gave up waiting (PostgreSQL).",
                &self.pool_timeouts,
            ),
            (
                "simgw_store_statements",
                "Statements sent in store transactions, each transaction's start and end included, rolled-back attempts too (PostgreSQL).",
                &self.statements,
            ),
        ] {
            o.push(Family::new(name, help, Kind::Counter).with(&[], Value::Count(n(v))));
        }
        o.push(self.pool_wait.family(
            "simgw_store_pool_wait_seconds",
            "Time store transactions and reads waited for a pooled database connection (PostgreSQL).",
        ));
        let (a, c) = (&self.advance_groups, &self.create_groups);
        o.push(
            Family::new(
                "simgw_store_write_groups",
                "Group transactions of two or more activations' writes by kind (create, advance) and result: committed, or split (rolled back on an error, each write run again alone) (PostgreSQL).",
                Kind::Counter,
            )
            .with(&[("kind", "create"), ("result", "committed")], Value::Count(n(&c.committed)))
            .with(&[("kind", "create"), ("result", "split")], Value::Count(n(&c.split)))
            .with(&[("kind", "advance"), ("result", "committed")], Value::Count(n(&a.committed)))
            .with(&[("kind", "advance"), ("result", "split")], Value::Count(n(&a.split))),
        );
        o.push(
            Family::new(
                "simgw_store_grouped_writes",
                "Activations' writes committed in a group transaction with others, by kind (PostgreSQL).",
                Kind::Counter,
            )
            .with(&[("kind", "create")], Value::Count(n(&c.writes)))
            .with(&[("kind", "advance")], Value::Count(n(&a.writes))),
        );
        o.push(Family::counters(
            "simgw_store_sequencer_passes",
            "Event sequencer passes on this node by result: ok (under this node's lease), lease_elsewhere (another node numbers), failed (PostgreSQL).",
            "result",
            [
                ("ok", n(&self.passes.ok)),
                ("lease_elsewhere", n(&self.passes.lease_elsewhere)),
                ("failed", n(&self.passes.failed)),
            ],
        ));
        o
    }
}

/// The gauges a shared-database backend reports at scrape time: its pool's connections
/// and waiters, and the sequencer's backlog (left out when it could not be read). None
/// for a backend without them (the embedded store).
pub fn backend_families(status: Option<&BackendStatus>) -> Vec<Family> {
    let Some(s) = status else {
        return Vec::new();
    };
    let p = &s.pool;
    let mut o = vec![
        Family::new(
            "simgw_store_pool_connections",
            "Pooled database connections by state (PostgreSQL).",
            Kind::Gauge,
        )
        .with(&[("state", "idle")], Value::whole(p.idle as u64))
        .with(
            &[("state", "in_use")],
            Value::whole(p.size.saturating_sub(p.idle) as u64),
        ),
        Family::new(
            "simgw_store_pool_max_connections",
            "The pool's size limit, [store] pool_size (PostgreSQL).",
            Kind::Gauge,
        )
        .with(&[], Value::whole(p.max_size as u64)),
        Family::new(
            "simgw_store_pool_waiting",
            "Store operations waiting for a pooled database connection now (PostgreSQL).",
            Kind::Gauge,
        )
        .with(&[], Value::whole(p.waiting as u64)),
    ];
    if let Some(q) = &s.sequencer {
        o.push(
            Family::new(
                "simgw_store_events_unnumbered",
                "Events committed and not yet numbered by the sequencer, by log (counted up to 100000; PostgreSQL).",
                Kind::Gauge,
            )
            .with(&[("log", "public")], Value::whole(q.public))
            .with(&[("log", "audit")], Value::whole(q.audit))
            .with(
                &[("log", "compliance_audit")],
                Value::whole(q.compliance_audit),
            ),
        );
        o.push(
            Family::new(
                "simgw_store_sequencer_lag_seconds",
                "Age of the oldest event not yet numbered, from its transaction's start; 0 when none waits (PostgreSQL).",
                Kind::Gauge,
            )
            .with(&[], Value::Float(q.lag_ms as f64 / 1000.0)),
        );
        o.push(
            Family::new(
                "simgw_store_sequencer_lease_held",
                "1 while this node holds the event sequencer's lease (PostgreSQL; one node at a time).",
                Kind::Gauge,
            )
            .with(&[], Value::Int(q.lease_held.into())),
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exposition::{Format, encode};
    use crate::store::{PoolStatus, SequencerStatus};
    use std::time::Duration;

    #[test]
    fn counts_and_waits_are_written_and_zero_when_nothing_happened() {
        let s = PgStats::default();
        let text = encode(Format::Prometheus, s.families());
        for line in [
            "simgw_store_conflict_retries_total 0\n",
            "simgw_store_pool_timeouts_total 0\n",
            "simgw_store_pool_wait_seconds_count 0\n",
            "simgw_store_sequencer_passes_total{result=\"failed\"} 0\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        s.pool_wait.observe(Duration::from_micros(100));
        s.pool_wait.observe(Duration::from_secs(31));
        s.passes.record(Some(true));
        s.passes.record(Some(false));
        s.passes.record(Some(false));
        s.passes.record(None);
        let text = encode(Format::Prometheus, s.families());
        for line in [
            "simgw_store_pool_wait_seconds_bucket{le=\"0.0005\"} 1\n",
            "simgw_store_pool_wait_seconds_bucket{le=\"10\"} 1\n",
            "simgw_store_pool_wait_seconds_bucket{le=\"+Inf\"} 2\n",
            "simgw_store_pool_wait_seconds_count 2\n",
            "simgw_store_sequencer_passes_total{result=\"ok\"} 1\n",
            "simgw_store_sequencer_passes_total{result=\"lease_elsewhere\"} 2\n",
            "simgw_store_sequencer_passes_total{result=\"failed\"} 1\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }

    #[test]
    fn the_backend_s_gauges_are_absent_without_one_and_read_from_its_status() {
        assert!(backend_families(None).is_empty());
        let mut status = BackendStatus {
            pool: PoolStatus {
                max_size: 16,
                size: 5,
                idle: 2,
                waiting: 0,
            },
            sequencer: None,
        };
        let text = encode(Format::Prometheus, backend_families(Some(&status)));
        for line in [
            "simgw_store_pool_connections{state=\"idle\"} 2\n",
            "simgw_store_pool_connections{state=\"in_use\"} 3\n",
            "simgw_store_pool_max_connections 16\n",
            "simgw_store_pool_waiting 0\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("sequencer"), "unread: left out: {text}");
        status.pool.waiting = 7;
        status.sequencer = Some(SequencerStatus {
            public: 3,
            audit: 4,
            compliance_audit: 0,
            lag_ms: 2_500,
            lease_held: true,
        });
        let text = encode(Format::Prometheus, backend_families(Some(&status)));
        for line in [
            "simgw_store_pool_waiting 7\n",
            "simgw_store_events_unnumbered{log=\"public\"} 3\n",
            "simgw_store_events_unnumbered{log=\"audit\"} 4\n",
            "simgw_store_events_unnumbered{log=\"compliance_audit\"} 0\n",
            "simgw_store_sequencer_lag_seconds 2.5\n",
            "simgw_store_sequencer_lease_held 1\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }
}
