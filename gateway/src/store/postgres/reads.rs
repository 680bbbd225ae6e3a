//! The read methods (the `Store` trait's names and results, async): one statement each on
//! a pooled connection, which sees one committed snapshot.

use super::PgStore;
use super::codec::{big, from_doc, tenant_from_doc, unbig};
use super::counters::{self, counter};
use super::retry::db_error;
use crate::store::*;
use sim_profiles::{Iccid, Imsi};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

impl PgStore {
    pub(super) async fn read_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await.map_err(|e| db_error(&e))?;
        c.query_opt(&st, params).await.map_err(|e| db_error(&e))
    }

    pub(super) async fn read_rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await.map_err(|e| db_error(&e))?;
        c.query(&st, params).await.map_err(|e| db_error(&e))
    }

    pub(super) async fn read_doc<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<T>, StoreError> {
        match self.read_opt(sql, params).await? {
            Some(r) => Ok(Some(from_doc(table, r.get(0))?)),
            None => Ok(None),
        }
    }

    /// A tenant.
    pub async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        match self
            .read_opt("SELECT doc FROM tenants WHERE id = $1", &[&id])
            .await?
        {
            Some(r) => Ok(Some(Tenant::clone(&*tenant_from_doc(id, r.get(0))?))),
            None => Ok(None),
        }
    }

    /// Resolves an API key's hash, from this node's memory when it resolved lately
    /// (`key_cache.rs`).
    pub async fn api_key(&self, hash: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        let now = std::time::Instant::now();
        if let Some(record) = self.key_cache.get(hash, now) {
            return Ok(Some(record));
        }
        let record: Option<ApiKeyRecord> = self
            .read_doc(
                "api_keys",
                "SELECT doc FROM api_keys WHERE hash = $1",
                &[&hash.as_slice()],
            )
            .await?;
        if let Some(r) = &record {
            self.key_cache.put(*hash, r.clone(), now);
        }
        Ok(record)
    }

    /// A small metadata value.
    pub async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .read_opt("SELECT value FROM meta WHERE name = $1", &[&key])
            .await?
            .map(|r| r.get(0)))
    }

    /// A SIM record (keys stay sealed).
    pub async fn get_sim(&self, iccid: &Iccid) -> Result<Option<SimRecord>, StoreError> {
        self.read_doc(
            "sims",
            "SELECT doc FROM sims WHERE iccid = $1",
            &[&iccid.as_str()],
        )
        .await
    }

    /// The SIM with this IMSI.
    pub async fn sim_by_imsi(&self, imsi: &Imsi) -> Result<Option<SimRecord>, StoreError> {
        self.read_doc(
            "sims",
            "SELECT doc FROM sims WHERE imsi = $1",
            &[&imsi.as_str()],
        )
        .await
    }

    /// Inventory counts of one tenant (shards and scopes summed).
    pub async fn inventory_counts(&self, tenant: &str) -> Result<InventoryCounts, StoreError> {
        let c = self.client().await?;
        let t = counters::totals(&c, tenant)
            .await
            .map_err(|e| db_error(&e))?;
        let get = |name: &str| t.get(name).copied().unwrap_or(0);
        Ok(InventoryCounts {
            sims_available: get(counter::SIMS_AVAILABLE),
            sims_reserved: get(counter::SIMS_RESERVED),
            sims_active: get(counter::SIMS_ACTIVE),
            numbers_available: get(counter::NUMBERS_AVAILABLE),
            numbers_golden: get(counter::NUMBERS_GOLDEN),
            numbers_held: get(counter::NUMBERS_HELD),
            numbers_quarantined: get(counter::NUMBERS_QUARANTINED),
        })
    }

    /// Counts per number pool (block) and per SIM batch: scope → counter name → count.
    pub async fn inventory_breakdown(&self, tenant: &str) -> Result<Breakdown, StoreError> {
        let c = self.client().await?;
        let rows = counters::by_scope(&c, tenant)
            .await
            .map_err(|e| db_error(&e))?;
        let mut out = Breakdown::default();
        for ((name, scope), n) in rows {
            let map = if name.starts_with("numbers_") {
                &mut out.pools
            } else {
                &mut out.batches
            };
            map.entry(scope).or_default().insert(name, n);
        }
        Ok(out)
    }

    /// Every tenant id, in order.
    pub async fn tenant_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .read_rows("SELECT id FROM tenants ORDER BY id", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// A batch import record.
    pub async fn batch(&self, id: &str) -> Result<Option<BatchRecord>, StoreError> {
        self.read_doc("batches", "SELECT doc FROM batches WHERE id = $1", &[&id])
            .await
    }

    /// A batch's SIMs in ICCID order, at most `limit` after `after` (export pages). Only
    /// the SIMs its file brought, as the embedded backend's batch membership lists them.
    pub async fn batch_sims(
        &self,
        batch_id: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<SimRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read_rows(
            "SELECT doc FROM sims WHERE batch = $1 AND file_line IS NOT NULL AND iccid > $2
             ORDER BY iccid LIMIT $3",
            &[&batch_id, &after, &limit],
        )
        .await?
        .into_iter()
        .map(|r| from_doc("sims", r.get(0)))
        .collect()
    }

    /// The idempotency record of an activation request (a read; no commit).
    pub async fn activation_idempotency(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.read_doc(
            "idempotency",
            "SELECT doc FROM idempotency WHERE tenant = $1 AND idem_key = $2",
            &[&tenant, &key],
        )
        .await
    }

    /// Deletes idempotency records created before `before_ms`; returns how many.
    pub async fn prune_idempotency(&self, before_ms: u64) -> Result<usize, StoreError> {
        self.transaction(&before_ms, |tx, before| {
            Box::pin(super::idempotency::prune(tx, *before))
        })
        .await
    }

    /// Audit events with sequence number >= `from`, at most `limit` (numbered ones only):
    /// from the batch that holds `from` (`event_batches`, one per attempt), then the
    /// batches after it.
    pub async fn events(&self, from: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let rows = self
            .read_rows(
                "SELECT seq, docs FROM event_batches
                 WHERE seq >= COALESCE((SELECT MAX(seq) FROM event_batches WHERE seq <= $1), 0)
                 ORDER BY seq LIMIT $2",
                &[&big(from), &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await?;
        let mut out = Vec::with_capacity(limit.min(rows.len()));
        for r in rows {
            if out.len() >= limit {
                break;
            }
            let first = unbig(r.get(0));
            let batch: Vec<Event> = from_doc("event_batches", r.get(1))?;
            for (seq, mut e) in (first..).zip(batch) {
                if seq >= from && out.len() < limit {
                    e.seq = seq;
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    /// A tenant's public events after its sequence number `after`, in order, at most
    /// `limit`, only of `event_type` when given (numbered ones only). Entries are read
    /// from their batches (`public_batches`): the one holding `after + 1` (of that type),
    /// then those after it; `limit + 1` batches hold at least `limit` entries past `after`.
    pub async fn public_events(
        &self,
        tenant: &str,
        after: u64,
        event_type: Option<EventType>,
        limit: usize,
    ) -> Result<Vec<PublicEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let batches = limit.saturating_add(1);
        let (next, after) = (big(after.saturating_add(1)), big(after));
        // Two statements, so each plan reads its own index (`public_batches_by_type` for
        // a page of one type).
        let of_type = if event_type.is_some() {
            "AND event_type = $6"
        } else {
            "AND $6::TEXT IS NULL"
        };
        let sql = format!(
            "SELECT b.seq + e.i - 1, b.tenant_seq + e.i - 1, e.doc
             FROM (SELECT seq, tenant_seq, docs FROM public_batches
                   WHERE tenant = $1 {of_type}
                     AND tenant_seq >= COALESCE(
                           (SELECT MAX(tenant_seq) FROM public_batches
                            WHERE tenant = $1 {of_type} AND tenant_seq <= $2), 0)
                   ORDER BY tenant_seq LIMIT $4) AS b,
                  jsonb_array_elements(b.docs) WITH ORDINALITY AS e(doc, i)
             WHERE b.tenant_seq + e.i - 1 > $3
             ORDER BY 2 LIMIT $5"
        );
        let rows = self
            .read_rows(
                &sql,
                &[
                    &tenant,
                    &next,
                    &after,
                    &batches,
                    &limit,
                    &event_type.map(EventType::as_str),
                ],
            )
            .await?;
        rows.into_iter().map(public_event_of).collect()
    }

    /// One public event of the tenant, by its sequence number.
    pub async fn public_event(
        &self,
        tenant: &str,
        tenant_seq: u64,
    ) -> Result<Option<PublicEvent>, StoreError> {
        self.read_opt(PUBLIC_EVENT, &[&tenant, &big(tenant_seq)])
            .await?
            .map(public_event_of)
            .transpose()
    }
}

/// One numbered public event (seq, tenant_seq, doc) by tenant ($1) and tenant sequence
/// number ($2): the entry of the batch that holds it.
pub(super) const PUBLIC_EVENT: &str =
    "SELECT b.seq + ($2 - b.tenant_seq), $2, b.docs -> CAST($2 - b.tenant_seq AS INT)
     FROM (SELECT seq, tenant_seq, n, docs FROM public_batches
           WHERE tenant = $1 AND tenant_seq <= $2 ORDER BY tenant_seq DESC LIMIT 1) AS b
     WHERE $2 < b.tenant_seq + b.n";

/// A numbered public event row (seq, tenant_seq, doc) as its record.
pub(super) fn public_event_of(r: Row) -> Result<PublicEvent, StoreError> {
    let mut e: PublicEvent = from_doc("public_events", r.get(2))?;
    e.seq = unbig(r.get(0));
    e.tenant_seq = unbig(r.get(1));
    e.id = event_id(e.tenant_seq);
    Ok(e)
}
