//! A simulator's state file: a journal that a simulator appends to on every change when it
//! runs with one (the sandbox puts them in the gateway's data directory), so a restarted
//! simulator resumes where it stopped. Without a file a simulator keeps its state in
//! memory only, as in tests.
//!
//! **What it survives.** Each commit is one frame appended with one `write` before the
//! simulator answers, never fsync'd: the state survives the process being killed (kill -9,
//! a panic, an OOM kill) at any moment, not a power loss or a kernel crash. A simulator is
//! a test peer, and an fsync per change would cost the hot path more than the whole
//! exchange (the HLR simulator takes thousands of changes a second in `simgw bench`). A
//! frame carries its length and a checksum: one cut short by a kill (its caller was never
//! answered) is dropped at the next open, with anything after it.
//!
//! **Why a journal.** A simulator's changes come one or two at a time, each awaited by a
//! caller; a B-tree commit per change (redb, before) cost about 0.1 ms of CPU each, a sixth
//! of a port-in's CPU in `simgw bench --port-in` and a tenth of a physical activation's.
//! An append costs a `write`. The file also keeps every table in memory (the simulators'
//! state is small: what they were told), so the journal is rewritten as one frame, through
//! a new file renamed over it, when it has grown to several times what it holds.
//!
//! Every table maps a string key to the JSON of one record, so a table is read whole at
//! start and written a record at a time. A simulator writes through a `StateWriter`
//! (group commit on its own thread). The file is created 0600 and its directory 0700 (an
//! HLR's records hold the subscriber keys as the simulator received them), and it is
//! locked while open: a second simulator on the same file is refused.
//!
//! Layout: [`MAGIC`], then frames: payload length (u32 LE), the first 8 bytes of the
//! payload's SHA-256, the payload: entries of a kind byte (1 put, 2 delete), the table
//! name (u8 length), the key (u32 length), and for a put the value (u32 length).

use ring::digest::{SHA256, digest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use zeroize::Zeroizing;

/// A table of a state file: string keys, JSON values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Table(&'static str);

impl Table {
    /// The table called `name` (at most 255 bytes).
    pub(crate) const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// Its name.
    pub(crate) fn name(&self) -> &'static str {
        self.0
    }
}

