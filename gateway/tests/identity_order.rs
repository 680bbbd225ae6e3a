//! The identity verification step end to end in the sandbox: the engine opens the order's
//! sealed subscriber, asks the sandbox's identity simulator over TLS with its API key, and
//! only then provisions the HLR simulator. Pass and flag go active; a reject (the
//! simulator's own check, or an injected one) and an unavailable verifier fail the order
//! with nothing on the HLR simulator and the SIM and number back in stock.
//!
//! The first test creates its orders through the store, with what an allowing create
//! commit records (`Order::compliance` with its verification terms), so that the engine
//! asks after the commit. The others go through `POST /v1/activations` of a China tenant,
//! where the API asks the verifier before the create commit
//! (`[identity] before_create_wait_ms`).

mod common;

use adapters::identity::{Code, IdNumber, RejectCode};
use conformance::identity_sim::{Action, Rule};
use gateway::clock::Clock;
use gateway::config::Config;
use gateway::metrics::BeforeCreate;
use gateway::order::{Effect, IdentityStatus, Order, OrderStatus, VerifyTerms, subscriber_context};
use gateway::sandbox::{PRODUCT, Sandbox, TENANT};
use gateway::store::{
    CreateOutcome, EventKind, InventoryCounts, NewActivation, NumberChoice, OrderCompliance,
    SimChoice,
};
use serde_json::{Value, json};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

const ID_NUMBER: &str = "11010519491231002X";

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.sandbox.physical_sims = 10;
    c.sandbox.numbers = 50;
    c.sandbox.esim_profiles = 2;
    c.engine.max_attempts = 3;
    c.engine.backoff_base_ms = 10;
    c.engine.backoff_max_ms = 50;
    c
}

/// A well-formed subscriber from a store with a card reader and a face match.
fn subscriber() -> Value {
    json!({
        "name": "张三", "id_type": "resident_id", "id_number": ID_NUMBER, "nationality": "CHN",
        "capture": {"method": "card_reader", "reader_serial": "R-1"},
        "evidence": {"face_match": {"transaction_id": "fm-1", "score": 0.93, "liveness": true}}
    })
}

/// The cn store terms: evidence required, card reader only, a flag re-verifies.
const CN_STORE: VerifyTerms = VerifyTerms {
    required: true,
    evidence_required: true,
    manual_capture_allowed: false,
    flag_reverifies: true,
};

/// Creates an order for the `n`th sandbox SIM carrying `subscriber` (sealed), records
/// the create commit's verification terms, and hands it to the engine.
async fn place(sb: &Sandbox, n: usize, subscriber: &Value) -> String {
    let store = &sb.gateway.store;
    let iccid = sb.info.physical_iccids[n].parse().expect("iccid");
    let order_id = format!("act_identity{n:02}");
    let sealed = sb
        .gateway
        .keys
        .seal(
            &subscriber_context(&order_id),
            &serde_json::to_vec(subscriber).expect("json"),
        )
        .expect("seal");
    let now_ms = Clock::new().now_ms();
    let created = store
        .create_activation(NewActivation {
            tenant: TENANT.into(),
            idempotency_key: order_id.clone(),
            body_hash: "h".into(),
            order_id: order_id.clone(),
            sim: SimChoice::Physical(iccid),
            number: NumberChoice::Auto,
            product: PRODUCT.into(),
            channel: Some(
                json!({"kind": "store", "store_id": "SZ-0042", "staff_id": "C1", "terminal_id": "T7"}),
            ),
            subscriber: Some(sealed),
            now_ms,
            random: n as u64,
            idempotency_cutoff_ms: 0,
            compliance: None,
            port: None,
            send_ahead: None,
        })
        .await
        .expect("create");
    let CreateOutcome::Created(mut order) = created else {
        panic!("not created: {created:?}")
    };
    order.version += 1;
    order.compliance = Some(OrderCompliance {
        enterprise: TENANT.into(),
        id_hash: Some("k1:test".into()),
        policy_version: "cn.v1".into(),
        risk: Vec::new(),
        verify: Some(CN_STORE),
        reverify_after_ms: 24 * 3_600_000,
        line: None,
        handset: None,
    });
    let allowed = EventKind::StepAnswered {
        step: "compliance".into(),
        attempt: 0,
        result: "allow".into(),
    };
    store
        .advance_order(order.clone(), Effect::None, allowed)
        .await
        .expect("record the terms");
    sb.gateway.engine.submit(order);
    order_id
}

