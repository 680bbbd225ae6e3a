//! Read-your-writes for the event logs (and for `inventory.low_stock`, after this node
//! changed a counter). Writes insert events unnumbered and the sequencer
//! numbers them (`sequencer.rs`); a read of the logs or of the webhook outbox first has
//! this node number what is pending, when it holds or can take the sequencer lease, so a
//! caller reads back its own commit at once, as on the embedded store. A node that cannot
//! take the lease (another node is numbering) reads what that node numbered: at most
//! `EVENT_POLL` behind.

use super::PgStore;
use super::retry::db_error;
use crate::store::StoreError;

impl PgStore {
    /// Numbers pending events (and runs the low-stock watch) before a read of the logs.
    pub async fn catch_up(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::Relaxed;
        let stock = self.stock_changed.swap(false, Relaxed);
        if !stock && !self.events_pending().await? {
            return Ok(());
        }
        self.flush_events().await?;
        if stock && self.watch_low_stock().await? > 0 {
            self.flush_events().await?;
        }
        Ok(())
    }

    /// Whether any committed event waits for its number (two index probes).
    pub(super) async fn events_pending(&self) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL)
                     OR EXISTS (SELECT 1 FROM public_events WHERE seq IS NULL)",
            )
            .await
            .map_err(|e| db_error(&e))?;
        let row = c.query_one(&st, &[]).await.map_err(|e| db_error(&e))?;
        Ok(row.get(0))
    }
}