/// The table every state file has: a simulator's counters.
const META: Table = Table::new("meta");
/// What a state file starts with (its format: bumped when the layout or a record's JSON
/// changes incompatibly).
const MAGIC: &[u8] = b"simgw-sim-state 2\n";
/// Bytes of a frame before its payload.
const FRAME_HEAD: usize = 12;
/// The journal is rewritten once it holds more than this many times the live state...
const COMPACT_FACTOR: u64 = 4;
/// ...and at least this many bytes.
const COMPACT_MIN: u64 = 1 << 20;

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
        value: Zeroizing<Vec<u8>>,
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
            value: Zeroizing::new(v),
        })
    }

    /// A `Delete` of `key`.
    pub(crate) fn delete(table: Table, key: impl Into<String>) -> Self {
        Self::Delete {
            table,
            key: key.into(),
        }
    }

    fn table(&self) -> Table {
        match self {
            Self::Put { table, .. } | Self::Delete { table, .. } => *table,
        }
    }

    fn key(&self) -> &str {
        match self {
            Self::Put { key, .. } | Self::Delete { key, .. } => key,
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

/// Every table's records: table name → key → value.
type Tables = BTreeMap<String, BTreeMap<String, Zeroizing<Vec<u8>>>>;

/// The open journal and what it holds.
struct Journal {
    file: File,
    /// Bytes of the file that are whole frames (a failed append is cut back to this).
    len: u64,
    tables: Tables,
    /// Bytes of the records in `tables`, as a compacted file would hold them.
    live: u64,
    /// After a failed rewrite: the length at which to try again.
    retry_at: u64,
}

/// An open state file.
pub(crate) struct StateFile {
    journal: Mutex<Journal>,
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
    /// Opens `path`, creating it (0600, its directory 0700) if needed, and locks it. A
    /// file of another format is refused rather than misread; a frame cut short at its
    /// end is dropped. A table never written reads empty.
    pub(crate) fn open(path: &Path) -> Result<Self, StateFileError> {
        let open_err = |reason: String| StateFileError::Open {
            path: path.to_owned(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| open_err(format!("directory: {e}")))?;
        }
        let mut file = private_file(path).map_err(|e| open_err(e.to_string()))?;
        lock(&file).map_err(|e| {
            open_err(format!(
                "in use by another simulator (or cannot be locked): {e}"
            ))
        })?;
        let mut bytes = Zeroizing::new(Vec::new());
        file.read_to_end(&mut bytes)
            .map_err(|e| open_err(e.to_string()))?;
        let me = |journal, resumed| Self {
            journal: Mutex::new(journal),
            path: path.to_owned(),
            resumed,
        };
        if MAGIC.starts_with(&bytes) && bytes.len() < MAGIC.len() {
            // New, or killed while it was being created (before anything was kept).
            file.set_len(0)
                .and_then(|()| file.write_all(MAGIC))
                .map_err(|e| open_err(e.to_string()))?;
            let journal = Journal {
                file,
                len: MAGIC.len() as u64,
                tables: Tables::new(),
                live: 0,
                retry_at: 0,
            };
            return Ok(me(journal, false));
        }
        let Some(frames) = bytes.strip_prefix(MAGIC) else {
            return Err(StateFileError::Format {
                path: path.to_owned(),
                reason: "written in another format; remove it to start afresh".into(),
            });
        };
        let (tables, live, whole) = replay(frames);
        let len = (MAGIC.len() + whole) as u64;
        if len < bytes.len() as u64 {
            tracing::warn!(path = %path.display(), dropped = bytes.len() as u64 - len,
                "simulator state file: a commit cut short at its end is dropped");
            file.set_len(len).map_err(|e| open_err(e.to_string()))?;
        }
        let journal = Journal {
            file,
            len,
            tables,
            live,
            retry_at: 0,
        };
        let opened = me(journal, true);
        opened.compact_if_grown(&mut opened.journal());
        Ok(opened)
    }

    /// Whether the file held a simulator's state when it was opened (else it is new).
    pub(crate) fn resumed(&self) -> bool {
        self.resumed
    }

    fn journal(&self) -> MutexGuard<'_, Journal> {
        self.journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn io_err(&self, e: impl std::fmt::Display) -> StateFileError {
        StateFileError::Io {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    /// Every record of `table`, in key order.
    pub(crate) fn load<T: DeserializeOwned>(
        &self,
        table: Table,
    ) -> Result<Vec<(String, T)>, StateFileError> {
        let journal = self.journal();
        let Some(rows) = journal.tables.get(table.name()) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(rows.len());
        for (k, v) in rows {
            let record = serde_json::from_slice(v).map_err(|e| StateFileError::Format {
                path: self.path.clone(),
                // serde_json's message may quote the value: only its kind and position.
                reason: format!(
                    "record {}/{k} does not decode ({:?} error at column {})",
                    table.name(),
                    e.classify(),
                    e.column()
                ),
            })?;
            out.push((k.clone(), record));
        }
        Ok(out)
    }

    /// A counter of the meta table (0 when never written).
    pub(crate) fn counter(&self, name: &str) -> Result<u64, StateFileError> {
        let journal = self.journal();
        let raw = journal.tables.get(META.name()).and_then(|t| t.get(name));
        raw.map_or(Ok(0), |v| {
            serde_json::from_slice(v).map_err(|_| StateFileError::Format {
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
            value: Zeroizing::new(value.to_string().into_bytes()),
        }
    }

    /// Applies `changes` in one commit (one frame), written to the kernel when this
    /// returns (see the module doc for what that survives). On an error nothing of it is
    /// kept: the file is cut back to its last whole frame.
    pub(crate) fn commit(&self, changes: &[Change]) -> Result<(), StateFileError> {
        if changes.is_empty() {
            return Ok(());
        }
        let latest = latest(changes);
        let frame = frame(&encode(latest.iter().copied()));
        let mut journal = self.journal();
        let j = &mut *journal;
        if let Err(e) = j.file.write_all(&frame) {
            // A partial frame would hide every later one from the next open.
            let cut = j.file.set_len(j.len);
            return Err(self.io_err(match cut {
                Ok(()) => e.to_string(),
                Err(c) => format!("{e}; and cannot cut the file back: {c}"),
            }));
        }
        j.len += frame.len() as u64;
        for c in latest {
            apply(&mut j.tables, &mut j.live, c.into());
        }
        self.compact_if_grown(&mut journal);
        Ok(())
    }

    /// Rewrites the journal as one frame of what it holds once it has grown to
    /// [`COMPACT_FACTOR`] times that (and at least [`COMPACT_MIN`]): a new file, renamed
    /// over this one, so a kill at any moment leaves one of the two whole. A rewrite that
    /// fails loses nothing (the journal goes on growing): it is logged and tried again
    /// once another [`COMPACT_MIN`] has been appended.
    fn compact_if_grown(&self, journal: &mut Journal) {
        if journal.len
            < journal
                .retry_at
                .max(COMPACT_MIN.max(COMPACT_FACTOR * journal.live))
        {
            return;
        }
        match self.compact(journal) {
            Ok(()) => journal.retry_at = 0,
            Err(e) => {
                tracing::warn!(error = %e, "simulator state file not compacted; it keeps growing");
                journal.retry_at = journal.len.saturating_add(COMPACT_MIN);
            }
        }
    }

    fn compact(&self, journal: &mut Journal) -> Result<(), StateFileError> {
        let all = journal.tables.iter().flat_map(|(t, rows)| {
            rows.iter()
                .map(move |(k, v)| Entry::Put(t.as_str(), k.as_str(), v.as_slice()))
        });
        let mut bytes = Zeroizing::new(MAGIC.to_vec());
        bytes.extend_from_slice(&frame(&encode(all)));
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".new");
        let tmp = PathBuf::from(tmp);
        let mut file = private_file(&tmp).map_err(|e| self.io_err(e))?;
        // Locked before it takes the journal's name, so the lock never lapses.
        let written = lock(&file)
            .and_then(|()| file.set_len(0))
            .and_then(|()| file.write_all(&bytes))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io_err(format!("compacting: {e}")));
        }
        // The renamed file is the journal now. (The old one is unlinked; its handle and
        // lock go here.)
        journal.file = file;
        journal.len = bytes.len() as u64;
        Ok(())
    }
}

/// One change as the journal encodes it.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Put(&'a str, &'a str, &'a [u8]),
    Delete(&'a str, &'a str),
}

/// What `changes`, applied in order, leave in the file: the last change of each key (an
/// earlier one of the same key is overwritten by it), in table and key order. A busy
/// simulator's batch puts one record several times (a port at each message, a message
/// put when planned and deleted once delivered), and each key is written once.
fn latest(changes: &[Change]) -> Vec<&Change> {
    let mut latest: BTreeMap<(&str, &str), &Change> = BTreeMap::new();
    for c in changes {
        latest.insert((c.table().name(), c.key()), c);
    }
    latest.into_values().collect()
}

impl<'a> From<&'a Change> for Entry<'a> {
    fn from(c: &'a Change) -> Self {
        match c {
            Change::Put { table, key, value } => Entry::Put(table.name(), key, value),
            Change::Delete { table, key } => Entry::Delete(table.name(), key),
        }
    }
}

fn encode<'a, E: Into<Entry<'a>>>(entries: impl IntoIterator<Item = E>) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    let field = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
    };
    for e in entries {
        let (kind, table, key, value) = match e.into() {
            Entry::Put(t, k, v) => (1u8, t, k, Some(v)),
            Entry::Delete(t, k) => (2u8, t, k, None),
        };
        out.push(kind);
        out.push(table.len() as u8);
        out.extend_from_slice(table.as_bytes());
        field(&mut out, key.as_bytes());
        if let Some(v) = value {
            field(&mut out, v);
        }
    }
    out
}

