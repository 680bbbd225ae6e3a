//! Data-key rotation at rest on PostgreSQL (embedded `rewrap.rs`, same meaning): every
//! sealed value (SIM Ki/OPc, order subscriber details, eSIM confirmation codes and port-in
//! credentials, the idempotency snapshots that carry them, webhook signing secrets, hub
//! messages in the port inbox, the sandbox marker) is
//! re-sealed under the current key by the gateway, so the database only ever sees
//! ciphertext. SIMs and orders go in chunks of `chunk` records per committed transaction,
//! walked by primary key; an interruption loses at most the chunk in progress, and a
//! later pass skips what is already under the current key. Only `doc` (and `meta.value`)
//! change: no key column depends on a sealed value.

use super::PgStore;
use super::codec::{from_doc, to_doc};
use super::retry::{Tx, TxResult, db_error};
use super::webhook_endpoints::put_endpoint;
use crate::crypto::{Keyring, Sealed};
use crate::order::Order;
use crate::store::sealed::{self, SEALED_META};
use crate::store::{IdempotencyRecord, RewrapReport, SimRecord, StoreError, WebhookEndpoint};
use std::collections::BTreeMap;

/// Rows read per statement when counting.
const COUNT_PAGE: i64 = 1_000;

/// The chunked tables: (name, key column).
const CHUNKED: [(&str, &str); 2] = [("sims", "iccid"), ("orders", "id")];

/// One chunk of `table` after `cursor`: (last key, values re-sealed, rows seen).
async fn chunk_of(
    tx: &Tx<'_>,
    keys: &Keyring,
    (table, key): (&'static str, &'static str),
    cursor: &str,
    limit: i64,
) -> TxResult<(Option<String>, u64, usize)> {
    let rows = tx
        .rows(
            &format!("SELECT {key}, doc FROM {table} WHERE {key} > $1 ORDER BY {key} LIMIT $2"),
            &[&cursor, &limit],
        )
        .await?;
    let mut changed = 0;
    let update = format!("UPDATE {table} SET doc = $2 WHERE {key} = $1");
    for r in &rows {
        let id: String = r.get(0);
        let doc = if table == "sims" {
            let mut sim: SimRecord = from_doc(table, r.get(1))?;
            let n = sealed::reseal_sim(keys, &mut sim, table)?;
            changed += n;
            (n > 0).then(|| to_doc(&sim)).transpose()?
        } else {
            let mut o: Order = from_doc(table, r.get(1))?;
            let n = sealed::reseal_order(keys, &mut o, table)?;
            changed += n;
            (n > 0).then(|| to_doc(&o)).transpose()?
        };
        if let Some(doc) = doc {
            tx.exec(&update, &[&id, &doc]).await?;
        }
    }
    let last = rows.last().map(|r| r.get::<_, String>(0));
    Ok((last, changed, rows.len()))
}

/// Idempotency snapshots (they live a day), endpoints (a few per tenant) and the sealed
/// metadata, in one transaction as on the embedded store: values re-sealed.
async fn the_rest(tx: &Tx<'_>, keys: &Keyring) -> TxResult<u64> {
    let mut n = 0;
    for r in tx
        .rows("SELECT tenant, idem_key, doc FROM idempotency", &[])
        .await?
    {
        let mut rec: IdempotencyRecord = from_doc("idempotency", r.get(2))?;
        let c = sealed::reseal_order(keys, &mut rec.response, "idempotency")?;
        if c > 0 {
            n += c;
            tx.exec(
                "UPDATE idempotency SET doc = $3 WHERE tenant = $1 AND idem_key = $2",
                &[&r.get::<_, &str>(0), &r.get::<_, &str>(1), &to_doc(&rec)?],
            )
            .await?;
        }
    }
    for r in tx.rows("SELECT doc FROM webhook_endpoints", &[]).await? {
        let mut e: WebhookEndpoint = from_doc("webhook_endpoints", r.get(0))?;
        let c = sealed::reseal_endpoint(keys, &mut e, "webhook_endpoints")?;
        if c > 0 {
            n += c;
            put_endpoint(tx, &e).await?;
        }
    }
    for r in tx.rows("SELECT key, doc FROM port_inbox", &[]).await? {
        let mut i: crate::store::PortInboxItem = from_doc("port_inbox", r.get(1))?;
        let c = sealed::reseal_port_item(keys, &mut i, "port_inbox")?;
        if c > 0 {
            n += c;
            tx.exec(
                "UPDATE port_inbox SET doc = $2 WHERE key = $1",
                &[&r.get::<_, &str>(0), &to_doc(&i)?],
            )
            .await?;
        }
    }
    for key in SEALED_META {
        let Some(r) = tx
            .row("SELECT value FROM meta WHERE name = $1", &[key])
            .await?
        else {
            continue;
        };
        let mut s: Sealed = meta_sealed(r.get(0))?;
        if sealed::reseal(keys, key, &mut s, "meta")? {
            let bytes = serde_json::to_vec(&s)
                .map_err(|e| StoreError::Backend(format!("encoding a record: {e}")))?;
            tx.exec("UPDATE meta SET value = $2 WHERE name = $1", &[key, &bytes])
                .await?;
            n += 1;
        }
    }
    Ok(n)
}

