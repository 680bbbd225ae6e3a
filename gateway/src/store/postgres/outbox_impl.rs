//! The `OutboxStore` part of the store port on PostgreSQL (see `store_impl.rs`).

use super::PgStore;
use crate::store::*;
use adapters::hlr::BoxFuture;

impl OutboxStore for PgStore {
    fn public_events<'a>(
        &'a self,
        tenant: &'a str,
        after: u64,
        event_type: Option<EventType>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<PublicEvent>, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::public_events(self, tenant, after, event_type, limit).await
        })
    }

    fn public_event<'a>(
        &'a self,
        tenant: &'a str,
        tenant_seq: u64,
    ) -> BoxFuture<'a, Result<Option<PublicEvent>, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::public_event(self, tenant, tenant_seq).await
        })
    }

    fn create_webhook_endpoint(
        &self,
        endpoint: WebhookEndpoint,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(PgStore::create_webhook_endpoint(self, endpoint))
    }

    fn webhook_endpoints<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WebhookEndpoint>, StoreError>> {
        Box::pin(PgStore::webhook_endpoints(self, tenant))
    }

    fn webhook_endpoint<'a>(
        &'a self,
        tenant: &'a str,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<WebhookEndpoint>, StoreError>> {
        Box::pin(PgStore::webhook_endpoint(self, tenant, id))
    }

    fn delete_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        Box::pin(async move { PgStore::delete_webhook_endpoint(self, &tenant, &id, now_ms).await })
    }

    fn rotate_webhook_secret(
        &self,
        tenant: &str,
        id: &str,
        secret: EndpointSecret,
        old_expire_at_ms: u64,
    ) -> BoxFuture<'_, Result<Option<WebhookEndpoint>, StoreError>> {
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        Box::pin(async move {
            PgStore::rotate_webhook_secret(self, &tenant, &id, secret, old_expire_at_ms).await
        })
    }

    fn enable_webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<Option<WebhookEndpoint>, StoreError>> {
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        Box::pin(async move { PgStore::enable_webhook_endpoint(self, &tenant, &id, now_ms).await })
    }

    fn webhook_deliveries<'a>(
        &'a self,
        tenant: &'a str,
        endpoint: &'a str,
        before: Option<u64>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Option<Vec<Delivery>>, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::webhook_deliveries(self, tenant, endpoint, before, limit).await
        })
    }

    fn redeliver_event(
        &self,
        tenant: &str,
        tenant_seq: u64,
        now_ms: u64,
    ) -> BoxFuture<'_, Result<Redelivery, StoreError>> {
        let tenant = tenant.to_owned();
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::redeliver_event(self, &tenant, tenant_seq, now_ms).await
        })
    }

    fn due_deliveries(
        &self,
        now_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<DeliveryKey>, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::due_deliveries(self, now_ms, limit).await
        })
    }

    fn next_delivery_due(&self, after_ms: u64) -> BoxFuture<'_, Result<Option<u64>, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::next_delivery_due(self, after_ms).await
        })
    }

    fn delivery_job<'a>(
        &'a self,
        key: &'a DeliveryKey,
    ) -> BoxFuture<'a, Result<Option<DeliveryJob>, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::delivery_job(self, key).await
        })
    }

    fn delivery_jobs<'a>(
        &'a self,
        keys: &'a [DeliveryKey],
    ) -> BoxFuture<'a, Result<Vec<Option<DeliveryJob>>, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::delivery_jobs(self, keys).await
        })
    }

    fn record_delivery_attempt(
        &self,
        outcome: AttemptOutcome,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            self.catch_up().await?;
            PgStore::record_delivery_attempt(self, outcome).await
        })
    }

    fn set_low_stock_threshold(
        &self,
        threshold: Option<u64>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(PgStore::set_low_stock_threshold(self, threshold))
    }

    fn deliveries_waker(&self) -> std::sync::Arc<tokio::sync::Notify> {
        PgStore::deliveries_waker(self)
    }
}
