//! The compliance tables in a copy (`simgw db copy`): the live-line index, the velocity
//! counters, the registry, the blocklists and the audit chain, dumped and loaded as the
//! rows `records::compliance_rows` defines (the embedded store dumps the same documents
//! under the same keys, so a copy's checksums compare). Pages follow each table's key
//! columns; the cursor is those columns as a JSON array (a key's parts may hold `/`),
//! the audit chain's its sequence number. The audit chain is linked before its first
//! page, so records committed but still pending are copied too.

use super::PgStore;
use super::codec::{big, to_value, unbig};
use super::compliance_admin::{put_block, put_entry};
use super::compliance_counters as counters;
use super::retry::{Tx, TxResult};
use crate::store::dump::{DumpPage, DumpRow, DumpTable};
use crate::store::*;
use serde_json::Value;
use tokio_postgres::Row;

fn bad_cursor(c: &str) -> StoreError {
    StoreError::Backend(format!("not a dump cursor of this table: {c:?}"))
}

fn bad_row(table: &'static str, key: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        message: format!("dumped row {key:?} does not fit this table: {why}"),
    }
}

fn corrupt(table: &'static str, message: String) -> StoreError {
    StoreError::Corrupt { table, message }
}

/// The text parts of a JSON-array cursor (`n` of them; the empty strings before the
/// first page).
fn text_cursor(cursor: Option<&str>, n: usize) -> Result<Vec<String>, StoreError> {
    let Some(c) = cursor else {
        return Ok(vec![String::new(); n]);
    };
    let parts: Vec<String> = serde_json::from_str(c).map_err(|_| bad_cursor(c))?;
    if parts.len() != n {
        return Err(bad_cursor(c));
    }
    Ok(parts)
}

fn cursor_of(parts: &[&str]) -> String {
    Value::from(parts.to_vec()).to_string()
}

/// Whether `table` is one of the compliance tables this file copies.
pub fn is_compliance(table: DumpTable) -> bool {
    matches!(
        table,
        DumpTable::LiveLines
            | DumpTable::Velocity
            | DumpTable::Registry
            | DumpTable::Blocklist
            | DumpTable::Audit
    )
}

fn registry_row(r: &Row) -> Result<RegistryRow, StoreError> {
    let col = |i| r.get::<_, Option<i32>>(i);
    let hours = match (col(5), col(6), col(7)) {
        (Some(o), Some(c), Some(u)) => {
            let bad = |_| corrupt("registry", "store hours out of range".into());
            Some(HoursRow {
                open_min: u16::try_from(o).map_err(bad)?,
                close_min: u16::try_from(c).map_err(bad)?,
                utc_offset_min: i16::try_from(u).map_err(bad)?,
            })
        }
        _ => None,
    };
    Ok(RegistryRow {
        tenant: r.get(0),
        member: r.get(1),
        store: r.get(2),
        id: r.get(3),
        status: r.get(4),
        label: r.get(8),
        hours,
        updated_at_ms: unbig(r.get(9)),
    })
}

