//! The compliance part of the store (issue 15): the checks of an activation's create
//! commit (one ID five lines across an enterprise, velocity with its freeze, blocklists,
//! the channel registry), lines that stop counting, validation, operator changes and the
//! audit chain. The decisions are the pure core's; these cases show each backend reads
//! and writes what the decisions need, in the same commit.

use crate::Backend;
use crate::fixture::*;
use gateway::compliance::audit::Outcome;
use gateway::compliance::blocklist::{ListKind, Span};
use gateway::compliance::channel::Member;
use gateway::compliance::{ChannelRef, Decision, Registration};
use gateway::order::{Effect, OrderError, OrderKind, OrderStatus};
use gateway::store::dump::DumpTable;
use gateway::store::{
    BlocklistEntry, ComplianceChange, ComplianceChangeOutcome, ComplianceQuery, CreateOutcome,
    EventKind, StoreAdmin,
};

/// Takes `o` (an activation) through `compensating` to `failed`, releasing its card and
/// number.
async fn fail(s: &dyn StoreAdmin, o: &gateway::order::Order) {
    let mut failing = next(o, OrderStatus::Compensating, 10);
    failing.error = Some(OrderError {
        code: "hlr_rejected".into(),
        detail: "refused".into(),
    });
    let event = EventKind::StepAnswered {
        step: "hlr".into(),
        attempt: 1,
        result: "rejected".into(),
    };
    s.advance_order(failing.clone(), Effect::None, event)
        .await
        .expect("compensating");
    advance(s, &failing, OrderStatus::Failed, Effect::Release).await;
}

/// An ID's blocklist entry of `days` days from `start`.
fn id_block(value: &str, start: u64, days: u64) -> BlocklistEntry {
    BlocklistEntry {
        list: ListKind::IdHash,
        value: value.into(),
        span: Span {
            start_ms: start,
            end_ms: Some(start + days * DAY_MS),
        },
        reason: "fraud case 17".into(),
        created_at_ms: NOW,
    }
}

pub async fn one_id_opens_five_lines_and_a_failed_one_stops_counting(s: &dyn StoreAdmin) {
    seed(s, T, 0..8, 8).await;
    let check = online_check(1);
    let mut lines = Vec::new();
    for i in 0..5 {
        let o = created(s, checked(&format!("k{i}"), i, &check)).await;
        let c = o
            .compliance
            .clone()
            .expect("the order carries its decision");
        assert_eq!(c.enterprise, ENTERPRISE);
        assert_eq!(c.id_hash, Some(check.id_hashes[0].to_string()));
        assert_eq!(c.policy_version, cn_policy().version);
        lines.push(o);
    }
    // The fifth left the ID at its limit: the near-limit risk rule hit.
    assert!(
        lines[4]
            .compliance
            .as_ref()
            .is_some_and(|c| !c.risk.is_empty()),
        "{:?}",
        lines[4].compliance
    );
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        5
    );
    let before = counts(s, T).await;
    let r = refused(s, checked("k5", 5, &check)).await;
    assert_eq!(r.refusal.code, "id_quota_exceeded");
    assert_eq!(
        (r.refusal.extras.limit, r.refusal.extras.active),
        (Some(5), Some(5))
    );
    // Nothing reserved, no order, no idempotency record: the same key may come again.
    assert_eq!(counts(s, T).await, before);
    assert_eq!(s.get_order(T, "act_k5").await.expect("get"), None);
    assert_eq!(s.activation_idempotency(T, "k5").await.expect("idem"), None);
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        5
    );
    // A failed activation stops counting; the next one is accepted.
    fail(s, &lines[0]).await;
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        4
    );
    created(s, checked("k5", 5, &check)).await;
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        5
    );
    let r = refused(s, checked("k6", 6, &check)).await;
    assert_eq!(r.refusal.code, "id_quota_exceeded");
    // Another ID is not limited by this one.
    created(s, checked("k7", 6, &online_check(2))).await;
}

