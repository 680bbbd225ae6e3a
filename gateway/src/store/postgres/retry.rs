//! The transaction runner every PostgreSQL store method goes through: take a pooled
//! connection, `START TRANSACTION ISOLATION LEVEL SERIALIZABLE`, run the body, `COMMIT`.
//! A serialization failure (SQLSTATE 40001, also what CockroachDB returns for every
//! retryable conflict) or a deadlock (40P01) anywhere in that, commit included, rolls the
//! attempt back and runs the whole body again after a bounded, jittered pause, so the
//! body must be a pure function of the database and its arguments (no side effects
//! outside the transaction). After `max_attempts` it gives up with an error.

use crate::store::StoreError;
use adapters::hlr::BoxFuture;
use deadpool_postgres::{Object, Pool};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};

/// How often and how patiently a conflicting transaction is run again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first pause's upper bound; each later bound doubles, up to `cap`.
    pub base: Duration,
    /// The largest pause bound.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            base: Duration::from_millis(4),
            cap: Duration::from_millis(400),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `attempt + 1` (after `attempt` failures, from 1): "full
    /// jitter", uniform in [0, min(cap, base × 2^(attempt-1))], from `random`.
    pub fn pause(&self, attempt: u32, random: u64) -> Duration {
        let bound = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.cap);
        let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(random % nanos.saturating_add(1))
    }
}

/// Counts of the runner's work (conflicts, pool waits) and the sequencer's passes,
/// exported as metrics (`simgw_store_conflict_*`, `simgw_store_pool_*`,
/// `simgw_store_sequencer_passes_total`).
pub use crate::metrics::PgStats as RetryStats;

/// An error inside a transaction body: the database's (inspected for retry), or the
/// store's own (returned as is, after rollback).
#[derive(Debug)]
pub enum TxError {
    /// From the driver; a serialization failure makes the runner retry.
    Db(tokio_postgres::Error),
    /// A store error (corrupt record, conflict): no retry.
    Store(StoreError),
    /// The body found what it needs held by transactions still running (every free
    /// number or profile locked by a `SKIP LOCKED` competitor): run again, as after a
    /// serialization failure, since those may still roll back.
    Contended,
}

