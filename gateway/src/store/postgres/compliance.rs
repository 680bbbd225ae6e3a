//! The compliance checks of an activation's create commit and of `validate_activation`,
//! inside the caller's SERIALIZABLE transaction: what `checks::plan` asks is read (the
//! ID's live lines under every hash within the enterprise, the velocity buckets, the
//! blocklist subjects in force, the registry members and the store's hours), the pure
//! `checks::decide` decides, and the decision's writes follow: on `Allow` the velocity
//! buckets, the live-line row and the audit record (`allow`); on `Refuse` the audit
//! record and any freeze (`refuse`). Two creates for one ID read each other's live-line
//! rows, so at SERIALIZABLE one of them fails to serialize and, run again, counts the
//! other's line: no race lets an extra line in.

use super::audit_chain;
use super::codec::{big, unbig};
use super::compliance_admin::{get_entry, put_entry};
use super::retry::{Tx, TxResult};
use crate::compliance::blocklist::ListKind;
use crate::compliance::channel::{ChannelRef, Member, Registration, RegistryView};
use crate::compliance::checks::{self, Allowed, Decision, ReadPlan, Reads, Refused};
use crate::compliance::policy::StoreHours;
use crate::compliance::velocity::VelocityKey;
use crate::order::Order;
use crate::store::{ComplianceCheck, frozen_entry, parse_registration, velocity_scope};
use std::collections::BTreeMap;

/// Reads what the decision needs and decides, changing nothing.
pub async fn decide(
    tx: &Tx<'_>,
    tenant: &str,
    check: &ComplianceCheck,
    now_ms: u64,
) -> TxResult<Decision> {
    let req = check.request(now_ms);
    let plan = checks::plan(&req);
    let reads = read(tx, tenant, check, &plan, now_ms).await?;
    Ok(checks::decide(&req, &reads))
}

async fn read(
    tx: &Tx<'_>,
    tenant: &str,
    check: &ComplianceCheck,
    plan: &ReadPlan,
    now_ms: u64,
) -> TxResult<Reads> {
    let mut reads = Reads::default();
    if plan.live_lines {
        let hashes: Vec<String> = check.id_hashes.iter().map(ToString::to_string).collect();
        reads.live_lines = count_live_lines(tx, &check.enterprise, &hashes).await?;
    }
    reads.velocity = velocity(tx, tenant, &check.enterprise, &plan.velocity).await?;
    reads.blocklist_hits = blocklist_hits(tx, &check.enterprise, &plan.blocklist, now_ms).await?;
    if plan.registry {
        if let ChannelRef::Store(s) = &check.channel {
            let reader = match (&check.subscriber, &check.invalid) {
                (Some(sub), None) => sub.capture.reader_serial(),
                _ => None,
            };
            let members = [
                (Member::Store, Some(s.store.as_str())),
                (Member::Clerk, s.clerk.as_deref()),
                (Member::Terminal, s.terminal.as_deref()),
                (Member::Reader, reader),
            ];
            (reads.registry, reads.store_hours) = registry(tx, tenant, &s.store, &members).await?;
        }
    }
    Ok(reads)
}

/// How many live lines an enterprise holds under any of some ID hashes ($1, $2).
pub const LIVE_LINES: &str =
    "SELECT COUNT(*) FROM live_lines WHERE enterprise = $1 AND id_hash = ANY($2)";