pub async fn a_terminated_line_stops_counting(s: &dyn StoreAdmin) {
    seed(s, T, 0..7, 7).await;
    let check = online_check(1);
    let first = created(s, checked("k0", 0, &check)).await;
    let first = advance(s, &first, OrderStatus::Active, Effect::Activate).await;
    for i in 1..5 {
        created(s, checked(&format!("k{i}"), i, &check)).await;
    }
    assert_eq!(
        refused(s, checked("k5", 5, &check)).await.refusal.code,
        "id_quota_exceeded"
    );
    // A termination in progress leaves the line counting; a completed one does not.
    let t = lifecycle_created(s, lifecycle(OrderKind::Terminate, &first.msisdn, "t")).await;
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        5
    );
    advance(s, &t, OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        4
    );
    created(s, checked("k5", 5, &check)).await;
}

pub async fn tenants_of_one_enterprise_share_the_count_and_others_do_not(s: &dyn StoreAdmin) {
    seed(s, T, 0..4, 4).await;
    seed(s, OTHER, 10..14, 4).await;
    let in_enterprise = online_check(1);
    let mut elsewhere = online_check(1);
    elsewhere.enterprise = "ent-2".into();
    for i in 0..3 {
        created(s, checked(&format!("k{i}"), i, &in_enterprise)).await;
    }
    for i in 0..2 {
        let mut new = checked(&format!("o{i}"), 10 + i, &in_enterprise);
        new.tenant = OTHER.into();
        created(s, new).await;
    }
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&in_enterprise))
            .await
            .expect("count"),
        5
    );
    let r = refused(s, checked("k3", 3, &in_enterprise)).await;
    assert_eq!(r.refusal.code, "id_quota_exceeded");
    let mut new = checked("o2", 12, &in_enterprise);
    new.tenant = OTHER.into();
    assert_eq!(refused(s, new).await.refusal.code, "id_quota_exceeded");
    // The same ID in another enterprise counts from zero there.
    let mut new = checked("o3", 12, &elsewhere);
    new.tenant = OTHER.into();
    created(s, new).await;
    assert_eq!(
        s.live_lines("ent-2", &hashes(&elsewhere))
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&in_enterprise))
            .await
            .expect("count"),
        5
    );
}

pub async fn twenty_concurrent_orders_for_one_id_give_exactly_five_lines(b: &mut Backend) {
    seed(b.store(), T, 0..20, 20).await;
    let check = online_check(7);
    let tasks: Vec<_> = (0..20u32)
        .map(|i| {
            let s = b.shared();
            let new = checked(&format!("c{i}"), i, &check);
            tokio::spawn(async move { s.create_activation(new).await.expect("create") })
        })
        .collect();
    let (mut made, mut quota) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            CreateOutcome::Created(_) => made += 1,
            CreateOutcome::Refused(r) if r.refusal.code == "id_quota_exceeded" => quota += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((made, quota), (5, 15));
    assert_eq!(counts(b.store(), T).await.sims_reserved, 5);
    assert_eq!(
        b.store()
            .live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        5
    );
    assert_eq!(
        b.store().inflight_orders().await.expect("inflight").len(),
        5
    );
}