impl From<tokio_postgres::Error> for TxError {
    fn from(e: tokio_postgres::Error) -> Self {
        TxError::Db(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

/// A body's result.
pub type TxResult<T> = Result<T, TxError>;

/// One attempt's transaction, as the bodies and the primitives see it: the driver's
/// transaction (through `Deref`, down to `tokio_postgres::Transaction`), cached statement
/// preparation, and this attempt's identity, which orders the events it inserts.
pub struct Tx<'c> {
    inner: deadpool_postgres::Transaction<'c>,
    id: String,
    slot: u32,
    ordinal: AtomicU32,
    /// Set when the attempt changed an inventory counter (the low-stock watch looks).
    counted: std::sync::atomic::AtomicBool,
    rollback_only: AtomicBool,
    /// The statement running or last run, named in the log of a conflict.
    last: std::sync::Mutex<String>,
    /// Statements sent so far (`simgw_store_statements_total`).
    statements: AtomicU32,
    /// Writes made just before the commit.
    deferred: super::deferred::Deferred,
}

impl<'c> Deref for Tx<'c> {
    type Target = deadpool_postgres::Transaction<'c>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl Tx<'_> {
    /// This attempt's id: unique across nodes, and ordered by start (see `attempt_id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A number that differs between the transactions this process runs at once (a
    /// round robin from a random start per process): spreads their writes over shards.
    pub fn slot(&self) -> u32 {
        self.slot
    }

    /// 0, 1, 2, …: the order of rows this attempt inserts where order matters (events).
    pub fn next_ordinal(&self) -> i32 {
        i32::try_from(self.ordinal.fetch_add(1, Ordering::Relaxed)).unwrap_or(i32::MAX)
    }

    /// True once the attempt inserted ordered rows (events), so the caller wakes the
    /// sequencer after the commit.
    pub fn appended(&self) -> bool {
        self.ordinal.load(Ordering::Relaxed) > 0
    }

    /// Writes this attempt makes just before its commit (`deferred.rs`).
    pub fn deferred(&self) -> &super::deferred::Deferred {
        &self.deferred
    }

    /// Notes that the attempt changed an inventory counter.
    pub fn mark_counted(&self) {
        self.counted.store(true, Ordering::Relaxed);
    }

    /// Whether the attempt changed an inventory counter.
    pub fn counted(&self) -> bool {
        self.counted.load(Ordering::Relaxed)
    }

    /// Ends the attempt with ROLLBACK instead of COMMIT, while the body still returns its
    /// value (a refused administrative batch undoes the changes it had made).
    pub fn rollback_only(&self) {
        self.rollback_only.store(true, Ordering::Relaxed);
    }

    /// Remembers `sql` as the statement running, for the log of a conflict.
    fn note(&self, sql: &str) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(target: "simgw::store::statement", tx = %self.id, sql);
        self.set_last(sql);
    }

    fn set_last(&self, sql: &str) {
        if let Ok(mut last) = self.last.lock() {
            last.clear();
            last.push_str(sql);
        }
    }

    /// The statement running or last run, on one line and shortened, for a log.
    fn last_statement(&self) -> String {
        let last = self.last.lock().map(|l| l.clone()).unwrap_or_default();
        let line: String = last.split_whitespace().collect::<Vec<_>>().join(" ");
        line.chars().take(120).collect()
    }

    /// Rows of `sql`, through the connection's statement cache.
    pub async fn rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        self.note(sql);
        let st = self.inner.prepare_cached(sql).await?;
        self.inner.query(&st, params).await
    }

    /// At most one row of `sql`.
    pub async fn row(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        self.note(sql);
        let st = self.inner.prepare_cached(sql).await?;
        self.inner.query_opt(&st, params).await
    }

    /// Runs `sql`; the number of rows it changed.
    pub async fn exec(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        self.note(sql);
        let st = self.inner.prepare_cached(sql).await?;
        self.inner.execute(&st, params).await
    }
}

/// True for the errors after which the whole transaction may simply run again.
pub fn retryable(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// A driver error as a store error: the SQLSTATE and the server's message, never its
/// detail (which may quote row values); no code means the connection failed.
pub fn db_error(e: &tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        // A statement timeout or cancel (57014), an operator or crash shutdown (57P0x),
        // a connection failure (08xxx) or no resources to spare (53xxx): the database,
        // not the request, is at fault, and a retry later may succeed.
        Some(db) if is_unavailable(db.code().code()) => {
            StoreError::Unavailable(format!("postgres {}: {}", db.code().code(), db.message()))
        }
        Some(db) => StoreError::Backend(format!("postgres {}: {}", db.code().code(), db.message())),
        None => StoreError::Unavailable(format!("postgres: {e}")),
    }
}

/// SQLSTATEs that say the database cannot serve now, not that the statement is wrong.
fn is_unavailable(code: &str) -> bool {
    code == "57014" || code.starts_with("57P") || code.starts_with("08") || code.starts_with("53")
}

/// Whether an attempt's failure is worth running again.
pub(super) fn retryable_tx(e: &TxError) -> bool {
    match e {
        TxError::Db(e) => retryable(e),
        TxError::Contended => true,
        TxError::Store(_) => false,
    }
}

/// A pool failure (no connection within the wait, or the database refused one); a closed
/// pool is a closed store.
pub fn pool_error(e: &deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Closed => StoreError::Closed,
        e => StoreError::Unavailable(format!("postgres: {e}")),
    }
}

/// A connection from `pool`, the wait for it observed in `stats.pool_wait` (and a wait
/// that timed out counted in `stats.pool_timeouts`): every transaction attempt and every
/// read takes its connection through here.
pub async fn checkout(pool: &Pool, stats: &RetryStats) -> Result<Object, StoreError> {
    let start = std::time::Instant::now();
    let got = pool.get().await;
    stats.pool_wait.observe(start.elapsed());
    got.map_err(|e| {
        if matches!(e, deadpool_postgres::PoolError::Timeout(_)) {
            stats.pool_timeouts.fetch_add(1, Ordering::Relaxed);
        }
        pool_error(&e)
    })
}

