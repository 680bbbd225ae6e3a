//! The public event log and the webhook outbox part of the store port (issue 10).

use super::*;
use adapters::hlr::BoxFuture;

/// The tenant's public events, webhook endpoints and their deliveries.
pub trait OutboxStore: Send + Sync {
    // The public event log and the webhook outbox. Events are appended by the write
    // methods of `Store` in their own commit (`Tables::publish` in redb; an INSERT in the same
    // transaction in PostgreSQL); these read them and drive their delivery.

    /// A tenant's public events after its sequence number `after`, in commit order, at
    /// most `limit`, only of `event_type` when given.
    fn public_events<'a>(
        &'a self,
        tenant: &'a str,
        after: u64,
        event_type: Option<EventType>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<PublicEvent>, StoreError>>;

    /// One public event of the tenant, by its sequence number.
    fn public_event<'a>(
        &'a self,
        tenant: &'a str,
        tenant_seq: u64,
    ) -> BoxFuture<'a, Result<Option<PublicEvent>, StoreError>>;

    /// Creates a webhook endpoint; `false` (nothing changed) if the tenant already has
    /// `MAX_ENDPOINTS_PER_TENANT`.
    fn create_webhook_endpoint(
        &self,
        endpoint: WebhookEndpoint,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// The tenant's webhook endpoints.
    fn webhook_endpoints<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WebhookEndpoint>, StoreError>>;

    /// One webhook endpoint of the tenant.
    fn webhook_endpoint<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<WebhookEndpoint>, StoreError>>;

    /// Deletes an endpoint of the tenant and its deliveries; `false` if there is none.
    fn delete_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Adds a signing secret; the endpoint's current secrets sign beside it until
    /// `old_expire_at_ms`. The endpoint after the change, `None` if there is none.
    fn rotate_webhook_secret(
        &self,
        tenant: &str,
        id: &str,
        secret: EndpointSecret,
        old_expire_at_ms: u64,
    ) -> BoxFuture<'_, Result<Option<WebhookEndpoint>, StoreError>>;

    /// Enables an endpoint of the tenant again (one that gave up, or enabled already:
    /// unchanged). Events published while it was disabled stay undelivered to it (the
    /// events API and redelivery catch up); new ones are queued for it again. The
    /// endpoint after the change, `None` if the tenant has no such endpoint.
    fn enable_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<Option<WebhookEndpoint>, StoreError>>;

    /// An endpoint's deliveries, newest event first, of events before sequence `before`
    /// (all when `None`), at most `limit`; `None` if the tenant has no such endpoint.
    fn webhook_deliveries<'a>(
        &'a self,
        tenant: &'a str,
        endpoint: &'a str,
        before: Option<u64>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Option<Vec<Delivery>>, StoreError>>;

    /// Queues an event again for the tenant's enabled endpoints that take its type.
    fn redeliver_event(
        &self,
        tenant: &str,
        tenant_seq: u64,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<Redelivery, StoreError>>;

    /// Deliveries due at or before `now_ms`, earliest first, at most `limit`. A store
    /// shared by several nodes claims them for this node for its lease time, so one
    /// delivery is attempted by one node at a time (until the attempt is recorded or the
    /// lease lapses).
    fn due_deliveries(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<DeliveryKey>, StoreError>>;

    /// The earliest delivery due time after `after_ms` (a read; no commit).
    fn next_delivery_due(&self, after_ms: u64) -> BoxFuture<'_, Result<Option<u64>, StoreError>>;

    /// What one delivery attempt needs (row, event, endpoint), from one snapshot.
    fn delivery_job<'a>(
        &'a self,
        key: &'a DeliveryKey,
    ) -> BoxFuture<'a, Result<Option<DeliveryJob>, StoreError>>;

    /// What the attempts of several deliveries need, in `keys`' order (`None` for one
    /// that is gone). redb and PostgreSQL read them all from one snapshot; this default
    /// (the in-memory backend's) asks `delivery_job` for each.
    fn delivery_jobs<'a>(
        &'a self,
        keys: &'a [DeliveryKey],
    ) -> BoxFuture<'a, Result<Vec<Option<DeliveryJob>>, StoreError>> {
        Box::pin(async move {
            let mut jobs = Vec::with_capacity(keys.len());
            for key in keys {
                jobs.push(self.delivery_job(key).await?);
            }
            Ok(jobs)
        })
    }

    /// Records an attempt's outcome durably (see `AttemptOutcome`); `false` if the
    /// delivery was no longer pending.
    fn record_delivery_attempt(
        &self,
        outcome: AttemptOutcome,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Records several attempts' outcomes, in order; one answer each, as
    /// `record_delivery_attempt` gives it (an `Err` leaves that outcome unrecorded). The
    /// embedded backend writes them as one command of its writer; this default (the
    /// other backends') records one after another.
    fn record_delivery_attempts(
        &self,
        outcomes: Vec<AttemptOutcome>,
    ) -> BoxFuture<'_, Vec<Result<bool, StoreError>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(outcomes.len());
            for o in outcomes {
                out.push(self.record_delivery_attempt(o).await);
            }
            out
        })
    }

    /// Sets the available-stock level that publishes `inventory.low_stock` (`None`: off).
    fn set_low_stock_threshold(
        &self,
        threshold: Option<u64>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Woken after commits that may have made deliveries due; the dispatcher waits on it
    /// (PostgreSQL: LISTEN/NOTIFY).
    fn deliveries_waker(&self) -> std::sync::Arc<tokio::sync::Notify>;
}