/// The live lines of an ID within an enterprise, under any of its hashes.
pub async fn count_live_lines(tx: &Tx<'_>, enterprise: &str, hashes: &[String]) -> TxResult<u32> {
    let r = tx.row(LIVE_LINES, &[&enterprise, &hashes]).await?;
    let n: i64 = r.map_or(0, |r| r.get(0));
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Each key's buckets from `first` to `current`, in one statement.
async fn velocity(
    tx: &Tx<'_>,
    tenant: &str,
    enterprise: &str,
    keys: &[VelocityKey],
) -> TxResult<Vec<(VelocityKey, Vec<(u64, u32)>)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let scopes: Vec<String> = keys
        .iter()
        .map(|k| velocity_scope(k, tenant, enterprise))
        .collect();
    let firsts: Vec<i64> = keys.iter().map(|k| big(k.first)).collect();
    let currents: Vec<i64> = keys.iter().map(|k| big(k.current)).collect();
    let rows = tx
        .rows(
            "SELECT v.scope, v.bucket, v.count
             FROM unnest($1::TEXT[], $2::BIGINT[], $3::BIGINT[]) AS u(scope, lo, hi)
             JOIN velocity v ON v.scope = u.scope AND v.bucket >= u.lo AND v.bucket <= u.hi",
            &[&scopes, &firsts, &currents],
        )
        .await?;
    let mut found: BTreeMap<String, Vec<(u64, u32)>> = BTreeMap::new();
    for r in &rows {
        let count = u32::try_from(r.get::<_, i32>(2)).unwrap_or(0);
        found
            .entry(r.get(0))
            .or_default()
            .push((unbig(r.get(1)), count));
    }
    Ok(keys
        .iter()
        .zip(&scopes)
        .map(|(k, s)| (k.clone(), found.get(s).cloned().unwrap_or_default()))
        .collect())
}

/// The lists with an entry in force at `now_ms` for one of the (list, value) subjects.
async fn blocklist_hits(
    tx: &Tx<'_>,
    enterprise: &str,
    subjects: &[(ListKind, String)],
    now_ms: u64,
) -> TxResult<Vec<ListKind>> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    let lists: Vec<&str> = subjects.iter().map(|(l, _)| l.as_str()).collect();
    let values: Vec<&str> = subjects.iter().map(|(_, v)| v.as_str()).collect();
    let rows = tx
        .rows(
            "SELECT b.list FROM unnest($2::TEXT[], $3::TEXT[]) AS u(list, value)
             JOIN blocklist b ON b.enterprise = $1 AND b.list = u.list AND b.value = u.value
             WHERE b.start_ms <= $4 AND (b.end_ms IS NULL OR b.end_ms > $4)",
            &[&enterprise, &lists, &values, &big(now_ms)],
        )
        .await?;
    let mut hits: Vec<ListKind> = rows
        .iter()
        .filter_map(|r| ListKind::parse(r.get(0)))
        .collect();
    hits.sort_unstable();
    hits.dedup();
    Ok(hits)
}

/// The registry's answer for the members named (each under `store`) and the store's
/// own hours.
async fn registry(
    tx: &Tx<'_>,
    tenant: &str,
    store: &str,
    members: &[(Member, Option<&str>)],
) -> TxResult<(RegistryView, Option<StoreHours>)> {
    let (mut kinds, mut ids) = (Vec::new(), Vec::new());
    for (m, id) in members {
        if let Some(id) = id {
            kinds.push(m.as_str());
            ids.push(*id);
        }
    }
    let rows = tx
        .rows(
            "SELECT r.member, r.status, r.open_min, r.close_min, r.utc_offset_min
             FROM unnest($3::TEXT[], $4::TEXT[]) AS u(member, id)
             JOIN registry r ON r.tenant = $1 AND r.store = $2 AND r.member = u.member
                            AND r.id = u.id",
            &[&tenant, &store, &kinds, &ids],
        )
        .await?;
    let mut view = RegistryView::default();
    let mut hours = None;
    for r in &rows {
        let status = parse_registration(r.get(1)).unwrap_or(Registration::NotRegistered);
        match r.get::<_, &str>(0) {
            "store" => {
                view.store = status;
                hours = hours_of(r.get(2), r.get(3), r.get(4));
            }
            "clerk" => view.clerk = status,
            "terminal" => view.terminal = status,
            "reader" => view.reader = status,
            _ => {}
        }
    }
    Ok((view, hours))
}

/// A store's hours from their three columns (all set, or none).
pub fn hours_of(open: Option<i32>, close: Option<i32>, offset: Option<i32>) -> Option<StoreHours> {
    Some(StoreHours {
        open_min: u16::try_from(open?).ok()?,
        close_min: u16::try_from(close?).ok()?,
        utc_offset_min: i16::try_from(offset?).ok()?,
    })
}