/// Polls the store until the order is active or failed.
async fn finished(sb: &Sandbox, id: &str) -> Order {
    for _ in 0..3_000 {
        let o = sb
            .gateway
            .store
            .get_order(TENANT, id)
            .await
            .expect("get")
            .expect("order");
        if o.status.is_terminal() {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("order {id} did not finish");
}

async fn counts(sb: &Sandbox) -> InventoryCounts {
    sb.gateway
        .store
        .inventory_counts(TENANT)
        .await
        .expect("counts")
}

fn code(o: &Order) -> Option<&str> {
    o.error.as_ref().map(|e| e.code.as_str())
}

/// Asserts that `o` failed with `want` and left nothing behind: no subscriber on the HLR
/// simulator and the stock as before it.
async fn failed_clean(sb: &Sandbox, o: &Order, want: &str, before: &InventoryCounts) {
    assert_eq!(o.status, OrderStatus::Failed, "{o:?}");
    assert_eq!(code(o), Some(want), "{:?}", o.error);
    assert_eq!(o.hlr, gateway::order::Step::Pending, "no HLR step");
    let hlr = sb.hlr_sim.as_ref().expect("HLR simulator");
    assert!(hlr.auc(&o.imsi).is_none() && hlr.hlr(&o.imsi).is_none());
    assert_eq!(&counts(sb).await, before, "SIM and number back in stock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_verifies_before_provisioning_and_fails_cleanly_on_a_refusal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox");
    assert!(sb.gateway.engine.identity_enabled());
    let sim = &sb.identity.sim;
    let hlr = sb.hlr_sim.as_ref().expect("HLR simulator");

    // Pass: verified, then provisioned.
    let o = finished(&sb, &place(&sb, 0, &subscriber()).await).await;
    assert_eq!(o.status, OrderStatus::Active, "{:?}", o.error);
    assert_eq!(
        o.identity.as_ref().map(|i| i.status),
        Some(IdentityStatus::Passed)
    );
    assert!(hlr.auc(&o.imsi).is_some());
    assert_eq!(sim.counts().passed, 1);

    // The simulator's own check: a typed ID where the policy wants a card reader.
    let before = counts(&sb).await;
    let mut manual = subscriber();
    manual["capture"] = json!({"method": "manual"});
    let o = finished(&sb, &place(&sb, 1, &manual).await).await;
    failed_clean(&sb, &o, "id_capture_method_not_allowed", &before).await;
    assert_eq!(
        sim.counts()
            .rejected
            .get(RejectCode::IdCaptureMethodNotAllowed),
        1
    );

    // An injected reject for this ID number.
    let id = IdNumber::parse(ID_NUMBER).expect("id");
    sim.push_rule(Rule::once(Action::Reject(RejectCode::FaceCheckFailed)).for_id(id));
    let o = finished(&sb, &place(&sb, 2, &subscriber()).await).await;
    failed_clean(&sb, &o, "face_check_failed", &before).await;

    // A flag: active, with the reason and the re-verification recorded.
    let reason = Code::parse("watchlist_near_match", "code").expect("code");
    sim.push_rule(Rule::once(Action::Flag(reason)));
    let o = finished(&sb, &place(&sb, 3, &subscriber()).await).await;
    assert_eq!(o.status, OrderStatus::Active, "{:?}", o.error);
    let step = o.identity.as_ref().expect("identity step");
    assert_eq!(step.status, IdentityStatus::Flagged);
    assert_eq!(step.code.as_deref(), Some("watchlist_near_match"));
    assert!(o.identity_reverify());
    assert!(hlr.auc(&o.imsi).is_some());

    // Unavailable for good: retried to the budget, then a clear failure.
    let before = counts(&sb).await;
    let requests = sim.counts().requests;
    sim.push_rule(Rule::always(Action::Status(503)));
    let o = finished(&sb, &place(&sb, 4, &subscriber()).await).await;
    sim.clear_rules();
    failed_clean(&sb, &o, "identity_service_unavailable", &before).await;
    assert_eq!(
        sim.counts().requests - requests,
        3,
        "the engine's retry budget"
    );
    let step = o.identity.as_ref().expect("identity step");
    assert_eq!(
        (step.status, step.attempts),
        (IdentityStatus::Unavailable, 3)
    );

    sb.gateway.shutdown().await;
}

/// A China sandbox whose API waits `wait_ms` for the verifier before a create commit.
async fn cn_sandbox(dir: &std::path::Path, wait_ms: u64) -> Sandbox {
    let mut c = common::sandbox::esim_config(dir, 0);
    c.esim.callback_listen = None;
    c.identity.before_create_wait_ms = wait_ms;
    gateway::sandbox::start(c).await.expect("sandbox")
}

fn id_of(o: &Value) -> String {
    format!("/v1/activations/{}", o["id"].as_str().expect("id"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_sale_is_verified_before_its_create_commit_and_a_decision_is_never_bought_twice() {
    use common::market::{cn, resident_id, sale};
    let dir = tempfile::tempdir().expect("tempdir");
    // A wait far beyond any answer of a loopback simulator: the decision is in time.
    let sb = cn_sandbox(dir.path(), 60_000).await;
    let sim = &sb.identity.sim;
    let (c, iccids) = cn(&sb);

    // A pass before the commit: the 202 already shows it, and the HLR call was recorded
    // as sent in the create commit; the engine does not ask again.
    let start = sim.counts();
    let (s, o) = c.order(&sale(&iccids[0], &resident_id(9_001), "C1")).await;
    assert_eq!(s, 202, "{o}");
    assert_eq!(o["identity"]["status"], "passed", "{o}");
    assert_eq!(o["identity"]["attempts"], 1, "{o}");
    assert_eq!(o["status"], "hlr_provisioning", "{o}");
    assert_eq!(o["steps"]["hlr_provision"]["state"], "in_progress", "{o}");
    let done = c.settle(&id_of(&o)).await;
    assert_eq!(done["status"], "active", "{done}");
    assert_eq!(done["identity"]["status"], "passed", "{done}");
    let now = sim.counts();
    assert_eq!(
        (
            now.requests - start.requests,
            now.passed - start.passed,
            now.replays - start.replays
        ),
        (1, 1, 0),
        "one request, one decision"
    );
    let counted = |o| sb.gateway.metrics.identity_before_create.get(o);
    assert_eq!(counted(BeforeCreate::Recorded), 1);
    assert_eq!(sb.gateway.metrics.identity_ok.load(Relaxed), 1);

    // A reject before the commit is not recorded there: the order is created unverified,
    // the engine asks again under the same request id, and the verifier answers the
    // repeat with its first decision (one decision, one replay); the order fails with it.
    let start = sim.counts();
    sim.push_rule(Rule::once(Action::Reject(RejectCode::FaceCheckFailed)));
    let (s, o) = c.order(&sale(&iccids[1], &resident_id(9_002), "C1")).await;
    assert_eq!(s, 202, "{o}");
    assert_eq!(o["steps"]["hlr_provision"]["state"], "pending", "{o}");
    assert!(o["identity"].is_null(), "nothing recorded at creation: {o}");
    let done = c.settle(&id_of(&o)).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "face_check_failed", "{done}");
    // Its HLR call, recorded ahead of the verification, was never made: taken back, with
    // no clean-up call.
    assert_eq!(done["steps"]["hlr_provision"]["state"], "pending", "{done}");
    assert!(done["steps"]["hlr_compensation"].is_null(), "{done}");
    let now = sim.counts();
    assert_eq!(
        (
            now.decisions() - start.decisions(),
            now.replays - start.replays,
            now.conflicts - start.conflicts
        ),
        (1, 1, 0),
        "the engine's request is the same request"
    );
    assert_eq!(counted(BeforeCreate::Rejected), 1);
    assert_eq!(
        sb.gateway.metrics.identity_ok.load(Relaxed),
        3,
        "both answered"
    );
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_the_create_commit_refuses_is_never_put_to_the_verifier() {
    use common::market::{resident_id, sale, tight_tenant};
    use gateway::compliance::overrides::{Limit, PolicyOverride};
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = cn_sandbox(dir.path(), 60_000).await;
    let sim = &sb.identity.sim;
    let one_line = PolicyOverride {
        lines_per_id: Some(Limit::At(1)),
        ..PolicyOverride::default()
    };
    let (c, iccids) = tight_tenant(&sb, "idv-first", 7, one_line).await;
    let id = resident_id(9_100);
    let (s, o) = c.order(&sale(&iccids[0], &id, "C1")).await;
    assert_eq!(
        (s, &o["identity"]["status"]),
        (202, &json!("passed")),
        "{o}"
    );
    assert_eq!(c.settle(&id_of(&o)).await["status"], "active");
    let asked = sim.counts().requests;
    let (s, p) = c.order(&sale(&iccids[1], &id, "C1")).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (422, Some("id_quota_exceeded")),
        "{p}"
    );
    assert_eq!(
        sim.counts().requests,
        asked,
        "a refused order reached the verifier"
    );
    let counted = |o| sb.gateway.metrics.identity_before_create.get(o);
    assert_eq!(
        (
            counted(BeforeCreate::Recorded),
            counted(BeforeCreate::PrecheckRefused)
        ),
        (1, 1)
    );
    sb.gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_that_does_not_answer_in_time_is_asked_after_the_create_commit() {
    use common::market::{cn, resident_id, sale};
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = cn_sandbox(dir.path(), 200).await;
    let sim = &sb.identity.sim;
    let (c, iccids) = cn(&sb);
    // The first request is never answered: the API gives up at its wait, whatever the
    // machine's speed, and the engine's own request gets the decision.
    sim.push_rule(Rule::once(Action::Hang));
    let start = sim.counts();
    let (s, o) = c.order(&sale(&iccids[0], &resident_id(9_200), "C1")).await;
    assert_eq!(s, 202, "{o}");
    assert!(o["identity"].is_null(), "not decided at creation: {o}");
    assert_eq!(o["steps"]["hlr_provision"]["state"], "pending", "{o}");
    let done = c.settle(&id_of(&o)).await;
    assert_eq!(done["status"], "active", "{done}");
    assert_eq!(done["identity"]["status"], "passed", "{done}");
    let now = sim.counts();
    assert_eq!(
        (
            now.injected.hang - start.injected.hang,
            now.passed - start.passed
        ),
        (1, 1)
    );
    let m = &sb.gateway.metrics;
    assert_eq!(m.identity_before_create.get(BeforeCreate::TimedOut), 1);
    assert_eq!(m.identity_before_create.get(BeforeCreate::Recorded), 0);

    // Off (`0`): never asked before the commit.
    sb.gateway.shutdown().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = cn_sandbox(dir.path(), 0).await;
    assert!(!sb.gateway.engine.verifies_before_create());
    let (c, iccids) = cn(&sb);
    let (s, o) = c.order(&sale(&iccids[0], &resident_id(9_201), "C1")).await;
    assert_eq!(s, 202, "{o}");
    assert!(o["identity"].is_null(), "{o}");
    assert_eq!(o["status"], "reserved", "{o}");
    assert_eq!(o["steps"]["hlr_provision"]["state"], "pending", "{o}");
    assert_eq!(c.settle(&id_of(&o)).await["identity"]["status"], "passed");
    // Two writes, as an order verified before its create commit: the create, which
    // recorded the HLR call ahead of the verification, and the call's answer, which
    // records the verification's pass with it (no `sent` record of its own).
    let id = o["id"].as_str().expect("id");
    let stored = sb.gateway.store.get_order("sandbox-cn", id).await;
    let stored = stored.expect("get").expect("order");
    assert_eq!(
        (stored.status, stored.version),
        (OrderStatus::Active, 2),
        "{stored:?}"
    );
    let events = sb.gateway.store.events(0, 10_000).await.expect("events");
    let mine: Vec<&EventKind> = events
        .iter()
        .filter(|e| e.order_id.as_deref() == Some(id))
        .map(|e| &e.kind)
        .collect();
    assert!(
        !mine.iter().any(|k| matches!(k, EventKind::StepSent { .. })),
        "{mine:?}"
    );
    assert!(
        matches!(mine.last(), Some(EventKind::OrderActive)),
        "{mine:?}"
    );
    sb.gateway.shutdown().await;
}
