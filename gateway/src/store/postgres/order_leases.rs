//! Order ownership when several nodes share the database (`Store::lease`,
//! `claim_orders`, `renew_leases`): each order in flight has a lease (owner node id,
//! expiry in Unix ms) on its `orders_inflight` row. The node that creates or reopens an order
//! leases it in that same commit; its keeper renews; any node claims an order whose lease
//! lapsed. Lease changes leave the order's version alone: versions decide what is
//! written (`advance_order`), leases only who drives.

use super::PgStore;
use super::codec::{big, from_doc};
use super::retry::{Tx, TxResult};
use crate::order::Order;
use crate::store::StoreError;
use std::collections::HashSet;
use std::time::Duration;

/// A node's lease on the orders it creates or reopens: (owner, lease time in ms).
pub type Owner<'a> = (&'a str, u64);

/// Node `node`'s lease of `lease` as an [`Owner`].
pub fn owner(node: &str, lease: Duration) -> Owner<'_> {
    (node, u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
}

async fn claim(
    tx: &Tx<'_>,
    (node, lease_ms): Owner<'_>,
    now_ms: u64,
    limit: i64,
) -> TxResult<Vec<Order>> {
    // SKIP LOCKED: nodes claiming at once share the lapsed orders instead of colliding.
    // COALESCE, not NULLS FIRST: PostgreSQL and CockroachDB sort NULLs differently.
    let ids: Vec<String> = tx
        .rows(
            "SELECT id FROM orders_inflight
             WHERE lease_owner IS NULL OR lease_until_ms IS NULL OR lease_until_ms < $1
             ORDER BY COALESCE(lease_until_ms, 0), id LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&big(now_ms), &limit],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let until = big(now_ms.saturating_add(lease_ms));
    tx.exec(
        "UPDATE orders_inflight SET lease_owner = $2, lease_until_ms = $3 WHERE id = ANY($1)",
        &[&ids, &node, &until],
    )
    .await?;
    let rows = tx
        .rows("SELECT id, doc FROM orders WHERE id = ANY($1)", &[&ids])
        .await?;
    let mut by_id = std::collections::HashMap::with_capacity(rows.len());
    for r in &rows {
        by_id.insert(r.get::<_, &str>(0), r);
    }
    // In the order claimed: the longest-lapsed first.
    ids.iter()
        .filter_map(|id| by_id.remove(id.as_str()))
        .map(|r| Ok(from_doc("orders", r.get(1))?))
        .collect()
}

async fn renew(
    tx: &Tx<'_>,
    (node, lease_ms): Owner<'_>,
    ids: &[String],
    now_ms: u64,
) -> TxResult<Vec<String>> {
    let until = big(now_ms.saturating_add(lease_ms));
    let held: HashSet<String> = tx
        .rows(
            "UPDATE orders_inflight SET lease_until_ms = $3
             WHERE id = ANY($1) AND lease_owner = $2 RETURNING id",
            &[&ids, &node, &until],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(ids
        .iter()
        .filter(|id| !held.contains(*id))
        .cloned()
        .collect())
}

impl PgStore {
    /// This node's lease on orders it creates or reopens: (node id, lease time in ms).
    pub fn owner(&self) -> Owner<'_> {
        owner(self.node_id(), self.lease_time())
    }

    /// `Some(lease time)`: orders in flight are driven under leases of this length.
    pub fn lease(&self) -> Option<Duration> {
        Some(self.lease_time())
    }

    /// Takes over orders in flight that no node holds (never leased, or their lease
    /// lapsed before `now_ms`) for this node, at most `limit`, longest-lapsed first; each
    /// order returned is this node's to drive until `now_ms` + the lease time.
    pub async fn claim_orders(&self, now_ms: u64, limit: usize) -> Result<Vec<Order>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.transaction(&(self.owner(), now_ms, limit), |tx, (owner, now, limit)| {
            Box::pin(claim(tx, *owner, *now, *limit))
        })
        .await
    }

    /// Extends this node's leases on `ids` to `now_ms` + the lease time; returns the ids
    /// it no longer holds (another node claimed them, or there is no such order).
    pub async fn renew_leases(
        &self,
        ids: &[String],
        now_ms: u64,
    ) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.transaction(&(self.owner(), ids, now_ms), |tx, (owner, ids, now)| {
            Box::pin(renew(tx, *owner, ids, *now))
        })
        .await
    }
}
