//! The rig: a scripted in-memory HLR and SM-DP+ (answers from scripts or sticky faults,
//! every call recorded with its virtual time), a per-thread log capture, and the store,
//! keys and engine of one order.

use adapters::es2plus::{
    CancelOrderRequest, ConfirmOrderRequest, ConfirmOrderResponse, DownloadOrderRequest,
    DownloadOrderResponse, Es2CallError, Es2Error, ExecutionStatus, FinalProfileStatus, Fqdn,
    ReleaseProfileRequest, SmdpClient,
};
use adapters::hlr::{
    Barring, BoxFuture, DeprovisionOutcome, FaultClass, HlrError, HlrProvisioner, ProvisionOutcome,
    SubscriberSpec, SubscriberState,
};
use adapters::identity::IdentityVerifier;
use gateway::admin::{self, NewSim};
use gateway::clock::Clock;
use gateway::crypto::Keyring;
use gateway::engine::machine::RetryPolicy;
use gateway::engine::{Engine, EngineSettings, EsimSettings, IdentitySettings};
use gateway::metrics::Metrics;
use gateway::order::{Effect, OrderStatus, VerifyTerms, subscriber_context};
use gateway::store::embedded::RedbStore;
use gateway::store::{
    AdminChange, CreateOutcome, EventKind, NewActivation, NotificationIn, NumberChoice,
    OrderCompliance, Product, SimChoice, Store, Tenant,
};
use sim_profiles::{Iccid, Imsi, Key128};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Answers provision/deprovision from scripts; records every call with its virtual time.
#[derive(Default)]
pub(crate) struct ScriptedHlr {
    pub(crate) provision: Mutex<VecDeque<Result<ProvisionOutcome, HlrError>>>,
    pub(crate) deprovision: Mutex<VecDeque<Result<DeprovisionOutcome, HlrError>>>,
    /// While set, every deprovision answers this (a fault that lasts until cleared).
    pub(crate) deprovision_fault: Mutex<Option<HlrError>>,
    /// Signalled on every provision call.
    pub(crate) provision_called: tokio::sync::Notify,
    pub(crate) calls: CallLog,
}

/// Each call a scripted peer received, by name, with its virtual time.
#[derive(Default)]
pub(crate) struct CallLog(Mutex<Vec<(&'static str, tokio::time::Instant)>>);

impl CallLog {
    pub(crate) fn record(&self, name: &'static str) {
        let now = tokio::time::Instant::now();
        self.0.lock().expect("lock").push((name, now));
    }

    /// Every call so far, in order.
    pub(crate) fn all(&self) -> Vec<(&'static str, tokio::time::Instant)> {
        self.0.lock().expect("lock").clone()
    }

    /// The names of the calls so far, in order.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.all().into_iter().map(|c| c.0).collect()
    }

    pub(crate) fn count(&self, name: &str) -> usize {
        self.all().iter().filter(|c| c.0 == name).count()
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
        self.calls.record("provision");
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
        self.calls.record("deprovision");
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
    fn detach_msisdn<'a>(
        &'a self,
        _: &'a Imsi,
        _: &'a sim_profiles::Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        Box::pin(async { Ok(()) })
    }
    fn change_msisdn<'a>(
        &'a self,
        _: &'a Imsi,
        _: &'a sim_profiles::Msisdn,
        _: &'a sim_profiles::Msisdn,
    ) -> BoxFuture<'a, Result<(), HlrError>> {
        self.calls.record("change_msisdn");
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Queues `answers` as the next answers of one scripted call.
pub(crate) fn script<T>(answers_of: &Mutex<VecDeque<T>>, answers: impl IntoIterator<Item = T>) {
    answers_of.lock().expect("lock").extend(answers);
}

/// Stock of tenant `t`: SIMs available, SIMs reserved, numbers available.
pub(crate) async fn stock(store: &RedbStore) -> (u64, u64, u64) {
    let c = store.inventory_counts("t").await.expect("counts");
    (c.sims_available, c.sims_reserved, c.numbers_available)
}

/// The state of the SIM or profile `iccid` in the store.
pub(crate) async fn sim_state(store: &RedbStore, iccid: &Iccid) -> gateway::store::SimState {
    store.get_sim(iccid).await.expect("sim").expect("sim").state
}

pub(crate) fn fault(class: FaultClass) -> HlrError {
    HlrError::new(class, "GsmHlr Create", "scripted")
}

pub(crate) const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    base_ms: 1_000,
    max_ms: 60_000,
};

pub(crate) struct Setup {
    pub(crate) store: Arc<RedbStore>,
    pub(crate) keys: Arc<Keyring>,
    pub(crate) engine: Engine,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) id: String,
}