/// Runs `body` in a SERIALIZABLE transaction (or, for a job fenced by a lease row, a
/// [`Mode::Fenced`] one), again on serialization failures (see the module doc). `args` is
/// what the body reads besides the database; the body is a closure that captures nothing
/// (so every attempt starts from the same inputs).
pub async fn run<A, T, F>(
    pool: &Pool,
    (policy, mode): (&RetryPolicy, Mode),
    stats: &RetryStats,
    args: &A,
    body: F,
) -> Result<T, StoreError>
where
    A: Sync + ?Sized,
    F: for<'a> Fn(&'a Tx<'a>, &'a A) -> BoxFuture<'a, TxResult<T>>,
{
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let mut client = checkout(pool, stats).await?;
        match once(&mut client, mode, stats, args, &body).await {
            Ok(v) => return Ok(v),
            Err(TxError::Store(e)) => return Err(e),
            Err(e @ (TxError::Db(_) | TxError::Contended)) if retryable_tx(&e) => {
                if attempt >= policy.max_attempts {
                    stats.gave_up.fetch_add(1, Ordering::Relaxed);
                    let code = match &e {
                        TxError::Db(e) => e.code().map_or("", |c| c.code()),
                        _ => "held by running transactions",
                    };
                    return Err(StoreError::Unavailable(format!(
                        "postgres: gave up after {attempt} attempts that conflicted with other transactions ({code})"
                    )));
                }
                stats.retried.fetch_add(1, Ordering::Relaxed);
                drop(client);
                tokio::time::sleep(policy.pause(attempt, random_u64())).await;
            }
            Err(TxError::Db(e)) => return Err(db_error(&e)),
            Err(TxError::Contended) => return Err(contended()),
        }
    }
}

/// A transaction that could not get what it needs from the transactions running.
fn contended() -> StoreError {
    StoreError::Unavailable("postgres: what this needs is held by running transactions".into())
}

/// How a transaction runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// SERIALIZABLE, read-write: every write method.
    Serializable,
    /// REPEATABLE READ, read-write: only for a job that one node at a time runs under a
    /// lease whose row every run writes first (`leases::acquire`), so two runs cannot both
    /// commit (the second writer of a row fails with 40001 at this level too), and whose
    /// writes no request path reads, so no write skew involves it. It takes no predicate
    /// (SIRead) locks, so its scans of what writers insert (the unnumbered events) are
    /// never the reason a writer fails to serialize. The event sequencer's numbering
    /// (`sequencer::number`). CockroachDB runs it as SERIALIZABLE unless its
    /// repeatable-read level is enabled, which is correct there as well.
    Fenced,
    /// REPEATABLE READ, read-only: one snapshot, without the predicate (SIRead) locks of
    /// SERIALIZABLE, so it can neither fail to serialize nor be the reason a concurrent
    /// SERIALIZABLE transaction fails. For reads whose answer is only a hint.
    Snapshot,
}

/// Runs `body` once as a read-only snapshot ([`Mode::Snapshot`]): never retried, since it
/// cannot conflict.
pub async fn snapshot<A, T, F>(
    pool: &Pool,
    stats: &RetryStats,
    args: &A,
    body: F,
) -> Result<T, StoreError>
where
    A: Sync + ?Sized,
    F: for<'a> Fn(&'a Tx<'a>, &'a A) -> BoxFuture<'a, TxResult<T>>,
{
    let mut client = checkout(pool, stats).await?;
    match once(&mut client, Mode::Snapshot, stats, args, &body).await {
        Ok(v) => Ok(v),
        Err(TxError::Store(e)) => Err(e),
        Err(TxError::Db(e)) => Err(db_error(&e)),
        Err(TxError::Contended) => Err(contended()),
    }
}

async fn once<A, T, F>(
    client: &mut Object,
    mode: Mode,
    stats: &RetryStats,
    args: &A,
    body: &F,
) -> TxResult<T>
where
    A: Sync + ?Sized,
    F: for<'a> Fn(&'a Tx<'a>, &'a A) -> BoxFuture<'a, TxResult<T>>,
{
    let inner = match mode {
        Mode::Serializable => client
            .build_transaction()
            .isolation_level(IsolationLevel::Serializable),
        Mode::Fenced => client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead),
        Mode::Snapshot => client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true),
    }
    .start()
    .await?;
    let tx = Tx {
        inner,
        id: attempt_id(),
        slot: next_slot(),
        ordinal: AtomicU32::new(0),
        counted: std::sync::atomic::AtomicBool::new(false),
        rollback_only: AtomicBool::new(false),
        last: std::sync::Mutex::new(String::new()),
        statements: AtomicU32::new(0),
        deferred: Default::default(),
    };
    // On an error the transaction is dropped, which rolls it back.
    let mut result = body(&tx, args).await;
    if result.is_ok() && !tx.rollback_only.load(Ordering::Relaxed) {
        tx.set_last("(deferred counter changes and log rows)");
        match tx.deferred.flush(&tx.inner, &tx.id).await {
            Ok(n) => {
                tx.statements.fetch_add(n, Ordering::Relaxed);
            }
            Err(e) => result = Err(TxError::Db(e)),
        }
    }
    // The body's statements, and the transaction's start and end.
    let sent = tx.statements.load(Ordering::Relaxed) + 2;
    stats
        .statements
        .fetch_add(u64::from(sent), Ordering::Relaxed);
    let value = match result {
        Ok(v) => v,
        Err(e) => {
            log_conflict(&e, &tx.last_statement());
            return Err(e);
        }
    };
    let end = if tx.rollback_only.load(Ordering::Relaxed) {
        tx.inner.rollback().await
    } else {
        tx.inner.commit().await
    };
    if let Err(e) = end {
        let e = TxError::Db(e);
        log_conflict(&e, "COMMIT");
        return Err(e);
    }
    Ok(value)
}

