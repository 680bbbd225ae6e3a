//! The order engine: a pure state machine (`machine`) and the tokio driver below that
//! performs its decisions. One task drives each in-flight order; a semaphore bounds the
//! calls in flight towards the host operator so its HLR is never flooded.
//!
//! Architecture invariant: the driver persists every decision before acting on it, and
//! reads time only through [`Clock`] (tokio's clock), so paused-clock tests see every timer.

pub mod esim;
pub mod machine;

use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::metrics::Metrics;
use crate::order::Order;
use crate::store::{EventKind, Store, StoreError};
use adapters::es2plus::{
    ActivationCode, CancelOrderRequest, ConfirmOrderRequest, ConfirmationCode,
    DownloadOrderRequest, Es2CallError, FinalProfileStatus, Fqdn, MatchingId, ProfileSelector,
    RequestHeader, SmdpClient,
};
use adapters::hlr::{AuthData, Barring, HlrProfile, HlrProvisioner, KiMaterial, SubscriberSpec};
use esim::{Es2Call, Es2Failure};
use machine::{Action, Effect, RetryPolicy};
use ring::rand::{SecureRandom, SystemRandom};
use sim_profiles::Key128;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, watch};

/// How Ki leaves the gateway when the HLR wants it under its own transport key.
#[derive(Clone)]
pub struct KiWrap {
    /// The HLR's transport key.
    pub cipher: Arc<dyn sim_profiles::transport::TransportCipher>,
    /// CAI3G `a4ind`.
    pub a4ind: u8,
    /// CAI3G `adkey`.
    pub adkey: u16,
}

impl std::fmt::Debug for KiWrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KiWrap({}, a4ind {}, adkey {})",
            self.cipher.name(),
            self.a4ind,
            self.adkey
        )
    }
}

/// Engine settings derived from configuration.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// Retry policy of southbound steps.
    pub policy: RetryPolicy,
    /// Most HLR calls in flight.
    pub hlr_concurrency: usize,
    /// AUC function set sent with each Ki.
    pub fsetind: u8,
    /// Encrypt Ki under the HLR's transport key; `None` sends it in clear.
    pub ki_wrap: Option<KiWrap>,
    /// The SM-DP+ eSIM orders go to; `None`: eSIM orders are refused at creation.
    pub esim: Option<EsimSettings>,
}

/// How the engine reaches the SM-DP+ (ES2+).
#[derive(Clone)]
pub struct EsimSettings {
    /// The ES2+ client.
    pub client: Arc<dyn SmdpClient>,
    /// Our `functionRequesterIdentifier`.
    pub requester_id: String,
    /// The SM-DP+ address for activation codes when ConfirmOrder names none.
    pub smdp_address: Fqdn,
    /// A released profile not downloaded within this long is cancelled; `None`: never.
    pub expiry: Option<Duration>,
    /// Most ES2+ calls in flight.
    pub concurrency: usize,
}

impl std::fmt::Debug for EsimSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsimSettings")
            .field("requester_id", &self.requester_id)
            .field("smdp_address", &self.smdp_address)
            .field("expiry", &self.expiry)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// Handle to the engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    hlr: Arc<dyn HlrProvisioner>,
    keys: Arc<Keyring>,
    permits: Semaphore,
    es2_permits: Semaphore,
    settings: EngineSettings,
    clock: Clock,
    metrics: Arc<Metrics>,
    rng: SystemRandom,
    stop: watch::Sender<bool>,
    running: AtomicUsize,
    idle: Notify,
    pool_wake: Notify,
    esim_wake: Notify,
}

