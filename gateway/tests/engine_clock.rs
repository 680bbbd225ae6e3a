//! The engine's timers and retries under tokio's paused clock, with a scripted in-memory HLR:
//! no sockets and no real sleeps, yet every backoff is observed in virtual time.

use adapters::hlr::{
    Barring, BoxFuture, DeprovisionOutcome, FaultClass, HlrError, HlrProvisioner, ProvisionOutcome,
    SubscriberSpec, SubscriberState,
};
use gateway::admin::{self, NewSim};
use gateway::clock::Clock;
use gateway::crypto::Keyring;
use gateway::engine::machine::RetryPolicy;
use gateway::engine::{Engine, EngineSettings};
use gateway::metrics::Metrics;
use gateway::order::OrderStatus;
use gateway::store::embedded::RedbStore;
use gateway::store::{
    AdminChange, CreateOutcome, NewActivation, NumberChoice, Product, Store, Tenant,
};
use sim_profiles::{Iccid, Imsi, Key128};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Answers provision/deprovision from scripts; records every call with its virtual time.
#[derive(Default)]
struct ScriptedHlr {
    provision: Mutex<VecDeque<Result<ProvisionOutcome, HlrError>>>,
    deprovision: Mutex<VecDeque<Result<DeprovisionOutcome, HlrError>>>,
    calls: Mutex<Vec<(&'static str, tokio::time::Instant)>>,
}

impl HlrProvisioner for ScriptedHlr {
    fn dialect(&self) -> &'static str {
        "scripted"
    }
    fn provision<'a>(
        &'a self,
        _: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<ProvisionOutcome, HlrError>> {
        self.calls
            .lock()
            .expect("lock")
            .push(("provision", tokio::time::Instant::now()));
        let r = self
            .provision
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(Ok(ProvisionOutcome::Created));
        Box::pin(async move { r })
    }
    fn deprovision<'a>(
        &'a self,
        _: &'a SubscriberSpec,
    ) -> BoxFuture<'a, Result<DeprovisionOutcome, HlrError>> {
        self.calls
            .lock()
            .expect("lock")
            .push(("deprovision", tokio::time::Instant::now()));
        let r = self
            .deprovision
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(Ok(DeprovisionOutcome::Deleted));
        Box::pin(async move { r })
    }
    fn query<'a>(
        &'a self,
        _: &'a Imsi,
    ) -> BoxFuture<'a, Result<Option<SubscriberState>, HlrError>> {
        Box::pin(async { Ok(None) })
    }
    fn set_barring<'a>(&'a self, _: &'a Imsi, _: Barring) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

fn fault(class: FaultClass) -> HlrError {
    HlrError::new(class, "GsmHlr Create", "scripted")
}

const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    base_ms: 1_000,
    max_ms: 60_000,
};

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<RedbStore>,
    keys: Arc<Keyring>,
    engine: Engine,
    id: String,
}

async fn setup(hlr: Arc<ScriptedHlr>) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let metrics = Arc::new(Metrics::default());
    let store = Arc::new(RedbStore::open(dir.path(), 16, 64, metrics.clone()).expect("store"));
    let keys = Arc::new(Keyring::ephemeral().expect("keys"));
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
        store.as_ref(),
        AdminChange::Batch(vec![
            AdminChange::PutTenant(tenant),
            AdminChange::AddSims(vec![admin::seal_sim(&keys, "t", "b", &sim).expect("seal")]),
            AdminChange::AddNumbers {
                tenant: "t".into(),
                block: "b".into(),
                first: "8613800000000".parse().expect("msisdn"),
                count: 5,
            },
        ]),
    )
    .await
    .expect("seed");
    let settings = EngineSettings {
        policy: POLICY,
        hlr_concurrency: 4,
        fsetind: 0,
        ki_wrap: None,
        esim: None,
    };
    let engine = Engine::new(
        store.clone(),
        hlr,
        keys.clone(),
        settings,
        Clock::new(),
        metrics,
    );
    let created = store
        .create_activation(NewActivation {
            tenant: "t".into(),
            idempotency_key: "k".into(),
            body_hash: "h".into(),
            order_id: "act_test".into(),
            sim: gateway::store::SimChoice::Physical(iccid),
            number: NumberChoice::Auto,
            product: "p".into(),
            channel: None,
            subscriber: None,
            now_ms: Clock::new().now_ms(),
            random: 0,
            idempotency_cutoff_ms: 0,
        })
        .await
        .expect("create");
    let CreateOutcome::Created(order) = created else {
        panic!("not created: {created:?}")
    };
    engine.submit(order.clone());
    Setup {
        _dir: dir,
        store,
        keys,
        engine,
        id: order.id,
    }
}

