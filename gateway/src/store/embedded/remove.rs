//! The store's file in the data dir, and deleting it (`simgw sandbox reset`) under the
//! store's own lock, so a running gateway is refused rather than left writing to a deleted
//! file.

use super::RedbStore;
use super::apply::backend;
use crate::store::StoreError;
use ::redb::{Database, DatabaseError};
use std::path::{Path, PathBuf};

/// The one file the embedded store keeps in its data dir.
pub(super) const FILE: &str = "simgw.redb";

/// Maps a failed open, telling "another process holds it" apart from a broken file.
pub(super) fn open_error(e: DatabaseError) -> StoreError {
    match e {
        DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
            StoreError::Locked
        }
        e => backend(e),
    }
}

impl RedbStore {
    /// Deletes the store in `dir`. Returns the path removed, or `None` when there was no
    /// store; [`StoreError::Locked`] (and nothing deleted) while another process holds it.
    pub fn remove(dir: &Path) -> Result<Option<PathBuf>, StoreError> {
        let path = dir.join(FILE);
        if !path.try_exists().map_err(backend)? {
            return Ok(None);
        }
        // Holding the database keeps its lock while the file goes. Repairing a file about to
        // be deleted is wasted work: aborting it still tells a held lock apart.
        let held = match Database::builder()
            .set_repair_callback(|session| session.abort())
            .open(&path)
        {
            Ok(db) => Some(db),
            Err(e) => match open_error(e) {
                StoreError::Locked => return Err(StoreError::Locked),
                // Unreadable or unrepaired: no process can be using it, and a reset is
                // how a broken sandbox store is got rid of.
                _ => None,
            },
        };
        std::fs::remove_file(&path).map_err(backend)?;
        drop(held);
        Ok(Some(path))
    }
}
