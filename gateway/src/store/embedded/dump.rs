//! The embedded store as the source of a copy (`StoreAdmin::dump_page`): each table read
//! in key order from one snapshot per page, the cursor being the last key's dump form.
//! Indexes, the free tree and counters are not dumped (a target derives them); batch
//! membership is, for the file line it keeps. Of the porting tables only the inbox is
//! dumped: the parked and open port indexes follow from the orders, and the pending
//! list from the inbox items not applied.

use super::RedbStore;
use super::apply::backend;
use super::outbox::{OUTBOX_SETTINGS, PUBLIC_EVENTS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS};
use super::tables::*;
use crate::store::StoreError;
use crate::store::dump::{DumpPage, DumpRow, DumpTable};
use ::redb::{Key, ReadTransaction, TableDefinition, Value as RedbValue};
use serde_json::Value;
use std::ops::Bound::{Excluded, Unbounded};

/// A JSON record value.
fn json(table: &'static str, bytes: &[u8]) -> Result<Value, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table,
        message: e.to_string(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Up to `limit` rows of a key range, each made by `row`; the next page starts after the
/// last row's key (its dump form, which `after_*` parses back).
fn rows<K, V, F>(
    range: ::redb::Range<'_, K, V>,
    limit: usize,
    mut row: F,
) -> Result<DumpPage, StoreError>
where
    K: Key + 'static,
    V: RedbValue + 'static,
    F: FnMut(K::SelfType<'_>, V::SelfType<'_>) -> Result<DumpRow, StoreError>,
{
    let mut out = Vec::new();
    for entry in range {
        let (k, v) = entry.map_err(backend)?;
        out.push(row(k.value(), v.value())?);
        if out.len() >= limit {
            let next = out.last().map(|r| r.key.clone());
            return Ok(DumpPage { rows: out, next });
        }
    }
    Ok(DumpPage {
        rows: out,
        next: None,
    })
}

/// The range of a table after a cursor (all of it without one).
macro_rules! after {
    ($t:expr, $ty:ty, $after:expr) => {
        match $after {
            Some(a) => $t.range::<$ty>((Excluded(a), Unbounded)),
            None => $t.range::<$ty>(..),
        }
        .map_err(backend)?
    };
}

fn bad_cursor(c: &str) -> StoreError {
    StoreError::Backend(format!("not a dump cursor of this table: {c:?}"))
}

/// `tenant/rest` (a tenant id never holds `/`).
fn split_first(c: &str) -> Result<(&str, &str), StoreError> {
    c.split_once('/').ok_or_else(|| bad_cursor(c))
}

/// `name/number` (the number is last).
fn split_seq(c: &str) -> Result<(&str, u64), StoreError> {
    let (a, n) = c.rsplit_once('/').ok_or_else(|| bad_cursor(c))?;
    Ok((a, n.parse().map_err(|_| bad_cursor(c))?))
}

fn unhex(c: &str) -> Result<Vec<u8>, StoreError> {
    if c.len() % 2 != 0 || !c.is_ascii() {
        return Err(bad_cursor(c));
    }
    (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&c[i..i + 2], 16).map_err(|_| bad_cursor(c)))
        .collect()
}

/// A table keyed by one string whose values are JSON records.
fn by_id(
    txn: &ReadTransaction,
    def: TableDefinition<&str, &[u8]>,
    name: &'static str,
    after: Option<&str>,
    limit: usize,
) -> Result<DumpPage, StoreError> {
    let t = txn.open_table(def).map_err(backend)?;
    rows(after!(t, &str, after), limit, |k: &str, v: &[u8]| {
        Ok(DumpRow {
            key: k.to_owned(),
            doc: json(name, v)?,
        })
    })
}

impl RedbStore {
    /// See [`crate::store::StoreAdmin::dump_page`].
    pub(super) fn dump(
        &self,
        table: DumpTable,
        after: Option<&str>,
        limit: usize,
    ) -> Result<DumpPage, StoreError> {
        let limit = limit.max(1);
        if let Some(page) = self.dump_compliance(table, after, limit) {
            return page;
        }
        self.read(|txn| match table {
            DumpTable::Tenants => by_id(txn, TENANTS, "tenants", after, limit),
            DumpTable::Batches => by_id(txn, BATCHES, "batches", after, limit),
            DumpTable::Sims => by_id(txn, SIMS, "sims", after, limit),
            DumpTable::Numbers => by_id(txn, NUMBERS, "numbers", after, limit),
            DumpTable::Orders => by_id(txn, ORDERS, "orders", after, limit),
            DumpTable::Reservations => by_id(txn, RESERVATIONS, "reservations", after, limit),
            DumpTable::Subscriptions => by_id(txn, SUBSCRIPTIONS, "subscriptions", after, limit),
            DumpTable::EsimProgress => by_id(txn, ESIM_PROGRESS, "esim_progress", after, limit),
            DumpTable::Notifications => {
                by_id(txn, NOTIFICATIONS, "notifications", after, limit)
            }
            DumpTable::PortInbox => by_id(txn, super::ports::PORT_INBOX, "port_inbox", after, limit),
            DumpTable::WebhookEndpoints => {
                by_id(txn, WEBHOOK_ENDPOINTS, "webhook_endpoints", after, limit)
            }
            DumpTable::ApiKeys => {
                let t = txn.open_table(API_KEYS).map_err(backend)?;
                let after = after.map(unhex).transpose()?;
                rows(after!(t, &[u8], after.as_deref()), limit, |k: &[u8], v: &[u8]| {
                    Ok(DumpRow {
                        key: hex(k),
                        doc: json("api_keys", v)?,
                    })
                })
            }
            DumpTable::Idempotency => {
                let t = txn.open_table(IDEMPOTENCY).map_err(backend)?;
                let after = after.map(split_first).transpose()?;
                rows(after!(t, (&str, &str), after), limit, |(tenant, key): (&str, &str), v: &[u8]| {
                    Ok(DumpRow {
                        key: format!("{tenant}/{key}"),
                        doc: json("idempotency", v)?,
                    })
                })
            }
            DumpTable::BatchSims => {
                let t = txn.open_table(BATCH_SIMS).map_err(backend)?;
                let after = after.map(split_first).transpose()?;
                rows(after!(t, (&str, &str), after), limit, |(batch, iccid): (&str, &str), line: u32| {
                    Ok(DumpRow {
                        key: format!("{batch}/{iccid}"),
                        doc: Value::from(line),
                    })
                })
            }
            DumpTable::ReservationKeys => {
                let t = txn.open_table(RESERVATION_IDEM).map_err(backend)?;
                let after = after.map(split_first).transpose()?;
                rows(after!(t, (&str, &str), after), limit, |(tenant, key): (&str, &str), v: &[u8]| {
                    let (body_hash, reservation): (String, String) =
                        serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
                            table: "reservation_idem",
                            message: e.to_string(),
                        })?;
                    Ok(DumpRow {
                        key: format!("{tenant}/{key}"),
                        doc: serde_json::json!({"body_hash": body_hash, "reservation": reservation}),
                    })
                })
            }
            DumpTable::AuditEvents => {
                let t = txn.open_table(EVENTS).map_err(backend)?;
                let after = after
                    .map(|c| c.parse::<u64>().map_err(|_| bad_cursor(c)))
                    .transpose()?;
                rows(after!(t, u64, after), limit, |seq: u64, v: &[u8]| {
                    Ok(DumpRow {
                        key: seq.to_string(),
                        doc: json("events", v)?,
                    })
                })
            }
            DumpTable::PublicEvents => {
                let t = txn.open_table(PUBLIC_EVENTS).map_err(backend)?;
                let after = after.map(split_seq).transpose()?;
                rows(after!(t, (&str, u64), after), limit, |(tenant, seq): (&str, u64), v: &[u8]| {
                    Ok(DumpRow {
                        key: format!("{tenant}/{seq}"),
                        doc: json("public_events", v)?,
                    })
                })
            }
            DumpTable::WebhookDeliveries => {
                let t = txn.open_table(WEBHOOK_DELIVERIES).map_err(backend)?;
                let after = after.map(split_seq).transpose()?;
                rows(after!(t, (&str, u64), after), limit, |(endpoint, seq): (&str, u64), v: &[u8]| {
                    Ok(DumpRow {
                        key: format!("{endpoint}/{seq}"),
                        doc: json("webhook_deliveries", v)?,
                    })
                })
            }
            DumpTable::TerminalRecords => {
                let t = txn.open_table(TERMINAL).map_err(backend)?;
                let after = after.map(split_first).transpose()?;
                rows(after!(t, (&str, &str), after), limit, |(tenant, key): (&str, &str), v: &[u8]| {
                    Ok(DumpRow {
                        key: format!("{tenant}/{key}"),
                        doc: Value::String(hex(v)),
                    })
                })
            }
            DumpTable::Meta => {
                let t = txn.open_table(META).map_err(backend)?;
                rows(after!(t, &str, after), limit, |k: &str, v: &[u8]| {
                    Ok(DumpRow {
                        key: k.to_owned(),
                        doc: Value::String(hex(v)),
                    })
                })
            }
            DumpTable::Settings => {
                let t = txn.open_table(OUTBOX_SETTINGS).map_err(backend)?;
                rows(after!(t, &str, after), limit, |k: &str, v: u64| {
                    Ok(DumpRow {
                        key: k.to_owned(),
                        doc: Value::from(v),
                    })
                })
            }
            DumpTable::LiveLines
            | DumpTable::Velocity
            | DumpTable::Registry
            | DumpTable::Blocklist
            | DumpTable::Audit => Err(StoreError::Backend(format!(
                "{} is dumped by compliance_read.rs",
                table.name()
            ))),
        })
    }
}
