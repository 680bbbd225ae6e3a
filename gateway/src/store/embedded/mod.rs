//! The embedded store on redb: ACID, copy-on-write B-trees, and a commit that returns only
//! after fsync. Reads run on any task in their own snapshot; writes go through the single
//! group-commit writer thread (`writer`).

mod apply;
mod esim;
mod free_tree;
mod import;
mod outbox;
mod outbox_read;
mod pool;
mod remove;
mod rewrap;
mod store_impl;
mod subscriptions;
mod subscriptions_read;
mod tables;
mod webhook_cmds;
mod writer;

use crate::metrics::Metrics;
use crate::order::Order;
use crate::store::*;
use ::redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use apply::{backend, dec};
use sim_profiles::Iccid;
use std::path::Path;
use std::sync::Arc;
use tables::*;
use tokio::sync::{mpsc, oneshot};
use writer::{Command, Job, Reply};

pub use import::ImportStart;
pub use rewrap::RewrapReport;

/// Schema version written on creation; checked on open.
const SCHEMA_VERSION: &[u8] = b"1";

/// The redb-backed [`Store`].
pub struct RedbStore {
    db: Arc<Database>,
    tx: mpsc::Sender<Job>,
    writer: std::thread::JoinHandle<()>,
    outbox_wake: Arc<tokio::sync::Notify>,
}

impl RedbStore {
    /// Opens (or creates) `DIR/simgw.redb`, creates missing tables, and starts the writer.
    pub fn open(
        dir: &Path,
        cache_mib: usize,
        max_batch: usize,
        metrics: Arc<Metrics>,
    ) -> Result<Self, StoreError> {
        crate::crypto::make_data_dir_private(dir).map_err(backend)?;
        let path = dir.join(remove::FILE);
        create_private_file(&path).map_err(backend)?;
        let db = Database::builder()
            .set_cache_size(cache_mib * 1024 * 1024)
            .create(&path)
            .map_err(remove::open_error)?;
        let txn = db.begin_write().map_err(backend)?;
        {
            txn.open_table(TENANTS).map_err(backend)?;
            txn.open_table(API_KEYS).map_err(backend)?;
            txn.open_table(SIMS).map_err(backend)?;
            txn.open_table(IMSIS).map_err(backend)?;
            txn.open_table(NUMBERS).map_err(backend)?;
            txn.open_table(FREE_NUMBERS).map_err(backend)?;
            txn.open_table(FREE_TREE).map_err(backend)?;
            txn.open_table(ORDERS).map_err(backend)?;
            txn.open_table(INFLIGHT).map_err(backend)?;
            txn.open_table(IDEMPOTENCY).map_err(backend)?;
            txn.open_table(IDEMPOTENCY_BY_TIME).map_err(backend)?;
            txn.open_table(EVENTS).map_err(backend)?;
            txn.open_table(COUNTERS).map_err(backend)?;
            txn.open_table(RESERVATIONS).map_err(backend)?;
            txn.open_table(RESERVATION_EXPIRY).map_err(backend)?;
            txn.open_table(RESERVATION_IDEM).map_err(backend)?;
            txn.open_table(QUARANTINE).map_err(backend)?;
            txn.open_table(BATCHES).map_err(backend)?;
            txn.open_table(BATCH_SIMS).map_err(backend)?;
            txn.open_table(FREE_ESIM).map_err(backend)?;
            txn.open_table(ESIM_PROGRESS).map_err(backend)?;
            txn.open_table(ESIM_EXPIRY).map_err(backend)?;
            txn.open_table(NOTIFICATIONS).map_err(backend)?;
            txn.open_table(SUBSCRIPTIONS).map_err(backend)?;
            txn.open_table(SUB_BY_MSISDN).map_err(backend)?;
            txn.open_table(SUB_BY_ICCID).map_err(backend)?;
            txn.open_table(SUB_BY_TENANT).map_err(backend)?;
            let mut meta = txn.open_table(META).map_err(backend)?;
            let existing: Option<Vec<u8>> = meta
                .get("schema_version")
                .map_err(backend)?
                .map(|v| v.value().to_vec());
            match existing {
                None => {
                    meta.insert("schema_version", SCHEMA_VERSION)
                        .map_err(backend)?;
                }
                Some(v) if v == SCHEMA_VERSION => {}
                Some(v) => {
                    return Err(StoreError::Backend(format!(
                        "store schema version {} is not supported by this build (expects {})",
                        String::from_utf8_lossy(&v),
                        String::from_utf8_lossy(SCHEMA_VERSION)
                    )));
                }
            }
        }
        free_tree::ensure_free_tree(&txn)?;
        outbox::OutboxTables::create(&txn)?;
        txn.commit().map_err(backend)?;
        let db = Arc::new(db);
        let (tx, rx) = mpsc::channel(max_batch * 4);
        let wdb = db.clone();
        let writer = std::thread::Builder::new()
            .name("simgw-store-writer".into())
            .spawn(move || writer::run(wdb, rx, max_batch, metrics))
            .map_err(backend)?;
        Ok(Self {
            db,
            tx,
            writer,
            outbox_wake: Arc::default(),
        })
    }

