//! Assembly: opens the store and keys, builds the engine and the API, resumes in-flight
//! orders, and serves HTTPS. `Gateway` is what `simgw serve`, the sandbox and the
//! end-to-end tests run.

use crate::api::{self, AppState};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::engine::machine::RetryPolicy;
use crate::engine::{Engine, EngineSettings};
use crate::metrics::Metrics;
use crate::server::Limits;
use crate::store::{Store, StoreAdmin, StoreError};
use crate::tls;
use adapters::hlr::HlrProvisioner;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Data directory or listener IO.
    #[error("{0}")]
    Io(String),
    /// Keys.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// TLS material.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine could not resume an order.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The southbound side.
    #[error("{0}")]
    Southbound(String),
}

/// A running gateway.
pub struct Gateway {
    /// The bound HTTPS address (useful with port 0).
    pub addr: SocketAddr,
    /// The bound ES2+ callback (mutual TLS) address, when eSIM is enabled.
    pub callback_addr: Option<SocketAddr>,
    /// The bound porting hub message (mutual TLS) address, when a hub is configured.
    pub hub_callback_addr: Option<SocketAddr>,
    /// The bound metrics (plain HTTP `GET /metrics`) address, unless switched off.
    pub metrics_addr: Option<SocketAddr>,
    /// The dev CA certificate clients should trust, when one was generated.
    pub ca_cert: Option<PathBuf>,
    /// The store.
    pub store: Arc<dyn StoreAdmin>,
    /// Data keys.
    pub keys: Arc<Keyring>,
    /// The engine.
    pub engine: Engine,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Configuration in force.
    pub config: Arc<Config>,
    state: Arc<AppState>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    dispatcher: JoinHandle<()>,
}

/// Opens the keyring named by the configuration (default `DATA_DIR/keys/data-key`).
pub fn keyring(config: &Config) -> Result<Keyring, StartError> {
    Ok(Keyring::load_or_create(&key_path(config))?)
}

/// Where the data-key file is.
pub fn key_path(config: &Config) -> PathBuf {
    config
        .keys
        .data_key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("keys").join("data-key"))
}

/// Where the ID pepper file is.
pub fn pepper_path(config: &Config) -> PathBuf {
    config
        .keys
        .id_pepper_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("keys").join("id-pepper"))
}

/// The ID hasher (the pepper file, created on first start).
pub fn id_hasher(config: &Config) -> Result<crate::compliance::IdHasher, StartError> {
    crate::compliance::IdHasher::load_or_create(&pepper_path(config))
        .map_err(|e| StartError::Io(e.to_string()))
}

/// The engine's settings from the configuration: retry policy, HLR concurrency, AUC
/// function set, Ki transport wrapping and the SM-DP+; no identity verifier (the caller
/// adds its own). Offline tools that provision as the engine does build theirs here too.
pub fn engine_settings(config: &Config) -> Result<EngineSettings, StartError> {
    let e = &config.engine;
    Ok(EngineSettings {
        policy: RetryPolicy {
            max_attempts: e.max_attempts,
            base_ms: e.backoff_base_ms,
            max_ms: e.backoff_max_ms,
        },
        hlr_concurrency: e.hlr_concurrency,
        fsetind: config.hlr.fsetind,
        ki_wrap: match &config.hlr.transport_key {
            Some(t) => Some(crate::engine::KiWrap {
                cipher: crate::import::load_cipher(t.adkey, &t.cipher, &t.key_file)
                    .map_err(|e| StartError::Southbound(format!("hlr.transport_key: {e}")))?
                    .into(),
                a4ind: t.a4ind,
                adkey: t.adkey,
            }),
            None => None,
        },
        esim: crate::southbound::smdp_from_config(&config.esim)?,
        identity: None,
        porting: None,
    })
}

/// Opens the store the configuration names (the embedded one in `DATA_DIR` by default).
pub async fn open_store(
    config: &Config,
    metrics: Arc<Metrics>,
) -> Result<Arc<dyn StoreAdmin>, StartError> {
    Ok(crate::store::open(config, metrics).await?)
}

