//! The `OutboxStore` part of the store port on redb (see `store_impl.rs`).

use super::*;
use adapters::hlr::BoxFuture;

impl OutboxStore for RedbStore {
    fn public_events<'a>(
        &'a self,
        tenant: &'a str,
        after: u64,
        event_type: Option<EventType>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<PublicEvent>, StoreError>> {
        Box::pin(async move { self.read_public_events(tenant, after, event_type, limit) })
    }

    fn public_event<'a>(
        &'a self,
        tenant: &'a str,
        seq: u64,
    ) -> BoxFuture<'a, Result<Option<PublicEvent>, StoreError>> {
        Box::pin(async move { self.read_public_event(tenant, seq) })
    }

    fn create_webhook_endpoint(
        &self,
        endpoint: WebhookEndpoint,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.submit_create_endpoint(endpoint))
    }

    fn webhook_endpoints<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WebhookEndpoint>, StoreError>> {
        Box::pin(async move { self.read_webhook_endpoints(tenant) })
    }

    fn webhook_endpoint<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<WebhookEndpoint>, StoreError>> {
        Box::pin(async move { self.read_webhook_endpoint(tenant, id) })
    }

    fn delete_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.submit_delete_endpoint(tenant.to_owned(), id.to_owned(), now_ms))
    }

    fn rotate_webhook_secret(
        &self,
        tenant: &str,
        id: &str,
        secret: EndpointSecret,
        old_expire_at_ms: u64,
    ) -> BoxFuture<'_, Result<Option<WebhookEndpoint>, StoreError>> {
        Box::pin(self.submit_rotate(tenant.to_owned(), id.to_owned(), secret, old_expire_at_ms))
    }

    fn enable_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<Option<WebhookEndpoint>, StoreError>> {
        Box::pin(self.submit_enable(tenant.to_owned(), id.to_owned(), now_ms))
    }

    fn webhook_deliveries<'a>(
        &'a self,
        tenant: &'a str,
        endpoint: &'a str,
        before: Option<u64>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Option<Vec<Delivery>>, StoreError>> {
        Box::pin(async move { self.read_webhook_deliveries(tenant, endpoint, before, limit) })
    }

    fn redeliver_event(
        &self,
        tenant: &str,
        tenant_seq: u64,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<Redelivery, StoreError>> {
        Box::pin(self.submit_redeliver(tenant.to_owned(), tenant_seq, now_ms))
    }

    fn due_deliveries(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<DeliveryKey>, StoreError>> {
        Box::pin(async move { self.read_due_deliveries(now_ms, limit) })
    }

    fn next_delivery_due(&self, after_ms: u64) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(async move { self.read_next_delivery_due(after_ms) })
    }

    fn delivery_job<'a>(
        &'a self,
        key: &'a DeliveryKey,
    ) -> BoxFuture<'a, Result<Option<DeliveryJob>, StoreError>> {
        Box::pin(async move { self.read_delivery_job(key) })
    }

    fn delivery_jobs<'a>(
        &'a self,
        keys: &'a [DeliveryKey],
    ) -> BoxFuture<'a, Result<Vec<Option<DeliveryJob>>, StoreError>> {
        Box::pin(async move { self.read_delivery_jobs(keys) })
    }

    fn record_delivery_attempt(
        &self,
        outcome: AttemptOutcome,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            self.submit_attempts(vec![outcome])
                .await
                .pop()
                .unwrap_or_else(|| Err(StoreError::Backend("no answer to an outcome".into())))
        })
    }

    fn record_delivery_attempts(
        &self,
        outcomes: Vec<AttemptOutcome>,
    ) -> BoxFuture<'_, Vec<Result<bool, StoreError>>> {
        Box::pin(self.submit_attempts(outcomes))
    }

    fn set_low_stock_threshold(
        &self,
        threshold: Option<u64>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.submit_threshold(threshold))
    }

    fn deliveries_waker(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_wake.clone()
    }
}
