//! `inventory.low_stock`: published when a tenant's available SIMs or numbers fall to the
//! threshold, once per crossing (the count must rise above it again before it can fall to
//! it again), as the embedded backend's `watch_stock` does.
//!
//! The embedded backend checks inside every commit that changes a counter. Here that
//! would mean reading every shard of the tenant's counter in each activation's
//! SERIALIZABLE transaction, and so a conflict between any two concurrent activations of
//! a tenant: the sharding (`counters.rs`) would be for nothing. Instead the sequencer's
//! lease holder watches: at most once per `EVENT_POLL` it reads the totals (a plain read,
//! outside any transaction), compares each with the level it saw last (`low_stock`
//! table), and publishes on a crossing. So no write path calls anything for it. It
//! differs from the embedded rule in that the event follows the crossing commit by up to
//! the poll interval, reports the level it saw (which may already be below the
//! threshold), and a dip that recovers between two looks is not reported. Looks on one
//! node take turns from reading the totals to committing (a look that read earlier must
//! not record its level after a later one); only the lease holder looks, so two nodes
//! overlap only if a look outlasts the lease.

use super::PgStore;
use super::codec::{big, unbig};
use super::counters::counter;
use super::events::publish;
use super::retry::{Tx, TxResult, db_error};
use super::{SEQUENCER_LEASE_MS, leases, sequencer};
use crate::store::{EventType, StoreError};
use serde_json::json;
use std::collections::BTreeMap;

/// The `settings` row of the threshold.
pub const THRESHOLD: &str = "low_stock_threshold";

/// The counters watched.
pub const WATCHED: [&str; 2] = [counter::SIMS_AVAILABLE, counter::NUMBERS_AVAILABLE];

/// (tenant, counter) → level.
type Levels = BTreeMap<(String, String), u64>;

/// True when a move from `before` to `after` is a crossing of `threshold`.
pub fn crosses(before: u64, after: u64, threshold: u64) -> bool {
    before > threshold && after <= threshold
}

async fn watch(tx: &Tx<'_>, node: &str, now_ms: u64, seen: &Levels) -> TxResult<usize> {
    if !leases::acquire(tx, sequencer::LEASE, node, now_ms, SEQUENCER_LEASE_MS).await? {
        return Ok(0);
    }
    let threshold = tx
        .row("SELECT value FROM settings WHERE name = $1", &[&THRESHOLD])
        .await?
        .map(|r| unbig(r.get(0)));
    let last: Levels = tx
        .rows("SELECT tenant, counter, level FROM low_stock", &[])
        .await?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), unbig(r.get(2))))
        .collect();
    let mut published = 0;
    for ((tenant, name), &level) in seen {
        let before = last.get(&(tenant.clone(), name.clone())).copied();
        if before == Some(level) {
            continue;
        }
        if let (Some(t), Some(b)) = (threshold, before) {
            if crosses(b, level, t) {
                let data = json!({"counter": name, "available": level, "threshold": t});
                publish(tx, now_ms, tenant, EventType::InventoryLowStock, None, data).await?;
                published += 1;
            }
        }
        tx.exec(
            "INSERT INTO low_stock (tenant, counter, level) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, counter) DO UPDATE SET level = excluded.level",
            &[tenant, name, &big(level)],
        )
        .await?;
    }
    Ok(published)
}

impl PgStore {
    /// Sets the available-stock level that publishes `inventory.low_stock` (`None`: off).
    pub async fn set_low_stock_threshold(&self, threshold: Option<u64>) -> Result<(), StoreError> {
        self.transaction(&threshold, |tx, t| {
            Box::pin(async move {
                match t {
                    Some(t) => {
                        tx.exec(
                            "INSERT INTO settings (name, value) VALUES ($1, $2)
                             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                            &[&THRESHOLD, &big(*t)],
                        )
                        .await?
                    }
                    None => {
                        tx.exec("DELETE FROM settings WHERE name = $1", &[&THRESHOLD])
                            .await?
                    }
                };
                Ok(())
            })
        })
        .await
    }

    /// One look of the low-stock watch (see the module doc), if this node holds the
    /// sequencer lease; how many `inventory.low_stock` events it published. The sequencer
    /// task calls it; tests call it directly.
    pub async fn watch_low_stock(&self) -> Result<usize, StoreError> {
        // The sequencer task and a reader's catch-up both look: one at a time, so that
        // the levels recorded only move forward.
        let _one_look = self.low_stock_gate.lock().await;
        let seen: Levels = {
            let c = self.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT tenant, name, CAST(SUM(n) AS BIGINT) FROM counters
                     WHERE name = ANY($1) GROUP BY tenant, name",
                )
                .await
                .map_err(|e| db_error(&e))?;
            c.query(&st, &[&&WATCHED[..]])
                .await
                .map_err(|e| db_error(&e))?
                .iter()
                .map(|r| ((r.get(0), r.get(1)), unbig(r.get(2))))
                .collect()
        };
        let now = crate::clock::Clock::new().now_ms();
        self.transaction(&(self.node_id(), now, seen), |tx, (node, now, seen)| {
            Box::pin(watch(tx, node, *now, seen))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::crosses;

    #[test]
    fn a_crossing_is_from_above_to_at_or_below() {
        assert!(crosses(101, 100, 100));
        assert!(crosses(500, 3, 100));
        assert!(!crosses(100, 99, 100), "already at the threshold");
        assert!(!crosses(50, 40, 100), "already below");
        assert!(!crosses(90, 120, 100), "rising");
        assert!(!crosses(120, 101, 100), "still above");
    }
}