/// What the caller made before the gateway starts: listeners bound in advance, because
/// someone had to be told their address first (the sandbox's SM-DP+ simulator learns
/// where to post notifications; binding once and keeping the socket leaves no moment for
/// another process to take it), and peers built in advance (the sandbox's identity
/// verifier, whose simulator's credential exists only in memory).
#[derive(Default)]
pub struct Listeners {
    /// The ES2+ callback listener, instead of binding `[esim] callback_listen`.
    pub callback: Option<TcpListener>,
    /// The identity verifier, instead of the one `[identity]` names.
    pub identity: Option<Arc<dyn adapters::identity::IdentityVerifier>>,
    /// The porting hub, instead of the one `[porting_hub]` names.
    pub porting_hub: Option<Arc<dyn adapters::porting::PortingHub>>,
    /// The hub-message listener, instead of binding `[porting_hub] callback_listen`.
    pub hub_callback: Option<TcpListener>,
}

impl Gateway {
    /// Starts the gateway with the given southbound HLR.
    pub async fn start(config: Config, hlr: Arc<dyn HlrProvisioner>) -> Result<Self, StartError> {
        Self::start_with(config, hlr, Listeners::default()).await
    }

    /// Starts the gateway, serving on the listeners given where there are some.
    pub async fn start_with(
        mut config: Config,
        hlr: Arc<dyn HlrProvisioner>,
        bound: Listeners,
    ) -> Result<Self, StartError> {
        config.validate()?;
        if config.listen.port() == 0 {
            // A gateway on an ephemeral port (tests, several instances) must not contend
            // for the side listeners' fixed defaults either.
            config.ephemeral_side_listeners();
        }
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| StartError::Io(format!("data dir {}: {e}", config.data_dir.display())))?;
        let config = Arc::new(config);
        let metrics = Arc::new(Metrics::default());
        let keys = Arc::new(keyring(&config)?);
        let id_hasher = Arc::new(id_hasher(&config)?);
        let store = open_store(&config, metrics.clone()).await?;
        let northbound = tls::northbound(&config.tls, &config.data_dir)?;
        let clock = Clock::new();
        let mut settings = engine_settings(&config)?;
        settings.identity = match bound.identity {
            Some(v) => Some(v),
            None => crate::southbound::identity_from_config(&config.identity)?,
        }
        .map(|verifier| crate::engine::IdentitySettings {
            verifier,
            give_up_after: Duration::from_secs(config.identity.give_up_after_secs),
            concurrency: config.identity.concurrency,
            before_create_wait: Duration::from_millis(config.identity.before_create_wait_ms),
        });
        settings.porting = match bound.porting_hub {
            Some(h) => Some(h),
            None => crate::southbound::porting_hub_from_config(
                &config.porting_hub,
                config.engine.hlr_concurrency,
            )?,
        }
        .map(|hub| crate::engine::PortingSettings {
            hub,
            recipient: config.porting_hub.recipient.clone(),
            permits: Arc::new(tokio::sync::Semaphore::new(
                config.porting_hub.concurrency.max(1),
            )),
        });
        let dyn_store: Arc<dyn Store> = store.clone();
        let engine = Engine::new(
            dyn_store.clone(),
            hlr.clone(),
            keys.clone(),
            settings,
            clock,
            metrics.clone(),
        );
        let state = Arc::new(AppState {
            store: dyn_store.clone(),
            engine: engine.clone(),
            keys: keys.clone(),
            id_hasher,
            metrics: metrics.clone(),
            config: config.clone(),
            clock,
            ready: false.into(),
            import_observer: std::sync::OnceLock::new(),
            reconciler: Arc::new(crate::reconcile::Reconciler::new(
                store.clone(),
                hlr,
                engine.clone(),
                crate::reconcile::DEFAULT_CONCURRENCY,
            )),
        });
        let listener = bind(config.listen, "listen")?;
        let addr = local_addr(&listener)?;
        let metrics_listener = match config.metrics_listen() {
            Some(a) => Some(bind(a, "metrics.listen")?),
            None => None,
        };
        let rolled_back = store.recover_imports().await?;
        if rolled_back > 0 {
            tracing::warn!(
                rolled_back,
                "removed batch imports a crash left unfinished; import those files again"
            );
        }
        let resumed = engine.resume_all().await?;
        if resumed > 0 {
            tracing::info!(resumed, "resumed in-flight orders");
        }
        engine.spawn_housekeeping(config.engine.idempotency_ttl());
        engine.spawn_lease_keeper();
        let (stop, stop_rx) = watch::channel(false);
        let dispatcher = start_webhooks(
            &config,
            dyn_store.clone(),
            keys.clone(),
            clock,
            stop_rx.clone(),
        )
        .await?;
        engine.spawn_pool_timer(Duration::from_secs(60));
        engine.spawn_reverify_timer(Duration::from_secs(60));
        let callback_addr = if engine.esim_enabled() {
            engine.spawn_esim_timer(Duration::from_secs(60));
            let listener = match bound.callback {
                Some(l) => l,
                None => bind(config.callback_listen(), "esim.callback_listen")?,
            };
            Some(start_callback_listener(
                &config,
                &northbound.files,
                listener,
                state.clone(),
                stop_rx.clone(),
            )?)
        } else {
            None
        };
        let hub_callback_addr = if engine.porting_enabled() {
            engine.spawn_port_timer(Duration::from_secs(3600));
            let listener = match bound.hub_callback {
                Some(l) => l,
                None => bind(
                    config
                        .porting_hub
                        .callback_listen
                        .unwrap_or(crate::config::DEFAULT_HUB_CALLBACK_LISTEN),
                    "porting_hub.callback_listen",
                )?,
            };
            Some(start_hub_listener(
                &config,
                &northbound.files,
                listener,
                state.clone(),
                stop_rx.clone(),
            )?)
        } else {
            None
        };
        let metrics_addr = match metrics_listener {
            Some(listener) => {
                let a = local_addr(&listener)?;
                tokio::spawn(crate::server::serve(
                    listener,
                    None,
                    api::metrics_router(state.clone()),
                    Limits::from_api(&config.api).with_max_connections(METRICS_CONNECTIONS),
                    stop_rx.clone(),
                    Duration::from_secs(1),
                ));
                tracing::info!(addr = %a, "metrics listening (plain HTTP, GET /metrics)");
                Some(a)
            }
            None => None,
        };
        let server = tokio::spawn(crate::server::serve(
            listener,
            Some(northbound.config),
            api::router(state.clone()),
            Limits::from_api(&config.api),
            stop_rx,
            Duration::from_secs(10),
        ));
        state.ready.store(true, Relaxed);
        tracing::info!(%addr, "simgw listening (HTTPS)");
        Ok(Self {
            addr,
            callback_addr,
            hub_callback_addr,
            metrics_addr,
            ca_cert: northbound.dev_ca.map(|ca| ca.cert_path),
            store,
            keys,
            engine,
            metrics,
            config,
            state,
            stop,
            server,
            dispatcher,
        })
    }

    /// Installs the one observer of API batch imports (the sandbox's SM-DP+ loader);
    /// `false` if one is installed already.
    pub fn observe_imports(&self, observer: Arc<dyn api::ImportObserver>) -> bool {
        self.state.import_observer.set(observer).is_ok()
    }

    /// The reconciler `POST /v1/reconciliations` runs (the sandbox installs its SM-DP+
    /// simulator's status query on it).
    pub fn reconciler(&self) -> &Arc<crate::reconcile::Reconciler> {
        &self.state.reconciler
    }

    /// `https://<addr>` of the API.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Graceful stop: not ready, stop accepting, let in-flight southbound calls answer and
    /// be recorded, log out of the HLR.
    pub async fn shutdown(self) {
        let Self {
            store,
            engine,
            state,
            stop,
            server,
            dispatcher,
            ..
        } = self;
        state.ready.store(false, Relaxed);
        let _ = stop.send(true);
        let _ = server.await;
        // Attempts in flight finish and are recorded by their own tasks; the loop stops.
        let _ = dispatcher.await;
        engine.shutdown(Duration::from_secs(10)).await;
        drop((state, engine));
        // The database (file and lock, or connections) is released when this returns;
        // a task still finishing gets `StoreError::Closed`.
        store.close().await;
    }
}

