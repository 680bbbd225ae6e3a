//! The compliance methods of the `Store` trait on redb: the two write commands queued for
//! the writer, the listings read from one snapshot each, and the dump pages of the five
//! compliance tables (`simgw db copy`; row forms in `store/records/compliance_rows.rs`).

use super::RedbStore;
use super::apply::{backend, dec};
use super::compliance::{
    ComplianceCommand, ComplianceReply, ReadSet, count_live, registry_entry, split_audit,
};
use super::outbox::MAX_STR;
use super::tables::*;
use super::writer::{Command, Reply};
use crate::compliance::Decision;
use crate::compliance::audit::AuditRecord;
use crate::store::dump::{DumpPage, DumpRow, DumpTable};
use crate::store::*;
use ::redb::ReadTransaction;
use std::ops::Bound::{Excluded, Unbounded};

/// A dump cursor: the last row's key parts, as a JSON array (string parts may hold `/`).
fn cursor<T: serde::de::DeserializeOwned>(c: Option<&str>) -> Result<Option<T>, StoreError> {
    c.map(|c| {
        serde_json::from_str(c)
            .map_err(|_| StoreError::Backend(format!("not a dump cursor of this table: {c:?}")))
    })
    .transpose()
}

fn doc<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(backend)
}

/// Collects up to `limit` rows, each with the cursor after it; the page's `next` is the
/// last row's cursor when the page is full.
struct Pager {
    rows: Vec<DumpRow>,
    last: Option<String>,
    limit: usize,
}

impl Pager {
    fn new(limit: usize) -> Self {
        Self {
            rows: Vec::new(),
            last: None,
            limit: limit.max(1),
        }
    }

    /// Adds a row; `true` once the page is full.
    fn push(&mut self, row: DumpRow, after: impl serde::Serialize) -> Result<bool, StoreError> {
        self.rows.push(row);
        self.last = Some(serde_json::to_string(&after).map_err(backend)?);
        Ok(self.rows.len() >= self.limit)
    }

    fn page(self) -> DumpPage {
        let next = (self.rows.len() >= self.limit)
            .then_some(self.last)
            .flatten();
        DumpPage {
            rows: self.rows,
            next,
        }
    }
}

impl RedbStore {
    /// Queues a compliance command and waits for its commit.
    async fn submit_compliance(
        &self,
        cmd: ComplianceCommand,
    ) -> Result<ComplianceReply, StoreError> {
        match self.submit(Command::Compliance(Box::new(cmd))).await? {
            Reply::Compliance(r) => Ok(*r),
            r => Err(super::unexpected(r)),
        }
    }

    /// See [`Store::validate_activation`].
    pub(super) async fn validate(
        &self,
        tenant: &str,
        check: &ComplianceCheck,
        now_ms: u64,
    ) -> Result<Decision, StoreError> {
        let cmd = ComplianceCommand::Validate {
            tenant: tenant.to_owned(),
            check: check.clone(),
            now_ms,
        };
        match self.submit_compliance(cmd).await? {
            ComplianceReply::Decision(d) => Ok(d),
            r => Err(StoreError::Backend(format!("unexpected reply {r:?}"))),
        }
    }

    /// See [`ComplianceStore::precheck_activation`]: the create commit's reads and
    /// decision, from one snapshot, outside the writer.
    pub(super) fn precheck(
        &self,
        tenant: &str,
        check: &ComplianceCheck,
        now_ms: u64,
    ) -> Result<Decision, StoreError> {
        self.read(|txn| {
            let tables = ReadSet {
                live_lines: &txn.open_table(LIVE_LINES).map_err(backend)?,
                velocity: &txn.open_table(VELOCITY).map_err(backend)?,
                registry: &txn.open_table(REGISTRY).map_err(backend)?,
                blocklist: &txn.open_table(BLOCKLIST).map_err(backend)?,
            };
            tables.decide(tenant, check, now_ms)
        })
    }

    /// See [`Store::compliance_change`].
    pub(super) async fn change_compliance(
        &self,
        change: ComplianceChange,
        audit: AuditRecord,
    ) -> Result<ComplianceChangeOutcome, StoreError> {
        match self
            .submit_compliance(ComplianceCommand::Change { change, audit })
            .await?
        {
            ComplianceReply::Change(o) => Ok(o),
            r => Err(StoreError::Backend(format!("unexpected reply {r:?}"))),
        }
    }

