//! The PostgreSQL store backend, for several gateway nodes sharing one database (and, by
//! keeping to what CockroachDB also speaks, a distributed SQL engine without a code
//! change). Each write method is one SERIALIZABLE transaction run by `retry.rs`, retried
//! on serialization failures; reads are single statements on a pooled connection.
//!
//! Layout: `migrate.rs` and `migrations/` (the schema, which says per table which embedded
//! table it replaces); `retry.rs` (the transaction runner and `Tx`); the primitives the
//! methods share, each taking the attempt's `Tx`: `events.rs` (audit and public events,
//! appended unnumbered), `sequencer.rs` (numbers them under a lease, queues webhooks),
//! `deliveries.rs`, `leases.rs`, `counters.rs` (sharded), `numbers.rs` (state changes and
//! allocation), `sims.rs`, `idempotency.rs`, `pool.rs` (number selection for orders);
//! `codec.rs` (the shared JSON codec); `tls.rs`; and the methods: `reads.rs`, `admin.rs`,
//! `import.rs`, `pool.rs` (reservations, quarantine, expiry); the outbox:
//! `webhook_endpoints.rs`, `delivery_reads.rs`, `delivery_attempts.rs` (deliveries claimed
//! per node under a lease, attempts, redelivery), `low_stock.rs` (the low-stock watch),
//! `outbox_node.rs` (`open` with the sequencer task, the dispatcher's waker), `status.rs`
//! (the pool and the sequencer's backlog for the metrics page); and the order
//! methods: `activation.rs` (create_activation), `group.rs` (group transactions, of
//! plain sales' creates, `create_group.rs`, and of activations' advances,
//! `advance_group.rs`, each run in a task of its own with a `committer.rs` handle),
//! `lifecycle.rs` (create_lifecycle), `advance.rs` (advance_order) with `finish.rs` (a lifecycle order's outcome on its line),
//! `esim.rs` (notifications, progress, expiry), `order_leases.rs` (lease, claim_orders,
//! renew_leases); their row helpers `orders.rs`, `lines.rs` (subscriptions and their
//! reads), `progress.rs`, `stock.rs` (choosing the card); the administrative methods
//! `rewrap.rs` (key rotation) and the copy: `copy_dump.rs` (the dump as a source),
//! `copy_load.rs` (loading dumped rows), `copy_compliance.rs` (both, for the compliance
//! tables) and `copy_derive.rs` (what `finish_load` derives). Compliance (issue 15):
//! `compliance.rs` (the create commit's checks and writes, validation),
//! `compliance_counters.rs` (the live-line and velocity counters, read with row locks),
//! `create_gate.rs` (one create per store or ID at a time per node, queued in memory),
//! `compliance_admin.rs` (registry and blocklist changes and reads) and `audit_chain.rs`
//! (records appended pending, linked into the chain by the sequencer).
//! The method names, arguments and results are the `Store` trait's.

pub mod activation;
pub mod admin;
mod admin_reads;
pub mod advance;
mod advance_group;
pub mod audit_chain;
mod catch_up;
pub mod codec;
mod committer;
pub mod compliance;
mod compliance_admin;
mod compliance_counters;
mod compliance_impl;
mod copy_compliance;
mod copy_derive;
mod copy_dump;
pub mod copy_load;
pub mod counters;
mod create_gate;
mod create_group;
mod deferred;
pub mod deliveries;
pub mod delivery_attempts;
pub mod delivery_reads;
pub mod esim;
pub mod events;
pub mod finish;
mod group;
mod handset;
pub mod idempotency;
pub mod import;
mod key_cache;
pub mod leases;
pub mod lifecycle;
pub mod lines;
pub mod low_stock;
pub mod migrate;
pub mod numbers;
pub mod order_leases;
pub mod orders;
mod outbox_impl;
pub mod outbox_node;
pub mod pool;
mod ports;
pub mod progress;
pub mod reads;
pub mod retry;
mod reverify;
pub mod rewrap;
pub mod sequencer;
pub mod sims;
mod status;
pub mod stock;
mod store_impl;
pub mod tls;
pub mod webhook_endpoints;

use crate::config::{ConfigError, SslMode, StoreConfig};
use adapters::hlr::BoxFuture;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use migrate::MigrateError;
use retry::{RetryPolicy, RetryStats, Tx, TxResult};
use std::sync::Arc;
use std::time::Duration;

use super::StoreError;

