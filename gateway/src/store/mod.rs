//! The storage boundary the engine and API need, kept to domain operations (not key/value
//! access) so that a PostgreSQL implementation can sit behind the same trait later: each
//! method is one transaction there, exactly as it is one group-committed write here.
//!
//! Architecture invariant: a method returns only after its changes are durable (fsync'd).

mod compliance_port;
pub mod copy;
pub mod dump;
pub mod embedded;
mod outbox_port;
mod porting_port;
pub mod postgres;
mod records;
pub mod sealed;

pub use compliance_port::ComplianceStore;
pub use outbox_port::OutboxStore;
pub use porting_port::{CredentialIssue, PortingStore};
pub use records::*;

use crate::crypto::Keyring;
use crate::order::{Effect, Order, OrderStatus};
use adapters::hlr::BoxFuture;
use sim_profiles::Iccid;

/// Why a store operation failed. Business rejections are not errors (see [`Rejection`]).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database failed (IO, corruption, full disk). Nothing of the operation applied.
    #[error("storage failure: {0}")]
    Backend(String),
    /// The writer task is gone (shutting down).
    #[error("store is shut down")]
    Closed,
    /// Another process holds the store (its file lock): one process owns a data dir.
    #[error(
        "the store is in use by another process (a running simgw?); stop it or use another data dir"
    )]
    Locked,
    /// The database cannot be reached or has no connection to spare (PostgreSQL down,
    /// pool exhausted, a statement timed out). Nothing of the operation applied; the
    /// caller may retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The order changed under us (another writer advanced it): reload and retry.
    #[error("order {0} was modified concurrently")]
    Conflict(String),
    /// A record could not be decoded (schema mismatch).
    #[error("corrupt record in {table}: {message}")]
    Corrupt {
        /// Which table.
        table: &'static str,
        /// What failed.
        message: String,
    },
}

/// Metadata key of the sealed sandbox marker (holds the sandbox API key). Defined here, not
/// in the sandbox, because key rotation re-seals it in every build.
pub const SANDBOX_MARKER: &str = "sandbox.v1";

/// Metadata key of the sealed marker naming the sandbox's market tenants' keys (here for
/// the same reason).
pub const SANDBOX_MARKETS_MARKER: &str = "sandbox.markets.v1";

/// A transition the store applies to an order inside its own commit (the engine supplies
/// it, so the store never imports the engine).
pub type Reopen = fn(Order, u64) -> Order;

/// The gateway's durable state (with its compliance, outbox and porting parts,
/// [`ComplianceStore`], [`OutboxStore`] and [`PortingStore`], which every backend
/// implements beside it).
pub trait Store: ComplianceStore + OutboxStore + PortingStore + Send + Sync {
    /// Creates an activation order atomically: checks the idempotency key, reserves the SIM
    /// and a number, inserts the order and its idempotency record and logs the event.
    /// Either all of that is durable on return, or nothing changed.
    fn create_activation(
        &self,
        new: NewActivation,
    ) -> BoxFuture<'_, Result<CreateOutcome, StoreError>>;

    /// Persists the next version of an order (optimistic check on `version - 1`), applies
    /// its inventory effect and appends `event` to the event log, in one commit.
    fn advance_order(
        &self,
        order: Order,
        effect: Effect,
        event: EventKind,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Creates a lifecycle order on a line atomically: checks the idempotency key, that
    /// the line is the tenant's and has no order in flight, reserves what the order needs
    /// (a new card, a new number), plans it with `new.plan`, and marks the line busy.
    fn create_lifecycle(
        &self,
        new: NewLifecycle,
    ) -> BoxFuture<'_, Result<LifecycleOutcome, StoreError>>;

    /// The tenant's line holding `msisdn`; `None` if none (or another tenant's).
    fn subscription<'a>(
        &'a self,
        tenant: &'a str,
        msisdn: &'a str,
    ) -> BoxFuture<'a, Result<Option<Subscription>, StoreError>>;