fn meta_sealed(bytes: Vec<u8>) -> Result<Sealed, StoreError> {
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        table: "meta",
        message: e.to_string(),
    })
}

impl PgStore {
    /// Re-seals every value not under `keys`' current key, `chunk` SIMs or orders per
    /// commit, stopping after `max_chunks` commits if given (a later pass resumes).
    pub async fn rewrap(
        &self,
        keys: &Keyring,
        chunk: usize,
        max_chunks: Option<u64>,
    ) -> Result<RewrapReport, StoreError> {
        let mut report = RewrapReport::default();
        let limit = i64::try_from(chunk.max(1)).unwrap_or(i64::MAX);
        let budget_left = |r: &RewrapReport| max_chunks.is_none_or(|m| r.chunks < m);
        for table in CHUNKED {
            let mut cursor = String::new();
            loop {
                if !budget_left(&report) {
                    return Ok(report);
                }
                let (last, changed, seen) = self
                    .transaction(&(keys, table, cursor.as_str(), limit), |tx, a| {
                        Box::pin(chunk_of(tx, a.0, a.1, a.2, a.3))
                    })
                    .await?;
                report.chunks += 1;
                report.resealed += changed;
                match last {
                    Some(k) if i64::try_from(seen).unwrap_or(0) == limit => cursor = k,
                    _ => break,
                }
            }
        }
        if !budget_left(&report) {
            return Ok(report);
        }
        report.resealed += self
            .transaction(keys, |tx, keys| Box::pin(the_rest(tx, keys)))
            .await?;
        report.chunks += 1;
        report.complete = true;
        Ok(report)
    }

    /// Counts sealed values per data-key id, reading each table by key in pages.
    pub async fn sealed_key_usage(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut usage = BTreeMap::new();
        let mut count = |s: &Sealed| *usage.entry(s.kid.clone()).or_insert(0) += 1;
        let c = self.client().await?;
        for (table, key) in [
            ("sims", "iccid"),
            ("orders", "id"),
            ("idempotency", "tenant || '/' || idem_key"),
            ("webhook_endpoints", "id"),
            ("port_inbox", "key"),
        ] {
            let st = c
                .prepare_cached(&format!(
                    "SELECT {key}, doc FROM {table} WHERE {key} > $1 ORDER BY {key} LIMIT $2"
                ))
                .await
                .map_err(|e| db_error(&e))?;
            let mut cursor = String::new();
            loop {
                let rows = c
                    .query(&st, &[&cursor, &COUNT_PAGE])
                    .await
                    .map_err(|e| db_error(&e))?;
                for r in &rows {
                    match table {
                        "sims" => sealed::of_sim(&from_doc::<SimRecord>(table, r.get(1))?)
                            .for_each(&mut count),
                        "orders" => sealed::of_order(&from_doc::<Order>(table, r.get(1))?)
                            .for_each(&mut count),
                        "idempotency" => {
                            let rec: IdempotencyRecord = from_doc(table, r.get(1))?;
                            sealed::of_order(&rec.response).for_each(&mut count)
                        }
                        "port_inbox" => {
                            let i: crate::store::PortInboxItem = from_doc(table, r.get(1))?;
                            sealed::of_port_item(&i).into_iter().for_each(&mut count)
                        }
                        _ => sealed::of_endpoint(&from_doc::<WebhookEndpoint>(table, r.get(1))?)
                            .for_each(&mut count),
                    }
                }
                match rows.last() {
                    Some(r) if rows.len() as i64 == COUNT_PAGE => cursor = r.get(0),
                    _ => break,
                }
            }
        }
        for key in SEALED_META {
            let st = c
                .prepare_cached("SELECT value FROM meta WHERE name = $1")
                .await
                .map_err(|e| db_error(&e))?;
            if let Some(r) = c.query_opt(&st, &[key]).await.map_err(|e| db_error(&e))? {
                count(&meta_sealed(r.get(0))?);
            }
        }
        Ok(usage)
    }
}