/// Logs a retryable conflict at debug level with the statement it hit and PostgreSQL's
/// reason code (its detail for 40001 names the check, never row values).
fn log_conflict(e: &TxError, statement: &str) {
    if let TxError::Db(e) = e
        && retryable(e)
    {
        let reason = e.as_db_error().and_then(|d| d.detail()).unwrap_or("");
        tracing::debug!(target: "simgw::store::conflict", statement, reason, "transaction conflict");
    }
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // The system RNG does not fail on the platforms we run on; a zero pause is harmless.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    u64::from_le_bytes(b)
}

/// The next [`Tx::slot`]: consecutive within the process, from a random start so that
/// nodes started together do not walk the same slots.
fn next_slot() -> u32 {
    static NEXT: std::sync::OnceLock<AtomicU32> = std::sync::OnceLock::new();
    NEXT.get_or_init(|| AtomicU32::new(random_u64() as u32))
        .fetch_add(1, Ordering::Relaxed)
}

/// Attempts started by this process, for [`attempt_id`].
static ATTEMPTS: AtomicU64 = AtomicU64::new(0);

/// An attempt's id, 36 hex digits that sort in start order: the wall-clock ms (12), this
/// process's attempt counter (16), then 8 random digits that keep ids of different nodes
/// apart. The sequencer numbers events in this order, so a transaction that started after
/// another committed on the same node always comes after it; across nodes, the clocks
/// decide within the same millisecond-order.
fn attempt_id() -> String {
    let now = crate::clock::Clock::new().now_ms();
    let n = ATTEMPTS.fetch_add(1, Ordering::Relaxed);
    format_attempt_id(now, n, random_u64() as u32)
}

fn format_attempt_id(now_ms: u64, n: u64, random: u32) -> String {
    let now = now_ms & 0xffff_ffff_ffff;
    format!("{now:012x}{n:016x}{random:08x}")
}

/// When the attempt that wrote a row keyed by `txn` (an [`attempt_id`]) started, Unix ms:
/// its first 12 hex digits. `None` for a key of another shape.
pub fn txn_started_ms(txn: &str) -> Option<u64> {
    let head = txn.get(..12)?;
    head.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| u64::from_str_radix(head, 16).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_id_tells_when_its_attempt_started() {
        for now in [0, 1, 1_700_000_000_123, 0xffff_ffff_ffff] {
            let id = format_attempt_id(now, 42, 0xdead_beef);
            assert_eq!(txn_started_ms(&id), Some(now), "{id}");
        }
        assert!(txn_started_ms(&attempt_id()).is_some());
        assert_eq!(txn_started_ms("00000000ff10xyz"), Some(0xff10));
        for other in ["", "abc", "0000000000+1", "zzzzzzzzzzzz00"] {
            assert_eq!(txn_started_ms(other), None, "{other:?}");
        }
    }

    #[test]
    fn pauses_are_bounded_doubling_and_jittered() {
        let p = RetryPolicy::default();
        for attempt in 1..40 {
            let bound = p.base.saturating_mul(1 << (attempt - 1).min(20)).min(p.cap);
            for r in [0, 1, 12_345, u64::MAX / 3, u64::MAX] {
                assert!(p.pause(attempt, r) <= bound, "{attempt} {r}");
            }
        }
        assert_eq!(p.pause(1, 0), Duration::ZERO);
        assert!(p.pause(30, u64::MAX - 1) <= p.cap);
        assert_ne!(p.pause(5, 1_000_000), p.pause(5, 2_000_000), "jitter");
    }

    #[test]
    fn attempt_ids_differ_and_sort_in_start_order() {
        let (a, b) = (attempt_id(), attempt_id());
        assert_eq!(a.len(), 36);
        assert!(a < b, "ids sort in start order: {a} {b}");
    }
}
