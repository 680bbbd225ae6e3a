//! The order engine: a pure state machine (`machine`, with its eSIM half in `esim`) and
//! the tokio driver that performs its decisions. One task drives each in-flight order; a
//! semaphore bounds the calls in flight towards the host operator so its HLR is never
//! flooded.
//!
//! Code map: this file holds the [`Engine`] handle and its settings; `driver` runs one
//! order (persist, call, record) with HLR steps; `identity_step` verifies an activation's
//! subscriber (its request built by `identity_request`); `es2_step` builds and makes ES2+ calls;
//! `subscriber` opens an order's keys into the southbound spec; `observe` counts calls and
//! `report` logs and counts what each answer changed (failures, attention reasons);
//! `timers` owns the durable-deadline timers and housekeeping.
//!
//! Architecture invariant: the driver persists every decision before acting on it, and
//! reads time only through [`Clock`] (tokio's clock), so paused-clock tests see every timer.

mod driver;
mod error;
mod es2_step;
mod identity_request;
mod identity_step;
mod leases;
pub mod machine;
mod observe;
mod port_onward;
mod port_step;
mod report;
pub mod requests;
mod reverify_timer;
mod saga_step;
mod second_check;
mod subscriber;
mod timers;

use crate::clock::Clock;
use crate::crypto::Keyring;
use crate::metrics::Metrics;
use crate::order::Order;
use crate::store::{Store, StoreError};
use adapters::es2plus::{Fqdn, SmdpClient};
use adapters::hlr::HlrProvisioner;
use adapters::identity::IdentityVerifier;
pub use error::EngineError;
pub use identity_request::{Asker, verification_request};
use machine::RetryPolicy;
pub use port_onward::ItemInput;
pub use port_step::{PortingSettings, SealedCredential};
use ring::rand::{SecureRandom, SystemRandom};
pub use second_check::{LineCheck, SecondCheckError};
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
    /// The identity verification service activations are verified with; `None`: none
    /// (an order whose policy requires identity then fails `identity_service_unavailable`,
    /// any other skips the check).
    pub identity: Option<IdentitySettings>,
    /// The porting hub port-ins go to; `None`: port-in orders wait at their submit step
    /// (retrying) until one is configured.
    pub porting: Option<PortingSettings>,
}

/// How the engine reaches the tenant's identity verification service.
#[derive(Clone)]
pub struct IdentitySettings {
    /// The verifier.
    pub verifier: Arc<dyn IdentityVerifier>,
    /// An order keeps retrying an unavailable verifier at most this long from its first
    /// attempt (and at most `policy.max_attempts` times); the deadline is stored on the
    /// order, so a restart does not extend it.
    pub give_up_after: Duration,
    /// Most verification calls in flight.
    pub concurrency: usize,
    /// How long the API waits for the verifier before an order's create commit
    /// (`Engine::verify_before_create`); zero: never asked before.
    pub before_create_wait: Duration,
}

