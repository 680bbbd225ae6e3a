//! Second real-person verification under the paused clock: a line opened with a risk hit
//! waits in `pending_verification`; its deadline, passing, suspends it for `regulatory`
//! on the HLR (read back from an in-memory HLR that keeps barring) through a system
//! order; a later pass resumes it; a pass in time clears it with no suspension; the
//! deadline lives in the store, so another engine (a restart) acts on it; a line busy
//! with another order is suspended once that order ends. And on disk: the deadline index
//! survives closing and reopening the store.

use crate::memory_hlr::MemoryHlr;
use crate::rig::{POLICY, ScriptedHlr, plain_settings};
use gateway::admin::{self, NewSim};
use gateway::clock::Clock;
use gateway::compliance::audit::{Actor as AuditActor, AuditRecord};
use gateway::compliance::reverify::{SuspendCause, Verification, VerificationEvidence};
use gateway::compliance::risk::RiskRule;
use gateway::compliance::{ChannelKind, ChannelRef, IdHasher, Policy, SimKind, Subscriber};
use gateway::crypto::Keyring;
use gateway::engine::{Engine, EngineSettings};
use gateway::metrics::Metrics;
use gateway::order::{Actor, OrderKind, OrderStatus, SuspensionReason};
use gateway::store::ComplianceStore;
use gateway::store::OutboxStore;
use gateway::store::embedded::RedbStore;
use gateway::store::{
    AdminChange, ComplianceCheck, CreateOutcome, EventType, LifecycleOutcome, LifecycleRejection,
    NewActivation, NewLifecycle, NewVerification, NumberChoice, Product, SimChoice, Store,
    Subscription, Tenant, VerificationOutcome, VerifierResult,
};
use sim_profiles::{Iccid, Imsi, Key128};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const HOUR_MS: u64 = 3_600_000;
const DAY: Duration = Duration::from_secs(24 * 3_600);

/// The permissive sandbox policy with one risk rule that hits every line: a line per ID
/// limit of 5 and a margin of 4 flag the ID's first line (`id_near_limit`).
fn flagging_policy() -> Policy {
    let mut p = Policy::sandbox();
    p.lines_per_id = Some(5);
    p.risk.id_near_limit = Some(4);
    p
}

/// The checks of an online order of a valid subscriber under [`flagging_policy`].
fn flagged_check() -> ComplianceCheck {
    static HASHER: std::sync::LazyLock<IdHasher> =
        std::sync::LazyLock::new(|| IdHasher::ephemeral().expect("pepper"));
    let body = "11010519900101123";
    let check = adapters::identity::id_format::mod11_2_check(body.as_bytes());
    let subscriber = Subscriber::from_json(&serde_json::json!({
        "name": "张三", "id_type": "resident_id", "id_number": format!("{body}{}", char::from(check)),
    }))
    .expect("valid subscriber");
    let id_hashes = HASHER.hash_all(&subscriber);
    ComplianceCheck {
        policy: Arc::new(flagging_policy()),
        enterprise: "t".into(),
        subscriber: Some(Arc::new(subscriber)),
        invalid: None,
        channel: ChannelRef::Online,
        sim: SimKind::Physical,
        imei: None,
        handset: None,
        id_hashes,
        actor: AuditActor {
            key_id: "sk_test".into(),
            channel: "online".into(),
            ..AuditActor::default()
        },
        evidence: Vec::new(),
        verified: None,
    }
}

struct Line {
    store: Arc<RedbStore>,
    hlr: Arc<MemoryHlr>,
    keys: Arc<Keyring>,
    engine: Engine,
    msisdn: String,
    imsi: Imsi,
}

fn engine(line_store: &Arc<RedbStore>, hlr: &Arc<MemoryHlr>, keys: &Arc<Keyring>) -> Engine {
    let settings = plain_settings();
    let e = Engine::new(
        line_store.clone(),
        hlr.clone(),
        keys.clone(),
        settings,
        Clock::new(),
        Arc::new(Metrics::default()),
    );
    e.spawn_reverify_timer(Duration::from_secs(60));
    e
}

