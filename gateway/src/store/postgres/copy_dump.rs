//! PostgreSQL as the source of a copy (`StoreAdmin::dump_page`): each table read by its
//! primary key (keyset paging, never OFFSET), one statement per page, each row under the
//! key and with the doc the embedded dump gives the same record. Numbered values kept in
//! columns (an event's `seq`, a public event's `seq`, `tenant_seq` and `id`) are put back
//! into the doc as the read paths do; reservation idempotency keys, which live on the
//! reservation row here, are dumped as the embedded `reservation_idem` rows.

use super::PgStore;
use super::codec::{big, to_value, unbig};
use crate::store::StoreError;
use crate::store::dump::{DumpPage, DumpRow, DumpTable};
use crate::store::event_id;
use serde_json::{Value, json};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

fn bad_cursor(c: &str) -> StoreError {
    StoreError::Backend(format!("not a dump cursor of this table: {c:?}"))
}

/// Hex of bytes (API key hashes, metadata values), as the embedded dump writes them.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of hex; `None` if it is not hex.
pub fn unhex(c: &str) -> Option<Vec<u8>> {
    if c.len() % 2 != 0 || !c.is_ascii() {
        return None;
    }
    (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&c[i..i + 2], 16).ok())
        .collect()
}

/// `first/rest` of a composite key whose first part never holds `/` (a tenant id).
pub fn split_first(c: &str) -> Result<(&str, &str), StoreError> {
    c.split_once('/').ok_or_else(|| bad_cursor(c))
}

/// `name/number` of a composite key whose number is last.
pub fn split_seq(c: &str) -> Result<(&str, i64), StoreError> {
    let (a, n) = c.rsplit_once('/').ok_or_else(|| bad_cursor(c))?;
    let n: u64 = n.parse().map_err(|_| bad_cursor(c))?;
    Ok((a, big(n)))
}

/// A table whose key is one text column: (SQL name, key column).
fn by_text(table: DumpTable) -> Option<(&'static str, &'static str)> {
    Some(match table {
        DumpTable::Tenants => ("tenants", "id"),
        DumpTable::Batches => ("batches", "id"),
        DumpTable::Sims => ("sims", "iccid"),
        DumpTable::Numbers => ("numbers", "msisdn"),
        DumpTable::Orders => ("orders", "id"),
        DumpTable::Reservations => ("reservations", "id"),
        DumpTable::Subscriptions => ("subscriptions", "id"),
        DumpTable::EsimProgress => ("esim_progress", "order_id"),
        DumpTable::Notifications => ("notifications", "dedupe_key"),
        DumpTable::PortInbox => ("port_inbox", "key"),
        DumpTable::WebhookEndpoints => ("webhook_endpoints", "id"),
        _ => return None,
    })
}

