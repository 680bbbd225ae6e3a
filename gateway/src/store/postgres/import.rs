//! Staged batch imports (embedded `import.rs`): a batch is recorded `importing`, its SIMs
//! are written in committed chunks with `stocked = false` (so they exist for no one), and
//! one last transaction flips the batch to `complete`, stocks its SIMs and counts them. A
//! crash between chunks leaves an `importing` batch that `recover_imports` removes.

use super::PgStore;
use super::codec::{from_doc, to_doc};
use super::counters::{self, counter};
use super::events::log_event;
use super::retry::{Tx, TxResult};
use crate::store::*;
use std::collections::HashMap;

/// SIMs deleted per transaction when an unfinished batch is rolled back.
const ROLLBACK_CHUNK: i64 = 5_000;

/// Who holds an ICCID or IMSI already: (batch, line in its file).
type Holder = (String, Option<i32>);

impl PgStore {
    /// Records a batch as importing (rolling back an unfinished earlier attempt first).
    pub async fn import_begin(&self, batch: &BatchRecord) -> Result<ImportStart, StoreError> {
        if let Some(existing) = self.batch(&batch.id).await? {
            if existing.status == BatchStatus::Complete {
                return Ok(ImportStart::AlreadyComplete(existing));
            }
            self.import_abort(&existing.id).await?;
        }
        self.transaction(batch, |tx, b| {
            Box::pin(async move {
                tx.exec(
                    "INSERT INTO batches (id, tenant, status, doc) VALUES ($1, $2, 'importing', $3)
                     ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant,
                         status = excluded.status, doc = excluded.doc",
                    &[&b.id, &b.tenant, &to_doc(b)?],
                )
                .await?;
                Ok(ImportStart::Started)
            })
        })
        .await
    }

    /// Writes one chunk of an importing batch's SIMs (each with its file line) in one
    /// transaction, all but those that clash with inventory or with earlier lines of the
    /// same file; returns the clashes by position.
    pub async fn import_chunk(
        &self,
        batch_id: &str,
        sims: &[(SimRecord, usize)],
    ) -> Result<Vec<(usize, Clash)>, StoreError> {
        self.transaction(&(batch_id, sims), |tx, (batch_id, sims)| {
            Box::pin(write_chunk(tx, batch_id, sims))
        })
        .await
    }

    /// Completes a batch of `cards` SIMs: they become counted stock in one transaction.
    pub async fn import_finish(
        &self,
        batch_id: &str,
        cards: u64,
        now_ms: u64,
    ) -> Result<BatchRecord, StoreError> {
        let out = self
            .transaction(
                &(batch_id, cards, now_ms),
                |tx, (batch_id, cards, now_ms)| Box::pin(finish(tx, batch_id, *cards, *now_ms)),
            )
            .await?;
        self.wake_sequencer();
        Ok(out)
    }

    /// Abandons an importing batch: removes what it wrote (in chunks), then its record. A
    /// complete batch is stock and is left alone.
    pub async fn import_abort(&self, batch_id: &str) -> Result<(), StoreError> {
        loop {
            let done = self
                .transaction(batch_id, |tx, batch_id| {
                    Box::pin(rollback_chunk(tx, batch_id))
                })
                .await?;
            if done {
                return Ok(());
            }
        }
    }

    /// Removes batches a crash left importing; returns how many.
    pub async fn recover_imports(&self) -> Result<usize, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT id FROM batches WHERE status = 'importing'", &[])
            .await
            .map_err(|e| super::retry::db_error(&e))?;
        drop(c);
        for r in &rows {
            self.import_abort(r.get::<_, &str>(0)).await?;
        }
        Ok(rows.len())
    }
}

async fn holders(tx: &Tx<'_>, column: &str, keys: &[&str]) -> TxResult<HashMap<String, Holder>> {
    let sql = format!("SELECT {column}, batch, file_line FROM sims WHERE {column} = ANY($1)");
    Ok(tx
        .rows(&sql, &[&keys])
        .await?
        .iter()
        .map(|r| (r.get::<_, String>(0), (r.get(1), r.get(2))))
        .collect())
}

fn line_of(h: &Holder) -> usize {
    h.1.and_then(|l| usize::try_from(l).ok()).unwrap_or(0)
}