/// Why the PostgreSQL store could not be opened. No variant carries the URL's password.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// `[store]` is incomplete or its URL unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS settings (CA file) are unusable.
    #[error("database TLS: {0}")]
    Tls(String),
    /// No connection could be made.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// The schema could not be brought to this binary's version, or is newer.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
}

/// How long the sequencer lease lasts without renewal.
pub const SEQUENCER_LEASE_MS: u64 = 10_000;
/// How often the sequencer runs without being woken: the longest an event committed on
/// another node waits to be numbered, and how often a node polls for deliveries other
/// nodes made due (`spawn_sequencer`).
pub const EVENT_POLL: Duration = Duration::from_millis(500);
/// Most events numbered per log in one sequencer pass.
pub const SEQUENCER_BATCH: i64 = 500;

/// The PostgreSQL-backed store. Cheap to share behind an `Arc`.
pub struct PgStore {
    pool: Pool,
    policy: RetryPolicy,
    stats: Arc<RetryStats>,
    node: String,
    lease: Duration,
    sequencer_wake: Arc<tokio::sync::Notify>,
    deliveries_wake: Arc<tokio::sync::Notify>,
    /// Set by a commit of this node that changed an inventory counter; the next read of
    /// the event log runs the low-stock watch first (`catch_up.rs`).
    stock_changed: Arc<std::sync::atomic::AtomicBool>,
    /// The sequencer task `open` started, which `close` stops.
    sequencer_task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// One sequencer pass at a time on this node (`sequence_events`).
    sequencer_gate: tokio::sync::Mutex<()>,
    /// One low-stock watch at a time on this node, from its read of the totals to its
    /// commit (`low_stock.rs`): a look with an older read committing after a newer one
    /// would record an old level, and the next look would see the crossing again.
    low_stock_gate: tokio::sync::Mutex<()>,
    /// This node's commits that appended log rows (events, audit records), counted after
    /// each commit (`transaction`).
    local_appends: Arc<std::sync::atomic::AtomicU64>,
    /// How many of [`Self::local_appends`] a pass numbered for certain: the count read
    /// before the last pass that left nothing behind (`catch_up.rs`).
    numbered_through: std::sync::atomic::AtomicU64,
    /// Queues this node's creates that write the same hot rows (`create_gate.rs`).
    create_gate: create_gate::CreateGate,
    /// Activations' advances waiting for a group transaction (`advance_group.rs`).
    advance_groups: advance_group::AdvanceGroups,
    /// Plain physical sales waiting for a group transaction (`create_group.rs`).
    create_groups: create_group::CreateGroups,
    /// API keys this node resolved lately (`key_cache.rs`).
    key_cache: key_cache::KeyCache,
}

impl PgStore {
    /// Connects (a pool of `[store] pool_size`), applies the migrations the database lacks,
    /// and refuses a schema newer than this binary.
    pub async fn connect(cfg: &StoreConfig) -> Result<Self, OpenError> {
        let store = Self::connect_unmigrated(cfg).await?;
        let mut client = store
            .client()
            .await
            .map_err(|e| OpenError::Connect(e.to_string()))?;
        migrate::migrate(&mut client).await?;
        Ok(store)
    }

    /// Connects without touching the schema (`simgw db migrate` reports before it applies).
    pub async fn connect_unmigrated(cfg: &StoreConfig) -> Result<Self, OpenError> {
        let url = cfg.database_url()?;
        let (mode, url) = url.split_sslmode()?;
        let mut pg: tokio_postgres::Config = url.expose().parse().map_err(|_| {
            OpenError::Config(ConfigError::Invalid {
                field: "store.url",
                message: "not a URL the PostgreSQL driver accepts".into(),
            })
        })?;
        pg.ssl_mode(match mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        });
        if pg.get_application_name().is_none() {
            pg.application_name("simgw");
        }
        pg.options(format!("-c statement_timeout={}", cfg.statement_timeout_ms));
        pg.connect_timeout(Duration::from_secs(10));
        let tls = tls::RustlsConnect::new(mode, cfg.ca_file.as_deref()).map_err(OpenError::Tls)?;
        let manager = Manager::from_config(
            pg,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(cfg.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| OpenError::Connect(e.to_string()))?;
        let store = Self {
            pool,
            policy: RetryPolicy::default(),
            stats: Arc::default(),
            node: cfg.node_id_or(u32::from_str_radix(&retry_id()[..8], 16).unwrap_or(0)),
            lease: Duration::from_millis(cfg.lease_ms),
            sequencer_wake: Arc::default(),
            deliveries_wake: Arc::default(),
            stock_changed: Default::default(),
            sequencer_task: Default::default(),
            sequencer_gate: tokio::sync::Mutex::new(()),
            low_stock_gate: tokio::sync::Mutex::new(()),
            local_appends: Default::default(),
            numbered_through: Default::default(),
            create_gate: Default::default(),
            advance_groups: advance_group::groups(group::turns(cfg.pool_size)),
            create_groups: create_group::groups(group::turns(cfg.pool_size)),
            key_cache: Default::default(),
        };
        // Fail now, not at the first request, when the database cannot be reached.
        drop(
            store
                .client()
                .await
                .map_err(|e| OpenError::Connect(e.to_string()))?,
        );
        Ok(store)
    }