pub async fn a_velocity_breach_refuses_and_freezes_the_clerk(s: &dyn StoreAdmin) {
    seed(s, T, 0..5, 5).await;
    register_store(s, T).await;
    let mut policy = cn_policy();
    policy.velocity.clerk_per_hour = Some(2);
    let check = |n| {
        check_with(
            &policy,
            ENTERPRISE,
            Some(store_subscriber(n)),
            store_channel(),
        )
    };
    created(s, checked("k0", 0, &check(1))).await;
    created(s, checked("k1", 1, &check(2))).await;
    let before = counts(s, T).await;
    let r = refused(s, checked("k2", 2, &check(3))).await;
    assert_eq!(r.refusal.code, "velocity_limit");
    assert_eq!(r.refusal.extras.window, Some("clerk_per_hour"));
    assert_eq!(r.refusal.extras.limit, Some(2));
    assert!(r.refusal.extras.retry_after_s.is_some_and(|s| s > 0));
    let frozen = r.freeze.clone().expect("the policy freezes the clerk");
    assert_eq!((frozen.member, frozen.id.as_str()), (Member::Clerk, "C1"));
    assert_eq!(counts(s, T).await, before, "nothing reserved");
    let clerks = s
        .registry(
            T,
            &ComplianceQuery {
                member: Some(Member::Clerk),
                ..Default::default()
            },
        )
        .await
        .expect("registry");
    assert_eq!(clerks.len(), 1);
    assert_eq!(
        (clerks[0].id.as_str(), clerks[0].status),
        ("C1", Registration::Frozen)
    );
    // The freeze is published in the refusal's commit, once, naming the member and the
    // window (and nothing of the subscriber).
    let frozen_events = |events: Vec<gateway::store::PublicEvent>| -> Vec<serde_json::Value> {
        events
            .into_iter()
            .filter(|e| e.event_type == gateway::store::EventType::ComplianceChannelFrozen)
            .map(|e| e.data)
            .collect()
    };
    let published = frozen_events(all_events(s, T).await);
    assert_eq!(published.len(), 1, "{published:?}");
    let e = &published[0];
    assert_eq!(
        (
            &e["member"],
            &e["store"],
            &e["id"],
            &e["window"],
            &e["limit"]
        ),
        (
            &serde_json::json!("clerk"),
            &serde_json::json!("SZ-0042"),
            &serde_json::json!("C1"),
            &serde_json::json!("clerk_per_hour"),
            &serde_json::json!(2)
        )
    );
    assert!(!e.to_string().contains(&resident_id(3)), "{e}");
    // Frozen: the next order is refused before velocity is looked at (and publishes no
    // second freeze).
    let r = refused(s, checked("k3", 3, &check(4))).await;
    assert_eq!(r.refusal.code, "channel_frozen");
    assert_eq!(frozen_events(all_events(s, T).await).len(), 1);
    // The freeze is in the refusal's audit record.
    let records = audit_chain(s).await;
    let last_velocity = records
        .iter()
        .rfind(|r| r.reasons.iter().any(|x| x == "velocity_limit"))
        .expect("the velocity refusal is audited");
    assert_eq!(last_velocity.outcome, Outcome::Refuse);
    assert!(
        last_velocity
            .reasons
            .iter()
            .any(|x| x == "freeze:clerk:SZ-0042/C1"),
        "{:?}",
        last_velocity.reasons
    );
    // Another clerk of the store is not frozen.
    let other_clerk = store_channel_with_clerk("C2");
    change(
        s,
        ComplianceChange::PutRegistry {
            tenant: T.into(),
            entry: member(Member::Clerk, "C2", Registration::Enabled),
        },
    )
    .await;
    created(
        s,
        checked(
            "k4",
            3,
            &check_with(&policy, ENTERPRISE, Some(store_subscriber(5)), other_clerk),
        ),
    )
    .await;
}

fn store_channel_with_clerk(clerk: &str) -> ChannelRef {
    match store_channel() {
        ChannelRef::Store(mut s) => {
            s.clerk = Some(clerk.into());
            ChannelRef::Store(s)
        }
        other => other,
    }
}

pub async fn the_registry_gates_store_channels(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    let policy = cn_policy();
    let check = |n| {
        check_with(
            &policy,
            ENTERPRISE,
            Some(store_subscriber(n)),
            store_channel(),
        )
    };
    // Nothing registered: the store is not.
    let r = refused(s, checked("k0", 0, &check(1))).await;
    assert_eq!(
        (r.refusal.code, r.refusal.field.as_deref()),
        ("channel_not_registered", Some("channel.store_id"))
    );
    register_store(s, T).await;
    // Another tenant's registry does not count.
    let mut new = checked("k0", 0, &check(1));
    new.tenant = OTHER.into();
    assert_eq!(refused(s, new).await.refusal.code, "channel_not_registered");
    // The kill switch.
    change(
        s,
        ComplianceChange::PutRegistry {
            tenant: T.into(),
            entry: member(Member::Terminal, "T7", Registration::Disabled),
        },
    )
    .await;
    let r = refused(s, checked("k0", 0, &check(1))).await;
    assert_eq!(
        (r.refusal.code, r.refusal.field.as_deref()),
        ("channel_disabled", Some("channel.terminal_id"))
    );
    change(
        s,
        ComplianceChange::PutRegistry {
            tenant: T.into(),
            entry: member(Member::Terminal, "T7", Registration::Enabled),
        },
    )
    .await;
    created(s, checked("k0", 0, &check(1))).await;
    let all = s
        .registry(T, &ComplianceQuery::default())
        .await
        .expect("registry");
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|e| e.status == Registration::Enabled));
    let none = s
        .registry(
            T,
            &ComplianceQuery {
                store: Some("elsewhere".into()),
                ..Default::default()
            },
        )
        .await
        .expect("registry");
    assert!(none.is_empty());
}

