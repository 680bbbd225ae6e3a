//! Staged batch imports. A batch is recorded `importing`, its SIMs are written in committed
//! chunks, and one last commit flips it to `complete` and counts its SIMs into stock. A SIM
//! whose batch is not complete is invisible to activation, so a crash between chunks never
//! exposes part of a file; `recover_imports` then removes what the unfinished batch wrote.

use super::RedbStore;
use super::apply::{Tables, backend, dec, enc};
use super::tables::{BATCH_SIMS, BATCHES, IMSIS, SIMS, counter};
use crate::store::{BatchRecord, BatchStatus, Clash, ImportStart, SimRecord, StoreError};
use ::redb::ReadableTable;

impl RedbStore {
    /// A batch by id.
    pub(super) fn batch_record(&self, id: &str) -> Result<Option<BatchRecord>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(BATCHES).map_err(backend)?;
            t.get(id)
                .map_err(backend)?
                .map(|v| dec("batches", v.value()))
                .transpose()
        })
    }

    /// Records a batch as importing (rolling back an unfinished earlier attempt first).
    pub(super) fn begin_import(&self, batch: &BatchRecord) -> Result<ImportStart, StoreError> {
        if let Some(existing) = self.batch_record(&batch.id)? {
            if existing.status == BatchStatus::Complete {
                return Ok(ImportStart::AlreadyComplete(existing));
            }
            self.rollback_batch(&existing.id)?;
        }
        let txn = self.db()?.begin_write().map_err(backend)?;
        txn.open_table(BATCHES)
            .map_err(backend)?
            .insert(batch.id.as_str(), enc(batch)?.as_slice())
            .map_err(backend)?;
        txn.commit().map_err(backend)?;
        Ok(ImportStart::Started)
    }

    /// See [`crate::store::Store::import_chunk`]. Rows are inserted one by one in the
    /// transaction, so a duplicate later in the same chunk is caught like one in an earlier
    /// chunk.
    pub(super) fn write_chunk(
        &self,
        batch_id: &str,
        sims: &[(SimRecord, usize)],
    ) -> Result<Vec<(usize, Clash)>, StoreError> {
        let txn = self.db()?.begin_write().map_err(backend)?;
        let clashes = {
            let mut t = Tables::open(&txn)?;
            let mut members = txn.open_table(BATCH_SIMS).map_err(backend)?;
            let mut clashes = Vec::new();
            for (i, (s, line)) in sims.iter().enumerate() {
                // Which batch holds this ICCID (or the owner of this IMSI), if any.
                let holder = |t: &Tables<'_>, iccid: &str| -> Result<Option<String>, StoreError> {
                    t.sims
                        .get(iccid)
                        .map_err(backend)?
                        .map(|v| dec::<SimRecord>("sims", v.value()).map(|r| r.batch))
                        .transpose()
                };
                let first_line = |members: &::redb::Table<'_, (&str, &str), u32>,
                                  iccid: &str|
                 -> Result<usize, StoreError> {
                    Ok(members
                        .get((batch_id, iccid))
                        .map_err(backend)?
                        .map_or(0, |v| v.value() as usize))
                };
                if let Some(b) = holder(&t, s.iccid.as_str())? {
                    let clash = if b == batch_id {
                        Clash::DuplicateIccid {
                            first_line: first_line(&members, s.iccid.as_str())?,
                        }
                    } else {
                        Clash::IccidInInventory
                    };
                    clashes.push((i, clash));
                    continue;
                }
                let owner: Option<String> = t
                    .imsis
                    .get(s.imsi.as_str())
                    .map_err(backend)?
                    .map(|v| v.value().to_owned());
                if let Some(owner) = owner {
                    let clash = if holder(&t, &owner)?.as_deref() == Some(batch_id) {
                        Clash::DuplicateImsi {
                            first_line: first_line(&members, &owner)?,
                        }
                    } else {
                        Clash::ImsiInInventory
                    };
                    clashes.push((i, clash));
                    continue;
                }
                t.sims
                    .insert(s.iccid.as_str(), enc(s)?.as_slice())
                    .map_err(backend)?;
                t.imsis
                    .insert(s.imsi.as_str(), s.iccid.as_str())
                    .map_err(backend)?;
                members
                    .insert(
                        (batch_id, s.iccid.as_str()),
                        u32::try_from(*line).unwrap_or(u32::MAX),
                    )
                    .map_err(backend)?;
            }
            clashes
        };
        txn.commit().map_err(backend)?;
        Ok(clashes)
    }

    /// Completes a batch: its SIMs become stock, counted, with an event, in one commit.
    pub(super) fn finish_import(
        &self,
        batch_id: &str,
        cards: u64,
        now_ms: u64,
    ) -> Result<BatchRecord, StoreError> {
        let txn = self.db()?.begin_write().map_err(backend)?;
        let record = {
            let mut t = Tables::open(&txn)?;
            let mut b: BatchRecord = t
                .batches
                .get(batch_id)
                .map_err(backend)?
                .map(|v| dec("batches", v.value()))
                .transpose()?
                .ok_or_else(|| StoreError::Conflict(format!("batch {batch_id} vanished")))?;
            b.status = BatchStatus::Complete;
            b.cards = cards;
            t.batches
                .insert(batch_id, enc(&b)?.as_slice())
                .map_err(backend)?;
            t.bump_in(
                &b.tenant,
                &b.id,
                counter::SIMS_AVAILABLE,
                i64::try_from(b.cards).unwrap_or(i64::MAX),
            )?;
            if let Some(profile_type) = &b.esim_profile_type {
                // eSIM profiles enter stock only now, with the whole batch.
                let members = txn.open_table(BATCH_SIMS).map_err(backend)?;
                for row in members
                    .range((batch_id, "")..=(batch_id, "~"))
                    .map_err(backend)?
                {
                    let (k, _) = row.map_err(backend)?;
                    t.free_esim
                        .insert((b.tenant.as_str(), profile_type.as_str(), k.value().1), ())
                        .map_err(backend)?;
                }
            }
            t.log_admin(
                now_ms,
                &b.tenant,
                format!(
                    "batch_imported {} {} cards sha256 {}",
                    b.id, b.cards, b.file_sha256
                ),
            )?;
            b
        };
        txn.commit().map_err(backend)?;
        Ok(record)
    }

    /// Removes every batch left `importing` by a crash; returns how many. Run at start.
    pub(super) fn recover_unfinished(&self) -> Result<usize, StoreError> {
        let unfinished: Vec<String> = self.read(|txn| {
            let t = txn.open_table(BATCHES).map_err(backend)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(backend)? {
                let (k, v) = row.map_err(backend)?;
                let b: BatchRecord = dec("batches", v.value())?;
                if b.status == BatchStatus::Importing {
                    out.push(k.value().to_owned());
                }
            }
            Ok(out)
        })?;
        for id in &unfinished {
            self.rollback_batch(id)?;
        }
        Ok(unfinished.len())
    }

    /// Deletes an unfinished batch's SIMs (in chunks) and then the batch record. A complete
    /// batch is stock and is left alone: an import that lost a race to the same file must
    /// not take the winner's cards with it when it aborts.
    pub(super) fn rollback_batch(&self, batch_id: &str) -> Result<(), StoreError> {
        if self
            .batch_record(batch_id)?
            .is_some_and(|b| b.status == BatchStatus::Complete)
        {
            return Ok(());
        }
        loop {
            let txn = self.db()?.begin_write().map_err(backend)?;
            let done = {
                let mut members = txn.open_table(BATCH_SIMS).map_err(backend)?;
                let mut sims = txn.open_table(SIMS).map_err(backend)?;
                let mut imsis = txn.open_table(IMSIS).map_err(backend)?;
                let mut chunk = Vec::new();
                for row in members
                    .range((batch_id, "")..=(batch_id, "~"))
                    .map_err(backend)?
                    .take(5_000)
                {
                    chunk.push(row.map_err(backend)?.0.value().1.to_owned());
                }
                for iccid in &chunk {
                    if let Some(v) = sims.remove(iccid.as_str()).map_err(backend)? {
                        let s: SimRecord = dec("sims", v.value())?;
                        imsis.remove(s.imsi.as_str()).map_err(backend)?;
                    }
                    members
                        .remove((batch_id, iccid.as_str()))
                        .map_err(backend)?;
                }
                if chunk.is_empty() {
                    txn.open_table(BATCHES)
                        .map_err(backend)?
                        .remove(batch_id)
                        .map_err(backend)?;
                }
                chunk.is_empty()
            };
            txn.commit().map_err(backend)?;
            if done {
                return Ok(());
            }
        }
    }
}

impl RedbStore {
    /// See [`crate::store::Store::batch_sims`].
    pub(super) fn batch_members(
        &self,
        batch_id: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<SimRecord>, StoreError> {
        self.read(|txn| {
            let members = txn.open_table(BATCH_SIMS).map_err(backend)?;
            let sims = txn.open_table(SIMS).map_err(backend)?;
            let mut out = Vec::new();
            for row in members
                .range((batch_id, after)..=(batch_id, "~"))
                .map_err(backend)?
            {
                let iccid = row.map_err(backend)?.0.value().1.to_owned();
                if iccid.as_str() == after {
                    continue;
                }
                if let Some(v) = sims.get(iccid.as_str()).map_err(backend)? {
                    out.push(dec("sims", v.value())?);
                }
                if out.len() >= limit {
                    break;
                }
            }
            Ok(out)
        })
    }
}
