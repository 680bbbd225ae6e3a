//! This node's part in the shared outbox: starting the store with its sequencer task and
//! closing it (handing the sequencer lease over), the dispatcher's waker, and the test
//! publisher.
//!
//! Wake-ups: a commit that appended events wakes this node's sequencer (`transaction`);
//! the sequencer, after each pass, and `record_delivery_attempt` and `redeliver_event`,
//! after their commits, wake this node's dispatcher. Deliveries another node made due
//! (its sequencer queued them, or its attempt let a queue's next event through) are found
//! by polling: the sequencer task wakes the dispatcher every `EVENT_POLL` whether or not
//! it holds the sequencer lease. `LISTEN/NOTIFY` would shorten that, but CockroachDB
//! lacks it and nothing may depend on it for correctness.

use super::retry::RetryStats;
use super::{EVENT_POLL, OpenError, PgStore, leases, sequencer};
use crate::config::StoreConfig;
use crate::store::{EventType, StoreError};
use std::sync::Arc;

/// How long `close` spends handing the sequencer lease over before it closes anyway.
pub const CLOSE_HANDOVER: std::time::Duration = std::time::Duration::from_secs(2);

impl PgStore {
    /// Connects (migrating the schema) and starts the event sequencer task on this node
    /// (`spawn_sequencer` every `EVENT_POLL`); the task ends when the last `Arc` of the
    /// store is dropped. The gateway opens the PostgreSQL backend through this.
    pub async fn open(cfg: &StoreConfig) -> Result<Arc<Self>, OpenError> {
        Self::open_counted(cfg, Arc::default()).await
    }

    /// [`Self::open`], counting its transactions' conflicts, its pool waits and its
    /// sequencer passes into `stats` (the gateway's metrics).
    pub async fn open_counted(
        cfg: &StoreConfig,
        stats: Arc<RetryStats>,
    ) -> Result<Arc<Self>, OpenError> {
        let mut store = Self::connect(cfg).await?;
        store.stats = stats;
        let store = Arc::new(store);
        let task = store.spawn_sequencer(EVENT_POLL);
        if let Ok(mut slot) = store.sequencer_task.lock() {
            *slot = Some(task);
        }
        Ok(store)
    }

    /// Closes the store: stops this node's sequencer task, numbers and links what is
    /// pending and gives the sequencer lease up (a clean shutdown: another node, or this
    /// one reopened, numbers at once instead of waiting `SEQUENCER_LEASE_MS` for the
    /// lease to lapse; bounded by `CLOSE_HANDOVER`, skipped if the database fails), then
    /// closes the pool: connections in use finish their statement, later calls get
    /// `StoreError::Closed`.
    pub async fn close(&self) {
        let task = self.sequencer_task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
        let handover = async {
            self.flush_events().await?;
            let node = self.node.as_str();
            self.transaction(&node, |tx, node| {
                Box::pin(leases::release(tx, sequencer::LEASE, node))
            })
            .await
        };
        match tokio::time::timeout(CLOSE_HANDOVER, handover).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "sequencer lease not handed over"),
            Err(_) => tracing::debug!("sequencer lease not handed over in time"),
        }
        self.pool.close();
    }

    /// Woken after this node's commits that may have made deliveries due, after each
    /// sequencer pass, and every `EVENT_POLL` (see the module doc); the dispatcher waits
    /// on it.
    pub fn deliveries_waker(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.deliveries_wake)
    }

    /// Test support: publishes an event in a commit of its own, as a write path would (it
    /// becomes visible, and its deliveries queued, when the sequencer numbers it).
    pub async fn publish_for_test(
        &self,
        now_ms: u64,
        tenant: &str,
        event_type: EventType,
        subject: Option<&str>,
        data: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.transaction(
            &(now_ms, tenant, event_type, subject, data),
            |tx, (now, tenant, t, subject, data)| {
                Box::pin(super::events::publish(
                    tx,
                    *now,
                    tenant,
                    *t,
                    *subject,
                    data.clone(),
                ))
            },
        )
        .await
    }
}