pub async fn a_blocklisted_id_is_refused_until_its_entry_ends(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    let check = online_check(1);
    let hash = check.id_hashes[0].to_string();
    change(
        s,
        ComplianceChange::AddBlock {
            enterprise: ENTERPRISE.into(),
            entry: id_block(&hash, NOW - DAY_MS, 800),
            rules: cn_policy().blocklist,
        },
    )
    .await;
    let before = counts(s, T).await;
    let r = refused(s, checked("k0", 0, &check)).await;
    assert_eq!((r.refusal.code, r.refusal.status), ("blocked", 403));
    assert!(
        !r.refusal.detail.contains("list"),
        "the answer does not name the list: {}",
        r.refusal.detail
    );
    assert_eq!(r.refusal.audit_reason, "blocklist:id");
    assert_eq!(counts(s, T).await, before, "nothing reserved");
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        0
    );
    // Another enterprise's list does not apply.
    let mut elsewhere = check.clone();
    elsewhere.enterprise = "ent-2".into();
    created(s, checked("k1", 1, &elsewhere)).await;
    let listed = s
        .blocklist(
            ENTERPRISE,
            &ComplianceQuery {
                list: Some(ListKind::IdHash),
                ..Default::default()
            },
        )
        .await
        .expect("blocklist");
    assert_eq!(listed, vec![id_block(&hash, NOW - DAY_MS, 800)]);
    // Ending the entry lets the ID through; the history stays.
    let end = ComplianceChange::EndBlock {
        enterprise: ENTERPRISE.into(),
        list: ListKind::IdHash,
        value: hash.clone(),
        now_ms: NOW,
    };
    change(s, end.clone()).await;
    created(s, checked("k0", 0, &check)).await;
    let listed = s
        .blocklist(ENTERPRISE, &ComplianceQuery::default())
        .await
        .expect("blocklist");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].span.end_ms, Some(NOW));
    let out = s
        .compliance_change(end, operator_record("blocklist.end"))
        .await
        .expect("end again");
    assert_eq!(out, ComplianceChangeOutcome::NotFound);
}

pub async fn an_id_entry_outside_its_lifetimes_is_refused(s: &dyn StoreAdmin) {
    let hash = online_check(1).id_hashes[0].to_string();
    let rules = cn_policy().blocklist;
    let audit_before = s.audit_rows(1, 1000).await.expect("audit").len();
    let out = s
        .compliance_change(
            ComplianceChange::AddBlock {
                enterprise: ENTERPRISE.into(),
                entry: id_block(&hash, NOW, 5 * 365),
                rules,
            },
            operator_record("blocklist.add"),
        )
        .await
        .expect("change");
    let ComplianceChangeOutcome::Refused(r) = out else {
        panic!("expected a refusal, got {out:?}");
    };
    assert_eq!(r.code, "blocklist_entry_invalid");
    // Back to back, three years then three more: past five consecutive years.
    change(
        s,
        ComplianceChange::AddBlock {
            enterprise: ENTERPRISE.into(),
            entry: id_block(&hash, NOW, 1000),
            rules,
        },
    )
    .await;
    let out = s
        .compliance_change(
            ComplianceChange::AddBlock {
                enterprise: ENTERPRISE.into(),
                entry: id_block(&hash, NOW + 1000 * DAY_MS, 1000),
                rules,
            },
            operator_record("blocklist.add"),
        )
        .await
        .expect("change");
    assert!(
        matches!(&out, ComplianceChangeOutcome::Refused(r) if r.code == "blocklist_entry_invalid"),
        "{out:?}"
    );
    let listed = s
        .blocklist(ENTERPRISE, &ComplianceQuery::default())
        .await
        .expect("blocklist");
    assert_eq!(listed.len(), 1, "refused entries are not stored");
    assert_eq!(
        s.audit_rows(1, 1000).await.expect("audit").len(),
        audit_before + 1,
        "only the applied change is audited"
    );
}