impl Engine {
    /// Builds an engine; nothing runs until orders are submitted or resumed.
    pub fn new(
        store: Arc<dyn Store>,
        hlr: Arc<dyn HlrProvisioner>,
        keys: Arc<Keyring>,
        settings: EngineSettings,
        clock: Clock,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (stop, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                store,
                hlr,
                keys,
                permits: Semaphore::new(settings.hlr_concurrency),
                es2_permits: Semaphore::new(
                    settings.esim.as_ref().map_or(1, |e| e.concurrency.max(1)),
                ),
                settings,
                clock,
                metrics,
                rng: SystemRandom::new(),
                stop,
                running: AtomicUsize::new(0),
                idle: Notify::new(),
                pool_wake: Notify::new(),
                esim_wake: Notify::new(),
            }),
        }
    }

    /// Starts driving a newly created (already durable) order.
    pub fn submit(&self, order: Order) {
        let inner = self.inner.clone();
        inner.running.fetch_add(1, Relaxed);
        inner.metrics.orders_inflight.fetch_add(1, Relaxed);
        inner.metrics.backlog.enter(&order.tenant);
        tokio::spawn(async move {
            let id = order.id.clone();
            let tenant = order.tenant.clone();
            let result = drive(&inner, order).await;
            if let Err(e) = &result {
                tracing::warn!(order = %id, error = %e, "order paused; it resumes at next start");
            }
            // Finished unless the engine stopped or the store failed (it resumes later).
            let finished = result.is_ok() && !inner.stopping();
            inner.metrics.backlog.leave(&tenant, finished);
            inner.metrics.orders_inflight.fetch_sub(1, Relaxed);
            if inner.running.fetch_sub(1, Relaxed) == 1 {
                inner.idle.notify_waiters();
            }
        });
    }

    /// Resumes every order that was in flight when the process last stopped.
    pub fn resume_all(&self) -> Result<usize, StoreError> {
        let orders = self.inner.store.inflight_orders()?;
        let n = orders.len();
        for o in orders {
            self.inner.metrics.orders_resumed.fetch_add(1, Relaxed);
            self.submit(o);
        }
        Ok(n)
    }

    /// Number of orders being driven now.
    pub fn running(&self) -> usize {
        self.inner.running.load(Relaxed)
    }

    /// Stops starting new southbound steps, lets calls already in flight answer and be
    /// recorded, and waits up to `grace` for that. Orders left waiting resume at next start.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.inner.stop.send(true);
        let wait = async {
            loop {
                let notified = self.inner.idle.notified();
                if self.inner.running.load(Relaxed) == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(grace, wait).await;
        self.inner.hlr.shutdown().await;
    }

    /// What the HLR holds for `order` (keys opened in memory only), for a caller that
    /// provisions an HLR outside the engine, such as the sandbox rebuilding its in-memory
    /// simulator after a restart.
    pub fn subscriber_spec(&self, order: &Order) -> Result<SubscriberSpec, StoreError> {
        self.inner.spec(order)
    }

    /// Spawns the number-pool timer: lapsed checkout holds and aged quarantine return to
    /// the pool. The deadlines are durable (in the store); the timer sleeps until the
    /// earliest one and is woken by [`Engine::pool_deadline_added`] when an earlier one may
    /// have appeared. `idle` bounds a sleep when nothing is scheduled.
    pub fn spawn_pool_timer(&self, idle: Duration) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let next = |i: &Inner| i.store.next_pool_deadline();
            deadline_loop(&inner, "number", idle, &inner.pool_wake, next, |now| {
                let inner = inner.clone();
                async move {
                    match inner.store.expire_due(now).await {
                        Ok(e) => tracing::info!(
                            reservations = e.reservations,
                            quarantine = e.quarantine,
                            "numbers returned to the pool"
                        ),
                        Err(e) => tracing::warn!(error = %e, "number expiry failed"),
                    }
                }
            })
            .await;
        });
    }

    /// Whether eSIM orders can be served (an SM-DP+ is configured).
    pub fn esim_enabled(&self) -> bool {
        self.inner.settings.esim.is_some()
    }

    /// Spawns the eSIM expiry timer: released profiles not downloaded by their deadline
    /// are reopened (durably) and driven through CancelOrder and HLR clean-up. `idle`
    /// bounds a sleep when nothing is due; a ConfirmOrder that sets a deadline wakes it.
    pub fn spawn_esim_timer(&self, idle: Duration) {
        let engine = self.clone();
        tokio::spawn(async move {
            let inner = engine.inner.clone();
            let next = |i: &Inner| i.store.next_esim_deadline();
            deadline_loop(&inner, "eSIM", idle, &inner.esim_wake, next, |now| {
                let engine = engine.clone();
                async move {
                    match engine.inner.store.expire_esim(now).await {
                        Ok(orders) => {
                            for o in orders {
                                tracing::info!(order = %o.id, "eSIM profile never downloaded; cancelling");
                                engine.submit(o);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "eSIM expiry failed"),
                    }
                }
            })
            .await;
        });
    }

    /// Tells the pool timer a new hold or quarantine deadline was recorded.
    pub fn pool_deadline_added(&self) {
        self.inner.pool_wake.notify_one();
    }

    /// Spawns the periodic idempotency-record expiry.
    pub fn spawn_housekeeping(&self, ttl: Duration) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let mut stop = inner.stop.subscribe();
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                let cutoff = inner.clock.now_ms().saturating_sub(ttl.as_millis() as u64);
                match inner.store.prune_idempotency(cutoff).await {
                    Ok(n) if n > 0 => tracing::info!(expired = n, "idempotency records expired"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "idempotency expiry failed"),
                }
            }
        });
    }
}

