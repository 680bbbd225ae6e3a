//! The engine's timers and retries under tokio's paused clock, with a scripted in-memory HLR:
//! no sockets and no real sleeps, yet every backoff is observed in virtual time.

use adapters::es2plus::{
    AmbiguousCause, CancelOrderRequest, ConfirmOrderRequest, ConfirmOrderResponse,
    DownloadOrderRequest, DownloadOrderResponse, Es2CallError, Es2Error, ExecutionStatus,
    FinalProfileStatus, Fqdn, ReleaseProfileRequest, SmdpClient,
};
use adapters::hlr::{
    Barring, BoxFuture, DeprovisionOutcome, FaultClass, HlrError, HlrProvisioner, ProvisionOutcome,
    SubscriberSpec, SubscriberState,
};
use gateway::admin::{self, NewSim};
use gateway::clock::Clock;
use gateway::crypto::Keyring;
use gateway::engine::machine::RetryPolicy;
use gateway::engine::{Engine, EngineSettings, EsimSettings};
use gateway::metrics::Metrics;
use gateway::order::{AttentionReason, LeftAtSmdp, OrderStatus};
use gateway::store::embedded::RedbStore;
use gateway::store::{
    AdminChange, CreateOutcome, NewActivation, NotificationIn, NumberChoice, Product, SimChoice,
    SimState, Store, Tenant,
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
    /// While set, every deprovision answers this (a fault that lasts until cleared).
    deprovision_fault: Mutex<Option<HlrError>>,
    /// Signalled on every provision call.
    provision_called: tokio::sync::Notify,
    calls: Mutex<Vec<(&'static str, tokio::time::Instant)>>,
}

impl ScriptedHlr {
    fn count(&self, name: &str) -> usize {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|c| c.0 == name)
            .count()
    }
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
        self.provision_called.notify_one();
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
        let sticky = self.deprovision_fault.lock().expect("lock").clone();
        let r = match sticky {
            Some(e) => Err(e),
            None => self
                .deprovision
                .lock()
                .expect("lock")
                .pop_front()
                .unwrap_or(Ok(DeprovisionOutcome::Deleted)),
        };
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
    metrics: Arc<Metrics>,
    id: String,
}

/// An SM-DP+ that answers every ES2+ call with success, except CancelOrder answers from a
/// script; records each call with its virtual time.
#[derive(Default)]
struct ScriptedSmdp {
    cancel: Mutex<VecDeque<Result<(), Es2CallError>>>,
    /// While set, every CancelOrder answers this (a fault that lasts until cleared).
    cancel_fault: Mutex<Option<Es2CallError>>,
    /// Scripted answers of the other calls (success once a script is empty).
    download: Mutex<VecDeque<Result<(), Es2CallError>>>,
    confirm: Mutex<VecDeque<Result<(), Es2CallError>>>,
    release: Mutex<VecDeque<Result<(), Es2CallError>>>,
    /// What each CancelOrder asked the profile to become.
    cancel_status: Mutex<Vec<FinalProfileStatus>>,
    calls: Mutex<Vec<(&'static str, tokio::time::Instant)>>,
}

/// The next scripted failure, `None` for success (also once the script is empty).
fn next_of(script: &Mutex<VecDeque<Result<(), Es2CallError>>>) -> Option<Es2CallError> {
    script
        .lock()
        .expect("lock")
        .pop_front()
        .and_then(Result::err)
}

impl ScriptedSmdp {
    fn record(&self, call: &'static str) {
        self.calls
            .lock()
            .expect("lock")
            .push((call, tokio::time::Instant::now()));
    }

    fn names(&self) -> Vec<&'static str> {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .map(|c| c.0)
            .collect()
    }
}