    /// A page of the tenant's lines in id order (stable under inserts), filtered.
    fn subscriptions<'a>(
        &'a self,
        tenant: &'a str,
        query: &'a SubscriptionQuery,
    ) -> BoxFuture<'a, Result<SubscriptionPage, StoreError>>;

    /// Reads an order of any kind; `None` if absent or owned by another tenant.
    fn get_order<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Order>, StoreError>>;

    /// The idempotency record of an activation request (a read; no commit), so a request
    /// refused before reaching `create_activation` can still be answered as a replay.
    fn activation_idempotency<'a>(
        &'a self,
        tenant: &'a str,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<IdempotencyRecord>, StoreError>>;

    /// Every order not yet `active` or `failed` (reconciliation; the engine resumes
    /// orders through [`Store::claim_orders`]).
    fn inflight_orders(&self) -> BoxFuture<'_, Result<Vec<Order>, StoreError>>;

    // Ownership of orders when several gateway nodes share the store. Each order in
    // flight is driven by one node, under a lease that node renews; a node that stops
    // renewing loses its orders to the next node that claims, which resumes them exactly
    // as a restart does (a step recorded `sent` is sent again; the adapters make that
    // safe). The optimistic version check of `advance_order` is what makes a node that
    // lost its lease unable to record anything more: leases decide who drives, versions
    // decide what is written.

    /// `Some(lease time)` when several nodes may share this store: orders are then
    /// driven under leases of that length, renewed at a third of it. `None` (the
    /// embedded store, held by one process through its file lock): every order in flight
    /// is this process's.
    fn lease(&self) -> Option<std::time::Duration> {
        None
    }

    /// Takes over orders in flight that no node holds (never leased, or their lease
    /// lapsed before `now_ms`) for this node, at most `limit`; an order this call returns
    /// is this node's to drive. A store without leases returns every order in flight.
    /// Orders this node creates (`create_activation`, `create_lifecycle`) or reopens
    /// (`expire_esim`) are leased to it in the same commit.
    fn claim_orders(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>>;

    /// Extends this node's leases on `ids` (orders it drives) from `now_ms`; returns the
    /// ids it no longer holds (another node claimed them): their drivers stop.
    fn renew_leases<'a>(
        &'a self,
        ids: &'a [String],
        now_ms: u64,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>>;

    /// A SIM record (keys stay sealed).
    fn get_sim<'a>(
        &'a self,
        iccid: &'a Iccid,
    ) -> BoxFuture<'a, Result<Option<SimRecord>, StoreError>>;

    /// Resolves an API key hash to its record.
    fn api_key<'a>(
        &'a self,
        hash: &'a [u8; 32],
    ) -> BoxFuture<'a, Result<Option<ApiKeyRecord>, StoreError>>;

    /// A tenant.
    fn tenant<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Tenant>, StoreError>>;

    /// Events with sequence number >= `from`, at most `limit`.
    fn events(&self, from: u64, limit: usize) -> BoxFuture<'_, Result<Vec<Event>, StoreError>>;

    /// Inventory counts of one tenant.
    fn inventory_counts<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<InventoryCounts, StoreError>>;

    /// Applies an administrative change (tenant, key, inventory load) atomically.
    fn admin(&self, change: AdminChange) -> BoxFuture<'_, Result<AdminOutcome, StoreError>>;

    /// Deletes idempotency records created before `before_ms`; returns how many.
    fn prune_idempotency(&self, before_ms: u64) -> BoxFuture<'_, Result<usize, StoreError>>;

    /// A small metadata value (e.g. sandbox seeding state).
    fn meta<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;

    /// Holds a number for a checkout until the TTL lapses (idempotent by key and body).
    fn create_reservation(
        &self,
        new: NewReservation,
    ) -> BoxFuture<'_, Result<ReservationOutcome, StoreError>>;

    /// Ends a hold before its time (a store clerk abandoned the sale): the number goes
    /// back to the pool and the hold lapses now. `false`, nothing changed: no such hold
    /// of the tenant, or it lapsed or was used already.
    fn release_reservation<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// A page of the tenant's free numbers, ordinary and golden, in number order after
    /// `after`, at most `limit` (a clerk picks one).
    fn free_numbers<'a>(
        &'a self,
        tenant: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<(sim_profiles::Msisdn, NumberClass)>, StoreError>>;

    /// A reservation of the tenant.
    fn get_reservation<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Reservation>, StoreError>>;

    /// A batch import record.
    fn batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<BatchRecord>, StoreError>>;

    /// Records a batch as importing (rolling back an unfinished earlier attempt first).
    fn import_begin<'a>(
        &'a self,
        batch: &'a BatchRecord,
    ) -> BoxFuture<'a, Result<ImportStart, StoreError>>;

    /// Writes one chunk of an importing batch's SIMs (each with its file line) in one
    /// durable commit, all but those that clash with inventory or with earlier lines of the
    /// same file; returns the clashes by position.
    fn import_chunk<'a>(
        &'a self,
        batch_id: &'a str,
        sims: &'a [(SimRecord, usize)],
    ) -> BoxFuture<'a, Result<Vec<(usize, Clash)>, StoreError>>;

    /// Completes a batch of `cards` SIMs: they become counted stock in one commit.
    fn import_finish<'a>(
        &'a self,
        batch_id: &'a str,
        cards: u64,
        now_ms: u64,
    ) -> BoxFuture<'a, Result<BatchRecord, StoreError>>;

    /// Abandons an importing batch: removes what it wrote.
    fn import_abort<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Removes batches a crash left importing; returns how many.
    fn recover_imports(&self) -> BoxFuture<'_, Result<usize, StoreError>>;

    /// A batch's SIMs in ICCID order, at most `limit` after `after` (export pages).
    fn batch_sims<'a>(
        &'a self,
        batch_id: &'a str,
        after: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SimRecord>, StoreError>>;

    /// The SIM with this IMSI.
    fn sim_by_imsi<'a>(
        &'a self,
        imsi: &'a sim_profiles::Imsi,
    ) -> BoxFuture<'a, Result<Option<SimRecord>, StoreError>>;

    /// A tenant's quarantined numbers with their release time, soonest first.
    fn quarantined<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<(sim_profiles::Msisdn, u64)>, StoreError>>;

    /// Counts per number pool (block) and per SIM batch: scope → counter name → count.
    fn inventory_breakdown<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Breakdown, StoreError>>;

    /// Every tenant id (metrics).
    fn tenant_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;

    /// The backend's connection pool and event sequencer backlog, read now for the
    /// metrics page, off the request path (PostgreSQL: a plain read, no serializable
    /// transaction). `None`: the backend has neither (the embedded store).
    fn backend_status(&self) -> BoxFuture<'_, Option<BackendStatus>> {
        Box::pin(async { None })
    }

    /// The earliest checkout-hold or quarantine deadline, if any (a read; no commit).
    fn next_pool_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>>;

    /// Returns lapsed holds and aged quarantine (deadlines at or before `now_ms`) to the pool.
    fn expire_due(&self, now_ms: u64) -> BoxFuture<'_, Result<Expired, StoreError>>;

    /// Starts the quarantine of an assigned number (termination, port-out).
    fn quarantine_number(
        &self,
        tenant: &str,
        msisdn: &sim_profiles::Msisdn,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Ends a number's quarantine early (operator decision).
    fn release_quarantine(
        &self,
        tenant: &str,
        msisdn: &sim_profiles::Msisdn,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Records a HandleDownloadProgressInfo durably (raw body included) and, unless it is a
    /// duplicate or not for an order of a served tenant, applies it to the order's progress.
    fn record_notification(
        &self,
        n: NotificationIn,
    ) -> BoxFuture<'_, Result<NotificationOutcome, StoreError>>;

    /// An eSIM order's download progress, if any notification arrived for it.
    fn esim_progress<'a>(
        &'a self,
        order_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<EsimProgress>, StoreError>>;

    /// The earliest download deadline of a released eSIM order (a read; no commit).
    fn next_esim_deadline(&self) -> BoxFuture<'_, Result<Option<u64>, StoreError>>;

    /// Reopens released eSIM orders not downloaded by `now_ms` for cancellation with the
    /// engine's transition `reopen` (in the same commit as the expiry check); returns them
    /// (already durable as `compensating`) for the engine to drive.
    fn expire_esim(
        &self,
        now_ms: u64,
        reopen: Reopen,
    ) -> BoxFuture<'_, Result<Vec<Order>, StoreError>>;
}

/// What operators' tools, the sandbox and the benchmark need of a backend beyond the
/// gateway's own operations. Each backend implements it, so nothing outside a backend
/// names its type: they hold an `Arc<dyn StoreAdmin>` from [`open`].
pub trait StoreAdmin: Store {
    /// Re-seals every sealed value under the keyring's current key, `chunk` values per
    /// commit, stopping after `max_chunks` commits if given (a later pass resumes).
    fn rewrap<'a>(
        &'a self,
        keys: &'a Keyring,
        chunk: usize,
        max_chunks: Option<u64>,
    ) -> BoxFuture<'a, Result<RewrapReport, StoreError>>;

    /// How many sealed values each data key (by id) seals.
    fn sealed_key_usage(
        &self,
    ) -> BoxFuture<'_, Result<std::collections::BTreeMap<String, u64>, StoreError>>;

    /// The block label of a number, if it is in any pool.
    fn number_block<'a>(
        &'a self,
        msisdn: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>>;

    /// ICCIDs of a tenant's available physical SIMs (not eSIM profiles), in ICCID order,
    /// at most `limit` (sandbox listing; may scan).
    fn available_sims<'a>(
        &'a self,
        tenant: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Iccid>, StoreError>>;

    /// A tenant's orders in `status` (sandbox reconciliation; may scan).
    fn orders_with_status<'a>(
        &'a self,
        tenant: &'a str,
        status: OrderStatus,
    ) -> BoxFuture<'a, Result<Vec<Order>, StoreError>>;

    /// Number of entries in the internal event log (tests).
    fn event_count(&self) -> BoxFuture<'_, Result<u64, StoreError>>;

    /// A page of `table` of the backend-neutral dump (`simgw db copy`), after `cursor`
    /// (the previous page's `next`; `None` for the first page), at most `limit` rows.
    fn dump_page<'a>(
        &'a self,
        table: dump::DumpTable,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<dump::DumpPage, StoreError>>;

    /// Writes dumped rows of `table` into this store (a copy's target, which must start
    /// empty), in one transaction. Indexes follow from the rows; counters and anything
    /// else derived wait for [`StoreAdmin::finish_load`]. A backend that is only ever a
    /// copy source refuses.
    fn load_rows<'a>(
        &'a self,
        table: dump::DumpTable,
        rows: &'a [dump::DumpRow],
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Derives what the loaded records imply (inventory counters, sequence positions),
    /// once every table is loaded.
    fn finish_load(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Test support: publishes an event in a commit of its own, as a write path would.
    #[doc(hidden)]
    fn publish_for_test<'a>(
        &'a self,
        now_ms: u64,
        tenant: &'a str,
        event_type: EventType,
        subject: Option<&'a str>,
        data: serde_json::Value,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Finishes queued commits and releases the store (the embedded file and its lock,
    /// the database connections). Later calls fail with [`StoreError::Closed`].
    fn close(&self) -> BoxFuture<'_, ()>;
}

/// Opens the backend the configuration names: the embedded store in the data dir, or
/// PostgreSQL (connected, migrated, its event sequencer started).
pub async fn open(
    config: &crate::config::Config,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> Result<std::sync::Arc<dyn StoreAdmin>, StoreError> {
    match config.store.backend {
        crate::config::StoreBackend::Embedded => {
            Ok(std::sync::Arc::new(embedded::RedbStore::open(
                &config.data_dir,
                config.store.cache_mib,
                config.store.max_batch,
                metrics,
            )?))
        }
        crate::config::StoreBackend::Postgres => {
            let stats = metrics.postgres.clone();
            let store = postgres::PgStore::open_counted(&config.store, stats)
                .await
                .map_err(|e| match e {
                    postgres::OpenError::Connect(m) => StoreError::Unavailable(m),
                    other => StoreError::Backend(other.to_string()),
                })?;
            Ok(store)
        }
    }
}
