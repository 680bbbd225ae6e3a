//! The audit chain on several nodes. A commit that records a compliance decision or an
//! operator's change inserts the canonical records (with `seq` 0) into `audit_batches`,
//! one row per attempt keyed like the events by the attempt id and the first record's
//! place in it (`append`, `deferred.rs`); no write on the request path touches a shared
//! head row, so creates never conflict over the chain. The sequencer links them in its
//! pass, under its lease (`link`): in (attempt, place) order, each record gets the next
//! number, is re-encoded with it, chained to the previous row's hash
//! (`compliance::audit::append`) and moved to `audit`. The chain is gap-free, and a reader
//! of `audit` never skips a record whose commit came late: it gets a number after every
//! number already given.

use super::codec::{big, unbig};
use super::retry::{Tx, TxError, TxResult};
use super::{PgStore, deferred};
use crate::compliance::audit::{self, AuditRecord, Hash};
use crate::store::{AuditRow, StoreError};

fn corrupt(message: String) -> TxError {
    TxError::Store(StoreError::Corrupt {
        table: "audit",
        message,
    })
}

/// Appends `record` to the chain in the caller's commit (linked later; see the module
/// doc). The record's own `seq` is ignored: the linker gives it.
pub async fn append(tx: &Tx<'_>, record: &AuditRecord) -> TxResult<()> {
    let mut rec = record.clone();
    rec.seq = 0;
    // Inserted with the transaction's other log rows just before its commit.
    tx.deferred().add_audit(tx.next_ordinal(), rec.encode());
    Ok(())
}

/// The last linked row's number and hash (0 and the genesis value for an empty chain).
async fn head(tx: &Tx<'_>) -> TxResult<(u64, Hash)> {
    let Some(r) = tx
        .row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &[])
        .await?
    else {
        return Ok((0, audit::genesis()));
    };
    let seq = unbig(r.get(0));
    let hash: Hash = r.get::<_, &[u8]>(1).try_into().map_err(|_| {
        corrupt(format!(
            "audit record {seq} has a hash that is not 32 bytes"
        ))
    })?;
    Ok((seq, hash))
}

/// Links the pending records in commit order (the sequencer's pass, under its lease), a
/// batch (one attempt's records: `deferred.rs`) at a time until at least `limit`
/// records; how many.
pub async fn link(tx: &Tx<'_>, limit: i64) -> TxResult<usize> {
    let rows = tx
        .rows(
            "SELECT txn, ord, records, cardinality(records) FROM audit_batches
             ORDER BY txn, ord LIMIT $1",
            &[&limit],
        )
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let (mut seq, mut prev) = head(tx).await?;
    let (mut txns, mut ords) = (Vec::with_capacity(rows.len()), Vec::new());
    let (mut seqs, mut bytes, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
    let (taken, _) = deferred::batches_to_take(rows.iter().map(|r| r.get(3)), limit);
    for r in &rows[..taken] {
        let (txn, ord): (String, i32) = (r.get(0), r.get(1));
        for (i, pending) in r.get::<_, Vec<&[u8]>>(2).into_iter().enumerate() {
            let mut rec = AuditRecord::decode(pending).map_err(|e| {
                corrupt(format!("pending audit record {txn}/{ord} #{}: {e}", i + 1))
            })?;
            seq += 1;
            rec.seq = seq;
            let (b, h) = audit::append(&prev, &rec);
            prev = h;
            seqs.push(big(seq));
            bytes.push(b);
            hashes.push(h.to_vec());
        }
        txns.push(txn);
        ords.push(ord);
    }
    tx.exec(
        "INSERT INTO audit (seq, bytes, hash)
         SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[], $3::BYTEA[])",
        &[&seqs, &bytes, &hashes],
    )
    .await?;
    tx.exec(
        "DELETE FROM audit_batches
         WHERE (txn, ord) IN (SELECT * FROM unnest($1::TEXT[], $2::INT[]))",
        &[&txns, &ords],
    )
    .await?;
    Ok(seqs.len())
}

impl PgStore {
    /// Whether any committed audit record waits to be linked.
    pub(super) async fn audit_pending(&self) -> Result<bool, StoreError> {
        let row = self
            .read_opt("SELECT EXISTS (SELECT 1 FROM audit_batches)", &[])
            .await?;
        Ok(row.is_some_and(|r| r.get(0)))
    }

    /// Audit rows from `from`, at most `limit`, by sequence number, after linking what is
    /// pending (when this node holds or can take the sequencer lease; otherwise the rows
    /// the holder linked, at most `EVENT_POLL` behind).
    pub async fn audit_rows(&self, from: u64, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        if self.audit_pending().await? {
            self.flush_events().await?;
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .read_rows(
                "SELECT seq, bytes, hash FROM audit WHERE seq >= $1 ORDER BY seq LIMIT $2",
                &[&big(from), &limit],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let seq = unbig(r.get(0));
                let hash = r
                    .get::<_, &[u8]>(2)
                    .try_into()
                    .map_err(|_| StoreError::Corrupt {
                        table: "audit",
                        message: format!("audit record {seq} has a hash that is not 32 bytes"),
                    })?;
                Ok(AuditRow {
                    seq,
                    bytes: r.get::<_, Vec<u8>>(1),
                    hash,
                })
            })
            .collect()
    }
}