/// Seeds tenant `t` (one card, a few numbers) in `store`.
async fn seed(store: &dyn gateway::store::StoreAdmin, keys: &Keyring) -> Iccid {
    let iccid = Iccid::from_payload("898821100000000001").expect("iccid");
    let sim = NewSim {
        iccid: iccid.clone(),
        imsi: "001010000000001".parse().expect("imsi"),
        ki: Key128::from_bytes([7; 16]),
        opc: None,
    };
    let mut tenant = Tenant::new(
        "t",
        "t",
        "00101".parse().expect("plmn"),
        BTreeMap::from([("p".to_owned(), Product::new(1))]),
    );
    tenant.golden_rules.clear();
    admin::apply(
        store,
        AdminChange::Batch(vec![
            AdminChange::PutTenant(tenant),
            AdminChange::AddSims(vec![admin::seal_sim(keys, "t", "b", &sim).expect("seal")]),
            AdminChange::AddNumbers {
                tenant: "t".into(),
                block: "b".into(),
                first: "8613800000000".parse().expect("msisdn"),
                count: 3,
            },
        ]),
    )
    .await
    .expect("seed");
    iccid
}

/// The flagged activation of the seeded card, created in `store`.
fn flagged_activation(iccid: Iccid) -> NewActivation {
    NewActivation {
        tenant: "t".into(),
        idempotency_key: "k".into(),
        body_hash: "h".into(),
        order_id: "act_reverify".into(),
        sim: SimChoice::Physical(iccid),
        number: NumberChoice::Auto,
        product: "p".into(),
        channel: None,
        subscriber: None,
        now_ms: Clock::new().now_ms(),
        random: 0,
        idempotency_cutoff_ms: 0,
        compliance: Some(flagged_check()),
        port: None,
        send_ahead: None,
    }
}

/// A flagged line, active, in an in-memory store driven by an engine with the timer.
async fn flagged_line() -> Line {
    let metrics = Arc::new(Metrics::default());
    let store = Arc::new(RedbStore::in_memory(metrics.clone()).expect("store"));
    let keys = Arc::new(Keyring::ephemeral().expect("keys"));
    let hlr = Arc::new(MemoryHlr::default());
    let iccid = seed(store.as_ref(), &keys).await;
    let engine = engine(&store, &hlr, &keys);
    let created = store
        .create_activation(flagged_activation(iccid))
        .await
        .expect("create");
    let CreateOutcome::Created(order) = created else {
        panic!("not created: {created:?}")
    };
    assert!(!order.compliance.as_ref().expect("checked").risk.is_empty());
    engine.submit(order.clone());
    crate::rig::wait_status(&store, &order.id, OrderStatus::Active).await;
    Line {
        msisdn: order.msisdn.to_string(),
        imsi: order.imsi.clone(),
        store,
        hlr,
        keys,
        engine,
    }
}

impl Line {
    async fn sub(&self) -> Subscription {
        self.store
            .subscription("t", &self.msisdn)
            .await
            .expect("read")
            .expect("line")
    }

