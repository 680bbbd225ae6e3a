//! The compliance checks of an activation's create commit and of `validate_activation`,
//! inside the caller's SERIALIZABLE transaction: what `checks::plan` asks is read (the
//! ID's live lines under every hash within the enterprise and the velocity windows,
//! through `compliance_counters.rs`; the blocklist subjects in force, the registry
//! members and the store's hours), the pure `checks::decide` decides, and the decision's
//! writes follow: on `Allow` the velocity buckets, the live line and the audit record
//! (`allow`); on `Refuse` the audit record and any freeze (`refuse`). The create commit
//! locks the counter rows it reads, so two creates for one ID (or one store's window)
//! cannot both count on the same value: no race lets an extra line in.

use super::audit_chain;
use super::codec::big;
use super::compliance_admin::{get_entry, put_entry};
use super::compliance_counters::{self as counters, Read, Windows};
use super::retry::{Tx, TxResult};
use crate::compliance::blocklist::ListKind;
use crate::compliance::channel::{ChannelRef, Member, Registration, RegistryView};
use crate::compliance::checks::{self, Allowed, Decision, ReadPlan, Reads};
use crate::compliance::policy::StoreHours;
use crate::order::Order;
use crate::store::{
    ComplianceCheck, EventType, created_identity_audit, frozen_entry, frozen_event,
    parse_registration, velocity_scope,
};

/// A decision and the velocity rows it read (an allowed create writes over them).
pub struct Checked {
    /// The decision.
    pub decision: Decision,
    windows: Windows,
}

/// Reads what the decision needs (locking the counter rows with `Read::Lock`) and
/// decides, changing nothing else.
pub async fn decide(
    tx: &Tx<'_>,
    tenant: &str,
    check: &ComplianceCheck,
    now_ms: u64,
    how: Read,
) -> TxResult<Checked> {
    let req = check.request(now_ms);
    let plan = checks::plan(&req);
    let (reads, windows) = read(tx, tenant, check, &plan, now_ms, how).await?;
    Ok(Checked {
        decision: checks::decide(&req, &reads),
        windows,
    })
}

async fn read(
    tx: &Tx<'_>,
    tenant: &str,
    check: &ComplianceCheck,
    plan: &ReadPlan,
    now_ms: u64,
    how: Read,
) -> TxResult<(Reads, Windows)> {
    let mut reads = Reads::default();
    if plan.live_lines {
        let hashes: Vec<String> = check.id_hashes.iter().map(ToString::to_string).collect();
        reads.live_lines = counters::id_lines(tx, &check.enterprise, &hashes, how).await?;
    }
    let scopes: Vec<String> = plan
        .velocity
        .iter()
        .map(|k| velocity_scope(k, tenant, &check.enterprise))
        .collect();
    let windows = counters::windows(tx, &scopes, how).await?;
    reads.velocity = plan
        .velocity
        .iter()
        .zip(&scopes)
        .map(|(k, s)| {
            let mut b = windows.get(s).cloned().unwrap_or_default();
            b.retain(|(b, _)| (k.first..=k.current).contains(b));
            (k.clone(), b)
        })
        .collect();
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
    Ok((reads, windows))
}

/// The lists with an entry in force at `now_ms` for one of the (list, value) subjects.
pub(super) async fn blocklist_hits(
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

/// An allowed activation's writes besides the order: one more in each velocity window,
/// the live line, the audit record (`activation.create`, allow).
pub async fn allow(
    tx: &Tx<'_>,
    check: &ComplianceCheck,
    checked: &Checked,
    order: &Order,
    idempotency_key: &str,
    now_ms: u64,
) -> TxResult<()> {
    let decision = &checked.decision;
    let Decision::Allow(Allowed {
        bump, count_line, ..
    }) = decision
    else {
        return Ok(());
    };
    let keys: Vec<(String, u64, u64)> = bump
        .iter()
        .map(|k| {
            let scope = velocity_scope(k, &order.tenant, &check.enterprise);
            (scope, k.first, k.current)
        })
        .collect();
    counters::bump(tx, &checked.windows, &keys).await?;
    if let (true, Some(hash)) = (*count_line, check.id_hash()) {
        counters::count_line(tx, &order.id, &check.enterprise, &hash.to_string()).await?;
    }
    let record = check.audit(
        "activation.create",
        decision,
        Some(order),
        Some(idempotency_key),
        now_ms,
    );
    audit_chain::append(tx, &record).await?;
    match created_identity_audit(order) {
        Some(record) => audit_chain::append(tx, &record).await,
        None => Ok(()),
    }
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
    if let Decision::Refuse(refused) = decision {
        if let Some(target) = &refused.freeze {
            let existing = get_entry(tx, tenant, target.member, &target.store, &target.id).await?;
            put_entry(tx, tenant, &frozen_entry(existing, target, now_ms)).await?;
        }
        if let Some(data) = frozen_event(refused, now_ms) {
            let t = EventType::ComplianceChannelFrozen;
            super::events::publish(tx, now_ms, tenant, t, None, data).await?;
        }
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

/// `precheck_activation`: the decision alone, nothing written.
pub async fn precheck(
    tx: &Tx<'_>,
    tenant: &str,
    check: &ComplianceCheck,
    now_ms: u64,
) -> TxResult<Decision> {
    Ok(decide(tx, tenant, check, now_ms, Read::Plain)
        .await?
        .decision)
}

/// `validate_activation`: the decision and its audit record (`activation.validate`); no
/// reservation, no counter, no freeze.
pub async fn validate(
    tx: &Tx<'_>,
    tenant: &str,
    check: &ComplianceCheck,
    now_ms: u64,
) -> TxResult<Decision> {
    let decision = decide(tx, tenant, check, now_ms, Read::Plain)
        .await?
        .decision;
    let record = check.audit("activation.validate", &decision, None, None, now_ms);
    audit_chain::append(tx, &record).await?;
    Ok(decision)
}
