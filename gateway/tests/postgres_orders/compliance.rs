//! Compliance on PostgreSQL: the per-ID line limit under concurrent creates (SERIALIZABLE
//! is what holds it), a refusal that gives its Idempotency-Key back but commits its audit
//! record and freeze, lines leaving the count when their activation fails or their
//! termination completes, and the audit chain linked by the sequencer from records
//! committed on two nodes at once.

use super::*;
use adapters::identity::id_format::mod11_2_check;
use gateway::compliance::audit::{self, Actor as AuditActor, AuditRecord, Outcome, Start};
use gateway::compliance::channel::{Member, StoreChannel};
use gateway::compliance::checks::SimKind;
use gateway::compliance::{ChannelRef, IdHasher, Market, Policy, Registration, Subscriber};
use gateway::store::{
    AuditRow, ComplianceChange, ComplianceChangeOutcome, ComplianceCheck, ComplianceQuery,
    RegistryEntry,
};
use serde_json::json;
use std::sync::Arc;

/// A valid resident ID number with sequence `seq` (0..1000).
fn citizen(seq: u32) -> String {
    let first = format!("11010119900307{seq:03}");
    format!("{first}{}", char::from(mod11_2_check(first.as_bytes())))
}

fn hasher() -> IdHasher {
    IdHasher::from_lines(&format!("pk-1 {}", "11".repeat(32))).expect("hasher")
}

/// China's policy without the per-ID 30-day velocity limit (so a terminated line's
/// successor is not refused by it), under `version`.
fn policy() -> Policy {
    let mut p = Policy::for_market(Market::Cn);
    p.velocity.id_per_30_days = None;
    p
}

/// The compliance check of a store order (SZ-0042, clerk C1, terminal T7, reader R-1)
/// for the subscriber holding ID `id`, enterprise `ent`.
fn check(policy: &Arc<Policy>, id: u32, ent: &str) -> ComplianceCheck {
    let sub = Subscriber::from_json(&json!({
        "name": "张三", "id_type": "resident_id", "id_number": citizen(id),
        "capture": {"method": "card_reader", "reader_serial": "R-1"},
        "evidence": {"face_match": {"transaction_id": "fm-1", "score": 0.93, "liveness": true}}
    }))
    .expect("subscriber");
    let id_hashes = hasher().hash_all(&sub);
    ComplianceCheck {
        policy: Arc::clone(policy),
        enterprise: ent.into(),
        subscriber: Some(Arc::new(sub)),
        invalid: None,
        channel: ChannelRef::Store(StoreChannel {
            store: "SZ-0042".into(),
            clerk: Some("C1".into()),
            terminal: Some("T7".into()),
        }),
        sim: SimKind::Physical,
        imei: None,
        handset: None,
        id_hashes,
        actor: AuditActor {
            key_id: "sk_test".into(),
            channel: "store".into(),
            store: Some("SZ-0042".into()),
            clerk: Some("C1".into()),
            device: Some("T7".into()),
        },
        evidence: vec!["face_match:fm-1".into(), "reader:R-1".into()],
        verified: None,
    }
}

/// Registers store SZ-0042 with clerk C1, terminal T7 and reader R-1 for `acme`.
async fn register(s: &PgStore) {
    for (member, id) in [
        (Member::Store, "SZ-0042"),
        (Member::Clerk, "C1"),
        (Member::Terminal, "T7"),
        (Member::Reader, "R-1"),
    ] {
        let entry = RegistryEntry {
            member,
            store: "SZ-0042".into(),
            id: id.into(),
            status: Registration::Enabled,
            label: None,
            hours: None,
            updated_at_ms: T0,
        };
        let change = ComplianceChange::PutRegistry {
            tenant: "acme".into(),
            entry,
        };
        let out = s
            .compliance_change(change, record("registry.put"))
            .await
            .expect("register");
        assert_eq!(out, ComplianceChangeOutcome::Applied);
    }
}

