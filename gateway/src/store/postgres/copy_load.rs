//! PostgreSQL as the target of a copy (`StoreAdmin::load_rows`, `finish_load`): dumped
//! rows go in as they came (`doc` is the dumped JSON, so the target dumps the same
//! checksum), their key columns derived from the parsed record by the column helpers the
//! write paths use. What the embedded store keeps in derived tables is derived once every
//! table is in, by `copy_derive::DERIVED`: one step per derived table or column, listed in
//! one place.

use super::PgStore;
use super::codec::{big, from_value};
use super::copy_derive::DERIVED;
use super::copy_dump::{split_first, split_seq, unhex};
use super::retry::{Tx, TxResult};
use super::{advance, copy_compliance, deliveries, lines, numbers, orders, sims};
use crate::order::{EsimState, Order};
use crate::store::dump::{DumpRow, DumpTable};
use crate::store::*;
use serde_json::Value;

/// The idempotency key a loaded reservation holds until its `reservation_keys` row
/// arrives (a space: never in a real key, which is visible ASCII).
const PENDING_KEY: &str = " loading ";

fn bad_row(table: &'static str, key: &str) -> StoreError {
    StoreError::Corrupt {
        table,
        message: format!("dumped row {key:?} does not fit this table"),
    }
}

/// `doc` with its numbered fields zeroed, as the write paths store them (the columns
/// hold the numbers).
fn unnumbered(mut doc: Value, fields: &[(&str, Value)]) -> Value {
    for (k, v) in fields {
        doc[*k] = v.clone();
    }
    doc
}