impl std::fmt::Debug for IdentitySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitySettings")
            .field("give_up_after", &self.give_up_after)
            .field("concurrency", &self.concurrency)
            .field("before_create_wait", &self.before_create_wait)
            .finish_non_exhaustive()
    }
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
    identity_permits: Semaphore,
    settings: EngineSettings,
    clock: Clock,
    metrics: Arc<Metrics>,
    rng: SystemRandom,
    stop: watch::Sender<bool>,
    running: AtomicUsize,
    /// Ids of the orders this engine drives now (one task each).
    driving: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Orders another node claimed while this one drove them: their tasks stop.
    lost: std::sync::Mutex<std::collections::HashSet<String>>,
    idle: Notify,
    pool_wake: Notify,
    esim_wake: Notify,
    port_wake: Notify,
    /// Orders submitted while their task was still ending: submitted again after it.
    again: std::sync::Mutex<std::collections::HashSet<String>>,
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
                identity_permits: Semaphore::new(
                    settings
                        .identity
                        .as_ref()
                        .map_or(1, |i| i.concurrency.max(1)),
                ),
                settings,
                clock,
                metrics,
                rng: SystemRandom::new(),
                stop,
                running: AtomicUsize::new(0),
                driving: Default::default(),
                lost: Default::default(),
                idle: Notify::new(),
                pool_wake: Notify::new(),
                esim_wake: Notify::new(),
                port_wake: Notify::new(),
                again: Default::default(),
            }),
        }
    }

    /// Starts driving an order read back from the store (resumed, woken by a timer or a
    /// message; already durable), unless this engine drives it already. A call it holds
    /// as sent is made again as a new attempt.
    pub fn submit(&self, order: Order) {
        self.start(order, false);
    }

    /// Starts driving an order as its create commit returned it: a first call that the
    /// commit recorded as sent (`send_ahead` in the store's create) is made as that
    /// attempt, with no commit of its own.
    pub fn submit_created(&self, order: Order) {
        self.start(order, true);
    }

    /// Starts driving a parked port order as the store's commit that recorded a port item
    /// returned it, back in flight (`PortReceived::Queued`): a call that commit recorded as
    /// sent (`ItemInput::on_arrival`) is made as that attempt, with no commit of its own.
    pub fn submit_woken(&self, order: Order) {
        self.start(order, true);
    }

    /// Reports a port that an arriving item ended in the commit that recorded it
    /// (`PortReceived::Ended`): the log and the metrics an ending the engine wrote gets.
    pub fn ended_on_arrival(&self, ended: &crate::store::Ended) {
        let before = report::Before::from_parts(ended.before.clone());
        report::report(&self.inner.metrics, &before, &ended.order, &ended.effect);
    }

    fn start(&self, order: Order, presented: bool) {
        let inner = self.inner.clone();
        if !inner.lock_driving().insert(order.id.clone()) {
            // Its task may be ending (a port just parked as an item woke it): drive it
            // again once that task is done.
            inner.lock_again().insert(order.id.clone());
            return;
        }
        inner.running.fetch_add(1, Relaxed);
        inner.metrics.orders_inflight.fetch_add(1, Relaxed);
        inner.metrics.backlog.enter(&order.tenant);
        tokio::spawn(async move {
            let id = order.id.clone();
            let tenant = order.tenant.clone();
            let result = driver::drive(&inner, order, presented).await;
            if let Err(e) = &result {
                tracing::warn!(order = %id, error = %e, "order paused; it resumes at the next start (on a shared database, on another node once its lease lapses)");
            }
            inner.lock_driving().remove(&id);
            inner.lock_lost().remove(&id);
            if inner.lock_again().remove(&id) && !inner.stopping() {
                match inner.store.get_order(&tenant, &id).await {
                    Ok(Some(o)) if !o.status.is_terminal() && o.port_parked().is_none() => {
                        Engine {
                            inner: inner.clone(),
                        }
                        .submit(o);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(order = %id, error = %e, "order not read again; it resumes at the next start")
                    }
                }
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

    /// Resumes the orders in flight that no node drives: at start, every order the
    /// process left in flight (the embedded store), or those whose lease lapsed (a store
    /// shared by several nodes, where [`Engine::spawn_lease_keeper`] keeps claiming).
    pub async fn resume_all(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        loop {
            let orders = self
                .inner
                .store
                .claim_orders(self.inner.clock.now_ms(), CLAIM_PAGE)
                .await?;
            let page = orders.len();
            for o in orders {
                if self.inner.lock_driving().contains(&o.id) {
                    continue;
                }
                n += 1;
                self.inner.metrics.orders_resumed.fetch_add(1, Relaxed);
                self.submit(o);
            }
            // A store without leases returns every order in flight at once.
            if page < CLAIM_PAGE || self.inner.store.lease().is_none() {
                return Ok(n);
            }
        }
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
    pub async fn subscriber_spec(
        &self,
        order: &Order,
    ) -> Result<adapters::hlr::SubscriberSpec, EngineError> {
        self.inner.spec(order).await
    }

    /// What the HLR holds for `line` on behalf of order or line `owner` (keys opened in
    /// memory only; `owner` only names the culprit of an error): reconciliation compares
    /// it with the AUC and provisions or removes with it, as the engine's own steps do.
    pub async fn line_spec(
        &self,
        owner: &str,
        line: &crate::order::Line,
    ) -> Result<adapters::hlr::SubscriberSpec, EngineError> {
        self.inner.line_spec(owner, line).await
    }

    /// Performs one saga operation of `order` on `hlr` (keys opened in memory
    /// only), for a caller that rebuilds an HLR outside the engine by replaying what the
    /// orders recorded as done.
    pub async fn perform_on(
        &self,
        hlr: &dyn HlrProvisioner,
        order: &Order,
        op: &crate::order::SagaOp,
    ) -> Result<Result<machine::StepDone, machine::StepFailure>, EngineError> {
        Ok(saga_step::perform(&self.inner, hlr, order, op, 1).await?.0)
    }

    /// Whether eSIM orders can be served (an SM-DP+ is configured).
    pub fn esim_enabled(&self) -> bool {
        self.inner.settings.esim.is_some()
    }

    /// Whether port-in orders can be served (a porting hub is configured).
    pub fn porting_enabled(&self) -> bool {
        self.inner.settings.porting.is_some()
    }

    /// The porting hub, if one is configured (the port-out intake answers a request it
    /// cannot open an order for directly).
    pub fn porting_hub(&self) -> Option<Arc<dyn adapters::porting::PortingHub>> {
        self.inner.settings.porting.as_ref().map(|p| p.hub.clone())
    }

    /// Whether subscribers can be verified (an identity verifier is configured). Without
    /// one, an order whose policy requires identity fails `identity_service_unavailable`
    /// after it was accepted; the API should refuse it at creation instead.
    pub fn identity_enabled(&self) -> bool {
        self.inner.settings.identity.is_some()
    }

    /// Whether the API asks the verifier before an order's create commit
    /// ([`Engine::verify_before_create`]).
    pub fn verifies_before_create(&self) -> bool {
        self.inner
            .settings
            .identity
            .as_ref()
            .is_some_and(|s| !s.before_create_wait.is_zero())
    }
}

/// Orders claimed per store call when resuming.
const CLAIM_PAGE: usize = 256;

impl Inner {
    fn lock_driving(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.driving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_again(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.again
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_lost(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.lost
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether another node claimed `order` while this one drove it.
    fn lost_lease(&self, order: &str) -> bool {
        self.lock_lost().contains(order)
    }

    fn jitter(&self) -> u32 {
        let mut b = [0u8; 4];
        // A failed random source only makes the jitter deterministic, never unsafe.
        let _ = self.rng.fill(&mut b);
        u32::from_le_bytes(b)
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }
}