/// An operator's audit record.
fn record(action: &str) -> AuditRecord {
    AuditRecord {
        at_ms: T0,
        actor: AuditActor {
            key_id: "sk_op".into(),
            channel: "operator".into(),
            ..AuditActor::default()
        },
        action: action.into(),
        outcome: Outcome::Record,
        ..AuditRecord::default()
    }
}

/// An activation of physical SIM `card` under key `key` with the check.
fn checked(key: &str, card: u32, check: ComplianceCheck) -> NewActivation {
    NewActivation {
        compliance: Some(check),
        ..activation(key, &format!("act_{key}"), Some(card))
    }
}

/// The whole chain, verified: its records, decoded.
pub(super) async fn chain(s: &PgStore) -> Vec<AuditRecord> {
    let rows: Vec<AuditRow> = s.audit_rows(1, 100_000).await.expect("audit rows");
    let head = audit::verify(
        rows.iter().map(|r| (r.seq, r.bytes.as_slice(), r.hash)),
        Start::genesis(),
        None,
    )
    .expect("the chain verifies");
    assert_eq!(head.records, rows.len() as u64);
    rows.iter()
        .map(|r| AuditRecord::decode(&r.bytes).expect("decode"))
        .collect()
}

fn code(out: &CreateOutcome) -> &str {
    match out {
        CreateOutcome::Refused(r) => r.refusal.code,
        CreateOutcome::Created(_) => "created",
        _ => "other",
    }
}

async fn live(s: &PgStore, c: &ComplianceCheck) -> u32 {
    let hashes: Vec<String> = c.id_hashes.iter().map(ToString::to_string).collect();
    s.live_lines(&c.enterprise, &hashes)
        .await
        .expect("live lines")
}

#[tokio::test]
async fn twenty_concurrent_orders_for_one_id_open_exactly_five_lines() {
    let pg = server();
    let (s, _) = store(&pg, "per_id").await;
    register(&s).await;
    let s = Arc::new(s);
    let p = Arc::new(policy());
    let tasks: Vec<_> = (1..=20u32)
        .map(|i| {
            let (s, c) = (Arc::clone(&s), check(&p, 7, "ent"));
            tokio::spawn(async move { s.create_activation(checked(&format!("k{i}"), i, c)).await })
        })
        .collect();
    let mut codes = BTreeMap::<String, u32>::new();
    for t in tasks {
        let out = t.await.expect("task").expect("create");
        *codes.entry(code(&out).to_owned()).or_default() += 1;
    }
    assert_eq!(
        codes,
        BTreeMap::from([("created".into(), 5), ("id_quota_exceeded".into(), 15)])
    );
    let c = check(&p, 7, "ent");
    assert_eq!(live(&s, &c).await, 5);
    // The refused orders reserved nothing and kept no key.
    let mut available = 0;
    for i in 1..=20 {
        let sim = s.get_sim(&iccid(i)).await.expect("sim").expect("exists");
        available += u32::from(sim.state == SimState::Available);
    }
    assert_eq!(available, 15);
    let keys: i64 = s
        .client()
        .await
        .expect("client")
        .query_one("SELECT COUNT(*) FROM idempotency", &[])
        .await
        .expect("keys")
        .get(0);
    assert_eq!(keys, 5, "only the created orders hold their key");
    // Every decision is in one verified chain, after the four registrations.
    let records = chain(&s).await;
    let decisions: Vec<(&str, Outcome)> = records[4..]
        .iter()
        .map(|r| (r.action.as_str(), r.outcome))
        .collect();
    assert_eq!(decisions.len(), 20);
    assert_eq!(
        decisions
            .iter()
            .filter(|d| **d == ("activation.create", Outcome::Allow))
            .count(),
        5
    );
    assert!(
        records
            .iter()
            .enumerate()
            .all(|(i, r)| r.seq == i as u64 + 1)
    );
}