    /// Applies the migrations the database lacks: (version before, version after).
    pub async fn migrate(&self) -> Result<(i32, i32), OpenError> {
        let mut client = self
            .client()
            .await
            .map_err(|e| OpenError::Connect(e.to_string()))?;
        let before = migrate::current_version(&client).await?;
        let after = migrate::migrate(&mut client).await?;
        Ok((before, after))
    }

    /// This process's node id (lease owner), random per start unless set.
    pub fn node_id(&self) -> &str {
        &self.node
    }

    /// How long this node's order leases last without renewal (`[store] lease_ms`).
    pub fn lease_time(&self) -> Duration {
        self.lease
    }

    /// The same store with another order lease time (tests).
    pub fn with_lease_time(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The same store under another node id (tests of several nodes in one process).
    pub fn with_node_id(mut self, node: impl Into<String>) -> Self {
        self.node = node.into();
        self
    }

    /// Replaces the retry policy (tests).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Transactions retried and given up, pool waits and sequencer passes so far.
    pub fn retry_stats(&self) -> &RetryStats {
        &self.stats
    }

    /// A pooled connection.
    pub async fn client(&self) -> Result<Object, StoreError> {
        retry::checkout(&self.pool, &self.stats).await
    }

    /// Runs `body` as one SERIALIZABLE transaction, retried on conflicts (`retry::run`);
    /// wakes this node's sequencer when the committed attempt appended events.
    pub async fn transaction<A, T, F>(&self, args: &A, body: F) -> Result<T, StoreError>
    where
        A: Sync + ?Sized,
        F: for<'a> Fn(&'a Tx<'a>, &'a A) -> BoxFuture<'a, TxResult<T>> + Sync,
    {
        self.committer().transaction(args, body).await
    }