    /// Waits (in virtual time) until the line satisfies `pred`.
    async fn until(&self, what: &str, pred: impl Fn(&Subscription) -> bool) -> Subscription {
        for _ in 0..10_000 {
            let s = self.sub().await;
            if pred(&s) && s.inflight.is_none() {
                return s;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        panic!("the line never became {what}: {:?}", self.sub().await);
    }

    async fn verify(&self, result: VerifierResult, order_id: &str) -> VerificationOutcome {
        self.store
            .record_verification(NewVerification {
                tenant: "t".into(),
                msisdn: self.msisdn.parse().expect("msisdn"),
                evidence: VerificationEvidence::Video("v-1".into()),
                channel: ChannelKind::Online,
                result,
                verifier_ref: Some("tx-1".into()),
                actor: Actor {
                    key_prefix: "sk_op".into(),
                    role: "operator".into(),
                },
                audit_actor: AuditActor {
                    key_id: "sk_op".into(),
                    channel: "online".into(),
                    ..AuditActor::default()
                },
                order_id: order_id.into(),
                now_ms: Clock::new().now_ms(),
                plan: gateway::engine::machine::plan,
            })
            .await
            .expect("record")
    }

    /// A result that must be recorded: the order it started, if any, and the line.
    async fn recorded(
        &self,
        result: VerifierResult,
        order_id: &str,
    ) -> (Option<Box<gateway::order::Order>>, Subscription) {
        match self.verify(result, order_id).await {
            VerificationOutcome::Recorded {
                order,
                subscription,
            } => (order, *subscription),
            other => panic!("not recorded: {other:?}"),
        }
    }

    /// An operator key's suspend or resume of the line for `reason` (not driven yet).
    async fn operator_order(
        &self,
        kind: OrderKind,
        reason: SuspensionReason,
        key: &str,
    ) -> LifecycleOutcome {
        self.store
            .create_lifecycle(NewLifecycle {
                tenant: "t".into(),
                msisdn: self.msisdn.parse().expect("msisdn"),
                kind,
                idempotency_key: key.into(),
                body_hash: key.into(),
                order_id: format!("ord_{key}"),
                actor: Actor {
                    key_prefix: "sk_op".into(),
                    role: "operator".into(),
                },
                reason: Some(reason),
                sim: None,
                number: None,
                port: None,
                channel: None,
                now_ms: Clock::new().now_ms(),
                random: 0,
                idempotency_cutoff_ms: 0,
                plan: gateway::engine::machine::plan,
                send_ahead: None,
                verification: false,
            })
            .await
            .expect("create")
    }

    /// An operator key's order, driven to its end.
    async fn operator_done(&self, kind: OrderKind, reason: SuspensionReason, key: &str) {
        let created = self.operator_order(kind, reason, key).await;
        let LifecycleOutcome::Created(o) = created else {
            panic!("{key}: {created:?}")
        };
        let id = o.id.clone();
        self.engine.submit(o);
        crate::rig::wait_status(&self.store, &id, OrderStatus::Completed).await;
    }

    async fn event_types(&self) -> Vec<EventType> {
        self.store
            .public_events("t", 0, None, 1_000)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    async fn audit_actions(&self) -> Vec<String> {
        self.store
            .audit_rows(1, 1_000)
            .await
            .expect("audit")
            .iter()
            .map(|r| AuditRecord::decode(&r.bytes).expect("record").action)
            .collect()
    }
}

fn deadline_of(s: &Subscription) -> u64 {
    s.verification.deadline_ms().expect("pending")
}

#[tokio::test(start_paused = true)]
async fn expiry_suspends_the_line_on_the_hlr_and_a_later_verification_resumes_it() {
    let l = flagged_line().await;
    let opened = l.sub().await;
    assert_eq!(gateway::store::api_state(&opened), "pending_verification");
    let deadline = deadline_of(&opened);
    assert_eq!(deadline, opened.created_at_ms + 24 * HOUR_MS);
    assert!(matches!(&opened.verification,
        Verification::Pending { rules, .. } if rules == &[RiskRule::IdNearLimit]));
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(false));
    assert_eq!(
        l.store.next_reverify_deadline().await.expect("next"),
        Some(deadline)
    );

    // A day later the timer has suspended the line by itself, for `regulatory`.
    tokio::time::sleep(DAY).await;
    let s = l
        .until("suspended", |s| {
            s.state == gateway::store::SubscriptionState::Suspended
        })
        .await;
    assert_eq!(s.suspension_reasons, [SuspensionReason::Regulatory]);
    assert!(matches!(
        s.verification,
        Verification::Suspended {
            cause: SuspendCause::Expired,
            ..
        }
    ));
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(true), "barred on the HLR");
    let suspend = s.history.last().expect("history");
    assert_eq!(
        (suspend.kind, suspend.reason, suspend.outcome.as_str()),
        (
            OrderKind::Suspend,
            Some(SuspensionReason::Regulatory),
            "completed"
        )
    );
    assert_eq!(
        suspend.actor.as_ref().map(|a| a.role.as_str()),
        Some("system")
    );
    assert!(
        suspend.at_ms >= deadline,
        "not suspended before the deadline"
    );
    assert_eq!(l.store.next_reverify_deadline().await.expect("next"), None);

    // Verified later: the suspension is lifted.
    let (order, subscription) = l.recorded(VerifierResult::Passed, "ord_late").await;
    assert_eq!(subscription.verification, Verification::Clear);
    let resume = order.expect("a resume order");
    assert_eq!(
        (
            resume.kind,
            resume.lifecycle.as_ref().and_then(|x| x.reason)
        ),
        (OrderKind::Resume, Some(SuspensionReason::Regulatory))
    );
    l.engine.submit(*resume);
    let s = l
        .until("active", |s| {
            s.state == gateway::store::SubscriptionState::Active
        })
        .await;
    assert!(s.suspension_reasons.is_empty());
    assert_eq!(gateway::store::api_state(&s), "active");
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(false), "unbarred");