fn frame(payload: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(FRAME_HEAD + payload.len()));
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(payload));
    out.extend_from_slice(payload);
    out
}

/// The tables that the whole frames at the start of `bytes` build, their live bytes,
/// and how many bytes those frames take: a frame cut short or damaged ends the replay.
fn replay(bytes: &[u8]) -> (Tables, u64, usize) {
    let mut tables = Tables::new();
    let mut live = 0;
    let mut at = 0;
    while let Some((payload, size)) = bytes.get(at..).and_then(whole_frame) {
        let Some(entries) = decode(payload) else {
            break;
        };
        for e in entries {
            apply(&mut tables, &mut live, e);
        }
        at += size;
    }
    (tables, live, at)
}

/// The payload of the frame at the start of `bytes` and the frame's size, if it is whole
/// and its checksum holds.
fn whole_frame(bytes: &[u8]) -> Option<(&[u8], usize)> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let sum = bytes.get(4..FRAME_HEAD)?;
    let payload = bytes.get(FRAME_HEAD..FRAME_HEAD.checked_add(len)?)?;
    (checksum(payload) == *sum).then_some((payload, FRAME_HEAD + len))
}

/// A frame's checksum: the first 8 bytes of its payload's SHA-256.
fn checksum(payload: &[u8]) -> [u8; 8] {
    let mut sum = [0; 8];
    sum.copy_from_slice(&digest(&SHA256, payload).as_ref()[..8]);
    sum
}