pub async fn validation_reserves_and_counts_nothing(s: &dyn StoreAdmin) {
    let check = one_sale_per_clerk(s).await;
    let before = counts(s, T).await;
    let audit_before = s.audit_rows(1, 1000).await.expect("audit").len();
    for _ in 0..3 {
        let d = s
            .validate_activation(T, &check, NOW)
            .await
            .expect("validate");
        assert!(matches!(d, Decision::Allow(_)), "{d:?}");
    }
    assert_eq!(counts(s, T).await, before);
    assert!(s.inflight_orders().await.expect("inflight").is_empty());
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        0
    );
    let records = audit_chain(s).await;
    assert_eq!(records.len(), audit_before + 3);
    assert!(
        records[audit_before..]
            .iter()
            .all(|r| r.action == "activation.validate" && r.outcome == Outcome::Allow)
    );
    // The counter was not bumped: one order still fits the clerk's limit of one, and a
    // validation after it sees the limit reached, without freezing anyone.
    created(s, checked("k0", 0, &check)).await;
    let d = s
        .validate_activation(T, &check, NOW)
        .await
        .expect("validate");
    let Decision::Refuse(r) = d else {
        panic!("expected a refusal, got {d:?}");
    };
    assert_eq!(r.refusal.code, "velocity_limit");
    let clerks = s
        .registry(
            T,
            &ComplianceQuery {
                member: Some(Member::Clerk),
                ..Default::default()
            },
        )
        .await
        .expect("registry");
    assert_eq!(
        clerks[0].status,
        Registration::Enabled,
        "validation freezes nothing"
    );
}

pub async fn the_audit_chain_holds_every_decision_and_verifies(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    let mut policy = cn_policy();
    policy.lines_per_id = Some(1);
    let check = check_with(
        &policy,
        ENTERPRISE,
        Some(online_subscriber(1)),
        ChannelRef::Online,
    );
    let o = created(s, checked("k0", 0, &check)).await;
    refused(s, checked("k1", 1, &check)).await;
    s.validate_activation(T, &check, NOW)
        .await
        .expect("validate");
    s.compliance_change(ComplianceChange::AuditOnly, operator_record("export"))
        .await
        .expect("audit only");
    fail(s, &o).await;
    // Without checks, nothing is audited.
    created(s, activation("plain", 2)).await;
    let records = audit_chain(s).await;
    let seen: Vec<(&str, Outcome)> = records
        .iter()
        .map(|r| (r.action.as_str(), r.outcome))
        .collect();
    assert_eq!(
        seen,
        [
            ("activation.create", Outcome::Allow),
            ("activation.create", Outcome::Refuse),
            ("activation.validate", Outcome::Refuse),
            ("export", Outcome::Record),
            ("order.compensating", Outcome::Record),
            ("order.failed", Outcome::Record),
        ]
    );
    let allow = &records[0];
    assert_eq!(allow.seq, 1);
    assert_eq!(allow.subject.order_id.as_deref(), Some(o.id.as_str()));
    assert_eq!(allow.subject.iccid, Some(o.iccid.to_string()));
    assert_eq!(allow.subject.id_hash, Some(check.id_hashes[0].to_string()));
    assert_eq!(allow.idempotency_key.as_deref(), Some("k0"));
    assert_eq!(
        allow.policy_version.as_deref(),
        Some(policy.version.as_str())
    );
    assert_eq!(allow.actor.key_id, "sk_test_ABCD");
    let refuse = &records[1];
    assert_eq!(refuse.subject.order_id, None);
    assert_eq!(refuse.reasons[0], "id_quota_exceeded");
    assert_eq!(records[5].reasons, ["hlr_rejected"]);
    assert_eq!(records[5].subject.order_id.as_deref(), Some(o.id.as_str()));
    // A page from the middle.
    let page = s.audit_rows(2, 2).await.expect("page");
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 3]);
    // No ID number anywhere in the chain.
    let id = resident_id(1);
    let rows = s.audit_rows(1, 100).await.expect("rows");
    assert!(
        rows.iter()
            .all(|r| !String::from_utf8_lossy(&r.bytes).contains(&id))
    );
}