    let types = l.event_types().await;
    for t in [
        EventType::SubscriptionVerificationRequired,
        EventType::SubscriptionSuspended,
        EventType::SubscriptionVerified,
        EventType::SubscriptionResumed,
    ] {
        assert!(types.contains(&t), "{t:?} in {types:?}");
    }
    let actions = l.audit_actions().await;
    for a in [
        "verification.required",
        "verification.expired",
        "verification.passed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_verification_in_time_clears_the_line_with_no_suspension() {
    let l = flagged_line().await;
    tokio::time::sleep(Duration::from_secs(3_600)).await;
    let (order, subscription) = l.recorded(VerifierResult::Passed, "ord_in_time").await;
    assert!(order.is_none(), "nothing to resume");
    assert_eq!(gateway::store::api_state(&subscription), "active");
    assert_eq!(l.store.next_reverify_deadline().await.expect("next"), None);
    // Well past the old deadline nothing happened to the line.
    tokio::time::sleep(2 * DAY).await;
    let s = l.sub().await;
    assert_eq!(s.state, gateway::store::SubscriptionState::Active);
    assert_eq!(s.history.len(), 1, "no order on the line: {:?}", s.history);
    assert_eq!(l.hlr.calls.count("set_barring"), 0);
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(false));
    // A second result finds nothing pending and changes nothing.
    let VerificationOutcome::Refused(r) = l.verify(VerifierResult::Failed, "ord_again").await
    else {
        panic!("not refused");
    };
    assert_eq!((r.status, r.code), (409, "verification_not_pending"));
    assert_eq!(l.sub().await, s);
}

#[tokio::test(start_paused = true)]
async fn a_failed_verification_suspends_at_once() {
    let l = flagged_line().await;
    let (order, _) = l.recorded(VerifierResult::Failed, "ord_failed").await;
    let suspend = order.expect("a suspend order");
    l.engine.submit(*suspend);
    let s = l
        .until("suspended", |s| {
            s.state == gateway::store::SubscriptionState::Suspended
        })
        .await;
    assert_eq!(s.suspension_reasons, [SuspensionReason::Regulatory]);
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(true));
    assert_eq!(l.store.next_reverify_deadline().await.expect("next"), None);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_is_the_stores_so_another_engine_acts_on_it() {
    let l = flagged_line().await;
    let deadline = deadline_of(&l.sub().await);
    // The engine stops (a restart): its timer goes with it.
    l.engine.shutdown(Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_secs(3_600)).await;
    let restarted = engine(&l.store, &l.hlr, &l.keys);
    tokio::time::sleep(DAY).await;
    let s = l
        .until("suspended", |s| {
            s.state == gateway::store::SubscriptionState::Suspended
        })
        .await;
    assert!(s.history.last().expect("suspend").at_ms >= deadline);
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(true));
    restarted.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_line_busy_at_its_deadline_is_suspended_once_the_other_order_ends() {
    let l = flagged_line().await;
    let deadline = deadline_of(&l.sub().await);
    // Another order on the line, not driven yet: the line is busy at the deadline.
    let created = l
        .operator_order(
            OrderKind::Suspend,
            SuspensionReason::CustomerRequest,
            "busy",
        )
        .await;
    let LifecycleOutcome::Created(busy) = created else {
        panic!("{created:?}")
    };
    tokio::time::sleep(DAY + Duration::from_secs(1)).await;
    let s = l.sub().await;
    assert!(
        matches!(s.verification, Verification::Pending { .. }),
        "still pending while busy: {:?}",
        s.verification
    );
    let retry = l
        .store
        .next_reverify_deadline()
        .await
        .expect("next")
        .expect("a retry");
    assert!(retry > deadline, "looked at again later");
    l.engine.submit(busy);
    let s = l
        .until("suspended twice", |s| s.suspension_reasons.len() == 2)
        .await;
    assert_eq!(
        s.suspension_reasons,
        [
            SuspensionReason::CustomerRequest,
            SuspensionReason::Regulatory
        ]
    );
    assert!(matches!(s.verification, Verification::Suspended { .. }));
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(true));
}

#[tokio::test(start_paused = true)]
async fn an_operators_regulatory_suspension_outlasts_a_passed_verification() {
    let l = flagged_line().await;
    let regulatory = SuspensionReason::Regulatory;
    // An operator suspends the pending line for `regulatory` before its deadline.
    l.operator_done(OrderKind::Suspend, regulatory, "op-suspend")
        .await;
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(true));
    // The deadline passes: the line is suspended already, so no order of the gateway's.
    tokio::time::sleep(DAY + Duration::from_secs(1)).await;
    let s = l
        .until("expired", |s| {
            matches!(s.verification, Verification::Suspended { .. })
        })
        .await;
    assert_eq!(s.history.len(), 2, "no second suspend: {:?}", s.history);
    // A late pass lifts the verification's hold only: the operator's stands.
    let (order, subscription) = l.recorded(VerifierResult::Passed, "ord_late").await;
    assert!(order.is_none(), "no resume: {order:?}");
    assert_eq!(subscription.verification, Verification::Clear);
    assert_eq!(subscription.suspension_reasons, [regulatory]);
    assert_eq!(gateway::store::api_state(&subscription), "suspended");
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(true), "still barred");
    // The operator lifts it.
    l.operator_done(OrderKind::Resume, regulatory, "op-resume")
        .await;
    let s = l.sub().await;
    assert_eq!(s.state, gateway::store::SubscriptionState::Active);
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(false));
}

