//! The state one running simulator shares between its connections, its handle and its
//! admin API. Locks are held only for synchronous updates, never across an `.await`.

use super::config::HlrSimConfig;
use super::error::SimError;
use super::fault_plan::FaultPlanner;
use super::faults::FaultConfig;
use super::persist;
use super::sessions::Sessions;
use super::stats::SimCounts;
use super::store::Store;
use crate::common::control::{lock, wait_shutdown};
use crate::common::state_file::StateFileError;
use crate::common::state_writer::{StateWriter, Ticket};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::watch;

/// Shared simulator state.
#[derive(Debug)]
pub(crate) struct Simulator {
    /// The CAI3G endpoint path.
    pub(crate) path: String,
    user_id: String,
    password: String,
    store: Mutex<Store>,
    /// Where the store is kept, if anywhere.
    state_file: StateWriter,
    sessions: Mutex<Sessions>,
    faults: Mutex<FaultPlanner>,
    counts: Mutex<SimCounts>,
    shutdown: watch::Receiver<bool>,
}

impl Simulator {
    /// State for `config` (faults already validated), resumed from its state file if it
    /// has one; `shutdown` turns true on shutdown.
    pub(crate) fn new(
        config: &HlrSimConfig,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self, StateFileError> {
        let (state_file, store) = match &config.state_file {
            Some(path) => {
                let (file, store) = persist::open(path)?;
                let writer = StateWriter::start(Some(file)).map_err(|e| StateFileError::Io {
                    path: path.clone(),
                    reason: format!("writer thread: {e}"),
                })?;
                (writer, store)
            }
            None => (StateWriter::default(), Store::default()),
        };
        Ok(Self {
            path: config.path.clone(),
            user_id: config.user_id.clone(),
            password: config.password.clone(),
            store: Mutex::new(store),
            state_file,
            sessions: Mutex::new(Sessions::new(config.session_lifetime)),
            faults: Mutex::new(FaultPlanner::new(config.faults.clone(), config.seed)),
            counts: Mutex::new(SimCounts::default()),
            shutdown,
        })
    }

    /// True if the Login credentials are the configured ones (compared in constant time).
    pub(crate) fn credentials_match(&self, user_id: &str, pwd: &str) -> bool {
        // Evaluate both comparisons so timing does not reveal which one failed.
        let user_ok = constant_time_eq(user_id.as_bytes(), self.user_id.as_bytes());
        let pwd_ok = constant_time_eq(pwd.as_bytes(), self.password.as_bytes());
        user_ok & pwd_ok
    }

    /// The subscriber data.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Whether the store was resumed from a state file that held one.
    pub(crate) fn resumed(&self) -> bool {
        self.state_file.resumed()
    }

    /// Closes the state file (at shutdown).
    pub(crate) fn close_state_file(&self) {
        self.state_file.close();
    }

    /// Hands the changes `store` (this simulator's, locked by the caller, so the file
    /// takes them in the order they were made) has pending to the state file's writer;
    /// the answer goes out once the ticket says they would survive a crash.
    pub(crate) fn write_changes(&self, store: &mut Store) -> Ticket {
        self.state_file.submit(persist::changes(store))
    }

    /// The live sessions.
    pub(crate) fn sessions(&self) -> MutexGuard<'_, Sessions> {
        lock(&self.sessions)
    }

    /// Fault configuration and rules.
    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultPlanner> {
        lock(&self.faults)
    }

    /// The counters.
    pub(crate) fn counts(&self) -> MutexGuard<'_, SimCounts> {
        lock(&self.counts)
    }

    /// Validates and installs a new random-fault configuration.
    pub(crate) fn set_faults(&self, faults: FaultConfig) -> Result<(), SimError> {
        faults.validate()?;
        self.faults().set_config(faults);
        Ok(())
    }

    /// Forgets every subscriber and applied create (sessions and counters stay), in the
    /// state file too.
    pub(crate) fn reset_state(&self) -> Ticket {
        let mut store = self.store();
        store.clear();
        self.write_changes(&mut store)
    }

    /// Resolves once shutdown has been requested (or every handle is gone).
    pub(crate) async fn shutdown_requested(&self) {
        wait_shutdown(self.shutdown.clone()).await;
    }
}

/// Length-revealing but content-constant-time equality.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret1"));
        assert!(constant_time_eq(b"", b""));
    }
}
