//! The outbox as the API and the dispatcher read it (embedded `outbox_read.rs`): an
//! endpoint's deliveries, the next due time and deliveries' jobs. Each is one
//! statement, so it sees one committed snapshot.

use super::PgStore;
use super::codec::{DocRef, big, from_doc, unbig};
use super::retry::db_error;
use crate::store::*;
use std::sync::Arc;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

impl PgStore {
    async fn outbox_rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await.map_err(|e| db_error(&e))?;
        c.query(&st, params).await.map_err(|e| db_error(&e))
    }

    /// An endpoint's deliveries, newest event first, of events before tenant sequence
    /// number `before` (all when `None`), at most `limit`; `None` if the tenant has no
    /// such endpoint.
    pub async fn webhook_deliveries(
        &self,
        tenant: &str,
        endpoint: &str,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Option<Vec<Delivery>>, StoreError> {
        let end = big(before.unwrap_or(u64::MAX));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One row with a NULL doc: the endpoint exists and has no delivery in range.
        let rows = self
            .outbox_rows(
                "SELECT d.doc FROM webhook_endpoints w
                 LEFT JOIN LATERAL (
                     SELECT doc, event_seq FROM webhook_deliveries
                     WHERE endpoint = w.id AND event_seq < $3
                     ORDER BY event_seq DESC LIMIT $4
                 ) d ON TRUE
                 WHERE w.id = $1 AND w.tenant = $2
                 ORDER BY d.event_seq DESC",
                &[&endpoint, &tenant, &end, &limit],
            )
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(doc) = r.get::<_, Option<DocRef<'_>>>(0) {
                out.push(from_doc("webhook_deliveries", doc)?);
            }
        }
        Ok(Some(out))
    }

    /// The earliest delivery due time after `after_ms` (a read). A delivery another node
    /// has claimed counts as due when that claim lapses (`due_deliveries`).
    pub async fn next_delivery_due(&self, after_ms: u64) -> Result<Option<u64>, StoreError> {
        // Another node's claim is due when it lapses (`due_at_ms`); this node's own are
        // due at the time their record keeps (a retry it scheduled).
        let node = self.node_id();
        let others = self
            .outbox_rows(
                "SELECT due_at_ms FROM webhook_deliveries
                 WHERE due_at_ms > $1 AND lease_owner IS DISTINCT FROM $2
                 ORDER BY due_at_ms LIMIT 1",
                &[&big(after_ms), &node],
            )
            .await?;
        let own = self
            .outbox_rows(
                "SELECT MIN(CAST(doc->>'next_attempt_at_ms' AS BIGINT)) FROM webhook_deliveries
                 WHERE lease_owner = $2 AND due_at_ms IS NOT NULL
                   AND CAST(doc->>'next_attempt_at_ms' AS BIGINT) > $1",
                &[&big(after_ms), &node],
            )
            .await?;
        let others = others.first().map(|r| unbig(r.get(0)));
        let own = own
            .first()
            .and_then(|r| r.get::<_, Option<i64>>(0))
            .map(unbig);
        Ok(match (others, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// What one delivery attempt needs (row, event, endpoint), from one snapshot;
    /// `None` if any of them is gone.
    pub async fn delivery_job(&self, key: &DeliveryKey) -> Result<Option<DeliveryJob>, StoreError> {
        Ok(self
            .delivery_jobs(std::slice::from_ref(key))
            .await?
            .pop()
            .flatten())
    }

    /// Several deliveries' jobs in `keys`' order, from one statement (`None` for one that
    /// is gone). The statement matches every endpoint of the list with every sequence
    /// number (`= ANY`, which CockroachDB speaks too); pairs not asked for are dropped.
    pub async fn delivery_jobs(
        &self,
        keys: &[DeliveryKey],
    ) -> Result<Vec<Option<DeliveryJob>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let endpoints: Vec<&str> = keys.iter().map(|k| k.endpoint.as_str()).collect();
        let seqs: Vec<i64> = keys.iter().map(|k| big(k.event_seq)).collect();
        let rows = self
            .outbox_rows(
                "SELECT d.endpoint, d.event_seq, d.doc, w.doc,
                        p.seq + (d.event_seq - p.tenant_seq), d.event_seq,
                        p.docs -> CAST(d.event_seq - p.tenant_seq AS INT)
                 FROM webhook_deliveries d
                 JOIN webhook_endpoints w ON w.id = d.endpoint
                 JOIN LATERAL (SELECT seq, tenant_seq, n, docs FROM public_batches
                               WHERE tenant = w.tenant AND tenant_seq <= d.event_seq
                               ORDER BY tenant_seq DESC LIMIT 1) AS p
                   ON d.event_seq < p.tenant_seq + p.n
                 WHERE d.endpoint = ANY($1) AND d.event_seq = ANY($2)",
                &[&endpoints, &seqs],
            )
            .await?;
        let mut jobs: Vec<Option<DeliveryJob>> = keys.iter().map(|_| None).collect();
        for r in rows {
            let (endpoint, seq): (String, i64) = (r.get(0), r.get(1));
            let Some(i) = keys
                .iter()
                .position(|k| k.endpoint == endpoint && big(k.event_seq) == seq)
            else {
                continue;
            };
            let mut event: PublicEvent = from_doc("public_events", r.get(6))?;
            event.seq = unbig(r.get(4));
            event.tenant_seq = unbig(r.get(5));
            event.id = event_id(event.tenant_seq);
            jobs[i] = Some(DeliveryJob {
                delivery: from_doc("webhook_deliveries", r.get(2))?,
                endpoint: Arc::new(from_doc("webhook_endpoints", r.get(3))?),
                event: WireEvent::of(&event).map_err(|e| StoreError::Corrupt {
                    table: "public_events",
                    message: e.to_string(),
                })?,
            });
        }
        Ok(jobs)
    }
}