/// Sets the low-stock threshold and starts the webhook dispatcher (pending deliveries
/// resume: their due times are in the store).
async fn start_webhooks(
    config: &Config,
    store: Arc<dyn Store>,
    keys: Arc<Keyring>,
    clock: Clock,
    stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, StartError> {
    let w = &config.webhooks;
    store
        .set_low_stock_threshold(Some(w.low_stock_threshold))
        .await?;
    let policy = crate::webhooks::UrlPolicy {
        allow_private: w.allow_private,
        sandbox: w.sandbox,
    };
    let transport = crate::webhooks::HttpTransport::new(
        policy,
        w.ca_file.as_deref(),
        Duration::from_millis(w.timeout_ms),
        w.concurrency,
    )
    .map_err(|e| StartError::Io(format!("[webhooks] ca_file: {e}")))?;
    let dispatcher = crate::webhooks::Dispatcher {
        store,
        keys,
        transport: Arc::new(transport),
        clock,
        concurrency: w.concurrency,
    };
    Ok(dispatcher.spawn(stop))
}

/// Most connections the metrics and the ES2+ callback listeners hold: each has one
/// client (a scraper; the SM-DP+).
const METRICS_CONNECTIONS: usize = 64;
const CALLBACK_CONNECTIONS: usize = 256;

fn bind(addr: SocketAddr, key: &str) -> Result<TcpListener, StartError> {
    crate::server::bind(addr)
        .map_err(|e| StartError::Io(format!("cannot listen on {addr} ({key}): {e}")))
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|e| StartError::Io(e.to_string()))
}

