//! Idempotency records of orders: one row per (tenant, Idempotency-Key), so the database
//! itself refuses a key with two live orders (two nodes inserting the same key at once:
//! one commits, the other fails to serialize and, retried, finds the first).

use super::codec::{DocRef, big, from_doc};
use super::numbers::Ends;
use super::retry::{Tx, TxError, TxResult};
use crate::store::{CreateOutcome, IdempotencyRecord, SimRecord, Tenant};

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
    /// The key is this transaction's now; what the same statement read.
    New(Box<Claimed>),
}

/// What a create reads in the statement that claims its key (see [`Prefetch`]).
pub struct Claimed {
    /// The tenant's record (`None`: no such tenant).
    pub tenant: Option<Tenant>,
    /// The card asked for: its record and whether it is stock (`None`: no such card, or
    /// none asked for).
    pub sim: Option<(SimRecord, bool)>,
    /// The tenant's lowest and highest free ordinary numbers, when asked for (the inner
    /// `None`: none free).
    pub ends: Option<Ends>,
}

/// What a create asks [`claim`] to read along: the card it names, and the free list's
/// ends (for an automatic number).
#[derive(Clone, Copy, Default)]
pub struct Prefetch<'a> {
    /// A physical card's ICCID.
    pub sim: Option<&'a str>,
    /// Whether to read the ends of the tenant's free list.
    pub ends: bool,
}

/// Claims (`tenant`, `key`) for a new order, the first thing its transaction does: inserts
/// the key's row unless one exists, and answers as the embedded `replay` does, with the
/// first answer again (same body hash) or `KeyReused` for a key seen since `cutoff_ms`,
/// [`Claim::New`] for a new or expired key, which this transaction now holds (a concurrent
/// request with the same key waits for it, then fails to serialize and, run again, gets
/// the answer). The row is a placeholder until `orders::insert_new_order` completes it; a
/// transaction that refuses the order after claiming must roll back
/// (`Tx::rollback_only`). The same statement reads what the create needs next (the
/// tenant, and what `prefetch` asks for), saving a statement each.
///
/// Insert first, not read first: a read of a missing key locks its index page at
/// SERIALIZABLE, and with keys that sort together (a client's counter) every concurrent
/// order would read and then write the same page, a conflict that fails them all but one.
/// The insert's own check for an existing key takes no such lock.
pub async fn claim(
    tx: &Tx<'_>,
    key: Key<'_>,
    cutoff_ms: u64,
    prefetch: Prefetch<'_>,
) -> TxResult<Claim> {
    let row = tx
        .row(
            "WITH c AS (
                 INSERT INTO idempotency (tenant, idem_key, order_id, body_hash, created_at_ms,
                                          doc)
                 VALUES ($1, $2, $3, $4, $5, 'null') ON CONFLICT (tenant, idem_key) DO NOTHING
                 RETURNING 1)
             SELECT (SELECT count(*) FROM c), (SELECT doc FROM tenants WHERE id = $1),
                    s.doc, s.stocked,
                    CASE WHEN $7 THEN (SELECT msisdn FROM free_numbers WHERE tenant = $1
                                       ORDER BY msisdn LIMIT 1) END,
                    CASE WHEN $7 THEN (SELECT msisdn FROM free_numbers WHERE tenant = $1
                                       ORDER BY msisdn DESC LIMIT 1) END
             FROM (VALUES (1)) AS one (x) LEFT JOIN sims s ON s.iccid = $6",
            &[
                &key.tenant,
                &key.key,
                &key.order_id,
                &key.body_hash,
                &big(key.now_ms),
                &prefetch.sim,
                &prefetch.ends,
            ],
        )
        .await?;
    let Some(r) = row else {
        return Err(TxError::Contended);
    };
    let claimed: i64 = r.get(0);
    let read = || -> TxResult<Claim> {
        let tenant = match r.get::<_, Option<DocRef<'_>>>(1) {
            Some(d) => Some(from_doc("tenants", d)?),
            None => None,
        };
        let sim = match r.get::<_, Option<DocRef<'_>>>(2) {
            Some(d) => Some((from_doc("sims", d)?, r.get::<_, bool>(3))),
            None => None,
        };
        let ends = prefetch.ends.then(|| {
            let (lo, hi): (Option<String>, Option<String>) = (r.get(4), r.get(5));
            lo.zip(hi)
        });
        Ok(Claim::New(Box::new(Claimed { tenant, sim, ends })))
    };
    if claimed == 1 {
        return read();
    }
    // The row exists and this snapshot sees it (else the insert failed to serialize).
    let Some(rec) = lookup(tx, key.tenant, key.key).await? else {
        return Err(TxError::Contended);
    };
    if rec.created_at_ms < cutoff_ms {
        return read();
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