/// The entries of a payload; `None` if it does not parse (a frame we did not write).
fn decode(mut p: &[u8]) -> Option<Vec<Entry<'_>>> {
    fn take<'a>(p: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, rest) = p.split_at_checked(n)?;
        *p = rest;
        Some(head)
    }
    fn field<'a>(p: &mut &'a [u8]) -> Option<&'a [u8]> {
        let n = u32::from_le_bytes(take(p, 4)?.try_into().ok()?) as usize;
        take(p, n)
    }
    let mut out = Vec::new();
    while !p.is_empty() {
        let kind = take(&mut p, 1)?[0];
        let tlen = take(&mut p, 1)?[0] as usize;
        let table = std::str::from_utf8(take(&mut p, tlen)?).ok()?;
        let key = std::str::from_utf8(field(&mut p)?).ok()?;
        out.push(match kind {
            1 => Entry::Put(table, key, field(&mut p)?),
            2 => Entry::Delete(table, key),
            _ => return None,
        });
    }
    Some(out)
}

/// The bytes one record takes in a compacted file.
fn record_size(table: &str, key: &str, value: usize) -> u64 {
    (10 + table.len() + key.len() + value) as u64
}

/// Applies one entry to `tables`, keeping `live` (the bytes a compacted file holds).
fn apply(tables: &mut Tables, live: &mut u64, e: Entry<'_>) {
    match e {
        Entry::Put(table, key, value) => {
            *live += record_size(table, key, value.len());
            let rows = tables.entry(table.to_owned()).or_default();
            if let Some(old) = rows.insert(key.to_owned(), Zeroizing::new(value.to_vec())) {
                *live = live.saturating_sub(record_size(table, key, old.len()));
            }
        }
        Entry::Delete(table, key) => {
            if let Some(old) = tables.get_mut(table).and_then(|rows| rows.remove(key)) {
                *live = live.saturating_sub(record_size(table, key, old.len()));
            }
        }
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

/// Takes `file`'s exclusive lock, or fails at once if another open file holds it (the
/// lock goes with the file's last handle, also when the process is killed).
fn lock(file: &File) -> std::io::Result<()> {
    use rustix::fs::{FlockOperation, flock};
    flock(file, FlockOperation::NonBlockingLockExclusive).map_err(std::io::Error::from)
}

/// Opens `path` for reading and appending, creating it 0600.
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

#[cfg(test)]
#[path = "state_file_tests.rs"]
mod tests;
