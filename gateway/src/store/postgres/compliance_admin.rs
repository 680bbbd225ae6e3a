//! The compliance methods besides the create commit: `validate_activation`, operators'
//! registry and blocklist changes (`compliance_change`, each with its audit record in
//! the same commit), and the reads `registry`, `blocklist` and `live_lines`. Also the
//! registry row helpers the create commit's freeze uses.

use super::PgStore;
use super::audit_chain;
use super::codec::{big, unbig};
use super::compliance::{hours_of, precheck, validate};
use super::compliance_counters::ID_LINES;
use super::retry::{Tx, TxResult};
use crate::compliance::Decision;
use crate::compliance::audit::AuditRecord;
use crate::compliance::blocklist::{self, ListKind, Span};
use crate::compliance::channel::{Member, Registration};
use crate::store::*;
use tokio_postgres::Row;

fn corrupt(table: &'static str, message: String) -> StoreError {
    StoreError::Corrupt { table, message }
}

const ENTRY_COLUMNS: &str =
    "member, store, id, status, label, open_min, close_min, utc_offset_min, updated_at_ms";

fn entry_of(r: &Row) -> Result<RegistryEntry, StoreError> {
    let member: &str = r.get(0);
    let status: &str = r.get(3);
    Ok(RegistryEntry {
        member: parse_member(member)
            .ok_or_else(|| corrupt("registry", format!("unknown member kind {member:?}")))?,
        store: r.get(1),
        id: r.get(2),
        status: parse_registration(status)
            .filter(|s| *s != Registration::NotRegistered)
            .ok_or_else(|| corrupt("registry", format!("unknown status {status:?}")))?,
        label: r.get(4),
        hours: hours_of(r.get(5), r.get(6), r.get(7)),
        updated_at_ms: unbig(r.get(8)),
    })
}

/// One registry entry of a tenant.
pub async fn get_entry(
    tx: &Tx<'_>,
    tenant: &str,
    member: Member,
    store: &str,
    id: &str,
) -> TxResult<Option<RegistryEntry>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM registry
         WHERE tenant = $1 AND store = $2 AND member = $3 AND id = $4"
    );
    match tx
        .row(&sql, &[&tenant, &store, &member.as_str(), &id])
        .await?
    {
        Some(r) => Ok(Some(entry_of(&r)?)),
        None => Ok(None),
    }
}

/// Creates or replaces a registry entry of a tenant.
pub async fn put_entry(tx: &Tx<'_>, tenant: &str, e: &RegistryEntry) -> TxResult<()> {
    let h = e.hours;
    tx.exec(
        "INSERT INTO registry (tenant, member, store, id, status, label, open_min, close_min,
                               utc_offset_min, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (tenant, store, member, id) DO UPDATE SET status = excluded.status,
             label = excluded.label, open_min = excluded.open_min,
             close_min = excluded.close_min, utc_offset_min = excluded.utc_offset_min,
             updated_at_ms = excluded.updated_at_ms",
        &[
            &tenant,
            &e.member.as_str(),
            &e.store,
            &e.id,
            &registration_str(e.status),
            &e.label,
            &h.map(|h| i32::from(h.open_min)),
            &h.map(|h| i32::from(h.close_min)),
            &h.map(|h| i32::from(h.utc_offset_min)),
            &big(e.updated_at_ms),
        ],
    )
    .await?;
    Ok(())
}

/// Inserts (or replaces, same start) a blocklist entry.
pub async fn put_block(tx: &Tx<'_>, enterprise: &str, e: &BlocklistEntry) -> TxResult<()> {
    tx.exec(
        "INSERT INTO blocklist (enterprise, list, value, start_ms, end_ms, reason, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (enterprise, list, value, start_ms) DO UPDATE SET end_ms = excluded.end_ms,
             reason = excluded.reason, created_at_ms = excluded.created_at_ms",
        &[
            &enterprise,
            &e.list.as_str(),
            &e.value,
            &big(e.span.start_ms),
            &e.span.end_ms.map(big),
            &e.reason,
            &big(e.created_at_ms),
        ],
    )
    .await?;
    Ok(())
}

const BLOCK_COLUMNS: &str = "list, value, start_ms, end_ms, reason, created_at_ms";

fn block_of(r: &Row) -> Result<BlocklistEntry, StoreError> {
    let list: &str = r.get(0);
    Ok(BlocklistEntry {
        list: ListKind::parse(list)
            .ok_or_else(|| corrupt("blocklist", format!("unknown list {list:?}")))?,
        value: r.get(1),
        span: Span {
            start_ms: unbig(r.get(2)),
            end_ms: r.get::<_, Option<i64>>(3).map(unbig),
        },
        reason: r.get(4),
        created_at_ms: unbig(r.get(5)),
    })
}

