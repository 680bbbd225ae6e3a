//! The stop switch behind a simulator handle, and the shared-state lock helper.

use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Locks `m`, ignoring poisoning: simulator state is updated in single steps, so state
/// behind a poisoned lock is still consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves once `rx` reads true or its sender is dropped.
pub(crate) async fn wait_shutdown(mut rx: watch::Receiver<bool>) {
    // An error means the sender is gone: nobody can stop us any more, so stop now.
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Owns the stop signal and the accept-loop task of one running simulator.
#[derive(Debug)]
pub(crate) struct Control {
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    name: &'static str,
}

impl Control {
    /// Wraps the stop sender and the accept task; `name` labels log lines.
    pub(crate) fn new(stop: watch::Sender<bool>, task: JoinHandle<()>, name: &'static str) -> Self {
        Self {
            stop,
            task: Mutex::new(Some(task)),
            name,
        }
    }

    /// Signals shutdown and waits for the accept loop to finish. Idempotent.
    pub(crate) async fn shutdown(&self) {
        self.stop.send_replace(true);
        let task = lock(&self.task).take();
        if let Some(task) = task {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, simulator = self.name, "simulator task failed");
            }
        }
    }
}
