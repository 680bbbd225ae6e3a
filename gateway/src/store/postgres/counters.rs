//! Inventory counters, sharded: a change adds to one of [`SHARDS`] rows, chosen by the
//! transaction's slot (`Tx::slot`), so transactions a node runs at once never write the
//! same row and those of different nodes seldom do (each such collision is a
//! serialization failure and a retry); reads sum the shards. Rows are (tenant, counter
//! name, scope, shard), where scope is the number pool (block) or SIM batch the embedded
//! backend writes as `name@scope`; a tenant's total is the sum over its scopes.

use super::retry::{Tx, TxResult};
use deadpool_postgres::GenericClient;
use std::collections::BTreeMap;

/// Counter names (one list for both backends, in `store/records`).
pub use crate::store::counter;

/// Shards per counter (more than a node's pool of connections).
pub const SHARDS: u32 = 64;

/// Adds `delta` to the tenant's counter `name` in `scope` (see the module doc), written
/// just before the transaction commits (`deferred.rs`).
pub async fn add(tx: &Tx<'_>, tenant: &str, scope: &str, name: &str, delta: i64) -> TxResult<()> {
    if delta == 0 {
        return Ok(());
    }
    tx.mark_counted();
    let shard = i32::try_from(tx.slot() % SHARDS).unwrap_or(0);
    // Written with the transaction's other counter changes just before its commit.
    tx.deferred().add_counter(tenant, name, scope, shard, delta);
    Ok(())
}

/// The tenant's counters summed over shards and scopes: name → count.
pub async fn totals(
    c: &impl GenericClient,
    tenant: &str,
) -> Result<BTreeMap<String, u64>, tokio_postgres::Error> {
    let st = c
        .prepare_cached(
            "SELECT name, CAST(SUM(n) AS BIGINT) FROM counters WHERE tenant = $1 GROUP BY name",
        )
        .await?;
    Ok(c.query(&st, &[&tenant])
        .await?
        .iter()
        .map(|r| {
            (
                r.get::<_, String>(0),
                u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
            )
        })
        .collect())
}

/// The tenant's counters per scope: (name, scope) → count.
pub async fn by_scope(
    c: &impl GenericClient,
    tenant: &str,
) -> Result<BTreeMap<(String, String), u64>, tokio_postgres::Error> {
    let st = c
        .prepare_cached(
            "SELECT name, scope, CAST(SUM(n) AS BIGINT) FROM counters WHERE tenant = $1
             GROUP BY name, scope",
        )
        .await?;
    Ok(c.query(&st, &[&tenant])
        .await?
        .iter()
        .map(|r| {
            (
                (r.get::<_, String>(0), r.get::<_, String>(1)),
                u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
            )
        })
        .collect())
}
