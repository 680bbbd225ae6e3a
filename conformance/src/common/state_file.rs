//! A simulator's state file: a small redb database that a simulator writes on every change
//! when it runs with one (the sandbox puts them in the gateway's data directory), so a
//! restarted simulator resumes where it stopped. Without a file a simulator keeps its
//! state in memory only, as in tests.
//!
//! **What it survives.** Each change is one redb commit whose pages are written to the
//! kernel before the simulator answers, but never fsync'd: the state survives the process
//! being killed (kill -9, a panic, an OOM kill) at any moment, not a power loss or a kernel
//! crash. A simulator is a test peer, and an fsync per change would cost the hot path more
//! than the whole exchange (the HLR simulator takes thousands of changes a second in
//! `simgw bench`). Without fsync, redb's commit order still holds for a process crash: the
//! kernel sees the writes in program order, and the header that names a commit is written
//! after the pages it names.
//!
//! Every table maps a string key to the JSON of one record, so a table is read whole at
//! start and written a record at a time. A simulator writes through a `StateWriter`
//! (group commit on its own thread). The file is created 0600 and its directory 0700:
//! an HLR's records hold the subscriber keys as the simulator received them.

use redb::backends::FileBackend;
use redb::{
    Builder, Database, Durability, ReadableDatabase, ReadableTable, StorageBackend,
    TableDefinition, TableHandle,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::OpenOptions;
use std::ops::Bound;
use std::path::{Path, PathBuf};

/// A table of a state file: string keys, JSON values.
pub(crate) type Table = TableDefinition<'static, &'static str, &'static [u8]>;

/// The table every state file has: the format mark and a simulator's counters.
const META: Table = TableDefinition::new("meta");
/// The key of the format mark, written when a file is first opened.
const FORMAT_KEY: &str = "format";
/// The format of the records (bumped when a record's JSON changes incompatibly).
const FORMAT: &[u8] = b"1";

/// Why a state file could not be opened, read or written. Never quotes a record.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// The file or its directory could not be created or opened.
    #[error("state file {path}: {reason}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The file holds another format, or a record that does not decode.
    #[error("state file {path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong (the table and key, never the value).
        reason: String,
    },
    /// A read or a commit failed.
    #[error("state file {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

/// One change of a commit.
#[derive(Clone)]
pub(crate) enum Change {
    /// Writes `value` (a record's JSON) under `key`.
    Put {
        /// The table.
        table: Table,
        /// The record's key.
        key: String,
        /// The record's JSON (zeroised when dropped: it may hold keys).
        value: zeroize::Zeroizing<Vec<u8>>,
    },
    /// Removes `key`.
    Delete {
        /// The table.
        table: Table,
        /// The record's key.
        key: String,
    },
}

impl Change {
    /// A `Put` of `record`'s JSON; `None` if it does not serialise (never for our records).
    pub(crate) fn put(
        table: Table,
        key: impl Into<String>,
        record: &impl Serialize,
    ) -> Option<Self> {
        serde_json::to_vec(record).ok().map(|v| Self::Put {
            table,
            key: key.into(),
            value: zeroize::Zeroizing::new(v),
        })
    }

    /// A `Delete` of `key`.
    pub(crate) fn delete(table: Table, key: impl Into<String>) -> Self {
        Self::Delete {
            table,
            key: key.into(),
        }
    }
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Put { table, key, .. } => write!(f, "Put({}/{key}, ***)", table.name()),
            Self::Delete { table, key } => write!(f, "Delete({}/{key})", table.name()),
        }
    }
}

/// An open state file.
pub(crate) struct StateFile {
    db: Database,
    path: PathBuf,
    resumed: bool,
}

impl std::fmt::Debug for StateFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateFile")
            .field("path", &self.path)
            .field("resumed", &self.resumed)
            .finish_non_exhaustive()
    }
}

impl StateFile {
    /// Opens `path`, creating it (0600, its directory 0700) and `tables` if needed. A file
    /// of another format is refused rather than misread.
    pub(crate) fn open(path: &Path, tables: &[Table]) -> Result<Self, StateFileError> {
        let open_err = |reason: String| StateFileError::Open {
            path: path.to_owned(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| open_err(format!("directory: {e}")))?;
        }
        let file = private_file(path).map_err(|e| open_err(e.to_string()))?;
        let backend = FileBackend::new(file).map_err(|e| open_err(e.to_string()))?;
        let db = Builder::new()
            .create_with_backend(NoSync(backend))
            .map_err(|e| open_err(e.to_string()))?;
        let mut me = Self {
            db,
            path: path.to_owned(),
            resumed: false,
        };
        let format = me.get(META, FORMAT_KEY)?;
        match format.as_deref() {
            Some(FORMAT) => me.resumed = true,
            Some(_) => {
                return Err(StateFileError::Format {
                    path: path.to_owned(),
                    reason: "written in another format; remove it to start afresh".into(),
                });
            }
            None => {}
        }
        // Creates every table (a read of a table that was never written fails otherwise)
        // and marks the format.
        let mut changes = vec![Change::Put {
            table: META,
            key: FORMAT_KEY.into(),
            value: zeroize::Zeroizing::new(FORMAT.to_vec()),
        }];
        changes.extend(tables.iter().map(|&t| Change::delete(t, "")));
        me.commit(&changes)?;
        Ok(me)
    }

    /// Whether the file held a simulator's state when it was opened (else it is new).
    pub(crate) fn resumed(&self) -> bool {
        self.resumed
    }