#[tokio::test]
async fn lines_leave_the_count_when_they_fail_or_are_terminated() {
    let pg = server();
    let (s, _) = store(&pg, "leave").await;
    register(&s).await;
    let p = Arc::new(policy());
    let c = check(&p, 8, "ent");
    let mut orders = Vec::new();
    for i in 1..=5u32 {
        let out = s
            .create_activation(checked(&format!("k{i}"), i, c.clone()))
            .await
            .expect("create");
        let CreateOutcome::Created(o) = out else {
            panic!("not created: {out:?}");
        };
        let oc = o
            .compliance
            .as_ref()
            .expect("the order carries the decision");
        assert_eq!(oc.enterprise, "ent");
        assert_eq!(oc.id_hash, Some(c.id_hashes[0].to_string()));
        orders.push(o);
    }
    // The sixth is refused, reserves nothing, and leaves its key free.
    let out = s
        .create_activation(checked("k6", 6, c.clone()))
        .await
        .expect("create");
    assert_eq!(code(&out), "id_quota_exceeded");
    assert_eq!(
        s.get_sim(&iccid(6)).await.expect("sim").map(|x| x.state),
        Some(SimState::Available)
    );
    assert!(
        s.activation_idempotency("acme", "k6")
            .await
            .expect("key")
            .is_none()
    );
    // Another enterprise does not see these lines.
    assert_eq!(live(&s, &check(&p, 8, "other-ent")).await, 0);

    // A failed activation stops counting: the same key now creates.
    let failed = advance(&s, &orders[0], OrderStatus::Failed, Effect::Release).await;
    assert_eq!(live(&s, &c).await, 4);
    let out = s
        .create_activation(checked("k6", 6, c.clone()))
        .await
        .expect("create");
    assert_eq!(code(&out), "created");
    assert_eq!(live(&s, &c).await, 5);

    // A completed termination of an active line stops counting too.
    let active = advance(&s, &orders[1], OrderStatus::Active, Effect::Activate).await;
    let t = create_lifecycle(&s, lifecycle("t1", &active.msisdn, OrderKind::Terminate)).await;
    assert_eq!(
        live(&s, &c).await,
        5,
        "a termination in progress still counts"
    );
    advance(&s, &t, OrderStatus::Completed, Effect::Complete).await;
    assert_eq!(live(&s, &c).await, 4);
    let out = s
        .create_activation(checked("k7", 7, c.clone()))
        .await
        .expect("create");
    assert_eq!(code(&out), "created");

    // Status changes of orders with compliance are audited in their commit.
    let records = chain(&s).await;
    let of = |id: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| r.subject.order_id.as_deref() == Some(id))
            .map(|r| r.action.clone())
            .collect()
    };
    assert_eq!(of(&failed.id), ["activation.create", "order.failed"]);
    assert_eq!(of(&active.id), ["activation.create", "order.active"]);
    let refused: Vec<_> = records
        .iter()
        .filter(|r| r.outcome == Outcome::Refuse)
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "the refused create (status changes are facts)"
    );
    assert_eq!(refused[0].reasons, ["id_quota_exceeded"]);
    assert_eq!(refused[0].idempotency_key.as_deref(), Some("k6"));
}

#[tokio::test]
async fn a_velocity_breach_freezes_the_clerk_in_the_refusing_commit() {
    let pg = server();
    let (s, _) = store(&pg, "freeze").await;
    register(&s).await;
    let mut p = policy();
    p.velocity.clerk_per_hour = Some(2);
    let p = Arc::new(p);
    for i in 1..=2u32 {
        let out = s
            .create_activation(checked(&format!("k{i}"), i, check(&p, 20 + i, "ent")))
            .await
            .expect("create");
        assert_eq!(code(&out), "created");
    }
    let out = s
        .create_activation(checked("k3", 3, check(&p, 23, "ent")))
        .await
        .expect("create");
    let CreateOutcome::Refused(r) = &out else {
        panic!("not refused: {out:?}");
    };
    assert_eq!(r.refusal.code, "velocity_limit");
    assert_eq!(r.freeze.as_ref().map(|f| f.member), Some(Member::Clerk));
    let clerks = s
        .registry(
            "acme",
            &ComplianceQuery {
                member: Some(Member::Clerk),
                ..ComplianceQuery::default()
            },
        )
        .await
        .expect("registry");
    assert_eq!(clerks.len(), 1);
    assert_eq!(clerks[0].status, Registration::Frozen);
    // The next order through that clerk is refused for the freeze, before velocity.
    let out = s
        .create_activation(checked("k4", 4, check(&p, 24, "ent")))
        .await
        .expect("create");
    assert_eq!(code(&out), "channel_frozen");
    // Validation decides the same way and writes only its audit record.
    let d = s
        .validate_activation("acme", &check(&p, 25, "ent"), T0)
        .await
        .expect("validate");
    assert!(
        matches!(d, gateway::compliance::Decision::Refuse(ref r) if r.refusal.code == "channel_frozen")
    );
    let last = chain(&s).await.pop().expect("a record");
    assert_eq!(
        (last.action.as_str(), last.outcome),
        ("activation.validate", Outcome::Refuse)
    );
}

