//! The compliance part of the writer's transaction (issue 15): the reads an activation's
//! decision needs (live lines, velocity buckets, blocklists, registry), and what its
//! commit writes (counters, the live-line row, a freeze, the audit record). The decisions
//! are `compliance::checks`'s and the shared glue is `store/records/compliance.rs`; this
//! file only reads and writes rows.
//!
//! The audit chain's head (last seq and hash) is read from the last row when a
//! transaction opens its tables and advanced in memory by each append, so records of one
//! group commit chain in the order they are applied.

use super::apply::{Tables, TxResult, backend, dec, dec_borrowed, enc};
use super::outbox::MAX_STR;
use super::tables::*;
use crate::compliance::audit::{self, AuditRecord, Hash};
use crate::compliance::blocklist::{ListKind, check_id_entry};
use crate::compliance::channel::{ChannelRef, FreezeTarget, Member, Registration, RegistryView};
use crate::compliance::checks::{CreateRequest, ReadPlan, Reads, SubscriberInput};
use crate::compliance::policy::StoreHours;
use crate::compliance::velocity::VelocityKey;
use crate::compliance::{Decision, decide, plan};
use crate::order::Order;
use crate::store::*;
use ::redb::{ReadableTable, Table, WriteTransaction};

/// Live-line index keys.
pub(super) type LineKey = (&'static str, &'static str, &'static str);
/// Registry keys.
pub(super) type RegKey = (&'static str, &'static str, &'static str, &'static str);
/// Blocklist keys.
pub(super) type BlockKey = (&'static str, &'static str, &'static str, u64);

/// A compliance write command (see `Store::validate_activation` and
/// `Store::compliance_change`).
pub enum ComplianceCommand {
    /// Decide without reserving; append the `activation.validate` record.
    Validate {
        /// The tenant.
        tenant: String,
        /// The checks.
        check: ComplianceCheck,
        /// Now.
        now_ms: u64,
    },
    /// An operator's change and its audit record.
    Change {
        /// The change.
        change: ComplianceChange,
        /// Its audit record.
        audit: AuditRecord,
    },
}

/// Answers of [`ComplianceCommand`]s.
#[derive(Debug)]
pub enum ComplianceReply {
    /// A validation's decision.
    Decision(Decision),
    /// A change's outcome.
    Change(ComplianceChangeOutcome),
}

/// The tables an activation's decision reads, in a write transaction (the create commit)
/// or a read transaction (the pre-check before the identity verifier is asked).
pub(super) struct ReadSet<'a, L, V, R, B> {
    pub live_lines: &'a L,
    pub velocity: &'a V,
    pub registry: &'a R,
    pub blocklist: &'a B,
}

impl<L, V, R, B> ReadSet<'_, L, V, R, B>
where
    L: ReadableTable<LineKey, ()>,
    V: ReadableTable<(&'static str, u64), u32>,
    R: ReadableTable<RegKey, &'static [u8]>,
    B: ReadableTable<BlockKey, &'static [u8]>,
{
    /// The activation checks' decision at `now_ms`, from what these tables hold: the
    /// create commit's (in the writer) and the read-only pre-check's.
    pub(super) fn decide(
        &self,
        tenant: &str,
        check: &ComplianceCheck,
        now_ms: u64,
    ) -> TxResult<Decision> {
        Ok(self.decide_read(tenant, check, now_ms)?.0)
    }

    /// [`ReadSet::decide`], with what it was decided from.
    fn decide_read(
        &self,
        tenant: &str,
        check: &ComplianceCheck,
        now_ms: u64,
    ) -> TxResult<(Decision, Reads)> {
        let req = check.request(now_ms);
        let plan = plan(&req);
        let reads = self.reads(tenant, check, &req, &plan)?;
        Ok((decide(&req, &reads), reads))
    }

    /// Everything the plan names, read from these tables.
    fn reads(
        &self,
        tenant: &str,
        check: &ComplianceCheck,
        req: &CreateRequest,
        plan: &ReadPlan,
    ) -> TxResult<Reads> {
        let enterprise = check.enterprise.as_str();
        let mut reads = Reads::default();
        if plan.live_lines {
            let hashes: Vec<String> = check.id_hashes.iter().map(ToString::to_string).collect();
            reads.live_lines = count_live(self.live_lines, enterprise, &hashes)?;
        }
        for key in &plan.velocity {
            let scope = velocity_scope(key, tenant, enterprise);
            let buckets = buckets(self.velocity, &scope, key.first, key.current)?;
            reads.velocity.push((key.clone(), buckets));
        }
        for (list, value) in &plan.blocklist {
            let rows = block_rows(self.blocklist, enterprise, *list, value)?;
            if rows.iter().any(|r| r.span().is_active(req.now_ms)) {
                reads.blocklist_hits.push(*list);
            }
        }
        if let (true, ChannelRef::Store(s)) = (plan.registry, &check.channel) {
            let get = |m: Member, id: &str| registry_state(self.registry, tenant, m, &s.store, id);
            let (store, hours) = get(Member::Store, &s.store)?;
            reads.store_hours = hours;
            let reader = match req.subscriber {
                SubscriberInput::Valid(sub) => sub.capture.reader_serial(),
                _ => None,
            };
            reads.registry = RegistryView {
                store,
                clerk: optional_member(&get, Member::Clerk, s.clerk.as_deref())?,
                terminal: optional_member(&get, Member::Terminal, s.terminal.as_deref())?,
                reader: optional_member(&get, Member::Reader, reader)?,
            };
        }
        Ok(reads)
    }
}

/// The compliance tables of one write transaction.
pub struct ComplianceTables<'t> {
    live_lines: Table<'t, LineKey, ()>,
    velocity: Table<'t, (&'static str, u64), u32>,
    registry: Table<'t, RegKey, &'static [u8]>,
    blocklist: Table<'t, BlockKey, &'static [u8]>,
    terminal: Table<'t, (&'static str, &'static str), &'static [u8]>,
    audit: Table<'t, u64, &'static [u8]>,
    /// The last record's seq (0: none) and chain hash (genesis: none).
    head: (u64, Hash),
    /// The current buckets' counts the last decision read, for the bumps of the commit
    /// it allowed (a hint: a bump checks it against what the row held).
    seen: Vec<(VelocityKey, u32)>,
}