/// An SM-DP+ that answers every ES2+ call with success, except CancelOrder answers from a
/// script; records each call with its virtual time.
#[derive(Default)]
pub(crate) struct ScriptedSmdp {
    pub(crate) cancel: Mutex<VecDeque<Result<(), Es2CallError>>>,
    /// While set, every CancelOrder answers this (a fault that lasts until cleared).
    pub(crate) cancel_fault: Mutex<Option<Es2CallError>>,
    /// Scripted answers of the other calls (success once a script is empty).
    pub(crate) download: Mutex<VecDeque<Result<(), Es2CallError>>>,
    pub(crate) confirm: Mutex<VecDeque<Result<(), Es2CallError>>>,
    pub(crate) release: Mutex<VecDeque<Result<(), Es2CallError>>>,
    /// What each CancelOrder asked the profile to become.
    pub(crate) cancel_status: Mutex<Vec<FinalProfileStatus>>,
    pub(crate) calls: CallLog,
}

/// The next scripted failure, `None` for success (also once the script is empty).
pub(crate) fn next_of(script: &Mutex<VecDeque<Result<(), Es2CallError>>>) -> Option<Es2CallError> {
    script
        .lock()
        .expect("lock")
        .pop_front()
        .and_then(Result::err)
}

impl SmdpClient for ScriptedSmdp {
    fn download_order<'a>(
        &'a self,
        req: &'a DownloadOrderRequest,
    ) -> BoxFuture<'a, Result<DownloadOrderResponse, Es2CallError>> {
        self.calls.record("download");
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
        self.calls.record("confirm");
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
        self.calls.record("cancel");
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
        self.calls.record("release");
        let failure = next_of(&self.release);
        Box::pin(async move { failure.map_or(Ok(()), Err) })
    }
}

pub(crate) const EXPIRY: Duration = Duration::from_secs(3_600);

/// Captures this thread's log lines: the paused-clock runtime runs every task on it. One
/// global subscriber writes each line to the capture of the thread that logged it (scoped
/// subscribers per test lose events: tracing caches callsite interest across threads).
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Logs>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the current thread's capture, if any.
pub(crate) struct ThreadCapture;

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
pub(crate) struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|c| c.borrow_mut().take());
    }
}

impl Logs {
    /// Captures this thread's lines until the guard is dropped.
    pub(crate) fn capture(&self) -> Capturing {
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

    /// Everything captured.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }

    /// The captured lines at `level` (`WARN`, `ERROR`, ...).
    pub(crate) fn at(&self, level: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned();
        let tag = format!(" {level} ");
        text.lines()
            .filter(|l| l.contains(&tag))
            .map(str::to_owned)
            .collect()
    }
}

pub(crate) fn smdp_refusal(subject: &str, reason: &str) -> Es2CallError {
    Es2CallError::Function(Es2Error::Failed {
        status: ExecutionStatus::Failed,
        subject_code: subject.into(),
        reason_code: reason.into(),
        subject_identifier: None,
        message: None,
        retryable: false,
    })
}

pub(crate) async fn setup(hlr: Arc<ScriptedHlr>) -> Setup {
    setup_with(hlr, None).await
}

pub(crate) async fn setup_with(hlr: Arc<ScriptedHlr>, smdp: Option<Arc<ScriptedSmdp>>) -> Setup {
    setup_full(hlr, smdp, None).await
}

/// What an order whose identity the engine verifies brings: the engine's verifier (`None`:
/// an engine without one), the subscriber the order seals, and the terms its create commit
/// recorded.
pub(crate) struct Verify {
    pub(crate) verifier: Option<Arc<dyn IdentityVerifier>>,
    pub(crate) subscriber: serde_json::Value,
    pub(crate) terms: VerifyTerms,
    pub(crate) give_up_after: Duration,
}

/// The engine's identity settings for `verify`.
pub(crate) fn identity_settings(verify: &Verify) -> Option<IdentitySettings> {
    verify.verifier.clone().map(|verifier| IdentitySettings {
        verifier,
        give_up_after: verify.give_up_after,
        concurrency: 2,
        before_create_wait: Duration::ZERO,
    })
}

/// Records on a freshly created order what a create commit that allowed a valid subscriber
/// records (`Order::compliance` with verification terms). The backends' create commit does
/// not run compliance checks yet, so the rig writes it as the commit would, before the
/// engine sees the order.
pub(crate) async fn allow_with_terms(
    store: &dyn Store,
    order: gateway::order::Order,
    terms: VerifyTerms,
) -> gateway::order::Order {
    let mut o = order;
    o.version += 1;
    o.compliance = Some(OrderCompliance {
        enterprise: o.tenant.clone(),
        id_hash: Some("k1:test".into()),
        policy_version: "cn.v1".into(),
        risk: Vec::new(),
        verify: Some(terms),
        reverify_after_ms: 24 * 3_600_000,
        line: None,
        handset: None,
    });
    store
        .advance_order(
            o.clone(),
            Effect::None,
            EventKind::StepAnswered {
                step: "compliance".into(),
                attempt: 0,
                result: "allow".into(),
            },
        )
        .await
        .expect("record compliance");
    o
}

pub(crate) async fn setup_full(
    hlr: Arc<ScriptedHlr>,
    smdp: Option<Arc<ScriptedSmdp>>,
    verify: Option<Verify>,
) -> Setup {
    setup_porting(hlr, smdp, verify, None).await
}

/// Like [`setup_full`], with the engine reaching a porting hub too.
pub(crate) async fn setup_porting(
    hlr: Arc<ScriptedHlr>,
    smdp: Option<Arc<ScriptedSmdp>>,
    verify: Option<Verify>,
    porting: Option<gateway::engine::PortingSettings>,
) -> Setup {
    let fresh = verify.is_none();
    let (setup, order) = created(hlr, smdp, verify, porting, None).await;
    if fresh {
        setup.engine.submit_created(order);
    } else {
        setup.engine.submit(order);
    }
    setup
}

/// A physical order created as the API creates it (its first call sent ahead in the
/// create commit), and an engine that has not been given it: as if the process died
/// right after the create commit.
pub(crate) async fn setup_unsubmitted(hlr: Arc<ScriptedHlr>) -> (Setup, gateway::order::Order) {
    created(hlr, None, None, None, None).await
}

/// Builds a port-in's port part, its credential sealed with the rig's keys.
pub(crate) type PortOf = fn(&Keyring) -> gateway::order::PortIn;

/// A port-in order (a temporary number from the stock; its port part from `port`)
/// created as the API creates it, first call sent ahead, not given to the engine.
pub(crate) async fn setup_port_in(
    hlr: Arc<ScriptedHlr>,
    porting: gateway::engine::PortingSettings,
    port: PortOf,
) -> (Setup, gateway::order::Order) {
    created(hlr, None, None, Some(porting), Some(port)).await
}

async fn created(
    hlr: Arc<ScriptedHlr>,
    smdp: Option<Arc<ScriptedSmdp>>,
    verify: Option<Verify>,
    porting: Option<gateway::engine::PortingSettings>,
    port: Option<PortOf>,
) -> (Setup, gateway::order::Order) {
    let metrics = Arc::new(Metrics::default());
    // In memory: every commit is applied on the calling task, so the paused clock never
    // advances while a write is on another thread, and each run interleaves the same way.
    let store = Arc::new(RedbStore::in_memory(metrics.clone()).expect("store"));
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
        esim: smdp.clone().map(|client| EsimSettings {
            client,
            requester_id: "test".into(),
            smdp_address: Fqdn::new("SMDP.EXAMPLE").expect("fqdn"),
            expiry: Some(EXPIRY),
            concurrency: 2,
        }),
        identity: verify.as_ref().and_then(identity_settings),
        porting,
        ..plain_settings()
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
            subscriber: verify.as_ref().map(|v| {
                let clear = serde_json::to_vec(&v.subscriber).expect("json");
                keys.seal(&subscriber_context("act_test"), &clear)
                    .expect("seal")
            }),
            now_ms: Clock::new().now_ms(),
            random: 0,
            idempotency_cutoff_ms: 0,
            compliance: None,
            port: port.map(|p| p(&keys)),
            // As the API creates: the first call recorded as sent in the create commit
            // (an order verified first gets its terms below, in a commit of its own).
            send_ahead: verify
                .is_none()
                .then_some(gateway::engine::machine::mark_next_sent as _),
        })
        .await
        .expect("create");
    let CreateOutcome::Created(mut order) = created else {
        panic!("not created: {created:?}")
    };
    if let Some(v) = &verify {
        order = allow_with_terms(store.as_ref(), order, v.terms).await;
    }
    let setup = Setup {
        store,
        keys,
        engine,
        metrics,
        id: order.id.clone(),
    };
    (setup, order)
}

