//! Read-your-writes for the event logs (and for `inventory.low_stock`, after this node
//! changed a counter). Writes insert events unnumbered and the sequencer
//! numbers them (`sequencer.rs`); a read of the logs or of the webhook outbox first has
//! this node number what it committed and is pending, when it holds or can take the
//! sequencer lease, so a caller reads back its own commit at once, as on the embedded
//! store. Other nodes' commits, and all of them on a node that cannot take the lease
//! (another node is numbering), are read as the lease holder numbered them: at most
//! `EVENT_POLL` behind.

use super::PgStore;
use super::retry::db_error;
use crate::store::StoreError;

impl PgStore {
    /// Numbers this node's pending events (and runs the low-stock watch) before a read of
    /// the logs. Nothing to do, and no statement sent, when a pass numbered every commit
    /// of this node that appended to the logs before the call; a caller that waits for
    /// another's pass which covers its commits runs none of its own. A pass that cannot
    /// run now (contention, a timeout) does not fail the read: it reads what is numbered.
    pub async fn catch_up(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::{Relaxed, SeqCst};
        let stock = self.stock_changed.swap(false, Relaxed);
        let through = self.local_appends.load(SeqCst);
        if !stock && self.numbered_through.load(SeqCst) >= through {
            return Ok(());
        }
        match self.number_own(through).await {
            Ok(()) => {}
            // The read goes on with what is numbered (numbers follow commits, so a reader
            // skips nothing; this node's newest commits show after the sequencer task's
            // next pass): a read refused because numbering met contention or a slow
            // lock would be worse than one a pass behind.
            Err(StoreError::Unavailable(e)) => {
                tracing::debug!(error = %e, "catch-up pass failed; reading what is numbered");
                // The low-stock watch waits for the next read.
                if stock {
                    self.stock_changed.store(true, Relaxed);
                }
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        if stock && self.watch_low_stock().await? > 0 {
            self.flush_events().await?;
        }
        Ok(())
    }

    /// Passes until this node's commits up to `through` are numbered (or another node
    /// holds the lease).
    async fn number_own(&self, through: u64) -> Result<(), StoreError> {
        while let Some(n) = self.pass_unless_numbered(Some(through)).await? {
            if n.public == 0 && n.audit == 0 && n.chain == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Whether any committed event waits for its number (two index probes).
    pub(super) async fn events_pending(&self) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM event_batches WHERE seq IS NULL)
                     OR EXISTS (SELECT 1 FROM public_batches WHERE seq IS NULL)",
            )
            .await
            .map_err(|e| db_error(&e))?;
        let row = c.query_one(&st, &[]).await.map_err(|e| db_error(&e))?;
        Ok(row.get(0))
    }
}