    /// See [`ComplianceStore::terminal_record`].
    pub(super) fn read_terminal(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(TERMINAL).map_err(backend)?;
            Ok(t.get((tenant, key))
                .map_err(backend)?
                .map(|v| v.value().to_vec()))
        })
    }

    /// See [`Store::registry`].
    pub(super) fn read_registry(
        &self,
        tenant: &str,
        query: &ComplianceQuery,
    ) -> Result<Vec<RegistryEntry>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(REGISTRY).map_err(backend)?;
            let m = query.member.map_or("", |m| m.as_str());
            let hi = query.member.map_or(MAX_STR, |m| m.as_str());
            let mut out = Vec::new();
            for row in t
                .range((tenant, m, "", "")..=(tenant, hi, MAX_STR, MAX_STR))
                .map_err(backend)?
            {
                let (_, v) = row.map_err(backend)?;
                let e = registry_entry(v.value())?;
                if query.store.as_ref().is_none_or(|s| *s == e.store) {
                    out.push(e);
                }
            }
            Ok(out)
        })
    }

    /// See [`Store::blocklist`].
    pub(super) fn read_blocklist(
        &self,
        enterprise: &str,
        query: &ComplianceQuery,
    ) -> Result<Vec<BlocklistEntry>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(BLOCKLIST).map_err(backend)?;
            let l = query.list.map_or("", |l| l.as_str());
            let hi = query.list.map_or(MAX_STR, |l| l.as_str());
            let mut out = Vec::new();
            for row in t
                .range((enterprise, l, "", 0u64)..=(enterprise, hi, MAX_STR, u64::MAX))
                .map_err(backend)?
            {
                let (_, v) = row.map_err(backend)?;
                let row: BlocklistRow = dec("blocklist", v.value())?;
                out.push(row.entry().map_err(|message| StoreError::Corrupt {
                    table: "blocklist",
                    message,
                })?);
            }
            Ok(out)
        })
    }

    /// See [`Store::live_lines`].
    pub(super) fn read_live_lines(
        &self,
        enterprise: &str,
        id_hashes: &[String],
    ) -> Result<u32, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(LIVE_LINES).map_err(backend)?;
            count_live(&t, enterprise, id_hashes)
        })
    }

    /// See [`Store::audit_rows`].
    pub(super) fn read_audit_rows(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<AuditRow>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(AUDIT).map_err(backend)?;
            let mut out = Vec::new();
            for row in t.range(from..).map_err(backend)?.take(limit) {
                let (k, v) = row.map_err(backend)?;
                let (hash, bytes) = split_audit(v.value())?;
                out.push(AuditRow {
                    seq: k.value(),
                    bytes: bytes.to_vec(),
                    hash,
                });
            }
            Ok(out)
        })
    }

    /// A page of a compliance table of the dump (`None`: not one of them).
    pub(super) fn dump_compliance(
        &self,
        table: DumpTable,
        after: Option<&str>,
        limit: usize,
    ) -> Option<Result<DumpPage, StoreError>> {
        let page = match table {
            DumpTable::LiveLines => self.read(|txn| dump_live_lines(txn, after, limit)),
            DumpTable::Velocity => self.read(|txn| dump_velocity(txn, after, limit)),
            DumpTable::Registry => self.read(|txn| dump_registry(txn, after, limit)),
            DumpTable::Blocklist => self.read(|txn| dump_blocklist(txn, after, limit)),
            DumpTable::Audit => self.read(|txn| dump_audit(txn, after, limit)),
            _ => return None,
        };
        Some(page)
    }
}

fn dump_live_lines(
    txn: &ReadTransaction,
    after: Option<&str>,
    limit: usize,
) -> Result<DumpPage, StoreError> {
    let t = txn.open_table(LIVE_LINES).map_err(backend)?;
    let after: Option<(String, String, String)> = cursor(after)?;
    let range = match &after {
        Some((e, h, o)) => t.range::<(&str, &str, &str)>((
            Excluded((e.as_str(), h.as_str(), o.as_str())),
            Unbounded,
        )),
        None => t.range::<(&str, &str, &str)>(..),
    }
    .map_err(backend)?;
    let mut p = Pager::new(limit);
    for row in range {
        let (k, _) = row.map_err(backend)?;
        let (enterprise, id_hash, order_id) = k.value();
        let r = LiveLineRow {
            enterprise: enterprise.to_owned(),
            id_hash: id_hash.to_owned(),
            order_id: order_id.to_owned(),
        };
        let row = DumpRow {
            key: r.dump_key(),
            doc: doc(&r)?,
        };
        if p.push(row, (enterprise, id_hash, order_id))? {
            break;
        }
    }
    Ok(p.page())
}