impl Inner {
    fn jitter(&self) -> u32 {
        let mut b = [0u8; 4];
        // A failed random source only makes the jitter deterministic, never unsafe.
        let _ = self.rng.fill(&mut b);
        u32::from_le_bytes(b)
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Persists a decision. A failed commit applied nothing, so the same write is retried
    /// (disk full, IO error) with capped backoff until it lands or the engine stops: the
    /// order must neither act on a decision that is not durable nor stall until a restart.
    async fn persist(
        &self,
        order: &Order,
        effect: Effect,
        event: EventKind,
    ) -> Result<(), StoreError> {
        let mut delay = Duration::from_millis(50);
        loop {
            match self
                .store
                .advance_order(order.clone(), effect.clone(), event.clone())
                .await
            {
                Err(StoreError::Backend(e)) if !self.stopping() => {
                    tracing::error!(order = %order.id, error = %e, retry_in_ms = delay.as_millis() as u64,
                        "cannot record order progress; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }

    /// Builds the southbound spec, opening the sealed Ki/OPc only in memory.
    fn spec(&self, order: &Order) -> Result<SubscriberSpec, StoreError> {
        let sim = self
            .store
            .get_sim(&order.iccid)?
            .ok_or_else(|| StoreError::Corrupt {
                table: "sims",
                message: format!("SIM {} of order {} is missing", order.iccid, order.id),
            })?;
        let (ki, opc) = crate::admin::open_sim_keys(&self.keys, &sim).map_err(|message| {
            StoreError::Corrupt {
                table: "sims",
                message,
            }
        })?;
        Ok(SubscriberSpec {
            imsi: order.imsi.clone(),
            msisdn: order.msisdn.clone(),
            auth: AuthData {
                ki: self.ki_material(ki)?,
                opc,
                fsetind: self.settings.fsetind,
            },
            profile: HlrProfile {
                profile_id: order.hlr_profile_id,
            },
            barring: Barring::default(),
        })
    }

    /// Ki as the HLR wants it: clear, or under its transport key with the A4 selector.
    fn ki_material(&self, ki: Key128) -> Result<KiMaterial, StoreError> {
        let Some(w) = &self.settings.ki_wrap else {
            return Ok(KiMaterial::Clear(ki));
        };
        let ciphertext = w.cipher.encrypt_key(&ki).map_err(|e| StoreError::Corrupt {
            table: "sims",
            message: format!("cannot wrap Ki for the HLR: {e}"),
        })?;
        Ok(KiMaterial::Encrypted {
            ciphertext,
            a4ind: w.a4ind,
            adkey: w.adkey,
        })
    }
}

/// The southbound steps of the activation saga.
#[derive(Clone, Copy, Debug)]
enum StepKind {
    /// Create the subscriber on the HLR/AUC.
    Provision,
    /// Compensation: remove what provisioning created.
    Deprovision,
    /// An ES2+ call to the SM-DP+.
    Es2(Es2Call),
}

impl StepKind {
    fn name(self) -> &'static str {
        match self {
            Self::Provision => "hlr_provision",
            Self::Deprovision => "hlr_deprovision",
            Self::Es2(c) => c.name(),
        }
    }
}

/// Drives one order until it is terminal, the engine stops, or the store fails.
async fn drive(inner: &Inner, mut order: Order) -> Result<(), StoreError> {
    let spec = inner.spec(&order)?;
    let mut stop = inner.stop.subscribe();
    loop {
        let now = inner.clock.now_ms();
        let (kind, attempt) = match machine::next_action(&order, now) {
            Action::Finished => return Ok(()),
            Action::WaitUntil(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(inner.clock.instant_at(at)) => {}
                    _ = stop.changed() => return Ok(()),
                }
                continue;
            }
            Action::Provision { attempt } => (StepKind::Provision, attempt),
            Action::Deprovision { attempt } => (StepKind::Deprovision, attempt),
            Action::Es2 { call, attempt } => (StepKind::Es2(call), attempt),
        };
        if inner.stopping() {
            return Ok(());
        }
        order = match kind {
            StepKind::Es2(call) => run_es2(inner, order, call, attempt, now).await?,
            StepKind::Provision => run_step(inner, order, &spec, false, attempt, now).await?,
            StepKind::Deprovision => run_step(inner, order, &spec, true, attempt, now).await?,
        };
    }
}

/// One attempt of a step: record it as sent, call the HLR within the concurrency bound,
/// then record the answer (and any inventory effect) in one commit.
async fn run_step(
    inner: &Inner,
    order: Order,
    spec: &SubscriberSpec,
    undo: bool,
    attempt: u32,
    now: u64,
) -> Result<Order, StoreError> {
    let (kind, order) = if undo {
        (
            StepKind::Deprovision,
            machine::mark_undo_sent(order, attempt, now),
        )
    } else {
        (StepKind::Provision, machine::mark_sent(order, attempt, now))
    };
    let sent = EventKind::StepSent {
        step: kind.name().into(),
        attempt,
    };
    inner.persist(&order, Effect::None, sent).await?;
    let policy = inner.settings.policy;
    let permit = inner
        .permits
        .acquire()
        .await
        .map_err(|_| StoreError::Closed)?;
    let started = tokio::time::Instant::now();
    let (next, effect, summary) = if undo {
        let r = inner.hlr.deprovision(spec).await;
        let summary = observe(inner, &r, started);
        let (o, e) = machine::on_deprovision(
            order,
            attempt,
            r,
            &policy,
            inner.jitter(),
            inner.clock.now_ms(),
        );
        (o, e, summary)
    } else {
        let r = inner.hlr.provision(spec).await;
        let summary = observe(inner, &r, started);
        let (o, e) = machine::on_provision(
            order,
            attempt,
            r,
            &policy,
            inner.jitter(),
            inner.clock.now_ms(),
        );
        (o, e, summary)
    };
    drop(permit);
    record_answer(inner, next, effect, kind, attempt, summary).await
}

/// Persists a step's answer with the event it implies (and counts the outcome).
async fn record_answer(
    inner: &Inner,
    next: Order,
    effect: Effect,
    kind: StepKind,
    attempt: u32,
    summary: String,
) -> Result<Order, StoreError> {
    let event = match effect {
        Effect::Activate => {
            inner.metrics.orders_active.fetch_add(1, Relaxed);
            EventKind::OrderActive
        }
        Effect::Release => {
            inner.metrics.orders_failed.fetch_add(1, Relaxed);
            if next.needs_attention {
                inner.metrics.orders_needing_attention.fetch_add(1, Relaxed);
                tracing::error!(order = %next.id, imsi = %next.imsi,
                    "compensation found HLR data it does not own and left it in place; operator action needed");
            }
            EventKind::OrderFailed {
                code: next
                    .error
                    .as_ref()
                    .map_or_else(String::new, |e| e.code.clone()),
            }
        }
        Effect::None => EventKind::StepAnswered {
            step: kind.name().into(),
            attempt,
            result: summary,
        },
    };
    inner.persist(&next, effect, event).await?;
    Ok(next)
}

/// Records metrics for an HLR answer and returns its one-line summary for the event log.
fn observe<T: std::fmt::Debug>(
    inner: &Inner,
    result: &Result<T, adapters::hlr::HlrError>,
    started: tokio::time::Instant,
) -> String {
    let m = &inner.metrics;
    count_call(
        &m.hlr_latency,
        [&m.hlr_ok, &m.hlr_retryable, &m.hlr_permanent],
        started,
        result.as_ref().err().map(|e| e.retryable()),
    );
    match result {
        Ok(o) => format!("ok: {o:?}"),
        Err(e) => e.to_string(),
    }
}

/// Records one southbound call: its latency, and its outcome as ok, retryable or
/// permanent (`failure` is `None` for success, else whether it may be retried).
fn count_call(
    latency: &crate::metrics::Histogram,
    [ok, retryable, permanent]: [&std::sync::atomic::AtomicU64; 3],
    started: tokio::time::Instant,
    failure: Option<bool>,
) {
    latency.observe(started.elapsed());
    let c = match failure {
        None => ok,
        Some(true) => retryable,
        Some(false) => permanent,
    };
    c.fetch_add(1, Relaxed);
}

impl From<&Es2CallError> for Es2Failure {
    fn from(e: &Es2CallError) -> Self {
        Self {
            retryable: e.retryable(),
            codes: e.codes().map(|(s, r)| (s.to_owned(), r.to_owned())),
            message: e.to_string(),
        }
    }
}

/// One attempt of an ES2+ call: record it as sent (with its call id), make the call within
/// the SM-DP+ concurrency bound, then record the answer and any inventory effect.
async fn run_es2(
    inner: &Inner,
    order: Order,
    call: Es2Call,
    attempt: u32,
    now: u64,
) -> Result<Order, StoreError> {
    let Some(es) = inner.settings.esim.as_ref() else {
        return Err(StoreError::Corrupt {
            table: "orders",
            message: format!(
                "order {} is an eSIM order but no SM-DP+ is configured",
                order.id
            ),
        });
    };
    let order = esim::mark_es2_sent(order, call, attempt, now);
    inner
        .persist(
            &order,
            Effect::None,
            EventKind::StepSent {
                step: call.name().into(),
                attempt,
            },
        )
        .await?;
    let Some(e) = order.esim.clone() else {
        return Err(StoreError::Corrupt {
            table: "orders",
            message: format!("order {} lost its eSIM part", order.id),
        });
    };
    let header = RequestHeader::new(
        es.requester_id.clone(),
        e.last_call_id.clone().unwrap_or_default(),
    );
    let matching_id = MatchingId::new(&e.matching_id).map_err(|_| StoreError::Corrupt {
        table: "orders",
        message: format!("order {} has an invalid MatchingID", order.id),
    })?;
    let clear_cc = crate::order::open_confirmation_code(&inner.keys, &order).map_err(|err| {
        StoreError::Corrupt {
            table: "orders",
            message: format!("confirmation code of {}: {err}", order.id),
        }
    })?;
    let cc = clear_cc
        .map(|text| {
            ConfirmationCode::new(&text).map_err(|_| StoreError::Corrupt {
                table: "orders",
                message: format!("order {} has an invalid confirmation code", order.id),
            })
        })
        .transpose()?;
    let code_for = |smdp: &Fqdn| -> Result<String, Es2Failure> {
        let ac = match ActivationCode::new(smdp.as_str(), matching_id.as_str()) {
            Ok(ac) => ac.with_cc_required(cc.is_some()),
            Err(err) => Err(err),
        };
        match ac {
            Ok(ac) => Ok(ac.to_string()),
            Err(err) => Err(Es2Failure {
                retryable: false,
                codes: None,
                message: format!("cannot build the activation code: {err}"),
            }),
        }
    };
    let policy = inner.settings.policy;
    let permit = inner
        .es2_permits
        .acquire()
        .await
        .map_err(|_| StoreError::Closed)?;
    let started = tokio::time::Instant::now();
    let (next, effect, summary) = match call {
        Es2Call::Download => {
            let r = es
                .client
                .download_order(&DownloadOrderRequest {
                    header,
                    eid: e.eid.clone(),
                    profile: ProfileSelector::Iccid(order.iccid.clone()),
                })
                .await;
            let summary = observe_es2(inner, &r, started);
            let (o, eff) = esim::on_download(
                order,
                attempt,
                r.as_ref().map(|_| ()).map_err(Es2Failure::from),
                &policy,
                inner.jitter(),
                inner.clock.now_ms(),
            );
            (o, eff, summary)
        }
        Es2Call::Confirm => {
            let r = es
                .client
                .confirm_order(&ConfirmOrderRequest {
                    header,
                    iccid: order.iccid.clone(),
                    eid: e.eid.clone(),
                    matching_id: Some(matching_id.clone()),
                    confirmation_code: cc.clone(),
                    smds_address: None,
                    release_flag: true,
                })
                .await;
            let summary = observe_es2(inner, &r, started);
            let code = match &r {
                Ok(resp) => code_for(resp.smdp_address_or(&es.smdp_address)),
                Err(err) => Err(Es2Failure::from(err)),
            };
            let replayed = code_for(&es.smdp_address).unwrap_or_default();
            let (o, eff) = esim::on_confirm(
                order,
                attempt,
                code,
                replayed,
                es.expiry.map(|d| d.as_millis() as u64),
                &policy,
                inner.jitter(),
                inner.clock.now_ms(),
            );
            if o.esim.as_ref().and_then(|e| e.expires_at_ms).is_some() {
                inner.esim_wake.notify_one();
            }
            (o, eff, summary)
        }
        Es2Call::Cancel => {
            let final_status = match e.fate {
                Some(crate::order::ProfileFate::Retire) => FinalProfileStatus::Unavailable,
                _ => FinalProfileStatus::Available,
            };
            let confirmed = !matches!(e.confirm, crate::order::Step::Pending);
            let r = es
                .client
                .cancel_order(&CancelOrderRequest {
                    header,
                    iccid: order.iccid.clone(),
                    eid: e.eid.clone(),
                    matching_id: confirmed.then(|| matching_id.clone()),
                    final_profile_status_indicator: final_status,
                })
                .await;
            let summary = observe_es2(inner, &r, started);
            let (o, eff) = esim::on_cancel(
                order,
                attempt,
                r.as_ref().map(|_| ()).map_err(Es2Failure::from),
                &policy,
                inner.jitter(),
                inner.clock.now_ms(),
            );
            (o, eff, summary)
        }
    };
    drop(permit);
    record_answer(inner, next, effect, StepKind::Es2(call), attempt, summary).await
}

/// Records metrics for an ES2+ answer and returns its one-line summary for the event log.
fn observe_es2<T>(
    inner: &Inner,
    result: &Result<T, Es2CallError>,
    started: tokio::time::Instant,
) -> String {
    let m = &inner.metrics;
    count_call(
        &m.es2_latency,
        [&m.es2_ok, &m.es2_retryable, &m.es2_permanent],
        started,
        result.as_ref().err().map(Es2CallError::retryable),
    );
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

/// Runs a durable-deadline timer until the engine stops: sleeps until the earliest
/// deadline `next` reads from the store (at most `idle`, or until `wake`), and calls
/// `fire(now)` whenever one is due.
async fn deadline_loop<N, F, Fut>(
    inner: &Inner,
    what: &str,
    idle: Duration,
    wake: &Notify,
    next: N,
    mut fire: F,
) where
    N: Fn(&Inner) -> Result<Option<u64>, StoreError>,
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut stop = inner.stop.subscribe();
    loop {
        let now = inner.clock.now_ms();
        let wake_at = match next(inner) {
            Ok(Some(at)) if at <= now => {
                fire(now).await;
                continue;
            }
            Ok(Some(at)) => inner
                .clock
                .instant_at(at)
                .min(tokio::time::Instant::now() + idle),
            Ok(None) => tokio::time::Instant::now() + idle,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read {what} deadlines");
                tokio::time::Instant::now() + Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(wake_at) => {}
            () = wake.notified() => {}
            _ = stop.changed() => return,
        }
    }
}
