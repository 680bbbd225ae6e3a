//! The engine's durable-deadline timers (number pool, eSIM expiry) and housekeeping.
//! Deadlines live in the store; a timer sleeps until the earliest one on tokio's clock.

use super::{Engine, Inner};
use crate::store::StoreError;
use adapters::hlr::BoxFuture;
use std::time::Duration;
use tokio::sync::Notify;

impl Engine {
    /// Spawns the number-pool timer: lapsed checkout holds and aged quarantine return to
    /// the pool. The deadlines are durable (in the store); the timer sleeps until the
    /// earliest one and is woken by [`Engine::pool_deadline_added`] when an earlier one may
    /// have appeared. `idle` bounds a sleep when nothing is scheduled.
    pub fn spawn_pool_timer(&self, idle: Duration) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            deadline_loop(&inner, "number", idle, &inner.pool_wake, next_pool, |now| {
                let inner = inner.clone();
                async move {
                    match inner.store.expire_due(now).await {
                        Ok(e) => tracing::info!(
                            reservations = e.reservations,
                            quarantine = e.quarantine,
                            "numbers returned to the pool"
                        ),
                        Err(e) => tracing::warn!(error = %e, "number expiry failed"),
                    }
                }
            })
            .await;
        });
    }

    /// Spawns the eSIM expiry timer: released profiles not downloaded by their deadline
    /// are reopened (durably) and driven through CancelOrder and HLR clean-up. `idle`
    /// bounds a sleep when nothing is due; a ConfirmOrder that sets a deadline wakes it.
    pub fn spawn_esim_timer(&self, idle: Duration) {
        let engine = self.clone();
        tokio::spawn(async move {
            let inner = engine.inner.clone();
            deadline_loop(&inner, "eSIM", idle, &inner.esim_wake, next_esim, |now| {
                let engine = engine.clone();
                async move {
                    match engine
                        .inner
                        .store
                        .expire_esim(now, super::machine::expire)
                        .await
                    {
                        Ok(orders) => {
                            for o in orders {
                                tracing::warn!(order = %o.id, code = "esim_not_downloaded",
                                    "order failed: eSIM profile never downloaded; cancelling it");
                                engine.submit(o);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "eSIM expiry failed"),
                    }
                }
            })
            .await;
        });
    }

    /// Spawns the port timer: parked port-ins whose deadline came (a credential's
    /// expiry, a lock point, an overdue cutover) go back into flight. One timer for every
    /// parked port, sleeping until the earliest deadline on the store's index: waiting
    /// ports cost nothing. `idle` bounds a sleep; a port parked with an earlier deadline
    /// wakes it ([`Engine::port_deadline_added`]).
    pub fn spawn_port_timer(&self, idle: Duration) {
        let engine = self.clone();
        tokio::spawn(async move {
            let inner = engine.inner.clone();
            deadline_loop(&inner, "port", idle, &inner.port_wake, next_port, |now| {
                let engine = engine.clone();
                async move {
                    match engine
                        .inner
                        .store
                        .wake_due_ports(now, super::machine::port_order::wake)
                        .await
                    {
                        Ok(orders) => {
                            for o in orders {
                                engine.submit(o);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "port deadlines failed"),
                    }
                }
            })
            .await;
        });
    }

    /// Tells the port timer a port was parked (its deadline may be the earliest).
    pub fn port_deadline_added(&self) {
        self.inner.port_wake.notify_one();
    }

    /// Tells the pool timer a new hold or quarantine deadline was recorded.
    pub fn pool_deadline_added(&self) {
        self.inner.pool_wake.notify_one();
    }

    /// Spawns the periodic idempotency-record expiry.
    pub fn spawn_housekeeping(&self, ttl: Duration) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let mut stop = inner.stop.subscribe();
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                let cutoff = inner.clock.now_ms().saturating_sub(ttl.as_millis() as u64);
                match inner.store.prune_idempotency(cutoff).await {
                    Ok(n) if n > 0 => tracing::info!(expired = n, "idempotency records expired"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "idempotency expiry failed"),
                }
            }
        });
    }
}

/// Runs a durable-deadline timer until the engine stops: sleeps until the earliest
/// deadline `next` reads from the store (at most `idle`, or until `wake`), and calls
/// `fire(now)` whenever one is due.
pub(super) async fn deadline_loop<N, F, Fut>(
    inner: &Inner,
    what: &str,
    idle: Duration,
    wake: &Notify,
    next: N,
    mut fire: F,
) where
    N: for<'a> Fn(&'a Inner) -> BoxFuture<'a, Result<Option<u64>, StoreError>>,
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut stop = inner.stop.subscribe();
    loop {
        let now = inner.clock.now_ms();
        let wake_at = match next(inner).await {
            Ok(Some(at)) if at <= now => {
                fire(now).await;
                continue;
            }
            Ok(Some(at)) => inner
                .clock
                .instant_at(at)
                .min(tokio::time::Instant::now() + idle),
            Ok(None) => tokio::time::Instant::now() + idle,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read {what} deadlines");
                tokio::time::Instant::now() + Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(wake_at) => {}
            () = wake.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

fn next_pool(i: &Inner) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
    i.store.next_pool_deadline()
}

fn next_port(i: &Inner) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
    i.store.next_port_deadline()
}

fn next_esim(i: &Inner) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
    i.store.next_esim_deadline()
}
