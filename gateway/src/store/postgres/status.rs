//! What the metrics page reads of the PostgreSQL backend at scrape time: the pool's state
//! (deadpool's own counts, no database work) and the sequencer's backlog, one plain
//! statement outside any transaction, so at READ COMMITTED on PostgreSQL: it takes no
//! predicate locks and cannot make a SERIALIZABLE order transaction conflict. It reads
//! the unnumbered entries through the partial indexes the sequencer's pass reads
//! (`public_batches_unnumbered`, `event_batches_unnumbered`, `audit_batches`'s key),
//! counting the entries of at most [`COUNT_CAP`] rows per log (a batch row holds one
//! attempt's entries), and the lease row by its key.

use super::codec::big;
use super::retry::{db_error, pool_error, txn_started_ms};
use super::{PgStore, sequencer};
use crate::store::{BackendStatus, PoolStatus, SequencerStatus, StoreError};
use deadpool_postgres::Timeouts;
use std::time::Duration;

/// Most unnumbered entries counted per log: past it the gauge shows this (the lag keeps
/// telling how long the oldest has waited).
pub const COUNT_CAP: i64 = 100_000;

/// How long a scrape waits for a pooled connection before it leaves the sequencer's
/// backlog out (an exhausted pool must not hold the metrics page).
pub const SCRAPE_WAIT: Duration = Duration::from_secs(1);

const BACKLOG: &str = "SELECT
    (SELECT COALESCE(SUM(n), 0) FROM (SELECT n FROM public_batches WHERE seq IS NULL LIMIT $1) AS p),
    (SELECT COALESCE(SUM(n), 0) FROM (SELECT n FROM event_batches WHERE seq IS NULL LIMIT $1) AS a),
    (SELECT COALESCE(SUM(cardinality(records)), 0)
       FROM (SELECT records FROM audit_batches LIMIT $1) AS c),
    (SELECT min(txn) FROM public_batches WHERE seq IS NULL),
    (SELECT min(txn) FROM event_batches WHERE seq IS NULL),
    (SELECT min(txn) FROM audit_batches),
    (SELECT owner = $2 FROM leases WHERE name = $3 AND expires_at_ms > $4)";

impl PgStore {
    /// The pool's state, and the sequencer's backlog unless it cannot be read now.
    pub async fn backend_status(&self) -> BackendStatus {
        // Before the scrape's own checkout, which is not the node's work.
        let pool = self.pool_status();
        let sequencer = match self.sequencer_status().await {
            Ok(q) => Some(q),
            Err(e) => {
                tracing::debug!(error = %e, "sequencer backlog not read for the metrics page");
                None
            }
        };
        BackendStatus { pool, sequencer }
    }

    /// The pool's state now (deadpool's counts: no database work).
    pub fn pool_status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus {
            max_size: s.max_size,
            size: s.size,
            idle: s.available,
            waiting: s.waiting,
        }
    }

    /// The sequencer's backlog as the database shows it now.
    pub async fn sequencer_status(&self) -> Result<SequencerStatus, StoreError> {
        let timeouts = Timeouts {
            wait: Some(SCRAPE_WAIT),
            ..self.pool.timeouts()
        };
        let c = self
            .pool
            .timeout_get(&timeouts)
            .await
            .map_err(|e| pool_error(&e))?;
        let now = crate::clock::Clock::new().now_ms();
        let st = c.prepare_cached(BACKLOG).await.map_err(|e| db_error(&e))?;
        let node = self.node.as_str();
        let r = c
            .query_one(&st, &[&COUNT_CAP, &node, &sequencer::LEASE, &big(now)])
            .await
            .map_err(|e| db_error(&e))?;
        let e = |e: tokio_postgres::Error| db_error(&e);
        let count = |i: usize| {
            r.try_get::<_, i64>(i)
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(e)
        };
        let mut oldest: Option<u64> = None;
        for i in 3..6 {
            let txn: Option<String> = r.try_get(i).map_err(e)?;
            if let Some(at) = txn.as_deref().and_then(txn_started_ms) {
                oldest = Some(oldest.map_or(at, |o| o.min(at)));
            }
        }
        Ok(SequencerStatus {
            public: count(0)?,
            audit: count(1)?,
            compliance_audit: count(2)?,
            lag_ms: oldest.map_or(0, |at| now.saturating_sub(at)),
            lease_held: r.try_get::<_, Option<bool>>(6).map_err(e)?.unwrap_or(false),
        })
    }
}
