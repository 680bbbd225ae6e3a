//! What a write transaction needs from its store, owned: `PgStore::transaction` runs
//! through it, and a group transaction (`group.rs`) carries one into a task of its own, so
//! a group runs to its end whichever of its callers is dropped meanwhile.

use super::PgStore;
use super::order_leases::{self, Owner};
use super::retry::{self, Mode, RetryPolicy, RetryStats, Tx, TxResult};
use crate::store::StoreError;
use adapters::hlr::BoxFuture;
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A store's transaction runner, cheap to clone.
#[derive(Clone)]
pub struct Committer {
    pool: Pool,
    policy: RetryPolicy,
    /// The store's counters (conflicts, statements, groups).
    pub stats: Arc<RetryStats>,
    stock_changed: Arc<AtomicBool>,
    local_appends: Arc<AtomicU64>,
    sequencer_wake: Arc<tokio::sync::Notify>,
    node: String,
    lease: Duration,
}

impl PgStore {
    /// This store's transaction runner.
    pub(super) fn committer(&self) -> Committer {
        Committer {
            pool: self.pool.clone(),
            policy: self.policy,
            stats: self.stats.clone(),
            stock_changed: self.stock_changed.clone(),
            local_appends: self.local_appends.clone(),
            sequencer_wake: self.sequencer_wake.clone(),
            node: self.node.clone(),
            lease: self.lease,
        }
    }
}

impl Committer {
    /// See `PgStore::transaction`.
    pub async fn transaction<A, T, F>(&self, args: &A, body: F) -> Result<T, StoreError>
    where
        A: Sync + ?Sized,
        F: for<'a> Fn(&'a Tx<'a>, &'a A) -> BoxFuture<'a, TxResult<T>> + Sync,
    {
        self.run(Mode::Serializable, args, body).await
    }

    /// As [`Committer::transaction`], at [`Mode::Fenced`]: for the sequencer's numbering
    /// only (see there why it is safe).
    pub async fn fenced<A, T, F>(&self, args: &A, body: F) -> Result<T, StoreError>
    where
        A: Sync + ?Sized,
        F: for<'a> Fn(&'a Tx<'a>, &'a A) -> BoxFuture<'a, TxResult<T>> + Sync,
    {
        self.run(Mode::Fenced, args, body).await
    }

    async fn run<A, T, F>(&self, mode: Mode, args: &A, body: F) -> Result<T, StoreError>
    where
        A: Sync + ?Sized,
        F: for<'a> Fn(&'a Tx<'a>, &'a A) -> BoxFuture<'a, TxResult<T>> + Sync,
    {
        use Ordering::Relaxed;
        let (appended, counted) = (AtomicBool::new(false), AtomicBool::new(false));
        let value = retry::run(
            &self.pool,
            (&self.policy, mode),
            &self.stats,
            &(args, &body, (&appended, &counted)),
            |tx, (args, body, (appended, counted))| {
                Box::pin(async move {
                    let v = body(tx, args).await?;
                    appended.store(tx.appended(), Relaxed);
                    counted.store(tx.counted(), Relaxed);
                    Ok(v)
                })
            },
        )
        .await?;
        if counted.load(Relaxed) {
            self.stock_changed.store(true, Relaxed);
        }
        if appended.load(Relaxed) {
            self.local_appends.fetch_add(1, Ordering::SeqCst);
        }
        if appended.load(Relaxed) || counted.load(Relaxed) {
            self.sequencer_wake.notify_one();
        }
        Ok(value)
    }

    /// The lease this node's new orders get (as `PgStore::owner`).
    pub fn owner(&self) -> Owner<'_> {
        order_leases::owner(&self.node, self.lease)
    }
}
