//! Writes a transaction defers until just before its commit, all merged into one
//! statement: the inventory counters' deltas (`counters::add`) and the rows appended to
//! the logs (`events.rs`: the audit log and the public events; `audit_chain::append`: the
//! compliance audit records). A physical activation changes four to six counters and
//! appends two or three log rows in each of its two transactions; each was a statement of
//! its own, and now a transaction sends one for all of them (a `WITH` of four inserts).
//!
//! Counter deltas of the same row add up first (a reservation and its release in one
//! transaction write nothing), and rows are written in key order, so two transactions take
//! their row locks in the same order. Log rows keep the attempt id and ordinal they were
//! given when appended, which is all the sequencer orders them by. Nothing reads counters
//! or unnumbered log rows inside a write transaction (the low-stock watch, the inventory
//! reads and the sequencer run in transactions of their own), so deferring changes no
//! answer.

use super::codec::Doc;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A counter row: tenant, name, scope, shard.
type Row = (String, String, String, i32);

/// An audit log row (`events`): ordinal, time, tenant, order, doc.
pub struct EventRow {
    /// Place in the attempt.
    pub ord: i32,
    /// When, Unix ms.
    pub at_ms: i64,
    /// Tenant.
    pub tenant: String,
    /// Order concerned.
    pub order_id: Option<String>,
    /// The event.
    pub doc: Doc,
}

/// A public event row (`public_events`).
pub struct PublicRow {
    /// Place in the attempt.
    pub ord: i32,
    /// Tenant.
    pub tenant: String,
    /// `order.created`, …
    pub event_type: &'static str,
    /// When, Unix ms.
    pub created_at_ms: i64,
    /// What orders its deliveries.
    pub subject: Option<String>,
    /// The event.
    pub doc: Doc,
}

/// The log rows appended so far.
#[derive(Default)]
struct Logs {
    events: Vec<EventRow>,
    public: Vec<PublicRow>,
    audit: Vec<(i32, Vec<u8>)>,
}

/// The deferred writes of one transaction attempt.
#[derive(Default)]
pub struct Deferred {
    counters: Mutex<BTreeMap<Row, i64>>,
    logs: Mutex<Logs>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred").finish_non_exhaustive()
    }
}

impl Deferred {
    /// Adds `delta` to a counter row, to be written by [`Deferred::flush`].
    pub fn add_counter(&self, tenant: &str, name: &str, scope: &str, shard: i32, delta: i64) {
        let mut rows = self.lock_counters();
        let key = (tenant.to_owned(), name.to_owned(), scope.to_owned(), shard);
        *rows.entry(key).or_default() += delta;
    }

    /// Appends an audit log row, to be written by [`Deferred::flush`].
    pub fn add_event(&self, row: EventRow) {
        self.lock_logs().events.push(row);
    }

    /// Appends a public event row, to be written by [`Deferred::flush`].
    pub fn add_public(&self, row: PublicRow) {
        self.lock_logs().public.push(row);
    }

    /// Appends a compliance audit record (its canonical bytes), to be written by
    /// [`Deferred::flush`].
    pub fn add_audit(&self, ord: i32, bytes: Vec<u8>) {
        self.lock_logs().audit.push((ord, bytes));
    }

    fn lock_counters(&self) -> std::sync::MutexGuard<'_, BTreeMap<Row, i64>> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_logs(&self) -> std::sync::MutexGuard<'_, Logs> {
        self.logs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes what was deferred, in `tx` (attempt `txn`), in one statement (a `WITH` of
    /// four inserts: counters, events, public events, audit records; an empty array
    /// inserts nothing); the number of statements sent (0 or 1).
    pub async fn flush(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        txn: &str,
    ) -> Result<u32, tokio_postgres::Error> {
        let logs = std::mem::take(&mut *self.lock_logs());
        let counters: Vec<(Row, i64)> = std::mem::take(&mut *self.lock_counters())
            .into_iter()
            .filter(|(_, d)| *d != 0)
            .collect();
        let (e, p, a) = (&logs.events, &logs.public, &logs.audit);
        if counters.is_empty() && e.is_empty() && p.is_empty() && a.is_empty() {
            return Ok(0);
        }
        let c_tenant: Vec<&str> = counters.iter().map(|((t, ..), _)| t.as_str()).collect();
        let c_name: Vec<&str> = counters.iter().map(|((_, n, ..), _)| n.as_str()).collect();
        let c_scope: Vec<&str> = counters
            .iter()
            .map(|((_, _, c, _), _)| c.as_str())
            .collect();
        let c_shard: Vec<i32> = counters.iter().map(|((.., h), _)| *h).collect();
        let c_delta: Vec<i64> = counters.iter().map(|(_, d)| *d).collect();
        let e_ord: Vec<i32> = e.iter().map(|r| r.ord).collect();
        let e_at: Vec<i64> = e.iter().map(|r| r.at_ms).collect();
        let e_tenant: Vec<&str> = e.iter().map(|r| r.tenant.as_str()).collect();
        let e_order: Vec<Option<&str>> = e.iter().map(|r| r.order_id.as_deref()).collect();
        let e_doc: Vec<&Doc> = e.iter().map(|r| &r.doc).collect();
        let p_ord: Vec<i32> = p.iter().map(|r| r.ord).collect();
        let p_tenant: Vec<&str> = p.iter().map(|r| r.tenant.as_str()).collect();
        let p_type: Vec<&str> = p.iter().map(|r| r.event_type).collect();
        let p_at: Vec<i64> = p.iter().map(|r| r.created_at_ms).collect();
        let p_subject: Vec<Option<&str>> = p.iter().map(|r| r.subject.as_deref()).collect();
        let p_doc: Vec<&Doc> = p.iter().map(|r| &r.doc).collect();
        let a_ord: Vec<i32> = a.iter().map(|(o, _)| *o).collect();
        let a_bytes: Vec<&[u8]> = a.iter().map(|(_, b)| b.as_slice()).collect();
        let st = tx
            .prepare_cached(
                "WITH c AS (
                   INSERT INTO counters (tenant, name, scope, shard, n)
                   SELECT * FROM unnest($15::TEXT[], $16::TEXT[], $17::TEXT[], $18::INT[], $19::BIGINT[])
                   ON CONFLICT (tenant, name, scope, shard) DO UPDATE SET n = counters.n + excluded.n
                 ), e AS (
                   INSERT INTO events (txn, ord, at_ms, tenant, order_id, doc)
                   SELECT $1, * FROM unnest($2::INT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::JSONB[])
                 ), p AS (
                   INSERT INTO public_events (txn, ord, tenant, event_type, created_at_ms, subject, doc)
                   SELECT $1, * FROM unnest($7::INT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::TEXT[], $12::JSONB[])
                 )
                 INSERT INTO audit_pending (txn, ord, bytes)
                 SELECT $1, * FROM unnest($13::INT[], $14::BYTEA[])",
            )
            .await?;
        tx.execute(
            &st,
            &[
                &txn, &e_ord, &e_at, &e_tenant, &e_order, &e_doc, &p_ord, &p_tenant, &p_type,
                &p_at, &p_subject, &p_doc, &a_ord, &a_bytes, &c_tenant, &c_name, &c_scope,
                &c_shard, &c_delta,
            ],
        )
        .await?;
        Ok(1)
    }
}
