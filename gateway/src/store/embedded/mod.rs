//! The embedded store on redb: ACID, copy-on-write B-trees, and a commit that returns only
//! after fsync. Reads run on any task in their own snapshot; writes go through the single
//! group-commit writer thread (`writer`).

mod admin_impl;
mod apply;
mod compliance;
mod compliance_read;
mod dump;
mod esim;
mod free_tree;
mod handset;
mod import;
mod order_memo;
mod outbox;
mod outbox_read;
mod pool;
mod porting_impl;
mod ports;
mod remove;
mod reverify;

/// The store's file name in the data dir.
pub const STORE_FILE: &str = remove::FILE;
mod compliance_impl;
mod outbox_impl;
mod rewrap;
mod store_impl;
mod subscriptions;
mod subscriptions_read;
mod tables;
mod webhook_cmds;
mod writer;

/// An empty database in memory, for the unit tests of the writer's table code.
#[cfg(test)]
fn memory_db() -> ::redb::Database {
    ::redb::Database::builder()
        .create_with_backend(::redb::backends::InMemoryBackend::new())
        .expect("in-memory database")
}

use crate::metrics::Metrics;
use crate::order::Order;
use crate::store::*;
use ::redb::{Database, ReadableDatabase, ReadableTable};
use apply::{backend, dec};
use sim_profiles::Iccid;
use std::path::Path;
use std::sync::Arc;
use std::sync::{Mutex, RwLock};
use tables::*;
use tokio::sync::{mpsc, oneshot};
use writer::{Command, Job, Reply};

/// Schema version written on creation; checked on open.
const SCHEMA_VERSION: &[u8] = b"1";

/// The redb-backed [`Store`].
pub struct RedbStore {
    /// `None` once closed (the database file and its lock are released then).
    db: RwLock<Option<Arc<Database>>>,
    writer: Writer,
    outbox_wake: Arc<tokio::sync::Notify>,
}

/// How write commands are committed.
enum Writer {
    /// The group-commit thread (`writer::run`); `None`s once closed.
    Thread {
        tx: Mutex<Option<mpsc::Sender<Job>>>,
        handle: Mutex<Option<std::thread::JoinHandle<()>>>,
    },
    /// Applied on the caller's task, one command per transaction: the in-memory store,
    /// where there is no fsync to share and a paused-clock test must not see a thread.
    Inline(Arc<Metrics>),
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
        let db = Arc::new(prepare(db)?);
        let (tx, rx) = mpsc::channel(max_batch * 4);
        let wdb = db.clone();
        let handle = std::thread::Builder::new()
            .name("simgw-store-writer".into())
            .spawn(move || writer::run(wdb, rx, max_batch, metrics))
            .map_err(backend)?;
        Ok(Self {
            db: RwLock::new(Some(db)),
            writer: Writer::Thread {
                tx: Mutex::new(Some(tx)),
                handle: Mutex::new(Some(handle)),
            },
            outbox_wake: Arc::default(),
        })
    }

    /// A store held in memory only (nothing survives it): the same tables and the same
    /// code as on disk, with each write applied on the caller's task. Tests use it where
    /// durability is not the subject, and paused-clock tests because it has no thread.
    pub fn in_memory(metrics: Arc<Metrics>) -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(::redb::backends::InMemoryBackend::new())
            .map_err(backend)?;
        Ok(Self {
            db: RwLock::new(Some(Arc::new(prepare(db)?))),
            writer: Writer::Inline(metrics),
            outbox_wake: Arc::default(),
        })
    }

    /// The database, unless the store is closed.
    fn db(&self) -> Result<Arc<Database>, StoreError> {
        self.db
            .read()
            .map_err(|_| StoreError::Closed)?
            .clone()
            .ok_or(StoreError::Closed)
    }

    async fn submit(&self, cmd: Command) -> Result<Reply, StoreError> {
        let (reply, rx) = oneshot::channel();
        let job = Job { cmd, reply };
        match &self.writer {
            Writer::Thread { tx, .. } => {
                let tx = tx
                    .lock()
                    .map_err(|_| StoreError::Closed)?
                    .clone()
                    .ok_or(StoreError::Closed)?;
                tx.send(job).await.map_err(|_| StoreError::Closed)?;
            }
            Writer::Inline(metrics) => {
                let db = self.db()?;
                writer::commit_alone(&db, job, metrics);
            }
        }
        let reply = rx.await.map_err(|_| StoreError::Closed)?;
        // Any commit may have published events with deliveries (cheap: one permit).
        self.outbox_wake.notify_one();
        reply
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&::redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db()?.begin_read().map_err(backend)?;
        f(&txn)
    }

    /// Closes the store: the writer finishes queued commits and exits, and the database
    /// (its file and lock) is released when this returns. Idempotent.
    pub fn close_now(&self) {
        if let Writer::Thread { tx, handle } = &self.writer {
            drop(tx.lock().ok().and_then(|mut t| t.take()));
            if let Some(h) = handle.lock().ok().and_then(|mut h| h.take()) {
                if h.join().is_err() {
                    tracing::error!("store writer thread panicked");
                }
            }
        }
        let Some(mut db) = self.db.write().ok().and_then(|mut d| d.take()) else {
            return;
        };
        // A read that began before the close holds the database for the length of one
        // snapshot read; the file is released when the last one ends.
        for _ in 0..10_000 {
            match Arc::try_unwrap(db) {
                Ok(db) => return drop(db),
                Err(shared) => db = shared,
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        tracing::warn!("store still being read after close; it is released when that read ends");
    }
}

/// Creates missing tables and checks the schema version of a freshly opened database.
fn prepare(db: Database) -> Result<Database, StoreError> {
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
        txn.open_table(REVERIFY_DUE).map_err(backend)?;
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
    free_tree::ensure_free_golden(&txn)?;
    outbox::OutboxTables::create(&txn)?;
    compliance::ComplianceTables::create(&txn)?;
    ports::PortTables::create(&txn)?;
    txn.commit().map_err(backend)?;
    Ok(db)
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
    /// Test support: marks a number assigned, as a completed activation would.
    #[doc(hidden)]
    pub fn admin_set_assigned_for_test(
        &self,
        msisdn: &sim_profiles::Msisdn,
    ) -> Result<(), StoreError> {
        let txn = self.db()?.begin_write().map_err(backend)?;
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