async fn load_row(tx: &Tx<'_>, table: DumpTable, row: &DumpRow) -> TxResult<()> {
    let (key, doc) = (row.key.as_str(), &row.doc);
    match table {
        DumpTable::Tenants => {
            let t: Tenant = from_value("tenants", doc.clone())?;
            tx.exec(
                "INSERT INTO tenants (id, doc) VALUES ($1, $2)",
                &[&t.id, doc],
            )
            .await?;
        }
        DumpTable::ApiKeys => {
            let r: ApiKeyRecord = from_value("api_keys", doc.clone())?;
            let hash = unhex(key).ok_or_else(|| bad_row("api_keys", key))?;
            tx.exec(
                "INSERT INTO api_keys (hash, tenant, doc) VALUES ($1, $2, $3)",
                &[&hash, &r.tenant, doc],
            )
            .await?;
        }
        DumpTable::Batches => {
            let b: BatchRecord = from_value("batches", doc.clone())?;
            let status = match b.status {
                BatchStatus::Importing => "importing",
                BatchStatus::Complete => "complete",
            };
            tx.exec(
                "INSERT INTO batches (id, tenant, status, doc) VALUES ($1, $2, $3, $4)",
                &[&b.id, &b.tenant, &status, doc],
            )
            .await?;
        }
        DumpTable::Sims => {
            let s: SimRecord = from_value("sims", doc.clone())?;
            let (state, holder) = sims::columns(&s.state);
            // `file_line` comes with `batch_sims`, `stocked` in `finish_load`.
            tx.exec(
                "INSERT INTO sims (iccid, imsi, tenant, batch, file_line, stocked, state, holder,
                                   esim_profile_type, doc)
                 VALUES ($1, $2, $3, $4, NULL, TRUE, $5, $6, $7, $8)",
                &[
                    &s.iccid.as_str(),
                    &s.imsi.as_str(),
                    &s.tenant,
                    &s.batch,
                    &state,
                    &holder,
                    &s.esim_profile_type,
                    doc,
                ],
            )
            .await?;
        }
        DumpTable::BatchSims => {
            let (batch, iccid) = split_first(key)?;
            let line = doc
                .as_u64()
                .and_then(|l| i32::try_from(l).ok())
                .ok_or_else(|| bad_row("batch_sims", key))?;
            let n = tx
                .exec(
                    "UPDATE sims SET file_line = $3 WHERE iccid = $2 AND batch = $1",
                    &[&batch, &iccid, &line],
                )
                .await?;
            if n != 1 {
                return Err(bad_row("batch_sims", key).into());
            }
        }
        DumpTable::Numbers => {
            let n: NumberRecord = from_value("numbers", doc.clone())?;
            let (state, holder, until) = numbers::columns(&n.state);
            tx.exec(
                "INSERT INTO numbers (msisdn, tenant, block, class, state, holder, until_ms, doc)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &key,
                    &n.tenant,
                    &n.block,
                    &numbers::class_name(n.class),
                    &state,
                    &holder,
                    &until,
                    doc,
                ],
            )
            .await?;
        }
        DumpTable::Orders => {
            let o: Order = from_value("orders", doc.clone())?;
            // No lease: the first node to start claims the orders in flight; the eSIM
            // deadline column follows in `finish_load` (it needs the progress rows).
            tx.exec(
                "INSERT INTO orders (id, tenant, kind, status, line, iccid, msisdn, inflight,
                                     version, created_at_ms, updated_at_ms, esim_expires_at_ms, doc)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                &[
                    &o.id,
                    &o.tenant,
                    &o.kind.as_str(),
                    &o.status.as_str(),
                    &orders::line_of(&o),
                    &o.iccid.as_str(),
                    &o.msisdn.as_str(),
                    // A parked port is out of flight (`orders_inflight` follows this).
                    &orders::in_flight(&o),
                    &big(o.version),
                    &big(o.created_at_ms),
                    &big(o.updated_at_ms),
                    &advance::deadline(&o).map(big),
                    doc,
                ],
            )
            .await?;
        }
        DumpTable::Idempotency => {
            let r: IdempotencyRecord = from_value("idempotency", doc.clone())?;
            let (tenant, k) = split_first(key)?;
            tx.exec(
                "INSERT INTO idempotency (tenant, idem_key, order_id, body_hash, created_at_ms, doc)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&tenant, &k, &r.order_id, &r.body_hash, &big(r.created_at_ms), doc],
            )
            .await?;
        }
        DumpTable::Reservations => {
            let r: Reservation = from_value("reservations", doc.clone())?;
            let pending_key = format!("{PENDING_KEY}{}", r.id);
            tx.exec(
                "INSERT INTO reservations (id, tenant, msisdn, idempotency_key, body_hash,
                                           expires_at_ms, on_expiry_list, order_id, doc)
                 VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8)",
                &[
                    &r.id,
                    &r.tenant,
                    &r.msisdn.as_str(),
                    &pending_key,
                    &big(r.expires_at_ms),
                    &r.order.is_none(),
                    &r.order,
                    doc,
                ],
            )
            .await?;
        }
        DumpTable::ReservationKeys => {
            let (tenant, k) = split_first(key)?;
            let (Some(hash), Some(id)) = (doc["body_hash"].as_str(), doc["reservation"].as_str())
            else {
                return Err(bad_row("reservation_keys", key).into());
            };
            let n = tx
                .exec(
                    "UPDATE reservations SET idempotency_key = $3, body_hash = $4
                     WHERE id = $1 AND tenant = $2 AND idempotency_key = $5",
                    &[&id, &tenant, &k, &hash, &format!("{PENDING_KEY}{id}")],
                )
                .await?;
            if n != 1 {
                return Err(bad_row("reservation_keys", key).into());
            }
        }
        DumpTable::Subscriptions => {
            let s: Subscription = from_value("subscriptions", doc.clone())?;
            let (msisdn, iccid) = lines::columns(&s);
            tx.exec(
                "INSERT INTO subscriptions (id, tenant, msisdn, iccid, state, inflight,
                                            activation_id, doc)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &s.id,
                    &s.tenant,
                    &msisdn,
                    &iccid,
                    &s.state.as_str(),
                    &s.inflight,
                    &s.activation_id,
                    doc,
                ],
            )
            .await?;
        }
        DumpTable::EsimProgress => {
            let p: EsimProgress = from_value("esim_progress", doc.clone())?;
            tx.exec(
                "INSERT INTO esim_progress (order_id, state, doc) VALUES ($1, $2, $3)",
                &[&key, &p.state.map(EsimState::as_str), doc],
            )
            .await?;
        }
        DumpTable::Notifications => {
            let n: NotificationRecord = from_value("notifications", doc.clone())?;
            tx.exec(
                "INSERT INTO notifications (dedupe_key, received_at_ms, doc) VALUES ($1, $2, $3)",
                &[&key, &big(n.received_at_ms), doc],
            )
            .await?;
        }
        DumpTable::PortInbox => {
            let item: PortInboxItem = from_value("port_inbox", doc.clone())?;
            if item.key != key {
                return Err(bad_row("port_inbox", key).into());
            }
            // `applied = false` is what lists the item as pending (the partial index).
            tx.exec(
                "INSERT INTO port_inbox (key, order_id, received_at_ms, applied, doc)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &item.key,
                    &item.order_id,
                    &big(item.received_at_ms),
                    &item.applied,
                    doc,
                ],
            )
            .await?;
        }
        DumpTable::AuditEvents => {
            let _: Event = from_value("events", doc.clone())?;
            let seq: u64 = key.parse().map_err(|_| bad_row("events", key))?;
            // A batch of one (`event_batches`); the sequencer numbers later ones after it.
            let docs = Value::Array(vec![unnumbered(doc.clone(), &[("seq", Value::from(0))])]);
            tx.exec(
                "INSERT INTO event_batches (txn, ord, n, seq, docs) VALUES ($1, $2, 1, $3, $4)",
                &[&tx.id(), &tx.next_ordinal(), &big(seq), &docs],
            )
            .await?;
        }
        DumpTable::PublicEvents => {
            let e: PublicEvent = from_value("public_events", doc.clone())?;
            let (tenant, tenant_seq) = split_seq(key)?;
            if tenant != e.tenant {
                return Err(bad_row("public_events", key).into());
            }
            let doc = unnumbered(
                doc.clone(),
                &[
                    ("seq", Value::from(0)),
                    ("tenant_seq", Value::from(0)),
                    ("id", Value::from("")),
                ],
            );
            // A batch of one (`public_batches`), as the events' own numbers say.
            tx.exec(
                "INSERT INTO public_batches (txn, ord, tenant, event_type, n, seq, tenant_seq, docs)
                 VALUES ($1, $2, $3, $4, 1, $5, $6, $7)",
                &[
                    &tx.id(),
                    &tx.next_ordinal(),
                    &e.tenant,
                    &e.event_type.as_str(),
                    &big(e.seq),
                    &tenant_seq,
                    &Value::Array(vec![doc]),
                ],
            )
            .await?;
        }
        DumpTable::WebhookEndpoints => {
            let e: WebhookEndpoint = from_value("webhook_endpoints", doc.clone())?;
            tx.exec(
                "INSERT INTO webhook_endpoints (id, tenant, doc) VALUES ($1, $2, $3)",
                &[&e.id, &e.tenant, doc],
            )
            .await?;
        }
        DumpTable::WebhookDeliveries => {
            let d: Delivery = from_value("webhook_deliveries", doc.clone())?;
            let (pending, due) = deliveries::columns(&d);
            tx.exec(
                "INSERT INTO webhook_deliveries (endpoint, event_seq, queue, status, pending,
                                                 due_at_ms, doc)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &d.endpoint,
                    &big(d.event_seq),
                    &d.queue,
                    &d.status.as_str(),
                    &pending,
                    &due,
                    doc,
                ],
            )
            .await?;
        }
        DumpTable::TerminalRecords => {
            let bytes = doc
                .as_str()
                .and_then(unhex)
                .ok_or_else(|| bad_row("terminal_records", key))?;
            let (tenant, k) = key
                .split_once('/')
                .ok_or_else(|| bad_row("terminal_records", key))?;
            tx.exec(
                "INSERT INTO terminal_records (tenant, key, value) VALUES ($1, $2, $3)",
                &[&tenant, &k, &bytes],
            )
            .await?;
        }
        DumpTable::Meta => {
            let bytes = doc
                .as_str()
                .and_then(unhex)
                .ok_or_else(|| bad_row("meta", key))?;
            tx.exec(
                "INSERT INTO meta (name, value) VALUES ($1, $2)",
                &[&key, &bytes],
            )
            .await?;
        }
        DumpTable::LiveLines
        | DumpTable::Velocity
        | DumpTable::Registry
        | DumpTable::Blocklist
        | DumpTable::Audit => copy_compliance::load(tx, table, row).await?,
        DumpTable::Settings => {
            let v = doc.as_u64().ok_or_else(|| bad_row("settings", key))?;
            tx.exec(
                "INSERT INTO settings (name, value) VALUES ($1, $2)",
                &[&key, &big(v)],
            )
            .await?;
        }
    }
    Ok(())
}

impl PgStore {
    /// See [`crate::store::StoreAdmin::load_rows`]: the rows of one page, in one
    /// transaction.
    pub async fn load_rows(&self, table: DumpTable, rows: &[DumpRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.transaction(&(table, rows), |tx, (table, rows)| {
            Box::pin(async move {
                for row in rows.iter() {
                    load_row(tx, *table, row).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// See [`crate::store::StoreAdmin::finish_load`]: every step of [`DERIVED`], in one
    /// transaction.
    pub async fn finish_load(&self) -> Result<(), StoreError> {
        self.transaction(&(), |tx, ()| {
            Box::pin(async move {
                for (_, step) in DERIVED {
                    step(tx).await?;
                }
                Ok(())
            })
        })
        .await
    }
}
