//! Writes a transaction defers until just before its commit, all merged into one
//! statement: the inventory counters' deltas (`counters::add`) and the rows appended to
//! the logs (`events.rs`: the audit log and the public events; `audit_chain::append`: the
//! compliance audit records). A physical activation changes four to six counters and
//! appends two or three log entries in each of its two transactions; each was a statement
//! of its own, and now a transaction sends one for all of them (a `WITH` of four inserts).
//!
//! Counter deltas of the same row add up first (a reservation and its release in one
//! transaction write nothing), and rows are written in key order, so two transactions take
//! their row locks in the same order. A log's entries go in as one batch row (migration
//! 10; public events one per run of entries of one tenant and type), keyed by the attempt
//! id and the first entry's ordinal, which is all the sequencer orders them by: a group of
//! eight orders writes one row where it wrote eight, and the sequencer numbers it with one
//! row version. Nothing reads counters or unnumbered log rows inside a write transaction
//! (the low-stock watch, the inventory reads and the sequencer run in transactions of
//! their own), so deferring changes no answer.

use super::codec::Doc;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A counter row: tenant, name, scope, shard.
type Row = (String, String, String, i32);

/// An audit log entry: its place in the attempt and the event.
pub type EventRow = (i32, Doc);

/// A public event entry (`public_batches`).
pub struct PublicRow {
    /// Place in the attempt.
    pub ord: i32,
    /// Tenant.
    pub tenant: String,
    /// `order.created`, …
    pub event_type: &'static str,
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

    /// Appends an audit log entry (its place in the attempt, the event), to be written by
    /// [`Deferred::flush`].
    pub fn add_event(&self, ord: i32, doc: Doc) {
        self.lock_logs().events.push((ord, doc));
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
    /// four inserts: counters, the audit log's batch, the public events' batches, the
    /// audit records' batch; an empty array inserts nothing); the number of statements
    /// sent (0 or 1).
    pub async fn flush(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        txn: &str,
    ) -> Result<u32, tokio_postgres::Error> {
        let mut logs = std::mem::take(&mut *self.lock_logs());
        let counters: Vec<(Row, i64)> = std::mem::take(&mut *self.lock_counters())
            .into_iter()
            .filter(|(_, d)| *d != 0)
            .collect();
        // Bodies of a group run at once: their entries may have been pushed out of order.
        logs.events.sort_by_key(|(ord, _)| *ord);
        logs.public.sort_by_key(|r| r.ord);
        logs.audit.sort_by_key(|(ord, _)| *ord);
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
        // The audit log's and the chain's entries each in one batch row (none when the log
        // got nothing: empty arrays insert no row), the public events in one per run of a
        // tenant and a type (`sequencer.rs` numbers each run at once).
        let (e_ord, e_n, e_docs) = match e.first() {
            Some((ord, _)) => (
                vec![*ord],
                vec![count(e.len())],
                vec![Doc::array(e.iter().map(|(_, d)| d))],
            ),
            None => (vec![], vec![], vec![]),
        };
        let a_ord: Vec<i32> = a.first().map(|(ord, _)| *ord).into_iter().collect();
        let a_records: Vec<&[u8]> = a.iter().map(|(_, b)| b.as_slice()).collect();
        let runs: Vec<&[PublicRow]> = p
            .chunk_by(|x, y| x.tenant == y.tenant && x.event_type == y.event_type)
            .collect();
        let p_ord: Vec<i32> = runs.iter().map(|r| r[0].ord).collect();
        let p_tenant: Vec<&str> = runs.iter().map(|r| r[0].tenant.as_str()).collect();
        let p_type: Vec<&str> = runs.iter().map(|r| r[0].event_type).collect();
        let p_n: Vec<i32> = runs.iter().map(|r| count(r.len())).collect();
        let p_docs: Vec<Doc> = runs
            .iter()
            .map(|r| Doc::array(r.iter().map(|x| &x.doc)))
            .collect();
        let st = tx
            .prepare_cached(
                "WITH c AS (
                   INSERT INTO counters (tenant, name, scope, shard, n)
                   SELECT * FROM unnest($12::TEXT[], $13::TEXT[], $14::TEXT[], $15::INT[], $16::BIGINT[])
                   ON CONFLICT (tenant, name, scope, shard) DO UPDATE SET n = counters.n + excluded.n
                 ), e AS (
                   INSERT INTO event_batches (txn, ord, n, docs)
                   SELECT $1, * FROM unnest($2::INT[], $3::INT[], $4::JSONB[])
                 ), p AS (
                   INSERT INTO public_batches (txn, ord, tenant, event_type, n, docs)
                   SELECT $1, * FROM unnest($5::INT[], $6::TEXT[], $7::TEXT[], $8::INT[], $9::JSONB[])
                 )
                 INSERT INTO audit_batches (txn, ord, records)
                 SELECT $1, o, $11::BYTEA[] FROM unnest($10::INT[]) AS u(o)",
            )
            .await?;
        tx.execute(
            &st,
            &[
                &txn, &e_ord, &e_n, &e_docs, &p_ord, &p_tenant, &p_type, &p_n, &p_docs, &a_ord,
                &a_records, &c_tenant, &c_name, &c_scope, &c_shard, &c_delta,
            ],
        )
        .await?;
        Ok(1)
    }
}

/// A batch's entry count as its column.
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// How many of a pass's batch rows (in numbering order, holding `counts` entries each) it
/// takes: the first that hold at least `limit` entries, or all of them when they hold
/// fewer; and how many entries those hold. A pass takes whole batches, so it may number a
/// few more than `limit`.
pub fn batches_to_take(counts: impl IntoIterator<Item = i32>, limit: i64) -> (usize, usize) {
    let (mut rows, mut entries) = (0usize, 0usize);
    for n in counts {
        rows += 1;
        entries += usize::try_from(n).unwrap_or(0);
        if i64::try_from(entries).unwrap_or(i64::MAX) >= limit {
            break;
        }
    }
    (rows, entries)
}

#[cfg(test)]
mod tests {
    use super::batches_to_take;

    #[test]
    fn a_pass_takes_whole_batches_until_it_reaches_its_limit() {
        assert_eq!(batches_to_take([], 5), (0, 0));
        assert_eq!(
            batches_to_take([2, 2], 5),
            (2, 4),
            "fewer than the limit: all"
        );
        assert_eq!(batches_to_take([2, 3, 1], 5), (2, 5), "exactly the limit");
        assert_eq!(
            batches_to_take([4, 8, 1], 5),
            (2, 12),
            "the batch that crosses it too"
        );
        assert_eq!(batches_to_take([9], 5), (1, 9));
    }
}