impl PgStore {
    async fn dump_rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        self.read_rows(sql, params).await
    }

    /// See [`crate::store::StoreAdmin::dump_page`]. The cursor is the last row's key.
    pub async fn dump_page(
        &self,
        table: DumpTable,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<DumpPage, StoreError> {
        let limit = limit.max(1);
        if super::copy_compliance::is_compliance(table) {
            return self.dump_compliance(table, cursor, limit).await;
        }
        let n = i64::try_from(limit).unwrap_or(i64::MAX);
        if cursor.is_none() && matches!(table, DumpTable::AuditEvents | DumpTable::PublicEvents) {
            // Events committed but not numbered yet get their numbers first (when this
            // node can take the sequencer lease; nothing is written when none waits).
            if self.events_pending().await? {
                self.flush_events().await?;
            }
        }
        let rows: Vec<DumpRow> = if let Some((t, k)) = by_text(table) {
            let sql = format!("SELECT {k}, doc FROM {t} WHERE {k} > $1 ORDER BY {k} LIMIT $2");
            self.dump_rows(&sql, &[&cursor.unwrap_or(""), &n])
                .await?
                .iter()
                .map(|r| DumpRow {
                    key: r.get(0),
                    doc: r.get(1),
                })
                .collect()
        } else {
            match table {
                DumpTable::ApiKeys => {
                    let after = match cursor {
                        Some(c) => unhex(c).ok_or_else(|| bad_cursor(c))?,
                        None => Vec::new(),
                    };
                    self.dump_rows(
                        "SELECT hash, doc FROM api_keys WHERE hash > $1 ORDER BY hash LIMIT $2",
                        &[&after, &n],
                    )
                    .await?
                    .iter()
                    .map(|r| DumpRow {
                        key: hex(r.get::<_, &[u8]>(0)),
                        doc: r.get(1),
                    })
                    .collect()
                }
                DumpTable::Idempotency => {
                    let (t, k) = cursor.map(split_first).transpose()?.unwrap_or(("", ""));
                    self.dump_rows(
                        "SELECT tenant, idem_key, doc FROM idempotency
                         WHERE (tenant, idem_key) > ($1, $2) ORDER BY tenant, idem_key LIMIT $3",
                        &[&t, &k, &n],
                    )
                    .await?
                    .iter()
                    .map(|r| DumpRow {
                        key: format!("{}/{}", r.get::<_, &str>(0), r.get::<_, &str>(1)),
                        doc: r.get(2),
                    })
                    .collect()
                }
                DumpTable::BatchSims => {
                    let (b, i) = cursor.map(split_first).transpose()?.unwrap_or(("", ""));
                    self.dump_rows(
                        "SELECT batch, iccid, file_line FROM sims
                         WHERE file_line IS NOT NULL AND (batch, iccid) > ($1, $2)
                         ORDER BY batch, iccid LIMIT $3",
                        &[&b, &i, &n],
                    )
                    .await?
                    .iter()
                    .map(|r| DumpRow {
                        key: format!("{}/{}", r.get::<_, &str>(0), r.get::<_, &str>(1)),
                        doc: Value::from(r.get::<_, i32>(2)),
                    })
                    .collect()
                }
                DumpTable::ReservationKeys => {
                    let (t, k) = cursor.map(split_first).transpose()?.unwrap_or(("", ""));
                    self.dump_rows(
                        "SELECT tenant, idempotency_key, body_hash, id FROM reservations
                         WHERE (tenant, idempotency_key) > ($1, $2)
                         ORDER BY tenant, idempotency_key LIMIT $3",
                        &[&t, &k, &n],
                    )
                    .await?
                    .iter()
                    .map(|r| DumpRow {
                        key: format!("{}/{}", r.get::<_, &str>(0), r.get::<_, &str>(1)),
                        doc: json!({"body_hash": r.get::<_, &str>(2), "reservation": r.get::<_, &str>(3)}),
                    })
                    .collect()
                }
                DumpTable::AuditEvents => {
                    let from = match cursor {
                        Some(c) => c
                            .parse::<u64>()
                            .map_err(|_| bad_cursor(c))?
                            .saturating_add(1),
                        None => 0,
                    };
                    self.events(from, limit)
                        .await?
                        .iter()
                        .map(|e| {
                            Ok(DumpRow {
                                key: e.seq.to_string(),
                                doc: to_value(e)?,
                            })
                        })
                        .collect::<Result<_, StoreError>>()?
                }
                DumpTable::PublicEvents => {
                    let (t, s) = cursor.map(split_seq).transpose()?.unwrap_or(("", -1));
                    // Entries after the cursor: from the batch holding its next number on
                    // (`limit + 1` batches hold at least `limit` entries past it).
                    self.dump_rows(
                        "SELECT b.tenant, b.seq + e.i - 1, b.tenant_seq + e.i - 1, e.doc
                         FROM (SELECT tenant, seq, tenant_seq, docs FROM public_batches
                               WHERE tenant_seq IS NOT NULL AND (tenant, tenant_seq) >= ($1,
                                     COALESCE((SELECT MAX(tenant_seq) FROM public_batches
                                               WHERE tenant = $1 AND tenant_seq <= $4), 0))
                               ORDER BY tenant, tenant_seq LIMIT $5) AS b,
                              jsonb_array_elements(b.docs) WITH ORDINALITY AS e(doc, i)
                         WHERE (b.tenant, b.tenant_seq + e.i - 1) > ($1, $2)
                         ORDER BY 1, 3 LIMIT $3",
                        &[&t, &s, &n, &s.saturating_add(1), &n.saturating_add(1)],
                    )
                    .await?
                    .into_iter()
                    .map(|r| {
                        let (tenant, ts): (String, u64) = (r.get(0), unbig(r.get(2)));
                        let mut doc: Value = r.get(3);
                        doc["seq"] = Value::from(unbig(r.get(1)));
                        doc["tenant_seq"] = Value::from(ts);
                        doc["id"] = Value::from(event_id(ts));
                        DumpRow {
                            key: format!("{tenant}/{ts}"),
                            doc,
                        }
                    })
                    .collect()
                }
                DumpTable::WebhookDeliveries => {
                    let (e, s) = cursor.map(split_seq).transpose()?.unwrap_or(("", -1));
                    self.dump_rows(
                        "SELECT endpoint, event_seq, doc FROM webhook_deliveries
                         WHERE (endpoint, event_seq) > ($1, $2)
                         ORDER BY endpoint, event_seq LIMIT $3",
                        &[&e, &s, &n],
                    )
                    .await?
                    .iter()
                    .map(|r| DumpRow {
                        key: format!("{}/{}", r.get::<_, &str>(0), unbig(r.get(1))),
                        doc: r.get(2),
                    })
                    .collect()
                }
                DumpTable::TerminalRecords => {
                    let (t, k) = cursor.map(split_first).transpose()?.unwrap_or(("", ""));
                    self.dump_rows(
                        "SELECT tenant, key, value FROM terminal_records
                         WHERE (tenant, key) > ($1, $2) ORDER BY tenant, key LIMIT $3",
                        &[&t, &k, &n],
                    )
                    .await?
                    .iter()
                    .map(|r| DumpRow {
                        key: format!("{}/{}", r.get::<_, &str>(0), r.get::<_, &str>(1)),
                        doc: Value::String(hex(r.get::<_, &[u8]>(2))),
                    })
                    .collect()
                }
                DumpTable::Meta => self
                    .dump_rows(
                        "SELECT name, value FROM meta WHERE name > $1 ORDER BY name LIMIT $2",
                        &[&cursor.unwrap_or(""), &n],
                    )
                    .await?
                    .iter()
                    .map(|r| DumpRow {
                        key: r.get(0),
                        doc: Value::String(hex(r.get::<_, &[u8]>(1))),
                    })
                    .collect(),
                DumpTable::Settings => self
                    .dump_rows(
                        "SELECT name, value FROM settings WHERE name > $1 ORDER BY name LIMIT $2",
                        &[&cursor.unwrap_or(""), &n],
                    )
                    .await?
                    .iter()
                    .map(|r| DumpRow {
                        key: r.get(0),
                        doc: Value::from(unbig(r.get(1))),
                    })
                    .collect(),
                // Not stored here yet (issue 15, PostgreSQL side in progress): none.
                DumpTable::LiveLines
                | DumpTable::Velocity
                | DumpTable::Registry
                | DumpTable::Blocklist
                | DumpTable::Audit => Vec::new(),
                _ => return Err(bad_cursor("")),
            }
        };
        let next = (rows.len() >= limit)
            .then(|| rows.last().map(|r| r.key.clone()))
            .flatten();
        Ok(DumpPage { rows, next })
    }
}