/// An allowed activation's writes besides the order: one more in each velocity bucket,
/// the live-line row, the audit record (`activation.create`, allow).
pub async fn allow(
    tx: &Tx<'_>,
    check: &ComplianceCheck,
    decision: &Decision,
    order: &Order,
    idempotency_key: &str,
    now_ms: u64,
) -> TxResult<()> {
    let Decision::Allow(Allowed {
        bump, count_line, ..
    }) = decision
    else {
        return Ok(());
    };
    bump_velocity(tx, &order.tenant, &check.enterprise, bump).await?;
    if let (true, Some(hash)) = (*count_line, check.id_hash()) {
        tx.exec(
            "INSERT INTO live_lines (order_id, enterprise, id_hash) VALUES ($1, $2, $3)",
            &[&order.id, &check.enterprise, &hash.to_string()],
        )
        .await?;
    }
    let record = check.audit(
        "activation.create",
        decision,
        Some(order),
        Some(idempotency_key),
        now_ms,
    );
    audit_chain::append(tx, &record).await
}

async fn bump_velocity(
    tx: &Tx<'_>,
    tenant: &str,
    enterprise: &str,
    keys: &[VelocityKey],
) -> TxResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    // One row per (scope, bucket): an upsert may not touch a row twice.
    let mut adds: BTreeMap<(String, i64), (i64, i32)> = BTreeMap::new();
    for k in keys {
        let scope = velocity_scope(k, tenant, enterprise);
        adds.entry((scope, big(k.current)))
            .or_insert((big(k.first), 0))
            .1 += 1;
    }
    let (mut scopes, mut buckets, mut firsts, mut counts) = (vec![], vec![], vec![], vec![]);
    for ((s, b), (first, n)) in adds {
        scopes.push(s);
        buckets.push(b);
        firsts.push(first);
        counts.push(n);
    }
    tx.exec(
        "INSERT INTO velocity (scope, bucket, count)
         SELECT * FROM unnest($1::TEXT[], $2::BIGINT[], $3::INT[])
         ON CONFLICT (scope, bucket) DO UPDATE SET count = velocity.count + excluded.count",
        &[&scopes, &buckets, &counts],
    )
    .await?;
    // The buckets that left each window are no longer read: drop them.
    tx.exec(
        "DELETE FROM velocity AS v USING unnest($1::TEXT[], $2::BIGINT[]) AS u(scope, first)
         WHERE v.scope = u.scope AND v.bucket < u.first",
        &[&scopes, &firsts],
    )
    .await?;
    Ok(())
}

/// A refused activation's writes: the freeze the policy asks for, and the audit record
/// (`activation.create`, refuse).
pub async fn refuse(
    tx: &Tx<'_>,
    tenant: &str,
    check: &ComplianceCheck,
    decision: &Decision,
    idempotency_key: &str,
    now_ms: u64,
) -> TxResult<()> {
    if let Decision::Refuse(Refused {
        freeze: Some(target),
        ..
    }) = decision
    {
        let existing = get_entry(tx, tenant, target.member, &target.store, &target.id).await?;
        put_entry(tx, tenant, &frozen_entry(existing, target, now_ms)).await?;
    }
    let record = check.audit(
        "activation.create",
        decision,
        None,
        Some(idempotency_key),
        now_ms,
    );
    audit_chain::append(tx, &record).await
}

/// Removes an activation's live-line row (its line stopped counting; nothing when it was
/// never counted).
pub async fn end_live_line(tx: &Tx<'_>, activation: &str) -> TxResult<()> {
    tx.exec("DELETE FROM live_lines WHERE order_id = $1", &[&activation])
        .await?;
    Ok(())
}

/// Removes the live-line row of a subscription's activation (its termination completed).
pub async fn end_line_of(tx: &Tx<'_>, subscription: &str) -> TxResult<()> {
    tx.exec(
        "DELETE FROM live_lines
         WHERE order_id = (SELECT activation_id FROM subscriptions WHERE id = $1)",
        &[&subscription],
    )
    .await?;
    Ok(())
}

/// `validate_activation`: the decision and its audit record (`activation.validate`); no
/// reservation, no counter, no freeze.
pub async fn validate(
    tx: &Tx<'_>,
    tenant: &str,
    check: &ComplianceCheck,
    now_ms: u64,
) -> TxResult<Decision> {
    let decision = decide(tx, tenant, check, now_ms).await?;
    let record = check.audit("activation.validate", &decision, None, None, now_ms);
    audit_chain::append(tx, &record).await?;
    Ok(decision)
}