/// Who may call a peer-facing listener and what it serves: the peer's client CA
/// (required), its pins, the router, and names for errors and the log.
struct PeerListener<'a> {
    ca_file: Option<&'a PathBuf>,
    pins: &'a [String],
    router: axum::Router,
    missing_ca: &'static str,
    what: &'static str,
}

/// Serves a listener for one peer's calls (the SM-DP+'s notifications, the porting hub's
/// messages): mutual TLS admitting only certificates of the peer's CA (pinned if pins
/// are given), served with the northbound certificate.
fn start_peer_listener(
    config: &Config,
    files: &(PathBuf, PathBuf),
    listener: TcpListener,
    peer: PeerListener<'_>,
    stop: watch::Receiver<bool>,
) -> Result<SocketAddr, StartError> {
    let ca_path = peer
        .ca_file
        .ok_or_else(|| StartError::Southbound(peer.missing_ca.into()))?;
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|err| StartError::Io(format!("{}: {err}", p.display())))
    };
    let tls = tls::mutual_server_config(
        &read(&files.0)?,
        &zeroize::Zeroizing::new(read(&files.1)?),
        &read(ca_path)?,
        tls::parse_pins(peer.pins)?,
        ca_path,
    )?;
    let addr = local_addr(&listener)?;
    tokio::spawn(crate::server::serve(
        listener,
        Some(Arc::new(tls)),
        peer.router,
        Limits::from_api(&config.api).with_max_connections(CALLBACK_CONNECTIONS),
        stop,
        Duration::from_secs(5),
    ));
    tracing::info!(%addr, "{} (mutual TLS)", peer.what);
    Ok(addr)
}

/// Serves the ES2+ callback listener: only the SM-DP+'s certificate (`[esim]
/// callback_client_ca_file`, pinned by `callback_client_sha256` if given).
fn start_callback_listener(
    config: &Config,
    files: &(PathBuf, PathBuf),
    listener: TcpListener,
    state: Arc<AppState>,
    stop: watch::Receiver<bool>,
) -> Result<SocketAddr, StartError> {
    let e = &config.esim;
    let peer = PeerListener {
        ca_file: e.callback_client_ca_file.as_ref(),
        pins: &e.callback_client_sha256,
        router: api::es2_callback::router(state),
        missing_ca: "[esim] smdp_url is set but `callback_client_ca_file` (who may post notifications) is not",
        what: "ES2+ callback listener",
    };
    start_peer_listener(config, files, listener, peer, stop)
}

/// Serves the hub-message listener: only the porting hub's certificate (`[porting_hub]
/// callback_client_ca_file`, pinned by `callback_client_sha256` if given).
fn start_hub_listener(
    config: &Config,
    files: &(PathBuf, PathBuf),
    listener: TcpListener,
    state: Arc<AppState>,
    stop: watch::Receiver<bool>,
) -> Result<SocketAddr, StartError> {
    let h = &config.porting_hub;
    let peer = PeerListener {
        ca_file: h.callback_client_ca_file.as_ref(),
        pins: &h.callback_client_sha256,
        router: api::hub_messages::router(state),
        missing_ca: "a porting hub is configured but `[porting_hub] callback_client_ca_file` (who may post hub messages) is not",
        what: "porting hub message listener",
    };
    start_peer_listener(config, files, listener, peer, stop)
}
