//! This node's part in the shared outbox: starting the store with its sequencer task, the
//! dispatcher's waker, and the test publisher.
//!
//! Wake-ups: a commit that appended events wakes this node's sequencer (`transaction`);
//! the sequencer, after each pass, and `record_delivery_attempt` and `redeliver_event`,
//! after their commits, wake this node's dispatcher. Deliveries another node made due
//! (its sequencer queued them, or its attempt let a queue's next event through) are found
//! by polling: the sequencer task wakes the dispatcher every `EVENT_POLL` whether or not
//! it holds the sequencer lease. `LISTEN/NOTIFY` would shorten that, but CockroachDB
//! lacks it and nothing may depend on it for correctness.

use super::retry::RetryStats;
use super::{EVENT_POLL, OpenError, PgStore};
use crate::config::StoreConfig;
use crate::store::{EventType, StoreError};
use std::sync::Arc;

impl PgStore {
    /// Connects (migrating the schema) and starts the event sequencer task on this node
    /// (`spawn_sequencer` every `EVENT_POLL`); the task ends when the last `Arc` of the
    /// store is dropped. The gateway opens the PostgreSQL backend through this.
    pub async fn open(cfg: &StoreConfig) -> Result<Arc<Self>, OpenError> {
        Self::open_counted(cfg, Arc::default()).await
    }

    /// [`Self::open`], counting its transactions' conflicts into `conflicts` (the
    /// gateway's metrics).
    pub async fn open_counted(
        cfg: &StoreConfig,
        conflicts: Arc<RetryStats>,
    ) -> Result<Arc<Self>, OpenError> {
        let mut store = Self::connect(cfg).await?;
        store.stats = conflicts;
        let store = Arc::new(store);
        drop(store.spawn_sequencer(EVENT_POLL));
        Ok(store)
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