pub async fn a_replay_is_not_checked_again(s: &dyn StoreAdmin) {
    seed(s, T, 0..6, 6).await;
    let check = online_check(1);
    let mut first = None;
    for i in 0..5 {
        let o = created(s, checked(&format!("k{i}"), i, &check)).await;
        first.get_or_insert(o);
    }
    let audited = s.audit_rows(1, 1000).await.expect("audit").len();
    // The ID is at its limit, but the first request's replay answers as before.
    match s
        .create_activation(checked("k0", 0, &check))
        .await
        .expect("replay")
    {
        CreateOutcome::Replayed(o) => assert_eq!(Some(o), first),
        other => panic!("expected the replay, got {other:?}"),
    }
    assert_eq!(s.audit_rows(1, 1000).await.expect("audit").len(), audited);
    assert_eq!(
        s.live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        5
    );
}

pub async fn the_chain_continues_after_a_reopen(b: &mut Backend) {
    seed(b.store(), T, 0..3, 3).await;
    let check = online_check(1);
    created(b.store(), checked("k0", 0, &check)).await;
    if !b.reopen().await {
        return;
    }
    created(b.store(), checked("k1", 1, &check)).await;
    let records = audit_chain(b.store()).await;
    assert_eq!(records.len(), 2);
    assert_eq!(
        b.store()
            .live_lines(ENTERPRISE, &hashes(&check))
            .await
            .expect("count"),
        2
    );
}

pub async fn the_compliance_tables_are_dumped(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    register_store(s, T).await;
    let check = check_with(
        &cn_policy(),
        ENTERPRISE,
        Some(store_subscriber(1)),
        store_channel(),
    );
    let o = created(s, checked("k0", 0, &check)).await;
    let keys = |t: DumpTable| async move {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = s.dump_page(t, cursor.as_deref(), 2).await.expect("dump");
            out.extend(page.rows);
            match page.next {
                Some(n) => cursor = Some(n),
                None => return out,
            }
        }
    };
    let lines = keys(DumpTable::LiveLines).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0].key,
        format!("{ENTERPRISE}/{}/{}", check.id_hashes[0], o.id)
    );
    assert_eq!(lines[0].doc["order_id"], o.id.as_str());
    let registry = keys(DumpTable::Registry).await;
    assert_eq!(registry.len(), 4);
    assert!(
        registry
            .iter()
            .any(|r| r.key == format!("{T}/clerk/{STORE}/C1"))
    );
    // Store per day, clerk, terminal, store burst: one bucket each (the ID's 30-day
    // counter is off in this policy).
    let velocity = keys(DumpTable::Velocity).await;
    assert_eq!(velocity.len(), 4, "{velocity:?}");
    assert!(velocity.iter().all(|r| r.doc["count"] == 1));
    let audit = keys(DumpTable::Audit).await;
    assert_eq!(audit.len(), 5, "four registry changes and the activation");
    assert_eq!(audit[4].key, "5");
    assert!(keys(DumpTable::Blocklist).await.is_empty());
}

pub async fn velocity_buckets_count_and_leave_their_window(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 3).await;
    register_store(s, T).await;
    let policy = cn_policy();
    let sale = |i: u32, at: u64| {
        let check = check_with(
            &policy,
            ENTERPRISE,
            Some(store_subscriber(i)),
            store_channel(),
        );
        let mut new = checked(&format!("k{i}"), i, &check);
        new.now_ms = at;
        new
    };
    // The store's per-day counter as (bucket key, count) rows.
    let store_day = || async {
        let page = s
            .dump_page(DumpTable::Velocity, None, 100)
            .await
            .expect("dump");
        assert!(page.next.is_none());
        page.rows
            .into_iter()
            .filter(|r| r.key.contains("store_per_day"))
            .map(|r| (r.key, r.doc["count"].clone()))
            .collect::<Vec<_>>()
    };
    created(s, sale(0, NOW)).await;
    created(s, sale(1, NOW + 60_000)).await;
    let first = store_day().await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].1, 2, "two sales in one bucket");
    // A day later the first bucket has left the 24-hour window: the sale that opens the
    // new bucket drops it.
    created(s, sale(2, NOW + DAY_MS)).await;
    let later = store_day().await;
    assert_eq!(later.len(), 1, "{later:?}");
    assert_ne!(later[0].0, first[0].0);
    assert_eq!(later[0].1, 1);
}
