//! The second-verification deadline timer (issue 15): lines whose deadline passed
//! unverified are suspended for `regulatory` reasons by a lifecycle order the store
//! creates in the sweep's commit (`Store::expire_reverifications`), which this timer then
//! drives like any other order. The deadlines are durable, so a restart picks them up.

use super::timers::deadline_loop;
use super::{Engine, Inner};
use crate::store::StoreError;
use adapters::hlr::BoxFuture;
use std::time::Duration;

impl Engine {
    /// Spawns the re-verification timer. It sleeps until the earliest deadline in the
    /// store's index, at most `idle` (a deadline armed meanwhile is at least an hour
    /// away, so `idle` of an hour or less never makes one late).
    pub fn spawn_reverify_timer(&self, idle: Duration) {
        let engine = self.clone();
        tokio::spawn(async move {
            let inner = engine.inner.clone();
            // Nothing needs to wake it early: see above.
            let no_wake = tokio::sync::Notify::new();
            deadline_loop(&inner, "re-verification", idle, &no_wake, next, |now| {
                let engine = engine.clone();
                async move {
                    let store = &engine.inner.store;
                    match store
                        .expire_reverifications(now, super::machine::plan)
                        .await
                    {
                        Ok(orders) => {
                            for o in orders {
                                tracing::warn!(order = %o.id, msisdn = %o.msisdn,
                                    "line not re-verified by its deadline: suspending it (regulatory)");
                                engine.submit(o);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "re-verification expiry failed"),
                    }
                }
            })
            .await;
        });
    }
}

fn next(i: &Inner) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
    i.store.next_reverify_deadline()
}