    async fn submit(&self, cmd: Command) -> Result<Reply, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { cmd, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        let reply = rx.await.map_err(|_| StoreError::Closed)?;
        // Any commit may have published events with deliveries (cheap: one permit).
        self.outbox_wake.notify_one();
        reply
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&::redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        f(&txn)
    }
}

/// Creates the store file 0600 (redb would create it with the umask's 0644: every field
/// not sealed, e.g. IMSIs and MSISDNs, would be readable by any local user), and tightens
/// a file made by an older version. redb initialises an empty file as a new database.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    drop(opts.open(path)?);
    #[cfg(unix)]
    crate::crypto::set_mode(path, 0o600)?;
    Ok(())
}

fn unexpected(r: Reply) -> StoreError {
    StoreError::Backend(format!("writer answered with the wrong reply: {r:?}"))
}

impl RedbStore {
    /// Closes the store: the writer finishes queued commits and exits, and the database
    /// file (and its lock) is released when this returns.
    pub fn close(self) {
        let Self { db, tx, writer, .. } = self;
        drop(tx);
        if writer.join().is_err() {
            tracing::error!("store writer thread panicked");
        }
        drop(db);
    }

    /// Number of events in the log (tests and metrics).
    pub fn event_count(&self) -> Result<u64, StoreError> {
        self.read(|txn| {
            txn.open_table(EVENTS)
                .map_err(backend)?
                .len()
                .map_err(backend)
        })
    }
}

impl RedbStore {
    /// ICCIDs of a tenant's available physical SIMs (not eSIM profiles), in ICCID order
    /// (sandbox listing; scans).
    pub fn available_sims(&self, tenant: &str, limit: usize) -> Result<Vec<Iccid>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(SIMS).map_err(backend)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(backend)? {
                let (_, v) = row.map_err(backend)?;
                let s: SimRecord = dec("sims", v.value())?;
                if s.tenant == tenant
                    && s.state == SimState::Available
                    && s.esim_profile_type.is_none()
                {
                    out.push(s.iccid);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            Ok(out)
        })
    }
}

impl RedbStore {
    /// A tenant's orders in `status` (sandbox reconciliation; scans the orders table).
    pub fn orders_with_status(
        &self,
        tenant: &str,
        status: crate::order::OrderStatus,
    ) -> Result<Vec<Order>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(ORDERS).map_err(backend)?;
            let mut out = Vec::new();
            for row in t.iter().map_err(backend)? {
                let (_, v) = row.map_err(backend)?;
                let o: Order = dec("orders", v.value())?;
                if o.tenant == tenant && o.status == status {
                    out.push(o);
                }
            }
            Ok(out)
        })
    }
}

impl RedbStore {
    /// Test support: marks a number assigned, as a completed activation would.
    #[doc(hidden)]
    pub fn admin_set_assigned_for_test(
        &self,
        msisdn: &sim_profiles::Msisdn,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut t = apply::Tables::open(&txn)?;
            let tenant = t
                .numbers
                .get(msisdn.as_str())
                .map_err(backend)?
                .map(|v| dec::<NumberRecord>("numbers", v.value()))
                .transpose()?
                .map(|r| r.tenant)
                .ok_or_else(|| StoreError::Corrupt {
                    table: "numbers",
                    message: "no such number".into(),
                })?;
            t.set_number(
                &tenant,
                msisdn,
                NumberState::Assigned {
                    order: "test".into(),
                },
            )?;
        }
        txn.commit().map_err(backend)
    }
}

impl RedbStore {
    /// The block label of a number, if it is in any pool.
    pub fn number_block(&self, msisdn: &str) -> Result<Option<String>, StoreError> {
        self.read(|txn| {
            let t = txn.open_table(NUMBERS).map_err(backend)?;
            t.get(msisdn)
                .map_err(backend)?
                .map(|v| dec::<NumberRecord>("numbers", v.value()).map(|r| r.block))
                .transpose()
        })
    }
}