    fn io_err(&self, e: impl std::fmt::Display) -> StateFileError {
        StateFileError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    /// The raw value under `key`, if any.
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StateFileError> {
        let tx = self.db.begin_read().map_err(|e| self.io_err(e))?;
        let t = match tx.open_table(table) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.io_err(e)),
        };
        let v = t.get(key).map_err(|e| self.io_err(e))?;
        Ok(v.map(|v| v.value().to_vec()))
    }

    /// Every record of `table`, in key order.
    pub(crate) fn load<T: DeserializeOwned>(
        &self,
        table: Table,
    ) -> Result<Vec<(String, T)>, StateFileError> {
        let tx = self.db.begin_read().map_err(|e| self.io_err(e))?;
        let t = tx.open_table(table).map_err(|e| self.io_err(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.io_err(e))? {
            let (k, v) = row.map_err(|e| self.io_err(e))?;
            let bytes = zeroize::Zeroizing::new(v.value().to_vec());
            let record = serde_json::from_slice(&bytes).map_err(|e| StateFileError::Format {
                path: self.path.clone(),
                // serde_json's message may quote the value: only its kind and position.
                reason: format!(
                    "record {}/{} does not decode ({:?} error at column {})",
                    table.name(),
                    k.value(),
                    e.classify(),
                    e.column()
                ),
            })?;
            out.push((k.value().to_owned(), record));
        }
        Ok(out)
    }

    /// A counter of the meta table (0 when never written).
    pub(crate) fn counter(&self, name: &str) -> Result<u64, StateFileError> {
        let raw = self.get(META, name)?;
        raw.map_or(Ok(0), |v| {
            serde_json::from_slice(&v).map_err(|_| StateFileError::Format {
                path: self.path.clone(),
                reason: format!("counter {name} is not a number"),
            })
        })
    }

    /// A change that sets counter `name` of the meta table to `value`.
    pub(crate) fn set_counter(name: &str, value: u64) -> Change {
        Change::Put {
            table: META,
            key: name.to_owned(),
            value: zeroize::Zeroizing::new(value.to_string().into_bytes()),
        }
    }

    /// Applies `changes` in one commit, written to the kernel when this returns (see the
    /// module doc for what that survives).
    pub(crate) fn commit(&self, changes: &[Change]) -> Result<(), StateFileError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin_write().map_err(|e| self.io_err(e))?;
        tx.set_durability(Durability::Immediate)
            .map_err(|e| self.io_err(e))?;
        for c in changes {
            match c {
                Change::Put { table, key, value } => {
                    let mut t = tx.open_table(*table).map_err(|e| self.io_err(e))?;
                    t.insert(key.as_str(), value.as_slice())
                        .map_err(|e| self.io_err(e))?;
                }
                Change::Delete { table, key } => {
                    let mut t = tx.open_table(*table).map_err(|e| self.io_err(e))?;
                    t.remove(key.as_str()).map_err(|e| self.io_err(e))?;
                }
            }
        }
        tx.commit().map_err(|e| self.io_err(e))
    }
}

/// Creates `dir` (and its parents) if missing, 0700 when this creates it.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Opens `path` for reading and writing, creating it 0600.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// redb's file backend with `sync_data` left out: commits reach the kernel, never the
/// disk's cache flush (see the module doc). Everything else, locks included, is the file
/// backend's.
#[derive(Debug)]
struct NoSync(FileBackend);

impl StorageBackend for NoSync {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.0.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.0.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.0.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        // Deliberately no fsync: durability against a process crash only.
        Ok(())
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.0.write(offset, data)
    }
    fn close(&self) -> Result<(), std::io::Error> {
        self.0.close()
    }
    fn try_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.0.try_lock_range(s, e)
    }
    fn try_lock_shared_range(
        &self,
        s: Bound<u64>,
        e: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.0.try_lock_shared_range(s, e)
    }
    fn lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.0.lock_range(s, e)
    }
    fn lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.0.lock_shared_range(s, e)
    }
    fn unlock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.0.unlock_range(s, e)
    }
    fn query_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.0.query_lock_range(s, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Table = TableDefinition::new("things");

    #[test]
    fn records_and_counters_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sims").join("x.redb");
        let f = StateFile::open(&path, &[T]).expect("open");
        assert!(!f.resumed());
        assert!(f.load::<u32>(T).expect("load").is_empty());
        let changes = [
            Change::put(T, "a", &1u32).expect("json"),
            Change::put(T, "b", &2u32).expect("json"),
            StateFile::set_counter("n", 7),
        ];
        f.commit(&changes).expect("commit");
        f.commit(&[Change::delete(T, "a")]).expect("delete");
        drop(f);
        let f = StateFile::open(&path, &[T]).expect("reopen");
        assert!(f.resumed());
        assert_eq!(f.load::<u32>(T).expect("load"), vec![("b".to_owned(), 2)]);
        assert_eq!(f.counter("n").expect("counter"), 7);
        assert_eq!(f.counter("never").expect("counter"), 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("dir")), 0o700);
        }
    }

    #[test]
    fn a_record_that_does_not_decode_is_named_not_quoted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.redb");
        let f = StateFile::open(&path, &[T]).expect("open");
        f.commit(&[Change::put(T, "k", &"secret-ish").expect("json")])
            .expect("commit");
        let err = f.load::<u32>(T).expect_err("a string is not a u32");
        let msg = err.to_string();
        assert!(msg.contains("things/k"), "{msg}");
        assert!(!msg.contains("secret-ish"), "{msg}");
    }

    #[test]
    fn a_second_open_of_the_same_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.redb");
        let _f = StateFile::open(&path, &[T]).expect("open");
        assert!(StateFile::open(&path, &[T]).is_err());
    }
}