impl SmdpClient for ScriptedSmdp {
    fn download_order<'a>(
        &'a self,
        req: &'a DownloadOrderRequest,
    ) -> BoxFuture<'a, Result<DownloadOrderResponse, Es2CallError>> {
        self.record("download");
        let iccid = req.profile.iccid().cloned();
        let failure = next_of(&self.download);
        Box::pin(async move {
            match failure {
                Some(e) => Err(e),
                None => Ok(DownloadOrderResponse {
                    iccid: iccid.expect("ordered by ICCID"),
                }),
            }
        })
    }
    fn confirm_order<'a>(
        &'a self,
        req: &'a ConfirmOrderRequest,
    ) -> BoxFuture<'a, Result<ConfirmOrderResponse, Es2CallError>> {
        self.record("confirm");
        assert!(req.release_flag, "the gateway releases on confirm");
        let failure = next_of(&self.confirm);
        Box::pin(async move {
            match failure {
                Some(e) => Err(e),
                None => Ok(ConfirmOrderResponse {
                    eid: None,
                    matching_id: None,
                    smdp_address: None,
                }),
            }
        })
    }
    fn cancel_order<'a>(
        &'a self,
        req: &'a CancelOrderRequest,
    ) -> BoxFuture<'a, Result<(), Es2CallError>> {
        self.record("cancel");
        self.cancel_status
            .lock()
            .expect("lock")
            .push(req.final_profile_status_indicator);
        let sticky = self.cancel_fault.lock().expect("lock").clone();
        let r = match sticky {
            Some(e) => Err(e),
            None => self
                .cancel
                .lock()
                .expect("lock")
                .pop_front()
                .unwrap_or(Ok(())),
        };
        Box::pin(async move { r })
    }
    fn release_profile<'a>(
        &'a self,
        _: &'a ReleaseProfileRequest,
    ) -> BoxFuture<'a, Result<(), Es2CallError>> {
        self.record("release");
        let failure = next_of(&self.release);
        Box::pin(async move { failure.map_or(Ok(()), Err) })
    }
}

const EXPIRY: Duration = Duration::from_secs(3_600);

/// Captures this thread's log lines: the paused-clock runtime runs every task on it. One
/// global subscriber writes each line to the capture of the thread that logged it (scoped
/// subscribers per test lose events: tracing caches callsite interest across threads).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Logs>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the current thread's capture, if any.
struct ThreadCapture;

impl std::io::Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(logs) = c.borrow().as_ref() {
                logs.0.lock().expect("lock").extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops the capture when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|c| c.borrow_mut().take());
    }
}

impl Logs {
    /// Captures this thread's lines until the guard is dropped.
    fn capture(&self) -> Capturing {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            tracing_subscriber::fmt()
                .with_writer(|| ThreadCapture)
                .with_ansi(false)
                .with_max_level(tracing::Level::INFO)
                .init();
        });
        CAPTURE.with(|c| *c.borrow_mut() = Some(self.clone()));
        Capturing
    }

    /// The captured lines at `level` (`WARN`, `ERROR`, ...).
    fn at(&self, level: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned();
        let tag = format!(" {level} ");
        text.lines()
            .filter(|l| l.contains(&tag))
            .map(str::to_owned)
            .collect()
    }
}

fn smdp_refusal(subject: &str, reason: &str) -> Es2CallError {
    Es2CallError::Function(Es2Error::Failed {
        status: ExecutionStatus::Failed,
        subject_code: subject.into(),
        reason_code: reason.into(),
        subject_identifier: None,
        message: None,
        retryable: false,
    })
}

async fn setup(hlr: Arc<ScriptedHlr>) -> Setup {
    setup_with(hlr, None).await
}