#[tokio::test]
async fn two_nodes_appending_at_once_make_one_gap_free_chain() {
    let pg = server();
    let (a, url) = store(&pg, "chain").await;
    let b = node(&url, "b").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let per_task = 10u32;
    let tasks: Vec<_> = (0..8u32)
        .map(|t| {
            let s: Arc<PgStore> = if t % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            tokio::spawn(async move {
                for i in 0..per_task {
                    let r = record(&format!("test.{t}.{i}"));
                    let out = s
                        .compliance_change(ComplianceChange::AuditOnly, r)
                        .await
                        .expect("append");
                    assert_eq!(out, ComplianceChangeOutcome::Applied);
                    if i % 3 == 0 {
                        // Linking runs while others still append.
                        s.flush_events().await.expect("flush");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    // Whichever node holds the sequencer lease links the rest.
    a.flush_events().await.expect("flush a");
    b.flush_events().await.expect("flush b");
    let records = chain(&a).await;
    assert_eq!(records.len(), 80);
    let mut actions: Vec<String> = records.iter().map(|r| r.action.clone()).collect();
    // Each task's records keep their commit order.
    for t in 0..8u32 {
        let mine: Vec<&String> = actions
            .iter()
            .filter(|x| x.starts_with(&format!("test.{t}.")))
            .collect();
        let want: Vec<String> = (0..per_task).map(|i| format!("test.{t}.{i}")).collect();
        assert_eq!(mine, want.iter().collect::<Vec<_>>());
    }
    actions.sort();
    actions.dedup();
    assert_eq!(actions.len(), 80, "every record once");
    // Both nodes read the same chain.
    assert_eq!(
        b.audit_rows(1, 1000).await.expect("rows b"),
        a.audit_rows(1, 1000).await.expect("rows a")
    );
    assert_eq!(a.audit_rows(79, 10).await.expect("tail").len(), 2);
}

#[tokio::test]
async fn velocity_buckets_that_left_their_window_are_dropped() {
    let pg = server();
    let (s, _) = store(&pg, "buckets").await;
    register(&s).await;
    let p = Arc::new(policy());
    let out = s
        .create_activation(checked("k1", 1, check(&p, 40, "ent")))
        .await;
    assert_eq!(code(&out.expect("create")), "created");
    let hour = 3_600_000u64;
    let first = i64::try_from(T0 / hour).expect("bucket");
    assert_eq!(store_day_buckets(&s).await, [first]);
    // A day later (same local hour, the store still open) the first bucket has left the
    // 24-hour window: the order that counts the new one drops it.
    let mut later = checked("k2", 2, check(&p, 41, "ent"));
    later.now_ms = T0 + 24 * hour;
    assert_eq!(
        code(&s.create_activation(later).await.expect("create")),
        "created"
    );
    assert_eq!(store_day_buckets(&s).await, [first + 24]);
}

/// The buckets of the store-per-day velocity counter.
async fn store_day_buckets(s: &PgStore) -> Vec<i64> {
    let row = s
        .client()
        .await
        .expect("client")
        .query_one(
            "SELECT buckets FROM velocity WHERE scope LIKE '%/store_per_day/%'",
            &[],
        )
        .await
        .expect("velocity");
    let buckets: serde_json::Value = row.get(0);
    buckets
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| p[0].as_i64().expect("bucket"))
        .collect()
}