#[tokio::test(start_paused = true)]
async fn an_operator_holds_regulatory_beside_an_expired_verification() {
    let l = flagged_line().await;
    let regulatory = SuspensionReason::Regulatory;
    tokio::time::sleep(DAY + Duration::from_secs(1)).await;
    let s = l
        .until("suspended", |s| {
            s.state == gateway::store::SubscriptionState::Suspended
        })
        .await;
    assert_eq!(s.suspension_reasons, [regulatory]);
    let barrings = l.hlr.calls.count("set_barring");
    // The operator suspends it for `regulatory` too: accepted, nothing to send.
    l.operator_done(OrderKind::Suspend, regulatory, "op-suspend")
        .await;
    assert_eq!(l.hlr.calls.count("set_barring"), barrings);
    // A second time: the operator's hold is there.
    let again = l
        .operator_order(OrderKind::Suspend, regulatory, "op-again")
        .await;
    assert!(
        matches!(
            again,
            LifecycleOutcome::Rejected(LifecycleRejection::ReasonPresent)
        ),
        "{again:?}"
    );
    let (order, _) = l.recorded(VerifierResult::Passed, "ord_late").await;
    assert!(order.is_none(), "no resume: {order:?}");
    let s = l.sub().await;
    assert_eq!(
        (s.state, s.suspension_reasons.as_slice()),
        (
            gateway::store::SubscriptionState::Suspended,
            &[regulatory][..]
        )
    );
    assert_eq!(l.hlr.barred(&l.imsi).await, Some(true), "still barred");
}

/// On disk (real time, its own writer thread): the deadline index survives closing and
/// reopening the store, and the sweep acts on it only once it is due.
#[tokio::test]
async fn the_deadline_index_survives_reopening_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics = Arc::new(Metrics::default());
    let keys = Arc::new(Keyring::ephemeral().expect("keys"));
    let open = || RedbStore::open(dir.path(), 16, 64, metrics.clone()).expect("open");
    let store = Arc::new(open());
    let iccid = seed(store.as_ref(), &keys).await;
    let engine = Engine::new(
        store.clone(),
        Arc::new(ScriptedHlr::default()),
        keys.clone(),
        EngineSettings {
            policy: POLICY,
            hlr_concurrency: 1,
            fsetind: 0,
            ki_wrap: None,
            esim: None,
            identity: None,
            porting: None,
        },
        Clock::new(),
        metrics.clone(),
    );
    let CreateOutcome::Created(order) = store
        .create_activation(flagged_activation(iccid))
        .await
        .expect("create")
    else {
        panic!("not created")
    };
    engine.submit(order.clone());
    crate::rig::wait_status(&store, &order.id, OrderStatus::Active).await;
    let sub = store
        .subscription("t", order.msisdn.as_str())
        .await
        .expect("read")
        .expect("line");
    let deadline = deadline_of(&sub);
    engine.shutdown(Duration::from_secs(5)).await;
    drop(engine);
    store.close_now();
    drop(store);

    let store = open();
    assert_eq!(
        store.next_reverify_deadline().await.expect("next"),
        Some(deadline)
    );
    let plan = gateway::engine::machine::plan;
    let early = store
        .expire_reverifications(deadline - 1, plan)
        .await
        .expect("sweep");
    assert!(early.is_empty(), "not due yet");
    let due = store
        .expire_reverifications(deadline, plan)
        .await
        .expect("sweep");
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].kind, due[0].status),
        (OrderKind::Suspend, OrderStatus::Reserved)
    );
    assert_eq!(store.next_reverify_deadline().await.expect("next"), None);
    // The sweep's order is durable with the line's new state.
    store.close_now();
    let store = open();
    let sub = store
        .subscription("t", order.msisdn.as_str())
        .await
        .expect("read")
        .expect("line");
    assert_eq!(sub.inflight.as_deref(), Some(due[0].id.as_str()));
    assert!(matches!(sub.verification, Verification::Suspended { .. }));
    store.close_now();
}
