//! Idempotency records of orders: one row per (tenant, Idempotency-Key), so the database
//! itself refuses a key with two live orders (two nodes inserting the same key at once:
//! one commits, the other fails to serialize and, retried, finds the first).

use super::codec::{big, from_doc};
use super::retry::{Tx, TxError, TxResult};
use crate::store::{CreateOutcome, IdempotencyRecord, Tenant};

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

/// What [`claim`] found.
pub enum Claim {
    /// The key's first answer again, or `KeyReused`: the transaction has nothing to do.
    Answer(Box<CreateOutcome>),
    /// The key is this transaction's now; the tenant's record, read in the same statement
    /// (`None`: no such tenant).
    New(Option<Tenant>),
}

/// Claims (`tenant`, `key`) for a new order, the first thing its transaction does: inserts
/// the key's row unless one exists, and answers as the embedded `replay` does, with the
/// first answer again (same body hash) or `KeyReused` for a key seen since `cutoff_ms`,
/// [`Claim::New`] for a new or expired key, which this transaction now holds (a concurrent
/// request with the same key waits for it, then fails to serialize and, run again, gets
/// the answer). The row is a placeholder until `orders::insert_new_order` completes it; a
/// transaction that refuses the order after claiming must roll back
/// (`Tx::rollback_only`). The same statement reads the tenant, which every create needs.
///
/// Insert first, not read first: a read of a missing key locks its index page at
/// SERIALIZABLE, and with keys that sort together (a client's counter) every concurrent
/// order would read and then write the same page, a conflict that fails them all but one.
/// The insert's own check for an existing key takes no such lock.
pub async fn claim(tx: &Tx<'_>, key: Key<'_>, cutoff_ms: u64) -> TxResult<Claim> {
    let row = tx
        .row(
            "WITH c AS (
                 INSERT INTO idempotency (tenant, idem_key, order_id, body_hash, created_at_ms,
                                          doc)
                 VALUES ($1, $2, $3, $4, $5, 'null') ON CONFLICT (tenant, idem_key) DO NOTHING
                 RETURNING 1)
             SELECT (SELECT count(*) FROM c), (SELECT doc FROM tenants WHERE id = $1)",
            &[
                &key.tenant,
                &key.key,
                &key.order_id,
                &key.body_hash,
                &big(key.now_ms),
            ],
        )
        .await?;
    let (claimed, tenant) = match row {
        Some(r) => (r.get::<_, i64>(0), r.get::<_, Option<serde_json::Value>>(1)),
        None => (0, None),
    };
    let tenant = || -> TxResult<Option<Tenant>> {
        match tenant {
            Some(d) => Ok(Some(from_doc("tenants", d)?)),
            None => Ok(None),
        }
    };
    if claimed == 1 {
        return Ok(Claim::New(tenant()?));
    }
    // The row exists and this snapshot sees it (else the insert failed to serialize).
    let Some(rec) = lookup(tx, key.tenant, key.key).await? else {
        return Err(TxError::Contended);
    };
    if rec.created_at_ms < cutoff_ms {
        return Ok(Claim::New(tenant()?));
    }
    Ok(Claim::Answer(Box::new(if rec.body_hash == key.body_hash {
        CreateOutcome::Replayed(rec.response)
    } else {
        CreateOutcome::KeyReused
    })))
}

/// Gives back a key [`claim`] inserted for `order_id` and the transaction will not use
/// (a compliance refusal, which commits its audit record but must leave the key free, as
/// if never sent): deletes the placeholder row, and nothing else (an expired record the
/// claim found stays as it was).
pub async fn unclaim(tx: &Tx<'_>, tenant: &str, key: &str, order_id: &str) -> TxResult<()> {
    tx.exec(
        "DELETE FROM idempotency
         WHERE tenant = $1 AND idem_key = $2 AND order_id = $3 AND doc = 'null'::JSONB",
        &[&tenant, &key, &order_id],
    )
    .await?;
    Ok(())
}

/// What [`claim`] records: the key, the request's body hash, the order it will create
/// and when.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The Idempotency-Key.
    pub key: &'a str,
    /// The request body's hash.
    pub body_hash: &'a str,
    /// The id the order will have.
    pub order_id: &'a str,
    /// Now, Unix ms.
    pub now_ms: u64,
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