pub(crate) async fn wait_status(store: &RedbStore, id: &str, want: OrderStatus) {
    wait_status_every(store, id, want, Duration::from_millis(5)).await;
}

/// Polls up to 10,000 times, `step` of virtual time apart.
pub(crate) async fn wait_status_every(
    store: &RedbStore,
    id: &str,
    want: OrderStatus,
    step: Duration,
) {
    for _ in 0..10_000 {
        if store
            .get_order("t", id)
            .await
            .expect("get")
            .map(|o| o.status)
            == Some(want)
        {
            return;
        }
        tokio::time::sleep(step).await;
    }
    panic!(
        "order never reached {want:?}: {:?}",
        store.get_order("t", id).await
    );
}

pub(crate) fn notification(iccid: &Iccid, point: u32, timestamp: &str) -> NotificationIn {
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

/// Polls (in virtual time, `step` apart) until `pred` holds for the order.
pub(crate) async fn wait_order(
    store: &RedbStore,
    id: &str,
    what: &str,
    step: Duration,
    pred: impl Fn(&gateway::order::Order) -> bool,
) -> gateway::order::Order {
    for _ in 0..10_000 {
        let o = store.get_order("t", id).await.expect("get").expect("order");
        if pred(&o) {
            return o;
        }
        tokio::time::sleep(step).await;
    }
    panic!(
        "order never reached {what}: {:?}",
        store.get_order("t", id).await
    );
}

/// Engine settings with the rig's retry policy, four HLR calls at once and nothing else
/// configured (no SM-DP+, identity service or porting hub).
pub(crate) fn plain_settings() -> EngineSettings {
    EngineSettings {
        policy: POLICY,
        hlr_concurrency: 4,
        fsetind: 0,
        ki_wrap: None,
        esim: None,
        identity: None,
        porting: None,
    }
}