async fn wait_status(store: &RedbStore, id: &str, want: OrderStatus) {
    for _ in 0..10_000 {
        if store.get_order("t", id).expect("get").map(|o| o.status) == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!(
        "order never reached {want:?}: {:?}",
        store.get_order("t", id)
    );
}

#[tokio::test(start_paused = true)]
async fn retryable_faults_back_off_exponentially_then_succeed() {
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision.lock().expect("lock").extend([
        Err(fault(FaultClass::Timeout)),
        Err(fault(FaultClass::Transient)),
        Err(fault(FaultClass::Connection)),
    ]);
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    let calls = hlr.calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 4, "three failures then success");
    // Backoff before attempt n+1 is at least base*2^(n-1)/10 (full jitter with a 10% floor).
    // Only the lower bound is observable here: the paused clock also auto-advances while the
    // writer thread fsyncs. The upper bound is a unit test of `RetryPolicy::delay_ms`.
    for (n, pair) in calls.windows(2).enumerate() {
        let gap = pair[1].1 - pair[0].1;
        let floor = Duration::from_millis(POLICY.base_ms << n) / 10;
        assert!(gap >= floor, "gap {n}: {gap:?} < {floor:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_fail_the_order_and_compensate_until_it_succeeds() {
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision
        .lock()
        .expect("lock")
        .extend((0..4).map(|_| Err(fault(FaultClass::Timeout))));
    hlr.deprovision.lock().expect("lock").extend([
        Err(fault(FaultClass::Connection)),
        Err(fault(FaultClass::External)),
    ]);
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let order = store.get_order("t", &id).expect("get").expect("order");
    assert_eq!(
        order.error.as_ref().map(|e| e.code.as_str()),
        Some("hlr_unavailable")
    );
    let kinds: Vec<&str> = hlr
        .calls
        .lock()
        .expect("lock")
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(
        kinds,
        ["provision"; 4]
            .into_iter()
            .chain(["deprovision"; 3])
            .collect::<Vec<_>>()
    );
    let counts = store.inventory_counts("t").expect("counts");
    assert_eq!(
        (
            counts.sims_available,
            counts.sims_reserved,
            counts.numbers_available
        ),
        (1, 0, 5)
    );
}

#[tokio::test(start_paused = true)]
async fn restart_resumes_a_waiting_order_at_its_recorded_deadline() {
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision
        .lock()
        .expect("lock")
        .push_back(Err(fault(FaultClass::Transient)));
    let Setup {
        _dir,
        store,
        keys,
        engine,
        id,
    } = setup(hlr.clone()).await;
    // Let the first attempt fail and its retry be recorded, then stop the engine ("crash").
    for _ in 0..1_000 {
        let o = store.get_order("t", &id).expect("get").expect("order");
        if matches!(o.hlr, gateway::order::Step::RetryWait { .. }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    engine.shutdown(Duration::from_secs(1)).await;
    let waiting = store.get_order("t", &id).expect("get").expect("order");
    let gateway::order::Step::RetryWait { retry_at_ms, .. } = waiting.hlr else {
        panic!("not waiting: {waiting:?}")
    };
    assert_eq!(waiting.status, OrderStatus::HlrProvisioning);
    assert_eq!(store.inflight_orders().expect("inflight").len(), 1);

    // A new engine over the same store resumes it, not before its recorded deadline.
    let clock = Clock::new();
    let settings = EngineSettings {
        policy: POLICY,
        hlr_concurrency: 4,
        fsetind: 0,
        ki_wrap: None,
        esim: None,
    };
    let engine2 = Engine::new(
        store.clone(),
        hlr.clone(),
        keys,
        settings,
        clock,
        Arc::new(Metrics::default()),
    );
    assert_eq!(engine2.resume_all().expect("resume"), 1);
    wait_status(&store, &id, OrderStatus::Active).await;
    let calls = hlr.calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 2);
    assert!(
        clock.now_ms() >= retry_at_ms,
        "the retry waited for its recorded deadline"
    );
    assert!(store.inflight_orders().expect("inflight").is_empty());
}