async fn setup_with(hlr: Arc<ScriptedHlr>, smdp: Option<Arc<ScriptedSmdp>>) -> Setup {
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
        BTreeMap::from([("p".to_owned(), Product::new(1).with_esim("T"))]),
    );
    tenant.golden_rules.clear();
    let mut sim_record = admin::seal_sim(&keys, "t", "b", &sim).expect("seal");
    if smdp.is_some() {
        sim_record.esim_profile_type = Some("T".into());
    }
    admin::apply(
        store.as_ref(),
        AdminChange::Batch(vec![
            AdminChange::PutTenant(tenant),
            AdminChange::AddSims(vec![sim_record]),
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
        esim: smdp.clone().map(|client| EsimSettings {
            client,
            requester_id: "test".into(),
            smdp_address: Fqdn::new("SMDP.EXAMPLE").expect("fqdn"),
            expiry: Some(EXPIRY),
            concurrency: 2,
        }),
    };
    let engine = Engine::new(
        store.clone(),
        hlr,
        keys.clone(),
        settings,
        Clock::new(),
        metrics.clone(),
    );
    let created = store
        .create_activation(NewActivation {
            tenant: "t".into(),
            idempotency_key: "k".into(),
            body_hash: "h".into(),
            order_id: "act_test".into(),
            sim: match smdp {
                None => SimChoice::Physical(iccid),
                Some(_) => SimChoice::Esim {
                    eid: None,
                    matching_id: "AAAA-BBBB".into(),
                    confirmation_code: None,
                },
            },
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
        metrics,
        id: order.id,
    }
}

async fn wait_status(store: &RedbStore, id: &str, want: OrderStatus) {
    wait_status_every(store, id, want, Duration::from_millis(5)).await;
}

/// Polls up to 10,000 times, `step` of virtual time apart.
async fn wait_status_every(store: &RedbStore, id: &str, want: OrderStatus, step: Duration) {
    for _ in 0..10_000 {
        if store.get_order("t", id).expect("get").map(|o| o.status) == Some(want) {
            return;
        }
        tokio::time::sleep(step).await;
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
        ..
    } = setup(hlr.clone()).await;
    // Stop the engine ("crash") while the first attempt is answering: its answer is still
    // recorded, and no retry starts. (Polling the store for the retry instead races the
    // writer thread: the paused clock can reach the deadline while a commit is in flight.)
    hlr.provision_called.notified().await;
    engine.shutdown(Duration::from_secs(1)).await;
    // The grace period is virtual time and can lapse while a commit runs on the writer
    // thread; the order's task still records the answer, then stops before any retry.
    for _ in 0..10_000 {
        if engine.running() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(engine.running(), 0, "the order's task did not stop");
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

fn notification(iccid: &Iccid, point: u32, timestamp: &str) -> NotificationIn {
    NotificationIn {
        iccid: iccid.clone(),
        point,
        status: "Executed-Success".into(),
        success: Some(true),
        code: None,
        timestamp: timestamp.into(),
        tenants: Vec::new(),
        raw: "{}".into(),
        now_ms: Clock::new().now_ms(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_released_esim_never_downloaded_is_cancelled_at_its_deadline() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    let Setup {
        store, id, engine, ..
    } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    assert_eq!(smdp.names(), ["download", "confirm"]);
    // The deadline is durable and the timer wakes for it in virtual time.
    engine.spawn_esim_timer(Duration::from_secs(24 * 3_600));
    let released_at = tokio::time::Instant::now();
    wait_status_every(&store, &id, OrderStatus::Failed, Duration::from_secs(1)).await;
    let o = store.get_order("t", &id).expect("get").expect("order");
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_not_downloaded")
    );
    let calls = smdp.calls.lock().expect("lock").clone();
    let (name, at) = calls[2];
    assert_eq!(name, "cancel");
    assert_eq!(
        *smdp.cancel_status.lock().expect("lock"),
        [FinalProfileStatus::Available],
        "a never-downloaded profile goes back to stock"
    );
    assert!(
        at >= released_at + EXPIRY - Duration::from_secs(1),
        "cancelled {:?} after release, before the deadline",
        at - released_at
    );
    assert_eq!(
        hlr.calls
            .lock()
            .expect("lock")
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        ["provision", "deprovision"],
        "the subscriber is removed from the HLR"
    );
    // The profile and the number are back in stock.
    let sim = store.get_sim(&o.iccid).expect("sim").expect("sim");
    assert_eq!(sim.state, SimState::Available);
    assert_eq!(
        store.inventory_counts("t").expect("counts").sims_available,
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_downloaded_esim_never_expires() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    let Setup {
        store, id, engine, ..
    } = setup_with(hlr, Some(smdp.clone())).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    let o = store.get_order("t", &id).expect("get").expect("order");
    store
        .record_notification(notification(&o.iccid, 3, "2026-11-23T10:00:00Z"))
        .await
        .expect("notify");
    engine.spawn_esim_timer(Duration::from_secs(24 * 3_600));
    tokio::time::sleep(EXPIRY * 3).await;
    assert_eq!(smdp.names(), ["download", "confirm"], "no cancel");
    let o = store.get_order("t", &id).expect("get").expect("order");
    assert_eq!(o.status, OrderStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn an_expiry_racing_a_download_leaves_the_order_active() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    // The customer downloads just as the deadline passes: the SM-DP+ refuses the cancel.
    smdp.cancel
        .lock()
        .expect("lock")
        .push_back(Err(Es2CallError::Function(Es2Error::Failed {
            status: ExecutionStatus::Failed,
            subject_code: "8.2.1".into(),
            reason_code: "3.3".into(),
            subject_identifier: None,
            message: None,
            retryable: false,
        })));
    let Setup {
        store, id, engine, ..
    } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    engine.spawn_esim_timer(Duration::from_secs(24 * 3_600));
    for _ in 0..10_000 {
        if smdp.names().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    wait_status(&store, &id, OrderStatus::Active).await;
    let o = store.get_order("t", &id).expect("get").expect("order");
    assert!(o.error.is_none(), "{:?}", o.error);
    assert_eq!(
        hlr.calls.lock().expect("lock").len(),
        1,
        "the subscriber stays on the HLR"
    );
    let sim = store.get_sim(&o.iccid).expect("sim").expect("sim");
    assert!(
        matches!(sim.state, SimState::Active { .. }),
        "{:?}",
        sim.state
    );
}

#[tokio::test(start_paused = true)]
async fn a_login_fault_is_retried_within_the_budget_then_fails_as_hlr_unavailable() {
    let hlr = Arc::new(ScriptedHlr::default());
    // The host's session service glitches on every Login of the budget.
    hlr.provision.lock().expect("lock").extend((0..4).map(|_| {
        Err(HlrError::new(
            FaultClass::Authentication,
            "CAI3G Login",
            "Invalid sessionId.",
        )
        .with_code("1010"))
    }));
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let order = store.get_order("t", &id).expect("get").expect("order");
    let error = order.error.expect("error");
    assert_eq!(error.code, "hlr_unavailable", "{}", error.detail);
    assert!(!error.detail.contains("HLR profile"), "{}", error.detail);
    let provisions = hlr
        .calls
        .lock()
        .expect("lock")
        .iter()
        .filter(|c| c.0 == "provision")
        .count();
    assert_eq!(provisions, 4, "retried up to the budget");
}

#[tokio::test(start_paused = true)]
async fn a_login_glitch_that_clears_lets_the_order_through() {
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision
        .lock()
        .expect("lock")
        .push_back(Err(HlrError::new(
            FaultClass::Authentication,
            "CAI3G Login",
            "Login failed.",
        )));
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    assert_eq!(hlr.calls.lock().expect("lock").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_attention_caused_by_the_smdp_names_the_smdp_not_the_hlr() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision
        .lock()
        .expect("lock")
        .push_back(Err(fault(FaultClass::External)));
    let smdp = Arc::new(ScriptedSmdp::default());
    // The profile cannot be put back (downloaded): the SM-DP+ is the cause. The HLR
    // clean-up then runs and deletes the subscriber: nothing foreign is left there.
    smdp.cancel
        .lock()
        .expect("lock")
        .push_back(Err(smdp_refusal("8.2.1", "3.3")));
    let Setup { store, id, .. } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let o = store.get_order("t", &id).expect("get").expect("order");
    assert!(o.needs_attention);
    assert_eq!(o.attention, [AttentionReason::EsimProfileNotCancellable]);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("hlr_rejected")
    );
    assert_eq!(smdp.names(), ["download", "cancel"]);
    // The log names the real cause, at WARN, and never blames the HLR.
    let warn = logs.at("WARN").join("\n");
    assert!(
        warn.contains("reason=esim_profile_not_cancellable code=hlr_rejected"),
        "{warn}"
    );
    let all = [logs.at("WARN"), logs.at("ERROR")].concat().join("\n");
    assert!(!all.contains("does not own"), "{all}");
    assert!(!all.contains("hlr_foreign_data"), "{all}");
}

/// Polls (in virtual time, `step` apart) until `pred` holds for the order.
async fn wait_order(
    store: &RedbStore,
    id: &str,
    what: &str,
    step: Duration,
    pred: impl Fn(&gateway::order::Order) -> bool,
) -> gateway::order::Order {
    for _ in 0..10_000 {
        let o = store.get_order("t", id).expect("get").expect("order");
        if pred(&o) {
            return o;
        }
        tokio::time::sleep(step).await;
    }
    panic!("order never reached {what}: {:?}", store.get_order("t", id));
}

#[tokio::test(start_paused = true)]
async fn a_clean_up_that_cannot_finish_is_flagged_keeps_retrying_and_resumes_when_the_fault_clears()
{
    let logs = Logs::default();
    let _guard = logs.capture();
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision
        .lock()
        .expect("lock")
        .push_back(Err(fault(FaultClass::External)));
    *hlr.deprovision_fault.lock().expect("lock") = Some(HlrError::new(
        FaultClass::External,
        "GsmHlr Delete",
        "permanent",
    ));
    let Setup {
        store, id, metrics, ..
    } = setup(hlr.clone()).await;
    let stall = AttentionReason::HlrCleanupStalled;
    // The flag is durable first, then logged and counted.
    let stalled = wait_order(&store, &id, "flagged", Duration::from_secs(1), |o| {
        o.needs_attention && metrics.attention.raised_count(stall) == 1
    })
    .await;
    // After the budget: flagged with its reason, still compensating, SIM still held.
    assert_eq!(stalled.status, OrderStatus::Compensating);
    assert_eq!(stalled.attention, [AttentionReason::HlrCleanupStalled]);
    // Raised by the answer to attempt `max_attempts` (the machine's unit test pins the
    // exact attempt; here the next retry may already have run while this task polled).
    let answered = match stalled.undo {
        Some(gateway::order::Step::RetryWait { attempt, .. }) => attempt,
        Some(gateway::order::Step::Sent { attempt }) => attempt - 1,
        other => panic!("not retrying: {other:?}"),
    };
    assert!(
        answered >= POLICY.max_attempts,
        "flagged after attempt {answered}"
    );
    assert!(hlr.count("deprovision") >= POLICY.max_attempts as usize);
    assert!(metrics.render().contains(
        "simgw_order_attention_total{reason=\"hlr_cleanup_stalled\",event=\"raised\"} 1\n"
    ));
    let counts = store.inventory_counts("t").expect("counts");
    assert_eq!((counts.sims_reserved, counts.sims_available), (1, 0));
    let warn = logs.at("WARN").join("\n");
    assert!(
        warn.contains("reason=hlr_cleanup_stalled code=hlr_rejected"),
        "{warn}"
    );

    // It keeps retrying at the capped backoff, without raising the flag again.
    let before = hlr.count("deprovision");
    wait_order(
        &store,
        &id,
        "three more attempts",
        Duration::from_secs(1),
        |_| hlr.count("deprovision") >= before + 3,
    )
    .await;
    let calls = hlr.calls.lock().expect("lock").clone();
    for pair in calls[calls.len() - 3..].windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(gap >= Duration::from_millis(POLICY.max_ms / 10), "{gap:?}");
    }
    assert_eq!(metrics.attention.raised_count(stall), 1);
    assert_eq!(
        store.get_order("t", &id).expect("get").map(|o| o.status),
        Some(OrderStatus::Compensating)
    );

    // The fault clears: the order finishes by itself, the flag is withdrawn, and the SIM
    // and number go back to stock.
    *hlr.deprovision_fault.lock().expect("lock") = None;
    let o = wait_order(&store, &id, "failed", Duration::from_secs(1), |o| {
        o.status == OrderStatus::Failed && metrics.attention.settled_count(stall) == 1
    })
    .await;
    assert!(!o.needs_attention, "{:?}", o.attention);
    assert!(o.attention.is_empty());
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("hlr_rejected")
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
    // Every failure is at WARN with its code.
    assert!(
        warn.contains("order failed") && warn.contains("code=hlr_rejected"),
        "{warn}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancel_the_smdp_keeps_refusing_is_retried_across_a_restart_and_says_what_is_left() {
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision
        .lock()
        .expect("lock")
        .push_back(Err(fault(FaultClass::External)));
    let smdp = Arc::new(ScriptedSmdp::default());
    // The soak's case: CancelOrder answered `Expired` (8.8.5/4.10), again and again.
    let expired = Es2CallError::Function(Es2Error::Failed {
        status: ExecutionStatus::Expired,
        subject_code: "8.8.5".into(),
        reason_code: "4.10".into(),
        subject_identifier: None,
        message: None,
        retryable: false,
    });
    *smdp.cancel_fault.lock().expect("lock") = Some(expired);
    let Setup {
        _dir,
        store,
        keys,
        engine,
        metrics,
        id,
    } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    let stall = AttentionReason::SmdpCancelStalled;
    let o = wait_order(&store, &id, "flagged", Duration::from_secs(1), |o| {
        o.needs_attention && metrics.attention.raised_count(stall) == 1
    })
    .await;
    assert_eq!(o.status, OrderStatus::Compensating);
    assert_eq!(o.attention, [stall]);
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(e.left_at_smdp, Some(LeftAtSmdp::Reserved));
    assert_eq!(
        e.fate,
        Some(gateway::order::ProfileFate::Reuse),
        "not retired"
    );
    // The profile is neither retired nor back in stock while it may still be reserved,
    // and the HLR clean-up waits for the cancel.
    let sim = store.get_sim(&o.iccid).expect("sim").expect("sim");
    assert!(
        matches!(sim.state, SimState::Reserved { .. }),
        "{:?}",
        sim.state
    );
    assert_eq!(hlr.count("deprovision"), 0);
    assert!(
        smdp.names().iter().filter(|n| **n == "cancel").count() >= POLICY.max_attempts as usize
    );
    // The API says what is left there.
    let json = gateway::api::dto::render_order(&o, None, None);
    assert_eq!(json["esim"]["left_at_smdp"], "reserved");
    assert_eq!(json["needs_attention"], true);
    assert_eq!(json["attention"][0]["reason"], "smdp_cancel_stalled");

    // A restart: the retry is durable, a new engine picks it up and keeps trying.
    engine.shutdown(Duration::from_secs(1)).await;
    for _ in 0..10_000 {
        if engine.running() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let cancels = || smdp.names().iter().filter(|n| **n == "cancel").count();
    let before = cancels();
    let metrics2 = Arc::new(Metrics::default());
    let engine2 = Engine::new(
        store.clone(),
        hlr.clone(),
        keys,
        EngineSettings {
            policy: POLICY,
            hlr_concurrency: 4,
            fsetind: 0,
            ki_wrap: None,
            esim: Some(EsimSettings {
                client: smdp.clone(),
                requester_id: "test".into(),
                smdp_address: Fqdn::new("SMDP.EXAMPLE").expect("fqdn"),
                expiry: Some(EXPIRY),
                concurrency: 2,
            }),
        },
        Clock::new(),
        metrics2.clone(),
    );
    assert_eq!(engine2.resume_all().expect("resume"), 1);
    wait_order(
        &store,
        &id,
        "retried after the restart",
        Duration::from_secs(1),
        |_| cancels() >= before + 2,
    )
    .await;
    assert!(
        store
            .get_order("t", &id)
            .expect("get")
            .expect("order")
            .needs_attention
    );

    // The SM-DP+ recovers: cancelled, then the HLR, then everything back in stock.
    *smdp.cancel_fault.lock().expect("lock") = None;
    let o = wait_order(&store, &id, "failed", Duration::from_secs(1), |o| {
        o.status == OrderStatus::Failed && metrics2.attention.settled_count(stall) == 1
    })
    .await;
    assert!(!o.needs_attention && o.attention.is_empty());
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(e.left_at_smdp, None);
    assert!(matches!(e.cancel, Some(gateway::order::Step::Done { .. })));
    assert_eq!(hlr.count("deprovision"), 1);
    let sim = store.get_sim(&o.iccid).expect("sim").expect("sim");
    assert_eq!(sim.state, SimState::Available);
}

#[tokio::test(start_paused = true)]
async fn a_release_no_answer_proves_is_flagged_and_undone_never_active() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    // The first ConfirmOrder's answer is lost; its repeat is refused 8.2.1/3.5, as is
    // ReleaseProfile; DownloadOrder again says 8.2.1/3.3: neither released nor available.
    smdp.confirm.lock().expect("lock").extend([
        Err(Es2CallError::Ambiguous(AmbiguousCause::HttpStatus(500))),
        Err(smdp_refusal("8.2.1", "3.5")),
    ]);
    smdp.release
        .lock()
        .expect("lock")
        .push_back(Err(smdp_refusal("8.2.1", "3.5")));
    smdp.download
        .lock()
        .expect("lock")
        .extend([Ok(()), Err(smdp_refusal("8.2.1", "3.3"))]);
    let Setup {
        store, id, metrics, ..
    } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    let o = wait_order(&store, &id, "failed", Duration::from_secs(1), |o| {
        o.status == OrderStatus::Failed
    })
    .await;
    assert_eq!(
        smdp.names(),
        [
            "download", "confirm", "confirm", "release", "download", "cancel"
        ]
    );
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_release_unverified")
    );
    assert!(o.needs_attention);
    assert_eq!(o.attention, [AttentionReason::EsimReleaseUnverified]);
    // Never active, never an activation code; the profile is cancelled as Unavailable
    // and leaves stock; the subscriber is removed.
    assert_eq!(
        metrics
            .orders_active
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(e.activation_code, None);
    assert_eq!(
        *smdp.cancel_status.lock().expect("lock"),
        [FinalProfileStatus::Unavailable]
    );
    assert_eq!(hlr.count("deprovision"), 1);
    let sim = store.get_sim(&o.iccid).expect("sim").expect("sim");
    assert!(
        matches!(sim.state, SimState::Retired { .. }),
        "{:?}",
        sim.state
    );
    let events = store.events(0, 10_000).expect("events");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, gateway::store::EventKind::OrderActive)),
        "the order was active at some point"
    );
}
