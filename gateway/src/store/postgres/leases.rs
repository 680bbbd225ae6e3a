//! Leases: a named job that one node at a time may run (the event sequencer), held by a
//! node id until an expiry and renewed by the holder. Taking or renewing one is a read
//! and a write of its row inside the caller's SERIALIZABLE transaction (the second of
//! two concurrent writes of one row fails with 40001), so the work done in that same
//! transaction is fenced: two nodes that both believe they hold it cannot both commit.

use super::codec::{big, unbig};
use super::retry::{Tx, TxResult};

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
    let row = tx
        .row(
            "SELECT owner, expires_at_ms FROM leases WHERE name = $1",
            &[&name],
        )
        .await?;
    match row {
        None => {
            // Two nodes taking a new lease at once: the second's insert meets the first's
            // row, which its snapshot does not show; PostgreSQL then fails it with a
            // serialization error (40001, run again: it reads the row) rather than a
            // unique violation. `0` rows: the row is there after all; not ours.
            let n = tx
                .exec(
                    "INSERT INTO leases (name, owner, expires_at_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO NOTHING",
                    &[&name, &node, &until],
                )
                .await?;
            Ok(n == 1)
        }
        Some(r) => {
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
    }
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
