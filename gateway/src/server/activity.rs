//! Whether a connection carries requests, and since when it has not: what the connection
//! driver's first-request and idle deadlines are measured from.

use super::Limits;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::time::Instant;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a connection carries requests, and since when it has not.
pub(super) struct Activity {
    state: Mutex<ActivityState>,
    /// Wakes the connection driver to re-arm its timer when a request starts or ends.
    changed: tokio::sync::Notify,
}

struct ActivityState {
    inflight: usize,
    served: bool,
    since: Instant,
}

impl Activity {
    /// A connection opened at `now`, with no request yet.
    pub(super) fn new(now: Instant) -> Self {
        Self {
            state: Mutex::new(ActivityState {
                inflight: 0,
                served: false,
                since: now,
            }),
            changed: tokio::sync::Notify::new(),
        }
    }

    /// Resolves after a request started or ended (at once if one did since the last call).
    pub(super) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// When the connection is due to be closed as idle (a moment to look again, while
    /// requests are in flight).
    pub(super) fn deadline(&self, limits: &Limits, now: Instant) -> Instant {
        let s = lock(&self.state);
        if s.inflight > 0 {
            now + limits.idle_timeout
        } else if s.served {
            s.since + limits.idle_timeout
        } else {
            s.since + limits.header_read_timeout
        }
    }

    /// A request (or a drain) starts; it ends when the `Busy` is dropped.
    pub(super) fn begin(self: &Arc<Self>) -> Busy {
        {
            let mut s = lock(&self.state);
            s.inflight += 1;
            s.served = true;
        }
        self.changed.notify_one();
        Busy(self.clone())
    }
}

/// One unit of work in flight on a connection: a request being answered, or a drain.
pub(super) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        {
            let mut s = lock(&self.0.state);
            s.inflight = s.inflight.saturating_sub(1);
            s.since = Instant::now();
        }
        self.0.changed.notify_one();
    }
}
