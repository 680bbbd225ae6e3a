//! Leases: a named job that one node at a time may run (the event sequencer), held by a
//! node id until an expiry and renewed by the holder. Taking or renewing one locks its row
//! (`FOR UPDATE`) and writes it inside the caller's SERIALIZABLE transaction, so the work
//! done in that same transaction is fenced: a second node's attempt waits for the first
//! to end, and two nodes that both believe they hold it cannot both commit.

use super::codec::{big, unbig};
use super::retry::{Tx, TxResult};

const LOCK: &str = "SELECT owner, expires_at_ms FROM leases WHERE name = $1 FOR UPDATE";

/// Takes or renews lease `name` for `node` until `now_ms + ttl_ms`, unless another node
/// holds it unexpired; true if `node` holds it now.
pub async fn acquire(
    tx: &Tx<'_>,
    name: &str,
    node: &str,
    now_ms: u64,
    ttl_ms: u64,
) -> TxResult<bool> {
    let until = big(now_ms.saturating_add(ttl_ms));
    let mut row = tx.row(LOCK, &[&name]).await?;
    if row.is_none() {
        // The first use: a lapsed lease, then locked as any other (a node creating it at
        // the same moment makes this wait for it, and the lock then reads its row).
        tx.exec(
            "INSERT INTO leases (name, owner, expires_at_ms) VALUES ($1, $2, 0)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &node],
        )
        .await?;
        row = tx.row(LOCK, &[&name]).await?;
    }
    // None: released (deleted) between the insert and the lock; take it at the next pass.
    let Some(r) = row else {
        return Ok(false);
    };
    let (owner, expires): (String, i64) = (r.get(0), r.get(1));
    if owner != node && unbig(expires) > now_ms {
        return Ok(false);
    }
    tx.exec(
        "UPDATE leases SET owner = $2, expires_at_ms = $3 WHERE name = $1",
        &[&name, &node, &until],
    )
    .await?;
    Ok(true)
}

/// Gives lease `name` up if `node` holds it (a clean shutdown), so another node need not
/// wait for it to lapse.
pub async fn release(tx: &Tx<'_>, name: &str, node: &str) -> TxResult<()> {
    tx.exec(
        "DELETE FROM leases WHERE name = $1 AND owner = $2",
        &[&name, &node],
    )
    .await?;
    Ok(())
}
