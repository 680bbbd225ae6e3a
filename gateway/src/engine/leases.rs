//! Driving orders on a store that several gateway nodes share: this node renews the
//! leases of the orders it drives and claims those whose lease lapsed (a node died or
//! lost the database), resuming them as a restart would.

use super::{CLAIM_PAGE, Engine};
use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;

impl Engine {
    /// Spawns the lease keeper when the store is shared (`Store::lease` is `Some`): every
    /// third of the lease time it renews this node's leases, stops the drivers of orders
    /// another node claimed, and claims orders whose lease lapsed. Does nothing for a
    /// store one process holds.
    pub fn spawn_lease_keeper(&self) {
        let Some(lease) = self.inner.store.lease() else {
            return;
        };
        let engine = self.clone();
        let period = (lease / 3).max(std::time::Duration::from_millis(10));
        tokio::spawn(async move {
            let mut stop = engine.inner.stop.subscribe();
            loop {
                tokio::select! {
                    () = tokio::time::sleep(period) => {}
                    _ = stop.changed() => return,
                }
                engine.keep_leases().await;
            }
        });
    }

    /// One round: renew, give up what was lost, claim what lapsed.
    async fn keep_leases(&self) {
        let inner = &self.inner;
        let ids: Vec<String> = inner.lock_driving().iter().cloned().collect();
        let now = inner.clock.now_ms();
        if !ids.is_empty() {
            match inner.store.renew_leases(&ids, now).await {
                Ok(lost) => {
                    // Under the driving lock, so that a driver ending now either ended
                    // before (and is passed over) or clears its mark after.
                    let driving = inner.lock_driving();
                    let lost = still_driven(lost, &driving);
                    if !lost.is_empty() {
                        tracing::warn!(
                            orders = lost.len(),
                            "another node took over orders this node drove"
                        );
                        inner.lock_lost().extend(lost);
                    }
                }
                // The leases run out if this persists, and other nodes take the orders over.
                Err(e) => tracing::warn!(error = %e, "cannot renew order leases"),
            }
        }
        match inner.store.claim_orders(now, CLAIM_PAGE).await {
            Ok(orders) => {
                for o in orders {
                    tracing::info!(order = %o.id, "took over an order whose lease lapsed");
                    inner.metrics.orders_resumed.fetch_add(1, Relaxed);
                    self.submit(o);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot claim lapsed orders"),
        }
    }
}

/// The orders of `lost` (those whose lease the store says this node no longer holds)
/// that this node still drives. An order that ended while its lease was being renewed
/// has no lease row any more, and is neither another node's nor to be marked lost: a mark
/// no driver clears would stay for the process's life, and stop the order's next driver
/// (a port woken again) at its first step.
fn still_driven(lost: Vec<String>, driving: &HashSet<String>) -> Vec<String> {
    lost.into_iter().filter(|id| driving.contains(id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_that_ended_meanwhile_are_not_lost() {
        let driving: HashSet<String> = ["ord_a".to_owned(), "ord_b".to_owned()].into();
        let lost = vec!["ord_a".to_owned(), "ord_done".to_owned()];
        assert_eq!(still_driven(lost, &driving), ["ord_a"]);
        assert!(still_driven(vec!["ord_done".to_owned()], &driving).is_empty());
    }
}