async fn change(
    tx: &Tx<'_>,
    c: &ComplianceChange,
    audit: &AuditRecord,
) -> TxResult<ComplianceChangeOutcome> {
    match c {
        ComplianceChange::PutRegistry { tenant, entry } => put_entry(tx, tenant, entry).await?,
        ComplianceChange::AddBlock {
            enterprise,
            entry,
            rules,
        } => {
            if entry.list == ListKind::IdHash {
                let sql = format!(
                    "SELECT {BLOCK_COLUMNS} FROM blocklist
                     WHERE enterprise = $1 AND list = $2 AND value = $3 ORDER BY start_ms"
                );
                let existing: Vec<Span> = tx
                    .rows(&sql, &[enterprise, &entry.list.as_str(), &entry.value])
                    .await?
                    .iter()
                    .map(|r| block_of(r).map(|b| b.span))
                    .collect::<Result<_, _>>()?;
                if let Err(r) = blocklist::check_id_entry(rules, &existing, entry.span) {
                    return Ok(ComplianceChangeOutcome::Refused(r));
                }
            }
            put_block(tx, enterprise, entry).await?;
        }
        ComplianceChange::EndBlock {
            enterprise,
            list,
            value,
            now_ms,
        } => {
            let ended = tx
                .exec(
                    "UPDATE blocklist SET end_ms = $4
                     WHERE enterprise = $1 AND list = $2 AND value = $3
                       AND start_ms <= $4 AND (end_ms IS NULL OR end_ms > $4)",
                    &[enterprise, &list.as_str(), value, &big(*now_ms)],
                )
                .await?;
            if ended == 0 {
                return Ok(ComplianceChangeOutcome::NotFound);
            }
        }
        ComplianceChange::AuditOnly => {}
        ComplianceChange::TerminalSwap {
            tenant,
            key,
            expect,
            value,
        } => {
            // SERIALIZABLE: a concurrent swap of the same record makes one of the two
            // commits fail and run again, and the second then reads the first's value.
            let current: Option<Vec<u8>> = tx
                .row(
                    "SELECT value FROM terminal_records WHERE tenant = $1 AND key = $2",
                    &[tenant, key],
                )
                .await?
                .map(|r| r.get(0));
            if current != *expect {
                return Ok(ComplianceChangeOutcome::Stale);
            }
            match value {
                Some(v) => {
                    tx.exec(
                        "INSERT INTO terminal_records (tenant, key, value) VALUES ($1, $2, $3)
                         ON CONFLICT (tenant, key) DO UPDATE SET value = EXCLUDED.value",
                        &[tenant, key, v],
                    )
                    .await?
                }
                None => {
                    tx.exec(
                        "DELETE FROM terminal_records WHERE tenant = $1 AND key = $2",
                        &[tenant, key],
                    )
                    .await?
                }
            };
        }
    }
    audit_chain::append(tx, audit).await?;
    Ok(ComplianceChangeOutcome::Applied)
}

impl PgStore {
    /// See [`Store::validate_activation`].
    pub async fn validate_activation(
        &self,
        tenant: &str,
        check: &ComplianceCheck,
        now_ms: u64,
    ) -> Result<Decision, StoreError> {
        self.transaction(&(tenant, check, now_ms), |tx, (tenant, check, now)| {
            Box::pin(validate(tx, tenant, check, *now))
        })
        .await
    }

    /// See [`ComplianceStore::precheck_activation`].
    pub async fn precheck_activation(
        &self,
        tenant: &str,
        check: &ComplianceCheck,
        now_ms: u64,
    ) -> Result<Decision, StoreError> {
        // A hint (the create commit decides again): one snapshot, no SIRead locks that
        // could make a concurrent create fail to serialize.
        self.snapshot(&(tenant, check, now_ms), |tx, (tenant, check, now)| {
            Box::pin(precheck(tx, tenant, check, *now))
        })
        .await
    }

    /// See [`Store::compliance_change`]. A refused change (or an `EndBlock` that found
    /// nothing in force) appends no audit record.
    pub async fn compliance_change(
        &self,
        change: ComplianceChange,
        audit: AuditRecord,
    ) -> Result<ComplianceChangeOutcome, StoreError> {
        self.transaction(&(change, audit), |tx, (c, a)| {
            Box::pin(self::change(tx, c, a))
        })
        .await
    }

    /// See [`ComplianceStore::terminal_record`].
    pub async fn terminal_record(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .read_opt(
                "SELECT value FROM terminal_records WHERE tenant = $1 AND key = $2",
                &[&tenant, &key],
            )
            .await?
            .map(|r| r.get(0)))
    }

    /// See [`Store::registry`].
    pub async fn registry(
        &self,
        tenant: &str,
        q: &ComplianceQuery,
    ) -> Result<Vec<RegistryEntry>, StoreError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM registry
             WHERE tenant = $1 AND ($2::TEXT IS NULL OR member = $2)
               AND ($3::TEXT IS NULL OR store = $3)"
        );
        let member = q.member.map(Member::as_str);
        let mut entries = self
            .read_rows(&sql, &[&tenant, &member, &q.store])
            .await?
            .iter()
            .map(entry_of)
            .collect::<Result<Vec<_>, _>>()?;
        // By their stored names, byte-wise (the embedded store's key order), whatever the
        // database's collation.
        entries.sort_by(|a, b| {
            (a.member.as_str(), &a.store, &a.id).cmp(&(b.member.as_str(), &b.store, &b.id))
        });
        Ok(entries)
    }

    /// See [`Store::blocklist`].
    pub async fn blocklist(
        &self,
        enterprise: &str,
        q: &ComplianceQuery,
    ) -> Result<Vec<BlocklistEntry>, StoreError> {
        let sql = format!(
            "SELECT {BLOCK_COLUMNS} FROM blocklist
             WHERE enterprise = $1 AND ($2::TEXT IS NULL OR list = $2)"
        );
        let list = q.list.map(ListKind::as_str);
        let mut entries = self
            .read_rows(&sql, &[&enterprise, &list])
            .await?
            .iter()
            .map(block_of)
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by(|a, b| {
            let key = |e: &BlocklistEntry| (e.list.as_str(), e.value.clone(), e.span.start_ms);
            key(a).cmp(&key(b))
        });
        Ok(entries)
    }

    /// See [`Store::live_lines`].
    pub async fn live_lines(&self, enterprise: &str, hashes: &[String]) -> Result<u32, StoreError> {
        let row = self.read_opt(ID_LINES, &[&enterprise, &hashes]).await?;
        let n: i64 = row.map_or(0, |r| r.get(0));
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