    /// Runs `body` once as a read-only REPEATABLE READ transaction (`retry::snapshot`):
    /// for reads whose answer is a hint, which must not take part in SERIALIZABLE
    /// conflicts.
    pub async fn snapshot<A, T, F>(&self, args: &A, body: F) -> Result<T, StoreError>
    where
        A: Sync + ?Sized,
        F: for<'a> Fn(&'a Tx<'a>, &'a A) -> BoxFuture<'a, TxResult<T>> + Sync,
    {
        retry::snapshot(&self.pool, &self.stats, args, body).await
    }

    /// The schema version of the database.
    pub async fn schema_version(&self) -> Result<i32, StoreError> {
        let client = self.client().await?;
        migrate::current_version(&client)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))
    }

    /// One sequencer pass (see `sequencer.rs`); `None` when another node holds the lease.
    ///
    /// Two transactions: the numbering at `retry::Mode::Fenced`, then the webhook
    /// deliveries of what it numbered at SERIALIZABLE. The whole pass at REPEATABLE READ
    /// was tried and is wrong: queueing deliveries reads the webhook endpoints, and an
    /// endpoint deleted meanwhile (with its deliveries) kept one queued for it, a write
    /// skew only SERIALIZABLE sees (store contract `deleting_an_endpoint_drops_its_deliveries`).
    /// The whole pass at SERIALIZABLE made writers fail to serialize with its scans of the
    /// unnumbered events (`simgw bench --store postgres`: README). Each pass is counted by
    /// outcome (`simgw_store_sequencer_passes_total`).
    ///
    /// One pass at a time on this node: the sequencer task, and every reader that
    /// catches up first (the events API, the webhook dispatcher), would otherwise run
    /// passes at once that write the same rows (the lease, the unnumbered events) and
    /// abort one another; under load a pass then gave up after its retries and the read
    /// behind it answered `store_unavailable`. A caller that waited finds what the pass
    /// before it left.
    pub async fn sequence_events(&self) -> Result<Option<sequencer::Numbered>, StoreError> {
        self.pass_unless_numbered(None).await
    }

    /// A sequencer pass, or none (an empty `Numbered`) when `through` is given and this
    /// node's commits up to that count are numbered already (a pass that started after
    /// them, while this caller waited for the gate, left nothing behind).
    pub(super) async fn pass_unless_numbered(
        &self,
        through: Option<u64>,
    ) -> Result<Option<sequencer::Numbered>, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        let _one_pass = self.sequencer_gate.lock().await;
        if through.is_some_and(|t| self.numbered_through.load(SeqCst) >= t) {
            return Ok(Some(sequencer::Numbered::default()));
        }
        // Read before the pass's snapshot: every commit counted here is in it.
        let local = self.local_appends.load(SeqCst);
        let now = crate::clock::Clock::new().now_ms();
        let args = (self.node.as_str(), now);
        let numbered = self
            .committer()
            .fenced(&args, |tx, (node, now)| {
                Box::pin(sequencer::number(
                    tx,
                    node,
                    *now,
                    SEQUENCER_LEASE_MS,
                    SEQUENCER_BATCH,
                ))
            })
            .await;
        let pass = match numbered {
            Ok(Some(n)) => self
                .transaction(&(), |tx, ()| {
                    Box::pin(sequencer::fan_out(tx, SEQUENCER_BATCH))
                })
                .await
                .map(|f| {
                    Some(sequencer::Numbered {
                        fanned_out: usize::try_from(f).unwrap_or(usize::MAX),
                        ..n
                    })
                }),
            other => other,
        };
        let held = pass.as_ref().ok().map(Option::is_some);
        self.stats.passes.record(held);
        if let Ok(Some(n)) = &pass {
            let below = |x: usize| i64::try_from(x).is_ok_and(|x| x < SEQUENCER_BATCH);
            if below(n.public) && below(n.audit) && below(n.chain) && below(n.fanned_out) {
                self.numbered_through.fetch_max(local, SeqCst);
            }
        }
        pass
    }

    /// Numbers every event pending now (when this node holds or can take the lease);
    /// tests and the contract suite call it before reading the event logs.
    pub async fn flush_events(&self) -> Result<(), StoreError> {
        while let Some(n) = self.sequence_events().await? {
            if n.public == 0 && n.audit == 0 && n.chain == 0 && n.fanned_out == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Wakes this node's sequencer (after a local commit that appended events).
    pub fn wake_sequencer(&self) {
        self.sequencer_wake.notify_one();
    }

    /// Runs the sequencer until the task is aborted or the store dropped: a pass whenever
    /// woken or every `interval` (other nodes' events wait at most that long), backing off
    /// on errors. After each pass it checks low stock (`low_stock.rs`) and wakes this
    /// node's webhook dispatcher, which is how a node learns of deliveries other nodes
    /// made due: `interval` is the delivery poll interval too (`EVENT_POLL`).
    pub fn spawn_sequencer(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut watched: Option<tokio::time::Instant> = None;
            while let Some(store) = weak.upgrade() {
                let pass = store.sequence_events().await;
                let watch_due = watched.is_none_or(|at| at.elapsed() >= interval);
                if matches!(pass, Ok(Some(_))) && watch_due {
                    watched = Some(tokio::time::Instant::now());
                    if let Err(e) = store.watch_low_stock().await {
                        tracing::warn!(error = %e, "low-stock check failed");
                    }
                }
                store.deliveries_wake.notify_one();
                let wait = match pass {
                    Ok(Some(n))
                        if n.public as i64 >= SEQUENCER_BATCH
                            || n.audit as i64 >= SEQUENCER_BATCH
                            || n.chain as i64 >= SEQUENCER_BATCH =>
                    {
                        Duration::ZERO
                    }
                    Ok(_) => interval,
                    Err(e) => {
                        tracing::warn!(error = %e, "event sequencer pass failed");
                        interval.saturating_mul(4)
                    }
                };
                if !wait.is_zero() {
                    let wake = Arc::clone(&store.sequencer_wake);
                    drop(store);
                    let _ = tokio::time::timeout(wait, wake.notified()).await;
                }
            }
        })
    }
}

/// A random hex id (32 digits).
fn retry_id() -> String {
    let mut b = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}