async fn write_chunk(
    tx: &Tx<'_>,
    batch_id: &str,
    sims: &[(SimRecord, usize)],
) -> TxResult<Vec<(usize, Clash)>> {
    let iccids: Vec<&str> = sims.iter().map(|(s, _)| s.iccid.as_str()).collect();
    let imsis: Vec<&str> = sims.iter().map(|(s, _)| s.imsi.as_str()).collect();
    let mut by_iccid = holders(tx, "iccid", &iccids).await?;
    let mut by_imsi = holders(tx, "imsi", &imsis).await?;
    let mut clashes = Vec::new();
    let mut rows: Vec<(&SimRecord, i32)> = Vec::new();
    for (i, (s, line)) in sims.iter().enumerate() {
        if let Some(h) = by_iccid.get(s.iccid.as_str()) {
            let clash = if h.0 == batch_id {
                Clash::DuplicateIccid {
                    first_line: line_of(h),
                }
            } else {
                Clash::IccidInInventory
            };
            clashes.push((i, clash));
            continue;
        }
        if let Some(h) = by_imsi.get(s.imsi.as_str()) {
            let clash = if h.0 == batch_id {
                Clash::DuplicateImsi {
                    first_line: line_of(h),
                }
            } else {
                Clash::ImsiInInventory
            };
            clashes.push((i, clash));
            continue;
        }
        let line = i32::try_from(*line).unwrap_or(i32::MAX);
        let held: Holder = (batch_id.to_owned(), Some(line));
        by_iccid.insert(s.iccid.as_str().to_owned(), held.clone());
        by_imsi.insert(s.imsi.as_str().to_owned(), held);
        rows.push((s, line));
    }
    if rows.is_empty() {
        return Ok(clashes);
    }
    let iccids: Vec<&str> = rows.iter().map(|(s, _)| s.iccid.as_str()).collect();
    let imsis: Vec<&str> = rows.iter().map(|(s, _)| s.imsi.as_str()).collect();
    let tenants: Vec<&str> = rows.iter().map(|(s, _)| s.tenant.as_str()).collect();
    let lines: Vec<i32> = rows.iter().map(|(_, l)| *l).collect();
    let states: Vec<&str> = rows
        .iter()
        .map(|(s, _)| super::sims::columns(&s.state).0)
        .collect();
    let types: Vec<Option<&str>> = rows
        .iter()
        .map(|(s, _)| s.esim_profile_type.as_deref())
        .collect();
    let docs = rows
        .iter()
        .map(|(s, _)| to_doc(*s))
        .collect::<Result<Vec<_>, _>>()?;
    tx.exec(
        "INSERT INTO sims (iccid, imsi, tenant, batch, file_line, stocked, state,
                           esim_profile_type, doc)
         SELECT i, m, t, $1, l, FALSE, s, p, d
         FROM unnest($2::TEXT[], $3::TEXT[], $4::TEXT[], $5::INT[], $6::TEXT[], $7::TEXT[],
                     $8::JSONB[]) AS u(i, m, t, l, s, p, d)",
        &[
            &batch_id, &iccids, &imsis, &tenants, &lines, &states, &types, &docs,
        ],
    )
    .await?;
    Ok(clashes)
}

async fn finish(tx: &Tx<'_>, batch_id: &str, cards: u64, now_ms: u64) -> TxResult<BatchRecord> {
    let row = tx
        .row("SELECT doc FROM batches WHERE id = $1", &[&batch_id])
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("batch {batch_id} vanished")))?;
    let mut b: BatchRecord = from_doc("batches", row.get(0))?;
    b.status = BatchStatus::Complete;
    b.cards = cards;
    tx.exec(
        "UPDATE batches SET status = 'complete', doc = $2 WHERE id = $1",
        &[&batch_id, &to_doc(&b)?],
    )
    .await?;
    // eSIM profiles enter stock (the free-eSIM index) only now, with the whole batch.
    tx.exec(
        "UPDATE sims SET stocked = TRUE WHERE batch = $1 AND NOT stocked",
        &[&batch_id],
    )
    .await?;
    tx.exec(
        "INSERT INTO free_esim (tenant, profile_type, iccid)
         SELECT tenant, esim_profile_type, iccid FROM sims
         WHERE batch = $1 AND esim_profile_type IS NOT NULL AND state = 'available'
         ON CONFLICT DO NOTHING",
        &[&batch_id],
    )
    .await?;
    counters::add(
        tx,
        &b.tenant,
        &b.id,
        counter::SIMS_AVAILABLE,
        i64::try_from(b.cards).unwrap_or(i64::MAX),
    )
    .await?;
    let what = format!(
        "batch_imported {} {} cards sha256 {}",
        b.id, b.cards, b.file_sha256
    );
    log_event(tx, now_ms, &b.tenant, None, EventKind::Admin { what }).await?;
    Ok(b)
}

/// Deletes up to [`ROLLBACK_CHUNK`] of an unfinished batch's SIMs; once none is left,
/// its record. True when the batch is gone (or complete, and so kept).
async fn rollback_chunk(tx: &Tx<'_>, batch_id: &str) -> TxResult<bool> {
    let status: Option<String> = tx
        .row("SELECT status FROM batches WHERE id = $1", &[&batch_id])
        .await?
        .map(|r| r.get(0));
    if status.as_deref() == Some("complete") {
        return Ok(true);
    }
    let deleted = tx
        .exec(
            "DELETE FROM sims WHERE iccid IN (
                 SELECT iccid FROM sims WHERE batch = $1 AND NOT stocked AND file_line IS NOT NULL
                 ORDER BY iccid LIMIT $2)",
            &[&batch_id, &ROLLBACK_CHUNK],
        )
        .await?;
    if deleted > 0 {
        return Ok(false);
    }
    tx.exec("DELETE FROM batches WHERE id = $1", &[&batch_id])
        .await?;
    Ok(true)
}