fn dump_velocity(
    txn: &ReadTransaction,
    after: Option<&str>,
    limit: usize,
) -> Result<DumpPage, StoreError> {
    let t = txn.open_table(VELOCITY).map_err(backend)?;
    let after: Option<(String, u64)> = cursor(after)?;
    let range = match &after {
        Some((s, b)) => t.range::<(&str, u64)>((Excluded((s.as_str(), *b)), Unbounded)),
        None => t.range::<(&str, u64)>(..),
    }
    .map_err(backend)?;
    let mut p = Pager::new(limit);
    for row in range {
        let (k, v) = row.map_err(backend)?;
        let (scope, bucket) = k.value();
        let r = VelocityRow {
            scope: scope.to_owned(),
            bucket,
            count: v.value(),
        };
        let row = DumpRow {
            key: r.dump_key(),
            doc: doc(&r)?,
        };
        if p.push(row, (scope, bucket))? {
            break;
        }
    }
    Ok(p.page())
}

fn dump_registry(
    txn: &ReadTransaction,
    after: Option<&str>,
    limit: usize,
) -> Result<DumpPage, StoreError> {
    let t = txn.open_table(REGISTRY).map_err(backend)?;
    let after: Option<(String, String, String, String)> = cursor(after)?;
    let range = match &after {
        Some((a, b, c, d)) => t.range::<(&str, &str, &str, &str)>((
            Excluded((a.as_str(), b.as_str(), c.as_str(), d.as_str())),
            Unbounded,
        )),
        None => t.range::<(&str, &str, &str, &str)>(..),
    }
    .map_err(backend)?;
    let mut p = Pager::new(limit);
    for row in range {
        let (k, v) = row.map_err(backend)?;
        let r: RegistryRow = dec("registry", v.value())?;
        let row = DumpRow {
            key: r.dump_key(),
            doc: doc(&r)?,
        };
        if p.push(row, k.value())? {
            break;
        }
    }
    Ok(p.page())
}

fn dump_blocklist(
    txn: &ReadTransaction,
    after: Option<&str>,
    limit: usize,
) -> Result<DumpPage, StoreError> {
    let t = txn.open_table(BLOCKLIST).map_err(backend)?;
    let after: Option<(String, String, String, u64)> = cursor(after)?;
    let range = match &after {
        Some((a, b, c, d)) => t.range::<(&str, &str, &str, u64)>((
            Excluded((a.as_str(), b.as_str(), c.as_str(), *d)),
            Unbounded,
        )),
        None => t.range::<(&str, &str, &str, u64)>(..),
    }
    .map_err(backend)?;
    let mut p = Pager::new(limit);
    for row in range {
        let (k, v) = row.map_err(backend)?;
        let r: BlocklistRow = dec("blocklist", v.value())?;
        let row = DumpRow {
            key: r.dump_key(),
            doc: doc(&r)?,
        };
        if p.push(row, k.value())? {
            break;
        }
    }
    Ok(p.page())
}

fn dump_audit(
    txn: &ReadTransaction,
    after: Option<&str>,
    limit: usize,
) -> Result<DumpPage, StoreError> {
    let t = txn.open_table(AUDIT).map_err(backend)?;
    let after: Option<u64> = cursor(after)?;
    let range = match after {
        Some(a) => t.range::<u64>((Excluded(a), Unbounded)),
        None => t.range::<u64>(..),
    }
    .map_err(backend)?;
    let mut p = Pager::new(limit);
    for row in range {
        let (k, v) = row.map_err(backend)?;
        let seq = k.value();
        let (hash, bytes) = split_audit(v.value())?;
        let r = AuditRowDoc::new(&AuditRow {
            seq,
            bytes: bytes.to_vec(),
            hash,
        });
        let row = DumpRow {
            key: r.dump_key(),
            doc: doc(&r)?,
        };
        if p.push(row, seq)? {
            break;
        }
    }
    Ok(p.page())
}