impl<'t> ComplianceTables<'t> {
    /// Opens (creating if needed) the tables and reads the chain's head.
    pub fn open(txn: &'t WriteTransaction) -> TxResult<Self> {
        let audit = txn.open_table(AUDIT).map_err(backend)?;
        let head = match audit.last().map_err(backend)? {
            Some((k, v)) => (k.value(), split_audit(v.value())?.0),
            None => (0, audit::genesis()),
        };
        Ok(Self {
            live_lines: txn.open_table(LIVE_LINES).map_err(backend)?,
            velocity: txn.open_table(VELOCITY).map_err(backend)?,
            registry: txn.open_table(REGISTRY).map_err(backend)?,
            blocklist: txn.open_table(BLOCKLIST).map_err(backend)?,
            terminal: txn.open_table(TERMINAL).map_err(backend)?,
            audit,
            head,
            seen: Vec::new(),
        })
    }

    /// Whether one of `values` is on `enterprise`'s `list` with an entry in force at
    /// `now_ms`.
    pub fn blocklisted(
        &self,
        enterprise: &str,
        list: ListKind,
        values: &[String],
        now_ms: u64,
    ) -> TxResult<bool> {
        for v in values {
            let rows = block_rows(&self.blocklist, enterprise, list, v)?;
            if rows.iter().any(|r| r.span().is_active(now_ms)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Creates the tables (store creation), so readers find them before any write.
    pub fn create(txn: &WriteTransaction) -> TxResult<()> {
        drop(ComplianceTables::open(txn)?);
        Ok(())
    }

    /// Appends `record` as the next link of the chain (its `seq` is set here).
    pub fn append_audit(&mut self, mut record: AuditRecord) -> TxResult<u64> {
        let seq = self
            .head
            .0
            .checked_add(1)
            .ok_or_else(|| backend("audit seq"))?;
        record.seq = seq;
        let (bytes, hash) = audit::append(&self.head.1, &record);
        let mut value = Vec::with_capacity(32 + bytes.len());
        value.extend_from_slice(&hash);
        value.extend_from_slice(&bytes);
        self.audit.insert(seq, value.as_slice()).map_err(backend)?;
        self.head = (seq, hash);
        Ok(seq)
    }

    /// The activation checks' decision at `now_ms`, read in this transaction; the counts
    /// it read are kept for the bumps of an allowed commit.
    fn decide(&mut self, tenant: &str, check: &ComplianceCheck, now_ms: u64) -> TxResult<Decision> {
        let tables = ReadSet {
            live_lines: &self.live_lines,
            velocity: &self.velocity,
            registry: &self.registry,
            blocklist: &self.blocklist,
        };
        let (decision, reads) = tables.decide_read(tenant, check, now_ms)?;
        // The count each velocity key's current bucket held: what the bumps start from.
        self.seen = reads
            .velocity
            .into_iter()
            .map(|(key, buckets)| {
                let n = buckets
                    .iter()
                    .find(|(b, _)| *b == key.current)
                    .map_or(0, |(_, n)| *n);
                (key, n)
            })
            .collect();
        Ok(decision)
    }

    /// Sets a channel member frozen (inserting it frozen if it is not registered).
    fn freeze(&mut self, tenant: &str, target: &FreezeTarget, now_ms: u64) -> TxResult<()> {
        let current = registry_get(
            &self.registry,
            tenant,
            target.member,
            &target.store,
            &target.id,
        )?;
        let entry = frozen_entry(current, target, now_ms);
        self.put_registry(tenant, &entry)
    }

    fn put_registry(&mut self, tenant: &str, entry: &RegistryEntry) -> TxResult<()> {
        let row = RegistryRow::new(tenant, entry);
        self.registry
            .insert(
                (
                    tenant,
                    entry.member.as_str(),
                    entry.store.as_str(),
                    entry.id.as_str(),
                ),
                enc(&row)?.as_slice(),
            )
            .map_err(backend)?;
        Ok(())
    }

    fn put_block(&mut self, row: &BlocklistRow) -> TxResult<()> {
        self.blocklist
            .insert(
                (
                    row.enterprise.as_str(),
                    row.list.as_str(),
                    row.value.as_str(),
                    row.start_ms,
                ),
                enc(row)?.as_slice(),
            )
            .map_err(backend)?;
        Ok(())
    }

    /// Counts one activation in `scope`'s `current` bucket; the bump that opens a bucket
    /// also drops the buckets that have left the window (before `first`). Reads only
    /// range over the window, so this is garbage collection, done once per bucket.
    /// `seen`: the count the decision read there, if it did (saves a read; the row's old
    /// value, which the write returns, settles it when it differs).
    fn bump(&mut self, scope: &str, first: u64, current: u64, seen: Option<u32>) -> TxResult<()> {
        let n = match seen {
            Some(n) => n,
            None => self
                .velocity
                .get((scope, current))
                .map_err(backend)?
                .map_or(0, |v| v.value()),
        };
        let held = self
            .velocity
            .insert((scope, current), n.saturating_add(1))
            .map_err(backend)?
            .map_or(0, |v| v.value());
        if held != n {
            self.velocity
                .insert((scope, current), held.saturating_add(1))
                .map_err(backend)?;
        }
        if held > 0 {
            return Ok(());
        }
        let mut old = Vec::new();
        for row in self
            .velocity
            .range((scope, 0u64)..(scope, first))
            .map_err(backend)?
        {
            old.push(row.map_err(backend)?.0.value().1);
        }
        for b in old {
            self.velocity.remove((scope, b)).map_err(backend)?;
        }
        Ok(())
    }

    /// Applies an operator's change; `Err(outcome)` when it is refused or finds nothing
    /// (then nothing was written).
    fn change(
        &mut self,
        change: &ComplianceChange,
    ) -> TxResult<Result<(), ComplianceChangeOutcome>> {
        match change {
            ComplianceChange::PutRegistry { tenant, entry } => self.put_registry(tenant, entry)?,
            ComplianceChange::AddBlock {
                enterprise,
                entry,
                rules,
            } => {
                if entry.list == ListKind::IdHash {
                    let spans: Vec<_> =
                        block_rows(&self.blocklist, enterprise, entry.list, &entry.value)?
                            .iter()
                            .map(BlocklistRow::span)
                            .collect();
                    if let Err(r) = check_id_entry(rules, &spans, entry.span) {
                        return Ok(Err(ComplianceChangeOutcome::Refused(r)));
                    }
                }
                self.put_block(&BlocklistRow::new(enterprise, entry))?;
            }
            ComplianceChange::EndBlock {
                enterprise,
                list,
                value,
                now_ms,
            } => {
                let ending: Vec<BlocklistRow> =
                    block_rows(&self.blocklist, enterprise, *list, value)?
                        .into_iter()
                        .filter(|r| r.span().is_active(*now_ms))
                        .collect();
                if ending.is_empty() {
                    return Ok(Err(ComplianceChangeOutcome::NotFound));
                }
                for mut row in ending {
                    row.end_ms = Some(*now_ms);
                    self.put_block(&row)?;
                }
            }
            ComplianceChange::AuditOnly => {}
            ComplianceChange::TerminalSwap {
                tenant,
                key,
                expect,
                value,
            } => {
                let current = self
                    .terminal
                    .get((tenant.as_str(), key.as_str()))
                    .map_err(backend)?
                    .map(|v| v.value().to_vec());
                if current != *expect {
                    return Ok(Err(ComplianceChangeOutcome::Stale));
                }
                let k = (tenant.as_str(), key.as_str());
                match value {
                    Some(v) => drop(self.terminal.insert(k, v.as_slice()).map_err(backend)?),
                    None => drop(self.terminal.remove(k).map_err(backend)?),
                }
            }
        }
        Ok(Ok(()))
    }
}

/// A clerk, terminal or reader of the order's store, when the order names one.
fn optional_member(
    get: &impl Fn(Member, &str) -> TxResult<(Registration, Option<StoreHours>)>,
    member: Member,
    id: Option<&str>,
) -> TxResult<Registration> {
    Ok(match id {
        Some(id) => get(member, id)?.0,
        None => Registration::NotRegistered,
    })
}

/// A stored audit value: the chain hash and the record bytes.
pub(super) fn split_audit(v: &[u8]) -> TxResult<(Hash, &[u8])> {
    let (h, bytes) = v.split_at_checked(32).ok_or_else(|| StoreError::Corrupt {
        table: "audit",
        message: "row shorter than its hash".into(),
    })?;
    let mut hash = [0u8; 32];
    hash.copy_from_slice(h);
    Ok((hash, bytes))
}

/// Live lines of `enterprise` under any of `hashes`.
pub(super) fn count_live(
    t: &impl ReadableTable<LineKey, ()>,
    enterprise: &str,
    hashes: &[String],
) -> TxResult<u32> {
    let mut seen: Vec<&str> = Vec::new();
    let mut n: u32 = 0;
    for h in hashes {
        if seen.contains(&h.as_str()) {
            continue;
        }
        seen.push(h);
        for row in t
            .range((enterprise, h.as_str(), "")..=(enterprise, h.as_str(), MAX_STR))
            .map_err(backend)?
        {
            row.map_err(backend)?;
            n = n.saturating_add(1);
        }
    }
    Ok(n)
}

/// The counts of `scope`'s buckets `first..=current`.
pub(super) fn buckets(
    t: &impl ReadableTable<(&'static str, u64), u32>,
    scope: &str,
    first: u64,
    current: u64,
) -> TxResult<Vec<(u64, u32)>> {
    let mut out = Vec::new();
    for row in t
        .range((scope, first)..=(scope, current))
        .map_err(backend)?
    {
        let (k, v) = row.map_err(backend)?;
        out.push((k.value().1, v.value()));
    }
    Ok(out)
}

/// Every entry (history included) of one subject of a list, by start.
pub(super) fn block_rows(
    t: &impl ReadableTable<BlockKey, &'static [u8]>,
    enterprise: &str,
    list: ListKind,
    value: &str,
) -> TxResult<Vec<BlocklistRow>> {
    let l = list.as_str();
    let mut out = Vec::new();
    for row in t
        .range((enterprise, l, value, 0u64)..=(enterprise, l, value, u64::MAX))
        .map_err(backend)?
    {
        let (_, v) = row.map_err(backend)?;
        out.push(dec("blocklist", v.value())?);
    }
    Ok(out)
}

/// One registry entry.
pub(super) fn registry_get(
    t: &impl ReadableTable<RegKey, &'static [u8]>,
    tenant: &str,
    member: Member,
    store: &str,
    id: &str,
) -> TxResult<Option<RegistryEntry>> {
    let Some(v) = t
        .get((tenant, member.as_str(), store, id))
        .map_err(backend)?
    else {
        return Ok(None);
    };
    registry_entry(v.value()).map(Some)
}

/// What the decision reads of one registry entry: its registration (`NotRegistered`
/// when there is no row) and a store's hours.
fn registry_state(
    t: &impl ReadableTable<RegKey, &'static [u8]>,
    tenant: &str,
    member: Member,
    store: &str,
    id: &str,
) -> TxResult<(Registration, Option<StoreHours>)> {
    let Some(v) = t
        .get((tenant, member.as_str(), store, id))
        .map_err(backend)?
    else {
        return Ok((Registration::NotRegistered, None));
    };
    let state: RegistryState<'_> = dec_borrowed("registry", v.value())?;
    state.get().map_err(|message| StoreError::Corrupt {
        table: "registry",
        message,
    })
}

/// A stored registry row's entry.
pub(super) fn registry_entry(bytes: &[u8]) -> TxResult<RegistryEntry> {
    let row: RegistryRow = dec("registry", bytes)?;
    row.entry().map_err(|message| StoreError::Corrupt {
        table: "registry",
        message,
    })
}

impl Tables<'_> {
    /// The decision of `check` for an order of `tenant` at `now_ms`, from what this
    /// transaction reads.
    pub(super) fn compliance_decide(
        &mut self,
        tenant: &str,
        check: &ComplianceCheck,
        now_ms: u64,
    ) -> TxResult<Decision> {
        self.compliance.decide(tenant, check, now_ms)
    }

    /// A refused activation's commit: its audit record and any freeze.
    pub(super) fn compliance_refused(
        &mut self,
        new: &NewActivation,
        check: &ComplianceCheck,
        decision: &Decision,
    ) -> TxResult<()> {
        if let Decision::Refuse(r) = decision {
            if let Some(target) = &r.freeze {
                self.compliance.freeze(&new.tenant, target, new.now_ms)?;
            }
            if let Some(data) = frozen_event(r, new.now_ms) {
                let t = EventType::ComplianceChannelFrozen;
                self.publish(new.now_ms, &new.tenant, t, None, data)?;
            }
        }
        let record = check.audit(
            "activation.create",
            decision,
            None,
            Some(&new.idempotency_key),
            new.now_ms,
        );
        self.compliance.append_audit(record)?;
        Ok(())
    }

    /// An allowed activation's commit, with its order: the velocity buckets, the line's
    /// row under the ID and the audit record.
    pub(super) fn compliance_allowed(
        &mut self,
        new: &NewActivation,
        check: &ComplianceCheck,
        decision: &Decision,
        order: &Order,
    ) -> TxResult<()> {
        let seen = std::mem::take(&mut self.compliance.seen);
        if let Decision::Allow(a) = decision {
            for key in &a.bump {
                let scope = velocity_scope(key, &new.tenant, &check.enterprise);
                let hint = seen.iter().find(|(k, _)| k == key).map(|(_, n)| *n);
                self.compliance.bump(&scope, key.first, key.current, hint)?;
            }
        }
        if let Some(line) = live_line(order) {
            self.compliance
                .live_lines
                .insert((line.enterprise, line.id_hash, line.order_id), ())
                .map_err(backend)?;
        }
        let record = check.audit(
            "activation.create",
            decision,
            Some(order),
            Some(&new.idempotency_key),
            new.now_ms,
        );
        self.compliance.append_audit(record)?;
        if let Some(record) = created_identity_audit(order) {
            self.compliance.append_audit(record)?;
        }
        Ok(())
    }

    /// What a new version of an order means for compliance: a line that stops counting
    /// leaves the index, and a status change of a checked order is audited.
    pub(super) fn compliance_advanced(&mut self, current: &Order, order: &Order) -> TxResult<()> {
        let line = match stops_counting(current.status, order) {
            None => None,
            Some(StopsCounting::Own(l)) => Some((
                l.enterprise.to_owned(),
                l.id_hash.to_owned(),
                l.order_id.to_owned(),
            )),
            Some(StopsCounting::Line { subscription }) => {
                let sub: Option<Subscription> =
                    Self::get_json(&self.subscriptions, "subscriptions", subscription)?;
                let activation: Option<Order> = match sub {
                    Some(s) => Self::get_json(&self.orders, "orders", &s.activation_id)?,
                    None => None,
                };
                activation.as_ref().and_then(live_line).map(|l| {
                    (
                        l.enterprise.to_owned(),
                        l.id_hash.to_owned(),
                        l.order_id.to_owned(),
                    )
                })
            }
        };
        if let Some((e, h, id)) = line {
            self.compliance
                .live_lines
                .remove((e.as_str(), h.as_str(), id.as_str()))
                .map_err(backend)?;
        }
        for record in order_audit(current, order) {
            self.compliance.append_audit(record)?;
        }
        Ok(())
    }

    /// A compliance command.
    pub(super) fn compliance_command(
        &mut self,
        cmd: &ComplianceCommand,
    ) -> TxResult<ComplianceReply> {
        match cmd {
            ComplianceCommand::Validate {
                tenant,
                check,
                now_ms,
            } => {
                let decision = self.compliance_decide(tenant, check, *now_ms)?;
                let record = check.audit("activation.validate", &decision, None, None, *now_ms);
                self.compliance.append_audit(record)?;
                Ok(ComplianceReply::Decision(decision))
            }
            ComplianceCommand::Change { change, audit } => Ok(ComplianceReply::Change(match self
                .compliance
                .change(change)?
            {
                Err(outcome) => outcome,
                Ok(()) => {
                    self.compliance.append_audit(audit.clone())?;
                    ComplianceChangeOutcome::Applied
                }
            })),
        }
    }
}

#[cfg(test)]
#[path = "compliance_tests.rs"]
mod tests;