impl PgStore {
    /// A page of one of the compliance tables (see [`is_compliance`]).
    pub(super) async fn dump_compliance(
        &self,
        table: DumpTable,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<DumpPage, StoreError> {
        let n = i64::try_from(limit).unwrap_or(i64::MAX);
        // (row, that row's cursor)
        let rows: Vec<(DumpRow, String)> = match table {
            DumpTable::LiveLines => {
                let c = text_cursor(cursor, 3)?;
                self.read_rows(
                    "SELECT enterprise, id_hash, order_id FROM live_lines
                     WHERE (enterprise, id_hash, order_id) > ($1, $2, $3)
                     ORDER BY enterprise, id_hash, order_id LIMIT $4",
                    &[&c[0], &c[1], &c[2], &n],
                )
                .await?
                .iter()
                .map(|r| {
                    let row = LiveLineRow {
                        enterprise: r.get(0),
                        id_hash: r.get(1),
                        order_id: r.get(2),
                    };
                    let next = cursor_of(&[&row.enterprise, &row.id_hash, &row.order_id]);
                    Ok((
                        DumpRow {
                            key: row.dump_key(),
                            doc: to_value(&row)?,
                        },
                        next,
                    ))
                })
                .collect::<Result<_, StoreError>>()?
            }
            DumpTable::Velocity => {
                let (scope, after) = match cursor {
                    Some(c) => serde_json::from_str::<(String, u64)>(c)
                        .map(|(s, b)| (s, Some(b)))
                        .map_err(|_| bad_cursor(c))?,
                    None => (String::new(), None),
                };
                // Scopes from the cursor's on that hold a bucket: past the cursor's own,
                // `limit` of them give a full page.
                let rows = self
                    .read_rows(
                        "SELECT scope, buckets FROM velocity
                         WHERE scope >= $1 AND buckets <> '[]'::JSONB
                         ORDER BY scope LIMIT $2",
                        &[&scope, &n.saturating_add(1)],
                    )
                    .await?;
                let mut out = Vec::new();
                for (s, buckets) in counters::scope_rows(&rows) {
                    for (bucket, count) in buckets {
                        if s == scope && after.is_some_and(|a| bucket <= a) {
                            continue;
                        }
                        let row = VelocityRow {
                            scope: s.clone(),
                            bucket,
                            count,
                        };
                        let next = serde_json::json!([row.scope, row.bucket]).to_string();
                        out.push((
                            DumpRow {
                                key: row.dump_key(),
                                doc: to_value(&row)?,
                            },
                            next,
                        ));
                    }
                }
                out.truncate(limit);
                out
            }
            DumpTable::Registry => {
                let c = text_cursor(cursor, 4)?;
                self.read_rows(
                    "SELECT tenant, member, store, id, status, open_min, close_min,
                            utc_offset_min, label, updated_at_ms FROM registry
                     WHERE (tenant, member, store, id) > ($1, $2, $3, $4)
                     ORDER BY tenant, member, store, id LIMIT $5",
                    &[&c[0], &c[1], &c[2], &c[3], &n],
                )
                .await?
                .iter()
                .map(|r| {
                    let row = registry_row(r)?;
                    let next = cursor_of(&[&row.tenant, &row.member, &row.store, &row.id]);
                    Ok((
                        DumpRow {
                            key: row.dump_key(),
                            doc: to_value(&row)?,
                        },
                        next,
                    ))
                })
                .collect::<Result<_, StoreError>>()?
            }
            DumpTable::Blocklist => {
                let (e, l, v, s) = match cursor {
                    Some(c) => serde_json::from_str::<(String, String, String, i64)>(c)
                        .map_err(|_| bad_cursor(c))?,
                    None => (String::new(), String::new(), String::new(), -1),
                };
                self.read_rows(
                    "SELECT enterprise, list, value, start_ms, end_ms, reason, created_at_ms
                     FROM blocklist WHERE (enterprise, list, value, start_ms) > ($1, $2, $3, $4)
                     ORDER BY enterprise, list, value, start_ms LIMIT $5",
                    &[&e, &l, &v, &s, &n],
                )
                .await?
                .iter()
                .map(|r| {
                    let row = BlocklistRow {
                        enterprise: r.get(0),
                        list: r.get(1),
                        value: r.get(2),
                        start_ms: unbig(r.get(3)),
                        end_ms: r.get::<_, Option<i64>>(4).map(unbig),
                        reason: r.get(5),
                        created_at_ms: unbig(r.get(6)),
                    };
                    let next =
                        serde_json::json!([row.enterprise, row.list, row.value, big(row.start_ms)])
                            .to_string();
                    Ok((
                        DumpRow {
                            key: row.dump_key(),
                            doc: to_value(&row)?,
                        },
                        next,
                    ))
                })
                .collect::<Result<_, StoreError>>()?
            }
            DumpTable::Audit => {
                let from = match cursor {
                    Some(c) => c.parse::<u64>().map_err(|_| bad_cursor(c))? + 1,
                    None => 1,
                };
                self.audit_rows(from, limit)
                    .await?
                    .iter()
                    .map(|a| {
                        let row = AuditRowDoc::new(a);
                        Ok((
                            DumpRow {
                                key: row.dump_key(),
                                doc: to_value(&row)?,
                            },
                            a.seq.to_string(),
                        ))
                    })
                    .collect::<Result<_, StoreError>>()?
            }
            _ => return Err(bad_cursor("")),
        };
        let next = (rows.len() >= limit)
            .then(|| rows.last().map(|(_, c)| c.clone()))
            .flatten();
        Ok(DumpPage {
            rows: rows.into_iter().map(|(r, _)| r).collect(),
            next,
        })
    }
}

/// A dumped row's document as `T`.
fn row_of<T: serde::de::DeserializeOwned>(table: &'static str, row: &DumpRow) -> TxResult<T> {
    Ok(serde_json::from_value(row.doc.clone()).map_err(|e| bad_row(table, &row.key, e))?)
}

/// Loads one dumped row of a compliance table.
pub async fn load(tx: &Tx<'_>, table: DumpTable, row: &DumpRow) -> TxResult<()> {
    let key = row.key.as_str();
    match table {
        DumpTable::LiveLines => {
            let r: LiveLineRow = row_of("live_lines", row)?;
            tx.exec(
                "INSERT INTO live_lines (order_id, enterprise, id_hash) VALUES ($1, $2, $3)",
                &[&r.order_id, &r.enterprise, &r.id_hash],
            )
            .await?;
        }
        DumpTable::Velocity => {
            let r: VelocityRow = row_of("velocity", row)?;
            counters::load_bucket(tx, &r.scope, r.bucket, r.count).await?;
        }
        DumpTable::Registry => {
            let r: RegistryRow = row_of("registry", row)?;
            let entry = r.entry().map_err(|e| bad_row("registry", key, e))?;
            put_entry(tx, &r.tenant, &entry).await?;
        }
        DumpTable::Blocklist => {
            let r: BlocklistRow = row_of("blocklist", row)?;
            let entry = r.entry().map_err(|e| bad_row("blocklist", key, e))?;
            put_block(tx, &r.enterprise, &entry).await?;
        }
        DumpTable::Audit => {
            let r: AuditRowDoc = row_of("audit", row)?;
            let a = r.row().map_err(|e| bad_row("audit", key, e))?;
            tx.exec(
                "INSERT INTO audit (seq, bytes, hash) VALUES ($1, $2, $3)",
                &[&big(a.seq), &a.bytes, &a.hash.as_slice()],
            )
            .await?;
        }
        _ => return Err(bad_row("compliance", key, "not a compliance table").into()),
    }
    Ok(())
}
