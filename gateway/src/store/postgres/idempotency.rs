//! Idempotency records of orders: one row per (tenant, Idempotency-Key), so the database
//! itself refuses a key with two live orders (two nodes inserting the same key at once:
//! one commits, the other fails to serialize and, retried, finds the first).

use super::codec::{big, from_doc, to_doc};
use super::retry::{Tx, TxResult};
use crate::store::{CreateOutcome, IdempotencyRecord};

/// The record of (`tenant`, `key`), live or expired.
pub async fn lookup(tx: &Tx<'_>, tenant: &str, key: &str) -> TxResult<Option<IdempotencyRecord>> {
    match tx
        .row(
            "SELECT doc FROM idempotency WHERE tenant = $1 AND idem_key = $2",
            &[&tenant, &key],
        )
        .await?
    {
        Some(r) => Ok(Some(from_doc("idempotency", r.get(0))?)),
        None => Ok(None),
    }
}

/// The answer to a request whose key was seen since `cutoff_ms`: the first answer again
/// (same body hash) or `KeyReused`; `None` for a new or expired key (embedded `replay`).
pub async fn replay(
    tx: &Tx<'_>,
    tenant: &str,
    key: &str,
    body_hash: &str,
    cutoff_ms: u64,
) -> TxResult<Option<CreateOutcome>> {
    let Some(rec) = lookup(tx, tenant, key).await? else {
        return Ok(None);
    };
    if rec.created_at_ms < cutoff_ms {
        return Ok(None);
    }
    Ok(Some(if rec.body_hash == body_hash {
        CreateOutcome::Replayed(rec.response)
    } else {
        CreateOutcome::KeyReused
    }))
}

/// Records the key's order, replacing an expired record of the same key (call after
/// [`replay`] answered `None`).
pub async fn insert(tx: &Tx<'_>, tenant: &str, key: &str, rec: &IdempotencyRecord) -> TxResult<()> {
    tx.exec(
        "INSERT INTO idempotency (tenant, idem_key, order_id, body_hash, created_at_ms, doc)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant, idem_key) DO UPDATE SET order_id = excluded.order_id,
             body_hash = excluded.body_hash, created_at_ms = excluded.created_at_ms,
             doc = excluded.doc",
        &[
            &tenant,
            &key,
            &rec.order_id,
            &rec.body_hash,
            &big(rec.created_at_ms),
            &to_doc(rec)?,
        ],
    )
    .await?;
    Ok(())
}

/// Deletes records created before `before_ms`; how many.
pub async fn prune(tx: &Tx<'_>, before_ms: u64) -> TxResult<usize> {
    let n = tx
        .exec(
            "DELETE FROM idempotency WHERE created_at_ms < $1",
            &[&big(before_ms)],
        )
        .await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}
